//! The client: one pooled HTTP(S) connection manager, SigV4 signing per attempt, and a
//! request layer generic over [`kms_types::OperationShape`] around one non-generic (boxed)
//! exchange, so that callers compile only the encoding and decoding of their operations.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue,
    PROXY_AUTHORIZATION, USER_AGENT,
};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kms_types::{Operation, OperationError, OperationShape, Validate, aws_json, sigv4};

use crate::config::{CaBundle, Config, ConfigError, Overrides, check_endpoint, check_region};
use crate::credentials::{Credentials, CredentialsCache, FetchContext};
use crate::error::{Error, ErrorMeta, TimeoutKind, chain};
use crate::proxy::{ProxyConfig, ProxyConnector};
use crate::retry;

/// Response bodies larger than this are refused with [`Error::ResponseTooLarge`], not
/// retried (a full DescribeCustomKeyStores page of 1,000 stores is under 1 MiB). One
/// whose `Content-Length` says so is refused before its body is read.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Response bodies holding more JSON values than this (objects, arrays, strings,
/// numbers …) are not decoded: a body of 32 MiB of `{},{},…` would otherwise become
/// eleven million structures, gigabytes in memory. A page of 1,000 stores holds about
/// 15,000. Counted only in bodies over 256 KiB.
pub const MAX_RESPONSE_VALUES: usize = 200_000;

/// Bodies up to this size are decoded without counting their values: at most about
/// 90,000, a few dozen MiB even as empty structures.
const VALUES_COUNTED_ABOVE: usize = 256 * 1024;

const SDK_NAME: &str = "kms-client-rust";
const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Receives the text of every signed request (with secrets masked) when `--debug` is on.
pub type DebugSink = Arc<dyn Fn(&str) + Send + Sync>;

/// A KMS client. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    /// Shared by clones, and kept by [`Client::with_debug_sink`].
    credentials: Arc<CredentialsCache>,
    /// The retries this client (and its clones) may still make.
    quota: Arc<retry::RetryQuota>,
    http: HttpClient,
    uri: Uri,
    host: HeaderValue,
    /// The endpoint's path as SigV4 canonicalizes it.
    canonical_path: String,
    user_agent: HeaderValue,
    x_amz_user_agent: HeaderValue,
    /// `Proxy-Authorization` for a forwarding proxy with credentials (http endpoints).
    proxy_authorization: Option<HeaderValue>,
    /// `proxy http://… (from HTTPS_PROXY)` when requests go through one, for messages.
    via_proxy: Option<String>,
    debug: Option<DebugSink>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("debug", &self.inner.debug.is_some())
            .finish()
    }
}

/// The pooled HTTP(S) client: KMS calls, and STS calls for assumed roles.
pub(crate) type HttpClient = HyperClient<Connector, Full<Bytes>>;

/// HTTP and HTTPS (rustls on ring; Mozilla's roots or the configured CA bundle), or
/// HTTP alone without the `rustls` feature; all of it within the connect timeout.
#[cfg(feature = "rustls")]
type Connector = ConnectWithin<hyper_rustls::HttpsConnector<ProxyConnector>>;
#[cfg(not(feature = "rustls"))]
type Connector = ConnectWithin<ProxyConnector>;

/// TCP (direct or through `proxy`), then TLS for https endpoints (trusting `ca_bundle`,
/// else Mozilla's roots), all within `limit`.
fn connector(limit: Duration, proxy: &ProxyConfig, ca_bundle: Option<&CaBundle>) -> Connector {
    let mut http = HttpConnector::new();
    // Per address, when a name has several (the limit is shared among them); the
    // whole connection, TLS included, is bounded by `ConnectWithin`.
    http.set_connect_timeout(Some(limit));
    http.set_nodelay(true);
    http.enforce_http(false);
    let tcp = ProxyConnector::new(http, proxy);
    #[cfg(feature = "rustls")]
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(crate::tls::client_config(ca_bundle))
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    #[cfg(not(feature = "rustls"))]
    let connector = tcp;
    #[cfg(not(feature = "rustls"))]
    let _ = ca_bundle;
    ConnectWithin { connector, limit }
}

/// The pooled client over `connector` (idle connections kept for a minute).
fn pooled(connector: Connector) -> HttpClient {
    HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector)
}

