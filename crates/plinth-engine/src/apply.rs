//! Apply: carry out a plan, running independent operations concurrently (SPEC §4) and
//! recording every change durably as it happens (SPEC §5).
//!
//! The plan is turned into a graph of operations (a replacement is two: delete and create,
//! ordered by `create_before_destroy`). A single coordinator owns the state writer and the
//! values; provider calls run as tasks. Invariants:
//! - a create or delete is recorded as pending *before* it is sent;
//! - an operation starts only after everything it depends on succeeded;
//! - a failure skips exactly the operations that depend on it;
//! - the first interrupt stops new work and waits for what is running; the second abandons
//!   running work (its pending records stay pending for the next run to reconcile).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use plinth_config::{Config, Diagnostic, Diagnostics, Mode};
use plinth_graph::{Dag, NodeId, Walk};
use plinth_plan::{Action, Plan, PlanMode, ReplaceOrder, ResourceChange};
use plinth_provider::{Observed, Prior, Provider, ProviderError, Registry, Request, diff};
use plinth_state::{
    Change, HistoryEntry, OutputState, ResourceState, State, StateError, StateWriter, Status,
};
use plinth_value::Value;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::addr::{AddrKind, Address};
use crate::events::{Event, EventSink};
use crate::marks;
use crate::reporter::EventReporter;
use crate::scope::{Scope, Values};
use crate::settings::{Settings, SettingsTables, prefix_of, settings_for};

/// What apply needs besides the plan.
pub struct ApplyInput<'a> {
    pub config: &'a Config,
    pub vars: &'a BTreeMap<String, Value>,
    pub env: &'a BTreeMap<String, String>,
    pub registry: &'a Registry,
    pub plan: &'a Plan,
}

/// How apply runs.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// How many operations run at once.
    pub parallelism: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { parallelism: 16 }
    }
}

/// One failed operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub address: String,
    pub action: String,
    pub message: String,
}

/// What happened.
#[derive(Clone, Debug, Default)]
pub struct ApplyReport {
    pub succeeded: usize,
    pub failures: Vec<Failure>,
    /// Operations not run, with why.
    pub skipped: Vec<(String, String)>,
    /// Interrupted by the user (once: stopped starting work; twice: abandoned running work).
    pub interrupts: u32,
    /// Operations that were running when the run was abandoned.
    pub abandoned: Vec<String>,
}

impl ApplyReport {
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.interrupts == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    Create,
    Update,
    Delete,
    /// Delete the old object of a create_before_destroy replacement.
    DeleteDeposed,
    /// Read a data source now (its config was unknown at plan time).
    Read,
    /// Record a data source read at plan time.
    RecordRead,
    Run,
}

impl OpKind {
    fn label(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Update => "update",
            OpKind::Delete | OpKind::DeleteDeposed => "delete",
            OpKind::Read | OpKind::RecordRead => "read",
            OpKind::Run => "run",
        }
    }

    fn forward(self) -> bool {
        !matches!(self, OpKind::Delete | OpKind::DeleteDeposed)
    }
}

#[derive(Clone, Debug)]
struct Op {
    change: usize,
    kind: OpKind,
}

/// The outcome of a provider call.
enum Done {
    Observed(Observed),
    Deleted,
    Ran,
}

struct Started {
    config: Value,
    /// The provider settings the request carried (recorded with the object).
    settings: Value,
    prior: Option<ResourceState>,
    started: Instant,
    key: Option<String>,
}

fn deposed_key(address: &str) -> String {
    format!("{address} (deposed)")
}

