//! The built-in functions: a table of leaf functions over already-evaluated arguments.
//!
//! A built-in never sees an expression, a context or a mark: the evaluator checks the number
//! of arguments ([`Builtin::check_arity`]) before evaluating them, removes the marks as the
//! function's [`Marks`] says, calls [`Builtin::run`], and marks the result. Depends only on
//! the error type and the value helpers.

use std::ops::Range;

use base64::Engine as _;
use plinth_value::Value;
use uuid::Uuid;

use crate::error::EvalError;
use crate::values::{number_text, type_article};

/// The namespace of Azure Resource Manager's (and Bicep's) `guid()` function.
///
/// What was confirmed, and where:
/// - Microsoft's Bicep docs (`bicep-functions-string.md`, section "guid") say the function
///   "implements the algorithm from RFC 4122 §4.3" (name-based UUIDs), with the source derived
///   from Logos' `GuidUtility`; RFC 4122 §4.3 with SHA-1 is UUID version 5.
/// - The Bicep repository's own evaluated baseline
///   (`src/Bicep.Core.Samples/Files/baselines_bicepparam/Expressions/parameters.json`,
///   produced by Microsoft's ARM expression evaluator) gives
///   `guid('asdf')` = `228d27cc-6fdb-5934-b7ac-1efccebade04`, which is exactly
///   UUIDv5(this namespace, "asdf") — see the `guid_matches_bicep_baseline` test.
/// - Several independent public reimplementations (Python, Node, PowerShell, PHP, Terraform
///   `uuidv5(...)` calls written to match Bicep role-assignment names) join multiple arguments
///   with `-` before hashing; the docs' note that `guid('hello','world')` differs from
///   `guid('world','hello')` is consistent with that. No Microsoft-evaluated multi-argument
///   vector was found, so the `-` separator rests on those reimplementations.
pub const GUID_NAMESPACE: Uuid = Uuid::from_u128(0x11fb06fb_712d_4ddd_98c7_e71bbd588830);

/// ARM/Bicep `guid(parts...)`: UUID version 5 (SHA-1) in [`GUID_NAMESPACE`] over the parts
/// joined with `-` (UTF-8), rendered lowercase `8-4-4-4-12`.
pub fn guid(parts: &[&str]) -> String {
    Uuid::new_v5(&GUID_NAMESPACE, parts.join("-").as_bytes()).to_string()
}

#[derive(Clone, Copy)]
enum Arity {
    Exact(usize),
    AtLeast(usize),
}

/// How a function treats unknown and sensitive arguments; the evaluator applies it.
#[derive(Clone, Copy)]
pub(crate) enum Marks {
    /// Needs every part of every argument: any unknown anywhere → unknown; any sensitive part
    /// → the result is sensitive. Arguments arrive with every mark removed.
    Whole,
    /// Only needs the arguments' shape (length, concat): unknown only when an argument itself
    /// is unknown; sensitive when an argument itself is; inner marks are kept.
    Shape,
    /// Arguments arrive with every mark in place; the function marks its result itself
    /// (coalesce, lookup: an unknown argument after the one chosen does not matter).
    Own,
}

