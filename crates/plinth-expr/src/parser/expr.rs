//! Expressions: the conditional, binary operators by precedence, unary operators, primaries
//! (literals, references, calls, groups) and postfix steps (`.attr`, `[index]`, `[*]`).
//!
//! The functions here return an expression with its OUTER range (including parentheses),
//! because an operator's span runs from the start of its left operand as written to the end
//! of its right one; an [`Expr`]'s own span of a parenthesised expression is the inner one.

use std::ops::Range;

use plinth_value::Value;

use crate::ast::{BinaryOp, Expr, ExprKind, RefStep, Reference, UnaryOp};

use super::{ParseError, Parser, err, is_ident_char, is_ident_start};

/// An expression and the range it was written in, parentheses included.
pub(super) type Located = (Expr, Range<usize>);

/// How tightly an operator binds: higher binds tighter.
fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq | BinaryOp::Ne => 3,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
        BinaryOp::Add | BinaryOp::Sub => 5,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
    }
}

/// The binary operator at the start of `s`, with its length in bytes.
fn binary_op(s: &str) -> Option<(BinaryOp, usize)> {
    let two = [
        ("||", BinaryOp::Or),
        ("&&", BinaryOp::And),
        ("==", BinaryOp::Eq),
        ("!=", BinaryOp::Ne),
        ("<=", BinaryOp::Le),
        (">=", BinaryOp::Ge),
    ];
    if let Some((_, op)) = two.iter().find(|(t, _)| s.starts_with(t)) {
        return Some((*op, 2));
    }
    let op = match s.chars().next()? {
        '<' => BinaryOp::Lt,
        '>' => BinaryOp::Gt,
        '+' => BinaryOp::Add,
        '-' => BinaryOp::Sub,
        '*' => BinaryOp::Mul,
        '/' => BinaryOp::Div,
        '%' => BinaryOp::Rem,
        _ => return None,
    };
    Some((op, 1))
}

