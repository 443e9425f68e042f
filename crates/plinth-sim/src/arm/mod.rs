//! Azure Resource Manager: one generic resource store keyed by case-insensitive resource id,
//! per-type behaviour (resource groups, AKS, Service Bus, managed identities, role
//! assignments/definitions), long-running operations, validation, throttling and faults.

pub(crate) mod roles;
pub mod types;

pub use types::merge as merge_patch;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Latency, Shared, World};

/// Every ARM resource, by lower-cased resource id, and the long-running operations.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Store {
    pub resources: BTreeMap<String, Resource>,
    #[serde(default)]
    pub operations: BTreeMap<String, Operation>,
    /// Counter feeding generated ids (deterministic with the seed).
    #[serde(default)]
    pub serial: u64,
    /// Tunables (not persisted): see `/_sim/config`.
    #[serde(skip)]
    pub settings: Settings,
    #[serde(skip)]
    buckets: HashMap<String, Bucket>,
    #[serde(skip)]
    requests: u64,
}

/// One ARM resource.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Resource {
    /// The id with the casing the client used at creation.
    pub id: String,
    /// What GET returns.
    pub body: Value,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// A create/update operation runs until then (AKS, Service Bus namespace activation).
    #[serde(default)]
    pub busy_until_ms: u64,
    /// Being deleted; disappears (with everything inside) at that time.
    #[serde(default)]
    pub deleting_until_ms: Option<u64>,
    /// The AKS cluster's key in `World::clusters`.
    #[serde(default)]
    pub cluster_key: Option<String>,
    /// Last federated identity credential write under this identity: (credential id, until).
    #[serde(default)]
    pub fic_write: Option<(String, u64)>,
    /// The world's logical clock ([`World::clock`]) when this resource was created or, for a
    /// federated identity credential, when its properties (issuer, subject, audiences) last
    /// changed: what "before/after" means for the simulated controllers, deterministically.
    #[serde(default)]
    pub tick: u64,
}

/// A long-running operation (polled via `Azure-AsyncOperation` or `Location`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Operation {
    pub id: String,
    pub resource_id: String,
    pub kind: String,
    pub started_ms: u64,
    pub done_ms: u64,
    /// Status the `Location` URL answers once done (200 or 204).
    pub done_status: u16,
}

/// Tunables, changeable at run time through `PUT /_sim/config` (unset = from the latency profile).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Duration of every long-running operation, in ms.
    pub operation_ms: Option<u64>,
    /// How long after its creation a principal is unknown to role assignments without `principalType`.
    pub principal_window_ms: Option<u64>,
    /// How long a federated identity credential write is in progress.
    pub fic_write_ms: Option<u64>,
    /// List page size (default 100).
    pub page_size: Option<usize>,
    /// Token bucket capacity/refill per second for reads, writes, deletes.
    pub read_bucket: Option<(f64, f64)>,
    pub write_bucket: Option<(f64, f64)>,
    pub delete_bucket: Option<(f64, f64)>,
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

pub(crate) fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// An answer in ARM's error shape.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let mut resp = (
        status,
        axum::Json(json!({"error": {"code": code, "message": message.into()}})),
    )
        .into_response();
    resp.headers_mut()
        .insert("x-ms-failure-cause", HeaderValue::from_static("gateway"));
    resp
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body.clone())).into_response()
}

/// Context of one request.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub now: u64,
    pub tenant: String,
    pub api_version: String,
    pub query: &'a HashMap<String, String>,
}

impl Ctx<'_> {
    fn latency(&self) -> Latency {
        self.shared.config.latency
    }

    /// How long an operation that takes `realistic` on Azure takes here, in ms.
    pub fn op_ms(&self, settings: &Settings, realistic_secs: u64) -> u64 {
        settings.operation_ms.unwrap_or_else(|| {
            self.latency()
                .scale(Duration::from_secs(realistic_secs))
                .as_millis() as u64
        })
    }

    pub fn principal_window_ms(&self, settings: &Settings) -> u64 {
        settings
            .principal_window_ms
            .unwrap_or_else(|| self.latency().scale(Duration::from_secs(60)).as_millis() as u64)
    }

    pub fn fic_write_ms(&self, settings: &Settings) -> u64 {
        settings
            .fic_write_ms
            .unwrap_or_else(|| self.latency().scale(Duration::from_secs(5)).as_millis() as u64)
    }

    /// A generated GUID, deterministic with the seed and the order of creation.
    pub fn guid(&self, store: &mut Store, what: &str) -> String {
        store.serial += 1;
        let name = format!(
            "plinth-sim/{}/{}/{what}",
            self.shared.config.seed, store.serial
        );
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
    }
}

/// A parsed ARM path.
#[derive(Debug)]
pub(crate) struct Path {
    pub segs: Vec<String>,
}

impl Path {
    fn parse(path: &str) -> Path {
        Path {
            segs: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(crate::entra::url_decode)
                .collect(),
        }
    }

