//! The API server's answers: errors as Kubernetes `Status` objects ([`ApiError`]) and JSON
//! bodies with their content type.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::fields;
use super::resources::Res;

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

    pub(super) fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    pub(crate) fn bad_request(message: &str) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    pub(super) fn unknown_resource() -> ApiError {
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

pub(super) fn json_response(
    status: StatusCode,
    body: &Value,
    content_type: Option<&'static str>,
) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type.unwrap_or("application/json")),
    );
    resp
}

pub(super) fn ok(body: Value) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &body, None))
}
