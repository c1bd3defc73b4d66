//! JSON Schemas (draft 2020-12) of each operation's input and output, straight from the
//! model: what `cargo xtask codegen` writes under `spec/schema/`.
//!
//! A schema describes the wire format the generated serde code reads and writes: member
//! names as written in the model (awsJson ignores `@jsonName`), `@required` members in
//! `required`, the others nullable (the generated deserializers read `null` as absent,
//! and a member with a zero-like `@default` absent as that default). It adds
//! what the model says of valid values: `@pattern`, `@length`, `@range`, enum values,
//! documentation as Markdown (the rustdoc text) and `@deprecated`.
//!
//! Named shapes (structures, unions, enums) go in `$defs` under their shape name and are
//! referenced with `$ref`; so do the two runtime types, `Timestamp` (epoch seconds, within
//! what i64 seconds hold) and `Blob` (base64).

use std::collections::{BTreeMap, BTreeSet};

use kms_spec::traits::EnumValue;
use kms_spec::{Constraints, Member, Model, ServiceView, Shape, ShapeId, ShapeKind};
use serde_json::{Map, Number, Value, json};

use crate::structures::{Presence, deprecation_note, doc_text};
use crate::{Error, Generator};

/// The JSON Schema dialect of every schema.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON Schemas of one operation's input and output.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationSchemas {
    /// The operation's shape name, e.g. `DescribeCustomKeyStores`.
    pub operation: String,
    /// The schema of its input structure.
    pub input: Value,
    /// The schema of its output structure.
    pub output: Value,
}

/// The schemas of every operation of the model's service (its only service), ordered by
/// operation name like the generated `OPERATIONS`.
///
/// A model [`generate`](crate::generate) refuses (an unknown or unsupported trait,
/// `errors` that are not errors, names that collide) is refused here too, with the same
/// error: its schemas would describe types that are never generated.
pub fn operation_schemas(model: &Model) -> Result<Vec<OperationSchemas>, Error> {
    let service = model.service(None)?;
    crate::support::check(&service)?;
    let generator = Generator::new(&service);
    let keys = DefKeys::new(&service).map_err(|e| e.in_model(model, None))?;
    Ok(service
        .operations
        .iter()
        .map(|op| OperationSchemas {
            operation: op.shape.id.name().to_owned(),
            input: Root::new(&generator, &keys, Direction::Input).schema(op.input, op.shape),
            output: Root::new(&generator, &keys, Direction::Output).schema(op.output, op.shape),
        })
        .collect())
}

/// The `$defs` key of every named shape, and of the runtime types.
struct DefKeys {
    shapes: BTreeMap<ShapeId, String>,
    timestamp: String,
    blob: String,
}

impl DefKeys {
    fn new(service: &ServiceView<'_>) -> Result<Self, Error> {
        let mut keys = BTreeMap::new();
        let mut taken: BTreeMap<String, &ShapeId> = BTreeMap::new();
        for shape in service.shapes.iter().filter(|s| is_named(s)) {
            let key = service.name(&shape.id).to_owned();
            if let Some(other) = taken.insert(key.clone(), &shape.id) {
                return Err(Error(format!(
                    "shapes {other} and {} have the same name; JSON Schema `$defs` need distinct names",
                    shape.id
                )));
            }
            keys.insert(shape.id.clone(), key);
        }
        // The runtime types keep their plain names unless the model uses them.
        let runtime = |name: &str| {
            if taken.contains_key(name) {
                format!("smithy.api.{name}")
            } else {
                name.to_owned()
            }
        };
        Ok(Self {
            timestamp: runtime("Timestamp"),
            blob: runtime("Blob"),
            shapes: keys,
        })
    }
}

/// Shapes that get a `$defs` entry of their own.
fn is_named(shape: &Shape) -> bool {
    matches!(
        shape.kind,
        ShapeKind::Structure | ShapeKind::Union | ShapeKind::Enum | ShapeKind::IntEnum
    ) && !is_unit(shape)
}

