//! `Microsoft.Resources/resourceGroups`: created at once, deleted as a long-running
//! operation that takes everything inside with it.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::answer::error;
use super::super::context::Ctx;
use super::super::id::IdInfo;
use super::super::store::{ArmWorld, Resource};
use super::super::write::{Outcome, base_body, new_resource, props, require_location};

pub(super) const TYPE: &str = "Microsoft.Resources/resourceGroups";

/// PUT: the location is kept from the existing group when the body has none.
pub(super) fn put(
    ctx: &Ctx,
    _world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    require_location(existing, input)?;
    let mut b = base_body(info, TYPE, existing, input);
    if let Some(ex) = existing
        && b.get("location").is_none()
    {
        b["location"] = ex.body["location"].clone();
    }
    props(&mut b).insert("provisioningState".into(), json!("Succeeded"));
    Ok(Outcome {
        status: if existing.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        resource: new_resource(ctx, info, existing, b),
        headers: vec![],
        body: None,
        answer_at: None,
    })
}

/// ARM's 404 for a resource group.
pub(super) fn not_found(info: &IdInfo) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{}' could not be found.", info.name),
    )
}

/// The answer to a DELETE (a 20 s operation on Azure): a `Location` to poll.
pub(super) fn delete_headers(
    ctx: &Ctx,
    info: &IdInfo,
    _existing: &Resource,
    op: &str,
) -> Vec<(&'static str, String)> {
    let sub = info.subscription.clone().unwrap_or_default();
    let loc = format!(
        "{}/subscriptions/{sub}/operationresults/{op}?api-version={}",
        ctx.shared.base_url, ctx.api_version
    );
    vec![("location", loc), ("retry-after", "15".into())]
}
