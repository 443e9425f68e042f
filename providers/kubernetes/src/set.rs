//! `k8s:manifests`: a set of objects (the documents of a YAML file or directory, read by
//! plinth-config into the `manifests` list) planned, applied and deleted as one resource.
//!
//! - Attributes: `objects`, a map from each object's id (`<apiVersion>/<Kind>/<namespace>/
//!   <name>`) to the object as the API server returns it. A plan's changes are paths in it
//!   (`objects["batch/v1/Job/default/producer"].spec.parallelism`), found per object exactly
//!   as a `k8s:<apiVersion>/<Kind>` resource finds them (dry run, or offline).
//! - An object is known by its id: one whose kind, group, namespace or name changes is
//!   another object (the old one deleted, the new one created); a new version of its group
//!   (`autoscaling/v1` → `v2`) is the same live object, updated; one that leaves the set is
//!   deleted at apply. A change the server cannot make in place (an immutable field) is
//!   refused with the ways to replace it, never done as a hidden delete and create.
//! - Order ([`rank`]): Namespaces, then CRDs, then other cluster-wide kinds, then
//!   ServiceAccounts, Secrets, ConfigMaps, RBAC, storage claims and KEDA TriggerAuthentications,
//!   then Services, then
//!   workloads, then everything else (custom resources) — in file order within each group.
//!   Deletes (of objects leaving the set, and destroy) go in the reverse order.
//! - Each object goes through the provider as a `k8s:<apiVersion>/<Kind>` request of its
//!   own, so Secrets are sensitive, conflicts reported and deletes awaited as for single
//!   objects.

use plinth_provider::{
    BatchRead, InputSchema, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema,
    ValueKind,
};
use plinth_value::{Map, Path, PathSeg, Value};

use crate::kind::{Gvk, ObjectRef};
use crate::manifest::{compared_paths, desired, object_ref, p, scope_namespace};
use crate::options::options;

/// The set's type name (after `k8s:`).
pub const MANIFESTS: &str = "manifests";

/// The schema of `k8s:manifests`.
pub(crate) fn schema() -> TypeSchema {
    TypeSchema {
        type_name: format!("k8s:{MANIFESTS}"),
        description: "A set of Kubernetes objects (the documents of `manifest_file`, or of every *.yaml/*.yml in `manifest_dir`), applied server-side as one resource: objects added are created, changed ones updated, removed ones deleted.".into(),
        inputs: vec![
            InputSchema::new(
                "manifests",
                ValueKind::List,
                true,
                "The objects, in file order (plinth reads `manifest_file = \"x.yaml\"` or `manifest_dir = \"dir\"` into it).",
            ),
            InputSchema::new(
                "force",
                ValueKind::Bool,
                false,
                "Take over fields another server-side applier or a controller owns, for every object of the set.",
            ),
            InputSchema::new(
                "delete_timeout",
                ValueKind::Duration,
                false,
                "How long each delete waits for its object to be gone (default 2m).",
            ),
        ],
        open: false,
        computed: vec![p("objects")],
        force_new: vec![],
        sensitive: vec![],
        data_source: false,
        managed: true,
        action: false,
    }
}

/// Where an object goes in the apply order (lower first; deletes go the other way).
pub(crate) fn rank(gvk: &Gvk) -> u8 {
    match gvk.kind.as_str() {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount"
        | "Secret"
        | "ConfigMap"
        | "Role"
        | "RoleBinding"
        | "PersistentVolumeClaim"
        | "LimitRange"
        | "ResourceQuota"
        | "TriggerAuthentication"
        | "ClusterTriggerAuthentication" => 3,
        "Service" => 4,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Pod" | "Job" | "CronJob" => 5,
        _ if gvk.group.contains('.') && !gvk.group.ends_with(".k8s.io") => 6,
        _ if gvk.guess_cluster_scoped() => 2,
        _ => 6,
    }
}

/// One object of the set, as configured.
struct Member {
    /// Its position in `manifests` (for messages: document numbers are per file).
    index: usize,
    gvk: Gvk,
    obj: ObjectRef,
    /// The configuration of the object as a `k8s:<apiVersion>/<Kind>` resource.
    config: Value,
}

