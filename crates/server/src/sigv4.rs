//! Server-side verification of AWS Signature Version 4 (`AWS4-HMAC-SHA256`).
//!
//! The caller hands over the request exactly as received ([`SigningInput`]),
//! [`parse`]s what it claims ([`ParsedAuth`]), looks the access key up and
//! checks the credential scope ([`check_scope`]), then calls [`verify`] with
//! the secret key and the current time. Errors carry the AWS error code
//! ([`AuthError::code`]) and message ([`AuthError::message`]) that AWS
//! answers with.
//!
//! Both forms are understood: the `Authorization` header and the presigned
//! query string (`X-Amz-Algorithm`, `X-Amz-Credential`, ...).
//!
//! Nothing in here panics on hostile input: header values that are not UTF-8,
//! garbage query strings and huge values are all handled as bytes.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use http::header::HeaderName;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

#[cfg(test)]
mod tests;

/// The only algorithm understood.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Payload hash used when the body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Allowed clock skew between the request time and the server's clock.
pub const MAX_CLOCK_SKEW_SECS: u64 = 5 * 60;
/// Longest lifetime AWS allows for a presigned request (7 days).
pub const MAX_PRESIGN_EXPIRES_SECS: u64 = 604_800;

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const CONTENT_SHA256_MISMATCH: &str =
    "The provided 'x-amz-content-sha256' header does not match what was computed.";
/// Longest piece of client input echoed back in an error message.
const MAX_ECHO: usize = 512;

/// RFC 3986 unreserved characters (`A-Za-z0-9-_.~`) stay, everything else is
/// percent-encoded with uppercase hex.
const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of a received request that SigV4 covers, exactly as received.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    /// HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// Raw path as received (not decoded), e.g. `/`.
    pub path: &'a str,
    /// Raw query string without the leading `?`, if any.
    pub query: Option<&'a str>,
    /// All request headers. For HTTP/2 the caller should insert `host` from
    /// the `:authority` pseudo-header before verifying.
    pub headers: &'a HeaderMap,
    /// The full request body.
    pub body: &'a [u8],
}

/// What the request claims, parsed from either the Authorization header or
/// the presigned query form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    pub access_key_id: String,
    /// Scope date, `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
    /// Signed header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// The hex signature the client sent.
    pub signature: String,
    /// Request time, `YYYYMMDDTHHMMSSZ` (validated by [`parse`]).
    pub amz_date: String,
    /// `X-Amz-Security-Token` (header, or query parameter when presigned).
    pub security_token: Option<String>,
    /// True for the presigned query-string form.
    pub presigned: bool,
    /// `X-Amz-Expires` of a presigned request, in seconds.
    pub expires: Option<u64>,
}

/// Authentication failures, with the AWS error code and message for each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither an Authorization header nor presigned query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// The signature information is malformed or incomplete.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The signature (or something it covers) does not check out.
    #[error("{0}")]
    InvalidSignature(String),
    /// The request time is more than 5 minutes before the server's clock.
    #[error("Signature expired: {request_time} is now earlier than {earliest} ({now} - 5 min.)")]
    SignatureExpired {
        request_time: String,
        now: String,
        earliest: String,
    },
    /// The request time is more than 5 minutes after the server's clock.
    #[error(
        "Signature not yet current: {request_time} is still later than {latest} ({now} + 5 min.)"
    )]
    SignatureNotYetCurrent {
        request_time: String,
        now: String,
        latest: String,
    },
    /// A presigned request used after `X-Amz-Date + X-Amz-Expires`.
    #[error(
        "Signature expired: {request_time} is now earlier than {earliest} ({now} - {expires} sec.)"
    )]
    PresignedExpired {
        request_time: String,
        now: String,
        earliest: String,
        expires: u64,
    },
}

