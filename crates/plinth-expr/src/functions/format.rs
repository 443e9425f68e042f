//! `format` and `formatlist`: printf-style formatting as Terraform's (Go's verbs).
//!
//! A verb is `%[flags][width][.precision]verb`: flags `-` (pad on the right), `0` (pad
//! numbers with zeros), `+` (always a sign), `#` (`%#v`: JSON); verbs `%v` (any value, lists
//! and maps as JSON), `%s`, `%q` (a quoted string), `%d`, `%b`, `%o`, `%x`, `%X` (whole
//! numbers), `%f`, `%e`, `%E`, `%g` (numbers), `%t` (bools) and `%%`.

use plinth_value::Value;

use super::Arity::AtLeast;
use super::Marks::Whole;
use super::{Args, Builtin, as_f64, scalar_text, whole};
use crate::error::EvalError;
use crate::values::type_article;

pub(super) const TABLE: &[Builtin] = &[
    Builtin {
        name: "format",
        arity: AtLeast(1),
        takes: "a format string, then one value per verb such as %s, %d or %v",
        example: "format(\"%s-%03d\", var.prefix, 3)",
        marks: Whole,
        run: format,
    },
    Builtin {
        name: "formatlist",
        arity: AtLeast(1),
        takes: "a format string, then lists (of one length) or single values",
        example: "formatlist(\"%s.example.com\", var.names)",
        marks: Whole,
        run: formatlist,
    },
];

/// The largest width or precision a verb may give (`%1000d`).
const MAX_WIDTH: usize = 1000;

/// One verb of a format string.
struct Verb {
    minus: bool,
    zero: bool,
    plus: bool,
    sharp: bool,
    width: usize,
    precision: Option<usize>,
    verb: char,
}

/// A format string's pieces: literal text and verbs.
enum Piece {
    Text(String),
    Verb(Verb),
}

fn parse(a: &Args<'_>, fmt: &str) -> Result<Vec<Piece>, EvalError> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            lit.push('%');
            continue;
        }
        let mut v = Verb {
            minus: false,
            zero: false,
            plus: false,
            sharp: false,
            width: 0,
            precision: None,
            verb: ' ',
        };
        while let Some(&f) = chars.peek() {
            match f {
                '-' => v.minus = true,
                '0' => v.zero = true,
                '+' => v.plus = true,
                '#' => v.sharp = true,
                ' ' => {}
                _ => break,
            }
            chars.next();
        }
        // A width or precision is bounded so that one verb cannot make a huge string; past
        // the bound it is an error rather than silently a smaller number.
        let digits = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let mut n: usize = 0;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n.saturating_mul(10).saturating_add(d as usize);
                chars.next();
            }
            if n > MAX_WIDTH {
                return Err(a.error(0, format!("a width or precision is at most {MAX_WIDTH}")));
            }
            Ok(n)
        };
        v.width = digits(&mut chars)?;
        if chars.peek() == Some(&'.') {
            chars.next();
            v.precision = Some(digits(&mut chars)?);
        }
        match chars.next() {
            Some(
                verb
                @ ('v' | 's' | 'q' | 'd' | 'b' | 'o' | 'x' | 'X' | 'f' | 'e' | 'E' | 'g' | 't'),
            ) => {
                v.verb = verb;
            }
            Some(other) => {
                return Err(a.error(
                    0,
                    format!(
                        "unsupported verb `%{other}`; use %s, %d, %v (or another of Terraform's verbs), or %% for a literal `%`"
                    ),
                ));
            }
            None => {
                return Err(a.error(
                    0,
                    "the format string ends with a lone `%`; write `%%` for a literal `%`",
                ));
            }
        }
        pieces.push(Piece::Text(std::mem::take(&mut lit)));
        pieces.push(Piece::Verb(v));
    }
    pieces.push(Piece::Text(lit));
    Ok(pieces)
}

/// Formats `values` (`values[k]` is the value for verb k) with `pieces`; `which(k)` names
/// value k in messages and `at(k)` is the argument it came from.
fn render(
    a: &Args<'_>,
    pieces: &[Piece],
    values: &[&Value],
    which: &dyn Fn(usize) -> String,
    at: &dyn Fn(usize) -> usize,
) -> Result<String, EvalError> {
    let mut out = String::new();
    let mut k = 0;
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Verb(v) => {
                let text = one(v, values[k]).map_err(|wanted| {
                    let e = a.error(
                        at(k),
                        format!(
                            "%{} expects {wanted}, got {} ({})",
                            v.verb,
                            type_article(values[k]),
                            which(k)
                        ),
                    );
                    if matches!(values[k], Value::List(_) | Value::Map(_)) {
                        e.with_help("%v (or jsonencode(...)) writes a list or map as JSON")
                    } else {
                        e
                    }
                })?;
                out.push_str(&pad(v, text));
                k += 1;
            }
        }
    }
    Ok(out)
}

