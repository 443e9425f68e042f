//! `import`: an object someone else created is adopted, its manifest taken from what the
//! server holds.

use plinth_provider::Provider;
use plinth_value::Value;
use serde_json::json;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_adopts_an_existing_object() {
    let w = World::new(false).await;
    let other = w.other_client().await;
    other_apply(
        &other,
        "/api/v1/namespaces/default/configmaps",
        "legacy",
        "kubectl",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "legacy", "labels": {"a": "b"}}, "data": {"k": "v"}}),
    )
    .await;
    let t = "v1/ConfigMap";
    let (obs, inputs) = w
        .k8s
        .import(&w.req(t), "v1/ConfigMap/default/legacy")
        .await
        .unwrap();
    assert_eq!(obs.id.as_deref(), Some("v1/ConfigMap/default/legacy"));
    assert_eq!(inputs.get(&p("manifest.data.k")), Some(Value::from("v")));
    assert!(inputs.get(&p("manifest.metadata.uid")).is_none());
    assert!(
        inputs
            .get(&p("manifest.metadata.resourceVersion"))
            .is_none()
    );
    let err = w
        .k8s
        .import(&w.req(t), "v1/ConfigMap/default/missing")
        .await
        .unwrap_err();
    assert!(
        err.message
            .contains("ConfigMap default/missing was not found"),
        "{err}"
    );
    assert!(
        w.k8s
            .import(&w.req(t), "v1/Secret/default/legacy")
            .await
            .is_err()
    );
}
