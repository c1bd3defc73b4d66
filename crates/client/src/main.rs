//! `kms`: the AWS CLI's `aws kms describe-custom-key-stores`, against real KMS or kms-server.

#![warn(missing_docs)]

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, CommandFactory, Parser, Subcommand};
use futures_util::StreamExt;
use kms_client::output::{self, Format, ResumeToken, StartingTokenError, TimestampFormat};
use kms_client::query::Query;
use kms_client::{
    Client, Config, ConfigError, Error, MfaPrompt, Overrides, ProfileSetting, TimeoutKind,
};
use kms_types::CustomKeyStoresListEntry;

/// Exit code of a service error (the AWS CLI's).
const EXIT_SERVICE: u8 = 254;
/// Exit code of a usage or parameter error.
const EXIT_USAGE: u8 = 252;
/// Exit code of a configuration error (credentials, region, profile, endpoint).
const EXIT_CONFIG: u8 = 253;
/// Exit code of any other failure (connection, timeout, unreadable response).
const EXIT_OTHER: u8 = 255;

/// Call AWS KMS (or a local kms-server) the way the AWS CLI does.
///
/// Configuration comes, as for the AWS CLI, from the command line, then the
/// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
/// AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL,
/// AWS_PROFILE / AWS_DEFAULT_PROFILE, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, AWS_CA_BUNDLE, AWS_USE_FIPS_ENDPOINT,
/// AWS_USE_DUALSTACK_ENDPOINT; HTTPS_PROXY, HTTP_PROXY, NO_PROXY), then ~/.aws/credentials and
/// ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE); credentials also, as
/// the AWS SDKs find them, from a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE), the
/// container endpoint (ECS, EKS Pod Identity) or EC2 instance metadata. The credentials of a profile's
/// role are kept in ~/.aws/cli/cache, shared with the AWS CLI; the MFA code a role
/// with mfa_serial needs is asked for on stderr and read from stdin.
///
/// Exit codes: 0 success, 252 usage or parameter error (but 255 for pagination options
/// that conflict, as in the AWS CLI), 253 configuration error (but 255 for an endpoint
/// URL that is not one, as in the AWS CLI), 254 the service returned an error, 255 any
/// other failure (e.g. connection).
#[derive(Debug, Parser)]
// As the AWS CLI: a repeated option takes its last value.
#[command(
    name = "kms",
    version,
    propagate_version = true,
    args_override_self = true
)]
struct Cli {
    #[command(flatten, next_help_heading = "Global options")]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

// Its doc comments are `--help` text, where a URL is not a link: rustdoc's
// `bare_urls` would have them in `<...>`.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Args)]
struct Global {
    /// Send requests to this URL instead of the region's endpoint (such as
    /// https://kms.us-east-1.amazonaws.com), e.g. http://127.0.0.1:4599 for a local
    /// kms-server.
    #[arg(long, global = true, value_name = "URL")]
    endpoint_url: Option<String>,

    /// The AWS region to sign for and call (overrides AWS_REGION, AWS_DEFAULT_REGION
    /// and the profile's region).
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,

    /// Use this profile from ~/.aws/credentials and ~/.aws/config (overrides AWS_PROFILE,
    /// AWS_DEFAULT_PROFILE and the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and
    /// AWS_WEB_IDENTITY_TOKEN_FILE variables).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,

    /// Trust the certificate authorities in this PEM file for HTTPS instead of the
    /// built-in Mozilla roots (overrides AWS_CA_BUNDLE and the profile's ca_bundle).
    #[arg(long, global = true, value_name = "PATH")]
    ca_bundle: Option<String>,

