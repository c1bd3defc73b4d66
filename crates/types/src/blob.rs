//! Blobs: bytes, base64 on the wire.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Binary data, written as standard base64 in awsJson.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Blob(Vec<u8>);

impl Blob {
    /// Wraps bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The number of bytes (what `@length` counts on a blob).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the bytes out.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Blob)
            .map_err(|e| serde::de::Error::custom(not_base64(&e)))
    }
}

/// Why text is not base64, by position only: the blob may be `@sensitive`, so the
/// message never holds a character of it (base64's own messages give the byte).
fn not_base64(error: &base64::DecodeError) -> String {
    use base64::DecodeError;
    match error {
        DecodeError::InvalidByte(offset, _) => {
            format!("not base64: invalid character at offset {offset}")
        }
        DecodeError::InvalidLastSymbol(offset, _) => {
            format!("not base64: invalid last character at offset {offset}")
        }
        DecodeError::InvalidLength(_) => "not base64: invalid length".to_owned(),
        DecodeError::InvalidPadding => "not base64: invalid padding".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        let blob = Blob::new(b"hello\x00\xff".to_vec());
        let json = serde_json::to_string(&blob).unwrap();
        assert_eq!(json, "\"aGVsbG8A/w==\"");
        assert_eq!(serde_json::from_str::<Blob>(&json).unwrap(), blob);
        assert!(serde_json::from_str::<Blob>("\"not base64!\"").is_err());
    }

    /// The messages say where, never what: a blob may be a secret.
    #[test]
    fn errors_quote_no_character() {
        for (text, expected) in [
            ("c2Vj!cmV0", "not base64: invalid character at offset 4"),
            ("c2VjcmV1c", "not base64: invalid length"),
            ("c2VjcmV=", "not base64: invalid last character at offset 6"),
            ("c2Vjcg=a", "not base64: invalid character at offset 6"),
            ("c2Vjcg=", "not base64: invalid padding"),
        ] {
            let json = format!("\"{text}\"");
            let error = serde_json::from_str::<Blob>(&json).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{text}: {error}");
            assert!(
                !error.contains("33") && !error.contains('!'),
                "{text}: {error}"
            );
        }
    }
}
