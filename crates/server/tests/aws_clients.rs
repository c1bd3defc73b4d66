//! The AWS CLI and boto3 against the `kms-server` binary, called the way its start-up
//! banner tells users to: the banner's `export` line run by a shell, its boto3 line run by
//! Python — over HTTP, and over HTTPS with the certificate `--tls-self-signed` makes
//! (the banner then exports `AWS_CA_BUNDLE` and passes boto3 `verify`).
//!
//! Last, the pytest example teams copy (`examples/pytest`) runs against the binary.
//!
//! The tools come from PyPI (`python3 -m pip install boto3 awscli pytest`). Without them
//! the tests say so and pass, unless `KMS_REQUIRE_AWS_CLIENTS` is set (CI sets it), which
//! turns a missing tool into a failure.

mod common;

use std::process::{Command, Output, Stdio};

use kms_server::demo;
use kms_server::store::Owner;

/// The running binary and what its banner printed.
struct Banner {
    endpoint: String,
    /// The `export AWS_ACCESS_KEY_ID=...` line, as printed.
    exports: String,
    /// The AWS CLI command line, as printed.
    cli: String,
    /// The boto3 expression, as printed.
    boto3: String,
    _printed: common::PrintedBanner,
}

/// The binary over plain HTTP, or over HTTPS with a certificate made at start, with
/// `args` besides.
fn start_binary(https: bool, args: &[&str]) -> Banner {
    let printed = common::print_banner(https, args);
    Banner {
        endpoint: printed.endpoint.clone(),
        exports: printed.line("export AWS_ACCESS_KEY_ID="),
        cli: printed.line("aws --endpoint-url"),
        boto3: printed.line("boto3.client("),
        _printed: printed,
    }
}

/// Whether the tool answered; a missing tool fails only when CI requires it.
fn available(what: &str, probe: &mut Command) -> bool {
    let ok = probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("KMS_REQUIRE_AWS_CLIENTS").is_none(),
            "{what} is required (KMS_REQUIRE_AWS_CLIENTS is set): python3 -m pip install boto3 awscli pytest"
        );
        eprintln!("skipped: {what} is not installed (python3 -m pip install boto3 awscli pytest)");
    }
    ok
}

