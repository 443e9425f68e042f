//! `plinth console`: expressions evaluated against the configuration and the state, as
//! `terraform console` evaluates them.
//!
//! A [`Console`] is read-only: it is built from a [`Workspace`] and a loaded state, never
//! writes state and takes no lock, and talks to no provider except for its functions. What
//! an expression sees:
//!
//! - every managed resource and data source in state, with its recorded value
//!   ([`record_value`]: sensitive attributes stay marked), instances of `count` as a list
//!   and of `for_each` as a map, as the planner's values are;
//! - what the configuration declares but state does not hold, as "known after apply" (and
//!   so are the attributes a record of a create still pending lacks);
//! - locals, evaluated once in graph order against those values (one that fails is an
//!   error only where it is used, pointing at its place in the configuration);
//! - `var.*`, `env.*`, `path.*`, provider functions and the files the configuration read;
//! - `module.NAME` (`module.app["a"].client_id`, or `module.app`: every instance), evaluated
//!   through the module tree as apply does: the call's `for_each`/`count` and inputs in the
//!   caller, each output in its module instance over the recorded values (what that
//!   instance declares but state lacks is known after apply). A module's locals are its
//!   own: `local.x` at the console is the root's.
//!
//! A name neither the configuration nor the state declares is an error with the nearest
//! name. Input is one expression (`upper("x")`, `local.tags`), optionally wrapped whole in
//! `${...}`; [`Console::is_incomplete`] tells a REPL when to read another line.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::PathBuf;

use plinth_config::{Diagnostic, Diagnostics, FileId, Loc, Sources};
use plinth_expr::{
    Context, EvalError, ParseError, Part, Reference, ResolvedStep, Template, parse_template,
};
use plinth_state::State;
use plinth_value::Value;

use crate::addr::{Address, DeclKind};
use crate::graph::Decl;
use crate::scope::{Iteration, Scope, Values};
use crate::workspace::Workspace;

/// The name diagnostics give the text typed at the console.
pub const CONSOLE_FILE: &str = "<console>";

/// Root names that are not declarations: what a misspelt root may have meant besides a
/// resource's name.
const ROOTS: [&str; 6] = ["var", "local", "data", "path", "env", "module"];

/// Evaluates expressions against a configuration and a state (see the module docs).
pub struct Console<'a> {
    workspace: Workspace<'a>,
    /// The module tree: `module.NAME` is evaluated through it, each module instance's
    /// outputs in its own scope over the values of state (as apply evaluates them).
    tree: crate::tree::ModTree<'a>,
    values: Values,
    /// Managed resources the configuration declares or the state holds, for suggestions.
    resources: BTreeSet<String>,
    /// Data sources likewise.
    data: BTreeSet<String>,
    /// Locals whose evaluation failed, with the located reason.
    failed_locals: HashMap<String, Diagnostic>,
}

impl<'a> Console<'a> {
    /// A console over `workspace` and `state` (`None`: nothing applied yet). Fails with the
    /// configuration's problems, as `validate` reports them, and with a dependency cycle.
    pub fn new(workspace: Workspace<'a>, state: Option<&State>) -> Result<Self, Diagnostics> {
        let config = workspace.config;
        let problems = crate::validate(config, workspace.registry);
        if !problems.is_empty() {
            return Err(problems);
        }
        let graph = crate::graph::build(config, workspace.registry).map_err(Diagnostics::from)?;

        let records = state.into_iter().flat_map(|s| s.resources.values());
        let mut values = crate::state_values::state_values(workspace.registry, records);
        let mut resources = BTreeSet::new();
        let mut data = BTreeSet::new();
        for record in state.into_iter().flat_map(|s| s.resources.values()) {
            let Ok(addr) = record.address.parse::<Address>() else {
                continue;
            };
            if record.deposed || !addr.module.is_empty() {
                continue;
            }
            match addr.kind {
                DeclKind::Resource => resources.insert(addr.name.clone()),
                DeclKind::Data => data.insert(addr.name.clone()),
                _ => continue,
            };
        }
        for r in &config.resources {
            if values.get(r.mode, &r.name).is_none() {
                values.set_unknown(&[], r.mode, &r.name);
            }
            match r.mode {
                DeclKind::Data => data.insert(r.name.clone()),
                _ => resources.insert(r.name.clone()),
            };
        }

        // Every dependency of a local comes before it, so each sees the ones it uses.
        let order = graph.dag.topo_order().unwrap_or_default();
        let mut failed_locals = HashMap::new();
        for id in order {
            let Decl::Local(crate::tree::ROOT, i) = *graph.dag.node(id) else {
                continue;
            };
            let decl = &config.locals[i];
            let result = decl.value.eval(&workspace.scope(&values, Iteration::None));
            match result {
                Ok(v) => {
                    let complete = v.is_wholly_known();
                    let addr = Address::new(DeclKind::Local, decl.name.clone(), None);
                    values.set(&addr, v, complete);
                }
                Err(d) => {
                    failed_locals.insert(decl.name.clone(), d);
                }
            }
        }
        Ok(Console {
            workspace,
            tree: crate::tree::ModTree::new(config),
            values,
            resources,
            data,
            failed_locals,
        })
    }

