//! Evaluation of templates and expressions against a [`Context`].
//!
//! The one place that handles marks: interpolation, operators, for-expressions and every
//! function call — built-in or the context's own — see the marks and put them on the result.
//! Depends on the syntax tree, the built-in table, the reference walker and the leaf helpers;
//! none of them depends on this module.
//!
//! The evaluator walks values by reference: names bound by a for-expression are borrowed
//! from the collection (a [`Frame`] on the stack), and only what an expression returns is
//! cloned.

mod calls;
mod collections;
mod ops;
mod special;
mod template;

use std::ops::Range;

use plinth_value::{Map, Value};

use crate::ast::{Expr, ExprKind, RefStep, Reference, Template};
use crate::error::EvalError;
use crate::steps::{ResolvedStep, walk_reference};
use crate::suggest::did_you_mean;

/// What an expression can see: the values of references and any non-built-in functions.
pub trait Context {
    /// Resolves a reference: root name, its steps with index expressions already evaluated
    /// (`steps[i]` corresponds to `r.steps[i]`, whose span is `r.step_span(i)`). Errors carry
    /// spans. [`walk_steps`](crate::walk_steps) does the walking once the root's value is
    /// known. Names a for-expression binds never reach the context.
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError>;

    /// Functions that are not built in (provider functions such as
    /// `azure.role_definition_id`); return `None` if `name` is unknown.
    ///
    /// The evaluator handles marks: `args` carry no sensitive marks (the result is marked
    /// sensitive for you when an argument was), and when an argument is unknown the function
    /// is not called at all if [`external_functions`](Self::external_functions) lists it (the
    /// result is unknown). A function that is not listed is called with the unknown values in
    /// place and its result is replaced by unknown.
    fn call_external(
        &self,
        name: &str,
        args: &[Value],
        span: Range<usize>,
    ) -> Option<Result<Value, EvalError>> {
        let _ = (name, args, span);
        None
    }

    /// Names of external functions, for "did you mean" suggestions and unknown arguments.
    fn external_functions(&self) -> Vec<String> {
        vec![]
    }

    /// The text of a file that `file(...)`, `templatefile(...)` or `fileexists(...)` names,
    /// with `path` exactly as the expression gives it. Configurations' files are read when
    /// the configuration is loaded (plinth-config confines and size-limits them), so
    /// evaluation does no I/O: `Ok(None)` when there is no such file, `Err(message)` when it
    /// cannot be given (the message says why and what to do).
    fn read_file(&self, path: &str) -> Result<Option<String>, String> {
        let _ = path;
        Err("files cannot be read here".to_string())
    }

    /// Where the text [`read_file`](Self::read_file) gives for `path` is in the caller's
    /// own list of source files (plinth-config's `FileId`), so that an error inside a
    /// template file ([`EvalError::file`]) can be quoted there; `None`, the default, when
    /// the caller keeps no such list.
    fn file_source(&self, path: &str) -> Option<usize> {
        let _ = path;
        None
    }
}

/// Names bound by a for-expression or a `%{ for }` directive, borrowed from the collection
/// being iterated; the innermost frame shadows the outer ones and the context.
pub(crate) struct Frame<'a> {
    key: Option<(&'a str, &'a Value)>,
    value: (&'a str, &'a Value),
    parent: Option<&'a Frame<'a>>,
}

impl<'a> Frame<'a> {
    fn find(&self, name: &str) -> Option<&'a Value> {
        if self.value.0 == name {
            return Some(self.value.1);
        }
        if let Some((k, v)) = self.key
            && k == name
        {
            return Some(v);
        }
        self.parent?.find(name)
    }
}

/// The evaluation state: the context, the bound names, and whether this is the inside of a
/// `templatefile()` (which may not call `templatefile()` again).
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    ctx: &'a dyn Context,
    frame: Option<&'a Frame<'a>>,
    in_template_file: bool,
}

impl<'a> Cx<'a> {
    fn new(ctx: &'a dyn Context) -> Self {
        Cx {
            ctx,
            frame: None,
            in_template_file: false,
        }
    }