fn is_unit(shape: &Shape) -> bool {
    shape.id.as_str() == "smithy.api#Unit"
}

/// Which way the documents a schema describes travel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Requests: what the service accepts, enum values as the model defines them.
    Input,
    /// Responses: what clients read, enum values the model does not define (yet) too.
    Output,
}

/// One root schema being built, and the `$defs` it needs.
struct Root<'a, 'm> {
    generator: &'a Generator<'m>,
    model: &'m Model,
    keys: &'a DefKeys,
    direction: Direction,
    defs: BTreeMap<String, Value>,
    /// Definitions started (possibly not finished, for recursive shapes).
    started: BTreeSet<String>,
}

impl<'a, 'm> Root<'a, 'm> {
    fn new(generator: &'a Generator<'m>, keys: &'a DefKeys, direction: Direction) -> Self {
        Self {
            generator,
            model: generator.model,
            keys,
            direction,
            defs: BTreeMap::new(),
            started: BTreeSet::new(),
        }
    }

    /// The root schema of `operation`'s input or output.
    fn schema(mut self, shape: &Shape, operation: &Shape) -> Value {
        let body = if is_unit(shape) {
            object([
                (
                    "description",
                    "The Smithy `Unit` shape: an empty structure, `{}` on the wire.".into(),
                ),
                ("type", "object".into()),
            ])
        } else {
            self.named_body(shape)
        };
        let mut root = Map::new();
        root.insert("$schema".into(), DIALECT.into());
        root.insert("title".into(), self.generator.shape_name(shape).into());
        if let Value::Object(body) = body {
            root.extend(body);
        }
        if shape.traits.documentation().is_none() {
            // The operation's own documentation, rather than the Rust code's pointer to it.
            let role = match self.direction {
                Direction::Input => "input",
                Direction::Output => "output",
            };
            let name = operation.id.name();
            let mut description = format!("The {role} of the `{name}` operation.");
            let docs = doc_text(operation.traits.documentation(), "");
            if !docs.trim().is_empty() {
                description = format!("{description}\n\n{}", docs.trim());
            }
            root.insert("description".into(), description.into());
        }
        if !self.defs.is_empty() {
            root.insert(
                "$defs".into(),
                Value::Object(std::mem::take(&mut self.defs).into_iter().collect()),
            );
        }
        Value::Object(root)
    }

    /// `{"$ref": "#/$defs/<key>"}`, adding the definition on first use.
    fn reference(&mut self, shape: &Shape) -> Value {
        let key = self.keys.shapes.get(&shape.id).cloned().unwrap_or_else(|| {
            // A named shape outside the service closure (a prelude shape): its plain name.
            shape.id.name().to_owned()
        });
        if self.started.insert(key.clone()) {
            let body = self.named_body(shape);
            self.defs.insert(key.clone(), body);
        }
        ref_to(&key)
    }

    /// A runtime type's reference, adding its definition on first use.
    fn runtime_reference(&mut self, key: &str, body: Value) -> Value {
        if self.started.insert(key.to_owned()) {
            self.defs.insert(key.to_owned(), body);
        }
        ref_to(key)
    }

    /// The definition of a structure, union or enum.
    fn named_body(&mut self, shape: &Shape) -> Value {
        match shape.kind {
            ShapeKind::Structure => self.structure(shape),
            ShapeKind::Union => self.union(shape),
            ShapeKind::Enum | ShapeKind::IntEnum => enumeration(shape, self.direction),
            _ => self.value(shape, &Constraints::default()),
        }
    }

    fn structure(&mut self, shape: &Shape) -> Value {
        let mut description = doc_text(
            shape.traits.documentation(),
            &self.generator.structure_fallback_doc(shape),
        );
        let deprecated = shape.traits.deprecated();
        if let Some(note) = deprecation_note(deprecated.clone()) {
            description = format!("{}\n\n{note}", description.trim());
        }
        let mut out = Map::new();
        out.insert("description".into(), description.trim().into());
        out.insert("type".into(), "object".into());
        let mut properties = Map::new();
        let mut required = Vec::new();
        for member in &shape.members {
            if self.is_required(member) {
                required.push(Value::from(member.name.clone()));
            }
            properties.insert(member.name.clone(), self.member(member));
        }
        out.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
        if deprecated.is_some() {
            out.insert("deprecated".into(), true.into());
        }
        Value::Object(out)
    }

