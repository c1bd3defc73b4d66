//! Maintainer tasks: `cargo xtask import | codegen | check | lint-generated | bench`.

mod bench;
mod codegen;
mod import;
mod lint;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Maintainer tasks for the KMS toolkit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Extract operations and every shape they reach from a full Smithy JSON model into spec/.
    Import {
        /// The full Smithy 2.0 JSON AST model (e.g. ../shared/models/kms.json).
        #[arg(long)]
        model: PathBuf,
        /// An operation shape id to extract; repeat for several.
        #[arg(long = "operation", required_unless_present = "all_operations")]
        operations: Vec<String>,
        /// Extract every operation of the model (as crates/types/tests/models/kms.json holds).
        #[arg(long, conflicts_with = "operations")]
        all_operations: bool,
        /// Where to write the extracted model, with exactly the given operations. Default (and
        /// when it names that file): the spec kms-types generates from
        /// (spec/kms.describe-custom-key-stores.json), keeping the operations it already has.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Rewrite every committed file derived from spec/ (the JSON Schemas under spec/schema/).
    Codegen,
    /// Fail, naming the command to run, when a spec, derived file or snapshot is stale or a snapshot is pending.
    Check,
    /// Lint the code kms-codegen renders from every model the project generates from as
    /// hand-written code (clippy, -D warnings): lints are muted inside generate!'s expansion.
    LintGenerated,
    /// Benchmark server, client and codec against baselines measured in the same run; writes bench/REPORT.md.
    Bench(bench::BenchArgs),
}

/// Runs the command; an error is printed with its causes and exit status 1, never with a
/// backtrace (anyhow's `main` adds one whenever `RUST_BACKTRACE` is set, as many
/// developers keep it: 20 frames of xtask's own code under a message naming the fix).
fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// `Error: ...` and each cause, as anyhow's `main` prints them, without the backtrace.
fn report(error: &anyhow::Error) -> String {
    let mut text = format!("Error: {error}");
    let mut causes = error.chain().skip(1).peekable();
    if causes.peek().is_some() {
        text.push_str("\n\nCaused by:");
        for cause in causes {
            text.push_str(&format!("\n    {cause}"));
        }
    }
    text
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Import {
            model,
            mut operations,
            all_operations,
            out,
        } => {
            if all_operations {
                operations = import::every_operation(&model)?;
            }
            let (out, operations) = import::destination(&workspace_root(), out, operations)?;
            import::run(&model, &operations, &out)
        }
        Command::Codegen => codegen::run(&workspace_root()),
        Command::Check => codegen::check(&workspace_root()),
        Command::LintGenerated => lint::run(&workspace_root()),
        Command::Bench(args) => bench::run(&args),
    }
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// The workspace's target directory as cargo sees it (`CARGO_TARGET_DIR`, config).
pub fn target_dir(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stdin(std::process::Stdio::null())
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        anyhow::bail!(
            "cargo metadata failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata JSON")?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

/// Writes `text` to `path` atomically: a temporary file renamed into place. The temporary
/// file is this write's own (process id and a counter in its name), so two writers of one
/// path (two imports to one `--out`) each rename a whole text: the last one wins.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if path.is_dir() {
        anyhow::bail!("{} is a directory: name a file to write", path.display());
    }
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{}-{write}.tmp~", std::process::id()));
    let tmp = path.with_file_name(name);
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("renaming into {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty directory of this test process's own, `xtask-NAME-PID` in the temporary
    /// directory.
    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A directory is refused by name before anything is written (the rename into it
    /// failed, leaving `NAME.tmp~` beside it).
    #[test]
    fn writing_onto_a_directory_leaves_nothing_behind() {
        let dir = scratch_dir("write");
        let out = dir.join("out");
        std::fs::create_dir_all(&out).unwrap();
        let err = write_file(&out, "{}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} is a directory: name a file to write", out.display())
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "only out/");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Writers of one path at once (two imports to one `--out`) each leave a whole text,
    /// never a mix of two nor an error: they shared one temporary file, `NAME.tmp~`.
    #[test]
    fn concurrent_writes_of_one_path_each_rename_a_whole_text() {
        let dir = scratch_dir("race");
        let out = dir.join("kms.json");
        let texts: Vec<String> = (b'a'..=b'h')
            .map(|c| String::from(c as char).repeat(256 * 1024))
            .collect();
        std::thread::scope(|scope| {
            let (texts, out) = (&texts, &out);
            for text in texts {
                scope.spawn(move || {
                    for _ in 0..20 {
                        write_file(out, text).unwrap();
                        let read = std::fs::read_to_string(out).unwrap();
                        assert!(texts.contains(&read), "a mix of texts was read");
                    }
                });
            }
        });
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "only kms.json");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Causes are listed under the message, as anyhow's `main` lists them.
    #[test]
    fn a_report_lists_the_causes() {
        let error = anyhow::anyhow!("disk full").context("writing spec/x.json");
        assert_eq!(
            report(&error),
            "Error: writing spec/x.json\n\nCaused by:\n    disk full"
        );
        assert_eq!(report(&anyhow::anyhow!("no")), "Error: no");
    }
}
