//! Routing of ARM requests and per-type behaviour.

// Errors here are complete HTTP answers, built once per request.
#![allow(clippy::result_large_err)]

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::{
    Ctx, IdInfo, Operation, Path, Resource, Store, error, json_response, parse_id, rfc3339, roles,
};
use crate::World;

const RG: &str = "Microsoft.Resources/resourceGroups";
const AKS: &str = "Microsoft.ContainerService/managedClusters";
const SBNS: &str = "Microsoft.ServiceBus/namespaces";
const SBQ: &str = "Microsoft.ServiceBus/namespaces/queues";
const UAI: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
const FIC: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";
const RA: &str = "Microsoft.Authorization/roleAssignments";

/// The result of a write.
struct Outcome {
    status: StatusCode,
    resource: Resource,
    headers: Vec<(&'static str, String)>,
    /// Body to answer with (default: the resource's body).
    body: Option<Value>,
}

fn key(id: &str) -> String {
    id.to_ascii_lowercase()
}

fn norm_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn with_headers(mut resp: Response, headers: &[(&'static str, String)]) -> Response {
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            resp.headers_mut().insert(*k, v);
        }
    }
    resp
}

fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// Marks an operation's end state on a resource whose operation has finished.
pub(crate) fn finish(r: &mut Resource) {
    let t = r
        .body
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let Some(props) = r.body.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    props.insert("provisioningState".into(), json!("Succeeded"));
    if t == SBNS.to_ascii_lowercase() {
        props.insert("status".into(), json!("Active"));
    }
    if let Some(pools) = props
        .get_mut("agentPoolProfiles")
        .and_then(Value::as_array_mut)
    {
        for p in pools {
            if let Some(p) = p.as_object_mut() {
                p.insert("provisioningState".into(), json!("Succeeded"));
            }
        }
    }
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

fn not_found(info: &IdInfo) -> Response {
    if info.type_is(RG) {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{}' could not be found.", info.name),
        );
    }
    if info.type_is(RA) {
        return error(
            StatusCode::NOT_FOUND,
            "RoleAssignmentNotFound",
            format!("The role assignment '{}' is not found.", info.name),
        );
    }
    let rg = info.resource_group.clone().unwrap_or_default();
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{}/{}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            info.rtype, info.name
        ),
    )
}

fn rg_key(info: &IdInfo) -> Option<String> {
    Some(key(&format!(
        "/subscriptions/{}/resourceGroups/{}",
        info.subscription.as_ref()?,
        info.resource_group.as_ref()?
    )))
}

/// Resource group and parent checks for a write under `info`.
fn check_parents(world: &World, info: &IdInfo) -> Result<(), Response> {
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

/// Routes one ARM request. Returns the answer and whether the world changed.
pub(crate) fn dispatch(
    ctx: &Ctx,
    world: &mut World,
    method: &Method,
    path: &Path,
    body: &[u8],
) -> (Response, bool) {
    let s = &path.segs;
    let n = s.len();
    // Long-running operation polls.
    if n >= 2 && (path.seg_is(n - 2, "operations") || path.seg_is(n - 2, "operationresults")) {
        let op_key = key(&s[n - 1]);
        if let Some(op) = world.arm.operations.get(&op_key).cloned() {
            return (poll(ctx, &op, path.seg_is(n - 2, "operations"), s), false);
        }
    }
    if n == 2 && path.seg_is(0, "subscriptions") && *method == Method::GET {
        let sub = &s[1];
        let body = json!({"id": format!("/subscriptions/{sub}"), "authorizationSource": "RoleBased", "subscriptionId": sub,
            "tenantId": ctx.tenant, "displayName": "Plinth simulated subscription", "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}});
        return (json_response(StatusCode::OK, &body), false);
    }
    if n == 3 && path.seg_is(0, "subscriptions") && path.seg_is(2, "resourcegroups") {
        if *method != Method::GET {
            return (method_not_allowed(), false);
        }
        let sub = key(&s[1]);
        let items: Vec<Value> = world
            .arm
            .resources
            .values()
            .filter(|r| {
                parse_id(&r.id).is_some_and(|i| {
                    i.type_is(RG) && i.subscription.as_deref().map(key) == Some(sub.clone())
                })
            })
            .map(|r| r.body.clone())
            .collect();
        return (page(ctx, world, &Path::join(s), items), false);
    }
    if n == 5
        && path.seg_is(0, "subscriptions")
        && path.seg_is(2, "resourcegroups")
        && path.seg_is(4, "resources")
    {
        if *method != Method::GET {
            return (method_not_allowed(), false);
        }
        let rgk = key(&Path::join(&s[..4]));
        if !world.arm.resources.contains_key(&rgk) {
            return (
                error(
                    StatusCode::NOT_FOUND,
                    "ResourceGroupNotFound",
                    format!("Resource group '{}' could not be found.", s[3]),
                ),
                false,
            );
        }
        let prefix = format!("{rgk}/providers/");
        let items: Vec<Value> = world
            .arm
            .resources
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) && k[prefix.len()..].split('/').count() == 3)
            .map(|(_, r)| summary(&r.body))
            .collect();
        return (page(ctx, world, &Path::join(s), items), false);
    }
    if let Some(i) = path.last_providers()
        && path.seg_is(i + 1, "Microsoft.Authorization")
        && path.seg_is(i + 2, "roleDefinitions")
    {
        return (role_definitions(ctx, world, path, i), false);
    }
    let full = Path::join(s);
    if let Some(info) = parse_id(&full) {
        return match *method {
            Method::HEAD if info.type_is(RG) => {
                let exists = world.arm.resources.contains_key(&key(&info.id));
                (
                    empty(if exists {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::NOT_FOUND
                    }),
                    false,
                )
            }
            Method::GET | Method::HEAD => (get(world, &info), false),
            Method::PUT => put(ctx, world, &info, body),
            Method::PATCH => patch(ctx, world, &info, body),
            Method::DELETE => delete(ctx, world, &info),
            _ => (method_not_allowed(), false),
        };
    }
    if let Some(i) = path.last_providers() {
        let rest = n - i - 1;
        if rest >= 2 && rest.is_multiple_of(2) {
            if *method == Method::GET {
                return (list_collection(ctx, world, path, i), false);
            }
            if *method == Method::POST && rest >= 4 {
                return (
                    action(ctx, world, &Path::join(&s[..n - 1]), &s[n - 1]),
                    false,
                );
            }
        }
    }
    (
        error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No HTTP resource was found that matches the request URI '{full}'."),
        ),
        false,
    )
}

fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The requested resource does not support this http method.",
    )
}

fn summary(body: &Value) -> Value {
    let mut out = Map::new();
    for k in [
        "id",
        "name",
        "type",
        "sku",
        "kind",
        "location",
        "identity",
        "managedBy",
        "tags",
    ] {
        if let Some(v) = body.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn encode_query_value(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of a list, with `nextLink` when more follow.
fn page(ctx: &Ctx, world: &World, path: &str, items: Vec<Value>) -> Response {
    let size = world.arm.settings.page_size.unwrap_or(100).max(1);
    let skip: usize = ctx
        .query
        .get("$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let value: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
    let mut body = json!({"value": value});
    if skip + size < items.len() {
        let mut link = format!(
            "{}{path}?api-version={}",
            ctx.shared.base_url,
            encode_query_value(&ctx.api_version)
        );
        if let Some(f) = ctx.query.get("$filter") {
            link.push_str(&format!("&%24filter={}", encode_query_value(f)));
        }
        link.push_str(&format!("&%24skiptoken={}", skip + size));
        body["nextLink"] = json!(link);
    }
    json_response(StatusCode::OK, &body)
}

/// The value of `field eq 'value'` in a `$filter`.
fn filter_value(filter: &str, field: &str) -> Option<String> {
    let lower = filter.to_ascii_lowercase();
    let at = lower.find(&format!("{} eq ", field.to_ascii_lowercase()))?;
    let rest = &filter[at + field.len() + 4..];
    let rest = rest.trim_start().strip_prefix('\'')?;
    Some(rest[..rest.find('\'')?].to_string())
}

fn role_definitions(ctx: &Ctx, world: &World, path: &Path, i: usize) -> Response {
    let scope = Path::join(&path.segs[..i]);
    match path.segs.len() - i - 1 {
        2 => {
            let filter = ctx.query.get("$filter").cloned().unwrap_or_default();
            let items: Vec<Value> = match filter_value(&filter, "roleName") {
                Some(name) => roles::by_name(&name)
                    .map(|ix| roles::definition(&scope, ix))
                    .into_iter()
                    .collect(),
                None => (0..roles::BUILT_IN.len())
                    .map(|ix| roles::definition(&scope, ix))
                    .collect(),
            };
            page(ctx, world, &Path::join(&path.segs), items)
        }
        3 => match roles::by_guid(&path.segs[i + 3]) {
            Some(ix) => json_response(StatusCode::OK, &roles::definition(&scope, ix)),
            None => error(
                StatusCode::NOT_FOUND,
                "RoleDefinitionDoesNotExist",
                format!(
                    "The specified role definition with ID '{}' does not exist.",
                    path.segs[i + 3]
                ),
            ),
        },
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No HTTP resource was found that matches the request URI.",
        ),
    }
}

fn list_collection(ctx: &Ctx, world: &World, path: &Path, i: usize) -> Response {
    let s = &path.segs;
    let n = s.len();
    let rest = n - i - 1;
    let full = Path::join(s);
    let (want_type, parent_key, prefix) = if rest == 2 {
        (
            format!("{}/{}", s[i + 1], s[i + 2]),
            None,
            key(&format!("{}/", Path::join(&s[..i]))),
        )
    } else {
        let parent = Path::join(&s[..n - 1]);
        let Some(pinfo) = parse_id(&parent) else {
            return error(StatusCode::NOT_FOUND, "NotFound", "Not found.");
        };
        if !world.arm.resources.contains_key(&key(&parent)) {
            if let Err(resp) = check_parents(world, &pinfo) {
                return resp;
            }
            return not_found(&pinfo);
        }
        (
            format!("{}/{}", pinfo.rtype, s[n - 1]),
            Some(key(&parent)),
            key(&format!("{parent}/")),
        )
    };
    // A missing resource group answers 404 as ARM does.
    if path.seg_is(2, "resourcegroups")
        && n > 4
        && !world.arm.resources.contains_key(&key(&Path::join(&s[..4])))
    {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{}' could not be found.", s[3]),
        );
    }
    let principal = ctx
        .query
        .get("$filter")
        .and_then(|f| filter_value(f, "principalId"))
        .map(|p| p.to_ascii_lowercase());
    let items: Vec<Value> = world
        .arm
        .resources
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .filter_map(|(_, r)| Some((parse_id(&r.id)?, r)))
        .filter(|(info, _)| info.type_is(&want_type))
        .filter(|(info, _)| {
            parent_key
                .as_ref()
                .is_none_or(|p| info.parent.as_deref().map(key).as_ref() == Some(p))
        })
        .filter(|(_, r)| {
            principal.as_ref().is_none_or(|p| {
                r.body
                    .pointer("/properties/principalId")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .as_ref()
                    == Some(p)
            })
        })
        .map(|(_, r)| r.body.clone())
        .collect();
    page(ctx, world, &full, items)
}

fn poll(ctx: &Ctx, op: &Operation, async_op: bool, segs: &[String]) -> Response {
    let done = op.done_ms <= ctx.now;
    let url = format!(
        "{}{}?api-version={}",
        ctx.shared.base_url,
        Path::join(segs),
        ctx.api_version
    );
    if async_op {
        let mut body = json!({"id": Path::join(segs), "name": op.id, "status": if done { "Succeeded" } else { "InProgress" },
            "startTime": rfc3339(op.started_ms)});
        if done {
            body["endTime"] = json!(rfc3339(op.done_ms));
        }
        return json_response(StatusCode::OK, &body);
    }
    if done {
        return empty(StatusCode::from_u16(op.done_status).unwrap_or(StatusCode::OK));
    }
    with_headers(
        empty(StatusCode::ACCEPTED),
        &[("location", url), ("retry-after", "1".into())],
    )
}

fn get(world: &World, info: &IdInfo) -> Response {
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

fn display_type(info: &IdInfo) -> String {
    let t = info.rtype.to_ascii_lowercase();
    match t.as_str() {
        x if x == RG.to_ascii_lowercase() => RG.into(),
        x if x == AKS.to_ascii_lowercase() => "Microsoft.ContainerService/ManagedClusters".into(),
        x if x == SBNS.to_ascii_lowercase() => "Microsoft.ServiceBus/Namespaces".into(),
        x if x == SBQ.to_ascii_lowercase() => "Microsoft.ServiceBus/Namespaces/Queues".into(),
        x if x == UAI.to_ascii_lowercase() => UAI.into(),
        x if x == FIC.to_ascii_lowercase() => FIC.into(),
        x if x == RA.to_ascii_lowercase() => RA.into(),
        _ => info.rtype.clone(),
    }
}

/// `{id, name, type, location?, tags?}` from the input, with the creation-time id casing.
fn base_body(info: &IdInfo, existing: Option<&Resource>, input: &Value) -> Value {
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
    out.insert("type".into(), json!(display_type(info)));
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

fn new_resource(ctx: &Ctx, info: &IdInfo, existing: Option<&Resource>, body: Value) -> Resource {
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

fn props(v: &mut Value) -> &mut Map<String, Value> {
    if !v.get("properties").is_some_and(Value::is_object) {
        v["properties"] = json!({});
    }
    v["properties"].as_object_mut().expect("object")
}

fn put(ctx: &Ctx, world: &mut World, info: &IdInfo, body: &[u8]) -> (Response, bool) {
    let input = match parse_body(body) {
        Ok(v) => v,
        Err(resp) => return (resp, false),
    };
    if let Err(resp) = check_parents(world, info) {
        return (resp, false);
    }
    let k = key(&info.id);
    let existing = world.arm.resources.get(&k).cloned();
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
    let result = if info.type_is(RG) {
        put_rg(ctx, info, existing.as_ref(), &input)
    } else if info.type_is(AKS) {
        put_aks(ctx, world, info, existing.as_ref(), &input)
    } else if info.type_is(SBNS) {
        put_sb_namespace(ctx, world, info, existing.as_ref(), &input)
    } else if info.type_is(SBQ) {
        put_sb_queue(ctx, info, existing.as_ref(), &input)
    } else if info.type_is(UAI) {
        put_uai(ctx, world, info, existing.as_ref(), &input)
    } else if info.type_is(FIC) {
        put_fic(ctx, world, info, existing.as_ref(), &input)
    } else if info.type_is(RA) {
        put_role_assignment(ctx, world, info, existing.as_ref(), &input)
    } else {
        let mut b = base_body(info, existing.as_ref(), &input);
        props(&mut b)
            .entry("provisioningState")
            .or_insert(json!("Succeeded"));
        Ok(Outcome {
            status: if existing.is_some() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            },
            resource: new_resource(ctx, info, existing.as_ref(), b),
            headers: vec![],
            body: None,
        })
    };
    match result {
        Err(resp) => (resp, false),
        Ok(mut out) => {
            let body = out.body.unwrap_or_else(|| out.resource.body.clone());
            let changed = existing.as_ref().is_none_or(|ex| {
                info.type_is(FIC)
                    && ex.body.get("properties") != out.resource.body.get("properties")
            });
            if changed {
                world.clock += 1;
                out.resource.tick = world.clock;
            }
            world.arm.resources.insert(k, out.resource);
            (
                with_headers(json_response(out.status, &body), &out.headers),
                true,
            )
        }
    }
}

fn patch(ctx: &Ctx, world: &mut World, info: &IdInfo, body: &[u8]) -> (Response, bool) {
    let input = match parse_body(body) {
        Ok(v) => v,
        Err(resp) => return (resp, false),
    };
    let k = key(&info.id);
    let Some(mut r) = world.arm.resources.get(&k).cloned() else {
        return (get(world, info), false);
    };
    if info.type_is(AKS)
        && let Err(resp) = aks_not_busy(ctx, &r)
    {
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
    }
    merge(&mut r.body, &patch);
    r.updated_ms = ctx.now;
    let body = r.body.clone();
    world.arm.resources.insert(k, r);
    (json_response(StatusCode::OK, &body), true)
}

fn new_operation(
    ctx: &Ctx,
    store: &mut Store,
    resource_id: &str,
    kind: &str,
    ms: u64,
    done_status: u16,
) -> String {
    let id = ctx.guid(store, "operation");
    store.operations.insert(
        key(&id),
        Operation {
            id: id.clone(),
            resource_id: resource_id.to_string(),
            kind: kind.into(),
            started_ms: ctx.now,
            done_ms: ctx.now + ms,
            done_status,
        },
    );
    id
}

fn delete(ctx: &Ctx, world: &mut World, info: &IdInfo) -> (Response, bool) {
    let k = key(&info.id);
    let Some(existing) = world.arm.resources.get(&k).cloned() else {
        if info.type_is(RG) {
            return (not_found(info), false);
        }
        return (empty(StatusCode::NO_CONTENT), false);
    };
    let base = &ctx.shared.base_url;
    let sub = info.subscription.clone().unwrap_or_default();
    let location = existing
        .body
        .get("location")
        .and_then(Value::as_str)
        .map(norm_location)
        .unwrap_or_else(|| "eastus".into());
    if existing.deleting_until_ms.is_some() {
        return (empty(StatusCode::ACCEPTED), false);
    }
    let lro = |world: &mut World, realistic: u64, done_status: u16| {
        let ms = ctx.op_ms(&world.arm.settings, realistic);
        let op = new_operation(ctx, &mut world.arm, &existing.id, "delete", ms, done_status);
        if let Some(r) = world.arm.resources.get_mut(&k) {
            r.deleting_until_ms = Some(ctx.now + ms);
            props(&mut r.body).insert("provisioningState".into(), json!("Deleting"));
        }
        op
    };
    if info.type_is(RG) {
        let op = lro(world, 20, 200);
        let loc = format!(
            "{base}/subscriptions/{sub}/operationresults/{op}?api-version={}",
            ctx.api_version
        );
        return (
            with_headers(
                empty(StatusCode::ACCEPTED),
                &[("location", loc), ("retry-after", "15".into())],
            ),
            true,
        );
    }
    if info.type_is(AKS) {
        let op = lro(world, 180, 204);
        let async_url = format!(
            "{base}/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{location}/operations/{op}?api-version=2017-08-31"
        );
        let loc = format!(
            "{base}/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{location}/operationresults/{op}?api-version=2017-08-31"
        );
        return (
            with_headers(
                empty(StatusCode::ACCEPTED),
                &[("azure-asyncoperation", async_url), ("location", loc)],
            ),
            true,
        );
    }
    if info.type_is(SBNS) {
        let op = lro(world, 30, 200);
        let loc = format!(
            "{base}{}/operationresults/{op}?api-version={}",
            existing.id, ctx.api_version
        );
        return (
            with_headers(empty(StatusCode::ACCEPTED), &[("location", loc)]),
            true,
        );
    }
    if info.type_is(FIC) {
        let parent = key(info.parent.as_deref().unwrap_or_default());
        if let Err(resp) = fic_lock(ctx, world, &parent, &k) {
            return (resp, false);
        }
    }
    let removed = super::remove_cascade(world, &k);
    if info.type_is(RA) {
        let body = removed
            .first()
            .map(|r| r.body.clone())
            .unwrap_or(Value::Null);
        return (json_response(StatusCode::OK, &body), true);
    }
    (empty(StatusCode::OK), true)
}

fn put_rg(
    ctx: &Ctx,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    require_location(existing, input)?;
    let mut b = base_body(info, existing, input);
    if let Some(ex) = existing
        && b.get("location").is_none()
    {
        b["location"] = ex.body["location"].clone();
    }
    props(&mut b).insert("provisioningState".into(), json!("Succeeded"));
    Ok(Outcome {
        status: if existing.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        resource: new_resource(ctx, info, existing, b),
        headers: vec![],
        body: None,
    })
}

fn aks_not_busy(ctx: &Ctx, r: &Resource) -> Result<(), Response> {
    if r.busy_until_ms > ctx.now {
        let state = r
            .body
            .pointer("/properties/provisioningState")
            .and_then(Value::as_str)
            .unwrap_or("Updating");
        let what = if state == "Creating" {
            "create"
        } else {
            "update"
        };
        return Err(error(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            format!(
                "Operation is not allowed because there's an in progress {what} managed cluster operation. Please wait for it to finish before starting a new operation."
            ),
        ));
    }
    Ok(())
}

fn principal_of(world: &World, principal_id: &str) -> Option<(u64, &'static str)> {
    let pid = principal_id.to_ascii_lowercase();
    world.arm.resources.values().find_map(|r| {
        let uai = r
            .body
            .pointer("/properties/principalId")
            .and_then(Value::as_str);
        let sys = r
            .body
            .pointer("/identity/principalId")
            .and_then(Value::as_str);
        let kubelet = r
            .body
            .pointer("/properties/identityProfile/kubeletidentity/objectId")
            .and_then(Value::as_str);
        [uai, sys, kubelet]
            .into_iter()
            .flatten()
            .any(|p| p.eq_ignore_ascii_case(&pid))
            .then_some((r.created_ms, "ServicePrincipal"))
    })
}

fn put_aks(
    ctx: &Ctx,
    world: &mut World,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    if let Some(ex) = existing {
        aks_not_busy(ctx, ex)?;
    }
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    let old_prefix = existing
        .and_then(|r| r.body.pointer("/properties/dnsPrefix"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let new_prefix = in_props
        .get("dnsPrefix")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let (Some(old), Some(new)) = (&old_prefix, &new_prefix)
        && !old.eq_ignore_ascii_case(new)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "PropertyChangeNotAllowed",
            "Changing property 'dnsPrefix' is not allowed.",
        ));
    }
    let Some(location) = input
        .get("location")
        .and_then(Value::as_str)
        .map(norm_location)
    else {
        return Err(location_required());
    };
    let cluster_key = match existing.and_then(|r| r.cluster_key.clone()) {
        Some(k) => k,
        None => ctx.guid(&mut world.arm, "cluster"),
    };
    let sub = info.subscription.clone().unwrap_or_default();
    let rg = info.resource_group.clone().unwrap_or_default();
    let dns = new_prefix
        .or(old_prefix)
        .unwrap_or_else(|| format!("{}-{}-{}", info.name, rg, &sub[..sub.len().min(6)]));
    let creating = existing.is_none();
    let state = if creating { "Creating" } else { "Updating" };
    let mut b = base_body(info, existing, input);
    let hash = &cluster_key[..8];
    let version = in_props
        .get("kubernetesVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or("1.33.5")
        .to_string();
    let node_rg = in_props
        .get("nodeResourceGroup")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            existing
                .and_then(|r| r.body.pointer("/properties/nodeResourceGroup"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("MC_{rg}_{}_{location}", info.name));
    // Identity.
    let tenant = ctx.tenant.clone();
    let old_identity = existing.and_then(|r| r.body.get("identity")).cloned();
    if let Some(identity) = b.get_mut("identity").and_then(Value::as_object_mut) {
        let t = identity
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if t.contains("SystemAssigned") {
            let pid = old_identity
                .as_ref()
                .and_then(|i| i.get("principalId"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let pid = match pid {
                Some(p) => p,
                None => ctx.guid(&mut world.arm, "aks-principal"),
            };
            identity.insert("principalId".into(), json!(pid));
            identity.insert("tenantId".into(), json!(tenant));
        }
        if let Some(uais) = identity
            .get_mut("userAssignedIdentities")
            .and_then(Value::as_object_mut)
        {
            for (id, v) in uais.iter_mut() {
                let found = world
                    .arm
                    .resources
                    .get(&key(id))
                    .map(|r| r.body["properties"].clone());
                let (client, principal) = match found {
                    Some(p) => (p["clientId"].clone(), p["principalId"].clone()),
                    None => (
                        json!(
                            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, id.as_bytes())
                                .to_string()
                        ),
                        json!(
                            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, id.as_bytes())
                                .to_string()
                        ),
                    ),
                };
                *v = json!({"clientId": client, "principalId": principal});
            }
        }
    }
    if b.get("sku").is_none() {
        b["sku"] = json!({"name": "Base", "tier": "Free"});
    }
    let kubelet = match existing
        .and_then(|r| {
            r.body
                .pointer("/properties/identityProfile/kubeletidentity")
        })
        .cloned()
    {
        Some(k) => k,
        None => json!({
            "resourceId": format!("/subscriptions/{sub}/resourcegroups/{node_rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}-agentpool", info.name),
            "clientId": ctx.guid(&mut world.arm, "kubelet-client"),
            "objectId": ctx.guid(&mut world.arm, "kubelet-object"),
        }),
    };
    let base = ctx.shared.base_url.clone();
    let p = props(&mut b);
    p.insert("provisioningState".into(), json!(state));
    p.insert("powerState".into(), json!({"code": "Running"}));
    p.insert("kubernetesVersion".into(), json!(version));
    p.insert("currentKubernetesVersion".into(), json!(version));
    p.insert("dnsPrefix".into(), json!(dns));
    p.insert(
        "fqdn".into(),
        json!(format!("{dns}-{hash}.hcp.{location}.azmk8s.io")),
    );
    p.insert(
        "azurePortalFQDN".into(),
        json!(format!("{dns}-{hash}.portal.hcp.{location}.azmk8s.io")),
    );
    p.insert("nodeResourceGroup".into(), json!(node_rg));
    p.insert("maxAgentPools".into(), json!(100));
    p.entry("enableRBAC").or_insert(json!(true));
    p.entry("supportPlan")
        .or_insert(json!("KubernetesOfficial"));
    let pools = p.entry("agentPoolProfiles").or_insert(
        json!([{"name": "nodepool1", "count": 3, "vmSize": "Standard_DS2_v2", "mode": "System"}]),
    );
    if let Some(pools) = pools.as_array_mut() {
        for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
            pool.insert("provisioningState".into(), json!(state));
            pool.entry("count").or_insert(json!(3));
            pool.entry("vmSize").or_insert(json!("Standard_DS2_v2"));
            pool.entry("osType").or_insert(json!("Linux"));
            pool.entry("maxPods").or_insert(json!(110));
            pool.entry("type")
                .or_insert(json!("VirtualMachineScaleSets"));
            pool.entry("mode").or_insert(json!("System"));
            let ov = pool
                .get("orchestratorVersion")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .unwrap_or(&version)
                .to_string();
            pool.insert("orchestratorVersion".into(), json!(ov));
            pool.insert("currentOrchestratorVersion".into(), json!(ov));
            pool.insert(
                "nodeImageVersion".into(),
                json!("AKSUbuntu-2204gen2containerd-202510.03.0"),
            );
            pool.insert("powerState".into(), json!({"code": "Running"}));
        }
    }
    let net = p.entry("networkProfile").or_insert(json!({}));
    if let Some(net) = net.as_object_mut() {
        for (k, v) in [
            ("networkPlugin", json!("kubenet")),
            ("loadBalancerSku", json!("standard")),
            ("outboundType", json!("loadBalancer")),
            ("podCidr", json!("10.244.0.0/16")),
            ("serviceCidr", json!("10.0.0.0/16")),
            ("dnsServiceIP", json!("10.0.0.10")),
            ("ipFamilies", json!(["IPv4"])),
        ] {
            net.entry(k).or_insert(v);
        }
        let pod = net.get("podCidr").cloned().unwrap_or(Value::Null);
        let svc = net.get("serviceCidr").cloned().unwrap_or(Value::Null);
        net.entry("podCidrs").or_insert(json!([pod]));
        net.entry("serviceCidrs").or_insert(json!([svc]));
        if net
            .get("loadBalancerSku")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("standard"))
        {
            let lb = net.entry("loadBalancerProfile").or_insert(json!({}));
            if let Some(lb) = lb.as_object_mut() {
                lb.entry("managedOutboundIPs")
                    .or_insert(json!({"count": 1}));
                lb.entry("allocatedOutboundPorts").or_insert(json!(0));
                lb.entry("idleTimeoutInMinutes").or_insert(json!(30));
                lb.entry("backendPoolType")
                    .or_insert(json!("nodeIPConfiguration"));
                let count = lb
                    .get("managedOutboundIPs")
                    .and_then(|m| m.get("count"))
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                let ips: Vec<Value> = (0..count)
                    .map(|i| json!({"id": format!("/subscriptions/{sub}/resourceGroups/{node_rg}/providers/Microsoft.Network/publicIPAddresses/{}-outbound-{i}", &cluster_key[..8])}))
                    .collect();
                lb.insert("effectiveOutboundIPs".into(), json!(ips));
            }
        }
    }
    let oidc = in_props
        .pointer("/oidcIssuerProfile/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    p.insert(
        "oidcIssuerProfile".into(),
        if oidc {
            json!({"enabled": true, "issuerURL": format!("{base}/oidc/{cluster_key}/")})
        } else {
            json!({"enabled": false})
        },
    );
    p.insert(
        "identityProfile".into(),
        json!({"kubeletidentity": kubelet}),
    );
    let keda = in_props
        .pointer("/workloadAutoScalerProfile/keda/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let ms = ctx.op_ms(&world.arm.settings, if creating { 300 } else { 120 });
    let op = new_operation(
        ctx,
        &mut world.arm,
        &info.id,
        if creating { "create" } else { "update" },
        ms,
        200,
    );
    let mut resource = new_resource(ctx, info, existing, b);
    resource.busy_until_ms = ctx.now + ms;
    resource.cluster_key = Some(cluster_key.clone());
    match world.clusters.get_mut(&cluster_key) {
        Some(c) => c.set_keda(keda),
        None => {
            world.clusters.insert(
                cluster_key.clone(),
                crate::k8s::Cluster::new(&info.name, keda),
            );
        }
    }
    let async_url = format!(
        "{base}/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{location}/operations/{op}?api-version=2017-08-31"
    );
    Ok(Outcome {
        status: if creating {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        resource,
        headers: vec![("azure-asyncoperation", async_url)],
        body: None,
    })
}

/// POST actions (AKS credentials).
fn action(ctx: &Ctx, world: &World, resource_id: &str, name: &str) -> Response {
    let Some(info) = parse_id(resource_id) else {
        return error(StatusCode::NOT_FOUND, "NotFound", "Not found.");
    };
    let Some(r) = world.arm.resources.get(&key(resource_id)) else {
        return get(world, &info);
    };
    if info.type_is(AKS) {
        let (cred_name, user) = match name.to_ascii_lowercase().as_str() {
            "listclusterusercredential" => ("clusterUser", "clusterUser"),
            "listclusteradmincredential" => ("clusterAdmin", "clusterAdmin"),
            "listclustermonitoringusercredential" => {
                ("clusterMonitoringUser", "clusterMonitoringUser")
            }
            _ => {
                return error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("The action '{name}' is not supported."),
                );
            }
        };
        let ck = r.cluster_key.clone().unwrap_or_default();
        let token = world
            .clusters
            .get(&ck)
            .map(|c| c.token.clone())
            .unwrap_or_default();
        let cluster = info.name.clone();
        let rg = info.resource_group.clone().unwrap_or_default();
        let server = format!("{}/k8s/{ck}", ctx.shared.base_url);
        let user_name = format!("{user}_{rg}_{cluster}");
        let kubeconfig = format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    server: {server}\n  name: {cluster}\ncontexts:\n- context:\n    cluster: {cluster}\n    user: {user_name}\n  name: {cluster}\ncurrent-context: {cluster}\nkind: Config\npreferences: {{}}\nusers:\n- name: {user_name}\n  user:\n    token: {token}\n"
        );
        let value = base64::engine::general_purpose::STANDARD.encode(kubeconfig);
        return json_response(
            StatusCode::OK,
            &json!({"kubeconfigs": [{"name": cred_name, "value": value}]}),
        );
    }
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The action '{name}' is not supported on '{}'.", info.rtype),
    )
}

/// The answer to a synchronous PUT: 201 for a create, 200 for an update, with the stored
/// resource as the body.
fn put_answer(ctx: &Ctx, info: &IdInfo, existing: Option<&Resource>, body: Value) -> Outcome {
    Outcome {
        status: if existing.is_none() {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        resource: new_resource(ctx, info, existing, body),
        headers: vec![],
        body: None,
    }
}

/// ARM's answer to a create without `location`.
fn location_required() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "LocationRequired",
        "The location property is required for this definition.",
    )
}

/// A create (no existing resource) must name its location.
fn require_location(existing: Option<&Resource>, input: &Value) -> Result<(), Response> {
    if existing.is_none() && input.get("location").and_then(Value::as_str).is_none() {
        return Err(location_required());
    }
    Ok(())
}

fn put_sb_namespace(
    ctx: &Ctx,
    world: &mut World,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    require_location(existing, input)?;
    let mut b = base_body(info, existing, input);
    let sku = b.get("sku").cloned().unwrap_or(json!({"name": "Standard"}));
    let sku_name = sku
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("Standard")
        .to_string();
    let mut sku = sku;
    sku["name"] = json!(sku_name);
    if sku.get("tier").is_none() {
        sku["tier"] = json!(sku_name);
    }
    b["sku"] = sku;
    let old = existing
        .map(|r| r.body["properties"].clone())
        .unwrap_or(json!({}));
    let sub = info.subscription.clone().unwrap_or_default();
    let name = existing
        .and_then(|r| r.body["name"].as_str().map(str::to_string))
        .unwrap_or(info.name.clone());
    let busy = existing.map(|r| r.busy_until_ms > ctx.now).unwrap_or(true);
    let created = old
        .get("createdAt")
        .cloned()
        .unwrap_or(json!(rfc3339(ctx.now)));
    let p = props(&mut b);
    p.insert(
        "provisioningState".into(),
        json!(if busy { "Created" } else { "Succeeded" }),
    );
    p.insert(
        "status".into(),
        json!(if busy { "Activating" } else { "Active" }),
    );
    p.insert(
        "metricId".into(),
        json!(format!("{sub}:{}", name.to_ascii_lowercase())),
    );
    p.insert("createdAt".into(), created);
    p.insert("updatedAt".into(), json!(rfc3339(ctx.now)));
    p.insert(
        "serviceBusEndpoint".into(),
        json!(format!("https://{name}.servicebus.windows.net:443/")),
    );
    p.entry("minimumTlsVersion").or_insert(json!("1.2"));
    p.entry("publicNetworkAccess").or_insert(json!("Enabled"));
    p.entry("disableLocalAuth").or_insert(json!(false));
    p.entry("zoneRedundant").or_insert(json!(false));
    if sku_name.eq_ignore_ascii_case("Premium") {
        p.entry("premiumMessagingPartitions").or_insert(json!(1));
    }
    let mut resource = new_resource(ctx, info, existing, b);
    if existing.is_none() {
        resource.busy_until_ms = ctx.now + ctx.op_ms(&world.arm.settings, 30);
    }
    Ok(Outcome {
        status: StatusCode::OK,
        resource,
        headers: vec![],
        body: None,
    })
}

fn put_sb_queue(
    ctx: &Ctx,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    if let Some(ex) = existing {
        for prop in ["requiresSession", "enablePartitioning"] {
            let old = ex.body["properties"]
                .get(prop)
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if let Some(new) = in_props.get(prop).and_then(Value::as_bool)
                && new != old
            {
                let display = if prop == "requiresSession" {
                    "RequiresSession"
                } else {
                    "EnablePartitioning"
                };
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!(
                        "SubCode=40000. The value for the {display} property of an existing Queue cannot be changed. To know more visit https://aka.ms/sbResourceMgrExceptions. TrackingId:{}, SystemTracker:{}:Queue:{}, Timestamp:{}",
                        uuid::Uuid::new_v4(),
                        info.parent
                            .as_deref()
                            .and_then(|p| p.rsplit('/').next())
                            .unwrap_or_default(),
                        info.name,
                        rfc3339(ctx.now)
                    ),
                ));
            }
        }
    }
    // Unlike most types, an update is a full replacement of the settable properties.
    let mut b = base_body(info, existing, &json!({}));
    let old = existing
        .map(|r| r.body["properties"].clone())
        .unwrap_or(json!({}));
    let p = props(&mut b);
    for (k, v) in [
        ("autoDeleteOnIdle", json!("P10675199DT2H48M5.4775807S")),
        (
            "defaultMessageTimeToLive",
            json!("P10675199DT2H48M5.4775807S"),
        ),
        ("duplicateDetectionHistoryTimeWindow", json!("PT10M")),
        ("enableBatchedOperations", json!(true)),
        ("deadLetteringOnMessageExpiration", json!(false)),
        ("enableExpress", json!(false)),
        ("enablePartitioning", json!(false)),
        ("lockDuration", json!("PT1M")),
        ("maxDeliveryCount", json!(10)),
        ("maxMessageSizeInKilobytes", json!(256)),
        ("maxSizeInMegabytes", json!(1024)),
        ("requiresDuplicateDetection", json!(false)),
        ("requiresSession", json!(false)),
        ("status", json!("Active")),
    ] {
        p.insert(k.into(), in_props.get(k).cloned().unwrap_or(v));
    }
    for (k, v) in in_props.as_object().into_iter().flatten() {
        p.entry(k.clone()).or_insert(v.clone());
    }
    p.insert(
        "createdAt".into(),
        old.get("createdAt")
            .cloned()
            .unwrap_or(json!(rfc3339(ctx.now))),
    );
    p.insert("updatedAt".into(), json!(rfc3339(ctx.now)));
    p.insert("accessedAt".into(), json!("0001-01-01T00:00:00Z"));
    // Messages on the queue (put there and taken by the simulated workloads) survive updates.
    p.insert(
        "messageCount".into(),
        old.get("messageCount").cloned().unwrap_or(json!(0)),
    );
    p.insert(
        "sizeInBytes".into(),
        old.get("sizeInBytes").cloned().unwrap_or(json!(0)),
    );
    p.insert(
        "countDetails".into(),
        old.get("countDetails").cloned().unwrap_or(
            json!({"activeMessageCount": 0, "deadLetterMessageCount": 0, "scheduledMessageCount": 0, "transferMessageCount": 0, "transferDeadLetterMessageCount": 0}),
        ),
    );
    Ok(Outcome {
        status: StatusCode::OK,
        resource: new_resource(ctx, info, existing, b),
        headers: vec![],
        body: None,
    })
}

