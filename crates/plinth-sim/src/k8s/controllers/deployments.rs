//! The Deployment and ReplicaSet controllers, as kube-controller-manager runs them, in one
//! step of a round: every Deployment has a ReplicaSet `<deployment>-<pod-template-hash>` for
//! its current pod template (a new template — `kubectl rollout restart` writes the annotation
//! `kubectl.kubernetes.io/restartedAt` into it — makes a new ReplicaSet with the next
//! `deployment.kubernetes.io/revision`, and its older ReplicaSets are scaled to 0); every
//! ReplicaSet has as many pods as it wants (`replicasets`); statuses follow.
//!
//! Rollouts are all at once (the new ReplicaSet's pods are Ready in the round that creates
//! them, so `maxSurge`/`maxUnavailable` never bind); `paused`, `minReadySeconds` and
//! `progressDeadlineSeconds` are not simulated.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sha2::Digest;

use super::super::cluster::Cluster;
use super::super::time::now;
use super::kube::{owned_by, res, s, store_raw, write_status};
use super::replicasets::{owner_ref, replicas, sync_pods};

const MANAGER: &str = "kube-controller-manager";
const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";

/// One step of the controllers: ReplicaSets for Deployments, pods for ReplicaSets, statuses.
pub(super) fn run_deployments(c: &mut Cluster) -> bool {
    let mut changed = collect_replica_sets(c);
    let deployments: Vec<Value> = c
        .list(res("apps", "deployments"), None)
        .into_iter()
        .cloned()
        .collect();
    for d in &deployments {
        changed |= sync_replica_sets(c, d);
    }
    let sets: Vec<Value> = c
        .list(res("apps", "replicasets"), None)
        .into_iter()
        .cloned()
        .collect();
    for rs in &sets {
        changed |= sync_pods(c, rs);
    }
    for d in &deployments {
        changed |= deployment_status(c, d);
    }
    changed
}

/// Kubernetes' pod-template-hash: a 32-bit hash of the template, its decimal digits encoded
/// in the alphabet of generated names.
pub(super) fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digest = sha2::Sha256::digest(template.to_string().as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    n.to_string()
        .bytes()
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}

fn revision(obj: &Value) -> i64 {
    s(
        obj,
        &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
    )
    .parse()
    .unwrap_or(0)
}

/// Deletes ReplicaSets whose Deployment is gone, with their pods.
fn collect_replica_sets(c: &mut Cluster) -> bool {
    let uids: BTreeSet<String> = c
        .list(res("apps", "deployments"), None)
        .into_iter()
        .map(|d| s(d, "/metadata/uid").to_string())
        .collect();
    let orphans: Vec<(String, String, String)> = c
        .list(res("apps", "replicasets"), None)
        .into_iter()
        .filter(|rs| {
            rs.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| {
                    !refs.is_empty()
                        && refs
                            .iter()
                            .all(|r| s(r, "/kind") == "Deployment" && !uids.contains(s(r, "/uid")))
                })
        })
        .map(|rs| {
            (
                s(rs, "/metadata/namespace").to_string(),
                s(rs, "/metadata/name").to_string(),
                s(rs, "/metadata/uid").to_string(),
            )
        })
        .collect();
    for (ns, name, uid) in &orphans {
        delete_pods(c, ns, |p| owned_by(p, uid));
        let _ = c.delete(res("apps", "replicasets"), Some(ns), name, false);
    }
    !orphans.is_empty()
}

fn delete_pods(c: &mut Cluster, ns: &str, pick: impl Fn(&Value) -> bool) -> usize {
    let names: Vec<String> = c
        .list(res("", "pods"), Some(ns))
        .into_iter()
        .filter(|p| pick(p))
        .map(|p| s(p, "/metadata/name").to_string())
        .collect();
    for n in &names {
        let _ = c.delete(res("", "pods"), Some(ns), n, false);
    }
    names.len()
}

