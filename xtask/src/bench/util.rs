//! Small pieces the bench items share: statistics, the machine, commands and services.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// Min / median / max of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub n: usize,
}

impl Summary {
    /// `None` when there is nothing to summarize (or a value is not a number).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Self {
            min: sorted[0],
            median,
            max: sorted[n - 1],
            n,
        })
    }

    /// `min / median / max` with `digits` decimals, or just the value when n = 1.
    pub fn show(&self, digits: usize) -> String {
        if self.n == 1 {
            format!("{:.digits$} (n=1)", self.median)
        } else {
            format!(
                "{:.digits$} / **{:.digits$}** / {:.digits$} (n={})",
                self.min, self.median, self.max, self.n
            )
        }
    }
}

/// Element-wise ratios `a[i] / b[i]` of paired runs (same round, alternated).
pub fn paired_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// What the report says about the machine the figures come from.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    pub load_at_start: String,
}

impl Machine {
    pub fn probe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown (no model name in /proc/cpuinfo)".into());
        let logical = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(logical.max(1));
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let rustc = output_of(Command::new("rustc").arg("-V")).unwrap_or_else(|_| "unknown".into());
        let load_at_start = std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into());
        Self {
            cores,
            cpu_model,
            memory,
            kernel,
            rustc,
            load_at_start,
        }
    }
}

/// Makes sure `tool` is on PATH, installing the Debian `package` (apt-get) when missing.
pub fn ensure_tool(tool: &str, package: &str) -> Result<PathBuf> {
    if let Some(path) = which(tool) {
        return Ok(path);
    }
    eprintln!("bench: {tool} is missing; installing Debian's {package} package");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
    };
    if !install().map(|s| s.success()).unwrap_or(false) {
        let updated = Command::new("apt-get")
            .args(["update", "-q"])
            .stdin(Stdio::null())
            .status()
            .context("running apt-get update")?;
        if !updated.success() {
            bail!("{tool} is missing and apt-get update failed ({updated})");
        }
        let status = install().with_context(|| format!("running apt-get install {package}"))?;
        if !status.success() {
            bail!("{tool} is missing and apt-get install -y {package} failed ({status})");
        }
    }
    which(tool)
        .ok_or_else(|| anyhow!("{tool} is still not on PATH after apt-get install {package}"))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Runs `command` and returns its trimmed stdout; fails with its stderr.
pub fn output_of(command: &mut Command) -> Result<String> {
    let shown = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {shown}"))?;
    if !output.status.success() {
        bail!(
            "{shown} failed ({}): {}",
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr), 2000)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The last `max` bytes of `text` (on a char boundary).
pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// A process's resident set size in KiB (`VmRSS` in /proc/PID/status).
pub fn rss_kb(pid: u32) -> Result<u64> {
    proc_status_kb(pid, "VmRSS:")
}

/// What a process has used so far: CPU time in user space and in the kernel, and the
/// context switches of its live threads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Seconds of CPU in user space.
    pub user_s: f64,
    /// Seconds of CPU in the kernel on its behalf.
    pub system_s: f64,
    /// Times a thread gave up the CPU itself (waiting for I/O, a lock, a timer).
    pub voluntary_switches: u64,
    /// Times the scheduler took the CPU from a thread that could have run on.
    pub involuntary_switches: u64,
}

impl std::ops::Sub for Usage {
    type Output = Usage;

