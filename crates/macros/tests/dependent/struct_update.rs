// A generated structure is `#[non_exhaustive]`: outside kms-types it is built with its
// builder, so that a member a newer model adds does not break this code.
use kms_types::CustomKeyStoresListEntry;

fn main() {
    let _entry = CustomKeyStoresListEntry {
        custom_key_store_id: Some("cks-1234567890abcdef0".to_owned()),
        ..Default::default()
    };
}
