//! Codec cost of the generated types against plain serde_json on the same bytes.
//!
//! Groups (each compares `kms_types` with baselines measured in the same run):
//! - `codec/request`: decode + validate + encode of a DescribeCustomKeyStores request.
//! - `codec/response_1000`: decode of a 1,000-entry DescribeCustomKeyStores response.
//!
//! Baselines: `plain_serde` is a hand-written serde struct with the same members and no
//! validation (strings for enums, `f64` for timestamps); `serde_json_value` decodes into
//! `serde_json::Value`. `cargo xtask bench` runs this and reports the ratios.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kms_types::{DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse, Validate};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The request body a paginating client sends: every member set, marker included.
const REQUEST: &[u8] = br#"{"CustomKeyStoreName":"store-000042","Limit":100,"Marker":"djEuQUFBQUFBQUFBQUFBQUFBQS5jb3Vyc29yLTAwMDAwMDAwMDA0Mi5zaWduYXR1cmUtMDEyMzQ1Njc4OWFiY2RlZg"}"#;

#[derive(Serialize, Deserialize)]
struct PlainRequest {
    #[serde(rename = "CustomKeyStoreId", skip_serializing_if = "Option::is_none")]
    custom_key_store_id: Option<String>,
    #[serde(rename = "CustomKeyStoreName", skip_serializing_if = "Option::is_none")]
    custom_key_store_name: Option<String>,
    #[serde(rename = "Limit", skip_serializing_if = "Option::is_none")]
    limit: Option<i32>,
    #[serde(rename = "Marker", skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainResponse {
    #[serde(rename = "CustomKeyStores")]
    custom_key_stores: Option<Vec<PlainEntry>>,
    #[serde(rename = "NextMarker")]
    next_marker: Option<String>,
    #[serde(rename = "Truncated", default)]
    truncated: bool,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainEntry {
    #[serde(rename = "CloudHsmClusterId")]
    cloud_hsm_cluster_id: Option<String>,
    #[serde(rename = "ConnectionErrorCode")]
    connection_error_code: Option<String>,
    #[serde(rename = "ConnectionState")]
    connection_state: Option<String>,
    #[serde(rename = "CreationDate")]
    creation_date: Option<f64>,
    #[serde(rename = "CustomKeyStoreId")]
    custom_key_store_id: Option<String>,
    #[serde(rename = "CustomKeyStoreName")]
    custom_key_store_name: Option<String>,
    #[serde(rename = "CustomKeyStoreType")]
    custom_key_store_type: Option<String>,
    #[serde(rename = "TrustAnchorCertificate")]
    trust_anchor_certificate: Option<String>,
    #[serde(rename = "XksProxyConfiguration")]
    xks_proxy_configuration: Option<PlainXks>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainXks {
    #[serde(rename = "AccessKeyId")]
    access_key_id: Option<String>,
    #[serde(rename = "Connectivity")]
    connectivity: Option<String>,
    #[serde(rename = "UriEndpoint")]
    uri_endpoint: Option<String>,
    #[serde(rename = "UriPath")]
    uri_path: Option<String>,
    #[serde(rename = "VpcEndpointServiceName")]
    vpc_endpoint_service_name: Option<String>,
    #[serde(rename = "VpcEndpointServiceOwner")]
    vpc_endpoint_service_owner: Option<String>,
}

/// `value` in `width` base32 digits (`A-Z2-7`), as KMS's id patterns allow.
fn base32(mut value: u64, width: usize) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut digits = vec![b'A'; width];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(value % 32) as usize];
        value /= 32;
    }
    String::from_utf8(digits).expect("ASCII")
}

