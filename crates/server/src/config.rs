//! Accounts, principals, access keys and permissions, read from a TOML file
//! (`--config FILE`).
//!
//! ```toml
//! # Regions this endpoint serves: the SigV4 credential scope must name one.
//! regions = ["us-east-1", "us-west-2"]
//! # Passphrase for the HMAC key of pagination markers (optional; without it a
//! # random key is drawn at every start, so markers do not survive a restart).
//! marker_key = "a long random passphrase"
//!
//! [[accounts]]
//! id = "111122223333"
//!
//! [[accounts.principals]]
//! arn = "arn:aws:iam::111122223333:user/demo"
//! actions = ["kms:*"]            # or ["kms:DescribeCustomKeyStores"]
//!
//! [[accounts.principals.access_keys]]
//! id = "AKIAIOSFODNN7EXAMPLE"
//! secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
//! # session_token = "..."        # set for temporary (ASIA...) credentials
//! ```

use crate::hash::FxHashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::demo;

/// The whole configuration file. `Debug` leaves out the marker key's passphrase.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Regions served; a request signed for another region is refused.
    pub regions: Vec<String>,
    /// Passphrase the marker HMAC key is derived from (SHA-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker_key: Option<String>,
    /// The accounts and their principals.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
}

impl fmt::Debug for FileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileConfig")
            .field("regions", &self.regions)
            .field(
                "marker_key",
                &self.marker_key.as_ref().map(|_| "** redacted **"),
            )
            .field("accounts", &self.accounts)
            .finish()
    }
}

/// One AWS account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// 12-digit account id.
    pub id: String,
    /// IAM principals of this account.
    #[serde(default)]
    pub principals: Vec<PrincipalConfig>,
}

/// An IAM principal (user or role) with its access keys and allowed actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalConfig {
    /// `arn:aws:iam::<account>:user/<name>` (or `role/...`).
    pub arn: String,
    /// Allowed actions: `kms:DescribeCustomKeyStores`, `kms:*` or `*`.
    #[serde(default)]
    pub actions: Vec<String>,
    /// The principal's access keys.
    #[serde(default)]
    pub access_keys: Vec<AccessKeyConfig>,
}

/// An access key. A key with a `session_token` is temporary: requests must carry
/// exactly that `X-Amz-Security-Token`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyConfig {
    /// Access key id, e.g. `AKIAIOSFODNN7EXAMPLE`.
    pub id: String,
    /// Secret access key.
    pub secret: String,
    /// Session token of temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
}

