//! AWS Signature Version 4: the derivations both sides share — the signing key, the
//! string to sign, the signature — and the signer `kms-client` uses. `kms-server`'s
//! verifier recomputes the same signature from what a request carries.
//!
//! ```
//! use kms_types::sigv4::{Credentials, Request, sign};
//!
//! let headers = [
//!     ("content-type", "application/x-amz-json-1.1"),
//!     ("host", "kms.us-east-1.amazonaws.com"),
//!     ("x-amz-target", "TrentService.DescribeCustomKeyStores"),
//! ];
//! let signed = sign(
//!     &Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None),
//!     &Request { method: "POST", path: "/", query: "", headers: &headers, payload: b"{}" },
//!     "us-east-1",
//!     "kms",
//!     1_440_938_160,
//! );
//! assert_eq!(signed.amz_date, "20150830T123600Z");
//! assert!(signed.authorization.starts_with(
//!     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, \
//!      SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
//! ));
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{DateTime, Timestamp};

/// The only algorithm KMS accepts.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A SHA-256 digest or HMAC as 64 lowercase hex digits, on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex([u8; 64]);

impl Hex {
    /// The hex digits of `bytes`.
    pub fn of(bytes: &[u8; 32]) -> Self {
        let mut out = [0u8; 64];
        // Four bytes at a time: their eight nibbles spread into the eight bytes of
        // a u64, then each turned into its digit without a branch or a table.
        for (digits, chunk) in out.chunks_exact_mut(8).zip(bytes.chunks_exact(4)) {
            let mut x = u64::from(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
            x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
            x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
            x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
            // 1 in each byte holding 10..=15, which become 'a'..='f' ('0' + 39 + n).
            let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
            let ascii = x + 0x3030_3030_3030_3030 + letters * 39;
            digits.copy_from_slice(&ascii.to_be_bytes());
        }
        Self(out)
    }

    /// The digits as bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The digits as a string.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SHA256 keyed with `key`, its padded key blocks already hashed: clone it to
/// sign several messages with one key.
pub fn keyed_hmac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length")
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed_hmac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Where canonical text goes: a buffer (to look at it) or straight into a hash or
/// an HMAC (to sign it without building it).
pub trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Hmac<Sha256> {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// The signing key of a secret for one day (`YYYYMMDD`), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut first = Vec::with_capacity(4 + secret.len());
    first.extend_from_slice(b"AWS4");
    first.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sha256(&first, date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Writes the string to sign: algorithm, request time (`YYYYMMDDTHHMMSSZ`), the scope
/// `date/region/service/aws4_request` and the hex SHA-256 of the canonical request.
pub fn write_string_to_sign(
    out: &mut impl Sink,
    amz_date: &str,
    date: &str,
    region: &str,
    service: &str,
    canonical_request_hash: &[u8; 32],
) {
    for part in [
        ALGORITHM, "\n", amz_date, "\n", date, "/", region, "/", service,
    ] {
        out.put(part.as_bytes());
    }
    out.put(b"/aws4_request\n");
    out.put(&Hex::of(canonical_request_hash).0);
}

/// Appends a header value as the canonical request carries it: trimmed of spaces
/// and tabs, with runs of spaces collapsed into one.
pub fn push_header_value(value: &[u8], out: &mut impl Sink) {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let (Some(start), Some(end)) = (
        value.iter().position(|b| !is_blank(b)),
        value.iter().rposition(|b| !is_blank(b)),
    ) else {
        return;
    };
    let mut rest = &value[start..=end];
    // Put the runs between double spaces, each followed by one space.
    while let Some(at) = rest.windows(2).position(|w| w == b"  ") {
        out.put(&rest[..=at]);
        let next = rest[at..]
            .iter()
            .position(|b| *b != b' ')
            .map_or(rest.len(), |n| at + n);
        rest = &rest[next..];
    }
    out.put(rest);
}

/// Appends `bytes` URI-encoded as SigV4 wants: unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) as they are, every other byte as `%XX` (uppercase hex).
pub fn push_uri_encoded(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
    }
}

/// The canonical URI of a request path as every service but S3 signs it: each
/// segment URI-encoded (an already-encoded path is encoded a second time), `/` for
/// an empty path.
pub fn canonical_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::with_capacity(path.len() + 8);
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        push_uri_encoded(segment.as_bytes(), &mut out);
    }
    out
}

/// `unix_secs` as SigV4's request time, `YYYYMMDDTHHMMSSZ` (UTC).
pub fn amz_date(unix_secs: u64) -> String {
    let t = Timestamp::from_secs(i64::try_from(unix_secs).unwrap_or(i64::MAX)).to_date_time();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// Unix seconds of a SigV4 request time, `YYYYMMDDTHHMMSSZ`; `None` for anything else,
/// impossible dates and times before 1970 included.
pub fn parse_amz_date(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let t = Timestamp::from_date_time(&DateTime {
        year: i64::from(number(0..4)?),
        month: number(4..6)?,
        day: number(6..8)?,
        hour: number(9..11)?,
        minute: number(11..13)?,
        second: number(13..15)?,
        nanos: 0,
    })?;
    u64::try_from(t.secs()).ok()
}

/// An access key and its secret, with the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AKIA…` or `ASIA…`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    pub session_token: Option<String>,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// What a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `POST`.
    pub method: &'a str,
    /// The canonical (URI-encoded) path, `/` for awsJson.
    pub path: &'a str,
    /// The canonical query string (sorted, encoded), empty for awsJson.
    pub query: &'a str,
    /// The headers to sign, names in lowercase, at most once each; `x-amz-date` and
    /// `x-amz-security-token` are added by [`sign`].
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub payload: &'a [u8],
}

/// The headers [`sign`] adds to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `X-Amz-Date`.
    pub amz_date: String,
    /// `Authorization`.
    pub authorization: String,
}

