//! kms-client's reader of `~/.aws/config` and `~/.aws/credentials` (an INI dialect read
//! as botocore reads it, section names split shell-style) and its `shlex.split`.
//!
//! First byte even: the rest is a file's text, read as the credentials file (bit 1) or
//! the config file; no panic, and its lines split shell-style. Odd: the rest describes
//! sections and settings (`\0`-separated pieces: `[name`, or `key\x01value`), written
//! out as a user writes them (a profile name shell-quoted in the config file), and read
//! back: every section and setting is found, with its value as written. Words quoted as
//! `shlex.quote` quotes them and joined split back into the same words.
#![no_main]

use std::collections::BTreeMap;

use kms_client::__fuzz::{parse_ini, shell_split};
use libfuzzer_sys::fuzz_target;

/// `shlex.quote`.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\"'\"'"))
}

type Expected = BTreeMap<String, BTreeMap<String, String>>;

/// The file `pieces` describe, and what reading it must give.
fn write_file(pieces: &str, credentials: bool) -> (String, Expected) {
    let mut text = String::new();
    let mut expected = Expected::new();
    let mut section: Option<String> = None;
    for piece in pieces.split('\0') {
        if let Some(name) = piece.strip_prefix('[') {
            let name: String = name
                .chars()
                .filter(|c| !matches!(c, ']' | '\n' | '\r'))
                .collect();
            let (header, key) = if credentials {
                let key = name.split_whitespace().collect::<Vec<_>>().join(" ");
                (name, key)
            } else {
                (
                    format!("profile {}", quote(&name)),
                    format!("profile {name}"),
                )
            };
            if key.is_empty() {
                continue;
            }
            text.push_str(&format!("[{header}]\n"));
            expected.entry(key.clone()).or_default();
            section = Some(key);
            continue;
        }
        let Some(section) = &section else {
            continue;
        };
        let (key, value) = piece.split_once('\x01').unwrap_or((piece, piece));
        let key: String = key
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let key = if key.is_empty() { "k".to_owned() } else { key };
        // One line; a `#` or `;` after a blank starts a comment, so none is written.
        let mut written = String::new();
        let mut after_blank = true;
        for c in value.chars() {
            let c = match c {
                '\n' | '\r' => ' ',
                '#' | ';' if after_blank => '_',
                c => c,
            };
            after_blank = c.is_ascii_whitespace();
            written.push(c);
        }
        // Nor at its start (after ` = `), once trimmed.
        let value = written.trim();
        let value = match value.strip_prefix(['#', ';']) {
            Some(rest) => format!("_{rest}"),
            None => value.to_owned(),
        };
        let value = if value.is_empty() {
            "v".to_owned()
        } else {
            value
        };
        text.push_str(&format!("{key} = {value}\n"));
        expected
            .get_mut(section)
            .expect("added above")
            .insert(key.to_lowercase(), value);
    }
    (text, expected)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let credentials = mode & 2 == 2;
    if mode & 1 == 0 {
        let _ = parse_ini(&text, credentials);
        if let Ok(words) = shell_split(&text) {
            let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
            assert_eq!(shell_split(&line).as_ref(), Ok(&words), "{line:?}");
        }
        return;
    }
    let (file, expected) = write_file(&text, credentials);
    let read = match parse_ini(&file, credentials) {
        Ok(read) => read,
        Err(e) => panic!("{e}\n{file}"),
    };
    let read: Expected = read
        .into_iter()
        .map(|(name, settings)| (name, settings.into_iter().map(|(k, v, _)| (k, v)).collect()))
        .collect();
    assert_eq!(read, expected, "{file}");
});
