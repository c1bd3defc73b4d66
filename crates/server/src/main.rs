//! `kms-server`: a local AWS KMS endpoint for custom key stores.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kms_server::store::MemoryStore;
use kms_server::{DEFAULT_PAGE_SIZE, FileConfig, KeyStore, ServerConfig, TlsConfig, demo, logging};

/// A local AWS KMS endpoint (DescribeCustomKeyStores) that the AWS CLI, boto3 and
/// aws-sdk-kms call unchanged.
#[derive(Debug, Parser)]
#[command(name = "kms-server", version, about, after_help = AFTER_HELP)]
struct Args {
    /// Address to listen on: IP:PORT, or HOST:PORT (`localhost:4599`: its first address).
    #[arg(long, value_name = "ADDR", default_value = kms_server::DEFAULT_LISTEN, env = "KMS_SERVER_LISTEN", value_parser = parse_listen)]
    listen: SocketAddr,
    /// TOML file with regions, accounts, principals, access keys and allowed actions
    /// (default: the demo configuration, see crates/server/examples/config.toml).
    #[arg(long, value_name = "FILE", env = "KMS_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// JSON file of custom key stores to serve instead of the compiled-in demo stores
    /// (read again on SIGHUP).
    #[arg(long, value_name = "FILE", env = "KMS_SERVER_DATA")]
    data: Option<PathBuf>,
    /// Answer this fraction (0 to 1) of authenticated requests with
    /// KMSInternalException (500) or ThrottlingException (400).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate, env = "KMS_SERVER_FAIL_RATE")]
    fail_rate: f64,
    /// Answer the first N authenticated requests with an injected error (those of
    /// --fail-with), whatever --fail-rate: a deterministic failure, for a test of retries.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        env = "KMS_SERVER_FAIL_FIRST"
    )]
    fail_first: u64,
    /// The errors --fail-rate and --fail-first answer with, picked evenly: KMSInternalException,
    /// ThrottlingException, or both (comma-separated; the default).
    #[arg(
        long,
        value_name = "CODE[,CODE]",
        value_delimiter = ',',
        env = "KMS_SERVER_FAIL_WITH"
    )]
    fail_with: Vec<kms_server::InjectedError>,
    /// Answer each authenticated request only after MS milliseconds (at most 300000, 5
    /// minutes): a slow KMS, for testing the timeouts of the code that calls it.
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(..=kms_server::service::MAX_LATENCY.as_millis() as u64), env = "KMS_SERVER_LATENCY_MS")]
    latency_ms: u64,
    /// Passphrase for the marker HMAC key (overrides the config file's marker_key).
    #[arg(
        long,
        value_name = "PASSPHRASE",
        env = "KMS_SERVER_MARKER_KEY",
        hide_env_values = true,
        value_parser = parse_passphrase
    )]
    marker_key: Option<String>,
    /// Add N generated stores (store-000001...) to the configuration's first account, in
    /// its first region (the demo account in us-east-1 without --config).
    #[arg(long, value_name = "N", default_value_t = 0)]
    generate_stores: usize,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate for localhost, 127.0.0.1 and ::1 made at start by a
    /// new certificate authority, whose certificate is written to --tls-ca-out for
    /// clients to trust (AWS_CA_BUNDLE; NODE_EXTRA_CA_CERTS for Node).
    #[arg(long)]
    tls_self_signed: bool,
    /// Where --tls-self-signed writes its CA certificate (default: ca.pem in a new
    /// directory of its own in the temporary directory, removed on exit).
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    tls_ca_out: Option<PathBuf>,
    /// Serve at most N connections at once; at the limit the one idle longest is closed
    /// to make room, and while all are busy more wait in the listen queue. Default: 1024,
    /// or fewer when the open-file limit (ulimit -n) leaves room for fewer.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(usize))]
    max_connections: Option<usize>,
    /// Hold at most this many bytes of request bodies at once, all connections together
    /// (bytes, or a number with KiB, MiB or GiB); requests past it wait for room, within
    /// the 10 s a body has to arrive. At least 1MiB, the largest body. Default: 64MiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_body_memory: Option<usize>,
    /// Serve the admin endpoints, for test setup over HTTP (not signed: anyone who can
    /// reach the server can change what it serves): PUT /_kms-server/stores with a --data
    /// file's contents serves exactly its stores (GET says them, as such a file); PUT /_kms-server/faults
    /// {"FailRate": P, "FailFirst": N, "FailWith": [CODE], "LatencyMs": MS} sets
    /// --fail-rate, --fail-first, --fail-with and --latency-ms while serving;
    /// GET /_kms-server/requests says the KMS requests it answered (DELETE: and forgets
    /// them); POST /_kms-server/reset puts back the stores and faults the server started
    /// with.
    #[arg(long, env = "KMS_SERVER_ADMIN", value_parser = parse_switch)]
    admin: bool,
}

