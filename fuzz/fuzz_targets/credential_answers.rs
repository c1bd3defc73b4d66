//! What kms-client reads of the credential sources' answers: a `credential_process`'s
//! output (JSON, `Version` 1), an STS `AssumeRole…Response` (XML, read by hand) and the
//! XML entities in its texts.
//!
//! First byte 0 mod 3: the rest is a `credential_process`'s output; 1: an STS answer;
//! 2: a text, escaped as XML and read back. Checks: no panic; a message never quotes
//! the secret and stays short; keys read are not empty; an escaped text reads back
//! (trimmed) whatever it holds.
#![no_main]

use kms_client::__fuzz::{process_credentials, sts_credentials, xml_element};
use libfuzzer_sys::fuzz_target;

/// Longest message about an answer (the client's own words and a few short excerpts).
const MAX_MESSAGE: usize = 1024;

fn check(outcome: Result<[Option<String>; 3], String>, secret: Option<&str>) {
    match outcome {
        Ok([id, secret, _]) => {
            assert!(id.is_some_and(|k| !k.is_empty()));
            assert!(secret.is_some_and(|k| !k.is_empty()));
        }
        Err(message) => {
            assert!(
                message.len() <= MAX_MESSAGE,
                "{} bytes: {message}",
                message.len()
            );
            // A secret such as a real one, told apart from the client's own words.
            let like_a_secret = |s: &&str| {
                s.len() >= 24
                    && s.bytes().any(|b| b.is_ascii_lowercase())
                    && s.bytes().any(|b| b.is_ascii_uppercase())
                    && s.bytes().any(|b| b.is_ascii_digit())
            };
            if let Some(secret) = secret.filter(like_a_secret) {
                assert!(!message.contains(secret), "the secret is quoted: {message}");
            }
        }
    }
}

/// The secret, unless the `Expiration` (which a message quotes, 64 characters of it,
/// when it is not a date) holds it.
fn secret_unless_in(secret: Option<String>, expiration: Option<String>) -> Option<String> {
    secret.filter(|s| !expiration.is_some_and(|e| e.contains(s.as_str())))
}

fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) % 7 == 0 => out.push_str(&format!("&#x{:X};", c as u32)),
            c if (c as u32) % 7 == 1 => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let document = serde_json::from_slice::<serde_json::Value>(rest).ok();
            let member = |name| {
                let value = document.as_ref()?.get(name)?.as_str()?;
                Some(value.to_owned())
            };
            let secret = secret_unless_in(member("SecretAccessKey"), member("Expiration"));
            check(process_credentials(rest), secret.as_deref());
        }
        1 => {
            let xml = String::from_utf8_lossy(rest);
            let secret = secret_unless_in(
                xml_element(&xml, "SecretAccessKey"),
                xml_element(&xml, "Expiration"),
            );
            check(sts_credentials(&xml), secret.as_deref());
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let xml = format!("<Answer><Message>{}</Message></Answer>", escape(&text));
            assert_eq!(
                xml_element(&xml, "Message").as_deref(),
                Some(text.trim()),
                "{xml}"
            );
            // Any text: no panic, and decoding never makes it longer.
            if let Some(decoded) = xml_element(&text, "Message") {
                assert!(decoded.len() <= text.len());
            }
        }
    }
});
