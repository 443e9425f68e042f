//! Operators and the conditional: bools for `!`, `&&`, `||` and conditions (with the
//! short-circuits that make `x != null && x.y > 1` work), numbers for arithmetic and
//! comparison (integers stay integers when exact, checked for overflow), any values for
//! `==` and `!=` (ignoring marks, numbers by value).

use std::cmp::Ordering;
use std::ops::Range;

use plinth_value::{Map, Value};
use serde_json::Number;

use crate::ast::{BinaryOp, Expr, UnaryOp};
use crate::error::EvalError;
use crate::values::{mark, type_article};

use super::{Cx, eval};

/// A number as the operators compute with it.
#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn num(n: &Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    match (num(a), num(b)) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (x, y) => as_f64(x).partial_cmp(&as_f64(y)),
    }
}

/// The value of a whole-number result, or an overflow error.
fn int_value(i: i128, op: &str, span: &Range<usize>) -> Result<Value, EvalError> {
    let n = i64::try_from(i)
        .map(Number::from)
        .or_else(|_| u64::try_from(i).map(Number::from))
        .map_err(|_| {
            EvalError::new(
                format!(
                    "the result of `{op}` is too large: whole numbers go from {} to {}",
                    i64::MIN,
                    u64::MAX
                ),
                span.clone(),
            )
        })?;
    Ok(Value::Number(n))
}

/// The value of a fractional result: a whole number when it is exactly one.
fn float_value(f: f64, op: &str, span: &Range<usize>) -> Result<Value, EvalError> {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        return int_value(f as i128, op, span);
    }
    Number::from_f64(f).map(Value::Number).ok_or_else(|| {
        EvalError::new(
            format!("the result of `{op}` is not a finite number"),
            span.clone(),
        )
    })
}

/// A bool operand: `None` when unknown.
fn bool_operand(v: &Value, what: &str, e: &Expr) -> Result<Option<bool>, EvalError> {
    match v.unmarked() {
        Value::Unknown => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(EvalError::new(
            format!("{what} is {}, expected a bool", type_article(other)),
            e.span.clone(),
        )
        .with_help(if matches!(other, Value::String(_)) {
            format!(
                "compare it to make a bool, e.g. `{e} == \"true\"`, or convert it with tobool()"
            )
        } else {
            "compare it to make a bool, e.g. with `==`, `!=` or `>`".to_string()
        })),
    }
}

/// A number operand of `op`: `None` when unknown.
fn number_operand<'v>(v: &'v Value, op: &str, e: &Expr) -> Result<Option<&'v Number>, EvalError> {
    match v.unmarked() {
        Value::Unknown => Ok(None),
        Value::Number(n) => Ok(Some(n)),
        Value::Null => Err(EvalError::new(
            format!("`{e}` is null, and `{op}` needs a number"),
            e.span.clone(),
        )
        .with_help("give it a value, or test it first: `x != null ? ... : ...`")),
        Value::String(_) if op == "+" => Err(EvalError::new(
            format!("`+` adds numbers, and `{e}` is a string"),
            e.span.clone(),
        )
        .with_help("to join strings, interpolate them, as in \"${a}${b}\", or use format(); tonumber() converts a string holding a number")),
        other => Err(EvalError::new(
            format!("`{op}` needs numbers, and `{e}` is {}", type_article(other)),
            e.span.clone(),
        )
        .with_help(if matches!(other, Value::String(_)) {
            "tonumber() converts a string holding a number"
        } else {
            "use numbers on both sides"
        })),
    }
}

/// `!x`, `-x`.
pub(super) fn unary(
    op: UnaryOp,
    op_span: &Range<usize>,
    operand: &Expr,
    cx: &Cx<'_>,
) -> Result<Value, EvalError> {
    let v = eval(operand, cx)?;
    let sensitive = v.is_sensitive();
    let out = match op {
        UnaryOp::Not => match bool_operand(&v, "the operand of `!`", operand)? {
            Some(b) => Value::Bool(!b),
            None => Value::Unknown,
        },
        UnaryOp::Neg => match number_operand(&v, "-", operand)? {
            None => Value::Unknown,
            Some(n) => match num(n) {
                Num::Int(i) => int_value(-i, "-", op_span)?,
                Num::Float(f) => float_value(-f, "-", op_span)?,
            },
        },
    };
    Ok(mark(out, sensitive))
}

/// `a OP b`.
pub(super) fn binary(
    op: BinaryOp,
    op_span: &Range<usize>,
    lhs: &Expr,
    rhs: &Expr,
    cx: &Cx<'_>,
) -> Result<Value, EvalError> {
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        return logic(op, lhs, rhs, cx);
    }
    let l = eval(lhs, cx)?;
    let r = eval(rhs, cx)?;
    if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
        let sensitive = l.contains_sensitive() || r.contains_sensitive();
        let out = match equal(&l, &r) {
            Some(eq) => Value::Bool(eq == (op == BinaryOp::Eq)),
            None => Value::Unknown,
        };
        return Ok(mark(out, sensitive));
    }
    let sym = op.symbol();
    let sensitive = l.is_sensitive() || r.is_sensitive();
    let a = number_operand(&l, sym, lhs)?;
    let b = number_operand(&r, sym, rhs)?;
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(mark(Value::Unknown, sensitive));
    };
    let out = match op {
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let ord = num_cmp(a, b);
            Value::Bool(match op {
                BinaryOp::Lt => ord == Some(Ordering::Less),
                BinaryOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                BinaryOp::Gt => ord == Some(Ordering::Greater),
                _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            })
        }
        _ => arithmetic(op, num(a), num(b), op_span, &rhs.span)?,
    };
    Ok(mark(out, sensitive))
}

