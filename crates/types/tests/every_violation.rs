//! A request missing required members gets every violation at once, in member order, as
//! KMS answers (`aws_json::decode_valid`): not only the first missing member, which is all
//! a value that cannot be built without them would tell.

use kms_types::aws_json::{DecodeError, decode_valid};

mod make {
    kms_macros::generate!("tests/models/required.json");
}

use make::{AttachRequest, MakeRequest};

fn message(body: &str) -> String {
    message_of::<MakeRequest>(body)
}

fn message_of<T>(body: &str) -> String
where
    T: serde::de::DeserializeOwned + serde::Serialize + kms_types::Validate + std::fmt::Debug,
{
    match decode_valid::<T>(body.as_bytes()) {
        Err(DecodeError::Validation(e)) => e.to_string(),
        other => panic!("{body}: {other:?}"),
    }
}

const NAME_NULL: &str =
    "Value null at 'name' failed to satisfy constraint: Member must not be null";
const COUNT_NULL: &str =
    "Value null at 'count' failed to satisfy constraint: Member must not be null";
const FLAG_NULL: &str =
    "Value null at 'flag' failed to satisfy constraint: Member must not be null";

#[test]
fn missing_members_do_not_hide_the_other_violations() {
    assert_eq!(
        message(r#"{"Password": "abc"}"#),
        format!(
            "4 validation errors detected: {NAME_NULL}; Value at 'password' failed to satisfy \
             constraint: Member must have length greater than or equal to 6; {COUNT_NULL}; \
             {FLAG_NULL}"
        )
    );
    assert_eq!(
        message(r#"{"Credential": {}, "Name": ""}"#),
        format!(
            "5 validation errors detected: Value '' at 'name' failed to satisfy constraint: \
             Member must have length greater than or equal to 1; {COUNT_NULL}; {FLAG_NULL}; \
             Value null at 'credential.accessKeyId' failed to satisfy constraint: Member must \
             not be null; Value null at 'credential.secret' failed to satisfy constraint: \
             Member must not be null"
        )
    );
    assert_eq!(
        message(
            r#"{"Tags": [{"Value": "v"}, {"Key": ""}], "Count": 1, "Flag": true, "Name": "n"}"#
        ),
        "2 validation errors detected: Value null at 'tags.1.member.key' failed to satisfy \
         constraint: Member must not be null; Value '' at 'tags.2.member.key' failed to satisfy \
         constraint: Member must have length greater than or equal to 1"
    );
    // An empty body misses them all.
    assert_eq!(
        message(""),
        format!("3 validation errors detected: {NAME_NULL}; {COUNT_NULL}; {FLAG_NULL}")
    );
}

#[test]
fn a_complete_request_decodes_and_a_wrong_type_is_still_a_serialization_error() {
    let ok = decode_valid::<MakeRequest>(br#"{"Name": "n", "Count": 2, "Flag": false}"#).unwrap();
    assert_eq!((ok.name.as_str(), ok.count, ok.flag), ("n", 2, false));
    // A member of the wrong type, after a nested member is found missing.
    let e = decode_valid::<MakeRequest>(br#"{"Credential": {}, "Count": "x"}"#).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Serialization("invalid type: string, expected i32 at 'count'".into())
    );
}

/// A large body missing many members costs bounded work: past the bound, the first
/// missing member alone.
#[test]
fn the_work_is_bounded() {
    let tags: Vec<String> = (0..20_000)
        .map(|_| r#"{"Value": "v"}"#.to_owned())
        .collect();
    let body = format!(
        r#"{{"Name": "n", "Count": 1, "Flag": true, "Tags": [{}]}}"#,
        tags.join(",")
    );
    match decode_valid::<MakeRequest>(body.as_bytes()) {
        Err(DecodeError::Validation(e)) => assert_eq!(
            e.to_string(),
            "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy \
             constraint: Member must not be null"
        ),
        other => panic!("{other:?}"),
    }
    // Under the bound, all of them.
    let body = r#"{"Name": "n", "Count": 1, "Flag": true, "Tags": [{}, {}, {}]}"#;
    match decode_valid::<MakeRequest>(body.as_bytes()) {
        Err(DecodeError::Validation(e)) => assert_eq!(e.violations().len(), 3),
        other => panic!("{other:?}"),
    }
}

/// The bounds are exact: at most 64 stand-ins, and at most 16 MiB read again in all (a
/// body read once more per stand-in); one beyond either, and the first missing member is
/// reported alone.
#[test]
fn the_work_stops_exactly_at_its_bounds() {
    // `count` tags without their required key, and `Name` padded for the body to be
    // `size` bytes (when given).
    let violations = |count: usize, size: Option<usize>| {
        let tags = vec![r#"{"Value": "v"}"#; count].join(",");
        let body = |name: &str| {
            format!(r#"{{"Name": "{name}", "Count": 1, "Flag": true, "Tags": [{tags}]}}"#)
        };
        let short = body("n");
        let body = size.map_or(short.clone(), |size| {
            body(&"n".repeat(size - short.len() + 1))
        });
        assert_eq!(body.len(), size.unwrap_or(body.len()));
        match decode_valid::<MakeRequest>(body.as_bytes()) {
            Err(DecodeError::Validation(e)) => e.violations().len(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(violations(64, None), 64);
    assert_eq!(violations(65, None), 1);
    // A body of 1,000,000 bytes is read 16 times for 15 missing members (16,001,920
    // bytes with the stand-ins), 17 times for 16 (beyond 16 MiB).
    assert_eq!(violations(15, Some(1_000_000)), 15);
    assert_eq!(violations(16, Some(1_000_000)), 1);
}

/// A missing required structure, list or map is read as an empty one until the value
/// reads, so that the members after it are checked and reported too.
#[test]
fn missing_structures_lists_and_maps_do_not_hide_the_others() {
    const CREDENTIAL_NULL: &str =
        "Value null at 'credential' failed to satisfy constraint: Member must not be null";
    const TAGS_NULL: &str =
        "Value null at 'tags' failed to satisfy constraint: Member must not be null";
    const ATTRS_NULL: &str =
        "Value null at 'attrs' failed to satisfy constraint: Member must not be null";
    assert_eq!(
        message_of::<AttachRequest>("{}"),
        format!("3 validation errors detected: {CREDENTIAL_NULL}; {TAGS_NULL}; {ATTRS_NULL}")
    );
    // The members inside a stand-in are not reported; those of a member sent are.
    assert_eq!(
        message_of::<AttachRequest>(r#"{"Tags": [{"Value": "v"}]}"#),
        format!(
            "3 validation errors detected: {CREDENTIAL_NULL}; Value null at \
             'tags.1.member.key' failed to satisfy constraint: Member must not be null; \
             {ATTRS_NULL}"
        )
    );
}

/// Map values are named as the validators name them (`attrs.<key>.value.x`, the key as
/// it is), and a key holding a dot is not mistaken for a stand-in's place.
#[test]
fn map_values_keep_their_keys() {
    assert_eq!(
        message(
            r#"{"Name": "n", "Count": 1, "Flag": true, "Attrs": {"K": {}, "k.x": {"AccessKeyId": "1", "Secret": "s"}}}"#
        ),
        "3 validation errors detected: Value null at 'attrs.K.value.accessKeyId' failed to \
         satisfy constraint: Member must not be null; Value null at 'attrs.K.value.secret' \
         failed to satisfy constraint: Member must not be null; Value '1' at \
         'attrs.k.x.value.accessKeyId' failed to satisfy constraint: Member must have length \
         greater than or equal to 3"
    );
    assert_eq!(
        message(
            r#"{"Name": "n", "Count": 1, "Flag": true, "Attrs": {"k": {}, "k.x": {"AccessKeyId": "1", "Secret": "s"}}}"#
        ),
        "3 validation errors detected: Value null at 'attrs.k.value.accessKeyId' failed to \
         satisfy constraint: Member must not be null; Value null at 'attrs.k.value.secret' \
         failed to satisfy constraint: Member must not be null; Value '1' at \
         'attrs.k.x.value.accessKeyId' failed to satisfy constraint: Member must have length \
         greater than or equal to 3"
    );
}

mod length {
    kms_macros::generate!("crates/codegen/tests/fixtures/length.json");
}
mod blob {
    kms_macros::generate!("crates/codegen/tests/fixtures/blob.json");
}
mod map {
    kms_macros::generate!("crates/codegen/tests/fixtures/map.json");
}
mod union {
    kms_macros::generate!("crates/codegen/tests/fixtures/union.json");
}

/// `@length` on a list, a blob and a map counts items, bytes and entries; a union
/// member the model does not define is named; a structure inside itself (a delegate's
/// credential) is checked like any other.
#[test]
fn lists_blobs_maps_unions_and_recursive_structures_are_checked() {
    let one = |path: &str, value: &str, constraint: &str| {
        format!(
            "1 validation error detected: Value '{value}' at '{path}' failed to satisfy \
             constraint: Member must {constraint}"
        )
    };
    assert_eq!(
        message_of::<length::RunRequest>(r#"{"Tags": ["a", "b", "c", "d"]}"#),
        one(
            "tags",
            r#"["a", "b", "c", "d"]"#,
            "have length less than or equal to 3"
        )
    );
    assert_eq!(
        message_of::<blob::RunRequest>(r#"{"Payload": ""}"#),
        one(
            "payload",
            "Blob(0 bytes)",
            "have length greater than or equal to 1"
        )
    );
    assert_eq!(
        message_of::<map::RunRequest>(r#"{"Context": {"a": "1", "b": "2", "c": "3"}}"#),
        one(
            "context",
            r#"{"a": "1", "b": "2", "c": "3"}"#,
            "have length less than or equal to 2"
        )
    );
    assert_eq!(
        message_of::<union::RunRequest>(r#"{"Choice": {"Future": 1}}"#),
        one(
            "choice",
            "Future",
            "set one of the union's members: [Labels, Nothing, Point, Raw, Small, Text, Ratio]"
        )
    );
    assert_eq!(
        message(
            r#"{"Name": "n", "Count": 1, "Flag": true, "Credential": {"AccessKeyId": "abc", "Secret": "s", "Delegate": {"AccessKeyId": "1", "Secret": "s"}}}"#
        ),
        one(
            "credential.delegate.accessKeyId",
            "1",
            "have length greater than or equal to 3"
        )
    );
}
