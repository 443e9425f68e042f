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
//! No timers: [`reconcile`] runs one *round* after every request that changed the world (an
//! ARM write, a finished ARM operation, a Kubernetes write, an admin change), inside the same
//! lock, before the answer is sent; `POST /_sim/settle` ([`settle`]) runs rounds until nothing
//! changes. A round, per cluster:
//!
//! 1. notes whether keda-operator's pod template changed since the last round (a rollout
//!    restart: its pods restart at this logical time, [`crate::World::clock`]);
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

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Digest;

use super::objects::object_key;
use super::resources::{self, Res};
use super::{Cluster, now};
use crate::World;
use crate::arm::{self, Resource, roles};

/// What a cluster's controllers remember between rounds (persisted with the cluster).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Runtime {
    /// Rounds run so far; a Job gets at most one pod per round.
    pub round: u64,
    /// kube-system/keda-operator's pod template (JSON) and the logical time its pods started.
    pub keda_operator: Option<(String, u64)>,
    /// Per Job uid: the round of its last attempt.
    pub jobs: BTreeMap<String, u64>,
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
}

const AUDIENCE: &str = "api://AzureADTokenExchange";
const SAMPLE_IMAGE: &str = "aks-app-samples/servicebusdemo";
const KEDA_SUBJECT: &str = "system:serviceaccount:kube-system:keda-operator";
/// The issuer of service account tokens when the OIDC issuer is off.
const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const UAI: &str = "microsoft.managedidentity/userassignedidentities";
const FIC: &str = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials";
const SBNS: &str = "microsoft.servicebus/namespaces";
const RA: &str = "microsoft.authorization/roleassignments";

fn res(group: &str, plural: &str) -> &'static Res {
    let version = match group {
        "keda.sh" => "v1alpha1",
        _ => "v1",
    };
    resources::find(group, version, plural, true).expect("a served resource type")
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

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
        let mut ctx = Round {
            aks: aks.as_ref(),
            store: &mut world.arm,
            clock: &mut world.clock,
        };
        changed |= ctx.run(&mut cluster);
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

struct Round<'a> {
    aks: Option<&'a Value>,
    store: &'a mut arm::Store,
    clock: &'a mut u64,
}

/// A token Entra would issue for a workload identity.
struct Identity {
    principal_id: String,
}

/// The outcome of one pod.
struct PodRun {
    ok: bool,
    log: String,
    /// Why it failed (the last line a real pod would log).
    error: Option<String>,
}

