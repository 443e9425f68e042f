//! The azure-workload-identity mutating admission webhook, as AKS runs it when workload
//! identity is on (`kube-system/azure-wi-webhook-controller-manager`): every pod created with
//! the label `azure.workload.identity/use: "true"` goes through [`mutate_pod`] before it is
//! stored, whoever creates it (a ReplicaSet, a Job, a user).
//!
//! What it injects follows the webhook's sources (pkg/webhook): into every container and init
//! container not listed in the pod annotation `azure.workload.identity/skip-containers`
//! (`;`-separated), the env `AZURE_CLIENT_ID` (the ServiceAccount's
//! `azure.workload.identity/client-id`, empty if none), `AZURE_TENANT_ID` (its
//! `azure.workload.identity/tenant-id`, else the cluster's tenant), `AZURE_FEDERATED_TOKEN_FILE`
//! and `AZURE_AUTHORITY_HOST` — each only when the container does not set it already — and the
//! read-only mount of the projected service-account token volume `azure-identity-token`
//! (audience `api://AzureADTokenExchange`, expiry from the pod's or ServiceAccount's
//! `azure.workload.identity/service-account-token-expiration`, default 3600 s).
//!
//! The webhook's configuration is the ConfigMap `kube-system/azure-wi-webhook-config` (AKS
//! keeps `AZURE_TENANT_ID` and `AZURE_ENVIRONMENT` there); on the simulator it also carries
//! `AZURE_AUTHORITY_HOST`, the simulator's own Entra endpoint (its base URL with a trailing
//! `/`), since the simulated identities are issued there and not by login.microsoftonline.com.
//! Without that ConfigMap (workload identity off) pods are stored unchanged.

use serde_json::{Map, Value, json};

use super::answer::ApiError;
use super::cluster::Cluster;
use super::resources;

