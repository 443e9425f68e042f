//! The Kubernetes provider against the simulated cloud, for the fixes of a review: a replaced
//! cluster is reached again, a cluster not known yet does not make objects vanish from
//! state, and only hand edits (not controllers) are taken back without `force`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kube::core::params::{Patch, PatchParams};
use plinth_provider::{NullReporter, Observed, Prior, Provider, Request};
use plinth_provider_azure::AzureProvider;
use plinth_provider_kubernetes::KubernetesProvider;
use plinth_sim::SimHandle;
use plinth_value::Value;
use serde_json::{Value as Json, json};

mod support;

use support::*;

/// A simulator with a resource group, an AKS cluster in it, and the providers; the k8s
/// provider's credential fetches are counted.
struct World {
    sim: SimHandle,
    azure: Arc<AzureProvider>,
    k8s: KubernetesProvider,
    settings: Value,
    rg_id: String,
    fetches: Arc<AtomicUsize>,
}

impl World {
    async fn new() -> World {
        let sim = start_sim().await;
        let azure = azure_for(&sim);
        let (rg_id, aks_id) = create_cluster(&azure, false).await;
        let fetches = Arc::new(AtomicUsize::new(0));
        let k8s = k8s_provider(&azure, Some(fetches.clone()));
        World {
            sim,
            azure,
            k8s,
            settings: v(json!({"cluster": aks_id})),
            rg_id,
            fetches,
        }
    }

    fn req<'a>(&'a self, type_name: &'a str) -> Request<'a> {
        Request::new(type_name, "test", &NullReporter).with_settings(&self.settings)
    }

    fn cluster_id(&self) -> String {
        self.settings
            .get(&p("cluster"))
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The cluster keys the simulator serves.
    fn cluster_keys(&self) -> Vec<String> {
        self.sim.shared.world().clusters.keys().cloned().collect()
    }

    /// The object as stored in the simulated cluster `key`.
    fn stored(&self, key: &str, qualified: &str, object: &str) -> Option<Json> {
        let world = self.sim.shared.world();
        world
            .clusters
            .get(key)?
            .objects
            .get(qualified)?
            .get(object)
            .cloned()
    }

    /// A kube client of another tool, from the cluster's kubeconfig.
    async fn other_client(&self) -> kube::Client {
        let yaml = self
            .azure
            .cluster_kubeconfig(&self.cluster_id(), false)
            .await
            .unwrap()
            .unwrap();
        let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    }

    async fn refreshed(&self, t: &str, obs: &Observed, inputs: &Value) -> Prior {
        let prior = Prior {
            id: obs.id.clone(),
            inputs: inputs.clone(),
            attributes: obs.attributes.clone(),
        };
        let read = self
            .k8s
            .read(&self.req(t), &prior)
            .await
            .unwrap()
            .expect("the object exists");
        Prior {
            id: read.id,
            inputs: inputs.clone(),
            attributes: read.attributes,
        }
    }
}

/// A write by a manager that updates (not applies), as kubectl edit or a controller does.
async fn update_as(client: &kube::Client, path: &str, name: &str, manager: &str, body: Json) {
    let pp = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    let req = kube::core::Request::new(path)
        .patch(name, &pp, &Patch::Merge(&body))
        .unwrap();
    client.request::<Json>(req).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_aks_cluster_is_reached_again_with_fresh_credentials() {
    let w = World::new().await;
    let t = "v1/ConfigMap";
    let cfg = v(json!({"manifest": {"metadata": {"name": "settings"}, "data": {"mode": "fast"}}}));
    // Connected (and the kind discovered) on the first cluster.
    let created = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let [old_key] = w.cluster_keys().try_into().unwrap();
    assert!(
        w.stored(&old_key, "configmaps", "default/settings")
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
        w.stored(&new_key, "configmaps", "default/settings")
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
    let w = World::new().await;
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
    assert!(w.stored(&key, "configmaps", "default/moved").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_a_cluster_not_known_yet_are_kept_not_dropped() {
    let w = World::new().await;
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
    let w = World::new().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edits_are_taken_back_but_a_controllers_fields_are_a_conflict() {
    let w = World::new().await;
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
        w.stored(&key, "deployments.apps", "default/web").unwrap()["spec"]["replicas"],
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_wait_after_an_update_waits_for_the_new_generation() {
    // The simulated controllers report at once (observedGeneration = generation), so the
    // wait is met right after the update; the stale case is the unit test of the predicate.
    let w = World::new().await;
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
