//! Item 3: kms-client against aws-sdk-kms on the same running kms-server, alternated.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::Ctx;
use super::report::{Section, Target};
use super::util::{Service, Summary, output_of, paired_ratios};

/// Generated stores on the server (plus the handful of demo stores of the account).
const STORES: usize = 10_000;
const CALLS: usize = 1_000;

pub fn run(ctx: &Ctx) -> Result<Vec<Section>> {
    let mut command = ctx.server();
    command
        .args([
            "--listen",
            "127.0.0.1:0",
            "--generate-stores",
            &STORES.to_string(),
        ])
        .env("RUST_LOG", "warn");
    let server = Service::start(
        "kms-server-10k",
        command,
        &ctx.out.join("kms-server-10k.log"),
        "kms-server listening on",
        Duration::from_secs(120),
    )?;
    let rounds = if ctx.quick { 3 } else { ctx.rounds.max(5) };
    let text = output_of(ctx.harness().args([
        "clients",
        "--endpoint",
        &server.endpoint,
        "--rounds",
        &rounds.to_string(),
        "--calls",
        &CALLS.to_string(),
    ]))
    .context("bench-harness clients")?;
    drop(server);
    std::fs::write(ctx.out.join("clients.txt"), &text)?;
    let json = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| anyhow!("bench-harness clients printed no RESULT line:\n{text}"))?;
    let result: serde_json::Value = serde_json::from_str(json).context("the RESULT JSON")?;
    let series = |key: &str| -> Vec<f64> {
        result[key]
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default()
    };
    let stores = result["stores"].as_u64().unwrap_or(0);

    let mut section = Section::new("3. Client against the official SDK");
    section.note(format!(
        "The same running `kms-server` (bench profile, `--generate-stores {STORES}`, RUST_LOG=warn) serves \
         {stores} stores to the demo account. Each client is built once (connection pool kept), warmed up, \
         then {rounds} alternated rounds (the first client swaps every round). Pagination: every store with \
         `Limit 1000` through each client's paginator. Single calls: {CALLS} sequential \
         `DescribeCustomKeyStores(Limit=1)` calls. aws-sdk-kms uses its own hyper 1 connector \
         (`aws-smithy-http-client`, plain HTTP to loopback), default retry and stalled-stream settings."
    ));
    section.table(&[
        "workload",
        "kms-client (ms)",
        "aws-sdk-kms (ms)",
        "ours ÷ SDK (paired)",
    ]);
    for (label, ours, sdk) in [
        (
            format!("full pagination, {stores} stores, limit 1000"),
            "paginate_ours_ms",
            "paginate_sdk_ms",
        ),
        (
            format!("{CALLS} sequential single calls"),
            "single_ours_ms",
            "single_sdk_ms",
        ),
    ] {
        let (ours, sdk) = (series(ours), series(sdk));
        let ratio = Summary::of(&paired_ratios(&ours, &sdk));
        let show = |v: &[f64]| Summary::of(v).map_or_else(|| "—".into(), |s| s.show(1));
        section.row(&[
            label.clone(),
            show(&ours),
            show(&sdk),
            ratio.map_or_else(|| "—".into(), |s| s.show(3)),
        ]);
        section.target(
            format!("time kms-client ÷ aws-sdk-kms: {label}"),
            ratio,
            Target::AtMost(1.0),
            "",
        );
    }
    Ok(vec![section])
}
