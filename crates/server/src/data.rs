//! `--data FILE`: custom key stores loaded from JSON, in the
//! `DescribeCustomKeyStores` output shape plus the owning account and region:
//!
//! ```json
//! {"Stores": [
//!   {"AccountId": "111122223333", "Region": "us-east-1",
//!    "CustomKeyStores": [
//!      {"CustomKeyStoreId": "cks-1234567890abcdef0", "CustomKeyStoreName": "ExampleKeyStore",
//!       "CustomKeyStoreType": "AWS_CLOUDHSM", "CloudHsmClusterId": "cluster-1a23b4cdefg",
//!       "TrustAnchorCertificate": "<certificate>", "ConnectionState": "CONNECTED",
//!       "CreationDate": 1551129207.775}
//!    ]}
//! ]}
//! ```
//!
//! Every entry must pass the generated validators and have an id and a name; ids
//! and names are unique per account and region. A file with any fault is refused
//! whole, naming the member at fault (`stores.1.member.customKeyStores.3.member.xksProxyConfiguration.uriPath`).

use std::collections::HashSet;
use std::path::Path;

use kms_types::aws_json::{self, DecodeError};
use kms_types::{
    CustomKeyStoresListEntry, DescribeCustomKeyStoresResponse, Validate, ValidationError,
};
use serde::Deserialize;

use crate::config::is_region;
use crate::handler::KeyStore;
use crate::store::Owner;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    #[serde(rename = "Stores")]
    stores: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    #[serde(rename = "AccountId")]
    account_id: String,
    #[serde(rename = "Region")]
    region: String,
    #[serde(rename = "CustomKeyStores", default)]
    custom_key_stores: Vec<CustomKeyStoresListEntry>,
}

/// A data file that cannot be loaded; nothing of it was loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

/// Reads and checks a data file.
pub fn load(path: &Path) -> Result<Vec<(Owner, KeyStore)>, DataError> {
    let bytes = std::fs::read(path)
        .map_err(|e| DataError(format!("cannot read {}: {e}", path.display())))?;
    parse(&bytes).map_err(|e| DataError(format!("{}: {}", path.display(), e.0)))
}

