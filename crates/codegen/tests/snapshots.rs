//! Snapshots of the generated code: the real spec and one fixture model per feature.
//! `cargo insta review` shows any change in generated code as a diff.

use std::path::Path;

fn render(path: &Path) -> String {
    let model = kms_spec::Model::load(path).unwrap_or_else(|e| panic!("{e}"));
    kms_codegen::render(&model).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn spec() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec/kms.describe-custom-key-stores.json");
    insta::assert_snapshot!("describe_custom_key_stores", render(&spec));
}

#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 10,
        "expected a fixture per feature in {}",
        dir.display()
    );
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("fixture_{name}"), render(path));
    }
}