    /// Output format: json (like the AWS CLI's), table (bordered; a multi-line value
    /// such as TrustAnchorCertificate is printed whole, breaking the borders, as the
    /// AWS CLI prints it), text (tab-separated, like the AWS CLI's text format), or off
    /// (nothing on stdout; errors still go to stderr with their exit status).
    /// Default: AWS_DEFAULT_OUTPUT,
    /// else the profile's output setting, else json (also when those say yaml or
    /// yaml-stream, which kms does not print; --debug notes it). Timestamps are ISO 8601 unless
    /// the profile sets cli_timestamp_format = wire (or none): epoch seconds.
    #[arg(long, global = true, value_name = "FORMAT",
          value_parser = ["json", "table", "text", "off"])]
    output: Option<String>,

    /// Print each signed HTTP request to stderr (the Signature and the session token
    /// are masked; the secret key is never sent).
    #[arg(long, global = true)]
    debug: bool,

    /// Make a single call and print the raw response (with NextMarker and Truncated)
    /// instead of fetching every page (--limit and --marker imply it). Not with
    /// --page-size, --max-items or --starting-token.
    #[arg(long, global = true)]
    no_paginate: bool,

    // (Not a doc comment: rustdoc would read the example's brackets as a link.)
    #[arg(
        long,
        global = true,
        value_name = "EXPRESSION",
        help = "A JMESPath expression (jmespath.org) applied to the output before it is \
                printed, as the AWS CLI applies it, e.g. \
                'CustomKeyStores[?ConnectionState==`CONNECTED`].CustomKeyStoreId'. With \
                --output text the pages are queried one by one (and the NextToken of \
                --max-items on its own), as the AWS CLI does."
    )]
    query: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Get information about the custom key stores in the account and region.
    ///
    /// By default every page is fetched and the stores are printed as one list
    /// ({"CustomKeyStores": [...]}). Use --max-items to stop early (a NextToken is
    /// then printed, to pass to --starting-token), --page-size to set how many stores
    /// each call asks for, or --no-paginate (or the raw --limit / --marker parameters)
    /// for a single call.
    #[command(args_override_self = true)]
    DescribeCustomKeyStores(DescribeArgs),
}

#[derive(Debug, Args)]
struct DescribeArgs {
    /// Only the custom key store with this id (cks- followed by 17 hex digits).
    /// Cannot be combined with --custom-key-store-name.
    #[arg(long, value_name = "ID")]
    custom_key_store_id: Option<String>,

    /// Only the custom key store with this friendly name. Cannot be combined with
    /// --custom-key-store-id.
    #[arg(long, value_name = "NAME")]
    custom_key_store_name: Option<String>,

    /// How many stores each service call returns at most (the Limit parameter,
    /// 1-1000). It does not limit the total printed; see --max-items.
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32))]
    page_size: Option<i32>,

    /// Print at most this many stores in total; if more remain, a NextToken is
    /// printed to resume with --starting-token.
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = parse_max_items)]
    max_items: Option<i64>,

    /// Resume where a previous run stopped: the NextToken it printed (a raw NextMarker
    /// is accepted too).
    #[arg(long, value_name = "TOKEN")]
    starting_token: Option<String>,

    /// The raw Limit parameter, as in the AWS CLI: one call that returns at most N
    /// stores, printed with NextMarker and Truncated (like --no-paginate). Not with
    /// --page-size, --max-items or --starting-token.
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32))]
    limit: Option<i32>,

    /// The raw Marker parameter, as in the AWS CLI: one call that starts at this
    /// NextMarker of a previous call, printed like --no-paginate. Not with --page-size,
    /// --max-items or --starting-token.
    #[arg(long, value_name = "MARKER")]
    marker: Option<String>,
}

/// `kms describe-custom-key-stores help`, as `aws … help`: the word `help` where an
/// argument stands after the command (not as an option's value) means `--help`.
fn help_word_as_flag(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let cli = Cli::command();
    let takes_value = |long: &str| {
        cli.get_subcommands()
            .flat_map(clap::Command::get_arguments)
            .chain(cli.get_arguments())
            .any(|a| a.get_long() == Some(long) && a.get_action().takes_values())
    };
    let mut command_seen = false;
    let mut value_next = false;
    let mut out = Vec::new();
    for arg in args {
        let text = arg.to_str().unwrap_or_default();
        if command_seen && !value_next && text == "help" {
            out.push("--help".into());
            continue;
        }
        command_seen |= !value_next && cli.find_subcommand(text).is_some();
        value_next = text
            .strip_prefix("--")
            .is_some_and(|long| !long.contains('=') && takes_value(long));
        out.push(arg);
    }
    out
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(help_word_as_flag(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                // `kms` alone shows the help, as a usage error (as `aws` does): a script
                // that lost its subcommand must not pass for one that ran.
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kms: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_OTHER);
        }
    };
    runtime.block_on(run(cli))
}