impl AuthError {
    /// The AWS error code (`__type` of an awsJson error body).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            AuthError::IncompleteSignature(_) => "IncompleteSignatureException",
            AuthError::InvalidSignature(_)
            | AuthError::SignatureExpired { .. }
            | AuthError::SignatureNotYetCurrent { .. }
            | AuthError::PresignedExpired { .. } => "InvalidSignatureException",
        }
    }

    /// The human-readable message, as AWS words it.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let m = i64::from(m);
    let d = i64::from(d);
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Both casts are in range by construction.
    (y, m as u32, d as u32)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Formats unix seconds as an ISO-8601 basic UTC timestamp, `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64; // < 2^49, fits
    let rem = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Parses `YYYYMMDDTHHMMSSZ` into unix seconds. `None` for anything else,
/// including impossible dates and times before 1970.
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    let year = i64::from(num(0..4)?);
    let month = num(4..6)?;
    let day = num(6..8)?;
    let hour = num(9..11)?;
    let min = num(11..13)?;
    let sec = num(13..15)?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec);
    u64::try_from(secs).ok()
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Cuts client input down for echoing in an error message.
fn echo(s: &str) -> String {
    if s.len() <= MAX_ECHO {
        return s.to_owned();
    }
    let mut end = MAX_ECHO;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// A query parameter, percent-decoded (as bytes: it need not be UTF-8).
struct QueryParam {
    key: Vec<u8>,
    value: Vec<u8>,
}

/// Splits a raw query string into decoded parameters. `+` is kept literally
/// unless `plus_as_space` is set.
fn decode_query(query: &str, plus_as_space: bool) -> Vec<QueryParam> {
    let dec = |s: &str| -> Vec<u8> {
        if plus_as_space && s.contains('+') {
            let replaced = s.replace('+', " ");
            percent_decode(replaced.as_bytes()).collect()
        } else {
            percent_decode(s.as_bytes()).collect()
        }
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            QueryParam {
                key: dec(k),
                value: dec(v),
            }
        })
        .collect()
}

fn query_value<'q>(params: &'q [QueryParam], key: &str) -> Option<&'q [u8]> {
    params
        .iter()
        .find(|p| p.key == key.as_bytes())
        .map(|p| p.value.as_slice())
}

fn lower_header_name(name: &str) -> Option<HeaderName> {
    HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).ok()
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
}

struct Scope {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

/// `AKID/YYYYMMDD/REGION/SERVICE/aws4_request`.
fn parse_scope(credential: &str) -> Result<Scope, AuthError> {
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 {
        return Err(AuthError::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            echo(credential)
        )));
    }
    if parts[4] != "aws4_request" {
        return Err(AuthError::IncompleteSignature(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'. ",
            echo(parts[4])
        )));
    }
    if parts[..4].iter().any(|p| p.is_empty()) {
        return Err(AuthError::IncompleteSignature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            echo(credential)
        )));
    }
    Ok(Scope {
        access_key_id: parts[0].to_owned(),
        date: parts[1].to_owned(),
        region: parts[2].to_owned(),
        service: parts[3].to_owned(),
    })
}

fn check_amz_date(amz_date: &str) -> Result<(), AuthError> {
    if parse_amz_date(amz_date).is_none() {
        return Err(AuthError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            echo(amz_date)
        )));
    }
    Ok(())
}

/// AWS requires `host` to be signed whenever the request has one.
fn check_host_signed(headers: &HeaderMap, signed: &[String]) -> Result<(), AuthError> {
    if headers.contains_key(http::header::HOST)
        && !signed.iter().any(|h| h.eq_ignore_ascii_case("host"))
    {
        return Err(AuthError::IncompleteSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    Ok(())
}

fn split_signed_headers(s: &str) -> Vec<String> {
    s.split(';').map(|h| h.trim().to_owned()).collect()
}

/// Parses what the request claims about its signature, from the
/// `Authorization` header or, failing that, the presigned query parameters.
pub fn parse(input: &SigningInput) -> Result<ParsedAuth, AuthError> {
    let auth_header = input
        .headers
        .get(http::header::AUTHORIZATION)
        .filter(|v| !v.as_bytes().iter().all(|b| b.is_ascii_whitespace()));
    let params = input
        .query
        .map(|q| decode_query(q, false))
        .unwrap_or_default();
    let presigned = query_value(&params, "X-Amz-Algorithm").is_some()
        || query_value(&params, "X-Amz-Signature").is_some();
    match (auth_header, presigned) {
        (None, false) => Err(AuthError::MissingAuthenticationToken),
        (Some(_), true) => Err(AuthError::IncompleteSignature(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified".to_owned(),
        )),
        (Some(h), false) => parse_header_form(h.as_bytes(), input.headers),
        (None, true) => parse_query_form(&params, input.headers),
    }
}

fn parse_header_form(value: &[u8], headers: &HeaderMap) -> Result<ParsedAuth, AuthError> {
    let raw = String::from_utf8_lossy(value);
    let raw = raw.trim();
    let (algorithm, rest) = match raw.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => (&raw[..i], &raw[i..]),
        None => (raw, ""),
    };
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{}'. Authorization={}",
            echo(algorithm),
            echo(raw)
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some((key, val)) = component.split_once('=') else {
            return Err(AuthError::IncompleteSignature(format!(
                "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'",
                echo(component),
                echo(raw)
            )));
        };
        let val = val.trim();
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() && !val.is_empty() {
            *slot = Some(val);
        }
    }
    let amz_date = header_str(headers, "x-amz-date").filter(|d| !d.is_empty());

    let mut missing = String::new();
    if credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if amz_date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) =
        (credential, signed_headers, signature, amz_date)
    else {
        return Err(AuthError::IncompleteSignature(format!(
            "{missing}Authorization={}",
            echo(raw)
        )));
    };

    let scope = parse_scope(credential)?;
    check_amz_date(&amz_date)?;
    let signed_headers = split_signed_headers(signed_headers);
    check_host_signed(headers, &signed_headers)?;
    Ok(ParsedAuth {
        access_key_id: scope.access_key_id,
        date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers,
        signature: signature.to_owned(),
        amz_date,
        security_token: header_str(headers, "x-amz-security-token"),
        presigned: false,
        expires: None,
    })
}

fn parse_query_form(params: &[QueryParam], headers: &HeaderMap) -> Result<ParsedAuth, AuthError> {
    let get = |k: &str| {
        query_value(params, k)
            .map(|v| String::from_utf8_lossy(v).trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let algorithm = get("X-Amz-Algorithm");
    let credential = get("X-Amz-Credential");
    let signature = get("X-Amz-Signature");
    let signed_headers = get("X-Amz-SignedHeaders");
    let amz_date = get("X-Amz-Date");

    let mut missing = String::new();
    for (name, v) in [
        ("X-Amz-Algorithm", &algorithm),
        ("X-Amz-Credential", &credential),
        ("X-Amz-Signature", &signature),
        ("X-Amz-SignedHeaders", &signed_headers),
        ("X-Amz-Date", &amz_date),
    ] {
        if v.is_none() {
            missing.push_str(&format!(
                "AWS query-string parameters must include '{name}'. "
            ));
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(amz_date)) =
        (algorithm, credential, signature, signed_headers, amz_date)
    else {
        return Err(AuthError::IncompleteSignature(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    };
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{}'. Re-examine the query-string parameters.",
            echo(&algorithm)
        )));
    }
    let expires = match get("X-Amz-Expires") {
        None => None,
        Some(e) => match e.parse::<u64>() {
            Ok(n) if n <= MAX_PRESIGN_EXPIRES_SECS => Some(n),
            Ok(_) => {
                return Err(AuthError::IncompleteSignature(format!(
                    "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES_SECS}"
                )));
            }
            Err(_) => {
                return Err(AuthError::IncompleteSignature(
                    "X-Amz-Expires should be a number".to_owned(),
                ));
            }
        },
    };
    let scope = parse_scope(&credential)?;
    check_amz_date(&amz_date)?;
    let signed_headers = split_signed_headers(&signed_headers);
    check_host_signed(headers, &signed_headers)?;
    Ok(ParsedAuth {
        access_key_id: scope.access_key_id,
        date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers,
        signature,
        amz_date,
        security_token: get("X-Amz-Security-Token"),
        presigned: true,
        expires,
    })
}

/// Checks the credential scope names `service` and one of `regions`.
pub fn check_scope(auth: &ParsedAuth, service: &str, regions: &[String]) -> Result<(), AuthError> {
    if auth.service != service {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    if !regions.contains(&auth.region) {
        return Err(AuthError::InvalidSignature(
            "Credential should be scoped to a valid region. ".to_owned(),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Canonical request
// ---------------------------------------------------------------------------

fn encode(bytes: &[u8]) -> String {
    percent_encode(bytes, SIGV4_ENCODE).to_string()
}

/// Canonical URI: each path segment URI-encoded (so an already-encoded path is
/// encoded a second time, as every service but S3 does). With `normalize`,
/// empty and `.` segments are dropped and `..` removes the one before it.
fn canonical_uri(path: &str, normalize: bool) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    if !normalize {
        return path
            .split('/')
            .map(|s| encode(s.as_bytes()))
            .collect::<Vec<_>>()
            .join("/");
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 8);
    for seg in &segments {
        out.push('/');
        out.push_str(&encode(seg.as_bytes()));
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

/// Canonical query string: decoded, re-encoded, sorted by key then value;
/// `X-Amz-Signature` is left out for the presigned form.
fn canonical_query(query: Option<&str>, presigned: bool, plus_as_space: bool) -> String {
    let Some(query) = query else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = decode_query(query, plus_as_space)
        .into_iter()
        .filter(|p| !(presigned && p.key == b"X-Amz-Signature"))
        .map(|p| (encode(&p.key), encode(&p.value)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Trims a header value and collapses runs of spaces into one.
fn normalize_header_value(value: &[u8], out: &mut Vec<u8>) {
    let start = value.iter().position(|b| *b != b' ' && *b != b'\t');
    let end = value.iter().rposition(|b| *b != b' ' && *b != b'\t');
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    let mut prev_space = false;
    for &b in &value[start..=end] {
        if b == b' ' {
            if !prev_space {
                out.push(b);
            }
            prev_space = true;
        } else {
            out.push(b);
            prev_space = false;
        }
    }
}

/// Canonical header lines (each ending in `\n`) for the signed headers.
fn canonical_headers(headers: &HeaderMap, signed: &[String]) -> Result<Vec<u8>, AuthError> {
    let mut out = Vec::new();
    for name in signed {
        let values = lower_header_name(name)
            .map(|n| headers.get_all(n).iter().collect::<Vec<_>>())
            .unwrap_or_default();
        if values.is_empty() {
            return Err(AuthError::IncompleteSignature(format!(
                "The request lists '{}' in SignedHeaders but does not carry that header.",
                echo(name)
            )));
        }
        out.extend_from_slice(name.to_ascii_lowercase().as_bytes());
        out.push(b':');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            normalize_header_value(v.as_bytes(), &mut out);
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// Assembles the canonical request from its parts.
fn canonical_request(
    method: &str,
    uri: &str,
    query: &str,
    headers: &[u8],
    signed_headers: &[String],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        method.len() + uri.len() + query.len() + headers.len() + payload_hash.len() + 64,
    );
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(uri.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(query.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(headers);
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

fn string_to_sign(auth: &ParsedAuth, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}/{}/{}/aws4_request\n{}",
        auth.amz_date,
        auth.date,
        auth.region,
        auth.service,
        hex::encode(Sha256::digest(canonical_request))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn signing_key(secret: &str, auth: &ParsedAuth) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    let k_region = hmac(&k_date, auth.region.as_bytes());
    let k_service = hmac(&k_region, auth.service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

fn check_time(auth: &ParsedAuth, now: u64) -> Result<(), AuthError> {
    let request_time = parse_amz_date(&auth.amz_date).ok_or_else(|| {
        AuthError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            echo(&auth.amz_date)
        ))
    })?;
    if auth.amz_date.get(..8) != Some(auth.date.as_str()) {
        return Err(AuthError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            echo(&auth.date),
            auth.amz_date.get(..8).unwrap_or_default(),
            auth.amz_date
        )));
    }
    if request_time > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(AuthError::SignatureNotYetCurrent {
            request_time: auth.amz_date.clone(),
            now: format_amz_date(now),
            latest: format_amz_date(now.saturating_add(MAX_CLOCK_SKEW_SECS)),
        });
    }
    match (auth.presigned, auth.expires) {
        // A presigned request is good from X-Amz-Date (less the allowed skew)
        // until X-Amz-Date + X-Amz-Expires.
        (true, Some(expires)) => {
            if now > request_time.saturating_add(expires) {
                return Err(AuthError::PresignedExpired {
                    request_time: auth.amz_date.clone(),
                    now: format_amz_date(now),
                    earliest: format_amz_date(now.saturating_sub(expires)),
                    expires,
                });
            }
        }
        _ => {
            if request_time.saturating_add(MAX_CLOCK_SKEW_SECS) < now {
                return Err(AuthError::SignatureExpired {
                    request_time: auth.amz_date.clone(),
                    now: format_amz_date(now),
                    earliest: format_amz_date(now.saturating_sub(MAX_CLOCK_SKEW_SECS)),
                });
            }
        }
    }
    Ok(())
}

/// The payload hashes the signature may have been computed over.
fn payload_hashes(input: &SigningInput, auth: &ParsedAuth) -> Result<Vec<String>, AuthError> {
    let body_hash = hex::encode(Sha256::digest(input.body));
    let header = input
        .headers
        .get("x-amz-content-sha256")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned());
    if let Some(h) = &header {
        if is_sha256_hex(h) {
            if !h.eq_ignore_ascii_case(&body_hash) {
                return Err(AuthError::InvalidSignature(
                    CONTENT_SHA256_MISMATCH.to_owned(),
                ));
            }
        } else if h != UNSIGNED_PAYLOAD {
            return Err(AuthError::InvalidSignature(format!(
                "x-amz-content-sha256 must be {UNSIGNED_PAYLOAD} or a valid sha256 value."
            )));
        }
    }
    if auth.presigned {
        Ok(vec![body_hash, UNSIGNED_PAYLOAD.to_owned()])
    } else {
        Ok(vec![header.unwrap_or(body_hash)])
    }
}

/// Verifies the request's signature with `secret`; `now` is unix seconds.
///
/// Checks, in order: the request time parses and matches the scope date, the
/// clock skew (or presigned expiry), `x-amz-content-sha256`, that every signed
/// header is present, and finally the signature itself (constant time).
pub fn verify(
    input: &SigningInput,
    auth: &ParsedAuth,
    secret: &str,
    now: u64,
) -> Result<(), AuthError> {
    verify_with_key(input, auth, &signing_key(secret, auth), now)
}

/// The SigV4 signing key of `secret` for the scope of `auth` (date, region,
/// service): what [`verify_with_key`] takes, so that callers can cache it per
/// access key and scope (it changes once a day).
pub fn derive_signing_key(secret: &str, auth: &ParsedAuth) -> [u8; 32] {
    signing_key(secret, auth)
}

/// [`verify`] with the signing key already derived ([`derive_signing_key`]).
pub fn verify_with_key(
    input: &SigningInput,
    auth: &ParsedAuth,
    key: &[u8; 32],
    now: u64,
) -> Result<(), AuthError> {
    check_time(auth, now)?;
    check_host_signed(input.headers, &auth.signed_headers)?;
    let payloads = payload_hashes(input, auth)?;
    let headers = canonical_headers(input.headers, &auth.signed_headers)?;

    // Signers differ in small ways; try each legitimate variant.
    let mut uris = vec![canonical_uri(input.path, true)];
    let raw_uri = canonical_uri(input.path, false);
    if raw_uri != uris[0] {
        uris.push(raw_uri);
    }
    let mut queries = vec![canonical_query(input.query, auth.presigned, false)];
    if input.query.is_some_and(|q| q.contains('+')) {
        queries.push(canonical_query(input.query, auth.presigned, true));
    }

    let provided = auth.signature.to_ascii_lowercase();
    let mut matched = Choice::from(0u8);
    for uri in &uris {
        for query in &queries {
            for payload in &payloads {
                let creq = canonical_request(
                    input.method,
                    uri,
                    query,
                    &headers,
                    &auth.signed_headers,
                    payload,
                );
                let sts = string_to_sign(auth, &creq);
                let expected = hex::encode(hmac(key, sts.as_bytes()));
                matched |= expected.as_bytes().ct_eq(provided.as_bytes());
            }
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(AuthError::InvalidSignature(SIGNATURE_MISMATCH.to_owned()))
    }
}
