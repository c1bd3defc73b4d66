//! Shared helpers of the loopback tests: start a server on 127.0.0.1:0, sign requests
//! with the `aws-sigv4` crate, send them with hyper-util's client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kms_server::{RunningServer, ServerConfig, demo};

pub const TARGET: &str = "TrentService.DescribeCustomKeyStores";

pub async fn start(config: ServerConfig) -> RunningServer {
    kms_server::serve(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Credentials to sign with.
#[derive(Debug, Clone, Copy)]
pub struct Creds {
    pub akid: &'static str,
    pub secret: &'static str,
    pub token: Option<&'static str>,
}

pub const DEMO: Creds = Creds {
    akid: demo::ACCESS_KEY_ID,
    secret: demo::SECRET_ACCESS_KEY,
    token: None,
};
pub const DENIED: Creds = Creds {
    akid: demo::DENIED_ACCESS_KEY_ID,
    secret: demo::DENIED_SECRET_ACCESS_KEY,
    token: None,
};
pub const OTHER: Creds = Creds {
    akid: demo::OTHER_ACCESS_KEY_ID,
    secret: demo::OTHER_SECRET_ACCESS_KEY,
    token: None,
};
pub const SESSION: Creds = Creds {
    akid: demo::SESSION_ACCESS_KEY_ID,
    secret: demo::SESSION_SECRET_ACCESS_KEY,
    token: Some(demo::SESSION_TOKEN),
};

/// One request to send.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    /// Without `?`.
    pub query: Option<String>,
    pub target: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// `None`: unsigned.
    pub creds: Option<Creds>,
    pub region: String,
    pub service: String,
    /// Signing time offset from now, seconds.
    pub skew: i64,
    pub presigned: bool,
    /// Headers removed after signing.
    pub strip: Vec<&'static str>,
    /// Headers set after signing.
    pub set: Vec<(&'static str, String)>,
    /// Body sent instead of the signed one.
    pub replace_body: Option<Vec<u8>>,
}

impl Call {
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: "POST",
            path: "/".into(),
            query: None,
            target: Some(TARGET.into()),
            content_type: Some("application/x-amz-json-1.1".into()),
            body: body.into(),
            creds: Some(DEMO),
            region: demo::REGION.into(),
            service: "kms".into(),
            skew: 0,
            presigned: false,
            strip: vec![],
            set: vec![],
            replace_body: None,
        }
    }
    pub fn creds(mut self, c: Creds) -> Self {
        self.creds = Some(c);
        self
    }
    pub fn region(mut self, r: &str) -> Self {
        self.region = r.into();
        self
    }
    pub fn query(mut self, q: impl Into<String>) -> Self {
        self.query = Some(q.into());
        self
    }
}

/// A response, body parsed as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: serde_json::Value,
    pub raw: Bytes,
}

