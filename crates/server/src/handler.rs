//! Operation handlers: the trait a backend implements, and the built-in
//! `DescribeCustomKeyStores` handler over a [`Storage`].

use std::future::Future;
use std::sync::Arc;

use kms_types::{
    CustomKeyStoreNotFoundException, CustomKeyStoresListEntry, DescribeCustomKeyStores,
    DescribeCustomKeyStoresError, DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse,
    InvalidMarkerException, OperationShape, Validate,
};

use crate::marker::{self, MarkerKey, MarkerScope};
use crate::store::{Filter, Page, Record, Storage, StoreError};

/// Page size when a request gives no `Limit`. (`Limit` may be 1 to 1000.)
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest `Limit` accepted (the model's `@range(max: 1000)`).
pub const MAX_PAGE_SIZE: usize = 1000;

/// Who is calling: filled in by the server after SigV4 verification and the
/// permission check, before the handler runs.
#[derive(Debug, Clone)]
pub struct Context {
    /// The caller's account id.
    pub account_id: Arc<str>,
    /// The region of the SigV4 credential scope.
    pub region: String,
    /// The caller's principal ARN.
    pub principal_arn: Arc<str>,
    /// The request id sent back in `x-amzn-RequestId`.
    pub request_id: String,
}

/// Handles one operation `Op`. The input has passed the generated validators,
/// [`check_input_rules`](crate::router::check_input_rules) (such as "id or name,
/// not both") and the handler's own [`Handler::check_input`] before
/// [`Handler::handle`] sees it. Any operation kms-types generates can be routed to a
/// handler, including ones imported after this crate was written.
///
/// A call runs to its end even when its client has gone (a client may close its side of
/// the connection once its request is sent, and still wait for the answer), holding one
/// of the server's connections meanwhile: a handler that may wait long should bound the
/// wait itself.
///
/// ```
/// use kms_server::handler::{Context, Handler};
/// use kms_types::{DescribeCustomKeyStores, DescribeCustomKeyStoresError,
///                 DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse};
///
/// struct Empty;
/// impl Handler<DescribeCustomKeyStores> for Empty {
///     async fn handle(&self, _ctx: &Context, _input: DescribeCustomKeyStoresRequest)
///         -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
///         Ok(DescribeCustomKeyStoresResponse::builder().custom_key_stores(vec![]).truncated(false).build())
///     }
/// }
/// let router = kms_server::Router::new().operation::<DescribeCustomKeyStores, _>(Empty);
/// assert_eq!(router.targets().collect::<Vec<_>>(), ["TrentService.DescribeCustomKeyStores"]);
/// ```
pub trait Handler<Op: OperationShape>: Send + Sync + 'static {
    /// Rules of the input beyond the model's constraints (the operation's documentation
    /// states them, the generated validators cannot), checked before the request is
    /// handled: `Err(message)` is answered as a `ValidationException` with `message`,
    /// which an operation's modeled errors cannot express. None by default.
    fn check_input(&self, input: &Op::Input) -> Result<(), String> {
        let _ = input;
        Ok(())
    }

    /// Answers one validated request. A panic here (or in [`Handler::handle_encoded`]
    /// or [`Handler::check_input`]) is answered `500 KMSInternalException` with the
    /// panic's message.
    fn handle(
        &self,
        ctx: &Context,
        input: Op::Input,
    ) -> impl Future<Output = Result<Op::Output, Op::Error>> + Send;

    /// Answers one validated request with the output already encoded as its awsJson
    /// body: what the server sends. The default encodes [`Handler::handle`]'s output;
    /// a backend holding pre-encoded data overrides it to skip that work (it must
    /// produce the same bytes).
    fn handle_encoded(
        &self,
        ctx: &Context,
        input: Op::Input,
    ) -> impl Future<Output = Result<Vec<u8>, Op::Error>> + Send {
        async move {
            let output = self.handle(ctx, input).await?;
            Ok(serde_json::to_vec(&output).expect("generated outputs always encode as JSON"))
        }
    }
}

/// A stored custom key store: a list entry KMS could return ([`KeyStore::new`]), kept
/// as its awsJson encoding — what every page sends — so that serving a page
/// copies bytes instead of cloning and re-encoding entries (and a store costs
/// little more memory than its JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyStore {
    id: Box<str>,
    name: Box<str>,
    json: Box<[u8]>,
}

/// A list entry that cannot be a stored custom key store: one without
/// `CustomKeyStoreId` or `CustomKeyStoreName`, or one KMS could not return (it breaks the
/// model's constraints or a rule of [`crate::data::check_entry`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidKeyStore(String);

