//! Credentials that are fetched, not configured: roles assumed with STS (a profile's
//! `role_arn`, a web identity token), EC2 instance metadata, the container endpoint and
//! a profile's `credential_process`, each signing real calls to kms-server. STS and the
//! metadata and container endpoints are played by a scripted HTTP server on 127.0.0.1;
//! nothing leaves loopback.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Received as Seen, Scripted as Endpoint, form};
use kms_client::{Client, Config, CredentialsSource, Error, Overrides, Timeouts};
use kms_server::{RunningServer, ServerConfig, demo};
use kms_types::Timestamp;

/// The demo session credentials as the metadata and container endpoints write them,
/// expiring `secs` from now.
fn session_json(secs: i64) -> String {
    let expiration = Timestamp::from_secs(Timestamp::now().secs() + secs).to_rfc3339();
    format!(
        r#"{{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","Expiration":"{expiration}"}}"#,
        demo::SESSION_ACCESS_KEY_ID,
        demo::SESSION_SECRET_ACCESS_KEY,
        demo::SESSION_TOKEN
    )
}

/// A scripted IMDSv2 for role `demo-role` whose credentials expire `secs` from now.
fn imds(secs: i64) -> impl Fn(&Seen, usize) -> Option<(u16, String)> + Send + Sync + 'static {
    move |r: &Seen, _| {
        Some(match (r.method.as_str(), r.path.as_str()) {
            ("PUT", "/latest/api/token") => (200, "TOKEN-1".to_owned()),
            (_, _)
                if r.headers
                    .get("x-aws-ec2-metadata-token")
                    .map(String::as_str)
                    != Some("TOKEN-1") =>
            {
                (401, String::new())
            }
            ("GET", "/latest/meta-data/iam/security-credentials/") => {
                (200, "demo-role\n".to_owned())
            }
            ("GET", "/latest/meta-data/iam/security-credentials/demo-role") => {
                (200, session_json(secs))
            }
            _ => (404, String::new()),
        })
    }
}

async fn kms_server() -> RunningServer {
    kms_server::serve(ServerConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// A configuration from these variables only (a fake HOME without files).
fn config(home: &Path, vars: &[(&str, &str)]) -> Config {
    common::config_from(home, vars, &Overrides::default())
}

async fn call(client: &Client) -> Result<usize, Error> {
    let page = client.describe_custom_key_stores().send().await?;
    Ok(page.custom_key_stores.unwrap_or_default().len())
}

fn credentials_error(result: Result<usize, Error>) -> String {
    match result {
        Err(Error::Credentials(e)) => e.to_string(),
        other => panic!("expected a credentials error, got {other:?}"),
    }
}

#[tokio::test]
async fn instance_metadata_credentials_sign_calls_and_are_cached_until_near_expiry() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();

    // Valid for an hour: fetched once for three calls, with an IMDSv2 session token.
    let metadata = Endpoint::start(imds(3600)).await;
    let cfg = config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &server.endpoint()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url),
        ],
    );
    assert!(matches!(
        cfg.credentials,
        CredentialsSource::InstanceMetadata(_)
    ));
    let debug = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&debug);
    let client = Client::new(cfg).with_debug_sink(Arc::new(move |text: &str| {
        sink.lock().unwrap().push_str(text)
    }));
    for _ in 0..3 {
        assert!(call(&client).await.unwrap() >= 3);
    }
    let debug = debug.lock().unwrap().clone();
    let fetched: Vec<&str> = debug
        .lines()
        .filter(|l| l.starts_with("DEBUG credentials:"))
        .collect();
    assert_eq!(fetched.len(), 1, "{debug}");
    assert!(
        fetched[0].starts_with(&format!(
            "DEBUG credentials: access key {} from EC2 instance metadata at {}, expiring ",
            demo::SESSION_ACCESS_KEY_ID,
            metadata.url
        )),
        "{debug}"
    );
    let seen = metadata.seen();
    let paths: Vec<_> = seen
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/demo-role"
        ]
    );
    assert_eq!(
        seen[0]
            .headers
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .map(String::as_str),
        Some("21600")
    );

    // Expiring within five minutes: fetched again at every call.
    let metadata = Endpoint::start(imds(120)).await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &server.endpoint()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url),
        ],
    ));
    call(&client).await.unwrap();
    call(&client).await.unwrap();
    assert_eq!(metadata.seen().len(), 6);
    server.shutdown().await;
}

