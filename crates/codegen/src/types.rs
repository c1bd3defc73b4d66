//! The Rust type of a member's target.

use kms_spec::{Shape, ShapeKind};
use proc_macro2::TokenStream;
use quote::quote;

use crate::Generator;

impl Generator<'_> {
    /// The Rust type for values of `target`, seen from a member of `container`.
    pub(crate) fn rust_type(&self, container: &Shape, target: &Shape) -> TokenStream {
        match target.kind {
            ShapeKind::String => quote!(String),
            ShapeKind::Boolean => quote!(bool),
            ShapeKind::Byte => quote!(i8),
            ShapeKind::Short => quote!(i16),
            ShapeKind::Integer => quote!(i32),
            ShapeKind::Long => quote!(i64),
            ShapeKind::Float => quote!(f32),
            ShapeKind::Double | ShapeKind::BigDecimal => quote!(f64),
            ShapeKind::BigInteger => quote!(i128),
            ShapeKind::Blob => quote!(::kms_types::Blob),
            ShapeKind::Timestamp => quote!(::kms_types::Timestamp),
            ShapeKind::Document => quote!(::kms_types::__private::serde_json::Value),
            ShapeKind::List | ShapeKind::Set => {
                let item = self
                    .model
                    .target(target.list_member().expect("lists have a member"));
                let item = self.rust_type(target, item);
                quote!(Vec<#item>)
            }
            ShapeKind::Map => {
                let (_, value) = target.map_members().expect("maps have a key and a value");
                let value = self.rust_type(target, self.model.target(value));
                quote!(std::collections::BTreeMap<String, #value>)
            }
            ShapeKind::Structure if target.id.as_str() == "smithy.api#Unit" => {
                quote!(::kms_types::Unit)
            }
            ShapeKind::Structure | ShapeKind::Union | ShapeKind::Enum | ShapeKind::IntEnum => {
                let name = self.type_name(target);
                if self.reaches(target, container) {
                    quote!(Box<#name>)
                } else {
                    quote!(#name)
                }
            }
            ShapeKind::Operation | ShapeKind::Service | ShapeKind::Resource => {
                quote!(::kms_types::Unit)
            }
        }
    }

    /// Whether the Rust type of `shape` can be `Eq` and `Hash`: nothing it holds is a
    /// float or a document (`serde_json::Value`), through any depth of members.
    pub(crate) fn is_hashable(&self, shape: &Shape) -> bool {
        let container = |s: &Shape| {
            matches!(
                s.kind,
                ShapeKind::List
                    | ShapeKind::Set
                    | ShapeKind::Map
                    | ShapeKind::Structure
                    | ShapeKind::Union
            )
        };
        !self.finds(shape, container, |s| {
            matches!(
                s.kind,
                ShapeKind::Float | ShapeKind::Double | ShapeKind::BigDecimal | ShapeKind::Document
            )
        })
    }

    /// Whether `from` contains `to` by value (through structure and union members, not
    /// through lists or maps), so that a member of `to` targeting `from` must be boxed.
    fn reaches(&self, from: &Shape, to: &Shape) -> bool {
        let by_value = |s: &Shape| matches!(s.kind, ShapeKind::Structure | ShapeKind::Union);
        self.finds(from, by_value, |s| s.id == to.id)
    }

    /// Whether `from`, or a shape its members target through the shapes `through`
    /// accepts, is one that `found` accepts. Each shape is looked at once, so recursive
    /// shapes end.
    fn finds(
        &self,
        from: &Shape,
        through: impl Fn(&Shape) -> bool,
        found: impl Fn(&Shape) -> bool,
    ) -> bool {
        let mut stack = vec![from];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(shape) = stack.pop() {
            if found(shape) {
                return true;
            }
            if seen.insert(&shape.id) && through(shape) {
                stack.extend(shape.members.iter().map(|m| self.model.target(m)));
            }
        }
        false
    }
}