    /// Whether `member` must be present: `@required`, except that a `@clientOptional`
    /// one is required of requests only (responses may lack it).
    fn is_required(&self, member: &Member) -> bool {
        match self.direction {
            Direction::Input => self.model.constraints(member).required,
            Direction::Output => matches!(self.generator.presence(member), Presence::Required),
        }
    }

    /// A structure member: its target's schema with the member's constraints, nullable
    /// unless required, with its description and default.
    fn member(&mut self, member: &Member) -> Value {
        let target = self.model.target(member);
        let constraints = self.model.constraints(member);
        let schema = self.value(target, &constraints);
        let mut schema = if self.is_required(member) {
            schema
        } else {
            nullable(schema)
        };
        let mut description = doc_text(
            member
                .traits
                .documentation()
                .or_else(|| target.traits.documentation()),
            &format!("The `{}` member.", member.name),
        );
        let deprecated = member.traits.deprecated();
        if let Some(note) = deprecation_note(deprecated.clone()) {
            description = format!("{}\n\n{note}", description.trim());
        }
        if constraints.sensitive {
            description = format!(
                "{}\n\nSensitive (`@sensitive`): keep it out of logs and messages.",
                description.trim()
            );
        }
        if let Value::Object(out) = &mut schema {
            out.insert("description".into(), description.trim().into());
            if let Some(default) = constraints.default.filter(|d| !d.is_null()) {
                out.insert("default".into(), default);
            }
            if deprecated.is_some() {
                out.insert("deprecated".into(), true.into());
            }
        }
        schema
    }

    /// A union: exactly one member, as a single-member object.
    fn union(&mut self, shape: &Shape) -> Value {
        let description = doc_text(
            shape.traits.documentation(),
            &format!("The `{}` union.", self.generator.shape_name(shape)),
        );
        let variants: Vec<Value> = shape
            .members
            .iter()
            .map(|member| {
                let target = self.model.target(member);
                let value = self.value(target, &self.model.constraints(member));
                let description = doc_text(
                    member.traits.documentation(),
                    &format!("The `{}` member.", member.name),
                );
                object([
                    ("description", description.trim().into()),
                    ("type", "object".into()),
                    ("properties", object([(member.name.as_str(), value)])),
                    ("required", json!([member.name])),
                    ("additionalProperties", false.into()),
                ])
            })
            .collect();
        let mut out = object([("description", description.trim().into())]);
        if let Value::Object(out) = &mut out {
            out.insert("oneOf".into(), Value::Array(variants));
            if shape.traits.deprecated().is_some() {
                out.insert("deprecated".into(), true.into());
            }
        }
        out
    }

