//! What expressions see: variables, the environment, `each`, and the values of other
//! declarations (planned values during plan, actual values during apply).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use plinth_expr::{Context, EvalError, Reference, ResolvedStep, walk_steps};
use plinth_value::{Map, Value};

use crate::addr::{Address, DeclKind};

/// The value of one instance.
#[derive(Clone, Debug)]
pub struct Inst {
    /// The instance's attributes (an output's value); may hold unknowns while planning.
    pub value: Value,
    /// False while the value is a plan of what will be: a missing attribute is then
    /// "known after apply" rather than an error.
    pub complete: bool,
}

/// The value of one declaration.
#[derive(Clone, Debug)]
pub enum DeclValue {
    /// A declaration without `for_each`: one instance.
    Single(Inst),
    /// A declaration with `for_each`: its instances by key.
    Instances(BTreeMap<String, Inst>),
    /// Not known at all (e.g. a data source read during apply).
    Unknown,
}

/// The values of every declaration evaluated so far.
#[derive(Clone, Debug, Default)]
pub struct Values {
    decls: HashMap<(DeclKind, String), DeclValue>,
}

impl Values {
    /// Records the value of one instance.
    pub fn set(&mut self, addr: &Address, value: Value, complete: bool) {
        let key = (addr.kind, addr.name.clone());
        let inst = Inst { value, complete };
        match &addr.key {
            None => {
                self.decls.insert(key, DeclValue::Single(inst));
            }
            Some(k) => {
                let entry = self
                    .decls
                    .entry(key)
                    .or_insert_with(|| DeclValue::Instances(BTreeMap::new()));
                if !matches!(entry, DeclValue::Instances(_)) {
                    *entry = DeclValue::Instances(BTreeMap::new());
                }
                if let DeclValue::Instances(m) = entry {
                    m.insert(k.clone(), inst);
                }
            }
        }
    }

    /// Declares a `for_each` declaration with no instances (an empty collection).
    pub fn set_empty(&mut self, kind: DeclKind, name: &str) {
        self.decls.insert(
            (kind, name.to_string()),
            DeclValue::Instances(BTreeMap::new()),
        );
    }

    /// Records a whole declaration as unknown, so that every reference to it is "known
    /// after apply" (e.g. its `for_each` could not be evaluated).
    pub fn set_unknown(&mut self, kind: DeclKind, name: &str) {
        self.decls
            .insert((kind, name.to_string()), DeclValue::Unknown);
    }

    /// The value of a declaration; `None` when none has been recorded for it.
    pub fn get(&self, kind: DeclKind, name: &str) -> Option<&DeclValue> {
        self.decls.get(&(kind, name.to_string()))
    }
}

/// An evaluation scope.
pub struct Scope<'a> {
    /// Resolved input variables, for `var.NAME` (sensitive ones marked).
    pub vars: &'a BTreeMap<String, Value>,
    /// The environment `${env.NAME}` reads.
    pub env: &'a BTreeMap<String, String>,
    /// The values of other declarations, for references such as `rg.id`.
    pub values: &'a Values,
    /// `each.key` / `each.value` inside a `for_each` declaration.
    pub each: Option<(Value, Value)>,
    /// Providers, for their functions (`azure.role_definition_id(...)`).
    pub registry: Option<&'a plinth_provider::Registry>,
}

fn first_attr<'s>(
    r: &Reference,
    steps: &'s [ResolvedStep],
    what: &str,
) -> Result<(&'s str, Range<usize>), EvalError> {
    match steps.first() {
        Some(ResolvedStep::Attr(name)) => Ok((name.as_str(), r.step_span(0))),
        _ => Err(EvalError::new(
            format!(
                "`{}` needs a name after it, e.g. `{}.{what}`",
                r.root, r.root
            ),
            r.span.clone(),
        )),
    }
}

impl Scope<'_> {
    fn decl_value(
        &self,
        kind: DeclKind,
        name: &str,
        r: &Reference,
        steps: &[ResolvedStep],
        skip: usize,
    ) -> Result<Value, EvalError> {
        let Some(v) = self.values.get(kind, name) else {
            return Err(EvalError::new(
                format!("`{}` is not declared", r.prefix(skip)),
                r.span.clone(),
            ));
        };
        let rest = &steps[skip..];
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
                        Value::Number(n) => n.to_string(),
                        other => {
                            return Err(EvalError::new(
                                format!(
                                    "`{}` has instances keyed by strings; {} is not a key",
                                    r.prefix(skip),
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
                            let mut e = EvalError::new(
                                format!("`{}` has no instance [\"{key}\"]", r.prefix(skip)),
                                r.step_span(skip),
                            );
                            e = match plinth_config::did_you_mean(&key, keys.iter().copied()) {
                                Some(s) => e.with_help(format!("did you mean [\"{s}\"]?")),
                                None => e.with_help(format!("its keys are: {}", keys.join(", "))),
                            };
                            Err(e)
                        }
                    }
                }
                _ => {
                    // The whole collection, as a map of instance values.
                    let complete = map.values().all(|i| i.complete);
                    let whole = Inst {
                        value: Value::Map(
                            map.iter()
                                .map(|(k, i)| (k.clone(), i.value.clone()))
                                .collect::<Map>(),
                        ),
                        complete,
                    };
                    walk_inst(&whole, r, rest, skip)
                }
            },
        }
    }
}