pub(crate) struct Builtin {
    name: &'static str,
    arity: Arity,
    /// What the arguments are, for arity messages: "a string".
    takes: &'static str,
    example: &'static str,
    marks: Marks,
    run: fn(&Args<'_>) -> Result<Value, EvalError>,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "guid",
        arity: Arity::AtLeast(1),
        takes: "strings to hash",
        example: "guid(rg.id, mi.properties.principalId)",
        marks: Marks::Whole,
        run: f_guid,
    },
    Builtin {
        name: "lower",
        arity: Arity::Exact(1),
        takes: "a string",
        example: "lower(var.name)",
        marks: Marks::Whole,
        run: f_lower,
    },
    Builtin {
        name: "upper",
        arity: Arity::Exact(1),
        takes: "a string",
        example: "upper(var.name)",
        marks: Marks::Whole,
        run: f_upper,
    },
    Builtin {
        name: "join",
        arity: Arity::Exact(2),
        takes: "a separator string and a list of strings",
        example: "join(\",\", var.names)",
        marks: Marks::Whole,
        run: f_join,
    },
    Builtin {
        name: "base64encode",
        arity: Arity::Exact(1),
        takes: "a string",
        example: "base64encode(var.script)",
        marks: Marks::Whole,
        run: f_base64encode,
    },
    Builtin {
        name: "base64decode",
        arity: Arity::Exact(1),
        takes: "a base64 string",
        example: "base64decode(var.encoded)",
        marks: Marks::Whole,
        run: f_base64decode,
    },
    Builtin {
        name: "format",
        arity: Arity::AtLeast(1),
        takes: "a format string, then one value per %s, %d or %v",
        example: "format(\"%s-%d\", var.prefix, 3)",
        marks: Marks::Whole,
        run: f_format,
    },
    Builtin {
        name: "jsonencode",
        arity: Arity::Exact(1),
        takes: "any value",
        example: "jsonencode(var.tags)",
        marks: Marks::Whole,
        run: f_jsonencode,
    },
    Builtin {
        name: "tostring",
        arity: Arity::Exact(1),
        takes: "a string, number or bool",
        example: "tostring(var.count)",
        marks: Marks::Whole,
        run: f_tostring,
    },
    Builtin {
        name: "length",
        arity: Arity::Exact(1),
        takes: "a list, map or string",
        example: "length(var.names)",
        marks: Marks::Shape,
        run: f_length,
    },
    Builtin {
        name: "concat",
        arity: Arity::AtLeast(1),
        takes: "lists",
        example: "concat(var.a, var.b)",
        marks: Marks::Shape,
        run: f_concat,
    },
];

/// Names of the built-in functions.
pub fn builtin_function_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}

/// Evaluated arguments of a built-in call, with their spans.
struct Args<'a> {
    f: &'a Builtin,
    values: Vec<Value>,
    spans: Vec<Range<usize>>,
    span: Range<usize>,
}

impl Args<'_> {
    fn type_error(&self, i: usize, wanted: &str) -> EvalError {
        let got = type_article(&self.values[i]);
        let msg = match self.f.arity {
            Arity::Exact(1) => format!("{}() expects {wanted}, got {got}", self.f.name),
            _ => format!(
                "{}() expects argument {} to be {wanted}, got {got}",
                self.f.name,
                i + 1
            ),
        };
        EvalError::new(msg, self.spans[i].clone())
    }

    fn string(&self, i: usize) -> Result<&str, EvalError> {
        match &self.values[i] {
            Value::String(s) => Ok(s),
            _ => Err(self.type_error(i, "a string")),
        }
    }
}

/// The built-in called `name`, if there is one.
pub(crate) fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

impl Builtin {
    /// How the function treats marked arguments.
    pub(crate) fn marks(&self) -> Marks {
        self.marks
    }

    /// Checks the number of arguments, before they are evaluated; the error shows an example.
    pub(crate) fn check_arity(&self, n: usize, span: Range<usize>) -> Result<(), EvalError> {
        let ok = match self.arity {
            Arity::Exact(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        };
        if ok {
            return Ok(());
        }
        let count = match self.arity {
            Arity::Exact(1) => "1 argument".to_string(),
            Arity::Exact(k) => format!("{k} arguments"),
            Arity::AtLeast(1) => "at least 1 argument".to_string(),
            Arity::AtLeast(k) => format!("at least {k} arguments"),
        };
        Err(EvalError::new(
            format!("{}() expects {count} ({}), got {n}", self.name, self.takes),
            span,
        )
        .with_help(format!("for example: {}", self.example)))
    }

    /// Runs the function over evaluated arguments whose marks were removed as
    /// [`marks`](Self::marks) says; `spans` locate the arguments, `span` the whole call.
    pub(crate) fn run(
        &self,
        values: Vec<Value>,
        spans: Vec<Range<usize>>,
        span: Range<usize>,
    ) -> Result<Value, EvalError> {
        (self.run)(&Args {
            f: self,
            values,
            spans,
            span,
        })
    }
}

// ---- the built-ins -----------------------------------------------------------------------

fn f_guid(a: &Args<'_>) -> Result<Value, EvalError> {
    let parts = (0..a.values.len())
        .map(|i| a.string(i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::String(guid(&parts)))
}

fn f_lower(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::String(a.string(0)?.to_lowercase()))
}

fn f_upper(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::String(a.string(0)?.to_uppercase()))
}

