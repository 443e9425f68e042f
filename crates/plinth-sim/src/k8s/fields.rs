//! Field ownership as server-side apply tracks it: sets of field paths in the `FieldsV1`
//! encoding (`f:name`, `k:{"name":"x"}`, `v:"x"`, `.`), the managedFields entries that hold
//! them, and server-side apply's merge. (The other patch formats are in `patch`.)

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// One path: its elements as FieldsV1 keys (`f:spec`, `k:{"name":"app"}`).
pub(crate) type Path = Vec<String>;
/// A set of owned paths.
pub(crate) type Set = BTreeSet<Path>;

/// What the walkers need to know about the object's type.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    /// A custom resource: lists are atomic and there are no merge keys.
    pub custom: bool,
    /// Status belongs to the status subresource: not owned through the main resource.
    pub has_status: bool,
}

/// Metadata the field manager never tracks.
const STRIPPED_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generateName",
];

/// Merge keys of associative lists in built-in types.
pub(crate) fn assoc_keys(custom: bool, key: &str) -> Option<&'static [&'static str]> {
    if custom {
        return None;
    }
    match key {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "secrets" => Some(&["name"]),
        "volumeMounts" => Some(&["mountPath"]),
        "ports" => Some(&["containerPort", "protocol"]),
        _ => None,
    }
}

/// Maps whose entries are owned one by one and that are members themselves (`.`).
fn granular_map(key: &str) -> bool {
    matches!(
        key,
        "labels"
            | "annotations"
            | "data"
            | "stringData"
            | "binaryData"
            | "nodeSelector"
            | "matchLabels"
    )
}

/// Maps owned as a whole (label selectors of workloads).
fn atomic_map(custom: bool, key: &str) -> bool {
    !custom && key == "selector"
}

pub(super) fn item_key(item: &Value, keys: &[&str]) -> Option<String> {
    let obj = item.as_object()?;
    let mut k = Map::new();
    let mut names: Vec<&&str> = keys.iter().collect();
    names.sort();
    for name in names {
        if let Some(v) = obj.get(*name) {
            k.insert((*name).to_string(), v.clone());
        }
    }
    if k.is_empty() {
        None
    } else {
        Some(format!("k:{}", Value::Object(k)))
    }
}

/// The keys of every item of an associative list, or None if it must be treated as atomic.
fn list_keys(items: &[Value], keys: &[&str]) -> Option<Vec<String>> {
    let ks: Option<Vec<String>> = items.iter().map(|i| item_key(i, keys)).collect();
    let ks = ks?;
    let unique: BTreeSet<&String> = ks.iter().collect();
    (unique.len() == ks.len()).then_some(ks)
}

fn is_set_list(path: &Path) -> bool {
    path.len() == 2 && path[0] == "f:metadata" && path[1] == "f:finalizers"
}

/// The fields an object (or an applied configuration) sets.
pub(crate) fn field_set(obj: &Value, ctx: Ctx) -> Set {
    let mut s = Set::new();
    let Some(m) = obj.as_object() else { return s };
    for (k, v) in m {
        if k == "apiVersion" || k == "kind" || (k == "status" && ctx.has_status) {
            continue;
        }
        if k == "metadata" {
            if let Some(meta) = v.as_object() {
                for (mk, mv) in meta {
                    if !STRIPPED_META.contains(&mk.as_str()) {
                        walk(
                            mv,
                            vec!["f:metadata".into(), format!("f:{mk}")],
                            mk,
                            ctx,
                            &mut s,
                        );
                    }
                }
            }
            continue;
        }
        walk(v, vec![format!("f:{k}")], k, ctx, &mut s);
    }
    s
}