/// An HTTP(S) client that never goes through a proxy, made on first use: for the
/// container credentials endpoint, which botocore too reaches directly whatever the
/// proxy settings (its token and the role's credentials must not cross a proxy).
#[derive(Clone)]
pub(crate) struct DirectHttp {
    limit: Duration,
    ca_bundle: Option<CaBundle>,
    client: Arc<OnceLock<HttpClient>>,
}

impl DirectHttp {
    /// With `config`'s connect timeout and CA bundle.
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            limit: config.timeouts.connect,
            ca_bundle: config.ca_bundle.clone(),
            client: Arc::default(),
        }
    }

    /// The client, made the first time.
    pub(crate) fn get(&self) -> &HttpClient {
        self.client.get_or_init(|| {
            pooled(connector(
                self.limit,
                &ProxyConfig::default(),
                self.ca_bundle.as_ref(),
            ))
        })
    }
}

impl fmt::Debug for DirectHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectHttp")
            .field("limit", &self.limit)
            .field("made", &self.client.get().is_some())
            .finish()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connector whose connections — TCP, a proxy's `CONNECT`, the TLS handshake — are
/// established within `limit` ([`Timeouts::connect`](crate::Timeouts)), or fail with
/// [`ConnectTimedOut`].
#[derive(Clone)]
pub(crate) struct ConnectWithin<C> {
    connector: C,
    limit: Duration,
}

/// Establishing a connection took longer than the connect timeout.
#[derive(Debug)]
pub(crate) struct ConnectTimedOut;

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connecting timed out")
    }
}

impl std::error::Error for ConnectTimedOut {}

impl<C> tower_service::Service<Uri> for ConnectWithin<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        self.connector.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.connector.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(ConnectTimedOut.into()),
            }
        })
    }
}

/// Whether connecting timed out: the whole connection ([`ConnectTimedOut`]), or TCP
/// to each address (hyper-util's timeout, or the system's).
fn is_connect_timeout(e: &hyper_util::client::legacy::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<ConnectTimedOut>()
            || (e.is_connect()
                && s.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut))
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// What one attempt signs with, and the SDK headers that number it.
struct Signing<'a> {
    credentials: &'a Credentials,
    invocation_id: HeaderValue,
    attempt: u32,
    max: u32,
}

/// The Host header value for an endpoint, as SigV4 canonicalizes it: the host, plus
/// the port when it is not the scheme's default.
pub(crate) fn host_header(uri: &Uri) -> Option<String> {
    let authority = uri.authority()?;
    let host = authority.host();
    if host.is_empty() {
        return None;
    }
    // A port the URI parser keeps but cannot read (`:99999`, `:`) must not silently
    // become the scheme's default port: the request would go elsewhere.
    let after_user = authority
        .as_str()
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, h)| h);
    let port = match after_user.strip_prefix(host)?.strip_prefix(':') {
        None => None,
        Some(digits) => Some(digits.parse::<u16>().ok()?),
    };
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    Some(match port {
        Some(p) if p != default_port => format!("{host}:{p}"),
        _ => host.to_owned(),
    })
}

/// The request URI (its path at least `/`) and `Host` header of an endpoint, or `None`
/// when it cannot be sent to. [`check_endpoint`] asks this too, so that a `Config` it
/// accepted is one [`Client::try_new`] accepts.
pub(crate) fn endpoint_uri(endpoint: &str) -> Option<(Uri, HeaderValue)> {
    let mut uri: Uri = endpoint.parse().ok()?;
    if uri.path().is_empty() || uri.path_and_query().is_none() {
        let mut parts = uri.into_parts();
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        uri = Uri::from_parts(parts).ok()?;
    }
    let host = HeaderValue::from_str(&host_header(&uri)?).ok()?;
    Some((uri, host))
}

