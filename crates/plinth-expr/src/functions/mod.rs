//! The built-in functions: tables of leaf functions over already-evaluated arguments.
//!
//! A built-in never sees an expression or a context: the evaluator checks the number of
//! arguments ([`Builtin::check_arity`]) before evaluating them, removes the marks as the
//! function's [`Marks`] says, calls [`Builtin::run`], and marks the result. Each family of
//! functions keeps its table beside its code (`strings`, `collections`, ...); this module
//! joins the tables, and holds the argument helpers they share. Depends only on the error
//! type, the value helpers and the name suggester.
//!
//! Names and behaviour follow Terraform's functions of the same name. plinth has no set
//! type: `toset` and the `set*` functions return sorted lists without duplicates.
//!
//! Messages never quote an argument's value (it may be secret; marks are removed before a
//! [`Marks::Whole`] function runs): they name the argument by its position instead.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use plinth_value::{Map, Value};

use crate::error::EvalError;
use crate::values::{scalar_text, type_article};

mod collections;
mod conversions;
mod encoding;
mod format;
mod hashes;
mod maps;
mod network;
mod numbers;
mod regexes;
mod sets;
mod strings;

pub use hashes::{GUID_NAMESPACE, guid};

/// Functions the evaluator implements itself, as special forms: they see unevaluated
/// arguments (`try`, `can`) or the configuration's files (`file`, `fileexists`,
/// `templatefile`), so they are not in the tables. Listed for suggestions and docs.
pub(crate) const EVALUATOR_FUNCTIONS: &[&str] =
    &["try", "can", "file", "fileexists", "templatefile"];

/// How many arguments a function takes.
#[derive(Clone, Copy)]
pub(crate) enum Arity {
    Exact(usize),
    AtLeast(usize),
    /// From the first to the second, inclusive.
    Between(usize, usize),
}

/// How a function treats unknown and sensitive arguments; the evaluator applies it.
#[derive(Clone, Copy)]
pub(crate) enum Marks {
    /// Needs every part of every argument: any unknown anywhere → unknown; any sensitive part
    /// → the result is sensitive. Arguments arrive with every mark removed.
    Whole,
    /// Only needs the arguments' shape (length, concat): unknown only when an argument itself
    /// is unknown; sensitive when an argument itself is; inner marks are kept (the function
    /// must handle an inner unknown or sensitive part it looks into).
    Shape,
    /// Arguments arrive with every mark in place; the function marks its result itself
    /// (coalesce, lookup: an unknown argument after the one chosen does not matter).
    Own,
}

/// One built-in function: its name, arguments, an example for messages, and its code.
pub(crate) struct Builtin {
    pub(crate) name: &'static str,
    pub(crate) arity: Arity,
    /// What the arguments are, for arity messages: "a string".
    pub(crate) takes: &'static str,
    /// A call a user can copy, shown when the arguments are wrong.
    pub(crate) example: &'static str,
    pub(crate) marks: Marks,
    pub(crate) run: fn(&Args<'_>) -> Result<Value, EvalError>,
}

/// Every family's table.
const TABLES: &[&[Builtin]] = &[
    strings::TABLE,
    format::TABLE,
    regexes::TABLE,
    collections::TABLE,
    maps::TABLE,
    sets::TABLE,
    conversions::TABLE,
    numbers::TABLE,
    encoding::TABLE,
    hashes::TABLE,
    network::TABLE,
];

static BY_NAME: LazyLock<HashMap<&'static str, &'static Builtin>> = LazyLock::new(|| {
    TABLES
        .iter()
        .flat_map(|t| t.iter())
        .map(|b| (b.name, b))
        .collect()
});

/// Names of the built-in functions, sorted: the tables' and the evaluator's special forms
/// (`try`, `can`, `file`, `fileexists`, `templatefile`).
pub fn builtin_function_names() -> Vec<&'static str> {
    SORTED_NAMES.clone()
}

/// Whether `name` is a built-in function (a table's or a special form); O(1), for checking
/// every call of a large configuration.
pub fn is_builtin_function(name: &str) -> bool {
    BY_NAME.contains_key(name) || EVALUATOR_FUNCTIONS.contains(&name)
}

static SORTED_NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut names: Vec<&'static str> = TABLES
        .iter()
        .flat_map(|t| t.iter().map(|b| b.name))
        .chain(EVALUATOR_FUNCTIONS.iter().copied())
        .collect();
    names.sort_unstable();
    names
});

/// The built-in called `name`, if the tables have one.
pub(crate) fn builtin(name: &str) -> Option<&'static Builtin> {
    BY_NAME.get(name).copied()
}

