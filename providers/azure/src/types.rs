//! ARM resource types: parsing `Namespace/type[/child...]@api-version`, building resource ids,
//! the curated knowledge of the flagship's seven types, and the built-in role table.

use std::time::Duration;

/// A parsed ARM type, e.g. `Microsoft.ServiceBus/namespaces/queues@2024-01-01`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmType {
    /// `Microsoft.ServiceBus`.
    pub namespace: String,
    /// `["namespaces", "queues"]`.
    pub types: Vec<String>,
    /// `2024-01-01`.
    pub api_version: String,
}

fn is_segment(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl ArmType {
    /// Parses `Namespace/type[/child...]@api-version`; `None` when malformed.
    pub fn parse(s: &str) -> Option<ArmType> {
        let (path, api) = s.split_once('@')?;
        let api_ok = api.len() >= 10
            && api.as_bytes()[..10].iter().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    *b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
            && api[10..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !api_ok {
            return None;
        }
        let mut parts = path.split('/');
        let namespace = parts.next()?;
        let ns_ok = namespace.contains('.')
            && namespace
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !ns_ok {
            return None;
        }
        let types: Vec<String> = parts.map(str::to_string).collect();
        if types.is_empty() || !types.iter().all(|t| is_segment(t)) {
            return None;
        }
        Some(ArmType {
            namespace: namespace.to_string(),
            types,
            api_version: api.to_string(),
        })
    }

    /// `Microsoft.ServiceBus/namespaces/queues`.
    pub fn full(&self) -> String {
        format!("{}/{}", self.namespace, self.types.join("/"))
    }

    /// Whether this is `t` (case-insensitive, without api-version).
    pub fn is(&self, t: &str) -> bool {
        self.full().eq_ignore_ascii_case(t)
    }

    /// Whether this is `Microsoft.Resources/resourceGroups`.
    pub fn is_resource_group(&self) -> bool {
        self.is(RG)
    }

    /// A child type (`namespaces/queues`): its parent is another resource of this provider.
    pub fn is_child(&self) -> bool {
        self.types.len() > 1
    }

    /// The curated knowledge of this type, if it is one of the seven.
    pub fn known(&self) -> Option<&'static Known> {
        KNOWN.iter().find(|k| self.is(k.type_name))
    }

    /// The `type` an object of this type has, as ARM spells it: the curated casing
    /// ([`Known::arm_type`]). `None` for a type plinth does not curate: ARM answers in its
    /// own casing (`Microsoft.Web/sites` may come back as `Microsoft.Web/Sites`), which the
    /// type as written does not tell, so a plan shows it known only after apply rather than
    /// a value apply would change.
    pub fn arm_type(&self) -> Option<&'static str> {
        self.known().map(|k| k.arm_type)
    }

    /// Whether the service owns attribute `path` of this type and changes it by itself:
    /// [`VOLATILE`] and [`VOLATILE_KEYS`] for every type, the curated [`Known::volatile`].
    pub fn is_volatile(&self, path: &plinth_value::Path) -> bool {
        VOLATILE.iter().any(|v| path.starts_with(&static_path(v)))
            || has_key(path, VOLATILE_KEYS)
            || self.known().is_some_and(|k| k.is_volatile(path))
    }

    /// The resource id of an object of this type named `name` under `parent`. Resource
    /// groups default to the subscription (`sub`) as parent.
    pub fn resource_id(
        &self,
        parent: Option<&str>,
        name: &str,
        sub: Option<&str>,
    ) -> Result<String, String> {
        let parent = parent.map(|p| p.trim().trim_end_matches('/').to_string());
        if self.is_resource_group() {
            let p = match parent {
                Some(p) if !p.is_empty() => p,
                _ => format!(
                    "/subscriptions/{}",
                    sub.ok_or("no subscription is configured for resource groups: set ARM_SUBSCRIPTION_ID or [provider.azure] subscription_id, or give `parent = \"/subscriptions/ID\"`")?
                ),
            };
            return Ok(format!("{p}/resourceGroups/{name}"));
        }
        let Some(parent) = parent else {
            return Err(format!(
                "`parent` is required for {}: {}",
                self.full(),
                if self.is_child() {
                    "the id of the parent resource"
                } else {
                    "a resource group id, or any scope for extension types"
                }
            ));
        };
        if self.is_child() {
            Ok(format!(
                "{parent}/{}/{name}",
                self.types.last().expect("child type")
            ))
        } else {
            Ok(format!(
                "{parent}/providers/{}/{}/{name}",
                self.namespace, self.types[0]
            ))
        }
    }
}

