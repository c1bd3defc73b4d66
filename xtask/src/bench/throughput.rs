//! Item 1: kms-server throughput under wrk against a no-work hyper baseline, alternated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, ensure};

use super::Ctx;
use super::report::{Section, Target};
use super::util::{
    Service, Summary, Usage, ensure_tool, output_of, paired_ratios, usage, waited_children_cpu_s,
};

const CONNECTIONS: usize = 64;

/// One wrk run's figures.
#[derive(Debug, Clone)]
struct WrkRun {
    requests: u64,
    duration_s: f64,
    non_2xx: u64,
    socket_errors: u64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time the server process used per request during the run (user + system).
    cpu_us_per_request: f64,
    /// Of it, in the kernel.
    system_us_per_request: f64,
    /// The server's context switches per request (voluntary + involuntary).
    switches_per_request: f64,
    /// Of them, involuntary (preempted while it could have run on).
    involuntary_per_request: f64,
    /// CPU time the load generator (wrk, user + system) used per request: it shares
    /// the cores with the server.
    load_cpu_us_per_request: f64,
}

impl WrkRun {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.duration_s
    }
}

/// Makes sure `wrk` is on PATH, installing Debian's package when it is missing.
pub fn ensure_wrk() -> Result<PathBuf> {
    ensure_tool("wrk", "wrk")
}

/// Signs a fresh request for `endpoint` and writes the wrk script; returns the response
/// bytes the endpoint answered the signed request with.
fn prepare(ctx: &Ctx, endpoint: &str, name: &str) -> Result<(PathBuf, Vec<u8>)> {
    let lua = ctx.out.join(format!("wrk-{name}.lua"));
    let body = ctx.out.join(format!("response-{name}.json"));
    output_of(ctx.harness().args([
        "prepare",
        "--endpoint",
        endpoint,
        "--lua",
        &lua.to_string_lossy(),
        "--body-out",
        &body.to_string_lossy(),
    ]))
    .with_context(|| format!("preparing the signed wrk request for {name}"))?;
    let bytes = std::fs::read(&body).with_context(|| format!("reading {}", body.display()))?;
    Ok((lua, bytes))
}

/// Runs wrk against `service` and records the CPU time the service used meanwhile.
fn run_wrk(
    wrk: &Path,
    lua: &Path,
    service: &Service,
    seconds: u64,
    threads: usize,
) -> Result<WrkRun> {
    let endpoint = &service.endpoint;
    let before = usage(service.pid())?;
    let wrk_before = waited_children_cpu_s()?;
    let text = output_of(Command::new(wrk).args([
        "-t",
        &threads.to_string(),
        "-c",
        &CONNECTIONS.to_string(),
        "-d",
        &format!("{seconds}s"),
        "--timeout",
        "5s",
        "-s",
        &lua.to_string_lossy(),
        &format!("{endpoint}/"),
    ]))?;
    let used: Usage = usage(service.pid())? - before;
    let wrk_used = waited_children_cpu_s()? - wrk_before;
    let mut run = parse_wrk(&text)?;
    let per_request = |v: f64| v / run.requests.max(1) as f64;
    run.cpu_us_per_request = per_request((used.user_s + used.system_s) * 1e6);
    run.system_us_per_request = per_request(used.system_s * 1e6);
    run.switches_per_request =
        per_request((used.voluntary_switches + used.involuntary_switches) as f64);
    run.involuntary_per_request = per_request(used.involuntary_switches as f64);
    run.load_cpu_us_per_request = per_request(wrk_used * 1e6);
    Ok(run)
}

fn parse_wrk(text: &str) -> Result<WrkRun> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("WRK_RESULT "))
        .ok_or_else(|| anyhow!("wrk printed no WRK_RESULT line:\n{text}"))?;
    let fields: BTreeMap<&str, f64> = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k, v)))
        .collect();
    let get = |k: &str| {
        fields
            .get(k)
            .copied()
            .ok_or_else(|| anyhow!("WRK_RESULT has no {k}: {line}"))
    };
    let run = WrkRun {
        requests: get("requests")? as u64,
        duration_s: get("duration_us")? / 1e6,
        non_2xx: get("status")? as u64,
        socket_errors: (get("connect")? + get("read")? + get("write")? + get("timeout")?) as u64,
        p50_ms: get("p50_us")? / 1e3,
        p99_ms: get("p99_us")? / 1e3,
        cpu_us_per_request: f64::NAN,
        system_us_per_request: f64::NAN,
        switches_per_request: f64::NAN,
        involuntary_per_request: f64::NAN,
        load_cpu_us_per_request: f64::NAN,
    };
    ensure!(run.duration_s > 0.0, "wrk ran for no time: {line}");
    Ok(run)
}

