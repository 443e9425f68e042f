//! The Job controller: every unfinished Job gets one pod per round (an *attempt*); success
//! completes it, a failure counts in `status.failed` until more than `backoffLimit` attempts
//! failed. After a failed pod the next waits the Job's backoff (10 s doubling, scaled, see
//! [`super::clock`]; none on `instant`). Also the garbage collector: pods and Jobs whose owner is gone are deleted.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::super::cluster::{Cluster, object_key};
use super::super::time::now;
use super::clock;
use super::identity::Azure;
use super::kube::{event, finished, next_serial, res, s, suffix, write_status};
use super::workload::{PodRun, run_pod};

pub(super) fn run_jobs(azure: &mut Azure<'_>, c: &mut Cluster) -> bool {
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
        if c.runtime.jobs.get(&uid) == Some(&round)
            || c.runtime
                .job_retry_at_ms
                .get(&uid)
                .is_some_and(|at| clock::now_ms() < *at)
        {
            continue;
        }
        c.runtime.jobs.insert(uid, round);
        attempt(azure, c, &job);
        changed = true;
    }
    changed
}

/// One attempt of a Job: pods until its completions are reached or one fails.
fn attempt(azure: &mut Azure<'_>, c: &mut Cluster, job: &Value) {
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
        let run = run_pod(azure, c, &ns, &template);
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
        if last_failure.is_some() {
            let backoff = clock::job_backoff_ms(&azure.store.settings, failed);
            c.runtime.job_retry_at_ms.insert(
                s(job, "/metadata/uid").to_string(),
                clock::now_ms() + backoff,
            );
        }
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

/// Deletes pods and Jobs whose owner is gone, and forgets what belonged to deleted objects.
pub(super) fn collect_garbage(c: &mut Cluster) -> bool {
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
    c.runtime.job_retry_at_ms.retain(|u, _| uids.contains(u));
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
