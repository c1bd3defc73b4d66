mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/unknown-trait.json");
}

fn main() {}
