//! The functions the evaluator implements itself, because they need more than evaluated
//! arguments: `try` and `can` see errors, `file`, `fileexists` and `templatefile` read the
//! configuration's files through [`Context::read_file`].

use std::ops::Range;

use plinth_value::{Map, Value};

use crate::ast::{Expr, Reference};
use crate::error::{EvalError, InFile};
use crate::functions::EVALUATOR_FUNCTIONS;
use crate::parser::{line_col, parse_template};
use crate::steps::{ResolvedStep, walk_reference};
use crate::values::{mark, type_article};

use super::{Context, Cx, eval, template, unknown_name};

/// Evaluates `name(args)` when `name` is a special form; `None` otherwise.
pub(super) fn call(
    name: &str,
    args: &[Expr],
    expand_last: bool,
    span: &Range<usize>,
    cx: &Cx<'_>,
) -> Option<Result<Value, EvalError>> {
    if !EVALUATOR_FUNCTIONS.contains(&name) {
        return None;
    }
    if expand_last {
        return Some(Err(EvalError::new(
            format!("{name}() cannot take its arguments from a list with `...`"),
            span.clone(),
        )));
    }
    let (min, max, example) = match name {
        "try" => (1, usize::MAX, "try(var.settings.size, \"small\")"),
        "can" => (1, 1, "can(regex(\"^[a-z]+$\", var.name))"),
        "templatefile" => (2, 2, "templatefile(\"init.tftpl\", { name = var.name })"),
        "file" => (1, 1, "file(\"scripts/init.sh\")"),
        _ => (1, 1, "fileexists(\"custom.json\")"),
    };
    if args.len() < min || args.len() > max {
        let count = match (min, max) {
            (1, usize::MAX) => "at least 1 argument".to_string(),
            (1, 1) => "1 argument".to_string(),
            (n, _) => format!("{n} arguments"),
        };
        let at = super::calls::surplus(args, Some(max)).unwrap_or(span.clone());
        return Some(Err(EvalError::new(
            format!("{name}() expects {count}, got {}", args.len()),
            at,
        )
        .with_help(format!("for example: {example}"))));
    }
    Some(match name {
        "try" => try_(args, cx),
        "can" => Ok(match eval(&args[0], cx) {
            Ok(v) if v.is_wholly_known() => Value::Bool(true),
            Ok(_) => Value::Unknown,
            Err(_) => Value::Bool(false),
        }),
        "templatefile" => templatefile(&args[0], &args[1], span, cx),
        _ => file(name, &args[0], cx),
    })
}

/// `try(a, b, ...)`: the first argument that evaluates without an error.
fn try_(args: &[Expr], cx: &Cx<'_>) -> Result<Value, EvalError> {
    let mut first: Option<EvalError> = None;
    for a in args {
        match eval(a, cx) {
            Ok(v) if v.is_wholly_known() => return Ok(v),
            Ok(v) => return Ok(mark(Value::Unknown, v.contains_sensitive())),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    let Some(first) = first else {
        return Err(EvalError::new(
            "try() expects at least 1 argument, got 0",
            0..0,
        ));
    };
    let help = first.help.clone().unwrap_or_else(|| {
        "end the arguments with one that cannot fail, such as a default value".to_string()
    });
    Err(EvalError::new(
        format!(
            "every argument of try() failed; the first: {}",
            first.message
        ),
        first.span,
    )
    .with_help(help))
}

/// The path argument of a file function: `Ok(Err(v))` when it is unknown (`v` is the
/// result), `Ok(Ok((path, sensitive)))` otherwise.
fn path_arg(name: &str, e: &Expr, cx: &Cx<'_>) -> Result<Result<(String, bool), Value>, EvalError> {
    let v = eval(e, cx)?;
    let sensitive = v.contains_sensitive();
    match v.unmarked() {
        Value::String(s) => Ok(Ok((s.clone(), sensitive))),
        Value::Unknown => Ok(Err(mark(Value::Unknown, sensitive))),
        other => Err(EvalError::new(
            format!(
                "{name}() expects a path string, got {}",
                type_article(other)
            ),
            e.span.clone(),
        )),
    }
}

/// Reads `path` through the context; `Ok(None)` when there is no such file. The context's
/// message may quote the path, so a `sensitive` path gets a message of its own.
fn read(cx: &Cx<'_>, path: &str, sensitive: bool, e: &Expr) -> Result<Option<String>, EvalError> {
    cx.ctx.read_file(path).map_err(|m| {
        let m = if sensitive {
            "the path is sensitive, and it is not a file the configuration reads".to_string()
        } else {
            m
        };
        EvalError::new(m, e.span.clone())
    })
}

/// `file(path)` and `fileexists(path)`.
fn file(name: &str, e: &Expr, cx: &Cx<'_>) -> Result<Value, EvalError> {
    let (path, sensitive) = match path_arg(name, e, cx)? {
        Ok(p) => p,
        Err(v) => return Ok(v),
    };
    let text = read(cx, &path, sensitive, e)?;
    let v = match (name, text) {
        ("fileexists", t) => Value::Bool(t.is_some()),
        (_, Some(t)) => Value::String(t),
        (_, None) => {
            let shown = if sensitive {
                "there is no such file".to_string()
            } else {
                format!("there is no file {}", Value::String(path))
            };
            return Err(EvalError::new(shown, e.span.clone())
                .with_help("paths are relative to the configuration directory; fileexists() tests whether a file is there"));
        }
    };
    Ok(mark(v, sensitive))
}

/// What a template file sees: the keys of `templatefile()`'s second argument and the
/// built-in functions (files are read through the configuration's context).
struct FileScope<'a> {
    vars: &'a Map,
    outer: &'a dyn Context,
}

impl Context for FileScope<'_> {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        match self.vars.get(&r.root) {
            Some(v) => walk_reference(v, r, steps),
            None => {
                let e = unknown_name(r, self.vars.keys().map(String::as_str));
                match e.help {
                    Some(_) => Err(e),
                    None => Err(e.with_help(
                        "a template file sees only the keys of templatefile()'s second argument",
                    )),
                }
            }
        }
    }

    fn read_file(&self, path: &str) -> Result<Option<String>, String> {
        self.outer.read_file(path)
    }

    fn file_source(&self, path: &str) -> Option<usize> {
        self.outer.file_source(path)
    }
}

