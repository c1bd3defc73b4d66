//! The official `aws-sdk-kms` crate against the server over loopback: paginator,
//! filters, typed errors.

mod common;

use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::ProvideErrorMetadata;
use kms_server::{ServerConfig, demo};

fn sdk(
    endpoint: &str,
    akid: &str,
    secret: &str,
    token: Option<&str>,
    region: &str,
) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            akid,
            secret,
            token.map(str::to_owned),
            None,
            "test",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

fn demo_client(endpoint: &str) -> aws_sdk_kms::Client {
    sdk(
        endpoint,
        demo::ACCESS_KEY_ID,
        demo::SECRET_ACCESS_KEY,
        None,
        demo::REGION,
    )
}

#[tokio::test]
async fn paginator_lists_every_store_once() {
    let server = common::start(ServerConfig::demo().with_generated_stores(2488)).await;
    let client = demo_client(&server.endpoint());
    for limit in [7, 1000] {
        let stores: Vec<_> = client
            .describe_custom_key_stores()
            .limit(limit)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(stores.len(), 2500, "limit {limit}");
        let ids: Vec<_> = stores
            .iter()
            .map(|s| s.custom_key_store_id().unwrap().to_owned())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
    // Without a limit: pages of the default size.
    let page = client.describe_custom_key_stores().send().await.unwrap();
    assert_eq!(
        page.custom_key_stores().len(),
        kms_server::DEFAULT_PAGE_SIZE
    );
    assert!(page.truncated());
    assert!(page.next_marker().is_some());
    server.shutdown().await;
}

#[tokio::test]
async fn filters_and_typed_fields() {
    let server = common::start(ServerConfig::demo()).await;
    let client = demo_client(&server.endpoint());
    let out = client
        .describe_custom_key_stores()
        .custom_key_store_id("cks-1234567890abcdef9")
        .send()
        .await
        .unwrap();
    let s = &out.custom_key_stores()[0];
    assert_eq!(s.custom_key_store_name(), Some("xks-vpc-failed"));
    assert_eq!(
        s.connection_state(),
        Some(&aws_sdk_kms::types::ConnectionStateType::Failed)
    );
    assert_eq!(
        s.connection_error_code(),
        Some(&aws_sdk_kms::types::ConnectionErrorCodeType::XksVpcEndpointServiceNotFound)
    );
    let xks = s.xks_proxy_configuration().unwrap();
    assert_eq!(
        xks.connectivity(),
        Some(&aws_sdk_kms::types::XksProxyConnectivityType::VpcEndpointService)
    );
    assert_eq!(xks.vpc_endpoint_service_owner(), Some(demo::ACCOUNT_ID));
    assert!(!out.truncated());
    let out = client
        .describe_custom_key_stores()
        .custom_key_store_name("ExampleCloudHSMKeyStore")
        .send()
        .await
        .unwrap();
    let s = &out.custom_key_stores()[0];
    assert_eq!(s.custom_key_store_id(), Some("cks-1234567890abcdef0"));
    assert_eq!(
        s.custom_key_store_type(),
        Some(&aws_sdk_kms::types::CustomKeyStoreType::AwsCloudhsm)
    );
    assert_eq!(s.creation_date().unwrap().secs(), 1_551_129_207);
    assert_eq!(
        s.creation_date().unwrap().subsec_nanos() / 1_000_000,
        775,
        "f64 seconds on the wire"
    );
    // Temporary credentials with their session token.
    let session = sdk(
        &server.endpoint(),
        demo::SESSION_ACCESS_KEY_ID,
        demo::SESSION_SECRET_ACCESS_KEY,
        Some(demo::SESSION_TOKEN),
        demo::REGION,
    );
    assert_eq!(
        session
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap()
            .custom_key_stores()
            .len(),
        12
    );
    server.shutdown().await;
}

#[tokio::test]
async fn modeled_errors_surface_as_typed_variants() {
    let server = common::start(ServerConfig::demo().with_generated_stores(10)).await;
    let client = demo_client(&server.endpoint());
    let err = client
        .describe_custom_key_stores()
        .custom_key_store_id("cks-0000000000000dead")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_custom_key_store_not_found_exception(), "{err:?}");
    let err = client
        .describe_custom_key_stores()
        .marker("forged-marker")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_marker_exception(), "{err:?}");
    // Unmodeled errors still carry their code.
    let denied = sdk(
        &server.endpoint(),
        demo::DENIED_ACCESS_KEY_ID,
        demo::DENIED_SECRET_ACCESS_KEY,
        None,
        demo::REGION,
    );
    let err = denied
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    let err = client
        .describe_custom_key_stores()
        .limit(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    let wrong = sdk(
        &server.endpoint(),
        demo::ACCESS_KEY_ID,
        "wrong",
        None,
        demo::REGION,
    );
    let err = wrong
        .describe_custom_key_stores()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    server.shutdown().await;

    let failing = common::start(ServerConfig::demo().with_fail_rate(1.0)).await;
    let client = demo_client(&failing.endpoint());
    let mut internal = 0;
    for _ in 0..100 {
        let err = client
            .describe_custom_key_stores()
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        if err.is_kms_internal_exception() {
            internal += 1;
            if internal == 3 {
                break;
            }
        } else {
            assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
        }
    }
    assert_eq!(internal, 3);
    failing.shutdown().await;
}

#[tokio::test]
async fn other_account_and_region_through_the_sdk() {
    let server = common::start(ServerConfig::demo()).await;
    let other = sdk(
        &server.endpoint(),
        demo::OTHER_ACCESS_KEY_ID,
        demo::OTHER_SECRET_ACCESS_KEY,
        None,
        demo::REGION,
    );
    let stores: Vec<_> = other
        .describe_custom_key_stores()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(stores.len(), 2);
    let west = sdk(
        &server.endpoint(),
        demo::ACCESS_KEY_ID,
        demo::SECRET_ACCESS_KEY,
        None,
        demo::SECOND_REGION,
    );
    let out = west.describe_custom_key_stores().send().await.unwrap();
    assert_eq!(out.custom_key_stores().len(), 1);
    server.shutdown().await;
}
