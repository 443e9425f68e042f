//! Data sources: reading objects a configuration does not manage. Any served kind reads
//! one object by `metadata = { name, namespace }` (its attributes: the object as the server
//! returns it, without managedFields; a Secret's content sensitive), or a list by
//! `label_selector` (`metadata = { namespace }` optional; attributes `{ items = [...] }`).

use kube::core::params::ListParams;
use plinth_provider::{InputSchema, Observed, ProviderError, ValueKind};
use plinth_value::{Path, Value};

use crate::client::{Cluster, object_request};
use crate::errors;
use crate::kind::{Gvk, ObjectRef};
use crate::manifest::{attributes_of, p};

/// The inputs a data source takes (besides a resource's, which it does not use).
pub(crate) fn inputs() -> Vec<InputSchema> {
    vec![
        InputSchema::new(
            "metadata",
            ValueKind::Map,
            false,
            "Data sources: the object to read, { name = \"...\", namespace = \"...\" } (namespace defaults to \"default\" for namespaced kinds; with label_selector, only the namespace).",
        ),
        InputSchema::new(
            "label_selector",
            ValueKind::String,
            false,
            "Data sources: read every object of the kind matching this label selector (\"app=web,tier!=cache\"); the attributes are { items = [...] }.",
        ),
    ]
}

/// Whether a configuration reads (a data source's inputs) rather than applies a manifest.
pub(crate) fn is_read(config: &Value) -> bool {
    config.get(&p("manifest")).is_none()
        && (config.get(&p("metadata")).is_some() || config.get(&p("label_selector")).is_some())
}

/// What to read: one object, or the objects matching a selector in a namespace (`None`:
/// all namespaces, or a cluster-scoped kind).
enum Query {
    One {
        name: String,
        namespace: Option<String>,
    },
    List {
        selector: String,
        namespace: Option<String>,
    },
}

fn text(config: &Value, path: &str) -> Result<Option<String>, (Path, String)> {
    match config.get(&p(path)).map(|v| v.unmark_all()) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(Value::Unknown) => Ok(Some(String::new())),
        Some(other) => Err((
            p(path),
            format!(
                "`{path}` must be a non-empty string, found {}",
                other.type_name()
            ),
        )),
    }
}

fn query(config: &Value) -> Result<Query, (Path, String)> {
    let name = text(config, "metadata.name")?;
    let namespace = text(config, "metadata.namespace")?;
    let selector = text(config, "label_selector")?;
    match (name, selector) {
        (Some(_), Some(_)) => Err((
            p("label_selector"),
            "give either metadata.name (one object) or label_selector (a list), not both"
                .to_string(),
        )),
        (Some(name), None) => Ok(Query::One { name, namespace }),
        (None, Some(selector)) => Ok(Query::List {
            selector,
            namespace,
        }),
        (None, None) => Err((
            p("metadata"),
            "a Kubernetes data source reads metadata = { name = \"...\", namespace = \"...\" } or a label_selector".to_string(),
        )),
    }
}

/// Static checks of a data source's inputs.
pub(crate) fn validate(gvk: &Gvk, config: &Value) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    for key in ["force", "wait", "delete_timeout"] {
        if config.get(&p(key)).is_some() {
            out.push((
                p(key),
                format!("`{key}` is for managed objects; a data source only reads"),
            ));
        }
    }
    if let Err(e) = query(config) {
        out.push(e);
    } else if gvk.guess_cluster_scoped() && config.get(&p("metadata.namespace")).is_some() {
        out.push((
            p("metadata.namespace"),
            format!("{} is cluster-scoped: remove the namespace", gvk.kind),
        ));
    }
    out
}

/// Reads what a data source's configuration names.
pub(crate) async fn read(
    cluster: &Cluster<'_>,
    gvk: &Gvk,
    config: &Value,
) -> Result<Observed, ProviderError> {
    let q = query(config).map_err(|(_, m)| ProviderError::new(m))?;
    let conn = cluster.require_conn().await?;
    let r = cluster.require_kind(&conn, gvk).await?;
    let scoped = |namespace: Option<String>, default: bool| match (r.namespaced, namespace) {
        (false, _) => None,
        (true, Some(ns)) => Some(ns),
        (true, None) => default.then(|| "default".to_string()),
    };
    match q {
        Query::One { name, namespace } => {
            let obj = ObjectRef {
                gvk: gvk.clone(),
                namespace: scoped(namespace, true),
                name,
            };
            match cluster.get(&conn, &r, &obj).await? {
                Some(got) => Ok(Observed {
                    id: Some(obj.id()),
                    attributes: attributes_of(gvk, got),
                }),
                None => Err(ProviderError::with_code(
                    "NotFound",
                    format!("{} was not found", obj.describe()),
                )),
            }
        }
        Query::List {
            selector,
            namespace,
        } => {
            let at = ObjectRef {
                gvk: gvk.clone(),
                namespace: scoped(namespace, false),
                name: String::new(),
            };
            let url = object_request(&r, &at);
            let what = format!("listing {} with labels {selector}", gvk.type_name());
            let params = ListParams::default().labels(&selector);
            let list = cluster
                .call(&conn, &what, &|| url.list(&params))
                .await
                .map_err(|e| errors::provider_error(&e, &what))?;
            let items = list
                .get("items")
                .and_then(|i| i.as_array())
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|item| attributes_of(gvk, item))
                .collect();
            let mut attributes = Value::Map(Default::default());
            attributes.set(&p("items"), Value::List(items));
            Ok(Observed {
                id: None,
                attributes,
            })
        }
    }
}
