//! The awsJson 1.1 protocol pieces shared by server and client: content type, body
//! decoding with typed failures, and error bodies (encoding, decoding, code sanitizing).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

use crate::validation::{Validate, ValidationError};

/// The content type of awsJson 1.1 requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Why a body could not become a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, not an object, or a member of the wrong JSON type: `SerializationException`.
    #[error("{0}")]
    Serialization(String),
    /// A required member is missing: `ValidationException`.
    #[error(transparent)]
    Validation(#[from] ValidationError),
}

impl DecodeError {
    /// The awsJson error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Serialization(_) => "SerializationException",
            Self::Validation(_) => ValidationError::CODE,
        }
    }
}

/// The [`DecodeError::Serialization`] message of a body that is not a JSON object
/// (a request, a response or any other awsJson document).
pub const NOT_AN_OBJECT: &str = "the body must be a JSON object";

/// Decodes an awsJson body. An empty body means `{}`; unknown members are ignored.
/// A missing required member is reported as a validation error at its member path.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(DecodeError::Serialization(NOT_AN_OBJECT.into()));
    }
    // The fast path: plain serde_json. Only a failure pays for a second pass with
    // serde_path_to_error, to say where the fault is.
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(_) => Err(locate::<T>(body)),
    }
}

/// [`decode`], then [`Validate::validate`]: every violation at once, in member order —
/// the missing required members among them, which [`decode`] alone reports one at a
/// time (a value without them cannot be built). What a service answers a request with.
pub fn decode_valid<T: DeserializeOwned + Serialize + Validate>(
    body: &[u8],
) -> Result<T, DecodeError> {
    match decode::<T>(body) {
        Ok(value) => {
            value.validate()?;
            Ok(value)
        }
        Err(DecodeError::Validation(first)) => {
            Err(every_violation::<T>(body).unwrap_or(DecodeError::Validation(first)))
        }
        Err(e) => Err(e),
    }
}

/// Stand-in `tried` (0, 1, ...) for a missing required member, tried in turn until one
/// reads as its type: a string (or enum, or blob), a number (or timestamp), a boolean, a
/// structure or map, a list; then none.
fn stand_in(tried: usize) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match tried {
        0 => Value::String(String::new()),
        1 => Value::from(0),
        2 => Value::Bool(false),
        3 => Value::Object(serde_json::Map::new()),
        4 => Value::Array(Vec::new()),
        _ => return None,
    })
}

/// Bounds the work on a body missing many required members: at most this many
/// stand-ins, and at most [`MAX_BYTES_READ`] bytes read again in all (beyond either,
/// the first missing member is reported alone).
const MAX_STAND_INS: usize = 64;
/// See [`MAX_STAND_INS`].
const MAX_BYTES_READ: usize = 16 << 20;

