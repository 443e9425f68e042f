//! The plan's objects the chain is made of, read from their planned attributes (`after`, or
//! `before` where a change has none left, as a no-op has).

use std::collections::HashSet;

use plinth_plan::{Action, DeclKind, Plan, ResourceChange};
use plinth_value::{Path, Value};

use crate::origin::{Origin, Tracer};

pub(crate) const IDENTITY: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
pub(crate) const CREDENTIAL: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";
pub(crate) const CLUSTER: &str = "Microsoft.ContainerService/managedClusters";
pub(crate) const SB_NAMESPACE: &str = "Microsoft.ServiceBus/namespaces";
pub(crate) const ROLE_ASSIGNMENT: &str = "Microsoft.Authorization/roleAssignments";
pub(crate) const RESTART: &str = "k8s:rollout-restart";
/// KEDA's operator: its ServiceAccount (and Deployment), whose token KEDA exchanges, in any
/// namespace; `KEDA_NS` is the AKS add-on's, named when the plan shows no other.
pub(crate) const KEDA_NS: &str = "kube-system";
pub(crate) const KEDA_SA: &str = "keda-operator";
pub(crate) const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";

/// One side of a comparison: what the plan knows of a value.
#[derive(Clone, Debug)]
pub(crate) enum Side {
    /// A known string (`sensitive`: never printed).
    Known { value: String, sensitive: bool },
    /// Known after apply, taken from this object attribute (read from the configuration).
    From(Origin),
    /// Known after apply, from nothing one can name: not comparable.
    Opaque,
    /// Not set (or null).
    Missing,
}

/// A value a message quotes: `"value"`, or `(sensitive)` when it is marked sensitive. Every
/// value a finding quotes goes through here (or [`bare`]), never a `Value::as_str`, which
/// reads through the mark.
pub(crate) fn quote(value: &str, sensitive: bool) -> String {
    if sensitive {
        plinth_value::SENSITIVE_TEXT.to_string()
    } else {
        format!("\"{value}\"")
    }
}

/// A value a message names without quotes (a queue's name, a scope): itself, or
/// `(sensitive)`.
pub(crate) fn bare(value: &str, sensitive: bool) -> String {
    if sensitive {
        plinth_value::SENSITIVE_TEXT.to_string()
    } else {
        value.to_string()
    }
}

/// A string value, and whether it is marked sensitive (a mark on it or on what holds it).
pub(crate) fn marked_str(v: &Value) -> Option<(String, bool)> {
    v.as_str().map(|s| (s.to_string(), v.is_sensitive()))
}

impl Side {
    /// The value for a message: quoted, or `(sensitive)`, or how it is known.
    pub(crate) fn show(&self) -> String {
        match self {
            Side::Known { value, sensitive } => quote(value, *sensitive),
            Side::From(o) => format!("{}'s {} (known after apply)", o.address, o.attr),
            Side::Opaque => plinth_value::UNKNOWN_TEXT.to_string(),
            Side::Missing => "nothing".to_string(),
        }
    }

    pub(crate) fn known(&self) -> Option<&str> {
        match self {
            Side::Known { value, .. } => Some(value),
            _ => None,
        }
    }

    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, Side::Missing)
    }
}

/// A comparison's outcome: the plan shows the two are the same, shows they differ, or cannot
/// tell (then nothing is reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tri {
    Yes,
    No,
    Maybe,
}

/// What kind of object's attributes a path is in, for the input path of an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// ARM: the attribute `properties.x` is the input `body.properties.x`.
    Azure,
    /// One Kubernetes object (`k8s:<type>`, `k8s:fields`): `x` is `manifest.x`.
    Kubernetes,
    /// An object of a `k8s:manifests` set: no single input to trace.
    Set,
}

/// One object in the plan.
#[derive(Clone, Debug)]
pub(crate) struct Obj<'p> {
    pub change: &'p ResourceChange,
    pub attrs: &'p Value,
    pub family: Family,
}

impl<'p> Obj<'p> {
    pub(crate) fn address(&self) -> &'p str {
        &self.change.address
    }

    /// The change will create, update or replace the object.
    pub(crate) fn changes(&self) -> bool {
        matches!(
            self.change.action,
            Action::Create | Action::Update | Action::Replace
        )
    }

    /// Created now (or again): a value known only after apply is a new one.
    pub(crate) fn is_new(&self) -> bool {
        matches!(self.change.action, Action::Create | Action::Replace)
    }

    /// The input path the attribute is configured at.
    pub(crate) fn input_path(&self, attr: &Path) -> Option<Path> {
        let prefix = match self.family {
            Family::Azure => "body",
            Family::Kubernetes => "manifest",
            Family::Set => return None,
        };
        let mut p = Path::root().key(prefix);
        for s in attr.segments() {
            p.push(s.clone());
        }
        Some(p)
    }

    pub(crate) fn get(&self, attr: &Path) -> Option<Value> {
        self.attrs.get(attr)
    }

    /// What the plan knows of a string attribute.
    pub(crate) fn side(&self, attr: &Path, tracer: &Tracer<'_>) -> Side {
        match self.attrs.get(attr) {
            None => Side::Missing,
            Some(v) if v.is_unknown() => self
                .input_path(attr)
                .and_then(|input| tracer.origin(self.address(), &input))
                .map_or(Side::Opaque, Side::From),
            Some(v) => match v.unmarked() {
                Value::String(s) if !s.is_empty() => Side::Known {
                    value: s.clone(),
                    sensitive: v.is_sensitive(),
                },
                Value::Null | Value::String(_) => Side::Missing,
                _ => Side::Opaque,
            },
        }
    }

    pub(crate) fn str(&self, attr: &str) -> Option<String> {
        self.attrs
            .get(&path(attr))
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// `metadata.namespace`, `default` when not set; `None` when unknown.
    pub(crate) fn namespace(&self) -> Option<String> {
        match self.attrs.get(&path("metadata.namespace")) {
            None => Some("default".into()),
            Some(v) => match v.unmarked() {
                Value::String(s) => Some(s.clone()),
                Value::Null => Some("default".into()),
                _ => None,
            },
        }
    }

    /// Where the attribute is configured (its declaration when the attribute is not).
    pub(crate) fn locate(&self, attr: Option<&Path>, tracer: &Tracer<'_>) -> Option<String> {
        let input = attr.and_then(|a| self.input_path(a));
        tracer.locate(self.address(), input.as_ref())
    }
}

