//! The KEDA operator: notices restarts of kube-system/keda-operator (a changed pod
//! template), polls every ScaledJob's triggers once per round — `azure-servicebus` queue
//! triggers authenticated with workload identity through a (Cluster)TriggerAuthentication —
//! creates the Jobs the queue length asks for, records scaler failures as events (once per
//! distinct reason) and prunes finished Jobs beyond the history limits.

use serde_json::{Value, json};

use super::super::cluster::Cluster;
use super::super::time::now;
use super::clock;
use super::identity::Azure;
use super::kube::{event, finished, next_serial, owned_by, res, s, suffix, write_status};

const KEDA_SUBJECT: &str = "system:serviceaccount:kube-system:keda-operator";

/// A changed pod template of kube-system/keda-operator means its pods restarted now.
pub(super) fn observe_keda_operator(clock: &mut u64, c: &mut Cluster) -> bool {
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
            *clock += 1;
            c.runtime.keda_operator = Some((t, *clock));
            c.runtime.keda_operator_client_id = c
                .get(
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
                .map(str::to_string);
            true
        }
    }
}

/// What KEDA's operator process authenticates with: `AZURE_CLIENT_ID` and whether
/// `AZURE_FEDERATED_TOKEN_FILE` is set, from its environment. The workload-identity webhook
/// injected both when it created the pod (from the ServiceAccount's annotation then), so a
/// later annotation needs a restart. Read from the newest Running, Ready `app=keda-operator`
/// pod in kube-system; without one (a world saved before the simulator ran pods), from what the ServiceAccount said when the operator last
/// (re)started, with the token file (the add-on's pods are always mutated).
struct OperatorEnv {
    client_id: Option<String>,
    token_file: bool,
}

fn operator_env(c: &Cluster) -> OperatorEnv {
    let pod = c
        .running_pods("kube-system", "app=keda-operator")
        .into_iter()
        .max_by_key(|p| {
            (
                s(p, "/metadata/creationTimestamp").to_string(),
                s(p, "/metadata/resourceVersion")
                    .parse::<u64>()
                    .unwrap_or(0),
            )
        });
    match pod {
        Some(pod) => {
            let env: Vec<&Value> = pod
                .pointer("/spec/containers/0/env")
                .and_then(Value::as_array)
                .map(|e| e.iter().collect())
                .unwrap_or_default();
            let var = |name: &str| {
                env.iter()
                    .find(|e| s(e, "/name") == name)
                    .map(|e| s(e, "/value").to_string())
            };
            OperatorEnv {
                client_id: var("AZURE_CLIENT_ID").filter(|v| !v.is_empty()),
                token_file: var("AZURE_FEDERATED_TOKEN_FILE").is_some_and(|v| !v.is_empty()),
            }
        }
        None => OperatorEnv {
            client_id: c.runtime.keda_operator_client_id.clone(),
            token_file: true,
        },
    }
}

pub(super) fn poll_scaled_jobs(azure: &Azure<'_>, c: &mut Cluster) -> bool {
    let list: Vec<Value> = c
        .list(res("keda.sh", "scaledjobs"), None)
        .into_iter()
        .cloned()
        .collect();
    let mut changed = false;
    for sj in list {
        changed |= poll(azure, c, &sj);
    }
    changed
}

/// One polling interval of one ScaledJob.
fn poll(azure: &Azure<'_>, c: &mut Cluster, sj: &Value) -> bool {
    let sj_r = res("keda.sh", "scaledjobs");
    let uid = s(sj, "/metadata/uid").to_string();
    let ns = s(sj, "/metadata/namespace").to_string();
    let name = s(sj, "/metadata/name").to_string();
    let mut run = c.runtime.scaled_jobs.get(&uid).cloned().unwrap_or_default();
    let interval = sj.pointer("/spec/pollingInterval").and_then(Value::as_u64);
    if !clock::poll_due(&azure.store.settings, interval, run.last_poll_ms) {
        return false;
    }
    run.last_poll_ms = clock::now_ms();
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
        .map(|(i, t)| scaler(azure, c, &ns, i, t))
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
    azure: &Azure<'_>,
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
                .map_err(|_| format!("error parsing azure service bus metadata: invalid {k}: {v}")),
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
    // KEDA (pkg/scalers/azure/azure_aad_workload_identity.go) hands `identityId` to azidentity's
    // WorkloadIdentityCredential as ClientID when set; unset, azidentity reads AZURE_CLIENT_ID
    // and AZURE_FEDERATED_TOKEN_FILE from the operator's environment. The token is always
    // the keda-operator ServiceAccount's, so `identityId` needs a credential for it too.
    let env = operator_env(c);
    let client_id = Some(s(auth, "/spec/podIdentity/identityId"))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .or(env.client_id);
    let started = c.runtime.keda_operator.as_ref().map(|(_, t)| *t);
    let prefix = "error getting service bus entity length";
    let identity = azure
        .workload_identity(env.token_file, client_id.as_deref(), KEDA_SUBJECT, started)
        .map_err(|e| format!("{prefix}: {e}"))?;
    let host = format!("{sb_ns}.servicebus.windows.net");
    let key = azure
        .queue(&host, queue)
        .map_err(|e| format!("{prefix}: {e}"))?;
    if !azure.has_role(
        &identity.principal_id,
        &key,
        &["Azure Service Bus Data Owner"],
    ) {
        return Err(format!(
            "{prefix}: GET https://{host}/{queue}: RESPONSE 401: 401 Unauthorized: <Error><Code>401</Code><Detail>Manage,EntityRead claims required for this operation. SystemTracker:{host}:Queue:{queue}</Detail></Error>"
        ));
    }
    Ok((azure.queue_count(&key), target.max(1), activation))
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