    /// The file id diagnostics of [`eval`](Self::eval) use for the typed text: the one
    /// [`sources`](Self::sources) gives it.
    fn console_file(&self) -> FileId {
        self.workspace.config.sources.files().len()
    }

    /// The sources to render a diagnostic of [`eval`](Self::eval) with: the configuration's
    /// files (a failing local points into them) and `text`, named [`CONSOLE_FILE`].
    pub fn sources(&self, text: &str) -> Sources {
        let mut sources = self.workspace.config.sources.clone();
        sources.add(
            CONSOLE_FILE.to_string(),
            PathBuf::from(CONSOLE_FILE),
            text.to_string(),
        );
        sources
    }

    /// Parses `text` as one expression and evaluates it. Errors are located in `text`
    /// (render them with [`sources`](Self::sources)`(text)`).
    pub fn eval(&self, text: &str) -> Result<Value, Diagnostic> {
        let file = self.console_file();
        let at = |span: Range<usize>| Loc::new(file, span);
        let input = Input::parse(text).map_err(|e| {
            let d = Diagnostic::at(e.message, at(e.span)).maybe_help(e.help);
            match e.expected {
                Some(x) => d.label(format!("expected {x}")),
                None => d,
            }
        })?;
        let mut scope = self.workspace.scope(&self.values, Iteration::None);
        scope.tree = Some(&self.tree);
        scope.lazy = true;
        let cx = ConsoleContext {
            console: self,
            scope,
            failed_local: RefCell::new(None),
        };
        let Some(expr) = input.template.single_expr() else {
            // Input::parse returns only templates of one expression.
            return Err(Diagnostic::at("expected one expression", at(0..text.len())));
        };
        plinth_expr::eval_expr(expr, &cx).map_err(|e| {
            let mut d = Diagnostic::at(e.located_message(), at(input.map(&e.span, text.len())))
                .maybe_help(e.help);
            if let Some(inner) = cx.failed_local.take()
                && let Some(loc) = inner.loc
            {
                d = d.related(loc, inner.message);
            }
            d
        })
    }

    /// True when `text` is the start of an expression that goes on: a bracket, parenthesis,
    /// brace, `${` or string is still open at its end. A REPL then reads another line.
    pub fn is_incomplete(text: &str) -> bool {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return false;
        }
        if trimmed.starts_with("${") {
            return parse_template(trimmed).is_err_and(|e| open_at_end(&e));
        }
        // Without a closing `}`, an expression complete so far ends with the wrapper's `${`
        // still open; one that goes on, with something it opened itself.
        parse_template(&format!("{WRAP}{text}"))
            .is_err_and(|e| open_at_end(&e) && e.span.start >= WRAP.len())
    }
}

/// What typed text is parsed after: `${` on a line of its own, so that every position in the
/// text is on a line of the source after the first and keeps its column.
const WRAP: &str = "${\n";

