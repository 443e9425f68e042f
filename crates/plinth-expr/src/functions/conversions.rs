//! Type conversions: tostring, tonumber, tobool, tolist, toset, tomap; and the marks:
//! sensitive, nonsensitive.
//!
//! As Terraform's: null converts to null; strings convert to numbers and bools when they
//! spell one (`"3"`, `"true"`); numbers and bools convert to strings. `toset` returns a
//! sorted list without duplicates (plinth has no set type; see the `sets` module).

use plinth_value::Value;

use super::Arity::Exact;
use super::Marks::{Own, Shape, Whole};
use super::{Args, Builtin, scalar_text};
use crate::error::EvalError;
use crate::values::type_article;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "sensitive",
        arity: Exact(1),
        takes: "any value",
        example: "sensitive(var.connection_string)",
        marks: Own,
        run: sensitive,
    },
    Builtin {
        name: "nonsensitive",
        arity: Exact(1),
        takes: "a value derived from a secret that is safe to show",
        example: "nonsensitive(length(var.password) >= 12)",
        marks: Own,
        run: nonsensitive,
    },
    Builtin {
        name: "tostring",
        arity: Exact(1),
        takes: "a string, number or bool",
        example: "tostring(var.count)",
        marks: Whole,
        run: tostring,
    },
    Builtin {
        name: "tonumber",
        arity: Exact(1),
        takes: "a number or a string that spells one",
        example: "tonumber(\"42\")",
        marks: Whole,
        run: tonumber,
    },
    Builtin {
        name: "tobool",
        arity: Exact(1),
        takes: "a bool or the string \"true\" or \"false\"",
        example: "tobool(\"true\")",
        marks: Whole,
        run: tobool,
    },
    Builtin {
        name: "tolist",
        arity: Exact(1),
        takes: "a list",
        example: "tolist([\"a\", \"b\"])",
        marks: Shape,
        run: tolist,
    },
    Builtin {
        name: "toset",
        arity: Exact(1),
        takes: "a list",
        example: "toset([\"b\", \"a\", \"b\"])",
        marks: Whole,
        run: toset,
    },
    Builtin {
        name: "tomap",
        arity: Exact(1),
        takes: "a map",
        example: "tomap({ a = 1, b = 2 })",
        marks: Shape,
        run: tomap,
    },
];

fn tostring(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.value(0) {
        Value::Null => Ok(Value::Null),
        v => match scalar_text(v) {
            Some(s) => Ok(Value::String(s)),
            None => Err(a
                .error(0, format!("cannot convert {} to a string", type_article(v)))
                .with_help("jsonencode(...) writes a list or map as text; join(...) joins a list")),
        },
    }
}

/// A number from its text as Terraform reads one: decimal, with an optional sign, fraction
/// and exponent.
fn parse_number(s: &str) -> Option<Value> {
    let t = s.strip_prefix('+').unwrap_or(s);
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+'))
    {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::from(i));
    }
    t.parse::<f64>().ok().and_then(super::number)
}

fn tonumber(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.value(0) {
        Value::Null => Ok(Value::Null),
        v @ Value::Number(_) => Ok(v.clone()),
        Value::String(s) => parse_number(s.trim()).ok_or_else(|| {
            a.error(0, "the string does not spell a number")
                .with_help("a number is written like 42, -3 or 1.5")
        }),
        _ => Err(a.type_error(0, "a number or a string")),
    }
}

fn tobool(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.value(0) {
        Value::Null => Ok(Value::Null),
        v @ Value::Bool(_) => Ok(v.clone()),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        Value::String(_) => Err(a.error(
            0,
            "only the strings \"true\" and \"false\" convert to a bool",
        )),
        _ => Err(a.type_error(0, "a bool or a string")),
    }
}

fn tolist(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.value(0) {
        v @ (Value::Null | Value::List(_)) => Ok(v.clone()),
        Value::Map(_) => Err(a
            .type_error(0, "a list")
            .with_help("values(...) lists a map's values, keys(...) its keys")),
        _ => Err(a
            .type_error(0, "a list")
            .with_help("write one value as a list: [value]")),
    }
}

fn toset(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.value(0) {
        Value::Null => Ok(Value::Null),
        Value::List(l) => Ok(Value::List(super::sets::as_set(l.iter().cloned()))),
        _ => Err(a.type_error(0, "a list")),
    }
}

fn tomap(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.value(0) {
        v @ (Value::Null | Value::Map(_)) => Ok(v.clone()),
        Value::List(_) => Err(a
            .type_error(0, "a map")
            .with_help("zipmap(keys, values) or a for-expression {for x in list : x.name => x} builds a map from lists")),
        _ => Err(a.type_error(0, "a map")),
    }
}

/// `sensitive(x)`: `x`, marked sensitive (shown as `(sensitive)` everywhere), as Terraform's.
fn sensitive(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::sensitive(a.value(0).clone()))
}

/// `nonsensitive(x)`: `x` with every sensitive mark removed — the user's statement that a
/// value derived from a secret (its length, whether it is set) may be shown. Unknown parts
/// stay unknown.
fn nonsensitive(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(a.value(0).unmark_all())
}
