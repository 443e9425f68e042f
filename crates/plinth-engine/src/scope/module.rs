//! `module.NAME`: the outputs of a called module — an object of outputs, or a map/list of
//! them for a call with `for_each`/`count`. While planning they are read from the values
//! planned so far; during apply (a lazy scope) each is evaluated here, in its module
//! instance's own scope with the values that exist now.

use std::borrow::Cow;
use std::collections::BTreeMap;

use plinth_addr::{InstanceKey, ModuleStep};
use plinth_config::Diagnostic;
use plinth_expr::{EvalError, Reference, ResolvedStep};
use plinth_value::Value;

use super::decl::walk_decl;
use super::{DeclValue, Inst, Iteration, LocalCache, Scope, first_attr};
use crate::scope::eval_input;

impl<'a> Scope<'a> {
    /// This scope with another `each`/`count.index` (for a module call's own arguments).
    pub fn with_iteration(&self, iteration: Iteration) -> Scope<'a> {
        Scope {
            vars: self.vars.clone(),
            env: self.env,
            values: self.values,
            iteration,
            registry: self.registry,
            config: self.config,
            dir: self.dir,
            locals: LocalCache::default(),
            tree: self.tree,
            module: self.module,
            inst: self.inst.clone(),
            lazy: self.lazy,
            memo: self.memo,
        }
    }

    /// The scope of instance `key` of the module `child` this scope's module calls, whose
    /// `each`/`count.index` is `iteration`: its variables are the call's inputs evaluated
    /// here (or as this scope's memo kept them).
    pub fn child(
        &self,
        child: usize,
        key: Option<InstanceKey>,
        iteration: Iteration,
    ) -> Result<Scope<'a>, Diagnostic> {
        let tree = self
            .tree
            .ok_or_else(|| Diagnostic::new("modules are not available here"))?;
        let module = tree.get(child);
        let call = module
            .call
            .ok_or_else(|| Diagnostic::new("the root module has no call"))?;
        let mut inst = self.inst.clone();
        inst.push(ModuleStep {
            name: call.name.clone(),
            key,
        });
        let vars = match self.memo.and_then(|m| m.vars(&inst)) {
            Some(vars) => vars,
            None => {
                let caller = self.with_iteration(iteration);
                let mut vars = BTreeMap::new();
                for v in &module.config.variables {
                    vars.insert(v.name.clone(), eval_input(call, v, &caller)?);
                }
                if let Some(memo) = self.memo {
                    memo.keep_vars(&inst, &vars);
                }
                vars
            }
        };
        Ok(Scope {
            vars: Cow::Owned(vars),
            env: self.env,
            values: self.values,
            iteration: Iteration::None,
            registry: self.registry,
            config: Some(module.config),
            dir: self.dir,
            locals: LocalCache::default(),
            tree: self.tree,
            module: child,
            inst,
            lazy: self.lazy,
            memo: self.memo,
        })
    }

    /// The scope of module instance `inst` (a full path from this scope's module), its call
    /// arguments evaluated on the way down.
    pub fn descend(&self, inst: &[ModuleStep]) -> Result<Scope<'a>, Diagnostic> {
        let Some(last) = inst.last() else {
            return Ok(self.with_iteration(Iteration::None));
        };
        let (parent, child, iteration) = self.call_site(inst)?;
        parent.child(child, last.key.clone(), iteration)
    }

    /// Where module instance `inst` (a full, non-empty path from this scope's module) is
    /// called: the caller's scope, the called static module, and the instance's
    /// `each`/`count.index` (what the call's own arguments see with the caller's scope).
    pub fn call_site(
        &self,
        inst: &[ModuleStep],
    ) -> Result<(Scope<'a>, usize, Iteration), Diagnostic> {
        let Some((last, up)) = inst.split_last() else {
            return Err(Diagnostic::new("the root module has no call"));
        };
        let parent = self.descend(up)?;
        let tree = self
            .tree
            .ok_or_else(|| Diagnostic::new("modules are not available here"))?;
        let child = tree.child(parent.module, &last.name).ok_or_else(|| {
            Diagnostic::new(format!(
                "`module.{}` is not in the configuration",
                last.name
            ))
        })?;
        let mut full = parent.inst.clone();
        full.push(last.clone());
        if let Some(iteration) = self.memo.and_then(|m| m.iteration(&full)) {
            return Ok((parent, child, iteration));
        }
        let call = tree.get(child).call.expect("a child module has a call");
        let instances = crate::scope::of_call(call, &parent)?;
        let Some((_, iteration)) = instances.into_iter().find(|(k, _)| *k == last.key) else {
            return Err(Diagnostic::new(format!(
                "the instance `{}` of `module.{}` is not one its for_each or count produces",
                last.key.as_ref().map(|k| k.to_string()).unwrap_or_default(),
                last.name
            )));
        };
        if let Some(memo) = self.memo {
            memo.keep_iteration(&full, &iteration);
        }
        Ok((parent, child, iteration))
    }

    /// The value of `module.NAME...`.
    pub(super) fn module_value(
        &self,
        r: &Reference,
        steps: &[ResolvedStep],
    ) -> Result<Value, EvalError> {
        let (name, span) = first_attr(r, steps, "NAME.OUTPUT")?;
        let child = self.tree.and_then(|t| t.child(self.module, name));
        let Some(child) = child else {
            let mut e = EvalError::new(format!("there is no module call `module.{name}`"), span);
            let calls = self.config.into_iter().flat_map(|c| &c.module_calls);
            if let Some(s) = plinth_config::did_you_mean(name, calls.map(|c| c.name.as_str())) {
                e = e.with_help(format!("did you mean `module.{s}`?"));
            }
            return Err(e);
        };
        if !self.lazy {
            return match self.values.call(&self.inst, name) {
                Some(v) => walk_decl(v, r, steps, 1),
                None => Ok(Value::Unknown),
            };
        }
        let value = self
            .eval_call(child)
            .map_err(|d| EvalError::new(format!("in `module.{name}`: {}", d.message), span))?;
        walk_decl(&value, r, steps, 1)
    }

    /// Every instance of the call of module `child`, with its outputs evaluated now.
    fn eval_call(&self, child: usize) -> Result<DeclValue, Diagnostic> {
        let tree = self.tree.expect("module_value checked the tree");
        let module = tree.get(child);
        let call = module.call.expect("a child module has a call");
        let instances = crate::scope::of_call(call, self)?;
        let mut by_key = BTreeMap::new();
        let mut by_index = BTreeMap::new();
        let mut single = None;
        for (key, iteration) in instances {
            let scope = self.child(child, key.clone(), iteration)?;
            let mut object = plinth_value::Map::new();
            for o in &module.config.outputs {
                let v = o.value.eval(&scope)?;
                let v = if o.sensitive { Value::sensitive(v) } else { v };
                object.insert(o.name.clone(), v);
            }
            let inst = Inst {
                value: Value::Map(object),
                complete: true,
            };
            match key {
                None => single = Some(inst),
                Some(InstanceKey::Str(k)) => {
                    by_key.insert(k, inst);
                }
                Some(InstanceKey::Int(i)) => {
                    by_index.insert(i, inst);
                }
            }
        }
        Ok(match (single, call.count.is_some()) {
            (Some(inst), _) => DeclValue::Single(inst),
            (None, true) => DeclValue::Counted(by_index),
            (None, false) => DeclValue::Instances(by_key),
        })
    }
}
