//! The Mermaid graph of the changed resources and their dependencies, within what GitHub
//! draws (nodes, edges, characters); a short note instead when it would not be. Objects in
//! modules are drawn inside one subgraph per module instance (nested as the modules are),
//! named by the module path and labelled by their address inside it.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use plinth_addr::ModuleStep;
use plinth_plan::{Action, Plan, ResourceChange};

use super::item::verb;
use super::words::thousands;
use crate::address::{covers, module_path, module_text, relative_to};

/// Above these, a Mermaid graph is not drawn: GitHub's Mermaid refuses more than 500 edges
/// and 50,000 characters, and a larger graph would not be readable anyway.
const GRAPH_MAX_NODES: usize = 200;
const GRAPH_MAX_EDGES: usize = 500;
const GRAPH_MAX_CHARS: usize = 40_000;

/// One node: its label (the address inside its module instance), the module instance, and
/// its style class.
struct Node {
    label: String,
    module: Vec<ModuleStep>,
    class: &'static str,
}

/// The node lines: the root module's nodes first, then one subgraph per module instance,
/// nested as the modules are, each holding its nodes. Subgraph ids are `m<index>`; a module
/// instance with no node of its own but a nested one still gets its subgraph.
fn write_nodes(g: &mut String, nodes: &[Node]) {
    let mut modules: BTreeSet<&[ModuleStep]> = BTreeSet::new();
    for n in nodes {
        for depth in 1..=n.module.len() {
            modules.insert(&n.module[..depth]);
        }
    }
    let node_line = |g: &mut String, i: usize, n: &Node, indent: usize| {
        let _ = writeln!(
            g,
            "{:indent$}n{i}[\"{}\"]:::{}",
            "",
            plinth_graph::escape_mermaid(&n.label),
            n.class
        );
    };
    for (i, n) in nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.module.is_empty())
    {
        node_line(g, i, n, 2);
    }
    // In path order a module's nested instances follow it: close subgraphs as the path
    // leaves them.
    let mut open: Vec<&[ModuleStep]> = Vec::new();
    for (m, path) in modules.iter().enumerate() {
        while open.last().is_some_and(|o| !path.starts_with(o)) {
            open.pop();
            let _ = writeln!(g, "{:w$}end", "", w = 2 + 2 * open.len());
        }
        let parent = open.last().map_or(0, |o| o.len());
        let _ = writeln!(
            g,
            "{:w$}subgraph m{m}[\"{}\"]",
            "",
            plinth_graph::escape_mermaid(&module_text(&path[parent..])),
            w = 2 + 2 * open.len()
        );
        open.push(path);
        for (i, n) in nodes.iter().enumerate().filter(|(_, n)| n.module == *path) {
            node_line(g, i, n, 2 + 2 * open.len());
        }
    }
    while open.pop().is_some() {
        let _ = writeln!(g, "{:w$}end", "", w = 2 + 2 * open.len());
    }
}

/// The edges no longer path implies (`a -> c` goes when `a -> b -> c` is drawn), so that
/// a reviewer sees each dependency once: the flagship's first plan has 41 edges, 18 of them
/// needed. A plan's graph is acyclic; should one not be, every edge is kept.
fn reduced(nodes: usize, edges: &BTreeSet<(usize, usize)>) -> BTreeSet<(usize, usize)> {
    let mut dag = plinth_graph::Dag::with_capacity(nodes, edges.len());
    let ids: Vec<plinth_graph::NodeId> = (0..nodes).map(|i| dag.add_node(i)).collect();
    for &(a, b) in edges {
        dag.add_edge(ids[a], ids[b]);
    }
    match dag.transitive_reduction() {
        Ok(r) => r
            .edges()
            .into_iter()
            .map(|(a, b)| (a.index(), b.index()))
            .collect(),
        Err(_) => edges.clone(),
    }
}

/// The dependency graph section.
pub(super) enum Graph {
    Drawn(String),
    NotDrawn(String),
}

