//! Opaque, self-contained, tamper-evident pagination markers.
//!
//! A marker carries the *position* of the last item of a page (its sort key)
//! and an HMAC-SHA256 tag that binds the position to the scope of the
//! listing that produced it (account, region and filter) and to the server's
//! [`MarkerKey`]. No server-side state is kept: any marker that verifies was
//! issued by a holder of the key, for exactly that scope.
//!
//! Wire layout, before encoding:
//!
//! ```text
//! +---------+--------------------+------------------+
//! | version |  position (UTF-8)  |  tag (16 bytes)  |
//! |  1 byte |  0..=751 bytes     |                  |
//! +---------+--------------------+------------------+
//! ```
//!
//! The tag is the first 16 bytes of
//! `HMAC-SHA256(key, DOMAIN || version || lp(account) || lp(region) || lp(filter) || lp(position))`
//! where `lp(x)` is `x` preceded by its length as a big-endian `u32`, so bytes
//! cannot be moved from one field into a neighbouring one without changing
//! the MAC input. The whole is encoded as unpadded base64url (RFC 4648 §5),
//! whose alphabet `[A-Za-z0-9_-]` lies inside the API's `[\u0020-\u00FF]`
//! pattern for `Marker`.
//!
//! The position is visible (not encrypted) to whoever holds the marker; it is
//! the id of a record the caller has just been shown, so nothing leaks.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The version byte of the current marker layout.
pub const VERSION: u8 = 1;
/// Bytes of the truncated HMAC-SHA256 tag.
pub const TAG_LEN: usize = 16;
/// The longest marker the API accepts (`Marker` is 1..=1024 characters).
pub const MAX_MARKER_CHARS: usize = 1024;
/// Decoded bytes that fit in [`MAX_MARKER_CHARS`] characters of unpadded base64.
const MAX_DECODED: usize = MAX_MARKER_CHARS / 4 * 3;
/// The longest position, in UTF-8 bytes, whose marker still fits in
/// [`MAX_MARKER_CHARS`] characters (751). Any ASCII position of up to 256
/// characters (such as a key store id) is far below it.
pub const MAX_POSITION_BYTES: usize = MAX_DECODED - 1 - TAG_LEN;
/// The shortest key [`MarkerKey::new`] accepts.
pub const MIN_KEY_LEN: usize = 16;
/// Domain separation: a tag made by this module can't be confused with any
/// other use of the same key.
const DOMAIN: &[u8] = b"kms-stub/DescribeCustomKeyStores/marker";

/// The secret that markers are authenticated with.
///
/// Only the keyed HMAC state is kept, not the raw key bytes, and `Debug`
/// prints nothing about it.
#[derive(Clone)]
pub struct MarkerKey(HmacSha256);

/// The key given to [`MarkerKey::new`] is shorter than [`MIN_KEY_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("marker key must be at least {MIN_KEY_LEN} bytes, got {0}")]
pub struct KeyTooShort(pub usize);

impl MarkerKey {
    /// A key from secret bytes; at least [`MIN_KEY_LEN`] of them.
    pub fn new(bytes: &[u8]) -> Result<Self, KeyTooShort> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(KeyTooShort(bytes.len()));
        }
        Ok(Self::from_bytes_unchecked(bytes))
    }

    /// A fresh 256-bit key from the thread-local CSPRNG. Markers issued
    /// under it become invalid when the process restarts.
    pub fn random() -> Self {
        let mut bytes: [u8; 32] = rand::random();
        let key = Self::from_bytes_unchecked(&bytes);
        bytes.fill(0);
        key
    }

    /// A key derived as SHA-256 of a passphrase, so that markers survive a
    /// restart (or are shared by several instances) configured alike.
    pub fn from_passphrase(passphrase: &str) -> Self {
        let mut digest: [u8; 32] = Sha256::digest(passphrase.as_bytes()).into();
        let key = Self::from_bytes_unchecked(&digest);
        digest.fill(0);
        key
    }

    fn from_bytes_unchecked(bytes: &[u8]) -> Self {
        // HMAC accepts keys of any length.
        Self(HmacSha256::new_from_slice(bytes).expect("HMAC takes keys of any length"))
    }

    fn tag(&self, scope: &MarkerScope<'_>, version: u8, position: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.0.clone();
        mac.update(DOMAIN);
        mac.update(&[version]);
        for field in [
            scope.account.as_bytes(),
            scope.region.as_bytes(),
            scope.filter.as_bytes(),
            position,
        ] {
            // Every field here is bounded far below 4 GiB by the API, but a
            // saturating length still keeps the encoding unambiguous for any
            // input short of that.
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            mac.update(&len.to_be_bytes());
            mac.update(field);
        }
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }
}

