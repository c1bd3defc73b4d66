//! Client configuration: endpoint, region, credentials, retry policy and
//! timeouts, resolved from the environment and the shared AWS files the way
//! the AWS CLI and SDKs do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::credentials::{
    AssumeRole, ContainerAuthorization, ContainerEndpoint, CredentialProcess, CredentialsSource,
    ECS_CONTAINER_ENDPOINT, IMDS_IPV4_ENDPOINT, IMDS_IPV6_ENDPOINT, InstanceMetadata, MfaPrompt,
    Sso, StsEndpoint, WebIdentity, default_session_name,
};
pub use crate::proxy::ProxyConfig;
use crate::retry::RetryConfig;
pub use crate::tls::CaBundle;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// Static AWS credentials (the type SigV4 signing takes). `Debug` never prints the
/// secret or the token.
pub use kms_types::sigv4::Credentials;

/// Network timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection (TCP + TLS).
    pub connect: Duration,
    /// One HTTP attempt, from sending the request to the end of the response.
    pub attempt: Duration,
    /// The whole operation, including all retries and backoff sleeps. Fetching temporary
    /// credentials comes first and is bounded separately: a `credential_process` run by
    /// this limit, STS and SSO requests by `attempt` each, instance metadata by its own
    /// timeout; an MFA prompt ([`Config::mfa_prompt`]) waits for its answer.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(3),
            attempt: Duration::from_secs(20),
            total: Duration::from_secs(60),
        }
    }
}

/// Fully resolved client configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// e.g. `https://kms.us-east-1.amazonaws.com` (no trailing slash).
    pub endpoint: String,
    /// The region requests are signed for, e.g. `us-east-1` (letters, digits and `-`;
    /// [`Client::try_new`](crate::Client::try_new) checks it).
    pub region: String,
    /// Fixed keys, or where to fetch temporary ones (`credential_process`, the
    /// container endpoint, EC2 instance metadata).
    pub credentials: CredentialsSource,
    /// How many attempts a call makes and how long it waits between them (default: 3
    /// attempts, exponential backoff with full jitter; `AWS_MAX_ATTEMPTS`,
    /// `max_attempts`; `AWS_RETRY_MODE` / `retry_mode` `legacy`: 5 attempts by default;
    /// `adaptive` is `standard`, without client-side rate limiting).
    pub retry: RetryConfig,
    /// Connect, per-attempt and whole-call time limits (default 3 s, 20 s, 60 s).
    pub timeouts: Timeouts,
    /// Validate request parameters client-side before sending (default `true`).
    pub validate_input: bool,
    /// Whether the endpoint is KMS's FIPS endpoint (`AWS_USE_FIPS_ENDPOINT`,
    /// `use_fips_endpoint`); `false` with a custom endpoint, which wins over the setting.
    pub use_fips: bool,
    /// Whether the endpoint is KMS's dual-stack endpoint (`AWS_USE_DUALSTACK_ENDPOINT`,
    /// `use_dualstack_endpoint`); `false` with a custom endpoint.
    pub use_dual_stack: bool,
    /// HTTP proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`); none by default
    /// for [`ConfigBuilder`].
    pub proxy: ProxyConfig,
    /// Certificate authorities trusted for HTTPS instead of the built-in Mozilla roots
    /// (`--ca-bundle`, `AWS_CA_BUNDLE`, a profile's `ca_bundle`); `None`: Mozilla's.
    pub ca_bundle: Option<CaBundle>,
    /// Asks for the MFA code of a role with `mfa_serial`. `None` (the default): such a
    /// role fails with an error saying so, unless [`Config::assumed_role_cache`] holds
    /// its credentials. The `kms` program asks on stderr and reads stdin.
    pub mfa_prompt: Option<MfaPrompt>,
    /// A directory where the credentials of roles assumed with STS `AssumeRole` are
    /// shared with the AWS CLI, in its format and file names: used while they have 15
    /// minutes left, written when fetched. The `kms` program uses the AWS CLI's own,
    /// [`Config::aws_cli_cache_dir`]. `None` (the default): kept in memory only.
    pub assumed_role_cache: Option<PathBuf>,
}

/// Values given on the command line; they beat everything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--profile`: also makes the profile win over `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
    /// and `AWS_WEB_IDENTITY_TOKEN_FILE`/`AWS_ROLE_ARN`, which are then not read.
    pub profile: Option<String>,
    /// `--region`. Given, it must be a region: an empty value (`--region "$UNSET"`) is an
    /// error, not a fall-back to the region configured elsewhere.
    pub region: Option<String>,
    /// `--endpoint-url`. Given, it must be a URL: an empty value is an error, never a
    /// fall-back to the configured (or real AWS) endpoint.
    pub endpoint_url: Option<String>,
    /// `--ca-bundle`: a PEM file of the certificate authorities to trust for HTTPS.
    /// Given, it must name a file: an empty value is an error.
    pub ca_bundle: Option<String>,
}

/// Everything that can go wrong while building a [`Config`]. Each message
/// says what to set to fix it; [`ConfigError::report`] adds the text of its cause (the
/// I/O error of [`ConfigError::Io`]), which `Display` leaves to `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No credentials anywhere in the chain (only when EC2 instance metadata, the
    /// last source, is turned off with `AWS_EC2_METADATA_DISABLED`).
    #[error("{}", missing_credentials_message(profile, credentials_file, *profile_from_flag, *env_secret_without_key))]
    MissingCredentials {
        /// The profile that was looked at.
        profile: String,
        /// The shared credentials file that was looked at.
        credentials_file: PathBuf,
        /// The profile came from `--profile`, so environment credentials were not consulted.
        profile_from_flag: bool,
        /// `AWS_SECRET_ACCESS_KEY` was set without `AWS_ACCESS_KEY_ID`.
        env_secret_without_key: bool,
    },

    #[error(
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set AWS_SECRET_ACCESS_KEY as well, \
         or unset AWS_ACCESS_KEY_ID to use the shared credentials file"
    )]
    /// `AWS_ACCESS_KEY_ID` without `AWS_SECRET_ACCESS_KEY`.
    IncompleteEnvCredentials,

    #[error(
        "profile '{profile}' sets {present} ({}, line {line}) but not {missing}: {}",
        path.display(),
        incomplete_keys_hint(missing, other_file)
    )]
    /// A profile with one of `aws_access_key_id` / `aws_secret_access_key` but not the
    /// other in the same file (botocore reads each file's keys on their own, and refuses
    /// them too).
    IncompleteProfileCredentials {
        /// The profile.
        profile: String,
        /// The key it sets.
        present: &'static str,
        /// The key it lacks.
        missing: &'static str,
        /// The file that sets `present`.
        path: PathBuf,
        /// Its line there (1-based).
        line: usize,
        /// The other file and line, when `missing` is set for the profile there.
        other_file: Option<(PathBuf, usize)>,
    },

    /// A credentials setting whose value cannot be used (a container endpoint that is
    /// not allowed, a role without a source, ...).
    #[error("invalid {setting} {value:?} from {origin}: {reason}")]
    InvalidCredentialsSetting {
        /// The setting, e.g. `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
        setting: &'static str,
        /// Its value (for `credential_process`, only its program: the arguments may
        /// hold a secret).
        value: String,
        /// Where it was set (the variable, or a profile line).
        origin: String,
        /// What is wrong and what is accepted.
        reason: String,
    },

    #[error(
        "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION), pass --region, \
         or add region = ... to profile '{profile}' in {} (AWS_CONFIG_FILE)",
        config_file.display()
    )]
    /// No region in the environment, the overrides or the profile.
    MissingRegion {
        /// The profile that was looked at.
        profile: String,
        /// The config file that was looked at.
        config_file: PathBuf,
    },

    #[error(
        "AWS profile '{profile}' (from {origin}) not found in {} (AWS_SHARED_CREDENTIALS_FILE) \
         or {} (AWS_CONFIG_FILE): add a [{profile}] section to the credentials file or a \
         [profile {profile}] section to the config file{}",
        credentials_file.display(),
        config_file.display(),
        hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    /// The selected profile is in neither shared file.
    ProfileNotFound {
        /// The profile's name.
        profile: String,
        /// `--profile`, `AWS_PROFILE` or `AWS_DEFAULT_PROFILE`.
        origin: &'static str,
        /// The shared credentials file that was looked at.
        credentials_file: PathBuf,
        /// The config file that was looked at.
        config_file: PathBuf,
        /// A further hint, e.g. the profiles that do exist.
        hint: Option<String>,
    },

    #[error("malformed AWS config file {}, line {line}: {message}", path.display())]
    /// A shared file that is not valid INI as the AWS CLI reads it.
    MalformedFile {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong there.
        message: String,
    },

    #[error("cannot read AWS config file {}", path.display())]
    /// A shared file exists but cannot be read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why (the `source()`, left out of `Display`).
        #[source]
        source: std::io::Error,
    },

    #[error(
        "invalid AWS region {value:?} from {origin}: use a region name such as us-east-1 \
         (letters, digits and '-')"
    )]
    /// A region that is not a region name (letters, digits and `-`).
    InvalidRegion {
        /// The region as given.
        value: String,
        /// Where it was set: a variable, `--region`, a profile line, `Config.region`, ...
        origin: String,
    },

    #[error(
        "invalid endpoint URL {value:?} from {origin}: it must start with https:// (or http://) \
         followed by a host, and carry no query or fragment, e.g. https://kms.us-east-1.amazonaws.com"
    )]
    /// An endpoint URL that is not `http(s)://` and a host, or carries a query or a
    /// fragment.
    InvalidEndpoint {
        /// The URL as given, anything up to its last `@` (which may be user info)
        /// replaced by `****`.
        value: String,
        /// Where it was set: `--endpoint-url`, `AWS_ENDPOINT_URL_KMS`, a profile line,
        /// `ConfigBuilder::endpoint`, `Config.endpoint`, ...
        origin: String,
    },

    #[error(
        "endpoint URL {value:?} uses https, but this kms-client was built without its `rustls` \
         feature: enable the feature, or use an http:// endpoint (such as kms-server's)"
    )]
    /// An `https://` endpoint, but kms-client was built without its `rustls` feature.
    HttpsUnsupported {
        /// The endpoint URL.
        value: String,
    },

    #[error(
        "endpoint URL {value:?} from {origin} carries a user name or password: KMS endpoints \
         take none (requests are signed with the AWS credentials instead), so remove the \
         `user:password@` part (an `@` in the path is written %40)"
    )]
    /// An endpoint URL with a user name, password or token (`http://user:password@host`,
    /// `https://token@host`), which KMS does not take: any `@` in it.
    EndpointUserInfo {
        /// The endpoint URL, everything from `://` to its last `@` replaced by `****`.
        value: String,
        /// Where it was set.
        origin: String,
    },

    #[error(
        "cannot use the CA bundle {}from {origin}: {reason}; it must be a PEM file of the \
         certificate authorities to trust for HTTPS (-----BEGIN CERTIFICATE----- blocks)",
        path.as_ref().map(|p| format!("{} ", quoted_path(p))).unwrap_or_default()
    )]
    /// A CA bundle that cannot be read or holds no certificate.
    InvalidCaBundle {
        /// The file, when the bundle came from one.
        path: Option<PathBuf>,
        /// Where it was configured: `--ca-bundle`, `AWS_CA_BUNDLE`, a profile line.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },

    #[error(
        "cannot choose the KMS endpoint: {message} ({settings}); change or unset one of these \
         settings"
    )]
    /// The endpoint rules give no endpoint for these settings (e.g. FIPS with a custom
    /// endpoint, or a partition without dual-stack).
    Endpoint {
        /// The endpoint rules' message, e.g. `Invalid Configuration: FIPS and custom
        /// endpoint are not supported`.
        message: String,
        /// The settings in play and where each came from.
        settings: String,
    },

    #[error("invalid proxy {value:?} from {origin}: {reason}")]
    /// A proxy URL that is not an `http://` URL with a host and port.
    InvalidProxy {
        /// The proxy URL, password masked.
        value: String,
        /// `HTTPS_PROXY`, `http_proxy`, ...
        origin: String,
        /// What is wrong with it.
        reason: String,
    },

    #[error("invalid {setting} {value:?} from {origin}: use true or false")]
    /// A boolean setting (`AWS_USE_FIPS_ENDPOINT`, `use_dualstack_endpoint`, ...) that
    /// is neither `true` nor `false`.
    InvalidBool {
        /// The setting.
        setting: &'static str,
        /// Its value.
        value: String,
        /// Where it was set.
        origin: String,
    },

    #[error(
        "invalid max attempts {value:?} from {origin}: use a whole number from 1 to {}",
        u32::MAX
    )]
    /// `AWS_MAX_ATTEMPTS` / `max_attempts` that is not a whole number from 1 to
    /// `u32::MAX`.
    InvalidMaxAttempts {
        /// The value as given.
        value: String,
        /// Where it was set.
        origin: String,
    },

    #[error(
        "invalid retry mode {value:?} from {origin}: the retry modes are standard (the default), \
         legacy (5 attempts unless max_attempts says otherwise, with standard mode's backoff) \
         and adaptive (standard mode's retries, without adaptive mode's client-side rate \
         limiting, which kms does not do)"
    )]
    /// `AWS_RETRY_MODE` / `retry_mode` other than botocore's `standard`, `legacy` and
    /// `adaptive` (which the client treats as `standard`: it does no client-side rate
    /// limiting).
    InvalidRetryMode {
        /// The value as given.
        value: String,
        /// Where it was set.
        origin: String,
    },

    #[error("ConfigBuilder: {field} is required; call .{field}(...) before .build()")]
    /// [`ConfigBuilder::build`] without a required setting.
    BuilderMissing {
        /// `region` or `credentials`.
        field: &'static str,
    },
}

impl ConfigError {
    /// The message followed by the text of its cause, when it has one
    /// (`cannot read AWS config file /x/config: Permission denied (os error 13)`), as
    /// the `kms` CLI prints it.
    pub fn report(&self) -> String {
        crate::error::chain(self)
    }
}

fn missing_credentials_message(
    profile: &str,
    file: &Path,
    profile_from_flag: bool,
    env_secret_without_key: bool,
) -> String {
    let mut msg = if profile_from_flag {
        format!(
            "no AWS credentials found for profile '{profile}' (selected with --profile, so \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and AWS_WEB_IDENTITY_TOKEN_FILE are not \
             used): add \
             aws_access_key_id/aws_secret_access_key for profile '{profile}' to {} \
             (AWS_SHARED_CREDENTIALS_FILE)",
            file.display()
        )
    } else {
        format!(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add \
             aws_access_key_id/aws_secret_access_key for profile '{profile}' to {} \
             (AWS_SHARED_CREDENTIALS_FILE)",
            file.display()
        )
    };
    if env_secret_without_key {
        msg.push_str(" (note: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not)");
    }
    msg.push_str("; EC2 instance metadata was not asked, as AWS_EC2_METADATA_DISABLED is true");
    msg
}

// ---------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------

/// Programmatic construction of a [`Config`]; region and credentials are required.
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    endpoint: Option<String>,
    region: Option<String>,
    credentials: Option<CredentialsSource>,
    retry: Option<RetryConfig>,
    timeouts: Option<Timeouts>,
    validate_input: Option<bool>,
    ca_bundle: Option<CaBundle>,
    proxy: ProxyConfig,
    use_fips: bool,
    use_dual_stack: bool,
    mfa_prompt: Option<MfaPrompt>,
    assumed_role_cache: Option<PathBuf>,
}

impl ConfigBuilder {
    /// Endpoint URL; defaults to the region's ([`kms_types::resolve_endpoint`]).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }
    /// The region to sign for and to pick the endpoint by, e.g. `us-east-1`
    /// (required).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// Fixed keys to sign with.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(CredentialsSource::Static(credentials));
        self
    }

    /// Where to get the keys to sign with (fixed keys, `credential_process`, the
    /// container endpoint, EC2 instance metadata).
    pub fn credentials_source(mut self, source: CredentialsSource) -> Self {
        self.credentials = Some(source);
        self
    }
    /// Attempts and backoff (see [`Config::retry`]); default [`RetryConfig::default`].
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }
    /// Time limits (see [`Config::timeouts`]); default [`Timeouts::default`].
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }
    /// Whether inputs are checked with the generated validators before sending
    /// (default `true`; see [`Config::validate_input`]).
    pub fn validate_input(mut self, validate_input: bool) -> Self {
        self.validate_input = Some(validate_input);
        self
    }

    /// Send requests through these proxies (e.g. [`ProxyConfig::from_env`]).
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Call KMS's FIPS endpoint (`https://kms-fips.{region}…`); ignored with a custom
    /// endpoint, which is used as it is (as in botocore).
    pub fn use_fips(mut self, use_fips: bool) -> Self {
        self.use_fips = use_fips;
        self
    }

    /// Call KMS's dual-stack (IPv4 and IPv6) endpoint; ignored with a custom endpoint.
    pub fn use_dual_stack(mut self, use_dual_stack: bool) -> Self {
        self.use_dual_stack = use_dual_stack;
        self
    }

    /// Trust these certificate authorities for HTTPS instead of Mozilla's roots.
    pub fn ca_bundle(mut self, ca_bundle: CaBundle) -> Self {
        self.ca_bundle = Some(ca_bundle);
        self
    }

    /// How to ask for the MFA code of a role with `mfa_serial` (see [`Config::mfa_prompt`]).
    pub fn mfa_prompt(mut self, prompt: MfaPrompt) -> Self {
        self.mfa_prompt = Some(prompt);
        self
    }

    /// Share assumed roles' credentials with the AWS CLI through this directory (see
    /// [`Config::assumed_role_cache`]).
    pub fn assumed_role_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.assumed_role_cache = Some(dir.into());
        self
    }

    /// The configuration, checked. Fails with [`ConfigError::BuilderMissing`] without
    /// a region or credentials, [`ConfigError::InvalidRegion`] for a region that is not
    /// a region name, [`ConfigError::InvalidEndpoint`] or
    /// [`ConfigError::EndpointUserInfo`] for an endpoint URL that cannot be used, and
    /// [`ConfigError::Endpoint`] when the endpoint rules have no endpoint for the
    /// settings (FIPS or dual-stack where the partition has none; with a custom endpoint
    /// both are ignored). Without a custom endpoint it is the region's
    /// ([`kms_types::resolve_endpoint`]).
    pub fn build(self) -> Result<Config, ConfigError> {
        let region = self
            .region
            .ok_or(ConfigError::BuilderMissing { field: "region" })?;
        let region = check_region(&region, "ConfigBuilder::region")?;
        let credentials = self.credentials.ok_or(ConfigError::BuilderMissing {
            field: "credentials",
        })?;
        let custom = match &self.endpoint {
            Some(e) => Some(check_endpoint(e, "ConfigBuilder::endpoint")?),
            None => None,
        };
        // A custom endpoint is used as it is, FIPS and dual-stack ignored (botocore).
        let use_fips = self.use_fips && custom.is_none();
        let use_dual_stack = self.use_dual_stack && custom.is_none();
        let endpoint = endpoint_for(
            kms_types::EndpointParams {
                region: Some(region.clone()),
                use_fips,
                use_dual_stack,
                endpoint: custom,
            },
            &EndpointOrigins {
                fips: "ConfigBuilder::use_fips",
                dual_stack: "ConfigBuilder::use_dual_stack",
                endpoint: "ConfigBuilder::endpoint",
            },
        )?;
        Ok(Config {
            endpoint,
            region,
            credentials,
            retry: self.retry.unwrap_or_default(),
            timeouts: self.timeouts.unwrap_or_default(),
            validate_input: self.validate_input.unwrap_or(true),
            use_fips,
            use_dual_stack,
            proxy: self.proxy,
            ca_bundle: self.ca_bundle,
            mfa_prompt: self.mfa_prompt,
            assumed_role_cache: self.assumed_role_cache,
        })
    }
}

