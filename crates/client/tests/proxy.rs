//! kms-client through an HTTP proxy on 127.0.0.1: https through a CONNECT tunnel (TLS
//! end to end), http forwarded in absolute form, proxy credentials, NO_PROXY, and an
//! unreachable proxy named in the error.
#![cfg(feature = "rustls")]

mod common;

use std::sync::{Arc, Mutex};

use common::{STORES, all_stores, front, proxy};
use kms_client::{CaBundle, Client, Config, Error, Overrides, ProxyConfig};
use kms_server::demo;

/// A configuration from these variables (plus the demo credentials and region).
fn from_env(vars: &[(&str, String)]) -> Config {
    let home = std::env::temp_dir();
    let mut all: Vec<(String, String)> = vec![
        ("HOME".into(), home.display().to_string()),
        ("AWS_CONFIG_FILE".into(), "/nonexistent/config".into()),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            "/nonexistent/credentials".into(),
        ),
        ("AWS_ACCESS_KEY_ID".into(), demo::ACCESS_KEY_ID.into()),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            demo::SECRET_ACCESS_KEY.into(),
        ),
        ("AWS_REGION".into(), demo::REGION.into()),
    ];
    all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    Config::from_env_with(
        &move |name| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        &Overrides::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_with_the_proxy_credentials() {
    let front = front(&["127.0.0.1"]).await;
    let proxy = proxy().await;
    let with_credentials = proxy.url.replace("http://", "http://alice:s3cret@");
    let config = common::builder(&front)
        .ca_bundle(CaBundle::from_pem(front.ca_pem.as_bytes()).unwrap())
        .proxy(
            ProxyConfig::default()
                .with_https_proxy(&with_credentials)
                .unwrap(),
        )
        .build()
        .unwrap();
    let count = all_stores(&Client::new(config)).await.unwrap();
    assert!(count >= STORES, "{count}");
    let authority = front.endpoint.trim_start_matches("https://");
    assert_eq!(
        *proxy.seen.lock().unwrap(),
        [(
            format!("CONNECT {authority} HTTP/1.1"),
            Some("Basic YWxpY2U6czNjcmV0".to_owned())
        )],
        "one tunnel, reused for every page"
    );
}

#[tokio::test]
async fn http_is_forwarded_in_absolute_form_and_proxy_credentials_stay_out_of_the_debug_log() {
    let front = front(&["127.0.0.1"]).await;
    let proxy = proxy().await;
    let endpoint = front.server.endpoint();
    let config = from_env(&[
        ("AWS_ENDPOINT_URL", endpoint.clone()),
        (
            "HTTP_PROXY",
            proxy.url.replace("http://", "http://bob:p%40ss@"),
        ),
    ]);
    let lines = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&lines);
    let client = Client::new(config).with_debug_sink(Arc::new(move |text: &str| {
        sink.lock().unwrap().push_str(text)
    }));
    let page = client.describe_custom_key_stores().send().await.unwrap();
    assert!(page.custom_key_stores.is_some_and(|s| !s.is_empty()));
    assert_eq!(
        *proxy.seen.lock().unwrap(),
        [(
            format!("POST {endpoint}/ HTTP/1.1"),
            Some("Basic Ym9iOnBAc3M=".to_owned())
        )]
    );
    let debug = lines.lock().unwrap().clone();
    assert!(debug.contains("proxy-authorization: ****"), "{debug}");
    assert!(!debug.contains("Ym9iOnBAc3M="), "{debug}");
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let front = front(&["127.0.0.1"]).await;
    let proxy = proxy().await;
    let config = from_env(&[
        ("AWS_ENDPOINT_URL", front.server.endpoint()),
        ("HTTP_PROXY", proxy.url.clone()),
        ("HTTPS_PROXY", proxy.url.clone()),
        ("NO_PROXY", "localhost,127.0.0.1".to_owned()),
    ]);
    client_call(config).await.unwrap();
    assert!(proxy.seen.lock().unwrap().is_empty());
}

