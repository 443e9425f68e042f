//! The event stream: what the engine tells the CLI (progress on a terminal, plain lines
//! otherwise, JSON lines with `--json`).
//!
//! The stream holds facts only, each emitted once when it happens: an operation started,
//! a provider retried, an operation finished. There is no periodic "still running" event:
//! what is in flight is every `op_started` without its `op_finished`, and how long it has
//! been running is the reader's own clock minus the time it read `op_started` (the line
//! arrives as it happens; stdout is flushed per event). A heartbeat would make the stream
//! depend on timing (two runs of the same plan would differ) for no information a consumer
//! lacks. The CLI's "still creating (1m20s elapsed)" lines are drawn from these events.

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
    /// A provider's note (a retry, a poll), emitted when the provider makes it: while its
    /// operation is still running. A retried operation may note every attempt; the CLI
    /// shows one line per operation, `--json` every note.
    Note {
        /// The object the provider is working on.
        address: String,
        /// What happened, one short line
        /// (`ARM is busy with another write to this identity (409), retrying in 0.1s`).
        message: String,
        /// The whole story (the request, the attempt, the service's whole message), for
        /// `--json` and `PLINTH_LOG=debug`; absent when `message` says it all. Never a secret.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
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
        match &event {
            // A note's detail (the request, ARM's whole message) is what a debug log is for:
            // logged as fields, not buried in the event's `Debug` form.
            Event::Note {
                address,
                message,
                detail,
            } => tracing::debug!(
                address = address.as_str(),
                message = message.as_str(),
                detail = detail.as_deref().unwrap_or(""),
                "provider note"
            ),
            _ => tracing::debug!(?event, "engine event"),
        }
        self.0.emit(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporter::{EventReporter, SinkReporter};
    use plinth_provider::{Note, Reporter};

    fn note(detail: Option<&str>) -> Note {
        Note {
            address: "fic_keda".into(),
            message: "ARM is busy with another write to this identity (409), retrying in 0.1s"
                .into(),
            detail: detail.map(str::to_string),
        }
    }

    #[test]
    fn a_note_carries_its_detail_to_json_and_leaves_it_out_when_there_is_none() {
        let sink = Collect::default();
        SinkReporter(&Traced(&sink)).note(note(Some(
            "PUT .../federatedIdentityCredentials/keda attempt 1 of 5: 409 Conflict {whole body}",
        )));
        SinkReporter(&sink).note(note(None));
        let events = sink.0.into_inner().unwrap();
        let json: Vec<serde_json::Value> = events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        assert_eq!(
            json[0],
            serde_json::json!({
                "type": "note",
                "address": "fic_keda",
                "message": "ARM is busy with another write to this identity (409), retrying in 0.1s",
                "detail": "PUT .../federatedIdentityCredentials/keda attempt 1 of 5: 409 Conflict {whole body}",
            })
        );
        assert!(json[1].get("detail").is_none(), "{}", json[1]);
    }

    #[test]
    fn the_channel_reporter_forwards_the_detail_too() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        EventReporter { tx }.note(note(Some("the whole story")));
        match rx.try_recv() {
            Ok(Event::Note { detail, .. }) => {
                assert_eq!(detail.as_deref(), Some("the whole story"))
            }
            other => panic!("expected a note, got {other:?}"),
        }
    }
}