/// `templatefile(path, vars)`: the file parsed as a template and evaluated with only `vars`.
fn templatefile(
    path_e: &Expr,
    vars_e: &Expr,
    call_span: &Range<usize>,
    cx: &Cx<'_>,
) -> Result<Value, EvalError> {
    if cx.in_template_file {
        return Err(EvalError::new(
            "templatefile() cannot be called inside a template file",
            call_span.clone(),
        )
        .with_help("render the inner template outside and pass the text in the variables"));
    }
    let (path, path_secret) = match path_arg("templatefile", path_e, cx)? {
        Ok(p) => p,
        Err(v) => return Ok(v),
    };
    let vars = eval(vars_e, cx)?;
    let vars_secret = vars.is_sensitive();
    let map = match vars.unmarked() {
        Value::Map(m) => m,
        Value::Unknown => return Ok(mark(Value::Unknown, vars_secret || path_secret)),
        other => {
            return Err(EvalError::new(
                format!(
                    "templatefile() expects a map of the template's names as its second argument, got {}",
                    type_article(other)
                ),
                vars_e.span.clone(),
            )
            .with_help("for example: templatefile(\"init.tftpl\", { name = var.name })"));
        }
    };
    let Some(text) = read(cx, &path, path_secret, path_e)? else {
        let shown = if path_secret {
            "there is no such template file".to_string()
        } else {
            format!("there is no template file {}", Value::String(path))
        };
        return Err(EvalError::new(shown, path_e.span.clone()));
    };
    // Errors inside the file say where in it; a secret path is never shown, so the place is
    // then only described ("in the template file line 2, column 5: ...").
    let place = |span: Range<usize>, message: String, help: Option<String>| {
        let (line, column) = line_col(&text, span.start);
        let mut e = EvalError::new(message, call_span.clone());
        e.help = help;
        if path_secret {
            e.message = format!(
                "in the template file line {line}, column {column}: {}",
                e.message
            );
        } else {
            e.file = Some(InFile {
                path: path.clone(),
                span,
                line,
                column,
            });
        }
        e
    };
    let t = parse_template(&text).map_err(|e| {
        let help = e.help.or(e.expected.map(|x| format!("expected {x}")));
        place(e.span, e.message, help)
    })?;
    let scope = FileScope {
        vars: map,
        outer: cx.ctx,
    };
    let inner = Cx {
        ctx: &scope,
        frame: None,
        in_template_file: true,
    };
    let v = template::concat(&t, &inner).map_err(|e| place(e.span, e.message, e.help))?;
    Ok(mark(v, vars_secret || path_secret))
}