// ---------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What [`ConfigError::IncompleteProfileCredentials`] advises.
fn incomplete_keys_hint(missing: &str, other_file: &Option<(PathBuf, usize)>) -> String {
    match other_file {
        None => format!("add {missing} = ... to that profile"),
        Some((path, line)) => format!(
            "{missing} is in {} line {line}, but a profile's key id and secret must be in \
             the same file (the AWS CLI reads each file on its own)",
            path.display()
        ),
    }
}

/// A variable that is unset, empty or only whitespace counts as unset (as in the SDKs;
/// the AWS CLI v1 takes `AWS_PROFILE=` for a profile named "" and fails).
fn var(env: Env<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

fn nonblank(v: &Option<String>) -> Option<String> {
    v.as_ref().filter(|v| !v.trim().is_empty()).cloned()
}

fn home_dir(env: Env<'_>) -> Option<PathBuf> {
    var(env, "HOME")
        .or_else(|| var(env, "USERPROFILE"))
        .map(PathBuf::from)
}

/// Location of a shared file. `readable` is false when it could not be
/// determined (no HOME); the path is then only used in messages.
struct FileLoc {
    path: PathBuf,
    readable: bool,
}

/// `path` with a leading `~` expanded to the home directory, as the AWS CLI does.
fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
            h.join(rest.trim_start_matches(['/', '\\']))
        }
        _ => PathBuf::from(path),
    }
}

fn shared_file(env: Env<'_>, env_var: &str, default_name: &str) -> FileLoc {
    let home = home_dir(env);
    if let Some(p) = var(env, env_var) {
        return FileLoc {
            path: expand_home(&p, home.as_deref()),
            readable: true,
        };
    }
    match home {
        Some(h) => FileLoc {
            path: h.join(".aws").join(default_name),
            readable: true,
        },
        None => FileLoc {
            path: PathBuf::from(format!("~/.aws/{default_name}")),
            readable: false,
        },
    }
}

/// Which shared file an [`Ini`] is read from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SharedFile {
    /// `~/.aws/config`: botocore splits its `profile`, `sso-session` and `services`
    /// headers shell-style.
    Config,
    /// `~/.aws/credentials`: botocore takes its section names as written (its
    /// `[profile "q r"]` is the profile named `profile "q r"`).
    Credentials,
}

fn load_ini(loc: &FileLoc, file: SharedFile) -> Result<Ini, ConfigError> {
    if !loc.readable {
        return Ok(Ini::default());
    }
    match std::fs::read_to_string(&loc.path) {
        Ok(text) => parse_ini(&text, &loc.path, file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ini::default()),
        Err(source) => Err(ConfigError::Io {
            path: loc.path.clone(),
            source,
        }),
    }
}

impl Config {
    /// A builder for a configuration given in code (no environment or files read, no
    /// proxies): [`ConfigBuilder::region`] and credentials are required.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Resolve from the process environment and the shared AWS files, as the AWS CLI
    /// does. The credentials come from the SDKs' chain — the environment, the profile's
    /// role, SSO session, keys or `credential_process`, a web identity token, the
    /// container endpoint, EC2 instance metadata — as a [`CredentialsSource`]; nothing
    /// is fetched (no process run, no network) until the client's first call.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_env_with(&|k| std::env::var(k).ok(), &Overrides::default())
    }

    /// The AWS CLI's cache of assumed-role credentials, `~/.aws/cli/cache` (`None`
    /// without a home directory), for [`Config::assumed_role_cache`]; `env` as in
    /// [`Config::from_env_with`].
    pub fn aws_cli_cache_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
        home_dir(env).map(|home| home.join(".aws").join("cli").join("cache"))
    }

    /// Resolve from `env` (a stand-in for the process environment, also used
    /// for `HOME`) and the shared AWS files, with command-line `overrides`.
    pub fn from_env_with(
        env: &dyn Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let creds_loc = shared_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let config_loc = shared_file(env, "AWS_CONFIG_FILE", "config");
        let creds_ini = load_ini(&creds_loc, SharedFile::Credentials)?;
        let config_ini = load_ini(&config_loc, SharedFile::Config)?;

        // --- profile selection ------------------------------------------------
        let flag_profile = nonblank(&overrides.profile);
        let (profile_name, origin) = select_profile(env, overrides);
        let profile = Profile::merge(&profile_name, &config_ini, &creds_ini);
        if let (Some(origin), false) = (origin, profile.exists) {
            let hint = config_ini.sections.contains_key(&profile_name).then(|| {
                format!(
                    "the config file has [{profile_name}], but there profiles must be written \
                     [profile {profile_name}]"
                )
            });
            return Err(ConfigError::ProfileNotFound {
                profile: profile_name,
                origin,
                credentials_file: creds_loc.path,
                config_file: config_loc.path,
                hint,
            });
        }

        // --- region (checked here, required after the credentials) ----------------
        let region = if let Some(r) = &overrides.region {
            Some(check_region(r, "--region")?)
        } else if let Some(r) = var(env, "AWS_REGION") {
            Some(check_region(&r, "AWS_REGION")?)
        } else if let Some(r) = var(env, "AWS_DEFAULT_REGION") {
            Some(check_region(&r, "AWS_DEFAULT_REGION")?)
        } else if let Some(p) = profile.get("region").filter(|p| !p.value.is_empty()) {
            Some(check_region(&p.value, &p.origin("region"))?)
        } else {
            None
        };

        // --- credentials --------------------------------------------------------
        let (env_creds, env_secret_without_key) = if flag_profile.is_some() {
            (None, false)
        } else {
            let keys = env_credentials(env)?;
            let secret_only = keys.is_none() && var(env, "AWS_SECRET_ACCESS_KEY").is_some();
            (keys, secret_only)
        };
        let sts_region = region.clone().unwrap_or_default();
        let sts = match configured_endpoint(env, &profile, &config_ini, "sts")? {
            Some((url, _)) => StsEndpoint {
                url,
                region: sts_region,
            },
            None => StsEndpoint {
                url: format!(
                    "https://sts.{sts_region}.{}",
                    kms_types::endpoint::Partition::of(&sts_region).dns_suffix
                ),
                region: sts_region,
            },
        };
        let ctx = ChainContext {
            env,
            config: &config_ini,
            credentials: &creds_ini,
            sts,
            sso_portal: configured_endpoint(env, &profile, &config_ini, "sso")?,
            sso_oidc: configured_endpoint(env, &profile, &config_ini, "sso_oidc")?,
        };
        // The SDKs' chain: the environment; the profile's role; a web identity token
        // from the environment (EKS); the profile's keys or credential_process; the
        // container endpoint; EC2 instance metadata.
        // An explicit --profile switches the environment's web identity off too, as
        // botocore's disable_env_vars does.
        let web_identity = if flag_profile.is_some()
            || profile.get("role_arn").is_some_and(|p| !p.value.is_empty())
        {
            None
        } else {
            env_web_identity(&ctx)?
        };
        let credentials = if let Some(c) = env_creds {
            CredentialsSource::Static(c)
        } else if let Some(w) = web_identity {
            CredentialsSource::WebIdentity(w)
        } else if let Some(source) = profile.credentials(&ctx, &[])? {
            source
        } else if let Some(container) = container_endpoint(env)? {
            CredentialsSource::Container(container)
        } else if let Some(imds) = instance_metadata(env, &profile)? {
            CredentialsSource::InstanceMetadata(imds)
        } else {
            return Err(ConfigError::MissingCredentials {
                profile: profile_name.clone(),
                credentials_file: creds_loc.path.clone(),
                profile_from_flag: flag_profile.is_some(),
                env_secret_without_key,
            });
        };

        let Some(region) = region else {
            return Err(ConfigError::MissingRegion {
                profile: profile_name,
                config_file: config_loc.path,
            });
        };

        // --- endpoint -----------------------------------------------------------
        let custom = if let Some(e) = &overrides.endpoint_url {
            Some((
                check_endpoint(e, "--endpoint-url")?,
                "--endpoint-url".to_owned(),
            ))
        } else {
            configured_endpoint(env, &profile, &config_ini, "kms")?
        };
        let (use_fips, fips_origin) =
            flag_setting(env, &profile, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint")?;
        let (use_dual_stack, dual_stack_origin) = flag_setting(
            env,
            &profile,
            "AWS_USE_DUALSTACK_ENDPOINT",
            "use_dualstack_endpoint",
        )?;
        // As in botocore (args.py), a custom endpoint is used as it is: FIPS and
        // dual-stack settings are then ignored, not an error.
        let (use_fips, use_dual_stack) = if custom.is_some() {
            (false, false)
        } else {
            (use_fips, use_dual_stack)
        };
        let (custom, custom_origin) = custom.unzip();
        let endpoint = endpoint_for(
            kms_types::EndpointParams {
                region: Some(region.clone()),
                use_fips,
                use_dual_stack,
                endpoint: custom,
            },
            &EndpointOrigins {
                fips: &fips_origin,
                dual_stack: &dual_stack_origin,
                endpoint: custom_origin.as_deref().unwrap_or_default(),
            },
        )?;

        // --- retry --------------------------------------------------------------
        let mut retry = RetryConfig::default();
        // botocore's retry modes, by their exact names: legacy makes 5 attempts by default;
        // adaptive is standard mode plus client-side rate limiting, which kms does not do,
        // so it retries as standard mode does.
        match setting(env, &profile, "AWS_RETRY_MODE", "retry_mode") {
            None => {}
            Some((mode, _)) if matches!(mode.trim(), "standard" | "adaptive") => {}
            Some((mode, _)) if mode.trim() == "legacy" => retry.max_attempts = 5,
            Some((value, origin)) => {
                return Err(ConfigError::InvalidRetryMode {
                    value: quoted_value(&value),
                    origin,
                });
            }
        }
        if let Some(v) = var(env, "AWS_MAX_ATTEMPTS") {
            retry.max_attempts = parse_max_attempts(&v, "AWS_MAX_ATTEMPTS")?;
        } else if let Some(p) = profile.get("max_attempts").filter(|p| !p.value.is_empty()) {
            retry.max_attempts = parse_max_attempts(&p.value, &p.origin("max_attempts"))?;
        }

        // --- CA bundle (the AWS CLI's order) -------------------------------------
        let home = home_dir(env);
        let ca_bundle = if let Some(p) = &overrides.ca_bundle {
            if p.trim().is_empty() {
                return Err(ConfigError::InvalidCaBundle {
                    path: None,
                    origin: "--ca-bundle".into(),
                    reason: "the value is empty".into(),
                });
            }
            Some(CaBundle::load(
                &expand_home(p.trim(), home.as_deref()),
                "--ca-bundle",
            )?)
        } else if let Some(p) = var(env, "AWS_CA_BUNDLE") {
            Some(CaBundle::load(
                &expand_home(p.trim(), home.as_deref()),
                "AWS_CA_BUNDLE",
            )?)
        } else if let Some(p) = profile.get("ca_bundle").filter(|p| !p.value.is_empty()) {
            Some(CaBundle::load(
                &expand_home(&p.value, home.as_deref()),
                &p.origin("ca_bundle"),
            )?)
        } else {
            None
        };

        Ok(Config {
            endpoint,
            region,
            credentials,
            retry,
            timeouts: Timeouts::default(),
            validate_input: true,
            use_fips,
            use_dual_stack,
            proxy: ProxyConfig::from_env_with(env)?,
            ca_bundle,
            mfa_prompt: None,
            assumed_role_cache: None,
        })
    }
}

/// One setting of the selected profile and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSetting {
    /// The value, trimmed, as far as an error may quote it: its first line, at most 128
    /// characters (the settings this is for, such as `output`, are single words; a
    /// longer value is one an error names).
    pub value: String,
    /// Where it is written: `output in /home/me/.aws/config line 3`.
    pub origin: String,
}

impl Config {
    /// The settings `keys` of the profile that `overrides.profile` (`--profile`), else
    /// `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default` selects, from the shared files as
    /// [`Config::from_env_with`] reads them (once for all the keys): for settings of the
    /// AWS CLI's that the client does not use itself, such as `output` and
    /// `cli_timestamp_format`. Each is `None` when the profile does not exist or the
    /// setting is missing or blank.
    pub fn profile_settings<const N: usize>(
        env: &dyn Fn(&str) -> Option<String>,
        overrides: &Overrides,
        keys: [&str; N],
    ) -> Result<[Option<ProfileSetting>; N], ConfigError> {
        let creds_ini = load_ini(
            &shared_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            SharedFile::Credentials,
        )?;
        let config_ini = load_ini(
            &shared_file(env, "AWS_CONFIG_FILE", "config"),
            SharedFile::Config,
        )?;
        let (name, _) = select_profile(env, overrides);
        let profile = Profile::merge(&name, &config_ini, &creds_ini);
        Ok(keys.map(|key| {
            profile.nonempty(key).map(|p| ProfileSetting {
                value: quoted_value(p.value.trim()),
                origin: p.origin(key),
            })
        }))
    }
}

/// The profile to use and what named it: `--profile`, else `AWS_PROFILE`, else
/// `AWS_DEFAULT_PROFILE` (the AWS CLI v2's order; v1 reads `AWS_DEFAULT_PROFILE` first),
/// else `default`.
fn select_profile(env: Env<'_>, overrides: &Overrides) -> (String, Option<&'static str>) {
    if let Some(p) = nonblank(&overrides.profile) {
        return (p.trim().to_string(), Some("--profile"));
    }
    for variable in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
        if let Some(p) = var(env, variable) {
            return (p.trim().to_string(), Some(variable));
        }
    }
    ("default".to_string(), None)
}

/// What resolving a profile's credentials needs besides the profile.
struct ChainContext<'a> {
    env: Env<'a>,
    /// The config file, for `source_profile`s.
    config: &'a Ini,
    /// The credentials file, for `source_profile`s.
    credentials: &'a Ini,
    /// Where roles are assumed.
    sts: StsEndpoint,
    /// The configured SSO portal (`AWS_ENDPOINT_URL_SSO` & co.), if any.
    sso_portal: Option<(String, String)>,
    /// The configured SSO OIDC endpoint (`AWS_ENDPOINT_URL_SSO_OIDC` & co.), if any.
    sso_oidc: Option<(String, String)>,
}

/// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (+ the legacy `AWS_SECURITY_TOKEN`,
/// else `AWS_SESSION_TOKEN`).
fn env_credentials(env: Env<'_>) -> Result<Option<Credentials>, ConfigError> {
    match (
        var(env, "AWS_ACCESS_KEY_ID"),
        var(env, "AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(key), Some(secret)) => Ok(Some(Credentials {
            access_key_id: key,
            secret_access_key: secret,
            // botocore's order (EnvProvider.TOKENS): the legacy AWS_SECURITY_TOKEN first.
            session_token: var(env, "AWS_SECURITY_TOKEN").or_else(|| var(env, "AWS_SESSION_TOKEN")),
        })),
        (Some(_), None) => Err(ConfigError::IncompleteEnvCredentials),
        (None, _) => Ok(None),
    }
}

/// `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN` (and `AWS_ROLE_SESSION_NAME`), as
/// EKS sets them for a service account with a role (IRSA).
fn env_web_identity(ctx: &ChainContext<'_>) -> Result<Option<WebIdentity>, ConfigError> {
    let Some(file) = var(ctx.env, "AWS_WEB_IDENTITY_TOKEN_FILE") else {
        return Ok(None);
    };
    let Some(role_arn) = var(ctx.env, "AWS_ROLE_ARN") else {
        return Err(ConfigError::InvalidCredentialsSetting {
            setting: "AWS_WEB_IDENTITY_TOKEN_FILE",
            value: file,
            origin: "AWS_WEB_IDENTITY_TOKEN_FILE".to_owned(),
            reason: "AWS_ROLE_ARN must name the role to assume with the token".to_owned(),
        });
    };
    Ok(Some(WebIdentity {
        role_arn: role_arn.trim().to_owned(),
        token_file: expand_home(file.trim(), home_dir(ctx.env).as_deref()),
        session_name: var(ctx.env, "AWS_ROLE_SESSION_NAME")
            .map_or_else(default_session_name, |n| n.trim().to_owned()),
        sts: ctx.sts.clone(),
        origin: "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE".to_owned(),
    }))
}

/// A service's configured endpoint (`kms`, `sts`): `AWS_ENDPOINT_URL_{SERVICE}`,
/// `AWS_ENDPOINT_URL`, the profile's `[services]` section, its
/// `endpoint_url` — none when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
fn configured_endpoint(
    env: Env<'_>,
    profile: &Profile,
    config: &Ini,
    service: &str,
) -> Result<Option<(String, String)>, ConfigError> {
    if ignore_configured_endpoints(env, profile) {
        return Ok(None);
    }
    let service_variable = format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase());
    let (value, origin) = if let Some(e) = var(env, &service_variable) {
        (e, service_variable)
    } else if let Some(e) = var(env, "AWS_ENDPOINT_URL") {
        (e, "AWS_ENDPOINT_URL".to_owned())
    } else if let Some(found) = profile.service_endpoint(config, service) {
        found
    } else if let Some(p) = profile.get("endpoint_url").filter(|p| !p.value.is_empty()) {
        (p.value.clone(), p.origin("endpoint_url"))
    } else {
        return Ok(None);
    };
    Ok(Some((check_endpoint(&value, &origin)?, origin)))
}

