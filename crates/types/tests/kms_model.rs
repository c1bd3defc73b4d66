//! The whole KMS model compiled through `generate!`, and every `@examples` input and
//! output of every operation read, validated and written back by the generated types.
//!
//! `tests/models/kms.json` is `cargo xtask import` of every operation of the upstream
//! model (`cargo xtask check` keeps it a fresh import), so whatever operation the
//! maintainers add to `spec/` has already compiled here and read its examples.

use kms_spec::{Model, Shape, ShapeKind};
use kms_types::aws_json::{decode, decode_valid};
use kms_types::{Blob, OperationShape, Validate};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

mod kms {
    kms_macros::generate!("tests/models/kms.json");
}

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/models/kms.json");

/// The wire form (awsJson 1.1) of `example`, a value of `shape` as an `@examples` entry
/// writes it. KMS's examples write a blob as readable text (`<binary data>`, `Hello
/// World`), not as base64, so a blob is the bytes of that text, sent base64. Every
/// other value is written on the wire as in the example.
fn wire(model: &Model, shape: &Shape, example: &Value) -> Value {
    match (shape.kind, example) {
        (ShapeKind::Blob, Value::String(text)) => {
            serde_json::to_value(Blob::new(text.as_bytes())).unwrap()
        }
        (ShapeKind::Structure | ShapeKind::Union, Value::Object(members)) => members
            .iter()
            .map(|(name, value)| {
                let value = match shape.member(name) {
                    Some(member) => wire(model, model.target(member), value),
                    None => value.clone(),
                };
                (name.clone(), value)
            })
            .collect(),
        (ShapeKind::List | ShapeKind::Set, Value::Array(items)) => {
            let item = model.target(shape.list_member().unwrap());
            items.iter().map(|v| wire(model, item, v)).collect()
        }
        (ShapeKind::Map, Value::Object(entries)) => {
            let (_, value) = shape.map_members().unwrap();
            let value = model.target(value);
            entries
                .iter()
                .map(|(k, v)| (k.clone(), wire(model, value, v)))
                .collect()
        }
        _ => example.clone(),
    }
}

/// Makes `written` equal to `expected` where awsJson lets them differ without a change
/// of meaning, and only there:
/// - a member with a `@default` that the example leaves out is written with that default
///   (a reader takes the two alike), so it is dropped once checked to be the default;
/// - an epoch-seconds timestamp is a JSON number, whole seconds written without a
///   fraction (`1773253497` for the example's `1773253497.0`): the same number.
fn normalise(model: &Model, shape: &Shape, expected: &Value, written: &mut Value) {
    match (shape.kind, expected, written) {
        (
            ShapeKind::Structure | ShapeKind::Union,
            Value::Object(expected),
            Value::Object(written),
        ) => {
            for member in &shape.members {
                let Some(value) = written.get_mut(&member.name) else {
                    continue;
                };
                match expected.get(&member.name) {
                    Some(expected) => normalise(model, model.target(member), expected, value),
                    None if model.constraints(member).default.as_ref() == Some(value) => {
                        written.remove(&member.name);
                    }
                    None => {}
                }
            }
        }
        (ShapeKind::List | ShapeKind::Set, Value::Array(expected), Value::Array(written)) => {
            let item = model.target(shape.list_member().unwrap());
            for (expected, written) in expected.iter().zip(written) {
                normalise(model, item, expected, written);
            }
        }
        (ShapeKind::Map, Value::Object(expected), Value::Object(written)) => {
            let value = model.target(shape.map_members().unwrap().1);
            for (key, written) in written.iter_mut() {
                if let Some(expected) = expected.get(key) {
                    normalise(model, value, expected, written);
                }
            }
        }
        (ShapeKind::Timestamp, Value::Number(expected), written @ Value::Number(_))
            if expected.as_f64() == written.as_f64() =>
        {
            *written = Value::Number(expected.clone());
        }
        _ => {}
    }
}