/// The Mermaid graph of the changed resources (in display order) and their dependencies;
/// unchanged direct dependencies are shown dimmed. `None` when nothing depends on anything.
pub(super) fn graph_section(plan: &Plan, changing: &[&ResourceChange]) -> Option<Graph> {
    let head = "### Dependency graph";
    if changing.len() > GRAPH_MAX_NODES {
        return Some(Graph::NotDrawn(format!(
            "{head}\n\nNot drawn: {} changed resources are more than a readable graph holds.",
            thousands(changing.len())
        )));
    }
    // Node ids by address; unchanged dependencies are added as they are found.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut nodes: Vec<Node> = Vec::new();
    for c in changing {
        if ids.contains_key(c.address.as_str()) {
            continue;
        }
        ids.insert(&c.address, nodes.len());
        let module = module_path(&c.address);
        nodes.push(Node {
            label: format!("{}: {}", verb(c), relative_to(&c.address, &module)),
            module,
            class: match c.action {
                // An import is drawn as one, whatever else it does (its label says it).
                _ if c.importing.is_some() => "import",
                Action::Forget => "forget",
                Action::Create => "create",
                Action::Update => "update",
                Action::Replace => "replace",
                Action::Delete => "delete",
                _ => "other",
            },
        });
    }
    let unchanged: HashMap<&str, &ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| !c.action.is_change())
        .map(|c| (c.address.as_str(), c))
        .collect();
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    for c in changing {
        let Some(&to) = ids.get(c.address.as_str()) else {
            continue;
        };
        for dep in &c.depends_on {
            let mut from: Vec<usize> = Vec::new();
            if let Some(&i) = ids.get(dep.as_str()) {
                from.push(i);
            } else if let Some(u) = unchanged.get(dep.as_str()) {
                ids.insert(&u.address, nodes.len());
                from.push(nodes.len());
                let module = module_path(&u.address);
                nodes.push(Node {
                    label: relative_to(&u.address, &module),
                    module,
                    class: "unchanged",
                });
            } else {
                // A declaration-level dependency (`app`, `module.app.mi`): every changed
                // instance of it; a module's (`module.app`): every changed object inside it.
                from.extend(
                    changing
                        .iter()
                        .filter(|x| covers(dep, &x.address))
                        .filter_map(|x| ids.get(x.address.as_str()).copied()),
                );
            }
            edges.extend(from.into_iter().filter(|&f| f != to).map(|f| (f, to)));
        }
    }
    if edges.is_empty() {
        // Nothing depends on anything else: the list says it all.
        return None;
    }
    let all_edges = edges.len();
    let edges = reduced(nodes.len(), &edges);
    let implied = all_edges - edges.len();
    if edges.len() > GRAPH_MAX_EDGES || nodes.len() > GRAPH_MAX_NODES {
        return Some(Graph::NotDrawn(format!(
            "{head}\n\nNot drawn: {} dependencies among {} resources are more than a readable graph holds.",
            thousands(edges.len()),
            thousands(nodes.len())
        )));
    }
    let mut g = String::from("```mermaid\nflowchart LR\n");
    write_nodes(&mut g, &nodes);
    for (from, to) in &edges {
        let _ = writeln!(g, "  n{from} --> n{to}");
    }
    let used: BTreeSet<&str> = nodes.iter().map(|n| n.class).collect();
    for (class, style) in [
        ("create", "fill:#dafbe1,stroke:#1a7f37,color:#1f2328"),
        ("update", "fill:#fff8c5,stroke:#9a6700,color:#1f2328"),
        ("replace", "fill:#fff1e5,stroke:#bc4c00,color:#1f2328"),
        ("delete", "fill:#ffebe9,stroke:#cf222e,color:#1f2328"),
        ("import", "fill:#d8f6f3,stroke:#1b7c83,color:#1f2328"),
        (
            "forget",
            "fill:#fbefff,stroke:#8250df,color:#1f2328,stroke-dasharray:5 3",
        ),
        ("other", "fill:#ddf4ff,stroke:#0969da,color:#1f2328"),
        (
            "unchanged",
            "fill:#f6f8fa,stroke:#d0d7de,color:#8c959f,stroke-dasharray:3 3",
        ),
    ] {
        if used.contains(class) {
            let _ = writeln!(g, "  classDef {class} {style}");
        }
    }
    g.push_str("```");
    if g.chars().count() > GRAPH_MAX_CHARS {
        return Some(Graph::NotDrawn(format!(
            "{head}\n\nNot drawn: the graph of {} resources is too large for GitHub to draw.",
            thousands(nodes.len())
        )));
    }
    let mut legend = "\n\nArrows point from a dependency to what depends on it".to_string();
    if implied > 0 {
        legend.push_str(&if implied == 1 {
            " (1 dependency that a longer path implies is not drawn)".to_string()
        } else {
            format!(
                " ({} dependencies that longer paths imply are not drawn)",
                thousands(implied)
            )
        });
    }
    legend.push_str(if used.contains("unchanged") {
        "; dimmed nodes are unchanged."
    } else {
        "."
    });
    Some(Graph::Drawn(format!("{head}\n\n{g}{legend}")))
}
