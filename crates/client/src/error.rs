//! The one error type of the client: modeled operation errors, validation,
//! throttling, authentication/authorization, unknown service errors, transport
//! failures and timeouts. Each `Display` says what happened and what to do.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use kms_types::{DescribeCustomKeyStoresError, OperationError, ValidationError};

use crate::config::ConfigError;
use crate::credentials::CredentialsError;
use crate::retry::{RetryKind, RetryQuota, classify, is_transient_status};

/// What the service said about a failed call: operation, HTTP status, error code,
/// message and request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMeta {
    /// The operation that failed, e.g. `DescribeCustomKeyStores`.
    pub operation: &'static str,
    /// The HTTP status of the response.
    pub status: u16,
    /// The sanitized error code (`X-Amzn-ErrorType`, else the body's `code`/`__type`).
    pub code: Option<String>,
    /// The message from the error body.
    pub message: Option<String>,
    /// `x-amzn-RequestId`, else `x-amz-request-id`.
    pub request_id: Option<String>,
    /// How many attempts the call made, this response's included (1: not retried).
    pub attempts: u32,
    /// Whether the call gave up because its attempts ran out on a retryable error (the
    /// AWS CLI then says `(reached max retries: N)`, N being `attempts - 1`).
    pub max_attempts_reached: bool,
}

impl ErrorMeta {
    /// The code, or the HTTP status as text when the response carried none
    /// (as botocore reports it).
    pub fn code_or_status(&self) -> String {
        self.code.clone().unwrap_or_else(|| self.status.to_string())
    }

    fn message_or_default(&self) -> &str {
        self.message.as_deref().unwrap_or("(no message)")
    }

    fn fmt_tail(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " (HTTP {}", self.status)?;
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        f.write_str(")")
    }
}

/// Which kind of authentication or authorization failure the service reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthErrorKind {
    /// The request carried no signature (`MissingAuthenticationTokenException`).
    MissingAuthentication,
    /// The signature was malformed or incomplete (`IncompleteSignatureException`).
    IncompleteSignature,
    /// The signature did not match, was expired or was scoped wrongly (`InvalidSignatureException`).
    InvalidSignature,
    /// The access key or session token is unknown or expired (`UnrecognizedClientException`, ...).
    UnrecognizedClient,
    /// The principal may not call the operation (`AccessDeniedException`).
    AccessDenied,
}

impl AuthErrorKind {
    /// The kind for an error code, when it is an authentication/authorization code.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "MissingAuthenticationTokenException" | "MissingAuthenticationToken" => {
                Self::MissingAuthentication
            }
            "IncompleteSignatureException" | "IncompleteSignature" => Self::IncompleteSignature,
            "InvalidSignatureException" | "SignatureDoesNotMatch" | "RequestExpired" => {
                Self::InvalidSignature
            }
            "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredTokenException"
            | "ExpiredToken"
            | "InvalidAccessKeyId" => Self::UnrecognizedClient,
            "AccessDeniedException" | "AccessDenied" | "NotAuthorized" => Self::AccessDenied,
            _ => return None,
        })
    }

    fn hint(self) -> &'static str {
        match self {
            Self::MissingAuthentication | Self::IncompleteSignature => {
                "the request was not signed correctly: check that the endpoint URL points at a KMS \
                 endpoint and that credentials are configured (AWS_ACCESS_KEY_ID / \
                 AWS_SECRET_ACCESS_KEY or a profile in ~/.aws/credentials)"
            }
            Self::InvalidSignature => {
                "check AWS_SECRET_ACCESS_KEY (or aws_secret_access_key in your profile), that the \
                 region matches the endpoint, and that the system clock is correct"
            }
            Self::UnrecognizedClient => {
                "check AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN (or the credentials of the profile \
                 selected by AWS_PROFILE / --profile); temporary credentials may have expired"
            }
            Self::AccessDenied => {
                "the credentials are valid but not allowed to do this: grant the principal the \
                 IAM permission for this action, or use another profile (AWS_PROFILE / --profile)"
            }
        }
    }
}

