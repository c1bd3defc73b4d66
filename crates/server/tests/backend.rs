//! A custom backend plugged in through the `Handler` trait, graceful shutdown with a
//! request in flight, and the header read timeout.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use kms_server::{Context, Handler, Router, ServerConfig, demo};
use kms_types::{
    CustomKeyStoresListEntry, DescribeCustomKeyStores, DescribeCustomKeyStoresError,
    DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse, KmsInternalException,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `router` with the demo accounts on a free loopback port.
async fn serve_demo(router: Router) -> kms_server::RunningServer {
    kms_server::serve_router(
        &ServerConfig::demo(),
        router,
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

/// Answers after a pause with one store named after the caller; counts calls.
struct Slow {
    calls: Arc<AtomicUsize>,
    pause: Duration,
}

impl Handler<DescribeCustomKeyStores> for Slow {
    async fn handle(
        &self,
        ctx: &Context,
        input: DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.pause).await;
        if input.custom_key_store_name.as_deref() == Some("boom") {
            return Err(KmsInternalException::builder()
                .message("backend down")
                .build()
                .into());
        }
        let entry = CustomKeyStoresListEntry::builder()
            .custom_key_store_id("cks-00000000000000001")
            .custom_key_store_name(format!("{}@{}", ctx.principal_arn, ctx.region))
            .build();
        Ok(DescribeCustomKeyStoresResponse::builder()
            .custom_key_stores(vec![entry])
            .truncated(false)
            .build())
    }
}

#[tokio::test]
async fn custom_backend_sees_only_validated_input_and_its_errors_are_encoded() {
    let calls = Arc::new(AtomicUsize::new(0));
    let router = Router::new().operation::<DescribeCustomKeyStores, _>(Slow {
        calls: Arc::clone(&calls),
        pause: Duration::ZERO,
    });
    let server = serve_demo(router).await;
    let addr = server.local_addr();
    let a = send(addr, Call::new("{}")).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json["CustomKeyStores"][0]["CustomKeyStoreName"],
        format!("{}@{}", demo::PRINCIPAL_ARN, demo::REGION)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Invalid input, bad auth and denied callers never reach the handler.
    send(addr, Call::new(r#"{"Limit": 0}"#))
        .await
        .assert_error(400, "ValidationException");
    send(
        addr,
        Call::new(r#"{"CustomKeyStoreId": "a", "CustomKeyStoreName": "b"}"#),
    )
    .await
    .assert_error(400, "ValidationException");
    send(addr, Call::new("{}").creds(DENIED))
        .await
        .assert_error(400, "AccessDeniedException");
    send(
        addr,
        Call::new("{}").creds(Creds {
            secret: "x",
            ..DEMO
        }),
    )
    .await
    .assert_error(400, "InvalidSignatureException");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // A modeled error of the backend.
    let a = send(addr, Call::new(r#"{"CustomKeyStoreName": "boom"}"#)).await;
    a.assert_error(500, "KMSInternalException");
    assert_eq!(a.message(), "backend down");
    server.shutdown().await;
}

/// An operation that kms-types does not generate, standing in for one a maintainer
/// imports later: its types generated here by the same macro.
mod another {
    kms_macros::generate!("tests/models/another-operation.json");
}

/// Counts 7 stores; fails for the state `BROKEN`; refuses the state `ALL` as a rule of
/// its own, which no modeled error expresses.
struct Counter;

impl Handler<another::CountCustomKeyStores> for Counter {
    fn check_input(&self, input: &another::CountCustomKeyStoresRequest) -> Result<(), String> {
        match input.connection_state.as_deref() {
            Some("ALL") => Err("Leave out ConnectionState to count every store.".into()),
            _ => Ok(()),
        }
    }

    async fn handle(
        &self,
        _ctx: &Context,
        input: another::CountCustomKeyStoresRequest,
    ) -> Result<another::CountCustomKeyStoresResponse, another::CountCustomKeyStoresError> {
        if input.connection_state.as_deref() == Some("BROKEN") {
            return Err(another::KmsInternalException::builder()
                .message("backend down")
                .build()
                .into());
        }
        Ok(another::CountCustomKeyStoresResponse::builder()
            .count(7)
            .build())
    }
}

/// Any generated operation can be routed to a handler, with the same signature,
/// permission and validation checks before it and its modeled errors encoded.
/// Panics on a name of "panic" (with a formatted message) or "static" (a literal one).
struct Panicky;

impl Handler<DescribeCustomKeyStores> for Panicky {
    async fn handle(
        &self,
        _ctx: &Context,
        input: DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
        tokio::task::yield_now().await;
        match input.custom_key_store_name.as_deref() {
            Some("panic") => panic!("bug in the backend: {}", 42),
            Some("static") => panic!("a static bug"),
            _ => Ok(DescribeCustomKeyStoresResponse::builder()
                .truncated(false)
                .build()),
        }
    }
}

/// The message of the 500 `KMSInternalException` a request for the store `name` (a
/// name the panicking handlers panic on) is answered with.
async fn panic_answer(
    client: &Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    name: &str,
) -> String {
    let a = send_with(
        client,
        addr,
        Call::new(format!(r#"{{"CustomKeyStoreName": "{name}"}}"#)),
    )
    .await;
    a.assert_error(500, "KMSInternalException");
    a.json["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_handler_that_panics_is_answered_with_kms_internal_exception() {
    let router = Router::new().operation::<DescribeCustomKeyStores, _>(Panicky);
    let server = serve_demo(router).await;
    let addr = server.local_addr();
    // One connection throughout: the panic does not cost it either.
    let client = client();
    for (name, said) in [
        ("panic", "bug in the backend: 42"),
        ("static", "a static bug"),
    ] {
        assert_eq!(
            panic_answer(&client, addr, name).await,
            format!("The handler of DescribeCustomKeyStores panicked: {said}")
        );
    }
    assert_eq!(send_with(&client, addr, Call::new("{}")).await.status, 200);
    server.shutdown().await;
}

/// Panics in `check_input` on a name of "check", and in `handle_encoded` before its
/// future is made on a name of "eager".
struct PanickyOutsideTheFuture;

impl Handler<DescribeCustomKeyStores> for PanickyOutsideTheFuture {
    fn check_input(&self, input: &DescribeCustomKeyStoresRequest) -> Result<(), String> {
        assert_ne!(input.custom_key_store_name.as_deref(), Some("check"));
        Ok(())
    }

    async fn handle(
        &self,
        _ctx: &Context,
        _input: DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
        Ok(DescribeCustomKeyStoresResponse::builder()
            .truncated(false)
            .build())
    }

    #[allow(clippy::manual_async_fn)]
    fn handle_encoded(
        &self,
        _ctx: &Context,
        input: DescribeCustomKeyStoresRequest,
    ) -> impl Future<Output = Result<Vec<u8>, DescribeCustomKeyStoresError>> + Send {
        let name = input.custom_key_store_name.expect("named");
        assert_ne!(name, "eager", "an eager bug");
        async { Ok(br#"{"Truncated":false}"#.to_vec()) }
    }
}

/// A panic in the handler's `check_input`, or in `handle_encoded` before it returns
/// its future, is answered as one in the future is: it escaped the catch, and the
/// connection closed without an answer.
#[tokio::test]
async fn a_handler_that_panics_outside_its_future_is_answered_too() {
    let router = Router::new().operation::<DescribeCustomKeyStores, _>(PanickyOutsideTheFuture);
    let server = serve_demo(router).await;
    let addr = server.local_addr();
    let client = client();
    for (name, said) in [("check", "assertion"), ("eager", "an eager bug")] {
        let message = panic_answer(&client, addr, name).await;
        assert!(
            message.starts_with("The handler of DescribeCustomKeyStores panicked: ")
                && message.contains(said),
            "{message}"
        );
    }
    let a = send_with(
        &client,
        addr,
        Call::new(r#"{"CustomKeyStoreName": "fine"}"#),
    )
    .await;
    assert_eq!(a.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn an_operation_generated_outside_kms_types_is_routed() {
    let router = Router::new().operation::<another::CountCustomKeyStores, _>(Counter);
    let server = serve_demo(router).await;
    let addr = server.local_addr();
    let count = |body: &str| {
        let mut call = Call::new(body.to_owned());
        call.target = Some("TrentService.CountCustomKeyStores".into());
        call
    };
    let a = send(addr, count("{}")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json, serde_json::json!({"Count": 7}));
    send(addr, count(r#"{"ConnectionState": ""}"#))
        .await
        .assert_error(400, "ValidationException");
    // A missing required member does not hide the other violations.
    let a = send(
        addr,
        count(r#"{"ConnectionState": "", "Filter": {"Exclude": ""}}"#),
    )
    .await;
    a.assert_error(400, "ValidationException");
    assert_eq!(
        a.message(),
        "3 validation errors detected: Value '' at 'connectionState' failed to satisfy \
         constraint: Member must have length greater than or equal to 1; Value null at \
         'filter.namePrefix' failed to satisfy constraint: Member must not be null; Value '' \
         at 'filter.exclude' failed to satisfy constraint: Member must have length greater \
         than or equal to 1"
    );
    send(addr, count("{}").creds(DENIED))
        .await
        .assert_error(400, "AccessDeniedException");
    let a = send(addr, count(r#"{"ConnectionState": "BROKEN"}"#)).await;
    a.assert_error(500, "KMSInternalException");
    assert_eq!(a.message(), "backend down");
    // The handler's own input rule: a ValidationException, through an Arc too.
    let a = send(addr, count(r#"{"ConnectionState": "ALL"}"#)).await;
    a.assert_error(400, "ValidationException");
    assert_eq!(
        a.message(),
        "Leave out ConnectionState to count every store."
    );
    let router = Router::new().operation::<another::CountCustomKeyStores, _>(Arc::new(Counter));
    let shared = serve_demo(router).await;
    send(shared.local_addr(), count(r#"{"ConnectionState": "ALL"}"#))
        .await
        .assert_error(400, "ValidationException");
    shared.shutdown().await;
    send(addr, Call::new("{}"))
        .await
        .assert_error(400, "UnknownOperationException");
    server.shutdown().await;
}

#[tokio::test]
async fn an_empty_router_knows_no_operation() {
    let server = serve_demo(Router::new()).await;
    let a = send(server.local_addr(), Call::new("{}")).await;
    a.assert_error(400, "UnknownOperationException");
    assert_eq!(
        a.message(),
        "Unknown operation: TrentService.DescribeCustomKeyStores. This kms-server serves \
         no operation."
    );
    server.shutdown().await;
}

/// Adds to the built-in backend by wrapping it, answering through its typed `handle`
/// (as a backend that logs or rewrites the built-in answers does); the server encodes
/// what it returns.
struct Wrapping(kms_server::StoreHandler<kms_server::store::MemoryStore<kms_server::KeyStore>>);

impl Handler<DescribeCustomKeyStores> for Wrapping {
    async fn handle(
        &self,
        ctx: &Context,
        input: DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
        self.0.handle(ctx, input).await
    }
}

/// A backend wrapping the built-in one answers what the built-in one answers: its stores,
/// its pages and markers, its errors.
#[tokio::test]
async fn a_backend_wrapping_the_built_in_one_answers_as_it_does() {
    let config = ServerConfig::demo();
    let built_in = kms_server::StoreHandler::new(
        Arc::new(config.memory_store().unwrap()),
        config.marker_key(),
    );
    let wrapped =
        serve_demo(Router::new().operation::<DescribeCustomKeyStores, _>(Wrapping(built_in))).await;
    let direct = start(ServerConfig::demo()).await;
    let first = send(wrapped.local_addr(), Call::new(r#"{"Limit": 5}"#)).await;
    assert_eq!(first.status, 200, "{:?}", first.json);
    assert_eq!(first.json["CustomKeyStores"].as_array().unwrap().len(), 5);
    assert_eq!(first.json["Truncated"], true);
    let marker = first.json["NextMarker"].as_str().unwrap();
    let next = format!(r#"{{"Limit": 5, "Marker": "{marker}"}}"#);
    for body in [
        "{}",
        r#"{"Limit": 5}"#,
        next.as_str(),
        r#"{"CustomKeyStoreName": "hsm-failed-cluster"}"#,
        r#"{"CustomKeyStoreId": "cks-0000000000000dead"}"#,
    ] {
        let (w, d) = (
            send(wrapped.local_addr(), Call::new(body)).await,
            send(direct.local_addr(), Call::new(body)).await,
        );
        assert_eq!((w.status, &w.json), (d.status, &d.json), "{body}");
    }
    wrapped.shutdown().await;
    direct.shutdown().await;
}

#[tokio::test]
async fn shutdown_completes_in_flight_requests() {
    let calls = Arc::new(AtomicUsize::new(0));
    let router = Router::new().operation::<DescribeCustomKeyStores, _>(Slow {
        calls: Arc::clone(&calls),
        pause: Duration::from_millis(500),
    });
    let server = serve_demo(router).await;
    let addr = server.local_addr();
    let in_flight = tokio::spawn(send(addr, Call::new("{}")));
    // Wait until the handler has the request, then shut down. (A request answered
    // without reaching the handler fails the test here, rather than hanging it.)
    while calls.load(Ordering::SeqCst) == 0 {
        assert!(
            !in_flight.is_finished(),
            "the request was answered without reaching its handler"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.shutdown().await;
    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, 200, "the in-flight request finished");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Sends the start of a request (made for the server's address) to a server with a
/// 200 ms read timeout and never the rest; answers what the server sent before it closed
/// the connection (at most 20 s), and the server.
async fn stall_after(
    start_of_request: impl FnOnce(std::net::SocketAddr) -> Vec<u8>,
) -> (kms_server::RunningServer, Vec<u8>) {
    let server =
        start(ServerConfig::demo().with_header_read_timeout(Duration::from_millis(200))).await;
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    stream
        .write_all(&start_of_request(server.local_addr()))
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "connection closed by the server");
    (server, buf)
}

/// A body that stops arriving gets 408 and the connection is closed, so that a stuck
/// client holds neither a connection nor a graceful shutdown for ever. (The request is
/// signed: one refused on its head is answered without waiting for its body.)
#[tokio::test]
async fn slow_bodies_are_cut_off() {
    let (server, answer) = stall_after(|addr| {
        let mut request = wire_head(addr, &Call::new(format!("{{{}}}", " ".repeat(98))));
        request.push(b'{');
        request
    })
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        answer.contains(
            r#"{"__type":"RequestTimeoutException","message":"The request body did not arrive within 200 ms of its headers"}"#
        ),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let stopped = tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await;
    assert!(stopped.is_ok(), "nothing holds the shutdown");
}

/// Headers that never end: the server closes the connection by itself.
#[tokio::test]
async fn slow_headers_are_cut_off() {
    let (server, _) = stall_after(|_| b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\n".to_vec()).await;
    server.shutdown().await;
}

/// A client may send its request and then close its side of the connection (TCP
/// half-close, as `nc -N` does) while it waits: the answer still comes. hyper's default
/// closed the connection on reading the end of the stream, dropping the pending response
/// (about one in eight under load; every time while a handler takes its time).
#[tokio::test]
async fn a_client_that_half_closes_still_gets_its_answer() {
    let router = Router::new().operation::<DescribeCustomKeyStores, _>(Slow {
        calls: Arc::new(AtomicUsize::new(0)),
        pause: Duration::from_millis(200),
    });
    let server = serve_demo(router).await;
    let addr = server.local_addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&wire_bytes(addr, &Call::new("{}")))
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers or closes")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    server.shutdown().await;
}
