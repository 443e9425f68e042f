//! Evaluation of templates and expressions against a [`Context`].

use std::ops::Range;

use plinth_value::{Map, Value};

use crate::ast::{Expr, ExprKind, Part, RefStep, Reference, Template};
use crate::functions::{self, did_you_mean, number_text};

/// A reference step with its index expression already evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum ResolvedStep {
    /// `.name`
    Attr(String),
    /// `[value]`; the value may be unknown or sensitive.
    Index(Value),
}

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
}

/// An error evaluating an expression. Its `Display` is the message.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
    /// Byte range in the template string the error is about.
    pub span: Range<usize>,
    /// A hint such as "did you mean `id`?".
    pub help: Option<String>,
}

impl EvalError {
    /// An error with a message and the span it is about.
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        EvalError {
            message: message.into(),
            span,
            help: None,
        }
    }

    /// Adds a hint shown after the message.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
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
        } => functions::call(name, name_span, args, e.span.clone(), ctx),
    }
}

pub(crate) fn mark(v: Value, sensitive: bool) -> Value {
    if sensitive { Value::sensitive(v) } else { v }
}

/// String concatenation of a template's parts.
fn concat(t: &Template, ctx: &dyn Context) -> Result<Value, EvalError> {
    let mut out = String::new();
    let mut unknown = false;
    let mut sensitive = false;
    for part in &t.parts {
        match part {
            Part::Lit(s) => out.push_str(s),
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

pub(crate) fn type_article(v: &Value) -> &'static str {
    match v.unmarked() {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Unknown | Value::Sensitive(_) => "an unknown value",
    }
}

/// Walks `steps` from `value`, the value of `r.root`: attributes of maps, indexes of lists
/// (whole numbers) and maps (strings). Walking through an unknown value yields unknown; through
/// a sensitive value (or with a sensitive index) marks the result sensitive. Errors point at
/// the failing step and suggest the nearest attribute name.
pub fn walk_steps(value: Value, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
    let mut cur = value;
    let mut sensitive = false;
    for (i, step) in steps.iter().enumerate() {
        while let Value::Sensitive(inner) = cur {
            sensitive = true;
            cur = *inner;
        }
        if matches!(cur, Value::Unknown) {
            return Ok(mark(Value::Unknown, sensitive));
        }
        let span = r.step_span(i);
        let here = r.prefix(i);
        cur = match step {
            ResolvedStep::Attr(name) => match cur {
                Value::Map(mut m) => match m.remove(name) {
                    Some(v) => v,
                    None => {
                        let mut e =
                            EvalError::new(format!("`{here}` has no attribute `{name}`"), span);
                        if let Some(s) = did_you_mean(name, m.keys().map(String::as_str)) {
                            e = e.with_help(format!("did you mean `{s}`?"));
                        }
                        return Err(e);
                    }
                },
                Value::Null => {
                    return Err(EvalError::new(
                        format!("`{here}` is null, so it has no attribute `{name}`"),
                        span,
                    ));
                }
                Value::List(_) => {
                    return Err(EvalError::new(
                        format!("`{here}` is a list, so it has no attribute `{name}`"),
                        span,
                    )
                    .with_help(format!("index a list with a number, e.g. `{here}[0]`")));
                }
                other => {
                    return Err(EvalError::new(
                        format!(
                            "`{here}` is {}, so it has no attribute `{name}`",
                            type_article(&other)
                        ),
                        span,
                    ));
                }
            },
            ResolvedStep::Index(ix) => {
                let secret_index = ix.is_sensitive();
                sensitive |= secret_index;
                let ix = ix.unmarked();
                if matches!(ix, Value::Unknown) {
                    return Ok(mark(Value::Unknown, sensitive));
                }
                match (cur, ix) {
                    (Value::List(mut l), Value::Number(n)) => {
                        let len = l.len();
                        let idx = n.as_u64().or_else(|| {
                            n.as_f64()
                                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                                .map(|f| f as u64)
                        });
                        match idx.map(usize::try_from) {
                            Some(Ok(k)) if k < len => l.swap_remove(k),
                            Some(_) if secret_index => {
                                return Err(EvalError::new(
                                    format!("index is out of range: `{here}` has {len} elements"),
                                    span,
                                ));
                            }
                            Some(_) => {
                                return Err(EvalError::new(
                                    format!(
                                        "index {} is out of range: `{here}` has {len} element{}",
                                        number_text(n),
                                        if len == 1 { "" } else { "s" }
                                    ),
                                    span,
                                ));
                            }
                            None => {
                                let shown = if secret_index {
                                    "(sensitive)".to_string()
                                } else {
                                    number_text(n)
                                };
                                return Err(EvalError::new(
                                    format!(
                                        "a list index must be a whole number of at least 0, got {shown}"
                                    ),
                                    span,
                                ));
                            }
                        }
                    }
                    (Value::Map(mut m), Value::String(k)) => match m.remove(k) {
                        Some(v) => v,
                        None if secret_index => {
                            return Err(EvalError::new(format!("`{here}` has no such key"), span));
                        }
                        None => {
                            let mut e = EvalError::new(
                                format!("`{here}` has no key {}", Value::String(k.clone())),
                                span,
                            );
                            if let Some(s) = did_you_mean(k, m.keys().map(String::as_str)) {
                                e = e.with_help(format!("did you mean {}?", Value::String(s)));
                            }
                            return Err(e);
                        }
                    },
                    (Value::List(_), other) => {
                        return Err(EvalError::new(
                            format!(
                                "`{here}` is a list, so its index must be a number, not {}",
                                type_article(other)
                            ),
                            span,
                        ));
                    }
                    (Value::Map(_), other) => {
                        return Err(EvalError::new(
                            format!(
                                "`{here}` is a map, so its index must be a string, not {}",
                                type_article(other)
                            ),
                            span,
                        ));
                    }
                    (other, _) => {
                        return Err(EvalError::new(
                            format!(
                                "`{here}` is {}, so it cannot be indexed",
                                type_article(&other)
                            ),
                            span,
                        ));
                    }
                }
            }
        };
    }
    Ok(mark(cur, sensitive))
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
