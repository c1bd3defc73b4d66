//! Loading: every fault names the file, the shape and what is wrong; good models resolve.

use kms_spec::{Fault, Model, ShapeKind};
use serde_json::json;

fn load(shapes: serde_json::Value) -> Result<Model, kms_spec::LoadError> {
    Model::from_json_str(
        &json!({ "smithy": "2.0", "shapes": shapes }).to_string(),
        "fixture.json",
    )
}

fn load_fault(shapes: serde_json::Value) -> (String, Option<String>, Fault) {
    let err = load(shapes).unwrap_err();
    let text = err.to_string();
    (text, err.shape, *err.fault)
}

#[test]
fn the_spec_loads_and_resolves() {
    let model = Model::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/kms.describe-custom-key-stores.json"
    ))
    .unwrap();
    let service = model.service(None).unwrap();
    assert_eq!(service.shape.id.as_str(), "com.amazonaws.kms#TrentService");
    assert_eq!(service.signing_name().as_deref(), Some("kms"));
    assert_eq!(service.protocol(), Some("aws.protocols#awsJson1_1"));
    // DescribeCustomKeyStores, whatever other operations the spec holds.
    let op = service
        .operations
        .iter()
        .find(|op| op.shape.id.name() == "DescribeCustomKeyStores")
        .expect("the spec has DescribeCustomKeyStores");
    assert_eq!(op.input.id.name(), "DescribeCustomKeyStoresRequest");
    assert_eq!(op.output.id.name(), "DescribeCustomKeyStoresResponse");
    let errors: Vec<_> = op.errors.iter().map(|e| e.id.name()).collect();
    assert_eq!(
        errors,
        [
            "CustomKeyStoreNotFoundException",
            "InvalidMarkerException",
            "KMSInternalException"
        ]
    );
    let paginated = op.paginated.clone().unwrap();
    assert_eq!(paginated.input_token.as_deref(), Some("Marker"));
    assert_eq!(paginated.items.as_deref(), Some("CustomKeyStores"));
    // 27 shapes of DescribeCustomKeyStores' closure (more once the spec holds other
    // operations); the service is not part of it.
    let operations = service.operations.len();
    assert!(
        service.shapes.len() == 27 || (operations > 1 && service.shapes.len() > 27),
        "{} shapes for {operations} operations",
        service.shapes.len()
    );
    let names: Vec<_> = service.shapes.iter().map(|s| s.id.name()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "stable order");
    // Typed traits.
    let marker = model.shape_by_name("com.amazonaws.kms#MarkerType").unwrap();
    assert_eq!(marker.traits.length().unwrap().max, Some(1024));
    assert_eq!(marker.traits.pattern(), Some("^[\\u0020-\\u00FF]*$"));
    let response = model
        .shape_by_name("com.amazonaws.kms#DescribeCustomKeyStoresResponse")
        .unwrap();
    let truncated = response.member("Truncated").unwrap();
    assert_eq!(model.constraints(truncated).default, Some(json!(false)));
    assert!(
        model
            .target(response.member("CustomKeyStores").unwrap())
            .kind
            == ShapeKind::List
    );
    let xks = model
        .shape_by_name("com.amazonaws.kms#XksProxyAuthenticationAccessKeyIdType")
        .unwrap();
    assert!(xks.traits.sensitive());
    let err = model
        .shape_by_name("com.amazonaws.kms#KMSInternalException")
        .unwrap();
    assert_eq!(
        (err.traits.error(), err.traits.http_error()),
        (Some(kms_spec::traits::Fault::Server), Some(500))
    );
    // Other traits are kept as JSON.
    assert!(err.traits.get("aws.protocols#awsQueryError").is_some());
}

#[test]
fn the_whole_kms_model_loads() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/models/kms.json"
    );
    if !std::path::Path::new(path).exists() {
        println!("SKIP: {path} not found");
        return;
    }
    let model = Model::load(path).unwrap();
    let service = model
        .service(Some("com.amazonaws.kms#TrentService"))
        .unwrap();
    assert_eq!(service.operations.len(), 54);
    assert!(service.shapes.iter().any(|s| s.kind == ShapeKind::Map));
    assert!(service.shapes.iter().any(|s| s.kind == ShapeKind::Blob));
}

#[test]
fn prelude_targets_resolve() {
    let model = load(json!({
        "a.b#S": { "type": "structure", "members": {
            "Name": { "target": "smithy.api#String" },
            "Nothing": { "target": "smithy.api#Unit" },
            "Flag": { "target": "smithy.api#PrimitiveBoolean" }
        }}
    }))
    .unwrap();
    let s = model.shape_by_name("a.b#S").unwrap();
    assert_eq!(model.target(&s.members[0]).kind, ShapeKind::String);
    assert_eq!(model.constraints(&s.members[2]).default, Some(json!(false)));
}

