//! The coordinator loop: hands out ready operations (highest critical path first, within
//! `--parallelism` and serialisation keys), collects their results, and stops on interrupts.
//! It alone owns the state writer and the values.

use super::ops::{Done, Started, op_graph};
use super::runner::Runner;
use super::{ApplyInput, ApplyOptions, ApplyReport, PENDING_RUN, history, state_err};
use crate::error::EngineError;
use crate::events::{Event, EventSink};
use crate::reporter::EventReporter;
use crate::scope::{InstanceMemo, Values};
use crate::settings::SettingsTables;
use plinth_graph::{NodeId, Walk};
use plinth_plan::{Action, PlanMode};
use plinth_provider::ProviderError;
use plinth_state::{Change, StateWriter};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Carries out `plan`. State changes go through `writer` as they happen; the caller
/// compacts the state afterwards. `interrupt` counts Ctrl-Cs.
pub async fn apply(
    input: &ApplyInput<'_>,
    opts: &ApplyOptions,
    writer: &mut dyn StateWriter,
    events: &dyn EventSink,
    mut interrupt: watch::Receiver<u32>,
) -> Result<ApplyReport, EngineError> {
    let traced = crate::events::Traced(events);
    let events: &dyn EventSink = &traced;
    let plan = input.plan;
    let dag = op_graph(plan, writer.state()).map_err(EngineError::from)?;
    let tables = SettingsTables::new(input.workspace.config, input.workspace.registry);
    let existing_settings = tables.eval_from_state(
        input.workspace.config,
        input.workspace.vars,
        input.workspace.env,
        input.workspace.registry,
        writer.state().resources.values(),
    )?;
    let mut runner = Runner {
        input,
        values: Values::default(),
        writer,
        events,
        report: ApplyReport::default(),
        staged: Vec::new(),
        tables,
        existing_settings,
        tree: crate::tree::ModTree::new(input.workspace.config),
        memo: InstanceMemo::default(),
    };
    runner.persist_refresh()?;
    runner.persist_moves()?;
    if plan.mode == PlanMode::RefreshOnly {
        return Ok(runner.report);
    }
    runner.seed_values();
    // Imported objects are recorded once the planned values (what their settings name) are
    // seeded, before any operation.
    runner.persist_imports()?;
    // Actions about to run are recorded as pending first: if the run stops before one runs
    // (Ctrl-C, a crash, a failed dependency), the next plan runs it again instead of seeing
    // the previous successful run as the last word.
    for c in plan.changes.iter().filter(|c| c.action == Action::Run) {
        runner.stage(Change::History(history(c, PENDING_RUN.into())));
    }
    runner.flush()?;

    let weights: Vec<u64> = dag
        .node_ids()
        .map(|id| {
            let op = dag.node(id);
            let c = &plan.changes[op.change];
            let est = input
                .workspace
                .registry
                .lookup(&c.type_name)
                .and_then(|(p, t)| c.config.as_ref().map(|cfg| p.estimate(&t, cfg)))
                .unwrap_or(Duration::from_secs(1));
            est.as_millis() as u64 + 1
        })
        .collect();
    let priority = dag.critical_path(|id| weights[id.index()]);
    let mut walk = Walk::new(&dag, priority);
    let parallelism = opts.parallelism.max(1);
    let (tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
    let reporter = Arc::new(EventReporter { tx });

    let mut tasks: JoinSet<(NodeId, Result<Done, ProviderError>)> = JoinSet::new();
    let mut running: HashMap<NodeId, Started> = HashMap::new();
    let mut busy_keys: HashMap<String, NodeId> = HashMap::new();
    let mut waiting: HashMap<String, VecDeque<NodeId>> = HashMap::new();
    let mut ready_again: VecDeque<NodeId> = VecDeque::new();
    let mut stopping = false;
    let mut abandoned = false;
    // False once the interrupt sender is gone: `changed()` would then be ready forever and
    // the coordinator would spin on it instead of waiting for its operations.
    let mut interrupts_open = true;
    let task_ids: std::sync::Mutex<HashMap<tokio::task::Id, NodeId>> = Default::default();

    let immediate = |id: NodeId| {
        let c = &plan.changes[dag.node(id).change];
        input
            .workspace
            .registry
            .lookup(&c.type_name)
            .is_some_and(|(p, t)| p.is_immediate(&t))
    };
    // Operations in flight that count against the parallelism (not the immediate ones).
    let mut counted = 0usize;
    let mut to_spawn = Vec::new();
    let mut finished = Vec::new();
    loop {
        while !stopping && counted < parallelism {
            let Some(id) = ready_again.pop_front().or_else(|| walk.next_ready()) else {
                break;
            };
            let op = dag.node(id).clone();
            if let Err(message) = runner.preconditions(&op) {
                runner.fail_as(&mut walk, &dag, id, "precondition", message, 0);
                continue;
            }
            match runner.prepare(&op) {
                Err(message) => {
                    runner.fail(&mut walk, &dag, id, message, 0);
                }
                Ok((config, prior, key, settings)) => {
                    if let Some(k) = &key {
                        if busy_keys.contains_key(k) {
                            waiting.entry(k.clone()).or_default().push_back(id);
                            continue;
                        }
                        busy_keys.insert(k.clone(), id);
                    }
                    if let Err(e) = runner.before_send(&op, &config, prior.as_ref(), &settings) {
                        tasks.abort_all();
                        return Err(state_err(e));
                    }
                    let now = immediate(id);
                    if !now {
                        counted += 1;
                    }
                    to_spawn.push((id, op, config, prior, key, settings, now));
                }
            }
        }
        // The results of the last turn and the pending records of this one are durable
        // before any of these requests is sent.
        if let Err(e) = runner.flush() {
            tasks.abort_all();
            return Err(e);
        }
        for (id, op, config, prior, key, settings, immediate) in to_spawn.drain(..) {
            let c = &plan.changes[op.change];
            runner.events.emit(Event::OpStarted {
                address: c.address.clone(),
                action: op.kind.label().into(),
            });
            let handle = runner.spawn(
                &mut tasks,
                id,
                &op,
                &config,
                prior.as_ref(),
                settings.clone(),
                reporter.clone(),
            );
            task_ids.lock().expect("ids").insert(handle, id);
            running.insert(
                id,
                Started {
                    config,
                    settings,
                    prior,
                    started: Instant::now(),
                    key,
                    immediate,
                },
            );
        }
        // When stopping, operations queued behind a serialisation key (`ready_again`) will
        // never start: they must not keep the loop alive (it would wait forever).
        if running.is_empty() && (stopping || (walk.is_finished() && ready_again.is_empty())) {
            break;
        }
        tokio::select! {
            joined = tasks.join_next_with_id(), if !tasks.is_empty() => {
                // Everything that finished by now is handled in this turn, and recorded with
                // one sync before any dependent starts.
                finished.extend(joined);
                while let Some(more) = tasks.try_join_next_with_id() {
                    finished.push(more);
                }
            }
            // A provider's note (a retry) is shown while its operation runs, not when the
            // next operation happens to finish (only while something runs: otherwise this
            // branch would keep a stuck loop waiting instead of reaching `else`).
            Some(note) = notes.recv(), if !tasks.is_empty() => {
                runner.events.emit(note);
                continue;
            }
            changed = interrupt.changed(), if interrupts_open => {
                if changed.is_err() {
                    // The sender is gone: no more interrupts can come.
                    interrupts_open = false;
                    continue;
                }
                let n = *interrupt.borrow_and_update();
                runner.report.interrupts = n;
                if n >= 2 && !abandoned {
                    abandoned = true;
                    runner.events.emit(Event::Interrupted { second: true });
                    counted = 0;
                    for (id, _) in running.drain() {
                        let op = dag.node(id);
                        runner.report.abandoned.push(plan.changes[op.change].address.clone());
                    }
                    runner.report.abandoned.sort();
                    tasks.abort_all();
                    stopping = true;
                } else if n >= 1 && !stopping {
                    stopping = true;
                    runner.events.emit(Event::Interrupted { second: false });
                }
            }
            // Nothing running and no interrupt can come: nothing can change any more (the
            // walk is stuck); stop rather than panic. What is left is reported below.
            else => break,
        }
        for joined in finished.drain(..) {
            while let Ok(e) = notes.try_recv() {
                runner.events.emit(e);
            }
            let (id, result) = match joined {
                Ok((_, (id, result))) => (id, result),
                Err(e) => {
                    let id = task_ids.lock().expect("ids").get(&e.id()).copied();
                    match id {
                        Some(id) if e.is_cancelled() => {
                            if running.remove(&id).is_some_and(|s| !s.immediate) {
                                counted -= 1;
                            }
                            continue;
                        }
                        Some(id) => (
                            id,
                            Err(ProviderError::new(format!("the operation panicked: {e}"))),
                        ),
                        None => continue,
                    }
                }
            };
            let Some(started) = running.remove(&id) else {
                continue;
            };
            if !started.immediate {
                counted -= 1;
            }
            if let Some(k) = &started.key {
                busy_keys.remove(k);
                if let Some(next) = waiting.get_mut(k).and_then(VecDeque::pop_front) {
                    ready_again.push_back(next);
                }
            }
            let op = dag.node(id).clone();
            if let Err(e) = runner.finish_checked(&mut walk, &dag, id, &op, started, result) {
                tasks.abort_all();
                return Err(e);
            }
        }
        // What finished is made durable at the top of the loop, in one group commit with
        // the pending records of the operations that start next (no request is sent and no
        // dependent starts before it): one sync per turn instead of two.
    }
    // Whatever never started.
    let mut leftover: Vec<NodeId> = ready_again.into_iter().collect();
    leftover.extend(waiting.into_values().flatten());
    // Operations that were queued behind a serialisation key were already handed out by the
    // walk, so `skip_remaining` does not return them: report what `skip` returns as well,
    // or they would silently vanish from the report.
    let mut never_started: Vec<NodeId> = Vec::new();
    for id in leftover {
        never_started.extend(walk.skip(id));
    }
    never_started.extend(walk.skip_remaining());
    never_started.sort();
    never_started.dedup();
    for id in never_started {
        let op = dag.node(id);
        let c = &plan.changes[op.change];
        runner.events.emit(Event::OpSkipped {
            address: c.address.clone(),
            action: op.kind.label().into(),
            reason: "interrupted".into(),
        });
        runner
            .report
            .skipped
            .push((c.address.clone(), "interrupted".into()));
    }
    while let Ok(e) = notes.try_recv() {
        runner.events.emit(e);
    }
    if !abandoned {
        let blocked = runner.output_preconditions();
        runner.record_outputs()?;
        runner.restore_outputs(blocked)?;
    }
    if !abandoned && plan.mode != PlanMode::Destroy {
        runner.report.checks = runner.apply_checks().await;
    }
    Ok(runner.report)
}