#[tokio::test]
async fn instance_metadata_v1_fallback_retries_and_failures() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let endpoint = server.endpoint();

    // The token request refused: IMDSv1, without a token, unless turned off.
    let v1_only = || {
        Endpoint::start(|r: &Seen, _| {
            Some(match (r.method.as_str(), r.path.as_str()) {
                ("PUT", _) => (403, String::new()),
                (_, "/latest/meta-data/iam/security-credentials/") => (200, "demo-role".into()),
                (_, "/latest/meta-data/iam/security-credentials/demo-role") => {
                    (200, session_json(3600))
                }
                _ => (404, String::new()),
            })
        })
    };
    let metadata = v1_only().await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url),
        ],
    ));
    call(&client).await.unwrap();
    assert!(
        metadata.seen()[1..]
            .iter()
            .all(|r| !r.headers.contains_key("x-aws-ec2-metadata-token"))
    );
    let metadata = v1_only().await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url),
            ("AWS_EC2_METADATA_V1_DISABLED", "true"),
        ],
    ));
    let e = credentials_error(call(&client).await);
    assert!(
        e.contains("HTTP 403") && e.contains("AWS_EC2_METADATA_V1_DISABLED"),
        "{e}"
    );

    // A 500 then an answer: with two attempts, the second one is used.
    let flaky = imds(3600);
    let metadata = Endpoint::start(move |r: &Seen, i| {
        if i == 0 {
            Some((500, String::new()))
        } else {
            flaky(r, i)
        }
    })
    .await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url),
            ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2"),
        ],
    ));
    call(&client).await.unwrap();
    assert_eq!(metadata.seen().len(), 4);

    // No role, a role whose credentials are not there, an answer that is not JSON.
    for (script, expected) in [
        (
            Box::new(|r: &Seen, _: usize| {
                Some(if r.method == "PUT" {
                    (200u16, "T".to_owned())
                } else {
                    (404, String::new())
                })
            }) as Box<dyn Fn(&Seen, usize) -> Option<(u16, String)> + Send + Sync>,
            "the instance has no IAM role",
        ),
        (
            Box::new(|r: &Seen, _| {
                Some(match r.path.as_str() {
                    "/latest/api/token" => (200, "T".into()),
                    "/latest/meta-data/iam/security-credentials/" => (200, "r".into()),
                    _ => (
                        200,
                        r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"denied"}"#.into(),
                    ),
                })
            }),
            "not available: AssumeRoleUnauthorizedAccess (denied)",
        ),
        (
            Box::new(|r: &Seen, _| {
                Some(match r.path.as_str() {
                    "/latest/api/token" => (200, "T".into()),
                    "/latest/meta-data/iam/security-credentials/" => (200, "r".into()),
                    _ => (200, "<html>".into()),
                })
            }),
            "the credentials of role r are not JSON",
        ),
    ] {
        let metadata = Endpoint::start(script).await;
        let client = Client::new(config(
            home.path(),
            &[
                ("AWS_ENDPOINT_URL", &endpoint),
                ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url),
            ],
        ));
        let e = credentials_error(call(&client).await);
        assert!(e.contains(expected), "{e}");
        assert!(
            e.starts_with(
                "cannot get AWS credentials from EC2 instance metadata at http://127.0.0.1:"
            ),
            "{e}"
        );
    }

    // Nothing listening (not an EC2 instance): what to set instead.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &dead),
        ],
    ));
    let e = credentials_error(call(&client).await);
    assert!(
        e.contains("cannot connect") && e.contains("AWS_EC2_METADATA_DISABLED=true"),
        "{e}"
    );

    // Accepted but never answered: the metadata timeout, not a hang.
    let silent = Endpoint::start(|_: &Seen, _| None).await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &endpoint),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &silent.url),
            ("AWS_METADATA_SERVICE_TIMEOUT", "0.2"),
        ],
    ));
    let e = credentials_error(call(&client).await);
    assert!(e.contains("no answer within 0.2 s"), "{e}");
    server.shutdown().await;
}

/// A client of `server` whose credentials come from `container` at `/c`.
fn container_client(home: &Path, server: &RunningServer, container: &Endpoint) -> Client {
    Client::new(config(
        home,
        &[
            ("AWS_ENDPOINT_URL", &server.endpoint()),
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                &format!("{}/c", container.url),
            ),
        ],
    ))
}

#[tokio::test]
async fn container_endpoint_with_a_token_file_and_a_failed_refresh() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "pod-identity-token\n").unwrap();

    // Expiring in two minutes, so every call asks again; the second ask fails (500s),
    // and the cached credentials, still valid, are used.
    let container = Endpoint::start(|r: &Seen, i| {
        Some(if r.path != "/v1/credentials" {
            (404, String::new())
        } else if i == 0 {
            (200, session_json(120))
        } else {
            (500, r#"{"code":"Internal"}"#.into())
        })
    })
    .await;
    let full_uri = format!("{}/v1/credentials", container.url);
    let cfg = config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &server.endpoint()),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                token_file.to_str().unwrap(),
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "not-this-one"),
        ],
    );
    let client = Client::new(cfg);
    call(&client).await.unwrap();
    call(&client).await.unwrap();
    let seen = container.seen();
    assert_eq!(
        seen.len(),
        1 + 3,
        "one fetch, then three attempts at the refresh"
    );
    assert!(
        seen.iter()
            .all(|r| r.headers.get("authorization").map(String::as_str)
                == Some("pod-identity-token"))
    );

    // Refused outright, with nothing cached: the status and body are in the error.
    let refusing =
        Endpoint::start(|_: &Seen, _| Some((403, r#"{"message":"bad token"}"#.into()))).await;
    let client = container_client(home.path(), &server, &refusing);
    let e = credentials_error(call(&client).await);
    assert!(
        e.contains("the container endpoint http://127.0.0.1:"),
        "{e}"
    );
    assert!(
        e.contains(
            "(AWS_CONTAINER_CREDENTIALS_FULL_URI): HTTP 403 Forbidden: {\"message\":\"bad token\"}"
        ),
        "{e}"
    );
    server.shutdown().await;
}

/// The container endpoint is asked directly, never through a proxy (botocore's
/// `ContainerMetadataFetcher` uses none): its authorization token and the role's
/// credentials must not cross one. Instance metadata, like KMS, does use the proxy.
#[tokio::test]
async fn the_container_endpoint_is_never_asked_through_a_proxy() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let proxy = Endpoint::start(|_: &Seen, _| Some((502, String::new()))).await;
    let container = Endpoint::start(|_: &Seen, _| Some((200, session_json(3600)))).await;
    let full_uri = format!("{}/v1/credentials", container.url);
    let kms_host = server.endpoint().trim_start_matches("http://").to_owned();
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &server.endpoint()),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"),
            ("HTTP_PROXY", &proxy.url),
            // KMS itself is exempt, so that only the credentials' way is tested.
            ("NO_PROXY", &kms_host),
        ],
    ));
    assert!(call(&client).await.unwrap() >= 3);
    assert!(
        proxy.seen().is_empty(),
        "through the proxy: {:?}",
        proxy.seen()
    );
    let seen = container.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].headers.get("authorization").map(String::as_str),
        Some("container-token")
    );

    // Instance metadata goes through the proxy, as botocore's IMDS fetcher does.
    let metadata = Endpoint::start(imds(3600)).await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL", &server.endpoint()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url),
            ("HTTP_PROXY", &proxy.url),
            ("NO_PROXY", &kms_host),
        ],
    ));
    let e = credentials_error(call(&client).await);
    assert!(e.contains("502"), "{e}");
    assert!(!proxy.seen().is_empty());
    assert!(metadata.seen().is_empty());
    server.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn credentials_already_expired_when_fetched_are_an_error() {
    // botocore: "Credentials were refreshed, but the refreshed credentials are still
    // expired." (a RuntimeError: exit 255 in the AWS CLI v1, from its generic handler; kms
    // exits 253, its code for credentials and configuration errors), for a
    // credential_process and the container endpoint alike.
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let container = Endpoint::start(|_: &Seen, _| Some((200, session_json(-60)))).await;
    let client = container_client(home.path(), &server, &container);
    let e = credentials_error(call(&client).await);
    assert!(e.contains("the container endpoint"), "{e}");
    assert!(e.contains("refreshed credentials are still expired"), "{e}");

    let expiration = Timestamp::from_secs(Timestamp::now().secs() - 60).to_rfc3339();
    let script = format!(
        "echo '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\", \"SessionToken\": \"{}\", \"Expiration\": \"{expiration}\"}}'\n",
        demo::SESSION_ACCESS_KEY_ID,
        demo::SESSION_SECRET_ACCESS_KEY,
        demo::SESSION_TOKEN,
    );
    let client = Client::new(process_config(
        home.path(),
        &server.endpoint(),
        &script,
        Duration::from_secs(60),
    ));
    let e = credentials_error(call(&client).await);
    assert!(
        e.starts_with("cannot get AWS credentials from credential_process"),
        "{e}"
    );
    assert!(
        e.contains(&format!("had already expired at {expiration}")),
        "{e}"
    );

    // A role's source too: STS is not called with credentials already expired.
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile base]\ncredential_process = sh {}\n\
             [profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = base\n",
            home.path().join("creds.sh").display()
        ),
    )
    .unwrap();
    let sts = Endpoint::start(|_: &Seen, _| Some((200, sts_answer("AssumeRole")))).await;
    let client = admin_client(home.path(), &server, &sts);
    let e = credentials_error(call(&client).await);
    assert!(e.contains("its source, credential_process ("), "{e}");
    assert!(
        e.contains(&format!("had already expired at {expiration}")),
        "{e}"
    );
    assert!(sts.seen().is_empty(), "{:?}", sts.seen());
    server.shutdown().await;
}