#[test]
fn invalid_json_names_the_file_and_position() {
    let err = Model::from_json_str("{\"smithy\": \"2.0\",", "broken.json").unwrap_err();
    assert!(matches!(*err.fault, Fault::Json(_)));
    assert!(
        err.to_string().starts_with("broken.json: invalid JSON: "),
        "{err}"
    );
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn unsupported_version() {
    let err = Model::from_json_str(r#"{"smithy": "1.0", "shapes": {}}"#, "old.json").unwrap_err();
    assert_eq!(
        err.to_string(),
        "old.json: unsupported smithy version `1.0` (expected 2.0)"
    );
    let err = Model::from_json_str(r#"{"shapes": {}}"#, "none.json").unwrap_err();
    assert!(matches!(*err.fault, Fault::NotAModel(_)), "{err}");
}

#[test]
fn unresolved_targets() {
    let (text, shape, fault) = load_fault(json!({
        "a.b#S": { "type": "structure", "members": { "X": { "target": "a.b#Missing" } } }
    }));
    assert_eq!(shape.as_deref(), Some("a.b#S"));
    assert!(matches!(fault, Fault::UnresolvedTarget { .. }));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#S`: member `X` targets `a.b#Missing`, which is not defined in the model or the prelude"
    );
    let (_, shape, _) = load_fault(json!({
        "a.b#Op": { "type": "operation", "input": { "target": "a.b#In" } }
    }));
    assert_eq!(shape.as_deref(), Some("a.b#Op"));
}

#[test]
fn min_greater_than_max() {
    let (text, _, _) = load_fault(
        json!({ "a.b#S": { "type": "string", "traits": { "smithy.api#length": { "min": 5, "max": 2 } } } }),
    );
    assert_eq!(
        text,
        "fixture.json: shape `a.b#S`: @length min 5 is greater than max 2"
    );
    let (text, _, _) = load_fault(json!({
        "a.b#S": { "type": "structure", "members": {
            "N": { "target": "smithy.api#Integer", "traits": { "smithy.api#range": { "min": 10, "max": 1 } } }
        }}
    }));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#S`: member `N`: @range min 10 is greater than max 1"
    );
    // Equal bounds allow one length, one value.
    load(json!({
        "a.b#S": { "type": "structure", "members": {
            "N": { "target": "smithy.api#Integer", "traits": { "smithy.api#range": { "min": 3, "max": 3 } } },
            "T": { "target": "smithy.api#String", "traits": { "smithy.api#length": { "min": 3, "max": 3 } } }
        }}
    }))
    .unwrap();
}

#[test]
fn patterns_the_regex_engine_rejects() {
    let (text, shape, fault) = load_fault(
        json!({ "a.b#S": { "type": "string", "traits": { "smithy.api#pattern": "^(ab$" } } }),
    );
    assert_eq!(shape.as_deref(), Some("a.b#S"));
    assert!(matches!(fault, Fault::BadPattern { .. }));
    assert!(
        text.starts_with(
            "fixture.json: shape `a.b#S`: @pattern `^(ab$` is not a regular expression the \
             generated code can check"
        ),
        "{text}"
    );
    // Valid ECMA-262 the checks do not support: refused, saying what.
    for (pattern, reason) in [
        (r"^(?=.*[a-z]).+$", "look-around is not supported"),
        (r"^(a)\1$", "backreferences are not supported"),
        (r"^\p{L}+$", "Unicode character classes are not supported"),
    ] {
        let (text, _, _) = load_fault(
            json!({ "a.b#S": { "type": "string", "traits": { "smithy.api#pattern": pattern } } }),
        );
        assert!(
            text.ends_with(&format!(
                "@pattern `{pattern}` is not a regular expression the generated code can \
                 check: {reason}"
            )),
            "{text}"
        );
    }
}

#[test]
fn duplicate_enum_values() {
    let (text, _, _) = load_fault(json!({
        "a.b#E": { "type": "enum", "members": {
            "A": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": "x" } },
            "B": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": "x" } }
        }}
    }));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#E`: enum members `A` and `B` have the same value `x`"
    );
}

#[test]
fn paginated_members_must_exist() {
    let shapes = |output_token: &str| {
        json!({
            "a.b#Op": {
                "type": "operation",
                "input": { "target": "a.b#In" },
                "output": { "target": "a.b#Out" },
                "traits": { "smithy.api#paginated": { "inputToken": "Token", "outputToken": output_token, "items": "Items" } }
            },
            "a.b#In": { "type": "structure", "members": { "Token": { "target": "smithy.api#String" } } },
            "a.b#Out": { "type": "structure", "members": {
                "Next": { "target": "smithy.api#String" },
                "Items": { "target": "a.b#List" }
            }},
            "a.b#List": { "type": "list", "member": { "target": "smithy.api#String" } }
        })
    };
    assert!(load(shapes("Next")).is_ok());
    let (text, shape, _) = load_fault(shapes("NextToken"));
    assert_eq!(shape.as_deref(), Some("a.b#Op"));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#Op`: @paginated outputToken `NextToken` is not a member of `a.b#Out`"
    );
    // The service's @paginated fills what the operation's leaves out, and is checked
    // against the operation's input and output too.
    let with_service = |service_output_token: &str| {
        let mut shapes = shapes("Next");
        shapes["a.b#Op"]["traits"]["smithy.api#paginated"] = json!({ "items": "Items" });
        shapes["a.b#Svc"] = json!({
            "type": "service",
            "operations": [{ "target": "a.b#Op" }],
            "traits": { "smithy.api#paginated": {
                "inputToken": "Token", "outputToken": service_output_token, "items": "Other"
            } }
        });
        load(shapes)
    };
    let model = with_service("Next").unwrap();
    let paginated = model.service(None).unwrap().operations[0]
        .paginated
        .clone()
        .unwrap();
    assert_eq!(
        (
            paginated.input_token.as_deref(),
            paginated.output_token.as_deref(),
            paginated.items.as_deref()
        ),
        (Some("Token"), Some("Next"), Some("Items"))
    );
    assert_eq!(
        with_service("NextToken").unwrap_err().to_string(),
        "fixture.json: shape `a.b#Op`: @paginated outputToken `NextToken` is not a member of `a.b#Out`"
    );
}

#[test]
fn unknown_shape_types_and_ids() {
    let (text, _, _) = load_fault(json!({ "a.b#S": { "type": "strang" } }));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#S`: unknown shape type `strang`"
    );
    let (text, _, _) = load_fault(json!({ "NoNamespace": { "type": "string" } }));
    assert_eq!(
        text,
        "fixture.json: shape `NoNamespace`: invalid shape id `NoNamespace`"
    );
}

