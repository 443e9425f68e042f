//! What a condition sees, and what it says. A precondition or postcondition is evaluated in
//! its object's scope; a postcondition also sees `self` (the object's attributes), a check's
//! assertions its scoped data sources (`data.READ`). Plan and apply share the evaluation.

use std::collections::HashMap;
use std::ops::Range;

use plinth_config::{Condition, Diagnostic};
use plinth_expr::{Context, EvalError, Reference, ResolvedStep};
use plinth_value::Value;

use super::decl::walk_decl;
use super::{DeclValue, Inst, Scope, walk_inst};

/// A scope with `self` and a check's scoped data sources on top.
pub struct ConditionScope<'s, 'a> {
    /// The object's scope (its module instance, `each`/`count.index`).
    pub scope: &'s Scope<'a>,
    /// `self`: the object, in a postcondition; `None` elsewhere.
    pub this: Option<Inst>,
    /// A check's `[check.NAME.data.READ]` values, by `READ`.
    pub data: Option<&'s HashMap<String, DeclValue>>,
}

impl<'s, 'a> ConditionScope<'s, 'a> {
    /// The plain scope: no `self`, no scoped data.
    pub fn new(scope: &'s Scope<'a>) -> Self {
        ConditionScope {
            scope,
            this: None,
            data: None,
        }
    }
}

impl Context for ConditionScope<'_, '_> {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        match r.root.as_str() {
            "self" => match &self.this {
                Some(inst) => walk_inst(inst, r, steps, 0),
                None => Err(EvalError::new(
                    "`self` exists only in postconditions",
                    r.span.clone(),
                )),
            },
            "data" => {
                if let (Some(data), Some(ResolvedStep::Attr(name))) = (self.data, steps.first())
                    && let Some(v) = data.get(name)
                {
                    return walk_decl(v, r, steps, 1);
                }
                self.scope.lookup(r, steps)
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
        self.scope.read_file(path)
    }

    fn file_source(&self, path: &str) -> Option<usize> {
        self.scope.file_source(path)
    }
}

/// What a condition came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// It holds.
    True,
    /// It does not: its message, evaluated (sensitive or unknown parts not shown).
    False(String),
    /// It depends on values known only after apply.
    Unknown,
}

/// Evaluates one condition. An error is located: the condition could not be evaluated, or
/// gave something that is not a bool.
pub fn eval_condition(c: &Condition, ctx: &dyn Context) -> Result<Outcome, Diagnostic> {
    let v = c.condition.eval(ctx)?;
    if !v.is_wholly_known() {
        return Ok(Outcome::Unknown);
    }
    match v.unmarked() {
        Value::Bool(true) => Ok(Outcome::True),
        Value::Bool(false) => Ok(Outcome::False(message(c, ctx))),
        other => Err(Diagnostic::at(
            format!(
                "condition must be true or false, it is {}",
                article(other.type_name())
            ),
            c.condition.loc.clone(),
        )
        .label("expected a bool")
        .help("compare or test the value so the expression gives true or false, e.g. \"${x == \\\"y\\\"}\" or \"${length(x) > 0}\"")),
    }
}

/// The message of a false condition: its text, or a note when it cannot be shown.
fn message(c: &Condition, ctx: &dyn Context) -> String {
    match c.message.eval(ctx) {
        Ok(v) if v.contains_sensitive() => {
            "(the message refers to sensitive values and is not shown)".to_string()
        }
        Ok(v) if !v.is_wholly_known() => {
            "(the message refers to values known only after apply)".to_string()
        }
        Ok(Value::String(s)) => s,
        Ok(other) => other.render(),
        Err(d) => format!("(the message could not be evaluated: {})", d.message),
    }
}

fn article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}

/// Which kind of condition failed, as messages and `Failure::action` say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `lifecycle.precondition`.
    Pre,
    /// `lifecycle.postcondition`.
    Post,
}

impl Kind {
    /// `precondition` or `postcondition`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pre => "precondition",
            Kind::Post => "postcondition",
        }
    }
}

/// The located error of a false condition of `address`, its message as the diagnostic's.
pub fn failed(kind: Kind, address: &str, c: &Condition, message: &str) -> Diagnostic {
    Diagnostic::at(
        format!("{} failed for `{address}`: {message}", kind.name()),
        c.condition.loc.clone(),
    )
    .label("this condition is false")
    .help(match kind {
        Kind::Pre => "fix what the condition checks (the object is not planned until it holds), or change the condition",
        Kind::Post => "the object does not have what the condition requires: fix its configuration, or change the condition",
    })
    .subject(address)
}

/// Evaluates every condition: the errors of those that are false (see [`failed`]) or could
/// not be evaluated; `Ok(true)` when every one holds, `Ok(false)` when some are unknown.
pub fn check_all(
    kind: Kind,
    address: &str,
    conditions: &[Condition],
    ctx: &dyn Context,
) -> Result<bool, Vec<Diagnostic>> {
    let mut known = true;
    let mut errors = Vec::new();
    for c in conditions {
        match eval_condition(c, ctx) {
            Ok(Outcome::True) => {}
            Ok(Outcome::Unknown) => known = false,
            Ok(Outcome::False(message)) => errors.push(failed(kind, address, c, &message)),
            Err(d) => errors.push(d.subject(address)),
        }
    }
    if errors.is_empty() {
        Ok(known)
    } else {
        Err(errors)
    }
}