    /// This state with the names of `frame` bound.
    fn with<'b>(&self, frame: &'b Frame<'b>) -> Cx<'b>
    where
        'a: 'b,
    {
        Cx {
            ctx: self.ctx,
            frame: Some(frame),
            in_template_file: self.in_template_file,
        }
    }
}

/// Evaluates a template. A template that is exactly one `${...}` returns the value with its
/// type; otherwise the parts are concatenated into a string (unknown if any part is unknown,
/// sensitive if any part is sensitive).
pub fn eval_template(t: &Template, ctx: &dyn Context) -> Result<Value, EvalError> {
    let cx = Cx::new(ctx);
    match t.single_expr() {
        Some(e) => eval(e, &cx),
        None => template::concat(t, &cx),
    }
}

/// Evaluates one expression.
pub fn eval_expr(e: &Expr, ctx: &dyn Context) -> Result<Value, EvalError> {
    eval(e, &Cx::new(ctx))
}

/// Evaluates `e` in the state `cx`.
pub(crate) fn eval(e: &Expr, cx: &Cx<'_>) -> Result<Value, EvalError> {
    match &e.kind {
        ExprKind::Literal(v) => Ok(v.clone()),
        // A string literal is always a string, even when it is one `${...}`.
        ExprKind::Template(t) => template::concat(t, cx),
        ExprKind::List(items) => Ok(Value::List(
            items
                .iter()
                .map(|i| eval(i, cx))
                .collect::<Result<_, _>>()?,
        )),
        ExprKind::Object(items) => collections::object(items, cx),
        ExprKind::Ref(r) => reference(r, cx),
        ExprKind::Call {
            name,
            name_span,
            args,
            expand_last,
        } => calls::call(name, name_span, args, *expand_last, e.span.clone(), cx),
        ExprKind::Unary {
            op,
            op_span,
            operand,
        } => ops::unary(*op, op_span, operand, cx),
        ExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
        } => ops::binary(*op, op_span, lhs, rhs, cx),
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => ops::conditional(e, cond, then, otherwise, cx),
        ExprKind::Postfix { target, steps } => collections::postfix(target, steps, cx),
        ExprKind::Splat { target, steps, .. } => collections::splat(target, steps, cx),
        ExprKind::For(fe) => collections::for_expr(fe, cx),
    }
}

/// Evaluates the index expressions of `steps`.
fn resolve_steps(steps: &[RefStep], cx: &Cx<'_>) -> Result<Vec<ResolvedStep>, EvalError> {
    steps
        .iter()
        .map(|s| match s {
            RefStep::Attr { name, .. } => Ok(ResolvedStep::Attr(name.clone())),
            RefStep::Index(ix) => Ok(ResolvedStep::Index(eval(ix, cx)?)),
        })
        .collect()
}

/// A reference: to a bound name (walked here), else to the context.
fn reference(r: &Reference, cx: &Cx<'_>) -> Result<Value, EvalError> {
    let steps = resolve_steps(&r.steps, cx)?;
    match cx.frame.and_then(|f| f.find(&r.root)) {
        Some(v) => walk_reference(v, r, &steps),
        None => cx.ctx.lookup(r, &steps),
    }
}

/// The root of `r` is not among `names`: "unknown name", with the nearest one.
pub(crate) fn unknown_name<'n>(
    r: &Reference,
    names: impl IntoIterator<Item = &'n str>,
) -> EvalError {
    let e = EvalError::new(format!("unknown name `{}`", r.root), r.root_span.clone());
    match did_you_mean(&r.root, names) {
        Some(s) => e.with_help(format!("did you mean `{s}`?")),
        None => e,
    }
}

/// A map of root names to values is a context: `{"var": {...}, "rg": {...}}`. Handy in tests
/// and for evaluating against already-known values.
impl Context for Map {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        match self.get(&r.root) {
            Some(v) => walk_reference(v, r, steps),
            None => Err(unknown_name(r, self.keys().map(String::as_str))),
        }
    }
}
