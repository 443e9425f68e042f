//! Template text: literal text and escapes, `${ }` interpolations, `%{ }` directives and `~`
//! strip markers. The text is scanned into a flat list of pieces, then the directives are
//! matched into a tree (so an unclosed or mismatched directive names what is open).

use std::ops::Range;

use crate::ast::{Binding, Expr, Part, Template};

use super::{ParseError, Parser, err, is_ident_start};

/// One piece of template text before the directives are matched.
enum Piece {
    Lit(String),
    Interp(Expr),
    If(Expr, Range<usize>),
    Else(Range<usize>),
    EndIf(Range<usize>),
    For(Option<Binding>, Binding, Expr, Range<usize>),
    EndFor(Range<usize>),
}

/// A directive still open while the pieces are matched.
enum Frame {
    If {
        cond: Expr,
        span: Range<usize>,
        then: Option<Vec<Part>>,
    },
    For {
        key_var: Option<Binding>,
        value_var: Binding,
        collection: Expr,
        span: Range<usize>,
    },
}

impl Frame {
    fn span(&self) -> &Range<usize> {
        match self {
            Frame::If { span, .. } | Frame::For { span, .. } => span,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Frame::If { .. } => "`%{ if }`",
            Frame::For { .. } => "`%{ for }`",
        }
    }

    fn closer(&self) -> &'static str {
        match self {
            Frame::If { .. } => "`%{ endif }`",
            Frame::For { .. } => "`%{ endfor }`",
        }
    }
}

/// Appends literal text, merging it with literal text before it.
fn push_lit(parts: &mut Vec<Part>, s: String) {
    if s.is_empty() {
        return;
    }
    if let Some(Part::Lit(prev)) = parts.last_mut() {
        prev.push_str(&s);
    } else {
        parts.push(Part::Lit(s));
    }
}

