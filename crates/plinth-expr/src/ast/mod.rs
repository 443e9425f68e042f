//! The syntax tree of a template string.
//!
//! Every span is a byte range into the ORIGINAL template string given to
//! [`crate::parse_template`], so a caller can map it to a file position.
//!
//! A template is text, `${ expr }` interpolations and `%{ if }`/`%{ for }` directives. An
//! expression is a literal, a reference (`rg.id`, `var.apps["a"].replicas`), a call, an
//! operator, a conditional, a list or object constructor, a for-expression, a splat, or a
//! postfix attribute/index on any of those. Names bound by a for-expression (or a `%{ for }`
//! directive) are references too while parsing; [`Template::references`] leaves them out, so
//! callers only ever see references to the outside world.
//!
//! `display` prints a tree back in canonical source form.

use std::ops::Range;

use plinth_value::Value;

mod display;

/// A parsed template string: literal text, `${...}` interpolations and directives, in order.
///
/// Adjacent literal text is merged into one [`Part::Lit`]; `$${` in the source is the literal
/// text `${` and `%%{` the literal `%{`. The empty string is a template with no parts.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Template {
    /// The text and interpolations, in source order.
    pub parts: Vec<Part>,
}

/// One piece of a [`Template`].
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Literal text, escapes already resolved (and `~` strip markers already applied).
    Lit(String),
    /// A `${ expr }` interpolation.
    Interp(Expr),
    /// `%{ if cond }then%{ else }else%{ endif }`.
    If {
        /// The condition; must be a bool.
        cond: Expr,
        /// The text when the condition is true.
        then: Template,
        /// The text after `%{ else }`, if there is one.
        otherwise: Option<Template>,
        /// The `%{ if ... }` directive, for errors.
        span: Range<usize>,
    },
    /// `%{ for v in coll }body%{ endfor }` or `%{ for k, v in coll }...`.
    For {
        /// The key (or index) variable of `for k, v in`.
        key_var: Option<Binding>,
        /// The value variable.
        value_var: Binding,
        /// What is iterated: a list, a map (by key order) or a set.
        collection: Expr,
        /// The text repeated for each element.
        body: Template,
        /// The `%{ for ... }` directive, for errors.
        span: Range<usize>,
    },
}

/// A name bound by a for-expression or a `%{ for }` directive, with where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The name: `s` in `for s in var.subnets`.
    pub name: String,
    /// Where the name is written.
    pub span: Range<usize>,
}

