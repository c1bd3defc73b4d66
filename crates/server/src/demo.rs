//! The compiled-in demo: accounts and keys (the AWS documentation's example
//! credentials), and a dozen custom key stores covering every store type,
//! connection state and connectivity kind.

use kms_types::{
    ConnectionErrorCodeType, ConnectionStateType, CustomKeyStoreType, CustomKeyStoresListEntry,
    Timestamp, XksProxyConfigurationType, XksProxyConnectivityType,
};

use crate::store::Owner;

/// The region the demo stores live in.
pub const REGION: &str = "us-east-1";
/// A second served region (the demo account has one store there).
pub const SECOND_REGION: &str = "us-west-2";
/// The demo account.
pub const ACCOUNT_ID: &str = "111122223333";
/// `arn:aws:iam::111122223333:user/demo`, allowed `kms:*`.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret of [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The principal of [`ACCESS_KEY_ID`] and [`SESSION_ACCESS_KEY_ID`].
pub const PRINCIPAL_ARN: &str = "arn:aws:iam::111122223333:user/demo";
/// `arn:aws:iam::111122223333:user/no-kms`, allowed no KMS action.
pub const DENIED_ACCESS_KEY_ID: &str = "AKIAI44QH8DHBEXAMPLE";
/// Secret of [`DENIED_ACCESS_KEY_ID`].
pub const DENIED_SECRET_ACCESS_KEY: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
/// The principal of [`DENIED_ACCESS_KEY_ID`].
pub const DENIED_PRINCIPAL_ARN: &str = "arn:aws:iam::111122223333:user/no-kms";
/// Another account, with stores of its own.
pub const OTHER_ACCOUNT_ID: &str = "444455556666";
/// `arn:aws:iam::444455556666:user/other`, allowed `kms:DescribeCustomKeyStores`.
pub const OTHER_ACCESS_KEY_ID: &str = "AKIAJ7OTHERACCOUNTEX";
/// Secret of [`OTHER_ACCESS_KEY_ID`].
pub const OTHER_SECRET_ACCESS_KEY: &str = "OtherAccountSecretKeyEXAMPLEKEY0000000000";
/// The principal of [`OTHER_ACCESS_KEY_ID`].
pub const OTHER_PRINCIPAL_ARN: &str = "arn:aws:iam::444455556666:user/other";
/// Temporary credentials of `user/demo`: need [`SESSION_TOKEN`].
pub const SESSION_ACCESS_KEY_ID: &str = "ASIAIOSFODNN7SESSION";
/// Secret of [`SESSION_ACCESS_KEY_ID`].
pub const SESSION_SECRET_ACCESS_KEY: &str = "SessionSecretKeyEXAMPLEKEY000000000000000";
/// Session token of [`SESSION_ACCESS_KEY_ID`].
pub const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";
/// The demo's marker passphrase.
pub const MARKER_KEY: &str = "kms-server demo marker key; change me";

/// A (fake) trust anchor certificate for the demo's CloudHSM key stores.
pub const TRUST_ANCHOR_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----\n\
MIIDhjCCAm6gAwIBAgIJAOTm3rAQ4HxSMA0GCSqGSIb3DQEBCwUAMFgxCzAJBgNV\n\
BAYTAlVTMRMwEQYDVQQIDApXYXNoaW5ndG9uMRAwDgYDVQQHDAdTZWF0dGxlMSIw\n\
IAYDVQQKDBlEZW1vIEN1c3RvbWVyIENBIChleGFtcGxlKTAeFw0yNDAxMDEwMDAw\n\
MDBaFw0zNDAxMDEwMDAwMDBaMFgxCzAJBgNVBAYTAlVTMRMwEQYDVQQIDApXYXNo\n\
-----END CERTIFICATE-----";

fn hsm(
    id: &str,
    name: &str,
    cluster: &str,
    state: ConnectionStateType,
    error: Option<ConnectionErrorCodeType>,
    created_ms: i64,
) -> CustomKeyStoresListEntry {
    CustomKeyStoresListEntry::builder()
        .custom_key_store_id(id)
        .custom_key_store_name(name)
        .custom_key_store_type(CustomKeyStoreType::AwsCloudhsm)
        .cloud_hsm_cluster_id(cluster)
        .trust_anchor_certificate(TRUST_ANCHOR_CERTIFICATE)
        .connection_state(state)
        .set_connection_error_code(error)
        .creation_date(Timestamp::from_millis(created_ms))
        .build()
}

