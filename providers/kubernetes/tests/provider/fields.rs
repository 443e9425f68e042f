//! `k8s:fields`: only some fields of an object another tool created. Plans and drift see only
//! those fields, applies never create the object, destroys remove only those fields, and
//! another applier's fields need `force`.

use plinth_provider::{NullReporter, Prior, Provider, Request};
use plinth_value::Value;
use serde_json::{Value as Json, json};

use super::support::*;

const FIELDS: &str = "fields";
const SA_PATH: &str = "/api/v1/namespaces/default/serviceaccounts";
const CLIENT_ID: &str = "azure.workload.identity/client-id";

/// A k8s:fields owning the ServiceAccount `default/worker`'s annotations `annotations`.
fn annotate(annotations: Json) -> Value {
    v(
        json!({"manifest": {"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "worker", "annotations": annotations}}}),
    )
}

/// The ServiceAccount `default/worker` as an add-on would create it (manager `aks-addon`).
async fn addon_creates_worker(w: &World) {
    other_apply(
        &w.other_client().await,
        SA_PATH,
        "worker",
        "aks-addon",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "worker",
            "labels": {"app": "worker"}, "annotations": {"owner": "addon"}}}),
    )
    .await;
}

fn stored_sa(w: &World) -> Json {
    w.stored("serviceaccounts", "default/worker")
        .expect("the ServiceAccount exists")
}

