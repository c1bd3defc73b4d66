//! A CPU profile of a server under wrk load (perf, from Debian's linux-perf), for the
//! report when a throughput target is missed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, ensure};

use super::Ctx;
use super::util::{ensure_tool, output_of};

/// Lines of a `perf report --stdio` table: `(percent, symbol)`, ANSI and padding removed.
fn rows(report: &str, which: usize) -> Vec<(f64, String)> {
    report
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let mut percents = Vec::new();
            let mut rest = Vec::new();
            for part in parts.by_ref() {
                match part.strip_suffix('%').and_then(|p| p.parse::<f64>().ok()) {
                    Some(p) if rest.is_empty() => percents.push(p),
                    _ => rest.push(part),
                }
            }
            let percent = *percents.get(which)?;
            // Drop the `[.]` / `[k]` marker; keep the symbol.
            let symbol = rest
                .iter()
                .skip_while(|p| p.starts_with('['))
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            let symbol = symbol.trim_end_matches(['-', ' ']).trim().to_owned();
            (!symbol.is_empty()).then_some((percent, symbol))
        })
        .collect()
}

fn shorten(symbol: &str, max: usize) -> String {
    if symbol.chars().count() <= max {
        symbol.to_owned()
    } else {
        let cut: String = symbol.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Profiles `pid` for 3 s while wrk drives `endpoint` with `lua`; returns markdown.
pub fn under_wrk(
    ctx: &Ctx,
    wrk: &Path,
    lua: &Path,
    endpoint: &str,
    pid: u32,
    threads: usize,
) -> Result<String> {
    let perf = ensure_tool("perf", "linux-perf")?;
    let data = ctx.out.join("perf-kms-server.data");
    let mut load = Command::new(wrk)
        .args(["-t", &threads.to_string(), "-c", "64", "-d", "6s", "-s"])
        .arg(lua)
        .arg(format!("{endpoint}/"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting wrk for the profile")?;
    std::thread::sleep(Duration::from_secs(1));
    let recorded = Command::new(&perf)
        .args([
            "record",
            "-F",
            "499",
            "--call-graph",
            "dwarf,16384",
            "-p",
            &pid.to_string(),
            "-o",
        ])
        .arg(&data)
        .args(["--", "sleep", "3"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = load.wait();
    ensure!(
        recorded.context("running perf record")?.success(),
        "perf record failed (perf_event_paranoid? see {})",
        data.display()
    );
    let report = |children: bool| {
        output_of(Command::new(&perf).args(["report", "-i"]).arg(&data).args([
            if children {
                "--children"
            } else {
                "--no-children"
            },
            "--sort",
            "symbol",
            "--stdio",
            "-g",
            "none",
        ]))
    };
    let flat = rows(&report(false)?, 0);
    let inclusive = rows(&report(true)?, 0);
    if flat.is_empty() {
        return Err(anyhow!("perf report had no samples ({})", data.display()));
    }
    let mut out = String::from(
        "**Profile** of kms-server (RUST_LOG=warn) under the same wrk load, taken because the target \
         was missed: `perf record -F 499 --call-graph dwarf` for 3 s (raw data: \
         `bench/out/perf-kms-server.data`; inspect with `perf report -i`).\n\nSelf time, top symbols:\n\n```\n",
    );
    for (percent, symbol) in flat.iter().take(15) {
        out.push_str(&format!("{percent:6.2}%  {}\n", shorten(symbol, 110)));
    }
    out.push_str("```\n\nInclusive time of the server's own frames and the JSON encoder:\n\n```\n");
    let mut seen = std::collections::BTreeSet::new();
    for (percent, symbol) in inclusive.iter().filter(|(p, s)| {
        *p >= 1.0
            && (s.contains("kms_server::")
                || s.contains("kms_types::")
                || s.contains("serde_json::ser"))
    }) {
        let short = shorten(symbol, 110);
        if seen.insert(short.clone()) && seen.len() <= 25 {
            out.push_str(&format!("{percent:6.2}%  {short}\n"));
        }
    }
    out.push_str("```\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_report_rows() {
        let text = "# Overhead  Symbol\n    11.91%  [.] serde_json::ser::format_escaped_str   -   -\n     4.59%  [k] finish_task_switch\n";
        let flat = rows(text, 0);
        assert_eq!(flat.len(), 2);
        assert_eq!(
            flat[0],
            (11.91, "serde_json::ser::format_escaped_str".to_owned())
        );
        let children = "    52.57%     0.91%  [.] <kms_server::service::KmsService as Service>::call::{{closure}}  -  -\n";
        assert_eq!(rows(children, 0)[0].0, 52.57);
        assert_eq!(rows(children, 1)[0].0, 0.91);
    }
}