fn put_uai(
    ctx: &Ctx,
    world: &mut World,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    require_location(existing, input)?;
    let mut b = base_body(info, existing, input);
    let old = existing
        .map(|r| r.body["properties"].clone())
        .unwrap_or(json!({}));
    let client = match old.get("clientId") {
        Some(v) => v.clone(),
        None => json!(ctx.guid(&mut world.arm, "uai-client")),
    };
    let principal = match old.get("principalId") {
        Some(v) => v.clone(),
        None => json!(ctx.guid(&mut world.arm, "uai-principal")),
    };
    let tenant = old.get("tenantId").cloned().unwrap_or(json!(ctx.tenant));
    let p = props(&mut b);
    p.entry("isolationScope").or_insert(json!("None"));
    p.insert("tenantId".into(), tenant);
    p.insert("principalId".into(), principal);
    p.insert("clientId".into(), client);
    let resource = new_resource(ctx, info, existing, b);
    let headers = if existing.is_none() {
        vec![("location", resource.id.clone())]
    } else {
        vec![]
    };
    Ok(Outcome {
        status: if existing.is_none() {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        resource,
        headers,
        body: None,
    })
}

/// Claims the identity for a federated credential write, or answers 409 if another is in progress.
fn fic_lock(ctx: &Ctx, world: &mut World, parent_key: &str, fic_key: &str) -> Result<(), Response> {
    let ms = ctx.fic_write_ms(&world.arm.settings);
    let Some(parent) = world.arm.resources.get_mut(parent_key) else {
        return Ok(());
    };
    if let Some((other, until)) = &parent.fic_write
        && *until > ctx.now
        && other != fic_key
    {
        return Err(error(
            StatusCode::CONFLICT,
            "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
            format!(
                "Too many Federated Identity Credentials are written concurrently for the managed identity '{}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.",
                parent.id
            ),
        ));
    }
    parent.fic_write = Some((fic_key.to_string(), ctx.now + ms));
    Ok(())
}

fn put_fic(
    ctx: &Ctx,
    world: &mut World,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    for required in ["issuer", "subject"] {
        if in_props
            .get(required)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("The request is missing the required property '{required}'."),
            ));
        }
    }
    let parent = key(info.parent.as_deref().unwrap_or_default());
    fic_lock(ctx, world, &parent, &key(&info.id))?;
    let mut b = base_body(info, existing, &json!({"properties": in_props}));
    props(&mut b)
        .entry("audiences")
        .or_insert(json!(["api://AzureADTokenExchange"]));
    Ok(put_answer(ctx, info, existing, b))
}