const AFTER_HELP: &str = "\
Output: the banner (its first line: `kms-server listening on URL`) goes to stdout; logs go
to stderr, one line per request, at the level RUST_LOG sets (default: info).

Readiness: GET /health answers 200 once the server listens (no signature needed).

Test setup over HTTP (with --admin): `curl -T stores.json URL/_kms-server/stores` serves
the stores of a --data file; `curl -X PUT -d '{\"FailRate\": 1}' URL/_kms-server/faults` fails
every call (GET says the setting); `curl URL/_kms-server/requests` says the requests it
answered; `curl -X POST URL/_kms-server/reset` puts back the stores and faults it started
with.

Signals: SIGINT or SIGTERM stops accepting and lets in-flight requests finish (up to 30 s);
a second one stops at once. SIGHUP reads the --data file again.

Exit status: 0 when stopped by SIGINT or SIGTERM once serving; 1 when the configuration,
the data or the address cannot be used; 2 for a usage error.";

/// The arguments, or exit with clap's usage error. A value that came from a
/// `KMS_SERVER_*` variable (its flag not given) is named by that variable: clap's own
/// message names the flag, which the user never wrote.
fn parse_args() -> Args {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Args::try_parse_from(&argv) {
        Ok(args) => args,
        Err(e) => match from_environment(&e, &argv, |name| std::env::var_os(name)) {
            Some(message) => {
                eprint!("{message}");
                std::process::exit(e.exit_code());
            }
            None => e.exit(),
        },
    }
}

/// `error`'s message naming the environment variable its value came from, when it came
/// from one; `None` otherwise (the flag was given, or the error is about no value).
fn from_environment(
    error: &clap::Error,
    argv: &[std::ffi::OsString],
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let command = Args::command();
    let given = |long: &str| {
        argv.iter().skip(1).any(|a| {
            a.to_str().is_some_and(|a| {
                a.strip_prefix("--")
                    .and_then(|a| a.strip_prefix(long))
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
            })
        })
    };
    // Each argument read from a variable: its flag and that variable.
    let from_env = command.get_arguments().filter_map(|arg| {
        let long = arg.get_long()?;
        let env = arg.get_env()?.to_str()?;
        (!given(long) && var(env).is_some()).then_some((long, env))
    });
    let message = error.to_string();
    match error.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let Some(ContextValue::String(quoted)) = error.get(ContextKind::InvalidArg) else {
                return None;
            };
            let flag = quoted.split(' ').next()?.strip_prefix("--")?;
            let (long, env) = from_env.into_iter().find(|(long, _)| *long == flag)?;
            Some(message.replacen(
                &format!("'{quoted}'"),
                &format!("{env} (the environment variable of --{long})"),
                1,
            ))
        }
        // clap names no argument for a value that is not UTF-8.
        ErrorKind::InvalidUtf8 => {
            let (long, env) = from_env
                .into_iter()
                .find(|(_, env)| var(env).is_some_and(|v| v.to_str().is_none()))?;
            Some(message.replacen(
                "invalid UTF-8 was detected in one or more arguments",
                &format!("{env} (the environment variable of --{long}) is not UTF-8"),
                1,
            ))
        }
        _ => None,
    }
}

/// Warns of each `KMS_SERVER_*` variable among `names` that no flag reads (a typo, or a
/// flag without one, `KMS_SERVER_MAX_CONNECTIONS`): it would be ignored without a word.
fn warn_of_unknown_variables(names: impl Iterator<Item = std::ffi::OsString>) {
    use clap::CommandFactory;
    let command = Args::command();
    let known: Vec<&std::ffi::OsStr> = command
        .get_arguments()
        .filter_map(|a| a.get_env())
        .collect();
    for name in names {
        let Some(text) = name.to_str() else { continue };
        if text.starts_with("KMS_SERVER_") && !known.contains(&name.as_os_str()) {
            let known: Vec<_> = known.iter().map(|n| n.to_string_lossy()).collect();
            tracing::warn!(
                "{text} is not a variable kms-server reads, and is ignored (it reads {})",
                known.join(", ")
            );
        }
    }
}

/// A marker key's passphrase: any text but the empty one.
fn parse_passphrase(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("a passphrase must not be empty".into())
    } else {
        Ok(s.to_owned())
    }
}

