//! `cargo xtask import`: extract the closure of some operations from a full model.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use kms_spec::{Model, ShapeId, ShapeKind};
use serde_json::{Map, Value};

/// The Levenshtein distance between `a` and `b`, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Extracts `operations` and every shape they reach from the model at `model_path`,
/// plus the service that binds them (its `operations` reduced to those), and returns
/// the deterministic JSON text of [`to_canonical_model_json`].
pub fn extract(model_path: &Path, operations: &[String]) -> Result<String> {
    let model = Model::load(model_path)?;
    let text = std::fs::read_to_string(model_path)
        .with_context(|| format!("reading {}", model_path.display()))?;
    let raw: Value = serde_json::from_str(&text)?;
    let raw_shapes = raw["shapes"]
        .as_object()
        .context("the model has no `shapes`")?;

    let mut ids = Vec::new();
    for op in operations {
        let id = ShapeId::parse(op).with_context(|| {
            // A bare name: suggest the operations of that name.
            let named: Vec<String> = model
                .shapes()
                .filter(|shape| shape.kind == ShapeKind::Operation && shape.id.name() == op)
                .map(|shape| format!("`{}`", shape.id))
                .collect();
            if named.is_empty() {
                format!("`{op}` is not an absolute shape id (namespace#Name)")
            } else {
                format!(
                    "`{op}` is not an absolute shape id (namespace#Name): did you mean {}?",
                    named.join(" or ")
                )
            }
        })?;
        match model.shape(&id) {
            Some(shape) if shape.kind == ShapeKind::Operation => ids.push(id),
            Some(shape) => bail!("`{op}` is a {:?} shape, not an operation", shape.kind),
            None => {
                // Shape ids are case-sensitive: suggest the operation spelt otherwise.
                let spelt: Vec<String> = model
                    .shapes()
                    .filter(|shape| {
                        shape.kind == ShapeKind::Operation
                            && shape.id.as_str().eq_ignore_ascii_case(op)
                    })
                    .map(|shape| format!("`{}`", shape.id))
                    .collect();
                if spelt.is_empty() {
                    // A typo: suggest the operations a letter or two away.
                    let near: Vec<String> = model
                        .shapes()
                        .filter(|shape| {
                            shape.kind == ShapeKind::Operation
                                && edit_distance(shape.id.as_str(), op) <= 2
                        })
                        .map(|shape| format!("`{}`", shape.id))
                        .collect();
                    if near.is_empty() {
                        bail!("no shape `{op}` in {}", model_path.display());
                    }
                    bail!(
                        "no shape `{op}` in {}: did you mean {}?",
                        model_path.display(),
                        near.join(" or ")
                    );
                }
                bail!(
                    "no shape `{op}` in {} (shape ids are case-sensitive): did you mean {}?",
                    model_path.display(),
                    spelt.join(" or ")
                );
            }
        }
    }
    if ids.is_empty() {
        bail!("name at least one --operation");
    }

    let mut shapes = Map::new();
    for id in model.closure(&ids) {
        shapes.insert(id.to_string(), raw_shapes[id.as_str()].clone());
    }
    for service in model
        .services()
        .filter(|s| ids.iter().any(|id| s.operations.contains(id)))
    {
        let mut json = raw_shapes[service.id.as_str()].clone();
        let kept: Vec<Value> = service
            .operations
            .iter()
            .filter(|op| ids.contains(op))
            .map(|op| serde_json::json!({ "target": op.as_str() }))
            .collect();
        json["operations"] = Value::Array(kept);
        if let Some(obj) = json.as_object_mut() {
            obj.remove("resources");
        }
        shapes.insert(service.id.to_string(), json);
    }

    let mut out = Map::new();
    out.insert("smithy".into(), raw["smithy"].clone());
    if let Some(metadata) = raw.get("metadata") {
        out.insert("metadata".into(), metadata.clone());
    }
    out.insert("shapes".into(), Value::Object(shapes));
    let text = to_canonical_model_json(&Value::Object(out));
    // What we write must itself load.
    Model::from_json_str(&text, "extracted model")?;
    Ok(text)
}

/// Every operation shape of the model at `model_path`, by id.
pub fn every_operation(model_path: &Path) -> Result<Vec<String>> {
    let model = Model::load(model_path)?;
    let operations: Vec<String> = model
        .shapes()
        .filter(|shape| shape.kind == ShapeKind::Operation)
        .map(|shape| shape.id.to_string())
        .collect();
    if operations.is_empty() {
        bail!("{} defines no operation", model_path.display());
    }
    Ok(operations)
}

