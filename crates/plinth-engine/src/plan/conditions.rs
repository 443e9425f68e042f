//! Preconditions and postconditions while planning. A resource's or data source's
//! preconditions are evaluated in its instance's scope before the provider is asked anything
//! about it; its postconditions once the provider planned it (or the data was read), `self`
//! being the planned attributes; an output's preconditions before its value is recorded.
//! A known false condition is a located error (`Diagnostic::subject` = the address) and stops
//! the object and everything planned after it that depends on it; an unknown one is left to
//! apply, which evaluates every condition again with actual values.

use std::collections::HashSet;

use plinth_addr::{InstanceKey, ModuleStep};
use plinth_config::ResourceDecl;
use plinth_graph::NodeId;
use plinth_value::Value;

use crate::addr::Address;
use crate::graph::Decl;
use crate::scope::{ConditionKind, ConditionScope, DeclValue, Inst, Iteration, check_all};
use crate::tree::ROOT;

use super::planner::Planner;

/// The declarations a failed condition stopped (their dependents are not planned), and the
/// data source instances whose preconditions are unknown (read at apply, once they hold).
#[derive(Debug, Default)]
pub(super) struct Stopped {
    nodes: HashSet<NodeId>,
    read_later: HashSet<String>,
}

impl Stopped {
    /// Whether the data source instance `address` is read at apply because its
    /// preconditions are unknown now.
    pub(super) fn read_later(&self, address: &str) -> bool {
        self.read_later.contains(address)
    }
}

impl Planner<'_, '_> {
    /// Whether declaration `id` depends on one a failed condition stopped. A resource or
    /// action that does is not planned (its value unknown, so nothing reports it again); any
    /// other declaration is still evaluated (no provider is asked) and passes it on.
    pub(super) fn stopped_by_condition(&mut self, id: NodeId) -> bool {
        if self.stopped.nodes.is_empty() {
            return false;
        }
        let hit = self
            .graph
            .dag
            .dependencies(id)
            .into_iter()
            .any(|d| self.stopped.nodes.contains(&d));
        if !hit {
            return false;
        }
        self.stopped.nodes.insert(id);
        let decl = *self.graph.dag.node(id);
        let (m, kind, name) = match decl {
            Decl::Resource(m, i) => {
                let r = &self.tree.get(m).config.resources[i];
                (m, r.mode, r.name.clone())
            }
            Decl::Action(m, i) => (
                m,
                crate::addr::DeclKind::Action,
                self.tree.get(m).config.actions[i].name.clone(),
            ),
            _ => return false,
        };
        for inst in self.instances[m].clone() {
            self.values.set_unknown(&inst, kind, &name);
        }
        true
    }

    /// The preconditions of one instance, before anything asks its provider: false when one
    /// failed (reported; the instance and its dependents are stopped).
    pub(super) fn preconditions_hold(
        &mut self,
        decl: &ResourceDecl,
        m: usize,
        addr: &Address,
        each: &Iteration,
        id: NodeId,
    ) -> bool {
        let conditions = &decl.lifecycle.preconditions;
        if conditions.is_empty() {
            return true;
        }
        let scope = self.scope_in(m, &addr.module, each.clone());
        let result = check_all(
            ConditionKind::Pre,
            &addr.to_string(),
            conditions,
            &ConditionScope::new(&scope),
        );
        drop(scope);
        if matches!(result, Ok(false)) && addr.kind == crate::addr::DeclKind::Data {
            self.stopped.read_later.insert(addr.to_string());
        }
        self.settle(result, id, Some(addr))
    }

    /// The postconditions of one instance just planned, `self` being its planned attributes:
    /// false when one failed (reported; its dependents are stopped).
    pub(super) fn postconditions_hold(
        &mut self,
        decl: &ResourceDecl,
        m: usize,
        addr: &Address,
        each: &Iteration,
        id: NodeId,
    ) -> bool {
        let conditions = &decl.lifecycle.postconditions;
        if conditions.is_empty() {
            return true;
        }
        let this = self
            .values
            .get_in(&addr.module, addr.kind, &addr.name)
            .and_then(|v| instance(v, &addr.key))
            .unwrap_or(Inst {
                value: Value::Unknown,
                complete: false,
            });
        let scope = self.scope_in(m, &addr.module, each.clone());
        let ctx = ConditionScope {
            this: Some(this),
            ..ConditionScope::new(&scope)
        };
        let result = check_all(ConditionKind::Post, &addr.to_string(), conditions, &ctx);
        drop(scope);
        self.settle(result, id, None)
    }

    /// The preconditions of output `i` of static module `m` in its instance `inst`: false
    /// when one failed (reported; the output is not recorded, a module's is unknown).
    pub(super) fn output_preconditions_hold(
        &mut self,
        m: usize,
        i: usize,
        inst: &[ModuleStep],
        id: NodeId,
    ) -> bool {
        let decl = &self.tree.get(m).config.outputs[i];
        if decl.preconditions.is_empty() {
            return true;
        }
        let address = output_address(inst, &decl.name);
        let scope = self.scope_in(m, inst, Iteration::None);
        let result = check_all(
            ConditionKind::Pre,
            &address,
            &decl.preconditions,
            &ConditionScope::new(&scope),
        );
        drop(scope);
        let name = decl.name.clone();
        let ok = self.settle(result, id, None);
        if !ok && m != ROOT {
            self.values.set_output(inst, &name, Value::Unknown);
        }
        ok
    }

    /// Reports a failed evaluation and stops declaration `id` (and, when given, makes the
    /// instance's value unknown).
    fn settle(
        &mut self,
        result: Result<bool, Vec<plinth_config::Diagnostic>>,
        id: NodeId,
        unknown: Option<&Address>,
    ) -> bool {
        match result {
            // Unknown conditions are evaluated again at apply.
            Ok(_) => true,
            Err(errors) => {
                for d in errors {
                    self.diags.push(d);
                }
                self.stopped.nodes.insert(id);
                if let Some(addr) = unknown {
                    self.values.set(addr, Value::Unknown, false);
                }
                false
            }
        }
    }
}

/// `output.NAME`, with its module instance's prefix.
pub(super) fn output_address(inst: &[ModuleStep], name: &str) -> String {
    Address {
        module: inst.to_vec(),
        ..Address::new(crate::addr::DeclKind::Output, name.to_string(), None)
    }
    .to_string()
}

/// The value of one instance (`key`) of a declaration's value.
pub(crate) fn instance(v: &DeclValue, key: &Option<InstanceKey>) -> Option<Inst> {
    match (v, key) {
        (DeclValue::Single(i), None) => Some(i.clone()),
        (DeclValue::Instances(m), Some(InstanceKey::Str(k))) => m.get(k).cloned(),
        (DeclValue::Counted(m), Some(InstanceKey::Int(k))) => m.get(k).cloned(),
        _ => None,
    }
}
