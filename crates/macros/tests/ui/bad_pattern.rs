mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/bad-pattern.json");
}

fn main() {}
