//! The `k8s:rollout-restart` action: it patches the pod template as `kubectl rollout restart`
//! does, without taking ownership of the Deployment.

use plinth_provider::Provider;
use serde_json::{Value as Json, json};

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_restart_patches_the_template_without_owning_the_deployment() {
    let w = World::new(true).await;
    let action = "rollout-restart";
    let cfg = v(json!({"target": "kube-system/Deployment/keda-operator"}));
    let before = w
        .stored("deployments.apps", "kube-system/keda-operator")
        .unwrap();
    w.k8s.run_action(&w.req(action), &cfg).await.unwrap();
    let after = w
        .stored("deployments.apps", "kube-system/keda-operator")
        .unwrap();
    let stamp =
        after["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .as_str()
            .expect("restartedAt set")
            .to_string();
    assert!(humantime::parse_rfc3339(&stamp).is_ok(), "{stamp}");
    assert_eq!(
        after["metadata"]["generation"].as_i64().unwrap(),
        before["metadata"]["generation"].as_i64().unwrap() + 1
    );
    assert_eq!(after["spec"]["replicas"], before["spec"]["replicas"]);
    let entries = after["metadata"]["managedFields"].as_array().unwrap();
    let mine: Vec<&Json> = entries
        .iter()
        .filter(|e| e["manager"] == "plinth")
        .collect();
    assert_eq!(mine.len(), 1, "{entries:?}");
    assert_eq!(mine[0]["operation"], "Update");
    // plinth owns the annotation and nothing else.
    let owned = mine[0]["fieldsV1"].to_string();
    assert!(
        owned.contains("kubectl.kubernetes.io/restartedAt"),
        "{owned}"
    );
    for not_mine in ["f:replicas", "f:containers", "f:selector", "f:labels"] {
        assert!(!owned.contains(not_mine), "plinth took {not_mine}: {owned}");
    }
    assert!(
        entries.iter().any(|e| e["manager"] == "addon-manager"),
        "{entries:?}"
    );

    // Again: a new timestamp.
    w.k8s.run_action(&w.req(action), &cfg).await.unwrap();
    let again = w
        .stored("deployments.apps", "kube-system/keda-operator")
        .unwrap();
    assert_ne!(
        again["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        stamp
    );

    let missing = v(json!({"target": "kube-system/Deployment/nope"}));
    let err = w
        .k8s
        .run_action(&w.req(action), &missing)
        .await
        .unwrap_err();
    assert!(
        err.message
            .contains("Deployment kube-system/nope not found"),
        "{err}"
    );
    assert!(
        !w.k8s
            .validate(action, &v(json!({"target": "x/Job/y"})))
            .is_empty()
    );
}
