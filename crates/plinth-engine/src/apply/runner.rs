//! The coordinator's state and the steps of one operation: values seen by expressions,
//! evaluating its configuration with actual values, the pending record before it is sent, the
//! provider call as a task, and failure.

use super::ops::{Done, Op, OpKind, deposed_key};
use super::{ApplyInput, ApplyReport, Failure, state_err};
use crate::addr::{Address, DeclKind};
use crate::events::{Event, EventSink};
use crate::marks;
use crate::reporter::EventReporter;
use crate::scope::{Expansion, InstanceMemo, Iteration, Scope, Values};
use crate::settings::{Settings, SettingsTables};
use crate::tree::ModTree;

use crate::error::EngineError;
use plinth_addr::InstanceKey;
use plinth_graph::{Dag, NodeId, Walk};
use plinth_plan::{Action, ReplaceOrder, ResourceChange};
use plinth_provider::{Observed, Prior, Provider, ProviderError, Request, diff};
use plinth_state::{Change, ResourceState, StateError, StateWriter, Status};
use plinth_value::Value;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::task::JoinSet;

/// The declaration a planned change comes from.
pub(super) enum DeclAt<'c> {
    /// A resource or data source.
    Resource(&'c plinth_config::ResourceDecl),
    /// An action.
    Action(&'c plinth_config::ActionDecl),
}

pub(super) struct Runner<'a, 'i> {
    pub(super) input: &'a ApplyInput<'i>,
    pub(super) values: Values,
    pub(super) writer: &'a mut dyn StateWriter,
    pub(super) events: &'a dyn EventSink,
    pub(super) report: ApplyReport,
    /// Changes decided in this scheduler turn, made durable together by `flush` (a group
    /// commit) before anything else happens: before any request is sent, and before any
    /// dependent is started.
    pub(super) staged: Vec<Change>,
    /// Provider settings tables (see [`crate::settings`]).
    pub(super) tables: SettingsTables,
    /// Settings as the state at the start of the run records them, for deletes: an object
    /// is deleted where it was created, even when what the settings name is itself being
    /// deleted in this run.
    pub(super) existing_settings: Settings,
    /// The static module tree.
    pub(super) tree: ModTree<'i>,
    /// Module instances' iterations and inputs once wholly known, so that each object
    /// does not evaluate its module instance's call again (see [`InstanceMemo`]).
    pub(super) memo: InstanceMemo,
}

impl Runner<'_, '_> {
    pub(super) fn stage(&mut self, change: Change) {
        self.staged.push(change);
    }

    /// Makes every staged change durable (one journal append and one sync).
    pub(super) fn flush(&mut self) -> Result<(), EngineError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.staged);
        self.writer.record_batch(batch).map_err(state_err)?;
        Ok(())
    }

    /// What expressions see during apply: the values that exist now (a module's outputs
    /// are evaluated when referred to, as locals are).
    pub(super) fn scope(&self, iteration: Iteration) -> Scope<'_> {
        let mut s = self.input.workspace.scope(&self.values, iteration);
        s.tree = Some(&self.tree);
        s.lazy = true;
        s.memo = Some(&self.memo);
        s
    }

    /// What expressions in module instance `inst` see during apply.
    pub(super) fn scope_at(&self, inst: &[plinth_addr::ModuleStep]) -> Result<Scope<'_>, String> {
        self.scope(Iteration::None)
            .descend(inst)
            .map_err(|d| format!("{} (any more): plan again", d.message))
    }

    pub(super) fn change(&self, op: &Op) -> &ResourceChange {
        &self.input.plan.changes[op.change]
    }

    /// Values as planned; replaced by actual values as operations finish.
    pub(super) fn seed_values(&mut self) {
        for c in &self.input.plan.changes {
            let Ok(addr) = c.address.parse::<Address>() else {
                continue;
            };
            match c.action {
                Action::Delete => {}
                Action::NoOp => {
                    self.values
                        .set(&addr, c.after.clone().unwrap_or(Value::Null), true)
                }
                _ => self
                    .values
                    .set(&addr, c.after.clone().unwrap_or(Value::Unknown), false),
            }
        }
        // Objects a `--target` left out of the plan are as state records them.
        if !self.input.plan.targets.is_empty() {
            let planned: HashSet<&str> = self
                .input
                .plan
                .changes
                .iter()
                .map(|c| c.address.as_str())
                .collect();
            for (address, r) in &self.writer.state().resources {
                if r.deposed || planned.contains(address.as_str()) {
                    continue;
                }
                if let Ok(addr) = address.parse::<Address>() {
                    let v = marks::record_value(self.input.workspace.registry, r);
                    self.values.set(&addr, v, true);
                }
            }
        }
        // Declarations with no instances, in every module instance the plan has objects in.
        // A set: a module with many instances would make a list's `contains` quadratic.
        let mut insts: HashSet<Vec<plinth_addr::ModuleStep>> =
            std::iter::once(Vec::new()).collect();
        for c in &self.input.plan.changes {
            if let Ok(a) = c.address.parse::<Address>() {
                insts.insert(a.module);
            }
        }
        for inst in insts {
            let Some(m) = self.tree.of_instance(&inst) else {
                continue;
            };
            for r in &self.tree.get(m).config.resources {
                let kind = r.mode;
                if let Some(expansion) = Expansion::of(r)
                    && self.values.get_in(&inst, kind, &r.name).is_none()
                {
                    self.values.set_empty(&inst, kind, &r.name, expansion);
                }
            }
        }
    }

    /// The declaration of a change and the scope its expressions see now: its module
    /// instance's, with its `each`/`count.index` as planned.
    pub(super) fn decl_scope(&self, c: &ResourceChange) -> Result<(DeclAt<'_>, Scope<'_>), String> {
        let addr: Address = c.address.parse().map_err(String::from)?;
        let m = self.tree.of_instance(&addr.module).ok_or_else(|| {
            format!(
                "`{}` is no longer in the configuration: plan again",
                Address::module_instance(addr.module.clone())
            )
        })?;
        let config = self.tree.get(m).config;
        let module_scope = self.scope_at(&addr.module)?;
        // `each` or `count.index` of the instance, as planned.
        let iteration = |r: &plinth_config::ResourceDecl| -> Result<Iteration, String> {
            match (Expansion::of(r), &addr.key) {
                (None, None) => Ok(Iteration::None),
                (Some(Expansion::Count), Some(InstanceKey::Int(i))) => Ok(Iteration::Count(*i)),
                (Some(Expansion::ForEach), Some(InstanceKey::Str(key))) => {
                    let fe = r.for_each.as_ref().ok_or("for_each is gone")?;
                    let v = fe.eval(&module_scope).map_err(|d| d.message)?;
                    let value = match v.unmarked() {
                        Value::Map(m) => m
                            .get(key)
                            .cloned()
                            .ok_or_else(|| format!("for_each no longer has the key \"{key}\""))?,
                        _ => Value::from(key.as_str()),
                    };
                    Ok(Iteration::Each {
                        key: Value::from(key.as_str()),
                        value,
                    })
                }
                (expansion, _) => Err(format!(
                    "the configuration of `{}` changed since the plan ({}): plan again",
                    addr.decl_text(),
                    match expansion {
                        Some(e) => format!("it now has {}", e.name()),
                        None => "it no longer has count or for_each".to_string(),
                    }
                )),
            }
        };
        let (decl, iteration) = match addr.kind {
            DeclKind::Action => {
                let a = config
                    .actions
                    .iter()
                    .find(|a| a.name == addr.name)
                    .ok_or("the action is no longer in the configuration")?;
                (DeclAt::Action(a), Iteration::None)
            }
            kind => {
                let r = config
                    .resource(kind, &addr.name)
                    .ok_or("the resource is no longer in the configuration")?;
                (DeclAt::Resource(r), iteration(r)?)
            }
        };
        Ok((decl, module_scope.with_iteration(iteration)))
    }

    /// Evaluates the configuration of an operation with the values now known.
    pub(super) fn eval_config(&self, c: &ResourceChange) -> Result<Value, String> {
        let (decl, scope) = self.decl_scope(c)?;
        let (node, schema_type, lifecycle) = match decl {
            DeclAt::Action(a) => (&a.inputs, &a.type_name, None),
            DeclAt::Resource(r) => (&r.inputs, &r.type_name, Some(&r.lifecycle)),
        };
        let mut v = node.eval(&scope).map_err(|d| d.message)?;
        if let Some(schema) = crate::inputs::schema_of(self.input.workspace.registry, schema_type) {
            diff::mark_sensitive(&schema, &mut v);
        }
        if let (Some(l), Some(rec)) = (lifecycle, self.writer.state().resources.get(&c.address)) {
            let lookup = self.input.workspace.registry.lookup(schema_type);
            crate::inputs::restore_ignored(
                &mut v,
                &marks::prior(self.input.workspace.registry, rec),
                &l.ignore_changes,
                |path| match &lookup {
                    Some((p, t)) => p.attribute_path(t, path),
                    None => Some(path.clone()),
                },
            );
            if let Some((p, t)) = &lookup {
                crate::plan::managed::carry(p.as_ref(), t, &l.manage, c.config.as_ref(), &mut v);
            }
        }
        if let Some(p) = v.unknown_paths().first() {
            return Err(format!(
                "`{}` is still unknown at apply time; what it refers to did not provide it",
                if p.is_root() {
                    "the configuration".to_string()
                } else {
                    p.to_string()
                }
            ));
        }
        Ok(v)
    }

    /// Config, prior record, serialisation key and provider settings of an operation about
    /// to start.
    #[allow(clippy::type_complexity)]
    pub(super) fn prepare(
        &self,
        op: &Op,
    ) -> Result<(Value, Option<ResourceState>, Option<String>, Value), String> {
        let c = self.change(op);
        let state = self.writer.state();
        let (config, prior) = match op.kind {
            OpKind::Create | OpKind::Update | OpKind::Read | OpKind::Run => (
                self.eval_config(c)?,
                state.resources.get(&c.address).cloned(),
            ),
            OpKind::RecordRead => (c.config.clone().unwrap_or(Value::Null), None),
            OpKind::Delete => (Value::Null, state.resources.get(&c.address).cloned()),
            OpKind::DeleteDeposed => {
                let key = deposed_key(&c.address);
                (
                    Value::Null,
                    state
                        .resources
                        .get(&key)
                        .cloned()
                        .or_else(|| state.resources.get(&c.address).cloned()),
                )
            }
        };
        // Deletes are keyed by the inputs the object was created with.
        let key_source = match (&prior, op.kind.forward()) {
            (Some(r), false) => marks::prior(self.input.workspace.registry, r).inputs,
            _ => config.clone(),
        };
        let key = self
            .input
            .workspace
            .registry
            .lookup(&c.type_name)
            .and_then(|(p, t)| p.serialization_key(&t, &key_source));
        let settings = match op.kind {
            OpKind::RecordRead => Value::Null,
            _ => self.settings(op, prior.as_ref())?,
        };
        Ok((config, prior, key, settings))
    }

    /// Records what must be durable before a request is sent.
    pub(super) fn before_send(
        &mut self,
        op: &Op,
        config: &Value,
        prior: Option<&ResourceState>,
        settings: &Value,
    ) -> Result<(), StateError> {
        // The plan outlives the runner: borrowing the change from it, not from `self`, leaves
        // `self` free to stage (a clone per operation cost a copy of its values).
        let input = self.input;
        let c = &input.plan.changes[op.change];
        match op.kind {
            OpKind::Create => {
                if c.replace_order == Some(ReplaceOrder::CreateThenDelete)
                    && let Some(old) = prior
                {
                    // Keep the old object as deposed until its replacement exists.
                    let mut deposed = old.clone();
                    deposed.address = deposed_key(&c.address);
                    deposed.deposed = true;
                    self.stage(Change::Put(Box::new(deposed)));
                }
                let id = self
                    .input
                    .workspace
                    .registry
                    .lookup(&c.type_name)
                    .and_then(|(p, t)| p.planned_id(&t, config));
                self.stage(Change::Put(Box::new(ResourceState {
                    address: c.address.clone(),
                    type_name: c.type_name.clone(),
                    mode: plinth_state::DeclKind::Resource,
                    id,
                    inputs: serde_json::Value::Null,
                    attributes: serde_json::Value::Null,
                    dependencies: c.depends_on.clone(),
                    sensitive_paths: vec![],
                    status: Status::PendingCreate,
                    deposed: false,
                    settings: crate::records::recorded_settings(
                        self.input.workspace.registry,
                        &c.type_name,
                        settings,
                    ),
                })));
            }
            OpKind::Delete | OpKind::DeleteDeposed => {
                if let Some(old) = prior {
                    let mut pending = old.clone();
                    pending.status = Status::PendingDelete;
                    self.stage(Change::Put(Box::new(pending)));
                }
            }
            _ => {}
        }
        Ok(())
    }

    // The operation's inputs arrive separately because `prepare` computes them before the
    // pending records are flushed, and `Started` keeps config and prior afterwards.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn spawn(
        &self,
        tasks: &mut JoinSet<(NodeId, Result<Done, ProviderError>)>,
        id: NodeId,
        op: &Op,
        config: &Value,
        prior: Option<&ResourceState>,
        settings: Value,
        reporter: Arc<EventReporter>,
    ) -> tokio::task::Id {
        let c = self.change(op);
        let kind = op.kind;
        let lookup = self
            .input
            .workspace
            .registry
            .lookup(&c.type_name)
            .map(|(p, t)| (p.clone(), t));
        let address = c.address.clone();
        let config = config.clone();
        let planned_after = c.after.clone();
        let is_data_record =
            !kind.forward() && prior.is_some_and(|r| r.mode == plinth_state::DeclKind::Data);
        let prior: Option<Prior> = prior.map(|r| marks::prior(self.input.workspace.registry, r));
        let handle = tasks.spawn(async move {
            let Some((provider, t)) = lookup else {
                return (id, Err(ProviderError::new("no provider for this type")));
            };
            let provider: Arc<dyn Provider> = provider;
            let req = Request::new(&t, &address, reporter.as_ref()).with_settings(&settings);
            let res = match kind {
                OpKind::Create => provider.create(&req, &config).await.map(Done::Observed),
                OpKind::Update => match &prior {
                    Some(p) => provider.update(&req, p, &config).await.map(Done::Observed),
                    None => Err(ProviderError::new(
                        "the object to update is no longer in state",
                    )),
                },
                // A data source's record is only forgotten: the object it read is not
                // plinth's to delete.
                _ if is_data_record => Ok(Done::Deleted),
                OpKind::Delete | OpKind::DeleteDeposed => match &prior {
                    Some(p) => provider.delete(&req, p).await.map(|_| Done::Deleted),
                    None => Ok(Done::Deleted),
                },
                OpKind::Read => provider.read_data(&req, &config).await.map(Done::Observed),
                OpKind::RecordRead => Ok(Done::Observed(Observed {
                    id: None,
                    attributes: planned_after.unwrap_or(Value::Null),
                })),
                OpKind::Run => provider.run_action(&req, &config).await.map(|_| Done::Ran),
            };
            (id, res)
        });
        handle.id()
    }

    /// Reports a failed operation and skips everything that depends on it.
    pub(super) fn fail(
        &mut self,
        walk: &mut Walk,
        dag: &Dag<Op>,
        id: NodeId,
        message: String,
        elapsed_ms: u64,
    ) {
        let action = dag.node(id).kind.label();
        self.fail_as(walk, dag, id, action, message, elapsed_ms)
    }

    /// [`Runner::fail`], reported as `action` (`precondition`, `postcondition`) rather than
    /// the operation's kind.
    pub(super) fn fail_as(
        &mut self,
        walk: &mut Walk,
        dag: &Dag<Op>,
        id: NodeId,
        action: &str,
        message: String,
        elapsed_ms: u64,
    ) {
        let op = dag.node(id);
        let input = self.input;
        let c = &input.plan.changes[op.change];
        self.events.emit(Event::OpFinished {
            address: c.address.clone(),
            action: action.into(),
            elapsed_ms,
            outcome: "failed".into(),
            error: Some(message.clone()),
        });
        self.report.failures.push(Failure {
            address: c.address.clone(),
            action: action.into(),
            message,
        });
        let address = c.address.clone();
        for s in walk.fail(id) {
            let sop = dag.node(s);
            let sc = &self.input.plan.changes[sop.change];
            let reason = format!("`{address}` failed");
            self.events.emit(Event::OpSkipped {
                address: sc.address.clone(),
                action: sop.kind.label().into(),
                reason: reason.clone(),
            });
            self.report.skipped.push((sc.address.clone(), reason));
        }
    }
}