/// Which of the [`Timeouts`](crate::Timeouts) an [`Error::Timeout`] reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing a connection: TCP, a proxy's `CONNECT`, and the TLS handshake.
    Connect,
    /// One attempt: from sending the request to the end of the response.
    Attempt,
    /// The whole call, retries and backoff included.
    Total,
}

impl TimeoutKind {
    /// The field of [`Timeouts`](crate::Timeouts) that sets this limit.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Attempt => "attempt",
            Self::Total => "total",
        }
    }
}

/// Every way a call can fail.
///
/// As Rust errors should, `Display` does not repeat what
/// [`source()`](std::error::Error::source) returns: `Transport`, `ResponseBody` and
/// `Certificate` name the endpoint and what to check, and leave the underlying error
/// (the connection's or TLS's) to `source()`; `Config` displays its [`ConfigError`] and returns that error's
/// source; every other variant's `Display` is complete and `source()` is `None` (the
/// typed error of a modeled or validation failure is in its fields, and
/// [`Error::modeled`]). [`Error::report`] gives the message with the causes inline, as
/// the `kms` CLI prints it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A modeled error of `DescribeCustomKeyStores` (not found, invalid marker, internal error).
    DescribeCustomKeyStores {
        /// The typed error, decoded from the response body.
        error: DescribeCustomKeyStoresError,
        /// Status, code and request id of the response.
        meta: Box<ErrorMeta>,
    },
    /// A modeled error of an operation that has no variant of its own — any generated
    /// operation called with [`Client::call`](crate::Client::call) but
    /// `DescribeCustomKeyStores`. [`Error::modeled`] gives the typed error back
    /// (`err.modeled::<CreateCustomKeyStoreError>()`).
    Modeled {
        /// The operation's typed error enum (`<Op as OperationShape>::Error`), boxed.
        error: Box<dyn std::error::Error + Send + Sync>,
        /// Its wire code, e.g. `CustomKeyStoreNameInUseException`.
        code: &'static str,
        /// Whether the model says it may be retried (a server fault or `@retryable`).
        retryable: bool,
        /// Status, code, message and request id of the response.
        meta: Box<ErrorMeta>,
    },
    /// The input failed client-side validation; nothing was sent.
    InvalidInput {
        /// The operation whose input was invalid.
        operation: &'static str,
        /// Every violation, in AWS's ValidationException wording.
        error: ValidationError,
    },
    /// The service rejected the input (`ValidationException`).
    Validation(Box<ErrorMeta>),
    /// The service throttled the call (retried until attempts ran out).
    Throttling {
        /// The last throttling response.
        meta: Box<ErrorMeta>,
        /// How many attempts were made.
        attempts: u32,
    },
    /// Authentication or authorization failed (never retried).
    Auth {
        /// Which failure.
        kind: AuthErrorKind,
        /// The response.
        meta: Box<ErrorMeta>,
    },
    /// Any other error response: the service's code, message, status and request id.
    Service(Box<ErrorMeta>),
    /// A success response whose body could not be read as the operation's output.
    InvalidResponse {
        /// The operation.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        message: String,
        /// The request id, when sent.
        request_id: Option<String>,
    },
    /// A response larger than kms-client reads
    /// ([`MAX_RESPONSE_BYTES`](crate::MAX_RESPONSE_BYTES)), whatever its status: refused,
    /// and never retried (it would come again as large).
    ResponseTooLarge {
        /// The endpoint.
        endpoint: String,
        /// The HTTP status of the response.
        status: u16,
        /// The limit, in bytes.
        limit: usize,
        /// The body's size, when its `Content-Length` announced it (the body was then
        /// not read at all).
        announced: Option<u64>,
        /// The request id, when sent.
        request_id: Option<String>,
    },
    /// The request could not be sent or the response's head not received (connection
    /// refused or reset, DNS, a proxy's refusal, a response that is not HTTP).
    Transport {
        /// The endpoint the client tried to reach.
        endpoint: String,
        /// The proxy the request went through, e.g. `proxy http://proxy:3128 (from
        /// HTTPS_PROXY)`; `None`: direct.
        proxy: Option<String>,
        /// What failed, with its causes, as text (the `source` chain; `Display` leaves
        /// it to `source()`, [`Error::report`] puts it in).
        message: String,
        /// The underlying error.
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
        /// How many attempts the call made (each failed so).
        attempts: u32,
    },
    /// The response began — status and headers arrived — but its body did not arrive
    /// whole: the connection closed or was reset, or the body's framing (its length,
    /// its chunks) was broken. Retried like a transport failure.
    ResponseBody {
        /// The endpoint.
        endpoint: String,
        /// The proxy the request went through; `None`: direct.
        proxy: Option<String>,
        /// The HTTP status of the broken response.
        status: u16,
        /// What failed, with its causes, as text (`Display` leaves them to `source()`,
        /// [`Error::report`] puts them in).
        message: String,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
        /// How many attempts the call made.
        attempts: u32,
    },
    /// The endpoint's TLS certificate was rejected (unknown issuer, wrong name,
    /// expired, ...). Never retried.
    Certificate {
        /// The endpoint.
        endpoint: String,
        /// The proxy the connection went through; `None`: direct.
        proxy: Option<String>,
        /// Why it was rejected, as text (the `source` chain; `Display` leaves it to
        /// `source()`, [`Error::report`] puts it in).
        message: String,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Connecting, an attempt or the whole call ran out of time.
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The limit that was reached.
        limit: Duration,
        /// Which limit it is: [`Timeouts`](crate::Timeouts)' `connect`, `attempt` or
        /// `total`.
        kind: TimeoutKind,
        /// How many attempts the call made.
        attempts: u32,
    },
    /// The service returned the same pagination marker twice; pagination stopped.
    RepeatedMarker {
        /// The operation.
        operation: &'static str,
        /// The repeated marker.
        marker: String,
    },
    /// The service returned a pagination marker that the operation's input refuses
    /// (longer than the model allows, say); pagination stopped.
    InvalidMarker {
        /// The operation.
        operation: &'static str,
        /// The marker's length in characters (the marker itself may be huge).
        chars: usize,
        /// The model's constraints it fails, without its value.
        reason: String,
    },
    /// The configuration could not be resolved.
    Config(Box<ConfigError>),
    /// Temporary credentials could not be fetched from their source
    /// (`credential_process`, the container endpoint, EC2 instance metadata).
    Credentials(CredentialsError),
    /// The request could not be built or signed (e.g. credentials unusable in a header).
    Signing(String),
}

