//! One Kubernetes API per AKS cluster, under `/k8s/{cluster_key}` (SPEC §7): discovery,
//! OpenAPI v3 (enough for kubectl to leave validation to the server), core/v1, apps/v1
//! (with `deployments/scale`), batch/v1 and, while the KEDA add-on is on, keda.sh/v1alpha1;
//! create, replace, JSON / merge / strategic-merge patch, server-side apply with managedFields,
//! conflicts and field removal, dry run, delete and deletecollection, label and field
//! selectors, Table output for `kubectl get`, short watches (each answers within two seconds; clients watch again), and
//! Kubernetes `Status` errors. Pods (with `pods/{name}/log`) and core/v1 events are written
//! by the simulated controllers ([`reconcile`]: the Job controller, the flagship's sample
//! workload with workload identity, the KEDA operator), which run after every change.
//!
//! Authentication: kubectl (client-go) never sends credentials to an `http://` server, so a
//! request without a token is accepted unless [`Cluster::require_token`] is set; a wrong token
//! is always refused with 401.

mod controllers;
mod fields;
mod objects;
mod resources;
mod table;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Shared;
use objects::PatchKind;
use resources::Res;

pub use controllers::{Runtime, ScaledJobRun, reconcile, settle};

/// One cluster's Kubernetes API state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cluster {
    /// The AKS cluster's name.
    pub name: String,
    /// The bearer token the API requires (handed out in the cluster's kubeconfig).
    pub token: String,
    /// Whether the KEDA add-on is on (serves keda.sh and runs kube-system/keda-operator).
    pub keda_enabled: bool,
    /// Refuse requests that carry no bearer token (401). Off by default because kubectl (every
    /// client-go) never sends credentials to an `http://` server, and the simulator serves
    /// plain HTTP: a wrong token is always refused, a missing one only when this is set.
    #[serde(default)]
    pub require_token: bool,
    /// The cluster's resourceVersion counter (etcd's revision).
    pub resource_version: u64,
    /// The resourceVersion at which each object (by uid) was created, for watches' ADDED.
    #[serde(skip)]
    pub(crate) created: BTreeMap<String, u64>,
    /// Recently deleted objects (resourceVersion of the delete, type, object), for watches.
    #[serde(skip)]
    pub(crate) tombstones: Vec<(u64, String, Value)>,
    /// Objects by type (`deployments.apps`) and then `namespace/name` (or `name`).
    pub objects: BTreeMap<String, BTreeMap<String, Value>>,
    /// What the cluster's simulated controllers (Jobs, KEDA) remember between reconciles.
    #[serde(default)]
    pub runtime: Runtime,
}

/// Deployments the KEDA add-on runs in kube-system.
const KEDA_DEPLOYMENTS: &[&str] = &[
    "keda-operator",
    "keda-operator-metrics-apiserver",
    "keda-admission-webhooks",
];
/// The field manager the AKS add-on manager writes with.
const ADDON_MANAGER: &str = "addon-manager";

impl Cluster {
    /// A fresh cluster: the standard namespaces (each with its `default` service account), a
    /// random token, and the KEDA add-on if asked for.
    pub fn new(name: &str, keda_enabled: bool) -> Cluster {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut c = Cluster {
            name: name.to_string(),
            token,
            ..Cluster::default()
        };
        let ns = resources::find("", "v1", "namespaces", false).expect("namespaces");
        for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            c.create(
                ns,
                None,
                json!({"metadata": {"name": n}}),
                "kube-apiserver",
                false,
            )
            .expect("system namespace");
        }
        c.set_keda(keda_enabled);
        c
    }

    /// Turns the KEDA add-on on (its deployments appear and keda.sh is served) or off (they
    /// and every KEDA object go, and keda.sh is no longer served).
    pub fn set_keda(&mut self, enabled: bool) {
        self.keda_enabled = enabled;
        let deploy = resources::find("apps", "v1", "deployments", false).expect("deployments");
        if enabled {
            for name in KEDA_DEPLOYMENTS {
                if self.get(deploy, Some("kube-system"), name).is_some() {
                    continue;
                }
                let labels = json!({"app": name, "app.kubernetes.io/name": name, "kubernetes.azure.com/managedby": "aks"});
                let body = json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "labels": labels.clone()},
                    "spec": {
                        "replicas": if *name == "keda-admission-webhooks" { 1 } else { 2 },
                        "selector": {"matchLabels": {"app": name}},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "serviceAccountName": if *name == "keda-admission-webhooks" { "keda-webhook" } else { "keda-operator" },
                                "containers": [{"name": name, "image": format!("mcr.microsoft.com/aks/keda/{name}:2.14.1")}],
                            },
                        },
                    },
                });
                if let Err(e) = self.create(deploy, Some("kube-system"), body, ADDON_MANAGER, false)
                {
                    tracing::warn!("creating {name}: {}", e.message);
                }
            }
        } else {
            if let Some(m) = self.objects.get_mut(&deploy.qualified()) {
                for name in KEDA_DEPLOYMENTS {
                    m.remove(&format!("kube-system/{name}"));
                }
            }
            self.objects.retain(|k, _| !k.ends_with(".keda.sh"));
            self.next_rv();
        }
    }
}