/// The Deployment's ReplicaSet for its current template exists and wants its replicas; the
/// older ones want none.
fn sync_replica_sets(c: &mut Cluster, d: &Value) -> bool {
    let rs_r = res("apps", "replicasets");
    let ns = s(d, "/metadata/namespace").to_string();
    let uid = s(d, "/metadata/uid").to_string();
    let template = d.pointer("/spec/template").cloned().unwrap_or_default();
    let hash = template_hash(&template);
    let name = format!("{}-{hash}", s(d, "/metadata/name"));
    let desired = replicas(d);
    let owned: Vec<Value> = c
        .list(rs_r, Some(&ns))
        .into_iter()
        .filter(|rs| owned_by(rs, &uid))
        .cloned()
        .collect();
    let mut changed = false;
    let max_revision = owned.iter().map(revision).max().unwrap_or(0);
    match owned.iter().find(|rs| s(rs, "/metadata/name") == name) {
        None => {
            let mut pod_template = template.clone();
            pod_template["metadata"]["labels"][HASH_LABEL] = json!(hash);
            let mut labels = template
                .pointer("/metadata/labels")
                .cloned()
                .unwrap_or_else(|| json!({}));
            labels[HASH_LABEL] = json!(hash);
            let mut selector = d.pointer("/spec/selector").cloned().unwrap_or_default();
            selector["matchLabels"][HASH_LABEL] = json!(hash);
            let body = json!({
                "metadata": {
                    "name": name, "labels": labels, "ownerReferences": owner_ref(d),
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                        "deployment.kubernetes.io/max-replicas": (desired + (desired + 3) / 4).to_string(),
                        REVISION: (max_revision + 1).to_string(),
                    },
                },
                "spec": {"replicas": desired, "selector": selector, "template": pod_template},
            });
            match c.create(rs_r, Some(&ns), body, MANAGER, false) {
                Ok(_) => changed = true,
                Err(e) => tracing::warn!("creating replicaset {name}: {}", e.message),
            }
        }
        Some(rs) if replicas(rs) != desired => {
            changed |= set_replicas(c, rs, desired);
        }
        Some(_) => {}
    }
    for rs in owned.iter().filter(|rs| s(rs, "/metadata/name") != name) {
        if replicas(rs) != 0 {
            changed |= set_replicas(c, rs, 0);
        }
    }
    changed
}

