//! The HTTP side of a cluster's API: routing of `/k8s/{cluster}/...` (version and health,
//! discovery, OpenAPI, resources), authentication, and one resource request — list, get,
//! create, replace, the patch formats and server-side apply, delete and deletecollection,
//! the `scale` and `log` subresources, Table output, dry runs and strict field validation.
//! After a write the clusters' controllers run one round before the answer is sent.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::admission::unknown_field;
use super::answer::{ApiError, json_response, ok};
use super::cluster::{Cluster, object_key};
use super::controllers::reconcile;
use super::patch::PatchKind;
use super::query::Query;
use super::resources::{self, Res};
use super::table;
use super::watch::{WatchSpec, serve_watch};
use crate::Shared;
use crate::arm::HookAction;
use crate::arm::hooks::{self, ListPage};

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    crate::serve_delay(&shared, crate::RequestClass::K8s).await;
    let query = Query::parse(uri.query());
    let mut watch = None;
    let (resp, changed) = {
        let mut world = shared.world();
        let mut changed = false;
        let resp = dispatch(
            &shared.base_url,
            &mut world.clusters,
            &method,
            uri.path(),
            &query,
            &headers,
            &body,
            &mut changed,
            &mut watch,
        )
        .unwrap_or_else(IntoResponse::into_response);
        if resp.status() == StatusCode::OK && resp.extensions().get::<ListPage>().is_some() {
            changed |= list_page_hooks(&shared.base_url, &mut world, uri.path());
        }
        if changed {
            reconcile(&mut world);
        }
        (resp, changed)
    };
    if let Some(mut spec) = watch {
        spec.key = uri
            .path()
            .split('/')
            .find(|s| !s.is_empty())
            .unwrap_or_default()
            .to_string();
        return serve_watch(&shared, spec).await;
    }
    if changed && let Err(e) = shared.save() {
        tracing::error!("saving the simulator world: {e}");
    }
    resp
}

/// Counts a list page served at `path` (under `/k8s`) for the one-shot hooks and makes the
/// changes of those it makes due, as a hand edit would (a merge patch with the cluster's
/// token and field manager `kubectl-patch`, as `kubectl patch` sends; or a DELETE). Returns
/// whether the world changed.
fn list_page_hooks(base_url: &str, world: &mut crate::World, path: &str) -> bool {
    let due = hooks::due(&mut world.arm.hooks, &format!("/k8s{path}"));
    let mut changed = false;
    for (ix, id, action) in due {
        let target = id.strip_prefix("/k8s").unwrap_or(&id).to_string();
        let key = target
            .split('/')
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let token = world
            .clusters
            .get(key)
            .map(|c| c.token.clone())
            .unwrap_or_default();
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
            headers.insert(header::AUTHORIZATION, v);
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/merge-patch+json"),
        );
        let (method, body) = match &action {
            HookAction::Merge(patch) => (Method::PATCH, patch.to_string().into_bytes()),
            HookAction::Delete => (Method::DELETE, Vec::new()),
        };
        let mut applied = false;
        let answer = dispatch(
            base_url,
            &mut world.clusters,
            &method,
            &target,
            &Query::parse(Some("fieldManager=kubectl-patch")),
            &headers,
            &body,
            &mut applied,
            &mut None,
        );
        let applied = applied && answer.is_ok_and(|r| r.status().is_success());
        changed |= applied;
        hooks::record(&mut world.arm.hooks, ix, applied);
    }
    changed
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn dispatch(
    base_url: &str,
    clusters: &mut BTreeMap<String, Cluster>,
    method: &Method,
    path: &str,
    query: &Query,
    headers: &HeaderMap,
    body: &[u8],
    changed: &mut bool,
    watch: &mut Option<WatchSpec>,
) -> Result<Response, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((key, rest)) = segs.split_first() else {
        return Err(ApiError::unknown_resource());
    };
    let Some(cluster) = clusters.get_mut(*key) else {
        return Err(ApiError::new(
            404,
            "NotFound",
            &format!("no Kubernetes cluster {key:?} in the simulator"),
        ));
    };
    if matches!(rest, ["version"] | ["healthz"] | ["livez"] | ["readyz"]) {
        return match rest {
            ["version"] => ok(resources::version()),
            _ => Ok((StatusCode::OK, "ok").into_response()),
        };
    }
    let auth = header_str(headers, header::AUTHORIZATION);
    let authorized = if auth.is_empty() {
        !cluster.require_token
    } else {
        !cluster.token.is_empty() && auth.strip_prefix("Bearer ") == Some(cluster.token.as_str())
    };
    if !authorized {
        return Err(ApiError::new(401, "Unauthorized", "Unauthorized"));
    }
    let keda = cluster.keda_enabled;
    let read = *method == Method::GET;
    match rest {
        ["api"] if read => {
            let host = base_url
                .trim_start_matches("http://")
                .trim_start_matches("https://");
            ok(resources::api_versions(host))
        }
        ["apis"] if read => ok(resources::api_group_list(keda)),
        ["apis", g] if read => {
            resources::api_group(g, keda).map_or_else(|| Err(ApiError::unknown_resource()), ok)
        }
        ["api", v] if read => resources::api_resource_list("", v, keda)
            .map_or_else(|| Err(ApiError::unknown_resource()), ok),
        ["apis", g, v] if read => resources::api_resource_list(g, v, keda)
            .map_or_else(|| Err(ApiError::unknown_resource()), ok),
        ["openapi", "v2"] if read => {
            let mut resp = (StatusCode::OK, resources::openapi_v2_protobuf()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                ),
            );
            Ok(resp)
        }
        ["openapi", "v3"] if read => ok(resources::openapi_v3_root(keda)),
        ["openapi", "v3", "api", v] if read => resources::openapi_v3_group_version("", v, keda)
            .map_or_else(|| Err(ApiError::unknown_resource()), ok),
        ["openapi", "v3", "apis", g, v] if read => resources::openapi_v3_group_version(g, v, keda)
            .map_or_else(|| Err(ApiError::unknown_resource()), ok),
        ["api", v, tail @ ..] => resource_request(
            cluster, "", v, tail, method, query, headers, body, changed, watch,
        ),
        ["apis", g, v, tail @ ..] => resource_request(
            cluster, g, v, tail, method, query, headers, body, changed, watch,
        ),
        _ => Err(ApiError::unknown_resource()),
    }
}