/// A profile whose `credential_process` is `script` (a shell script written to HOME).
fn process_config(home: &Path, endpoint: &str, script: &str, total: Duration) -> Config {
    process_config_with_args(home, endpoint, script, "", total)
}

/// [`process_config`], the script's path followed by `args` on the profile's line.
fn process_config_with_args(
    home: &Path,
    endpoint: &str,
    script: &str,
    args: &str,
    total: Duration,
) -> Config {
    let path = home.join("creds.sh");
    std::fs::write(&path, script).unwrap();
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[default]\ncredential_process = sh {} {args}\n",
            path.display()
        ),
    )
    .unwrap();
    let mut cfg = config(
        home,
        &[
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    cfg.timeouts = Timeouts {
        total,
        ..cfg.timeouts
    };
    cfg
}

#[cfg(unix)]
#[tokio::test]
async fn credential_process_is_split_into_words_and_run_without_a_shell() {
    // As botocore: shlex.split, then the program itself; no variables, no redirections.
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let script = format!(
        "[ \"$1\" = '$HOME' ] && [ \"$2\" = '>' ] && [ \"$3\" = 'a b' ] && [ \"$4\" = 'c\"d' ] || exit 9\n\
         echo '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"}}'\n",
        demo::ACCESS_KEY_ID,
        demo::SECRET_ACCESS_KEY
    );
    let client = Client::new(process_config_with_args(
        home.path(),
        &server.endpoint(),
        &script,
        r#""$HOME" > 'a b' "c\"d""#,
        Duration::from_secs(60),
    ));
    call(&client).await.unwrap();
    server.shutdown().await;
}

/// A `credential_process` may hand out long-term keys with the time they are good
/// until: an `Expiration` without a `SessionToken`, which botocore accepts (both members
/// are optional). kms refused it ("an Expiration but no SessionToken"). And the
/// `Expiration` may be written as programs write it — Python's `%z` (`+0000`), a space
/// for the `T`, `UTC`, JavaScript's `toUTCString` — as the AWS CLI takes it (botocore
/// reads it with dateutil's parser); kms refused every form but RFC 3339 ("is not an
/// RFC 3339 date-time").
#[cfg(unix)]
#[tokio::test]
async fn a_credential_process_expiration_is_read_in_the_forms_the_aws_cli_reads() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let t = Timestamp::from_secs(Timestamp::now().secs() + 3600).to_date_time();
    let (date, time) = (
        format!("{:04}-{:02}-{:02}", t.year, t.month, t.day),
        format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
    );
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    for expiration in [
        format!("{date}T{time}Z"),
        format!("{date}T{time}+0000"),
        format!("{date} {time}.123456Z"),
        format!("{date}T{time}UTC"),
        format!(
            "Mon, {:02} {} {:04} {time} GMT",
            t.day,
            MONTHS[t.month as usize - 1],
            t.year
        ),
    ] {
        let script = format!(
            "echo '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\", \"Expiration\": \"{expiration}\"}}'\n",
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY
        );
        let client = Client::new(process_config(
            home.path(),
            &server.endpoint(),
            &script,
            Duration::from_secs(60),
        ));
        let stores = call(&client).await;
        assert!(
            stores.as_ref().is_ok_and(|n| *n > 0),
            "{expiration}: {stores:?}"
        );
    }
    server.shutdown().await;
}

