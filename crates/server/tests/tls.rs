//! kms-server over HTTPS on 127.0.0.1: answers through TLS, and a client that does not
//! complete its handshake (or speaks plain HTTP) is dropped without disturbing others.

mod common;

use std::sync::Arc;
use std::time::Duration;

use kms_server::{ServerConfig, TlsConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(timeout: Duration) -> (kms_server::RunningServer, String) {
    start_with(ServerConfig::demo().with_header_read_timeout(timeout)).await
}

async fn start_with(config: ServerConfig) -> (kms_server::RunningServer, String) {
    let tls = TlsConfig::self_signed(&["127.0.0.1".to_owned()]).unwrap();
    let ca = tls.ca_pem().unwrap().to_owned();
    let server = common::start(config.with_tls(tls)).await;
    (server, ca)
}

/// One HTTP/1.1 request over TLS, trusting `ca`; the response head and body as text.
async fn exchange(addr: std::net::SocketAddr, ca: &str, request: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
        .unwrap();
    // The provider kms-server uses (deprecated since rustls 0.23.48: no post-quantum
    // key exchange).
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

const UNSIGNED: &str = "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-amz-json-1.1\r\n\
x-amz-target: TrentService.DescribeCustomKeyStores\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";

#[tokio::test]
async fn answers_over_tls() {
    let (server, ca) = start(Duration::from_secs(10)).await;
    assert!(
        server.endpoint().starts_with("https://127.0.0.1:"),
        "{}",
        server.endpoint()
    );
    let response = exchange(server.local_addr(), &ca, UNSIGNED).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains("MissingAuthenticationTokenException"),
        "{response}"
    );
}

/// At the connection limit, a connection that has not finished its handshake (no request
/// yet) makes room for a new one, as an idle connection does: it is not held until the
/// handshake timeout (an hour here).
#[tokio::test]
async fn at_the_limit_a_stalled_handshake_makes_room() {
    let config = ServerConfig::demo()
        .with_max_connections(1)
        .with_header_read_timeout(Duration::from_secs(3600));
    let (server, ca) = start_with(config).await;
    let addr = server.local_addr();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let response = tokio::time::timeout(Duration::from_secs(20), exchange(addr, &ca, UNSIGNED))
        .await
        .expect("served while the stalled handshake held the only place");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut rest));
    assert_eq!(read.await.expect("the stalled one is closed").unwrap(), 0);
}

#[tokio::test]
async fn stalled_handshakes_and_plain_http_are_dropped_and_others_are_served() {
    let (server, ca) = start(Duration::from_millis(300)).await;
    let addr = server.local_addr();

    // Connects and never starts the handshake: closed once the timeout has passed.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "not closed: {read:?}"
    );

    // Plain HTTP to the TLS port: the handshake fails and the connection ends.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain.write_all(UNSIGNED.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "a plain HTTP client was left hanging");
    assert!(!String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"));

    // The server still serves TLS clients.
    let response = exchange(addr, &ca, UNSIGNED).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    server.shutdown().await;
}

#[test]
fn the_binary_refuses_unusable_tls_settings_naming_them() {
    let run = |args: &[&str]| {
        let output = common::kms_server_binary()
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, stderr) = run(&[
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot read /nonexistent/cert.pem"),
        "{stderr}"
    );
    let (ok, stderr) = run(&["--tls-key", "/nonexistent/key.pem"]);
    assert!(!ok);
    assert!(stderr.contains("--tls-cert"), "{stderr}");
    let (ok, stderr) = run(&[
        "--tls-self-signed",
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
    ]);
    assert!(!ok);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
