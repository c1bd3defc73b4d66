//! The admin endpoints of the built-in backend, for test setup over HTTP: replace the
//! stores it serves, change how often it fails on purpose, or put back how it started.
//! Off unless asked for (`kms-server --admin`, [`crate::ServerConfig::with_admin_endpoints`]);
//! not signed, not part of KMS.
//!
//! - `GET /_kms-server/stores` says the stores the server serves, as a data file (at
//!   most [`MAX_LISTED_STORES`] of them), to read back or to change and `PUT` again.
//! - `PUT /_kms-server/stores` with a data file's contents (the `--data` format, at most
//!   [`crate::service::MAX_BODY_BYTES`]) serves exactly its stores from the next request
//!   on, checked as a `--data` file is: a body with any fault is refused whole, naming it,
//!   and the stores stay as they were. Answer: `{"StoreCount": N}`.
//! - `PUT /_kms-server/faults` with `{"FailRate": 0.5, "FailFirst": 2, "FailWith":
//!   ["ThrottlingException"], "LatencyMs": 250}` fails the next 2 authenticated requests,
//!   then that fraction of them, and answers each only after that many milliseconds, as
//!   `--fail-rate`, `--fail-first`, `--fail-with` and `--latency-ms` do (`FailWith` left
//!   out: both errors; `FailFirst`, `LatencyMs`: none); `GET` says the current setting
//!   (`FailFirst`: how many are still to fail), in the same form, as the `PUT` answers.
//! - `POST /_kms-server/reset` serves the stores the server started with (its `--data`
//!   file read again, as SIGHUP does, or without one its configuration's stores; any
//!   `--generate-stores` added again), fails as it started failing and forgets the
//!   requests it answered. Answer: `{"StoreCount": N}`.
//! - `GET /_kms-server/requests` says which KMS requests the server answered, oldest
//!   first, and how: the last [`JOURNAL_CAPACITY`] of them, each with its operation,
//!   caller, input and outcome (see [`Journal`]); `DELETE` says the same and forgets them,
//!   in one step. A test checks there what the code under test asked KMS for, and how
//!   often (a retry is a request of its own).
//!
//! This is what editing the `--data` file and sending SIGHUP, or restarting with other
//! flags, does, for a test harness that cannot signal the server: one in another
//! container, or on another machine. As with a reload, requests see the old stores or
//! the new ones, never a mix, and markers handed out before stay valid.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::ServerConfig;
use crate::data::{self, DataError};
use crate::handler::KeyStore;
use crate::service::{
    FaultSetting, InjectedError, InjectedErrors, MAX_LATENCY, MAX_QUOTED, quoted_up_to,
};
use crate::store::MemoryStore;

/// Where the admin endpoints are: every path that starts so.
pub const PREFIX: &str = "/_kms-server/";
/// `PUT`: serve the stores of the body, a data file; `GET`: the stores served, as one.
pub const STORES_PATH: &str = "/_kms-server/stores";
/// `POST`: serve the stores the server started with, and fail as it started failing.
pub const RESET_PATH: &str = "/_kms-server/reset";
/// `GET` or `PUT`: how many requests fail on purpose, and with what
/// (`{"FailRate": 0.5, "FailFirst": 2, "FailWith": ["ThrottlingException"], "LatencyMs": 250}`).
pub const FAULTS_PATH: &str = "/_kms-server/faults";
/// `GET`: the KMS requests the server answered, oldest first; `DELETE`: the same, then
/// forgotten.
pub const REQUESTS_PATH: &str = "/_kms-server/requests";

/// The most stores `GET /_kms-server/stores` says (about 3.3 MB of JSON); a server
/// holding more (`--generate-stores`) refuses it, as the stores then come from a file
/// or a count the harness has.
pub const MAX_LISTED_STORES: usize = 10_000;

/// How many answered requests the [`Journal`] keeps: beyond, the oldest are forgotten
/// (and counted, as `Dropped`).
pub const JOURNAL_CAPACITY: usize = 1000;
/// The largest request body a [`Journal`] entry keeps (its `Input`); of a larger one
/// only the size is kept. KMS's request bodies are a few hundred bytes.
pub const JOURNAL_MAX_BODY: usize = 16 * 1024;
/// The most characters of an error message a [`Journal`] entry keeps (a message may
/// quote a request's value whole), `...` when cut; its `X-Amz-Target` is cut at 128.
pub const JOURNAL_MAX_MESSAGE: usize = 4096;

