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
