//! A generated union reads back what it wrote in a format that is not human-readable
//! (bincode: serde's tagged form), as well as in JSON (awsJson's reading).

mod union {
    kms_macros::generate!("crates/codegen/tests/fixtures/union.json");
}

use union::Choice;

#[test]
fn unions_round_trip_in_bincode_and_json() {
    for choice in [
        Choice::Text("hi".into()),
        Choice::Small(7),
        Choice::Ratio(f64::INFINITY),
        Choice::Labels([("k".to_owned(), "v".to_owned())].into()),
    ] {
        let bytes = bincode::serialize(&choice).unwrap();
        assert_eq!(bincode::deserialize::<Choice>(&bytes).unwrap(), choice);
        let json = serde_json::to_string(&choice).unwrap();
        assert_eq!(serde_json::from_str::<Choice>(&json).unwrap(), choice);
    }
}