#[test]
fn every_shape_type_loads() {
    let model = load(json!({
        "a.b#Svc": { "type": "service", "version": "1", "operations": [{ "target": "a.b#Op" }], "resources": [{ "target": "a.b#R" }] },
        "a.b#R": { "type": "resource", "operations": [] },
        "a.b#Op": { "type": "operation" },
        "a.b#U": { "type": "union", "members": { "A": { "target": "smithy.api#String" } } },
        "a.b#IE": { "type": "intEnum", "members": { "ONE": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": 1 } } } },
        "a.b#M": { "type": "map", "key": { "target": "smithy.api#String" }, "value": { "target": "smithy.api#Blob" } },
        "a.b#D": { "type": "document" },
        "a.b#T": { "type": "timestamp" },
        "a.b#BD": { "type": "bigDecimal" }
    }))
    .unwrap();
    assert_eq!(model.shapes().count(), 9);
    let service = model.service(None).unwrap();
    assert_eq!(service.operations[0].input.id.as_str(), "smithy.api#Unit");
}

#[test]
fn unknown_keys_name_the_shape_the_member_and_the_key() {
    let (text, shape, fault) = load_fault(json!({
        "a.b#S": { "type": "structure", "memebers": {
            "Name": { "target": "smithy.api#String" }
        }}
    }));
    assert_eq!(shape.as_deref(), Some("a.b#S"));
    assert!(matches!(fault, Fault::UnknownKey { ref key, .. } if key == "memebers"));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#S`: unknown key `memebers` (the JSON AST allows \
         `type`, `traits`, `mixins`, `members`)"
    );
    let (text, _, _) = load_fault(json!({
        "a.b#S": { "type": "structure", "members": {
            "Name": { "target": "smithy.api#String", "trait": {} }
        }}
    }));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#S`: member `Name`: unknown key `trait` (the JSON AST \
         allows `target`, `traits`)"
    );
    let (text, _, _) = load_fault(json!({
        "a.b#L": { "type": "list", "members": { "member": { "target": "smithy.api#String" } } }
    }));
    assert!(text.contains("unknown key `members`"), "{text}");
    let err = Model::from_json_str(
        r#"{"smithy": "2.0", "shapes": {}, "metdata": {}}"#,
        "top.json",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "top.json: unknown key `metdata` (the JSON AST allows `smithy`, `metadata`, `shapes`)"
    );
}

#[test]
fn every_key_the_json_ast_defines_is_accepted() {
    load(json!({
        "a.b#Svc": { "type": "service", "version": "1", "operations": [], "resources": [],
            "errors": [], "rename": {}, "traits": {} },
        "a.b#Res": { "type": "resource", "identifiers": {}, "properties": {},
            "operations": [], "collectionOperations": [], "resources": [] },
        "a.b#Op": { "type": "operation", "input": { "target": "smithy.api#Unit" },
            "output": { "target": "smithy.api#Unit" }, "errors": [] },
        "a.b#M": { "type": "map", "key": { "target": "smithy.api#String" },
            "value": { "target": "smithy.api#String", "traits": {} } },
        "a.b#L": { "type": "list", "member": { "target": "smithy.api#String" } },
        "a.b#S": { "type": "string", "mixins": [] }
    }))
    .unwrap();
}

#[test]
fn mixins_are_not_supported_yet() {
    let (text, shape, fault) = load_fault(json!({
        "a.b#S": { "type": "structure", "mixins": [{ "target": "a.b#M" }], "members": {} },
        "a.b#M": { "type": "structure", "members": {} }
    }));
    assert_eq!(shape.as_deref(), Some("a.b#S"));
    assert!(matches!(fault, Fault::Unsupported { .. }));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#S`: `mixins` is not supported yet; copy the mixins' \
         members and traits into the shape"
    );
}

/// Lists of `depth` levels, `a.b#L1` (of strings) to `a.b#L{depth}`, each item of the
/// innermost `@sensitive`.
fn nested_lists(depth: usize) -> serde_json::Value {
    let mut shapes = serde_json::Map::new();
    for level in 1..=depth {
        let target = if level == 1 {
            "smithy.api#String".to_owned()
        } else {
            format!("a.b#L{}", level - 1)
        };
        let mut member = json!({ "target": target });
        if level == 1 {
            member["traits"] = json!({ "smithy.api#sensitive": {} });
        }
        shapes.insert(
            format!("a.b#L{level}"),
            json!({ "type": "list", "member": member }),
        );
    }
    shapes.into()
}

