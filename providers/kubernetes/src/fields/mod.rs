//! `k8s:fields`: some fields of an object someone else created and owns (as Terraform's
//! `kubernetes_annotations`/`kubernetes_labels`, for any field). The configuration is a
//! partial manifest — `apiVersion`, `kind`, `metadata.name` (and `.namespace`) name the
//! object, everything else is a field plinth owns — applied server-side with only those
//! fields, so every other field stays with whoever set it.
//!
//! - The object must exist: it is read before every apply, and one that is not there is an
//!   error (plinth never creates it). A destroy applies an empty field set, so the server
//!   drops the fields only this resource owned; the object stays (gone already: done).
//! - Field manager: `plinth-fields:<address>` ([`manager_for`]), one per resource, recorded
//!   in the attribute `field_manager` so a moved resource keeps its fields. A manager of its
//!   own is what lets two `k8s:fields` of one object, or one beside a whole `k8s:<type>` of
//!   the same object (manager `plinth`), each keep their fields: one server-side applier's
//!   apply replaces everything that applier owned before. Two of them naming one field is a
//!   conflict naming the other manager (`force` takes the field).
//! - Attributes: the owned fields as the object has them (plus its identity and
//!   `field_manager`); fields outside the manifest are invisible to plans and drift.
//! - Ids are the object's (`<apiVersion>/<Kind>/<namespace>/<name>`), known after the first
//!   apply only (not before: a planned create is not checked for an object that already
//!   exists, since it always does). Import is refused: there is nothing to adopt.
//! - The read before an apply leaves a window in which the object could be deleted and the
//!   apply create it with these fields alone; a `metadata.resourceVersion` precondition does
//!   not close it on every server (kubernetes#106745: some kinds create anyway).
//!
//! Layout: `spec` (pure: schema, checks, manager names, projections), then this module's
//! calls to the cluster (plan, apply, read, release).

mod spec;

use plinth_provider::{Observed, Planned, Prior, ProviderError};
use plinth_value::{Path, Value};

use crate::client::{Apply, Cluster};
use crate::connection::NoConn;
use crate::errors;
use crate::manifest::{IDENTITY, manifest_path, p, same, scope_namespace};
use crate::options::options;

use spec::{absent, manager_of, owned_paths, prior_target, project, scoped, target};
pub(crate) use spec::{import_refused, schema, validate};

/// Plans the owned fields: a server-side dry run where the object exists, else offline.
pub(crate) async fn plan(
    cluster: &Cluster<'_>,
    prior: Option<&Prior>,
    config: &Value,
) -> Result<Planned, ProviderError> {
    let (gvk, manifest) = target(config)?;
    let opts = options(config)?;
    let manager = manager_of(cluster.req.address, prior);
    let previous = prior
        .and_then(|p| target(&p.inputs).ok())
        .map(|(_, m)| m)
        .unwrap_or(Value::Null);
    let conn = cluster.conn_for_read().await?.ok();
    let resolved = match &conn {
        Some(c) => cluster.resolve(c, &gvk).await?,
        None => None,
    };
    let namespaced = resolved
        .as_ref()
        .map_or(!gvk.guess_cluster_scoped(), |r| r.namespaced);
    let mut manifest = manifest;
    scope_namespace(&mut manifest, &gvk, namespaced)?;
    let mut paths = owned_paths(&manifest);
    paths.extend(owned_paths(&previous));
    paths.sort();
    paths.dedup();

    if let Some(prior) = prior {
        let replace: Vec<Path> = IDENTITY
            .iter()
            .map(|s| p(s))
            .filter(|path| {
                let want = manifest.get(path);
                want.as_ref().is_some_and(|w| !w.is_wholly_known())
                    || !same(want.as_ref(), prior.attributes.get(path).as_ref())
            })
            .map(|path| manifest_path(&path))
            .collect();
        if !replace.is_empty() {
            return Ok(Planned {
                attributes: project(&manifest, &manifest, &owned_paths(&manifest), &manager),
                changed: replace.clone(),
                requires_replace: replace,
            });
        }
    }
    let live = prior.map_or(Value::Null, |p| p.attributes.clone());
    let offline = || {
        let attributes = project(&manifest, &manifest, &owned_paths(&manifest), &manager);
        let changed = if prior.is_none() {
            Vec::new()
        } else {
            paths
                .iter()
                .filter(|path| {
                    let want = manifest.get(path);
                    want.as_ref().is_some_and(|w| !w.is_wholly_known())
                        || !same(want.as_ref(), live.get(path).as_ref())
                })
                .map(manifest_path)
                .collect()
        };
        Planned {
            attributes,
            changed,
            requires_replace: Vec::new(),
        }
    };
    let (Some(conn), Some(r)) = (conn, resolved) else {
        return Ok(offline());
    };
    if !manifest.is_wholly_known() {
        return Ok(offline());
    }
    let (manifest, obj) = scoped(&gvk, manifest.clone(), r.namespaced)?;
    // Not there yet: something in this same apply may create it (apply checks again).
    let Some(current) = cluster.get(&conn, &r, &obj).await? else {
        return Ok(offline());
    };
    let current = Value::from(current);
    let body = manifest.unmark_all().to_json();
    let dry = cluster
        .apply(
            &conn,
            &r,
            &obj,
            &body,
            Apply {
                force: opts.force,
                dry_run: true,
                manager: &manager,
            },
        )
        .await
        .map_err(|(_, pe)| pe)?;
    let after = Value::from(dry);
    let changed: Vec<Path> = paths
        .iter()
        .filter(|path| !same(current.get(path).as_ref(), after.get(path).as_ref()))
        .map(manifest_path)
        .collect();
    let owned = owned_paths(&manifest);
    Ok(Planned {
        attributes: project(&after, &manifest, &owned, &manager),
        // A first apply of fields already as configured still records the resource.
        changed: if prior.is_some() { changed } else { Vec::new() },
        requires_replace: Vec::new(),
    })
}