/// The violations of a body missing required members: each missing member is given a
/// stand-in until the value reads, the value is validated (the stand-ins' own
/// violations left out) and the missing members are reported where member order puts
/// them. Places are matched by their steps into the JSON, and named as the validators
/// name them by walking the value read (which tells a structure's members from a
/// map's keys). `None` when the body cannot be read that way (then the first missing
/// member is reported alone).
fn every_violation<T: DeserializeOwned + Serialize + Validate>(body: &[u8]) -> Option<DecodeError> {
    use serde_json::Value;
    let mut json: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body).ok()?
    };
    // The steps of each member filled in, the stand-in tried, and whether it was
    // missing from the body itself (not from within another stand-in).
    let mut filled: Vec<(Vec<Step>, usize, bool)> = Vec::new();
    let mut bytes_read = 0usize;
    let inside = |filled: &[(Vec<Step>, usize, bool)], steps: &[Step]| {
        filled.iter().any(|(p, _, _)| steps.starts_with(p))
    };
    let value = loop {
        bytes_read = bytes_read.saturating_add(body.len().max(64) + 16 * filled.len());
        if filled.len() > MAX_STAND_INS || bytes_read > MAX_BYTES_READ {
            return None;
        }
        let error = match serde_path_to_error::deserialize::<_, T>(&json) {
            Ok(value) => break value,
            Err(error) => error,
        };
        let steps = steps_of(error.path())?;
        let at = member_path_of(error.path());
        let inner = error.into_inner();
        if let Some(member) = missing_field(&inner.to_string()) {
            let mut at = steps.clone();
            at.push(Step::Key(member.to_owned()));
            let own = !inside(&filled, &at);
            object_at(&mut json, &steps)?.insert(member.to_owned(), stand_in(0)?);
            filled.push((at, 0, own));
            continue;
        }
        // A stand-in of the wrong type: the next one. A value sent of the wrong type:
        // the body cannot be read, whatever else is missing.
        let Some((_, tried, _)) = filled.iter_mut().find(|(p, _, _)| *p == steps) else {
            return Some(DecodeError::Serialization(describe(&at, &inner)));
        };
        *tried += 1;
        let next = stand_in(*tried)?;
        let (Step::Key(key), parent) = steps.split_last()? else {
            return None;
        };
        object_at(&mut json, parent)?.insert(key.clone(), next);
    };
    // Where each place is, as violations name it, in member order.
    let places = places_of(&value)?;
    let path_of = |steps: &[Step]| {
        places
            .iter()
            .find(|(s, _)| s.as_slice() == steps)
            .map(|(_, path)| path.clone())
    };
    let stand_in_paths = filled
        .iter()
        .map(|(steps, _, _)| path_of(steps))
        .collect::<Option<Vec<String>>>()?;
    let in_stand_in = |path: &str| {
        stand_in_paths.iter().any(|p| {
            path == p
                || path
                    .strip_prefix(p.as_str())
                    .is_some_and(|r| r.starts_with('.'))
        })
    };
    let mut violations = crate::validation::Violations::default();
    value.validate_at("", &mut violations);
    let mut all: Vec<_> = violations
        .into_vec()
        .into_iter()
        .filter(|v| !in_stand_in(&v.path))
        .collect();
    for ((_, _, own), path) in filled.iter().zip(&stand_in_paths) {
        if *own {
            all.push(crate::validation::Violation {
                path: path.clone(),
                value: crate::validation::Shown::Null,
                constraint: crate::validation::Constraint::Required,
            });
        }
    }
    // Each place's first position, looked up rather than searched for: a body of many
    // violations would otherwise cost their number times the number of places.
    let mut first_at = std::collections::HashMap::with_capacity(places.len());
    for (i, (_, place)) in places.iter().enumerate() {
        first_at.entry(place.as_str()).or_insert(i);
    }
    let rank = |path: &str| {
        let mut p = path;
        loop {
            if let Some(&i) = first_at.get(p) {
                return i;
            }
            match p.rfind('.') {
                Some(dot) => p = &p[..dot],
                None => return usize::MAX,
            }
        }
    };
    all.sort_by_cached_key(|v| rank(&v.path));
    ValidationError::new(all).map(DecodeError::Validation)
}

/// One step into a JSON document: a member of an object (a structure's member or a
/// map's key), or an item of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The steps of a serde path; `None` for a path through an enum or an unknown place.
fn steps_of(path: &serde_path_to_error::Path) -> Option<Vec<Step>> {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|segment| match segment {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } => Some(Step::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// The object `steps` lead to in `json`.
fn object_at<'v>(
    json: &'v mut serde_json::Value,
    steps: &[Step],
) -> Option<&'v mut serde_json::Map<String, serde_json::Value>> {
    let mut here = json;
    for step in steps {
        here = match step {
            Step::Index(index) => here.get_mut(*index)?,
            Step::Key(key) => here.get_mut(key.as_str())?,
        };
    }
    here.as_object_mut()
}

/// Every place of `value` as its JSON writes it (steps) and as the validators name it
/// (member path: `members.2.member.name`, `attributes.<key>.value`), members in order,
/// a member before what it holds. `None` when the value cannot be written.
fn places_of<T: Serialize>(value: &T) -> Option<Vec<(Vec<Step>, String)>> {
    let mut places = Vec::new();
    value
        .serialize(places::Walker {
            places: &mut places,
            steps: Vec::new(),
            path: String::new(),
        })
        .ok()?;
    Some(places)
}

