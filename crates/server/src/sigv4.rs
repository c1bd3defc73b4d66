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

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use http::HeaderMap;
use http::header::HeaderName;
use kms_types::sigv4::{Hex, Sink, keyed_hmac, push_header_value, push_uri_encoded};
pub use kms_types::sigv4::{amz_date as format_amz_date, parse_amz_date};
use percent_encoding::percent_decode;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

#[cfg(test)]
mod tests;

/// The only algorithm understood.
pub use kms_types::sigv4::ALGORITHM;
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

// Header names built once (a lookup by `&str` parses and lowercases the name first).
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");

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

/// [`ParsedAuth`] borrowed from the request (or from a [`ParsedAuth`]): what
/// verification works on, without copying the request's strings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claims<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) date: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    pub(crate) signed_headers: SignedHeaders<'a>,
    pub(crate) signature: &'a str,
    pub(crate) amz_date: &'a str,
    pub(crate) security_token: Option<&'a str>,
    pub(crate) presigned: bool,
    pub(crate) expires: Option<u64>,
}

/// `str::split(sep)` for an ASCII `sep`, scanning bytes (same pieces: an ASCII byte
/// never occurs inside a multi-byte character).
#[derive(Debug, Clone)]
pub(crate) struct AsciiSplit<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> AsciiSplit<'a> {
    pub(crate) fn new(s: &'a str, sep: u8) -> Self {
        debug_assert!(sep.is_ascii());
        Self { rest: Some(s), sep }
    }
}

impl<'a> Iterator for AsciiSplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.bytes().position(|b| b == self.sep) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// `s.split_once(sep)` for an ASCII `sep`, scanning bytes.
pub(crate) fn split_once_ascii(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let i = s.bytes().position(|b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// The ASCII characters `char::is_whitespace` accepts (note: with U+000B, unlike
/// `u8::is_ascii_whitespace`).
fn is_ascii_white(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// `str::trim`, with ASCII whitespace removed byte by byte; `str::trim` finishes
/// the job only when a non-ASCII character is left at either end.
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    // The usual case: printable ASCII at both ends (all ASCII whitespace is <= ' ').
    let plain = |c: &u8| (b'!'..0x80).contains(c);
    if b.first().is_some_and(plain) && b.last().is_some_and(plain) {
        return s;
    }
    let (mut i, mut j) = (0, b.len());
    while i < j && is_ascii_white(b[i]) {
        i += 1;
    }
    while j > i && is_ascii_white(b[j - 1]) {
        j -= 1;
    }
    let t = &s[i..j];
    if t.as_bytes().first().is_some_and(|&c| c >= 0x80)
        || t.as_bytes().last().is_some_and(|&c| c >= 0x80)
    {
        t.trim()
    } else {
        t
    }
}

/// The signed header names: the raw `;`-separated list, or a parsed one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SignedHeaders<'a> {
    Raw(&'a str),
    List(&'a [String]),
}

/// The names of [`SignedHeaders`], trimmed, in the client's order.
enum SignedHeaderNames<'a> {
    Raw(AsciiSplit<'a>),
    List(std::slice::Iter<'a, String>),
}

impl<'a> Iterator for SignedHeaderNames<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            SignedHeaderNames::Raw(split) => split.next().map(trim),
            SignedHeaderNames::List(list) => list.next().map(String::as_str),
        }
    }
}

impl<'a> SignedHeaders<'a> {
    fn names(self) -> SignedHeaderNames<'a> {
        match self {
            SignedHeaders::Raw(raw) => SignedHeaderNames::Raw(AsciiSplit::new(raw, b';')),
            SignedHeaders::List(list) => SignedHeaderNames::List(list.iter()),
        }
    }
}

impl ParsedAuth {
    /// This, borrowed.
    pub(crate) fn claims(&self) -> Claims<'_> {
        Claims {
            access_key_id: &self.access_key_id,
            date: &self.date,
            region: &self.region,
            service: &self.service,
            signed_headers: SignedHeaders::List(&self.signed_headers),
            signature: &self.signature,
            amz_date: &self.amz_date,
            security_token: self.security_token.as_deref(),
            presigned: self.presigned,
            expires: self.expires,
        }
    }
}

