//! Operation metadata: what the generator knows about each operation, for routing,
//! signing and pagination, and the traits tying an operation to its types.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::validation::Validate;

/// A modeled operation, as the generator describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The operation's shape name, e.g. `DescribeCustomKeyStores`.
    pub name: &'static str,
    /// The `X-Amz-Target` value: `<service name>.<operation name>`.
    pub target: &'static str,
    /// The service shape id, e.g. `com.amazonaws.kms#TrentService`.
    pub service: &'static str,
    /// The service's API version, e.g. `2014-11-01`.
    pub service_version: &'static str,
    /// The SigV4 signing name, e.g. `kms`.
    pub signing_name: &'static str,
    /// The protocol trait, e.g. `aws.protocols#awsJson1_1`.
    pub protocol: &'static str,
    /// `@paginated`, when the operation pages its results.
    pub pagination: Option<Pagination>,
}

impl Operation {
    /// The IAM action for this operation: `kms:DescribeCustomKeyStores`.
    pub fn action(&self) -> String {
        format!("{}:{}", self.signing_name, self.name)
    }
}

/// The members of an operation's input and output that carry pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// The input member holding the token of the page to fetch (`Marker`).
    pub input_token: &'static str,
    /// The output member holding the token of the next page (`NextMarker`).
    pub output_token: &'static str,
    /// The input member bounding the page size (`Limit`).
    pub page_size: Option<&'static str>,
    /// The output member holding the page's items (`CustomKeyStores`).
    pub items: Option<&'static str>,
}

/// A modeled error of an operation: what it is on the wire.
pub trait OperationError: std::error::Error + Sized {
    /// The error code (`__type`), e.g. `CustomKeyStoreNotFoundException`.
    fn code(&self) -> &'static str;
    /// The HTTP status the error is sent with.
    fn http_status(&self) -> u16;
    /// Whether a client may retry: server faults and `@retryable` errors.
    fn is_retryable(&self) -> bool;
    /// The error's message, when it has one.
    fn message(&self) -> Option<&str>;
    /// The awsJson error body: the error's members plus `__type`.
    fn to_body(&self) -> Vec<u8>;
    /// Builds the modeled error for `code` from its awsJson body; `None` for codes the
    /// operation does not model, and when a required member of the error is missing or
    /// unreadable. The message is read as [`crate::aws_json::error_message`] reads it,
    /// and a body that is odd (not JSON, a message of the wrong type or given twice, a
    /// member that cannot be read) still gives the modeled error, less what cannot be
    /// read ([`crate::aws_json::decode_error`]).
    fn from_wire(code: &str, body: &[u8]) -> Option<Self>;
}

/// Ties an operation's marker type to its descriptor, input, output and error.
pub trait OperationShape {
    /// The descriptor.
    const OPERATION: Operation;
    /// The input structure.
    type Input: Serialize
        + DeserializeOwned
        + Validate
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static;
    /// The output structure.
    type Output: Serialize
        + DeserializeOwned
        + Validate
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static;
    /// The operation's error enum over its modeled errors.
    type Error: OperationError + Clone + std::fmt::Debug + Send + Sync + 'static;
}

/// Typed access to a paginated operation's tokens, page size and items.
pub trait Paginated: OperationShape {
    /// The type of one item.
    type Item;
    /// The input's page token.
    fn input_token(input: &Self::Input) -> Option<&str>;
    /// Sets the input's page token.
    fn set_input_token(input: &mut Self::Input, token: Option<String>);
    /// The output's next-page token.
    fn output_token(output: &Self::Output) -> Option<&str>;
    /// The page's items.
    fn items(output: &Self::Output) -> &[Self::Item];
    /// Takes the page's items out of the output.
    fn into_items(output: Self::Output) -> Vec<Self::Item>;
}