/// Signs `request` (header form) for `region` and `service` at `unix_secs`.
/// The session token, when there is one, must be sent as `X-Amz-Security-Token`;
/// it is signed.
pub fn sign(
    credentials: &Credentials,
    request: &Request<'_>,
    region: &str,
    service: &str,
    unix_secs: u64,
) -> Signed {
    let amz_date = amz_date(unix_secs);
    let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
    headers.push(("x-amz-date", &amz_date));
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token", token));
    }
    headers.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");

    let mut canonical = Sha256::new();
    for part in [request.method, request.path, request.query] {
        canonical.put(part.as_bytes());
        canonical.put(b"\n");
    }
    for (name, value) in &headers {
        canonical.put(name.as_bytes());
        canonical.put(b":");
        push_header_value(value.as_bytes(), &mut canonical);
        canonical.put(b"\n");
    }
    canonical.put(b"\n");
    canonical.put(signed_headers.as_bytes());
    canonical.put(b"\n");
    canonical.put(Hex::of(&sha256(request.payload)).as_str().as_bytes());

    let date = &amz_date[..8];
    let key = signing_key(&credentials.secret_access_key, date, region, service);
    let mut mac = keyed_hmac(&key);
    write_string_to_sign(
        &mut mac,
        &amz_date,
        date,
        region,
        service,
        &canonical.finalize().into(),
    );
    let signature = Hex::of(&mac.finalize().into_bytes().into());
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    );
    Signed {
        amz_date,
        authorization,
    }
}