/// An error on stderr as the AWS CLI writes it (v1 and v2 alike): after a blank line.
fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("\n{message}");
    ExitCode::from(code)
}

/// The stderr line and exit code for a failed call.
fn report(e: &Error) -> ExitCode {
    let (code, message) = failure(e);
    fail(code, message)
}

/// The exit code and message of a failed call, in the AWS CLI's words where it has them.
fn failure(e: &Error) -> (u8, String) {
    // A service error: the operation it answered is in its metadata.
    if let Some(meta) = e.meta() {
        // botocore's wording: the retries (attempts after the first) when they ran out.
        let retries = if meta.max_attempts_reached {
            format!(
                " (reached max retries: {})",
                meta.attempts.saturating_sub(1)
            )
        } else {
            String::new()
        };
        return (
            EXIT_SERVICE,
            format!(
                "An error occurred ({}) when calling the {} operation{retries}: {}",
                e.code().unwrap_or_default(),
                meta.operation,
                e.message().unwrap_or_default()
            ),
        );
    }
    match e {
        Error::Config(c) => (config_exit(c), c.report()),
        Error::Credentials(c) => (EXIT_CONFIG, c.to_string()),
        // The library's message names `Config.timeouts`, which the CLI has no setting for.
        Error::Timeout {
            endpoint,
            limit,
            kind,
            attempts,
        } => {
            let what = match kind {
                TimeoutKind::Connect => "connecting to",
                TimeoutKind::Total => "the call to",
                _ => "a request to",
            };
            let tries = if *attempts > 1 {
                format!(" ({attempts} attempts)")
            } else {
                String::new()
            };
            let t = kms_client::Timeouts::default();
            (
                EXIT_OTHER,
                format!(
                    "{what} {endpoint} timed out after {limit:?}{tries} (kms allows {:?} to \
                     connect, {:?} for each attempt and {:?} for the whole call); check the \
                     endpoint URL and the network",
                    t.connect, t.attempt, t.total,
                ),
            )
        }
        // botocore's PaginationError, the AWS CLI's general error.
        Error::RepeatedMarker { marker, .. } => {
            (EXIT_OTHER, output::repeated_marker_message(marker))
        }
        // With the causes `Display` leaves to `source()` (connection, TLS).
        other => (EXIT_OTHER, other.report()),
    }
}

/// A configuration error's exit code: 253, but 255 for an endpoint URL that is not one
/// (from `--endpoint-url` as from the environment or a profile), as the AWS CLI exits.
fn config_exit(e: &ConfigError) -> u8 {
    match e {
        ConfigError::InvalidEndpoint { .. } => EXIT_OTHER,
        _ => EXIT_CONFIG,
    }
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::DescribeCustomKeyStores(args) => {
            describe_custom_key_stores(&cli.global, args).await
        }
    }
}

/// What every command needs, set up as the AWS CLI sets it up: the client and the
/// output settings.
struct Session {
    client: Client,
    format: Format,
    timestamps: TimestampFormat,
}