/// A list or map that holds itself through lists and maps only has no finite value and
/// no Rust type (the generator overflowed its stack); nesting past
/// `MAX_COLLECTION_NESTING` gives types rustc refuses (E0275). Both are model errors;
/// a structure or union in between starts a type of its own.
#[test]
fn lists_and_maps_that_hold_themselves_or_nest_too_deep() {
    let (text, shape, _) = load_fault(json!({
        "a.b#L": { "type": "list", "member": { "target": "a.b#L" } }
    }));
    assert_eq!(shape.as_deref(), Some("a.b#L"));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#L`: malformed shape: `a.b#L` holds itself through lists \
         and maps only (`a.b#L` -> `a.b#L`): such a value never ends; Smithy allows \
         recursion only through a structure or union, so put one in the cycle"
    );
    let (text, _, _) = load_fault(json!({
        "a.b#M": { "type": "map", "key": { "target": "smithy.api#String" },
                   "value": { "target": "a.b#M" } }
    }));
    assert!(text.contains("`a.b#M` holds itself"), "{text}");
    let (text, shape, _) = load_fault(json!({
        "a.b#A": { "type": "list", "member": { "target": "a.b#L" } },
        "a.b#L": { "type": "list", "member": { "target": "a.b#M" } },
        "a.b#M": { "type": "map", "key": { "target": "smithy.api#String" },
                   "value": { "target": "a.b#L" } }
    }));
    assert_eq!(shape.as_deref(), Some("a.b#A"));
    assert!(
        text.contains(
            "`a.b#L` holds itself through lists and maps only (`a.b#L` -> `a.b#M` -> `a.b#L`)"
        ),
        "{text}"
    );
    // Through a structure or a union: a type of its own.
    load(json!({
        "a.b#L": { "type": "list", "member": { "target": "a.b#S" } },
        "a.b#S": { "type": "structure", "members": { "l": { "target": "a.b#L" } } },
        "a.b#UL": { "type": "list", "member": { "target": "a.b#U" } },
        "a.b#U": { "type": "union", "members": { "l": { "target": "a.b#UL" } } }
    }))
    .unwrap();

    let max = kms_spec::MAX_COLLECTION_NESTING;
    let (text, shape, _) = load_fault(nested_lists(max + 1));
    assert_eq!(shape.as_deref(), Some(format!("a.b#L{}", max + 1).as_str()));
    assert!(
        text.ends_with(&format!(
            "malformed shape: lists and maps nest more than {max} levels deep (a list or \
             map whose member targets a list or map is one level more): the generated \
             types would not compile; wrap an inner level in a structure"
        )),
        "{text}"
    );
    // Thousands of levels: an error, not a stack overflow.
    let (_, shape, _) = load_fault(nested_lists(3000));
    assert_eq!(shape.as_deref(), Some("a.b#L100"));
    // At the limit, the model loads and the innermost `@sensitive` is seen from the top
    // (the walk stopped at 32 levels).
    let mut shapes = nested_lists(max);
    shapes["a.b#S"] = json!({ "type": "structure", "members": {
        "deep": { "target": format!("a.b#L{max}") }
    }});
    let model = load(shapes).unwrap();
    let deep = &model.shape_by_name("a.b#S").unwrap().members[0];
    assert!(model.constraints(deep).sensitive);
}

/// A shape name becomes a Rust type name: one that is not a Smithy identifier panicked
/// the generator ("`\"\"` is not a valid identifier").
#[test]
fn shape_names_must_be_identifiers() {
    for name in ["_", "٣a", "a-b", "1st", "__"] {
        let id = format!("a.b#{name}");
        let (text, shape, _) = load_fault(json!({ &id: { "type": "string" } }));
        assert_eq!(shape.as_deref(), Some(id.as_str()));
        assert!(
            text.ends_with(&format!(
                "malformed shape: shape name `{name}` is not a Smithy identifier (letters, \
                 digits and `_`, beginning with a letter or with `_`s then a letter): rename \
                 the shape"
            )),
            "{text}"
        );
    }
    load(json!({ "a.b#_Ok_1": { "type": "string" } })).unwrap();
}

/// The prelude's shapes are built in; one defined there was skipped when generating (a
/// `smithy.api#Foo` named by code that did not exist), or replaced the built-in one
/// (`smithy.api#String` as an integer made every string an i32).
#[test]
fn shapes_cannot_be_defined_in_the_prelude_namespace() {
    for id in ["smithy.api#Foo", "smithy.api#String"] {
        let (text, shape, _) = load_fault(json!({ id: { "type": "integer" } }));
        assert_eq!(shape.as_deref(), Some(id));
        assert!(
            text.ends_with(&format!(
                "malformed shape: shapes cannot be defined in the prelude namespace \
                 `smithy.api`: the prelude's own shapes are built in and others are not \
                 generated; move `{id}` to the model's namespace"
            )),
            "{text}"
        );
    }
}

/// An `@range` bound is compared in the Rust type of its shape: one outside it was
/// truncated (byte 300 became 44), so valid values were refused.
#[test]
fn range_bounds_must_fit_the_type() {
    let range = |kind: &str, bound: serde_json::Value| json!({ "a.b#N": { "type": kind, "traits": { "smithy.api#range": { "max": bound } } } });
    for (kind, bound, rust) in [
        ("byte", json!(300), "i8 from -128 to 127"),
        ("byte", json!(-1000), "i8 from -128 to 127"),
        ("short", json!(32768), "i16 from -32768 to 32767"),
        (
            "integer",
            json!(99999999999_i64),
            "i32 from -2147483648 to 2147483647",
        ),
        (
            "long",
            json!(u64::MAX),
            "i64 from -9223372036854775808 to 9223372036854775807",
        ),
        (
            "long",
            json!(1e19),
            "i64 from -9223372036854775808 to 9223372036854775807",
        ),
    ] {
        let shapes = if bound.as_i64().is_some_and(|b| b < 0) {
            json!({ "a.b#N": { "type": kind, "traits": { "smithy.api#range": { "min": bound } } } })
        } else {
            range(kind, bound.clone())
        };
        let (text, _, _) = load_fault(shapes);
        assert!(
            text.ends_with(&format!(
                "malformed shape: @range bound {bound} does not fit `a.b#N` (its type is \
                 {kind}, held in an {rust}): narrow the bound, or target a wider type"
            )),
            "{text}"
        );
    }
    // On a member, of an intEnum.
    let (text, _, _) = load_fault(json!({
        "a.b#E": { "type": "intEnum", "members": {
            "A": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": 1 } }
        }},
        "a.b#S": { "type": "structure", "members": {
            "e": { "target": "a.b#E", "traits": { "smithy.api#range": { "max": 2147483648_i64 } } }
        }}
    }));
    assert!(
        text.ends_with("member `e`: @range bound 2147483648 does not fit `a.b#E` (its type is intenum, held in an i32 from -2147483648 to 2147483647): narrow the bound, or target a wider type"),
        "{text}"
    );
    for (kind, bound) in [
        ("byte", json!(127)),
        ("byte", json!(-128)),
        ("integer", json!(2147483647)),
        ("long", json!(i64::MAX)),
        ("long", json!(1e3)),
        ("bigInteger", json!(u64::MAX)),
        ("bigInteger", json!(-9007199254740992.0)),
    ] {
        load(range(kind, bound)).unwrap();
    }
    // Beyond 64 bits a bound is read as a float, rounded: `99999999999999999999` is 1e20.
    let text = Model::from_json_str(
        r#"{"smithy": "2.0", "shapes": {"a.b#N": {"type": "bigInteger",
            "traits": {"smithy.api#range": {"max": 99999999999999999999}}}}}"#,
        "fixture.json",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        text,
        "fixture.json: shape `a.b#N`: malformed shape: @range bound on `a.b#N` is beyond 64 \
         bits, where a JSON number is read as a float and rounded (here to 1e+20): bounds on \
         biginteger are supported from -9223372036854775808 to 18446744073709551615"
    );
}