/// A parse error for running out of input while something is open (not a stray closer).
fn open_at_end(e: &ParseError) -> bool {
    e.message.contains("is never closed: expected") && !e.message.contains(" before ")
}

/// Typed text parsed as a template of exactly one expression, with how its spans map back.
#[derive(Debug)]
struct Input {
    template: Template,
    /// Bytes the parsed source starts before the typed text (the wrapper), or, as a
    /// negative number, after it (leading whitespace trimmed off).
    shift: isize,
}

impl Input {
    /// Parses `text`: `${...}` as typed, anything else as the expression inside one.
    fn parse(text: &str) -> Result<Input, ParseError> {
        if text.trim_start().starts_with("${") {
            return Self::parse_wrapped(text);
        }
        let shift = WRAP.len() as isize;
        // Line 1 of the source is the wrapper: a message naming the `${` it opened means the
        // end of the expression.
        let unwrap = |s: &str| {
            relocate(
                &s.replace(
                    "`}` to close `${` at column 1",
                    "nothing more (the console evaluates one expression at a time)",
                ),
                |line, col| (line.saturating_sub(1).max(1), col),
            )
        };
        let relocate = |e: ParseError| ParseError {
            message: unwrap(&e.message),
            span: map_span(shift, &e.span, text.len()),
            expected: e.expected.as_deref().map(unwrap),
            help: e.help.as_deref().map(unwrap),
        };
        match parse_template(&format!("{WRAP}{text}")) {
            // The text closed the wrapper itself: a `}` with nothing open.
            Ok(t) => {
                let after = match t.parts.first() {
                    Some(Part::Interp(e)) => e.span.end,
                    _ => 0,
                };
                let source = format!("{WRAP}{text}");
                let close = source[after..].find('}').map_or(after, |i| after + i);
                Err(ParseError {
                    message: "unexpected `}`: nothing is open for it to close".to_string(),
                    span: map_span(shift, &(close..close + 1), text.len()),
                    expected: Some("the end of the expression".to_string()),
                    help: None,
                })
            }
            // Complete so far: only the wrapper is open.
            Err(e) if open_at_end(&e) && e.span.start < WRAP.len() => {
                match parse_template(&format!("{WRAP}{text}\n}}")) {
                    Ok(template) if template.single_expr().is_some() => {
                        Ok(Input { template, shift })
                    }
                    Ok(_) => Err(ParseError {
                        message: "expected one expression".to_string(),
                        span: 0..text.len(),
                        expected: None,
                        help: None,
                    }),
                    // An error at the wrapper's `}`: the text stopped half-way.
                    Err(e) if e.span.start >= WRAP.len() + text.len() => {
                        let expected = e.expected.unwrap_or_else(|| "more".to_string());
                        Err(ParseError {
                            message: format!("the expression ends too early: expected {expected}"),
                            span: text.len()..text.len(),
                            expected: Some(expected),
                            help: None,
                        })
                    }
                    Err(e) => Err(relocate(e)),
                }
            }
            Err(e) => Err(relocate(e)),
        }
    }

    /// Parses text that is `${...}` itself (around whitespace).
    fn parse_wrapped(text: &str) -> Result<Input, ParseError> {
        let trimmed = text.trim();
        let lead = &text[..text.len() - text.trim_start().len()];
        let shift = -(lead.len() as isize);
        // Positions in `trimmed` are positions in `text` after `lead`.
        let lead_lines = lead.matches('\n').count();
        let lead_cols = lead.rsplit('\n').next().map_or(0, |l| l.chars().count());
        let relocate = |e: ParseError| ParseError {
            message: relocate(&e.message, |line, col| match line {
                1 => (1 + lead_lines, col + lead_cols),
                l => (l + lead_lines, col),
            }),
            span: map_span(shift, &e.span, text.len()),
            ..e
        };
        let template = parse_template(trimmed).map_err(relocate)?;
        if template.single_expr().is_some() {
            return Ok(Input { template, shift });
        }
        let after = match template.parts.first() {
            Some(Part::Interp(e)) => e.span.end,
            _ => 0,
        };
        let close = trimmed[after..].find('}').map_or(after, |i| after + i + 1);
        Err(ParseError {
            message: "the console evaluates one expression: text follows the `${...}`".to_string(),
            span: map_span(shift, &(close..trimmed.len()), text.len()),
            expected: Some(
                "the end of the input (to build a string, quote it: \"${a}-${b}\")".to_string(),
            ),
            help: None,
        })
    }

