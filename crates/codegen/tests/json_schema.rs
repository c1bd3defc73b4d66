//! The JSON Schemas generated from the model ([`kms_codegen::operation_schemas`]):
//! snapshots for a few fixtures, real data checked against the real spec's schemas with
//! an independent validator (the `jsonschema` crate), and the whole KMS model.

use std::path::{Path, PathBuf};

use kms_codegen::OperationSchemas;
use serde_json::{Value, json};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schemas(path: &Path) -> Vec<OperationSchemas> {
    let model = kms_spec::Model::load(path).unwrap_or_else(|e| panic!("{e}"));
    kms_codegen::operation_schemas(&model).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::meta::validate(schema).unwrap_or_else(|e| panic!("not a valid schema: {e}"));
    jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

/// Every violation of `instance`, as `path: message`.
fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every `$ref` of `schema` resolves within it.
fn assert_refs_resolve(root: &Value, at: &Value, context: &str) {
    match at {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref") {
                let pointer = reference
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .unwrap_or_else(|| panic!("{context}: non-local $ref {reference}"));
                assert!(
                    root.pointer(pointer).is_some(),
                    "{context}: $ref {reference} does not resolve"
                );
            }
            map.values()
                .for_each(|v| assert_refs_resolve(root, v, context));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| assert_refs_resolve(root, v, context)),
        _ => {}
    }
}

#[test]
fn fixture_schemas() {
    let dir = manifest_dir().join("tests/fixtures");
    for name in [
        "nested",
        "enum",
        "map",
        "range",
        "rename",
        "required_default",
        "timestamp",
        "union",
    ] {
        let path = dir.join(format!("{name}.json"));
        let all: serde_json::Map<String, Value> = schemas(&path)
            .into_iter()
            .map(|s| (s.operation, json!({ "input": s.input, "output": s.output })))
            .collect();
        for op in all.values() {
            for schema in [&op["input"], &op["output"]] {
                validator(schema);
                assert_refs_resolve(schema, schema, name);
            }
        }
        let text = serde_json::to_string_pretty(&Value::Object(all)).unwrap();
        insta::assert_snapshot!(format!("schema_{name}"), text);
    }
}

#[test]
fn union_fixture_accepts_one_member_and_the_wire_forms() {
    let path = manifest_dir().join("tests/fixtures/union.json");
    let run = schemas(&path).remove(0);
    let input = validator(&run.input);
    let output = validator(&run.output);
    for ok in [
        json!({ "Choice": { "Text": "a" } }),
        json!({ "Choice": { "Point": { "X": 1 } } }),
        json!({ "Choice": { "Point": { "X": 1, "Y": null } } }),
        json!({ "Choice": { "Point": { "X": 1, "Y": 2, "Label": null, "Mode": "slow" } } }),
        json!({ "Choice": { "Nothing": {} } }),
        json!({ "Choice": { "Raw": [1, "two", null] } }),
        json!({ "Choice": { "Small": -128 } }),
        json!({ "Choice": { "Labels": { "fast": "x" } } }),
    ] {
        assert_eq!(violations(&input, &ok), Vec::<String>::new(), "{ok}");
    }
    for bad in [
        json!({}),
        json!({ "Choice": null }),
        json!({ "Choice": {} }),
        json!({ "Choice": { "Text": "a", "Small": 1 } }),
        json!({ "Choice": { "Other": 1 } }),
        json!({ "Choice": { "Text": "" } }),
        json!({ "Choice": { "Small": 128 } }),
        json!({ "Choice": { "Point": { "Y": 2 } } }),
        json!({ "Choice": { "Labels": { "FAST": "x" } } }),
        json!({ "Choice": { "Labels": { "abcdefghi": "x" } } }),
        json!({ "Choice": { "Point": { "X": 1, "Mode": "FAST" } } }),
    ] {
        assert!(!input.is_valid(&bad), "accepted {bad}");
    }
    assert!(output.is_valid(&json!({ "Choices": [{ "Text": "a" }, { "Nothing": {} }] })));
    assert!(output.is_valid(&json!({ "Choices": null })));
    assert!(!output.is_valid(&json!({ "Choices": [{ "Nothing": {} }, { "Nothing": {} }, { "Nothing": {} }, { "Nothing": {} }] })));
}

fn spec_schemas() -> OperationSchemas {
    let path = manifest_dir().join("../../spec/kms.describe-custom-key-stores.json");
    // DescribeCustomKeyStores', whatever other operations the spec holds.
    schemas(&path)
        .into_iter()
        .find(|s| s.operation == "DescribeCustomKeyStores")
        .expect("the spec has DescribeCustomKeyStores")
}

