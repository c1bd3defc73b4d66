//! The HTTP service: method/path/target checks, body limit, SigV4, permissions,
//! fault injection, the routed operation, and the awsJson response with its
//! request id. A `tower::Service`, served by hyper.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use kms_types::{KmsInternalException, ValidationError};
use tokio::sync::{Semaphore, SemaphorePermit, watch};

use crate::admin::{self, Admin, Answered, Change};
use crate::auth;
use crate::config::Directory;
use crate::connections::Tracked;
use crate::handler::Context;
use crate::router::{Reply, Route, Router};
use crate::sigv4::SigningInput;

/// Where a readiness or liveness probe asks (`GET` or `HEAD`, no signature): `200`
/// with `{"status":"ok"}` once the server listens. KMS itself has no such path; every
/// other request but `POST /` is refused as KMS refuses it.
pub const HEALTH_PATH: &str = "/health";

/// Largest request body accepted (1 MiB); larger ones get `413`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
// A body's share of the budget is taken in one `Semaphore::acquire_many(u32)`.
const _: () = assert!(MAX_BODY_BYTES <= u32::MAX as usize);

/// The `ThrottlingException` message AWS sends.
pub const THROTTLING_MESSAGE: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// An error that fault injection answers a request with (`kms-server --fail-with`,
/// [`crate::ServerConfig::with_injected_errors`]): named by its wire code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InjectedError {
    /// `KMSInternalException` (500), which the SDKs retry.
    KmsInternal,
    /// `ThrottlingException` (400), which the SDKs retry with a throttling backoff.
    Throttling,
}

impl InjectedError {
    /// Every error fault injection can answer with.
    pub const ALL: [Self; 2] = [Self::KmsInternal, Self::Throttling];

    /// Its wire code (`__type`).
    pub fn code(self) -> &'static str {
        match self {
            Self::KmsInternal => KmsInternalException::CODE,
            Self::Throttling => "ThrottlingException",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::KmsInternal => 1,
            Self::Throttling => 2,
        }
    }
}

impl std::fmt::Display for InjectedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for InjectedError {
    type Err = String;

    /// Reads a wire code, as written (`ThrottlingException`).
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|e| e.code() == s)
            .ok_or_else(|| {
                let codes: Vec<_> = Self::ALL.iter().map(|e| e.code()).collect();
                format!(
                    "`{}` is not an error fault injection answers with: one of {}",
                    quoted(s),
                    codes.join(", ")
                )
            })
    }
}

/// Which [`InjectedError`]s fault injection picks from, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InjectedErrors(u8);

impl InjectedErrors {
    /// Each of them, evenly; every error when `errors` is empty.
    pub(crate) fn of(errors: impl IntoIterator<Item = InjectedError>) -> Self {
        match errors.into_iter().fold(0, |bits, e| bits | e.bit()) {
            0 => Self::all(),
            bits => Self(bits),
        }
    }

    pub(crate) fn all() -> Self {
        Self::of(InjectedError::ALL)
    }

    /// The errors, in [`InjectedError::ALL`]'s order.
    pub(crate) fn errors(self) -> impl Iterator<Item = InjectedError> {
        InjectedError::ALL
            .into_iter()
            .filter(move |e| self.0 & e.bit() != 0)
    }

    /// Their wire codes, in [`InjectedError::ALL`]'s order.
    pub(crate) fn codes(self) -> Vec<&'static str> {
        self.errors().map(InjectedError::code).collect()
    }

    /// One of them, at random.
    fn pick(self) -> InjectedError {
        let count = self.errors().count();
        let n = if count > 1 {
            rand::random::<u32>() as usize % count
        } else {
            0
        };
        self.errors().nth(n).unwrap_or(InjectedError::KmsInternal)
    }
}

/// Fault injection's settings (`--fail-rate`, `--fail-first`, `--fail-with`,
/// `--latency-ms`), shared by
/// a service and its clones, and changed while it serves by the admin endpoints (`PUT
/// /_kms-server/faults`, [`admin`]).
#[derive(Debug)]
pub(crate) struct Faults {
    /// The fail rate's `f64` bits.
    rate: AtomicU64,
    /// The [`InjectedErrors`] bits.
    errors: AtomicU8,
    /// Milliseconds each authenticated request waits before it is answered.
    latency_ms: AtomicU64,
    /// How many of the next authenticated requests fail, whatever the fail rate.
    first: AtomicU64,
}

/// What fault injection does: the fraction of authenticated requests that fail, how
/// many of the next ones fail whatever that fraction, the errors they fail with, and how
/// long each waits first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FaultSetting {
    pub(crate) rate: f64,
    pub(crate) first: u64,
    pub(crate) errors: InjectedErrors,
    pub(crate) latency: Duration,
}

/// The longest latency fault injection adds to a request: 5 minutes, longer than any
/// AWS SDK waits for an answer by default.
pub const MAX_LATENCY: Duration = Duration::from_secs(300);

impl Faults {
    fn new(rate: f64) -> Self {
        Self {
            rate: AtomicU64::new(clamp_rate(rate).to_bits()),
            errors: AtomicU8::new(InjectedErrors::all().0),
            latency_ms: AtomicU64::new(0),
            first: AtomicU64::new(0),
        }
    }

    /// Whether this request is one of the next ones that fail whatever the fail rate
    /// (and so one fewer is left).
    fn take_first(&self) -> bool {
        self.first
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The fraction of authenticated requests answered with an injected error.
    pub(crate) fn rate(&self) -> f64 {
        f64::from_bits(self.rate.load(Ordering::Relaxed))
    }

    /// The errors injected failures are answered with.
    pub(crate) fn errors(&self) -> InjectedErrors {
        InjectedErrors(self.errors.load(Ordering::Relaxed))
    }

    /// How long each authenticated request waits before it is answered.
    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }

