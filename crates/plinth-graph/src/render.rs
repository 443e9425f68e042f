//! Text renderings of a [`Dag`]: Graphviz DOT and Mermaid, optionally with nodes drawn
//! inside nested clusters (subgraphs).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::dag::{Dag, NodeId};

impl<N> Dag<N> {
    /// Renders the graph as Graphviz DOT.
    ///
    /// Layout is `rankdir=LR`: dependencies on the left, dependents to their
    /// right (edges point dependency → dependent). Nodes are named `n<index>`
    /// and listed in `NodeId` order, then edges sorted by
    /// `(dependency, dependent)`, so output is deterministic. Labels are
    /// double-quoted with `\` and `"` escaped; a newline becomes DOT's `\n`
    /// line break and carriage returns are dropped.
    ///
    /// ```
    /// let mut dag = plinth_graph::Dag::new();
    /// let rg = dag.add_node("rg");
    /// let aks = dag.add_node("aks");
    /// dag.add_edge(rg, aks);
    /// assert_eq!(
    ///     dag.to_dot(|n| n.to_string()),
    ///     "digraph {\n    rankdir=LR;\n    node [shape=box];\n    \
    ///      n0 [label=\"rg\"];\n    n1 [label=\"aks\"];\n    n0 -> n1;\n}\n"
    /// );
    /// ```
    pub fn to_dot(&self, label: impl Fn(&N) -> String) -> String {
        self.to_dot_clustered(label, |_| Vec::new())
    }

    /// Renders the graph as Graphviz DOT with nodes drawn inside nested clusters.
    ///
    /// `cluster(n)` is the path of clusters the node is in, outermost first, each named by
    /// its title (empty: outside every cluster); nodes with the same path share a cluster,
    /// and a path's prefixes are the clusters around it (a prefix without nodes of its own
    /// still gets its cluster). Nodes outside every cluster come first, in `NodeId` order;
    /// then each cluster, in path order, as `subgraph cluster_<index> { label="…"; … }`
    /// holding its nodes in `NodeId` order and its nested clusters; then the edges, as
    /// [`Dag::to_dot`] writes them. Without clusters the result is [`Dag::to_dot`]'s.
    ///
    /// ```
    /// let mut dag = plinth_graph::Dag::new();
    /// let rg = dag.add_node("rg");
    /// let mi = dag.add_node("module.app/mi");
    /// dag.add_edge(rg, mi);
    /// let split = |n: &&str| match n.split_once('/') {
    ///     Some((m, _)) => vec![m.to_string()],
    ///     None => vec![],
    /// };
    /// let label = |n: &&str| n.rsplit('/').next().unwrap_or(n).to_string();
    /// assert_eq!(
    ///     dag.to_dot_clustered(label, split),
    ///     "digraph {\n    rankdir=LR;\n    node [shape=box];\n    n0 [label=\"rg\"];\n    \
    ///      subgraph cluster_0 {\n        label=\"module.app\";\n        n1 [label=\"mi\"];\n    \
    ///      }\n    n0 -> n1;\n}\n"
    /// );
    /// ```
    pub fn to_dot_clustered(
        &self,
        label: impl Fn(&N) -> String,
        cluster: impl Fn(&N) -> Vec<String>,
    ) -> String {
        let mut out = String::from("digraph {\n    rankdir=LR;\n    node [shape=box];\n");
        for line in self.layout(&cluster) {
            match line {
                Line::Node(id, depth) => {
                    let _ = writeln!(
                        out,
                        "{:w$}n{} [label=\"{}\"];",
                        "",
                        id.index(),
                        escape_dot(&label(self.node(id))),
                        w = 4 * (depth + 1)
                    );
                }
                Line::Open(index, title, depth) => {
                    let w = 4 * (depth + 1);
                    let _ = writeln!(
                        out,
                        "{:w$}subgraph cluster_{index} {{\n{:w2$}label=\"{}\";",
                        "",
                        "",
                        escape_dot(&title),
                        w2 = w + 4
                    );
                }
                Line::Close(depth) => {
                    let _ = writeln!(out, "{:w$}}}", "", w = 4 * (depth + 1));
                }
            }
        }
        for (a, b) in self.edges() {
            let _ = writeln!(out, "    n{} -> n{};", a.index(), b.index());
        }
        out.push_str("}\n");
        out
    }

