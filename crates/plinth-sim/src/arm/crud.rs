//! The generic request paths for one resource: GET, PUT, PATCH, DELETE and POST actions,
//! the resource group and parent checks around them, and settling finished operations. What
//! differs between types comes from the `types` table ([`super::types::behaviour`]).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::answer::{answered_at, empty, error, json_response, with_headers};
use super::context::Ctx;
use super::id::{IdInfo, key, parse_id};
use super::store::{ArmWorld, Resource, remove_cascade};
use super::types::{self, Delete, RESOURCE_GROUP as RG};
use super::validate;
use super::write::{merge, norm_location, start_delete};

/// The 404 for a missing resource, in its type's words.
pub(super) fn not_found(info: &IdInfo) -> Response {
    (types::behaviour(&info.rtype).not_found)(info)
}

pub(super) fn rg_key(info: &IdInfo) -> Option<String> {
    Some(key(&format!(
        "/subscriptions/{}/resourceGroups/{}",
        info.subscription.as_ref()?,
        info.resource_group.as_ref()?
    )))
}

/// Resource group and parent checks for a write under `info`.
pub(super) fn check_parents(world: &ArmWorld<'_>, info: &IdInfo) -> Result<(), Response> {
    if !info.type_is(RG)
        && let Some(rgk) = rg_key(info)
    {
        match world.arm.resources.get(&rgk) {
            None => {
                return Err(error(
                    StatusCode::NOT_FOUND,
                    "ResourceGroupNotFound",
                    format!(
                        "Resource group '{}' could not be found.",
                        info.resource_group.clone().unwrap_or_default()
                    ),
                ));
            }
            Some(r) if r.deleting_until_ms.is_some() => {
                return Err(error(
                    StatusCode::CONFLICT,
                    "ResourceGroupBeingDeleted",
                    format!(
                        "The resource group '{}' is in deprovisioning state and cannot perform this operation.",
                        info.resource_group.clone().unwrap_or_default()
                    ),
                ));
            }
            _ => {}
        }
    }
    if let Some(parent) = &info.parent
        && *parent != info.scope
        && !world.arm.resources.contains_key(&key(parent))
    {
        let pname = parent.rsplit('/').next().unwrap_or_default();
        return Err(error(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "Can not perform requested operation on nested resource. Parent resource '{pname}' not found."
            ),
        ));
    }
    // Extension resources (role assignments) on a resource: that resource must exist.
    if let Some(scope_info) = parse_id(&info.scope)
        && !scope_info.type_is(RG)
        && !world.arm.resources.contains_key(&key(&info.scope))
    {
        return Err(not_found(&scope_info));
    }
    Ok(())
}

pub(super) fn get(world: &ArmWorld<'_>, info: &IdInfo) -> Response {
    match world.arm.resources.get(&key(&info.id)) {
        Some(r) => json_response(StatusCode::OK, &r.body),
        None => {
            if !info.type_is(RG)
                && let Some(rgk) = rg_key(info)
                && !world.arm.resources.contains_key(&rgk)
            {
                return error(
                    StatusCode::NOT_FOUND,
                    "ResourceGroupNotFound",
                    format!(
                        "Resource group '{}' could not be found.",
                        info.resource_group.clone().unwrap_or_default()
                    ),
                );
            }
            not_found(info)
        }
    }
}

fn parse_body(body: &[u8]) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: expected an object.",
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )),
    }
}

pub(super) fn put(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
    body: &[u8],
) -> (Response, bool) {
    let input = match parse_body(body) {
        Ok(v) => v,
        Err(resp) => return (resp, false),
    };
    if let Err(resp) = check_parents(world, info) {
        return (resp, false);
    }
    let k = key(&info.id);
    let existing = world.arm.resources.get(&k).cloned();
    if let Err(resp) = validate::put_body(info, &input, existing.is_none()) {
        return (resp, false);
    }
    if let Some(ex) = &existing {
        if ex.deleting_until_ms.is_some() {
            return (
                error(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!(
                        "The resource '{}' is being deleted and cannot be updated.",
                        info.name
                    ),
                ),
                false,
            );
        }
        if let (Some(old), Some(new)) = (
            ex.body.get("location").and_then(Value::as_str),
            input.get("location").and_then(Value::as_str),
        ) && norm_location(old) != norm_location(new)
        {
            if info.type_is(RG) {
                return (
                    error(
                        StatusCode::CONFLICT,
                        "InvalidResourceGroupLocation",
                        format!(
                            "Invalid resource group location '{new}'. The Resource group already exists in location '{old}'."
                        ),
                    ),
                    false,
                );
            }
            let rg = info.resource_group.clone().unwrap_or_default();
            return (
                error(
                    StatusCode::BAD_REQUEST,
                    "InvalidResourceLocation",
                    format!(
                        "The resource '{}' already exists in location '{old}' in resource group '{rg}'. A resource with the same name cannot be created in location '{new}'. Please select a new resource name.",
                        info.name
                    ),
                ),
                false,
            );
        }
    }
    let behaviour = types::behaviour(&info.rtype);
    let result = (behaviour.put)(ctx, world, info, existing.as_ref(), &input);
    match result {
        Err(resp) => (resp, false),
        Ok(mut out) => {
            // Role assignments name who made them in their properties instead.
            if !info.type_is(types::ROLE_ASSIGNMENT) {
                let system_data =
                    ctx.system_data(existing.as_ref().and_then(|e| e.body.get("systemData")));
                out.resource.body["systemData"] = system_data.clone();
                if let Some(answer) = out.body.as_mut().filter(|b| b.get("id").is_some()) {
                    answer["systemData"] = system_data;
                }
            }
            let body = out.body.unwrap_or_else(|| out.resource.body.clone());
            let changed = existing.as_ref().is_none_or(|ex| {
                behaviour.tick_on_change
                    && ex.body.get("properties") != out.resource.body.get("properties")
            });
            if changed {
                *world.clock += 1;
                out.resource.tick = *world.clock;
            }
            world.arm.resources.insert(k, out.resource);
            (
                answered_at(
                    with_headers(json_response(out.status, &body), &out.headers),
                    out.answer_at,
                ),
                true,
            )
        }
    }
}

