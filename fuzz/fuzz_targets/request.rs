//! What kms-server runs on every request body: `aws_json::decode_valid` (and the plain
//! `decode`), then `validate()`, and the round trip `decode(encode(decode(x)))`.
#![no_main]

use kms_types::DescribeCustomKeyStoresRequest;
use kms_types_fuzz::{check_not_quoted, decode_both};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let result = decode_both::<DescribeCustomKeyStoresRequest>(data);
    match &result {
        Ok(request) => {
            // Equal after the round trip, member by member (the type is `Eq`).
            let bytes = serde_json::to_vec(request).unwrap();
            let again: DescribeCustomKeyStoresRequest =
                kms_types::aws_json::decode(&bytes).unwrap();
            assert_eq!(&again, request);
        }
        Err(e) => {
            if let kms_types::aws_json::DecodeError::Serialization(m) = e {
                // A value of the wrong type is never quoted back.
                check_not_quoted(
                    data,
                    &["CustomKeyStoreId", "CustomKeyStoreName", "Limit", "Marker"],
                    m,
                    |b| match kms_types::aws_json::decode::<DescribeCustomKeyStoresRequest>(b) {
                        Err(e) => e.to_string(),
                        Ok(_) => String::new(),
                    },
                );
            }
        }
    }
});