    /// Renders the graph as a Mermaid flowchart (`flowchart LR`, dependencies
    /// on the left).
    ///
    /// Nodes are `n<index>["label"]` in `NodeId` order, then edges
    /// `nA --> nB` sorted by `(dependency, dependent)`. Inside the quoted
    /// label, characters Mermaid would misread are written as entity codes:
    /// `"` → `#quot;`, `#` → `#35;`, `<` → `#lt;`, `>` → `#gt;`, `&` →
    /// `#amp;`, `` ` `` → `#96;`; a newline becomes `<br/>` and carriage
    /// returns are dropped. So the label `app["blue"]` renders as written.
    ///
    /// ```
    /// let mut dag = plinth_graph::Dag::new();
    /// let rg = dag.add_node("rg");
    /// let app = dag.add_node(r#"app["blue"]"#);
    /// dag.add_edge(rg, app);
    /// assert_eq!(
    ///     dag.to_mermaid(|n| n.to_string()),
    ///     "flowchart LR\n    n0[\"rg\"]\n    n1[\"app[#quot;blue#quot;]\"]\n    n0 --> n1\n"
    /// );
    /// ```
    pub fn to_mermaid(&self, label: impl Fn(&N) -> String) -> String {
        self.to_mermaid_clustered(label, |_| Vec::new())
    }

    /// Renders the graph as a Mermaid flowchart with nodes drawn inside nested subgraphs:
    /// clusters as [`Dag::to_dot_clustered`] takes them, each written
    /// `subgraph c<index>["title"]` … `end` (the title escaped as labels are). Without
    /// clusters the result is [`Dag::to_mermaid`]'s.
    ///
    /// ```
    /// let mut dag = plinth_graph::Dag::new();
    /// let rg = dag.add_node("rg");
    /// let mi = dag.add_node("mi");
    /// dag.add_edge(rg, mi);
    /// let cluster = |n: &&str| {
    ///     if *n == "mi" { vec![r#"module.app["x"]"#.to_string()] } else { vec![] }
    /// };
    /// assert_eq!(
    ///     dag.to_mermaid_clustered(|n| n.to_string(), cluster),
    ///     "flowchart LR\n    n0[\"rg\"]\n    subgraph c0[\"module.app[#quot;x#quot;]\"]\n        \
    ///      n1[\"mi\"]\n    end\n    n0 --> n1\n"
    /// );
    /// ```
    pub fn to_mermaid_clustered(
        &self,
        label: impl Fn(&N) -> String,
        cluster: impl Fn(&N) -> Vec<String>,
    ) -> String {
        let mut out = String::from("flowchart LR\n");
        for line in self.layout(&cluster) {
            match line {
                Line::Node(id, depth) => {
                    let _ = writeln!(
                        out,
                        "{:w$}n{}[\"{}\"]",
                        "",
                        id.index(),
                        escape_mermaid(&label(self.node(id))),
                        w = 4 * (depth + 1)
                    );
                }
                Line::Open(index, title, depth) => {
                    let _ = writeln!(
                        out,
                        "{:w$}subgraph c{index}[\"{}\"]",
                        "",
                        escape_mermaid(&title),
                        w = 4 * (depth + 1)
                    );
                }
                Line::Close(depth) => {
                    let _ = writeln!(out, "{:w$}end", "", w = 4 * (depth + 1));
                }
            }
        }
        for (a, b) in self.edges() {
            let _ = writeln!(out, "    n{} --> n{}", a.index(), b.index());
        }
        out
    }

    /// The node and cluster lines of a clustered rendering, in order: nodes outside every
    /// cluster, then each cluster in path order (its nodes, then its nested clusters).
    fn layout(&self, cluster: &impl Fn(&N) -> Vec<String>) -> Vec<Line> {
        let paths: Vec<(NodeId, Vec<String>)> =
            self.iter().map(|(id, n)| (id, cluster(n))).collect();
        let mut clusters: BTreeSet<&[String]> = BTreeSet::new();
        for (_, p) in &paths {
            for depth in 1..=p.len() {
                clusters.insert(&p[..depth]);
            }
        }
        let mut nodes_of: BTreeMap<&[String], Vec<NodeId>> = BTreeMap::new();
        for (id, p) in &paths {
            nodes_of.entry(p.as_slice()).or_default().push(*id);
        }
        let mut lines: Vec<Line> = Vec::new();
        let top: &[String] = &[];
        for &id in nodes_of.get(top).into_iter().flatten() {
            lines.push(Line::Node(id, 0));
        }
        // In path order a cluster's nested clusters follow it: close clusters as the path
        // leaves them.
        let mut open: Vec<&[String]> = Vec::new();
        for (index, path) in clusters.into_iter().enumerate() {
            while open.last().is_some_and(|o| !path.starts_with(o)) {
                open.pop();
                lines.push(Line::Close(open.len()));
            }
            let title = path.last().cloned().unwrap_or_default();
            lines.push(Line::Open(index, title, open.len()));
            open.push(path);
            for &id in nodes_of.get(path).into_iter().flatten() {
                lines.push(Line::Node(id, open.len()));
            }
        }
        while open.pop().is_some() {
            lines.push(Line::Close(open.len()));
        }
        lines
    }
}

