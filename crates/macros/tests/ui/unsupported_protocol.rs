mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/unsupported-protocol.json");
}

fn main() {}
