//! Item 5: clean release build time of a minimal program calling DescribeCustomKeyStores
//! with kms-client, against the same program written with aws-sdk-kms.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::Ctx;
use super::report::{Section, Target};
use super::util::{Summary, paired_ratios, tail};

const OURS_MAIN: &str = r#"//! Lists the custom key stores with kms-client.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:4599".into());
    let config = kms_client::Config::builder()
        .endpoint(endpoint)
        .region("us-east-1")
        .credentials(kms_client::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
        ))
        .build()?;
    let client = kms_client::Client::new(config);
    let page = client.describe_custom_key_stores().send().await?;
    println!("{} stores", page.custom_key_stores.map_or(0, |s| s.len()));
    Ok(())
}
"#;

const SDK_MAIN: &str = r#"//! Lists the custom key stores with aws-sdk-kms.
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:4599".into());
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "example",
        ))
        .http_client(http)
        .build();
    let client = aws_sdk_kms::Client::from_conf(config);
    let page = client.describe_custom_key_stores().send().await?;
    println!("{} stores", page.custom_key_stores().len());
    Ok(())
}
"#;

fn manifest(name: &str, deps: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{deps}tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n\
         # Not part of any enclosing workspace.\n[workspace]\n"
    )
}

/// Writes the program into `dir` (with the workspace's Cargo.lock, so that both resolve
/// to the versions already in the registry cache).
fn write_program(ctx: &Ctx, dir: &Path, name: &str, deps: &str, main: &str) -> Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(dir.join("Cargo.toml"), manifest(name, deps))?;
    std::fs::write(dir.join("src").join("main.rs"), main)?;
    std::fs::copy(ctx.root.join("Cargo.lock"), dir.join("Cargo.lock"))
        .context("copying the workspace Cargo.lock")?;
    Ok(())
}

