//! Where the client's credentials come from, and fetching and refreshing the ones that
//! are not fixed: roles assumed with AWS STS (a profile's `role_arn`, or a web identity
//! token as on EKS), IAM Identity Center (SSO) roles with the token `aws sso login`
//! cached, a profile's `credential_process`, the container credentials
//! endpoint of ECS and EKS Pod Identity, and EC2 instance metadata (IMDSv2) — the AWS
//! SDKs' default chain after the environment and a profile's keys.
//!
//! A role with `mfa_serial` gets its code from the configuration's [`MfaPrompt`]; the
//! credentials of roles assumed with `AssumeRole` can be shared with the AWS CLI through
//! its cache (`~/.aws/cli/cache`, [`Config::assumed_role_cache`](crate::Config::assumed_role_cache)).
//!
//! Fetched credentials are cached by the [`Client`](crate::Client) and fetched again
//! when they are within [`REFRESH_BEFORE_EXPIRY`] of their expiration; if that fails
//! while the cached ones are still valid, the cached ones are used.

use std::fmt;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use kms_types::{Timestamp, sigv4};

use crate::client::HttpClient;
use crate::config::{quoted_path, quoted_value};

pub(crate) mod aws_cli_cache;

pub use kms_types::sigv4::Credentials;

/// Temporary credentials are fetched again once they expire within this long.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// The default EC2 instance metadata endpoint (IPv4).
pub const IMDS_IPV4_ENDPOINT: &str = "http://169.254.169.254";
/// The EC2 instance metadata endpoint in IPv6 mode.
pub const IMDS_IPV6_ENDPOINT: &str = "http://[fd00:ec2::254]";
/// The ECS container credentials endpoint that `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
/// is relative to.
pub const ECS_CONTAINER_ENDPOINT: &str = "http://169.254.170.2";

/// One request to the container endpoint may take this long.
const CONTAINER_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts at the container endpoint (connection failures, timeouts, 5xx).
const CONTAINER_ATTEMPTS: u32 = 3;
/// Bodies from the metadata and container endpoints larger than this are refused, and
/// so is a `credential_process` that prints more (on stdout or stderr).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Lifetime asked for IMDSv2 session tokens (the SDKs' value, 6 hours).
const IMDS_TOKEN_TTL_SECONDS: &str = "21600";

/// Where the client gets its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialsSource {
    /// Fixed keys: the environment, a profile's keys, or given in code.
    Static(Credentials),
    /// A profile's `credential_process`.
    Process(CredentialProcess),
    /// The container credentials endpoint (ECS, EKS Pod Identity).
    Container(ContainerEndpoint),
    /// The EC2 instance metadata service: the instance profile's role.
    InstanceMetadata(InstanceMetadata),
    /// A role assumed with AWS STS `AssumeRole`, signed with other credentials.
    AssumeRole(AssumeRole),
    /// A role assumed with AWS STS `AssumeRoleWithWebIdentity` (EKS IRSA).
    WebIdentity(WebIdentity),
    /// An IAM Identity Center (SSO) role of a profile (`sso_session` or `sso_start_url`).
    Sso(Sso),
}

impl From<Credentials> for CredentialsSource {
    fn from(credentials: Credentials) -> Self {
        Self::Static(credentials)
    }
}

impl CredentialsSource {
    /// The keys, when they are fixed.
    pub fn as_static(&self) -> Option<&Credentials> {
        match self {
            Self::Static(c) => Some(c),
            _ => None,
        }
    }

    /// What this source is, for messages: `credential_process (… line 3)`,
    /// `the container endpoint http://169.254.170.2/v2/… (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Static(_) => "static credentials".to_owned(),
            Self::Process(p) => format!("credential_process ({})", p.origin),
            Self::Container(c) => {
                format!("the container endpoint {} ({})", c.uri, c.origin)
            }
            Self::InstanceMetadata(m) => {
                format!("EC2 instance metadata at {}", m.endpoint)
            }
            Self::AssumeRole(r) => format!(
                "role {} assumed with STS at {} ({})",
                quoted_value(&r.role_arn),
                r.sts.url,
                r.origin
            ),
            Self::Sso(s) => format!(
                "IAM Identity Center role {} of account {} ({})",
                quoted_value(&s.role_name),
                quoted_value(&s.account_id),
                s.origin
            ),
            Self::WebIdentity(w) => format!(
                "role {} assumed with the web identity token {} at STS {} ({})",
                quoted_value(&w.role_arn),
                quoted_path(&w.token_file),
                w.sts.url,
                w.origin
            ),
        }
    }
}

/// A profile's `credential_process`: a command that prints credentials as JSON
/// (`{"Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …,
/// "Expiration": …}`), split into words as botocore splits it (`shlex.split`: quotes and
/// backslashes, no variables or redirections; on Windows the C runtime's rules) and run
/// without a shell.
///
/// Messages and `Debug` name only the program, as its arguments may hold a secret (a
/// password, a token); `origin` says where the whole line is.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialProcess {
    /// The command line.
    pub command: String,
    /// Where it was configured, for messages.
    pub origin: String,
}

impl CredentialProcess {
    /// The program the command runs, without its arguments, for messages.
    pub(crate) fn program(&self) -> String {
        program_of(&self.command)
    }
}

/// The first word of a `credential_process` line (its program), for messages: never
/// its arguments, and quoted short as every setting a message quotes
/// ([`quoted_value`](crate::config::quoted_value)): a quoted word may run onto the
/// lines below, which may hold a secret.
pub(crate) fn program_of(command: &str) -> String {
    let program = match crate::shell_words::split_command(command) {
        Ok(words) => words.into_iter().next().unwrap_or_default(),
        Err(_) => command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    quoted_value(&program)
}

impl fmt::Debug for CredentialProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialProcess")
            .field("program", &self.program())
            .field("arguments", &"** redacted **")
            .field("origin", &self.origin)
            .finish()
    }
}

/// The container credentials endpoint: `http://169.254.170.2` +
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS), or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity, or a loopback address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEndpoint {
    /// The full `http://` URI.
    pub uri: String,
    /// The `Authorization` header to send, if any.
    pub authorization: Option<ContainerAuthorization>,
    /// Which variable gave the URI.
    pub origin: String,
}

/// Where the container endpoint's `Authorization` value comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ContainerAuthorization {
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN` (never printed by `Debug`).
    Token(String),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read at every fetch (it is rotated).
    TokenFile(PathBuf),
}

impl fmt::Debug for ContainerAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(***)"),
            Self::TokenFile(path) => f.debug_tuple("TokenFile").field(path).finish(),
        }
    }
}

/// EC2 instance metadata (IMDSv2 session tokens; IMDSv1 only when the token request is
/// refused and `allow_v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMetadata {
    /// `http://169.254.169.254`, or `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
    pub endpoint: String,
    /// Each request (connection included) may take this long
    /// (`AWS_METADATA_SERVICE_TIMEOUT`, 1 s by default).
    pub timeout: Duration,
    /// Attempts per request (`AWS_METADATA_SERVICE_NUM_ATTEMPTS`, 1 by default).
    pub attempts: u32,
    /// Whether IMDSv1 may be used when the token request is refused
    /// (`AWS_EC2_METADATA_V1_DISABLED` turns it off).
    pub allow_v1: bool,
}