/// Builds the graph of operations for a plan.
///
/// `state` is the state as it was before the run: it knows what the old objects depended on,
/// which the plan (carrying the configuration's new dependencies) does not.
fn op_graph(plan: &Plan, state: &State) -> Result<Dag<Op>, Diagnostic> {
    let mut dag = Dag::new();
    let mut fwd: HashMap<&str, NodeId> = HashMap::new();
    let mut del: HashMap<&str, NodeId> = HashMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        let mut add = |kind| dag.add_node(Op { change: i, kind });
        match c.action {
            Action::Create => {
                fwd.insert(&c.address, add(OpKind::Create));
            }
            Action::Update => {
                fwd.insert(&c.address, add(OpKind::Update));
            }
            Action::Delete => {
                del.insert(&c.address, add(OpKind::Delete));
            }
            Action::Read => {
                let kind = if c.after.as_ref().is_some_and(|a| !a.is_unknown()) {
                    OpKind::RecordRead
                } else {
                    OpKind::Read
                };
                fwd.insert(&c.address, add(kind));
            }
            Action::Run => {
                fwd.insert(&c.address, add(OpKind::Run));
            }
            Action::Replace => {
                let cbd = c.replace_order == Some(ReplaceOrder::CreateThenDelete);
                let d = add(if cbd {
                    OpKind::DeleteDeposed
                } else {
                    OpKind::Delete
                });
                let f = add(OpKind::Create);
                if cbd {
                    dag.add_edge(f, d);
                } else {
                    dag.add_edge(d, f);
                }
                fwd.insert(&c.address, f);
                del.insert(&c.address, d);
            }
            Action::NoOp => {}
        }
    }
    for c in &plan.changes {
        for dep in &c.depends_on {
            if let (Some(&from), Some(&to)) = (fwd.get(dep.as_str()), fwd.get(c.address.as_str())) {
                dag.add_edge(from, to);
            }
            if let (Some(&mine), Some(&theirs)) =
                (del.get(c.address.as_str()), del.get(dep.as_str()))
            {
                // I depended on `dep`: I go before it.
                if dag.node(mine).kind != OpKind::DeleteDeposed {
                    dag.add_edge(mine, theirs);
                }
            }
            // A dependent is repointed to the new object before the deposed one goes.
            if let (Some(&update), Some(&old)) =
                (fwd.get(c.address.as_str()), del.get(dep.as_str()))
                && dag.node(old).kind == OpKind::DeleteDeposed
            {
                dag.add_edge(update, old);
            }
        }
    }
    // Orders that need the old dependencies. Best effort: an edge that would contradict an
    // order required above is left out (the plan still applies, as before).
    let add_if_acyclic = |dag: &mut Dag<Op>, before: NodeId, after: NodeId| {
        if before != after && !dag.descendants(&[after]).contains(&before) {
            dag.add_edge(before, after);
        }
    };
    for c in &plan.changes {
        // An object leaving the configuration is deleted only after the resources that
        // referred to it are updated (or replaced) to stop referring to it, and after the
        // old object of a replaced resource that referred to it is gone.
        if c.action != Action::Delete
            && let Some(r) = state.resources.get(&c.address)
        {
            for dep in &r.dependencies {
                if let Some(&theirs) = del.get(dep.as_str())
                    && plan.change(dep).is_some_and(|d| d.action == Action::Delete)
                {
                    for mine in [fwd.get(c.address.as_str()), del.get(c.address.as_str())]
                        .into_iter()
                        .flatten()
                    {
                        add_if_acyclic(&mut dag, *mine, theirs);
                    }
                }
            }
        }
        // A deposed object left by an earlier run (a create_before_destroy replacement that
        // did not finish) goes only after its address has a new object and the resources
        // that depend on that address were repointed to it.
        if c.action == Action::Delete
            && let Some(base) = c.address.strip_suffix(" (deposed)")
            && let Some(&old) = del.get(c.address.as_str())
        {
            if let Some(&new) = fwd.get(base) {
                add_if_acyclic(&mut dag, new, old);
            }
            for other in &plan.changes {
                if other.depends_on.iter().any(|d| d == base)
                    && let Some(&user) = fwd.get(other.address.as_str())
                {
                    add_if_acyclic(&mut dag, user, old);
                }
            }
        }
    }
    if let Some(cycle) = dag.find_cycle() {
        let names: Vec<String> = cycle
            .iter()
            .map(|n| {
                let op = dag.node(*n);
                format!("{} {}", op.kind.label(), plan.changes[op.change].address)
            })
            .collect();
        return Err(Diagnostic::new(format!("the plan's operations form a cycle: {}", names.join(" -> ")))
            .help("this can happen when create_before_destroy and dependencies conflict; plan the changes in two steps with --target"));
    }
    Ok(dag)
}

struct Runner<'a, 'i> {
    input: &'a ApplyInput<'i>,
    values: Values,
    writer: &'a mut dyn StateWriter,
    events: &'a dyn EventSink,
    report: ApplyReport,
    /// Changes decided in this scheduler turn, made durable together by `flush` (a group
    /// commit) before anything else happens: before any request is sent, and before any
    /// dependent is started.
    staged: Vec<Change>,
    /// Provider settings tables (see [`crate::settings`]).
    tables: SettingsTables,
    /// Settings as the state at the start of the run records them, for deletes: an object
    /// is deleted where it was created, even when what the settings name is itself being
    /// deleted in this run.
    existing_settings: Settings,
}