/// The pod label that opts a pod in.
pub(crate) const USE_LABEL: &str = "azure.workload.identity/use";
/// The ConfigMap in kube-system holding the webhook's settings.
pub(crate) const CONFIG_MAP: &str = "azure-wi-webhook-config";
/// Where the projected token is mounted, and its file.
const TOKEN_DIR: &str = "/var/run/secrets/azure/tokens";
const TOKEN_FILE: &str = "azure-identity-token";
const VOLUME: &str = "azure-identity-token";
const AUDIENCE: &str = "api://AzureADTokenExchange";
const EXPIRY_ANNOTATION: &str = "azure.workload.identity/service-account-token-expiration";
const DEFAULT_EXPIRY: i64 = 3600;

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// Mutates `pod` (a create in `ns`) as the workload-identity webhook does. A pod not labelled
/// `azure.workload.identity/use: "true"`, or created while the webhook is not installed, is
/// left as it is. A pod whose ServiceAccount does not exist is left as it is too (the
/// ServiceAccount admission, simulated where pods run, refuses to run it). An invalid token
/// expiration is refused as the webhook refuses it.
pub(crate) fn mutate_pod(c: &Cluster, ns: &str, pod: &mut Value) -> Result<(), ApiError> {
    let labelled = pod
        .pointer("/metadata/labels")
        .and_then(|l| l.get(USE_LABEL))
        .and_then(Value::as_str)
        == Some("true");
    if !labelled {
        return Ok(());
    }
    let cm_r = resources::find("", "v1", "configmaps", false).expect("configmaps are served");
    let Some(config) = c.get(cm_r, Some("kube-system"), CONFIG_MAP) else {
        return Ok(());
    };
    let sa_r = resources::find("", "v1", "serviceaccounts", false).expect("sa are served");
    let sa_name = str_at(pod, "/spec/serviceAccountName")
        .filter(|n| !n.is_empty())
        .unwrap_or("default");
    let Some(sa) = c.get(sa_r, Some(ns), sa_name) else {
        return Ok(());
    };
    let annotation = |obj: &Value, key: &str| -> Option<String> {
        obj.pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let expiry_text = annotation(pod, EXPIRY_ANNOTATION)
        .filter(|v| !v.is_empty())
        .or_else(|| annotation(sa, EXPIRY_ANNOTATION).filter(|v| !v.is_empty()));
    let expiry = match expiry_text {
        None => DEFAULT_EXPIRY,
        Some(t) => match t.parse::<i64>() {
            Ok(n) if (3600..=86400).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(&format!(
                    "admission webhook \"mutation.azure-workload-identity.io\" denied the request: token expiration {t} not valid. Expected value to be between 3600 and 86400 (set the annotation {EXPIRY_ANNOTATION} to a number of seconds in that range)"
                )));
            }
        },
    };
    let client_id = annotation(sa, "azure.workload.identity/client-id").unwrap_or_default();
    let tenant_id = annotation(sa, "azure.workload.identity/tenant-id").unwrap_or_else(|| {
        str_at(config, "/data/AZURE_TENANT_ID")
            .unwrap_or_default()
            .to_string()
    });
    let authority = str_at(config, "/data/AZURE_AUTHORITY_HOST")
        .unwrap_or("https://login.microsoftonline.com/")
        .to_string();
    let skip: Vec<String> = annotation(pod, "azure.workload.identity/skip-containers")
        .map(|s| s.split(';').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    let env = [
        ("AZURE_CLIENT_ID", client_id),
        ("AZURE_TENANT_ID", tenant_id),
        (
            "AZURE_FEDERATED_TOKEN_FILE",
            format!("{TOKEN_DIR}/{TOKEN_FILE}"),
        ),
        ("AZURE_AUTHORITY_HOST", authority),
    ];
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for ct in containers {
            let name = str_at(ct, "/name").unwrap_or_default().to_string();
            if skip.contains(&name) {
                continue;
            }
            mutate_container(ct, &env);
        }
    }
    let volume = json!({
        "name": VOLUME,
        "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
            "audience": AUDIENCE, "expirationSeconds": expiry, "path": TOKEN_FILE,
        }}]},
    });
    let volumes = spec
        .entry("volumes")
        .or_insert_with(|| json!([]))
        .as_array_mut();
    if let Some(volumes) = volumes {
        match volumes
            .iter_mut()
            .find(|v| str_at(v, "/name") == Some(VOLUME))
        {
            Some(v) => *v = volume,
            None => volumes.push(volume),
        }
    }
    Ok(())
}

/// Adds the env the container does not set already, and the token's read-only mount.
fn mutate_container(ct: &mut Value, env: &[(&str, String)]) {
    let Some(ct) = ct.as_object_mut() else {
        return;
    };
    if let Some(list) = ct.entry("env").or_insert_with(|| json!([])).as_array_mut() {
        for (name, value) in env {
            if !list.iter().any(|e| str_at(e, "/name") == Some(name)) {
                list.push(json!({"name": name, "value": value}));
            }
        }
    }
    let mount = json!({"name": VOLUME, "mountPath": TOKEN_DIR, "readOnly": true});
    if let Some(mounts) = ct
        .entry("volumeMounts")
        .or_insert_with(|| json!([]))
        .as_array_mut()
    {
        match mounts
            .iter_mut()
            .find(|m| str_at(m, "/name") == Some(VOLUME))
        {
            Some(m) => *m = mount,
            None => mounts.push(mount),
        }
    }
}

