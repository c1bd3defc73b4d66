//! Routing by `X-Amz-Target`, driven by the generated operation descriptors:
//! decoding (body and the seed's query parameters), validation, the handler
//! call and encoding of its answer. (And, when asked for, the built-in backend's admin
//! endpoints, by path: [`crate::admin`].)

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use kms_types::aws_json::{self, DecodeError, ErrorBody};
use kms_types::{
    DescribeCustomKeyStores, DescribeCustomKeyStoresRequest, KmsInternalException, OperationError,
    OperationShape, ValidationError,
};

use crate::admin::Admin;
use crate::handler::{Context, Handler};
use crate::hash::FxHashMap;

/// A response body with its status and, for errors, the error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `__type` of an error; `None` on success.
    pub error_code: Option<&'static str>,
    /// JSON body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A success.
    pub fn ok(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            error_code: None,
            body,
        }
    }

    /// An error outside the operation's model (`{"__type": code, "message": ...}`).
    pub fn error(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_code: Some(code),
            body: ErrorBody::new(code, message).to_vec(),
        }
    }

    /// A modeled error of an operation.
    pub fn modeled<E: OperationError>(error: &E) -> Self {
        Self {
            status: error.http_status(),
            error_code: Some(error.code()),
            body: error.to_body(),
        }
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One registered operation, with its types erased.
pub(crate) trait Route: Send + Sync {
    fn descriptor(&self) -> &'static kms_types::Operation;
    /// The IAM action, precomputed: `kms:DescribeCustomKeyStores`.
    fn action(&self) -> &str;
    /// Decodes, validates and handles one request.
    fn call<'a>(&'a self, ctx: Context, body: &[u8], query: Option<&str>) -> BoxFuture<'a, Reply>;
}

struct Bound<Op, H> {
    handler: H,
    action: String,
    _op: PhantomData<fn() -> Op>,
}

impl<Op: OperationShape + 'static, H: Handler<Op>> Route for Bound<Op, H> {
    fn descriptor(&self) -> &'static kms_types::Operation {
        &Op::OPERATION
    }

    fn action(&self) -> &str {
        &self.action
    }

    fn call<'a>(&'a self, ctx: Context, body: &[u8], query: Option<&str>) -> BoxFuture<'a, Reply> {
        let input = match decode_input::<Op>(body, query) {
            Ok(input) => input,
            Err(reply) => return Box::pin(std::future::ready(reply)),
        };
        // A handler that panics (a test backend's `unwrap`) is answered as KMS answers a
        // fault of its own, 500 KMSInternalException, rather than by a connection closed
        // without an answer, which clients report as a transport error
        // (`IncompleteMessage`) and retry without saying why: in `check_input`, in
        // `handle_encoded` before it returns its future, or in that future.
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.handler.check_input(&input))) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                let reply = Reply::error(400, ValidationError::CODE, message);
                return Box::pin(std::future::ready(reply));
            }
            Err(panic) => return Box::pin(std::future::ready(panicked::<Op>(&ctx, &*panic))),
        }
        Box::pin(async move {
            // `handle_encoded` is called at the first poll, within the catch.
            let mut handled =
                std::pin::pin!(async { self.handler.handle_encoded(&ctx, input).await });
            let handled = std::future::poll_fn(|cx| {
                match std::panic::catch_unwind(AssertUnwindSafe(|| handled.as_mut().poll(cx))) {
                    Ok(Poll::Ready(answer)) => Poll::Ready(Ok(answer)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(panic) => Poll::Ready(Err(panic)),
                }
            })
            .await;
            match handled {
                Ok(Ok(body)) => Reply::ok(body),
                Ok(Err(error)) => Reply::modeled(&error),
                Err(panic) => panicked::<Op>(&ctx, &*panic),
            }
        })
    }
}

/// The answer to a request whose handler panicked (logged).
fn panicked<Op: OperationShape>(ctx: &Context, panic: &(dyn Any + Send)) -> Reply {
    let what = panic_message(panic);
    tracing::error!(
        request_id = ctx.request_id.as_str(),
        operation = Op::OPERATION.name,
        panic = what,
        "the handler panicked"
    );
    Reply::error(
        500,
        KmsInternalException::CODE,
        format!("The handler of {} panicked: {what}", Op::OPERATION.name),
    )
}

/// The message of a panic's payload (`panic!("...")` with or without arguments).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a panic without a message"
    }
}