impl Round<'_> {
    fn run(&mut self, c: &mut Cluster) -> bool {
        c.runtime.round += 1;
        let mut changed = self.observe_keda_operator(c);
        changed |= collect_garbage(c);
        changed |= self.run_jobs(c);
        if c.keda_enabled && c.runtime.keda_operator.is_some() {
            changed |= self.poll_scaled_jobs(c);
            changed |= self.run_jobs(c);
            changed |= collect_garbage(c);
        }
        changed
    }

    /// A changed pod template of kube-system/keda-operator means its pods restarted now.
    fn observe_keda_operator(&mut self, c: &mut Cluster) -> bool {
        let template = c
            .get(
                res("apps", "deployments"),
                Some("kube-system"),
                "keda-operator",
            )
            .filter(|_| c.keda_enabled)
            .map(|d| {
                d.pointer("/spec/template")
                    .cloned()
                    .unwrap_or_default()
                    .to_string()
            });
        match (template, &c.runtime.keda_operator) {
            (None, None) => false,
            (None, Some(_)) => {
                c.runtime.keda_operator = None;
                true
            }
            (Some(t), Some((old, _))) if *old == t => false,
            (Some(t), _) => {
                *self.clock += 1;
                c.runtime.keda_operator = Some((t, *self.clock));
                true
            }
        }
    }

    fn run_jobs(&mut self, c: &mut Cluster) -> bool {
        let jobs: Vec<Value> = c
            .list(res("batch", "jobs"), None)
            .into_iter()
            .cloned()
            .collect();
        let mut changed = false;
        for job in jobs {
            let uid = s(&job, "/metadata/uid").to_string();
            if finished(&job) || job.pointer("/spec/suspend") == Some(&json!(true)) {
                continue;
            }
            let round = c.runtime.round;
            if c.runtime.jobs.get(&uid) == Some(&round) {
                continue;
            }
            c.runtime.jobs.insert(uid, round);
            self.attempt(c, &job);
            changed = true;
        }
        changed
    }

    /// One attempt of a Job: pods until its completions are reached or one fails.
    fn attempt(&mut self, c: &mut Cluster, job: &Value) {
        let jobs = res("batch", "jobs");
        let ns = s(job, "/metadata/namespace").to_string();
        let name = s(job, "/metadata/name").to_string();
        let completions = job
            .pointer("/spec/completions")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let backoff_limit = job
            .pointer("/spec/backoffLimit")
            .and_then(Value::as_i64)
            .unwrap_or(6);
        let mut succeeded = job
            .pointer("/status/succeeded")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let mut failed = job
            .pointer("/status/failed")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let start = job
            .pointer("/status/startTime")
            .cloned()
            .unwrap_or_else(|| json!(now()));
        let template = job.pointer("/spec/template").cloned().unwrap_or_default();
        let mut last_failure = None;
        while succeeded < completions {
            let run = self.run_pod(c, &ns, &template);
            let pod = create_pod(c, &ns, job, &template, &run);
            event(
                c,
                job,
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {pod}"),
                "job-controller",
            );
            if run.ok {
                succeeded += 1;
            } else {
                failed += 1;
                last_failure = run.error;
                break;
            }
        }
        let t = json!(now());
        let mut status = json!({
            "startTime": start, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {},
        });
        if succeeded > 0 {
            status["succeeded"] = json!(succeeded);
        }
        if failed > 0 {
            status["failed"] = json!(failed);
        }
        if succeeded >= completions {
            status["completionTime"] = t.clone();
            status["conditions"] = json!([
                {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": t, "lastTransitionTime": t,
                 "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
                {"type": "Complete", "status": "True", "lastProbeTime": t, "lastTransitionTime": t,
                 "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
            ]);
        } else if failed > backoff_limit {
            status["conditions"] = json!([
                {"type": "FailureTarget", "status": "True", "lastProbeTime": t, "lastTransitionTime": t,
                 "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"},
                {"type": "Failed", "status": "True", "lastProbeTime": t, "lastTransitionTime": t,
                 "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"},
            ]);
        } else {
            status["active"] = json!(1);
        }
        if let Some(reason) = &last_failure {
            event(
                c,
                job,
                "Warning",
                "PodFailed",
                &format!("Pod failed with exit code 1: {reason}"),
                "job-controller",
            );
        }
        write_status(c, jobs, Some(&ns), &name, status);
        let job = c.get(jobs, Some(&ns), &name).cloned().unwrap_or_default();
        if succeeded >= completions {
            event(
                c,
                &job,
                "Normal",
                "Completed",
                "Job completed",
                "job-controller",
            );
        } else if failed > backoff_limit {
            event(
                c,
                &job,
                "Warning",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                "job-controller",
            );
        }
    }

    /// What one pod of `template` does. Pods of the AKS sample image `servicebusdemo` send
    /// (`OPERATION_MODE=producer`) or receive (`consumer`) `MESSAGE_COUNT` messages on the
    /// queue `AZURE_SERVICEBUS_QUEUE_NAME` of `AZURE_SERVICEBUS_HOSTNAME`
    /// (`<namespace>.servicebus.windows.net`), authenticated as the workload identity of the
    /// pod's ServiceAccount; any other image just succeeds.
    fn run_pod(&mut self, c: &Cluster, ns: &str, template: &Value) -> PodRun {
        let container = template
            .pointer("/spec/containers/0")
            .cloned()
            .unwrap_or_default();
        if !s(&container, "/image").contains(SAMPLE_IMAGE) {
            return PodRun {
                ok: true,
                log: String::new(),
                error: None,
            };
        }
        let env = resolve_env(c, ns, &container);
        match self.servicebus_demo(c, ns, template, &env) {
            Ok(log) => PodRun {
                ok: true,
                log,
                error: None,
            },
            Err((mut log, error)) => {
                log.push_str(&error);
                log.push('\n');
                PodRun {
                    ok: false,
                    log,
                    error: Some(error),
                }
            }
        }
    }

    fn servicebus_demo(
        &mut self,
        c: &Cluster,
        ns: &str,
        template: &Value,
        env: &BTreeMap<String, String>,
    ) -> Result<String, (String, String)> {
        let get = |k: &str| env.get(k).map(String::as_str).unwrap_or_default();
        let mode = get("OPERATION_MODE").to_ascii_lowercase();
        let fail = |msg: String| Err((String::new(), msg));
        if mode != "producer" && mode != "consumer" {
            return fail(format!(
                "invalid OPERATION_MODE {:?}: expected \"producer\" or \"consumer\"",
                get("OPERATION_MODE")
            ));
        }
        let Ok(count) = get("MESSAGE_COUNT").trim().parse::<i64>() else {
            return fail(format!(
                "invalid MESSAGE_COUNT {:?}: expected a number",
                get("MESSAGE_COUNT")
            ));
        };
        let (queue, host) = (
            get("AZURE_SERVICEBUS_QUEUE_NAME"),
            get("AZURE_SERVICEBUS_HOSTNAME"),
        );
        if queue.is_empty() || host.is_empty() {
            return fail(
                "AZURE_SERVICEBUS_QUEUE_NAME and AZURE_SERVICEBUS_HOSTNAME must be set".into(),
            );
        }
        let mut log = format!(
            "{} {count} messages {} queue {queue} on {host}\n",
            if mode == "producer" {
                "Sending"
            } else {
                "Receiving"
            },
            if mode == "producer" { "to" } else { "from" }
        );
        let verb = if mode == "producer" {
            "failed to send messages"
        } else {
            "failed to receive messages"
        };
        let sa = ["/spec/serviceAccountName", "/spec/serviceAccount"]
            .iter()
            .map(|p| s(template, p))
            .find(|v| !v.is_empty())
            .unwrap_or("default");
        let Some(sa_obj) = c.get(res("", "serviceaccounts"), Some(ns), sa) else {
            return Err((
                log,
                format!(
                    "pods is forbidden: error looking up service account {ns}/{sa}: serviceaccount \"{sa}\" not found"
                ),
            ));
        };
        let labeled = template
            .pointer("/metadata/labels/azure.workload.identity~1use")
            .and_then(Value::as_str)
            == Some("true");
        let client_id = env
            .get("AZURE_CLIENT_ID")
            .cloned()
            .or_else(|| {
                labeled
                    .then(|| {
                        sa_obj
                            .pointer("/metadata/annotations/azure.workload.identity~1client-id")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .flatten()
            })
            .filter(|v| !v.is_empty());
        let subject = format!("system:serviceaccount:{ns}:{sa}");
        let identity = self
            .workload_identity(labeled, client_id.as_deref(), &subject, None)
            .map_err(|e| (log.clone(), format!("{verb}: {e}")))?;
        let queue_key = self
            .queue(host, queue)
            .map_err(|e| (log.clone(), format!("{verb}: {e}")))?;
        let (roles_ok, claim) = if mode == "producer" {
            (
                [
                    "Azure Service Bus Data Owner",
                    "Azure Service Bus Data Sender",
                ],
                "Send",
            )
        } else {
            (
                [
                    "Azure Service Bus Data Owner",
                    "Azure Service Bus Data Receiver",
                ],
                "Listen",
            )
        };
        if !self.has_role(&identity.principal_id, &queue_key, &roles_ok) {
            return Err((
                log,
                format!(
                    "{verb}: (unauthorized): Unauthorized access. '{claim}' claim(s) are required to perform this operation. Resource: 'sb://{host}/{queue}'."
                ),
            ));
        }
        let available = queue_count(self.store, &queue_key);
        if mode == "producer" {
            for i in 1..=count {
                log.push_str(&format!("Sent message {i}\n"));
            }
            set_queue_count(self.store, &queue_key, available + count);
            log.push_str(&format!("Sent {count} messages\n"));
        } else {
            let taken = count.min(available).max(0);
            for i in 1..=taken {
                log.push_str(&format!("Received message {i}\n"));
            }
            set_queue_count(self.store, &queue_key, available - taken);
            log.push_str(&format!("Received {taken} messages\n"));
        }
        Ok(log)
    }

    /// Whether Entra issues a token for the identity with `client_id` to a workload whose
    /// service account token has `subject` (issued by this cluster's OIDC issuer). With
    /// `started`, the workload's pods started at that logical time and hold on to what they
    /// got then: a credential created (or changed) later does not help them until a restart.
    fn workload_identity(
        &self,
        webhook: bool,
        client_id: Option<&str>,
        subject: &str,
        started: Option<u64>,
    ) -> Result<Identity, String> {
        let enabled = self
            .aks
            .and_then(|a| a.pointer("/properties/securityProfile/workloadIdentity/enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !enabled || !webhook {
            return Err("DefaultAzureCredential: failed to acquire a token. WorkloadIdentityCredential: no token file specified. Check pod configuration or set TokenFilePath in the options".into());
        }
        let Some(client_id) = client_id else {
            return Err("DefaultAzureCredential: failed to acquire a token. WorkloadIdentityCredential: no client ID specified. Check pod configuration or set ClientID in the options".into());
        };
        let issuer = self
            .aks
            .filter(|a| a.pointer("/properties/oidcIssuerProfile/enabled") == Some(&json!(true)))
            .map(|a| s(a, "/properties/oidcIssuerProfile/issuerURL"))
            .filter(|i| !i.is_empty())
            .unwrap_or(DEFAULT_ISSUER);
        let uai = self.store.resources.iter().find(|(_, r)| {
            live_of_type(r, UAI)
                && s(&r.body, "/properties/clientId").eq_ignore_ascii_case(client_id)
        });
        let Some((uai_key, uai)) = uai else {
            return Err(format!(
                "WorkloadIdentityCredential authentication failed. AADSTS700016: Application with identifier '{client_id}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ));
        };
        let prefix = format!("{uai_key}/federatedidentitycredentials/");
        let matching: Vec<&Resource> = self
            .store
            .resources
            .iter()
            .filter(|(k, r)| k.starts_with(&prefix) && live_of_type(r, FIC))
            .map(|(_, r)| r)
            .filter(|r| {
                s(&r.body, "/properties/issuer") == issuer
                    && s(&r.body, "/properties/subject") == subject
                    && r.body
                        .pointer("/properties/audiences")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(AUDIENCE)))
            })
            .collect();
        let no_match = format!(
            "WorkloadIdentityCredential authentication failed. AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{AUDIENCE}'."
        );
        if matching.is_empty() {
            return Err(no_match);
        }
        if let Some(started) = started
            && !matching.iter().any(|f| f.tick < started)
        {
            let fic = s(&matching[0].body, "/name");
            return Err(format!(
                "{no_match} (the keda-operator pods started before the federated identity credential '{fic}' existed and keep failing with the credential they started with: restart them, e.g. kubectl rollout restart deployment keda-operator -n kube-system)"
            ));
        }
        Ok(Identity {
            principal_id: s(&uai.body, "/properties/principalId").to_string(),
        })
    }

    /// The ARM key of queue `queue` of the namespace behind `host`.
    fn queue(&self, host: &str, queue: &str) -> Result<String, String> {
        let unknown = || format!("dial tcp: lookup {host}: no such host");
        let name = host
            .to_ascii_lowercase()
            .strip_suffix(".servicebus.windows.net")
            .map(str::to_string)
            .ok_or_else(unknown)?;
        let (ns_key, _) = self
            .store
            .resources
            .iter()
            .find(|(_, r)| live_of_type(r, SBNS) && s(&r.body, "/name").eq_ignore_ascii_case(&name))
            .ok_or_else(unknown)?;
        let key = format!("{ns_key}/queues/{}", queue.to_ascii_lowercase());
        match self.store.resources.get(&key) {
            Some(r) if r.deleting_until_ms.is_none() => Ok(key),
            _ => Err(format!(
                "(NotFound) The messaging entity 'sb://{host}/{queue}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions."
            )),
        }
    }

    /// Whether `principal` holds one of `role_names` at `target`'s scope or above.
    fn has_role(&self, principal: &str, target: &str, role_names: &[&str]) -> bool {
        let guids: Vec<&str> = role_names
            .iter()
            .filter_map(|n| roles::by_name(n))
            .map(|i| roles::BUILT_IN[i].1)
            .collect();
        self.store.resources.values().any(|r| {
            if !live_of_type(r, RA) {
                return false;
            }
            let p = &r.body["properties"];
            let role = s(p, "/roleDefinitionId")
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let scope = s(p, "/scope").trim_end_matches('/').to_ascii_lowercase();
            s(p, "/principalId").eq_ignore_ascii_case(principal)
                && guids.iter().any(|g| g.eq_ignore_ascii_case(role))
                && (scope.is_empty() || target == scope || target.starts_with(&format!("{scope}/")))
        })
    }

    fn poll_scaled_jobs(&mut self, c: &mut Cluster) -> bool {
        let list: Vec<Value> = c
            .list(res("keda.sh", "scaledjobs"), None)
            .into_iter()
            .cloned()
            .collect();
        let mut changed = false;
        for sj in list {
            changed |= self.poll(c, &sj);
        }
        changed
    }

    /// One polling interval of one ScaledJob.
    fn poll(&mut self, c: &mut Cluster, sj: &Value) -> bool {
        let sj_r = res("keda.sh", "scaledjobs");
        let uid = s(sj, "/metadata/uid").to_string();
        let ns = s(sj, "/metadata/namespace").to_string();
        let name = s(sj, "/metadata/name").to_string();
        let mut run = c.runtime.scaled_jobs.get(&uid).cloned().unwrap_or_default();
        let mut changed = false;
        if !run.started {
            event(
                c,
                sj,
                "Normal",
                "KEDAScalersStarted",
                "Started scalers watch",
                "scale-handler",
            );
            event(
                c,
                sj,
                "Normal",
                "ScaledJobReady",
                "ScaledJob is ready for scaling",
                "keda-operator",
            );
            run.started = true;
            changed = true;
        }
        let triggers = sj
            .pointer("/spec/triggers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let results: Vec<Result<(i64, i64, i64), String>> = triggers
            .iter()
            .enumerate()
            .map(|(i, t)| self.scaler(c, &ns, i, t))
            .collect();
        let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        match errors.first() {
            Some(err) => {
                if run.last_error.as_deref() != Some(err.as_str()) {
                    event(c, sj, "Warning", "KEDAScalerFailed", err, "scale-handler");
                    run.last_error = Some((*err).clone());
                    changed = true;
                }
            }
            None => {
                if run.last_error.take().is_some() {
                    changed = true;
                }
            }
        }
        let ok: Vec<(i64, i64, i64)> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .copied()
            .collect();
        let active = ok.iter().any(|(len, _, activation)| len > activation);
        let wanted = ok
            .iter()
            .map(|(len, target, _)| (len + target - 1) / target.max(&1))
            .max()
            .unwrap_or(0);
        let max_replicas = sj
            .pointer("/spec/maxReplicaCount")
            .and_then(Value::as_i64)
            .unwrap_or(100);
        let max_scale = if active { wanted.min(max_replicas) } else { 0 };
        let running = c
            .list(res("batch", "jobs"), Some(&ns))
            .into_iter()
            .filter(|j| owned_by(j, &uid) && !finished(j))
            .count() as i64;
        let to_create = (max_scale - running).max(0);
        let mut created = 0;
        for _ in 0..to_create {
            match create_job_for(c, sj) {
                Ok(()) => created += 1,
                Err(e) => {
                    event(c, sj, "Warning", "KEDAJobCreateFailed", &e, "scale-handler");
                    break;
                }
            }
        }
        changed |= prune_history(c, sj);
        if created > 0 {
            event(
                c,
                sj,
                "Normal",
                "KEDAJobsCreated",
                &format!("Created {created} jobs"),
                "scale-handler",
            );
            changed = true;
        }
        c.runtime.scaled_jobs.insert(uid, run);
        let (ready, ready_reason, ready_msg) = if errors.is_empty() {
            (
                "True",
                "ScaledJobReady",
                "ScaledJob is defined correctly and is ready to scaling",
            )
        } else if errors.len() == results.len() {
            (
                "False",
                "TriggerError",
                "Triggers defined in ScaledJob are not working correctly",
            )
        } else {
            (
                "Unknown",
                "PartialTriggerError",
                "Some triggers defined in ScaledJob are not working correctly",
            )
        };
        let (act, act_reason, act_msg) = if active {
            (
                "True",
                "ScalerActive",
                "Scaling is performed because triggers are active",
            )
        } else {
            (
                "False",
                "ScalerNotActive",
                "Scaling is not performed because triggers are not active",
            )
        };
        let before = sj.get("status").cloned().unwrap_or_else(|| json!({}));
        let mut status = before.clone();
        let mut conditions = vec![
            json!({"type": "Ready", "status": ready, "reason": ready_reason, "message": ready_msg}),
            json!({"type": "Active", "status": act, "reason": act_reason, "message": act_msg}),
        ];
        for kept in before
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| !matches!(s(c, "/type"), "Ready" | "Active"))
        {
            conditions.push(kept.clone());
        }
        status["conditions"] = json!(conditions);
        if active && (created > 0 || status.get("lastActiveTime").is_none()) {
            status["lastActiveTime"] = json!(now());
        }
        if status != before {
            write_status(c, sj_r, Some(&ns), &name, status);
            changed = true;
        }
        changed
    }

    /// One `azure-servicebus` trigger: `(active messages, messageCount, activationMessageCount)`.
    fn scaler(
        &self,
        c: &Cluster,
        ns: &str,
        i: usize,
        trigger: &Value,
    ) -> Result<(i64, i64, i64), String> {
        if s(trigger, "/type") != "azure-servicebus" {
            // Not simulated (cron, cpu, …): a scaler that is never active.
            return Ok((0, 1, 0));
        }
        let md = trigger.get("metadata").cloned().unwrap_or_default();
        let number = |k: &str, default: i64| -> Result<i64, String> {
            match md.get(k) {
                None => Ok(default),
                Some(v) => v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| {
                        format!("error parsing azure service bus metadata: invalid {k}: {v}")
                    }),
            }
        };
        let target = number("messageCount", 5)?;
        let activation = number("activationMessageCount", 0)?;
        let queue = s(&md, "/queueName");
        if queue.is_empty() {
            return Err("error parsing azure service bus metadata: no queue name given (topics are not simulated)".into());
        }
        let no_connection =
            || "error parsing azure service bus metadata: no connection setting given".to_string();
        let auth_name = s(trigger, "/authenticationRef/name");
        if auth_name.is_empty() {
            return Err(no_connection());
        }
        let auth = match s(trigger, "/authenticationRef/kind") {
            "ClusterTriggerAuthentication" => c
                .get(res("keda.sh", "clustertriggerauthentications"), None, auth_name)
                .ok_or_else(|| format!("error resolving auth params for trigger #{i}: clustertriggerauthentications.keda.sh \"{auth_name}\" not found"))?,
            _ => c
                .get(res("keda.sh", "triggerauthentications"), Some(ns), auth_name)
                .ok_or_else(|| format!("error resolving auth params for trigger #{i}: triggerauthentications.keda.sh \"{auth_name}\" not found"))?,
        };
        if s(auth, "/spec/podIdentity/provider") != "azure-workload" {
            return Err(no_connection());
        }
        let sb_ns = s(&md, "/namespace");
        if sb_ns.is_empty() {
            return Err("error parsing azure service bus metadata: namespace is required when using pod identity".into());
        }
        let client_id = Some(s(auth, "/spec/podIdentity/identityId"))
            .filter(|v| !v.is_empty())
            .or_else(|| {
                c.get(
                    res("", "serviceaccounts"),
                    Some("kube-system"),
                    "keda-operator",
                )
                .map(|sa| {
                    s(
                        sa,
                        "/metadata/annotations/azure.workload.identity~1client-id",
                    )
                })
                .filter(|v| !v.is_empty())
            });
        let started = c.runtime.keda_operator.as_ref().map(|(_, t)| *t);
        let prefix = "error getting service bus entity length";
        let identity = self
            .workload_identity(true, client_id, KEDA_SUBJECT, started)
            .map_err(|e| format!("{prefix}: {e}"))?;
        let host = format!("{sb_ns}.servicebus.windows.net");
        let key = self
            .queue(&host, queue)
            .map_err(|e| format!("{prefix}: {e}"))?;
        if !self.has_role(
            &identity.principal_id,
            &key,
            &["Azure Service Bus Data Owner"],
        ) {
            return Err(format!(
                "{prefix}: GET https://{host}/{queue}: RESPONSE 401: 401 Unauthorized: <Error><Code>401</Code><Detail>Manage,EntityRead claims required for this operation. SystemTracker:{host}:Queue:{queue}</Detail></Error>"
            ));
        }
        Ok((queue_count(self.store, &key), target.max(1), activation))
    }
}

fn live_of_type(r: &Resource, lower_type: &str) -> bool {
    r.deleting_until_ms.is_none()
        && r.body
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(lower_type))
}

fn queue_count(store: &arm::Store, key: &str) -> i64 {
    store
        .resources
        .get(key)
        .and_then(|r| {
            r.body
                .pointer("/properties/countDetails/activeMessageCount")
        })
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn set_queue_count(store: &mut arm::Store, key: &str, count: i64) {
    let Some(r) = store.resources.get_mut(key) else {
        return;
    };
    let p = &mut r.body["properties"];
    p["messageCount"] = json!(count);
    p["sizeInBytes"] = json!(count * 256);
    p["accessedAt"] = json!(arm::rfc3339(arm::now_ms()));
    if !p.get("countDetails").is_some_and(Value::is_object) {
        p["countDetails"] = json!({"deadLetterMessageCount": 0, "scheduledMessageCount": 0, "transferMessageCount": 0, "transferDeadLetterMessageCount": 0});
    }
    p["countDetails"]["activeMessageCount"] = json!(count);
}

fn finished(job: &Value) -> bool {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                matches!(s(c, "/type"), "Complete" | "Failed") && s(c, "/status") == "True"
            })
        })
}