/// Decodes `body` again, tracking the member path, and turns the failure into a typed error.
fn locate<T: DeserializeOwned>(body: &[u8]) -> DecodeError {
    let mut de = serde_json::Deserializer::from_slice(body);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => match de.end() {
            Ok(()) => return DecodeError::Serialization("invalid JSON body".into()),
            Err(e) => return DecodeError::Serialization(describe("", &e)),
        },
        Err(e) => e,
    };
    let path = member_path_of(error.path());
    let inner = error.into_inner();
    match missing_field(&inner.to_string()) {
        Some(member) => DecodeError::Validation(ValidationError::missing(&path, member)),
        None => DecodeError::Serialization(describe(&path, &inner)),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// serde_json's message, without its line and column nor any value it quotes, and
/// where: `member_path` (empty: the body itself).
fn describe(member_path: &str, error: &serde_json::Error) -> String {
    let message = error.to_string();
    // serde_json ends its message with ` at line L column C` when it knows the place:
    // that suffix exactly is cut, never at the first ` at line ` (a value quoted before
    // it may hold those words, and what precedes them would be kept).
    let message = match error.line() {
        0 => message.as_str(),
        line => message
            .strip_suffix(&format!(" at line {line} column {}", error.column()))
            .unwrap_or(&message),
    };
    let message = crate::validation::without_value(message);
    if member_path.is_empty() {
        message.into_owned()
    } else {
        format!("{message} at '{member_path}'")
    }
}

/// The member path (as validation messages write it) of a serde path:
/// `CustomKeyStores[0].XksProxyConfiguration` →
/// `customKeyStores.1.member.xksProxyConfiguration`. Built from the path's segments,
/// never from its text, which keys holding `.` or `[` would make ambiguous; in time
/// linear in the path's length.
fn member_path_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    // A last segment that is unknown is the member a cut-off body never named: the
    // place is the object holding it.
    let known = path
        .iter()
        .rposition(|s| !matches!(s, Segment::Unknown))
        .map_or(0, |last| last + 1);
    for segment in path.iter().take(known) {
        match segment {
            // As `validation::item_path` writes it, then the item's `member`.
            Segment::Seq { index } => {
                let _ = write!(out, ".{}.member", *index as u128 + 1);
            }
            Segment::Map { key } => crate::validation::push_member(&mut out, key),
            Segment::Enum { variant } => crate::validation::push_member(&mut out, variant),
            Segment::Unknown => crate::validation::push_member(&mut out, "?"),
        }
    }
    out
}

/// The body of an awsJson error: `{"__type": "<ShapeName>", "message": "<text>"}`.
/// Read back, its message is the one [`error_message`] finds (`message`, `Message` or
/// `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// The short shape name of the error.
    #[serde(rename = "__type")]
    pub code: String,
    /// What happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl<'de> Deserialize<'de> for ErrorBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let body = JsonObject::deserialize(deserializer)?;
        let code = match body.get("__type") {
            Some(serde_json::Value::String(code)) => code.clone(),
            Some(_) => return Err(serde::de::Error::custom("`__type` is not a string")),
            None => return Err(serde::de::Error::missing_field("__type")),
        };
        Ok(Self {
            code,
            message: error_message(&body),
        })
    }
}

impl ErrorBody {
    /// An error body with a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: Some(message.into()),
        }
    }

    /// The JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an error body always serializes")
    }
}

/// The awsJson body of a modeled error: `__type` first, then the error's own members.
pub fn error_body<E: Serialize>(code: &str, error: &E) -> Vec<u8> {
    let mut body = b"{\"__type\":".to_vec();
    serde_json::to_writer(&mut body, code).expect("a string always serializes");
    // The members in model order, spliced after `__type`.
    match serde_json::to_vec(error) {
        Ok(members) if members.len() > 2 && members.first() == Some(&b'{') => {
            body.push(b',');
            body.extend_from_slice(&members[1..]);
        }
        _ => body.push(b'}'),
    }
    body
}

