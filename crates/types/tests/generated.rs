//! The generated types against the model they come from: examples, every input
//! constraint at its boundaries, violation order, redaction, unknown enum values.

use kms_spec::{Model, ShapeKind};
use kms_types::aws_json::decode;
use kms_types::{
    ConnectionStateType, CustomKeyStoresListEntry, DescribeCustomKeyStores,
    DescribeCustomKeyStoresError, DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse,
    KmsInternalException, OperationError, OperationShape, Timestamp, Validate,
    XksProxyConfigurationType,
};
use serde_json::{Value, json};

fn model() -> Model {
    Model::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/kms.describe-custom-key-stores.json"
    ))
    .unwrap()
}

fn messages(request: &Value) -> Vec<String> {
    let request: DescribeCustomKeyStoresRequest = decode(request.to_string().as_bytes()).unwrap();
    match request.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.violations().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn examples_round_trip() {
    let model = model();
    let op = model
        .shape_by_name("com.amazonaws.kms#DescribeCustomKeyStores")
        .unwrap();
    let examples = op.traits.examples();
    assert!(!examples.is_empty());
    let output_shape = model.shape(op.output.as_ref().unwrap()).unwrap();
    for example in examples {
        if let Some(input) = &example.input {
            let parsed: DescribeCustomKeyStoresRequest =
                decode(input.to_string().as_bytes()).unwrap();
            assert_eq!(
                &serde_json::to_value(&parsed).unwrap(),
                input,
                "{}",
                example.title
            );
        }
        if let Some(output) = &example.output {
            let parsed: DescribeCustomKeyStoresResponse =
                decode(output.to_string().as_bytes()).unwrap();
            let mut reserialized = serde_json::to_value(&parsed).unwrap();
            // Members with a @default are always written; drop those the example leaves out,
            // after checking they carry the model's default.
            for member in &output_shape.members {
                let default = model.constraints(member).default;
                if output.get(&member.name).is_none() && default.is_some() {
                    assert_eq!(
                        reserialized.get(&member.name),
                        default.as_ref(),
                        "{}",
                        member.name
                    );
                    reserialized.as_object_mut().unwrap().remove(&member.name);
                }
            }
            assert_eq!(&reserialized, output, "{}", example.title);
        }
    }
}

/// Every @length and @range on every input member of DescribeCustomKeyStores (whatever
/// other operations the spec holds), at min−1, min, max and max+1, with multi-byte
/// characters for lengths (a scalar value is one, whatever its bytes).
#[test]
fn every_input_constraint_at_its_boundaries() {
    let model = model();
    let service = model.service(None).unwrap();
    let mut checked = 0;
    let describe =
        |op: &&kms_spec::OperationView<'_>| op.shape.id.name() == "DescribeCustomKeyStores";
    for op in service.operations.iter().filter(describe) {
        for member in &op.input.members {
            let c = model.constraints(member);
            let path = {
                let mut p = member.name.clone();
                p[..1].make_ascii_lowercase();
                p
            };
            let pattern = c
                .pattern
                .as_deref()
                .map(|p| kms_spec::pattern::compile(p).unwrap());
            if let Some(length) = c.length {
                // The widest filler the pattern accepts: 4-byte emoji, 2-byte é, else ASCII.
                let filler = ['😀', 'é', 'a']
                    .into_iter()
                    .find(|ch| {
                        pattern
                            .as_ref()
                            .is_none_or(|re| re.is_match(&ch.to_string()))
                    })
                    .unwrap();
                let min = length.min.unwrap_or(0);
                let max = length.max.unwrap();
                for (len, expect) in [
                    (
                        min.checked_sub(1),
                        Some(format!(
                            "Member must have length greater than or equal to {min}"
                        )),
                    ),
                    (Some(min), None),
                    (Some(max), None),
                    (
                        Some(max + 1),
                        Some(format!(
                            "Member must have length less than or equal to {max}"
                        )),
                    ),
                ] {
                    let Some(len) = len else { continue };
                    let value: String = std::iter::repeat_n(filler, len as usize).collect();
                    let got = messages(&json!({ &member.name: value }));
                    match &expect {
                        None => assert!(got.is_empty(), "{path} len {len}: {got:?}"),
                        Some(phrase) => {
                            assert_eq!(got.len(), 1, "{path} len {len}: {got:?}");
                            assert!(
                                got[0].starts_with(&format!("Value '{value}' at '{path}'")),
                                "{}",
                                got[0]
                            );
                            assert!(got[0].ends_with(phrase), "{}", got[0]);
                        }
                    }
                    checked += 1;
                }
            }
            if let Some(range) = c.range {
                let min = range.min.unwrap().as_i64().unwrap();
                let max = range.max.unwrap().as_i64().unwrap();
                for (value, expect) in [
                    (
                        min - 1,
                        Some(format!(
                            "Member must have value greater than or equal to {min}"
                        )),
                    ),
                    (min, None),
                    (max, None),
                    (
                        max + 1,
                        Some(format!(
                            "Member must have value less than or equal to {max}"
                        )),
                    ),
                ] {
                    let got = messages(&json!({ &member.name: value }));
                    match &expect {
                        None => assert!(got.is_empty(), "{path} = {value}: {got:?}"),
                        Some(phrase) => {
                            assert_eq!(
                                got,
                                vec![format!(
                                    "Value '{value}' at '{path}' failed to satisfy constraint: {phrase}"
                                )]
                            );
                        }
                    }
                    checked += 1;
                }
            }
            assert!(
                !matches!(
                    model.target(member).kind,
                    ShapeKind::Structure | ShapeKind::List
                ),
                "extend this test for nested input members"
            );
        }
    }
    assert_eq!(
        checked, 16,
        "4 boundaries × (CustomKeyStoreId, CustomKeyStoreName, Limit, Marker)"
    );
}

#[test]
fn marker_pattern_hits_and_misses() {
    let rule = "Member must satisfy regular expression pattern: ^[\\u0020-\\u00FF]*$";
    for ok in ["abc", " ", "~", "ÿÿ", "eyJhIjoxfQ==", "a b\u{A0}c"] {
        assert!(messages(&json!({ "Marker": ok })).is_empty(), "{ok:?}");
    }
    for bad in ["\t", "a\nb", "\u{100}", "😀", "\u{7F}\u{1F}"] {
        assert_eq!(
            messages(&json!({ "Marker": bad })),
            vec![format!(
                "Value '{bad}' at 'marker' failed to satisfy constraint: {rule}"
            )]
        );
    }
}

#[test]
fn all_violations_in_member_order() {
    let request = json!({ "Marker": "\t", "Limit": 0, "CustomKeyStoreName": "", "CustomKeyStoreId": "x".repeat(65) });
    let request: DescribeCustomKeyStoresRequest = decode(request.to_string().as_bytes()).unwrap();
    assert_eq!(
        request.validate().unwrap_err().to_string(),
        format!(
            "4 validation errors detected: \
             Value '{}' at 'customKeyStoreId' failed to satisfy constraint: Member must have length less than or equal to 64; \
             Value '' at 'customKeyStoreName' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; \
             Value '\t' at 'marker' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\u0020-\\u00FF]*$",
            "x".repeat(65)
        )
    );
}

/// The model's member order, not the alphabet's: `CustomKeyStoreId`,
/// `CustomKeyStoreName`, `CloudHsmClusterId`, `TrustAnchorCertificate`, …, and within
/// `XksProxyConfiguration`: `Connectivity`, `AccessKeyId`, `UriEndpoint`, `UriPath`.
#[test]
fn an_entry_lists_its_violations_in_model_order() {
    let entry: CustomKeyStoresListEntry = serde_json::from_value(json!({
        "XksProxyConfiguration": {
            "UriPath": "/nope",
            "UriEndpoint": "http://x",
            "AccessKeyId": "A",
            "Connectivity": "CABLE"
        },
        "TrustAnchorCertificate": "",
        "ConnectionState": "HIBERNATING",
        "CloudHsmClusterId": "cluster-1",
        "CustomKeyStoreName": "",
        "CustomKeyStoreId": ""
    }))
    .unwrap();
    let paths: Vec<_> = entry
        .validate()
        .unwrap_err()
        .violations()
        .iter()
        .map(|v| v.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "customKeyStoreId",
            "customKeyStoreName",
            "cloudHsmClusterId",
            "cloudHsmClusterId",
            "trustAnchorCertificate",
            "connectionState",
            "xksProxyConfiguration.connectivity",
            "xksProxyConfiguration.accessKeyId",
            "xksProxyConfiguration.uriEndpoint",
            "xksProxyConfiguration.uriEndpoint",
            "xksProxyConfiguration.uriPath",
            "xksProxyConfiguration.uriPath",
        ]
    );
    // And their JSON is written in that order.
    let json = serde_json::to_string(&entry).unwrap();
    let at = |name: &str| json.find(name).unwrap();
    assert!(at("CustomKeyStoreId") < at("CustomKeyStoreName"), "{json}");
    assert!(at("CustomKeyStoreName") < at("CloudHsmClusterId"), "{json}");
    assert!(
        at("CloudHsmClusterId") < at("TrustAnchorCertificate"),
        "{json}"
    );
    assert!(at("Connectivity") < at("AccessKeyId"), "{json}");
}

