//! Authentication (SigV4 + access key lookup + session tokens) and
//! authorization (the principal's allowed actions).

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::config::{Directory, Principal};
use crate::sigv4::{self, SigningInput};

/// The message AWS sends with `UnrecognizedClientException`.
pub const UNRECOGNIZED_CLIENT: &str = "The security token included in the request is invalid.";

/// Why a request was refused before reaching its handler: an awsJson error code
/// and message (sent with status 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `__type`.
    pub code: &'static str,
    /// `message`.
    pub message: String,
}

impl From<sigv4::AuthError> for Refusal {
    fn from(e: sigv4::AuthError) -> Self {
        Self {
            code: e.code(),
            message: e.message(),
        }
    }
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Whose signature it is.
    pub principal: Arc<Principal>,
    /// The region of the credential scope.
    pub region: String,
    /// The access key used (for logs).
    pub access_key_id: String,
}

/// Verifies the request's SigV4 signature (header or presigned form) against
/// the directory at time `now` (unix seconds): scope service `service` and a served
/// region, a known access key, the right session token for temporary keys, a
/// matching signature within ±5 minutes.
pub fn authenticate(
    directory: &Directory,
    input: &SigningInput<'_>,
    service: &str,
    now: u64,
) -> Result<Caller, Refusal> {
    // The usual request is verified on borrowed strings; anything unusual (a
    // query string, non-UTF-8 headers) goes through the owned parser.
    let parsed;
    let auth = match sigv4::parse_borrowed(input) {
        Some(claims) => claims?,
        None => {
            parsed = sigv4::parse(input)?;
            parsed.claims()
        }
    };
    sigv4::check_claimed_scope(&auth, service, directory.regions())?;
    let unrecognized = || Refusal {
        code: "UnrecognizedClientException",
        message: UNRECOGNIZED_CLIENT.to_owned(),
    };
    let key = directory.key(auth.access_key_id).ok_or_else(unrecognized)?;
    let token_ok = match (&key.session_token, auth.security_token) {
        (None, None) => true,
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    };
    if !token_ok {
        return Err(unrecognized());
    }
    let is_scope = |cached: &str| {
        let mut parts = cached.splitn(3, '/');
        parts.next() == Some(auth.date)
            && parts.next() == Some(auth.region)
            && parts.next() == Some(auth.service)
    };
    let cached = key.signing_key.read().ok().and_then(|c| {
        c.as_ref()
            .filter(|(s, _)| is_scope(s))
            .map(|(_, k)| k.clone())
    });
    let mac = match cached {
        Some(mac) => mac,
        None => {
            let mac = kms_types::sigv4::keyed_hmac(&sigv4::derive_claimed_signing_key(
                &key.secret,
                &auth,
            ));
            if let Ok(mut c) = key.signing_key.write() {
                let scope = format!("{}/{}/{}", auth.date, auth.region, auth.service);
                *c = Some((scope, mac.clone()));
            }
            mac
        }
    };
    // `auth` comes from parsing this request, which checked that `host` is signed.
    sigv4::verify_claims_checked(input, &auth, &mac, now, sigv4::HostCheck::ByTheParser)?;
    Ok(Caller {
        principal: Arc::clone(&key.principal),
        region: auth.region.to_owned(),
        access_key_id: auth.access_key_id.to_owned(),
    })
}

/// `AccessDeniedException` unless the principal may perform `action`.
pub fn authorize(principal: &Principal, action: &str) -> Result<(), Refusal> {
    if principal.allows(action) {
        Ok(())
    } else {
        Err(Refusal {
            code: "AccessDeniedException",
            message: format!(
                "User: {} is not authorized to perform: {action} because no identity-based policy allows the {action} action",
                principal.arn
            ),
        })
    }
}
