//! `Microsoft.Authorization/roleAssignments` at any scope: the name must be a GUID, the role
//! definition must exist (built in or custom), a principal created moments ago is unknown
//! without `principalType` (Entra's replication delay), duplicates and changes of principal or
//! role are refused; a DELETE answers the deleted assignment.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::super::answer::error;
use super::super::context::Ctx;
use super::super::id::{IdInfo, key};
use super::super::roles;
use super::super::store::{ArmWorld, Resource, rfc3339};
use super::super::write::{Outcome, base_body, props, put_answer};

pub(super) const TYPE: &str = "Microsoft.Authorization/roleAssignments";
const RA: &str = TYPE;

/// ARM's 404 for a role assignment.
pub(super) fn not_found(info: &IdInfo) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        format!("The role assignment '{}' is not found.", info.name),
    )
}

/// When the principal `principal_id` (an identity's, a cluster's, a kubelet's) was created,
/// and its principal type.
fn principal_of(world: &ArmWorld<'_>, principal_id: &str) -> Option<(u64, &'static str)> {
    let pid = principal_id.to_ascii_lowercase();
    world.arm.resources.values().find_map(|r| {
        let uai = r
            .body
            .pointer("/properties/principalId")
            .and_then(Value::as_str);
        let sys = r
            .body
            .pointer("/identity/principalId")
            .and_then(Value::as_str);
        let kubelet = r
            .body
            .pointer("/properties/identityProfile/kubeletidentity/objectId")
            .and_then(Value::as_str);
        [uai, sys, kubelet]
            .into_iter()
            .flatten()
            .any(|p| p.eq_ignore_ascii_case(&pid))
            .then_some((r.created_ms, "ServicePrincipal"))
    })
}

/// PUT.
pub(super) fn put(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    if uuid::Uuid::parse_str(&info.name).is_err() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{}' is not valid. The role assignment ID must be a GUID.",
                info.name
            ),
        ));
    }
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    let (Some(role_def), Some(principal)) = (
        in_props
            .get("roleDefinitionId")
            .and_then(Value::as_str)
            .map(str::to_string),
        in_props
            .get("principalId")
            .and_then(Value::as_str)
            .map(str::to_string),
    ) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid: 'roleDefinitionId' and 'principalId' are required.",
        ));
    };
    let role_guid = role_def
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let custom = world.arm.resources.values().any(|r| {
        r.body
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Authorization/roleDefinitions"))
            && r.body
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(&role_guid))
    });
    if roles::by_guid(&role_guid).is_none() && !custom {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{role_guid}' does not exist."),
        ));
    }
    let given_type = in_props
        .get("principalType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let known = principal_of(world, &principal);
    if given_type.is_none()
        && let Some((created, _)) = known
        && ctx.now < created + ctx.principal_window_ms(&world.arm.settings)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "PrincipalNotFound",
            format!(
                "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                principal.replace('-', ""),
                ctx.tenant
            ),
        ));
    }
    let scope_key = key(&info.scope);
    let k = key(&info.id);
    let duplicate = world.arm.resources.iter().any(|(rk, r)| {
        *rk != k
            && r.body
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(RA))
            && r.body
                .pointer("/properties/scope")
                .and_then(Value::as_str)
                .map(key)
                .as_deref()
                == Some(scope_key.as_str())
            && r.body
                .pointer("/properties/principalId")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case(&principal))
            && r.body
                .pointer("/properties/roleDefinitionId")
                .and_then(Value::as_str)
                .and_then(|d| d.rsplit('/').next())
                .is_some_and(|g| g.eq_ignore_ascii_case(&role_guid))
    });
    if duplicate {
        return Err(error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ));
    }
    if let Some(ex) = existing {
        let same_principal = ex
            .body
            .pointer("/properties/principalId")
            .and_then(Value::as_str)
            .is_some_and(|p| p.eq_ignore_ascii_case(&principal));
        let same_role = ex
            .body
            .pointer("/properties/roleDefinitionId")
            .and_then(Value::as_str)
            .and_then(|d| d.rsplit('/').next())
            .is_some_and(|g| g.eq_ignore_ascii_case(&role_guid));
        if !same_principal || !same_role {
            return Err(error(
                StatusCode::CONFLICT,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
    }
    let principal_type =
        given_type.unwrap_or_else(|| known.map(|k| k.1).unwrap_or("ServicePrincipal").to_string());
    let created_on = existing
        .and_then(|r| r.body.pointer("/properties/createdOn").cloned())
        .unwrap_or(json!(rfc3339(ctx.now)));
    let scope = if info.scope.is_empty() {
        "/".to_string()
    } else {
        existing
            .and_then(|r| {
                r.body
                    .pointer("/properties/scope")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or(info.scope.clone())
    };
    // ARM answers a built-in role's id under the assignment's subscription, whatever
    // scope the request named it at.
    let role_def = match (&info.subscription, roles::by_guid(&role_guid)) {
        (Some(sub), Some(_)) => {
            format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
            )
        }
        _ => role_def,
    };
    let mut b = base_body(info, RA, existing, &json!({}));
    let p = props(&mut b);
    p.insert("roleDefinitionId".into(), json!(role_def));
    p.insert("principalId".into(), json!(principal));
    p.insert("principalType".into(), json!(principal_type));
    p.insert("scope".into(), json!(scope));
    p.insert(
        "condition".into(),
        in_props.get("condition").cloned().unwrap_or(Value::Null),
    );
    p.insert(
        "conditionVersion".into(),
        in_props
            .get("conditionVersion")
            .cloned()
            .unwrap_or(Value::Null),
    );
    p.insert("createdOn".into(), created_on);
    p.insert("updatedOn".into(), json!(rfc3339(ctx.now)));
    // The principal that made it, as the recordings show (not `systemData`).
    let created_by = existing
        .and_then(|r| r.body.pointer("/properties/createdBy").cloned())
        .unwrap_or(json!(ctx.caller_oid));
    p.insert("createdBy".into(), created_by);
    p.insert("updatedBy".into(), json!(ctx.caller_oid));
    p.insert("delegatedManagedIdentityResourceId".into(), Value::Null);
    p.insert(
        "description".into(),
        in_props.get("description").cloned().unwrap_or(Value::Null),
    );
    Ok(put_answer(ctx, info, existing, b))
}