    fn set_latency(&self, latency: Duration) {
        let ms = latency.min(MAX_LATENCY).as_millis() as u64;
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// The current setting.
    pub(crate) fn setting(&self) -> FaultSetting {
        FaultSetting {
            rate: self.rate(),
            first: self.first.load(Ordering::Relaxed),
            errors: self.errors(),
            latency: self.latency(),
        }
    }

    /// From the next request on, fails `first` of them, then `rate` of them (0 to 1),
    /// with `errors`, each after `latency`.
    pub(crate) fn set(&self, setting: FaultSetting) {
        self.rate
            .store(clamp_rate(setting.rate).to_bits(), Ordering::Relaxed);
        self.first.store(setting.first, Ordering::Relaxed);
        self.errors.store(setting.errors.0, Ordering::Relaxed);
        self.set_latency(setting.latency);
    }
}

/// Fault injection's settings of a running server or service ([`crate::RunningServer::faults`],
/// [`KmsService::faults`]), read and changed in process: what `GET` and `PUT
/// /_kms-server/faults` do over HTTP with `--admin`, without the admin endpoints. A change
/// applies from the next request on; a request already waiting out its latency keeps
/// its wait. Cheap to clone; each clone changes the same settings.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use kms_server::{InjectedError, ServerConfig};
///
/// let server = kms_server::serve(ServerConfig::demo(), "127.0.0.1:0".parse().unwrap()).await?;
/// // The next two calls are throttled, then they succeed again: a test of retries.
/// let faults = server.faults();
/// faults.set_injected_errors([InjectedError::Throttling]);
/// faults.set_failing_first(2);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FaultInjection(Arc<Shared>);

impl std::fmt::Debug for FaultInjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultInjection")
            .field("fail_rate", &self.fail_rate())
            .field("failing_first", &self.failing_first())
            .field("injected_errors", &self.injected_errors())
            .field("latency", &self.latency())
            .finish()
    }
}

impl FaultInjection {
    fn faults(&self) -> &Faults {
        &self.0.faults
    }

    /// The fraction of signed and permitted requests answered with an injected error.
    pub fn fail_rate(&self) -> f64 {
        self.faults().rate()
    }

    /// Fails `p` of the signed and permitted requests (0 to 1; NaN is 0, beyond the
    /// range is its nearer end), as `--fail-rate` does.
    pub fn set_fail_rate(&self, p: f64) {
        self.faults()
            .rate
            .store(clamp_rate(p).to_bits(), Ordering::Relaxed);
    }

    /// How many of the next signed and permitted requests are still to fail, whatever
    /// the fail rate.
    pub fn failing_first(&self) -> u64 {
        self.faults().first.load(Ordering::Relaxed)
    }

    /// Fails the next `n` signed and permitted requests whatever the fail rate (then
    /// the fail rate applies), as `--fail-first` does; 0 stops it.
    pub fn set_failing_first(&self, n: u64) {
        self.faults().first.store(n, Ordering::Relaxed);
    }

    /// The errors injected failures are answered with, in [`InjectedError::ALL`]'s order.
    pub fn injected_errors(&self) -> Vec<InjectedError> {
        self.faults().errors().errors().collect()
    }

    /// Answers injected failures with these errors, picked evenly (all of
    /// [`InjectedError::ALL`] when `errors` is empty), as `--fail-with` does.
    pub fn set_injected_errors(&self, errors: impl IntoIterator<Item = InjectedError>) {
        let errors = InjectedErrors::of(errors).0;
        self.faults().errors.store(errors, Ordering::Relaxed);
    }

    /// How long each signed and permitted request waits before it is answered.
    pub fn latency(&self) -> Duration {
        self.faults().latency()
    }

    /// Answers each signed and permitted request only after `latency` (at most
    /// [`MAX_LATENCY`]; zero for none), as `--latency-ms` does.
    pub fn set_latency(&self, latency: Duration) {
        self.faults().set_latency(latency);
    }
}

/// A fail rate within 0 to 1: beyond the range, its nearer end (1 for +∞, 0 for −∞);
/// 0 for NaN, and for -0, which would be said as `-0.0`.
pub(crate) fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0) + 0.0
    }
}

/// Most characters of a request's own text (path, method, header) that an error message
/// quotes.
pub(crate) const MAX_QUOTED: usize = 128;
/// Most characters of an error message that a log line quotes: a message may quote a
/// client's value whole (a 500,000-character name in a ValidationException), and one
/// unauthenticated request must not write a megabyte of log.
const MAX_LOGGED: usize = 512;

/// `text` as an error message quotes a request's own text: at most [`MAX_QUOTED`]
/// characters, `...` when cut.
fn quoted(text: &str) -> std::borrow::Cow<'_, str> {
    quoted_up_to(text, MAX_QUOTED)
}

/// `text`, at most `max` characters of it, `...` when cut.
pub(crate) fn quoted_up_to(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((end, _)) => format!("{}...", &text[..end]).into(),
    }
}

const X_AMZ_TARGET: http::HeaderName = http::HeaderName::from_static("x-amz-target");
const X_AMZN_REQUESTID: http::HeaderName = http::HeaderName::from_static("x-amzn-requestid");
const X_AMZN_ERRORTYPE: http::HeaderName = http::HeaderName::from_static("x-amzn-errortype");
const JSON: HeaderValue = HeaderValue::from_static(kms_types::aws_json::CONTENT_TYPE);
const XML: HeaderValue = HeaderValue::from_static("text/xml");

/// The error of a request of AWS's query protocol (another service's, STS's `AssumeRole`
/// say) as that protocol answers one: `<ErrorResponse><Error><Type>Sender</Type>
/// <Code>...</Code><Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>`.
/// The SDKs read such an answer as XML: given awsJson's JSON body, the JavaScript SDK
/// said only `@aws-sdk XML parse error: unexpected content.`, aws-sdk-kms `error parsing
/// XML: no root element` and boto3 `Unable to parse response ... invalid XML received`,
/// never the message.
fn query_error_body(code: &str, message: &str, request_id: &str) -> Vec<u8> {
    fn escaped(text: &str, out: &mut String) {
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                c => out.push(c),
            }
        }
    }
    let mut out = String::from("<ErrorResponse><Error><Type>Sender</Type><Code>");
    escaped(code, &mut out);
    out.push_str("</Code><Message>");
    escaped(message, &mut out);
    out.push_str("</Message></Error><RequestId>");
    escaped(request_id, &mut out);
    out.push_str("</RequestId></ErrorResponse>");
    out.into_bytes()
}

