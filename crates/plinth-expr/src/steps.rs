//! Walking a reference's steps (`.attr`, `[index]`) through a value, once the root's value is
//! known: attribute and index errors, and the marks met on the way.
//!
//! Depends on the syntax tree (for spans and how a prefix is written), the error type, the
//! value helpers and the suggestions; nothing here evaluates an expression.

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
