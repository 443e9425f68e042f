//! Watches: a watch request waits (without holding the world) for events after the
//! resourceVersion it names and answers them as a finished stream of JSON lines, within a
//! short window; clients watch again, as they do when a real watch times out.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::answer::ApiError;
use super::query::Query;
use super::resources::Res;
use super::table;
use crate::Shared;

/// A watch to serve: the events of one collection after `since`.
pub(super) struct WatchSpec {
    pub key: String,
    pub r: &'static Res,
    pub ns: Option<String>,
    pub since: u64,
    pub bookmarks: bool,
    pub timeout: u64,
    pub query: Query,
}

/// The longest a watch request waits for an event before it ends (clients watch again from
/// the last resourceVersion they saw, as they do when a real watch times out).
const WATCH_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves a watch: waits (without holding the world) until events exist after the requested
/// resourceVersion, then answers them as a finished stream of JSON lines. Without a
/// resourceVersion the current objects come first as ADDED events.
pub(super) async fn serve_watch(shared: &Arc<Shared>, spec: WatchSpec) -> Response {
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