fn put_role_assignment(
    ctx: &Ctx,
    world: &mut World,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    if uuid::Uuid::parse_str(&info.name).is_err() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{}' is not valid. The role assignment ID must be a GUID.",
                info.name
            ),
        ));
    }
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    let (Some(role_def), Some(principal)) = (
        in_props
            .get("roleDefinitionId")
            .and_then(Value::as_str)
            .map(str::to_string),
        in_props
            .get("principalId")
            .and_then(Value::as_str)
            .map(str::to_string),
    ) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid: 'roleDefinitionId' and 'principalId' are required.",
        ));
    };
    let role_guid = role_def
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let custom = world.arm.resources.values().any(|r| {
        r.body
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Authorization/roleDefinitions"))
            && r.body
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(&role_guid))
    });
    if roles::by_guid(&role_guid).is_none() && !custom {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{role_guid}' does not exist."),
        ));
    }
    let given_type = in_props
        .get("principalType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let known = principal_of(world, &principal);
    if given_type.is_none()
        && let Some((created, _)) = known
        && ctx.now < created + ctx.principal_window_ms(&world.arm.settings)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "PrincipalNotFound",
            format!(
                "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                principal.replace('-', ""),
                ctx.tenant
            ),
        ));
    }
    let scope_key = key(&info.scope);
    let k = key(&info.id);
    let duplicate = world.arm.resources.iter().any(|(rk, r)| {
        *rk != k
            && r.body
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(RA))
            && r.body
                .pointer("/properties/scope")
                .and_then(Value::as_str)
                .map(key)
                .as_deref()
                == Some(scope_key.as_str())
            && r.body
                .pointer("/properties/principalId")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case(&principal))
            && r.body
                .pointer("/properties/roleDefinitionId")
                .and_then(Value::as_str)
                .and_then(|d| d.rsplit('/').next())
                .is_some_and(|g| g.eq_ignore_ascii_case(&role_guid))
    });
    if duplicate {
        return Err(error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ));
    }
    if let Some(ex) = existing {
        let same_principal = ex
            .body
            .pointer("/properties/principalId")
            .and_then(Value::as_str)
            .is_some_and(|p| p.eq_ignore_ascii_case(&principal));
        let same_role = ex
            .body
            .pointer("/properties/roleDefinitionId")
            .and_then(Value::as_str)
            .and_then(|d| d.rsplit('/').next())
            .is_some_and(|g| g.eq_ignore_ascii_case(&role_guid));
        if !same_principal || !same_role {
            return Err(error(
                StatusCode::CONFLICT,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
    }
    let principal_type =
        given_type.unwrap_or_else(|| known.map(|k| k.1).unwrap_or("ServicePrincipal").to_string());
    let created_on = existing
        .and_then(|r| r.body.pointer("/properties/createdOn").cloned())
        .unwrap_or(json!(rfc3339(ctx.now)));
    let scope = if info.scope.is_empty() {
        "/".to_string()
    } else {
        existing
            .and_then(|r| {
                r.body
                    .pointer("/properties/scope")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or(info.scope.clone())
    };
    let mut b = base_body(info, existing, &json!({}));
    let p = props(&mut b);
    p.insert("roleDefinitionId".into(), json!(role_def));
    p.insert("principalId".into(), json!(principal));
    p.insert("principalType".into(), json!(principal_type));
    p.insert("scope".into(), json!(scope));
    p.insert(
        "condition".into(),
        in_props.get("condition").cloned().unwrap_or(Value::Null),
    );
    p.insert(
        "conditionVersion".into(),
        in_props
            .get("conditionVersion")
            .cloned()
            .unwrap_or(Value::Null),
    );
    p.insert("createdOn".into(), created_on);
    p.insert("updatedOn".into(), json!(rfc3339(ctx.now)));
    p.insert("createdBy".into(), Value::Null);
    p.insert("updatedBy".into(), Value::Null);
    p.insert("delegatedManagedIdentityResourceId".into(), Value::Null);
    p.insert(
        "description".into(),
        in_props.get("description").cloned().unwrap_or(Value::Null),
    );
    Ok(put_answer(ctx, info, existing, b))
}