impl fmt::Debug for MarkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MarkerKey(..)")
    }
}

/// What a marker is bound to: the listing it continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MarkerScope<'a> {
    pub account: &'a str,
    pub region: &'a str,
    /// `""` for no filter, else e.g. `"id:cks-…"` or `"name:…"`.
    pub filter: &'a str,
}

/// Why a marker was refused. Callers answering the API should report every
/// variant alike (e.g. as `InvalidMarkerException`); the detail is for logs
/// and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidMarker {
    #[error("marker is longer than {MAX_MARKER_CHARS} characters")]
    TooLong,
    #[error("marker is not valid unpadded base64url")]
    NotBase64,
    #[error("marker is too short")]
    TooShort,
    #[error("marker has an unknown version")]
    Version,
    #[error("marker is not valid for this request")]
    Tag,
    #[error("marker position is not UTF-8")]
    Position,
}

/// A marker that continues the listing `scope` after `position` (the sort
/// key of the last item returned).
///
/// The result is unpadded base64url. It is at most [`MAX_MARKER_CHARS`]
/// characters whenever `position` is at most [`MAX_POSITION_BYTES`] bytes
/// (see [`try_issue`] to have that checked).
pub fn issue(key: &MarkerKey, scope: &MarkerScope<'_>, position: &str) -> String {
    let pos = position.as_bytes();
    let tag = key.tag(scope, VERSION, pos);
    let mut raw = Vec::with_capacity(1 + pos.len() + TAG_LEN);
    raw.push(VERSION);
    raw.extend_from_slice(pos);
    raw.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The position is too long for its marker to fit the API's 1024 characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("position of {0} bytes is over the {MAX_POSITION_BYTES} that fit in a marker")]
pub struct PositionTooLong(pub usize);

/// [`issue`], refusing positions whose marker would exceed [`MAX_MARKER_CHARS`].
pub fn try_issue(
    key: &MarkerKey,
    scope: &MarkerScope<'_>,
    position: &str,
) -> Result<String, PositionTooLong> {
    if position.len() > MAX_POSITION_BYTES {
        return Err(PositionTooLong(position.len()));
    }
    Ok(issue(key, scope, position))
}

/// The position carried by `marker`, if it was issued under `key` for exactly
/// `scope`. Never panics; the tag is compared in constant time.
pub fn open(
    key: &MarkerKey,
    scope: &MarkerScope<'_>,
    marker: &str,
) -> Result<String, InvalidMarker> {
    // Cheap bound before any work: nothing longer was ever issued.
    if marker.len() > MAX_MARKER_CHARS {
        return Err(InvalidMarker::TooLong);
    }
    // The standard engine rejects padding, characters outside the url-safe
    // alphabet and non-canonical trailing bits, so every byte string has
    // exactly one accepted spelling.
    let raw = URL_SAFE_NO_PAD
        .decode(marker.as_bytes())
        .map_err(|_| InvalidMarker::NotBase64)?;
    if raw.len() < 1 + TAG_LEN {
        return Err(InvalidMarker::TooShort);
    }
    if raw[0] != VERSION {
        return Err(InvalidMarker::Version);
    }
    let (body, tag) = raw.split_at(raw.len() - TAG_LEN);
    let position = &body[1..];
    let expected = key.tag(scope, raw[0], position);
    if !bool::from(expected.ct_eq(tag)) {
        return Err(InvalidMarker::Tag);
    }
    String::from_utf8(position.to_vec()).map_err(|_| InvalidMarker::Position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const SCOPE: MarkerScope<'static> = MarkerScope {
        account: "111122223333",
        region: "us-east-1",
        filter: "",
    };

    fn key() -> MarkerKey {
        MarkerKey::new(b"0123456789abcdef-test-key").unwrap()
    }

    fn encode(raw: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(raw)
    }

    #[test]
    fn round_trip() {
        let k = key();
        for pos in ["", "cks-1234567890abcdef0", "name with spaces", "é ü 名前"] {
            let m = issue(&k, &SCOPE, pos);
            assert_eq!(open(&k, &SCOPE, &m).unwrap(), pos);
        }
    }

    #[test]
    fn round_trip_with_filters() {
        let k = key();
        for filter in ["", "id:cks-1234567890abcdef0", "name:my store"] {
            let scope = MarkerScope { filter, ..SCOPE };
            let m = issue(&k, &scope, "cks-1");
            assert_eq!(open(&k, &scope, &m).unwrap(), "cks-1");
        }
    }

    #[test]
    fn deterministic_for_same_inputs() {
        let k = key();
        assert_eq!(issue(&k, &SCOPE, "p"), issue(&k, &SCOPE, "p"));
        assert_ne!(issue(&k, &SCOPE, "p"), issue(&k, &SCOPE, "q"));
    }

    #[test]
    fn charset_and_length_within_api_constraints() {
        let k = key();
        let long_scope = MarkerScope {
            account: "999999999999",
            region: "ap-southeast-3",
            filter: &"n".repeat(300),
        };
        let samples = [
            String::new(),
            "a".to_owned(),
            "cks-1234567890abcdef0".to_owned(),
            "z".repeat(256),
            "é".repeat(256), // 512 bytes
            "~".repeat(MAX_POSITION_BYTES),
        ];
        for pos in &samples {
            for scope in [&SCOPE, &long_scope] {
                let m = issue(&k, scope, pos);
                assert!(!m.is_empty());
                assert!(m.chars().count() <= MAX_MARKER_CHARS, "{} chars", m.len());
                assert!(m.chars().all(|c| ('\u{20}'..='\u{FF}').contains(&c)));
                assert_eq!(&open(&k, scope, &m).unwrap(), pos);
            }
        }
        for n in 0..=256 {
            let m = issue(&k, &SCOPE, &"x".repeat(n));
            assert!(m.len() <= MAX_MARKER_CHARS);
        }
        // The largest position fits exactly.
        assert_eq!(
            issue(&k, &SCOPE, &"~".repeat(MAX_POSITION_BYTES)).len(),
            MAX_MARKER_CHARS
        );
    }

    #[test]
    fn try_issue_refuses_oversized_positions() {
        let k = key();
        assert!(try_issue(&k, &SCOPE, &"a".repeat(MAX_POSITION_BYTES)).is_ok());
        assert_eq!(
            try_issue(&k, &SCOPE, &"a".repeat(MAX_POSITION_BYTES + 1)),
            Err(PositionTooLong(MAX_POSITION_BYTES + 1))
        );
    }

    #[test]
    fn rejects_non_base64() {
        let k = key();
        for m in [
            "",
            "!!!!",
            "abc def",
            "AAAA====",
            "a+b/cdefghijklmnopqrstuvwxyz",
            "é",
        ] {
            let err = open(&k, &SCOPE, m).unwrap_err();
            assert!(
                matches!(err, InvalidMarker::NotBase64 | InvalidMarker::TooShort),
                "{m:?}: {err:?}"
            );
        }
        // Padding is not accepted even when the content is right.
        let m = issue(&k, &SCOPE, "cks-1");
        let padded = format!("{m}{}", "=".repeat((4 - m.len() % 4) % 4));
        if padded != m {
            assert_eq!(open(&k, &SCOPE, &padded), Err(InvalidMarker::NotBase64));
        }
        // A single leftover character can't be base64.
        assert_eq!(open(&k, &SCOPE, "A"), Err(InvalidMarker::NotBase64));
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        let k = key();
        let m = issue(&k, &SCOPE, "cks-1"); // 1+5+16 = 22 bytes -> 30 chars, 4 spare bits
        let mut bytes = m.into_bytes();
        let last = bytes.last_mut().unwrap();
        // Set a low (unused) bit of the final sextet.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = ALPHABET.iter().position(|c| c == last).unwrap();
        *last = ALPHABET[idx ^ 1];
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(open(&k, &SCOPE, &tampered), Err(InvalidMarker::NotBase64));
    }

    #[test]
    fn rejects_too_short() {
        let k = key();
        for len in 0..=TAG_LEN {
            let raw = vec![VERSION; len];
            let m = encode(&raw);
            if m.is_empty() {
                continue;
            }
            assert_eq!(
                open(&k, &SCOPE, &m),
                Err(InvalidMarker::TooShort),
                "len {len}"
            );
        }
    }

    #[test]
    fn rejects_too_long() {
        let k = key();
        let m = "A".repeat(MAX_MARKER_CHARS + 4);
        assert_eq!(open(&k, &SCOPE, &m), Err(InvalidMarker::TooLong));
    }

    #[test]
    fn rejects_wrong_version() {
        let k = key();
        let m = issue(&k, &SCOPE, "cks-1");
        let mut raw = URL_SAFE_NO_PAD.decode(&m).unwrap();
        for v in [0u8, 2, 0xFF] {
            raw[0] = v;
            assert_eq!(open(&k, &SCOPE, &encode(&raw)), Err(InvalidMarker::Version));
            // Even a correct tag for the other version is refused: the version
            // is checked before the tag.
            let mut forged = vec![v];
            forged.extend_from_slice(b"cks-1");
            forged.extend_from_slice(&k.tag(&SCOPE, v, b"cks-1"));
            assert_eq!(
                open(&k, &SCOPE, &encode(&forged)),
                Err(InvalidMarker::Version)
            );
        }
    }

    #[test]
    fn rejects_bad_tag() {
        let k = key();
        let m = issue(&k, &SCOPE, "cks-1");
        let mut raw = URL_SAFE_NO_PAD.decode(&m).unwrap();
        let n = raw.len();
        raw[n - 1] ^= 0x01;
        assert_eq!(open(&k, &SCOPE, &encode(&raw)), Err(InvalidMarker::Tag));
        // Tag of zeros.
        let mut zeros = vec![VERSION];
        zeros.extend_from_slice(b"cks-1");
        zeros.extend_from_slice(&[0; TAG_LEN]);
        assert_eq!(open(&k, &SCOPE, &encode(&zeros)), Err(InvalidMarker::Tag));
        // Position changed, tag kept.
        let mut moved = raw.clone();
        moved[n - 1] ^= 0x01;
        moved[1] = b'd';
        assert_eq!(open(&k, &SCOPE, &encode(&moved)), Err(InvalidMarker::Tag));
        // Truncated tag (still long enough to parse).
        let trunc = &URL_SAFE_NO_PAD.decode(&m).unwrap()[..n - 1];
        assert_eq!(open(&k, &SCOPE, &encode(trunc)), Err(InvalidMarker::Tag));
    }

    #[test]
    fn rejects_other_account_region_filter() {
        let k = key();
        let m = issue(&k, &SCOPE, "cks-1");
        let others = [
            MarkerScope {
                account: "111122223334",
                ..SCOPE
            },
            MarkerScope {
                region: "us-west-2",
                ..SCOPE
            },
            MarkerScope {
                filter: "id:cks-1",
                ..SCOPE
            },
            MarkerScope {
                filter: "name:x",
                ..SCOPE
            },
        ];
        for other in &others {
            assert_eq!(open(&k, other, &m), Err(InvalidMarker::Tag), "{other:?}");
        }
    }

    #[test]
    fn fields_cannot_be_shifted() {
        let k = key();
        let a = MarkerScope {
            account: "12",
            region: "34",
            filter: "",
        };
        let b = MarkerScope {
            account: "1",
            region: "234",
            filter: "",
        };
        let c = MarkerScope {
            account: "12",
            region: "3",
            filter: "4",
        };
        let m = issue(&k, &a, "p");
        assert_eq!(open(&k, &b, &m), Err(InvalidMarker::Tag));
        assert_eq!(open(&k, &c, &m), Err(InvalidMarker::Tag));
        // Filter and position: ("x", "yz") vs ("xy", "z").
        let f1 = MarkerScope {
            filter: "x",
            ..SCOPE
        };
        let f2 = MarkerScope {
            filter: "xy",
            ..SCOPE
        };
        assert_ne!(k.tag(&f1, VERSION, b"yz"), k.tag(&f2, VERSION, b"z"));
    }

    #[test]
    fn rejects_other_key() {
        let m = issue(&key(), &SCOPE, "cks-1");
        let others = [
            MarkerKey::new(b"0123456789abcdef-test-kez").unwrap(),
            MarkerKey::from_passphrase("0123456789abcdef-test-key"),
            MarkerKey::random(),
        ];
        for other in &others {
            assert_eq!(open(other, &SCOPE, &m), Err(InvalidMarker::Tag));
        }
    }

    #[test]
    fn key_construction() {
        assert_eq!(MarkerKey::new(b"short").unwrap_err(), KeyTooShort(5));
        assert!(MarkerKey::new(&[0u8; 15]).is_err());
        assert!(MarkerKey::new(&[0u8; 16]).is_ok());
        assert!(MarkerKey::new(&[7u8; 100]).is_ok());
        // Passphrase keys are reproducible; random keys are not.
        let a = issue(&MarkerKey::from_passphrase("s3cret"), &SCOPE, "p");
        let b = issue(&MarkerKey::from_passphrase("s3cret"), &SCOPE, "p");
        assert_eq!(a, b);
        assert_ne!(
            issue(&MarkerKey::random(), &SCOPE, "p"),
            issue(&MarkerKey::random(), &SCOPE, "p")
        );
        // from_passphrase is sha256 of the passphrase.
        let digest = Sha256::digest(b"s3cret");
        assert_eq!(issue(&MarkerKey::new(&digest).unwrap(), &SCOPE, "p"), a);
    }

    #[test]
    fn debug_hides_key() {
        let secret = b"SUPERSECRETKEY-0123456789";
        let k = MarkerKey::new(secret).unwrap();
        let shown = format!("{k:?} {k:#?}");
        assert_eq!(format!("{k:?}"), "MarkerKey(..)");
        assert!(!shown.contains("SUPERSECRET"));
        assert!(!shown.to_lowercase().contains("53555045")); // hex of "SUPE"
    }

    #[test]
    fn every_single_bit_flip_of_decoded_bytes_is_rejected() {
        let k = key();
        for pos in ["", "cks-1234567890abcdef0", &"q".repeat(256)] {
            let m = issue(&k, &SCOPE, pos);
            let raw = URL_SAFE_NO_PAD.decode(&m).unwrap();
            for i in 0..raw.len() {
                for bit in 0..8 {
                    let mut t = raw.clone();
                    t[i] ^= 1 << bit;
                    let r = open(&k, &SCOPE, &encode(&t));
                    assert!(r.is_err(), "byte {i} bit {bit} accepted: {r:?}");
                }
            }
        }
    }

    #[test]
    fn every_single_bit_flip_of_marker_text_is_rejected() {
        let k = key();
        let m = issue(&k, &SCOPE, "cks-1234567890abcdef0");
        let bytes = m.as_bytes();
        let mut tried = 0;
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut t = bytes.to_vec();
                t[i] ^= 1 << bit;
                // A flipped high bit is not UTF-8 and can't reach `open` as &str.
                let Ok(s) = String::from_utf8(t) else {
                    continue;
                };
                tried += 1;
                assert!(open(&k, &SCOPE, &s).is_err(), "char {i} bit {bit} accepted");
            }
        }
        assert_eq!(tried, bytes.len() * 7);
    }

    #[test]
    fn random_tampering_is_rejected_and_never_panics() {
        let k = key();
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let scopes = [
            SCOPE,
            MarkerScope {
                filter: "name:abc",
                ..SCOPE
            },
        ];
        for round in 0..2_000 {
            let scope = &scopes[round % 2];
            let pos_len = rng.random_range(0..64);
            let pos: String = (0..pos_len).map(|_| rng.random_range('!'..='~')).collect();
            let m = issue(&k, scope, &pos);
            let mut raw = URL_SAFE_NO_PAD.decode(&m).unwrap();
            // Flip 1..=4 random bits (distinct positions, so they can't cancel).
            let flips = rng.random_range(1..=4);
            let mut chosen = Vec::new();
            while chosen.len() < flips {
                let p = (rng.random_range(0..raw.len()), rng.random_range(0..8u8));
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            for (i, b) in chosen {
                raw[i] ^= 1 << b;
            }
            assert!(open(&k, scope, &encode(&raw)).is_err());
            // Random garbage: must not panic.
            let junk_len = rng.random_range(0..80);
            let junk: String = (0..junk_len)
                .map(|_| rng.random_range(' '..='\u{FF}'))
                .collect();
            let _ = open(&k, scope, &junk);
        }
    }
}
