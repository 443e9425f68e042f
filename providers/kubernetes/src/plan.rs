//! Planning a `k8s:` object: where the cluster exists and serves the kind, a server-side
//! apply dry run compared with the live object over only the paths the manifest sets (now or
//! at the last apply); otherwise ([`plan_offline`]) the manifest with what the server fills
//! in unknown. A change of identity, a field the server refuses to change, or settings that
//! now reach another object replace it.

use plinth_provider::diff;
use plinth_provider::{Planned, Prior, ProviderError};
use plinth_value::{Path, PathSeg, Value};

use crate::client::{Apply, Cluster, FIELD_MANAGER};
use crate::errors;
use crate::kind::Gvk;
use crate::manifest::{
    IDENTITY, SERVER_FILLED, attributes_of, compared_paths, desired, is_secret, manifest_path,
    mark_secrets, new_object, object_ref, p, same, scope_namespace,
};
use crate::options::options;

/// Plans the object `cluster.req` is about: `prior` as refreshed, `config` as evaluated.
pub(crate) async fn plan(
    cluster: &Cluster<'_>,
    prior: Option<&Prior>,
    config: &Value,
) -> Result<Planned, ProviderError> {
    let req = cluster.req;
    let gvk = Gvk::parse(req.type_name)?;
    let opts = options(config)?;
    let mut manifest = desired(&gvk, config)?;
    let previous = prior
        .and_then(|p| desired(&gvk, &p.inputs).ok())
        .unwrap_or(Value::Null);
    let conn = cluster.conn_for_read().await?.ok();
    let resolved = match &conn {
        Some(c) => cluster.resolve(c, &gvk).await?,
        None => None,
    };
    let namespaced = resolved
        .as_ref()
        .map_or(!gvk.guess_cluster_scoped(), |r| r.namespaced);
    scope_namespace(&mut manifest, &gvk, namespaced)?;

    // The object's identity: a change replaces it.
    if let Some(prior) = prior {
        let replace: Vec<Path> = IDENTITY
            .iter()
            .map(|s| p(s))
            .filter(|path| {
                let want = manifest.get(path);
                let is = prior.attributes.get(path);
                want.as_ref().is_some_and(|w| !w.is_wholly_known())
                    || !same(want.as_ref(), is.as_ref())
            })
            .map(|path| manifest_path(&path))
            .collect();
        if !replace.is_empty() {
            return Ok(Planned {
                attributes: new_object(&gvk, &manifest),
                changed: replace.clone(),
                requires_replace: replace,
            });
        }
    }

    let (Some(conn), Some(r)) = (conn, resolved) else {
        return Ok(plan_offline(&gvk, prior, &manifest, &previous));
    };
    if !manifest.is_wholly_known() {
        return Ok(plan_offline(&gvk, prior, &manifest, &previous));
    }
    let obj = object_ref(&gvk, &manifest)
        .ok_or_else(|| ProviderError::new("manifest.metadata.name must be a string"))?;
    if let Some(prior) = prior
        && dry_run_can_only_agree(cluster, &obj, prior, config, &manifest)
    {
        // What the dry run's comparison below answers when nothing differs.
        return Ok(Planned {
            attributes: prior.attributes.clone(),
            changed: Vec::new(),
            requires_replace: Vec::new(),
        });
    }
    let body = manifest.unmark_all().to_json();
    let dry = match cluster
        .apply(
            &conn,
            &r,
            &obj,
            &body,
            Apply {
                force: opts.force,
                dry_run: true,
                manager: FIELD_MANAGER,
            },
        )
        .await
    {
        Ok(v) => v,
        // Its namespace may be created by this same apply.
        Err((e, _)) if prior.is_none() && errors::is_not_found(&e) => {
            return Ok(plan_offline(&gvk, prior, &manifest, &previous));
        }
        // A change the server refuses as immutable (a Job's template, a Deployment's
        // selector) is made by replacing the object.
        Err((e, pe)) if prior.is_some() && !errors::immutable_fields(&e).is_empty() => {
            let fields = errors::immutable_fields(&e);
            let offline = plan_offline(&gvk, prior, &manifest, &previous);
            let mut replace: Vec<Path> = offline
                .changed
                .iter()
                .filter(|c| {
                    fields
                        .iter()
                        .any(|f| c.overlaps(&manifest_path(f)) || f.is_root())
                })
                .cloned()
                .collect();
            if replace.is_empty() {
                replace = offline.changed.clone();
            }
            if replace.is_empty() {
                return Err(pe);
            }
            return Ok(Planned {
                attributes: new_object(&gvk, &manifest),
                changed: offline.changed,
                requires_replace: replace,
            });
        }
        Err((_, pe)) => return Err(pe),
    };
    let after = attributes_of(&gvk, dry);
    // The object state records was read where its recorded settings point; the dry run
    // ran where the settings point now. Another object there (or none) means the settings
    // now reach another cluster (a changed kubeconfig or context): the object is replaced,
    // deleted where it was and created where the settings point.
    if let Some(prior) = prior
        && let Some(was) = prior
            .attributes
            .get(&p("metadata.uid"))
            .and_then(|u| u.as_str().map(str::to_string))
        && after
            .get(&p("metadata.uid"))
            .and_then(|u| u.as_str().map(str::to_string))
            .as_deref()
            != Some(was.as_str())
    {
        let uid = manifest_path(&p("metadata.uid"));
        return Ok(Planned {
            attributes: new_object(&gvk, &manifest),
            changed: vec![uid.clone()],
            requires_replace: vec![uid],
        });
    }
    let Some(prior) = prior else {
        let mut attributes = after;
        for f in SERVER_FILLED {
            if *f != "metadata.generation" && attributes.get(&p(f)).is_some() {
                attributes.set(&p(f), Value::Unknown);
            }
        }
        return Ok(Planned {
            attributes,
            changed: Vec::new(),
            requires_replace: Vec::new(),
        });
    };
    let live = &prior.attributes;
    let mut paths = Vec::new();
    compared_paths(&manifest, &mut paths);
    compared_paths(&previous, &mut paths);
    if gvk.group.is_empty() && gvk.kind == "Secret" {
        // The server keeps a Secret's stringData as data.
        let from_string_data: Vec<Path> = paths
            .iter()
            .filter_map(|path| match path.segments() {
                [PathSeg::Key(k), rest @ ..] if k == "stringData" => {
                    let mut segs = vec![PathSeg::Key("data".into())];
                    segs.extend(rest.iter().cloned());
                    Some(Path::from_segments(segs))
                }
                _ => None,
            })
            .collect();
        paths.extend(from_string_data);
    }
    paths.sort();
    paths.dedup();
    let mut changed: Vec<Path> = paths
        .iter()
        .filter(|path| !same(live.get(path).as_ref(), after.get(path).as_ref()))
        .map(|path| match path.segments() {
            // A change of data.k that the manifest sets as stringData.k.
            [PathSeg::Key(d), rest @ ..]
                if d == "data" && manifest.get(path).is_none() && previous.get(path).is_none() =>
            {
                let mut segs = vec![PathSeg::Key("stringData".into())];
                segs.extend(rest.iter().cloned());
                manifest_path(&Path::from_segments(segs))
            }
            _ => manifest_path(path),
        })
        .collect();
    changed.sort();
    changed.dedup();
    let attributes = if changed.is_empty() {
        live.clone()
    } else {
        let mut a = after;
        a.set(&p("metadata.resourceVersion"), Value::Unknown);
        a
    };
    Ok(Planned {
        attributes,
        changed,
        requires_replace: Vec::new(),
    })
}

