//! What one client can hold of the server: a connection whose responses it never reads
//! is closed, only so many connections are served at once (at the limit, the one idle
//! longest makes room), a request refused on its head is answered without its body, and
//! only so many bytes of bodies are held at once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Answer, Call, Creds, DEMO, SESSION, send, start, wire_bytes, wire_head};
use kms_server::service::MAX_BODY_BYTES;
use kms_server::{Context, Handler, Router, RunningServer, ServerConfig, TlsConfig};
use kms_types::{
    DescribeCustomKeyStores, DescribeCustomKeyStoresError, DescribeCustomKeyStoresRequest,
    DescribeCustomKeyStoresResponse,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;

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

/// At the connection limit, a further connection is served once the connection idle
/// longest has been closed to make room (SDK clients leave theirs open between calls): it
/// does not wait for the idle ones' header read timeout. The other keeps its place.
#[tokio::test]
async fn at_the_limit_the_connection_idle_longest_makes_room() {
    let server = start_limited(2).await;
    let addr = server.local_addr();
    let mut first = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        call_on(&mut first, addr, &Call::new("{}")).await.status,
        200
    );
    let mut second = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        call_on(&mut second, addr, &Call::new("{}")).await.status,
        200
    );

    let mut third = tokio::spawn(send(addr, Call::new("{}")));
    assert_eq!(answered(&mut third, "the third").await.status, 200);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), first.read_to_end(&mut rest));
    assert_eq!(read.await.expect("the first is closed").unwrap(), 0);
    assert_eq!(
        call_on(&mut second, addr, &Call::new("{}")).await.status,
        200
    );
    server.shutdown().await;
}

/// While every connection has a request in flight, a further connection waits; once one
/// is answered and its connection idle, that connection makes room. The busy ones are not
/// cut off.
#[tokio::test]
async fn while_every_connection_is_busy_a_further_one_waits() {
    let entered = Arc::new(Semaphore::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let router = Router::new().operation::<DescribeCustomKeyStores, _>(Gated {
        entered: Arc::clone(&entered),
        gate: Arc::clone(&gate),
    });
    let config = ServerConfig::demo()
        .with_max_connections(2)
        .with_header_read_timeout(Duration::from_secs(3600));
    let server = kms_server::serve_router(&config, router, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let mut busy: Vec<_> = (0..2)
        .map(|_| tokio::spawn(send(addr, Call::new("{}"))))
        .collect();
    entered.acquire_many(2).await.unwrap().forget();

    let mut further = tokio::spawn(send(addr, Call::new("{}")));
    // Not a measure of time: the further call must not reach its handler while both
    // connections are busy, however long this waits.
    let early = tokio::time::timeout(Duration::from_secs(1), entered.acquire())
        .await
        .is_ok();
    assert!(!early, "a third connection was served while two were busy");
    gate.add_permits(1);
    for call in &mut busy {
        assert_eq!(answered(call, "a busy call").await.status, 200);
    }
    assert_eq!(answered(&mut further, "the further call").await.status, 200);
    server.shutdown().await;
}

/// At the limit, the idle connection asked to make room may be one still writing answers
/// its client never reads (it ends only at the write timeout, an hour here): once it has
/// not ended soon, the next idlest is asked too. A new connection waited for the first
/// one's write timeout, while another idle one could have made room at once.
#[tokio::test]
async fn at_the_limit_a_connection_stuck_writing_does_not_hold_up_a_new_one() {
    let config = ServerConfig::demo()
        .with_generated_stores(1000)
        .with_max_connections(2)
        .with_header_read_timeout(Duration::from_secs(3600))
        .with_write_timeout(Duration::from_secs(3600));
    let server = start(config).await;
    let addr = server.local_addr();
    // Pages of 1,000 stores (about 330 KB each), never read: its answers fill the socket
    // buffers, and the server is left writing to it.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stuck = socket.connect(addr).await.unwrap();
    let request = wire_bytes(addr, &Call::new(r#"{"Limit":1000}"#));
    for _ in 0..30 {
        stuck.write_all(&request).await.unwrap();
    }
    // Time for the server to answer what it can (so that the other one is idle since
    // later, and this one is the idlest).
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert_eq!(call_on(&mut idle, addr, &Call::new("{}")).await.status, 200);

    let mut further = tokio::spawn(send(addr, Call::new("{}")));
    assert_eq!(answered(&mut further, "the further call").await.status, 200);
    drop(stuck);
    server.shutdown().await;
}

/// Connections opened at once at the limit are all answered in turn: a connection that
/// has not yet sent its first request is not closed to make room for the next (its
/// client, which had sent nothing on it, saw it closed with no answer; at a limit of one,
/// most of them did).
#[tokio::test]
async fn connections_opened_at_once_at_the_limit_are_all_answered() {
    let server = start_limited(1).await;
    let addr = server.local_addr();
    let mut streams = Vec::new();
    for _ in 0..8 {
        streams.push(TcpStream::connect(addr).await.unwrap());
    }
    let calls: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let request = b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
                let mut response = Vec::new();
                let exchange = async {
                    stream.write_all(request).await?;
                    stream.read_to_end(&mut response).await
                };
                let _ = tokio::time::timeout(Duration::from_secs(20), exchange).await;
                String::from_utf8_lossy(&response).into_owned()
            })
        })
        .collect();
    for call in calls {
        let response = call.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    }
    server.shutdown().await;
}

