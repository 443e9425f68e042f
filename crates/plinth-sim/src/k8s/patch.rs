//! The non-apply patch formats: JSON merge patch (RFC 7386), strategic merge patch (lists
//! merged by the keys `fields` knows) and JSON patch (RFC 6902).

use serde_json::{Value, json};

use super::answer::ApiError;
use super::fields::{assoc_keys, item_key};

/// The non-apply patch formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchKind {
    Merge,
    Strategic,
    Json,
}

impl PatchKind {
    pub(crate) fn apply(self, target: &mut Value, patch: &Value) -> Result<(), ApiError> {
        match self {
            PatchKind::Merge | PatchKind::Strategic if !patch.is_object() => {
                Err(ApiError::bad_request("the patch must be a JSON object"))
            }
            PatchKind::Merge => {
                merge_patch(target, patch);
                Ok(())
            }
            PatchKind::Strategic => {
                strategic_merge(target, patch, "");
                Ok(())
            }
            PatchKind::Json => json_patch(target, patch).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    &format!("the server rejected our request due to an error in our request: {e}"),
                )
            }),
        }
    }
}

/// RFC 7386 JSON merge patch.
pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let t = target.as_object_mut().expect("object");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, c)| (k.clone(), strip_directives(c)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// Strategic merge patch: maps merge, lists with merge keys merge by key (`$patch: delete`
/// removes an item), other lists are replaced, `null` deletes, `$` directives are dropped.
fn strategic_merge(target: &mut Value, patch: &Value, key: &str) {
    match patch {
        Value::Object(p) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                *target = strip_directives(patch);
                return;
            }
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    t.remove(k);
                } else if let Some(tv) = t.get_mut(k) {
                    strategic_merge(tv, v, k);
                } else {
                    t.insert(k.clone(), strip_directives(v));
                }
            }
        }
        Value::Array(items) => match (assoc_keys(false, key), target.as_array_mut()) {
            (Some(keys), Some(t)) => {
                for item in items {
                    let k = item_key(item, keys);
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    let pos = t
                        .iter()
                        .position(|ti| k.is_some() && item_key(ti, keys) == k);
                    match (pos, delete) {
                        (Some(i), true) => {
                            t.remove(i);
                        }
                        (Some(i), false) => strategic_merge(&mut t[i], item, ""),
                        (None, true) => {}
                        (None, false) => t.push(strip_directives(item)),
                    }
                }
            }
            _ => *target = strip_directives(patch),
        },
        other => *target = other.clone(),
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Splits a JSON pointer into its parent's pointer and the last token.
fn split_pointer(path: &str) -> Result<(String, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("invalid path {path:?}"))?;
    Ok((parent.to_string(), unescape(last)))
}

fn pointer_mut<'a>(v: &'a mut Value, ptr: &str) -> Result<&'a mut Value, String> {
    v.pointer_mut(ptr)
        .ok_or_else(|| format!("doc is missing path: {ptr:?}"))
}

fn add_at(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match pointer_mut(doc, &parent)? {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>().map_err(|e| e.to_string())?
            };
            if i > a.len() {
                return Err(format!("index {i} out of bounds"));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("cannot add at {path:?}")),
    }
}

fn remove_pointer(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    match pointer_mut(doc, &parent)? {
        Value::Object(m) => m
            .remove(&last)
            .ok_or_else(|| format!("doc is missing path: {path:?}")),
        Value::Array(a) => {
            let i = last.parse::<usize>().map_err(|e| e.to_string())?;
            if i >= a.len() {
                return Err(format!("index {i} out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("doc is missing path: {path:?}")),
    }
}

/// RFC 6902 JSON patch.
fn json_patch(doc: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch
        .as_array()
        .ok_or("a JSON patch must be an array of operations")?;
    for op in ops {
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("operation without path")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("missing value for {path:?}"))
        };
        match op.get("op").and_then(Value::as_str).unwrap_or_default() {
            "add" => add_at(doc, path, value()?)?,
            "remove" => {
                remove_pointer(doc, path)?;
            }
            "replace" => {
                let v = value()?;
                *pointer_mut(doc, path)? = v;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path:?} failed"));
                }
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or("operation without from")?;
                let v = if op["op"] == "move" {
                    remove_pointer(doc, from)?
                } else {
                    doc.pointer(from)
                        .cloned()
                        .ok_or_else(|| format!("doc is missing path: {from:?}"))?
                };
                add_at(doc, path, v)?;
            }
            other => return Err(format!("unknown operation {other:?}")),
        }
    }
    Ok(())
}
