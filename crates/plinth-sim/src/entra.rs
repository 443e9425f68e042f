//! Entra ID: the token endpoint `azure_identity` talks to (client secret and client assertion /
//! workload identity grants) and the OpenID discovery document. Tokens are JWT-shaped and
//! signed with a simulator key, so they stay valid across a restart (no token table to persist).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Shared;

const KEY: &str = "plinth-sim-entra-signing-key";

/// What a token says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The audience: the requested scope without `/.default` (e.g.
    /// `https://management.azure.com`).
    pub aud: String,
    /// The issuer, `https://sts.windows.net/{tenant}/`.
    pub iss: String,
    /// The tenant id the token was issued in.
    pub tid: String,
    /// The client (application) id the token was issued to.
    pub appid: String,
    /// The principal's object id: a UUIDv5 of `{tenant}/{client_id}`, stable across runs.
    pub oid: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: u64,
    /// Not valid before, in seconds since the Unix epoch (the issue time).
    pub nbf: u64,
    /// Expiry, in seconds since the Unix epoch (an hour after issue).
    pub exp: u64,
}

/// The Entra routes: `POST /{tenant}/oauth2/v2.0/token` and the OpenID discovery documents
/// (`/{tenant}/v2.0/.well-known/openid-configuration` and its v1 spelling).
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/{tenant}/discovery/instance", get(instance_discovery))
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
}

/// MSAL's instance discovery (`/common/discovery/instance?authorization_endpoint=…`): the
/// simulator is its own, only, alias.
async fn instance_discovery(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Response {
    let base = &shared.base_url;
    let host = base.split("://").nth(1).unwrap_or(base).to_string();
    Json(json!({
        "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }))
    .into_response()
}

/// The token signing keys. Tokens are signed with a simulator secret, not a published key,
/// so the set is empty: a client that verifies signatures itself cannot verify them.
async fn keys() -> Response {
    Json(json!({"keys": []})).into_response()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn sign(data: &str) -> String {
    let mut h = Sha256::new();
    h.update(KEY.as_bytes());
    h.update(data.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Issues a token for `client_id` in `tenant`.
pub fn issue(tenant: &str, client_id: &str, scope: &str) -> String {
    let now = now_secs();
    let aud = scope.trim_end_matches("/.default").to_string();
    let claims = Claims {
        aud,
        iss: format!("https://sts.windows.net/{tenant}/"),
        tid: tenant.to_string(),
        appid: client_id.to_string(),
        oid: uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{tenant}/{client_id}").as_bytes(),
        )
        .to_string(),
        iat: now,
        nbf: now,
        exp: now + 3599,
    };
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256","kid":"plinth-sim"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signed = format!("{header}.{payload}");
    let sig = sign(&signed);
    format!("{signed}.{sig}")
}

/// Why a bearer token was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this simulator signed: malformed, or its signature does not match.
    Invalid,
    /// A genuine token whose `exp` has passed.
    Expired,
}

/// Checks a token issued by [`issue`].
pub fn validate(token: &str) -> Result<Claims, TokenError> {
    let mut parts = token.rsplitn(2, '.');
    let (Some(sig), Some(signed)) = (parts.next(), parts.next()) else {
        return Err(TokenError::Invalid);
    };
    if sign(signed) != sig {
        return Err(TokenError::Invalid);
    }
    let payload = signed.split('.').nth(1).ok_or(TokenError::Invalid)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Invalid)?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| TokenError::Invalid)?;
    if claims.exp <= now_secs() {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let trace = uuid::Uuid::new_v4().to_string();
    let now = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace('T', " ");
    (
        status,
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {trace} Timestamp: {now}"),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": trace,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        })),
    )
        .into_response()
}

fn parse_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    body: String,
) -> Response {
    let form = parse_form(&body);
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(grant) = get("grant_type") else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    };
    if grant != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let Some(client_id) = get("client_id") else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    match (get("client_secret"), get("client_assertion")) {
        (Some(_), _) => {}
        (None, Some(assertion)) => {
            if get("client_assertion_type")
                != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    50027,
                    "The client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
                );
            }
            let claims = assertion
                .split('.')
                .nth(1)
                .filter(|_| assertion.split('.').count() == 3)
                .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
            let Some(claims) = claims else {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client",
                    50027,
                    "JWT token is invalid or malformed.",
                );
            };
            if let Err(msg) = check_federation(&shared, client_id, &claims) {
                return aad_error(StatusCode::BAD_REQUEST, "invalid_client", 70021, &msg);
            }
        }
        (None, None) => {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            );
        }
    }
    let scope = get("scope").unwrap_or("https://management.azure.com/.default");
    let access_token = issue(&tenant, client_id, scope);
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token})).into_response()
}

/// For a user-assigned identity's client id, the assertion must match one of its federated
/// identity credentials (issuer, subject, audience), as Entra checks. Other client ids (app
/// registrations the simulator does not model) are accepted.
fn check_federation(
    shared: &Shared,
    client_id: &str,
    claims: &serde_json::Value,
) -> Result<(), String> {
    let world = shared.world();
    let Some(identity) = world.arm.resources.iter().find(|(_, r)| {
        r.body
            .pointer("/properties/clientId")
            .and_then(|v| v.as_str())
            .is_some_and(|c| c.eq_ignore_ascii_case(client_id))
            && r.body
                .get("type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| {
                    t.eq_ignore_ascii_case("Microsoft.ManagedIdentity/userAssignedIdentities")
                })
    }) else {
        return Ok(());
    };
    let prefix = format!("{}/federatedidentitycredentials/", identity.0);
    let iss = claims
        .get("iss")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let sub = claims
        .get("sub")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let auds: Vec<&str> = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => vec![a.as_str()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => vec![],
    };
    let matched = world
        .arm
        .resources
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .any(|(_, fic)| {
            let p = &fic.body["properties"];
            p["issuer"].as_str() == Some(iss)
                && p["subject"].as_str() == Some(sub)
                && p["audiences"].as_array().is_some_and(|a| {
                    a.iter()
                        .any(|x| x.as_str().is_some_and(|x| auds.contains(&x)))
                })
        });
    if matched {
        Ok(())
    } else {
        Err(format!(
            "No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation subject '{sub}'."
        ))
    }
}

async fn openid_configuration(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Response {
    let base = &shared.base_url;
    Json(json!({
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }))
    .into_response()
}

/// An AKS cluster's OIDC issuer (`oidcIssuerProfile.issuerURL` = `{base}/oidc/{cluster}/`):
/// its discovery document and (empty) key set. `None` if `path` is not one of those.
pub fn cluster_issuer(shared: &Shared, path: &str) -> Option<Response> {
    let rest = path.strip_prefix("/oidc/")?;
    let (cluster, doc) = rest.split_once('/')?;
    if !shared.world().clusters.contains_key(cluster) {
        return Some(StatusCode::NOT_FOUND.into_response());
    }
    let issuer = format!("{}/oidc/{cluster}/", shared.base_url);
    Some(match doc {
        ".well-known/openid-configuration" => Json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}openid/v1/jwks"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
        .into_response(),
        // The simulator does not verify service account token signatures.
        "openid/v1/jwks" => Json(json!({"keys": []})).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    })
}