impl KeyStore {
    /// Wraps an entry KMS could return, checked as a `--data` file's entries are: it
    /// must have an id and a name, meet the model's constraints (the generated
    /// validators) and [`crate::data::check_entry`]'s rules — a `FAILED` store needs a
    /// `ConnectionErrorCode`, for example. Whichever way a store reaches a server
    /// ([`crate::ServerConfig::with_key_stores`], or [`crate::store::Storage::put`]
    /// while it serves), it is one KMS could list.
    pub fn new(entry: CustomKeyStoresListEntry) -> Result<Self, InvalidKeyStore> {
        entry
            .validate()
            .map_err(|e| InvalidKeyStore(e.to_string()))?;
        Self::checked_at(entry, "")
    }

    /// [`Self::new`] of an entry already validated, at member path `item` (which the
    /// messages name): the rules of a stored store that the model does not express.
    pub(crate) fn checked_at(
        entry: CustomKeyStoresListEntry,
        item: &str,
    ) -> Result<Self, InvalidKeyStore> {
        for (value, member) in [
            (&entry.custom_key_store_id, "CustomKeyStoreId"),
            (&entry.custom_key_store_name, "CustomKeyStoreName"),
        ] {
            if value.is_none() {
                return Err(InvalidKeyStore(
                    kms_types::ValidationError::missing(item, member).to_string(),
                ));
            }
        }
        crate::data::check_entry(&entry, item).map_err(InvalidKeyStore)?;
        Ok(Self::checked(entry))
    }

    /// Wraps an entry whose checks [`Self::new`] makes hold by construction (generated
    /// stores), or have been made ([`Self::checked_at`]).
    pub(crate) fn checked(entry: CustomKeyStoresListEntry) -> Self {
        let id = entry.custom_key_store_id.as_deref().unwrap_or_default();
        let name = entry.custom_key_store_name.as_deref().unwrap_or_default();
        Self {
            id: id.into(),
            name: name.into(),
            json: serde_json::to_vec(&entry)
                .expect("generated types always encode as JSON")
                .into(),
        }
    }

    /// The entry, as listed (decoded from the stored JSON).
    pub fn entry(&self) -> CustomKeyStoresListEntry {
        serde_json::from_slice(&self.json).expect("KeyStore::new stored an encoded entry")
    }

    /// The entry's awsJson encoding.
    pub fn json(&self) -> &[u8] {
        &self.json
    }
}

impl Record for KeyStore {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// One page of an answer: its stores and the marker of the next page.
struct Answer {
    page: Page<KeyStore>,
    next_marker: Option<String>,
}

/// `DescribeCustomKeyStores` over any [`Storage`]: the stores of the caller's
/// account in the request's region, ordered by id, in pages of `Limit`
/// ([`DEFAULT_PAGE_SIZE`] by default), continued by HMAC-protected markers.
pub struct StoreHandler<S: ?Sized> {
    storage: Arc<S>,
    marker_key: MarkerKey,
}

impl<S: ?Sized> std::fmt::Debug for StoreHandler<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandler").finish_non_exhaustive()
    }
}