/// `+ - * / %` over numbers.
fn arithmetic(
    op: BinaryOp,
    a: Num,
    b: Num,
    op_span: &Range<usize>,
    rhs_span: &Range<usize>,
) -> Result<Value, EvalError> {
    let sym = op.symbol();
    let zero = match b {
        Num::Int(i) => i == 0,
        Num::Float(f) => f == 0.0,
    };
    if zero && op == BinaryOp::Div {
        return Err(EvalError::new("division by zero", rhs_span.clone()).with_help(
            "the divisor is 0: guard it with a conditional, as in `d == 0 ? 0 : n / d`, or give the variable a default other than 0",
        ));
    }
    if zero && op == BinaryOp::Rem {
        return Err(EvalError::new(
            "remainder by zero: the right operand of `%` is 0",
            rhs_span.clone(),
        )
        .with_help(
            "`n % d` needs a divisor other than 0: guard it with a conditional, as in `d == 0 ? n : n % d`, or give the variable a default other than 0",
        ));
    }
    if let (Num::Int(x), Num::Int(y)) = (a, b) {
        let r = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Rem => x.checked_rem(y),
            _ if x % y == 0 => x.checked_div(y),
            _ => return float_value(x as f64 / y as f64, sym, op_span),
        };
        return match r {
            Some(r) => int_value(r, sym, op_span),
            None => int_value(i128::MAX, sym, op_span),
        };
    }
    let (x, y) = (as_f64(a), as_f64(b));
    let r = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        _ => x % y,
    };
    float_value(r, sym, op_span)
}

/// `&&` and `||`: the right side is not evaluated when the left decides.
fn logic(op: BinaryOp, lhs: &Expr, rhs: &Expr, cx: &Cx<'_>) -> Result<Value, EvalError> {
    let decides = |b: bool| (op == BinaryOp::Or) == b;
    let sym = op.symbol();
    let l = eval(lhs, cx)?;
    let lb = bool_operand(&l, &format!("the left operand of `{sym}`"), lhs)?;
    if let Some(b) = lb
        && decides(b)
    {
        return Ok(mark(Value::Bool(b), l.is_sensitive()));
    }
    let r = eval(rhs, cx)?;
    let rb = bool_operand(&r, &format!("the right operand of `{sym}`"), rhs)?;
    Ok(match (lb, rb) {
        (Some(_), Some(b)) => mark(Value::Bool(b), l.is_sensitive() || r.is_sensitive()),
        // `unknown && false` is false anyway.
        (None, Some(b)) if decides(b) => mark(Value::Bool(b), r.is_sensitive()),
        _ => mark(Value::Unknown, l.is_sensitive() || r.is_sensitive()),
    })
}

/// Structural equality ignoring marks, numbers by value; `None` when an unknown part
/// decides it.
pub(crate) fn equal(a: &Value, b: &Value) -> Option<bool> {
    match (a.unmarked(), b.unmarked()) {
        (Value::Unknown, _) | (_, Value::Unknown) => None,
        (Value::Number(x), Value::Number(y)) => Some(num_cmp(x, y) == Some(Ordering::Equal)),
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            all_equal(x.iter().zip(y))
        }
        (Value::Map(x), Value::Map(y)) => maps_equal(x, y),
        (x, y) => Some(x == y),
    }
}

fn maps_equal(x: &Map, y: &Map) -> Option<bool> {
    if x.len() != y.len() || x.keys().ne(y.keys()) {
        return Some(false);
    }
    all_equal(x.values().zip(y.values()))
}

fn all_equal<'v>(pairs: impl Iterator<Item = (&'v Value, &'v Value)>) -> Option<bool> {
    let mut unknown = false;
    for (a, b) in pairs {
        match equal(a, b) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    (!unknown).then_some(true)
}

/// The kind of a value for the conditional's check; null and unknown agree with anything.
fn kind(v: &Value) -> Option<&'static str> {
    match v.unmarked() {
        Value::Null | Value::Unknown => None,
        other => Some(type_article(other)),
    }
}

/// `cond ? then : otherwise`: both branches are evaluated and must agree in kind; with a
/// known condition the other branch's errors do not matter.
pub(super) fn conditional(
    whole: &Expr,
    cond: &Expr,
    then: &Expr,
    otherwise: &Expr,
    cx: &Cx<'_>,
) -> Result<Value, EvalError> {
    let c = eval(cond, cx)?;
    let cb = bool_operand(&c, "the condition", cond)?;
    let t = eval(then, cx);
    let o = eval(otherwise, cx);
    let check = |t: &Value, o: &Value| -> Result<(), EvalError> {
        match (kind(t), kind(o)) {
            (Some(a), Some(b)) if a != b => Err(EvalError::new(
                format!(
                    "the branches of this conditional differ in type: the true branch is {a}, the false branch {b}"
                ),
                whole.span.clone(),
            )
            .with_help(
                "make both branches the same type, e.g. with tostring(), tonumber() or tobool()",
            )),
            _ => Ok(()),
        }
    };
    let sensitive = c.is_sensitive();
    match cb {
        Some(b) => {
            let (chosen, other) = if b { (t?, o) } else { (o?, t) };
            if let Ok(other) = &other {
                check(&chosen, other)?;
            }
            Ok(mark(chosen, sensitive))
        }
        None => {
            let (t, o) = (t?, o?);
            check(&t, &o)?;
            let sensitive = sensitive || t.contains_sensitive() || o.contains_sensitive();
            Ok(mark(Value::Unknown, sensitive))
        }
    }
}