/// What a request of another service, sent here by an endpoint given to every service,
/// is told to do.
const KMS_ALONE: &str = "kms-server serves KMS alone: give its endpoint to KMS only \
    (AWS_ENDPOINT_URL_KMS, or endpoint_url in a [services] section), not to every service \
    (AWS_ENDPOINT_URL).";

/// The IAM Identity Center service whose API has `path`, if one does: the portal's
/// (`GetRoleCredentials`) or the OIDC one's (`CreateToken`, the SSO token's refresh).
fn sso_service(path: &str) -> Option<&'static str> {
    if path.starts_with("/federation/") {
        Some("the IAM Identity Center portal (GetRoleCredentials)")
    } else if matches!(
        path,
        "/token" | "/client/register" | "/device_authorization"
    ) {
        Some("IAM Identity Center's OIDC service (the SSO token's refresh)")
    } else {
        None
    }
}

/// Everything a request needs, shared by all connections.
#[derive(Debug)]
pub struct Shared {
    pub(crate) router: Router,
    pub(crate) directory: Directory,
    pub(crate) faults: Faults,
    pub(crate) body_limit: usize,
}

/// The KMS endpoint as a `tower::Service` (cheap to clone).
#[derive(Debug, Clone)]
pub struct KmsService {
    shared: Arc<Shared>,
    body_read_timeout: Duration,
    /// One permit per byte of request body the service (and its clones) may hold at once.
    body_budget: Arc<Semaphore>,
    /// The connection this clone serves, when the server tracks which ones are idle.
    connection: Option<Arc<Tracked>>,
    /// Changes (or closes) when the server stops: a request waiting out its latency is
    /// then answered at once.
    stopped: Option<watch::Receiver<()>>,
}

impl KmsService {
    /// A service routing to `router`, authenticating against `directory`, failing
    /// `fail_rate` of authenticated requests on purpose.
    pub fn new(router: Router, directory: Directory, fail_rate: f64) -> Self {
        Self {
            shared: Arc::new(Shared {
                router,
                directory,
                faults: Faults::new(fail_rate),
                body_limit: MAX_BODY_BYTES,
            }),
            body_read_timeout: crate::DEFAULT_HEADER_READ_TIMEOUT,
            body_budget: Arc::new(Semaphore::new(crate::DEFAULT_MAX_BODY_MEMORY)),
            connection: None,
            stopped: None,
        }
    }

    /// Answers a request still waiting out its latency at once when `stopped` changes
    /// or its sender is dropped (the server stops), instead of holding up the stop.
    pub(crate) fn with_stop_signal(mut self, stopped: watch::Receiver<()>) -> Self {
        self.stopped = Some(stopped);
        self
    }

    /// Answers injected failures (the `fail_rate` of [`Self::new`]) with these errors,
    /// picked evenly (all of [`InjectedError::ALL`] by default, and when `errors` is
    /// empty). The setting is this service's and its clones', made before or after.
    pub fn with_injected_errors(self, errors: impl IntoIterator<Item = InjectedError>) -> Self {
        self.faults().set_injected_errors(errors);
        self
    }

    /// Fails the next `n` authenticated requests, whatever the fail rate, with the
    /// injected errors (then the fail rate applies): a deterministic failure, for a test of
    /// retries. The setting is this service's and its clones', made before or after.
    pub fn with_failing_first(self, n: u64) -> Self {
        self.faults().set_failing_first(n);
        self
    }

    /// Answers each authenticated request only after `latency` (at most
    /// [`MAX_LATENCY`]; none by default): a slow KMS, for testing the timeouts of the code
    /// that calls it. The wait is tokio's timer; off tokio, there is none. The setting is
    /// this service's and its clones', made before or after.
    pub fn with_latency(self, latency: Duration) -> Self {
        self.faults().set_latency(latency);
        self
    }

    /// Fault injection's settings, to read or change while this service (and its
    /// clones) serve.
    pub fn faults(&self) -> FaultInjection {
        FaultInjection(Arc::clone(&self.shared))
    }

    /// This service, for one connection, counting its requests in flight there.
    pub(crate) fn for_connection(&self, connection: &Arc<Tracked>) -> Self {
        Self {
            connection: Some(Arc::clone(connection)),
            ..self.clone()
        }
    }

    /// How many bytes of request bodies the service holds at once, all connections
    /// together (64 MiB by default; at least [`MAX_BODY_BYTES`], so that any body fits):
    /// a request takes its share as its body comes (all of a `Content-Length` before the
    /// body is read, a chunked body frame by frame) and gives it back once answered. One
    /// that finds the budget spent waits for it within the body read timeout, and is
    /// then answered `408`, saying the server had no room for its body. The service's
    /// clones made after this share its budget.
    pub fn with_max_body_memory(mut self, bytes: usize) -> Self {
        let permits = bytes.clamp(MAX_BODY_BYTES, Semaphore::MAX_PERMITS);
        self.body_budget = Arc::new(Semaphore::new(permits));
        self
    }

    /// How long a client may take to send a request's body once its headers are in
    /// (10 s by default); a body still incomplete then gets `408
    /// RequestTimeoutException` and the connection is closed.
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// `read`, or `None` when it is not done within the body read timeout. A body
    /// that is already in (the usual case: it came with the headers) sets no timer.
    async fn within_body_read_timeout<F: Future>(&self, read: F) -> Option<F::Output> {
        let mut read = std::pin::pin!(read);
        if let Poll::Ready(done) =
            std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await
        {
            return Some(done);
        }
        if tokio::runtime::Handle::try_current().is_err() {
            // Not on tokio (an embedder's executor): no timer to wait with.
            return Some(read.await);
        }
        tokio::time::timeout(self.body_read_timeout, read)
            .await
            .ok()
    }