    /// The schema of values of `target` under `constraints` (the member's own traits
    /// over its target's).
    fn value(&mut self, target: &Shape, constraints: &Constraints) -> Value {
        let mut out = Map::new();
        match target.kind {
            ShapeKind::String => {
                out.insert("type".into(), "string".into());
                if let Some(length) = &constraints.length {
                    insert_opt(&mut out, "minLength", length.min);
                    insert_opt(&mut out, "maxLength", length.max);
                }
                if let Some(pattern) = &constraints.pattern {
                    out.insert("pattern".into(), pattern.clone().into());
                }
            }
            ShapeKind::Boolean => {
                out.insert("type".into(), "boolean".into());
            }
            ShapeKind::Byte => integer(&mut out, "int8", Some((-128, 127)), constraints),
            ShapeKind::Short => integer(&mut out, "int16", Some((-32768, 32767)), constraints),
            ShapeKind::Integer => integer(&mut out, "int32", None, constraints),
            ShapeKind::Long => integer(&mut out, "int64", None, constraints),
            ShapeKind::BigInteger => integer(&mut out, "int128", None, constraints),
            ShapeKind::Float => float(&mut out, "float", constraints),
            ShapeKind::Double => float(&mut out, "double", constraints),
            ShapeKind::BigDecimal => number(&mut out, "double", constraints),
            ShapeKind::Timestamp => {
                let key = self.keys.timestamp.clone();
                return self.runtime_reference(
                    &key,
                    // What `kms_types::Timestamp` holds: i64 seconds, from -2^63 up to,
                    // not including, 2^63 (the generated code refuses the rest).
                    json!({
                        "description": "Epoch seconds, with a fraction where needed (e.g. 1551129207.775), from -2^63 up to, not including, 2^63.",
                        "type": "number",
                        "minimum": i64::MIN,
                        "exclusiveMaximum": 1_u64 << 63,
                    }),
                );
            }
            ShapeKind::Blob => {
                let key = self.keys.blob.clone();
                let reference = self.runtime_reference(
                    &key,
                    json!({ "type": "string", "contentEncoding": "base64" }),
                );
                let Some(length) = &constraints.length else {
                    return reference;
                };
                // `@length` counts bytes: bound the base64 text, 4 characters per 3 bytes
                // begun (padded); a bound past u64::MAX characters (bytes over about
                // 1.4e19) stays u64::MAX, which no text reaches anyway.
                let Value::Object(mut out) = reference else {
                    unreachable!("a reference is an object")
                };
                let base64 = |bytes: u64| bytes.div_ceil(3).saturating_mul(4);
                insert_opt(&mut out, "minLength", length.min.map(base64));
                insert_opt(&mut out, "maxLength", length.max.map(base64));
                return Value::Object(out);
            }
            // Any JSON value.
            ShapeKind::Document => {}
            ShapeKind::List | ShapeKind::Set => {
                out.insert("type".into(), "array".into());
                if let Some(item) = target.list_member() {
                    let items = self.value(self.model.target(item), &self.model.constraints(item));
                    out.insert("items".into(), items);
                }
                if let Some(length) = &constraints.length {
                    insert_opt(&mut out, "minItems", length.min);
                    insert_opt(&mut out, "maxItems", length.max);
                }
                if target.kind == ShapeKind::Set || target.traits.has("smithy.api#uniqueItems") {
                    out.insert("uniqueItems".into(), true.into());
                }
            }
            ShapeKind::Map => {
                out.insert("type".into(), "object".into());
                if let Some((key, value)) = target.map_members() {
                    let values =
                        self.value(self.model.target(value), &self.model.constraints(value));
                    out.insert("additionalProperties".into(), values);
                    let keys = self.value(self.model.target(key), &self.model.constraints(key));
                    if keys != json!({ "type": "string" }) {
                        out.insert("propertyNames".into(), keys);
                    }
                }
                if let Some(length) = &constraints.length {
                    insert_opt(&mut out, "minProperties", length.min);
                    insert_opt(&mut out, "maxProperties", length.max);
                }
            }
            ShapeKind::Structure if is_unit(target) => {
                out.insert("type".into(), "object".into());
            }
            ShapeKind::Structure | ShapeKind::Union | ShapeKind::Enum | ShapeKind::IntEnum => {
                return self.reference(target);
            }
            // Not data; the generated code holds them as `Unit`.
            ShapeKind::Operation | ShapeKind::Service | ShapeKind::Resource => {
                out.insert("type".into(), "object".into());
            }
        }
        Value::Object(out)
    }
}