/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS) or `…_FULL_URI`, with the
/// authorization token (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, else `…_TOKEN`).
fn container_endpoint(env: Env<'_>) -> Result<Option<ContainerEndpoint>, ConfigError> {
    let invalid =
        |setting: &'static str, value: &str, reason: &str| ConfigError::InvalidCredentialsSetting {
            setting,
            value: quoted_value(value),
            origin: setting.to_owned(),
            reason: reason.to_owned(),
        };
    let (uri, origin) = if let Some(relative) = var(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        let relative = relative.trim();
        if !relative.starts_with('/') {
            return Err(invalid(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                relative,
                "it must be a path starting with /",
            ));
        }
        (
            format!("{ECS_CONTAINER_ENDPOINT}{relative}"),
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        )
    } else if let Some(full) = var(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        const SETTING: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
        let full = full.trim();
        let uri: http::Uri = full
            .parse()
            .map_err(|_| invalid(SETTING, full, "it is not a URI"))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid(
                SETTING,
                full,
                "only http:// container endpoints are supported by this client",
            ));
        }
        let host = uri.host().unwrap_or_default();
        if !is_allowed_container_host(host) {
            return Err(invalid(
                SETTING,
                full,
                "an http:// endpoint must be a loopback address, 169.254.170.2 (ECS), \
                 169.254.170.23 or [fd00:ec2::23] (EKS Pod Identity)",
            ));
        }
        (full.to_owned(), SETTING)
    } else {
        return Ok(None);
    };
    let authorization = if let Some(path) = var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(ContainerAuthorization::TokenFile(expand_home(
            path.trim(),
            home_dir(env).as_deref(),
        )))
    } else {
        var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN").map(ContainerAuthorization::Token)
    };
    Ok(Some(ContainerEndpoint {
        uri,
        authorization,
        origin: origin.to_owned(),
    }))
}

/// The hosts an http:// container endpoint may have, as in the SDKs.
fn is_allowed_container_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            ip.is_loopback()
                || ip == std::net::IpAddr::from([169, 254, 170, 2])
                || ip == std::net::IpAddr::from([169, 254, 170, 23])
                || ip == std::net::IpAddr::from([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23])
        }
        Err(_) => false,
    }
}

/// EC2 instance metadata, unless `AWS_EC2_METADATA_DISABLED` is true.
fn instance_metadata(
    env: Env<'_>,
    profile: &Profile,
) -> Result<Option<InstanceMetadata>, ConfigError> {
    if var(env, "AWS_EC2_METADATA_DISABLED").is_some_and(|v| is_true(&v)) {
        return Ok(None);
    }
    let setting = |variable, key| setting(env, profile, variable, key);
    let invalid = |setting: &'static str, (value, origin): (String, String), reason: &str| {
        ConfigError::InvalidCredentialsSetting {
            setting,
            value: quoted_value(&value),
            origin,
            reason: reason.to_owned(),
        }
    };
    let endpoint = if let Some((value, origin)) = setting(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "ec2_metadata_service_endpoint",
    ) {
        let valid = value
            .parse::<http::Uri>()
            .is_ok_and(|u| u.scheme_str() == Some("http") && u.host().is_some());
        if !valid {
            return Err(invalid(
                "EC2 metadata endpoint",
                (value, origin),
                "use an http:// URL such as http://169.254.169.254",
            ));
        }
        value.trim_end_matches('/').to_owned()
    } else {
        match setting(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
            "ec2_metadata_service_endpoint_mode",
        ) {
            None => IMDS_IPV4_ENDPOINT.to_owned(),
            Some((mode, _)) if mode.eq_ignore_ascii_case("ipv4") => IMDS_IPV4_ENDPOINT.to_owned(),
            Some((mode, _)) if mode.eq_ignore_ascii_case("ipv6") => IMDS_IPV6_ENDPOINT.to_owned(),
            Some(other) => {
                return Err(invalid(
                    "EC2 metadata endpoint mode",
                    other,
                    "use IPv4 or IPv6",
                ));
            }
        }
    };
    let timeout = match setting("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout") {
        None => Duration::from_secs(1),
        Some((value, origin)) => match value.parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs <= 3600.0 => Duration::from_secs_f64(secs),
            _ => {
                return Err(invalid(
                    "metadata service timeout",
                    (value, origin),
                    "use a number of seconds, more than 0",
                ));
            }
        },
    };
    let attempts = match setting(
        "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
        "metadata_service_num_attempts",
    ) {
        None => 1,
        Some((value, origin)) => match value.parse::<u32>() {
            Ok(n) if (1..=10).contains(&n) => n,
            _ => {
                return Err(invalid(
                    "metadata service attempts",
                    (value, origin),
                    "use a whole number from 1 to 10",
                ));
            }
        },
    };
    let (v1_disabled, _) = flag_setting(
        env,
        profile,
        "AWS_EC2_METADATA_V1_DISABLED",
        "ec2_metadata_v1_disabled",
    )?;
    Ok(Some(InstanceMetadata {
        endpoint,
        timeout,
        attempts,
        allow_v1: !v1_disabled,
    }))
}

fn is_true(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("true")
}

/// A setting from the environment variable, else from the profile's key, and where it
/// came from: the value whole (an error quotes it with [`quoted_value`]).
fn setting(env: Env<'_>, profile: &Profile, variable: &str, key: &str) -> Option<(String, String)> {
    if let Some(v) = var(env, variable) {
        Some((v.trim().to_owned(), variable.to_owned()))
    } else {
        let p = profile.get(key).filter(|p| !p.value.is_empty())?;
        Some((p.value.clone(), p.origin(key)))
    }
}

/// A true/false setting from the environment, else the profile: its value and origin.
fn flag_setting(
    env: Env<'_>,
    profile: &Profile,
    variable: &'static str,
    key: &'static str,
) -> Result<(bool, String), ConfigError> {
    let Some((value, origin)) = setting(env, profile, variable, key) else {
        return Ok((false, String::new()));
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok((true, origin)),
        "false" => Ok((false, origin)),
        _ => Err(ConfigError::InvalidBool {
            setting: key,
            value: quoted_value(&value),
            origin,
        }),
    }
}

/// Where each endpoint setting came from, for [`ConfigError::Endpoint`].
struct EndpointOrigins<'a> {
    fips: &'a str,
    dual_stack: &'a str,
    endpoint: &'a str,
}

/// The endpoint by the model's rules ([`kms_types::resolve_endpoint`]); an error names
/// the settings in play: `FIPS from AWS_USE_FIPS_ENDPOINT, endpoint https://… from
/// --endpoint-url, region …`.
fn endpoint_for(
    params: kms_types::EndpointParams,
    origins: &EndpointOrigins<'_>,
) -> Result<String, ConfigError> {
    kms_types::resolve_endpoint(&params).map_err(|e| {
        let mut settings = Vec::new();
        if params.use_fips {
            settings.push(format!("FIPS from {}", origins.fips));
        }
        if params.use_dual_stack {
            settings.push(format!("dual-stack from {}", origins.dual_stack));
        }
        if let Some(url) = &params.endpoint {
            settings.push(format!("endpoint {url} from {}", origins.endpoint));
        }
        if let Some(region) = &params.region {
            settings.push(format!("region {region}"));
        }
        ConfigError::Endpoint {
            message: e.message().to_owned(),
            settings: settings.join(", "),
        }
    })
}

fn ignore_configured_endpoints(env: Env<'_>, profile: &Profile) -> bool {
    match var(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
        Some(v) => is_true(&v),
        None => profile
            .get("ignore_configured_endpoint_urls")
            .is_some_and(|p| is_true(&p.value)),
    }
}

/// Checks a region name by kms-types' (botocore's) rule,
/// [`kms_types::endpoint::is_valid_region`], and trims it.
pub(crate) fn check_region(value: &str, origin: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    if kms_types::endpoint::is_valid_region(v) {
        Ok(v.to_string())
    } else {
        Err(ConfigError::InvalidRegion {
            value: quoted_value(value),
            origin: origin.to_string(),
        })
    }
}

/// Checks an endpoint URL and normalizes it (scheme in lower case, no trailing slash):
/// http or https, a host, no user info, query or fragment.
pub(crate) fn check_endpoint(value: &str, origin: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    // User info (`user:password@`, `token@`) is never sent to KMS, and the AWS SDKs do
    // not take it: refused, and never echoed. Any `@` counts: a password may hold `/`,
    // `?` or `#`, so the authority's end cannot be trusted to bound it (an `@` in a
    // path is written `%40`).
    if v.contains('@') {
        let masked = mask_user_info(v);
        return Err(match v.split_once("://") {
            Some((scheme, _))
                if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
            {
                ConfigError::EndpointUserInfo {
                    value: quoted_value(&masked),
                    origin: origin.to_string(),
                }
            }
            _ => ConfigError::InvalidEndpoint {
                value: quoted_value(&masked),
                origin: origin.to_string(),
            },
        });
    }
    // The scheme is case-insensitive (RFC 3986): `HTTP://` is `http://`.
    let split = v
        .split_once("://")
        .map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest));
    let rest = split
        .as_ref()
        .filter(|(scheme, _)| scheme == "http" || scheme == "https");
    let host_ok = rest.is_some_and(|(_, r)| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(char::is_whitespace) && !r.contains(['?', '#'])
    });
    // And what the client parses it as: a `Config` accepted here is one
    // `Client::try_new` accepts (`http://host:99999`, `http://[::1`, a space in the path
    // are refused here, not when the client is made).
    match (host_ok, rest) {
        (true, Some((scheme, rest))) => {
            let endpoint = format!("{scheme}://{}", rest.trim_end_matches('/'));
            match crate::client::endpoint_uri(&endpoint) {
                Some(_) => Ok(endpoint),
                None => Err(ConfigError::InvalidEndpoint {
                    value: quoted_value(value),
                    origin: origin.to_string(),
                }),
            }
        }
        _ => Err(ConfigError::InvalidEndpoint {
            value: quoted_value(value),
            origin: origin.to_string(),
        }),
    }
}

/// `url` with its user info replaced by `****`: whatever may be user info, the user name
/// too (a lone token is a secret).
pub(crate) fn mask_user_info(url: &str) -> String {
    match split_user_info(url) {
        Some((scheme, _, rest)) => format!("{scheme}****{rest}"),
        None => url.to_string(),
    }
}

/// `url` split around what may be its user info, which runs from after `://` (or the
/// start) to the last `@` (a password may hold one): `scheme://` (or nothing), the user
/// info, and `@` with the rest. `None` without an `@`.
pub(crate) fn split_user_info(url: &str) -> Option<(&str, &str, &str)> {
    let at = url.rfind('@')?;
    let start = url[..at].find("://").map_or(0, |i| i + 3);
    Some((&url[..start], &url[start..at], &url[at..]))
}

fn parse_max_attempts(value: &str, origin: &str) -> Result<u32, ConfigError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ConfigError::InvalidMaxAttempts {
            value: quoted_value(value),
            origin: origin.to_string(),
        }),
    }
}

// ---------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------

/// A profile's properties merged from both files; the credentials file wins
/// for keys present in both (as in botocore and the Rust SDK). The settings are read
/// where the files hold them, rather than copied into maps of the profile's own.
struct Profile<'a> {
    name: String,
    exists: bool,
    /// The profile's section in each file, if any: [`CONFIG_FILE`], [`CREDENTIALS_FILE`].
    sections: [Option<&'a Section>; 2],
    /// The path of each file.
    paths: [&'a Path; 2],
}

/// A setting's value as an error quotes it: its first line, at most 128 characters.
/// An indented line continues the setting above it (as botocore reads the files), so
/// a value may hold the lines below it — an indented `aws_secret_access_key = …`
/// among them — and a value may be megabytes long.
pub(crate) fn quoted_value(value: &str) -> String {
    let mut lines = value.lines();
    let mut quoted = kms_types::validation::excerpt(lines.next().unwrap_or(""), 128).into_owned();
    let more = lines.count();
    if more > 0 {
        quoted.push_str(&format!(
            " (and {more} more line{})",
            if more == 1 { "" } else { "s" }
        ));
    }
    quoted
}

/// A path a setting gives, as an error quotes it: [`quoted_value`] of its text.
pub(crate) fn quoted_path(path: &Path) -> String {
    quoted_value(&path.display().to_string())
}

/// Index of the config file's settings in [`Profile::files`].
const CONFIG_FILE: usize = 0;
/// Index of the credentials file's settings in [`Profile::files`].
const CREDENTIALS_FILE: usize = 1;

/// A setting of a [`Profile`], and where it is written.
struct Sourced<'a> {
    value: String,
    path: &'a Path,
    line: usize,
}

impl Sourced<'_> {
    fn origin(&self, key: &str) -> String {
        format!("{key} in {} line {}", self.path.display(), self.line)
    }
}

/// [`ConfigError::InvalidCredentialsSetting`] for the profile line `p` of `setting`.
fn invalid_setting(setting: &'static str, p: &Sourced<'_>, reason: String) -> ConfigError {
    ConfigError::InvalidCredentialsSetting {
        setting,
        value: quoted_value(&p.value),
        origin: p.origin(setting),
        reason,
    }
}

/// Profiles a chain of `source_profile`s may go through.
const MAX_ROLE_CHAIN: usize = 8;