/// The AWS STS endpoint roles are assumed at, and the region that signs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsEndpoint {
    /// `https://sts.{region}.amazonaws.com`, or `AWS_ENDPOINT_URL_STS` & co.
    pub url: String,
    /// The region requests are signed for.
    pub region: String,
}

/// A role assumed with STS `AssumeRole`: a profile's `role_arn` with `source_profile`
/// or `credential_source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// The role's ARN.
    pub role_arn: String,
    /// `role_session_name`; `None`: `kms-client-{unix seconds}`, named at each call.
    pub session_name: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `duration_seconds` (STS's default, one hour, when unset).
    pub duration_seconds: Option<u32>,
    /// `mfa_serial`: the MFA device whose current code STS wants with the call, asked for
    /// through the configuration's [`MfaPrompt`].
    pub mfa_serial: Option<String>,
    /// The credentials that sign the `AssumeRole` call.
    pub source: Box<CredentialsSource>,
    /// Where to call STS.
    pub sts: StsEndpoint,
    /// Where the role was configured, for messages.
    pub origin: String,
}

/// A role assumed with STS `AssumeRoleWithWebIdentity` (an unsigned call): the token in
/// `AWS_WEB_IDENTITY_TOKEN_FILE` for `AWS_ROLE_ARN`, as EKS sets them up, or a profile's
/// `web_identity_token_file` with its `role_arn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    /// The role's ARN.
    pub role_arn: String,
    /// The file holding the token, read at every fetch (it is rotated).
    pub token_file: PathBuf,
    /// `AWS_ROLE_SESSION_NAME` / `role_session_name`, else `kms-client-{unix seconds}`.
    pub session_name: String,
    /// Where to call STS.
    pub sts: StsEndpoint,
    /// Where the role was configured, for messages.
    pub origin: String,
}

/// An IAM Identity Center (SSO) role: its credentials come from the SSO portal, with the
/// access token that `aws sso login` cached. This client does not log in or refresh
/// that token itself: when it is missing or expired the error says which
/// `aws sso login` to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sso {
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`.
    pub role_name: String,
    /// `~/.aws/sso/cache/{SHA-1 of the sso_session name, or of the start URL}.json`.
    pub token_file: PathBuf,
    /// `https://portal.sso.{sso_region}.amazonaws.com`, or `AWS_ENDPOINT_URL_SSO` & co.
    pub portal: String,
    /// The command that logs in again, e.g. `aws sso login --profile dev`.
    pub login: String,
    /// Where an `sso_session`'s token is refreshed (SSO OIDC,
    /// `https://oidc.{sso_region}.amazonaws.com`); `None` for legacy profiles, whose
    /// tokens cannot be refreshed.
    pub oidc: Option<String>,
    /// Where it was configured, for messages.
    pub origin: String,
}

impl Sso {
    /// The token cache file of `aws sso login` for a session name (`sso_session`) or,
    /// for a legacy profile, its start URL, under `home`.
    pub fn token_file_for(home: &std::path::Path, session_or_start_url: &str) -> PathBuf {
        let name = sha1_hex(session_or_start_url);
        home.join(".aws/sso/cache").join(format!("{name}.json"))
    }
}

/// Asks the person at the keyboard for the current code of an MFA device, for roles with
/// `mfa_serial`: given the prompt (`Enter MFA code for arn:aws:iam::…:mfa/…: `, as the
/// AWS CLI words it), answers the code. Called on a blocking thread, once per role
/// assumed; the `kms` program reads the code from stdin.
#[derive(Clone)]
pub struct MfaPrompt(Arc<AskFn>);

/// What an [`MfaPrompt`] calls: the prompt in, the code out.
type AskFn = dyn Fn(&str) -> std::io::Result<String> + Send + Sync;

impl MfaPrompt {
    /// A prompt that calls `ask` (on a blocking thread) with the prompt text (`Enter
    /// MFA code for arn:aws:iam::…:mfa/…: `) and uses its answer, trimmed, as the code,
    /// which must be 6 digits. An `Err`, or another answer, fails the credentials with
    /// an error saying so (an answer that is not a code is not echoed).
    pub fn new(ask: impl Fn(&str) -> std::io::Result<String> + Send + Sync + 'static) -> Self {
        Self(Arc::new(ask))
    }
}

impl fmt::Debug for MfaPrompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaPrompt(..)")
    }
}

/// The same prompt (not merely one that behaves alike).
impl PartialEq for MfaPrompt {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for MfaPrompt {}

/// The SHA-1 of `text` in lower-case hex: how the AWS CLI names its cache files.
fn sha1_hex(text: &str) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Credentials could not be fetched. The message names the source and what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot get AWS credentials from {provider}: {reason}")]
pub struct CredentialsError {
    /// The source, as [`CredentialsSource::describe`] says it.
    pub provider: String,
    /// What went wrong.
    pub reason: String,
}

/// Credentials and when they expire (`None`: they do not).
#[derive(Debug, Clone)]
struct Fetched {
    credentials: Arc<Credentials>,
    expires: Option<SystemTime>,
    /// The AWS CLI's cache file they were read from, if they were.
    cached_in: Option<PathBuf>,
}

impl Fetched {
    fn valid_at(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|e| e > now)
    }

    fn fresh_at(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|e| e > now + REFRESH_BEFORE_EXPIRY)
    }
}

/// What fetching may use: the client's HTTP stack (for STS: TLS, proxies, CA bundle)
/// and its timeouts.
#[derive(Debug, Clone)]
pub(crate) struct FetchContext {
    pub(crate) http: HttpClient,
    /// The container endpoint's client: never through a proxy.
    pub(crate) direct: crate::client::DirectHttp,
    /// For the `Proxy-Authorization` of requests forwarded by a proxy with credentials.
    pub(crate) proxy: crate::proxy::ProxyConfig,
    /// One STS attempt.
    pub(crate) attempt_timeout: Duration,
    /// A whole `credential_process` run.
    pub(crate) process_timeout: Duration,
    /// Asks for the code of a role's `mfa_serial`.
    pub(crate) mfa_prompt: Option<MfaPrompt>,
    /// The AWS CLI's cache of assumed-role credentials (`~/.aws/cli/cache`), if used.
    pub(crate) assumed_role_cache: Option<PathBuf>,
}

/// What [`CredentialsCache::get`] answers: the credentials, and for `--debug` a line
/// saying where they came from when they were just fetched.
pub(crate) struct Obtained {
    pub(crate) credentials: Arc<Credentials>,
    pub(crate) note: Option<String>,
}