/// An `enum` (strings) or `intEnum` (integers): the values the model defines; in a
/// response, any other value too, which clients keep (the service adds values).
fn enumeration(shape: &Shape, direction: Direction) -> Value {
    let (ty, values): (&str, Vec<Value>) = if shape.kind == ShapeKind::IntEnum {
        let values = shape
            .members
            .iter()
            .filter_map(|m| match m.traits.enum_value() {
                Some(EnumValue::Int(v)) => i32::try_from(v).ok().map(Value::from),
                _ => None,
            })
            .collect();
        ("integer", values)
    } else {
        let values = shape
            .members
            .iter()
            .map(|m| match m.traits.enum_value() {
                Some(EnumValue::String(s)) => Value::from(s),
                _ => Value::from(m.name.clone()),
            })
            .collect();
        ("string", values)
    };
    let mut out = Map::new();
    if let Some(docs) = shape.traits.documentation() {
        let text = doc_text(Some(docs), "");
        if !text.trim().is_empty() {
            out.insert("description".into(), text.trim().into());
        }
    }
    out.insert("type".into(), ty.into());
    match direction {
        Direction::Input => {
            out.insert("enum".into(), Value::Array(values));
        }
        Direction::Output => {
            let other = "A value this model does not define (one the service added later): \
                         clients keep it as it is.";
            out.insert(
                "anyOf".into(),
                json!([{ "enum": values }, { "description": other }]),
            );
        }
    }
    if shape.traits.deprecated().is_some() {
        out.insert("deprecated".into(), true.into());
    }
    Value::Object(out)
}

/// An integer type: its `format`, its natural bounds when narrower than JSON's, `@range`.
fn integer(
    out: &mut Map<String, Value>,
    format: &str,
    natural: Option<(i64, i64)>,
    constraints: &Constraints,
) {
    out.insert("type".into(), "integer".into());
    out.insert("format".into(), format.into());
    let range = constraints.range.as_ref();
    let (natural_min, natural_max) = natural.unzip();
    let min = bound(range.and_then(|r| r.min.clone()), natural_min, |b, n| {
        b >= n
    });
    let max = bound(range.and_then(|r| r.max.clone()), natural_max, |b, n| {
        b <= n
    });
    if let Some(min) = min {
        out.insert("minimum".into(), Value::Number(min));
    }
    if let Some(max) = max {
        out.insert("maximum".into(), Value::Number(max));
    }
}

/// The `@range` bound when it is within the type's natural bound, else the natural one.
fn bound(
    range: Option<Number>,
    natural: Option<i64>,
    within: fn(f64, f64) -> bool,
) -> Option<Number> {
    match (range, natural) {
        (Some(r), Some(n)) if !within(r.as_f64().unwrap_or(0.0), n as f64) => Some(n.into()),
        (Some(r), _) => Some(r),
        (None, n) => n.map(Number::from),
    }
}

/// A floating-point type: its `format` and `@range`.
fn number(out: &mut Map<String, Value>, format: &str, constraints: &Constraints) {
    out.insert("type".into(), "number".into());
    out.insert("format".into(), format.into());
    if let Some(range) = &constraints.range {
        if let Some(min) = &range.min {
            out.insert("minimum".into(), Value::Number(min.clone()));
        }
        if let Some(max) = &range.max {
            out.insert("maximum".into(), Value::Number(max.clone()));
        }
    }
}

/// A float: a number, or without an `@range` also the strings awsJson writes for NaN
/// and the infinities (`pattern` only applies to strings).
fn float(out: &mut Map<String, Value>, format: &str, constraints: &Constraints) {
    number(out, format, constraints);
    if constraints.range.is_none() {
        out.insert("type".into(), json!(["number", "string"]));
        out.insert("pattern".into(), "^(NaN|Infinity|-Infinity)$".into());
    }
}

/// `schema`, also accepting `null`.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut out) = schema else {
        return schema;
    };
    if out.is_empty() {
        // Already any value.
        return Value::Object(out);
    }
    match out.get("type") {
        Some(Value::String(ty)) => {
            let ty = json!([ty, "null"]);
            out.insert("type".into(), ty);
            Value::Object(out)
        }
        _ => object([("anyOf", json!([Value::Object(out), { "type": "null" }]))]),
    }
}

fn ref_to(key: &str) -> Value {
    let pointer = key.replace('~', "~0").replace('/', "~1");
    json!({ "$ref": format!("#/$defs/{pointer}") })
}

fn insert_opt(out: &mut Map<String, Value>, key: &str, value: Option<u64>) {
    if let Some(value) = value {
        out.insert(key.into(), value.into());
    }
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}
