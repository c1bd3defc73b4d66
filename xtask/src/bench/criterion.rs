//! Running a criterion bench with cargo and reading what it wrote in target/criterion.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};

use super::Ctx;
use super::util::{Summary, tail};

/// One criterion benchmark's result.
#[derive(Debug, Clone)]
pub struct Bench {
    pub group_id: String,
    pub function_id: Option<String>,
    pub value_str: Option<String>,
    pub full_id: String,
    /// Time per iteration of each sample, nanoseconds.
    pub samples_ns: Vec<f64>,
    /// Criterion's median estimate, nanoseconds.
    pub median_ns: f64,
}

impl Bench {
    pub fn summary(&self) -> Option<Summary> {
        Summary::of(&self.samples_ns)
    }
}

/// The criterion options of a run: short in quick mode, criterion's defaults otherwise.
pub fn args(quick: bool) -> Vec<String> {
    let mut args: Vec<String> = vec!["--noplot".into()];
    if quick {
        args.extend(
            [
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "1",
                "--sample-size",
                "10",
            ]
            .map(String::from),
        );
    }
    args
}

/// Runs `cargo bench -p package --bench bench -- args` and returns every benchmark whose
/// results it wrote. The log goes to `bench/out/criterion-<bench>.log`.
pub fn run(ctx: &Ctx, package: &str, bench: &str, extra: &[String]) -> Result<Vec<Bench>> {
    let started = SystemTime::now() - Duration::from_secs(1);
    let log = ctx.out.join(format!("criterion-{bench}.log"));
    let output = ctx
        .cargo()
        .args(["bench", "-p", package, "--bench", bench, "--"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running cargo bench -p {package} --bench {bench}"))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    std::fs::write(&log, &text).with_context(|| format!("writing {}", log.display()))?;
    if !output.status.success() {
        bail!(
            "cargo bench -p {package} --bench {bench} failed ({}); end of {}:\n{}",
            output.status,
            log.display(),
            tail(&text, 1500)
        );
    }
    let mut found = Vec::new();
    collect(&ctx.target_dir.join("criterion"), started, &mut found)?;
    found.sort_by(|a, b| a.full_id.cmp(&b.full_id));
    if found.is_empty() {
        bail!(
            "cargo bench -p {package} --bench {bench} wrote no criterion results; see {}",
            log.display()
        );
    }
    Ok(found)
}

fn collect(dir: &Path, since: SystemTime, found: &mut Vec<Bench>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let benchmark = path.join("benchmark.json");
            let fresh = std::fs::metadata(&benchmark)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            if fresh {
                found.push(read(&path)?);
            }
        } else {
            collect(&path, since, found)?;
        }
    }
    Ok(())
}

fn json(path: PathBuf) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn read(new: &Path) -> Result<Bench> {
    let benchmark = json(new.join("benchmark.json"))?;
    let sample = json(new.join("sample.json"))?;
    let estimates = json(new.join("estimates.json"))?;
    let numbers = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default()
    };
    let iters = numbers(&sample["iters"]);
    let times = numbers(&sample["times"]);
    let samples_ns = times
        .iter()
        .zip(&iters)
        .filter(|(_, n)| **n > 0.0)
        .map(|(t, n)| t / n)
        .collect();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    Ok(Bench {
        group_id: text(&benchmark["group_id"]).unwrap_or_default(),
        function_id: text(&benchmark["function_id"]),
        value_str: text(&benchmark["value_str"]),
        full_id: text(&benchmark["full_id"]).unwrap_or_default(),
        samples_ns,
        median_ns: estimates["median"]["point_estimate"]
            .as_f64()
            .unwrap_or(f64::NAN),
    })
}

/// `ns` with a unit that keeps 3 significant digits readable.
pub fn show_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// `min / median / max` of a bench's per-iteration sample times.
pub fn show_summary(bench: &Bench) -> String {
    match bench.summary() {
        Some(s) => format!(
            "{} / **{}** / {} (n={} samples)",
            show_ns(s.min),
            show_ns(s.median),
            show_ns(s.max),
            s.n
        ),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(show_ns(12.0), "12.0 ns");
        assert_eq!(show_ns(1_500.0), "1.500 µs");
        assert_eq!(show_ns(2_000_000.0), "2.000 ms");
    }
}