impl<S: Storage<KeyStore> + ?Sized> StoreHandler<S> {
    /// A handler over `storage`, signing markers with `marker_key`.
    pub fn new(storage: Arc<S>, marker_key: MarkerKey) -> Self {
        Self {
            storage,
            marker_key,
        }
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<S> {
        &self.storage
    }

    /// The answer to `input` from `ctx`'s account and region (what
    /// [`Handler::handle`] does, without the future).
    pub fn describe(
        &self,
        ctx: &Context,
        input: &DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
        let Answer { page, next_marker } = self.answer(ctx, input)?;
        let items = page.items.iter().map(|s| s.entry()).collect();
        Ok(DescribeCustomKeyStoresResponse::builder()
            .custom_key_stores(items)
            .truncated(next_marker.is_some())
            .set_next_marker(next_marker)
            .build())
    }

    /// [`StoreHandler::describe`], encoded: the same bytes as `serde_json::to_vec` of
    /// its response, assembled from the stores' stored JSON.
    pub fn describe_encoded(
        &self,
        ctx: &Context,
        input: &DescribeCustomKeyStoresRequest,
    ) -> Result<Vec<u8>, DescribeCustomKeyStoresError> {
        let Answer { page, next_marker } = self.answer(ctx, input)?;
        const HEAD: &[u8] = b"{\"CustomKeyStores\":[";
        const MORE: &[u8] = b",\"NextMarker\":";
        const TRUNCATED: &[u8] = b",\"Truncated\":true}";
        const COMPLETE: &[u8] = b",\"Truncated\":false}";
        // The exact length when there is no marker (then the service hands the
        // vector to hyper without another allocation), room for quotes and a few
        // escapes when there is one.
        let entries: usize = page.items.iter().map(|s| s.json.len()).sum::<usize>()
            + page.items.len().saturating_sub(1);
        let tail = match &next_marker {
            Some(m) => MORE.len() + m.len() + 16 + TRUNCATED.len(),
            None => COMPLETE.len(),
        };
        let mut body = Vec::with_capacity(HEAD.len() + entries + 1 + tail);
        body.extend_from_slice(HEAD);
        for (i, store) in page.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&store.json);
        }
        body.push(b']');
        if let Some(marker) = &next_marker {
            body.extend_from_slice(MORE);
            serde_json::to_writer(&mut body, marker).expect("a string always encodes");
        }
        body.extend_from_slice(if next_marker.is_some() {
            TRUNCATED
        } else {
            COMPLETE
        });
        Ok(body)
    }

    fn answer(
        &self,
        ctx: &Context,
        input: &DescribeCustomKeyStoresRequest,
    ) -> Result<Answer, DescribeCustomKeyStoresError> {
        let (filter, filter_scope) =
            match (&input.custom_key_store_id, &input.custom_key_store_name) {
                (Some(id), _) => (Filter::Id(id), format!("id:{id}")),
                (None, Some(name)) => (Filter::Name(name), format!("name:{name}")),
                (None, None) => (Filter::All, String::new()),
            };
        let scope = MarkerScope {
            account: &ctx.account_id,
            region: &ctx.region,
            filter: &filter_scope,
        };
        let after = match &input.marker {
            Some(m) => Some(marker::open(&self.marker_key, &scope, m).map_err(|_| {
                InvalidMarkerException::builder()
                    .message("The marker is not valid for this request: pass the NextMarker of the previous response unchanged, with the same filters.")
                    .build()
            })?),
            None => None,
        };
        let limit = input
            .limit
            .map_or(DEFAULT_PAGE_SIZE, |l| usize::try_from(l).unwrap_or(1))
            .clamp(1, MAX_PAGE_SIZE);
        let page = self
            .storage
            .page_of(
                &ctx.account_id,
                &ctx.region,
                filter,
                after.as_deref(),
                limit,
            )
            .map_err(|e| match e {
                StoreError::NotFound | StoreError::NameTaken | StoreError::UnknownOwner => {
                    let what = match filter {
                        Filter::Id(id) => format!("ID '{id}'"),
                        Filter::Name(name) => format!("name '{name}'"),
                        Filter::All => "the filter".to_owned(),
                    };
                    CustomKeyStoreNotFoundException::builder()
                        .message(format!(
                            "No custom key store with {what} exists in account {} in {}.",
                            ctx.account_id, ctx.region
                        ))
                        .build()
                }
            })?;
        let next_marker = page
            .next
            .as_deref()
            .map(|position| marker::issue(&self.marker_key, &scope, position));
        Ok(Answer { page, next_marker })
    }
}

impl<S: Storage<KeyStore> + ?Sized> Handler<DescribeCustomKeyStores> for StoreHandler<S> {
    async fn handle(
        &self,
        ctx: &Context,
        input: DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse, DescribeCustomKeyStoresError> {
        self.describe(ctx, &input)
    }

    async fn handle_encoded(
        &self,
        ctx: &Context,
        input: DescribeCustomKeyStoresRequest,
    ) -> Result<Vec<u8>, DescribeCustomKeyStoresError> {
        self.describe_encoded(ctx, &input)
    }
}

impl<Op: OperationShape, H: Handler<Op>> Handler<Op> for Arc<H> {
    fn check_input(&self, input: &Op::Input) -> Result<(), String> {
        (**self).check_input(input)
    }

    fn handle(
        &self,
        ctx: &Context,
        input: Op::Input,
    ) -> impl Future<Output = Result<Op::Output, Op::Error>> + Send {
        (**self).handle(ctx, input)
    }