fn owned_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| s(r, "/uid") == uid))
}

/// The container's environment: `env` values and `valueFrom` ConfigMap/Secret keys.
fn resolve_env(c: &Cluster, ns: &str, container: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = s(e, "/name").to_string();
        let value = if let Some(v) = e.get("value") {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        } else if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
            c.get(res("", "configmaps"), Some(ns), s(r, "/name"))
                .and_then(|cm| cm.get("data"))
                .and_then(|d| d.get(s(r, "/key")))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        } else if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
            use base64::Engine;
            c.get(res("", "secrets"), Some(ns), s(r, "/name"))
                .and_then(|sec| sec.get("data"))
                .and_then(|d| d.get(s(r, "/key")))
                .and_then(Value::as_str)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        out.insert(name, value);
    }
    out
}

/// A deterministic 5-character suffix as Kubernetes generates them (no vowels).
fn suffix(seed: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    sha2::Sha256::digest(seed.as_bytes())
        .iter()
        .take(5)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn next_serial(c: &mut Cluster) -> u64 {
    c.runtime.serial += 1;
    c.runtime.serial
}

/// Stores `obj` as is (a controller's write), with a new resourceVersion.
fn store_raw(c: &mut Cluster, r: &Res, ns: Option<&str>, name: &str, mut obj: Value) {
    let rv = c.next_rv();
    obj["metadata"]["resourceVersion"] = json!(rv);
    c.objects
        .entry(r.qualified())
        .or_default()
        .insert(object_key(ns, name), obj);
}

/// Writes an object's status (as its controller does through the status subresource).
fn write_status(c: &mut Cluster, r: &Res, ns: Option<&str>, name: &str, status: Value) -> bool {
    let Some(mut obj) = c.get(r, ns, name).cloned() else {
        return false;
    };
    if obj.get("status") == Some(&status) {
        return false;
    }
    obj["status"] = status;
    store_raw(c, r, ns, name, obj);
    true
}

/// Records an event about `obj` (a repeat of the same reason and message counts up).
fn event(c: &mut Cluster, obj: &Value, kind: &str, reason: &str, message: &str, component: &str) {
    let ev = res("", "events");
    let ns = Some(s(obj, "/metadata/namespace"))
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_string();
    let uid = s(obj, "/metadata/uid").to_string();
    let t = json!(now());
    let existing = c
        .list(ev, Some(&ns))
        .into_iter()
        .find(|e| {
            s(e, "/involvedObject/uid") == uid
                && s(e, "/reason") == reason
                && s(e, "/message") == message
        })
        .cloned();
    if let Some(mut e) = existing {
        let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
        e["count"] = json!(count + 1);
        e["lastTimestamp"] = t;
        let name = s(&e, "/metadata/name").to_string();
        store_raw(c, ev, Some(&ns), &name, e);
        return;
    }
    // Kubernetes names events `<object>.<hex of a timestamp>`: increasing, as this counter.
    let serial = next_serial(c);
    let name = format!(
        "{}.{:016x}",
        s(obj, "/metadata/name"),
        (1u64 << 60) + serial
    );
    let body = json!({
        "metadata": {"name": name},
        "involvedObject": {
            "kind": s(obj, "/kind"), "namespace": ns, "name": s(obj, "/metadata/name"),
            "uid": uid, "apiVersion": s(obj, "/apiVersion"),
            "resourceVersion": s(obj, "/metadata/resourceVersion"),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": t.clone(),
        "lastTimestamp": t,
        "count": 1,
        "type": kind,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": "",
    });
    if let Err(e) = c.create(ev, Some(&ns), body, component, false) {
        tracing::warn!("recording event {reason}: {}", e.message);
    }
}

/// Creates the pod of one attempt of `job`, finished as `run` says; returns its name.
fn create_pod(c: &mut Cluster, ns: &str, job: &Value, template: &Value, run: &PodRun) -> String {
    let pods = res("", "pods");
    let job_name = s(job, "/metadata/name");
    let job_uid = s(job, "/metadata/uid");
    let serial = next_serial(c);
    let name = format!("{job_name}-{}", suffix(&format!("{job_uid}/{serial}")));
    let mut meta = Map::new();
    meta.insert("name".into(), json!(name));
    for k in ["labels", "annotations"] {
        if let Some(v) = template.pointer(&format!("/metadata/{k}")) {
            meta.insert(k.into(), v.clone());
        }
    }
    meta.insert(
        "ownerReferences".into(),
        json!([{"apiVersion": "batch/v1", "kind": "Job", "name": job_name, "uid": job_uid,
                "controller": true, "blockOwnerDeletion": true}]),
    );
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    spec["nodeName"] = json!("aks-system-00000000-vmss000000");
    let body = json!({"metadata": meta, "spec": spec});
    if let Err(e) = c.create(pods, Some(ns), body, "kube-controller-manager", false) {
        tracing::warn!("creating pod {name}: {}", e.message);
        return name;
    }
    let t = json!(now());
    let containers: Vec<Value> = template
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|ct| {
            json!({
                "name": ct["name"], "image": ct["image"], "imageID": "", "ready": false,
                "restartCount": 0, "started": false,
                "containerID": format!("containerd://{}", suffix(&format!("{name}/container"))),
                "state": {"terminated": {
                    "exitCode": if run.ok { 0 } else { 1 },
                    "reason": if run.ok { "Completed" } else { "Error" },
                    "startedAt": t, "finishedAt": t,
                }},
            })
        })
        .collect();
    let status = json!({
        "phase": if run.ok { "Succeeded" } else { "Failed" },
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": t, "reason": "PodCompleted"},
            {"type": "Ready", "status": "False", "lastTransitionTime": t, "reason": "PodCompleted"},
            {"type": "ContainersReady", "status": "False", "lastTransitionTime": t, "reason": "PodCompleted"},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
        ],
        "hostIP": "10.224.0.4", "podIP": "10.244.0.10", "startTime": t,
        "qosClass": "BestEffort",
        "containerStatuses": containers,
    });
    write_status(c, pods, Some(ns), &name, status);
    c.runtime
        .logs
        .insert(object_key(Some(ns), &name), run.log.clone());
    name
}

