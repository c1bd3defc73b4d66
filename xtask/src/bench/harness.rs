//! `bench-harness`: the release-built processes that `cargo xtask bench` drives.
//!
//! Built as an example of the xtask package (`cargo build --profile bench -p xtask
//! --example bench-harness`) so that the heavy dependencies (kms-server, kms-client,
//! aws-sdk-kms, hyper) are dev-dependencies of xtask and never slow down `cargo xtask`.
//!
//! Subcommands (each prints machine-readable `KEY value` lines on stdout):
//! - `serve --stores N`: kms-server (library API, demo config + N generated stores) on
//!   127.0.0.1:0; prints `READY <endpoint>` and serves until stdin closes.
//! - `baseline --body FILE [--verify sigv4]`: the no-work baseline — a minimal hyper HTTP/1
//!   server that answers every `POST /` with the bytes of FILE; `READY <endpoint>`, until stdin
//!   closes. With `--verify sigv4` it first authenticates the request as kms-server does
//!   (`kms_server::auth::authenticate` against the demo accounts) and answers 403 if that
//!   fails: the floor that signature checking alone puts under any KMS stand-in.
//! - `prepare --endpoint URL --lua FILE [--body-out FILE]`: signs one DescribeCustomKeyStores
//!   request (fresh X-Amz-Date), checks that the endpoint answers it with 200, saves the
//!   response body, and writes a wrk Lua script sending exactly that signed request.
//! - `clients --endpoint URL --rounds R --calls N`: kms-client against aws-sdk-kms, alternated:
//!   a full pagination (limit 1000) and N sequential single calls; prints `RESULT <json>`.
//! - `rss`: prints this process's VmRSS (for sanity checks of the RSS reader).

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail, ensure};
use bytes::Bytes;
use futures::TryStreamExt;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kms_server::demo;

const TARGET: &str = "TrentService.DescribeCustomKeyStores";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        bail!("usage: bench-harness serve|baseline|prepare|clients|rss [options]");
    };
    let opts = Options::parse(rest)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    match command.as_str() {
        "serve" => runtime.block_on(serve(opts.usize("stores")?)),
        "baseline" => {
            let verify = match opts.optional("verify") {
                None => false,
                Some("sigv4") => true,
                Some(other) => bail!("--verify {other}: only `sigv4` is known"),
            };
            runtime.block_on(baseline(opts.path("body")?, verify))
        }
        "prepare" => runtime.block_on(prepare(
            opts.string("endpoint")?,
            opts.path("lua")?,
            opts.optional("body-out").map(PathBuf::from),
        )),
        "clients" => runtime.block_on(clients(
            opts.string("endpoint")?,
            opts.usize("rounds")?,
            opts.usize("calls")?,
        )),
        "rss" => {
            println!("RSS_KB {}", rss_kb()?);
            Ok(())
        }
        other => bail!("unknown subcommand `{other}`"),
    }
}

/// `--key value` pairs.
struct Options(Vec<(String, String)>);

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let mut pairs = Vec::new();
        let mut it = args.iter();
        while let Some(key) = it.next() {
            let key = key
                .strip_prefix("--")
                .ok_or_else(|| anyhow!("expected --option, got `{key}`"))?;
            let value = it.next().ok_or_else(|| anyhow!("--{key} needs a value"))?;
            pairs.push((key.to_owned(), value.clone()));
        }
        Ok(Self(pairs))
    }
    fn optional(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn string(&self, key: &str) -> Result<String> {
        self.optional(key)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("missing --{key}"))
    }
    fn path(&self, key: &str) -> Result<PathBuf> {
        self.string(key).map(PathBuf::from)
    }
    fn usize(&self, key: &str) -> Result<usize> {
        let text = self.string(key)?;
        text.parse()
            .with_context(|| format!("--{key} {text}: not a number"))
    }
}

/// This process's resident set size in KiB, from /proc/self/status.
fn rss_kb() -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/self/status"))
}

/// Blocks (off the runtime) until stdin reaches end of file: the parent closed it.
async fn stdin_closed() {
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        let stdin = std::io::stdin();
        let mut lock = stdin.lock();
        while lock.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    })
    .await;
}