/// A helper that prints more than credentials JSON could be, on stdout or stderr, is
/// stopped at 64 KiB: one that printed without end (`yes`) filled gigabytes before its
/// timeout. (200 KB here, so that the test stays small if the limit is lost.)
#[cfg(unix)]
#[tokio::test]
async fn a_credential_process_that_prints_too_much_is_stopped() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    for script in [
        "head -c 200000 /dev/zero | tr '\\0' x\n",
        "head -c 200000 /dev/zero | tr '\\0' x >&2; exit 1\n",
    ] {
        let client = Client::new(process_config(
            home.path(),
            &server.endpoint(),
            script,
            Duration::from_secs(60),
        ));
        let err = call(&client).await.unwrap_err();
        assert!(
            err.to_string().contains("printed more than 64 KiB"),
            "{err}"
        );
    }
    server.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn credential_process_runs_once_until_near_expiry_and_explains_failures() {
    let server = kms_server().await;
    let endpoint = server.endpoint();
    let home = tempfile::tempdir().unwrap();
    let runs = home.path().join("runs");
    let long = Duration::from_secs(60);

    let expiring = |secs: i64| {
        let expiration = Timestamp::from_secs(Timestamp::now().secs() + secs).to_rfc3339();
        format!(
            "echo run >> {runs}\necho '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\", \"SessionToken\": \"{}\", \"Expiration\": \"{expiration}\"}}'\n",
            demo::SESSION_ACCESS_KEY_ID,
            demo::SESSION_SECRET_ACCESS_KEY,
            demo::SESSION_TOKEN,
            runs = runs.display()
        )
    };
    let run_count = || std::fs::read_to_string(&runs).map_or(0, |t| t.lines().count());

    let client = Client::new(process_config(
        home.path(),
        &endpoint,
        &expiring(3600),
        long,
    ));
    for _ in 0..3 {
        call(&client).await.unwrap();
    }
    assert_eq!(run_count(), 1);
    std::fs::remove_file(&runs).unwrap();
    let client = Client::new(process_config(home.path(), &endpoint, &expiring(60), long));
    call(&client).await.unwrap();
    call(&client).await.unwrap();
    assert_eq!(run_count(), 2);

    // Long-lived keys without an expiration, as `Version: 1` allows.
    let client = Client::new(process_config(
        home.path(),
        &endpoint,
        &format!(
            "echo '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"}}'",
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY
        ),
        long,
    ));
    call(&client).await.unwrap();

    for (script, expected) in [
        (
            "echo 'token expired, run aws sso login' >&2; exit 3",
            "\"sh\" failed (exit status: 3): token expired, run aws sso login",
        ),
        (
            "echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"B\"}'",
            "\"sh\" printed Version 2; only Version 1 is supported",
        ),
        (
            "echo 'AccessKeyId=SECRETSTUFF'",
            "\"sh\" printed no credentials JSON",
        ),
        (
            "echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'",
            "the answer has no SecretAccessKey",
        ),
    ] {
        let client = Client::new(process_config_with_args(
            home.path(),
            &endpoint,
            script,
            "--password=CMDLINE-SECRET",
            long,
        ));
        let e = credentials_error(call(&client).await);
        assert!(
            e.starts_with("cannot get AWS credentials from credential_process ("),
            "{e}"
        );
        assert!(e.contains(expected), "{e}");
        assert!(
            !e.contains("CMDLINE-SECRET") && !e.contains("creds.sh"),
            "the arguments are never shown: {e}"
        );
        assert!(
            !e.contains("SECRETSTUFF"),
            "the output is never echoed: {e}"
        );
    }

    // A process that hangs is stopped at the call's total timeout.
    let client = Client::new(process_config(
        home.path(),
        &endpoint,
        "sleep 30",
        Duration::from_millis(300),
    ));
    let e = credentials_error(call(&client).await);
    assert!(
        e.contains("did not finish within 0.3 s; it was stopped"),
        "{e}"
    );
    server.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_cli_uses_a_credential_process_and_reports_metadata_failures_as_configuration_errors() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "echo '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"}}'",
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile tool]\nregion = {}\ncredential_process = sh {}\n",
            demo::REGION,
            script.display()
        ),
    )
    .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let kms = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kms"));
        c.env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", server.endpoint())
            .env("AWS_REGION", demo::REGION)
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &dead)
            .args(args)
            .arg("describe-custom-key-stores");
        c
    };
    let out = tokio::task::spawn_blocking({
        let mut c = kms(&["--profile", "tool", "--debug"]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"CustomKeyStores\""));
    // --debug says which identity signed, and where it came from.
    let line = format!(
        "DEBUG credentials: access key {} from credential_process (credential_process in {} line 3)\n",
        demo::ACCESS_KEY_ID,
        home.path().join(".aws/config").display()
    );
    assert!(stderr.contains(&line), "{stderr}");

    // The default profile has nothing: instance metadata is asked, and fails.
    let out = tokio::task::spawn_blocking({
        let mut c = kms(&[]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(253), "{stderr}");
    assert!(
        stderr.contains("cannot get AWS credentials from EC2 instance metadata"),
        "{stderr}"
    );
    assert!(
        stderr.contains("AWS_EC2_METADATA_DISABLED=true"),
        "{stderr}"
    );
    server.shutdown().await;
}

/// Whether `request` carries a valid SigV4 signature by `secret` for STS in us-east-1,
/// checked with kms-server's verifier.
fn signed_by(request: &Seen, secret: &str) -> bool {
    common::verify_signature(request, secret)
        .is_ok_and(|auth| auth.service == "sts" && auth.region == demo::REGION)
}

/// An STS `…Response` holding the demo session credentials, valid for an hour.
fn sts_answer(action: &str) -> String {
    let expiration = Timestamp::from_secs(Timestamp::now().secs() + 3600).to_rfc3339();
    format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>\
         <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/admin/s</Arn>\
         </AssumedRoleUser><Credentials><AccessKeyId>{}</AccessKeyId>\
         <SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken>\
         <Expiration>{expiration}</Expiration></Credentials></{action}Result>\
         <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></{action}Response>",
        demo::SESSION_ACCESS_KEY_ID,
        demo::SESSION_SECRET_ACCESS_KEY,
        demo::SESSION_TOKEN
    )
}

/// A config file with a `base` profile holding keys and an `admin` role profile on it.
fn role_profiles(home: &Path, extra: &str) {
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile base]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
             [profile admin]\nrole_arn = arn:aws:iam::111122223333:role/admin\n\
             source_profile = base\nexternal_id = ext-42\n{extra}",
            demo::DENIED_ACCESS_KEY_ID,
            demo::DENIED_SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
}

/// The configuration of profile `admin` calling `server`, with STS at `sts`.
fn admin_config(home: &Path, server: &RunningServer, sts: &Endpoint) -> Config {
    config(
        home,
        &[
            ("AWS_PROFILE", "admin"),
            ("AWS_ENDPOINT_URL_KMS", &server.endpoint()),
            ("AWS_ENDPOINT_URL_STS", &sts.url),
        ],
    )
}

/// A client of profile `admin` calling `server`, with STS at `sts`.
fn admin_client(home: &Path, server: &RunningServer, sts: &Endpoint) -> Client {
    Client::new(admin_config(home, server, sts))
}

