//! Objects of a cluster (or a CRD) that does not exist yet: plans are "known after apply",
//! objects read before are kept as last seen rather than dropped, and ARM is asked once per
//! plan whether the cluster exists, again by every apply.

use std::sync::atomic::Ordering;

use plinth_provider::{NullReporter, Observed, Prior, Provider, Request};
use plinth_value::Value;
use serde_json::json;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_the_cluster_or_the_crd_exists_plans_are_known_after_apply() {
    let w = World::new(false).await;
    let sj = "keda.sh/v1alpha1/ScaledJob";
    let cfg =
        v(json!({"manifest": {"metadata": {"name": "orders"}, "spec": {"jobTargetRef": {}}}}));

    // The cluster is only planned: its id is unknown.
    let mut unknown = v(json!({"cluster": null}));
    unknown.set(&p("cluster"), Value::Unknown);
    let req = Request::new("v1/ServiceAccount", "sa", &NullReporter).with_settings(&unknown);
    let sa = v(json!({"manifest": {"metadata": {"name": "worker"}}}));
    let plan = w.k8s.plan(&req, None, &sa).await.unwrap();
    assert_eq!(attr(&plan.attributes, "metadata.uid"), Some(Value::Unknown));
    assert_eq!(
        attr(&plan.attributes, "metadata.name"),
        Some(Value::from("worker"))
    );
    let prior = prior_of("v1/ServiceAccount/default/worker", &sa);
    assert!(w.k8s.read(&req, &prior).await.unwrap().is_none());

    // The cluster does not serve keda.sh (the add-on is off): a create known after apply.
    let plan = w.plan(sj, None, &cfg).await.unwrap();
    assert_eq!(plan.attributes.get(&p("status")), Some(Value::Unknown));
    assert_eq!(
        attr(&plan.attributes, "metadata.namespace"),
        Some(Value::from("default"))
    );
    let prior = prior_of("keda.sh/v1alpha1/ScaledJob/default/orders", &cfg);
    assert!(w.k8s.read(&w.req(sj), &prior).await.unwrap().is_none());
    let err = w.k8s.create(&w.req(sj), &cfg).await.unwrap_err();
    assert!(err.message.contains("does not serve ScaledJob"), "{err}");

    // A cluster ARM does not know: nothing to read, nothing to delete.
    let gone = v(
        json!({"cluster": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/k8s-rg/providers/Microsoft.ContainerService/managedClusters/nope"}),
    );
    let req = Request::new("v1/ServiceAccount", "sa", &NullReporter).with_settings(&gone);
    assert!(w.k8s.read(&req, &prior_of_sa()).await.unwrap().is_none());
    w.k8s.delete(&req, &prior_of_sa()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_a_cluster_not_known_yet_are_kept_not_dropped() {
    let w = World::new(false).await;
    let t = "v1/ConfigMap";
    let cfg = v(json!({"manifest": {"metadata": {"name": "kept"}, "data": {"a": "1"}}}));
    let created = w.k8s.create(&w.req(t), &cfg).await.unwrap();

    // `cluster` now names an AKS resource that is only planned: its id is unknown.
    let mut unknown = v(json!({"cluster": null}));
    unknown.set(&p("cluster"), Value::Unknown);
    let req = Request::new(t, "cm", &NullReporter).with_settings(&unknown);

    // An object read before cannot be checked now: it is as last seen, not deleted.
    let prior = Prior {
        id: created.id.clone(),
        inputs: cfg.clone(),
        attributes: created.attributes.clone(),
    };
    let read = w.k8s.read(&req, &prior).await.unwrap();
    assert_eq!(
        read,
        Some(Observed {
            id: created.id.clone(),
            attributes: created.attributes.clone(),
        })
    );

    // The existence check of a planned create (an id, nothing read): nothing can exist in a
    // cluster that does not exist yet.
    let planned = Prior {
        id: Some("v1/ConfigMap/default/new".into()),
        inputs: Value::Null,
        attributes: Value::Null,
    };
    assert_eq!(w.k8s.read(&req, &planned).await.unwrap(), None);

    // A cluster ARM says does not exist: its objects are gone with it.
    let gone = v(
        json!({"cluster": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/k8s-rg/providers/Microsoft.ContainerService/managedClusters/nope"}),
    );
    let req = Request::new(t, "cm", &NullReporter).with_settings(&gone);
    assert_eq!(w.k8s.read(&req, &prior).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_ask_arm_once_whether_a_cluster_exists_but_applies_ask_again() {
    let w = World::new(false).await;
    let t = "v1/ConfigMap";
    // The settings name a cluster that does not exist yet (its id is known up front).
    let future = v(
        json!({"cluster": format!("{}/providers/Microsoft.ContainerService/managedClusters/later", w.rg_id)}),
    );
    let req = Request::new(t, "cm", &NullReporter).with_settings(&future);
    let before = w.fetches.load(Ordering::SeqCst);
    for name in ["a", "b", "c"] {
        let cfg = v(json!({"manifest": {"metadata": {"name": name}}}));
        let plan = w.k8s.plan(&req, None, &cfg).await.unwrap();
        assert_eq!(
            plan.attributes.get(&p("metadata.uid")),
            Some(Value::Unknown)
        );
    }
    assert_eq!(w.fetches.load(Ordering::SeqCst), before + 1);

    // The cluster is created mid-run: the apply finds it, and plans use it from then on.
    let mut later = aks_config(&w.rg_id, false);
    later.set(&p("name"), Value::from("later"));
    w.azure
        .create(&Request::new(AKS_TYPE, "aks", &NullReporter), &later)
        .await
        .unwrap();
    let cfg = v(json!({"manifest": {"metadata": {"name": "a"}, "data": {"k": "v"}}}));
    let made = w.k8s.create(&req, &cfg).await.unwrap();
    assert_eq!(made.attributes.get(&p("data.k")), Some(Value::from("v")));
    let prior = Prior {
        id: made.id.clone(),
        inputs: cfg.clone(),
        attributes: made.attributes.clone(),
    };
    let plan = w.k8s.plan(&req, Some(&prior), &cfg).await.unwrap();
    assert!(plan.changed.is_empty(), "{:?}", plan.changed);
    // The dry run (not the offline plan) knows the server's fields.
    let plan = w
        .k8s
        .plan(
            &req,
            None,
            &v(json!({"manifest": {"metadata": {"name": "d"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        plan.attributes.get(&p("metadata.namespace")),
        Some(Value::from("default"))
    );
    assert!(w.k8s.read(&req, &prior).await.unwrap().is_some());
}
