//! Issue 6 (simulator half): the flagship's identity chain, checked from the resources'
//! content. ARM (AKS with OIDC issuer, workload identity and KEDA; a Service Bus namespace and
//! queue; a user-assigned identity, its federated credentials and a data role) and Kubernetes
//! (ServiceAccount, TriggerAuthentication, producer Job, ScaledJob, a restart of keda-operator)
//! are driven over HTTP and with a real kubectl; the simulated Job controller, the sample
//! workload and KEDA decide what happens: 100 messages, 10 consumer Jobs, and
//! `kubectl describe scaledjob` showing `Created 10 jobs` — or the failure a real cluster shows
//! when a piece is missing, until that piece is fixed.

mod k8s_support;
mod keda_support;

use k8s_support::{Sim, http};
use keda_support::*;
use serde_json::json;

#[test]
fn flagship_happy_path_scales_out_to_ten_jobs() {
    let cloud = flagship(FULL);
    cloud.producer("producer");
    let producer = cloud.job("producer");
    assert_complete(&producer);
    assert_eq!(cloud.queue_messages(), 100);
    let logs = cloud.kube.ok(&["logs", "job/producer"]);
    assert!(logs.contains("Sent 100 messages"), "{logs}");

    cloud.apply("scaledjob.yaml", &scaled_job_yaml());
    assert_scaled_out(&cloud);
    let describe = cloud.describe_scaledjob();
    println!("{describe}");
    assert!(!describe.contains("KEDAScalerFailed"), "{describe}");
    // kubectl found them as core/v1 events of this object.
    let (_, log) = http(cloud.arm.addr, "GET", "/_sim/requests", &[], "");
    assert!(
        log.as_array().unwrap().iter().any(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/api/v1/namespaces/default/events"))
                && e["query"]
                    .as_str()
                    .is_some_and(|q| q.contains("involvedObject.name%3Dconsumer"))
        }),
        "{log}"
    );
    // Each consumer took its 10 messages.
    let first = cloud.consumer_jobs()[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let logs = cloud.kube.ok(&["logs", &format!("job/{first}")]);
    assert!(logs.contains("Received 10 messages"), "{logs}");
    let pods = cloud.kube.ok(&["get", "pods"]);
    assert_eq!(pods.matches("Completed").count(), 11, "{pods}");
    let events = cloud.kube.ok(&["get", "events"]);
    assert!(events.contains("KEDAJobsCreated"), "{events}");
    println!(
        "{pods}\n{events}\n{}",
        cloud.kube.ok(&["describe", "job", "producer"])
    );

    // Quiet afterwards: another producer run scales out again, settle finds nothing to do.
    cloud.settle();
    assert_eq!(cloud.consumer_jobs().len(), 10);
    cloud.producer("producer-2");
    assert_eq!(cloud.queue_messages(), 0);
    assert_eq!(cloud.consumer_jobs().len(), 20);
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("(x2 over"), "{describe}");

    // Deleting the ScaledJob takes its jobs (and their pods) with it.
    cloud.kube.ok(&["delete", "scaledjob", "consumer"]);
    assert!(cloud.consumer_jobs().is_empty());
    let pods = cloud
        .k8s("/api/v1/namespaces/default/pods?labelSelector=scaledjob.keda.sh/name%3Dconsumer");
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(0), "{pods}");
}

