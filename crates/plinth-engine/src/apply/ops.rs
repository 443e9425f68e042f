//! The operation graph of an apply: one operation per change (a replacement is two, a
//! delete and a create, ordered by `create_before_destroy`), forward operations following
//! configuration dependencies and deletes following them in reverse.

use plinth_config::Diagnostic;
use plinth_graph::{Dag, NodeId};
use plinth_plan::{Action, Plan, ReplaceOrder};
use plinth_provider::Observed;
use plinth_state::{ResourceState, State};
use plinth_value::Value;
use std::collections::HashMap;
use std::time::Instant;

use crate::addr::Address;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OpKind {
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
    pub(super) fn label(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Update => "update",
            OpKind::Delete | OpKind::DeleteDeposed => "delete",
            OpKind::Read | OpKind::RecordRead => "read",
            OpKind::Run => "run",
        }
    }

    pub(super) fn forward(self) -> bool {
        !matches!(self, OpKind::Delete | OpKind::DeleteDeposed)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Op {
    pub(super) change: usize,
    pub(super) kind: OpKind,
}

/// The outcome of a provider call.
pub(super) enum Done {
    Observed(Observed),
    Deleted,
    Ran,
}

pub(super) struct Started {
    pub(super) config: Value,
    /// The provider settings the request carried (recorded with the object).
    pub(super) settings: Value,
    pub(super) prior: Option<ResourceState>,
    pub(super) started: Instant,
    pub(super) key: Option<String>,
    /// The provider completes it at once in the process ([`plinth_provider::Provider::is_immediate`]):
    /// not counted against the parallelism.
    pub(super) immediate: bool,
}

/// The state key of the deposed object of `address`.
pub(super) fn deposed_key(address: &str) -> String {
    match address.parse::<Address>() {
        Ok(a) => a.deposed().to_string(),
        // Every planned address parses; a stray one still gets a distinct key.
        Err(_) => Address::resource(address).deposed().to_string(),
    }
}

/// Builds the graph of operations for a plan.
///
/// `state` is the state as it was before the run: it knows what the old objects depended on,
/// which the plan (carrying the configuration's new dependencies) does not.
pub(super) fn op_graph(plan: &Plan, state: &State) -> Result<Dag<Op>, Diagnostic> {
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
            // State only, no provider call: recorded before any operation runs (as moves
            // are, by `record`).
            Action::NoOp | Action::Forget => {}
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
        // (A moved object is still at its old address in `state`.)
        if c.action != Action::Delete
            && let Some(r) = state
                .resources
                .get(c.moved_from.as_ref().unwrap_or(&c.address))
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
            && let Ok(a) = c.address.parse::<Address>()
            && a.deposed
            && let Some(&old) = del.get(c.address.as_str())
        {
            let base = a.current().to_string();
            let base = base.as_str();
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
