//! The declaration graph: one node per resource, data source, action, output, local and
//! provider settings table; an edge from every declaration to each one that refers to it
//! (references, `depends_on`, `replace_triggered_by`, an action's `on`), and from a settings
//! table to every declaration of its provider's types.

use std::collections::HashMap;

use plinth_config::{Config, Diagnostic, Loc};
use plinth_graph::{Dag, NodeId};

use plinth_provider::Registry;

use crate::addr::{Address, DeclKind};
use crate::refs::node_refs;
use crate::settings::{SettingsTables, prefix_of};

/// A declaration in the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decl {
    /// Index into `config.resources`.
    Resource(usize),
    /// Index into `config.actions`.
    Action(usize),
    /// Index into `config.outputs`.
    Output(usize),
    /// Index into `config.providers`: a settings table that a provider takes (see
    /// ARCHITECTURE.md, "Provider settings").
    Provider(usize),
    /// Index into `config.locals`: `local.NAME`.
    Local(usize),
}

/// The graph of declarations.
pub struct DeclGraph {
    /// The declarations; an edge points from a declaration to one that depends on it.
    pub dag: Dag<Decl>,
    /// The node of each declaration by kind and name (all instances of a `for_each`
    /// declaration share its node).
    pub by_addr: HashMap<(DeclKind, String), NodeId>,
    /// Where each edge comes from in the files, for cycle messages.
    pub edge_locs: HashMap<(NodeId, NodeId), Loc>,
}

impl DeclGraph {
    /// The node of the declaration `name` of `kind`; `None` when there is no such declaration.
    pub fn node_of(&self, kind: DeclKind, name: &str) -> Option<NodeId> {
        self.by_addr.get(&(kind, name.to_string())).copied()
    }
}

/// The address text of a declaration.
pub fn decl_address(config: &Config, d: Decl) -> String {
    match d {
        Decl::Resource(i) => config.resources[i].address(),
        Decl::Action(i) => format!("action.{}", config.actions[i].name),
        Decl::Output(i) => format!("output.{}", config.outputs[i].name),
        Decl::Provider(i) => format!("provider.{}", config.providers[i].name),
        Decl::Local(i) => format!("local.{}", config.locals[i].name),
    }
}

/// Builds the graph; a cycle is an error that prints it (`a -> b -> c -> a`).
// `Diagnostic` is large (it is plinth-config's type); boxing it would change the API.
pub fn build(config: &Config, registry: &Registry) -> Result<DeclGraph, Diagnostic> {
    let tables = SettingsTables::new(config, registry);
    let mut dag = Dag::with_capacity(
        config.resources.len() + config.actions.len() + config.outputs.len() + config.locals.len(),
        0,
    );
    let mut by_addr = HashMap::new();
    for (i, r) in config.resources.iter().enumerate() {
        let id = dag.add_node(Decl::Resource(i));
        by_addr.insert((r.mode, r.name.clone()), id);
    }
    for (i, a) in config.actions.iter().enumerate() {
        let id = dag.add_node(Decl::Action(i));
        by_addr.insert((DeclKind::Action, a.name.clone()), id);
    }
    for (i, l) in config.locals.iter().enumerate() {
        let id = dag.add_node(Decl::Local(i));
        by_addr.insert((DeclKind::Local, l.name.clone()), id);
    }
    let outputs: Vec<NodeId> = (0..config.outputs.len())
        .map(|i| dag.add_node(Decl::Output(i)))
        .collect();
    let settings: Vec<(NodeId, usize, &str)> = tables
        .tables()
        .map(|(i, prefix)| (dag.add_node(Decl::Provider(i)), i, prefix))
        .collect();
    let mut g = DeclGraph {
        dag,
        by_addr,
        edge_locs: HashMap::new(),
    };

    let add = |g: &mut DeclGraph, to: NodeId, key: (DeclKind, String), loc: Loc| {
        if let Some(&from) = g.by_addr.get(&key) {
            g.dag.add_edge(from, to);
            g.edge_locs.entry((from, to)).or_insert(loc);
        }
    };
    let addr_key = |text: &str| text.parse::<Address>().ok().map(|a| (a.kind, a.name));
    for r in &config.resources {
        let to = g.by_addr[&(r.mode, r.name.clone())];
        let mut refs = node_refs(&r.inputs);
        for meta in [&r.for_each, &r.count].into_iter().flatten() {
            refs.extend(node_refs(meta));
        }
        for (k, loc) in refs {
            add(&mut g, to, k, loc);
        }
        for a in r.depends_on.iter().chain(&r.lifecycle.replace_triggered_by) {
            if let Some(k) = addr_key(&a.text) {
                add(&mut g, to, k, a.loc.clone());
            }
        }
    }
    for a in &config.actions {
        let to = g.by_addr[&(DeclKind::Action, a.name.clone())];
        for (k, loc) in node_refs(&a.inputs) {
            add(&mut g, to, k, loc);
        }
        for x in a.on.iter().chain(&a.depends_on) {
            if let Some(k) = addr_key(&x.text) {
                add(&mut g, to, k, x.loc.clone());
            }
        }
    }
    for l in &config.locals {
        let to = g.by_addr[&(DeclKind::Local, l.name.clone())];
        for (k, loc) in node_refs(&l.value) {
            add(&mut g, to, k, loc);
        }
    }
    for (i, o) in config.outputs.iter().enumerate() {
        for (k, loc) in node_refs(&o.value) {
            add(&mut g, outputs[i], k, loc);
        }
    }
    for &(node, i, prefix) in &settings {
        for (k, loc) in tables.references(config, i) {
            add(&mut g, node, k, loc);
        }
        let loc = config.providers[i].loc.clone();
        let users = config
            .resources
            .iter()
            .map(|r| ((r.mode, r.name.clone()), &r.type_name))
            .chain(
                config
                    .actions
                    .iter()
                    .map(|a| ((DeclKind::Action, a.name.clone()), &a.type_name)),
            );
        for (key, type_name) in users {
            if prefix_of(type_name) == prefix {
                let to = g.by_addr[&key];
                g.dag.add_edge(node, to);
                g.edge_locs.entry((node, to)).or_insert(loc.clone());
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
            .map(|&n| decl_address(config, *g.dag.node(n)))
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