impl Session {
    /// The configuration (files, environment, `g`'s options), the output settings, and
    /// a client that shares the AWS CLI's cache of role credentials and asks for MFA
    /// codes. Client-side validation is off, as in the AWS CLI (botocore checks only
    /// the minimums before sending, which each command does; the service checks the
    /// rest). On failure, the exit code, the error already printed.
    fn new(g: &Global) -> Result<Self, ExitCode> {
        let overrides = Overrides {
            profile: g.profile.clone(),
            region: g.region.clone(),
            endpoint_url: g.endpoint_url.clone(),
            ca_bundle: g.ca_bundle.clone(),
        };
        let env = |k: &str| std::env::var(k).ok();
        let mut config = match Config::from_env_with(&env, &overrides) {
            Ok(c) => c,
            // With its cause (`: Is a directory (os error 21)`), which `Display` leaves out.
            Err(e) => return Err(fail(config_exit(&e), e.report())),
        };
        let (format, timestamps) = match output_settings(g.output.as_deref(), &env, &overrides) {
            Ok((format, timestamps, notes)) => {
                if g.debug {
                    notes.iter().for_each(|note| eprintln!("{note}"));
                }
                (format, timestamps)
            }
            Err(e) => return Err(fail(EXIT_CONFIG, e)),
        };
        config.validate_input = false;
        config.assumed_role_cache = Config::aws_cli_cache_dir(&env);
        config.mfa_prompt = Some(MfaPrompt::new(read_mfa_code));
        let mut client = Client::try_new(config).map_err(|e| report(&e))?;
        if g.debug {
            client = client.with_debug_sink(Arc::new(|text: &str| eprint!("{text}")));
        }
        Ok(Self {
            client,
            format,
            timestamps,
        })
    }
}

