//! The links of the chain, each checked over the plan's objects.

mod accounts;
mod credentials;
mod keda;
mod restart;
mod roles;

use std::collections::{BTreeSet, HashMap};

use plinth_addr::Address;
use plinth_plan::{Action, Finding, FindingSource, Plan, ResourceChange, Severity};
use plinth_value::{Path, Value};

use crate::model::{
    CLIENT_ID_ANNOTATION, CLUSTER, CREDENTIAL, IDENTITY, KEDA_NS, KEDA_SA, Obj, Objects,
    ROLE_ASSIGNMENT, SB_NAMESPACE, Side, Tri, bare, marked_str, path, quote,
};
use crate::origin::Tracer;
use crate::roles::{DataRole, MANAGE_ROLE, data_role};

/// The audience Entra ID's token exchange expects of a federated credential.
pub(crate) const AUDIENCE: &str = "api://AzureADTokenExchange";
const ISSUER_URL: &str = "properties.oidcIssuerProfile.issuerURL";
const CLIENT_ID: &str = "properties.clientId";
const PRINCIPAL_ID: &str = "properties.principalId";
/// How a Kubernetes service account's token names its subject.
const SA_PREFIX: &str = "system:serviceaccount:";
/// How many objects a message lists before it says how many more there are.
const LISTED: usize = 5;

/// The subject of KEDA's operator's tokens, in namespace `ns`.
fn keda_subject(ns: &str) -> String {
    format!("{SA_PREFIX}{ns}:{KEDA_SA}")
}

/// The namespace of KEDA's operator a credential subject names: `keda-operator` in any
/// namespace (the AKS add-on's is `kube-system`, Helm's default `keda`).
fn operator_subject_ns(subject: &str) -> Option<&str> {
    parse_subject(subject).and_then(|(ns, name)| (name == KEDA_SA).then_some(ns))
}

fn annotation_path() -> Path {
    path("metadata.annotations").key(CLIENT_ID_ANNOTATION)
}

struct Identity<'p> {
    obj: Obj<'p>,
    /// The ARM id, lower case; `None` when unknown.
    id: Option<String>,
    client_id: Side,
    principal_id: Side,
}

struct Credential<'p> {
    obj: Obj<'p>,
    /// The parent identity's ARM id, lower case.
    parent: Option<String>,
    issuer: Side,
    subject: Side,
}

struct Cluster<'p> {
    obj: Obj<'p>,
    issuer: Side,
}

struct Account<'p> {
    obj: Obj<'p>,
    ns: Option<String>,
    name: Option<String>,
    client_id: Side,
}

impl Account<'_> {
    /// KEDA's operator's ServiceAccount (`<ns>/keda-operator`): its namespace.
    fn operator_ns(&self) -> Option<&str> {
        (self.name.as_deref() == Some(KEDA_SA))
            .then_some(self.ns.as_deref())
            .flatten()
    }
}

struct TriggerAuth<'p> {
    obj: Obj<'p>,
    cluster_scoped: bool,
    ns: Option<String>,
    name: Option<String>,
    identity_id: Side,
    /// The identities (indices into `identities`) KEDA authenticates as for it.
    resolved: Vec<usize>,
}

struct Role<'p> {
    obj: Obj<'p>,
    principal: Side,
    /// `Some(None)`: a built-in role that is no Service Bus data role; `None`: unknown, or
    /// a role the table does not know (a custom role): cannot tell.
    role: Option<Option<DataRole>>,
    /// The scope, lower case; `None` when unknown.
    scope: Option<String>,
    scope_sensitive: bool,
}

