//! kms-server's SigV4 check of a request, through `auth::authenticate` (the borrowed
//! parser, the owned one for queries and odd headers, the scope, the key, the time, the
//! canonical request), on a request written as text:
//!
//! ```text
//! [flags byte]METHOD /path?query
//! name: value
//! ...
//!
//! body
//! ```
//!
//! Flag bit 0 signs the request (its path, headers and body) with the demo key first,
//! as the SDKs do: then it must be accepted. Always: `authenticate` agrees with
//! `sigv4::parse` + `check_scope` + `verify` (the public, owned path); masking the
//! `Authorization` header leaves no signature the parser reads; the access key a log
//! line names is the one the parser reads; a refusal's message is bounded; the journal's
//! `masked_query` leaves no `X-Amz-Signature` or `X-Amz-Security-Token` the parser reads.
#![no_main]

use std::sync::LazyLock;

use http::{HeaderMap, HeaderName, HeaderValue};
use kms_server::config::{Directory, FileConfig};
use kms_server::sigv4::{self, SigningInput};
use kms_server::{auth, demo};
use kms_types::sigv4::{Credentials, Request, canonical_path, mask_signatures, sign};
use libfuzzer_sys::fuzz_target;

/// 2026-12-04T12:00:00Z.
const NOW: u64 = 1_796_385_600;

static DIRECTORY: LazyLock<Directory> = LazyLock::new(|| Directory::new(&FileConfig::demo()));

struct Parsed<'a> {
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    headers: HeaderMap,
    body: &'a [u8],
}

fn parse_request(data: &[u8]) -> Option<Parsed<'_>> {
    let line_end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let first = std::str::from_utf8(&data[..line_end]).ok()?;
    let (method, target) = first.split_once(' ').unwrap_or((first, "/"));
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut headers = HeaderMap::new();
    let mut rest = data.get(line_end + 1..).unwrap_or_default();
    loop {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = &line[colon + 1..];
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    Some(Parsed {
        method,
        path,
        query,
        headers,
        body: rest,
    })
}

/// The request signed with the demo key at `at`, as an SDK signs it: its headers (one
/// value each, UTF-8 ones) with `host` and `x-amz-date`, over its path and body; no query.
fn signed(request: &Parsed<'_>, at: u64) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        let skip = [
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
            "date",
        ];
        if !headers.contains_key(name) && !skip.contains(&name.as_str()) && value.to_str().is_ok() {
            headers.insert(name.clone(), value.clone());
        }
    }
    if !headers.contains_key("host") {
        headers.insert("host", HeaderValue::from_static("127.0.0.1:4599"));
    }
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().expect("checked above")))
        .collect();
    let credentials = Credentials::new(demo::ACCESS_KEY_ID, demo::SECRET_ACCESS_KEY, None);
    let path = canonical_path(request.path);
    let s = sign(
        &credentials,
        &Request {
            method: request.method,
            path: &path,
            query: "",
            headers: &pairs,
            payload: request.body,
        },
        demo::REGION,
        "kms",
        at,
    );
    headers.insert("x-amz-date", HeaderValue::from_str(&s.amz_date).ok()?);
    headers.insert(
        "authorization",
        HeaderValue::from_str(&s.authorization).ok()?,
    );
    Some(headers)
}

/// What the public, owned path says of `input`: accepted or not.
fn owned_accepts(input: &SigningInput<'_>) -> bool {
    let Ok(parsed) = sigv4::parse(input) else {
        return false;
    };
    if sigv4::check_scope(&parsed, "kms", DIRECTORY.regions()).is_err() {
        return false;
    }
    let Some(key) = DIRECTORY.key(&parsed.access_key_id) else {
        return false;
    };
    if key.session_token != parsed.security_token {
        return false;
    }
    sigv4::verify(input, &parsed, &key.secret, NOW).is_ok()
}

fn check(input: &SigningInput<'_>, must_accept: bool) {
    let outcome = auth::authenticate(&DIRECTORY, input, "kms", NOW);
    if must_accept {
        if let Err(refusal) = &outcome {
            panic!("a request the SDKs' way of signing signed was refused: {refusal:?}");
        }
    }
    assert_eq!(outcome.is_ok(), owned_accepts(input), "{outcome:?}");
    if let Err(refusal) = &outcome {
        // Three quoted pieces of the request at most, each cut at 512 bytes.
        assert!(
            refusal.message.len() < 2500,
            "{} bytes",
            refusal.message.len()
        );
    }

    let parsed = sigv4::parse(input);
    if let Ok(parsed) = &parsed {
        // The access key a log line names is the one the parser read, when it is one.
        let key = &parsed.access_key_id;
        if !key.is_empty() && key.len() <= 128 && key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            assert_eq!(
                kms_server::__fuzz::claimed_access_key(input.headers, input.query).as_deref(),
                Some(key.as_str())
            );
        }
    }
    if let Some(claimed) = kms_server::__fuzz::claimed_access_key(input.headers, input.query) {
        assert!(!claimed.is_empty() && claimed.len() <= 128);
        assert!(claimed.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    // Masking the Authorization header leaves no signature the parser reads.
    if let Some(value) = input.headers.get(http::header::AUTHORIZATION)
        && let Ok(text) = value
            .to_str()
            .map(str::to_owned)
            .or_else(|_| std::str::from_utf8(value.as_bytes()).map(str::to_owned))
        && let Ok(masked) = HeaderValue::from_str(&mask_signatures(&text))
            .or_else(|_| HeaderValue::from_bytes(mask_signatures(&text).as_bytes()))
    {
        let mut headers = input.headers.clone();
        headers.insert(http::header::AUTHORIZATION, masked);
        let again = SigningInput {
            headers: &headers,
            query: None,
            ..*input
        };
        if let Ok(p) = sigv4::parse(&again) {
            // Masked up to a blank: what follows one is never part of a valid (hex)
            // signature.
            assert!(
                p.signature.starts_with("****"),
                "masked: {:?}",
                mask_signatures(&text)
            );
        }
    }

    // The journal's query string: no signature or session token the parser reads.
    if let Some(query) = input.query {
        let masked = kms_server::admin::masked_query(query);
        let count = masked.chars().count();
        assert!(count <= 1027, "{count} characters");
        let mut headers = input.headers.clone();
        headers.remove(http::header::AUTHORIZATION);
        let again = SigningInput {
            headers: &headers,
            query: Some(&masked),
            ..*input
        };
        // Unless cut (in the middle of a `****`, maybe).
        if let (true, Ok(p)) = (count < 1024, sigv4::parse(&again)) {
            assert_eq!(p.signature, "****", "masked: {masked:?}");
            assert!(
                p.security_token.is_none_or(|t| t == "****"),
                "masked: {masked:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some(request) = parse_request(rest) else {
        return;
    };
    let input = SigningInput {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: &request.headers,
        body: request.body,
    };
    check(&input, false);
    if flags & 1 == 1 {
        // Within the allowed skew: up to 4 minutes either way.
        let at = NOW - 240 + u64::from(flags >> 1) * 480 / 127;
        if let Some(headers) = signed(&request, at) {
            let input = SigningInput {
                headers: &headers,
                query: None,
                ..input
            };
            check(&input, true);
        }
    }
});
