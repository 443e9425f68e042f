//! Encodings: JSON, YAML, base64 and URL query escaping.
//!
//! Decoders' own messages are not shown: they may quote the input, which may be secret;
//! errors give the line and column instead. All take whole values ([`Marks::Whole`]).

use base64::Engine as _;
use plinth_value::{Map, Value};

use super::Arity::Exact;
use super::Marks::Whole;
use super::{Args, Builtin};
use crate::error::EvalError;
use crate::values::number_text;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "jsonencode",
        arity: Exact(1),
        takes: "any value",
        example: "jsonencode(var.tags)",
        marks: Whole,
        run: jsonencode,
    },
    Builtin {
        name: "jsondecode",
        arity: Exact(1),
        takes: "a JSON string",
        example: "jsondecode(\"{\\\"a\\\": 1}\")",
        marks: Whole,
        run: jsondecode,
    },
    Builtin {
        name: "yamlencode",
        arity: Exact(1),
        takes: "any value",
        example: "yamlencode(var.tags)",
        marks: Whole,
        run: yamlencode,
    },
    Builtin {
        name: "yamldecode",
        arity: Exact(1),
        takes: "a YAML string",
        example: "yamldecode(\"a: 1\")",
        marks: Whole,
        run: yamldecode,
    },
    Builtin {
        name: "base64encode",
        arity: Exact(1),
        takes: "a string",
        example: "base64encode(var.script)",
        marks: Whole,
        run: base64encode,
    },
    Builtin {
        name: "base64decode",
        arity: Exact(1),
        takes: "a base64 string",
        example: "base64decode(var.encoded)",
        marks: Whole,
        run: base64decode,
    },
    Builtin {
        name: "urlencode",
        arity: Exact(1),
        takes: "a string",
        example: "urlencode(\"a b&c\")",
        marks: Whole,
        run: urlencode,
    },
];

fn jsonencode(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::String(a.value(0).to_json().to_string()))
}

fn jsondecode(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v) => Ok(Value::from(v)),
        Err(e) => {
            let (reason, help) = json_reason(&e);
            Err(a
                .error(
                    0,
                    format!(
                        "the string is not valid JSON: {reason} at line {}, column {} of the JSON",
                        e.line(),
                        e.column()
                    ),
                )
                .with_help(help))
        }
    }
}

/// serde_json's syntax messages name the mistake and never quote the input; they are shown
/// only when they are one of these (any other text might one day hold the input, which may
/// be secret), each with what to do.
const JSON_REASONS: &[(&str, &str)] = &[
    (
        "trailing comma",
        "JSON allows no comma after the last element of a list or an object: remove it",
    ),
    (
        "EOF while parsing a list",
        "the JSON ends before a `[` is closed: add the `]`",
    ),
    (
        "EOF while parsing an object",
        "the JSON ends before a `{` is closed: add the `}`",
    ),
    (
        "EOF while parsing a string",
        "the JSON ends inside a string: close it with `\"`",
    ),
    (
        "EOF while parsing a value",
        "the JSON ends where a value was expected (an empty string is not JSON; use try(jsondecode(s), {}) for a default)",
    ),
    (
        "expected value",
        "a JSON value is a \"double-quoted\" string, a number, true, false, null, a list or an object",
    ),
    (
        "expected ident",
        "JSON's only bare words are true, false and null; strings are \"double-quoted\"",
    ),
    (
        "key must be a string",
        "JSON object keys are \"double-quoted\" strings",
    ),
    (
        "expected `:`",
        "a JSON object's keys and values are separated by `:`",
    ),
    (
        "expected `,` or `]`",
        "the elements of a JSON list are separated by `,`",
    ),
    (
        "expected `,` or `}`",
        "the members of a JSON object are separated by `,`",
    ),
    (
        "expected `\"`",
        "JSON strings and keys are \"double-quoted\"",
    ),
    (
        "trailing characters",
        "the string holds more than one JSON value: decode one value, or wrap them in a list",
    ),
    (
        "invalid escape",
        "JSON's escapes are \\\\, \\\", \\/, \\b, \\f, \\n, \\r, \\t and \\uXXXX",
    ),
    (
        "invalid number",
        "JSON numbers are written like 3, -1.5 or 2e10, with no leading zeros or `+`",
    ),
    (
        "number out of range",
        "the number is too large to represent",
    ),
    (
        "control character (\\u0000-\\u001F) found while parsing a string",
        "a JSON string may not hold a raw line break or tab: write \\n or \\t",
    ),
];