/// `, expiring 2026-12-05T04:00:00Z` (nothing for credentials that do not expire).
fn expiry(expires: Option<SystemTime>) -> String {
    expires.map_or_else(String::new, |e| {
        format!(", expiring {}", Timestamp::from(e).to_rfc3339())
    })
}

/// The credentials of one client: fixed, or fetched from their source and cached.
#[derive(Debug)]
pub(crate) struct CredentialsCache {
    source: CredentialsSource,
    context: FetchContext,
    fixed: Option<Arc<Credentials>>,
    /// Held while fetching, so that concurrent calls fetch once.
    current: futures_util::lock::Mutex<Option<Fetched>>,
}

impl CredentialsCache {
    pub(crate) fn new(source: CredentialsSource, context: FetchContext) -> Self {
        let fixed = source.as_static().cloned().map(Arc::new);
        Self {
            source,
            context,
            fixed,
            current: futures_util::lock::Mutex::new(None),
        }
    }

    /// Credentials to sign with now.
    pub(crate) async fn get(&self) -> Result<Obtained, CredentialsError> {
        if let Some(fixed) = &self.fixed {
            return Ok(Obtained {
                credentials: fixed.clone(),
                note: None,
            });
        }
        let mut current = self.current.lock().await;
        let now = SystemTime::now();
        if let Some(cached) = current.as_ref().filter(|c| c.fresh_at(now)) {
            return Ok(Obtained {
                credentials: cached.credentials.clone(),
                note: None,
            });
        }
        let source = self.source.describe();
        let fetched = fetch(&self.source, &self.context).await;
        match fetched {
            Ok(fetched) => {
                let cached = fetched.cached_in.as_ref().map_or_else(String::new, |file| {
                    format!(", cached by the AWS CLI in {}", file.display())
                });
                let note = format!(
                    "DEBUG credentials: access key {} from {source}{cached}{}\n",
                    fetched.credentials.access_key_id,
                    expiry(fetched.expires)
                );
                let credentials = fetched.credentials.clone();
                *current = Some(fetched);
                Ok(Obtained {
                    credentials,
                    note: Some(note),
                })
            }
            Err(reason) => match current.as_ref().filter(|c| c.valid_at(now)) {
                // Still valid: use them, and try again at the next call.
                Some(cached) => Ok(Obtained {
                    credentials: cached.credentials.clone(),
                    note: Some(format!(
                        "DEBUG credentials: refreshing from {source} failed ({reason}); the \
                         cached ones are used{}\n",
                        expiry(cached.expires)
                    )),
                }),
                None => Err(CredentialsError {
                    provider: source,
                    reason,
                }),
            },
        }
    }
}

/// Credentials from their source, the one way every fetch goes (a role's source too):
/// already expired when fetched, they are an error, as botocore's "Credentials were
/// refreshed, but the refreshed credentials are still expired." Not for instance metadata,
/// whose expired credentials botocore keeps using for a while (static stability) rather
/// than fail.
async fn fetch(source: &CredentialsSource, context: &FetchContext) -> Result<Fetched, String> {
    let fetched = fetch_unchecked(source, context).await?;
    let imds = matches!(source, CredentialsSource::InstanceMetadata(_));
    if imds || fetched.valid_at(SystemTime::now()) {
        Ok(fetched)
    } else {
        Err(format!(
            "the credentials it gave had already expired{} (Credentials were refreshed, but \
             the refreshed credentials are still expired.)",
            fetched
                .expires
                .map(|e| format!(" at {}", Timestamp::from(e).to_rfc3339()))
                .unwrap_or_default()
        ))
    }
}

/// Credentials from their source as it gives them: through [`fetch`] only.
async fn fetch_unchecked(
    source: &CredentialsSource,
    context: &FetchContext,
) -> Result<Fetched, String> {
    match source {
        CredentialsSource::Static(c) => Ok(Fetched {
            credentials: Arc::new(c.clone()),
            expires: None,
            cached_in: None,
        }),
        CredentialsSource::Process(p) => run_process(p, context.process_timeout).await,
        CredentialsSource::Container(c) => fetch_container(c, context).await,
        CredentialsSource::InstanceMetadata(m) => fetch_instance_metadata(m, context).await,
        CredentialsSource::AssumeRole(r) => assume_role(r, context).await,
        CredentialsSource::WebIdentity(w) => assume_role_with_web_identity(w, context).await,
        CredentialsSource::Sso(sso) => sso_role_credentials(sso, context).await,
    }
}

// ---------------------------------------------------------------------------
// The JSON documents
// ---------------------------------------------------------------------------

/// A JSON object as the credential sources answer, its members read by name (read
/// through `serde_json::Value`: one deserializer for every document, not one per shape).
struct JsonObject(serde_json::Map<String, serde_json::Value>);