/// Whether the server-side dry run of `manifest` (the object `obj`, `config` evaluated) can
/// only answer "no change", so that a no-op plan need not send one request per object. All
/// of these must hold, else the dry run is sent:
///
/// 1. The inputs are exactly those of the last apply (`prior.inputs`, marks aside): plinth
///    would send the same body, with the same `force`.
/// 2. This run read the object through the settings the plan uses now and found the uid the
///    refreshed record has. Refresh reads an object where the settings recorded with it
///    point; the dry run goes where they point now, and another object there (another
///    cluster) is a replacement that only the dry run's uid would show.
/// 3. On every path the manifest sets (the paths the plan compares), the refreshed object
///    holds exactly the manifest's value: nobody changed what plinth manages (no drift), and
///    the server stored what plinth sent as sent. Any difference sends the dry run: drift,
///    a value the server normalises or fills defaults into (a list of containers, a
///    quantity), a mutating webhook's rewrite, a Secret's write-only `stringData`.
///
/// Why that is enough: a server-side apply sets exactly the fields sent to the values sent;
/// where the object already has those values nothing changes, and no conflict arises (equal
/// values are shared ownership, not a conflict). Defaulting and mutating admission then run
/// on the merged object: what they do to paths the manifest does not set is never compared;
/// what they did to paths it sets shows in the refreshed object, which after the last apply
/// of these same inputs holds the manifest's values there. They could only answer otherwise
/// now if their own behaviour changed with nothing plinth sends having changed (a webhook
/// whose answer depends on the time or on other objects): the object then still holds what
/// plinth applied, and the next apply that changes anything sends the dry run and shows it.
fn dry_run_can_only_agree(
    cluster: &Cluster<'_>,
    obj: &crate::kind::ObjectRef,
    prior: &Prior,
    config: &Value,
    manifest: &Value,
) -> bool {
    if config.unmark_all() != prior.inputs.unmark_all() {
        return false;
    }
    let Some(uid) = crate::seen::uid_of(&prior.attributes) else {
        return false;
    };
    if !cluster.seen.read_as(cluster.req.settings, &obj.id(), &uid) {
        return false;
    }
    let mut paths = Vec::new();
    compared_paths(manifest, &mut paths);
    paths.iter().all(|path| {
        same(
            manifest.get(path).as_ref(),
            prior.attributes.get(path).as_ref(),
        )
    })
}

