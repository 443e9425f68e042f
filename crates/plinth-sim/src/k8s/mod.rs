//! One Kubernetes API per AKS cluster, under `/k8s/{cluster_key}` (SPEC §7): discovery,
//! OpenAPI v3 (enough for kubectl to leave validation to the server), core/v1, apps/v1
//! (with `deployments/scale`), batch/v1 and, while the KEDA add-on is on, keda.sh/v1alpha1;
//! create, replace, JSON / merge / strategic-merge patch, server-side apply with managedFields,
//! conflicts and field removal, dry run, delete and deletecollection, label and field
//! selectors, Table output for `kubectl get`, watches that stay open (`watch`), and
//! Kubernetes `Status` errors. ReplicaSets, pods (with `pods/{name}/log`) and core/v1 events
//! are written by the simulated controllers ([`reconcile`]: Deployments and ReplicaSets, the
//! Job controller, the flagship's sample workload with workload identity, the KEDA operator),
//! which run after every change; every pod created passes the workload-identity webhook
//! (`webhook`).
//!
//! Authentication: kubectl (client-go) never sends credentials to an `http://` server, so a
//! request without a token is accepted unless [`Cluster::require_token`] is set; a wrong token
//! is always refused with 401.
//!
//! Layout, each module using only those listed before it: `time`, `query`, `resources`,
//! `fields` (leaves); `answer` (Status errors); `patch`, `admission`; `cluster` (the state
//! and its reads); `webhook` (pod mutation); `objects` (the write paths); `table`; `pods`; `aks` (what AKS puts in a cluster,
//! and the [`crate::arm::Clusters`] hooks); `controllers/`; `watch`; `handler` (HTTP).

mod admission;
mod aks;
mod answer;
mod cluster;
mod controllers;
mod fields;
mod handler;
mod objects;
mod patch;
mod pods;
mod query;
mod resources;
mod table;
mod time;
mod watch;
mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::routing::any;

use crate::Shared;

pub use cluster::{Cluster, Runtime, ScaledJobRun};
pub use controllers::{reconcile, settle};

/// The Kubernetes APIs, to be nested at `/k8s`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new().route("/{*rest}", any(handler::handle))
}
