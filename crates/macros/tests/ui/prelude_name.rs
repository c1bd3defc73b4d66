mod model {
    kms_macros::generate!("crates/macros/tests/ui/models/prelude-name.json");
}

fn main() {}
