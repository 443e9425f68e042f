//! The cluster's simulated controllers: the Job controller (one pod per attempt, retries up to
//! `backoffLimit`), the pods themselves for the flagship's workload (the AKS sample image
//! `servicebusdemo`, which sends or receives Service Bus messages with a workload identity),
//! and the KEDA operator (ScaledJobs with `azure-servicebus` triggers authenticated through a
//! `TriggerAuthentication` with `podIdentity.provider: azure-workload`).
//!
//! Everything is decided from the resources' content: the AKS cluster's OIDC issuer and
//! workload identity setting, user-assigned identities and their federated identity
//! credentials (issuer, subject, audience), role assignments (Service Bus data roles at the
//! queue's scope or above), the queue's message count, ServiceAccount annotations, pod
//! template labels and env, and when kube-system/keda-operator's pods last (re)started.
//!
//! # When controllers run
//!
//! [`reconcile`] runs one *round* after every request that changed the world (an ARM write, a
//! finished ARM operation, a Kubernetes write, an admin change), inside the same lock, before
//! the answer is sent; `POST /_sim/settle` ([`settle`]) runs rounds until nothing changes.
//! On `instant` that is all (no timers, every delay zero unless set through `/_sim/config`).
//! On `demo` and `realistic` a ticker also runs rounds as time passes, and `clock` decides
//! when a Job may retry (its backoff), when KEDA polls a ScaledJob (its `pollingInterval`) and
//! when role assignments and federated credentials have propagated. A round, per cluster:
//!
//! 1. notes whether keda-operator's pod template changed since the last round (a rollout
//!    restart: its pods restart at this logical time, [`crate::World::clock`]);
//! 0. keeps the workload-identity add-on's objects in kube-system in line with the managed
//!    cluster, then runs the Deployment and ReplicaSet controllers (`deployments`): a
//!    ReplicaSet per pod template, Running pods per ReplicaSet, statuses;
//! 2. deletes pods and Jobs whose owner is gone (garbage collection);
//! 3. gives every unfinished Job one pod (an *attempt*): success completes it; a failure
//!    counts in `status.failed`, and the Job is retried in the next round, until more than
//!    `backoffLimit` (default 6) attempts failed, when it fails with `BackoffLimitExceeded`.
//!    A round stands for a backoff period: a prerequisite that arrives in a later request
//!    (a role assignment written just after the Job) is seen by the retry;
//! 4. polls every ScaledJob's triggers once (KEDA's polling interval): on success it creates
//!    `min(ceil(queue length / messageCount), maxReplicaCount) - running jobs` Jobs, which
//!    get their first attempt in the same round; on failure it records a `KEDAScalerFailed`
//!    event, once per distinct reason, and the next round tries again. Finished Jobs beyond
//!    `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` (default 100) are deleted,
//!    oldest first, with their pods.
//!
//! Only the default scaling strategy is simulated, and `azure-servicebus` queue triggers with
//! workload identity (topics and connection strings answer `KEDAScalerFailed`; other trigger
//! types are accepted and never active); Jobs' `activeDeadlineSeconds` and
//! `ttlSecondsAfterFinished` are not simulated.
//!
//! # Layout
//!
//! One module per controller, each using only those before it: `clock` (time as the
//! controllers see it), `kube` (how controllers read and write objects), `identity` (the workload-identity chain and the queues, decided from
//! the ARM store), `workload` (the sample image's pods), `jobs` (the Job controller and
//! garbage collection), `keda` (the KEDA operator); beside them `addons` (the workload-identity
//! add-on's objects), `replicasets` and `deployments` (which uses `replicasets`), which use
//! only `kube`. This file only runs the rounds.

use super::cluster::Cluster;
use crate::World;

mod addons;
mod clock;
mod deployments;
mod identity;
mod jobs;
mod keda;
mod kube;
mod replicasets;
mod workload;

use identity::Azure;

/// Runs one round of every cluster's controllers. Returns whether anything changed.
pub fn reconcile(world: &mut World) -> bool {
    let keys: Vec<String> = world.clusters.keys().cloned().collect();
    let mut changed = false;
    for key in keys {
        let Some(mut cluster) = world.clusters.remove(&key) else {
            continue;
        };
        let aks = world
            .arm
            .resources
            .values()
            .find(|r| {
                r.cluster_key.as_deref() == Some(key.as_str()) && r.deleting_until_ms.is_none()
            })
            .map(|r| r.body.clone());
        let mut azure = Azure {
            aks: aks.as_ref(),
            store: &mut world.arm,
        };
        changed |= round(&mut azure, &mut world.clock, &mut cluster);
        world.clusters.insert(key, cluster);
    }
    changed
}

/// Runs rounds until one changes nothing (at most `max_rounds`): time passes, so failing
/// Jobs use up their retries. Returns the number of rounds run.
pub fn settle(world: &mut World, max_rounds: usize) -> usize {
    for i in 0..max_rounds {
        if !reconcile(world) {
            return i + 1;
        }
    }
    max_rounds
}

/// One round of one cluster's controllers (the steps in the module documentation).
fn round(azure: &mut Azure<'_>, clock: &mut u64, c: &mut Cluster) -> bool {
    c.runtime.round += 1;
    let mut changed = addons::sync_workload_identity(azure.aks, c);
    changed |= deployments::run_deployments(c);
    changed |= keda::observe_keda_operator(clock, c);
    changed |= jobs::collect_garbage(c);
    changed |= jobs::run_jobs(azure, c);
    if c.keda_enabled && c.runtime.keda_operator.is_some() {
        changed |= keda::poll_scaled_jobs(azure, c);
        changed |= jobs::run_jobs(azure, c);
        changed |= jobs::collect_garbage(c);
    }
    changed
}