/// An expression with the byte range it was parsed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// For a parenthesised expression, the range of the inner expression.
    pub span: Range<usize>,
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!x`: boolean negation.
    Not,
    /// `-x`: numeric negation.
    Neg,
}

/// A binary operator, from loosest to tightest binding: `||`; `&&`; `==` `!=`; `<` `<=` `>`
/// `>=`; `+` `-`; `*` `/` `%`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

/// What an [`Expr`] is.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `null`, `true`, `false`, a number, or a string literal without interpolations
    /// (`"text"` or `'text'`).
    Literal(Value),
    /// A string literal containing `${...}` or a directive; it always evaluates to a string.
    Template(Template),
    /// `[a, b, c]`.
    List(Vec<Expr>),
    /// `{ name = k, "quoted key" = v, (expr) = w }`: keys are expressions (a bare name is a
    /// string literal), in source order; `=` and `:` both separate a key from its value.
    Object(Vec<(Expr, Expr)>),
    /// `rg.id`, `app["blue"].id`, `x.list[0]`: a root name and attribute/index steps.
    Ref(Reference),
    /// `lower(x)`, `azure.role_definition_id("...")`, `merge(local.maps...)`. `name` is the
    /// dotted name as written (without whitespace); `name_span` covers it in the source.
    Call {
        /// The function's name, dotted for a provider function.
        name: String,
        /// Where the name is in the source.
        name_span: Range<usize>,
        /// The arguments, unevaluated.
        args: Vec<Expr>,
        /// `f(a, list...)`: the last argument is a list whose elements are the arguments.
        expand_last: bool,
    },
    /// `!x`, `-x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Where the operator is written.
        op_span: Range<usize>,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a + b`, `a == b`, `a && b`, ...
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Where the operator is written.
        op_span: Range<usize>,
        /// The left operand.
        lhs: Box<Expr>,
        /// The right operand.
        rhs: Box<Expr>,
    },
    /// `cond ? a : b`.
    Conditional {
        /// The condition; must be a bool.
        cond: Box<Expr>,
        /// The value when the condition is true.
        then: Box<Expr>,
        /// The value when it is false.
        otherwise: Box<Expr>,
    },
    /// Attribute and index steps after an expression that is not a plain name:
    /// `merge(a, b).x`, `(local.m)["k"]`, `[1, 2][0]`.
    Postfix {
        /// The expression the steps apply to.
        target: Box<Expr>,
        /// The steps, in order.
        steps: Vec<RefStep>,
    },
    /// `list[*].id`: the steps after `[*]` applied to every element of the target (a
    /// non-list target is a one-element list; null is the empty list).
    Splat {
        /// The list.
        target: Box<Expr>,
        /// Where `[*]` is written.
        star_span: Range<usize>,
        /// The steps applied to each element (may be empty).
        steps: Vec<RefStep>,
    },
    /// `[for s in coll : value if cond]` or `{for k, v in coll : key => value... if cond}`.
    For(Box<ForExpr>),
}

/// A for-expression.
#[derive(Clone, Debug, PartialEq)]
pub struct ForExpr {
    /// The key (or index) variable of `for k, v in`.
    pub key_var: Option<Binding>,
    /// The value variable.
    pub value_var: Binding,
    /// What is iterated: a list (index, element), a map (key, value, by key order).
    pub collection: Expr,
    /// `key =>` of the object form; `None` makes a list.
    pub key: Option<Expr>,
    /// The element (list form) or the value (object form).
    pub value: Expr,
    /// `value...` in the object form: values of equal keys are grouped into lists.
    pub group: bool,
    /// `if cond`: elements for which it is false are left out.
    pub cond: Option<Expr>,
}

/// A reference: a root name followed by attribute and index steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The first identifier: `rg`, `var`, `env`, `each`, `local`, a for-expression's name...
    pub root: String,
    /// Where the root name is in the source.
    pub root_span: Range<usize>,
    /// The attribute and index steps after the root, in order.
    pub steps: Vec<RefStep>,
    /// The whole reference, from the root to the end of the last step.
    pub span: Range<usize>,
}

/// One step of a [`Reference`] (or of a postfix or splat) after its root.
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

    /// Every reference to something outside the template, in source order, recursively:
    /// inside call arguments, operators, constructors, nested strings, index expressions and
    /// for-expressions. References to a name a for-expression or `%{ for }` binds are left
    /// out (inside the for-expression that binds them).
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut Vec::new(), &mut out);
        out
    }

    /// Every call in the template (function name, name span), in source order, recursively.
    pub fn calls(&self) -> Vec<(&str, Range<usize>)> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let ExprKind::Call {
                name, name_span, ..
            } = &e.kind
            {
                out.push((name.as_str(), name_span.clone()));
            }
        });
        out
    }

    /// Calls `f` on every expression in the template, outermost first, in source order.
    pub fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        for p in &self.parts {
            match p {
                Part::Lit(_) => {}
                Part::Interp(e) => e.visit(f),
                Part::If {
                    cond,
                    then,
                    otherwise,
                    ..
                } => {
                    cond.visit(f);
                    then.visit(f);
                    if let Some(o) = otherwise {
                        o.visit(f);
                    }
                }
                Part::For {
                    collection, body, ..
                } => {
                    collection.visit(f);
                    body.visit(f);
                }
            }
        }
    }

    /// True when the template has no interpolation or directive (it is plain text).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The text of a template that [`is_literal`](Self::is_literal); `None` otherwise.
    pub fn literal_text(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    fn collect_refs<'a>(&'a self, bound: &mut Vec<&'a str>, out: &mut Vec<&'a Reference>) {
        for p in &self.parts {
            match p {
                Part::Lit(_) => {}
                Part::Interp(e) => e.collect_refs(bound, out),
                Part::If {
                    cond,
                    then,
                    otherwise,
                    ..
                } => {
                    cond.collect_refs(bound, out);
                    then.collect_refs(bound, out);
                    if let Some(o) = otherwise {
                        o.collect_refs(bound, out);
                    }
                }
                Part::For {
                    key_var,
                    value_var,
                    collection,
                    body,
                    ..
                } => {
                    collection.collect_refs(bound, out);
                    let n = bound.len();
                    bound.extend(key_var.iter().map(|b| b.name.as_str()));
                    bound.push(&value_var.name);
                    body.collect_refs(bound, out);
                    bound.truncate(n);
                }
            }
        }
    }
}

impl Expr {
    /// Every reference to something outside this expression (itself included), in source
    /// order; names bound by for-expressions inside it are left out.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_refs(&mut Vec::new(), &mut out);
        out
    }

    /// Calls `f` on this expression and every expression inside it, outermost first, in
    /// source order (a for-expression's bound names are not followed: `f` sees them as
    /// references).
    pub fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        let steps = |steps: &'a [RefStep], f: &mut dyn FnMut(&'a Expr)| {
            for s in steps {
                if let RefStep::Index(e) = s {
                    e.visit(f);
                }
            }
        };
        match &self.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Template(t) => t.visit(f),
            ExprKind::List(items) => items.iter().for_each(|e| e.visit(f)),
            ExprKind::Object(items) => items.iter().for_each(|(k, v)| {
                k.visit(f);
                v.visit(f);
            }),
            ExprKind::Ref(r) => steps(&r.steps, f),
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.visit(f)),
            ExprKind::Unary { operand, .. } => operand.visit(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.visit(f);
                rhs.visit(f);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                cond.visit(f);
                then.visit(f);
                otherwise.visit(f);
            }
            ExprKind::Postfix { target, steps: s }
            | ExprKind::Splat {
                target, steps: s, ..
            } => {
                target.visit(f);
                steps(s, f);
            }
            ExprKind::For(fe) => {
                fe.collection.visit(f);
                if let Some(k) = &fe.key {
                    k.visit(f);
                }
                fe.value.visit(f);
                if let Some(c) = &fe.cond {
                    c.visit(f);
                }
            }
        }
    }

    fn collect_refs<'a>(&'a self, bound: &mut Vec<&'a str>, out: &mut Vec<&'a Reference>) {
        let steps = |s: &'a [RefStep], bound: &mut Vec<&'a str>, out: &mut Vec<&'a Reference>| {
            for step in s {
                if let RefStep::Index(e) = step {
                    e.collect_refs(bound, out);
                }
            }
        };
        match &self.kind {
            ExprKind::Literal(_) => {}
            ExprKind::Template(t) => t.collect_refs(bound, out),
            ExprKind::List(items) => items.iter().for_each(|e| e.collect_refs(bound, out)),
            ExprKind::Object(items) => {
                for (k, v) in items {
                    k.collect_refs(bound, out);
                    v.collect_refs(bound, out);
                }
            }
            ExprKind::Ref(r) => {
                if !bound.contains(&r.root.as_str()) {
                    out.push(r);
                }
                steps(&r.steps, bound, out);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.collect_refs(bound, out)),
            ExprKind::Unary { operand, .. } => operand.collect_refs(bound, out),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.collect_refs(bound, out);
                rhs.collect_refs(bound, out);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                cond.collect_refs(bound, out);
                then.collect_refs(bound, out);
                otherwise.collect_refs(bound, out);
            }
            ExprKind::Postfix { target, steps: s }
            | ExprKind::Splat {
                target, steps: s, ..
            } => {
                target.collect_refs(bound, out);
                steps(s, bound, out);
            }
            ExprKind::For(fe) => {
                fe.collection.collect_refs(bound, out);
                let n = bound.len();
                bound.extend(fe.key_var.iter().map(|b| b.name.as_str()));
                bound.push(&fe.value_var.name);
                if let Some(k) = &fe.key {
                    k.collect_refs(bound, out);
                }
                fe.value.collect_refs(bound, out);
                if let Some(c) = &fe.cond {
                    c.collect_refs(bound, out);
                }
                bound.truncate(n);
            }
        }
    }
}

impl Reference {
    /// The reference as written, up to (not including) step number `steps`:
    /// `prefix(0)` is the root, `prefix(self.steps.len())` the whole reference.
    pub fn prefix(&self, steps: usize) -> String {
        let mut s = self.root.clone();
        write_steps(&mut s, self.steps.iter().take(steps));
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

pub(crate) fn write_steps<'a>(s: &mut String, steps: impl Iterator<Item = &'a RefStep>) {
    for step in steps {
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
}

impl BinaryOp {
    /// The operator as written: `+`, `==`, `&&`.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}
