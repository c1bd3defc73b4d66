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
    let auth = sigv4::parse(input)?;
    sigv4::check_scope(&auth, service, directory.regions())?;
    let unrecognized = || Refusal {
        code: "UnrecognizedClientException",
        message: UNRECOGNIZED_CLIENT.to_owned(),
    };
    let key = directory
        .key(&auth.access_key_id)
        .ok_or_else(unrecognized)?;
    let token_ok = match (&key.session_token, &auth.security_token) {
        (None, None) => true,
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    };
    if !token_ok {
        return Err(unrecognized());
    }
    let scope = format!("{}/{}/{}", auth.date, auth.region, auth.service);
    let cached = key
        .signing_key
        .read()
        .ok()
        .and_then(|c| c.as_ref().filter(|(s, _)| *s == scope).map(|(_, k)| *k));
    let signing_key = match cached {
        Some(k) => k,
        None => {
            let k = sigv4::derive_signing_key(&key.secret, &auth);
            if let Ok(mut c) = key.signing_key.write() {
                *c = Some((scope, k));
            }
            k
        }
    };
    sigv4::verify_with_key(input, &auth, &signing_key, now)?;
    Ok(Caller {
        principal: Arc::clone(&key.principal),
        region: auth.region,
        access_key_id: auth.access_key_id,
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
