//! Typed, validated request and response types for AWS KMS custom key stores,
//! generated at compile time from the Smithy model in `spec/`, and the small runtime
//! they need — shared by `kms-server` and `kms-client`.
//!
//! ```
//! use kms_types::{DescribeCustomKeyStoresRequest, Validate};
//!
//! let request = DescribeCustomKeyStoresRequest::builder().limit(10).build();
//! assert!(request.validate().is_ok());
//! let bad = DescribeCustomKeyStoresRequest::builder().limit(0).build();
//! assert_eq!(
//!     bad.validate().unwrap_err().to_string(),
//!     "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
//!      Member must have value greater than or equal to 1",
//! );
//! ```
//!
//! Structures, enums and unions are `#[non_exhaustive]`: KMS adds members and values
//! over time, and importing them into the model must not break the crates that depend on
//! these types. So a structure is built with its builder and read with `..` in patterns,
//! and a `match` on an enum has a wildcard arm:
//!
//! ```
//! use kms_types::{ConnectionStateType, CustomKeyStoresListEntry};
//!
//! let entry = CustomKeyStoresListEntry::builder()
//!     .custom_key_store_id("cks-1234567890abcdef0")
//!     .connection_state(ConnectionStateType::Connected)
//!     .build();
//! let CustomKeyStoresListEntry { connection_state, .. } = &entry;
//! let usable = match connection_state {
//!     Some(ConnectionStateType::Connected) => true,
//!     Some(_) | None => false,
//! };
//! assert!(usable);
//! ```
//!
//! The service's endpoint rules are generated too ([`resolve_endpoint`]):
//!
//! ```
//! use kms_types::{EndpointParams, resolve_endpoint};
//!
//! let fips = EndpointParams {
//!     region: Some("cn-north-1".to_owned()),
//!     use_fips: true,
//!     ..EndpointParams::default()
//! };
//! assert_eq!(resolve_endpoint(&fips).unwrap(), "https://kms-fips.cn-north-1.amazonaws.com.cn");
//! let custom = EndpointParams {
//!     endpoint: Some("http://127.0.0.1:4599".to_owned()),
//!     ..fips
//! };
//! assert_eq!(
//!     resolve_endpoint(&custom).unwrap_err().message(),
//!     "Invalid Configuration: FIPS and custom endpoint are not supported",
//! );
//! ```

#![warn(missing_docs)]

extern crate self as kms_types;

pub mod aws_json;
mod blob;
pub mod endpoint;
pub mod operation;
#[cfg(feature = "sigv4")]
pub mod sigv4;
mod timestamp;
pub mod validation;

pub use blob::Blob;
pub use operation::{Operation, OperationError, OperationShape, Paginated, Pagination};
pub use timestamp::{DateTime, Timestamp, TimestampError};
pub use validation::{Validate, ValidationError};

/// The types generated from `spec/kms.describe-custom-key-stores.json`.
pub mod model {
    kms_macros::generate!("spec/kms.describe-custom-key-stores.json");
}

pub use model::*;

/// A missing required member found when building a structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{shape}: required member `{member}` was not set")]
pub struct BuildError {
    /// The structure being built.
    pub shape: &'static str,
    /// The member that was not set.
    pub member: &'static str,
}

/// Prints as `*** Sensitive Data Redacted ***` in place of a `@sensitive` value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("*** Sensitive Data Redacted ***")
    }
}

/// A value that enum `E` of the model does not define, kept as received: what a generated
/// enum's `Unknown` variant holds (`T` is `String` for a string enum, `i32` for an intEnum).
///
/// Only `E`'s `From` makes one, and only of a value `E` does not define, so that a defined
/// value is always its own variant: `Unknown` never holds `"CONNECTED"`, which would
/// validate as unknown and compare unequal to `Connected`. Being `E`'s own type, a value
/// one enum did not know cannot be moved into another that does.
///
/// ```
/// use kms_types::ConnectionStateType;
///
/// let state = ConnectionStateType::from("HIBERNATING");
/// assert!(matches!(&state, ConnectionStateType::Unknown(v) if v.as_str() == "HIBERNATING"));
/// assert_eq!(ConnectionStateType::from("CONNECTED"), ConnectionStateType::Connected);
/// ```
///
/// There is no other way to make one:
///
/// ```compile_fail
/// use kms_types::{ConnectionErrorCodeType, ConnectionStateType};
///
/// // "CONNECTED" is no error code, so this is `Unknown`; it cannot become a state.
/// let ConnectionErrorCodeType::Unknown(value) = ConnectionErrorCodeType::from("CONNECTED") else {
///     unreachable!()
/// };
/// let state = ConnectionStateType::Unknown(value);
/// ```
pub struct UnknownValue<E, T = String> {
    value: T,
    of: std::marker::PhantomData<fn() -> E>,
}

