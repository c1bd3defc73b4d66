//! Test fixtures shared by the network tests: a TLS front before kms-server, an HTTP
//! proxy (CONNECT and forwarding), and a scripted HTTP endpoint (the metadata,
//! container, STS and SSO endpoints), all on 127.0.0.1.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kms_server::{RunningServer, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How many generated stores the servers hold (besides the demo ones).
pub const STORES: usize = 25;

/// kms-server (demo accounts, `STORES` generated stores) behind a TLS front whose
/// certificate, for `names`, a test CA issued.
pub struct Front {
    /// `https://127.0.0.1:PORT`
    pub endpoint: String,
    /// The test CA's certificate, PEM.
    pub ca_pem: String,
    /// TLS handshakes the front has started (one per connection).
    pub connections: Arc<AtomicUsize>,
    /// The kms-server behind it (plain http).
    pub server: RunningServer,
}

pub async fn front(names: &[&str]) -> Front {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let tls = kms_server::TlsConfig::self_signed(&names).unwrap();
    let ca_pem = tls.ca_pem().unwrap().to_owned();
    front_with(tls, ca_pem).await
}

/// kms-server behind a TLS front serving `tls`, whose issuer's certificate is `ca_pem`.
pub async fn front_with(tls: kms_server::TlsConfig, ca_pem: String) -> Front {
    let server = kms_server::serve(
        ServerConfig::demo().with_generated_stores(STORES),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let backend = server.local_addr();
    let acceptor = tls.acceptor().clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate ends the handshake: nothing to do.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Front {
        endpoint,
        ca_pem,
        connections,
        server,
    }
}

/// A configuration for `front` with the demo credentials and region.
pub fn builder(front: &Front) -> kms_client::ConfigBuilder {
    demo_builder(&front.endpoint)
}

/// A client configuration for `endpoint` with the demo region and credentials.
pub fn demo_builder(endpoint: &str) -> kms_client::ConfigBuilder {
    kms_client::Config::builder()
        .endpoint(endpoint)
        .region(kms_server::demo::REGION)
        .credentials(kms_client::Credentials::new(
            kms_server::demo::ACCESS_KEY_ID,
            kms_server::demo::SECRET_ACCESS_KEY,
            None,
        ))
}

/// The configuration `Config::from_env_with` resolves from `vars` alone, HOME being
/// `home` and the region the demo one unless `vars` name one.
pub fn config_from(
    home: &std::path::Path,
    vars: &[(&str, &str)],
    overrides: &kms_client::Overrides,
) -> kms_client::Config {
    let mut env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    env.insert("HOME".into(), home.display().to_string());
    env.entry("AWS_REGION".into())
        .or_insert(kms_server::demo::REGION.into());
    kms_client::Config::from_env_with(&move |k| env.get(k).cloned(), overrides).unwrap()
}

/// Every store, fetched page by page (10 per page).
pub async fn all_stores(client: &kms_client::Client) -> Result<usize, kms_client::Error> {
    use futures::TryStreamExt;
    let stores: Vec<_> = client
        .describe_custom_key_stores()
        .limit(10)
        .into_paginator()
        .items()
        .try_collect()
        .await?;
    Ok(stores.len())
}

/// What a proxy saw: the first line and the `Proxy-Authorization` value of each
/// connection's first request.
pub type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// An HTTP proxy on 127.0.0.1: `CONNECT host:port` tunnels, and absolute-form requests
/// forwarded to the host they name. It only ever connects to 127.0.0.1.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub seen: Seen,
}

pub async fn proxy() -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(relay(client, log));
        }
    });
    Proxy { url, seen }
}

async fn relay(mut client: TcpStream, log: Seen) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let first = text.lines().next().unwrap_or_default().to_owned();
    let authorization = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    log.lock().unwrap().push((first.clone(), authorization));
    let mut words = first.split(' ');
    let (method, target) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    let authority = if method == "CONNECT" {
        target.to_owned()
    } else {
        target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_owned()
    };
    // Loopback only: a test must never send traffic anywhere else.
    if !authority.starts_with("127.0.0.1:") {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(&authority).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if method == "CONNECT" {
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else if upstream.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A request the scripted endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
}

pub type Script = Arc<dyn Fn(&Received, usize) -> Option<(u16, String)> + Send + Sync>;

/// An HTTP/1.1 endpoint on 127.0.0.1 answering each request as `script` says
/// (`None`: never answer), one request per connection.
pub struct Scripted {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Scripted {
    pub async fn start(
        script: impl Fn(&Received, usize) -> Option<(u16, String)> + Send + Sync + 'static,
    ) -> Self {
        let script: Script = Arc::new(script);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let script = Arc::clone(&script);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    let mut lines = text.split("\r\n");
                    let mut request_line = lines.next().unwrap_or("").split(' ');
                    let request = Received {
                        method: request_line.next().unwrap_or("").to_owned(),
                        path: request_line.next().unwrap_or("").to_owned(),
                        headers: lines
                            .filter_map(|l| l.split_once(':'))
                            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                            .collect(),
                        body: String::new(),
                    };
                    let length = request
                        .headers
                        .get("content-length")
                        .and_then(|l| l.parse::<usize>().ok())
                        .unwrap_or(0);
                    let mut body = vec![0u8; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let request = Received {
                        body: String::from_utf8_lossy(&body).into_owned(),
                        ..request
                    };
                    let index = {
                        let mut log = log.lock().unwrap();
                        log.push(request.clone());
                        log.len() - 1
                    };
                    match script(&request, index) {
                        Some((status, body)) => {
                            let response = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = stream.write_all(response.as_bytes()).await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        Self { url, seen }
    }

    /// The requests received so far, in order.
    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

/// The form parameters of a request body (STS's), decoded.
pub fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// What `request` claims (access key, scope, security token) once its SigV4 signature
/// verifies with `secret`, checked with kms-server's verifier; else why it does not.
pub fn verify_signature(
    request: &Received,
    secret: &str,
) -> Result<kms_server::sigv4::ParsedAuth, String> {
    let mut headers = http::HeaderMap::new();
    for (name, value) in &request.headers {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?,
            http::HeaderValue::from_str(value).map_err(|e| e.to_string())?,
        );
    }
    let input = kms_server::sigv4::SigningInput {
        method: &request.method,
        path: &request.path,
        query: None,
        headers: &headers,
        body: request.body.as_bytes(),
    };
    let auth = kms_server::sigv4::parse(&input).map_err(|e| format!("{e:?}"))?;
    let now = kms_types::Timestamp::now().secs() as u64;
    kms_server::sigv4::verify(&input, &auth, secret, now).map_err(|e| format!("{e:?}"))?;
    Ok(auth)
}

/// Whether the AWS CLI runs; missing, it fails the test only when CI requires it.
pub fn aws_cli_available() -> bool {
    let ok = std::process::Command::new("aws")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("KMS_REQUIRE_AWS_CLIENTS").is_none(),
            "the AWS CLI is required (KMS_REQUIRE_AWS_CLIENTS is set): python3 -m pip install awscli"
        );
        eprintln!("skipped: the AWS CLI is not installed (python3 -m pip install awscli)");
    }
    ok
}
