//! The pure half of `k8s:fields` (see the parent module): its schema, checking a
//! configuration into the object it names and the paths it owns, the field manager's name,
//! and the attributes as a projection of the object onto those paths. No cluster is asked.

use plinth_provider::{InputSchema, Prior, ProviderError, TypeSchema, ValueKind};
use plinth_value::{Path, Value};

use crate::kind::{FIELDS, Gvk, ObjectRef};
use crate::manifest::{
    IDENTITY, SERVER_FILLED, compared_paths, desired, is_secret, manifest_path, object_ref, p,
    scope_namespace,
};
use crate::options::options;

/// The attribute recording the resource's field manager.
pub(super) const MANAGER_ATTR: &str = "field_manager";

/// The prefix of every `k8s:fields` field manager.
pub(super) const MANAGER_PREFIX: &str = "plinth-fields:";

/// The type's schema.
pub(crate) fn schema() -> TypeSchema {
    TypeSchema {
        type_name: format!("k8s:{FIELDS}"),
        description: "Some fields of a Kubernetes object someone else created: applied server-side with a field manager of this resource's own; destroy removes only these fields.".into(),
        inputs: vec![
            InputSchema::new(
                "manifest",
                ValueKind::Map,
                true,
                "apiVersion, kind, metadata.name (and metadata.namespace, default \"default\") of an existing object, plus exactly the fields to own, e.g. metadata.annotations.",
            ),
            InputSchema::new(
                "force",
                ValueKind::Bool,
                false,
                "Take fields another server-side applier or a controller owns (default false: such a conflict is an error naming the other manager).",
            ),
        ],
        open: false,
        computed: vec![p(MANAGER_ATTR)],
        force_new: IDENTITY.iter().map(|s| manifest_path(&p(s))).collect(),
        sensitive: vec![],
        data_source: false,
        managed: true,
        action: false,
    }
}

/// The object's type, from the manifest's `apiVersion` and `kind` (required here: the type
/// name does not say).
pub(super) fn gvk_of(config: &Value) -> Result<Gvk, ProviderError> {
    let text = |key: &str| match config
        .get(&p(&format!("manifest.{key}")))
        .map(|v| v.unmark_all())
    {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Unknown) => Err(ProviderError::new(format!(
            "manifest.{key} must be known when planning: it names the object's type"
        ))),
        _ => Err(ProviderError::new(format!(
            "manifest.{key} is required: k8s:fields names the object it changes by apiVersion, kind and metadata.name, e.g. apiVersion = \"v1\", kind = \"ServiceAccount\""
        ))),
    };
    let (api_version, kind) = (text("apiVersion")?, text("kind")?);
    let gvk = Gvk::from_parts(&api_version, &kind).ok_or_else(|| {
        ProviderError::new(format!(
            "manifest: apiVersion {api_version:?} and kind {kind:?} are not a Kubernetes type (e.g. apiVersion = \"apps/v1\", kind = \"Deployment\")"
        ))
    })?;
    if is_secret(&gvk) {
        return Err(ProviderError::new(
            "k8s:fields does not take Secrets (their content would be kept in state in clear): manage the whole Secret as k8s:v1/Secret",
        ));
    }
    Ok(gvk)
}

/// The paths the manifest owns (leaves, lists whole), without the identity.
pub(super) fn owned_paths(manifest: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    compared_paths(manifest, &mut out);
    out.retain(|path| !path.is_root());
    out
}

/// The type and the manifest (namespace not defaulted yet), checked.
pub(super) fn target(config: &Value) -> Result<(Gvk, Value), ProviderError> {
    let gvk = gvk_of(config)?;
    let manifest = desired(&gvk, config)?;
    for server in SERVER_FILLED
        .iter()
        .chain(["metadata.managedFields", "metadata.selfLink"].iter())
    {
        if manifest.get(&p(server)).is_some() {
            return Err(ProviderError::new(format!(
                "manifest.{server} is the server's to set: k8s:fields cannot own it"
            )));
        }
    }
    let owned = owned_paths(&manifest);
    if owned.is_empty() {
        return Err(ProviderError::new(
            "manifest names no field to own besides apiVersion, kind and metadata: add the fields, e.g. metadata = { name = \"x\", namespace = \"y\", annotations = { \"team\" = \"blue\" } }",
        ));
    }
    Ok((gvk, manifest))
}

/// Static checks of a configuration.
pub(crate) fn validate(config: &Value) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    match target(config) {
        Err(e) => out.push((p("manifest"), e.message)),
        Ok((gvk, _)) => {
            if gvk.guess_cluster_scoped() && config.get(&p("manifest.metadata.namespace")).is_some()
            {
                out.push((
                    p("manifest.metadata.namespace"),
                    format!("{} is cluster-scoped: remove the namespace", gvk.kind),
                ));
            }
        }
    }
    // `wait` and `delete_timeout` are not keys of this type: the engine says so.
    if let Err(e) = options(config) {
        out.push((Path::root(), e.message));
    }
    out
}

/// The field manager of the resource at `address`: `plinth-fields:<address>`, quotes left out
/// (conflict messages quote managers), at most 128 printable ASCII characters as the API
/// server requires (a longer or non-ASCII address is shortened and a hash of it appended).
pub(crate) fn manager_for(address: &str) -> String {
    let plain: String = address.chars().filter(|c| *c != '"').collect();
    let ok = plain
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '\\' && c != '"');
    let whole = format!("{MANAGER_PREFIX}{plain}");
    if ok && whole.len() <= 128 {
        return whole;
    }
    // FNV-1a: stable across builds and platforms.
    let hash = address.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let kept: String = plain
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '\\')
        .take(128 - MANAGER_PREFIX.len() - 17)
        .collect();
    format!("{MANAGER_PREFIX}{kept}~{hash:016x}")
}