fn state_err(e: StateError) -> Diagnostics {
    Diagnostic::new(format!("saving state failed: {e}"))
        .help("the state file holds everything recorded up to this point; fix the problem and run again")
        .into()
}

/// Carries out `plan`. State changes go through `writer` as they happen; the caller
/// compacts the state afterwards. `interrupt` counts Ctrl-Cs.
pub async fn apply(
    input: &ApplyInput<'_>,
    opts: &ApplyOptions,
    writer: &mut dyn StateWriter,
    events: &dyn EventSink,
    mut interrupt: watch::Receiver<u32>,
) -> Result<ApplyReport, Diagnostics> {
    let traced = crate::events::Traced(events);
    let events: &dyn EventSink = &traced;
    let plan = input.plan;
    let dag = op_graph(plan, writer.state()).map_err(Diagnostics::from)?;
    let tables = SettingsTables::new(input.config, input.registry);
    let existing_settings = tables.from_state(
        input.config,
        input.vars,
        input.env,
        input.registry,
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
    };
    runner.persist_refresh()?;
    if plan.mode == PlanMode::RefreshOnly {
        return Ok(runner.report);
    }
    runner.seed_values();
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

    let mut to_spawn = Vec::new();
    let mut finished = Vec::new();
    loop {
        while !stopping && running.len() + to_spawn.len() < parallelism {
            let Some(id) = ready_again.pop_front().or_else(|| walk.next_ready()) else {
                break;
            };
            let op = dag.node(id).clone();
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
                    to_spawn.push((id, op, config, prior, key, settings));
                }
            }
        }
        // Pending records are durable before any of these requests is sent.
        if let Err(e) = runner.flush() {
            tasks.abort_all();
            return Err(e);
        }
        for (id, op, config, prior, key, settings) in to_spawn.drain(..) {
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
                            running.remove(&id);
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
            if let Some(k) = &started.key {
                busy_keys.remove(k);
                if let Some(next) = waiting.get_mut(k).and_then(VecDeque::pop_front) {
                    ready_again.push_back(next);
                }
            }
            let op = dag.node(id).clone();
            if let Err(e) = runner.finish(&mut walk, &dag, id, &op, started, result) {
                tasks.abort_all();
                return Err(e);
            }
        }
        if let Err(e) = runner.flush() {
            tasks.abort_all();
            return Err(e);
        }
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
        runner.record_outputs()?;
    }
    Ok(runner.report)
}

impl Runner<'_, '_> {
    fn stage(&mut self, change: Change) {
        self.staged.push(change);
    }