/// RFC 3339, seconds precision, UTC (how Kubernetes writes times).
pub(crate) fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// An answer as a Kubernetes `Status` (kind Status, status Failure).
#[derive(Debug)]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub(crate) fn new(code: u16, reason: &'static str, message: &str) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.to_string(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    pub(crate) fn bad_request(message: &str) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    fn unknown_resource() -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    fn details(r: &Res, name: &str) -> Value {
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        if !r.group.is_empty() {
            d.insert("group".into(), json!(r.group));
        }
        d.insert("kind".into(), json!(r.plural));
        Value::Object(d)
    }

    pub(crate) fn not_found(r: &Res, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            &format!("{} {name:?} not found", r.qualified()),
        )
        .with_details(Self::details(r, name))
    }

    pub(crate) fn not_found_named(qualified: &str, group: &str, name: &str) -> ApiError {
        let mut d = json!({"name": name, "kind": qualified.split('.').next().unwrap_or(qualified)});
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        ApiError::new(404, "NotFound", &format!("{qualified} {name:?} not found")).with_details(d)
    }

    pub(crate) fn already_exists(r: &Res, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            &format!("{} {name:?} already exists", r.qualified()),
        )
        .with_details(Self::details(r, name))
    }

    pub(crate) fn conflict(r: &Res, name: &str, message: &str) -> ApiError {
        ApiError::new(409, "Conflict", message).with_details(Self::details(r, name))
    }

    pub(crate) fn invalid(r: &Res, name: &str, causes: Vec<(String, String, String)>) -> ApiError {
        let summary: Vec<String> = causes.iter().map(|(f, _, m)| format!("{f}: {m}")).collect();
        let summary = if summary.len() == 1 {
            summary[0].clone()
        } else {
            format!("[{}]", summary.join(", "))
        };
        let message = format!("{} {name:?} is invalid: {summary}", r.qualified_kind());
        let causes: Vec<Value> = causes
            .into_iter()
            .map(|(field, reason, message)| json!({"reason": reason, "message": message, "field": field}))
            .collect();
        let mut d = json!({"name": name, "kind": r.kind, "causes": causes});
        if !r.group.is_empty() {
            d["group"] = json!(r.group);
        }
        ApiError::new(422, "Invalid", &message).with_details(d)
    }

    pub(crate) fn apply_conflict(conflicts: &[fields::Conflict]) -> ApiError {
        let message = if conflicts.len() == 1 {
            format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                conflicts[0].manager, conflicts[0].path
            )
        } else {
            let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for c in conflicts {
                by_manager.entry(&c.manager).or_default().push(&c.path);
            }
            let mut lines = Vec::new();
            for (m, paths) in by_manager {
                lines.push(format!("conflicts with {m}:"));
                lines.extend(paths.iter().map(|p| format!("- {p}")));
            }
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                lines.join("\n")
            )
        };
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|c| {
                json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.manager), "field": c.path})
            })
            .collect();
        ApiError::new(409, "Conflict", &message).with_details(json!({"causes": causes}))
    }

    fn to_json(&self) -> Value {
        let mut s = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s["code"] = json!(self.code);
        s
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &self.to_json(),
            None,
        )
    }
}

