//! Every codegen fixture model compiles through `generate!` (and so passes clippy with
//! the rest of the workspace), and behaves as its feature says. The fixture files are
//! written by hand, with every key sorted, `members` too; generated fields, their JSON
//! and validation messages follow a file's member order, so here it is alphabetical.
//! (`cargo xtask import` writes specs otherwise: each shape's members in the model's
//! order.)

use kms_types::{OperationError, OperationShape, Paginated, Validate};

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod blob {
    kms_macros::generate!("crates/codegen/tests/fixtures/blob.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod documentation {
    kms_macros::generate!("crates/codegen/tests/fixtures/documentation.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod r#enum {
    kms_macros::generate!("crates/codegen/tests/fixtures/enum.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod error {
    kms_macros::generate!("crates/codegen/tests/fixtures/error.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod length {
    kms_macros::generate!("crates/codegen/tests/fixtures/length.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod list {
    kms_macros::generate!("crates/codegen/tests/fixtures/list.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod map {
    kms_macros::generate!("crates/codegen/tests/fixtures/map.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod nested {
    kms_macros::generate!("crates/codegen/tests/fixtures/nested.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod paginated {
    kms_macros::generate!("crates/codegen/tests/fixtures/paginated.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod pattern {
    kms_macros::generate!("crates/codegen/tests/fixtures/pattern.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod range {
    kms_macros::generate!("crates/codegen/tests/fixtures/range.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod rename {
    kms_macros::generate!("crates/codegen/tests/fixtures/rename.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod required_default {
    kms_macros::generate!("crates/codegen/tests/fixtures/required_default.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod sensitive {
    kms_macros::generate!("crates/codegen/tests/fixtures/sensitive.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod timestamp {
    kms_macros::generate!("crates/codegen/tests/fixtures/timestamp.json");
}

#[allow(dead_code)] // only some of each fixture's items are exercised below
mod union {
    kms_macros::generate!("crates/codegen/tests/fixtures/union.json");
}

fn violations(value: &impl Validate) -> Vec<String> {
    value
        .validate()
        .err()
        .map(|e| e.violations().iter().map(ToString::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn length_counts_chars_and_items() {
    let ok = length::RunRequest::builder()
        .name("éé")
        .tags(vec!["a".into(); 3])
        .build();
    assert!(violations(&ok).is_empty());
    let bad = length::RunRequest::builder()
        .name("é")
        .tags(vec!["a".into(); 4])
        .nick("")
        .build();
    assert_eq!(
        violations(&bad),
        [
            "Value 'é' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2",
            "Value '' at 'nick' failed to satisfy constraint: Member must have length greater than or equal to 1",
            "Value '[\"a\", \"a\", \"a\", \"a\"]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 3",
        ]
    );
}

#[test]
fn range_on_integers_and_doubles() {
    let bad = range::RunRequest::builder()
        .count(101)
        .ratio(-0.5)
        .big(-6)
        .huge(i128::from(u64::MAX) + 1)
        .build();
    assert_eq!(
        violations(&bad),
        [
            "Value '-6' at 'big' failed to satisfy constraint: Member must have value greater than or equal to -5",
            "Value '101' at 'count' failed to satisfy constraint: Member must have value less than or equal to 100",
            // A bound beyond i64 is a u64, exact (it was rounded up through an f64).
            "Value '18446744073709551616' at 'huge' failed to satisfy constraint: Member must have value less than or equal to 18446744073709551615",
            "Value '-0.5' at 'ratio' failed to satisfy constraint: Member must have value greater than or equal to 0",
        ]
    );
    assert!(
        violations(
            &range::RunRequest::builder()
                .count(1)
                .ratio(1.0)
                .big(i64::MAX)
                .huge(u64::MAX.into())
                .build()
        )
        .is_empty()
    );
}

#[test]
fn patterns_use_ecma_classes() {
    assert!(
        violations(
            &pattern::RunRequest::builder()
                .arn("arn:kms:123456789012")
                .word("a_1")
                .build()
        )
        .is_empty()
    );
    let bad = pattern::RunRequest::builder()
        .arn("arn:kms:١٢٣٤٥٦٧٨٩٠١٢")
        .word("é")
        .build();
    assert_eq!(violations(&bad).len(), 2);
}

/// The service's `rename` names the types of two namespaces' `Widget`s and `Id`s, and
/// each keeps its own `@pattern`.
#[test]
fn renamed_shapes_are_types_of_their_own() {
    let widget = rename::Widget::builder().id("abc").build();
    let other = rename::OtherWidget::builder()
        .id("123")
        .inner(widget.clone())
        .build();
    let request = rename::RunRequest::builder()
        .widget(widget)
        .other(other)
        .build();
    assert!(violations(&request).is_empty());
    let request = rename::RunRequest::builder()
        .widget(rename::Widget::builder().id("123").build())
        .other(rename::OtherWidget::builder().id("abc").build())
        .build();
    assert_eq!(
        violations(&request),
        [
            "Value 'abc' at 'other.id' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]+$",
            "Value '123' at 'widget.id' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z]+$",
        ]
    );
}

#[test]
fn enums_keep_unknown_values() {
    let request: r#enum::RunRequest =
        serde_json::from_str(r#"{"Color":"dark-blue","Level":10}"#).unwrap();
    assert_eq!(request.color, Some(r#enum::Color::DarkBlue));
    assert_eq!(request.level, Some(r#enum::Level::High));
    let unknown: r#enum::RunRequest =
        serde_json::from_str(r#"{"Color":"green","Level":7}"#).unwrap();
    assert_eq!(
        serde_json::to_string(&unknown).unwrap(),
        r#"{"Color":"green","Level":7}"#
    );
    assert_eq!(
        violations(&unknown),
        [
            "Value 'green' at 'color' failed to satisfy constraint: Member must satisfy enum value set: [dark-blue, red]",
            "Value '7' at 'level' failed to satisfy constraint: Member must satisfy enum value set: [10, 1]",
        ]
    );
}

#[test]
fn sensitive_members_are_redacted() {
    let request = sensitive::RunRequest::builder()
        .user("alice")
        .password("hunter2")
        .build();
    assert_eq!(
        format!("{request:?}"),
        r#"RunRequest { password: *** Sensitive Data Redacted ***, user: Some("alice"), old_passwords: *** Sensitive Data Redacted ***, passwords_by_user: *** Sensitive Data Redacted ***, login: None }"#
    );
    assert_eq!(
        violations(&request),
        [
            "Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 8"
        ]
    );
    // Lists, maps and unions of secrets: redacted whole, in Debug and in messages.
    let request = sensitive::RunRequest::builder()
        .password("correct horse")
        .old_passwords(vec!["hunter2hunter2".into(), "s3cret-s3cret".into()])
        .passwords_by_user(
            [
                ("a".into(), "pw1-long-enough".into()),
                ("b".into(), "pw2-long-enough".into()),
            ]
            .into(),
        )
        .login(sensitive::Login::Password("letmein-please".into()))
        .build();
    let debug = format!("{request:?}");
    for secret in [
        "hunter2",
        "s3cret",
        "pw1",
        "pw2",
        "letmein",
        "correct horse",
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(
        debug.contains("login: Some(Password(*** Sensitive Data Redacted ***))"),
        "{debug}"
    );
    assert_eq!(
        format!("{:?}", sensitive::Login::Token("visible".into())),
        r#"Token("visible")"#
    );
    let messages = violations(&request).join("; ");
    assert_eq!(
        messages,
        "Value at 'oldPasswords' failed to satisfy constraint: Member must have length less than or equal to 1; Value at 'passwordsByUser' failed to satisfy constraint: Member must have length less than or equal to 1"
    );
}

#[test]
fn errors_know_their_wire_form() {
    use error::{Broken, Busy, NotFound, RunError};
    let not_found = RunError::from(NotFound::builder().message("no such thing").build());
    assert_eq!(
        (
            not_found.code(),
            not_found.http_status(),
            not_found.is_retryable()
        ),
        ("NotFound", 404, false)
    );
    assert_eq!(not_found.to_string(), "NotFound: no such thing");
    let broken = RunError::from_wire("Broken", br#"{"Message":"down","Reason":"disk"}"#).unwrap();
    assert_eq!(
        (
            broken.http_status(),
            broken.is_retryable(),
            broken.message()
        ),
        (500, true, Some("down"))
    );
    let RunError::Broken(Broken { reason, .. }) = &broken else {
        panic!("{broken:?}")
    };
    assert_eq!(reason.as_deref(), Some("disk"));
    assert!(RunError::from(Busy::builder().build()).is_retryable());
    // The variant's error is the error itself, not its cause.
    let std_error: &dyn std::error::Error = &not_found;
    assert!(std_error.source().is_none());
}

#[test]
fn paginated_descriptor_and_access() {
    use paginated::{Run, RunRequest, RunResponse};
    let pagination = Run::OPERATION.pagination.unwrap();
    assert_eq!(
        (pagination.input_token, pagination.page_size),
        ("NextToken", Some("MaxResults"))
    );
    assert_eq!(Run::OPERATION.target, "FixtureService.Run");
    let mut input = RunRequest::builder().max_results(5).build();
    Run::set_input_token(&mut input, Some("t1".into()));
    assert_eq!(Run::input_token(&input), Some("t1"));
    let output = RunResponse::builder()
        .next_token("t2")
        .items(vec!["a".into()])
        .build();
    assert_eq!(
        (Run::output_token(&output), Run::items(&output)),
        (Some("t2"), &["a".to_string()][..])
    );
}

#[test]
fn maps_and_blobs() {
    let mut context = std::collections::BTreeMap::new();
    context.insert("k1".to_string(), String::new());
    context.insert("k2".to_string(), "v".to_string());
    context.insert("k3".to_string(), "v".to_string());
    let request = map::RunRequest::builder().context(context).build();
    let got = violations(&request);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].ends_with("Member must have length less than or equal to 2"),
        "{got:?}"
    );
    assert_eq!(
        got[1],
        "Value '' at 'context.k1.value' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );

    // Enum-shaped keys are strings checked against the enum's values.
    let request: map::RunRequest =
        serde_json::from_str(r#"{"Modes": {"fast": 1, "medium": 2}}"#).unwrap();
    assert_eq!(
        violations(&request),
        [
            "Value 'medium' at 'modes.medium.key' failed to satisfy constraint: Member must satisfy enum value set: [fast, slow]"
        ]
    );

    let request = blob::RunRequest::builder()
        .payload(kms_types::Blob::new(b"hi".to_vec()))
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"Payload":"aGk="}"#
    );
    assert!(
        violations(
            &blob::RunRequest::builder()
                .payload(kms_types::Blob::default())
                .build()
                .unwrap()
        )
        .len()
            == 1
    );
    assert_eq!(
        blob::RunRequest::builder().build().unwrap_err().to_string(),
        "RunRequest: required member `Payload` was not set"
    );
}

#[test]
fn nested_structures_lists_and_recursion() {
    let outer = nested::Outer::builder()
        .inner(nested::Inner::builder().path("relative").build().unwrap())
        .build();
    let tree = nested::Node::builder()
        .child(Box::new(nested::Node::builder().value(1).build()))
        .build();
    let request = nested::RunRequest::builder()
        .outer(outer)
        .tree(tree)
        .build();
    assert_eq!(
        violations(&request),
        [
            "Value 'relative' at 'outer.inner.path' failed to satisfy constraint: Member must satisfy regular expression pattern: ^/"
        ]
    );
    let missing = kms_types::aws_json::decode::<nested::RunRequest>(br#"{"Outer":{"Inner":{}}}"#)
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "1 validation error detected: Value null at 'outer.inner.path' failed to satisfy constraint: Member must not be null"
    );

    let request: list::RunRequest = serde_json::from_str(
        r#"{"Names":["ok","toolong"],"Entries":[{"Id":"a"},{"Id":"abcdef"}]}"#,
    )
    .unwrap();
    assert_eq!(
        violations(&request),
        [
            "Value 'abcdef' at 'entries.2.member.id' failed to satisfy constraint: Member must have length less than or equal to 5",
            "Value 'toolong' at 'names.2.member' failed to satisfy constraint: Member must have length less than or equal to 5",
        ]
    );
}

/// awsJson's special floats: NaN and the infinities as strings, both ways, in members,
/// lists of them and union variants.
#[test]
fn special_floats_travel_as_strings() {
    let request = range::RunRequest::builder()
        .ratio(f64::NAN)
        .weights(vec![f64::INFINITY, 1.5, f64::NEG_INFINITY])
        .scale(f32::NEG_INFINITY)
        .build();
    let json = serde_json::to_string(&request).unwrap();
    assert_eq!(
        json,
        r#"{"Ratio":"NaN","Weights":["Infinity",1.5,"-Infinity"],"Scale":"-Infinity"}"#
    );
    let back: range::RunRequest = serde_json::from_str(&json).unwrap();
    assert!(back.ratio.unwrap().is_nan());
    assert_eq!(
        back.weights,
        Some(vec![f64::INFINITY, 1.5, f64::NEG_INFINITY])
    );
    assert_eq!(back.scale, f32::NEG_INFINITY);
    // Numbers as before; null and absent as absent (or the default).
    let plain: range::RunRequest =
        serde_json::from_str(r#"{"Ratio": 2, "Scale": null, "Weights": null}"#).unwrap();
    assert_eq!(
        (plain.ratio, plain.scale, plain.weights),
        (Some(2.0), 0.0, None)
    );
    assert!(serde_json::from_str::<range::RunRequest>(r#"{"Ratio": "nan"}"#).is_err());

    let choice: union::Choice = serde_json::from_str(r#"{"Ratio": "Infinity"}"#).unwrap();
    assert_eq!(choice, union::Choice::Ratio(f64::INFINITY));
    assert_eq!(
        serde_json::to_string(&choice).unwrap(),
        r#"{"Ratio":"Infinity"}"#
    );
}

#[test]
fn required_and_defaulted_members() {
    let request = required_default::RunRequest::builder()
        .id("x")
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"Force":false,"Id":"x","Retries":0}"#
    );
    let parsed: required_default::RunRequest = serde_json::from_str(r#"{"Id":"x"}"#).unwrap();
    assert_eq!(parsed, request);
    // Zero-like defaults of types without a Rust `Default` that matches (a timestamp, an
    // intEnum, a document's `{}`) are optional members: absent, not `null`.
    assert_eq!(
        (&parsed.since, &parsed.level, &parsed.extra),
        (&None, &None, &None)
    );
    // `@required` with `@clientOptional`: an `Option` (a reader does not fail without
    // it) that `validate()` requires, with its other constraints.
    assert_eq!(parsed.token, None);
    assert_eq!(
        violations(&parsed),
        ["Value null at 'token' failed to satisfy constraint: Member must not be null"]
    );
    let short: required_default::RunRequest =
        serde_json::from_str(r#"{"Id":"x","Token":"t"}"#).unwrap();
    assert_eq!(
        violations(&short),
        [
            "Value 't' at 'token' failed to satisfy constraint: Member must have length greater than or equal to 2"
        ]
    );
    // A member named `default`: its builder method does not stand in for
    // `Default::default` in the generated `builder()` (E0061).
    let response = required_default::RunResponse::builder()
        .default("d")
        .build();
    assert_eq!(response.default.as_deref(), Some("d"));
}

#[test]
fn timestamps() {
    let output: timestamp::RunResponse =
        serde_json::from_str(r#"{"CreatedAt":1551129207.775,"DeletedAt":0}"#).unwrap();
    assert_eq!(
        output.created_at.unwrap().to_rfc3339(),
        "2019-02-25T21:13:27.775Z"
    );
    assert_eq!(
        serde_json::to_string(&output).unwrap(),
        r#"{"CreatedAt":1551129207.775,"DeletedAt":0}"#
    );
}

#[test]
fn documentation_is_kept() {
    let thing = documentation::Thing::builder().id("t").build();
    assert!(violations(&thing).is_empty());
}

#[test]
fn unions() {
    let request: union::RunRequest = serde_json::from_str(r#"{"Choice": {"Text": "hi"}}"#).unwrap();
    assert!(matches!(&request.choice, union::Choice::Text(t) if t == "hi"));
    assert!(violations(&request).is_empty());
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"Choice":{"Text":"hi"}}"#
    );

    let request: union::RunRequest = serde_json::from_str(r#"{"Choice": {"Text": ""}}"#).unwrap();
    assert_eq!(violations(&request).len(), 1, "{:?}", violations(&request));

    let request: union::RunRequest =
        serde_json::from_str(r#"{"Choice": {"Labels": {"UPPER": "x"}}}"#).unwrap();
    let got = violations(&request);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("choice.labels.UPPER"), "{got:?}");

    let request: union::RunRequest = serde_json::from_str(r#"{"Choice": {"Small": 7}}"#).unwrap();
    assert!(violations(&request).is_empty());
    assert!(serde_json::from_str::<union::RunRequest>(r#"{"Choice": {}}"#).is_err());

    // As awsJson reads a union: `__type` and null members ignored, one member set,
    // a member the model does not know kept by name (a newer service's).
    let read = |json: &str| serde_json::from_str::<union::RunRequest>(json).map(|r| r.choice);
    assert!(matches!(
        read(r#"{"Choice": {"__type": "x", "Small": 7, "Text": null}}"#).unwrap(),
        union::Choice::Small(7)
    ));
    let unknown = read(r#"{"Choice": {"Shape": {"Sides": 3}}}"#).unwrap();
    assert_eq!(unknown, union::Choice::Unknown("Shape".into()));
    // Unknown to the model: a violation, as an enum's unknown value is (a service
    // refuses it in a request).
    let request: union::RunRequest =
        serde_json::from_str(r#"{"Choice": {"Shape": {"Sides": 3}}}"#).unwrap();
    assert_eq!(
        violations(&request),
        [
            "Value 'Shape' at 'choice' failed to satisfy constraint: Member must set one of the union's members: [Labels, Nothing, Point, Raw, Small, Text, Ratio]"
        ]
    );
    // A null member, known or not, is not set.
    assert!(matches!(
        read(r#"{"Choice": {"Text": "a", "Zed": null}}"#).unwrap(),
        union::Choice::Text(_)
    ));
    assert!(read(r#"{"Choice": {"Zed": null}}"#).is_err());
    assert!(
        serde_json::to_string(&unknown).is_err(),
        "an unknown member is never sent"
    );
    let e = read(r#"{"Choice": {"Small": 7, "Text": "hi"}}"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("the `Choice` union has more than one member set"),
        "{e}"
    );
    let e = read(r#"{"Choice": {"Text": null}}"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("the `Choice` union has no member set"),
        "{e}"
    );
}
