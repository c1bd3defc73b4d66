//! Splitting a line into words as Python's `shlex.split` does (POSIX mode, no comments),
//! which botocore uses for the names in section headers (`[profile "my prof"]`) and for
//! `credential_process`.

/// Why a line could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// A `'` or `"` that is never closed (shlex: "No closing quotation").
    UnclosedQuote,
    /// A `\` at the very end (shlex: "No escaped character").
    TrailingBackslash,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SplitError::UnclosedQuote => "a quotation is not closed",
            SplitError::TrailingBackslash => "it ends with a backslash that escapes nothing",
        })
    }
}

/// The words of `line`, as `shlex.split(line)`: separated by spaces, tabs and line
/// breaks; `'…'` taken literally; `"…"` literally but for `\"` and `\\`; outside quotes a
/// `\` takes the next character literally. Nothing else is interpreted: no variables,
/// globs, redirections or comments.
pub(crate) fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has begun (even an empty one: `""`).
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                word.push(chars.next().ok_or(SplitError::TrailingBackslash)?);
                in_word = true;
            }
            '\'' => {
                loop {
                    match chars.next().ok_or(SplitError::UnclosedQuote)? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
                in_word = true;
            }
            '"' => {
                loop {
                    match chars.next().ok_or(SplitError::UnclosedQuote)? {
                        '"' => break,
                        '\\' => match chars.next().ok_or(SplitError::TrailingBackslash)? {
                            c @ ('"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
                in_word = true;
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_python_shlex() {
        // Each expectation is what `shlex.split` gives.
        let cases: &[(&str, &[&str])] = &[
            ("a b", &["a", "b"]),
            ("  x \t y\n", &["x", "y"]),
            ("\"my prof\"", &["my prof"]),
            ("a'b c'd", &["ab cd"]),
            ("a\\ b", &["a b"]),
            ("\"a\\\"b\\c\"", &["a\"b\\c"]),
            ("'a\\b'", &["a\\b"]),
            ("a\"\"b", &["ab"]),
            ("\"\"", &[""]),
            ("a\\\\b", &["a\\b"]),
            ("x#y $HOME > out", &["x#y", "$HOME", ">", "out"]),
            ("", &[]),
        ];
        for (line, expected) in cases {
            assert_eq!(split(line).unwrap(), *expected, "{line:?}");
        }
    }

    #[test]
    fn unbalanced_quotes_and_a_trailing_backslash_are_errors() {
        assert_eq!(split("\"a"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("b 'a"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("\"a\\"), Err(SplitError::TrailingBackslash));
        assert_eq!(split("a\\"), Err(SplitError::TrailingBackslash));
    }
}