fn xks_entry(access_key_id: &str) -> CustomKeyStoresListEntry {
    CustomKeyStoresListEntry::builder()
        .custom_key_store_id("cks-1234567890abcdef0")
        .custom_key_store_name("ExampleExternalKeyStore")
        .xks_proxy_configuration(
            XksProxyConfigurationType::builder()
                .access_key_id(access_key_id)
                .uri_endpoint("https://myproxy.xks.example.com")
                .uri_path("/kms/xks/v1")
                .build(),
        )
        .build()
}

#[test]
fn sensitive_values_are_redacted_and_never_echoed() {
    let debug = format!("{:?}", xks_entry("ABCDE23456ABCDE23456"));
    assert!(
        debug.contains("access_key_id: *** Sensitive Data Redacted ***"),
        "{debug}"
    );
    assert!(!debug.contains("ABCDE23456"), "{debug}");
    assert!(debug.contains("uri_path: Some(\"/kms/xks/v1\")"), "{debug}");

    let err = xks_entry("lowercase-secret-key")
        .validate()
        .unwrap_err()
        .to_string();
    assert!(!err.contains("lowercase-secret-key"), "{err}");
    assert!(
        err.contains("Value at 'xksProxyConfiguration.accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[A-Z2-7]+$"),
        "{err}"
    );
}

