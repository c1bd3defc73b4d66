//! Endpoint rules the generator cannot compile are errors that name what is missing.

use serde_json::{Value, json};

fn generate(rules: Value) -> Result<String, String> {
    generate_with(
        json!({
            "Region": {"type": "String", "builtIn": "AWS::Region"},
            "UseFIPS": {"type": "Boolean", "required": true, "default": false},
        }),
        rules,
    )
}

fn generate_with(parameters: Value, rules: Value) -> Result<String, String> {
    let model = json!({
        "smithy": "2.0",
        "shapes": {
            "example#Service": {
                "type": "service",
                "version": "2024-01-01",
                "traits": {"aws.protocols#awsJson1_1": {}, "smithy.rules#endpointRuleSet": {
                    "version": "1.0",
                    "parameters": parameters,
                    "rules": rules,
                }},
            },
        },
    });
    let model = kms_spec::Model::from_json_str(&model.to_string(), "test.json")
        .map_err(|e| e.to_string())?;
    kms_codegen::generate(&model)
        .map(|tokens| tokens.to_string())
        .map_err(|e| e.to_string())
}

#[test]
fn supported_rules_compile_to_a_resolver() {
    let code = generate(json!([
        {"type": "tree", "conditions": [{"fn": "isSet", "argv": [{"ref": "Region"}]}], "rules": [
            {"type": "error", "conditions": [{"fn": "booleanEquals", "argv": [{"ref": "UseFIPS"}, true]}],
             "error": "no FIPS in {Region}"},
            {"type": "endpoint", "conditions": [
                {"fn": "aws.partition", "argv": [{"ref": "Region"}], "assign": "P"},
                {"fn": "stringEquals", "argv": [{"fn": "getAttr", "argv": [{"ref": "P"}, "name"]}, "aws-cn"]},
             ], "endpoint": {"url": "https://x.{Region}.{P#dnsSuffix}"}},
        ]},
        {"type": "error", "conditions": [], "error": "Missing Region"},
    ]))
    .unwrap();
    assert!(code.contains("pub fn resolve_endpoint"), "{code}");
    assert!(code.contains("Partition :: of (region)"), "{code}");
    // The tree's rules may all fail: it ends in an error of its own.
    assert!(
        code.contains("no endpoint rule matched the parameters"),
        "{code}"
    );
}

#[test]
fn unsupported_functions_and_endpoint_properties_are_named() {
    let error = generate(json!([
        {"type": "endpoint", "conditions": [{"fn": "parseURL", "argv": ["https://x"], "assign": "Url"}],
         "endpoint": {"url": "https://x"}},
    ]))
    .unwrap_err();
    assert!(
        error.contains("endpoint rules") && error.contains("parseURL"),
        "{error}"
    );

    let error = generate(json!([
        {"type": "endpoint", "conditions": [{"fn": "isValidHostLabel", "argv": ["x", false]}],
         "endpoint": {"url": "https://x"}},
    ]))
    .unwrap_err();
    assert!(error.contains("isValidHostLabel"), "{error}");

    let error = generate(json!([
        {"type": "endpoint", "conditions": [],
         "endpoint": {"url": "https://x", "properties": {"authSchemes": [{"name": "sigv4"}]}}},
    ]))
    .unwrap_err();
    assert!(error.contains("properties"), "{error}");

    let error = generate(json!([
        {"type": "endpoint", "conditions": [], "endpoint": {"url": "https://{Region}"}},
    ]))
    .unwrap_err();
    assert!(
        error.contains("without an enclosing isSet(Region)"),
        "{error}"
    );
}

/// A rule set the generator cannot compile names the model's file and its service, as
/// every other model error does.
#[test]
fn rules_the_generator_cannot_compile_name_the_file_and_the_service() {
    let error = generate(json!([
        {"type": "endpoint", "conditions": [{"fn": "parseURL", "argv": ["https://x"], "assign": "Url"}],
         "endpoint": {"url": "https://x"}},
    ]))
    .unwrap_err();
    assert!(
        error.starts_with("test.json: shape `example#Service`: endpoint rules: "),
        "{error}"
    );
}

#[test]
fn a_malformed_rule_set_fails_to_load_naming_the_service() {
    let error = generate(
        json!([{"type": "endpoint", "conditions": [], "endpoint": {"url": "https://{Nope}"}}]),
    )
    .unwrap_err();
    assert!(error.contains("example#Service"), "{error}");
    assert!(error.contains("smithy.rules#endpointRuleSet"), "{error}");
    assert!(error.contains("`Nope` is neither a parameter"), "{error}");
}

/// `EndpointParams` derives `Default` when every default is its type's own (`None`,
/// `false`, `""`), as clippy's derivable_impls asks of code written by hand; other
/// defaults are set in an impl.
#[test]
fn endpoint_params_derive_default_unless_a_default_is_not_the_types_own() {
    let rules = json!([{"type": "error", "conditions": [], "error": "no endpoint"}]);
    let derive = "derive (Debug , Clone , Default , PartialEq , Eq)";
    let by_hand = "impl Default for EndpointParams";
    let param = |kind: &str, default: Value| {
        json!({
            "Region": {"type": "String", "builtIn": "AWS::Region"},
            "P": {"type": kind, "required": true, "default": default},
        })
    };
    for (kind, default) in [("Boolean", json!(false)), ("String", json!(""))] {
        let code = generate_with(param(kind, default), rules.clone()).unwrap();
        assert!(code.contains(derive) && !code.contains(by_hand), "{code}");
    }
    for (kind, default, field) in [
        ("Boolean", json!(true), "p : true ,"),
        ("String", json!("x"), "p : \"x\" . to_owned () ,"),
    ] {
        let code = generate_with(param(kind, default), rules.clone()).unwrap();
        assert!(!code.contains(derive) && code.contains(by_hand), "{code}");
        assert!(code.contains(field), "{code}");
    }
}
