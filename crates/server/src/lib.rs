//! `kms-server`: a local AWS KMS endpoint for custom key stores
//! (`DescribeCustomKeyStores`) that the AWS SDKs and CLI call unchanged —
//! awsJson 1.1 over HTTP/1.1, SigV4-signed, with accounts and permissions from a
//! TOML file.
//!
//! As a library: [`serve`] a [`ServerConfig`], or plug your own backend by
//! implementing [`handler::Handler`] for an operation and serving a [`Router`] with
//! [`serve_router`]. The server runs until [`RunningServer::shutdown`], or until its
//! `RunningServer` is dropped. A test in another process (or language) changes the
//! stores and the faults of a running server, and reads which requests it answered,
//! over HTTP through the [`admin`] endpoints ([`ServerConfig::with_admin_endpoints`],
//! `kms-server --admin`).
//!
//! A test's own stores, in-process (the types are [`kms_types`]', re-exported here):
//!
//! ```
//! use kms_server::kms_types::{
//!     ConnectionErrorCodeType, ConnectionStateType, CustomKeyStoreType, CustomKeyStoresListEntry,
//!     XksProxyConfigurationType, XksProxyConnectivityType,
//! };
//! use kms_server::{KeyStore, ServerConfig, demo, store::Owner};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let failing = CustomKeyStoresListEntry::builder()
//!     .custom_key_store_id("cks-0123456789abcdef0")
//!     .custom_key_store_name("my-failing-store")
//!     .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
//!     // An external key store always has its proxy's configuration.
//!     .xks_proxy_configuration(
//!         XksProxyConfigurationType::builder()
//!             .connectivity(XksProxyConnectivityType::PublicEndpoint)
//!             .access_key_id("ABCDE234567EXAMPLE22")
//!             .uri_endpoint("https://xks.example.com")
//!             .uri_path("/kms/xks/v1")
//!             .build(),
//!     )
//!     .connection_state(ConnectionStateType::Failed)
//!     .connection_error_code(ConnectionErrorCodeType::XksProxyTimedOut)
//!     .build();
//! // The demo accounts and regions, with these stores instead of the demo ones.
//! let config = ServerConfig::demo().with_key_stores(vec![(
//!     Owner::new(demo::ACCOUNT_ID, demo::REGION),
//!     KeyStore::new(failing)?,
//! )]);
//! // Port 0: a free port; `endpoint()` says which. Stores no request could reach are
//! // an error here (and one KMS could not return is refused by `KeyStore::new`).
//! let server = kms_server::serve(config, "127.0.0.1:0".parse()?).await?;
//! println!("{}", server.endpoint()); // e.g. http://127.0.0.1:41361
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
pub mod config;
mod connections;
pub mod data;
pub mod demo;
pub mod handler;
mod hash;
pub mod logging;
pub mod marker;
pub mod router;
pub mod service;
pub mod sigv4;
pub mod store;
pub mod tls;
mod write_timeout;

/// What the fuzz targets (`fuzz/`) call that is not public otherwise; not part of the
/// public API.
#[doc(hidden)]
pub mod __fuzz {
    /// The access key id a refused request's log line names
    /// (`sigv4::claimed_access_key`).
    pub fn claimed_access_key(headers: &http::HeaderMap, query: Option<&str>) -> Option<String> {
        crate::sigv4::claimed_access_key(headers, query)
    }
}

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulConnection;
use hyper_util::service::TowerToHyperService;
use kms_types::DescribeCustomKeyStores;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{ConfigError, Directory, FileConfig};
pub use data::DataError;
pub use handler::{
    Context, DEFAULT_PAGE_SIZE, Handler, InvalidKeyStore, KeyStore, MAX_PAGE_SIZE, StoreHandler,
};
/// The generated types the server speaks (its stores are [`kms_types::CustomKeyStoresListEntry`]s).
pub use kms_types;
pub use router::Router;
pub use service::{FaultInjection, InjectedError, KmsService};
pub use tls::{TlsConfig, TlsError};

use connections::{Connections, Slot};
use marker::MarkerKey;
use store::{MemoryStore, Owner, Record};
use write_timeout::WriteTimeout;

