//! The `kms-server` binary as scripts run it.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Call, Creds, DEMO, send};
use kms_server::demo;

/// `kms-server | head -1`: the reader of the banner goes away while it is written, and
/// the server keeps serving (it used to die of the broken pipe, exit status 101).
#[tokio::test]
async fn a_banner_reader_that_goes_away_leaves_it_serving() {
    // A free port, so that the endpoint is known without reading the banner.
    let addr: SocketAddr = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let mut child = common::kms_server_binary()
        .args(["--listen", &addr.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kms-server starts");
    // Nobody reads the banner: its first write meets a closed pipe.
    drop(child.stdout.take());

    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "kms-server exited before listening"
        );
        assert!(Instant::now() < deadline, "kms-server never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Past the banner: it still answers, and has not exited.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "kms-server exited after its banner could not be written"
    );
    let answer = send(addr, Call::new("{}")).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "kms-server stopped with {exit}");
}

/// `--tls-self-signed` writes its CA certificate into a new directory of its own,
/// readable by its owner alone, and removes it on exit: nobody else on the machine can
/// plant a file or symlink where the banner tells clients to find the CA they trust
/// (it used to write to a predictable name in the temporary directory).
#[cfg(unix)]
#[test]
fn the_self_signed_ca_goes_to_a_private_directory_of_its_own() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;

    let mut child = common::kms_server_binary()
        .args(["--listen", "127.0.0.1:0", "--tls-self-signed"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kms-server starts");
    let path = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("its CA certificate is ")
                .map(|(_, path)| std::path::PathBuf::from(path.trim()))
        })
        .expect("the banner names the CA certificate");
    let dir = path.parent().unwrap().to_owned();
    assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
    let meta = std::fs::symlink_metadata(&dir).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    assert!(!dir.exists(), "{} was left behind", dir.display());
}

