//! Type names (`k8s:<apiVersion>/<Kind>`), object ids (`<apiVersion>/<Kind>/<namespace>/<name>`)
//! and the `k8s:rollout-restart` target (`<namespace>/<Kind>/<name>`).

use plinth_provider::ProviderError;

/// The action type's name (after `k8s:`).
pub const ROLLOUT_RESTART: &str = "rollout-restart";

/// The type of some fields of an object someone else created (after `k8s:`).
pub const FIELDS: &str = "fields";

/// Kinds that are cluster-scoped in every cluster; used to default namespaces before a cluster
/// can be asked (discovery answers for everything else, CRDs included).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ClusterTriggerAuthentication",
    "ClusterIssuer",
];

/// A Kubernetes object type: `apiVersion` and `Kind`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Gvk {
    /// The API group; empty for the core group (`v1`).
    pub group: String,
    /// The group's version (`v1`, `v1alpha1`).
    pub version: String,
    /// The kind, as manifests spell it (`ConfigMap`).
    pub kind: String,
}

impl Gvk {
    /// Parses the part of a type name after `k8s:`: `v1/ServiceAccount`, `batch/v1/Job`,
    /// `keda.sh/v1alpha1/ScaledJob`.
    pub fn parse(type_name: &str) -> Result<Gvk, ProviderError> {
        let bad = || {
            ProviderError::new(format!(
                "`k8s:{type_name}` is not a Kubernetes type: write k8s:<apiVersion>/<Kind>, e.g. k8s:v1/ServiceAccount, k8s:batch/v1/Job or k8s:keda.sh/v1alpha1/ScaledJob"
            ))
        };
        let (api_version, kind) = type_name.rsplit_once('/').ok_or_else(bad)?;
        Self::from_parts(api_version, kind).ok_or_else(bad)
    }

    /// From `apiVersion` and `kind` as a manifest spells them.
    pub fn from_parts(api_version: &str, kind: &str) -> Option<Gvk> {
        let kind_ok = kind.starts_with(|c: char| c.is_ascii_uppercase())
            && kind.chars().all(|c| c.is_ascii_alphanumeric());
        if !kind_ok {
            return None;
        }
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        };
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        if !(segment_ok(version)
            && !version.contains('.')
            && (group.is_empty() || segment_ok(group)))
        {
            return None;
        }
        Some(Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        })
    }

    /// `apiVersion` as manifests write it: `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The type name after `k8s:`.
    pub fn type_name(&self) -> String {
        format!("{}/{}", self.api_version(), self.kind)
    }

    /// Whether the kind is cluster-scoped, as far as can be told without a cluster.
    pub fn guess_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED.contains(&self.kind.as_str())
    }
}

/// One object: its type, namespace (`None` for cluster-scoped objects) and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    /// The object's type.
    pub gvk: Gvk,
    /// Its namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Its `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// `<apiVersion>/<Kind>/<namespace>/<name>`, or `<apiVersion>/<Kind>/<name>` for a
    /// cluster-scoped object: stable, and free of the cluster it lives in.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.gvk.type_name(), self.name),
            None => format!("{}/{}", self.gvk.type_name(), self.name),
        }
    }

    /// Parses an id (see [`ObjectRef::id`]).
    pub fn parse_id(id: &str) -> Result<ObjectRef, ProviderError> {
        let bad = || {
            ProviderError::new(format!(
                "`{id}` is not a Kubernetes object id: write <apiVersion>/<Kind>/<namespace>/<name> (e.g. v1/ServiceAccount/default/worker, batch/v1/Job/default/producer) or <apiVersion>/<Kind>/<name> for cluster-scoped kinds"
            ))
        };
        let segs: Vec<&str> = id.split('/').collect();
        let at = segs
            .iter()
            .position(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
            .ok_or_else(bad)?;
        if at == 0 || at > 2 {
            return Err(bad());
        }
        let gvk = Gvk::from_parts(&segs[..at].join("/"), segs[at]).ok_or_else(bad)?;
        let rest = &segs[at + 1..];
        let (namespace, name) = match rest {
            [name] => (None, *name),
            [ns, name] => (Some(ns.to_string()), *name),
            _ => return Err(bad()),
        };
        if name.is_empty() || namespace.as_deref() == Some("") {
            return Err(bad());
        }
        Ok(ObjectRef {
            gvk,
            namespace,
            name: name.to_string(),
        })
    }

    /// How messages name the object: `Job default/producer`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.gvk.kind, self.name),
            None => format!("{} {}", self.gvk.kind, self.name),
        }
    }
}

/// A rollout-restart target: `<namespace>/<Kind>/<name>`, Kind one of the apps/v1 workloads.
pub fn parse_restart_target(target: &str) -> Result<ObjectRef, ProviderError> {
    let bad = |why: &str| {
        ProviderError::new(format!(
            "target `{target}`: {why}; write \"<namespace>/<Kind>/<name>\", e.g. \"kube-system/Deployment/keda-operator\""
        ))
    };
    let segs: Vec<&str> = target.split('/').collect();
    let [ns, kind, name] = segs[..] else {
        return Err(bad("expected three parts"));
    };
    if ns.is_empty() || name.is_empty() {
        return Err(bad("namespace and name must not be empty"));
    }
    let kind = match kind.to_ascii_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" => "Deployment",
        "statefulset" | "statefulsets" | "sts" => "StatefulSet",
        "daemonset" | "daemonsets" | "ds" => "DaemonSet",
        _ => {
            return Err(bad(&format!(
                "`{kind}` cannot be restarted (Deployment, StatefulSet or DaemonSet)"
            )));
        }
    };
    Ok(ObjectRef {
        gvk: Gvk {
            group: "apps".into(),
            version: "v1".into(),
            kind: kind.into(),
        },
        namespace: Some(ns.to_string()),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        let g = Gvk::parse("keda.sh/v1alpha1/ScaledJob").unwrap();
        assert_eq!(g.group, "keda.sh");
        assert_eq!(g.api_version(), "keda.sh/v1alpha1");
        assert_eq!(Gvk::parse("v1/ServiceAccount").unwrap().group, "");
        assert_eq!(
            Gvk::parse("batch/v1/Job").unwrap().type_name(),
            "batch/v1/Job"
        );
        for bad in [
            "Job",
            "v1/job",
            "a/b/c/Job",
            "/Job",
            "v1.2/Job",
            "rollout-restart",
        ] {
            assert!(Gvk::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_round_trip() {
        for id in [
            "v1/ServiceAccount/default/worker",
            "batch/v1/Job/jobs/producer",
            "keda.sh/v1alpha1/ScaledJob/default/orders",
            "v1/Namespace/apps",
            "rbac.authorization.k8s.io/v1/ClusterRole/reader",
        ] {
            assert_eq!(ObjectRef::parse_id(id).unwrap().id(), id);
        }
        for bad in [
            "v1/ServiceAccount",
            "ServiceAccount/x",
            "v1/sa/default/x",
            "v1/Pod/a/b/c",
        ] {
            assert!(ObjectRef::parse_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn restart_targets() {
        let t = parse_restart_target("kube-system/Deployment/keda-operator").unwrap();
        assert_eq!(t.id(), "apps/v1/Deployment/kube-system/keda-operator");
        assert!(parse_restart_target("kube-system/Job/x").is_err());
        assert!(parse_restart_target("Deployment/x").is_err());
    }
}