impl Client {
    /// A client for `config`.
    ///
    /// # Panics
    ///
    /// When `config` cannot be used: an endpoint or region that is not valid, or an
    /// `https://` endpoint without the `rustls` feature. A `Config` from
    /// [`Config::builder`] or [`Config::from_env`] has its endpoint and region checked
    /// already, but not against this crate's features: without `rustls`, the endpoint
    /// such a `Config` resolves when none is set (`https://kms.{region}…`) panics here.
    /// [`Client::try_new`] (as [`Client::from_env`]) reports the problem as an error
    /// instead.
    pub fn new(config: Config) -> Self {
        Self::try_new(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A client for `config`, failing with [`Error::Config`] when it cannot be used: an
    /// endpoint that is not an `http(s)://` URL with a host (or carries user info, a
    /// query or a fragment) is [`ConfigError::InvalidEndpoint`] /
    /// [`ConfigError::EndpointUserInfo`], a region that is not a region name
    /// [`ConfigError::InvalidRegion`], an `https://` endpoint without the `rustls` feature
    /// [`ConfigError::HttpsUnsupported`]. `Config`'s builder and [`Config::from_env`]
    /// check the endpoint and region already, so with the `rustls` feature it only fails
    /// for hand-built or modified configs; without it, also for any `https://` endpoint,
    /// the one a region resolves to when no endpoint is set included.
    pub fn try_new(config: Config) -> Result<Self, Error> {
        check_endpoint(&config.endpoint, "Config.endpoint")?;
        check_region(&config.region, "Config.region")?;
        let invalid = || {
            Error::Config(Box::new(ConfigError::InvalidEndpoint {
                value: config.endpoint.clone(),
                origin: "Config.endpoint".to_owned(),
            }))
        };
        let (uri, host) = endpoint_uri(&config.endpoint).ok_or_else(invalid)?;
        if uri.scheme_str() == Some("https") && !cfg!(feature = "rustls") {
            return Err(Error::Config(Box::new(ConfigError::HttpsUnsupported {
                value: config.endpoint.clone(),
            })));
        }
        let canonical_path = sigv4::canonical_path(uri.path());
        let os = std::env::consts::OS;
        let user_agent =
            HeaderValue::from_str(&format!("{SDK_NAME}/{SDK_VERSION} os/{os} lang/rust"))
                .expect("ASCII");
        let x_amz_user_agent = HeaderValue::from_str(&format!(
            "{SDK_NAME}/{SDK_VERSION} api/kms/{SDK_VERSION} os/{os} lang/rust"
        ))
        .expect("ASCII");
        let (via_proxy, proxy_authorization) = match config.proxy.via(&uri) {
            Some(via) => (Some(via.description), via.forward_authorization),
            None => (None, None),
        };
        let http = pooled(connector(
            config.timeouts.connect,
            &config.proxy,
            config.ca_bundle.as_ref(),
        ));
        let credentials = Arc::new(CredentialsCache::new(
            config.credentials.clone(),
            FetchContext {
                http: http.clone(),
                direct: DirectHttp::new(&config),
                proxy: config.proxy.clone(),
                attempt_timeout: config.timeouts.attempt,
                process_timeout: config.timeouts.total,
                mfa_prompt: config.mfa_prompt.clone(),
                assumed_role_cache: config.assumed_role_cache.clone(),
            },
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                credentials,
                quota: Arc::default(),
                config,
                http,
                uri,
                host,
                canonical_path,
                user_agent,
                x_amz_user_agent,
                proxy_authorization,
                via_proxy,
                debug: None,
            }),
        })
    }

    /// A client configured from the environment and the shared AWS files
    /// (see [`Config::from_env`]).
    pub fn from_env() -> Result<Self, Error> {
        Self::try_new(Config::from_env()?)
    }

    /// Like [`Client::from_env`], with command-line overrides (profile, region, endpoint).
    pub fn from_env_with(overrides: &Overrides) -> Result<Self, Error> {
        Self::try_new(Config::from_env_with(
            &|k| std::env::var(k).ok(),
            overrides,
        )?)
    }