impl<E, T> UnknownValue<E, T> {
    /// The value, as received, taken out.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<E> UnknownValue<E, String> {
    /// The value, as received.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl<E> UnknownValue<E, i32> {
    /// The value, as received.
    pub fn get(&self) -> i32 {
        self.value
    }
}

// By hand rather than derived: a derive would ask the same of `E`.
impl<E, T: Clone> Clone for UnknownValue<E, T> {
    fn clone(&self) -> Self {
        __private::unknown_value(self.value.clone())
    }
}

impl<E, T: Copy> Copy for UnknownValue<E, T> {}

impl<E, T: std::fmt::Debug> std::fmt::Debug for UnknownValue<E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("UnknownValue").field(&self.value).finish()
    }
}

impl<E, T: std::fmt::Display> std::fmt::Display for UnknownValue<E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl<E, T: PartialEq> PartialEq for UnknownValue<E, T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<E, T: Eq> Eq for UnknownValue<E, T> {}

impl<E, T: std::hash::Hash> std::hash::Hash for UnknownValue<E, T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<E, T: PartialOrd> PartialOrd for UnknownValue<E, T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<E, T: Ord> Ord for UnknownValue<E, T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

/// The Smithy `Unit` shape: an empty structure, `{}` on the wire.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Unit {}

impl Validate for Unit {
    fn validate_at(&self, _at: &str, _violations: &mut validation::Violations) {}
}