/// Default listen address of the `kms-server` binary.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4599";
/// Default time a client has to send a request's headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for in-flight requests on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Default time a client may leave a response's bytes untaken before its connection is
/// closed.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of connections served at once; more wait to be accepted.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default number of bytes of request bodies held at once, all connections together
/// (64 MiB); more wait for their share ([`ServerConfig::with_max_body_memory`]).
pub const DEFAULT_MAX_BODY_MEMORY: usize = 64 * 1024 * 1024;
/// hyper's `max_buf_size` for a connection's read buffer: a request head not complete
/// within it gets `431` (KMS requests need about 2 KiB); one read can take the buffer to
/// about twice this before the check. The body streams through.
const MAX_READ_BUFFER: usize = 64 * 1024;

/// What a server serves: accounts and keys, regions, stores, marker key, faults.
/// `Debug` leaves out the secrets and shows the stores' count.
#[derive(Clone)]
pub struct ServerConfig {
    file: FileConfig,
    stores: Arc<Vec<(Owner, KeyStore)>>,
    /// The `--data` file the stores came from, for [`ServerConfig::reload_data`].
    data_file: Option<std::path::PathBuf>,
    /// The first store of [`ServerConfig::with_key_stores`] that no request could reach
    /// or that KMS could not return: serving it is an error.
    fault: Option<String>,
    /// How many generated stores were added, and the number of the last one.
    generated: usize,
    last_generated: u64,
    fail_rate: f64,
    failing_first: u64,
    injected: service::InjectedErrors,
    latency: Duration,
    marker_key: Option<String>,
    header_read_timeout: Duration,
    write_timeout: Duration,
    max_connections: usize,
    max_body_memory: usize,
    tls: Option<TlsConfig>,
    /// Whether [`Self::router_and_store`] serves the admin endpoints.
    admin_endpoints: bool,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("file", &self.file)
            .field("stores", &self.stores.len())
            .field("data_file", &self.data_file)
            .field("fault", &self.fault)
            .field("generated", &self.generated)
            .field("last_generated", &self.last_generated)
            .field("fail_rate", &self.fail_rate)
            .field("failing_first", &self.failing_first)
            .field("injected", &self.injected)
            .field("latency", &self.latency)
            .field(
                "marker_key",
                &self.marker_key.as_ref().map(|_| "** redacted **"),
            )
            .field("header_read_timeout", &self.header_read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_body_memory", &self.max_body_memory)
            .field("tls", &self.tls)
            .field("admin_endpoints", &self.admin_endpoints)
            .finish()
    }
}

impl ServerConfig {
    /// Accounts, keys and regions from `file`, no stores.
    pub fn new(file: FileConfig) -> Self {
        Self {
            file,
            stores: Arc::new(Vec::new()),
            data_file: None,
            fault: None,
            generated: 0,
            last_generated: 0,
            fail_rate: 0.0,
            failing_first: 0,
            injected: service::InjectedErrors::all(),
            latency: Duration::ZERO,
            marker_key: None,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_body_memory: DEFAULT_MAX_BODY_MEMORY,
            tls: None,
            admin_endpoints: false,
        }
    }

    /// The demo: the accounts of [`demo`], regions us-east-1 and us-west-2, and the
    /// compiled-in demo stores.
    pub fn demo() -> Self {
        let stores = demo::all_stores()
            .into_iter()
            .map(|(owner, entry)| {
                (
                    owner,
                    KeyStore::new(entry).expect("demo stores have ids and names"),
                )
            })
            .collect();
        Self::new(FileConfig::demo()).with_key_stores(stores)
    }

    /// Replaces the stores with the demo stores this configuration serves (those of its
    /// accounts, in its regions): what `kms-server --config FILE` starts with.
    pub fn with_demo_stores(self) -> Self {
        let reach = Reach::of(&self);
        let stores = Self::demo()
            .stores()
            .iter()
            .filter(|(owner, _)| reach.why_not(owner).is_none())
            .cloned()
            .collect();
        self.with_key_stores(stores)
    }

