//! `aws_json::decode_valid` on models with what KMS's DescribeCustomKeyStores lacks:
//! required members (every violation at once, stand-ins filled in), unions (Unknown
//! members), maps, documents, blobs, floats, recursion and `@sensitive` members, whose
//! values are never quoted in a message.
#![no_main]

use kms_types::aws_json::DecodeError;
use kms_types_fuzz::*;
use libfuzzer_sys::fuzz_target;

fn message_of<T>(b: &[u8]) -> String
where
    T: serde::de::DeserializeOwned + serde::Serialize + kms_types::Validate,
{
    kms_types::aws_json::decode_valid::<T>(b)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn decode_message(which: u8, b: &[u8]) -> String {
    match which % 12 {
        0 => message_of::<required::MakeRequest>(b),
        7 => message_of::<sensitive::RunRequest>(b),
        11 => message_of::<kms_types::DescribeCustomKeyStoresResponse>(b),
        _ => String::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let error = match which % 12 {
        0 => decode_both::<required::MakeRequest>(body).err(),
        1 => decode_both::<union::RunRequest>(body).err(),
        2 => decode_both::<union::RunResponse>(body).err(),
        3 => decode_both::<required_default::RunRequest>(body).err(),
        4 => decode_both::<nested::RunRequest>(body).err(),
        5 => decode_both::<list::RunRequest>(body).err(),
        6 => decode_both::<map::RunRequest>(body).err(),
        7 => decode_both::<sensitive::RunRequest>(body).err(),
        8 => decode_both::<blob::RunRequest>(body).err(),
        9 => decode_both::<range::RunRequest>(body).err(),
        10 => decode_both::<kms_types::DescribeCustomKeyStoresRequest>(body).err(),
        _ => decode_both::<kms_types::DescribeCustomKeyStoresResponse>(body).err(),
    };
    if let Some(e) = error {
        // Sensitive members: Password (and the lists, maps and union member of it) in
        // the sensitive fixture, Password and Secret in `required`, AccessKeyId in KMS.
        let sensitive: &[&str] = match which % 12 {
            0 => &["Password"],
            7 => &["Password", "OldPasswords", "PasswordsByUser"],
            11 => &["AccessKeyId"],
            _ => &[],
        };
        let message = e.to_string();
        match &e {
            DecodeError::Serialization(_) => {
                check_not_quoted(body, sensitive, &message, |b| decode_message(which, b))
            }
            // Validation messages quote values by design, but never a sensitive one.
            DecodeError::Validation(v) => {
                for violation in v.violations() {
                    let lower = |s: &str| {
                        let mut c = s.chars();
                        c.next()
                            .map(|f| f.to_lowercase().chain(c).collect::<String>())
                            .unwrap_or_default()
                    };
                    if violation
                        .path
                        .split('.')
                        .any(|segment| sensitive.iter().any(|s| lower(s) == segment))
                    {
                        assert!(
                            !matches!(violation.value, kms_types::validation::Shown::Value(_)),
                            "a sensitive value is quoted: {violation}"
                        );
                    }
                }
            }
        }
    }
});