/// An intEnum member's value is an integer that fits an i32, and a string enum's is a
/// string: others were silently dropped (an intEnum member gone) or replaced by the
/// member's name.
#[test]
fn enum_values_must_fit_the_enum() {
    let enumeration = |kind: &str, value: Option<serde_json::Value>| {
        let mut member = json!({ "target": "smithy.api#Unit" });
        if let Some(value) = value {
            member["traits"] = json!({ "smithy.api#enumValue": value });
        }
        json!({ "a.b#E": { "type": kind, "members": { "A": member } } })
    };
    for (kind, value, what) in [
        ("intEnum", json!("1"), "a whole number that fits an i32"),
        ("intEnum", json!(1.5), "a whole number that fits an i32"),
        (
            "intEnum",
            json!(2147483648_i64),
            "a whole number that fits an i32",
        ),
        ("intEnum", json!(true), "a whole number that fits an i32"),
        ("enum", json!(5), "a string"),
        ("enum", json!(true), "a string"),
    ] {
        let (text, shape, _) = load_fault(enumeration(kind, Some(value.clone())));
        assert_eq!(shape.as_deref(), Some("a.b#E"));
        assert!(
            text.ends_with(&format!(
                "malformed shape: member `A`: @enumValue {value} is not {what}, as an {kind} \
                 member's value is"
            )),
            "{text}"
        );
    }
    let (text, _, _) = load_fault(enumeration("intEnum", None));
    assert!(
        text.ends_with(
            "malformed shape: intEnum member `A` has no @enumValue: give it an integer value"
        ),
        "{text}"
    );
    load(enumeration("intEnum", Some(json!(-2147483648_i64)))).unwrap();
    load(enumeration("enum", Some(json!("a")))).unwrap();
    load(enumeration("enum", None)).unwrap();
}

/// Smithy requires a union to have a member; an empty one generated code that warns
/// "unreachable call".
#[test]
fn members_hold_data_not_operations_services_or_resources() {
    for (kind, what) in [
        ("operation", "an operation"),
        ("service", "a service"),
        ("resource", "a resource"),
    ] {
        let (text, shape, fault) = load_fault(json!({
            "a.b#S": { "type": "structure", "members": { "X": { "target": "a.b#T" } } },
            "a.b#T": { "type": kind },
        }));
        assert_eq!(shape.as_deref(), Some("a.b#S"), "{kind}");
        assert!(matches!(fault, Fault::Malformed(_)), "{kind}");
        assert_eq!(
            text,
            format!(
                "fixture.json: shape `a.b#S`: malformed shape: member `X` targets `a.b#T`, \
                 {what}: a member holds data"
            )
        );
    }
}

#[test]
fn unions_have_a_member() {
    let (text, shape, _) = load_fault(json!({ "a.b#U": { "type": "union", "members": {} } }));
    assert_eq!(shape.as_deref(), Some("a.b#U"));
    assert_eq!(
        text,
        "fixture.json: shape `a.b#U`: malformed shape: a union has at least one member: add \
         one, or use a structure"
    );
}

