//! Where a value the plan does not know yet comes from, read from the configuration.
//!
//! A plan holds `(known after apply)` wherever a value depends on an object not created yet:
//! the federated credential's issuer is unknown exactly when the cluster's issuer is. The
//! plan does not say which unknown is which, but the configuration does: the credential's
//! `issuer = "${var.oidc_issuer}"`, and the module call's `oidc_issuer =
//! "${aks.properties.oidcIssuerProfile.issuerURL}"`. [`Tracer::origin`] follows such a chain
//! of plain references (`${x}` and nothing else: through module variables, locals, module
//! outputs and tables) to the object attribute at its end. Anything else (a function call, an
//! operator, text around the reference) has no single origin, and the value stays
//! incomparable: the check says nothing about it rather than guess.

use plinth_addr::{Address, DeclKind, InstanceKey, ModuleStep};
use plinth_config::{Config, Loc, ModuleCall, Node, NodeKind};
use plinth_expr::{Expr, ExprKind, RefStep, Reference};
use plinth_value::{Path, PathSeg, Value};

/// How deep a chain of references is followed (a module tree is at most 16 deep; this allows
/// locals and outputs on the way).
const MAX_HOPS: usize = 64;

/// An object attribute a value is taken from: `aks` `properties.oidcIssuerProfile.issuerURL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The full address of the object (`module.workload.mi`, `app["a"]`).
    pub address: String,
    /// The attribute path on it.
    pub attr: Path,
}

/// One module instance on the way down from the root: its configuration and, below the root,
/// the call that made it and the call's instance key.
#[derive(Clone)]
struct Scope<'c> {
    config: &'c Config,
    /// The module path of the instance (empty at the root).
    path: Vec<ModuleStep>,
    /// The calls from the root to here, each with its configuration (the caller's).
    calls: Vec<(&'c ModuleCall, &'c Config)>,
}

impl<'c> Scope<'c> {
    fn parent(&self) -> Option<(Scope<'c>, &'c ModuleCall, Option<InstanceKey>)> {
        let (call, caller) = *self.calls.last()?;
        let mut path = self.path.clone();
        let step = path.pop()?;
        let mut calls = self.calls.clone();
        calls.pop();
        Some((
            Scope {
                config: caller,
                path,
                calls,
            },
            call,
            step.key,
        ))
    }

    fn child(&self, name: &str, key: Option<InstanceKey>) -> Option<Scope<'c>> {
        let call = self.config.module_calls.iter().find(|c| c.name == name)?;
        let mut path = self.path.clone();
        path.push(ModuleStep {
            name: name.to_string(),
            key,
        });
        let mut calls = self.calls.clone();
        calls.push((call, self.config));
        Some(Scope {
            config: call.module.as_ref(),
            path,
            calls,
        })
    }
}

/// Reads origins and locations of a plan's objects in the configuration it was made from.
pub(crate) struct Tracer<'c> {
    root: Option<&'c Config>,
}

impl<'c> Tracer<'c> {
    pub(crate) fn new(root: Option<&'c Config>) -> Self {
        Tracer { root }
    }

    /// Whether there is a configuration to read.
    pub(crate) fn has_config(&self) -> bool {
        self.root.is_some()
    }

    /// The module instance an address lives in, and the address parsed.
    fn scope_of(&self, address: &str) -> Option<(Scope<'c>, Address)> {
        let root = self.root?;
        let addr: Address = address.parse().ok()?;
        let mut scope = Scope {
            config: root,
            path: vec![],
            calls: vec![],
        };
        for step in &addr.module {
            scope = scope.child(&step.name, step.key.clone())?;
        }
        Some((scope, addr))
    }

    /// The configuration node of an input of the object at `address` (`body.properties.
    /// issuer`, `manifest.metadata.name`), with the scope it is evaluated in.
    fn input(&self, address: &str, input: &Path) -> Option<(Scope<'c>, &'c Node, Address)> {
        let (scope, addr) = self.scope_of(address)?;
        let inputs = match addr.kind {
            DeclKind::Resource | DeclKind::Data => {
                &scope.config.resource(addr.kind, &addr.name)?.inputs
            }
            DeclKind::Action => {
                &scope
                    .config
                    .actions
                    .iter()
                    .find(|a| a.name == addr.name)?
                    .inputs
            }
            _ => return None,
        };
        let node = inputs.find(input)?;
        Some((scope, node, addr))
    }

