//! What plans say beyond a plain update: a new name or namespace replaces the object and an
//! invalid one fails the plan, a change the server refuses as immutable is a replacement, and
//! a Secret's content stays sensitive while stringData changes are still seen.

use plinth_provider::Provider;
use plinth_value::Value;
use serde_json::json;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_name_or_namespace_replaces_and_an_invalid_object_fails_the_plan() {
    let w = World::new(false).await;
    let t = "v1/ServiceAccount";
    let cfg = v(json!({"manifest": {"metadata": {"name": "worker"}}}));
    let created = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let prior = w.refreshed(t, &created, &cfg).await;

    let renamed = v(json!({"manifest": {"metadata": {"name": "worker2"}}}));
    let plan = w.plan(t, Some(&prior), &renamed).await.unwrap();
    assert_eq!(plan.requires_replace, vec![p("manifest.metadata.name")]);
    assert_eq!(attr(&plan.attributes, "metadata.uid"), Some(Value::Unknown));

    let moved =
        v(json!({"manifest": {"metadata": {"name": "worker", "namespace": "kube-system"}}}));
    let plan = w.plan(t, Some(&prior), &moved).await.unwrap();
    assert_eq!(
        plan.requires_replace,
        vec![p("manifest.metadata.namespace")]
    );

    // apiVersion and kind come from the type and must agree with it.
    let wrong = v(json!({"manifest": {"kind": "ConfigMap", "metadata": {"name": "worker"}}}));
    let err = w.plan(t, Some(&prior), &wrong).await.unwrap_err();
    assert!(err.message.contains("k8s:v1/ServiceAccount"), "{err}");

    // What the server refuses fails the plan, with its reason and the object named.
    let bad = v(json!({"manifest": {"metadata": {"name": "Not_A_Name"}}}));
    let err = w.plan(t, None, &bad).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("Invalid"), "{err}");
    assert!(
        err.message.contains("ServiceAccount default/Not_A_Name"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immutable_change_is_planned_as_a_replacement() {
    let w = World::new(false).await;
    let t = "batch/v1/Job";
    let job = |image: &str| {
        v(
            json!({"manifest": {"metadata": {"name": "once", "labels": {"v": image}}, "spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}}}}),
        )
    };
    let created = w.k8s.create(&w.req(t), &job("busybox:1")).await.unwrap();
    let prior = w.refreshed(t, &created, &job("busybox:1")).await;
    w.assert_no_change(t, &prior, &job("busybox:1")).await;
    let plan = w.plan(t, Some(&prior), &job("busybox:2")).await.unwrap();
    assert_eq!(
        plan.requires_replace,
        vec![p("manifest.spec.template.spec.containers")],
        "{plan:?}"
    );
    assert_eq!(
        plan.changed,
        vec![
            p("manifest.metadata.labels.v"),
            p("manifest.spec.template.spec.containers")
        ]
    );
    assert_eq!(attr(&plan.attributes, "metadata.uid"), Some(Value::Unknown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_sensitive_and_string_data_changes_are_seen() {
    let w = World::new(false).await;
    let t = "v1/Secret";
    let secret = |value: &str| {
        v(json!({"manifest": {"metadata": {"name": "creds"}, "stringData": {"password": value}}}))
    };
    let planned = w.plan(t, None, &secret("hunter2")).await.unwrap();
    assert!(
        !planned.attributes.to_string().contains("hunter2"),
        "{}",
        planned.attributes
    );
    let created = w.k8s.create(&w.req(t), &secret("hunter2")).await.unwrap();
    assert!(created.attributes.get(&p("data")).unwrap().is_sensitive());
    let prior = w.refreshed(t, &created, &secret("hunter2")).await;
    w.assert_no_change(t, &prior, &secret("hunter2")).await;
    let plan = w
        .plan(t, Some(&prior), &secret("correct-horse"))
        .await
        .unwrap();
    assert_eq!(plan.changed, vec![p("manifest.stringData.password")]);
    assert!(!plan.attributes.to_string().contains("correct-horse"));
}