impl Answer {
    pub fn error_type(&self) -> &str {
        self.json["__type"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    /// Asserts an error response: status, `__type`, `X-Amzn-ErrorType`, request id.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}: {:?}", code, self.json);
        assert_eq!(self.error_type(), code, "{:?}", self.json);
        assert_eq!(self.headers.get("x-amzn-errortype").unwrap(), code);
        self.assert_request_id();
    }
    pub fn assert_request_id(&self) -> String {
        let id = self
            .headers
            .get("x-amzn-requestid")
            .expect("x-amzn-RequestId")
            .to_str()
            .unwrap();
        assert!(uuid_like(id), "{id}");
        assert_eq!(
            self.headers.get("content-type").unwrap(),
            "application/x-amz-json-1.1"
        );
        id.to_owned()
    }
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Signs and sends `call` to `addr`.
pub async fn send(addr: SocketAddr, call: Call) -> Answer {
    send_with(&client(), addr, call).await
}

pub async fn send_with(
    client: &Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    call: Call,
) -> Answer {
    let req = signed(addr, &call).map(|b| Full::new(Bytes::from(b)));
    let response = client.request(req).await.expect("request sent");
    let (parts, body) = response.into_parts();
    let raw = body.collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null);
    Answer {
        status: parts.status,
        headers: parts.headers,
        json,
        raw,
    }
}

/// `call` to `addr` as an HTTP/1.1 request, signed as it says, in wire form.
pub fn wire_bytes(addr: SocketAddr, call: &Call) -> Vec<u8> {
    let req = signed(addr, call);
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut out = format!("{} {target} HTTP/1.1\r\n", req.method()).into_bytes();
    for (name, value) in req.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", req.body().len()).as_bytes());
    out.extend_from_slice(req.body());
    out
}

/// The head of [`wire_bytes`] (through the blank line), without its body.
pub fn wire_head(addr: SocketAddr, call: &Call) -> Vec<u8> {
    let mut wire = wire_bytes(addr, call);
    let end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    wire.truncate(end);
    wire
}

/// `call` to `addr`, signed as it says (and altered after signing as it says).
pub fn signed(addr: SocketAddr, call: &Call) -> http::Request<Vec<u8>> {
    let uri = match &call.query {
        Some(q) => format!("http://{addr}{}?{q}", call.path),
        None => format!("http://{addr}{}", call.path),
    };
    let mut builder = http::Request::builder()
        .method(call.method)
        .uri(&uri)
        .header("host", addr.to_string());
    if let Some(ct) = &call.content_type {
        builder = builder.header("content-type", ct);
    }
    if let Some(t) = &call.target {
        builder = builder.header("x-amz-target", t);
    }
    let mut req = builder.body(call.body.clone()).unwrap();
    if let Some(c) = call.creds {
        let identity =
            Credentials::new(c.akid, c.secret, c.token.map(str::to_owned), None, "test").into();
        let mut settings = SigningSettings::default();
        if call.presigned {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(300));
        }
        let time = if call.skew >= 0 {
            SystemTime::now() + Duration::from_secs(call.skew as u64)
        } else {
            SystemTime::now() - Duration::from_secs((-call.skew) as u64)
        };
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&call.region)
            .name(&call.service)
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            call.method,
            req.uri().to_string(),
            req.headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
            SignableBody::Bytes(&call.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
    }
    for h in &call.strip {
        req.headers_mut().remove(*h);
    }
    for (h, v) in &call.set {
        req.headers_mut().insert(*h, v.parse().unwrap());
    }
    if let Some(b) = &call.replace_body {
        *req.body_mut() = b.clone();
    }
    req
}

/// Every id over all pages, following NextMarker; checks Truncated on each page.
pub async fn list_all(
    addr: SocketAddr,
    limit: Option<i32>,
    via_query: bool,
    creds: Creds,
    region: &str,
) -> Vec<String> {
    let client = client();
    let mut ids = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let call = if via_query {
            let mut q = Vec::new();
            if let Some(l) = limit {
                q.push(format!("Limit={l}"));
            }
            if let Some(m) = &marker {
                q.push(format!(
                    "Marker={}",
                    percent_encoding::utf8_percent_encode(m, percent_encoding::NON_ALPHANUMERIC)
                ));
            }
            let call = Call::new("{}");
            if q.is_empty() {
                call
            } else {
                call.query(q.join("&"))
            }
        } else {
            let mut body = serde_json::Map::new();
            if let Some(l) = limit {
                body.insert("Limit".into(), l.into());
            }
            if let Some(m) = &marker {
                body.insert("Marker".into(), m.clone().into());
            }
            Call::new(serde_json::to_vec(&body).unwrap())
        };
        let a = send_with(&client, addr, call.creds(creds).region(region)).await;
        assert_eq!(a.status, 200, "{:?}", a.json);
        let page = a.json["CustomKeyStores"]
            .as_array()
            .expect("CustomKeyStores")
            .clone();
        if let Some(l) = limit {
            assert!(page.len() <= l as usize);
        }
        ids.extend(
            page.iter()
                .map(|s| s["CustomKeyStoreId"].as_str().unwrap().to_owned()),
        );
        let truncated = a.json["Truncated"]
            .as_bool()
            .expect("Truncated always present");
        match a.json.get("NextMarker") {
            Some(m) => {
                assert!(truncated);
                let m = m.as_str().unwrap().to_owned();
                assert_ne!(Some(&m), marker.as_ref(), "repeated marker");
                marker = Some(m);
            }
            None => {
                assert!(!truncated);
                break;
            }
        }
    }
    ids
}

/// An external key store `cks-<n in hex>` of a data file, public endpoint, in `state`.
pub fn xks_entry(n: u32, name: &str, state: &str) -> serde_json::Value {
    serde_json::json!({
        "CustomKeyStoreId": format!("cks-{n:017x}"),
        "CustomKeyStoreName": name,
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "ConnectionState": state,
        "CreationDate": 1_700_000_000.0,
        "XksProxyConfiguration": {
            "Connectivity": "PUBLIC_ENDPOINT",
            "AccessKeyId": "ABCDE234567EXAMPLE22",
            "UriEndpoint": "https://xks.example.com",
            "UriPath": "/kms/xks/v1",
        },
    })
}

