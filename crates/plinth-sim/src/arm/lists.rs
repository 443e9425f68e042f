//! Lists: one page at a time (`nextLink` with a `$skiptoken`), by collection under a scope
//! or parent, with `$filter` on `principalId` and `roleName`, and the built-in role
//! definitions.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::answer::{error, json_response};
use super::context::Ctx;
use super::crud::{check_parents, not_found};
use super::id::{Path, key, parse_id};
use super::roles;
use super::store::ArmWorld;

pub(super) fn summary(body: &Value) -> Value {
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
pub(super) fn page(ctx: &Ctx, world: &ArmWorld<'_>, path: &str, items: Vec<Value>) -> Response {
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

/// Role definitions read at any scope; built-in ones have their ids under the scope's
/// subscription (`/subscriptions/S/providers/Microsoft.Authorization/roleDefinitions/G`,
/// as ARM answers them whether read at a resource, group or subscription) or at tenant level.
pub(super) fn role_definitions(ctx: &Ctx, world: &ArmWorld<'_>, path: &Path, i: usize) -> Response {
    let scope = if i >= 2 && path.seg_is(0, "subscriptions") {
        format!("/subscriptions/{}", path.segs[1])
    } else {
        String::new()
    };
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

pub(super) fn list_collection(ctx: &Ctx, world: &ArmWorld<'_>, path: &Path, i: usize) -> Response {
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
