//! What every controller does to the cluster's objects, as a real controller does through the
//! API: typed lookups, status writes, events, generated names; and the few facts about
//! objects they share (a Job is finished, an object is owned by another).

use serde_json::{Value, json};
use sha2::Digest;

use super::super::cluster::{Cluster, object_key};
use super::super::resources::{self, Res};
use super::super::time::now;

/// A served resource type (KEDA's included).
pub(super) fn res(group: &str, plural: &str) -> &'static Res {
    let version = match group {
        "keda.sh" => "v1alpha1",
        _ => "v1",
    };
    resources::find(group, version, plural, true).expect("a served resource type")
}

pub(super) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

pub(super) fn finished(job: &Value) -> bool {
    job.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                matches!(s(c, "/type"), "Complete" | "Failed") && s(c, "/status") == "True"
            })
        })
}

pub(super) fn owned_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| s(r, "/uid") == uid))
}

/// A deterministic 5-character suffix as Kubernetes generates them (no vowels).
pub(super) fn suffix(seed: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    sha2::Sha256::digest(seed.as_bytes())
        .iter()
        .take(5)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

pub(super) fn next_serial(c: &mut Cluster) -> u64 {
    c.runtime.serial += 1;
    c.runtime.serial
}

/// Stores `obj` as is (a controller's write), with a new resourceVersion.
pub(super) fn store_raw(c: &mut Cluster, r: &Res, ns: Option<&str>, name: &str, mut obj: Value) {
    let rv = c.next_rv();
    obj["metadata"]["resourceVersion"] = json!(rv);
    c.objects
        .entry(r.qualified())
        .or_default()
        .insert(object_key(ns, name), obj);
}

/// Writes an object's status (as its controller does through the status subresource).
pub(super) fn write_status(
    c: &mut Cluster,
    r: &Res,
    ns: Option<&str>,
    name: &str,
    status: Value,
) -> bool {
    let Some(mut obj) = c.get(r, ns, name).cloned() else {
        return false;
    };
    if obj.get("status") == Some(&status) {
        return false;
    }
    obj["status"] = status;
    store_raw(c, r, ns, name, obj);
    true
}

/// Records an event about `obj` (a repeat of the same reason and message counts up).
pub(super) fn event(
    c: &mut Cluster,
    obj: &Value,
    kind: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ev = res("", "events");
    let ns = Some(s(obj, "/metadata/namespace"))
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_string();
    let uid = s(obj, "/metadata/uid").to_string();
    let t = json!(now());
    let existing = c
        .list(ev, Some(&ns))
        .into_iter()
        .find(|e| {
            s(e, "/involvedObject/uid") == uid
                && s(e, "/reason") == reason
                && s(e, "/message") == message
        })
        .cloned();
    if let Some(mut e) = existing {
        let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
        e["count"] = json!(count + 1);
        e["lastTimestamp"] = t;
        let name = s(&e, "/metadata/name").to_string();
        store_raw(c, ev, Some(&ns), &name, e);
        return;
    }
    // Kubernetes names events `<object>.<hex of a timestamp>`: increasing, as this counter.
    let serial = next_serial(c);
    let name = format!(
        "{}.{:016x}",
        s(obj, "/metadata/name"),
        (1u64 << 60) + serial
    );
    let body = json!({
        "metadata": {"name": name},
        "involvedObject": {
            "kind": s(obj, "/kind"), "namespace": ns, "name": s(obj, "/metadata/name"),
            "uid": uid, "apiVersion": s(obj, "/apiVersion"),
            "resourceVersion": s(obj, "/metadata/resourceVersion"),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": t.clone(),
        "lastTimestamp": t,
        "count": 1,
        "type": kind,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": "",
    });
    if let Err(e) = c.create(ev, Some(&ns), body, component, false) {
        tracing::warn!("recording event {reason}: {}", e.message);
    }
}
