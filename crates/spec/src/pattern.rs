//! `@pattern` values are ECMA-262 regular expressions; the `regex-lite` crate differs in
//! a few places. This module translates one into the other so both match alike.

/// ECMA-262's `\s`: WhiteSpace and LineTerminator, as the members of a class.
const ECMA_SPACE: &str =
    r"\t\n\x0B\x0C\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF";

/// Translates an ECMA-262 pattern into `regex-lite` syntax.
///
/// `regex-lite`'s `\d`, `\w` and `\b` are ASCII-only, as ECMA's are, and escapes such
/// as `\u00FF` and `\/` mean the same in both; ECMA's `\s` is Unicode whitespace where
/// `regex-lite`'s is ASCII, so it becomes an explicit class. Inside a class, `&&` and
/// `~~` are escaped (`regex-lite` rejects them as set operations; ECMA reads them
/// literally).
pub fn ecma_to_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') if in_class => out.push_str(ECMA_SPACE),
                Some('s') => {
                    out.push('[');
                    out.push_str(ECMA_SPACE);
                    out.push(']');
                }
                Some('S') if !in_class => {
                    out.push_str("[^");
                    out.push_str(ECMA_SPACE);
                    out.push(']');
                }
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
            '&' | '~' if in_class && chars.as_str().starts_with(c) => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Compiles an ECMA-262 pattern with the `regex-lite` crate after [`ecma_to_regex`].
pub fn compile(pattern: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::Regex::new(&ecma_to_regex(pattern))
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
    fn whitespace_is_ecma_whitespace() {
        let re = compile(r"^[a-z\s]+$").unwrap();
        assert!(re.is_match("a b\u{a0}c\u{3000}d\te"));
        assert!(!re.is_match("a_b"));
        let re = compile(r"^\s\S$").unwrap();
        assert!(re.is_match("\u{2028}x"));
        assert!(!re.is_match("x\u{2028}"));
    }

    #[test]
    fn class_set_operators_are_literal() {
        let re = compile("^[a&&b~~]+$").unwrap();
        assert!(re.is_match("a&&b~~"));
        assert!(!re.is_match("c"));
    }

    #[test]
    fn word_boundary_is_ascii() {
        let re = compile(r"\bkms\b").unwrap();
        assert!(re.is_match("a kms b"));
        assert!(re.is_match("ékmsé"), "é is not an ECMA word character");
        assert!(!re.is_match("akms"));
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
