//! Fluent builders and the paginator.

use std::any::Any;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use kms_types::validation::Shown;
use kms_types::{
    CustomKeyStoresListEntry, DescribeCustomKeyStores, DescribeCustomKeyStoresRequest,
    DescribeCustomKeyStoresResponse, OperationShape, Paginated, Validate,
};

use crate::client::Client;
use crate::error::Error;

/// A fluent call of `DescribeCustomKeyStores`.
#[derive(Debug, Clone)]
pub struct DescribeCustomKeyStoresFluent {
    client: Client,
    input: DescribeCustomKeyStoresRequest,
}

impl DescribeCustomKeyStoresFluent {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            input: DescribeCustomKeyStoresRequest::default(),
        }
    }

    /// Only the store with this id (`cks-` + 17 hex digits).
    pub fn custom_key_store_id(mut self, id: impl Into<String>) -> Self {
        self.input.custom_key_store_id = Some(id.into());
        self
    }
    /// Sets or clears the id filter.
    pub fn set_custom_key_store_id(mut self, id: Option<String>) -> Self {
        self.input.custom_key_store_id = id;
        self
    }
    /// Only the store with this friendly name.
    pub fn custom_key_store_name(mut self, name: impl Into<String>) -> Self {
        self.input.custom_key_store_name = Some(name.into());
        self
    }
    /// Sets or clears the name filter.
    pub fn set_custom_key_store_name(mut self, name: Option<String>) -> Self {
        self.input.custom_key_store_name = name;
        self
    }
    /// At most this many stores per page (1..=1000).
    pub fn limit(mut self, limit: i32) -> Self {
        self.input.limit = Some(limit);
        self
    }
    /// Sets or clears the page size.
    pub fn set_limit(mut self, limit: Option<i32>) -> Self {
        self.input.limit = limit;
        self
    }
    /// Start at this marker (a `NextMarker` from a previous page).
    pub fn marker(mut self, marker: impl Into<String>) -> Self {
        self.input.marker = Some(marker.into());
        self
    }
    /// Sets or clears the marker.
    pub fn set_marker(mut self, marker: Option<String>) -> Self {
        self.input.marker = marker;
        self
    }
    /// The input as built so far.
    pub fn as_input(&self) -> &DescribeCustomKeyStoresRequest {
        &self.input
    }

    /// Sends one request.
    ///
    /// The future is boxed here, so that the request path is compiled once, in this
    /// crate, instead of again in every crate that awaits it.
    pub fn send(
        self,
    ) -> impl Future<Output = Result<DescribeCustomKeyStoresResponse, Error>> + Send + 'static {
        let future: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
            self.client
                .call::<DescribeCustomKeyStores>(&self.input)
                .await
        });
        future
    }

    /// Pages through all results, starting at the marker set (if any).
    pub fn into_paginator(self) -> Paginator<DescribeCustomKeyStores> {
        Paginator::new(self.client, self.input)
    }
}

/// A stream of pages of a paginated operation — any operation the generator marks
/// [`Paginated`] (`@paginated` in the model), through the tokens its descriptor names.
/// It stops after a page without a (non-empty) next token — for
/// `DescribeCustomKeyStores` also after one with `Truncated == false`, the only stop
/// kms-client knows beyond the tokens — and ends with [`Error::RepeatedMarker`] when
/// the service hands out a token it already gave, and with [`Error::InvalidMarker`]
/// when it hands out one the operation's input would refuse (longer than the model
/// allows, say): the fault is the service's, not the caller's.
///
/// How more pages are known is not a hook: an operation imported into kms-types, or
/// generated in your own crate, stops on its tokens alone.
///
/// ```compile_fail
/// // no such hook: which operations stop on more than their tokens is kms-client's
/// use kms_client::MoreResults;
/// ```
pub struct Paginator<Op: Paginated> {
    pages: BoxStream<'static, Result<Op::Output, Error>>,
}

impl<Op: Paginated> std::fmt::Debug for Paginator<Op> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginator")
            .field("operation", &Op::OPERATION.name)
            .finish_non_exhaustive()
    }
}

