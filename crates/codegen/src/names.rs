//! Rust names for model names: types, fields, variants, constants.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "priv", "pub", "ref", "return", "static", "struct", "super", "trait", "true",
    "try", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become", "do", "final",
    "macro", "override", "typeof", "unsized", "virtual",
];

fn ident(name: &str) -> Ident {
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name.to_owned()
    };
    if matches!(name.as_str(), "self" | "Self" | "super" | "crate") {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name.as_str()) {
        Ident::new_raw(&name, Span::call_site())
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// `KMSInternalException` → `KmsInternalException`.
pub fn type_name(shape_name: &str) -> Ident {
    ident(&shape_name.to_upper_camel_case())
}

/// `CustomKeyStoreId` → `custom_key_store_id`.
pub fn field_name(member_name: &str) -> Ident {
    ident(&member_name.to_snake_case())
}

/// `set_custom_key_store_id`.
pub fn setter_name(member_name: &str) -> Ident {
    ident(&format!("set_{}", member_name.to_snake_case()))
}

/// `AWS_CLOUDHSM` → `AwsCloudhsm`.
pub fn variant_name(member_name: &str) -> Ident {
    let name = member_name.to_upper_camel_case();
    if name == "Unknown" {
        ident("UnknownValue")
    } else {
        type_name(&name)
    }
}

/// `MarkerType` → `MARKER_TYPE`.
pub fn const_name(name: &str) -> Ident {
    ident(&name.to_shouty_snake_case())
}

/// Any name spelled as given (a builder or error enum name built from a shape name).
pub fn raw(name: &str) -> Ident {
    ident(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            type_name("KMSInternalException").to_string(),
            "KmsInternalException"
        );
        assert_eq!(
            field_name("CustomKeyStoreId").to_string(),
            "custom_key_store_id"
        );
        assert_eq!(field_name("Type").to_string(), "r#type");
        assert_eq!(variant_name("AWS_CLOUDHSM").to_string(), "AwsCloudhsm");
        assert_eq!(variant_name("UNKNOWN").to_string(), "UnknownValue");
        assert_eq!(const_name("MarkerType").to_string(), "MARKER_TYPE");
    }
}