/// `kms describe-custom-key-stores`.
async fn describe_custom_key_stores(g: &Global, args: DescribeArgs) -> ExitCode {
    const OPERATION: &str = "DescribeCustomKeyStores";
    // As the AWS CLI: an expression that is not JMESPath is refused before any call.
    let query = match g.query.as_deref().map(Query::parse).transpose() {
        Ok(query) => query,
        Err(e) => {
            let expression = g.query.as_deref().unwrap_or_default();
            return fail(
                EXIT_USAGE,
                format!("Bad value for --query {expression}: Invalid jmespath expression: {e}"),
            );
        }
    };
    // As the AWS CLI: the raw paging parameters turn auto-pagination off, and without
    // it the pagination arguments are an error.
    let paginate = !(g.no_paginate || args.limit.is_some() || args.marker.is_some());
    if !paginate {
        let used: Vec<&str> = [
            ("--starting-token", args.starting_token.is_some()),
            ("--page-size", args.page_size.is_some()),
            ("--max-items", args.max_items.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        if !used.is_empty() {
            // botocore's PaginationError: the AWS CLI v2's general error, not a
            // parameter error.
            return fail(
                EXIT_OTHER,
                format!(
                    "Error during pagination: Cannot specify --no-paginate along with \
                     pagination arguments: {}",
                    used.join(", ")
                ),
            );
        }
    }
    let no_token = || ResumeToken {
        marker: None,
        skip: 0,
    };
    // A token whose Marker is not a string fails botocore's parameter check, with the
    // other parameters; one it cannot read at all fails the pagination, exit 255.
    let (start, marker_type) = match args.starting_token.as_deref().map(ResumeToken::decode) {
        None => (no_token(), None),
        Some(Ok(t)) => (t, None),
        Some(Err(StartingTokenError::MarkerType(line))) => (no_token(), Some(line)),
        Some(Err(e)) => return fail(EXIT_OTHER, e),
    };
    let Session {
        client,
        format,
        timestamps,
    } = match Session::new(g) {
        Ok(session) => session,
        Err(code) => return code,
    };
    let problems = too_small(&args, &start, marker_type);
    if !problems.is_empty() {
        return fail(
            EXIT_USAGE,
            format!("Parameter validation failed:\n{}", problems.join("\n")),
        );
    }
    let request = client
        .describe_custom_key_stores()
        .set_custom_key_store_id(args.custom_key_store_id)
        .set_custom_key_store_name(args.custom_key_store_name)
        .set_limit(args.page_size.or(args.limit))
        .set_marker(start.marker.clone().or(args.marker));

    // The output as the AWS CLI prints it, and the error of a query that failed on it
    // (a function given the wrong type): printed after what came before it.
    let render = |value: serde_json::Value| -> (String, Option<String>) {
        let value = match query.as_ref().map(|q| q.search(&value)) {
            None => value,
            Some(Ok(found)) => found,
            Some(Err(e)) => return (String::new(), Some(e)),
        };
        let text = match format {
            Format::Json => output::render_json(&value),
            Format::Text => output::render_text(&value),
            Format::Table => output::render_table_width(OPERATION, &value, table_width()),
            Format::Off => String::new(),
        };
        (text, None)
    };
    let (text, failed) = if !paginate {
        match request.send().await {
            Ok(response) => render(output::response_to_json(&response, timestamps)),
            Err(e) => return report(&e),
        }
    } else if format == Format::Text {
        // Page by page, printed as it comes, as the AWS CLI prints it: a long listing
        // is neither held whole nor waited for, and one whose reader went away
        // (`kms ... | head`) stops fetching.
        let mut written = Ok(());
        let mut failed = None;
        let fetched = collect_pages(request.into_paginator(), start, args.max_items, |page| {
            let (text, query_failed) = output::render_text_page(&page, timestamps, query.as_ref());
            written = write_out(&text);
            failed = query_failed;
            written.is_ok() && failed.is_none()
        })
        .await;
        if let Err(e) = written {
            return write_failed(e);
        }
        if let Some(e) = failed {
            return fail(EXIT_OTHER, e);
        }
        match fetched {
            Ok(next_token) => output::render_text_token(next_token.as_deref(), query.as_ref()),
            Err(e) => return report(&e),
        }
    } else {
        let mut pages = Vec::new();
        let next_token =
            match collect_pages(request.into_paginator(), start, args.max_items, |page| {
                pages.push(page);
                true
            })
            .await
            {
                Ok(r) => r,
                Err(e) => return report(&e),
            };
        match format {
            Format::Off | Format::Text => (String::new(), None),
            Format::Json | Format::Table => {
                let all: Vec<CustomKeyStoresListEntry> = pages.into_iter().flatten().collect();
                render(output::paginated_to_json(
                    &all,
                    next_token.as_deref(),
                    timestamps,
                ))
            }
        }
    };
    match write_out(&text) {
        // The AWS CLI's general error.
        Ok(()) => failed.map_or(ExitCode::SUCCESS, |e| fail(EXIT_OTHER, e)),
        Err(e) => write_failed(e),
    }
}

/// The exit when writing the output failed: success when the reader went away (e.g.
/// `kms ... | head`: nothing more to say), else the AWS CLI's general error.
fn write_failed(e: std::io::Error) -> ExitCode {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        ExitCode::SUCCESS
    } else {
        fail(EXIT_OTHER, format!("kms: cannot write the output: {e}"))
    }
}

/// The width a table is laid out for, as the AWS CLI finds it: the terminal's when
/// stdout is one, else 80 columns.
fn table_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map_or(output::DEFAULT_TABLE_WIDTH, |(width, _)| {
            usize::from(width.0)
        })
}

