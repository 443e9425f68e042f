//! Object constructors, postfix steps and splats on any value, and for-expressions.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use plinth_value::map::Entry;
use plinth_value::{Map, Value};

use crate::ast::{Expr, ForExpr, RefStep, write_steps};
use crate::error::EvalError;
use crate::steps::{Site, walk};
use crate::values::{mark, scalar_text, type_article};

use super::{Cx, Frame, eval, resolve_steps};

/// The text of an object key: strings as they are, numbers and bools as written. `Ok(None)`
/// when the key is unknown.
fn key_text(v: &Value, e: &Expr) -> Result<Option<String>, EvalError> {
    match v.unmarked() {
        Value::Unknown => Ok(None),
        other => scalar_text(other).map(Some).ok_or_else(|| {
            EvalError::new(
                format!(
                    "an object key must be a string, and `{e}` is {}",
                    type_article(other)
                ),
                e.span.clone(),
            )
        }),
    }
}

/// The error for a key given twice; a sensitive key is never shown.
fn duplicate_key(key: &str, secret: bool, span: &Range<usize>, for_expr: bool) -> EvalError {
    let what = if secret {
        "two elements have the same key".to_string()
    } else {
        format!(
            "two elements have the key {}",
            Value::String(key.to_string())
        )
    };
    let e = EvalError::new(what, span.clone());
    if for_expr {
        e.with_help("add `...` after the value to group the values of equal keys into lists, as in `{for s in l : s.key => s...}`")
    } else {
        e.with_help("give each key once")
    }
}

/// `{ k = v, ... }`. An unknown key makes the whole object unknown; a sensitive key makes it
/// sensitive (a key cannot carry a mark of its own).
pub(super) fn object(items: &[(Expr, Expr)], cx: &Cx<'_>) -> Result<Value, EvalError> {
    let mut out = Map::new();
    let mut unknown = false;
    let mut sensitive = false;
    let mut secret_keys = BTreeSet::new();
    for (k, v) in items {
        let kv = eval(k, cx)?;
        let value = eval(v, cx)?;
        sensitive |= kv.is_sensitive();
        let Some(key) = key_text(&kv, k)? else {
            unknown = true;
            continue;
        };
        let secret = kv.is_sensitive() || secret_keys.contains(&key);
        if out.contains_key(&key) {
            return Err(duplicate_key(&key, secret, &k.span, false));
        }
        if kv.is_sensitive() {
            secret_keys.insert(key.clone());
        }
        out.insert(key, value);
    }
    let v = if unknown {
        Value::Unknown
    } else {
        Value::Map(out)
    };
    Ok(mark(v, sensitive))
}

/// `target.attr[index]...` on any value.
pub(super) fn postfix(target: &Expr, steps: &[RefStep], cx: &Cx<'_>) -> Result<Value, EvalError> {
    let v = eval(target, cx)?;
    let resolved = resolve_steps(steps, cx)?;
    let prefix = |i: usize| {
        let mut s = target.to_string();
        write_steps(&mut s, steps[..i].iter());
        s
    };
    walk(
        &v,
        &resolved,
        &Site {
            prefix: &prefix,
            span: &|i| step_span(steps, i),
        },
    )
}

fn step_span(steps: &[RefStep], i: usize) -> Range<usize> {
    match &steps[i] {
        RefStep::Attr { span, .. } => span.clone(),
        RefStep::Index(e) => e.span.clone(),
    }
}

/// `target[*].steps`: the steps applied to every element; null is the empty list and any
/// other non-list value a list of one.
pub(super) fn splat(target: &Expr, steps: &[RefStep], cx: &Cx<'_>) -> Result<Value, EvalError> {
    let v = eval(target, cx)?;
    let resolved = resolve_steps(steps, cx)?;
    let prefix = |i: usize| {
        let mut s = format!("{target}[*]");
        write_steps(&mut s, steps[..i].iter());
        s
    };
    let site = Site {
        prefix: &prefix,
        span: &|i| step_span(steps, i),
    };
    let sensitive = v.is_sensitive();
    let out = match v.unmarked() {
        Value::Unknown => Value::Unknown,
        Value::Null => Value::List(Vec::new()),
        Value::List(items) => Value::List(
            items
                .iter()
                .map(|item| walk(item, &resolved, &site))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(_) => match walk(v.unmarked(), &resolved, &site) {
            Ok(one) => Value::List(vec![one]),
            Err(e) if e.span == step_span(steps, 0) => {
                return Err(splat_of_a_map(target, steps, e));
            }
            Err(e) => return Err(e),
        },
        other => Value::List(vec![walk(other, &resolved, &site)?]),
    };
    Ok(mark(out, sensitive))
}

/// A splat of a map whose first step fails on the map itself (a map is a list of one for a splat,
/// which is rarely what was meant): say that a splat takes a list, and how to take the
/// steps of every value of the map instead.
fn splat_of_a_map(target: &Expr, steps: &[RefStep], e: EvalError) -> EvalError {
    let mut rest = String::new();
    write_steps(&mut rest, steps.iter());
    EvalError::new(
        format!("a splat `[*]` works on a list, and `{target}` is a map: {e}"),
        e.span,
    )
    .with_help(format!(
        "to take `{rest}` of every value of the map, write `values({target})[*]{rest}`, or the for-expression `[for v in {target} : v{rest}]`"
    ))
}

/// The elements a for-expression or `%{ for }` iterates: (key or index, value), or `None`
/// when the collection is unknown. `what` names the construct in messages.
pub(super) fn elements<'v>(
    coll: &'v Value,
    e: &Expr,
    what: &str,
) -> Result<Option<Vec<(Value, &'v Value)>>, EvalError> {
    match coll.unmarked() {
        Value::Unknown => Ok(None),
        Value::List(l) => Ok(Some(
            l.iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i as i64), v))
                .collect(),
        )),
        Value::Map(m) => Ok(Some(
            m.iter()
                .map(|(k, v)| (Value::String(k.clone()), v))
                .collect(),
        )),
        Value::Null => Err(EvalError::new(
            format!("{what} cannot iterate over null: `{e}` is null"),
            e.span.clone(),
        )
        .with_help(format!(
            "give an empty list instead, as in `{e} == null ? [] : {e}`"
        ))),
        other => {
            let err = EvalError::new(
                format!(
                    "{what} iterates over a list or a map, and `{e}` is {}",
                    type_article(other)
                ),
                e.span.clone(),
            );
            Err(match other {
                Value::String(_) => err.with_help(format!(
                    "to iterate over the parts of a string, split it first, as in `split(\",\", {e})`"
                )),
                Value::Number(_) => err.with_help(format!(
                    "to iterate a number of times, iterate over `range({e})`"
                )),
                _ => err.with_help(format!("to iterate over one value, put it in a list: `[{e}]`")),
            })
        }
    }
}

