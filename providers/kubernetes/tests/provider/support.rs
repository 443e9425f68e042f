//! The one harness of the Kubernetes provider's tests: a simulator per test, an AKS cluster
//! created over ARM with the Azure provider, a Kubernetes provider fetching its credentials
//! there (fetches counted), and [`World`], which holds them and reads the simulated cluster
//! back. Also the writes "another tool" makes (another applier, a hand edit, a controller).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kube::core::params::{Patch, PatchParams};
use plinth_provider::{NullReporter, Observed, Planned, Prior, Provider, ProviderError, Request};
use plinth_provider_azure::{AzureProvider, AzureSettings};
use plinth_provider_kubernetes::{FnCredentials, KubernetesProvider};
use plinth_sim::k8s::Cluster;
use plinth_sim::{Latency, SimConfig, SimHandle};
use plinth_value::{Path, Value};
use serde_json::{Value as Json, json};

pub const RG_TYPE: &str = "Microsoft.Resources/resourceGroups@2025-04-01";
pub const AKS_TYPE: &str = "Microsoft.ContainerService/managedClusters@2025-10-01";

pub fn p(s: &str) -> Path {
    s.parse().unwrap()
}

pub fn v(j: Json) -> Value {
    Value::from(j)
}

/// A simulator on an ephemeral loopback port, answering at once.
pub async fn start_sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    plinth_sim::start(
        listener,
        SimConfig {
            latency: Latency::Instant,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap()
}

/// The Azure provider pointed at the simulator.
pub fn azure_for(sim: &SimHandle) -> Arc<AzureProvider> {
    Arc::new(AzureProvider::new(AzureSettings::for_sim_with(
        &sim.url,
        |_| None,
    )))
}

/// The configuration of the test's AKS cluster (`k8s-aks`) in the resource group `rg_id`.
pub fn aks_config(rg_id: &str, keda: bool) -> Value {
    v(json!({
        "name": "k8s-aks", "parent": rg_id, "location": "eastus",
        "body": {
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "dnsPrefix": "k8s",
                "workloadAutoScalerProfile": {"keda": {"enabled": keda}},
                "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System"}]
            }
        }
    }))
}

/// Creates the resource group `k8s-rg` and the AKS cluster in it; returns their ids.
pub async fn create_cluster(azure: &AzureProvider, keda: bool) -> (String, String) {
    let rg = azure
        .create(
            &Request::new(RG_TYPE, "rg", &NullReporter),
            &v(json!({"name": "k8s-rg", "location": "eastus"})),
        )
        .await
        .unwrap();
    let rg_id = rg.id.unwrap();
    let aks = azure
        .create(
            &Request::new(AKS_TYPE, "aks", &NullReporter),
            &aks_config(&rg_id, keda),
        )
        .await
        .unwrap();
    (rg_id, aks.id.unwrap())
}

/// A Kubernetes provider that fetches cluster credentials through `azure` (counting the
/// fetches in `fetches`, when given), polling and retrying fast.
pub fn k8s_provider(
    azure: &Arc<AzureProvider>,
    fetches: Option<Arc<AtomicUsize>>,
) -> KubernetesProvider {
    let a = azure.clone();
    let mut k = KubernetesProvider::with_credentials(Arc::new(FnCredentials(
        move |id: String, admin: bool| {
            let (a, n) = (a.clone(), fetches.clone());
            async move {
                if let Some(n) = n {
                    n.fetch_add(1, Ordering::SeqCst);
                }
                a.cluster_kubeconfig(&id, admin).await
            }
        },
    )));
    k.poll_interval = Duration::from_millis(5);
    k.retry_base = Duration::from_millis(5);
    k
}

/// A simulator, a resource group and an AKS cluster in it, and the providers; the k8s
/// provider's credential fetches are counted.
pub struct World {
    pub sim: SimHandle,
    pub azure: Arc<AzureProvider>,
    pub k8s: KubernetesProvider,
    /// `[provider.kubernetes]` as the engine hands it over: the cluster's ARM id.
    pub settings: Value,
    pub rg_id: String,
    pub cluster_name: String,
    /// How many times the k8s provider fetched cluster credentials from ARM.
    pub fetches: Arc<AtomicUsize>,
}