impl Claims<'_> {
    fn to_parsed(self) -> ParsedAuth {
        ParsedAuth {
            access_key_id: self.access_key_id.to_owned(),
            date: self.date.to_owned(),
            region: self.region.to_owned(),
            service: self.service.to_owned(),
            signed_headers: self.signed_headers.names().map(str::to_owned).collect(),
            signature: self.signature.to_owned(),
            amz_date: self.amz_date.to_owned(),
            security_token: self.security_token.map(str::to_owned),
            presigned: self.presigned,
            expires: self.expires,
        }
    }
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

/// The access key id a request claims to be signed with, for the log line of a refused
/// request: from the `Authorization` header's `Credential=`, else the `X-Amz-Credential`
/// query parameter; whatever the request's other faults. At most 128 characters, and
/// only the characters an access key id has.
pub(crate) fn claimed_access_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let is_key_char = |c: &char| c.is_ascii_alphanumeric();
    // Found as the parser finds it (`Credential = …` too, the first one not empty, in a
    // value that is not UTF-8 too, a query parameter's name percent-decoded), whatever
    // else is wrong.
    let from_header = headers.get(http::header::AUTHORIZATION).and_then(|v| {
        let value = String::from_utf8_lossy(v.as_bytes());
        authorization_components(trim(&value))
            .1
            .find_map(|component| {
                let (key, val) = split_once_ascii(component, b'=')?;
                let val = trim(val);
                (trim(key) == "Credential" && !val.is_empty()).then(|| val.to_owned())
            })
    });
    let from_query = || {
        let params = decode_query(query?, false);
        let value = String::from_utf8_lossy(query_value(&params, "X-Amz-Credential")?);
        Some(value.trim().to_owned())
    };
    let key: String = from_header
        .or_else(from_query)?
        .chars()
        .take_while(is_key_char)
        .take(128)
        .collect();
    (!key.is_empty()).then_some(key)
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

/// Whether `query` has a parameter named `name` (ASCII case aside), its name
/// percent-decoded as the parser decodes it.
pub(crate) fn has_query_param(query: &str, name: &str) -> bool {
    decode_query(query, false)
        .iter()
        .any(|p| p.key.eq_ignore_ascii_case(name.as_bytes()))
}

fn query_value<'q>(params: &'q [QueryParam], key: &str) -> Option<&'q [u8]> {
    params
        .iter()
        .find(|p| p.key == key.as_bytes())
        .map(|p| p.value.as_slice())
}

/// A header's value, trimmed (invalid UTF-8 replaced).
fn header_str<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<Cow<'h, str>> {
    headers
        .get(name)
        .map(|v| match String::from_utf8_lossy(v.as_bytes()) {
            Cow::Borrowed(s) => Cow::Borrowed(trim(s)),
            Cow::Owned(s) => Cow::Owned(trim(&s).to_owned()),
        })
}

/// A header's value, trimmed; `Err` when it is not UTF-8.
fn header_utf8<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<Option<&'h str>, ()> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => std::str::from_utf8(v.as_bytes())
            .map(|s| Some(trim(s)))
            .map_err(|_| ()),
    }
}

struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