    /// Answers one request (never fails: every problem is a JSON error response).
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        self.respond(&parts, body).await
    }

    /// [`Self::handle`] of a request taken apart. The parts are borrowed all the
    /// way down, so that the future holds them once (a request is a few hundred
    /// bytes; each async layer taking it by value would keep its own copy, and a
    /// larger future costs a slower allocation per request).
    async fn respond<B>(&self, parts: &Parts, body: B) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        // A v4 UUID from the thread-local CSPRNG (no system call per request),
        // written on the stack.
        let mut request_id = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let request_id: &str = uuid::Builder::from_random_bytes(rand::random())
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut request_id);
        let path = parts.uri.path();
        let mut outcome = Outcome {
            probe: path == HEALTH_PATH && matches!(parts.method, Method::GET | Method::HEAD),
            ..Outcome::default()
        };
        // With the admin endpoints on, the journal counts each KMS request in flight,
        // and keeps it once answered (health probes and admin calls are not KMS's).
        let begun = match self.shared.router.admin() {
            Some(admin) if !outcome.probe && !path.starts_with(admin::PREFIX) => {
                Some(admin.journal().begin())
            }
            _ => None,
        };
        outcome.journaled = begun.is_some();
        let reply = self.process(parts, body, request_id, &mut outcome).await;
        let status = reply.status;
        // What a refused or failed request was told, for its log line.
        let told = reply
            .error_code
            .map(|_| kms_types::aws_json::parse_error(None, &reply.body).message);
        // Entered before it is answered: a client that has its answer finds it.
        if let Some(begun) = begun {
            let header = |name: &str| {
                let value = parts.headers.get(name)?;
                Some(quoted(&String::from_utf8_lossy(value.as_bytes())).into_owned())
            };
            begun.record(Answered {
                request_id: request_id.to_owned(),
                time: SystemTime::now(),
                target: header(X_AMZ_TARGET.as_str()),
                query: parts.uri.query().map(admin::masked_query),
                injected: outcome.injected,
                sdk_invocation_id: header("amz-sdk-invocation-id"),
                sdk_request: header("amz-sdk-request"),
                operation: outcome.operation,
                access_key_id: crate::sigv4::claimed_access_key(&parts.headers, parts.uri.query()),
                account: outcome.account.clone(),
                region: outcome.region.take(),
                body: outcome.body.take(),
                body_bytes: outcome.body_bytes,
                status,
                error_code: reply.error_code,
                // As in the log line, a message quoting an `Authorization` header
                // loses its signature.
                error_message: told.clone().flatten().map(|m| {
                    let cut = quoted_up_to(&m, admin::JOURNAL_MAX_MESSAGE);
                    kms_types::sigv4::mask_signatures(&cut).into_owned()
                }),
            });
        }
        let (body, content_type) = match (outcome.query_protocol, reply.error_code) {
            (true, Some(code)) => {
                let message = told.clone().flatten().unwrap_or_default();
                (query_error_body(code, &message, request_id), XML)
            }
            _ => (reply.body, JSON),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, content_type);
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert(X_AMZN_REQUESTID, v);
        }
        if let Some(code) = reply.error_code {
            headers.insert(X_AMZN_ERRORTYPE, HeaderValue::from_static(code));
        }
        if outcome.close {
            headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == 405 {
            let allow = outcome.allow.unwrap_or("POST");
            headers.insert(http::header::ALLOW, HeaderValue::from_static(allow));
        }
        match reply.error_code {
            None if outcome.probe => {
                tracing::debug!(request_id = %request_id, path = HEALTH_PATH, status, "probe");
            }
            None => tracing::info!(
                request_id = %request_id,
                operation = outcome.operation.unwrap_or("-"),
                account = outcome.account.as_deref().unwrap_or("-"),
                status,
                error = "-",
                latency_us = started.elapsed().as_micros() as u64,
                "request"
            ),
            // A refused or failed request also says which access key it claimed and
            // what it was told: the line alone tells a wrong secret from a wrong region.
            Some(code) => {
                let claimed = crate::sigv4::claimed_access_key(&parts.headers, parts.uri.query());
                tracing::info!(
                    request_id = %request_id,
                    operation = outcome.operation.unwrap_or("-"),
                    account = outcome.account.as_deref().unwrap_or("-"),
                    status,
                    error = code,
                    latency_us = started.elapsed().as_micros() as u64,
                    access_key = claimed.as_deref().unwrap_or("-"),
                    // Messages that quote an `Authorization` header lose its signature.
                    error_message = told
                        .flatten()
                        .as_deref()
                        .map_or("-".into(), |m| {
                            // Cut, then masked: a signature cut short is masked too.
                            kms_types::sigv4::mask_signatures(&quoted_up_to(m, MAX_LOGGED))
                                .into_owned()
                        })
                        .as_str(),
                    "request"
                );
            }
        }
        response
    }

    async fn process<B>(
        &self,
        parts: &Parts,
        body: B,
        request_id: &str,
        outcome: &mut Outcome,
    ) -> Reply
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let shared = &*self.shared;
        if outcome.probe {
            return Reply::ok(br#"{"status":"ok"}"#.to_vec());
        }
        if let Some(admin) = shared.router.admin()
            && parts.uri.path().starts_with(admin::PREFIX)
        {
            // Boxed: its state would otherwise widen every request's future.
            return Box::pin(self.admin(admin, parts, body, outcome)).await;
        }
        let route = match self.route_of(parts, outcome) {
            Ok(route) => route,
            Err(reply) => {
                // Unread body bytes must not be taken for the next request: the answer
                // says the connection closes (hyper closes it) unless all of it is in.
                outcome.close |= !body_is_in(parts, body, shared.body_limit).await;
                return reply;
            }
        };
        let operation = route.descriptor();
        // Authentication as far as the head goes, before the body is read: a request
        // refused here holds none of its body, and gets the answer it would get with it.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let head = SigningInput {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &[],
        };
        let unverified =
            match auth::check_head(&shared.directory, &head, operation.signing_name, now) {
                Ok(unverified) => unverified,
                Err(refusal) => {
                    // Unread body bytes must not be taken for the next request.
                    outcome.close = !body_is_in(parts, body, shared.body_limit).await;
                    return Reply::error(400, refusal.code, refusal.message);
                }
            };
        // The body's share of the budget is held until the request is answered.
        let (body, _budget) = match self.read_request_body(body, outcome).await {
            Ok(read) => read,
            Err(reply) => return reply,
        };
        if outcome.journaled {
            outcome.body_bytes = Some(body.len());
            if body.len() <= admin::JOURNAL_MAX_BODY {
                // A copy: the body may be a slice of a larger receive buffer.
                outcome.body = Some(Bytes::copy_from_slice(&body));
            }
        }
        let input = SigningInput {
            body: &body,
            ..head
        };
        let caller = unverified.verify(&input, |principal, region, _| Caller {
            principal: Arc::clone(principal),
            region: region.to_owned(),
        });
        let caller = match caller {
            Ok(caller) => caller,
            Err(refusal) => return Reply::error(400, refusal.code, refusal.message),
        };
        outcome.account = Some(Arc::clone(&caller.principal.account));
        if outcome.journaled {
            outcome.region = Some(caller.region.clone());
        }
        if let Err(refusal) = auth::authorize(&caller.principal, route.action()) {
            return Reply::error(400, refusal.code, refusal.message);
        }
        let latency = shared.faults.latency();
        if !latency.is_zero() && tokio::runtime::Handle::try_current().is_ok() {
            let waited = tokio::time::sleep(latency);
            match self.stopped.clone() {
                // A stopping server answers at once: a client that gave up on a slow
                // answer must not hold up the stop for the rest of its latency.
                Some(mut stopped) => tokio::select! {
                    () = waited => {}
                    _ = stopped.changed() => {}
                },
                None => waited.await,
            }
        }
        let fail_rate = shared.faults.rate();
        if shared.faults.take_first() || (fail_rate > 0.0 && rand::random::<f64>() < fail_rate) {
            outcome.injected = true;
            return match shared.faults.errors().pick() {
                InjectedError::KmsInternal => Reply::error(
                    500,
                    KmsInternalException::CODE,
                    "Injected failure (kms-server's fault injection: --fail-rate or --fail-first, or ServerConfig::with_fail_rate or with_failing_first in code): the request was not processed.",
                ),
                InjectedError::Throttling => {
                    Reply::error(400, InjectedError::Throttling.code(), THROTTLING_MESSAGE)
                }
            };
        }
        let ctx = Context {
            account_id: Arc::clone(&caller.principal.account),
            region: caller.region,
            principal_arn: Arc::clone(&caller.principal.arn),
            request_id: request_id.to_owned(),
        };
        route.call(ctx, &body, parts.uri.query()).await
    }
}