#[test]
fn without_the_keda_operator_credential_the_scaler_fails_until_it_exists_and_keda_restarts() {
    let cloud = flagship(Setup {
        keda_fic: false,
        ..FULL
    });
    cloud.producer("producer");
    assert_complete(&cloud.job("producer"));
    assert_eq!(cloud.queue_messages(), 100);
    let describe = cloud.scaled_job_fails();
    assert!(describe.contains("AADSTS70021"), "{describe}");
    assert!(
        describe.contains("system:serviceaccount:kube-system:keda-operator"),
        "{describe}"
    );
    assert!(cloud.consumer_jobs().is_empty());
    let sj = cloud.k8s("/apis/keda.sh/v1alpha1/namespaces/default/scaledjobs/consumer");
    assert_eq!(condition(&sj, "Ready").unwrap()["status"], "False", "{sj}");
    // Retrying changes nothing and records no new failure event.
    cloud.settle();
    cloud.assert_scaler_failed_events(1);

    // A credential for another subject does not match, restart or not.
    cloud.fic(
        "keda-fic",
        "system:serviceaccount:kube-system:keda-operater",
    );
    cloud.restart_keda("2026-01-02T00:00:00Z");
    assert!(cloud.consumer_jobs().is_empty());
    let describe = cloud.describe_scaledjob();
    assert!(!describe.contains("restart"), "{describe}");
    // Corrected, it is not enough either: keda-operator's pods started before the change.
    cloud.fic(
        "keda-fic",
        "system:serviceaccount:kube-system:keda-operator",
    );
    assert!(cloud.consumer_jobs().is_empty());
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("restart"), "{describe}");
    println!("{describe}");
    // A restart (as `kubectl rollout restart` does it) fixes it on the next reconcile.
    cloud.kube.ok(&[
        "rollout",
        "restart",
        "deployment",
        "keda-operator",
        "-n",
        "kube-system",
    ]);
    assert_scaled_out(&cloud);
}

#[test]
fn without_a_restart_after_the_credential_the_scaler_fails_until_keda_restarts() {
    let cloud = flagship(Setup {
        restart: false,
        ..FULL
    });
    cloud.producer("producer");
    let describe = cloud.scaled_job_fails();
    assert!(
        describe.contains("started before the federated identity credential 'keda-fic'"),
        "{describe}"
    );
    assert!(cloud.consumer_jobs().is_empty());
    assert_eq!(cloud.queue_messages(), 100);
    // A restart that does not change the template is no restart.
    cloud.apply(
        "noop.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n  namespace: default\n",
    );
    assert!(cloud.consumer_jobs().is_empty());
    cloud.restart_keda("2026-02-02T00:00:00Z");
    assert_scaled_out(&cloud);
}

#[test]
fn without_the_data_role_producer_and_scaler_fail_until_it_is_assigned() {
    let cloud = flagship(Setup {
        role: false,
        ..FULL
    });
    cloud.producer("producer");
    // The first attempt failed; the Job retries on later reconciles.
    let job = cloud.job("producer");
    assert_eq!(job["status"]["failed"], 1, "{job}");
    assert_eq!(job["status"]["active"], 1, "{job}");
    let logs = cloud.kube.ok(&["logs", "job/producer"]);
    assert!(
        logs.contains("'Send' claim(s) are required to perform this operation"),
        "{logs}"
    );
    let describe = cloud.scaled_job_fails();
    assert!(
        describe.contains("Manage,EntityRead claims required for this operation"),
        "{describe}"
    );
    // Time passes: the producer uses up its backoffLimit.
    cloud.settle();
    let job = cloud.job("producer");
    let failed = condition(&job, "Failed").expect("Failed condition");
    assert_eq!(failed["reason"], "BackoffLimitExceeded", "{job}");
    assert_eq!(job["status"]["failed"], 7, "{job}");
    let describe_job = cloud.kube.ok(&["describe", "job", "producer"]);
    assert!(
        describe_job.contains("BackoffLimitExceeded"),
        "{describe_job}"
    );
    assert!(describe_job.contains("'Send' claim(s)"), "{describe_job}");
    println!("{describe_job}");
    assert_eq!(cloud.queue_messages(), 0);

    // Sender alone lets a producer send, but the scaler still needs Owner (Manage claim).
    cloud.role(
        &cloud.queue_id,
        DATA_SENDER,
        "5a1f6e7c-0000-4000-8000-000000000002",
    );
    cloud.producer("producer-2");
    assert_complete(&cloud.job("producer-2"));
    assert_eq!(cloud.queue_messages(), 100);
    assert!(cloud.consumer_jobs().is_empty());

    // Data Owner on the resource group (above the namespace) fixes the scaler.
    cloud.role(
        &cloud.rg,
        DATA_OWNER,
        "5a1f6e7c-0000-4000-8000-000000000003",
    );
    assert_scaled_out(&cloud);
}

