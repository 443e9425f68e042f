//! Building blocks of an ARM write, shared by every resource type: the stored body and
//! record, the answer to a PUT, location rules, deletes that run as long-running operations,
//! and RFC 7386 merge patches.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::answer::error;
use super::context::Ctx;
use super::id::{IdInfo, key};
use super::operations::new_operation;
use super::store::{ArmWorld, Resource};

/// The result of a write.
pub(super) struct Outcome {
    pub status: StatusCode,
    pub resource: Resource,
    pub headers: Vec<(&'static str, String)>,
    /// Body to answer with (default: the resource's body).
    pub body: Option<Value>,
    /// When the answer is sent, for a synchronous write that takes a moment (see
    /// [`super::answer::AnswerAt`]); `None`: at once.
    pub answer_at: Option<u64>,
}

pub(super) fn norm_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// RFC 7386 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// `{id, name, type, location?, tags?}` from the input, with the creation-time id casing.
/// `display_type` is how the type reads in bodies (ARM's casing, which differs for some types).
pub(super) fn base_body(
    info: &IdInfo,
    display_type: &str,
    existing: Option<&Resource>,
    input: &Value,
) -> Value {
    let id = existing
        .map(|r| r.id.clone())
        .unwrap_or_else(|| info.id.clone());
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert(
        "name".into(),
        json!(
            existing
                .and_then(|r| r.body.get("name").cloned())
                .unwrap_or(json!(info.name))
        ),
    );
    out.insert("type".into(), json!(display_type));
    if let Some(obj) = input.as_object() {
        for (k, v) in obj {
            if !matches!(k.as_str(), "id" | "name" | "type") {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if !out.contains_key("properties") {
        out.insert("properties".into(), json!({}));
    }
    Value::Object(out)
}

pub(super) fn new_resource(
    ctx: &Ctx,
    info: &IdInfo,
    existing: Option<&Resource>,
    body: Value,
) -> Resource {
    Resource {
        id: existing
            .map(|r| r.id.clone())
            .unwrap_or_else(|| info.id.clone()),
        body,
        created_ms: existing.map(|r| r.created_ms).unwrap_or(ctx.now),
        updated_ms: ctx.now,
        busy_until_ms: existing.map(|r| r.busy_until_ms).unwrap_or(0),
        deleting_until_ms: None,
        cluster_key: existing.and_then(|r| r.cluster_key.clone()),
        fic_write: existing.and_then(|r| r.fic_write.clone()),
        tick: existing.map(|r| r.tick).unwrap_or(0),
    }
}

pub(super) fn props(v: &mut Value) -> &mut Map<String, Value> {
    if !v.get("properties").is_some_and(Value::is_object) {
        v["properties"] = json!({});
    }
    v["properties"].as_object_mut().expect("object")
}

/// The answer to a synchronous PUT: 201 for a create, 200 for an update, with the stored
/// resource as the body.
pub(super) fn put_answer(
    ctx: &Ctx,
    info: &IdInfo,
    existing: Option<&Resource>,
    body: Value,
) -> Outcome {
    Outcome {
        status: if existing.is_none() {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        resource: new_resource(ctx, info, existing, body),
        headers: vec![],
        body: None,
        answer_at: None,
    }
}

/// ARM's answer to a create without `location`.
pub(super) fn location_required() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "LocationRequired",
        "The location property is required for this definition.",
    )
}

/// A create (no existing resource) must name its location.
pub(super) fn require_location(existing: Option<&Resource>, input: &Value) -> Result<(), Response> {
    if existing.is_none() && input.get("location").and_then(Value::as_str).is_none() {
        return Err(location_required());
    }
    Ok(())
}

/// Starts deleting `existing` as a long-running operation that takes `realistic_secs` on
/// Azure (the resource reads `Deleting` until it disappears); returns the operation's id.
pub(super) fn start_delete(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    existing: &Resource,
    realistic_secs: u64,
    done_status: u16,
) -> String {
    let ms = ctx.op_ms(&world.arm.settings, realistic_secs);
    let op = new_operation(ctx, world.arm, &existing.id, "delete", ms, done_status);
    if let Some(r) = world.arm.resources.get_mut(&key(&existing.id)) {
        r.deleting_until_ms = Some(ctx.now + ms);
        props(&mut r.body).insert("provisioningState".into(), json!("Deleting"));
    }
    op
}