struct PageState<Op: OperationShape> {
    client: Client,
    input: Op::Input,
    seen: HashSet<String>,
    /// Whether the caller's own input is valid, so that a violation in the next page's
    /// input can only be its token's.
    input_valid: bool,
    pending_error: Option<Error>,
    done: bool,
}

/// Sets the token the service returned as the next page's input, or says why the
/// pagination stops.
fn advance<Op: Paginated>(st: &mut PageState<Op>, token: &str) -> Result<(), Error> {
    if !st.seen.insert(token.to_owned()) {
        return Err(Error::RepeatedMarker {
            operation: Op::OPERATION.name,
            marker: token.to_owned(),
        });
    }
    Op::set_input_token(&mut st.input, Some(token.to_owned()));
    if !st.input_valid {
        return Ok(());
    }
    match st.input.validate() {
        Ok(()) => Ok(()),
        Err(e) => Err(Error::InvalidMarker {
            operation: Op::OPERATION.name,
            chars: token.chars().count(),
            // The marker itself may be megabytes long: the violations without it.
            reason: e
                .violations()
                .iter()
                .map(|v| {
                    let mut v = v.clone();
                    v.value = Shown::Redacted;
                    v.to_string()
                })
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// Whether the service says more results remain, beyond [`Paginated`]'s tokens (the
/// generated `Pagination` descriptor does not name a member such as `Truncated`):
/// `Some(false)` when it said this is the last page. The [`Paginator`] is generic over
/// any [`Paginated`] operation, so this goes by the output type (one `downcast_ref`
/// each: add the next one here); `None` (stop on the token alone) for every other.
fn more_results<Output: 'static>(output: &Output) -> Option<bool> {
    let output: &dyn Any = output;
    output
        .downcast_ref::<DescribeCustomKeyStoresResponse>()
        .map(|output| output.truncated)
}

impl<Op> Paginator<Op>
where
    Op: Paginated + Send + 'static,
    Op::Item: Send + 'static,
{
    /// Pages of `Op` starting from `input` (its token, if set, is the first marker).
    pub fn new(client: Client, input: Op::Input) -> Self {
        let mut seen = HashSet::new();
        if let Some(t) = Op::input_token(&input) {
            seen.insert(t.to_owned());
        }
        let state = PageState::<Op> {
            client,
            input_valid: input.validate().is_ok(),
            input,
            seen,
            pending_error: None,
            done: false,
        };
        let pages = stream::unfold(state, |mut st| async move {
            if let Some(e) = st.pending_error.take() {
                st.done = true;
                return Some((Err(e), st));
            }
            if st.done {
                return None;
            }
            match st.client.call::<Op>(&st.input).await {
                Err(e) => {
                    st.done = true;
                    Some((Err(e), st))
                }
                Ok(page) => {
                    let next = Op::output_token(&page).filter(|t| !t.is_empty());
                    match (more_results(&page), next) {
                        (Some(false), _) | (_, None) => st.done = true,
                        (_, Some(token)) => {
                            let token = token.to_owned();
                            st.pending_error = advance(&mut st, &token).err();
                        }
                    }
                    Some((Ok(page), st))
                }
            }
        })
        .boxed();
        Self { pages }
    }

    /// The entries of every page, in order.
    pub fn items(self) -> BoxStream<'static, Result<Op::Item, Error>> {
        self.pages
            .map_ok(|page| stream::iter(Op::into_items(page).into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// The pages (the paginator is itself a stream of pages; this is for symmetry
    /// with the AWS SDK's `send()`).
    pub fn send(self) -> Self {
        self
    }
}

impl<Op: Paginated> Stream for Paginator<Op> {
    type Item = Result<Op::Output, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.pages.poll_next_unpin(cx)
    }
}

/// The entry type of `DescribeCustomKeyStores` pages, for readers of [`Paginator::items`].
pub type CustomKeyStoreItem = CustomKeyStoresListEntry;
