//! What the generator supports: every trait on the shapes it generates is either one it
//! implements or one known to change neither the wire format nor the types; anything
//! else is a model error before any code is generated, never a silently wrong type.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use kms_spec::{Fault, LoadError, ServiceView, Shape, ShapeKind, Traits};
use serde_json::Value;

use crate::names;

/// Traits the generator implements (`timestampFormat` only as `epoch-seconds`, awsJson's
/// default, see [`UNSUPPORTED`]).
const IMPLEMENTED: &[&str] = &[
    "smithy.api#default",
    "smithy.api#documentation",
    "smithy.api#enumValue",
    "smithy.api#error",
    "smithy.api#httpError",
    "smithy.api#input",
    "smithy.api#length",
    "smithy.api#output",
    "smithy.api#paginated",
    "smithy.api#pattern",
    "smithy.api#range",
    "smithy.api#required",
    "smithy.api#clientOptional",
    "smithy.api#retryable",
    "smithy.api#sensitive",
    "smithy.api#deprecated",
    "smithy.api#examples",
    "smithy.api#timestampFormat",
    PROTOCOL,
];

/// Traits that change neither the awsJson 1.1 wire format nor the generated types:
/// documentation and tooling metadata, and bindings the awsJson protocols ignore
/// (HTTP bindings, `jsonName`, XML names). Every trait of the official KMS model is
/// either here or in [`IMPLEMENTED`].
const IGNORED: &[&str] = &[
    "smithy.api#addedDefault",
    "smithy.api#auth",
    "smithy.api#cors",
    "smithy.api#externalDocumentation",
    "smithy.api#http",
    "smithy.api#httpHeader",
    "smithy.api#httpLabel",
    "smithy.api#httpPayload",
    "smithy.api#httpPrefixHeaders",
    "smithy.api#httpQuery",
    "smithy.api#httpQueryParams",
    "smithy.api#httpResponseCode",
    "smithy.api#idempotent",
    "smithy.api#internal",
    "smithy.api#jsonName",
    "smithy.api#optionalAuth",
    "smithy.api#private",
    "smithy.api#readonly",
    "smithy.api#recommended",
    "smithy.api#references",
    "smithy.api#since",
    "smithy.api#suppress",
    "smithy.api#tags",
    "smithy.api#title",
    "smithy.api#unstable",
    "smithy.api#xmlAttribute",
    "smithy.api#xmlFlattened",
    "smithy.api#xmlName",
    "smithy.api#xmlNamespace",
    "aws.protocols#awsQueryError",
];

/// Namespaces whose traits are all ignored: service metadata (`aws.api`), signing
/// (`aws.auth`, done by kms-types' SigV4), endpoint rules (`smithy.rules`, the rule set
/// is compiled and the rest only feeds it) and IAM metadata (`aws.iam`).
const IGNORED_NAMESPACES: &[&str] = &["aws.api#", "aws.auth#", "smithy.rules#", "aws.iam#"];

/// Traits that change the wire format or the types in ways the generator does not
/// implement, with what to do instead.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "smithy.api#streaming",
        "; the generated types hold whole values only",
    ),
    (
        "smithy.api#mixin",
        "; copy the mixin's members and traits into the shapes that use it",
    ),
    (
        "smithy.api#idempotencyToken",
        "; the generated builders do not fill the token in",
    ),
    (
        "smithy.api#enum",
        "; use an `enum` shape (Smithy 2.0) instead of the 1.0 `@enum` trait",
    ),
    ("smithy.api#sparse", ""),
    ("smithy.api#uniqueItems", ""),
    ("smithy.api#requiresLength", ""),
    ("smithy.api#eventHeader", ""),
    ("smithy.api#eventPayload", ""),
    ("smithy.api#endpoint", ""),
    ("smithy.api#hostLabel", ""),
    ("smithy.api#requestCompression", ""),
    ("smithy.api#httpChecksumRequired", ""),
    ("aws.protocols#httpChecksum", ""),
    ("aws.protocols#awsQueryCompatible", ""),
];

/// The protocol the generated code speaks.
const PROTOCOL: &str = "aws.protocols#awsJson1_1";