/// At the limit, a connection that has sent part of a request head and stalled makes room
/// as a silent one does (its partial head is no request to answer): it held its place
/// until the header read timeout, an hour here.
#[tokio::test]
async fn at_the_limit_a_stalled_request_head_makes_room() {
    let server = start_limited(1).await;
    let addr = server.local_addr();
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(b"POST / HTTP/1.1\r\nhos").await.unwrap();
    // Time for the server to read it (were it not read yet, this would pass regardless).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut further = tokio::spawn(send(addr, Call::new("{}")));
    assert_eq!(answered(&mut further, "the further call").await.status, 200);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stalled.read_to_end(&mut rest));
    assert!(read.await.is_ok(), "the stalled one is still open");
    server.shutdown().await;
}

/// Shutdown does not wait for connections that have no request to answer: one that sent
/// part of a request head, and, over HTTPS, one that never started its handshake. Each
/// held the server until the header read timeout (an hour here; the shutdown grace
/// period, 30 s, cut it short).
#[tokio::test]
async fn shutdown_does_not_wait_for_a_stalled_request_head_or_handshake() {
    for tls in [false, true] {
        let mut config = ServerConfig::demo().with_header_read_timeout(Duration::from_secs(3600));
        if tls {
            config = config.with_tls(TlsConfig::self_signed(&["127.0.0.1".to_owned()]).unwrap());
        }
        let server = start(config).await;
        let addr = server.local_addr();
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        if !tls {
            stalled.write_all(b"POST / HTTP/1.1\r\nhos").await.unwrap();
        }
        // Time for the server to read it (were it not read yet, this would pass regardless).
        tokio::time::sleep(Duration::from_millis(200)).await;
        let shutdown = tokio::time::timeout(Duration::from_secs(20), server.shutdown()).await;
        assert!(
            shutdown.is_ok(),
            "shutdown waited for a stalled connection (tls: {tls})"
        );
    }
}

/// A demo server serving at most `max` connections at once, whose idle connections
/// would be held for an hour (the header read timeout) if not closed to make room.
async fn start_limited(max: usize) -> RunningServer {
    let config = ServerConfig::demo()
        .with_max_connections(max)
        .with_header_read_timeout(Duration::from_secs(3600));
    start(config).await
}

/// Sends `call` on `stream` and reads its answer (a JSON body, which ends with `}`),
/// leaving the connection open.
async fn call_on(stream: &mut TcpStream, addr: std::net::SocketAddr, call: &Call) -> Answer {
    stream.write_all(&wire_bytes(addr, call)).await.unwrap();
    let mut received = Vec::new();
    let mut chunk = vec![0; 4096];
    while !received.ends_with(b"}") {
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk))
            .await
            .expect("answered")
            .unwrap();
        assert!(n > 0, "the connection was closed");
        received.extend_from_slice(&chunk[..n]);
    }
    parse_answer(&received)
}

