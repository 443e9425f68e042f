//! A hand-written scanner and recursive-descent parser for template strings.
//!
//! The parser works directly on the source text (there is no separate token stream) because
//! string literals inside `${...}` are themselves templates: the end of an interpolation can
//! only be found by parsing it. [`template`](self) handles text, interpolations and `%{ }`
//! directives; `expr` the operators and postfix steps; `collections` lists, objects, calls
//! and for-expressions.

mod collections;
mod expr;
mod template;

use std::ops::Range;

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
    /// What to do, when the parser knows the mistake (e.g. `=>` in a list for-expression
    /// builds a map: write it in braces); `None` when only a general hint fits.
    pub help: Option<String>,
}

impl ParseError {
    /// The error with a hint shown after it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// How deeply lists, calls, groups, indexes, operators and nested strings may nest.
const MAX_DEPTH: usize = 64;

/// How many binary operators and splats one `${...}` (or directive) may hold: each one of a
/// chain (`a + b + c`, `x[*].a[*].b`) nests the tree one level deeper without nesting the
/// text, and evaluation recurses through the tree, so the number is bounded for the stack's
/// sake (a debug build overflowed a 2 MiB thread's stack at about 600).
const MAX_CHAINED: usize = 256;

/// Parses a template string: literal text with `${ expr }` interpolations (`$${` is a
/// literal `${`) and `%{ if }`/`%{ for }` directives (`%%{` is a literal `%{`). Spans in the
/// result are byte offsets into `src`.
pub fn parse_template(src: &str) -> Result<crate::ast::Template, ParseError> {
    let mut p = Parser {
        src,
        pos: 0,
        open: Vec::new(),
        depth: 0,
        chained: 0,
    };
    p.template(None)
}

/// Describes position `pos` of `src` for a message: "column 5", or "line 2, column 3" when
/// the template spans several lines. Columns count characters from 1.
pub(crate) fn location(src: &str, pos: usize) -> String {
    let (line, col) = line_col(src, pos);
    if line == 1 {
        format!("column {col}")
    } else {
        format!("line {line}, column {col}")
    }
}

/// The line and column (both from 1; columns count characters) of byte `pos` in `src`.
pub(crate) fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &src[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
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
    /// Binary operators and splats parsed so far (see [`MAX_CHAINED`]).
    chained: usize,
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
        help: None,
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

    /// Skips whitespace; true when it held a line break.
    fn skip_ws_newline(&mut self) -> bool {
        let start = self.pos;
        self.skip_ws();
        self.src[start..self.pos].contains('\n')
    }

    fn loc(&self, pos: usize) -> String {
        location(self.src, pos)
    }

    /// True when the text at the cursor is the keyword `kw` (not the start of a longer name).
    fn at_keyword(&self, kw: &str) -> bool {
        let rest = self.rest();
        rest.starts_with(kw) && !rest[kw.len()..].chars().next().is_some_and(is_ident_char)
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

    /// Runs `f` one nesting level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        if self.depth == 0 {
            // A new outermost expression: its own budget of operators.
            self.chained = 0;
        }
        self.depth += 1;
        let r = if self.depth > MAX_DEPTH {
            Err(err(
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
                self.token_span(),
                None,
            ))
        } else {
            f(self)
        };
        self.depth -= 1;
        r
    }

    /// Counts one more binary operator or splat (written at `span`), refusing to go past
    /// [`MAX_CHAINED`].
    fn chain(&mut self, span: Range<usize>) -> Result<(), ParseError> {
        self.chained += 1;
        if self.chained > MAX_CHAINED {
            return Err(err(
                format!("more than {MAX_CHAINED} operators and splats in one expression"),
                span,
                None,
            )
            .with_help(
                "split the expression into locals, or use a function over a list, as in sum([...]) or alltrue([...])",
            ));
        }
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
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(" {what}")
        };
        if c == '=' && !self.rest().starts_with("==") && !self.rest().starts_with("=>") {
            return err(
                format!(
                    "unexpected `=`{what}: expected {expected} (to compare two values, write `==`)"
                ),
                self.pos..self.pos + 1,
                Some(expected),
            );
        }
        if !is_ident_char(c) && !c.is_whitespace() {
            return err(
                format!("unexpected `{c}`{what}: expected {expected}"),
                self.pos..self.pos + c.len_utf8(),
                Some(expected),
            );
        }
        err(
            format!("unexpected `{tok}`{what}: expected {expected}"),
            span,
            Some(expected),
        )
    }
}
