//! Data sources: one object read by kind and `metadata = { name, namespace }` (the object as
//! the server returns it, a Secret's content sensitive), a list by `label_selector`, and the
//! mistakes: nothing to read, both, a missing object.

use plinth_provider::Provider;
use plinth_value::Value;
use serde_json::json;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_source_reads_one_object_or_a_labelled_list() {
    let w = World::new(false).await;
    let other = w.other_client().await;
    for (name, team) in [("web", "blue"), ("api", "blue"), ("batch", "red")] {
        other_apply(
            &other,
            "/api/v1/namespaces/default/configmaps",
            name,
            "kubectl",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"team": team}}, "data": {"k": name}}),
        )
        .await;
    }
    let t = "v1/ConfigMap";
    let one = w
        .k8s
        .read_data(
            &w.req(t),
            &v(json!({"metadata": {"name": "web", "namespace": "default"}})),
        )
        .await
        .unwrap();
    assert_eq!(one.id.as_deref(), Some("v1/ConfigMap/default/web"));
    assert_eq!(attr(&one.attributes, "data.k"), Some(Value::from("web")));
    assert!(attr(&one.attributes, "metadata.uid").is_some());
    assert!(attr(&one.attributes, "metadata.managedFields").is_none());
    // The namespace defaults to "default".
    let same = w
        .k8s
        .read_data(&w.req(t), &v(json!({"metadata": {"name": "web"}})))
        .await
        .unwrap();
    assert_eq!(same.id, one.id);

    let list = w
        .k8s
        .read_data(&w.req(t), &v(json!({"label_selector": "team=blue"})))
        .await
        .unwrap();
    let mut names: Vec<String> = match attr(&list.attributes, "items") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|i| {
                i.get(&p("metadata.name"))
                    .and_then(|n| n.as_str().map(str::to_string))
            })
            .collect(),
        other => panic!("items is a list: {other:?}"),
    };
    names.sort();
    assert_eq!(names, ["api", "web"]);

    let missing = w
        .k8s
        .read_data(&w.req(t), &v(json!({"metadata": {"name": "nowhere"}})))
        .await
        .unwrap_err();
    assert!(
        missing
            .message
            .contains("ConfigMap default/nowhere was not found"),
        "{missing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_read_as_data_is_sensitive() {
    let w = World::new(false).await;
    let other = w.other_client().await;
    other_apply(
        &other,
        "/api/v1/namespaces/default/secrets",
        "db",
        "kubectl",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "aHVudGVyMg=="}}),
    )
    .await;
    let got = w
        .k8s
        .read_data(&w.req("v1/Secret"), &v(json!({"metadata": {"name": "db"}})))
        .await
        .unwrap();
    let data = attr(&got.attributes, "data").expect("data");
    assert!(data.contains_sensitive(), "{data:?}");
    assert!(!got.attributes.render().contains("aHVudGVyMg=="));
}

#[test]
fn data_source_inputs_are_checked() {
    let k8s = plinth_provider_kubernetes::KubernetesProvider::new();
    let schema = k8s.schema("keda.sh/v1alpha1/ScaledJob").unwrap();
    assert!(schema.data_source && schema.managed);
    let problems = |config: serde_json::Value| -> Vec<String> {
        k8s.validate("v1/ConfigMap", &v(config))
            .into_iter()
            .map(|(path, m)| format!("{path}: {m}"))
            .collect()
    };
    assert!(problems(json!({"metadata": {"name": "web"}})).is_empty());
    assert_eq!(
        problems(json!({"metadata": {"name": "web"}, "label_selector": "a=b"})),
        [
            "label_selector: give either metadata.name (one object) or label_selector (a list), not both"
        ]
    );
    assert_eq!(
        problems(json!({"metadata": {"name": "web"}, "wait": {"complete": true}})),
        ["wait: `wait` is for managed objects; a data source only reads"]
    );
    assert_eq!(
        k8s.validate(
            "v1/Namespace",
            &v(json!({"metadata": {"name": "x", "namespace": "y"}}))
        )
        .into_iter()
        .map(|(path, _)| path.to_string())
        .collect::<Vec<_>>(),
        ["metadata.namespace"]
    );
    // A managed object still needs its manifest.
    assert!(
        problems(json!({"force": true}))
            .iter()
            .any(|m| m.contains("`manifest` is required")),
        "{:?}",
        problems(json!({"force": true}))
    );
}