/// The objects of a configuration, in apply order.
fn members(config: &Value) -> Result<Vec<Member>, ProviderError> {
    let list = config.get(&p("manifests")).unwrap_or(Value::Null);
    let items = match list.unmarked() {
        Value::List(items) => items.clone(),
        Value::Null => {
            return Err(ProviderError::new(
                "`manifests` is required: write manifest_file = \"x.yaml\" or manifest_dir = \"dir\"",
            ));
        }
        Value::Unknown => {
            return Err(ProviderError::new(
                "`manifests` as a whole is unknown; refer to values inside the objects instead",
            ));
        }
        other => {
            return Err(ProviderError::new(format!(
                "`manifests` must be a list of objects, found {}",
                other.type_name()
            )));
        }
    };
    let mut out: Vec<Member> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let what = |why: &str| ProviderError::new(format!("manifests[{index}]: {why}"));
        let text = |k: &str| item.get(&p(k)).and_then(|v| v.as_str().map(str::to_string));
        let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else {
            return Err(what(
                "apiVersion and kind must be known strings (e.g. apiVersion: batch/v1, kind: Job)",
            ));
        };
        let gvk = Gvk::from_parts(&api_version, &kind).ok_or_else(|| {
            what(&format!(
                "`{api_version}` / `{kind}` is not a Kubernetes apiVersion and kind"
            ))
        })?;
        let mut cfg = Map::new();
        cfg.insert("manifest".into(), item.clone());
        for key in ["force", "delete_timeout"] {
            if let Some(v) = config.get(&p(key)) {
                cfg.insert(key.into(), v);
            }
        }
        let cfg = Value::Map(cfg);
        let mut m = desired(&gvk, &cfg).map_err(|e| what(&e.message))?;
        scope_namespace(&mut m, &gvk, !gvk.guess_cluster_scoped()).map_err(|e| what(&e.message))?;
        let obj = object_ref(&gvk, &m).ok_or_else(|| {
            what(&format!(
                "the {kind}'s metadata.name (and namespace) must be known when planning: a set tells its objects apart by them"
            ))
        })?;
        if let Some(first) = out.iter().find(|o| o.obj == obj) {
            return Err(what(&format!(
                "{} is already in the set (manifests[{}]): remove one of the two",
                obj.describe(),
                first.index
            )));
        }
        out.push(Member {
            index,
            gvk,
            obj,
            config: cfg,
        });
    }
    out.sort_by_key(|m| rank(&m.gvk));
    Ok(out)
}

/// Static checks of a set's configuration.
pub(crate) fn validate(config: &Value) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    if let Err(e) = members(config) {
        out.push((p("manifests"), e.message));
    }
    if let Err(e) = options(config) {
        out.push((Path::root(), e.message));
    }
    out
}

/// `objects["<id>"]`, or a path inside it.
fn object_path(id: &str, rest: &[PathSeg]) -> Path {
    let mut segs = vec![PathSeg::Key("objects".into()), PathSeg::Key(id.into())];
    segs.extend(rest.iter().cloned());
    Path::from_segments(segs)
}

/// What a plan shows of an object that comes or goes: the paths its document sets, under
/// `objects["<id>"]` (the object itself when it sets none).
fn document_paths(gvk: &Gvk, config: &Value, id: &str) -> Vec<Path> {
    let mut paths = Vec::new();
    if let Ok(m) = desired(gvk, config) {
        compared_paths(&m, &mut paths);
    }
    if paths.is_empty() {
        return vec![object_path(id, &[])];
    }
    paths
        .iter()
        .map(|path| object_path(id, path.segments()))
        .collect()
}

/// The recorded objects of a prior set: id → attributes, in apply order.
fn recorded(prior: &Prior) -> Vec<(ObjectRef, Value)> {
    let mut out: Vec<(ObjectRef, Value)> = prior
        .attributes
        .get(&p("objects"))
        .and_then(|o| o.as_map().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(id, v)| Some((ObjectRef::parse_id(&id).ok()?, v)))
        .collect();
    out.sort_by_key(|(o, _)| rank(&o.gvk));
    out
}

