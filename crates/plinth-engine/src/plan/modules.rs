//! Planning module calls: each call's instances (its `for_each`/`count` in each instance of
//! the calling module), each module instance's variables (the call's inputs, evaluated in
//! the caller), and a module's outputs (what `module.NAME.OUTPUT` reads in the caller).

use plinth_addr::ModuleStep;
use plinth_config::Diagnostic;
use plinth_graph::NodeId;
use plinth_value::Value;

use super::planner::Planner;
use crate::scope::eval_input;
use crate::scope::{Expansion, Iteration};

/// `module.a["x"].` for a module instance path (empty for the root).
fn prefix(inst: &[ModuleStep]) -> String {
    if inst.is_empty() {
        return String::new();
    }
    format!("{}.", plinth_addr::Address::module_instance(inst.to_vec()))
}

impl Planner<'_, '_> {
    /// The instances of call `c` of static module `m`, in its instance `inst`.
    pub(super) fn plan_call(&mut self, m: usize, c: usize, inst: &[ModuleStep]) {
        let module = self.tree.get(m);
        let call = &module.config.module_calls[c];
        let child = module.children[c];
        let expansion = Expansion::of_meta(&call.count, &call.for_each);
        let address = format!("{}module.{}", prefix(inst), call.name);
        let Some(instances) = self.expand_meta(&address, &call.count, &call.for_each, m, inst)
        else {
            self.values.set_call(inst, &call.name, expansion, false);
            return;
        };
        self.values.set_call(inst, &call.name, expansion, true);
        for (key, iteration) in instances {
            let mut path = inst.to_vec();
            path.push(ModuleStep {
                name: call.name.clone(),
                key,
            });
            self.values.set_vars(&path, Default::default());
            self.call_iters.insert(path.clone(), iteration);
            self.instances[child].push(path);
        }
    }

    /// The table `j` call `c` of static module `m` gives its module
    /// (`[module.NAME.providers.X]`), evaluated for each instance of the call in the
    /// caller's scope with the instance's `each`/`count.index`.
    pub(super) fn plan_call_settings(&mut self, m: usize, c: usize, j: usize, id: NodeId) {
        let module = self.tree.get(m);
        let call = &module.config.module_calls[c];
        let p = &call.providers[j];
        let Some(prefix) = self.tables.prefix_of_table(&p.name).map(str::to_string) else {
            return;
        };
        let paths = self.instances[module.children[c]].clone();
        for path in paths {
            let caller = &path[..path.len() - 1];
            let iteration = self.call_iters.get(&path).cloned().unwrap_or_default();
            let scope = self.scope_in(m, caller, iteration);
            let value = match self.tables.eval_table(module.config, p, &scope) {
                Ok(v) => v,
                Err(d) => {
                    self.diags.push(d);
                    Value::Unknown
                }
            };
            let deps = self.dependency_addresses(id, m, caller);
            self.module_settings
                .insert((path, prefix.clone()), (value, deps));
        }
    }

    /// Variable `v` of module instance `inst` of static module `m`: its call's input,
    /// evaluated in the caller with the instance's `each`/`count.index`.
    pub(super) fn plan_var(&mut self, m: usize, v: usize, inst: &[ModuleStep]) {
        let module = self.tree.get(m);
        let (Some(call), Some(parent)) = (module.call, module.parent) else {
            return;
        };
        let var = &module.config.variables[v];
        let caller = &inst[..inst.len().saturating_sub(1)];
        let iteration = self.call_iters.get(inst).cloned().unwrap_or_default();
        let result = eval_input(call, var, &self.scope_in(parent, caller, iteration));
        let value = match result {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                Value::Unknown
            }
        };
        self.values.set_var(inst, &var.name, value);
    }

    /// Output `i` of module instance `inst` of static module `m`, as its caller reads it.
    pub(super) fn plan_module_output(&mut self, m: usize, i: usize, inst: &[ModuleStep]) {
        let decl = &self.tree.get(m).config.outputs[i];
        let result = decl.value.eval(&self.scope_in(m, inst, Iteration::None));
        let value = match result {
            Ok(v) if v.contains_sensitive() && !decl.sensitive => {
                self.diags.push(
                    Diagnostic::at(
                        format!(
                            "output `{}` of `{}` refers to sensitive values",
                            decl.name,
                            plinth_addr::Address::module_instance(inst.to_vec())
                        ),
                        decl.value.loc.clone(),
                    )
                    .label("sensitive")
                    .help("add `sensitive = true` to the module's output (it stays sensitive in the caller), or output a non-sensitive value"),
                );
                Value::Unknown
            }
            Ok(v) if decl.sensitive => Value::sensitive(v),
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                Value::Unknown
            }
        };
        self.values.set_output(inst, &decl.name, value);
    }
}
