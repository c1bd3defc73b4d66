//! The client against a scripted HTTP responder on 127.0.0.1 (canned responses, every
//! request recorded): retries, re-signing, headers, error classes, pagination stops.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kms_client::{
    AuthErrorKind, Client, Config, Credentials, Error, RetryConfig, TimeoutKind, Timeouts,
};
use kms_types::DescribeCustomKeyStoresError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Recorded {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    fn signature(&self) -> &str {
        let auth = self.header("authorization");
        auth.split("Signature=").nth(1).unwrap_or("")
    }
}

#[derive(Clone)]
enum Reply {
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Never answer (the client must time out).
    Hang,
    /// Write these bytes (a response's head, part of its body), then neither write
    /// more nor close.
    Stall(Arc<Vec<u8>>),
    /// Write these bytes as they are, then close the connection.
    Raw(Arc<Vec<u8>>),
}

fn json(status: u16, body: &str) -> Reply {
    Reply::Respond {
        status,
        headers: vec![("x-amzn-RequestId", "req-1234".into())],
        body: body.to_owned(),
    }
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    json(
        status,
        &format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
    )
}

const EMPTY_OK: &str = r#"{"CustomKeyStores":[],"Truncated":false}"#;

struct Scripted {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<Mutex<usize>>,
}

impl Scripted {
    /// Answers requests with `replies` in order; after the last one, repeats it.
    async fn start(replies: Vec<Reply>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let replies = Arc::new(replies);
        let counter = Arc::new(Mutex::new(0usize));
        let seen2 = seen.clone();
        let connections = Arc::new(Mutex::new(0usize));
        let connections2 = connections.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                *connections2.lock().unwrap() += 1;
                let seen = seen2.clone();
                let replies = replies.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        // read one request
                        let head_end = loop {
                            if let Some(i) = find(&buf, b"\r\n\r\n") {
                                break i;
                            }
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                        let mut lines = head.split("\r\n");
                        let first = lines.next().unwrap_or("");
                        let mut parts = first.split(' ');
                        let method = parts.next().unwrap_or("").to_owned();
                        let path = parts.next().unwrap_or("").to_owned();
                        let headers: HashMap<String, String> = lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                            .collect();
                        let len: usize = headers
                            .get("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        while buf.len() < head_end + 4 + len {
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let body =
                            String::from_utf8_lossy(&buf[head_end + 4..head_end + 4 + len]).into();
                        buf.drain(..head_end + 4 + len);
                        seen.lock().unwrap().push(Recorded {
                            method,
                            path,
                            headers,
                            body,
                        });
                        let reply = {
                            let mut c = counter.lock().unwrap();
                            let r = replies[(*c).min(replies.len() - 1)].clone();
                            *c += 1;
                            r
                        };
                        match reply {
                            Reply::Hang => {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                return;
                            }
                            Reply::Stall(bytes) => {
                                let _ = sock.write_all(&bytes).await;
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                return;
                            }
                            Reply::Raw(bytes) => {
                                let _ = sock.write_all(&bytes).await;
                                return;
                            }
                            Reply::Respond {
                                status,
                                headers,
                                body,
                            } => {
                                let mut resp = format!(
                                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n",
                                    body.len()
                                );
                                for (k, v) in headers {
                                    resp.push_str(&format!("{k}: {v}\r\n"));
                                }
                                resp.push_str("\r\n");
                                resp.push_str(&body);
                                if sock.write_all(resp.as_bytes()).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Scripted {
            addr,
            seen,
            connections,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn fast_retry(max_attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    }
}

/// The error of a `DescribeCustomKeyStores` call to `s` with the demo credentials.
async fn describe_error(s: &Scripted) -> Error {
    client_for(s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err()
}

/// The error of a `DescribeCustomKeyStores` call to `s` with `Limit` 0, which
/// client-side validation refuses.
async fn limit_0_error(s: &Scripted) -> Error {
    client_for(s, demo_creds())
        .describe_custom_key_stores()
        .limit(0)
        .send()
        .await
        .unwrap_err()
}

fn client_for(s: &Scripted, creds: Credentials) -> Client {
    Client::new(
        Config::builder()
            .endpoint(s.endpoint())
            .region("us-east-1")
            .credentials(creds)
            .retry(fast_retry(3))
            .build()
            .unwrap(),
    )
}

/// [`client_for`] with the demo credentials and client-side validation off.
fn client_without_validation(s: &Scripted) -> Client {
    Client::new(
        Config::builder()
            .endpoint(s.endpoint())
            .region("us-east-1")
            .credentials(demo_creds())
            .validate_input(false)
            .build()
            .unwrap(),
    )
}

fn demo_creds() -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    )
}

#[tokio::test]
async fn throttled_twice_then_success_is_retried_and_resigned() {
    let s = Scripted::start(vec![
        error(400, "ThrottlingException", "slow down"),
        error(400, "ThrottlingException", "slow down"),
        json(
            200,
            r#"{"CustomKeyStores":[{"CustomKeyStoreId":"cks-1234567890abcdef0"}],"Truncated":false}"#,
        ),
    ])
    .await;
    let client = client_for(&s, demo_creds());
    let out = client
        .describe_custom_key_stores()
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.custom_key_stores.unwrap()[0]
            .custom_key_store_id
            .as_deref(),
        Some("cks-1234567890abcdef0")
    );
    let reqs = s.requests();
    assert_eq!(reqs.len(), 3);
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(
            r.header("amz-sdk-request"),
            format!("attempt={}; max=3", i + 1)
        );
        assert_eq!(
            r.header("amz-sdk-invocation-id"),
            reqs[0].header("amz-sdk-invocation-id")
        );
        assert!(!r.header("x-amz-date").is_empty());
        assert!(
            r.header("authorization")
                .contains("SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;"),
            "{}",
            r.header("authorization")
        );
    }
    assert!(uuid_like(reqs[0].header("amz-sdk-invocation-id")));
    // each attempt carries its own signature (amz-sdk-request is signed and changes)
    let sigs: std::collections::HashSet<&str> = reqs.iter().map(Recorded::signature).collect();
    assert_eq!(sigs.len(), 3, "{reqs:#?}");
    assert!(sigs.iter().all(|s| s.len() == 64));
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn server_error_three_times_gives_up_with_the_last_error() {
    let s = Scripted::start(vec![json(500, "")]).await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert_eq!(s.requests().len(), 3);
    assert!(
        matches!(err, Error::Service(ref m) if m.status == 500),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.code().as_deref(), Some("500"));
    assert_eq!(err.request_id(), Some("req-1234"));
    assert!(err.to_string().contains("retry later"), "{err}");
}

/// Only the statuses the SDKs' standard mode retries (500, 502, 503, 504) are retried
/// whatever the error: a 501 or 505 would come again.
#[tokio::test]
async fn only_transient_5xx_statuses_are_retried() {
    for (status, attempts) in [(501, 1), (505, 1), (507, 1), (599, 1), (502, 3), (504, 3)] {
        let s = Scripted::start(vec![json(status, "")]).await;
        let err = describe_error(&s).await;
        assert_eq!(s.requests().len(), attempts, "{status}: {err:?}");
        assert_eq!(err.is_retryable(), attempts > 1, "{status}");
    }
}

/// A modeled error on a transient status is retried, as botocore and smithy-rs retry
/// it, though the model does not mark it `@retryable`.
#[tokio::test]
async fn a_modeled_error_on_a_transient_status_is_retried() {
    let s = Scripted::start(vec![error(503, "CustomKeyStoreNotFoundException", "gone")]).await;
    let err = describe_error(&s).await;
    assert_eq!(s.requests().len(), 3, "{err:?}");
    assert!(
        matches!(err, Error::DescribeCustomKeyStores { .. }),
        "{err:?}"
    );
    let s = Scripted::start(vec![error(400, "CustomKeyStoreNotFoundException", "gone")]).await;
    let err = describe_error(&s).await;
    assert_eq!(s.requests().len(), 1, "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_body_that_is_not_json_keeps_the_status_and_gives_the_reason_phrase() {
    for (status, body, message) in [
        (502, "<html><body>Bad Gateway</body></html>", "Bad Gateway"),
        (503, "  <!DOCTYPE html><html></html>", "Service Unavailable"),
        (500, "", "Internal Server Error"),
        (403, "", "Forbidden"),
        (504, "upstream timed out", "upstream timed out"),
    ] {
        let s = Scripted::start(vec![json(status, body)]).await;
        let err = client_for(&s, demo_creds())
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Service(_)), "{err:?}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.code(), Some(status.to_string()));
        assert_eq!(err.message().as_deref(), Some(message), "{body:?}");
        assert_eq!(err.request_id(), Some("req-1234"));
        let meta = err.meta().unwrap();
        let retried = status >= 500;
        assert_eq!(meta.attempts, if retried { 3 } else { 1 });
        assert_eq!(meta.max_attempts_reached, retried);
        assert!(err.to_string().contains(message), "{err}");
    }
}

#[tokio::test]
async fn kms_internal_exception_is_typed_and_retried() {
    let s = Scripted::start(vec![error(500, "KMSInternalException", "internal")]).await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert_eq!(s.requests().len(), 3);
    assert!(matches!(
        err,
        Error::DescribeCustomKeyStores {
            error: DescribeCustomKeyStoresError::KmsInternalException(_),
            ..
        }
    ));
    assert_eq!(err.message().as_deref(), Some("internal"));
}

#[tokio::test]
async fn throttling_until_attempts_run_out() {
    let s = Scripted::start(vec![error(400, "ThrottlingException", "slow")]).await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert_eq!(s.requests().len(), 3);
    assert!(
        matches!(err, Error::Throttling { attempts: 3, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("retry later") && msg.contains("max"), "{msg}");
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let s = Scripted::start(vec![error(
        400,
        "CustomKeyStoreNotFoundException",
        "not found",
    )])
    .await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .custom_key_store_name("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s.requests().len(), 1);
    assert!(
        matches!(
            err,
            Error::DescribeCustomKeyStores {
                error: DescribeCustomKeyStoresError::CustomKeyStoreNotFoundException(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.code().as_deref(),
        Some("CustomKeyStoreNotFoundException")
    );
    assert_eq!(err.status(), Some(400));
    // Display says it all, so the typed error is not also the source (it would be
    // printed twice); it is in the variant's field and `modeled()`.
    assert!(err.to_string().contains("not found"), "{err}");
    assert!(std::error::Error::source(&err).is_none());
    assert_eq!(err.report(), err.to_string());
    assert!(err.modeled::<DescribeCustomKeyStoresError>().is_some());
}

#[tokio::test]
async fn auth_and_validation_errors_are_classified_and_never_retried() {
    let cases = [
        (
            "MissingAuthenticationTokenException",
            AuthErrorKind::MissingAuthentication,
        ),
        (
            "IncompleteSignatureException",
            AuthErrorKind::IncompleteSignature,
        ),
        ("InvalidSignatureException", AuthErrorKind::InvalidSignature),
        (
            "UnrecognizedClientException",
            AuthErrorKind::UnrecognizedClient,
        ),
        ("AccessDeniedException", AuthErrorKind::AccessDenied),
    ];
    for (code, kind) in cases {
        let s = Scripted::start(vec![error(400, code, "nope")]).await;
        let err = client_for(&s, demo_creds())
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap_err();
        assert_eq!(s.requests().len(), 1, "{code}");
        assert!(
            matches!(err, Error::Auth { kind: k, .. } if k == kind),
            "{code}: {err:?}"
        );
        assert!(!err.is_retryable());
        let msg = err.to_string();
        assert!(
            msg.contains("AWS_ACCESS_KEY_ID")
                || msg.contains("AWS_SECRET_ACCESS_KEY")
                || msg.contains("profile"),
            "{msg}"
        );
    }
    let s = Scripted::start(vec![error(
        400,
        "ValidationException",
        "1 validation error detected: x",
    )])
    .await;
    let err = describe_error(&s).await;
    assert_eq!(s.requests().len(), 1);
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(err.code().as_deref(), Some("ValidationException"));
}

#[tokio::test]
async fn unknown_error_keeps_code_message_status_and_request_id() {
    let s = Scripted::start(vec![Reply::Respond {
        status: 400,
        headers: vec![
            ("x-amz-request-id", "fallback-id".into()),
            (
                "X-Amzn-ErrorType",
                "SomethingNew:http://internal.amazon.com/".into(),
            ),
        ],
        body: r#"{"__type":"com.amazonaws.kms#Ignored","Message":"odd"}"#.into(),
    }])
    .await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    let Error::Service(meta) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(meta.code.as_deref(), Some("SomethingNew"));
    assert_eq!(meta.message.as_deref(), Some("odd"));
    assert_eq!(meta.status, 400);
    assert_eq!(meta.request_id.as_deref(), Some("fallback-id"));
    assert_eq!(s.requests().len(), 1);
    // body __type with namespace, no header
    let s = Scripted::start(vec![json(
        400,
        r#"{"__type":"com.amazonaws.kms#InvalidMarkerException","message":"bad marker"}"#,
    )])
    .await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::DescribeCustomKeyStores {
            error: DescribeCustomKeyStoresError::InvalidMarkerException(_),
            ..
        }
    ));
}

#[tokio::test]
async fn request_shape_and_session_token() {
    let s = Scripted::start(vec![json(200, EMPTY_OK)]).await;
    let creds = Credentials::new(
        "ASIAIOSFODNN7SESSION",
        "SessionSecretKeyEXAMPLEKEY000000000000000",
        Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN".into()),
    );
    client_for(&s, creds)
        .describe_custom_key_stores()
        .custom_key_store_name("x")
        .limit(10)
        .send()
        .await
        .unwrap();
    let r = &s.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/");
    assert_eq!(r.header("content-type"), "application/x-amz-json-1.1");
    assert_eq!(
        r.header("x-amz-target"),
        "TrentService.DescribeCustomKeyStores"
    );
    assert_eq!(
        r.header("x-amz-security-token"),
        "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
    );
    assert_eq!(r.header("host"), s.addr.to_string());
    assert!(r.header("user-agent").starts_with("kms-client-rust/"));
    assert!(r.header("x-amz-user-agent").contains("api/kms"));
    assert_eq!(r.header("amz-sdk-request"), "attempt=1; max=3");
    let date = r.header("x-amz-date");
    assert_eq!(date.len(), 16, "{date}");
    let auth = r.header("authorization");
    assert!(
        auth.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7SESSION/{}/us-east-1/kms/aws4_request, SignedHeaders="
        , &date[..8])),
        "{auth}"
    );
    assert!(auth.contains("x-amz-security-token"), "{auth}");
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"CustomKeyStoreName": "x", "Limit": 10})
    );
    assert!(!r.body.contains("SessionSecretKey"));
}

#[tokio::test]
async fn client_side_validation_sends_nothing_and_can_be_disabled() {
    let s = Scripted::start(vec![error(400, "ValidationException", "server says no")]).await;
    let err = limit_0_error(&s).await;
    let Error::InvalidInput { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(error.violations()[0].path, "limit");
    assert_eq!(
        error.to_string(),
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert!(s.requests().is_empty());

    let client = client_without_validation(&s);
    let err = client
        .describe_custom_key_stores()
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(s.requests().len(), 1);
}

/// The attempt timeout bounds the whole exchange: a response that never comes, and one
/// whose head came and whose body stalls, are timeouts (and retried), not hangs.
#[tokio::test]
async fn attempt_timeout_is_enforced_and_retried() {
    let stalled_body = Reply::Stall(Arc::new(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"CustomKeyStores\":[".to_vec(),
    ));
    for reply in [Reply::Hang, stalled_body] {
        let s = Scripted::start(vec![reply]).await;
        let client = Client::new(
            Config::builder()
                .endpoint(s.endpoint())
                .region("us-east-1")
                .credentials(demo_creds())
                .retry(fast_retry(2))
                .timeouts(Timeouts {
                    connect: Duration::from_secs(1),
                    attempt: Duration::from_millis(100),
                    total: Duration::from_secs(30),
                })
                .build()
                .unwrap(),
        );
        // A hang guard, far above the limits: without them the call would never end.
        let err = tokio::time::timeout(
            Duration::from_secs(60),
            client.describe_custom_key_stores().send(),
        )
        .await
        .expect("the call ends within its timeouts")
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    kind: TimeoutKind::Attempt,
                    attempts: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(s.requests().len(), 2);
    }
}

#[tokio::test]
async fn total_deadline_cuts_an_attempt_short() {
    let s = Scripted::start(vec![Reply::Hang]).await;
    let client = Client::new(
        Config::builder()
            .endpoint(s.endpoint())
            .region("us-east-1")
            .credentials(demo_creds())
            .retry(fast_retry(5))
            .timeouts(Timeouts {
                connect: Duration::from_secs(1),
                attempt: Duration::from_secs(60),
                total: Duration::from_millis(150),
            })
            .build()
            .unwrap(),
    );
    let err = client
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Total,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let client = Client::new(
        Config::builder()
            .endpoint(format!("http://{addr}"))
            .region("us-east-1")
            .credentials(demo_creds())
            .retry(fast_retry(2))
            .build()
            .unwrap(),
    );
    let err = client
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("--endpoint-url"), "{err}");
    assert_eq!(err.attempts(), Some(2));

    // Display leaves the cause to source(), so that a report of the chain (anyhow's
    // `{:#}`) says it once; Error::report puts it inline, as the CLI prints it.
    let display = err.to_string();
    let endpoint = format!("http://{addr}");
    assert_eq!(
        display,
        format!(
            "could not reach {endpoint} (2 attempts); check the endpoint URL (--endpoint-url, \
             AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL), the region and your network"
        )
    );
    let mut chain = display.clone();
    let mut source = std::error::Error::source(&err);
    assert!(source.is_some(), "the connection error is the source");
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    let cause = "Connection refused";
    assert_eq!(chain.matches(cause).count(), 1, "{chain}");
    let Error::Transport { message, .. } = &err else {
        unreachable!()
    };
    assert!(message.contains(cause), "{message}");
    assert_eq!(
        err.report(),
        format!(
            "could not reach {endpoint}: {message} (2 attempts); check the endpoint URL \
             (--endpoint-url, AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL), the region and your \
             network"
        )
    );
}

/// While a service keeps throttling, a client soon stops retrying (the standard retry
/// mode's quota, shared by clones), then retries again as calls succeed.
#[tokio::test]
async fn the_retry_quota_stops_retries_against_a_failing_service() {
    let s = Scripted::start(vec![error(400, "ThrottlingException", "slow down")]).await;
    let client = client_for(&s, demo_creds());
    let clone = client.clone();
    let quota = kms_client::retry::RetryQuota::INITIAL;
    // Each call: 3 attempts, 2 retries of 5 tokens each.
    let calls = quota / (2 * kms_client::retry::RetryQuota::RETRY_COST);
    for _ in 0..calls {
        let err = describe_error(&s).await;
        assert!(matches!(err, Error::Throttling { .. }), "{err:?}");
    }
    // describe_error uses clients of its own: the quota is per client.
    assert_eq!(client.retry_quota().available(), quota);
    for _ in 0..calls {
        let err = clone.describe_custom_key_stores().send().await.unwrap_err();
        assert_eq!(err.attempts(), Some(3));
    }
    assert_eq!(client.retry_quota().available(), 0);
    let before = s.requests().len();
    let err = client
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), Some(1), "no retry once the quota is spent");
    assert_eq!(s.requests().len(), before + 1);
}

/// A response larger than kms-client reads is refused and never retried, whatever its
/// status (a 503 that large would come again as large); refused unread when its
/// Content-Length says so.
#[tokio::test]
async fn an_oversized_response_is_refused_and_not_retried() {
    let limit = kms_client::MAX_RESPONSE_BYTES;
    let announced = |status: u16| {
        Reply::Raw(Arc::new(
            format!("HTTP/1.1 {status} X\r\ncontent-length: 524288000\r\n\r\n{{").into_bytes(),
        ))
    };
    let mut chunked = format!(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
        limit + 1
    )
    .into_bytes();
    chunked.extend(std::iter::repeat_n(b' ', limit + 1));
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    for (reply, expected_status, expected_announced) in [
        (announced(200), 200, Some(524_288_000)),
        (announced(503), 503, Some(524_288_000)),
        (Reply::Raw(Arc::new(chunked)), 200, None),
    ] {
        let s = Scripted::start(vec![reply]).await;
        let client = client_for(&s, demo_creds());
        let err = client
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap_err();
        let Error::ResponseTooLarge {
            status,
            limit: told_limit,
            announced,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*status, *told_limit, *announced),
            (expected_status, limit, expected_announced)
        );
        assert!(!err.is_retryable());
        assert_eq!(s.requests().len(), 1, "not retried");
        assert_eq!(client.retry_quota().available(), 500, "no retry taken");
        let told =
            expected_announced.map_or_else(String::new, |n| format!(" (Content-Length: {n})"));
        assert_eq!(
            err.to_string(),
            format!(
                "the response of {} (HTTP {expected_status}) is larger than 32 MiB{told}, the \
                 most kms-client reads; check that the endpoint URL points at a KMS endpoint",
                s.endpoint()
            )
        );
    }
}

/// A body that breaks off is its own error, with its cause, and retried.
#[tokio::test]
async fn a_body_that_breaks_off_is_a_response_body_error_with_its_cause() {
    let s = Scripted::start(vec![Reply::Raw(Arc::new(
        b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"CustomKeyStores\":[]".to_vec(),
    ))])
    .await;
    let err = describe_error(&s).await;
    let Error::ResponseBody {
        status,
        message,
        attempts,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*status, *attempts), (200, 3));
    assert_eq!(s.requests().len(), 3, "retried");
    // hyper's own words for the cause, not only "error reading a body".
    assert!(
        message.contains("end of file before message length reached"),
        "{message}"
    );
    assert_eq!(
        err.report(),
        format!(
            "the response of {} (HTTP 200) broke off before its end: {message} (3 attempts); \
             the connection failed or the response's framing was broken: check the network \
             and any proxy in between, or retry later",
            s.endpoint()
        )
    );
    assert_eq!(
        std::error::Error::source(&err).map(ToString::to_string),
        Some(message.split(": ").next().unwrap().to_owned())
    );
}