/// Whether two references name one live object: the API server serves an object at every
/// version of its group, so `autoscaling/v1` → `autoscaling/v2` of one HPA is an update of
/// that object, never a create of a new one and a delete of the old (which would delete it).
fn same_live(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.gvk.group == b.gvk.group
        && a.gvk.kind == b.gvk.kind
        && a.namespace == b.namespace
        && a.name == b.name
}

/// The record of `obj` in the set's state: the same reference, else the same live object
/// under another version of its group.
fn recorded_as<'a>(
    before: &'a [(ObjectRef, Value)],
    obj: &ObjectRef,
) -> Option<&'a (ObjectRef, Value)> {
    before
        .iter()
        .find(|(o, _)| o == obj)
        .or_else(|| before.iter().find(|(o, _)| same_live(o, obj)))
}

/// The paths of a member's replacement that are the user's change (an immutable field), not
/// the sign that the recorded object is gone or was made again (`metadata.uid` differs).
fn immutable_paths(requires_replace: &[Path]) -> Vec<Path> {
    let uid = crate::manifest::manifest_path(&p("metadata.uid"));
    requires_replace
        .iter()
        .filter(|path| **path != uid)
        .cloned()
        .collect()
}

/// A member whose change the server cannot make in place. A set never deletes and recreates
/// one of its objects behind an "update" in its plan (a PersistentVolumeClaim's data would
/// go with it): the user chooses the replacement, and the plan then shows it.
fn cannot_change_in_place(obj: &ObjectRef, paths: &[Path]) -> ProviderError {
    let paths: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
    ProviderError::new(format!(
        "{}: {} cannot be changed in place; the object would have to be deleted and created again. \
         Replace the whole set with `--replace` on this resource (its plan shows every object deleted and created), \
         or take the document out of the set in one apply and put it back in the next, \
         or manage the object as its own k8s resource, whose plan shows the replacement",
        obj.describe(),
        paths.join(", ")
    ))
}

/// The object's own record, out of the set's: its last applied manifest and last read.
fn member_prior(prior: &Prior, obj: &ObjectRef, attributes: Value) -> Prior {
    let id = obj.id();
    let manifest = members(&prior.inputs)
        .ok()
        .and_then(|ms| ms.into_iter().find(|m| m.obj.id() == id))
        .map(|m| m.config)
        .unwrap_or(Value::Null);
    Prior {
        id: Some(id),
        inputs: manifest,
        attributes,
    }
}

/// The request about one object of the set (its type, the set's address and settings).
fn member_req<'a>(req: &Request<'a>, type_name: &'a str) -> Request<'a> {
    Request {
        type_name,
        address: req.address,
        reporter: req.reporter,
        settings: req.settings,
    }
}

/// Plans every object, as a single object's plan would, and what leaves the set.
pub(crate) async fn plan(
    k8s: &dyn Provider,
    req: &Request<'_>,
    prior: Option<&Prior>,
    config: &Value,
) -> Result<Planned, ProviderError> {
    let want = members(config)?;
    let before = prior.map(recorded).unwrap_or_default();
    let mut objects = Map::new();
    let mut changed = Vec::new();
    for m in &want {
        let id = m.obj.id();
        let type_name = m.gvk.type_name();
        let sub = member_req(req, &type_name);
        let was = recorded_as(&before, &m.obj);
        let member_prior = match (prior, was) {
            (Some(prior), Some((o, a))) => Some(member_prior(prior, o, a.clone())),
            _ => None,
        };
        let planned = k8s
            .plan(&sub, member_prior.as_ref(), &m.config)
            .await
            .map_err(|e| ProviderError::new(format!("{}: {}", m.obj.describe(), e.message)))?;
        if member_prior.is_none() {
            changed.extend(document_paths(&m.gvk, &m.config, &id));
        } else if !planned.requires_replace.is_empty() {
            let immutable = immutable_paths(&planned.requires_replace);
            if !immutable.is_empty() {
                return Err(cannot_change_in_place(&m.obj, &immutable));
            }
            // The recorded object is gone, or another one took its name: it is made again,
            // as drift shows it.
            changed.push(object_path(&id, &[]));
        } else {
            changed.extend(planned.changed.iter().map(|c| match c.segments() {
                [PathSeg::Key(k), rest @ ..] if k == "manifest" => object_path(&id, rest),
                _ => object_path(&id, &[]),
            }));
        }
        objects.insert(id, planned.attributes);
    }
    let last = prior
        .and_then(|p| members(&p.inputs).ok())
        .unwrap_or_default();
    for (o, _) in &before {
        if !want.iter().any(|m| same_live(&m.obj, o)) {
            changed.extend(match last.iter().find(|m| m.obj == *o) {
                Some(m) => document_paths(&m.gvk, &m.config, &o.id()),
                None => vec![object_path(&o.id(), &[])],
            });
        }
    }
    let mut attributes = Map::new();
    attributes.insert("objects".into(), Value::Map(objects));
    Ok(Planned {
        attributes: Value::Map(attributes),
        changed,
        requires_replace: Vec::new(),
    })
}

