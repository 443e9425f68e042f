//! Azure Resource Manager: one generic resource store keyed by case-insensitive resource id,
//! per-type behaviour (resource groups, AKS, Service Bus, managed identities, role
//! assignments/definitions), long-running operations, validation, throttling and faults.
//!
//! Layers, each using only those before it: `store`, `id`, `answer`, `context`, `throttle`
//! and `faults` (leaves); `operations`, `write` and `validate` (building blocks of a write); `types`
//! (the per-type table and one file per resource family); `crud` (the generic request paths
//! for one resource); `hooks` (one-shot changes after list pages); `lists`; `routing`; `handler` (the HTTP entry point).
//!
//! ARM never names the Kubernetes side: a managed cluster's API is created, read and removed
//! through [`Clusters`], and the controllers that react to writes are handed to [`handle`].

// Errors here are complete HTTP answers, built once per request.
#![allow(clippy::result_large_err)]

mod account;
mod answer;
mod context;
mod crud;
mod faults;
mod handler;
pub(crate) mod hooks;
mod id;
mod lists;
mod operations;
pub(crate) mod roles;
mod routing;
mod store;
mod throttle;
mod types;
mod validate;
mod write;

pub use account::default_subscription;
pub use answer::error;
pub use crud::settle;
pub use handler::handle;
pub use hooks::{HookAction, PageHook};
pub use store::{
    ArmWorld, Clusters, Operation, Resource, Settings, Store, now_ms, remove_cascade, rfc3339,
};
pub use write::merge as merge_patch;
