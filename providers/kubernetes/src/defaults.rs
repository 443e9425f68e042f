//! What the API server fills in that a manifest does not write, removed from an imported
//! object so that configuration generated from it holds only what a user sets: the values
//! Kubernetes defaults (left out only when they equal the default), and the selector and
//! labels the Job controller adds.

use plinth_value::{Path, Value};

use crate::kind::Gvk;
use crate::manifest::p;

/// Defaults of a pod template's spec, relative to `spec.template.spec` of a workload (or
/// `spec.jobTargetRef.template.spec` of a ScaledJob), and of each of its containers.
const POD_DEFAULTS: &[(&str, &str)] = &[
    ("dnsPolicy", "\"ClusterFirst\""),
    ("schedulerName", "\"default-scheduler\""),
    ("securityContext", "{}"),
    ("terminationGracePeriodSeconds", "30"),
];
const CONTAINER_DEFAULTS: &[(&str, &str)] = &[
    ("terminationMessagePath", "\"/dev/termination-log\""),
    ("terminationMessagePolicy", "\"File\""),
    ("resources", "{}"),
];
/// Defaults of a Job's spec.
const JOB_DEFAULTS: &[(&str, &str)] = &[
    ("backoffLimit", "6"),
    ("completionMode", "\"NonIndexed\""),
    ("completions", "1"),
    ("parallelism", "1"),
    ("suspend", "false"),
    ("manualSelector", "false"),
    ("podReplacementPolicy", "\"TerminatingOrFailed\""),
];
/// Labels the Job controller puts on its pod template (and selects by).
const JOB_LABELS: &[&str] = &[
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
];

fn drop_defaults(v: &mut Value, at: &Path, defaults: &[(&str, &str)]) {
    for (key, default) in defaults {
        let path = at.clone().key(key);
        let default = serde_json::from_str::<serde_json::Value>(default).map(|d| Value::from(&d));
        if let (Some(is), Ok(default)) = (v.get(&path), default)
            && is.unmark_all() == default
        {
            v.remove(&path);
        }
    }
}

/// Removes empty maps left at `path` and above it, up to (not including) `stop` segments.
fn prune(v: &mut Value, path: &Path, stop: usize) {
    let mut at = path.clone();
    while at.segments().len() > stop {
        match v.get(&at) {
            Some(Value::Map(m)) if m.is_empty() => {
                v.remove(&at);
            }
            _ => return,
        }
        at = Path::from_segments(at.segments()[..at.segments().len() - 1].to_vec());
    }
}

fn pod_template(manifest: &mut Value, template: &Path) {
    let spec = template.clone().key("spec");
    drop_defaults(manifest, &spec, POD_DEFAULTS);
    let containers = spec.clone().key("containers");
    let n = manifest
        .get(&containers)
        .and_then(|c| c.as_list().map(<[Value]>::len))
        .unwrap_or(0);
    for i in 0..n {
        let c = containers.clone().index(i);
        drop_defaults(manifest, &c, CONTAINER_DEFAULTS);
        // `Always` is the default pull policy of a `:latest` (or untagged) image.
        let image = manifest.get(&c.clone().key("image"));
        let latest = image.as_ref().and_then(Value::as_str).is_some_and(|i| {
            i.ends_with(":latest") || !i.rsplit('/').next().unwrap_or(i).contains(':')
        });
        if latest {
            drop_defaults(manifest, &c, &[("imagePullPolicy", "\"Always\"")]);
        }
    }
}

/// Removes the server's defaults from `manifest` (an imported object of kind `gvk`).
pub(crate) fn strip(gvk: &Gvk, manifest: &mut Value) {
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("batch", "Job") => {
            drop_defaults(manifest, &p("spec"), JOB_DEFAULTS);
            if manifest
                .get(&p("spec.manualSelector"))
                .and_then(|v| v.as_bool())
                != Some(true)
            {
                manifest.remove(&p("spec.selector"));
            }
            let labels = p("spec.template.metadata.labels");
            for l in JOB_LABELS {
                manifest.remove(&labels.clone().key(l));
            }
            prune(manifest, &labels, 1);
            pod_template(manifest, &p("spec.template"));
        }
        ("keda.sh", "ScaledJob") => pod_template(manifest, &p("spec.jobTargetRef.template")),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            pod_template(manifest, &p("spec.template"))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_jobs_controller_fields_and_defaults_go_what_the_user_wrote_stays() {
        let gvk = Gvk::parse("batch/v1/Job").unwrap();
        let mut m = Value::from(&json!({
            "metadata": {"name": "producer"},
            "spec": {
                "backoffLimit": 6, "completions": 1, "parallelism": 3, "manualSelector": false,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
                "template": {
                    "metadata": {"labels": {"job-name": "producer", "controller-uid": "u", "app": "p"}},
                    "spec": {
                        "dnsPolicy": "ClusterFirst", "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "demo:latest", "imagePullPolicy": "Always", "terminationMessagePath": "/dev/termination-log", "resources": {}}]
                    }
                }
            }
        }));
        strip(&gvk, &mut m);
        assert_eq!(
            m.to_json(),
            json!({
                "metadata": {"name": "producer"},
                "spec": {
                    "parallelism": 3,
                    "template": {
                        "metadata": {"labels": {"app": "p"}},
                        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "demo:latest"}]}
                    }
                }
            })
        );
    }
}