/// `AKID/YYYYMMDD/REGION/SERVICE/aws4_request`.
fn parse_scope(credential: &str) -> Result<Scope<'_>, AuthError> {
    let mut parts = [""; 5];
    let mut count = 0;
    for part in AsciiSplit::new(credential, b'/') {
        if let Some(slot) = parts.get_mut(count) {
            *slot = part;
        }
        count += 1;
    }
    if count != 5 {
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
        access_key_id: parts[0],
        date: parts[1],
        region: parts[2],
        service: parts[3],
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

/// AWS requires `host` to be signed whenever the request has one. Each name may be
/// listed once (the SDKs list each once, sorted): the canonical request then holds each
/// of the request's headers at most once, so that hashing it costs no more than the
/// request's size. A list repeating the name of a large header cost its size again for
/// each repetition, before the signature was compared: 15,000 repetitions of a 30 KB
/// header, in a 60 KB request, made 450 MB to hash.
fn check_signed_headers(headers: &HeaderMap, signed: SignedHeaders<'_>) -> Result<(), AuthError> {
    // The usual list (an SDK's) is sorted: each name after the one before, so that none
    // repeats, and one pass tells. Any other order is checked name by name below.
    let mut host = false;
    let mut count = 0;
    let mut previous: Option<&str> = None;
    let sorted = signed.names().all(|name| {
        host |= name.eq_ignore_ascii_case("host");
        count += 1;
        let after = previous.is_none_or(|p| lowercase(p).lt(lowercase(name)));
        previous = Some(name);
        after
    });
    if !sorted || count > headers.len() + 1 {
        // Names past the request's header count repeat one or name a missing header;
        // either way the list is refused here or when the canonical request is
        // written, and the quadratic scan stays within hyper's header limit.
        for (i, name) in signed.names().enumerate() {
            // The first pass stopped at the first name out of order.
            host |= name.eq_ignore_ascii_case("host");
            let repeated = signed
                .names()
                .take(i)
                .any(|earlier| earlier.eq_ignore_ascii_case(name));
            if repeated {
                return Err(AuthError::IncompleteSignature(format!(
                    "SignedHeaders lists '{}' more than once.",
                    echo(name)
                )));
            }
            if i > headers.len() {
                return Err(AuthError::IncompleteSignature(
                    "SignedHeaders lists more headers than the request carries.".to_owned(),
                ));
            }
        }
    }
    // Whether or not the request carries a `Host` (HTTP/1.0 need not): AWS signs it
    // always, and a request without one cannot list it.
    if !host {
        return Err(AuthError::IncompleteSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    Ok(())
}

/// The bytes of `name`, lower-cased.
fn lowercase(name: &str) -> impl Iterator<Item = u8> + '_ {
    name.bytes().map(|b| b.to_ascii_lowercase())
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
        (Some(h), false) => {
            let raw = String::from_utf8_lossy(h.as_bytes());
            let amz_date = header_str(input.headers, &X_AMZ_DATE);
            // Without X-Amz-Date, the signing time is the Date header's.
            let date = match amz_date {
                Some(_) => None,
                None => header_str(input.headers, &http::header::DATE)
                    .map(|d| date_header_as_amz_date(&d).unwrap_or_else(|| d.into_owned())),
            };
            let token = header_str(input.headers, &X_AMZ_SECURITY_TOKEN);
            header_claims(
                trim(&raw),
                amz_date.as_deref().or(date.as_deref()),
                token.as_deref(),
                input.headers,
            )
            .map(Claims::to_parsed)
        }
        (None, true) => parse_query_form(&params, input.headers),
    }
}

/// [`parse`] without copies, for the common case: no query string, and an
/// `Authorization` header whose value (and `X-Amz-Date`, `X-Amz-Security-Token`)
/// is UTF-8. `None` for anything else: then call [`parse`] (which gives the same
/// answer for the common case).
pub(crate) fn parse_borrowed<'a>(
    input: &SigningInput<'a>,
) -> Option<Result<Claims<'a>, AuthError>> {
    if input.query.is_some() {
        return None;
    }
    let value = input.headers.get(http::header::AUTHORIZATION)?.as_bytes();
    if value.iter().all(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let raw = std::str::from_utf8(value).ok()?;
    let amz_date = header_utf8(input.headers, &X_AMZ_DATE).ok()?;
    if amz_date.is_none() && input.headers.contains_key(http::header::DATE) {
        // Dated by the Date header, whose value may need converting.
        return None;
    }
    let token = header_utf8(input.headers, &X_AMZ_SECURITY_TOKEN).ok()?;
    Some(header_claims(trim(raw), amz_date, token, input.headers))
}

/// The signing time a `Date` header gives, as an `X-Amz-Date` value: ISO 8601 basic
/// as it is, or an HTTP date (`Sat, 05 Dec 2026 15:46:40 GMT`; botocore writes the zone
/// `-0000`) converted. `None` for anything else.
fn date_header_as_amz_date(value: &str) -> Option<String> {
    if parse_amz_date(value).is_some() {
        return Some(value.to_owned());
    }
    // Not before 1970, which X-Amz-Date cannot hold (`parse_amz_date` refuses it).
    let secs = kms_types::Timestamp::parse_http_date(value).ok()?.secs();
    Some(format_amz_date(u64::try_from(secs).ok()?))
}