    /// Sends the text of every signed request to `sink` (signature and session token
    /// masked, the secret key is never part of a request).
    pub fn with_debug_sink(self, sink: DebugSink) -> Self {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            config: shared.config.clone(),
            credentials: shared.credentials.clone(),
            quota: shared.quota.clone(),
            http: shared.http.clone(),
            uri: shared.uri.clone(),
            host: shared.host.clone(),
            canonical_path: shared.canonical_path.clone(),
            user_agent: shared.user_agent.clone(),
            x_amz_user_agent: shared.x_amz_user_agent.clone(),
            proxy_authorization: shared.proxy_authorization.clone(),
            via_proxy: shared.via_proxy.clone(),
            debug: None,
        });
        Self {
            inner: Arc::new(Inner {
                debug: Some(sink),
                ..inner
            }),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The retry quota this client and its clones share (see [`retry::RetryQuota`]).
    pub fn retry_quota(&self) -> &retry::RetryQuota {
        &self.inner.quota
    }

    /// Calls `Op` with `input`: validates it (unless turned off), then sends it signed,
    /// retrying what may be retried, within the configured timeouts.
    ///
    /// `Op` is any operation generated into `kms_types` (its marker type, e.g.
    /// `kms_types::DescribeCustomKeyStores`), or by `kms_macros::generate!` from another
    /// model: what the call needs — target, signing name, input, output and modeled
    /// errors — is all in [`OperationShape`]. A modeled error of `Op` is
    /// [`Error::DescribeCustomKeyStores`] for that operation and [`Error::Modeled`] for
    /// any other ([`Error::modeled`] gives it back typed).
    pub async fn call<Op: OperationShape>(&self, input: &Op::Input) -> Result<Op::Output, Error> {
        let op = Op::OPERATION;
        if self.inner.config.validate_input {
            input.validate().map_err(|error| Error::InvalidInput {
                operation: op.name,
                error,
            })?;
        }
        let body = Bytes::from(
            serde_json::to_vec(input).map_err(|e| Error::Signing(format!("encoding: {e}")))?,
        );
        // `--debug` shows the body, unless the input has `@sensitive` members (a
        // password, a secret key): then the input's `Debug`, which masks them.
        let shown = self.inner.debug.as_ref().and_then(|_| {
            let debug = format!("{input:?}");
            debug
                .contains(&format!("{:?}", kms_types::Redacted))
                .then(|| Arc::<str>::from(debug))
        });
        let answer = self
            .exchange(op, Payload { body, shown }, modeled_error::<Op>)
            .await?;
        aws_json::decode::<Op::Output>(&answer.body).map_err(|e| Error::InvalidResponse {
            operation: op.name,
            status: answer.status,
            message: e.to_string(),
            request_id: answer.request_id,
        })
    }

    /// Sends the encoded input of `op` with retries and timeouts, and answers the body
    /// of its successful response. Not generic, and boxed: the HTTP stack, signing and
    /// the retry loop are compiled once, in this crate, rather than again in every
    /// crate that calls an operation.
    fn exchange(
        &self,
        op: Operation,
        payload: Payload,
        modeled: DecodeModeledError,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, Error>> + Send + '_>> {
        Box::pin(self.exchange_with_retries(op, payload, modeled))
    }

    async fn exchange_with_retries(
        &self,
        op: Operation,
        payload: Payload,
        modeled: DecodeModeledError,
    ) -> Result<Answer, Error> {
        let invocation_id =
            HeaderValue::from_str(&invocation_id()).expect("a UUID is a valid header value");
        let cfg = &self.inner.config;
        // Once per call: a long pagination picks up refreshed credentials page by page.
        let obtained = self
            .inner
            .credentials
            .get()
            .await
            .map_err(Error::Credentials)?;
        if let (Some(sink), Some(note)) = (&self.inner.debug, &obtained.note) {
            sink(note);
        }
        let credentials = obtained.credentials;
        let total = cfg.timeouts.total;
        let start = tokio::time::Instant::now();
        let max = cfg.retry.max_attempts.max(1);
        let mut last_attempt = 0;
        let result = retry::run_with_quota(
            &cfg.retry,
            total,
            &self.inner.quota,
            |attempt| {
                last_attempt = attempt;
                let payload = payload.clone();
                let invocation_id = invocation_id.clone();
                let credentials = &credentials;
                async move {
                    let remaining = total.saturating_sub(start.elapsed());
                    let (limit, is_total) = if remaining < cfg.timeouts.attempt {
                        (remaining, true)
                    } else {
                        (cfg.timeouts.attempt, false)
                    };
                    let fut = self.attempt(
                        op,
                        payload,
                        modeled,
                        Signing {
                            credentials,
                            invocation_id,
                            attempt,
                            max,
                        },
                    );
                    match tokio::time::timeout(limit, fut).await {
                        Ok(r) => r,
                        Err(_) => Err(Error::Timeout {
                            endpoint: cfg.endpoint.clone(),
                            limit: if is_total { total } else { limit },
                            kind: if is_total {
                                TimeoutKind::Total
                            } else {
                                TimeoutKind::Attempt
                            },
                            attempts: attempt,
                        }),
                    }
                }
            },
            Error::retry_cost,
        )
        .await;
        result.map_err(|mut e| {
            e.set_attempts(last_attempt, max);
            e
        })
    }

    /// One signed HTTP exchange.
    async fn attempt(
        &self,
        op: Operation,
        payload: Payload,
        modeled: DecodeModeledError,
        signing: Signing<'_>,
    ) -> Result<Answer, Error> {
        let inner = &*self.inner;
        let attempt = signing.attempt;
        let Payload { body, shown } = payload;
        let request = self.build_signed(op, body.clone(), signing)?;
        if let Some(sink) = &inner.debug {
            sink(&format_debug_request(
                &request,
                &body,
                shown.as_deref(),
                attempt,
            ));
        }
        drop(body);
        let response = inner
            .http
            .request(request)
            .await
            .map_err(|e| self.transport(e, attempt))?;
        let (parts, body) = response.into_parts();
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let request_id = header("x-amzn-requestid")
            .or_else(|| header("x-amz-request-id"))
            .map(str::to_owned);
        let status = parts.status.as_u16();
        let too_large = |announced: Option<u64>| Error::ResponseTooLarge {
            endpoint: inner.config.endpoint.clone(),
            status,
            limit: MAX_RESPONSE_BYTES,
            announced,
            request_id: request_id.clone(),
        };
        let announced = header("content-length").and_then(|n| n.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(too_large(announced));
        }
        let body = match Limited::new(body, MAX_RESPONSE_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(too_large(None));
            }
            Err(e) => {
                return Err(Error::ResponseBody {
                    endpoint: inner.config.endpoint.clone(),
                    proxy: inner.via_proxy.clone(),
                    status,
                    message: chain(&*e),
                    source: e,
                    attempts: attempt,
                });
            }
        };
        let readable = !has_too_many_values(&body);
        if parts.status.is_success() {
            if !readable {
                return Err(Error::InvalidResponse {
                    operation: op.name,
                    status,
                    message: format!(
                        "the body ({} bytes) holds more than {MAX_RESPONSE_VALUES} JSON \
                         values, more than kms-client decodes",
                        body.len()
                    ),
                    request_id,
                });
            }
            return Ok(Answer {
                status,
                request_id,
                body,
            });
        }
        // An error body too large to decode still has its status and error-type header.
        let body = if readable { body } else { Bytes::new() };
        let (code, message) =
            error_code_and_message(parts.status, header("x-amzn-errortype"), &body);
        let meta = ErrorMeta {
            operation: op.name,
            status,
            code,
            message,
            request_id,
            attempts: attempt,
            max_attempts_reached: false,
        };
        let modeled = meta
            .code
            .as_deref()
            .and_then(|code| modeled(code, &body, &meta));
        Err(Error::from_response(meta, modeled))
    }

    fn transport(&self, e: hyper_util::client::legacy::Error, attempt: u32) -> Error {
        let endpoint = self.inner.config.endpoint.clone();
        if is_connect_timeout(&e) {
            return Error::Timeout {
                endpoint,
                limit: self.inner.config.timeouts.connect,
                kind: TimeoutKind::Connect,
                attempts: attempt,
            };
        }
        let mut message = chain(&e);
        if crate::tls::is_plain_text_answer(&e) {
            message.push_str(
                " (the endpoint answered in plain text, not TLS: a plain-HTTP server, such as \
                 kms-server without --tls-self-signed, takes an http:// endpoint)",
            );
        }
        let proxy = self.inner.via_proxy.clone();
        if crate::tls::is_rejected_certificate(&e) {
            return Error::Certificate {
                endpoint,
                proxy,
                message,
                source: Box::new(e),
            };
        }
        Error::Transport {
            endpoint,
            proxy,
            message,
            source: Some(Box::new(e)),
            attempts: attempt,
        }
    }

    /// Builds the request of one attempt and signs it (fresh `X-Amz-Date`).
    fn build_signed(
        &self,
        op: Operation,
        body: Bytes,
        Signing {
            credentials,
            invocation_id,
            attempt,
            max,
        }: Signing<'_>,
    ) -> Result<Request<Full<Bytes>>, Error> {
        let inner = &*self.inner;
        let sdk_request = HeaderValue::from_str(&format!("attempt={attempt}; max={max}"))
            .expect("ASCII header value");
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(inner.uri.clone());
        {
            let h = builder.headers_mut().expect("builder has no error yet");
            h.insert(HOST, inner.host.clone());
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_static(aws_json::CONTENT_TYPE),
            );
            h.insert(
                HeaderName::from_static("x-amz-target"),
                HeaderValue::from_static(op.target),
            );
            h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            h.insert(USER_AGENT, inner.user_agent.clone());
            h.insert(
                HeaderName::from_static("x-amz-user-agent"),
                inner.x_amz_user_agent.clone(),
            );
            h.insert(
                HeaderName::from_static("amz-sdk-invocation-id"),
                invocation_id,
            );
            h.insert(HeaderName::from_static("amz-sdk-request"), sdk_request);
        }
        let unix_secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Every header is signed but User-Agent, as the AWS SDKs do.
        let headers = builder
            .headers_ref()
            .expect("builder has no error yet")
            .iter()
            .filter(|(name, _)| *name != USER_AGENT)
            .map(|(name, value)| {
                let value = value.to_str().map_err(|_| {
                    Error::Signing(format!(
                        "the {name} header is not ASCII, so cannot be signed"
                    ))
                })?;
                Ok((name.as_str(), value))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let signed = sigv4::sign(
            credentials,
            &sigv4::Request {
                method: "POST",
                path: &inner.canonical_path,
                query: "",
                headers: &headers,
                payload: &body,
            },
            &inner.config.region,
            op.signing_name,
            unix_secs,
        );
        let header_value = |name: &str, value: &str| {
            HeaderValue::from_str(value).map_err(|_| {
                Error::Signing(format!(
                    "the {name} header would not be a valid header value"
                ))
            })
        };
        {
            let h = builder.headers_mut().expect("builder has no error yet");
            h.insert(
                HeaderName::from_static("x-amz-date"),
                header_value("x-amz-date", &signed.amz_date)?,
            );
            if let Some(token) = &credentials.session_token {
                h.insert(
                    HeaderName::from_static("x-amz-security-token"),
                    header_value("x-amz-security-token", token)?,
                );
            }
            h.insert(
                AUTHORIZATION,
                header_value("authorization", &signed.authorization)?,
            );
            // For the proxy, not the service: never signed.
            if let Some(proxy_authorization) = &inner.proxy_authorization {
                h.insert(PROXY_AUTHORIZATION, proxy_authorization.clone());
            }
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| Error::Signing(e.to_string()))?;
        Ok(request)
    }

    /// `DescribeCustomKeyStores`: set filters and paging, then `send()` or `into_paginator()`.
    pub fn describe_custom_key_stores(&self) -> crate::operation::DescribeCustomKeyStoresFluent {
        crate::operation::DescribeCustomKeyStoresFluent::new(self.clone())
    }
}

