mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/invalid-json.json");
}

fn main() {}