/// The Authorization header form: `raw` is the header's trimmed value, `amz_date`
/// and `token` the trimmed `X-Amz-Date` and `X-Amz-Security-Token` headers.
/// An `Authorization` header's algorithm, and its comma-separated components after it,
/// trimmed, empty ones skipped (`Credential=…`, `SignedHeaders=…`, `Signature=…`).
fn authorization_components(raw: &str) -> (&str, impl Iterator<Item = &str>) {
    let (algorithm, rest) = match raw.bytes().position(|b| b.is_ascii_whitespace()) {
        Some(i) => (&raw[..i], &raw[i..]),
        None => (raw, ""),
    };
    let components = AsciiSplit::new(rest, b',')
        .map(trim)
        .filter(|c| !c.is_empty());
    (algorithm, components)
}

fn header_claims<'a>(
    raw: &'a str,
    amz_date: Option<&'a str>,
    token: Option<&'a str>,
    headers: &HeaderMap,
) -> Result<Claims<'a>, AuthError> {
    let (algorithm, components) = authorization_components(raw);
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
    for component in components {
        let Some((key, val)) = split_once_ascii(component, b'=') else {
            return Err(AuthError::IncompleteSignature(format!(
                "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'",
                echo(component),
                echo(raw)
            )));
        };
        let val = trim(val);
        let slot = match trim(key) {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() && !val.is_empty() {
            *slot = Some(val);
        }
    }
    let amz_date = amz_date.filter(|d| !d.is_empty());

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
    check_amz_date(amz_date)?;
    let signed_headers = SignedHeaders::Raw(signed_headers);
    check_signed_headers(headers, signed_headers)?;
    Ok(Claims {
        access_key_id: scope.access_key_id,
        date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers,
        signature,
        amz_date,
        security_token: token,
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
    let signed_headers: Vec<String> = SignedHeaders::Raw(&signed_headers)
        .names()
        .map(str::to_owned)
        .collect();
    check_signed_headers(headers, SignedHeaders::List(&signed_headers))?;
    Ok(ParsedAuth {
        access_key_id: scope.access_key_id.to_owned(),
        date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
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
    check_claimed_scope(&auth.claims(), service, regions)
}

/// [`check_scope`] of borrowed claims.
pub(crate) fn check_claimed_scope(
    auth: &Claims<'_>,
    service: &str,
    regions: &[String],
) -> Result<(), AuthError> {
    if auth.service != service {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    if !regions.iter().any(|r| r == auth.region) {
        // AWS's words, naming the region the request was signed for.
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            echo(auth.region)
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Canonical request
// ---------------------------------------------------------------------------

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    push_uri_encoded(bytes, &mut out);
    out
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

/// Canonical header lines (each ending in `\n`) for the signed headers, into `out`.
fn write_canonical_headers(
    headers: &HeaderMap,
    signed: SignedHeaders<'_>,
    out: &mut impl Sink,
) -> Result<(), AuthError> {
    for name in signed.names() {
        // A scan of the (few) headers rather than a hashed lookup: header names
        // are lowercase, so this matches the name in any case, and a name that is
        // not a valid header name finds nothing. Values come in received order.
        let mut found = false;
        for (header, value) in headers {
            if !header.as_str().eq_ignore_ascii_case(name) {
                continue;
            }
            if found {
                out.put(b",");
            } else {
                found = true;
                out.put(header.as_str().as_bytes());
                out.put(b":");
            }
            push_header_value(value.as_bytes(), out);
        }
        if !found {
            return Err(AuthError::IncompleteSignature(format!(
                "The request lists '{}' in SignedHeaders but does not carry that header.",
                echo(name)
            )));
        }
        out.put(b"\n");
    }
    Ok(())
}

/// Canonical header lines (each ending in `\n`) for the signed headers.
#[cfg(test)]
fn canonical_headers(headers: &HeaderMap, signed: &[String]) -> Result<Vec<u8>, AuthError> {
    let mut out = Vec::new();
    write_canonical_headers(headers, SignedHeaders::List(signed), &mut out)?;
    Ok(out)
}

/// The 64 digits of a hex signature as eight words of eight bytes.
fn hex_words(digits: &[u8; 64]) -> [u64; 8] {
    let mut words = [0u64; 8];
    for (word, chunk) in words.iter_mut().zip(digits.chunks_exact(8)) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        *word = u64::from_ne_bytes(bytes);
    }
    words
}

/// `u8::to_ascii_lowercase` of the eight bytes of `word` at once.
fn ascii_lowercase8(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte, with the top bit cleared so that the additions never carry over:
    // its top bit set when the byte is >= 'A' and when it is > 'Z'.
    let low7 = word & !HIGH;
    let from_a = low7 + ONES * (0x80 - u64::from(b'A'));
    let past_z = low7 + ONES * (0x7f - u64::from(b'Z'));
    // Upper-case letters: ASCII (top bit clear), >= 'A' and not > 'Z'.
    let upper = from_a & !past_z & !word & HIGH;
    word | (upper >> 2)
}

/// A [`Sink`] that gathers small pieces in a stack buffer and hands them to
/// `inner` in large chunks: hashing a canonical request piece by piece costs
/// the hasher's buffer bookkeeping on each of its ~40 pieces. Call
/// [`Gather::finish`] to pass on what is left.
struct Gather<'s, S: Sink, const N: usize> {
    inner: &'s mut S,
    buf: [u8; N],
    len: usize,
}

impl<'s, S: Sink, const N: usize> Gather<'s, S, N> {
    fn new(inner: &'s mut S) -> Self {
        Self {
            inner,
            buf: [0; N],
            len: 0,
        }
    }

    fn finish(self) {
        if self.len > 0 {
            self.inner.put(&self.buf[..self.len]);
        }
    }
}

impl<S: Sink, const N: usize> Sink for Gather<'_, S, N> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(room) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            room.copy_from_slice(bytes);
            self.len += bytes.len();
            return;
        }
        if self.len > 0 {
            self.inner.put(&self.buf[..self.len]);
            self.len = 0;
        }
        match self.buf.get_mut(..bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len = bytes.len();
            }
            None => self.inner.put(bytes),
        }
    }
}

/// The canonical request, into `out`.
fn write_canonical_request(
    out: &mut impl Sink,
    method: &str,
    uri: &str,
    query: &str,
    headers: &HeaderMap,
    signed_headers: SignedHeaders<'_>,
    payload_hash: &str,
) -> Result<(), AuthError> {
    out.put(method.as_bytes());
    out.put(b"\n");
    out.put(uri.as_bytes());
    out.put(b"\n");
    out.put(query.as_bytes());
    out.put(b"\n");
    write_canonical_headers(headers, signed_headers, out)?;
    out.put(b"\n");
    for (i, name) in signed_headers.names().enumerate() {
        if i > 0 {
            out.put(b";");
        }
        out.put(name.as_bytes());
    }
    out.put(b"\n");
    out.put(payload_hash.as_bytes());
    Ok(())
}

/// Assembles the canonical request from its parts.
#[cfg(test)]
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

/// The string to sign of `auth`'s claims, into `out`.
fn write_string_to_sign(out: &mut impl Sink, auth: &Claims<'_>, canonical_request_hash: &[u8; 32]) {
    kms_types::sigv4::write_string_to_sign(
        out,
        auth.amz_date,
        auth.date,
        auth.region,
        auth.service,
        canonical_request_hash,
    );
}

/// The signing key of `secret` for the scope of `auth`.
pub(crate) fn derive_claimed_signing_key(secret: &str, auth: &Claims<'_>) -> [u8; 32] {
    kms_types::sigv4::signing_key(secret, auth.date, auth.region, auth.service)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

fn check_time(auth: &Claims<'_>, now: u64) -> Result<(), AuthError> {
    let request_time = parse_amz_date(auth.amz_date).ok_or_else(|| {
        AuthError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            echo(auth.amz_date)
        ))
    })?;
    if auth.amz_date.get(..8) != Some(auth.date) {
        return Err(AuthError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            echo(auth.date),
            auth.amz_date.get(..8).unwrap_or_default(),
            auth.amz_date
        )));
    }
    if request_time > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(AuthError::SignatureNotYetCurrent {
            request_time: auth.amz_date.to_owned(),
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
                    request_time: auth.amz_date.to_owned(),
                    now: format_amz_date(now),
                    earliest: format_amz_date(now.saturating_sub(expires)),
                    expires,
                });
            }
        }
        _ => {
            if request_time.saturating_add(MAX_CLOCK_SKEW_SECS) < now {
                return Err(AuthError::SignatureExpired {
                    request_time: auth.amz_date.to_owned(),
                    now: format_amz_date(now),
                    earliest: format_amz_date(now.saturating_sub(MAX_CLOCK_SKEW_SECS)),
                });
            }
        }
    }
    Ok(())
}