/// An error response's code, message and request id, as the SDKs read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorParts {
    /// The sanitized error code (`CustomKeyStoreNotFoundException`).
    pub code: Option<String>,
    /// The message.
    pub message: Option<String>,
}

/// A JSON object, as error bodies are read.
type JsonObject = serde_json::Map<String, serde_json::Value>;

/// The members an error's message may be sent in, in the order they are looked up.
pub const MESSAGE_MEMBERS: [&str; 3] = ["message", "Message", "errorMessage"];

/// The message of an error body, as the SDKs read it: the first of `message`, `Message`
/// and `errorMessage` ([`MESSAGE_MEMBERS`]) that holds a string. This one rule serves
/// [`parse_error`], [`ErrorBody`] and the generated errors' `from_wire`
/// ([`decode_error`]).
pub fn error_message(body: &JsonObject) -> Option<String> {
    MESSAGE_MEMBERS
        .iter()
        .find_map(|name| body.get(*name)?.as_str().map(str::to_owned))
}

/// Reads an error response: code from the `X-Amzn-ErrorType` header first, else the
/// body's `code`, else its `__type`, sanitized; message by [`error_message`].
pub fn parse_error(error_type_header: Option<&str>, body: &[u8]) -> ErrorParts {
    let json: Option<JsonObject> = serde_json::from_slice(body).ok();
    let field = |names: &[&str]| {
        let json = json.as_ref()?;
        names
            .iter()
            .find_map(|n| json.get(*n).and_then(|v| v.as_str()).map(str::to_owned))
    };
    let code = error_type_header
        .filter(|h| !h.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| field(&["code", "__type"]))
        .map(|raw| sanitize_error_code(&raw).to_owned())
        .filter(|c| !c.is_empty());
    ErrorParts {
        code,
        message: json.as_ref().and_then(error_message),
    }
}

/// Builds a modeled error from its body, for the generated `from_wire`. The code is
/// already known, so what cannot be read does not lose the error:
///
/// - The message is the one [`error_message`] finds, set as the member `message_member`
///   (the error's `message` or `Message`; `None` when it has none) whichever of
///   [`MESSAGE_MEMBERS`] the body gave it under; the other names are not read as members.
/// - A body that is not a JSON object is read as `{}`; a name given twice keeps its
///   last value.
/// - Each other member is read as serde reads it, and each one that fails (a wrong
///   type, a bad nested value) is left out on its own: the members that read are kept.
/// - `None` when a required member is absent or left out as unreadable — the message
///   member too, when it is required and the body holds no message string.
pub fn decode_error<T: DeserializeOwned>(body: &[u8], message_member: Option<&str>) -> Option<T> {
    let mut members: JsonObject = serde_json::from_slice(body).unwrap_or_default();
    let message = error_message(&members);
    members.retain(|name, _| !MESSAGE_MEMBERS.contains(&name.as_str()));
    if let (Some(name), Some(message)) = (message_member, message) {
        members.insert(name.to_owned(), message.into());
    }
    let mut body = serde_json::Value::Object(members);
    // Each failure names the member it is in (its path's first segment), which is
    // dropped before the next try: at most one try per member, and one more.
    loop {
        let failed = match serde_path_to_error::deserialize::<_, T>(&body) {
            Ok(error) => return Some(error),
            Err(e) => match e.path().iter().next() {
                Some(serde_path_to_error::Segment::Map { key }) => key.clone(),
                // No member to blame: a required one is missing.
                _ => return None,
            },
        };
        body.as_object_mut()?.remove(&failed)?;
    }
}

/// Sanitizes an error code as the SDKs do: cut at the first `:`, then keep what follows
/// the last `#` (`aws.protocoltests#FooError:http://...` → `FooError`).
pub fn sanitize_error_code(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw).trim()
}

/// A `Serializer` that writes nothing: it records where each place of a value is (see
/// [`places_of`]). The generated `Serialize` impls tell a structure (members) from a
/// map (keys), which the JSON alone does not.
mod places {
    use serde::ser::{self, Serialize};

