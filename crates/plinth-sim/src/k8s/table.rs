//! List filtering (label and field selectors) and the `meta.k8s.io/v1` Table that
//! `kubectl get` asks for.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::answer::ApiError;
use super::resources::Res;

/// One requirement of a label selector.
enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

/// Splits at commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_selector(s: &str) -> Result<Vec<Req>, ApiError> {
    let bad = || {
        ApiError::bad_request(&format!(
            "unable to parse requirement: invalid label selector {s:?}"
        ))
    };
    let mut reqs = Vec::new();
    for part in split_top(s) {
        let set = |v: &str| -> Vec<String> {
            v.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .map(|x| x.trim().to_string())
                .collect()
        };
        let req = if let Some((k, v)) = part.split_once(" notin ") {
            Req::NotIn(k.trim().into(), set(v))
        } else if let Some((k, v)) = part.split_once(" in ") {
            Req::In(k.trim().into(), set(v))
        } else if let Some((k, v)) = part.split_once("!=") {
            Req::Ne(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = part.split_once("==") {
            Req::Eq(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = part.split_once('=') {
            Req::Eq(k.trim().into(), v.trim().into())
        } else if let Some(k) = part.strip_prefix('!') {
            Req::Absent(k.trim().into())
        } else if part.contains(' ') {
            return Err(bad());
        } else {
            Req::Exists(part.into())
        };
        reqs.push(req);
    }
    Ok(reqs)
}

fn matches(reqs: &[Req], get: impl Fn(&str) -> Option<String>) -> bool {
    reqs.iter().all(|r| match r {
        Req::Eq(k, v) => get(k).as_deref() == Some(v),
        Req::Ne(k, v) => get(k).as_deref() != Some(v),
        Req::In(k, vs) => get(k).is_some_and(|x| vs.contains(&x)),
        Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(&x)),
        Req::Exists(k) => get(k).is_some(),
        Req::Absent(k) => get(k).is_none(),
    })
}

/// Whether `obj`'s labels satisfy the label selector `sel` (`app=x,tier in (a,b)`).
pub(crate) fn selects(sel: &str, obj: &Value) -> Result<bool, ApiError> {
    let reqs = parse_selector(sel)?;
    Ok(matches(&reqs, |k| {
        obj.pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    }))
}

/// Keeps the items matching `labelSelector` and `fieldSelector` (metadata.name and
/// metadata.namespace).
pub(crate) fn filter(items: &mut Vec<Value>, query: &super::query::Query) -> Result<(), ApiError> {
    if let Some(sel) = query.get("labelSelector").filter(|s| !s.is_empty()) {
        let reqs = parse_selector(sel)?;
        items.retain(|o| {
            matches(&reqs, |k| {
                o.pointer("/metadata/labels")
                    .and_then(|l| l.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        });
    }
    if let Some(sel) = query.get("fieldSelector").filter(|s| !s.is_empty()) {
        let reqs = parse_selector(sel)?;
        for r in &reqs {
            let key = match r {
                Req::Eq(k, _) | Req::Ne(k, _) => k,
                _ => {
                    return Err(ApiError::bad_request(&format!(
                        "invalid field selector {sel:?}"
                    )));
                }
            };
            if key.is_empty() {
                return Err(ApiError::bad_request(&format!(
                    "invalid field selector {sel:?}"
                )));
            }
        }
        items.retain(|o| {
            matches(&reqs, |k| {
                let ptr = format!("/{}", k.replace('.', "/"));
                o.pointer(&ptr).and_then(Value::as_str).map(str::to_string)
            })
        });
    }
    Ok(())
}

/// kubectl's short durations: `45s`, `5m3s`, `3h`, `2d4h`, `40d`, `2y`.
pub(crate) fn human_duration(secs: u64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        if secs.is_multiple_of(60) {
            format!("{m}m")
        } else {
            format!("{m}m{}s", secs % 60)
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        if m.is_multiple_of(60) {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 192 {
        if h.is_multiple_of(24) {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else {
        format!("{}y", d / 365)
    }
}

fn age(o: &Value) -> String {
    let Some(created) = o
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
    else {
        return "<unknown>".into();
    };
    match humantime::parse_rfc3339(created) {
        Ok(t) => human_duration(
            SystemTime::now()
                .duration_since(t)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        ),
        Err(_) => "<unknown>".into(),
    }
}

fn col(name: &str, ty: &str, format: &str, description: &str) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": 0})
}

fn count(o: &Value, ptr: &str) -> i64 {
    o.pointer(ptr).map_or(0, |v| match v {
        Value::Object(m) => m.len() as i64,
        Value::Array(a) => a.len() as i64,
        _ => 0,
    })
}

fn int(o: &Value, ptr: &str) -> i64 {
    o.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// The columns and cells kubectl shows for each type.
fn columns(r: &Res) -> Vec<Value> {
    let name = col(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace.",
    );
    let age = col(
        "Age",
        "string",
        "",
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    if r.plural == "events" {
        let mut name = name;
        name["priority"] = json!(1);
        return vec![
            col(
                "Last Seen",
                "string",
                "",
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            col(
                "Type",
                "string",
                "",
                "Type of this event (Normal, Warning).",
            ),
            col(
                "Reason",
                "string",
                "",
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            col(
                "Object",
                "string",
                "",
                "The object that this event is about.",
            ),
            col(
                "Message",
                "string",
                "",
                "A human-readable description of the status of this operation.",
            ),
            name,
        ];
    }
    let mut cols = vec![name];
    match (r.group, r.plural) {
        ("", "pods") => {
            cols.push(col("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic."));
            cols.push(col("Status", "string", "", "The aggregate status of the containers in this pod."));
            cols.push(col("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."));
            for (n, d) in [
                ("IP", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
                ("Node", "Name of the Node this pod is running on."),
            ] {
                let mut c = col(n, "string", "", d);
                c["priority"] = json!(1);
                cols.push(c);
            }
        }
        ("", "namespaces") => cols.push(col("Status", "string", "", "The status of the namespace")),
        ("", "serviceaccounts") => cols.push(col("Secrets", "string", "", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.")),
        ("", "configmaps") => cols.push(col("Data", "string", "", "Data contains the configuration data.")),
        ("", "secrets") => {
            cols.push(col("Type", "string", "", "The type of secret"));
            cols.push(col("Data", "string", "", "Data contains the secret data."));
        }
        ("apps", "deployments") => {
            cols.push(col("Ready", "string", "", "Number of the pod with ready state"));
            cols.push(col("Up-to-date", "string", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."));
            cols.push(col("Available", "string", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."));
            for (n, d) in [
                ("Containers", "Names of each container in the template."),
                ("Images", "Images referenced by each container in the template."),
                ("Selector", "Label selector for pods."),
            ] {
                let mut c = col(n, "string", "", d);
                c["priority"] = json!(1);
                cols.push(c);
            }
        }
        ("apps", "replicasets") => {
            cols.push(col("Desired", "integer", "", "Number of desired pods."));
            cols.push(col("Current", "integer", "", "Number of actual pods."));
            cols.push(col("Ready", "integer", "", "Number of ready pods."));
        }
        ("batch", "jobs") => {
            cols.push(col("Status", "string", "", "Status of the job."));
            cols.push(col("Completions", "string", "", "The desired number of successfully finished pods the job should be run with."));
            cols.push(col("Duration", "string", "", "Time required to complete the job."));
        }
        _ => {}
    }
    // Age comes last among the default columns, before the `-o wide` ones.
    let at = cols.iter().take_while(|c| c["priority"] == 0).count();
    cols.insert(at, age);
    cols
}

fn cells(r: &Res, o: &Value) -> Vec<Value> {
    let name = o.pointer("/metadata/name").cloned().unwrap_or_default();
    if r.plural == "events" {
        let str_at = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let last = humantime::parse_rfc3339(str_at("/lastTimestamp"))
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .map_or("<unknown>".to_string(), |d| human_duration(d.as_secs()));
        return vec![
            json!(last),
            json!(str_at("/type")),
            json!(str_at("/reason")),
            json!(format!(
                "{}/{}",
                str_at("/involvedObject/kind").to_ascii_lowercase(),
                str_at("/involvedObject/name")
            )),
            json!(str_at("/message")),
            name,
        ];
    }
    let mut c = vec![name];
    match (r.group, r.plural) {
        ("", "pods") => {
            let statuses = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ready = statuses.iter().filter(|s| s["ready"] == true).count();
            let total = count(o, "/spec/containers");
            c.push(json!(format!("{ready}/{total}")));
            let phase = o
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Pending");
            let reason = statuses
                .iter()
                .find_map(|s| {
                    s.pointer("/state/terminated/reason")
                        .and_then(Value::as_str)
                })
                .unwrap_or(phase);
            c.push(json!(reason));
            c.push(json!(
                statuses
                    .iter()
                    .map(|s| s["restartCount"].as_i64().unwrap_or(0))
                    .sum::<i64>()
            ));
            for ptr in ["/status/podIP", "/spec/nodeName"] {
                c.push(json!(
                    o.pointer(ptr).and_then(Value::as_str).unwrap_or("<none>")
                ));
            }
        }
        ("", "namespaces") => c.push(
            o.pointer("/status/phase")
                .cloned()
                .unwrap_or(json!("Active")),
        ),
        ("", "serviceaccounts") => c.push(json!(count(o, "/secrets"))),
        ("", "configmaps") => c.push(json!(count(o, "/data") + count(o, "/binaryData"))),
        ("", "secrets") => {
            c.push(o.get("type").cloned().unwrap_or(json!("Opaque")));
            c.push(json!(count(o, "/data")));
        }
        ("apps", "replicasets") => {
            c.push(json!(int(o, "/spec/replicas")));
            c.push(json!(int(o, "/status/replicas")));
            c.push(json!(int(o, "/status/readyReplicas")));
        }
        ("apps", "deployments") => {
            c.push(json!(format!(
                "{}/{}",
                int(o, "/status/readyReplicas"),
                int(o, "/spec/replicas")
            )));
            c.push(json!(int(o, "/status/updatedReplicas")));
            c.push(json!(int(o, "/status/availableReplicas")));
            let containers = o
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array);
            let pick = |k: &str| -> String {
                containers
                    .map(|cs| {
                        cs.iter()
                            .filter_map(|c| c.get(k).and_then(Value::as_str))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
            };
            c.push(json!(pick("name")));
            c.push(json!(pick("image")));
            let selector: Vec<String> = o
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
            c.push(json!(selector.join(",")));
        }
        ("batch", "jobs") => {
            let failed = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Failed" && c["status"] == "True")
                });
            let done = int(o, "/status/succeeded") >= int(o, "/spec/completions");
            c.push(json!(if failed {
                "Failed"
            } else if done {
                "Complete"
            } else {
                "Running"
            }));
            c.push(json!(format!(
                "{}/{}",
                int(o, "/status/succeeded"),
                int(o, "/spec/completions")
            )));
            c.push(json!("0s"));
        }
        _ => {}
    }
    let at = if r.plural == "deployments" {
        c.len() - 3
    } else if r.group.is_empty() && r.plural == "pods" {
        c.len() - 2
    } else {
        c.len()
    };
    c.insert(at, json!(age(o)));
    c
}

/// A `meta.k8s.io/v1` Table of `items`.
pub(crate) fn table(r: &Res, items: &[Value], rv: &str, include_object: Option<&str>) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let object = match include_object.unwrap_or("Metadata") {
                "None" => Value::Null,
                "Object" => o.clone(),
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata").cloned().unwrap_or_default(),
                }),
            };
            json!({"cells": cells(r, o), "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns(r),
        "rows": rows,
    })
}
