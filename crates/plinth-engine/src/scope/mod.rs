//! What expressions see: variables, the environment, `each` and `count.index`, `path.*`,
//! locals, the files the configuration read, and the values of other declarations (planned
//! values during plan, actual values during apply).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use plinth_config::Config;
use plinth_expr::{Context, EvalError, Reference, ResolvedStep, walk_steps};
use plinth_value::Value;

use crate::addr::DeclKind;
use crate::tree::{ModTree, ROOT};
use plinth_addr::ModuleStep;

mod conditions;
mod decl;
mod inputs;
mod instances;
mod memo;
mod module;
mod values;

pub(crate) use inputs::eval_input;
pub(crate) use instances::{Instances, count_instances, for_each_instances, of_call};

pub use conditions::{ConditionScope, Kind as ConditionKind, Outcome, check_all, eval_condition};
pub use memo::InstanceMemo;
pub use values::{DeclValue, Expansion, Inst, Values, whole_number};

/// What `each.*` or `count.index` is for the instance being evaluated.
#[derive(Clone, Debug, Default)]
pub enum Iteration {
    /// A declaration with neither `for_each` nor `count` (or not a resource at all).
    #[default]
    None,
    /// An instance of `for_each`: `each.key` and `each.value`.
    Each {
        /// `each.key`.
        key: Value,
        /// `each.value`.
        value: Value,
    },
    /// An instance of `count`: `count.index`.
    Count(u64),
}

/// An evaluation scope.
pub struct Scope<'a> {
    /// Resolved input variables, for `var.NAME` (sensitive ones marked): the root's, or a
    /// module instance's inputs.
    pub vars: Cow<'a, BTreeMap<String, Value>>,
    /// The environment `${env.NAME}` reads.
    pub env: &'a BTreeMap<String, String>,
    /// The values of other declarations, for references such as `rg.id` (and `local.x`
    /// once planned).
    pub values: &'a Values,
    /// `each.*` or `count.index` of the instance being evaluated.
    pub iteration: Iteration,
    /// Providers, for their functions (`azure.role_definition_id(...)`).
    pub registry: Option<&'a plinth_provider::Registry>,
    /// The configuration: its locals (evaluated here, on first use, when `values` does not
    /// hold them: during apply they see actual values) and the files it read.
    pub config: Option<&'a Config>,
    /// The configuration directory (absolute), for `path.cwd`.
    pub dir: Option<&'a std::path::Path>,
    /// Locals evaluated in this scope, and those being evaluated (a cycle guard).
    pub locals: LocalCache,
    /// The module tree, for `module.NAME` (none: the configuration is read as flat).
    pub tree: Option<&'a ModTree<'a>>,
    /// The static module evaluated in (an index into `tree`; [`ROOT`] for the root).
    pub module: usize,
    /// The module instance evaluated in (`module.app["a"]`; empty for the root).
    pub inst: Vec<ModuleStep>,
    /// Whether `module.NAME` is evaluated here, with this scope's values (during apply, as
    /// locals are), rather than read from `values` (as planned).
    pub lazy: bool,
    /// Module instances' iterations and inputs already evaluated, wholly known (during
    /// apply, so that each object of an instance does not evaluate its call again).
    pub memo: Option<&'a InstanceMemo>,
}

/// Locals a [`Scope`] evaluated itself (see [`Scope::config`]).
#[derive(Default)]
pub struct LocalCache {
    done: RefCell<HashMap<String, Value>>,
    busy: RefCell<HashSet<String>>,
}