    fn seg_is(&self, i: usize, s: &str) -> bool {
        self.segs.get(i).is_some_and(|x| x.eq_ignore_ascii_case(s))
    }

    fn join(segs: &[String]) -> String {
        let mut out = String::new();
        for s in segs {
            out.push('/');
            out.push_str(s);
        }
        out
    }

    /// Index of the last `providers` segment.
    fn last_providers(&self) -> Option<usize> {
        self.segs
            .iter()
            .rposition(|s| s.eq_ignore_ascii_case("providers"))
    }
}

/// What a resource id says about itself.
#[derive(Debug, Clone)]
pub(crate) struct IdInfo {
    pub id: String,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// `Microsoft.Resources/resourceGroups`, `Microsoft.ServiceBus/namespaces/queues`, …
    pub rtype: String,
    pub name: String,
    /// Parent resource id (nested resources) or scope (extension / top-level resources).
    pub parent: Option<String>,
    /// For extension resources (role assignments): the scope they are attached to.
    pub scope: String,
}

impl IdInfo {
    pub fn type_is(&self, t: &str) -> bool {
        self.rtype.eq_ignore_ascii_case(t)
    }
}

/// Parses a resource id; `None` if it is not one (odd segments after the namespace, …).
pub(crate) fn parse_id(id: &str) -> Option<IdInfo> {
    let p = Path::parse(id);
    let segs = &p.segs;
    let subscription = if p.seg_is(0, "subscriptions") {
        segs.get(1).cloned()
    } else {
        None
    };
    let resource_group = if subscription.is_some() && p.seg_is(2, "resourcegroups") {
        segs.get(3).cloned()
    } else {
        None
    };
    let full = Path::join(segs);
    match p.last_providers() {
        None => {
            if segs.len() == 4 && resource_group.is_some() {
                return Some(IdInfo {
                    id: full,
                    subscription: subscription.clone(),
                    resource_group: resource_group.clone(),
                    rtype: "Microsoft.Resources/resourceGroups".into(),
                    name: segs[3].clone(),
                    parent: Some(Path::join(&segs[..2])),
                    scope: Path::join(&segs[..2]),
                });
            }
            None
        }
        Some(i) => {
            let rest = &segs[i + 1..];
            if rest.len() < 3 || rest.len().is_multiple_of(2) {
                return None;
            }
            let mut rtype = rest[0].clone();
            for pair in rest[1..].chunks(2) {
                rtype.push('/');
                rtype.push_str(&pair[0]);
            }
            let scope = Path::join(&segs[..i]);
            let parent = if rest.len() > 3 {
                Some(Path::join(&segs[..segs.len() - 2]))
            } else {
                Some(scope.clone())
            };
            Some(IdInfo {
                id: full,
                subscription,
                resource_group,
                rtype,
                name: segs[segs.len() - 1].clone(),
                parent,
                scope,
            })
        }
    }
}

fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                crate::entra::url_decode(k).to_ascii_lowercase(),
                crate::entra::url_decode(v),
            )
        })
        .collect()
}

/// A body that fails at once, so the connection is dropped mid-response.
struct Broken;

impl HttpBody for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::other(
            "injected fault: connection dropped",
        ))))
    }
}

/// splitmix64: a deterministic stream of numbers from the seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The injected fault for ARM request number `n`, if any.
fn fault(seed: u64, rate: f64, n: u64) -> Option<Response> {
    if rate <= 0.0 {
        return None;
    }
    let r = mix(seed ^ mix(n));
    if ((r >> 11) as f64 / (1u64 << 53) as f64) >= rate {
        return None;
    }
    Some(match mix(r) % 5 {
        0 => {
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "The request is being throttled (injected fault).",
            );
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            resp
        }
        1 => error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "The request is being throttled (injected fault).",
        ),
        2 => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Encountered internal server error (injected fault).",
        ),
        3 => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable (injected fault).",
        ),
        _ => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::new(Broken))
            .unwrap_or_default(),
    })
}

/// Which ARM rate-limit bucket a method draws from.
fn bucket_class(method: &Method) -> &'static str {
    match *method {
        Method::GET | Method::HEAD => "reads",
        Method::DELETE => "deletes",
        _ => "writes",
    }
}

/// Takes a token from the subscription's bucket: `Ok(remaining)` or `Err(retry_after_secs)`.
fn take_token(store: &mut Store, subscription: &str, class: &str) -> Result<u64, u64> {
    let (capacity, rate) = match class {
        "reads" => store.settings.read_bucket.unwrap_or((250.0, 25.0)),
        "deletes" => store.settings.delete_bucket.unwrap_or((200.0, 10.0)),
        _ => store.settings.write_bucket.unwrap_or((200.0, 10.0)),
    };
    let now = Instant::now();
    let b = store
        .buckets
        .entry(format!("{}/{class}", subscription.to_ascii_lowercase()))
        .or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
    b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(capacity);
    b.at = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        Ok(b.tokens.floor() as u64)
    } else {
        let wait = if rate > 0.0 {
            ((1.0 - b.tokens) / rate).ceil().max(1.0)
        } else {
            60.0
        };
        Err(wait as u64)
    }
}