/// A `@default` is a value of its shape's type: a default of another type made wrong
/// code and schemas. `null` on a member (no default) and any value on a document fit.
#[test]
fn defaults_must_fit_the_type() {
    let member = |target: &str, default: serde_json::Value| {
        json!({
            "a.b#L": { "type": "list", "member": { "target": "smithy.api#String" } },
            "a.b#M": { "type": "map", "key": { "target": "smithy.api#String" },
                       "value": { "target": "smithy.api#String" } },
            "a.b#S": { "type": "structure", "members": {
                "m": { "target": target, "traits": { "smithy.api#default": default } }
            }}
        })
    };
    for (target, default, kind, expected) in [
        ("smithy.api#String", json!({}), "string", "a string"),
        ("smithy.api#String", json!(5), "string", "a string"),
        (
            "smithy.api#Boolean",
            json!(""),
            "boolean",
            "`true` or `false`",
        ),
        (
            "smithy.api#Integer",
            json!("x"),
            "integer",
            "a whole number",
        ),
        (
            "smithy.api#Integer",
            json!(1.5),
            "integer",
            "a whole number",
        ),
        ("smithy.api#Double", json!("1"), "double", "a number"),
        ("a.b#L", json!(false), "list", "the empty list `[]`"),
        ("a.b#L", json!(["a"]), "list", "the empty list `[]`"),
        ("a.b#M", json!({ "a": "b" }), "map", "the empty object `{}`"),
        (
            "smithy.api#Timestamp",
            json!(true),
            "timestamp",
            "a number or a date-time string",
        ),
    ] {
        let (text, shape, _) = load_fault(member(target, default.clone()));
        assert_eq!(shape.as_deref(), Some("a.b#S"));
        assert!(
            text.ends_with(&format!(
                "malformed shape: member `m`: @default {default} does not fit `{target}` \
                 (its type is {kind}): its default is {expected}"
            )),
            "{text}"
        );
    }
    for (target, default) in [
        ("smithy.api#String", json!("")),
        ("smithy.api#Boolean", json!(true)),
        ("smithy.api#Integer", json!(7)),
        ("smithy.api#Double", json!(1.5)),
        ("smithy.api#Timestamp", json!(0)),
        ("smithy.api#Timestamp", json!("2020-01-01T00:00:00Z")),
        ("smithy.api#Document", json!({ "a": 1 })),
        ("smithy.api#Blob", json!("")),
        ("a.b#L", json!([])),
        ("a.b#M", json!({})),
        ("smithy.api#String", json!(null)),
    ] {
        load(member(target, default)).unwrap();
    }
    // An enum's default is one of its values.
    let enums = |default: serde_json::Value| {
        let mut shapes = member("a.b#E", default);
        shapes["a.b#E"] = json!({ "type": "enum", "members": {
            "A": { "target": "smithy.api#Unit" },
            "B": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": "b" } }
        }});
        shapes["a.b#I"] = json!({ "type": "intEnum", "members": {
            "A": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": 0 } }
        }});
        shapes
    };
    let (text, _, _) = load_fault(enums(json!("")));
    assert!(
        text.ends_with(
            "member `m`: @default \"\" is not a value of `a.b#E` (its type is enum) (\"A\", \
             \"b\"): use one of them"
        ),
        "{text}"
    );
    load(enums(json!("b"))).unwrap();
    let mut shapes = enums(json!(1));
    shapes["a.b#S"]["members"]["m"]["target"] = json!("a.b#I");
    let (text, _, _) = load_fault(shapes.clone());
    assert!(
        text.ends_with("is not a value of `a.b#I` (its type is intenum) (0): use one of them"),
        "{text}"
    );
    shapes["a.b#S"]["members"]["m"]["traits"]["smithy.api#default"] = json!(0);
    load(shapes).unwrap();
    // On a shape of its own.
    let (text, _, _) = load_fault(json!({
        "a.b#N": { "type": "integer", "traits": { "smithy.api#default": false } }
    }));
    assert!(
        text.ends_with("@default false does not fit `a.b#N` (its type is integer): its default is a whole number"),
        "{text}"
    );
}

/// `@length` and `@range` bounds that are not numbers, and either trait where it does
/// not apply, were silently ignored: no check was made.
#[test]
fn length_and_range_must_apply_and_be_numbers() {
    let member = |target: &str, name: &str, value: serde_json::Value| {
        json!({ "a.b#S": { "type": "structure", "members": {
            "m": { "target": target, "traits": { format!("smithy.api#{name}"): value } }
        }}})
    };
    for (target, name, value, message) in [
        (
            "smithy.api#String",
            "length",
            json!({ "min": -1 }),
            "member `m`: @length min -1 is not a whole number from 0",
        ),
        (
            "smithy.api#Blob",
            "length",
            json!({ "max": 1.5 }),
            "member `m`: @length max 1.5 is not a whole number from 0",
        ),
        (
            "smithy.api#String",
            "length",
            json!(3),
            "member `m`: @length 3 is not an object with `min` and `max`",
        ),
        (
            "smithy.api#Integer",
            "range",
            json!({ "min": "1" }),
            "member `m`: @range min \"1\" is not a number",
        ),
        (
            "smithy.api#String",
            "range",
            json!({ "min": 1 }),
            "member `m`: @range applies to numbers, not to `smithy.api#String` (its type is \
             string): remove it, or use @length",
        ),
        (
            "smithy.api#Integer",
            "length",
            json!({ "min": 1 }),
            "member `m`: @length applies to strings, blobs, lists and maps, not to \
             `smithy.api#Integer` (its type is integer): remove it, or use @range",
        ),
        (
            "smithy.api#Boolean",
            "length",
            json!({ "min": 1 }),
            "member `m`: @length applies to strings, blobs, lists and maps, not to \
             `smithy.api#Boolean` (its type is boolean): remove it",
        ),
    ] {
        let (text, _, _) = load_fault(member(target, name, value));
        assert!(
            text.ends_with(&format!("malformed shape: {message}")),
            "{text}"
        );
    }
    let (text, _, _) = load_fault(json!({
        "a.b#S": { "type": "string", "traits": { "smithy.api#range": { "max": 3 } } }
    }));
    assert!(
        text.ends_with("@range applies to numbers, not to `a.b#S` (its type is string): remove it, or use @length"),
        "{text}"
    );
    load(member(
        "smithy.api#Long",
        "range",
        json!({ "min": -1, "max": 1e3 }),
    ))
    .unwrap();
    load(member(
        "smithy.api#String",
        "length",
        json!({ "min": 0, "max": 3 }),
    ))
    .unwrap();
}

