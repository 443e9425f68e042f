//! `/_sim/` admin API for tests: inventory, out-of-band changes (drift), deletes, the request
//! log, the simulator's tunables and readiness.
//!
//! - `GET /_sim/health` → `{"status":"ok"}`
//! - `GET /_sim/resources` → `{"resources":[ARM bodies…],"clusters":[keys…]}`
//! - `GET|PATCH|PUT|DELETE /_sim/resources/{resource id}`: read, merge a JSON merge patch into
//!   (both PATCH and PUT merge), or delete (with everything inside) one ARM resource, bypassing
//!   ARM's validation, throttling and faults
//! - `GET /_sim/requests` → the request log (`LogEntry` list)
//! - `GET|PUT /_sim/config` → [`crate::arm::Settings`] (PUT merges)
//! - `GET|POST|DELETE /_sim/hooks`: one-shot hooks on ARM list pages (see
//!   [`crate::arm::PageHook`]), to make drift between two pages of one list deterministic.
//!   `POST` registers one: `{"prefix": "/subscriptions/S/resourceGroups/RG/providers/
//!   Microsoft.ManagedIdentity/userAssignedIdentities", "after": 1, "id": "<resource id>",
//!   "merge": {"tags": {"k": "v"}}}` (a JSON merge patch, as `PATCH /_sim/resources/{id}`) or
//!   `"delete": true` instead of `merge` (as `DELETE /_sim/resources/{id}`); after the
//!   `after`-th list page (answered 200) whose path starts with `prefix` (case-insensitive),
//!   counted from registration (with `"exact": true`, only the list at exactly `prefix`, not
//!   the child collections under it), the change is made under the same lock, so that page shows
//!   the world before it and the next page after it. Answers `{"hooks": [...]}`: every hook
//!   with `pages` counted, `fired` and `outcome` (`applied` or `no such resource`). `GET`
//!   lists them, `DELETE` removes them all. Kubernetes lists count too: a `prefix` under
//!   `/k8s/{cluster}/` (as `/_sim/requests` shows the path), an `id` that is the object's API
//!   path there; the change is a merge patch or a DELETE made as another client would.
//! - `POST /_sim/throttle/refill` → `{"refilled": true}`: every ARM throttling bucket is full
//!   again, as if enough time had passed (tests that exhausted a bucket need not wait)
//! - `POST /_sim/settle[?rounds=N]` → `{"rounds": n}`: finishes due ARM operations and runs
//!   the clusters' controllers (Jobs, KEDA; see [`crate::k8s::reconcile`]) round after round
//!   until one changes nothing (at most N rounds, default 32): time passes, so Jobs that keep
//!   failing use up their `backoffLimit` and fail. Every request that changes the world
//!   already runs one round; this is the explicit "let time pass". It also completes the
//!   propagation of every role assignment and federated credential written so far
//!   ([`arm::Settings::propagated_before_ms`]).
//!
//! Propagation delays are tunables of `/_sim/config`: `rbac_propagation_ms`,
//! `fic_propagation_ms` (any profile, `instant` included), and `time_scale` (how fast the
//! controllers see Azure's time pass; set from the latency profile at start).
//!
//! On the `demo` and `realistic` profiles [`start_clock`] runs a controller round every few
//! (scaled) seconds, so Jobs retry after their backoff and KEDA polls as time passes; on
//! `instant` nothing runs between requests.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::Shared;
use crate::arm;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/health", get(health))
        .route("/resources", get(list))
        .route(
            "/resources/{*id}",
            get(read).patch(change).put(change).delete(remove),
        )
        .route("/requests", get(requests))
        .route("/config", get(config).put(set_config).patch(set_config))
        .route("/settle", post(settle))
        .route("/throttle/refill", post(refill))
        .route("/hooks", get(hooks).post(add_hook).delete(clear_hooks))
}

/// On a profile where operations take time (`demo`, `realistic`), tells the controllers how
/// fast time passes ([`arm::Settings::time_scale`], unless already set) and starts a task that
/// runs a round of them (after finishing due ARM operations) every 5 s of Azure's time, at
/// least every 50 ms, saving the world when it changed. The task ends with the simulator: it
/// holds the shared state only weakly. Nothing starts on `instant`, which stays deterministic.
pub(crate) fn start_clock(shared: &Arc<Shared>) {
    const HOUR: Duration = Duration::from_secs(3600);
    let latency = shared.config.latency;
    let scale = latency.scale(HOUR).as_secs_f64() / HOUR.as_secs_f64();
    if scale <= 0.0 {
        return;
    }
    shared.world().arm.settings.time_scale.get_or_insert(scale);
    let every = latency
        .scale(Duration::from_secs(5))
        .max(Duration::from_millis(50));
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(shared) = weak.upgrade() else {
                break;
            };
            let changed = {
                let mut world = shared.world();
                let finished = arm::settle(&mut world.arm_view(), arm::now_ms());
                crate::k8s::reconcile(&mut world) || finished
            };
            if changed && let Err(e) = shared.save() {
                tracing::warn!("saving the world after a controller round: {e}");
            }
        }
    });
}

#[derive(serde::Deserialize)]
struct SettleQuery {
    rounds: Option<usize>,
}