impl KmsService {
    /// The route of a KMS request (`POST /` with a served `X-Amz-Target`, of an accepted
    /// `Content-Type`, not declaring a body over the limit), or the answer refusing it
    /// (its body unread). Admin requests are not KMS requests: they go to [`Self::admin`].
    fn route_of(&self, parts: &Parts, outcome: &mut Outcome) -> Result<&Arc<dyn Route>, Reply> {
        let shared = &*self.shared;
        let path = parts.uri.path();
        if path != "/" {
            let hint = if shared.router.admin().is_none() && path.starts_with(admin::PREFIX) {
                " (The admin endpoints are off: start kms-server with --admin; in code, \
                 ServerConfig::with_admin_endpoints, or Router::with_admin for a router of \
                 your own.)"
                    .to_owned()
            } else if let Some(service) = sso_service(path) {
                format!(
                    " This is a request to {service}, for a profile with sso_ settings. {KMS_ALONE}"
                )
            } else {
                String::new()
            };
            return Err(Reply::error(
                404,
                "UnknownOperationException",
                format!(
                    "No such resource: {}. Send POST / with an X-Amz-Target header.{hint}",
                    quoted(path),
                ),
            ));
        }
        if parts.method != Method::POST {
            return Err(Reply::error(
                405,
                "UnknownOperationException",
                format!(
                    "Method {} is not allowed: send POST / with an X-Amz-Target header.",
                    quoted(parts.method.as_str())
                ),
            ));
        }
        let Some(route) = parts
            .headers
            .get(&X_AMZ_TARGET)
            .and_then(|t| t.to_str().ok())
            .and_then(|t| shared.router.route(t))
        else {
            let message = match parts.headers.get(&X_AMZ_TARGET) {
                // Another service's request, of AWS's query protocol (STS's AssumeRole
                // for a profile that assumes a role, say), sent here by an endpoint set
                // for every service.
                None if parts.headers.get(CONTENT_TYPE).is_some_and(|ct| {
                    ct.as_bytes()
                        .starts_with(b"application/x-www-form-urlencoded")
                }) =>
                {
                    // Answered in that protocol's XML, which its SDK reads.
                    outcome.query_protocol = true;
                    format!(
                        "Missing X-Amz-Target header: this request is of AWS's query \
                         protocol (application/x-www-form-urlencoded), another service's \
                         (STS's AssumeRole, for a profile that assumes a role). {KMS_ALONE}"
                    )
                }
                // A presigned request whose presigner moved the header into the query
                // (`@smithy/signature-v4`'s `presign` hoists every `x-amz-*` header).
                None if parts
                    .uri
                    .query()
                    .is_some_and(|q| crate::sigv4::has_query_param(q, "X-Amz-Target")) =>
                {
                    "Missing X-Amz-Target header: the query string has an X-Amz-Target, which \
                     kms-server reads from the header only. Send it as a header; a presigner moves it \
                     to the query unless told not to (@smithy/signature-v4's presign: \
                     unhoistableHeaders: new Set([\"x-amz-target\"]))."
                        .to_owned()
                }
                None => "Missing X-Amz-Target header".to_owned(),
                // Code under test that calls another KMS operation learns what is served.
                Some(t) => {
                    let mut served: Vec<_> = shared.router.targets().collect();
                    served.sort_unstable();
                    format!(
                        "Unknown operation: {}. This kms-server serves {}.",
                        quoted(&String::from_utf8_lossy(t.as_bytes())),
                        if served.is_empty() {
                            "no operation".to_owned()
                        } else {
                            served.join(", ")
                        }
                    )
                }
            };
            return Err(Reply::error(400, "UnknownOperationException", message));
        };
        outcome.operation = Some(route.descriptor().name);
        if let Some(ct) = parts.headers.get(CONTENT_TYPE) {
            let media = ct
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim();
            if !media.eq_ignore_ascii_case(kms_types::aws_json::CONTENT_TYPE)
                && !media.eq_ignore_ascii_case("application/json")
            {
                return Err(Reply::error(
                    400,
                    "SerializationException",
                    format!(
                        "Unsupported Content-Type '{}': send application/x-amz-json-1.1",
                        quoted(media)
                    ),
                ));
            }
        }
        if declared_too_large(parts, shared.body_limit) {
            outcome.close = true;
            return Err(too_large(shared.body_limit));
        }
        Ok(route)
    }