    fn handle_encoded(
        &self,
        ctx: &Context,
        input: Op::Input,
    ) -> impl Future<Output = Result<Vec<u8>, Op::Error>> + Send {
        (**self).handle_encoded(ctx, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::store::{MemoryStore, Owner};
    use kms_types::OperationError;

    fn ctx(account: &str, region: &str) -> Context {
        Context {
            account_id: account.into(),
            region: region.into(),
            principal_arn: "arn:aws:iam::111122223333:user/t".into(),
            request_id: "r".into(),
        }
    }

    fn handler(n: u64) -> StoreHandler<MemoryStore<KeyStore>> {
        let store = MemoryStore::new();
        store
            .bulk_load((1..=n).map(|i| {
                (
                    Owner::new(demo::ACCOUNT_ID, demo::REGION),
                    KeyStore::new(demo::generated_store(i)).unwrap(),
                )
            }))
            .unwrap();
        StoreHandler::new(Arc::new(store), MarkerKey::from_passphrase("test key"))
    }

    #[test]
    fn encoded_pages_are_the_typed_pages_encoded() {
        let h = handler(2500);
        // The demo stores too: certificates with escapes, XKS configurations, every state.
        for (owner, store) in demo::stores().into_iter().map(|e| {
            (
                Owner::new(demo::ACCOUNT_ID, demo::REGION),
                KeyStore::new(e).unwrap(),
            )
        }) {
            h.storage().put(owner, store).unwrap();
        }
        let c = ctx(demo::ACCOUNT_ID, demo::REGION);
        let mut requests = vec![
            DescribeCustomKeyStoresRequest::builder().build(),
            DescribeCustomKeyStoresRequest::builder()
                .custom_key_store_name("store-000007")
                .build(),
            DescribeCustomKeyStoresRequest::builder()
                .custom_key_store_id("cks-nope")
                .build(),
            DescribeCustomKeyStoresRequest::builder()
                .marker("forged")
                .build(),
        ];
        for limit in [1, 7, 1000] {
            let mut marker = None;
            for _ in 0..5 {
                let request = DescribeCustomKeyStoresRequest::builder()
                    .limit(limit)
                    .set_marker(marker.clone())
                    .build();
                marker = h.describe(&c, &request).unwrap().next_marker;
                requests.push(request);
            }
        }
        for request in requests {
            let typed = h
                .describe(&c, &request)
                .map(|r| serde_json::to_vec(&r).unwrap());
            let encoded = h.describe_encoded(&c, &request);
            // Exactly the length when there is no marker (no reallocation later).
            if let Ok(body) = &encoded
                && !String::from_utf8_lossy(body).contains("\"NextMarker\"")
            {
                assert_eq!(body.capacity(), body.len(), "{request:?}");
            }
            assert_eq!(encoded, typed, "{request:?}");
        }
        let stored = KeyStore::new(demo::stores()[0].clone()).unwrap();
        assert_eq!(stored.entry(), demo::stores()[0]);
    }

    fn all(
        h: &StoreHandler<MemoryStore<KeyStore>>,
        c: &Context,
        limit: Option<i32>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let r = h
                .describe(
                    c,
                    &DescribeCustomKeyStoresRequest::builder()
                        .set_limit(limit)
                        .set_marker(marker.take())
                        .build(),
                )
                .unwrap();
            let items = r.custom_key_stores.unwrap();
            out.extend(items.into_iter().map(|s| s.custom_key_store_id.unwrap()));
            assert_eq!(r.truncated, r.next_marker.is_some());
            match r.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        out
    }

    #[test]
    fn default_page_size_is_100_and_pages_cover_everything_once() {
        let h = handler(250);
        let c = ctx(demo::ACCOUNT_ID, demo::REGION);
        let first = h
            .describe(&c, &DescribeCustomKeyStoresRequest::default())
            .unwrap();
        assert_eq!(first.custom_key_stores.unwrap().len(), DEFAULT_PAGE_SIZE);
        assert!(first.truncated);
        let ids = all(&h, &c, Some(7));
        assert_eq!(ids.len(), 250);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn markers_are_bound_to_account_region_and_filter() {
        let h = handler(5);
        let c = ctx(demo::ACCOUNT_ID, demo::REGION);
        let r = h
            .describe(
                &c,
                &DescribeCustomKeyStoresRequest::builder().limit(2).build(),
            )
            .unwrap();
        let m = r.next_marker.unwrap();
        for (other, req) in [
            (
                ctx(demo::OTHER_ACCOUNT_ID, demo::REGION),
                DescribeCustomKeyStoresRequest::builder().marker(&m).build(),
            ),
            (
                ctx(demo::ACCOUNT_ID, "us-west-2"),
                DescribeCustomKeyStoresRequest::builder().marker(&m).build(),
            ),
            (
                c.clone(),
                DescribeCustomKeyStoresRequest::builder()
                    .marker(&m)
                    .custom_key_store_name("store-000001")
                    .build(),
            ),
            (
                c.clone(),
                DescribeCustomKeyStoresRequest::builder()
                    .marker(format!("{m}A"))
                    .build(),
            ),
            (
                c.clone(),
                DescribeCustomKeyStoresRequest::builder()
                    .marker("garbage")
                    .build(),
            ),
        ] {
            let err = h.describe(&other, &req).unwrap_err();
            assert_eq!(err.code(), "InvalidMarkerException");
        }
        let other_key = StoreHandler::new(
            Arc::clone(h.storage()),
            MarkerKey::from_passphrase("another key"),
        );
        let err = other_key
            .describe(
                &c,
                &DescribeCustomKeyStoresRequest::builder().marker(&m).build(),
            )
            .unwrap_err();
        assert_eq!(err.code(), "InvalidMarkerException");
    }

    #[test]
    fn filters_and_not_found() {
        let h = handler(5);
        let c = ctx(demo::ACCOUNT_ID, demo::REGION);
        let id = demo::generated_store(3).custom_key_store_id.unwrap();
        let r = h
            .describe(
                &c,
                &DescribeCustomKeyStoresRequest::builder()
                    .custom_key_store_id(&id)
                    .build(),
            )
            .unwrap();
        assert_eq!(
            r.custom_key_stores.unwrap()[0]
                .custom_key_store_id
                .as_deref(),
            Some(id.as_str())
        );
        assert!(!r.truncated && r.next_marker.is_none());
        let r = h
            .describe(
                &c,
                &DescribeCustomKeyStoresRequest::builder()
                    .custom_key_store_name("store-000004")
                    .build(),
            )
            .unwrap();
        assert_eq!(
            r.custom_key_stores.unwrap()[0]
                .custom_key_store_name
                .as_deref(),
            Some("store-000004")
        );
        for req in [
            DescribeCustomKeyStoresRequest::builder()
                .custom_key_store_id("cks-00000000000000fff")
                .build(),
            DescribeCustomKeyStoresRequest::builder()
                .custom_key_store_name("nope")
                .build(),
        ] {
            assert_eq!(
                h.describe(&c, &req).unwrap_err().code(),
                "CustomKeyStoreNotFoundException"
            );
        }
        // Another account's store is not found by id either.
        let other = ctx(demo::OTHER_ACCOUNT_ID, demo::REGION);
        let req = DescribeCustomKeyStoresRequest::builder()
            .custom_key_store_id(&id)
            .build();
        assert_eq!(
            h.describe(&other, &req).unwrap_err().code(),
            "CustomKeyStoreNotFoundException"
        );
        assert_eq!(all(&h, &other, None), Vec::<String>::new());
    }

    #[test]
    fn paging_survives_adds_and_removes_between_pages() {
        let h = handler(30);
        let c = ctx(demo::ACCOUNT_ID, demo::REGION);
        let owner = Owner::new(demo::ACCOUNT_ID, demo::REGION);
        let r = h
            .describe(
                &c,
                &DescribeCustomKeyStoresRequest::builder().limit(10).build(),
            )
            .unwrap();
        let seen: Vec<String> = r
            .custom_key_stores
            .unwrap()
            .into_iter()
            .map(|s| s.custom_key_store_id.unwrap())
            .collect();
        // Remove the last item shown and one not yet shown; add one after the cursor.
        assert!(h.storage().remove(&owner, &seen[9]));
        let gone = demo::generated_store(20).custom_key_store_id.unwrap();
        assert!(h.storage().remove(&owner, &gone));
        h.storage()
            .put(
                owner.clone(),
                KeyStore::new(demo::generated_store(40)).unwrap(),
            )
            .unwrap();
        let mut marker = r.next_marker;
        let mut rest = Vec::new();
        while let Some(m) = marker.take() {
            let r = h
                .describe(
                    &c,
                    &DescribeCustomKeyStoresRequest::builder()
                        .limit(10)
                        .marker(m)
                        .build(),
                )
                .unwrap();
            rest.extend(
                r.custom_key_stores
                    .unwrap()
                    .into_iter()
                    .map(|s| s.custom_key_store_id.unwrap()),
            );
            marker = r.next_marker;
        }
        let expected: Vec<String> = (11..=30)
            .chain([40])
            .filter(|&i| i != 20)
            .map(|i| demo::generated_store(i).custom_key_store_id.unwrap())
            .collect();
        assert_eq!(rest, expected);
    }
}
