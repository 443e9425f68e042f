//! Lists, objects, for-expressions and call arguments: the bracketed constructs.

use std::ops::Range;

use plinth_value::Value;

use crate::ast::{Binding, Expr, ExprKind, ForExpr, RefStep};

use super::{ParseError, Parser, err, is_ident_start};

impl Parser<'_> {
    /// `[a, b]` or `[for ...]`, with the cursor at `[`.
    pub(super) fn list(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        self.push_open("[", ']')?;
        self.pos += 1;
        self.skip_ws();
        if self.at_keyword("for") {
            return self.for_expr(start, false);
        }
        let items = self.comma_list(']', "after a list element")?;
        self.open.pop();
        Ok(Expr {
            kind: ExprKind::List(items),
            span: start..self.pos,
        })
    }

    /// Comma-separated expressions up to and including `closer` (trailing comma allowed).
    fn comma_list(&mut self, closer: char, what: &str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof_error()),
                Some(c) if c == closer => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => {}
            }
            items.push(self.expr()?);
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof_error()),
                Some(',') => self.pos += 1,
                Some(c) if c == closer => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(c) => return Err(self.unexpected(c, what, &format!("`,` or `{closer}`"))),
            }
        }
    }

    /// `{ key = value, ... }` or `{for ...}`, with the cursor at `{`.
    pub(super) fn object(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        self.push_open("{", '}')?;
        self.pos += 1;
        self.skip_ws();
        if self.at_keyword("for") {
            return self.for_expr(start, true);
        }
        let mut items: Vec<(Expr, Expr)> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof_error()),
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                _ => {}
            }
            let key = self.object_key()?;
            self.skip_ws();
            let rest = self.rest();
            if rest.starts_with(':') || (rest.starts_with('=') && !rest.starts_with("==")) {
                self.pos += 1;
            } else {
                return Err(self.unexpected_or_eof(
                    "after an object key",
                    "`=` and the value, as in `{ name = \"x\" }`",
                ));
            }
            let value = self.expr()?;
            if let ExprKind::Literal(Value::String(k)) = &key.kind
                && let Some((first, _)) = items
                    .iter()
                    .find(|(f, _)| matches!(&f.kind, ExprKind::Literal(Value::String(s)) if s == k))
            {
                return Err(err(
                    format!(
                        "the key {} is given twice in this object (first at {})",
                        Value::String(k.clone()),
                        self.loc(first.span.start)
                    ),
                    key.span.clone(),
                    None,
                ));
            }
            items.push((key, value));
            let newline = self.skip_ws_newline();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                None => return Err(self.eof_error()),
                Some(_) if newline => {}
                Some(c) => {
                    return Err(self.unexpected(
                        c,
                        "after an object value",
                        "`,`, a new line or `}`",
                    ));
                }
            }
        }
        self.open.pop();
        Ok(Expr {
            kind: ExprKind::Object(items),
            span: start..self.pos,
        })
    }

    /// An object key: a bare name (a string), a quoted string, or an expression.
    fn object_key(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(c) if is_ident_start(c) => {
                let name = self.ident();
                let span = start..self.pos;
                let save = self.pos;
                self.skip_ws();
                if matches!(self.peek(), Some('.' | '[' | '(')) {
                    return Err(err(
                        format!(
                            "an object key is a name or a quoted string: to use the value of an expression as the key, write it in parentheses, as in `({}) = ...`",
                            &self.src[start..self.pos].trim_end()
                        ),
                        start..self.pos + 1,
                        Some("`=`"),
                    ));
                }
                self.pos = save;
                Ok(Expr {
                    kind: ExprKind::Literal(Value::String(name)),
                    span,
                })
            }
            _ => self.expr(),
        }
    }

    /// `[for k, v in coll : value if cond]` or `{for k, v in coll : key => value... if cond}`,
    /// with the cursor at `for` (the opener at `start` is open).
    fn for_expr(&mut self, start: usize, object: bool) -> Result<Expr, ParseError> {
        self.pos += 3;
        let first = self.binding("after `for`")?;
        self.skip_ws();
        let (key_var, value_var) = if self.peek() == Some(',') {
            self.pos += 1;
            (Some(first), self.binding("after `,`")?)
        } else {
            (None, first)
        };
        self.skip_ws();
        if !self.at_keyword("in") {
            return Err(self.unexpected_or_eof("in the for-expression", "`in`"));
        }
        self.pos += 2;
        let collection = self.expr()?;
        self.skip_ws();
        if self.peek() != Some(':') {
            return Err(self.unexpected_or_eof(
                "after the collection of the for-expression",
                "`:` and the element",
            ));
        }
        self.pos += 1;
        let key = if object {
            let k = self.expr()?;
            self.skip_ws();
            if !self.rest().starts_with("=>") {
                let e = self.unexpected_or_eof(
                    "after the key of the for-expression",
                    "`=>` and the value, as in `{for k, v in m : k => v}`",
                );
                let list = format!(
                    "[for {} in {collection} : {k}]",
                    bindings(&key_var, &value_var)
                );
                return Err(e.with_help(format!(
                    "`{{for ...}}` builds a map from a key `=>` a value; to build a list, write the for-expression in brackets: `{list}`"
                )));
            }
            self.pos += 2;
            Some(k)
        } else {
            None
        };
        let value = self.expr()?;
        self.skip_ws();
        if !object && self.rest().starts_with("=>") {
            return Err(self.arrow_in_a_list(&key_var, &value_var, &collection, &value));
        }
        let mut group = false;
        if self.rest().starts_with("...") {
            if !object {
                return Err(err(
                    "`...` groups the values of equal keys, in the object form `{for s in l : s.key => s...}` only",
                    self.pos..self.pos + 3,
                    None,
                ));
            }
            group = true;
            self.pos += 3;
            self.skip_ws();
        }
        let cond = if self.at_keyword("if") {
            self.pos += 2;
            let c = self.expr()?;
            self.skip_ws();
            Some(c)
        } else {
            None
        };
        let closer = if object { '}' } else { ']' };
        if self.peek() != Some(closer) {
            let expected = if cond.is_some() {
                format!("`{closer}`")
            } else {
                format!("`if` or `{closer}`")
            };
            return Err(self.unexpected_or_eof("in the for-expression", &expected));
        }
        self.pos += 1;
        self.open.pop();
        Ok(Expr {
            kind: ExprKind::For(Box::new(ForExpr {
                key_var,
                value_var,
                collection,
                key,
                value,
                group,
                cond,
            })),
            span: start..self.pos,
        })
    }

    /// `[for ... : k => v]`, with the cursor at `=>`: a key and a value make a map, which is
    /// written in braces.
    fn arrow_in_a_list(
        &mut self,
        key_var: &Option<Binding>,
        value_var: &Binding,
        collection: &Expr,
        key: &Expr,
    ) -> ParseError {
        let at = self.pos;
        self.pos += 2;
        // The value after `=>`, for the suggestion, when it parses.
        let value = self
            .expr()
            .map_or_else(|_| "v".to_string(), |v| v.to_string());
        let names = bindings(key_var, value_var);
        err(
            "unexpected `=>` in the for-expression: `=>` builds a map, and `[for ...]` builds a list",
            at..at + 2,
            Some("`if` or `]`"),
        )
        .with_help(format!(
            "to build a map, write the for-expression in braces: `{{for {names} in {collection} : {key} => {value}}}`; to build a list, give only the element: `[for {names} in {collection} : {value}]`"
        ))
    }

    /// `name(args...)` with the cursor at `(`.
    pub(super) fn call(
        &mut self,
        start: usize,
        root: String,
        steps: Vec<RefStep>,
        name_end: usize,
    ) -> Result<Expr, ParseError> {
        let mut name = root;
        for s in steps {
            if let RefStep::Attr { name: n, .. } = s {
                name.push('.');
                name.push_str(&n);
            }
        }
        self.push_open("(", ')')?;
        self.pos += 1;
        let mut args = Vec::new();
        let mut expand_last = false;
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.eof_error()),
                Some(')') => break,
                _ => {}
            }
            args.push(self.expr()?);
            self.skip_ws();
            if self.rest().starts_with("...") {
                let dots: Range<usize> = self.pos..self.pos + 3;
                self.pos += 3;
                self.skip_ws();
                if self.peek() == Some(',') {
                    self.pos += 1;
                    self.skip_ws();
                }
                if self.peek() != Some(')') {
                    return Err(err(
                        "`...` expands the LAST argument into arguments: expected `)` after it",
                        dots,
                        Some("`)`"),
                    ));
                }
                expand_last = true;
                break;
            }
            match self.peek() {
                None => return Err(self.eof_error()),
                Some(',') => self.pos += 1,
                Some(')') => break,
                Some(c) => {
                    return Err(self.unexpected(c, "after a function argument", "`,` or `)`"));
                }
            }
        }
        self.pos += 1;
        self.open.pop();
        Ok(Expr {
            kind: ExprKind::Call {
                name,
                name_span: start..name_end,
                args,
                expand_last,
            },
            span: start..self.pos,
        })
    }
}

/// The names a for-expression binds, as written: `v` or `k, v`.
fn bindings(key_var: &Option<Binding>, value_var: &Binding) -> String {
    match key_var {
        Some(k) => format!("{}, {}", k.name, value_var.name),
        None => value_var.name.clone(),
    }
}
