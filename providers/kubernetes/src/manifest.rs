//! Manifest shaping: the object a configuration asks for (`apiVersion`/`kind` from the type,
//! the namespace by the kind's scope), the paths plans compare, and the object as plinth's
//! attributes (without `managedFields`, a Secret's content sensitive). Pure: no cluster is
//! asked.

use plinth_provider::ProviderError;
use plinth_value::{Path, PathSeg, Value};

use crate::kind::{Gvk, ObjectRef};

/// A path written in the source (static, so it parses).
pub(crate) fn p(s: &str) -> Path {
    s.parse().expect("static path")
}

/// Attribute paths the server fills in.
pub(crate) const SERVER_FILLED: &[&str] = &[
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.creationTimestamp",
    "metadata.generation",
    "status",
];

/// Attribute paths the server owns beyond [`SERVER_FILLED`]: never compared, never an
/// update, never drift.
const SERVER_OWNED: &[&str] = &[
    "metadata.managedFields",
    "metadata.selfLink",
    "metadata.deletionTimestamp",
    "metadata.deletionGracePeriodSeconds",
];

/// Whether the API server (or `kubectl apply`'s client-side bookkeeping, [`LAST_APPLIED`])
/// owns attribute `path` of an object, or it is under such a path.
pub(crate) fn server_owned(path: &Path) -> bool {
    SERVER_FILLED
        .iter()
        .chain(SERVER_OWNED)
        .any(|s| path.starts_with(&p(s)))
        || path.starts_with(&last_applied())
}

/// `metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]`.
fn last_applied() -> Path {
    Path::from_segments(vec![
        PathSeg::Key("metadata".into()),
        PathSeg::Key("annotations".into()),
        PathSeg::Key(LAST_APPLIED.into()),
    ])
}

/// Kinds without a status (their plans do not promise one).
const NO_STATUS: &[&str] = &[
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "TriggerAuthentication",
    "ClusterTriggerAuthentication",
];

/// The manifest with `apiVersion` and `kind` from the type (checked when given).
pub(crate) fn desired(gvk: &Gvk, config: &Value) -> Result<Value, ProviderError> {
    let manifest = config.get(&p("manifest")).unwrap_or(Value::Null);
    let mut m = match manifest.unmarked() {
        Value::Map(m) => m.clone(),
        Value::Null => {
            return Err(ProviderError::new(
                "`manifest` is required: the object as a table (metadata, spec, ...)",
            ));
        }
        Value::Unknown => {
            return Err(ProviderError::new(
                "`manifest` as a whole is unknown; refer to values inside it instead",
            ));
        }
        other => {
            return Err(ProviderError::new(format!(
                "`manifest` must be a table, found {}",
                other.type_name()
            )));
        }
    };
    for (key, want) in [
        ("apiVersion", gvk.api_version()),
        ("kind", gvk.kind.clone()),
    ] {
        match m.get(key).map(|v| v.unmark_all()) {
            None | Some(Value::Null) => {
                m.insert(key.into(), Value::String(want));
            }
            Some(Value::String(s)) if s == want => {}
            Some(Value::Unknown) => {}
            Some(other) => {
                return Err(ProviderError::new(format!(
                    "manifest.{key} is {} but the type k8s:{} says {want:?}",
                    other.render(),
                    gvk.type_name()
                )));
            }
        }
    }
    let v = Value::Map(m);
    match v.get(&p("metadata.name")).map(|n| n.unmark_all()) {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(Value::Unknown) => {}
        _ => {
            return Err(ProviderError::new(
                "manifest.metadata.name is required (plinth names every object up front)",
            ));
        }
    }
    Ok(v)
}

/// Defaults or refuses `metadata.namespace` by the kind's scope.
pub(crate) fn scope_namespace(
    v: &mut Value,
    gvk: &Gvk,
    namespaced: bool,
) -> Result<(), ProviderError> {
    let ns = p("metadata.namespace");
    match v.get(&ns).map(|n| n.unmark_all()) {
        None | Some(Value::Null) => {
            if namespaced {
                v.set(&ns, Value::from("default"));
            } else {
                v.remove(&ns);
            }
        }
        Some(Value::String(_)) | Some(Value::Unknown) if !namespaced => {
            return Err(ProviderError::new(format!(
                "{} is cluster-scoped: remove manifest.metadata.namespace",
                gvk.kind
            )));
        }
        _ => {}
    }
    Ok(())
}

/// The object a (namespaced-resolved) manifest names, when its name and namespace are known.
pub(crate) fn object_ref(gvk: &Gvk, v: &Value) -> Option<ObjectRef> {
    let name = v.get(&p("metadata.name"))?.as_str()?.to_string();
    let namespace = match v.get(&p("metadata.namespace")) {
        None => None,
        Some(n) => Some(n.as_str()?.to_string()),
    };
    Some(ObjectRef {
        gvk: gvk.clone(),
        namespace,
        name,
    })
}