/// Lookups that keep the rules linear in the size of the plan.
#[derive(Default)]
struct Index {
    /// Identities by their lower-case ARM id.
    identity_by_id: HashMap<String, usize>,
    /// Identities by their address.
    identity_by_address: HashMap<String, usize>,
    /// Identities by lower-case known client id and principal id.
    identity_by_client: HashMap<String, Vec<usize>>,
    identity_by_principal: HashMap<String, Vec<usize>>,
    /// Some identity that exists has a client id (principal id) the plan does not know: a
    /// known value may be it.
    unsure_client: bool,
    unsure_principal: bool,
    /// Credentials by known subject and by parent identity id.
    credential_by_subject: HashMap<String, Vec<usize>>,
    credential_by_parent: HashMap<String, Vec<usize>>,
    /// Some credential's subject is not known.
    unknown_subject: bool,
    /// Known `(namespace, name)` of the declared ServiceAccounts.
    accounts: std::collections::HashSet<(String, String)>,
    /// Some ServiceAccount's namespace or name is not known.
    unknown_account: bool,
    /// Role assignments by lower-case known principal id, by the address their unknown
    /// principal comes from, and those whose principal cannot be told.
    role_by_principal: HashMap<String, Vec<usize>>,
    role_by_origin: HashMap<String, Vec<usize>>,
    role_unsure: Vec<usize>,
    /// Clusters by known OIDC issuer and by address; whether an existing cluster's issuer is
    /// not known (then a known issuer may be its).
    cluster_by_issuer: HashMap<String, usize>,
    cluster_by_address: HashMap<String, usize>,
    unsure_issuer: bool,
}

/// Everything the rules look at, read once.
pub(crate) struct Chain<'p, 't> {
    objects: Objects<'p>,
    tracer: &'t Tracer<'t>,
    identities: Vec<Identity<'p>>,
    credentials: Vec<Credential<'p>>,
    clusters: Vec<Cluster<'p>>,
    accounts: Vec<Account<'p>>,
    auths: Vec<TriggerAuth<'p>>,
    roles: Vec<Role<'p>>,
    index: Index,
    /// A `--target` plan holds only some objects: that an object is absent from it says
    /// nothing, so the links that need one (a declared account, a credential, a role) are
    /// not checked.
    partial: bool,
    /// The namespace KEDA's operator runs in, as the plan shows it (a declared
    /// `<ns>/keda-operator` ServiceAccount, a restart of `<ns>/Deployment/keda-operator`, a
    /// credential for `system:serviceaccount:<ns>:keda-operator`), else the add-on's.
    keda_ns: String,
    /// The namespaces the plan shows KEDA's operator in (a declared ServiceAccount, a
    /// restart's target): when there are any, a credential for the operator in another one
    /// is not its (its pods' tokens name their own namespace).
    operator_namespaces: BTreeSet<String>,
    findings: Vec<Finding>,
}

fn lower(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim_end_matches('/').to_ascii_lowercase())
}

/// The known string at `name` of a change's configured inputs.
fn config_str(change: &ResourceChange, name: &str) -> Option<String> {
    change
        .config
        .as_ref()?
        .get(&path(name))?
        .as_str()
        .map(str::to_string)
}

