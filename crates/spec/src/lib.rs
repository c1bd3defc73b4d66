//! Load, check and resolve a [Smithy 2.0 JSON AST](https://smithy.io/2.0/spec/json-ast.html) model.
//!
//! [`Model::load`] reads a model file and checks it; every fault names the file, the
//! shape and what is wrong. A key the JSON AST does not define for a shape or member
//! object (a typo such as `memebers`) is a fault, not silently skipped. [`Model::service`] then resolves it into an
//! operation-centric [`ServiceView`] that a generator walks in a stable order;
//! [`endpoint_rules`] parses the service's endpoint rules and their test cases.

pub mod endpoint_rules;
mod error;
mod load;
pub mod pattern;
mod shape;
pub mod traits;
mod view;

pub use error::{Fault, LoadError};
pub use shape::{Member, Shape, ShapeId, ShapeKind};
pub use traits::Traits;
pub use view::{Constraints, OperationView, ServiceView};

use std::collections::{BTreeMap, BTreeSet};

/// How many lists and maps deep a model's values may nest (`list<list<string>>` is 2),
/// counting members that target lists and maps directly (a structure or union between
/// them is a type of its own and starts the count again). Deeper nesting, and a list
/// or map that holds itself through lists and maps only, are model errors: rustc gives
/// up on the generated types from about 48 levels, and a cycle has no finite value.
pub const MAX_COLLECTION_NESTING: usize = 16;

/// The namespace of the Smithy prelude.
pub const PRELUDE_NAMESPACE: &str = "smithy.api";

/// A loaded and checked Smithy model.
#[derive(Clone, Debug)]
pub struct Model {
    source: String,
    /// The `smithy` version of the file, e.g. `2.0`.
    pub version: String,
    /// The `metadata` object, as JSON.
    pub metadata: serde_json::Value,
    shapes: BTreeMap<ShapeId, Shape>,
}

impl Model {
    /// The file (or source name) the model was loaded from, as its errors name it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A [`LoadError`] of this model: its source, the shape at fault (if any) and the fault.
    pub fn error(&self, shape: Option<&ShapeId>, fault: Fault) -> LoadError {
        LoadError {
            source: self.source.clone(),
            shape: shape.map(ShapeId::to_string),
            fault: Box::new(fault),
        }
    }

    /// Every shape of the model (prelude shapes excluded), ordered by id.
    pub fn shapes(&self) -> impl Iterator<Item = &Shape> {
        self.shapes.values()
    }

    /// The shape called `id`, prelude shapes included.
    pub fn shape(&self, id: &ShapeId) -> Option<&Shape> {
        self.shapes.get(id).or_else(|| load::prelude_shape(id))
    }

    /// Looks a shape up by its textual id.
    pub fn shape_by_name(&self, id: &str) -> Option<&Shape> {
        self.shape(&ShapeId::parse(id)?)
    }

    /// The shape a member targets. Targets are checked at load time.
    pub fn target(&self, member: &Member) -> &Shape {
        self.shape(&member.target)
            .expect("member targets are resolved when the model loads")
    }

    /// The service shapes of the model, ordered by id.
    pub fn services(&self) -> impl Iterator<Item = &Shape> {
        self.shapes
            .values()
            .filter(|s| s.kind == ShapeKind::Service)
    }

    /// Every non-prelude shape reachable from `roots`: operation input, output and
    /// errors, members' targets, transitively. Service shapes are not followed.
    pub fn closure<'a>(&self, roots: impl IntoIterator<Item = &'a ShapeId>) -> BTreeSet<ShapeId> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<ShapeId> = roots.into_iter().cloned().collect();
        while let Some(id) = stack.pop() {
            if id.is_prelude() || !seen.insert(id.clone()) {
                continue;
            }
            let Some(shape) = self.shapes.get(&id) else {
                continue;
            };
            stack.extend(shape.input.iter().cloned());
            stack.extend(shape.output.iter().cloned());
            stack.extend(shape.errors.iter().cloned());
            stack.extend(shape.members.iter().map(|m| m.target.clone()));
            if shape.kind == ShapeKind::Resource {
                stack.extend(shape.operations.iter().cloned());
                stack.extend(shape.resources.iter().cloned());
            }
        }
        seen
    }
}