/// Applies finished operations: provisioning states reach their end, deletions complete.
/// Returns whether anything changed.
pub fn settle(world: &mut World, now: u64) -> bool {
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
            types::finish(r);
            changed = true;
        }
    }
    for key in gone {
        changed = true;
        remove_cascade(world, &key);
    }
    changed
}

/// Removes a resource and everything under it (ids with it as a prefix, extension resources too).
pub fn remove_cascade(world: &mut World, key: &str) -> Vec<Resource> {
    let prefix = format!("{key}/");
    let keys: Vec<String> = world
        .arm
        .resources
        .keys()
        .filter(|k| *k == key || k.starts_with(&prefix))
        .cloned()
        .collect();
    let mut removed = Vec::new();
    for k in keys {
        if let Some(r) = world.arm.resources.remove(&k) {
            if let Some(ck) = &r.cluster_key {
                world.clusters.remove(ck);
            }
            removed.push(r);
        }
    }
    removed
}

#[allow(clippy::result_large_err)]
fn bearer_tenant(headers: &HeaderMap) -> Result<String, Response> {
    let unauthorized = |code: &str, msg: &str| {
        let mut resp = error(StatusCode::UNAUTHORIZED, code, msg);
        resp.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static(r#"Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header.""#),
        );
        resp
    };
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Err(unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is not of the format 'Bearer <token>'.",
        ));
    };
    match crate::entra::validate(token.trim()) {
        Ok(claims) => Ok(claims.tid),
        Err(crate::entra::TokenError::Expired) => Err(unauthorized(
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
        )),
        Err(crate::entra::TokenError::Invalid) => Err(unauthorized(
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        )),
    }
}

/// Handles every ARM request.
pub async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 32 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                "The request content could not be read.",
            );
        }
    };
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query());

    // Paths of the other surfaces that their routers do not match are not ARM's.
    if path.starts_with("/k8s/") || path == "/k8s" {
        let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server could not find the requested resource", "reason": "NotFound", "details": {}, "code": 404});
        return json_response(StatusCode::NOT_FOUND, &status);
    }
    if let Some(resp) = crate::entra::cluster_issuer(&shared, &path) {
        return resp;
    }
    if path.starts_with("/_sim/") {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No simulator admin endpoint '{path}'."),
        );
    }

    // Injected faults come first: the request is not processed.
    let n = {
        let mut w = shared.world();
        w.arm.requests += 1;
        w.arm.requests
    };
    if let Some(resp) = fault(shared.config.seed, shared.config.faults, n) {
        return resp;
    }
    let tenant = match bearer_tenant(&parts.headers) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let Some(api_version) = query.get("api-version").filter(|v| !v.is_empty()).cloned() else {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    };
    let segs = Path::parse(&path);
    let subscription = if segs.seg_is(0, "subscriptions") {
        segs.segs.get(1).cloned()
    } else {
        None
    };
    let class = bucket_class(&method);
    let remaining = match &subscription {
        Some(sub) => {
            let mut w = shared.world();
            match take_token(&mut w.arm, sub, class) {
                Ok(r) => Some(r),
                Err(wait) => {
                    let mut resp = error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "SubscriptionRequestsThrottled",
                        format!(
                            "Number of '{}' requests for subscription '{sub}' actor '{tenant}' exceeded. Please try again after '{wait}' seconds after the additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
                            &class[..class.len() - 1]
                        ),
                    );
                    resp.headers_mut()
                        .insert("retry-after", HeaderValue::from(wait));
                    resp.headers_mut().insert(
                        format!("x-ms-ratelimit-remaining-subscription-{class}")
                            .as_str()
                            .parse::<axum::http::HeaderName>()
                            .unwrap(),
                        HeaderValue::from(0u64),
                    );
                    return resp;
                }
            }
        }
        None => None,
    };

    let ctx = Ctx {
        shared: &shared,
        now: now_ms(),
        tenant,
        api_version,
        query: &query,
    };
    let (mut resp, wrote) = {
        let mut world = shared.world();
        let settled = settle(&mut world, ctx.now);
        let (resp, wrote) = types::dispatch(&ctx, &mut world, &method, &segs, &body);
        let reconciled = (wrote || settled) && crate::k8s::reconcile(&mut world);
        (resp, wrote || settled || reconciled)
    };
    if wrote && let Err(e) = shared.save() {
        tracing::warn!("could not save the simulator world: {e}");
    }
    let h = resp.headers_mut();
    if let Some(r) = remaining
        && let Ok(name) = format!("x-ms-ratelimit-remaining-subscription-{class}")
            .parse::<axum::http::HeaderName>()
    {
        h.insert(name, HeaderValue::from(r));
    }
    let rid = uuid::Uuid::new_v4().to_string();
    if let Ok(v) = HeaderValue::from_str(&rid) {
        h.insert("x-ms-request-id", v.clone());
        h.insert("x-ms-correlation-request-id", v);
    }
    resp
}
