//! What ARM persists: the resource store, long-running operations and tunables; the view
//! of the world an ARM request works on ([`ArmWorld`]); and [`Clusters`], the hooks through
//! which a managed cluster's Kubernetes side is created, read and removed — implemented by
//! `k8s`, so that ARM never depends on the Kubernetes simulation.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::throttle::Buckets;

/// Every ARM resource, by lower-cased resource id, and the long-running operations.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Store {
    /// Every resource, keyed by its lower-cased id.
    pub resources: BTreeMap<String, Resource>,
    /// The long-running operations started so far, keyed by their lower-cased operation id;
    /// kept after they finish so late polls still answer.
    #[serde(default)]
    pub operations: BTreeMap<String, Operation>,
    /// Counter feeding generated ids (deterministic with the seed).
    #[serde(default)]
    pub serial: u64,
    /// Tunables (not persisted): see `/_sim/config`.
    #[serde(skip)]
    pub settings: Settings,
    #[serde(skip)]
    pub(super) buckets: Buckets,
    #[serde(skip)]
    pub(super) requests: u64,
    /// One-shot hooks on list pages (not persisted): see `/_sim/hooks`.
    #[serde(skip)]
    pub hooks: Vec<super::hooks::PageHook>,
}

/// One ARM resource.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Resource {
    /// The id with the casing the client used at creation.
    pub id: String,
    /// What GET returns.
    pub body: Value,
    /// When the resource was first created, in ms since the Unix epoch; kept across updates.
    pub created_ms: u64,
    /// When the resource was last written (create, update or change), in ms since the Unix
    /// epoch.
    pub updated_ms: u64,
    /// A create/update operation runs until then (AKS, Service Bus namespace activation).
    #[serde(default)]
    pub busy_until_ms: u64,
    /// Being deleted; disappears (with everything inside) at that time.
    #[serde(default)]
    pub deleting_until_ms: Option<u64>,
    /// The AKS cluster's key in `World::clusters`.
    #[serde(default)]
    pub cluster_key: Option<String>,
    /// Last federated identity credential write under this identity: (credential id, when
    /// its answer is due); the identity takes no other credential write until then.
    #[serde(default)]
    pub fic_write: Option<(String, u64)>,
    /// The world's logical clock ([`crate::World::clock`]) when this resource was created or, for a
    /// federated identity credential, when its properties (issuer, subject, audiences) last
    /// changed: what "before/after" means for the simulated controllers, deterministically.
    #[serde(default)]
    pub tick: u64,
}

/// A long-running operation (polled via `Azure-AsyncOperation` or `Location`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Operation {
    /// The operation id, the last segment of its polling URLs (`.../operations/{id}`).
    pub id: String,
    /// The id of the resource the operation works on.
    pub resource_id: String,
    /// What the operation does: `create`, `update` or `delete`.
    pub kind: String,
    /// When the operation started, in ms since the Unix epoch.
    pub started_ms: u64,
    /// When the operation is done, in ms since the Unix epoch; polls before then answer
    /// "in progress".
    pub done_ms: u64,
    /// Status the `Location` URL answers once done (200 or 204).
    pub done_status: u16,
}

