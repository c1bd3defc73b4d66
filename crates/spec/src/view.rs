//! The operation-centric view of a model that a generator walks.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Model;
use crate::error::{Fault, LoadError};
use crate::shape::{Member, Shape, ShapeId, ShapeKind};
use crate::traits::{Length, Paginated, Range};

/// A service and its operations, ordered by operation name.
#[derive(Debug, Clone)]
pub struct ServiceView<'m> {
    pub model: &'m Model,
    pub shape: &'m Shape,
    pub operations: Vec<OperationView<'m>>,
    /// Every shape the operations reach (inputs, outputs, errors, transitively), ordered by id.
    pub shapes: Vec<&'m Shape>,
}

/// One operation with its input, output and errors resolved.
#[derive(Debug, Clone)]
pub struct OperationView<'m> {
    pub shape: &'m Shape,
    pub input: &'m Shape,
    pub output: &'m Shape,
    pub errors: Vec<&'m Shape>,
    /// `@paginated`, completed from the service's defaults.
    pub paginated: Option<Paginated>,
}

/// The constraints in force on a member: its own traits, else its target's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub required: bool,
    /// `@clientOptional`: required of senders, yet optional in the generated type, so
    /// that a reader does not fail on a response without it.
    pub client_optional: bool,
    pub default: Option<Value>,
    pub length: Option<Length>,
    pub range: Option<Range>,
    pub pattern: Option<String>,
    pub sensitive: bool,
}

impl ServiceView<'_> {
    /// The service's signing name (`aws.auth#sigv4`), else its `aws.api#service` endpoint prefix.
    pub fn signing_name(&self) -> Option<String> {
        let traits = &self.shape.traits;
        traits
            .sigv4()
            .map(str::to_owned)
            .or_else(|| traits.aws_service().and_then(|s| s.endpoint_prefix))
    }

    /// The name of the shape `id` in this service: its `rename`, else its own name.
    /// Generated names and texts use it; the wire keeps the shape's own (an error's code,
    /// which Smithy does not let a service rename).
    pub fn name<'a>(&'a self, id: &'a ShapeId) -> &'a str {
        self.shape.rename.get(id).map_or(id.name(), String::as_str)
    }

    /// The protocol trait id, when the service declares one this toolkit speaks.
    pub fn protocol(&self) -> Option<&'static str> {
        self.shape
            .traits
            .aws_json_1_1()
            .then_some(crate::traits::AWS_JSON_1_1)
    }
}