/// The field manager of an update: `fieldManager`, else the User-Agent's product name.
fn update_manager(query: &Query, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(m) = query.get("fieldManager") {
        if m.is_empty() || m.len() > 128 {
            return Err(ApiError::bad_request(
                "fieldManager must be between 1 and 128 characters",
            ));
        }
        return Ok(m.to_string());
    }
    let ua = header_str(headers, header::USER_AGENT);
    let product = ua.split('/').next().unwrap_or_default();
    Ok(if product.is_empty() {
        "unknown".to_string()
    } else {
        product.chars().take(128).collect()
    })
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(&format!("error decoding the request body as JSON: {e}"))
    })
}

fn parse_yaml(body: &[u8]) -> Result<Value, ApiError> {
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(_) => serde_norway::from_slice(body).map_err(|e| {
            ApiError::bad_request(&format!("error decoding the request body as YAML: {e}"))
        }),
    }
}

/// The non-apply patch format of a Content-Type (415 for others, and for strategic merge
/// patches of custom resources, as a real API server answers).
fn patch_kind(ct: &str, r: &Res) -> Result<PatchKind, ApiError> {
    match ct {
        "application/merge-patch+json" => Ok(PatchKind::Merge),
        "application/json-patch+json" => Ok(PatchKind::Json),
        "application/strategic-merge-patch+json" if !r.keda => Ok(PatchKind::Strategic),
        _ => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml{}",
                if r.keda {
                    ""
                } else {
                    ", application/strategic-merge-patch+json"
                }
            ),
        )),
    }
}

/// The autoscaling/v1 Scale of a deployment.
fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let selector: Vec<String> = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector.join(","),
        },
    })
}

