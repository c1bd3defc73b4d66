mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/unsupported-trait.json");
}

fn main() {}
