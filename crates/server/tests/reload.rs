//! Replacing the served stores while the server runs: `ServerConfig::reload_data`, and
//! SIGHUP making the `kms-server` binary read its `--data` file again (a faulty file
//! changes nothing).

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Call, send};
use kms_server::{ServerConfig, demo};
use serde_json::{Value, json};

/// A data file of the demo account's us-east-1 stores: `(id suffix, connection state)`.
fn write_data(path: &Path, stores: &[(u32, &str)]) {
    let entries: Vec<Value> = stores
        .iter()
        .map(|(n, state)| common::xks_entry(*n, &format!("reload-{n}"), state))
        .collect();
    let file = json!({"Stores": [
        {"AccountId": demo::ACCOUNT_ID, "Region": demo::REGION, "CustomKeyStores": entries}
    ]});
    std::fs::write(path, file.to_string()).unwrap();
}

#[test]
fn reload_data_reads_the_file_again_and_keeps_generated_stores() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stores.json");
    write_data(&path, &[(1, "CONNECTED")]);
    let config = ServerConfig::demo()
        .with_data_file(&path)
        .unwrap()
        .with_generated_stores(3);
    assert_eq!(config.stores().len(), 4);
    assert_eq!(config.data_file(), Some(path.as_path()));

    write_data(&path, &[(1, "DISCONNECTED"), (2, "CONNECTED")]);
    let fresh = config
        .reload_data()
        .unwrap()
        .expect("a data file to reload");
    assert_eq!(
        fresh.stores().len(),
        5,
        "2 from the file + the same 3 generated"
    );
    assert_eq!(
        fresh.stores()[0]
            .1
            .entry()
            .connection_state
            .unwrap()
            .as_str(),
        "DISCONNECTED"
    );

    std::fs::write(&path, "{not json").unwrap();
    let error = config.reload_data().unwrap_err();
    assert!(error.to_string().contains("stores.json"), "{error}");
    assert!(matches!(ServerConfig::demo().reload_data(), Ok(None)));
    // Stores given afterwards replace the file's: nothing to reload any more.
    let replaced = config.with_key_stores(Vec::new());
    assert_eq!(replaced.data_file(), None);
    assert!(matches!(replaced.reload_data(), Ok(None)));
}

/// Generated stores never replace a store of the file nor clash with one: numbers whose
/// id or name the file already uses are skipped, also when the file is read again.
#[test]
fn generated_stores_skip_the_ids_and_names_the_data_file_uses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stores.json");
    let file = json!({"Stores": [{"AccountId": demo::ACCOUNT_ID, "Region": demo::REGION, "CustomKeyStores": [
        {"CustomKeyStoreId": "cks-00000000000000001", "CustomKeyStoreName": "mine"},
        {"CustomKeyStoreId": "cks-1234567890abcdef0", "CustomKeyStoreName": "store-000002"},
    ]}]});
    std::fs::write(&path, file.to_string()).unwrap();
    let config = ServerConfig::demo()
        .with_data_file(&path)
        .unwrap()
        .with_generated_stores(3);
    let names = |config: &ServerConfig| {
        config
            .stores()
            .iter()
            .map(|(_, s)| s.entry().custom_key_store_name.unwrap())
            .collect::<Vec<_>>()
    };
    let expected = [
        "mine",
        "store-000002",
        "store-000003",
        "store-000004",
        "store-000005",
    ];
    assert_eq!(names(&config), expected);
    let store = config.memory_store().expect("no two stores clash");
    let owner = kms_server::store::Owner::new(demo::ACCOUNT_ID, demo::REGION);
    let mine = store.get(&owner, "cks-00000000000000001").unwrap();
    assert_eq!(mine.entry().custom_key_store_name.as_deref(), Some("mine"));
    let fresh = config.reload_data().unwrap().unwrap();
    assert_eq!(names(&fresh), expected);
}

