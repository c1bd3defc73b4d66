mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/error-not-error.json");
}

fn main() {}