impl JsonObject {
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        match serde_json::from_slice(bytes) {
            Ok(serde_json::Value::Object(members)) => Ok(Self(members)),
            Ok(_) => Err("not a JSON object".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A string member.
    fn text(&self, name: &str) -> Option<String> {
        self.0.get(name)?.as_str().map(str::to_owned)
    }

    /// A whole-number member.
    fn number(&self, name: &str) -> Option<i64> {
        self.0.get(name)?.as_i64()
    }

    /// The keys, the session token member `token` and `Expiration`, as the container
    /// endpoint and instance metadata write them (temporary credentials: an
    /// `Expiration` needs a session token).
    fn credentials(&self, token: &str) -> Result<Fetched, String> {
        credentials_of(
            self.text("AccessKeyId"),
            self.text("SecretAccessKey"),
            self.text(token),
            self.text("Expiration"),
            token,
        )
    }

    /// The keys, `SessionToken` and `Expiration` as `credential_process` writes them:
    /// both of the last two optional, as in botocore (a helper may hand out long-term
    /// keys that it rotates, with the time they are good until).
    fn process_credentials(&self) -> Result<Fetched, String> {
        keys_of(
            self.text("AccessKeyId"),
            self.text("SecretAccessKey"),
            self.text("SessionToken"),
            self.text("Expiration"),
        )
    }
}

/// Keys and expiration out of a document, naming the first missing member; an
/// `Expiration` without a session token is refused (temporary credentials always carry
/// one).
fn credentials_of(
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
    token_member: &str,
) -> Result<Fetched, String> {
    let fetched = keys_of(access_key_id, secret_access_key, token, expiration)?;
    if fetched.credentials.session_token.is_none() && fetched.expires.is_some() {
        return Err(format!(
            "the answer has an Expiration but no {token_member}"
        ));
    }
    Ok(fetched)
}

/// [`credentials_of`] without the session token check.
fn keys_of(
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
) -> Result<Fetched, String> {
    let present = |v: Option<String>, member: &str| {
        v.filter(|v| !v.is_empty())
            .ok_or_else(|| format!("the answer has no {member}"))
    };
    let access_key_id = present(access_key_id, "AccessKeyId")?;
    let secret_access_key = present(secret_access_key, "SecretAccessKey")?;
    let expires = match expiration {
        Some(text) => Some(
            Timestamp::parse_expiration(&text)
                .map_err(|e| format!("its Expiration: {e}"))?
                .into(),
        ),
        None => None,
    };
    let session_token = token.filter(|t| !t.is_empty());
    Ok(Fetched {
        credentials: Arc::new(Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        }),
        expires,
        cached_in: None,
    })
}

// ---------------------------------------------------------------------------
// credential_process
// ---------------------------------------------------------------------------

/// The exit status and output of `child`, reading at most [`MAX_BODY_BYTES`] of each of
/// stdout and stderr: `None` (and the child killed) when it printed more, so that a
/// runaway helper (`credential_process = yes`) cannot fill the memory.
async fn bounded_output(child: &mut tokio::process::Child) -> std::io::Result<Option<Output>> {
    use tokio::io::AsyncReadExt;
    let limit = MAX_BODY_BYTES as u64 + 1;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let read_out = async {
        match out {
            Some(out) => out.take(limit).read_to_end(&mut stdout).await.map(drop),
            None => Ok(()),
        }
    };
    let read_err = async {
        match err {
            Some(err) => err.take(limit).read_to_end(&mut stderr).await.map(drop),
            None => Ok(()),
        }
    };
    // Not `tokio::join!`: the library leaves tokio's `macros` feature to the `cli` one.
    let (read_out, read_err) = futures_util::future::join(read_out, read_err).await;
    read_out?;
    read_err?;
    if stdout.len() > MAX_BODY_BYTES || stderr.len() > MAX_BODY_BYTES {
        child.start_kill()?;
        return Ok(None);
    }
    let status = child.wait().await?;
    Ok(Some(Output {
        status,
        stdout,
        stderr,
    }))
}

async fn run_process(p: &CredentialProcess, timeout: Duration) -> Result<Fetched, String> {
    let words = crate::shell_words::split_command(&p.command)
        .map_err(|e| format!("cannot split the command into words: {e}"))?;
    let name = p.program();
    let Some((program, args)) = words.split_first() else {
        return Err("the command is empty".to_owned());
    };
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {name:?}: {e}"))?;
    let output = tokio::time::timeout(timeout, bounded_output(&mut child))
        .await
        .map_err(|_| {
            format!(
                "{name:?} did not finish within {} s; it was stopped",
                timeout.as_secs_f64()
            )
        })?
        .map_err(|e| format!("running {name:?}: {e}"))?
        .ok_or_else(|| {
            format!(
                "{name:?} printed more than {} KiB; it was stopped (credentials JSON is \
                 far smaller)",
                MAX_BODY_BYTES / 1024
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = excerpt(stderr.trim());
        return Err(format!(
            "{name:?} failed ({}){}",
            output.status,
            if stderr.is_empty() {
                String::new()
            } else {
                format!(": {stderr}")
            }
        ));
    }
    process_credentials(&name, &output.stdout)
}

/// The credentials in what `credential_process` program `name` printed (`stdout`).
fn process_credentials(name: &str, stdout: &[u8]) -> Result<Fetched, String> {
    // Never echo the output: it holds the secret.
    let document = JsonObject::parse(stdout).map_err(|e| {
        format!(
            "{name:?} printed no credentials JSON ({e}); it must print {{\"Version\": 1, \
             \"AccessKeyId\": …, \"SecretAccessKey\": …}}"
        )
    })?;
    match document.0.get("Version") {
        Some(v) if v.as_u64() == Some(1) => {}
        // A number is quoted (it is short); anything else may be the output itself.
        Some(v) if v.is_number() => {
            return Err(format!(
                "{name:?} printed Version {v}; only Version 1 is supported"
            ));
        }
        Some(v) => {
            return Err(format!(
                "{name:?} printed a Version that is a {}, not 1",
                match v {
                    serde_json::Value::String(_) => "string",
                    serde_json::Value::Array(_) => "list",
                    serde_json::Value::Object(_) => "JSON object",
                    serde_json::Value::Bool(_) => "boolean",
                    _ => "null",
                }
            ));
        }
        None => {
            return Err(format!("{name:?} printed no Version; it must be 1"));
        }
    }
    document.process_credentials()
}

/// The keys of `fetched`: id, secret and session token (for the fuzz targets).
fn keys(fetched: Fetched) -> [Option<String>; 3] {
    let c = &fetched.credentials;
    [
        Some(c.access_key_id.clone()),
        Some(c.secret_access_key.clone()),
        c.session_token.clone(),
    ]
}

/// [`process_credentials`] of a program named `helper`, as keys (for the fuzz targets).
pub(crate) fn process_output(stdout: &[u8]) -> Result<[Option<String>; 3], String> {
    process_credentials("helper", stdout).map(keys)
}

/// [`sts_credentials`], as keys (for the fuzz targets).
pub(crate) fn sts_answer(xml: &str) -> Result<[Option<String>; 3], String> {
    sts_credentials(xml).map(keys)
}

/// The first 300 characters of a text, for messages.
fn excerpt(text: &str) -> String {
    kms_types::validation::excerpt(text, 300).into_owned()
}

// ---------------------------------------------------------------------------
// HTTP to the metadata and container endpoints
// ---------------------------------------------------------------------------

/// Which way a request to a credentials endpoint goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Through the client's HTTP stack: the proxy settings apply as for KMS (`NO_PROXY`
    /// exempts hosts). Instance metadata, STS and SSO, as in botocore.
    Configured,
    /// Never through a proxy: the container endpoint, as in botocore (its authorization
    /// token and the role's credentials must not cross a proxy).
    Direct,
}

/// One request to the metadata or container endpoint, going `route`, bounded by
/// `timeout`.
async fn exchange(
    context: &FetchContext,
    route: Route,
    uri: &Uri,
    method: Method,
    headers: &[(HeaderName, HeaderValue)],
    timeout: Duration,
) -> Result<(StatusCode, Bytes), String> {
    let host = crate::client::host_header(uri).ok_or_else(|| format!("{uri} has no host"))?;
    let mut request = Request::builder()
        .method(method)
        .uri(uri.clone())
        .header(HOST, host)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    for (name, value) in headers {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    send_within(context, route, request, timeout).await
}

/// The status and body (at most [`MAX_BODY_BYTES`]) of a response.
async fn read_answer(
    response: http::Response<hyper::body::Incoming>,
) -> Result<(StatusCode, Bytes), String> {
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    Ok((status, body))
}

/// [`exchange`] with up to `attempts` tries for unanswered requests and 5xx answers.
async fn exchange_with_retries(
    context: &FetchContext,
    route: Route,
    uri: &Uri,
    method: Method,
    headers: &[(HeaderName, HeaderValue)],
    timeout: Duration,
    attempts: u32,
) -> Result<(StatusCode, Bytes), String> {
    let mut attempt = 1;
    loop {
        let last = attempt >= attempts.max(1);
        match exchange(context, route, uri, method.clone(), headers, timeout).await {
            Ok((status, _)) if status.is_server_error() && !last => {}
            Ok(answer) => return Ok(answer),
            Err(e) if last => {
                return Err(if attempts > 1 {
                    format!("{method} {e} ({attempts} attempts)")
                } else {
                    format!("{method} {e}")
                });
            }
            Err(_) => {}
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn parse_uri(text: &str) -> Result<Uri, String> {
    text.parse::<Uri>()
        .map_err(|e| format!("{text:?} is not a URI: {e}"))
}

/// The answer's body as text for a message (the start of it).
fn body_text(body: &Bytes) -> String {
    excerpt(String::from_utf8_lossy(body).trim())
}

// ---------------------------------------------------------------------------
// Container endpoint (ECS, EKS Pod Identity)
// ---------------------------------------------------------------------------

async fn fetch_container(c: &ContainerEndpoint, context: &FetchContext) -> Result<Fetched, String> {
    let uri = parse_uri(&c.uri)?;
    let mut headers = Vec::new();
    if let Some(authorization) = &c.authorization {
        let token = match authorization {
            ContainerAuthorization::Token(t) => t.trim().to_owned(),
            ContainerAuthorization::TokenFile(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    format!(
                        "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}: {e}",
                        path.display()
                    )
                })?
                .trim()
                .to_owned(),
        };
        let value = HeaderValue::from_str(&token).map_err(|_| {
            "the authorization token is not a valid header value (line breaks or control \
             characters)"
                .to_owned()
        })?;
        headers.push((AUTHORIZATION, value));
    }
    let (status, body) = exchange_with_retries(
        context,
        Route::Direct,
        &uri,
        Method::GET,
        &headers,
        CONTAINER_TIMEOUT,
        CONTAINER_ATTEMPTS,
    )
    .await?;
    if status != StatusCode::OK {
        return Err(format!("HTTP {status}: {}", body_text(&body)));
    }
    JsonObject::parse(&body)
        .map_err(|e| format!("the answer is not credentials JSON ({e})"))?
        .credentials("Token")
}

// ---------------------------------------------------------------------------
// EC2 instance metadata
// ---------------------------------------------------------------------------

async fn fetch_instance_metadata(
    m: &InstanceMetadata,
    context: &FetchContext,
) -> Result<Fetched, String> {
    let base = m.endpoint.trim_end_matches('/');
    let uri = |path: &str| parse_uri(&format!("{base}{path}"));
    let get = |uri: Uri, headers: Vec<(HeaderName, HeaderValue)>| async move {
        exchange_with_retries(
            context,
            Route::Configured,
            &uri,
            Method::GET,
            &headers,
            m.timeout,
            m.attempts,
        )
        .await
    };
    let unanswered = |e: String| {
        format!(
            "{e}; is this an EC2 instance? It was asked because neither the environment nor \
             the profile holds credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             (or a profile's aws_access_key_id / aws_secret_access_key or credential_process), \
             and set AWS_EC2_METADATA_DISABLED=true to skip instance metadata"
        )
    };

    // IMDSv2: a session token first.
    let (status, body) = exchange_with_retries(
        context,
        Route::Configured,
        &uri("/latest/api/token")?,
        Method::PUT,
        &[(
            HeaderName::from_static("x-aws-ec2-metadata-token-ttl-seconds"),
            HeaderValue::from_static(IMDS_TOKEN_TTL_SECONDS),
        )],
        m.timeout,
        m.attempts,
    )
    .await
    .map_err(unanswered)?;
    let mut headers = Vec::new();
    match status {
        StatusCode::OK => {
            let token = String::from_utf8_lossy(&body).trim().to_owned();
            let value = HeaderValue::from_str(&token)
                .map_err(|_| "the session token is not a valid header value".to_owned())?;
            headers.push((HeaderName::from_static("x-aws-ec2-metadata-token"), value));
        }
        // Refused (IMDSv2 unavailable): IMDSv1, unless that is turned off.
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            if m.allow_v1 => {}
        status => {
            return Err(format!(
                "the session token request (PUT /latest/api/token) answered HTTP {status}{}",
                if m.allow_v1 {
                    String::new()
                } else {
                    " and IMDSv1 is turned off (AWS_EC2_METADATA_V1_DISABLED)".to_owned()
                }
            ));
        }
    }

    // The role of the instance profile.
    let (status, body) = get(
        uri("/latest/meta-data/iam/security-credentials/")?,
        headers.clone(),
    )
    .await?;
    if status == StatusCode::NOT_FOUND {
        return Err("the instance has no IAM role (attach an instance profile to it)".to_owned());
    }
    if status != StatusCode::OK {
        return Err(format!(
            "listing the instance's role answered HTTP {status}: {}",
            body_text(&body)
        ));
    }
    let listing = String::from_utf8_lossy(&body);
    let role = listing
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| {
            "the instance has no IAM role (attach an instance profile to it)".to_owned()
        })?;
    if !role
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        // Not echoed: what answered may not be the metadata service.
        return Err(format!(
            "the role listing (/latest/meta-data/iam/security-credentials/) is not a role \
             name ({} bytes)",
            role.len()
        ));
    }

    // Its credentials.
    let (status, body) = get(
        uri(&format!(
            "/latest/meta-data/iam/security-credentials/{role}"
        ))?,
        headers,
    )
    .await?;
    if status != StatusCode::OK {
        return Err(format!(
            "the credentials of role {role} answered HTTP {status}: {}",
            body_text(&body)
        ));
    }
    let document = JsonObject::parse(&body)
        .map_err(|e| format!("the credentials of role {role} are not JSON ({e})"))?;
    if let Some(code) = document.text("Code").filter(|c| c != "Success") {
        return Err(format!(
            "the credentials of role {role} are not available: {code}{}",
            document
                .text("Message")
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ));
    }
    document
        .credentials("Token")
        .map_err(|e| format!("role {role}: {e}"))
}

// ---------------------------------------------------------------------------
// IAM Identity Center (SSO)
// ---------------------------------------------------------------------------

/// The access token of `aws sso login`'s cache, refreshed first (and the cache
/// updated, as the AWS CLI does) when it expires within [`REFRESH_BEFORE_EXPIRY`] and
/// the session can be refreshed.
async fn sso_access_token(sso: &Sso, context: &FetchContext) -> Result<String, String> {
    let login = |why: String| format!("{why}; run `{}`", sso.login);
    let file = sso.token_file.display();
    let text = std::fs::read(&sso.token_file)
        .map_err(|e| login(format!("no SSO token cached at {file} ({e})")))?;
    let token = JsonObject::parse(&text)
        .map_err(|e| login(format!("the SSO token cache {file} is not JSON ({e})")))?;
    let access_token = token
        .text("accessToken")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| login(format!("{file} holds no accessToken")))?;
    let Some(expires_at) = token.text("expiresAt") else {
        return Ok(access_token);
    };
    let expires: SystemTime = Timestamp::parse_expiration(&expires_at)
        .map_err(|e| login(format!("the SSO token's expiresAt: {e}")))?
        .into();
    let now = SystemTime::now();
    if expires > now + REFRESH_BEFORE_EXPIRY {
        return Ok(access_token);
    }
    let refreshed = match &sso.oidc {
        Some(oidc) => refresh_sso_token(sso, oidc, token, context).await,
        None => Err("a legacy profile's token (sso_start_url) cannot be refreshed".to_owned()),
    };
    match refreshed {
        Ok(fresh) => Ok(fresh),
        Err(_) if expires > now => Ok(access_token),
        Err(why) => Err(login(format!(
            "the SSO token expired at {expires_at} ({why})"
        ))),
    }
}

/// SSO OIDC `CreateToken` with the cached refresh token; writes the new token into the
/// cache file (the other members kept) and answers it.
async fn refresh_sso_token(
    sso: &Sso,
    oidc: &str,
    mut token: JsonObject,
    context: &FetchContext,
) -> Result<String, String> {
    let (Some(refresh_token), Some(client_id), Some(client_secret)) = (
        token.text("refreshToken"),
        token.text("clientId"),
        token.text("clientSecret"),
    ) else {
        return Err("the cache holds no refresh token and client registration".to_owned());
    };
    if let Some(at) = token.text("registrationExpiresAt")
        && Timestamp::parse_expiration(&at).is_ok_and(|t| SystemTime::from(t) <= SystemTime::now())
    {
        return Err(format!("the client registration expired at {at}"));
    }
    let body = serde_json::json!({
        "clientId": client_id,
        "clientSecret": client_secret,
        "grantType": "refresh_token",
        "refreshToken": refresh_token,
    });
    let uri = parse_uri(&format!("{}/token", oidc.trim_end_matches('/')))?;
    let host = crate::client::host_header(&uri)
        .ok_or_else(|| format!("the SSO OIDC endpoint {oidc} has no host"))?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(HOST, host)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| format!("the SSO OIDC request: {e}"))?;
    let (status, answer) = send(context, request).await?;
    if status != StatusCode::OK {
        return Err(format!(
            "refreshing it at {oidc} answered HTTP {status}: {}",
            body_text(&answer)
        ));
    }
    let created = JsonObject::parse(&answer)
        .map_err(|e| format!("SSO OIDC's answer is not a token ({e})"))?;
    let (Some(access_token), Some(expires_in)) =
        (created.text("accessToken"), created.number("expiresIn"))
    else {
        return Err("SSO OIDC's answer has no accessToken and expiresIn".to_owned());
    };
    // Update the cache as `aws sso login` would read it; keep what this client does not know.
    let expires_at = Timestamp::from_secs(Timestamp::now().secs() + expires_in);
    token
        .0
        .insert("accessToken".into(), access_token.clone().into());
    token
        .0
        .insert("expiresAt".into(), expires_at.to_rfc3339().into());
    if let Some(r) = created.text("refreshToken") {
        token.0.insert("refreshToken".into(), r.into());
    }
    let text = serde_json::to_vec(&token.0).map_err(|e| e.to_string())?;
    write_private(&sso.token_file, &text).map_err(|e| {
        format!(
            "the token was refreshed but {} could not be updated: {e}",
            sso.token_file.display()
        )
    })?;
    Ok(access_token)
}

/// Replaces `file` with `bytes` at once (a reader sees the old or the new contents), in
/// a file only the user may read or write: these files hold credentials and tokens. The
/// directory is made (for the user alone) when missing.
fn write_private(file: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = file
        .parent()
        .ok_or_else(|| std::io::Error::other("the file has no directory"))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // Made anew, so that the mode below applies (a stale file of a killed run goes).
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut out| {
        out.write_all(bytes)?;
        out.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, file)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

async fn sso_role_credentials(sso: &Sso, context: &FetchContext) -> Result<Fetched, String> {
    let login = |why: String| format!("{why}; run `{}`", sso.login);
    let access_token = sso_access_token(sso, context).await?;
    let mut query = String::from("/federation/credentials?account_id=");
    sigv4::push_uri_encoded(sso.account_id.as_bytes(), &mut query);
    query.push_str("&role_name=");
    sigv4::push_uri_encoded(sso.role_name.as_bytes(), &mut query);
    let uri = parse_uri(&format!("{}{query}", sso.portal.trim_end_matches('/')))?;
    let host = crate::client::host_header(&uri)
        .ok_or_else(|| format!("the SSO portal {} has no host", sso.portal))?;
    let token_header = HeaderValue::from_str(&access_token)
        .map_err(|_| login("the cached SSO token is not a valid header value".to_owned()))?;
    let request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(HOST, host)
        .header(
            HeaderName::from_static("x-amz-sso_bearer_token"),
            token_header,
        )
        .body(Full::new(Bytes::new()))
        .map_err(|e| format!("the SSO request: {e}"))?;
    let (status, body) = send(context, request).await?;
    if status == StatusCode::UNAUTHORIZED {
        return Err(login(
            "the SSO portal refused the cached token (HTTP 401)".to_owned(),
        ));
    }
    if status != StatusCode::OK {
        let message = JsonObject::parse(&body)
            .ok()
            .and_then(|v| v.text("message"))
            .unwrap_or_else(|| body_text(&body));
        return Err(format!(
            "the SSO portal answered HTTP {status} for role {} of account {}: {message}",
            sso.role_name, sso.account_id
        ));
    }
    let answer = JsonObject::parse(&body)
        .map_err(|e| format!("the SSO portal's answer is not role credentials JSON ({e})"))?;
    let Some(serde_json::Value::Object(role)) = answer.0.get("roleCredentials") else {
        return Err("the SSO portal's answer has no roleCredentials".to_owned());
    };
    let role = JsonObject(role.clone());
    credentials_of(
        role.text("accessKeyId"),
        role.text("secretAccessKey"),
        role.text("sessionToken"),
        role.number("expiration")
            .map(|ms| Timestamp::from_millis(ms).to_rfc3339()),
        "sessionToken",
    )
}

/// One request through the client's HTTP stack, bounded by the attempt timeout.
async fn send(
    context: &FetchContext,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), String> {
    send_within(context, Route::Configured, request, context.attempt_timeout).await
}

/// One request through the client's HTTP stack, bounded by `timeout`; errors start
/// with the URI.
async fn send_within(
    context: &FetchContext,
    route: Route,
    request: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), String> {
    let uri = request.uri().clone();
    if uri.scheme_str() == Some("https") && !cfg!(feature = "rustls") {
        return Err(format!(
            "{uri} uses https, but this kms-client was built without its `rustls` feature"
        ));
    }
    let mut request = request;
    let http = match route {
        Route::Configured => {
            if let Some(authorization) = context
                .proxy
                .via(&uri)
                .and_then(|via| via.forward_authorization)
            {
                request
                    .headers_mut()
                    .insert(http::header::PROXY_AUTHORIZATION, authorization);
            }
            &context.http
        }
        Route::Direct => context.direct.get(),
    };
    tokio::time::timeout(timeout, async {
        let response = http.request(request).await.map_err(|e| {
            let chain = crate::error::chain(&e);
            if e.is_connect() {
                format!("{uri}: cannot connect: {chain}")
            } else {
                format!("{uri}: {chain}")
            }
        })?;
        read_answer(response).await
    })
    .await
    .unwrap_or_else(|_| {
        Err(format!(
            "{uri}: no answer within {} s",
            timeout.as_secs_f64()
        ))
    })
}

// ---------------------------------------------------------------------------
// AWS STS (query protocol, XML answers)
// ---------------------------------------------------------------------------

/// The STS API version of the query protocol.
const STS_VERSION: &str = "2011-06-15";
/// Attempts at STS (transport failures, timeouts, throttling, 5xx).
const STS_ATTEMPTS: u32 = 3;

async fn assume_role(r: &AssumeRole, context: &FetchContext) -> Result<Fetched, String> {
    let cache_file = context
        .assumed_role_cache
        .as_ref()
        .map(|dir| dir.join(aws_cli_cache::file_name(r)));
    if let Some(fetched) = cache_file
        .as_deref()
        .and_then(|file| aws_cli_cache::read(file, SystemTime::now()))
    {
        return Ok(fetched);
    }
    let mfa = match (&r.mfa_serial, &context.mfa_prompt) {
        (Some(serial), None) => {
            let serial = quoted_value(serial);
            let hint = if context.assumed_role_cache.is_some() {
                "; run an `aws` command with this profile first: the credentials the AWS CLI \
                 caches are used"
            } else {
                ""
            };
            return Err(format!(
                "the role needs the current code of the MFA device {serial} (mfa_serial), \
                 and this program has no way to ask for it{hint}"
            ));
        }
        (Some(serial), Some(prompt)) => Some((serial, prompt)),
        (None, _) => None,
    };
    // A role's source may itself be a role (a chain of profiles): boxed recursion.
    let source = Box::pin(fetch(&r.source, context))
        .await
        .map_err(|e| format!("its source, {}: {e}", r.source.describe()))?;
    let session_name = r.session_name.clone().unwrap_or_else(default_session_name);
    let duration = r.duration_seconds.map(|d| d.to_string());
    let code;
    let mut params = vec![
        ("Action", "AssumeRole"),
        ("Version", STS_VERSION),
        ("RoleArn", r.role_arn.as_str()),
        ("RoleSessionName", session_name.as_str()),
    ];
    if let Some(id) = &r.external_id {
        params.push(("ExternalId", id));
    }
    if let Some(d) = &duration {
        params.push(("DurationSeconds", d));
    }
    // Asked for last, right before the call: a code is only good for a short while.
    if let Some((serial, prompt)) = mfa {
        code = ask_mfa_code(prompt, serial).await?;
        params.push(("SerialNumber", serial));
        params.push(("TokenCode", &code));
    }
    let fetched = call_sts(context, &r.sts, &params, Some(&source.credentials)).await?;
    if let Some(file) = &cache_file {
        // A cache that cannot be written costs only another call next time.
        let _ = aws_cli_cache::write(file, &fetched);
    }
    Ok(fetched)
}

/// `kms-client-{unix seconds}`, the session name of a role without `role_session_name`.
pub(crate) fn default_session_name() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("kms-client-{secs}")
}

/// The six digits the MFA device `serial` shows now, from `prompt`.
async fn ask_mfa_code(prompt: &MfaPrompt, serial: &str) -> Result<String, String> {
    let serial = quoted_value(serial);
    let ask = prompt.0.clone();
    let text = format!("Enter MFA code for {serial}: ");
    let answer = tokio::task::spawn_blocking(move || ask(&text))
        .await
        .map_err(|e| format!("asking for the MFA code of {serial} failed: {e}"))?
        .map_err(|e| format!("no MFA code for {serial} could be read: {e}"))?;
    let code = answer.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        // Not echoed: it may be something else typed by mistake.
        return Err(format!(
            "the MFA code for {serial} must be the 6 digits the device shows \
             (the answer had {} characters)",
            code.chars().count()
        ));
    }
    Ok(code.to_owned())
}

