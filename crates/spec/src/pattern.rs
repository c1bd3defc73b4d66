//! `@pattern` values are ECMA-262 regular expressions; the `regex` crate differs in
//! a few classes. This module translates one into the other so both match alike.

/// Translates an ECMA-262 pattern into `regex` crate syntax.
///
/// ECMA's `\d`, `\w` and `\b` are ASCII-only where the `regex` crate's are Unicode-aware;
/// they become explicit ASCII classes. `\s` (Unicode whitespace in both) and
/// escapes such as `\u00FF` and `\/` are accepted by `regex` as they are.
pub fn ecma_to_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('d') => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                Some('D') => out.push_str("[^0-9]"),
                Some('w') => out.push_str(if in_class {
                    "0-9A-Za-z_"
                } else {
                    "[0-9A-Za-z_]"
                }),
                Some('W') => out.push_str("[^0-9A-Za-z_]"),
                Some('b') if !in_class => out.push_str("(?-u:\\b)"),
                Some('B') if !in_class => out.push_str("(?-u:\\B)"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A leading `]` or `^]` is literal in ECMA; keep the `^`.
                let rest = chars.as_str();
                if let Some(stripped) = rest.strip_prefix('^') {
                    out.push('^');
                    chars = stripped.chars();
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' | '-' if in_class => {
                // `regex` gives `&&`, `~~` and `--` set-operation meaning inside classes.
                let next = chars.as_str().chars().next();
                if c != '-' && next == Some(c) {
                    out.push('\\');
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Compiles an ECMA-262 pattern with the `regex` crate after [`ecma_to_regex`].
pub fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&ecma_to_regex(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_classes() {
        let re = compile(r"^\d+$").unwrap();
        assert!(re.is_match("123"));
        assert!(!re.is_match("١٢٣"), "Arabic-Indic digits are not ECMA \\d");
        let re = compile(r"^[\w-]+$").unwrap();
        assert!(re.is_match("a_b-9"));
        assert!(!re.is_match("é"));
    }

    #[test]
    fn kms_patterns() {
        let path =
            compile(r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$").unwrap();
        assert!(path.is_match("/kms/xks/v1"));
        assert!(path.is_match("/a/b_c/kms/xks/v12"));
        assert!(!path.is_match("/kms/xks/v123"));
        let marker = compile(r"^[\u0020-\u00FF]*$").unwrap();
        assert!(marker.is_match("abc ÿ"));
        assert!(!marker.is_match("a\u{100}"));
        assert!(!marker.is_match("\t"));
    }

    #[test]
    fn not_anchored() {
        assert!(compile("b").unwrap().is_match("abc"));
    }

    #[test]
    fn rejects_bad_patterns() {
        assert!(compile("[a-").is_err());
        assert!(compile("(").is_err());
    }
}
