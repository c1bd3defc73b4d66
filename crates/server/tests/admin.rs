//! The admin endpoints (`kms-server --admin`, `ServerConfig::with_admin_endpoints`):
//! `PUT /_kms-server/stores` serves a data file's stores, `POST /_kms-server/reset` those
//! the server started with, `GET /_kms-server/requests` says which requests it answered;
//! off unless asked for.

mod common;

use std::net::SocketAddr;

use common::{Answer, Call, send, start};
use kms_server::{InjectedError, ServerConfig, demo};
use serde_json::{Value, json};

/// A data file of the demo account's us-east-1 stores `cks-<n>`, named `admin-<n>`.
fn data_file(numbers: &[u32], region: &str) -> Vec<u8> {
    let entries: Vec<Value> = numbers
        .iter()
        .map(|n| common::xks_entry(*n, &format!("admin-{n}"), "DISCONNECTED"))
        .collect();
    json!({"Stores": [
        {"AccountId": demo::ACCOUNT_ID, "Region": region, "CustomKeyStores": entries}
    ]})
    .to_string()
    .into_bytes()
}

/// An unsigned request to an admin endpoint.
async fn admin(addr: SocketAddr, method: &'static str, path: &str, body: Vec<u8>) -> Answer {
    let call = Call {
        method,
        path: path.into(),
        target: None,
        content_type: None,
        creds: None,
        ..Call::new(body)
    };
    send(addr, call).await
}