async fn assume_role_with_web_identity(
    w: &WebIdentity,
    context: &FetchContext,
) -> Result<Fetched, String> {
    let token = std::fs::read_to_string(&w.token_file).map_err(|e| {
        format!(
            "cannot read the token file {}: {e}",
            quoted_path(&w.token_file)
        )
    })?;
    let token = token.trim();
    if token.is_empty() {
        return Err(format!(
            "the token file {} is empty",
            quoted_path(&w.token_file)
        ));
    }
    let params = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", STS_VERSION),
        ("RoleArn", w.role_arn.as_str()),
        ("RoleSessionName", w.session_name.as_str()),
        ("WebIdentityToken", token),
    ];
    call_sts(context, &w.sts, &params, None).await
}

/// One STS action with retries; `signer` signs it (`AssumeRoleWithWebIdentity` is not
/// signed). Answers the `<Credentials>` of the result.
async fn call_sts(
    context: &FetchContext,
    sts: &StsEndpoint,
    params: &[(&str, &str)],
    signer: Option<&Credentials>,
) -> Result<Fetched, String> {
    let action = params[0].1;
    let mut body = String::new();
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            body.push('&');
        }
        body.push_str(name);
        body.push('=');
        sigv4::push_uri_encoded(value.as_bytes(), &mut body);
    }
    let body = Bytes::from(body);
    let uri = parse_uri(&sts.url)?;
    let host = crate::client::host_header(&uri)
        .ok_or_else(|| format!("the STS endpoint {} has no host", sts.url))?;
    let mut attempt = 1;
    loop {
        let request = sts_request(&uri, &host, &body, sts, signer)?;
        let outcome = send(context, request).await;
        let last = attempt >= STS_ATTEMPTS;
        let answer = match outcome {
            Ok(answer) => answer,
            Err(e) if last => {
                return Err(format!("STS {action}: {e} ({STS_ATTEMPTS} attempts)"));
            }
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                continue;
            }
        };
        let (status, body) = answer;
        let text = String::from_utf8_lossy(&body);
        if status == StatusCode::OK {
            return sts_credentials(&text).map_err(|e| format!("STS {action} answered, but {e}"));
        }
        let code = xml_element(&text, "Code");
        let retryable = status.is_server_error()
            || matches!(
                code.as_deref(),
                Some("Throttling" | "IDPCommunicationError")
            );
        if retryable && !last {
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            continue;
        }
        return Err(match code {
            Some(code) => format!(
                "STS {action} failed with {code}: {} (HTTP {})",
                xml_element(&text, "Message").unwrap_or_else(|| "(no message)".to_owned()),
                status.as_u16()
            ),
            None => format!("STS {action} answered HTTP {status}: {}", body_text(&body)),
        });
    }
}

