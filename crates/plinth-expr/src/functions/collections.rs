//! List functions: length, concat, flatten, element, slice, reverse, compact, one, index,
//! chunklist, range, coalesce, coalescelist, alltrue, anytrue.
//!
//! Most need only the lists' shape ([`Marks::Shape`]): elements keep their own marks. One
//! that looks into an element handles its marks: an unknown element it must inspect makes
//! the result unknown, a sensitive one it must inspect makes the whole result sensitive.

use plinth_value::Value;

use super::Arity::{AtLeast, Between, Exact};
use super::Marks::{Own, Shape, Whole};
use super::{Args, Builtin, equal, number};
use crate::error::EvalError;
use crate::values::{mark, type_article};

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "length",
        arity: Exact(1),
        takes: "a list, map or string",
        example: "length(var.names)",
        marks: Shape,
        run: length,
    },
    Builtin {
        name: "concat",
        arity: AtLeast(1),
        takes: "lists",
        example: "concat(var.a, var.b)",
        marks: Shape,
        run: concat,
    },
    Builtin {
        name: "flatten",
        arity: Exact(1),
        takes: "a list of lists",
        example: "flatten([[\"a\", \"b\"], [], [\"c\"]])",
        marks: Shape,
        run: flatten,
    },
    Builtin {
        name: "element",
        arity: Exact(2),
        takes: "a list and an index, which wraps around",
        example: "element(var.zones, count.index)",
        marks: Shape,
        run: element,
    },
    Builtin {
        name: "slice",
        arity: Exact(3),
        takes: "a list, a start index and an end index (exclusive)",
        example: "slice([\"a\", \"b\", \"c\", \"d\"], 1, 3)",
        marks: Shape,
        run: slice,
    },
    Builtin {
        name: "reverse",
        arity: Exact(1),
        takes: "a list",
        example: "reverse([1, 2, 3])",
        marks: Shape,
        run: reverse,
    },
    Builtin {
        name: "compact",
        arity: Exact(1),
        takes: "a list of strings",
        example: "compact([\"a\", \"\", null, \"b\"])",
        marks: Shape,
        run: compact,
    },
    Builtin {
        name: "one",
        arity: Exact(1),
        takes: "a list of zero or one elements",
        example: "one(var.maybe_one)",
        marks: Shape,
        run: one,
    },
    Builtin {
        name: "index",
        arity: Exact(2),
        takes: "a list and a value in it",
        example: "index([\"a\", \"b\", \"c\"], \"b\")",
        marks: Whole,
        run: index,
    },
    Builtin {
        name: "chunklist",
        arity: Exact(2),
        takes: "a list and a chunk size",
        example: "chunklist([\"a\", \"b\", \"c\"], 2)",
        marks: Shape,
        run: chunklist,
    },
    Builtin {
        name: "range",
        arity: Between(1, 3),
        takes: "a limit, or a start and a limit, and optionally a step",
        example: "range(1, 4)",
        marks: Whole,
        run: range,
    },
    Builtin {
        name: "coalesce",
        arity: AtLeast(1),
        takes: "values; the first that is neither null nor \"\" is the result",
        example: "coalesce(var.name, \"default\")",
        marks: Own,
        run: coalesce,
    },
    Builtin {
        name: "coalescelist",
        arity: AtLeast(1),
        takes: "lists; the first that is not empty is the result",
        example: "coalescelist(var.zones, [\"1\"])",
        marks: Own,
        run: coalescelist,
    },
    Builtin {
        name: "alltrue",
        arity: Exact(1),
        takes: "a list of bools",
        example: "alltrue([true, var.enabled])",
        marks: Whole,
        run: alltrue,
    },
    Builtin {
        name: "anytrue",
        arity: Exact(1),
        takes: "a list of bools",
        example: "anytrue([false, var.enabled])",
        marks: Whole,
        run: anytrue,
    },
];

fn length(a: &Args<'_>) -> Result<Value, EvalError> {
    let n = match a.value(0) {
        Value::String(s) => s.chars().count(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        _ => return Err(a.type_error(0, "a list, map or string")),
    };
    Ok(Value::from(n as i64))
}

fn concat(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out = Vec::new();
    for i in 0..a.len() {
        out.extend(a.list(i)?.iter().cloned());
    }
    Ok(Value::List(out))
}

/// Flattens nested lists into `out`; `Err(())` when an element that might be a list is
/// unknown. Sets `*sensitive` when a sensitive list was flattened (its length shows).
fn flatten_into(items: &[Value], out: &mut Vec<Value>, sensitive: &mut bool) -> Result<(), ()> {
    for item in items {
        match item {
            Value::Unknown => return Err(()),
            Value::List(inner) => flatten_into(inner, out, sensitive)?,
            Value::Sensitive(inner) => match inner.unmarked() {
                Value::Unknown => return Err(()),
                Value::List(l) => {
                    *sensitive = true;
                    flatten_into(l, out, sensitive)?;
                }
                _ => out.push(item.clone()),
            },
            other => out.push(other.clone()),
        }
    }
    Ok(())
}

fn flatten(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let mut out = Vec::new();
    let mut sensitive = false;
    if flatten_into(items, &mut out, &mut sensitive).is_err() {
        return Ok(Value::Unknown);
    }
    Ok(mark(Value::List(out), sensitive))
}

fn element(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let i = a.integer(1)?;
    if items.is_empty() {
        return Err(a.error(0, "cannot take an element of an empty list").with_help(
            "test the length first, as in `length(l) > 0 ? element(l, 0) : null`, or give a default with try(element(l, 0), null)",
        ));
    }
    if i < 0 {
        return Err(a.error(1, "the index must not be negative"));
    }
    Ok(items[(i as usize) % items.len()].clone())
}

fn slice(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let start = a.count(1)?;
    let end = a.count(2)?;
    if end > items.len() {
        return Err(a.error(
            2,
            format!(
                "the end index is past the end of the list, which has {} elements",
                items.len()
            ),
        ));
    }
    if start > end {
        return Err(a.error(1, "the start index is after the end index"));
    }
    Ok(Value::List(items[start..end].to_vec()))
}

fn reverse(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::List(a.list(0)?.iter().rev().cloned().collect()))
}