/// An admin endpoint with its method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    GetStores,
    PutStores,
    Reset,
    GetFaults,
    PutFaults,
    GetRequests,
    DeleteRequests,
}

impl Call {
    /// The endpoints, for a message naming them.
    pub(crate) const LISTED: &str = "GET or PUT /_kms-server/stores (the stores served, as a \
        data file), \
        POST /_kms-server/reset (the stores and faults the server started with), GET or PUT \
        /_kms-server/faults (its fail rate, errors and latency) and GET or DELETE \
        /_kms-server/requests (the requests it answered)";

    /// The call `method` makes on `path`; `Err` with the methods the path takes (an
    /// `Allow` header) when not this one; `None` for a path that is none of them.
    pub(crate) fn of(method: &str, path: &str) -> Option<Result<Self, &'static str>> {
        Some(match (path, method) {
            (STORES_PATH, "GET") => Ok(Self::GetStores),
            (STORES_PATH, "PUT") => Ok(Self::PutStores),
            (STORES_PATH, _) => Err("GET, PUT"),
            (RESET_PATH, "POST") => Ok(Self::Reset),
            (RESET_PATH, _) => Err("POST"),
            (FAULTS_PATH, "GET") => Ok(Self::GetFaults),
            (FAULTS_PATH, "PUT") => Ok(Self::PutFaults),
            (FAULTS_PATH, _) => Err("GET, PUT"),
            (REQUESTS_PATH, "GET") => Ok(Self::GetRequests),
            (REQUESTS_PATH, "DELETE") => Ok(Self::DeleteRequests),
            (REQUESTS_PATH, _) => Err("GET, DELETE"),
            _ => return None,
        })
    }

    /// Its name in the log (`operation="kms-server:PutStores"`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::GetStores => "kms-server:GetStores",
            Self::PutStores => "kms-server:PutStores",
            Self::Reset => "kms-server:Reset",
            Self::GetFaults => "kms-server:GetFaults",
            Self::PutFaults => "kms-server:PutFaults",
            Self::GetRequests => "kms-server:GetRequests",
            Self::DeleteRequests => "kms-server:DeleteRequests",
        }
    }
}

/// The body of `PUT /_kms-server/faults`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsBody {
    #[serde(rename = "FailRate")]
    fail_rate: f64,
    #[serde(rename = "FailFirst", default)]
    fail_first: u64,
    #[serde(rename = "FailWith", default)]
    fail_with: Vec<String>,
    #[serde(rename = "LatencyMs", default)]
    latency_ms: u64,
}

/// A `PUT /_kms-server/faults` body: the fail rate (0 to 1), how many of the next
/// requests fail whatever the rate (none when left out), the errors (every one when none
/// is named) and the latency (none when left out), or what is wrong with it.
pub(crate) fn parse_faults(body: &[u8]) -> Result<FaultSetting, String> {
    let body: FaultsBody = serde_json::from_slice(body).map_err(|e| {
        let expected = r#"expected {"FailRate": 0.5, "FailFirst": 2, "FailWith": ["ThrottlingException"], "LatencyMs": 250}"#;
        format!("{}; {expected}", quoted_up_to(&e.to_string(), MAX_QUOTED))
    })?;
    if !(0.0..=1.0).contains(&body.fail_rate) {
        return Err(format!(
            "FailRate {} is not between 0 and 1",
            body.fail_rate
        ));
    }
    let latency = Duration::from_millis(body.latency_ms);
    if latency > MAX_LATENCY {
        return Err(format!(
            "LatencyMs {} is over {} (5 minutes)",
            body.latency_ms,
            MAX_LATENCY.as_millis()
        ));
    }
    let errors = body
        .fail_with
        .iter()
        .map(|code| code.parse())
        .collect::<Result<Vec<InjectedError>, String>>()
        .map_err(|e| format!("FailWith: {e}"))?;
    Ok(FaultSetting {
        rate: body.fail_rate,
        first: body.fail_first,
        errors: InjectedErrors::of(errors),
        latency,
    })
}

/// `{"FailRate": rate, "FailFirst": n, "FailWith": [...], "LatencyMs": ms}`.
pub(crate) fn faults_json(setting: FaultSetting) -> Vec<u8> {
    serde_json::json!({
        "FailRate": setting.rate,
        "FailFirst": setting.first,
        "FailWith": setting.errors.codes(),
        "LatencyMs": setting.latency.as_millis() as u64,
    })
    .to_string()
    .into_bytes()
}