/// The signed (or, without `signer`, unsigned) form POST of one STS attempt.
fn sts_request(
    uri: &Uri,
    host: &str,
    body: &Bytes,
    sts: &StsEndpoint,
    signer: Option<&Credentials>,
) -> Result<Request<Full<Bytes>>, String> {
    const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri.clone())
        .header(HOST, host)
        .header(CONTENT_TYPE, FORM)
        .body(Full::new(body.clone()))
        .map_err(|e| format!("the STS request: {e}"))?;
    if let Some(credentials) = signer {
        let unix_secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signed = sigv4::sign(
            credentials,
            &sigv4::Request {
                method: "POST",
                path: &sigv4::canonical_path(uri.path()),
                query: "",
                headers: &[("content-type", FORM), ("host", host)],
                payload: body,
            },
            &sts.region,
            "sts",
            unix_secs,
        );
        let value = |v: &str| {
            HeaderValue::from_str(v)
                .map_err(|_| "the source credentials cannot be sent in a header".to_owned())
        };
        let headers = request.headers_mut();
        headers.insert(
            HeaderName::from_static("x-amz-date"),
            value(&signed.amz_date)?,
        );
        if let Some(token) = &credentials.session_token {
            headers.insert(
                HeaderName::from_static("x-amz-security-token"),
                value(token)?,
            );
        }
        headers.insert(AUTHORIZATION, value(&signed.authorization)?);
    }
    Ok(request)
}