/// An address to listen on: `IP:PORT`, or `HOST:PORT` resolved (its first address).
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse() {
        return Ok(addr);
    }
    let mut addrs = std::net::ToSocketAddrs::to_socket_addrs(s)
        .map_err(|e| format!("`{s}` is not IP:PORT or HOST:PORT ({e})"))?;
    addrs
        .next()
        .ok_or_else(|| format!("`{s}` resolves to no address"))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not between 0 and 1"))
    }
}

/// ` (ThrottlingException)` after the fail rate when failures are not answered with every
/// error; nothing otherwise.
fn injected_errors_note(config: &ServerConfig) -> String {
    let errors = config.injected_errors();
    let fails = config.fail_rate() > 0.0 || config.failing_first() > 0;
    if !fails || errors.len() == kms_server::InjectedError::ALL.len() {
        return String::new();
    }
    let codes: Vec<_> = errors.iter().map(|e| e.code()).collect();
    format!(" ({})", codes.join(", "))
}

/// `, and the first N requests` for the banner, when --fail-first is set.
fn failing_first_note(config: &ServerConfig) -> String {
    match config.failing_first() {
        0 => String::new(),
        1 => ", and the first request".to_owned(),
        n => format!(", and the first {n} requests"),
    }
}

/// `; latency N ms` for the banner, when there is one.
fn latency_note(config: &ServerConfig) -> String {
    match config.latency().as_millis() {
        0 => String::new(),
        ms => format!("; latency {ms} ms"),
    }
}

/// An on/off environment variable (`KMS_SERVER_ADMIN`): `1`, `true`, `yes`, `on` (and
/// `y`, `t`) turn it on, `0`, `false`, `no`, `off` (and `n`, `f`) and an empty value
/// (`KMS_SERVER_ADMIN=` in a compose file) leave it off, in any case.
fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Ok(true),
        "" | "0" | "false" | "no" | "off" | "n" | "f" => Ok(false),
        _ => Err(format!(
            "`{s}` is neither on (1, true, yes, on) nor off (0, false, no, off, or empty)"
        )),
    }
}