#[tokio::test]
async fn a_validation_error_is_not_repeated_as_a_source() {
    let s = Scripted::start(vec![json(200, EMPTY_OK)]).await;
    let err = limit_0_error(&s).await;
    assert!(err.to_string().contains("'limit'"), "{err}");
    assert!(std::error::Error::source(&err).is_none());
    assert!(s.requests().is_empty());
}

#[tokio::test]
async fn invalid_success_body_is_a_typed_error() {
    let s = Scripted::start(vec![json(200, "<html>")]).await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse { status: 200, .. }),
        "{err:?}"
    );
}

/// A body of empty structures (`{},{},…`) would cost a hundred times its size once
/// decoded: past `MAX_RESPONSE_VALUES` values it is refused, not decoded. An error
/// body like it keeps its status and error-type header.
#[tokio::test]
async fn a_body_of_too_many_values_is_refused_not_decoded() {
    let stores = vec!["{}"; kms_client::MAX_RESPONSE_VALUES].join(",");
    let body = format!(r#"{{"CustomKeyStores":[{stores}],"Truncated":false}}"#);
    let s = Scripted::start(vec![json(200, &body)]).await;
    let err = describe_error(&s).await;
    assert!(
        matches!(err, Error::InvalidResponse { status: 200, ref message, .. }
            if message.contains("more than 200000 JSON values")),
        "{err:?}"
    );
    assert!(!err.is_retryable());

    let s = Scripted::start(vec![Reply::Respond {
        status: 400,
        headers: vec![("x-amzn-ErrorType", "InvalidMarkerException".into())],
        body: format!(r#"{{"message":"x","Junk":[{stores}]}}"#),
    }])
    .await;
    let err = describe_error(&s).await;
    assert_eq!(
        err.code().as_deref(),
        Some("InvalidMarkerException"),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(400));
}

/// A large page that is not degenerate decodes: 1,000 stores with long names and
/// certificates (far over the size where values are counted).
#[tokio::test]
async fn a_large_page_of_real_entries_decodes() {
    let stores: Vec<serde_json::Value> = (0..1000)
        .map(|i| {
            serde_json::json!({
                "CustomKeyStoreId": format!("cks-{i:017}"),
                "CustomKeyStoreName": "n".repeat(256),
                "CustomKeyStoreType": "AWS_CLOUDHSM",
                "CloudHsmClusterId": "cluster-1234567890a",
                "TrustAnchorCertificate": "c".repeat(5000),
                "ConnectionState": "CONNECTED",
                "CreationDate": 1.7e9,
            })
        })
        .collect();
    let body = serde_json::json!({"CustomKeyStores": stores, "Truncated": false}).to_string();
    assert!(body.len() > 5_000_000);
    let s = Scripted::start(vec![json(200, &body)]).await;
    let page = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap();
    assert_eq!(page.custom_key_stores.unwrap().len(), 1000);
}

fn page(ids: &[&str], next: Option<&str>, truncated: bool) -> Reply {
    let stores: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"CustomKeyStoreId": id}))
        .collect();
    let mut body = serde_json::json!({"CustomKeyStores": stores, "Truncated": truncated});
    if let Some(n) = next {
        body["NextMarker"] = n.into();
    }
    json(200, &body.to_string())
}

