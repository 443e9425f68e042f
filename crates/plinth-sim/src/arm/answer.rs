//! ARM's answers: errors in ARM's shape and the small response builders every handler uses.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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

/// A response extension: the request is still being processed until this time (ms since the
/// Unix epoch) and its answer is sent then. A federated identity credential write takes a
/// moment on Azure and the identity refuses other credential writes meanwhile; the handler
/// holds such an answer, outside the world's lock, until then, so that "in progress" ends
/// exactly when the client gets its answer (as on Azure, where a write made after the
/// previous one was answered succeeds).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AnswerAt(pub u64);

/// `resp`, answered at `at` (see [`AnswerAt`]) when there is one.
pub(super) fn answered_at(mut resp: Response, at: Option<u64>) -> Response {
    if let Some(at) = at {
        resp.extensions_mut().insert(AnswerAt(at));
    }
    resp
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body.clone())).into_response()
}

pub(super) fn with_headers(mut resp: Response, headers: &[(&'static str, String)]) -> Response {
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            resp.headers_mut().insert(*k, v);
        }
    }
    resp
}

pub(super) fn empty(status: StatusCode) -> Response {
    status.into_response()
}

pub(super) fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The requested resource does not support this http method.",
    )
}