fn walk(v: &Value, path: Path, key: &str, ctx: Ctx, s: &mut Set) {
    match v {
        Value::Object(m) if !m.is_empty() && !atomic_map(ctx.custom, key) => {
            if granular_map(key) {
                s.insert(path.clone());
            }
            for (k, c) in m {
                let mut p = path.clone();
                p.push(format!("f:{k}"));
                walk(c, p, k, ctx, s);
            }
        }
        Value::Array(items) if is_set_list(&path) => {
            s.insert(path.clone());
            for i in items {
                let mut p = path.clone();
                p.push(format!("v:{i}"));
                s.insert(p);
            }
        }
        Value::Array(items) => {
            let keyed = assoc_keys(ctx.custom, key).and_then(|keys| list_keys(items, keys));
            match keyed {
                Some(ks) if !items.is_empty() => {
                    for (item, k) in items.iter().zip(ks) {
                        let mut ip = path.clone();
                        ip.push(k);
                        s.insert(ip.clone());
                        if let Some(m) = item.as_object() {
                            for (f, c) in m {
                                let mut p = ip.clone();
                                p.push(format!("f:{f}"));
                                walk(c, p, f, ctx, s);
                            }
                        }
                    }
                }
                _ => {
                    s.insert(path);
                }
            }
        }
        _ => {
            s.insert(path);
        }
    }
}

/// Whether `p` has descendants in `set`.
fn has_descendant(set: &Set, p: &Path) -> bool {
    use std::ops::Bound::{Excluded, Unbounded};
    set.range::<Path, _>((Excluded(p.clone()), Unbounded))
        .next()
        .is_some_and(|q| q.starts_with(p))
}

/// The FieldsV1 encoding of a set.
pub(crate) fn to_fields_v1(set: &Set) -> Value {
    let mut root = Map::new();
    for p in set {
        let mut node = &mut root;
        for seg in p {
            node = node
                .entry(seg.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("fields node");
        }
        if has_descendant(set, p) && !node.contains_key(".") {
            node.insert(".".into(), json!({}));
        }
    }
    Value::Object(root)
}

/// The set a FieldsV1 value encodes.
pub(crate) fn from_fields_v1(v: &Value) -> Set {
    fn rec(v: &Value, prefix: &Path, s: &mut Set) {
        let Some(m) = v.as_object() else { return };
        for (k, c) in m {
            if k == "." {
                s.insert(prefix.clone());
                continue;
            }
            let mut p = prefix.clone();
            p.push(k.clone());
            if c.as_object().is_none_or(|o| o.is_empty()) {
                s.insert(p);
            } else {
                rec(c, &p, s);
            }
        }
    }
    let mut s = Set::new();
    rec(v, &Vec::new(), &mut s);
    s
}

/// `.spec.containers[name="app"].image`, as conflicts name fields.
pub(crate) fn display_path(p: &Path) -> String {
    let mut out = String::new();
    for seg in p {
        if let Some(f) = seg.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = seg.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| m.iter().map(|(n, v)| format!("{n}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = seg.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        } else if let Some(i) = seg.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        }
    }
    out
}

fn matches_seg(item: &Value, seg: &str) -> bool {
    if let Some(k) = seg.strip_prefix("k:") {
        let Ok(key) = serde_json::from_str::<Map<String, Value>>(k) else {
            return false;
        };
        key.iter().all(|(n, v)| item.get(n) == Some(v))
    } else if let Some(v) = seg.strip_prefix("v:") {
        serde_json::from_str::<Value>(v).is_ok_and(|v| &v == item)
    } else {
        false
    }
}

fn child<'a>(v: &'a Value, seg: &str) -> Option<&'a Value> {
    if let Some(f) = seg.strip_prefix("f:") {
        return v.as_object()?.get(f);
    }
    if let Some(i) = seg.strip_prefix("i:") {
        return v.as_array()?.get(i.parse::<usize>().ok()?);
    }
    v.as_array()?.iter().find(|item| matches_seg(item, seg))
}

/// The value at `p`.
pub(crate) fn value_at<'a>(v: &'a Value, p: &Path) -> Option<&'a Value> {
    let mut cur = v;
    for seg in p {
        cur = child(cur, seg)?;
    }
    Some(cur)
}

/// Removes the value at `p` (if present).
pub(crate) fn remove_at(v: &mut Value, p: &Path) {
    let Some((last, parent)) = p.split_last() else {
        return;
    };
    let mut cur = v;
    for seg in parent {
        let next = if let Some(f) = seg.strip_prefix("f:") {
            cur.as_object_mut().and_then(|m| m.get_mut(f))
        } else if let Some(i) = seg.strip_prefix("i:") {
            let i = i.parse::<usize>().unwrap_or(usize::MAX);
            cur.as_array_mut().and_then(|a| a.get_mut(i))
        } else {
            cur.as_array_mut()
                .and_then(|a| a.iter_mut().find(|item| matches_seg(item, seg)))
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(a) = cur.as_array_mut() {
        if let Some(i) = last.strip_prefix("i:") {
            if let Ok(i) = i.parse::<usize>()
                && i < a.len()
            {
                a.remove(i);
            }
        } else {
            a.retain(|item| !matches_seg(item, last));
        }
    }
}

fn is_container(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Object(m)) if !m.is_empty())
}

