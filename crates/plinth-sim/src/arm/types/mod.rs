//! What differs between resource types, as one table: each type the flagship uses has a
//! [`Behaviour`] (how its PUT builds the stored body, what its 404 says, what finishing an
//! operation sets, what its DELETE answers, the POST actions it offers); every other type
//! gets [`GENERIC`]: stored as sent, created at once. The generic request paths (`crud`)
//! look a type up with [`behaviour`] and never test type names themselves.
//!
//! One file per resource family; the families only build on the shared write building
//! blocks (`write`, `operations`) and never on each other.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::answer::error;
use super::context::Ctx;
use super::id::IdInfo;
use super::store::{ArmWorld, Resource};
use super::write::{Outcome, base_body, new_resource, props};

mod managed_cluster;
mod managed_identity;
mod resource_group;
mod role_assignment;
mod service_bus;

/// Resource groups: the containers of the id hierarchy, which the generic paths check.
pub(super) const RESOURCE_GROUP: &str = resource_group::TYPE;

/// Role assignments, which record their author in their properties, not `systemData`.
pub(super) const ROLE_ASSIGNMENT: &str = role_assignment::TYPE;

/// A PUT: the resource to store and the answer, or an error answer.
pub(super) type Put =
    fn(&Ctx, &mut ArmWorld<'_>, &IdInfo, Option<&Resource>, &Value) -> Result<Outcome, Response>;

/// A POST action on an existing resource (`r`), by action name.
pub(super) type Action = fn(&Ctx, &ArmWorld<'_>, &IdInfo, &Resource, &str) -> Response;

/// Headers of the answer to a DELETE that started operation `op` on `existing`.
pub(super) type DeleteHeaders = fn(&Ctx, &IdInfo, &Resource, &str) -> Vec<(&'static str, String)>;

/// How a DELETE of an existing resource proceeds.
pub(super) enum Delete {
    /// Removed at once, with everything under it: 200, no body.
    Now,
    /// Removed at once: 200 with the deleted resource as the body.
    NowAnswering,
    /// A check first (which may refuse), then removed at once: 200, no body, answered when
    /// the check says (`Some(ms since the epoch)`: the delete takes that long) or at once.
    Guarded(fn(&Ctx, &mut ArmWorld<'_>, &IdInfo) -> Result<Option<u64>, Response>),
    /// A long-running operation that takes `realistic_secs` on Azure and whose `Location`
    /// answers `done_status` once done: 202 with `headers`.
    Operation {
        realistic_secs: u64,
        done_status: u16,
        headers: DeleteHeaders,
    },
}

/// The behaviour of one resource type.
pub(super) struct Behaviour {
    /// The type (`Microsoft.Resources/resourceGroups`), matched case-insensitively.
    pub rtype: &'static str,
    pub put: Put,
    /// The 404 for a missing resource of this type.
    pub not_found: fn(&IdInfo) -> Response,
    /// What a finished create/update sets besides `provisioningState: Succeeded`.
    pub finish: fn(&mut Map<String, Value>),
    /// Refuses a PATCH of `r` (a cluster busy with an operation).
    pub before_patch: fn(&Ctx, &Resource) -> Result<(), Response>,
    pub delete: Delete,
    /// A DELETE of a resource that does not exist is a 404 (else 204).
    pub delete_missing_is_404: bool,
    pub action: Option<Action>,
    /// An update that changes `properties` counts as new for the simulated controllers (its
    /// [`Resource::tick`] moves on), not only the creation.
    pub tick_on_change: bool,
}

/// Every type the flagship uses.
const TYPES: &[Behaviour] = &[
    Behaviour {
        rtype: resource_group::TYPE,
        put: resource_group::put,
        not_found: resource_group::not_found,
        delete: Delete::Operation {
            realistic_secs: 20,
            done_status: 200,
            headers: resource_group::delete_headers,
        },
        delete_missing_is_404: true,
        ..GENERIC
    },
    Behaviour {
        rtype: managed_cluster::TYPE,
        put: managed_cluster::put,
        finish: managed_cluster::finish,
        before_patch: managed_cluster::not_busy,
        delete: Delete::Operation {
            realistic_secs: 180,
            done_status: 204,
            headers: managed_cluster::delete_headers,
        },
        action: Some(managed_cluster::action),
        ..GENERIC
    },
    Behaviour {
        rtype: service_bus::NAMESPACE,
        put: service_bus::put_namespace,
        finish: service_bus::finish_namespace,
        delete: Delete::Operation {
            realistic_secs: 30,
            done_status: 200,
            headers: service_bus::delete_namespace_headers,
        },
        ..GENERIC
    },
    Behaviour {
        rtype: service_bus::QUEUE,
        put: service_bus::put_queue,
        ..GENERIC
    },
    Behaviour {
        rtype: managed_identity::IDENTITY,
        put: managed_identity::put_identity,
        ..GENERIC
    },
    Behaviour {
        rtype: managed_identity::CREDENTIAL,
        put: managed_identity::put_credential,
        delete: Delete::Guarded(managed_identity::before_delete_credential),
        tick_on_change: true,
        ..GENERIC
    },
    Behaviour {
        rtype: role_assignment::TYPE,
        put: role_assignment::put,
        not_found: role_assignment::not_found,
        delete: Delete::NowAnswering,
        ..GENERIC
    },
];

/// Any other type: stored as sent (with `provisioningState: Succeeded`), created and deleted
/// at once, no actions.
pub(super) const GENERIC: Behaviour = Behaviour {
    rtype: "",
    put: put_generic,
    not_found: not_found_generic,
    finish: |_| {},
    before_patch: |_, _| Ok(()),
    delete: Delete::Now,
    delete_missing_is_404: false,
    action: None,
    tick_on_change: false,
};

/// The behaviour of type `rtype` (any casing).
pub(super) fn behaviour(rtype: &str) -> &'static Behaviour {
    TYPES
        .iter()
        .find(|b| b.rtype.eq_ignore_ascii_case(rtype))
        .unwrap_or(&GENERIC)
}

fn put_generic(
    ctx: &Ctx,
    _world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    let mut b = base_body(info, &info.rtype, existing, input);
    props(&mut b)
        .entry("provisioningState")
        .or_insert(json!("Succeeded"));
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

fn not_found_generic(info: &IdInfo) -> Response {
    let rg = info.resource_group.clone().unwrap_or_default();
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{}/{}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            info.rtype, info.name
        ),
    )
}