#[tokio::test]
async fn paginator_follows_markers_and_stops_on_truncated_false() {
    let s = Scripted::start(vec![
        page(&["a", "b"], Some("m1"), true),
        page(&["c"], Some("m2"), true),
        // Truncated false wins over a leftover marker
        page(&["d"], Some("m3"), false),
        page(&["never"], None, false),
    ])
    .await;
    let ids: Vec<String> = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .limit(2)
        .into_paginator()
        .items()
        .map_ok(|e| e.custom_key_store_id.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b", "c", "d"]);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 3);
    let markers: Vec<serde_json::Value> = reqs
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["Marker"].clone())
        .collect();
    assert_eq!(markers, [serde_json::Value::Null, "m1".into(), "m2".into()]);
}

#[tokio::test]
async fn paginator_stops_on_missing_or_empty_marker() {
    for last in [page(&["b"], None, true), page(&["b"], Some(""), true)] {
        let s = Scripted::start(vec![
            page(&["a"], Some("m1"), true),
            last,
            page(&["never"], None, false),
        ])
        .await;
        let pages: Vec<_> = client_for(&s, demo_creds())
            .describe_custom_key_stores()
            .into_paginator()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(s.requests().len(), 2);
    }
}

#[tokio::test]
async fn paginator_fails_on_a_repeated_marker_instead_of_looping() {
    let s = Scripted::start(vec![
        page(&["a"], Some("m1"), true),
        page(&["b"], Some("m2"), true),
        page(&["c"], Some("m1"), true),
    ])
    .await;
    // Bounded, so that a paginator that does loop fails here instead of hanging.
    let mut items = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .into_paginator()
        .items()
        .take(10);
    let mut got = Vec::new();
    let err = loop {
        match items.try_next().await {
            Ok(Some(e)) => got.push(e.custom_key_store_id.unwrap()),
            Ok(None) => panic!("pagination ended without an error"),
            Err(e) => break e,
        }
    };
    assert_eq!(got, ["a", "b", "c"]);
    assert!(
        matches!(err, Error::RepeatedMarker { ref marker, .. } if marker == "m1"),
        "{err:?}"
    );
    assert_eq!(s.requests().len(), 3);
    assert!(items.try_next().await.unwrap().is_none());
}

