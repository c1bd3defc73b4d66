//! The AWS SDK for JavaScript v3 (`@aws-sdk/client-kms`) against the `kms-server`
//! binary, as a Node test suite calls it: `tests/js/describe.mjs` run by `node` with the
//! environment the banner prints (its `export` line, plus `AWS_ENDPOINT_URL_KMS`), over HTTP
//! with `--admin` (pagination, modeled errors as their classes, signature errors, retries
//! with `FailFirst`, the request journal, a request timeout) and over HTTPS with
//! `--tls-self-signed` (the CA given to the SDK's HTTP handler, and through
//! `NODE_EXTRA_CA_CERTS`), and with a role profile and the endpoint given to every service
//! (`AWS_ENDPOINT_URL`: STS's `AssumeRole` asked of kms-server, whose answer the SDK reports).
//!
//! The SDK is pinned in `tests/js/package.json` (and `package-lock.json`) and installed
//! next to the script: `npm ci --prefix crates/server/tests/js`. Without node or the
//! installed SDK the tests say so and pass, unless `KMS_REQUIRE_AWS_CLIENTS` is set or
//! `CI` is (`.ci/run` sets the first, CI services the second), which turns their absence
//! into a failure.

mod common;

use std::path::PathBuf;
use std::process::{Output, Stdio};

use kms_server::demo;
use kms_server::store::Owner;
use serde_json::{Value, json};