/// One line of a clustered rendering, with its nesting depth (0: outside every cluster).
enum Line {
    Node(NodeId, usize),
    /// A cluster's index (in path order) and title.
    Open(usize, String, usize),
    Close(usize),
}

fn escape_dot(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes a Mermaid node label (written inside `"…"`): quotes and the characters Mermaid or
/// the HTML it produces would interpret become entity codes; a newline becomes `<br/>`.
pub fn escape_mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push_str("<br/>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dag<&'static str> {
        let mut dag = Dag::new();
        let rg = dag.add_node("rg");
        let app = dag.add_node(r#"app["blue"]"#);
        let weird = dag.add_node("a\\b\nc#1 <x> & `y`\r");
        dag.add_edge(rg, weird);
        dag.add_edge(rg, app);
        dag.add_edge(app, weird);
        dag
    }

    #[test]
    fn dot_snapshot_with_escaping() {
        let expected = r#"digraph {
    rankdir=LR;
    node [shape=box];
    n0 [label="rg"];
    n1 [label="app[\"blue\"]"];
    n2 [label="a\\b\nc#1 <x> & `y`"];
    n0 -> n1;
    n0 -> n2;
    n1 -> n2;
}
"#;
        assert_eq!(sample().to_dot(|n| n.to_string()), expected);
    }

    #[test]
    fn mermaid_snapshot_with_escaping() {
        let expected = r#"flowchart LR
    n0["rg"]
    n1["app[#quot;blue#quot;]"]
    n2["a\b<br/>c#35;1 #lt;x#gt; #amp; #96;y#96;"]
    n0 --> n1
    n0 --> n2
    n1 --> n2
"#;
        assert_eq!(sample().to_mermaid(|n| n.to_string()), expected);
    }

    /// rg, then `module.app` (mi, and the nested `module.db` with pg), `module.web` (site).
    fn clustered() -> (Dag<&'static str>, impl Fn(&&'static str) -> Vec<String>) {
        let mut dag = Dag::new();
        let pg = dag.add_node("module.app/module.db/pg");
        let rg = dag.add_node("rg");
        let mi = dag.add_node("module.app/mi");
        let site = dag.add_node(r#"module.web["a\"b"]/site"#);
        dag.add_edge(rg, mi);
        dag.add_edge(mi, pg);
        dag.add_edge(pg, site);
        let cluster = |n: &&'static str| {
            let mut parts: Vec<String> = n.split('/').map(str::to_string).collect();
            parts.pop();
            parts
        };
        (dag, cluster)
    }

    fn leaf(n: &&'static str) -> String {
        n.rsplit('/').next().unwrap_or(n).to_string()
    }

    #[test]
    fn dot_clusters_nest_and_escape_their_titles() {
        let (dag, cluster) = clustered();
        let expected = r#"digraph {
    rankdir=LR;
    node [shape=box];
    n1 [label="rg"];
    subgraph cluster_0 {
        label="module.app";
        n2 [label="mi"];
        subgraph cluster_1 {
            label="module.db";
            n0 [label="pg"];
        }
    }
    subgraph cluster_2 {
        label="module.web[\"a\\\"b\"]";
        n3 [label="site"];
    }
    n0 -> n3;
    n1 -> n2;
    n2 -> n0;
}
"#;
        assert_eq!(dag.to_dot_clustered(leaf, cluster), expected);
    }

    #[test]
    fn mermaid_subgraphs_nest_and_escape_their_titles() {
        let (dag, cluster) = clustered();
        let expected = r#"flowchart LR
    n1["rg"]
    subgraph c0["module.app"]
        n2["mi"]
        subgraph c1["module.db"]
            n0["pg"]
        end
    end
    subgraph c2["module.web[#quot;a\#quot;b#quot;]"]
        n3["site"]
    end
    n0 --> n3
    n1 --> n2
    n2 --> n0
"#;
        assert_eq!(dag.to_mermaid_clustered(leaf, cluster), expected);
    }

    #[test]
    fn without_clusters_the_renderings_are_the_plain_ones() {
        let dag = sample();
        let none = |_: &&'static str| Vec::new();
        assert_eq!(
            dag.to_dot_clustered(|n| n.to_string(), none),
            dag.to_dot(|n| n.to_string())
        );
        assert_eq!(
            dag.to_mermaid_clustered(|n| n.to_string(), none),
            dag.to_mermaid(|n| n.to_string())
        );
    }

    #[test]
    fn empty_graph_renders() {
        let dag: Dag<()> = Dag::new();
        assert_eq!(
            dag.to_dot(|_| String::new()),
            "digraph {\n    rankdir=LR;\n    node [shape=box];\n}\n"
        );
        assert_eq!(dag.to_mermaid(|_| String::new()), "flowchart LR\n");
    }
}