/// A size in bytes: a number, or a number and `KiB`, `MiB` or `GiB`.
fn parse_size(s: &str) -> Result<usize, String> {
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let unit: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}` is not a size: a number of bytes, or with KiB, MiB or GiB"
            ));
        }
    };
    number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| format!("`{s}` is not a size: a number of bytes, or with KiB, MiB or GiB"))
}

/// How long the exit waits for stderr to take the log lines still pending.
const EXIT_LOG_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn main() -> ExitCode {
    let args = parse_args();
    // One line per request: formatted without `core::fmt` where it can be, and
    // written in batches by a background thread (at most a few milliseconds late)
    // instead of one `write` per line.
    let (writer, mut log_guard) = match logging::BufferedWriter::new(std::io::stderr()) {
        Ok(buffered) => buffered,
        Err(e) => {
            eprintln!("kms-server: cannot start the log writer: {e}");
            return ExitCode::FAILURE;
        }
    };
    // An unset RUST_LOG means info; one that cannot be read is said, not ignored.
    let filter = match std::env::var("RUST_LOG") {
        Err(_) => tracing_subscriber::EnvFilter::new("info"),
        Ok(value) => tracing_subscriber::EnvFilter::try_new(&value).unwrap_or_else(|e| {
            eprintln!("kms-server: RUST_LOG={value:?} is not a log filter ({e}); logging at info");
            tracing_subscriber::EnvFilter::new("info")
        }),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colour only for a terminal: log files get plain lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_timer(logging::FastTime)
        .fmt_fields(logging::FastFields)
        .with_writer(writer)
        .init();
    warn_of_unknown_variables(std::env::vars_os().map(|(name, _)| name));
    let result = run(args);
    // Lines a stderr nobody reads (a harness's pipe, full) cannot take are given up on:
    // the process exits rather than waiting for them forever.
    log_guard.flush_within(EXIT_LOG_WAIT);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kms-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    // From here on a SIGHUP waits to be answered once the server serves, instead of
    // ending the process while the stores load (a script that edits --data and signals
    // right after starting the server).
    let mut signals = {
        let _entered = runtime.enter();
        Signals::reload_only()
    };
    let mut config = match &args.config {
        Some(path) => {
            ServerConfig::new(FileConfig::load(path).map_err(|e| e.to_string())?).with_demo_stores()
        }
        None => ServerConfig::demo(),
    };
    if let Some(path) = &args.data {
        config = config.with_data_file(path).map_err(|e| e.to_string())?;
    }
    if args.generate_stores > 0 {
        config = config.with_generated_stores(args.generate_stores);
    }
    if let Some(key) = args.marker_key {
        // Not empty: `parse_passphrase` checked.
        config = config.with_marker_key(key);
    }
    let file_limit = open_file_limit();
    let max_connections = match args.max_connections {
        Some(0) => return Err("--max-connections must be at least 1".into()),
        Some(n) => n,
        None => default_max_connections(file_limit),
    };
    config = config
        .with_fail_rate(args.fail_rate)
        .with_failing_first(args.fail_first)
        .with_injected_errors(args.fail_with)
        .with_latency(std::time::Duration::from_millis(args.latency_ms))
        .with_max_connections(max_connections);
    match args.max_body_memory {
        Some(n) if n < kms_server::service::MAX_BODY_BYTES => {
            return Err("--max-body-memory must be at least 1MiB, the largest request body".into());
        }
        Some(n) => config = config.with_max_body_memory(n),
        None => {}
    }
    if args.admin {
        config = config.with_admin_endpoints();
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config = config.with_tls(TlsConfig::from_pem_files(cert, key).map_err(|e| e.to_string())?);
    } else if args.tls_self_signed {
        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let ip = args.listen.ip();
        if !ip.is_unspecified() && !ip.is_loopback() {
            names.push(ip.to_string());
        }
        config = config.with_tls(TlsConfig::self_signed(&names).map_err(|e| e.to_string())?);
    }
    warn_of_limits(&config, args.max_connections.is_some(), file_limit);
    runtime.block_on(async move {
        let (router, store) = config
            .router_and_store()
            .map_err(|e| format!("cannot load the stores: {e}"))?;
        signals.listen_for_stop();
        let server = kms_server::serve_router(&config, router, args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let ca_file = match config.tls().and_then(TlsConfig::ca_pem) {
            Some(pem) => Some(CaFile::write(pem, args.tls_ca_out.clone())?),
            None => None,
        };
        let endpoint = server.endpoint();
        // Listening on every interface: said beside the loopback endpoint clients use.
        let every_interface = Some(server.local_addr())
            .filter(|a| a.ip().is_unspecified())
            .map(|a| a.to_string());
        let banner = banner(
            &config,
            &endpoint,
            every_interface.as_deref(),
            args.config.is_none(),
            ca_file.as_ref().map(|f| f.path.as_path()),
        );
        // A reader that stops early (`kms-server | head -1`, to learn a port-0
        // endpoint) closes the pipe: the server keeps serving all the same.
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(banner.as_bytes())
            .and_then(|()| stdout.flush());
        drop(stdout);
        // The same news on stderr, for logs that never see stdout.
        tracing::info!(
            endpoint = %endpoint,
            listen = %server.local_addr(),
            stores = config.stores().len(),
            regions = %config.file_config().regions.join(","),
            "listening"
        );
        run_until_stopped(&mut signals, &config, &store).await;
        tracing::info!(
            "shutting down: finishing in-flight requests (signal again to stop at once)"
        );
        tokio::select! {
            () = server.shutdown() => tracing::info!("stopped"),
            () = signals.stop() => {
                tracing::warn!("stopped at once: requests still in flight were dropped");
            }
        }
        Ok(())
    })
}

/// The CA certificate of `--tls-self-signed`, for clients to trust.
struct CaFile {
    path: PathBuf,
    /// The directory made for it (removed with it on exit), unless `--tls-ca-out` chose
    /// the path.
    own_dir: Option<PathBuf>,
}

impl CaFile {
    /// Writes `pem` to `chosen`, else to `ca.pem` in a new directory of its own in the
    /// temporary directory: made afresh, private, so that nobody else on the machine
    /// can plant a symlink or a file of theirs where the banner tells clients to find
    /// the CA they trust.
    fn write(pem: &str, chosen: Option<PathBuf>) -> Result<Self, String> {
        let cannot = |path: &std::path::Path, e: std::io::Error| {
            format!("cannot write the CA certificate to {}: {e}", path.display())
        };
        if let Some(path) = chosen {
            std::fs::write(&path, pem).map_err(|e| cannot(&path, e))?;
            // Absolute: the banner's AWS_CA_BUNDLE and boto3 lines are run from other
            // directories than the server's.
            let path = std::path::absolute(&path).unwrap_or(path);
            return Ok(Self {
                path,
                own_dir: None,
            });
        }
        let dir = private_temp_dir()?;
        let path = dir.join("ca.pem");
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| file.write_all(pem.as_bytes()));
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(cannot(&path, e));
        }
        Ok(Self {
            path,
            own_dir: Some(dir),
        })
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        if let Some(dir) = &self.own_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A new directory `kms-server-<pid>-<random>` in the temporary directory, readable by
/// its owner alone; never one that existed before (`mkdir` fails on any existing
/// name, a symlink included).
fn private_temp_dir() -> Result<PathBuf, String> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let mut last = None;
    for _ in 0..16 {
        let dir = std::env::temp_dir().join(format!(
            "kms-server-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(format!(
                    "cannot make a directory for the CA certificate in {}: {e}",
                    std::env::temp_dir().display()
                ));
            }
        }
    }
    Err(format!(
        "cannot make a directory for the CA certificate in {}: {}",
        std::env::temp_dir().display(),
        last.map_or_else(String::new, |e| e.to_string())
    ))
}

/// The signals that stop the server (SIGINT, SIGTERM; Ctrl-C on Windows) or reload its
/// `--data` file (SIGHUP). SIGHUP is listened for from the start, so that one sent while
/// the stores load is answered once the server serves; SIGINT and SIGTERM from before
/// the server listens: one sent as soon as the banner appears then stops it gracefully,
/// instead of killing it (which would also leave its CA directory behind), while during
/// the load they still stop it at once, having nothing to finish.
struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    ctrl_c: Option<tokio::signal::windows::CtrlC>,
}

impl Signals {
    /// Listens for SIGHUP; must run inside the runtime.
    fn reload_only() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                interrupt: None,
                terminate: None,
                hangup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(windows)]
        {
            Self { ctrl_c: None }
        }
        #[cfg(not(any(unix, windows)))]
        Self {}
    }

    /// Listens for the signals that stop the server too; must run inside the runtime.
    fn listen_for_stop(&mut self) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            self.interrupt = signal(SignalKind::interrupt()).ok();
            self.terminate = signal(SignalKind::terminate()).ok();
        }
        #[cfg(windows)]
        {
            self.ctrl_c = tokio::signal::windows::ctrl_c().ok();
        }
    }

    /// The next SIGINT or SIGTERM (Ctrl-C on Windows).
    async fn stop(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                Some(()) = next(&mut self.interrupt) => {}
                Some(()) = next(&mut self.terminate) => {}
                else => std::future::pending().await,
            }
        }
        #[cfg(windows)]
        {
            match &mut self.ctrl_c {
                Some(ctrl_c) => {
                    ctrl_c.recv().await;
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The next delivery of `signal`; never, when it is not listened for.
#[cfg(unix)]
async fn next(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Serves until SIGINT or SIGTERM; on SIGHUP, reads the `--data` file again.
async fn run_until_stopped(
    signals: &mut Signals,
    config: &ServerConfig,
    store: &MemoryStore<KeyStore>,
) {
    #[cfg(unix)]
    loop {
        tokio::select! {
            Some(()) = next(&mut signals.interrupt) => return,
            Some(()) = next(&mut signals.terminate) => return,
            Some(()) = next(&mut signals.hangup) => reload(config, store),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (config, store);
        signals.stop().await;
    }
}

/// Replaces the served stores with the `--data` file's current contents; a file with
/// any fault changes nothing.
#[cfg(unix)]
fn reload(config: &ServerConfig, store: &MemoryStore<KeyStore>) {
    let reloaded = config
        .reload_data()
        .and_then(|fresh| fresh.map(|f| f.replace_stores_in(store)).transpose());
    match reloaded {
        Ok(Some(stores)) => tracing::info!(stores, "SIGHUP: reloaded the data file"),
        Ok(None) => {
            tracing::warn!("SIGHUP: there is no --data file to reload; the stores stay as they are")
        }
        Err(e) => tracing::warn!(
            error = e.to_string().as_str(),
            "SIGHUP: the data file was not reloaded; still serving the previous stores"
        ),
    }
}

/// Files a server needs besides its connections: the listener, the logs, the runtime.
const SPARE_FILES: u64 = 32;

/// 1024 connections, or as many as the open-file limit leaves room for (at least one).
fn default_max_connections(open_file_limit: Option<u64>) -> usize {
    let default = kms_server::DEFAULT_MAX_CONNECTIONS;
    match open_file_limit {
        Some(limit) => usize::try_from(limit.saturating_sub(SPARE_FILES))
            .unwrap_or(default)
            .clamp(1, default),
        None => default,
    }
}

/// Warns of a configuration that cannot serve as the operator likely means it to: no
/// access key at all, or a `--max-connections` (`chosen`) above what the open-file
/// limit (`file_limit`) allows.
fn warn_of_limits(config: &ServerConfig, chosen: bool, file_limit: Option<u64>) {
    let file = config.file_config();
    if file
        .accounts
        .iter()
        .flat_map(|a| &a.principals)
        .all(|p| p.access_keys.is_empty())
    {
        tracing::warn!(
            "the configuration has no access key: every request will be refused \
             (UnrecognizedClientException)"
        );
    }
    if let Some(limit) = file_limit.filter(|_| chosen) {
        let wanted = config.max_connections() as u64 + SPARE_FILES;
        if wanted > limit {
            tracing::warn!(
                max_connections = config.max_connections() as u64,
                open_file_limit = limit,
                "the open-file limit is reached before --max-connections: raise it (ulimit -n) \
                 or lower --max-connections; connections past it wait until files free up"
            );
        }
    }
}

/// The soft limit on open files of this process, where the system says it
/// (`/proc/self/limits`); `None`: unlimited or unknown.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&limits)
}

/// The soft limit of the `Max open files` line of a `/proc/PID/limits` text.
fn parse_open_file_limit(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The banner: where it listens and how each client reaches it.
fn banner(
    config: &ServerConfig,
    endpoint: &str,
    every_interface: Option<&str>,
    demo_config: bool,
    ca_file: Option<&std::path::Path>,
) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    macro_rules! say {
        () => { out.push('\n') };
        ($($arg:tt)*) => { let _ = writeln!(out, $($arg)*); };
    }
    let file = config.file_config();
    let region = file.regions.first().map_or(demo::REGION, String::as_str);
    let (akid, secret) = if demo_config {
        (
            demo::ACCESS_KEY_ID.to_owned(),
            demo::SECRET_ACCESS_KEY.to_owned(),
        )
    } else {
        let akid = file
            .accounts
            .iter()
            .flat_map(|a| &a.principals)
            .flat_map(|p| &p.access_keys)
            .find(|k| k.session_token.is_none())
            .map_or_else(|| "<access key id>".to_owned(), |k| k.id.clone());
        (
            akid.clone(),
            format!("<secret of {akid} from the config file>"),
        )
    };
    match every_interface {
        None => {
            say!("kms-server listening on {endpoint}");
        }
        Some(all) => {
            say!("kms-server listening on {endpoint} (and on every interface: {all})");
        }
    }
    say!(
        "  regions: {}; {}; default page size {DEFAULT_PAGE_SIZE} (Limit 1..1000); fail rate {}{}{}{}",
        file.regions.join(", "),
        match config.stores().len() {
            1 => "1 custom key store".to_owned(),
            n => format!("{n} custom key stores"),
        },
        config.fail_rate(),
        failing_first_note(config),
        injected_errors_note(config),
        latency_note(config)
    );
    // Over HTTPS with a made-up certificate, clients trust its CA: the AWS CLI and boto3
    // through AWS_CA_BUNDLE (boto3's `verify` for an explicit client), kms through it too;
    // Node (the AWS SDK for JavaScript v3 does not read AWS_CA_BUNDLE) through
    // NODE_EXTRA_CA_CERTS, which it reads when it starts.
    let (ca_export, boto3_verify) = match ca_file {
        Some(path) => {
            say!(
                "  HTTPS: {}; its CA certificate is {}",
                config.tls().map_or("", TlsConfig::source),
                path.display()
            );
            (
                format!(
                    " AWS_CA_BUNDLE={path} NODE_EXTRA_CA_CERTS={path}",
                    path = shell_word(path)
                ),
                format!(", verify={}", python_str(&path.display().to_string())),
            )
        }
        None => {
            if let Some(tls) = config.tls() {
                say!(
                    "  HTTPS with {}: clients must trust its issuer (AWS_CA_BUNDLE; NODE_EXTRA_CA_CERTS for Node)",
                    tls.source()
                );
                // A certificate not for the endpoint's host: every client following the
                // lines below would refuse it, each saying only that the name differs.
                let (host, port) = endpoint
                    .split_once("://")
                    .and_then(|(_, rest)| rest.rsplit_once(':'))
                    .unwrap_or((endpoint, ""));
                if let Some(problem) = tls.certificate_problem() {
                    say!(
                        "  warning: clients refuse the certificate (the first in {}, the server's own): {problem}",
                        tls.source()
                    );
                }
                if !tls.is_valid_for(host) {
                    let instead = if tls.is_valid_for("localhost") {
                        format!("; it is for localhost: call https://localhost:{port}")
                    } else {
                        String::new()
                    };
                    say!(
                        "  warning: the certificate is not valid for {host}: clients calling {endpoint} refuse it (they check the names of its subjectAltName; a name only in its subject's CN counts for none){instead}"
                    );
                }
            }
            (String::new(), String::new())
        }
    };
    say!();
    say!("AWS CLI:");
    say!(
        "  export AWS_ACCESS_KEY_ID={akid} AWS_SECRET_ACCESS_KEY='{secret}' AWS_REGION={region} AWS_DEFAULT_REGION={region}{ca_export}"
    );
    say!("  aws --endpoint-url {endpoint} kms describe-custom-key-stores");
    say!();
    say!("boto3:");
    say!(
        "  boto3.client('kms', endpoint_url='{endpoint}', region_name='{region}', aws_access_key_id='{akid}', aws_secret_access_key='{secret}'{boto3_verify}).describe_custom_key_stores()"
    );
    say!();
    say!("aws-sdk-kms (Rust), with the variables above exported:");
    // The service's own variable: the global AWS_ENDPOINT_URL would send every service
    // here, STS included (a profile that assumes a role), which this server does not serve.
    say!("  AWS_ENDPOINT_URL_KMS={endpoint} cargo run ...   # or:");
    say!(
        "  let conf = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(\"{endpoint}\").region(Region::new(\"{region}\")).load().await;"
    );
    say!("  aws_sdk_kms::Client::new(&conf).describe_custom_key_stores().send().await?");
    if config.tls().is_some() {
        say!(
            "  (aws-sdk-kms does not read AWS_CA_BUNDLE: give its HTTP client the CA through a custom TLS configuration, or run kms-server without TLS)"
        );
    }
    say!();
    say!("AWS SDK for JavaScript v3 (@aws-sdk/client-kms), with the variables above exported:");
    say!("  AWS_ENDPOINT_URL_KMS={endpoint} node app.mjs   # or:");
    say!(
        "  await new KMSClient({{ endpoint: \"{endpoint}\", region: \"{region}\" }}).send(new DescribeCustomKeyStoresCommand({{}}))"
    );
    say!();
    if config.admin_endpoints() {
        // curl trusts the CA of --tls-self-signed through --cacert.
        let cacert = ca_file.map_or_else(String::new, |p| format!(" --cacert {}", shell_word(p)));
        say!("Admin (--admin; not signed):");
        say!(
            "  curl{cacert} -T stores.json {endpoint}/_kms-server/stores   # serve a --data file's stores"
        );
        say!(
            "  curl{cacert} -X PUT -d '{{\"FailRate\": 1, \"FailWith\": [\"ThrottlingException\"]}}' {endpoint}/_kms-server/faults   # throttle every call"
        );
        say!("  curl{cacert} {endpoint}/_kms-server/requests   # the requests it answered");
        say!(
            "  curl{cacert} -X POST {endpoint}/_kms-server/reset   # the stores and faults it started with"
        );
        say!();
    }
    if let Some(path) = config.data_file() {
        say!(
            "Stop with Ctrl-C (in-flight requests finish first); after editing {}, `kill -HUP {}` serves its new contents.",
            path.display(),
            std::process::id()
        );
    } else {
        say!("Stop with Ctrl-C (in-flight requests finish first).");
    }
    out
}

/// `path` as one shell word, for a line to paste: as it is when no shell would read
/// any of its characters specially, else in single quotes.
fn shell_word(path: &std::path::Path) -> String {
    let path = path.display().to_string();
    let plain = |c: char| {
        c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c) || (cfg!(windows) && c == '\\')
    };
    if !path.is_empty() && path.chars().all(plain) {
        path
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

/// `text` as a Python string literal, to paste into a Python line.
fn python_str(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('\'');
    for c in text.chars() {
        match c {
            '\\' | '\'' => {
                literal.push('\\');
                literal.push(c);
            }
            '\n' => literal.push_str("\\n"),
            '\r' => literal.push_str("\\r"),
            '\t' => literal.push_str("\\t"),
            c => literal.push(c),
        }
    }
    literal.push('\'');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Left to its default, the connection limit stays within the open-file limit.
    #[test]
    fn the_default_connection_limit_fits_the_open_file_limit() {
        assert_eq!(default_max_connections(None), 1024);
        assert_eq!(default_max_connections(Some(1_048_576)), 1024);
        assert_eq!(default_max_connections(Some(1024)), 992);
        assert_eq!(default_max_connections(Some(40)), 8);
        assert_eq!(default_max_connections(Some(10)), 1);
    }

    #[test]
    fn sizes_are_bytes_or_binary_units() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64 MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("100B"), Ok(100));
        for bad in ["", "MiB", "64MB", "-1", "1.5MiB", "99999999999999999999GiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_the_soft_open_file_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max cpu time              unlimited            unlimited            seconds\n\
                      Max open files            1024                 1048576              files\n";
        assert_eq!(parse_open_file_limit(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_file_limit(unlimited), None);
        assert_eq!(parse_open_file_limit(""), None);
    }

    /// The CA file's path is pasted into a shell: one with a space (a temporary
    /// directory under a user name with one) is quoted, so that the lines still run.
    #[test]
    fn the_banner_quotes_a_ca_path_with_a_space() {
        let config = ServerConfig::demo().with_admin_endpoints();
        let ca = std::path::Path::new("/tmp/a b/ca.pem");
        let out = banner(&config, "https://127.0.0.1:4599", None, true, Some(ca));
        assert!(
            out.contains(
                " AWS_CA_BUNDLE='/tmp/a b/ca.pem' NODE_EXTRA_CA_CERTS='/tmp/a b/ca.pem'\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("  curl --cacert '/tmp/a b/ca.pem' -X POST https://"),
            "{out}"
        );
        assert!(
            out.contains("  curl --cacert '/tmp/a b/ca.pem' -T stores.json https://"),
            "{out}"
        );
        assert!(out.contains(", verify='/tmp/a b/ca.pem')."), "{out}");
        // A quote in the path: each line still pastes as one word, one string.
        let quote = std::path::Path::new("/tmp/it's/ca.pem");
        let out = banner(&config, "https://127.0.0.1:4599", None, true, Some(quote));
        assert!(
            out.contains(
                r#" AWS_CA_BUNDLE='/tmp/it'\''s/ca.pem' NODE_EXTRA_CA_CERTS='/tmp/it'\''s/ca.pem'"#
            ),
            "{out}"
        );
        assert!(out.contains(r#", verify='/tmp/it\'s/ca.pem')."#), "{out}");
        assert_eq!(python_str(r"C:\a\'b"), r"'C:\\a\\\'b'");
        // A plain path is pasted as it is.
        let plain = std::path::Path::new("/tmp/kms-server-1-ab/ca.pem");
        let out = banner(&config, "https://127.0.0.1:4599", None, true, Some(plain));
        assert!(
            out.contains(
                " AWS_CA_BUNDLE=/tmp/kms-server-1-ab/ca.pem NODE_EXTRA_CA_CERTS=/tmp/kms-server-1-ab/ca.pem\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("curl --cacert /tmp/kms-server-1-ab/ca.pem -X POST"),
            "{out}"
        );
    }

    /// Node does not read AWS_CA_BUNDLE (nor does the AWS SDK for JavaScript v3): the
    /// printed environment also names the CA in NODE_EXTRA_CA_CERTS, which Node reads at
    /// start, so that `AWS_ENDPOINT_URL_KMS=... node app.mjs` trusts the server as the AWS CLI
    /// does.
    #[test]
    fn the_banner_gives_node_the_ca_over_https() {
        let config = ServerConfig::demo();
        let ca = std::path::Path::new("/tmp/kms-server-1-ab/ca.pem");
        let out = banner(&config, "https://127.0.0.1:4599", None, true, Some(ca));
        let export = out
            .lines()
            .find(|l| l.trim_start().starts_with("export AWS_ACCESS_KEY_ID="))
            .expect("an export line");
        assert!(
            export.ends_with(" NODE_EXTRA_CA_CERTS=/tmp/kms-server-1-ab/ca.pem"),
            "{out}"
        );
        assert!(
            out.contains("  AWS_ENDPOINT_URL_KMS=https://127.0.0.1:4599 node app.mjs"),
            "{out}"
        );
        // Over plain HTTP, no CA.
        let out = banner(&config, "http://127.0.0.1:4599", None, true, None);
        assert!(!out.contains("NODE_EXTRA_CA_CERTS"), "{out}");
        assert!(
            out.contains(
                "new KMSClient({ endpoint: \"http://127.0.0.1:4599\", region: \"us-east-1\" })"
            ),
            "{out}"
        );
    }

    /// aws-config is told the endpoint for KMS alone: with the global `AWS_ENDPOINT_URL`,
    /// a profile that assumes a role sent STS's AssumeRole here too, and the SDK said only
    /// `error parsing XML: no root element`.
    #[test]
    fn the_banner_gives_aws_config_the_endpoint_of_kms_alone() {
        let config = ServerConfig::demo();
        let out = banner(&config, "http://127.0.0.1:4599", None, true, None);
        assert!(
            out.contains("  AWS_ENDPOINT_URL_KMS=http://127.0.0.1:4599 cargo run"),
            "{out}"
        );
        assert!(!out.contains("AWS_ENDPOINT_URL="), "{out}");
    }

    /// `KMS_SERVER_ADMIN=` (empty, as compose files write "unset") is off, not an error.
    #[test]
    fn a_switch_is_on_or_off_and_empty_is_off() {
        for on in ["1", "true", "YES", "on", "y"] {
            assert_eq!(parse_switch(on), Ok(true), "{on}");
        }
        for off in ["", "0", "false", "No", "off", "n"] {
            assert_eq!(parse_switch(off), Ok(false), "{off:?}");
        }
        assert!(
            parse_switch("maybe")
                .unwrap_err()
                .contains("`maybe` is neither on")
        );
    }
}