    /// Replaces the stores (e.g. with those of [`data::load`]); they no longer come from
    /// a data file, so [`Self::reload_data`] has nothing to read.
    ///
    /// They are checked as a `--data` file's are. A store of an account this
    /// configuration does not have, or in a region it does not serve (no request could
    /// reach it), makes [`Self::memory_store`], [`Self::router`] and [`serve`] fail,
    /// naming the store and what is wrong with it. (A store KMS could not return is
    /// refused sooner, by [`KeyStore::new`].)
    pub fn with_key_stores(mut self, stores: Vec<(Owner, KeyStore)>) -> Self {
        self.fault = self.first_fault(&stores);
        self.stores = Arc::new(stores);
        self.data_file = None;
        self
    }

    /// The first of `stores` that no request could reach, and why. (Every [`KeyStore`]
    /// is one KMS could return: [`KeyStore::new`] checks it.)
    fn first_fault(&self, stores: &[(Owner, KeyStore)]) -> Option<String> {
        let reach = Reach::of(self);
        stores.iter().enumerate().find_map(|(i, (owner, store))| {
            // `why` names the account and region.
            let why = reach.why_not(owner)?;
            Some(format!("store {} (id '{}'): {why}", i + 1, store.id()))
        })
    }

    /// Whether a request can reach `owner`'s stores: its account is configured and its
    /// region served.
    pub fn serves(&self, owner: &Owner) -> bool {
        Reach::of(self).why_not(owner).is_none()
    }

    /// Replaces the stores with those of a `--data` file, refusing stores in a region
    /// this configuration does not serve or of an account it does not have.
    pub fn with_data_file(mut self, path: &Path) -> Result<Self, DataError> {
        let stores = data::load(path)?;
        let reach = Reach::of(&self);
        if let Some(why) = stores.iter().find_map(|(o, _)| reach.why_not(o)) {
            return Err(DataError(format!("{}: {why}", path.display())));
        }
        // `data::load` checked every entry.
        self.stores = Arc::new(stores);
        self.fault = None;
        self.data_file = Some(path.to_owned());
        Ok(self)
    }

    /// The `--data` file the stores were read from, if any.
    pub fn data_file(&self) -> Option<&Path> {
        self.data_file.as_deref()
    }

    /// This configuration with its `--data` file read again (and the generated stores
    /// added again): what the `kms-server` binary serves after SIGHUP. `Ok(None)` when
    /// the stores did not come from a file. A file with any fault is an error, and
    /// nothing changes.
    pub fn reload_data(&self) -> Result<Option<Self>, DataError> {
        let Some(path) = &self.data_file else {
            return Ok(None);
        };
        let mut fresh = self.clone();
        fresh.generated = 0;
        fresh.last_generated = 0;
        Ok(Some(
            fresh
                .with_data_file(path)?
                .with_generated_stores(self.generated),
        ))
    }

    /// Where generated stores go: the configuration's first account, in its first
    /// region (for the demo, account 111122223333 in us-east-1).
    pub fn generated_stores_owner(&self) -> Owner {
        Owner::new(
            self.file
                .accounts
                .first()
                .map_or(demo::ACCOUNT_ID, |a| a.id.as_str()),
            self.file
                .regions
                .first()
                .map_or(demo::REGION, String::as_str),
        )
    }

    /// Adds `n` generated valid stores (ids `cks-<17 hex>`, names `store-000001`...)
    /// for [`Self::generated_stores_owner`]. A number whose id or name one of that
    /// owner's stores already has is skipped, so that every store stays.
    ///
    /// A configuration without accounts has no owner for them: [`Self::memory_store`],
    /// [`Self::router`] and [`serve`] then fail, saying so.
    pub fn with_generated_stores(mut self, n: usize) -> Self {
        let owner = self.generated_stores_owner();
        if n > 0 && self.fault.is_none() {
            // Without accounts, the owner is the demo account, which no request reaches.
            self.fault = Reach::of(&self).why_not(&owner).map(|why| {
                if self.file.accounts.is_empty() {
                    format!(
                        "{n} generated stores (--generate-stores) have no account: they go \
                         to the configuration's first account, and it has none"
                    )
                } else {
                    format!("{n} generated stores (--generate-stores): {why}")
                }
            });
        }
        let (ids, names): (HashSet<String>, HashSet<String>) = self
            .stores
            .iter()
            .filter(|(o, _)| *o == owner)
            .map(|(_, s)| (s.id().to_owned(), s.name().to_owned()))
            .unzip();
        let stores = Arc::make_mut(&mut self.stores);
        stores.reserve(n);
        let mut added = 0;
        while added < n {
            self.last_generated += 1;
            // Valid by construction (a test checks them with `KeyStore::new`): a million
            // stores start sooner without the checks.
            let store = KeyStore::checked(demo::generated_store(self.last_generated));
            if ids.contains(store.id()) || names.contains(store.name()) {
                continue;
            }
            stores.push((owner.clone(), store));
            added += 1;
        }
        self.generated += n;
        self
    }