/// Text of a scalar for join/format/tostring; `None` for null, lists and maps.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(number_text(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn f_join(a: &Args<'_>) -> Result<Value, EvalError> {
    let sep = a.string(0)?;
    let Value::List(items) = &a.values[1] else {
        return Err(a.type_error(1, "a list"));
    };
    let mut parts = Vec::with_capacity(items.len());
    for (k, item) in items.iter().enumerate() {
        match scalar_text(item) {
            Some(s) => parts.push(s),
            None => {
                return Err(EvalError::new(
                    format!(
                        "join() needs a list of strings, but element {k} is {}",
                        type_article(item)
                    ),
                    a.spans[1].clone(),
                ));
            }
        }
    }
    Ok(Value::String(parts.join(sep)))
}

fn f_base64encode(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(a.string(0)?),
    ))
}

fn f_base64decode(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    // The decoder's own message is not shown: it quotes input bytes, which may be secret.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| {
            EvalError::new(
                "base64decode(): the argument is not valid base64",
                a.spans[0].clone(),
            )
            .with_help("expected the standard alphabet (A-Z a-z 0-9 + /) with `=` padding")
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        EvalError::new(
            "base64decode(): the decoded bytes are not UTF-8 text",
            a.spans[0].clone(),
        )
    })?;
    Ok(Value::String(text))
}

fn f_format(a: &Args<'_>) -> Result<Value, EvalError> {
    let fmt = a.string(0)?;
    // First pass: validate verbs and count them.
    let mut verbs = Vec::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('%') => {}
            Some(v @ ('s' | 'd' | 'v')) => verbs.push(v),
            Some(other) => {
                return Err(EvalError::new(
                    format!(
                        "format(): unsupported verb `%{other}`; use %s, %d, %v, or %% for a literal `%`"
                    ),
                    a.spans[0].clone(),
                ));
            }
            None => {
                return Err(EvalError::new(
                    "format(): the format string ends with a lone `%`; write `%%` for a literal `%`",
                    a.spans[0].clone(),
                ));
            }
        }
    }
    let given = a.values.len() - 1;
    if verbs.len() != given {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        return Err(EvalError::new(
            format!(
                "format(): the format string has {} but {} given",
                plural(verbs.len(), "verb"),
                if given == 1 {
                    "1 value was".to_string()
                } else {
                    format!("{given} values were")
                }
            ),
            a.span.clone(),
        ));
    }
    let mut out = String::new();
    let mut next = 1;
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next().unwrap_or('%');
        if verb == '%' {
            out.push('%');
            continue;
        }
        let v = &a.values[next];
        let span = a.spans[next].clone();
        let text = match verb {
            's' => scalar_text(v).ok_or_else(|| {
                EvalError::new(
                    format!(
                        "format(): %s cannot format {} (value {next}); use %v or jsonencode(...)",
                        type_article(v)
                    ),
                    span,
                )
            })?,
            'd' => match v {
                Value::Number(n)
                    if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
                {
                    number_text(n)
                }
                _ => {
                    return Err(EvalError::new(
                        format!(
                            "format(): %d expects a whole number, got {} (value {next})",
                            type_article(v)
                        ),
                        span,
                    ));
                }
            },
            _ => match v {
                Value::Null => "null".to_string(),
                Value::List(_) | Value::Map(_) => v.to_json().to_string(),
                other => scalar_text(other).unwrap_or_default(),
            },
        };
        out.push_str(&text);
        next += 1;
    }
    Ok(Value::String(out))
}

fn f_jsonencode(a: &Args<'_>) -> Result<Value, EvalError> {
    Ok(Value::String(a.values[0].to_json().to_string()))
}

fn f_tostring(a: &Args<'_>) -> Result<Value, EvalError> {
    match &a.values[0] {
        Value::Null => Ok(Value::Null),
        v => match scalar_text(v) {
            Some(s) => Ok(Value::String(s)),
            None => Err(EvalError::new(
                format!(
                    "tostring() cannot convert {} to a string; use jsonencode(...) or join(...)",
                    type_article(v)
                ),
                a.spans[0].clone(),
            )),
        },
    }
}

fn f_length(a: &Args<'_>) -> Result<Value, EvalError> {
    let n = match &a.values[0] {
        Value::String(s) => s.chars().count(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        _ => return Err(a.type_error(0, "a list, map or string")),
    };
    Ok(Value::from(n as i64))
}

fn f_concat(a: &Args<'_>) -> Result<Value, EvalError> {
    let mut out = Vec::new();
    for (i, v) in a.values.iter().enumerate() {
        match v {
            Value::List(l) => out.extend(l.iter().cloned()),
            _ => return Err(a.type_error(i, "a list")),
        }
    }
    Ok(Value::List(out))
}
