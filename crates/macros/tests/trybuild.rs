//! Model errors are compile errors spanned at the path literal; the code generated from a
//! model is `#[non_exhaustive]` to the crates that depend on it.

#[test]
fn model_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

/// Structures and enums can gain members and values when the model is imported again, so a
/// crate depending on kms-types builds them with builders and matches them with a wildcard
/// (as kms-types' crate documentation shows, in a doctest).
#[test]
fn generated_types_are_non_exhaustive_to_dependents() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/dependent/struct_update.rs");
    t.compile_fail("tests/dependent/exhaustive_match.rs");
}