    fn sub(self, before: Usage) -> Usage {
        Usage {
            user_s: self.user_s - before.user_s,
            system_s: self.system_s - before.system_s,
            voluntary_switches: self
                .voluntary_switches
                .saturating_sub(before.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(before.involuntary_switches),
        }
    }
}

/// [`Usage`] of process `pid`: /proc/PID/stat for the CPU times, and the
/// `*_ctxt_switches` lines of /proc/PID/task/*/status (summed over its threads).
pub fn usage(pid: u32) -> Result<Usage> {
    let (user_s, system_s) = cpu_times(pid)?;
    let mut usage = Usage {
        user_s,
        system_s,
        ..Usage::default()
    };
    let tasks = format!("/proc/{pid}/task");
    for task in std::fs::read_dir(&tasks).with_context(|| format!("reading {tasks}"))? {
        // A thread may end between listing and reading: it no longer counts.
        let Ok(status) = std::fs::read_to_string(task?.path().join("status")) else {
            continue;
        };
        let (voluntary, involuntary) = context_switches(&status);
        usage.voluntary_switches += voluntary;
        usage.involuntary_switches += involuntary;
    }
    Ok(usage)
}

/// The voluntary and involuntary context switches a /proc status text reports.
fn context_switches(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (
        field("voluntary_ctxt_switches:"),
        field("nonvoluntary_ctxt_switches:"),
    )
}

/// CPU time (user, system) a process has used so far, in seconds (/proc/PID/stat).
fn cpu_times(pid: u32) -> Result<(f64, f64)> {
    // utime and stime are fields 14 and 15 of /proc/PID/stat.
    stat_seconds(&format!("/proc/{pid}/stat"), 14)
}

/// CPU time (user + system) in seconds that this process's children have used and
/// been waited for so far: a child run from start to exit in between two readings
/// (like wrk) used the difference.
pub fn waited_children_cpu_s() -> Result<f64> {
    // cutime and cstime are fields 16 and 17 of /proc/PID/stat.
    let (user, system) = stat_seconds("/proc/self/stat", 16)?;
    Ok(user + system)
}

/// Fields `first` and `first + 1` (1-based, as proc(5) numbers them) of a /proc stat
/// file, clock ticks turned into seconds.
fn stat_seconds(path: &str, first: usize) -> Result<(f64, f64)> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) may hold spaces and parentheses: fields after its
    // last ')' start at field 3.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("unexpected {path}: {stat}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let seconds = |field: usize| -> Result<f64> {
        fields
            .get(field - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .map(|ticks| ticks / clock_ticks())
            .ok_or_else(|| anyhow!("no field {field} in {path}"))
    };
    Ok((seconds(first)?, seconds(first + 1)?))
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        output_of(Command::new("getconf").arg("CLK_TCK"))
            .ok()
            .and_then(|t| t.parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// A process's peak resident set size in KiB (`VmHWM`).
pub fn hwm_kb(pid: u32) -> Result<u64> {
    proc_status_kb(pid, "VmHWM:")
}

fn proc_status_kb(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no {field} in {path}"))
}

/// A long-running child (a server) whose stdout/stderr go to a log file, stopped on drop
/// (SIGTERM, then SIGKILL after a grace period). Only ever signals its own pid.
#[derive(Debug)]
pub struct Service {
    pub child: Child,
    /// The `http://127.0.0.1:PORT` it announced.
    pub endpoint: String,
}

impl Service {
    /// Starts `command` and waits (up to `timeout`) until its log has a line starting with
    /// `marker`, whose next word is the endpoint.
    pub fn start(
        name: &str,
        mut command: Command,
        log: &Path,
        marker: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .with_context(|| format!("starting {name}: {command:?}"))?;
        let mut service = Self {
            child,
            endpoint: String::new(),
        };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if let Some(endpoint) = text.lines().find_map(|l| {
                l.trim()
                    .strip_prefix(marker)
                    .and_then(|rest| rest.split_whitespace().next())
            }) {
                service.endpoint = endpoint.trim_end_matches('/').to_owned();
                return Ok(service);
            }
            if let Some(status) = service.child.try_wait()? {
                bail!(
                    "{name} exited ({status}) before it was ready; its log ({}):\n{}",
                    log.display(),
                    tail(&text, 3000)
                );
            }
            if started.elapsed() > timeout {
                bail!(
                    "{name} was not ready after {timeout:?}; its log ({}):\n{}",
                    log.display(),
                    tail(&text, 3000)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks the child to stop (closes its stdin, sends SIGTERM) and waits for it.
    fn stop(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        drop(self.child.stdin.take());
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill().ok();
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_context_switches_from_a_status_text() {
        let status = "Name:\ttokio-rt-worker\nvoluntary_ctxt_switches:\t5584\nnonvoluntary_ctxt_switches:\t51476\n";
        assert_eq!(context_switches(status), (5584, 51476));
        assert_eq!(context_switches("Name:\tx\n"), (0, 0));
    }

    #[test]
    fn usage_of_this_process_grows() {
        let before = usage(std::process::id()).unwrap();
        // Spin until the CPU clock (10 ms ticks) moves on, for at most 5 s.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        let mut used = Usage::default();
        while used.user_s + used.system_s == 0.0 && start.elapsed().as_secs() < 5 {
            for i in 0..1_000_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            used = usage(std::process::id()).unwrap() - before;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        let used = usage(std::process::id()).unwrap() - before;
        assert!(used.user_s + used.system_s > 0.0, "{used:?}");
        assert!(used.voluntary_switches >= 1, "{used:?}");
    }

    #[test]
    fn cpu_of_waited_children_counts_a_finished_child() {
        let before = waited_children_cpu_s().unwrap();
        // A child that spins for a while (the clock moves in 10 ms ticks), waited for.
        let start = std::time::Instant::now();
        let mut used = 0.0;
        while used == 0.0 && start.elapsed().as_secs() < 20 {
            let status = Command::new("sh")
                .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
                .status()
                .unwrap();
            assert!(status.success());
            used = waited_children_cpu_s().unwrap() - before;
        }
        assert!(used > 0.0);
    }

    #[test]
    fn summary_of_odd_and_even_counts() {
        let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.min, s.median, s.max, s.n), (1.0, 2.0, 3.0, 3));
        let s = Summary::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[f64::NAN]).is_none());
    }

    #[test]
    fn paired_ratios_divide_element_wise() {
        assert_eq!(paired_ratios(&[2.0, 9.0], &[1.0, 3.0]), vec![2.0, 3.0]);
    }

    #[test]
    fn tail_keeps_char_boundaries() {
        assert_eq!(tail("héllo", 4), "llo");
        assert_eq!(tail("abc", 10), "abc");
    }
}
