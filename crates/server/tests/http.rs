//! The wire protocol over real loopback sockets: every error of `../shared/PROTOCOL.md` (beside the checkout),
//! pagination, filters, isolation, markers, SigV4 forms, limits.

mod common;

use std::collections::HashSet;

use common::*;
use kms_server::{InjectedError, ServerConfig, demo};

fn demo_ids(n: usize) -> usize {
    demo::stores().len() + n
}

#[tokio::test]
async fn routing_errors_carry_a_type() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();

    let mut call = Call::new("{}");
    call.target = None;
    let a = send(addr, call).await;
    a.assert_error(400, "UnknownOperationException");
    assert_eq!(a.message(), "Missing X-Amz-Target header");
    // Another service's request, sent here by an endpoint set for every service (STS's
    // AssumeRole for a profile that assumes a role): the answer says how to aim at KMS
    // alone, in that protocol's XML, which its SDK reads (given JSON, the SDKs said only
    // that the XML did not parse).
    let mut call = Call::new("Action=AssumeRole&Version=2011-06-15");
    call.target = None;
    call.content_type = Some("application/x-www-form-urlencoded; charset=utf-8".into());
    call.service = "sts".into();
    let a = send(addr, call).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.header("content-type"), Some("text/xml"));
    assert_eq!(
        a.header("x-amzn-errortype"),
        Some("UnknownOperationException")
    );
    let request_id = a.header("x-amzn-requestid").expect("a request id");
    let xml = std::str::from_utf8(&a.raw).unwrap();
    let message = xml
        .strip_prefix(
            "<ErrorResponse><Error><Type>Sender</Type><Code>UnknownOperationException</Code>\
             <Message>",
        )
        .and_then(|rest| {
            rest.strip_suffix(&format!(
                "</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            ))
        })
        .unwrap_or_else(|| panic!("not a query protocol error: {xml}"));
    assert!(
        message.starts_with("Missing X-Amz-Target header: this request is of AWS's query protocol"),
        "{message}"
    );
    assert!(message.contains("AWS_ENDPOINT_URL_KMS"), "{message}");
    assert!(!message.contains(['<', '>', '&']), "{message}");
    // A presigned request whose presigner moved X-Amz-Target into the query (as
    // @smithy/signature-v4's presign does with every x-amz-* header) is told so.
    let presigned_without_target = |query: &str| {
        let mut call = Call::new("{}");
        call.target = None;
        call.presigned = true;
        call.query = Some(query.into());
        send(addr, call)
    };
    let a = presigned_without_target("x-amz-target=TrentService.DescribeCustomKeyStores").await;
    a.assert_error(400, "UnknownOperationException");
    assert!(
        a.message().starts_with(
            "Missing X-Amz-Target header: the query string has an X-Amz-Target, which \
             kms-server reads from the header only. Send it as a header;"
        ),
        "{}",
        a.message()
    );
    assert!(
        a.message().contains("unhoistableHeaders"),
        "{}",
        a.message()
    );
    // One whose query string has no X-Amz-Target is not told that it has.
    let a = presigned_without_target("Limit=10").await;
    a.assert_error(400, "UnknownOperationException");
    assert_eq!(a.message(), "Missing X-Amz-Target header");
    // Code under test that calls another KMS operation is told which ones are served.
    let mut call = Call::new("{}");
    call.target = Some("TrentService.ListKeys".into());
    let a = send(addr, call).await;
    a.assert_error(400, "UnknownOperationException");
    assert_eq!(
        a.message(),
        "Unknown operation: TrentService.ListKeys. This kms-server serves \
         TrentService.DescribeCustomKeyStores."
    );
    let mut call = Call::new("{}");
    call.target = Some("trentservice.describecustomkeystores".into());
    send(addr, call)
        .await
        .assert_error(400, "UnknownOperationException");

    let mut call = Call::new("");
    call.method = "GET";
    let a = send(addr, call).await;
    a.assert_error(405, "UnknownOperationException");
    assert!(!a.message().is_empty());
    let mut call = Call::new("{}");
    call.path = "/foo".into();
    let a = send(addr, call).await;
    a.assert_error(404, "UnknownOperationException");
    assert!(!a.message().contains("AWS_ENDPOINT_URL"), "{}", a.message());
    // IAM Identity Center's requests for an sso_ profile, sent here by an endpoint set for
    // every service: told, as STS's are, to aim at KMS alone.
    for (method, path) in [("GET", "/federation/credentials"), ("POST", "/token")] {
        let mut call = Call::new(if method == "GET" { "" } else { "{}" });
        call.method = method;
        call.path = path.into();
        call.target = None;
        let a = send(addr, call).await;
        a.assert_error(404, "UnknownOperationException");
        assert!(
            a.message().contains("for a profile with sso_ settings")
                && a.message().contains("AWS_ENDPOINT_URL_KMS"),
            "{path}: {}",
            a.message()
        );
    }

    let mut call = Call::new("{}");
    call.content_type = Some("text/plain".into());
    send(addr, call)
        .await
        .assert_error(400, "SerializationException");
    server.shutdown().await;
}

/// `GET /health` (or `HEAD`) answers 200 without a signature, for readiness probes
/// (`curl -sf …/health`); other methods on it are refused as on any path but `/`.
#[tokio::test]
async fn health_probes_need_no_signature() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let client = common::client();
    for method in ["GET", "HEAD"] {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{}", kms_server::service::HEALTH_PATH))
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), 200, "{method}");
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let expected: &[u8] = if method == "GET" {
            br#"{"status":"ok"}"#
        } else {
            b""
        };
        assert_eq!(&body[..], expected, "{method}");
    }
    let mut call = Call::new("{}");
    call.path = kms_server::service::HEALTH_PATH.into();
    send(addr, call)
        .await
        .assert_error(404, "UnknownOperationException");
    server.shutdown().await;
}

