//! The declaration graph: one node per resource, data source, action, output, local,
//! module call and module variable in every static module, and per provider settings table; an edge from every declaration to each one that refers to it
//! (references, `depends_on`, `replace_triggered_by`, an action's `on`), and from a settings
//! table to every declaration of its provider's types.

use std::collections::HashMap;

use plinth_config::{Config, Diagnostic, Loc};
use plinth_graph::{Dag, NodeId};

use plinth_provider::Registry;

use crate::addr::{Address, DeclKind};
use crate::refs::{module_refs, node_refs, var_refs};
use crate::settings::{SettingsTables, Source, prefix_of};
use crate::tree::{ModTree, ROOT};

/// A declaration in the graph, in a static module (an index into [`ModTree`]; `0` is the
/// root). A module's declarations have one node however many instances the module has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decl {
    /// Module and index into its `config.resources`.
    Resource(usize, usize),
    /// Module and index into its `config.actions`.
    Action(usize, usize),
    /// Module and index into its `config.outputs`: a root output, or what
    /// `module.NAME.OUTPUT` reads in the caller.
    Output(usize, usize),
    /// Index into the root's `config.providers`: a settings table that a provider takes
    /// (see ARCHITECTURE.md, "Provider settings"); modules inherit it.
    Provider(usize),
    /// Module and index into its `config.locals`: `local.NAME`.
    Local(usize, usize),
    /// A module call: the calling module and the index into its `config.module_calls` (its
    /// `for_each`/`count` and `depends_on`; everything in the called module comes after it).
    Call(usize, usize),
    /// An input variable of a (non-root) module and the index into its `config.variables`:
    /// the call's input, evaluated in the caller.
    Var(usize, usize),
    /// `[module.NAME.providers.X]`: the calling module, the index into its
    /// `config.module_calls` and the index into that call's `providers`. Evaluated in the
    /// caller per call instance; every object of provider X in the called module (and the
    /// modules it calls, unless they are given their own table) comes after it.
    CallProvider(usize, usize, usize),
}

/// The graph of declarations.
pub struct DeclGraph {
    /// The declarations; an edge points from a declaration to one that depends on it.
    pub dag: Dag<Decl>,
    /// The node of each resource, data source, action and local by module, kind and name
    /// (all instances share it).
    pub by_addr: HashMap<(usize, DeclKind, String), NodeId>,
    /// Where each edge comes from in the files, for cycle messages.
    pub edge_locs: HashMap<(NodeId, NodeId), Loc>,
}

impl DeclGraph {
    /// The node of the root declaration `name` of `kind`; `None` when there is no such
    /// declaration.
    pub fn node_of(&self, kind: DeclKind, name: &str) -> Option<NodeId> {
        self.by_addr.get(&(ROOT, kind, name.to_string())).copied()
    }
}

/// The address text of a declaration (`module.app.mi`, `module.app.var.name`, `module.app`
/// for a call, `module.app.output.x`).
pub fn decl_address(config: &Config, d: Decl) -> String {
    label(&ModTree::new(config), d)
}

/// [`decl_address`] over a tree already built.
pub fn label(tree: &ModTree<'_>, d: Decl) -> String {
    let (m, text) = match d {
        Decl::Resource(m, i) => (m, tree.get(m).config.resources[i].address()),
        Decl::Action(m, i) => (m, format!("action.{}", tree.get(m).config.actions[i].name)),
        Decl::Output(m, i) => (m, format!("output.{}", tree.get(m).config.outputs[i].name)),
        Decl::Provider(i) => (
            ROOT,
            format!("provider.{}", tree.get(ROOT).config.providers[i].name),
        ),
        Decl::Local(m, i) => (m, format!("local.{}", tree.get(m).config.locals[i].name)),
        Decl::Call(m, c) => (
            m,
            format!("module.{}", tree.get(m).config.module_calls[c].name),
        ),
        Decl::Var(m, v) => (m, format!("var.{}", tree.get(m).config.variables[v].name)),
        Decl::CallProvider(m, c, j) => {
            let call = &tree.get(m).config.module_calls[c];
            (
                m,
                format!("module.{}.providers.{}", call.name, call.providers[j].name),
            )
        }
    };
    format!("{}{text}", tree.prefix(m))
}

/// The node's static module.
pub fn module_of(d: Decl) -> usize {
    match d {
        Decl::Resource(m, _)
        | Decl::Action(m, _)
        | Decl::Output(m, _)
        | Decl::Local(m, _)
        | Decl::Call(m, _)
        | Decl::Var(m, _)
        | Decl::CallProvider(m, _, _) => m,
        Decl::Provider(_) => ROOT,
    }
}