/// The admin endpoints' view of a server: its configuration and the store it serves.
#[derive(Debug)]
pub struct Admin {
    config: ServerConfig,
    store: Arc<MemoryStore<KeyStore>>,
    /// Held while the stores are changed: one change at a time, as each builds a whole
    /// new set of stores (a million stores take seconds and gigabytes).
    changing: Mutex<()>,
    journal: Journal,
}

/// What an admin request asks for.
#[derive(Debug)]
pub(crate) enum Change {
    /// [`Admin::replace_stores`] with this data file.
    Replace(Bytes),
    /// [`Admin::reset`].
    Reset,
}

impl Admin {
    /// Admin endpoints changing `store`, which serves `config`'s accounts and regions.
    pub fn new(config: ServerConfig, store: Arc<MemoryStore<KeyStore>>) -> Self {
        Self {
            config,
            store,
            changing: Mutex::new(()),
            journal: Journal::default(),
        }
    }

    /// The requests the server answered (`GET /_kms-server/requests`).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Carries out `change`, on tokio on a thread where blocking is allowed: the
    /// server's other requests do not wait for it.
    pub(crate) async fn apply(self: Arc<Self>, change: Change) -> Result<usize, DataError> {
        let work = move || match change {
            Change::Replace(file) => self.replace_stores(&file),
            Change::Reset => self.reset(),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(work)
                .await
                .unwrap_or_else(|e| Err(DataError(format!("the change did not finish: {e}")))),
            // Not on tokio (an embedder's executor): here and now.
            Err(_) => work(),
        }
    }

    /// The stores served, as a data file (`{"Stores": [{"AccountId", "Region",
    /// "CustomKeyStores": [...]}]}`, accounts and regions in order, each one's stores by
    /// id), which `PUT /_kms-server/stores` takes back; or, past [`MAX_LISTED_STORES`],
    /// why not.
    pub fn stores_json(&self) -> Result<Vec<u8>, String> {
        let all = self.store.snapshot(MAX_LISTED_STORES).map_err(|n| {
            format!(
                "the server serves {n} stores, more than the {MAX_LISTED_STORES} GET \
                 /_kms-server/stores lists; they came from its --data file or \
                 --generate-stores"
            )
        })?;
        let mut said = b"{\"Stores\":[".to_vec();
        for (n, (owner, stores)) in all.iter().enumerate() {
            if n > 0 {
                said.push(b',');
            }
            let group = serde_json::json!({"AccountId": owner.account, "Region": owner.region});
            let group = group.to_string();
            // `{"AccountId":...,"Region":...` then the entries, each as it is served.
            said.extend_from_slice(&group.as_bytes()[..group.len() - 1]);
            said.extend_from_slice(b",\"CustomKeyStores\":[");
            for (i, store) in stores.iter().enumerate() {
                if i > 0 {
                    said.push(b',');
                }
                said.extend_from_slice(store.json());
            }
            said.extend_from_slice(b"]}");
        }
        said.extend_from_slice(b"]}");
        Ok(said)
    }

    /// The fail rate, errors and latency the server started with, which a reset puts
    /// back.
    pub(crate) fn starting_faults(&self) -> FaultSetting {
        FaultSetting {
            rate: self.config.fail_rate(),
            first: self.config.failing_first(),
            errors: self.config.injected,
            latency: self.config.latency(),
        }
    }

    /// Serves exactly the stores of `file`, a data file's contents; returns how many.
    /// A file with any fault changes nothing.
    pub fn replace_stores(&self, file: &[u8]) -> Result<usize, DataError> {
        let _one_at_a_time = self.changing.lock().unwrap_or_else(PoisonError::into_inner);
        let stores = data::parse(file)?;
        (self.config.clone().with_key_stores(stores)).replace_stores_in(&self.store)
    }

    /// Serves the stores the server started with: its `--data` file read again, or its
    /// configuration's stores (with the generated ones either way); returns how many. A
    /// data file that now has a fault changes nothing.
    pub fn reset(&self) -> Result<usize, DataError> {
        let _one_at_a_time = self.changing.lock().unwrap_or_else(PoisonError::into_inner);
        match self.config.reload_data()? {
            Some(fresh) => fresh.replace_stores_in(&self.store),
            None => self.config.replace_stores_in(&self.store),
        }
    }
}

