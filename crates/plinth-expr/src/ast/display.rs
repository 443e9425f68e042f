//! The syntax tree printed back in canonical source form: what error messages quote (`x[0]`
//! of a reference) and what the round-trip tests parse again.

use std::fmt;

use plinth_value::Value;

use super::{Expr, ExprKind, Part, Reference, Template, UnaryOp, write_steps};

/// Renders the reference as it would be written: `app["blue"].id`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prefix(self.steps.len()))
    }
}

/// Renders the expression in canonical source form (normalised whitespace; operators fully
/// parenthesised where they nest, so the text reads back as the same tree).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(v) => write_literal(f, v),
            ExprKind::Template(t) => {
                f.write_str("\"")?;
                write_template_body(f, t)?;
                f.write_str("\"")
            }
            ExprKind::List(items) => {
                f.write_str("[")?;
                write_list(f, items)?;
                f.write_str("]")
            }
            ExprKind::Object(items) => {
                f.write_str("{")?;
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match &k.kind {
                        ExprKind::Literal(Value::String(s)) if is_name(s) => f.write_str(s)?,
                        ExprKind::Literal(_) | ExprKind::Template(_) => write!(f, "{k}")?,
                        _ => write!(f, "({k})")?,
                    }
                    write!(f, " = {v}")?;
                }
                f.write_str("}")
            }
            ExprKind::Ref(r) => write!(f, "{r}"),
            ExprKind::Call {
                name,
                args,
                expand_last,
                ..
            } => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                if *expand_last {
                    f.write_str("...")?;
                }
                f.write_str(")")
            }
            ExprKind::Unary { op, operand, .. } => {
                let sym = match op {
                    UnaryOp::Not => "!",
                    UnaryOp::Neg => "-",
                };
                f.write_str(sym)?;
                match &operand.kind {
                    // `-1` reads back as the literal -1: keep the operator.
                    ExprKind::Literal(Value::Number(_)) => write!(f, "({operand})"),
                    _ => write_operand(f, operand),
                }
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                write_operand(f, lhs)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, rhs)
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                write_operand(f, cond)?;
                f.write_str(" ? ")?;
                write_operand(f, then)?;
                f.write_str(" : ")?;
                write_operand(f, otherwise)
            }
            ExprKind::Postfix { target, steps } => {
                write_target(f, target, true)?;
                let mut s = String::new();
                write_steps(&mut s, steps.iter());
                f.write_str(&s)
            }
            ExprKind::Splat { target, steps, .. } => {
                write_target(f, target, false)?;
                let mut s = String::from("[*]");
                write_steps(&mut s, steps.iter());
                f.write_str(&s)
            }
            ExprKind::For(fe) => {
                let (open, close) = if fe.key.is_some() {
                    ("{", "}")
                } else {
                    ("[", "]")
                };
                f.write_str(open)?;
                f.write_str("for ")?;
                if let Some(k) = &fe.key_var {
                    write!(f, "{}, ", k.name)?;
                }
                write!(f, "{} in {} : ", fe.value_var.name, fe.collection)?;
                if let Some(k) = &fe.key {
                    write!(f, "{k} => ")?;
                }
                write!(f, "{}", fe.value)?;
                if fe.group {
                    f.write_str("...")?;
                }
                if let Some(c) = &fe.cond {
                    write!(f, " if {c}")?;
                }
                f.write_str(close)
            }
        }
    }
}

/// An operand of an operator: compound expressions are parenthesised.
fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Unary { .. } | ExprKind::Binary { .. } | ExprKind::Conditional { .. } => {
            write!(f, "({e})")
        }
        _ => write!(f, "{e}"),
    }
}

/// The target of postfix steps or a splat: parenthesised where the steps would otherwise
/// read as part of it (a reference's own steps, a number's fraction, a splat's steps).
fn write_target(f: &mut fmt::Formatter<'_>, e: &Expr, postfix: bool) -> fmt::Result {
    let paren = match &e.kind {
        ExprKind::Unary { .. } | ExprKind::Binary { .. } | ExprKind::Conditional { .. } => true,
        ExprKind::Literal(v) => !matches!(v, Value::String(_)),
        ExprKind::Ref(_) | ExprKind::Postfix { .. } | ExprKind::Splat { .. } => postfix,
        _ => false,
    };
    if paren {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// Renders the template back to source form (`${` in text is written `$${`, `%{` `%%{`).
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let esc = |s: &str| s.replace("${", "$${").replace("%{", "%%{");
        // Text has no escape for a `$` right before `${` (or `%` before `%{`): that one
        // character is written as an interpolated string.
        write_parts(f, &self.parts, false, &esc, &|c| format!("${{\"{c}\"}}"))
    }
}

/// The body of a string literal inside an expression: text JSON-escaped.
fn write_template_body(f: &mut fmt::Formatter<'_>, t: &Template) -> fmt::Result {
    write_parts(f, &t.parts, false, &escape_in_string, &|c| {
        format!("\\u{:04x}", u32::from(c))
    })
}

/// Template parts: `esc` renders literal text, `lone` a `$` or `%` that would otherwise
/// read as part of the `${` or `%{` after it. `in_body`: the parts are a directive's body
/// (a directive always follows them).
fn write_parts(
    f: &mut fmt::Formatter<'_>,
    parts: &[Part],
    in_body: bool,
    esc: &dyn Fn(&str) -> String,
    lone: &dyn Fn(char) -> String,
) -> fmt::Result {
    let body = |f: &mut fmt::Formatter<'_>, t: &Template| write_parts(f, &t.parts, true, esc, lone);
    for (i, p) in parts.iter().enumerate() {
        match p {
            Part::Lit(s) => {
                let mut text = esc(s);
                let next = parts.get(i + 1);
                let clash = match text.chars().last() {
                    Some('$') => matches!(next, Some(Part::Interp(_))),
                    Some('%') => {
                        matches!(next, Some(Part::If { .. } | Part::For { .. }))
                            || (next.is_none() && in_body)
                    }
                    _ => false,
                };
                if clash && let Some(c) = text.pop() {
                    text.push_str(&lone(c));
                }
                f.write_str(&text)?;
            }
            Part::Interp(e) => write!(f, "${{{e}}}")?,
            Part::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                write!(f, "%{{if {cond}}}")?;
                body(f, then)?;
                if let Some(o) = otherwise {
                    f.write_str("%{else}")?;
                    body(f, o)?;
                }
                f.write_str("%{endif}")?;
            }
            Part::For {
                key_var,
                value_var,
                collection,
                body: b,
                ..
            } => {
                f.write_str("%{for ")?;
                if let Some(k) = key_var {
                    write!(f, "{}, ", k.name)?;
                }
                write!(f, "{} in {collection}}}", value_var.name)?;
                body(f, b)?;
                f.write_str("%{endfor}")?;
            }
        }
    }
    Ok(())
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(s, "null" | "true" | "false" | "for" | "in" | "if")
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

fn write_literal(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::String(s) => write!(f, "\"{}\"", escape_in_string(s)),
        Value::Number(n) => f.write_str(&crate::values::number_text(n)),
        // The parser only produces scalars; anything else renders as the value does.
        other => write!(f, "{other}"),
    }
}

/// JSON-escapes `s` (without the surrounding quotes) and protects `${` and `%{`.
fn escape_in_string(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1]
        .replace("${", "$${")
        .replace("%{", "%%{")
}