fn walk_inst(
    inst: &Inst,
    r: &Reference,
    steps: &[ResolvedStep],
    offset: usize,
) -> Result<Value, EvalError> {
    // Follow plain attribute steps through maps by reference, so a reference such as
    // `app.output.name` clones only `name`, not the whole object; the rest (indexes, marks,
    // unknowns, errors) is walk_steps' job.
    let mut value = &inst.value;
    let mut taken = 0;
    for step in steps {
        match (value, step) {
            (Value::Map(m), ResolvedStep::Attr(name)) => match m.get(name) {
                Some(v) => {
                    value = v;
                    taken += 1;
                }
                None => break,
            },
            _ => break,
        }
    }
    let offset = offset + taken;
    // walk_steps reports spans for r.steps[i]; give it a reference view starting at `offset`.
    let view = Reference {
        root: r.prefix(offset),
        root_span: r.root_span.start..r.step_span(offset.saturating_sub(1)).end,
        steps: r.steps[offset..].to_vec(),
        span: r.span.clone(),
    };
    match walk_steps(value.clone(), &view, &steps[taken..]) {
        Ok(v) => Ok(v),
        Err(_) if !inst.complete => Ok(Value::Unknown),
        Err(e) => Err(e),
    }
}

impl Context for Scope<'_> {
    fn call_external(
        &self,
        name: &str,
        args: &[Value],
        span: Range<usize>,
    ) -> Option<Result<Value, EvalError>> {
        let result = self.registry?.call_function(name, args)?;
        Some(result.map_err(|e| EvalError::new(format!("{name}(): {}", e.message), span)))
    }

    fn external_functions(&self) -> Vec<String> {
        self.registry.map(|r| r.all_functions()).unwrap_or_default()
    }

    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        match r.root.as_str() {
            "var" => {
                let (name, span) = first_attr(r, steps, "location")?;
                let Some(v) = self.vars.get(name) else {
                    let mut e = EvalError::new(format!("there is no variable `{name}`"), span);
                    if let Some(s) =
                        plinth_config::did_you_mean(name, self.vars.keys().map(String::as_str))
                    {
                        e = e.with_help(format!("did you mean `var.{s}`?"));
                    }
                    return Err(e);
                };
                walk_inst(
                    &Inst {
                        value: v.clone(),
                        complete: true,
                    },
                    r,
                    &steps[1..],
                    1,
                )
            }
            "env" => {
                let (name, span) = first_attr(r, steps, "HOME")?;
                match self.env.get(name) {
                    Some(v) => walk_inst(
                        &Inst {
                            value: Value::from(v.as_str()),
                            complete: true,
                        },
                        r,
                        &steps[1..],
                        1,
                    ),
                    None => Err(EvalError::new(
                        format!("environment variable {name} is not set"),
                        span,
                    )
                    .with_help(format!(
                        "export {name}=... before running plinth, or use a variable with a default"
                    ))),
                }
            }
            "each" => {
                let Some((k, v)) = &self.each else {
                    return Err(EvalError::new(
                        "`each` is only available in a resource with `for_each`",
                        r.span.clone(),
                    ));
                };
                let (name, span) = first_attr(r, steps, "key")?;
                let base = match name {
                    "key" => k.clone(),
                    "value" => v.clone(),
                    other => {
                        return Err(EvalError::new(
                            format!("`each` has `key` and `value`, not `{other}`"),
                            span,
                        ));
                    }
                };
                walk_inst(
                    &Inst {
                        value: base,
                        complete: true,
                    },
                    r,
                    &steps[1..],
                    1,
                )
            }
            "data" => {
                let (name, _) = first_attr(r, steps, "NAME")?;
                self.decl_value(DeclKind::Data, name, r, steps, 1)
            }
            name => self.decl_value(DeclKind::Resource, name, r, steps, 0),
        }
    }
}