/// Paths set in `new` that were added or whose (leaf) value changed since `old`, and paths
/// of `old` no longer present.
pub(crate) fn changes(old: &Value, new: &Value, ctx: Ctx) -> (Set, Set) {
    let old_set = field_set(old, ctx);
    let new_set = field_set(new, ctx);
    let mut changed = Set::new();
    for p in &new_set {
        if !old_set.contains(p) {
            changed.insert(p.clone());
            continue;
        }
        let (a, b) = (value_at(old, p), value_at(new, p));
        let both_nodes = is_container(a)
            && is_container(b)
            && (has_descendant(&new_set, p) || has_descendant(&old_set, p));
        if !both_nodes && a != b {
            changed.insert(p.clone());
        }
    }
    let removed = old_set.difference(&new_set).cloned().collect();
    (changed, removed)
}

/// Drops `null`s (an applied configuration's nulls set nothing).
pub(crate) fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, c| !c.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Server-side apply's merge of an applied configuration into the live object.
pub(crate) fn merge_apply(live: &mut Value, cfg: &Value, key: &str, path: &Path, ctx: Ctx) {
    match (live, cfg) {
        (Value::Object(l), Value::Object(c)) if !atomic_map(ctx.custom, key) => {
            for (k, cv) in c {
                let mut p = path.clone();
                p.push(format!("f:{k}"));
                match l.get_mut(k) {
                    Some(lv) => merge_apply(lv, cv, k, &p, ctx),
                    None => {
                        l.insert(k.clone(), cv.clone());
                    }
                }
            }
        }
        (Value::Array(l), Value::Array(c)) if is_set_list(path) => {
            for item in c {
                if !l.contains(item) {
                    l.push(item.clone());
                }
            }
        }
        (Value::Array(l), Value::Array(c)) => {
            let keys = assoc_keys(ctx.custom, key);
            match keys.filter(|k| list_keys(l, k).is_some() && list_keys(c, k).is_some()) {
                Some(keys) => {
                    for item in c {
                        let k = item_key(item, keys);
                        match l.iter_mut().find(|li| item_key(li, keys) == k) {
                            Some(li) => merge_apply(li, item, "", &Vec::new(), ctx),
                            None => l.push(item.clone()),
                        }
                    }
                }
                None => *l = c.clone(),
            }
        }
        (l, c) => *l = c.clone(),
    }
}

/// One managedFields entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub set: Set,
}

impl Entry {
    /// How conflict messages name the manager.
    pub fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == "Update" {
            s.push_str(&format!(" using {}", self.api_version));
            if let Some(t) = &self.time {
                s.push_str(&format!(" at {t}"));
            }
        }
        s
    }

    fn same_identity(&self, manager: &str, operation: &str, api_version: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.is_none()
            && (operation == "Apply" || self.api_version == api_version)
    }
}

pub(crate) fn parse_entries(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            Some(Entry {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation: e
                    .get("operation")
                    .and_then(Value::as_str)
                    .unwrap_or("Update")
                    .to_string(),
                api_version: e
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                time: e.get("time").and_then(Value::as_str).map(str::to_string),
                subresource: e
                    .get("subresource")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                set: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
            })
        })
        .collect()
}

