//! Request bodies checked as ARM checks them before a resource provider sees them, for the
//! types the flagship uses: the top-level members of a resource definition (ARM's front
//! door deserializes it and refuses a member it does not know), their JSON types, the
//! location of a tracked resource's creation, and the types of the properties ARM itself
//! reads for role assignments and federated identity credentials. The answers are ARM's:
//! `InvalidRequestContent` with the deserializer's words, `LocationRequired`.
//!
//! What each resource provider checks on its own (required properties, allowed values,
//! immutable fields) stays in its type's file.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::answer::error;
use super::id::IdInfo;
use super::write::location_required;

/// The members of ARM's resource definition.
const TOP_LEVEL: &[&str] = &[
    "id",
    "name",
    "type",
    "location",
    "tags",
    "properties",
    "sku",
    "kind",
    "plan",
    "identity",
    "managedBy",
    "zones",
    "extendedLocation",
    "systemData",
    "etag",
    "scale",
    "apiVersion",
];

/// Tracked types (created with a location), by ARM type.
const TRACKED: &[&str] = &[
    "Microsoft.Resources/resourceGroups",
    "Microsoft.ContainerService/managedClusters",
    "Microsoft.ServiceBus/namespaces",
    "Microsoft.ManagedIdentity/userAssignedIdentities",
];

/// The flagship's types, whose bodies are checked here.
const CHECKED: &[&str] = &[
    "Microsoft.Resources/resourceGroups",
    "Microsoft.ContainerService/managedClusters",
    "Microsoft.ServiceBus/namespaces",
    "Microsoft.ServiceBus/namespaces/queues",
    "Microsoft.ManagedIdentity/userAssignedIdentities",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    "Microsoft.Authorization/roleAssignments",
];

fn invalid(detail: String) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

fn converting(value: &Value, to: &str, path: &str) -> Response {
    invalid(format!(
        "Error converting value {value} to type '{to}'. Path '{path}'"
    ))
}

/// JSON kinds, by the .NET type ARM's deserializer names.
#[derive(Clone, Copy)]
enum Kind {
    String,
    Object,
    Array,
}

fn check(body: &Value, path: &str, kind: Kind) -> Result<(), Response> {
    let mut v = body;
    for part in path.split('.') {
        match v.get(part) {
            Some(x) => v = x,
            None => return Ok(()),
        }
    }
    let (ok, to) = match kind {
        Kind::String => (v.is_string() || v.is_null(), "System.String"),
        Kind::Object => (v.is_object() || v.is_null(), "Newtonsoft.Json.Linq.JObject"),
        Kind::Array => (v.is_array() || v.is_null(), "System.String[]"),
    };
    if ok {
        Ok(())
    } else {
        Err(converting(v, to, path))
    }
}

/// Checks a PUT body for `info`'s type; `creating` when no resource exists yet.
pub(super) fn put_body(info: &IdInfo, input: &Value, creating: bool) -> Result<(), Response> {
    if !CHECKED.iter().any(|t| info.type_is(t)) {
        return Ok(());
    }
    let Some(obj) = input.as_object() else {
        return Ok(());
    };
    if let Some(unknown) = obj.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
        return Err(invalid(format!(
            "Could not find member '{unknown}' on object of type 'ResourceDefinition'. Path '{unknown}'"
        )));
    }
    for (path, kind) in [
        ("location", Kind::String),
        ("kind", Kind::String),
        ("managedBy", Kind::String),
        ("tags", Kind::Object),
        ("properties", Kind::Object),
        ("sku", Kind::Object),
        ("identity", Kind::Object),
        ("zones", Kind::Array),
    ] {
        check(input, path, kind)?;
    }
    if let Some(Value::Object(tags)) = obj.get("tags")
        && let Some((k, v)) = tags.iter().find(|(_, v)| !v.is_string())
    {
        return Err(converting(v, "System.String", &format!("tags.{k}")));
    }
    if creating
        && TRACKED.iter().any(|t| info.type_is(t))
        && !obj.get("location").is_some_and(Value::is_string)
    {
        return Err(location_required());
    }
    let props: &[(&str, Kind)] = if info.type_is("Microsoft.Authorization/roleAssignments") {
        &[
            ("properties.roleDefinitionId", Kind::String),
            ("properties.principalId", Kind::String),
            ("properties.principalType", Kind::String),
            ("properties.description", Kind::String),
            ("properties.condition", Kind::String),
            ("properties.conditionVersion", Kind::String),
        ]
    } else if info
        .type_is("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")
    {
        &[
            ("properties.issuer", Kind::String),
            ("properties.subject", Kind::String),
            ("properties.audiences", Kind::Array),
        ]
    } else {
        &[]
    };
    for (path, kind) in props {
        check(input, path, *kind)?;
    }
    if let Some(t) = input
        .pointer("/properties/principalType")
        .and_then(Value::as_str)
        && info.type_is("Microsoft.Authorization/roleAssignments")
        && ![
            "User",
            "Group",
            "ServicePrincipal",
            "ForeignGroup",
            "Device",
        ]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(t))
    {
        return Err(converting(
            &Value::String(t.into()),
            "Microsoft.Azure.Management.Authorization.Models.PrincipalType",
            "properties.principalType",
        ));
    }
    if let Some(Value::Array(auds)) = input.pointer("/properties/audiences")
        && let Some((i, v)) = auds.iter().enumerate().find(|(_, v)| !v.is_string())
    {
        return Err(converting(
            v,
            "System.String",
            &format!("properties.audiences[{i}]"),
        ));
    }
    Ok(())
}