/// Creates or updates the set: every object applied in order (one the server cannot change
/// in place is refused, as in the plan), then those that left the set deleted in reverse.
pub(crate) async fn put(
    k8s: &dyn Provider,
    req: &Request<'_>,
    prior: Option<&Prior>,
    config: &Value,
) -> Result<Observed, ProviderError> {
    let want = members(config)?;
    let before = prior.map(recorded).unwrap_or_default();
    let mut objects = Map::new();
    // Objects this call created: a failure part-way deletes them again, since the engine
    // records nothing of a failed create and they would be left behind unmanaged.
    let mut made: Vec<(String, Prior)> = Vec::new();
    for m in &want {
        match put_member(k8s, req, prior, &before, m).await {
            Ok((observed, created)) => {
                if created {
                    made.push((
                        m.gvk.type_name(),
                        Prior {
                            id: Some(m.obj.id()),
                            inputs: m.config.clone(),
                            attributes: observed.attributes.clone(),
                        },
                    ));
                }
                objects.insert(m.obj.id(), observed.attributes);
            }
            Err(e) => return Err(undo(k8s, req, made, e).await),
        }
    }
    for (o, a) in before.iter().rev() {
        if want.iter().any(|m| same_live(&m.obj, o)) {
            continue;
        }
        let type_name = o.gvk.type_name();
        let sub = member_req(req, &type_name);
        let mp = match prior {
            Some(prior) => member_prior(prior, o, a.clone()),
            None => continue,
        };
        k8s.delete(&sub, &mp)
            .await
            .map_err(|e| ProviderError::new(format!("{}: {}", o.describe(), e.message)))?;
    }
    let mut attributes = Map::new();
    attributes.insert("objects".into(), Value::Map(objects));
    Ok(Observed {
        id: Some(set_id(
            &want.iter().map(|m| m.obj.clone()).collect::<Vec<_>>(),
        )),
        attributes: Value::Map(attributes),
    })
}

/// Applies one member; `true` when it was created (not there before).
async fn put_member(
    k8s: &dyn Provider,
    req: &Request<'_>,
    prior: Option<&Prior>,
    before: &[(ObjectRef, Value)],
    m: &Member,
) -> Result<(Observed, bool), ProviderError> {
    let type_name = m.gvk.type_name();
    let sub = member_req(req, &type_name);
    let fail =
        |e: ProviderError| ProviderError::new(format!("{}: {}", m.obj.describe(), e.message));
    let (Some(prior), Some((o, a))) = (prior, recorded_as(before, &m.obj)) else {
        return Ok((k8s.create(&sub, &m.config).await.map_err(fail)?, true));
    };
    let mp = member_prior(prior, o, a.clone());
    let planned = k8s.plan(&sub, Some(&mp), &m.config).await.map_err(fail)?;
    let immutable = immutable_paths(&planned.requires_replace);
    if !immutable.is_empty() {
        return Err(cannot_change_in_place(&m.obj, &immutable));
    }
    if planned.requires_replace.is_empty() {
        return Ok((k8s.update(&sub, &mp, &m.config).await.map_err(fail)?, false));
    }
    // Not the recorded object any more (deleted, or made again by someone): the recorded one
    // is deleted if it is still there, and the object made.
    k8s.delete(&sub, &mp).await.map_err(fail)?;
    Ok((k8s.create(&sub, &m.config).await.map_err(fail)?, false))
}

