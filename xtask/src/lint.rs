//! `cargo xtask lint-generated`: the code kms-codegen generates, linted as hand-written
//! code is.
//!
//! rustc and clippy mute most lints inside a proc-macro's expansion, so an unused
//! variable or a `clippy::derivable_impls` in what `generate!` expands to never shows
//! where the macro is used. Here the rendered source (`kms_codegen::render`, what the
//! snapshots hold) of every model the project generates from becomes one module of a
//! crate under the target directory — its own workspace, with the workspace's
//! `[workspace.lints]` and kms-types' `#![warn(missing_docs)]` — and
//! `cargo clippy -- -D warnings` runs on it, sharing the target directory so that the
//! dependencies are built once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::codegen::{SPEC, json_files, relative, snapshotted_models};

/// Where the crate goes, under the target directory.
const CRATE_DIR: &str = "xtask-rendered";

/// A model the project generates code from, and its module in the linted crate.
#[derive(Debug, PartialEq)]
pub struct Rendered {
    /// The model file.
    pub model: PathBuf,
    /// The module (and `src/{module}.rs`) holding its rendered code.
    pub module: String,
    /// kms-codegen's snapshot of its code, for the spec and the fixtures.
    pub snapshot: Option<PathBuf>,
}

/// Every model the project generates from: the spec and each fixture model (the models
/// of kms-codegen's snapshot test, named as their snapshots are), then the test models
/// (`crates/CRATE/tests/models/NAME.json` as `CRATE_NAME`). Models meant to fail
/// (`crates/macros/tests/ui/models/`, kms-codegen's `model_errors`, edited in memory)
/// are not among them.
pub fn models(root: &Path) -> Result<Vec<Rendered>> {
    let mut models = Vec::new();
    for (model, snapshot) in snapshotted_models(root)? {
        let module = snapshot
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.strip_prefix("snapshots__"))
            .map(str::to_owned)
            .with_context(|| format!("snapshot name {}", snapshot.display()))?;
        models.push(Rendered {
            model,
            module,
            snapshot: Some(snapshot),
        });
    }
    let crates = root.join("crates");
    let mut test_models = Vec::new();
    for krate in
        std::fs::read_dir(&crates).with_context(|| format!("reading {}", crates.display()))?
    {
        let dir = krate?.path().join("tests/models");
        if dir.is_dir() {
            test_models.extend(json_files(&dir)?);
        }
    }
    test_models.sort();
    for model in test_models {
        let krate = model
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .and_then(Path::file_name);
        let module = [krate, model.file_stem()]
            .iter()
            .flatten()
            .map(|s| s.to_string_lossy().replace(['-', '.'], "_"))
            .collect::<Vec<_>>()
            .join("_");
        models.push(Rendered {
            model,
            module,
            snapshot: None,
        });
    }
    Ok(models)
}

/// The linted crate's `Cargo.toml`: kms-types by path (with `regex`, which a fixture's
/// pattern needs), the workspace's lints, a workspace of its own.
fn manifest(root: &Path) -> Result<String> {
    let workspace = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&workspace)
        .with_context(|| format!("reading {}", workspace.display()))?;
    let mut lints = String::new();
    let mut in_lints = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_lints = line.starts_with("[workspace.lints");
            if in_lints {
                lints.push('\n');
                lints.push_str(&line.replacen("[workspace.lints", "[lints", 1));
                lints.push('\n');
            }
        } else if in_lints && !line.trim().is_empty() {
            lints.push_str(line);
            lints.push('\n');
        }
    }
    if lints.is_empty() {
        bail!("{} has no [workspace.lints]", workspace.display());
    }
    let types = root.join("crates/types");
    Ok(format!(
        "# Written by `cargo xtask lint-generated`: the code kms-codegen renders from each model\n\
         # the project generates from, one module each, linted as hand-written code.\n\
         [package]\n\
         name = \"kms-rendered\"\n\
         version = \"0.0.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [workspace]\n\
         \n\
         [dependencies]\n\
         kms-types = {{ path = {:?}, features = [\"regex\"] }}\n\
         {lints}",
        types.display().to_string(),
    ))
}