/// One example input or output, `example` as the model writes it, read as `T` with
/// [`decode`] and [`decode_valid`], validated, and written back: what is wrong with it,
/// each fault after `at`.
fn check<T>(model: &Model, shape: &Shape, example: &Value, at: &str, problems: &mut Vec<String>)
where
    T: DeserializeOwned + Serialize + Validate + PartialEq + std::fmt::Debug,
{
    let mut fault = |problem: String| problems.push(format!("{at}: {problem}"));
    let body = wire(model, shape, example);
    let bytes = body.to_string().into_bytes();
    let value = match decode::<T>(&bytes) {
        Ok(value) => value,
        Err(e) => return fault(format!("decode: {e} ({body})")),
    };
    if let Err(e) = value.validate() {
        fault(format!("validate: {e}"));
    }
    match decode_valid::<T>(&bytes) {
        Ok(valid) if valid == value => {}
        Ok(valid) => fault(format!("decode_valid read {valid:?}, decode {value:?}")),
        Err(e) => fault(format!("decode_valid: {e}")),
    }
    let mut written = serde_json::to_value(&value).unwrap();
    match decode::<T>(written.to_string().as_bytes()) {
        Ok(again) if again == value => {}
        other => fault(format!("what was written reads back as {other:?}")),
    }
    normalise(model, shape, &body, &mut written);
    if written != body {
        fault(format!("written as {written}, not {body}"));
    }
}

/// Checks every example of operation `O`; returns how many inputs and outputs it read.
fn examples<O>(model: &Model, problems: &mut Vec<String>) -> usize
where
    O: OperationShape,
    O::Input: PartialEq,
    O::Output: PartialEq,
{
    let name = O::OPERATION.name;
    let operation = model
        .shape_by_name(&format!("com.amazonaws.kms#{name}"))
        .unwrap();
    let input = model.shape(operation.input.as_ref().unwrap()).unwrap();
    let output = model.shape(operation.output.as_ref().unwrap()).unwrap();
    let mut read = 0;
    for example in operation.traits.examples() {
        let at = |role: &str| format!("{name} ({}): {role}", example.title);
        if let Some(value) = &example.input {
            check::<O::Input>(model, input, value, &at("input"), problems);
            read += 1;
        }
        if let Some(value) = &example.output {
            check::<O::Output>(model, output, value, &at("output"), problems);
            read += 1;
        }
        // No KMS example shows an error yet: reading one would take O::Error::from_wire.
        if example.error.is_some() {
            problems.push(at("an example error: extend this test to read it"));
        }
    }
    read
}

/// Runs [`examples`] for each operation named, and checks they are every operation
/// the model generated.
macro_rules! every_operation {
    ($model:expr, $problems:expr, [$($operation:ident),* $(,)?]) => {{
        let listed = [$(<kms::$operation as OperationShape>::OPERATION.name),*];
        let generated: Vec<&str> = kms::OPERATIONS.iter().map(|op| op.name).collect();
        assert_eq!(listed.as_slice(), generated, "list every operation of {MODEL}");
        0 $(+ examples::<kms::$operation>($model, $problems))*
    }};
}

#[test]
fn every_example_of_every_operation_round_trips() {
    let model = Model::load(MODEL).unwrap();
    let mut problems = Vec::new();
    let read = every_operation!(
        &model,
        &mut problems,
        [
            CancelKeyDeletion,
            ConnectCustomKeyStore,
            CreateAlias,
            CreateCustomKeyStore,
            CreateGrant,
            CreateKey,
            Decrypt,
            DeleteAlias,
            DeleteCustomKeyStore,
            DeleteImportedKeyMaterial,
            DeriveSharedSecret,
            DescribeCustomKeyStores,
            DescribeKey,
            DisableKey,
            DisableKeyRotation,
            DisconnectCustomKeyStore,
            EnableKey,
            EnableKeyRotation,
            Encrypt,
            GenerateDataKey,
            GenerateDataKeyPair,
            GenerateDataKeyPairWithoutPlaintext,
            GenerateDataKeyWithoutPlaintext,
            GenerateMac,
            GenerateRandom,
            GetKeyLastUsage,
            GetKeyPolicy,
            GetKeyRotationStatus,
            GetParametersForImport,
            GetPublicKey,
            ImportKeyMaterial,
            ListAliases,
            ListGrants,
            ListKeyPolicies,
            ListKeyRotations,
            ListKeys,
            ListResourceTags,
            ListRetirableGrants,
            PutKeyPolicy,
            ReEncrypt,
            ReplicateKey,
            RetireGrant,
            RevokeGrant,
            RotateKeyOnDemand,
            ScheduleKeyDeletion,
            Sign,
            TagResource,
            UntagResource,
            UpdateAlias,
            UpdateCustomKeyStore,
            UpdateKeyDescription,
            UpdatePrimaryRegion,
            Verify,
            VerifyMac,
        ]
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let in_model: usize = model
        .shapes()
        .flat_map(|shape| shape.traits.examples())
        .map(|e| usize::from(e.input.is_some()) + usize::from(e.output.is_some()))
        .sum();
    assert!(in_model > 0);
    assert_eq!(read, in_model, "every example input and output was read");
}
