//! Each `@pattern` gets its own compiled static, even when the names it is built from
//! meet: `RunRequest` + `Word` and `RunRequestWo` + `rd` both spell `RunRequestWord`,
//! and the second member was checked against the first one's pattern.

use serde_json::{Value, json};

#[test]
fn patterns_whose_names_meet_keep_their_own_static() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pattern.json");
    let mut model: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let shapes = model["shapes"].as_object_mut().unwrap();
    shapes.insert(
        "example.fixture#RunRequestWo".into(),
        json!({"type": "structure", "members": {
            "rd": {"target": "smithy.api#String", "traits": {"smithy.api#pattern": "^[0-9]+$"}}
        }}),
    );
    shapes["example.fixture#RunRequest"]["members"]["Nested"] =
        json!({"target": "example.fixture#RunRequestWo"});
    let model = kms_spec::Model::from_json_str(&model.to_string(), "pattern-names.json").unwrap();
    let code = kms_codegen::render(&model).unwrap();

    // Every validator passes the static of the pattern it names.
    let flat = code.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut uses = Vec::new();
    for call in flat.split(".pattern(").skip(1) {
        let args: Vec<&str> = call.split(',').map(str::trim).collect();
        uses.push((
            args[3].trim_start_matches('&').to_owned(),
            args[4].to_owned(),
        ));
    }
    assert_eq!(uses.len(), 3, "{code}");
    for (name, pattern) in &uses {
        let doc = code
            .split(&format!("static {name}:"))
            .next()
            .and_then(|before| before.lines().last())
            .unwrap_or_default()
            .to_owned();
        let pattern = pattern.trim_matches('"').replace("\\\\", "\\");
        assert!(
            doc.ends_with(&format!("`{pattern}`.")),
            "{name} is checked as {pattern} but holds: {doc}"
        );
    }
    assert!(
        code.contains("static RUN_REQUEST_WORD_PATTERN_2:"),
        "{code}"
    );
}
