//! What one client can hold of the server: a connection whose responses it never reads
//! is closed, only so many connections are served at once, and a request refused on its
//! head is answered without its body.

mod common;

use std::time::Duration;

use common::{Call, Creds, DEMO, SESSION, send, start, wire_bytes, wire_head};
use kms_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A client that sends requests and never reads their responses: once the server's
/// writes make no progress for the write timeout, the connection is closed (it was
/// held forever, with its responses buffered).
#[tokio::test]
async fn a_client_that_never_reads_is_disconnected() {
    // Pages of 1,000 stores (about 330 KB each) fill any socket buffers soon.
    let server = start(
        ServerConfig::demo()
            .with_generated_stores(1000)
            .with_write_timeout(Duration::from_millis(300)),
    )
    .await;
    let addr = server.local_addr();
    let request = wire_bytes(addr, &Call::new(r#"{"Limit":1000}"#));
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let sent = 30;
    for _ in 0..sent {
        stream.write_all(&request).await.unwrap();
    }
    // Not reading, for longer than the write timeout.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // What was sent before the server gave up, then the end of the connection.
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut chunk = vec![0; 1 << 16];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the connection stayed open");
    let answered = received
        .windows(b"HTTP/1.1 200".len())
        .filter(|w| *w == b"HTTP/1.1 200")
        .count();
    assert!(answered < sent, "all {sent} answered: the server waited");
    // Other clients are served as before.
    assert_eq!(send(addr, Call::new("{}")).await.status, 200);
    server.shutdown().await;
}

/// At the connection limit, a further connection waits to be served until one closes.
#[tokio::test]
async fn connections_beyond_the_limit_wait_for_one_to_close() {
    let server = start(ServerConfig::demo().with_max_connections(2)).await;
    let addr = server.local_addr();
    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    // Both are served (idle); a third call waits.
    let third = tokio::spawn(send(addr, Call::new("{}")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "served beyond the limit");
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("served once a connection closed")
        .unwrap();
    assert_eq!(answer.status, 200);
    server.shutdown().await;
}

/// A request with a body of `len` bytes that decodes as `{}` (no filter): `{`, spaces, `}`.
fn padded_call(len: usize) -> Call {
    let mut body = vec![b' '; len];
    body[0] = b'{';
    body[len - 1] = b'}';
    Call::new(body)
}

/// A response read off a raw connection: status, headers (names lower-cased), JSON body.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    json: serde_json::Value,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The first response of `bytes` (one with a `content-length`).
fn parse_answer(bytes: &[u8]) -> RawAnswer {
    let text = String::from_utf8_lossy(bytes);
    let (head, rest) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .expect("content-length")
        .1
        .parse()
        .unwrap();
    RawAnswer {
        status: status.parse().unwrap(),
        json: serde_json::from_slice(&rest.as_bytes()[..length]).unwrap(),
        headers,
    }
}

/// A request refused on its head alone (no valid signature from a configured key in a
/// served scope, at a good time) is answered at once without its body being read — as it
/// is answered with its body, except that the connection is then closed, since the body
/// it announced is still to come. A client that announces a body of 1 MiB and never
/// sends it held that megabyte's worth of waiting (and, sent, its megabyte) until the
/// body read timeout.
#[tokio::test]
async fn a_request_refused_on_its_head_is_answered_without_its_body() {
    let server =
        start(ServerConfig::demo().with_header_read_timeout(Duration::from_secs(60))).await;
    let addr = server.local_addr();
    let unsigned = Call {
        creds: None,
        ..padded_call(kms_server::service::MAX_BODY_BYTES)
    };
    let unknown_key = padded_call(kms_server::service::MAX_BODY_BYTES).creds(Creds {
        akid: "AKIAUNKNOWNKEY000000",
        ..DEMO
    });
    let unserved_region = padded_call(kms_server::service::MAX_BODY_BYTES).region("eu-west-3");
    let other_service = Call {
        service: "s3".into(),
        ..padded_call(kms_server::service::MAX_BODY_BYTES)
    };
    let wrong_token = padded_call(kms_server::service::MAX_BODY_BYTES).creds(Creds {
        token: Some("wrong-token"),
        ..SESSION
    });
    let expired = Call {
        skew: -600,
        ..padded_call(kms_server::service::MAX_BODY_BYTES)
    };
    let bad_content_sha256 = Call {
        set: vec![("x-amz-content-sha256", "not-a-hash".into())],
        ..padded_call(kms_server::service::MAX_BODY_BYTES)
    };
    let expecting_continue = Call {
        set: vec![("expect", "100-continue".into())],
        ..unsigned.clone()
    };
    for (what, call, code) in [
        ("unsigned", &unsigned, "MissingAuthenticationTokenException"),
        ("unknown key", &unknown_key, "UnrecognizedClientException"),
        (
            "wrong session token",
            &wrong_token,
            "UnrecognizedClientException",
        ),
        (
            "unserved region",
            &unserved_region,
            "InvalidSignatureException",
        ),
        ("other service", &other_service, "InvalidSignatureException"),
        ("expired", &expired, "InvalidSignatureException"),
        (
            "x-amz-content-sha256 not a hash",
            &bad_content_sha256,
            "InvalidSignatureException",
        ),
        (
            "Expect: 100-continue",
            &expecting_continue,
            "MissingAuthenticationTokenException",
        ),
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&wire_head(addr, call)).await.unwrap();
        let mut received = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received))
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer without the body"))
            .unwrap();
        assert!(
            !received.starts_with(b"HTTP/1.1 100"),
            "{what}: the body was asked for"
        );
        let answer = parse_answer(&received);
        // What the same request is told with its body.
        let with_body = send(addr, call.clone()).await;
        with_body.assert_error(400, code);
        assert_eq!(answer.status, 400, "{what}: {:?}", answer.json);
        assert_eq!(answer.json["__type"], code, "{what}");
        assert_eq!(answer.header("x-amzn-errortype"), Some(code), "{what}");
        if what == "expired" {
            // Its message quotes the server's clock.
            let message = answer.json["message"].as_str().unwrap();
            assert!(message.starts_with("Signature expired: "), "{message}");
        } else {
            assert_eq!(answer.json["message"], with_body.json["message"], "{what}");
        }
        assert_eq!(answer.header("connection"), Some("close"), "{what}");
    }
    server.shutdown().await;
}

/// A refused request whose small body came with its head (an SDK's, signed with a wrong
/// key) keeps its connection, as before: its body is in, and nothing is left unread.
#[tokio::test]
async fn a_refused_request_whose_body_is_in_keeps_its_connection() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let call = Call::new("{}").creds(Creds {
        akid: "AKIAUNKNOWNKEY000000",
        ..DEMO
    });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        stream.write_all(&wire_bytes(addr, &call)).await.unwrap();
        let mut received = Vec::new();
        let mut chunk = vec![0; 4096];
        // Until the response's JSON body is complete (it ends with `}`).
        while !received.ends_with(b"}") {
            let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk))
                .await
                .expect("answered")
                .unwrap();
            assert!(n > 0, "the connection was closed");
            received.extend_from_slice(&chunk[..n]);
        }
        let answer = parse_answer(&received);
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json["__type"], "UnrecognizedClientException");
        assert_eq!(answer.header("connection"), None);
    }
    server.shutdown().await;
}