/// The names of the demo account's stores in us-east-1, as DescribeCustomKeyStores
/// lists them.
async fn names(addr: SocketAddr) -> Vec<String> {
    let answer = send(addr, Call::new(r#"{"Limit": 1000}"#)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    answer.json["CustomKeyStores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["CustomKeyStoreName"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn put_serves_exactly_the_files_stores_and_reset_puts_back_the_start() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    let at_start = names(addr).await;
    assert_eq!(at_start.len(), 12, "{at_start:?}");

    let put = admin(
        addr,
        "PUT",
        "/_kms-server/stores",
        data_file(&[2, 1], demo::REGION),
    )
    .await;
    assert_eq!(put.status, 200, "{:?}", put.json);
    assert_eq!(put.json, json!({"StoreCount": 2}));
    assert_eq!(names(addr).await, ["admin-1", "admin-2"]);
    // The demo's other account and region are gone too: the file is all there is.
    let other = send(addr, Call::new("{}").region("us-west-2")).await;
    assert_eq!(other.json["CustomKeyStores"], json!([]), "{:?}", other.json);

    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    assert_eq!(reset.status, 200, "{:?}", reset.json);
    assert_eq!(
        reset.json,
        json!({"StoreCount": ServerConfig::demo().stores().len()})
    );
    assert_eq!(names(addr).await, at_start);
    server.shutdown().await;
}

#[tokio::test]
async fn a_faulty_file_is_refused_whole_and_the_stores_stay() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    let before = names(addr).await;
    let mut duplicate: Value = serde_json::from_slice(&data_file(&[1], demo::REGION)).unwrap();
    let entries = duplicate["Stores"][0]["CustomKeyStores"]
        .as_array_mut()
        .unwrap();
    entries.push(entries[0].clone());
    let mut unknown_member: Value = serde_json::from_slice(&data_file(&[1], demo::REGION)).unwrap();
    unknown_member["Stores"][0]["CustomKeyStores"][0]["ConectionState"] = json!("CONNECTED");
    let mut made_up_id: Value = serde_json::from_slice(&data_file(&[1, 2], demo::REGION)).unwrap();
    made_up_id["Stores"][0]["CustomKeyStores"][1]["CustomKeyStoreId"] = json!("store-two");
    for (body, says) in [
        (b"{\"Stores\": [".to_vec(), "ends too soon"),
        (b"[]".to_vec(), "not a data file"),
        (
            data_file(&[1], "eu-west-1"),
            "region eu-west-1, which is not served",
        ),
        (
            duplicate.to_string().into_bytes(),
            "duplicate CustomKeyStoreId",
        ),
        (
            unknown_member.to_string().into_bytes(),
            "unknown member 'ConectionState'",
        ),
        (
            made_up_id.to_string().into_bytes(),
            "CustomKeyStoreId 'store-two' at 'customKeyStores.2.member.customKeyStoreId' is not \
             an id KMS gives",
        ),
    ] {
        let answer = admin(addr, "PUT", "/_kms-server/stores", body).await;
        answer.assert_error(400, "ValidationException");
        assert!(
            answer
                .message()
                .starts_with("The stores were not replaced: "),
            "{says}: {}",
            answer.message()
        );
        assert!(
            answer.message().contains(says),
            "{says}: {}",
            answer.message()
        );
        assert_eq!(names(addr).await, before, "{says}");
    }
    // A body over the limit is refused before it is read.
    let big = vec![b' '; kms_server::service::MAX_BODY_BYTES + 1];
    admin(addr, "PUT", "/_kms-server/stores", big)
        .await
        .assert_error(413, "RequestEntityTooLargeException");
    assert_eq!(names(addr).await, before);
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_methods_and_paths_are_told_the_right_ones() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    for (method, path, allow) in [
        ("POST", "/_kms-server/stores", "GET, PUT"),
        ("DELETE", "/_kms-server/stores", "GET, PUT"),
        ("PUT", "/_kms-server/reset", "POST"),
    ] {
        let answer = admin(addr, method, path, Vec::new()).await;
        answer.assert_error(405, "UnknownOperationException");
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(
            answer.message(),
            format!(
                "Method {method} is not allowed: send {} {path}.",
                allow.replace(", ", " or ")
            )
        );
    }
    let answer = admin(addr, "DELETE", "/_kms-server/faults", Vec::new()).await;
    answer.assert_error(405, "UnknownOperationException");
    assert_eq!(answer.header("allow"), Some("GET, PUT"));
    assert_eq!(
        answer.message(),
        "Method DELETE is not allowed: send GET or PUT /_kms-server/faults."
    );
    let answer = admin(addr, "POST", "/_kms-server/restart", Vec::new()).await;
    answer.assert_error(404, "UnknownOperationException");
    assert!(
        answer.message().ends_with(
            "The admin endpoints are GET or PUT /_kms-server/stores (the stores served, as a \
             data file), \
             POST /_kms-server/reset (the stores and faults the server started with), GET or \
             PUT /_kms-server/faults (its fail rate, errors and latency) and GET or DELETE \
             /_kms-server/requests (the requests it answered)."
        ),
        "{}",
        answer.message()
    );
    // KMS's own answers are as they were.
    let answer = admin(addr, "GET", "/", Vec::new()).await;
    answer.assert_error(405, "UnknownOperationException");
    assert_eq!(answer.header("allow"), Some("POST"));
    server.shutdown().await;
}

#[tokio::test]
async fn without_admin_endpoints_nothing_changes_the_stores() {
    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let before = names(addr).await;
    for (method, path) in [
        ("PUT", "/_kms-server/stores"),
        ("POST", "/_kms-server/reset"),
        ("PUT", "/_kms-server/faults"),
        ("GET", "/_kms-server/faults"),
        ("GET", "/_kms-server/requests"),
    ] {
        let answer = admin(addr, method, path, data_file(&[1], demo::REGION)).await;
        answer.assert_error(404, "UnknownOperationException");
        assert!(
            answer.message().contains(
                "The admin endpoints are off: start kms-server with --admin; in code, \
                 ServerConfig::with_admin_endpoints, or Router::with_admin for a router of \
                 your own."
            ),
            "{}",
            answer.message()
        );
    }
    assert_eq!(names(addr).await, before);
    // Other paths get the plain answer.
    let answer = admin(addr, "PUT", "/stores", Vec::new()).await;
    assert_eq!(
        answer.message(),
        "No such resource: /stores. Send POST / with an X-Amz-Target header."
    );
    server.shutdown().await;
}

#[tokio::test]
async fn faults_change_while_serving_and_reset_puts_back_the_starting_ones() {
    let config = ServerConfig::demo()
        .with_fail_rate(0.25)
        .with_injected_errors([InjectedError::KmsInternal])
        .with_admin_endpoints();
    let server = start(config).await;
    let addr = server.local_addr();
    let starting = json!({"FailRate": 0.25, "FailFirst": 0, "FailWith": ["KMSInternalException"], "LatencyMs": 0});
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!((get.status.as_u16(), &get.json), (200, &starting));

    // Every call throttled: the case a test of what code does once the SDK's retries
    // give up needs, from one test to the next without a restart.
    let body = br#"{"FailRate": 1, "FailWith": ["ThrottlingException"]}"#.to_vec();
    let put = admin(addr, "PUT", "/_kms-server/faults", body).await;
    let throttled = json!({"FailRate": 1.0, "FailFirst": 0, "FailWith": ["ThrottlingException"], "LatencyMs": 0});
    assert_eq!((put.status.as_u16(), &put.json), (200, &throttled));
    for _ in 0..5 {
        send(addr, Call::new("{}"))
            .await
            .assert_error(400, "ThrottlingException");
    }
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json, throttled);
    // Without FailWith: either error, as without --fail-with. (-0 is 0.)
    let put = admin(
        addr,
        "PUT",
        "/_kms-server/faults",
        br#"{"FailRate": -0.0}"#.to_vec(),
    )
    .await;
    // As written: -0.0 would equal 0.0 as JSON values.
    assert!(put.raw.starts_with(br#"{"FailRate":0.0,"#), "{:?}", put.raw);
    assert_eq!(
        put.json,
        json!({
            "FailRate": 0.0,
            "FailFirst": 0,
            "FailWith": ["KMSInternalException", "ThrottlingException"],
            "LatencyMs": 0
        })
    );
    assert_eq!(names(addr).await.len(), 12);

    for (body, says) in [
        (
            &br#"{"FailRate": 1.5}"#[..],
            "FailRate 1.5 is not between 0 and 1",
        ),
        (
            br#"{"FailRate": 1, "FailWith": ["Boom"]}"#,
            "FailWith: `Boom` is not an error fault injection answers with",
        ),
        (br#"{"FailRate": 1, "Fail": 1}"#, "unknown field `Fail`"),
        (br#"{}"#, "missing field `FailRate`"),
        (
            br#"{"FailRate": 0, "LatencyMs": 300001}"#,
            "LatencyMs 300001 is over 300000 (5 minutes)",
        ),
        (
            br#"{"FailRate": 0, "LatencyMs": -1}"#,
            "invalid value: integer `-1`",
        ),
    ] {
        let answer = admin(addr, "PUT", "/_kms-server/faults", body.to_vec()).await;
        answer.assert_error(400, "ValidationException");
        assert!(
            answer
                .message()
                .starts_with("The faults were not changed: ")
                && answer.message().contains(says),
            "{says}: {}",
            answer.message()
        );
    }
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(
        get.json["FailRate"],
        json!(0.0),
        "a refused body changes nothing"
    );
    // Five minutes is the most LatencyMs takes, and it is taken (the PUT below puts none back).
    let longest = br#"{"FailRate": 0, "LatencyMs": 300000}"#.to_vec();
    let put = admin(addr, "PUT", "/_kms-server/faults", longest).await;
    assert_eq!(put.status, 200, "{:?}", put.json);
    assert_eq!(put.json["LatencyMs"], json!(300_000));

    let throttle_all = br#"{"FailRate": 1, "FailWith": ["ThrottlingException"]}"#.to_vec();
    admin(addr, "PUT", "/_kms-server/faults", throttle_all).await;
    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    assert_eq!(reset.status, 200, "{:?}", reset.json);
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json, starting);
    server.shutdown().await;
}

/// The `kms-server` binary, killed when dropped.
struct Binary(std::process::Child);

impl Binary {
    /// `command` started, and its stdout (the banner).
    fn start(mut command: std::process::Command) -> (Self, std::process::ChildStdout) {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kms-server starts");
        let stdout = child.stdout.take().unwrap();
        (Self(child), stdout)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary: `KMS_SERVER_ADMIN` turns the endpoints on, the banner shows them, and a
/// reset reads the `--data` file again (as SIGHUP does).
#[tokio::test(flavor = "multi_thread")]
async fn the_binarys_reset_reads_its_data_file_again() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stores.json");
    std::fs::write(&path, data_file(&[1], demo::REGION)).unwrap();
    let mut command = common::kms_server_binary();
    command
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&path)
        .env("KMS_SERVER_ADMIN", "1");
    let (child, stdout) = Binary::start(command);
    let banner: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.starts_with("Stop with Ctrl-C"))
        .collect();
    let endpoint = banner[0]
        .strip_prefix("kms-server listening on ")
        .expect("the banner names the endpoint");
    assert!(
        banner.iter().any(|line| line
            == &format!("  curl -T stores.json {endpoint}/_kms-server/stores   # serve a --data file's stores")),
        "{banner:#?}"
    );
    let addr: SocketAddr = endpoint.strip_prefix("http://").unwrap().parse().unwrap();
    assert_eq!(names(addr).await, ["admin-1"]);

    let put = admin(
        addr,
        "PUT",
        "/_kms-server/stores",
        data_file(&[7, 8, 9], demo::REGION),
    )
    .await;
    assert_eq!(put.json, json!({"StoreCount": 3}));
    assert_eq!(names(addr).await, ["admin-7", "admin-8", "admin-9"]);
    // The file changed since the start: a reset serves what it holds now.
    std::fs::write(&path, data_file(&[4, 5], demo::REGION)).unwrap();
    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    assert_eq!(reset.json, json!({"StoreCount": 2}));
    assert_eq!(names(addr).await, ["admin-4", "admin-5"]);
    // A file with a fault now: the reset is refused, naming it, and the stores stay.
    std::fs::write(&path, b"{").unwrap();
    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    reset.assert_error(500, "DataFileException");
    assert!(
        reset.message().starts_with("The stores were not reset: ")
            && reset.message().contains("ends too soon"),
        "{}",
        reset.message()
    );
    assert_eq!(names(addr).await, ["admin-4", "admin-5"]);
    drop(child);
}

/// The entries of `GET /_kms-server/requests` (or `DELETE`), and its `Dropped`.
async fn journal(addr: SocketAddr, method: &'static str) -> (Vec<Value>, u64) {
    let answer = admin(addr, method, "/_kms-server/requests", Vec::new()).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    let entries = answer.json["Requests"].as_array().unwrap().clone();
    (entries, answer.json["Dropped"].as_u64().unwrap())
}

#[tokio::test]
async fn the_journal_says_what_each_request_asked_for_and_was_answered() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    let ok = send(addr, Call::new(r#"{"Limit": 2}"#)).await;
    let request_id = ok.assert_request_id();
    // Entered before its answer is sent: a client that has its answer finds it.
    let (entries, dropped) = journal(addr, "GET").await;
    assert_eq!(dropped, 0);
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = &entries[0];
    let time = entry["Time"].as_f64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - 60.0..=now).contains(&time), "{time} vs {now}");
    let mut entry = entry.clone();
    entry.as_object_mut().unwrap().remove("Time");
    assert_eq!(
        entry,
        json!({
            "RequestId": request_id,
            "Target": "TrentService.DescribeCustomKeyStores",
            "Operation": "DescribeCustomKeyStores",
            "AccessKeyId": demo::ACCESS_KEY_ID,
            "Account": demo::ACCOUNT_ID,
            "Region": demo::REGION,
            "Input": {"Limit": 2},
            "BodyBytes": 12,
            "Status": 200,
        })
    );

    // Refused and failed requests too, with what they were told; in order.
    let wrong_secret = common::Creds {
        secret: "not-the-secret",
        ..common::DEMO
    };
    send(addr, Call::new("{}").creds(wrong_secret))
        .await
        .assert_error(400, "InvalidSignatureException");
    send(addr, Call::new(r#"{"Limit": 0}"#))
        .await
        .assert_error(400, "ValidationException");
    send(addr, Call::new("{not json"))
        .await
        .assert_error(400, "SerializationException");
    // Health probes and the admin endpoints' own calls are not KMS requests: not kept.
    admin(addr, "GET", "/health", Vec::new()).await;
    admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    let (entries, _) = journal(addr, "DELETE").await;
    let said: Vec<(Value, Value, Value)> = entries
        .iter()
        .map(|e| {
            (
                e["Status"].clone(),
                e["ErrorCode"].clone(),
                e["Account"].clone(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            (json!(200), Value::Null, json!(demo::ACCOUNT_ID)),
            (json!(400), json!("InvalidSignatureException"), Value::Null),
            (
                json!(400),
                json!("ValidationException"),
                json!(demo::ACCOUNT_ID)
            ),
            (
                json!(400),
                json!("SerializationException"),
                json!(demo::ACCOUNT_ID)
            ),
        ],
        "{entries:#?}"
    );
    assert!(
        entries[2]["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("Value '0' at 'limit' failed to satisfy constraint"),
        "{:#?}",
        entries[2]
    );
    assert_eq!(entries[2]["Input"], json!({"Limit": 0}));
    // A body that is not JSON is kept as text.
    assert_eq!(entries[3]["Body"], json!("{not json"));
    assert_eq!(entries[3].get("Input"), None);
    // The signature was not checked: the key is only what the request claimed.
    assert_eq!(entries[1]["AccessKeyId"], json!(demo::ACCESS_KEY_ID));
    assert_eq!(entries[1].get("Region"), None);
    // DELETE said them and forgot them, in one step.
    assert_eq!(journal(addr, "GET").await, (Vec::new(), 0));

    // A message quoting the Authorization header (no X-Amz-Date) loses its signature, as
    // in the log; an empty body is kept as none, by its size.
    let no_date = Call {
        strip: vec!["x-amz-date"],
        ..Call::new("{}")
    };
    send(addr, no_date)
        .await
        .assert_error(400, "IncompleteSignatureException");
    // (An empty body reads as `{}`, as at KMS.)
    assert_eq!(send(addr, Call::new("")).await.status, 200);
    let (entries, _) = journal(addr, "GET").await;
    let message = entries[0]["ErrorMessage"].as_str().unwrap();
    assert!(message.contains("Signature=****"), "{message}");
    let hex_run = message
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max();
    assert!(hex_run < Some(64), "a signature in {message}");
    assert_eq!(entries[1]["BodyBytes"], json!(0));
    assert_eq!(entries[1].get("Query"), None);
    // The pagination members can come in the query string: kept as sent; and a presigned
    // request's signature is masked.
    send(addr, Call::new("{}").query("Limit=3")).await;
    let presigned = Call {
        presigned: true,
        ..Call::new("{}")
    };
    assert_eq!(send(addr, presigned).await.status, 200);
    let (entries, _) = journal(addr, "GET").await;
    assert_eq!(entries[2]["Query"], json!("Limit=3"), "{:#?}", entries[2]);
    let query = entries[3]["Query"].as_str().unwrap();
    assert!(
        query.contains("X-Amz-Signature=****") && query.contains("X-Amz-Credential="),
        "{query}"
    );
    assert_eq!(
        kms_server::admin::masked_query("a=1&x-amz-security-token=secret&b"),
        "a=1&x-amz-security-token=****&b"
    );
    // The parser reads a name percent-decoded: `X-Amz-%53ignature` is the signature.
    assert_eq!(
        kms_server::admin::masked_query("X-Amz-%53ignature=abc&X-Amz-Security-Toke%6E=t"),
        "X-Amz-%53ignature=****&X-Amz-Security-Toke%6E=****"
    );
    assert_eq!(
        (entries[1].get("Input"), entries[1].get("Body")),
        (None, None)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_journal_keeps_a_json_input_as_the_client_wrote_it() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    // A number beyond 64 bits (not turned into a float) and a repeated member (not
    // reduced to its last value), as a client with a bug could send them.
    let input = r#"{"Limit": 100000000000000000000001, "Marker": "a", "Marker": "b"}"#;
    send(addr, Call::new(format!(" {input}\n")))
        .await
        .assert_error(400, "SerializationException");
    let answer = admin(addr, "GET", "/_kms-server/requests", Vec::new()).await;
    let text = std::str::from_utf8(&answer.raw).unwrap();
    assert!(text.contains(&format!(r#""Input":{input},"#)), "{text}");
    assert_eq!(
        answer.json["Requests"][0]["BodyBytes"],
        json!(input.len() + 2)
    );
    server.shutdown().await;
}

/// A body that is JSON in form only (a lone surrogate, a number beyond f64, nesting beyond
/// a JSON reader's depth) is kept as text: as `Input`, the journal would not read as
/// JSON, every entry lost to the test that asks for it.
#[tokio::test]
async fn the_journal_keeps_a_body_no_json_reader_takes_as_text() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let bodies = [
        r#"{"Marker": "\ud800"}"#.to_owned(),
        r#"{"Marker": "\udc00"}"#.to_owned(),
        r#"{"Limit": 1e400}"#.to_owned(),
        deep,
    ];
    for body in &bodies {
        send(addr, Call::new(body.clone())).await;
    }
    let (entries, _) = journal(addr, "GET").await;
    assert_eq!(entries.len(), bodies.len());
    for (entry, body) in entries.iter().zip(&bodies) {
        assert_eq!(entry.get("Input"), None, "{entry}");
        assert_eq!(entry["Body"], json!(body));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_journal_is_bounded_and_a_reset_empties_it() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    let capacity = kms_server::admin::JOURNAL_CAPACITY;
    let body = |n: usize| format!(r#"{{"CustomKeyStoreName": "store-{n}"}}"#);
    for n in 0..capacity + 3 {
        send(addr, Call::new(body(n))).await;
    }
    let (entries, dropped) = journal(addr, "GET").await;
    assert_eq!((entries.len(), dropped), (capacity, 3));
    // The oldest were forgotten.
    assert_eq!(entries[0]["Input"]["CustomKeyStoreName"], json!("store-3"));
    assert_eq!(
        entries[capacity - 1]["Input"]["CustomKeyStoreName"],
        json!(format!("store-{}", capacity + 2))
    );
    // A body too large to keep is kept by its size only.
    let large = format!(
        r#"{{"CustomKeyStoreName": "{}"}}"#,
        "x".repeat(kms_server::admin::JOURNAL_MAX_BODY)
    );
    let size = large.len();
    send(addr, Call::new(large)).await;
    let (entries, _) = journal(addr, "GET").await;
    let last = entries.last().unwrap();
    assert_eq!((last.get("Input"), last.get("Body")), (None, None));
    assert_eq!(last["BodyBytes"], json!(size));
    assert_eq!(last["ErrorCode"], json!("ValidationException"));
    // So is what it was told, which quotes the name whole, and so is a long target.
    let message = last["ErrorMessage"].as_str().unwrap();
    assert_eq!(
        message.chars().count(),
        kms_server::admin::JOURNAL_MAX_MESSAGE + 3,
        "{message}"
    );
    assert!(message.ends_with("..."));
    let long_target = format!("TrentService.{}", "X".repeat(10_000));
    send(
        addr,
        Call {
            target: Some(long_target.clone()),
            ..Call::new("{}")
        },
    )
    .await
    .assert_error(400, "UnknownOperationException");
    let (entries, _) = journal(addr, "GET").await;
    let last = entries.last().unwrap();
    assert_eq!(last["Target"], json!(format!("{}...", &long_target[..128])));

    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    assert_eq!(reset.status, 200, "{:?}", reset.json);
    assert_eq!(journal(addr, "GET").await, (Vec::new(), 0));
    let answer = admin(addr, "PUT", "/_kms-server/requests", Vec::new()).await;
    answer.assert_error(405, "UnknownOperationException");
    assert_eq!(answer.header("allow"), Some("GET, DELETE"));
    server.shutdown().await;
}

/// A slow KMS: each authenticated request is answered only after the latency, set at the
/// start (`--latency-ms`, `ServerConfig::with_latency`) or while serving, and put back by
/// a reset. (A lower bound only: the wait is at least this long on any machine.)
#[tokio::test]
async fn latency_delays_each_answer_and_reset_puts_back_the_starting_one() {
    use std::time::{Duration, Instant};

    let config = ServerConfig::demo()
        .with_latency(Duration::from_millis(150))
        .with_admin_endpoints();
    let server = start(config).await;
    let addr = server.local_addr();
    let timed = |call: Call| async move {
        let started = Instant::now();
        let answer = send(addr, call).await;
        (answer, started.elapsed())
    };
    let (answer, took) = timed(Call::new("{}")).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert!(took >= Duration::from_millis(150), "{took:?}");
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json["LatencyMs"], json!(150));

    let body = br#"{"FailRate": 1, "FailWith": ["ThrottlingException"], "LatencyMs": 400}"#;
    let put = admin(addr, "PUT", "/_kms-server/faults", body.to_vec()).await;
    assert_eq!(put.json["LatencyMs"], json!(400), "{:?}", put.json);
    // Injected failures wait too: a slow, then throttled, KMS.
    let (answer, took) = timed(Call::new("{}")).await;
    answer.assert_error(400, "ThrottlingException");
    assert!(took >= Duration::from_millis(400), "{took:?}");

    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    assert_eq!(reset.status, 200, "{:?}", reset.json);
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json["LatencyMs"], json!(150));
    assert_eq!(get.json["FailRate"], json!(0.0));
    server.shutdown().await;
}

/// A deterministic failure for a test of retries: the first requests fail whatever the
/// fail rate (those refused before fault injection, for their signature, do not count),
/// then the rest succeed; `GET` says how many are still to fail, a reset puts back the
/// starting count.
#[tokio::test]
async fn fail_first_fails_exactly_the_next_requests() {
    let config = ServerConfig::demo()
        .with_failing_first(1)
        .with_injected_errors([InjectedError::Throttling])
        .with_admin_endpoints();
    let server = start(config).await;
    let addr = server.local_addr();
    let wrong_secret = common::Creds {
        secret: "not-the-secret",
        ..common::DEMO
    };
    send(addr, Call::new("{}").creds(wrong_secret))
        .await
        .assert_error(400, "InvalidSignatureException");
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json["FailFirst"], json!(1));
    send(addr, Call::new("{}"))
        .await
        .assert_error(400, "ThrottlingException");
    assert_eq!(names(addr).await.len(), 12);

    let body = br#"{"FailRate": 0, "FailFirst": 3, "FailWith": ["KMSInternalException"]}"#;
    let put = admin(addr, "PUT", "/_kms-server/faults", body.to_vec()).await;
    assert_eq!(put.json["FailFirst"], json!(3), "{:?}", put.json);
    send(addr, Call::new("{}"))
        .await
        .assert_error(500, "KMSInternalException");
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json["FailFirst"], json!(2));
    for _ in 0..2 {
        send(addr, Call::new("{}"))
            .await
            .assert_error(500, "KMSInternalException");
    }
    for _ in 0..3 {
        assert_eq!(names(addr).await.len(), 12);
    }
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json["FailFirst"], json!(0));

    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    assert_eq!(reset.status, 200, "{:?}", reset.json);
    let get = admin(addr, "GET", "/_kms-server/faults", Vec::new()).await;
    assert_eq!(get.json["FailFirst"], json!(1));
    assert_eq!(get.json["FailWith"], json!(["ThrottlingException"]));
    server.shutdown().await;
}

/// In process, without the admin endpoints: a Rust test changes fault injection while
/// the server runs, through `RunningServer::faults`; with them on, `GET` says the same.
#[tokio::test]
async fn faults_change_in_process_while_the_server_runs() {
    use std::time::{Duration, Instant};

    let server = start(ServerConfig::demo()).await;
    let addr = server.local_addr();
    let faults = server.faults();
    assert_eq!(faults.fail_rate(), 0.0);
    assert_eq!(faults.failing_first(), 0);
    assert_eq!(faults.injected_errors(), InjectedError::ALL.to_vec());
    assert_eq!(faults.latency(), Duration::ZERO);
    assert_eq!(names(addr).await.len(), 12);

    faults.set_injected_errors([InjectedError::Throttling]);
    faults.set_failing_first(2);
    for _ in 0..2 {
        send(addr, Call::new("{}"))
            .await
            .assert_error(400, "ThrottlingException");
    }
    assert_eq!(faults.failing_first(), 0);
    assert_eq!(names(addr).await.len(), 12);

    // Clones change the same settings; rates are clamped as --fail-rate's are.
    server.faults().set_fail_rate(1.0);
    send(addr, Call::new("{}"))
        .await
        .assert_error(400, "ThrottlingException");
    faults.set_fail_rate(f64::NAN);
    assert_eq!(faults.fail_rate(), 0.0);
    faults.set_fail_rate(2.0);
    assert_eq!(faults.fail_rate(), 1.0);
    // Infinities are beyond the range too: their nearer end, not "no failures".
    faults.set_fail_rate(f64::INFINITY);
    assert_eq!(faults.fail_rate(), 1.0);
    faults.set_fail_rate(f64::NEG_INFINITY);
    assert_eq!(faults.fail_rate(), 0.0);
    faults.set_injected_errors([]);
    assert_eq!(faults.injected_errors(), InjectedError::ALL.to_vec());
    faults.set_fail_rate(0.0);
    assert_eq!(names(addr).await.len(), 12);

    // A slow KMS, from the next request on (a lower bound only).
    faults.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(names(addr).await.len(), 12);
    assert!(started.elapsed() >= Duration::from_millis(300));
    faults.set_latency(Duration::from_secs(3600));
    assert_eq!(faults.latency(), kms_server::service::MAX_LATENCY);
    faults.set_latency(Duration::ZERO);
    assert!(
        format!("{faults:?}").contains("failing_first: 0"),
        "{faults:?}"
    );
    server.shutdown().await;

    // With the admin endpoints on, they say what was set in process.
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    server.faults().set_failing_first(5);
    let get = admin(
        server.local_addr(),
        "GET",
        "/_kms-server/faults",
        Vec::new(),
    )
    .await;
    assert_eq!(get.json["FailFirst"], json!(5));
    server.shutdown().await;
}

/// Saying the journal takes about the memory its answer does, not the memory of each
/// entry's input parsed: a 16 KiB body of `[0,0,...]` is 8,192 JSON values, over half a
/// megabyte parsed, and 1,000 of them parsed at once took a GET over a gigabyte. Measured
/// on the binary, whose peak memory is its own (Linux: `VmHWM`).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn saying_the_journal_takes_about_the_memory_of_its_answer() {
    use std::io::{BufRead, BufReader};

    use http_body_util::{BodyExt, Full};

    let mut command = common::kms_server_binary();
    command.args(["--listen", "127.0.0.1:0", "--admin"]);
    let (child, stdout) = Binary::start(command);
    let first = BufReader::new(stdout).lines().next().unwrap().unwrap();
    let addr: SocketAddr = first
        .strip_prefix("kms-server listening on http://")
        .expect("the banner names the endpoint")
        .parse()
        .unwrap();
    let peak = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.0.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    };

    let zeros = format!("[{}0]", "0,".repeat(8190));
    assert!(zeros.len() <= kms_server::admin::JOURNAL_MAX_BODY);
    let client = common::client();
    for _ in 0..300 {
        common::send_with(&client, addr, Call::new(zeros.clone()))
            .await
            .assert_error(400, "SerializationException");
    }
    let before = peak();
    // Read as bytes: parsed, the answer would take this test hundreds of megabytes.
    let call = Call {
        method: "GET",
        path: "/_kms-server/requests".into(),
        target: None,
        content_type: None,
        creds: None,
        ..Call::new("")
    };
    let request = common::signed(addr, &call).map(|b| Full::new(bytes::Bytes::from(b)));
    let answer = client.request(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    let said = answer.into_body().collect().await.unwrap().to_bytes();
    assert!(said.len() > 300 * zeros.len(), "{}", said.len());
    let grown = peak().saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "saying {} bytes of journal took {grown} bytes more at the peak",
        said.len()
    );
    drop(child);
}

/// A slow answer outlives a reset, and its client perhaps: the journal counts it in
/// flight (`InFlight`), does not enter it once answered (a test that resets finds only
/// its own requests), and a stopping server answers it at once instead of waiting out
/// its latency.
#[tokio::test]
async fn requests_in_flight_across_a_reset_and_a_stop() {
    use std::time::Duration;

    let config = ServerConfig::demo()
        .with_latency(Duration::from_secs(3600))
        .with_admin_endpoints();
    let server = start(config).await;
    let addr = server.local_addr();
    let in_flight = || async move {
        let answer = admin(addr, "GET", "/_kms-server/requests", Vec::new()).await;
        answer.json["InFlight"].as_u64().unwrap()
    };
    assert_eq!(in_flight().await, 0);
    let slow = tokio::spawn(send(addr, Call::new(r#"{"Limit": 1}"#)));
    // A guard against a hang, not a measure: the request is in within milliseconds.
    tokio::time::timeout(Duration::from_secs(60), async {
        while in_flight().await == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the slow request is in flight");
    let reset = admin(addr, "POST", "/_kms-server/reset", Vec::new()).await;
    assert_eq!(reset.status, 200, "{:?}", reset.json);
    // The reset put back the starting latency; stopping answers the slow one at once.
    tokio::time::timeout(Duration::from_secs(60), server.shutdown())
        .await
        .expect("the stop did not wait out the latency");
    let answered = slow.await.unwrap();
    assert_eq!(answered.status, 200, "{:?}", answered.json);
    assert_eq!(
        answered.json["CustomKeyStores"].as_array().unwrap().len(),
        1
    );
}

/// In the same process, a test reads the journal without HTTP: the router's admin
/// endpoints, kept before the router is served.
#[tokio::test]
async fn an_embedded_server_journal_is_read_in_process() {
    let config = ServerConfig::demo().with_admin_endpoints();
    let router = config.router().unwrap();
    let admin = router.admin().cloned().expect("the admin endpoints are on");
    let server = kms_server::serve_router(&config, router, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let answer = send(server.local_addr(), Call::new(r#"{"Limit": 4}"#)).await;
    let request_id = answer.assert_request_id();
    let (entries, dropped) = admin.journal().entries(false);
    assert_eq!(dropped, 0);
    let ids: Vec<&str> = entries.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(ids, [request_id.as_str()]);
    assert_eq!(entries[0].body.as_deref(), Some(&br#"{"Limit": 4}"#[..]));
    assert_eq!(admin.journal().in_flight(), 0);
    server.shutdown().await;
}

/// `GET /_kms-server/stores` says the stores served as a data file, which a `PUT` takes
/// back: read, change one store, put. Past its limit it refuses, saying why.
#[tokio::test]
async fn get_says_the_stores_as_a_data_file_to_put_back() {
    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    // The demo's stores, of two accounts and two regions: one entry each, in order, which
    // a PUT takes back whole.
    let get = admin(addr, "GET", "/_kms-server/stores", Vec::new()).await;
    assert_eq!(get.status, 200, "{:?}", String::from_utf8_lossy(&get.raw));
    let owners: Vec<(&str, &str, usize)> = get.json["Stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let stores = g["CustomKeyStores"].as_array().unwrap().len();
            (
                g["AccountId"].as_str().unwrap(),
                g["Region"].as_str().unwrap(),
                stores,
            )
        })
        .collect();
    assert_eq!(
        owners,
        [
            (demo::ACCOUNT_ID, demo::REGION, 12),
            (demo::ACCOUNT_ID, demo::SECOND_REGION, 1),
            (demo::OTHER_ACCOUNT_ID, demo::REGION, 2),
        ]
    );
    let put = admin(addr, "PUT", "/_kms-server/stores", get.raw.to_vec()).await;
    assert_eq!(put.json, json!({"StoreCount": 15}), "{:?}", put.json);
    let put = admin(
        addr,
        "PUT",
        "/_kms-server/stores",
        data_file(&[3, 1, 2], demo::REGION),
    )
    .await;
    assert_eq!(put.json, json!({"StoreCount": 3}));
    let get = admin(addr, "GET", "/_kms-server/stores", Vec::new()).await;
    assert_eq!(get.status, 200, "{:?}", get.json);
    let mut file = get.json.clone();
    assert_eq!(file["Stores"].as_array().unwrap().len(), 1, "{file}");
    assert_eq!(file["Stores"][0]["AccountId"], json!(demo::ACCOUNT_ID));
    assert_eq!(file["Stores"][0]["Region"], json!(demo::REGION));
    let listed = send(addr, Call::new("{}")).await;
    assert_eq!(
        file["Stores"][0]["CustomKeyStores"], listed.json["CustomKeyStores"],
        "the stores as DescribeCustomKeyStores lists them"
    );
    // Read, change, put back.
    file["Stores"][0]["CustomKeyStores"][0]["ConnectionState"] = json!("CONNECTED");
    let put = admin(
        addr,
        "PUT",
        "/_kms-server/stores",
        file.to_string().into_bytes(),
    )
    .await;
    assert_eq!(put.json, json!({"StoreCount": 3}), "{:?}", put.json);
    let listed = send(addr, Call::new("{}")).await;
    let states: Vec<&str> = listed.json["CustomKeyStores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ConnectionState"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["CONNECTED", "DISCONNECTED", "DISCONNECTED"]);
    server.shutdown().await;

    let many = kms_server::admin::MAX_LISTED_STORES + 1;
    let config = ServerConfig::demo()
        .with_generated_stores(many)
        .with_admin_endpoints();
    let server = start(config).await;
    let get = admin(
        server.local_addr(),
        "GET",
        "/_kms-server/stores",
        Vec::new(),
    )
    .await;
    get.assert_error(400, "ValidationException");
    assert!(
        get.message()
            .starts_with("The stores were not listed: the server serves ")
            && get
                .message()
                .contains("more than the 10000 GET /_kms-server/stores lists"),
        "{}",
        get.message()
    );
    server.shutdown().await;
}

/// Paginations while `PUT /_kms-server/stores` replaces the stores again and again: each
/// page is of one set of stores (all `CONNECTED`, or all `DISCONNECTED`), never a mix;
/// every store present throughout is listed exactly once, in id order, by each full
/// pagination (its markers continue after their position in the new stores); another
/// account sees none of them, and an account's marker is refused to another.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paginations_during_replacements_list_each_kept_store_once_from_whole_pages() {
    /// 1..=120 `CONNECTED`, or the even ones alone, `DISCONNECTED`.
    fn stores(all: bool) -> Vec<u8> {
        let (kept, state) = if all {
            (1, "CONNECTED")
        } else {
            (2, "DISCONNECTED")
        };
        let entries: Vec<Value> = (1..=120u32)
            .filter(|n| n % kept == 0)
            .map(|n| common::xks_entry(n, &format!("admin-{n}"), state))
            .collect();
        json!({"Stores": [
            {"AccountId": demo::ACCOUNT_ID, "Region": demo::REGION, "CustomKeyStores": entries}
        ]})
        .to_string()
        .into_bytes()
    }
    /// One full pagination in pages of `limit`; the ids listed.
    async fn paginate(addr: SocketAddr, limit: u32) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut body = json!({ "Limit": limit });
            if let Some(m) = &marker {
                body["Marker"] = json!(m);
            }
            let page = send(addr, Call::new(body.to_string())).await;
            assert_eq!(page.status, 200, "{:?}", page.json);
            let items = page.json["CustomKeyStores"].as_array().unwrap();
            let states: std::collections::BTreeSet<&str> = items
                .iter()
                .map(|s| s["ConnectionState"].as_str().unwrap())
                .collect();
            assert!(
                states.len() <= 1,
                "a page of two sets of stores: {states:?}"
            );
            ids.extend(
                items
                    .iter()
                    .map(|s| s["CustomKeyStoreId"].as_str().unwrap().to_owned()),
            );
            let next = page
                .json
                .get("NextMarker")
                .map(|m| m.as_str().unwrap().to_owned());
            assert_eq!(
                page.json["Truncated"],
                json!(next.is_some()),
                "{:?}",
                page.json
            );
            if let Some(m) = &next {
                // A's marker is nothing to account B.
                let foreign = Call::new(json!({ "Marker": m }).to_string()).creds(common::OTHER);
                send(addr, foreign)
                    .await
                    .assert_error(400, "InvalidMarkerException");
            }
            match next {
                Some(m) => marker = Some(m),
                None => return ids,
            }
        }
    }

    let server = start(ServerConfig::demo().with_admin_endpoints()).await;
    let addr = server.local_addr();
    let put = admin(addr, "PUT", "/_kms-server/stores", stores(true)).await;
    assert_eq!(put.json, json!({"StoreCount": 120}));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let done = std::sync::Arc::clone(&done);
        tokio::spawn(async move {
            for i in 0..20 {
                let put = admin(addr, "PUT", "/_kms-server/stores", stores(i % 2 == 1)).await;
                assert_eq!(put.status, 200, "{:?}", put.json);
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let kept: Vec<String> = (2..=120u32)
        .step_by(2)
        .map(|n| format!("cks-{n:017x}"))
        .collect();
    let readers: Vec<_> = [3, 7, 11]
        .into_iter()
        .map(|limit| {
            let (done, kept) = (std::sync::Arc::clone(&done), kept.clone());
            tokio::spawn(async move {
                // Until the replacements are over, and at least twice.
                for round in 0.. {
                    if round >= 2 && done.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let ids = paginate(addr, limit).await;
                    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
                    let missing: Vec<_> = kept.iter().filter(|id| !ids.contains(id)).collect();
                    assert!(missing.is_empty(), "limit {limit}: skipped {missing:?}");
                }
            })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap();
    }
    writer.await.unwrap();
    let other = send(addr, Call::new("{}").creds(common::OTHER)).await;
    assert_eq!(other.json["CustomKeyStores"], json!([]), "{:?}", other.json);
    server.shutdown().await;
}