/// A 1,000-entry response as kms-server writes it: a mix of CloudHSM and external key
/// stores (public and VPC connectivity), some FAILED with an error code, fractional dates.
fn response_bytes(entries: usize) -> Vec<u8> {
    const STATES: [&str; 5] = [
        "CONNECTED",
        "CONNECTING",
        "FAILED",
        "DISCONNECTED",
        "DISCONNECTING",
    ];
    let certificate = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
        "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ".repeat(8)
    );
    let stores: Vec<_> = (0..entries)
        .map(|i| {
            let state = STATES[i % STATES.len()];
            let mut entry = json!({
                "ConnectionState": state,
                "CreationDate": 1_551_129_207.775 + i as f64,
                "CustomKeyStoreId": format!("cks-{:017x}", 0x1234_5678_9abc_u64 + i as u64),
                "CustomKeyStoreName": format!("store-{:06}", i + 1),
            });
            let map = entry.as_object_mut().expect("an object");
            if i % 2 == 0 {
                map.insert("CustomKeyStoreType".into(), json!("AWS_CLOUDHSM"));
                map.insert(
                    "CloudHsmClusterId".into(),
                    json!(format!("cluster-{}", base32(i as u64, 11))),
                );
                map.insert("TrustAnchorCertificate".into(), json!(certificate));
                if state == "FAILED" {
                    map.insert("ConnectionErrorCode".into(), json!("NETWORK_ERRORS"));
                }
            } else {
                map.insert("CustomKeyStoreType".into(), json!("EXTERNAL_KEY_STORE"));
                let mut xks = json!({
                    "AccessKeyId": format!("AKIA{}", base32(i as u64, 16)),
                    "UriEndpoint": format!("https://xks-{i}.example.com"),
                    "UriPath": "/example/prefix/kms/xks/v1",
                });
                if i % 4 == 1 {
                    xks["Connectivity"] = json!("PUBLIC_ENDPOINT");
                } else {
                    xks["Connectivity"] = json!("VPC_ENDPOINT_SERVICE");
                    xks["VpcEndpointServiceName"] =
                        json!(format!("com.amazonaws.vpce.us-east-1.vpce-svc-{:017x}", i));
                    xks["VpcEndpointServiceOwner"] = json!("111122223333");
                }
                map.insert("XksProxyConfiguration".into(), xks);
                if state == "FAILED" {
                    map.insert("ConnectionErrorCode".into(), json!("XKS_PROXY_TIMED_OUT"));
                }
            }
            entry
        })
        .collect();
    serde_json::to_vec(&json!({
        "CustomKeyStores": stores,
        "NextMarker": "djEuQUFBQUFBQUFBQUFBQUFBQS5jdXJzb3ItMDAwMDAwMDAxMDAw",
        "Truncated": true,
    }))
    .expect("JSON")
}

fn request(c: &mut Criterion) {
    // The fixtures must be what they claim to be before anything is timed.
    let ours: DescribeCustomKeyStoresRequest =
        kms_types::aws_json::decode(REQUEST).expect("the request decodes");
    ours.validate().expect("the request is valid");
    assert_eq!(ours.limit, Some(100));

    let mut group = c.benchmark_group("codec/request");
    group.throughput(Throughput::Bytes(REQUEST.len() as u64));
    group.bench_function("kms_types", |b| {
        b.iter(|| {
            let request: DescribeCustomKeyStoresRequest =
                kms_types::aws_json::decode(black_box(REQUEST)).expect("decodes");
            request.validate().expect("valid");
            serde_json::to_vec(&request).expect("encodes")
        })
    });
    group.bench_function("plain_serde", |b| {
        b.iter(|| {
            let request: PlainRequest =
                serde_json::from_slice(black_box(REQUEST)).expect("decodes");
            serde_json::to_vec(&request).expect("encodes")
        })
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| {
            let request: serde_json::Value =
                serde_json::from_slice(black_box(REQUEST)).expect("decodes");
            serde_json::to_vec(&request).expect("encodes")
        })
    });
    group.finish();
}

fn response(c: &mut Criterion) {
    let body = response_bytes(1000);
    let ours: DescribeCustomKeyStoresResponse =
        kms_types::aws_json::decode(&body).expect("the response decodes");
    assert_eq!(ours.custom_key_stores.as_ref().map(Vec::len), Some(1000));
    ours.validate().expect("the response is valid");
    let plain: PlainResponse = serde_json::from_slice(&body).expect("plain decodes");
    assert_eq!(plain.custom_key_stores.as_ref().map(Vec::len), Some(1000));

    let mut group = c.benchmark_group("codec/response_1000");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("kms_types", |b| {
        b.iter(|| {
            let response: DescribeCustomKeyStoresResponse =
                kms_types::aws_json::decode(black_box(&body)).expect("decodes");
            response
        })
    });
    group.bench_function("kms_types_validated", |b| {
        b.iter(|| {
            let response: DescribeCustomKeyStoresResponse =
                kms_types::aws_json::decode(black_box(&body)).expect("decodes");
            response.validate().expect("valid");
            response
        })
    });
    group.bench_function("plain_serde", |b| {
        b.iter(|| {
            let response: PlainResponse =
                serde_json::from_slice(black_box(&body)).expect("decodes");
            response
        })
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| {
            let response: serde_json::Value =
                serde_json::from_slice(black_box(&body)).expect("decodes");
            response
        })
    });
    group.finish();
}

criterion_group!(benches, request, response);
criterion_main!(benches);
