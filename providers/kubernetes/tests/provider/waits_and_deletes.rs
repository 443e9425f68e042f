//! Waits and deletes: a delete waits until the object is gone (a Job's pods go too); `wait`
//! waits for conditions, reports a failed Job, and after an update waits for a condition of
//! the new generation.

use plinth_provider::{Prior, Provider};
use plinth_value::Value;
use serde_json::json;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_wait_until_the_object_is_gone_and_take_a_jobs_pods() {
    let w = World::new(false).await;
    let t = "batch/v1/Job";
    let cfg = v(json!({
        "manifest": {"metadata": {"name": "once"}, "spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}},
        "wait": {"complete": true}
    }));
    let created = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let uid = created
        .attributes
        .get(&p("metadata.uid"))
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let pods_of_job = || {
        w.with_cluster(|c| {
            c.objects
                .get("pods")
                .map(|m| {
                    m.values()
                        .filter(|pod| {
                            pod["metadata"]["ownerReferences"]
                                .as_array()
                                .is_some_and(|o| o.iter().any(|r| r["uid"] == uid.as_str()))
                        })
                        .count()
                })
                .unwrap_or(0)
        })
    };
    assert!(pods_of_job() > 0, "the job ran a pod");

    let prior = w.refreshed(t, &created, &cfg).await;
    w.k8s.delete(&w.req(t), &prior).await.unwrap();
    assert!(w.stored("jobs.batch", "default/once").is_none());
    assert_eq!(pods_of_job(), 0, "the job's pods went with it");
    assert!(w.k8s.read(&w.req(t), &prior).await.unwrap().is_none());
    // Deleting what is gone is done.
    w.k8s.delete(&w.req(t), &prior).await.unwrap();

    let log = w.sim.shared.log.lock().unwrap().clone();
    let delete = log
        .iter()
        .position(|e| e.method == "DELETE" && e.path.ends_with("/jobs/once"))
        .expect("a DELETE was sent");
    assert!(
        log[delete + 1..]
            .iter()
            .any(|e| e.method == "GET" && e.path.ends_with("/jobs/once") && e.status == 404),
        "the delete waited for a 404"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_for_conditions_and_reports_a_failed_job() {
    let w = World::new(true).await;
    let sj = "keda.sh/v1alpha1/ScaledJob";
    let cfg = v(json!({
        "manifest": {"metadata": {"name": "orders"}, "spec": {
            "jobTargetRef": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "w", "image": "example.azurecr.io/worker:1"}]}}},
            "triggers": [{"type": "cron", "metadata": {"timezone": "UTC", "start": "0 * * * *", "end": "5 * * * *", "desiredReplicas": "1"}}]
        }},
        "wait": {"condition": "Ready", "timeout": "30s"}
    }));
    let created = w.k8s.create(&w.req(sj), &cfg).await.unwrap();
    assert_eq!(
        attr(&created.attributes, "status.conditions[0].type"),
        Some(Value::from("Ready"))
    );

    // A condition that never comes: bounded by the timeout, and says what it saw.
    let mut never = cfg.clone();
    never.set(
        &p("wait"),
        v(json!({"condition": "Paused", "timeout": "200ms"})),
    );
    let err = w
        .k8s
        .update(
            &w.req(sj),
            &Prior {
                id: created.id.clone(),
                inputs: cfg.clone(),
                attributes: created.attributes.clone(),
            },
            &never,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("WaitTimeout"), "{err}");
    assert!(
        err.message.contains("ScaledJob default/orders") && err.message.contains("Paused=False"),
        "{err}"
    );

    // A Job that fails: its Failed reason.
    let job = "batch/v1/Job";
    let failing = v(json!({
        "manifest": {"metadata": {"name": "producer"}, "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "p", "image": "mcr.microsoft.com/aks-app-samples/servicebusdemo:latest"}]}}}},
        "wait": {"complete": true, "timeout": "30s"}
    }));
    let err = w.k8s.create(&w.req(job), &failing).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("WaitFailed"), "{err}");
    assert!(
        err.message.contains("Job default/producer")
            && err.message.contains("BackoffLimitExceeded"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_wait_after_an_update_waits_for_the_new_generation() {
    // The simulated controllers report at once (observedGeneration = generation), so the
    // wait is met right after the update; the stale case is the unit test of the predicate.
    let w = World::new(false).await;
    let t = "apps/v1/Deployment";
    let cfg = |image: &str| {
        v(json!({"manifest": {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image}]}
                }
            }
        }, "wait": {"condition": "Available", "timeout": "10s"}}))
    };
    let created = w.k8s.create(&w.req(t), &cfg("nginx:1.27")).await.unwrap();
    let prior = w.refreshed(t, &created, &cfg("nginx:1.27")).await;
    let done = w
        .k8s
        .update(&w.req(t), &prior, &cfg("nginx:1.28"))
        .await
        .unwrap();
    let generation = done.attributes.get(&p("metadata.generation")).unwrap();
    assert_eq!(generation, Value::from(2));
    assert_eq!(
        done.attributes.get(&p("status.observedGeneration")),
        Some(generation)
    );
}
