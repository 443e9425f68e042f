//! The Azure built-in roles that grant Service Bus data access, by role definition GUID.
//!
//! Source: Microsoft's list of built-in roles,
//! <https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/integration>
//! (the same GUIDs as `providers/azure/src/types.rs`'s `BUILT_IN_ROLES` and the simulator's).
//! Only the data roles: `Owner` and `Contributor` grant control-plane actions, no data
//! actions, so they never let a client read or write messages.

/// What a Service Bus data role allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DataRole {
    /// The role's name, as Azure and `azure.role_definition_id("...")` write it.
    pub name: &'static str,
    /// The `Manage` claim: what KEDA's `azure-servicebus` scaler needs to read a queue's or
    /// subscription's runtime properties (its message count) with the administration client.
    pub manage: bool,
}

/// (GUID, role).
const DATA_ROLES: &[(&str, DataRole)] = &[
    (
        "090c5cfd-751d-490a-894a-3ce6f1109419",
        DataRole {
            name: "Azure Service Bus Data Owner",
            manage: true,
        },
    ),
    (
        "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
        DataRole {
            name: "Azure Service Bus Data Receiver",
            manage: false,
        },
    ),
    (
        "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
        DataRole {
            name: "Azure Service Bus Data Sender",
            manage: false,
        },
    ),
];

/// Built-in roles that grant no Service Bus data action (the other built-ins of
/// `providers/azure`'s `BUILT_IN_ROLES`): Owner, Contributor, Reader, User Access
/// Administrator, Azure Kubernetes Service Cluster User Role, Managed Identity Operator.
const NO_DATA_ROLES: &[&str] = &[
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "f1a07417-d97a-45cb-824c-7a7467783830",
];

/// What a role definition id (`/providers/Microsoft.Authorization/roleDefinitions/GUID`,
/// with or without a subscription in front, or the bare GUID) grants on Service Bus data:
/// `Some(Some(role))` a data role of the table, `Some(None)` a built-in role known to grant
/// none, `None` a role this table does not know (a custom role, whose data actions the plan
/// does not show): it cannot tell.
pub(crate) fn data_role(role_definition_id: &str) -> Option<Option<DataRole>> {
    let guid = role_definition_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if let Some((_, r)) = DATA_ROLES
        .iter()
        .find(|(g, _)| g.eq_ignore_ascii_case(guid))
    {
        return Some(Some(*r));
    }
    NO_DATA_ROLES
        .iter()
        .any(|g| g.eq_ignore_ascii_case(guid))
        .then_some(None)
}

/// The name of the data role that grants the `Manage` claim, for messages.
pub(crate) const MANAGE_ROLE: &str = "Azure Service Bus Data Owner";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_ids_in_every_form_name_the_role() {
        let owner = data_role(
            "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/090C5CFD-751D-490A-894A-3CE6F1109419",
        )
        .flatten()
        .unwrap();
        assert_eq!(owner.name, MANAGE_ROLE);
        assert!(owner.manage);
        let receiver = data_role(
            "/providers/Microsoft.Authorization/roleDefinitions/4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
        )
        .flatten()
        .unwrap();
        assert!(!receiver.manage);
        assert_eq!(
            data_role("69a216fc-b8fb-44d8-bc22-1f3c2cd27a39")
                .flatten()
                .unwrap()
                .name,
            "Azure Service Bus Data Sender"
        );
        // Owner: control plane only.
        assert_eq!(
            data_role(
                "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
            ),
            Some(None)
        );
        // A custom role: its data actions are not in the plan.
        assert_eq!(
            data_role(
                "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/5c1d1f2a-0000-4000-8000-00000000c0de"
            ),
            None
        );
    }
}