/// Other protocol traits: a service may declare them beside awsJson 1.1 (the generated
/// code then speaks awsJson 1.1), never instead of it.
const OTHER_PROTOCOLS: &[&str] = &[
    "aws.protocols#awsJson1_0",
    "aws.protocols#restJson1",
    "aws.protocols#restXml",
    "aws.protocols#awsQuery",
    "aws.protocols#ec2Query",
    "smithy.protocols#rpcv2Cbor",
    "smithy.protocols#rpcv2Json",
];

/// Checks the service's protocol, then every trait of the service, the shapes it
/// reaches and their members.
pub(crate) fn check(service: &ServiceView<'_>) -> Result<(), LoadError> {
    let fail = |shape: &Shape, fault| service.model.error(Some(&shape.id), fault);
    check_service(service.shape).map_err(|fault| fail(service.shape, fault))?;
    for shape in std::iter::once(service.shape).chain(service.shapes.iter().copied()) {
        check_traits("", &shape.traits).map_err(|fault| fail(shape, fault))?;
        for member in &shape.members {
            check_traits(&format!("member `{}`: ", member.name), &member.traits)
                .map_err(|fault| fail(shape, fault))?;
        }
    }
    check_errors(service)?;
    check_names(service)
}

/// Names of the Rust prelude the generated code uses unqualified (or that a reader
/// would expect to be the prelude's): no generated type may take them.
const PRELUDE_NAMES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "Default",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "AsRef",
    "AsMut",
    "ToString",
    "ToOwned",
    "Iterator",
    "IntoIterator",
    "Extend",
    "FromIterator",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
];

/// Every `errors` entry of an operation or the service is an `@error` structure (the
/// view lists each error once, so the generated error enums hold one variant each).
fn check_errors(service: &ServiceView<'_>) -> Result<(), LoadError> {
    for op in &service.operations {
        if let Some(error) = op
            .errors
            .iter()
            .find(|e| e.kind != ShapeKind::Structure || e.traits.error().is_none())
        {
            return Err(service.model.error(
                Some(&op.shape.id),
                Fault::Malformed(format!(
                    "`errors` lists `{}`, which is not a structure with `@error`",
                    error.id
                )),
            ));
        }
    }
    Ok(())
}

/// Two model names that would become one Rust name, in the same scope.
fn collision(scope: &str, first: &str, second: &str, rust: &str) -> Fault {
    Fault::RustNames(format!(
        "{scope}{first} and {second} both become the Rust name `{rust}`; rename one"
    ))
}

/// Records the Rust name `rust` (under `key` in `seen`) for the model name `model`,
/// failing if another took it.
fn claim<K: Ord>(
    seen: &mut BTreeMap<K, String>,
    key: K,
    scope: &str,
    rust: &str,
    model: String,
) -> Result<(), Fault> {
    match seen.entry(key) {
        Entry::Occupied(first) => Err(collision(scope, first.get(), &model, rust)),
        Entry::Vacant(slot) => {
            slot.insert(model);
            Ok(())
        }
    }
}

/// Generated Rust names never collide: not the types (shapes, builders, operation markers
/// and error enums, `EndpointParams`) with each other or with the prelude, not the fields
/// and builder methods of a structure, not the variants of an enum or a union.
fn check_names(service: &ServiceView<'_>) -> Result<(), LoadError> {
    let model = service.model;
    let mut types = BTreeMap::from([(
        "EndpointParams".to_owned(),
        "the endpoint parameters (`EndpointParams`)".to_owned(),
    )]);
    let described = |kind: &str, shape: &Shape| format!("{kind} `{}`", shape.id);
    for shape in &service.shapes {
        let fail = |fault| model.error(Some(&shape.id), fault);
        let generated: Vec<(String, String)> = match shape.kind {
            ShapeKind::Structure => vec![
                (
                    names::type_name(service.name(&shape.id)).to_string(),
                    described("shape", shape),
                ),
                (
                    format!("{}Builder", names::type_name(service.name(&shape.id))),
                    format!("the builder of `{}`", shape.id),
                ),
            ],
            ShapeKind::Union | ShapeKind::Enum | ShapeKind::IntEnum => {
                vec![(
                    names::type_name(service.name(&shape.id)).to_string(),
                    described("shape", shape),
                )]
            }
            ShapeKind::Operation => vec![
                (
                    names::type_name(service.name(&shape.id)).to_string(),
                    described("operation", shape),
                ),
                (
                    format!("{}Error", names::type_name(service.name(&shape.id))),
                    format!("the error enum of `{}`", shape.id),
                ),
            ],
            _ => Vec::new(),
        };
        for (rust, origin) in generated {
            if PRELUDE_NAMES.contains(&rust.as_str()) {
                return Err(fail(Fault::RustNames(format!(
                    "{origin} becomes the Rust name `{rust}`, which would shadow the prelude's \
                     `{rust}` in the generated code; rename the shape"
                ))));
            }
            claim(&mut types, rust.clone(), "", &rust, origin).map_err(fail)?;
        }
        check_member_names(shape).map_err(fail)?;
    }
    Ok(())
}

