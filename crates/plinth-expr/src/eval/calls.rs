//! Function calls: the evaluator's special forms, the built-in table, and the context's
//! external functions; `f(list...)` expands the last argument.

use std::ops::Range;

use plinth_value::Value;

use crate::ast::Expr;
use crate::error::EvalError;
use crate::functions::{self, Marks, builtin_function_names};
use crate::suggest::did_you_mean;
use crate::values::{mark, type_article};

use super::{Cx, eval, special};

/// Evaluated arguments, their spans, and the marks of an expanded last argument.
struct Evaluated {
    values: Vec<Value>,
    spans: Vec<Range<usize>>,
    /// The expanded list was sensitive (its elements are then marked too).
    sensitive: bool,
}

/// Evaluates every argument of a call, in order; with `expand_last` the last one must be a
/// list whose elements are the arguments. `Ok(None)` when that list is unknown.
fn eval_args(
    name: &str,
    args: &[Expr],
    expand_last: bool,
    cx: &Cx<'_>,
) -> Result<Option<Evaluated>, EvalError> {
    let mut values: Vec<Value> = args.iter().map(|a| eval(a, cx)).collect::<Result<_, _>>()?;
    let mut spans: Vec<Range<usize>> = args.iter().map(|a| a.span.clone()).collect();
    let mut sensitive = false;
    if expand_last && let (Some(last), Some(e)) = (values.pop(), args.last()) {
        spans.pop();
        sensitive = last.is_sensitive();
        match last.unmarked() {
            Value::Unknown => return Ok(None),
            Value::List(items) => {
                for item in items {
                    values.push(mark(item.clone(), sensitive));
                    spans.push(e.span.clone());
                }
            }
            other => {
                return Err(EvalError::new(
                    format!(
                        "`...` expands a list into the arguments of {name}(), and `{e}` is {}",
                        type_article(other)
                    ),
                    e.span.clone(),
                ));
            }
        }
    }
    Ok(Some(Evaluated {
        values,
        spans,
        sensitive,
    }))
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

/// The span of the arguments past the first `max` (from the first surplus one to the last),
/// where a call with too many arguments is wrong; `None` when there are not too many.
pub(super) fn surplus(args: &[Expr], max: Option<usize>) -> Option<Range<usize>> {
    let max = max?;
    let (first, last) = (args.get(max)?, args.last()?);
    Some(first.span.start..last.span.end)
}

/// Evaluates a call: a special form, a built-in, else the context's external function.
pub(super) fn call(
    name: &str,
    name_span: &Range<usize>,
    args: &[Expr],
    expand_last: bool,
    span: Range<usize>,
    cx: &Cx<'_>,
) -> Result<Value, EvalError> {
    if let Some(v) = special::call(name, args, expand_last, &span, cx) {
        return v;
    }
    let Some(f) = functions::builtin(name) else {
        return call_external(name, name_span, args, expand_last, span, cx);
    };
    if !expand_last {
        f.check_arity(
            args.len(),
            surplus(args, f.max_args()).unwrap_or(span.clone()),
        )?;
    }
    let Some(ev) = eval_args(name, args, expand_last, cx)? else {
        return Ok(Value::Unknown);
    };
    if expand_last {
        f.check_arity(ev.values.len(), span.clone())?;
    }
    let (sensitive, unknown, values) = strip_marks(f.marks(), ev.values);
    let sensitive = sensitive || ev.sensitive;
    if unknown {
        return Ok(mark(Value::Unknown, sensitive));
    }
    Ok(mark(f.run(values, ev.spans, span)?, sensitive))
}

/// A function the context provides: it needs whole values, as most built-ins do.
fn call_external(
    name: &str,
    name_span: &Range<usize>,
    args: &[Expr],
    expand_last: bool,
    span: Range<usize>,
    cx: &Cx<'_>,
) -> Result<Value, EvalError> {
    let externals = cx.ctx.external_functions();
    let known = externals.iter().any(|e| e == name);
    let Some(ev) = eval_args(name, args, expand_last, cx)? else {
        return Ok(Value::Unknown);
    };
    let (sensitive, unknown, plain) = strip_marks(Marks::Whole, ev.values);
    let sensitive = sensitive || ev.sensitive;
    if unknown && known {
        return Ok(mark(Value::Unknown, sensitive));
    }
    match cx.ctx.call_external(name, &plain, span) {
        Some(Ok(v)) => Ok(mark(if unknown { Value::Unknown } else { v }, sensitive)),
        Some(Err(e)) => Err(e),
        None => Err(unknown_function(name, name_span, externals)),
    }
}

fn unknown_function(name: &str, name_span: &Range<usize>, externals: Vec<String>) -> EvalError {
    // The built-in names include the special forms.
    let mut all: Vec<String> = builtin_function_names()
        .into_iter()
        .map(String::from)
        .collect();
    all.extend(externals);
    let e = EvalError::new(format!("unknown function `{name}`"), name_span.clone());
    match did_you_mean(name, all.iter().map(String::as_str)) {
        Some(s) => e.with_help(format!("did you mean `{s}`?")),
        None => e.with_help(format!("the functions are: {}", all.join(", "))),
    }
}