/// A failed apply of the set: the objects it created are deleted again (newest first), and
/// the error says so, or names those that could not be deleted.
async fn undo(
    k8s: &dyn Provider,
    req: &Request<'_>,
    made: Vec<(String, Prior)>,
    error: ProviderError,
) -> ProviderError {
    if made.is_empty() {
        return error;
    }
    let mut left = Vec::new();
    for (type_name, p) in made.iter().rev() {
        let sub = member_req(req, type_name);
        if k8s.delete(&sub, p).await.is_err() {
            left.push(p.id.clone().unwrap_or_default());
        }
    }
    let what = if left.is_empty() {
        format!(
            "the {} object(s) this apply had created were deleted again",
            made.len()
        )
    } else {
        format!(
            "these objects it created could not be deleted again and are not in state: {} (delete them by hand)",
            left.join(", ")
        )
    };
    ProviderError::new(format!("{} ({what})", error.message))
}

/// The set's id: how many objects, and the first (in apply order).
fn set_id(objs: &[ObjectRef]) -> String {
    match objs.first() {
        Some(first) => format!("{} objects from {}", objs.len(), first.id()),
        None => "0 objects".into(),
    }
}

/// Reads every recorded object; those gone leave the set's attributes (and are planned as
/// creates). `None` when every one is gone. Objects of one kind in one namespace are read
/// together ([`Provider::read_batch`]: one list), each answered as its own read would be.
pub(crate) async fn read(
    k8s: &dyn Provider,
    req: &Request<'_>,
    prior: &Prior,
) -> Result<Option<Observed>, ProviderError> {
    let before = recorded(prior);
    if before.is_empty() {
        return Ok(None);
    }
    let type_names: Vec<String> = before.iter().map(|(o, _)| o.gvk.type_name()).collect();
    let priors: Vec<Prior> = before
        .iter()
        .map(|(o, a)| member_prior(prior, o, a.clone()))
        .collect();
    // Members by batch key, in their order; those without one alone.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: std::collections::HashMap<String, usize> = Default::default();
    for (i, (t, mp)) in type_names.iter().zip(&priors).enumerate() {
        match k8s.batch_key(&member_req(req, t), mp) {
            Some(key) => match by_key.get(&key) {
                Some(&g) => groups[g].push(i),
                None => {
                    by_key.insert(key, groups.len());
                    groups.push(vec![i]);
                }
            },
            None => groups.push(vec![i]),
        }
    }
    let mut answers: Vec<Option<Result<Option<Observed>, ProviderError>>> =
        before.iter().map(|_| None).collect();
    for members in groups {
        if let [i] = members.as_slice() {
            answers[*i] = Some(
                k8s.read(&member_req(req, &type_names[*i]), &priors[*i])
                    .await,
            );
            continue;
        }
        let reads: Vec<BatchRead<'_>> = members
            .iter()
            .map(|i| BatchRead {
                req: member_req(req, &type_names[*i]),
                prior: &priors[*i],
                recorded: true,
            })
            .collect();
        for (i, a) in members.iter().zip(k8s.read_batch(&reads).await) {
            answers[*i] = Some(a);
        }
    }
    let mut objects = Map::new();
    for ((o, _), answer) in before.iter().zip(answers) {
        let answer = answer
            .unwrap_or_else(|| Err(ProviderError::new(format!("{} was not read", o.describe()))));
        if let Some(got) = answer? {
            objects.insert(o.id(), got.attributes);
        }
    }
    if objects.is_empty() {
        return Ok(None);
    }
    let mut attributes = Map::new();
    attributes.insert("objects".into(), Value::Map(objects));
    Ok(Some(Observed {
        id: prior.id.clone(),
        attributes: Value::Map(attributes),
    }))
}

/// Deletes every recorded object, in reverse apply order (custom resources and workloads
/// before the ServiceAccounts they use, namespaces last).
pub(crate) async fn delete(
    k8s: &dyn Provider,
    req: &Request<'_>,
    prior: &Prior,
) -> Result<(), ProviderError> {
    for (o, a) in recorded(prior).iter().rev() {
        let type_name = o.gvk.type_name();
        let sub = member_req(req, &type_name);
        let mp = member_prior(prior, o, a.clone());
        k8s.delete(&sub, &mp)
            .await
            .map_err(|e| ProviderError::new(format!("{}: {}", o.describe(), e.message)))?;
    }
    Ok(())
}