#[test]
fn nested_and_list_paths() {
    let mut entry = xks_entry("ABCDE23456ABCDE23456");
    entry.xks_proxy_configuration.as_mut().unwrap().uri_path = Some("/kms/xks/v123".into());
    let response = DescribeCustomKeyStoresResponse::builder()
        .custom_key_stores(vec![xks_entry("ABCDE23456ABCDE23456"), entry])
        .build();
    let err = response.validate().unwrap_err();
    assert_eq!(err.violations().len(), 1);
    assert_eq!(
        err.violations()[0].path,
        "customKeyStores.2.member.xksProxyConfiguration.uriPath"
    );
}

#[test]
fn unknown_enum_values_round_trip() {
    let json = r#"{"ConnectionState":"HIBERNATING","CustomKeyStoreType":"AWS_CLOUDHSM"}"#;
    let entry: CustomKeyStoresListEntry = serde_json::from_str(json).unwrap();
    assert_eq!(
        entry.connection_state,
        Some(ConnectionStateType::from("HIBERNATING"))
    );
    assert!(matches!(
        &entry.connection_state,
        Some(ConnectionStateType::Unknown(v)) if v.as_str() == "HIBERNATING"
    ));
    assert_eq!(serde_json::to_string(&entry).unwrap(), json);
    // A value the model defines is always its own variant (`Unknown` cannot be made to
    // hold it): it validates, and equals what a round trip gives back.
    let defined = CustomKeyStoresListEntry::builder()
        .connection_state(ConnectionStateType::from("CONNECTED"))
        .build();
    assert_eq!(
        defined.connection_state,
        Some(ConnectionStateType::Connected)
    );
    assert!(defined.validate().is_ok());
    assert_eq!(
        "FAILED".parse::<ConnectionStateType>().unwrap(),
        ConnectionStateType::Failed
    );
    assert_eq!(ConnectionStateType::Failed.as_str(), "FAILED");
    assert_eq!(
        ConnectionStateType::values(),
        [
            "CONNECTED",
            "CONNECTING",
            "FAILED",
            "DISCONNECTED",
            "DISCONNECTING"
        ]
    );
    // A server rejects what a client keeps.
    assert_eq!(
        entry.validate().unwrap_err().to_string(),
        "1 validation error detected: Value 'HIBERNATING' at 'connectionState' failed to satisfy constraint: \
         Member must satisfy enum value set: [CONNECTED, CONNECTING, FAILED, DISCONNECTED, DISCONNECTING]"
    );
}

#[test]
fn absent_members_are_omitted_and_defaults_written() {
    assert_eq!(
        serde_json::to_string(&DescribeCustomKeyStoresRequest::builder().build()).unwrap(),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&DescribeCustomKeyStoresRequest::builder().limit(10).build())
            .unwrap(),
        r#"{"Limit":10}"#
    );
    assert_eq!(
        serde_json::to_string(&DescribeCustomKeyStoresResponse::default()).unwrap(),
        r#"{"Truncated":false}"#
    );
    let parsed: DescribeCustomKeyStoresResponse = decode(br#"{"NextMarker":null}"#).unwrap();
    assert_eq!(parsed.next_marker, None);
}

