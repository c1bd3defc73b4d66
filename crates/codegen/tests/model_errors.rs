//! Models the generator would turn into code that does not compile (colliding names,
//! `errors` that are not errors, several services) are model errors naming the file,
//! the shape and the names involved, before any code is generated.

use serde_json::{Value, json};

/// The timestamp fixture with `edit` applied to its shapes, generated.
fn generate(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Result<(), String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/timestamp.json");
    let mut model: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(model["shapes"].as_object_mut().unwrap());
    let model = kms_spec::Model::from_json_str(&model.to_string(), "edited.json")
        .map_err(|e| e.to_string())?;
    kms_codegen::generate(&model)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Adds `members` to the `RunResponse` structure.
fn response_members(members: Value) -> impl FnOnce(&mut serde_json::Map<String, Value>) {
    move |shapes| {
        let response = shapes["example.fixture#RunResponse"]["members"]
            .as_object_mut()
            .unwrap();
        response.extend(members.as_object().unwrap().clone());
    }
}

/// Adds an empty structure `name` and a `RunResponse` member `E` targeting it.
fn with_structure(name: &'static str) -> impl FnOnce(&mut serde_json::Map<String, Value>) {
    move |shapes| {
        let id = format!("example.fixture#{name}");
        shapes.insert(id.clone(), json!({ "type": "structure", "members": {} }));
        response_members(json!({ "E": { "target": id } }))(shapes);
    }
}

#[test]
fn the_fixture_generates() {
    generate(|_| {}).unwrap();
}

#[test]
fn operation_errors_must_be_error_structures() {
    let error = generate(|shapes| {
        shapes["example.fixture#Run"]["errors"] =
            json!([{ "target": "example.fixture#RunRequest" }]);
    })
    .unwrap_err();
    assert_eq!(
        error,
        "edited.json: shape `example.fixture#Run`: malformed shape: `errors` lists \
         `example.fixture#RunRequest`, which is not a structure with `@error`"
    );
}

/// Smithy lets an operation and its service both list an error: it is one variant of
/// the operation's error enum, not a fault.
#[test]
fn an_error_listed_by_the_operation_and_the_service_is_one_variant() {
    let model = |twice: bool| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/timestamp.json");
        let mut model: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let shapes = model["shapes"].as_object_mut().unwrap();
        shapes.insert(
            "example.fixture#Gone".into(),
            json!({ "type": "structure", "members": {}, "traits": { "smithy.api#error": "client" } }),
        );
        let service = shapes
            .values_mut()
            .find(|s| s["type"] == "service")
            .unwrap();
        service["errors"] = json!([{ "target": "example.fixture#Gone" }]);
        if twice {
            shapes["example.fixture#Run"]["errors"] = json!([{ "target": "example.fixture#Gone" }]);
        }
        let model = kms_spec::Model::from_json_str(&model.to_string(), "edited.json").unwrap();
        kms_codegen::generate(&model).unwrap().to_string()
    };
    let once = model(false);
    assert_eq!(model(true), once);
    assert_eq!(once.matches("Gone (Gone)").count(), 1, "{once}");
}

#[test]
fn colliding_member_and_variant_names() {
    let error = generate(response_members(json!({
        "KeyID": { "target": "smithy.api#String" },
        "KeyId": { "target": "smithy.api#String" },
    })))
    .unwrap_err();
    assert_eq!(
        error,
        "edited.json: shape `example.fixture#RunResponse`: member `KeyID` \
         and member `KeyId` both become the Rust name `key_id`; rename one"
    );
    // `Foo`'s setter and `SetFoo`'s field are both the builder method `set_foo`.
    let error = generate(response_members(json!({
        "Foo": { "target": "smithy.api#String" },
        "SetFoo": { "target": "smithy.api#String" },
    })))
    .unwrap_err();
    assert_eq!(
        error,
        "edited.json: shape `example.fixture#RunResponse`: builder methods: member `Foo` \
         (setter) and member `SetFoo` both become the Rust name `set_foo`; rename one"
    );
    let error = generate(|shapes| {
        shapes.insert(
            "example.fixture#E".into(),
            json!({ "type": "enum", "members": {
                "FOO_BAR": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": "FOO_BAR" } },
                "FooBar": { "target": "smithy.api#Unit", "traits": { "smithy.api#enumValue": "FooBar" } },
            }}),
        );
        response_members(json!({ "E": { "target": "example.fixture#E" } }))(shapes);
    })
    .unwrap_err();
    assert!(
        error.starts_with("edited.json: shape `example.fixture#E`: ")
            && error.contains("both become the Rust name `FooBar`"),
        "{error}"
    );
}

