//! `cargo xtask` as a maintainer runs it: the binary, its exit status and what it prints.

use std::process::Command;

/// An error says what is wrong and exits 1, with no backtrace even when `RUST_BACKTRACE`
/// is set (anyhow's `main` printed 20 frames of xtask under every message).
#[test]
fn errors_print_no_backtrace_when_rust_backtrace_is_set() {
    let out = std::env::temp_dir().join(format!("xtask-cli-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["import", "--model", "/nonexistent/kms.json"])
        .args(["--operation", "com.amazonaws.kms#ListKeys", "--out"])
        .arg(&out)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("Error: /nonexistent/kms.json: cannot read the file"),
        "{stderr}"
    );
    assert!(!stderr.contains("acktrace"), "{stderr}");
    assert!(!out.exists());
}

/// A relative `--out` is taken from the current directory; from a subdirectory of the
/// workspace (where `spec/...` is not the spec) the file written is named by its absolute
/// path (`wrote spec/...` looked like the spec itself).
#[test]
fn a_relative_out_is_reported_by_its_absolute_path() {
    let dir = std::env::temp_dir().join(format!("xtask-cli-rel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.json");
    std::fs::write(
        &model,
        r#"{"smithy": "2.0", "shapes": {"a#Op": {"type": "operation"}}}"#,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&dir)
        .args(["import", "--model", "model.json", "--operation", "a#Op"])
        .args(["--out", "spec/out.json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    // (As getcwd names the directory: the temporary directory may be a symbolic link.)
    let written = dir.canonicalize().unwrap().join("spec/out.json");
    assert_eq!(
        stdout,
        format!("wrote {} (1 operation)\n", written.display())
    );
    assert!(written.is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}
