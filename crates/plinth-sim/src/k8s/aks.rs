//! What AKS puts in a cluster's API: the standard namespaces at creation, the KEDA add-on's
//! deployments (and the keda.sh API) while the add-on is on; and the hooks through which ARM's
//! managed clusters create, update, read and remove their Kubernetes API
//! ([`crate::arm::Clusters`]).

use std::collections::BTreeMap;

use serde_json::json;

use super::cluster::Cluster;
use super::resources;

/// Deployments the KEDA add-on runs in kube-system.
const KEDA_DEPLOYMENTS: &[&str] = &[
    "keda-operator",
    "keda-operator-metrics-apiserver",
    "keda-admission-webhooks",
];
/// The ServiceAccounts the KEDA add-on's deployments run as.
const KEDA_SERVICE_ACCOUNTS: &[&str] = &["keda-operator", "keda-metrics-server", "keda-webhook"];
/// The field manager the AKS add-on manager writes with.
const ADDON_MANAGER: &str = "addon-manager";

impl Cluster {
    /// A fresh cluster: the standard namespaces (each with its `default` service account), a
    /// random token, and the KEDA add-on if asked for.
    pub fn new(name: &str, keda_enabled: bool) -> Cluster {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut c = Cluster {
            name: name.to_string(),
            token,
            ..Cluster::default()
        };
        let ns = resources::find("", "v1", "namespaces", false).expect("namespaces");
        for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            c.create(
                ns,
                None,
                json!({"metadata": {"name": n}}),
                "kube-apiserver",
                false,
            )
            .expect("system namespace");
        }
        c.set_keda(keda_enabled);
        c
    }

    /// Turns the KEDA add-on on (its deployments appear and keda.sh is served) or off (they
    /// and every KEDA object go, and keda.sh is no longer served).
    pub fn set_keda(&mut self, enabled: bool) {
        self.keda_enabled = enabled;
        let deploy = resources::find("apps", "v1", "deployments", false).expect("deployments");
        let sa_r = resources::find("", "v1", "serviceaccounts", false).expect("serviceaccounts");
        if enabled {
            for sa in KEDA_SERVICE_ACCOUNTS {
                if self.get(sa_r, Some("kube-system"), sa).is_some() {
                    continue;
                }
                let body = json!({"metadata": {"name": sa, "labels": {
                    "app.kubernetes.io/name": sa, "app.kubernetes.io/part-of": "keda-operator",
                    "kubernetes.azure.com/managedby": "aks",
                }}});
                if let Err(e) = self.create(sa_r, Some("kube-system"), body, ADDON_MANAGER, false) {
                    tracing::warn!("creating serviceaccount {sa}: {}", e.message);
                }
            }
            for name in KEDA_DEPLOYMENTS {
                if self.get(deploy, Some("kube-system"), name).is_some() {
                    continue;
                }
                let labels = json!({"app": name, "app.kubernetes.io/name": name, "kubernetes.azure.com/managedby": "aks"});
                let mut pod_labels = labels.clone();
                if *name == "keda-operator" {
                    // The add-on runs its operator with workload identity (the webhook injects
                    // the identity the ServiceAccount's annotation names).
                    pod_labels[super::webhook::USE_LABEL] = json!("true");
                }
                let sa = match *name {
                    "keda-admission-webhooks" => "keda-webhook",
                    "keda-operator-metrics-apiserver" => "keda-metrics-server",
                    _ => "keda-operator",
                };
                let body = json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "labels": labels.clone()},
                    "spec": {
                        "replicas": if *name == "keda-admission-webhooks" { 1 } else { 2 },
                        "selector": {"matchLabels": {"app": name}},
                        "template": {
                            "metadata": {"labels": pod_labels},
                            "spec": {
                                "serviceAccountName": sa,
                                "containers": [{"name": name, "image": format!("mcr.microsoft.com/aks/keda/{name}:2.14.1")}],
                            },
                        },
                    },
                });
                if let Err(e) = self.create(deploy, Some("kube-system"), body, ADDON_MANAGER, false)
                {
                    tracing::warn!("creating {name}: {}", e.message);
                }
            }
        } else {
            if let Some(m) = self.objects.get_mut(&deploy.qualified()) {
                for name in KEDA_DEPLOYMENTS {
                    m.remove(&format!("kube-system/{name}"));
                }
            }
            if let Some(m) = self.objects.get_mut(&sa_r.qualified()) {
                for sa in KEDA_SERVICE_ACCOUNTS {
                    m.remove(&format!("kube-system/{sa}"));
                }
            }
            self.objects.retain(|k, _| !k.ends_with(".keda.sh"));
            self.next_rv();
        }
    }
}

impl crate::arm::Clusters for BTreeMap<String, Cluster> {
    fn put(&mut self, key: &str, name: &str, keda: bool) {
        match self.get_mut(key) {
            Some(c) => c.set_keda(keda),
            None => {
                self.insert(key.to_string(), Cluster::new(name, keda));
            }
        }
    }

    fn token(&self, key: &str) -> Option<String> {
        self.get(key).map(|c| c.token.clone())
    }

    fn remove(&mut self, key: &str) {
        BTreeMap::remove(self, key);
    }
}
