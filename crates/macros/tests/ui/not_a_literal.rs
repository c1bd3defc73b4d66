mod model {
    kms_macros::generate!(spec / model.json);
}

fn main() {}
