//! How values are written in text and named in messages, and how a mark is put back.
//!
//! A leaf module shared by the syntax tree (literals print as written), the evaluator and the
//! built-ins.

use plinth_value::Value;

/// The canonical text of a number: integers without a fraction, others in shortest form.
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => n.to_string(),
    }
}

/// Text of a scalar as interpolation writes it (join, format, tostring, object keys);
/// `None` for null, lists, maps and unknown values.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v.unmarked() {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(number_text(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The type of a value with its article, for messages: "a string", "null".
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

/// `v`, marked sensitive when `sensitive`.
pub(crate) fn mark(v: Value, sensitive: bool) -> Value {
    if sensitive { Value::sensitive(v) } else { v }
}
