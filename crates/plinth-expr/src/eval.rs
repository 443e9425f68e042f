//! Evaluation of templates and expressions against a [`Context`].
//!
//! The one place that handles marks: interpolation, and every function call — built-in or
//! the context's own — strips the arguments' marks before the call and marks the result
//! after it. Depends on the syntax tree, the built-in table, the reference walker and the
//! leaf helpers; none of them depends on this module.

use std::ops::Range;

use plinth_value::{Map, Value};

use crate::ast::{Expr, ExprKind, Part, RefStep, Reference, Template};
use crate::error::EvalError;
use crate::functions::{self, Marks, builtin_function_names};
use crate::steps::{ResolvedStep, walk_steps};
use crate::suggest::did_you_mean;
use crate::values::{mark, number_text};

/// What an expression can see: the values of references and any non-built-in functions.
pub trait Context {
    /// Resolves a reference: root name, its steps with index expressions already evaluated
    /// (`steps[i]` corresponds to `r.steps[i]`, whose span is `r.step_span(i)`). Errors carry
    /// spans. [`walk_steps`] does the walking once the root's value is known.
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
}

/// Evaluates a template. A template that is exactly one `${...}` returns the value with its
/// type; otherwise the parts are concatenated into a string (unknown if any part is unknown,
/// sensitive if any part is sensitive).
pub fn eval_template(t: &Template, ctx: &dyn Context) -> Result<Value, EvalError> {
    match t.single_expr() {
        Some(e) => eval_expr(e, ctx),
        None => concat(t, ctx),
    }
}

/// Evaluates one expression.
pub fn eval_expr(e: &Expr, ctx: &dyn Context) -> Result<Value, EvalError> {
    match &e.kind {
        ExprKind::Literal(v) => Ok(v.clone()),
        // A string literal is always a string, even when it is one `${...}`.
        ExprKind::Template(t) => concat(t, ctx),
        ExprKind::List(items) => Ok(Value::List(
            items
                .iter()
                .map(|i| eval_expr(i, ctx))
                .collect::<Result<_, _>>()?,
        )),
        ExprKind::Ref(r) => {
            let steps = r
                .steps
                .iter()
                .map(|s| match s {
                    RefStep::Attr { name, .. } => Ok(ResolvedStep::Attr(name.clone())),
                    RefStep::Index(ix) => Ok(ResolvedStep::Index(eval_expr(ix, ctx)?)),
                })
                .collect::<Result<Vec<_>, EvalError>>()?;
            ctx.lookup(r, &steps)
        }
        ExprKind::Call {
            name,
            name_span,
            args,
            ..
        } => call(name, name_span, args, e.span.clone(), ctx),
        // Parsed by the new grammar; evaluated once the evaluator learns them.
        _ => Err(EvalError::new(
            "this expression is not supported yet",
            e.span.clone(),
        )),
    }
}

/// String concatenation of a template's parts.
fn concat(t: &Template, ctx: &dyn Context) -> Result<Value, EvalError> {
    let mut out = String::new();
    let mut unknown = false;
    let mut sensitive = false;
    for part in &t.parts {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::If { span, .. } | Part::For { span, .. } => {
                return Err(EvalError::new(
                    "template directives are not supported yet",
                    span.clone(),
                ));
            }
            Part::Interp(e) => {
                let v = eval_expr(e, ctx)?;
                sensitive |= v.is_sensitive();
                match v.unmarked() {
                    Value::Unknown => unknown = true,
                    Value::String(s) => out.push_str(s),
                    Value::Number(n) => out.push_str(&number_text(n)),
                    Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                    Value::Null => {
                        return Err(EvalError::new(
                            "cannot interpolate null into a string",
                            e.span.clone(),
                        )
                        .with_help("make the whole string one `${...}` to keep the null"));
                    }
                    Value::List(_) => {
                        return Err(EvalError::new(
                            "cannot interpolate a list into a string; use join(...) or make the whole string one `${...}`",
                            e.span.clone(),
                        ));
                    }
                    Value::Map(_) => {
                        return Err(EvalError::new(
                            "cannot interpolate a map into a string; use jsonencode(...) or make the whole string one `${...}`",
                            e.span.clone(),
                        ));
                    }
                    Value::Sensitive(_) => unreachable!("unmarked() removes the mark"),
                }
            }
        }
    }
    Ok(mark(
        if unknown {
            Value::Unknown
        } else {
            Value::String(out)
        },
        sensitive,
    ))
}