/// The linted crate's `src/lib.rs`: one documented module per model.
fn lib_rs(root: &Path, models: &[Rendered]) -> String {
    let mut lib = String::from(
        "//! The code kms-codegen renders from each model the project generates from, one module\n\
         //! each (written by `cargo xtask lint-generated`).\n\
         \n\
         // As kms-types, which holds the spec's generated code, warns.\n\
         #![warn(missing_docs)]\n",
    );
    for model in models {
        lib.push_str(&format!(
            "\n/// Rendered from `{}`.\npub mod {};\n",
            relative(root, &model.model),
            model.module
        ));
    }
    lib
}

/// Writes the crate into `dir`: every file rewritten only when its text changes (so that
/// a second run finds the crate fresh), stale modules removed. The workspace's
/// `Cargo.lock` is its starting point, so that it builds the dependencies' same versions.
pub fn write_crate(root: &Path, dir: &Path, models: &[Rendered]) -> Result<()> {
    let mut files = vec![
        (dir.join("Cargo.toml"), manifest(root)?),
        (dir.join("src/lib.rs"), lib_rs(root, models)),
    ];
    for model in models {
        let loaded = kms_spec::Model::load(&model.model).map_err(|e| anyhow::anyhow!("{e}"))?;
        let code = kms_codegen::render(&loaded).map_err(|e| anyhow::anyhow!("{e}"))?;
        files.push((dir.join(format!("src/{}.rs", model.module)), code));
    }
    let src = dir.join("src");
    if src.is_dir() {
        for entry in std::fs::read_dir(&src)? {
            let path = entry?.path();
            if !files.iter().any(|(p, _)| *p == path) {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
        }
    }
    // Cargo adds the crate itself to the copy; a fresh copy each time follows the
    // workspace's updates.
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let workspace_lock = root.join("Cargo.lock");
    std::fs::copy(&workspace_lock, dir.join("Cargo.lock"))
        .with_context(|| format!("copying {}", workspace_lock.display()))?;
    for (path, text) in files {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            crate::write_file(&path, &text)?;
        }
    }
    Ok(())
}

/// One diagnostic of the linted crate: the module it is in, its lint (or error code) and
/// rustc's text of it.
#[derive(Debug, PartialEq)]
struct Diagnostic {
    module: Option<String>,
    code: String,
    rendered: String,
}

/// The warnings and errors in cargo's `--message-format=json` output.
fn diagnostics(json_lines: &str) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for line in json_lines.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" {
            continue;
        }
        let diagnostic = &message["message"];
        if !matches!(diagnostic["level"].as_str(), Some("warning" | "error")) {
            continue;
        }
        let spans = diagnostic["spans"].as_array().cloned().unwrap_or_default();
        // A summary ("aborting due to 3 previous errors") has no span and is not counted.
        if spans.is_empty() {
            continue;
        }
        let module = spans
            .iter()
            .find(|s| s["is_primary"] == true)
            .or(spans.first())
            .and_then(|s| s["file_name"].as_str())
            .and_then(|f| f.strip_prefix("src/"))
            .and_then(|f| f.strip_suffix(".rs"))
            .map(str::to_owned);
        found.push(Diagnostic {
            module,
            code: diagnostic["code"]["code"]
                .as_str()
                .unwrap_or("error")
                .to_owned(),
            rendered: diagnostic["rendered"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        });
    }
    found
}

/// One problem per model with diagnostics, naming its lints, where to read its code and
/// what to do.
fn problems(root: &Path, dir: &Path, models: &[Rendered], found: &[Diagnostic]) -> Vec<String> {
    let mut by_module: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for d in found {
        let codes = by_module.entry(d.module.as_deref()).or_default();
        if !codes.contains(&d.code.as_str()) {
            codes.push(&d.code);
        }
    }
    let mut problems = Vec::new();
    for model in models {
        let Some(codes) = by_module.remove(&Some(model.module.as_str())) else {
            continue;
        };
        let file = dir.join(format!("src/{}.rs", model.module));
        let see = match &model.snapshot {
            Some(snapshot) => format!(
                "{} (its snapshot, {})",
                file.display(),
                relative(root, snapshot)
            ),
            None => file.display().to_string(),
        };
        problems.push(format!(
            "the code kms-codegen renders from {} fails `cargo clippy -- -D warnings` ({}): \
             see the diagnostics above and the code in {see}; fix the generator in \
             crates/codegen, then refresh the snapshots with `INSTA_UPDATE=always cargo test \
             -p kms-codegen --test snapshots` and re-run `cargo xtask lint-generated`",
            relative(root, &model.model),
            codes.join(", "),
        ));
    }
    for (module, codes) in by_module {
        problems.push(format!(
            "the crate of rendered code in {} fails `cargo clippy -- -D warnings` outside any \
             model's module ({}{}): see the diagnostics above",
            dir.display(),
            codes.join(", "),
            module
                .map(|m| format!(", in src/{m}.rs"))
                .unwrap_or_default(),
        ));
    }
    problems
}

