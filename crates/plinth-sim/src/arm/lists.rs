//! Lists: one page at a time (`nextLink` with a `$skiptoken`), by collection under a scope
//! or parent, with `$filter` on `principalId` and `roleName`, and the built-in role
//! definitions.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::answer::{error, json_response};
use super::context::Ctx;
use super::crud::{check_parents, not_found};
use super::hooks::ListPage;
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

/// How a collection pages: its default page size and whether (and up to what) `$top`
/// sets it. Sources (Azure/azure-rest-api-specs and its generated clients):
///
/// - `resourcegroups` and `.../resources` (Microsoft.Resources `ResourceGroups_List`,
///   `Resources_ListByResourceGroup`): `$top`, "The number of results to return. If null is
///   passed, returns all resource groups." The answers still carry `nextLink`; ARM's own
///   lists page at 1,000 in practice (not in the spec; also Resource Graph's documented
///   maximum page), which the simulator keeps.
/// - Service Bus namespaces and queues (`Namespaces_ListByResourceGroup`,
///   `Queues_ListByNamespace`): `$skip` (0..1000) and `$top` (1..1000, "May be used to limit
///   the number of results"); the default page is not documented: 100 here.
/// - federated identity credentials (`FederatedIdentityCredentials_List`, msi 2023-01-31 and
///   later): `$top` and `$skiptoken` (armmsi `FederatedIdentityCredentialsClientListOptions
///   {Top, Skiptoken}`); an identity holds at most 20 credentials (Entra's documented limit),
///   so one page in practice.
/// - user-assigned identities, managed clusters, role assignments (`$filter`, `$skipToken`
///   in 2022-04-01) and role definitions: no `$top`; `nextLink` only; default 100 here (no
///   spec or recording states the size; none of the stored recordings has a second page).
///
/// `/_sim/config` `page_size` overrides the default of every collection (tests use small
/// pages); an explicit `$top` still wins where the collection takes one.
fn paging(path: &str) -> (usize, Option<usize>) {
    let p = path.to_ascii_lowercase();
    let last = p.rsplit('/').next().unwrap_or_default();
    match last {
        "resourcegroups" | "resources" => (1000, Some(1000)),
        "queues" | "topics" | "namespaces" if p.contains("/microsoft.servicebus/") => {
            (100, Some(1000))
        }
        "federatedidentitycredentials" => (100, Some(100)),
        _ => (100, None),
    }
}

/// One page of a list, with `nextLink` (absolute, `$skiptoken`) when more follow. The answer
/// is marked as a list page ([`ListPage`]) for the one-shot hooks.
pub(super) fn page(ctx: &Ctx, world: &ArmWorld<'_>, path: &str, items: Vec<Value>) -> Response {
    let (default, top_max) = paging(path);
    let top = top_max.and_then(|max| {
        ctx.query
            .get("$top")
            .and_then(|t| t.parse::<usize>().ok())
            .map(|t| t.clamp(1, max))
    });
    let size = top
        .or(world.arm.settings.page_size)
        .unwrap_or(default)
        .max(1);
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
        if let Some(t) = top {
            link.push_str(&format!("&%24top={t}"));
        }
        link.push_str(&format!("&%24skiptoken={}", skip + size));
        body["nextLink"] = json!(link);
    }
    let mut resp = json_response(StatusCode::OK, &body);
    resp.extensions_mut().insert(ListPage);
    resp
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
    if rest == 2 && want_type.eq_ignore_ascii_case("Microsoft.Authorization/roleAssignments") {
        let items = role_assignments(ctx, world, &Path::join(&s[..i]));
        return page(ctx, world, &full, items);
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
        .map(|(info, r)| list_item(&info.rtype, &r.body))
        .collect();
    page(ctx, world, &full, items)
}

/// A resource as its collection's list shows it: the GET body, except for AKS managed
/// clusters, whose list items lack `eTag`, `properties.azurePortalFQDN` and the agent pools'
/// `eTag` and `nodeImageVersion` (`ManagedClustersListByResourceGroup.json` against
/// `ManagedClustersGet.json`, containerservice 2025-10-01).
fn list_item(rtype: &str, body: &Value) -> Value {
    let mut item = body.clone();
    if rtype.eq_ignore_ascii_case("Microsoft.ContainerService/managedClusters") {
        if let Some(o) = item.as_object_mut() {
            o.remove("eTag");
        }
        if let Some(p) = item.get_mut("properties").and_then(Value::as_object_mut) {
            p.remove("azurePortalFQDN");
            if let Some(pools) = p.get_mut("agentPoolProfiles").and_then(Value::as_array_mut) {
                for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
                    pool.remove("eTag");
                    pool.remove("nodeImageVersion");
                }
            }
        }
    }
    item
}

/// The role assignments `RoleAssignments_ListForScope` answers at `scope` (a path, `""` for
/// the tenant root): without a filter those at, above (inherited) and below the scope; with
/// `$filter=atScope()` those at and above it; with `$filter=principalId eq '...'` those at,
/// above and below for that principal (learn.microsoft.com, "List Azure role assignments
/// using the REST API").
fn role_assignments(ctx: &Ctx, world: &ArmWorld<'_>, scope: &str) -> Vec<Value> {
    let scope = key(scope.trim_end_matches('/'));
    let filter = ctx.query.get("$filter").cloned().unwrap_or_default();
    let at_scope = filter.to_ascii_lowercase().contains("atscope()");
    let principal = filter_value(&filter, "principalId").map(|p| p.to_ascii_lowercase());
    const TAIL: &str = "/providers/microsoft.authorization/roleassignments/";
    world
        .arm
        .resources
        .iter()
        .filter_map(|(k, r)| {
            let at = k.rfind(TAIL)?;
            // Only the assignment itself, nothing under it.
            if k[at + TAIL.len()..].contains('/') {
                return None;
            }
            Some((&k[..at], r))
        })
        .filter(|(own, _)| {
            let above = own.is_empty() || *own == scope || scope.starts_with(&format!("{own}/"));
            let below = own.starts_with(&format!("{scope}/"));
            above || (!at_scope && below)
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
        .collect()
}