    /// Answers this fraction (0 to 1) of authenticated requests with
    /// `KMSInternalException` (500) or `ThrottlingException` (400), half each (or those
    /// of [`Self::with_injected_errors`]).
    pub fn with_fail_rate(mut self, p: f64) -> Self {
        self.fail_rate = service::clamp_rate(p);
        self
    }

    /// Answers each authenticated request only after `latency` (at most
    /// [`service::MAX_LATENCY`]; none by default): a slow KMS, for testing the timeouts of
    /// the code that calls it (`kms-server --latency-ms`).
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency.min(service::MAX_LATENCY);
        self
    }

    /// Fails the first `n` authenticated requests, whatever the fail rate, with the
    /// injected errors ([`Self::with_injected_errors`]); then the fail rate applies. A
    /// deterministic failure, for a test of retries: with `n = 2` and one error, a client
    /// that tries three times succeeds on its third try (`kms-server --fail-first`).
    pub fn with_failing_first(mut self, n: u64) -> Self {
        self.failing_first = n;
        self
    }

    /// Answers the requests [`Self::with_fail_rate`] fails with these errors, picked
    /// evenly: `[InjectedError::Throttling]` with a fail rate of 1 throttles every call.
    /// All of [`InjectedError::ALL`] by default, and when `errors` is empty.
    pub fn with_injected_errors(mut self, errors: impl IntoIterator<Item = InjectedError>) -> Self {
        self.injected = service::InjectedErrors::of(errors);
        self
    }

    /// Derives the marker key from this passphrase (overrides the config file's).
    pub fn with_marker_key(mut self, passphrase: impl Into<String>) -> Self {
        self.marker_key = Some(passphrase.into());
        self
    }

    /// How long a client may take to send a request's headers, and then its body
    /// (a body still incomplete then gets `408 RequestTimeoutException`).
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a client may leave a response's bytes untaken (a write that makes no
    /// progress) before its connection is closed.
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How many connections are served at once (at least 1). At the limit, the connection
    /// idle longest (no request in flight) is closed to make room for a new one; while
    /// every one is busy, further ones wait in the listen queue until one is idle or
    /// closes. A busy connection is never cut off; a new one is first left 1 s to send
    /// its first request (or complete its TLS handshake).
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How many bytes of request bodies are held at once, all connections together
    /// (64 MiB by default; at least [`service::MAX_BODY_BYTES`], the largest body). A
    /// request takes its share once its signature's head checks out (see
    /// [`KmsService::with_max_body_memory`]) and gives it back once answered; one that
    /// finds the budget spent waits for it within the body read timeout, then gets `408
    /// RequestTimeoutException` saying the server had no room for its body.
    pub fn with_max_body_memory(mut self, bytes: usize) -> Self {
        self.max_body_memory = bytes.max(service::MAX_BODY_BYTES);
        self
    }

    /// Serves HTTPS with this certificate instead of plain HTTP.
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The HTTPS configuration, when the server speaks HTTPS.
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// Serves the admin endpoints too ([`admin`]): `PUT /_kms-server/stores` replaces
    /// the stores with a data file's, `GET /_kms-server/requests` says the requests the
    /// server answered, `POST /_kms-server/reset` puts back the stores it started with.
    /// They are not signed: anyone who can reach the server can
    /// change what it serves. They come with the built-in backend ([`serve`],
    /// [`Self::router`], [`Self::router_and_store`]); a router of your own serves them
    /// with [`Router::with_admin`].
    pub fn with_admin_endpoints(mut self) -> Self {
        self.admin_endpoints = true;
        self
    }

    /// Whether the server serves the admin endpoints ([`Self::with_admin_endpoints`]).
    pub fn admin_endpoints(&self) -> bool {
        self.admin_endpoints
    }

    /// The accounts configuration.
    pub fn file_config(&self) -> &FileConfig {
        &self.file
    }

    /// The stores served, with their owners.
    pub fn stores(&self) -> &[(Owner, KeyStore)] {
        &self.stores
    }

    /// How long each authenticated request waits before it is answered.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// The fault injection rate.
    pub fn fail_rate(&self) -> f64 {
        self.fail_rate
    }

    /// How many of the first authenticated requests fail whatever the rate.
    pub fn failing_first(&self) -> u64 {
        self.failing_first
    }

    /// The errors injected failures are answered with, in [`InjectedError::ALL`]'s order.
    pub fn injected_errors(&self) -> Vec<InjectedError> {
        self.injected.errors().collect()
    }

    /// The most connections served at once ([`Self::with_max_connections`]).
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The most bytes of request bodies held at once ([`Self::with_max_body_memory`]).
    pub fn max_body_memory(&self) -> usize {
        self.max_body_memory
    }

    /// The marker key: from [`Self::with_marker_key`], else the config file's
    /// `marker_key`, else a fresh random key.
    pub fn marker_key(&self) -> MarkerKey {
        match self
            .marker_key
            .as_deref()
            .or(self.file.marker_key.as_deref())
        {
            Some(passphrase) => MarkerKey::from_passphrase(passphrase),
            None => MarkerKey::random(),
        }
    }

    /// An in-memory store holding [`Self::stores`], taking records only of the accounts
    /// and regions this configuration serves ([`MemoryStore::for_owners`]); two stores of
    /// one account and region with the same id or name are an error naming them (neither
    /// is dropped), as is a store [`Self::with_key_stores`] found that no request could
    /// reach.
    pub fn memory_store(&self) -> std::io::Result<MemoryStore<KeyStore>> {
        if let Some(fault) = &self.fault {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("stores: {fault}"),
            ));
        }
        let served = self.file.accounts.iter().flat_map(|account| {
            (self.file.regions.iter())
                .map(|region| Owner::new(account.id.as_str(), region.as_str()))
        });
        let store = MemoryStore::for_owners(served);
        match store.bulk_load(self.stores.iter().cloned()) {
            // Every id new: no two stores share one (and bulk_load refuses shared names).
            Ok(added) if added == self.stores.len() => Ok(store),
            // Only then is it worth finding the clash, to name it.
            other => {
                let message = self.first_clash().unwrap_or_else(|| match other {
                    Err(e) => e.to_string(),
                    Ok(_) => "two stores share an id".to_owned(),
                });
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("stores: {message}"),
                ))
            }
        }
    }

    /// Replaces every store of `store` (one built for this configuration's accounts and
    /// regions) with [`Self::stores`] at once, as SIGHUP and the admin endpoints do;
    /// returns how many it holds now. Requests see the old stores or the new ones,
    /// never a mix. Stores that [`Self::memory_store`] would refuse change nothing.
    pub fn replace_stores_in(&self, store: &MemoryStore<KeyStore>) -> Result<usize, DataError> {
        if let Some(fault) = self.fault.clone().or_else(|| self.first_clash()) {
            return Err(DataError(fault));
        }
        store
            .replace_all(self.stores.iter().cloned())
            .map_err(|e| DataError(e.to_string()))
    }

    /// The first two stores of one account and region that share an id or a name.
    fn first_clash(&self) -> Option<String> {
        let mut ids = HashSet::with_capacity(self.stores.len());
        let mut names = HashSet::with_capacity(self.stores.len());
        self.stores.iter().find_map(|(owner, store)| {
            [
                (&mut ids, "id", store.id()),
                (&mut names, "name", store.name()),
            ]
            .into_iter()
            .find_map(|(seen, what, value)| {
                (!seen.insert((owner, value))).then(|| {
                    format!(
                        "account {} region {} has two stores with the {what} '{value}'",
                        owner.account, owner.region
                    )
                })
            })
        })
    }

    /// The router of the built-in backend: `DescribeCustomKeyStores` over
    /// [`Self::memory_store`].
    pub fn router(&self) -> std::io::Result<Router> {
        Ok(self.router_and_store()?.0)
    }

    /// [`Self::router`], and the store it serves, to change the stores while it serves:
    /// [`store::Storage::put`] and [`store::Storage::remove`] one at a time, or
    /// [`MemoryStore::replace_all`] (e.g. with [`Self::reload_data`]'s). Every
    /// [`KeyStore`] is one KMS could return ([`KeyStore::new`] checks it), and the store
    /// takes stores only of the accounts and regions this configuration serves
    /// ([`Self::serves`]): any other is [`store::StoreError::UnknownOwner`].
    pub fn router_and_store(&self) -> std::io::Result<(Router, Arc<MemoryStore<KeyStore>>)> {
        let store = Arc::new(self.memory_store()?);
        let handler = StoreHandler::new(Arc::clone(&store), self.marker_key());
        let mut router = Router::new().operation::<DescribeCustomKeyStores, _>(handler);
        if self.admin_endpoints {
            router = router.with_admin(admin::Admin::new(self.clone(), Arc::clone(&store)));
        }
        Ok((router, store))
    }
}