fn announce(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

async fn serve(stores: usize) -> Result<()> {
    let rss_start = rss_kb()?;
    let started = Instant::now();
    let mut config = kms_server::ServerConfig::demo();
    if stores > 0 {
        config = config.with_generated_stores(stores);
    }
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
    let server = kms_server::serve(config, addr)
        .await
        .context("starting kms-server")?;
    let load = started.elapsed();
    announce(&[
        format!("RSS_START_KB {rss_start}"),
        format!("LOAD_MS {:.1}", load.as_secs_f64() * 1e3),
        format!("READY {}", server.endpoint()),
    ]);
    stdin_closed().await;
    server.shutdown().await;
    Ok(())
}

async fn baseline(body: PathBuf, verify: bool) -> Result<()> {
    let body =
        Bytes::from(std::fs::read(&body).with_context(|| format!("reading {}", body.display()))?);
    let directory = Arc::new(kms_server::Directory::new(&kms_server::FileConfig::demo()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the baseline server")?;
    let addr = listener.local_addr()?;
    announce(&[format!("READY http://{addr}")]);
    let accept = async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            let directory = Arc::clone(&directory);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let body = body.clone();
                    let directory = Arc::clone(&directory);
                    async move {
                        // Read the request body, as any server must to keep the connection.
                        let (parts, incoming) = request.into_parts();
                        let received = incoming
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let status = if verify && !authentic(&directory, &parts, &received) {
                            403
                        } else {
                            200
                        };
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .status(status)
                                .header("content-type", CONTENT_TYPE)
                                .header("x-amzn-requestid", "00000000-0000-4000-8000-000000000000")
                                .body(Full::new(body))
                                .expect("a valid response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    };
    tokio::select! {
        () = accept => Ok(()),
        () = stdin_closed() => Ok(()),
    }
}

/// Whether the request's SigV4 signature holds, checked as kms-server checks it.
fn authentic(
    directory: &kms_server::Directory,
    parts: &hyper::http::request::Parts,
    body: &[u8],
) -> bool {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let input = kms_server::sigv4::SigningInput {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    kms_server::auth::authenticate(directory, &input, "kms", now).is_ok()
}

/// The SigV4 headers of one DescribeCustomKeyStores request to `endpoint` with `body`.
fn sign(endpoint: &str, body: &[u8]) -> Result<Vec<(String, String)>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;

    let host = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("the endpoint must be http://host:port, got {endpoint}"))?
        .trim_end_matches('/')
        .to_owned();
    let mut headers = vec![
        ("host".to_owned(), host),
        ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
        ("x-amz-target".to_owned(), TARGET.to_owned()),
    ];
    let identity = aws_credential_types::Credentials::new(
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
        .context("signing parameters")?
        .into();
    let url = format!("{}/", endpoint.trim_end_matches('/'));
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .context("a signable request")?;
    let (instructions, _signature) = sign(signable, &params).context("signing")?.into_parts();
    for (name, value) in instructions.headers() {
        headers.push((name.to_owned(), value.to_owned()));
    }
    Ok(headers)
}

fn lua_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `x-amz-date` → `X-Amz-Date`.
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

async fn prepare(endpoint: String, lua: PathBuf, body_out: Option<PathBuf>) -> Result<()> {
    let body: &[u8] = b"{}";
    let headers = sign(&endpoint, body)?;

    // One request with exactly these headers: it must succeed, and its body is what the
    // baseline will answer.
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("{}/", endpoint.trim_end_matches('/')));
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let request = request.body(Full::new(Bytes::from_static(body)))?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .context("the signed request timed out")?
        .context("sending the signed request")?;
    let status = response.status();
    let response_body = response.into_body().collect().await?.to_bytes();
    ensure!(
        status.is_success(),
        "{endpoint} answered the signed request with {status}: {}",
        String::from_utf8_lossy(&response_body)
    );
    let decoded: kms_types::DescribeCustomKeyStoresResponse =
        kms_types::aws_json::decode(&response_body).context("decoding the response")?;
    let entries = decoded.custom_key_stores.map_or(0, |s| s.len());
    if let Some(path) = body_out {
        std::fs::write(&path, &response_body)
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let mut script = String::from(
        "-- Generated by bench-harness prepare: one SigV4-signed DescribeCustomKeyStores request.\n\
         wrk.method = \"POST\"\nwrk.path = \"/\"\n",
    );
    script.push_str(&format!(
        "wrk.body = {}\n",
        lua_string(std::str::from_utf8(body)?)
    ));
    for (name, value) in &headers {
        // wrk adds its own `Host` and `Content-Length` unless the script sets them under
        // exactly those names; a second Host header would break the signature.
        script.push_str(&format!(
            "wrk.headers[{}] = {}\n",
            lua_string(&header_case(name)),
            lua_string(value)
        ));
    }
    script.push_str(
        r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"#,
    );
    std::fs::write(&lua, script).with_context(|| format!("writing {}", lua.display()))?;
    announce(&[
        format!("STATUS {}", status.as_u16()),
        format!("RESPONSE_BYTES {}", response_body.len()),
        format!("ENTRIES {entries}"),
    ]);
    Ok(())
}

fn ours(endpoint: &str) -> Result<kms_client::Client> {
    let config = kms_client::Config::builder()
        .endpoint(endpoint)
        .region(demo::REGION)
        .credentials(kms_client::Credentials::new(
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY,
            None,
        ))
        .build()
        .context("kms-client config")?;
    Ok(kms_client::Client::new(config))
}

fn sdk(endpoint: &str) -> aws_sdk_kms::Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .region(aws_sdk_kms::config::Region::new(demo::REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY,
            None,
            None,
            "bench",
        ))
        .http_client(http)
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

async fn ours_paginate(client: &kms_client::Client) -> Result<usize> {
    let items: Vec<_> = client
        .describe_custom_key_stores()
        .limit(1000)
        .into_paginator()
        .items()
        .try_collect()
        .await
        .map_err(|e| anyhow!("kms-client pagination: {e}"))?;
    Ok(items.len())
}

async fn sdk_paginate(client: &aws_sdk_kms::Client) -> Result<usize> {
    let items: Vec<_> = client
        .describe_custom_key_stores()
        .limit(1000)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| {
            anyhow!(
                "aws-sdk-kms pagination: {}",
                aws_sdk_kms::error::DisplayErrorContext(e)
            )
        })?;
    Ok(items.len())
}

async fn ours_single(client: &kms_client::Client, calls: usize) -> Result<usize> {
    let mut seen = 0;
    for _ in 0..calls {
        let page = client
            .describe_custom_key_stores()
            .limit(1)
            .send()
            .await
            .map_err(|e| anyhow!("kms-client call: {e}"))?;
        seen += page.custom_key_stores.map_or(0, |s| s.len());
    }
    Ok(seen)
}

async fn sdk_single(client: &aws_sdk_kms::Client, calls: usize) -> Result<usize> {
    let mut seen = 0;
    for _ in 0..calls {
        let page = client
            .describe_custom_key_stores()
            .limit(1)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "aws-sdk-kms call: {}",
                    aws_sdk_kms::error::DisplayErrorContext(e)
                )
            })?;
        seen += page.custom_key_stores().len();
    }
    Ok(seen)
}

async fn timed<F: Future<Output = Result<usize>>>(f: F) -> Result<(f64, usize)> {
    let start = Instant::now();
    let n = f.await?;
    Ok((start.elapsed().as_secs_f64() * 1e3, n))
}

async fn clients(endpoint: String, rounds: usize, calls: usize) -> Result<()> {
    let ours = ours(&endpoint)?;
    let sdk = sdk(&endpoint);

    // Warm-up: connections, lazy statics, credentials caches.
    let expected = ours_paginate(&ours).await?;
    let sdk_count = sdk_paginate(&sdk).await?;
    ensure!(
        expected == sdk_count,
        "kms-client saw {expected} stores, aws-sdk-kms {sdk_count}"
    );
    ours_single(&ours, 20).await?;
    sdk_single(&sdk, 20).await?;

    let mut result = serde_json::json!({
        "stores": expected,
        "calls": calls,
        "paginate_ours_ms": [], "paginate_sdk_ms": [],
        "single_ours_ms": [], "single_sdk_ms": [],
    });
    for round in 0..rounds {
        // Alternate which client goes first so neither always meets a warmer machine.
        let ours_first = round % 2 == 0;
        for which in [ours_first, !ours_first] {
            let (ms, n) = if which {
                timed(ours_paginate(&ours)).await?
            } else {
                timed(sdk_paginate(&sdk)).await?
            };
            ensure!(
                n == expected,
                "a pagination returned {n} stores, not {expected}"
            );
            let key = if which {
                "paginate_ours_ms"
            } else {
                "paginate_sdk_ms"
            };
            result[key]
                .as_array_mut()
                .expect("an array")
                .push(ms.into());
        }
        for which in [ours_first, !ours_first] {
            let (ms, n) = if which {
                timed(ours_single(&ours, calls)).await?
            } else {
                timed(sdk_single(&sdk, calls)).await?
            };
            ensure!(n == calls, "{calls} single calls returned {n} stores");
            let key = if which {
                "single_ours_ms"
            } else {
                "single_sdk_ms"
            };
            result[key]
                .as_array_mut()
                .expect("an array")
                .push(ms.into());
        }
    }
    announce(&[format!("RESULT {result}")]);
    Ok(())
}