fn json_response(status: StatusCode, body: &Value, content_type: Option<&'static str>) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type.unwrap_or("application/json")),
    );
    resp
}

fn ok(body: Value) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &body, None))
}

/// The Kubernetes APIs, to be nested at `/k8s`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new().route("/{*rest}", any(handle))
}

/// A watch to serve: the events of one collection after `since`.
struct WatchSpec {
    key: String,
    r: &'static Res,
    ns: Option<String>,
    since: u64,
    bookmarks: bool,
    timeout: u64,
    query: Query,
}

/// The longest a watch request waits for an event before it ends (clients watch again from
/// the last resourceVersion they saw, as they do when a real watch times out).
const WATCH_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves a watch: waits (without holding the world) until events exist after the requested
/// resourceVersion, then answers them as a finished stream of JSON lines. Without a
/// resourceVersion the current objects come first as ADDED events.
async fn serve_watch(shared: &Arc<Shared>, spec: WatchSpec) -> Response {
    let window = WATCH_WINDOW.min(std::time::Duration::from_secs(spec.timeout.max(1)));
    let deadline = tokio::time::Instant::now() + window;
    let mut since = spec.since;
    loop {
        let (events, current) = {
            let world = shared.world();
            let Some(c) = world.clusters.get(&spec.key) else {
                return ApiError::new(404, "NotFound", "the cluster is gone").into_response();
            };
            if spec.r.keda && !c.keda_enabled {
                return watch_body(Vec::new());
            }
            (
                c.watch_events(spec.r, spec.ns.as_deref(), since),
                c.resource_version,
            )
        };
        let mut lines = Vec::new();
        for (kind, obj) in events {
            let mut one = vec![obj];
            if table::filter(&mut one, &spec.query).is_err() {
                return ApiError::bad_request("invalid selector").into_response();
            }
            if let Some(obj) = one.pop() {
                lines.push(json!({"type": kind, "object": obj}));
            }
        }
        if !lines.is_empty() {
            return watch_body(lines);
        }
        since = since.max(current);
        if tokio::time::Instant::now() >= deadline {
            if spec.bookmarks {
                let bookmark = json!({
                    "apiVersion": spec.r.api_version(), "kind": spec.r.kind,
                    "metadata": {"resourceVersion": since.to_string()},
                });
                return watch_body(vec![json!({"type": "BOOKMARK", "object": bookmark})]);
            }
            return watch_body(Vec::new());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn watch_body(events: Vec<Value>) -> Response {
    let mut body = String::new();
    for e in events {
        body.push_str(&e.to_string());
        body.push('\n');
    }
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A request's query parameters.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Query {
        let decode = |s: &str| -> String {
            let bytes = s.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                    (b'+', _) => out.push(b' '),
                    (b'%', Some(b)) => {
                        out.push(b);
                        i += 2;
                    }
                    (b, _) => out.push(b),
                }
                i += 1;
            }
            String::from_utf8_lossy(&out).into_owned()
        };
        Query(
            q.unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn dry_run(&self) -> bool {
        self.0.iter().any(|(k, v)| k == "dryRun" && v == "All")
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
        Err(_) => serde_yaml::from_slice(body).map_err(|e| {
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
    match objects::unknown_field(r, body) {
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
        let key = objects::object_key(ns, name);
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
                if wants_table(headers) {
                    let t = table::table(r, &items, &rv, query.get("includeObject"));
                    return Ok(json_response(
                        StatusCode::OK,
                        &t,
                        Some("application/json;as=Table;v=v1;g=meta.k8s.io"),
                    ));
                }
                ok(json!({
                    "apiVersion": r.api_version(),
                    "kind": format!("{}List", r.kind),
                    "metadata": {"resourceVersion": rv},
                    "items": items,
                }))
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

impl crate::arm::Clusters for BTreeMap<String, Cluster> {
    fn put(&mut self, key: &str, name: &str, keda: bool) {
        match self.get_mut(key) {
            Some(c) => c.set_keda(keda),
            None => {
                self.insert(key.to_string(), Cluster::new(name, keda));
            }
        }
    }

    fn token(&self, key: &str) -> Option<String> {
        self.get(key).map(|c| c.token.clone())
    }

    fn remove(&mut self, key: &str) {
        BTreeMap::remove(self, key);
    }
}