/// A path from its text; every path here is written in this crate.
pub(crate) fn path(text: &str) -> Path {
    text.parse()
        .unwrap_or_else(|_| panic!("a path written in plinth-chain: {text}"))
}

/// The ARM type of an `azure:TYPE@VERSION` type name.
fn azure_type(type_name: &str) -> Option<&str> {
    let rest = type_name.strip_prefix("azure:")?;
    Some(rest.split('@').next().unwrap_or(rest))
}

/// The Kubernetes kind of an object: its `kind` attribute, else the last part of its
/// `k8s:group/version/Kind` type name.
fn k8s_kind(obj: &Obj<'_>) -> Option<String> {
    obj.str("kind").or_else(|| {
        let ty = obj.change.type_name.strip_prefix("k8s:")?;
        ty.contains('/')
            .then(|| ty.rsplit('/').next().unwrap_or_default().to_string())
    })
}

/// Every object of the plan that exists after it, with its family and (for Kubernetes) kind.
pub(crate) struct Objects<'p> {
    /// `(ARM type, object)` of Azure objects.
    pub azure: Vec<(&'p str, Obj<'p>)>,
    /// `(kind, object)` of Kubernetes objects, those of `k8s:manifests` sets included.
    pub kubernetes: Vec<(String, Obj<'p>)>,
    /// `k8s:rollout-restart` actions.
    pub restarts: Vec<&'p ResourceChange>,
    /// Whether the plan has any Kubernetes object at all.
    pub any_kubernetes: bool,
    /// The addresses of the Azure objects.
    azure_addresses: HashSet<&'p str>,
}

impl<'p> Objects<'p> {
    pub(crate) fn of(plan: &'p Plan) -> Self {
        let mut out = Objects {
            azure: vec![],
            kubernetes: vec![],
            restarts: vec![],
            any_kubernetes: false,
            azure_addresses: HashSet::new(),
        };
        for change in &plan.changes {
            if change.kind == DeclKind::Action {
                if change.type_name == RESTART {
                    out.restarts.push(change);
                }
                continue;
            }
            if !matches!(change.kind, DeclKind::Resource | DeclKind::Data)
                || change.action == Action::Delete
            {
                continue;
            }
            let Some(attrs) = change.after.as_ref().or(change.before.as_ref()) else {
                continue;
            };
            if let Some(ty) = azure_type(&change.type_name) {
                out.azure_addresses.insert(&change.address);
                out.azure.push((
                    ty,
                    Obj {
                        change,
                        attrs,
                        family: Family::Azure,
                    },
                ));
            } else if change.type_name == "k8s:manifests" {
                out.any_kubernetes = true;
                let Some(objects) = attrs
                    .as_map()
                    .and_then(|m| m.get("objects"))
                    .and_then(Value::as_map)
                else {
                    continue;
                };
                for value in objects.values() {
                    let obj = Obj {
                        change,
                        attrs: value,
                        family: Family::Set,
                    };
                    if let Some(kind) = k8s_kind(&obj) {
                        out.kubernetes.push((kind, obj));
                    }
                }
            } else if change.type_name.starts_with("k8s:") {
                out.any_kubernetes = true;
                let obj = Obj {
                    change,
                    attrs,
                    family: Family::Kubernetes,
                };
                if let Some(kind) = k8s_kind(&obj) {
                    out.kubernetes.push((kind, obj));
                }
            }
        }
        out
    }

    pub(crate) fn azure_of(&self, ty: &str) -> impl Iterator<Item = &Obj<'p>> {
        self.azure
            .iter()
            .filter(move |(t, _)| t.eq_ignore_ascii_case(ty))
            .map(|(_, o)| o)
    }

    pub(crate) fn kind(&self, kind: &str) -> impl Iterator<Item = &Obj<'p>> {
        self.kubernetes
            .iter()
            .filter(move |(k, _)| k == kind)
            .map(|(_, o)| o)
    }

    /// Whether an Azure object of the plan is at this address.
    pub(crate) fn is_azure(&self, address: &str) -> bool {
        self.azure_addresses.contains(address)
    }
}