/// Evaluates every argument of a call, in order.
fn eval_args(args: &[Expr], ctx: &dyn Context) -> Result<Vec<Value>, EvalError> {
    args.iter().map(|a| eval_expr(a, ctx)).collect()
}

/// Removes the marks of evaluated arguments as `marks` says: whether the result must be
/// sensitive, whether it is unknown, and the arguments to call with.
fn strip_marks(marks: Marks, values: Vec<Value>) -> (bool, bool, Vec<Value>) {
    match marks {
        Marks::Whole => (
            values.iter().any(Value::contains_sensitive),
            values.iter().any(|v| !v.is_wholly_known()),
            values.iter().map(Value::unmark_all).collect(),
        ),
        Marks::Shape => (
            values.iter().any(Value::is_sensitive),
            values.iter().any(Value::is_unknown),
            values.iter().map(|v| v.unmarked().clone()).collect(),
        ),
        Marks::Own => (false, false, values),
    }
}

/// Evaluates a call: a built-in, else the context's external function.
fn call(
    name: &str,
    name_span: &Range<usize>,
    args: &[Expr],
    span: Range<usize>,
    ctx: &dyn Context,
) -> Result<Value, EvalError> {
    let Some(f) = functions::builtin(name) else {
        return call_external(name, name_span, args, span, ctx);
    };
    f.check_arity(args.len(), span.clone())?;
    let values = eval_args(args, ctx)?;
    let spans = args.iter().map(|a| a.span.clone()).collect();
    let (sensitive, unknown, values) = strip_marks(f.marks(), values);
    if unknown {
        return Ok(mark(Value::Unknown, sensitive));
    }
    Ok(mark(f.run(values, spans, span)?, sensitive))
}

/// A function the context provides: it needs whole values, as most built-ins do.
fn call_external(
    name: &str,
    name_span: &Range<usize>,
    args: &[Expr],
    span: Range<usize>,
    ctx: &dyn Context,
) -> Result<Value, EvalError> {
    let values = eval_args(args, ctx)?;
    let (sensitive, unknown, plain) = strip_marks(Marks::Whole, values);
    let externals = ctx.external_functions();
    if unknown && externals.iter().any(|e| e == name) {
        return Ok(mark(Value::Unknown, sensitive));
    }
    match ctx.call_external(name, &plain, span) {
        Some(Ok(v)) => Ok(mark(if unknown { Value::Unknown } else { v }, sensitive)),
        Some(Err(e)) => Err(e),
        None => {
            let mut all: Vec<String> = builtin_function_names()
                .into_iter()
                .map(String::from)
                .collect();
            all.extend(externals);
            let e = EvalError::new(format!("unknown function `{name}`"), name_span.clone());
            Err(match did_you_mean(name, all.iter().map(String::as_str)) {
                Some(s) => e.with_help(format!("did you mean `{s}`?")),
                None => e.with_help(format!("the functions are: {}", all.join(", "))),
            })
        }
    }
}

/// A map of root names to values is a context: `{"var": {...}, "rg": {...}}`. Handy in tests
/// and for evaluating against already-known values.
impl Context for Map {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        match self.get(&r.root) {
            Some(v) => walk_steps(v.clone(), r, steps),
            None => {
                let mut e =
                    EvalError::new(format!("unknown name `{}`", r.root), r.root_span.clone());
                if let Some(s) = did_you_mean(&r.root, self.keys().map(String::as_str)) {
                    e = e.with_help(format!("did you mean `{s}`?"));
                }
                Err(e)
            }
        }
    }
}
