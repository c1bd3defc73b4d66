mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/unresolved-target.json");
}

fn main() {}
