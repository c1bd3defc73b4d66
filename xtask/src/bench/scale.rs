//! Item 2: page time against store count (criterion), and server RSS per store.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use super::Ctx;
use super::criterion::{self, Bench, show_ns, show_summary};
use super::report::{Section, Target};
use super::util::{Service, Summary, hwm_kb, output_of, rss_kb};

const SIZES: [u64; 3] = [1_000, 100_000, 1_000_000];
const RSS_STORES: usize = 1_000_000;

pub fn run(ctx: &Ctx) -> Result<Vec<Section>> {
    let mut sections = Vec::new();
    let mut failures = Vec::new();
    match page_time(ctx) {
        Ok(section) => sections.push(section),
        Err(e) => failures.push(format!("page time vs store count: not measured: {e:#}")),
    }
    match rss(ctx) {
        Ok(section) => sections.push(section),
        Err(e) => failures.push(format!("RSS per store: not measured: {e:#}")),
    }
    if sections.is_empty() {
        bail!("{}", failures.join("; "));
    }
    for failure in failures {
        sections[0].note(failure);
    }
    Ok(sections)
}

/// A store count written as `1000`, `1_000`, `1,000`, `1k`, `100k` or `1M`.
fn parse_count(token: &str) -> Option<u64> {
    let t: String = token.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    let (digits, scale) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1_000),
        (i, 'm' | 'M') => (&t[..i], 1_000_000),
        _ => (t.as_str(), 1),
    };
    digits.parse::<u64>().ok().map(|n| n * scale)
}

/// The store count a benchmark id names, and the id with that count taken out (the series).
fn count_and_series(bench: &Bench) -> Option<(u64, String)> {
    if let Some(count) = bench
        .value_str
        .as_deref()
        .and_then(parse_count)
        .filter(|n| SIZES.contains(n))
    {
        let series = bench
            .full_id
            .trim_end_matches(bench.value_str.as_deref().unwrap_or_default());
        return Some((count, series.trim_end_matches('/').to_owned()));
    }
    let tokens: Vec<&str> = bench.full_id.split(['/', ' ', '-', '=']).collect();
    let (at, count) = tokens
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, t)| parse_count(t).filter(|n| SIZES.contains(n)).map(|n| (i, n)))?;
    let series = tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at)
        .map(|(_, t)| *t)
        .collect::<Vec<_>>()
        .join("/");
    Some((count, series))
}