#[test]
fn shape_names_must_not_collide_or_shadow_the_prelude() {
    let error = generate(with_structure("Option")).unwrap_err();
    assert_eq!(
        error,
        "edited.json: shape `example.fixture#Option`: shape \
         `example.fixture#Option` becomes the Rust name `Option`, which would shadow the \
         prelude's `Option` in the generated code; rename the shape"
    );
    // A structure `RunError` would take the name of the operation `Run`'s error enum.
    let error = generate(with_structure("RunError")).unwrap_err();
    assert!(
        error.contains("both become the Rust name `RunError`"),
        "{error}"
    );
}

#[test]
fn several_services_name_the_file_and_what_to_do() {
    let error = generate(|shapes| {
        let mut other = shapes["example.fixture#FixtureService"].clone();
        other["version"] = json!("2021-01-01");
        shapes.insert("example.fixture#Other".into(), other);
    })
    .unwrap_err();
    assert_eq!(
        error,
        "edited.json: the model has several services (`example.fixture#FixtureService`, \
         `example.fixture#Other`) and code is generated for one: keep only that service \
         shape in the file (`cargo xtask import` writes one)"
    );
}

/// Models the generator would have panicked on, or turned into code that fails to
/// compile without naming the model, are model errors.
#[test]
fn members_operations_and_ranges_that_cannot_be_generated() {
    for name in ["", "_", "a-b", "1st"] {
        let error = generate(response_members(
            json!({ name: { "target": "smithy.api#String" } }),
        ))
        .unwrap_err();
        assert!(
            error.contains(&format!("member name `{name}` is not a Smithy identifier")),
            "{error}"
        );
    }
    let error = generate(|shapes| {
        shapes["example.fixture#Run"]["input"] = json!({ "target": "smithy.api#String" });
    })
    .unwrap_err();
    assert!(
        error.ends_with(
            "the input `smithy.api#String` is not a structure (its type is string): an \
             operation's input is a structure"
        ),
        "{error}"
    );
    let error = generate(response_members(
        json!({ "Op": { "target": "example.fixture#Run" } }),
    ))
    .unwrap_err();
    assert!(
        error.contains(
            "member `Op` targets `example.fixture#Run`, an operation: a member holds data"
        ),
        "{error}"
    );
    let error = generate(response_members(json!({ "N": {
        "target": "smithy.api#Integer",
        "traits": { "smithy.api#range": { "min": 0.5, "max": 9 } }
    }})))
    .unwrap_err();
    assert!(
        error.contains("member `N`: @range bound 0.5 is not a whole number"),
        "{error}"
    );
    // Fractional bounds on a float are fine.
    generate(response_members(json!({ "F": {
        "target": "smithy.api#Double",
        "traits": { "smithy.api#range": { "min": 0.5 } }
    }})))
    .unwrap();
}

/// `operation_schemas` (what `cargo xtask codegen` writes) refuses what `generate`
/// refuses, with the same error: it wrote the schemas of a model whose types the
/// `generate!` macro then refused to generate.
#[test]
fn schemas_refuse_what_generate_refuses() {
    let edits: [fn(&mut serde_json::Map<String, Value>); 3] = [
        // An unknown trait (a typo of `@length`).
        |shapes| {
            shapes["example.fixture#RunRequest"]["traits"] =
                json!({ "smithy.api#lenght": { "min": 1 } });
        },
        // A trait not supported yet.
        |shapes| {
            shapes["example.fixture#RunRequest"]["traits"] = json!({ "smithy.api#sparse": {} });
        },
        // `errors` that are not errors.
        |shapes| {
            shapes["example.fixture#Run"]["errors"] =
                json!([{ "target": "example.fixture#RunRequest" }]);
        },
    ];
    for edit in edits {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/timestamp.json");
        let mut model: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        edit(model["shapes"].as_object_mut().unwrap());
        let model = kms_spec::Model::from_json_str(&model.to_string(), "edited.json").unwrap();
        let generated = kms_codegen::generate(&model).map(drop).unwrap_err();
        let schemas = kms_codegen::operation_schemas(&model)
            .map(drop)
            .unwrap_err();
        assert_eq!(schemas.to_string(), generated.to_string());
        assert!(
            schemas
                .to_string()
                .starts_with("edited.json: shape `example.fixture#"),
            "{schemas}"
        );
    }
}