impl Parser<'_> {
    /// An expression (the conditional is the loosest form).
    pub(super) fn expr(&mut self) -> Result<Expr, ParseError> {
        Ok(self.expr_located()?.0)
    }

    /// An expression and its outer range.
    pub(super) fn expr_located(&mut self) -> Result<Located, ParseError> {
        self.nested(|p| {
            p.skip_ws();
            let (cond, range) = p.binary(1)?;
            let save = p.pos;
            p.skip_ws();
            if p.peek() != Some('?') {
                p.pos = save;
                return Ok((cond, range));
            }
            p.pos += 1;
            let then = p.expr()?;
            p.skip_ws();
            if p.peek() != Some(':') {
                return Err(p.unexpected_or_eof(
                    "in the conditional",
                    "`:` and the value when the condition is false",
                ));
            }
            p.pos += 1;
            let (otherwise, end) = p.expr_located()?;
            let span = range.start..end.end;
            Ok((
                Expr {
                    kind: ExprKind::Conditional {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        otherwise: Box::new(otherwise),
                    },
                    span: span.clone(),
                },
                span,
            ))
        })
    }

    /// Binary operators binding at least as tightly as `min` (left-associative).
    fn binary(&mut self, min: u8) -> Result<Located, ParseError> {
        let (mut lhs, mut range) = self.unary()?;
        loop {
            let save = self.pos;
            self.skip_ws();
            let Some((op, len)) = binary_op(self.rest()) else {
                self.pos = save;
                break;
            };
            let prec = precedence(op);
            if prec < min {
                self.pos = save;
                break;
            }
            let op_span = self.pos..self.pos + len;
            self.chain(op_span.clone())?;
            self.pos += len;
            self.skip_ws();
            if self.peek().is_none() {
                return Err(self.eof_error());
            }
            let (rhs, r) = self.binary(prec + 1)?;
            range = range.start..r.end;
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    op_span,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span: range.clone(),
            };
        }
        Ok((lhs, range))
    }

    /// `!x`, `-x`, or a postfix expression. `-` directly before a digit is a negative number.
    fn unary(&mut self) -> Result<Located, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let op = match self.peek() {
            Some('!') => UnaryOp::Not,
            Some('-') if !self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) => {
                UnaryOp::Neg
            }
            _ => return self.postfix(),
        };
        self.pos += 1;
        self.skip_ws();
        if self.peek().is_none() {
            return Err(self.eof_error());
        }
        let (operand, r) = self.nested(|p| p.unary())?;
        let span = start..r.end;
        Ok((
            Expr {
                kind: ExprKind::Unary {
                    op,
                    op_span: start..start + 1,
                    operand: Box::new(operand),
                },
                span: span.clone(),
            },
            span,
        ))
    }

    /// A primary expression followed by any `.attr`, `[index]` and `[*]` steps.
    fn postfix(&mut self) -> Result<Located, ParseError> {
        let (target, range) = self.primary()?;
        self.steps_after(target, range, None)
    }

    /// The steps after `target` (written at `range`; `star` when a `[*]` follows it
    /// already): they make a `Postfix`, or a `Splat` from `[*]` on. A reference's own steps
    /// were taken by [`Self::ident_expr`].
    fn steps_after(
        &mut self,
        target: Expr,
        range: Range<usize>,
        mut star: Option<Range<usize>>,
    ) -> Result<Located, ParseError> {
        let start = range.start;
        let mut end = star.as_ref().map_or(range.end, |s| s.end);
        let mut cur = target;
        let mut steps = Vec::new();
        loop {
            match self.step()? {
                Some(Ok(s)) => steps.push(s),
                Some(Err(star_span)) => {
                    self.chain(star_span.clone())?;
                    cur = finish(cur, std::mem::take(&mut steps), star.take(), start..end);
                    star = Some(star_span);
                }
                None => break,
            }
            end = self.pos;
        }
        let e = finish(cur, steps, star, start..end);
        Ok((e, start..end))
    }

    /// One step at the cursor (after whitespace): `Ok(step)`, `Err(span of [*])` for a splat,
    /// or `None` (the cursor is left where it was).
    fn step(&mut self) -> Result<Option<Result<RefStep, Range<usize>>>, ParseError> {
        let save = self.pos;
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with("...") {
            self.pos = save;
            return Ok(None);
        }
        match self.peek() {
            Some('.') => {
                self.pos += 1;
                self.skip_ws();
                let s = self.pos;
                match self.peek() {
                    Some(c) if is_ident_start(c) => {
                        let name = self.ident();
                        Ok(Some(Ok(RefStep::Attr {
                            name,
                            span: s..self.pos,
                        })))
                    }
                    Some(c) if c.is_ascii_digit() => {
                        let n = self.eat_digits();
                        let digits = &self.src[s..s + n];
                        Err(err(
                            format!(
                                "`.{digits}` is not an attribute name: index a list with `[{digits}]`"
                            ),
                            s..s + n,
                            Some("an attribute name"),
                        ))
                    }
                    _ => Err(self.unexpected_or_eof("after `.`", "an attribute name")),
                }
            }
            Some('[') => {
                let open = self.pos;
                let inner = self.rest()[1..].trim_start();
                if let Some(after) = inner.strip_prefix('*')
                    && after.trim_start().starts_with(']')
                {
                    let close = self.src.len() - after.trim_start().len();
                    self.pos = close + 1;
                    return Ok(Some(Err(open..self.pos)));
                }
                self.push_open("[", ']')?;
                self.pos += 1;
                let e = self.expr()?;
                self.skip_ws();
                match self.peek() {
                    Some(']') => self.pos += 1,
                    _ => return Err(self.unexpected_or_eof("in an index", "`]`")),
                }
                self.open.pop();
                Ok(Some(Ok(RefStep::Index(e))))
            }
            _ => {
                self.pos = save;
                Ok(None)
            }
        }
    }

    /// A literal, a reference, a call, a group, a string, a list, an object or a
    /// for-expression.
    fn primary(&mut self) -> Result<Located, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.eof_error());
        };
        let e = match c {
            '"' | '\'' => {
                self.push_open(if c == '"' { "\"" } else { "'" }, c)?;
                self.pos += 1;
                let t = self.template(Some((start, c)))?;
                self.open.pop();
                let kind = match t.literal_text() {
                    Some(s) => ExprKind::Literal(Value::String(s)),
                    None => ExprKind::Template(t),
                };
                Expr {
                    kind,
                    span: start..self.pos,
                }
            }
            '[' => self.list()?,
            '{' => self.object()?,
            '(' => return self.group(),
            '-' | '0'..='9' => self.number()?,
            c if is_ident_start(c) => return self.ident_expr(),
            c => {
                let span = self.token_span();
                if matches!(c, '}' | ')' | ']')
                    && let Some(o) = self.open.last()
                    && o.closer != c
                {
                    return Err(self.unexpected(c, "", "an expression"));
                }
                return Err(err(
                    format!(
                        "expected an expression, found `{}`",
                        &self.src[span.clone()]
                    ),
                    span,
                    Some("an expression"),
                ));
            }
        };
        Ok((e, start..self.pos))
    }

    fn group(&mut self) -> Result<Located, ParseError> {
        let start = self.pos;
        self.push_open("(", ')')?;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(')') {
            return Err(err(
                "empty parentheses `()`",
                start..self.pos + 1,
                Some("an expression"),
            ));
        }
        let e = self.expr()?;
        self.skip_ws();
        match self.peek() {
            Some(')') => {
                self.pos += 1;
                self.open.pop();
                Ok((e, start..self.pos))
            }
            _ => Err(self.unexpected_or_eof("inside parentheses", "`)`")),
        }
    }

    pub(super) fn eat_digits(&mut self) -> usize {
        let n = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        self.pos += n;
        n
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        self.eat_digits();
        let mut float = false;
        if self.peek() == Some('.') && !self.rest().starts_with("...") {
            self.pos += 1;
            float = true;
            if self.eat_digits() == 0 {
                return Err(err(
                    format!(
                        "invalid number `{}`: expected a digit after `.`",
                        &self.src[start..self.pos]
                    ),
                    start..self.pos,
                    Some("a digit"),
                ));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if self.eat_digits() == 0 {
                self.pos = save;
            } else {
                float = true;
            }
        }
        if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            let end = self.pos
                + self
                    .rest()
                    .chars()
                    .take_while(|c| is_ident_char(*c))
                    .map(char::len_utf8)
                    .sum::<usize>();
            return Err(err(
                format!("invalid number `{}`", &self.src[start..end]),
                start..end,
                Some("a number"),
            ));
        }
        let text = &self.src[start..self.pos];
        let n = if float {
            None
        } else {
            text.parse::<i64>()
                .ok()
                .map(serde_json::Number::from)
                .or_else(|| text.parse::<u64>().ok().map(serde_json::Number::from))
        };
        let n = match n {
            Some(n) => n,
            // A whole number too large for an integer would be rounded as a float (and then
            // reported as some other number): refuse it as written.
            None if !float => {
                return Err(err(
                    format!(
                        "number `{text}` is too large: whole numbers go up to {}",
                        u64::MAX
                    ),
                    start..self.pos,
                    None,
                ));
            }
            None => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .ok_or_else(|| {
                    err(
                        format!("number `{text}` is out of range"),
                        start..self.pos,
                        None,
                    )
                })?,
        };
        Ok(Expr {
            kind: ExprKind::Literal(Value::Number(n)),
            span: start..self.pos,
        })
    }

    pub(super) fn ident(&mut self) -> String {
        let len: usize = self
            .rest()
            .chars()
            .take_while(|c| is_ident_char(*c))
            .map(char::len_utf8)
            .sum();
        let s = self.rest()[..len].to_string();
        self.pos += len;
        s
    }

    /// A keyword, a reference, or a function call, starting at an identifier; then any
    /// postfix steps after a call and a splat after a reference.
    fn ident_expr(&mut self) -> Result<Located, ParseError> {
        let start = self.pos;
        let root = self.ident();
        let root_span = start..self.pos;
        let mut steps = Vec::new();
        let mut end = self.pos;
        let mut star = None;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.peek() == Some('(') {
                if steps.iter().any(|s| matches!(s, RefStep::Index(_))) {
                    return Err(err(
                        format!(
                            "`{}` cannot be called: only a dotted name such as `lower` or `azure.role_definition_id` is a function",
                            &self.src[start..end]
                        ),
                        start..end,
                        None,
                    ));
                }
                let call = self.call(start, root, steps, end)?;
                let range = start..self.pos;
                return self.steps_after(call, range, None);
            }
            self.pos = save;
            match self.step()? {
                Some(Ok(s)) => steps.push(s),
                Some(Err(star_span)) => {
                    star = Some(star_span);
                    break;
                }
                None => break,
            }
            end = self.pos;
        }
        let keyword = match root.as_str() {
            "null" => Some(Value::Null),
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        };
        if let Some(v) = keyword {
            if steps.is_empty() && star.is_none() {
                return Ok((
                    Expr {
                        kind: ExprKind::Literal(v),
                        span: root_span.clone(),
                    },
                    root_span,
                ));
            }
            return Err(err(
                format!("`{root}` is a keyword and has no attributes"),
                start..end.max(star.as_ref().map_or(0, |s| s.end)),
                None,
            ));
        }
        let span = start..end;
        let r = Expr {
            kind: ExprKind::Ref(Reference {
                root,
                root_span,
                steps,
                span: span.clone(),
            }),
            span: span.clone(),
        };
        match star {
            None => Ok((r, span)),
            Some(star_span) => self.steps_after(r, span, Some(star_span)),
        }
    }
}

/// `target` with `steps` after it: a splat (from `[*]` at `star`), a postfix, or `target`.
fn finish(
    target: Expr,
    steps: Vec<RefStep>,
    star: Option<Range<usize>>,
    span: Range<usize>,
) -> Expr {
    let kind = match star {
        Some(star_span) => ExprKind::Splat {
            target: Box::new(target),
            star_span,
            steps,
        },
        None if steps.is_empty() => return target,
        None => ExprKind::Postfix {
            target: Box::new(target),
            steps,
        },
    };
    Expr { kind, span }
}