/// A value of a trait the generator reads that is not of the trait's type is refused,
/// not read as no trait: a numeric `@pattern` dropped the constraint, and
/// `@error("clinet")` was blamed on the operations listing the error.
#[test]
fn trait_values_must_be_of_the_traits_type() {
    for (traits, message) in [
        (
            json!({ "smithy.api#pattern": 12 }),
            "@pattern 12 is not a string (an ECMA-262 regular expression)",
        ),
        (
            json!({ "smithy.api#documentation": ["x"] }),
            "@documentation [\"x\"] is not a string",
        ),
        (
            json!({ "smithy.api#error": "clinet" }),
            "@error \"clinet\" is not \"client\" or \"server\"",
        ),
        (
            json!({ "smithy.api#error": "client", "smithy.api#httpError": "500" }),
            "@httpError \"500\" is not an HTTP status, a whole number from 100 to 599",
        ),
        (
            json!({ "smithy.api#error": "client", "smithy.api#httpError": 999 }),
            "@httpError 999 is not an HTTP status, a whole number from 100 to 599",
        ),
        (
            json!({ "smithy.api#paginated": true }),
            "@paginated true is not an object",
        ),
        (
            json!({ "smithy.api#paginated": { "items": 1 } }),
            "@paginated items 1 is not a string (a member name or path)",
        ),
    ] {
        let (text, shape, _) = load_fault(json!({
            "a.b#S": { "type": "structure", "members": {}, "traits": traits }
        }));
        assert_eq!(
            text,
            format!("fixture.json: shape `a.b#S`: malformed shape: {message}")
        );
        assert_eq!(shape.as_deref(), Some("a.b#S"));
    }
    // On a member too.
    let (text, _, _) = load_fault(json!({ "a.b#S": { "type": "structure", "members": {
        "m": { "target": "smithy.api#String", "traits": { "smithy.api#pattern": true } }
    }}}));
    assert!(
        text.ends_with("malformed shape: member `m`: @pattern true is not a string (an ECMA-262 regular expression)"),
        "{text}"
    );
    load(
        json!({ "a.b#E": { "type": "structure", "members": {}, "traits": {
            "smithy.api#error": "server", "smithy.api#httpError": 503,
            "smithy.api#documentation": "Busy."
        }}}),
    )
    .unwrap();
}

/// A service whose operation `a.b#Get` outputs `a.b#Out` with `members` (name → target),
/// beside `shapes`, with `rename`.
fn service_with(
    rename: serde_json::Value,
    members: serde_json::Value,
    shapes: serde_json::Value,
) -> Result<Model, kms_spec::LoadError> {
    let mut all = json!({
        "a.b#Svc": { "type": "service", "operations": [{ "target": "a.b#Get" }],
            "errors": [{ "target": "a.b#Oops" }], "rename": rename },
        "a.b#Get": { "type": "operation", "output": { "target": "a.b#Out" } },
        "a.b#Oops": { "type": "structure", "members": {}, "traits": { "smithy.api#error": "client" } },
        "a.b#Out": { "type": "structure", "members": members.as_object().unwrap().iter()
            .map(|(name, target)| (name.clone(), json!({ "target": target })))
            .collect::<serde_json::Map<_, _>>() },
    });
    all.as_object_mut()
        .unwrap()
        .extend(shapes.as_object().unwrap().clone());
    load(all)
}

#[test]
fn a_service_renames_shapes_of_one_name_from_two_namespaces() {
    let widgets = json!({
        "a.b#Widget": { "type": "structure", "members": {} },
        "c.d#Widget": { "type": "structure", "members": {} },
    });
    let members = json!({ "A": "a.b#Widget", "C": "c.d#Widget" });
    // Without a rename, the second shape of the name is refused, naming both and the way out.
    let err = service_with(json!({}), members.clone(), widgets.clone())
        .unwrap()
        .service(None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "fixture.json: shape `c.d#Widget`: malformed shape: `a.b#Widget` and `c.d#Widget` \
         have the name `Widget` (case aside) in the service `a.b#Svc`, whose shapes have \
         distinct names whatever their namespace: give one a name of its own in the \
         service's `rename` (`\"c.d#Widget\": \"NewName\"`)"
    );
    // Case aside: `WIDGET` is `Widget`.
    let err = service_with(
        json!({}),
        json!({ "A": "a.b#Widget", "C": "c.d#WIDGET" }),
        json!({
            "a.b#Widget": { "type": "structure", "members": {} },
            "c.d#WIDGET": { "type": "union", "members": { "X": { "target": "smithy.api#String" } } },
        }),
    )
    .unwrap()
    .service(None)
    .unwrap_err();
    assert!(err.to_string().contains("have the name `WIDGET`"), "{err}");
    // With one, the service names the shape so; its id stays.
    let model = service_with(
        json!({ "c.d#Widget": "OtherWidget" }),
        members,
        widgets.clone(),
    )
    .unwrap();
    let service = model.service(None).unwrap();
    let id = |s: &str| kms_spec::ShapeId::parse(s).unwrap();
    assert_eq!(service.name(&id("c.d#Widget")), "OtherWidget");
    assert_eq!(service.name(&id("a.b#Widget")), "Widget");
    assert!(service.shapes.iter().any(|s| s.id == id("c.d#Widget")));
    // A new name that meets another shape's (case aside) is refused as well.
    let err = service_with(
        json!({ "c.d#Widget": "oops" }),
        json!({ "A": "a.b#Widget", "C": "c.d#Widget" }),
        widgets.clone(),
    )
    .unwrap()
    .service(None)
    .unwrap_err();
    assert!(
        err.to_string().contains(
            "`a.b#Oops` and `c.d#Widget` (renamed `oops`) have the name `oops` (case aside)"
        ),
        "{err}"
    );
}