/// Runs `tail` after the banner's `export` line in `sh`.
fn cli(banner: &Banner, tail: &str) -> Output {
    common::isolated("sh")
        .arg("-c")
        .arg(format!("{}\n{tail}", banner.exports))
        .output()
        .expect("sh runs")
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

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn the_aws_cli_works_with_the_printed_environment() {
    the_aws_cli_works(false);
}

#[test]
fn the_aws_cli_works_over_https_with_the_printed_environment() {
    the_aws_cli_works(true);
}

fn the_aws_cli_works(https: bool) {
    if !available("the AWS CLI", common::isolated("aws").arg("--version")) {
        return;
    }
    let banner = start_binary(https, &[]);
    assert_eq!(
        banner.endpoint.starts_with("https://"),
        https,
        "{}",
        banner.endpoint
    );
    assert_eq!(
        banner.exports.contains("AWS_CA_BUNDLE="),
        https,
        "{}",
        banner.exports
    );
    let expected = demo_ids();
    assert!(expected.len() > 2, "the demo has stores to page through");

    // The printed command as printed; the CLI pages through everything by itself.
    let all = json(&cli(&banner, &format!("{} --output json", banner.cli)));
    let ids: Vec<&str> = all["CustomKeyStores"]
        .as_array()
        .expect("CustomKeyStores")
        .iter()
        .map(|s| s["CustomKeyStoreId"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids, expected);

    // Small pages: the CLI follows NextMarker through the server's markers.
    let paged = json(&cli(
        &banner,
        &format!("{} --page-size 2 --output json", banner.cli),
    ));
    assert_eq!(paged, all);

    // A modeled error reaches the CLI with its code and message.
    let missing = cli(
        &banner,
        &format!("{} --custom-key-store-name no-such-store", banner.cli),
    );
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("CustomKeyStoreNotFoundException"),
        "stderr: {stderr}"
    );

    // A wrong secret is refused like KMS refuses it.
    let forged = cli(
        &banner,
        &format!(
            "AWS_SECRET_ACCESS_KEY=not-the-secret-key-of-the-demo-account-00 {}",
            banner.cli
        ),
    );
    assert!(!forged.status.success());
    let stderr = String::from_utf8_lossy(&forged.stderr);
    assert!(
        stderr.contains("InvalidSignatureException"),
        "stderr: {stderr}"
    );
}

#[test]
fn boto3_works_with_the_printed_client() {
    boto3_works(false);
}

#[test]
fn boto3_works_over_https_with_the_printed_client() {
    boto3_works(true);
}

fn boto3_works(https: bool) {
    if !available(
        "boto3",
        common::isolated("python3").args(["-c", "import boto3"]),
    ) {
        return;
    }
    let banner = start_binary(https, &[]);
    assert_eq!(banner.boto3.contains("verify="), https, "{}", banner.boto3);
    let script = format!(
        r#"
import json
import boto3, botocore
kms = {client}
out = {{"first": [s["CustomKeyStoreId"] for s in kms.describe_custom_key_stores()["CustomKeyStores"]]}}
paged = []
for page in kms.get_paginator("describe_custom_key_stores").paginate(PaginationConfig={{"PageSize": 2}}):
    paged += [s["CustomKeyStoreId"] for s in page["CustomKeyStores"]]
out["paged"] = paged
try:
    kms.describe_custom_key_stores(CustomKeyStoreName="no-such-store")
except botocore.exceptions.ClientError as e:
    out["error"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
# A request that carries a Date header: botocore then signs with it (an HTTP date) and
# sends no X-Amz-Date.
def dated(request, **kwargs):
    request.headers["Date"] = "set by the test"
kms.meta.events.register("before-sign.kms.DescribeCustomKeyStores", dated)
out["dated"] = [s["CustomKeyStoreId"] for s in kms.describe_custom_key_stores()["CustomKeyStores"]]
print(json.dumps(out))
"#,
        client = banner
            .boto3
            .trim_end_matches(".describe_custom_key_stores()")
    );
    let output = common::isolated("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    let out = json(&output);
    let expected = serde_json::json!(demo_ids());
    assert_eq!(out["first"], expected, "endpoint {}", banner.endpoint);
    assert_eq!(out["paged"], expected);
    assert_eq!(
        out["error"],
        serde_json::json!(["CustomKeyStoreNotFoundException", 400])
    );
    assert_eq!(out["dated"], expected);
}

/// A boto3 test suite's setup over HTTP (`--admin`), as crates/server/README.md shows it:
/// its own stores for one test, every call throttled for the next (boto3 gives up after
/// its retries), then the server as it started.
#[test]
fn a_boto3_suite_sets_stores_and_faults_over_http() {
    if !available(
        "boto3",
        common::isolated("python3").args(["-c", "import boto3"]),
    ) {
        return;
    }
    let banner = start_binary(false, &["--admin"]);
    let script = format!(
        r#"
import json, urllib.request
import boto3, botocore
from botocore.config import Config

ENDPOINT = "{endpoint}"

def kms_server(path, body=None, method="PUT"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{{ENDPOINT}}/_kms-server/{{path}}", data=data, method=method)
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)

kms = {client}
ids = lambda: [s["CustomKeyStoreId"] for s in kms.describe_custom_key_stores()["CustomKeyStores"]]
out = {{}}
out["put"] = kms_server("stores", {{"Stores": [{{"AccountId": "111122223333", "Region": "us-east-1",
    "CustomKeyStores": [{{"CustomKeyStoreId": "cks-0000000000000000a", "CustomKeyStoreName": "suite",
        "CustomKeyStoreType": "AWS_CLOUDHSM", "CloudHsmClusterId": "cluster-234567abcde",
        "TrustAnchorCertificate": "cert", "ConnectionState": "DISCONNECTED"}}]}}]}})
out["own"] = ids()
out["faults"] = kms_server("faults", {{"FailRate": 1, "FailWith": ["ThrottlingException"]}})
kms_server("requests", method="DELETE")
impatient = {client_head}, config=Config(retries={{"mode": "standard", "max_attempts": 2}}))
try:
    impatient.describe_custom_key_stores(Limit=5)
except botocore.exceptions.ClientError as e:
    out["throttled"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["RetryAttempts"]]
out["requests"] = [[r["Operation"], r["Input"], r["ErrorCode"]] for r in kms_server("requests", method="GET")["Requests"]]
# Two throttled calls, then success: botocore's third attempt gets the stores.
kms_server("faults", {{"FailRate": 0, "FailFirst": 2, "FailWith": ["ThrottlingException"]}})
kms_server("requests", method="DELETE")
patient = {client_head}, config=Config(retries={{"mode": "standard", "max_attempts": 3}}))
page = patient.describe_custom_key_stores()
out["retried"] = [len(page["CustomKeyStores"]), page["ResponseMetadata"]["RetryAttempts"]]
attempts = kms_server("requests", method="GET")["Requests"]
attempt = lambda r: [p for p in r["SdkRequest"].split("; ") if p.startswith("attempt=")]
out["attempts"] = [[r.get("ErrorCode"), r.get("Injected")] + attempt(r) for r in attempts]
out["one_call"] = len({{r["SdkInvocationId"] for r in attempts}})
out["reset"] = kms_server("reset", method="POST")
out["after"] = ids()
print(json.dumps(out))
"#,
        endpoint = banner.endpoint,
        client = banner
            .boto3
            .trim_end_matches(".describe_custom_key_stores()"),
        client_head = banner
            .boto3
            .trim_end_matches(".describe_custom_key_stores()")
            .trim_end_matches(')'),
    );
    let output = common::isolated("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    let out = json(&output);
    assert_eq!(out["put"], serde_json::json!({"StoreCount": 1}));
    assert_eq!(out["own"], serde_json::json!(["cks-0000000000000000a"]));
    assert_eq!(
        out["faults"],
        serde_json::json!({"FailRate": 1.0, "FailFirst": 0, "FailWith": ["ThrottlingException"], "LatencyMs": 0})
    );
    // Retried (how often is botocore's business), then given up.
    assert_eq!(out["throttled"][0], "ThrottlingException", "{out}");
    assert!(out["throttled"][1].as_u64() >= Some(1), "{out}");
    // The journal has each attempt: the first and botocore's retries.
    let attempt = serde_json::json!([
        "DescribeCustomKeyStores",
        {"Limit": 5},
        "ThrottlingException"
    ]);
    let retries = out["throttled"][1].as_u64().unwrap() as usize;
    assert_eq!(
        out["requests"],
        serde_json::json!(vec![attempt; retries + 1]),
        "{out}"
    );
    assert_eq!(out["retried"], serde_json::json!([1, 2]), "{out}");
    // botocore's attempts of one call share its invocation id.
    assert_eq!(out["one_call"], 1, "{out}");
    assert_eq!(
        out["attempts"],
        serde_json::json!([
            ["ThrottlingException", true, "attempt=1"],
            ["ThrottlingException", true, "attempt=2"],
            [null, null, "attempt=3"]
        ]),
        "{out}"
    );
    assert_eq!(out["reset"], serde_json::json!({"StoreCount": 15}));
    assert_eq!(out["after"], serde_json::json!(demo_ids()));
}

/// `python3 -m pytest` as the example's tests run it: pytest and boto3 installed (else
/// `None`, see [`available`]), no AWS or server settings of the caller's, a proxy in the
/// environment (a CI machine's) that takes no connection, no bytecode or cache left in the
/// source tree, and none of the caller's pytest options.
fn pytest() -> Option<Command> {
    if !available(
        "pytest and boto3",
        common::isolated("python3").args(["-c", "import boto3, pytest"]),
    ) {
        return None;
    }
    let mut pytest = common::isolated("python3");
    for name in common::SERVER_ENV {
        pytest.env_remove(name);
    }
    // The example reaches its server without the proxy, as it must where teams run it.
    for name in ["NO_PROXY", "no_proxy"] {
        pytest.env_remove(name);
    }
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
        pytest.env(name, "http://127.0.0.1:9");
    }
    pytest
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTEST_ADDOPTS")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]);
    Some(pytest)
}

/// The pytest example teams copy (`examples/pytest`: conftest.py's fixtures, the tests of
/// test_example.py) passes against this binary, which its fixture starts on 127.0.0.1:0,
/// with a proxy in the environment.
#[test]
fn the_pytest_example_passes() {
    let Some(mut pytest) = pytest() else {
        return;
    };
    let output = pytest
        .env("KMS_SERVER", env!("CARGO_BIN_EXE_kms-server"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pytest"))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(" passed"),
        "pytest failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A server that never prints its banner (hung before listening) fails the example's
/// session after conftest.py's `START_SECONDS`, naming the setting, and is stopped: the
/// fixture used to wait on the banner's pipe for ever.
#[test]
fn the_pytest_example_gives_up_on_a_server_without_a_banner() {
    let Some(mut pytest) = pytest() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pytest");
    for file in ["conftest.py", "test_example.py", "stores.json"] {
        let text = std::fs::read_to_string(example.join(file)).unwrap();
        let text = if file == "conftest.py" {
            assert!(text.contains("\nSTART_SECONDS = 60\n"), "{text}");
            text.replace("\nSTART_SECONDS = 60\n", "\nSTART_SECONDS = 1\n")
        } else {
            text
        };
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    // Stands for kms-server: says its pid, then waits without a banner.
    let hung = dir.path().join("hung-server");
    let pid_file = dir.path().join("hung-server.pid");
    std::fs::write(
        &hung,
        format!(
            "#!/bin/sh\necho $$ > '{}'\nexec sleep 600\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hung, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut child = pytest
        .env("KMS_SERVER", &hung)
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    // Without the fixture's limit pytest waits as long as the stand-in sleeps: stop it
    // well before that and fail, rather than hang the suite.
    let mut waited = 0;
    while child.try_wait().unwrap().is_none() {
        if waited == 120 {
            child.kill().unwrap();
            let _ = child.wait();
            if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
            panic!("pytest still waits for the banner after 120 s");
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        waited += 1;
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success()
            && stdout
                .contains("kms-server printed no banner within 1 s (START_SECONDS in conftest.py)"),
        "pytest ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // The fixture stopped the stand-in (and reaped it).
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "the stand-in server {} still runs",
        pid.trim()
    );
}