/// Why a retryable error came with attempts left: the retry quota
/// (`Client::retry_quota`) was spent by earlier failures, or the total timeout left no
/// time for another attempt. Raising the maximum number of attempts would not help.
const RETRIES_STOPPED_EARLY: &str = "retries stopped before the maximum number of attempts: \
     the client's retry quota is spent by earlier failed calls, or the total timeout left no \
     time for another";

impl Error {
    /// The service's metadata, for errors that came from a response.
    pub fn meta(&self) -> Option<&ErrorMeta> {
        match self {
            Self::DescribeCustomKeyStores { meta, .. }
            | Self::Modeled { meta, .. }
            | Self::Throttling { meta, .. }
            | Self::Auth { meta, .. } => Some(meta),
            Self::Validation(meta) | Self::Service(meta) => Some(meta),
            _ => None,
        }
    }

    /// The error code as AWS names it: the service's code, `ValidationException` for
    /// client-side validation, `None` for local failures (transport, timeout, ...).
    pub fn code(&self) -> Option<String> {
        match self {
            Self::DescribeCustomKeyStores { error, .. } => Some(error.code().to_owned()),
            Self::Modeled { code, .. } => Some((*code).to_owned()),
            Self::InvalidInput { .. } => Some(ValidationError::CODE.to_owned()),
            other => other.meta().map(ErrorMeta::code_or_status),
        }
    }