/// botocore's checks of the parameters (the model's minimums: every member's is 1, and a
/// starting token's Marker that is not a string), in its wording and in the order of
/// its input: the command's parameters in the model's order (`--limit` and `--marker`
/// included), then what the paginator adds, the starting token's Marker and the page
/// size.
fn too_small(args: &DescribeArgs, token: &ResumeToken, marker_type: Option<String>) -> Vec<String> {
    let length = |name: &str, value: Option<&str>| {
        let length = value?.chars().count();
        (length < 1).then(|| {
            format!("Invalid length for parameter {name}, value: {length}, valid min length: 1")
        })
    };
    let limit = |value: Option<i32>| {
        value
            .filter(|l| *l < 1)
            .map(|l| format!("Invalid value for parameter Limit, value: {l}, valid min value: 1"))
    };
    [
        length("CustomKeyStoreId", args.custom_key_store_id.as_deref()),
        length("CustomKeyStoreName", args.custom_key_store_name.as_deref()),
        limit(args.limit),
        length("Marker", args.marker.as_deref()),
        length("Marker", token.marker.as_deref()),
        marker_type,
        limit(args.page_size),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The output format — `--output`, else `AWS_DEFAULT_OUTPUT`, else the profile's
/// `output`, else json — and the profile's `cli_timestamp_format` (else ISO 8601), as
/// the AWS CLI reads them. A bad value is an error naming where it was set.
///
/// A default the AWS CLI takes but kms does not print (`yaml`, `yaml-stream`, from the
/// environment or the profile) is json — which is also YAML — with a note for `--debug`
/// saying so: a profile shared with the AWS CLI must not break kms. So is a retry mode
/// `adaptive` ([`adaptive_retry_note`]). The shared files are read once for all these.
fn output_settings(
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<(Format, TimestampFormat, Vec<String>), String> {
    let [output, timestamp_format, retry_mode] = Config::profile_settings(
        env,
        overrides,
        ["output", "cli_timestamp_format", "retry_mode"],
    )
    .map_err(|e| e.report())?;
    let (value, origin) = if let Some(flag) = flag {
        (flag.to_owned(), "--output".to_owned())
    } else if let Some(v) = env("AWS_DEFAULT_OUTPUT").filter(|v| !v.trim().is_empty()) {
        (v.trim().to_owned(), "AWS_DEFAULT_OUTPUT".to_owned())
    } else if let Some(p) = output {
        (p.value, p.origin)
    } else {
        ("json".to_owned(), String::new())
    };
    let (format, note) = match value.as_str() {
        "yaml" | "yaml-stream" if flag.is_none() => (
            Format::Json,
            Some(format!(
                "kms: output format '{value}' from {origin} is the AWS CLI's, not one kms \
                 prints (json, table, text, off): printing json"
            )),
        ),
        _ => (value.parse().map_err(|e| format!("{origin}: {e}"))?, None),
    };
    let timestamps = match timestamp_format {
        Some(p) => p.value.parse().map_err(|e| format!("{}: {e}", p.origin))?,
        None => TimestampFormat::Iso8601,
    };
    let notes = note
        .into_iter()
        .chain(adaptive_retry_note(env, retry_mode))
        .collect();
    Ok((format, timestamps, notes))
}

/// `--debug`'s note when the retry mode (`AWS_RETRY_MODE`, else the profile's
/// `retry_mode`) is `adaptive`, which kms runs as `standard`.
fn adaptive_retry_note(
    env: &dyn Fn(&str) -> Option<String>,
    profile: Option<ProfileSetting>,
) -> Option<String> {
    let origin = match env("AWS_RETRY_MODE").filter(|v| !v.trim().is_empty()) {
        Some(v) => (v.trim() == "adaptive").then(|| "AWS_RETRY_MODE".to_owned())?,
        None => profile.filter(|p| p.value == "adaptive")?.origin,
    };
    Some(format!(
        "kms: retry mode 'adaptive' from {origin} retries as standard mode does: kms does \
         not do adaptive mode's client-side rate limiting"
    ))
}

/// Asks on stderr, reads the answer from stdin (which `kms` reads nothing else from).
fn read_mfa_code(prompt: &str) -> std::io::Result<String> {
    let mut stderr = std::io::stderr().lock();
    stderr.write_all(prompt.as_bytes())?;
    stderr.flush()?;
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "stdin is closed",
        ));
    }
    Ok(line)
}

/// `--max-items`: a whole number of 1 or more, of any size, as the AWS CLI's Python
/// `int` reads it (`99999999999999999999` for "all of them"); one beyond `i64::MAX` is
/// `i64::MAX`, more than any account holds.
fn parse_max_items(value: &str) -> Result<i64, String> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(match value.parse::<i64>() {
            Ok(n) => format!("{n} is not in 1..{}", i64::MAX),
            Err(e) => e.to_string(),
        });
    }
    match digits.parse::<i64>() {
        Ok(0) => Err(format!("0 is not in 1..{}", i64::MAX)),
        Ok(n) => Ok(n),
        // only digits: too large
        Err(_) => Ok(i64::MAX),
    }
}