/// `cargo xtask lint-generated`.
pub fn run(root: &Path) -> Result<()> {
    let target = crate::target_dir(root)?;
    let dir = target.join(CRATE_DIR);
    let models = models(root)?;
    write_crate(root, &dir, &models)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .args(["clippy", "--quiet", "--message-format=json"])
        .args(["--", "-D", "warnings"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo clippy")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let found = diagnostics(&stdout);
    for d in &found {
        eprint!("{}", d.rendered);
    }
    let problems = problems(root, &dir, &models, &found);
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    if !problems.is_empty() {
        bail!("{} model(s) render code that fails clippy", problems.len());
    }
    if !output.status.success() {
        bail!(
            "cargo clippy failed ({}) on {} without a diagnostic in the rendered code",
            output.status,
            dir.display()
        );
    }
    println!(
        "lint-generated: the code rendered from {} models ({SPEC}, {} more) passes `cargo \
         clippy -- -D warnings`",
        models.len(),
        models.len() - 1
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_generated_from_and_none_meant_to_fail() {
        let root = crate::workspace_root();
        let models = models(&root).unwrap();
        let paths: Vec<String> = models.iter().map(|m| relative(&root, &m.model)).collect();
        assert_eq!(paths[0], SPEC);
        assert_eq!(models[0].module, "describe_custom_key_stores");
        for expected in [
            "crates/codegen/tests/fixtures/union.json",
            "crates/types/tests/models/kms.json",
            "crates/types/tests/models/required.json",
            "crates/client/tests/models/things.json",
            "crates/server/tests/models/another-operation.json",
        ] {
            assert!(paths.iter().any(|p| p == expected), "{expected}: {paths:?}");
        }
        let fixtures = std::fs::read_dir(root.join("crates/codegen/tests/fixtures"))
            .unwrap()
            .count();
        assert_eq!(
            models
                .iter()
                .filter(|m| m.module.starts_with("fixture_"))
                .count(),
            fixtures
        );
        assert!(paths.iter().all(|p| !p.contains("/ui/")), "{paths:?}");
        let union = models
            .iter()
            .find(|m| m.model.ends_with("fixtures/union.json"))
            .unwrap();
        assert_eq!(union.module, "fixture_union");
        assert!(union.snapshot.as_ref().unwrap().is_file());
        let another = models
            .iter()
            .find(|m| m.model.ends_with("another-operation.json"))
            .unwrap();
        assert_eq!(another.module, "server_another_operation");
        assert_eq!(another.snapshot, None);
        let mut modules: Vec<&str> = models.iter().map(|m| m.module.as_str()).collect();
        modules.sort();
        modules.dedup();
        assert_eq!(modules.len(), models.len(), "module names are distinct");
    }

    /// The crate written: the workspace's lints, kms-types by path, a module per model
    /// holding exactly its rendered code; rewritten only where it changed, a removed
    /// model's module deleted.
    #[test]
    fn the_crate_holds_each_model_rendered_with_the_workspace_lints() {
        let root = crate::workspace_root();
        let dir = std::env::temp_dir().join(format!("xtask-rendered-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let all = models(&root).unwrap();
        let some: Vec<Rendered> = all
            .into_iter()
            .filter(|m| m.module == "describe_custom_key_stores" || m.module == "fixture_map")
            .collect();
        write_crate(&root, &dir, &some).unwrap();

        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert!(
            manifest.contains("\n[lints.rust]\nunsafe_code = \"forbid\"\n"),
            "{manifest}"
        );
        assert!(
            manifest.contains("missing_debug_implementations = \"warn\""),
            "{manifest}"
        );
        assert!(manifest.contains("\n[lints.clippy]\n"), "{manifest}");
        assert!(!manifest.contains("workspace.lints"), "{manifest}");
        assert!(
            manifest.contains(&format!(
                "path = {:?}",
                root.join("crates/types").display().to_string()
            )),
            "{manifest}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("Cargo.lock")).unwrap(),
            std::fs::read_to_string(root.join("Cargo.lock")).unwrap()
        );
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("#![warn(missing_docs)]"), "{lib}");
        assert!(
            lib.contains(
                "/// Rendered from `crates/codegen/tests/fixtures/map.json`.\npub mod fixture_map;\n"
            ),
            "{lib}"
        );
        let model = kms_spec::Model::load(root.join(SPEC)).unwrap();
        let spec = dir.join("src/describe_custom_key_stores.rs");
        assert_eq!(
            std::fs::read_to_string(&spec).unwrap(),
            kms_codegen::render(&model).unwrap()
        );

        let modified = std::fs::metadata(&spec).unwrap().modified().unwrap();
        write_crate(&root, &dir, &some[..1]).unwrap();
        assert_eq!(
            std::fs::metadata(&spec).unwrap().modified().unwrap(),
            modified
        );
        assert!(!dir.join("src/fixture_map.rs").exists());
        assert!(
            !std::fs::read_to_string(dir.join("src/lib.rs"))
                .unwrap()
                .contains("fixture_map")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A message of cargo's JSON output: rustc's diagnostic at `file`.
    fn message(level: &str, code: &str, file: &str, rendered: &str) -> String {
        serde_json::json!({
            "reason": "compiler-message",
            "package_id": "path+file:///x#kms-rendered@0.0.0",
            "message": {
                "level": level,
                "code": { "code": code, "explanation": null },
                "message": "...",
                "rendered": rendered,
                "spans": [
                    { "file_name": "src/lib.rs", "is_primary": false, "line_start": 1 },
                    { "file_name": file, "is_primary": true, "line_start": 12 }
                ]
            }
        })
        .to_string()
    }

    /// A lint in a model's module is a problem naming the model, its lints, the file and
    /// snapshot holding its code and what to run; one outside every module names the
    /// crate. Summaries and cargo's other messages are not counted.
    #[test]
    fn lints_name_the_model_and_where_to_see_its_code() {
        let root = crate::workspace_root();
        let models = models(&root).unwrap();
        let dir = Path::new("/t/xtask-rendered");
        let output = [
            message("error", "unused_variables", "src/fixture_map.rs", "error: unused variable: `entry`\n"),
            message("error", "clippy::derivable_impls", "src/fixture_map.rs", "error: this `impl` can be derived\n"),
            message("error", "unused_variables", "src/fixture_map.rs", "error: unused variable: `other`\n"),
            message("error", "clippy::needless_borrow", "src/client_things.rs", "error: needless borrow\n"),
            message("error", "missing_docs", "src/lib.rs", "error: missing documentation\n"),
            r#"{"reason":"compiler-message","message":{"level":"error","code":null,"rendered":"error: aborting due to 5 previous errors\n","spans":[]}}"#.to_owned(),
            r#"{"reason":"build-finished","success":false}"#.to_owned(),
        ]
        .join("\n");
        let found = diagnostics(&output);
        assert_eq!(found.len(), 5, "{found:?}");
        assert_eq!(found[0].module.as_deref(), Some("fixture_map"));
        assert_eq!(found[0].rendered, "error: unused variable: `entry`\n");

        let found_problems = problems(&root, dir, &models, &found);
        assert_eq!(
            found_problems,
            [
                "the code kms-codegen renders from crates/codegen/tests/fixtures/map.json fails \
                 `cargo clippy -- -D warnings` (unused_variables, clippy::derivable_impls): see \
                 the diagnostics above and the code in /t/xtask-rendered/src/fixture_map.rs (its \
                 snapshot, crates/codegen/tests/snapshots/snapshots__fixture_map.snap); fix the \
                 generator in crates/codegen, then refresh the snapshots with \
                 `INSTA_UPDATE=always cargo test -p kms-codegen --test snapshots` and re-run \
                 `cargo xtask lint-generated`",
                "the code kms-codegen renders from crates/client/tests/models/things.json fails \
                 `cargo clippy -- -D warnings` (clippy::needless_borrow): see the diagnostics \
                 above and the code in /t/xtask-rendered/src/client_things.rs; fix the generator \
                 in crates/codegen, then refresh the snapshots with `INSTA_UPDATE=always cargo \
                 test -p kms-codegen --test snapshots` and re-run `cargo xtask lint-generated`",
                "the crate of rendered code in /t/xtask-rendered fails `cargo clippy -- -D \
                 warnings` outside any model's module (missing_docs, in src/lib.rs): see the \
                 diagnostics above",
            ]
        );
        assert_eq!(problems(&root, dir, &models, &[]), Vec::<String>::new());
    }
}
