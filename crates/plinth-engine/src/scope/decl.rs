//! References to declarations: a single instance, one instance of `for_each` or `count`
//! (`app["blue"]`, `app[0]`), or all of them (a map by key, a list by index).

use plinth_expr::{EvalError, Reference, ResolvedStep};
use plinth_value::{Map, Value};

use super::{DeclValue, Inst, Scope, walk_inst, whole_number};
use crate::addr::DeclKind;

impl Scope<'_> {
    /// The value of declaration `name` of `kind`; `steps[skip..]` follow its name.
    pub(super) fn decl_value(
        &self,
        kind: DeclKind,
        name: &str,
        r: &Reference,
        steps: &[ResolvedStep],
        skip: usize,
    ) -> Result<Value, EvalError> {
        let Some(v) = self.values.get_in(&self.inst, kind, name) else {
            // Evaluated over what exists (apply, the console): a declaration of this module
            // with no recorded value is not there yet.
            if self.lazy
                && matches!(kind, DeclKind::Resource | DeclKind::Data)
                && self
                    .config
                    .is_some_and(|c| c.resource(kind, name).is_some())
            {
                return Ok(Value::Unknown);
            }
            return Err(EvalError::new(
                format!("`{}` is not declared", r.prefix(skip)),
                r.span.clone(),
            ));
        };
        walk_decl(v, r, steps, skip)
    }
}

/// Follows `steps[skip..]` into the value of a declaration (or a module call): an instance
/// key first when it has instances.
pub(super) fn walk_decl(
    v: &DeclValue,
    r: &Reference,
    steps: &[ResolvedStep],
    skip: usize,
) -> Result<Value, EvalError> {
    let rest = &steps[skip..];
    let at = || r.prefix(skip);
    match v {
        DeclValue::Unknown => Ok(Value::Unknown),
        DeclValue::Single(inst) => walk_inst(inst, r, rest, skip),
        DeclValue::Instances(map) => match rest.first() {
            Some(ResolvedStep::Index(k)) => {
                if k.is_unknown() {
                    return Ok(Value::Unknown);
                }
                let key = match k.unmarked() {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => {
                        return Err(EvalError::new(
                                format!(
                                    "`{}` has for_each, so its instances are keyed by strings, not numbered",
                                    at()
                                ),
                                r.step_span(skip),
                            )
                            .with_help(format!(
                                "write {}[\"{n}\"] for the instance with key \"{n}\" (instances are numbered only with count)",
                                at()
                            )));
                    }
                    other => {
                        return Err(EvalError::new(
                            format!(
                                "`{}` has instances keyed by strings; {} is not a key",
                                at(),
                                other.type_name()
                            ),
                            r.step_span(skip),
                        ));
                    }
                };
                match map.get(&key) {
                    Some(inst) => walk_inst(inst, r, &rest[1..], skip + 1),
                    None => {
                        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                        let e = EvalError::new(
                            format!("`{}` has no instance [\"{key}\"]", at()),
                            r.step_span(skip),
                        );
                        Err(
                            match plinth_config::did_you_mean(&key, keys.iter().copied()) {
                                Some(s) => e.with_help(format!("did you mean [\"{s}\"]?")),
                                None if keys.is_empty() => {
                                    e.with_help("its for_each is empty, so it has no instances")
                                }
                                None => e.with_help(format!("its keys are: {}", keys.join(", "))),
                            },
                        )
                    }
                }
            }
            _ => {
                // The whole collection, as a map of instance values.
                let whole = Inst {
                    value: Value::Map(
                        map.iter()
                            .map(|(k, i)| (k.clone(), i.value.clone()))
                            .collect::<Map>(),
                    ),
                    complete: map.values().all(|i| i.complete),
                };
                walk_inst(&whole, r, rest, skip)
            }
        },
        DeclValue::Counted(list) => match rest.first() {
            Some(ResolvedStep::Index(k)) => {
                if k.is_unknown() {
                    return Ok(Value::Unknown);
                }
                let index = match k.unmarked() {
                    Value::String(s) => {
                        return Err(EvalError::new(
                                format!(
                                    "`{}` has count, so its instances are numbered, not keyed by strings",
                                    at()
                                ),
                                r.step_span(skip),
                            )
                            .with_help(format!(
                                "write {}[0] (or {}[count.index] inside a count of the same length); \"{s}\" would be a for_each key",
                                at(),
                                at()
                            )));
                    }
                    other => whole_number(other).ok_or_else(|| {
                        EvalError::new(
                            format!(
                                "`{}` has count: an instance index is a whole number >= 0, not {}",
                                at(),
                                match other {
                                    Value::Number(n) => n.to_string(),
                                    _ => format!("a {}", other.type_name()),
                                }
                            ),
                            r.step_span(skip),
                        )
                    })?,
                };
                match list.get(&index) {
                    Some(inst) => walk_inst(inst, r, &rest[1..], skip + 1),
                    None => Err(EvalError::new(
                        format!("`{}` has no instance [{index}]", at()),
                        r.step_span(skip),
                    )
                    .with_help(match list.len() {
                        0 => "its count is 0, so it has no instances".to_string(),
                        1 => format!("its count is 1: the only instance is {}[0]", at()),
                        n => format!(
                            "its count is {n}: instances are {}[0] to {}[{}]",
                            at(),
                            at(),
                            n - 1
                        ),
                    })),
                }
            }
            _ => {
                // The whole collection, as a list of instance values in index order.
                let whole = Inst {
                    value: Value::List(list.values().map(|i| i.value.clone()).collect()),
                    complete: list.values().all(|i| i.complete),
                };
                walk_inst(&whole, r, rest, skip)
            }
        },
    }
}