    /// The request's body, read within the body limit, the body budget and the body
    /// read timeout, with its share of the budget (held until the request is answered);
    /// or the error answer, the connection to be closed.
    async fn read_request_body<B>(
        &self,
        body: B,
        outcome: &mut Outcome,
    ) -> Result<(Bytes, Option<SemaphorePermit<'_>>), Reply>
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let limit = self.shared.body_limit;
        // Set while the read waits for room in the budget: a request timed out then was
        // not slow to send its body, the server was full.
        let waiting = AtomicBool::new(false);
        let read = read_body(body, limit, &self.body_budget, &waiting);
        let refusal = match self.within_body_read_timeout(read).await {
            Some(Ok(read)) => return Ok(read),
            None => {
                let ms = self.body_read_timeout.as_millis();
                let message = if waiting.load(Ordering::Relaxed) {
                    format!(
                        "The request body could not be read within {ms} ms of its headers: \
                         the server held as many request body bytes as it may \
                         (kms-server --max-body-memory) all that time"
                    )
                } else {
                    format!("The request body did not arrive within {ms} ms of its headers")
                };
                Reply::error(408, "RequestTimeoutException", message)
            }
            Some(Err(BodyError::TooLarge)) => too_large(limit),
            Some(Err(BodyError::Read(e))) => Reply::error(
                400,
                "SerializationException",
                format!("could not read the request body: {}", with_causes(&e)),
            ),
        };
        outcome.close = true;
        Err(refusal)
    }

    /// A request to the admin endpoints ([`admin`]), which `admin` serves.
    async fn admin<B>(
        &self,
        admin: &Arc<Admin>,
        parts: &Parts,
        body: B,
        outcome: &mut Outcome,
    ) -> Reply
    where
        B: Body,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let path = parts.uri.path();
        let call = match admin::Call::of(parts.method.as_str(), path) {
            Some(Ok(call)) => call,
            Some(Err(allow)) => {
                outcome.allow = Some(allow);
                return Reply::error(
                    405,
                    "UnknownOperationException",
                    format!(
                        "Method {} is not allowed: send {} {path}.",
                        quoted(parts.method.as_str()),
                        allow.replace(", ", " or ")
                    ),
                );
            }
            None => {
                return Reply::error(
                    404,
                    "UnknownOperationException",
                    format!(
                        "No such resource: {}. The admin endpoints are {}.",
                        quoted(path),
                        admin::Call::LISTED
                    ),
                );
            }
        };
        outcome.operation = Some(call.name());
        let faults = &self.shared.faults;
        // A body's share of the budget is held until the change is done.
        let (body, _budget) = match call {
            admin::Call::PutStores | admin::Call::PutFaults => {
                if declared_too_large(parts, self.shared.body_limit) {
                    outcome.close = true;
                    return too_large(self.shared.body_limit);
                }
                match self.read_request_body(body, outcome).await {
                    Ok(read) => read,
                    Err(reply) => return reply,
                }
            }
            admin::Call::Reset
            | admin::Call::GetStores
            | admin::Call::GetFaults
            | admin::Call::GetRequests
            | admin::Call::DeleteRequests => (Bytes::new(), None),
        };
        match call {
            admin::Call::PutStores | admin::Call::Reset => {
                let (change, status, code, undone) = if call == admin::Call::PutStores {
                    (
                        Change::Replace(body),
                        400,
                        ValidationError::CODE,
                        "replaced",
                    )
                } else {
                    (Change::Reset, 500, "DataFileException", "reset")
                };
                match Arc::clone(admin).apply(change).await {
                    Ok(stores) => {
                        if call == admin::Call::Reset {
                            faults.set(admin.starting_faults());
                            admin.journal().clear();
                        }
                        tracing::info!(stores, "admin: {}: serving new stores", call.name());
                        Reply::ok(admin::store_count(stores))
                    }
                    Err(e) => {
                        Reply::error(status, code, format!("The stores were not {undone}: {e}"))
                    }
                }
            }
            admin::Call::GetFaults => Reply::ok(admin::faults_json(faults.setting())),
            admin::Call::GetRequests => Reply::ok(admin.journal().to_json(false)),
            admin::Call::GetStores => match admin.stores_json() {
                Ok(stores) => Reply::ok(stores),
                Err(e) => Reply::error(
                    400,
                    ValidationError::CODE,
                    format!("The stores were not listed: {e}"),
                ),
            },
            admin::Call::DeleteRequests => Reply::ok(admin.journal().to_json(true)),
            admin::Call::PutFaults => match admin::parse_faults(&body) {
                Ok(setting) => {
                    faults.set(setting);
                    tracing::info!(
                        fail_rate = setting.rate,
                        fail_first = setting.first,
                        fail_with = setting.errors.codes().join(",").as_str(),
                        latency_ms = setting.latency.as_millis() as u64,
                        "admin: {}: faults changed",
                        call.name()
                    );
                    Reply::ok(admin::faults_json(faults.setting()))
                }
                Err(e) => Reply::error(
                    400,
                    ValidationError::CODE,
                    format!("The faults were not changed: {e}"),
                ),
            },
        }
    }
}

/// `error` and its causes, `: `-separated: hyper's body error says only "error reading a
/// body from connection"; its cause says what was wrong ("invalid chunk size: overflow",
/// "end of file before message length reached"). Each cause is cut to [`MAX_QUOTED`]
/// characters (one may quote a client's trailer).
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        // A wrapper whose Display already says its cause's.
        if !out.ends_with(text.as_str()) {
            out.push_str(": ");
            out.push_str(&quoted(&text));
        }
        cause = e.source();
    }
    out
}

/// Whether the request's `Content-Length` says more than `limit` bytes.
fn declared_too_large(parts: &Parts, limit: usize) -> bool {
    parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64)
}

/// The answer to a body over `limit` bytes.
fn too_large(limit: usize) -> Reply {
    Reply::error(
        413,
        "RequestEntityTooLargeException",
        format!("Request body is larger than {limit} bytes"),
    )
}