/// The code and message of an error response. A body that is not awsJson is read as
/// botocore reads a 5xx one: none, or an HTML page (a proxy's or load balancer's `502 Bad
/// Gateway`), gives no code and the status's reason phrase as the message; other text is
/// the message itself. Unlike botocore, this holds for every status (an empty `403` says
/// `Forbidden`, where botocore's message is empty), so that no error is without words.
fn error_code_and_message(
    status: http::StatusCode,
    error_type: Option<&str>,
    body: &[u8],
) -> (Option<String>, Option<String>) {
    let parts = aws_json::parse_error(error_type, body);
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let html = text
        .get(..5)
        .is_some_and(|start| start.eq_ignore_ascii_case("<html"))
        || text
            .get(..14)
            .is_some_and(|start| start.eq_ignore_ascii_case("<!doctype html"));
    if text.is_empty() || html {
        let reason = status.canonical_reason().map(str::to_owned);
        return (parts.code, parts.message.or(reason));
    }
    // Parsed again only when awsJson found no message: is the body JSON without one?
    // As bytes: `from_slice` is the reader the rest of the crate parses with, so the
    // `Value` parser is compiled once (`from_str` would add a second copy of it).
    let message = parts.message.or_else(|| {
        serde_json::from_slice::<serde_json::Value>(text.as_bytes())
            .is_err()
            .then(|| text.to_owned())
    });
    (parts.code, message)
}

