//! Server-side apply with field manager `plinth`: creates, no-ops and updates planned by a
//! dry run; fields another applier owns need `force`; imperative edits by hand are drift and
//! taken back, while a controller's fields (an autoscaler's replicas) are a conflict.

use kube::core::params::{Patch, PatchParams};
use plinth_provider::Provider;
use plinth_value::Value;
use serde_json::{Value as Json, json};

use super::support::*;

const DEPLOY: &str = "apps/v1/Deployment";

fn deployment(annotation: &str) -> Value {
    v(json!({"manifest": {
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"team": annotation}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}
            }
        }
    }}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_create_no_op_and_update_planned_by_dry_run() {
    let w = World::new(false).await;
    let cfg = deployment("a");

    // A create on a live cluster is a dry run: the server's answer, its own fields unknown.
    let planned = w.plan(DEPLOY, None, &cfg).await.unwrap();
    assert_eq!(
        attr(&planned.attributes, "metadata.uid"),
        Some(Value::Unknown)
    );
    assert_eq!(
        attr(&planned.attributes, "metadata.namespace"),
        Some(Value::from("default"))
    );
    assert!(
        w.stored("deployments.apps", "default/web").is_none(),
        "a dry run changes nothing"
    );
    assert_eq!(
        w.k8s.planned_id(DEPLOY, &cfg).as_deref(),
        Some("apps/v1/Deployment/default/web")
    );

    let created = w.k8s.create(&w.req(DEPLOY), &cfg).await.unwrap();
    assert_eq!(
        created.id.as_deref(),
        Some("apps/v1/Deployment/default/web")
    );
    assert!(
        created
            .attributes
            .get(&p("metadata.uid"))
            .unwrap()
            .as_str()
            .is_some()
    );
    assert!(
        created
            .attributes
            .get(&p("metadata.managedFields"))
            .is_none(),
        "managedFields are not kept in state"
    );
    let stored = w.stored("deployments.apps", "default/web").unwrap();
    assert_eq!(managers(&stored), vec![("plinth".into(), "Apply".into())]);

    // Right after: no change, although the server defaulted fields the manifest does not set.
    let prior = w.refreshed(DEPLOY, &created, &cfg).await;
    assert!(
        prior
            .attributes
            .get(&p("spec.template.spec.containers[0].imagePullPolicy"))
            .is_some()
            || prior.attributes.get(&p("spec.strategy")).is_some(),
        "the server fills in defaults: {}",
        prior.attributes
    );
    let again = w.plan(DEPLOY, Some(&prior), &cfg).await.unwrap();
    assert!(again.changed.is_empty(), "{:?}", again.changed);
    assert!(again.requires_replace.is_empty());

    // An edited annotation is an in-place update of exactly that path.
    let edited = deployment("b");
    let upd = w.plan(DEPLOY, Some(&prior), &edited).await.unwrap();
    assert_eq!(upd.changed, vec![p("manifest.metadata.annotations.team")]);
    assert!(upd.requires_replace.is_empty());
    assert_eq!(
        attr(&upd.attributes, "metadata.annotations.team"),
        Some(Value::from("b"))
    );
    let updated = w.k8s.update(&w.req(DEPLOY), &prior, &edited).await.unwrap();
    assert_eq!(
        attr(&updated.attributes, "metadata.annotations.team"),
        Some(Value::from("b"))
    );
    let prior = w.refreshed(DEPLOY, &updated, &edited).await;
    w.assert_no_change(DEPLOY, &prior, &edited).await;

    // A key dropped from the manifest is a change: the apply removes it.
    let mut dropped = edited.clone();
    dropped.remove(&p("manifest.metadata.annotations"));
    let plan = w.plan(DEPLOY, Some(&prior), &dropped).await.unwrap();
    assert_eq!(plan.changed, vec![p("manifest.metadata.annotations.team")]);
    let after = w
        .k8s
        .update(&w.req(DEPLOY), &prior, &dropped)
        .await
        .unwrap();
    assert!(
        after
            .attributes
            .get(&p("metadata.annotations.team"))
            .is_none()
    );

    // The provider maps manifest paths onto attributes.
    assert_eq!(
        w.k8s.attribute_path(DEPLOY, &p("manifest.spec.replicas")),
        Some(p("spec.replicas"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_with_other_appliers_need_force_and_imperative_edits_are_drift() {
    let w = World::new(false).await;
    let t = "v1/ConfigMap";
    let cfg = v(json!({"manifest": {"metadata": {"name": "settings"}, "data": {"mode": "fast"}}}));
    let created = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let other = w.other_client().await;
    let path = "/api/v1/namespaces/default/configmaps";

    // Another server-side applier takes the field over (with force).
    let req = kube::core::Request::new(path)
        .patch(
            "settings",
            &PatchParams::apply("other-tool").force(),
            &Patch::Apply(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings"}, "data": {"mode": "slow"}})),
        )
        .unwrap();
    other.request::<Json>(req).await.unwrap();
    let prior = w.refreshed(t, &created, &cfg).await;
    let err = w.plan(t, Some(&prior), &cfg).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("Conflict"), "{err}");
    assert!(err.message.contains("other-tool"), "{err}");
    assert!(err.message.contains(".data.mode"), "{err}");
    assert!(err.message.contains("force = true"), "{err}");

    // With force the plan takes it back, and so does the apply.
    let mut forced = cfg.clone();
    forced.set(&p("force"), Value::Bool(true));
    let plan = w.plan(t, Some(&prior), &forced).await.unwrap();
    assert_eq!(plan.changed, vec![p("manifest.data.mode")]);
    let done = w.k8s.update(&w.req(t), &prior, &forced).await.unwrap();
    assert_eq!(
        attr(&done.attributes, "data.mode"),
        Some(Value::from("fast"))
    );

    // An imperative edit (kubectl edit / annotate: an Update) is drift: taken back without force.
    update_as(
        &other,
        path,
        "settings",
        "kubectl-edit",
        json!({"data": {"mode": "manual"}}),
    )
    .await;
    let prior = w.refreshed(t, &done, &cfg).await;
    assert_eq!(
        attr(&prior.attributes, "data.mode"),
        Some(Value::from("manual"))
    );
    let plan = w.plan(t, Some(&prior), &cfg).await.unwrap();
    assert_eq!(plan.changed, vec![p("manifest.data.mode")]);
    assert_eq!(
        w.stored("configmaps", "default/settings").unwrap()["data"]["mode"],
        "manual",
        "the plan's dry run changed nothing"
    );
    let done = w.k8s.update(&w.req(t), &prior, &cfg).await.unwrap();
    assert_eq!(
        attr(&done.attributes, "data.mode"),
        Some(Value::from("fast"))
    );
    let prior = w.refreshed(t, &done, &cfg).await;
    w.assert_no_change(t, &prior, &cfg).await;

    // Fields another applier owns that the manifest does not set are no concern.
    other_apply(
        &other,
        path,
        "settings",
        "other-tool",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"extra": "x"}}),
    )
    .await;
    let prior = w.refreshed(t, &done, &cfg).await;
    w.assert_no_change(t, &prior, &cfg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edits_are_taken_back_but_a_controllers_fields_are_a_conflict() {
    let w = World::new(false).await;
    let t = "apps/v1/Deployment";
    let cfg = v(json!({"manifest": {
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
            }
        }
    }}));
    let created = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let other = w.other_client().await;
    let path = "/apis/apps/v1/namespaces/default/deployments";

    // kubectl edit: drift, planned back without force, and taken back by the apply.
    update_as(
        &other,
        path,
        "web",
        "kubectl-edit",
        json!({"spec": {"replicas": 3}}),
    )
    .await;
    let prior = w.refreshed(t, &created, &cfg).await;
    assert_eq!(
        prior.attributes.get(&p("spec.replicas")),
        Some(Value::from(3))
    );
    let plan = w.k8s.plan(&w.req(t), Some(&prior), &cfg).await.unwrap();
    assert_eq!(plan.changed, vec![p("manifest.spec.replicas")]);
    let done = w.k8s.update(&w.req(t), &prior, &cfg).await.unwrap();
    assert_eq!(
        done.attributes.get(&p("spec.replicas")),
        Some(Value::from(2))
    );

    // An autoscaler writes spec.replicas (an update with its own manager): a conflict, at
    // plan and at apply, naming the manager, the field and the ways out; not forced.
    update_as(
        &other,
        path,
        "web",
        "horizontal-pod-autoscaler",
        json!({"spec": {"replicas": 5}}),
    )
    .await;
    let prior = w.refreshed(t, &done, &cfg).await;
    let err = w.k8s.plan(&w.req(t), Some(&prior), &cfg).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("Conflict"), "{err}");
    for part in [
        "horizontal-pod-autoscaler",
        ".spec.replicas",
        "force = true",
        "remove them from its manifest",
    ] {
        assert!(err.message.contains(part), "{part}: {err}");
    }
    let err = w.k8s.update(&w.req(t), &prior, &cfg).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("Conflict"), "{err}");
    let [key] = w.cluster_keys().try_into().unwrap();
    assert_eq!(
        w.stored_in(&key, "deployments.apps", "default/web")
            .unwrap()["spec"]["replicas"],
        5,
        "the autoscaler's replicas stay"
    );

    // With force, plinth takes the field over as asked.
    let mut forced = cfg.clone();
    forced.set(&p("force"), Value::Bool(true));
    let done = w.k8s.update(&w.req(t), &prior, &forced).await.unwrap();
    assert_eq!(
        done.attributes.get(&p("spec.replicas")),
        Some(Value::from(2))
    );
}
