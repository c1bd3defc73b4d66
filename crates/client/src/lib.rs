//! A client for AWS KMS `DescribeCustomKeyStores` — against real KMS
//! (`https://kms.{region}.amazonaws.com`) or the local `kms-server` — and the output
//! formats of the `kms` CLI.
//!
//! ```no_run
//! # async fn run() -> Result<(), kms_client::Error> {
//! use futures::TryStreamExt;
//! let client = kms_client::Client::new(
//!     kms_client::Config::builder()
//!         .endpoint("http://127.0.0.1:4599")
//!         .region("us-east-1")
//!         .credentials(kms_client::Credentials::new("AKID", "SECRET", None))
//!         .build()?,
//! );
//! let page = client.describe_custom_key_stores().limit(10).send().await?;
//! println!("{} stores", page.custom_key_stores.unwrap_or_default().len());
//! let all: Vec<_> = client
//!     .describe_custom_key_stores()
//!     .into_paginator()
//!     .items()
//!     .try_collect()
//!     .await?;
//! # let _ = all; Ok(()) }
//! ```
//!
//! Calls run on Tokio, with its I/O and time drivers: in `#[tokio::main]` or
//! `#[tokio::test]`, or a runtime built with `enable_all()`. Polled anywhere else
//! (`futures::executor::block_on`) or without either driver, a call panics, as Tokio's
//! sockets and timers do. The futures of [`DescribeCustomKeyStoresFluent::send`] and the
//! streams of [`Paginator`] are `Send + 'static`, for `tokio::spawn`, and a [`Client`]
//! is cheap to clone into each task (clones share connections and the retry quota).

#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod credentials;
pub mod error;
pub mod operation;
#[cfg(feature = "cli")]
pub mod output;
mod proxy;
#[cfg(feature = "cli")]
pub mod query;
pub mod retry;
pub(crate) mod shell_words;
mod tls;

/// What the fuzz targets (`fuzz/`) call that is not public otherwise: the readers of
/// the shared files and of the credential sources' answers. Not part of the public API.
#[doc(hidden)]
pub mod __fuzz {
    /// The settings of one section of a shared file: name, value, sub-section.
    pub type Settings = Vec<(String, String, Vec<(String, String)>)>;

    /// The sections of a shared file (`credentials`: the credentials file, else the
    /// config file) as the client reads them, in name order; or the error's message.
    pub fn parse_ini(text: &str, credentials: bool) -> Result<Vec<(String, Settings)>, String> {
        crate::config::parse_shared_file(text, credentials)
    }

    /// `shlex.split` as the client does it (section names, `credential_process`).
    pub fn shell_split(line: &str) -> Result<Vec<String>, String> {
        crate::shell_words::split(line).map_err(|e| e.to_string())
    }

    /// The keys (id, secret, session token) a `credential_process` prints, or why not.
    pub fn process_credentials(output: &[u8]) -> Result<[Option<String>; 3], String> {
        crate::credentials::process_output(output)
    }

    /// The keys of an STS `AssumeRole…Response`, or why not.
    pub fn sts_credentials(xml: &str) -> Result<[Option<String>; 3], String> {
        crate::credentials::sts_answer(xml)
    }

    /// The text of the first `<tag>…</tag>` of an STS answer, entities decoded.
    pub fn xml_element(xml: &str, tag: &str) -> Option<String> {
        crate::credentials::xml_element(xml, tag)
    }

    /// An endpoint URL as a profile or `AWS_ENDPOINT_URL` gives it, checked and
    /// normalized, or the error's message.
    pub fn check_endpoint(value: &str) -> Result<String, String> {
        crate::config::check_endpoint(value, "fuzz").map_err(|e| e.to_string())
    }
}

pub use client::{Client, MAX_RESPONSE_BYTES, MAX_RESPONSE_VALUES};
pub use config::{
    CaBundle, Config, ConfigBuilder, ConfigError, Credentials, Overrides, ProfileSetting, Timeouts,
};
pub use credentials::{CredentialsError, CredentialsSource, MfaPrompt};
pub use error::{AuthErrorKind, Error, ErrorMeta, TimeoutKind};
pub use operation::{DescribeCustomKeyStoresFluent, Paginator};
pub use proxy::ProxyConfig;
pub use retry::RetryConfig;

pub use kms_types;

/// The library example of `README.md`, compiled by `cargo test --doc` so that it keeps
/// working as written.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
