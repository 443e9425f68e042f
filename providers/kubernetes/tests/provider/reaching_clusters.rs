//! Reaching the cluster the settings name: credentials never appear in errors; an AKS
//! cluster replaced under the same id, or moved to another address, is reached again with
//! fresh credentials; kubeconfig files and contexts work too; and settings that now reach
//! another cluster replace the object.

use std::sync::atomic::Ordering;
use std::time::Duration;

use plinth_provider::{NullReporter, Prior, Provider, Request};
use plinth_provider_kubernetes::KubernetesProvider;
use plinth_value::Value;
use serde_json::json;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_appear_in_errors_and_a_replaced_cluster_is_reached_again() {
    let w = World::new(false).await;
    let t = "v1/ServiceAccount";
    let cfg = v(json!({"manifest": {"metadata": {"name": "worker"}}}));
    w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let token = w.with_cluster(|c| c.token.clone());
    let err = w
        .plan(
            t,
            None,
            &v(json!({"manifest": {"metadata": {"name": "Bad_Name"}}})),
        )
        .await
        .unwrap_err();
    assert!(!err.message.contains(&token), "{err}");

    // The cluster hands out a new token (as a replaced cluster would): the cached client is
    // refused once, then made again from fresh credentials.
    w.with_cluster(|c| {
        c.token = "a-new-token-for-the-replaced-cluster".into();
        c.require_token = true;
    });
    let prior = prior_of_sa();
    assert!(w.k8s.read(&w.req(t), &prior).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_aks_cluster_is_reached_again_with_fresh_credentials() {
    let w = World::new(false).await;
    let t = "v1/ConfigMap";
    let cfg = v(json!({"manifest": {"metadata": {"name": "settings"}, "data": {"mode": "fast"}}}));
    // Connected (and the kind discovered) on the first cluster.
    let created = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let [old_key] = w.cluster_keys().try_into().unwrap();
    assert!(
        w.stored_in(&old_key, "configmaps", "default/settings")
            .is_some()
    );
    let fetched = w.fetches.load(Ordering::SeqCst);

    // The AKS cluster is deleted and created again under the same ARM id: a new API server
    // (path), token and state.
    let aks_req = Request::new(AKS_TYPE, "aks", &NullReporter);
    w.azure
        .delete(
            &aks_req,
            &Prior {
                id: Some(w.cluster_id()),
                inputs: aks_config(&w.rg_id, false),
                attributes: Value::Null,
            },
        )
        .await
        .unwrap();
    let again = w
        .azure
        .create(&aks_req, &aks_config(&w.rg_id, false))
        .await
        .unwrap();
    assert_eq!(again.id.as_deref(), Some(w.cluster_id().as_str()));
    let [new_key] = w.cluster_keys().try_into().unwrap();
    assert_ne!(new_key, old_key);
    // Only the new token is accepted.
    w.sim
        .shared
        .world()
        .clusters
        .get_mut(&new_key)
        .unwrap()
        .require_token = true;

    // The cached connection reaches nothing: it is made again from fresh credentials, and the
    // next calls succeed on the new cluster.
    let prior = Prior {
        id: created.id.clone(),
        inputs: cfg.clone(),
        attributes: created.attributes.clone(),
    };
    // The plan reaches the new cluster, where the object recorded (read on the old one) is
    // not: it is to be created again there (a refresh would have dropped the record).
    let plan = w.k8s.plan(&w.req(t), Some(&prior), &cfg).await.unwrap();
    assert_eq!(plan.requires_replace, vec![p("manifest.metadata.uid")]);
    let made = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    assert_eq!(
        made.attributes.get(&p("data.mode")),
        Some(Value::from("fast"))
    );
    assert!(
        w.stored_in(&new_key, "configmaps", "default/settings")
            .is_some()
    );
    assert!(w.k8s.read(&w.req(t), &prior).await.unwrap().is_some());
    assert_eq!(
        w.fetches.load(Ordering::SeqCst),
        fetched + 1,
        "the credentials are fetched again once, not per call"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_moved_is_reached_again_after_a_connection_failure() {
    // Two API servers: the cluster as first reached, and where it answers after a
    // replacement. The kubeconfig file is the credentials, read again on reconnecting.
    let w = World::new(false).await;
    let kubeconfig = w
        .azure
        .cluster_kubeconfig(&w.cluster_id(), false)
        .await
        .unwrap()
        .unwrap();
    let before = start_sim().await;
    let stale_url = before.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    // First the stale server (nothing there at the cluster's path, the other simulator).
    std::fs::write(&file, kubeconfig.replace(&w.sim.url, &stale_url)).unwrap();
    let mut k8s = KubernetesProvider::new();
    k8s.retry_base = Duration::from_millis(5);
    k8s.retry_attempts = 2;
    let settings = v(json!({"kubeconfig": file.to_str().unwrap()}));
    let t = "v1/ConfigMap";
    let req = Request::new(t, "cm", &NullReporter).with_settings(&settings);
    let cfg = v(json!({"manifest": {"metadata": {"name": "moved"}, "data": {"a": "1"}}}));
    // The connection is made (lazily: a client for the stale server), which answers 404
    // for everything: no cluster is there, and the plan says so.
    let err = k8s.plan(&req, None, &cfg).await.unwrap_err();
    assert!(
        err.message.contains("is not a Kubernetes API server"),
        "{}",
        err.message
    );
    // The cluster moves: its old address refuses connections; the kubeconfig names the new.
    before.shutdown().await.unwrap();
    std::fs::write(&file, &kubeconfig).unwrap();
    let made = k8s.create(&req, &cfg).await.unwrap();
    assert_eq!(made.id.as_deref(), Some("v1/ConfigMap/default/moved"));
    let [key] = w.cluster_keys().try_into().unwrap();
    assert!(w.stored_in(&key, "configmaps", "default/moved").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_file_and_context_reach_the_cluster_too() {
    let w = World::new(false).await;
    let yaml = w.kubeconfig().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    std::fs::write(&file, &yaml).unwrap();
    // No AKS credentials at all: the kubeconfig is enough.
    let mut k8s = KubernetesProvider::new();
    k8s.poll_interval = Duration::from_millis(5);
    let settings = v(json!({"kubeconfig": file.to_str().unwrap(), "context": "k8s-aks"}));
    let t = "v1/ConfigMap";
    let req = Request::new(t, "cm", &NullReporter).with_settings(&settings);
    let cfg = v(json!({"manifest": {"metadata": {"name": "from-file"}, "data": {"a": "1"}}}));
    let created = k8s.create(&req, &cfg).await.unwrap();
    assert_eq!(
        created.id.as_deref(),
        Some("v1/ConfigMap/default/from-file")
    );
    assert!(w.stored("configmaps", "default/from-file").is_some());

    let wrong = v(json!({"kubeconfig": file.to_str().unwrap(), "context": "nope"}));
    let req = Request::new(t, "cm", &NullReporter).with_settings(&wrong);
    let err = k8s.create(&req, &cfg).await.unwrap_err();
    assert!(err.message.contains("nope"), "{err}");
    let missing = v(json!({"kubeconfig": dir.path().join("absent").to_str().unwrap()}));
    let req = Request::new(t, "cm", &NullReporter).with_settings(&missing);
    let err = k8s.create(&req, &cfg).await.unwrap_err();
    assert!(err.message.contains("absent"), "{err}");
}

/// Pointing `kubeconfig` (or `context`) at another cluster replaces the object: the refresh
/// read it where state says it lives, the plan finds another object (or none) where the
/// settings now point. What counts is the cluster reached, not the path: the same kubeconfig
/// under another name is no change. A server that answers 404 even for /version is no
/// cluster, not one whose CRD is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_cluster_behind_the_kubeconfig_replaces_the_object() {
    let sim = start_sim().await;
    let azure = azure_for(&sim);
    let (rg_id, a_id) = create_cluster(&azure, false).await;
    let mut b_config = aks_config(&rg_id, false);
    b_config.set(&p("name"), Value::from("k8s-aks-b"));
    b_config.set(&p("body.properties.dnsPrefix"), Value::from("k8sb"));
    let b_id = azure
        .create(&Request::new(AKS_TYPE, "aks_b", &NullReporter), &b_config)
        .await
        .unwrap()
        .id
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, yaml: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        Value::from(json!({"kubeconfig": path.to_str().unwrap()}))
    };
    let yaml_a = azure
        .cluster_kubeconfig(&a_id, false)
        .await
        .unwrap()
        .unwrap();
    let yaml_b = azure
        .cluster_kubeconfig(&b_id, false)
        .await
        .unwrap()
        .unwrap();
    let at_a = write("a.yaml", &yaml_a);
    let a_again = write("a-copy.yaml", &yaml_a);
    let at_b = write("b.yaml", &yaml_b);

    let k8s = KubernetesProvider::new();
    let t = "v1/ConfigMap";
    let cfg = Value::from(json!({"manifest": {"metadata": {"name": "moved"}, "data": {"k": "v"}}}));
    let req = |settings| Request::new(t, "cm", &NullReporter).with_settings(settings);
    let created = k8s.create(&req(&at_a), &cfg).await.unwrap();
    let read = k8s
        .read(
            &req(&at_a),
            &Prior {
                id: created.id.clone(),
                inputs: cfg.clone(),
                attributes: created.attributes.clone(),
            },
        )
        .await
        .unwrap()
        .unwrap();
    let prior = Prior {
        id: read.id,
        inputs: cfg.clone(),
        attributes: read.attributes,
    };
    let same = k8s.plan(&req(&a_again), Some(&prior), &cfg).await.unwrap();
    assert!(same.changed.is_empty(), "{:?}", same.changed);
    assert!(same.requires_replace.is_empty());

    let moved = k8s.plan(&req(&at_b), Some(&prior), &cfg).await.unwrap();
    assert_eq!(moved.requires_replace, vec![p("manifest.metadata.uid")]);
    assert_eq!(
        moved.attributes.get(&p("metadata.uid")),
        Some(Value::Unknown)
    );

    // A server that is no cluster at all (a deleted one's address).
    let gone_key = sim.url.clone() + "/k8s/no-such-cluster";
    let server_a = yaml_a
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let nowhere = write("nowhere.yaml", &yaml_a.replace(&server_a, &gone_key));
    let err = k8s
        .plan(&req(&nowhere), Some(&prior), &cfg)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("is not a Kubernetes API server"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("CRD"), "{}", err.message);
    let err = k8s.read(&req(&nowhere), &prior).await.unwrap_err();
    assert!(
        err.message.contains("is not a Kubernetes API server"),
        "{}",
        err.message
    );
}