#[tokio::test]
async fn a_profile_role_is_assumed_with_a_signed_sts_call_once_per_hour() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    role_profiles(home.path(), "role_session_name = nightly-audit\n");
    let sts = Endpoint::start(|r: &Seen, _| {
        let form = form(&r.body);
        Some(
            if r.method == "POST"
                && form.get("Action").map(String::as_str) == Some("AssumeRole")
                && signed_by(r, demo::DENIED_SECRET_ACCESS_KEY)
            {
                (200, sts_answer("AssumeRole"))
            } else {
                (403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>".into())
            },
        )
    })
    .await;
    let client = admin_client(home.path(), &server, &sts);
    // The role's session credentials reach kms-server (the base keys are denied there).
    for _ in 0..3 {
        assert!(call(&client).await.unwrap() >= 3);
    }
    let seen = sts.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let params = form(&seen[0].body);
    assert_eq!(params["RoleArn"], "arn:aws:iam::111122223333:role/admin");
    assert_eq!(params["RoleSessionName"], "nightly-audit");
    assert_eq!(params["ExternalId"], "ext-42");
    assert_eq!(params["Version"], "2011-06-15");
    assert_eq!(
        seen[0].headers["content-type"],
        "application/x-www-form-urlencoded; charset=utf-8"
    );

    // STS says no: its code and message, and the role, in the error.
    let refusing = Endpoint::start(|_: &Seen, _| {
        Some((
            403,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
             <Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x \
             is not authorized to perform: sts:AssumeRole on resource: \
             arn:aws:iam::111122223333:role/admin</Message></Error></ErrorResponse>"
                .into(),
        ))
    })
    .await;
    let client = admin_client(home.path(), &server, &refusing);
    let e = credentials_error(call(&client).await);
    assert!(
        e.starts_with("cannot get AWS credentials from role arn:aws:iam::111122223333:role/admin assumed with STS at http://127.0.0.1:"),
        "{e}"
    );
    assert!(
        e.contains("STS AssumeRole failed with AccessDenied: User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/admin (HTTP 403)"),
        "{e}"
    );
    assert_eq!(refusing.seen().len(), 1, "an AccessDenied is not retried");

    // Throttled, then answered: retried.
    let throttled = Endpoint::start(|_: &Seen, i| {
        Some(if i == 0 {
            (400, "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>".into())
        } else {
            (200, sts_answer("AssumeRole"))
        })
    })
    .await;
    let client = admin_client(home.path(), &server, &throttled);
    call(&client).await.unwrap();
    assert_eq!(throttled.seen().len(), 2);
    server.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_role_whose_source_fails_names_the_source() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile base]\ncredential_process = sh -c 'echo expired >&2; exit 1'\n\
         [profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = base\n",
    )
    .unwrap();
    let sts = Endpoint::start(|_: &Seen, _| Some((500, String::new()))).await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_PROFILE", "admin"),
            ("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9"),
            ("AWS_ENDPOINT_URL_STS", &sts.url),
        ],
    ));
    let e = credentials_error(call(&client).await);
    assert!(e.contains("its source, credential_process ("), "{e}");
    assert!(e.contains("failed (exit status: 1): expired"), "{e}");
    assert!(
        sts.seen().is_empty(),
        "STS is not called without source credentials"
    );
}

#[tokio::test]
async fn a_web_identity_token_is_exchanged_unsigned() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("token");
    std::fs::write(&token, "eyJhbGciOi.pod-token.sig\n").unwrap();
    let sts = Endpoint::start(|r: &Seen, _| {
        Some(
            if form(&r.body).get("Action").map(String::as_str) == Some("AssumeRoleWithWebIdentity")
            {
                (200, sts_answer("AssumeRoleWithWebIdentity"))
            } else {
                (400, String::new())
            },
        )
    })
    .await;
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL_KMS", &server.endpoint()),
            ("AWS_ENDPOINT_URL_STS", &sts.url),
            ("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/pod"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
        ],
    ));
    assert!(call(&client).await.unwrap() >= 3);
    let seen = sts.seen();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].headers.contains_key("authorization"));
    let params = form(&seen[0].body);
    assert_eq!(params["WebIdentityToken"], "eyJhbGciOi.pod-token.sig");
    assert_eq!(params["RoleArn"], "arn:aws:iam::111122223333:role/pod");
    assert!(params["RoleSessionName"].starts_with("kms-client-"));

    // The token file gone: named.
    std::fs::remove_file(&token).unwrap();
    let client = Client::new(config(
        home.path(),
        &[
            ("AWS_ENDPOINT_URL_KMS", &server.endpoint()),
            ("AWS_ENDPOINT_URL_STS", &sts.url),
            ("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/pod"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
        ],
    ));
    let e = credentials_error(call(&client).await);
    assert!(e.contains("cannot read the token file"), "{e}");
    server.shutdown().await;
}

/// A HOME whose config has profile `dev` on `[sso-session my-sso]`, and the path of
/// that session's token cache (not written).
fn sso_home() -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws/sso/cache")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile dev]\nsso_session = my-sso\nsso_account_id = 111122223333\n\
         sso_role_name = ReadOnly\n\
         [sso-session my-sso]\nsso_start_url = https://my-sso-portal.awsapps.com/start\n\
         sso_region = us-east-1\n",
    )
    .unwrap();
    let cache = home
        .path()
        .join(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json");
    (home, cache)
}

/// The SSO portal's answer with the demo session credentials, valid for an hour.
fn role_credentials_json() -> String {
    let expiration = (Timestamp::now().secs() + 3600) * 1000;
    format!(
        r#"{{"roleCredentials":{{"accessKeyId":"{}","secretAccessKey":"{}","sessionToken":"{}","expiration":{expiration}}}}}"#,
        demo::SESSION_ACCESS_KEY_ID,
        demo::SESSION_SECRET_ACCESS_KEY,
        demo::SESSION_TOKEN
    )
}

