//! Reading a JSON AST file into a [`Model`] and checking it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::error::{Fault, LoadError};
use crate::shape::{Member, Shape, ShapeId, ShapeKind};
use crate::traits::{EnumValue, Paginated, Traits};
use crate::{Model, pattern};

impl Model {
    /// Reads and checks the model at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Model, LoadError> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| LoadError {
            source: source.clone(),
            shape: None,
            fault: Box::new(Fault::Io(e.to_string())),
        })?;
        Model::from_json_str(&text, &source)
    }

    /// Parses and checks a model; `source` names it in errors.
    pub fn from_json_str(text: &str, source: &str) -> Result<Model, LoadError> {
        let fail = |shape: Option<&str>, fault: Fault| LoadError {
            source: source.to_owned(),
            shape: shape.map(str::to_owned),
            fault: Box::new(fault),
        };
        let root: Value =
            serde_json::from_str(text).map_err(|e| fail(None, Fault::Json(e.to_string())))?;
        let root = root.as_object().ok_or_else(|| {
            fail(
                None,
                Fault::NotAModel("the top level is not an object".into()),
            )
        })?;
        check_keys("", root, &["smithy", "metadata", "shapes"])
            .map_err(|fault| fail(None, fault))?;
        let version = root.get("smithy").and_then(Value::as_str).ok_or_else(|| {
            fail(
                None,
                Fault::NotAModel("missing the `smithy` version string".into()),
            )
        })?;
        if !matches!(version, "2" | "2.0") {
            return Err(fail(None, Fault::UnsupportedVersion(version.to_owned())));
        }
        let empty = Map::new();
        let shapes_json = match root.get("shapes") {
            None => &empty,
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(fail(
                    None,
                    Fault::NotAModel("`shapes` is not an object".into()),
                ));
            }
        };
        let mut shapes = BTreeMap::new();
        for (id, json) in shapes_json {
            let shape = parse_shape(id, json).map_err(|fault| fail(Some(id), fault))?;
            shapes.insert(shape.id.clone(), shape);
        }
        let model = Model {
            source: source.to_owned(),
            version: version.to_owned(),
            metadata: root
                .get("metadata")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
            shapes,
        };
        for shape in model.shapes.values() {
            model
                .check_shape(shape)
                .map_err(|fault| fail(Some(shape.id.as_str()), fault))?;
        }
        let mut nesting = BTreeMap::new();
        for shape in model.shapes.values() {
            model
                .collection_nesting(shape, &mut Vec::new(), &mut nesting)
                .map_err(|fault| fail(Some(shape.id.as_str()), fault))?;
        }
        Ok(model)
    }

    fn check_shape(&self, shape: &Shape) -> Result<(), Fault> {
        if shape.id.is_prelude() {
            return Err(Fault::Malformed(format!(
                "shapes cannot be defined in the prelude namespace `{}`: the prelude's own \
                 shapes are built in and others are not generated; move `{}` to the \
                 model's namespace",
                crate::PRELUDE_NAMESPACE,
                shape.id
            )));
        }
        if !is_identifier(shape.id.name()) {
            return Err(Fault::Malformed(format!(
                "shape name `{}` is not a Smithy identifier (letters, digits and `_`, \
                 beginning with a letter or with `_`s then a letter): rename the shape",
                shape.id.name().escape_debug()
            )));
        }
        if shape.kind == ShapeKind::Union && shape.members.is_empty() {
            return Err(Fault::Malformed(
                "a union has at least one member: add one, or use a structure".into(),
            ));
        }
        let resolve = |place: String, target: &ShapeId| {
            if self.shape(target).is_some() {
                Ok(())
            } else {
                Err(Fault::UnresolvedTarget {
                    place,
                    target: target.to_string(),
                })
            }
        };
        for member in &shape.members {
            if !is_identifier(&member.name) {
                return Err(Fault::Malformed(format!(
                    "member name `{}` is not a Smithy identifier (letters, digits and `_`, \
                     beginning with a letter or with `_`s then a letter)",
                    member.name.escape_debug()
                )));
            }
            resolve(format!("member `{}`", member.name), &member.target)?;
            let target = self.shape(&member.target).expect("resolved above");
            check_trait_values(
                &format!("member `{}`: ", member.name),
                &member.traits,
                target,
            )?;
            check_constraints(&format!("member `{}`: ", member.name), &member.traits)?;
            let what = match target.kind {
                ShapeKind::Operation => Some("an operation"),
                ShapeKind::Service => Some("a service"),
                ShapeKind::Resource => Some("a resource"),
                _ => None,
            };
            if let Some(what) = what {
                return Err(Fault::Malformed(format!(
                    "member `{}` targets `{}`, {what}: a member holds data",
                    member.name, target.id
                )));
            }
            check_integer_range(
                &format!("member `{}`: ", member.name),
                &member.traits,
                target,
            )?;
        }
        check_trait_values("", &shape.traits, shape)?;
        check_integer_range("", &shape.traits, shape)?;
        for (role, target) in [("input", &shape.input), ("output", &shape.output)] {
            if let Some(target) = target {
                resolve(role.to_owned(), target)?;
                let kind = self.shape(target).expect("resolved above").kind;
                if kind != ShapeKind::Structure {
                    return Err(Fault::Malformed(format!(
                        "the {role} `{target}` is not a structure (its type is {}): an \
                         operation's {role} is a structure",
                        format!("{kind:?}").to_lowercase()
                    )));
                }
            }
        }
        for target in &shape.errors {
            resolve("error".to_owned(), target)?;
        }
        for target in shape.operations.iter().chain(&shape.resources) {
            resolve("binding".to_owned(), target)?;
        }
        check_constraints("", &shape.traits)?;
        if matches!(shape.kind, ShapeKind::Enum | ShapeKind::IntEnum) {
            let mut values: BTreeMap<String, &str> = BTreeMap::new();
            for member in &shape.members {
                check_enum_value(shape, member)?;
                let value = match member.traits.enum_value() {
                    Some(EnumValue::String(s)) => s,
                    Some(EnumValue::Int(i)) => i.to_string(),
                    None => member.name.clone(),
                };
                if let Some(first) = values.insert(value.clone(), &member.name) {
                    return Err(Fault::DuplicateEnumValue {
                        first: first.to_owned(),
                        second: member.name.clone(),
                        value,
                    });
                }
            }
        }
        if shape.kind == ShapeKind::Operation
            && let Some(paginated) = self.paginated(shape)
        {
            self.check_paginated(shape, &paginated)?;
        }
        if let Some(rules) = shape.traits.endpoint_rule_set() {
            rules.map_err(|reason| Fault::BadEndpointRules {
                trait_name: crate::endpoint_rules::ENDPOINT_RULE_SET,
                reason,
            })?;
        }
        if let Some(tests) = shape.traits.endpoint_tests() {
            tests.map_err(|reason| Fault::BadEndpointRules {
                trait_name: crate::endpoint_rules::ENDPOINT_TESTS,
                reason,
            })?;
        }
        Ok(())
    }

    /// How many lists and maps deep the values of `shape` nest through members that
    /// target lists and maps (0 when `shape` is neither; a structure or union is a type
    /// of its own and ends the count). `path` holds the lists and maps being walked,
    /// `done` the depth of those already counted. A cycle (a list that holds itself
    /// through lists and maps only) and nesting deeper than [`MAX_COLLECTION_NESTING`]
    /// are faults: the first has no finite value nor Rust type, the second gives types
    /// rustc gives up on (E0275 from 48 levels) and a stack overflow in the generator.
    ///
    /// [`MAX_COLLECTION_NESTING`]: crate::MAX_COLLECTION_NESTING
    fn collection_nesting(
        &self,
        shape: &Shape,
        path: &mut Vec<ShapeId>,
        done: &mut BTreeMap<ShapeId, usize>,
    ) -> Result<usize, Fault> {
        if !matches!(
            shape.kind,
            ShapeKind::List | ShapeKind::Set | ShapeKind::Map
        ) {
            return Ok(0);
        }
        if let Some(&depth) = done.get(&shape.id) {
            return Ok(depth);
        }
        let chain = |ids: &[ShapeId], last: &ShapeId| {
            ids.iter()
                .chain([last])
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(" -> ")
        };
        if let Some(start) = path.iter().position(|id| *id == shape.id) {
            return Err(Fault::Malformed(format!(
                "`{}` holds itself through lists and maps only ({}): such a value never \
                 ends; Smithy allows recursion only through a structure or union, so put \
                 one in the cycle",
                shape.id,
                chain(&path[start..], &shape.id)
            )));
        }
        let too_deep = || {
            Fault::Malformed(format!(
                "lists and maps nest more than {} levels deep (a list or map whose member \
                 targets a list or map is one level more): the generated types would not \
                 compile; wrap an inner level in a structure",
                crate::MAX_COLLECTION_NESTING
            ))
        };
        if path.len() >= crate::MAX_COLLECTION_NESTING {
            return Err(too_deep());
        }
        path.push(shape.id.clone());
        let mut inner = 0;
        for member in &shape.members {
            let target = self.shape(&member.target).expect("targets are resolved");
            inner = inner.max(self.collection_nesting(target, path, done)?);
        }
        path.pop();
        let depth = inner + 1;
        if path.len() + depth > crate::MAX_COLLECTION_NESTING {
            return Err(too_deep());
        }
        done.insert(shape.id.clone(), depth);
        Ok(depth)
    }

    /// The operation's `@paginated`, completed from the service's when the service has one.
    pub(crate) fn paginated(&self, operation: &Shape) -> Option<Paginated> {
        let own = operation.traits.paginated()?;
        let service_defaults = self
            .services()
            .filter(|s| s.operations.contains(&operation.id))
            .find_map(|s| s.traits.paginated());
        Some(match service_defaults {
            Some(defaults) => own.merged_over(&defaults),
            None => own,
        })
    }

    fn check_paginated(&self, operation: &Shape, paginated: &Paginated) -> Result<(), Fault> {
        let input = operation.input.as_ref().and_then(|id| self.shape(id));
        let output = operation.output.as_ref().and_then(|id| self.shape(id));
        let checks = [
            ("inputToken", &paginated.input_token, input),
            ("pageSize", &paginated.page_size, input),
            ("outputToken", &paginated.output_token, output),
            ("items", &paginated.items, output),
        ];
        for (role, member, container) in checks {
            let Some(member) = member else { continue };
            let found = container.is_some_and(|c| self.member_path(c, member).is_some());
            if !found {
                return Err(Fault::PaginatedMemberMissing {
                    role,
                    member: member.clone(),
                    shape: container
                        .map_or_else(|| "smithy.api#Unit".to_owned(), |c| c.id.to_string()),
                });
            }
        }
        Ok(())
    }

    /// Follows a dotted member path (`a.b.c`) from `shape`.
    pub fn member_path<'a>(&'a self, shape: &'a Shape, path: &str) -> Option<&'a Member> {
        let mut current = shape;
        let mut found = None;
        for part in path.split('.') {
            let member = current.member(part)?;
            current = self.shape(&member.target)?;
            found = Some(member);
        }
        found
    }
}

