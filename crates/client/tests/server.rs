//! The client against kms-server on 127.0.0.1: pagination of 2,500 stores, both
//! filters, every error class, and configuration from the environment and from
//! profile files in a temp dir.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::TryStreamExt;
use kms_client::{AuthErrorKind, Client, Config, Credentials, Error, Overrides, RetryConfig};
use kms_server::{ServerConfig, demo};
use kms_types::{CustomKeyStoresListEntry, DescribeCustomKeyStoresError};

async fn server(n: usize) -> kms_server::RunningServer {
    kms_server::serve(
        ServerConfig::demo().with_generated_stores(n),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

fn client(endpoint: &str, akid: &str, secret: &str, token: Option<&str>) -> Client {
    client_in(endpoint, "us-east-1", akid, secret, token)
}

fn client_in(
    endpoint: &str,
    region: &str,
    akid: &str,
    secret: &str,
    token: Option<&str>,
) -> Client {
    Client::new(
        Config::builder()
            .endpoint(endpoint)
            .region(region)
            .credentials(Credentials::new(akid, secret, token.map(str::to_owned)))
            .retry(RetryConfig {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
            })
            .build()
            .unwrap(),
    )
}

fn demo_client(endpoint: &str) -> Client {
    client(endpoint, demo::ACCESS_KEY_ID, demo::SECRET_ACCESS_KEY, None)
}

async fn all(client: &Client, limit: Option<i32>) -> Vec<CustomKeyStoresListEntry> {
    client
        .describe_custom_key_stores()
        .set_limit(limit)
        .into_paginator()
        .items()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn paginates_2500_generated_stores() {
    let base = server(0).await;
    let base_count = all(&demo_client(&base.endpoint()), None).await.len();
    base.shutdown().await;

    let srv = server(2500).await;
    let c = demo_client(&srv.endpoint());
    for limit in [Some(1000), Some(7), None] {
        let stores = all(&c, limit).await;
        assert_eq!(stores.len(), base_count + 2500, "limit {limit:?}");
        let ids: HashSet<&str> = stores
            .iter()
            .map(|s| s.custom_key_store_id.as_deref().unwrap())
            .collect();
        assert_eq!(
            ids.len(),
            stores.len(),
            "duplicate ids with limit {limit:?}"
        );
        let names: HashSet<&str> = stores
            .iter()
            .filter_map(|s| s.custom_key_store_name.as_deref())
            .collect();
        for i in [1, 42, 1000, 2500] {
            assert!(names.contains(format!("store-{i:06}").as_str()));
        }
    }
    // pages themselves: every non-last page is truncated with a marker
    let pages: Vec<_> = c
        .describe_custom_key_stores()
        .limit(1000)
        .into_paginator()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), (base_count + 2500).div_ceil(1000));
    let (last, rest) = pages.split_last().unwrap();
    assert!(rest.iter().all(|p| p.truncated && p.next_marker.is_some()));
    assert!(!last.truncated && last.next_marker.is_none());
    srv.shutdown().await;
}

/// `send()`'s future and the paginator's streams own what they need and may move
/// between threads: they can be spawned (as the crate's documentation says).
#[tokio::test]
async fn sent_requests_can_be_spawned() {
    let srv = server(3).await;
    let c = demo_client(&srv.endpoint());
    let tasks: Vec<_> = (0..4)
        .map(|_| tokio::spawn(c.describe_custom_key_stores().limit(2).send()))
        .collect();
    for task in tasks {
        let page = task.await.unwrap().unwrap();
        assert_eq!(page.custom_key_stores.unwrap().len(), 2);
        assert!(page.truncated);
    }
    let expected = all(&c, None).await.len();
    let pages = c.describe_custom_key_stores().limit(2).into_paginator();
    let items = c
        .describe_custom_key_stores()
        .limit(2)
        .into_paginator()
        .items();
    let pages = tokio::spawn(pages.try_collect::<Vec<_>>());
    let items = tokio::spawn(items.try_collect::<Vec<_>>());
    assert_eq!(pages.await.unwrap().unwrap().len(), expected.div_ceil(2));
    assert_eq!(items.await.unwrap().unwrap().len(), expected);
    srv.shutdown().await;
}

#[tokio::test]
async fn filters_by_name_and_by_id() {
    let srv = server(50).await;
    let c = demo_client(&srv.endpoint());
    let by_name = c
        .describe_custom_key_stores()
        .custom_key_store_name("store-000042")
        .send()
        .await
        .unwrap();
    let stores = by_name.custom_key_stores.unwrap();
    assert_eq!(stores.len(), 1);
    assert_eq!(
        stores[0].custom_key_store_name.as_deref(),
        Some("store-000042")
    );
    let id = stores[0].custom_key_store_id.clone().unwrap();
    assert!(id.starts_with("cks-") && id.len() == 21, "{id}");

    let by_id = c
        .describe_custom_key_stores()
        .custom_key_store_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.custom_key_stores.unwrap(), stores);

    // both filters: the service refuses
    let err = c
        .describe_custom_key_stores()
        .custom_key_store_id(&id)
        .custom_key_store_name("store-000042")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");

    // a name that matches nothing
    let err = c
        .describe_custom_key_stores()
        .custom_key_store_name("no-such-store")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DescribeCustomKeyStores {
                error: DescribeCustomKeyStoresError::CustomKeyStoreNotFoundException(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.request_id().is_some());
    srv.shutdown().await;
}

#[tokio::test]
async fn every_error_class() {
    let srv = server(0).await;
    let ep = srv.endpoint();

    // authorization: valid user without kms permissions
    let err = client(
        &ep,
        demo::DENIED_ACCESS_KEY_ID,
        demo::DENIED_SECRET_ACCESS_KEY,
        None,
    )
    .describe_custom_key_stores()
    .send()
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                kind: AuthErrorKind::AccessDenied,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code().as_deref(), Some("AccessDeniedException"));

    // unknown access key
    let err = client(&ep, "AKIAUNKNOWNKEY000000", "x", None)
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                kind: AuthErrorKind::UnrecognizedClient,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");

    // wrong secret
    let err = client(&ep, demo::ACCESS_KEY_ID, "wrong-secret", None)
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                kind: AuthErrorKind::InvalidSignature,
                ..
            }
        ),
        "{err:?}"
    );

    // temporary credentials: fine with their token, refused without it
    let ok = client(
        &ep,
        demo::SESSION_ACCESS_KEY_ID,
        demo::SESSION_SECRET_ACCESS_KEY,
        Some(demo::SESSION_TOKEN),
    )
    .describe_custom_key_stores()
    .send()
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    let err = client(
        &ep,
        demo::SESSION_ACCESS_KEY_ID,
        demo::SESSION_SECRET_ACCESS_KEY,
        None,
    )
    .describe_custom_key_stores()
    .send()
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(!err.is_retryable());

    // a marker the server never issued
    let err = demo_client(&ep)
        .describe_custom_key_stores()
        .marker("not-a-real-marker")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::DescribeCustomKeyStores {
                error: DescribeCustomKeyStoresError::InvalidMarkerException(_),
                ..
            }
        ),
        "{err:?}"
    );

    // client-side validation, and the same input validated by the server
    let err = demo_client(&ep)
        .describe_custom_key_stores()
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let unvalidated = Client::new(
        Config::builder()
            .endpoint(&ep)
            .region("us-east-1")
            .credentials(Credentials::new(
                demo::ACCESS_KEY_ID,
                demo::SECRET_ACCESS_KEY,
                None,
            ))
            .validate_input(false)
            .build()
            .unwrap(),
    );
    let err = unvalidated
        .describe_custom_key_stores()
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(
        err.message().as_deref(),
        Some(
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )
    );
    srv.shutdown().await;

    // throttling and internal errors: retried, then surfaced
    let flaky = kms_server::serve(
        ServerConfig::demo().with_fail_rate(1.0),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    for _ in 0..4 {
        let err = demo_client(&flaky.endpoint())
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        match &err {
            Error::Throttling { attempts, .. } => assert_eq!(*attempts, 3),
            Error::DescribeCustomKeyStores {
                error: DescribeCustomKeyStoresError::KmsInternalException(_),
                meta,
            } => assert_eq!(meta.status, 500),
            other => panic!("{other:?}"),
        }
    }
    flaky.shutdown().await;
}