/// `system:serviceaccount:NS:NAME` → `(NS, NAME)`.
fn parse_subject(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix(SA_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// The host suffixes of Service Bus namespaces in Azure's clouds: public, China, US
/// Government.
const SB_HOST_SUFFIXES: &[&str] = &[
    ".servicebus.windows.net",
    ".servicebus.chinacloudapi.cn",
    ".servicebus.usgovcloudapi.net",
];

/// A trigger's `metadata.namespace` as a namespace name: its host name (`NAME.servicebus.
/// windows.net`, or another cloud's) cut to `NAME`.
fn namespace_name(value: &str) -> &str {
    let lower = value.to_ascii_lowercase();
    SB_HOST_SUFFIXES
        .iter()
        .find(|s| lower.ends_with(*s))
        .map_or(value, |s| &value[..value.len() - s.len()])
}

/// Whether a role assignment's scope covers an ARM id (the id itself or one of its parents).
fn covers(scope: &str, id: &str) -> bool {
    let scope = scope.trim_end_matches('/');
    scope.is_empty() || id == scope || id.starts_with(&format!("{scope}/"))
}

impl<'p, 't> Chain<'p, 't> {
    pub(crate) fn new(plan: &'p Plan, tracer: &'t Tracer<'t>) -> Self {
        let objects = Objects::of(plan);
        let identities: Vec<Identity<'p>> = objects
            .azure_of(IDENTITY)
            .map(|o| Identity {
                id: lower(o.str("id")),
                client_id: o.side(&path(CLIENT_ID), tracer),
                principal_id: o.side(&path(PRINCIPAL_ID), tracer),
                obj: o.clone(),
            })
            .collect();
        let credentials: Vec<Credential<'p>> = objects
            .azure_of(CREDENTIAL)
            .map(|o| {
                let parent = config_str(o.change, "parent").or_else(|| {
                    let id = o.str("id")?;
                    let at = id
                        .to_ascii_lowercase()
                        .find("/federatedidentitycredentials/")?;
                    Some(id[..at].to_string())
                });
                Credential {
                    parent: lower(parent),
                    issuer: o.side(&path("properties.issuer"), tracer),
                    subject: o.side(&path("properties.subject"), tracer),
                    obj: o.clone(),
                }
            })
            .collect();
        let clusters: Vec<Cluster<'p>> = objects
            .azure_of(CLUSTER)
            .map(|o| Cluster {
                issuer: o.side(&path(ISSUER_URL), tracer),
                obj: o.clone(),
            })
            .collect();
        let accounts: Vec<Account<'p>> = objects
            .kind("ServiceAccount")
            .map(|o| Account {
                ns: o.namespace(),
                name: o.str("metadata.name"),
                client_id: o.side(&annotation_path(), tracer),
                obj: o.clone(),
            })
            .collect();
        let mut auths: Vec<TriggerAuth<'p>> = Vec::new();
        for (kind, cluster_scoped) in [
            ("TriggerAuthentication", false),
            ("ClusterTriggerAuthentication", true),
        ] {
            for o in objects.kind(kind) {
                if o.str("spec.podIdentity.provider").as_deref() != Some("azure-workload") {
                    continue;
                }
                auths.push(TriggerAuth {
                    cluster_scoped,
                    ns: o.namespace(),
                    name: o.str("metadata.name"),
                    identity_id: o.side(&path("spec.podIdentity.identityId"), tracer),
                    resolved: vec![],
                    obj: o.clone(),
                });
            }
        }
        let roles: Vec<Role<'p>> = objects
            .azure_of(ROLE_ASSIGNMENT)
            .map(|o| {
                let role = match o.get(&path("properties.roleDefinitionId")) {
                    Some(v) if v.is_unknown() => None,
                    Some(v) => v.as_str().and_then(data_role),
                    None => Some(None),
                };
                let scope = o
                    .get(&path("properties.scope"))
                    .and_then(|v| marked_str(&v))
                    .or_else(|| {
                        let parent = o.change.config.as_ref()?.get(&path("parent"))?;
                        marked_str(&parent)
                    });
                Role {
                    principal: o.side(&path(PRINCIPAL_ID), tracer),
                    role,
                    scope_sensitive: scope.as_ref().is_some_and(|(_, s)| *s),
                    scope: lower(scope.map(|(s, _)| s)),
                    obj: o.clone(),
                }
            })
            .collect();
        let mut index = Index::default();
        for (i, ident) in identities.iter().enumerate() {
            if let Some(id) = &ident.id {
                index.identity_by_id.entry(id.clone()).or_insert(i);
            }
            index
                .identity_by_address
                .insert(ident.obj.address().to_string(), i);
            for (side, by, unsure) in [
                (
                    &ident.client_id,
                    &mut index.identity_by_client,
                    &mut index.unsure_client,
                ),
                (
                    &ident.principal_id,
                    &mut index.identity_by_principal,
                    &mut index.unsure_principal,
                ),
            ] {
                match side.known() {
                    Some(v) => by.entry(v.to_ascii_lowercase()).or_default().push(i),
                    None => *unsure |= !ident.obj.is_new(),
                }
            }
        }
        for (i, c) in clusters.iter().enumerate() {
            index
                .cluster_by_address
                .insert(c.obj.address().to_string(), i);
            match &c.issuer {
                Side::Known { value, .. } => {
                    index.cluster_by_issuer.entry(value.clone()).or_insert(i);
                }
                Side::Missing => {}
                _ => index.unsure_issuer |= !c.obj.is_new(),
            }
        }
        for (i, cred) in credentials.iter().enumerate() {
            match cred.subject.known() {
                Some(s) => index
                    .credential_by_subject
                    .entry(s.to_string())
                    .or_default()
                    .push(i),
                None => index.unknown_subject = true,
            }
            if let Some(parent) = &cred.parent {
                index
                    .credential_by_parent
                    .entry(parent.clone())
                    .or_default()
                    .push(i);
            }
        }
        for a in &accounts {
            match (&a.ns, &a.name) {
                (Some(ns), Some(name)) => {
                    index.accounts.insert((ns.clone(), name.clone()));
                }
                _ => index.unknown_account = true,
            }
        }
        for (i, role) in roles.iter().enumerate() {
            match &role.principal {
                Side::Known { value, .. } => index
                    .role_by_principal
                    .entry(value.to_ascii_lowercase())
                    .or_default()
                    .push(i),
                Side::From(o) if objects.is_azure(&o.address) => index
                    .role_by_origin
                    .entry(o.address.clone())
                    .or_default()
                    .push(i),
                Side::Missing => {}
                Side::From(_) | Side::Opaque => index.role_unsure.push(i),
            }
        }
        let operator_namespaces: BTreeSet<String> =
            accounts
                .iter()
                .filter_map(|a| a.operator_ns().map(str::to_string))
                .chain(objects.restarts.iter().filter_map(|r| {
                    operator_target_ns(&config_str(r, "target")?).map(str::to_string)
                }))
                .collect();
        let keda_ns = accounts
            .iter()
            .find_map(|a| a.operator_ns().map(str::to_string))
            .or_else(|| {
                objects
                    .restarts
                    .iter()
                    .find_map(|r| operator_target_ns(&config_str(r, "target")?).map(str::to_string))
            })
            .or_else(|| {
                credentials
                    .iter()
                    .find_map(|c| operator_subject_ns(c.subject.known()?).map(str::to_string))
            })
            .unwrap_or_else(|| KEDA_NS.to_string());
        Chain {
            keda_ns,
            operator_namespaces,
            index,
            objects,
            tracer,
            identities,
            credentials,
            clusters,
            accounts,
            auths,
            roles,
            partial: !plan.targets.is_empty(),
            findings: vec![],
        }
    }

    pub(crate) fn run(mut self) -> Vec<Finding> {
        self.credentials_rules();
        self.account_rules();
        self.trigger_auth_rules();
        self.data_role_rules();
        self.principal_rules();
        self.restart_rules();
        let mut seen = BTreeSet::new();
        self.findings
            .retain(|f| seen.insert((f.rule.clone(), f.address.clone(), f.message.clone())));
        self.findings
    }

    /// Reports a finding of `rule` at `obj`, located at the attribute `attr` (its
    /// declaration when none): the one place a finding is made.
    fn push(
        &mut self,
        rule: &str,
        obj: &Obj<'_>,
        attr: Option<Path>,
        message: String,
        fix: String,
    ) {
        let location = obj.locate(attr.as_ref(), self.tracer);
        self.findings.push(Finding {
            source: FindingSource::IdentityChain,
            rule: rule.to_string(),
            severity: Severity::Warn,
            address: Some(obj.address().to_string()),
            message,
            fix: Some(fix),
            location,
        });
    }

    /// Whether `side` is `theirs`, the value of attribute `attr` of `obj` (an identity's
    /// client or principal id, a cluster's issuer): a known value is compared with theirs
    /// (ignoring case: ids are GUIDs; issuers are looked up exactly in the index and never
    /// compared here), one known after apply by where it comes from.
    fn value_of(&self, side: &Side, obj: &Obj<'_>, theirs: &Side, attr: &str) -> Tri {
        let tri = |yes: bool| if yes { Tri::Yes } else { Tri::No };
        match side {
            Side::Known { value, .. } => match theirs {
                Side::Known { value: v, .. } => tri(v.eq_ignore_ascii_case(value)),
                _ if obj.is_new() => Tri::No,
                _ => Tri::Maybe,
            },
            Side::From(o) if o.address == obj.address() => tri(o.attr == path(attr)),
            Side::From(o) if self.objects.is_azure(&o.address) => Tri::No,
            Side::From(_) | Side::Opaque => Tri::Maybe,
            Side::Missing => Tri::No,
        }
    }

    /// Whether `side` is the attribute `attr` (client or principal id) of identity `ident`.
    fn names(&self, side: &Side, ident: &Identity<'_>, attr: &str) -> Tri {
        let theirs = if attr == CLIENT_ID {
            &ident.client_id
        } else {
            &ident.principal_id
        };
        self.value_of(side, &ident.obj, theirs, attr)
    }

    /// The cluster whose OIDC issuer `side` is, and whether the plan
    /// shows it is some cluster's (Yes), none's (No) or cannot tell (Maybe).
    fn issuer_matching(&self, side: &Side) -> (Option<usize>, Tri) {
        let by_address = |a: &str| self.index.cluster_by_address.get(a).copied();
        match side {
            Side::Known { value, .. } => match self.index.cluster_by_issuer.get(value.as_str()) {
                Some(&i) => (Some(i), Tri::Yes),
                None if self.index.unsure_issuer => (None, Tri::Maybe),
                None => (None, Tri::No),
            },
            Side::From(o) => match by_address(&o.address) {
                Some(i) => match self.value_of(
                    side,
                    &self.clusters[i].obj,
                    &self.clusters[i].issuer,
                    ISSUER_URL,
                ) {
                    Tri::Yes => (Some(i), Tri::Yes),
                    other => (None, other),
                },
                None if self.objects.is_azure(&o.address) => (None, Tri::No),
                None => (None, Tri::Maybe),
            },
            Side::Opaque => (None, Tri::Maybe),
            Side::Missing => (None, Tri::No),
        }
    }

    fn identity_by_id(&self, id: Option<&String>) -> Option<usize> {
        self.index.identity_by_id.get(id?.as_str()).copied()
    }

    /// The identities `side` is the attribute `attr` of (the `Yes`es of [`Self::names`] over
    /// every identity, found through the index), and whether the plan shows
    /// it is some identity's (Yes), none's (No) or cannot tell (Maybe).
    fn matching(&self, side: &Side, attr: &str) -> (Vec<usize>, Tri) {
        if self.identities.is_empty() {
            return (vec![], Tri::No);
        }
        let (by, unsure) = if attr == CLIENT_ID {
            (&self.index.identity_by_client, self.index.unsure_client)
        } else {
            (
                &self.index.identity_by_principal,
                self.index.unsure_principal,
            )
        };
        match side {
            Side::Known { value, .. } => {
                let yes = by
                    .get(&value.to_ascii_lowercase())
                    .cloned()
                    .unwrap_or_default();
                let tri = if !yes.is_empty() {
                    Tri::Yes
                } else if unsure {
                    Tri::Maybe
                } else {
                    Tri::No
                };
                (yes, tri)
            }
            Side::From(o) => match self.index.identity_by_address.get(&o.address) {
                Some(&i) if o.attr == path(attr) => (vec![i], Tri::Yes),
                Some(_) => (vec![], Tri::No),
                None if self.objects.is_azure(&o.address) => (vec![], Tri::No),
                None => (vec![], Tri::Maybe),
            },
            Side::Opaque => (vec![], Tri::Maybe),
            Side::Missing => (vec![], Tri::No),
        }
    }

    /// The role assignments whose principal may be identity `i`, with how sure that is
    /// ([`Self::names`] of their principal id; those that are surely not are left out).
    fn roles_of(&self, i: usize) -> Vec<(usize, Tri)> {
        let ident = &self.identities[i];
        let Some(principal) = ident.principal_id.known() else {
            if !ident.obj.is_new() {
                // A principal the plan does not know: every role is compared.
                return (0..self.roles.len())
                    .map(|r| (r, self.names(&self.roles[r].principal, ident, PRINCIPAL_ID)))
                    .filter(|(_, t)| *t != Tri::No)
                    .collect();
            }
            return self.by_origin(i);
        };
        let mut out: Vec<(usize, Tri)> = self
            .index
            .role_by_principal
            .get(&principal.to_ascii_lowercase())
            .map(|rs| rs.iter().map(|&r| (r, Tri::Yes)).collect())
            .unwrap_or_default();
        out.extend(self.by_origin(i));
        out
    }

    /// The roles whose unknown principal comes from identity `i`, and those whose principal
    /// cannot be told.
    fn by_origin(&self, i: usize) -> Vec<(usize, Tri)> {
        let ident = &self.identities[i];
        let mut out: Vec<(usize, Tri)> = self
            .index
            .role_by_origin
            .get(ident.obj.address())
            .map(|rs| {
                rs.iter()
                    .map(|&r| (r, self.names(&self.roles[r].principal, ident, PRINCIPAL_ID)))
                    .filter(|(_, t)| *t != Tri::No)
                    .collect()
            })
            .unwrap_or_default();
        out.extend(self.index.role_unsure.iter().map(|&r| (r, Tri::Maybe)));
        out
    }

    /// The identity a credential belongs to, for messages.
    fn parent_name(&self, cred: &Credential<'_>) -> String {
        match self.identity_by_id(cred.parent.as_ref()) {
            Some(i) => self.identities[i].obj.address().to_string(),
            None => cred
                .parent
                .clone()
                .unwrap_or_else(|| "its parent identity".into()),
        }
    }
}

/// `"${NAME.ATTR}"` for the object at `address`, as a configuration in its own module
/// instance writes it, and which module instance that is.
fn reference(address: &str, attr: &str) -> String {
    let Ok(addr) = address.parse::<Address>() else {
        return format!("\"${{{address}.{attr}}}\"");
    };
    let mut local = addr.clone();
    local.module = vec![];
    if addr.module.is_empty() {
        format!("\"${{{local}.{attr}}}\"")
    } else {
        format!(
            "\"${{{local}.{attr}}}\" (in {})",
            Address::module_instance(addr.module.clone())
        )
    }
}

/// The namespace of a rollout restart's target that is KEDA's operator,
/// `<ns>/Deployment/keda-operator` (`kube-system` for the AKS add-on, `keda` for Helm's chart).
fn operator_target_ns(target: &str) -> Option<&str> {
    let parts: Vec<&str> = target.split('/').collect();
    match parts.as_slice() {
        [ns, kind, name]
            if !ns.is_empty()
                && *name == KEDA_SA
                && matches!(
                    kind.to_ascii_lowercase().as_str(),
                    "deployment" | "deployments" | "deploy"
                ) =>
        {
            Some(ns)
        }
        _ => None,
    }
}

/// The address as the `on` list of the action at `action` writes it: relative to the
/// action's module instance when it is in the same one.
fn relative_to(addr: &Address, action: Option<&str>) -> String {
    let module = action
        .and_then(|a| a.parse::<Address>().ok())
        .map(|a| a.module);
    match module {
        Some(m) if m == addr.module => {
            let mut local = addr.decl();
            local.module = vec![];
            local.to_string()
        }
        _ => addr.decl().to_string(),
    }
}
