//! The event stream: what the engine tells the CLI (progress on a terminal, plain lines
//! otherwise, JSON lines with `--json`).

use serde::Serialize;

/// One event. Serialised with a `type` tag for `--json`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Refresh began reading the objects in state.
    RefreshStarted {
        /// How many objects it will read.
        count: usize,
    },
    /// One object was read by refresh.
    Refreshed {
        /// The object's address.
        address: String,
        /// `ok` (read), `gone` (deleted outside plinth) or `failed`.
        outcome: String,
    },
    /// An operation on one address began.
    OpStarted {
        /// The object's address.
        address: String,
        /// `create`, `update`, `delete`, `read` or `run`.
        action: String,
    },
    /// An operation finished (`outcome`: `ok`, `failed`).
    OpFinished {
        /// The object's address.
        address: String,
        /// `create`, `update`, `delete`, `read` or `run`.
        action: String,
        /// How long the operation took, in milliseconds.
        elapsed_ms: u64,
        /// `ok` or `failed`.
        outcome: String,
        /// Why it failed; `None` when it succeeded.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// An operation will not run because something it depends on failed or the run was interrupted.
    OpSkipped {
        /// The object's address.
        address: String,
        /// The operation that will not run: `create`, `update`, `delete`, `read` or `run`.
        action: String,
        /// Why: `interrupted`, or which dependency failed (`` `rg` failed ``).
        reason: String,
    },
    /// A provider's note (a retry, a poll).
    Note {
        /// The object the provider is working on.
        address: String,
        /// What happened, one line.
        message: String,
    },
    /// The user interrupted the run (Ctrl-C).
    Interrupted {
        /// False for the first interrupt (no new work starts; running work finishes), true
        /// for the second (running work is abandoned and stays pending).
        second: bool,
    },
    /// Something the user should know that is not an error (e.g. from loading state).
    Warning {
        /// The warning, one sentence.
        message: String,
    },
}

/// Where events go.
pub trait EventSink: Send + Sync {
    /// Takes one event. The engine calls it while operations are in flight, so it should
    /// return quickly.
    fn emit(&self, event: Event);
}

/// Drops events.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: Event) {}
}

/// Collects events (for tests).
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Event>>);

impl EventSink for Collect {
    fn emit(&self, event: Event) {
        self.0.lock().expect("events lock").push(event);
    }
}

/// Forwards events, logging each at debug level (`PLINTH_LOG=debug`). Events name addresses,
/// actions and outcomes, never values, so logging them cannot leak a secret.
pub struct Traced<'a>(pub &'a dyn EventSink);

impl EventSink for Traced<'_> {
    fn emit(&self, event: Event) {
        tracing::debug!(?event, "engine event");
        self.0.emit(event);
    }
}