/// The log (stderr) says where the server listens, for logs that never see the banner;
/// a refused request's line names the access key it claimed and what it was told, so
/// that the line alone tells a wrong secret from an unknown key; health probes are
/// answered without a signature and logged at debug level only.
#[tokio::test]
async fn the_log_says_where_it_listens_and_why_requests_were_refused() {
    let mut child = spawn(&["--listen", "127.0.0.1:0"]);
    let endpoint = endpoint_of(&mut child);
    let addr: SocketAddr = endpoint.strip_prefix("http://").unwrap().parse().unwrap();
    for (creds, code) in [
        (
            Creds {
                secret: "wrong",
                ..DEMO
            },
            "InvalidSignatureException",
        ),
        (
            Creds {
                akid: "AKIAUNKNOWNKEY000000",
                ..DEMO
            },
            "UnrecognizedClientException",
        ),
    ] {
        send(addr, Call::new("{}").creds(creds))
            .await
            .assert_error(400, code);
    }
    // A malformed Authorization header (no X-Amz-Date): its message quotes the header,
    // and the log line then masks the signature.
    let answer = raw_exchange(
        addr,
        &format!(
            "POST / HTTP/1.1\r\nhost: {addr}\r\nx-amz-target: TrentService.DescribeCustomKeyStores\r\n\
             content-type: application/x-amz-json-1.1\r\nauthorization: AWS4-HMAC-SHA256 \
             Credential={}/20261205/us-east-1/kms/aws4_request, SignedHeaders=host, \
             Signature=deadbeefcafe\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}",
            demo::ACCESS_KEY_ID
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("Signature=deadbeefcafe"),
        "the client is told: {answer}"
    );
    // Text of the request's own that a message quotes is cut: an unauthenticated path
    // of 60,000 characters used to be quoted whole, in the answer and its log line.
    let long_path = "A".repeat(60_000);
    let answer = raw_exchange(
        addr,
        &format!("GET /{long_path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 404"), "{}", &answer[..200]);
    assert!(
        answer.contains(&format!("No such resource: /{}...", &long_path[..127])),
        "{}",
        &answer[..400]
    );
    assert!(answer.len() < 1_000, "{} bytes", answer.len());
    // A signed request whose message quotes a long value: the answer has it whole, as
    // AWS words it; the log line has at most 512 characters of it.
    send(
        addr,
        Call::new(format!(
            r#"{{"CustomKeyStoreName": "{}"}}"#,
            "n".repeat(5_000)
        )),
    )
    .await
    .assert_error(400, "ValidationException");
    // A readiness probe, unsigned.
    let answer = raw_exchange(
        addr,
        &format!("GET /health HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");

    signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(
        log.contains(&format!(
            "INFO listening endpoint={endpoint} listen={addr} stores="
        )),
        "{log}"
    );
    let line_with = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {log}"))
    };
    let wrong_secret = line_with(r#"error="InvalidSignatureException""#);
    assert!(
        wrong_secret.contains(&format!(r#"access_key="{}""#, demo::ACCESS_KEY_ID)),
        "{wrong_secret}"
    );
    assert!(
        wrong_secret
            .contains(r#"error_message="The request signature we calculated does not match"#),
        "{wrong_secret}"
    );
    let unknown = line_with(r#"error="UnrecognizedClientException""#);
    assert!(
        unknown.contains(r#"access_key="AKIAUNKNOWNKEY000000""#),
        "{unknown}"
    );
    assert!(
        !log.contains("deadbeefcafe"),
        "a signature was logged: {log}"
    );
    assert!(log.contains("Signature=****"), "{log}");
    let validation = line_with(r#"error="ValidationException""#);
    assert!(
        validation.contains(&format!("{}...", "n".repeat(100))),
        "{validation}"
    );
    assert!(validation.len() < 1_000, "{validation}");
    assert!(
        log.lines().all(|l| l.len() < 1_000),
        "a log line quotes too much"
    );
    // The probe is not among the request lines (info level).
    assert_eq!(log.matches("INFO request ").count(), 5, "{log}");
}

/// The banner's first line, and the endpoint it names.
fn endpoint_of(child: &mut std::process::Child) -> String {
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    first
        .trim()
        .strip_prefix("kms-server listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned()
}

/// The banner's first two lines (the endpoint; regions, stores and faults), then the
/// server is killed.
fn first_two_banner_lines(mut child: std::process::Child) -> String {
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    for _ in 0..2 {
        std::io::BufRead::read_line(&mut stdout, &mut banner).unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    banner
}

/// Sends `request` on a new connection and reads the answer until the server closes it.
fn raw_exchange(addr: SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// `kms-server ARGS`, its stdout and stderr piped.
fn spawn(args: &[&str]) -> std::process::Child {
    common::kms_server_binary()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kms-server starts")
}

fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A SIGHUP sent while the stores load (a script that edits `--data` and signals right
/// after starting the server) is answered once the server serves; it used to end the
/// process.
#[cfg(unix)]
#[test]
fn a_sighup_while_the_stores_load_is_answered_once_serving() {
    let addr: SocketAddr = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let listen = addr.to_string();
    let mut child = spawn(&["--listen", &listen, "--generate-stores", "200000"]);
    std::thread::sleep(Duration::from_millis(300));
    // Still loading (a debug build takes seconds to make 200,000 stores): not listening.
    assert!(
        TcpStream::connect(addr).is_err(),
        "listening already: the SIGHUP would not come during the load"
    );
    signal(&child, "HUP");
    let endpoint = endpoint_of(&mut child);
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the SIGHUP ended it");
    signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(
        log.contains(&format!("listening endpoint={endpoint}")),
        "{log}"
    );
    assert!(
        log.contains("SIGHUP: there is no --data file to reload"),
        "{log}"
    );
}

/// A second SIGTERM while in-flight requests finish stops the server at once.
#[cfg(unix)]
#[test]
fn a_second_signal_stops_at_once() {
    use std::io::Write;
    let mut child = spawn(&["--listen", "127.0.0.1:0"]);
    let endpoint = endpoint_of(&mut child);
    let addr: SocketAddr = endpoint.strip_prefix("http://").unwrap().parse().unwrap();
    // A signed request whose body never comes: in flight for the 10 s body timeout.
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled
        .write_all(&common::wire_head(addr, &Call::new("{        }")))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    if let Some(status) = child.try_wait().unwrap() {
        let output = child.wait_with_output().unwrap();
        panic!(
            "the first signal must let the request finish: {status}, {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(log.contains("stopped at once"), "{log}");
}

/// A harness that pipes stderr and never reads it (Python's `Popen(..., stderr=PIPE)`,
/// then `terminate()` and `wait()` at the end of a test session): the pipe fills with
/// the request lines, and on SIGTERM the server exits all the same, giving up on the
/// lines it cannot write. It used to wait for the pipe forever, a second SIGTERM too.
#[cfg(unix)]
#[tokio::test]
async fn a_stderr_nobody_reads_does_not_hold_the_exit() {
    let mut child = common::Killed(spawn(&["--listen", "127.0.0.1:0"]));
    let endpoint = endpoint_of(&mut child.0);
    let addr: SocketAddr = endpoint.strip_prefix("http://").unwrap().parse().unwrap();
    // Each unsigned request logs a line of about 250 bytes: 1,000 of them are more than
    // a pipe holds (64 KiB on Linux), and less than the logger keeps in memory (1 MiB)
    // before requests wait for the output.
    let client = common::client();
    let mut unsigned = Call::new("{}");
    unsigned.creds = None;
    for _ in 0..1000 {
        let answer = common::send_with(&client, addr, unsigned.clone()).await;
        answer.assert_error(400, "MissingAuthenticationTokenException");
    }
    signal(&child.0, "TERM");
    // Not a bound on how fast: a hang detector, far beyond the 2 s the exit waits.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "kms-server did not exit: it waits for a stderr nobody reads"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

/// A configuration without any access key serves nobody: said at start.
#[cfg(unix)]
#[test]
fn a_configuration_without_access_keys_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "regions = [\"us-east-1\"]\n").unwrap();
    let mut child = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--config",
        config.to_str().unwrap(),
    ]);
    endpoint_of(&mut child);
    signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(
        log.contains("WARN the configuration has no access key: every request will be refused"),
        "{log}"
    );
}

/// The banner's counts read as English: one store is "1 custom key store", one failing
/// request "the first request".
#[test]
fn the_banner_says_one_store_and_one_request_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("stores.json");
    let file = serde_json::json!({"Stores": [{
        "AccountId": demo::ACCOUNT_ID,
        "Region": demo::REGION,
        "CustomKeyStores": [common::xks_entry(1, "only", "CONNECTED")],
    }]});
    std::fs::write(&data, file.to_string()).unwrap();
    let child = common::kms_server_binary()
        .args(["--listen", "127.0.0.1:0", "--fail-first", "1", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kms-server starts");
    let banner = first_two_banner_lines(child);
    assert!(
        banner.contains("; 1 custom key store; default page size")
            && banner.contains("; fail rate 0, and the first request\n"),
        "{banner}"
    );
}

/// `--fail-with` takes the wire codes of the errors it may answer with (the banner names
/// them after the fail rate), and refuses anything else naming them.
#[test]
fn fail_with_names_the_errors_it_takes() {
    let child = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--fail-rate",
        "1",
        "--fail-with",
        "ThrottlingException",
        "--fail-first",
        "2",
        "--latency-ms",
        "250",
    ]);
    let banner = first_two_banner_lines(child);
    assert!(
        banner.contains(
            "; fail rate 1, and the first 2 requests (ThrottlingException); latency 250 ms\n"
        ),
        "{banner}"
    );

    let output = common::kms_server_binary()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--fail-with",
            "ThrottlingException,Bogus",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "`Bogus` is not an error fault injection answers with: one of \
             KMSInternalException, ThrottlingException"
        ),
        "{stderr}"
    );
}

/// `--latency-ms` is bounded: more than 5 minutes is refused, saying so.
#[test]
fn latency_past_five_minutes_is_refused() {
    let output = common::kms_server_binary()
        .args(["--listen", "127.0.0.1:0", "--latency-ms", "300001"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid value '300001' for '--latency-ms <MS>'")
            && stderr.contains("300001 is not in 0..=300000"),
        "{stderr}"
    );
}

/// A value from a `KMS_SERVER_*` variable that cannot be used is refused naming the
/// variable (clap named the flag, which the user never wrote); a flag given on the command
/// line wins over its variable, and is named itself.
#[test]
fn a_bad_environment_variable_is_named() {
    let refused = |env: &[(&str, &std::ffi::OsStr)], args: &[&str]| {
        let output = common::kms_server_binary()
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{env:?} {args:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let os = std::ffi::OsStr::new;
    for (name, value, want) in [
        (
            "KMS_SERVER_FAIL_RATE",
            "1.5",
            "error: invalid value '1.5' for KMS_SERVER_FAIL_RATE (the environment variable of \
             --fail-rate): 1.5 is not between 0 and 1",
        ),
        (
            "KMS_SERVER_CONFIG",
            "",
            "error: a value is required for KMS_SERVER_CONFIG (the environment variable of \
             --config) but none was supplied",
        ),
        (
            "KMS_SERVER_MARKER_KEY",
            "",
            "error: invalid value '' for KMS_SERVER_MARKER_KEY (the environment variable of \
             --marker-key): a passphrase must not be empty",
        ),
    ] {
        let stderr = refused(&[(name, os(value))], &[]);
        assert!(stderr.contains(want), "{stderr}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let stderr = refused(
            &[(
                "KMS_SERVER_MARKER_KEY",
                std::ffi::OsStr::from_bytes(b"\xff"),
            )],
            &[],
        );
        assert!(
            stderr.contains(
                "error: KMS_SERVER_MARKER_KEY (the environment variable of --marker-key) is \
                 not UTF-8"
            ),
            "{stderr}"
        );
    }
    // The flag wins, and its own fault names the flag.
    let stderr = refused(&[("KMS_SERVER_FAIL_RATE", os("abc"))], &["--fail-rate=2"]);
    assert!(
        stderr.contains("error: invalid value '2' for '--fail-rate <P>': 2 is not between 0 and 1"),
        "{stderr}"
    );
    let stderr = refused(
        &[("KMS_SERVER_FAIL_RATE", os("0.5"))],
        &["--marker-key", ""],
    );
    assert!(
        stderr.contains("invalid value '' for '--marker-key <PASSPHRASE>'"),
        "{stderr}"
    );
    // A good flag over a bad variable: the variable is not read.
    let child = common::kms_server_binary()
        .args(["--listen", "127.0.0.1:0", "--fail-rate", "0.5"])
        .env("KMS_SERVER_FAIL_RATE", "abc")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let banner = first_two_banner_lines(child);
    assert!(banner.contains("; fail rate 0.5\n"), "{banner}");
}

/// A `KMS_SERVER_*` variable that no flag reads (a typo, or a flag that has none) is
/// warned of at start, not ignored without a word.
#[cfg(unix)]
#[test]
fn an_unknown_environment_variable_is_warned_of() {
    let mut child = common::kms_server_binary()
        .args(["--listen", "127.0.0.1:0"])
        .env("KMS_SERVER_MAX_CONNECTIONS", "5")
        .env("KMS_SERVER_FAIL_FIRST", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    endpoint_of(&mut child);
    signal(&child, "TERM");
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(
        log.contains(
            "WARN KMS_SERVER_MAX_CONNECTIONS is not a variable kms-server reads, and is ignored \
             (it reads KMS_SERVER_LISTEN, KMS_SERVER_CONFIG, "
        ),
        "{log}"
    );
    // One it reads is not warned of.
    assert!(!log.contains("KMS_SERVER_FAIL_FIRST is not"), "{log}");
}