/// Tunables, changeable at run time through `PUT /_sim/config` (unset = from the latency profile).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Duration of every long-running operation, in ms.
    pub operation_ms: Option<u64>,
    /// How long after its creation a principal is unknown to role assignments without `principalType`.
    pub principal_window_ms: Option<u64>,
    /// How long a federated identity credential write (PUT or DELETE) takes: its answer comes
    /// that long after it arrived, and meanwhile another credential write under the same
    /// identity answers 409. Default: 5 s of Azure's time, scaled by the latency profile (0
    /// on `instant`).
    pub fic_write_ms: Option<u64>,
    /// List page size (default 100).
    pub page_size: Option<usize>,
    /// How long ARM takes to answer a read (GET, HEAD; a list page is one), in ms, before
    /// any long-running operation. Unset: 100 ms of Azure's time scaled by the latency
    /// profile (0 on `instant`). See [`crate::service_time`].
    pub arm_read_ms: Option<u64>,
    /// How long ARM takes to answer a write or a delete (the synchronous answer; a
    /// long-running operation's own duration comes on top), in ms. Unset: 250 ms scaled.
    pub arm_write_ms: Option<u64>,
    /// How long a cluster's Kubernetes API takes to answer a request, in ms (a watch: its
    /// first answer). Unset: 10 ms scaled.
    pub k8s_request_ms: Option<u64>,
    /// The token bucket of reads (GET, HEAD), as (capacity, refill per second); default (250, 25).
    pub read_bucket: Option<(f64, f64)>,
    /// The token bucket of writes (every method but GET, HEAD and DELETE), as (capacity, refill per second);
    /// default (200, 10).
    pub write_bucket: Option<(f64, f64)>,
    /// The token bucket of deletes, as (capacity, refill per second); default (200, 10).
    pub delete_bucket: Option<(f64, f64)>,
    /// How fast the clusters' controllers see time pass, as a fraction of Azure's (unset or 0:
    /// they act on every round, as on the `instant` profile); set from the latency profile at
    /// start ([`crate::Latency::scale`]). Scales Job backoff and KEDA's polling interval.
    pub time_scale: Option<f64>,
    /// How long after its creation a role assignment takes effect on data-plane calls (Azure
    /// RBAC propagation); unset: 5 minutes scaled by `time_scale`.
    pub rbac_propagation_ms: Option<u64>,
    /// How long after its last change a federated identity credential is accepted by the token
    /// exchange; unset: 10 seconds scaled by `time_scale`.
    pub fic_propagation_ms: Option<u64>,
    /// Role assignments and federated credentials written before this time (ms since the
    /// epoch) have propagated, whatever the delays: `POST /_sim/settle` sets it to now.
    pub propagated_before_ms: Option<u64>,
}

/// The Kubernetes side of the managed clusters, as ARM needs it. ARM names a cluster by the
/// key it keeps on the AKS resource ([`Resource::cluster_key`]).
pub trait Clusters {
    /// The managed cluster `key` was created or updated: its API exists, with the KEDA add-on
    /// on or off.
    fn put(&mut self, key: &str, name: &str, keda: bool);
    /// The bearer token of cluster `key`'s API (handed out in its kubeconfig).
    fn token(&self, key: &str) -> Option<String>;
    /// The managed cluster `key` is gone.
    fn remove(&mut self, key: &str);
}

/// The parts of the world an ARM request works on.
pub struct ArmWorld<'a> {
    /// The ARM resource store.
    pub arm: &'a mut Store,
    /// The world's logical clock ([`crate::World::clock`]).
    pub clock: &'a mut u64,
    /// The clusters' Kubernetes APIs, created and removed as AKS resources come and go.
    pub clusters: &'a mut dyn Clusters,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// `ms` (since the Unix epoch) in RFC 3339 with microseconds, as ARM writes times.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// Removes a resource and everything under it (ids with it as a prefix, extension resources too).
pub fn remove_cascade(world: &mut ArmWorld<'_>, key: &str) -> Vec<Resource> {
    let prefix = format!("{key}/");
    let keys: Vec<String> = world
        .arm
        .resources
        .keys()
        .filter(|k| *k == key || k.starts_with(&prefix))
        .cloned()
        .collect();
    let mut removed = Vec::new();
    for k in keys {
        if let Some(r) = world.arm.resources.remove(&k) {
            if let Some(ck) = &r.cluster_key {
                world.clusters.remove(ck);
            }
            removed.push(r);
        }
    }
    removed
}

impl Settings {
    /// `(capacity, refill per second)` of the token bucket for `class` (reads, writes or
    /// deletes): the `/_sim/config` override, else ARM's documented defaults.
    pub(super) fn bucket(&self, class: &str) -> (f64, f64) {
        match class {
            "reads" => self.read_bucket.unwrap_or((250.0, 25.0)),
            "deletes" => self.delete_bucket.unwrap_or((200.0, 10.0)),
            _ => self.write_bucket.unwrap_or((200.0, 10.0)),
        }
    }
}

impl Store {
    /// Fills every throttling bucket to its capacity, as if enough time had passed for it to
    /// refill (`POST /_sim/throttle/refill`): tests need not wait for the refill rate.
    pub fn refill_buckets(&mut self) {
        self.buckets.refill();
    }
}