/// A successful response: its status, request id and body.
struct Answer {
    status: u16,
    request_id: Option<String>,
    body: Bytes,
}

/// Decodes an error response into an operation's modeled error (when its code is one).
type DecodeModeledError = fn(&str, &[u8], &ErrorMeta) -> Option<Error>;

/// The [`DecodeModeledError`] of `Op`.
fn modeled_error<Op: OperationShape>(code: &str, body: &[u8], meta: &ErrorMeta) -> Option<Error> {
    Op::Error::from_wire(code, body).map(|e| Error::from_modeled(e, meta.clone()))
}

/// Whether `body` is over [`VALUES_COUNTED_ABOVE`] bytes and holds more than
/// [`MAX_RESPONSE_VALUES`] JSON values. Counting stops at the limit, allocates nothing
/// and leaves a body that is not JSON to the decoder's own error.
fn has_too_many_values(body: &[u8]) -> bool {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess};

    struct Count<'a>(&'a mut usize);

    impl Count<'_> {
        fn bump<E: serde::de::Error>(&mut self) -> Result<(), E> {
            *self.0 += 1;
            if *self.0 > MAX_RESPONSE_VALUES {
                return Err(E::custom("too many values"));
            }
            Ok(())
        }
    }

    impl<'de> DeserializeSeed<'de> for Count<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> serde::de::Visitor<'de> for Count<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E: serde::de::Error>(mut self, _: bool) -> Result<(), E> {
            self.bump()
        }
        fn visit_i64<E: serde::de::Error>(mut self, _: i64) -> Result<(), E> {
            self.bump()
        }
        fn visit_u64<E: serde::de::Error>(mut self, _: u64) -> Result<(), E> {
            self.bump()
        }
        fn visit_f64<E: serde::de::Error>(mut self, _: f64) -> Result<(), E> {
            self.bump()
        }
        fn visit_str<E: serde::de::Error>(mut self, _: &str) -> Result<(), E> {
            self.bump()
        }
        fn visit_unit<E: serde::de::Error>(mut self) -> Result<(), E> {
            self.bump()
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            self.bump()?;
            while seq.next_element_seed(Count(&mut *self.0))?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
            self.bump()?;
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value_seed(Count(&mut *self.0))?;
            }
            Ok(())
        }
    }

    if body.len() <= VALUES_COUNTED_ABOVE {
        return false;
    }
    let mut seen = 0;
    let mut json = serde_json::Deserializer::from_slice(body);
    // Counting fails at the limit, or earlier on what is not JSON (the decoder says so).
    let _ = Count(&mut seen).deserialize(&mut json);
    seen > MAX_RESPONSE_VALUES
}

