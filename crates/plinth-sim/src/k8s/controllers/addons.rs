//! What AKS's add-on manager keeps in kube-system while workload identity is on
//! (`securityProfile.workloadIdentity.enabled`): the webhook's ConfigMap
//! `azure-wi-webhook-config` (the cluster's tenant and authority host, read by
//! [`super::super::webhook`]), its ServiceAccount `azure-wi-webhook-admin` and its Deployment
//! `azure-wi-webhook-controller-manager`. They go when workload identity is turned off.
//! (The KEDA add-on's objects are made in `aks`, when ARM turns the add-on on.)

use serde_json::{Value, json};

use super::super::cluster::Cluster;
use super::super::webhook::{CONFIG_MAP, config_data};
use super::kube::{res, s, store_raw};

const MANAGER: &str = "addon-manager";
const SA: &str = "azure-wi-webhook-admin";
const DEPLOYMENT: &str = "azure-wi-webhook-controller-manager";

/// The authority host the simulated cluster's webhook injects: the simulator's own Entra
/// endpoint (its base URL, known from the cluster's OIDC issuer `{base}/oidc/{key}/`), or
/// Azure's public one when the issuer is off.
fn authority_host(aks: &Value) -> String {
    let issuer = s(aks, "/properties/oidcIssuerProfile/issuerURL");
    match issuer.find("/oidc/") {
        Some(i) => format!("{}/", &issuer[..i]),
        None => "https://login.microsoftonline.com/".to_string(),
    }
}

/// Brings the workload-identity add-on's objects in line with the managed cluster `aks`.
pub(super) fn sync_workload_identity(aks: Option<&Value>, c: &mut Cluster) -> bool {
    let enabled = aks.is_some_and(|a| {
        a.pointer("/properties/securityProfile/workloadIdentity/enabled") == Some(&json!(true))
    });
    let cm_r = res("", "configmaps");
    let sa_r = res("", "serviceaccounts");
    let deploy_r = res("apps", "deployments");
    let ns = Some("kube-system");
    let Some(aks) = aks.filter(|_| enabled) else {
        let mut changed = false;
        for (r, name) in [(cm_r, CONFIG_MAP), (deploy_r, DEPLOYMENT), (sa_r, SA)] {
            if c.get(r, ns, name).is_some() {
                let _ = c.delete(r, ns, name, false);
                changed = true;
            }
        }
        return changed;
    };
    let data = Value::Object(config_data(
        s(aks, "/identity/tenantId"),
        &authority_host(aks),
    ));
    let labels = json!({"azure-workload-identity.io/system": "true", "kubernetes.azure.com/managedby": "aks"});
    let mut changed = false;
    match c.get(cm_r, ns, CONFIG_MAP).cloned() {
        Some(mut cm) if cm.get("data") != Some(&data) => {
            cm["data"] = data;
            store_raw(c, cm_r, ns, CONFIG_MAP, cm);
            changed = true;
        }
        Some(_) => {}
        None => {
            let body = json!({"metadata": {"name": CONFIG_MAP, "labels": labels}, "data": data});
            changed |= create(c, cm_r, body);
        }
    }
    if c.get(sa_r, ns, SA).is_none() {
        let body = json!({"metadata": {"name": SA, "labels": labels}});
        changed |= create(c, sa_r, body);
    }
    if c.get(deploy_r, ns, DEPLOYMENT).is_none() {
        let pod_labels = json!({"azure-workload-identity.io/system": "true", "kubernetes.azure.com/managedby": "aks", "app": "azure-wi-webhook"});
        let body = json!({
            "metadata": {"name": DEPLOYMENT, "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"azure-workload-identity.io/system": "true", "app": "azure-wi-webhook"}},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        "serviceAccountName": SA,
                        "containers": [{
                            "name": "manager",
                            "image": "mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.5.1",
                            "envFrom": [{"configMapRef": {"name": CONFIG_MAP}}],
                        }],
                    },
                },
            },
        });
        changed |= create(c, deploy_r, body);
    }
    changed
}

fn create(c: &mut Cluster, r: &super::super::resources::Res, body: Value) -> bool {
    match c.create(r, Some("kube-system"), body, MANAGER, false) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("creating a workload-identity add-on object: {}", e.message);
            false
        }
    }
}
