//! The links of the chain, each checked over the plan's objects.

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

    fn credentials_rules(&mut self) {
        let mut flagged_clusters = BTreeSet::new();
        let mut found = Vec::new();
        for cred in &self.credentials {
            let addr = cred.obj.address();
            // Only credentials for Kubernetes service accounts are this chain's: one for
            // GitHub Actions (issuer https://token.actions.githubusercontent.com, subject
            // repo:org/x:ref:refs/heads/main) has nothing to do with the cluster.
            let (yes, overall) = self.issuer_matching(&cred.issuer);
            let from_cluster = yes.is_some()
                || matches!(&cred.issuer, Side::From(o) if self.index.cluster_by_address.contains_key(&o.address));
            let for_kubernetes = from_cluster
                || cred
                    .subject
                    .known()
                    .is_some_and(|s| s.starts_with(SA_PREFIX));
            if !for_kubernetes {
                continue;
            }

            // Audience.
            match cred.obj.get(&path("properties.audiences")) {
                Some(v) if v.is_unknown() => {}
                Some(v) => {
                    let items = v.as_list().unwrap_or_default();
                    let has = items.iter().any(|a| a.as_str() == Some(AUDIENCE));
                    let unknown = items.iter().any(Value::is_unknown);
                    if !has && !unknown {
                        let shown: Vec<String> = items
                            .iter()
                            .filter_map(marked_str)
                            .map(|(a, sensitive)| quote(&a, sensitive || v.is_sensitive()))
                            .collect();
                        found.push((
                            "audience",
                            cred.obj.clone(),
                            Some("properties.audiences"),
                            format!(
                                "federated credential {addr} accepts the audience {}, not {AUDIENCE}: Entra ID's token exchange, which the workload identity webhook's tokens are for, is refused (AADSTS700212)",
                                if shown.is_empty() { "list []".to_string() } else { shown.join(", ") }
                            ),
                            format!("set audiences = [\"{AUDIENCE}\"]"),
                        ));
                    }
                }
                None => found.push((
                    "audience",
                    cred.obj.clone(),
                    None,
                    format!("federated credential {addr} has no audiences: Entra ID exchanges only tokens for {AUDIENCE}"),
                    format!("set audiences = [\"{AUDIENCE}\"]"),
                )),
            }

            // Issuer: the OIDC issuer of a cluster in the plan.
            if !self.clusters.is_empty() {
                if let Some(i) = yes {
                    flagged_clusters.insert(i);
                } else if overall == Tri::No {
                    let mut clusters: Vec<String> = self
                        .clusters
                        .iter()
                        .take(LISTED)
                        .map(|c| match &c.issuer {
                            Side::Known { .. } => {
                                format!("{}'s is {}", c.obj.address(), c.issuer.show())
                            }
                            Side::Missing => format!(
                                "{} has none (its OIDC issuer is not enabled)",
                                c.obj.address()
                            ),
                            _ => format!("{}'s is known only after apply", c.obj.address()),
                        })
                        .collect();
                    if self.clusters.len() > LISTED {
                        clusters.push(format!("and {} more", self.clusters.len() - LISTED));
                    }
                    let slash = match (&cred.issuer, self.clusters.first().map(|c| &c.issuer)) {
                        (Side::Known { value: a, .. }, Some(Side::Known { value: b, .. }))
                            if a.trim_end_matches('/') == b.trim_end_matches('/') =>
                        {
                            " (they differ only in the trailing slash, and Entra ID compares issuers exactly)"
                        }
                        _ => "",
                    };
                    let first = self.clusters[0].obj.address();
                    found.push((
                        "issuer",
                        cred.obj.clone(),
                        Some("properties.issuer"),
                        format!(
                            "federated credential {addr} trusts the issuer {}, which is not the OIDC issuer of a cluster in this plan ({}){slash}: Entra ID refuses the cluster's service account tokens (AADSTS700211: no matching federated identity record for the presented issuer)",
                            cred.issuer.show(),
                            clusters.join("; ")
                        ),
                        format!(
                            "take the issuer from the cluster: issuer = {} (through a module input when the credential is in another module)",
                            reference(first, ISSUER_URL)
                        ),
                    ));
                }
            }

            // Subject: a declared ServiceAccount, or KEDA's operator.
            if let Some(subject) = cred.subject.known() {
                let hidden = matches!(
                    cred.subject,
                    Side::Known {
                        sensitive: true,
                        ..
                    }
                );
                match parse_subject(subject) {
                    None => found.push((
                        "subject",
                        cred.obj.clone(),
                        Some("properties.subject"),
                        format!(
                            "federated credential {addr} trusts the subject {}, which is not a Kubernetes service account's (system:serviceaccount:NAMESPACE:NAME): no pod's token matches it",
                            cred.subject.show()
                        ),
                        "write the subject as system:serviceaccount:NAMESPACE:NAME of the ServiceAccount the pods run as".into(),
                    )),
                    Some(_) if operator_subject_ns(subject).is_some() => {}
                    Some((ns, name)) if self.objects.any_kubernetes && !self.partial => {
                        let declared = self.index.accounts.contains(&(ns.to_string(), name.to_string()));
                        let unknown = self.index.unknown_account;
                        if !declared && !unknown {
                            let account = bare(&format!("{ns}/{name}"), hidden);
                            let names: Vec<String> = self
                                .accounts
                                .iter()
                                .filter_map(|a| Some(format!("{}/{}", a.ns.as_deref()?, a.name.as_deref()?)))
                                .collect();
                            let fix = match self.accounts.iter().find(|a| {
                                a.operator_ns().is_none()
                            }) {
                                Some(a) => format!(
                                    "declare ServiceAccount {account} (k8s:v1/ServiceAccount), or trust the one the pods run as: subject = \"system:serviceaccount:{}:{}\"",
                                    a.ns.as_deref().unwrap_or("default"),
                                    a.name.as_deref().unwrap_or_default()
                                ),
                                None => format!("declare ServiceAccount {account} (k8s:v1/ServiceAccount) and run the pods as it"),
                            };
                            found.push((
                                "subject",
                                cred.obj.clone(),
                                Some("properties.subject"),
                                format!(
                                    "federated credential {addr} trusts {}, but this plan declares no ServiceAccount {account} ({}) and it is not KEDA's operator ({KEDA_SA}, in {KEDA_NS} for the AKS add-on): no pod gets a token it accepts",
                                    cred.subject.show(),
                                    if names.is_empty() { "it declares none".to_string() } else { format!("it declares {}", names.join(", ")) }
                                ),
                                fix,
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        // The clusters whose issuer a credential trusts have the OIDC issuer and workload
        // identity on.
        for i in flagged_clusters {
            let c = &self.clusters[i];
            let addr = c.obj.address();
            for (rule, attr, what, why) in [
                (
                    "oidc-issuer",
                    "properties.oidcIssuerProfile.enabled",
                    "the OIDC issuer",
                    "Entra ID cannot read the keys its service account tokens are signed with",
                ),
                (
                    "workload-identity",
                    "properties.securityProfile.workloadIdentity.enabled",
                    "workload identity",
                    "the webhook that gives pods their projected token and AZURE_* environment does not run",
                ),
            ] {
                let on = c.obj.get(&path(attr));
                let enabled = match &on {
                    Some(v) if v.is_unknown() => continue,
                    Some(v) => v.as_bool() == Some(true),
                    None => false,
                };
                if !enabled {
                    found.push((
                        rule,
                        c.obj.clone(),
                        Some(attr),
                        format!(
                            "cluster {addr} is the issuer federated credentials trust, but {what} is not enabled on it ({attr} is {}): {why}",
                            on.map_or("not set".to_string(), |v| v.to_string())
                        ),
                        format!("set {attr} = true"),
                    ));
                }
            }
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr.map(path), message, fix);
        }
    }

    fn account_rules(&mut self) {
        let mut found = Vec::new();
        for account in &self.accounts {
            let (Some(ns), Some(name)) = (account.ns.as_deref(), account.name.as_deref()) else {
                continue;
            };
            let addr = account.obj.address();
            let subject = format!("system:serviceaccount:{ns}:{name}");
            let trusting: Vec<&Credential<'_>> = self
                .index
                .credential_by_subject
                .get(&subject)
                .map(|cs| cs.iter().map(|&c| &self.credentials[c]).collect())
                .unwrap_or_default();
            let unknown_subjects = self.index.unknown_subject;
            let a = &account.client_id;
            if trusting.is_empty() {
                if a.is_missing() || unknown_subjects || self.partial {
                    continue;
                }
                for i in self.matching(a, CLIENT_ID).0 {
                    {
                        let i = self.identities[i].obj.address();
                        found.push((
                            "credential",
                            account.obj.clone(),
                            Some(annotation_path()),
                            format!(
                                "ServiceAccount {ns}/{name} ({addr}) names identity {i} in its {CLIENT_ID_ANNOTATION} annotation, but no federated credential of {i} trusts {subject}: Entra ID refuses its pods' tokens (AADSTS70021)"
                            ),
                            format!(
                                "add a federated credential under {i} (azure:{CREDENTIAL}@2024-11-30, parent = its id) with subject = \"{subject}\", the cluster's OIDC issuer and audiences = [\"{AUDIENCE}\"]"
                            ),
                        ));
                    }
                }
                continue;
            }
            let parents: Vec<usize> = trusting
                .iter()
                .filter_map(|c| self.identity_by_id(c.parent.as_ref()))
                .collect();
            let mut creds: Vec<String> = trusting
                .iter()
                .take(LISTED)
                .map(|c| c.obj.address().to_string())
                .collect();
            if trusting.len() > LISTED {
                creds.push(format!("and {} more", trusting.len() - LISTED));
            }
            if a.is_missing() {
                let who = parents
                    .first()
                    .map(|&i| self.identities[i].obj.address().to_string())
                    .unwrap_or_else(|| self.parent_name(trusting[0]));
                found.push((
                    "client-id",
                    account.obj.clone(),
                    None,
                    format!(
                        "ServiceAccount {ns}/{name} ({addr}) is trusted by federated credential {} of identity {who}, but has no {CLIENT_ID_ANNOTATION} annotation: the workload identity webhook gives its pods no AZURE_CLIENT_ID",
                        creds.join(", ")
                    ),
                    format!(
                        "annotate it with the identity's client id: metadata.annotations = {{ \"{CLIENT_ID_ANNOTATION}\" = {} }}",
                        reference(&who, CLIENT_ID)
                    ),
                ));
                continue;
            }
            if parents.len() < trusting.len() {
                // A credential of an identity outside the plan: its client id is not here.
                continue;
            }
            // Whether the annotation names one of the trusting identities: through the index
            // (conservative: an identity the plan cannot tell about keeps it a Maybe).
            let (named, overall) = self.matching(a, CLIENT_ID);
            let tri = if named.iter().any(|i| parents.contains(i)) {
                Tri::Yes
            } else if overall == Tri::Maybe {
                Tri::Maybe
            } else {
                Tri::No
            };
            if tri == Tri::No {
                let ids: Vec<String> = parents
                    .iter()
                    .take(LISTED)
                    .map(|&i| {
                        let ident = &self.identities[i];
                        format!(
                            "{}'s client id is {}",
                            ident.obj.address(),
                            ident.client_id.show()
                        )
                    })
                    .collect();
                let first = self.identities[parents[0]].obj.address();
                found.push((
                    "client-id",
                    account.obj.clone(),
                    Some(annotation_path()),
                    format!(
                        "ServiceAccount {ns}/{name} ({addr}) has {CLIENT_ID_ANNOTATION} {}, which is not the client id of the identity its federated credential {} belongs to ({}): its pods ask Entra ID for an identity that does not trust them",
                        a.show(),
                        creds.join(", "),
                        ids.join("; ")
                    ),
                    format!(
                        "set the annotation to the identity's client id: {}",
                        reference(first, CLIENT_ID)
                    ),
                ));
            }
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr, message, fix);
        }
    }

    /// Whether a credential's subject is KEDA's operator's, in a namespace the plan runs it
    /// in (any, when the plan shows none).
    fn trusts_operator(&self, subject: &Side) -> bool {
        subject
            .known()
            .and_then(operator_subject_ns)
            .is_some_and(|ns| {
                self.operator_namespaces.is_empty() || self.operator_namespaces.contains(ns)
            })
    }

    /// The identities whose credentials trust KEDA's operator.
    fn keda_identities(&self) -> Vec<usize> {
        self.credentials
            .iter()
            .filter(|c| self.trusts_operator(&c.subject))
            .filter_map(|c| self.identity_by_id(c.parent.as_ref()))
            .collect()
    }

    fn trigger_auth_rules(&mut self) {
        let keda_ns = self.keda_ns.clone();
        let keda = keda_subject(&keda_ns);
        let keda_ids = self.keda_identities();
        // The operator's ServiceAccount, the one with an annotation first.
        let operator = self
            .accounts
            .iter()
            .filter(|a| a.operator_ns().is_some())
            .min_by_key(|a| a.client_id.is_missing());
        let mut found = Vec::new();
        let mut resolved = Vec::new();
        for auth in &self.auths {
            if self.partial {
                resolved.push(vec![]);
                continue;
            }
            let addr = auth.obj.address();
            let what = format!(
                "{} {}",
                if auth.cluster_scoped {
                    "ClusterTriggerAuthentication"
                } else {
                    "TriggerAuthentication"
                },
                addr
            );
            let side = if auth.identity_id.is_missing() {
                match operator {
                    Some(op) if !op.client_id.is_missing() => op.client_id.clone(),
                    _ => {
                        found.push((
                            "identity-id",
                            auth.obj.clone(),
                            Some("spec.podIdentity"),
                            format!(
                                "{what} sets no spec.podIdentity.identityId, and this plan gives KEDA's operator's ServiceAccount ({keda_ns}/{KEDA_SA}) no {CLIENT_ID_ANNOTATION} annotation: KEDA's operator has no identity to authenticate as (the AKS add-on does not annotate it, Azure/AKS#5243)"
                            ),
                            format!("set spec.podIdentity.identityId to the identity's client id, or annotate {keda_ns}/{KEDA_SA}'s ServiceAccount with it (a k8s:fields resource)"),
                        ));
                        resolved.push(vec![]);
                        continue;
                    }
                }
            } else {
                auth.identity_id.clone()
            };
            let (yes, overall) = self.matching(&side, CLIENT_ID);
            if yes.is_empty()
                && overall == Tri::No
                && !self.identities.is_empty()
                && (!keda_ids.is_empty()
                    || matches!(&side, Side::From(o) if self.objects.is_azure(&o.address)))
            {
                let mut candidates: Vec<String> = keda_ids
                    .iter()
                    .take(LISTED)
                    .map(|&i| {
                        let ident = &self.identities[i];
                        format!(
                            "{} (client id {})",
                            ident.obj.address(),
                            ident.client_id.show()
                        )
                    })
                    .collect();
                if keda_ids.len() > LISTED {
                    candidates.push(format!("and {} more", keda_ids.len() - LISTED));
                }
                let fix = match keda_ids.first() {
                    Some(&i) => format!(
                        "set identityId = {}",
                        reference(self.identities[i].obj.address(), CLIENT_ID)
                    ),
                    None => format!(
                        "set identityId to the client id (properties.clientId) of the identity whose federated credential trusts {keda}"
                    ),
                };
                let attr = if auth.identity_id.is_missing() {
                    None
                } else {
                    Some("spec.podIdentity.identityId")
                };
                found.push((
                    "identity-id",
                    auth.obj.clone(),
                    attr,
                    format!(
                        "{what} makes KEDA authenticate as {}, which is not the client id of an identity in this plan that trusts {keda}{}",
                        side.show(),
                        if candidates.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", candidates.join(", "))
                        }
                    ),
                    fix,
                ));
            }
            for &i in &yes {
                let ident = &self.identities[i];
                let mine: Vec<&Credential<'_>> = ident
                    .id
                    .as_ref()
                    .and_then(|id| self.index.credential_by_parent.get(id))
                    .map(|cs| cs.iter().map(|&c| &self.credentials[c]).collect())
                    .unwrap_or_default();
                let trusts = mine.iter().any(|c| self.trusts_operator(&c.subject));
                let unknown = mine.iter().any(|c| c.subject.known().is_none());
                if !trusts && !unknown && ident.id.is_some() {
                    let iaddr = ident.obj.address();
                    found.push((
                        "credential",
                        auth.obj.clone(),
                        None,
                        format!(
                            "{what} makes KEDA's operator authenticate as identity {iaddr} with the token of its own ServiceAccount, but no federated credential of {iaddr} trusts {keda}: the scaler fails with AADSTS70021 (No matching federated identity record found)"
                        ),
                        format!(
                            "add a federated credential under {iaddr} with subject = \"{keda}\", the cluster's OIDC issuer and audiences = [\"{AUDIENCE}\"], and restart the operator after it (k8s:rollout-restart of {keda_ns}/Deployment/{KEDA_SA}, on = [the credential])"
                        ),
                    ));
                }
            }
            resolved.push(yes);
        }
        for (auth, r) in self.auths.iter_mut().zip(resolved) {
            auth.resolved = r;
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr.map(path), message, fix);
        }
    }

    fn data_role_rules(&mut self) {
        // (name, whether it is sensitive, lower-case id, address).
        let namespaces: Vec<(String, bool, Option<String>, String)> = self
            .objects
            .azure_of(SB_NAMESPACE)
            .filter_map(|o| {
                let (name, sensitive) = marked_str(&o.get(&path("name"))?)?;
                Some((name, sensitive, lower(o.str("id")), o.address().to_string()))
            })
            .collect();
        let by_name: HashMap<String, usize> = namespaces
            .iter()
            .enumerate()
            .map(|(i, (name, ..))| (name.to_ascii_lowercase(), i))
            .collect();
        let auths: HashMap<(bool, Option<&str>, &str), usize> = self
            .auths
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let ns = if a.cluster_scoped {
                    None
                } else {
                    a.ns.as_deref()
                };
                Some(((a.cluster_scoped, ns, a.name.as_deref()?), i))
            })
            .collect();
        let mut found = Vec::new();
        for kind in ["ScaledJob", "ScaledObject"] {
            for scaler in self.objects.kind(kind) {
                let Some(all) = scaler.get(&path("spec.triggers")) else {
                    continue;
                };
                let Some(triggers) = all.as_list() else {
                    continue;
                };
                let sns = scaler.namespace();
                for (n, trigger) in triggers.iter().enumerate() {
                    // A trigger's value, and whether it (or the list) is sensitive.
                    let m = |p: &str| {
                        let (v, sensitive) = marked_str(&trigger.get(&path(p))?)?;
                        Some((v, sensitive || all.is_sensitive()))
                    };
                    let s = |p: &str| m(p).map(|(v, _)| v);
                    if s("type").as_deref() != Some("azure-servicebus") {
                        continue;
                    }
                    let Some(auth_name) = s("authenticationRef.name") else {
                        continue;
                    };
                    let cluster_scoped = s("authenticationRef.kind").as_deref()
                        == Some("ClusterTriggerAuthentication");
                    let ns = if cluster_scoped { None } else { sns.as_deref() };
                    let Some(auth) = auths
                        .get(&(cluster_scoped, ns, auth_name.as_str()))
                        .map(|&a| &self.auths[a])
                    else {
                        continue;
                    };
                    if auth.resolved.is_empty() {
                        continue;
                    }
                    let Some((ns_name, ns_hidden)) = m("metadata.namespace") else {
                        continue;
                    };
                    let ns_name = namespace_name(&ns_name).to_string();
                    let ns_shown = bare(&ns_name, ns_hidden);
                    let saddr = scaler.address();
                    let at = format!("spec.triggers[{n}].metadata.namespace");
                    let Some((_, _, ns_id, _)) = by_name
                        .get(&ns_name.to_ascii_lowercase())
                        .map(|&i| &namespaces[i])
                    else {
                        if !namespaces.is_empty() {
                            let declared: Vec<String> = namespaces
                                .iter()
                                .map(|(name, hidden, _, a)| {
                                    format!("{a} is {}", quote(name, *hidden))
                                })
                                .collect();
                            found.push((
                                "data-role",
                                scaler.clone(),
                                Some(at),
                                format!(
                                    "{kind} {saddr}'s azure-servicebus trigger reads Service Bus namespace {}, which this plan does not declare ({}): no role in this plan lets KEDA read it",
                                    quote(&ns_name, ns_hidden),
                                    declared.join(", ")
                                ),
                                format!("name the namespace the queue is in: metadata.namespace = {}", reference(&namespaces[0].3, "name")),
                            ));
                        }
                        continue;
                    };
                    let Some(ns_id) = ns_id else { continue };
                    let (entity, what) = match (m("metadata.queueName"), m("metadata.topicName")) {
                        (Some((q, hidden)), _) => (
                            format!("{ns_id}/queues/{}", q.to_ascii_lowercase()),
                            format!("queue {ns_shown}/{}", bare(&q, hidden)),
                        ),
                        (None, Some((t, hidden))) => match m("metadata.subscriptionName") {
                            // The scaler reads the subscription's message count.
                            Some((sub, sub_hidden)) => (
                                format!(
                                    "{ns_id}/topics/{}/subscriptions/{}",
                                    t.to_ascii_lowercase(),
                                    sub.to_ascii_lowercase()
                                ),
                                format!(
                                    "subscription {ns_shown}/{}/{}",
                                    bare(&t, hidden),
                                    bare(&sub, sub_hidden)
                                ),
                            ),
                            None => (
                                format!("{ns_id}/topics/{}", t.to_ascii_lowercase()),
                                format!("topic {ns_shown}/{}", bare(&t, hidden)),
                            ),
                        },
                        (None, None) => (ns_id.clone(), format!("namespace {ns_shown}")),
                    };
                    for &i in &auth.resolved {
                        let ident = &self.identities[i];
                        let mut maybe = false;
                        let mut covering_weak = Vec::new();
                        let mut elsewhere = Vec::new();
                        let mut ok = false;
                        for (r, who) in self.roles_of(i) {
                            let role = &self.roles[r];
                            let (Some(r), Some(scope)) = (role.role, role.scope.as_ref()) else {
                                // A custom role (or an unknown one) may grant it, where its
                                // scope covers the entity.
                                maybe |= role.scope.as_ref().is_none_or(|s| covers(s, &entity));
                                continue;
                            };
                            let Some(r) = r else { continue };
                            if who == Tri::Maybe {
                                maybe |= r.manage && covers(scope, &entity);
                                continue;
                            }
                            match (covers(scope, &entity), r.manage) {
                                (true, true) => ok = true,
                                (true, false) => covering_weak.push(format!(
                                    "{} ({})",
                                    r.name,
                                    role.obj.address()
                                )),
                                (false, _) => elsewhere.push(format!(
                                    "{} on {} ({})",
                                    r.name,
                                    bare(scope, role.scope_sensitive),
                                    role.obj.address()
                                )),
                            }
                        }
                        if ok || maybe {
                            continue;
                        }
                        let iaddr = ident.obj.address();
                        let has = if !covering_weak.is_empty() {
                            format!(
                                "holds only {} there, and the scaler reads the message count through Service Bus's administration API, which needs the Manage claim of {MANAGE_ROLE}",
                                covering_weak.join(", ")
                            )
                        } else if !elsewhere.is_empty() {
                            format!("holds {}, which does not cover it", elsewhere.join(", "))
                        } else {
                            "holds no Service Bus data role on it, its namespace or above"
                                .to_string()
                        };
                        found.push((
                            "data-role",
                            scaler.clone(),
                            Some(at.clone()),
                            format!(
                                "identity {iaddr}, as which KEDA reads {what} for {kind} {saddr}, {has}: the scaler fails with 401 (Manage,EntityRead claims required)"
                            ),
                            format!(
                                "assign {MANAGE_ROLE} to {iaddr}: an azure:{ROLE_ASSIGNMENT}@2022-04-01 with parent = the queue's (or namespace's) id, roleDefinitionId = \"${{azure.role_definition_id(\\\"{MANAGE_ROLE}\\\")}}\" and principalId = {}",
                                reference(iaddr, PRINCIPAL_ID)
                            ),
                        ));
                    }
                }
            }
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr.map(|a| path(&a)), message, fix);
        }
    }

    /// A role assignment's principalId is an identity's client id: a classic slip (the two
    /// are GUIDs side by side on the identity).
    fn principal_rules(&mut self) {
        let mut found = Vec::new();
        for role in &self.roles {
            for i in self.matching(&role.principal, CLIENT_ID).0 {
                let ident = &self.identities[i];
                if self.names(&role.principal, ident, CLIENT_ID) == Tri::Yes
                    && self.names(&role.principal, ident, PRINCIPAL_ID) != Tri::Yes
                {
                    let iaddr = ident.obj.address();
                    found.push((
                        role.obj.clone(),
                        format!(
                            "role assignment {} names identity {iaddr}'s client id as its principalId: Azure needs the principal (object) id, so the role goes to no one (PrincipalNotFound) or to another principal",
                            role.obj.address()
                        ),
                        format!("set principalId = {}", reference(iaddr, PRINCIPAL_ID)),
                    ));
                }
            }
        }
        for (obj, message, fix) in found {
            self.push("principal-id", &obj, Some(path(PRINCIPAL_ID)), message, fix);
        }
    }

    fn restart_rules(&mut self) {
        // The restarts of KEDA's operator, with the namespace each restarts it in.
        let restarts: Vec<(&ResourceChange, String)> = self
            .objects
            .restarts
            .iter()
            .filter_map(|r| {
                let ns = operator_target_ns(&config_str(r, "target")?)?.to_string();
                Some((*r, ns))
            })
            .collect();
        // What changes the operator's identity, and the namespace of the operator it is for.
        let mut watched: Vec<(Obj<'p>, &str, String)> = self
            .credentials
            .iter()
            .filter_map(|c| {
                let ns = operator_subject_ns(c.subject.known()?)?;
                Some((c.obj.clone(), "federated credential", ns.to_string()))
            })
            .collect();
        watched.extend(self.accounts.iter().filter_map(|a| {
            let ns = a.operator_ns()?;
            (!a.client_id.is_missing())
                .then(|| (a.obj.clone(), "client-id annotation", ns.to_string()))
        }));
        let configured = self.tracer.has_config();
        // Per operator namespace: what the restarts' `on` lists name (instances, and whole
        // declarations), what the restarts that run in this plan come after, and the restarts
        // by module instance.
        let mut on_instances = std::collections::HashSet::new();
        let mut on_decls = std::collections::HashSet::new();
        let mut run_after = std::collections::HashSet::new();
        let mut by_module: HashMap<(&str, Vec<plinth_addr::ModuleStep>), &str> = HashMap::new();
        for (r, ns) in &restarts {
            for a in self.tracer.action_on(&r.address).unwrap_or_default() {
                if a.key.is_some() {
                    on_instances.insert((ns.as_str(), a));
                } else {
                    on_decls.insert((ns.as_str(), a));
                }
            }
            if r.action == Action::Run {
                run_after.extend(r.depends_on.iter().map(|d| (ns.as_str(), d.as_str())));
            }
            if let Ok(a) = r.address.parse::<Address>() {
                by_module
                    .entry((ns.as_str(), a.module))
                    .or_insert(r.address.as_str());
            }
        }
        let mut found = Vec::new();
        for (obj, what, ns) in watched {
            let addr = obj.address();
            let Ok(parsed) = addr.parse::<Address>() else {
                continue;
            };
            let key = ns.as_str();
            if on_instances.contains(&(key, parsed.clone()))
                || on_decls.contains(&(key, parsed.decl()))
            {
                continue;
            }
            if obj.changes() && run_after.contains(&(key, addr)) {
                continue;
            }
            if !obj.changes() && !configured {
                continue;
            }
            // The restart of this operator beside it (else any of it), whose `on` the fix
            // adds it to.
            let restart = by_module
                .get(&(key, parsed.module.clone()))
                .copied()
                .or_else(|| {
                    restarts
                        .iter()
                        .find(|(_, n)| *n == ns)
                        .map(|(r, _)| r.address.as_str())
                });
            // Written in the `on` of that action, or of one declared beside it.
            let relative = relative_to(&parsed, Some(restart.unwrap_or(addr)));
            let target = format!("{ns}/Deployment/{KEDA_SA}");
            let fix = match restart {
                Some(r) => format!("add \"{relative}\" to the `on` list of {r}"),
                None => format!(
                    "declare an action: type = \"k8s:rollout-restart\", target = \"{target}\", on = [\"{relative}\"] (beside {addr})"
                ),
            };
            let when = if obj.changes() {
                format!(
                    "{addr} ({what} of {ns}/{KEDA_SA}) changes in this plan, but nothing restarts {target} after it"
                )
            } else {
                format!(
                    "no k8s:rollout-restart of {target} runs when {addr} ({what} of {ns}/{KEDA_SA}) changes"
                )
            };
            found.push((
                obj,
                format!(
                    "{when}: KEDA's operator reads its identity only when it starts (Azure/AKS#5243), so its scalers keep failing with the credential it started with"
                ),
                fix,
            ));
        }
        for (obj, message, fix) in found {
            self.push("restart", &obj, None, message, fix);
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