/// The payload hashes a signature may have been computed over: the body's
/// SHA-256 (hex) and, as `header`, the `x-amz-content-sha256` value when present.
struct Payloads<'h> {
    body_hash: Hex,
    header: Option<Cow<'h, str>>,
    presigned: bool,
}

impl Payloads<'_> {
    /// One (header form) or two (presigned) candidates. In the header form the body is
    /// always covered: `UNSIGNED-PAYLOAD` is for the operations a model marks so (S3's,
    /// and a few of ebs, lex, mediastore-data and omics), and KMS's model marks none, so
    /// a signature over it does not match here (else any body would pass). A presigned
    /// URL may have been signed either way (presigners of the AWS SDKs use
    /// `UNSIGNED-PAYLOAD`).
    fn candidates(&self) -> ([&str; 2], usize) {
        let body = self.body_hash.as_str();
        if self.presigned {
            ([body, UNSIGNED_PAYLOAD], 2)
        } else {
            let header = self.header.as_deref().filter(|h| *h != UNSIGNED_PAYLOAD);
            ([header.unwrap_or(body), ""], 1)
        }
    }
}

/// What a request's head says of its payload, checked before its body is read
/// ([`check_head`]): the `x-amz-content-sha256` header, when there is one, is
/// `UNSIGNED-PAYLOAD` or a SHA-256 in hex (which [`verify_signature`] compares with the
/// body's).
#[derive(Debug)]
pub(crate) struct PayloadHeader<'h>(Option<Cow<'h, str>>);