/// The accounts and regions a configuration serves, as sets: each store of a data file
/// is checked in constant time (a list of 10,000 accounts scanned for each of 100,000
/// stores took seconds).
struct Reach<'c> {
    config: &'c ServerConfig,
    accounts: HashSet<&'c str>,
    regions: HashSet<&'c str>,
}

impl<'c> Reach<'c> {
    fn of(config: &'c ServerConfig) -> Self {
        Self {
            config,
            accounts: config.file.accounts.iter().map(|a| a.id.as_str()).collect(),
            regions: config.file.regions.iter().map(String::as_str).collect(),
        }
    }

    /// Why no request could reach `owner`'s stores, if none could.
    fn why_not(&self, owner: &Owner) -> Option<String> {
        let file = &self.config.file;
        if !self.regions.contains(owner.region.as_str()) {
            Some(format!(
                "stores of account {} are in region {}, which is not served (regions: {})",
                owner.account,
                owner.region,
                listed(file.regions.iter().map(String::as_str))
            ))
        } else if !self.accounts.contains(owner.account.as_str()) {
            Some(format!(
                "account {} is not in the configuration (accounts: {})",
                owner.account,
                listed(file.accounts.iter().map(|a| a.id.as_str()))
            ))
        } else {
            None
        }
    }
}