    /// A span of the parsed source as a span of the typed text (of length `len`).
    fn map(&self, span: &Range<usize>, len: usize) -> Range<usize> {
        map_span(self.shift, span, len)
    }
}

/// A span of a source parsed `shift` bytes before the typed text (of length `len`) as a span
/// of the typed text, clamped to it.
fn map_span(shift: isize, span: &Range<usize>, len: usize) -> Range<usize> {
    let one = |p: usize| (p as isize - shift).clamp(0, len as isize) as usize;
    let (start, end) = (one(span.start), one(span.end));
    start..end.max(start)
}

/// Rewrites the places a parser message names (`column C`, `line L, column C`, in the
/// parsed source) as places in the typed text: `at(line, column)`.
fn relocate(message: &str, at: impl Fn(usize, usize) -> (usize, usize)) -> String {
    const COLUMN: &str = "column ";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(COLUMN) {
        let tail = &rest[i + COLUMN.len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(col) = tail[..digits].parse::<usize>() else {
            out.push_str(&rest[..i + COLUMN.len()]);
            rest = tail;
            continue;
        };
        // "line L, " just before it, or the first line.
        let before = &rest[..i];
        let with_line = before.strip_suffix(", ").and_then(|b| {
            let d = b.bytes().rev().take_while(u8::is_ascii_digit).count();
            let line = b[b.len() - d..].parse::<usize>().ok()?;
            let start = b[..b.len() - d].strip_suffix("line ")?.len();
            Some((start, line))
        });
        let (start, line) = with_line.unwrap_or((i, 1));
        out.push_str(&rest[..start]);
        let (line, col) = at(line, col);
        if line == 1 {
            out.push_str(&format!("column {col}"));
        } else {
            out.push_str(&format!("line {line}, column {col}"));
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// What a console expression sees: the scope the planner would give it, with names that
/// neither the configuration nor the state declares reported with the nearest name.
struct ConsoleContext<'c> {
    console: &'c Console<'c>,
    scope: Scope<'c>,
    /// The diagnostic of a failed local the expression used, to point at it.
    failed_local: RefCell<Option<Diagnostic>>,
}

/// The name after a root (`tags` of `local.tags`).
fn name_after(steps: &[ResolvedStep]) -> Option<&str> {
    match steps.first() {
        Some(ResolvedStep::Attr(n)) => Some(n.as_str()),
        _ => None,
    }
}

impl Context for ConsoleContext<'_> {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        let console = self.console;
        match r.root.as_str() {
            "local" => {
                if let Some(name) = name_after(steps)
                    && let Some(d) = console.failed_locals.get(name)
                {
                    let e = EvalError::new(
                        format!("`local.{name}` cannot be evaluated: {}", d.message),
                        r.root_span.start..r.step_span(0).end,
                    );
                    let e = match &d.help {
                        Some(h) => e.with_help(h.clone()),
                        None => e,
                    };
                    *self.failed_local.borrow_mut() = Some(d.clone());
                    return Err(e);
                }
                self.scope.lookup(r, steps)
            }
            "data" => {
                if let Some(name) = name_after(steps)
                    && !console.data.contains(name)
                {
                    let e = EvalError::new(
                        format!(
                            "there is no data source `data.{name}` in the configuration or the state"
                        ),
                        r.root_span.start..r.step_span(0).end,
                    );
                    let names = console.data.iter().map(String::as_str);
                    return Err(match plinth_config::did_you_mean(name, names) {
                        Some(s) => e.with_help(format!("did you mean `data.{s}`?")),
                        None => e,
                    });
                }
                self.scope.lookup(r, steps)
            }
            "var" | "env" | "path" | "each" | "count" | "module" => self.scope.lookup(r, steps),
            name if !console.resources.contains(name) => {
                let e = EvalError::new(
                    format!(
                        "unknown name `{name}`: the configuration and the state have no resource of that name"
                    ),
                    r.root_span.clone(),
                );
                let candidates = console.resources.iter().map(String::as_str).chain(ROOTS);
                Err(match plinth_config::did_you_mean(name, candidates) {
                    Some(s) => e.with_help(format!("did you mean `{s}`?")),
                    None => e.with_help(
                        "a reference starts with a resource's name, or with var., local., data., path. or env.",
                    ),
                })
            }
            _ => self.scope.lookup(r, steps),
        }
    }

    fn call_external(
        &self,
        name: &str,
        args: &[Value],
        span: Range<usize>,
    ) -> Option<Result<Value, EvalError>> {
        self.scope.call_external(name, args, span)
    }

    fn external_functions(&self) -> Vec<String> {
        self.scope.external_functions()
    }

    fn read_file(&self, path: &str) -> Result<Option<String>, String> {
        // The console does no I/O either: it sees the files the configuration read.
        match self.console.workspace.config.files.get(path) {
            Some(f) => Ok(f.text.clone()),
            None => Err(format!(
                "`{path}` is not a file the configuration reads: the console sees only the files that file(), fileexists() and templatefile() calls of the configuration name"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_still_open_at_its_end_is_incomplete() {
        for text in [
            "[for s in var.xs :",
            "[for s in var.xs :\n  upper(s)",
            "{ a = 1",
            "upper(\"x\"",
            "\"abc",
            "\"abc ${var.x",
            "${upper(var.x)",
            "lookup({a = 1}, ",
        ] {
            assert!(Console::is_incomplete(text), "{text:?} goes on");
        }
    }

    #[test]
    fn complete_or_broken_input_is_not_incomplete() {
        for text in [
            "",
            "   ",
            "upper(\"x\")",
            "[for s in var.xs : s]",
            "${var.x}",
            // Broken, not unfinished: another line would not help.
            "1 +",
            "upper(\"x\"))",
            "[1, 2}",
            "{ a = 1 ]",
        ] {
            assert!(!Console::is_incomplete(text), "{text:?} is finished");
        }
    }

    #[test]
    fn spans_map_back_to_the_typed_text() {
        let input = Input::parse("upper(x)").unwrap();
        let e = input.template.single_expr().unwrap();
        assert_eq!(input.map(&e.span, 8), 0..8);
        let input = Input::parse("  ${upper(x)}").unwrap();
        let e = input.template.single_expr().unwrap();
        assert_eq!(&"  ${upper(x)}"[input.map(&e.span, 13)], "upper(x)");
    }

    #[test]
    fn syntax_errors_point_into_the_typed_text() {
        let e = Input::parse("[1, 2}").err().unwrap();
        assert_eq!(e.span, 5..6, "{e:?}");
        let e = Input::parse("1 } + 2").err().unwrap();
        assert_eq!(e.span, 2..3, "{e:?}");
        assert!(e.message.contains("unexpected `}`"), "{e:?}");
        let e = Input::parse("${a}-${b}").err().unwrap();
        assert!(e.message.contains("one expression"), "{e:?}");
        let e = Input::parse("upper(").err().unwrap();
        assert_eq!(e.message, "`(` at column 6 is never closed: expected `)`");
        assert_eq!(e.span, 5..6, "{e:?}");
        let e = Input::parse("[1,\n upper(2").err().unwrap();
        assert_eq!(
            e.message,
            "`(` at line 2, column 7 is never closed: expected `)`"
        );
        let e = Input::parse("1 +").err().unwrap();
        assert!(e.message.contains("ends too early"), "{e:?}");
        assert_eq!(e.span, 3..3);
        let e = Input::parse("1 2").err().unwrap();
        assert!(e.message.contains("expected nothing more"), "{e:?}");
        assert_eq!(e.span, 2..3);
    }
}