impl fmt::Debug for AccessKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeyConfig")
            .field("id", &self.id)
            .field("secret", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Not valid TOML, or not this structure.
    #[error("invalid config: {0}")]
    Syntax(String),
    /// Well-formed but inconsistent.
    #[error("invalid config: {0}")]
    Invalid(String),
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` looks like an AWS region name (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn is_action(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    match s.split_once(':') {
        Some((service, name)) => {
            service.eq_ignore_ascii_case("kms")
                && !name.is_empty()
                && (name == "*" || name.bytes().all(|b| b.is_ascii_alphanumeric()))
        }
        None => false,
    }
}

/// What is wrong with `text` as TOML, where: line, column and the parser's message,
/// without the source line `toml` would quote, which may hold a secret.
fn syntax_error(text: &str, e: &toml::de::Error) -> ConfigError {
    let message = kms_types::validation::without_value(e.message().trim_end()).replace('\n', "; ");
    ConfigError::Syntax(match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    })
}

impl FileConfig {
    /// Parses and checks a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
        config.check()?;
        Ok(config)
    }

    /// Reads, parses and checks a TOML configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        // Name the file in what is wrong with it.
        let parsed = match std::str::from_utf8(&bytes) {
            Ok(text) => Self::from_toml(text),
            // TOML is UTF-8: where it is not, said as a syntax error is (the bytes
            // themselves may be a secret's).
            Err(e) => {
                let before = &bytes[..e.valid_up_to()];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                let start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
                Err(ConfigError::Syntax(format!(
                    "line {line}, column {column}: not UTF-8 (TOML files are UTF-8)"
                )))
            }
        };
        parsed.map_err(|mut e| {
            if let ConfigError::Syntax(m) | ConfigError::Invalid(m) = &mut e {
                *m = format!("{}: {m}", path.display());
            }
            e
        })
    }

    /// The demo configuration: the accounts and keys of [`crate::demo`], regions
    /// `us-east-1` and `us-west-2`. `examples/config.toml` is this, as TOML.
    pub fn demo() -> Self {
        let key = |id: &str, secret: &str, token: Option<&str>| AccessKeyConfig {
            id: id.into(),
            secret: secret.into(),
            session_token: token.map(Into::into),
        };
        Self {
            regions: vec![demo::REGION.into(), demo::SECOND_REGION.into()],
            marker_key: Some(demo::MARKER_KEY.into()),
            accounts: vec![
                AccountConfig {
                    id: demo::ACCOUNT_ID.into(),
                    principals: vec![
                        PrincipalConfig {
                            arn: demo::PRINCIPAL_ARN.into(),
                            actions: vec!["kms:*".into()],
                            access_keys: vec![
                                key(demo::ACCESS_KEY_ID, demo::SECRET_ACCESS_KEY, None),
                                key(
                                    demo::SESSION_ACCESS_KEY_ID,
                                    demo::SESSION_SECRET_ACCESS_KEY,
                                    Some(demo::SESSION_TOKEN),
                                ),
                            ],
                        },
                        PrincipalConfig {
                            arn: demo::DENIED_PRINCIPAL_ARN.into(),
                            actions: vec![],
                            access_keys: vec![key(
                                demo::DENIED_ACCESS_KEY_ID,
                                demo::DENIED_SECRET_ACCESS_KEY,
                                None,
                            )],
                        },
                    ],
                },
                AccountConfig {
                    id: demo::OTHER_ACCOUNT_ID.into(),
                    principals: vec![PrincipalConfig {
                        arn: demo::OTHER_PRINCIPAL_ARN.into(),
                        actions: vec!["kms:DescribeCustomKeyStores".into()],
                        access_keys: vec![key(
                            demo::OTHER_ACCESS_KEY_ID,
                            demo::OTHER_SECRET_ACCESS_KEY,
                            None,
                        )],
                    }],
                },
            ],
        }
    }

    /// Checks consistency: unique region names, 12-digit unique account ids, principal
    /// ARNs (`user/NAME` or `role/NAME`) in their account, well-formed actions, unique
    /// access keys with non-empty secrets, session tokens a header can carry, exactly on
    /// the `ASIA…` keys among the `AKIA…`/`ASIA…` ones.
    pub fn check(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.regions.is_empty() {
            return invalid("`regions` must name at least one region".into());
        }
        let mut regions = std::collections::HashSet::new();
        for r in &self.regions {
            if !is_region(r) {
                return invalid(format!("`{r}` is not a region name (like us-east-1)"));
            }
            if !regions.insert(r.as_str()) {
                return invalid(format!("region `{r}` is listed twice"));
            }
        }
        if let Some(k) = &self.marker_key
            && k.is_empty()
        {
            return invalid("`marker_key` must not be empty".into());
        }
        let mut accounts = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for account in &self.accounts {
            if !is_account_id(&account.id) {
                return invalid(format!("account id `{}` is not 12 digits", account.id));
            }
            if !accounts.insert(account.id.as_str()) {
                return invalid(format!("account `{}` is listed twice", account.id));
            }
            let prefix = format!("arn:aws:iam::{}:", account.id);
            for p in &account.principals {
                // `user/NAME` or `role/NAME` (with an IAM path: `role/path/NAME`), of the
                // characters IAM allows: the ARN `AccessDeniedException` names.
                let named = |rest: &str| {
                    ["user/", "role/"].iter().any(|kind| {
                        rest.strip_prefix(kind).is_some_and(|name| {
                            !name.is_empty()
                                && !name.starts_with('/')
                                && !name.ends_with('/')
                                && name.bytes().all(|b| b.is_ascii_graphic())
                        })
                    })
                };
                match p.arn.strip_prefix(&prefix) {
                    Some(rest) if named(rest) => {}
                    _ => {
                        return invalid(format!(
                            "principal `{}` must look like {prefix}user/NAME or {prefix}role/NAME",
                            p.arn
                        ));
                    }
                }
                for a in &p.actions {
                    if !is_action(a) {
                        return invalid(format!(
                            "action `{a}` of `{}` is not `kms:<Operation>`, `kms:*` or `*`",
                            p.arn
                        ));
                    }
                }
                for k in &p.access_keys {
                    if k.id.len() < 16
                        || k.id.len() > 128
                        || !k.id.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        return invalid(format!(
                            "access key id `{}` must be 16 to 128 letters and digits",
                            k.id
                        ));
                    }
                    if !keys.insert(k.id.as_str()) {
                        return invalid(format!("access key `{}` is listed twice", k.id));
                    }
                    if k.secret.is_empty() {
                        return invalid(format!("access key `{}` has an empty secret", k.id));
                    }
                    match k.session_token.as_deref() {
                        Some("") => {
                            return invalid(format!(
                                "access key `{}` has an empty session token",
                                k.id
                            ));
                        }
                        // Requests carry it in `X-Amz-Security-Token`: a header takes no
                        // control characters, and loses spaces at either end.
                        Some(token)
                            if token.starts_with(' ')
                                || token.ends_with(' ')
                                || !token.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) =>
                        {
                            return invalid(format!(
                                "the session token of access key `{}` must be printable ASCII \
                                 without spaces at either end: requests carry it in a header",
                                k.id
                            ));
                        }
                        // AWS's temporary keys are `ASIA…` and come with a token, its
                        // long-term ones `AKIA…` without: a client given such a key sends
                        // (or omits) a token accordingly, and would be refused.
                        None if k.id.starts_with("ASIA") => {
                            return invalid(format!(
                                "access key `{}` is temporary (ASIA...) but has no \
                                 `session_token`",
                                k.id
                            ));
                        }
                        Some(_) if k.id.starts_with("AKIA") => {
                            return invalid(format!(
                                "access key `{}` is long-term (AKIA...) but has a \
                                 `session_token`: temporary keys are ASIA...",
                                k.id
                            ));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}

/// A principal as the server knows it at run time.
#[derive(Debug)]
pub struct Principal {
    /// The principal's ARN.
    pub arn: Arc<str>,
    /// Its account id.
    pub account: Arc<str>,
    actions: Vec<String>,
}

impl Principal {
    /// Whether an identity policy allows `action` (`kms:DescribeCustomKeyStores`).
    /// Action names compare case-insensitively, as IAM's do.
    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|a| {
            a == "*"
                || a.eq_ignore_ascii_case(action)
                || (a.len() >= 2
                    && a.ends_with(":*")
                    && action.len() > a.len() - 1
                    && action.is_char_boundary(a.len() - 1)
                    && a[..a.len() - 1].eq_ignore_ascii_case(&action[..a.len() - 1]))
        })
    }
}

/// An access key as the server knows it at run time.
pub struct AccessKey {
    /// The secret access key.
    pub secret: String,
    /// The session token, for temporary credentials.
    pub session_token: Option<String>,
    /// Whose key it is.
    pub principal: Arc<Principal>,
    /// The last derived SigV4 signing key: scope `date/region/service` and the
    /// HMAC keyed with it.
    pub(crate) signing_key: std::sync::RwLock<Option<(String, hmac::Hmac<sha2::Sha256>)>>,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("principal", &self.principal.arn)
            .finish_non_exhaustive()
    }
}

/// Access keys by id, and the regions served: what authentication needs.
#[derive(Debug, Clone)]
pub struct Directory {
    keys: Arc<FxHashMap<String, Arc<AccessKey>>>,
    regions: Arc<Vec<String>>,
}

impl Directory {
    /// Indexes `config` as it is. Check a configuration built in code first
    /// ([`FileConfig::check`]; [`FileConfig::load`] and [`crate::serve_router`] do): an
    /// access key listed twice here belongs to its last account.
    pub fn new(config: &FileConfig) -> Self {
        let mut keys = FxHashMap::default();
        for account in &config.accounts {
            let account_id: Arc<str> = account.id.as_str().into();
            for p in &account.principals {
                let principal = Arc::new(Principal {
                    arn: p.arn.as_str().into(),
                    account: Arc::clone(&account_id),
                    actions: p.actions.clone(),
                });
                for k in &p.access_keys {
                    keys.insert(
                        k.id.clone(),
                        Arc::new(AccessKey {
                            secret: k.secret.clone(),
                            session_token: k.session_token.clone(),
                            principal: Arc::clone(&principal),
                            signing_key: std::sync::RwLock::new(None),
                        }),
                    );
                }
            }
        }
        Self {
            keys: Arc::new(keys),
            regions: Arc::new(config.regions.clone()),
        }
    }

    /// The access key `id`.
    pub fn key(&self, id: &str) -> Option<&Arc<AccessKey>> {
        self.keys.get(id)
    }

    /// The regions served.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_equals_the_demo_config() {
        let text = include_str!("../examples/config.toml");
        let parsed = FileConfig::from_toml(text).expect("the example config parses");
        assert_eq!(parsed, FileConfig::demo());
        FileConfig::demo().check().unwrap();
    }

    /// A file that cannot be used is named in the error, whatever is wrong with it.
    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for (text, reason) in [
            (
                "regions = [",
                "line 1, column 12: invalid array; expected `]`",
            ),
            ("regions = []", "at least one region"),
            // Not UTF-8: where, as for a syntax error, and not "cannot read".
            (
                "regions = [\"us-east-1\"]\nmarker_key = \"\u{e9}t\u{e9}\"",
                "line 2, column 15: not UTF-8",
            ),
        ] {
            let path = dir.path().join("config.toml");
            // Latin-1 for the non-UTF-8 case: é is one byte, 0xE9, there.
            let bytes: Vec<u8> = if reason.contains("UTF-8") {
                text.chars().map(|c| c as u8).collect()
            } else {
                text.into()
            };
            std::fs::write(&path, bytes).unwrap();
            let err = FileConfig::load(&path).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid config: {}: ", path.display())),
                "{err}"
            );
            assert!(err.contains(reason), "{err}");
        }
        let missing = dir.path().join("missing.toml");
        let err = FileConfig::load(&missing).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("cannot read {}: ", missing.display())),
            "{err}"
        );
    }

    #[test]
    fn rejects_bad_configs_with_a_reason() {
        let cases = [
            ("regions = []", "at least one region"),
            ("regions = [\"moon\"]", "not a region"),
            ("regions = [\"us-east-1\"]\nbogus = 1", "unknown field"),
            (
                "regions = [\"us-east-1\"]\n[[accounts]]\nid = \"12\"",
                "not 12 digits",
            ),
            (
                "regions = [\"us-east-1\"]\n[[accounts]]\nid = \"111122223333\"\n[[accounts.principals]]\narn = \"arn:aws:iam::444455556666:user/x\"",
                "must look like",
            ),
            (
                "regions = [\"us-east-1\"]\n[[accounts]]\nid = \"111122223333\"\n[[accounts.principals]]\narn = \"arn:aws:iam::111122223333:user/x\"\nactions = [\"s3:Get Object\"]",
                "action",
            ),
            (
                "regions = [\"us-east-1\"]\n[[accounts]]\nid = \"111122223333\"\n[[accounts.principals]]\narn = \"arn:aws:iam::111122223333:user/x\"\n[[accounts.principals.access_keys]]\nid = \"AKIAIOSFODNN7EXAMPLE\"\nsecret = \"s\"\n[[accounts.principals.access_keys]]\nid = \"AKIAIOSFODNN7EXAMPLE\"\nsecret = \"t\"",
                "listed twice",
            ),
        ];
        for (text, want) in cases {
            let err = FileConfig::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    /// A configuration that would start but serve nobody as its author means is refused
    /// at start, saying what is wrong: a principal that is no user or role (the ARN
    /// `AccessDeniedException` names), a session token no header carries, an `ASIA`
    /// key without its token or an `AKIA` key with one, a region listed twice.
    #[test]
    fn rejects_configs_that_could_not_work_as_written() {
        let principal = |arn: &str| {
            format!(
                "regions = [\"us-east-1\"]\n[[accounts]]\nid = \"111122223333\"\n\
                 [[accounts.principals]]\narn = \"{arn}\"\nactions = [\"kms:*\"]\n"
            )
        };
        let key = |id: &str, token: Option<&str>| {
            let token = token.map_or(String::new(), |t| format!("session_token = {t:?}\n"));
            format!(
                "{}[[accounts.principals.access_keys]]\nid = \"{id}\"\nsecret = \"s\"\n{token}",
                principal("arn:aws:iam::111122223333:user/x")
            )
        };
        let must_look_like = "must look like arn:aws:iam::111122223333:user/NAME";
        let cases = [
            (
                "regions = [\"us-east-1\", \"us-west-2\", \"us-east-1\"]".to_owned(),
                "region `us-east-1` is listed twice",
            ),
            (
                principal("arn:aws:iam::111122223333:group/x"),
                must_look_like,
            ),
            (
                principal("arn:aws:iam::111122223333:users/x"),
                must_look_like,
            ),
            (
                principal("arn:aws:iam::111122223333:user/a b"),
                must_look_like,
            ),
            (
                principal("arn:aws:iam::111122223333:role//x"),
                must_look_like,
            ),
            (
                key("ASIAIOSFODNN7SESSION", None),
                "access key `ASIAIOSFODNN7SESSION` is temporary (ASIA...) but has no `session_token`",
            ),
            (
                key("AKIAIOSFODNN7EXAMPLE", Some("token")),
                "access key `AKIAIOSFODNN7EXAMPLE` is long-term (AKIA...) but has a `session_token`",
            ),
            (
                key("ASIAIOSFODNN7SESSION", Some("token ")),
                "the session token of access key `ASIAIOSFODNN7SESSION` must be printable ASCII",
            ),
            (
                key("ASIAIOSFODNN7SESSION", Some("to\nken")),
                "the session token of access key `ASIAIOSFODNN7SESSION` must be printable ASCII",
            ),
        ];
        for (text, want) in cases {
            let err = FileConfig::from_toml(&text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
        // What stays accepted: role paths, keys of neither prefix with or without a
        // token, a token with a space inside.
        for text in [
            principal("arn:aws:iam::111122223333:role/service-role/ci+bot@example.com"),
            key("TESTKEY000000000", Some("tok")),
            key("TESTKEY000000000", None),
            key("ASIAIOSFODNN7SESSION", Some("a b")),
        ] {
            FileConfig::from_toml(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    /// A TOML error names the line and column but never quotes the line: it may be a
    /// secret's.
    #[test]
    fn syntax_errors_do_not_quote_the_config() {
        let cases = [
            (
                "regions = [\"us-east-1\"]\n[[accounts]]\nid = \"111122223333\"\n[[accounts.principals]]\narn = \"arn:aws:iam::111122223333:user/x\"\n[[accounts.principals.access_keys]]\nid = \"AKIAIOSFODNN7EXAMPLE\"\nsecret = \"s\"\nsession_token = TOKEN-unquoted",
                "line 9, column 17: ",
                "TOKEN-unquoted",
            ),
            (
                "regions = [\"us-east-1\"]\nmarker_key = \"first\"\nmarker_key = \"second-SECRET\"",
                "line 3, column 1: duplicate key",
                "second-SECRET",
            ),
            (
                "regions = [\"us-east-1\"]\nmarkerkey = \"typo-SECRET\"",
                "line 2, column 1: unknown field `markerkey`",
                "typo-SECRET",
            ),
            (
                "regions = [\"us-east-1\"]\nmarker_key = 98765432109876",
                "line 2, column 14: invalid type: integer, expected a string",
                "98765432109876",
            ),
        ];
        for (text, want, secret) in cases {
            let err = FileConfig::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains(secret), "{text}: {err}");
            assert!(!err.contains('|'), "quotes the source: {err}");
        }
    }

    #[test]
    fn permissions() {
        let p = |actions: &[&str]| Principal {
            arn: "arn:aws:iam::111122223333:user/x".into(),
            account: "111122223333".into(),
            actions: actions.iter().map(|s| s.to_string()).collect(),
        };
        let action = "kms:DescribeCustomKeyStores";
        assert!(p(&["kms:*"]).allows(action));
        assert!(p(&["*"]).allows(action));
        assert!(p(&["kms:describecustomkeystores"]).allows(action));
        assert!(!p(&[]).allows(action));
        assert!(!p(&["kms:ListKeys"]).allows(action));
        assert!(!p(&["s3:*"]).allows(action));
        // Only `:*` is a wildcard: an action that begins another is not it.
        assert!(!p(&["kms:DescribeCustomKeyStore"]).allows(action));
        assert!(!p(&["kms:Describe"]).allows(action));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let file = FileConfig::demo();
        let marker_key = file.marker_key.clone().expect("the demo sets a marker key");
        let text = format!("{file:?}");
        assert!(!text.contains(demo::SECRET_ACCESS_KEY), "{text}");
        assert!(!text.contains(demo::SESSION_TOKEN), "{text}");
        assert!(!text.contains(&marker_key), "{text}");
        assert!(
            text.contains("marker_key: Some(\"** redacted **\")"),
            "{text}"
        );

        // The server's configuration, with a marker key of the command line's.
        let server = crate::ServerConfig::new(file).with_marker_key("passphrase from --marker-key");
        let text = format!("{server:?}");
        assert!(!text.contains(demo::SECRET_ACCESS_KEY), "{text}");
        assert!(!text.contains(&marker_key), "{text}");
        assert!(!text.contains("passphrase from --marker-key"), "{text}");
    }
}