#[tokio::test]
async fn an_sso_profile_uses_the_cached_token_of_aws_sso_login() {
    let server = kms_server().await;
    let (home, cache) = sso_home();
    let write_token = |expires_in: i64| {
        let expires_at = Timestamp::from_secs(Timestamp::now().secs() + expires_in).to_rfc3339();
        std::fs::write(
            &cache,
            format!(
                r#"{{"startUrl":"https://my-sso-portal.awsapps.com/start","region":"us-east-1","accessToken":"sso-access-token","expiresAt":"{expires_at}","refreshToken":"r"}}"#
            ),
        )
        .unwrap();
    };
    let portal = Endpoint::start(|r: &Seen, _| {
        let authorized =
            r.headers.get("x-amz-sso_bearer_token").map(String::as_str) == Some("sso-access-token");
        Some(
            if r.path == "/federation/credentials?account_id=111122223333&role_name=ReadOnly"
                && authorized
            {
                (200, role_credentials_json())
            } else if authorized {
                (
                    403,
                    r#"{"message":"No access","__type":"com.amazonaws.switchboard.portal#ForbiddenException"}"#.into(),
                )
            } else {
                (401, r#"{"message":"Session token not found or invalid"}"#.into())
            },
        )
    })
    .await;
    let client = || {
        Client::new(config(
            home.path(),
            &[
                ("AWS_PROFILE", "dev"),
                ("AWS_ENDPOINT_URL_KMS", &server.endpoint()),
                ("AWS_ENDPOINT_URL_SSO", &portal.url),
            ],
        ))
    };
    let login = "run `aws sso login --profile dev`";

    // Not logged in yet.
    let e = credentials_error(call(&client()).await);
    assert!(e.starts_with("cannot get AWS credentials from IAM Identity Center role ReadOnly of account 111122223333"), "{e}");
    assert!(
        e.contains("no SSO token cached at") && e.contains(login),
        "{e}"
    );

    // Logged in: the role's credentials sign the calls, fetched once.
    write_token(3600);
    let c = client();
    for _ in 0..2 {
        assert!(call(&c).await.unwrap() >= 3);
    }
    assert_eq!(portal.seen().len(), 1);

    // Expired, refused by the portal, or a role the user may not use.
    write_token(-60);
    let e = credentials_error(call(&client()).await);
    assert!(
        e.contains("the SSO token expired at") && e.contains(login),
        "{e}"
    );
    std::fs::write(&cache, r#"{"accessToken":"stale"}"#).unwrap();
    let e = credentials_error(call(&client()).await);
    assert!(
        e.contains("refused the cached token (HTTP 401)") && e.contains(login),
        "{e}"
    );
    write_token(3600);
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile dev]\nsso_start_url = https://my-sso-portal.awsapps.com/start\n\
         sso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Admin\n",
    )
    .unwrap();
    // The legacy profile's cache is named after the start URL.
    std::fs::copy(
        &cache,
        home.path()
            .join(".aws/sso/cache/c7aaaf71fcc8777ae2475525ed049d39fe16c484.json"),
    )
    .unwrap();
    let e = credentials_error(call(&client()).await);
    assert!(
        e.contains("the SSO portal answered HTTP 403 Forbidden for role Admin of account 111122223333: No access"),
        "{e}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_sso_session_token_near_expiry_is_refreshed_and_the_cache_updated() {
    let server = kms_server().await;
    let (home, cache) = sso_home();
    let write_token = |expires_in: i64| {
        let at = |secs: i64| Timestamp::from_secs(Timestamp::now().secs() + secs).to_rfc3339();
        std::fs::write(
            &cache,
            format!(
                r#"{{"startUrl":"https://my-sso-portal.awsapps.com/start","region":"us-east-1","accessToken":"old-token","expiresAt":"{}","clientId":"client-1","clientSecret":"secret-1","registrationExpiresAt":"{}","refreshToken":"refresh-1"}}"#,
                at(expires_in),
                at(86_400)
            ),
        )
        .unwrap();
    };
    let oidc = Endpoint::start(|r: &Seen, i| {
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        let expected = serde_json::json!({
            "clientId": "client-1", "clientSecret": "secret-1",
            "grantType": "refresh_token", "refreshToken": "refresh-1"
        });
        Some(if r.method != "POST" || r.path != "/token" || body != expected {
            (400, r#"{"error":"invalid_request"}"#.into())
        } else if i == 0 {
            (
                200,
                r#"{"accessToken":"new-token","expiresIn":28800,"tokenType":"Bearer","refreshToken":"refresh-2"}"#.into(),
            )
        } else {
            (500, r#"{"error":"server_error"}"#.into())
        })
    })
    .await;
    let portal = Endpoint::start(|r: &Seen, _| {
        let token = r
            .headers
            .get("x-amz-sso_bearer_token")
            .cloned()
            .unwrap_or_default();
        Some(if token == "new-token" || token == "old-token" {
            (200, role_credentials_json())
        } else {
            (401, String::new())
        })
    })
    .await;
    let client = || {
        Client::new(config(
            home.path(),
            &[
                ("AWS_PROFILE", "dev"),
                ("AWS_ENDPOINT_URL_KMS", &server.endpoint()),
                ("AWS_ENDPOINT_URL_SSO", &portal.url),
                ("AWS_ENDPOINT_URL_SSO_OIDC", &oidc.url),
            ],
        ))
    };

    // Two minutes left: refreshed, the new token used and written back.
    write_token(120);
    call(&client()).await.unwrap();
    assert_eq!(
        portal.seen()[0].headers["x-amz-sso_bearer_token"],
        "new-token"
    );
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert_eq!(cached["accessToken"], "new-token");
    assert_eq!(cached["refreshToken"], "refresh-2");
    assert_eq!(
        cached["clientId"], "client-1",
        "the rest of the cache is kept"
    );
    let expires_at = Timestamp::parse_rfc3339(cached["expiresAt"].as_str().unwrap()).unwrap();
    assert!(expires_at.secs() > Timestamp::now().secs() + 28_000);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the refreshed token is the user's alone"
        );
    }

    // The refresh fails while the token is still valid: the token is used.
    write_token(120);
    call(&client()).await.unwrap();
    assert_eq!(
        portal.seen()[1].headers["x-amz-sso_bearer_token"],
        "old-token"
    );
    // ... and once it has expired: log in again.
    write_token(-5);
    let e = credentials_error(call(&client()).await);
    assert!(e.contains("the SSO token expired at"), "{e}");
    assert!(e.contains("answered HTTP 500"), "{e}");
    assert!(e.contains("run `aws sso login --profile dev`"), "{e}");
    server.shutdown().await;
}

const MFA_SERIAL: &str = "arn:aws:iam::111122223333:mfa/me";

/// A scripted STS that assumes `admin` only for a call signed by the base profile with
/// MFA code 123456 (AWS's error otherwise).
async fn sts_wanting_mfa() -> Endpoint {
    Endpoint::start(|r: &Seen, _| {
        let form = form(&r.body);
        let mfa = (form.get("SerialNumber"), form.get("TokenCode"));
        Some(
            if signed_by(r, demo::DENIED_SECRET_ACCESS_KEY)
                && mfa == (Some(&MFA_SERIAL.to_owned()), Some(&"123456".to_owned()))
            {
                (200, sts_answer("AssumeRole"))
            } else {
                (
                    403,
                    "<ErrorResponse><Error><Code>AccessDenied</Code><Message>MultiFactorAuthentication \
                     failed with invalid MFA one time pass code.</Message></Error></ErrorResponse>"
                        .into(),
                )
            },
        )
    })
    .await
}

/// A prompt answering `answer`, recording what it was asked.
fn prompt(answer: &'static str) -> (kms_client::MfaPrompt, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&asked);
    let prompt = kms_client::MfaPrompt::new(move |text: &str| {
        record.lock().unwrap().push(text.to_owned());
        Ok(answer.to_owned())
    });
    (prompt, asked)
}

#[tokio::test]
async fn a_role_with_mfa_serial_sends_the_code_asked_for_once() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    role_profiles(home.path(), &format!("mfa_serial = {MFA_SERIAL}\n"));
    let sts = sts_wanting_mfa().await;

    let (ask, asked) = prompt("123456\n");
    let mut cfg = admin_config(home.path(), &server, &sts);
    assert_eq!(cfg.mfa_prompt, None, "no prompt unless one is given");
    cfg.mfa_prompt = Some(ask);
    let client = Client::new(cfg);
    for _ in 0..3 {
        assert!(call(&client).await.unwrap() >= 3);
    }
    assert_eq!(
        *asked.lock().unwrap(),
        [format!("Enter MFA code for {MFA_SERIAL}: ")]
    );
    let seen = sts.seen();
    assert_eq!(seen.len(), 1);
    let params = form(&seen[0].body);
    assert_eq!(params["SerialNumber"], MFA_SERIAL);
    assert_eq!(params["TokenCode"], "123456");

    // No way to ask: said before anything is called.
    let client = Client::new(admin_config(home.path(), &server, &sts));
    let e = credentials_error(call(&client).await);
    assert!(
        e.contains(&format!(
            "the role needs the current code of the MFA device {MFA_SERIAL} (mfa_serial), \
             and this program has no way to ask for it"
        )),
        "{e}"
    );
    // Answers that are not a code, and a prompt that fails, are not sent to STS.
    let mut cfg = admin_config(home.path(), &server, &sts);
    cfg.mfa_prompt = Some(prompt("12345x").0);
    let e = credentials_error(call(&Client::new(cfg)).await);
    assert!(e.contains("must be the 6 digits the device shows"), "{e}");
    assert!(!e.contains("12345x"), "the answer is not echoed: {e}");
    let mut cfg = admin_config(home.path(), &server, &sts);
    cfg.mfa_prompt = Some(kms_client::MfaPrompt::new(|_: &str| {
        Err(std::io::Error::other("no terminal"))
    }));
    let e = credentials_error(call(&Client::new(cfg)).await);
    assert!(
        e.contains(&format!(
            "no MFA code for {MFA_SERIAL} could be read: no terminal"
        )),
        "{e}"
    );
    assert_eq!(sts.seen().len(), 1, "STS was not called again");

    // A wrong code: STS's answer.
    let mut cfg = admin_config(home.path(), &server, &sts);
    cfg.mfa_prompt = Some(prompt("654321").0);
    let e = credentials_error(call(&Client::new(cfg)).await);
    assert!(
        e.contains("STS AssumeRole failed with AccessDenied: MultiFactorAuthentication failed"),
        "{e}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn assumed_role_credentials_are_shared_through_the_aws_cli_cache() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    role_profiles(home.path(), &format!("mfa_serial = {MFA_SERIAL}\n"));
    let sts = sts_wanting_mfa().await;
    let home_env = home.path().display().to_string();
    let cache = Config::aws_cli_cache_dir(&|k| (k == "HOME").then(|| home_env.clone())).unwrap();
    assert_eq!(cache, home.path().join(".aws/cli/cache"));
    // botocore's name for these AssumeRole arguments (computed with Python 3.11).
    let file = cache.join("9af4077d83816a4dd585b85cb757674da0f320e1.json");

    // Assumed once with an MFA code, and written for the AWS CLI.
    let (ask, asked) = prompt("123456");
    let mut cfg = admin_config(home.path(), &server, &sts);
    cfg.mfa_prompt = Some(ask);
    cfg.assumed_role_cache = Some(cache.clone());
    call(&Client::new(cfg)).await.unwrap();
    assert_eq!((asked.lock().unwrap().len(), sts.seen().len()), (1, 1));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        written["Credentials"]["AccessKeyId"],
        demo::SESSION_ACCESS_KEY_ID
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the user may read it");
    }

    // Another client (another run): from the cache, nothing asked, STS not called.
    let refusing = Endpoint::start(|_: &Seen, _| Some((500, String::new()))).await;
    let cached_client = |sts: &Endpoint| {
        let mut cfg = admin_config(home.path(), &server, sts);
        cfg.assumed_role_cache = Some(cache.clone());
        let debug = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&debug);
        let client = Client::new(cfg).with_debug_sink(Arc::new(move |text: &str| {
            sink.lock().unwrap().push_str(text)
        }));
        (client, debug)
    };
    let (client, debug) = cached_client(&refusing);
    call(&client).await.unwrap();
    assert!(refusing.seen().is_empty());
    let debug = debug.lock().unwrap().clone();
    assert!(
        debug.contains(&format!(
            "DEBUG credentials: access key {} from role arn:aws:iam::111122223333:role/admin \
             assumed with STS at {} (",
            demo::SESSION_ACCESS_KEY_ID,
            refusing.url
        )) && debug.contains(&format!(
            ", cached by the AWS CLI in {}, expiring ",
            file.display()
        )),
        "{debug}"
    );

    // As botocore writes them (`…UTC`), fine; with less than 15 minutes left, not used:
    // the role is assumed again, which here needs a code nobody can give.
    let botocore_entry = |secs: i64| {
        let at = Timestamp::from_secs(Timestamp::now().secs() + secs).to_rfc3339();
        format!(
            r#"{{"Credentials": {{"AccessKeyId": "{}", "SecretAccessKey": "{}", "SessionToken": "{}", "Expiration": "{}UTC", "AccountId": "111122223333"}}, "AssumedRoleUser": {{"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::111122223333:assumed-role/admin/s"}}, "ResponseMetadata": {{"RequestId": "r-1", "HTTPStatusCode": 200}}}}"#,
            demo::SESSION_ACCESS_KEY_ID,
            demo::SESSION_SECRET_ACCESS_KEY,
            demo::SESSION_TOKEN,
            at.trim_end_matches('Z')
        )
    };
    std::fs::write(&file, botocore_entry(3600)).unwrap();
    call(&cached_client(&refusing).0).await.unwrap();
    std::fs::write(&file, botocore_entry(600)).unwrap();
    let e = credentials_error(call(&cached_client(&refusing).0).await);
    assert!(
        e.contains("run an `aws` command with this profile first"),
        "{e}"
    );
    assert!(refusing.seen().is_empty());
    server.shutdown().await;
}