/// Applies the owned fields to the existing object (create and update alike).
pub(crate) async fn put(
    cluster: &Cluster<'_>,
    prior: Option<&Prior>,
    config: &Value,
) -> Result<Observed, ProviderError> {
    let (gvk, manifest) = target(config)?;
    let opts = options(config)?;
    if let Some(path) = manifest.unknown_paths().first() {
        return Err(ProviderError::new(format!(
            "manifest.{path} is still unknown"
        )));
    }
    let manager = manager_of(cluster.req.address, prior);
    let conn = cluster.require_conn().await?;
    let r = cluster.require_kind(&conn, &gvk).await?;
    let (manifest, obj) = scoped(&gvk, manifest, r.namespaced)?;
    if cluster.get(&conn, &r, &obj).await?.is_none() {
        return Err(absent(&obj));
    }
    let applied = cluster
        .apply(
            &conn,
            &r,
            &obj,
            &manifest.unmark_all().to_json(),
            Apply {
                force: opts.force,
                dry_run: false,
                manager: &manager,
            },
        )
        .await
        .map_err(|(e, pe)| {
            if errors::is_not_found(&e) {
                absent(&obj)
            } else {
                pe
            }
        })?;
    Ok(Observed {
        id: Some(obj.id()),
        attributes: project(
            &Value::from(applied),
            &manifest,
            &owned_paths(&manifest),
            &manager,
        ),
    })
}

/// Reads the owned fields back; `None` when the object (or its cluster) is gone.
pub(crate) async fn read(
    cluster: &Cluster<'_>,
    prior: &Prior,
) -> Result<Option<Observed>, ProviderError> {
    let Some((gvk, manifest, obj)) = prior_target(prior) else {
        return Ok(None);
    };
    let manager = manager_of(cluster.req.address, Some(prior));
    let conn = match cluster.conn_for_read().await? {
        Ok(c) => c,
        Err(NoConn::ClusterGone) => return Ok(None),
        Err(NoConn::Unknown) => return Ok(crate::provider::as_last_seen(prior)),
    };
    let Some(r) = cluster.resolve(&conn, &gvk).await? else {
        return Ok(None);
    };
    let Some(got) = cluster.get(&conn, &r, &obj).await? else {
        return Ok(None);
    };
    Ok(Some(Observed {
        id: Some(obj.id()),
        attributes: project(
            &Value::from(got),
            &manifest,
            &owned_paths(&manifest),
            &manager,
        ),
    }))
}

/// Gives the owned fields up: an apply of the identity alone, so the server removes what
/// only this manager owned. The object stays; one already gone is done.
pub(crate) async fn release(cluster: &Cluster<'_>, prior: &Prior) -> Result<(), ProviderError> {
    let Some((gvk, manifest, obj)) = prior_target(prior) else {
        return Ok(());
    };
    let manager = manager_of(cluster.req.address, Some(prior));
    let conn = match cluster.conn().await? {
        Ok(c) => c,
        Err(NoConn::ClusterGone) => return Ok(()),
        Err(NoConn::Unknown) => {
            return Err(ProviderError::new(
                "the cluster this object lives in is not known",
            ));
        }
    };
    let Some(r) = cluster.resolve(&conn, &gvk).await? else {
        return Ok(());
    };
    if cluster.get(&conn, &r, &obj).await?.is_none() {
        return Ok(());
    }
    let mut body = Value::Map(Default::default());
    for id in IDENTITY {
        if let Some(v) = manifest.get(&p(id)) {
            body.set(&p(id), v);
        }
    }
    if !r.namespaced {
        body.remove(&p("metadata.namespace"));
    }
    match cluster
        .apply(
            &conn,
            &r,
            &obj,
            &body.unmark_all().to_json(),
            Apply {
                force: false,
                dry_run: false,
                manager: &manager,
            },
        )
        .await
    {
        Ok(_) => Ok(()),
        Err((e, _)) if errors::is_not_found(&e) => Ok(()),
        Err((_, pe)) => Err(pe),
    }
}