fn xks(
    id: &str,
    name: &str,
    vpc: Option<&str>,
    state: ConnectionStateType,
    error: Option<ConnectionErrorCodeType>,
    created_ms: i64,
) -> CustomKeyStoresListEntry {
    let suffix = &id[id.len() - 4..];
    let config = XksProxyConfigurationType::builder()
        .access_key_id(format!(
            "XKSDEMOACCESSKEY{}",
            suffix
                .chars()
                .map(|c| char::from(b'A' + c.to_digit(16).unwrap_or(0) as u8))
                .collect::<String>()
        ))
        .uri_path("/example-prefix/kms/xks/v1");
    let config = match vpc {
        Some(service) => config
            .connectivity(XksProxyConnectivityType::VpcEndpointService)
            .uri_endpoint(format!("https://{name}.xks.example.com"))
            .vpc_endpoint_service_name(service)
            .vpc_endpoint_service_owner(ACCOUNT_ID),
        None => config
            .connectivity(XksProxyConnectivityType::PublicEndpoint)
            .uri_endpoint(format!("https://{name}.example.com")),
    };
    CustomKeyStoresListEntry::builder()
        .custom_key_store_id(id)
        .custom_key_store_name(name)
        .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
        .xks_proxy_configuration(config.build())
        .connection_state(state)
        .set_connection_error_code(error)
        .creation_date(Timestamp::from_millis(created_ms))
        .build()
}

/// The demo account's twelve stores in `us-east-1`.
pub fn stores() -> Vec<CustomKeyStoresListEntry> {
    use ConnectionErrorCodeType as E;
    use ConnectionStateType as S;
    // Each external key store of an account and region has a VPC endpoint service of its
    // own (KMS refuses one in use: XksProxyVpcEndpointServiceInUseException).
    let vpc = |n: u8| format!("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef{n}");
    vec![
        hsm(
            "cks-1234567890abcdef0",
            "ExampleCloudHSMKeyStore",
            "cluster-2a23b4cdefg",
            S::Connected,
            None,
            1_551_129_207_775,
        ),
        hsm(
            "cks-1234567890abcdef1",
            "hsm-connecting",
            "cluster-2b34c5defgh",
            S::Connecting,
            None,
            1_600_000_000_000,
        ),
        hsm(
            "cks-1234567890abcdef2",
            "hsm-failed-cluster",
            "cluster-3c45d6efghi",
            S::Failed,
            Some(E::ClusterNotFound),
            1_610_000_000_500,
        ),
        hsm(
            "cks-1234567890abcdef3",
            "hsm-failed-credentials",
            "cluster-4d56e7fghij",
            S::Failed,
            Some(E::InvalidCredentials),
            1_620_000_000_000,
        ),
        hsm(
            "cks-1234567890abcdef4",
            "hsm-disconnected",
            "cluster-5e67f2ghijk",
            S::Disconnected,
            None,
            1_630_000_000_250,
        ),
        hsm(
            "cks-1234567890abcdef5",
            "hsm-disconnecting",
            "cluster-6f72g3hijkl",
            S::Disconnecting,
            None,
            1_640_000_000_000,
        ),
        xks(
            "cks-1234567890abcdef6",
            "ExampleExternalKeyStore",
            None,
            S::Connected,
            None,
            1_650_000_000_000,
        ),
        xks(
            "cks-1234567890abcdef7",
            "xks-vpc-connected",
            Some(&vpc(0)),
            S::Connected,
            None,
            1_660_000_000_125,
        ),
        xks(
            "cks-1234567890abcdef8",
            "xks-failed-unreachable",
            None,
            S::Failed,
            Some(E::XksProxyNotReachable),
            1_670_000_000_000,
        ),
        xks(
            "cks-1234567890abcdef9",
            "xks-vpc-failed",
            Some(&vpc(1)),
            S::Failed,
            Some(E::XksVpcEndpointServiceNotFound),
            1_680_000_000_000,
        ),
        xks(
            "cks-1234567890abcdefa",
            "xks-disconnected",
            None,
            S::Disconnected,
            None,
            1_690_000_000_000,
        ),
        xks(
            "cks-1234567890abcdefb",
            "xks-vpc-connecting",
            Some(&vpc(2)),
            S::Connecting,
            None,
            1_700_000_000_000,
        ),
    ]
}