/// `kms describe-custom-key-stores` as profile `admin`, STS at `sts`, `stdin` as its
/// input (`None`: closed); answers the exit code and stderr.
async fn kms_as_admin(
    home: &Path,
    server: &RunningServer,
    sts: &Endpoint,
    stdin: &'static str,
) -> (i32, String) {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kms"));
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", demo::REGION)
        .env("AWS_ENDPOINT_URL_KMS", server.endpoint())
        .env("AWS_ENDPOINT_URL_STS", &sts.url)
        .args(["--profile", "admin", "describe-custom-key-stores"]);
    run_with_stdin(c, stdin).await
}

/// Runs `command` with `stdin` as its input (then closed); answers the exit code and
/// stderr.
async fn run_with_stdin(mut command: std::process::Command, stdin: &'static str) -> (i32, String) {
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_cli_asks_for_the_mfa_code_and_keeps_the_role_in_the_aws_cli_cache() {
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    role_profiles(home.path(), &format!("mfa_serial = {MFA_SERIAL}\n"));
    let sts = sts_wanting_mfa().await;
    let refusing = Endpoint::start(|_: &Seen, _| Some((500, String::new()))).await;
    let file = home
        .path()
        .join(".aws/cli/cache/9af4077d83816a4dd585b85cb757674da0f320e1.json");

    // Asked on stderr, answered on stdin.
    let (code, stderr) = kms_as_admin(home.path(), &server, &sts, "123456\n").await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("Enter MFA code for {MFA_SERIAL}: ")),
        "{stderr}"
    );
    assert!(file.is_file());
    // The next run uses the cached credentials: nothing asked, STS not called.
    let (code, stderr) = kms_as_admin(home.path(), &server, &refusing, "").await;
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Enter MFA code"), "{stderr}");

    // Without them, and with stdin closed: a configuration error.
    std::fs::remove_file(&file).unwrap();
    let (code, stderr) = kms_as_admin(home.path(), &server, &sts, "").await;
    assert_eq!(code, 253, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no MFA code for {MFA_SERIAL} could be read: stdin is closed"
        )),
        "{stderr}"
    );
    assert_eq!(sts.seen().len(), 1);
    server.shutdown().await;
}

