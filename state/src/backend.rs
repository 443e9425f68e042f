//! The backend abstraction: where state lives and how it is locked and written.

use std::time::Duration;

use crate::error::StateError;
use crate::lock::LockInfo;
use crate::model::{Change, State};

/// What [`Backend::load`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedState {
    /// The state (snapshot plus replayed journal), or `None` if there is no state yet.
    pub state: Option<State>,
    /// Things the user should know that did not stop the load, e.g. a dropped torn record.
    pub warnings: Vec<String>,
}

/// Where state is stored. Object safe: the engine holds a `Box<dyn Backend>`.
pub trait Backend: Send + Sync {
    /// A human description, e.g. `local state at /x/.plinth/state.json`.
    fn describe(&self) -> String;

    /// Reads the snapshot and replays the journal on top of it.
    fn load(&self) -> Result<LoadedState, StateError>;

    /// Takes the state lock for `operation`, waiting up to `timeout` (zero: try once).
    /// Fails with [`StateError::Locked`] naming the holder.
    fn lock(&self, operation: &str, timeout: Duration) -> Result<Box<dyn LockGuard>, StateError>;

    /// Who holds the lock, if anyone has recorded holding it.
    fn lock_info(&self) -> Result<Option<LockInfo>, StateError>;

    /// Breaks a lock left behind by a process that is gone. Refuses if `id` is not the
    /// current lock's id, or if its holder is still alive.
    fn force_unlock(&self, id: &str) -> Result<(), StateError>;

    /// Starts writing changes on top of `state` (normally what [`Backend::load`] returned,
    /// loaded under the lock). Refuses a state of another lineage or an older serial than the
    /// stored one. If `state` differs from what is stored it is written as a snapshot first;
    /// a torn journal tail is cut off so that appends continue a valid journal.
    fn open_writer(&self, state: State) -> Result<Box<dyn StateWriter>, StateError>;
}

/// A held state lock; released (and its info removed) on drop.
pub trait LockGuard: Send {
    /// The lock this guard holds, as other runs are told about it.
    fn info(&self) -> &LockInfo;
}

/// Records changes durably, one at a time.
pub trait StateWriter: Send {
    /// The state as of the last recorded change.
    fn state(&self) -> &State;

    /// Applies the change to the in-memory state, increments serial, and makes it durable
    /// (append + fdatasync) before returning the new serial. O(size of the change), never
    /// O(size of state).
    fn record(&mut self, change: Change) -> Result<u64, StateError>;

    /// Records several changes at once, durable together (one sync for the batch: a group
    /// commit). Each change still gets its own serial and journal record. Returns the serial
    /// of the last change (the current serial when `changes` is empty).
    fn record_batch(&mut self, changes: Vec<Change>) -> Result<u64, StateError> {
        let mut serial = self.state().serial;
        for c in changes {
            serial = self.record(c)?;
        }
        Ok(serial)
    }

    /// Writes a full snapshot (temp file + fsync + rename + dir fsync), then truncates the
    /// journal. Called at the end of a run. Does nothing if nothing changed since the last
    /// snapshot.
    fn compact(&mut self) -> Result<(), StateError>;

    /// Total bytes this writer has written to storage (journal + snapshots), for benchmarks.
    fn bytes_written(&self) -> u64;
}

/// What `open_writer` must do before appending, given the stored state and the caller's.
pub(crate) enum OpenAction {
    /// The stored state equals the caller's: append to the existing journal.
    Continue,
    /// Nothing is stored and the caller's state is fresh: the journal alone can rebuild it.
    JournalOnly,
    /// The caller's state differs from what is stored: write it as a snapshot first.
    Snapshot,
}

/// Decides [`OpenAction`]; may bump `given.serial` so a changed state never reuses a serial.
pub(crate) fn plan_open(
    stored: Option<&State>,
    given: &mut State,
    path: &std::path::Path,
) -> Result<OpenAction, StateError> {
    let Some(stored) = stored else {
        return Ok(if is_fresh(given) {
            OpenAction::JournalOnly
        } else {
            OpenAction::Snapshot
        });
    };
    if stored.lineage != given.lineage {
        return Err(StateError::WrongLineage {
            path: path.to_path_buf(),
            stored: stored.lineage.clone(),
            given: given.lineage.clone(),
        });
    }
    if given.serial < stored.serial {
        return Err(StateError::Stale {
            path: path.to_path_buf(),
            stored: stored.serial,
            given: given.serial,
        });
    }
    if stored == given {
        return Ok(OpenAction::Continue);
    }
    if given.serial == stored.serial {
        given.serial = next_serial(given.serial, path)?;
    }
    Ok(OpenAction::Snapshot)
}

/// The serial after `serial`, or [`StateError::SerialExhausted`] for the state at `path`.
pub(crate) fn next_serial(serial: u64, path: &std::path::Path) -> Result<u64, StateError> {
    crate::model::next_serial(serial).ok_or_else(|| StateError::SerialExhausted {
        path: path.to_path_buf(),
        serial,
    })
}

/// The serials of `count` changes recorded after `serial`: the last one, checked as a whole
/// before anything is written.
pub(crate) fn serial_after(
    serial: u64,
    count: usize,
    path: &std::path::Path,
) -> Result<u64, StateError> {
    serial
        .checked_add(count as u64)
        .filter(|s| *s <= crate::MAX_SERIAL)
        .ok_or_else(|| StateError::SerialExhausted {
            path: path.to_path_buf(),
            serial,
        })
}

/// An empty state at serial 0: what a journal with no snapshot is replayed onto.
pub(crate) fn is_fresh(state: &State) -> bool {
    state.serial == 0
        && state.format == crate::STATE_FORMAT
        && state.resources.is_empty()
        && state.outputs.is_empty()
        && state.history.is_empty()
}

/// The empty state of `lineage` that a snapshot-less journal is replayed onto.
pub(crate) fn fresh_state(lineage: &str) -> State {
    State {
        lineage: lineage.to_string(),
        ..State::new()
    }
}