/// Creates one Job of a ScaledJob, as KEDA does.
fn create_job_for(c: &mut Cluster, sj: &Value) -> Result<(), String> {
    let ns = s(sj, "/metadata/namespace").to_string();
    let sj_name = s(sj, "/metadata/name").to_string();
    let uid = s(sj, "/metadata/uid").to_string();
    let serial = next_serial(c);
    let name = format!("{sj_name}-{}", suffix(&format!("{uid}/{serial}")));
    let mut spec = sj
        .pointer("/spec/jobTargetRef")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !spec
        .pointer("/template/metadata/labels")
        .is_some_and(Value::is_object)
    {
        spec["template"]["metadata"]["labels"] = json!({});
    }
    spec["template"]["metadata"]["labels"]["scaledjob.keda.sh/name"] = json!(sj_name);
    let mut labels = sj
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in [
        ("app.kubernetes.io/managed-by", "keda-operator"),
        ("app.kubernetes.io/name", sj_name.as_str()),
        ("app.kubernetes.io/part-of", sj_name.as_str()),
        ("app.kubernetes.io/version", "2.14.1"),
        ("scaledjob.keda.sh/name", sj_name.as_str()),
    ] {
        labels.insert(k.into(), json!(v));
    }
    let body = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {
            "name": name, "labels": labels,
            "ownerReferences": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "name": sj_name,
                                  "uid": uid, "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": spec,
    });
    c.create(res("batch", "jobs"), Some(&ns), body, "keda", false)
        .map(|_| ())
        .map_err(|e| format!("failed to create job {name}: {}", e.message))
}

