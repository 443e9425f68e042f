//! The provider settings an operation's request carries: for deletes, where the object
//! lives (as recorded with it); otherwise the settings of its module instance's `Source`,
//! evaluated with the values known now (a call's table in its caller).

use super::ops::Op;
use super::runner::Runner;
use crate::addr::Address;
use crate::scope::Iteration;
use crate::settings::{Source, prefix_of, settings_for};
use plinth_state::ResourceState;
use plinth_value::Value;

impl Runner<'_, '_> {
    /// The provider settings an operation's request carries: for deletes, those recorded
    /// with the object (where it lives), else as the state recorded them when the run
    /// started; otherwise evaluated with the values known now.
    pub(super) fn settings(&self, op: &Op, prior: Option<&ResourceState>) -> Result<Value, String> {
        let c = self.change(op);
        let prefix = prefix_of(&c.type_name);
        if !op.kind.forward() {
            if let Some(s) = prior.and_then(|r| r.settings.as_ref()) {
                return Ok(Value::from(s.clone()));
            }
            return Ok(settings_for(&self.existing_settings, prefix).clone());
        }
        let inst = c
            .address
            .parse::<Address>()
            .map(|a| a.module)
            .unwrap_or_default();
        self.settings_in(&inst, prefix)
    }

    /// The settings of the provider of type prefix `prefix` for objects in module instance
    /// `inst`, evaluated with the values known now.
    pub(super) fn settings_in(
        &self,
        inst: &[plinth_addr::ModuleStep],
        prefix: &str,
    ) -> Result<Value, String> {
        let m = self.tree.of_instance(inst).ok_or_else(|| {
            format!(
                "`{}` is no longer in the configuration: plan again",
                Address::module_instance(inst.to_vec())
            )
        })?;
        let (v, table) = match self.tables.source(&self.tree, m, prefix) {
            Source::None => return Ok(Value::Null),
            Source::Root(decl) => {
                let config = self.input.workspace.config;
                let v = self
                    .tables
                    .eval(config, decl, &self.scope(Iteration::None))
                    .map_err(|d| d.message)?;
                (v, format!("[provider.{}]", config.providers[decl].name))
            }
            // The call's table, evaluated in its caller with the values known now.
            Source::Call { module, table } => {
                let depth = self.tree.get(module).path.len().min(inst.len());
                let (caller, _, iteration) = self
                    .scope(Iteration::None)
                    .call_site(&inst[..depth])
                    .map_err(|d| format!("{} (any more): plan again", d.message))?;
                let called = self.tree.get(module);
                let call = called.call.expect("a called module has a call");
                let parent = self
                    .tree
                    .get(called.parent.expect("a called module has a parent"));
                let p = &call.providers[table];
                let v = self
                    .tables
                    .eval_table(parent.config, p, &caller.with_iteration(iteration))
                    .map_err(|d| d.message)?;
                let at = Address::module_instance(inst[..depth].to_vec());
                (
                    v,
                    format!("[module.{}.providers.{}] of `{at}`", call.name, p.name),
                )
            }
        };
        if let Some(p) = v.unknown_paths().first() {
            return Err(format!(
                "{table} `{p}` is still unknown at apply time; what it refers to did not provide it"
            ));
        }
        Ok(v)
    }
}
