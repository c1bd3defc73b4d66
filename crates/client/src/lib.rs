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