/// The manager a prior record applied with (a moved resource keeps it), else the address's.
pub(super) fn manager_of(address: &str, prior: Option<&Prior>) -> String {
    prior
        .and_then(|p| p.attributes.get(&self::p(MANAGER_ATTR)))
        .and_then(|m| m.as_str().map(str::to_string))
        .filter(|m| m.starts_with(MANAGER_PREFIX))
        .unwrap_or_else(|| manager_for(address))
}

/// The attributes: the object's identity and its values at `owned`, and the manager.
pub(super) fn project(obj: &Value, identity: &Value, owned: &[Path], manager: &str) -> Value {
    let mut out = Value::Map(Default::default());
    for id in IDENTITY {
        if let Some(v) = identity.get(&p(id)) {
            out.set(&p(id), v);
        }
    }
    for path in owned {
        if let Some(v) = obj.get(path)
            && !matches!(v, Value::Null)
        {
            out.set(path, v);
        }
    }
    out.set(&p(MANAGER_ATTR), Value::from(manager));
    out
}

/// The object, namespace resolved by how the cluster serves the kind.
pub(super) fn scoped(
    gvk: &Gvk,
    mut manifest: Value,
    namespaced: bool,
) -> Result<(Value, ObjectRef), ProviderError> {
    scope_namespace(&mut manifest, gvk, namespaced)?;
    let obj = object_ref(gvk, &manifest).ok_or_else(|| {
        ProviderError::new("manifest.metadata.name and .namespace must be known strings")
    })?;
    Ok((manifest, obj))
}

/// The error of an object that is not there.
pub(super) fn absent(obj: &ObjectRef) -> ProviderError {
    ProviderError::with_code(
        "NotFound",
        format!(
            "{} does not exist; k8s:fields changes fields of an object someone else created: create it first (or order this resource after what creates it, e.g. depends_on), or manage the whole object as k8s:{}",
            obj.describe(),
            obj.gvk.type_name()
        ),
    )
}

/// The object a prior record names, and the manifest it applied.
pub(super) fn prior_target(prior: &Prior) -> Option<(Gvk, Value, ObjectRef)> {
    let (gvk, mut manifest) = target(&prior.inputs).ok()?;
    let obj = match prior.id.as_deref().map(ObjectRef::parse_id) {
        Some(Ok(obj)) => obj,
        _ => {
            scope_namespace(&mut manifest, &gvk, !gvk.guess_cluster_scoped()).ok()?;
            object_ref(&gvk, &manifest)?
        }
    };
    if obj.namespace.is_some() {
        manifest.set(
            &p("metadata.namespace"),
            Value::from(obj.namespace.as_deref().unwrap_or_default()),
        );
    }
    Some((gvk, manifest, obj))
}

/// Why `k8s:fields` cannot be imported.
pub(crate) fn import_refused(id: &str) -> ProviderError {
    ProviderError::new(format!(
        "k8s:fields cannot be imported ({id}): it owns only the fields its manifest names, and there is nothing to adopt; declare the resource and apply it (another manager's fields need force = true)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(j: serde_json::Value) -> Value {
        Value::from(json!({ "manifest": j }))
    }

    #[test]
    fn managers_are_per_resource_and_valid_field_managers() {
        assert_eq!(manager_for("sa_note"), "plinth-fields:sa_note");
        assert_eq!(
            manager_for("module.keda[\"prod\"].sa"),
            "plinth-fields:module.keda[prod].sa"
        );
        let long = format!("module.{}.x", "a".repeat(200));
        let m = manager_for(&long);
        assert!(m.len() <= 128 && m.starts_with(MANAGER_PREFIX), "{m}");
        assert_ne!(m, manager_for(&format!("module.{}.y", "a".repeat(200))));
        let odd = manager_for("x[\"é\"]");
        assert!(odd.is_ascii() && !odd.contains('"'), "{odd}");
    }

    #[test]
    fn manifests_must_name_an_object_and_some_fields() {
        let ok = cfg(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "keda-operator", "namespace": "kube-system",
                "annotations": {"azure.workload.identity/client-id": "c"}}}));
        assert!(validate(&ok).is_empty(), "{:?}", validate(&ok));
        let (_, m) = target(&ok).unwrap();
        assert_eq!(
            owned_paths(&m),
            vec![Path::from_segments(vec![
                plinth_value::PathSeg::Key("metadata".into()),
                plinth_value::PathSeg::Key("annotations".into()),
                plinth_value::PathSeg::Key("azure.workload.identity/client-id".into()),
            ])]
        );
        let msg = |c: Value| {
            validate(&c)
                .first()
                .map(|(_, m)| m.clone())
                .unwrap_or_default()
        };
        assert!(
            msg(cfg(
                json!({"kind": "ServiceAccount", "metadata": {"name": "x"}})
            ))
            .contains("apiVersion is required")
        );
        assert!(
            msg(cfg(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}})
            ))
            .contains("no field to own")
        );
        assert!(msg(cfg(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"a": "b"}}))).contains("k8s:v1/Secret"));
        assert!(msg(cfg(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "uid": "u"}}))).contains("server's"));
        let mut force = ok.clone();
        force.set(&p("force"), Value::from("yes"));
        assert!(msg(force).contains("force must be a bool"));
    }
}
