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

mod known;
mod roles;

pub use known::KNOWN;
pub use roles::{BUILT_IN_ROLES, role_definition_id, role_name};

#[cfg(test)]
mod tests;