/// The plan without asking the cluster: a create is the manifest with the server's
/// fields unknown; an update compares the manifest with the object directly.
pub(crate) fn plan_offline(
    gvk: &Gvk,
    prior: Option<&Prior>,
    manifest: &Value,
    previous: &Value,
) -> Planned {
    let Some(prior) = prior else {
        return Planned {
            attributes: new_object(gvk, manifest),
            changed: Vec::new(),
            requires_replace: Vec::new(),
        };
    };
    let live = &prior.attributes;
    let mut paths = Vec::new();
    compared_paths(manifest, &mut paths);
    let mut changed: Vec<Path> = Vec::new();
    // The server keeps a Secret's stringData as data and never returns it: it is compared
    // with what the last apply wrote.
    let write_only = |path: &Path| is_secret(gvk) && path.starts_with(&p("stringData"));
    for path in &paths {
        let want = manifest.get(path);
        let is = if write_only(path) {
            previous.get(path)
        } else {
            live.get(path)
        };
        let differs = match &want {
            Some(w) if !w.is_wholly_known() => true,
            Some(w) => !diff::changed_paths(w, is.as_ref().unwrap_or(&Value::Null), &diff::ExactEq)
                .is_empty(),
            None => false,
        };
        if differs {
            changed.push(manifest_path(path));
        }
    }
    // What the last apply set and the manifest no longer does goes.
    let mut dropped = Vec::new();
    compared_paths(previous, &mut dropped);
    let mut attributes = diff::overlay(live, manifest);
    for path in dropped {
        if manifest.get(&path).is_none()
            && live.get(&path).is_some_and(|v| !matches!(v, Value::Null))
        {
            attributes.remove(&path);
            changed.push(manifest_path(&path));
        }
    }
    if changed.is_empty() {
        attributes = live.clone();
    } else {
        attributes.set(&p("metadata.resourceVersion"), Value::Unknown);
    }
    mark_secrets(gvk, &mut attributes);
    Planned {
        attributes,
        changed,
        requires_replace: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn offline_plans_compare_only_what_the_manifest_sets() {
        let gvk = Gvk::parse("v1/ConfigMap").unwrap();
        let live = v(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "uid": "u", "resourceVersion": "3",
                "labels": {"a": "1", "added-by-someone": "x"}},
            "data": {"k": "v", "old": "o"}}));
        let prior = Prior {
            id: Some("v1/ConfigMap/default/c".into()),
            inputs: Value::Null,
            attributes: live.clone(),
        };
        let same = v(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "labels": {"a": "1"}}, "data": {"k": "v"}}));
        let previous = v(json!({"metadata": {"name": "c"}, "data": {"k": "v", "old": "o"}}));
        let planned = plan_offline(&gvk, Some(&prior), &same, &Value::Null);
        assert!(planned.changed.is_empty(), "{:?}", planned.changed);
        assert_eq!(planned.attributes, live);
        // A value not known yet is a change; a key the last apply set and the manifest
        // dropped is one too.
        let mut unknown = same.clone();
        unknown.set(&p("data.k"), Value::Unknown);
        let planned = plan_offline(&gvk, Some(&prior), &unknown, &previous);
        assert_eq!(
            planned.changed,
            vec![p("manifest.data.k"), p("manifest.data.old")]
        );
        assert_eq!(planned.attributes.get(&p("data.k")), Some(Value::Unknown));
        assert!(planned.attributes.get(&p("data.old")).is_none());
        assert_eq!(
            planned.attributes.get(&p("metadata.resourceVersion")),
            Some(Value::Unknown)
        );
    }

    #[test]
    fn an_offline_secret_compares_its_string_data_with_what_was_last_applied() {
        let gvk = Gvk::parse("v1/Secret").unwrap();
        let live = v(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default", "resourceVersion": "2"},
            "data": {"password": "b2xk"}, "type": "Opaque"}));
        let prior = Prior {
            id: Some("v1/Secret/default/s".into()),
            inputs: Value::Null,
            attributes: live,
        };
        let manifest = |pw: &str| {
            v(json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "namespace": "default"}, "stringData": {"password": pw}}))
        };
        // Before, the live object (which has no stringData) made every plan a change.
        let same = plan_offline(&gvk, Some(&prior), &manifest("old"), &manifest("old"));
        assert!(same.changed.is_empty(), "{:?}", same.changed);
        let rotated = plan_offline(&gvk, Some(&prior), &manifest("new"), &manifest("old"));
        assert_eq!(rotated.changed, vec![p("manifest.stringData.password")]);
        assert!(rotated.attributes.contains_sensitive());
    }

    #[test]
    fn what_the_server_owns_is_never_a_change_even_when_the_manifest_carries_it() {
        // YAML copied from `kubectl get -o yaml` carries the server's bookkeeping; before,
        // its resourceVersion and creationTimestamp were compared and always "changed".
        let gvk = Gvk::parse("v1/ConfigMap").unwrap();
        let live = v(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "uid": "u-2", "resourceVersion": "9",
                "creationTimestamp": "2026-12-02T10:00:00Z", "generation": 4},
            "data": {"k": "v"}}));
        let prior = Prior {
            id: Some("v1/ConfigMap/default/c".into()),
            inputs: Value::Null,
            attributes: live.clone(),
        };
        let copied = v(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "uid": "u-1", "resourceVersion": "3",
                "creationTimestamp": null, "generation": 1, "selfLink": "/api/v1/x"},
            "status": {}, "data": {"k": "v"}}));
        let planned = plan_offline(&gvk, Some(&prior), &copied, &copied);
        assert!(planned.changed.is_empty(), "{:?}", planned.changed);
        assert_eq!(planned.attributes, live);
        // A real change beside it is the only change.
        let mut edited = copied.clone();
        edited.set(&p("data.k"), Value::from("w"));
        let planned = plan_offline(&gvk, Some(&prior), &edited, &copied);
        assert_eq!(planned.changed, vec![p("manifest.data.k")]);
    }
}
