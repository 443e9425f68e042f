//! A hand-written scanner and recursive-descent parser for template strings.
//!
//! The parser works directly on the source text (there is no separate token stream) because
//! string literals inside `${...}` are themselves templates: the end of an interpolation can
//! only be found by parsing it.

use std::ops::Range;

use plinth_value::Value;

use crate::ast::{Expr, ExprKind, Part, RefStep, Reference, Template};

/// A syntax error in a template string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// A sentence a user understands, e.g. "`${` at column 5 is never closed: expected `}`".
    pub message: String,
    /// Byte range in the template string that the error points at.
    pub span: Range<usize>,
    /// What the parser expected there, e.g. "`}`" or "an expression".
    pub expected: Option<String>,
}

/// How deeply lists, calls, groups, indexes and nested strings may nest.
const MAX_DEPTH: usize = 64;

/// Parses a template string: literal text with `${ expr }` interpolations (`$${` is a
/// literal `${`). Spans in the result are byte offsets into `src`.
pub fn parse_template(src: &str) -> Result<Template, ParseError> {
    let mut p = Parser {
        src,
        pos: 0,
        open: Vec::new(),
        depth: 0,
    };
    p.template(None)
}

/// Describes position `pos` of `src` for a message: "column 5", or "line 2, column 3" when
/// the template spans several lines. Columns count characters from 1.
pub(crate) fn location(src: &str, pos: usize) -> String {
    let before = &src[..pos.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    if line == 1 {
        format!("column {col}")
    } else {
        format!("line {line}, column {col}")
    }
}

/// A bracket-like construct that is open while its contents are parsed.
struct Open {
    pos: usize,
    token: &'static str,
    closer: char,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    open: Vec<Open>,
    depth: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn err(message: impl Into<String>, span: Range<usize>, expected: Option<&str>) -> ParseError {
    ParseError {
        message: message.into(),
        span,
        expected: expected.map(str::to_string),
    }
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn loc(&self, pos: usize) -> String {
        location(self.src, pos)
    }

    /// The span of the token starting at the current position (an identifier-like run, or
    /// one character).
    fn token_span(&self) -> Range<usize> {
        let rest = self.rest();
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            if i == 0 {
                end = c.len_utf8();
                if !is_ident_char(c) {
                    break;
                }
            } else if is_ident_char(c) {
                end = i + c.len_utf8();
            } else {
                break;
            }
        }
        self.pos..self.pos + end
    }

    fn push_open(&mut self, token: &'static str, closer: char) -> Result<(), ParseError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(err(
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
                self.pos..self.pos + token.len(),
                None,
            ));
        }
        self.open.push(Open {
            pos: self.pos,
            token,
            closer,
        });
        Ok(())
    }

    /// The error for running out of input: names the innermost construct still open.
    fn eof_error(&self) -> ParseError {
        match self.open.last() {
            Some(o) => err(
                format!(
                    "`{}` at {} is never closed: expected `{}`",
                    o.token,
                    self.loc(o.pos),
                    o.closer
                ),
                o.pos..o.pos + o.token.len(),
                Some(&format!("`{}`", o.closer)),
            ),
            None => err("unexpected end of the template", self.pos..self.pos, None),
        }
    }

    /// An unexpected character `c` at the current position where `expected` was wanted.
    fn unexpected(&self, c: char, what: &str, expected: &str) -> ParseError {
        let span = self.token_span();
        let tok = &self.src[span.clone()];
        if matches!(c, '}' | ')' | ']')
            && let Some(o) = self.open.last()
            && o.closer != c
        {
            return err(
                format!(
                    "`{}` at {} is never closed: expected `{}` before `{c}`",
                    o.token,
                    self.loc(o.pos),
                    o.closer
                ),
                span,
                Some(&format!("`{}`", o.closer)),
            );
        }
        if matches!(
            c,
            '+' | '-' | '*' | '/' | '%' | '=' | '<' | '>' | '!' | '&' | '|' | '?' | ':'
        ) {
            return err(
                format!(
                    "unexpected `{c}` {what}: expressions have no operators; use a function such as format() or join()"
                ),
                self.pos..self.pos + c.len_utf8(),
                Some(expected),
            );
        }
        err(
            format!("unexpected `{tok}` {what}: expected {expected}"),
            span,
            Some(expected),
        )
    }

    // ---- templates -------------------------------------------------------------------------

    /// Parses template text until the end of input (`string_open == None`) or until the
    /// closing `"` of a string literal opened at `string_open` (escapes are then resolved).
    fn template(&mut self, string_open: Option<usize>) -> Result<Template, ParseError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                if let Some(q) = string_open {
                    return Err(err(
                        format!(
                            "string starting at {} is never closed: expected `\"`",
                            self.loc(q)
                        ),
                        q..q + 1,
                        Some("`\"`"),
                    ));
                }
                break;
            };
            if string_open.is_some() && c == '"' {
                self.pos += 1;
                break;
            }
            if string_open.is_some() && c == '\\' {
                self.escape(&mut lit, string_open.unwrap_or(0))?;
                continue;
            }
            if rest.starts_with("$${") {
                lit.push_str("${");
                self.pos += 3;
                continue;
            }
            if rest.starts_with("${") {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Interp(self.interpolation()?));
                continue;
            }
            lit.push(c);
            self.pos += c.len_utf8();
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// A backslash escape inside a string literal (JSON escapes).
    fn escape(&mut self, out: &mut String, string_open: usize) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1; // the backslash
        let Some(c) = self.peek() else {
            return Err(err(
                format!(
                    "string starting at {} is never closed: expected `\"`",
                    self.loc(string_open)
                ),
                string_open..string_open + 1,
                Some("`\"`"),
            ));
        };
        self.pos += c.len_utf8();
        let simple = match c {
            '"' => Some('"'),
            '\\' => Some('\\'),
            '/' => Some('/'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            return Ok(());
        }
        if c != 'u' {
            return Err(err(
                format!("invalid escape `\\{c}` in a string"),
                start..self.pos,
                Some(r#"one of \" \\ \/ \b \f \n \r \t \uXXXX"#),
            ));
        }
        let hi = self.hex4(start)?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            // A high surrogate must be followed by `\u` and a low surrogate.
            if !self.rest().starts_with("\\u") {
                return Err(err(
                    "invalid unicode escape: a high surrogate must be followed by a low surrogate `\\uDC00`..`\\uDFFF`",
                    start..self.pos,
                    Some("a low surrogate escape"),
                ));
            }
            self.pos += 2;
            let lo = self.hex4(start)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(err(
                    "invalid unicode escape: a high surrogate must be followed by a low surrogate `\\uDC00`..`\\uDFFF`",
                    start..self.pos,
                    Some("a low surrogate escape"),
                ));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        match char::from_u32(code) {
            Some(ch) => {
                out.push(ch);
                Ok(())
            }
            None => Err(err(
                "invalid unicode escape: a lone low surrogate is not a character",
                start..self.pos,
                None,
            )),
        }
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, ParseError> {
        let digits: String = self
            .rest()
            .chars()
            .take(4)
            .take_while(char::is_ascii_hexdigit)
            .collect();
        if digits.len() != 4 {
            return Err(err(
                "invalid unicode escape: `\\u` must be followed by 4 hexadecimal digits",
                escape_start..self.pos + digits.len(),
                Some("4 hexadecimal digits"),
            ));
        }
        self.pos += 4;
        Ok(u32::from_str_radix(&digits, 16).unwrap_or(0))
    }

    /// `${ expr }`, with the cursor at `$`.
    fn interpolation(&mut self) -> Result<Expr, ParseError> {
        let open = self.pos;
        self.push_open("${", '}')?;
        self.pos += 2;
        self.skip_ws();
        match self.peek() {
            None => return Err(self.eof_error()),
            Some('}') => {
                return Err(err(
                    format!(
                        "empty `${{}}` at {}: write an expression inside, such as `${{var.name}}`, or `$${{` for a literal `${{`",
                        self.loc(open)
                    ),
                    open..self.pos + 1,
                    Some("an expression"),
                ));
            }
            _ => {}
        }
        let e = self.expr()?;
        self.skip_ws();
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                self.open.pop();
                Ok(e)
            }
            None => Err(self.eof_error()),
            Some(c) => Err(self.unexpected(
                c,
                "after the expression",
                &format!("`}}` to close `${{` at {}", self.loc(open)),
            )),
        }
    }

    // ---- expressions -----------------------------------------------------------------------

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        let r = if self.depth > MAX_DEPTH {
            Err(err(
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
                self.token_span(),
                None,
            ))
        } else {
            self.expr_inner()
        };
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.eof_error());
        };
        match c {
            '"' => {
                self.push_open("\"", '"')?;
                self.pos += 1;
                let t = self.template(Some(start))?;
                self.open.pop();
                let kind = match t.literal_text() {
                    Some(s) => ExprKind::Literal(Value::String(s)),
                    None => ExprKind::Template(t),
                };
                Ok(Expr {
                    kind,
                    span: start..self.pos,
                })
            }
            '[' => self.list(),
            '(' => self.group(),
            '-' | '0'..='9' => self.number(),
            c if is_ident_start(c) => self.ident_expr(),
            c => {
                let span = self.token_span();
                if matches!(c, '}' | ')' | ']')
                    && let Some(o) = self.open.last()
                    && o.closer != c
                {
                    return Err(self.unexpected(c, "", "an expression"));
                }
                Err(err(
                    format!(
                        "expected an expression, found `{}`",
                        &self.src[span.clone()]
                    ),
                    span,
                    Some("an expression"),
                ))
            }
        }
    }

    fn list(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        self.push_open("[", ']')?;
        self.pos += 1;
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

    fn group(&mut self) -> Result<Expr, ParseError> {
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
            None => Err(self.eof_error()),
            Some(')') => {
                self.pos += 1;
                self.open.pop();
                Ok(e)
            }
            Some(c) => Err(self.unexpected(c, "inside parentheses", "`)`")),
        }
    }

    fn eat_digits(&mut self) -> usize {
        let n = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        self.pos += n;
        n
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(err(
                    "`-` must be followed by a number: expressions have no operators",
                    start..start + 1,
                    Some("a digit"),
                ));
            }
        }
        self.eat_digits();
        let mut float = false;
        if self.peek() == Some('.') {
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

    fn ident(&mut self) -> String {
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

    /// A keyword, a reference, or a function call, starting at an identifier.
    fn ident_expr(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        let root = self.ident();
        let root_span = start..self.pos;
        let mut steps = Vec::new();
        let mut end = self.pos;
        loop {
            let save = self.pos;
            self.skip_ws();
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    self.skip_ws();
                    let s = self.pos;
                    match self.peek() {
                        Some(c) if is_ident_start(c) => {
                            let name = self.ident();
                            steps.push(RefStep::Attr {
                                name,
                                span: s..self.pos,
                            });
                            end = self.pos;
                        }
                        Some(c) if c.is_ascii_digit() => {
                            let n = self.eat_digits();
                            return Err(err(
                                format!(
                                    "`.{}` is not an attribute name: index a list with `[{}]`",
                                    &self.src[s..s + n],
                                    &self.src[s..s + n]
                                ),
                                s..s + n,
                                Some("an attribute name"),
                            ));
                        }
                        None => return Err(self.eof_error()),
                        Some(c) => {
                            return Err(self.unexpected(c, "after `.`", "an attribute name"));
                        }
                    }
                }
                Some('[') => {
                    self.push_open("[", ']')?;
                    self.pos += 1;
                    let e = self.expr()?;
                    self.skip_ws();
                    match self.peek() {
                        None => return Err(self.eof_error()),
                        Some(']') => self.pos += 1,
                        Some(c) => return Err(self.unexpected(c, "in an index", "`]`")),
                    }
                    self.open.pop();
                    steps.push(RefStep::Index(e));
                    end = self.pos;
                }
                Some('(') => {
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
                    return self.call(start, root, steps, end);
                }
                _ => {
                    self.pos = save;
                    break;
                }
            }
        }
        let keyword = match root.as_str() {
            "null" => Some(Value::Null),
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        };
        if let Some(v) = keyword {
            if steps.is_empty() {
                return Ok(Expr {
                    kind: ExprKind::Literal(v),
                    span: root_span,
                });
            }
            return Err(err(
                format!("`{root}` is a keyword and has no attributes"),
                start..end,
                None,
            ));
        }
        let span = start..end;
        Ok(Expr {
            kind: ExprKind::Ref(Reference {
                root,
                root_span,
                steps,
                span: span.clone(),
            }),
            span,
        })
    }

    /// `name(args...)` with the cursor at `(`.
    fn call(
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
        let args = self.comma_list(')', "after a function argument")?;
        self.open.pop();
        let end = self.pos;
        // A call's result cannot be indexed: the AST has no place for it.
        let save = self.pos;
        self.skip_ws();
        if let Some(c @ ('.' | '[')) = self.peek() {
            return Err(err(
                format!("the result of `{name}(...)` cannot be indexed with `{c}`"),
                self.pos..self.pos + 1,
                None,
            ));
        }
        self.pos = save;
        Ok(Expr {
            kind: ExprKind::Call {
                name,
                name_span: start..name_end,
                args,
                expand_last: false,
            },
            span: start..end,
        })
    }
}
