//! The ReplicaSet controller: every ReplicaSet has as many pods `<replicaset>-<5 chars>` as it
//! wants, Running and Ready at once (no image is pulled), on the cluster's one node, and a
//! status that counts them. Pods are created through the API's create path, so the
//! workload-identity webhook mutates them.

use serde_json::{Map, Value, json};

use super::super::cluster::Cluster;
use super::super::time::now;
use super::kube::{next_serial, owned_by, res, s, suffix, write_status};

/// The node every simulated pod runs on.
pub(super) const NODE: &str = "aks-system-00000000-vmss000000";
const MANAGER: &str = "kube-controller-manager";

pub(super) fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

pub(super) fn owner_ref(obj: &Value) -> Value {
    json!([{"apiVersion": s(obj, "/apiVersion"), "kind": s(obj, "/kind"),
            "name": s(obj, "/metadata/name"), "uid": s(obj, "/metadata/uid"),
            "controller": true, "blockOwnerDeletion": true}])
}

/// The most pods one ReplicaSet runs: the simulated cluster is one node, and AKS allows at
/// most 250 pods per node; a larger `replicas` leaves the rest unscheduled (not created).
const MAX_PODS: i64 = 250;

/// The ReplicaSet has as many pods as it wants (extra ones deleted, newest first); its
/// status counts them.
pub(super) fn sync_pods(c: &mut Cluster, rs: &Value) -> bool {
    let ns = s(rs, "/metadata/namespace").to_string();
    let rs_name = s(rs, "/metadata/name").to_string();
    let uid = s(rs, "/metadata/uid").to_string();
    let want = replicas(rs).clamp(0, MAX_PODS) as usize;
    let mut pods: Vec<(String, String)> = c
        .list(res("", "pods"), Some(&ns))
        .into_iter()
        .filter(|p| owned_by(p, &uid))
        .map(|p| {
            (
                s(p, "/metadata/creationTimestamp").to_string(),
                s(p, "/metadata/name").to_string(),
            )
        })
        .collect();
    pods.sort();
    let mut changed = false;
    while pods.len() > want {
        if let Some((_, name)) = pods.pop() {
            let _ = c.delete(res("", "pods"), Some(&ns), &name, false);
            changed = true;
        }
    }
    for _ in pods.len()..want {
        match create_pod(c, rs) {
            Ok(()) => changed = true,
            Err(e) => {
                tracing::warn!("creating a pod of {rs_name}: {e}");
                break;
            }
        }
    }
    let count = c
        .list(res("", "pods"), Some(&ns))
        .into_iter()
        .filter(|p| owned_by(p, &uid))
        .count() as i64;
    let generation = rs
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let selector: Vec<String> = rs
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    let ready = c
        .running_pods(&ns, &selector.join(","))
        .into_iter()
        .filter(|p| owned_by(p, &uid))
        .count() as i64;
    let mut status = json!({"replicas": count, "observedGeneration": generation});
    if count > 0 {
        status["fullyLabeledReplicas"] = json!(count);
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
    }
    changed | write_status(c, res("apps", "replicasets"), Some(&ns), &rs_name, status)
}

/// Creates one Running, Ready pod of `rs`.
fn create_pod(c: &mut Cluster, rs: &Value) -> Result<(), String> {
    let pods = res("", "pods");
    let ns = s(rs, "/metadata/namespace").to_string();
    let rs_name = s(rs, "/metadata/name");
    let serial = next_serial(c);
    let name = format!(
        "{rs_name}-{}",
        suffix(&format!("{}/{serial}", s(rs, "/metadata/uid")))
    );
    let template = rs.pointer("/spec/template").cloned().unwrap_or_default();
    let mut meta = Map::new();
    meta.insert("name".into(), json!(name));
    for k in ["labels", "annotations"] {
        if let Some(v) = template.pointer(&format!("/metadata/{k}")) {
            meta.insert(k.into(), v.clone());
        }
    }
    meta.insert("ownerReferences".into(), owner_ref(rs));
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    spec["nodeName"] = json!(NODE);
    if spec.get("serviceAccountName").is_none() {
        spec["serviceAccountName"] = json!("default");
    }
    let body = json!({"metadata": meta, "spec": spec});
    let pod = c
        .create(pods, Some(&ns), body, MANAGER, false)
        .map_err(|e| e.message)?;
    let t = json!(now());
    let containers: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|ct| {
            json!({
                "name": ct["name"], "image": ct["image"], "imageID": "", "ready": true,
                "restartCount": 0, "started": true,
                "containerID": format!("containerd://{}", suffix(&format!("{name}/{}", s(ct, "/name")))),
                "state": {"running": {"startedAt": t}},
            })
        })
        .collect();
    let ip = format!("10.244.0.{}", 10 + serial % 240);
    let status = json!({
        "phase": "Running",
        "conditions": [
            {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": t},
            {"type": "Initialized", "status": "True", "lastTransitionTime": t},
            {"type": "Ready", "status": "True", "lastTransitionTime": t},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": t},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
        ],
        "hostIP": "10.224.0.4", "hostIPs": [{"ip": "10.224.0.4"}],
        "podIP": ip, "podIPs": [{"ip": ip}], "startTime": t,
        "qosClass": "BestEffort",
        "containerStatuses": containers,
    });
    write_status(c, pods, Some(&ns), &name, status);
    Ok(())
}