async fn settle(State(shared): State<Arc<Shared>>, Query(q): Query<SettleQuery>) -> Response {
    let rounds = {
        let mut world = shared.world();
        let now = arm::now_ms();
        arm::settle(&mut world.arm_view(), now);
        world.arm.settings.propagated_before_ms = Some(now);
        crate::k8s::settle(&mut world, q.rounds.unwrap_or(32).max(1))
    };
    let _ = shared.save();
    Json(json!({"rounds": rounds})).into_response()
}

async fn refill(State(shared): State<Arc<Shared>>) -> Response {
    shared.world().arm.refill_buckets();
    Json(json!({"refilled": true})).into_response()
}

async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

fn normalise(id: &str) -> String {
    format!("/{}", id.trim_start_matches('/')).to_ascii_lowercase()
}

async fn list(State(shared): State<Arc<Shared>>) -> Response {
    let mut world = shared.world();
    arm::settle(&mut world.arm_view(), arm::now_ms());
    let resources: Vec<Value> = world
        .arm
        .resources
        .values()
        .map(|r| r.body.clone())
        .collect();
    let clusters: Vec<&String> = world.clusters.keys().collect();
    Json(json!({"resources": resources, "clusters": clusters})).into_response()
}

async fn read(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let mut world = shared.world();
    arm::settle(&mut world.arm_view(), arm::now_ms());
    match world.arm.resources.get(&normalise(&id)) {
        Some(r) => Json(r.body.clone()).into_response(),
        None => arm::error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("No resource '/{id}' in the simulator."),
        ),
    }
}

async fn change(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(patch): Json<Value>,
) -> Response {
    let body = {
        let mut world = shared.world();
        let Some(r) = world.arm.resources.get_mut(&normalise(&id)) else {
            return arm::error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("No resource '/{id}' in the simulator."),
            );
        };
        arm::merge_patch(&mut r.body, &patch);
        let body = r.body.clone();
        crate::k8s::reconcile(&mut world);
        body
    };
    let _ = shared.save();
    Json(body).into_response()
}

async fn remove(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let removed = {
        let mut world = shared.world();
        let n = arm::remove_cascade(&mut world.arm_view(), &normalise(&id)).len();
        if n > 0 {
            crate::k8s::reconcile(&mut world);
        }
        n
    };
    if removed == 0 {
        return arm::error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("No resource '/{id}' in the simulator."),
        );
    }
    let _ = shared.save();
    Json(json!({"removed": removed})).into_response()
}

async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    let log = shared.log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Json(log).into_response()
}

async fn config(State(shared): State<Arc<Shared>>) -> Response {
    let settings = shared.world().arm.settings.clone();
    Json(settings).into_response()
}

async fn set_config(State(shared): State<Arc<Shared>>, Json(patch): Json<Value>) -> Response {
    let mut world = shared.world();
    let mut current = serde_json::to_value(&world.arm.settings).unwrap_or(json!({}));
    arm::merge_patch(&mut current, &patch);
    match serde_json::from_value::<arm::Settings>(current) {
        Ok(s) => {
            world.arm.settings = s.clone();
            Json(s).into_response()
        }
        Err(e) => arm::error(StatusCode::BAD_REQUEST, "InvalidSettings", e.to_string()),
    }
}

/// The body of `POST /_sim/hooks`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewHook {
    prefix: String,
    #[serde(default)]
    exact: bool,
    #[serde(default = "one")]
    after: u32,
    id: String,
    merge: Option<Value>,
    #[serde(default)]
    delete: bool,
}

fn one() -> u32 {
    1
}

fn hooks_answer(hooks: &[arm::PageHook]) -> Response {
    Json(json!({ "hooks": hooks })).into_response()
}

async fn hooks(State(shared): State<Arc<Shared>>) -> Response {
    hooks_answer(&shared.world().arm.hooks)
}

async fn add_hook(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let new: NewHook = match serde_json::from_value(body) {
        Ok(h) => h,
        Err(e) => return arm::error(StatusCode::BAD_REQUEST, "InvalidHook", e.to_string()),
    };
    let action = match (new.merge, new.delete) {
        (Some(patch), false) => arm::HookAction::Merge(patch),
        (None, true) => arm::HookAction::Delete,
        _ => {
            return arm::error(
                StatusCode::BAD_REQUEST,
                "InvalidHook",
                "A hook takes exactly one of 'merge' (a JSON merge patch) and 'delete': true.",
            );
        }
    };
    if new.after == 0 || !new.prefix.starts_with('/') {
        return arm::error(
            StatusCode::BAD_REQUEST,
            "InvalidHook",
            "A hook needs 'after' of at least 1 and a 'prefix' that is a path ('/subscriptions/...').",
        );
    }
    let mut world = shared.world();
    world.arm.hooks.push(arm::PageHook {
        prefix: new.prefix,
        exact: new.exact,
        after: new.after,
        id: new.id,
        action,
        pages: 0,
        fired: false,
        outcome: None,
    });
    hooks_answer(&world.arm.hooks)
}

async fn clear_hooks(State(shared): State<Arc<Shared>>) -> Response {
    let mut world = shared.world();
    world.arm.hooks.clear();
    hooks_answer(&world.arm.hooks)
}
