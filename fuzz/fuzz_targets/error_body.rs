//! What kms-client runs on an error response: `aws_json::parse_error` (the
//! X-Amzn-ErrorType header first, then the body's `code` / `__type`), the generated
//! `from_wire` (`aws_json::decode_error`), and `ErrorBody`'s reading; each from arbitrary
//! bytes, then what reads is written and read back.
#![no_main]

use kms_types::aws_json::{self, ErrorBody};
use kms_types::{DescribeCustomKeyStoresError, OperationError};
use kms_types_fuzz::error::RunError;
use libfuzzer_sys::fuzz_target;

fn check_code(code: &str) {
    assert!(!code.is_empty());
    assert!(
        !code.contains(':') && !code.contains('#'),
        "unsanitized code {code:?}"
    );
    assert_eq!(code, code.trim(), "untrimmed code {code:?}");
}

/// A modeled error reads back from the body it writes, with its code and message.
fn modeled<E: OperationError + PartialEq + std::fmt::Debug>(error: &E) {
    let body = error.to_body();
    let parts = aws_json::parse_error(None, &body);
    assert_eq!(
        parts.code.as_deref(),
        Some(error.code()),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(parts.message.as_deref(), error.message());
    let back = E::from_wire(error.code(), &body);
    assert_eq!(
        back.as_ref(),
        Some(error),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

fuzz_target!(|data: &[u8]| {
    // [flag][header length][header][body]
    let (header, body) = match data {
        [flag, len, rest @ ..] if flag & 1 == 1 => {
            let len = (*len as usize).min(rest.len());
            (
                Some(String::from_utf8_lossy(&rest[..len]).into_owned()),
                &rest[len..],
            )
        }
        [_, rest @ ..] => (None, rest),
        [] => (None, &[][..]),
    };
    let parts = aws_json::parse_error(header.as_deref(), body);
    if let Some(code) = &parts.code {
        check_code(code);
    }
    if let Some(h) = header.as_deref().filter(|h| !h.trim().is_empty()) {
        let expected = aws_json::sanitize_error_code(h);
        assert_eq!(
            parts.code.as_deref(),
            Some(expected).filter(|c| !c.is_empty())
        );
    }

    // ErrorBody: what reads, writes and reads back the same.
    if let Ok(error) = serde_json::from_slice::<ErrorBody>(body) {
        let written = error.to_vec();
        let back: ErrorBody = serde_json::from_slice(&written).unwrap();
        assert_eq!(back, error);
        let parts = aws_json::parse_error(None, &written);
        assert_eq!(parts.message, error.message);
    }

    // The operation's modeled errors, under each code and under the one parsed.
    let mut codes: Vec<&str> = vec![
        "CustomKeyStoreNotFoundException",
        "InvalidMarkerException",
        "KMSInternalException",
    ];
    if let Some(code) = parts.code.as_deref() {
        codes.push(code);
    }
    for code in &codes {
        if let Some(error) = DescribeCustomKeyStoresError::from_wire(code, body) {
            assert_eq!(error.code(), *code);
            // The message is the one parse_error finds.
            assert_eq!(error.message(), parts.message.as_deref());
            modeled(&error);
        }
    }
    // Errors with other members (a Reason, a required member, no message member).
    for code in ["NotFound", "Broken", "Busy", "Odd"] {
        if let Some(error) = RunError::from_wire(code, body) {
            assert_eq!(error.code(), code);
            modeled(&error);
        }
    }
});