/// Simple shapes and lists of them may share a name when they are alike (Smithy lets
/// them: they generate no type); different traits make them a conflict.
#[test]
fn alike_simple_shapes_and_lists_may_share_a_name() {
    let shapes = |pattern: &str| {
        json!({
            "a.b#Id": { "type": "string", "traits": { "smithy.api#pattern": "^a$" } },
            "c.d#Id": { "type": "string", "traits": { "smithy.api#pattern": pattern } },
            "a.b#Ids": { "type": "list", "member": { "target": "a.b#Id" } },
            "c.d#Ids": { "type": "list", "member": { "target": "c.d#Id" } },
        })
    };
    let members = json!({ "A": "a.b#Ids", "C": "c.d#Ids" });
    service_with(json!({}), members.clone(), shapes("^a$"))
        .unwrap()
        .service(None)
        .unwrap();
    let err = service_with(json!({}), members.clone(), shapes("^c$"))
        .unwrap()
        .service(None)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`a.b#Id` and `c.d#Id` have the name `Id`"),
        "{err}"
    );
    // Lists of strings that are not alike are not alike either.
    let err = service_with(
        json!({ "c.d#Id": "OtherId" }),
        members.clone(),
        shapes("^c$"),
    )
    .unwrap()
    .service(None)
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`a.b#Ids` and `c.d#Ids` have the name `Ids`"),
        "{err}"
    );
    service_with(
        json!({ "c.d#Id": "OtherId", "c.d#Ids": "OtherIds" }),
        members,
        shapes("^c$"),
    )
    .unwrap()
    .service(None)
    .unwrap();
}

#[test]
fn what_a_service_cannot_rename() {
    let widget = json!({ "a.b#Widget": { "type": "structure", "members": {} } });
    let members = json!({ "W": "a.b#Widget" });
    let refused =
        |rename: serde_json::Value| match service_with(rename, members.clone(), widget.clone()) {
            Err(err) => err.to_string(),
            Ok(model) => model.service(None).unwrap_err().to_string(),
        };
    assert_eq!(
        refused(json!({ "a.b#Get": "Fetch" })),
        "fixture.json: shape `a.b#Svc`: malformed shape: `rename` renames `a.b#Get`, an \
         operation: a service cannot rename its operations; rename the shape itself"
    );
    assert!(refused(json!({ "a.b#Oops": "Oh" })).contains(
        "`a.b#Oops`, an error: a service cannot rename its errors, whose names are their \
             codes on the wire"
    ));
    assert!(refused(json!({ "a.b#Nowhere": "Here" })).contains(
        "`rename` renames `a.b#Nowhere` to `Here`, but the service's operations and \
             errors do not reach `a.b#Nowhere`: remove the entry"
    ));
    assert!(
        refused(json!({ "a.b#Widget$W": "X" }))
            .contains("`rename` renames the member `a.b#Widget$W`: members cannot be renamed")
    );
    assert!(
        refused(json!({ "a.b#Widget": "a-b" }))
            .contains("`rename` renames `a.b#Widget` to \"a-b\", which is not a Smithy identifier")
    );
    assert!(refused(json!({ "a.b#Widget": 1 })).contains("to 1, which is not a Smithy identifier"));
    assert!(
        refused(json!({ "a.b#Widget": "Widget" }))
            .contains("renames `a.b#Widget` to `Widget`, its own name: remove the entry")
    );
    assert!(refused(json!(["a.b#Widget"])).contains("`rename` is not an object"));
    let model = load(json!({
        "a.b#Svc": { "type": "service", "resources": [{ "target": "a.b#Res" }],
            "rename": { "a.b#Res": "Thing" } },
        "a.b#Res": { "type": "resource" },
    }))
    .unwrap();
    assert_eq!(
        model.service(None).unwrap_err().to_string(),
        "fixture.json: shape `a.b#Svc`: malformed shape: `rename` renames `a.b#Res`, a \
         resource: a service cannot rename its resources; rename the shape itself"
    );
}

#[test]
fn a_service_speaks_its_protocol_and_signs_with_its_name() {
    let service = |traits: serde_json::Value| {
        load(json!({ "a.b#Svc": { "type": "service", "traits": traits } })).unwrap()
    };
    let model = service(json!({}));
    let view = model.service(None).unwrap();
    assert_eq!((view.protocol(), view.signing_name()), (None, None));
    let model = service(json!({
        "aws.protocols#awsJson1_1": {},
        "aws.api#service": { "sdkId": "KMS", "endpointPrefix": "kms" },
    }));
    let view = model.service(None).unwrap();
    assert_eq!(view.protocol(), Some("aws.protocols#awsJson1_1"));
    // Without `aws.auth#sigv4`, the endpoint prefix.
    assert_eq!(view.signing_name().as_deref(), Some("kms"));
    let model = service(json!({
        "aws.api#service": { "sdkId": "KMS", "endpointPrefix": "kms" },
        "aws.auth#sigv4": { "name": "kms-signing" },
    }));
    let view = model.service(None).unwrap();
    assert_eq!(view.signing_name().as_deref(), Some("kms-signing"));
}

#[test]
fn endpoint_tests_that_do_not_parse_are_refused() {
    let (text, shape, fault) = load_fault(json!({
        "a.b#Svc": { "type": "service", "traits": {
            "smithy.rules#endpointTests": { "testCases": [{ "expect": {} }] }
        } }
    }));
    assert_eq!(shape.as_deref(), Some("a.b#Svc"));
    assert!(
        matches!(
            fault,
            Fault::BadEndpointRules {
                trait_name: "smithy.rules#endpointTests",
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("test case 1: `expect` holds neither `endpoint.url` nor `error`"),
        "{text}"
    );
}

#[test]
fn a_service_is_chosen_by_its_id() {
    let model = load(json!({
        "a.b#One": { "type": "service" },
        "a.b#Two": { "type": "service" },
        "a.b#S": { "type": "structure", "members": {} },
    }))
    .unwrap();
    let service = model.service(Some("a.b#Two")).unwrap();
    assert_eq!(service.shape.id.as_str(), "a.b#Two");
    // A shape that is not a service is not one to choose.
    let err = model.service(Some("a.b#S")).unwrap_err();
    assert!(
        matches!(&*err.fault, Fault::UnknownShape(id) if id == "a.b#S"),
        "{err}"
    );
    let err = model.service(None).unwrap_err();
    assert!(matches!(*err.fault, Fault::SeveralServices(_)), "{err}");
}