/// What the server sends for `call`'s head alone (its body never sent) on a connection of
/// its own, until it closes the connection.
async fn head_alone(addr: std::net::SocketAddr, call: &Call, what: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&wire_head(addr, call)).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received))
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer without the body"))
        .unwrap();
    received
}

/// A request with a body of `len` bytes that decodes as `{}` (no filter): `{`, spaces, `}`.
fn padded_call(len: usize) -> Call {
    let mut body = vec![b' '; len];
    body[0] = b'{';
    body[len - 1] = b'}';
    Call::new(body)
}

/// The first response of `bytes` read off a raw connection (one with a
/// `content-length`).
fn parse_answer(bytes: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(bytes);
    let (head, rest) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        let name = http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap();
        headers.append(name, value.trim().parse().unwrap());
    }
    let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
    let raw = bytes::Bytes::copy_from_slice(&rest.as_bytes()[..length]);
    Answer {
        status: status.parse().unwrap(),
        json: serde_json::from_slice(&raw).unwrap(),
        headers,
        raw,
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
    let largest = || padded_call(MAX_BODY_BYTES);
    let unsigned = Call {
        creds: None,
        ..largest()
    };
    let unknown_key = largest().creds(Creds {
        akid: "AKIAUNKNOWNKEY000000",
        ..DEMO
    });
    let unserved_region = largest().region("eu-west-3");
    let other_service = Call {
        service: "s3".into(),
        ..largest()
    };
    let wrong_token = largest().creds(Creds {
        token: Some("wrong-token"),
        ..SESSION
    });
    let expired = Call {
        skew: -600,
        ..largest()
    };
    let bad_content_sha256 = Call {
        set: vec![("x-amz-content-sha256", "not-a-hash".into())],
        ..largest()
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
        let received = head_alone(addr, call, what).await;
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

/// A request refused before its signature is looked at (a wrong path, method, operation
/// or content type) whose body is not in says that its connection closes: hyper closes
/// it (the body left unread), and the answer said nothing of it, so a client took the
/// connection for reusable. With its body in, the connection stays open and serves on.
#[tokio::test]
async fn a_request_refused_before_its_signature_says_whether_its_connection_closes() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let wrong_path = Call {
        path: "/foo".into(),
        ..padded_call(1000)
    };
    let wrong_method = Call {
        method: "PUT",
        ..padded_call(1000)
    };
    let no_target = Call {
        target: None,
        ..padded_call(1000)
    };
    let wrong_content_type = Call {
        content_type: Some("text/plain".into()),
        ..padded_call(1000)
    };
    for (what, call, status, code) in [
        ("wrong path", &wrong_path, 404, "UnknownOperationException"),
        (
            "wrong method",
            &wrong_method,
            405,
            "UnknownOperationException",
        ),
        ("no target", &no_target, 400, "UnknownOperationException"),
        (
            "wrong content type",
            &wrong_content_type,
            400,
            "SerializationException",
        ),
    ] {
        let answer = parse_answer(&head_alone(addr, call, what).await);
        assert_eq!(answer.status, status, "{what}: {:?}", answer.json);
        assert_eq!(answer.json["__type"], code, "{what}");
        assert_eq!(answer.header("connection"), Some("close"), "{what}");

        // Its body in, it keeps its connection.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let answer = call_on(&mut stream, addr, call).await;
        assert_eq!(answer.status, status, "{what}: {:?}", answer.json);
        assert_eq!(answer.header("connection"), None, "{what}");
        let next = call_on(&mut stream, addr, &Call::new("{}")).await;
        assert_eq!(next.status, 200, "{what}: {:?}", next.json);
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
        let answer = call_on(&mut stream, addr, &call).await;
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json["__type"], "UnrecognizedClientException");
        assert_eq!(answer.header("connection"), None);
    }
    server.shutdown().await;
}

/// Answers with no stores once the gate opens; says when a call comes in.
struct Gated {
    entered: Arc<Semaphore>,
    gate: Arc<Semaphore>,
}

