//! Configuration values as written: a tree of literals, lists, tables and template strings,
//! each with its location, evaluated later against a context.

use plinth_expr::{Context, EvalError, Reference, Template};
use plinth_value::{Map, Value};

use crate::diag::Diagnostic;
use crate::source::Loc;

/// A located configuration value.
#[derive(Clone, Debug)]
pub struct Node {
    /// What was written: a literal, a template, a list or a table.
    pub kind: NodeKind,
    /// The value in the file (for a table, the table or its header), for errors about it.
    pub loc: Loc,
    /// For strings: the file offset of the string's first content byte when the source text
    /// equals the decoded string (no escapes), so expression spans map to exact columns.
    pub content_offset: Option<usize>,
    /// For a basic (`"..."`) string whose escapes make its source text differ from its value:
    /// where the decoded string's pieces are in the file, so expression spans still map to
    /// exact columns. `None` for every other node (most strings have no escapes).
    pub escapes: Option<EscapeMap>,
}

/// Anchors `(offset in the decoded string, offset in the file)`, in increasing order: one at
/// the start, one at every escape and one after it. A decoded offset maps to the file offset
/// of the last anchor at or before it, plus the distance from that anchor.
pub type EscapeMap = std::sync::Arc<[(usize, usize)]>;

/// The shape of a [`Node`].
#[derive(Clone, Debug)]
pub enum NodeKind {
    /// A non-string scalar, or a string with no `${` and no `%{`.
    Lit(Value),
    /// A string with at least one `${...}` or `%{...}` directive.
    Template(Template),
    /// A TOML array, items in file order.
    List(Vec<Node>),
    /// Entries in file order; keys carry their own locations.
    Table(Vec<(String, Loc, Node)>),
}

/// A reference found in a node, located in the file.
#[derive(Clone, Debug)]
pub struct FoundRef<'a> {
    /// The reference as parsed (`rg.id`, `var.name`), borrowed from the node's template.
    pub reference: &'a Reference,
    /// The reference's text in the file; the whole string when escapes make columns inexact.
    pub loc: Loc,
}

impl Node {
    /// Maps a span inside this string node's template to a file location.
    pub fn loc_of(&self, span: &std::ops::Range<usize>) -> Loc {
        match (self.content_offset, &self.escapes) {
            (Some(base), _) => Loc::new(self.loc.file, base + span.start..base + span.end),
            (None, Some(map)) => {
                let at = |d: usize| {
                    let i = map.partition_point(|&(dec, _)| dec <= d).saturating_sub(1);
                    let (dec, file) = map.get(i).copied().unwrap_or((0, self.loc.span.start));
                    file + (d - dec.min(d))
                };
                let (start, end) = (at(span.start), at(span.end).max(at(span.start)));
                Loc::new(self.loc.file, start..end.min(self.loc.span.end))
            }
            (None, None) => self.loc.clone(),
        }
    }

    /// Every reference, recursively.
    pub fn references(&self) -> Vec<FoundRef<'_>> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<FoundRef<'a>>) {
        match &self.kind {
            NodeKind::Lit(_) => {}
            NodeKind::Template(t) => {
                for r in t.references() {
                    out.push(FoundRef {
                        reference: r,
                        loc: self.loc_of(&r.span),
                    });
                }
            }
            NodeKind::List(items) => items.iter().for_each(|n| n.collect_refs(out)),
            NodeKind::Table(entries) => entries.iter().for_each(|(_, _, n)| n.collect_refs(out)),
        }
    }

    /// Evaluates the node. Errors are located in the file.
    pub fn eval(&self, ctx: &dyn Context) -> Result<Value, Diagnostic> {
        match &self.kind {
            NodeKind::Lit(v) => Ok(v.clone()),
            NodeKind::Template(t) => {
                plinth_expr::eval_template(t, ctx).map_err(|e| self.eval_error(e, ctx))
            }
            NodeKind::List(items) => items
                .iter()
                .map(|n| n.eval(ctx))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            NodeKind::Table(entries) => {
                let mut m = Map::new();
                for (k, _, n) in entries {
                    m.insert(k.clone(), n.eval(ctx)?);
                }
                Ok(Value::Map(m))
            }
        }
    }

    /// An evaluation error as a diagnostic at its place in this string; one inside a
    /// template file is quoted in that file (when the context knows where the file is among
    /// the sources), with the `templatefile(...)` call as a related place.
    fn eval_error(&self, e: EvalError, ctx: &dyn Context) -> Diagnostic {
        let call = self.loc_of(&e.span);
        if let Some(f) = &e.file
            && let Some(id) = ctx.file_source(&f.path)
        {
            return Diagnostic::at(e.message, Loc::new(id, f.span.clone()))
                .maybe_help(e.help)
                .related(call, format!("{} is rendered here", f.path));
        }
        Diagnostic::at(e.located_message(), call).maybe_help(e.help)
    }

    /// The entry of a table node.
    pub fn entry(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Table(entries) => {
                entries.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n)
            }
            _ => None,
        }
    }

    /// The location of a key of a table node.
    pub fn key_loc(&self, key: &str) -> Option<&Loc> {
        match &self.kind {
            NodeKind::Table(entries) => {
                entries.iter().find(|(k, _, _)| k == key).map(|(_, l, _)| l)
            }
            _ => None,
        }
    }

    /// Finds the node at a path of keys/indices, for locating errors about inputs.
    pub fn find(&self, path: &plinth_value::Path) -> Option<&Node> {
        let mut cur = self;
        for seg in path.segments() {
            cur = match (&cur.kind, seg) {
                (NodeKind::Table(entries), plinth_value::PathSeg::Key(k)) => {
                    &entries.iter().find(|(ek, _, _)| ek == k)?.2
                }
                (NodeKind::List(items), plinth_value::PathSeg::Index(i)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// True when the node has no `${...}` anywhere.
    pub fn is_static(&self) -> bool {
        match &self.kind {
            NodeKind::Lit(_) => true,
            NodeKind::Template(_) => false,
            NodeKind::List(items) => items.iter().all(Node::is_static),
            NodeKind::Table(entries) => entries.iter().all(|(_, _, n)| n.is_static()),
        }
    }

    /// The value of a node with no expressions.
    pub fn static_value(&self) -> Option<Value> {
        match &self.kind {
            NodeKind::Lit(v) => Some(v.clone()),
            NodeKind::Template(_) => None,
            NodeKind::List(items) => items
                .iter()
                .map(Node::static_value)
                .collect::<Option<Vec<_>>>()
                .map(Value::List),
            NodeKind::Table(entries) => entries
                .iter()
                .map(|(k, _, n)| n.static_value().map(|v| (k.clone(), v)))
                .collect::<Option<Map>>()
                .map(Value::Map),
        }
    }

    /// A short name of the node's shape for error messages.
    pub fn shape(&self) -> &'static str {
        match &self.kind {
            NodeKind::Lit(v) => v.type_name(),
            NodeKind::Template(_) => "string",
            NodeKind::List(_) => "list",
            NodeKind::Table(_) => "table",
        }
    }
}
