//! Planning actions (run when what they watch changes, or when they have not run yet) and
//! outputs.

use plinth_config::Diagnostic;
use plinth_graph::NodeId;
use plinth_plan::{Action, OutputChange, ResourceChange};
use plinth_value::Value;

use super::planner::Planner;
use crate::addr::{Address, DeclKind};
use crate::scope::Iteration;
use plinth_addr::ModuleStep;

impl Planner<'_, '_> {
    pub(super) fn plan_action(&mut self, m: usize, i: usize, inst: &[ModuleStep], id: NodeId) {
        let decl = &self.tree.get(m).config.actions[i];
        let address = Address {
            module: inst.to_vec(),
            ..Address::new(DeclKind::Action, decl.name.clone(), None)
        }
        .to_string();
        self.produced.insert(address.clone());
        let result = decl.inputs.eval(&self.scope_in(m, inst, Iteration::None));
        let config = match result {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        let trigger = decl
            .on
            .iter()
            .find(|o| {
                self.action_of(&super::planner::relative(inst, &o.text))
                    .into_iter()
                    .any(|a| matches!(a, Action::Create | Action::Update | Action::Replace))
            })
            // Named by its full address: inside a module, `fic` is `module.app["a"].fic`.
            .map(|t| format!("{} changes", super::planner::relative(inst, &t.text)))
            // An action that has not run successfully yet (added to a configuration whose
            // watched resources already exist, or whose last run failed) runs now.
            .or_else(|| match self.state.last_run(&address) {
                None => Some("it has not run yet".to_string()),
                Some(e) if e.outcome == plinth_state::PENDING => Some(
                    "its last planned run did not happen (interrupted, or a dependency failed)"
                        .to_string(),
                ),
                Some(e) if e.outcome != "ok" => Some("its last run failed".to_string()),
                Some(_) => None,
            });
        let deps = self.dependency_addresses(id, m, inst);
        self.push(ResourceChange {
            address,
            name: decl.name.clone(),
            type_name: decl.type_name.clone(),
            kind: DeclKind::Action,
            action: if trigger.is_some() {
                Action::Run
            } else {
                Action::NoOp
            },
            replace_order: None,
            id: None,
            before: None,
            after: None,
            config: Some(config),
            changed_paths: vec![],
            attribute_paths: vec![],
            replace_paths: vec![],
            reason: trigger,
            drift: false,
            depends_on: deps,
            moved_from: None,
            importing: None,
            annotations: vec![],
            bookkeeping: vec![],
            cascade: None,
        });
    }

    pub(super) fn plan_output(&mut self, i: usize) {
        let decl = &self.input.workspace.config.outputs[i];
        let value = match decl.value.eval(&self.scope(Iteration::None)) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        if value.contains_sensitive() && !decl.sensitive {
            self.diags.push(
                Diagnostic::at(format!("output `{}` refers to sensitive values", decl.name), decl.value.loc.clone())
                    .label("sensitive")
                    .help("add `sensitive = true` to the output to show it only as (sensitive), or output a non-sensitive value"),
            );
            return;
        }
        let value = if decl.sensitive {
            Value::sensitive(value.unmark_all())
        } else {
            value
        };
        let before = self.state.outputs().get(&decl.name).map(|o| {
            let v = Value::from(o.value.clone());
            if o.sensitive { Value::sensitive(v) } else { v }
        });
        let action = match &before {
            None => Action::Create,
            Some(b)
                if value.is_wholly_known()
                    && b.unmark_all() == value.unmark_all()
                    && b.is_sensitive() == value.is_sensitive() =>
            {
                Action::NoOp
            }
            Some(_) => Action::Update,
        };
        self.outputs.push(OutputChange {
            name: decl.name.clone(),
            action,
            before,
            after: Some(value),
            sensitive: decl.sensitive,
        });
    }
}
