//! Rough throughput check on loopback: the same signed `DescribeCustomKeyStores`
//! request (default body `{"Limit":10}`) sent N times over C keep-alive connections to kms-server
//! (demo data) and to a do-nothing hyper server that answers `{}`.
//!
//! `cargo run --release -p kms-server --example throughput -- [REQUESTS] [CONNECTIONS] [BODY]`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kms_server::{ServerConfig, demo};

fn signed(addr: SocketAddr, body: &str) -> http::Request<Vec<u8>> {
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/"))
        .header("host", addr.to_string())
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "TrentService.DescribeCustomKeyStores")
        .body(body.as_bytes().to_vec())
        .expect("request");
    let identity = Credentials::new(
        demo::ACCESS_KEY_ID,
        demo::SECRET_ACCESS_KEY,
        None,
        None,
        "bench",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(demo::REGION)
        .name("kms")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        req.uri().to_string(),
        req.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or(""))),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
    instructions.apply_to_request_http1x(&mut req);
    req
}

async fn load(
    addr: SocketAddr,
    body: &str,
    requests: usize,
    connections: usize,
) -> (f64, Duration) {
    let template = signed(addr, body);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let template = template.clone();
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build_http();
        tasks.push(tokio::spawn(async move {
            for _ in 0..requests / connections {
                let req = template.clone().map(|b| Full::new(Bytes::from(b)));
                let res = client.request(req).await.expect("response");
                assert_eq!(res.status(), 200);
                res.into_body().collect().await.expect("body");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let elapsed = start.elapsed();
    (requests as f64 / elapsed.as_secs_f64(), elapsed)
}

async fn do_nothing_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"{}"))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let connections: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let body = args.next().unwrap_or_else(|| r#"{"Limit":10}"#.to_owned());
    let server = kms_server::serve(ServerConfig::demo(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve");
    let baseline = do_nothing_server().await;
    // Warm up both.
    load(server.local_addr(), &body, 1000, connections).await;
    load(baseline, &body, 1000, connections).await;
    let (kms, t1) = load(server.local_addr(), &body, requests, connections).await;
    let (base, t2) = load(baseline, &body, requests, connections).await;
    println!("request body: {body}");
    println!("kms-server:        {kms:>9.0} req/s ({requests} requests in {t1:?})");
    println!("do-nothing hyper:  {base:>9.0} req/s ({requests} requests in {t2:?})");
    println!("ratio:             {:.2}", kms / base);
    server.shutdown().await;
}