/// Paths under the manifest that the comparison looks at: maps are descended into, anything
/// else (scalars, lists, empty maps) is one path. apiVersion, kind, name and namespace are the
/// object's identity and compared apart.
pub(crate) fn compared_paths(manifest: &Value, out: &mut Vec<Path>) {
    fn walk(v: &Value, at: &Path, out: &mut Vec<Path>) {
        match v.unmarked() {
            Value::Map(m) if !m.is_empty() => {
                for (k, child) in m {
                    walk(child, &at.key(k), out);
                }
            }
            _ => out.push(at.clone()),
        }
    }
    walk(manifest, &Path::root(), out);
    // What the server owns is its own to change: a manifest that carries it (YAML from
    // `kubectl get -o yaml`, `creationTimestamp: null`) does not make it a change.
    out.retain(|path| !IDENTITY.iter().any(|i| path.starts_with(&p(i))) && !server_owned(path));
}

/// The paths that make an object's identity: a change of one replaces the object.
pub(crate) const IDENTITY: &[&str] = &["apiVersion", "kind", "metadata.name", "metadata.namespace"];

/// The input path (`manifest.x`) of attribute `x`.
pub(crate) fn manifest_path(attr: &Path) -> Path {
    let mut segs = vec![PathSeg::Key("manifest".into())];
    segs.extend(attr.segments().iter().cloned());
    Path::from_segments(segs)
}

/// Whether two values are the same, marks aside (absent and `null` alike).
pub(crate) fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let norm = |v: Option<&Value>| match v.map(Value::unmark_all) {
        None | Some(Value::Null) => serde_json::Value::Null,
        Some(v) => v.to_json(),
    };
    norm(a) == norm(b)
}

/// The object as attributes: without managedFields; a Secret's data sensitive.
pub(crate) fn attributes_of(gvk: &Gvk, mut obj: serde_json::Value) -> Value {
    if let Some(meta) = obj.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    let mut v = Value::from(obj);
    mark_secrets(gvk, &mut v);
    v
}

/// The annotation `kubectl apply` (client-side) keeps the whole applied object in: for a
/// Secret, its `stringData` in clear.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Attribute paths of a Secret that hold its content: `data`, `stringData`, and the
/// last-applied annotation (which holds the stringData someone `kubectl apply`-ed).
pub(crate) fn secret_paths() -> Vec<Path> {
    vec![p("data"), p("stringData"), last_applied()]
}

/// Whether the kind is the core `Secret`.
pub(crate) fn is_secret(gvk: &Gvk) -> bool {
    gvk.group.is_empty() && gvk.kind == "Secret"
}

/// Marks a Secret's content ([`secret_paths`]) sensitive.
pub(crate) fn mark_secrets(gvk: &Gvk, v: &mut Value) {
    if is_secret(gvk) {
        for path in secret_paths() {
            if let Some(inner) = v.get(&path)
                && !inner.is_sensitive()
            {
                v.set(&path, Value::sensitive(inner));
            }
        }
    }
}

/// Built-in kinds without `metadata.generation` (it counts changes of a spec).
const NO_GENERATION: &[&str] = &[
    "Namespace",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Service",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
];

/// Attributes of an object not created yet: the manifest, the server's fields unknown.
pub(crate) fn new_object(gvk: &Gvk, manifest: &Value) -> Value {
    let mut v = manifest.clone();
    let builtin = gvk.group.is_empty() || gvk.group.ends_with(".k8s.io");
    for f in SERVER_FILLED {
        if *f == "status" && NO_STATUS.contains(&gvk.kind.as_str()) {
            continue;
        }
        if *f == "metadata.generation" && builtin && NO_GENERATION.contains(&gvk.kind.as_str()) {
            continue;
        }
        if v.get(&p(f)).is_none() {
            v.set(&p(f), Value::Unknown);
        }
    }
    mark_secrets(gvk, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn manifests_take_api_version_and_kind_from_the_type() {
        let gvk = Gvk::parse("batch/v1/Job").unwrap();
        let m = desired(&gvk, &v(json!({"manifest": {"metadata": {"name": "j"}}}))).unwrap();
        assert_eq!(m.get(&p("apiVersion")), Some(Value::from("batch/v1")));
        assert_eq!(m.get(&p("kind")), Some(Value::from("Job")));
        assert!(
            desired(
                &gvk,
                &v(json!({"manifest": {"kind": "Pod", "metadata": {"name": "j"}}}))
            )
            .unwrap_err()
            .message
            .contains("k8s:batch/v1/Job")
        );
        assert!(desired(&gvk, &v(json!({"manifest": {"metadata": {}}}))).is_err());
        let mut m = m;
        scope_namespace(&mut m, &gvk, true).unwrap();
        assert_eq!(
            m.get(&p("metadata.namespace")),
            Some(Value::from("default"))
        );
        let ns = Gvk::parse("v1/Namespace").unwrap();
        let mut n = desired(
            &ns,
            &v(json!({"manifest": {"metadata": {"name": "a", "namespace": "b"}}})),
        )
        .unwrap();
        assert!(scope_namespace(&mut n, &ns, false).is_err());
    }
}