impl World {
    /// The world with its cluster, the KEDA add-on on when `keda`.
    pub async fn new(keda: bool) -> World {
        let sim = start_sim().await;
        let azure = azure_for(&sim);
        let (rg_id, aks_id) = create_cluster(&azure, keda).await;
        let fetches = Arc::new(AtomicUsize::new(0));
        let k8s = k8s_provider(&azure, Some(fetches.clone()));
        World {
            sim,
            k8s,
            settings: v(json!({"cluster": aks_id})),
            azure,
            rg_id,
            cluster_name: "k8s-aks".into(),
            fetches,
        }
    }

    pub fn req<'a>(&'a self, type_name: &'a str) -> Request<'a> {
        Request::new(type_name, "test", &NullReporter).with_settings(&self.settings)
    }

    /// The cluster's ARM id.
    pub fn cluster_id(&self) -> String {
        self.settings
            .get(&p("cluster"))
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The cluster's kubeconfig, as ARM's listClusterUserCredential hands it out.
    pub async fn kubeconfig(&self) -> String {
        self.azure
            .cluster_kubeconfig(&self.cluster_id(), false)
            .await
            .unwrap()
            .unwrap()
    }

    /// A kube client of another tool, from the same kubeconfig.
    pub async fn other_client(&self) -> kube::Client {
        let yaml = self.kubeconfig().await;
        let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    }

    /// `f` on the simulated cluster, as the simulator holds it.
    pub fn with_cluster<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let mut world = self.sim.shared.world();
        let c = world
            .clusters
            .values_mut()
            .find(|c| c.name == self.cluster_name)
            .expect("the cluster exists in the simulator");
        f(c)
    }

    /// The object as stored in the simulated cluster (managedFields included).
    pub fn stored(&self, qualified: &str, key: &str) -> Option<Json> {
        self.with_cluster(|c| c.objects.get(qualified).and_then(|m| m.get(key)).cloned())
    }

    /// The cluster keys the simulator serves.
    pub fn cluster_keys(&self) -> Vec<String> {
        self.sim.shared.world().clusters.keys().cloned().collect()
    }

    /// The object as stored in the simulated cluster `key` (a replaced cluster has a new
    /// key).
    pub fn stored_in(&self, key: &str, qualified: &str, object: &str) -> Option<Json> {
        let world = self.sim.shared.world();
        world
            .clusters
            .get(key)?
            .objects
            .get(qualified)?
            .get(object)
            .cloned()
    }

    /// Plans `config` again on `prior`: nothing to change.
    pub async fn assert_no_change(&self, t: &str, prior: &Prior, config: &Value) {
        let plan = self.plan(t, Some(prior), config).await.unwrap();
        assert!(plan.changed.is_empty(), "{:?}", plan.changed);
    }

    pub async fn plan(
        &self,
        t: &str,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<Planned, ProviderError> {
        self.k8s.plan(&self.req(t), prior, config).await
    }

    /// Reads back as a refresh does and makes the prior record of the next plan.
    pub async fn refreshed(&self, t: &str, obs: &Observed, inputs: &Value) -> Prior {
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

/// The attribute at `path` of a planned or observed object's attributes.
pub fn attr(attributes: &Value, path: &str) -> Option<Value> {
    attributes.get(&p(path))
}

/// A prior record with an id and inputs only (no attributes read yet).
pub fn prior_of(id: &str, inputs: &Value) -> Prior {
    Prior {
        id: Some(id.into()),
        inputs: inputs.clone(),
        attributes: Value::Null,
    }
}

/// The prior record of the ServiceAccount `default/worker`, never read.
pub fn prior_of_sa() -> Prior {
    prior_of(
        "v1/ServiceAccount/default/worker",
        &v(json!({"manifest": {"metadata": {"name": "worker"}}})),
    )
}

/// A server-side apply by another applier (`manager`).
pub async fn other_apply(client: &kube::Client, path: &str, name: &str, manager: &str, body: Json) {
    let pp = PatchParams::apply(manager);
    let req = kube::core::Request::new(path)
        .patch(name, &pp, &Patch::Apply(&body))
        .unwrap();
    client.request::<Json>(req).await.unwrap();
}

/// A write by a manager that updates (not applies), as kubectl edit or a controller does:
/// a merge patch.
pub async fn update_as(client: &kube::Client, path: &str, name: &str, manager: &str, body: Json) {
    let pp = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    let req = kube::core::Request::new(path)
        .patch(name, &pp, &Patch::Merge(&body))
        .unwrap();
    client.request::<Json>(req).await.unwrap();
}

/// The (manager, operation) pairs of an object's managedFields.
pub fn managers(obj: &Json) -> Vec<(String, String)> {
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
