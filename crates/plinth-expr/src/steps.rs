//! Walking a reference's steps (`.attr`, `[index]`) through a value, once the root's value is
//! known: attribute and index errors, and the marks met on the way.
//!
//! Depends on the syntax tree (for spans and how a prefix is written), the error type, the
//! value helpers and the suggestions; nothing here evaluates an expression.

use std::ops::Range;

use plinth_value::Value;

use crate::ast::Reference;
use crate::error::EvalError;
use crate::suggest::did_you_mean;
use crate::values::{mark, number_text, type_article};

/// A reference step with its index expression already evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum ResolvedStep {
    /// `.name`
    Attr(String),
    /// `[value]`; the value may be unknown or sensitive.
    Index(Value),
}

/// Walks `steps` from `value`, the value of `r.root`: attributes of maps, indexes of lists
/// (whole numbers) and maps (strings). Walking through an unknown value yields unknown; through
/// a sensitive value (or with a sensitive index) marks the result sensitive. Errors point at
/// the failing step and suggest the nearest attribute name.
pub fn walk_steps(value: Value, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
    walk_reference(&value, r, steps)
}

/// [`walk_steps`] by reference, with messages written as `r` is.
pub(crate) fn walk_reference(
    value: &Value,
    r: &Reference,
    steps: &[ResolvedStep],
) -> Result<Value, EvalError> {
    walk(
        value,
        steps,
        &Site {
            prefix: &|i| r.prefix(i),
            span: &|i| r.step_span(i),
        },
    )
}

/// Where walked steps are written, for messages: how the value before step `i` is written
/// (`prefix(i)`), and the span of step `i`.
pub(crate) struct Site<'a> {
    pub(crate) prefix: &'a dyn Fn(usize) -> String,
    pub(crate) span: &'a dyn Fn(usize) -> Range<usize>,
}

/// [`walk_steps`] by reference: only the value reached is cloned.
pub(crate) fn walk(
    value: &Value,
    steps: &[ResolvedStep],
    site: &Site<'_>,
) -> Result<Value, EvalError> {
    let mut cur = value;
    let mut sensitive = false;
    for (i, step) in steps.iter().enumerate() {
        while let Value::Sensitive(inner) = cur {
            sensitive = true;
            cur = inner;
        }
        if matches!(cur, Value::Unknown) {
            return Ok(mark(Value::Unknown, sensitive));
        }
        cur = match step {
            ResolvedStep::Attr(name) => attr(cur, name, sensitive, i, site)?,
            ResolvedStep::Index(ix) => {
                let secret_index = ix.is_sensitive();
                let secret_value = sensitive;
                sensitive |= secret_index;
                let ix = ix.unmarked();
                if matches!(ix, Value::Unknown) {
                    return Ok(mark(Value::Unknown, sensitive));
                }
                index(cur, ix, secret_index, secret_value, i, site)?
            }
        };
    }
    Ok(mark(cur.clone(), sensitive))
}

/// `.name` of `cur`, the value before step `i`; `secret` when `cur` is (inside) a sensitive
/// value, whose keys are then never suggested.
fn attr<'v>(
    cur: &'v Value,
    name: &str,
    secret: bool,
    i: usize,
    site: &Site<'_>,
) -> Result<&'v Value, EvalError> {
    let span = (site.span)(i);
    let here = (site.prefix)(i);
    match cur {
        Value::Map(m) => match m.get(name) {
            Some(v) => Ok(v),
            None => {
                let mut e = EvalError::new(format!("`{here}` has no attribute `{name}`"), span);
                if secret {
                    return Err(e);
                }
                // `var.count-1` reads as one name: say how to subtract.
                let minus = name
                    .match_indices('-')
                    .map(|(at, _)| (&name[..at], &name[at + 1..]))
                    .find(|(before, _)| m.contains_key(*before));
                if let Some((before, after)) = minus {
                    e = e.with_help(format!(
                        "a name may contain `-`: to subtract, put spaces around it, as in `{here}.{before} - {after}`"
                    ));
                } else if let Some(s) = did_you_mean(name, m.keys().map(String::as_str)) {
                    e = e.with_help(format!("did you mean `{s}`?"));
                }
                Err(e)
            }
        },
        Value::Null => Err(EvalError::new(
            format!("`{here}` is null, so it has no attribute `{name}`"),
            span,
        )),
        Value::List(_) => Err(EvalError::new(
            format!("`{here}` is a list, so it has no attribute `{name}`"),
            span,
        )
        .with_help(format!(
            "index a list with a number, e.g. `{here}[0]`, or take `{name}` of every element with `{here}[*].{name}`"
        ))),
        other => Err(EvalError::new(
            format!(
                "`{here}` is {}, so it has no attribute `{name}`",
                type_article(other)
            ),
            span,
        )),
    }
}

