//! Functions over lists as sets: distinct, contains, sort, setunion, setintersection,
//! setsubtract — and the ordering `toset` uses.
//!
//! plinth has no set type: a "set" is a list without duplicates in a fixed order (strings
//! lexicographically, numbers by value, then bools; lists and maps by their JSON text), so
//! the same elements always give the same list and plans stay stable. Comparing elements
//! needs all of them: these functions take whole values ([`Marks::Whole`]).

use std::cmp::Ordering;

use plinth_value::Value;

use super::Arity::{AtLeast, Exact};
use super::Marks::Whole;
use super::{Args, Builtin, as_f64, equal};
use crate::error::EvalError;
use crate::values::type_article;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "distinct",
        arity: Exact(1),
        takes: "a list",
        example: "distinct([\"a\", \"b\", \"a\"])",
        marks: Whole,
        run: distinct,
    },
    Builtin {
        name: "contains",
        arity: Exact(2),
        takes: "a list and a value",
        example: "contains(var.envs, \"prod\")",
        marks: Whole,
        run: contains,
    },
    Builtin {
        name: "sort",
        arity: Exact(1),
        takes: "a list of strings",
        example: "sort([\"b\", \"a\", \"c\"])",
        marks: Whole,
        run: sort,
    },
    Builtin {
        name: "setunion",
        arity: AtLeast(1),
        takes: "lists",
        example: "setunion([\"a\", \"b\"], [\"b\", \"c\"])",
        marks: Whole,
        run: setunion,
    },
    Builtin {
        name: "setintersection",
        arity: AtLeast(1),
        takes: "lists",
        example: "setintersection([\"a\", \"b\"], [\"b\", \"c\"])",
        marks: Whole,
        run: setintersection,
    },
    Builtin {
        name: "setsubtract",
        arity: Exact(2),
        takes: "a list and the list of elements to remove",
        example: "setsubtract([\"a\", \"b\", \"c\"], [\"a\", \"c\"])",
        marks: Whole,
        run: setsubtract,
    },
];

/// The order of a set's elements.
fn order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::String(_) => 0,
            Value::Number(_) => 1,
            Value::Bool(_) => 2,
            Value::Null => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => as_f64(x).total_cmp(&as_f64(y)),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => rank(a)
            .cmp(&rank(b))
            .then_with(|| a.to_json().to_string().cmp(&b.to_json().to_string())),
    }
}

/// Elements as a set: without duplicates, in set order. Mixed strings and other scalars are
/// all made strings first, as Terraform unifies a set's element type.
pub(super) fn as_set(items: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut items: Vec<Value> = items.into_iter().collect();
    if items.iter().any(|v| matches!(v, Value::String(_)))
        && items
            .iter()
            .all(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
    {
        items = items
            .into_iter()
            .map(|v| super::scalar_text(&v).map_or(v, Value::String))
            .collect();
    }
    items.sort_by(order);
    items.dedup_by(|x, y| equal(x, y));
    items
}

fn distinct(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out: Vec<Value> = Vec::new();
    for v in a.list(0)? {
        if !out.iter().any(|seen| equal(seen, v)) {
            out.push(v.clone());
        }
    }
    Ok(Value::List(out))
}

fn contains(a: &Args<'_>) -> Result<Value, EvalError> {
    let wanted = a.value(1);
    Ok(Value::Bool(a.list(0)?.iter().any(|v| equal(v, wanted))))
}

/// Terraform's sort: strings in lexicographic order; numbers and bools are written as
/// strings first, as Terraform converts them.
fn sort(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out = a
        .list(0)?
        .iter()
        .enumerate()
        .map(|(k, v)| {
            super::scalar_text(v).ok_or_else(|| {
                a.error(
                    0,
                    format!(
                        "needs a list of strings, but element {k} is {}",
                        type_article(v)
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    Ok(Value::List(out.into_iter().map(Value::String).collect()))
}

fn lists<'a>(a: &'a Args<'_>) -> Result<Vec<&'a [Value]>, EvalError> {
    (0..a.len()).map(|i| a.list(i)).collect()
}

fn setunion(a: &Args<'_>) -> Result<Value, EvalError> {
    let all = lists(a)?;
    Ok(Value::List(as_set(
        all.into_iter().flat_map(|l| l.iter().cloned()),
    )))
}

fn setintersection(a: &Args<'_>) -> Result<Value, EvalError> {
    let all = lists(a)?;
    let Some((first, rest)) = all.split_first() else {
        return Ok(Value::List(Vec::new()));
    };
    let common = first
        .iter()
        .filter(|v| rest.iter().all(|l| l.iter().any(|w| equal(v, w))))
        .cloned();
    Ok(Value::List(as_set(common)))
}

fn setsubtract(a: &Args<'_>) -> Result<Value, EvalError> {
    let from = a.list(0)?;
    let remove = a.list(1)?;
    let kept = from
        .iter()
        .filter(|v| !remove.iter().any(|w| equal(v, w)))
        .cloned();
    Ok(Value::List(as_set(kept)))
}
