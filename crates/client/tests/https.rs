//! kms-client over HTTPS: a TLS front (tokio-rustls, with a certificate authority made
//! for the test by rcgen) before a kms-server, all on 127.0.0.1. The client trusts the
//! CA through `Config`, `AWS_CA_BUNDLE` and `kms --ca-bundle`; a certificate it cannot
//! trust is a typed error that is not retried.
#![cfg(feature = "rustls")]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::TryStreamExt;
use kms_client::{CaBundle, Client, Config, Credentials, Error, Overrides};
use kms_server::{RunningServer, ServerConfig, demo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::PrivateKeyDer;
use tokio::net::{TcpListener, TcpStream};

const STORES: usize = 25;

/// A certificate authority and a server certificate it issued for `names`.
struct Pki {
    ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn pki(names: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kms-client test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let server = CertificateParams::new(names)
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![server.der().clone()],
        key: PrivateKeyDer::from(server_key),
    }
}

/// kms-server (demo accounts, `STORES` generated stores) behind a TLS front whose
/// certificate, for `names`, a test CA issued.
struct Front {
    endpoint: String,
    /// The test CA's certificate, PEM.
    ca_pem: String,
    /// TLS handshakes the front has started (one per connection).
    connections: Arc<AtomicUsize>,
    _server: RunningServer,
}

async fn front(names: &[&str]) -> Front {
    let pki = pki(names);
    let server = kms_server::serve(
        ServerConfig::demo().with_generated_stores(STORES),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let backend = server.local_addr();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(pki.chain.clone(), pki.key.clone_key())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate ends the handshake: nothing to do.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    Front {
        endpoint,
        ca_pem: pki.ca_pem,
        connections,
        _server: server,
    }
}

/// A client of `front` with the demo credentials, trusting the test CA or Mozilla's roots.
fn client(front: &Front, trust_the_ca: bool) -> Client {
    let builder = Config::builder()
        .endpoint(&front.endpoint)
        .region(demo::REGION)
        .credentials(Credentials::new(
            demo::ACCESS_KEY_ID,
            demo::SECRET_ACCESS_KEY,
            None,
        ));
    let builder = if trust_the_ca {
        builder.ca_bundle(CaBundle::from_pem(front.ca_pem.as_bytes()).unwrap())
    } else {
        builder
    };
    Client::new(builder.build().unwrap())
}

async fn all_stores(client: &Client) -> Result<usize, Error> {
    let stores: Vec<_> = client
        .describe_custom_key_stores()
        .limit(10)
        .into_paginator()
        .items()
        .try_collect()
        .await?;
    Ok(stores.len())
}

#[tokio::test]
async fn calls_over_https_when_the_ca_bundle_is_trusted() {
    let front = front(&["127.0.0.1"]).await;
    let count = all_stores(&client(&front, true)).await.unwrap();
    assert!(count >= STORES, "{count} stores");
    // The pooled connection is reused across pages.
    assert_eq!(front.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_certificate_error_and_is_not_retried() {
    let front = front(&["127.0.0.1"]).await;
    // Mozilla's roots do not include the test CA.
    let error = client(&front, false)
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Certificate { .. }), "{error:?}");
    assert!(!error.is_retryable());
    let message = error.to_string();
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
    let error = client(&front, true)
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Certificate { .. }), "{error:?}");
    assert!(error.to_string().contains("not valid for name"), "{error}");
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