/// The variables `kms-server` reads its options from.
pub const SERVER_ENV: [&str; 9] = [
    "KMS_SERVER_LISTEN",
    "KMS_SERVER_CONFIG",
    "KMS_SERVER_DATA",
    "KMS_SERVER_FAIL_RATE",
    "KMS_SERVER_FAIL_FIRST",
    "KMS_SERVER_FAIL_WITH",
    "KMS_SERVER_LATENCY_MS",
    "KMS_SERVER_MARKER_KEY",
    "KMS_SERVER_ADMIN",
];

/// The `kms-server` binary, without the `KMS_SERVER_*` variables of the environment the
/// tests run in (an exported `KMS_SERVER_FAIL_RATE` would fail them).
pub fn kms_server_binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kms-server"));
    for name in SERVER_ENV {
        command.env_remove(name);
    }
    command
}

/// A command with none of the caller's AWS or Node settings, for the AWS clients the
/// tests drive (the AWS CLI, boto3, the AWS SDK for JavaScript): no `AWS_*` or `NODE_*`
/// variables, no proxy (`HTTP_PROXY`, `https_proxy`, ...), no config or credentials
/// files, no instance metadata lookups, no pager.
pub fn isolated(program: &str) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        // A proxy would take the test's loopback traffic elsewhere (Python's HTTP
        // clients read these in either case).
        let proxy = ["http_proxy", "https_proxy", "all_proxy"]
            .iter()
            .any(|p| name_str.eq_ignore_ascii_case(p));
        if name_str.starts_with("AWS_") || name_str.starts_with("NODE_") || proxy {
            command.env_remove(name);
        }
    }
    command
        .env("AWS_CONFIG_FILE", "/nonexistent/kms-server-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/kms-server-test/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // AWS CLI v2 pages its output through `less` unless told not to.
        .env("AWS_PAGER", "");
    command
}

/// A child process, killed when dropped: also when a test panics before it is done
/// with it (a banner not as expected), which would leave the server running.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How long the binary may take to print its banner.
const BANNER_WAIT: Duration = Duration::from_secs(60);

/// The running binary and the banner it printed, the lines users copy.
pub struct PrintedBanner {
    _child: Killed,
    /// The endpoint it listens on, as printed.
    pub endpoint: String,
    lines: Vec<String>,
    /// Holds `--tls-ca-out`'s file.
    _dir: tempfile::TempDir,
}

impl PrintedBanner {
    /// The banner's line starting with `prefix`, trimmed.
    pub fn line(&self, prefix: &str) -> String {
        self.lines
            .iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| {
                panic!(
                    "no line starting with {prefix:?} in the banner:\n{:#?}",
                    self.lines
                )
            })
            .to_owned()
    }
}

/// The binary over plain HTTP, or over HTTPS with a certificate made at start, with
/// `args` besides, once it has printed its banner.
pub fn print_banner(https: bool, args: &[&str]) -> PrintedBanner {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut command = kms_server_binary();
    command.args(["--listen", "127.0.0.1:0"]).args(args);
    if https {
        command
            .arg("--tls-self-signed")
            .arg("--tls-ca-out")
            .arg(dir.path().join("ca.pem"));
    }
    let mut child = Killed(
        command
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kms-server starts"),
    );
    let stdout = child.0.stdout.take().expect("piped stdout");
    // Read on a thread, which then keeps draining stdout so that the server never
    // blocks on a full pipe; waited for a bounded time, so that a banner without its
    // last line fails the test rather than hangs it.
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            // Once the banner is read, drained.
            let _ = sender.send(line);
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = match received.recv_timeout(BANNER_WAIT) {
            Ok(line) => line.expect("a banner line"),
            Err(e) => panic!("no end of the banner ({e}) after:\n{lines:#?}"),
        };
        let last = line.starts_with("Stop with Ctrl-C");
        lines.push(line);
        if last {
            break;
        }
    }
    let mut banner = PrintedBanner {
        _child: child,
        endpoint: String::new(),
        lines,
        _dir: dir,
    };
    banner.endpoint = banner
        .line("kms-server listening on ")
        .trim_start_matches("kms-server listening on ")
        .to_owned();
    banner
}