async fn client_call(config: Config) -> Result<(), Error> {
    Client::new(config)
        .describe_custom_key_stores()
        .send()
        .await
        .map(drop)
}

#[tokio::test]
async fn an_unreachable_proxy_is_named_in_the_error() {
    let front = front(&["127.0.0.1"]).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let config = from_env(&[
        ("AWS_ENDPOINT_URL", front.server.endpoint()),
        ("HTTP_PROXY", closed.clone()),
        ("AWS_MAX_ATTEMPTS", "1".to_owned()),
    ]);
    let error = client_call(config).await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("through proxy {closed} (from HTTP_PROXY)")),
        "{message}"
    );
}

#[tokio::test]
async fn instance_metadata_goes_through_the_proxy_unless_no_proxy_names_it() {
    let server = kms_server::serve(
        kms_server::ServerConfig::demo(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let metadata = common::Scripted::start(|r: &common::Received, _| {
        // Forwarded requests carry the absolute URI.
        let path = r
            .path
            .split_once("127.0.0.1")
            .map_or(r.path.as_str(), |(_, p)| p);
        let path = path.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit());
        Some(match path {
            "/latest/api/token" => (200, "T".to_owned()),
            "/latest/meta-data/iam/security-credentials/" => (200, "role".to_owned()),
            _ => (
                200,
                format!(
                    r#"{{"Code":"Success","AccessKeyId":"{}","SecretAccessKey":"{}"}}"#,
                    demo::ACCESS_KEY_ID,
                    demo::SECRET_ACCESS_KEY
                ),
            ),
        })
    })
    .await;
    let proxy = proxy().await;
    let config = |no_proxy: &str, metadata_url: &str| {
        let vars: Vec<(String, String)> = vec![
            ("HOME".into(), std::env::temp_dir().display().to_string()),
            ("AWS_CONFIG_FILE".into(), "/nonexistent/config".into()),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                "/nonexistent/credentials".into(),
            ),
            ("AWS_REGION".into(), demo::REGION.into()),
            ("AWS_ENDPOINT_URL".into(), server.endpoint()),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT".into(),
                metadata_url.into(),
            ),
            (
                "HTTP_PROXY".into(),
                proxy.url.replace("http://", "http://carol:pw@"),
            ),
            ("NO_PROXY".into(), no_proxy.into()),
        ];
        Config::from_env_with(
            &move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            &Overrides::default(),
        )
        .unwrap()
    };
    let host = metadata.url.trim_start_matches("http://").to_owned();
    // Proxied like the KMS call.
    let client = Client::new(config("127.0.0.2", &metadata.url));
    client.describe_custom_key_stores().send().await.unwrap();
    // Every forwarded request carries the proxy's credentials (`carol:pw`).
    let forwarded = || -> Vec<String> {
        let mut seen = proxy.seen.lock().unwrap();
        std::mem::take(&mut *seen)
            .into_iter()
            .map(|(line, authorization)| {
                assert_eq!(
                    authorization.as_deref(),
                    Some("Basic Y2Fyb2w6cHc="),
                    "{line}"
                );
                line
            })
            .collect()
    };
    assert_eq!(
        forwarded(),
        [
            format!("PUT http://{host}/latest/api/token HTTP/1.1"),
            format!("GET http://{host}/latest/meta-data/iam/security-credentials/ HTTP/1.1"),
            format!("GET http://{host}/latest/meta-data/iam/security-credentials/role HTTP/1.1"),
            format!("POST {}/ HTTP/1.1", server.endpoint()),
        ]
    );
    // NO_PROXY names the metadata host (here `localhost`): reached directly.
    let direct = metadata.url.replace("127.0.0.1", "localhost");
    let client = Client::new(config("localhost", &direct));
    client.describe_custom_key_stores().send().await.unwrap();
    assert_eq!(
        forwarded(),
        [format!("POST {}/ HTTP/1.1", server.endpoint())]
    );
    assert_eq!(metadata.seen().len(), 6);
    server.shutdown().await;
}