/// A Smithy identifier: `_`s then a letter, then letters, digits and `_`.
fn is_identifier(name: &str) -> bool {
    let rest = name.trim_start_matches('_');
    rest.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Refuses `@length`, `@range` and `@default` values that do not fit `target`, the
/// shape they constrain: a bound that is not a number (`-1` or `1.5` for a length, a
/// string for a range), `@length` on a number or `@range` on a string were silently
/// ignored, and a default of another type than its shape's made wrong code and schemas.
fn check_trait_values(place: &str, traits: &Traits, target: &Shape) -> Result<(), Fault> {
    check_trait_types(place, traits)?;
    let on = || {
        format!(
            "`{}` (its type is {})",
            target.id,
            format!("{:?}", target.kind).to_lowercase()
        )
    };
    let numeric = target.kind.is_number() || target.kind == ShapeKind::IntEnum;
    let sized = matches!(
        target.kind,
        ShapeKind::String
            | ShapeKind::Enum
            | ShapeKind::Blob
            | ShapeKind::List
            | ShapeKind::Set
            | ShapeKind::Map
    );
    if let Some(length) = traits.get(crate::traits::LENGTH) {
        if !sized {
            return Err(Fault::Malformed(format!(
                "{place}@length applies to strings, blobs, lists and maps, not to {}: \
                 remove it{}",
                on(),
                if numeric { ", or use @range" } else { "" }
            )));
        }
        check_bounds(place, "length", length, "a whole number from 0", |bound| {
            bound.as_u64().is_some()
        })?;
    }
    if let Some(range) = traits.get(crate::traits::RANGE) {
        if !numeric {
            return Err(Fault::Malformed(format!(
                "{place}@range applies to numbers, not to {}: remove it{}",
                on(),
                if sized { ", or use @length" } else { "" }
            )));
        }
        check_bounds(place, "range", range, "a number", Value::is_number)?;
    }
    if let Some(default) = traits.default_value() {
        let whole = |v: &Value| {
            v.as_i64().is_some()
                || v.as_u64().is_some()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        };
        let (expected, fits) = match target.kind {
            // `@default(null)` on a member: no default.
            _ if default.is_null() => ("", true),
            ShapeKind::Document => ("", true),
            ShapeKind::String | ShapeKind::Enum | ShapeKind::Blob => {
                ("a string", default.is_string())
            }
            ShapeKind::Boolean => ("`true` or `false`", default.is_boolean()),
            ShapeKind::Byte
            | ShapeKind::Short
            | ShapeKind::Integer
            | ShapeKind::Long
            | ShapeKind::BigInteger
            | ShapeKind::IntEnum => ("a whole number", whole(default)),
            ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal => {
                ("a number", default.is_number())
            }
            ShapeKind::Timestamp => (
                "a number or a date-time string",
                default.is_number() || default.is_string(),
            ),
            ShapeKind::List | ShapeKind::Set => (
                "the empty list `[]`",
                default.as_array().is_some_and(Vec::is_empty),
            ),
            ShapeKind::Map => (
                "the empty object `{}`",
                default.as_object().is_some_and(Map::is_empty),
            ),
            _ => ("nothing (a structure or union has no default)", false),
        };
        if !fits {
            return Err(Fault::Malformed(format!(
                "{place}@default {default} does not fit {}: its default is {expected}",
                on()
            )));
        }
        // An enum's default is one of its values.
        if matches!(target.kind, ShapeKind::Enum | ShapeKind::IntEnum) && !default.is_null() {
            let values: Vec<Value> = target
                .members
                .iter()
                .map(|m| match m.traits.enum_value() {
                    Some(EnumValue::String(s)) => Value::from(s),
                    Some(EnumValue::Int(i)) => Value::from(i),
                    None => Value::from(m.name.clone()),
                })
                .collect();
            let is_value =
                |v: &Value| v == default || (v.is_number() && v.as_f64() == default.as_f64());
            if !values.iter().any(is_value) {
                return Err(Fault::Malformed(format!(
                    "{place}@default {default} is not a value of {} ({}): use one of them",
                    on(),
                    values
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Refuses a value of the other traits the generator reads that is not of the trait's
/// type: [`Traits`]' accessors read such a value as no trait at all, so a `@pattern` of
/// `12` dropped the constraint, `@error("clinet")` made the structure no error (the fault
/// then blamed the operations listing it), and `@httpError("500")` sent the error with
/// its fault's default status.
fn check_trait_types(place: &str, traits: &Traits) -> Result<(), Fault> {
    use crate::traits::{DOCUMENTATION, ERROR, HTTP_ERROR, PAGINATED, PATTERN};
    let fault = |name: &str, value: &Value, what: &str| {
        Err(Fault::Malformed(format!(
            "{place}@{name} {value} is not {what}"
        )))
    };
    if let Some(value) = traits.get(PATTERN)
        && !value.is_string()
    {
        return fault(
            "pattern",
            value,
            "a string (an ECMA-262 regular expression)",
        );
    }
    if let Some(value) = traits.get(DOCUMENTATION)
        && !value.is_string()
    {
        return fault("documentation", value, "a string");
    }
    if let Some(value) = traits.get(ERROR)
        && !matches!(value.as_str(), Some("client" | "server"))
    {
        return fault("error", value, "\"client\" or \"server\"");
    }
    if let Some(value) = traits.get(HTTP_ERROR)
        && !value.as_u64().is_some_and(|n| (100..=599).contains(&n))
    {
        return fault(
            "httpError",
            value,
            "an HTTP status, a whole number from 100 to 599",
        );
    }
    if let Some(value) = traits.get(PAGINATED) {
        let Some(object) = value.as_object() else {
            return fault("paginated", value, "an object");
        };
        for key in ["inputToken", "outputToken", "pageSize", "items"] {
            if let Some(member) = object.get(key)
                && !member.is_string()
            {
                return Err(Fault::Malformed(format!(
                    "{place}@paginated {key} {member} is not a string (a member name or path)"
                )));
            }
        }
    }
    Ok(())
}

/// Refuses an `@length` or `@range` value that is not an object, or whose `min` or `max`
/// is not `what`.
fn check_bounds(
    place: &str,
    name: &str,
    value: &Value,
    what: &str,
    fits: impl Fn(&Value) -> bool,
) -> Result<(), Fault> {
    let Some(object) = value.as_object() else {
        return Err(Fault::Malformed(format!(
            "{place}@{name} {value} is not an object with `min` and `max`"
        )));
    };
    for key in ["min", "max"] {
        if let Some(bound) = object.get(key)
            && !fits(bound)
        {
            return Err(Fault::Malformed(format!(
                "{place}@{name} {key} {bound} is not {what}"
            )));
        }
    }
    Ok(())
}

/// Refuses an `@range` with a fractional bound on an integer `target` (Smithy's
/// `RangeTrait` validation): it would be truncated, and let values through.
fn check_integer_range(place: &str, traits: &Traits, target: &Shape) -> Result<(), Fault> {
    let integer = matches!(
        target.kind,
        ShapeKind::Byte
            | ShapeKind::Short
            | ShapeKind::Integer
            | ShapeKind::Long
            | ShapeKind::BigInteger
            | ShapeKind::IntEnum
    );
    let Some(range) = traits.range().filter(|_| integer) else {
        return Ok(());
    };
    let kind = format!("{:?}", target.kind).to_lowercase();
    // The Rust type the value is held in, and its bounds.
    let (rust, min, max) = match target.kind {
        ShapeKind::Byte => ("i8", i128::from(i8::MIN), i128::from(i8::MAX)),
        ShapeKind::Short => ("i16", i16::MIN.into(), i16::MAX.into()),
        ShapeKind::Integer | ShapeKind::IntEnum => ("i32", i32::MIN.into(), i32::MAX.into()),
        ShapeKind::Long => ("i64", i64::MIN.into(), i64::MAX.into()),
        _ => ("i128", i128::MIN, i128::MAX),
    };
    for bound in [&range.min, &range.max].into_iter().flatten() {
        if bound.as_f64().is_some_and(|b| b.fract() != 0.0) {
            return Err(Fault::Malformed(format!(
                "{place}@range bound {bound} is not a whole number, on `{}` (its type is {kind})",
                target.id,
            )));
        }
        let fits = if let Some(n) = bound.as_i64() {
            (min..=max).contains(&i128::from(n))
        } else if let Some(n) = bound.as_u64() {
            (min..=max).contains(&i128::from(n))
        } else {
            // A whole number written as a float (`1e3`): compared as a float, the
            // bounds' own rounding aside.
            bound
                .as_f64()
                .is_some_and(|b| b >= min as f64 && b <= max as f64)
        };
        // Beyond 64 bits, a JSON number is read as a float, rounded to 53 bits of
        // precision: `99999999999999999999` is read as 1e20, and values between the
        // two would pass.
        let exact = bound.as_i64().is_some()
            || bound.as_u64().is_some()
            || bound.as_f64().is_some_and(|b| b.abs() <= 2f64.powi(53));
        if fits && !exact {
            return Err(Fault::Malformed(format!(
                "{place}@range bound on `{}` is beyond 64 bits, where a JSON number is read \
                 as a float and rounded (here to {bound}): bounds on {kind} are supported \
                 from {} to {}",
                target.id,
                i64::MIN,
                u64::MAX,
            )));
        }
        if !fits {
            return Err(Fault::Malformed(format!(
                "{place}@range bound {bound} does not fit `{}` (its type is {kind}, held in \
                 an {rust} from {min} to {max}): narrow the bound, or target a wider type",
                target.id,
            )));
        }
    }
    Ok(())
}

/// Refuses an `@enumValue` the generated enum cannot hold: on an `enum` member it is a
/// string, on an `intEnum` member an integer that fits an `i32`, and an `intEnum`
/// member must have one (such members were silently left out, or used their name).
fn check_enum_value(shape: &Shape, member: &Member) -> Result<(), Fault> {
    let value = member.traits.get(crate::traits::ENUM_VALUE);
    let problem = match (shape.kind, value) {
        (ShapeKind::Enum, None | Some(Value::String(_))) => return Ok(()),
        (ShapeKind::Enum, Some(_)) => "a string",
        (ShapeKind::IntEnum, Some(Value::Number(n)))
            if n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()) =>
        {
            return Ok(());
        }
        (ShapeKind::IntEnum, None) => {
            return Err(Fault::Malformed(format!(
                "intEnum member `{}` has no @enumValue: give it an integer value",
                member.name
            )));
        }
        (ShapeKind::IntEnum, Some(_)) => "a whole number that fits an i32",
        _ => return Ok(()),
    };
    Err(Fault::Malformed(format!(
        "member `{}`: @enumValue {} is not {problem}, as an {} member's value is",
        member.name,
        value.expect("matched above"),
        if shape.kind == ShapeKind::IntEnum {
            "intEnum"
        } else {
            "enum"
        },
    )))
}

fn check_constraints(place: &str, traits: &Traits) -> Result<(), Fault> {
    if let Some(length) = traits.length()
        && let (Some(min), Some(max)) = (length.min, length.max)
        && min > max
    {
        return Err(Fault::MinGreaterThanMax {
            place: place.to_owned(),
            trait_name: "length",
            min: min.to_string(),
            max: max.to_string(),
        });
    }
    if let Some(range) = traits.range()
        && let (Some(min), Some(max)) = (&range.min, &range.max)
        && min.as_f64() > max.as_f64()
    {
        return Err(Fault::MinGreaterThanMax {
            place: place.to_owned(),
            trait_name: "range",
            min: min.to_string(),
            max: max.to_string(),
        });
    }
    if let Some(p) = traits.pattern() {
        pattern::compile(p).map_err(|e| Fault::BadPattern {
            place: place.to_owned(),
            pattern: p.to_owned(),
            reason: e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        })?;
    }
    Ok(())
}

fn parse_id(id: &str) -> Result<ShapeId, Fault> {
    ShapeId::parse(id).ok_or_else(|| Fault::InvalidShapeId(id.to_owned()))
}

fn parse_traits(json: &Value) -> Result<Traits, Fault> {
    match json.get("traits") {
        None => Ok(Traits::default()),
        Some(Value::Object(map)) => Ok(Traits::new(
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        )),
        Some(_) => Err(Fault::Malformed("`traits` is not an object".into())),
    }
}

fn parse_target(json: &Value, what: &str) -> Result<ShapeId, Fault> {
    let target = json
        .get("target")
        .and_then(Value::as_str)
        .ok_or_else(|| Fault::Malformed(format!("{what} has no `target`")))?;
    parse_id(target)
}

/// The keys of a member object.
const MEMBER_KEYS: &[&str] = &["target", "traits"];

/// The keys the Smithy 2.0 JSON AST allows in a shape object of `kind`, beyond `type`,
/// `traits` and `mixins` (<https://smithy.io/2.0/spec/json-ast.html>).
fn shape_keys(kind: ShapeKind) -> &'static [&'static str] {
    match kind {
        ShapeKind::List | ShapeKind::Set => &["member"],
        ShapeKind::Map => &["key", "value"],
        ShapeKind::Structure | ShapeKind::Union | ShapeKind::Enum | ShapeKind::IntEnum => {
            &["members"]
        }
        ShapeKind::Operation => &["input", "output", "errors"],
        ShapeKind::Service => &["version", "operations", "resources", "errors", "rename"],
        ShapeKind::Resource => &[
            "identifiers",
            "properties",
            "create",
            "put",
            "read",
            "update",
            "delete",
            "list",
            "operations",
            "collectionOperations",
            "resources",
        ],
        _ => &[],
    }
}

/// A fault for the first key of `object` not in `allowed`: a typo (`memebers`) would
/// otherwise drop what it holds without a word.
fn check_keys(place: &str, object: &Map<String, Value>, allowed: &[&str]) -> Result<(), Fault> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) => Err(Fault::UnknownKey {
            place: place.to_owned(),
            key: key.clone(),
            allowed: allowed
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn parse_member(name: &str, json: &Value) -> Result<Member, Fault> {
    let place = format!("member `{name}`: ");
    let object = json
        .as_object()
        .ok_or_else(|| Fault::Malformed(format!("member `{name}` is not an object")))?;
    check_keys(&place, object, MEMBER_KEYS)?;
    Ok(Member {
        name: name.to_owned(),
        target: parse_target(json, &format!("member `{name}`"))?,
        traits: parse_traits(json)?,
    })
}

fn parse_targets(json: &Value, key: &str) -> Result<Vec<ShapeId>, Fault> {
    match json.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|item| parse_target(item, key)).collect(),
        Some(_) => Err(Fault::Malformed(format!("`{key}` is not an array"))),
    }
}

fn parse_shape(id: &str, json: &Value) -> Result<Shape, Fault> {
    let id = parse_id(id)?;
    let type_name = json
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Fault::Malformed("missing `type`".into()))?;
    let kind =
        ShapeKind::parse(type_name).ok_or_else(|| Fault::UnknownType(type_name.to_owned()))?;
    let allowed: Vec<&str> = ["type", "traits", "mixins"]
        .into_iter()
        .chain(shape_keys(kind).iter().copied())
        .collect();
    let object = json
        .as_object()
        .ok_or_else(|| Fault::Malformed("the shape is not an object".into()))?;
    check_keys("", object, &allowed)?;
    if object
        .get("mixins")
        .and_then(Value::as_array)
        .is_some_and(|mixins| !mixins.is_empty())
    {
        return Err(Fault::Unsupported {
            place: String::new(),
            what: "`mixins`".into(),
            advice: "; copy the mixins' members and traits into the shape".into(),
        });
    }
    let mut members = Vec::new();
    match kind {
        ShapeKind::List | ShapeKind::Set => {
            let member = json
                .get("member")
                .ok_or_else(|| Fault::Malformed("a list needs a `member`".into()))?;
            members.push(parse_member("member", member)?);
        }
        ShapeKind::Map => {
            for name in ["key", "value"] {
                let member = json
                    .get(name)
                    .ok_or_else(|| Fault::Malformed(format!("a map needs a `{name}`")))?;
                members.push(parse_member(name, member)?);
            }
        }
        _ if kind.has_members() => match json.get("members") {
            None => {}
            Some(Value::Object(map)) => {
                for (name, member) in map {
                    members.push(parse_member(name, member)?);
                }
            }
            Some(_) => return Err(Fault::Malformed("`members` is not an object".into())),
        },
        _ => {}
    }
    let optional_target = |key: &str| json.get(key).map(|v| parse_target(v, key)).transpose();
    Ok(Shape {
        id,
        kind,
        members,
        traits: parse_traits(json)?,
        input: optional_target("input")?,
        output: optional_target("output")?,
        errors: parse_targets(json, "errors")?,
        operations: parse_targets(json, "operations")?,
        resources: parse_targets(json, "resources")?,
        version: json
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_owned),
        rename: parse_rename(json)?,
    })
}

/// A service's `rename` map, each key a shape id (a member cannot be renamed) and each
/// name a Smithy identifier other than the shape's own. Whether the shapes are in the
/// service's closure, and may be renamed, is checked when the service is resolved.
fn parse_rename(json: &Value) -> Result<BTreeMap<ShapeId, String>, Fault> {
    let Some(rename) = json.get("rename") else {
        return Ok(BTreeMap::new());
    };
    let rename = rename.as_object().ok_or_else(|| {
        Fault::Malformed("`rename` is not an object of shape ids to names".into())
    })?;
    let mut names = BTreeMap::new();
    for (id, name) in rename {
        if id.contains('$') {
            return Err(Fault::Malformed(format!(
                "`rename` renames the member `{id}`: members cannot be renamed"
            )));
        }
        let id = parse_id(id)?;
        let Some(name) = name.as_str().filter(|name| is_identifier(name)) else {
            return Err(Fault::Malformed(format!(
                "`rename` renames `{id}` to {name}, which is not a Smithy identifier \
                 (letters, digits and `_`, beginning with a letter or with `_`s then a letter)"
            )));
        };
        if name == id.name() {
            return Err(Fault::Malformed(format!(
                "`rename` renames `{id}` to `{name}`, its own name: remove the entry"
            )));
        }
        names.insert(id, name.to_owned());
    }
    Ok(names)
}

static PRELUDE: LazyLock<BTreeMap<ShapeId, Shape>> = LazyLock::new(|| {
    let simple = [
        ("String", "string"),
        ("Blob", "blob"),
        ("Boolean", "boolean"),
        ("Byte", "byte"),
        ("Short", "short"),
        ("Integer", "integer"),
        ("Long", "long"),
        ("Float", "float"),
        ("Double", "double"),
        ("BigInteger", "bigInteger"),
        ("BigDecimal", "bigDecimal"),
        ("Timestamp", "timestamp"),
        ("Document", "document"),
        ("Unit", "structure"),
        ("PrimitiveBoolean", "boolean"),
        ("PrimitiveByte", "byte"),
        ("PrimitiveShort", "short"),
        ("PrimitiveInteger", "integer"),
        ("PrimitiveLong", "long"),
        ("PrimitiveFloat", "float"),
        ("PrimitiveDouble", "double"),
    ];
    simple
        .into_iter()
        .map(|(name, kind)| {
            let id = format!("{}#{name}", crate::PRELUDE_NAMESPACE);
            let mut traits = BTreeMap::new();
            if name.starts_with("Primitive") {
                let zero = if kind == "boolean" {
                    Value::Bool(false)
                } else {
                    Value::from(0)
                };
                traits.insert(crate::traits::DEFAULT.to_owned(), zero);
            }
            let shape = Shape {
                id: ShapeId::parse(&id).expect("prelude ids are well formed"),
                kind: ShapeKind::parse(kind).expect("prelude kinds are known"),
                members: Vec::new(),
                traits: Traits::new(traits),
                input: None,
                output: None,
                errors: Vec::new(),
                operations: Vec::new(),
                resources: Vec::new(),
                version: None,
                rename: BTreeMap::new(),
            };
            (shape.id.clone(), shape)
        })
        .collect()
});

pub(crate) fn prelude_shape(id: &ShapeId) -> Option<&'static Shape> {
    PRELUDE.get(id)
}
