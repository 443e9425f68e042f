//! The event stream: what the engine tells the CLI (progress on a terminal, plain lines
//! otherwise, JSON lines with `--json`).

use serde::Serialize;

/// One event. Serialised with a `type` tag for `--json`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RefreshStarted {
        count: usize,
    },
    Refreshed {
        address: String,
        outcome: String,
    },
    /// An operation on one address began.
    OpStarted {
        address: String,
        action: String,
    },
    /// An operation finished (`outcome`: `ok`, `failed`).
    OpFinished {
        address: String,
        action: String,
        elapsed_ms: u64,
        outcome: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// An operation will not run because something it depends on failed or the run was interrupted.
    OpSkipped {
        address: String,
        action: String,
        reason: String,
    },
    /// A provider's note (a retry, a poll).
    Note {
        address: String,
        message: String,
    },
    Interrupted {
        second: bool,
    },
    Warning {
        message: String,
    },
}

/// Where events go.
pub trait EventSink: Send + Sync {
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