/// What generated code refers to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "regex")]
    pub use regex_lite;
    pub use serde;
    pub use serde_json;

    /// Deserializes a string enum from a borrowed string when the format allows, so a
    /// known value costs no allocation.
    pub fn deserialize_str_enum<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: for<'a> From<&'a str>,
    {
        struct StrVisitor<T>(std::marker::PhantomData<T>);
        impl<T: for<'a> From<&'a str>> serde::de::Visitor<'_> for StrVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
                Ok(T::from(value))
            }
        }
        deserializer.deserialize_str(StrVisitor(std::marker::PhantomData))
    }

    /// A value enum `E` does not define (its generated `From` has checked).
    pub fn unknown_value<E, T>(value: T) -> super::UnknownValue<E, T> {
        super::UnknownValue {
            value,
            of: std::marker::PhantomData,
        }
    }

    /// Deserializes a member with a `@default`: JSON `null` reads as absent, that is as
    /// the default, as aws-sdk-kms reads every awsJson member. A format that is not
    /// human-readable (bincode) holds the value itself, as [`Members`] wrote it: there a
    /// `null` (CBOR's or MessagePack's, say, from data converted by another tool) is an
    /// error, not the default.
    pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: serde::Deserialize<'de> + Default,
    {
        if deserializer.is_human_readable() {
            Ok(<Option<T> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
        } else {
            T::deserialize(deserializer)
        }
    }

    /// awsJson's floats: JSON has no number for NaN and the infinities, so they travel
    /// as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (as botocore and the AWS
    /// SDKs write and read them). Formats that are not human-readable carry the float
    /// itself. Generated code uses this for `float` and `double` members, and lists
    /// and maps of them.
    pub mod float {
        use std::collections::BTreeMap;

        use serde::de::{DeserializeOwned, Visitor};
        use serde::ser::{SerializeMap, SerializeSeq};
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        /// A float (`f32`, `f64`), or an optional one, or a list or map of them.
        pub trait Floats: Sized {
            /// What is read from the wire.
            type Wire: DeserializeOwned;
            /// The value read.
            fn from_wire(wire: Self::Wire) -> Self;
            /// Writes the value, special floats as their strings in human-readable formats.
            fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
        }

        /// One float as read from the wire.
        #[derive(Debug)]
        pub struct Wire<F>(F);

        /// `f32` and `f64`.
        pub trait Float: Copy + Serialize + DeserializeOwned {
            /// From a number read (or a special value).
            fn from_f64(value: f64) -> Self;
            /// As `f64`.
            fn to_f64(self) -> f64;
        }

        impl Float for f64 {
            fn from_f64(value: f64) -> Self {
                value
            }
            fn to_f64(self) -> f64 {
                self
            }
        }

        impl Float for f32 {
            fn from_f64(value: f64) -> Self {
                value as f32
            }
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
        }

        impl<'de, F: Float> Deserialize<'de> for Wire<F> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Number;
                impl Visitor<'_> for Number {
                    type Value = f64;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a number, or \"NaN\", \"Infinity\" or \"-Infinity\"")
                    }
                    fn visit_f64<E>(self, value: f64) -> Result<f64, E> {
                        Ok(value)
                    }
                    fn visit_i64<E>(self, value: i64) -> Result<f64, E> {
                        Ok(value as f64)
                    }
                    fn visit_u64<E>(self, value: u64) -> Result<f64, E> {
                        Ok(value as f64)
                    }
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<f64, E> {
                        match value {
                            "NaN" => Ok(f64::NAN),
                            "Infinity" => Ok(f64::INFINITY),
                            "-Infinity" => Ok(f64::NEG_INFINITY),
                            _ => Err(E::invalid_value(serde::de::Unexpected::Str(value), &self)),
                        }
                    }
                }
                if deserializer.is_human_readable() {
                    deserializer
                        .deserialize_any(Number)
                        .map(|v| Wire(F::from_f64(v)))
                } else {
                    F::deserialize(deserializer).map(Wire)
                }
            }
        }

        fn write_float<F: Float, S: Serializer>(
            value: F,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            let v = value.to_f64();
            if serializer.is_human_readable() && !v.is_finite() {
                serializer.serialize_str(if v.is_nan() {
                    "NaN"
                } else if v > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                })
            } else {
                value.serialize(serializer)
            }
        }

        impl<F: Float> Floats for F {
            type Wire = Wire<F>;
            fn from_wire(wire: Wire<F>) -> Self {
                wire.0
            }
            fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                write_float(*self, serializer)
            }
        }

        impl<T: Floats> Floats for Option<T> {
            type Wire = Option<T::Wire>;
            fn from_wire(wire: Self::Wire) -> Self {
                wire.map(T::from_wire)
            }
            fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    Some(value) => serializer.serialize_some(&Ser(value)),
                    None => serializer.serialize_none(),
                }
            }
        }

        impl<T: Floats> Floats for Vec<T> {
            type Wire = Vec<T::Wire>;
            fn from_wire(wire: Self::Wire) -> Self {
                wire.into_iter().map(T::from_wire).collect()
            }
            fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.len()))?;
                for item in self {
                    seq.serialize_element(&Ser(item))?;
                }
                seq.end()
            }
        }

        impl<T: Floats> Floats for BTreeMap<String, T> {
            type Wire = BTreeMap<String, T::Wire>;
            fn from_wire(wire: Self::Wire) -> Self {
                wire.into_iter()
                    .map(|(k, v)| (k, T::from_wire(v)))
                    .collect()
            }
            fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.len()))?;
                for (key, value) in self {
                    map.serialize_entry(key, &Ser(value))?;
                }
                map.end()
            }
        }

        /// `value`, serialized as awsJson floats.
        #[derive(Debug)]
        pub struct Ser<'a, T>(pub &'a T);

        impl<T: Floats> Serialize for Ser<'_, T> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.write(serializer)
            }
        }

        /// `serialize_with` of a float member.
        pub fn serialize<T: Floats, S: Serializer>(
            value: &T,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            value.write(serializer)
        }

        /// `deserialize_with` of a float member.
        pub fn deserialize<'de, D: Deserializer<'de>, T: Floats>(
            deserializer: D,
        ) -> Result<T, D::Error> {
            T::Wire::deserialize(deserializer).map(T::from_wire)
        }

        /// `deserialize_with` of a float member with a `@default`: as
        /// [`super::null_as_default`].
        pub fn deserialize_or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
        where
            D: Deserializer<'de>,
            T: Floats + Default,
        {
            if deserializer.is_human_readable() {
                Ok(Option::<T::Wire>::deserialize(deserializer)?
                    .map(T::from_wire)
                    .unwrap_or_default())
            } else {
                T::Wire::deserialize(deserializer).map(T::from_wire)
            }
        }
    }

    /// A generated structure's members, serialized: in human-readable formats (JSON)
    /// an absent member is left out, as awsJson wants; the others (bincode, MessagePack)
    /// get every member, absent ones as `None`, because some of them read members by
    /// position and a left-out one would shift the rest.
    pub struct Members<S: serde::Serializer> {
        state: S::SerializeStruct,
        every: bool,
    }

    impl<S: serde::Serializer> std::fmt::Debug for Members<S> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Members")
                .field("every", &self.every)
                .finish_non_exhaustive()
        }
    }

    impl<S: serde::Serializer> Members<S> {
        /// Starts structure `name`, of `always` members that are always written
        /// (required or with a default) and optional ones, present or not as `optional`
        /// says.
        pub fn new(
            serializer: S,
            name: &'static str,
            always: usize,
            optional: &[bool],
        ) -> Result<Self, S::Error> {
            let every = !serializer.is_human_readable();
            let present = optional.iter().filter(|&&p| every || p).count();
            let state = serializer.serialize_struct(name, always + present)?;
            Ok(Self { state, every })
        }

        /// A member that is always written.
        pub fn member<T: serde::Serialize + ?Sized>(
            &mut self,
            key: &'static str,
            value: &T,
        ) -> Result<(), S::Error> {
            serde::ser::SerializeStruct::serialize_field(&mut self.state, key, value)
        }

        /// An optional member: left out when absent, unless every member is written.
        pub fn optional<T: serde::Serialize>(
            &mut self,
            key: &'static str,
            value: &Option<T>,
        ) -> Result<(), S::Error> {
            if self.every || value.is_some() {
                serde::ser::SerializeStruct::serialize_field(&mut self.state, key, value)
            } else {
                serde::ser::SerializeStruct::skip_field(&mut self.state, key)
            }
        }

        /// An optional float member (or list or map of them): as [`Self::optional`],
        /// special floats as awsJson writes them.
        pub fn optional_floats<T: float::Floats>(
            &mut self,
            key: &'static str,
            value: &Option<T>,
        ) -> Result<(), S::Error> {
            if self.every || value.is_some() {
                serde::ser::SerializeStruct::serialize_field(
                    &mut self.state,
                    key,
                    &float::Ser(value),
                )
            } else {
                serde::ser::SerializeStruct::skip_field(&mut self.state, key)
            }
        }

        /// Ends the structure.
        pub fn end(self) -> Result<S::Ok, S::Error> {
            serde::ser::SerializeStruct::end(self.state)
        }
    }
}

/// A `@pattern` checked with regex-lite, for the patterns kms-spec cannot compile at
/// generation time; without the `regex` feature, a compile error naming the pattern.
/// Generated code refers to it; not part of the public API.
#[cfg(feature = "regex")]
#[doc(hidden)]
#[macro_export]
macro_rules! __regex_pattern {
    ($pattern:literal) => {
        $crate::validation::Pattern::Regex(::std::sync::LazyLock::new(|| {
            $crate::__private::regex_lite::Regex::new($pattern)
                .expect("kms-spec checked this pattern when the model loaded")
        }))
    };
}

/// See the `regex` feature's version above.
#[cfg(not(feature = "regex"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __regex_pattern {
    ($pattern:literal) => {
        ::std::compile_error!(::std::concat!(
            "the @pattern `",
            $pattern,
            "` needs regex-lite: enable the `regex` feature of kms-types"
        ))
    };
}