    use super::Step;
    use crate::validation::{item_path, member_path};

    /// Why a value could not be walked (a member that is never written).
    #[derive(Debug)]
    pub(super) struct Unwritable;

    impl std::fmt::Display for Unwritable {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the value cannot be written")
        }
    }

    impl std::error::Error for Unwritable {}

    impl ser::Error for Unwritable {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Unwritable
        }
    }

    pub(super) struct Walker<'p> {
        pub(super) places: &'p mut Vec<(Vec<Step>, String)>,
        pub(super) steps: Vec<Step>,
        pub(super) path: String,
    }

    impl<'p> Walker<'p> {
        /// Records the place `step` under this one, named `path`, and walks `value` there.
        fn enter<T: Serialize + ?Sized>(
            &mut self,
            step: Step,
            path: String,
            value: &T,
        ) -> Result<(), Unwritable> {
            let mut steps = self.steps.clone();
            steps.push(step);
            self.places.push((steps.clone(), path.clone()));
            value.serialize(Walker {
                places: self.places,
                steps,
                path,
            })
        }
    }

    /// A list, structure or map being walked.
    pub(super) struct Compound<'p> {
        walker: Walker<'p>,
        index: usize,
        key: Option<String>,
    }

    impl<'p> Compound<'p> {
        fn new(walker: Walker<'p>) -> Self {
            Self {
                walker,
                index: 0,
                key: None,
            }
        }

        fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unwritable> {
            let path = member_path(&item_path(&self.walker.path, self.index), "member");
            let step = Step::Index(self.index);
            self.index += 1;
            self.walker.enter(step, path, value)
        }

        fn member<T: Serialize + ?Sized>(
            &mut self,
            name: &str,
            value: &T,
        ) -> Result<(), Unwritable> {
            let path = member_path(&self.walker.path, name);
            self.walker.enter(Step::Key(name.to_owned()), path, value)
        }
    }

    macro_rules! leaves {
        ($($method:ident($($ty:ty)?)),* $(,)?) => {
            $(fn $method(self $(, _: $ty)?) -> Result<(), Unwritable> { Ok(()) })*
        };
    }

    impl<'p> ser::Serializer for Walker<'p> {
        type Ok = ();
        type Error = Unwritable;
        type SerializeSeq = Compound<'p>;
        type SerializeTuple = ser::Impossible<(), Unwritable>;
        type SerializeTupleStruct = ser::Impossible<(), Unwritable>;
        type SerializeTupleVariant = ser::Impossible<(), Unwritable>;
        type SerializeMap = Compound<'p>;
        type SerializeStruct = Compound<'p>;
        type SerializeStructVariant = ser::Impossible<(), Unwritable>;

        leaves!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_i128(i128),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_u128(u128),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_str(&str),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit(),
        );

        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unwritable> {
            value.serialize(self)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unwritable> {
            Ok(())
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
        ) -> Result<(), Unwritable> {
            Ok(())
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<(), Unwritable> {
            value.serialize(self)
        }
        /// A union's member: `{"Member": value}`.
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            mut self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            value: &T,
        ) -> Result<(), Unwritable> {
            let path = member_path(&self.path, variant);
            self.enter(Step::Key(variant.to_owned()), path, value)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'p>, Unwritable> {
            Ok(Compound::new(self))
        }
        // Generated types hold no tuples.
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unwritable> {
            Err(Unwritable)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Unwritable> {
            Err(Unwritable)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Unwritable> {
            Err(Unwritable)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Compound<'p>, Unwritable> {
            Ok(Compound::new(self))
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'p>, Unwritable> {
            Ok(Compound::new(self))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Unwritable> {
            Err(Unwritable)
        }
    }

    impl ser::SerializeSeq for Compound<'_> {
        type Ok = ();
        type Error = Unwritable;
        fn serialize_element<T: Serialize + ?Sized>(
            &mut self,
            value: &T,
        ) -> Result<(), Unwritable> {
            self.item(value)
        }
        fn end(self) -> Result<(), Unwritable> {
            Ok(())
        }
    }

    /// A map's entries: `<path>.<key>.value`, the key as it is.
    impl ser::SerializeMap for Compound<'_> {
        type Ok = ();
        type Error = Unwritable;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unwritable> {
            // The keys of generated maps are strings.
            let key = serde_json::to_value(key).map_err(|_| Unwritable)?;
            self.key = Some(key.as_str().ok_or(Unwritable)?.to_owned());
            Ok(())
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unwritable> {
            let key = self.key.take().ok_or(Unwritable)?;
            let path = member_path(&format!("{}.{key}", self.walker.path), "value");
            self.walker.enter(Step::Key(key), path, value)
        }
        fn end(self) -> Result<(), Unwritable> {
            Ok(())
        }
    }

    impl ser::SerializeStruct for Compound<'_> {
        type Ok = ();
        type Error = Unwritable;
        fn serialize_field<T: Serialize + ?Sized>(
            &mut self,
            name: &'static str,
            value: &T,
        ) -> Result<(), Unwritable> {
            self.member(name, value)
        }
        fn end(self) -> Result<(), Unwritable> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_put_the_code_first_and_keep_model_order() {
        #[derive(Serialize)]
        struct Modeled {
            message: &'static str,
            #[serde(rename = "Alpha")]
            alpha: u32,
        }
        #[derive(Serialize)]
        struct Empty {}
        let body = error_body(
            "X",
            &Modeled {
                message: "m \"q\"",
                alpha: 1,
            },
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"__type":"X","message":"m \"q\"","Alpha":1}"#
        );
        assert_eq!(error_body("Y\"", &Empty {}), br#"{"__type":"Y\""}"#);
        assert_eq!(error_body("Z", &()), br#"{"__type":"Z"}"#);
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        #[serde(rename = "UriPath")]
        uri_path: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        #[serde(rename = "Limit")]
        limit: Option<i32>,
        #[serde(rename = "Items", default)]
        items: Vec<Inner>,
    }

    #[test]
    fn empty_body_is_an_empty_object() {
        assert_eq!(
            decode::<Outer>(b"").unwrap(),
            Outer {
                limit: None,
                items: vec![]
            }
        );
        assert_eq!(decode::<Outer>(b"{\"Unknown\": 1}").unwrap().limit, None);
    }

    #[test]
    fn serialization_errors() {
        for body in [
            &b"nope"[..],
            b"[]",
            b"\"x\"",
            b"{\"Limit\": \"ten\"}",
            b"{\"Limit\": 1} trailing",
        ] {
            let err = decode::<Outer>(body).unwrap_err();
            assert_eq!(err.code(), "SerializationException", "{body:?}: {err}");
        }
        // The same words for a request, a response or a data file: not "request".
        for body in [&b"[]"[..], b"  \"x\"", b"nope"] {
            let err = decode::<Outer>(body).unwrap_err();
            assert_eq!(err, DecodeError::Serialization(NOT_AN_OBJECT.into()));
        }
        let err = decode::<Outer>(b"{\"Limit\": \"ten\"}").unwrap_err();
        assert!(err.to_string().contains("at 'limit'"), "{err}");
    }

    /// A value of the wrong type is not quoted back: it may be a secret (an
    /// `@sensitive` member sent as a number), and the message reaches responses and logs.
    #[test]
    fn serialization_errors_do_not_quote_the_value() {
        let err = decode::<Outer>(b"{\"Limit\": \"s3cr3t-value\"}").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Serialization("invalid type: string, expected i32 at 'limit'".into())
        );
        let err = decode::<Outer>(b"{\"Items\": [{\"UriPath\": 8675309}]}").unwrap_err();
        assert_eq!(
            err,
            DecodeError::Serialization(
                "invalid type: integer, expected a string at 'items.1.member.uriPath'".into()
            )
        );
    }

    /// A value of the wrong type holding serde_json's own words (` at line `,
    /// `, expected `) is not quoted back in part either.
    #[test]
    fn values_holding_the_messages_words_are_not_quoted() {
        for value in [
            "s3cr3t at line 1 column 2",
            "x, expected s3cr3t",
            "x at line 3, expected s3cr3t at line 4 column 5",
        ] {
            let body = serde_json::json!({ "Limit": value }).to_string();
            let err = decode::<Outer>(body.as_bytes()).unwrap_err();
            assert_eq!(
                err,
                DecodeError::Serialization("invalid type: string, expected i32 at 'limit'".into()),
                "{value}"
            );
        }
    }

    #[test]
    fn missing_required_member_is_a_validation_error_at_its_path() {
        let err = decode::<Outer>(b"{\"Items\": [{\"UriPath\": \"/a\"}, {}]}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 validation error detected: Value null at 'items.2.member.uriPath' failed to satisfy constraint: Member must not be null"
        );
    }

    /// A body cut off where a member's name should come says where, without the `?`
    /// serde_path_to_error puts for the member it never read.
    #[test]
    fn a_body_cut_off_before_a_member_name_says_where() {
        for (body, expected) in [
            (&b"{\"Limit\": 1"[..], "EOF while parsing an object"),
            (b"{\"Limit\": 1,", "EOF while parsing a value"),
            (
                b"{\"Items\": [{\"UriPath\": \"/a\"",
                "EOF while parsing an object at 'items.1.member'",
            ),
        ] {
            let err = decode::<Outer>(body).unwrap_err();
            assert_eq!(err, DecodeError::Serialization(expected.into()), "{body:?}");
        }
    }

    /// A key holding `.` or `[` is one member of the path, not several: the path is
    /// built from serde's segments, never from their text, which made a key of many
    /// `[]` cost quadratic time and an index past `usize::MAX` overflow.
    #[test]
    fn keys_with_dots_and_brackets_are_one_member_of_the_path() {
        let err =
            decode::<Outer>(br#"{"Items": [{"UriPath": "/a"}, {"A.b[18446744073709551615]": x}]}"#)
                .unwrap_err();
        assert_eq!(
            err,
            DecodeError::Serialization(
                "expected value at 'items.2.member.a.b[18446744073709551615]'".into()
            )
        );
        let key = "[]".repeat(20_000);
        let err = decode::<Outer>(format!(r#"{{"{key}": x}}"#).as_bytes()).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Serialization(format!("expected value at '{key}'"))
        );
        // A position past usize::MAX, as `item_path` writes it.
        assert_eq!(
            crate::validation::item_path("items", usize::MAX),
            "items.18446744073709551616"
        );
    }

    #[test]
    fn sanitizes_codes() {
        assert_eq!(
            sanitize_error_code("aws.protocoltests#FooError:http://internal.amazon.com/"),
            "FooError"
        );
        assert_eq!(sanitize_error_code("FooError"), "FooError");
        assert_eq!(
            sanitize_error_code("com.amazonaws.kms#InvalidMarkerException"),
            "InvalidMarkerException"
        );
    }

    #[test]
    fn parses_error_parts_header_first() {
        let body = br#"{"__type":"com.amazonaws.kms#KMSInternalException","message":"boom"}"#;
        let parts = parse_error(None, body);
        assert_eq!(parts.code.as_deref(), Some("KMSInternalException"));
        assert_eq!(parts.message.as_deref(), Some("boom"));
        let parts = parse_error(
            Some("ThrottlingException:http://x"),
            br#"{"code":"Other","Message":"slow"}"#,
        );
        assert_eq!(parts.code.as_deref(), Some("ThrottlingException"));
        assert_eq!(parts.message.as_deref(), Some("slow"));
        let parts = parse_error(None, br#"{"code":"A#B","errorMessage":"m"}"#);
        assert_eq!(
            (parts.code.as_deref(), parts.message.as_deref()),
            (Some("B"), Some("m"))
        );
        assert_eq!(parse_error(None, b"<html>"), ErrorParts::default());
    }

    /// A modeled error's other members are read too; each one that cannot be read is
    /// left out on its own, the others kept; a required member missing (or unreadable)
    /// is the only failure.
    #[test]
    fn decode_error_keeps_what_it_can_read() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Broken {
            #[serde(rename = "Message")]
            message: Option<String>,
            #[serde(rename = "Reason")]
            reason: Option<String>,
        }
        #[derive(Debug, Deserialize, PartialEq)]
        struct Strict {
            #[serde(rename = "Needed")]
            needed: u32,
        }
        let broken = |message: Option<&str>, reason: Option<&str>| Broken {
            message: message.map(str::to_owned),
            reason: reason.map(str::to_owned),
        };
        assert_eq!(
            decode_error::<Broken>(
                br#"{"errorMessage":"down","Reason":"disk"}"#,
                Some("Message")
            ),
            Some(broken(Some("down"), Some("disk")))
        );
        assert_eq!(
            decode_error::<Broken>(br#"{"message":"down","Reason":7}"#, Some("Message")),
            Some(broken(Some("down"), None))
        );
        assert_eq!(
            decode_error::<Broken>(b"", Some("Message")),
            Some(broken(None, None))
        );
        assert_eq!(
            decode_error::<Strict>(br#"{"Needed":3,"message":"m"}"#, None),
            Some(Strict { needed: 3 })
        );
        assert_eq!(decode_error::<Strict>(br#"{"message":"m"}"#, None), None);
        assert_eq!(decode_error::<Strict>(br#"{"Needed":"3"}"#, None), None);
    }

    /// One bad member among good ones costs only itself, wherever its fault lies.
    #[test]
    fn decode_error_drops_only_the_members_that_fail() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Detail {
            #[serde(rename = "Code")]
            code: u32,
        }
        #[derive(Debug, Deserialize, PartialEq)]
        struct Rich {
            #[serde(rename = "message")]
            message: Option<String>,
            #[serde(rename = "Reason")]
            reason: Option<String>,
            #[serde(rename = "Count")]
            count: Option<u32>,
            #[serde(rename = "Detail")]
            detail: Option<Detail>,
            #[serde(rename = "Tags", default)]
            tags: Vec<String>,
        }
        let rich = decode_error::<Rich>(
            br#"{"Message":"m","Reason":"disk","Count":"x","Detail":{"Code":2},"Tags":["a"]}"#,
            Some("message"),
        );
        assert_eq!(
            rich,
            Some(Rich {
                message: Some("m".into()),
                reason: Some("disk".into()),
                count: None,
                detail: Some(Detail { code: 2 }),
                tags: vec!["a".into()],
            })
        );
        // Several bad members, one nested deep: each dropped, the rest kept.
        let rich = decode_error::<Rich>(
            br#"{"Reason":"disk","Count":-1,"Detail":{"Code":"two"},"Tags":["a",3]}"#,
            Some("message"),
        );
        assert_eq!(
            rich,
            Some(Rich {
                message: None,
                reason: Some("disk".into()),
                count: None,
                detail: None,
                tags: vec![],
            })
        );
    }

    /// A required message member is satisfied by a message under any of its names, and
    /// missing when the body has none (or none that is a string).
    #[test]
    fn decode_error_with_a_required_message() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Required {
            #[serde(rename = "Message")]
            message: String,
            #[serde(rename = "Reason")]
            reason: Option<String>,
        }
        let required = |reason: Option<&str>| Required {
            message: "m".into(),
            reason: reason.map(str::to_owned),
        };
        assert_eq!(
            decode_error::<Required>(br#"{"errorMessage":"m","Reason":"r"}"#, Some("Message")),
            Some(required(Some("r")))
        );
        assert_eq!(
            decode_error::<Required>(br#"{"message":"m","Reason":1}"#, Some("Message")),
            Some(required(None))
        );
        assert_eq!(
            decode_error::<Required>(br#"{"Reason":"r"}"#, Some("Message")),
            None
        );
        assert_eq!(
            decode_error::<Required>(br#"{"Message":5,"Reason":"r"}"#, Some("Message")),
            None
        );
    }

    #[test]
    fn error_body_shape() {
        assert_eq!(
            String::from_utf8(ErrorBody::new("InvalidMarkerException", "bad").to_vec()).unwrap(),
            r#"{"__type":"InvalidMarkerException","message":"bad"}"#
        );
    }
}
