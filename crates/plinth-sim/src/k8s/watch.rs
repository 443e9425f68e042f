//! Watches: a watch request is answered with a chunked stream of JSON lines that stays open,
//! as a real API server holds it: the events after the resourceVersion it names (the current
//! objects as ADDED without one), then each event as it happens, until `timeoutSeconds`
//! (default 1800), the client disconnecting, or the simulator stopping.
//!
//! The stream's task looks at the cluster every [`TICK`] (the world lock is held only to copy
//! the new events out) and wakes at once when the simulator stops.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use serde_json::{Value, json};

use super::answer::ApiError;
use super::query::Query;
use super::resources::Res;
use super::table;
use crate::Shared;

/// A watch to serve: the events of one collection after `since`.
pub(super) struct WatchSpec {
    pub key: String,
    /// Each event's object as a one-row `meta.k8s.io/v1` Table (`kubectl get -w` asks so).
    pub table: bool,
    pub r: &'static Res,
    pub ns: Option<String>,
    pub since: u64,
    pub bookmarks: bool,
    pub timeout: u64,
    pub query: Query,
}

/// How often an open watch looks for new events.
const TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// The events of the watch after `since` as JSON lines, and the cluster's revision; `None`
/// when the cluster is gone.
fn new_events(
    shared: &Shared,
    spec: &WatchSpec,
    since: u64,
) -> Result<(Vec<Value>, u64), ApiError> {
    let (events, current) = {
        let world = shared.world();
        let Some(c) = world.clusters.get(&spec.key) else {
            return Err(ApiError::new(404, "NotFound", "the cluster is gone"));
        };
        if spec.r.keda && !c.keda_enabled {
            return Ok((Vec::new(), c.resource_version));
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
            return Err(ApiError::bad_request("invalid selector"));
        }
        if let Some(obj) = one.pop() {
            let obj = if spec.table {
                let rv = obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                table::table(spec.r, &[obj], &rv, spec.query.get("includeObject"))
            } else {
                obj
            };
            lines.push(json!({"type": kind, "object": obj}));
        }
    }
    Ok((lines, current))
}

fn chunk(lines: &[Value]) -> Bytes {
    let mut body = String::new();
    for e in lines {
        body.push_str(&e.to_string());
        body.push('\n');
    }
    Bytes::from(body)
}

/// Serves a watch as an open stream (see the module documentation).
/// The longest a watch is held open (a day): a real API server ends watches after minutes;
/// a client's larger `timeoutSeconds` is clamped rather than overflowing the deadline.
const MAX_WATCH_SECONDS: u64 = 86_400;

pub(super) async fn serve_watch(shared: &Arc<Shared>, spec: WatchSpec) -> Response {
    // A bad selector or a missing cluster is answered before the stream starts.
    let (first, current) = match new_events(shared, &spec, spec.since) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let shared = shared.clone();
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_secs(spec.timeout.clamp(1, MAX_WATCH_SECONDS));
    tokio::spawn(async move {
        let mut closing = shared.closing.subscribe();
        let mut since = spec.since.max(current);
        if !first.is_empty() && tx.send(chunk(&first)).await.is_err() {
            return;
        }
        let mut bookmark_sent = false;
        loop {
            if *closing.borrow_and_update() {
                return;
            }
            tokio::select! {
                _ = tx.closed() => return,
                _ = closing.changed() => return,
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tokio::time::sleep(TICK) => {}
            }
            let Ok((lines, current)) = new_events(&shared, &spec, since) else {
                return;
            };
            since = since.max(current);
            if !lines.is_empty() {
                if tx.send(chunk(&lines)).await.is_err() {
                    return;
                }
            } else if spec.bookmarks && !bookmark_sent {
                bookmark_sent = true;
                let bookmark = json!({"type": "BOOKMARK", "object": {
                    "apiVersion": spec.r.api_version(), "kind": spec.r.kind,
                    "metadata": {"resourceVersion": since.to_string()},
                }});
                if tx.send(chunk(&[bookmark])).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut resp = (StatusCode::OK, axum::body::Body::new(WatchBody { rx })).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The response body of a watch: the chunks its task sends, until the task ends.
struct WatchBody {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
}

impl http_body::Body for WatchBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}