    /// Makes every staged change durable (one journal append and one sync).
    fn flush(&mut self) -> Result<(), Diagnostics> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.staged);
        self.writer.record_batch(batch).map_err(state_err)?;
        Ok(())
    }

    /// What expressions see during apply: the values that exist now.
    fn scope(&self, each: Option<(Value, Value)>) -> Scope<'_> {
        Scope {
            vars: self.input.vars,
            env: self.input.env,
            registry: Some(self.input.registry),
            values: &self.values,
            each,
        }
    }

    fn change(&self, op: &Op) -> &ResourceChange {
        &self.input.plan.changes[op.change]
    }

    /// Writes what refresh found and the plan showed, so that state matches what exists
    /// before anything changes. Drift no rendering showed (attributes the configuration does
    /// not set, in a normal plan) is not written: state keeps what it recorded, and the next
    /// `plan --refresh-only` still reports the difference.
    fn persist_refresh(&mut self) -> Result<(), Diagnostics> {
        let everything_shown = self.input.plan.mode == plinth_plan::PlanMode::RefreshOnly;
        for d in &self.input.plan.drift {
            if !everything_shown
                && !d.is_reportable()
                && d.id.as_ref().is_none_or(|id| {
                    self.writer
                        .state()
                        .resources
                        .get(&d.address)
                        .and_then(|r| r.id.as_ref())
                        == Some(id)
                })
            {
                continue;
            }
            let existing = self.writer.state().resources.get(&d.address).cloned();
            let Some(mut rec) = existing else { continue };
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
                        // Only the paths the plan showed take the values found.
                        let mut attrs = plinth_value::Value::from(&rec.attributes);
                        for p in &d.changed_paths {
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

    /// Values as planned; replaced by actual values as operations finish.
    fn seed_values(&mut self) {
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
                    let mut v = marks::prior(self.input.registry, r).attributes;
                    if let (Some(id), Value::Map(_)) = (&r.id, &v)
                        && v.get(&plinth_value::Path::root().key("id")).is_none()
                    {
                        v.set(
                            &plinth_value::Path::root().key("id"),
                            Value::from(id.as_str()),
                        );
                    }
                    self.values.set(&addr, v, true);
                }
            }
        }
        for r in &self.input.config.resources {
            let kind = AddrKind::from_mode(r.mode);
            if r.for_each.is_some() && self.values.get(kind, &r.name).is_none() {
                self.values.set_empty(kind, &r.name);
            }
        }
    }

    /// Evaluates the configuration of an operation with the values now known.
    fn eval_config(&self, c: &ResourceChange) -> Result<Value, String> {
        let addr: Address = c.address.parse().map_err(|e: String| e)?;
        let config = self.input.config;
        let scope_each =
            |for_each: Option<&plinth_config::Node>| -> Result<Option<(Value, Value)>, String> {
                let (Some(fe), Some(key)) = (for_each, &addr.key) else {
                    return Ok(None);
                };
                let scope = self.scope(None);
                let v = fe.eval(&scope).map_err(|d| d.message)?;
                let value = match v.unmarked() {
                    Value::Map(m) => m
                        .get(key)
                        .cloned()
                        .ok_or_else(|| format!("for_each no longer has the key \"{key}\""))?,
                    _ => Value::from(key.as_str()),
                };
                Ok(Some((Value::from(key.as_str()), value)))
            };
        let (node, each, schema_type, lifecycle) = match addr.kind {
            AddrKind::Action => {
                let a = config
                    .actions
                    .iter()
                    .find(|a| a.name == addr.name)
                    .ok_or("the action is no longer in the configuration")?;
                (&a.inputs, None, &a.type_name, None)
            }
            kind => {
                let mode = if kind == AddrKind::Data {
                    Mode::Data
                } else {
                    Mode::Managed
                };
                let r = config
                    .resource(mode, &addr.name)
                    .ok_or("the resource is no longer in the configuration")?;
                (
                    &r.inputs,
                    scope_each(r.for_each.as_ref())?,
                    &r.type_name,
                    Some(&r.lifecycle),
                )
            }
        };
        let scope = self.scope(each);
        let mut v = node.eval(&scope).map_err(|d| d.message)?;
        if let Some(schema) = crate::inputs::schema_of(self.input.registry, schema_type) {
            diff::mark_sensitive(&schema, &mut v);
        }
        if let (Some(l), Some(rec)) = (lifecycle, self.writer.state().resources.get(&c.address)) {
            let lookup = self.input.registry.lookup(schema_type);
            crate::inputs::restore_ignored(
                &mut v,
                &marks::prior(self.input.registry, rec),
                &l.ignore_changes,
                |path| match &lookup {
                    Some((p, t)) => p.attribute_path(t, path),
                    None => Some(path.clone()),
                },
            );
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

    /// The provider settings an operation's request carries: for deletes, those recorded
    /// with the object (where it lives), else as the state recorded them when the run
    /// started; otherwise evaluated with the values known now.
    fn settings(&self, op: &Op, prior: Option<&ResourceState>) -> Result<Value, String> {
        let c = self.change(op);
        let prefix = prefix_of(&c.type_name);
        if !op.kind.forward() {
            if let Some(s) = prior.and_then(|r| r.settings.as_ref()) {
                return Ok(Value::from(s.clone()));
            }
            return Ok(settings_for(&self.existing_settings, prefix).clone());
        }
        let Some(decl) = self.tables.table_of(prefix) else {
            return Ok(Value::Null);
        };
        let v = self
            .tables
            .eval(self.input.config, decl, &self.scope(None))
            .map_err(|d| d.message)?;
        if let Some(p) = v.unknown_paths().first() {
            return Err(format!(
                "[provider.{}] `{p}` is still unknown at apply time; what it refers to did not provide it",
                self.input.config.providers[decl].name
            ));
        }
        Ok(v)
    }

    /// Config, prior record, serialisation key and provider settings of an operation about
    /// to start.
    #[allow(clippy::type_complexity)]
    fn prepare(
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
            (Some(r), false) => marks::prior(self.input.registry, r).inputs,
            _ => config.clone(),
        };
        let key = self
            .input
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
    fn before_send(
        &mut self,
        op: &Op,
        config: &Value,
        prior: Option<&ResourceState>,
        settings: &Value,
    ) -> Result<(), StateError> {
        let c = self.change(op).clone();
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
                    .registry
                    .lookup(&c.type_name)
                    .and_then(|(p, t)| p.planned_id(&t, config));
                self.stage(Change::Put(Box::new(ResourceState {
                    address: c.address.clone(),
                    type_name: c.type_name.clone(),
                    mode: plinth_state::Mode::Managed,
                    id,
                    inputs: serde_json::Value::Null,
                    attributes: serde_json::Value::Null,
                    dependencies: c.depends_on.clone(),
                    sensitive_paths: vec![],
                    status: Status::PendingCreate,
                    deposed: false,
                    settings: self.recorded_settings(&c.type_name, settings),
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
    fn spawn(
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
            .registry
            .lookup(&c.type_name)
            .map(|(p, t)| (p.clone(), t));
        let address = c.address.clone();
        let config = config.clone();
        let planned_after = c.after.clone();
        let is_data_record =
            !kind.forward() && prior.is_some_and(|r| r.mode == plinth_state::Mode::Data);
        let prior: Option<Prior> = prior.map(|r| marks::prior(self.input.registry, r));
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
    fn fail(
        &mut self,
        walk: &mut Walk,
        dag: &Dag<Op>,
        id: NodeId,
        message: String,
        elapsed_ms: u64,
    ) {
        let op = dag.node(id);
        let c = self.change(op).clone();
        self.events.emit(Event::OpFinished {
            address: c.address.clone(),
            action: op.kind.label().into(),
            elapsed_ms,
            outcome: "failed".into(),
            error: Some(message.clone()),
        });
        self.report.failures.push(Failure {
            address: c.address.clone(),
            action: op.kind.label().into(),
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

    /// The settings to record with an object: only for providers whose settings say where
    /// objects live (they name a resource, such as a Kubernetes provider's cluster).
    fn recorded_settings(&self, type_name: &str, settings: &Value) -> Option<serde_json::Value> {
        let (provider, _) = self.input.registry.lookup(type_name)?;
        (!provider.settings_references().is_empty() && !matches!(settings, Value::Null))
            .then(|| settings.to_json())
    }

    fn record_object(
        &mut self,
        c: &ResourceChange,
        mode: plinth_state::Mode,
        config: &Value,
        settings: &Value,
        obs: Observed,
    ) -> Result<(), StateError> {
        let mut attrs = obs.attributes;
        marks::mark_attributes(self.input.registry, &c.type_name, config, &mut attrs);
        let inputs = config.to_json();
        let attributes = attrs.to_json();
        let sensitive_paths = marks::recorded_paths(config, &attrs);
        if let Ok(addr) = c.address.parse::<Address>() {
            self.values.set(&addr, attrs, true);
        }
        self.stage(Change::Put(Box::new(ResourceState {
            address: c.address.clone(),
            type_name: c.type_name.clone(),
            mode,
            id: obs.id,
            inputs,
            attributes,
            dependencies: c.depends_on.clone(),
            sensitive_paths,
            status: Status::Created,
            deposed: false,
            settings: self.recorded_settings(&c.type_name, settings),
        })));
        Ok(())
    }

    fn finish(
        &mut self,
        walk: &mut Walk,
        dag: &Dag<Op>,
        id: NodeId,
        op: &Op,
        started: Started,
        result: Result<Done, ProviderError>,
    ) -> Result<(), Diagnostics> {
        let c = self.change(op).clone();
        let elapsed_ms = started.started.elapsed().as_millis() as u64;
        let result = match result {
            Ok(done) => done,
            Err(e) => {
                // A service may echo what it was sent: keep secrets out of the message.
                let mut secrets = started.config.sensitive_texts();
                if let Some(p) = &started.prior {
                    let p = marks::prior(self.input.registry, p);
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
                        self.stage(Change::History(history(&c, format!("failed: {message}"))));
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
                    &c,
                    plinth_state::Mode::Managed,
                    &started.config,
                    &started.settings,
                    obs,
                )
                .map_err(state_err)?;
            }
            (OpKind::Read | OpKind::RecordRead, Done::Observed(obs)) => {
                self.record_object(
                    &c,
                    plinth_state::Mode::Data,
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
                self.stage(Change::History(history(&c, "ok".into())));
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
    fn record_outputs(&mut self) -> Result<(), Diagnostics> {
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
            for o in &self.input.config.outputs {
                if targeted && planned(&o.name).is_none() {
                    continue;
                }
                let scope = self.scope(None);
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

/// The history outcome of an action that is planned to run and has not finished yet.
pub const PENDING_RUN: &str = plinth_state::PENDING;

fn history(c: &ResourceChange, outcome: String) -> HistoryEntry {
    HistoryEntry {
        address: c.address.clone(),
        action: c.type_name.clone(),
        at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        outcome,
    }
}