impl Model {
    /// Resolves the service `id`, or the model's only service when `id` is `None` (an error
    /// naming them all when the model has several).
    pub fn service(&self, id: Option<&str>) -> Result<ServiceView<'_>, LoadError> {
        let shape = match id {
            Some(id) => self
                .shape_by_name(id)
                .filter(|s| s.kind == ShapeKind::Service)
                .ok_or_else(|| self.error(None, Fault::UnknownShape(id.to_owned())))?,
            None => {
                let mut services = self.services();
                match (services.next(), services.next()) {
                    (Some(only), None) => only,
                    (None, _) => {
                        return Err(
                            self.error(None, Fault::UnknownShape("<a service shape>".into()))
                        );
                    }
                    (Some(_), Some(_)) => {
                        let ids: Vec<_> = self.services().map(|s| format!("`{}`", s.id)).collect();
                        return Err(self.error(None, Fault::SeveralServices(ids.join(", "))));
                    }
                }
            }
        };
        let unit = self
            .shape_by_name("smithy.api#Unit")
            .expect("the prelude defines Unit");
        let resolve =
            |id: &Option<ShapeId>| id.as_ref().and_then(|id| self.shape(id)).unwrap_or(unit);
        let mut operations: Vec<OperationView<'_>> = shape
            .operations
            .iter()
            .filter_map(|id| self.shape(id))
            .filter(|op| op.kind == ShapeKind::Operation)
            .map(|op| OperationView {
                shape: op,
                input: resolve(&op.input),
                output: resolve(&op.output),
                // The operation's errors, then the service's common ones it does not
                // list itself (Smithy allows both to name one error).
                errors: op.errors.iter().chain(&shape.errors).fold(
                    Vec::new(),
                    |mut errors: Vec<&Shape>, id| {
                        if let Some(error) = self.shape(id)
                            && !errors.iter().any(|e| e.id == error.id)
                        {
                            errors.push(error);
                        }
                        errors
                    },
                ),
                paginated: self.paginated(op),
            })
            .collect();
        operations.sort_by(|a, b| a.shape.id.name().cmp(b.shape.id.name()));
        let shapes = self
            .closure(shape.operations.iter().chain(&shape.resources))
            .into_iter()
            .chain(self.closure(&shape.errors))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|id| self.shapes.get(&id))
            .collect();
        let view = ServiceView {
            model: self,
            shape,
            operations,
            shapes,
        };
        self.check_renames(&view)?;
        self.check_closure_names(&view)?;
        Ok(view)
    }

    /// Each shape a service renames is in its closure, and neither an operation, a
    /// resource nor an error (Smithy's rules for `rename`).
    fn check_renames(&self, view: &ServiceView<'_>) -> Result<(), LoadError> {
        let fail = |fault| Err(self.error(Some(&view.shape.id), fault));
        for (id, name) in &view.shape.rename {
            let Some(renamed) = view.shapes.iter().find(|s| s.id == *id) else {
                return fail(Fault::Malformed(format!(
                    "`rename` renames `{id}` to `{name}`, but the service's operations and \
                     errors do not reach `{id}`: remove the entry"
                )));
            };
            let (what, why) = match renamed.kind {
                ShapeKind::Operation => ("an operation", "its operations"),
                ShapeKind::Resource => ("a resource", "its resources"),
                _ if renamed.traits.error().is_some() => (
                    "an error",
                    "its errors, whose names are their codes on the wire",
                ),
                _ => continue,
            };
            return fail(Fault::Malformed(format!(
                "`rename` renames `{id}`, {what}: a service cannot rename {why}; rename \
                 the shape itself"
            )));
        }
        Ok(())
    }

    /// Smithy's rule for the shapes of a service: their names (as the service renames
    /// them) differ case-insensitively, whatever their namespaces, so that the types
    /// generated from them do too. Two simple shapes, or lists of them, may share a name
    /// when they are alike (one kind, the same traits, alike members): they are no types
    /// of their own. Shapes that are types (structures, unions, enums, maps) and
    /// operations may not: one would silently take the other's generated name.
    fn check_closure_names(&self, view: &ServiceView<'_>) -> Result<(), LoadError> {
        let mut names: BTreeMap<String, &Shape> = BTreeMap::new();
        for shape in &view.shapes {
            let name = view.name(&shape.id);
            let Some(first) = names.insert(name.to_lowercase(), shape) else {
                continue;
            };
            if self.alike(first, shape) {
                continue;
            }
            let described = |s: &Shape| match view.shape.rename.get(&s.id) {
                Some(renamed) => format!("`{}` (renamed `{renamed}`)", s.id),
                None => format!("`{}`", s.id),
            };
            return Err(self.error(
                Some(&shape.id),
                Fault::Malformed(format!(
                    "{} and {} have the name `{name}` (case aside) in the service `{}`, \
                     whose shapes have distinct names whatever their namespace: give one a \
                     name of its own in the service's `rename` (`\"{}\": \"NewName\"`)",
                    described(first),
                    described(shape),
                    view.shape.id,
                    shape.id,
                )),
            ));
        }
        Ok(())
    }

    /// Whether two shapes of one name are alike enough to share it (Smithy's
    /// `ServiceValidator`): simple shapes or lists of one kind, with the same traits, and
    /// lists whose members are alike and target alike shapes.
    fn alike(&self, a: &Shape, b: &Shape) -> bool {
        let simple = |s: &Shape| {
            !matches!(
                s.kind,
                ShapeKind::Structure
                    | ShapeKind::Union
                    | ShapeKind::Enum
                    | ShapeKind::IntEnum
                    | ShapeKind::Map
                    | ShapeKind::Operation
                    | ShapeKind::Service
                    | ShapeKind::Resource
            )
        };
        if a.id == b.id {
            return true;
        }
        if !simple(a) || a.kind != b.kind || a.traits != b.traits {
            return false;
        }
        match (a.list_member(), b.list_member()) {
            (Some(x), Some(y)) => {
                x.traits == y.traits && self.alike(self.target(x), self.target(y))
            }
            _ => true,
        }
    }

    /// The constraints in force on `member`: its own traits win over its target's.
    pub fn constraints(&self, member: &Member) -> Constraints {
        let own = &member.traits;
        let target = &self.target(member).traits;
        Constraints {
            required: own.required(),
            client_optional: own.has("smithy.api#clientOptional"),
            default: own
                .default_value()
                .or_else(|| target.default_value())
                .cloned(),
            length: own.length().or_else(|| target.length()),
            range: own.range().or_else(|| target.range()),
            pattern: own
                .pattern()
                .or_else(|| target.pattern())
                .map(str::to_owned),
            sensitive: own.sensitive() || self.holds_sensitive(self.target(member)),
        }
    }

    /// Whether values of `shape` show `@sensitive` data when printed whole: the shape is
    /// sensitive, or it is a list or map whose items (or keys) are. (A structure or
    /// union prints its members itself, redacting its own.) Loading bounds the walk: a
    /// model whose lists and maps nest deeper than [`crate::MAX_COLLECTION_NESTING`], or
    /// hold themselves, is refused, so every level is looked at.
    fn holds_sensitive(&self, shape: &Shape) -> bool {
        shape.traits.sensitive()
            || (matches!(
                shape.kind,
                ShapeKind::List | ShapeKind::Set | ShapeKind::Map
            ) && shape
                .members
                .iter()
                .any(|item| item.traits.sensitive() || self.holds_sensitive(self.target(item))))
    }
}