/// Deletes a ScaledJob's oldest finished Jobs beyond `successfulJobsHistoryLimit` and
/// `failedJobsHistoryLimit` (100 each by default), as KEDA does.
fn prune_history(c: &mut Cluster, sj: &Value) -> bool {
    let jobs_r = res("batch", "jobs");
    let ns = s(sj, "/metadata/namespace").to_string();
    let uid = s(sj, "/metadata/uid");
    let mut done: Vec<(String, u64, bool, String)> = c
        .list(jobs_r, Some(&ns))
        .into_iter()
        .filter(|j| owned_by(j, uid) && finished(j))
        .map(|j| {
            let rv = s(j, "/metadata/resourceVersion").parse().unwrap_or(0);
            let failed = j
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|cs| cs.iter().any(|c| s(c, "/type") == "Failed"));
            (
                s(j, "/metadata/creationTimestamp").to_string(),
                rv,
                failed,
                s(j, "/metadata/name").to_string(),
            )
        })
        .collect();
    done.sort();
    let mut changed = false;
    for (failed, key) in [
        (false, "successfulJobsHistoryLimit"),
        (true, "failedJobsHistoryLimit"),
    ] {
        let limit = sj
            .pointer(&format!("/spec/{key}"))
            .and_then(Value::as_i64)
            .unwrap_or(100)
            .max(0) as usize;
        let these: Vec<&String> = done
            .iter()
            .filter(|j| j.2 == failed)
            .map(|j| &j.3)
            .collect();
        for name in these.iter().take(these.len().saturating_sub(limit)) {
            let _ = c.delete(jobs_r, Some(&ns), name, false);
            changed = true;
        }
    }
    changed
}