/// Body (plus pagination query parameters) → validated input, or the error reply.
fn decode_input<Op: OperationShape>(body: &[u8], query: Option<&str>) -> Result<Op::Input, Reply> {
    let merged;
    let body = match query.and_then(|q| query_members::<Op>(q).transpose()) {
        None => body,
        Some(Err(reply)) => return Err(reply),
        Some(Ok(members)) => {
            merged = merge_query(body, members)?;
            &merged
        }
    };
    // Every violation at once, missing required members among them.
    let input: Op::Input = aws_json::decode_valid(body).map_err(|e| match e {
        DecodeError::Serialization(m) => Reply::error(400, "SerializationException", m),
        DecodeError::Validation(v) => Reply::error(400, ValidationError::CODE, v.to_string()),
    })?;
    check_input_rules(&input).map_err(|m| Reply::error(400, ValidationError::CODE, m))?;
    Ok(input)
}

/// The operation's pagination members found in the query string (`Limit`, `Marker`),
/// as JSON values of the member's type.
fn query_members<Op: OperationShape>(
    query: &str,
) -> Result<Option<Vec<(&'static str, serde_json::Value)>>, Reply> {
    let Some(p) = Op::OPERATION.pagination else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |v: &str| {
            let v = v.replace('+', " ");
            percent_encoding::percent_decode_str(&v)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| {
                    Reply::error(
                        400,
                        "SerializationException",
                        format!("query parameter {name} is not UTF-8"),
                    )
                })
        };
        if let Some(size) = p.page_size
            && name == size
        {
            let text = decode(value)?;
            let n: i64 = text.trim().parse().map_err(|_| {
                Reply::error(
                    400,
                    "SerializationException",
                    format!("query parameter {name}: '{text}' is not an integer"),
                )
            })?;
            found.push((size, serde_json::Value::from(n)));
        } else if name == p.input_token {
            found.push((p.input_token, serde_json::Value::from(decode(value)?)));
        }
    }
    Ok((!found.is_empty()).then_some(found))
}

/// Adds query members to the body object unless the body has them: the body wins (a
/// member that is `null` in the body is one it does not have).
fn merge_query(
    body: &[u8],
    members: Vec<(&'static str, serde_json::Value)>,
) -> Result<Vec<u8>, Reply> {
    let serialization = |m: String| Reply::error(400, "SerializationException", m);
    let mut object: serde_json::Map<String, serde_json::Value> =
        if body.iter().all(u8::is_ascii_whitespace) {
            serde_json::Map::new()
        } else {
            match serde_json::from_slice(body) {
                Ok(serde_json::Value::Object(o)) => o,
                Ok(_) => {
                    return Err(serialization(
                        "the request body must be a JSON object".into(),
                    ));
                }
                Err(e) => return Err(serialization(e.to_string())),
            }
        };
    for (name, value) in members {
        // A `null` member is an absent one (awsJson), so the query's value stands.
        let slot = object.entry(name).or_insert(serde_json::Value::Null);
        if slot.is_null() {
            *slot = value;
        }
    }
    serde_json::to_vec(&object).map_err(|e| serialization(e.to_string()))
}

/// The operations whose input rules [`check_input_rules`] knows: those the
/// documentation states and the members' constraints cannot express, or none. A test
/// fails when kms-types generates an operation missing here, so that whoever imports
/// one reads its documentation and decides.
pub const INPUT_RULES_DECIDED: &[&str] = &[DescribeCustomKeyStores::OPERATION.target];

/// Checks the rules of an operation's input beyond its generated validators, answered
/// as a `ValidationException`, whatever handler it is routed to: for
/// DescribeCustomKeyStores, "provide either the `CustomKeyStoreId` or
/// `CustomKeyStoreName` parameter, but not both". Inputs of other operations have none
/// here; an embedder gives the rules of an operation it routes in its handler's
/// [`Handler::check_input`].
pub fn check_input_rules(input: &dyn Any) -> Result<(), String> {
    if let Some(input) = input.downcast_ref::<DescribeCustomKeyStoresRequest>()
        && input.custom_key_store_id.is_some()
        && input.custom_key_store_name.is_some()
    {
        return Err("You cannot specify both CustomKeyStoreId and CustomKeyStoreName. Specify one of them, or neither to describe every custom key store in the account and Region.".into());
    }
    Ok(())
}

/// Operations by `X-Amz-Target`, each with its handler.
#[derive(Clone, Default)]
pub struct Router {
    routes: FxHashMap<&'static str, Arc<dyn Route>>,
    admin: Option<Arc<Admin>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("targets", &self.routes.keys().collect::<Vec<_>>())
            .field("admin", &self.admin.is_some())
            .finish()
    }
}