/// `a, b, c`, naming the first ten and counting the rest (`…, j and 9990 more`).
fn listed<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    const MAX_LISTED: usize = 10;
    let count = names.len();
    let mut out = names.take(MAX_LISTED).collect::<Vec<_>>().join(", ");
    if count > MAX_LISTED {
        out.push_str(&format!(" and {} more", count - MAX_LISTED));
    }
    out
}

/// Serves `config` (the built-in in-memory backend) on `addr`.
pub async fn serve(config: ServerConfig, addr: SocketAddr) -> std::io::Result<RunningServer> {
    let router = config.router()?;
    serve_router(&config, router, addr).await
}

/// The alert a client sent to refuse the server's certificate (`UnknownCA`,
/// `BadCertificate`, ...) when that is why `error`, a failed TLS handshake, failed.
fn certificate_refused(error: &std::io::Error) -> Option<String> {
    use rustls::AlertDescription as A;
    match error.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(
            alert @ (A::UnknownCA
            | A::BadCertificate
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::AccessDenied
            // rustls's word for a chain whose CA has the trusted one's name but not its
            // key: the CA of an earlier `--tls-self-signed` start, say.
            | A::DecryptError),
        ) => Some(format!("{alert:?}")),
        _ => None,
    }
}

/// Serves `router` (any backend) with the accounts, regions, fault rate, timeouts and
/// HTTPS settings of `config`. Over HTTPS, a client has the header read timeout to
/// complete its TLS handshake.
pub async fn serve_router(
    config: &ServerConfig,
    router: Router,
    addr: SocketAddr,
) -> std::io::Result<RunningServer> {
    // A configuration built in code has not been through `FileConfig::load`'s check: a
    // key listed twice would make one of its accounts unreachable without a word.
    config
        .file
        .check()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let (stop, mut stopped) = watch::channel(());
    let service = KmsService::new(router, Directory::new(&config.file), config.fail_rate)
        .with_stop_signal(stopped.clone())
        .with_body_read_timeout(config.header_read_timeout)
        .with_max_body_memory(config.max_body_memory)
        .with_injected_errors(config.injected.errors())
        .with_latency(config.latency)
        .with_failing_first(config.failing_first);
    let faults = service.faults();
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let tls = config.tls.as_ref().map(|t| t.acceptor().clone());
    let handshake_timeout = config.header_read_timeout;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let write_timeout = config.write_timeout;
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(MAX_READ_BUFFER)
        // A client that closes its side once its request is sent (`nc -N`) still gets
        // the answer.
        .half_close(true);
    let connections = Connections::new(config.max_connections);
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = e.to_string().as_str(), "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stopped.changed() => break,
            };
            // At the limit, the connection idle longest is closed to make room; while
            // every one is busy, this one waits.
            let slot = tokio::select! {
                slot = connections.admit() => slot,
                _ = stopped.changed() => break,
            };
            let _ = stream.set_nodelay(true);
            let stream = WriteTimeout::new(stream, write_timeout);
            let service = TowerToHyperService::new(service.for_connection(slot.tracked()));
            let builder = builder.clone();
            let mut stopped = stopped.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let served = match tls {
                    None => {
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        until_closed(connection, &slot, stopped).await
                    }
                    Some(acceptor) => {
                        let handshake =
                            tokio::time::timeout(handshake_timeout, acceptor.accept(stream));
                        let handshake = tokio::select! {
                            handshake = handshake => handshake,
                            // No request yet: nothing is cut off.
                            () = asked_to_end(&slot, &mut stopped) => {
                                tracing::debug!("TLS handshake ended: the server stops or needs its place");
                                return;
                            }
                        };
                        let stream = match handshake {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(e)) => {
                                match certificate_refused(&e) {
                                    // A client that does not trust the certificate: what a
                                    // test team most needs to hear, from the server too.
                                    Some(alert) => tracing::warn!(
                                        alert,
                                        "TLS handshake failed: the client refused the server's \
                                         certificate; give it this server's CA \
                                         (AWS_CA_BUNDLE, boto3's verify=, NODE_EXTRA_CA_CERTS; \
                                         --tls-self-signed makes a new one at each start) and \
                                         call a name the certificate holds (the banner's \
                                         endpoint)"
                                    ),
                                    // Scanners, plain HTTP, a client gone: not news.
                                    None => tracing::debug!(
                                        error = e.to_string().as_str(),
                                        "TLS handshake failed"
                                    ),
                                }
                                return;
                            }
                            Err(_) => {
                                tracing::debug!("TLS handshake timed out");
                                return;
                            }
                        };
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        until_closed(connection, &slot, stopped).await
                    }
                };
                if let Err(e) = served {
                    tracing::debug!(
                        error = e.to_string().as_str(),
                        "connection ended with an error"
                    );
                }
            });
        }
        drop(listener);
        if tokio::time::timeout(SHUTDOWN_GRACE, connections.none_open())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; dropping remaining connections");
        }
    });
    Ok(RunningServer {
        local_addr,
        scheme,
        faults,
        stop,
        task,
    })
}