fn start_server(ctx: &Ctx, name: &str, quiet_logs: bool) -> Result<Service> {
    let mut command = ctx.server();
    command.args(["--listen", "127.0.0.1:0"]);
    if quiet_logs {
        command.env("RUST_LOG", "warn");
    } else {
        command.env_remove("RUST_LOG");
    }
    Service::start(
        name,
        command,
        &ctx.out.join(format!("{name}.log")),
        "kms-server listening on",
        Duration::from_secs(60),
    )
}

/// `bench-harness baseline` answering the bytes of `body`; with `verify`, it checks each
/// request's SigV4 signature first.
fn start_baseline(ctx: &Ctx, name: &str, body: &Path, verify: bool) -> Result<Service> {
    let mut command = ctx.harness();
    command.args(["baseline", "--body", &body.to_string_lossy()]);
    if verify {
        command.args(["--verify", "sigv4"]);
    }
    Service::start(
        name,
        command,
        &ctx.out.join(format!("{name}.log")),
        "READY",
        Duration::from_secs(30),
    )
}

pub fn run(ctx: &Ctx) -> Result<Vec<Section>> {
    let wrk = ensure_wrk()?;
    let wrk_version = Command::new(&wrk)
        .arg("-v")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_default();
    let seconds = if ctx.quick { 3 } else { 10 };
    let threads = num_threads();

    let server = start_server(ctx, "kms-server", false)?;
    let (_, server_body) = prepare(ctx, &server.endpoint, "kms-server")?;
    let body_file = ctx.out.join("baseline-body.json");
    std::fs::write(&body_file, &server_body)?;
    let baseline = start_baseline(ctx, "baseline", &body_file, false)?;
    let (_, baseline_body) = prepare(ctx, &baseline.endpoint, "baseline")?;
    ensure!(
        baseline_body == server_body,
        "the baseline does not answer the same bytes as kms-server"
    );

    let mut server_runs = Vec::new();
    let mut baseline_runs = Vec::new();
    for round in 0..ctx.rounds {
        let order: [(&Service, &str); 2] = if round % 2 == 0 {
            [(&server, "kms-server"), (&baseline, "baseline")]
        } else {
            [(&baseline, "baseline"), (&server, "kms-server")]
        };
        for (service, name) in order {
            // A fresh X-Amz-Date for every run keeps it well inside the ±5 min window.
            let (lua, _) = prepare(ctx, &service.endpoint, name)?;
            eprintln!("bench:   round {} {name}: wrk {seconds}s", round + 1);
            let run = run_wrk(&wrk, &lua, service, seconds, threads)
                .with_context(|| format!("wrk against {name}"))?;
            if name == "kms-server" {
                server_runs.push(run);
            } else {
                baseline_runs.push(run);
            }
        }
    }
    drop(baseline);
    drop(server);

    // Diagnostic: the baseline plus the signature check every KMS stand-in must make — the
    // floor under kms-server that no work of its own could go below.
    let signed_baseline = start_baseline(ctx, "baseline-sigv4", &body_file, true)
        .and_then(|service| {
            let (lua, _) = prepare(ctx, &service.endpoint, "baseline-sigv4")?;
            eprintln!("bench:   baseline + SigV4: wrk {seconds}s");
            let run = run_wrk(&wrk, &lua, &service, seconds, threads)?;
            ensure!(
                run.non_2xx == 0,
                "{} requests failed verification (see baseline-sigv4.log)",
                run.non_2xx
            );
            Ok(run)
        })
        .map_err(|e| format!("{e:#}"));

    // Diagnostic: the same binary with per-request logs off, to show what logging costs;
    // then, while it is up, a CPU profile under the same load when the target is missed.
    let ratios = paired_ratios(
        &server_runs.iter().map(WrkRun::rps).collect::<Vec<_>>(),
        &baseline_runs.iter().map(WrkRun::rps).collect::<Vec<_>>(),
    );
    let missed = Summary::of(&ratios).is_some_and(|r| r.median < 0.8);
    let mut profile = None;
    let quiet = start_server(ctx, "kms-server-quiet", true)
        .and_then(|quiet| {
            let (lua, _) = prepare(ctx, &quiet.endpoint, "kms-server-quiet")?;
            let run = run_wrk(&wrk, &lua, &quiet, seconds, threads)?;
            if missed {
                let (lua, _) = prepare(ctx, &quiet.endpoint, "kms-server-quiet")?;
                profile = Some(
                    super::profile::under_wrk(
                        ctx,
                        &wrk,
                        &lua,
                        &quiet.endpoint,
                        quiet.pid(),
                        threads,
                    )
                    .map_err(|e| format!("{e:#}")),
                );
            }
            Ok(run)
        })
        .map_err(|e| format!("{e:#}"));

    let mut section = Section::new("1. Server throughput");
    section.note(format!(
        "`{wrk_version}` — {threads} threads, {CONNECTIONS} connections, {seconds} s per run, \
         `POST /` DescribeCustomKeyStores (demo data, default page, {} response bytes) signed once per run \
         with a fresh X-Amz-Date (aws-sigv4). Server: the `kms-server` binary (bench profile = release + \
         debuginfo), default settings (`RUST_LOG` unset → info, one log line per request, to a file). \
         Baseline: a minimal hyper 1 HTTP/1 server (`bench-harness baseline`, same tokio multi-thread runtime, \
         TCP_NODELAY like kms-server) that reads the body and answers the same bytes with no work; the \
         SigV4 row is that baseline checking each request's signature first. \
         {} alternated rounds (server first in odd rounds, baseline first in even ones).",
        server_body.len(),
        ctx.rounds
    ));
    section.table(&[
        "target",
        "requests/s",
        "p50 latency (ms)",
        "p99 latency (ms)",
        "server CPU per request (µs)",
        "of it in the kernel (µs)",
        "server context switches per request",
        "wrk CPU per request (µs)",
        "non-2xx",
        "socket errors",
    ]);
    for (name, runs) in [
        ("kms-server", &server_runs),
        ("baseline (hyper, no work)", &baseline_runs),
    ] {
        section.row(&figure_row(name, runs));
    }
    for (name, diagnostic) in [
        ("baseline + SigV4 verification", &signed_baseline),
        ("kms-server, RUST_LOG=warn", &quiet),
    ] {
        match diagnostic {
            Ok(run) => section.row(&figure_row(
                &format!("{name} (diagnostic, 1 run)"),
                std::slice::from_ref(run),
            )),
            Err(e) => section.note(format!("Diagnostic run of {name}: not measured: {e}")),
        }
    }
    let bad: u64 = server_runs
        .iter()
        .chain(&baseline_runs)
        .map(|r| r.non_2xx + r.socket_errors)
        .sum();
    let note = if bad > 0 {
        format!("{bad} failed requests (non-2xx or socket errors): figures are suspect")
    } else {
        "every response 2xx".to_owned()
    };
    section.target(
        "requests/s kms-server ÷ baseline (paired by round)",
        Summary::of(&ratios),
        Target::AtLeast(0.8),
        note,
    );
    let baseline_rps = Summary::of(&baseline_runs.iter().map(WrkRun::rps).collect::<Vec<_>>());
    if let (Ok(run), Some(base)) = (&signed_baseline, baseline_rps) {
        let ratio = run.rps() / base.median;
        let room = if ratio > 0.8 {
            format!(
                "the 0.8× target leaves {:.0} % of the baseline's throughput for everything else a real \
                 server does (routing, input validation, the page, the JSON encoding, the access log)",
                (ratio - 0.8) * 100.0
            )
        } else {
            "signature checking alone is already below the 0.8× target".to_owned()
        };
        section.note(format!(
            "Diagnostic: the baseline that also verifies each request's SigV4 signature as kms-server does \
             (`bench-harness baseline --verify sigv4`: `kms_server::auth::authenticate` against the demo \
             accounts, 403 when it fails) does {:.0} requests/s = {ratio:.2}× the baseline median (1 run). \
             Any KMS stand-in that the AWS SDKs can call must check signatures; {room}.",
            run.rps(),
        ));
    }
    if let (Ok(run), Some(base)) = (&quiet, baseline_rps) {
        section.note(format!(
            "Diagnostic: with `RUST_LOG=warn` kms-server does {:.0} requests/s = {:.2}× the baseline median \
             (not alternated, 1 run; for locating the cost, not for the verdict).",
            run.rps(),
            run.rps() / base.median
        ));
    }
    let median = |runs: &[WrkRun], f: fn(&WrkRun) -> f64| {
        Summary::of(&runs.iter().map(f).collect::<Vec<_>>()).map(|s| s.median)
    };
    if let (Some(server_cpu), Some(base_cpu)) = (
        median(&server_runs, |r| r.cpu_us_per_request),
        median(&baseline_runs, |r| r.cpu_us_per_request),
    ) {
        section.note(format!(
            "CPU per request (from /proc/PID/stat, independent of how wrk shares the cores): kms-server \
             {server_cpu:.1} µs, baseline {base_cpu:.1} µs (medians) — kms-server spends {:.1}× the \
             baseline's CPU on a request.",
            server_cpu / base_cpu
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let busy = |runs: &[WrkRun]| {
        median(runs, |r| {
            (r.cpu_us_per_request + r.load_cpu_us_per_request) * r.rps() / 1e6
        })
    };
    if let (Some(server_wrk), Some(base_wrk), Some(server_busy), Some(base_busy)) = (
        median(&server_runs, |r| r.load_cpu_us_per_request),
        median(&baseline_runs, |r| r.load_cpu_us_per_request),
        busy(&server_runs),
        busy(&baseline_runs),
    ) {
        section.note(format!(
            "wrk runs on the same {cores:.0} cores: it used {server_wrk:.1} µs of CPU per request against \
             kms-server and {base_wrk:.1} µs against the baseline (medians). Server and wrk together kept \
             {server_busy:.2} and {base_busy:.2} of the {cores:.0} cores busy, so requests/s is about cores ÷ \
             (server + wrk CPU per request): every µs the server spends is a µs wrk cannot spend sending, \
             and wrk itself spent more CPU per request against the slower server."
        ));
    }
    if let (Some(server), Some(server_involuntary), Some(base), Some(base_involuntary)) = (
        median(&server_runs, |r| r.switches_per_request),
        median(&server_runs, |r| r.involuntary_per_request),
        median(&baseline_runs, |r| r.switches_per_request),
        median(&baseline_runs, |r| r.involuntary_per_request),
    ) {
        section.note(format!(
            "Context switches per request (from /proc/PID/task/*/status; medians): kms-server {server:.3} \
             ({server_involuntary:.3} involuntary), baseline {base:.3} ({base_involuntary:.3} involuntary). \
             Involuntary ones are wrk's threads preempting a server thread that could have run on; a server that \
             spends more CPU per request is preempted more often, and pays for it in the kernel column."
        ));
    }
    match profile {
        Some(Ok(text)) => section.note(text),
        Some(Err(e)) => section.note(format!("Profile: not measured: {e}")),
        None => {}
    }
    Ok(vec![section])
}

fn figure_row(name: &str, runs: &[WrkRun]) -> Vec<String> {
    let show = |values: Vec<f64>, digits| {
        Summary::of(&values).map_or_else(|| "—".into(), |s| s.show(digits))
    };
    vec![
        name.to_owned(),
        show(runs.iter().map(WrkRun::rps).collect(), 0),
        show(runs.iter().map(|r| r.p50_ms).collect(), 2),
        show(runs.iter().map(|r| r.p99_ms).collect(), 2),
        show(runs.iter().map(|r| r.cpu_us_per_request).collect(), 1),
        show(runs.iter().map(|r| r.system_us_per_request).collect(), 1),
        show(runs.iter().map(|r| r.switches_per_request).collect(), 3),
        show(runs.iter().map(|r| r.load_cpu_us_per_request).collect(), 1),
        runs.iter().map(|r| r.non_2xx).sum::<u64>().to_string(),
        runs.iter()
            .map(|r| r.socket_errors)
            .sum::<u64>()
            .to_string(),
    ]
}

fn num_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_done_line() {
        let text = "Running 3s test\nWRK_RESULT requests=3000 duration_us=3000000 bytes=1 connect=0 read=1 write=0 status=2 timeout=0 p50_us=1500 p90_us=2000 p99_us=4000 max_us=9000 mean_us=1600.5\n";
        let run = parse_wrk(text).unwrap();
        assert_eq!(run.requests, 3000);
        assert_eq!(run.rps(), 1000.0);
        assert_eq!((run.non_2xx, run.socket_errors), (2, 1));
        assert_eq!((run.p50_ms, run.p99_ms), (1.5, 4.0));
    }

    #[test]
    fn a_missing_line_is_an_error() {
        assert!(parse_wrk("Running 3s test\n").is_err());
    }
}
