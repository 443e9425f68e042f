//! The syntax tree of a template string.
//!
//! Every span is a byte range into the ORIGINAL template string given to
//! [`crate::parse_template`], so a caller can map it to a file position.

use std::fmt;
use std::ops::Range;

use plinth_value::Value;

/// A parsed template string: literal text and `${...}` interpolations, in order.
///
/// Adjacent literal text is merged into one [`Part::Lit`]; `$${` in the source is the literal
/// text `${`. The empty string is a template with no parts.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    /// The text and interpolations, in source order.
    pub parts: Vec<Part>,
}

/// One piece of a [`Template`].
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Literal text, escapes already resolved.
    Lit(String),
    /// A `${ expr }` interpolation.
    Interp(Expr),
}

/// An expression with the byte range it was parsed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// For a parenthesised expression, the range of the inner expression.
    pub span: Range<usize>,
}

/// What an [`Expr`] is.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `null`, `true`, `false`, a number, or a string literal without interpolations.
    Literal(Value),
    /// A string literal containing `${...}`; it always evaluates to a string.
    Template(Template),
    /// `[a, b, c]`.
    List(Vec<Expr>),
    /// `rg.id`, `app["blue"].id`, `x.list[0]`.
    Ref(Reference),
    /// `lower(x)`, `azure.role_definition_id("...")`. `name` is the dotted name as written
    /// (without whitespace); `name_span` covers it in the source.
    Call {
        /// The function's name, dotted for a provider function.
        name: String,
        /// Where the name is in the source.
        name_span: Range<usize>,
        /// The arguments, unevaluated.
        args: Vec<Expr>,
    },
}

/// A reference: a root name followed by attribute and index steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The first identifier: `rg`, `var`, `env`, `each`, ...
    pub root: String,
    /// Where the root name is in the source.
    pub root_span: Range<usize>,
    /// The attribute and index steps after the root, in order.
    pub steps: Vec<RefStep>,
    /// The whole reference, from the root to the end of the last step.
    pub span: Range<usize>,
}

/// One step of a [`Reference`] after its root.
#[derive(Clone, Debug, PartialEq)]
pub enum RefStep {
    /// `.name`; `span` covers the name only.
    Attr {
        /// The attribute's name.
        name: String,
        /// Where the name is in the source.
        span: Range<usize>,
    },
    /// `[expr]`; the expression's own span locates it.
    Index(Expr),
}

impl Template {
    /// The expression when the template is exactly one `${...}` with no text around it; such a
    /// template evaluates to the expression's value with its type.
    pub fn single_expr(&self) -> Option<&Expr> {
        match self.parts.as_slice() {
            [Part::Interp(e)] => Some(e),
            _ => None,
        }
    }

    /// Every reference in the template, in source order, recursively: inside call arguments,
    /// list elements, nested string literals and index expressions.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    /// True when the template has no interpolation (it is plain text).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The text of a template that [`is_literal`](Self::is_literal); `None` otherwise.
    pub fn literal_text(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Interp(_) => return None,
            }
        }
        Some(out)
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        for p in &self.parts {
            if let Part::Interp(e) = p {
                e.collect_refs(out);
            }
        }
    }
}

impl Expr {
    /// Every reference inside this expression (itself included), in source order.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        match &self.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Template(t) => t.collect_refs(out),
            ExprKind::List(items) => items.iter().for_each(|e| e.collect_refs(out)),
            ExprKind::Ref(r) => {
                out.push(r);
                for s in &r.steps {
                    if let RefStep::Index(e) = s {
                        e.collect_refs(out);
                    }
                }
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.collect_refs(out)),
        }
    }
}

impl Reference {
    /// The reference as written, up to (not including) step number `steps`:
    /// `prefix(0)` is the root, `prefix(self.steps.len())` the whole reference.
    pub fn prefix(&self, steps: usize) -> String {
        let mut s = self.root.clone();
        for step in self.steps.iter().take(steps) {
            match step {
                RefStep::Attr { name, .. } => {
                    s.push('.');
                    s.push_str(name);
                }
                RefStep::Index(e) => {
                    s.push('[');
                    s.push_str(&e.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    /// The source span of step `i` (the attribute name, or the index expression).
    pub fn step_span(&self, i: usize) -> Range<usize> {
        match self.steps.get(i) {
            Some(RefStep::Attr { span, .. }) => span.clone(),
            Some(RefStep::Index(e)) => e.span.clone(),
            None => self.span.clone(),
        }
    }
}

/// Renders the reference as it would be written: `app["blue"].id`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prefix(self.steps.len()))
    }
}

/// Renders the expression in canonical source form (normalised whitespace).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(v) => write_literal(f, v),
            ExprKind::Template(t) => {
                f.write_str("\"")?;
                for (i, p) in t.parts.iter().enumerate() {
                    match p {
                        Part::Lit(s) => {
                            let mut text = escape_in_string(s);
                            // A `$` right before `${` would read as `$${`: spell it `\u0024`.
                            if text.ends_with('$')
                                && matches!(t.parts.get(i + 1), Some(Part::Interp(_)))
                            {
                                text.pop();
                                text.push_str("\\u0024");
                            }
                            f.write_str(&text)?;
                        }
                        Part::Interp(e) => write!(f, "${{{e}}}")?,
                    }
                }
                f.write_str("\"")
            }
            ExprKind::List(items) => {
                f.write_str("[")?;
                write_list(f, items)?;
                f.write_str("]")
            }
            ExprKind::Ref(r) => write!(f, "{r}"),
            ExprKind::Call { name, args, .. } => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                f.write_str(")")
            }
        }
    }
}

/// Renders the template back to source form (`${` in text is written `$${`).
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                Part::Lit(s) => f.write_str(&s.replace("${", "$${"))?,
                Part::Interp(e) => write!(f, "${{{e}}}")?,
            }
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

fn write_literal(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::String(s) => write!(f, "\"{}\"", escape_in_string(s)),
        Value::Number(n) => f.write_str(&crate::values::number_text(n)),
        // The parser only produces scalars; anything else renders as the value does.
        other => write!(f, "{other}"),
    }
}

/// JSON-escapes `s` (without the surrounding quotes) and protects `${`.
fn escape_in_string(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].replace("${", "$${")
}