/// The parent (or scope) part of a resource id: everything before the last
/// `/providers/NS/type/name` for top-level types, before `/type/name` otherwise.
pub fn parent_of(id: &str, t: &ArmType) -> String {
    let segs: Vec<&str> = id.trim_end_matches('/').split('/').collect();
    let cut = if t.is_child() || t.is_resource_group() {
        2
    } else {
        4
    };
    segs[..segs.len().saturating_sub(cut)].join("/")
}

/// The resource group type.
pub const RG: &str = "Microsoft.Resources/resourceGroups";
/// The AKS managed cluster type.
pub const AKS: &str = "Microsoft.ContainerService/managedClusters";
/// The Service Bus namespace type.
pub const SB_NAMESPACE: &str = "Microsoft.ServiceBus/namespaces";
/// The Service Bus queue type (a child of a namespace).
pub const SB_QUEUE: &str = "Microsoft.ServiceBus/namespaces/queues";
/// The user-assigned managed identity type.
pub const IDENTITY: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
/// The federated identity credential type (a child of a user-assigned identity).
pub const FIC: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";
/// The role assignment type (an extension type: its parent is any scope).
pub const ROLE_ASSIGNMENT: &str = "Microsoft.Authorization/roleAssignments";

/// What plinth knows about one of the curated types.
pub struct Known {
    /// The type, without api-version (one of the constants above, e.g. [`AKS`]).
    pub type_name: &'static str,
    /// The api-version `type_names()` lists.
    pub api_version: &'static str,
    /// One sentence on what the type is, put before the generic description in its schema.
    pub description: &'static str,
    /// Input paths (besides `name` and `parent`) whose change replaces the object.
    pub force_new: &'static [&'static str],
    /// Attribute paths the service sets (unknown until the object exists).
    pub computed: &'static [&'static str],
    /// Input and attribute paths that are secrets.
    pub sensitive: &'static [&'static str],
    /// How long a create typically takes, in seconds.
    pub estimate_secs: u64,
    /// ARM's naming rules for the type.
    pub name_rule: NameRule,
    /// The type as ARM's answers spell it in `type` (`Microsoft.ServiceBus/Namespaces`): the
    /// value a plan shows before the object exists, so that it reads as the object will.
    pub arm_type: &'static str,
    /// Attribute paths the service owns and changes by itself (besides [`VOLATILE`] and
    /// [`VOLATILE_KEYS`], which hold for every ARM type): a path under one is volatile too.
    /// Each entry says why; stable identity (`clientId`, `principalId`, `tenantId`), FQDNs
    /// and settings are never volatile.
    pub volatile: &'static [&'static str],
    /// Keys that are volatile wherever they appear in the body (a nested profile's status).
    pub volatile_keys: &'static [&'static str],
    /// Paths of [`Known::computed`] that a configuration may set too (ARM picks a value when
    /// it does not): the only computed paths an input sets (see [`Known::read_only`]).
    pub defaulted: &'static [&'static str],
}

/// Attribute paths every ARM resource's service owns and changes by itself: `systemData`
/// (ARM's record of who created and last modified the object, and when: it changes on every
/// write, plinth's included) and `etag` (a new one on every write).
pub const VOLATILE: &[&str] = &["systemData", "etag"];

/// Keys volatile wherever they appear in any ARM body: `provisioningState` is the state of
/// the last operation on the resource (or on a nested profile, such as an AKS agent pool),
/// which ARM moves through `Creating`/`Updating`/`Succeeded` by itself (ARM's resource
/// provider contract), never a setting.
pub const VOLATILE_KEYS: &[&str] = &["provisioningState"];

