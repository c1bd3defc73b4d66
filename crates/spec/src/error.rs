use std::fmt;

/// Why a model failed to load: the file, the shape (when one is at fault) and the fault.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    /// The file (or source name) the model came from.
    pub source: String,
    /// The shape at fault, when the fault belongs to one.
    pub shape: Option<String>,
    /// What is wrong.
    pub fault: Box<Fault>,
}

/// What is wrong with a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Fault {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("not a Smithy JSON AST: {0}")]
    NotAModel(String),
    #[error("unsupported smithy version `{0}` (expected 2.0)")]
    UnsupportedVersion(String),
    #[error("invalid shape id `{0}`")]
    InvalidShapeId(String),
    #[error("unknown shape type `{0}`")]
    UnknownType(String),
    #[error("malformed shape: {0}")]
    Malformed(String),
    #[error("{place} targets `{target}`, which is not defined in the model or the prelude")]
    UnresolvedTarget { place: String, target: String },
    #[error("{place}@{trait_name} min {min} is greater than max {max}")]
    MinGreaterThanMax {
        place: String,
        trait_name: &'static str,
        min: String,
        max: String,
    },
    /// An invalid pattern, or a valid ECMA-262 one using what the checks do not support
    /// (look-around, backreferences, `\p{..}`).
    #[error(
        "{place}@pattern `{pattern}` is not a regular expression the generated code can \
         check: {reason}"
    )]
    BadPattern {
        place: String,
        pattern: String,
        reason: String,
    },
    #[error("enum members `{first}` and `{second}` have the same value `{value}`")]
    DuplicateEnumValue {
        first: String,
        second: String,
        value: String,
    },
    #[error("@paginated {role} `{member}` is not a member of `{shape}`")]
    PaginatedMemberMissing {
        role: &'static str,
        member: String,
        shape: String,
    },
    #[error("@{trait_name}: {reason}")]
    BadEndpointRules {
        trait_name: &'static str,
        reason: String,
    },
    #[error("no shape `{0}` in the model")]
    UnknownShape(String),
    #[error(
        "the model has several services ({0}) and code is generated for one: keep only that \
         service shape in the file (`cargo xtask import` writes one)"
    )]
    SeveralServices(String),
    /// Model names the generated Rust cannot hold as they are (names that collide).
    #[error("{0}")]
    RustNames(String),
    #[error("{place}unknown key `{key}` (the JSON AST allows {allowed})")]
    UnknownKey {
        /// `member `Name`: ` when a member object is at fault, else empty.
        place: String,
        key: String,
        /// The keys allowed there, e.g. `` `type`, `traits`, `mixins`, `members` ``.
        allowed: String,
    },
    #[error(
        "{place}unknown trait `{trait_id}`: kms-codegen neither implements it nor knows it to \
         leave the wire format and the types alone (a typo?)"
    )]
    UnknownTrait { place: String, trait_id: String },
    #[error("{place}{what} is not supported yet{advice}")]
    Unsupported {
        place: String,
        what: String,
        /// Empty, or `; ` and what to do instead.
        advice: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shape {
            Some(shape) => write!(f, "{}: shape `{}`: {}", self.source, shape, self.fault),
            None => write!(f, "{}: {}", self.source, self.fault),
        }
    }
}

impl std::error::Error for LoadError {}
