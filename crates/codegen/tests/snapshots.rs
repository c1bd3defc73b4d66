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

/// The generator is general: it runs over the whole KMS model (54 operations, maps, blobs).
#[test]
fn whole_kms_model() {
    // The import of every operation of the official model (`cargo xtask check` keeps it
    // equal to a fresh one).
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../types/tests/models/kms.json");
    let code = render(&path);
    let file = syn::parse_file(&code).unwrap();
    let markers = file
        .items
        .iter()
        .filter(|item| matches!(item, syn::Item::Impl(i) if i.trait_.as_ref().is_some_and(|(p, _)| p.segments.last().unwrap().ident == "OperationShape")))
        .count();
    assert_eq!(markers, 54);
    assert!(
        code.contains("pub encryption_context: Option<std::collections::BTreeMap<String, String>>")
    );
    assert!(code.contains("pub ciphertext_blob: Option<::kms_types::Blob>"));
    assert!(code.contains("pub struct EncryptRequest"));
}
