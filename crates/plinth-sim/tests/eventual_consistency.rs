//! Issue 17 item 5 (and KEDA's credential, item 1), in the simulator: role assignments and
//! federated identity credentials take effect only after a propagation delay, as on Azure;
//! the producer Job fails and is retried with its backoff, KEDA's scaler records
//! `KEDAScalerFailed` and recovers, and the flagship still ends with `Created 10 jobs`.
//! On `instant` the delays are switched on through `/_sim/config` and completed with
//! `/_sim/settle` (no waiting); on `demo` the simulator's own ticker lets time pass, and the
//! test waits for the explicit outcome with a deadline.

mod k8s_support;
mod keda_support;

use std::time::{Duration, Instant};

use k8s_support::{Sim, http};
use keda_support::*;
use serde_json::{Value, json};

/// Merges `patch` into the simulator's tunables (`PUT /_sim/config`).
fn configure(sim: &Sim, patch: Value) -> Value {
    let (status, body) = http(
        sim.handle.addr,
        "PUT",
        "/_sim/config",
        &[("content-type", "application/json")],
        &patch.to_string(),
    );
    assert_eq!(status, 200, "{body}");
    body
}

/// An `instant` simulator whose new role assignments / federated credentials propagate only
/// after an hour (or a settle).
fn delayed(rbac: bool, fic: bool) -> Cloud {
    let sim = Sim::start();
    let hour = 3_600_000;
    configure(
        &sim,
        json!({
            "rbac_propagation_ms": if rbac { hour } else { 0 },
            "fic_propagation_ms": if fic { hour } else { 0 },
        }),
    );
    flagship_on(sim, FULL)
}

fn producer_logs(cloud: &Cloud) -> String {
    cloud.kube.ok(&["logs", "job/producer"])
}

#[test]
fn a_role_assignment_not_yet_propagated_fails_producer_and_scaler_until_it_has() {
    let cloud = delayed(true, false);
    cloud.producer("producer");
    let job = cloud.job("producer");
    assert_eq!(job["status"]["failed"], 1, "{job}");
    assert_eq!(job["status"]["active"], 1, "{job}");
    let logs = producer_logs(&cloud);
    assert!(
        logs.contains("failed to send messages: (unauthorized): Unauthorized access. 'Send' claim(s) are required"),
        "{logs}"
    );
    let describe = cloud.scaled_job_fails();
    assert!(
        describe.contains("RESPONSE 401: 401 Unauthorized")
            && describe.contains("Manage,EntityRead claims required for this operation"),
        "{describe}"
    );
    assert!(cloud.consumer_jobs().is_empty());
    assert_eq!(cloud.queue_messages(), 0);

    // Time passes: the assignment propagates, the producer's retry sends, KEDA recovers.
    cloud.settle();
    let job = cloud.job("producer");
    assert_complete(&job);
    let failed = job["status"]["failed"].as_i64().unwrap();
    assert!((1..=6).contains(&failed), "{job}");
    assert_scaled_out(&cloud);
    // One failure recorded, not one per poll.
    cloud.assert_scaler_failed_events(1);
}

#[test]
fn a_federated_credential_not_yet_propagated_is_no_matching_record_until_it_has() {
    let cloud = delayed(false, true);
    cloud.producer("producer");
    assert_eq!(cloud.job("producer")["status"]["failed"], 1);
    let logs = producer_logs(&cloud);
    assert!(
        logs.contains(
            "AADSTS70021: No matching federated identity record found for presented assertion"
        ) && logs.contains("Assertion Subject: 'system:serviceaccount:default:demo-sa'"),
        "{logs}"
    );
    let describe = cloud.scaled_job_fails();
    assert!(
        describe.contains("AADSTS70021")
            && describe.contains("system:serviceaccount:kube-system:keda-operator"),
        "{describe}"
    );
    cloud.settle();
    assert_complete(&cloud.job("producer"));
    assert_scaled_out(&cloud);
}