/// Every compiled-in store with its owner: the twelve of [`stores`], one store of
/// the demo account in [`SECOND_REGION`], and two of [`OTHER_ACCOUNT_ID`] in
/// [`REGION`] (so that isolation can be seen).
pub fn all_stores() -> Vec<(Owner, CustomKeyStoresListEntry)> {
    let mut all: Vec<_> = stores()
        .into_iter()
        .map(|s| (Owner::new(ACCOUNT_ID, REGION), s))
        .collect();
    all.push((
        Owner::new(ACCOUNT_ID, SECOND_REGION),
        hsm(
            "cks-2234567890abcdef0",
            "west-hsm",
            "cluster-7g23h4ijklm",
            ConnectionStateType::Connected,
            None,
            1_710_000_000_000,
        ),
    ));
    // Each CloudHSM key store of an account has a cluster of its own (KMS refuses one
    // in use: CloudHsmClusterInUseException).
    for (id, name, cluster) in [
        (
            "cks-3234567890abcdef0",
            "other-account-hsm",
            "cluster-7h34i5jklmn",
        ),
        (
            "cks-3234567890abcdef1",
            "ExampleCloudHSMKeyStore",
            "cluster-7i45j6klmno",
        ),
    ] {
        all.push((
            Owner::new(OTHER_ACCOUNT_ID, REGION),
            hsm(
                id,
                name,
                cluster,
                ConnectionStateType::Disconnected,
                None,
                1_720_000_000_000,
            ),
        ));
    }
    all
}