#[test]
fn spec_requests_are_checked_like_the_validator_does() {
    let schemas = spec_schemas();
    assert_eq!(schemas.operation, "DescribeCustomKeyStores");
    let input = validator(&schemas.input);
    for ok in [
        json!({}),
        json!({ "Limit": 10, "Marker": "abc" }),
        json!({ "Limit": 1000 }),
        json!({ "CustomKeyStoreId": "cks-1234567890abcdef0" }),
        json!({ "CustomKeyStoreName": "ExampleKeyStore" }),
        // The generated deserializers read null as absent.
        json!({ "Limit": null, "Marker": null }),
        // Members the model does not know are ignored.
        json!({ "Unknown": true }),
    ] {
        assert_eq!(violations(&input, &ok), Vec::<String>::new(), "{ok}");
    }
    for (bad, keyword) in [
        (json!({ "Limit": 0 }), "minimum"),
        (json!({ "Limit": 1001 }), "maximum"),
        (json!({ "Limit": 1.5 }), "type"),
        (json!({ "Limit": "10" }), "type"),
        (json!({ "CustomKeyStoreName": "" }), "minLength"),
        (json!({ "CustomKeyStoreId": "x".repeat(65) }), "maxLength"),
        (json!({ "Marker": "\u{100}" }), "pattern"),
        (json!([]), "type"),
    ] {
        let errors: Vec<_> = input.iter_errors(&bad).collect();
        assert!(
            errors
                .iter()
                .any(|e| e.schema_path().as_str().ends_with(keyword)),
            "{bad}: expected a `{keyword}` violation, got {:?}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
    }
}

/// The server's demo data file, page by page, as the responses it serves.
#[test]
fn spec_responses_from_the_server_demo_data_are_valid() {
    let schemas = spec_schemas();
    let output = validator(&schemas.output);
    let path = manifest_dir().join("../server/examples/stores.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let accounts = data["Stores"].as_array().expect("`Stores` is an array");
    assert!(!accounts.is_empty());
    let mut entries = 0;
    for account in accounts {
        let stores = &account["CustomKeyStores"];
        entries += stores.as_array().unwrap().len();
        for response in [
            json!({ "CustomKeyStores": stores, "Truncated": false }),
            json!({ "CustomKeyStores": stores, "NextMarker": "bWFya2Vy", "Truncated": true }),
        ] {
            assert_eq!(
                violations(&output, &response),
                Vec::<String>::new(),
                "{}",
                account["AccountId"]
            );
        }
    }
    assert!(entries >= 2);

    let entry = accounts[0]["CustomKeyStores"][0].clone();
    // A value a later service defines (a new state) is one clients keep: valid in a
    // response, as aws_json::decode reads it.
    let mut newer = entry.clone();
    newer["ConnectionState"] = json!("HIBERNATING");
    newer["CustomKeyStoreType"] = json!("QUANTUM_STORE");
    assert_eq!(
        violations(&output, &json!({ "CustomKeyStores": [newer] })),
        Vec::<String>::new()
    );
    for (member, value) in [
        ("ConnectionState", json!(7)),
        ("CreationDate", json!("2019-02-25T21:13:27Z")),
        ("CloudHsmClusterId", json!("not-a-cluster")),
        ("CustomKeyStoreType", json!(1)),
        ("XksProxyConfiguration", json!({ "UriPath": "/nope" })),
    ] {
        let mut bad = entry.clone();
        bad[member] = value;
        let response = json!({ "CustomKeyStores": [bad] });
        assert!(!output.is_valid(&response), "accepted {member}: {response}");
    }
    // `Truncated` has a zero-like default: `null`, like absent, reads as `false`.
    assert!(output.is_valid(&json!({ "Truncated": null })));
    assert!(!output.is_valid(&json!({ "Truncated": "false" })));
    assert!(output.is_valid(&json!({})));
}

/// The generator handles every shape of the whole KMS model, and every `@examples` input
/// and output of the model is valid against its operation's schemas.
#[test]
fn whole_kms_model() {
    // The import of every operation of the official model (`cargo xtask check` keeps it
    // equal to a fresh one).
    let path = manifest_dir().join("../types/tests/models/kms.json");
    let all = schemas(&path);
    assert_eq!(all.len(), 54);
    let model = kms_spec::Model::load(&path).unwrap();
    let mut checked = 0;
    for schemas in &all {
        let context = &schemas.operation;
        let op = model
            .shape_by_name(&format!("com.amazonaws.kms#{context}"))
            .unwrap();
        for (role, schema) in [("input", &schemas.input), ("output", &schemas.output)] {
            assert_eq!(schema["$schema"], kms_codegen::json_schema::DIALECT);
            assert_refs_resolve(schema, schema, context);
            let validator = validator(schema);
            for example in op.traits.examples() {
                let instance = if role == "input" {
                    &example.input
                } else {
                    &example.output
                };
                if let Some(instance) = instance {
                    assert_eq!(
                        violations(&validator, instance),
                        Vec::<String>::new(),
                        "{context} {role} example {:?}",
                        example.title
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} examples checked");

    let encrypt = all.iter().find(|s| s.operation == "Encrypt").unwrap();
    let context = &encrypt.input["properties"]["EncryptionContext"];
    assert_eq!(context["type"], json!(["object", "null"]));
    assert_eq!(context["additionalProperties"]["type"], "string");
    assert_eq!(
        encrypt.output["properties"]["CiphertextBlob"]["anyOf"][0]["$ref"],
        "#/$defs/Blob"
    );
    assert_eq!(encrypt.output["$defs"]["Blob"]["contentEncoding"], "base64");
    // `Plaintext` is @length(1..4096) bytes, @sensitive: its base64 text is 4 to 5464
    // characters, and its description says it is sensitive.
    let plaintext = &encrypt.input["properties"]["Plaintext"];
    assert_eq!(
        (&plaintext["minLength"], &plaintext["maxLength"]),
        (&json!(4), &json!(5464)),
        "{plaintext}"
    );
    assert!(
        plaintext["description"]
            .as_str()
            .unwrap()
            .contains("Sensitive (`@sensitive`)"),
        "{plaintext}"
    );
    let encrypt_input = validator(&encrypt.input);
    for (plaintext, valid) in [("", false), ("QQ==", true)] {
        let request = json!({ "KeyId": "alias/k", "Plaintext": plaintext });
        assert_eq!(encrypt_input.is_valid(&request), valid, "{request}");
    }
    assert!(
        encrypt.input["description"]
            .as_str()
            .unwrap()
            .starts_with("The input of the `Encrypt` operation.\n\n"),
        "{}",
        encrypt.input["description"]
    );
}

/// Floats without a range take awsJson's strings for NaN and the infinities too.
#[test]
fn special_floats_are_valid_where_they_can_be() {
    let path = manifest_dir().join("tests/fixtures/range.json");
    let run = schemas(&path).remove(0);
    let input = validator(&run.input);
    for (request, valid) in [
        (
            json!({ "Weights": ["Infinity", 1.5, "-Infinity", "NaN"], "Scale": "NaN" }),
            true,
        ),
        (json!({ "Weights": ["nan"] }), false),
        (json!({ "Scale": "1.5" }), false),
        (json!({ "Scale": null }), true),
    ] {
        assert_eq!(input.is_valid(&request), valid, "{request}");
    }
}

/// A blob's `@length` in bytes bounds its base64 text, 4 characters per 3 bytes: past
/// u64::MAX characters (4.6e18 bytes and up) the bound stays u64::MAX (it overflowed,
/// a panic in a debug build).
#[test]
fn huge_blob_lengths_do_not_overflow() {
    let path = manifest_dir().join("tests/fixtures/timestamp.json");
    let mut model: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    model["shapes"]["example.fixture#RunResponse"]["members"]["Data"] = json!({
        "target": "smithy.api#Blob",
        "traits": { "smithy.api#length": { "min": 6_000_000_000_000_000_000_u64, "max": u64::MAX } }
    });
    let model = kms_spec::Model::from_json_str(&model.to_string(), "edited.json").unwrap();
    let run = kms_codegen::operation_schemas(&model).unwrap().remove(0);
    // Optional in an output: the blob or null.
    let data = &run.output["properties"]["Data"]["anyOf"][0];
    assert_eq!(
        data["minLength"],
        json!(8_000_000_000_000_000_000_u64),
        "{data}"
    );
    assert_eq!(data["maxLength"], json!(u64::MAX), "{data}");
}

/// A timestamp is what `kms_types::Timestamp` reads: epoch seconds from -2^63 up to, not
/// including, 2^63 (i64 seconds). The generated code refuses larger numbers
/// (SerializationException), so the schema does too (it took any number).
#[test]
fn timestamps_are_bounded_like_the_generated_code_reads_them() {
    let output = validator(&spec_schemas().output);
    let response = |date: Value| json!({ "CustomKeyStores": [{ "CreationDate": date }] });
    for (date, valid) in [
        (json!(1551129207.775), true),
        (json!(-1), true),
        (json!(i64::MIN), true),
        (json!(i64::MAX), true),
        (json!(9.2e18), true),
        (json!(1_u64 << 63), false),
        (json!(u64::MAX), false),
        (json!(9.3e18), false),
        (json!(-9.3e18), false),
        (json!(1e300), false),
        (json!("1551129207"), false),
    ] {
        assert_eq!(output.is_valid(&response(date.clone())), valid, "{date}");
    }
}

/// Where the schemas and the generated code are known to read a request alike, and the
/// documented exception: a string's length counts code points in both (kms-types'
/// `string_length` counts Unicode scalar values: 64 emoji, 128 UTF-16 units, fit a
/// `@length(max: 64)`), while `"type": "integer"` takes `1.0`, which the generated code
/// refuses (README, `spec/schema/`).
#[test]
fn lengths_count_code_points_and_integers_take_whole_floats() {
    let input = validator(&spec_schemas().input);
    for (request, valid) in [
        (json!({ "CustomKeyStoreId": "😀".repeat(64) }), true),
        (json!({ "CustomKeyStoreId": "😀".repeat(65) }), false),
        (json!({ "CustomKeyStoreName": "é".repeat(256) }), true),
        (json!({ "CustomKeyStoreName": "é".repeat(257) }), false),
        (json!({ "Marker": "ÿ".repeat(1024) }), true),
        (json!({ "Marker": "😀" }), false),
        (json!({ "Limit": 1.0 }), true),
        (json!({ "Limit": 1e3 }), true),
        (json!({ "Limit": 1001.0 }), false),
    ] {
        assert_eq!(input.is_valid(&request), valid, "{request}");
    }
}
