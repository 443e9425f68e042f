//! The Kubernetes provider against the simulated cloud: an AKS cluster created over ARM (with
//! the Azure provider), its credentials fetched with `listClusterUserCredential`, and the
//! cluster's Kubernetes API driven through the provider. Every test has its own simulator on
//! an ephemeral loopback port; nothing waits on a clock (the simulator answers synchronously).

use std::sync::Arc;
use std::time::Duration;

use kube::core::params::{Patch, PatchParams};
use plinth_provider::{NullReporter, Observed, Prior, Provider, Request};
use plinth_provider_azure::AzureProvider;
use plinth_provider_kubernetes::KubernetesProvider;
use plinth_sim::SimHandle;
use plinth_sim::k8s::Cluster;
use plinth_value::Value;
use serde_json::{Value as Json, json};

mod support;

use support::*;

/// The attribute at `path` of a planned or observed object's attributes.
fn attr(attributes: &Value, path: &str) -> Option<Value> {
    attributes.get(&p(path))
}

/// A simulator, an AKS cluster in it and the providers.
struct World {
    sim: SimHandle,
    azure: Arc<AzureProvider>,
    k8s: KubernetesProvider,
    /// `[provider.kubernetes]` as the engine hands it over: the cluster's ARM id.
    settings: Value,
    cluster_name: String,
}

impl World {
    async fn new(keda: bool) -> World {
        let sim = start_sim().await;
        let azure = azure_for(&sim);
        let (_, aks_id) = create_cluster(&azure, keda).await;
        let k8s = k8s_provider(&azure, None);
        World {
            sim,
            k8s,
            settings: v(json!({"cluster": aks_id})),
            azure,
            cluster_name: "k8s-aks".into(),
        }
    }

    fn req<'a>(&'a self, type_name: &'a str) -> Request<'a> {
        Request::new(type_name, "test", &NullReporter).with_settings(&self.settings)
    }

    /// The cluster's kubeconfig, as ARM's listClusterUserCredential hands it out.
    async fn kubeconfig(&self) -> String {
        let id = self.settings.get(&p("cluster")).unwrap();
        self.azure
            .cluster_kubeconfig(id.as_str().unwrap(), false)
            .await
            .unwrap()
            .unwrap()
    }

    /// A kube client of another tool, from the same kubeconfig.
    async fn other_client(&self) -> kube::Client {
        let yaml = self.kubeconfig().await;
        let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    }

    /// `f` on the simulated cluster, as the simulator holds it.
    fn with_cluster<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let mut world = self.sim.shared.world();
        let c = world
            .clusters
            .values_mut()
            .find(|c| c.name == self.cluster_name)
            .expect("the cluster exists in the simulator");
        f(c)
    }

    /// The object as stored in the simulated cluster (managedFields included).
    fn stored(&self, qualified: &str, key: &str) -> Option<Json> {
        self.with_cluster(|c| c.objects.get(qualified).and_then(|m| m.get(key)).cloned())
    }

    /// Plans `config` again on `prior`: nothing to change.
    async fn assert_no_change(&self, t: &str, prior: &Prior, config: &Value) {
        let plan = self.plan(t, Some(prior), config).await.unwrap();
        assert!(plan.changed.is_empty(), "{:?}", plan.changed);
    }

    async fn plan(
        &self,
        t: &str,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<plinth_provider::Planned, plinth_provider::ProviderError> {
        self.k8s.plan(&self.req(t), prior, config).await
    }

    /// Reads back as a refresh does and makes the prior record of the next plan.
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

async fn other_apply(client: &kube::Client, path: &str, name: &str, manager: &str, body: Json) {
    let pp = PatchParams::apply(manager);
    let req = kube::core::Request::new(path)
        .patch(name, &pp, &Patch::Apply(&body))
        .unwrap();
    client.request::<Json>(req).await.unwrap();
}

async fn other_merge_patch(
    client: &kube::Client,
    path: &str,
    name: &str,
    manager: &str,
    body: Json,
) {
    let pp = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    let req = kube::core::Request::new(path)
        .patch(name, &pp, &Patch::Merge(&body))
        .unwrap();
    client.request::<Json>(req).await.unwrap();
}

fn managers(obj: &Json) -> Vec<(String, String)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap().to_string(),
                e["operation"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

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
    other_merge_patch(
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

/// A prior record with an id and inputs only (no attributes read yet).
fn prior_of(id: &str, inputs: &Value) -> Prior {
    Prior {
        id: Some(id.into()),
        inputs: inputs.clone(),
        attributes: Value::Null,
    }
}

fn prior_of_sa() -> Prior {
    prior_of(
        "v1/ServiceAccount/default/worker",
        &v(json!({"manifest": {"metadata": {"name": "worker"}}})),
    )
}

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