/// Everything [`verify_claims`] checks that does not need the body, in its order: the
/// request time (against the scope date, the clock skew or a presigned expiry), that
/// `host` is signed (when `host` says so), and the form of `x-amz-content-sha256`.
pub(crate) fn check_head<'h>(
    headers: &'h HeaderMap,
    auth: &Claims<'_>,
    now: u64,
    host: HostCheck,
) -> Result<PayloadHeader<'h>, AuthError> {
    check_time(auth, now)?;
    if host == HostCheck::Here {
        check_signed_headers(headers, auth.signed_headers)?;
    }
    payload_header(headers)
}

/// The `x-amz-content-sha256` header, refused unless `UNSIGNED-PAYLOAD` or hex.
fn payload_header(headers: &HeaderMap) -> Result<PayloadHeader<'_>, AuthError> {
    let header = header_str(headers, &X_AMZ_CONTENT_SHA256);
    if let Some(h) = &header
        && !is_sha256_hex(h)
        && h != UNSIGNED_PAYLOAD
    {
        return Err(AuthError::InvalidSignature(format!(
            "x-amz-content-sha256 must be {UNSIGNED_PAYLOAD} or a valid sha256 value."
        )));
    }
    Ok(PayloadHeader(header))
}

/// The payload hashes of the body, which must match a hex `x-amz-content-sha256`.
fn check_payload<'h>(
    body: &[u8],
    header: PayloadHeader<'h>,
    auth: &Claims<'_>,
) -> Result<Payloads<'h>, AuthError> {
    let body_hash = Hex::of(&Sha256::digest(body).into());
    let header = header.0;
    if let Some(h) = &header
        && is_sha256_hex(h)
        && !h.as_bytes().eq_ignore_ascii_case(body_hash.as_bytes())
    {
        return Err(AuthError::InvalidSignature(
            CONTENT_SHA256_MISMATCH.to_owned(),
        ));
    }
    Ok(Payloads {
        body_hash,
        header,
        presigned: auth.presigned,
    })
}

/// The payload hashes the signature may have been computed over.
#[cfg(test)]
fn payload_hashes(input: &SigningInput, auth: &ParsedAuth) -> Result<Vec<String>, AuthError> {
    let claims = auth.claims();
    let header = payload_header(input.headers)?;
    let payloads = check_payload(input.body, header, &claims)?;
    let (candidates, n) = payloads.candidates();
    Ok(candidates[..n].iter().map(|s| (*s).to_owned()).collect())
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
    verify_with_key(input, auth, &derive_signing_key(secret, auth), now)
}