/// Parses and checks data file contents.
pub fn parse(bytes: &[u8]) -> Result<Vec<(Owner, KeyStore)>, DataError> {
    let expected = "expected a JSON object {\"Stores\": [...]}";
    let file: DataFile = aws_json::decode(bytes).map_err(|e| match e {
        DecodeError::Serialization(m) if m == aws_json::NOT_AN_OBJECT => {
            DataError(format!("not a data file: {expected}"))
        }
        DecodeError::Serialization(m) if !m.contains(" at '") => {
            DataError(format!("not a data file ({m}); {expected}"))
        }
        other => DataError(other.to_string()),
    })?;
    let mut owners = HashSet::new();
    let mut out = Vec::new();
    for (g, group) in file.stores.into_iter().enumerate() {
        let at = format!("stores.{}.member", g + 1);
        if group.account_id.len() != 12 || !group.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DataError(format!(
                "Value '{}' at '{at}.accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]{{12}}$",
                group.account_id
            )));
        }
        if !is_region(&group.region) {
            return Err(DataError(format!(
                "Value '{}' at '{at}.region' is not a region name (like us-east-1)",
                group.region
            )));
        }
        let owner = Owner::new(group.account_id, group.region);
        if !owners.insert(owner.clone()) {
            return Err(DataError(format!(
                "{at}: account {} region {} is listed twice; put all its stores in one entry",
                owner.account, owner.region
            )));
        }
        let response = DescribeCustomKeyStoresResponse::builder()
            .custom_key_stores(group.custom_key_stores)
            .build();
        response.validate().map_err(|e| {
            DataError(format!(
                "{at} (account {}, region {}): {e}",
                owner.account, owner.region
            ))
        })?;
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for (i, entry) in response
            .custom_key_stores
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let item = format!("customKeyStores.{}.member", i + 1);
            let fault = |m: String| {
                DataError(format!(
                    "{at} (account {}, region {}): {m}",
                    owner.account, owner.region
                ))
            };
            for (value, member) in [
                (&entry.custom_key_store_id, "CustomKeyStoreId"),
                (&entry.custom_key_store_name, "CustomKeyStoreName"),
            ] {
                if value.is_none() {
                    return Err(fault(ValidationError::missing(&item, member).to_string()));
                }
            }
            let id = entry.custom_key_store_id.clone().unwrap_or_default();
            let name = entry.custom_key_store_name.clone().unwrap_or_default();
            if !ids.insert(id.clone()) {
                return Err(fault(format!(
                    "duplicate CustomKeyStoreId '{id}' at '{item}.customKeyStoreId'"
                )));
            }
            if !names.insert(name.clone()) {
                return Err(fault(format!(
                    "duplicate CustomKeyStoreName '{name}' at '{item}.customKeyStoreName'"
                )));
            }
            let store = KeyStore::new(entry).map_err(|e| fault(e.to_string()))?;
            out.push((owner.clone(), store));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn file_with(entries: &[serde_json::Value]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"Stores": [
            {"AccountId": demo::ACCOUNT_ID, "Region": demo::REGION, "CustomKeyStores": entries}
        ]}))
        .unwrap()
    }

    fn demo_entries() -> Vec<serde_json::Value> {
        demo::stores()
            .iter()
            .map(|s| serde_json::to_value(s).unwrap())
            .collect()
    }

    #[test]
    fn loads_the_demo_stores_round_trip() {
        let loaded = parse(&file_with(&demo_entries())).unwrap();
        assert_eq!(loaded.len(), 12);
        assert_eq!(loaded[0].1.entry(), demo::stores()[0]);
        assert_eq!(loaded[0].0, Owner::new(demo::ACCOUNT_ID, demo::REGION));
    }

    #[test]
    fn the_example_data_file_loads() {
        let loaded = parse(include_bytes!("../examples/stores.json")).unwrap();
        assert!(!loaded.is_empty());
    }

    #[test]
    fn a_bad_entry_refuses_the_file_naming_the_member() {
        let mut entries = demo_entries();
        // The third entry... make the 7th (an XKS store) bad.
        entries[6]["XksProxyConfiguration"]["UriPath"] = "no-slash".into();
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(
            err.contains("'customKeyStores.7.member.xksProxyConfiguration.uriPath'"),
            "{err}"
        );
        assert!(err.starts_with("stores.1.member"), "{err}");

        let mut entries = demo_entries();
        entries[2]
            .as_object_mut()
            .unwrap()
            .remove("CustomKeyStoreId");
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(
            err.contains("Value null at 'customKeyStores.3.member.customKeyStoreId'"),
            "{err}"
        );

        let mut entries = demo_entries();
        entries[3]["CreationDate"] = "yesterday".into();
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(err.contains("creationDate"), "{err}");

        let mut entries = demo_entries();
        entries[4]["CustomKeyStoreName"] = entries[0]["CustomKeyStoreName"].clone();
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(err.contains("duplicate CustomKeyStoreName"), "{err}");

        let mut entries = demo_entries();
        entries[4]["ConnectionState"] = "SLEEPING".into();
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(
            err.contains("customKeyStores.5.member.connectionState")
                && err.contains("enum value set"),
            "{err}"
        );

        for bad in [
            &b"nope"[..],
            b"{}",
            b"{\"Stores\": [{\"AccountId\": \"1\", \"Region\": \"us-east-1\"}]}",
            b"{\"Stores\": [], \"x\": 1}",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    /// What is not a data file is called that, in the words of a data file.
    #[test]
    fn a_file_of_another_shape_is_not_a_data_file() {
        assert_eq!(
            parse(b"[{\"x\": 1}]").unwrap_err().to_string(),
            "not a data file: expected a JSON object {\"Stores\": [...]}"
        );
        let err = parse(b"{\"Stores\": [").unwrap_err().to_string();
        assert_eq!(err, "EOF while parsing a list at 'stores'");
    }
}