    /// Where the input is written, `file:line:col`; the declaration's header when the input
    /// is not written (or has no node of its own); `None` without a configuration.
    pub(crate) fn locate(&self, address: &str, input: Option<&Path>) -> Option<String> {
        let root = self.root?;
        if let Some(input) = input
            && let Some((_, node, _)) = self.input(address, input)
        {
            return Some(root.sources.describe(&node.loc));
        }
        self.decl_loc(address)
            .map(|loc| root.sources.describe(&loc))
    }

    fn decl_loc(&self, address: &str) -> Option<Loc> {
        let (scope, addr) = self.scope_of(address)?;
        match addr.kind {
            DeclKind::Resource | DeclKind::Data => scope
                .config
                .resource(addr.kind, &addr.name)
                .map(|r| r.loc.clone()),
            DeclKind::Action => scope
                .config
                .actions
                .iter()
                .find(|a| a.name == addr.name)
                .map(|a| a.loc.clone()),
            _ => None,
        }
    }

    /// The addresses an action's `on` names, as full addresses in the action's module
    /// instance (declarations, or instances when `on` gives a key); `None` without a
    /// configuration or when the action is not declared.
    pub(crate) fn action_on(&self, address: &str) -> Option<Vec<Address>> {
        let (scope, addr) = self.scope_of(address)?;
        let decl = scope.config.actions.iter().find(|a| a.name == addr.name)?;
        Some(
            decl.on
                .iter()
                .filter_map(|r| r.text.parse::<Address>().ok())
                .map(|mut a| {
                    let mut module = scope.path.clone();
                    module.append(&mut a.module);
                    a.module = module;
                    a
                })
                .collect(),
        )
    }

    /// Where the value of an input of the object at `address` comes from, when it is one
    /// plain reference (through variables, locals and outputs) to an object's attribute.
    pub(crate) fn origin(&self, address: &str, input: &Path) -> Option<Origin> {
        let (scope, node, addr) = self.input(address, input)?;
        resolve_node(node, &[], &scope, addr.key.as_ref(), MAX_HOPS)
    }
}

/// The origin of `node` followed by `steps` (attribute and index steps still to take).
fn resolve_node(
    node: &Node,
    steps: &[RefStep],
    scope: &Scope<'_>,
    key: Option<&InstanceKey>,
    hops: usize,
) -> Option<Origin> {
    let hops = hops.checked_sub(1)?;
    match &node.kind {
        NodeKind::Template(t) => {
            let expr = t.single_expr()?;
            resolve_expr(expr, steps, scope, key, hops)
        }
        NodeKind::Table(entries) => {
            let (first, rest) = steps.split_first()?;
            let name = step_key(first, key)?;
            let PathSeg::Key(name) = name else {
                return None;
            };
            let (_, _, child) = entries.iter().find(|(k, _, _)| *k == name)?;
            resolve_node(child, rest, scope, key, hops)
        }
        NodeKind::List(items) => {
            let (first, rest) = steps.split_first()?;
            let PathSeg::Index(i) = step_key(first, key)? else {
                return None;
            };
            resolve_node(items.get(i)?, rest, scope, key, hops)
        }
        NodeKind::Lit(_) => None,
    }
}

fn resolve_expr(
    expr: &Expr,
    steps: &[RefStep],
    scope: &Scope<'_>,
    key: Option<&InstanceKey>,
    hops: usize,
) -> Option<Origin> {
    match &expr.kind {
        ExprKind::Ref(r) => {
            let mut all = r.steps.clone();
            all.extend_from_slice(steps);
            resolve_ref(r, &all, scope, key, hops)
        }
        _ => None,
    }
}

/// The path segment of a step: `.name`, `["name"]`, `[0]`, and `[each.key]`/`[count.index]`
/// as the instance's own key.
fn step_key(step: &RefStep, key: Option<&InstanceKey>) -> Option<PathSeg> {
    match step {
        RefStep::Attr { name, .. } => Some(PathSeg::Key(name.clone())),
        RefStep::Index(e) => match instance_key(e, key)? {
            InstanceKey::Int(i) => Some(PathSeg::Index(usize::try_from(i).ok()?)),
            InstanceKey::Str(s) => Some(PathSeg::Key(s)),
        },
    }
}