    /// The error message (service message, or the validation message).
    pub fn message(&self) -> Option<String> {
        match self {
            Self::DescribeCustomKeyStores { error, meta } => error
                .message()
                .map(str::to_owned)
                .or_else(|| meta.message.clone()),
            Self::InvalidInput { error, .. } => Some(error.to_string()),
            other => other.meta().and_then(|m| m.message.clone()),
        }
    }

    fn meta_mut(&mut self) -> Option<&mut ErrorMeta> {
        match self {
            Self::DescribeCustomKeyStores { meta, .. }
            | Self::Modeled { meta, .. }
            | Self::Throttling { meta, .. }
            | Self::Auth { meta, .. } => Some(meta),
            Self::Validation(meta) | Self::Service(meta) => Some(meta),
            _ => None,
        }
    }

    /// Records, for an error response, how many attempts the call made out of `max`.
    pub(crate) fn set_attempts(&mut self, attempts: u32, max: u32) {
        let reached = attempts >= max && self.is_retryable();
        if let Self::Throttling { attempts: a, .. }
        | Self::Transport { attempts: a, .. }
        | Self::ResponseBody { attempts: a, .. }
        | Self::Timeout { attempts: a, .. } = self
        {
            *a = attempts;
        }
        if let Some(meta) = self.meta_mut() {
            meta.attempts = attempts;
            meta.max_attempts_reached = reached;
        }
    }

