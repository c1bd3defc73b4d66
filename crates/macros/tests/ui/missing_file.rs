mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/does-not-exist.json");
}

fn main() {}
