//! Managed identities: `userAssignedIdentities` (client and principal ids generated once)
//! and their `federatedIdentityCredentials` (issuer and subject required; one write at a time
//! per identity, as Entra allows: a concurrent one answers 409).
//!
//! A credential write (PUT or DELETE) is synchronous on Azure (200/201, no long-running
//! operation) but takes a moment: it is in progress from its arrival until its answer, and
//! only a write arriving meanwhile meets `409 ConcurrentFederatedIdentityCredentialsWrites
//! ForSingleManagedIdentity`. Once answered, the identity takes the next write. The evidence:
//! azurerm fixed the 409 (hashicorp/terraform-provider-azurerm#19968) with a mutex per
//! identity around each create/update/delete call and no wait after it (#20003, tested with
//! six credentials of one identity; its go-azure-sdk client does not retry a 409), Azure
//! Verified Modules with `@batchSize(1)`, one credential deployment after the other
//! (Azure/bicep-registry-modules#1447, #1462), and confidential-containers saw the 409 only in
//! parallel runs, never in sequential ones (confidential-containers/cloud-api-adaptor#1351).
//! So the simulator holds a credential write's answer for `fic_write_ms` (the write's
//! duration) and keeps the identity busy exactly that long, not after the answer.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::answer::error;
use super::super::context::Ctx;
use super::super::id::{IdInfo, key};
use super::super::store::{ArmWorld, Resource};
use super::super::write::{Outcome, base_body, new_resource, props, put_answer, require_location};

pub(super) const IDENTITY: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
pub(super) const CREDENTIAL: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";

/// PUT of an identity.
pub(super) fn put_identity(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    require_location(existing, input)?;
    let mut b = base_body(info, IDENTITY, existing, input);
    let old = existing
        .map(|r| r.body["properties"].clone())
        .unwrap_or(json!({}));
    let client = match old.get("clientId") {
        Some(v) => v.clone(),
        None => json!(ctx.guid(world.arm, "uai-client")),
    };
    let principal = match old.get("principalId") {
        Some(v) => v.clone(),
        None => json!(ctx.guid(world.arm, "uai-principal")),
    };
    let tenant = old.get("tenantId").cloned().unwrap_or(json!(ctx.tenant));
    let p = props(&mut b);
    p.entry("isolationScope").or_insert(json!("None"));
    p.insert("tenantId".into(), tenant);
    p.insert("principalId".into(), principal);
    p.insert("clientId".into(), client);
    let resource = new_resource(ctx, info, existing, b);
    let headers = if existing.is_none() {
        vec![("location", resource.id.clone())]
    } else {
        vec![]
    };
    Ok(Outcome {
        status: if existing.is_none() {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        resource,
        headers,
        body: None,
        answer_at: None,
    })
}

/// Claims the identity for a federated credential write, or answers 409 if another is in
/// progress (arrived and not yet answered). Returns when this write's answer is due: the
/// identity is busy until then.
fn fic_lock(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    parent_key: &str,
    fic_key: &str,
) -> Result<Option<u64>, Response> {
    let ms = ctx.fic_write_ms(&world.arm.settings);
    let Some(parent) = world.arm.resources.get_mut(parent_key) else {
        return Ok(None);
    };
    if let Some((other, until)) = &parent.fic_write
        && *until > ctx.now
        && other != fic_key
    {
        return Err(error(
            StatusCode::CONFLICT,
            "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
            format!(
                "Too many Federated Identity Credentials are written concurrently for the managed identity '{}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.",
                parent.id
            ),
        ));
    }
    let until = ctx.now + ms;
    parent.fic_write = Some((fic_key.to_string(), until));
    Ok((ms > 0).then_some(until))
}

/// PUT of a federated identity credential.
pub(super) fn put_credential(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    for required in ["issuer", "subject"] {
        if in_props
            .get(required)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("The request is missing the required property '{required}'."),
            ));
        }
    }
    let parent = key(info.parent.as_deref().unwrap_or_default());
    let answer_at = fic_lock(ctx, world, &parent, &key(&info.id))?;
    let mut b = base_body(info, CREDENTIAL, existing, &json!({"properties": in_props}));
    props(&mut b)
        .entry("audiences")
        .or_insert(json!(["api://AzureADTokenExchange"]));
    Ok(Outcome {
        answer_at,
        ..put_answer(ctx, info, existing, b)
    })
}

/// A DELETE of a credential is a write under its identity too; returns when its answer is due.
pub(super) fn before_delete_credential(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
) -> Result<Option<u64>, Response> {
    let parent = key(info.parent.as_deref().unwrap_or_default());
    fic_lock(ctx, world, &parent, &key(&info.id))
}
