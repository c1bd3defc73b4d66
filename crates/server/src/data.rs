//! `--data FILE`: custom key stores loaded from JSON, in the
//! `DescribeCustomKeyStores` output shape plus the owning account and region:
//!
//! ```json
//! {"Stores": [
//!   {"AccountId": "111122223333", "Region": "us-east-1",
//!    "CustomKeyStores": [
//!      {"CustomKeyStoreId": "cks-1234567890abcdef0", "CustomKeyStoreName": "ExampleKeyStore",
//!       "CustomKeyStoreType": "AWS_CLOUDHSM", "CloudHsmClusterId": "cluster-2a23b4cdefg",
//!       "TrustAnchorCertificate": "<certificate>", "ConnectionState": "CONNECTED",
//!       "CreationDate": 1551129207.775}
//!    ]}
//! ]}
//! ```
//!
//! Every entry must pass the generated validators, have an id and a name, use only
//! the members of the output shape (spelt exactly: a misspelt `ConectionState` would
//! otherwise be a silently missing state), and be an entry KMS could return (see
//! [`check_entry`]); ids and names are unique per account and region. A file with any
//! fault is refused whole, naming the member at fault
//! (`stores.1.member.customKeyStores.3.member.xksProxyConfiguration.uriPath`).

use std::collections::HashSet;
use std::path::Path;

use kms_types::aws_json::{self, DecodeError};
use kms_types::validation::{excerpt, item_path, member_path};
use kms_types::{
    ConnectionErrorCodeType, ConnectionStateType, CustomKeyStoreType, CustomKeyStoresListEntry,
    DescribeCustomKeyStoresResponse, Validate, XksProxyConnectivityType,
};
use serde::Deserialize;

use crate::config::is_region;
use crate::handler::KeyStore;
use crate::store::{Owner, Record};

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

/// Decodes a data file, refusing members its shapes do not have. (The service ignores
/// unknown members in requests; in a file written by hand, one is a typo.)
fn decode(bytes: &[u8]) -> Result<DataFile, DataError> {
    let expected = "expected a JSON object {\"Stores\": [...]}";
    // serde would also read a struct from an array of its members' values, nameless.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(DataError(format!("not a data file: {expected}")));
    }
    let mut unknown = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let decoded = serde_ignored::deserialize(&mut de, |path| {
        if unknown.is_none() {
            unknown = Some(unknown_member(&path));
        }
    })
    .and_then(|file: DataFile| de.end().map(|()| file));
    match (decoded, unknown) {
        (Ok(_), Some(fault)) => Err(DataError(fault)),
        (Ok(file), None) => Ok(file),
        // aws_json says where and what, in the words of the service's errors.
        (Err(e), _) => {
            let message = match aws_json::decode::<DataFile>(bytes) {
                Ok(_) => format!("not a data file ({e})"),
                // Cut off (half written, say) rather than of another shape.
                Err(DecodeError::Serialization(m)) if e.is_eof() => {
                    format!("the file ends too soon: {m}")
                }
                Err(DecodeError::Serialization(m)) if !m.contains(" at '") => {
                    format!("not a data file ({m}); {expected}")
                }
                Err(other) => other.to_string(),
            };
            // A member the file made up is quoted whole, twice (`unknown field `...``
            // and its path), and its name may be as long as the file. Where, first: a
            // file written by hand is fixed in an editor.
            Err(DataError(format!(
                "line {}, column {}: {}",
                e.line(),
                e.column(),
                excerpt(&message, MAX_MESSAGE)
            )))
        }
    }
}

/// `unknown member 'ConectionState' at 'stores.1.member.customKeyStores.2.member' ...`.
fn unknown_member(path: &serde_ignored::Path<'_>) -> String {
    fn at(path: &serde_ignored::Path<'_>) -> String {
        use serde_ignored::Path;
        match path {
            Path::Root => String::new(),
            Path::Seq { parent, index } => member_path(&item_path(&at(parent), *index), "member"),
            Path::Map { parent, key } => member_path(&at(parent), key),
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => at(parent),
        }
    }
    match path {
        serde_ignored::Path::Map { parent, key } => format!(
            "unknown member '{}' at '{}': members are spelt as in the \
             DescribeCustomKeyStores output (e.g. ConnectionState), and case matters",
            excerpt(key, MAX_QUOTED),
            at(parent)
        ),
        other => format!("unknown member at '{}'", at(other)),
    }
}