/// What to do about a for-expression's filter `c` that is `v`, not a bool; a sensitive `v`
/// is never shown.
fn filter_help(c: &Expr, v: &Value, secret: bool) -> String {
    let keeps = "the filter keeps an element when it is true";
    match v.unmarked() {
        Value::String(s) if !secret && (s == "true" || s == "false") => {
            format!("{keeps}: convert the string with `tobool({c})`")
        }
        Value::String(s) => {
            let shown = if secret || s.chars().count() > 40 || s.contains(['\n', '"', '\\']) {
                "\"...\"".to_string()
            } else {
                format!("\"{s}\"")
            };
            format!("{keeps}: compare the string, as in `{c} == {shown}`")
        }
        Value::Number(_) => format!("{keeps}: compare the number, as in `{c} > 0`"),
        Value::List(_) | Value::Map(_) => {
            format!("{keeps}: test its length, as in `length({c}) > 0`")
        }
        _ => format!("{keeps}: test for null, as in `{c} != null`"),
    }
}

/// `[for ...]` and `{for ...}`.
pub(super) fn for_expr(fe: &ForExpr, cx: &Cx<'_>) -> Result<Value, EvalError> {
    let coll = eval(&fe.collection, cx)?;
    let mut sensitive = coll.is_sensitive();
    let Some(items) = elements(&coll, &fe.collection, "a for-expression")? else {
        return Ok(mark(Value::Unknown, sensitive));
    };
    let mut unknown = false;
    let mut list = Vec::new();
    let mut map = Map::new();
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut secret_keys = BTreeSet::new();
    for (k, v) in &items {
        let frame = Frame {
            key: fe.key_var.as_ref().map(|b| (b.name.as_str(), k)),
            value: (fe.value_var.name.as_str(), v),
            parent: cx.frame,
        };
        let inner = cx.with(&frame);
        if let Some(c) = &fe.cond {
            let cv = eval(c, &inner)?;
            sensitive |= cv.is_sensitive();
            match cv.unmarked() {
                Value::Bool(true) => {}
                Value::Bool(false) => continue,
                Value::Unknown => {
                    unknown = true;
                    continue;
                }
                other => {
                    return Err(EvalError::new(
                        format!(
                            "the `if` of a for-expression must be a bool, and `{c}` is {}",
                            type_article(other)
                        ),
                        c.span.clone(),
                    )
                    .with_help(filter_help(c, other, cv.is_sensitive())));
                }
            }
        }
        let Some(key_expr) = &fe.key else {
            list.push(eval(&fe.value, &inner)?);
            continue;
        };
        let kv = eval(key_expr, &inner)?;
        let value = eval(&fe.value, &inner)?;
        sensitive |= kv.is_sensitive();
        let Some(key) = key_text(&kv, key_expr)? else {
            unknown = true;
            continue;
        };
        if fe.group {
            groups.entry(key).or_default().push(value);
            continue;
        }
        let secret = kv.is_sensitive() || secret_keys.contains(&key);
        match map.entry(key) {
            Entry::Occupied(o) => {
                return Err(duplicate_key(o.key(), secret, &key_expr.span, true));
            }
            Entry::Vacant(slot) => {
                if kv.is_sensitive() {
                    secret_keys.insert(slot.key().clone());
                }
                slot.insert(value);
            }
        }
    }
    let out = if unknown {
        Value::Unknown
    } else if fe.key.is_none() {
        Value::List(list)
    } else if fe.group {
        Value::Map(
            groups
                .into_iter()
                .map(|(k, v)| (k, Value::List(v)))
                .collect(),
        )
    } else {
        Value::Map(map)
    };
    Ok(mark(out, sensitive))
}
