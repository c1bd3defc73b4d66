//! Splitting a line into words as Python's `shlex.split` does (POSIX mode, no comments),
//! which botocore uses for the names in section headers (`[profile "my prof"]`) and for
//! `credential_process` — on Windows, for the latter, as its `_windows_shell_split` does.

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

/// A `credential_process` line split into the program and its arguments, as botocore's
/// `compat_shell_split`: [`split`], or on Windows [`split_windows`].
pub(crate) fn split_command(line: &str) -> Result<Vec<String>, SplitError> {
    if cfg!(windows) {
        split_windows(line)
    } else {
        split(line)
    }
}

/// The words of `line` as botocore's `_windows_shell_split` (the C runtime's rules):
/// separated by spaces and tabs; `"` quotes; backslashes are literal unless a run of
/// them leads to a `"`, where each pair gives one and an odd one escapes the quote.
pub(crate) fn split_windows(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut backslashes = 0;
    for c in line.chars() {
        if c == '\\' {
            backslashes += 1;
            continue;
        }
        if c == '"' {
            word.extend(std::iter::repeat_n('\\', backslashes / 2));
            let escaped = backslashes % 2 == 1;
            backslashes = 0;
            if escaped {
                word.push('"');
            } else {
                quoted = !quoted;
            }
            in_word = true;
            continue;
        }
        word.extend(std::iter::repeat_n('\\', backslashes));
        in_word |= backslashes > 0;
        backslashes = 0;
        if (c == ' ' || c == '\t') && !quoted {
            if in_word {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
        } else {
            word.push(c);
            in_word = true;
        }
    }
    if quoted {
        return Err(SplitError::UnclosedQuote);
    }
    word.extend(std::iter::repeat_n('\\', backslashes));
    if in_word || backslashes > 0 {
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
    fn splits_as_botocores_windows_shell_split() {
        // Each expectation is what botocore.compat._windows_shell_split gives.
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("a  b\tc", &["a", "b", "c"]),
            (
                r#""C:\Program Files\x.exe" --p 'a b'"#,
                &[r"C:\Program Files\x.exe", "--p", "'a", "b'"],
            ),
            (r#"a\\"b c" d"#, &[r"a\b c", "d"]),
            (r#"a\"b"#, &[r#"a"b"#]),
            (r"a\\b\", &[r"a\\b\"]),
            (r#""""#, &[""]),
        ];
        for (line, expected) in cases {
            assert_eq!(split_windows(line).unwrap(), *expected, "{line:?}");
        }
        assert_eq!(split_windows("\"a"), Err(SplitError::UnclosedQuote));
    }

    #[test]
    fn unbalanced_quotes_and_a_trailing_backslash_are_errors() {
        assert_eq!(split("\"a"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("b 'a"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("\"a\\"), Err(SplitError::TrailingBackslash));
        assert_eq!(split("a\\"), Err(SplitError::TrailingBackslash));
    }
}