#[test]
fn keda_without_identity_id_uses_the_client_id_its_pods_started_with() {
    let cloud = flagship(FULL);
    // The TriggerAuthentication leaves the identity to the operator's own AZURE_CLIENT_ID.
    cloud.apply(
        "auth.yaml",
        "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: demo-auth\n  namespace: default\nspec:\n  podIdentity:\n    provider: azure-workload\n",
    );
    cloud.producer("producer");
    assert_complete(&cloud.job("producer"));
    // keda-operator restarted before its ServiceAccount had the annotation (Azure/AKS#5243):
    // the webhook injected no AZURE_CLIENT_ID, so the annotation alone does not help.
    cloud.apply(
        "keda-sa.yaml",
        &format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: keda-operator\n  namespace: kube-system\n  annotations:\n    azure.workload.identity/client-id: {}\n",
            cloud.client_id
        ),
    );
    let describe = cloud.scaled_job_fails();
    assert!(
        describe.contains("WorkloadIdentityCredential: no client ID specified"),
        "{describe}"
    );
    assert!(cloud.consumer_jobs().is_empty());
    cloud.restart_keda("2026-01-02T00:00:00Z");
    // The new pods carry the client id the webhook injected; KEDA authenticates with it.
    let env = cloud.kube.ok(&[
        "get",
        "pod",
        "-n",
        "kube-system",
        "-l",
        "app=keda-operator",
        "--field-selector=status.phase=Running",
        "-o",
        r#"jsonpath={.items[*].spec.containers[0].env[?(@.name=="AZURE_CLIENT_ID")].value}"#,
    ]);
    assert!(env.contains(&cloud.client_id), "{env}");
    assert_scaled_out(&cloud);
}

/// GETs `path` of the cluster API until `done` holds, at most `limit`; the last answer.
fn wait_for(cloud: &Cloud, path: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let v = cloud.k8s(path);
        if done(&v) || Instant::now() > deadline {
            return v;
        }
        std::thread::yield_now();
    }
}

#[test]
fn on_demo_the_producer_retries_after_its_backoff_and_keda_recovers_as_time_passes() {
    let sim = Sim::start_with(plinth_sim::SimConfig {
        latency: plinth_sim::Latency::Demo,
        ..Default::default()
    });
    // ARM's own operations at once (not under test here); the controllers keep demo's time
    // (Job backoff 10 s -> 167 ms doubling, KEDA polling 30 s -> 500 ms). The role assignment
    // is held back (an hour) until the failures are seen, then propagates: the simulator's
    // ticker alone must bring the producer's retry and KEDA's next poll.
    let config = configure(
        &sim,
        json!({"operation_ms": 0, "fic_write_ms": 0, "principal_window_ms": 0, "rbac_propagation_ms": 3_600_000}),
    );
    let scale = config["time_scale"].as_f64().expect("time_scale on demo");
    assert!((scale - 1.0 / 60.0).abs() < 1e-9, "{config}");
    let cloud = flagship_on(sim, FULL);
    cloud.producer("producer");
    let describe = cloud.scaled_job_fails();
    assert!(
        describe.contains("Manage,EntityRead claims required"),
        "{describe}"
    );
    let job = cloud.job("producer");
    assert!(job["status"]["failed"].as_i64().unwrap() >= 1, "{job}");
    assert!(condition(&job, "Complete").is_none(), "{job}");
    configure(&cloud.sim, json!({"rbac_propagation_ms": 0}));

    let sj_events =
        "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dconsumer";
    let created = |v: &Value| {
        v["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|e| e["message"] == "Created 10 jobs"))
    };
    let events = wait_for(&cloud, sj_events, Duration::from_secs(25), created);
    assert!(created(&events), "{events}");
    let job = cloud.job("producer");
    assert_complete(&job);
    // Its first pod met the unpropagated assignment; a retry after the backoff sent.
    assert!(job["status"]["failed"].as_i64().unwrap() >= 1, "{job}");
    let describe_job = cloud.kube.ok(&["describe", "job", "producer"]);
    assert!(
        describe_job.contains("PodFailed") && describe_job.contains("'Send' claim(s) are required"),
        "{describe_job}"
    );
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("KEDAScalerFailed"), "{describe}");
    assert!(!describe.contains("BackoffLimitExceeded"), "{describe}");
    assert!(describe.contains("Created 10 jobs"), "{describe}");
    let all_done = |v: &Value| {
        v["items"].as_array().is_some_and(|jobs| {
            jobs.len() == 10 && jobs.iter().all(|j| j["status"]["succeeded"] == 1)
        })
    };
    let jobs = wait_for(
        &cloud,
        "/apis/batch/v1/namespaces/default/jobs?labelSelector=scaledjob.keda.sh/name%3Dconsumer",
        Duration::from_secs(10),
        all_done,
    );
    assert!(all_done(&jobs), "{jobs}");
    assert_eq!(cloud.queue_messages(), 0);
}
