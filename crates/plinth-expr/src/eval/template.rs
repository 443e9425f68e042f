//! String templates: literal text, interpolations and `%{ if }`/`%{ for }` directives
//! concatenated into one string (unknown if any part is, sensitive if any part is).

use plinth_value::Value;

use crate::ast::{Expr, Part, Template};
use crate::error::EvalError;
use crate::values::{mark, number_text, type_article};

use super::collections::elements;
use super::{Cx, Frame, eval};

/// The string being built.
#[derive(Default)]
struct Out {
    text: String,
    unknown: bool,
    sensitive: bool,
}

/// String concatenation of a template's parts.
pub(crate) fn concat(t: &Template, cx: &Cx<'_>) -> Result<Value, EvalError> {
    let mut out = Out::default();
    render(t, cx, &mut out)?;
    let v = if out.unknown {
        Value::Unknown
    } else {
        Value::String(out.text)
    };
    Ok(mark(v, out.sensitive))
}

fn render(t: &Template, cx: &Cx<'_>, out: &mut Out) -> Result<(), EvalError> {
    for part in &t.parts {
        match part {
            Part::Lit(s) => out.text.push_str(s),
            Part::Interp(e) => interpolate(e, cx, out)?,
            Part::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let c = eval(cond, cx)?;
                out.sensitive |= c.is_sensitive();
                match c.unmarked() {
                    Value::Bool(true) => render(then, cx, out)?,
                    Value::Bool(false) => {
                        if let Some(o) = otherwise {
                            render(o, cx, out)?;
                        }
                    }
                    Value::Unknown => out.unknown = true,
                    other => {
                        return Err(EvalError::new(
                            format!(
                                "the condition of `%{{ if }}` is {}, expected a bool",
                                type_article(other)
                            ),
                            cond.span.clone(),
                        ));
                    }
                }
            }
            Part::For {
                key_var,
                value_var,
                collection,
                body,
                ..
            } => {
                let coll = eval(collection, cx)?;
                out.sensitive |= coll.is_sensitive();
                let Some(items) = elements(&coll, collection, "`%{ for }`")? else {
                    out.unknown = true;
                    continue;
                };
                for (k, v) in &items {
                    let frame = Frame {
                        key: key_var.as_ref().map(|b| (b.name.as_str(), k)),
                        value: (value_var.name.as_str(), v),
                        parent: cx.frame,
                    };
                    render(body, &cx.with(&frame), out)?;
                }
            }
        }
    }
    Ok(())
}

/// One `${...}` inside a longer string.
fn interpolate(e: &Expr, cx: &Cx<'_>, out: &mut Out) -> Result<(), EvalError> {
    let v = eval(e, cx)?;
    out.sensitive |= v.is_sensitive();
    match v.unmarked() {
        Value::Unknown => out.unknown = true,
        Value::String(s) => out.text.push_str(s),
        Value::Number(n) => out.text.push_str(&number_text(n)),
        Value::Bool(b) => out.text.push_str(if *b { "true" } else { "false" }),
        Value::Null => {
            return Err(
                EvalError::new("cannot interpolate null into a string", e.span.clone())
                    .with_help("make the whole string one `${...}` to keep the null"),
            );
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
    Ok(())
}
