//! The built `kms` binary against kms-server on 127.0.0.1: output, pagination flags,
//! exit codes and stderr wording.

use std::path::Path;
use std::process::{Command, Output};

use kms_server::{ServerConfig, demo};

mod common;

const KMS: &str = env!("CARGO_BIN_EXE_kms");

/// A `kms` command with a clean environment: HOME in `home`, instance metadata off.
fn kms(home: &Path) -> Command {
    let mut c = Command::new(KMS);
    // Instance metadata is the chain's last resort: never asked here.
    c.env_clear()
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Ok(path) = std::env::var("PATH") {
        c.env("PATH", path);
    }
    c
}

fn with_demo_env(c: &mut Command, endpoint: &str) {
    c.env("AWS_ACCESS_KEY_ID", demo::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", demo::SECRET_ACCESS_KEY)
        .env("AWS_REGION", demo::REGION)
        .env("AWS_ENDPOINT_URL", endpoint);
}

fn run(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// `kms describe-custom-key-stores ARGS` against `endpoint`, with the demo credentials
/// and `vars`.
fn kms_describe(
    home: &Path,
    endpoint: &str,
    vars: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let mut c = kms(home);
    with_demo_env(&mut c, endpoint);
    c.envs(vars.iter().copied())
        .arg("describe-custom-key-stores")
        .args(args);
    run(&mut c)
}

/// `aws kms describe-custom-key-stores ARGS` (the AWS CLI) against `endpoint`, as
/// [`kms_describe`] runs `kms`: HOME and the AWS CLI's files in `home`, the demo
/// credentials and region, and `vars`.
fn aws_describe(
    home: &Path,
    endpoint: &str,
    vars: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let aws = home.join(".aws");
    let mut c = Command::new("aws");
    c.env_clear()
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", aws.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", aws.join("credentials"))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "")
        .env("AWS_ACCESS_KEY_ID", demo::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", demo::SECRET_ACCESS_KEY)
        .env("AWS_DEFAULT_REGION", demo::REGION)
        .envs(vars.iter().copied())
        .args([
            "--endpoint-url",
            endpoint,
            "kms",
            "describe-custom-key-stores",
        ])
        .args(args);
    run(&mut c)
}

/// A home directory whose `.aws/config` holds `config`, and that file's path.
fn home_with_config(config: &str) -> (tempfile::TempDir, String) {
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(aws.join("config"), config).unwrap();
    (home, aws.join("config").display().to_string())
}

async fn start(n: usize) -> kms_server::RunningServer {
    kms_server::serve(
        ServerConfig::demo().with_generated_stores(n),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn store_ids(json: &serde_json::Value) -> Vec<String> {
    json["CustomKeyStores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["CustomKeyStoreId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_auto_paginates_and_max_items_resumes() {
    let srv = start(30).await;
    let home = tempfile::tempdir().unwrap();
    let ep = srv.endpoint();

    let mut c = kms(home.path());
    with_demo_env(&mut c, &ep);
    c.args(["describe-custom-key-stores", "--page-size", "7"]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let full: serde_json::Value = serde_json::from_str(&out).unwrap();
    let all = store_ids(&full);
    assert!(all.len() >= 30);
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "the server repeated stores across pages (NextMarker must be exclusive)"
    );
    assert!(full.get("NextToken").is_none());
    assert!(full.get("Truncated").is_none() && full.get("NextMarker").is_none());
    assert!(out.starts_with("{\n    \"CustomKeyStores\": ["), "{out}");
    // ISO 8601 timestamps as the AWS CLI prints them
    let date = full["CustomKeyStores"][0]["CreationDate"].as_str().unwrap();
    assert!(date.ends_with("+00:00") && date.contains('T'), "{date}");

    // --max-items stops mid-page, and --starting-token resumes exactly there
    let mut got = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut c = kms(home.path());
        with_demo_env(&mut c, &ep);
        c.args([
            "describe-custom-key-stores",
            "--page-size",
            "4",
            "--max-items",
            "10",
        ]);
        if let Some(t) = &token {
            c.args(["--starting-token", t]);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let ids = store_ids(&v);
        assert!(ids.len() <= 10);
        got.extend(ids);
        match v.get("NextToken").and_then(|t| t.as_str()) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(got, all);

    // --no-paginate: one call, raw response
    let mut c = kms(home.path());
    with_demo_env(&mut c, &ep);
    c.args([
        "describe-custom-key-stores",
        "--no-paginate",
        "--limit",
        "5",
    ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(store_ids(&v).len(), 5);
    assert_eq!(v["Truncated"], true);
    assert!(v["NextMarker"].is_string());
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_limit_and_marker_make_one_call_as_in_the_aws_cli() {
    let srv = start(30).await;
    let home = tempfile::tempdir().unwrap();
    let ep = srv.endpoint();
    let describe = |args: &[&str]| kms_describe(home.path(), &ep, &[], args);
    let (code, out, err) = describe(&[]);
    assert_eq!(code, 0, "{err}");
    let all = store_ids(&serde_json::from_str(&out).unwrap());

    // --limit: one page of 3, with NextMarker and Truncated (not every store)
    let (code, out, err) = describe(&["--limit", "3"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(store_ids(&v), all[..3]);
    assert_eq!(v["Truncated"], true);
    let marker = v["NextMarker"].as_str().unwrap().to_owned();

    // --marker: the page after it, one call too
    let (code, out, err) = describe(&["--marker", &marker, "--limit", "3"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(store_ids(&v), all[3..6]);
    assert_eq!(v["Truncated"], true);
    let (code, out, err) = describe(&["--marker", &marker]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(store_ids(&v).first(), all.get(3));
    assert!(v.get("Truncated").is_some(), "{out}");

    // without auto-pagination the pagination arguments are the AWS CLI's error
    let token = "eyJNYXJrZXIiOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiA1fQ==";
    for (args, named) in [
        (&["--limit", "3", "--max-items", "4"][..], "--max-items"),
        (
            &["--marker", &marker, "--page-size", "2"][..],
            "--page-size",
        ),
        (
            &[
                "--limit",
                "3",
                "--starting-token",
                token,
                "--max-items",
                "4",
            ][..],
            "--starting-token, --max-items",
        ),
        (
            &["--no-paginate", "--starting-token", token][..],
            "--starting-token",
        ),
        (&["--no-paginate", "--page-size", "5"][..], "--page-size"),
        (&["--no-paginate", "--max-items", "5"][..], "--max-items"),
    ] {
        let (code, out, err) = describe(args);
        // botocore's PaginationError: exit 255 in the AWS CLI v2, as any error
        // that is not a parameter, configuration or service error.
        assert_eq!(code, 255, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(
            err,
            format!(
                "\nError during pagination: Cannot specify --no-paginate along with pagination \
                 arguments: {named}\n"
            ),
            "{args:?}"
        );
    }
    srv.shutdown().await;
}

/// Text output is printed page by page as it comes, as the AWS CLI prints it: a reader
/// that goes away after the first line (`kms ... | head -1`) stops the fetching, and
/// kms exits 0 as on any closed pipe. (It fetched every page first, holding them all.)
#[tokio::test(flavor = "multi_thread")]
async fn text_output_is_printed_as_it_comes_and_a_closed_pipe_stops_the_fetching() {
    use std::io::{BufRead, BufReader};
    let config = ServerConfig::demo()
        .with_generated_stores(2000)
        .with_admin_endpoints();
    let (router, _) = config.router_and_store().unwrap();
    let admin = std::sync::Arc::clone(router.admin().unwrap());
    let srv = kms_server::serve_router(&config, router, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut c = kms(home.path());
    with_demo_env(&mut c, &srv.endpoint());
    c.args([
        "describe-custom-key-stores",
        "--output",
        "text",
        "--page-size",
        "1",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("CUSTOMKEYSTORES\t"), "{first}");
    // The reader has gone away.
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (entries, dropped) = admin.journal().entries(false);
    let answered = entries.len() as u64 + dropped;
    assert!(
        answered < 1000,
        "{answered} pages fetched for a reader that took one line"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn adaptive_retry_mode_runs_as_standard_noted_with_debug() {
    let srv = start(1).await;
    let (home, config) = home_with_config("[profile adaptive]\nretry_mode = adaptive\n");
    for (vars, origin) in [
        (("AWS_RETRY_MODE", "adaptive"), "AWS_RETRY_MODE"),
        (("AWS_PROFILE", "adaptive"), config.as_str()),
    ] {
        let (code, _, err) = kms_describe(home.path(), &srv.endpoint(), &[vars], &[]);
        assert_eq!(code, 0, "{vars:?}: {err}");
        assert!(err.is_empty(), "{vars:?}: {err}");
        let (code, _, err) = kms_describe(home.path(), &srv.endpoint(), &[vars], &["--debug"]);
        assert_eq!(code, 0, "{vars:?}: {err}");
        let note = err.lines().next().unwrap_or_default();
        assert!(
            note.contains("'adaptive'") && note.contains(origin) && note.contains("rate limiting"),
            "{vars:?}: {note}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn output_and_timestamp_format_from_the_environment_and_the_profile() {
    let srv = start(3).await;
    let (home, config) = home_with_config(
        "[profile texty]\noutput = text\ncli_timestamp_format = none\n\
         [profile yaml]\noutput = yaml\n\
         [profile yaml-stream]\noutput = yaml-stream\n\
         [profile bogus]\ncli_timestamp_format = bogus\n\
         [profile yamlish]\noutput = yml\n",
    );
    let ep = srv.endpoint();
    let describe = |vars: &[(&str, &str)], args: &[&str]| {
        kms_describe(
            home.path(),
            &ep,
            vars,
            &[&["--max-items", "1"], args].concat(),
        )
    };
    let is_text = |out: &str| out.starts_with("CUSTOMKEYSTORES\t");

    let (code, out, err) = describe(&[("AWS_DEFAULT_OUTPUT", "text")], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(is_text(&out), "{out}");
    assert!(out.contains("+00:00"), "ISO 8601 by default: {out}");
    // the profile's output and cli_timestamp_format (none: epoch seconds, as sent)
    let (code, out, err) = describe(&[("AWS_PROFILE", "texty")], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(is_text(&out), "{out}");
    assert!(!out.contains("+00:00"), "{out}");
    assert!(
        out.split('\t')
            .any(|f| f.parse::<f64>().is_ok_and(|n| n > 1e9)),
        "{out}"
    );
    // AWS_DEFAULT_OUTPUT beats the profile, --output beats both
    for (vars, args) in [
        (
            &[("AWS_PROFILE", "texty"), ("AWS_DEFAULT_OUTPUT", "json")][..],
            &[][..],
        ),
        (
            &[("AWS_PROFILE", "texty"), ("AWS_DEFAULT_OUTPUT", "text")][..],
            &["--output", "json"][..],
        ),
    ] {
        let (code, out, err) = describe(vars, args);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["CustomKeyStores"][0]["CreationDate"].is_number(), "{out}");
    }

    // The AWS CLI's yaml and yaml-stream, which kms does not print: a default that
    // says so (shared with the AWS CLI) gives json, noted with --debug only.
    for (vars, value, origin) in [
        (&[("AWS_PROFILE", "yaml")][..], "yaml", config.as_str()),
        (
            &[("AWS_PROFILE", "yaml-stream")][..],
            "yaml-stream",
            config.as_str(),
        ),
        (
            &[("AWS_DEFAULT_OUTPUT", "yaml")][..],
            "yaml",
            "AWS_DEFAULT_OUTPUT",
        ),
        (
            &[
                ("AWS_PROFILE", "texty"),
                ("AWS_DEFAULT_OUTPUT", "yaml-stream"),
            ][..],
            "yaml-stream",
            "AWS_DEFAULT_OUTPUT",
        ),
    ] {
        let (code, out, err) = describe(vars, &[]);
        assert_eq!(code, 0, "{vars:?}: {err}");
        assert!(err.is_empty(), "{vars:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["CustomKeyStores"].as_array().map(Vec::len), Some(1));
        let (code, out, err) = describe(vars, &["--debug"]);
        assert_eq!(code, 0, "{vars:?}: {err}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
        let note = err.lines().next().unwrap_or_default();
        for part in [
            &format!("'{value}'"),
            origin,
            "json, table, text",
            "printing json",
        ] {
            assert!(note.contains(part), "{vars:?}: {part} missing from {note}");
        }
    }
    // given explicitly, it is a usage error that lists what kms prints
    let (code, out, err) = describe(&[], &["--output", "yaml"]);
    assert_eq!(code, 252, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("'yaml'") && err.contains("json, table, text"),
        "{err}"
    );

    // off (the AWS CLI v2's): nothing on stdout, from the flag or a default; an error
    // still says what happened on stderr, with its exit status
    for (vars, args) in [
        (&[][..], &["--output", "off"][..]),
        (&[("AWS_DEFAULT_OUTPUT", "off")][..], &[][..]),
    ] {
        let (code, out, err) = describe(vars, args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, "", ""),
            "{vars:?} {args:?}"
        );
    }
    let (code, out, err) = describe(&[], &["--output", "off", "--custom-key-store-name", "nope"]);
    assert_eq!(code, 254, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("CustomKeyStoreNotFoundException"), "{err}");

    // bad values (the AWS CLI's too): configuration errors that say where they were set
    for (vars, names) in [
        (
            &[("AWS_DEFAULT_OUTPUT", "yaml9")][..],
            &["AWS_DEFAULT_OUTPUT", "'yaml9'", "json, table, text"][..],
        ),
        (
            &[("AWS_PROFILE", "yamlish")][..],
            &["output in", &config, "line 11", "'yml'"][..],
        ),
        (
            &[("AWS_PROFILE", "bogus")][..],
            &[
                "cli_timestamp_format in",
                &config,
                "Unknown cli_timestamp_format value: bogus, valid values are \"none\", \"wire\" or \"iso8601\"",
            ][..],
        ),
    ] {
        let (code, out, err) = describe(vars, &[]);
        assert_eq!(code, 253, "{vars:?}: {err}");
        assert!(out.is_empty(), "{out}");
        for name in names {
            assert!(err.contains(name), "{vars:?}: {name} missing from {err}");
        }
    }
    srv.shutdown().await;
}

#[test]
fn an_unreadable_config_file_is_reported_with_its_cause() {
    let home = tempfile::tempdir().unwrap();
    // A directory where the config file should be: reading it fails with EISDIR.
    let config = home.path().join(".aws").join("config");
    std::fs::create_dir_all(&config).unwrap();
    let (code, out, err) = kms_describe(home.path(), "http://127.0.0.1:1", &[], &[]);
    assert_eq!(code, 253, "{err}");
    assert!(out.is_empty(), "{out}");
    let cause = std::fs::read_to_string(&config).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "\ncannot read AWS config file {}: {cause}\n",
            config.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_option_takes_its_last_value() {
    let srv = start(5).await;
    let home = tempfile::tempdir().unwrap();
    let mut c = kms(home.path());
    with_demo_env(&mut c, &srv.endpoint());
    c.args([
        "--output",
        "table",
        "describe-custom-key-stores",
        "--output",
        "text",
        "--output",
        "json",
        "--region",
        "eu-west-1",
        "--region",
        kms_server::demo::REGION,
        "--page-size",
        "1000",
        "--page-size",
        "2",
        "--max-items",
        "1",
        "--max-items",
        "3",
        "--debug",
        "--debug",
    ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(store_ids(&v).len(), 3);
    // two calls of 2: the last --page-size
    assert_eq!(err.matches("\"Limit\":2").count(), 2, "{err}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_json_gives_the_reason_phrase_and_retries_are_counted() {
    let home = tempfile::tempdir().unwrap();
    for (status, body, code, message) in [
        (502, "<html>Bad Gateway</html>", "502", "Bad Gateway"),
        (500, "", "500", "Internal Server Error"),
        (
            503,
            "{\"__type\":\"KMSInternalException\",\"message\":\"try again\"}",
            "KMSInternalException",
            "try again",
        ),
    ] {
        let endpoint = common::Scripted::start(move |_, _| Some((status, body.to_owned())))
            .await
            .url;
        for (vars, retries) in [(&[][..], 2), (&[("AWS_MAX_ATTEMPTS", "2")][..], 1)] {
            let (code_, _, err) = kms_describe(home.path(), &endpoint, vars, &[]);
            assert_eq!(code_, 254, "{err}");
            assert_eq!(
                err,
                format!(
                    "\nAn error occurred ({code}) when calling the DescribeCustomKeyStores \
                     operation (reached max retries: {retries}): {message}\n"
                )
            );
        }
    }
    // an error that is not retried says nothing of retries
    let endpoint = common::Scripted::start(|_, _| {
        Some((
            400,
            "{\"__type\":\"CustomKeyStoreNotFoundException\",\"message\":\"none\"}".to_owned(),
        ))
    })
    .await
    .url;
    let (code, _, err) = kms_describe(home.path(), &endpoint, &[], &[]);
    assert_eq!(code, 254, "{err}");
    assert_eq!(
        err,
        "\nAn error occurred (CustomKeyStoreNotFoundException) when calling the \
         DescribeCustomKeyStores operation: none\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help_as_an_option_value_is_a_value() {
    let srv = start(0).await;
    let home = tempfile::tempdir().unwrap();
    let args = ["--custom-key-store-name", "help"];
    let (code, out, err) = kms_describe(home.path(), &srv.endpoint(), &[], &args);
    assert_eq!(code, 254, "{out}{err}");
    assert!(err.contains("CustomKeyStoreNotFoundException"), "{err}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_text_and_table_output() {
    let srv = start(5).await;
    let home = tempfile::tempdir().unwrap();
    let mut c = kms(home.path());
    with_demo_env(&mut c, &srv.endpoint());
    c.args([
        "describe-custom-key-stores",
        "--custom-key-store-name",
        "store-000002",
        "--output",
        "text",
    ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("CUSTOMKEYSTORES\t"), "{out}");
    assert!(first.contains("\tstore-000002\t"), "{out}");
    let id = first
        .split('\t')
        .find(|f| f.starts_with("cks-"))
        .unwrap()
        .to_owned();

    let mut c = kms(home.path());
    with_demo_env(&mut c, &srv.endpoint());
    c.args([
        "describe-custom-key-stores",
        "--custom-key-store-id",
        &id,
        "--output",
        "table",
    ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("DescribeCustomKeyStores"), "{out}");
    assert!(out.contains(&id) && out.contains("store-000002"), "{out}");
    srv.shutdown().await;
}

/// Error messages as the AWS CLI writes them, byte for byte on stderr (a blank line
/// first): service, parameter and pagination errors, and exhausted retries.
#[tokio::test(flavor = "multi_thread")]
async fn error_messages_are_the_aws_clis_byte_for_byte() {
    if !common::aws_cli_available() {
        return;
    }
    let srv = start(0).await;
    let failing = common::Scripted::start(|_, _| {
        Some((
            500,
            "{\"__type\":\"KMSInternalException\",\"message\":\"try again\"}".to_owned(),
        ))
    })
    .await;
    // A service that hands out its marker again: botocore's PaginationError, the marker
    // in Python's repr (quotes, and Latin-1's unprintable no-break space, escaped).
    let repeating = common::Scripted::start(|_, _| {
        Some((
            200,
            r#"{"CustomKeyStores":[],"NextMarker":"it's\u00a0\"m\"","Truncated":true}"#.to_owned(),
        ))
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let ep = srv.endpoint();
    for (endpoint, args) in [
        (ep.as_str(), &["--custom-key-store-name", "nope"][..]),
        (
            &ep,
            &[
                "--custom-key-store-name",
                "a",
                "--custom-key-store-id",
                "cks-1234567890abcdef0",
            ],
        ),
        (&ep, &["--starting-token", "garbage"]),
        (&ep, &["--page-size", "0"]),
        (&ep, &["--custom-key-store-name", "", "--marker", ""]),
        (&ep, &["--no-paginate", "--max-items", "5"]),
        // botocore's reading of starting tokens: an empty marker is sent (and refused),
        // a legacy token has one part per input token, a Marker must be a string (checked
        // with the other parameters, in the order of the input the paginator builds:
        // the token's Marker before the page size)
        (&ep, &["--starting-token", "", "--page-size", "0"]),
        (
            &ep,
            &["--starting-token", "___3", "--custom-key-store-id", ""],
        ),
        (&ep, &["--starting-token", "a___b___3"]),
        (
            &ep,
            &[
                "--custom-key-store-name",
                "",
                "--page-size",
                "0",
                // {"Marker": [1, "a'b", {"k": 1e20}]}
                "--starting-token",
                "eyJNYXJrZXIiOiBbMSwgImEnYiIsIHsiayI6IDFlMjB9XX0=",
            ],
        ),
        (&failing.url, &[]),
        (&repeating.url, &[]),
        (&repeating.url, &["--output", "text"]),
    ] {
        let vars = [("AWS_MAX_ATTEMPTS", "2"), ("AWS_RETRY_MODE", "standard")];
        let (_, _, ours) = kms_describe(home.path(), endpoint, &vars, args);
        let (_, _, theirs) = aws_describe(home.path(), endpoint, &vars, args);
        assert!(theirs.starts_with('\n'), "{args:?}: {theirs:?}");
        assert_eq!(ours, theirs, "{args:?}");
    }
    srv.shutdown().await;
}

/// What `kms` prints on stdout is what the AWS CLI prints, byte for byte, in every
/// format, paginated or not, filtered, resumed, and for no stores at all: every store
/// type and connection state, multi-line certificates, nested XKS configurations, wide
/// (CJK) characters and a tab in a name. Timestamps as the profile says (`none` and
/// `iso8601`: the AWS CLI v1 and v2 differ only in their default).
#[tokio::test(flavor = "multi_thread")]
async fn output_is_the_aws_clis_byte_for_byte() {
    if !common::aws_cli_available() {
        return;
    }
    let home_region = kms_server::store::Owner::new(demo::ACCOUNT_ID, demo::REGION);
    let wide = kms_server::kms_types::CustomKeyStoresListEntry::builder()
        .custom_key_store_id("cks-0123456789abcdef0")
        .custom_key_store_name("日本語キーストア🔑\ttabbed")
        .custom_key_store_type(kms_server::kms_types::CustomKeyStoreType::AwsCloudhsm)
        .cloud_hsm_cluster_id("cluster-2a23b4cdefg")
        .trust_anchor_certificate(demo::TRUST_ANCHOR_CERTIFICATE)
        .connection_state(kms_server::kms_types::ConnectionStateType::Connected)
        .creation_date(kms_server::kms_types::Timestamp::new(
            1_700_000_000,
            123_456_789,
        ))
        .build();
    // The demo account's stores in its region only: in the second region it has none.
    let stores = demo::all_stores()
        .into_iter()
        .chain([(home_region.clone(), wide)])
        .filter(|(owner, _)| *owner == home_region)
        .map(|(owner, entry)| (owner, kms_server::KeyStore::new(entry).unwrap()))
        .collect();
    let srv = kms_server::serve(
        ServerConfig::demo()
            .with_key_stores(stores)
            .with_generated_stores(20),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let (home, _) = home_with_config(
        "[default]\ncli_timestamp_format = none\n[profile iso]\ncli_timestamp_format = iso8601\n",
    );
    let ep = srv.endpoint();
    let compare = |vars: &[(&str, &str)], args: &[&str]| {
        let ours = kms_describe(home.path(), &ep, vars, args);
        let theirs = aws_describe(home.path(), &ep, vars, args);
        assert_eq!(theirs.0, 0, "{vars:?} {args:?}: {}", theirs.2);
        assert_eq!(ours, theirs, "{vars:?} {args:?}");
        theirs.1
    };
    let (_, out, _) = aws_describe(
        home.path(),
        &ep,
        &[],
        &["--max-items", "5", "--page-size", "3"],
    );
    let token: serde_json::Value = serde_json::from_str(&out).unwrap();
    let token = token["NextToken"].as_str().unwrap().to_owned();
    let other_region = [
        ("AWS_REGION", demo::SECOND_REGION),
        ("AWS_DEFAULT_REGION", demo::SECOND_REGION),
    ];
    for format in ["json", "text", "table"] {
        let out = ["--output", format];
        for (vars, args) in [
            (&[][..], &[][..]),
            (&[("AWS_PROFILE", "iso")][..], &[][..]),
            (&[], &["--page-size", "7"]),
            (&[], &["--max-items", "5", "--page-size", "3"]),
            (&[], &["--max-items", "4", "--starting-token", &token]),
            // a marker None is no marker; legacy amounts are read as Python's int() reads them
            // ({"Marker": "None", "boto_truncate_amount": 3})
            (
                &[],
                &[
                    "--starting-token",
                    "eyJNYXJrZXIiOiAiTm9uZSIsICJib3RvX3RydW5jYXRlX2Ftb3VudCI6IDN9",
                ],
            ),
            (&[], &["--starting-token", "None___ 1_0"]),
            (&[], &["--no-paginate"]),
            (&[], &["--limit", "4"]),
            (&[], &["--custom-key-store-id", "cks-0123456789abcdef0"]),
            (&[], &["--custom-key-store-name", "store-000002"]),
            (&other_region[..], &[]),
            (&other_region[..], &["--no-paginate"]),
        ] {
            compare(vars, &[args, &out[..]].concat());
        }
        // --query: applied to the whole result (json, table) or page by page and to the
        // NextToken on its own (text); members in the response's and the expression's
        // order.
        for query in [
            "CustomKeyStores[].CustomKeyStoreId",
            "CustomKeyStores[?ConnectionState=='CONNECTED'].{Name: CustomKeyStoreName, Id: CustomKeyStoreId, Type: CustomKeyStoreType}",
            "CustomKeyStores[?CustomKeyStoreType=='EXTERNAL_KEY_STORE'] | [0]",
            "CustomKeyStores[?XksProxyConfiguration].XksProxyConfiguration",
            "sort_by(CustomKeyStores || `[]`, &CustomKeyStoreName)[-3:].[CustomKeyStoreName, ConnectionState, CreationDate]",
            // (`|| []`: in text, the NextToken of --max-items is queried on its own)
            "length(CustomKeyStores || `[]`)",
            "{Count: length(CustomKeyStores || `[]`), First: CustomKeyStores[0].CustomKeyStoreName}",
            "nothing",
            "CustomKeyStores[?CustomKeyStoreName=='nope']",
            // A literal that is not JSON is the string it spells, as the AWS CLI's own
            // documentation writes filters.
            "CustomKeyStores[?ConnectionState==`CONNECTED`].CustomKeyStoreId",
        ] {
            // Timestamps are printed as the profile says before the query sees them.
            let iso = query.contains("CreationDate");
            for (vars, args) in [
                (&[][..], &[][..]),
                (&[], &["--max-items", "5", "--page-size", "3"]),
                (&[], &["--no-paginate"]),
                (&[("AWS_PROFILE", "iso")][..], &["--page-size", "7"][..]),
            ]
            .into_iter()
            .filter(|(vars, _)| iso || vars.is_empty())
            {
                compare(vars, &[args, &out[..], &["--query", query][..]].concat());
            }
        }
        // Python JMESPath's values: objects in their order (keys, merge, literals),
        // integers from ceil, floats as Python writes them, strings ordered with `>`, and
        // in text a list under a name a line per item, a structure in a scalar's place
        // as Python's str().
        for query in [
            "{Keys: keys(CustomKeyStores[0]), Merged: merge(`{\"b\": 1}`, {a: ceil(`1.5`)}), Small: `1e-7`, Big: `1e16`}",
            "CustomKeyStores[?CustomKeyStoreName > 'store-000017'].{Name: CustomKeyStoreName, X: XksProxyConfiguration}",
        ] {
            compare(&[], &[&out[..], &["--query", query][..]].concat());
        }
    }
    // A query that is not JMESPath is a parameter error before any call (252, as the
    // AWS CLI v2's ParamValidationError; v1 exits 255), and one that fails on the output
    // (here on the NextToken of --max-items, queried on its own in text, after the pages)
    // the general error, 255, after what was printed before it. (The messages are the
    // JMESPath implementations' own.)
    for (args, ours_exit) in [
        (&["--query", "CustomKeyStores["][..], 252),
        (
            &[
                "--query",
                "sort_by(CustomKeyStores, &CustomKeyStoreName)[0]",
                "--output",
                "text",
                "--max-items",
                "2",
            ],
            255,
        ),
    ] {
        let ours = kms_describe(home.path(), &ep, &[], args);
        let theirs = aws_describe(home.path(), &ep, &[], args);
        assert_eq!(theirs.0, 255, "{args:?}: {}", theirs.2);
        assert_eq!(
            (ours.0, &ours.1),
            (ours_exit, &theirs.1),
            "{args:?}: {} / {}",
            ours.2,
            theirs.2
        );
        if ours_exit == 252 {
            let said = "\nBad value for --query CustomKeyStores[: Invalid jmespath expression: ";
            assert!(
                ours.2.starts_with(said) && theirs.2.starts_with(said),
                "{}",
                ours.2
            );
        }
    }
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_and_error_wording() {
    let srv = start(0).await;
    let home = tempfile::tempdir().unwrap();
    let ep = srv.endpoint();

    // service error: 254 and the AWS CLI's sentence
    let mut c = kms(home.path());
    with_demo_env(&mut c, &ep);
    c.args([
        "describe-custom-key-stores",
        "--custom-key-store-name",
        "nope",
    ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 254, "{err}");
    assert!(out.is_empty());
    assert!(
        err.starts_with(
            "\nAn error occurred (CustomKeyStoreNotFoundException) when calling the DescribeCustomKeyStores operation: "
        ),
        "{err}"
    );

    // authorization
    let mut c = kms(home.path());
    with_demo_env(&mut c, &ep);
    c.env("AWS_ACCESS_KEY_ID", demo::DENIED_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", demo::DENIED_SECRET_ACCESS_KEY)
        .arg("describe-custom-key-stores");
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 254, "{err}");
    assert!(
        err.starts_with("\nAn error occurred (AccessDeniedException) when calling the DescribeCustomKeyStores operation: User: arn:aws:iam::111122223333:user/no-kms is not authorized"),
        "{err}"
    );

    // server-side validation (both filters)
    let mut c = kms(home.path());
    with_demo_env(&mut c, &ep);
    c.args([
        "describe-custom-key-stores",
        "--custom-key-store-name",
        "a",
        "--custom-key-store-id",
        "cks-1234567890abcdef0",
    ]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 254, "{err}");
    assert!(
        err.starts_with("\nAn error occurred (ValidationException)"),
        "{err}"
    );

    // parameter validation before sending, as botocore's (minimums only): 252
    for (args, expected) in [
        (
            &["--page-size", "0"][..],
            "Invalid value for parameter Limit, value: 0, valid min value: 1",
        ),
        (
            &["--limit", "-1"][..],
            "Invalid value for parameter Limit, value: -1, valid min value: 1",
        ),
        (
            &["--custom-key-store-name", "", "--marker", ""][..],
            "Invalid length for parameter CustomKeyStoreName, value: 0, valid min length: 1\n\
             Invalid length for parameter Marker, value: 0, valid min length: 1",
        ),
    ] {
        let (code, _, err) = kms_describe(home.path(), &ep, &[], args);
        assert_eq!(code, 252, "{err}");
        assert_eq!(err, format!("\nParameter validation failed:\n{expected}\n"));
    }
    // the maximums are the service's to check, as in the AWS CLI v2: 254
    let (code, _, err) = kms_describe(home.path(), &ep, &[], &["--page-size", "1001"]);
    assert_eq!(code, 254, "{err}");
    assert!(
        err.starts_with("\nAn error occurred (ValidationException)") && err.contains("1000"),
        "{err}"
    );
    // a negative number is a value, not an unknown option
    let (code, _, err) = kms_describe(home.path(), &ep, &[], &["--max-items", "-1"]);
    assert_eq!(code, 252, "{err}");
    assert!(
        err.contains("'-1'") && err.contains("--max-items") && !err.contains("unexpected"),
        "{err}"
    );

    // usage errors: 252
    for args in [
        &["describe-custom-key-stores", "--no-such-flag"][..],
        &["describe-custom-key-stores", "--output", "yaml"][..],
        &["describe-custom-key-stores", "--max-items", "0"][..],
        &["no-such-command"][..],
    ] {
        let mut c = kms(home.path());
        with_demo_env(&mut c, &ep);
        c.args(args);
        let (code, _, err) = run(&mut c);
        assert_eq!(code, 252, "{args:?}: {err}");
    }

    // configuration errors: 253, naming what to set
    let mut c = kms(home.path());
    c.env("AWS_REGION", "us-east-1")
        .args(["describe-custom-key-stores", "--endpoint-url", &ep]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 253, "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    let mut c = kms(home.path());
    c.env("AWS_ACCESS_KEY_ID", demo::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", demo::SECRET_ACCESS_KEY)
        .args(["describe-custom-key-stores", "--endpoint-url", &ep]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 253, "{err}");
    assert!(err.contains("AWS_REGION"), "{err}");
    let mut c = kms(home.path());
    with_demo_env(&mut c, &ep);
    c.args(["describe-custom-key-stores", "--profile", "missing"]);
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 253, "{err}");
    assert!(err.contains("'missing'"), "{err}");
    srv.shutdown().await;

    // nothing listening: 255
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let mut c = kms(home.path());
    with_demo_env(&mut c, &dead);
    c.env("AWS_MAX_ATTEMPTS", "1")
        .arg("describe-custom-key-stores");
    let (code, _, err) = run(&mut c);
    assert_eq!(code, 255, "{err}");
    // The cause is printed once, inline, before what to check.
    assert!(
        err.starts_with(&format!(
            "\ncould not reach {dead}: client error (Connect): tcp connect error: "
        )),
        "{err}"
    );
    assert_eq!(err.matches("Connection refused").count(), 1, "{err}");
    assert!(
        err.ends_with("; check the endpoint URL (--endpoint-url, AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL), the region and your network\n"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_flag_and_debug_output() {
    let srv = start(2).await;
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[local]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            demo::SESSION_ACCESS_KEY_ID,
            demo::SESSION_SECRET_ACCESS_KEY,
            demo::SESSION_TOKEN
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile local]\nregion = us-east-1\nendpoint_url = {}\n",
            srv.endpoint()
        ),
    )
    .unwrap();
    let mut c = kms(home.path());
    c.args([
        "describe-custom-key-stores",
        "--profile",
        "local",
        "--debug",
        "--max-items",
        "1",
    ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(store_ids(&v).len(), 1);
    assert!(v["NextToken"].is_string());
    assert!(
        err.contains("x-amz-target: TrentService.DescribeCustomKeyStores"),
        "{err}"
    );
    assert!(err.contains("Signature=****"), "{err}");
    assert!(err.contains("x-amz-security-token: ****"), "{err}");
    assert!(!err.contains(demo::SESSION_TOKEN), "{err}");
    assert!(!err.contains(demo::SESSION_SECRET_ACCESS_KEY), "{err}");
    srv.shutdown().await;
}

#[test]
fn help_explains_every_flag() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, _) = run(kms(home.path()).args(["describe-custom-key-stores", "--help"]));
    assert_eq!(code, 0);
    for flag in [
        "--custom-key-store-id",
        "--custom-key-store-name",
        "--page-size",
        "--limit",
        "--max-items",
        "--starting-token",
        "--no-paginate",
        "--endpoint-url",
        "--region",
        "--profile",
        "--output",
        "--debug",
    ] {
        assert!(out.contains(flag), "{flag} missing from:\n{out}");
    }
    // the AWS CLI's `help` word
    let (code, help_word, err) =
        run(kms(home.path()).args(["describe-custom-key-stores", "--output", "text", "help"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(help_word, out);
    let (code, out, _) = run(kms(home.path()).arg("--help"));
    assert_eq!(code, 0);
    assert!(
        out.contains("describe-custom-key-stores") && out.contains("254"),
        "{out}"
    );
    // No subcommand: the help, on stderr, as a usage error.
    let (code, out, err) = run(&mut kms(home.path()));
    assert_eq!(code, 252, "{err}");
    assert!(
        out.is_empty() && err.contains("describe-custom-key-stores"),
        "{err}"
    );
}

/// `ALL_PROXY` (curl's, often `socks5://` for an SSH tunnel) is not read, as the AWS CLI
/// does not read it (botocore takes the proxy of the endpoint's scheme alone): kms
/// refused a socks5 one (253) and sent calls to an http one, where `aws` called the
/// endpoint directly.
#[tokio::test(flavor = "multi_thread")]
async fn all_proxy_is_ignored_as_the_aws_cli_ignores_it() {
    let srv = start(0).await;
    let home = tempfile::tempdir().unwrap();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for (name, proxy) in [
        ("ALL_PROXY", "socks5://127.0.0.1:1080"),
        ("all_proxy", closed.as_str()),
        ("ALL_PROXY", closed.as_str()),
    ] {
        let (code, out, err) = kms_describe(
            home.path(),
            &srv.endpoint(),
            &[(name, proxy), ("AWS_MAX_ATTEMPTS", "1")],
            &["--query", "length(CustomKeyStores)"],
        );
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, "12\n", ""),
            "{name}={proxy}"
        );
    }
}

/// `--max-items` of any size is "all of them", as the AWS CLI's Python `int` reads it:
/// kms refused one beyond `i64::MAX` as a usage error (252), "number too large to fit
/// in target type".
#[tokio::test(flavor = "multi_thread")]
async fn a_max_items_beyond_64_bits_takes_every_store() {
    let srv = start(0).await;
    let home = tempfile::tempdir().unwrap();
    for n in ["9223372036854775808", "99999999999999999999", "+7"] {
        let (code, out, err) = kms_describe(
            home.path(),
            &srv.endpoint(),
            &[],
            &["--max-items", n, "--query", "length(CustomKeyStores)"],
        );
        let expected = if n == "+7" { "7\n" } else { "12\n" };
        assert_eq!((code, out.as_str(), err.as_str()), (0, expected, ""), "{n}");
    }
    for n in ["0", "00", "-1", "1e3", "", "-99999999999999999999"] {
        let (code, _, err) = kms_describe(home.path(), &srv.endpoint(), &[], &["--max-items", n]);
        assert_eq!(code, 252, "{n}: {err}");
        assert!(
            err.contains(&format!("invalid value '{n}' for '--max-items <N>'")),
            "{err}"
        );
    }
}

/// An endpoint URL that is not one exits 255, as the AWS CLI exits for it ("Bad value
/// for --endpoint-url", "Invalid endpoint"), from the option as from the environment;
/// other configuration errors stay 253.
#[test]
fn an_endpoint_url_that_is_not_one_exits_255_as_in_the_aws_cli() {
    let home = tempfile::tempdir().unwrap();
    for bad in ["foo", "ftp://example.com", "http://127.0.0.1:1/?q=1"] {
        let from_option = kms_describe(
            home.path(),
            "http://127.0.0.1:1",
            &[],
            &["--endpoint-url", bad],
        );
        let from_environment = kms_describe(home.path(), bad, &[], &[]);
        for ((code, out, err), origin) in [
            (from_option, "--endpoint-url"),
            (from_environment, "AWS_ENDPOINT_URL"),
        ] {
            assert_eq!(code, 255, "{bad} from {origin}: {err}");
            assert!(out.is_empty(), "{out}");
            assert!(
                err.contains("invalid endpoint URL") && err.contains(origin),
                "{bad} from {origin}: {err}"
            );
        }
    }
    let (code, _, err) = kms_describe(
        home.path(),
        "http://127.0.0.1:1",
        &[],
        &["--profile", "missing"],
    );
    assert_eq!(code, 253, "{err}");
    if common::aws_cli_available() {
        for bad in ["foo", "ftp://example.com"] {
            let (code, _, err) = aws_describe(home.path(), bad, &[], &[]);
            assert_eq!(code, 255, "aws with --endpoint-url {bad}: {err}");
        }
    }
}
