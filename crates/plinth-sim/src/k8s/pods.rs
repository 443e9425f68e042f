//! Reads of the pods the cluster runs, for the simulated controllers: which pods of a
//! workload are Running and Ready (KEDA's operator reads its credential from their env).

use serde_json::Value;

use super::cluster::Cluster;
use super::resources;
use super::table;

impl Cluster {
    /// The pods in `ns` that match the label selector `selector` (`app=keda-operator`) and
    /// are Running and Ready and not being deleted, by name. An invalid selector matches
    /// nothing. Their `spec.containers[].env` carries what the workload-identity webhook
    /// injected at creation (`AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`, ...).
    pub(crate) fn running_pods(&self, ns: &str, selector: &str) -> Vec<&Value> {
        let pods = resources::find("", "v1", "pods", false).expect("pods are served");
        self.list(pods, Some(ns))
            .into_iter()
            .filter(|p| table::selects(selector, p).unwrap_or(false))
            .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
            .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Running"))
            .filter(|p| {
                p.pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter().any(|c| {
                            c.get("type").and_then(Value::as_str) == Some("Ready")
                                && c.get("status").and_then(Value::as_str) == Some("True")
                        })
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(c: &mut Cluster, name: &str, app: &str, phase: &str, ready: &str) {
        let pods = resources::find("", "v1", "pods", false).expect("pods");
        c.create(
            pods,
            Some("kube-system"),
            json!({"metadata": {"name": name, "labels": {"app": app}},
                   "spec": {"containers": [{"name": "c", "image": "i"}]}}),
            "test",
            false,
        )
        .expect("pod created");
        let key = format!("kube-system/{name}");
        let p = c
            .objects
            .get_mut("pods")
            .and_then(|m| m.get_mut(&key))
            .expect("stored");
        p["status"] = json!({"phase": phase, "conditions": [{"type": "Ready", "status": ready}]});
    }

    #[test]
    fn running_pods_are_the_ready_ones_the_selector_picks() {
        let mut c = Cluster::new("c", false);
        pod(&mut c, "op-1", "keda-operator", "Running", "True");
        pod(&mut c, "op-2", "keda-operator", "Pending", "False");
        pod(&mut c, "op-3", "keda-operator", "Running", "False");
        pod(&mut c, "other", "other", "Running", "True");
        let names: Vec<&str> = c
            .running_pods("kube-system", "app=keda-operator")
            .into_iter()
            .filter_map(|p| p.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        assert_eq!(names, ["op-1"]);
        assert!(c.running_pods("default", "app=keda-operator").is_empty());
        assert!(c.running_pods("kube-system", "app in (").is_empty());
    }
}
