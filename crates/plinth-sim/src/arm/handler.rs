//! The ARM HTTP handler: every request not served by another surface arrives here and
//! passes, in order, injected faults, bearer-token authentication, the api-version check and
//! throttling, then is routed under the world's lock. After a write, the world's reaction
//! (the clusters' controllers) runs before the answer is sent; the handler receives it as a
//! function so that ARM does not depend on what reacts.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::account::metadata_endpoints;
use super::answer::{AnswerAt, error, json_response};
use super::context::Ctx;
use super::crud::settle;
use super::faults::fault;
use super::hooks::{ListPage, after_list_page};
use super::id::{Path, parse_query};
use super::routing::dispatch;
use super::store::now_ms;
use super::throttle;
use crate::{Shared, World};

#[allow(clippy::result_large_err)]
fn bearer_claims(headers: &HeaderMap) -> Result<crate::entra::Claims, Response> {
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
        Ok(claims) => Ok(claims),
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

/// Handles every ARM request. `after_write` runs, under the same lock, after a request that
/// changed the world (the crate root passes the clusters' controllers); it says whether it
/// changed the world too.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    req: Request,
    after_write: fn(&mut World) -> bool,
) -> Response {
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
    // The cloud's endpoints are read before any login, without a token.
    if path.eq_ignore_ascii_case("/metadata/endpoints") && method == axum::http::Method::GET {
        return metadata_endpoints(
            &shared.base_url,
            query.get("api-version").map(String::as_str),
        );
    }
    if path.starts_with("/_sim/") {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No simulator admin endpoint '{path}'."),
        );
    }

    // The service's round trip (the `realistic` profile's model; nothing on `instant`).
    let class = match method {
        axum::http::Method::GET | axum::http::Method::HEAD => crate::RequestClass::ArmRead,
        _ => crate::RequestClass::ArmWrite,
    };
    crate::serve_delay(&shared, class).await;

    // Injected faults come first: the request is not processed.
    let n = {
        let mut w = shared.world();
        w.arm.requests += 1;
        w.arm.requests
    };
    if let Some(resp) = fault(shared.config.seed, shared.config.faults, n) {
        return resp;
    }
    let claims = match bearer_claims(&parts.headers) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let tenant = claims.tid.clone();
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
    let class = throttle::class_of(&method);
    let remaining = match &subscription {
        Some(sub) => {
            let mut w = shared.world();
            let limit = w.arm.settings.bucket(class);
            match w.arm.buckets.take(sub, class, limit) {
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
        caller: claims.appid,
        caller_oid: claims.oid,
        api_version,
        query: &query,
    };
    let (mut resp, wrote) = {
        let mut world = shared.world();
        let (settled, resp, wrote) = {
            let mut view = world.arm_view();
            let settled = settle(&mut view, ctx.now);
            let (resp, mut wrote) = dispatch(&ctx, &mut view, &method, &segs, &body);
            // A list page served counts for the one-shot hooks, which may change the world
            // now: the next page sees the change, this one does not.
            if resp.status() == StatusCode::OK && resp.extensions().get::<ListPage>().is_some() {
                wrote |= after_list_page(&mut view, &path);
            }
            (settled, resp, wrote)
        };
        let reconciled = (wrote || settled) && after_write(&mut world);
        (resp, wrote || settled || reconciled)
    };
    if wrote && let Err(e) = shared.save() {
        tracing::warn!("could not save the simulator world: {e}");
    }
    // A write that takes a moment (a federated credential's) is answered when it is done,
    // the world's lock released meanwhile so that other requests see it in progress.
    if let Some(AnswerAt(at)) = resp.extensions_mut().remove::<AnswerAt>() {
        let wait = at.saturating_sub(now_ms());
        if wait > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
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
