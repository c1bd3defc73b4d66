//! Shapes, members and shape ids: the nouns of a Smithy model.

use std::collections::BTreeMap;
use std::fmt;

use crate::traits::Traits;

/// An absolute shape id, `namespace#Name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShapeId(String);

impl ShapeId {
    /// Wraps an absolute shape id. Returns `None` when `id` has no `#`.
    pub fn parse(id: &str) -> Option<Self> {
        let (namespace, name) = id.split_once('#')?;
        (!namespace.is_empty() && !name.is_empty() && !name.contains('$'))
            .then(|| Self(id.to_owned()))
    }

    /// The namespace, e.g. `com.amazonaws.kms`.
    pub fn namespace(&self) -> &str {
        self.0.split_once('#').map_or("", |(ns, _)| ns)
    }

    /// The shape name, e.g. `DescribeCustomKeyStores`.
    pub fn name(&self) -> &str {
        self.0.split_once('#').map_or(&self.0, |(_, name)| name)
    }

    /// The id as written, `namespace#Name`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this id names a shape of the Smithy prelude (`smithy.api#String`, ...).
    pub fn is_prelude(&self) -> bool {
        self.namespace() == crate::PRELUDE_NAMESPACE
    }
}

impl fmt::Display for ShapeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The type of a shape, as named by the `type` property of the JSON AST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    Blob,
    Boolean,
    String,
    Byte,
    Short,
    Integer,
    Long,
    Float,
    Double,
    BigInteger,
    BigDecimal,
    Timestamp,
    Document,
    Enum,
    IntEnum,
    List,
    Set,
    Map,
    Structure,
    Union,
    Operation,
    Service,
    Resource,
}

impl ShapeKind {
    /// Whether it is one of Smithy's number types (an intEnum is not one).
    pub fn is_number(self) -> bool {
        matches!(
            self,
            Self::Byte
                | Self::Short
                | Self::Integer
                | Self::Long
                | Self::Float
                | Self::Double
                | Self::BigInteger
                | Self::BigDecimal
        )
    }

    /// Parses the `type` property of a shape.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "blob" => Self::Blob,
            "boolean" => Self::Boolean,
            "string" => Self::String,
            "byte" => Self::Byte,
            "short" => Self::Short,
            "integer" => Self::Integer,
            "long" => Self::Long,
            "float" => Self::Float,
            "double" => Self::Double,
            "bigInteger" => Self::BigInteger,
            "bigDecimal" => Self::BigDecimal,
            "timestamp" => Self::Timestamp,
            "document" => Self::Document,
            "enum" => Self::Enum,
            "intEnum" => Self::IntEnum,
            "list" => Self::List,
            "set" => Self::Set,
            "map" => Self::Map,
            "structure" => Self::Structure,
            "union" => Self::Union,
            "operation" => Self::Operation,
            "service" => Self::Service,
            "resource" => Self::Resource,
            _ => return None,
        })
    }

    /// Whether shapes of this kind carry named members.
    pub fn has_members(self) -> bool {
        matches!(
            self,
            Self::Enum
                | Self::IntEnum
                | Self::Structure
                | Self::Union
                | Self::List
                | Self::Set
                | Self::Map
        )
    }
}

/// A member of an aggregate shape: a structure or union field, an enum value,
/// a list's `member`, or a map's `key` and `value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The member name as written in the model (`CustomKeyStoreId`, `member`, `key`).
    pub name: String,
    /// The shape the member targets.
    pub target: ShapeId,
    /// Traits applied to the member itself.
    pub traits: Traits,
}

/// One shape of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// The shape's id.
    pub id: ShapeId,
    /// Its type.
    pub kind: ShapeKind,
    /// Members in model order (a list's single `member`, a map's `key` then `value`).
    pub members: Vec<Member>,
    /// Traits applied to the shape.
    pub traits: Traits,
    /// Operation input, when `kind` is [`ShapeKind::Operation`].
    pub input: Option<ShapeId>,
    /// Operation output, when `kind` is [`ShapeKind::Operation`].
    pub output: Option<ShapeId>,
    /// Errors of an operation or a service.
    pub errors: Vec<ShapeId>,
    /// Operations bound to a service or resource.
    pub operations: Vec<ShapeId>,
    /// Resources bound to a service or resource.
    pub resources: Vec<ShapeId>,
    /// The service version, when `kind` is [`ShapeKind::Service`].
    pub version: Option<String>,
    /// A service's `rename`: the names shapes of its closure take in it, by shape id
    /// (Smithy's way out of two namespaces' shapes of one name).
    /// [`ServiceView::name`](crate::ServiceView::name) applies it.
    pub rename: BTreeMap<ShapeId, String>,
}

impl Shape {
    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// A list's or set's element member.
    pub fn list_member(&self) -> Option<&Member> {
        self.member("member")
    }

    /// A map's key and value members.
    pub fn map_members(&self) -> Option<(&Member, &Member)> {
        Some((self.member("key")?, self.member("value")?))
    }
}
