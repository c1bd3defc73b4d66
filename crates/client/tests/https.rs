//! kms-client over HTTPS: a TLS front (tokio-rustls, with a certificate authority made
//! for the test by rcgen) before a kms-server, all on 127.0.0.1. The client trusts the
//! CA through `Config`, `AWS_CA_BUNDLE` and `kms --ca-bundle`; a certificate it cannot
//! trust is a typed error that is not retried.
#![cfg(feature = "rustls")]

mod common;

use std::process::Command;
use std::sync::atomic::Ordering;

use common::{Front, STORES, all_stores, front};
use kms_client::{CaBundle, Client, Config, Error, Overrides};
use kms_server::demo;

/// A client of `front` with the demo credentials, trusting the test CA or Mozilla's roots.
fn client(front: &Front, trust_the_ca: bool) -> Client {
    let builder = common::builder(front);
    let builder = if trust_the_ca {
        builder.ca_bundle(CaBundle::from_pem(front.ca_pem.as_bytes()).unwrap())
    } else {
        builder
    };
    Client::new(builder.build().unwrap())
}

/// The error of a call to `front` that must fail on its certificate.
async fn certificate_error(front: &Front, trust_the_ca: bool) -> Error {
    let error = client(front, trust_the_ca)
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Certificate { .. }), "{error:?}");
    error
}

#[tokio::test]
async fn calls_over_https_when_the_ca_bundle_is_trusted() {
    let front = front(&["127.0.0.1"]).await;
    let count = all_stores(&client(&front, true)).await.unwrap();
    assert!(count >= STORES, "{count} stores");
    // The pooled connection is reused across pages.
    assert_eq!(front.connections.load(Ordering::SeqCst), 1);
}

/// An `https://` endpoint whose server speaks plain HTTP (kms-server without TLS): the
/// error says so, where rustls alone said "received corrupt message of type
/// InvalidContentType".
#[tokio::test]
async fn https_to_a_plain_http_server_says_to_use_http() {
    let server = kms_server::serve(
        kms_server::ServerConfig::demo(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let endpoint = server.endpoint().replace("http://", "https://");
    let client = Client::new(common::demo_builder(&endpoint).build().unwrap());
    let error = client
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    let message = error.report();
    assert!(message.contains("InvalidContentType"), "{message}");
    assert!(
        message.contains("answered in plain text, not TLS")
            && message.contains("takes an http:// endpoint"),
        "{message}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_certificate_error_and_is_not_retried() {
    let front = front(&["127.0.0.1"]).await;
    // Mozilla's roots do not include the test CA.
    let error = certificate_error(&front, false).await;
    assert!(!error.is_retryable());
    let message = error.report();
    assert!(message.contains(&front.endpoint), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(message.contains("AWS_CA_BUNDLE"), "{message}");
    assert_eq!(
        front.connections.load(Ordering::SeqCst),
        1,
        "a rejected certificate must not be retried"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_rejected() {
    let front = front(&["kms.example"]).await;
    let error = certificate_error(&front, true).await;
    let message = error.report();
    assert!(message.contains("not valid for name"), "{message}");
    assert!(
        message.contains(
            "it does not name the endpoint's host: call the endpoint by a name the \
             certificate lists"
        ) && !message.contains("--ca-bundle"),
        "a trusted CA is no help: {message}"
    );
    assert!(
        !error.to_string().contains("not valid for name"),
        "Display leaves the TLS error to source(): {error}"
    );
    let mut causes = String::new();
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        causes.push_str(&format!("{s}: "));
        source = s.source();
    }
    assert!(causes.contains("not valid for name"), "{causes}");
}

/// A certificate past its validity period, from a trusted CA: the message says to check
/// the clock or renew it, not to trust a CA.
#[tokio::test]
async fn an_expired_certificate_says_to_check_the_clock_or_renew_it() {
    let ca_params = {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
    };
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
    leaf.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let leaf = leaf.signed_by(&key, &ca).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, leaf.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let tls = kms_server::TlsConfig::from_pem_files(&cert_file, &key_file).unwrap();
    let front = common::front_with(tls, ca.pem()).await;
    let error = certificate_error(&front, true).await;
    let message = error.report();
    assert!(
        message.contains(
            "it is expired or not yet valid: check this machine's clock, or have the \
             certificate renewed"
        ) && !message.contains("--ca-bundle"),
        "{message}"
    );
}

#[tokio::test]
async fn aws_ca_bundle_from_the_environment_is_used() {
    let front = front(&["127.0.0.1"]).await;
    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("ca.pem");
    std::fs::write(&ca, &front.ca_pem).unwrap();
    let vars = [
        ("HOME", home.path().display().to_string()),
        ("AWS_ACCESS_KEY_ID", demo::ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", demo::SECRET_ACCESS_KEY.to_owned()),
        ("AWS_REGION", demo::REGION.to_owned()),
        ("AWS_ENDPOINT_URL", front.endpoint.clone()),
        ("AWS_CA_BUNDLE", ca.display().to_string()),
    ];
    let env = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let config = Config::from_env_with(&env, &Overrides::default()).unwrap();
    let count = all_stores(&Client::new(config)).await.unwrap();
    assert!(count >= STORES, "{count} stores");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_takes_ca_bundle_and_explains_a_rejected_certificate() {
    let front = front(&["127.0.0.1"]).await;
    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("ca.pem");
    std::fs::write(&ca, &front.ca_pem).unwrap();
    let kms = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kms"));
        c.env_clear()
            .env("HOME", home.path())
            .env("AWS_ACCESS_KEY_ID", demo::ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", demo::SECRET_ACCESS_KEY)
            .env("AWS_REGION", demo::REGION)
            .args(["--endpoint-url", &front.endpoint])
            .args(extra)
            .arg("describe-custom-key-stores");
        c
    };
    let trusted = tokio::task::spawn_blocking({
        let mut c = kms(&["--ca-bundle", ca.to_str().unwrap()]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&trusted.stdout).unwrap();
    assert!(json["CustomKeyStores"].as_array().unwrap().len() >= STORES);

    let untrusted = tokio::task::spawn_blocking({
        let mut c = kms(&[]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(untrusted.status.code(), Some(255));
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(stderr.contains("--ca-bundle"), "{stderr}");

    let missing = tokio::task::spawn_blocking({
        let mut c = kms(&["--ca-bundle", "/nonexistent/ca.pem"]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(missing.status.code(), Some(253), "a configuration error");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("/nonexistent/ca.pem") && stderr.contains("--ca-bundle"),
        "{stderr}"
    );
}

/// The connect timeout bounds the TLS handshake too: a server that accepts the TCP
/// connection and never answers the handshake is a connect timeout, not an attempt's
/// (which is far longer here).
#[tokio::test]
async fn a_stalled_tls_handshake_is_a_connect_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let connect = std::time::Duration::from_millis(300);
    let client = Client::new(
        common::demo_builder(&endpoint)
            .retry(kms_client::RetryConfig::disabled())
            .timeouts(kms_client::Timeouts {
                connect,
                attempt: std::time::Duration::from_secs(60),
                total: std::time::Duration::from_secs(120),
            })
            .build()
            .unwrap(),
    );
    let error = client
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    let Error::Timeout {
        kind,
        limit,
        attempts,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        (*kind, *limit, *attempts),
        (kms_client::TimeoutKind::Connect, connect, 1)
    );
    assert!(error.is_retryable());
    assert!(
        error.to_string().starts_with(&format!(
            "connecting to {endpoint} timed out after 300ms; check the endpoint and network, \
             or raise the timeout (Config.timeouts.connect)"
        )),
        "{error}"
    );
    held.abort();
}