/// The fields and builder methods of a structure, the variants of an enum or a union.
fn check_member_names(shape: &Shape) -> Result<(), Fault> {
    const FIELDS: &str = "";
    const METHODS: &str = "builder methods: ";
    // Rust names by scope: the builder's methods are one per field, a `set_` one per
    // field, and `build`; an enum's variants are one per value, and `Unknown`.
    let mut seen: BTreeMap<(&str, String), String> = BTreeMap::from([
        ((METHODS, "build".to_owned()), "`build()`".to_owned()),
        (
            (FIELDS, "Unknown".to_owned()),
            "the `Unknown` variant".to_owned(),
        ),
    ]);
    for m in &shape.members {
        let member = format!("member `{}`", m.name);
        let claims = match shape.kind {
            ShapeKind::Structure => {
                let field = names::field_name(&m.name).to_string();
                vec![
                    (FIELDS, field.clone(), member.clone()),
                    (METHODS, field, member.clone()),
                    (
                        METHODS,
                        names::setter_name(&m.name).to_string(),
                        format!("{member} (setter)"),
                    ),
                ]
            }
            ShapeKind::Enum | ShapeKind::IntEnum | ShapeKind::Union => {
                vec![(FIELDS, names::variant_name(&m.name).to_string(), member)]
            }
            _ => Vec::new(),
        };
        for (scope, rust, model) in claims {
            claim(&mut seen, (scope, rust.clone()), scope, &rust, model)?;
        }
    }
    Ok(())
}

/// awsJson 1.1, and no bindings the generator would drop.
fn check_service(service: &Shape) -> Result<(), Fault> {
    if !service.traits.has(PROTOCOL) {
        let declared: Vec<_> = service
            .traits
            .iter()
            .map(|(id, _)| id)
            .filter(|id| OTHER_PROTOCOLS.contains(id))
            .map(|id| format!("`{id}`"))
            .collect();
        let what = match declared.as_slice() {
            [] => "a service without a protocol trait".to_owned(),
            _ => format!("the protocol {}", declared.join(", ")),
        };
        return Err(Fault::Unsupported {
            place: String::new(),
            what,
            advice: format!("; kms-codegen generates `{PROTOCOL}` only"),
        });
    }
    if !service.resources.is_empty() {
        return Err(Fault::Unsupported {
            place: String::new(),
            what: "binding `resources` to the service".into(),
            advice: "; bind their operations to the service".into(),
        });
    }
    Ok(())
}