/// `text` on stdout, flushed.
fn write_out(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
}

/// Fetches pages until the end, until `max_items` entries were taken, or until `out`
/// (given each page's entries as it comes) says to stop; returns the NextToken to
/// resume from when `max_items` stopped it.
async fn collect_pages(
    mut pages: kms_client::Paginator<kms_types::DescribeCustomKeyStores>,
    start: ResumeToken,
    max_items: Option<i64>,
    mut out: impl FnMut(Vec<CustomKeyStoresListEntry>) -> bool,
) -> Result<Option<String>, Error> {
    let max = max_items.map(|m| usize::try_from(m).unwrap_or(usize::MAX));
    let mut taken = 0usize;
    let mut page_marker = start.marker;
    let mut skip = start.skip;
    while let Some(page) = pages.next().await {
        let page = page?;
        let next_marker = page.next_marker.clone().filter(|m| !m.is_empty());
        let more_pages = page.truncated && next_marker.is_some();
        let mut items = page.custom_key_stores.unwrap_or_default();
        let available = items.len().saturating_sub(skip);
        let mut kept: Vec<CustomKeyStoresListEntry> =
            items.drain(skip.min(items.len())..).collect();
        if let Some(max) = max {
            let room = max - taken;
            if available > room {
                kept.truncate(room);
                out(kept);
                let token = ResumeToken {
                    marker: page_marker,
                    skip: skip + room,
                };
                return Ok(Some(token.encode()));
            }
            taken += available;
            if !out(kept) {
                return Ok(None);
            }
            if taken == max {
                let token = more_pages.then(|| {
                    ResumeToken {
                        marker: next_marker,
                        skip: 0,
                    }
                    .encode()
                });
                return Ok(token);
            }
        } else if !out(kept) {
            return Ok(None);
        }
        skip = 0;
        page_marker = next_marker;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A service error names the operation that answered it, from its metadata: a
    /// subcommand added for another operation reports its own.
    #[test]
    fn a_service_error_names_its_operation() {
        let meta = |operation| {
            Box::new(kms_client::ErrorMeta {
                operation,
                status: 400,
                code: Some("CustomKeyStoreNameInUseException".into()),
                message: Some("taken".into()),
                request_id: None,
                attempts: 1,
                max_attempts_reached: false,
            })
        };
        for operation in ["DescribeCustomKeyStores", "CreateCustomKeyStore"] {
            let (code, message) = failure(&Error::Service(meta(operation)));
            assert_eq!(code, EXIT_SERVICE);
            assert_eq!(
                message,
                format!(
                    "An error occurred (CustomKeyStoreNameInUseException) when calling the \
                     {operation} operation: taken"
                )
            );
        }
    }

    #[test]
    fn a_timeout_names_the_time_limits_not_a_library_field() {
        for (limit, kind, attempts, start) in [
            (
                60,
                TimeoutKind::Total,
                2,
                "the call to http://127.0.0.1:4599 timed out after 60s (2 attempts)",
            ),
            (
                20,
                TimeoutKind::Attempt,
                3,
                "a request to http://127.0.0.1:4599 timed out after 20s (3 attempts)",
            ),
            (
                3,
                TimeoutKind::Connect,
                1,
                "connecting to http://127.0.0.1:4599 timed out after 3s (kms allows",
            ),
        ] {
            let (code, message) = failure(&Error::Timeout {
                endpoint: "http://127.0.0.1:4599".into(),
                limit: Duration::from_secs(limit),
                kind,
                attempts,
            });
            assert_eq!(code, EXIT_OTHER);
            assert!(message.starts_with(start), "{message}");
            assert!(
                message.contains("3s to connect, 20s for each attempt and 60s for the whole call"),
                "{message}"
            );
            assert!(!message.contains("Config"), "{message}");
        }
    }
}
