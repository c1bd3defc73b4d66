mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/two-services.json");
}

fn main() {}