fn annotation(path: &str) -> String {
    format!("metadata.annotations[\"{path}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_plan_apply_drift_and_destroy_leave_the_object_with_its_other_fields() {
    let w = World::new(false).await;
    addon_creates_worker(&w).await;
    let cfg = annotate(json!({CLIENT_ID: "c1"}));
    assert!(w.k8s.validate(FIELDS, &cfg).is_empty());
    assert_eq!(
        w.k8s.planned_id(FIELDS, &cfg),
        None,
        "not checked as a create"
    );

    // Planned by a dry run: the field as it will be; nothing written.
    let planned = w.plan(FIELDS, None, &cfg).await.unwrap();
    assert_eq!(
        attr(&planned.attributes, &annotation(CLIENT_ID)),
        Some(Value::from("c1"))
    );
    assert_eq!(
        attr(&planned.attributes, "field_manager"),
        Some(Value::from("plinth-fields:test"))
    );
    assert!(stored_sa(&w)["metadata"]["annotations"][CLIENT_ID].is_null());

    let created = w.k8s.create(&w.req(FIELDS), &cfg).await.unwrap();
    assert_eq!(
        created.id.as_deref(),
        Some("v1/ServiceAccount/default/worker")
    );
    let sa = stored_sa(&w);
    assert_eq!(sa["metadata"]["annotations"][CLIENT_ID], "c1");
    assert_eq!(sa["metadata"]["annotations"]["owner"], "addon");
    assert_eq!(sa["metadata"]["labels"]["app"], "worker");
    assert!(managers(&sa).contains(&("plinth-fields:test".into(), "Apply".into())));
    // Attributes hold the owned fields only.
    assert!(attr(&created.attributes, "metadata.labels").is_none());
    assert!(attr(&created.attributes, &annotation("owner")).is_none());
    let prior = w.refreshed(FIELDS, &created, &cfg).await;
    w.assert_no_change(FIELDS, &prior, &cfg).await;

    // By hand: the owned annotation changed (drift on that path), another one added (unseen).
    update_as(
        &w.other_client().await,
        SA_PATH,
        "worker",
        "kubectl-annotate",
        json!({"metadata": {"annotations": {CLIENT_ID: "by-hand", "note": "x"}}}),
    )
    .await;
    let drifted = w.refreshed(FIELDS, &created, &cfg).await;
    assert_eq!(
        attr(&drifted.attributes, &annotation(CLIENT_ID)),
        Some(Value::from("by-hand"))
    );
    let plan = w.plan(FIELDS, Some(&drifted), &cfg).await.unwrap();
    assert_eq!(
        plan.changed,
        vec![p(&format!("manifest.{}", annotation(CLIENT_ID)))]
    );
    let updated = w.k8s.update(&w.req(FIELDS), &drifted, &cfg).await.unwrap();
    assert_eq!(stored_sa(&w)["metadata"]["annotations"][CLIENT_ID], "c1");

    // A new value, and a second owned annotation.
    let cfg2 = annotate(json!({CLIENT_ID: "c2", "team": "blue"}));
    let prior = w.refreshed(FIELDS, &updated, &cfg).await;
    let plan = w.plan(FIELDS, Some(&prior), &cfg2).await.unwrap();
    assert_eq!(plan.changed.len(), 2, "{:?}", plan.changed);
    let updated = w.k8s.update(&w.req(FIELDS), &prior, &cfg2).await.unwrap();
    // Dropping one from the manifest removes it from the object (nobody else owns it).
    let prior = w.refreshed(FIELDS, &updated, &cfg2).await;
    let plan = w.plan(FIELDS, Some(&prior), &cfg).await.unwrap();
    assert_eq!(plan.changed.len(), 2, "{:?}", plan.changed);
    let updated = w.k8s.update(&w.req(FIELDS), &prior, &cfg).await.unwrap();
    assert!(stored_sa(&w)["metadata"]["annotations"]["team"].is_null());

    // Destroy: only the owned field goes; the object and everybody else's fields stay.
    let prior = w.refreshed(FIELDS, &updated, &cfg).await;
    w.k8s.delete(&w.req(FIELDS), &prior).await.unwrap();
    let sa = stored_sa(&w);
    assert!(sa["metadata"]["annotations"][CLIENT_ID].is_null(), "{sa:#}");
    assert_eq!(sa["metadata"]["annotations"]["owner"], "addon");
    assert_eq!(sa["metadata"]["annotations"]["note"], "x");
    assert_eq!(sa["metadata"]["labels"]["app"], "worker");
    assert!(
        !managers(&sa)
            .iter()
            .any(|(m, _)| m.starts_with("plinth-fields:")),
        "{sa:#}"
    );

    // The object deleted by its owner: reads find nothing, a destroy is done.
    let url = kube::core::Request::new(SA_PATH)
        .delete("worker", &Default::default())
        .unwrap();
    w.other_client().await.request::<Json>(url).await.unwrap();
    assert!(w.k8s.read(&w.req(FIELDS), &prior).await.unwrap().is_none());
    w.k8s.delete(&w.req(FIELDS), &prior).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_of_an_object_that_does_not_exist_are_an_error_and_nothing_is_created() {
    let w = World::new(false).await;
    let cfg = annotate(json!({CLIENT_ID: "c1"}));
    // The plan is offline (something in the same apply may create the object).
    let planned = w.plan(FIELDS, None, &cfg).await.unwrap();
    assert_eq!(
        attr(&planned.attributes, &annotation(CLIENT_ID)),
        Some(Value::from("c1"))
    );
    let err = w.k8s.create(&w.req(FIELDS), &cfg).await.unwrap_err();
    assert!(
        err.message.contains(
            "ServiceAccount default/worker does not exist; k8s:fields changes fields of an object someone else created"
        ),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("k8s:v1/ServiceAccount"),
        "{}",
        err.message
    );
    assert!(w.stored("serviceaccounts", "default/worker").is_none());

    // Nor before the cluster exists: a plan known from the manifest alone.
    let mut unknown = v(json!({"cluster": null}));
    unknown.set(&p("cluster"), Value::Unknown);
    let req = Request::new(FIELDS, "sa", &NullReporter).with_settings(&unknown);
    let planned = w.k8s.plan(&req, None, &cfg).await.unwrap();
    assert_eq!(
        attr(&planned.attributes, "metadata.namespace"),
        Some(Value::from("default"))
    );

    // Import has nothing to adopt.
    let err = w
        .k8s
        .import(&w.req(FIELDS), "v1/ServiceAccount/default/worker")
        .await
        .unwrap_err();
    assert!(
        err.message.contains("cannot be imported"),
        "{}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_managers_field_is_a_conflict_unless_forced_and_plinths_resources_coexist() {
    let w = World::new(false).await;
    addon_creates_worker(&w).await;
    // `owner` is the add-on's (a server-side applier): a conflict naming it.
    let cfg = annotate(json!({"owner": "plinth"}));
    let err = w.plan(FIELDS, None, &cfg).await.unwrap_err();
    assert!(err.message.contains("\"aks-addon\""), "{}", err.message);
    assert!(err.message.contains("force = true"), "{}", err.message);
    let err = w.k8s.create(&w.req(FIELDS), &cfg).await.unwrap_err();
    assert!(err.message.contains("\"aks-addon\""), "{}", err.message);
    assert_eq!(stored_sa(&w)["metadata"]["annotations"]["owner"], "addon");

    let mut forced = cfg.clone();
    forced.set(&p("force"), Value::Bool(true));
    w.k8s.create(&w.req(FIELDS), &forced).await.unwrap();
    assert_eq!(stored_sa(&w)["metadata"]["annotations"]["owner"], "plinth");

    // Two k8s:fields of one object, and the whole object applied by plinth elsewhere: each
    // applies as its own manager, so none drops the others' fields.
    let a = Request::new(FIELDS, "a", &NullReporter).with_settings(&w.settings);
    let b = Request::new(FIELDS, "b", &NullReporter).with_settings(&w.settings);
    let cfg_a = annotate(json!({"a": "1"}));
    let cfg_b = annotate(json!({"b": "2"}));
    let obs_a = w.k8s.create(&a, &cfg_a).await.unwrap();
    w.k8s.create(&b, &cfg_b).await.unwrap();
    let cm = v(json!({"manifest": {"metadata": {"name": "worker", "labels": {"whole": "yes"}}}}));
    w.k8s
        .create(&w.req("v1/ServiceAccount"), &cm)
        .await
        .unwrap();
    let sa = stored_sa(&w);
    for (k, want) in [("a", "1"), ("b", "2"), ("owner", "plinth")] {
        assert_eq!(sa["metadata"]["annotations"][k], want, "{sa:#}");
    }
    assert_eq!(sa["metadata"]["labels"]["whole"], "yes");
    // The same field in two of them: the second is told which resource has it.
    let err = w
        .k8s
        .create(&b, &annotate(json!({"a": "other"})))
        .await
        .unwrap_err();
    assert!(err.message.contains("plinth-fields:a"), "{}", err.message);
    // Releasing `a` leaves b's field.
    let prior_a = Prior {
        id: obs_a.id.clone(),
        inputs: cfg_a.clone(),
        attributes: obs_a.attributes.clone(),
    };
    w.k8s.delete(&a, &prior_a).await.unwrap();
    let sa = stored_sa(&w);
    assert!(sa["metadata"]["annotations"]["a"].is_null(), "{sa:#}");
    assert_eq!(sa["metadata"]["annotations"]["b"], "2");
    assert_eq!(sa["metadata"]["labels"]["whole"], "yes");
}