#[allow(clippy::too_many_arguments)]
fn scale_request(
    cluster: &mut Cluster,
    r: &Res,
    ns: Option<&str>,
    name: &str,
    method: &Method,
    query: &Query,
    headers: &HeaderMap,
    body: &[u8],
    changed: &mut bool,
) -> Result<Response, ApiError> {
    let obj = cluster
        .get(r, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(r, name))?;
    let scale = scale_of(&obj);
    let new_scale = match *method {
        Method::GET => return ok(scale),
        Method::PUT => parse_json(body)?,
        Method::PATCH => {
            let ct = header_str(headers, header::CONTENT_TYPE)
                .split(';')
                .next()
                .unwrap_or_default()
                .trim();
            let mut s = scale.clone();
            patch_kind(ct, r)?.apply(&mut s, &parse_json(body)?)?;
            s
        }
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    let Some(replicas) = new_scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .filter(|n| *n >= 0)
    else {
        return Err(ApiError::invalid(
            r,
            name,
            vec![(
                "spec.replicas".into(),
                "FieldValueInvalid".into(),
                "Invalid value: must be greater than or equal to 0".into(),
            )],
        ));
    };
    let manager = update_manager(query, headers)?;
    let dry_run = query.dry_run();
    let patch = json!({"spec": {"replicas": replicas}});
    let updated = cluster.patch(r, ns, name, &patch, PatchKind::Merge, &manager, dry_run)?;
    *changed |= !dry_run;
    ok(scale_of(&updated))
}

/// `fieldValidation=Strict` (kubectl's default): unknown fields are refused.
fn strict_check(r: &Res, query: &Query, body: &Value) -> Result<(), ApiError> {
    if query.get("fieldValidation") != Some("Strict") {
        return Ok(());
    }
    match unknown_field(r, body) {
        Some(f) => Err(ApiError::bad_request(&format!(
            "strict decoding error: unknown field \"{}\"",
            f.trim_start_matches('.')
        ))),
        None => Ok(()),
    }
}

fn wants_table(headers: &HeaderMap) -> bool {
    header_str(headers, header::ACCEPT)
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

#[allow(clippy::too_many_arguments)]
fn resource_request(
    cluster: &mut Cluster,
    group: &str,
    version: &str,
    tail: &[&str],
    method: &Method,
    query: &Query,
    headers: &HeaderMap,
    body: &[u8],
    changed: &mut bool,
    watch: &mut Option<WatchSpec>,
) -> Result<Response, ApiError> {
    let keda = cluster.keda_enabled;
    let find = |plural: &str| resources::find(group, version, plural, keda);
    // (resource, namespace, name, subresource)
    let (r, ns, name, sub): (&Res, Option<&str>, Option<&str>, Option<&str>) = match tail {
        ["namespaces", ns, plural, rest @ ..] if find(plural).is_some_and(|r| r.namespaced) => {
            let r = find(plural).expect("checked");
            match rest {
                [] => (r, Some(*ns), None, None),
                [name] => (r, Some(*ns), Some(*name), None),
                [name, sub] => (r, Some(*ns), Some(*name), Some(*sub)),
                _ => return Err(ApiError::unknown_resource()),
            }
        }
        [plural, rest @ ..] => {
            let Some(r) = find(plural) else {
                return Err(ApiError::unknown_resource());
            };
            match rest {
                [] => (r, None, None, None),
                [name] if !r.namespaced => (r, None, Some(*name), None),
                [name, sub] if !r.namespaced => (r, None, Some(*name), Some(*sub)),
                _ => return Err(ApiError::unknown_resource()),
            }
        }
        _ => return Err(ApiError::unknown_resource()),
    };
    if let (Some("scale"), "deployments", Some(name)) = (sub, r.plural, name) {
        return scale_request(cluster, r, ns, name, method, query, headers, body, changed);
    }
    if let (Some("log"), "pods", Some(name)) = (sub, r.plural, name) {
        if *method != Method::GET {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ));
        }
        if cluster.get(r, ns, name).is_none() {
            return Err(ApiError::not_found(r, name));
        }
        let key = object_key(ns, name);
        let text = cluster.runtime.logs.get(&key).cloned().unwrap_or_default();
        let mut resp = (StatusCode::OK, text).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return Ok(resp);
    }
    if sub.is_some_and(|s| s != "status" || !r.has_status) {
        return Err(ApiError::unknown_resource());
    }
    if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
        if *method != Method::GET || sub.is_some() {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "watch is only served on collections",
            ));
        }
        let mut q = Query(query.0.clone());
        if let Some(name) = name {
            q.0.retain(|(k, _)| k != "fieldSelector");
            q.0.push(("fieldSelector".into(), format!("metadata.name={name}")));
        }
        *watch = Some(WatchSpec {
            key: String::new(),
            table: wants_table(headers),
            r,
            ns: ns.map(str::to_string),
            since: query
                .get("resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            bookmarks: query.get("allowWatchBookmarks") == Some("true"),
            timeout: query
                .get("timeoutSeconds")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1800),
            query: q,
        });
        return Ok(StatusCode::OK.into_response());
    }
    let dry_run = query.dry_run();
    let method_not_allowed = || {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    };
    let Some(name) = name else {
        return match *method {
            Method::GET => {
                let mut items: Vec<Value> = cluster.list(r, ns).into_iter().cloned().collect();
                table::filter(&mut items, query)?;
                let rv = cluster.resource_version.to_string();
                // Pages as the API server does: `limit` items, then a `continue` token (here
                // the key of the page's last item: items come in key order) for the rest.
                let key_of = |o: &Value| {
                    let name = o.pointer("/metadata/name").and_then(Value::as_str);
                    let ns = o.pointer("/metadata/namespace").and_then(Value::as_str);
                    super::cluster::object_key(ns, name.unwrap_or_default())
                };
                if let Some(after) = query.get("continue").filter(|c| !c.is_empty()) {
                    items.retain(|o| key_of(o).as_str() > after);
                }
                let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok());
                let mut next = None;
                if let Some(limit) = limit.filter(|l| *l > 0 && *l < items.len()) {
                    items.truncate(limit);
                    next = items.last().map(key_of);
                }
                // A list page counts for the one-shot hooks (`/_sim/hooks`).
                let mut resp = if wants_table(headers) {
                    let t = table::table(r, &items, &rv, query.get("includeObject"));
                    json_response(
                        StatusCode::OK,
                        &t,
                        Some("application/json;as=Table;v=v1;g=meta.k8s.io"),
                    )
                } else {
                    let mut metadata = json!({"resourceVersion": rv});
                    if let Some(next) = next {
                        metadata["continue"] = Value::from(next);
                    }
                    ok(json!({
                        "apiVersion": r.api_version(),
                        "kind": format!("{}List", r.kind),
                        "metadata": metadata,
                        "items": items,
                    }))?
                };
                resp.extensions_mut().insert(ListPage);
                Ok(resp)
            }
            Method::POST if !r.read_only && (ns.is_some() || !r.namespaced) => {
                let manager = update_manager(query, headers)?;
                let body = parse_yaml(body)?;
                strict_check(r, query, &body)?;
                let obj = cluster.create(r, ns, body, &manager, dry_run)?;
                *changed |= !dry_run;
                Ok(json_response(StatusCode::CREATED, &obj, None))
            }
            Method::DELETE if !r.read_only && r.plural != "namespaces" => {
                let mut items: Vec<Value> = cluster.list(r, ns).into_iter().cloned().collect();
                table::filter(&mut items, query)?;
                let mut deleted = Vec::new();
                for item in &items {
                    let name = item
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let item_ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
                    cluster.delete(r, item_ns, name, dry_run)?;
                    deleted.push(item.clone());
                }
                *changed |= !dry_run && !deleted.is_empty();
                ok(json!({
                    "apiVersion": r.api_version(),
                    "kind": format!("{}List", r.kind),
                    "metadata": {"resourceVersion": cluster.resource_version.to_string()},
                    "items": deleted,
                }))
            }
            _ => Err(method_not_allowed()),
        };
    };
    if sub.is_some() && *method != Method::GET {
        return Err(method_not_allowed());
    }
    if r.read_only && *method != Method::GET {
        return Err(method_not_allowed());
    }
    match *method {
        Method::GET => {
            let obj = cluster
                .get(r, ns, name)
                .cloned()
                .ok_or_else(|| ApiError::not_found(r, name))?;
            if wants_table(headers) {
                let t = table::table(
                    r,
                    &[obj],
                    &cluster.resource_version.to_string(),
                    query.get("includeObject"),
                );
                return Ok(json_response(
                    StatusCode::OK,
                    &t,
                    Some("application/json;as=Table;v=v1;g=meta.k8s.io"),
                ));
            }
            ok(obj)
        }
        Method::PUT => {
            let manager = update_manager(query, headers)?;
            let body = parse_yaml(body)?;
            strict_check(r, query, &body)?;
            let obj = cluster.replace(r, ns, name, body, &manager, dry_run)?;
            *changed |= !dry_run;
            ok(obj)
        }
        Method::PATCH => {
            let ct = header_str(headers, header::CONTENT_TYPE)
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            let force = query.get("force").is_some_and(|f| f == "true");
            if force && ct != "application/apply-patch+yaml" {
                return Err(ApiError::bad_request(
                    "force may not be specified for non-apply patch",
                ));
            }
            let obj = match ct.as_str() {
                "application/apply-patch+yaml" => {
                    let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) else {
                        return Err(ApiError::bad_request(
                            "PATCH, fieldManager: Required value: is required for apply patch",
                        ));
                    };
                    let manager = manager.to_string();
                    let existed = cluster.get(r, ns, name).is_some();
                    let obj =
                        cluster.apply(r, ns, name, parse_yaml(body)?, &manager, force, dry_run)?;
                    *changed |= !dry_run;
                    let status = if existed {
                        StatusCode::OK
                    } else {
                        StatusCode::CREATED
                    };
                    return Ok(json_response(status, &obj, None));
                }
                _ => {
                    let kind = patch_kind(&ct, r)?;
                    let manager = update_manager(query, headers)?;
                    cluster.patch(r, ns, name, &parse_json(body)?, kind, &manager, dry_run)?
                }
            };
            *changed |= !dry_run;
            ok(obj)
        }
        Method::DELETE => {
            let body_dry_run = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|b| b.get("dryRun").and_then(Value::as_array).cloned())
                .is_some_and(|a| a.iter().any(|v| v == "All"));
            let dry = dry_run || body_dry_run;
            let out = cluster.delete(r, ns, name, dry)?;
            *changed |= !dry;
            ok(out)
        }
        _ => Err(method_not_allowed()),
    }
}