/// What is wrong with the JSON, by serde_json's message or else its category, and a help.
fn json_reason(e: &serde_json::Error) -> (String, &'static str) {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    if let Some((reason, help)) = JSON_REASONS.iter().find(|(r, _)| *r == message) {
        return (reason.to_string(), help);
    }
    let reason = match e.classify() {
        serde_json::error::Category::Eof => "it ends too early",
        serde_json::error::Category::Syntax => "a syntax error",
        _ => "it cannot be read",
    };
    (
        reason.to_string(),
        "jsondecode() takes one JSON document, such as {\"replicas\": 3}",
    )
}

fn yamldecode(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    let doc: serde_norway::Value = serde_norway::from_str(s).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
            .unwrap_or_default();
        a.error(0, format!("the string is not valid YAML{at}"))
            .with_help("a string holds one YAML document; yamldecode does not read `---` streams")
    })?;
    from_yaml(&doc).map_err(|what| a.error(0, what))
}

/// A YAML document as a value: map keys that are scalars become strings (as Terraform's).
fn from_yaml(v: &serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or("the YAML has a number that is not finite (.inf or .nan)")?
            }
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::List(items.iter().map(from_yaml).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err("the YAML has a map key that is a list or a map".into()),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Map(out)
        }
        Y::Tagged(t) => from_yaml(&t.value)?,
    })
}

/// Terraform's YAML: block style, strings double-quoted (JSON escapes are valid YAML), keys
/// in order, a trailing newline.
fn yamlencode(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out = String::new();
    yaml_block(a.value(0), 0, &mut out);
    Ok(Value::String(out))
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => serde_json::Value::String(s.clone()).to_string(),
        Value::List(_) => "[]".to_string(),
        _ => "{}".to_string(),
    }
}

/// Whether `v` is written on its own lines (a non-empty list or map).
fn is_block(v: &Value) -> bool {
    match v {
        Value::List(l) => !l.is_empty(),
        Value::Map(m) => !m.is_empty(),
        _ => false,
    }
}

/// Writes `v` at `indent` spaces, every line ending in a newline; the first line's indent is
/// the caller's when it follows `- ` (see `yaml_item`).
fn yaml_block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::List(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                yaml_item(item, indent + 2, out);
            }
        }
        Value::Map(m) if !m.is_empty() => {
            for (k, item) in m {
                out.push_str(&pad);
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                if is_block(item) {
                    out.push('\n');
                    // Lists under a key are not indented further, as Terraform's.
                    let inner = if matches!(item, Value::List(_)) {
                        indent
                    } else {
                        indent + 2
                    };
                    yaml_block(item, inner, out);
                } else {
                    out.push(' ');
                    out.push_str(&yaml_scalar(item));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
}

/// A list item after `- `: a block's first line continues the dash's line.
fn yaml_item(v: &Value, indent: usize, out: &mut String) {
    if !is_block(v) {
        out.push_str(&yaml_scalar(v));
        out.push('\n');
        return;
    }
    let mut inner = String::new();
    yaml_block(v, indent, &mut inner);
    out.push_str(&inner[indent..]);
}

fn base64encode(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(a.string(0)?),
    ))
}

fn base64decode(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| {
            a.error(0, "the argument is not valid base64")
                .with_help("expected the standard alphabet (A-Z a-z 0-9 + /) with `=` padding")
        })?;
    let text =
        String::from_utf8(bytes).map_err(|_| a.error(0, "the decoded bytes are not UTF-8 text"))?;
    Ok(Value::String(text))
}

/// Go's `url.QueryEscape`, as Terraform's urlencode: letters, digits and `-_.~` stay, a
/// space becomes `+`, every other byte `%XX`.
fn urlencode(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out = String::new();
    for b in a.string(0)?.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::String(out))
}