/// A fresh `amz-sdk-invocation-id`: a random (version 4) UUID.
/// An operation's encoded input, and what `--debug` shows in its place when the input
/// has `@sensitive` members.
#[derive(Clone)]
struct Payload {
    body: Bytes,
    shown: Option<Arc<str>>,
}

fn invocation_id() -> String {
    let bits = (u128::from(retry::random_u64()) << 64 | u128::from(retry::random_u64()))
        & !(0xF000u128 << 64 | 0xC000u128 << 48)
        | (0x4000u128 << 64 | 0x8000u128 << 48);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The signed request as text for `--debug`: method, URI, headers, body; the
/// signature and session token are masked (the secret key is never in a request).
/// `masked`, when given, stands in for the body of an input with `@sensitive` members:
/// the input's `Debug`, which masks them.
pub fn format_debug_request<B>(
    request: &Request<B>,
    body: &[u8],
    masked: Option<&str>,
    attempt: u32,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "DEBUG attempt {attempt}: {} {}",
        request.method(),
        request.uri()
    );
    for (name, value) in request.headers() {
        let value = value.to_str().unwrap_or("<non-ASCII>");
        let shown = match name.as_str() {
            "authorization" => mask_authorization(value),
            "x-amz-security-token" | "proxy-authorization" => "****".to_owned(),
            _ => value.to_owned(),
        };
        let _ = writeln!(out, "  {name}: {shown}");
    }
    match masked {
        Some(masked) => {
            let _ = writeln!(
                out,
                "  body ({} bytes, sensitive members masked): {masked}",
                body.len()
            );
        }
        None => {
            let _ = writeln!(out, "  body: {}", String::from_utf8_lossy(body));
        }
    }
    out
}

/// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=abc` → `Signature=****`.
/// Without a signature in it, all of it is masked.
pub fn mask_authorization(value: &str) -> String {
    if value.contains("Signature=") {
        sigv4::mask_signatures(value).into_owned()
    } else {
        "****".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Credentials;

    fn config(endpoint: &str) -> Config {
        Config::builder()
            .endpoint(endpoint)
            .region("us-east-1")
            .credentials(Credentials::new("AKIDEXAMPLE", "secret", None))
            .build()
            .unwrap()
    }

    #[test]
    fn https_needs_the_rustls_feature() {
        let result = Client::try_new(config("https://kms.us-east-1.amazonaws.com"));
        if cfg!(feature = "rustls") {
            assert!(result.is_ok());
        } else {
            let error = result.unwrap_err();
            assert!(
                matches!(&error, Error::Config(e) if matches!(**e, ConfigError::HttpsUnsupported { .. })),
                "{error:?}"
            );
        }
        assert!(Client::try_new(config("http://127.0.0.1:4599")).is_ok());
        // The builder resolves a region's https endpoint whatever the features: it is
        // `try_new` (and `new`, panicking) that refuses it without `rustls`.
        let resolved = Config::builder()
            .region("us-east-1")
            .credentials(Credentials::new("AKIDEXAMPLE", "secret", None))
            .build()
            .unwrap();
        assert_eq!(resolved.endpoint, "https://kms.us-east-1.amazonaws.com");
        assert_eq!(Client::try_new(resolved).is_ok(), cfg!(feature = "rustls"),);
    }

    /// The error `Client::try_new` gives for the test config changed by `change`.
    fn try_new_error(change: impl FnOnce(&mut Config)) -> (ConfigError, String) {
        let mut config = config("http://127.0.0.1:4599");
        change(&mut config);
        match Client::try_new(config) {
            Err(Error::Config(e)) => {
                let text = format!("{e} {e:?}");
                (*e, text)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_hand_built_config_is_checked_by_try_new() {
        let (e, text) = try_new_error(|c| c.region = "us east\n1".to_owned());
        assert!(
            matches!(&e, ConfigError::InvalidRegion { value, origin }
                if value == "us east (and 1 more line)" && origin == "Config.region"),
            "{e:?}"
        );
        assert!(
            text.contains(r#""us east (and 1 more line)" from Config.region"#),
            "{text}"
        );

        let (e, text) =
            try_new_error(|c| c.endpoint = "http://admin:TOPSECRET@127.0.0.1:1".to_owned());
        assert!(matches!(e, ConfigError::EndpointUserInfo { .. }), "{e:?}");
        assert!(!text.contains("TOPSECRET"), "{text}");

        let (e, _) = try_new_error(|c| c.endpoint = "not a url".to_owned());
        assert!(matches!(e, ConfigError::InvalidEndpoint { .. }), "{e:?}");
    }

    #[test]
    #[should_panic(expected = "from Config.region")]
    fn new_panics_on_a_bad_hand_built_config() {
        let mut bad_region = config("http://127.0.0.1:4599");
        bad_region.region = "us east\n1".to_owned();
        let _ = Client::new(bad_region);
    }

    #[test]
    fn invocation_ids_are_version_4_uuids() {
        let a = invocation_id();
        let b = invocation_id();
        assert_ne!(a, b);
        for id in [a, b] {
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(
                groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12]
            );
            assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
            assert!(groups[2].starts_with('4'), "{id}");
            assert!(groups[3].starts_with(['8', '9', 'a', 'b']), "{id}");
        }
    }
}