#[test]
fn a_role_assigned_just_after_the_job_is_seen_by_its_retry() {
    let cloud = flagship(Setup {
        role: false,
        ..FULL
    });
    cloud.producer("producer");
    assert_eq!(cloud.job("producer")["status"]["failed"], 1);
    cloud.role(
        &cloud.ns_id,
        DATA_OWNER,
        "5a1f6e7c-0000-4000-8000-000000000004",
    );
    let job = cloud.job("producer");
    assert_complete(&job);
    assert_eq!(job["status"]["failed"], 1, "{job}");
    assert_eq!(cloud.queue_messages(), 100);
}

#[test]
fn a_workload_without_its_credential_gets_no_token() {
    let cloud = flagship(FULL);
    // A ServiceAccount whose subject has no federated credential.
    cloud.apply(
        "other-sa.yaml",
        &format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: other-sa\n  namespace: default\n  annotations:\n    azure.workload.identity/client-id: {}\n",
            cloud.client_id
        ),
    );
    cloud.apply(
        "p.yaml",
        &producer_yaml("other").replace("demo-sa", "other-sa"),
    );
    let logs = cloud.kube.ok(&["logs", "job/other"]);
    assert!(logs.contains("AADSTS70021"), "{logs}");
    assert!(
        logs.contains("system:serviceaccount:default:other-sa"),
        "{logs}"
    );
    // Without the pod label, the webhook injects nothing.
    cloud.apply(
        "q.yaml",
        &producer_yaml("unlabelled").replace("azure.workload.identity/use: \"true\"", "app: x"),
    );
    let logs = cloud.kube.ok(&["logs", "job/unlabelled"]);
    assert!(logs.contains("no token file specified"), "{logs}");
    cloud.settle();
    for name in ["other", "unlabelled"] {
        let job = cloud.job(name);
        assert_eq!(
            condition(&job, "Failed").map(|c| c["reason"].clone()),
            Some(json!("BackoffLimitExceeded")),
            "{job}"
        );
    }
    assert_eq!(cloud.queue_messages(), 0);
}

#[test]
fn the_controllers_state_survives_a_restart_of_the_simulator() {
    let worlds = tempfile::tempdir().unwrap();
    let sim = Sim::start_with(plinth_sim::SimConfig {
        world_file: Some(worlds.path().join("world.json")),
        ..Default::default()
    });
    let cloud = flagship_on(
        sim,
        Setup {
            restart: false,
            ..FULL
        },
    );
    cloud.producer("producer");
    cloud.apply("scaledjob.yaml", &scaled_job_yaml());
    assert!(cloud.consumer_jobs().is_empty());

    let cloud = cloud.restart_simulator();
    assert_eq!(cloud.queue_messages(), 100);
    let describe = cloud.describe_scaledjob();
    assert!(describe.contains("KEDAScalerFailed"), "{describe}");
    println!("{describe}");
    assert!(cloud.consumer_jobs().is_empty());
    // The logical clock went on from where it was: this restart is after the credential.
    cloud.restart_keda("2026-03-03T00:00:00Z");
    assert_scaled_out(&cloud);
    cloud.assert_scaler_failed_events(1);
}

#[test]
fn keda_keeps_only_the_job_history_it_is_asked_to() {
    let cloud = flagship(FULL);
    cloud.producer("producer");
    cloud.apply(
        "scaledjob.yaml",
        &scaled_job_yaml().replace(
            "  triggers:\n",
            "  successfulJobsHistoryLimit: 3\n  maxReplicaCount: 4\n  triggers:\n",
        ),
    );
    // At most 4 jobs at a time: 40 messages went in the first round.
    assert_eq!(cloud.queue_messages(), 60);
    let body = cloud.settle();
    assert!(body["rounds"].as_u64().unwrap() > 1, "{body}");
    assert_eq!(cloud.queue_messages(), 0);
    let jobs = cloud.consumer_jobs();
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    let pods = cloud
        .k8s("/api/v1/namespaces/default/pods?labelSelector=scaledjob.keda.sh/name%3Dconsumer");
    assert_eq!(pods["items"].as_array().map(Vec::len), Some(3), "{pods}");
}