fn compact(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let mut out = Vec::with_capacity(items.len());
    let mut sensitive = false;
    for (k, item) in items.iter().enumerate() {
        // Whether a sensitive element is kept depends on its value: the result's length
        // shows it, so the whole result is sensitive.
        sensitive |= item.is_sensitive();
        match item.unmarked() {
            Value::Unknown => return Ok(mark(Value::Unknown, sensitive)),
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::String(_) => out.push(item.clone()),
            other => {
                return Err(a.error(
                    0,
                    format!(
                        "needs a list of strings, but element {k} is {}",
                        type_article(other)
                    ),
                ));
            }
        }
    }
    Ok(mark(Value::List(out), sensitive))
}

fn one(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.list(0)? {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        more => Err(a.error(
            0,
            format!(
                "needs a list of zero or one elements, but this one has {}",
                more.len()
            ),
        )),
    }
}

fn index(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let wanted = a.value(1);
    match items.iter().position(|v| equal(v, wanted)) {
        Some(i) => Ok(Value::from(i as i64)),
        None => Err(a
            .error(1, "the value is not in the list")
            .with_help("contains(list, value) tests whether it is")),
    }
}

fn chunklist(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    let size = a.count(1)?;
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    Ok(Value::List(
        items
            .chunks(size)
            .map(|c| Value::List(c.to_vec()))
            .collect(),
    ))
}

/// Terraform's limit on the numbers `range` makes.
const RANGE_LIMIT: usize = 1024;

fn range(a: &Args<'_>) -> Result<Value, EvalError> {
    let nums = (0..a.len())
        .map(|i| a.number(i))
        .collect::<Result<Vec<_>, _>>()?;
    let (start, limit, step) = match nums[..] {
        // As Terraform: with no step, counting goes down when the limit is below the start.
        [limit] => (0.0, limit, if limit >= 0.0 { 1.0 } else { -1.0 }),
        [start, limit] => (start, limit, if start <= limit { 1.0 } else { -1.0 }),
        [start, limit, step] => (start, limit, step),
        _ => unreachable!("the arity is checked before the call"),
    };
    if step == 0.0 {
        return Err(a.error(2, "the step must not be zero"));
    }
    if (step > 0.0 && start > limit) || (step < 0.0 && start < limit) {
        let at = if a.len() == 3 { 2 } else { 1 };
        return Err(a.error(
            at,
            if step > 0.0 {
                "a positive step needs the start to be at most the limit"
            } else {
                "a negative step needs the start to be at least the limit"
            },
        ));
    }
    let mut out = Vec::new();
    let mut x = start;
    // start + k·step, not repeated addition, so 0.1 steps do not drift.
    while (step > 0.0 && x < limit) || (step < 0.0 && x > limit) {
        if out.len() == RANGE_LIMIT {
            return Err(a.call_error(format!(
                "more than {RANGE_LIMIT} numbers; range() makes at most {RANGE_LIMIT}"
            )));
        }
        out.push(number(x).ok_or_else(|| a.call_error("the numbers are out of range"))?);
        x = start + out.len() as f64 * step;
    }
    Ok(Value::List(out))
}

/// The first argument that is neither null nor "": unknown when an unknown argument comes
/// first; sensitive when it or an argument skipped before it is.
fn coalesce(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut sensitive = false;
    for i in 0..a.len() {
        let v = a.value(i);
        sensitive |= v.contains_sensitive();
        match v.unmarked() {
            Value::Unknown => return Ok(mark(Value::Unknown, sensitive)),
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            _ => return Ok(mark(v.clone(), sensitive)),
        }
    }
    Err(a
        .call_error("every argument is null or an empty string")
        .with_help(
            "add a last argument that always has a value, e.g. coalesce(var.name, \"default\")",
        ))
}

fn coalescelist(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut sensitive = false;
    for i in 0..a.len() {
        let v = a.value(i);
        sensitive |= v.is_sensitive();
        match v.unmarked() {
            Value::Unknown => return Ok(mark(Value::Unknown, sensitive)),
            Value::List(l) if l.is_empty() => {}
            Value::List(_) => return Ok(mark(v.clone(), sensitive)),
            _ => return Err(a.type_error(i, "a list")),
        }
    }
    Err(a.call_error("every list is empty"))
}

fn bools(a: &Args<'_>) -> Result<Vec<bool>, EvalError> {
    a.list(0)?
        .iter()
        .enumerate()
        .map(|(k, v)| match v {
            Value::Bool(b) => Ok(*b),
            other => Err(a.error(
                0,
                format!(
                    "needs a list of bools, but element {k} is {}",
                    type_article(other)
                ),
            )),
        })
        .collect()
}

fn alltrue(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::Bool(bools(a)?.into_iter().all(|b| b)))
}

fn anytrue(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::Bool(bools(a)?.into_iter().any(|b| b)))
}
