//! Routing of ARM requests: operation polls, subscriptions, lists, role definitions, one
//! resource (by method) and POST actions.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::account;
use super::answer::{empty, error, method_not_allowed};
use super::context::Ctx;
use super::crud;
use super::id::{Path, key, parse_id};
use super::lists::{list_collection, page, role_definitions, summary};
use super::operations::poll;
use super::store::ArmWorld;
use super::types::RESOURCE_GROUP as RG;

/// Routes one ARM request. Returns the answer and whether the world changed.
pub(crate) fn dispatch(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
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
    if n == 1 && *method == Method::GET {
        if path.seg_is(0, "subscriptions") {
            return (account::subscriptions(ctx, world), false);
        }
        if path.seg_is(0, "tenants") {
            return (account::tenants(ctx), false);
        }
    }
    if n == 2 && path.seg_is(0, "subscriptions") && *method == Method::GET {
        return (account::subscription(ctx, &s[1]), false);
    }
    if let Some(resp) = account::providers(path, *method == Method::POST) {
        return (resp, false);
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
            Method::GET | Method::HEAD => (crud::get(world, &info), false),
            Method::PUT => crud::put(ctx, world, &info, body),
            Method::PATCH => crud::patch(ctx, world, &info, body),
            Method::DELETE => crud::delete(ctx, world, &info),
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
                    crud::action(ctx, world, &Path::join(&s[..n - 1]), &s[n - 1]),
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
