//! Map functions: keys, values, lookup, merge, zipmap, transpose.
//!
//! Keys are never marked (plinth's maps have plain string keys), so `keys` of a map with
//! unknown or sensitive values is known and not sensitive; values keep their own marks.

use plinth_value::{Map, Value};

use super::Arity::{AtLeast, Between, Exact};
use super::Marks::{Own, Shape, Whole};
use super::{Args, Builtin};
use crate::error::EvalError;
use crate::suggest::did_you_mean;
use crate::values::{mark, type_article};

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "keys",
        arity: Exact(1),
        takes: "a map",
        example: "keys(var.tags)",
        marks: Shape,
        run: keys,
    },
    Builtin {
        name: "values",
        arity: Exact(1),
        takes: "a map",
        example: "values(var.tags)",
        marks: Shape,
        run: values,
    },
    Builtin {
        name: "lookup",
        arity: Between(2, 3),
        takes: "a map, a key, and the value when the key is missing",
        example: "lookup(var.sizes, var.env, \"small\")",
        marks: Own,
        run: lookup,
    },
    Builtin {
        name: "merge",
        arity: AtLeast(1),
        takes: "maps; a later map's key wins",
        example: "merge(local.tags, { env = var.env })",
        marks: Shape,
        run: merge,
    },
    Builtin {
        name: "zipmap",
        arity: Exact(2),
        takes: "a list of keys and a list of values of the same length",
        example: "zipmap([\"a\", \"b\"], [1, 2])",
        marks: Shape,
        run: zipmap,
    },
    Builtin {
        name: "transpose",
        arity: Exact(1),
        takes: "a map of lists of strings",
        example: "transpose({ a = [\"1\", \"2\"], b = [\"2\"] })",
        marks: Whole,
        run: transpose,
    },
];

fn keys(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::List(
        a.map(0)?.keys().map(|k| Value::from(k.as_str())).collect(),
    ))
}

fn values(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::List(a.map(0)?.values().cloned().collect()))
}

/// `lookup(map, key, default)`: the map's value at `key`, else `default`. The result is
/// known when the map and key are (an unknown default does not matter when the key is
/// there), and sensitive when the map or the key is, or the default is and is used.
fn lookup(a: &Args<'_>) -> Result<Value, EvalError> {
    let (m, k) = (a.value(0), a.value(1));
    let sensitive = m.is_sensitive() || k.is_sensitive();
    if m.is_unknown() || k.is_unknown() {
        return Ok(mark(Value::Unknown, sensitive));
    }
    let map = a.map(0)?;
    let key = a.string(1)?;
    if let Some(v) = map.get(key) {
        return Ok(mark(v.clone(), sensitive));
    }
    if a.len() == 3 {
        return Ok(mark(a.value(2).clone(), sensitive));
    }
    let mut e = if sensitive {
        a.error(1, "the map has no such key")
    } else {
        a.error(1, format!("the map has no key {key:?}"))
    };
    if let Some(s) = did_you_mean(key, map.keys().map(String::as_str)).filter(|_| !sensitive) {
        e = e.with_help(format!(
            "did you mean {s:?}? Or give a default: lookup(map, key, default)"
        ));
    } else {
        e = e.with_help("give a default as a third argument: lookup(map, key, default)");
    }
    Err(e)
}

fn merge(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out = Map::new();
    for i in 0..a.len() {
        match a.value(i) {
            Value::Null => {}
            Value::Map(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Value::List(_) => {
                return Err(a.type_error(i, "a map").with_help(
                    "merge() combines maps; to join lists into one, use concat(), as in `concat(var.a, [\"x\"])`",
                ));
            }
            _ => return Err(a.type_error(i, "a map")),
        }
    }
    Ok(Value::Map(out))
}

/// `zipmap(keys, values)`: an unknown key makes the map unknown; a sensitive key makes the
/// whole map sensitive (keys are shown). A key given twice takes the later value.
fn zipmap(a: &Args<'_>) -> Result<Value, EvalError> {
    let keys = a.list(0)?;
    let values = a.list(1)?;
    if keys.len() != values.len() {
        return Err(a.call_error(format!(
            "there are {} keys but {} values; the lists must be of one length",
            keys.len(),
            values.len()
        )));
    }
    let mut sensitive = false;
    let mut out = Map::new();
    for (k, (key, value)) in keys.iter().zip(values).enumerate() {
        sensitive |= key.is_sensitive();
        let key = match key.unmarked() {
            Value::Unknown => return Ok(mark(Value::Unknown, sensitive)),
            Value::String(s) => s.clone(),
            Value::Number(n) => crate::values::number_text(n),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(a.error(
                    0,
                    format!(
                        "the keys must be strings, but element {k} is {}",
                        type_article(other)
                    ),
                ));
            }
        };
        out.insert(key, value.clone());
    }
    Ok(mark(Value::Map(out), sensitive))
}

/// `transpose({a = ["1", "2"], b = ["2"]})` is `{"1" = ["a"], "2" = ["a", "b"]}`.
fn transpose(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for (key, list) in a.map(0)? {
        let Value::List(items) = list else {
            return Err(a.error(
                0,
                format!(
                    "needs a map of lists of strings, but one value is {}",
                    type_article(list)
                ),
            ));
        };
        for item in items {
            let Value::String(s) = item else {
                return Err(a.error(
                    0,
                    format!(
                        "needs lists of strings, but one element is {}",
                        type_article(item)
                    ),
                ));
            };
            out.entry(s.clone())
                .or_default()
                .push(Value::from(key.as_str()));
        }
    }
    Ok(Value::Map(
        out.into_iter().map(|(k, v)| (k, Value::List(v))).collect(),
    ))
}