/// Formats that read a structure's members by position (bincode) get every member, absent
/// ones too: leaving them out, as JSON does, shifted the rest, so that a request with an id,
/// a name and a marker came back with `Limit: Some(1)` and no marker, and a response did not
/// decode at all.
#[test]
fn formats_that_are_not_human_readable_round_trip_partial_values() {
    let request = DescribeCustomKeyStoresRequest::builder()
        .custom_key_store_id("cks-1234567890abcdef0")
        .custom_key_store_name("b")
        .marker("m")
        .build();
    let entry = CustomKeyStoresListEntry::builder()
        .custom_key_store_id("cks-1234567890abcdef0")
        .connection_state(ConnectionStateType::from("NEW_STATE"))
        .creation_date(Timestamp::new(1_499_288_695, 918_000_000))
        .build();
    let response = DescribeCustomKeyStoresResponse::builder()
        .custom_key_stores(vec![entry.clone(), xks_entry("ABCDEFGHIJKLMNOPQRST")])
        .next_marker("next")
        .truncated(true)
        .build();
    let request_back: DescribeCustomKeyStoresRequest =
        bincode::deserialize(&bincode::serialize(&request).unwrap()).unwrap();
    assert_eq!(request_back, request);
    for response in [response, DescribeCustomKeyStoresResponse::default()] {
        let back: DescribeCustomKeyStoresResponse =
            bincode::deserialize(&bincode::serialize(&response).unwrap()).unwrap();
        assert_eq!(back, response);
    }
    // JSON still leaves absent members out.
    assert_eq!(
        serde_json::to_string(&entry).unwrap(),
        r#"{"CustomKeyStoreId":"cks-1234567890abcdef0","ConnectionState":"NEW_STATE","CreationDate":1499288695.918}"#
    );
}

/// Structures holding no float or document are `Eq` and `Hash`, so that a test's mock can
/// key its answers by request.
#[test]
fn structures_without_floats_are_eq_and_hash() {
    let mut answers = std::collections::HashMap::new();
    let first = DescribeCustomKeyStoresRequest::builder().limit(1).build();
    answers.insert(first.clone(), DescribeCustomKeyStoresResponse::default());
    answers.insert(
        DescribeCustomKeyStoresRequest::builder().limit(2).build(),
        DescribeCustomKeyStoresResponse::builder()
            .custom_key_stores(vec![xks_entry("ABCDEFGHIJKLMNOPQRST")])
            .build(),
    );
    assert_eq!(
        answers.get(&first),
        Some(&DescribeCustomKeyStoresResponse::default())
    );
    let stores: std::collections::HashSet<_> =
        [xks_entry("A"), xks_entry("A"), xks_entry("B")].into();
    assert_eq!(stores.len(), 2);
}