/// A marker the model's `Marker` refuses (over 1,024 characters) is the service's
/// fault: pagination stops with `InvalidMarker` instead of blaming the caller with
/// `InvalidInput`, and the message leaves out the (huge) marker.
#[tokio::test]
async fn paginator_stops_on_a_marker_the_input_would_refuse() {
    let huge = "m".repeat(100_000);
    let s = Scripted::start(vec![page(&["a"], Some(&huge), true)]).await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .into_paginator()
        .items()
        .take(10)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidMarker { chars: 100_000, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    let message = err.to_string();
    assert!(
        message.contains("length less than or equal to 1024") && message.len() < 500,
        "{message}"
    );
    assert_eq!(s.requests().len(), 1);
}

/// With the caller's own input invalid (validation turned off, a lenient endpoint), a
/// violation is not blamed on the service's marker.
#[tokio::test]
async fn paginator_does_not_blame_the_marker_for_the_callers_input() {
    let s = Scripted::start(vec![
        page(&["a"], Some("m1"), true),
        page(&["b"], None, false),
    ])
    .await;
    let client = client_without_validation(&s);
    let items: Vec<_> = client
        .describe_custom_key_stores()
        .limit(5000)
        .into_paginator()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
}

#[tokio::test]
async fn paginator_rejects_the_marker_it_sent_coming_back() {
    let s = Scripted::start(vec![page(&["a"], Some("start"), true)]).await;
    let err = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .marker("start")
        .into_paginator()
        .items()
        .take(10)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RepeatedMarker { .. }), "{err:?}");
    assert_eq!(s.requests().len(), 1);
}