impl Builtin {
    /// How the function treats marked arguments.
    pub(crate) fn marks(&self) -> Marks {
        self.marks
    }

    /// The most arguments the function takes; `None` when there is no limit.
    pub(crate) fn max_args(&self) -> Option<usize> {
        match self.arity {
            Arity::Exact(k) | Arity::Between(_, k) => Some(k),
            Arity::AtLeast(_) => None,
        }
    }

    /// Checks the number of arguments, before they are evaluated; the error shows an example.
    pub(crate) fn check_arity(&self, n: usize, span: Range<usize>) -> Result<(), EvalError> {
        let ok = match self.arity {
            Arity::Exact(k) => n == k,
            Arity::AtLeast(k) => n >= k,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
        };
        if ok {
            return Ok(());
        }
        let args = |k: usize| format!("{k} argument{}", if k == 1 { "" } else { "s" });
        let count = match self.arity {
            Arity::Exact(k) => args(k),
            Arity::AtLeast(k) => format!("at least {}", args(k)),
            Arity::Between(lo, hi) => format!("{lo} to {hi} arguments"),
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

/// Evaluated arguments of a built-in call, with their spans.
pub(crate) struct Args<'a> {
    f: &'a Builtin,
    values: Vec<Value>,
    spans: Vec<Range<usize>>,
    span: Range<usize>,
}

impl Args<'_> {
    /// The number of arguments.
    fn len(&self) -> usize {
        self.values.len()
    }

    /// Argument `i` as given (for a [`Marks::Own`] function, with its marks).
    fn value(&self, i: usize) -> &Value {
        &self.values[i]
    }

    /// "f() expects a string, got a list", at argument `i`.
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

    /// "f(): message", at argument `i`.
    fn error(&self, i: usize, message: impl std::fmt::Display) -> EvalError {
        EvalError::new(
            format!("{}(): {message}", self.f.name),
            self.spans[i].clone(),
        )
    }

    /// "f(): message", at the whole call.
    fn call_error(&self, message: impl std::fmt::Display) -> EvalError {
        EvalError::new(format!("{}(): {message}", self.f.name), self.span.clone())
    }

    /// "argument 2", or "the argument" for a one-argument function: how messages name one.
    fn nth(&self, i: usize) -> String {
        match self.f.arity {
            Arity::Exact(1) => "the argument".to_string(),
            _ => format!("argument {}", i + 1),
        }
    }

    fn string(&self, i: usize) -> Result<&str, EvalError> {
        match self.values[i].unmarked() {
            Value::String(s) => Ok(s),
            _ => Err(self.type_error(i, "a string")),
        }
    }

    fn list(&self, i: usize) -> Result<&[Value], EvalError> {
        match self.values[i].unmarked() {
            Value::List(l) => Ok(l),
            _ => Err(self.type_error(i, "a list")),
        }
    }

    fn map(&self, i: usize) -> Result<&Map, EvalError> {
        match self.values[i].unmarked() {
            Value::Map(m) => Ok(m),
            _ => Err(self.type_error(i, "a map")),
        }
    }

    fn number(&self, i: usize) -> Result<f64, EvalError> {
        match self.values[i].unmarked() {
            Value::Number(n) => Ok(as_f64(n)),
            _ => Err(self.type_error(i, "a number")),
        }
    }

    /// A whole number (an index, a count, a bit count).
    fn integer(&self, i: usize) -> Result<i64, EvalError> {
        match self.values[i].unmarked() {
            Value::Number(n) => whole(n)
                .ok_or_else(|| self.error(i, format!("{} must be a whole number", self.nth(i)))),
            _ => Err(self.type_error(i, "a whole number")),
        }
    }

    /// A whole number that is 0 or more.
    fn count(&self, i: usize) -> Result<usize, EvalError> {
        let n = self.integer(i)?;
        usize::try_from(n)
            .map_err(|_| self.error(i, format!("{} must not be negative", self.nth(i))))
    }
}

/// A JSON number as f64.
fn as_f64(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// The number as an i64 when it is whole and in range.
fn whole(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A number value from an f64: an integer when exact, `None` for NaN and infinities.
fn number(f: f64) -> Option<Value> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(Value::from(f as i64));
    }
    serde_json::Number::from_f64(f).map(Value::Number)
}

/// Value equality as `==` sees it: marks ignored, numbers by value (`1 == 1.0`).
fn equal(a: &Value, b: &Value) -> bool {
    match (a.unmarked(), b.unmarked()) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => as_f64(x) == as_f64(y),
        },
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| equal(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && equal(vx, vy))
        }
        (x, y) => x == y,
    }
}
