//! One cluster's Kubernetes API state — its objects by type, the resourceVersion counter,
//! what watches need (creation revisions, tombstones), and what its controllers remember —
//! and the reads every other module builds on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::resources::Res;

/// One cluster's Kubernetes API state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cluster {
    /// The AKS cluster's name.
    pub name: String,
    /// The bearer token the API requires (handed out in the cluster's kubeconfig).
    pub token: String,
    /// Whether the KEDA add-on is on (serves keda.sh and runs kube-system/keda-operator).
    pub keda_enabled: bool,
    /// Refuse requests that carry no bearer token (401). Off by default because kubectl (every
    /// client-go) never sends credentials to an `http://` server, and the simulator serves
    /// plain HTTP: a wrong token is always refused, a missing one only when this is set.
    #[serde(default)]
    pub require_token: bool,
    /// The cluster's resourceVersion counter (etcd's revision).
    pub resource_version: u64,
    /// The resourceVersion at which each object (by uid) was created, for watches' ADDED.
    #[serde(skip)]
    pub(crate) created: BTreeMap<String, u64>,
    /// Recently deleted objects (resourceVersion of the delete, type, object), for watches.
    #[serde(skip)]
    pub(crate) tombstones: Vec<(u64, String, Value)>,
    /// Objects by type (`deployments.apps`) and then `namespace/name` (or `name`).
    pub objects: BTreeMap<String, BTreeMap<String, Value>>,
    /// What the cluster's simulated controllers (Jobs, KEDA) remember between reconciles.
    #[serde(default)]
    pub runtime: Runtime,
}

/// What a cluster's controllers remember between rounds (persisted with the cluster).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Runtime {
    /// Rounds run so far; a Job gets at most one pod per round.
    pub round: u64,
    /// kube-system/keda-operator's pod template (JSON) and the logical time its pods started.
    pub keda_operator: Option<(String, u64)>,
    /// kube-system/keda-operator's ServiceAccount `azure.workload.identity/client-id`
    /// annotation when its pods last started (what the webhook injected as `AZURE_CLIENT_ID`;
    /// used while the cluster runs no keda-operator pods to read it from).
    #[serde(default)]
    pub keda_operator_client_id: Option<String>,
    /// Per Job uid: the round of its last attempt.
    pub jobs: BTreeMap<String, u64>,
    /// Per Job uid: not retried before then (ms since the epoch; the Job's backoff after a
    /// failed pod, when controllers see time pass).
    #[serde(default)]
    pub job_retry_at_ms: BTreeMap<String, u64>,
    /// Per ScaledJob uid.
    pub scaled_jobs: BTreeMap<String, ScaledJobRun>,
    /// Pod logs by `namespace/name` (served at `pods/{name}/log`).
    pub logs: BTreeMap<String, String>,
    /// Counter behind generated names.
    pub serial: u64,
}

/// What the KEDA operator remembers of one ScaledJob.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ScaledJobRun {
    /// The scalers were started (`KEDAScalersStarted`, `ScaledJobReady` recorded).
    pub started: bool,
    /// The last scaler error (a new `KEDAScalerFailed` event only when it differs).
    pub last_error: Option<String>,
    /// When its triggers were last polled (ms since the epoch).
    #[serde(default)]
    pub last_poll_ms: u64,
}

/// The key of an object in its type's map: `namespace/name`, or `name` for cluster-scoped ones.
pub(super) fn object_key(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

impl Cluster {
    pub(crate) fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    pub(crate) fn get(&self, r: &Res, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.get(&r.qualified())?.get(&object_key(ns, name))
    }

    /// Watch events of type `r` (in `ns`, or everywhere) after resourceVersion `since`, in
    /// order: everything as ADDED when `since` is 0.
    pub(crate) fn watch_events(
        &self,
        r: &Res,
        ns: Option<&str>,
        since: u64,
    ) -> Vec<(&'static str, Value)> {
        let rv_of = |o: &Value| {
            o.pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let mut events: Vec<(u64, &'static str, Value)> = self
            .list(r, ns)
            .into_iter()
            .filter(|o| rv_of(o) > since)
            .map(|o| {
                let uid = o
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let added = since == 0 || self.created.get(uid).is_some_and(|c| *c > since);
                (
                    rv_of(o),
                    if added { "ADDED" } else { "MODIFIED" },
                    o.clone(),
                )
            })
            .collect();
        if since > 0 {
            let q = r.qualified();
            for (rv, t, o) in &self.tombstones {
                let in_ns = ns.is_none_or(|ns| {
                    o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                });
                if *rv > since && *t == q && in_ns {
                    events.push((*rv, "DELETED", o.clone()));
                }
            }
        }
        events.sort_by_key(|(rv, _, _)| *rv);
        events.into_iter().map(|(_, k, o)| (k, o)).collect()
    }

    pub(crate) fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get("namespaces")
            .is_some_and(|m| m.contains_key(ns))
    }

    /// Objects of type `r` (in `ns`, or everywhere).
    pub(crate) fn list(&self, r: &Res, ns: Option<&str>) -> Vec<&Value> {
        let Some(m) = self.objects.get(&r.qualified()) else {
            return Vec::new();
        };
        m.iter()
            .filter(|(k, _)| ns.is_none_or(|ns| k.split_once('/').is_some_and(|(n, _)| n == ns)))
            .map(|(_, v)| v)
            .collect()
    }
}