impl<'a> Scope<'a> {
    /// A scope over variables, the environment and `values`, with nothing else.
    pub fn new(
        vars: &'a BTreeMap<String, Value>,
        env: &'a BTreeMap<String, String>,
        values: &'a Values,
    ) -> Self {
        Scope {
            vars: Cow::Borrowed(vars),
            env,
            values,
            iteration: Iteration::None,
            registry: None,
            config: None,
            dir: None,
            locals: LocalCache::default(),
            tree: None,
            module: ROOT,
            inst: Vec::new(),
            lazy: false,
            memo: None,
        }
    }
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

/// A value that is wholly what it is (a variable, `each.*`, `count.index`).
fn known(value: Value) -> Inst {
    Inst {
        value,
        complete: true,
    }
}

impl Scope<'_> {
    /// The value of `local.NAME` evaluated here, with this scope's values: during apply, a
    /// local sees the actual values of what it refers to. Evaluated once per scope.
    fn eval_local(&self, name: &str, span: Range<usize>) -> Result<Value, EvalError> {
        if let Some(v) = self.locals.done.borrow().get(name) {
            return Ok(v.clone());
        }
        let decl = self
            .config
            .and_then(|c| c.locals.iter().find(|l| l.name == name));
        let Some(decl) = decl else {
            let mut e = EvalError::new(format!("there is no local `local.{name}`"), span);
            let names = self.config.into_iter().flat_map(|c| &c.locals);
            if let Some(s) = plinth_config::did_you_mean(name, names.map(|l| l.name.as_str())) {
                e = e.with_help(format!("did you mean `local.{s}`?"));
            }
            return Err(e);
        };
        if !self.locals.busy.borrow_mut().insert(name.to_string()) {
            return Err(EvalError::new(
                format!("`local.{name}` refers to itself (through other locals)"),
                span,
            ));
        }
        let result = decl.value.eval(self);
        self.locals.busy.borrow_mut().remove(name);
        let value = result.map_err(|d| {
            EvalError::new(format!("in `local.{name}`: {}", d.message), span.clone())
        })?;
        self.locals
            .done
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        Ok(value)
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

    fn read_file(&self, path: &str) -> Result<Option<String>, String> {
        let Some(config) = self.config else {
            return Err("files cannot be read here".to_string());
        };
        match config.files.get(path) {
            Some(f) => Ok(f.text.clone()),
            None => Err(format!(
                "`{path}` was not read with the configuration: file() and templatefile() paths must be literal strings (relative to the configuration directory)"
            )),
        }
    }

    fn file_source(&self, path: &str) -> Option<usize> {
        self.config?.files.get(path)?.source
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
                walk_inst(&known(v.clone()), r, &steps[1..], 1)
            }
            "env" => {
                let (name, span) = first_attr(r, steps, "HOME")?;
                match self.env.get(name) {
                    Some(v) => walk_inst(&known(Value::from(v.as_str())), r, &steps[1..], 1),
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
                let Iteration::Each { key, value } = &self.iteration else {
                    let mut e = EvalError::new(
                        "`each` is only available in a resource with `for_each`",
                        r.span.clone(),
                    );
                    if let Iteration::Count(_) = self.iteration {
                        e = e.with_help("this resource has count: use count.index");
                    }
                    return Err(e);
                };
                let (name, span) = first_attr(r, steps, "key")?;
                let base = match name {
                    "key" => key.clone(),
                    "value" => value.clone(),
                    other => {
                        return Err(EvalError::new(
                            format!("`each` has `key` and `value`, not `{other}`"),
                            span,
                        ));
                    }
                };
                walk_inst(&known(base), r, &steps[1..], 1)
            }
            "count" => {
                let Iteration::Count(index) = self.iteration else {
                    return Err(EvalError::new(
                        "`count.index` is only available in a resource with `count`",
                        r.span.clone(),
                    ));
                };
                let (name, span) = first_attr(r, steps, "index")?;
                if name != "index" {
                    return Err(EvalError::new(
                        format!("`count` has `index`, not `{name}`"),
                        span,
                    ));
                }
                walk_inst(&known(Value::Number(index.into())), r, &steps[1..], 1)
            }
            "path" => {
                let (name, span) = first_attr(r, steps, "module")?;
                let value = match name {
                    "module" | "root" => Value::from("."),
                    "cwd" => match self.dir {
                        Some(d) => Value::from(d.display().to_string().as_str()),
                        None => {
                            return Err(EvalError::new(
                                "`path.cwd` is not available here",
                                r.span.clone(),
                            ));
                        }
                    },
                    other => {
                        return Err(EvalError::new(
                            format!("`path` has `module`, `root` and `cwd`, not `{other}`"),
                            span,
                        ));
                    }
                };
                walk_inst(&known(value), r, &steps[1..], 1)
            }
            "local" => {
                let (name, span) = first_attr(r, steps, "NAME")?;
                if self
                    .values
                    .get_in(&self.inst, DeclKind::Local, name)
                    .is_some()
                {
                    return self.decl_value(DeclKind::Local, name, r, steps, 1);
                }
                let value = self.eval_local(name, span)?;
                walk_inst(
                    &Inst {
                        complete: value.is_wholly_known(),
                        value,
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
            "module" => self.module_value(r, steps),
            name => self.decl_value(DeclKind::Resource, name, r, steps, 0),
        }
    }
}
