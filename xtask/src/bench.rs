//! `cargo xtask bench`: speed and scale against baselines measured in the same run.

use anyhow::{Result, bail};

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Shorter runs (under 3 minutes on 2 cores), items 1–4 only.
    #[arg(long)]
    pub quick: bool,
}

/// Runs the benchmarks and writes `bench/REPORT.md`.
pub fn run(_args: &BenchArgs) -> Result<()> {
    bail!("cargo xtask bench is not built yet")
}
