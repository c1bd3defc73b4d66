//! The AWS CLI's cache of assumed-role credentials (`~/.aws/cli/cache`), shared with it:
//! the credentials of a role that one program assumed (perhaps with an MFA code) are
//! used by the other until they are about to expire.
//!
//! The file names and contents are botocore's (`AssumeRoleCredentialFetcher`,
//! `JSONFileCache`): `{SHA-1 of the AssumeRole arguments}.json` holding
//! `{"Credentials": {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}}`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use kms_types::Timestamp;

use super::{AssumeRole, Fetched, JsonObject, sha1_hex, write_private};

/// Cached credentials are used while they have at least this long left (the AWS CLI's
/// window; a program that found them fresher would hand the other stale ones).
pub(super) const MIN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The file the AWS CLI caches the credentials of `role` in: the SHA-1 of botocore's
/// JSON of the `AssumeRole` arguments (`json.dumps(args, sort_keys=True)`), without a
/// session name it made up and without the MFA code.
pub(super) fn file_name(role: &AssumeRole) -> String {
    let mut members: Vec<(&str, String)> = vec![("RoleArn", python_json(&role.role_arn))];
    if let Some(seconds) = role.duration_seconds {
        members.push(("DurationSeconds", seconds.to_string()));
    }
    if let Some(id) = &role.external_id {
        members.push(("ExternalId", python_json(id)));
    }
    if let Some(name) = &role.session_name {
        members.push(("RoleSessionName", python_json(name)));
    }
    if let Some(serial) = &role.mfa_serial {
        members.push(("SerialNumber", python_json(serial)));
    }
    members.sort_unstable_by_key(|(name, _)| *name);
    let arguments = members
        .iter()
        .map(|(name, value)| format!("\"{name}\": {value}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{}.json", sha1_hex(&format!("{{{arguments}}}")))
}

/// A JSON string as Python's `json.dumps` writes it: ASCII only, other characters as
/// `\uXXXX` (UTF-16), the short escapes where JSON has them.
pub(crate) fn python_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// The credentials cached in `file`, if it holds some with at least [`MIN_LIFETIME`]
/// left at `now`. A missing, unreadable or foreign file is no credentials (they are
/// fetched and the file written anew), as in botocore.
pub(super) fn read(file: &Path, now: SystemTime) -> Option<Fetched> {
    let bytes = std::fs::read(file).ok()?;
    let mut document = JsonObject::parse(&bytes).ok()?;
    let serde_json::Value::Object(members) = document.0.remove("Credentials")? else {
        return None;
    };
    let credentials = JsonObject(members);
    // botocore writes `2026-12-05T05:00:00UTC` (strftime's `%Z`), which
    // `Timestamp::parse_expiration` reads.
    let mut fetched = super::credentials_of(
        credentials.text("AccessKeyId"),
        credentials.text("SecretAccessKey"),
        credentials.text("SessionToken"),
        Some(credentials.text("Expiration")?),
        "SessionToken",
    )
    .ok()?;
    if fetched.expires? < now + MIN_LIFETIME {
        return None;
    }
    fetched.cached_in = Some(file.to_owned());
    Some(fetched)
}

/// Caches `fetched` in `file` for the AWS CLI and later runs (readable by the user
/// only).
pub(super) fn write(file: &Path, fetched: &Fetched) -> std::io::Result<()> {
    let credentials = &fetched.credentials;
    let document = serde_json::json!({
        "Credentials": {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "SessionToken": credentials.session_token,
            "Expiration": fetched.expires.map(|e| Timestamp::from(e).to_rfc3339()),
        }
    });
    write_private(file, document.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{CredentialsSource, StsEndpoint};
    use std::sync::Arc;

    fn role(role_arn: &str) -> AssumeRole {
        AssumeRole {
            role_arn: role_arn.to_owned(),
            session_name: None,
            external_id: None,
            duration_seconds: None,
            mfa_serial: None,
            source: Box::new(CredentialsSource::Static(crate::Credentials::new(
                "A", "S", None,
            ))),
            sts: StsEndpoint {
                url: "https://sts.us-east-1.amazonaws.com".into(),
                region: "us-east-1".into(),
            },
            origin: "test".into(),
        }
    }

    #[test]
    fn file_names_are_botocores() {
        // Expected names computed with Python 3.11:
        // sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()
        assert_eq!(
            file_name(&role("arn:aws:iam::111122223333:role/admin")),
            "12ab38ff23076fbf81c6318032953bae97b76a44.json"
        );
        let full = AssumeRole {
            session_name: Some("nightly-audit".into()),
            external_id: Some("ext-42".into()),
            duration_seconds: Some(3600),
            mfa_serial: Some("arn:aws:iam::111122223333:mfa/me".into()),
            ..role("arn:aws:iam::111122223333:role/admin")
        };
        assert_eq!(
            file_name(&full),
            "714e8ec6166a83d8447c2d2baf8f61b0bf51be2c.json"
        );
        // Escapes: quotes, backslashes, control characters, non-ASCII (a surrogate pair).
        let odd = AssumeRole {
            external_id: Some("\u{1}".into()),
            ..role("arn:aws:iam::1:role/r\u{e9}\"\\\n\u{1F600}")
        };
        assert_eq!(
            file_name(&odd),
            "90596098f4210d6322e049c181b11ed21200fc83.json"
        );
    }

    #[test]
    fn fresh_entries_are_read_in_both_date_forms_and_stale_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.json");
        let now = SystemTime::from(Timestamp::parse_rfc3339("2026-12-05T04:00:00Z").unwrap());
        let entry = |expiration: &str| {
            format!(
                r#"{{"Credentials": {{"AccessKeyId": "ASIA1", "SecretAccessKey": "s",
                "SessionToken": "t", "Expiration": "{expiration}"}},
                "AssumedRoleUser": {{"Arn": "arn:aws:sts::1:assumed-role/r/s"}}}}"#
            )
        };
        std::fs::write(&file, entry("2026-12-05T05:00:00UTC")).unwrap();
        let fetched = read(&file, now).unwrap();
        assert_eq!(fetched.credentials.access_key_id, "ASIA1");
        assert_eq!(fetched.credentials.session_token.as_deref(), Some("t"));
        assert_eq!(fetched.cached_in.as_deref(), Some(file.as_path()));
        std::fs::write(&file, entry("2026-12-05T04:15:00Z")).unwrap();
        assert!(read(&file, now).is_some(), "15 minutes left is enough");
        std::fs::write(&file, entry("2026-12-05T04:14:59Z")).unwrap();
        assert!(read(&file, now).is_none(), "less than 15 minutes left");
        for foreign in ["", "[]", "{}", r#"{"Credentials": {"AccessKeyId": "A"}}"#] {
            std::fs::write(&file, foreign).unwrap();
            assert!(read(&file, now).is_none(), "{foreign}");
        }
        assert!(read(&dir.path().join("missing.json"), now).is_none());
    }

    #[test]
    fn written_entries_read_back_and_only_the_user_may_read_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cli/cache/k.json");
        let expires = SystemTime::now() + Duration::from_secs(3600);
        let fetched = Fetched {
            credentials: Arc::new(crate::Credentials {
                access_key_id: "ASIA2".into(),
                secret_access_key: "secret".into(),
                session_token: Some("token".into()),
            }),
            expires: Some(expires),
            cached_in: None,
        };
        write(&file, &fetched).unwrap();
        let back = read(&file, SystemTime::now()).unwrap();
        assert_eq!(back.credentials, fetched.credentials);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let left: Vec<_> = std::fs::read_dir(file.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