/// `plinth import` of a set: refused.
pub(crate) fn import_refused(id: &str) -> ProviderError {
    ProviderError::new(format!(
        "k8s:{MANIFESTS} cannot import `{id}`: a set is known by the objects of its YAML; apply it instead (server-side apply takes over objects that already exist, field by field, with force = true for fields another applier owns), or import each object as its own k8s:<apiVersion>/<Kind> resource"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_new_version_of_a_group_is_the_same_live_object() {
        let cfg = v(json!({"manifests": [
            {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": "apps"}},
        ]}));
        let new = &members(&cfg).unwrap()[0].obj;
        let old = ObjectRef::parse_id("autoscaling/v1/HorizontalPodAutoscaler/apps/h").unwrap();
        let other = ObjectRef::parse_id("autoscaling/v1/HorizontalPodAutoscaler/apps/g").unwrap();
        assert!(same_live(new, &old));
        assert!(!same_live(new, &other));
        let before = vec![(other.clone(), Value::Null), (old.clone(), Value::Null)];
        assert_eq!(
            recorded_as(&before, new).map(|(o, _)| o.id()),
            Some(old.id())
        );
        let exact = vec![(old.clone(), Value::Null), (new.clone(), Value::Null)];
        assert_eq!(
            recorded_as(&exact, new).map(|(o, _)| o.id()),
            Some(new.id())
        );
    }

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn members_are_ordered_and_identified() {
        let cfg = v(json!({"manifests": [
            {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "metadata": {"name": "sj"}},
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "producer"}},
            {"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication", "metadata": {"name": "ta"}},
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "apps"}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}},
        ]}));
        let ids: Vec<String> = members(&cfg).unwrap().iter().map(|m| m.obj.id()).collect();
        assert_eq!(
            ids,
            [
                "v1/Namespace/apps",
                "rbac.authorization.k8s.io/v1/ClusterRole/r",
                "keda.sh/v1alpha1/TriggerAuthentication/default/ta",
                "v1/ServiceAccount/apps/sa",
                "batch/v1/Job/default/producer",
                "keda.sh/v1alpha1/ScaledJob/default/sj",
            ]
        );
    }

    #[test]
    fn duplicates_and_bad_documents_are_refused() {
        let dup = v(json!({"manifests": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}},
        ]}));
        let e = validate(&dup);
        assert!(
            e[0].1
                .contains("manifests[1]: ConfigMap default/c is already in the set (manifests[0])"),
            "{e:?}"
        );
        let no_kind = v(json!({"manifests": [{"apiVersion": "v1", "metadata": {"name": "c"}}]}));
        assert!(validate(&no_kind)[0].1.contains("apiVersion and kind"));
        let mut unknown_name = v(json!({"manifests": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]}));
        unknown_name.set(&p("manifests[0].metadata.name"), Value::Unknown);
        assert!(
            validate(&unknown_name)[0]
                .1
                .contains("must be known when planning"),
            "{:?}",
            validate(&unknown_name)
        );
        let ns_on_cluster_kind = v(json!({"manifests": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "namespace": "b"}}]}));
        assert!(!validate(&ns_on_cluster_kind).is_empty());
        assert!(!validate(&v(json!({"manifests": "x"}))).is_empty());
    }

    #[test]
    fn recorded_objects_delete_in_reverse_order() {
        let prior = Prior {
            id: None,
            inputs: Value::Null,
            attributes: v(json!({"objects": {
                "v1/Namespace/apps": {},
                "keda.sh/v1alpha1/ScaledJob/apps/sj": {},
                "v1/ServiceAccount/apps/sa": {},
            }})),
        };
        let order: Vec<String> = recorded(&prior).iter().rev().map(|(o, _)| o.id()).collect();
        assert_eq!(
            order,
            [
                "keda.sh/v1alpha1/ScaledJob/apps/sj",
                "v1/ServiceAccount/apps/sa",
                "v1/Namespace/apps"
            ]
        );
        assert!(import_refused("x").message.contains("cannot import"));
    }
}