    /// How many attempts the call made before it failed so: for error responses (also
    /// in [`ErrorMeta::attempts`]), transport failures, broken responses and timeouts;
    /// `None` for failures before anything was sent and for invalid responses.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Self::Transport { attempts, .. }
            | Self::ResponseBody { attempts, .. }
            | Self::Timeout { attempts, .. } => Some(*attempts),
            other => other.meta().map(|m| m.attempts),
        }
    }

    /// The HTTP status, for errors that came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::InvalidResponse { status, .. }
            | Self::ResponseBody { status, .. }
            | Self::ResponseTooLarge { status, .. } => Some(*status),
            other => other.meta().map(|m| m.status),
        }
    }

    /// The request id, when the service sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::InvalidResponse { request_id, .. }
            | Self::ResponseTooLarge { request_id, .. } => request_id.as_deref(),
            other => other.meta().and_then(|m| m.request_id.as_deref()),
        }
    }

    /// Whether the error is a service-side error response (modeled or not).
    pub fn is_service_error(&self) -> bool {
        self.meta().is_some()
    }

    /// Whether another attempt may succeed: throttling, server faults, transport
    /// failures and timeouts. Validation and auth errors never are.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::InvalidInput { .. } | Self::Validation(_) | Self::Auth { .. } => false,
            // A modeled error is retried when the model says so, or when its status is
            // one the SDKs retry whatever the error (as botocore and smithy-rs do).
            Self::DescribeCustomKeyStores { error, meta } => {
                error.is_retryable() || is_transient_status(meta.status)
            }
            Self::Modeled {
                retryable, meta, ..
            } => *retryable || is_transient_status(meta.status),
            Self::Throttling { .. } => true,
            Self::Service(meta) => classify(meta.status, meta.code.as_deref()).is_some(),
            Self::InvalidResponse { status, .. } => is_transient_status(*status),
            Self::Transport { .. } | Self::ResponseBody { .. } | Self::Timeout { .. } => true,
            Self::Certificate { .. }
            | Self::ResponseTooLarge { .. }
            | Self::RepeatedMarker { .. }
            | Self::InvalidMarker { .. }
            | Self::Config(_)
            | Self::Credentials(_)
            | Self::Signing(_) => false,
        }
    }

    /// What retrying after this error takes from the [`RetryQuota`]; `None` when it is
    /// not retried.
    pub(crate) fn retry_cost(&self) -> Option<u32> {
        self.is_retryable().then_some(match self {
            Self::Timeout { .. } => RetryQuota::TIMEOUT_RETRY_COST,
            _ => RetryQuota::RETRY_COST,
        })
    }

    /// The modeled error of the operation that failed, typed: `E` is the operation's
    /// error enum (`<Op as OperationShape>::Error`, e.g. `DescribeCustomKeyStoresError`).
    /// `None` for other errors, or when `E` is another operation's.
    ///
    /// This is how an imported operation's errors are reached typed: which errors have
    /// a variant of their own is not a hook.
    ///
    /// ```compile_fail
    /// // no such hook: which errors have a variant of their own is kms-client's
    /// use kms_client::ModeledError;
    /// ```
    pub fn modeled<E: OperationError + 'static>(&self) -> Option<&E> {
        match self {
            Self::DescribeCustomKeyStores { error, .. } => (error as &dyn Any).downcast_ref(),
            Self::Modeled { error, .. } => error.downcast_ref(),
            _ => None,
        }
    }

    /// Wraps an operation's decoded modeled error with its response metadata: the typed
    /// variant when the error has one (one `downcast` each: add the next one here), else
    /// [`Error::Modeled`].
    pub(crate) fn from_modeled<E>(error: E, mut meta: ErrorMeta) -> Error
    where
        E: OperationError + Send + Sync + 'static,
    {
        let (code, retryable) = (error.code(), error.is_retryable());
        let message = error.message().map(str::to_owned);
        let error: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
        match error.downcast::<DescribeCustomKeyStoresError>() {
            Ok(error) => Error::DescribeCustomKeyStores {
                error: *error,
                meta: Box::new(meta),
            },
            Err(error) => {
                if message.is_some() {
                    meta.message = message;
                }
                Error::Modeled {
                    error,
                    code,
                    retryable,
                    meta: Box::new(meta),
                }
            }
        }
    }

    /// The message with the text of its causes inline — where `Display` leaves them to
    /// [`source()`](std::error::Error::source) — as the `kms` CLI prints it:
    /// `could not reach http://127.0.0.1:1: client error (Connect): tcp connect error:
    /// Connection refused (os error 111); check the endpoint URL …`.
    pub fn report(&self) -> String {
        struct Inline<'a>(&'a Error);
        impl fmt::Display for Inline<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_message(f, true)
            }
        }
        match self {
            Self::Transport { .. } | Self::ResponseBody { .. } | Self::Certificate { .. } => {
                Inline(self).to_string()
            }
            other => chain(other),
        }
    }

    /// Builds the error for an error response of `operation`. `modeled` is the
    /// operation's own error, when the response decodes as one
    /// ([`Error::from_modeled`]).
    pub(crate) fn from_response(meta: ErrorMeta, modeled: Option<Error>) -> Error {
        if let Some(e) = modeled {
            return e;
        }
        let meta = Box::new(meta);
        let code = meta.code.as_deref().unwrap_or("");
        if code == ValidationError::CODE {
            return Self::Validation(meta);
        }
        if let Some(kind) = AuthErrorKind::from_code(code) {
            return Self::Auth { kind, meta };
        }
        if classify(meta.status, meta.code.as_deref()) == Some(RetryKind::Throttling) {
            return Self::Throttling { meta, attempts: 1 };
        }
        Self::Service(meta)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_message(f, false)
    }
}

/// ` (3 attempts)` after a failure that was retried.
fn fmt_attempts(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    if attempts > 1 {
        write!(f, " ({attempts} attempts)")?;
    }
    Ok(())
}

/// `: through proxy … (from HTTPS_PROXY): <message>` with the causes inline, else
/// ` through proxy … (from HTTPS_PROXY)` (or nothing) without them.
fn fmt_causes(
    f: &mut fmt::Formatter<'_>,
    proxy: Option<&String>,
    message: &str,
    inline: bool,
) -> fmt::Result {
    match (inline, proxy) {
        (true, Some(proxy)) => write!(f, ": through {proxy}: {message}"),
        (true, None) => write!(f, ": {message}"),
        (false, Some(proxy)) => write!(f, " through {proxy}"),
        (false, None) => Ok(()),
    }
}

