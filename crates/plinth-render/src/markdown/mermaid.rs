//! The Mermaid graph of the changed resources and their dependencies, within what GitHub
//! draws (nodes, edges, characters); a short note instead when it would not be.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use plinth_plan::{Action, Plan, ResourceChange};

use super::item::verb;
use super::words::thousands;

/// Above these, a Mermaid graph is not drawn: GitHub's Mermaid refuses more than 500 edges
/// and 50,000 characters, and a larger graph would not be readable anyway.
const GRAPH_MAX_NODES: usize = 200;
const GRAPH_MAX_EDGES: usize = 500;
const GRAPH_MAX_CHARS: usize = 40_000;

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
    let mut nodes: Vec<(String, &'static str)> = Vec::new();
    for c in changing {
        if ids.contains_key(c.address.as_str()) {
            continue;
        }
        ids.insert(&c.address, nodes.len());
        nodes.push((
            format!("{}: {}", verb(c), c.address),
            match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Replace => "replace",
                Action::Delete => "delete",
                _ => "other",
            },
        ));
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
                nodes.push((u.address.clone(), "unchanged"));
            } else {
                // A declaration-level dependency: every changed instance of it.
                let prefix = format!("{dep}[");
                from.extend(
                    changing
                        .iter()
                        .filter(|x| x.address.starts_with(&prefix))
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
    if edges.len() > GRAPH_MAX_EDGES || nodes.len() > GRAPH_MAX_NODES {
        return Some(Graph::NotDrawn(format!(
            "{head}\n\nNot drawn: {} dependencies among {} resources are more than a readable graph holds.",
            thousands(edges.len()),
            thousands(nodes.len())
        )));
    }
    let mut g = String::from("```mermaid\nflowchart LR\n");
    for (i, (label, class)) in nodes.iter().enumerate() {
        let _ = writeln!(
            g,
            "  n{i}[\"{}\"]:::{class}",
            plinth_graph::escape_mermaid(label)
        );
    }
    for (from, to) in &edges {
        let _ = writeln!(g, "  n{from} --> n{to}");
    }
    let used: BTreeSet<&str> = nodes.iter().map(|(_, c)| *c).collect();
    for (class, style) in [
        ("create", "fill:#dafbe1,stroke:#1a7f37,color:#1f2328"),
        ("update", "fill:#fff8c5,stroke:#9a6700,color:#1f2328"),
        ("replace", "fill:#fff1e5,stroke:#bc4c00,color:#1f2328"),
        ("delete", "fill:#ffebe9,stroke:#cf222e,color:#1f2328"),
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
    let legend = if used.contains("unchanged") {
        "\n\nArrows point from a dependency to what depends on it; dimmed nodes are unchanged."
    } else {
        "\n\nArrows point from a dependency to what depends on it."
    };
    Some(Graph::Drawn(format!("{head}\n\n{g}{legend}")))
}