impl<'a> Profile<'a> {
    fn merge(name: &str, config: &'a Ini, creds: &'a Ini) -> Profile<'a> {
        // In the config file: [profile NAME], and [default] for the default profile
        // ([profile default] wins over [default] when both exist).
        let config_section = config.sections.get(&format!("profile {name}")).or_else(|| {
            (name == "default")
                .then(|| config.sections.get("default"))
                .flatten()
        });
        let sections = [config_section, creds.sections.get(name)];
        Profile {
            name: name.to_string(),
            exists: sections.iter().any(Option::is_some),
            sections,
            paths: [&config.path, &creds.path],
        }
    }

    /// The setting in one file alone ([`CONFIG_FILE`] or [`CREDENTIALS_FILE`]).
    fn get_in(&self, file: usize, key: &str) -> Option<Sourced<'a>> {
        let p = self.sections[file]?.props.get(key)?;
        Some(Sourced {
            value: p.value.clone(),
            path: self.paths[file],
            line: p.line,
        })
    }

    /// The setting; the credentials file wins for a setting in both.
    fn get(&self, key: &str) -> Option<Sourced<'a>> {
        self.get_in(CREDENTIALS_FILE, key)
            .or_else(|| self.get_in(CONFIG_FILE, key))
    }

    /// The setting, unless it is blank.
    fn nonempty(&self, key: &str) -> Option<Sourced<'a>> {
        self.get(key).filter(|p| !p.value.trim().is_empty())
    }

    /// The profile's credentials: a role (`role_arn`), its keys, its `credential_process`,
    /// or none. `chain` holds the profiles that led here through `source_profile`.
    fn credentials(
        &self,
        ctx: &ChainContext<'_>,
        chain: &[&str],
    ) -> Result<Option<CredentialsSource>, ConfigError> {
        if let Some(role) = self.get("role_arn").filter(|p| !p.value.is_empty()) {
            return self.role(&role, ctx, chain).map(Some);
        }
        self.own_credentials(ctx)
    }

    /// Whether the profile has keys of its own (either of them; botocore's
    /// `_has_static_credentials`).
    fn has_static_keys(&self) -> bool {
        ["aws_access_key_id", "aws_secret_access_key"]
            .iter()
            .any(|k| self.nonempty(k).is_some())
    }

    /// The profile's credentials other than a role: its SSO role, keys or
    /// `credential_process`.
    fn own_credentials(
        &self,
        ctx: &ChainContext<'_>,
    ) -> Result<Option<CredentialsSource>, ConfigError> {
        // Before the keys, as in botocore: keys beside an SSO setting are not the identity
        // the profile means.
        if let Some(sso) = self.sso(ctx)? {
            return Ok(Some(CredentialsSource::Sso(sso)));
        }
        self.keys_or_process()
    }

    /// The profile's IAM Identity Center role: `sso_session` (naming an
    /// `[sso-session NAME]` section) or the legacy `sso_start_url` + `sso_region`, with
    /// `sso_account_id` and `sso_role_name`.
    fn sso(&self, ctx: &ChainContext<'_>) -> Result<Option<Sso>, ConfigError> {
        let (setting, configured, cache_key, region) = if let Some(p) = self.nonempty("sso_session")
        {
            let name = p.value.trim().to_owned();
            let section = ctx
                .config
                .sections
                .get(&format!("sso-session {name}"))
                .ok_or_else(|| {
                    invalid_setting(
                        "sso_session",
                        &p,
                        format!(
                            "there is no [sso-session {}] section in {}",
                            quoted_value(&name),
                            ctx.config.path.display()
                        ),
                    )
                })?;
            let get = |key: &str| {
                section
                    .props
                    .get(key)
                    .map(|v| v.value.trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            let region = get("sso_region").ok_or_else(|| {
                invalid_setting(
                    "sso_session",
                    &p,
                    format!("[sso-session {}] has no sso_region", quoted_value(&name)),
                )
            })?;
            if get("sso_start_url").is_none() {
                return Err(invalid_setting(
                    "sso_session",
                    &p,
                    format!("[sso-session {}] has no sso_start_url", quoted_value(&name)),
                ));
            }
            ("sso_session", p, name, region)
        } else if let Some(p) = self.nonempty("sso_start_url") {
            let region = self.nonempty("sso_region").ok_or_else(|| {
                invalid_setting(
                    "sso_start_url",
                    &p,
                    "the profile has no sso_region".to_owned(),
                )
            })?;
            let start_url = p.value.trim().to_owned();
            (
                "sso_start_url",
                p,
                start_url,
                region.value.trim().to_owned(),
            )
        } else {
            return Ok(None);
        };
        let region = check_region(
            &region,
            &format!("the sso_region of {}", configured.origin(setting)),
        )?;
        let (Some(account), Some(role)) = (
            self.nonempty("sso_account_id"),
            self.nonempty("sso_role_name"),
        ) else {
            return Err(invalid_setting(
                setting,
                &configured,
                "the profile also needs sso_account_id and sso_role_name (the account and \
                 the role to sign in to)"
                    .to_owned(),
            ));
        };
        let Some(home) = home_dir(ctx.env) else {
            return Err(invalid_setting(
                setting,
                &configured,
                "the SSO token cache is in ~/.aws/sso/cache, and there is no home directory \
                 (set HOME)"
                    .to_owned(),
            ));
        };
        let suffix = kms_types::endpoint::Partition::of(&region).dns_suffix;
        let portal = match &ctx.sso_portal {
            Some((url, _)) => url.clone(),
            None => format!("https://portal.sso.{region}.{suffix}"),
        };
        // Only an sso_session's token can be refreshed.
        let oidc = (setting == "sso_session").then(|| match &ctx.sso_oidc {
            Some((url, _)) => url.clone(),
            None => format!("https://oidc.{region}.{suffix}"),
        });
        Ok(Some(Sso {
            account_id: account.value.trim().to_owned(),
            role_name: role.value.trim().to_owned(),
            token_file: Sso::token_file_for(&home, &cache_key),
            portal,
            login: format!("aws sso login --profile {}", self.name),
            oidc,
            origin: configured.origin(setting),
        }))
    }

    /// botocore's order: the keys in the credentials file, then the profile's
    /// `credential_process`, then the keys in the config file.
    fn keys_or_process(&self) -> Result<Option<CredentialsSource>, ConfigError> {
        if let Some(keys) = self.file_keys(CREDENTIALS_FILE)? {
            return Ok(Some(CredentialsSource::Static(keys)));
        }
        if let Some(p) = self.nonempty("credential_process") {
            if let Err(e) = crate::shell_words::split_command(&p.value) {
                // Only the program is named: the arguments may hold a secret.
                return Err(ConfigError::InvalidCredentialsSetting {
                    setting: "credential_process",
                    value: format!("{} …", crate::credentials::program_of(&p.value)),
                    origin: p.origin("credential_process"),
                    reason: format!(
                        "{e}; the line is split into words as a shell would split it \
                         (quotes, backslashes) and the program run without a shell"
                    ),
                });
            }
            return Ok(Some(CredentialsSource::Process(CredentialProcess {
                command: p.value.trim().to_owned(),
                origin: p.origin("credential_process"),
            })));
        }
        Ok(self.file_keys(CONFIG_FILE)?.map(CredentialsSource::Static))
    }

    /// The keys the profile has in one file, with the session token of that file: as
    /// botocore's SharedCredentialProvider and ConfigProvider, which read all three from
    /// their own file, a token is never attached to keys of the other file.
    fn file_keys(&self, file: usize) -> Result<Option<Credentials>, ConfigError> {
        let get = |key: &str| self.get_in(file, key).filter(|p| !p.value.is_empty());
        let incomplete = |present: &'static str, missing: &'static str, p: &Sourced<'_>| {
            let other = self.get_in(1 - file, missing);
            ConfigError::IncompleteProfileCredentials {
                profile: self.name.clone(),
                present,
                missing,
                path: p.path.to_path_buf(),
                line: p.line,
                other_file: other
                    .filter(|o| !o.value.is_empty())
                    .map(|o| (o.path.to_path_buf(), o.line)),
            }
        };
        match (get("aws_access_key_id"), get("aws_secret_access_key")) {
            (Some(k), Some(s)) => Ok(Some(Credentials {
                access_key_id: k.value.clone(),
                secret_access_key: s.value.clone(),
                // botocore's order (the file providers' TOKENS): the legacy
                // aws_security_token first.
                session_token: get("aws_security_token")
                    .or_else(|| get("aws_session_token"))
                    .map(|t| t.value.clone()),
            })),
            (Some(k), None) => Err(incomplete("aws_access_key_id", "aws_secret_access_key", &k)),
            (None, Some(s)) => Err(incomplete("aws_secret_access_key", "aws_access_key_id", &s)),
            (None, None) => Ok(None),
        }
    }

    /// The role of `role_arn`: with a web identity token file, else signed with the
    /// credentials of `source_profile` or `credential_source`.
    fn role(
        &self,
        role: &Sourced,
        ctx: &ChainContext<'_>,
        chain: &[&str],
    ) -> Result<CredentialsSource, ConfigError> {
        let session_name = self
            .nonempty("role_session_name")
            .map(|p| p.value.trim().to_owned());
        let origin = role.origin("role_arn");
        if let Some(file) = self.nonempty("web_identity_token_file") {
            return Ok(CredentialsSource::WebIdentity(WebIdentity {
                role_arn: role.value.trim().to_owned(),
                token_file: expand_home(file.value.trim(), home_dir(ctx.env).as_deref()),
                session_name: session_name.unwrap_or_else(default_session_name),
                sts: ctx.sts.clone(),
                origin,
            }));
        }
        let source = if let Some(p) = self.nonempty("source_profile") {
            let name = p.value.trim();
            let other;
            let source = if name == self.name {
                // A profile with keys may sign its own role (botocore allows it).
                if !self.has_static_keys() {
                    return Err(invalid_setting(
                        "source_profile",
                        &p,
                        "a profile that is its own source_profile needs \
                         aws_access_key_id and aws_secret_access_key"
                            .to_owned(),
                    ));
                }
                self
            } else if chain.contains(&name) || chain.len() >= MAX_ROLE_CHAIN {
                // The profiles led here exist; the last name need not name one.
                let last = quoted_value(name);
                let mut path: Vec<&str> = chain.to_vec();
                path.extend([self.name.as_str(), &last]);
                return Err(invalid_setting(
                    "source_profile",
                    &p,
                    format!(
                        "the profiles form a loop or a chain too long: {}",
                        path.join(" -> ")
                    ),
                ));
            } else {
                other = Profile::merge(name, ctx.config, ctx.credentials);
                if !other.exists {
                    return Err(invalid_setting(
                        "source_profile",
                        &p,
                        format!("there is no profile '{}'", quoted_value(name)),
                    ));
                }
                &other
            };
            // A source profile with keys (itself, too) is used with what its own
            // providers give, as botocore runs the same chain for both: SSO, the
            // credentials file's keys, credential_process, the config file's keys; even
            // beside a role_arn of its own (botocore's `_resolve_credentials_from_profile`).
            let found = if source.has_static_keys() {
                source.own_credentials(ctx)?
            } else {
                let mut longer = chain.to_vec();
                longer.push(&self.name);
                source.credentials(ctx, &longer)?
            };
            found.ok_or_else(|| {
                invalid_setting(
                    "source_profile",
                    &p,
                    format!("profile '{name}' has no credentials to assume the role with"),
                )
            })?
        } else if let Some(p) = self.nonempty("credential_source") {
            let missing = |what: &str| invalid_setting("credential_source", &p, what.to_owned());
            match p.value.trim() {
                "Environment" => match env_credentials(ctx.env)? {
                    Some(keys) => CredentialsSource::Static(keys),
                    None => {
                        return Err(missing(
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                        ));
                    }
                },
                "EcsContainer" => match container_endpoint(ctx.env)? {
                    Some(c) => CredentialsSource::Container(c),
                    None => {
                        return Err(missing(
                            "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor \
                             AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
                        ));
                    }
                },
                "Ec2InstanceMetadata" => match instance_metadata(ctx.env, self)? {
                    Some(m) => CredentialsSource::InstanceMetadata(m),
                    None => return Err(missing("AWS_EC2_METADATA_DISABLED is true")),
                },
                _ => {
                    return Err(missing(
                        "use Environment, EcsContainer or Ec2InstanceMetadata",
                    ));
                }
            }
        } else {
            return Err(invalid_setting(
                "role_arn",
                role,
                "the profile needs source_profile, credential_source or \
                 web_identity_token_file to say which credentials assume the role"
                    .to_owned(),
            ));
        };
        let duration_seconds = match self.nonempty("duration_seconds") {
            None => None,
            Some(p) => match p.value.trim().parse::<u32>() {
                Ok(d) if (900..=43_200).contains(&d) => Some(d),
                _ => {
                    return Err(invalid_setting(
                        "duration_seconds",
                        &p,
                        "use a number of seconds from 900 to 43200".to_owned(),
                    ));
                }
            },
        };
        Ok(CredentialsSource::AssumeRole(AssumeRole {
            role_arn: role.value.trim().to_owned(),
            session_name,
            external_id: self
                .nonempty("external_id")
                .map(|p| p.value.trim().to_owned()),
            duration_seconds,
            mfa_serial: self
                .nonempty("mfa_serial")
                .map(|p| p.value.trim().to_owned()),
            source: Box::new(source),
            sts: ctx.sts.clone(),
            origin,
        }))
    }

    /// A service's endpoint from the config file: the sub-section named after the service
    /// (`kms`, `sts`) in the `[services NAME]` section the profile points to (`services =
    /// NAME`). As in botocore, a sub-section inside the profile itself is not read.
    fn service_endpoint(&self, config: &Ini, service: &str) -> Option<(String, String)> {
        if let Some(services) = self.get("services").filter(|p| !p.value.is_empty()) {
            let section_name = format!("services {}", services.value);
            if let Some(prop) = config
                .sections
                .get(&section_name)
                .and_then(|s| s.props.get(service))
                && let Some(url) = prop.sub("endpoint_url").filter(|u| !u.is_empty())
            {
                let origin = format!(
                    "{service}.endpoint_url in [{section_name}] of {} line {}",
                    config.path.display(),
                    prop.line
                );
                return Some((url.to_owned(), origin));
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------
// INI parser
// ---------------------------------------------------------------------------

/// A parsed AWS-style INI file. Repeated sections are merged, later keys win.
#[derive(Debug, Default)]
struct Ini {
    path: PathBuf,
    sections: BTreeMap<String, Section>,
}

#[derive(Debug, Default)]
struct Section {
    props: BTreeMap<String, Prop>,
}

#[derive(Debug, Default, Clone)]
struct Prop {
    /// The value; continuation lines are joined with '\n'. Empty for a sub-section.
    value: String,
    /// `key =` followed by indented `k = v` lines, in file order. A few lines at most,
    /// looked up by [`Prop::sub`]: a list, not one more kind of map for the crate to
    /// compile.
    sub: Vec<(String, String)>,
    line: usize,
}

impl Prop {
    /// The value of `name` in the sub-section; the last line wins when it is repeated.
    fn sub(&self, name: &str) -> Option<&str> {
        self.sub
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Cut a trailing comment: `#` or `;` preceded by whitespace (so secrets that
/// contain `#` or `;` survive).
fn strip_inline_comment(s: &str) -> &str {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if (b == b'#' || b == b';') && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return &s[..i];
        }
    }
    s
}

/// The key of a section header's text: in the config file, `profile NAME`,
/// `sso-session NAME` and `services NAME` with the name split shell-style as botocore
/// splits it (`[profile "my prof"]` is profile `my prof`; a header that does not split
/// into two words names nothing botocore finds, and is kept under its whole text in
/// brackets); any other header, and every header of the credentials file, with its
/// words joined by one space.
fn section_name(header: &str, file: SharedFile) -> String {
    let plain = header.split_whitespace().collect::<Vec<_>>().join(" ");
    let kind = plain.split(' ').next().unwrap_or_default();
    if file == SharedFile::Credentials || !matches!(kind, "profile" | "sso-session" | "services") {
        return plain;
    }
    match crate::shell_words::split(header).as_deref() {
        Ok([kind, name]) => format!("{kind} {name}"),
        _ => format!("[{}]", header.trim()),
    }
}

/// [`parse_ini`] of the credentials file (`credentials`) or the config file, as plain
/// strings (for the fuzz targets).
pub(crate) fn parse_shared_file(
    text: &str,
    credentials: bool,
) -> Result<Vec<(String, crate::__fuzz::Settings)>, String> {
    let file = if credentials {
        SharedFile::Credentials
    } else {
        SharedFile::Config
    };
    let ini = parse_ini(text, Path::new("file"), file).map_err(|e| e.to_string())?;
    Ok(ini
        .sections
        .into_iter()
        .map(|(name, section)| {
            let props = section.props.into_iter();
            let props = props.map(|(key, prop)| (key, prop.value, prop.sub.into_iter().collect()));
            (name, props.collect())
        })
        .collect())
}

fn parse_ini(text: &str, path: &Path, file: SharedFile) -> Result<Ini, ConfigError> {
    let mut ini = Ini {
        path: path.to_path_buf(),
        sections: BTreeMap::new(),
    };
    let err = |line: usize, message: &str| ConfigError::MalformedFile {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut section: Option<String> = None;
    // current property: (key, indentation of its line, is sub-section)
    let mut current: Option<(String, usize, bool)> = None;

    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();

        // continuation of the current property
        if let (Some((key, key_indent, is_sub)), Some(sec)) = (&current, &section)
            && indent > *key_indent
        {
            let prop = ini
                .sections
                .get_mut(sec)
                .and_then(|s| s.props.get_mut(key))
                .expect("current property exists");
            if *is_sub {
                let content = strip_inline_comment(trimmed).trim_end();
                let Some((k, v)) = content.split_once('=') else {
                    return Err(err(
                        lineno,
                        &format!("expected `name = value` inside the `{key} =` sub-section"),
                    ));
                };
                let k = k.trim();
                if k.is_empty() {
                    return Err(err(lineno, "missing name before '=' in sub-section"));
                }
                prop.sub.push((k.to_string(), v.trim().to_string()));
            } else {
                prop.value.push('\n');
                prop.value.push_str(trimmed);
            }
            continue;
        }

        if let Some(rest) = trimmed.strip_prefix('[') {
            let Some((name, after)) = rest.split_once(']') else {
                return Err(err(lineno, "section header is missing its closing ']'"));
            };
            let after = after.trim();
            if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
                return Err(err(lineno, "unexpected text after section header"));
            }
            let name = section_name(name, file);
            if name.is_empty() {
                return Err(err(lineno, "empty section name"));
            }
            ini.sections.entry(name.clone()).or_default();
            section = Some(name);
            current = None;
            continue;
        }

        let Some(sec) = &section else {
            return Err(err(
                lineno,
                "expected a [section] header before the first setting",
            ));
        };
        // As in Python's configparser: `=` or `:`, whichever comes first, and names in
        // lower case.
        let Some((key, value)) = trimmed.split_once(['=', ':']) else {
            return Err(err(
                lineno,
                "expected `name = value`, a [section] header or a comment",
            ));
        };
        let key = key.trim().to_lowercase();
        if key.is_empty() {
            return Err(err(lineno, "missing name before '='"));
        }
        let value = strip_inline_comment(value).trim();
        let prop = Prop {
            value: value.to_string(),
            sub: Vec::new(),
            line: lineno,
        };
        ini.sections
            .get_mut(sec)
            .expect("section exists")
            .props
            .insert(key.clone(), prop);
        current = Some((key, indent, value.is_empty()));
    }
    Ok(ini)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::fs;

    struct Fixture {
        dir: tempfile::TempDir,
        vars: HashMap<String, String>,
    }

    impl Fixture {
        /// A fake HOME with no files and no variables besides HOME.
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let mut vars = HashMap::new();
            vars.insert("HOME".to_string(), dir.path().display().to_string());
            // Resolution never contacts instance metadata, but the chain ends there
            // unless it is turned off; the tests that need it remove this.
            vars.insert("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string());
            Fixture { dir, vars }
        }
        fn set(&mut self, k: &str, v: &str) -> &mut Self {
            self.vars.insert(k.to_string(), v.to_string());
            self
        }
        fn home_file(&self, name: &str, text: &str) -> PathBuf {
            let aws = self.dir.path().join(".aws");
            fs::create_dir_all(&aws).unwrap();
            let p = aws.join(name);
            fs::write(&p, text).unwrap();
            p
        }
        fn file(&self, name: &str, text: &str) -> PathBuf {
            let p = self.dir.path().join(name);
            fs::write(&p, text).unwrap();
            p
        }
        fn credentials(&self, text: &str) -> PathBuf {
            self.home_file("credentials", text)
        }
        fn config(&self, text: &str) -> PathBuf {
            self.home_file("config", text)
        }
        fn resolve_with(&self, o: &Overrides) -> Result<Config, ConfigError> {
            let vars = self.vars.clone();
            Config::from_env_with(&move |k| vars.get(k).cloned(), o)
        }
        fn resolve(&self) -> Result<Config, ConfigError> {
            self.resolve_with(&Overrides::default())
        }
        fn home(&self) -> &Path {
            self.dir.path()
        }
    }

    fn profile(p: &str) -> Overrides {
        Overrides {
            profile: Some(p.to_string()),
            ..Default::default()
        }
    }

    const CREDS: &str = "\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secretdefault

[work]
aws_access_key_id=AKIDWORK
aws_secret_access_key=secretwork
aws_session_token = tokenwork
";

    const CONFIG: &str = "\
[default]
region = eu-west-1

[profile work]
region = ap-southeast-2
";

    fn env_creds(f: &mut Fixture) {
        f.set("AWS_ACCESS_KEY_ID", "AKIDENV")
            .set("AWS_SECRET_ACCESS_KEY", "secretenv");
    }

    // --- credentials ----------------------------------------------------------

    #[test]
    fn env_credentials_win_over_files() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        env_creds(&mut f);
        f.set("AWS_SESSION_TOKEN", "tokenenv");
        let c = f.resolve().unwrap();
        assert_eq!(
            c.credentials,
            CredentialsSource::Static(Credentials::new(
                "AKIDENV",
                "secretenv",
                Some("tokenenv".into())
            ))
        );
        assert_eq!(c.region, "eu-west-1");
    }

    #[test]
    fn env_credentials_win_over_aws_profile() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        env_creds(&mut f);
        f.set("AWS_PROFILE", "work");
        let c = f.resolve().unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDENV");
        assert_eq!(c.credentials.as_static().unwrap().session_token, None);
        // ... but the profile still supplies the region
        assert_eq!(c.region, "ap-southeast-2");
    }

    #[test]
    fn profile_flag_beats_env_credentials() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        env_creds(&mut f);
        let c = f.resolve_with(&profile("work")).unwrap();
        assert_eq!(
            c.credentials,
            CredentialsSource::Static(Credentials::new(
                "AKIDWORK",
                "secretwork",
                Some("tokenwork".into())
            ))
        );
        assert_eq!(c.region, "ap-southeast-2");
    }

    #[test]
    fn profile_flag_beats_aws_profile() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        f.set("AWS_PROFILE", "nonexistent");
        let c = f.resolve_with(&profile("work")).unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDWORK");
    }

    #[test]
    fn aws_profile_selects_profile() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        f.set("AWS_PROFILE", "work");
        let key_id = |f: &Fixture| {
            let c = f.resolve().unwrap();
            c.credentials.as_static().unwrap().access_key_id.clone()
        };
        assert_eq!(key_id(&f), "AKIDWORK");
        assert_eq!(f.resolve().unwrap().region, "ap-southeast-2");
        // AWS_DEFAULT_PROFILE comes after it: the AWS CLI v2's order (v1 reads it first).
        f.set("AWS_DEFAULT_PROFILE", "default");
        assert_eq!(key_id(&f), "AKIDWORK");
        f.vars.remove("AWS_PROFILE");
        assert_eq!(key_id(&f), "AKIDDEFAULT");
        f.set("AWS_DEFAULT_PROFILE", "work");
        assert_eq!(key_id(&f), "AKIDWORK");
        f.set("AWS_DEFAULT_PROFILE", "ghost");
        let e = f.resolve().unwrap_err().to_string();
        assert!(e.contains("'ghost' (from AWS_DEFAULT_PROFILE)"), "{e}");
    }

    #[test]
    fn default_profile_used_without_selection() {
        let f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        let c = f.resolve().unwrap();
        assert_eq!(
            c.credentials,
            CredentialsSource::Static(Credentials::new("AKIDDEFAULT", "secretdefault", None))
        );
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.endpoint, "https://kms.eu-west-1.amazonaws.com");
        assert_eq!(c.retry, RetryConfig::default());
        assert_eq!(c.timeouts, Timeouts::default());
        assert!(c.validate_input);
    }

    #[test]
    fn credentials_in_config_file_profile_section() {
        let mut f = Fixture::new();
        f.config(
            "[profile x]\nregion = us-west-2\naws_access_key_id = AKIDX\naws_secret_access_key = secretx\naws_session_token = tokx\n",
        );
        f.set("AWS_PROFILE", "x");
        let c = f.resolve().unwrap();
        assert_eq!(
            c.credentials,
            CredentialsSource::Static(Credentials::new("AKIDX", "secretx", Some("tokx".into())))
        );
        assert_eq!(c.region, "us-west-2");
    }

    #[test]
    fn credentials_in_config_file_default_section() {
        let f = Fixture::new();
        f.config(
            "[default]\nregion = us-west-2\naws_access_key_id = AKIDC\naws_secret_access_key = secretc\n",
        );
        let c = f.resolve().unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDC");
    }

    #[test]
    fn credentials_file_beats_config_file() {
        let f = Fixture::new();
        f.credentials(CREDS);
        f.config(
            "[default]\nregion = us-west-2\naws_access_key_id = AKIDC\naws_secret_access_key = secretc\n",
        );
        let c = f.resolve().unwrap();
        assert_eq!(
            c.credentials.as_static().unwrap().access_key_id,
            "AKIDDEFAULT"
        );
        assert_eq!(
            c.credentials.as_static().unwrap().secret_access_key,
            "secretdefault"
        );
    }

    #[test]
    fn keys_and_token_come_from_one_file() {
        // botocore's SharedCredentialProvider and ConfigProvider each read key, secret
        // and token from their own file.
        let f = Fixture::new();
        f.credentials("[default]\naws_access_key_id = AKIDF\naws_secret_access_key = sf\n");
        f.config("[default]\nregion = us-west-2\naws_session_token = config-token\n");
        let c = f.resolve().unwrap();
        assert_eq!(
            c.credentials,
            CredentialsSource::Static(Credentials::new("AKIDF", "sf", None))
        );
        f.credentials("[default]\naws_session_token = file-token\n");
        f.config(
            "[default]\nregion = us-west-2\naws_access_key_id = AKIDC\naws_secret_access_key = sc\n",
        );
        let c = f.resolve().unwrap();
        assert_eq!(
            c.credentials,
            CredentialsSource::Static(Credentials::new("AKIDC", "sc", None))
        );
    }

    #[test]
    fn legacy_security_token_names_come_first() {
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-east-1");
        f.credentials("[default]\naws_access_key_id = A\naws_secret_access_key = S\naws_session_token = new-file\n");
        let token = |f: &Fixture| {
            f.resolve()
                .unwrap()
                .credentials
                .as_static()
                .unwrap()
                .session_token
                .clone()
        };
        assert_eq!(token(&f).as_deref(), Some("new-file"));
        // As botocore reads them: aws_security_token before aws_session_token, and
        // AWS_SECURITY_TOKEN before AWS_SESSION_TOKEN.
        f.credentials("[default]\naws_access_key_id = A\naws_secret_access_key = S\naws_session_token = new-file\naws_security_token = legacy-file\n");
        assert_eq!(token(&f).as_deref(), Some("legacy-file"));
        env_creds(&mut f);
        f.set("AWS_SESSION_TOKEN", "new-env");
        assert_eq!(token(&f).as_deref(), Some("new-env"));
        f.set("AWS_SECURITY_TOKEN", "legacy-env");
        assert_eq!(token(&f).as_deref(), Some("legacy-env"));
    }

    #[test]
    fn config_file_section_without_profile_prefix_is_not_a_profile() {
        let mut f = Fixture::new();
        f.config("[x]\nregion = us-west-2\naws_access_key_id = A\naws_secret_access_key = B\n");
        f.set("AWS_PROFILE", "x");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::ProfileNotFound { .. }), "{e}");
        assert!(e.to_string().contains("[profile x]"), "{e}");
    }

    #[test]
    fn credentials_file_profile_prefix_is_literal() {
        // In the credentials file sections are bare profile names.
        let mut f = Fixture::new();
        f.credentials("[profile y]\naws_access_key_id = A\naws_secret_access_key = B\n");
        f.set("AWS_PROFILE", "y").set("AWS_REGION", "us-east-1");
        assert!(matches!(
            f.resolve().unwrap_err(),
            ConfigError::ProfileNotFound { .. }
        ));
    }

    #[test]
    fn profile_default_section_in_config_file() {
        let f = Fixture::new();
        f.credentials(CREDS);
        f.config("[default]\nregion = eu-west-1\n[profile default]\nregion = eu-north-1\n");
        assert_eq!(f.resolve().unwrap().region, "eu-north-1");
    }

    #[test]
    fn shared_file_locations_from_env() {
        let mut f = Fixture::new();
        // decoys in ~/.aws must be ignored
        f.credentials(CREDS);
        f.config(CONFIG);
        let creds = f.file(
            "my-creds",
            "[default]\naws_access_key_id = AKIDALT\naws_secret_access_key = secretalt\n",
        );
        let config = f.file("my-config", "[default]\nregion = sa-east-1\n");
        f.set("AWS_SHARED_CREDENTIALS_FILE", &creds.display().to_string())
            .set("AWS_CONFIG_FILE", &config.display().to_string());
        let c = f.resolve().unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDALT");
        assert_eq!(c.region, "sa-east-1");
    }

    #[test]
    fn shared_file_location_tilde_expansion() {
        let mut f = Fixture::new();
        f.file(
            "alt-creds",
            "[default]\naws_access_key_id = AKIDT\naws_secret_access_key = secrett\n",
        );
        f.set("AWS_SHARED_CREDENTIALS_FILE", "~/alt-creds")
            .set("AWS_REGION", "us-east-2");
        assert_eq!(
            f.resolve()
                .unwrap()
                .credentials
                .as_static()
                .unwrap()
                .access_key_id,
            "AKIDT"
        );
        // `~name/...` is another user's home, not ours with `name/` below it: taken as
        // written, as Python's expanduser leaves a user it does not know.
        f.file(
            "someone",
            "[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = s\n",
        );
        f.set("AWS_SHARED_CREDENTIALS_FILE", "~someone");
        let e = f.resolve().unwrap_err();
        assert!(
            matches!(&e, ConfigError::MissingCredentials { credentials_file, .. }
                if credentials_file == Path::new("~someone")),
            "{e:?}"
        );
    }

    #[test]
    fn missing_files_are_fine_with_env_only() {
        let mut f = Fixture::new();
        env_creds(&mut f);
        f.set("AWS_REGION", "us-east-1");
        let c = f.resolve().unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDENV");
        assert_eq!(c.endpoint, "https://kms.us-east-1.amazonaws.com");
    }

    #[test]
    fn no_home_and_env_only() {
        let vars: HashMap<&str, &str> = [
            ("AWS_ACCESS_KEY_ID", "A"),
            ("AWS_SECRET_ACCESS_KEY", "B"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ]
        .into();
        let c = Config::from_env_with(
            &|k| vars.get(k).map(|s| s.to_string()),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.region, "us-east-1");
        let e = Config::from_env_with(
            &|k| (k == "AWS_EC2_METADATA_DISABLED").then(|| "true".to_owned()),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("~/.aws/credentials"), "{e}");
    }

    #[test]
    fn empty_env_vars_count_as_unset() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        f.set("AWS_ACCESS_KEY_ID", "")
            .set("AWS_SECRET_ACCESS_KEY", " ")
            .set("AWS_REGION", "")
            .set("AWS_PROFILE", "");
        let c = f.resolve().unwrap();
        assert_eq!(
            c.credentials.as_static().unwrap().access_key_id,
            "AKIDDEFAULT"
        );
        assert_eq!(c.region, "eu-west-1");
    }

    #[test]
    fn missing_credentials_message() {
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-east-1");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::MissingCredentials { .. }));
        let expected = format!(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add \
             aws_access_key_id/aws_secret_access_key for profile 'default' to {} \
             (AWS_SHARED_CREDENTIALS_FILE); EC2 instance metadata was not asked, as \
             AWS_EC2_METADATA_DISABLED is true",
            f.home().join(".aws/credentials").display()
        );
        assert_eq!(e.to_string(), expected);
    }

    #[test]
    fn credential_process_of_the_profile() {
        let mut f = Fixture::new();
        f.config(
            "[profile p]\nregion = us-east-1\ncredential_process = /opt/bin/creds --role x \n",
        );
        f.set("AWS_PROFILE", "p");
        let c = f.resolve().unwrap();
        let CredentialsSource::Process(p) = &c.credentials else {
            panic!("{:?}", c.credentials)
        };
        assert_eq!(p.command, "/opt/bin/creds --role x");
        assert!(p.origin.ends_with(".aws/config line 3"), "{}", p.origin);
        // `Debug` names the program only: arguments may hold a secret.
        let debug = format!("{:?}", c.credentials);
        assert!(debug.contains("\"/opt/bin/creds\""), "{debug}");
        assert!(!debug.contains("--role"), "{debug}");
        // An unbalanced quote is a configuration error naming the line, and the
        // program only.
        f.config(
            "[profile p]\nregion = us-east-1\ncredential_process = /opt/bin/creds --pw=SECRET 'x\n",
        );
        let e = f.resolve().unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidCredentialsSetting { .. }),
            "{e:?}"
        );
        let e = e.to_string();
        assert!(
            e.contains("a quotation is not closed") && e.contains(".aws/config line 3"),
            "{e}"
        );
        assert!(e.contains("\"/opt/bin/creds …\""), "{e}");
        assert!(!e.contains("SECRET"), "{e}");
        // It beats the config file's keys (botocore's ProcessProvider comes before its
        // ConfigProvider)...
        f.config(
            "[profile p]\nregion = us-east-1\ncredential_process = /opt/bin/creds --role x \n\
             aws_access_key_id = AKIDC\naws_secret_access_key = C\n",
        );
        let c = f.resolve().unwrap();
        assert!(
            matches!(c.credentials, CredentialsSource::Process(_)),
            "{c:?}"
        );
        // ... not the credentials file's; the environment's come before them all.
        f.credentials("[p]\naws_access_key_id = AKIDP\naws_secret_access_key = S\n");
        let c = f.resolve().unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDP");
        env_creds(&mut f);
        let c = f.resolve().unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDENV");
    }

    #[test]
    fn container_endpoint_after_environment_and_profile() {
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-east-1")
            .set(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/abc",
            )
            .set(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://127.0.0.1:9/ignored",
            );
        let container = |f: &Fixture| match f.resolve().unwrap().credentials {
            CredentialsSource::Container(c) => c,
            other => panic!("{other:?}"),
        };
        let c = container(&f);
        assert_eq!(c.uri, "http://169.254.170.2/v2/credentials/abc");
        assert_eq!(c.origin, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        assert_eq!(c.authorization, None);

        f.vars.remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        f.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok");
        let c = container(&f);
        assert_eq!(c.uri, "http://127.0.0.1:9/ignored");
        assert_eq!(
            c.authorization,
            Some(ContainerAuthorization::Token("tok".into()))
        );
        f.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "~/token");
        assert_eq!(
            container(&f).authorization,
            Some(ContainerAuthorization::TokenFile(f.home().join("token")))
        );
        for allowed in [
            "http://localhost:80/c",
            "http://127.1.2.3/c",
            "http://[::1]:8080/c",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
        ] {
            f.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed);
            assert_eq!(container(&f).uri, allowed);
        }
        for (refused, reason) in [
            ("http://10.0.0.1/c", "loopback address"),
            ("http://example.com/c", "loopback address"),
            ("https://example.com/c", "only http://"),
            ("not a uri", "not a URI"),
        ] {
            f.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused);
            let e = f.resolve().unwrap_err();
            assert!(
                matches!(&e, ConfigError::InvalidCredentialsSetting { setting, .. }
                    if *setting == "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
                "{e:?}"
            );
            assert!(e.to_string().contains(reason), "{e}");
        }
        f.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/x");
        let e = f.resolve().unwrap_err().to_string();
        assert!(e.contains("starting with /"), "{e}");

        // Keys in the environment or the profile come first.
        f.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x");
        f.credentials(CREDS);
        assert!(f.resolve().unwrap().credentials.as_static().is_some());
    }

    #[test]
    fn instance_metadata_last_unless_disabled() {
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-east-1");
        f.vars.remove("AWS_EC2_METADATA_DISABLED");
        let imds = |f: &Fixture| match f.resolve().unwrap().credentials {
            CredentialsSource::InstanceMetadata(m) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            imds(&f),
            InstanceMetadata {
                endpoint: "http://169.254.169.254".into(),
                timeout: Duration::from_secs(1),
                attempts: 1,
                allow_v1: true,
            }
        );
        f.set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv6");
        assert_eq!(imds(&f).endpoint, "http://[fd00:ec2::254]");
        // Either mode in any case, as botocore lowers it (resolve_imds_endpoint_mode).
        f.set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv4");
        assert_eq!(imds(&f).endpoint, "http://169.254.169.254");
        f.vars.remove("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        f.config("[default]\nec2_metadata_service_endpoint_mode = IPv6\n");
        assert_eq!(imds(&f).endpoint, "http://[fd00:ec2::254]");
        f.set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv4");
        assert_eq!(imds(&f).endpoint, "http://169.254.169.254");
        f.set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv6");
        f.config(
            "[default]\nec2_metadata_service_endpoint = http://127.0.0.1:1338/\n\
             metadata_service_timeout = 2.5\nmetadata_service_num_attempts = 3\n\
             ec2_metadata_v1_disabled = true\n",
        );
        assert_eq!(
            imds(&f),
            InstanceMetadata {
                endpoint: "http://127.0.0.1:1338".into(),
                timeout: Duration::from_millis(2500),
                attempts: 3,
                allow_v1: false,
            }
        );
        // The environment beats the profile.
        f.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://[::1]:9")
            .set("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2");
        let m = imds(&f);
        assert_eq!((m.endpoint.as_str(), m.attempts), ("http://[::1]:9", 2));
        for (variable, value, expected) in [
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "https://x",
                "use an http:// URL",
            ),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "169.254.169.254",
                "use an http:// URL",
            ),
            ("AWS_METADATA_SERVICE_TIMEOUT", "0", "more than 0"),
            ("AWS_METADATA_SERVICE_TIMEOUT", "soon", "more than 0"),
            ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "0", "from 1 to 10"),
            ("AWS_EC2_METADATA_V1_DISABLED", "yes", "use true or false"),
        ] {
            let mut g = Fixture::new();
            g.vars.remove("AWS_EC2_METADATA_DISABLED");
            g.set("AWS_REGION", "us-east-1").set(variable, value);
            let e = g.resolve().unwrap_err().to_string();
            assert!(
                e.contains(expected) && e.contains(variable),
                "{variable}: {e}"
            );
        }
        let mut g = Fixture::new();
        g.vars.remove("AWS_EC2_METADATA_DISABLED");
        g.set("AWS_REGION", "us-east-1")
            .set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5");
        let e = g.resolve().unwrap_err().to_string();
        assert!(e.contains("use IPv4 or IPv6"), "{e}");
        // Only `true` (any case) turns it off, as botocore compares the value.
        f.set("AWS_EC2_METADATA_DISABLED", "false");
        assert_eq!(imds(&f).endpoint, "http://[::1]:9");
        // Turned off: no credentials at all is a configuration error.
        f.set("AWS_EC2_METADATA_DISABLED", "TRUE");
        assert!(matches!(
            f.resolve().unwrap_err(),
            ConfigError::MissingCredentials { .. }
        ));
    }

    #[test]
    fn missing_credentials_message_names_selected_profile_and_file() {
        let mut f = Fixture::new();
        let creds = f.file(
            "c",
            "[other]\naws_access_key_id = A\naws_secret_access_key = B\n",
        );
        f.config("[profile x]\nregion = us-east-1\n");
        f.set("AWS_SHARED_CREDENTIALS_FILE", &creds.display().to_string())
            .set("AWS_PROFILE", "x");
        let msg = f.resolve().unwrap_err().to_string();
        assert!(msg.contains("for profile 'x' to "), "{msg}");
        assert!(msg.contains(&creds.display().to_string()), "{msg}");

        // with --profile the env vars are not suggested as the fix
        env_creds(&mut f);
        let msg = f.resolve_with(&profile("x")).unwrap_err().to_string();
        assert!(msg.contains("selected with --profile"), "{msg}");
    }

    #[test]
    fn secret_without_key_in_env_falls_through_to_profile() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        f.set("AWS_SECRET_ACCESS_KEY", "secretenv");
        assert_eq!(
            f.resolve()
                .unwrap()
                .credentials
                .as_static()
                .unwrap()
                .access_key_id,
            "AKIDDEFAULT"
        );

        let mut g = Fixture::new();
        g.set("AWS_SECRET_ACCESS_KEY", "s")
            .set("AWS_REGION", "us-east-1");
        let msg = g.resolve().unwrap_err().to_string();
        assert!(msg.contains("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
    }

    #[test]
    fn access_key_without_secret_is_its_own_error() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        f.set("AWS_ACCESS_KEY_ID", "AKIDENV");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::IncompleteEnvCredentials), "{e}");
        assert!(e.to_string().contains("set AWS_SECRET_ACCESS_KEY"));
        // not consulted at all under --profile
        assert!(f.resolve_with(&profile("work")).is_ok());
    }

    #[test]
    fn incomplete_profile_credentials() {
        let f = Fixture::new();
        let p = f.credentials("[default]\n# c\naws_access_key_id = A\n");
        f.config(CONFIG);
        let e = f.resolve().unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::IncompleteProfileCredentials {
                    line: 3,
                    missing: "aws_secret_access_key",
                    ..
                }
            ),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains(&p.display().to_string()) && msg.contains("line 3"),
            "{msg}"
        );
        assert!(msg.contains("add aws_secret_access_key = ..."), "{msg}");
    }

    #[test]
    fn keys_split_across_the_files_are_refused_naming_the_other_file() {
        let f = Fixture::new();
        for (creds_key, config_key) in [
            ("aws_access_key_id", "aws_secret_access_key"),
            ("aws_secret_access_key", "aws_access_key_id"),
        ] {
            let creds = f.credentials(&format!("[default]\n{creds_key} = A\n"));
            let config = f.config(&format!(
                "[default]\nregion = us-east-1\n\n{config_key} = S\n"
            ));
            let e = f.resolve().unwrap_err();
            assert!(
                matches!(
                    &e,
                    ConfigError::IncompleteProfileCredentials {
                        line: 2,
                        other_file: Some((_, 4)),
                        ..
                    }
                ),
                "{e:?}"
            );
            let msg = e.to_string();
            assert!(
                msg.contains(&format!(
                    "sets {creds_key} ({}, line 2) but not {config_key}: {config_key} is in {} \
                     line 4, but a profile's key id and secret must be in the same file",
                    creds.display(),
                    config.display()
                )),
                "{msg}"
            );
            assert!(!msg.contains("add "), "{msg}");
        }
    }

    fn assumed(c: &Config) -> &AssumeRole {
        match &c.credentials {
            CredentialsSource::AssumeRole(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn role_profiles_assume_their_role_with_the_source_profile() {
        let mut f = Fixture::new();
        f.config(
            "[profile r]\nregion = us-east-1\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n",
        );
        f.credentials(CREDS);
        f.set("AWS_PROFILE", "r");
        let c = f.resolve().unwrap();
        let r = assumed(&c);
        assert_eq!(r.role_arn, "arn:aws:iam::1:role/x");
        assert_eq!(
            (
                r.session_name.as_deref(),
                r.external_id.as_deref(),
                r.duration_seconds,
                r.mfa_serial.as_deref()
            ),
            (None, None, None, None)
        );
        assert_eq!(
            r.source.as_static().unwrap().access_key_id,
            "AKIDDEFAULT",
            "the source profile's keys sign AssumeRole"
        );
        assert_eq!(
            r.sts,
            StsEndpoint {
                url: "https://sts.us-east-1.amazonaws.com".into(),
                region: "us-east-1".into()
            }
        );
        assert!(r.origin.ends_with(".aws/config line 3"), "{}", r.origin);

        // Everything a role profile may say; STS of the region's partition, or as configured.
        f.config(
            "[profile r]\nregion = cn-north-1\nrole_arn = arn:aws-cn:iam::1:role/x\n\
             source_profile = default\nrole_session_name = me\nexternal_id = ext-1\n\
             duration_seconds = 7200\n",
        );
        let c = f.resolve().unwrap();
        let r = assumed(&c);
        assert_eq!(
            (
                r.session_name.as_deref(),
                r.external_id.as_deref(),
                r.duration_seconds
            ),
            (Some("me"), Some("ext-1"), Some(7200))
        );
        assert_eq!(r.sts.url, "https://sts.cn-north-1.amazonaws.com.cn");
        f.set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9999");
        assert_eq!(
            assumed(&f.resolve().unwrap()).sts.url,
            "http://127.0.0.1:9999"
        );

        // Keys in the environment still come first (unless --profile).
        env_creds(&mut f);
        assert!(f.resolve().unwrap().credentials.as_static().is_some());
        assert!(matches!(
            f.resolve_with(&profile("r")).unwrap().credentials,
            CredentialsSource::AssumeRole(_)
        ));
    }

    #[test]
    fn role_chains_and_credential_sources() {
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-east-1");
        f.config(
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n\
             [profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n\
             [profile c]\ncredential_process = fetch-keys\n\
             [profile self]\nrole_arn = arn:aws:iam::1:role/s\nsource_profile = self\n\
             aws_access_key_id = AKIDSELF\naws_secret_access_key = s\n\
             [profile self-proc]\nrole_arn = arn:aws:iam::1:role/s\nsource_profile = self-proc\n\
             credential_process = fetch-self\naws_access_key_id = AKIDCONF\naws_secret_access_key = s\n\
             [profile self-creds]\nrole_arn = arn:aws:iam::1:role/s\nsource_profile = self-creds\n\
             credential_process = fetch-self\n\
             [profile self-sso]\nrole_arn = arn:aws:iam::1:role/s\nsource_profile = self-sso\n\
             sso_start_url = https://x\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n\
             aws_access_key_id = AKIDSSO\naws_secret_access_key = s\n\
             [profile loop1]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = loop2\n\
             [profile loop2]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = loop1\n\
             [profile env]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = Environment\n\
             [profile ecs]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = EcsContainer\n\
             [profile ec2]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = Ec2InstanceMetadata\n\
             [profile bad-source]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = Laptop\n\
             [profile no-source]\nrole_arn = arn:aws:iam::1:role/e\n\
             [profile ghost]\nrole_arn = arn:aws:iam::1:role/e\nsource_profile = nobody\n\
             [profile empty]\nregion = us-east-1\n\
             [profile empty-source]\nrole_arn = arn:aws:iam::1:role/e\nsource_profile = empty\n\
             [profile long]\nrole_arn = arn:aws:iam::1:role/e\nsource_profile = a\nduration_seconds = 60\n\
             [profile mfa]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = c\nmfa_serial = arn:aws:iam::1:mfa/me\n",
        );
        let resolve = |name: &str| f.resolve_with(&profile(name));
        // a -> b -> c (credential_process)
        let c = resolve("a").unwrap();
        let a = assumed(&c);
        let CredentialsSource::AssumeRole(b) = a.source.as_ref() else {
            panic!("{:?}", a.source)
        };
        assert_eq!(b.role_arn, "arn:aws:iam::1:role/b");
        assert!(
            matches!(b.source.as_ref(), CredentialsSource::Process(p) if p.command == "fetch-keys")
        );
        // A source profile with keys is used with them, not through a role of its own
        // (botocore's `_resolve_credentials_from_profile`).
        f.credentials("[b]\naws_access_key_id = AKIDB\naws_secret_access_key = sb\n");
        let c = resolve("a").unwrap();
        assert_eq!(
            assumed(&c).source.as_static().unwrap().access_key_id,
            "AKIDB"
        );
        f.credentials("[self-creds]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = s\n");
        // A profile signing its own role with its own keys; with what its own providers
        // give, in botocore's order: SSO, the credentials file's keys, credential_process,
        // the config file's keys.
        let source = |name: &str| *assumed(&resolve(name).unwrap()).source.clone();
        assert_eq!(
            source("self").as_static().unwrap().access_key_id,
            "AKIDSELF"
        );
        assert!(
            matches!(source("self-proc"), CredentialsSource::Process(p) if p.command == "fetch-self")
        );
        assert_eq!(
            source("self-creds").as_static().unwrap().access_key_id,
            "AKIDCREDS"
        );
        assert!(matches!(source("self-sso"), CredentialsSource::Sso(_)));
        // credential_source
        let e = resolve("env").unwrap_err().to_string();
        assert!(
            e.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"),
            "{e}"
        );
        let e = resolve("ecs").unwrap_err().to_string();
        assert!(e.contains("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), "{e}");
        let e = resolve("ec2").unwrap_err().to_string();
        assert!(e.contains("AWS_EC2_METADATA_DISABLED is true"), "{e}");
        let mut g = Fixture::new();
        g.set("AWS_REGION", "us-east-1");
        g.config(&fs::read_to_string(f.home().join(".aws/config")).unwrap());
        env_creds(&mut g);
        g.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds");
        g.vars.remove("AWS_EC2_METADATA_DISABLED");
        let source = |name: &str| {
            *assumed(&g.resolve_with(&profile(name)).unwrap())
                .source
                .clone()
        };
        assert_eq!(source("env").as_static().unwrap().access_key_id, "AKIDENV");
        assert!(matches!(source("ecs"), CredentialsSource::Container(_)));
        assert!(matches!(
            source("ec2"),
            CredentialsSource::InstanceMetadata(_)
        ));
        // Mistakes, each naming the setting and its line.
        for (name, expected) in [
            (
                "bad-source",
                "use Environment, EcsContainer or Ec2InstanceMetadata",
            ),
            (
                "no-source",
                "needs source_profile, credential_source or web_identity_token_file",
            ),
            ("ghost", "there is no profile 'nobody'"),
            (
                "empty-source",
                "profile 'empty' has no credentials to assume the role with",
            ),
            (
                "loop1",
                "a loop or a chain too long: loop1 -> loop2 -> loop1",
            ),
            ("long", "from 900 to 43200"),
        ] {
            let e = resolve(name).unwrap_err();
            assert!(
                matches!(e, ConfigError::InvalidCredentialsSetting { .. }),
                "{name}: {e:?}"
            );
            let e = e.to_string();
            assert!(
                e.contains(expected) && e.contains(".aws/config line"),
                "{name}: {e}"
            );
        }
        let mfa = resolve("mfa").unwrap();
        assert_eq!(
            assumed(&mfa).mfa_serial.as_deref(),
            Some("arn:aws:iam::1:mfa/me")
        );
    }

    #[test]
    fn sso_profiles_new_and_legacy() {
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-east-1");
        f.config(
            "[profile dev]\nsso_session = my-sso\nsso_account_id = 111122223333\n\
             sso_role_name = ReadOnly\naws_access_key_id = IGNORED\naws_secret_access_key = x\n\
             [sso-session my-sso]\nsso_start_url = https://my-sso-portal.awsapps.com/start\n\
             sso_region = eu-west-1\n\
             [profile legacy]\nsso_start_url = https://my-sso-portal.awsapps.com/start\n\
             sso_region = us-gov-west-1\nsso_account_id = 1\nsso_role_name = R\n\
             [profile no-section]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = R\n\
             [profile no-role]\nsso_session = my-sso\nsso_account_id = 1\n\
             [profile no-region]\nsso_start_url = https://x\nsso_account_id = 1\nsso_role_name = R\n\
             [sso-session half]\nsso_region = eu-west-1\n\
             [profile half]\nsso_session = half\nsso_account_id = 1\nsso_role_name = R\n",
        );
        let sso =
            |f: &Fixture, name: &str| match f.resolve_with(&profile(name)).unwrap().credentials {
                CredentialsSource::Sso(s) => s,
                other => panic!("{other:?}"),
            };
        let s = sso(&f, "dev");
        assert_eq!(
            (s.account_id.as_str(), s.role_name.as_str()),
            ("111122223333", "ReadOnly")
        );
        // botocore's cache name: the SHA-1 of the session name.
        assert_eq!(
            s.token_file,
            f.home()
                .join(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json")
        );
        assert_eq!(s.portal, "https://portal.sso.eu-west-1.amazonaws.com");
        assert_eq!(s.login, "aws sso login --profile dev");
        assert_eq!(
            s.oidc.as_deref(),
            Some("https://oidc.eu-west-1.amazonaws.com")
        );
        assert!(s.origin.ends_with(".aws/config line 2"), "{}", s.origin);
        // Legacy: the SHA-1 of the start URL; the portal of the region's partition.
        let s = sso(&f, "legacy");
        assert_eq!(
            s.token_file,
            f.home()
                .join(".aws/sso/cache/c7aaaf71fcc8777ae2475525ed049d39fe16c484.json")
        );
        assert_eq!(s.portal, "https://portal.sso.us-gov-west-1.amazonaws.com");
        assert_eq!(s.oidc, None, "a legacy profile's token cannot be refreshed");
        f.set("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:7");
        assert_eq!(sso(&f, "legacy").portal, "http://127.0.0.1:7");
        for (name, expected) in [
            ("no-section", "there is no [sso-session nope] section"),
            ("no-role", "also needs sso_account_id and sso_role_name"),
            ("no-region", "the profile has no sso_region"),
            ("half", "[sso-session half] has no sso_start_url"),
        ] {
            let e = f.resolve_with(&profile(name)).unwrap_err().to_string();
            assert!(e.contains(expected), "{name}: {e}");
        }
    }

    #[test]
    fn web_identity_from_the_environment_or_a_profile() {
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-west-2")
            .set("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks/token")
            .set("AWS_ROLE_ARN", "arn:aws:iam::1:role/pod")
            .set("AWS_ROLE_SESSION_NAME", "pod-1");
        let web = |f: &Fixture, o: &Overrides| match f.resolve_with(o).unwrap().credentials {
            CredentialsSource::WebIdentity(w) => w,
            other => panic!("{other:?}"),
        };
        let w = web(&f, &Overrides::default());
        assert_eq!(w.role_arn, "arn:aws:iam::1:role/pod");
        assert_eq!(w.token_file, PathBuf::from("/var/run/secrets/eks/token"));
        assert_eq!(w.session_name, "pod-1");
        assert_eq!(w.sts.url, "https://sts.us-west-2.amazonaws.com");
        // Before the profile's keys, after the environment's keys.
        f.credentials(CREDS);
        assert!(matches!(
            f.resolve().unwrap().credentials,
            CredentialsSource::WebIdentity(_)
        ));
        // An explicit --profile switches it off, as botocore's disable_env_vars does.
        f.config("[profile keys]\nregion = us-west-2\n");
        f.credentials("[keys]\naws_access_key_id = AKIDK\naws_secret_access_key = sk\n");
        let c = f.resolve_with(&profile("keys")).unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDK");
        f.credentials(CREDS);
        env_creds(&mut f);
        assert!(f.resolve().unwrap().credentials.as_static().is_some());
        // From a profile.
        f.config("[profile w]\nrole_arn = arn:aws:iam::1:role/w\nweb_identity_token_file = ~/t\n");
        let w = web(&f, &profile("w"));
        assert_eq!(
            (w.role_arn.as_str(), w.token_file.clone()),
            ("arn:aws:iam::1:role/w", f.home().join("t"))
        );
        // A profile that assumes a role with its source_profile comes before the
        // environment's web identity, as in botocore's chain (AssumeRoleProvider, then
        // AssumeRoleWithWebIdentityProvider).
        f.vars.remove("AWS_ACCESS_KEY_ID");
        f.vars.remove("AWS_SECRET_ACCESS_KEY");
        f.config("[profile r]\nrole_arn = arn:aws:iam::1:role/profile\nsource_profile = default\n");
        f.set("AWS_PROFILE", "r");
        assert_eq!(
            assumed(&f.resolve().unwrap()).role_arn,
            "arn:aws:iam::1:role/profile"
        );
        // A token without a role.
        let mut g = Fixture::new();
        g.set("AWS_REGION", "us-west-2")
            .set("AWS_WEB_IDENTITY_TOKEN_FILE", "/t");
        let e = g.resolve().unwrap_err().to_string();
        assert!(e.contains("AWS_ROLE_ARN must name the role"), "{e}");
    }

    #[test]
    fn explicit_profile_not_found_names_both_files() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        let e = f.resolve_with(&profile("nope")).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(
            e,
            ConfigError::ProfileNotFound {
                origin: "--profile",
                ..
            }
        ));
        assert!(
            msg.contains(&f.home().join(".aws/credentials").display().to_string()),
            "{msg}"
        );
        assert!(
            msg.contains(&f.home().join(".aws/config").display().to_string()),
            "{msg}"
        );
        assert!(msg.contains("'nope'"), "{msg}");

        env_creds(&mut f);
        f.set("AWS_PROFILE", "nope2");
        let e = f.resolve().unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::ProfileNotFound {
                    origin: "AWS_PROFILE",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn missing_default_profile_is_not_profile_not_found() {
        let mut f = Fixture::new();
        env_creds(&mut f);
        f.set("AWS_REGION", "us-east-1");
        f.config("[profile other]\nregion = eu-west-1\n");
        assert!(f.resolve().is_ok());
    }

    #[test]
    fn debug_redacts_secret_and_token() {
        let c = Credentials::new("AKIDVISIBLE", "supersecret", Some("sessiontok".into()));
        let d = format!("{c:?}");
        assert!(d.contains("AKIDVISIBLE"));
        assert!(
            !d.contains("supersecret") && !d.contains("sessiontok"),
            "{d}"
        );
        assert!(d.contains("** redacted **"));
        let cfg = Config::builder()
            .region("us-east-1")
            .credentials(c)
            .build()
            .unwrap();
        let d = format!("{cfg:?}");
        assert!(
            !d.contains("supersecret") && !d.contains("sessiontok"),
            "{d}"
        );
        let none = format!("{:?}", Credentials::new("A", "B", None));
        assert!(none.contains("session_token: None"), "{none}");
    }

    // --- region -----------------------------------------------------------------

    #[test]
    fn region_precedence() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        assert_eq!(f.resolve().unwrap().region, "eu-west-1");
        f.set("AWS_DEFAULT_REGION", "us-west-1");
        assert_eq!(f.resolve().unwrap().region, "us-west-1");
        f.set("AWS_REGION", "us-west-2");
        assert_eq!(f.resolve().unwrap().region, "us-west-2");
        let o = Overrides {
            region: Some("ca-central-1".into()),
            ..Default::default()
        };
        assert_eq!(f.resolve_with(&o).unwrap().region, "ca-central-1");
    }

    #[test]
    fn region_from_credentials_file_profile() {
        // botocore and the Rust SDK merge the credentials file into the profile
        let f = Fixture::new();
        f.credentials(
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\nregion = me-south-1\n",
        );
        assert_eq!(f.resolve().unwrap().region, "me-south-1");
    }

    #[test]
    fn missing_region_message() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config("[profile x]\noutput = json\n");
        f.set("AWS_PROFILE", "x");
        env_creds(&mut f);
        let e = f.resolve().unwrap_err();
        let expected = format!(
            "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION), pass --region, \
             or add region = ... to profile 'x' in {} (AWS_CONFIG_FILE)",
            f.home().join(".aws/config").display()
        );
        assert_eq!(e.to_string(), expected);
    }

    #[test]
    fn invalid_region_names_its_source() {
        let mut f = Fixture::new();
        env_creds(&mut f);
        f.set("AWS_REGION", "us-east-1/evil");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::InvalidRegion { .. }));
        assert!(e.to_string().contains("AWS_REGION"), "{e}");
    }

    // --- endpoint ---------------------------------------------------------------

    #[test]
    fn endpoint_precedence() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(
            "[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\nservices = local\n\
             [services local]\nkms =\n  endpoint_url = http://localhost:4566\n",
        );
        assert_eq!(f.resolve().unwrap().endpoint, "http://localhost:4566");
        f.set("AWS_ENDPOINT_URL", "https://global.example/");
        assert_eq!(f.resolve().unwrap().endpoint, "https://global.example");
        f.set("AWS_ENDPOINT_URL_KMS", "https://kms.example");
        assert_eq!(f.resolve().unwrap().endpoint, "https://kms.example");
        let o = Overrides {
            endpoint_url: Some("https://flag.example".into()),
            ..Default::default()
        };
        assert_eq!(f.resolve_with(&o).unwrap().endpoint, "https://flag.example");
    }

    #[test]
    fn endpoint_from_profile_not_a_kms_subsection_of_it() {
        let f = Fixture::new();
        f.credentials(CREDS);
        f.config("[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\n");
        assert_eq!(f.resolve().unwrap().endpoint, "https://profile.example");
        f.config(
            "[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\n\
             s3 =\n  addressing_style = path\nkms =\n  endpoint_url = https://kms-sub.example ; comment\n",
        );
        // botocore reads service endpoints only in [services NAME] sections.
        assert_eq!(f.resolve().unwrap().endpoint, "https://profile.example");
    }

    #[test]
    fn endpoint_default_from_region() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.set("AWS_REGION", "cn-north-1");
        assert_eq!(
            f.resolve().unwrap().endpoint,
            "https://kms.cn-north-1.amazonaws.com.cn"
        );
        let regional = |region: &str| {
            kms_types::resolve_endpoint(&kms_types::EndpointParams {
                region: Some(region.to_owned()),
                ..Default::default()
            })
            .unwrap()
        };
        assert_eq!(regional("us-east-1"), "https://kms.us-east-1.amazonaws.com");
        assert_eq!(
            regional("eu-central-2"),
            "https://kms.eu-central-2.amazonaws.com"
        );
        assert_eq!(
            regional("eu-isoe-west-1"),
            "https://kms.eu-isoe-west-1.cloud.adc-e.uk"
        );
    }

    #[test]
    fn ignore_configured_endpoint_urls() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config("[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\n");
        f.set("AWS_ENDPOINT_URL", "https://global.example")
            .set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        assert_eq!(
            f.resolve().unwrap().endpoint,
            "https://kms.eu-west-1.amazonaws.com"
        );
        let o = Overrides {
            endpoint_url: Some("https://flag.example".into()),
            ..Default::default()
        };
        assert_eq!(f.resolve_with(&o).unwrap().endpoint, "https://flag.example");
        // Only `true` (any case) ignores them, as botocore's ensure_boolean reads it;
        // the variable wins over the profile's setting either way.
        f.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false");
        assert_eq!(f.resolve().unwrap().endpoint, "https://global.example");
        f.config(
            "[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\n\
             ignore_configured_endpoint_urls = true\n",
        );
        assert_eq!(f.resolve().unwrap().endpoint, "https://global.example");
        f.vars.remove("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
        assert_eq!(
            f.resolve().unwrap().endpoint,
            "https://kms.eu-west-1.amazonaws.com"
        );
        f.config(
            "[default]\nregion = eu-west-1\nendpoint_url = https://profile.example\n\
             ignore_configured_endpoint_urls = 1\n",
        );
        assert_eq!(f.resolve().unwrap().endpoint, "https://global.example");
    }

    #[test]
    fn an_io_error_is_the_source_not_part_of_the_display() {
        let e = ConfigError::Io {
            path: PathBuf::from("/x/config"),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "nope"),
        };
        assert_eq!(e.to_string(), "cannot read AWS config file /x/config");
        assert_eq!(e.report(), "cannot read AWS config file /x/config: nope");
        let e = crate::Error::from(e);
        assert_eq!(e.to_string(), "cannot read AWS config file /x/config");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("nope"));
        assert_eq!(e.report(), "cannot read AWS config file /x/config: nope");
    }

    /// The error of `Config::builder()` with `endpoint` (and a region and keys).
    fn builder_error(endpoint: &str) -> ConfigError {
        Config::builder()
            .endpoint(endpoint)
            .region("us-east-1")
            .credentials(Credentials::new("AKID", "SECRET", None))
            .build()
            .unwrap_err()
    }

    #[test]
    fn an_endpoint_with_user_info_is_rejected_without_echoing_the_password() {
        let e = builder_error("http://admin:TOPSECRET@127.0.0.1:1/path");
        assert!(
            matches!(&e, ConfigError::EndpointUserInfo { value, origin }
                if value == "http://****@127.0.0.1:1/path"
                    && origin == "ConfigBuilder::endpoint"),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(!text.contains("TOPSECRET"), "{text}");
        assert!(text.contains("user:password@"), "{text}");

        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.set("AWS_REGION", "us-east-1")
            .set("AWS_ENDPOINT_URL", "https://me:pw@kms.example");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::EndpointUserInfo { .. }), "{e:?}");
        assert!(e.to_string().contains("AWS_ENDPOINT_URL"), "{e}");
        assert!(!format!("{e} {e:?}").contains("pw@"), "{e:?}");
        // An `@` in the path is written %40: a bare one may end a password.
        assert_eq!(
            check_endpoint("http://127.0.0.1:4599/a%40b", "test").unwrap(),
            "http://127.0.0.1:4599/a%40b"
        );
    }

    #[test]
    fn no_part_of_an_endpoints_user_info_is_ever_echoed() {
        for (given, shown) in [
            // a password holding a character that would end the authority
            ("http://admin:s3cr#t@127.0.0.1:1", "http://****@127.0.0.1:1"),
            (
                "http://admin:s3/cret@127.0.0.1:1",
                "http://****@127.0.0.1:1",
            ),
            (
                "http://admin:s3?cret@127.0.0.1:1/",
                "http://****@127.0.0.1:1/",
            ),
            // a lone token is the secret
            ("http://SECRETTOKEN@127.0.0.1:1", "http://****@127.0.0.1:1"),
            (
                "HTTPS://ghp_SECRETTOKEN@kms.example",
                "HTTPS://****@kms.example",
            ),
            ("http://127.0.0.1:4599/a@b", "http://****@b"),
        ] {
            let e = check_endpoint(given, "--endpoint-url").unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(
                matches!(&e, ConfigError::EndpointUserInfo { value, .. } if value == shown),
                "{given}: {e:?}"
            );
            for secret in ["admin", "s3", "cret", "SECRETTOKEN"] {
                assert!(!text.contains(secret), "{given}: {text}");
            }
        }
        // not an http(s) URL at all: InvalidEndpoint, masked the same way
        for (given, shown) in [
            ("ftp://admin:s3cret@kms.example", "ftp://****@kms.example"),
            ("admin:s3cret@kms.example", "****@kms.example"),
        ] {
            let e = check_endpoint(given, "--endpoint-url").unwrap_err();
            assert!(
                matches!(&e, ConfigError::InvalidEndpoint { value, .. } if value == shown),
                "{given}: {e:?}"
            );
            assert!(!format!("{e} {e:?}").contains("s3cret"), "{e:?}");
        }
        // through the builder, Config is never built with it (nor its Debug)
        let e = builder_error("http://admin:s3/cret@127.0.0.1:1");
        assert!(matches!(e, ConfigError::EndpointUserInfo { .. }), "{e:?}");
    }

    #[test]
    fn invalid_endpoint_names_its_source() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.set("AWS_REGION", "us-east-1")
            .set("AWS_ENDPOINT_URL_KMS", "localhost:4566");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::InvalidEndpoint { .. }));
        assert!(e.to_string().contains("AWS_ENDPOINT_URL_KMS"), "{e}");
    }

    /// An indented line continues the setting above it, so a value may hold the keys
    /// written below it: an error quotes only the value's first line (it printed the
    /// secret key), and at most 128 characters of it.
    #[test]
    fn an_error_quotes_only_the_first_line_of_a_value() {
        let f = Fixture::new();
        f.config(
            "[default]\nregion = us-east-1\n    aws_access_key_id = AKIAEXAMPLE\n    \
             aws_secret_access_key = SeCrEtVaLuE123\n",
        );
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::InvalidRegion { .. }), "{e:?}");
        let message = format!("{e} {e:?}");
        assert!(!message.contains("SeCrEt"), "{message}");
        assert!(
            message.contains("us-east-1 (and 2 more lines)"),
            "{message}"
        );

        let f = Fixture::new();
        f.credentials(CREDS);
        f.config(&format!("[default]\nregion = {}\n", "x".repeat(100_000)));
        let message = f.resolve().unwrap_err().to_string();
        assert!(message.len() < 400, "{message}");
    }

    /// Only errors quote a value short: the settings themselves are read whole. A
    /// session token from STS is hundreds of characters; it was cut to 128 and "…"
    /// (every call with it then failed at KMS), as were a long `credential_process`
    /// and a role ARN's session name, and a value continued on the lines below
    /// became "first line (and N more lines)".
    #[test]
    fn settings_are_read_whole_and_only_errors_quote_them_short() {
        let token = format!("IQoJb3JpZ2luX2VjE{}", "A".repeat(1200));
        let f = Fixture::new();
        f.credentials(&format!(
            "[default]\naws_access_key_id = AKIDLONG\naws_secret_access_key = S\n\
             aws_session_token = {token}\n"
        ));
        f.config("[default]\nregion = us-east-1\n");
        let c = f.resolve().unwrap();
        let keys = c.credentials.as_static().unwrap();
        assert_eq!(keys.session_token.as_deref(), Some(token.as_str()));

        let mut f = Fixture::new();
        let args = (0..40)
            .map(|i| format!("--arg{i}=value{i}"))
            .collect::<Vec<_>>();
        let command = format!("/opt/bin/creds {}", args.join(" "));
        assert!(command.len() > 128);
        f.config(&format!(
            "[profile p]\nregion = us-east-1\ncredential_process = {command}\n    --continued\n"
        ));
        f.set("AWS_PROFILE", "p");
        let c = f.resolve().unwrap();
        let CredentialsSource::Process(p) = &c.credentials else {
            panic!("{:?}", c.credentials)
        };
        assert_eq!(p.command, format!("{command}\n--continued"));

        // A source_profile naming no profile is quoted short in the error all the same.
        f.config(&format!(
            "[profile p]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/r\n\
             source_profile = {}\n    aws_secret_access_key = SeCrEt\n",
            "n".repeat(300)
        ));
        let e = f.resolve().unwrap_err().to_string();
        assert!(!e.contains("SeCrEt") && e.len() < 900, "{e}");
    }

    /// A chain of source_profiles too long names the profiles it went through, the last
    /// `source_profile` quoted short: it need not name a profile, and was quoted whole
    /// (with a secret on the line below it).
    #[test]
    fn a_chain_too_long_quotes_its_last_source_profile_short() {
        let mut f = Fixture::new();
        let mut config = String::new();
        for i in 0..MAX_ROLE_CHAIN + 1 {
            let source = if i == MAX_ROLE_CHAIN {
                format!("{}\n    aws_secret_access_key = SeCrEt", "n".repeat(300))
            } else {
                format!("p{}", i + 1)
            };
            config.push_str(&format!(
                "[profile p{i}]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/r\n\
                 source_profile = {source}\n"
            ));
        }
        f.config(&config);
        f.set("AWS_PROFILE", "p0");
        let e = f.resolve().unwrap_err().to_string();
        assert!(e.contains("a loop or a chain too long: p0 -> p1"), "{e}");
        assert!(!e.contains("SeCrEt") && e.len() < 1000, "{e}");
    }

    /// A `credential_process`'s program is named short, as every value an error or
    /// `Debug` quotes: read whole since the files are, a quoted program running onto an
    /// indented line below carried that line (a secret) into `Debug`, and a first word
    /// thousands of characters long was quoted whole.
    #[test]
    fn a_credential_process_program_is_named_short() {
        let mut f = Fixture::new();
        f.set("AWS_PROFILE", "p");
        f.config(
            "[profile p]\nregion = us-east-1\ncredential_process = \"/opt/bin/creds\n    \
             aws_secret_access_key = SeCrEt\" --role x\n",
        );
        let c = f.resolve().unwrap();
        let debug = format!("{:?}", c.credentials);
        assert!(debug.contains("/opt/bin/creds"), "{debug}");
        assert!(!debug.contains("SeCrEt"), "{debug}");
        let long = "x".repeat(300);
        f.config(&format!(
            "[profile p]\nregion = us-east-1\ncredential_process = /opt/{long} 'unclosed\n"
        ));
        let e = f.resolve().unwrap_err().to_string();
        assert!(e.contains("a quotation is not closed"), "{e}");
        assert!(!e.contains(&long), "{e}");
    }

    /// The settings a credentials source names in its messages (`describe`, and the
    /// fetch's errors) and a CA bundle's path are quoted short: read whole since the
    /// files are, a value with an indented secret below it carried the secret into them.
    #[test]
    fn settings_a_source_names_are_quoted_short() {
        let below = "\n    aws_secret_access_key = SeCrEt\n";
        let mut f = Fixture::new();
        f.set("AWS_PROFILE", "p");
        for extra in [
            format!("source_profile = p\nrole_arn = arn:aws:iam::123456789012:role/r{below}"),
            format!(
                "role_arn = arn:aws:iam::123456789012:role/r\n\
                 web_identity_token_file = /tmp/token{below}"
            ),
            format!(
                "sso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n\
                 sso_account_id = 123456789012\nsso_role_name = r{below}"
            ),
        ] {
            f.config(&format!(
                "[profile p]\nregion = us-east-1\naws_access_key_id = AKID\n\
                 aws_secret_access_key = S\n{extra}"
            ));
            let described = f.resolve().unwrap().credentials.describe();
            assert!(!described.contains("SeCrEt"), "{described}");
        }
        f.config(&format!(
            "[profile p]\nregion = us-east-1\naws_access_key_id = AKID\n\
             aws_secret_access_key = S\nca_bundle = /nonexistent.pem{below}"
        ));
        let e = f.resolve().unwrap_err().to_string();
        assert!(e.contains("/nonexistent.pem"), "{e}");
        assert!(!e.contains("SeCrEt"), "{e}");
    }

    /// The settings read with their variable (`setting`: true/false flags, the retry
    /// mode, the instance metadata settings) are quoted short in errors too: read whole
    /// since the files are, a bad one with an indented secret below it, or megabytes
    /// long, was quoted whole.
    #[test]
    fn settings_with_a_variable_are_quoted_short_in_errors() {
        let long = "x".repeat(300);
        let below = "\n    aws_secret_access_key = SeCrEt\n";
        for setting in [
            "use_fips_endpoint",
            "use_dualstack_endpoint",
            "retry_mode",
            "ec2_metadata_service_endpoint",
            "ec2_metadata_service_endpoint_mode",
            "metadata_service_timeout",
            "metadata_service_num_attempts",
            "ec2_metadata_v1_disabled",
        ] {
            for value in [format!("{long}{below}"), format!("bad{below}")] {
                let mut f = Fixture::new();
                // No credentials: the chain reaches instance metadata and its settings.
                f.vars.remove("AWS_EC2_METADATA_DISABLED");
                f.config(&format!(
                    "[default]\nregion = us-east-1\n{setting} = {value}"
                ));
                let e = f.resolve().unwrap_err().to_string();
                assert!(e.contains(setting), "{e}");
                assert!(
                    !e.contains("SeCrEt") && !e.contains(&long),
                    "{setting}: {e}"
                );
            }
        }
    }

    /// What `from_env` accepts, `Client::new` accepts (it panicked on these), and a port
    /// that is not a port is refused rather than replaced by the default one (the
    /// request went to port 80).
    #[test]
    fn an_endpoint_from_the_environment_is_one_the_client_takes() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.set("AWS_REGION", "us-east-1");
        for bad in [
            "http://localhost:4599/a b",
            "http://local\"host:4599",
            "http://[::1",
            "http://a{b}",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:",
            "https://kms.example:4x",
            // No query or fragment: the client appends nothing to them.
            "http://localhost:4599?x=1",
            "http://localhost:4599/#top",
            "http:///kms",
        ] {
            f.set("AWS_ENDPOINT_URL", bad);
            let e = f.resolve().unwrap_err();
            assert!(
                matches!(e, ConfigError::InvalidEndpoint { .. }),
                "{bad}: {e:?}"
            );
            assert!(e.to_string().contains("AWS_ENDPOINT_URL"), "{e}");
        }
        for good in [
            "http://127.0.0.1:65535",
            "http://[::1]:4599",
            "http://kms.example:8080/p",
        ] {
            f.set("AWS_ENDPOINT_URL", good);
            let config = f.resolve().unwrap();
            crate::Client::try_new(config).unwrap();
        }
    }

    #[test]
    fn the_endpoint_scheme_is_case_insensitive() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.set("AWS_REGION", "us-east-1");
        for (given, endpoint) in [
            ("HTTP://127.0.0.1:4599/", "http://127.0.0.1:4599"),
            ("Https://kms.example", "https://kms.example"),
        ] {
            let o = Overrides {
                endpoint_url: Some(given.into()),
                ..Overrides::default()
            };
            assert_eq!(f.resolve_with(&o).unwrap().endpoint, endpoint);
        }
        let o = Overrides {
            endpoint_url: Some("ftp://kms.example".into()),
            ..Overrides::default()
        };
        assert!(matches!(
            f.resolve_with(&o).unwrap_err(),
            ConfigError::InvalidEndpoint { .. }
        ));
    }

    /// `--endpoint-url "$UNSET"`: an empty flag is an error, never a silent fall-back
    /// to the configured endpoint, which for most is real AWS.
    #[test]
    fn empty_flags_are_errors_not_fall_backs() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.set("AWS_REGION", "us-east-1");
        f.set("AWS_ENDPOINT_URL", "http://127.0.0.1:4599");
        f.set("AWS_CA_BUNDLE", "/nonexistent/ca.pem");
        for value in ["", "  "] {
            let endpoint = Overrides {
                endpoint_url: Some(value.into()),
                ..Overrides::default()
            };
            assert!(matches!(
                f.resolve_with(&endpoint).unwrap_err(),
                ConfigError::InvalidEndpoint { origin, .. } if origin == "--endpoint-url"
            ));
            let region = Overrides {
                region: Some(value.into()),
                ..Overrides::default()
            };
            assert!(matches!(
                f.resolve_with(&region).unwrap_err(),
                ConfigError::InvalidRegion { origin, .. } if origin == "--region"
            ));
            let ca_bundle = Overrides {
                ca_bundle: Some(value.into()),
                ..Overrides::default()
            };
            let e = f.resolve_with(&ca_bundle).unwrap_err();
            assert!(
                matches!(&e, ConfigError::InvalidCaBundle { origin, .. } if origin == "--ca-bundle"),
                "{e:?}"
            );
            assert!(e.to_string().contains("the value is empty"), "{e}");
        }
    }

    // --- retry ------------------------------------------------------------------

    #[test]
    fn max_attempts_from_env_and_profile() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config("[default]\nregion = eu-west-1\nmax_attempts = 5\n");
        assert_eq!(f.resolve().unwrap().retry.max_attempts, 5);
        f.set("AWS_MAX_ATTEMPTS", "7");
        assert_eq!(f.resolve().unwrap().retry.max_attempts, 7);
        // A value past u32 is refused saying so, not as if it were below 1.
        for value in ["0", "99999999999", "-1", "3.5"] {
            f.set("AWS_MAX_ATTEMPTS", value);
            let err = f.resolve().unwrap_err();
            assert!(
                matches!(err, ConfigError::InvalidMaxAttempts { .. }),
                "{err:?}"
            );
            assert!(
                err.to_string()
                    .ends_with("use a whole number from 1 to 4294967295"),
                "{err}"
            );
        }
    }

    #[test]
    fn retry_mode_standard_legacy_or_adaptive() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        let config = f.config("[default]\nregion = eu-west-1\nretry_mode = legacy\n");
        assert_eq!(
            f.resolve().unwrap().retry.max_attempts,
            5,
            "botocore's legacy default"
        );
        f.set("AWS_MAX_ATTEMPTS", "2");
        assert_eq!(f.resolve().unwrap().retry.max_attempts, 2);
        f.set("AWS_RETRY_MODE", "standard");
        f.vars.remove("AWS_MAX_ATTEMPTS");
        assert_eq!(f.resolve().unwrap().retry.max_attempts, 3);
        // adaptive, valid in botocore, retries as standard mode does
        f.set("AWS_RETRY_MODE", "adaptive");
        assert_eq!(f.resolve().unwrap().retry.max_attempts, 3);
        f.set("AWS_RETRY_MODE", "Adaptive");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::InvalidRetryMode { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("\"Adaptive\" from AWS_RETRY_MODE")
                && e.contains("standard")
                && e.contains("legacy")
                && e.contains("adaptive"),
            "{e}"
        );
        f.vars.remove("AWS_RETRY_MODE");
        f.config("[default]\nregion = eu-west-1\nretry_mode = Standard\n");
        let e = f.resolve().unwrap_err().to_string();
        assert!(
            e.contains(&format!("retry_mode in {} line 3", config.display())),
            "{e}"
        );
    }

    // --- INI parser -------------------------------------------------------------

    fn parse(text: &str) -> Result<Ini, ConfigError> {
        parse_ini(text, Path::new("/x/config"), SharedFile::Config)
    }

    #[test]
    fn ini_syntax() {
        let ini = parse(
            "\u{feff}# top comment\n; another\n\n[default] ; trailing\n  region=us-east-1   \n\
             Key = Value # inline\nsecret = abc#def;ghi\nmulti = first\n  second\n\
             tight=#abc\nuncut = v #comment\n\n\
             [  profile   spaced  ]\nempty =\n\r\n[default]\nlater = yes\n",
        )
        .unwrap();
        let d = &ini.sections["default"].props;
        assert_eq!(d["region"].value, "us-east-1");
        assert_eq!(d["key"].value, "Value", "names are in lower case");
        assert_eq!(d["secret"].value, "abc#def;ghi");
        assert_eq!(
            d["tight"].value, "#abc",
            "a `#` right after `=` is the value's"
        );
        assert_eq!(
            d["uncut"].value, "v",
            "a comment need not start with a blank"
        );
        assert_eq!(d["multi"].value, "first\nsecond");
        assert_eq!(d["later"].value, "yes");
        assert_eq!(d["region"].line, 5);
        let s = &ini.sections["profile spaced"].props;
        assert_eq!(s["empty"].value, "");
        assert!(s["empty"].sub.is_empty());
    }

    #[test]
    fn ini_as_python_configparser() {
        // botocore reads the files with configparser: names case-insensitive, `:` as well
        // as `=`, and profile names split shell-style.
        let ini = parse(
            "[profile \"my prof\"]\nAWS_Access_Key_ID: AKID\nendpoint_url = http://h:1\n\
             [profile 'dev']\nregion:us-east-1\n[services s1]\nKMS =\n  endpoint_url = http://k\n\
             [profile a b]\nregion = x\n[profile \"open]\nregion = y\n",
        )
        .unwrap();
        let p = &ini.sections["profile my prof"].props;
        assert_eq!(p["aws_access_key_id"].value, "AKID");
        assert_eq!(p["endpoint_url"].value, "http://h:1");
        assert_eq!(
            ini.sections["profile dev"].props["region"].value,
            "us-east-1"
        );
        assert_eq!(
            ini.sections["services s1"].props["kms"].sub("endpoint_url"),
            Some("http://k")
        );
        // Neither is a profile for botocore.
        assert!(!ini.sections.contains_key("profile a b"));
        assert!(
            !ini.sections
                .keys()
                .any(|k| k.contains("open") && !k.starts_with('['))
        );
    }

    #[test]
    fn quoted_profile_names_and_upper_case_settings_resolve() {
        let mut f = Fixture::new();
        f.config(
            "[profile \"my prof\"]\nREGION = eu-west-3\nAWS_ACCESS_KEY_ID = AKIDQ\n\
             Aws_Secret_Access_Key: sq\nservices = s1\n[services s1]\nKMS =\n  endpoint_url = http://127.0.0.1:9\n",
        );
        f.set("AWS_PROFILE", "my prof");
        let c = f.resolve().unwrap();
        assert_eq!(c.region, "eu-west-3");
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDQ");
        assert_eq!(c.endpoint, "http://127.0.0.1:9");
    }

    #[test]
    fn credentials_file_headers_are_names_as_written() {
        // botocore splits only the config file's headers: the credentials file's
        // [profile "q r"] is the profile named `profile "q r"`.
        let mut f = Fixture::new();
        f.set("AWS_REGION", "us-east-1");
        f.credentials("[profile \"q r\"]\naws_access_key_id = AKIDQR\naws_secret_access_key = s\n");
        f.set("AWS_PROFILE", "q r");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::ProfileNotFound { .. }), "{e:?}");
        f.set("AWS_PROFILE", "profile \"q r\"");
        let c = f.resolve().unwrap();
        assert_eq!(c.credentials.as_static().unwrap().access_key_id, "AKIDQR");
    }

    #[test]
    fn ini_subsections() {
        let ini = parse(
            "[profile a]\ns3 =\n  addressing_style = path\n\tmax_concurrent_requests=20\nregion = x\n",
        )
        .unwrap();
        let a = &ini.sections["profile a"].props;
        assert_eq!(a["s3"].sub("addressing_style"), Some("path"));
        assert_eq!(a["s3"].sub("max_concurrent_requests"), Some("20"));
        assert_eq!(a["region"].value, "x");
    }

    #[test]
    fn ini_indented_properties_are_not_continuations_of_nothing() {
        let ini = parse("[default]\n  a = 1\n  b = 2\n").unwrap();
        let d = &ini.sections["default"].props;
        assert_eq!(d["a"].value, "1");
        assert_eq!(d["b"].value, "2");
    }

    #[test]
    fn ini_errors_name_file_and_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("region = x\n", 1, "[section]"),
            ("[default]\n\nthis is not a setting\n", 3, "name = value"),
            ("[default\nregion = x\n", 1, "']'"),
            ("[]\n", 1, "empty section"),
            ("[default] junk\n", 1, "after section header"),
            ("[default]\n = x\n", 2, "missing name"),
            ("[default]\nkms =\n  endpoint_url\n", 3, "sub-section"),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            match &e {
                ConfigError::MalformedFile {
                    path,
                    line: l,
                    message,
                } => {
                    assert_eq!(path, Path::new("/x/config"));
                    assert_eq!(l, line, "{text:?}: {message}");
                }
                other => panic!("{other:?}"),
            }
            let msg = e.to_string();
            assert!(
                msg.contains("/x/config") && msg.contains(&format!("line {line}")),
                "{msg}"
            );
            assert!(msg.contains(needle), "{text:?}: {msg}");
        }
    }

    #[test]
    fn malformed_shared_file_fails_resolution() {
        let mut f = Fixture::new();
        env_creds(&mut f);
        f.set("AWS_REGION", "us-east-1");
        let p = f.config("[default]\nregion us-east-1\n");
        let e = f.resolve().unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&p.display().to_string()) && msg.contains("line 2"),
            "{msg}"
        );
    }

    #[test]
    fn unreadable_shared_file_is_an_io_error() {
        let mut f = Fixture::new();
        let dir = f.dir.path().join("a-directory");
        fs::create_dir(&dir).unwrap();
        f.set("AWS_CONFIG_FILE", &dir.display().to_string());
        assert!(matches!(f.resolve().unwrap_err(), ConfigError::Io { .. }));
    }

    // --- builder ----------------------------------------------------------------

    #[test]
    fn builder() {
        let creds = Credentials::new("A", "B", None);
        let c = Config::builder()
            .region("eu-west-3")
            .credentials(creds.clone())
            .build()
            .unwrap();
        assert_eq!(c.endpoint, "https://kms.eu-west-3.amazonaws.com");
        assert_eq!(c.retry, RetryConfig::default());
        assert_eq!(c.timeouts.connect, Duration::from_secs(3));
        assert_eq!(c.timeouts.attempt, Duration::from_secs(20));
        assert_eq!(c.timeouts.total, Duration::from_secs(60));
        assert!(c.validate_input);

        let t = Timeouts {
            connect: Duration::from_secs(1),
            ..Default::default()
        };
        let c = Config::builder()
            .region("eu-west-3")
            .credentials(creds.clone())
            .endpoint("http://localhost:8080/")
            .retry(RetryConfig::disabled())
            .timeouts(t)
            .validate_input(false)
            .build()
            .unwrap();
        assert_eq!(c.endpoint, "http://localhost:8080");
        assert_eq!(c.retry.max_attempts, 1);
        assert_eq!(c.timeouts, t);
        assert!(!c.validate_input);

        let e = Config::builder()
            .credentials(creds.clone())
            .build()
            .unwrap_err();
        assert!(matches!(e, ConfigError::BuilderMissing { field: "region" }));
        assert!(e.to_string().contains(".region("));
        let e = Config::builder().region("us-east-1").build().unwrap_err();
        assert!(matches!(
            e,
            ConfigError::BuilderMissing {
                field: "credentials"
            }
        ));
        let e = Config::builder()
            .region("us-east-1")
            .credentials(creds)
            .endpoint("kms.local")
            .build()
            .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidEndpoint { .. }));
    }

    // --- CA bundle ----------------------------------------------------------------

    fn ca_pem(name: &str) -> String {
        rcgen::generate_simple_self_signed(vec![name.to_owned()])
            .unwrap()
            .cert
            .pem()
    }

    #[test]
    fn ca_bundle_comes_from_the_flag_then_aws_ca_bundle_then_the_profile() {
        let mut f = Fixture::new();
        env_creds(&mut f);
        f.set("AWS_REGION", "us-east-1");
        assert_eq!(f.resolve().unwrap().ca_bundle, None);

        let in_profile = f.file("profile.pem", &ca_pem("profile.example"));
        f.config("[default]\nca_bundle = ~/profile.pem\n");
        let c = f.resolve().unwrap();
        let bundle = c.ca_bundle.expect("the profile's ca_bundle");
        assert_eq!(
            bundle.path(),
            Some(in_profile.as_path()),
            "~ is the home directory"
        );
        assert_eq!(bundle.certificates().len(), 1);

        let in_env = f.file("env.pem", &(ca_pem("a.example") + &ca_pem("b.example")));
        f.set("AWS_CA_BUNDLE", &in_env.display().to_string());
        let bundle = f.resolve().unwrap().ca_bundle.unwrap();
        assert_eq!(bundle.path(), Some(in_env.as_path()));
        assert_eq!(bundle.certificates().len(), 2);

        let on_flag = f.file("flag.pem", &ca_pem("flag.example"));
        let o = Overrides {
            ca_bundle: Some(on_flag.display().to_string()),
            ..Default::default()
        };
        let bundle = f.resolve_with(&o).unwrap().ca_bundle.unwrap();
        assert_eq!(bundle.path(), Some(on_flag.as_path()));
    }

    #[test]
    fn an_unusable_ca_bundle_names_the_file_and_where_it_was_set() {
        let mut f = Fixture::new();
        env_creds(&mut f);
        f.set("AWS_REGION", "us-east-1");
        let config = f.config("[default]\n\nca_bundle = ~/missing.pem\n");
        let e = f.resolve().unwrap_err();
        assert!(matches!(e, ConfigError::InvalidCaBundle { .. }), "{e:?}");
        let message = e.to_string();
        assert!(message.contains("missing.pem"), "{message}");
        assert!(
            message.contains(&format!("ca_bundle in {} line 3", config.display())),
            "{message}"
        );

        let key_only = f.file(
            "key.pem",
            &rcgen::KeyPair::generate().unwrap().serialize_pem(),
        );
        f.set("AWS_CA_BUNDLE", &key_only.display().to_string());
        let message = f.resolve().unwrap_err().to_string();
        assert!(message.contains("from AWS_CA_BUNDLE"), "{message}");
        assert!(message.contains("no certificate"), "{message}");
    }

    #[test]
    fn builder_takes_a_ca_bundle() {
        let bundle = CaBundle::from_pem(ca_pem("builder.example").as_bytes()).unwrap();
        let c = Config::builder()
            .region("us-east-1")
            .credentials(Credentials::new("AKID", "SECRET", None))
            .ca_bundle(bundle.clone())
            .build()
            .unwrap();
        assert_eq!(c.ca_bundle, Some(bundle));
    }

    // --- FIPS and dual-stack endpoints -----------------------------------------------

    #[test]
    fn fips_and_dual_stack_endpoints_come_from_the_environment_then_the_profile() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config("[default]\nregion = eu-west-1\nuse_dualstack_endpoint = true\n");
        let c = f.resolve().unwrap();
        assert_eq!(c.endpoint, "https://kms.eu-west-1.api.aws");
        assert!(c.use_dual_stack && !c.use_fips);

        f.set("AWS_USE_FIPS_ENDPOINT", "TRUE");
        let c = f.resolve().unwrap();
        assert_eq!(c.endpoint, "https://kms-fips.eu-west-1.api.aws");
        assert!(c.use_dual_stack && c.use_fips);

        f.set("AWS_USE_DUALSTACK_ENDPOINT", "false");
        assert_eq!(
            f.resolve().unwrap().endpoint,
            "https://kms-fips.eu-west-1.amazonaws.com",
            "the variable beats the profile"
        );

        f.set("AWS_REGION", "cn-north-1");
        assert_eq!(
            f.resolve().unwrap().endpoint,
            "https://kms-fips.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn a_custom_endpoint_wins_over_fips_and_dual_stack() {
        // botocore (args.py) passes no FIPS or dual-stack to the endpoint rules when an
        // endpoint is given: the endpoint is used, the settings ignored.
        let mut f = Fixture::new();
        f.credentials(CREDS);
        f.config(CONFIG);
        f.set("AWS_USE_FIPS_ENDPOINT", "true");
        f.set("AWS_USE_DUALSTACK_ENDPOINT", "true");
        f.set("AWS_ENDPOINT_URL", "http://127.0.0.1:4599");
        let c = f.resolve().unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:4599");
        assert!(!c.use_fips && !c.use_dual_stack);
        let c = f
            .resolve_with(&Overrides {
                endpoint_url: Some("http://127.0.0.1:4600".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:4600");
        // Ignoring configured endpoints leaves the FIPS dual-stack endpoint.
        f.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        assert_eq!(
            f.resolve().unwrap().endpoint,
            "https://kms-fips.eu-west-1.api.aws"
        );
    }

    #[test]
    fn fips_and_dual_stack_settings_must_be_true_or_false() {
        let mut f = Fixture::new();
        f.credentials(CREDS);
        let config = f.config("[default]\nregion = eu-west-1\nuse_fips_endpoint = yes\n");
        let message = f.resolve().unwrap_err().to_string();
        assert!(
            message.contains("invalid use_fips_endpoint \"yes\""),
            "{message}"
        );
        assert!(message.contains(&config.display().to_string()), "{message}");
        f.set("AWS_USE_DUALSTACK_ENDPOINT", "1");
        f.config(CONFIG);
        let message = f.resolve().unwrap_err().to_string();
        assert!(
            message.contains("from AWS_USE_DUALSTACK_ENDPOINT"),
            "{message}"
        );
    }

    #[test]
    fn builder_chooses_fips_and_dual_stack_endpoints() {
        let builder = || {
            Config::builder()
                .region("us-gov-west-1")
                .credentials(Credentials::new("AKID", "SECRET", None))
        };
        let c = builder().use_fips(true).build().unwrap();
        assert_eq!(c.endpoint, "https://kms-fips.us-gov-west-1.amazonaws.com");
        let c = builder().use_dual_stack(true).build().unwrap();
        assert_eq!(c.endpoint, "https://kms.us-gov-west-1.api.aws");
        let c = builder()
            .use_dual_stack(true)
            .use_fips(true)
            .endpoint("http://localhost:4599")
            .build()
            .unwrap();
        assert_eq!(c.endpoint, "http://localhost:4599");
        assert!(!c.use_fips && !c.use_dual_stack);
    }
}