/// The webhook's configuration as AKS writes it (plus the simulator's authority host).
pub(crate) fn config_data(tenant_id: &str, authority_host: &str) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("AZURE_ENVIRONMENT".into(), json!("AzurePublicCloud"));
    data.insert("AZURE_TENANT_ID".into(), json!(tenant_id));
    data.insert("AZURE_AUTHORITY_HOST".into(), json!(authority_host));
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(config: bool) -> Cluster {
        let mut c = Cluster::new("c", false);
        let sa = resources::find("", "v1", "serviceaccounts", false).expect("sa");
        let annotations = json!({"azure.workload.identity/client-id": "cid"});
        c.create(
            sa,
            Some("default"),
            json!({"metadata": {"name": "wi", "annotations": annotations}}),
            "test",
            false,
        )
        .expect("sa");
        if config {
            let cm = resources::find("", "v1", "configmaps", false).expect("cm");
            let data = Value::Object(config_data("tid", "http://127.0.0.1:9/"));
            c.create(
                cm,
                Some("kube-system"),
                json!({"metadata": {"name": CONFIG_MAP}, "data": data}),
                "test",
                false,
            )
            .expect("cm");
        }
        c
    }

    fn pod(label: bool, sa: &str) -> Value {
        let labels = if label {
            json!({USE_LABEL: "true"})
        } else {
            json!({})
        };
        json!({"metadata": {"name": "p", "labels": labels}, "spec": {
        "serviceAccountName": sa,
        "containers": [
            {"name": "app", "image": "i", "env": [{"name": "AZURE_TENANT_ID", "value": "mine"}]},
            {"name": "sidecar", "image": "i"},
        ]}})
    }

    fn env(p: &Value, container: usize) -> Vec<(String, String)> {
        p["spec"]["containers"][container]["env"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (s(e, "/name"), s(e, "/value")))
            .collect()
    }

    fn s(v: &Value, ptr: &str) -> String {
        str_at(v, ptr).unwrap_or_default().to_string()
    }

    #[test]
    fn a_labelled_pod_gets_the_env_the_volume_and_its_mount() {
        let c = cluster(true);
        let mut p = pod(true, "wi");
        mutate_pod(&c, "default", &mut p).expect("mutated");
        let want = |tenant: &str| {
            vec![
                ("AZURE_CLIENT_ID".to_string(), "cid".to_string()),
                ("AZURE_TENANT_ID".to_string(), tenant.to_string()),
                (
                    "AZURE_FEDERATED_TOKEN_FILE".to_string(),
                    "/var/run/secrets/azure/tokens/azure-identity-token".to_string(),
                ),
                (
                    "AZURE_AUTHORITY_HOST".to_string(),
                    "http://127.0.0.1:9/".to_string(),
                ),
            ]
        };
        // A variable the container sets already is kept as it is.
        let mut first = want("mine");
        first.swap(0, 1);
        assert_eq!(env(&p, 0), first);
        assert_eq!(env(&p, 1), want("tid"));
        assert_eq!(
            p["spec"]["containers"][1]["volumeMounts"],
            json!([{"name": VOLUME, "mountPath": TOKEN_DIR, "readOnly": true}])
        );
        let projection = &p["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"];
        assert_eq!(projection["audience"], AUDIENCE);
        assert_eq!(projection["expirationSeconds"], 3600);
        // Mutating again changes nothing (reinvocation).
        let again = p.clone();
        mutate_pod(&c, "default", &mut p).expect("mutated");
        assert_eq!(p, again);
    }

    #[test]
    fn unlabelled_pods_and_clusters_without_workload_identity_are_left_alone() {
        let c = cluster(true);
        let mut p = pod(false, "wi");
        let before = p.clone();
        mutate_pod(&c, "default", &mut p).expect("ok");
        assert_eq!(p, before);
        let off = cluster(false);
        let mut p = pod(true, "wi");
        let before = p.clone();
        mutate_pod(&off, "default", &mut p).expect("ok");
        assert_eq!(p, before);
        // No such ServiceAccount: the pod is stored as it is.
        let mut p = pod(true, "missing");
        let before = p.clone();
        mutate_pod(&c, "default", &mut p).expect("ok");
        assert_eq!(p, before);
    }

    #[test]
    fn a_token_expiry_out_of_range_is_refused() {
        let c = cluster(true);
        let mut p = pod(true, "wi");
        p["metadata"]["annotations"] = json!({EXPIRY_ANNOTATION: "60"});
        let err = mutate_pod(&c, "default", &mut p).expect_err("refused");
        assert!(
            err.message.contains("between 3600 and 86400"),
            "{}",
            err.message
        );
    }
}