fn page_time(ctx: &Ctx) -> Result<Section> {
    let benches = criterion::run(ctx, "kms-server", "page", &criterion::args(ctx.quick))?;
    let mut series: BTreeMap<String, BTreeMap<u64, &Bench>> = BTreeMap::new();
    for bench in &benches {
        if let Some((count, name)) = count_and_series(bench) {
            series.entry(name).or_default().insert(count, bench);
        }
    }
    series.retain(|_, by_count| SIZES.iter().all(|n| by_count.contains_key(n)));
    if series.is_empty() {
        bail!(
            "kms-server's page bench wrote no series covering {SIZES:?} stores (ids: {})",
            benches
                .iter()
                .map(|b| b.full_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut section = Section::new("2. Scale: one page of 100 against store count");
    section.note(
        "criterion, `cargo bench -p kms-server --bench page` (kms-server's own bench, written by the server \
         owner): one page of 100 fetched in-process from stores holding 1,000 / 100,000 / 1,000,000 stores. \
         The baseline of each series is its own 1,000-store figure; target: the 1,000,000-store page within 1.5×.",
    );
    section.table(&[
        "series",
        "1,000 stores",
        "100,000 stores",
        "1,000,000 stores",
        "1M ÷ 1k",
    ]);
    for (name, by_count) in &series {
        let small = by_count[&SIZES[0]];
        let large = by_count[&SIZES[2]];
        let ratio = large.median_ns / small.median_ns;
        section.row(&[
            format!("`{name}`"),
            show_summary(small),
            show_summary(by_count[&SIZES[1]]),
            show_summary(large),
            format!("{ratio:.2}"),
        ]);
        section.target(
            format!("page time 1,000,000 ÷ 1,000 stores: `{name}`"),
            Summary::of(&[ratio]),
            Target::AtMost(1.5),
            format!(
                "{} vs {}",
                show_ns(large.median_ns),
                show_ns(small.median_ns)
            ),
        );
    }
    Ok(section)
}

/// Starts the release server with `stores` generated stores; returns it and its load time.
fn start(ctx: &Ctx, stores: usize) -> Result<(Service, Duration)> {
    let mut command = ctx.server();
    command
        .args([
            "--listen",
            "127.0.0.1:0",
            "--generate-stores",
            &stores.to_string(),
        ])
        .env("RUST_LOG", "warn");
    let started = Instant::now();
    let service = Service::start(
        &format!("kms-server-rss-{stores}"),
        command,
        &ctx.out.join(format!("kms-server-rss-{stores}.log")),
        "kms-server listening on",
        Duration::from_secs(600),
    )?;
    Ok((service, started.elapsed()))
}

/// Sends one signed request (the default page) and returns (response bytes, entries).
fn touch(ctx: &Ctx, endpoint: &str, name: &str) -> Result<(f64, f64)> {
    let text = output_of(ctx.harness().args([
        "prepare",
        "--endpoint",
        endpoint,
        "--lua",
        &ctx.out.join(format!("wrk-{name}.lua")).to_string_lossy(),
    ]))?;
    let field = |key: &str| -> Result<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| anyhow!("bench-harness prepare printed no {key}: {text}"))
    };
    Ok((field("RESPONSE_BYTES ")?, field("ENTRIES ")?))
}

/// One empty/loaded pair of server starts: RSS figures in KiB, load time, and the
/// default page's (bytes, entries).
struct RssRun {
    empty_kb: u64,
    loaded_kb: u64,
    peak_kb: u64,
    load_time: Duration,
    page: (f64, f64),
}

fn rss_run(ctx: &Ctx) -> Result<RssRun> {
    let (empty, _) = start(ctx, 0)?;
    touch(ctx, &empty.endpoint, "rss-empty")?;
    let empty_kb = rss_kb(empty.pid())?;
    drop(empty);

    let (loaded, load_time) = start(ctx, RSS_STORES)?;
    let page = touch(ctx, &loaded.endpoint, "rss-1m")?;
    std::thread::sleep(Duration::from_millis(200));
    let loaded_kb = rss_kb(loaded.pid())?;
    let peak_kb = hwm_kb(loaded.pid())?;
    drop(loaded);
    if loaded_kb <= empty_kb {
        bail!(
            "RSS with {RSS_STORES} stores ({loaded_kb} KiB) is not above the empty server's ({empty_kb} KiB)"
        );
    }
    Ok(RssRun {
        empty_kb,
        loaded_kb,
        peak_kb,
        load_time,
        page,
    })
}

fn rss(ctx: &Ctx) -> Result<Section> {
    let repeats = if ctx.quick { 2 } else { 3 };
    let runs = (0..repeats)
        .map(|_| rss_run(ctx))
        .collect::<Result<Vec<_>>>()?;
    let summary = |f: &dyn Fn(&RssRun) -> f64| Summary::of(&runs.iter().map(f).collect::<Vec<_>>());
    let mib = |kb: u64| kb as f64 / 1024.0;
    let per_store = |r: &RssRun| (r.loaded_kb - r.empty_kb) as f64 * 1024.0 / RSS_STORES as f64;
    let show = |s: Option<Summary>, digits: usize| s.map_or_else(|| "—".into(), |s| s.show(digits));
    let (page_bytes, page_entries) = runs[0].page;
    let wire_per_store = page_bytes / page_entries.max(1.0);
    let per_store_summary = summary(&per_store);

    let mut section = Section::new("2. Scale: server memory");
    section.note(format!(
        "The `kms-server` binary (bench profile) started with `--generate-stores 0` and with \
         `--generate-stores {RSS_STORES}`, {repeats} times each; VmRSS from /proc/PID/status after it announced \
         its endpoint and answered one signed request. Per store = (loaded − empty) ÷ {RSS_STORES}. The same-run \
         baseline is the wire size of a store: the default page's JSON bytes ÷ its entries."
    ));
    section.table(&["figure", "value"]);
    section.row(&[
        "RSS, empty server (demo stores only), MiB".into(),
        show(summary(&|r| mib(r.empty_kb)), 1),
    ]);
    section.row(&[
        format!("RSS, {RSS_STORES} generated stores, MiB"),
        show(summary(&|r| mib(r.loaded_kb)), 1),
    ]);
    section.row(&[
        format!("peak RSS (VmHWM), {RSS_STORES} stores, MiB"),
        show(summary(&|r| mib(r.peak_kb)), 1),
    ]);
    section.row(&["RSS per store, bytes".into(), show(per_store_summary, 0)]);
    section.row(&[
        "JSON wire bytes per store (default page)".into(),
        format!("{wire_per_store:.0} ({page_entries:.0} entries, {page_bytes:.0} bytes)"),
    ]);
    section.row(&[
        format!("start-up to listening with {RSS_STORES} stores, s"),
        show(summary(&|r| r.load_time.as_secs_f64()), 2),
    ]);
    section.target(
        "RSS per store ÷ JSON bytes per store",
        Summary::of(
            &runs
                .iter()
                .map(|r| per_store(r) / wire_per_store)
                .collect::<Vec<_>>(),
        ),
        Target::None,
        format!(
            "{:.0} B per store in memory",
            per_store_summary.map_or(f64::NAN, |s| s.median)
        ),
    );
    Ok(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_several_spellings() {
        assert_eq!(parse_count("1000"), Some(1000));
        assert_eq!(parse_count("1_000_000"), Some(1_000_000));
        assert_eq!(parse_count("100k"), Some(100_000));
        assert_eq!(parse_count("1M"), Some(1_000_000));
        assert_eq!(parse_count("page"), None);
    }

    #[test]
    fn series_drop_the_count() {
        let bench = Bench {
            group_id: "page".into(),
            function_id: Some("first".into()),
            value_str: Some("100000".into()),
            full_id: "page/first/100000".into(),
            samples_ns: vec![1.0],
            median_ns: 1.0,
        };
        assert_eq!(
            count_and_series(&bench),
            Some((100_000, "page/first".into()))
        );
    }
}
