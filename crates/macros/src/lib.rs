//! `generate!("spec/model.json")`: the proc-macro shell over `kms-codegen`.
//!
//! The path is resolved against the invoking crate's `CARGO_MANIFEST_DIR`, then against
//! each of its parent directories, the workspace root among them; failing that, against
//! the directory of the file that invokes the macro and its parents (a crate compiled
//! from elsewhere, such as trybuild's under a `CARGO_TARGET_DIR` outside the workspace,
//! still finds models beside its sources). The expansion includes the
//! model with `include_bytes!`, so editing the spec rebuilds the crate. Every model
//! error becomes a compile error pointing at the path literal, naming the file, the shape
//! and the fault. Besides invalid JSON and dangling targets, bad `@pattern`s or bounds,
//! these include input that would otherwise generate wrong types without a word:
//!
//! - a key the Smithy 2.0 JSON AST does not define for a shape or member (`"memebers"`);
//! - a trait the generator neither implements nor knows to leave the wire format and the
//!   types alone (`smithy.api#requried`, a custom trait). Documentation and tooling
//!   traits (`@documentation`, `@examples`, `@tags`, `@deprecated`, `aws.api#*`,
//!   `aws.auth#*`, `smithy.rules#*`, ...) pass, every trait of the official KMS model
//!   among them;
//! - a service that does not declare `aws.protocols#awsJson1_1`, the one protocol the
//!   generated code speaks (`restJson1`, `awsJson1_0`, ... beside it are fine);
//! - what would make the generated code fail to compile: an operation's `errors` entry
//!   that is not an `@error` structure; model names that become one Rust name (members
//!   `KeyId` and `KeyID`, enum values `FOO_BAR` and `FooBar`, a structure `RunError`
//!   beside the operation `Run`'s error enum); a shape named after a Rust prelude name
//!   the generated code uses (`Option`, `Result`, `String`, `Vec`, `Box`, ...);
//! - several services in one file: keep only the one to generate;
//! - what is not supported yet: `mixins`, `resources` bound to the service, `@streaming`, `@idempotencyToken` (builders do
//!   not fill it in), `@timestampFormat` other than `epoch-seconds`, `@sparse`, ...

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use quote::quote;
use syn::{LitStr, parse_macro_input};

/// Generates the types, validators, errors and operation descriptors of a Smithy
/// JSON AST model. Generated code refers to the `kms_types` crate.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    let path = parse_macro_input!(input as LitStr);
    expand(&path)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(literal: &LitStr) -> syn::Result<proc_macro2::TokenStream> {
    let relative = literal.value();
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        syn::Error::new(
            literal.span(),
            "CARGO_MANIFEST_DIR is not set: build with cargo",
        )
    })?;
    let source_dir = proc_macro::Span::call_site()
        .local_file()
        .and_then(|file| std::env::current_dir().ok().map(|cwd| cwd.join(file)))
        .and_then(|file| file.parent().map(Path::to_path_buf));
    let path = [Some(PathBuf::from(manifest_dir)), source_dir]
        .iter()
        .flatten()
        .find_map(|start| resolve(start, &relative))
        .ok_or_else(|| {
            syn::Error::new(
                literal.span(),
                format!(
                    "model file `{relative}` not found in this crate's directory, the \
                     invoking file's directory, or any of their parents"
                ),
            )
        })?;
    let model =
        kms_spec::Model::load(&path).map_err(|e| syn::Error::new(literal.span(), e.to_string()))?;
    let items = kms_codegen::generate(&model)
        .map_err(|e| syn::Error::new(literal.span(), e.to_string()))?;
    let absolute = path.to_string_lossy().into_owned();
    Ok(quote! {
        const _: &[u8] = include_bytes!(#absolute);
        #items
    })
}

/// `relative` below `start` or the nearest of its ancestors (the workspace root among them)
/// that has it.
fn resolve(start: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    if relative.is_absolute() {
        return relative.is_file().then(|| relative.to_path_buf());
    }
    for dir in start.ancestors() {
        let candidate = dir.join(relative);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    None
}