/// Attribute paths no input sets, whatever the type: the id and type (made from `parent`,
/// `name` and the type string) and ARM's bookkeeping.
pub const NOT_INPUTS: &[&str] = &["id", "type", "systemData", "etag"];

impl Known {
    /// Whether the service owns `path` and changes it by itself (see [`Known::volatile`]).
    pub fn is_volatile(&self, path: &plinth_value::Path) -> bool {
        self.volatile
            .iter()
            .any(|v| path.starts_with(&static_path(v)))
            || has_key(path, self.volatile_keys)
    }

    /// Whether `path` is a computed path no input sets: a computed path that is not
    /// [`Known::defaulted`].
    pub fn read_only(&self, path: &plinth_value::Path) -> bool {
        self.computed
            .iter()
            .any(|c| path.starts_with(&static_path(c)))
            && !self
                .defaulted
                .iter()
                .any(|d| path.starts_with(&static_path(d)))
    }
}

/// Whether any key of `path` is one of `keys`.
pub fn has_key(path: &plinth_value::Path, keys: &[&str]) -> bool {
    path.segments()
        .iter()
        .any(|s| matches!(s, plinth_value::PathSeg::Key(k) if keys.contains(&k.as_str())))
}

/// A path written in this file (static, so it parses).
pub fn static_path(s: &str) -> plinth_value::Path {
    s.parse().expect("static path")
}

impl Known {
    /// How long a create typically takes ([`Known::estimate_secs`]), to put the
    /// critical path first.
    pub fn estimate(&self) -> Duration {
        Duration::from_secs(self.estimate_secs)
    }
}

/// ARM's naming rules of a type (Azure's "Naming rules and restrictions for Azure
/// resources"): length in characters, which characters, and which may come first and last.
pub struct NameRule {
    /// The fewest characters a name may have.
    pub min: usize,
    /// The most characters a name may have.
    pub max: usize,
    /// Whether a character may appear in the name at all.
    pub chars: fn(char) -> bool,
    /// Whether a character may start the name.
    pub first: fn(char) -> bool,
    /// Whether a character may end the name.
    pub last: fn(char) -> bool,
    /// Endings the service reserves (compared ignoring case): a name ending with one is
    /// refused even though its characters are fine.
    pub reserved_suffixes: &'static [&'static str],
    /// The rule in words, for the error.
    pub describe: &'static str,
}

impl NameRule {
    /// Role assignments: a GUID.
    pub const GUID: NameRule = NameRule {
        min: 36,
        max: 36,
        chars: |c| c.is_ascii_hexdigit() || c == '-',
        first: |c| c.is_ascii_hexdigit(),
        last: |c| c.is_ascii_hexdigit(),
        reserved_suffixes: &[],
        describe: "a GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301 (leave `name` out and plinth derives one with guid(scope, roleDefinitionId, principalId))",
    };

    fn check(&self, name: &str) -> Result<(), String> {
        let n = name.chars().count();
        let ok = (self.min..=self.max).contains(&n)
            && name.chars().all(self.chars)
            && name.chars().next().is_some_and(self.first)
            && name.chars().last().is_some_and(self.last)
            && (self.min != 36 || uuid::Uuid::parse_str(name).is_ok());
        if !ok {
            return Err(format!("ARM requires {}", self.describe));
        }
        let lower = name.to_ascii_lowercase();
        if let Some(suffix) = self.reserved_suffixes.iter().find(|s| lower.ends_with(*s)) {
            let fix = if n + 2 <= self.max {
                format!(
                    "rename it, e.g. to {}",
                    plinth_value::Value::from(format!("{name}ns")).render()
                )
            } else {
                "rename it so it ends otherwise".to_string()
            };
            let all = self
                .reserved_suffixes
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(format!(
                "it ends with `{suffix}`, and ARM refuses names ending with {all} (the service reserves them): {fix}"
            ));
        }
        Ok(())
    }
}

/// The characters that change what an ARM URL addresses (a path separator, the start of a
/// query or fragment, an escape): never part of a name, nor of a segment of a parent id.
fn url_meta(c: char) -> bool {
    matches!(c, '/' | '\\' | '?' | '#' | '%') || c.is_control()
}

