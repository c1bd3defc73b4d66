//! `kms_types::sigv4::sign` against the official signer (aws-sigv4) on the same
//! requests: the `Authorization` headers must be identical.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use kms_types::sigv4::{self, Credentials};

/// What aws-sigv4 puts in `Authorization` for the same request.
fn official(
    credentials: &Credentials,
    request: &sigv4::Request<'_>,
    region: &str,
    service: &str,
    unix_secs: u64,
) -> (String, String) {
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.clone(),
        credentials.session_token.clone(),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(unix_secs))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let host = request
        .headers
        .iter()
        .find(|(name, _)| *name == "host")
        .unwrap()
        .1;
    let uri = format!("http://{host}{}", request.path);
    let signable = SignableRequest::new(
        request.method,
        uri,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.payload),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (headers, _) = instructions.into_parts();
    let get = |wanted: &str| {
        headers
            .iter()
            .find(|h| h.name() == wanted)
            .map(|h| h.value().to_owned())
            .unwrap()
    };
    (get("authorization"), get("x-amz-date"))
}

#[test]
fn signatures_match_aws_sigv4() {
    let bodies: [&[u8]; 3] = [
        b"",
        b"{}",
        br#"{"CustomKeyStoreName":"Example  Key Store","Limit":10}"#,
    ];
    let mut checked = 0;
    for (i, body) in bodies.iter().enumerate() {
        for token in [None, Some("FQoGZXIvYXdzEBYaDNvdG9rZW4=/+".to_owned())] {
            for (region, secs) in [("us-east-1", 1_440_938_160), ("eu-west-3", 1_764_806_399)] {
                let credentials = Credentials::new(
                    "AKIAIOSFODNN7EXAMPLE",
                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                    token.clone(),
                );
                let length = body.len().to_string();
                let headers = [
                    (
                        "amz-sdk-invocation-id",
                        "0b7e4f2c-6a55-4b51-9f4e-6a8d1b2c3d4e",
                    ),
                    ("amz-sdk-request", "attempt=1; max=3"),
                    ("content-length", length.as_str()),
                    ("content-type", "application/x-amz-json-1.1"),
                    (
                        "host",
                        if i == 0 {
                            "127.0.0.1:4599"
                        } else {
                            "kms.eu-west-3.amazonaws.com"
                        },
                    ),
                    ("x-amz-target", "TrentService.DescribeCustomKeyStores"),
                    ("x-amz-user-agent", "kms-client-rust/0.1.0   os/linux "),
                ];
                let request = sigv4::Request {
                    method: "POST",
                    path: "/",
                    query: "",
                    headers: &headers,
                    payload: body,
                };
                let ours = sigv4::sign(&credentials, &request, region, "kms", secs);
                let (authorization, amz_date) =
                    official(&credentials, &request, region, "kms", secs);
                assert_eq!(ours.amz_date, amz_date);
                assert_eq!(
                    ours.authorization, authorization,
                    "{region} {token:?} {body:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12);
}