fn check_traits(place: &str, traits: &Traits) -> Result<(), Fault> {
    for (id, value) in traits.iter() {
        if OTHER_PROTOCOLS.contains(&id) {
            continue;
        }
        if let Some((_, advice)) = UNSUPPORTED.iter().find(|(t, _)| *t == id) {
            return Err(Fault::Unsupported {
                place: place.to_owned(),
                what: format!("the trait `{id}`"),
                advice: (*advice).to_owned(),
            });
        }
        if id == "smithy.api#timestampFormat" && value != &Value::from("epoch-seconds") {
            return Err(Fault::Unsupported {
                place: place.to_owned(),
                what: format!("`@timestampFormat({value})`"),
                advice: "; awsJson's default, `epoch-seconds`, is".into(),
            });
        }
        let known = IMPLEMENTED.contains(&id)
            || IGNORED.contains(&id)
            || IGNORED_NAMESPACES.iter().any(|ns| id.starts_with(ns));
        if !known {
            return Err(Fault::UnknownTrait {
                place: place.to_owned(),
                trait_id: id.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every trait of the official KMS model is implemented or ignored, so importing any
    /// of its operations keeps generating.
    #[test]
    fn every_trait_of_the_kms_model_is_known() {
        let Some(model) = crate::upstream_kms_model() else {
            return;
        };
        let shapes = model["shapes"].as_object().unwrap();
        let members = shapes.values().flat_map(|shape| {
            let members = shape["members"].as_object().into_iter().flatten();
            let others = ["member", "key", "value"].into_iter().map(|k| &shape[k]);
            members.map(|(_, m)| m).chain(others).collect::<Vec<_>>()
        });
        let mut seen = 0;
        for traits in shapes
            .values()
            .chain(members)
            .filter_map(|v| v.get("traits"))
        {
            let traits = Traits::new(
                traits
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            );
            check_traits("", &traits).unwrap();
            seen += 1;
        }
        assert!(seen > 500, "{seen} trait sets");
    }

    fn service(traits: &[&str]) -> Shape {
        let json = serde_json::json!({
            "smithy": "2.0",
            "shapes": { "a.b#Svc": {
                "type": "service",
                "traits": traits.iter().map(|t| (t.to_string(), Value::Object(Default::default())))
                    .collect::<serde_json::Map<_, _>>(),
            }},
        });
        let model = kms_spec::Model::from_json_str(&json.to_string(), "svc.json").unwrap();
        model.services().next().unwrap().clone()
    }

    #[test]
    fn the_service_speaks_aws_json_1_1() {
        check_service(&service(&[PROTOCOL])).unwrap();
        // Another protocol beside awsJson 1.1 is fine: the generated code speaks 1.1.
        let both = service(&[PROTOCOL, "smithy.protocols#rpcv2Cbor"]);
        check_service(&both).unwrap();
        check_traits("", &both.traits).unwrap();
        assert_eq!(
            check_service(&service(&["aws.protocols#restJson1"]))
                .unwrap_err()
                .to_string(),
            "the protocol `aws.protocols#restJson1` is not supported yet; kms-codegen \
             generates `aws.protocols#awsJson1_1` only"
        );
        assert_eq!(
            check_service(&service(&[])).unwrap_err().to_string(),
            "a service without a protocol trait is not supported yet; kms-codegen generates \
             `aws.protocols#awsJson1_1` only"
        );
    }

    fn fault(id: &str, value: Value) -> String {
        let traits = Traits::new([(id.to_owned(), value)].into_iter().collect());
        check_traits("member `M`: ", &traits)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_and_unsupported_traits_are_faults() {
        assert_eq!(
            fault("smithy.api#requried", Value::Object(Default::default())),
            "member `M`: unknown trait `smithy.api#requried`: kms-codegen neither implements \
             it nor knows it to leave the wire format and the types alone (a typo?)"
        );
        assert_eq!(
            fault("smithy.api#timestampFormat", Value::from("date-time")),
            "member `M`: `@timestampFormat(\"date-time\")` is not supported yet; awsJson's \
             default, `epoch-seconds`, is"
        );
        assert_eq!(
            fault("smithy.api#streaming", Value::Object(Default::default())),
            "member `M`: the trait `smithy.api#streaming` is not supported yet; the generated \
             types hold whole values only"
        );
        for id in ["smithy.api#mixin", "smithy.api#idempotencyToken"] {
            let text = fault(id, Value::Object(Default::default()));
            assert!(text.contains("is not supported yet"), "{text}");
        }
        let fine = Traits::new(
            [
                ("smithy.api#timestampFormat", Value::from("epoch-seconds")),
                ("smithy.api#jsonName", Value::from("x")),
                ("aws.api#arn", Value::Null),
                ("smithy.rules#contextParam", Value::Null),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        );
        check_traits("", &fine).unwrap();
    }
}