/// Generated store number `n` (1-based): id `cks-` + 17 hex digits of `n`, name
/// `store-000001`..., alternating CloudHSM and public-endpoint XKS stores.
pub fn generated_store(n: u64) -> CustomKeyStoresListEntry {
    const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut tail = [0u8; 11];
    let mut v = n;
    for c in tail.iter_mut().rev() {
        *c = B32[(v % 32) as usize];
        v /= 32;
    }
    let tail = std::str::from_utf8(&tail).expect("ASCII");
    let id = format!("cks-{:017x}", n);
    let name = format!("store-{n:06}");
    let state = match n % 4 {
        0 => ConnectionStateType::Connected,
        1 => ConnectionStateType::Disconnected,
        2 => ConnectionStateType::Connecting,
        _ => ConnectionStateType::Disconnecting,
    };
    let created = Timestamp::from_secs(1_700_000_000 + (n as i64 % 10_000_000));
    let builder = CustomKeyStoresListEntry::builder()
        .custom_key_store_id(id)
        .custom_key_store_name(name)
        .connection_state(state)
        .creation_date(created);
    if n.is_multiple_of(2) {
        builder
            .custom_key_store_type(CustomKeyStoreType::AwsCloudhsm)
            .cloud_hsm_cluster_id(format!("cluster-{tail}"))
            .trust_anchor_certificate(
                "-----BEGIN CERTIFICATE-----\nMIIBdemo\n-----END CERTIFICATE-----",
            )
            .build()
    } else {
        builder
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .xks_proxy_configuration(
                XksProxyConfigurationType::builder()
                    .access_key_id(format!("AKIA{}XKSDEMO", tail.to_ascii_uppercase()))
                    .connectivity(XksProxyConnectivityType::PublicEndpoint)
                    .uri_endpoint(format!("https://xks-{tail}.example.com"))
                    .uri_path("/kms/xks/v1")
                    .build(),
            )
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kms_types::Validate;
    use std::collections::HashSet;

    #[test]
    fn demo_stores_are_valid_and_cover_every_kind() {
        let stores = stores();
        assert_eq!(stores.len(), 12);
        for (_, s) in all_stores() {
            s.validate()
                .unwrap_or_else(|e| panic!("{:?}: {e}", s.custom_key_store_id));
            let id = s.custom_key_store_id.as_deref().unwrap();
            assert!(
                id.len() == 21
                    && id.starts_with("cks-")
                    && id[4..].bytes().all(|b| b.is_ascii_hexdigit()),
                "{id}"
            );
            match s.custom_key_store_type.as_ref().unwrap() {
                CustomKeyStoreType::AwsCloudhsm => {
                    assert!(
                        s.cloud_hsm_cluster_id.is_some() && s.trust_anchor_certificate.is_some()
                    );
                    assert!(s.xks_proxy_configuration.is_none());
                }
                CustomKeyStoreType::ExternalKeyStore => {
                    let x = s.xks_proxy_configuration.as_ref().unwrap();
                    assert!(
                        x.access_key_id.is_some()
                            && x.uri_endpoint.is_some()
                            && x.uri_path.is_some()
                    );
                    let vpc = x.connectivity == Some(XksProxyConnectivityType::VpcEndpointService);
                    assert_eq!(vpc, x.vpc_endpoint_service_name.is_some());
                    assert_eq!(vpc, x.vpc_endpoint_service_owner.is_some());
                    assert!(s.cloud_hsm_cluster_id.is_none());
                }
                other => panic!("unexpected type {other}"),
            }
            let failed = s.connection_state == Some(ConnectionStateType::Failed);
            assert_eq!(failed, s.connection_error_code.is_some());
        }
        let states: HashSet<_> = stores
            .iter()
            .filter_map(|s| s.connection_state.clone())
            .collect();
        assert_eq!(states.len(), ConnectionStateType::values().len());
        let types: HashSet<_> = stores
            .iter()
            .filter_map(|s| s.custom_key_store_type.clone())
            .collect();
        assert_eq!(types.len(), 2);
        let codes: HashSet<_> = stores
            .iter()
            .filter_map(|s| s.connection_error_code.clone())
            .collect();
        assert!(codes.len() >= 3);
        let kinds: HashSet<_> = stores
            .iter()
            .filter_map(|s| s.xks_proxy_configuration.as_ref()?.connectivity.clone())
            .collect();
        assert_eq!(kinds.len(), 2);
        let names: HashSet<_> = stores
            .iter()
            .map(|s| s.custom_key_store_name.clone())
            .collect();
        assert_eq!(names.len(), 12);
    }

    /// What KMS keeps unique among an account's stores in a region is unique here too: a
    /// CloudHSM cluster (KMS: across the account), an external key store's proxy address
    /// (`UriEndpoint` + `UriPath`) and its VPC endpoint service.
    #[test]
    fn demo_stores_share_no_cluster_proxy_or_endpoint_service() {
        let mut clusters = HashSet::new();
        let mut proxies = HashSet::new();
        let mut services = HashSet::new();
        for (owner, s) in all_stores() {
            if let Some(cluster) = &s.cloud_hsm_cluster_id {
                assert!(
                    clusters.insert((owner.account.clone(), cluster.clone())),
                    "{cluster}"
                );
            }
            if let Some(x) = &s.xks_proxy_configuration {
                let address = format!(
                    "{}{}",
                    x.uri_endpoint.as_deref().unwrap(),
                    x.uri_path.as_deref().unwrap()
                );
                assert!(
                    proxies.insert((owner.clone(), address.clone())),
                    "{address}"
                );
                if let Some(service) = &x.vpc_endpoint_service_name {
                    assert!(
                        services.insert((owner.clone(), service.clone())),
                        "{service}"
                    );
                }
            }
        }
        assert_eq!(services.len(), 3);
    }

    #[test]
    fn generated_stores_are_valid_and_distinct() {
        let mut ids = HashSet::new();
        for n in (1..2000).chain([999_999, 1_000_000, u32::MAX as u64]) {
            let s = generated_store(n);
            // All of `KeyStore::new`'s checks, which `with_generated_stores` skips.
            crate::KeyStore::new(s.clone()).unwrap_or_else(|e| panic!("{n}: {e}"));
            let id = s.custom_key_store_id.clone().unwrap();
            assert_eq!(id.len(), 21);
            assert!(ids.insert(id));
        }
        assert_eq!(
            generated_store(1).custom_key_store_name.as_deref(),
            Some("store-000001")
        );
    }
}
