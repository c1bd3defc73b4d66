//! Item 4: the generated codec against plain serde_json (crates/types/benches/codec.rs).

use anyhow::{Result, anyhow};

use super::Ctx;
use super::criterion::{self, Bench, show_summary};
use super::report::{Section, Target};
use super::util::Summary;

pub fn run(ctx: &Ctx) -> Result<Vec<Section>> {
    let benches = criterion::run(ctx, "kms-types", "codec", &criterion::args(ctx.quick))?;
    let find = |group: &str, function: &str| -> Result<&Bench> {
        benches
            .iter()
            .find(|b| b.group_id == group && b.function_id.as_deref() == Some(function))
            .ok_or_else(|| anyhow!("criterion wrote no result for {group}/{function}"))
    };
    let mut section = Section::new("4. Codec");
    section.note(
        "criterion (`cargo bench -p kms-types --bench codec`), per-iteration time of each sample. \
         `kms_types`: `aws_json::decode` (serde_path_to_error, typed errors) + `validate()` + `serde_json::to_vec` \
         for the request; `aws_json::decode` for the response. Baselines on the same bytes: `plain_serde` — a \
         hand-written serde struct with the same members, strings for enums, f64 for dates, no validation; \
         `serde_json_value` — `serde_json::Value`. The ratio is of criterion's median estimates.",
    );
    section.table(&[
        "benchmark",
        "kms_types",
        "plain_serde",
        "serde_json::Value",
        "kms_types ÷ plain_serde",
        "kms_types ÷ Value",
    ]);
    for (group, label, ours_fn) in [
        (
            "codec/request",
            "request: decode + validate + encode",
            "kms_types",
        ),
        (
            "codec/response_1000",
            "1,000-entry response: decode",
            "kms_types",
        ),
        (
            "codec/response_1000",
            "1,000-entry response: decode + validate",
            "kms_types_validated",
        ),
    ] {
        let ours = find(group, ours_fn)?;
        let plain = find(group, "plain_serde")?;
        let value = find(group, "serde_json_value")?;
        let vs_plain = ours.median_ns / plain.median_ns;
        let vs_value = ours.median_ns / value.median_ns;
        section.row(&[
            label.to_owned(),
            show_summary(ours),
            show_summary(plain),
            show_summary(value),
            format!("{vs_plain:.2}"),
            format!("{vs_value:.2}"),
        ]);
        section.target(
            format!("time kms_types ÷ plain serde: {label}"),
            Summary::of(&[vs_plain]),
            Target::None,
            format!("÷ serde_json::Value: {vs_value:.2}"),
        );
    }
    Ok(vec![section])
}