/// Deletes pods and Jobs whose owner is gone, and forgets what belonged to deleted objects.
fn collect_garbage(c: &mut Cluster) -> bool {
    let mut changed = false;
    loop {
        let uids: BTreeSet<String> = c
            .objects
            .values()
            .flat_map(|m| m.values())
            .map(|o| s(o, "/metadata/uid").to_string())
            .collect();
        let mut orphans = Vec::new();
        for r in [res("", "pods"), res("batch", "jobs")] {
            for o in c.list(r, None) {
                let refs = o
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array);
                if refs.is_some_and(|refs| {
                    !refs.is_empty() && refs.iter().all(|x| !uids.contains(s(x, "/uid")))
                }) {
                    orphans.push((
                        r,
                        s(o, "/metadata/namespace").to_string(),
                        s(o, "/metadata/name").to_string(),
                    ));
                }
            }
        }
        if orphans.is_empty() {
            break;
        }
        for (r, ns, name) in orphans {
            let _ = c.delete(r, Some(&ns), &name, false);
        }
        changed = true;
    }
    let uids: BTreeSet<String> = c
        .objects
        .values()
        .flat_map(|m| m.values())
        .map(|o| s(o, "/metadata/uid").to_string())
        .collect();
    let pods: BTreeSet<String> = c
        .objects
        .get("pods")
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let before = (
        c.runtime.jobs.len(),
        c.runtime.scaled_jobs.len(),
        c.runtime.logs.len(),
    );
    c.runtime.jobs.retain(|u, _| uids.contains(u));
    c.runtime.scaled_jobs.retain(|u, _| uids.contains(u));
    c.runtime.logs.retain(|k, _| pods.contains(k));
    changed
        || before
            != (
                c.runtime.jobs.len(),
                c.runtime.scaled_jobs.len(),
                c.runtime.logs.len(),
            )
}