/// Checks a name against what any ARM name must be (one URL path segment: not empty, not `.`
/// or `..`, no `/`, `\`, `?`, `#`, `%` or control characters), then against the type's own
/// rules when plinth knows them. The error says what the name must be.
pub fn check_name(t: &ArmType, name: &str) -> Result<(), String> {
    let shown = plinth_value::Value::from(name).render();
    if name.is_empty() {
        return Err("`name` is empty: give the resource a name".into());
    }
    if name == "." || name == ".." || name.contains(url_meta) {
        return Err(format!(
            "`name` {shown} is not a valid ARM name: a name is one segment of the resource id, so it cannot be `.` or `..` or hold `/`, `\\`, `?`, `#`, `%` or control characters; to put the resource under another one, set `parent`"
        ));
    }
    if let Some(k) = t.known() {
        k.name_rule.check(name).map_err(|rule| {
            format!(
                "`name` {shown} is not a valid name for {}: {rule}",
                k.type_name
            )
        })?;
    }
    Ok(())
}

/// Checks that a parent (a resource id or scope) cannot address anything but what it says:
/// it starts with `/`, and no segment is empty, `.` or `..` or holds `\`, `?`, `#`, `%` or
/// control characters.
pub fn check_parent(parent: &str) -> Result<(), String> {
    let shown = plinth_value::Value::from(parent).render();
    let trimmed = parent.trim().trim_end_matches('/');
    let Some(rest) = trimmed.strip_prefix('/') else {
        return Err(format!(
            "`parent` must be a resource id starting with `/`, found {shown}"
        ));
    };
    if rest.is_empty() {
        return Err(format!(
            "`parent` {shown} names no scope: give a resource id such as /subscriptions/ID/resourceGroups/NAME"
        ));
    }
    if rest
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == ".." || seg.contains(url_meta))
    {
        return Err(format!(
            "`parent` {shown} is not a resource id: its segments cannot be empty, `.` or `..`, or hold `\\`, `?`, `#`, `%` or control characters"
        ));
    }
    Ok(())
}

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