/// Why [`read_body`] gave up.
#[derive(Debug)]
enum BodyError<E> {
    /// More than the limit (as `http_body_util::Limited` counts: data frames only).
    TooLarge,
    /// The body failed.
    Read(E),
}

/// The body's data frames, concatenated, refusing more than `limit` bytes — what
/// `Limited::new(body, limit).collect()` and `to_bytes()` give, without their
/// frame queue and boxed errors: the usual body is one frame, kept as it is — and the
/// share of `budget` it holds, a permit a byte: all of its exact size (its
/// `Content-Length`) before it is read, else frame by frame as it comes, waiting while
/// the budget is spent. `limit` must be within the budget's permits.
async fn read_body<'b, B: Body>(
    body: B,
    limit: usize,
    budget: &'b Semaphore,
    waiting: &AtomicBool,
) -> Result<(Bytes, Option<SemaphorePermit<'b>>), BodyError<B::Error>> {
    let mut body = std::pin::pin!(body);
    let mut held = None;
    // The size the body says it has (0: unknown), for its share and its buffer.
    let mut size = 0;
    if let Some(exact) = body.size_hint().exact()
        && let Ok(exact) = usize::try_from(exact)
        && exact <= limit
    {
        size = exact;
        reserve(budget, &mut held, size, waiting).await;
    }
    let mut first: Option<Bytes> = None;
    let mut more: Option<BytesMut> = None;
    let mut remaining = limit;
    while let Some(frame) = body.frame().await {
        let Ok(mut data) = frame.map_err(BodyError::Read)?.into_data() else {
            continue;
        };
        let n = data.remaining();
        if n > remaining {
            return Err(BodyError::TooLarge);
        }
        remaining -= n;
        reserve(budget, &mut held, limit - remaining, waiting).await;
        let chunk = data.copy_to_bytes(n);
        match (&mut first, &mut more) {
            (None, _) => first = Some(chunk),
            (Some(head), None) => {
                // Sized to the whole body when its size is known: grown by doubling, a
                // buffer held up to twice the bytes its share of the budget counts.
                let mut joined = BytesMut::with_capacity(size.max(head.len() + chunk.len()));
                joined.extend_from_slice(head);
                joined.extend_from_slice(&chunk);
                more = Some(joined);
            }
            (Some(_), Some(joined)) => joined.extend_from_slice(&chunk),
        }
    }
    let body = match (first, more) {
        (_, Some(joined)) => joined.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    };
    Ok((body, held))
}

/// Takes from `budget` what `bytes` (at most [`MAX_BODY_BYTES`]) need beyond what `held`
/// holds, waiting for it while the budget is spent.
async fn reserve<'b>(
    budget: &'b Semaphore,
    held: &mut Option<SemaphorePermit<'b>>,
    bytes: usize,
    waiting: &AtomicBool,
) {
    let have = held.as_ref().map_or(0, SemaphorePermit::num_permits);
    let Some(wanted) = bytes.checked_sub(have).filter(|&n| n > 0) else {
        return;
    };
    // The budget is never closed, and `wanted` fits a `u32` (a const assertion says so).
    waiting.store(true, Ordering::Relaxed);
    let acquired = budget.acquire_many(wanted as u32).await;
    waiting.store(false, Ordering::Relaxed);
    if let Ok(more) = acquired {
        match held {
            Some(held) => held.merge(more),
            None => *held = Some(more),
        }
    }
}

/// Whether all of `body` is in already, taken without waiting and dropped (at most
/// `limit` bytes): a request answered without reading its body keeps its connection only
/// then. A body that its client sends only once told to (`Expect: 100-continue`) is not
/// asked for.
async fn body_is_in<B: Body>(parts: &Parts, body: B, limit: usize) -> bool {
    if body.is_end_stream() {
        return true;
    }
    if parts.headers.contains_key(http::header::EXPECT) {
        return false;
    }
    let mut body = std::pin::pin!(body);
    let mut left = limit;
    std::future::poll_fn(|cx| {
        loop {
            match body.as_mut().poll_frame(cx) {
                Poll::Ready(None) => return Poll::Ready(true),
                Poll::Ready(Some(Ok(frame))) => {
                    let n = frame.data_ref().map_or(0, Buf::remaining);
                    if n > left {
                        return Poll::Ready(false);
                    }
                    left -= n;
                    if body.is_end_stream() {
                        return Poll::Ready(true);
                    }
                }
                Poll::Ready(Some(Err(_))) | Poll::Pending => return Poll::Ready(false),
            }
        }
    })
    .await
}

/// What the service keeps of the caller.
struct Caller {
    principal: Arc<crate::config::Principal>,
    region: String,
}

#[derive(Default)]
struct Outcome {
    operation: Option<&'static str>,
    account: Option<Arc<str>>,
    close: bool,
    /// A health probe (`GET` or `HEAD /health`): answered without a signature, logged at
    /// debug level only, as probes come every few seconds.
    probe: bool,
    /// A KMS request the journal keeps (admin endpoints on): what it was is noted below.
    journaled: bool,
    /// The method a `405` names in its `Allow` header, when not `POST`.
    allow: Option<&'static str>,
    /// Its error is one fault injection chose.
    injected: bool,
    /// For the journal (admin endpoints on): the region the request was signed for,
    /// its body (when small enough to keep) and its size.
    region: Option<String>,
    body: Option<Bytes>,
    body_bytes: Option<usize>,
    /// A request of AWS's query protocol (another service's): its error is answered
    /// in that protocol's XML ([`query_error_body`]).
    query_protocol: bool,
}

impl<B> tower::Service<Request<B>> for KmsService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let this = self.clone();
        let (parts, body) = request.into_parts();
        Box::pin(async move {
            let _in_flight = this.connection.as_deref().map(Tracked::start);
            Ok(this.respond(&parts, body).await)
        })
    }
}

#[cfg(test)]
mod injected_error_tests {
    use super::*;

