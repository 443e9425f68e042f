//! plinth's Kubernetes provider (SPEC §6): any object as `k8s:<apiVersion>/<Kind>`, and the
//! `k8s:rollout-restart` action; `k8s:fields` owns only some fields of an object someone else
//! created (see `fields`).
//!
//! - Inputs: `manifest` (the object; `apiVersion` and `kind` default to the type's and must
//!   match it when given; `metadata.namespace` defaults to `default` for namespaced kinds and is
//!   refused for cluster-scoped ones), `force` (take fields other appliers own), `wait`
//!   (`{ condition = "Ready", timeout = "10m" }`, `{ complete = true }` for Jobs,
//!   `{ rollout = true }` for Deployments, StatefulSets and DaemonSets), `delete_timeout`.
//! - Attributes: the object as the API server returns it, without `metadata.managedFields`.
//!   `manifest.x` is attribute `x`.
//! - Ids: `<apiVersion>/<Kind>/<namespace>/<name>` (`<apiVersion>/<Kind>/<name>` when
//!   cluster-scoped): known before the object exists, free of the cluster it lives in.
//! - Where to: the provider's settings (`[provider.kubernetes]`): `cluster` = an AKS resource
//!   id (credentials through [`ClusterCredentials`], `admin = true` for the admin ones), or
//!   `kubeconfig` (+ `context`), or nothing (the default kubeconfig, as kubectl finds it).
//! - Plans: where the cluster exists and serves the kind, a server-side apply dry run
//!   (`dryRun=All`, manager `plinth`); only the paths the manifest sets (now or at the last
//!   apply) are compared between the live object and the dry run's answer, so whatever the
//!   server defaults or normalises is never a diff. Where the cluster does not exist yet (its
//!   settings are unknown) or does not serve the kind yet (a CRD an add-on brings), the plan is
//!   the manifest with what the server fills in "known after apply". A change of apiVersion,
//!   kind, name or namespace replaces the object.
//! - Applies: server-side apply, manager `plinth`. Fields another *applier* owns are a
//!   conflict, reported with that manager unless `force = true`; fields changed by a person's
//!   imperative edit (`kubectl edit`, `annotate`, `label`, `patch`, `scale`, ...: the `Update`
//!   managers listed in `errors::HAND_EDIT_MANAGERS`) are drift and are taken back. Fields
//!   another `Update` manager wrote are a controller's (an autoscaler's `spec.replicas`): a
//!   conflict too, so that plinth does not fight it on every apply.
//! - Connections: one per distinct settings, cached. One that no longer reaches its cluster
//!   (credentials refused, address or certificate not the cluster's, as after an AKS cluster
//!   is replaced under the same id) is made again from fresh credentials, once per call.
//! - Reads: an object of a cluster ARM says does not exist is gone; one of a cluster not
//!   known yet (its settings refer to something not created) is kept as last read. Objects
//!   of one kind are read together with lists (`batch`). ARM is asked
//!   once per run whether a cluster exists for reads and plans; writes ask again.
//! - Deletes: background propagation (a Job's pods go too), then wait until the object is
//!   gone (`delete_timeout`, default 2 minutes).
//!
//! Layout (each module depends only on those listed before it):
//! - `kind`: types and ids ([`Gvk`], [`ObjectRef`]); `errors`: failure reports and retries;
//!   `connection`: one client per distinct settings (kubeconfig or AKS credentials);
//! - `manifest` (shaping the object and its attributes) and `options` (`force`, `wait`,
//!   `delete_timeout`): pure;
//! - `client`: calls to one cluster for one request (discovery, reads, server-side apply,
//!   reconnects); `wait`: judging and polling for waits and deletes;
//! - `seen` (what this run's reads saw, for plans) and `batch`: reads of many objects of
//!   one kind with lists;
//! - `plan`: dry-run and offline plans; `restart`: the rollout-restart action; `fields`:
//!   `k8s:fields` (its own field manager per resource, never creating or deleting the object);
//!   `set`: `k8s:manifests`, objects of multi-document YAML as one resource, each object a
//!   request of its own through the `Provider` trait;
//! - `provider`: [`KubernetesProvider`] and its `Provider` impl.

#![warn(missing_docs)]

mod batch;
mod client;
mod connection;
mod data;
mod defaults;
mod errors;
mod fields;
mod kind;
mod manifest;
mod options;
mod plan;
mod provider;
mod restart;
mod seen;
mod set;
mod wait;

pub use client::FIELD_MANAGER;
pub use connection::{ClusterCredentials, FnCredentials, Target};
pub use kind::{Gvk, ObjectRef};
pub use manifest::LAST_APPLIED;
pub use provider::KubernetesProvider;
pub use restart::RESTARTED_AT;