pub(crate) fn encode_entries(mut entries: Vec<Entry>) -> Value {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|a, b| {
        (a.operation.as_str(), a.time.as_deref(), a.manager.as_str()).cmp(&(
            b.operation.as_str(),
            b.time.as_deref(),
            b.manager.as_str(),
        ))
    });
    Value::Array(
        entries
            .into_iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("manager".into(), json!(e.manager));
                m.insert("operation".into(), json!(e.operation));
                m.insert("apiVersion".into(), json!(e.api_version));
                if let Some(t) = e.time {
                    m.insert("time".into(), json!(t));
                }
                m.insert("fieldsType".into(), json!("FieldsV1"));
                m.insert("fieldsV1".into(), to_fields_v1(&e.set));
                if let Some(s) = e.subresource {
                    m.insert("subresource".into(), json!(s));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// Records an Update by `manager`: it takes every field it changed, from whoever owned it.
pub(crate) fn record_update(
    entries: &mut Vec<Entry>,
    old: &Value,
    new: &Value,
    manager: &str,
    api_version: &str,
    now: &str,
    ctx: Ctx,
) {
    let (changed, removed) = changes(old, new, ctx);
    if changed.is_empty() && removed.is_empty() {
        return;
    }
    for e in entries.iter_mut() {
        e.set = e
            .set
            .difference(&changed)
            .filter(|p| !removed.contains(*p))
            .cloned()
            .collect();
    }
    let idx = match entries
        .iter()
        .position(|e| e.same_identity(manager, "Update", api_version))
    {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                time: None,
                subresource: None,
                set: Set::new(),
            });
            entries.len() - 1
        }
    };
    let e = &mut entries[idx];
    e.set.extend(changed);
    e.time = Some(now.to_string());
}

/// A field that another manager owns with a different value.
pub(crate) struct Conflict {
    pub manager: String,
    pub path: String,
}

/// Server-side apply of `cfg` (already stripped of nulls) onto `live` (`{}`-like skeleton when
/// absent) by `manager`. Returns the merged object (without defaults) and the new entries, or
/// the conflicts.
pub(crate) fn apply(
    live: &Value,
    cfg: &Value,
    manager: &str,
    force: bool,
    now: &str,
    ctx: Ctx,
) -> Result<(Value, Vec<Entry>), Vec<Conflict>> {
    let mut entries = parse_entries(live);
    let cfg_set = field_set(cfg, ctx);
    let mut merged = live.clone();
    merge_apply(&mut merged, cfg, "", &Vec::new(), ctx);

    let mine = entries
        .iter()
        .position(|e| e.same_identity(manager, "Apply", ""));
    let last_set = mine.map(|i| entries[i].set.clone()).unwrap_or_default();
    let mut owned_by_others = Set::new();
    for (i, e) in entries.iter().enumerate() {
        if Some(i) != mine {
            owned_by_others.extend(e.set.iter().cloned());
        }
    }
    let still_owned: Set = owned_by_others.union(&cfg_set).cloned().collect();
    let mut to_remove: Vec<&Path> = last_set.difference(&still_owned).collect();
    to_remove.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in to_remove {
        if !has_descendant(&still_owned, p) {
            remove_at(&mut merged, p);
        }
    }

    let (changed, _) = changes(live, &merged, ctx);
    let mut conflicts = Vec::new();
    for (i, e) in entries.iter_mut().enumerate() {
        if Some(i) == mine {
            continue;
        }
        let clash: Set = e
            .set
            .intersection(&changed)
            .filter(|p| cfg_set.contains(*p))
            .cloned()
            .collect();
        if clash.is_empty() {
            continue;
        }
        if force {
            e.set = e.set.difference(&clash).cloned().collect();
        } else {
            let who = e.describe();
            conflicts.extend(clash.iter().map(|p| Conflict {
                manager: who.clone(),
                path: display_path(p),
            }));
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts);
    }
    let api_version = cfg
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let entry = Entry {
        manager: manager.to_string(),
        operation: "Apply".into(),
        api_version,
        time: Some(now.to_string()),
        subresource: None,
        set: cfg_set,
    };
    match mine {
        Some(i) => entries[i] = entry,
        None => entries.push(entry),
    }
    Ok((merged, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: Ctx = Ctx {
        custom: false,
        has_status: true,
    };

    #[test]
    fn fields_v1_round_trip() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "labels": {"app": "x"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}},
                "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
        });
        let set = field_set(&obj, CTX);
        let v1 = to_fields_v1(&set);
        assert_eq!(v1["f:metadata"]["f:labels"]["."], json!({}));
        assert_eq!(v1["f:spec"]["f:selector"], json!({}));
        assert_eq!(
            v1["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]["."],
            json!({})
        );
        assert_eq!(from_fields_v1(&v1), set);
        let p: Path = vec![
            "f:spec".into(),
            "f:template".into(),
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"c\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(
            display_path(&p),
            ".spec.template.spec.containers[name=\"c\"].image"
        );
        assert_eq!(value_at(&obj, &p), Some(&json!("i")));
    }
}
