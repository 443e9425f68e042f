//! Expressions inside plinth's configuration strings (SPEC §2, §3).
//!
//! A configuration string is a [`Template`]: literal text with `${ expr }` interpolations
//! (`$${` is a literal `${`) and `%{ if c }...%{ else }...%{ endif }` /
//! `%{ for k, v in coll }...%{ endfor }` directives (`%%{` is a literal `%{`; a `~` inside the
//! braces, as in `%{~ if x ~}` or `${~ x ~}`, strips the whitespace on its side).
//! [`parse_template`] builds the syntax tree, keeping byte spans into the original string on
//! every node so errors can point at a file position; [`eval_template`] evaluates it against
//! a [`Context`] that resolves references (`rg.id`, `var.location`, `app["blue"].id`),
//! provider functions and the configuration's files.
//!
//! Expressions are HCL's: literals (`null`, `true`, `false`, numbers, `"strings"` and
//! `'strings'` that may contain `${...}` themselves, `[lists]`, `{ objects = ... }`),
//! references, function calls (`lower(x)`, `azure.role_definition_id("...")`,
//! `merge(local.maps...)`), the operators `!` `-` `*` `/` `%` `+` `-` `<` `<=` `>` `>=` `==`
//! `!=` `&&` `||` (tightest first), the conditional `c ? a : b`, for-expressions
//! (`[for s in l : s.name if s.on]`, `{for k, v in m : k => v...}`), splats (`l[*].id`) and
//! `.attr` / `[index]` on any expression. Names may contain `-`, so `a-1` is a name and
//! `a - 1` a subtraction. `try`, `can`, `file`, `fileexists` and `templatefile` are special
//! forms of the evaluator; the other built-ins are a table of plain functions.
//!
//! Evaluation follows the value marks of [`plinth_value::Value`]: unknown ("known after apply")
//! and sensitive values propagate through interpolation, operators, for-expressions and
//! functions — except where the answer is known anyway (`false && x`, the length of a list
//! with unknown elements).
//!
//! ```
//! use plinth_expr::{parse_template, eval_template};
//! use plinth_value::{Map, Value};
//!
//! let t = parse_template("${var.prefix}-rg").unwrap();
//! assert_eq!(&"${var.prefix}-rg"[t.references()[0].span.clone()], "var.prefix");
//! let mut ctx = Map::new();
//! ctx.insert("var".into(), Value::from(serde_json::json!({"prefix": "demo"})));
//! assert_eq!(eval_template(&t, &ctx).unwrap(), Value::from("demo-rg"));
//!
//! let t = parse_template("${[for i in range(3) : i * 2 if i != 1]}").unwrap();
//! assert_eq!(eval_template(&t, &ctx).unwrap(), Value::from(serde_json::json!([0, 4])));
//! ```

#![warn(missing_docs)]

// The modules' dependencies point one way: `values`, `error` and `suggest` are leaves; `ast`
// (the syntax tree) uses `values`, `parser` uses `ast`; `functions` (the built-ins, leaf
// functions over evaluated arguments) uses only the leaves; `steps` (the reference walk) adds
// `ast`; `eval`, the evaluator, uses all of them (and the parser, for templatefile) and
// nothing uses it.
mod ast;
mod error;
mod eval;
mod functions;
mod parser;
mod steps;
mod suggest;
mod values;

pub use ast::{
    BinaryOp, Binding, Expr, ExprKind, ForExpr, Part, RefStep, Reference, Template, UnaryOp,
};
pub use error::{EvalError, InFile};
pub use eval::{Context, eval_expr, eval_template};
pub use functions::{GUID_NAMESPACE, builtin_function_names, guid, is_builtin_function};
pub use parser::{ParseError, parse_template};
pub use steps::{ResolvedStep, walk_steps};
pub use suggest::did_you_mean;

#[cfg(test)]
mod tests;