/// Built-in role definitions: (role name, GUID). The same GUIDs as Azure's (and the simulator's).
pub static BUILT_IN_ROLES: &[(&str, &str)] = &[
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    ),
    (
        "Azure Service Bus Data Owner",
        "090c5cfd-751d-490a-894a-3ce6f1109419",
    ),
    (
        "Azure Service Bus Data Sender",
        "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    ),
    (
        "Azure Service Bus Data Receiver",
        "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    ),
    (
        "Azure Kubernetes Service Cluster User Role",
        "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    ),
    (
        "Managed Identity Operator",
        "f1a07417-d97a-45cb-824c-7a7467783830",
    ),
];

/// The built-in role a role definition id names, by its GUID (the table above, read the other
/// way): the id in any of its forms, compared ignoring case, `/providers/Microsoft.
/// Authorization/roleDefinitions/GUID` (as `azure.role_definition_id` writes it) or under a
/// scope, `/subscriptions/SUB/providers/...` (as ARM answers it). `None` for a GUID not in the
/// table (a custom role, or one plinth does not know): never a guess.
pub fn role_name(role_definition_id: &str) -> Option<&'static str> {
    let id = role_definition_id.trim().trim_end_matches('/');
    let segs: Vec<&str> = id.split('/').collect();
    let n = segs.len();
    if n < 5 || !segs[0].is_empty() {
        return None;
    }
    let tail_ok = segs[n - 4].eq_ignore_ascii_case("providers")
        && segs[n - 3].eq_ignore_ascii_case("Microsoft.Authorization")
        && segs[n - 2].eq_ignore_ascii_case("roleDefinitions");
    // The scope before `/providers/Microsoft.Authorization/...`: none, or whole segments.
    if !tail_ok || segs[1..n - 4].iter().any(|s| s.is_empty()) {
        return None;
    }
    let guid = uuid::Uuid::parse_str(segs[n - 1]).ok()?;
    BUILT_IN_ROLES
        .iter()
        .find(|(_, g)| uuid::Uuid::parse_str(g).is_ok_and(|g| g == guid))
        .map(|(name, _)| *name)
}

/// The tenant-relative id of a built-in role, by name (case-insensitive); the error suggests
/// the nearest name.
pub fn role_definition_id(name: &str) -> Result<String, String> {
    match BUILT_IN_ROLES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
    {
        Some((_, guid)) => Ok(format!(
            "/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        )),
        None => {
            let hint = match plinth_expr::did_you_mean(name, BUILT_IN_ROLES.iter().map(|r| r.0)) {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => format!(
                    "known roles: {}",
                    BUILT_IN_ROLES
                        .iter()
                        .map(|r| r.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Err(format!("no built-in role named \"{name}\"; {hint}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types() {
        let t = ArmType::parse("Microsoft.ServiceBus/namespaces/queues@2024-01-01").unwrap();
        assert_eq!(t.namespace, "Microsoft.ServiceBus");
        assert_eq!(t.types, vec!["namespaces", "queues"]);
        assert!(t.is_child() && t.known().is_some());
        assert!(ArmType::parse("Microsoft.Web/sites@2023-01-01-preview").is_some());
        for bad in [
            "Microsoft.Web/sites",
            "Microsoft.Web@2023-01-01",
            "Web/sites@2023-01-01",
            "Microsoft.Web/sites@latest",
            "Microsoft.Web//x@2023-01-01",
            "Microsoft.Web/si tes@2023-01-01",
        ] {
            assert!(ArmType::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn builds_ids() {
        let rg = ArmType::parse("Microsoft.Resources/resourceGroups@2025-04-01").unwrap();
        assert_eq!(
            rg.resource_id(None, "x", Some("s")).unwrap(),
            "/subscriptions/s/resourceGroups/x"
        );
        assert!(rg.resource_id(None, "x", None).is_err());
        let aks = ArmType::parse("Microsoft.ContainerService/managedClusters@2025-10-01").unwrap();
        let id = aks
            .resource_id(Some("/subscriptions/s/resourceGroups/g"), "k", None)
            .unwrap();
        assert_eq!(
            id,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/k"
        );
        assert_eq!(parent_of(&id, &aks), "/subscriptions/s/resourceGroups/g");
        let q = ArmType::parse("Microsoft.ServiceBus/namespaces/queues@2024-01-01").unwrap();
        let qid = q.resource_id(Some("/n/"), "q", None).unwrap();
        assert_eq!(qid, "/n/queues/q");
        assert_eq!(parent_of(&qid, &q), "/n");
        let ra = ArmType::parse("Microsoft.Authorization/roleAssignments@2022-04-01").unwrap();
        assert_eq!(
            ra.resource_id(Some("/x/y"), "g", None).unwrap(),
            "/x/y/providers/Microsoft.Authorization/roleAssignments/g"
        );
        assert!(ra.resource_id(None, "g", None).is_err());
    }

    #[test]
    fn names_are_checked_by_arm_rules() {
        let t = |s: &str| ArmType::parse(s).unwrap();
        let rg = t("Microsoft.Resources/resourceGroups@2025-04-01");
        for bad in [
            "injrg/../../resourceGroups/victimrg",
            "..",
            ".",
            "a\\b",
            "a?b",
            "a#b",
            "a%2Fb",
            "a\u{0}b",
            "a\nb",
            "",
            "ends-with-period.",
        ] {
            assert!(check_name(&rg, bad).is_err(), "{bad:?}");
        }
        let e = check_name(&rg, "injrg/../../resourceGroups/victimrg").unwrap_err();
        assert!(e.contains("set `parent`"), "{e}");
        assert!(
            check_name(&rg, &"r".repeat(91))
                .unwrap_err()
                .contains("1-90")
        );
        for good in ["g", "my-rg_(1).x", "Grupo-ÅÄÖ"] {
            check_name(&rg, good).unwrap();
        }
        let aks = t("Microsoft.ContainerService/managedClusters@2025-10-01");
        assert!(check_name(&aks, "-k").is_err() && check_name(&aks, "k.8").is_err());
        check_name(&aks, "k").unwrap();
        let sb = t("Microsoft.ServiceBus/namespaces@2024-01-01");
        assert!(check_name(&sb, "sb-1").is_err() && check_name(&sb, "1abcdef").is_err());
        check_name(&sb, "kedademo-sbns").unwrap();
        check_name(&sb, "kedademo-bus").unwrap();
        for bad in ["kedademo-sb", "kedademo-SB", "kedademo-mgmt"] {
            let e = check_name(&sb, bad).unwrap_err();
            assert!(
                e.contains("ARM refuses names ending with `-sb` or `-mgmt`")
                    && e.contains(&format!("rename it, e.g. to \"{bad}ns\"")),
                "{e}"
            );
        }
        let long = format!("{}-sb", "a".repeat(47));
        let e = check_name(&sb, &long).unwrap_err();
        assert!(e.contains("rename it so it ends otherwise"), "{e}");
        let mi = t("Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30");
        assert!(check_name(&mi, "ab").is_err());
        check_name(&mi, "sec-mi").unwrap();
        let ra = t("Microsoft.Authorization/roleAssignments@2022-04-01");
        assert!(check_name(&ra, "not-a-guid-but-thirty-six-characters").is_err());
        check_name(&ra, "3f2504e0-4f89-11d3-9a0c-0305e82c3301").unwrap();
        // Types plinth does not curate get the rules every ARM name follows.
        let web = t("Microsoft.Web/sites@2024-04-01");
        check_name(&web, "any name.").unwrap();
        assert!(check_name(&web, "a/b").is_err());

        check_parent("/subscriptions/s/resourceGroups/g").unwrap();
        check_parent("/subscriptions/s/resourceGroups/g/").unwrap();
        for bad in [
            "/subscriptions/s/resourceGroups/g/../h",
            "subscriptions/s",
            "/",
            "/s//x",
            "/s/x?y",
            "/s/x#y",
        ] {
            assert!(check_parent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_names_by_id_in_every_form() {
        let guid = "090c5cfd-751d-490a-894a-3ce6f1109419";
        for id in [
            format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
            format!(
                "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            ),
            format!(
                "/SUBSCRIPTIONS/s/PROVIDERS/microsoft.authorization/ROLEDEFINITIONS/{}/",
                guid.to_uppercase()
            ),
            format!(
                "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            ),
        ] {
            assert_eq!(role_name(&id), Some("Azure Service Bus Data Owner"), "{id}");
        }
        // Every name in the table maps back to itself: one table, both ways.
        for (name, _) in BUILT_IN_ROLES {
            assert_eq!(role_name(&role_definition_id(name).unwrap()), Some(*name));
        }
        for id in [
            // A GUID not in the table: no guess.
            "/providers/Microsoft.Authorization/roleDefinitions/3f2504e0-4f89-11d3-9a0c-0305e82c3301".to_string(),
            // A bare GUID, or another kind of id, is not a role definition id.
            guid.to_string(),
            format!("/providers/Microsoft.Authorization/roleAssignments/{guid}"),
            format!("/subscriptions//providers/Microsoft.Authorization/roleDefinitions/{guid}"),
            "/providers/Microsoft.Authorization/roleDefinitions/not-a-guid".to_string(),
        ] {
            assert_eq!(role_name(&id), None, "{id}");
        }
    }

    #[test]
    fn volatile_attributes_are_decided_per_type() {
        let t = |s: &str| ArmType::parse(s).unwrap();
        let p = |s: &str| static_path(s);
        let aks = t("Microsoft.ContainerService/managedClusters@2025-10-01");
        for v in [
            "properties.provisioningState",
            "properties.powerState.code",
            "properties.agentPoolProfiles[0].provisioningState",
            "properties.agentPoolProfiles[0].nodeImageVersion",
            "properties.currentKubernetesVersion",
            "systemData.lastModifiedAt",
            "etag",
        ] {
            assert!(aks.is_volatile(&p(v)), "{v}");
        }
        for stable in [
            "identity.principalId",
            "properties.kubernetesVersion",
            "properties.oidcIssuerProfile.issuerURL",
            "properties.fqdn",
            // The autoscaler's only when the pool autoscales: see AKS's `volatile`.
            "properties.agentPoolProfiles[0].count",
            "properties",
        ] {
            assert!(!aks.is_volatile(&p(stable)), "{stable}");
        }
        let mi = t("Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30");
        for stable in [
            "properties.clientId",
            "properties.principalId",
            "properties.tenantId",
        ] {
            assert!(!mi.is_volatile(&p(stable)), "{stable}");
        }
        let q = t("Microsoft.ServiceBus/namespaces/queues@2024-01-01");
        assert!(q.is_volatile(&p("properties.countDetails.activeMessageCount")));
        assert!(q.is_volatile(&p("properties.accessedAt")));
        assert!(
            !q.is_volatile(&p("properties.status")),
            "a queue's status is a setting"
        );
        let ns = t("Microsoft.ServiceBus/namespaces@2024-01-01");
        assert!(ns.is_volatile(&p("properties.status")));
        assert!(!ns.is_volatile(&p("properties.minimumTlsVersion")));
        let ra = t("Microsoft.Authorization/roleAssignments@2022-04-01");
        assert!(ra.is_volatile(&p("properties.updatedOn")));
        assert!(!ra.is_volatile(&p("properties.scope")));
        // Types plinth does not curate: ARM's own bookkeeping only.
        let web = t("Microsoft.Web/sites@2024-04-01");
        assert!(web.is_volatile(&p("properties.provisioningState")));
        assert!(!web.is_volatile(&p("properties.state")));
        // Curated casing of `type`, as ARM answers it.
        assert_eq!(ns.arm_type(), Some("Microsoft.ServiceBus/Namespaces"));
        assert_eq!(web.arm_type(), None);
    }

    /// A plan shows `type` known only when apply cannot change it: the curated casing of
    /// the seven types; for any other type ARM's own casing, which the type as written does
    /// not tell (`Microsoft.Web/sites` may answer `Microsoft.Web/Sites`), is known after
    /// apply.
    #[tokio::test]
    async fn planned_type_is_known_only_in_curated_casing() {
        use plinth_provider::{NullReporter, Provider, Request};
        use plinth_value::Value;
        let mut s = crate::AzureSettings::from_lookup(|_| None);
        s.subscription_id = Some("sub".into());
        let pr = crate::AzureProvider::new(s);
        let plan = |t: &'static str, parent: &'static str| {
            let cfg = Value::from(serde_json::json!({"name": "plinthdemo", "parent": parent,
                "location": "eastus", "body": {"properties": {}}}));
            let pr = &pr;
            async move {
                let req = Request::new(t, "x", &NullReporter);
                pr.plan(&req, None, &cfg).await.unwrap().attributes
            }
        };
        let group = "/subscriptions/sub/resourceGroups/g";
        let web = plan("Microsoft.Web/sites@2024-04-01", group).await;
        assert_eq!(web.get(&static_path("type")), Some(Value::Unknown));
        assert!(web.get(&static_path("id")).is_some());
        let ns = plan("Microsoft.ServiceBus/namespaces@2024-01-01", group).await;
        assert_eq!(
            ns.get(&static_path("type")),
            Some(Value::from("Microsoft.ServiceBus/Namespaces"))
        );
        // Written in another casing, a curated type still plans ARM's.
        let mi = plan(
            "microsoft.managedidentity/USERASSIGNEDIDENTITIES@2024-11-30",
            group,
        )
        .await;
        assert_eq!(
            mi.get(&static_path("type")),
            Some(Value::from(
                "Microsoft.ManagedIdentity/userAssignedIdentities"
            ))
        );
    }

    #[test]
    fn roles_by_name() {
        assert_eq!(
            role_definition_id("azure service bus data owner").unwrap(),
            "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"
        );
        let e = role_definition_id("Azure Service Bus Data Ownr").unwrap_err();
        assert!(
            e.contains("did you mean \"Azure Service Bus Data Owner\""),
            "{e}"
        );
    }
}