impl Parser<'_> {
    /// Parses template text until the end of input (`string_open == None`) or until the
    /// closing quote of a string literal opened at `string_open` (escapes are then resolved).
    pub(super) fn template(
        &mut self,
        string_open: Option<(usize, char)>,
    ) -> Result<Template, ParseError> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                if let Some((q, quote)) = string_open {
                    return Err(err(
                        format!(
                            "string starting at {} is never closed: expected `{quote}`",
                            self.loc(q)
                        ),
                        q..q + 1,
                        Some(&format!("`{quote}`")),
                    ));
                }
                break;
            };
            if let Some((q, quote)) = string_open {
                if c == quote {
                    self.pos += 1;
                    break;
                }
                if c == '\\' {
                    self.escape(&mut lit, q, quote)?;
                    continue;
                }
            }
            if rest.starts_with("$${") || rest.starts_with("%%{") {
                lit.push_str(&rest[1..3]);
                self.pos += 3;
                continue;
            }
            let interp = rest.starts_with("${");
            if interp || rest.starts_with("%{") {
                if rest[2..].starts_with('~') {
                    lit.truncate(lit.trim_end().len());
                }
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                let (piece, strip_after) = if interp {
                    self.interpolation()?
                } else {
                    self.directive()?
                };
                pieces.push(piece);
                if strip_after {
                    self.skip_ws();
                }
                continue;
            }
            lit.push(c);
            self.pos += c.len_utf8();
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        self.match_directives(pieces)
    }

    /// Builds the tree of directives from the flat pieces.
    fn match_directives(&self, pieces: Vec<Piece>) -> Result<Template, ParseError> {
        let mut stack: Vec<(Frame, Vec<Part>)> = Vec::new();
        let mut parts: Vec<Part> = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Lit(s) => push_lit(&mut parts, s),
                Piece::Interp(e) => parts.push(Part::Interp(e)),
                Piece::If(cond, span) => {
                    let frame = Frame::If {
                        cond,
                        span,
                        then: None,
                    };
                    stack.push((frame, std::mem::take(&mut parts)));
                }
                Piece::For(key_var, value_var, collection, span) => {
                    let frame = Frame::For {
                        key_var,
                        value_var,
                        collection,
                        span,
                    };
                    stack.push((frame, std::mem::take(&mut parts)));
                }
                Piece::Else(span) => match stack.last_mut() {
                    Some((
                        Frame::If {
                            then: then @ None, ..
                        },
                        _,
                    )) => {
                        *then = Some(std::mem::take(&mut parts));
                    }
                    Some((Frame::If { span: open, .. }, _)) => {
                        return Err(err(
                            format!(
                                "a second `%{{ else }}` for the `%{{ if }}` at {}",
                                self.loc(open.start)
                            ),
                            span,
                            Some("`%{ endif }`"),
                        ));
                    }
                    other => {
                        let top = other.map(|t| &*t);
                        return Err(self.stray("`%{ else }`", "`%{ if }`", span, top));
                    }
                },
                Piece::EndIf(span) => match stack.pop() {
                    Some((
                        Frame::If {
                            cond,
                            span: s,
                            then,
                        },
                        outer,
                    )) => {
                        let (then, otherwise) = match then {
                            Some(t) => (t, Some(Template { parts })),
                            None => (parts, None),
                        };
                        parts = outer;
                        parts.push(Part::If {
                            cond,
                            then: Template { parts: then },
                            otherwise,
                            span: s,
                        });
                    }
                    other => {
                        return Err(self.stray("`%{ endif }`", "`%{ if }`", span, other.as_ref()));
                    }
                },
                Piece::EndFor(span) => match stack.pop() {
                    Some((
                        Frame::For {
                            key_var,
                            value_var,
                            collection,
                            span: s,
                        },
                        outer,
                    )) => {
                        let body = Template {
                            parts: std::mem::replace(&mut parts, outer),
                        };
                        parts.push(Part::For {
                            key_var,
                            value_var,
                            collection,
                            body,
                            span: s,
                        });
                    }
                    other => {
                        return Err(self.stray(
                            "`%{ endfor }`",
                            "`%{ for }`",
                            span,
                            other.as_ref(),
                        ));
                    }
                },
            }
        }
        if let Some((frame, _)) = stack.last() {
            return Err(err(
                format!(
                    "{} at {} is never closed: expected {}",
                    frame.name(),
                    self.loc(frame.span().start),
                    frame.closer()
                ),
                frame.span().clone(),
                Some(frame.closer()),
            ));
        }
        Ok(Template { parts })
    }

    /// A closing directive that does not match what is open (`top`).
    fn stray(
        &self,
        what: &str,
        opener: &str,
        span: Range<usize>,
        top: Option<&(Frame, Vec<Part>)>,
    ) -> ParseError {
        match top {
            Some((frame, _)) => err(
                format!(
                    "{} at {} is never closed: expected {} before {what}",
                    frame.name(),
                    self.loc(frame.span().start),
                    frame.closer()
                ),
                span,
                Some(frame.closer()),
            )
            .with_help(format!(
                "directives nest: close the {} with {} before {what}",
                frame.name(),
                frame.closer()
            )),
            None => {
                let shape = if opener.contains("for") {
                    "`%{ for x in list }...%{ endfor }`"
                } else if what.contains("else") {
                    "`%{ if cond }...%{ else }...%{ endif }`"
                } else {
                    "`%{ if cond }...%{ endif }`"
                };
                err(format!("{what} without an {opener} before it"), span, None).with_help(format!(
                    "{what} belongs in {shape}; for a literal `%{{` in the text, write `%%{{`"
                ))
            }
        }
    }

    /// A backslash escape inside a string literal (JSON escapes, and `\'`).
    fn escape(
        &mut self,
        out: &mut String,
        string_open: usize,
        quote: char,
    ) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1; // the backslash
        let Some(c) = self.peek() else {
            return Err(err(
                format!(
                    "string starting at {} is never closed: expected `{quote}`",
                    self.loc(string_open)
                ),
                string_open..string_open + 1,
                Some(&format!("`{quote}`")),
            ));
        };
        self.pos += c.len_utf8();
        let simple = match c {
            '"' => Some('"'),
            '\'' => Some('\''),
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
                Some(r#"one of \" \' \\ \/ \b \f \n \r \t \uXXXX"#),
            ));
        }
        let hi = self.hex4(start)?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            // A high surrogate must be followed by `\u` and a low surrogate.
            let bad = |p: &Self| {
                err(
                    "invalid unicode escape: a high surrogate must be followed by a low surrogate `\\uDC00`..`\\uDFFF`",
                    start..p.pos,
                    Some("a low surrogate escape"),
                )
            };
            if !self.rest().starts_with("\\u") {
                return Err(bad(self));
            }
            self.pos += 2;
            let lo = self.hex4(start)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(bad(self));
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

    /// Consumes a `~` strip marker at the cursor, if there is one.
    fn strip_marker(&mut self) -> bool {
        let strip = self.peek() == Some('~');
        if strip {
            self.pos += 1;
        }
        strip
    }

    /// The closing `}` of `${` or `%{` opened at `open` (after an optional `~`); true when
    /// the text after it is to be stripped of leading whitespace.
    fn close_brace(&mut self, open: usize, what: &str) -> Result<bool, ParseError> {
        self.skip_ws();
        let strip = self.strip_marker();
        let opener = &self.src[open..open + 2];
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                self.open.pop();
                Ok(strip)
            }
            None => Err(self.eof_error()),
            Some(c) => Err(self.unexpected(
                c,
                what,
                &format!("`}}` to close `{opener}` at {}", self.loc(open)),
            )),
        }
    }

    /// `${ expr }`, with the cursor at `$`.
    fn interpolation(&mut self) -> Result<(Piece, bool), ParseError> {
        let open = self.pos;
        self.push_open("${", '}')?;
        self.pos += 2;
        self.strip_marker();
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
        let strip = self.close_brace(open, "after the expression")?;
        Ok((Piece::Interp(e), strip))
    }

    /// `%{ if c }`, `%{ else }`, `%{ endif }`, `%{ for k, v in c }`, `%{ endfor }`, with the
    /// cursor at `%`.
    fn directive(&mut self) -> Result<(Piece, bool), ParseError> {
        let open = self.pos;
        self.push_open("%{", '}')?;
        self.pos += 2;
        self.strip_marker();
        self.skip_ws();
        let kw_span = self.token_span();
        let kw = &self.src[kw_span.clone()];
        let known = ["if", "else", "endif", "for", "endfor"];
        if !known.contains(&kw) {
            let found = if kw.is_empty() || kw == "}" || kw == "~" {
                "an empty directive".to_string()
            } else {
                format!("`{kw}`")
            };
            let span = if kw.is_empty() {
                open..self.pos
            } else {
                kw_span
            };
            return Err(err(
                format!(
                    "`%{{` at {} starts a directive, found {found}: expected `if`, `else`, `endif`, `for` or `endfor` (write `%%{{` for a literal `%{{`)",
                    self.loc(open)
                ),
                span,
                Some("`if`, `else`, `endif`, `for` or `endfor`"),
            ));
        }
        self.pos = kw_span.end;
        let make: Box<dyn FnOnce(Range<usize>) -> Piece> = match kw {
            "if" => {
                self.skip_ws();
                if matches!(self.peek(), Some('}' | '~') | None) {
                    return Err(err(
                        "`%{ if }` needs a condition, such as `%{ if var.enabled }`",
                        open..self.pos,
                        Some("a condition"),
                    ));
                }
                let cond = self.expr()?;
                Box::new(move |s| Piece::If(cond, s))
            }
            "for" => {
                let first = self.binding("after `for`")?;
                self.skip_ws();
                let (key, value) = if self.peek() == Some(',') {
                    self.pos += 1;
                    (Some(first), self.binding("after `,`")?)
                } else {
                    (None, first)
                };
                self.skip_ws();
                if !self.at_keyword("in") {
                    return Err(self.unexpected_or_eof("in the `%{ for }` directive", "`in`"));
                }
                self.pos += 2;
                let coll = self.expr()?;
                Box::new(move |s| Piece::For(key, value, coll, s))
            }
            "else" => Box::new(Piece::Else),
            "endif" => Box::new(Piece::EndIf),
            _ => Box::new(Piece::EndFor),
        };
        let strip = self.close_brace(open, &format!("in the `%{{ {kw} }}` directive"))?;
        Ok((make(open..self.pos), strip))
    }

    /// The error at the cursor: end of input, or an unexpected token.
    pub(super) fn unexpected_or_eof(&self, what: &str, expected: &str) -> ParseError {
        match self.peek() {
            None => self.eof_error(),
            Some(c) => self.unexpected(c, what, expected),
        }
    }

    /// A name bound by `for`: `s` in `for s in ...`.
    pub(super) fn binding(&mut self, what: &str) -> Result<Binding, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(c) if is_ident_start(c) => {
                let start = self.pos;
                let name = self.ident();
                Ok(Binding {
                    name,
                    span: start..self.pos,
                })
            }
            _ => Err(self.unexpected_or_eof(what, "a name")),
        }
    }
}