/// Builds the graph; a cycle is an error that prints it (`a -> b -> c -> a`), through
/// modules when it crosses their boundary.
// `Diagnostic` is large (it is plinth-config's type); boxing it would change the API.
pub fn build(config: &Config, registry: &Registry) -> Result<DeclGraph, Diagnostic> {
    let tree = ModTree::new(config);
    let tables = SettingsTables::new(config, registry);
    let mut dag = Dag::with_capacity(
        config.resources.len() + config.actions.len() + config.outputs.len() + config.locals.len(),
        0,
    );
    let mut by_addr = HashMap::new();
    let mut outputs: HashMap<(usize, String), NodeId> = HashMap::new();
    let mut calls: HashMap<(usize, usize), NodeId> = HashMap::new();
    let mut vars: HashMap<(usize, String), NodeId> = HashMap::new();
    // Every node of each module, for the edges from its call.
    let mut members: Vec<Vec<NodeId>> = vec![Vec::new(); tree.modules.len()];
    for (m, module) in tree.modules.iter().enumerate() {
        let c = module.config;
        for (i, r) in c.resources.iter().enumerate() {
            let id = dag.add_node(Decl::Resource(m, i));
            by_addr.insert((m, r.mode, r.name.clone()), id);
            members[m].push(id);
        }
        for (i, a) in c.actions.iter().enumerate() {
            let id = dag.add_node(Decl::Action(m, i));
            by_addr.insert((m, DeclKind::Action, a.name.clone()), id);
            members[m].push(id);
        }
        for (i, l) in c.locals.iter().enumerate() {
            let id = dag.add_node(Decl::Local(m, i));
            by_addr.insert((m, DeclKind::Local, l.name.clone()), id);
            members[m].push(id);
        }
        for (i, o) in c.outputs.iter().enumerate() {
            let id = dag.add_node(Decl::Output(m, i));
            outputs.insert((m, o.name.clone()), id);
            members[m].push(id);
        }
        for i in 0..c.module_calls.len() {
            let id = dag.add_node(Decl::Call(m, i));
            calls.insert((m, i), id);
            members[m].push(id);
        }
        if m != ROOT {
            for (i, v) in c.variables.iter().enumerate() {
                let id = dag.add_node(Decl::Var(m, i));
                vars.insert((m, v.name.clone()), id);
                members[m].push(id);
            }
        }
    }
    let settings: Vec<(NodeId, usize, &str)> = tables
        .tables()
        .map(|(i, prefix)| (dag.add_node(Decl::Provider(i)), i, prefix))
        .collect();
    let mut g = DeclGraph {
        dag,
        by_addr,
        edge_locs: HashMap::new(),
    };

    let link = |g: &mut DeclGraph, from: NodeId, to: NodeId, loc: &Loc| {
        g.dag.add_edge(from, to);
        g.edge_locs.entry((from, to)).or_insert(loc.clone());
    };
    // The edges into `to` (a node of module `m`) from what `node` refers to, in module `m`.
    let refs_in = |g: &mut DeclGraph, m: usize, to: NodeId, node: &plinth_config::Node| {
        for ((kind, name), loc) in node_refs(node) {
            if let Some(&from) = g.by_addr.get(&(m, kind, name)) {
                link(g, from, to, &loc);
            }
        }
        if m != ROOT {
            for (name, loc) in var_refs(node) {
                if let Some(&from) = vars.get(&(m, name)) {
                    link(g, from, to, &loc);
                }
            }
        }
        for (call, output, loc) in module_refs(node) {
            let Some(child) = tree.child(m, &call) else {
                continue;
            };
            for o in &tree.get(child).config.outputs {
                if output.as_ref().is_none_or(|x| *x == o.name)
                    && let Some(&from) = outputs.get(&(child, o.name.clone()))
                {
                    link(g, from, to, &loc);
                }
            }
        }
    };
    // `depends_on`-style addresses, relative to module `m`.
    let addrs_in = |g: &mut DeclGraph, m: usize, to: NodeId, addrs: &[plinth_config::AddrRef]| {
        for a in addrs {
            let Ok(addr) = a.text.parse::<Address>() else {
                continue;
            };
            let mut at = Some(m);
            for step in &addr.module {
                at = at.and_then(|x| tree.child(x, &step.name));
            }
            let Some(at) = at else { continue };
            if addr.is_module() {
                // Everything declared in the module waits for it... the module's objects.
                for &from in &members[at] {
                    if matches!(g.dag.node(from), Decl::Resource(..) | Decl::Action(..)) {
                        link(g, from, to, &a.loc);
                    }
                }
            } else if let Some(&from) = g.by_addr.get(&(at, addr.kind, addr.name)) {
                link(g, from, to, &a.loc);
            }
        }
    };
    for (m, module) in tree.modules.iter().enumerate() {
        let c = module.config;
        for r in &c.resources {
            let to = g.by_addr[&(m, r.mode, r.name.clone())];
            refs_in(&mut g, m, to, &r.inputs);
            for meta in [&r.for_each, &r.count].into_iter().flatten() {
                refs_in(&mut g, m, to, meta);
            }
            addrs_in(&mut g, m, to, &r.depends_on);
            addrs_in(&mut g, m, to, &r.lifecycle.replace_triggered_by);
            // A condition is evaluated with the object: what it refers to comes first.
            let l = &r.lifecycle;
            for c in l.preconditions.iter().chain(&l.postconditions) {
                refs_in(&mut g, m, to, &c.condition);
                refs_in(&mut g, m, to, &c.message);
            }
        }
        for a in &c.actions {
            let to = g.by_addr[&(m, DeclKind::Action, a.name.clone())];
            refs_in(&mut g, m, to, &a.inputs);
            addrs_in(&mut g, m, to, &a.on);
            addrs_in(&mut g, m, to, &a.depends_on);
        }
        for l in &c.locals {
            let to = g.by_addr[&(m, DeclKind::Local, l.name.clone())];
            refs_in(&mut g, m, to, &l.value);
        }
        for o in &c.outputs {
            let to = outputs[&(m, o.name.clone())];
            refs_in(&mut g, m, to, &o.value);
            for c in &o.preconditions {
                refs_in(&mut g, m, to, &c.condition);
                refs_in(&mut g, m, to, &c.message);
            }
        }
        for (i, call) in c.module_calls.iter().enumerate() {
            let to = calls[&(m, i)];
            for meta in [&call.for_each, &call.count].into_iter().flatten() {
                refs_in(&mut g, m, to, meta);
            }
            addrs_in(&mut g, m, to, &call.depends_on);
            let child = module.children[i];
            // Everything in the module comes after its call (its instances are known then).
            for &n in &members[child] {
                link(&mut g, to, n, &call.loc);
            }
            // Each input is evaluated in the caller.
            for (name, _, node) in &call.inputs {
                if let Some(&var) = vars.get(&(child, name.clone())) {
                    refs_in(&mut g, m, var, node);
                }
            }
        }
    }
    // Every object of a provider's types comes after the table its settings come from:
    // the root's (modules inherit it) or the nearest call's that gives the module its own.
    let users = |g: &DeclGraph, prefix: &str, from: Source| -> Vec<NodeId> {
        let mut out = Vec::new();
        for (m, module) in tree.modules.iter().enumerate() {
            if tables.source(&tree, m, prefix) != from {
                continue;
            }
            let c = module.config;
            let decls = c
                .resources
                .iter()
                .map(|r| ((m, r.mode, r.name.clone()), &r.type_name))
                .chain(
                    c.actions
                        .iter()
                        .map(|a| ((m, DeclKind::Action, a.name.clone()), &a.type_name)),
                );
            for (key, type_name) in decls {
                if prefix_of(type_name) == prefix {
                    out.push(g.by_addr[&key]);
                }
            }
        }
        out
    };
    for &(node, i, prefix) in &settings {
        for ((kind, name), loc) in tables.references(config, i) {
            if let Some(&from) = g.by_addr.get(&(ROOT, kind, name)) {
                link(&mut g, from, node, &loc);
            }
        }
        let loc = config.providers[i].loc.clone();
        for to in users(&g, prefix, Source::Root(i)) {
            link(&mut g, node, to, &loc);
        }
    }
    for (m, module) in tree.modules.iter().enumerate() {
        for (c, call) in module.config.module_calls.iter().enumerate() {
            let child = module.children[c];
            for (j, p) in call.providers.iter().enumerate() {
                let Some(prefix) = tables.prefix_of_table(&p.name) else {
                    continue; // validate reports a table no provider takes
                };
                let node = g.dag.add_node(Decl::CallProvider(m, c, j));
                // Evaluated in the caller, per call instance (known once the call is).
                link(&mut g, calls[&(m, c)], node, &p.loc);
                refs_in(&mut g, m, node, &p.config);
                for (name, loc) in tables.named_resources(module.config, p) {
                    if let Some(&from) = g.by_addr.get(&(m, DeclKind::Resource, name)) {
                        link(&mut g, from, node, &loc);
                    }
                }
                let from = Source::Call {
                    module: child,
                    table: j,
                };
                for to in users(&g, prefix, from) {
                    link(&mut g, node, to, &p.loc);
                }
            }
        }
    }
    if let Some(mut cycle) = g.dag.find_cycle() {
        // find_cycle follows edges dependency -> dependent; print it in reference order
        // (`a -> b`: a refers to b), starting from the same node.
        cycle.reverse();
        cycle.rotate_right(1);
        let names: Vec<String> = cycle
            .iter()
            .map(|&n| label(&tree, *g.dag.node(n)))
            .collect();
        let mut text = names.join(" -> ");
        text.push_str(" -> ");
        text.push_str(&names[0]);
        // `x -> y` means x refers to y: the edge y -> x in the graph. The error is located
        // at the first reference; the others are labelled.
        let n = cycle.len();
        let refers = |i: usize| (cycle[(i + 1) % n], cycle[i]);
        let next = |i: usize| names[(i + 1) % n].clone();
        let mut d = match g.edge_locs.get(&refers(0)).cloned() {
            Some(l) => Diagnostic::at(format!("dependency cycle: {text}"), l).label(format!(
                "`{}` refers to `{}` here",
                names[0],
                next(0)
            )),
            None => Diagnostic::new(format!("dependency cycle: {text}")),
        };
        for (i, name) in names.iter().enumerate().skip(1) {
            if let Some(l) = g.edge_locs.get(&refers(i)) {
                d = d.related(l.clone(), format!("`{name}` refers to `{}`", next(i)));
            }
        }
        return Err(d.help("break the cycle: one of these references must go, or be replaced by a value that does not depend on the other"));
    }
    Ok(g)
}
