//! Authentication (SigV4 + access key lookup + session tokens) and
//! authorization (the principal's allowed actions).

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::config::{AccessKey, Directory, Principal};
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
    check_head(directory, input, service, now)?.verify(input, |principal, region, access_key_id| {
        Caller {
            principal: Arc::clone(principal),
            region: region.to_owned(),
            access_key_id: access_key_id.to_owned(),
        }
    })
}

/// What a request claims about its signature: borrowed from the request, or parsed into
/// owned strings (a query string, non-UTF-8 headers).
enum Claimed<'a> {
    Borrowed(sigv4::Claims<'a>),
    Owned(Box<sigv4::ParsedAuth>),
}

impl Claimed<'_> {
    fn claims(&self) -> sigv4::Claims<'_> {
        match self {
            Claimed::Borrowed(claims) => *claims,
            Claimed::Owned(parsed) => parsed.claims(),
        }
    }
}

/// A request whose head passed [`check_head`]: its signature is checked once its body is
/// in ([`Unverified::verify`]).
pub(crate) struct Unverified<'a> {
    claimed: Claimed<'a>,
    key: &'a AccessKey,
    payload: sigv4::PayloadHeader<'a>,
}

/// Everything [`authenticate`] checks that does not need the body, in its order: the
/// signature's form (`Authorization` header or presigned query), the scope's service and
/// region, the access key and session token, the request time (at `now`, unix seconds)
/// and the form of `x-amz-content-sha256`. A request refused here is refused as
/// [`authenticate`] refuses it, whatever its body.
pub(crate) fn check_head<'a>(
    directory: &'a Directory,
    input: &SigningInput<'a>,
    service: &str,
    now: u64,
) -> Result<Unverified<'a>, Refusal> {
    // The usual request is verified on borrowed strings; anything unusual (a
    // query string, non-UTF-8 headers) goes through the owned parser.
    let claimed = match sigv4::parse_borrowed(input) {
        Some(claims) => Claimed::Borrowed(claims?),
        None => Claimed::Owned(Box::new(sigv4::parse(input)?)),
    };
    let auth = claimed.claims();
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
    // `auth` comes from parsing this request, which checked that `host` is signed.
    let payload = sigv4::check_head(input.headers, &auth, now, sigv4::HostCheck::ByTheParser)?;
    Ok(Unverified {
        claimed,
        key,
        payload,
    })
}

impl Unverified<'_> {
    /// Checks the signature of `input` (the request [`check_head`] passed, now with its
    /// body), answering `caller(principal, region, access key id)` of the verified
    /// request, so that the service copies only what it keeps.
    pub(crate) fn verify<T>(
        self,
        input: &SigningInput<'_>,
        caller: impl FnOnce(&Arc<Principal>, &str, &str) -> T,
    ) -> Result<T, Refusal> {
        let auth = self.claimed.claims();
        let key = self.key;
        let is_scope = |cached: &str| {
            let Some((date, rest)) = sigv4::split_once_ascii(cached, b'/') else {
                return false;
            };
            let Some((region, service)) = sigv4::split_once_ascii(rest, b'/') else {
                return false;
            };
            date == auth.date && region == auth.region && service == auth.service
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
        sigv4::verify_signature(input, &auth, &mac, self.payload)?;
        Ok(caller(&key.principal, auth.region, auth.access_key_id))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FileConfig;
    use crate::demo;
    use http::{HeaderMap, HeaderValue};
    use kms_types::sigv4::{Credentials, Request, sign};

    const NOW: u64 = 1_796_385_600; // 2026-12-04T12:00:00Z

    fn signed(secret: &str, region: &str, at: u64) -> HeaderMap {
        let credentials = Credentials {
            access_key_id: demo::ACCESS_KEY_ID.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: None,
        };
        let host = "127.0.0.1:4599";
        let request = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &[("host", host)],
            payload: b"{}",
        };
        let s = sign(&credentials, &request, region, "kms", at);
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static(host));
        headers.insert("x-amz-date", HeaderValue::from_str(&s.amz_date).unwrap());
        headers.insert(
            "authorization",
            HeaderValue::from_str(&s.authorization).unwrap(),
        );
        headers
    }

    fn check(directory: &Directory, headers: &HeaderMap, at: u64) -> Result<Caller, Refusal> {
        let input = SigningInput {
            method: "POST",
            path: "/",
            query: None,
            headers,
            body: b"{}",
        };
        authenticate(directory, &input, "kms", at)
    }

    /// The signing key cached per access key is used only for its own scope.
    #[test]
    fn the_cached_signing_key_serves_its_scope_only() {
        let directory = Directory::new(&FileConfig::demo());
        let secret = demo::SECRET_ACCESS_KEY;
        let day = 86_400;
        for (region, at) in [
            ("us-east-1", NOW),
            ("us-west-2", NOW),
            ("us-east-1", NOW),
            ("us-east-1", NOW + day),
            ("us-west-2", NOW + day),
            ("us-east-1", NOW),
        ] {
            let caller = check(&directory, &signed(secret, region, at), at).unwrap();
            assert_eq!(caller.region, region);
            assert_eq!(caller.access_key_id, demo::ACCESS_KEY_ID);
            let wrong = check(&directory, &signed("not the secret", region, at), at);
            assert_eq!(wrong.unwrap_err().code, "InvalidSignatureException");
        }
        let other = check(&directory, &signed(secret, "eu-west-1", NOW), NOW);
        assert!(other.is_err());
    }
}