/// What to do about an index past the end of a list of `len` elements.
fn index_help(len: usize) -> String {
    let valid = match len {
        0 => "the list is empty".to_string(),
        1 => "the only valid index is 0".to_string(),
        n => format!("valid indexes are 0 to {}", n - 1),
    };
    format!("{valid}; element(list, i) wraps around, and try(list[i], default) gives a default")
}

/// `[ix]` of `cur`, the value before step `i`; `secret_index` when the index is sensitive
/// (it is then never shown), `secret_value` when `cur` is (inside) a sensitive value (its
/// length and keys are then never shown).
fn index<'v>(
    cur: &'v Value,
    ix: &Value,
    secret_index: bool,
    secret_value: bool,
    i: usize,
    site: &Site<'_>,
) -> Result<&'v Value, EvalError> {
    let span = (site.span)(i);
    let here = || (site.prefix)(i);
    match (cur, ix) {
        (Value::List(l), Value::Number(n)) => {
            let len = l.len();
            let idx = n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            });
            match idx.map(usize::try_from) {
                Some(Ok(k)) if k < len => Ok(&l[k]),
                Some(_) if secret_value => Err(EvalError::new(
                    format!(
                        "index {} is out of range: `{}` is sensitive, so its length is not shown",
                        if secret_index {
                            "(sensitive)".to_string()
                        } else {
                            number_text(n)
                        },
                        here()
                    ),
                    span,
                )
                .with_help("try(list[i], default) gives a default when the index is out of range")),
                Some(_) if secret_index => Err(EvalError::new(
                    format!("index is out of range: `{}` has {len} elements", here()),
                    span,
                )),
                Some(_) => Err(EvalError::new(
                    format!(
                        "index {} is out of range: `{}` has {len} element{}",
                        number_text(n),
                        here(),
                        if len == 1 { "" } else { "s" }
                    ),
                    span,
                )
                .with_help(index_help(len))),
                None => {
                    let shown = if secret_index {
                        "(sensitive)".to_string()
                    } else {
                        number_text(n)
                    };
                    Err(EvalError::new(
                        format!("a list index must be a whole number of at least 0, got {shown}"),
                        span,
                    ))
                }
            }
        }
        (Value::Map(m), Value::String(k)) => match m.get(k) {
            Some(v) => Ok(v),
            None if secret_index => Err(EvalError::new(
                format!("`{}` has no such key", here()),
                span,
            )),
            None => {
                let mut e = EvalError::new(
                    format!("`{}` has no key {}", here(), Value::String(k.clone())),
                    span,
                );
                if secret_value {
                    // The keys of a sensitive map are as secret as its values.
                } else if let Some(s) = did_you_mean(k, m.keys().map(String::as_str)) {
                    e = e.with_help(format!("did you mean {}?", Value::String(s)));
                }
                Err(e)
            }
        },
        (Value::List(_), other) => Err(EvalError::new(
            format!(
                "`{}` is a list, so its index must be a number, not {}",
                here(),
                type_article(other)
            ),
            span,
        )),
        (Value::Map(_), other) => Err(EvalError::new(
            format!(
                "`{}` is a map, so its index must be a string, not {}",
                here(),
                type_article(other)
            ),
            span,
        )),
        (other, _) => Err(EvalError::new(
            format!(
                "`{}` is {}, so it cannot be indexed",
                here(),
                type_article(other)
            ),
            span,
        )),
    }
}
