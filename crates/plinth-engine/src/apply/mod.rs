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

use crate::error::EngineError;
use plinth_plan::{Plan, ResourceChange};
use plinth_state::{HistoryEntry, StateError};

mod checks;
mod conditions;
mod coordinator;
mod ops;
mod record;
mod runner;
mod settings;

pub use coordinator::apply;

use crate::workspace::Workspace;

/// What apply works from: the workspace and the plan.
pub struct ApplyInput<'a> {
    /// The configuration, variables, environment and providers the plan was made from.
    pub workspace: Workspace<'a>,
    /// The plan to carry out (checked to be fresh by the caller, see [`crate::check_fresh`]).
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
    /// The address of the object (`output.NAME` for an output that could not be evaluated).
    pub address: String,
    /// The operation that failed: `create`, `update`, `delete`, `read`, `run` or `output`;
    /// `precondition` or `postcondition` when a condition of the object (or an output's
    /// precondition) is false.
    pub action: String,
    /// Why: the provider's error (with the service's code when it gave one), or the
    /// output's evaluation error.
    pub message: String,
}

/// What happened.
#[derive(Clone, Debug, Default)]
pub struct ApplyReport {
    /// How many operations succeeded (a replacement is two: a delete and a create).
    pub succeeded: usize,
    /// Every operation that failed, in the order they failed.
    pub failures: Vec<Failure>,
    /// Operations not run, as `(address, reason)`.
    pub skipped: Vec<(String, String)>,
    /// Interrupted by the user (once: stopped starting work; twice: abandoned running work).
    pub interrupts: u32,
    /// Operations that were running when the run was abandoned.
    pub abandoned: Vec<String>,
    /// The results of the configuration's `[check.NAME]` blocks, evaluated with actual
    /// values at the end of the run: warnings, never failures of the run.
    pub checks: Vec<plinth_plan::CheckResult>,
}

impl ApplyReport {
    /// True when nothing failed and the run was not interrupted.
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.interrupts == 0
    }
}

pub(super) fn state_err(e: StateError) -> EngineError {
    EngineError::State(e)
}

/// The history outcome of an action that is planned to run and has not finished yet.
pub const PENDING_RUN: &str = plinth_state::PENDING;

pub(super) fn history(c: &ResourceChange, outcome: String) -> HistoryEntry {
    HistoryEntry {
        address: c.address.clone(),
        action: c.type_name.clone(),
        at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        outcome,
    }
}