/// One KMS request as the server answered it: an entry of the [`Journal`].
#[derive(Debug, Clone)]
pub struct Answered {
    /// Its `x-amzn-RequestId`.
    pub request_id: String,
    /// When it was answered (set by [`Begun::record`]).
    pub time: SystemTime,
    /// Its query string, when it has one ([`masked_query`]): the pagination members
    /// can come there, and a presigned request's signature.
    pub query: Option<String>,
    /// Its `X-Amz-Target` header, as sent (`None` without one), cut at 128 characters.
    pub target: Option<String>,
    /// The operation it was routed to (`None` when it named none the server routes).
    pub operation: Option<&'static str>,
    /// The access key id it claimed to be signed with, checked or not.
    pub access_key_id: Option<String>,
    /// The account whose credentials signed it, once its signature was checked.
    pub account: Option<Arc<str>>,
    /// The region it was signed for, once its signature was checked.
    pub region: Option<String>,
    /// Its body, when it was read and holds at most [`JOURNAL_MAX_BODY`] bytes (an
    /// empty one is left out of the entry's JSON, as is a body never read).
    pub body: Option<Bytes>,
    /// The size of its body, when it was read.
    pub body_bytes: Option<usize>,
    /// The HTTP status it was answered with.
    pub status: u16,
    /// The error code (`__type`) it was answered with; `None` on success.
    pub error_code: Option<&'static str>,
    /// The error message it was answered with, cut at [`JOURNAL_MAX_MESSAGE`] characters.
    pub error_message: Option<String>,
    /// Whether its error was injected (`--fail-rate`, `--fail-first`), not its own.
    pub injected: bool,
    /// Its `amz-sdk-invocation-id` header, which an AWS SDK keeps across the retries of
    /// one call, cut at 128 characters.
    pub sdk_invocation_id: Option<String>,
    /// Its `amz-sdk-request` header (`attempt=2; max=3`), cut at 128 characters.
    pub sdk_request: Option<String>,
}

impl Answered {
    /// The entry as `GET /_kms-server/requests` writes it: member names as KMS writes
    /// them, absent ones left out, `Time` in epoch seconds (as awsJson timestamps are),
    /// a JSON body as `Input` (its text as sent, so numbers beyond 64 bits and repeated
    /// members come back as the client wrote them), and another body as text (`Body`).
    fn write_json(&self, out: &mut Vec<u8>) {
        let millis = self
            .time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let body = self.body.as_deref().filter(|b| !b.is_empty());
        let input = body
            .filter(|b| serde_json::from_slice::<Readable>(b).is_ok())
            .and_then(|b| serde_json::from_slice::<&RawValue>(b).ok());
        let entry = JournalEntry {
            request_id: &self.request_id,
            time: millis as f64 / 1000.0,
            target: self.target.as_deref(),
            query: self.query.as_deref(),
            operation: self.operation,
            access_key_id: self.access_key_id.as_deref(),
            account: self.account.as_deref(),
            region: self.region.as_deref(),
            input,
            body: body
                .filter(|_| input.is_none())
                .map(String::from_utf8_lossy),
            body_bytes: self.body_bytes,
            status: self.status,
            error_code: self.error_code,
            error_message: self.error_message.as_deref(),
            injected: self.injected,
            sdk_invocation_id: self.sdk_invocation_id.as_deref(),
            sdk_request: self.sdk_request.as_deref(),
        };
        // Writing to a `Vec` does not fail, nor do these members.
        let _ = serde_json::to_writer(out, &entry);
    }
}

/// A JSON text that JSON readers take, read without keeping it: a `RawValue` only skips
/// over its value, so it takes a lone surrogate (`"\ud800"`), a number beyond `f64`
/// (`1e400`) and nesting deeper than serde_json reads (128), which, written as `Input`,
/// would leave the whole journal unreadable to serde_json (and to Python's `json`, the
/// nesting); such a body is kept as text instead. Strings, numbers and depth are read as
/// serde_json's `Value` reads them.
struct Readable;

impl<'de> serde::Deserialize<'de> for Readable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Readable)
    }
}

impl<'de> serde::de::Visitor<'de> for Readable {
    type Value = Readable;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_str<E>(self, _: &str) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_unit<E>(self) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Readable, A::Error> {
        while seq.next_element::<Readable>()?.is_some() {}
        Ok(Readable)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Readable, A::Error> {
        while map.next_entry::<Readable, Readable>()?.is_some() {}
        Ok(Readable)
    }
}

/// An [`Answered`] as the journal writes it, in this order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JournalEntry<'a> {
    request_id: &'a str,
    time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_bytes: Option<usize>,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    injected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sdk_invocation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sdk_request: Option<&'a str>,
}