/// `text` with the value of every `Signature=` in it (up to a `,`, a space or the end)
/// replaced by `****`: an `Authorization` header, or a message quoting one, fit for a
/// log or a debug trace. A signature is a credential for as long as its request is
/// current. The name is matched in any case and with blanks around the `=`, as lenient
/// parsers read it (`signature = …` in a malformed header is still a valid signature):
/// any white space `str::trim` removes, as kms-server's parser trims (a header value may
/// hold U+00A0 or U+3000, written in UTF-8).
pub fn mask_signatures(text: &str) -> std::borrow::Cow<'_, str> {
    const KEY: &[u8] = b"signature";
    let bytes = text.as_bytes();
    let find = |from: usize| {
        (from..(bytes.len() + 1).saturating_sub(KEY.len()))
            .find(|&i| bytes[i..i + KEY.len()].eq_ignore_ascii_case(KEY))
    };
    let mut out = String::new();
    let (mut copied, mut from) = (0, 0);
    while let Some(at) = find(from) {
        // ASCII matched: `at + KEY.len()` is a character boundary.
        let after = text[at + KEY.len()..].trim_start();
        let Some(value) = after.strip_prefix('=') else {
            from = at + KEY.len();
            continue;
        };
        let value = value.trim_start();
        let start = text.len() - value.len();
        let end = start
            + value
                .find(|c: char| c == ',' || c.is_whitespace())
                .unwrap_or(value.len());
        out.push_str(&text[copied..start]);
        out.push_str("****");
        (copied, from) = (end, end);
    }
    if out.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_are_masked_wherever_they_are() {
        assert_eq!(
            mask_signatures(
                "AWS4-HMAC-SHA256 Credential=A/x, SignedHeaders=host, Signature=abc123"
            ),
            "AWS4-HMAC-SHA256 Credential=A/x, SignedHeaders=host, Signature=****"
        );
        assert_eq!(
            mask_signatures("Signature=1,Signature=2 and X-Amz-Signature=3 end"),
            "Signature=****,Signature=**** and X-Amz-Signature=**** end"
        );
        assert_eq!(mask_signatures("Signature="), "Signature=****");
        // As lenient parsers read the name: any case, spaces or tabs around `=`.
        assert_eq!(
            mask_signatures("Credential=A/x, SIGNATURE = abc123, signature=\tdef"),
            "Credential=A/x, SIGNATURE = ****, signature=\t****"
        );
        // Found by the sigv4_auth fuzz target: kms-server's parser trims any white
        // space around the `=`, U+3000 and U+00A0 too (a header value may hold them, in
        // UTF-8), and read the signature these left in the clear.
        assert_eq!(
            mask_signatures("SignedHeaders=host, Signature\u{3000}=abc123, x"),
            "SignedHeaders=host, Signature\u{3000}=****, x"
        );
        assert_eq!(
            mask_signatures("Signature=\u{a0}abc123 Signature\u{a0}= \u{2003}def"),
            "Signature=\u{a0}**** Signature\u{a0}= \u{2003}****"
        );
        assert_eq!(
            mask_signatures("a Signature of sorts"),
            "a Signature of sorts"
        );
        // A `signature` without `=` (a signed header's name) does not hide the real
        // one right after it.
        assert_eq!(
            mask_signatures("SignedHeaders=host;x-signature, Signature=abc123"),
            "SignedHeaders=host;x-signature, Signature=****"
        );
        assert_eq!(
            mask_signatures("Signaturé=x signature"),
            "Signaturé=x signature"
        );
        assert!(matches!(
            mask_signatures("no signature here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    use super::*;

    #[test]
    fn hex_is_lowercase_hex_of_every_byte_at_every_position() {
        for shift in 0..32 {
            let mut bytes = [0u8; 32];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = ((i * 8 + shift * 7) % 256) as u8;
            }
            let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let hex = Hex::of(&bytes);
            assert_eq!(hex.as_str(), expected);
            assert_eq!(hex.as_bytes(), expected.as_bytes());
            // Printed as its digits, in logs and assertion messages alike.
            assert_eq!(format!("{hex}"), expected);
            assert_eq!(format!("{hex:?}"), expected);
        }
        for v in 0..=255u8 {
            let expected = format!("{v:02x}").repeat(32);
            assert_eq!(Hex::of(&[v; 32]).as_str(), expected);
        }
    }

    /// `post-vanilla` from the AWS SigV4 test suite (secret
    /// `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, 2015-08-30T12:36:00Z).
    #[test]
    fn post_vanilla() {
        let signed = sign(
            &Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                None,
            ),
            &Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &[("host", "example.amazonaws.com")],
                payload: b"",
            },
            "us-east-1",
            "service",
            1_440_938_160,
        );
        assert_eq!(signed.amz_date, "20150830T123600Z");
        assert_eq!(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    /// `get-header-value-trim`: values trimmed, inner runs of spaces collapsed.
    #[test]
    fn header_values_are_trimmed() {
        let mut out = Vec::new();
        push_header_value(b"  value1   value2 \t", &mut out);
        assert_eq!(out, b"value1 value2");
        out.clear();
        push_header_value(b" \t ", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn signing_key_of_the_documentation() {
        // docs.aws.amazon.com, "Examples of how to derive a signing key for Signature Version 4".
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            Hex::of(&key).as_str(),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(canonical_path(""), "/");
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path("/a b/%2F/é~"), "/a%20b/%252F/%C3%A9~");
        assert_eq!(canonical_path("/kms/"), "/kms/");
    }

    #[test]
    fn amz_dates_parse() {
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
        for bad in [
            "19000229T000000Z",
            "20151330T123600Z",
            "20150830T243600Z",
            "20150830T123660Z",
            "19691231T235959Z",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "2015083OT123600Z",
            // The right length, a digit where the T or the Z belongs.
            "20150830X123600Z",
            "20150830T123600X",
            "2015083001236000",
            "",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
        for secs in [0, 1_440_938_160, 4_102_444_799] {
            assert_eq!(parse_amz_date(&amz_date(secs)), Some(secs));
        }
    }

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(4_102_444_799), "20991231T235959Z");
    }

    #[test]
    fn session_token_is_signed_and_secrets_are_not_printed() {
        let credentials = Credentials::new("ASIAEXAMPLE", "secret", Some("token".into()));
        let request = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &[("host", "localhost")],
            payload: b"{}",
        };
        let signed = sign(&credentials, &request, "eu-west-1", "kms", 1_700_000_000);
        assert!(
            signed
                .authorization
                .contains("SignedHeaders=host;x-amz-date;x-amz-security-token,")
        );
        let without = sign(
            &Credentials::new("ASIAEXAMPLE", "secret", None),
            &request,
            "eu-west-1",
            "kms",
            1_700_000_000,
        );
        assert_ne!(signed.authorization, without.authorization);
        let debug = format!("{credentials:?}");
        assert_eq!(
            debug,
            r#"Credentials { access_key_id: "ASIAEXAMPLE", secret_access_key: "** redacted **", session_token: Some("** redacted **") }"#
        );
    }
}
