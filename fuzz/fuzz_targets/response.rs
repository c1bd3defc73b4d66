//! What kms-client runs on a successful response's body: `aws_json::decode` of
//! DescribeCustomKeyStoresResponse; and validate(), Debug and the round trip on what
//! it reads. `AccessKeyId` is `@sensitive`: never in a message nor in Debug.
#![no_main]

use kms_types::aws_json::{self, DecodeError};
use kms_types::{DescribeCustomKeyStoresResponse, Validate};
use kms_types_fuzz::{check_message, check_not_quoted, decode_both};
use libfuzzer_sys::fuzz_target;

fn count(haystack: &str, needle: &str) -> usize {
    if needle.is_empty() {
        0
    } else {
        haystack.matches(needle).count()
    }
}

fuzz_target!(|data: &[u8]| {
    let result = decode_both::<DescribeCustomKeyStoresResponse>(data);
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            check_message(&e);
            if let DecodeError::Serialization(m) = &e {
                check_not_quoted(data, &["AccessKeyId"], m, |b| {
                    aws_json::decode::<DescribeCustomKeyStoresResponse>(b)
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                });
            }
            return;
        }
    };
    // Equal after the round trip (the type is `Eq`), but for CreationDate, which
    // serde_json (without `float_roundtrip`) may read a ulp off: see decode_both.
    let bytes = serde_json::to_vec(&response).unwrap();
    let mut again: DescribeCustomKeyStoresResponse = aws_json::decode(&bytes).unwrap();
    for (a, b) in again
        .custom_key_stores
        .iter_mut()
        .flatten()
        .zip(response.custom_key_stores.iter().flatten())
    {
        if std::env::var_os("FUZZ_STRICT_FLOATS").is_none() {
            a.creation_date = b.creation_date;
        }
    }
    assert_eq!(again, response);

    // The secret never shows: not in Debug, not in validate()'s message. Compared with
    // the same value without it, so that other members holding the same text are not
    // taken for a leak.
    let debug = format!("{response:?}");
    let message = response
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let mut scrubbed = response.clone();
    for store in scrubbed.custom_key_stores.iter_mut().flatten() {
        if let Some(xks) = &mut store.xks_proxy_configuration {
            xks.access_key_id = xks.access_key_id.as_ref().map(|_| String::new());
        }
    }
    let debug_scrubbed = format!("{scrubbed:?}");
    let message_scrubbed = scrubbed
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    for store in response.custom_key_stores.iter().flatten() {
        let Some(secret) = store
            .xks_proxy_configuration
            .as_ref()
            .and_then(|x| x.access_key_id.as_deref())
        else {
            continue;
        };
        assert!(
            count(&debug, secret) <= count(&debug_scrubbed, secret),
            "Debug shows AccessKeyId {secret:?}"
        );
        assert!(
            count(&message, secret) <= count(&message_scrubbed, secret),
            "validate() quotes AccessKeyId {secret:?}: {message}"
        );
    }
});
