//! The curated table: what plinth knows of the flagship's seven types.

use super::*;

/// The curated types: the flagship's seven, which plinth knows force-new, computed and
/// sensitive paths, estimates and naming rules for.
pub static KNOWN: &[Known] = &[
    Known {
        type_name: RG,
        api_version: "2025-04-01",
        description: "A resource group (parent: the subscription, by default the provider's).",
        force_new: &["location"],
        computed: &["id", "type", "properties.provisioningState"],
        sensitive: &[],
        estimate_secs: 3,
        arm_type: "Microsoft.Resources/resourceGroups",
        // Only ARM's own bookkeeping (VOLATILE, VOLATILE_KEYS): `managedBy` names the
        // service that owns the group, which is stable.
        volatile: &[],
        volatile_keys: &[],
        defaulted: &[],
        name_rule: NameRule {
            min: 1,
            max: 90,
            chars: |c| c.is_alphanumeric() || "_-.()".contains(c),
            first: |_| true,
            last: |c| c != '.',
            reserved_suffixes: &[],
            describe: "1-90 characters: letters, digits, underscores, hyphens, periods and parentheses, not ending with a period",
        },
    },
    Known {
        type_name: AKS,
        api_version: "2025-10-01",
        description: "An AKS cluster (parent: a resource group).",
        force_new: &[
            "location",
            "body.properties.dnsPrefix",
            "body.properties.fqdnSubdomain",
            "body.properties.nodeResourceGroup",
            "body.properties.networkProfile.networkPlugin",
            "body.properties.networkProfile.serviceCidr",
            "body.properties.networkProfile.dnsServiceIP",
        ],
        computed: &[
            "id",
            "type",
            "identity.principalId",
            "identity.tenantId",
            "properties.provisioningState",
            "properties.powerState",
            "properties.fqdn",
            "properties.azurePortalFQDN",
            "properties.privateFQDN",
            "properties.oidcIssuerProfile.issuerURL",
            "properties.identityProfile",
            "properties.nodeResourceGroup",
            "properties.kubernetesVersion",
            "properties.currentKubernetesVersion",
            "properties.maxAgentPools",
        ],
        sensitive: &[
            "body.properties.servicePrincipalProfile.secret",
            "properties.servicePrincipalProfile.secret",
            "body.properties.windowsProfile.adminPassword",
            "properties.windowsProfile.adminPassword",
        ],
        estimate_secs: 600,
        arm_type: "Microsoft.ContainerService/ManagedClusters",
        volatile: &[
            // The version the control plane runs now: it trails `kubernetesVersion` during
            // an upgrade and moves with an auto-upgrade channel's patches, by itself. The
            // version asked for (`kubernetesVersion`) is a setting and not volatile.
            "properties.currentKubernetesVersion",
            // Not here: `agentPoolProfiles[].count`. With `enableAutoScaling` on a pool the
            // cluster autoscaler owns its count, but `is_volatile` sees a path, not the
            // object, and a pool without it has a count that is a setting (a change by hand
            // is news). A configuration whose pools autoscale says so with
            // `ignore_changes = ["body.properties.agentPoolProfiles"]` (or one pool's
            // `[0].count`): plan neither plans the count back nor reports it as not managed.
        ],
        volatile_keys: &[
            // Running/Stopped of the cluster and of each agent pool: operational status,
            // changed by start/stop operations, never by a PUT of the body (read-only).
            "powerState",
            // What a pool's nodes run now: AKS moves them by itself (node image
            // auto-upgrade weekly, the orchestrator during an upgrade).
            "currentOrchestratorVersion",
            "nodeImageVersion",
        ],
        // Computed, but a configuration may choose them (ARM picks otherwise). Identity
        // (`identity.principalId`, the kubelet identity), FQDNs and the OIDC issuer URL are
        // stable: a change to one is news, not noise.
        defaulted: &[
            "properties.kubernetesVersion",
            "properties.nodeResourceGroup",
            "properties.identityProfile",
        ],
        name_rule: NameRule {
            min: 1,
            max: 63,
            chars: |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
            first: |c| c.is_ascii_alphanumeric(),
            last: |c| c.is_ascii_alphanumeric(),
            reserved_suffixes: &[],
            describe: "1-63 characters: letters, digits, underscores and hyphens, starting and ending with a letter or digit",
        },
    },
    Known {
        type_name: SB_NAMESPACE,
        api_version: "2024-01-01",
        description: "A Service Bus namespace (parent: a resource group).",
        force_new: &["location"],
        computed: &[
            "id",
            "type",
            "properties.provisioningState",
            "properties.status",
            "properties.serviceBusEndpoint",
            "properties.metricId",
            "properties.createdAt",
            "properties.updatedAt",
        ],
        sensitive: &[],
        estimate_secs: 120,
        arm_type: "Microsoft.ServiceBus/Namespaces",
        volatile: &[
            // Activating/Active/Disabled...: the namespace's state, read-only, moved by the
            // service.
            "properties.status",
            // Timestamps the service stamps (created, last written by anyone).
            "properties.createdAt",
            "properties.updatedAt",
        ],
        // `serviceBusEndpoint` and `metricId` are stable; `minimumTlsVersion`,
        // `publicNetworkAccess`, `disableLocalAuth` are settings whose change is news.
        volatile_keys: &[],
        defaulted: &[],
        name_rule: NameRule {
            min: 6,
            max: 50,
            chars: |c| c.is_ascii_alphanumeric() || c == '-',
            first: |c| c.is_ascii_alphabetic(),
            last: |c| c.is_ascii_alphanumeric(),
            reserved_suffixes: &["-sb", "-mgmt"],
            describe: "6-50 characters: letters, digits and hyphens, starting with a letter and ending with a letter or digit, not ending with `-sb` or `-mgmt`",
        },
    },
    Known {
        type_name: SB_QUEUE,
        api_version: "2024-01-01",
        description: "A Service Bus queue (parent: its namespace).",
        force_new: &[
            "body.properties.requiresSession",
            "body.properties.enablePartitioning",
        ],
        computed: &[
            "id",
            "type",
            "properties.createdAt",
            "properties.updatedAt",
            "properties.accessedAt",
            "properties.messageCount",
            "properties.sizeInBytes",
            "properties.countDetails",
        ],
        sensitive: &[],
        estimate_secs: 5,
        arm_type: "Microsoft.ServiceBus/Namespaces/Queues",
        volatile: &[
            // Timestamps: `accessedAt` moves with every send or receive.
            "properties.createdAt",
            "properties.updatedAt",
            "properties.accessedAt",
            // Traffic, not configuration: messages come and go.
            "properties.messageCount",
            "properties.sizeInBytes",
            "properties.countDetails",
        ],
        // A queue's `status` (Active, Disabled, SendDisabled, ...) is a setting: not volatile.
        volatile_keys: &[],
        defaulted: &[],
        name_rule: NameRule {
            min: 1,
            max: 260,
            chars: |c| c.is_ascii_alphanumeric() || "._-".contains(c),
            first: |c| c.is_ascii_alphanumeric(),
            last: |c| c.is_ascii_alphanumeric(),
            reserved_suffixes: &[],
            describe: "1-260 characters: letters, digits, periods, underscores and hyphens, starting and ending with a letter or digit",
        },
    },
    Known {
        type_name: IDENTITY,
        api_version: "2024-11-30",
        description: "A user-assigned managed identity (parent: a resource group).",
        force_new: &["location"],
        computed: &[
            "id",
            "type",
            "properties.clientId",
            "properties.principalId",
            "properties.tenantId",
        ],
        sensitive: &[],
        estimate_secs: 5,
        arm_type: "Microsoft.ManagedIdentity/userAssignedIdentities",
        // `clientId`, `principalId` and `tenantId` are the identity itself, stable for its
        // life: a change means it was recreated, which every trust in it must follow.
        volatile: &[],
        volatile_keys: &[],
        defaulted: &[],
        name_rule: NameRule {
            min: 3,
            max: 128,
            chars: |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
            first: |c| c.is_ascii_alphanumeric(),
            last: |_| true,
            reserved_suffixes: &[],
            describe: "3-128 characters: letters, digits, underscores and hyphens, starting with a letter or digit",
        },
    },
    Known {
        type_name: FIC,
        api_version: "2024-11-30",
        description: "A federated identity credential (parent: its user-assigned identity). Written one at a time per identity.",
        // issuer, subject and audiences can be changed in place.
        force_new: &[],
        computed: &["id", "type"],
        sensitive: &[],
        estimate_secs: 5,
        arm_type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        // Issuer, subject and audiences are the trust itself: never volatile.
        volatile: &[],
        volatile_keys: &[],
        defaulted: &[],
        name_rule: NameRule {
            min: 3,
            max: 120,
            chars: |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
            first: |c| c.is_ascii_alphanumeric(),
            last: |_| true,
            reserved_suffixes: &[],
            describe: "3-120 characters: letters, digits, underscores and hyphens, starting with a letter or digit",
        },
    },
    Known {
        type_name: ROLE_ASSIGNMENT,
        api_version: "2022-04-01",
        description: "A role assignment (parent: any scope). `name` defaults to guid(scope, roleDefinitionId, principalId); `principalType` defaults to ServicePrincipal.",
        force_new: &[
            "body.properties.roleDefinitionId",
            "body.properties.principalId",
            "body.properties.scope",
        ],
        computed: &[
            "id",
            "type",
            "properties.scope",
            "properties.createdOn",
            "properties.updatedOn",
            "properties.createdBy",
            "properties.updatedBy",
        ],
        sensitive: &[],
        estimate_secs: 10,
        arm_type: "Microsoft.Authorization/roleAssignments",
        volatile: &[
            // Who wrote the assignment and when: bookkeeping (role assignments keep it in
            // their properties instead of `systemData`), not what it grants.
            "properties.createdOn",
            "properties.updatedOn",
            "properties.createdBy",
            "properties.updatedBy",
        ],
        volatile_keys: &[],
        defaulted: &[],
        name_rule: NameRule::GUID,
    },
];