/// Stores given as a library value that clash are an error naming them; neither is
/// dropped silently.
#[test]
fn clashing_stores_are_an_error_naming_them() {
    const ONE: &str = "cks-00000000000000001";
    const TWO: &str = "cks-00000000000000002";
    for (stores, expected) in [
        (
            vec![store(demo::REGION, ONE, "a"), store(demo::REGION, ONE, "b")],
            format!(
                "stores: account 111122223333 region us-east-1 has two stores with the id '{ONE}'"
            ),
        ),
        (
            vec![store(demo::REGION, ONE, "a"), store(demo::REGION, TWO, "a")],
            "stores: account 111122223333 region us-east-1 has two stores with the name 'a'"
                .to_owned(),
        ),
    ] {
        let error = ServerConfig::demo()
            .with_key_stores(stores)
            .memory_store()
            .unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}

/// A store of the demo account in `region`, with `id` and `name`.
fn store(region: &str, id: &str, name: &str) -> (kms_server::store::Owner, kms_server::KeyStore) {
    let entry = kms_types::CustomKeyStoresListEntry::builder()
        .custom_key_store_id(id)
        .custom_key_store_name(name)
        .build();
    (
        kms_server::store::Owner::new(demo::ACCOUNT_ID, region),
        kms_server::KeyStore::new(entry).unwrap(),
    )
}

/// Stores given in code are checked as a data file's are. One that KMS could not return
/// is refused by `KeyStore::new`, so that no way of handing it to a server (with
/// `with_key_stores`, or `Storage::put` while serving) can serve it; one that no request
/// could reach makes serving fail, naming it (it used to be served, or silently
/// unreachable).
#[tokio::test]
async fn stores_given_in_code_are_checked_as_data_files_are() {
    const ID: &str = "cks-00000000000000001";
    let refused = |change: fn(&mut kms_types::CustomKeyStoresListEntry)| {
        let (_, store) = store(demo::REGION, ID, "changed");
        let mut entry = store.entry();
        change(&mut entry);
        kms_server::KeyStore::new(entry).unwrap_err().to_string()
    };
    assert_eq!(
        refused(|e| e.connection_state = Some(kms_types::ConnectionStateType::Failed)),
        "a FAILED store needs a ConnectionErrorCode (KMS always says why) at 'connectionErrorCode'"
    );
    assert_eq!(
        refused(|e| e.cloud_hsm_cluster_id = Some("cluster-1a23b4cdefg".into())),
        "1 validation error detected: Value 'cluster-1a23b4cdefg' at 'cloudHsmClusterId' failed \
         to satisfy constraint: Member must satisfy regular expression pattern: \
         ^cluster-[2-7a-zA-Z]{11,16}$"
    );
    assert_eq!(
        refused(|e| e.custom_key_store_name = None),
        "1 validation error detected: Value null at 'customKeyStoreName' failed to satisfy \
         constraint: Member must not be null"
    );

    let config = ServerConfig::demo().with_key_stores(vec![
        store(demo::REGION, "cks-00000000000000002", "ok"),
        store("eu-west-2", ID, "typo"),
    ]);
    let error = kms_server::serve(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(
        error.to_string(),
        format!(
            "stores: store 2 (id '{ID}'): stores of account 111122223333 are in region \
             eu-west-2, which is not served (regions: us-east-1, us-west-2)"
        )
    );
}

/// The store a configuration serves takes stores only of the accounts and regions it
/// serves: one put for a mistyped region while serving used to be taken, and never
/// listed.
#[test]
fn the_served_store_refuses_stores_no_request_could_reach() {
    use kms_server::store::{Owner, Storage, StoreError};
    let (_, served) = ServerConfig::demo().router_and_store().unwrap();
    let (owner, entry) = store(demo::REGION, "cks-00000000000000009", "new");
    assert_eq!(served.put(owner, entry.clone()), Ok(()));
    let typo = Owner::new(demo::ACCOUNT_ID, "us-east1");
    assert_eq!(
        served.put(typo, entry.clone()),
        Err(StoreError::UnknownOwner)
    );
    let stranger = Owner::new("999988887777", demo::REGION);
    assert_eq!(served.put(stranger, entry), Err(StoreError::UnknownOwner));
}

/// A configuration built in code is checked when it is served, as a file's is when it is
/// read: an access key listed under two accounts used to make the last one win silently,
/// so that a test team's caller became another account.
#[tokio::test]
async fn configurations_built_in_code_are_checked_when_served() {
    use kms_server::config::{AccessKeyConfig, AccountConfig, PrincipalConfig};
    let mut file = kms_server::FileConfig::demo();
    file.accounts.push(AccountConfig {
        id: "999988887777".into(),
        principals: vec![PrincipalConfig {
            arn: "arn:aws:iam::999988887777:user/ci".into(),
            actions: vec!["kms:*".into()],
            access_keys: vec![AccessKeyConfig {
                id: demo::ACCESS_KEY_ID.into(),
                secret: "other-secret".into(),
                session_token: None,
            }],
        }],
    });
    let error = kms_server::serve(ServerConfig::new(file), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        error.to_string(),
        format!(
            "invalid config: access key `{}` is listed twice",
            demo::ACCESS_KEY_ID
        )
    );

    let mut file = kms_server::FileConfig::demo();
    file.regions = vec!["US-EAST-1".into()];
    let error = kms_server::serve(ServerConfig::new(file), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid config: `US-EAST-1` is not a region name (like us-east-1)"
    );
}

/// Generated stores belong to the configuration's first account and region, so that a
/// configuration without the demo account or region can reach them; a data file of an
/// account the configuration does not have is refused.
#[test]
fn generated_stores_and_data_files_follow_the_configuration() {
    let file = kms_server::config::FileConfig::from_toml(
        r#"
regions = ["eu-west-1", "eu-central-1"]
[[accounts]]
id = "999988887777"
[[accounts.principals]]
arn = "arn:aws:iam::999988887777:user/ci"
actions = ["kms:*"]
[[accounts.principals.access_keys]]
id = "AKIAIOSFODNN7CITESTS"
secret = "ci-secret"
"#,
    )
    .unwrap();
    // None of the demo stores is reachable with this configuration.
    assert!(
        ServerConfig::new(file.clone())
            .with_demo_stores()
            .stores()
            .is_empty()
    );
    let demo_file = kms_server::FileConfig::demo();
    assert_eq!(
        ServerConfig::new(demo_file).with_demo_stores().stores(),
        ServerConfig::demo().stores()
    );
    let config = ServerConfig::new(file).with_generated_stores(2);
    let owner = kms_server::store::Owner::new("999988887777", "eu-west-1");
    assert_eq!(config.generated_stores_owner(), owner);
    assert!(config.stores().iter().all(|(o, _)| *o == owner));
    assert_eq!(config.stores().len(), 2);
    assert!(config.serves(&owner));
    assert!(!config.serves(&kms_server::store::Owner::new(
        demo::ACCOUNT_ID,
        "eu-west-1"
    )));
    assert!(!config.serves(&kms_server::store::Owner::new("999988887777", demo::REGION)));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stores.json");
    let data = |account: &str| {
        json!({"Stores": [{"AccountId": account, "Region": "eu-west-1", "CustomKeyStores": [
            {"CustomKeyStoreId": "cks-1234567890abcdef0", "CustomKeyStoreName": "x"}]}]})
        .to_string()
    };
    std::fs::write(&path, data(demo::ACCOUNT_ID)).unwrap();
    let error = config
        .clone()
        .with_data_file(&path)
        .unwrap_err()
        .to_string();
    assert!(
        error
            .ends_with("account 111122223333 is not in the configuration (accounts: 999988887777)"),
        "{error}"
    );
    std::fs::write(&path, data("999988887777")).unwrap();
    assert_eq!(config.with_data_file(&path).unwrap().stores().len(), 1);
}

/// A store of an account the configuration does not have is refused naming the first
/// ten accounts it does have, not all of them (a message of 10,000 account ids).
#[test]
fn an_unknown_account_is_refused_naming_ten_accounts() {
    let mut file = kms_server::FileConfig::demo();
    let template = file.accounts[0].clone();
    file.accounts = (0..12)
        .map(|i| kms_server::config::AccountConfig {
            id: format!("{:012}", 100_000_000_000u64 + i),
            principals: Vec::new(),
        })
        .collect();
    file.accounts[0].principals = template.principals;
    let owner = kms_server::store::Owner::new(demo::ACCOUNT_ID, demo::REGION);
    let store = kms_server::KeyStore::new(
        serde_json::from_value(
            json!({"CustomKeyStoreId": "cks-1234567890abcdef0", "CustomKeyStoreName": "x"}),
        )
        .unwrap(),
    )
    .unwrap();
    let error = ServerConfig::new(file)
        .with_key_stores(vec![(owner, store)])
        .router()
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with(
            "account 111122223333 is not in the configuration (accounts: 100000000000, \
             100000000001, 100000000002, 100000000003, 100000000004, 100000000005, \
             100000000006, 100000000007, 100000000008, 100000000009 and 2 more)"
        ),
        "{error}"
    );
}

/// The binary under SIGHUP (unix only).
#[cfg(unix)]
mod sighup {
    use super::*;

    /// The binary, with what it logs.
    struct Server {
        child: Child,
        addr: SocketAddr,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn start_binary(data: &Path) -> Server {
        let mut child = common::kms_server_binary()
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kms-server starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let endpoint = stdout
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("kms-server listening on http://")
                    .map(str::to_owned)
            })
            .expect("the banner names the endpoint");
        std::thread::spawn(move || stdout.for_each(drop));
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Server {
            addr: endpoint.parse().unwrap(),
            child,
            log,
        }
    }

    impl Server {
        fn hangup(&self) {
            let status = Command::new("kill")
                .args(["-HUP", &self.child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }

        /// Waits (up to 10 s) for a log line containing `text`, after the first `skip` lines.
        fn wait_for_log(&self, skip: usize, text: &str) -> String {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(line) = self
                    .log
                    .lock()
                    .unwrap()
                    .iter()
                    .skip(skip)
                    .find(|l| l.contains(text))
                {
                    return line.clone();
                }
                assert!(
                    Instant::now() < deadline,
                    "no log line with {text:?}: {:#?}",
                    self.log.lock().unwrap()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        async fn states(&self) -> Vec<String> {
            let answer = send(self.addr, Call::new("{}")).await;
            answer.json["CustomKeyStores"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["ConnectionState"].as_str().unwrap().to_owned())
                .collect()
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sighup_reloads_the_data_file_and_a_faulty_file_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stores.json");
        write_data(&path, &[(1, "CONNECTED"), (2, "CONNECTED")]);
        let server = start_binary(&path);
        assert_eq!(server.states().await, ["CONNECTED", "CONNECTED"]);

        write_data(
            &path,
            &[(1, "DISCONNECTED"), (2, "CONNECTED"), (3, "CONNECTING")],
        );
        let seen = server.log.lock().unwrap().len();
        server.hangup();
        let line = server.wait_for_log(seen, "reloaded the data file");
        assert!(line.contains("stores=3"), "{line}");
        assert_eq!(
            server.states().await,
            ["DISCONNECTED", "CONNECTED", "CONNECTING"]
        );

        std::fs::write(&path, r#"{"Stores": [{"AccountId": "1"}]}"#).unwrap();
        let seen = server.log.lock().unwrap().len();
        server.hangup();
        let line = server.wait_for_log(seen, "was not reloaded");
        assert!(line.contains("stores.json"), "{line}");
        // Quoted, as the request lines' values are, for logfmt readers.
        assert!(line.contains(" error=\""), "{line}");
        assert_eq!(
            server.states().await,
            ["DISCONNECTED", "CONNECTED", "CONNECTING"]
        );
    }
}
