//! Number functions: min, max, sum, abs, ceil, floor, signum, pow, log, parseint.
//!
//! Whole results stay integers (`ceil(1.2)` is `2`, not `2.0`); results that are not finite
//! numbers (`log(0, 10)`) are errors. All take whole values ([`Marks::Whole`]).

use plinth_value::Value;

use super::Arity::{AtLeast, Exact};
use super::Marks::Whole;
use super::{Args, Builtin, as_f64, number};
use crate::error::EvalError;
use crate::values::type_article;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "min",
        arity: AtLeast(1),
        takes: "numbers",
        example: "min(12, 54, 3)",
        marks: Whole,
        run: min,
    },
    Builtin {
        name: "max",
        arity: AtLeast(1),
        takes: "numbers",
        example: "max(12, 54, 3)",
        marks: Whole,
        run: max,
    },
    Builtin {
        name: "sum",
        arity: Exact(1),
        takes: "a list of numbers",
        example: "sum([10, 13, 6])",
        marks: Whole,
        run: sum,
    },
    Builtin {
        name: "abs",
        arity: Exact(1),
        takes: "a number",
        example: "abs(-12.4)",
        marks: Whole,
        run: abs,
    },
    Builtin {
        name: "ceil",
        arity: Exact(1),
        takes: "a number",
        example: "ceil(4.1)",
        marks: Whole,
        run: ceil,
    },
    Builtin {
        name: "floor",
        arity: Exact(1),
        takes: "a number",
        example: "floor(4.9)",
        marks: Whole,
        run: floor,
    },
    Builtin {
        name: "signum",
        arity: Exact(1),
        takes: "a number",
        example: "signum(-13)",
        marks: Whole,
        run: signum,
    },
    Builtin {
        name: "pow",
        arity: Exact(2),
        takes: "a base and an exponent",
        example: "pow(2, 8)",
        marks: Whole,
        run: pow,
    },
    Builtin {
        name: "log",
        arity: Exact(2),
        takes: "a number and a base",
        example: "log(16, 2)",
        marks: Whole,
        run: log,
    },
    Builtin {
        name: "parseint",
        arity: Exact(2),
        takes: "a string of digits and its base, 2 to 62",
        example: "parseint(\"FF\", 16)",
        marks: Whole,
        run: parseint,
    },
];

/// The result of a computation, or an error at the call when it is not a finite number.
fn result(a: &Args<'_>, f: f64) -> Result<Value, EvalError> {
    number(f).ok_or_else(|| a.call_error("the result is not a finite number"))
}

/// The smallest (`want` = Less) or largest argument, as given (an integer stays one).
fn extreme(a: &Args<'_>, want: std::cmp::Ordering) -> Result<Value, EvalError> {
    let mut best = 0;
    let mut best_f = a.number(0)?;
    for i in 1..a.len() {
        let f = a.number(i)?;
        if f.total_cmp(&best_f) == want {
            best = i;
            best_f = f;
        }
    }
    Ok(a.value(best).clone())
}

fn min(a: &Args<'_>) -> Result<Value, EvalError> {
    extreme(a, std::cmp::Ordering::Less)
}

fn max(a: &Args<'_>) -> Result<Value, EvalError> {
    extreme(a, std::cmp::Ordering::Greater)
}

fn sum(a: &Args<'_>) -> Result<Value, EvalError> {
    let items = a.list(0)?;
    if items.is_empty() {
        return Err(a.error(0, "cannot sum an empty list"));
    }
    let mut int: Option<i64> = Some(0);
    let mut float = 0.0;
    for (k, v) in items.iter().enumerate() {
        let Value::Number(n) = v else {
            return Err(a.error(
                0,
                format!(
                    "needs a list of numbers, but element {k} is {}",
                    type_article(v)
                ),
            ));
        };
        int = int.and_then(|acc| n.as_i64().and_then(|i| acc.checked_add(i)));
        float += as_f64(n);
    }
    match int {
        Some(i) => Ok(Value::from(i)),
        None => result(a, float),
    }
}

fn abs(a: &Args<'_>) -> Result<Value, EvalError> {
    match a.value(0) {
        Value::Number(n) if n.as_i64().is_some_and(|i| i != i64::MIN) => {
            Ok(Value::from(n.as_i64().unwrap_or_default().abs()))
        }
        _ => result(a, a.number(0)?.abs()),
    }
}

fn ceil(a: &Args<'_>) -> Result<Value, EvalError> {
    result(a, a.number(0)?.ceil())
}

fn floor(a: &Args<'_>) -> Result<Value, EvalError> {
    result(a, a.number(0)?.floor())
}

fn signum(a: &Args<'_>) -> Result<Value, EvalError> {
    let f = a.number(0)?;
    Ok(Value::from(if f > 0.0 {
        1
    } else if f < 0.0 {
        -1
    } else {
        0
    }))
}

fn pow(a: &Args<'_>) -> Result<Value, EvalError> {
    result(a, a.number(0)?.powf(a.number(1)?))
}

fn log(a: &Args<'_>) -> Result<Value, EvalError> {
    let x = a.number(0)?;
    let base = a.number(1)?;
    if x <= 0.0 {
        return Err(a.error(0, "the number must be greater than 0"));
    }
    if base <= 0.0 || base == 1.0 {
        return Err(a.error(1, "the base must be greater than 0 and not 1"));
    }
    result(a, x.ln() / base.ln())
}

/// Terraform's parseint: digits 0-9, then a-z, then (above base 36) A-Z; for bases up to
/// 36 letters of either case. An optional sign comes first.
fn parseint(a: &Args<'_>) -> Result<Value, EvalError> {
    let s = a.string(0)?;
    let base = a.integer(1)?;
    if !(2..=62).contains(&base) {
        return Err(a.error(1, "the base must be from 2 to 62"));
    }
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() {
        return Err(a.error(0, "the string has no digits"));
    }
    let mut acc: i64 = 0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if base <= 36 => c as i64 - 'A' as i64 + 10,
            'A'..='Z' => c as i64 - 'A' as i64 + 36,
            _ => base,
        };
        if d >= base {
            return Err(a.error(0, format!("the string is not a number in base {base}")));
        }
        acc = acc
            .checked_mul(base)
            .and_then(|x| {
                if negative {
                    x.checked_sub(d)
                } else {
                    x.checked_add(d)
                }
            })
            .ok_or_else(|| a.error(0, "the number is too large"))?;
    }
    Ok(Value::from(acc))
}
