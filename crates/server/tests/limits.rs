//! What one client can hold of the server: a connection whose responses it never reads
//! is closed, and only so many connections are served at once.

mod common;

use std::time::Duration;

use common::{Call, send, start, wire_bytes};
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