fn set_replicas(c: &mut Cluster, rs: &Value, n: i64) -> bool {
    let ns = s(rs, "/metadata/namespace").to_string();
    let name = s(rs, "/metadata/name").to_string();
    let Some(mut obj) = c.get(res("apps", "replicasets"), Some(&ns), &name).cloned() else {
        return false;
    };
    obj["spec"]["replicas"] = json!(n);
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    obj["metadata"]["generation"] = json!(generation + 1);
    obj["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
        json!(n.to_string());
    store_raw(c, res("apps", "replicasets"), Some(&ns), &name, obj);
    true
}

/// The Deployment's status from its ReplicaSets (conditions keep their times while they
/// say the same).
fn deployment_status(c: &mut Cluster, d: &Value) -> bool {
    let deploy_r = res("apps", "deployments");
    let ns = s(d, "/metadata/namespace").to_string();
    let name = s(d, "/metadata/name").to_string();
    let Some(d) = c.get(deploy_r, Some(&ns), &name).cloned() else {
        return false;
    };
    let uid = s(&d, "/metadata/uid").to_string();
    let current = format!(
        "{name}-{}",
        template_hash(&d.pointer("/spec/template").cloned().unwrap_or_default())
    );
    let sets: Vec<Value> = c
        .list(res("apps", "replicasets"), Some(&ns))
        .into_iter()
        .filter(|rs| owned_by(rs, &uid))
        .cloned()
        .collect();
    let count = |rs: &Value, k: &str| {
        rs.pointer(&format!("/status/{k}"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let total: i64 = sets.iter().map(|rs| count(rs, "replicas")).sum();
    let ready: i64 = sets.iter().map(|rs| count(rs, "readyReplicas")).sum();
    let new_rs = sets.iter().find(|rs| s(rs, "/metadata/name") == current);
    let updated = new_rs.map(|rs| count(rs, "replicas")).unwrap_or(0);
    let desired = replicas(&d);
    let done = updated == desired && total == desired && ready == desired;
    let (progress_reason, progress_msg) = if done {
        (
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{current}\" has successfully progressed."),
        )
    } else {
        (
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{current}\" is progressing."),
        )
    };
    let (avail, avail_reason, avail_msg) = if ready >= desired {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let old = d.pointer("/status/conditions").and_then(Value::as_array);
    let t = json!(now());
    let condition = |kind: &str, status: &str, reason: &str, message: &str| -> Value {
        let same = old.and_then(|cs| {
            cs.iter().find(|c| {
                s(c, "/type") == kind
                    && s(c, "/status") == status
                    && s(c, "/reason") == reason
                    && s(c, "/message") == message
            })
        });
        match same {
            Some(c) => c.clone(),
            None => json!({"type": kind, "status": status, "reason": reason, "message": message,
                           "lastUpdateTime": t, "lastTransitionTime": t}),
        }
    };
    let mut status = json!({
        "observedGeneration": d.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "conditions": [
            condition("Available", avail, avail_reason, avail_msg),
            condition("Progressing", "True", progress_reason, &progress_msg),
        ],
    });
    if total > 0 {
        status["replicas"] = json!(total);
        status["updatedReplicas"] = json!(updated);
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
    }
    let mut changed = write_status(c, deploy_r, Some(&ns), &name, status);
    let rev = new_rs.map(revision).unwrap_or(0);
    if rev > 0
        && revision(&d) != rev
        && let Some(mut obj) = c.get(deploy_r, Some(&ns), &name).cloned()
    {
        obj["metadata"]["annotations"][REVISION] = json!(rev.to_string());
        store_raw(c, deploy_r, Some(&ns), &name, obj);
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: &Cluster, plural: &str, group: &str) -> Vec<String> {
        c.list(res(group, plural), Some("default"))
            .into_iter()
            .map(|o| s(o, "/metadata/name").to_string())
            .collect()
    }

    fn settle(c: &mut Cluster) {
        for _ in 0..5 {
            if !run_deployments(c) {
                return;
            }
        }
        panic!("the deployment controller did not settle");
    }

    #[test]
    fn scale_rollout_and_deletion() {
        let mut c = Cluster::new("c", false);
        let body = json!({"metadata": {"name": "web"}, "spec": {"replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
        let d = res("apps", "deployments");
        c.create(d, Some("default"), body, "test", false)
            .expect("created");
        settle(&mut c);
        let rs = names(&c, "replicasets", "apps");
        assert_eq!(rs.len(), 1);
        let pods = names(&c, "pods", "");
        assert_eq!(pods.len(), 3);
        assert!(pods.iter().all(|p| p.starts_with(&format!("{}-", rs[0]))));
        let status = c.get(d, Some("default"), "web").expect("web")["status"].clone();
        assert_eq!(status["readyReplicas"], 3);
        assert_eq!(status["conditions"][1]["reason"], "NewReplicaSetAvailable");
        // Settled: another step changes nothing.
        assert!(!run_deployments(&mut c));

        // A new template: a second ReplicaSet runs the pods, the first is kept at 0.
        let mut web = c.get(d, Some("default"), "web").cloned().expect("web");
        web["spec"]["template"]["metadata"]["annotations"] =
            json!({"kubectl.kubernetes.io/restartedAt": "now"});
        web["spec"]["replicas"] = json!(2);
        c.replace(d, Some("default"), "web", web, "test", false)
            .expect("replaced");
        settle(&mut c);
        let sets = c.list(res("apps", "replicasets"), Some("default"));
        assert_eq!(sets.len(), 2);
        let new = sets.iter().find(|r| revision(r) == 2).expect("revision 2");
        assert_eq!(new["status"]["readyReplicas"], 2);
        assert!(sets.iter().any(|r| revision(r) == 1 && replicas(r) == 0));
        let pods = names(&c, "pods", "");
        assert_eq!(pods.len(), 2);
        let new_name = s(new, "/metadata/name").to_string();
        assert!(pods.iter().all(|p| p.starts_with(&new_name)), "{pods:?}");
        let web = c.get(d, Some("default"), "web").expect("web");
        assert_eq!(revision(web), 2);
        assert_eq!(web["status"]["updatedReplicas"], 2);

        // Deleting the Deployment takes its ReplicaSets and pods.
        c.delete(d, Some("default"), "web", false).expect("deleted");
        settle(&mut c);
        assert!(names(&c, "replicasets", "apps").is_empty());
        assert!(names(&c, "pods", "").is_empty());
    }
}