/// `scheme://IP:PORT` of a server listening on `listening`, with the loopback address of
/// its family for an unspecified one (`0.0.0.0` is no address to connect to).
fn endpoint(scheme: &str, listening: SocketAddr) -> String {
    let ip: std::net::IpAddr = match listening.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    format!("{scheme}://{}", SocketAddr::new(ip, listening.port()))
}

/// Resolves once the server stops or needs `slot`'s place for a new connection.
async fn asked_to_end(slot: &Slot, stopped: &mut watch::Receiver<()>) {
    tokio::select! {
        () = slot.tracked().close_requested() => {}
        _ = stopped.changed() => {}
    }
}

/// Serves `connection` until it ends; once the server stops or needs its place for a new
/// connection, it ends after answering the request in flight, if any (at once when idle,
/// or when no request has started on it: hyper's graceful shutdown waits for a request
/// head partly received, until the header read timeout).
async fn until_closed<C: GracefulConnection>(
    connection: C,
    slot: &Slot,
    mut stopped: watch::Receiver<()>,
) -> Result<(), C::Error> {
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        ended = connection.as_mut() => return ended,
        () = asked_to_end(slot, &mut stopped) => {}
    }
    if !slot.tracked().served() {
        return Ok(());
    }
    connection.as_mut().graceful_shutdown();
    connection.await
}