/// A request's query string as a journal entry keeps it: at most 1,024 characters, and
/// the values of `X-Amz-Signature` and `X-Amz-Security-Token` (a presigned request's
/// credentials, for as long as it is current) replaced by `****`; their names are
/// matched percent-decoded, as the SigV4 parser reads them (`X-Amz-%53ignature`).
pub fn masked_query(query: &str) -> String {
    let is_secret = |name: &str| {
        let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
        name.eq_ignore_ascii_case("X-Amz-Signature")
            || name.eq_ignore_ascii_case("X-Amz-Security-Token")
    };
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}=****"),
            _ => pair.to_owned(),
        })
        .collect();
    quoted_up_to(&masked.join("&"), 1024).into_owned()
}

/// The KMS requests the server answered, the last [`JOURNAL_CAPACITY`] of them, oldest
/// first (health probes and the admin endpoints' own requests are not kept). A
/// request is entered before its answer is sent: a client that has its answer finds it
/// here. One begun before the journal was cleared ([`Self::clear`], a reset) is not
/// entered when answered: a test that resets finds only its own requests, not those a
/// slow answer (`LatencyMs`) kept in flight past a client that gave up.
#[derive(Debug, Default)]
pub struct Journal {
    kept: Mutex<Kept>,
    /// Bumped by [`Self::clear`]: requests begun before are not entered.
    generation: AtomicU64,
    in_flight: AtomicU64,
}

#[derive(Debug, Default)]
struct Kept {
    entries: VecDeque<Answered>,
    /// Entries forgotten to keep within the capacity, since the journal was last emptied.
    dropped: u64,
}

/// A request being answered, as the [`Journal`] counts it: in flight until entered with
/// [`Begun::record`], or dropped unanswered.
#[derive(Debug)]
pub struct Begun<'j> {
    journal: &'j Journal,
    generation: u64,
}

impl Begun<'_> {
    /// Enters the request, answered, forgetting the oldest beyond [`JOURNAL_CAPACITY`] (not
    /// when the journal was cleared since it began). Its `time` is set here, so that
    /// entries listed later are never earlier.
    pub fn record(self, mut answered: Answered) {
        let journal = self.journal;
        let mut kept = journal.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation != journal.generation.load(Ordering::Relaxed) {
            return;
        }
        answered.time = SystemTime::now();
        if kept.entries.len() == JOURNAL_CAPACITY {
            kept.entries.pop_front();
            kept.dropped += 1;
        }
        kept.entries.push_back(answered);
    }
}

impl Drop for Begun<'_> {
    fn drop(&mut self) {
        self.journal.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Journal {
    /// A request begins: counted in flight until it is entered or dropped.
    pub fn begin(&self) -> Begun<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Begun {
            journal: self,
            generation: self.generation.load(Ordering::Relaxed),
        }
    }

    /// How many requests have begun and are not yet answered (or given up).
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The requests entered, oldest first, and how many were forgotten since the
    /// journal was last emptied; with `empty`, the journal is emptied in the same step.
    pub fn entries(&self, empty: bool) -> (Vec<Answered>, u64) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if empty {
            let kept = std::mem::take(&mut *kept);
            (kept.entries.into(), kept.dropped)
        } else {
            (kept.entries.iter().cloned().collect(), kept.dropped)
        }
    }

    /// Forgets every request, and those in flight now once they are answered.
    pub fn clear(&self) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        *kept = Kept::default();
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// `{"Requests": [...], "Dropped": n, "InFlight": n}`: the body of `GET
    /// /_kms-server/requests`.
    pub(crate) fn to_json(&self, empty: bool) -> Vec<u8> {
        let (entries, dropped) = self.entries(empty);
        let mut said = b"{\"Requests\":[".to_vec();
        for (n, entry) in entries.iter().enumerate() {
            if n > 0 {
                said.push(b',');
            }
            entry.write_json(&mut said);
        }
        let in_flight = self.in_flight();
        said.extend_from_slice(
            format!("],\"Dropped\":{dropped},\"InFlight\":{in_flight}}}").as_bytes(),
        );
        said
    }
}