/// Writes [`extract`]'s result to `out`, only once it is complete.
pub fn run(model: &Path, operations: &[String], out: &Path) -> Result<()> {
    let text = extract(model, operations)?;
    crate::write_file(out, &text)?;
    // By its absolute path: a relative `--out` is taken from the current directory, which
    // in a subdirectory of the workspace is not where the README's `spec/...` is.
    let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    match operations.len() {
        1 => println!("wrote {} (1 operation)", out.display()),
        n => println!("wrote {} ({n} operations)", out.display()),
    }
    Ok(())
}

/// Serializes with sorted keys, 4-space indentation and a trailing newline.
pub fn to_canonical_json(value: &Value) -> String {
    pretty(&sort_keys(value))
}

/// 4-space indentation and a trailing newline, keys as they are.
fn pretty(value: &Value) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(value, &mut ser).expect("serializing a JSON value cannot fail");
    let mut text = String::from_utf8(buf).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// A Smithy JSON AST model in canonical form: as [`to_canonical_json`], except that each
/// shape's `members` stay in the model's order, which is the order of the generated
/// fields, of their JSON and of validation messages.
pub fn to_canonical_model_json(model: &Value) -> String {
    let mut sorted = sort_keys(model);
    let shapes = model["shapes"].as_object().into_iter().flatten();
    for (id, shape) in shapes {
        let Some(order) = shape.get("members").and_then(Value::as_object) else {
            continue;
        };
        let Some(members) = sorted
            .get_mut("shapes")
            .and_then(|shapes| shapes.get_mut(id))
            .and_then(|shape| shape.get_mut("members"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        *members = order
            .keys()
            .filter_map(|name| Some((name.clone(), members.get(name)?.clone())))
            .collect();
    }
    pretty(&sorted)
}

fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Where `import` writes, and what: `out` with exactly `operations`; or, without `out`
/// or when `out` is that very file, [`added_to_spec`] (so that `--out spec/...` does not
/// drop the operations the server and client use).
pub fn destination(
    root: &Path,
    out: Option<PathBuf>,
    operations: Vec<String>,
) -> Result<(PathBuf, Vec<String>)> {
    let spec = root.join(crate::codegen::SPEC);
    let is_spec = |out: &Path| match (out.canonicalize(), spec.canonicalize()) {
        (Ok(out), Ok(spec)) => out == spec,
        _ => false,
    };
    match out {
        Some(out) if !is_spec(&out) => {
            // An operation named twice is imported once (and counted once).
            let mut operations = operations;
            operations.sort();
            operations.dedup();
            Ok((out, operations))
        }
        _ => added_to_spec(root, operations),
    }
}

/// Where `import` writes without `--out`, and what: the spec kms-types generates from,
/// with its operations and `operations`. A spec that is missing or not JSON (a hand edit,
/// a merge's conflict markers) has no operations to keep: it is written anew with
/// `operations`, as `cargo xtask check` advises, saying so.
pub fn added_to_spec(root: &Path, operations: Vec<String>) -> Result<(PathBuf, Vec<String>)> {
    let spec = root.join(crate::codegen::SPEC);
    let kept = match std::fs::read_to_string(&spec) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", spec.display())),
        Ok(text) => match serde_json::from_str(&text) {
            Ok(value) => crate::codegen::operations_of(&value),
            Err(e) => {
                eprintln!(
                    "note: {} is not JSON ({e}): its operations cannot be kept; it is written \
                     anew with those named by --operation",
                    spec.display()
                );
                Vec::new()
            }
        },
    };
    let mut all = kept;
    all.extend(operations);
    all.sort();
    all.dedup();
    Ok((spec, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OP: &str = "com.amazonaws.kms#DescribeCustomKeyStores";

    /// Without `--out`, operations are added to the spec kms-types generates from.
    #[test]
    fn by_default_operations_are_added_to_the_spec() {
        let root = crate::workspace_root();
        let (out, operations) =
            added_to_spec(&root, vec!["com.amazonaws.kms#ListKeys".into(), OP.into()]).unwrap();
        assert_eq!(out, root.join(crate::codegen::SPEC));
        let mut expected = crate::codegen::spec_operations(&out).unwrap();
        assert!(expected.contains(&OP.to_owned()));
        expected.push("com.amazonaws.kms#ListKeys".into());
        expected.sort();
        assert_eq!(operations, expected);
    }

    /// `--out` naming the spec itself adds to it too; another file gets exactly the
    /// operations given.
    #[test]
    fn out_naming_the_spec_keeps_its_operations() {
        let root = crate::workspace_root();
        let added = vec!["com.amazonaws.kms#ListKeys".to_owned()];
        let spelled = root.join("xtask/../").join(crate::codegen::SPEC);
        assert_eq!(
            destination(&root, Some(spelled), added.clone()).unwrap(),
            added_to_spec(&root, added.clone()).unwrap()
        );
        let other = root.join("target/other-spec.json");
        assert_eq!(
            destination(&root, Some(other.clone()), added.clone()).unwrap(),
            (other.clone(), added.clone())
        );
        // Named twice, imported (and counted) once: `wrote ... (2 operations)` said two.
        let twice = vec![added[0].clone(), OP.to_owned(), added[0].clone()];
        assert_eq!(
            destination(&root, Some(other.clone()), twice).unwrap(),
            (other, vec![OP.to_owned(), added[0].clone()])
        );
    }

    /// A spec that is not JSON (conflict markers after a merge) or is missing is written
    /// anew with the operations named, as `check` advises for it: import refused, failing
    /// to read the operations it was to keep.
    #[test]
    fn a_spec_that_is_not_json_or_missing_is_written_anew() {
        let root = std::env::temp_dir().join(format!("xtask-anew-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("spec")).unwrap();
        let spec = root.join(crate::codegen::SPEC);
        let ops = vec![OP.to_owned(), "com.amazonaws.kms#ListKeys".to_owned()];
        assert_eq!(
            added_to_spec(&root, ops.clone()).unwrap(),
            (spec.clone(), ops.clone())
        );
        std::fs::write(&spec, "<<<<<<< HEAD\n{\n=======\n{\n>>>>>>> other\n").unwrap();
        assert_eq!(
            destination(&root, Some(spec.clone()), ops.clone()).unwrap(),
            (spec.clone(), ops)
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The upstream model when present, else the committed spec (itself a valid model).
    fn model_path() -> PathBuf {
        let upstream = crate::workspace_root().join("../shared/models/kms.json");
        if upstream.is_file() {
            upstream
        } else {
            crate::workspace_root().join("spec/kms.describe-custom-key-stores.json")
        }
    }

    #[test]
    fn extraction_is_deterministic_and_complete() {
        let first = extract(&model_path(), &[OP.to_owned()]).unwrap();
        let second = extract(&model_path(), &[OP.to_owned()]).unwrap();
        assert_eq!(first, second);
        assert!(first.ends_with("}\n"));
        let value: Value = serde_json::from_str(&first).unwrap();
        let shapes = value["shapes"].as_object().unwrap();
        assert_eq!(shapes.len(), 28, "27 shapes of the closure + the service");
        let service = &shapes["com.amazonaws.kms#TrentService"];
        assert_eq!(service["operations"], serde_json::json!([{ "target": OP }]));
        assert!(service["traits"]["aws.protocols#awsJson1_1"].is_object());
        assert_eq!(to_canonical_model_json(&value), first);
    }

    /// Member order is the model's (fields, JSON and validation messages follow it);
    /// every other key is sorted.
    #[test]
    fn import_keeps_the_model_order_of_members() {
        let model = std::env::temp_dir().join(format!("xtask-order-{}.json", std::process::id()));
        std::fs::write(
            &model,
            r#"{"smithy": "2.0", "shapes": {
                "a#Op": {"type": "operation", "output": {"target": "smithy.api#Unit"},
                         "input": {"target": "a#In"}},
                "a#In": {"type": "structure", "members": {
                    "Zeta": {"traits": {"smithy.api#required": {}, "smithy.api#documentation": "z"},
                             "target": "smithy.api#String"},
                    "Alpha": {"target": "a#Kind"}}},
                "a#Kind": {"type": "enum", "members": {
                    "ZED": {"target": "smithy.api#Unit", "traits": {"smithy.api#enumValue": "z"}},
                    "ABLE": {"target": "smithy.api#Unit", "traits": {"smithy.api#enumValue": "a"}}}}
            }}"#,
        )
        .unwrap();
        let text = extract(&model, &["a#Op".to_owned()]).unwrap();
        std::fs::remove_file(&model).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&value["shapes"]), ["a#In", "a#Kind", "a#Op"]);
        assert_eq!(keys(&value["shapes"]["a#In"]["members"]), ["Zeta", "Alpha"]);
        assert_eq!(keys(&value["shapes"]["a#Kind"]["members"]), ["ZED", "ABLE"]);
        assert_eq!(keys(&value["shapes"]["a#Op"]), ["input", "output", "type"]);
        assert_eq!(
            keys(&value["shapes"]["a#In"]["members"]["Zeta"]["traits"]),
            ["smithy.api#documentation", "smithy.api#required"]
        );
        assert_eq!(to_canonical_model_json(&value), text);

        // The committed spec keeps the upstream model's order.
        let spec = crate::workspace_root().join(crate::codegen::SPEC);
        let spec: Value = serde_json::from_str(&std::fs::read_to_string(spec).unwrap()).unwrap();
        assert_eq!(
            keys(&spec["shapes"]["com.amazonaws.kms#CustomKeyStoresListEntry"]["members"])[..5],
            [
                "CustomKeyStoreId",
                "CustomKeyStoreName",
                "CloudHsmClusterId",
                "TrustAnchorCertificate",
                "ConnectionState"
            ]
        );
    }

    #[test]
    fn the_committed_spec_is_a_fresh_import() {
        let upstream = crate::workspace_root().join("../shared/models/kms.json");
        if !upstream.is_file() {
            println!("SKIP: {} not found", upstream.display());
            return;
        }
        let spec = crate::workspace_root().join("spec/kms.describe-custom-key-stores.json");
        let committed = std::fs::read_to_string(&spec).unwrap();
        // Whatever operations the spec holds (more after an import), DescribeCustomKeyStores
        // among them.
        let operations = crate::codegen::spec_operations(&spec).unwrap();
        assert!(operations.iter().any(|o| o == OP), "{operations:?}");
        let fresh = extract(&upstream, &operations).unwrap();
        assert!(
            fresh == committed,
            "{} is not a fresh import of {operations:?}: run `cargo xtask import`",
            spec.display()
        );
    }

    #[test]
    fn unknown_operations_and_bad_models_write_nothing() {
        let out = std::env::temp_dir().join(format!("xtask-import-{}.json", std::process::id()));
        let err = run(&model_path(), &["com.amazonaws.kms#Nope".to_owned()], &out).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no shape `com.amazonaws.kms#Nope` in {}",
                model_path().display()
            )
        );
        let err = run(
            &model_path(),
            &["com.amazonaws.kms#MarkerType".to_owned()],
            &out,
        )
        .unwrap_err();
        assert!(err.to_string().contains("not an operation"), "{err}");
        // A bare name is refused, suggesting the operation's absolute id.
        let err = run(&model_path(), &["DescribeCustomKeyStores".to_owned()], &out).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`DescribeCustomKeyStores` is not an absolute shape id (namespace#Name): did you \
             mean `com.amazonaws.kms#DescribeCustomKeyStores`?"
        );
        let err = run(&model_path(), &["Nope".to_owned()], &out).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`Nope` is not an absolute shape id (namespace#Name)"
        );
        // A typo: the operations a letter or two away are suggested.
        let err = run(
            &model_path(),
            &["com.amazonaws.kms#DescribeCustomKeyStore".to_owned()],
            &out,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no shape `com.amazonaws.kms#DescribeCustomKeyStore` in {}: did you mean \
                 `com.amazonaws.kms#DescribeCustomKeyStores`?",
                model_path().display()
            )
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        // Ids are case-sensitive; the one spelt otherwise is suggested.
        let err = run(
            &model_path(),
            &["com.amazonaws.kms#describecustomkeystores".to_owned()],
            &out,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no shape `com.amazonaws.kms#describecustomkeystores` in {} (shape ids are \
                 case-sensitive): did you mean `com.amazonaws.kms#DescribeCustomKeyStores`?",
                model_path().display()
            )
        );
        let bad = std::env::temp_dir().join(format!("xtask-bad-model-{}.json", std::process::id()));
        std::fs::write(
            &bad,
            "{\"smithy\": \"2.0\", \"shapes\": {\"a#B\": {\"type\": \"nope\"}}}",
        )
        .unwrap();
        let err = run(&bad, &[OP.to_owned()], &out).unwrap_err();
        assert!(
            err.to_string().contains("unknown shape type `nope`"),
            "{err}"
        );
        assert!(!out.exists(), "no file is written on error");
        // --all-operations of a model without any (it asked to name an --operation).
        std::fs::write(&bad, "{\"smithy\": \"2.0\", \"shapes\": {}}").unwrap();
        assert_eq!(
            every_operation(&bad).unwrap_err().to_string(),
            format!("{} defines no operation", bad.display())
        );
        std::fs::remove_file(&bad).unwrap();
    }
}