/// `null` means absent for every member, as aws-sdk-kms reads awsJson: a member with a
/// `@default` (`Truncated`) then takes its default.
#[test]
fn null_reads_as_absent_for_defaulted_members_too() {
    let parsed: DescribeCustomKeyStoresResponse =
        decode(br#"{"Truncated":null,"NextMarker":null,"CustomKeyStores":null}"#).unwrap();
    assert_eq!(parsed, DescribeCustomKeyStoresResponse::default());
    let parsed: DescribeCustomKeyStoresResponse =
        serde_json::from_value(json!({ "Truncated": true })).unwrap();
    assert!(parsed.truncated);
}

#[test]
fn timestamps_on_the_wire() {
    let entry: CustomKeyStoresListEntry =
        serde_json::from_str(r#"{"CreationDate":1.499288695918E9}"#).unwrap();
    assert_eq!(
        entry.creation_date,
        Some(Timestamp::new(1_499_288_695, 918_000_000))
    );
    assert_eq!(
        serde_json::to_string(&entry).unwrap(),
        r#"{"CreationDate":1499288695.918}"#
    );
}

#[test]
fn operation_descriptor_and_errors() {
    let op = DescribeCustomKeyStores::OPERATION;
    assert_eq!(op.target, "TrentService.DescribeCustomKeyStores");
    assert_eq!(
        (op.service, op.signing_name),
        ("com.amazonaws.kms#TrentService", "kms")
    );
    assert_eq!(op.protocol, "aws.protocols#awsJson1_1");
    let p = op.pagination.unwrap();
    assert_eq!(
        (p.input_token, p.output_token, p.page_size, p.items),
        (
            "Marker",
            "NextMarker",
            Some("Limit"),
            Some("CustomKeyStores")
        )
    );
    assert!(
        kms_types::OPERATIONS.contains(&op),
        "{:?}",
        kms_types::OPERATIONS
    );

    let err =
        DescribeCustomKeyStoresError::from(KmsInternalException::builder().message("boom").build());
    assert_eq!(
        (err.code(), err.http_status(), err.is_retryable()),
        ("KMSInternalException", 500, true)
    );
    assert_eq!(err.to_string(), "KMSInternalException: boom");
    let body: Value = serde_json::from_slice(&err.to_body()).unwrap();
    assert_eq!(
        body,
        json!({ "__type": "KMSInternalException", "message": "boom" })
    );
    let back = DescribeCustomKeyStoresError::from_wire(
        "InvalidMarkerException",
        br#"{"Message":"bad marker"}"#,
    )
    .unwrap();
    assert_eq!(
        (
            back.code(),
            back.http_status(),
            back.is_retryable(),
            back.message()
        ),
        ("InvalidMarkerException", 400, false, Some("bad marker"))
    );
    assert!(DescribeCustomKeyStoresError::from_wire("ThrottlingException", b"{}").is_none());
}

/// `from_wire`, `parse_error` and `ErrorBody` read the message by one rule (`message`,
/// else `Message`, else `errorMessage`: the first that is a string), and a message that
/// is odd never turns a modeled error into an unmodeled one.
#[test]
fn every_error_path_reads_the_message_alike() {
    use kms_types::aws_json::{ErrorBody, parse_error};
    for (body, message) in [
        (
            &br#"{"__type":"KMSInternalException","errorMessage":"boom"}"#[..],
            Some("boom"),
        ),
        (
            br#"{"__type":"KMSInternalException","Message":"boom"}"#,
            Some("boom"),
        ),
        (
            br#"{"__type":"KMSInternalException","message":"a","Message":"b"}"#,
            Some("a"),
        ),
        (
            br#"{"__type":"KMSInternalException","Message":"b","message":"a"}"#,
            Some("a"),
        ),
        (
            br#"{"__type":"KMSInternalException","message":42,"Message":"b"}"#,
            Some("b"),
        ),
        (br#"{"__type":"KMSInternalException","message":42}"#, None),
        (br#"{"__type":"KMSInternalException","message":null}"#, None),
        (
            br#"{"__type":"KMSInternalException","message":"a","message":"c"}"#,
            Some("c"),
        ),
        (br#"{"__type":"KMSInternalException"}"#, None),
    ] {
        let text = String::from_utf8_lossy(body);
        let modeled = DescribeCustomKeyStoresError::from_wire("KMSInternalException", body)
            .unwrap_or_else(|| panic!("{text}: modeled"));
        assert!(modeled.is_retryable(), "{text}");
        assert_eq!(modeled.message(), message, "{text}: from_wire");
        assert_eq!(
            parse_error(None, body).message.as_deref(),
            message,
            "{text}: parse_error"
        );
        let error_body: ErrorBody = serde_json::from_slice(body).unwrap();
        assert_eq!(error_body.message.as_deref(), message, "{text}: ErrorBody");
        assert_eq!(error_body.code, "KMSInternalException");
    }
    // A body that is not JSON keeps the code the header gave.
    let modeled = DescribeCustomKeyStoresError::from_wire("KMSInternalException", b"<html>");
    assert_eq!(modeled.map(|e| e.code()), Some("KMSInternalException"));
}

/// An error chain prints the message once: the variant's error is the error itself,
/// not its cause.
#[test]
fn error_chains_print_the_message_once() {
    use kms_types::CustomKeyStoreNotFoundException;
    let err = DescribeCustomKeyStoresError::from(
        CustomKeyStoreNotFoundException::builder()
            .message("no store")
            .build(),
    );
    let mut chain = vec![err.to_string()];
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    assert_eq!(chain, ["CustomKeyStoreNotFoundException: no store"]);
}

/// The operation's error enum compares and hashes as its errors do (none holds a float),
/// so that callers can collect the errors they saw in a set or assert on them.
#[test]
fn operation_errors_are_eq_and_hash() {
    use kms_types::{CustomKeyStoreNotFoundException, DescribeCustomKeyStoresError};
    let not_found = |message: &str| {
        DescribeCustomKeyStoresError::from(
            CustomKeyStoreNotFoundException::builder()
                .message(message)
                .build(),
        )
    };
    let seen: std::collections::HashSet<DescribeCustomKeyStoresError> =
        [not_found("a"), not_found("a"), not_found("b")].into();
    assert_eq!(seen.len(), 2);
}