/// The slowest compilation units of a build, from cargo's `--timings` report:
/// `(seconds, "name version (what)")`, slowest first.
fn slowest_units(target: &Path) -> Vec<(f64, String)> {
    // cargo writes `cargo-timing-<time>.html` (and not always a `cargo-timing.html` copy).
    let newest = std::fs::read_dir(target.join("cargo-timings"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("cargo-timing") && name.ends_with(".html")
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    let html = newest
        .and_then(|e| std::fs::read_to_string(e.path()).ok())
        .unwrap_or_default();
    let Some(start) = html.find("const UNIT_DATA = ") else {
        return Vec::new();
    };
    let json = &html[start + "const UNIT_DATA = ".len()..];
    let json = json.split(";\n").next().unwrap_or_default();
    let Ok(serde_json::Value::Array(units)) = serde_json::from_str::<serde_json::Value>(json)
    else {
        return Vec::new();
    };
    let mut slowest: Vec<(f64, String)> = units
        .iter()
        .filter_map(|u| {
            let duration = u["duration"].as_f64()?;
            let name = u["name"].as_str()?;
            let version = u["version"].as_str().unwrap_or_default();
            let what = u["target"].as_str().unwrap_or_default().trim();
            let mode = u["mode"].as_str().unwrap_or_default();
            let kind = if mode == "run-custom-build" {
                " (build script run)".to_owned()
            } else if what.is_empty() {
                String::new()
            } else {
                format!(" ({})", what.replace('"', ""))
            };
            Some((duration, format!("{name} {version}{kind}")))
        })
        .collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest.truncate(12);
    slowest
}

/// `1m30.250s` (bash's `times` format) in seconds.
fn bash_duration(text: &str) -> Option<f64> {
    let (minutes, seconds) = text.trim().trim_end_matches('s').split_once('m')?;
    Some(minutes.parse::<f64>().ok()? * 60.0 + seconds.parse::<f64>().ok()?)
}

/// One clean build: wall seconds, and CPU seconds (user + system) of cargo and rustc.
#[derive(Debug, Clone, Copy)]
struct Build {
    wall: f64,
    cpu: f64,
}

/// A clean release build of the program in `dir` with its own fresh target dir.
fn clean_build(ctx: &Ctx, dir: &Path, target: &Path, label: &str) -> Result<Build> {
    if target.exists() {
        std::fs::remove_dir_all(target)
            .with_context(|| format!("removing {}", target.display()))?;
    }
    // Resolve first (not timed): the registry is local, but resolution is not build time.
    let fetch = ctx
        .cargo()
        .current_dir(dir)
        .args(["fetch"])
        .stdin(Stdio::null())
        .output()
        .context("cargo fetch")?;
    if !fetch.status.success() {
        bail!(
            "cargo fetch for the {label} program failed: {}",
            tail(&String::from_utf8_lossy(&fetch.stderr), 1500)
        );
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    // bash's `times` reports the CPU time of the finished children (cargo, rustc, linker):
    // a cross-check that does not depend on what else the shared machine runs.
    let output = std::process::Command::new("bash")
        .args([
            "-c",
            "\"$@\"; status=$?; times; exit $status",
            "bash",
            &cargo,
            "build",
            "--release",
            "--offline",
            "--timings",
        ])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .stdin(Stdio::null())
        .output()
        .context("cargo build --release")?;
    let wall = started.elapsed().as_secs_f64();
    let log = ctx.out.join(format!("build-{label}.log"));
    std::fs::write(&log, &output.stderr)?;
    if !output.status.success() {
        bail!(
            "the {label} program did not build ({}); end of {}:\n{}",
            output.status,
            log.display(),
            tail(&String::from_utf8_lossy(&output.stderr), 1500)
        );
    }
    let cpu = String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .map(|children| children.split_whitespace().filter_map(bash_duration).sum())
        .unwrap_or(f64::NAN);
    Ok(Build { wall, cpu })
}

/// The programs built, in the order of the first round.
const PROGRAMS: [&str; 3] = ["kms-client", "aws-sdk-kms", "kms-client, HTTP only"];

pub fn run(ctx: &Ctx) -> Result<Vec<Section>> {
    let base: PathBuf =
        std::env::temp_dir().join(format!("kms-bench-build-{}", std::process::id()));
    let client_path = format!(
        "{:?}",
        ctx.root.join("crates").join("client").to_string_lossy()
    );
    let dirs = [
        base.join("with-kms-client"),
        base.join("with-aws-sdk-kms"),
        base.join("with-kms-client-http"),
    ];
    write_program(
        ctx,
        &dirs[0],
        "with-kms-client",
        &format!("kms-client = {{ path = {client_path} }}\n"),
        OURS_MAIN,
    )?;
    write_program(
        ctx,
        &dirs[1],
        "with-aws-sdk-kms",
        "aws-sdk-kms = { version = \"1\", default-features = false, features = [\"rt-tokio\", \"behavior-version-latest\"] }\n\
         aws-smithy-http-client = { version = \"1\", features = [\"rustls-ring\"] }\n",
        SDK_MAIN,
    )?;
    write_program(
        ctx,
        &dirs[2],
        "with-kms-client-http",
        &format!("kms-client = {{ path = {client_path}, default-features = false }}\n"),
        OURS_MAIN,
    )?;
    let runs = 2;
    let mut builds: [Vec<Build>; 3] = Default::default();
    let mut units: Vec<(&str, Vec<(f64, String)>)> = Vec::new();
    let result = (|| -> Result<()> {
        for round in 0..runs {
            // Each round starts with a different program, so none always builds first.
            for k in 0..PROGRAMS.len() {
                let i = (k + round) % PROGRAMS.len();
                let label = PROGRAMS[i];
                eprintln!("bench:   clean release build of the {label} program");
                let target = base.join(format!("target-{i}"));
                let build = clean_build(ctx, &dirs[i], &target, &label.replace([',', ' '], "-"))?;
                if round == 0 {
                    units.push((label, slowest_units(&target)));
                }
                builds[i].push(build);
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&base);
    result?;
    units.sort_by_key(|(label, _)| PROGRAMS.iter().position(|p| p == label));

    let wall = |v: &[Build]| v.iter().map(|b| b.wall).collect::<Vec<_>>();
    let cpu = |v: &[Build]| v.iter().map(|b| b.cpu).collect::<Vec<_>>();
    let [ours, sdk, http_only] = &builds;
    let ratio = Summary::of(&paired_ratios(&wall(ours), &wall(sdk)));
    let cpu_ratio = Summary::of(&paired_ratios(&cpu(ours), &cpu(sdk)));
    let http_ratio = Summary::of(&paired_ratios(&wall(http_only), &wall(sdk)));
    let mut section = Section::new("5. Build cost");
    section.note(format!(
        "A minimal program that builds a client (endpoint, region, static credentials) and calls \
         DescribeCustomKeyStores once, written twice: with `kms-client` (path dependency on this workspace, \
         default features: HTTPS with rustls on ring) and with `aws-sdk-kms` (default features off, \
         `rt-tokio` + `behavior-version-latest`, and `aws-smithy-http-client` with rustls on ring — the \
         same TLS stack). Both with `tokio` (macros, rt-multi-thread) and this workspace's Cargo.lock; \
         each `cargo build --release --offline` starts from an empty CARGO_TARGET_DIR (dependencies \
         fetched beforehand, not timed). Also, for information, the kms-client program with \
         `default-features = false` (plain HTTP: enough for kms-server, not for real KMS). {runs} \
         rounds, each program once per round, rotating which goes first, on {} cores. Wall time is the \
         figure judged; the CPU time of cargo and rustc (bash `times`) is a cross-check less sensitive \
         to other load on the machine.",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    ));
    section.table(&[
        "program",
        "clean release build, wall (s)",
        "CPU, user + system (s)",
    ]);
    let show = |v: &[f64]| Summary::of(v).map_or_else(|| "—".into(), |s| s.show(1));
    for (label, runs) in PROGRAMS.iter().zip(&builds) {
        section.row(&[format!("with {label}"), show(&wall(runs)), show(&cpu(runs))]);
    }
    section.target(
        "clean build time kms-client ÷ aws-sdk-kms",
        ratio,
        Target::AtMost(0.3),
        cpu_ratio.map_or_else(String::new, |r| format!("CPU-time ratio: {:.2}", r.median)),
    );
    if let Some(r) = http_ratio {
        section.note(format!(
            "kms-client without TLS (`default-features = false`): {:.2}× the aws-sdk-kms program's \
             wall time (median of {} paired rounds; informational, not the judged figure).",
            r.median, r.n
        ));
    }
    for (label, slowest) in units {
        if slowest.is_empty() {
            section.note(format!(
                "Slowest units of the {label} program: no cargo --timings report found."
            ));
            continue;
        }
        let mut text = format!(
            "Slowest compilation units of the {label} program (`cargo build --timings`; units overlap on \
             the cores, so they do not add up to the wall time):\n\n```\n"
        );
        for (seconds, unit) in slowest {
            text.push_str(&format!("{seconds:6.1} s  {unit}\n"));
        }
        text.push_str("```");
        section.note(text);
    }
    Ok(vec![section])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bash_times() {
        assert_eq!(bash_duration("1m30.250s"), Some(90.25));
        assert_eq!(bash_duration("0m0.004s"), Some(0.004));
        assert_eq!(bash_duration("junk"), None);
    }

    #[test]
    fn reads_cargo_timings() {
        let dir = std::env::temp_dir().join(format!("kms-bench-timings-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("cargo-timings")).unwrap();
        std::fs::write(
            dir.join("cargo-timings").join("cargo-timing-20261204T000000Z-0.html"),
            "<script>\nconst UNIT_DATA = [{\"name\":\"ring\",\"version\":\"0.17.14\",\"mode\":\"run-custom-build\",\"target\":\"\",\"duration\":5.2},\
             {\"name\":\"rustls\",\"version\":\"0.23.46\",\"mode\":\"todo\",\"target\":\"\",\"duration\":15.7}];\nconst CONCURRENCY_DATA = [];\n",
        )
        .unwrap();
        let units = slowest_units(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            units,
            vec![
                (15.7, "rustls 0.23.46".to_owned()),
                (5.2, "ring 0.17.14 (build script run)".to_owned())
            ]
        );
    }
}
