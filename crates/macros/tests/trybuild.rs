//! Model errors are compile errors spanned at the path literal.

#[test]
fn model_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