    #[test]
    fn wire_codes_are_read_as_written() {
        for error in InjectedError::ALL {
            assert_eq!(error.code().parse::<InjectedError>(), Ok(error));
        }
        assert_eq!(
            "throttlingexception".parse::<InjectedError>(),
            Err(
                "`throttlingexception` is not an error fault injection answers with: one of \
                 KMSInternalException, ThrottlingException"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_pick_is_one_of_the_chosen() {
        let both = InjectedErrors::of([]);
        assert_eq!(both, InjectedErrors::all());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.insert(both.pick());
        }
        assert_eq!(seen.len(), 2, "both are picked");
        let one = InjectedErrors::of([InjectedError::Throttling, InjectedError::Throttling]);
        assert!((0..50).all(|_| one.pick() == InjectedError::Throttling));
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;
    use http_body_util::StreamBody;
    use hyper::body::Frame;

    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn body(items: Vec<Item>) -> StreamBody<futures::stream::Iter<std::vec::IntoIter<Item>>> {
        StreamBody::new(futures::stream::iter(items))
    }

    fn data(s: &'static str) -> Item {
        Ok(Frame::data(Bytes::from_static(s.as_bytes())))
    }

    fn read(items: Vec<Item>, limit: usize) -> Result<Bytes, String> {
        let budget = Semaphore::new(MAX_BODY_BYTES);
        futures::executor::block_on(read_body(
            body(items),
            limit,
            &budget,
            &AtomicBool::new(false),
        ))
        .map(|(body, _)| body)
        .map_err(|e| match e {
            BodyError::TooLarge => "too large".to_owned(),
            BodyError::Read(e) => e.to_string(),
        })
    }

    /// What `Limited` + `collect` + `to_bytes` answer, for comparison.
    fn limited(items: Vec<Item>, limit: usize) -> Result<Bytes, String> {
        futures::executor::block_on(http_body_util::Limited::new(body(items), limit).collect())
            .map(|c| c.to_bytes())
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    "too large".to_owned()
                } else {
                    e.to_string()
                }
            })
    }

    #[test]
    fn read_body_answers_what_limited_collect_answers() {
        type Case = (fn() -> Vec<Item>, usize);
        let cases: Vec<Case> = vec![
            (Vec::new, 0),
            (|| vec![data("{}")], 2),
            (|| vec![data("{}")], 1),
            (
                || vec![data("{\"Li"), data("mit\":"), data(""), data("5}")],
                12,
            ),
            (|| vec![data("{\"Li"), data("mit\":"), data("5}")], 11),
            (
                || {
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("x-t", http::HeaderValue::from_static("1"));
                    vec![data("ab"), Ok(Frame::trailers(trailers)), data("c")]
                },
                3,
            ),
            (
                || vec![data("ab"), Err(std::io::Error::other("connection reset"))],
                10,
            ),
        ];
        for (items, limit) in cases {
            let ours = read(items(), limit);
            assert_eq!(ours, limited(items(), limit), "limit {limit}");
        }
        assert_eq!(read(vec![data("{}")], 1), Err("too large".to_owned()));
        assert_eq!(
            read(vec![data("a"), data("b"), data("c")], 3).unwrap(),
            Bytes::from_static(b"abc")
        );
    }

    /// A body of unknown size (chunked) takes its share of the budget frame by frame as
    /// it comes, waits while the budget is spent, and holds its share until dropped.
    #[test]
    fn a_chunked_body_takes_the_budget_frame_by_frame() {
        let budget = Semaphore::new(5);
        // Says while the read waits for the budget (what a timeout then is blamed on).
        let waiting = AtomicBool::new(false);
        futures::executor::block_on(async {
            let elsewhere = budget.try_acquire_many(2).unwrap();
            let frames = vec![data("ab"), data("cd")];
            let mut read = std::pin::pin!(read_body(body(frames), 5, &budget, &waiting));
            // "ab" fits what is left (3), "cd" does not: it waits, first in line for
            // what frees up (the last permit is set aside for it).
            assert!(futures::poll!(read.as_mut()).is_pending());
            assert!(waiting.load(Ordering::Relaxed));
            assert_eq!(budget.available_permits(), 0);
            drop(elsewhere);
            let (bytes, held) = read.await.map_err(|_| "read").unwrap();
            assert!(!waiting.load(Ordering::Relaxed));
            assert_eq!(bytes, Bytes::from_static(b"abcd"));
            assert_eq!(held.as_ref().map(SemaphorePermit::num_permits), Some(4));
            assert_eq!(budget.available_permits(), 1);
            drop(held);
            assert_eq!(budget.available_permits(), 5);
        });
    }

    /// A body of known size, counting the frames asked of it.
    struct Sized<'c> {
        frames: std::collections::VecDeque<&'static str>,
        asked: &'c std::cell::Cell<usize>,
    }

    impl Body for Sized<'_> {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut TaskContext<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.asked.set(self.asked.get() + 1);
            let frame = self.frames.pop_front();
            Poll::Ready(frame.map(|f| Ok(Frame::data(Bytes::from_static(f.as_bytes())))))
        }

        fn size_hint(&self) -> hyper::body::SizeHint {
            hyper::body::SizeHint::with_exact(self.frames.iter().map(|f| f.len() as u64).sum())
        }
    }

    /// A body of known size (a `Content-Length`) takes all its share before any of it is
    /// read; a refused one gives back what it took.
    #[test]
    fn a_sized_body_takes_its_share_before_it_is_read() {
        let budget = Semaphore::new(5);
        let asked = std::cell::Cell::new(0);
        let waiting = AtomicBool::new(false);
        futures::executor::block_on(async {
            let elsewhere = budget.try_acquire_many(2).unwrap();
            let sized = Sized {
                frames: ["ab", "cd"].into(),
                asked: &asked,
            };
            let mut read = std::pin::pin!(read_body(sized, 5, &budget, &waiting));
            assert!(futures::poll!(read.as_mut()).is_pending());
            assert_eq!(asked.get(), 0, "read before its share was taken");
            drop(elsewhere);
            let (bytes, held) = read.await.map_err(|_| "read").unwrap();
            assert_eq!(bytes, Bytes::from_static(b"abcd"));
            assert_eq!(held.as_ref().map(SemaphorePermit::num_permits), Some(4));
            drop(held);
            let too_large = read_body(body(vec![data("abc"), data("def")]), 5, &budget, &waiting);
            assert!(matches!(too_large.await, Err(BodyError::TooLarge)));
            assert_eq!(budget.available_permits(), 5);
        });
    }
}
