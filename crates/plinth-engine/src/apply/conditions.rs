//! Preconditions and postconditions during apply, with actual values. An object's
//! preconditions are evaluated before its provider call (a false one fails the operation as
//! `precondition` and skips its dependents); its postconditions once the provider created,
//! updated or read it, `self` being the object as observed (a false one fails the operation
//! as `postcondition`, the object staying recorded, as Terraform does: the next plan checks
//! it again). Outputs' preconditions are evaluated before outputs are recorded: a root
//! output whose precondition fails keeps its previous value; a module instance's fails the
//! run.

use plinth_config::{Condition, Diagnostic};
use plinth_graph::{Dag, NodeId, Walk};
use plinth_state::{Change, OutputState};

use super::ops::{Done, Op, OpKind, Started};
use super::runner::{DeclAt, Runner};
use super::{Failure, state_err};
use crate::error::EngineError;
use crate::marks;
use crate::scope::{ConditionKind, ConditionScope, Inst, Iteration, Scope, check_all};
use plinth_plan::Action;
use plinth_provider::ProviderError;

impl Runner<'_, '_> {
    /// The message of failed conditions (each with its file:line), or of conditions still
    /// unknown now that everything they refer to exists.
    fn conditions_message(
        &self,
        kind: ConditionKind,
        address: &str,
        conditions: &[Condition],
        scope: &dyn plinth_expr::Context,
    ) -> Result<(), String> {
        let describe = |d: &Diagnostic| match &d.loc {
            Some(loc) => format!(
                "{} ({})",
                d.message,
                self.input.workspace.config.sources.describe(loc)
            ),
            None => d.message.clone(),
        };
        match check_all(kind, address, conditions, scope) {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!(
                "a {} of `{address}` is still unknown at apply time; what it refers to did not provide it",
                kind.name()
            )),
            Err(errors) => Err(errors.iter().map(describe).collect::<Vec<_>>().join("; ")),
        }
    }

    /// The preconditions of the object an operation is about to create, update or read, or
    /// to replace (checked before the delete of a delete-then-create replacement too, so
    /// that a false one leaves the old object in place).
    pub(super) fn preconditions(&self, op: &Op) -> Result<(), String> {
        let c = self.change(op);
        let replacing = op.kind == OpKind::Delete && c.action == Action::Replace;
        if !matches!(op.kind, OpKind::Create | OpKind::Update | OpKind::Read) && !replacing {
            return Ok(());
        }
        let Ok((DeclAt::Resource(r), scope)) = self.decl_scope(c) else {
            // Not a resource, or gone from the configuration: the operation itself says so.
            return Ok(());
        };
        if r.lifecycle.preconditions.is_empty() {
            return Ok(());
        }
        self.conditions_message(
            ConditionKind::Pre,
            &c.address,
            &r.lifecycle.preconditions,
            &ConditionScope::new(&scope),
        )
    }

    /// Records a finished operation, after checking the postconditions of what it created,
    /// updated or read: a false one fails the operation (the object is still recorded).
    pub(super) fn finish_checked(
        &mut self,
        walk: &mut Walk,
        dag: &Dag<Op>,
        id: NodeId,
        op: &Op,
        started: Started,
        result: Result<Done, ProviderError>,
    ) -> Result<(), EngineError> {
        let observed = match (&result, op.kind) {
            (Ok(Done::Observed(obs)), OpKind::Create | OpKind::Update | OpKind::Read) => obs,
            _ => return self.finish(walk, dag, id, op, started, result),
        };
        let input = self.input;
        let c = &input.plan.changes[op.change];
        let message = match self.decl_scope(c) {
            Ok((DeclAt::Resource(r), scope)) if !r.lifecycle.postconditions.is_empty() => {
                let mut attrs = observed.attributes.clone();
                let registry = self.input.workspace.registry;
                marks::mark_attributes(registry, &c.type_name, &started.config, &mut attrs);
                let ctx = ConditionScope {
                    this: Some(Inst {
                        value: attrs,
                        complete: true,
                    }),
                    ..ConditionScope::new(&scope)
                };
                self.conditions_message(
                    ConditionKind::Post,
                    &c.address,
                    &r.lifecycle.postconditions,
                    &ctx,
                )
                .err()
            }
            _ => None,
        };
        let Some(message) = message else {
            return self.finish(walk, dag, id, op, started, result);
        };
        let Ok(Done::Observed(obs)) = result else {
            return self.finish(walk, dag, id, op, started, result);
        };
        let mode = if op.kind == OpKind::Read {
            plinth_state::DeclKind::Data
        } else {
            plinth_state::DeclKind::Resource
        };
        self.record_object(c, mode, &started.config, &started.settings, obs)
            .map_err(state_err)?;
        let elapsed_ms = started.started.elapsed().as_millis() as u64;
        self.fail_as(walk, dag, id, "postcondition", message, elapsed_ms);
        Ok(())
    }

    /// The root outputs whose preconditions fail now, each with its previous value: they
    /// are reported as failures, and [`Runner::restore_outputs`] puts the previous values back
    /// once outputs are recorded.
    pub(super) fn output_preconditions(&mut self) -> Vec<(String, Option<OutputState>)> {
        let config = self.input.workspace.config;
        let mut blocked = Vec::new();
        let mut failures = Vec::new();
        for o in &config.outputs {
            if o.preconditions.is_empty() {
                continue;
            }
            let address = format!("output.{}", o.name);
            let scope: Scope<'_> = self.scope(Iteration::None);
            let result = self.conditions_message(
                ConditionKind::Pre,
                &address,
                &o.preconditions,
                &ConditionScope::new(&scope),
            );
            if let Err(message) = result {
                failures.push(Failure {
                    address,
                    action: "precondition".into(),
                    message,
                });
                blocked.push((
                    o.name.clone(),
                    self.writer.state().outputs.get(&o.name).cloned(),
                ));
            }
        }
        self.module_output_preconditions(&mut failures);
        self.report.failures.extend(failures);
        blocked
    }

    /// The preconditions of module outputs, in every module instance the plan has objects
    /// in: a false one is a failure of the run (what it checks is wrong now that it exists).
    fn module_output_preconditions(&self, failures: &mut Vec<Failure>) {
        let mut insts: std::collections::BTreeSet<Vec<plinth_addr::ModuleStep>> =
            Default::default();
        for c in &self.input.plan.changes {
            if let Ok(a) = c.address.parse::<crate::addr::Address>()
                && !a.module.is_empty()
            {
                insts.insert(a.module);
            }
        }
        for inst in insts {
            let Some(m) = self.tree.of_instance(&inst) else {
                continue;
            };
            let outputs = &self.tree.get(m).config.outputs;
            if outputs.iter().all(|o| o.preconditions.is_empty()) {
                continue;
            }
            let scope = match self.scope_at(&inst) {
                Ok(s) => s,
                Err(_) => continue,
            };
            for o in outputs.iter().filter(|o| !o.preconditions.is_empty()) {
                let address = crate::addr::Address {
                    module: inst.clone(),
                    ..crate::addr::Address::new(crate::addr::DeclKind::Output, o.name.clone(), None)
                }
                .to_string();
                if let Err(message) = self.conditions_message(
                    ConditionKind::Pre,
                    &address,
                    &o.preconditions,
                    &ConditionScope::new(&scope),
                ) {
                    failures.push(Failure {
                        address,
                        action: "precondition".into(),
                        message,
                    });
                }
            }
        }
    }

    /// Puts back the previous values of outputs whose preconditions failed (see
    /// [`Runner::output_preconditions`]).
    pub(super) fn restore_outputs(
        &mut self,
        blocked: Vec<(String, Option<OutputState>)>,
    ) -> Result<(), EngineError> {
        if blocked.is_empty() {
            return Ok(());
        }
        let mut outputs = self.writer.state().outputs.clone();
        for (name, previous) in blocked {
            match previous {
                Some(p) => outputs.insert(name, p),
                None => outputs.remove(&name),
            };
        }
        if outputs != self.writer.state().outputs {
            self.writer
                .record(Change::Outputs { outputs })
                .map_err(state_err)?;
        }
        Ok(())
    }
}