/// The key an index expression gives: a literal, or the instance's own `each.key` /
/// `count.index`.
fn instance_key(e: &Expr, key: Option<&InstanceKey>) -> Option<InstanceKey> {
    match &e.kind {
        ExprKind::Literal(Value::String(s)) => Some(InstanceKey::Str(s.clone())),
        ExprKind::Literal(Value::Number(n)) => n.as_u64().map(InstanceKey::Int),
        ExprKind::Ref(Reference { root, steps, .. }) => {
            let [RefStep::Attr { name, .. }] = steps.as_slice() else {
                return None;
            };
            match (root.as_str(), name.as_str(), key) {
                ("each", "key", Some(k @ InstanceKey::Str(_))) => Some(k.clone()),
                ("count", "index", Some(k @ InstanceKey::Int(_))) => Some(k.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn attr_name(step: Option<&RefStep>) -> Option<&str> {
    match step? {
        RefStep::Attr { name, .. } => Some(name),
        RefStep::Index(_) => None,
    }
}

fn resolve_ref(
    r: &Reference,
    steps: &[RefStep],
    scope: &Scope<'_>,
    key: Option<&InstanceKey>,
    hops: usize,
) -> Option<Origin> {
    match r.root.as_str() {
        "var" => {
            let name = attr_name(steps.first())?;
            // A root variable's value is known at plan time: it is no object's attribute.
            let (parent, call, call_key) = scope.parent()?;
            let (_, _, node) = call.inputs.iter().find(|(n, _, _)| n == name)?;
            resolve_node(node, &steps[1..], &parent, call_key.as_ref(), hops)
        }
        "local" => {
            let name = attr_name(steps.first())?;
            let local = scope.config.locals.iter().find(|l| l.name == name)?;
            resolve_node(&local.value, &steps[1..], scope, key, hops)
        }
        "module" => {
            let name = attr_name(steps.first())?;
            let call = scope.config.module_calls.iter().find(|c| c.name == name)?;
            let (call_key, rest) = match steps.get(1) {
                Some(RefStep::Index(e)) => (Some(instance_key(e, key)?), &steps[2..]),
                _ if call.for_each.is_some() || call.count.is_some() => return None,
                _ => (None, &steps[1..]),
            };
            let output = attr_name(rest.first())?;
            let child = scope.child(name, call_key.clone())?;
            let out = child.config.outputs.iter().find(|o| o.name == output)?;
            resolve_node(&out.value, &rest[1..], &child, call_key.as_ref(), hops)
        }
        "data" => {
            let name = attr_name(steps.first())?;
            let decl = scope.config.resource(DeclKind::Data, name)?;
            let keyed = decl.for_each.is_some() || decl.count.is_some();
            object_origin(keyed, DeclKind::Data, name, &steps[1..], scope, key)
        }
        "each" | "count" | "self" | "path" | "terraform" | "env" => None,
        name => {
            let decl = scope.config.resource(DeclKind::Resource, name)?;
            let keyed = decl.for_each.is_some() || decl.count.is_some();
            object_origin(keyed, DeclKind::Resource, name, steps, scope, key)
        }
    }
}

/// `name[key].attr...` of a declared object, as an origin.
fn object_origin(
    keyed: bool,
    kind: DeclKind,
    name: &str,
    steps: &[RefStep],
    scope: &Scope<'_>,
    key: Option<&InstanceKey>,
) -> Option<Origin> {
    let (instance, rest) = match steps.first() {
        Some(RefStep::Index(e)) if keyed => (Some(instance_key(e, key)?), &steps[1..]),
        _ if keyed => return None,
        _ => (None, steps),
    };
    let mut attr = Path::root();
    for step in rest {
        attr.push(step_key(step, key)?);
    }
    let mut address = Address::new(kind, name, instance);
    address.module = scope.path.clone();
    Some(Origin {
        address: address.to_string(),
        attr,
    })
}
