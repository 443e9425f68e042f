//! Shared by the Kubernetes provider's tests: a simulator per test, an AKS cluster created
//! over ARM with the Azure provider, and a Kubernetes provider fetching its credentials there.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use plinth_provider::{NullReporter, Provider, Request};
use plinth_provider_azure::{AzureProvider, AzureSettings};
use plinth_provider_kubernetes::{FnCredentials, KubernetesProvider};
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