/// `aws kms describe-custom-key-stores` as profile `admin` (STS at `sts`), in a new
/// session without a terminal so that its MFA prompt reads stdin; answers the exit code
/// and stderr.
async fn aws_as_admin(
    home: &Path,
    server: &RunningServer,
    sts: &Endpoint,
    stdin: &'static str,
) -> (i32, String) {
    let mut c = std::process::Command::new("setsid");
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_DEFAULT_REGION", demo::REGION)
        .env("AWS_PAGER", "")
        .env("AWS_ENDPOINT_URL_KMS", server.endpoint())
        .env("AWS_ENDPOINT_URL_STS", &sts.url)
        .args([
            "-w",
            "aws",
            "--profile",
            "admin",
            "kms",
            "describe-custom-key-stores",
        ]);
    run_with_stdin(c, stdin).await
}

#[cfg(unix)]
#[tokio::test]
async fn kms_and_the_aws_cli_use_each_others_cached_role_credentials() {
    if !common::aws_cli_available() {
        return;
    }
    let server = kms_server().await;
    let home = tempfile::tempdir().unwrap();
    role_profiles(home.path(), &format!("mfa_serial = {MFA_SERIAL}\n"));
    let sts = sts_wanting_mfa().await;
    let refusing = Endpoint::start(|_: &Seen, _| Some((500, String::new()))).await;
    let cache = home.path().join(".aws/cli/cache");

    // kms assumes the role (with a code); the AWS CLI then needs neither STS nor a code.
    let (code, stderr) = kms_as_admin(home.path(), &server, &sts, "123456\n").await;
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = aws_as_admin(home.path(), &server, &refusing, "").await;
    assert_eq!(code, 0, "the AWS CLI used kms's cache: {stderr}");
    assert!(!stderr.contains("Enter MFA code"), "{stderr}");

    // The other way round: the AWS CLI assumes it and writes the cache, under the same
    // name; kms then uses it.
    std::fs::remove_dir_all(&cache).unwrap();
    let (code, stderr) = aws_as_admin(home.path(), &server, &sts, "123456\n").await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        cache
            .join("9af4077d83816a4dd585b85cb757674da0f320e1.json")
            .is_file()
    );
    let (code, stderr) = kms_as_admin(home.path(), &server, &refusing, "").await;
    assert_eq!(code, 0, "kms used the AWS CLI's cache: {stderr}");
    assert!(refusing.seen().is_empty());
    assert_eq!(sts.seen().len(), 2, "one AssumeRole by each program");
    server.shutdown().await;
}