impl Router {
    /// A router with no operations: every target is `UnknownOperationException`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `Op::OPERATION.target` to `handler` (replacing an earlier one).
    pub fn operation<Op: OperationShape + 'static, H: Handler<Op>>(mut self, handler: H) -> Self {
        let route = Bound::<Op, H> {
            handler,
            action: Op::OPERATION.action(),
            _op: PhantomData,
        };
        self.routes.insert(Op::OPERATION.target, Arc::new(route));
        self
    }

    /// The routed `X-Amz-Target` values.
    pub fn targets(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.routes.keys().copied()
    }

    pub(crate) fn route(&self, target: &str) -> Option<&Arc<dyn Route>> {
        self.routes.get(target)
    }

    /// Also serves the admin endpoints ([`crate::admin`]), changing `admin`'s store.
    /// [`crate::ServerConfig::router_and_store`] adds them when the configuration asks
    /// for them ([`crate::ServerConfig::with_admin_endpoints`]).
    pub fn with_admin(mut self, admin: Admin) -> Self {
        self.admin = Some(Arc::new(admin));
        self
    }

    /// The admin endpoints it serves, if any: in a test in the same process, the
    /// requests the server answered without a `GET /_kms-server/requests`
    /// (`router.admin().map(|a| a.journal().entries(false))`). Keep a clone before
    /// handing the router to [`crate::serve_router`].
    pub fn admin(&self) -> Option<&Arc<Admin>> {
        self.admin.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kms_types::DescribeCustomKeyStores;

    fn decode(body: &str, query: Option<&str>) -> Result<DescribeCustomKeyStoresRequest, Reply> {
        decode_input::<DescribeCustomKeyStores>(body.as_bytes(), query)
    }

    fn code(r: Result<DescribeCustomKeyStoresRequest, Reply>) -> &'static str {
        r.unwrap_err().error_code.unwrap()
    }

    #[test]
    fn query_parameters_fill_in_and_the_body_wins() {
        let r = decode("", Some("Limit=5&Marker=abc%20d+e")).unwrap();
        assert_eq!((r.limit, r.marker.as_deref()), (Some(5), Some("abc d e")));
        let r = decode(r#"{"Limit": 9}"#, Some("Limit=5&X-Amz-Date=x")).unwrap();
        assert_eq!(r.limit, Some(9));
        let r = decode("{}", Some("X-Amz-Date=1")).unwrap();
        assert_eq!(r.limit, None);
        // `null` in the body is no value: a client sending null members and the marker in
        // the query used to get the first page again.
        let r = decode(
            r#"{"Limit": null, "Marker": null}"#,
            Some("Limit=5&Marker=m"),
        )
        .unwrap();
        assert_eq!((r.limit, r.marker.as_deref()), (Some(5), Some("m")));
        assert_eq!(
            code(decode("", Some("Limit=ten"))),
            "SerializationException"
        );
        assert_eq!(code(decode("", Some("Limit=0"))), "ValidationException");
        assert_eq!(
            code(decode("[]", Some("Limit=1"))),
            "SerializationException"
        );
    }

    /// Every operation kms-types generates has had its input rules decided.
    #[test]
    fn every_generated_operation_has_its_input_rules_decided() {
        // All of them in one run: an import of several operations is fixed at once.
        let undecided: Vec<&str> = kms_types::OPERATIONS
            .iter()
            .map(|operation| operation.target)
            .filter(|target| !INPUT_RULES_DECIDED.contains(target))
            .collect();
        assert!(
            undecided.is_empty(),
            "{}: read each operation's documentation for rules on its input that the \
             model's constraints do not express (like DescribeCustomKeyStores' \"id or \
             name, not both\"), write them in check_input_rules, and list the targets \
             in INPUT_RULES_DECIDED",
            undecided.join(", ")
        );
    }

    /// A router's `Debug` names what it routes and whether it serves the admin endpoints,
    /// as an embedder printing its server's setup sees it.
    #[test]
    fn debug_names_the_targets_and_whether_admin_endpoints_are_served() {
        let config = crate::ServerConfig::demo();
        let plain = config.router().unwrap();
        let with_admin = config.with_admin_endpoints().router().unwrap();
        assert_eq!(
            [format!("{plain:?}"), format!("{with_admin:?}")],
            [false, true].map(|admin| format!(
                r#"Router {{ targets: ["TrentService.DescribeCustomKeyStores"], admin: {admin} }}"#
            ))
        );
        assert_eq!(
            format!("{:?}", Router::new()),
            "Router { targets: [], admin: false }"
        );
    }

    #[test]
    fn both_filters_are_a_validation_error() {
        let e = decode(
            r#"{"CustomKeyStoreId":"cks-1","CustomKeyStoreName":"n"}"#,
            None,
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.error_code, Some("ValidationException"));
        let e = decode(r#"{"Limit": 0, "Marker": ""}"#, None).unwrap_err();
        let body: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(body["__type"], "ValidationException");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("2 validation errors detected: Value '0' at 'limit'")
        );
    }
}