pub(super) fn patch(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
    body: &[u8],
) -> (Response, bool) {
    let input = match parse_body(body) {
        Ok(v) => v,
        Err(resp) => return (resp, false),
    };
    let k = key(&info.id);
    let Some(mut r) = world.arm.resources.get(&k).cloned() else {
        return (get(world, info), false);
    };
    if let Err(resp) = (types::behaviour(&info.rtype).before_patch)(ctx, &r) {
        return (resp, false);
    }
    if let (Some(old), Some(new)) = (
        r.body.get("location").and_then(Value::as_str),
        input.get("location").and_then(Value::as_str),
    ) && norm_location(old) != norm_location(new)
    {
        return (
            error(
                StatusCode::BAD_REQUEST,
                "InvalidResourceLocation",
                format!(
                    "The resource '{}' cannot be moved to location '{new}'.",
                    info.name
                ),
            ),
            false,
        );
    }
    let mut patch = input;
    if let Some(obj) = patch.as_object_mut() {
        obj.remove("id");
        obj.remove("name");
        obj.remove("type");
        obj.remove("systemData");
    }
    merge(&mut r.body, &patch);
    if !info.type_is(types::ROLE_ASSIGNMENT) {
        r.body["systemData"] = ctx.system_data(r.body.get("systemData"));
    }
    r.updated_ms = ctx.now;
    let body = r.body.clone();
    world.arm.resources.insert(k, r);
    (json_response(StatusCode::OK, &body), true)
}

pub(super) fn delete(ctx: &Ctx, world: &mut ArmWorld<'_>, info: &IdInfo) -> (Response, bool) {
    let behaviour = types::behaviour(&info.rtype);
    let k = key(&info.id);
    let Some(existing) = world.arm.resources.get(&k).cloned() else {
        if behaviour.delete_missing_is_404 {
            return (not_found(info), false);
        }
        return (empty(StatusCode::NO_CONTENT), false);
    };
    if existing.deleting_until_ms.is_some() {
        return (empty(StatusCode::ACCEPTED), false);
    }
    let mut answer_at = None;
    match behaviour.delete {
        Delete::Operation {
            realistic_secs,
            done_status,
            headers,
        } => {
            let op = start_delete(ctx, world, &existing, realistic_secs, done_status);
            let headers = headers(ctx, info, &existing, &op);
            return (with_headers(empty(StatusCode::ACCEPTED), &headers), true);
        }
        Delete::Guarded(check) => match check(ctx, world, info) {
            Ok(at) => answer_at = at,
            Err(resp) => return (resp, false),
        },
        Delete::Now | Delete::NowAnswering => {}
    }
    let removed = remove_cascade(world, &k);
    if matches!(behaviour.delete, Delete::NowAnswering) {
        let body = removed
            .first()
            .map(|r| r.body.clone())
            .unwrap_or(Value::Null);
        return (
            answered_at(json_response(StatusCode::OK, &body), answer_at),
            true,
        );
    }
    (answered_at(empty(StatusCode::OK), answer_at), true)
}

/// A POST action (`.../{resource}/{action}`) on an existing resource.
pub(super) fn action(ctx: &Ctx, world: &ArmWorld<'_>, resource_id: &str, name: &str) -> Response {
    let Some(info) = parse_id(resource_id) else {
        return error(StatusCode::NOT_FOUND, "NotFound", "Not found.");
    };
    let Some(r) = world.arm.resources.get(&key(resource_id)) else {
        return get(world, &info);
    };
    match types::behaviour(&info.rtype).action {
        Some(action) => action(ctx, world, &info, r, name),
        None => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The action '{name}' is not supported on '{}'.", info.rtype),
        ),
    }
}

/// Marks an operation's end state on a resource whose operation has finished.
fn finish(r: &mut Resource) {
    let rtype = r
        .body
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(props) = r.body.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    props.insert("provisioningState".into(), json!("Succeeded"));
    (types::behaviour(&rtype).finish)(props);
}

/// Returns whether anything changed.
pub fn settle(world: &mut ArmWorld<'_>, now: u64) -> bool {
    let mut changed = false;
    let mut gone: Vec<String> = Vec::new();
    for (key, r) in world.arm.resources.iter_mut() {
        if let Some(until) = r.deleting_until_ms {
            if until <= now {
                gone.push(key.clone());
            }
            continue;
        }
        if r.busy_until_ms != 0 && r.busy_until_ms <= now {
            r.busy_until_ms = 0;
            finish(r);
            changed = true;
        }
    }
    for key in gone {
        changed = true;
        remove_cascade(world, &key);
    }
    changed
}