/// The SigV4 signing key of `secret` for the scope of `auth` (date, region,
/// service): what [`verify_with_key`] takes, so that callers can cache it per
/// access key and scope (it changes once a day).
pub fn derive_signing_key(secret: &str, auth: &ParsedAuth) -> [u8; 32] {
    derive_claimed_signing_key(secret, &auth.claims())
}

/// [`verify`] with the signing key already derived ([`derive_signing_key`]).
pub fn verify_with_key(
    input: &SigningInput,
    auth: &ParsedAuth,
    key: &[u8; 32],
    now: u64,
) -> Result<(), AuthError> {
    verify_claims(input, &auth.claims(), &keyed_hmac(key), now)
}

/// [`verify_with_key`] of borrowed claims, with the HMAC already keyed with the
/// signing key ([`keyed_hmac`]). The canonical request and the string to sign are
/// hashed as they are produced, never assembled.
pub(crate) fn verify_claims(
    input: &SigningInput,
    auth: &Claims<'_>,
    key: &Hmac<Sha256>,
    now: u64,
) -> Result<(), AuthError> {
    let header = check_head(input.headers, auth, now, HostCheck::Here)?;
    verify_signature(input, auth, key, header)
}

/// Whether [`check_head`] checks that `host` is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostCheck {
    /// Check it (claims of unknown origin).
    Here,
    /// Already checked: the claims come from [`parse`] or [`parse_borrowed`]
    /// of this very request, which refuse an unsigned `host` before anything
    /// `verify_claims` checks.
    ByTheParser,
}

/// The rest of [`verify_claims`] once [`check_head`] has passed and the body is
/// in: the body against `x-amz-content-sha256`, that every signed header is present, and
/// the signature itself (constant time).
pub(crate) fn verify_signature(
    input: &SigningInput,
    auth: &Claims<'_>,
    key: &Hmac<Sha256>,
    header: PayloadHeader<'_>,
) -> Result<(), AuthError> {
    let payloads = check_payload(input.body, header, auth)?;
    let (payloads, payload_count) = payloads.candidates();

    // Signers differ in small ways; try each legitimate variant. The usual
    // request (path `/`, no query string) has exactly one.
    let uri_variants;
    let (uris, uri_count) = if input.path.is_empty() || input.path == "/" {
        (["/", ""], 1)
    } else {
        uri_variants = (
            canonical_uri(input.path, true),
            canonical_uri(input.path, false),
        );
        let distinct = if uri_variants.0 == uri_variants.1 {
            1
        } else {
            2
        };
        ([uri_variants.0.as_str(), uri_variants.1.as_str()], distinct)
    };
    // A `+` in the query is a space, as the service reads it (and aws-sigv4 signs it):
    // a signature over a literal `+` (`%2B`) would let the request mean one thing to
    // its signer and another to the service.
    let query_variant;
    let (queries, query_count) = match input.query {
        None => (["", ""], 1),
        Some(q) => {
            query_variant = canonical_query(input.query, auth.presigned, q.contains('+'));
            ([query_variant.as_str(), ""], 1)
        }
    };

    // The client's signature, lowercased, as eight-byte words (compared in constant
    // time a word at a time); anything but 64 bytes never matches.
    let provided = auth.signature.as_bytes();
    let well_formed = Choice::from(u8::from(provided.len() == 64));
    let provided_lower = match <&[u8; 64]>::try_from(provided) {
        Ok(provided) => hex_words(provided).map(ascii_lowercase8),
        Err(_) => [0; 8],
    };
    let mut matched = Choice::from(0u8);
    for uri in &uris[..uri_count] {
        for query in &queries[..query_count] {
            for payload in &payloads[..payload_count] {
                let mut creq = Sha256::new();
                let mut gather = Gather::<_, 1024>::new(&mut creq);
                write_canonical_request(
                    &mut gather,
                    input.method,
                    uri,
                    query,
                    input.headers,
                    auth.signed_headers,
                    payload,
                )?;
                gather.finish();
                let mut mac = key.clone();
                let mut gather = Gather::<_, 256>::new(&mut mac);
                write_string_to_sign(&mut gather, auth, &creq.finalize().into());
                gather.finish();
                let expected = Hex::of(&mac.finalize().into_bytes().into());
                matched |= hex_words(expected.as_bytes()).ct_eq(&provided_lower) & well_formed;
            }
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(AuthError::InvalidSignature(SIGNATURE_MISMATCH.to_owned()))
    }
}
