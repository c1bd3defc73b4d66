//! The generated `resolve_endpoint` against the model's own endpoint test cases
//! (`smithy.rules#endpointTests`: every partition, FIPS, dual-stack, custom endpoints,
//! and the configuration errors).

use kms_spec::Model;
use kms_spec::endpoint_rules::Expectation;
use kms_types::{EndpointParams, resolve_endpoint};
use serde_json::Value;

#[test]
fn every_endpoint_test_case_of_the_model_holds() {
    let model = Model::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/kms.describe-custom-key-stores.json"
    ))
    .unwrap();
    let service = model.service(None).unwrap();
    let cases = service
        .shape
        .traits
        .endpoint_tests()
        .expect("the spec carries smithy.rules#endpointTests")
        .unwrap();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for case in &cases {
        let mut params = EndpointParams::default();
        for (name, value) in &case.params {
            let text = || value.as_str().map(str::to_owned);
            match (name.as_str(), value) {
                ("Region", _) => params.region = text(),
                ("Endpoint", _) => params.endpoint = text(),
                ("UseFIPS", Value::Bool(b)) => params.use_fips = *b,
                ("UseDualStack", Value::Bool(b)) => params.use_dual_stack = *b,
                _ => panic!("parameter {name} = {value} is new to this test: map it"),
            }
        }
        let got = resolve_endpoint(&params);
        let doc = case.documentation.as_deref().unwrap_or_default();
        match &case.expect {
            Expectation::Url(url) => assert_eq!(got.as_deref().ok(), Some(url.as_str()), "{doc}"),
            Expectation::Error(message) => assert_eq!(
                got.as_ref().err().map(|e| e.message()),
                Some(message.as_str()),
                "{doc}"
            ),
        }
    }
}

#[test]
fn partitions_beyond_the_model_test_cases() {
    let url = |region: &str, use_fips: bool, use_dual_stack: bool| {
        resolve_endpoint(&EndpointParams {
            region: Some(region.to_owned()),
            use_fips,
            use_dual_stack,
            ..EndpointParams::default()
        })
        .unwrap()
    };
    assert_eq!(
        url("eu-isoe-west-1", false, false),
        "https://kms.eu-isoe-west-1.cloud.adc-e.uk"
    );
    assert_eq!(
        url("us-isof-south-1", true, false),
        "https://kms-fips.us-isof-south-1.csp.hci.ic.gov"
    );
    assert_eq!(
        url("eusc-de-east-1", false, true),
        "https://kms.eusc-de-east-1.api.amazonwebservices.eu"
    );
    assert_eq!(
        url("cn-northwest-1", true, true),
        "https://kms-fips.cn-northwest-1.api.amazonwebservices.com.cn"
    );
}

/// A region goes into a host name only when it is a valid host label, as botocore
/// requires; otherwise the error names it — with a custom endpoint too.
#[test]
fn regions_that_are_not_host_labels_are_refused() {
    for (region, endpoint) in [
        ("", None),
        ("evil.com/#", None),
        ("us-east-1.evil.com", None),
        ("-us-east-1", None),
        ("us-east-1-", None),
        ("123", None),
        ("evil.com/#", Some("https://example.com")),
    ] {
        let error = resolve_endpoint(&EndpointParams {
            region: Some(region.to_owned()),
            endpoint: endpoint.map(str::to_owned),
            ..EndpointParams::default()
        })
        .unwrap_err();
        assert!(
            error.message().starts_with(&format!(
                "Invalid Configuration: region `{region}` is not a valid host label"
            )),
            "{region}: {error}"
        );
    }
}
