//! Built-in Azure role definitions (real GUIDs, as `az role definition list` shows them).

use serde_json::{Value, json};

/// (roleName, GUID, description, actions, dataActions)
pub type Role = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

pub const BUILT_IN: &[Role] = &[
    (
        "Owner",
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        &["*"],
        &[],
    ),
    (
        "Contributor",
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        &["*"],
        &[],
    ),
    (
        "Reader",
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "View all resources, but does not allow you to make any changes.",
        &["*/read"],
        &[],
    ),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "Lets you manage user access to Azure resources.",
        &["*/read", "Microsoft.Authorization/*"],
        &[],
    ),
    (
        "Azure Service Bus Data Owner",
        "090c5cfd-751d-490a-894a-3ce6f1109419",
        "Allows for full access to Azure Service Bus resources.",
        &["Microsoft.ServiceBus/*"],
        &["Microsoft.ServiceBus/*"],
    ),
    (
        "Azure Service Bus Data Sender",
        "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
        "Allows for send access to Azure Service Bus resources.",
        &[
            "Microsoft.ServiceBus/*/queues/read",
            "Microsoft.ServiceBus/*/topics/read",
        ],
        &["Microsoft.ServiceBus/*/send/action"],
    ),
    (
        "Azure Service Bus Data Receiver",
        "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
        "Allows for receive access to Azure Service Bus resources.",
        &[
            "Microsoft.ServiceBus/*/queues/read",
            "Microsoft.ServiceBus/*/topics/read",
        ],
        &["Microsoft.ServiceBus/*/receive/action"],
    ),
    (
        "Azure Kubernetes Service Cluster User Role",
        "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
        "List cluster user credential action.",
        &["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"],
        &[],
    ),
    (
        "Managed Identity Operator",
        "f1a07417-d97a-45cb-824c-7a7467783830",
        "Read and Assign User Assigned Identity",
        &[
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
        ],
        &[],
    ),
];

/// The definition as ARM returns it, with its id under `scope` (`""` for tenant level).
pub fn definition(scope: &str, index: usize) -> Value {
    let (name, guid, description, actions, data_actions) = BUILT_IN[index];
    json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": guid,
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": description,
            "assignableScopes": ["/"],
            "permissions": [{"actions": actions, "notActions": [], "dataActions": data_actions, "notDataActions": []}],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null
        }
    })
}

pub fn by_guid(guid: &str) -> Option<usize> {
    BUILT_IN.iter().position(|r| r.1.eq_ignore_ascii_case(guid))
}

pub fn by_name(name: &str) -> Option<usize> {
    BUILT_IN.iter().position(|r| r.0.eq_ignore_ascii_case(name))
}