/// `{"StoreCount": n}`.
pub(crate) fn store_count(n: usize) -> Vec<u8> {
    format!("{{\"StoreCount\":{n}}}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Filter, Owner, Record, Storage};

    fn ids(store: &MemoryStore<KeyStore>, owner: &Owner) -> Vec<String> {
        store
            .page(owner, Filter::All, None, 1000)
            .map(|p| p.items.iter().map(|r| r.id().to_owned()).collect())
            .unwrap_or_default()
    }

    fn demo_admin() -> (Admin, Owner) {
        let config = ServerConfig::demo();
        let (_, store) = config.router_and_store().expect("demo stores load");
        let owner = config.generated_stores_owner();
        (Admin::new(config, store), owner)
    }

    const ONE_STORE: &str = r#"{"Stores": [{"AccountId": "111122223333", "Region": "us-east-1",
        "CustomKeyStores": [{"CustomKeyStoreId": "cks-00000000000000001",
            "CustomKeyStoreName": "only", "CustomKeyStoreType": "AWS_CLOUDHSM",
            "CloudHsmClusterId": "cluster-234567abcde", "TrustAnchorCertificate": "cert",
            "ConnectionState": "CONNECTED"}]}]}"#;

    fn answered(request_id: &str) -> Answered {
        Answered {
            request_id: request_id.to_owned(),
            time: SystemTime::now(),
            target: None,
            query: None,
            operation: None,
            access_key_id: None,
            account: None,
            region: None,
            body: None,
            body_bytes: None,
            status: 200,
            error_code: None,
            error_message: None,
            injected: false,
            sdk_invocation_id: None,
            sdk_request: None,
        }
    }

    /// A request begun before the journal is cleared is not entered once answered; one
    /// begun after is. Both count in flight until answered, or dropped unanswered.
    #[test]
    fn a_clear_forgets_the_requests_in_flight() {
        let journal = Journal::default();
        let before = journal.begin();
        let abandoned = journal.begin();
        journal.clear();
        let after = journal.begin();
        assert_eq!(journal.in_flight(), 3);
        before.record(answered("before"));
        drop(abandoned);
        after.record(answered("after"));
        assert_eq!(journal.in_flight(), 0);
        let (entries, dropped) = journal.entries(false);
        let ids: Vec<&str> = entries.iter().map(|e| e.request_id.as_str()).collect();
        assert_eq!((ids, dropped), (vec!["after"], 0));
    }

    #[test]
    fn replace_then_reset() {
        let (admin, owner) = demo_admin();
        let demo_ids = ids(&admin.store, &owner);
        assert!(demo_ids.len() > 1, "{demo_ids:?}");
        assert_eq!(admin.replace_stores(ONE_STORE.as_bytes()), Ok(1));
        assert_eq!(ids(&admin.store, &owner), ["cks-00000000000000001"]);
        assert_eq!(admin.reset(), Ok(ServerConfig::demo().stores().len()));
        assert_eq!(ids(&admin.store, &owner), demo_ids);
    }

    #[test]
    fn a_faulty_file_changes_nothing() {
        let (admin, owner) = demo_admin();
        let before = ids(&admin.store, &owner);
        let elsewhere = ONE_STORE.replace("us-east-1", "eu-west-1");
        assert!(
            !admin
                .config
                .serves(&Owner::new("111122223333", "eu-west-1"))
        );
        for (file, says) in [
            ("{", "ends too soon"),
            (elsewhere.as_str(), "eu-west-1"),
            (&ONE_STORE.replace("CONNECTED", "ON"), "connectionState"),
        ] {
            let err = admin.replace_stores(file.as_bytes()).unwrap_err();
            assert!(err.0.contains(says), "{says}: {err}");
            assert_eq!(ids(&admin.store, &owner), before);
        }
    }

    /// A change runs off the runtime's threads: while one waits (here for the lock a
    /// thread holds, as a change of a million stores takes seconds), the runtime, a
    /// single thread here, goes on serving. Run on it, the change would block that thread
    /// until the lock is released (after 30 s) and finish first.
    #[tokio::test(flavor = "current_thread")]
    async fn a_change_leaves_the_runtime_free() {
        let (admin, _) = demo_admin();
        let admin = Arc::new(admin);
        let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let holder = {
            let admin = Arc::clone(&admin);
            std::thread::spawn(move || {
                let _held = admin.changing.lock().unwrap();
                locked.0.send(()).unwrap();
                let _ = release.1.recv_timeout(std::time::Duration::from_secs(30));
            })
        };
        locked.1.recv().unwrap();
        let change = tokio::spawn(Arc::clone(&admin).apply(Change::Reset));
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            !change.is_finished(),
            "the change ran on the runtime's thread"
        );
        release.0.send(()).unwrap();
        holder.join().unwrap();
        assert_eq!(
            change.await.unwrap(),
            Ok(ServerConfig::demo().stores().len())
        );
    }
}
