//! Long-running operations: started by writes and deletes that take time on Azure, polled
//! through `Azure-AsyncOperation` (a status body) or `Location` (202 until done).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::answer::{empty, json_response, with_headers};
use super::context::Ctx;
use super::id::{Path, key};
use super::store::{Operation, Store, rfc3339};

/// Starts an operation on `resource_id` that is done after `ms`; returns its id.
pub(super) fn new_operation(
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

/// The answer to a poll of `op` (`async_op`: its `Azure-AsyncOperation` URL, else its
/// `Location`).
pub(super) fn poll(ctx: &Ctx, op: &Operation, async_op: bool, segs: &[String]) -> Response {
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