#[tokio::test]
async fn serialization_and_validation_errors() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    for body in [
        "nope",
        "[]",
        "\"x\"",
        r#"{"Limit": "ten"}"#,
        r#"{"Limit": 1} x"#,
        r#"{"CustomKeyStoreId": 5}"#,
    ] {
        send(addr, Call::new(body))
            .await
            .assert_error(400, "SerializationException");
    }
    let a = send(addr, Call::new(r#"{"Limit": 0}"#)).await;
    a.assert_error(400, "ValidationException");
    assert_eq!(
        a.message(),
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let a = send(
        addr,
        Call::new(r#"{"Limit": 1001, "CustomKeyStoreName": ""}"#),
    )
    .await;
    a.assert_error(400, "ValidationException");
    assert!(
        a.message().starts_with("2 validation errors detected: "),
        "{}",
        a.message()
    );
    let a = send(
        addr,
        Call::new(r#"{"CustomKeyStoreId": "cks-1234567890abcdef0", "CustomKeyStoreName": "x"}"#),
    )
    .await;
    a.assert_error(400, "ValidationException");
    send(addr, Call::new("{}").query("Limit=0"))
        .await
        .assert_error(400, "ValidationException");
    send(addr, Call::new("{}").query("Limit=abc"))
        .await
        .assert_error(400, "SerializationException");
    // Unknown members are ignored; an empty body is {}; application/json with parameters is fine.
    let mut call = Call::new("");
    call.content_type = Some("application/json; charset=utf-8".into());
    let a = send(addr, call).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    let a = send(addr, Call::new(r#"{"Future": {"x": 1}, "Limit": 2}"#)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["CustomKeyStores"].as_array().unwrap().len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn authentication_errors() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();

    // Missing token: nothing signed.
    let mut call = Call::new("{}");
    call.creds = None;
    let a = send(addr, call).await;
    a.assert_error(400, "MissingAuthenticationTokenException");
    assert_eq!(a.message(), "Request is missing Authentication Token");

    // Incomplete: no X-Amz-Date; malformed Authorization.
    let mut call = Call::new("{}");
    call.strip = vec!["x-amz-date"];
    send(addr, call)
        .await
        .assert_error(400, "IncompleteSignatureException");
    let mut call = Call::new("{}");
    call.set = vec![(
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={}/20260101/us-east-1/kms/aws4_request",
            demo::ACCESS_KEY_ID
        ),
    )];
    send(addr, call)
        .await
        .assert_error(400, "IncompleteSignatureException");
    let mut call = Call::new("{}");
    call.set = vec![(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=garbage, SignedHeaders=host, Signature=00".into(),
    )];
    send(addr, call)
        .await
        .assert_error(400, "IncompleteSignatureException");

    // Wrong secret.
    let a = send(
        addr,
        Call::new("{}").creds(Creds {
            secret: "wrong",
            ..DEMO
        }),
    )
    .await;
    a.assert_error(400, "InvalidSignatureException");
    assert!(a.message().starts_with(
        "The request signature we calculated does not match the signature you provided."
    ));
    // Body changed after signing.
    let mut call = Call::new(r#"{"Limit": 5}"#);
    call.replace_body = Some(br#"{"Limit": 6}"#.to_vec());
    send(addr, call)
        .await
        .assert_error(400, "InvalidSignatureException");

    // Skewed clock, both directions.
    let mut call = Call::new("{}");
    call.skew = -600;
    let a = send(addr, call).await;
    a.assert_error(400, "InvalidSignatureException");
    assert!(
        a.message().starts_with("Signature expired: ") && a.message().ends_with(" - 5 min.)"),
        "{}",
        a.message()
    );
    let mut call = Call::new("{}");
    call.skew = 600;
    send(addr, call)
        .await
        .assert_error(400, "InvalidSignatureException");
    // Within the window is fine.
    let mut call = Call::new("{}");
    call.skew = -200;
    assert_eq!(send(addr, call).await.status, 200);

    // Wrong service, region not served.
    let mut call = Call::new("{}");
    call.service = "s3".into();
    let a = send(addr, call).await;
    a.assert_error(400, "InvalidSignatureException");
    assert_eq!(
        a.message(),
        "Credential should be scoped to correct service: 'kms'. "
    );
    send(addr, Call::new("{}").region("eu-west-3"))
        .await
        .assert_error(400, "InvalidSignatureException");

    // Unknown key; temporary key without / with a wrong token; permanent key with a token.
    for creds in [
        Creds {
            akid: "AKIAUNKNOWNKEY000000",
            ..DEMO
        },
        Creds {
            token: None,
            ..SESSION
        },
        Creds {
            token: Some("wrong-token"),
            ..SESSION
        },
        Creds {
            token: Some(demo::SESSION_TOKEN),
            ..DEMO
        },
    ] {
        let a = send(addr, Call::new("{}").creds(creds)).await;
        a.assert_error(400, "UnrecognizedClientException");
        assert_eq!(
            a.message(),
            "The security token included in the request is invalid."
        );
    }
    // The right session token works.
    let a = send(addr, Call::new("{}").creds(SESSION)).await;
    assert_eq!(a.status, 200, "{:?}", a.json);

    // Access denied names principal and action.
    let a = send(addr, Call::new("{}").creds(DENIED)).await;
    a.assert_error(400, "AccessDeniedException");
    assert_eq!(
        a.message(),
        "User: arn:aws:iam::111122223333:user/no-kms is not authorized to perform: kms:DescribeCustomKeyStores because no identity-based policy allows the kms:DescribeCustomKeyStores action"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn presigned_requests() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let mut call = Call::new("{}");
    call.presigned = true;
    let a = send(addr, call.clone()).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert!(a.headers.get("x-amzn-errortype").is_none());
    assert_eq!(a.json["CustomKeyStores"].as_array().unwrap().len(), 12);
    let mut wrong = call.clone();
    wrong.creds = Some(Creds {
        secret: "nope",
        ..DEMO
    });
    send(addr, wrong)
        .await
        .assert_error(400, "InvalidSignatureException");
    let mut session = call.clone();
    session.creds = Some(SESSION);
    assert_eq!(send(addr, session).await.status, 200);
    let mut bad_session = call;
    bad_session.creds = Some(Creds {
        token: Some("nope"),
        ..SESSION
    });
    send(addr, bad_session)
        .await
        .assert_error(400, "UnrecognizedClientException");
    server.shutdown().await;
}

#[tokio::test]
async fn fault_injection_and_fresh_request_ids() {
    let server = start(ServerConfig::demo().with_fail_rate(1.0)).await;
    let addr = server.local_addr();
    let mut seen = HashSet::new();
    let mut ids = HashSet::new();
    for _ in 0..200 {
        let a = send(addr, Call::new("{}")).await;
        match a.error_type() {
            "KMSInternalException" => {
                a.assert_error(500, "KMSInternalException");
                // Names both ways of setting it: the flag, and the library's call.
                assert_eq!(
                    a.message(),
                    "Injected failure (kms-server's fault injection: --fail-rate or --fail-first, \
                     or ServerConfig::with_fail_rate or with_failing_first in code): the \
                     request was not processed."
                );
            }
            "ThrottlingException" => {
                a.assert_error(400, "ThrottlingException");
                assert_eq!(
                    a.message(),
                    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
                );
            }
            other => panic!("unexpected {other}: {:?}", a.json),
        }
        seen.insert(a.error_type().to_owned());
        assert!(ids.insert(a.assert_request_id()));
        if seen.len() == 2 && ids.len() >= 10 {
            break;
        }
    }
    assert_eq!(seen.len(), 2);
    // Unauthenticated requests are refused, never failed on purpose.
    let mut call = Call::new("{}");
    call.creds = None;
    send(addr, call)
        .await
        .assert_error(400, "MissingAuthenticationTokenException");
    server.shutdown().await;
}

#[tokio::test]
async fn body_over_one_mib_is_413() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let mut body = b"{\"Marker\": \"".to_vec();
    body.resize(1024 * 1024 + 10, b'a');
    body.extend_from_slice(b"\"}");
    let mut call = Call::new(body);
    call.creds = None;
    let a = send(addr, call).await;
    a.assert_error(413, "RequestEntityTooLargeException");
    // The server keeps serving.
    assert_eq!(send(addr, Call::new("{}")).await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn pagination_across_2500_stores() {
    let server = start(ServerConfig::demo().with_generated_stores(2500 - 12)).await;
    let addr = server.local_addr();
    let expected = demo_ids(2488);
    for via_query in [false, true] {
        for limit in [1, 7, 1000] {
            let ids = list_all(addr, Some(limit), via_query, DEMO, demo::REGION).await;
            assert_eq!(ids.len(), expected, "limit {limit} query {via_query}");
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "ordered by id, each once"
            );
        }
    }
    // Default page size is 100.
    let a = send(addr, Call::new("{}")).await;
    assert_eq!(
        a.json["CustomKeyStores"].as_array().unwrap().len(),
        kms_server::DEFAULT_PAGE_SIZE
    );
    assert_eq!(a.json["Truncated"], true);
    server.shutdown().await;
}

#[tokio::test]
async fn filters_by_id_and_name() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let a = send(
        addr,
        Call::new(r#"{"CustomKeyStoreId": "cks-1234567890abcdef7"}"#),
    )
    .await;
    assert_eq!(a.status, 200);
    let stores = a.json["CustomKeyStores"].as_array().unwrap();
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0]["CustomKeyStoreName"], "xks-vpc-connected");
    assert_eq!(
        stores[0]["XksProxyConfiguration"]["Connectivity"],
        "VPC_ENDPOINT_SERVICE"
    );
    assert_eq!(a.json["Truncated"], false);
    assert!(a.json.get("NextMarker").is_none());
    let a = send(
        addr,
        Call::new(r#"{"CustomKeyStoreName": "hsm-failed-cluster"}"#),
    )
    .await;
    let stores = a.json["CustomKeyStores"].as_array().unwrap();
    assert_eq!(stores[0]["ConnectionState"], "FAILED");
    assert_eq!(stores[0]["ConnectionErrorCode"], "CLUSTER_NOT_FOUND");
    assert!(
        stores[0].get("XksProxyConfiguration").is_none(),
        "absent members are omitted"
    );
    for (body, what) in [
        (
            r#"{"CustomKeyStoreId": "cks-0000000000000dead"}"#,
            "ID 'cks-0000000000000dead'",
        ),
        (
            r#"{"CustomKeyStoreName": "no such store"}"#,
            "name 'no such store'",
        ),
    ] {
        let a = send(addr, Call::new(body)).await;
        a.assert_error(400, "CustomKeyStoreNotFoundException");
        // Which filter matched nothing, and where the store was looked for.
        assert_eq!(
            a.json["message"],
            format!(
                "No custom key store with {what} exists in account {} in {}.",
                demo::ACCOUNT_ID,
                demo::REGION
            ),
        );
    }
    // Timestamps are epoch seconds with a fraction.
    let a = send(
        addr,
        Call::new(r#"{"CustomKeyStoreId": "cks-1234567890abcdef0"}"#),
    )
    .await;
    assert!(
        String::from_utf8_lossy(&a.raw).contains("\"CreationDate\":1551129207.775"),
        "{}",
        String::from_utf8_lossy(&a.raw)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn accounts_and_regions_are_isolated() {
    let server = start(ServerConfig::demo().with_generated_stores(30)).await;
    let addr = server.local_addr();
    let mine = list_all(addr, Some(10), false, DEMO, demo::REGION).await;
    assert_eq!(mine.len(), 42);
    let other = list_all(addr, Some(10), false, OTHER, demo::REGION).await;
    assert_eq!(other, ["cks-3234567890abcdef0", "cks-3234567890abcdef1"]);
    let west = list_all(addr, None, false, DEMO, demo::SECOND_REGION).await;
    assert_eq!(west, ["cks-2234567890abcdef0"]);
    assert!(
        list_all(addr, None, false, OTHER, demo::SECOND_REGION)
            .await
            .is_empty()
    );
    // Another account's store is not found by id or by (a shared) name.
    send(
        addr,
        Call::new(r#"{"CustomKeyStoreId": "cks-1234567890abcdef0"}"#).creds(OTHER),
    )
    .await
    .assert_error(400, "CustomKeyStoreNotFoundException");
    let a = send(
        addr,
        Call::new(r#"{"CustomKeyStoreName": "ExampleCloudHSMKeyStore"}"#).creds(OTHER),
    )
    .await;
    assert_eq!(
        a.json["CustomKeyStores"][0]["CustomKeyStoreId"],
        "cks-3234567890abcdef1"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn tampered_and_foreign_markers() {
    let server = start(ServerConfig::demo().with_generated_stores(30)).await;
    let addr = server.local_addr();
    let a = send(addr, Call::new(r#"{"Limit": 5}"#)).await;
    let marker = a.json["NextMarker"].as_str().unwrap().to_owned();
    let body = |m: &str| serde_json::to_vec(&serde_json::json!({"Marker": m})).unwrap();
    // Tampered: each character changed in turn (a sample), truncated, extended, garbage.
    let mut bad: Vec<String> = (0..marker.len())
        .step_by(3)
        .map(|i| {
            let mut b = marker.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            String::from_utf8(b).unwrap()
        })
        .collect();
    bad.extend([
        marker[..marker.len() - 2].to_owned(),
        format!("{marker}AA"),
        "not a marker".into(),
        "ÿÿÿ".into(),
    ]);
    for m in &bad {
        send(addr, Call::new(body(m)))
            .await
            .assert_error(400, "InvalidMarkerException");
    }
    // Foreign: another account, another region, another filter.
    send(addr, Call::new(body(&marker)).creds(OTHER))
        .await
        .assert_error(400, "InvalidMarkerException");
    send(addr, Call::new(body(&marker)).region(demo::SECOND_REGION))
        .await
        .assert_error(400, "InvalidMarkerException");
    let filtered = serde_json::to_vec(
        &serde_json::json!({"Marker": marker, "CustomKeyStoreName": "store-000001"}),
    )
    .unwrap();
    send(addr, Call::new(filtered))
        .await
        .assert_error(400, "InvalidMarkerException");
    // A server with another marker key refuses it too.
    let other_key = start(
        ServerConfig::demo()
            .with_generated_stores(30)
            .with_marker_key("a different marker key"),
    )
    .await;
    send(other_key.local_addr(), Call::new(body(&marker)))
        .await
        .assert_error(400, "InvalidMarkerException");
    other_key.shutdown().await;
    // The genuine marker still works, via body and via query.
    let a = send(addr, Call::new(body(&marker))).await;
    assert_eq!(a.status, 200);
    let a2 = send(addr, Call::new("{}").query(format!("Marker={marker}"))).await;
    assert_eq!(a.json["CustomKeyStores"], a2.json["CustomKeyStores"]);
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_and_then_refuses() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    assert_eq!(send(addr, Call::new("{}")).await.status, 200);
    server.shutdown().await;
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "listener closed after shutdown");
}

/// `--fail-with` / `with_injected_errors`: injected failures are answered with the chosen
/// error only, so that a test of retries or of giving up on throttling gets that error on
/// every call at a fail rate of 1.
#[tokio::test]
async fn injected_failures_are_the_chosen_error() {
    for (chosen, status) in [
        (InjectedError::Throttling, 400),
        (InjectedError::KmsInternal, 500),
    ] {
        let config = ServerConfig::demo()
            .with_fail_rate(1.0)
            .with_injected_errors([chosen]);
        assert_eq!(config.injected_errors(), [chosen]);
        let server = start(config).await;
        for _ in 0..40 {
            send(server.local_addr(), Call::new("{}"))
                .await
                .assert_error(status, chosen.code());
        }
        server.shutdown().await;
    }
    // None chosen is the default: both.
    let config = ServerConfig::demo().with_injected_errors([]);
    assert_eq!(config.injected_errors(), InjectedError::ALL);
}

/// A body whose framing is broken (a chunk size past u64, a body cut short by the end of
/// the client's stream) is answered 400 `SerializationException` saying what was wrong;
/// it said only "error reading a body from connection".
#[tokio::test]
async fn a_broken_body_is_refused_saying_why() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let head = wire_head(addr, &Call::new("{}"));
    let head = String::from_utf8(head).unwrap();
    let chunked = head.replace("content-length: 2\r\n", "transfer-encoding: chunked\r\n");
    assert_ne!(chunked, head);
    let cases = [
        (
            format!("{chunked}1ffffffffffffffff\r\n{{}}\r\n0\r\n\r\n"),
            "invalid chunk size: overflow",
        ),
        (
            format!("{head}{{"),
            "end of file before message length reached",
        ),
    ];
    for (request, cause) in cases {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        // The end of the client's side: a body cut short ends there.
        stream.shutdown().await.unwrap();
        let mut response = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            stream.read_to_end(&mut response),
        );
        read.await.expect("answered").unwrap();
        let response = String::from_utf8(response).unwrap();
        assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
        let (_, body) = response.split_once("\r\n\r\n").unwrap();
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["__type"], "SerializationException", "{body}");
        assert_eq!(
            body["message"],
            format!(
                "could not read the request body: error reading a body from connection: {cause}"
            ),
        );
    }
    server.shutdown().await;
}