/// The `<Credentials>` of an `AssumeRole…Response`.
fn sts_credentials(xml: &str) -> Result<Fetched, String> {
    let credentials = xml_element_raw(xml, "Credentials")
        .ok_or_else(|| "the answer has no Credentials".to_owned())?;
    let member = |name| xml_element(credentials, name);
    credentials_of(
        member("AccessKeyId"),
        member("SecretAccessKey"),
        member("SessionToken"),
        member("Expiration"),
        "SessionToken",
    )
}

/// The text inside the first `<tag>…</tag>`, as written.
fn xml_element_raw<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(&xml[start..end])
}

/// The text inside the first `<tag>…</tag>`, entities decoded.
pub(crate) fn xml_element(xml: &str, tag: &str) -> Option<String> {
    let raw = xml_element_raw(xml, tag)?;
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // An entity is short (the longest, `&#x10FFFF;`, is 10 bytes): looking further
        // for its `;` made a text of many `&` cost quadratic time.
        let Some(end) = rest.bytes().take(12).position(|b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Some(out.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_of_names_what_is_missing() {
        let s = |v: &str| Some(v.to_owned());
        let f = credentials_of(s("A"), s("B"), s("T"), s("2030-01-01T00:00:00Z"), "Token").unwrap();
        assert_eq!(f.credentials.session_token.as_deref(), Some("T"));
        assert_eq!(f.expires, Some(Timestamp::from_secs(1_893_456_000).into()));
        let static_keys = credentials_of(s("A"), s("B"), None, None, "Token").unwrap();
        assert_eq!(static_keys.expires, None);
        assert!(static_keys.fresh_at(SystemTime::now()));
        for (args, expected) in [
            ((None, s("B"), None, None), "no AccessKeyId"),
            ((s("A"), s(""), None, None), "no SecretAccessKey"),
            (
                (s("A"), s("B"), s("T"), s("soon")),
                "its Expiration: `soon` is not",
            ),
            (
                (s("A"), s("B"), None, s("2030-01-01T00:00:00Z")),
                "an Expiration but no Token",
            ),
        ] {
            let e = credentials_of(args.0, args.1, args.2, args.3, "Token").unwrap_err();
            assert!(e.contains(expected), "{e}");
        }
    }

    /// Found checking the credential_answers fuzz target's bound on messages: a
    /// `Version` that is not a number was quoted whole, up to the 64 KiB of output read,
    /// the secret too when a helper nested its document in it.
    #[test]
    fn a_version_is_quoted_only_when_a_number() {
        let message = |output: &str| process_credentials("helper", output.as_bytes()).unwrap_err();
        let nested = r#"{"Version": {"AccessKeyId": "AKID", "SecretAccessKey": "wJalrXUtnFEMI"}}"#;
        assert_eq!(
            message(nested),
            "\"helper\" printed a Version that is a JSON object, not 1"
        );
        let long = format!(r#"{{"Version": "{}"}}"#, "1".repeat(5000));
        assert_eq!(
            message(&long),
            "\"helper\" printed a Version that is a string, not 1"
        );
        assert_eq!(
            message(r#"{"Version": 2}"#),
            "\"helper\" printed Version 2; only Version 1 is supported"
        );
    }

    #[test]
    fn freshness() {
        let now = SystemTime::now();
        let at = |secs: u64| Fetched {
            credentials: Arc::new(Credentials::new("A", "B", Some("T".into()))),
            expires: Some(now + Duration::from_secs(secs)),
            cached_in: None,
        };
        assert!(at(3600).fresh_at(now));
        assert!(!at(60).fresh_at(now));
        assert!(at(60).valid_at(now));
        assert!(!at(0).valid_at(now));
    }

    #[test]
    fn sts_answers() {
        let ok = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
            <AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn>\
            </AssumedRoleUser><Credentials><AccessKeyId>ASIAX</AccessKeyId>\
            <SecretAccessKey>a/b+c&amp;d&#x3D;&#61;</SecretAccessKey>\
            <SessionToken>\n  TOKEN&lt;1&gt;\n</SessionToken>\
            <Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult>\
            </AssumeRoleResponse>";
        let f = sts_credentials(ok).unwrap();
        assert_eq!(f.credentials.access_key_id, "ASIAX");
        assert_eq!(f.credentials.secret_access_key, "a/b+c&d==");
        assert_eq!(f.credentials.session_token.as_deref(), Some("TOKEN<1>"));
        assert_eq!(f.expires, Some(Timestamp::from_secs(1_893_456_000).into()));
        assert_eq!(
            xml_element("<a>x &bogus; &amp</a>", "a").as_deref(),
            Some("x &bogus; &amp")
        );
        // A `;` far from its `&` ends no entity: each `&` is then literal.
        assert_eq!(
            xml_element("<a>&x&#x3D;&amp more than twelve bytes;</a>", "a").as_deref(),
            Some("&x=&amp more than twelve bytes;")
        );
        let many = "&x".repeat(30_000) + ";";
        assert_eq!(
            xml_element(&format!("<a>{many}</a>"), "a").as_deref(),
            Some(many.as_str())
        );
        let e = sts_credentials("<AssumeRoleResponse/>").unwrap_err();
        assert_eq!(e, "the answer has no Credentials");
        let e =
            sts_credentials("<Credentials><AccessKeyId>A</AccessKeyId></Credentials>").unwrap_err();
        assert!(e.contains("no SecretAccessKey"), "{e}");
    }

    #[test]
    fn debug_never_prints_the_token() {
        let c = ContainerAuthorization::Token("s3cr3t".into());
        assert_eq!(format!("{c:?}"), "Token(***)");
    }

    #[test]
    fn excerpts_are_cut_on_characters() {
        let long = "é".repeat(400);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), 301);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt("short"), "short");
    }
}