/// Where the script, its package.json and the installed SDK are.
fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Whether a missing node or SDK must fail the test rather than skip it.
fn required() -> bool {
    std::env::var_os("KMS_REQUIRE_AWS_CLIENTS").is_some()
        || std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn version_in(package_json: &PathBuf) -> Option<String> {
    let text = std::fs::read_to_string(package_json).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value["version"].as_str().map(str::to_owned)
}

/// The `@aws-sdk/client-kms` version `package.json` pins.
fn pinned() -> String {
    let text = std::fs::read_to_string(js_dir().join("package.json")).expect("package.json");
    let value: Value = serde_json::from_str(&text).expect("package.json is JSON");
    value["dependencies"]["@aws-sdk/client-kms"]
        .as_str()
        .expect("package.json pins @aws-sdk/client-kms")
        .to_owned()
}

/// Whether node and the pinned SDK are installed; their absence fails only when
/// [`required`].
fn available() -> bool {
    let install = "npm ci --prefix crates/server/tests/js";
    let node = common::isolated("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let installed = version_in(&js_dir().join("node_modules/@aws-sdk/client-kms/package.json"));
    let missing = match (node, installed) {
        (false, _) => "node".to_owned(),
        (true, None) => format!("@aws-sdk/client-kms in {}", js_dir().display()),
        (true, Some(version)) => {
            // An install of another version is not the one pinned: refuse it, required or not.
            assert_eq!(
                version,
                pinned(),
                "the installed @aws-sdk/client-kms is not the pinned one: {install}"
            );
            return true;
        }
    };
    assert!(
        !required(),
        "{missing} is required (KMS_REQUIRE_AWS_CLIENTS or CI is set): {install}"
    );
    eprintln!("skipped: {missing} is not installed ({install})");
    false
}

/// The running binary and what its banner printed.
struct Banner {
    endpoint: String,
    /// The `export AWS_ACCESS_KEY_ID=...` line, as printed.
    exports: String,
    _printed: common::PrintedBanner,
}

fn start_binary(https: bool, args: &[&str]) -> Banner {
    let printed = common::print_banner(https, args);
    Banner {
        endpoint: printed.endpoint.clone(),
        exports: printed.line("export AWS_ACCESS_KEY_ID="),
        _printed: printed,
    }
}

/// Runs `describe.mjs MODE` with the banner's environment; `before` runs in the shell
/// first, after the `export` line.
fn node(banner: &Banner, mode: &str, before: &str) -> Value {
    let output: Output = common::isolated("sh")
        .arg("-c")
        .arg(format!(
            "{}\n{before}\nAWS_ENDPOINT_URL_KMS={} exec node describe.mjs {mode}",
            banner.exports, banner.endpoint
        ))
        .current_dir(js_dir())
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "node describe.mjs {mode} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: not JSON on stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    // What ran is the pinned SDK.
    assert_eq!(out["sdk"], json!(pinned()), "{out}");
    out
}

/// The ids of the demo stores that the demo key sees (its account, the default region).
fn demo_ids() -> Vec<String> {
    let owner = Owner::new(demo::ACCOUNT_ID, demo::REGION);
    demo::all_stores()
        .into_iter()
        .filter(|(o, _)| *o == owner)
        .filter_map(|(_, store)| store.custom_key_store_id)
        .collect()
}

/// `error` as `caught` in describe.mjs reports it: its name, whether it is a
/// KMSServiceException, the modeled class it is an instance of, status, fault and attempts.
fn assert_error(error: &Value, name: &str, class: Option<&str>, status: u64, attempts: u64) {
    assert_eq!(error["name"], name, "{error}");
    assert_eq!(error["kms"], true, "{error}");
    for member in ["notFound", "invalidMarker", "internal"] {
        assert_eq!(error[member], class == Some(member), "{member}: {error}");
    }
    assert_eq!(error["status"], status, "{error}");
    let fault = if status >= 500 { "server" } else { "client" };
    assert_eq!(error["fault"], fault, "{error}");
    assert_eq!(error["attempts"], attempts, "{error}");
    assert!(error["requestId"].is_string(), "{error}");
}

#[test]
fn the_js_sdk_pages_retries_and_gets_kms_errors() {
    if !available() {
        return;
    }
    let banner = start_binary(false, &["--admin"]);
    let out = node(&banner, "http", "");
    let ids = demo_ids();
    assert!(ids.len() > 5, "the demo has stores to page through");

    assert_eq!(
        out["plain"],
        json!({"ids": ids, "truncated": false, "marker": null})
    );
    // Epoch seconds with a fraction, read as a Date.
    assert_eq!(out["creationDate"], "2019-02-25T21:13:27.775Z");
    assert_eq!(
        out["manual"],
        json!([ids[0..2], true, ids[2..4], true]),
        "{out}"
    );
    assert_eq!(
        out["paged"],
        json!({"pages": ids.len().div_ceil(5), "ids": ids})
    );
    assert_eq!(out["byId"], json!(["cks-1234567890abcdef6"]));
    assert_eq!(out["byName"], json!(["cks-1234567890abcdef0"]));

    // Modeled errors: instances of their classes, with KMS's status and message.
    assert_error(
        &out["notFound"],
        "CustomKeyStoreNotFoundException",
        Some("notFound"),
        400,
        1,
    );
    assert_eq!(
        out["notFound"]["message"],
        "No custom key store with name 'no-such-store' exists in account 111122223333 in us-east-1."
    );
    for marker in ["invalidMarker", "foreignMarker"] {
        assert_error(
            &out[marker],
            "InvalidMarkerException",
            Some("invalidMarker"),
            400,
            1,
        );
    }
    // Errors outside the model: KMSServiceException named by the wire code, not retried.
    assert_error(&out["validation"], "ValidationException", None, 400, 1);
    assert_eq!(
        out["validation"]["message"],
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
    assert_error(&out["both"], "ValidationException", None, 400, 1);
    assert_error(
        &out["wrongSecret"],
        "InvalidSignatureException",
        None,
        400,
        1,
    );
    assert!(
        out["wrongSecret"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("The request signature we calculated does not match")),
        "{out}"
    );
    assert_error(
        &out["wrongRegion"],
        "InvalidSignatureException",
        None,
        400,
        1,
    );
    assert!(
        out["wrongRegion"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'eu-west-1'")),
        "{out}"
    );
    assert_error(
        &out["sessionWithoutToken"],
        "UnrecognizedClientException",
        None,
        400,
        1,
    );

    // FailFirst 2: throttled twice, answered on the SDK's third attempt, one invocation.
    assert_eq!(out["retried"], json!({"ids": ids, "attempts": 3}), "{out}");
    assert_eq!(
        out["retriedJournal"],
        json!([
            ["ThrottlingException", true, "attempt=1; max=3"],
            ["ThrottlingException", true, "attempt=2; max=3"],
            [null, null, "attempt=3; max=3"]
        ]),
        "{out}"
    );
    assert_eq!(out["retriedInvocations"], 1, "{out}");
    // KMSInternalException every time: retried, then given up after maxAttempts.
    assert_error(
        &out["internal"],
        "KMSInternalException",
        Some("internal"),
        500,
        2,
    );
    assert_eq!(
        out["internalJournal"],
        json!([
            [500, "KMSInternalException", "attempt=1; max=2"],
            [500, "KMSInternalException", "attempt=2; max=2"]
        ]),
        "{out}"
    );
    // A latency beyond the SDK's request timeout: its TimeoutError, no KMS error.
    assert_eq!(out["timeout"]["name"], "TimeoutError", "{out}");
    assert_eq!(out["timeout"]["kms"], false, "{out}");
    assert_eq!(out["reset"], json!({"StoreCount": 15}));
    assert_eq!(out["after"], json!(ids));
}

#[test]
fn the_js_sdk_works_over_https_with_the_printed_environment() {
    if !available() {
        return;
    }
    let banner = start_binary(true, &[]);
    assert!(
        banner.endpoint.starts_with("https://"),
        "{}",
        banner.endpoint
    );
    let ids = demo_ids();
    let out = node(&banner, "https", "");
    // The CA given to the SDK's HTTP handler, and the environment's NODE_EXTRA_CA_CERTS.
    assert_eq!(out["explicit"], json!(ids), "{out}");
    assert_eq!(out["environment"], json!(ids), "{out}");
    assert_eq!(
        out["paged"],
        json!({"pages": ids.len().div_ceil(5), "ids": ids})
    );
    assert_error(
        &out["notFound"],
        "CustomKeyStoreNotFoundException",
        Some("notFound"),
        400,
        1,
    );
    // Without the CA, Node refuses the certificate: the environment is what trusts it.
    let out = node(&banner, "untrusted", "unset NODE_EXTRA_CA_CERTS");
    assert_eq!(
        out["untrusted"]["code"], "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        "{out}"
    );
    assert_eq!(out["untrusted"]["kms"], false, "{out}");
}

/// With the endpoint given to every service (`AWS_ENDPOINT_URL`) and a profile that assumes
/// a role, the SDK asks kms-server for STS's `AssumeRole`: what it reports is kms-server's
/// answer, read as the query protocol's XML error (given awsJson's JSON, it reported only
/// `@aws-sdk XML parse error: unexpected content.`).
#[test]
fn the_js_sdk_reports_why_a_global_endpoint_fails_a_role_profile() {
    if !available() {
        return;
    }
    let banner = start_binary(false, &[]);
    let out = node(&banner, "global", "");
    let error = &out["assumeRole"];
    assert_eq!(error["name"], "UnknownOperationException", "{out}");
    assert_eq!(error["kms"], false, "STS's error, not KMS's: {out}");
    assert_eq!(error["status"], 400, "{out}");
    assert!(
        error["message"].as_str().is_some_and(|m| m
            .starts_with("Missing X-Amz-Target header: this request is of AWS's query protocol")
            && m.contains("AWS_ENDPOINT_URL_KMS")),
        "{out}"
    );
    assert!(error["requestId"].is_string(), "{out}");
}
