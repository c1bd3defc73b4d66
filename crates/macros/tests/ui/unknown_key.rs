mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/unknown-key.json");
}

fn main() {}