/// A server running in the background, until [`Self::shutdown`]; dropping it stops the
/// server too (in-flight requests still finish).
#[derive(Debug)]
#[must_use = "the server stops when its RunningServer is dropped"]
pub struct RunningServer {
    local_addr: SocketAddr,
    scheme: &'static str,
    faults: FaultInjection,
    stop: watch::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://IP:PORT`, or `https://IP:PORT` over TLS: the URL clients on this machine
    /// call. Listening on every interface (`0.0.0.0`, `[::]`), it names the loopback
    /// address of the same family, which a client can connect to and the certificate of
    /// [`TlsConfig::self_signed`] names; [`Self::local_addr`] is the address listened on.
    pub fn endpoint(&self) -> String {
        endpoint(self.scheme, self.local_addr)
    }

    /// Its fault injection, to change while it serves: the fail rate, the failing
    /// first requests, the errors and the latency that [`ServerConfig`] set at start.
    /// (A reset by the admin endpoints puts back those of the start.)
    pub fn faults(&self) -> FaultInjection {
        self.faults.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to
    /// [`SHUTDOWN_GRACE`]) and closes idle connections.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Listening on every interface, clients on this machine are told the loopback
    /// address of the same family (`0.0.0.0` is no address to connect to everywhere,
    /// nor one a self-signed certificate names).
    #[test]
    fn the_endpoint_of_every_interface_is_the_loopback_address() {
        let endpoint = |scheme, listen: &str| endpoint(scheme, listen.parse().unwrap());
        assert_eq!(endpoint("http", "127.0.0.1:4599"), "http://127.0.0.1:4599");
        assert_eq!(endpoint("http", "192.0.2.7:80"), "http://192.0.2.7:80");
        assert_eq!(endpoint("http", "0.0.0.0:4599"), "http://127.0.0.1:4599");
        assert_eq!(endpoint("https", "[::]:443"), "https://[::1]:443");
        assert_eq!(endpoint("https", "[::1]:443"), "https://[::1]:443");
    }

    /// Generated stores go to the configuration's first account: one without accounts
    /// is refused saying so, not with the store's "takes no records of this account and
    /// region", which named neither.
    #[test]
    fn generated_stores_without_an_account_are_refused_saying_so() {
        let file = FileConfig::from_toml("regions = [\"eu-west-1\"]").unwrap();
        let config = ServerConfig::new(file.clone()).with_generated_stores(3);
        let err = config.memory_store().unwrap_err().to_string();
        assert_eq!(
            err,
            "stores: 3 generated stores (--generate-stores) have no account: they go to the \
             configuration's first account, and it has none"
        );
        // None asked for: nothing to refuse.
        ServerConfig::new(file)
            .with_generated_stores(0)
            .memory_store()
            .unwrap();
        // With an account, they are its.
        let file =
            FileConfig::from_toml("regions = [\"eu-west-1\"]\n[[accounts]]\nid = \"999999999999\"")
                .unwrap();
        let store = ServerConfig::new(file)
            .with_generated_stores(3)
            .memory_store()
            .unwrap();
        assert_eq!(store::Storage::len(&store), 3);
    }
}
