//! Smithy awsJson model → Rust: the one generator behind the `generate!` proc-macro,
//! `cargo xtask codegen` and the snapshot tests.
//!
//! [`generate`] returns a [`TokenStream`] of plain items: structures with builders and
//! validators, enums that keep unknown values, error types, one error enum and one
//! marker type with its `kms_types::Operation` descriptor per operation,
//! and the service's endpoint resolver compiled from its endpoint rules.
//! Generated code refers to its runtime through `::kms_types`.
//!
//! [`operation_schemas`] derives the JSON Schema of each operation's input and output
//! from the same model (what `cargo xtask codegen` writes under `spec/schema/`).

mod docs;
mod endpoint;
mod enums;
pub mod json_schema;
mod names;
mod operations;
mod structures;
mod support;
mod types;
mod validate;

use std::collections::BTreeMap;

use kms_spec::{Model, ServiceView, ShapeKind};
use proc_macro2::TokenStream;
use quote::quote;

pub use docs::html_to_markdown;
pub use json_schema::{OperationSchemas, operation_schemas};

/// Why code could not be generated for a model: the message names the model's file first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Names the model's file (and the shape, when one is at fault) before a fault found
    /// while generating: every error of this crate names the file once, as a
    /// [`kms_spec::LoadError`] does.
    fn in_model(self, model: &Model, shape: Option<&kms_spec::ShapeId>) -> Self {
        match shape {
            Some(shape) => Self(format!("{}: shape `{shape}`: {}", model.source(), self.0)),
            None => Self(format!("{}: {}", model.source(), self.0)),
        }
    }
}

impl From<kms_spec::LoadError> for Error {
    fn from(e: kms_spec::LoadError) -> Self {
        Self(e.to_string())
    }
}

/// Generates the items for the model's service (its only service).
///
/// Every trait on the shapes it generates must be one the generator implements or one
/// that changes neither the wire format nor the types (documentation, examples,
/// `aws.api#*`, ...); an unknown trait (a typo?) or one not supported yet
/// (`@streaming`, `@idempotencyToken`, a `@timestampFormat` other than `epoch-seconds`,
/// ...) is an error naming the file, the shape and the trait.
pub fn generate(model: &Model) -> Result<TokenStream, Error> {
    let service = model.service(None)?;
    support::check(&service)?;
    // The generator's own faults are in the service's endpoint rules.
    Generator::new(&service)
        .generate()
        .map_err(|e| e.in_model(model, Some(&service.shape.id)))
}

/// [`generate`], formatted with prettyplease, as a file or a snapshot can hold
/// (feature `render`).
#[cfg(feature = "render")]
pub fn render(model: &Model) -> Result<String, Error> {
    let tokens = generate(model)?;
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error(format!("generated code does not parse: {e}")).in_model(model, None))?;
    Ok(prettyplease::unparse(&file))
}

/// The state of one generation: the service and the pattern statics met so far.
pub(crate) struct Generator<'m> {
    service: &'m ServiceView<'m>,
    model: &'m Model,
    /// Pattern statics by name: (ECMA pattern, owner description).
    patterns: std::cell::RefCell<BTreeMap<String, (String, String)>>,
}

impl<'m> Generator<'m> {
    fn new(service: &'m ServiceView<'m>) -> Self {
        Self {
            service,
            model: service.model,
            patterns: Default::default(),
        }
    }

    /// The name of `shape` in the service: its `rename`, else its own.
    pub(crate) fn shape_name<'a>(&'a self, shape: &'a kms_spec::Shape) -> &'a str {
        self.service.name(&shape.id)
    }

    /// The Rust type generated for `shape`.
    pub(crate) fn type_name(&self, shape: &kms_spec::Shape) -> proc_macro2::Ident {
        names::type_name(self.shape_name(shape))
    }

    fn generate(&self) -> Result<TokenStream, Error> {
        let mut items = Vec::new();
        for shape in &self.service.shapes {
            let item = match shape.kind {
                ShapeKind::Structure => self.structure(shape),
                ShapeKind::Union => self.union(shape),
                ShapeKind::Enum | ShapeKind::IntEnum => self.enumeration(shape),
                _ => continue,
            };
            items.push(item);
        }
        for operation in &self.service.operations {
            items.push(self.operation(operation));
        }
        items.push(self.operation_list());
        items.push(self.endpoint_resolver()?);
        let patterns = self.pattern_statics();
        Ok(quote! {
            #(#items)*
            #patterns
        })
    }
}

/// The official KMS model (`../shared/models/kms.json` beside the checkout) as JSON, for
/// the unit tests that run over all of it; `None`, with a note, where it is absent.
#[cfg(test)]
pub(crate) fn upstream_kms_model() -> Option<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/models/kms.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipped: {path} is not there");
        return None;
    };
    Some(serde_json::from_str(&text).expect("kms.json is valid JSON"))
}
