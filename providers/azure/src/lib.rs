//! plinth's Azure provider.
//!
//! - [`AzureProvider`] (with [`AzureSettings`]): any ARM type `azure:Namespace/type[/child]@api-version`
//!   as a plinth resource or data source, with curated knowledge of the flagship's seven types
//!   ([`types::KNOWN`]), ARM normalisation in the diff ([`ArmEq`]) and `azure.role_definition_id`.
//!
//! The ARM client layer it is built on:
//!
//! - [`ArmClient`]: Azure Resource Manager over `reqwest` — `get`, `put`, `patch`, `delete`,
//!   `post`, `list` (with `nextLink` paging), long-running operations (`Azure-AsyncOperation`,
//!   else `Location`, else the resource's `provisioningState`), retries with exponential
//!   backoff and full jitter (429, 5xx, connection errors, ARM's eventual-consistency codes),
//!   `Retry-After`, and client-side token buckets per subscription ([`RateLimits`]).
//! - [`ArmRequest`]: what to send, built without I/O (testable on its own).
//! - [`TokenSource`]: where bearer tokens come from: [`StaticToken`] (tests) or
//!   [`IdentityTokenSource`] (`azure_identity` credentials chosen from `ARM_*` / `AZURE_*`
//!   variables, see [`CredentialConfig`]), cached until shortly before expiry.
//! - [`RetryObserver`]: every retry is reported (to a plinth [`plinth_provider::Reporter`] via
//!   [`ReporterObserver`], and always to `tracing`).

#![warn(missing_docs)]

mod client;
mod credential;
mod error;
mod provider;
mod ratelimit;
mod request;
mod retry;
mod settings;
pub mod types;

pub use client::{
    ArmClient, ArmClientBuilder, ArmResponse, Call, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT, HttpTimeouts, LroPolicy,
};
pub use credential::{
    ARM_SCOPE, AccessToken, CredentialConfig, IdentityTokenSource, StaticToken, TokenSource,
};
pub use error::{ArmError, Error, Result};
pub use provider::{ArmEq, AzureProvider};
pub use ratelimit::{Bucket, RateLimits};
pub use request::{ArmRequest, RequestClass};
pub use retry::{
    ReporterObserver, RetryCause, RetryEvent, RetryObserver, RetryPolicy, TracingObserver,
};
pub use settings::{AzureSettings, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_SUBSCRIPTION, SIM_TENANT};
