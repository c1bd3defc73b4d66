mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/name-conflict.json");
}

fn main() {}