impl Error {
    /// `Display`, and with `causes` [`Error::report`].
    fn fmt_message(&self, f: &mut fmt::Formatter<'_>, causes: bool) -> fmt::Result {
        match self {
            Self::DescribeCustomKeyStores { error, meta } => {
                let message = error.message().unwrap_or(meta.message_or_default());
                write!(
                    f,
                    "{} failed with {}: {message}",
                    meta.operation,
                    error.code()
                )?;
                meta.fmt_tail(f)?;
                let hint = match error {
                    DescribeCustomKeyStoresError::CustomKeyStoreNotFoundException(_) => {
                        "; check the custom key store id or name, and that the account and \
                         region are the ones the store was created in"
                    }
                    DescribeCustomKeyStoresError::InvalidMarkerException(_) => {
                        "; pass a marker exactly as returned in NextMarker by a previous call \
                         with the same filter, account and region, or start without a marker"
                    }
                    DescribeCustomKeyStoresError::KmsInternalException(_)
                        if meta.max_attempts_reached =>
                    {
                        "; this is a service-side failure: retry later or raise the maximum \
                         number of attempts (AWS_MAX_ATTEMPTS)"
                    }
                    DescribeCustomKeyStoresError::KmsInternalException(_) => {
                        return write!(
                            f,
                            "; this is a service-side failure ({RETRIES_STOPPED_EARLY}): retry \
                             later"
                        );
                    }
                    // The enum is non-exhaustive: an error imported later has no hint yet.
                    _ => "",
                };
                f.write_str(hint)
            }
            Self::Modeled {
                code,
                retryable,
                meta,
                ..
            } => {
                write!(
                    f,
                    "{} failed with {code}: {}",
                    meta.operation,
                    meta.message_or_default()
                )?;
                meta.fmt_tail(f)?;
                if *retryable {
                    f.write_str("; the service may accept the call later: retry it")
                } else {
                    Ok(())
                }
            }
            Self::InvalidInput { operation, error } => write!(
                f,
                "invalid {operation} input (not sent): {error}; fix the parameters, or disable \
                 client-side validation with Config.validate_input = false"
            ),
            Self::Validation(meta) => {
                write!(
                    f,
                    "{} was rejected by the service as invalid (ValidationException): {}",
                    meta.operation,
                    meta.message_or_default()
                )?;
                meta.fmt_tail(f)?;
                f.write_str("; fix the parameters named in the message")
            }
            Self::Throttling { meta, attempts } => {
                write!(
                    f,
                    "{} was throttled ({}): {}",
                    meta.operation,
                    meta.code_or_status(),
                    meta.message_or_default()
                )?;
                meta.fmt_tail(f)?;
                write!(
                    f,
                    " after {attempts} attempt{}",
                    if *attempts == 1 { "" } else { "s" }
                )?;
                if meta.max_attempts_reached {
                    f.write_str(
                        "; retry later, reduce the request rate or raise the maximum number of \
                         attempts (AWS_MAX_ATTEMPTS / RetryConfig::max_attempts)",
                    )
                } else {
                    write!(
                        f,
                        " ({RETRIES_STOPPED_EARLY}); retry later or reduce the request rate"
                    )
                }
            }
            Self::Auth { kind, meta } => {
                write!(
                    f,
                    "{} was not authorized ({}): {}",
                    meta.operation,
                    meta.code_or_status(),
                    meta.message_or_default()
                )?;
                meta.fmt_tail(f)?;
                write!(f, "; {}", kind.hint())
            }
            Self::Service(meta) => {
                write!(
                    f,
                    "{} failed with {}: {}",
                    meta.operation,
                    meta.code_or_status(),
                    meta.message_or_default()
                )?;
                meta.fmt_tail(f)?;
                if meta.status >= 500 {
                    f.write_str("; the service failed: retry later")
                } else {
                    Ok(())
                }
            }
            Self::InvalidResponse {
                operation,
                status,
                message,
                request_id,
            } => {
                write!(
                    f,
                    "{operation} returned a response that is not a valid {operation} output \
                     (HTTP {status}"
                )?;
                if let Some(id) = request_id {
                    write!(f, ", request id {id}")?;
                }
                write!(
                    f,
                    "): {message}; check that the endpoint URL points at a KMS endpoint"
                )
            }
            Self::Transport {
                endpoint,
                proxy,
                message,
                attempts,
                ..
            } => {
                write!(f, "could not reach {endpoint}")?;
                fmt_causes(f, proxy.as_ref(), message, causes)?;
                fmt_attempts(f, *attempts)?;
                f.write_str(
                    "; check the endpoint URL (--endpoint-url, AWS_ENDPOINT_URL_KMS, \
                     AWS_ENDPOINT_URL), the region and your network",
                )
            }
            Self::ResponseTooLarge {
                endpoint,
                status,
                limit,
                announced,
                request_id,
            } => {
                write!(f, "the response of {endpoint} (HTTP {status}")?;
                if let Some(id) = request_id {
                    write!(f, ", request id {id}")?;
                }
                write!(f, ") is larger than {} MiB", limit >> 20)?;
                if let Some(n) = announced {
                    write!(f, " (Content-Length: {n})")?;
                }
                f.write_str(
                    ", the most kms-client reads; check that the endpoint URL points at a KMS \
                     endpoint",
                )
            }
            Self::ResponseBody {
                endpoint,
                proxy,
                status,
                message,
                attempts,
                ..
            } => {
                write!(
                    f,
                    "the response of {endpoint} (HTTP {status}) broke off before its end"
                )?;
                fmt_causes(f, proxy.as_ref(), message, causes)?;
                fmt_attempts(f, *attempts)?;
                f.write_str(
                    "; the connection failed or the response's framing was broken: check \
                     the network and any proxy in between, or retry later",
                )
            }
            Self::Certificate {
                endpoint,
                proxy,
                message,
                source,
            } => {
                write!(f, "the TLS certificate of {endpoint} was not accepted")?;
                fmt_causes(f, proxy.as_ref(), message, causes)?;
                f.write_str("; ")?;
                f.write_str(crate::tls::rejected_certificate_hint(&**source))
            }
            Self::Timeout {
                endpoint,
                limit,
                kind,
                attempts,
            } => {
                match kind {
                    TimeoutKind::Connect => write!(f, "connecting to {endpoint}")?,
                    TimeoutKind::Attempt => write!(f, "a request to {endpoint}")?,
                    TimeoutKind::Total => write!(f, "the call to {endpoint}")?,
                }
                write!(f, " timed out after {limit:?}")?;
                fmt_attempts(f, *attempts)?;
                write!(
                    f,
                    "; check the endpoint and network, or raise the timeout \
                     (Config.timeouts.{})",
                    kind.setting()
                )
            }
            Self::RepeatedMarker { operation, marker } => write!(
                f,
                "{operation} pagination stopped: the service returned the marker {marker:?} a \
                 second time, which would repeat pages forever; report this to the service \
                 operator, or page manually with Marker"
            ),
            Self::InvalidMarker {
                operation,
                chars,
                reason,
            } => write!(
                f,
                "{operation} pagination stopped: the service returned a marker of {chars} \
                 characters that {operation} would refuse ({reason}); report this to the \
                 service operator"
            ),
            Self::Config(e) => fmt::Display::fmt(e, f),
            Self::Credentials(e) => fmt::Display::fmt(e, f),
            Self::Signing(m) => write!(
                f,
                "could not sign the request: {m}; check that the credentials contain only \
                 printable ASCII characters"
            ),
        }
    }
}

impl std::error::Error for Error {
    /// The underlying error of `Transport`, `ResponseBody` and `Certificate`, and the source of
    /// `Config`'s [`ConfigError`]; `None` for the rest, whose `Display` says it all.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport { source, .. } => source
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            Self::ResponseBody { source, .. } => Some(&**source),
            Self::Certificate { source, .. } => Some(&**source),
            Self::Config(e) => std::error::Error::source(&**e),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(Box::new(e))
    }
}

/// Joins an error and its sources: `a: b: c`.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
