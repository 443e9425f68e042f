//! Text renderings of a [`Dag`]: Graphviz DOT and Mermaid.

use std::fmt::Write as _;

use crate::dag::Dag;

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
        let mut out = String::from("digraph {\n    rankdir=LR;\n    node [shape=box];\n");
        for (id, n) in self.iter() {
            let _ = writeln!(
                out,
                "    n{} [label=\"{}\"];",
                id.index(),
                escape_dot(&label(n))
            );
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
        let mut out = String::from("flowchart LR\n");
        for (id, n) in self.iter() {
            let _ = writeln!(
                out,
                "    n{}[\"{}\"]",
                id.index(),
                escape_mermaid(&label(n))
            );
        }
        for (a, b) in self.edges() {
            let _ = writeln!(out, "    n{} --> n{}", a.index(), b.index());
        }
        out
    }
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