/// A client whose retry quota earlier throttled calls spent stops retrying before its
/// maximum number of attempts: its error says so, rather than advising more attempts.
#[tokio::test]
async fn a_retryable_error_stopped_by_the_retry_quota_says_so() {
    use kms_server::service::InjectedError;
    for injected in [InjectedError::Throttling, InjectedError::KmsInternal] {
        let failing = kms_server::serve(
            ServerConfig::demo()
                .with_fail_rate(1.0)
                .with_injected_errors([injected]),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let client = demo_client(&failing.endpoint());
        let err = client
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.meta().unwrap().attempts, 3, "{err:?}");
        assert_eq!(
            matches!(err, Error::Throttling { attempts: 3, .. }),
            injected == InjectedError::Throttling,
            "{err:?}"
        );
        assert!(err.meta().unwrap().max_attempts_reached);
        assert!(
            err.to_string()
                .contains("raise the maximum number of attempts"),
            "{err}"
        );
        // 500 tokens, 5 per retry, 2 retries a call: 50 calls spend them.
        while client.retry_quota().available() >= kms_client::retry::RetryQuota::RETRY_COST {
            client
                .describe_custom_key_stores()
                .send()
                .await
                .unwrap_err();
        }
        let err = client
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.meta().unwrap().attempts, 1, "{err:?}");
        assert!(!err.meta().unwrap().max_attempts_reached);
        let message = err.to_string();
        assert!(message.contains("retry quota"), "{message}");
        assert!(
            !message.contains("raise the maximum number of attempts"),
            "{message}"
        );
        failing.shutdown().await;
    }
}