/// Pads to the verb's width.
fn pad(v: &Verb, text: String) -> String {
    let n = text.chars().count();
    if n >= v.width {
        return text;
    }
    let fill = v.width - n;
    if v.minus {
        format!("{text}{}", " ".repeat(fill))
    } else if v.zero && matches!(v.verb, 'd' | 'b' | 'o' | 'x' | 'X' | 'f' | 'e' | 'E' | 'g') {
        let (sign, digits) = match text.strip_prefix(['-', '+']) {
            Some(rest) => (&text[..1], rest),
            None => ("", text.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

/// One value formatted by one verb; `Err(what the verb expects)`.
fn one(v: &Verb, value: &Value) -> Result<String, &'static str> {
    let sign = |s: String, negative: bool| {
        if v.plus && !negative {
            format!("+{s}")
        } else {
            s
        }
    };
    match (v.verb, value) {
        ('v', Value::Null) => Ok("null".to_string()),
        ('v', Value::List(_) | Value::Map(_)) => Ok(value.to_json().to_string()),
        ('v', other) if v.sharp => Ok(other.to_json().to_string()),
        ('v' | 's', other) => {
            let s = scalar_text(other).ok_or("a string, number or bool")?;
            Ok(match v.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            })
        }
        ('q', Value::String(s)) => Ok(serde_json::Value::String(s.clone()).to_string()),
        ('q', _) => Err("a string"),
        ('t', Value::Bool(b)) => Ok(b.to_string()),
        ('t', _) => Err("a bool"),
        ('d' | 'b' | 'o' | 'x' | 'X', Value::Number(n)) => {
            let i = whole(n).ok_or("a whole number")?;
            let m = i.unsigned_abs();
            let digits = match v.verb {
                'd' => m.to_string(),
                'b' => format!("{m:b}"),
                'o' => format!("{m:o}"),
                'x' => format!("{m:x}"),
                _ => format!("{m:X}"),
            };
            Ok(sign(
                if i < 0 { format!("-{digits}") } else { digits },
                i < 0,
            ))
        }
        ('d' | 'b' | 'o' | 'x' | 'X', _) => Err("a whole number"),
        ('f' | 'e' | 'E' | 'g', Value::Number(n)) => {
            let f = as_f64(n);
            let p = v.precision.unwrap_or(6);
            let s = match v.verb {
                'f' => format!("{f:.p$}"),
                'e' => go_exponent(format!("{f:.p$e}")),
                'E' => go_exponent(format!("{f:.p$E}")),
                _ => match v.precision {
                    Some(p) => format!("{:.*}", p, f),
                    None => format!("{f}"),
                },
            };
            Ok(sign(s, f < 0.0))
        }
        ('f' | 'e' | 'E' | 'g', _) => Err("a number"),
        _ => Err("a value it can format"),
    }
}

/// Rust writes `1.5e2`; Go (and so Terraform) writes `1.5e+02`.
fn go_exponent(s: String) -> String {
    let Some(at) = s.find(['e', 'E']) else {
        return s;
    };
    let (mantissa, exp) = s.split_at(at);
    let (e, rest) = exp.split_at(1);
    let (sign, digits) = match rest.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("+", rest),
    };
    format!("{mantissa}{e}{sign}{digits:0>2}")
}

fn verb_count(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .filter(|p| matches!(p, Piece::Verb(_)))
        .count()
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn check_count(a: &Args<'_>, pieces: &[Piece]) -> Result<(), EvalError> {
    let verbs = verb_count(pieces);
    let given = a.len() - 1;
    if verbs == given {
        return Ok(());
    }
    Err(a.call_error(format!(
        "the format string has {} but {} given",
        plural(verbs, "verb"),
        if given == 1 {
            "1 value was".to_string()
        } else {
            format!("{given} values were")
        }
    )))
}

fn format(a: &Args<'_>) -> Result<Value, EvalError> {
    let pieces = parse(a, a.string(0)?)?;
    check_count(a, &pieces)?;
    let values: Vec<&Value> = (1..a.len()).map(|i| a.value(i)).collect();
    let out = render(a, &pieces, &values, &|k| format!("value {}", k + 1), &|k| {
        k + 1
    })?;
    Ok(Value::String(out))
}

/// Terraform's formatlist: list arguments (all of one length) are iterated together, other
/// arguments repeat for every element.
fn formatlist(a: &Args<'_>) -> Result<Value, EvalError> {
    let pieces = parse(a, a.string(0)?)?;
    check_count(a, &pieces)?;
    let mut n: Option<(usize, usize)> = None;
    for i in 1..a.len() {
        if let Value::List(l) = a.value(i) {
            match n {
                Some((len, first)) if len != l.len() => {
                    return Err(a.error(
                        i,
                        format!(
                            "argument {} has {} but argument {} has {len}; the lists must be of one length",
                            i + 1,
                            plural(l.len(), "element"),
                            first + 1
                        ),
                    ));
                }
                Some(_) => {}
                None => n = Some((l.len(), i)),
            }
        }
    }
    let Some((len, _)) = n else {
        // No list: one string, in a list (Terraform does the same).
        return format(a).map(|v| Value::List(vec![v]));
    };
    let mut out = Vec::with_capacity(len);
    for e in 0..len {
        let values: Vec<&Value> = (1..a.len())
            .map(|i| match a.value(i) {
                Value::List(l) => &l[e],
                other => other,
            })
            .collect();
        let which = |k: usize| match a.value(k + 1) {
            Value::List(_) => format!("element {e} of value {}", k + 1),
            _ => format!("value {}", k + 1),
        };
        out.push(Value::String(render(a, &pieces, &values, &which, &|k| {
            k + 1
        })?));
    }
    Ok(Value::List(out))
}