#[tokio::test]
async fn the_fluent_input_is_what_is_sent_and_its_paginator_names_the_operation() {
    let s = Scripted::start(vec![page(&["a"], None, false)]).await;
    let fluent = client_for(&s, demo_creds())
        .describe_custom_key_stores()
        .custom_key_store_name("ExampleCloudHSMKeyStore")
        .limit(7)
        .marker("m0");
    let input = fluent.as_input().clone();
    assert_eq!(
        input.custom_key_store_name.as_deref(),
        Some("ExampleCloudHSMKeyStore")
    );
    assert_eq!(
        (input.limit, input.marker.as_deref()),
        (Some(7), Some("m0"))
    );
    let paginator = fluent.into_paginator();
    assert_eq!(
        format!("{paginator:?}"),
        r#"Paginator { operation: "DescribeCustomKeyStores", .. }"#
    );
    let pages: Vec<_> = paginator.try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    let sent: serde_json::Value = serde_json::from_str(&s.requests()[0].body).unwrap();
    assert_eq!(sent, serde_json::to_value(&input).unwrap());
}

#[tokio::test]
async fn debug_sink_masks_signature_and_token() {
    let s = Scripted::start(vec![json(200, EMPTY_OK)]).await;
    let lines = Arc::new(Mutex::new(String::new()));
    let l2 = lines.clone();
    let client = client_for(
        &s,
        Credentials::new(
            "ASIAIOSFODNN7SESSION",
            "SessionSecretKeyEXAMPLEKEY000000000000000",
            Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN".into()),
        ),
    )
    .with_debug_sink(Arc::new(move |t: &str| l2.lock().unwrap().push_str(t)));
    client.describe_custom_key_stores().send().await.unwrap();
    let text = lines.lock().unwrap().clone();
    let sent = &s.requests()[0];
    assert!(
        text.contains("x-amz-target: TrentService.DescribeCustomKeyStores"),
        "{text}"
    );
    assert!(text.contains("Signature=****"), "{text}");
    assert!(text.contains("x-amz-security-token: ****"), "{text}");
    assert!(!text.contains(sent.signature()), "{text}");
    assert!(!text.contains("FwoGZXIvYXdzEXAMPLESESSIONTOKEN"), "{text}");
    assert!(!text.contains("SessionSecretKeyEXAMPLEKEY"), "{text}");
    assert!(text.contains("Credential=ASIAIOSFODNN7SESSION/"), "{text}");
}

#[tokio::test]
async fn sequential_calls_reuse_one_pooled_connection() {
    let s = Scripted::start(vec![json(200, EMPTY_OK)]).await;
    let client = client_for(&s, demo_creds());
    for _ in 0..5 {
        client.describe_custom_key_stores().send().await.unwrap();
    }
    assert_eq!(s.requests().len(), 5);
    assert_eq!(*s.connections.lock().unwrap(), 1);
    let ids: std::collections::HashSet<String> = s
        .requests()
        .iter()
        .map(|r| r.header("amz-sdk-invocation-id").to_owned())
        .collect();
    assert_eq!(ids.len(), 5, "each call has its own invocation id");
}
