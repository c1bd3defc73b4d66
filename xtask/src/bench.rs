//! `cargo xtask bench`: speed and scale against baselines measured in the same run.
//!
//! The orchestration lives here (light dependencies only); the measuring processes are
//! the release-built `kms-server` binary, the `bench-harness` example of this package
//! (baseline server, wrk script signer, client-vs-SDK runner) and criterion benches.
//! Raw outputs go to `bench/out/` (ignored by git), the report to `bench/REPORT.md`.

mod buildcost;
mod clients;
mod codec;
mod criterion;
mod profile;
mod report;
mod scale;
mod throughput;
mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use report::{Report, Section};
use util::Machine;

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Shorter runs of items 1–4 only: about a minute once built (6–10 minutes cold, on 2
    /// cores).
    #[arg(long)]
    pub quick: bool,
    /// Run only these items (comma-separated): server, scale, clients, codec, build.
    #[arg(long, value_delimiter = ',', value_parser = ["server", "scale", "clients", "codec", "build"])]
    pub only: Vec<String>,
    /// Rounds of alternated server/baseline runs (default: 3 full, 2 quick); the client/SDK
    /// runs take as many, but at least 5 (always 3 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Where to write the report (default: bench/REPORT.md).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// What every item needs: paths, mode and the built binaries.
#[derive(Debug)]
pub struct Ctx {
    pub root: PathBuf,
    pub out: PathBuf,
    pub target_dir: PathBuf,
    pub quick: bool,
    pub rounds: usize,
    /// The release-built (bench profile) `kms-server` binary.
    pub server_bin: PathBuf,
    /// The release-built (bench profile) `bench-harness` example.
    pub harness_bin: PathBuf,
}

impl Ctx {
    /// A `cargo` command run in the workspace root.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.current_dir(&self.root);
        command
    }

    pub fn harness(&self) -> Command {
        Command::new(&self.harness_bin)
    }

    /// The `kms-server` binary, its options from its arguments alone: none of the
    /// `KMS_SERVER_*` variables the environment may export.
    pub fn server(&self) -> Command {
        let mut command = Command::new(&self.server_bin);
        for name in [
            "KMS_SERVER_LISTEN",
            "KMS_SERVER_CONFIG",
            "KMS_SERVER_DATA",
            "KMS_SERVER_FAIL_RATE",
            "KMS_SERVER_FAIL_FIRST",
            "KMS_SERVER_FAIL_WITH",
            "KMS_SERVER_LATENCY_MS",
            "KMS_SERVER_MARKER_KEY",
            "KMS_SERVER_ADMIN",
        ] {
            command.env_remove(name);
        }
        command
    }
}

/// Runs the benchmarks and writes `bench/REPORT.md`.
pub fn run(args: &BenchArgs) -> Result<()> {
    let root = crate::workspace_root();
    let out = root.join("bench").join("out");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let wanted = |item: &str| args.only.is_empty() || args.only.iter().any(|o| o == item);
    let machine = Machine::probe();
    let mut report = Report {
        machine,
        mode: if args.quick { "quick" } else { "full" }.into(),
        command: format!(
            "cargo xtask bench{}",
            if args.quick { " --quick" } else { "" }
        ),
        sections: Vec::new(),
        not_measured: Vec::new(),
        phases: Vec::new(),
        started: utc_now(),
    };
    if !args.only.is_empty() {
        report
            .command
            .push_str(&format!(" --only {}", args.only.join(",")));
    }

    let started = Instant::now();
    eprintln!("bench: building kms-server and bench-harness (bench profile = release + debuginfo)");
    let (server_bin, harness_bin) = build_binaries(&root)?;
    report
        .phases
        .push(("build (release/bench profile)".into(), started.elapsed()));
    let target_dir = crate::target_dir(&root)?;
    let ctx = Ctx {
        root: root.clone(),
        out,
        target_dir,
        quick: args.quick,
        rounds: args.rounds.unwrap_or(if args.quick { 2 } else { 3 }).max(1),
        server_bin,
        harness_bin,
    };

    let measuring = Instant::now();
    type Item = fn(&Ctx) -> Result<Vec<Section>>;
    let items: [(&str, &str, Item); 5] = [
        ("server", "1. Server throughput", throughput::run),
        ("scale", "2. Scale", scale::run),
        (
            "clients",
            "3. Client against the official SDK",
            clients::run,
        ),
        ("codec", "4. Codec", codec::run),
        ("build", "5. Build cost", buildcost::run),
    ];
    for (key, title, item) in items {
        if !wanted(key) {
            continue;
        }
        if key == "build" && ctx.quick {
            report.not_measured.push((
                title.into(),
                "quick mode runs items 1–4 only; run `cargo xtask bench` (full) for build cost"
                    .into(),
            ));
            continue;
        }
        eprintln!("bench: {title}");
        let start = Instant::now();
        match item(&ctx) {
            Ok(sections) => report.sections.extend(sections),
            Err(e) => {
                eprintln!("bench: {title}: not measured: {e:#}");
                report.not_measured.push((title.into(), format!("{e:#}")));
            }
        }
        report.phases.push((title.into(), start.elapsed()));
    }
    report.phases.push((
        "all measurements (after the build)".into(),
        measuring.elapsed(),
    ));

    let path = args
        .report
        .clone()
        .unwrap_or_else(|| root.join("bench").join("REPORT.md"));
    crate::write_file(&path, &report.render())?;
    eprintln!(
        "bench: wrote {} ({} not measured)",
        path.display(),
        report.not_measured.len()
    );
    Ok(())
}

/// Builds the `kms-server` binary and the `bench-harness` example in one cargo call (one
/// feature resolution) with the bench profile, and returns their paths.
fn build_binaries(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "build",
            "--profile",
            "bench",
            "--message-format",
            "json-render-diagnostics",
            "-p",
            "kms-server",
            "--bin",
            "kms-server",
            "-p",
            "xtask",
            "--example",
            "bench-harness",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    if !output.status.success() {
        bail!(
            "building kms-server and bench-harness failed ({})",
            output.status
        );
    }
    let mut server = None;
    let mut harness = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(name), Some(exe)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue;
        };
        match name {
            "kms-server" => server = Some(PathBuf::from(exe)),
            "bench-harness" => harness = Some(PathBuf::from(exe)),
            _ => {}
        }
    }
    Ok((
        server.ok_or_else(|| anyhow!("cargo built no kms-server executable"))?,
        harness.ok_or_else(|| anyhow!("cargo built no bench-harness executable"))?,
    ))
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC` (no date crate needed).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_now_is_well_formed() {
        let now = super::utc_now();
        assert_eq!(now.len(), "2026-12-04 12:00 UTC".len(), "{now}");
        assert!(now.ends_with(" UTC"));
    }
}
