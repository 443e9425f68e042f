//! Recording in state: refresh results the plan showed, each finished operation, outputs,
//! and action history.

use super::ops::{Done, Op, OpKind, Started, deposed_key};
use super::runner::Runner;
use super::{Failure, history, state_err};
use crate::addr::Address;
use crate::error::EngineError;
use crate::events::Event;
use crate::marks;
use crate::scope::Iteration;
use plinth_config::Diagnostic;
use plinth_graph::{Dag, NodeId, Walk};
use plinth_plan::{Action, PlanMode, ReplaceOrder, ResourceChange};
use plinth_provider::{Observed, ProviderError};
use plinth_state::{Change, OutputState, StateError, Status};
use plinth_value::Value;
use std::collections::BTreeMap;

impl Runner<'_, '_> {
    /// Writes what refresh found and the plan showed, so that state matches what exists
    /// before anything changes. Drift no rendering showed (attributes the configuration does
    /// not set, in a normal plan) is not written: state keeps what it recorded, and the next
    /// `plan --refresh-only` still reports the difference. The exception is what
    /// `lifecycle.ignore_changes` leaves to others: the values found there are written, shown
    /// or not, since the configuration takes them from state at apply (`restore_ignored`), and
    /// a stale one would undo the change it was told to keep (a PUT without the tags Azure
    /// Policy added).
    pub(super) fn persist_refresh(&mut self) -> Result<(), EngineError> {
        let everything_shown = self.input.plan.mode == plinth_plan::PlanMode::RefreshOnly;
        for d in &self.input.plan.drift {
            let Some(existing) = self.writer.state().resources.get(&d.address) else {
                continue;
            };
            let id_moved = d.id.is_some() && d.id != existing.id;
            let ignored = if everything_shown {
                Vec::new()
            } else {
                self.ignored_changed(d, &existing.attributes)
            };
            if !everything_shown && !d.is_reportable() && !id_moved && ignored.is_empty() {
                continue;
            }
            let mut rec = existing.clone();
            match (&d.action, &d.after) {
                (Action::Delete, _) => {
                    self.writer
                        .record(Change::Remove {
                            address: d.address.clone(),
                        })
                        .map_err(state_err)?;
                }
                (Action::Update, Some(after)) => {
                    if everything_shown {
                        rec.attributes = after.to_json();
                    } else {
                        // Only the paths the plan showed take the values found (those
                        // it showed as not managed here too).
                        let mut attrs = plinth_value::Value::from(&rec.attributes);
                        for p in d
                            .changed_paths
                            .iter()
                            .chain(&d.unmanaged_paths)
                            .chain(&ignored)
                        {
                            match after.get(p) {
                                Some(v) => attrs.set(p, v),
                                None => {
                                    attrs.remove(p);
                                }
                            }
                        }
                        rec.attributes = attrs.to_json();
                    }
                    marks::add_paths(&mut rec.sensitive_paths, after);
                    if d.id.is_some() {
                        rec.id = d.id.clone();
                    }
                    if d.reconciled {
                        rec.status = Status::Created;
                    }
                    self.writer
                        .record(Change::Put(Box::new(rec)))
                        .map_err(state_err)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The attribute paths under the declaration's `ignore_changes` at which the object as
    /// refresh found it (`d.after`) differs from what state records (`recorded`).
    fn ignored_changed(
        &self,
        d: &plinth_plan::Drift,
        recorded: &serde_json::Value,
    ) -> Vec<plinth_value::Path> {
        let Some(after) = &d.after else {
            return Vec::new();
        };
        let Some(decl) = d.address.parse::<Address>().ok().and_then(|a| {
            let m = self.tree.of_instance(&a.module)?;
            self.tree
                .get(m)
                .config
                .resource(crate::addr::DeclKind::Resource, &a.name)
        }) else {
            return Vec::new();
        };
        let inputs: Vec<plinth_value::Path> = decl
            .lifecycle
            .ignore_changes
            .iter()
            .map(|(p, _)| p.clone())
            .collect();
        if inputs.is_empty() {
            return Vec::new();
        }
        let recorded = Value::from(recorded);
        crate::refresh::ignored_attribute_paths(
            self.input.workspace.registry,
            &d.type_name,
            &inputs,
        )
        .into_iter()
        .filter(|p| recorded.get(p) != after.get(p))
        .collect()
    }

    /// Renames the records the plan moves (`ResourceChange::moved_from`), durably and before
    /// any operation runs, so that every operation finds its object at its new address. A
    /// move state no longer allows (the record is gone, or its new address is taken: state
    /// changed since the plan) is refused before anything is written. Then the plan's
    /// forgets are recorded ([`Self::persist_forgets`]).
    pub(super) fn persist_moves(&mut self) -> Result<(), EngineError> {
        let plan = self.input.plan;
        let moves: Vec<(&str, &str)> = plan
            .changes
            .iter()
            .filter_map(|c| Some((c.moved_from.as_deref()?, c.address.as_str())))
            .collect();
        if moves.is_empty() {
            return self.persist_forgets();
        }
        let resources = &self.writer.state().resources;
        for (from, to) in &moves {
            let problem = if !resources.contains_key(*from) {
                Some(format!("state no longer holds `{from}`"))
            } else if resources.contains_key(*to) {
                Some(format!("state already holds `{to}`"))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Diagnostic::new(format!(
                    "the plan moves `{from}` to `{to}`, but {problem}: the state changed since the plan was made"
                ))
                .help("run `plinth plan` again and apply the new plan")
                .into());
            }
        }
        for (from, to) in moves {
            self.stage(Change::Move {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        self.flush()?;
        self.persist_forgets()
    }

    /// Removes from state the records the plan forgets (`Action::Forget`: a `[[removed]]`
    /// block with `destroy = false`), one journal record each, before any operation runs; no
    /// provider is called and the objects stay where they are. A forget of a record state no
    /// longer holds (state changed since the plan) is refused before anything is written.
    pub(super) fn persist_forgets(&mut self) -> Result<(), EngineError> {
        let forgets: Vec<&str> = self
            .input
            .plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Forget)
            .map(|c| c.address.as_str())
            .collect();
        if forgets.is_empty() {
            return Ok(());
        }
        if let Some(gone) = forgets
            .iter()
            .find(|a| !self.writer.state().resources.contains_key(**a))
        {
            return Err(Diagnostic::new(format!(
                "the plan forgets `{gone}`, but state no longer holds it: the state changed since the plan was made"
            ))
            .help("run `plinth plan` again and apply the new plan")
            .into());
        }
        for address in forgets {
            self.stage(Change::Remove {
                address: address.to_string(),
            });
        }
        self.flush()
    }

    /// Records the objects the plan imports (`ResourceChange::importing`) as they were read,
    /// before any operation runs (no create ever happens for them): the inputs
    /// `import::adopted_inputs` gives, the attributes read (the change's `before`), and the
    /// provider settings evaluated with the values the plan knows. A change that then
    /// updates or replaces the object proceeds against this record. State that already holds
    /// an importing address changed since the plan: refused before anything is written.
    pub(super) fn persist_imports(&mut self) -> Result<(), EngineError> {
        let plan = self.input.plan;
        let mut records = Vec::new();
        for (i, c) in plan.changes.iter().enumerate() {
            let Some(importing) = &c.importing else {
                continue;
            };
            if self.writer.state().resources.contains_key(&c.address) {
                return Err(Diagnostic::new(format!(
                    "the plan imports `{}`, but state already holds it: the state changed since the plan was made",
                    c.address
                ))
                .help("run `plinth plan` again and apply the new plan")
                .into());
            }
            let op = Op {
                change: i,
                kind: OpKind::Update,
            };
            let settings = self.settings(&op, None).map_err(|m| {
                EngineError::from(Diagnostic::new(format!(
                    "cannot record the import of `{}`: {m}",
                    c.address
                )))
            })?;
            let obs = Observed {
                id: c.id.clone().or_else(|| Some(importing.id.clone())),
                attributes: c.before.clone().unwrap_or(Value::Null),
            };
            let inputs = crate::import::adopted_inputs(
                self.input.workspace.registry,
                &c.type_name,
                c.config.as_ref().unwrap_or(&Value::Null),
                &obs.attributes,
            );
            let (record, _) = crate::records::object_record(
                self.input.workspace.registry,
                crate::records::Recording {
                    address: &c.address,
                    type_name: &c.type_name,
                    mode: plinth_state::DeclKind::Resource,
                    inputs: &inputs,
                    settings: &settings,
                    dependencies: c.depends_on.clone(),
                },
                obs,
            );
            records.push(record);
        }
        if records.is_empty() {
            return Ok(());
        }
        for record in records {
            self.stage(Change::Put(Box::new(record)));
        }
        self.flush()
    }

    pub(super) fn record_object(
        &mut self,
        c: &ResourceChange,
        mode: plinth_state::DeclKind,
        config: &Value,
        settings: &Value,
        obs: Observed,
    ) -> Result<(), StateError> {
        let (record, attrs) = crate::records::object_record(
            self.input.workspace.registry,
            crate::records::Recording {
                address: &c.address,
                type_name: &c.type_name,
                mode,
                inputs: config,
                settings,
                dependencies: c.depends_on.clone(),
            },
            obs,
        );
        if let Ok(addr) = c.address.parse::<Address>() {
            self.values.set(&addr, attrs, true);
        }
        self.stage(Change::Put(Box::new(record)));
        Ok(())
    }

    pub(super) fn finish(
        &mut self,
        walk: &mut Walk,
        dag: &Dag<Op>,
        id: NodeId,
        op: &Op,
        started: Started,
        result: Result<Done, ProviderError>,
    ) -> Result<(), EngineError> {
        // Borrowed from the plan, which outlives the runner (not cloned per operation).
        let input = self.input;
        let c = &input.plan.changes[op.change];
        let elapsed_ms = started.started.elapsed().as_millis() as u64;
        let result = match result {
            Ok(done) => done,
            Err(e) => {
                // A service may echo what it was sent: keep secrets out of the message.
                let mut secrets = started.config.sensitive_texts();
                if let Some(p) = &started.prior {
                    let p = marks::prior(self.input.workspace.registry, p);
                    secrets.extend(p.inputs.sensitive_texts());
                    secrets.extend(p.attributes.sensitive_texts());
                }
                secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
                let message = plinth_value::scrub(&e.to_string(), &secrets);
                // Undo the pending mark where nothing can have happened. A request the
                // service accepted (a delete whose long-running operation then failed or
                // timed out) may still take effect: its record stays pending, for the next
                // refresh to settle by reading what exists.
                match op.kind {
                    _ if e.accepted
                        && matches!(
                            op.kind,
                            OpKind::Create | OpKind::Delete | OpKind::DeleteDeposed
                        ) => {}
                    OpKind::Create => {
                        let rec = self.writer.state().resources.get(&c.address).cloned();
                        let deposed = self
                            .writer
                            .state()
                            .resources
                            .get(&deposed_key(&c.address))
                            .cloned();
                        if let Some(r) = rec
                            && r.status == Status::PendingCreate
                            && r.id.is_none()
                        {
                            match deposed {
                                // A create_before_destroy replacement whose new object
                                // cannot exist: the old object is still the current one
                                // (otherwise the next run would delete it concurrently
                                // with creating its replacement).
                                Some(mut old)
                                    if c.replace_order == Some(ReplaceOrder::CreateThenDelete) =>
                                {
                                    old.address = c.address.clone();
                                    old.deposed = false;
                                    self.stage(Change::Put(Box::new(old)));
                                    self.stage(Change::Remove {
                                        address: deposed_key(&c.address),
                                    });
                                }
                                _ => {
                                    self.stage(Change::Remove {
                                        address: c.address.clone(),
                                    });
                                }
                            }
                        }
                    }
                    OpKind::Delete | OpKind::DeleteDeposed => {
                        if let Some(mut old) = started.prior.clone() {
                            old.status = Status::Created;
                            self.stage(Change::Put(Box::new(old)));
                        }
                    }
                    OpKind::Run => {
                        self.stage(Change::History(history(c, format!("failed: {message}"))));
                    }
                    _ => {}
                }
                self.fail(walk, dag, id, message, elapsed_ms);
                return Ok(());
            }
        };
        match (op.kind, result) {
            (OpKind::Create | OpKind::Update, Done::Observed(obs)) => {
                self.record_object(
                    c,
                    plinth_state::DeclKind::Resource,
                    &started.config,
                    &started.settings,
                    obs,
                )
                .map_err(state_err)?;
            }
            (OpKind::Read | OpKind::RecordRead, Done::Observed(obs)) => {
                self.record_object(
                    c,
                    plinth_state::DeclKind::Data,
                    &started.config,
                    &started.settings,
                    obs,
                )
                .map_err(state_err)?;
            }
            (OpKind::Delete, _) => {
                self.stage(Change::Remove {
                    address: c.address.clone(),
                });
            }
            (OpKind::DeleteDeposed, _) => {
                let key = deposed_key(&c.address);
                let addr = if self.writer.state().resources.contains_key(&key) {
                    key
                } else {
                    c.address.clone()
                };
                self.stage(Change::Remove { address: addr });
            }
            (OpKind::Run, _) => {
                self.stage(Change::History(history(c, "ok".into())));
            }
            _ => {}
        }
        self.report.succeeded += 1;
        self.events.emit(Event::OpFinished {
            address: c.address.clone(),
            action: op.kind.label().into(),
            elapsed_ms,
            outcome: "ok".into(),
            error: None,
        });
        walk.complete(id);
        Ok(())
    }

    /// Evaluates outputs with the values that now exist and records them.
    pub(super) fn record_outputs(&mut self) -> Result<(), EngineError> {
        let plan = self.input.plan;
        let old = self.writer.state().outputs.clone();
        let targeted = !plan.targets.is_empty();
        let planned = |name: &str| plan.outputs.iter().find(|o| o.name == name);
        let mut outputs = BTreeMap::new();
        if plan.mode == PlanMode::Destroy {
            // A targeted destroy removes only the outputs its plan removes.
            if targeted {
                outputs = old.clone();
                outputs.retain(|name, _| planned(name).is_none());
            }
        } else {
            if targeted {
                // Outputs outside the target, and ones no longer configured, keep their values.
                for (name, prev) in &old {
                    if planned(name).is_none() {
                        outputs.insert(name.clone(), prev.clone());
                    }
                }
            }
            for o in &self.input.workspace.config.outputs {
                if targeted && planned(&o.name).is_none() {
                    continue;
                }
                let scope = self.scope(Iteration::None);
                match o.value.eval(&scope) {
                    Ok(v) if v.is_wholly_known() => {
                        outputs.insert(
                            o.name.clone(),
                            OutputState {
                                value: v.to_json(),
                                sensitive: o.sensitive || v.contains_sensitive(),
                            },
                        );
                    }
                    result => {
                        // An output that cannot be evaluated with the real values (e.g. a
                        // function rejecting a value that was unknown at plan time) is a
                        // failure of the run, not something to drop silently.
                        if let Err(d) = result {
                            self.report.failures.push(Failure {
                                address: format!("output.{}", o.name),
                                action: "output".into(),
                                message: d.message,
                            });
                        }
                        // Still unknown (what it refers to failed or did not run), or
                        // failed: keep the value of the last run.
                        if let Some(prev) = old.get(&o.name) {
                            outputs.insert(o.name.clone(), prev.clone());
                        }
                    }
                }
            }
        }
        if outputs != self.writer.state().outputs {
            self.writer
                .record(Change::Outputs { outputs })
                .map_err(state_err)?;
        }
        Ok(())
    }
}