#[tokio::test]
async fn accounts_and_regions_are_separate() {
    let srv = server(10).await;
    let ep = srv.endpoint();
    let mine: HashSet<String> = all(&demo_client(&ep), None)
        .await
        .into_iter()
        .filter_map(|s| s.custom_key_store_id)
        .collect();
    let other: HashSet<String> = all(
        &client(
            &ep,
            demo::OTHER_ACCESS_KEY_ID,
            demo::OTHER_SECRET_ACCESS_KEY,
            None,
        ),
        None,
    )
    .await
    .into_iter()
    .filter_map(|s| s.custom_key_store_id)
    .collect();
    assert!(mine.is_disjoint(&other));
    let west: HashSet<String> = all(
        &client_in(
            &ep,
            "us-west-2",
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY,
            None,
        ),
        None,
    )
    .await
    .into_iter()
    .filter_map(|s| s.custom_key_store_id)
    .collect();
    assert!(mine.is_disjoint(&west));
    srv.shutdown().await;
}

fn env_of(vars: HashMap<String, String>) -> impl Fn(&str) -> Option<String> {
    move |k| vars.get(k).cloned()
}

#[tokio::test]
async fn configuration_from_environment_variables() {
    let srv = server(3).await;
    let home = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = [
        ("HOME", home.path().display().to_string()),
        ("AWS_ACCESS_KEY_ID", demo::SESSION_ACCESS_KEY_ID.into()),
        (
            "AWS_SECRET_ACCESS_KEY",
            demo::SESSION_SECRET_ACCESS_KEY.into(),
        ),
        ("AWS_SESSION_TOKEN", demo::SESSION_TOKEN.into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL_KMS", srv.endpoint()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_env_with(&env_of(vars.clone()), &Overrides::default()).unwrap();
    assert_eq!(config.endpoint, srv.endpoint());
    let stores = all(&Client::new(config), Some(2)).await;
    assert!(
        stores
            .iter()
            .any(|s| s.custom_key_store_name.as_deref() == Some("store-000003"))
    );

    // missing region / credentials name what to set
    let mut no_region = vars.clone();
    no_region.remove("AWS_DEFAULT_REGION");
    let e = Config::from_env_with(&env_of(no_region), &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("AWS_REGION"), "{e}");
    let mut no_creds = vars;
    no_creds.remove("AWS_ACCESS_KEY_ID");
    no_creds.remove("AWS_SECRET_ACCESS_KEY");
    // (else EC2 instance metadata would be the source; tests/credentials.rs)
    no_creds.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
    let e = Config::from_env_with(&env_of(no_creds), &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("AWS_ACCESS_KEY_ID"), "{e}");
    srv.shutdown().await;
}

#[tokio::test]
async fn configuration_from_profile_files() {
    let srv = server(3).await;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    let conf = dir.path().join("conf");
    std::fs::write(
        &creds,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[local]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            demo::DENIED_ACCESS_KEY_ID,
            demo::DENIED_SECRET_ACCESS_KEY,
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    std::fs::write(
        &conf,
        format!(
            "[default]\nregion = us-east-1\n\n[profile local]\nregion = us-east-1\nendpoint_url = {}\n",
            srv.endpoint()
        ),
    )
    .unwrap();
    let vars: HashMap<String, String> = [
        ("HOME", dir.path().display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", creds.display().to_string()),
        ("AWS_CONFIG_FILE", conf.display().to_string()),
        ("AWS_PROFILE", "local".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_env_with(&env_of(vars.clone()), &Overrides::default()).unwrap();
    assert_eq!(
        config.credentials.as_static().unwrap().access_key_id,
        demo::ACCESS_KEY_ID
    );
    let stores = all(&Client::new(config), None).await;
    assert!(stores.len() >= 3);

    // the default profile holds the denied user: same endpoint via an override
    let mut default_vars = vars;
    default_vars.remove("AWS_PROFILE");
    let config = Config::from_env_with(
        &env_of(default_vars),
        &Overrides {
            endpoint_url: Some(srv.endpoint()),
            ..Default::default()
        },
    )
    .unwrap();
    let err = Client::new(config)
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                kind: AuthErrorKind::AccessDenied,
                ..
            }
        ),
        "{err:?}"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn many_sequential_calls_on_one_client() {
    let srv = server(0).await;
    let c = demo_client(&srv.endpoint());
    for _ in 0..200 {
        c.describe_custom_key_stores()
            .limit(1)
            .send()
            .await
            .unwrap();
    }
    srv.shutdown().await;
}