impl Handler<DescribeCustomKeyStores> for Gated {
    async fn handle(
        &self,
        _ctx: &Context,
        _input: DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
        self.entered.add_permits(1);
        // Open for every call once opened: each gives its permit back.
        let _open = self.gate.acquire().await;
        Ok(DescribeCustomKeyStoresResponse::builder()
            .custom_key_stores(vec![])
            .truncated(false)
            .build())
    }
}

/// A server whose handler waits for its gate, with 1 MiB of body memory (the least there
/// is: one largest body), and a first request holding 700 KB of it in the handler.
struct HeldBudget {
    server: RunningServer,
    entered: Arc<Semaphore>,
    gate: Arc<Semaphore>,
    first: tokio::task::JoinHandle<Answer>,
}

impl HeldBudget {
    async fn start(config: ServerConfig) -> Self {
        let entered = Arc::new(Semaphore::new(0));
        let gate = Arc::new(Semaphore::new(0));
        let router = Router::new().operation::<DescribeCustomKeyStores, _>(Gated {
            entered: Arc::clone(&entered),
            gate: Arc::clone(&gate),
        });
        let config = config.with_max_body_memory(1);
        assert_eq!(config.max_body_memory(), MAX_BODY_BYTES);
        let server = kms_server::serve_router(&config, router, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let first = tokio::spawn(send(server.local_addr(), padded_call(700_000)));
        entered.acquire().await.unwrap().forget();
        Self {
            server,
            entered,
            gate,
            first,
        }
    }

    /// Opens the gate: the first request is answered (200).
    async fn answer_the_first(&mut self) {
        self.gate.add_permits(1);
        let first = answered(&mut self.first, "the first").await;
        assert_eq!(first.status, 200, "{:?}", first.json);
    }
}

/// What `task` answers, within 20 s (only so that a failure does not hang).
async fn answered(task: &mut tokio::task::JoinHandle<Answer>, what: &str) -> Answer {
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .unwrap_or_else(|_| panic!("{what} is not answered"))
        .unwrap()
}

/// Bodies held at once are bounded server-wide, also for signed requests: while one
/// request holds 700 KB of a 1 MiB budget, another of 700 KB waits for its share, and is
/// served once the first is answered.
#[tokio::test]
async fn bodies_past_the_memory_budget_wait_for_room() {
    let config = ServerConfig::demo().with_header_read_timeout(Duration::from_secs(60));
    let mut held = HeldBudget::start(config).await;
    let mut second = tokio::spawn(send(held.server.local_addr(), padded_call(700_000)));
    // Not a measure of time: the second must not reach its handler before the first is
    // answered, however long this waits.
    let early = tokio::time::timeout(Duration::from_secs(1), held.entered.acquire())
        .await
        .is_ok();
    assert!(!early, "a second body was held past the budget");
    held.answer_the_first().await;
    let second = answered(&mut second, "the second, once the first is done,").await;
    assert_eq!(second.status, 200, "{:?}", second.json);
    held.server.shutdown().await;
}

/// A request that waits for its share of the body memory past the body read timeout is
/// answered `408` (connection closed), saying the server had no room for it; the share
/// held by a request comes back once it is answered, and a body of the largest size fits
/// the least budget.
#[tokio::test]
async fn a_wait_for_body_memory_ends_with_the_body_read_timeout() {
    let config = ServerConfig::demo().with_header_read_timeout(Duration::from_millis(300));
    let mut held = HeldBudget::start(config).await;
    let addr = held.server.local_addr();
    let mut second = tokio::spawn(send(addr, padded_call(700_000)));
    let second = answered(&mut second, "the waiting request").await;
    second.assert_error(408, "RequestTimeoutException");
    // Not blamed on the client: its body was there, the server had no room for it.
    assert_eq!(
        second.message(),
        "The request body could not be read within 300 ms of its headers: the server held \
         as many request body bytes as it may (kms-server --max-body-memory) all that time"
    );
    assert_eq!(second.headers.get("connection").unwrap(), "close");
    held.answer_the_first().await;
    let mut largest = tokio::spawn(send(addr, padded_call(MAX_BODY_BYTES)));
    let largest = answered(&mut largest, "a largest body, once the others are done,").await;
    assert_eq!(largest.status, 200, "{:?}", largest.json);
    held.server.shutdown().await;
}