/// `text` without the UTF-8 byte order mark some (Windows) editors put first: not part
/// of a file written by hand, data file or PEM (OpenSSL skips it too).
pub(crate) fn without_bom(text: &[u8]) -> &[u8] {
    text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text)
}

/// Parses and checks data file contents.
pub fn parse(bytes: &[u8]) -> Result<Vec<(Owner, KeyStore)>, DataError> {
    let file = decode(without_bom(bytes))?;
    let mut owners = HashSet::new();
    let mut out = Vec::new();
    for (g, group) in file.stores.into_iter().enumerate() {
        let at = format!("stores.{}.member", g + 1);
        if group.account_id.len() != 12 || !group.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DataError(format!(
                "Value '{}' at '{at}.accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]{{12}}$",
                excerpt(&group.account_id, MAX_QUOTED)
            )));
        }
        if !is_region(&group.region) {
            return Err(DataError(format!(
                "Value '{}' at '{at}.region' is not a region name (like us-east-1)",
                excerpt(&group.region, MAX_QUOTED)
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
                "{at} (account {}, region {}): {}",
                owner.account,
                owner.region,
                e.abridged(MAX_LISTED, MAX_QUOTED)
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
            // The whole file has been validated above: the store's own rules are left.
            let store = KeyStore::checked_at(entry, &item).map_err(|e| fault(e.to_string()))?;
            if !ids.insert(store.id().to_owned()) {
                return Err(fault(format!(
                    "duplicate CustomKeyStoreId '{}' at '{item}.customKeyStoreId'",
                    excerpt(store.id(), MAX_QUOTED)
                )));
            }
            if !names.insert(store.name().to_owned()) {
                return Err(fault(format!(
                    "duplicate CustomKeyStoreName '{}' at '{item}.customKeyStoreName'",
                    excerpt(store.name(), MAX_QUOTED)
                )));
            }
            out.push((owner.clone(), store));
        }
    }
    Ok(out)
}

/// Most characters of a value a data file's message quotes (a store name may be
/// megabytes long).
const MAX_QUOTED: usize = 128;
/// Most characters of a message on a file that does not decode (one quoting a member
/// name the file made up).
const MAX_MESSAGE: usize = 4 * MAX_QUOTED;
/// Most violations a data file's message lists (a file of a million bad stores made a
/// 196 MB message, printed at start and logged on SIGHUP).
const MAX_LISTED: usize = 10;

/// The last second SDKs can represent: 9999-12-31T23:59:59Z (boto3 uses Python's
/// `datetime`, which ends there).
const LAST_CREATION_SECOND: i64 = 253_402_300_799;

/// Whether `id` is a custom key store id as KMS makes them: `cks-` and 17 lowercase
/// hexadecimal digits (`cks-1234567890abcdef0`).
fn is_kms_store_id(id: &str) -> bool {
    id.strip_prefix("cks-").is_some_and(|hex| {
        hex.len() == 17
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The first member of `members` (present?, name) that is present.
fn first_present(members: &[(bool, &'static str)]) -> Option<&'static str> {
    members
        .iter()
        .find(|(present, _)| *present)
        .map(|(_, m)| *m)
}

/// The first member of `members` (present?, name) that is absent.
fn first_absent(members: &[(bool, &'static str)]) -> Option<&'static str> {
    members
        .iter()
        .find(|(present, _)| !*present)
        .map(|(_, m)| *m)
}

/// Refuses an entry KMS never returns (`../shared/PROTOCOL.md`, "DescribeCustomKeyStores
/// semantics", and the model's documentation of each member): an id other than `cks-`
/// and 17 lowercase hexadecimal digits; a `ConnectionErrorCode`
/// with a state other than `FAILED` or a `FAILED` state without one; a store type's
/// members missing (its type given, or else the one its members say), or members or
/// error codes of the other store type; VPC endpoint service members, or its
/// `XKS_VPC_ENDPOINT_SERVICE_*` error codes, that do not match the connectivity; a
/// creation date outside 1970 to 9999. `item` is the entry's path.
pub fn check_entry(entry: &CustomKeyStoresListEntry, item: &str) -> Result<(), String> {
    use ConnectionErrorCodeType as Code;
    let at = |member: &str| member_path(item, member);
    if let Some(id) = entry
        .custom_key_store_id
        .as_deref()
        .filter(|id| !is_kms_store_id(id))
    {
        return Err(format!(
            "CustomKeyStoreId '{}' at '{}' is not an id KMS gives: cks- and 17 lowercase \
             hexadecimal digits, like cks-1234567890abcdef0",
            excerpt(id, MAX_QUOTED),
            at("CustomKeyStoreId")
        ));
    }
    let failed = entry.connection_state == Some(ConnectionStateType::Failed);
    match (&entry.connection_error_code, &entry.connection_state) {
        (None, _) if failed => {
            return Err(format!(
                "a FAILED store needs a ConnectionErrorCode (KMS always says why) at '{}'",
                at("ConnectionErrorCode")
            ));
        }
        (Some(code), state) if !failed => {
            return Err(format!(
                "ConnectionErrorCode {} at '{}' appears only when ConnectionState is FAILED, not {}",
                code.as_str(),
                at("ConnectionErrorCode"),
                state.as_ref().map_or("absent", |s| s.as_str())
            ));
        }
        _ => {}
    }
    // The members only each type's stores carry; KMS returns them all, always.
    let cloudhsm_members = [
        (entry.cloud_hsm_cluster_id.is_some(), "CloudHsmClusterId"),
        (
            entry.trust_anchor_certificate.is_some(),
            "TrustAnchorCertificate",
        ),
    ];
    let external_members = [(
        entry.xks_proxy_configuration.is_some(),
        "XksProxyConfiguration",
    )];
    // The type given, or else the one its members say (an entry written without a
    // `CustomKeyStoreType` is still checked as a store of that type).
    let this = match &entry.custom_key_store_type {
        Some(CustomKeyStoreType::AwsCloudhsm) => "AWS_CLOUDHSM",
        Some(CustomKeyStoreType::ExternalKeyStore) => "EXTERNAL_KEY_STORE",
        Some(_) => "",
        None => match (
            first_present(&cloudhsm_members),
            first_present(&external_members),
        ) {
            (Some(cloudhsm), Some(external)) => {
                return Err(format!(
                    "'{}' belongs to AWS_CLOUDHSM stores and '{}' to EXTERNAL_KEY_STORE stores: \
                     a store is of one type (say which with CustomKeyStoreType)",
                    at(cloudhsm),
                    at(external)
                ));
            }
            (Some(_), None) => "AWS_CLOUDHSM",
            (None, Some(_)) => "EXTERNAL_KEY_STORE",
            (None, None) => "",
        },
    };
    // (member present, member name) of a store type.
    type Members<'m> = &'m [(bool, &'static str)];
    let (own_members, other_members, other_type): (Members, Members, _) = match this {
        "AWS_CLOUDHSM" => (&cloudhsm_members, &external_members, "EXTERNAL_KEY_STORE"),
        "EXTERNAL_KEY_STORE" => (&external_members, &cloudhsm_members, "AWS_CLOUDHSM"),
        _ => (&[], &[], ""),
    };
    if let Some(member) = first_present(other_members) {
        return Err(format!(
            "'{}': {member} belongs to {other_type} stores, and this one is {this}",
            at(member)
        ));
    }
    if let Some(member) = first_absent(own_members) {
        return Err(format!(
            "{this} stores always carry {member} (KMS returns it): missing at '{}'",
            at(member)
        ));
    }
    if let (Some(code), false) = (&entry.connection_error_code, this.is_empty()) {
        let only = match code {
            Code::ClusterNotFound
            | Code::InsufficientCloudhsmHsms
            | Code::InsufficientFreeAddressesInSubnet
            | Code::SubnetNotFound
            | Code::UserLockedOut
            | Code::UserLoggedIn
            | Code::UserNotFound => Some("AWS_CLOUDHSM"),
            _ if code.as_str().starts_with("XKS_") => Some("EXTERNAL_KEY_STORE"),
            _ => None,
        };
        if let Some(only) = only.filter(|only| *only != this) {
            return Err(format!(
                "ConnectionErrorCode {} at '{}' is reported only for {only} stores, and this one is {this}",
                code.as_str(),
                at("ConnectionErrorCode")
            ));
        }
    }
    if let Some(xks) = &entry.xks_proxy_configuration {
        let xks_at = |member: &str| member_path(&at("XksProxyConfiguration"), member);
        let required = [
            (xks.connectivity.is_some(), "Connectivity"),
            (xks.access_key_id.is_some(), "AccessKeyId"),
            (xks.uri_endpoint.is_some(), "UriEndpoint"),
            (xks.uri_path.is_some(), "UriPath"),
        ];
        if let Some(member) = first_absent(&required) {
            return Err(format!(
                "an XksProxyConfiguration always carries {member} (KMS returns it): missing at '{}'",
                xks_at(member)
            ));
        }
        // Exactly for VPC_ENDPOINT_SERVICE connectivity.
        let vpc = [
            (
                xks.vpc_endpoint_service_name.is_some(),
                "VpcEndpointServiceName",
            ),
            (
                xks.vpc_endpoint_service_owner.is_some(),
                "VpcEndpointServiceOwner",
            ),
        ];
        match xks.connectivity {
            Some(XksProxyConnectivityType::VpcEndpointService) => {
                if let Some(member) = first_absent(&vpc) {
                    return Err(format!(
                        "a VPC_ENDPOINT_SERVICE proxy needs a {member} at '{}'",
                        xks_at(member)
                    ));
                }
            }
            Some(XksProxyConnectivityType::PublicEndpoint) => {
                if let Some(member) = first_present(&vpc) {
                    return Err(format!(
                        "'{}': {member} belongs to VPC_ENDPOINT_SERVICE proxies, and this one is PUBLIC_ENDPOINT",
                        xks_at(member)
                    ));
                }
                // Faults of the VPC endpoint service this proxy is reached without.
                if let Some(
                    code @ (Code::XksVpcEndpointServiceNotFound
                    | Code::XksVpcEndpointServiceInvalidConfiguration),
                ) = &entry.connection_error_code
                {
                    return Err(format!(
                        "ConnectionErrorCode {} at '{}' is reported only for VPC_ENDPOINT_SERVICE \
                         proxies, and this one is PUBLIC_ENDPOINT",
                        code.as_str(),
                        at("ConnectionErrorCode")
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some(created) = entry.creation_date
        && !(0..=LAST_CREATION_SECOND).contains(&created.secs())
    {
        return Err(format!(
            "CreationDate {} at '{}' is outside 1970-01-01 to 9999-12-31, which KMS never \
             returns and SDKs cannot all represent",
            created.as_epoch_seconds(),
            at("CreationDate")
        ));
    }
    Ok(())
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

    /// The module documentation's example is a file that loads.
    #[test]
    fn the_documented_example_loads() {
        let source = include_str!("data.rs");
        let start = source.find("//! ```json\n").unwrap() + "//! ```json\n".len();
        let end = start + source[start..].find("//! ```\n").unwrap();
        let example: String = source[start..end]
            .lines()
            .map(|line| line.strip_prefix("//!").unwrap())
            .collect();
        let stores = parse(example.as_bytes()).unwrap();
        assert_eq!(stores.len(), 1);
        assert_eq!(
            stores[0].1.entry().custom_key_store_id.as_deref(),
            Some("cks-1234567890abcdef0")
        );
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

    /// A file saved with a byte order mark (Notepad's "UTF-8 with BOM") loads; it was
    /// "not a data file".
    #[test]
    fn a_byte_order_mark_is_not_part_of_the_file() {
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(include_bytes!("../examples/stores.json"));
        assert_eq!(
            parse(&with_bom).unwrap().len(),
            parse(include_bytes!("../examples/stores.json"))
                .unwrap()
                .len()
        );
    }

    /// A file of many bad stores, or of a huge value, gives a message of a few lines:
    /// the first ten violations, values cut to 128 characters, and how many more.
    #[test]
    fn a_file_of_many_faults_gives_a_short_message() {
        let mut entries = Vec::new();
        for i in 0..1000 {
            let mut e = demo_entries()[0].clone();
            e["CustomKeyStoreId"] = format!("cks-{i:017}").into();
            e["CustomKeyStoreName"] = format!("store {i}").into();
            e["CloudHsmClusterId"] = "x".repeat(100_000).into();
            entries.push(e);
        }
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(err.len() < 4000, "{} bytes: {:.300}", err.len(), err);
        assert!(err.contains("2000 validation errors detected"), "{err}");
        assert!(err.ends_with("; and 1990 more"), "{err}");
        assert!(
            err.contains(&format!("Value '{}…'", "x".repeat(128))),
            "{err}"
        );

        let mut entries = demo_entries();
        let long = "n".repeat(256);
        entries[0]["CustomKeyStoreName"] = long.clone().into();
        entries[1]["CustomKeyStoreName"] = long.clone().into();
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(
            err.contains("duplicate CustomKeyStoreName")
                && err.contains(&format!("{}…", "n".repeat(128)))
                && !err.contains(&long),
            "{err:.300}"
        );
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
        for not_an_object in [
            &b"[{\"x\": 1}]"[..],
            b"",
            b"  \n",
            b"[[[\"111122223333\", \"us-east-1\", []]]]",
        ] {
            assert_eq!(
                parse(not_an_object).unwrap_err().to_string(),
                "not a data file: expected a JSON object {\"Stores\": [...]}",
                "{}",
                String::from_utf8_lossy(not_an_object)
            );
        }
        // A file cut off is said to be, wherever it ends: at the top it used to be called
        // "not a data file".
        for (cut, expected) in [
            (
                &b"{\"Stores\": ["[..],
                "line 1, column 12: the file ends too soon: EOF while parsing a list at 'stores'",
            ),
            (
                b"{\"Stores\": []",
                "line 1, column 13: the file ends too soon: EOF while parsing an object",
            ),
            (
                b"{",
                "line 1, column 1: the file ends too soon: EOF while parsing an object",
            ),
        ] {
            assert_eq!(parse(cut).unwrap_err().to_string(), expected);
        }
        // An object that is not a data file's, or more than one: said with what is wrong,
        // where, and (when the fault names no member) the shape expected.
        for (other, expected) in [
            (
                &b"{}"[..],
                "line 1, column 2: 1 validation error detected: Value null at 'stores' \
                 failed to satisfy constraint: Member must not be null",
            ),
            (
                b"{\"stores\": []}",
                "line 1, column 9: unknown field `stores`, expected `Stores` at 'stores'",
            ),
            (
                b"{\"Stores\": []} {}",
                "line 1, column 16: not a data file (trailing characters); \
                 expected a JSON object {\"Stores\": [...]}",
            ),
            (
                b"{\"Stores\": [], \"Stores\": []}",
                "line 1, column 23: not a data file (duplicate field `Stores`); \
                 expected a JSON object {\"Stores\": [...]}",
            ),
        ] {
            assert_eq!(parse(other).unwrap_err().to_string(), expected);
        }
    }

    /// A file written by hand is fixed in an editor: what is wrong with its JSON is said
    /// with where, line and column first.
    #[test]
    fn a_json_fault_says_its_line_and_column() {
        let good = String::from_utf8(include_bytes!("../examples/stores.json").to_vec()).unwrap();
        let (line, at) = good
            .lines()
            .enumerate()
            .find_map(|(n, l)| l.find("\"ConnectionState\"").map(|at| (n + 1, at)))
            .unwrap();
        // The comma before the first `ConnectionState` left out; then a bare word.
        let comma = good[..good.find("\"ConnectionState\"").unwrap()]
            .rfind(',')
            .unwrap();
        let no_comma = format!("{}{}", &good[..comma], &good[comma + 1..]);
        let bare_word = good.replacen("\"CONNECTED\"", "CONNECTED", 1);
        for (file, expected) in [
            (
                no_comma,
                format!(
                    "line {line}, column {}: expected `,` or `}}` at \
                     'stores.1.member.customKeyStores.1.member'",
                    at + 1
                ),
            ),
            (
                bare_word,
                format!(
                    "line {line}, column {}: expected value at \
                     'stores.1.member.customKeyStores.1.member.connectionState'",
                    at + "\"ConnectionState\": ".len() + 1
                ),
            ),
        ] {
            assert_eq!(parse(file.as_bytes()).unwrap_err().to_string(), expected);
        }
    }

    /// A misspelt or wrongly cased member would be a silently missing value: the file
    /// is refused, naming the member and where it is.
    #[test]
    fn an_unknown_member_refuses_the_file() {
        let cases = [
            (
                "ConectionState",
                "unknown member 'ConectionState' at 'stores.1.member.customKeyStores.3.member'",
            ),
            (
                "connectionState",
                "unknown member 'connectionState' at 'stores.1.member.customKeyStores.3.member'",
            ),
        ];
        for (member, expected) in cases {
            let mut entries = demo_entries();
            entries[2][member] = "DISCONNECTED".into();
            let err = parse(&file_with(&entries)).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
            assert!(err.contains("case matters"), "{err}");
        }

        let mut entries = demo_entries();
        entries[6]["XksProxyConfiguration"]["Conectivity"] = "PUBLIC_ENDPOINT".into();
        let err = parse(&file_with(&entries)).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "unknown member 'Conectivity' at \
                 'stores.1.member.customKeyStores.7.member.xksProxyConfiguration'"
            ),
            "{err}"
        );

        // Members set to null are absent, as in the service's JSON.
        let mut entries = demo_entries();
        entries[0]["ConnectionErrorCode"] = serde_json::Value::Null;
        assert_eq!(parse(&file_with(&entries)).unwrap().len(), 12);
    }

    /// A member name may be as long as the file (a megabyte over `PUT
    /// /_kms-server/stores`): the message quotes its start, not all of it.
    #[test]
    fn a_long_unknown_member_is_quoted_in_part() {
        let long = "Conection".repeat(10_000);
        let mut entries = demo_entries();
        entries[2][long.as_str()] = "DISCONNECTED".into();
        let in_an_entry = file_with(&entries);
        let in_a_group = format!(r#"{{"Stores": [{{"AccountId": "111122223333", "{long}": 1}}]}}"#);
        let at_the_top = format!(r#"{{"Stores": [], "{long}": 1}}"#);
        for (file, says) in [
            (in_an_entry, "unknown member 'ConectionConection"),
            (in_a_group.into_bytes(), "unknown field `ConectionConection"),
            (at_the_top.into_bytes(), "unknown field `ConectionConection"),
        ] {
            let err = parse(&file).unwrap_err().to_string();
            assert!(err.contains(says), "{}", excerpt(&err, 200));
            // A message the decoder made (not one naming a member of an entry, which quotes
            // 128 characters) keeps several hundred: enough to find the member in the file.
            if says.starts_with("unknown field") {
                assert!(
                    err.contains(&"Conection".repeat(40)),
                    "{}",
                    excerpt(&err, 200)
                );
            }
            assert!(
                err.len() < 1000,
                "{} bytes: {}",
                err.len(),
                excerpt(&err, 200)
            );
        }
    }

    /// Entries KMS never returns are refused, naming the member.
    #[test]
    fn an_entry_kms_never_returns_refuses_the_file() {
        fn demo_entry(pick: fn(&serde_json::Value) -> bool) -> serde_json::Value {
            demo_entries().into_iter().find(pick).unwrap()
        }
        fn hsm() -> serde_json::Value {
            demo_entry(|e| {
                e["CustomKeyStoreType"] == "AWS_CLOUDHSM" && e["ConnectionState"] == "CONNECTED"
            })
        }
        fn xks() -> serde_json::Value {
            demo_entry(|e| {
                e["XksProxyConfiguration"]["Connectivity"] == "VPC_ENDPOINT_SERVICE"
                    && e["ConnectionState"] == "CONNECTED"
            })
        }
        fn public() -> serde_json::Value {
            demo_entry(|e| e["XksProxyConfiguration"]["Connectivity"] == "PUBLIC_ENDPOINT")
        }
        type Edit = fn(&mut serde_json::Value);
        let cases: Vec<(serde_json::Value, Edit, &str)> = vec![
            (
                hsm(),
                |e| e["ConnectionState"] = "FAILED".into(),
                "a FAILED store needs a ConnectionErrorCode (KMS always says why) at 'customKeyStores.1.member.connectionErrorCode'",
            ),
            (
                hsm(),
                |e| e["ConnectionErrorCode"] = "NETWORK_ERRORS".into(),
                "ConnectionErrorCode NETWORK_ERRORS at 'customKeyStores.1.member.connectionErrorCode' appears only when ConnectionState is FAILED, not CONNECTED",
            ),
            (
                hsm(),
                |e| {
                    e.as_object_mut().unwrap().remove("ConnectionState");
                    e["ConnectionErrorCode"] = "NETWORK_ERRORS".into();
                },
                "appears only when ConnectionState is FAILED, not absent",
            ),
            (
                hsm(),
                |e| e["XksProxyConfiguration"] = public()["XksProxyConfiguration"].clone(),
                "'customKeyStores.1.member.xksProxyConfiguration': XksProxyConfiguration belongs to EXTERNAL_KEY_STORE stores, and this one is AWS_CLOUDHSM",
            ),
            (
                xks(),
                |e| e["TrustAnchorCertificate"] = "x".into(),
                "'customKeyStores.1.member.trustAnchorCertificate': TrustAnchorCertificate belongs to AWS_CLOUDHSM stores",
            ),
            (
                xks(),
                |e| e["CloudHsmClusterId"] = "cluster-abcdefghijk".into(),
                "CloudHsmClusterId belongs to AWS_CLOUDHSM stores",
            ),
            (
                xks(),
                |e| {
                    e["ConnectionState"] = "FAILED".into();
                    e["ConnectionErrorCode"] = "USER_LOCKED_OUT".into();
                },
                "ConnectionErrorCode USER_LOCKED_OUT at 'customKeyStores.1.member.connectionErrorCode' is reported only for AWS_CLOUDHSM stores, and this one is EXTERNAL_KEY_STORE",
            ),
            (
                hsm(),
                |e| {
                    e["ConnectionState"] = "FAILED".into();
                    e["ConnectionErrorCode"] = "XKS_PROXY_TIMED_OUT".into();
                },
                "is reported only for EXTERNAL_KEY_STORE stores, and this one is AWS_CLOUDHSM",
            ),
            (
                xks(),
                |e| {
                    e["XksProxyConfiguration"]
                        .as_object_mut()
                        .unwrap()
                        .remove("VpcEndpointServiceName");
                },
                "a VPC_ENDPOINT_SERVICE proxy needs a VpcEndpointServiceName at 'customKeyStores.1.member.xksProxyConfiguration.vpcEndpointServiceName'",
            ),
            (
                public(),
                |e| e["XksProxyConfiguration"]["VpcEndpointServiceOwner"] = "111122223333".into(),
                "'customKeyStores.1.member.xksProxyConfiguration.vpcEndpointServiceOwner': VpcEndpointServiceOwner belongs to VPC_ENDPOINT_SERVICE proxies",
            ),
            // Without a CustomKeyStoreType, the members say the type: still checked.
            (
                hsm(),
                |e| {
                    e.as_object_mut().unwrap().remove("CustomKeyStoreType");
                    e["XksProxyConfiguration"] = public()["XksProxyConfiguration"].clone();
                },
                "'customKeyStores.1.member.cloudHsmClusterId' belongs to AWS_CLOUDHSM stores and 'customKeyStores.1.member.xksProxyConfiguration' to EXTERNAL_KEY_STORE stores: a store is of one type",
            ),
            (
                public(),
                |e| {
                    e.as_object_mut().unwrap().remove("CustomKeyStoreType");
                    e["ConnectionState"] = "FAILED".into();
                    e["ConnectionErrorCode"] = "USER_NOT_FOUND".into();
                },
                "is reported only for AWS_CLOUDHSM stores, and this one is EXTERNAL_KEY_STORE",
            ),
            // The members each type's stores always carry.
            (
                hsm(),
                |e| {
                    e.as_object_mut().unwrap().remove("CloudHsmClusterId");
                },
                "AWS_CLOUDHSM stores always carry CloudHsmClusterId (KMS returns it): missing at 'customKeyStores.1.member.cloudHsmClusterId'",
            ),
            (
                hsm(),
                |e| {
                    e.as_object_mut().unwrap().remove("TrustAnchorCertificate");
                },
                "carry TrustAnchorCertificate (KMS returns it): missing at 'customKeyStores.1.member.trustAnchorCertificate'",
            ),
            (
                public(),
                |e| {
                    e.as_object_mut().unwrap().remove("XksProxyConfiguration");
                },
                "EXTERNAL_KEY_STORE stores always carry XksProxyConfiguration (KMS returns it): missing at 'customKeyStores.1.member.xksProxyConfiguration'",
            ),
            (
                public(),
                |e| {
                    e["XksProxyConfiguration"]
                        .as_object_mut()
                        .unwrap()
                        .remove("AccessKeyId");
                },
                "an XksProxyConfiguration always carries AccessKeyId (KMS returns it): missing at 'customKeyStores.1.member.xksProxyConfiguration.accessKeyId'",
            ),
            (
                xks(),
                |e| {
                    e["XksProxyConfiguration"]
                        .as_object_mut()
                        .unwrap()
                        .remove("VpcEndpointServiceOwner");
                },
                "a VPC_ENDPOINT_SERVICE proxy needs a VpcEndpointServiceOwner at 'customKeyStores.1.member.xksProxyConfiguration.vpcEndpointServiceOwner'",
            ),
            // A VPC endpoint service's faults, for a proxy reached without one.
            (
                public(),
                |e| {
                    e["ConnectionState"] = "FAILED".into();
                    e["ConnectionErrorCode"] = "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND".into();
                },
                "ConnectionErrorCode XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND at 'customKeyStores.1.member.connectionErrorCode' is reported only for VPC_ENDPOINT_SERVICE proxies, and this one is PUBLIC_ENDPOINT",
            ),
            (
                public(),
                |e| {
                    e["ConnectionState"] = "FAILED".into();
                    e["ConnectionErrorCode"] =
                        "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION".into();
                },
                "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION at 'customKeyStores.1.member.connectionErrorCode' is reported only for VPC_ENDPOINT_SERVICE proxies",
            ),
            // Ids are KMS's: cks- and 17 lowercase hexadecimal digits.
            (
                hsm(),
                |e| e["CustomKeyStoreId"] = "my-test-store".into(),
                "CustomKeyStoreId 'my-test-store' at 'customKeyStores.1.member.customKeyStoreId' is not an id KMS gives: cks- and 17 lowercase hexadecimal digits, like cks-1234567890abcdef0",
            ),
            (
                hsm(),
                |e| e["CreationDate"] = 253_402_300_800u64.into(),
                "CreationDate 253402300800 at 'customKeyStores.1.member.creationDate' is outside 1970-01-01 to 9999-12-31",
            ),
            (
                hsm(),
                |e| e["CreationDate"] = (-1.5).into(),
                "CreationDate -1.5 at",
            ),
        ];
        for (mut entry, edit, expected) in cases {
            parse(&file_with(std::slice::from_ref(&entry))).expect("the unedited entry loads");
            edit(&mut entry);
            let err = parse(&file_with(&[entry])).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}\nexpected: {expected}");
        }

        // The limits themselves are fine, and so are codes of both store types.
        for (created, code) in [
            (0u64, "INVALID_CREDENTIALS"),
            (253_402_300_799, "NETWORK_ERRORS"),
        ] {
            for mut entry in [hsm(), xks()] {
                entry["CreationDate"] = created.into();
                entry["ConnectionState"] = "FAILED".into();
                entry["ConnectionErrorCode"] = code.into();
                parse(&file_with(&[entry])).unwrap();
            }
        }
        // Upper case, one digit short or over, a letter past f: not KMS's ids either.
        for id in [
            "cks-1234567890ABCDEF0",
            "cks-1234567890abcdef",
            "cks-1234567890abcdef00",
            "cks-1234567890abcdefg",
        ] {
            let mut entry = hsm();
            entry["CustomKeyStoreId"] = id.into();
            let err = parse(&file_with(&[entry])).unwrap_err().to_string();
            assert!(
                err.contains(&format!("CustomKeyStoreId '{id}' at")),
                "{err}"
            );
        }
        // A VPC endpoint service's codes with one, the proxy's own without.
        for (mut entry, code) in [
            (xks(), "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION"),
            (public(), "XKS_PROXY_TIMED_OUT"),
        ] {
            entry["ConnectionState"] = "FAILED".into();
            entry["ConnectionErrorCode"] = code.into();
            parse(&file_with(&[entry])).unwrap();
        }
    }
}
