//! The writer: appends journal records to the `K.journal` append blob, fenced by the append
//! position and the journal's ETag, refusing every write once the lease's write deadline has
//! passed; and compaction (backup, conditional snapshot, journal reset). See "Durability and
//! fencing" in the module documentation.

use std::sync::Arc;

use super::blob::{
    Appended, Blobs, CHANGED, Cond, append_block, create_append_blob, put_block_blob, remote,
};
use super::lease::Held;
use super::stored;
use crate::backend::{OpenAction, StateWriter, plan_open, serial_after};
use crate::error::StateError;
use crate::journal;
use crate::model::{Change, State};

/// The largest block one `Append Block` may carry (API versions before 2022-11-02).
const MAX_BLOCK: usize = 4 * 1024 * 1024;

/// Appends to the journal blob; compacts into the snapshot blob.
pub(super) struct AzureWriter {
    blobs: Blobs,
    /// Journal blocks at which this writer compacts.
    compact_at_blocks: u64,
    state: State,
    /// Whether the journal holds anything the snapshot does not (or there is no snapshot).
    dirty: bool,
    snapshot_etag: Option<String>,
    /// The stored snapshot's bytes (written to `K.backup` before it is replaced).
    old_snapshot: Option<Vec<u8>>,
    journal_etag: Option<String>,
    journal_len: u64,
    /// Blocks in the journal blob.
    journal_blocks: u64,
    bytes_written: u64,
    poisoned: bool,
    /// The lock this writer works under, if its backend holds one.
    held: Option<Arc<Held>>,
}

impl AzureWriter {
    /// Opens a writer on what is stored, starting from `state` (see `plan_open`), under the
    /// lease `held` if the backend holds one. Compacts or resets the journal first when it
    /// holds a damaged tail or records the snapshot already contains (an append blob cannot
    /// be truncated), and creates it when there is none.
    pub(super) fn open(
        blobs: Blobs,
        held: Option<Arc<Held>>,
        compact_at_blocks: u64,
        mut state: State,
    ) -> Result<AzureWriter, StateError> {
        let stored = stored::read(&blobs)?;
        let action = plan_open(stored.state.as_ref(), &mut state, &blobs.path(&blobs.key))?;
        let snapshot_exists = stored.snapshot.is_some();
        let mut writer = AzureWriter {
            blobs,
            compact_at_blocks,
            state,
            dirty: stored.applied > 0 || !snapshot_exists,
            snapshot_etag: stored.snapshot.as_ref().map(|b| b.etag.clone()),
            old_snapshot: stored.snapshot.map(|b| b.data),
            journal_etag: stored.journal_etag,
            journal_len: stored.journal_len,
            journal_blocks: stored.journal_blocks,
            bytes_written: 0,
            poisoned: false,
            held,
        };
        // An append blob cannot be truncated: a damaged tail, or records the snapshot already
        // holds, go by starting a new journal — after a snapshot if the journal adds anything.
        let stale_journal = stored.torn || (stored.applied == 0 && stored.skipped > 0);
        match action {
            OpenAction::Snapshot => {
                writer.dirty = true;
                writer.compact()?;
            }
            _ if stale_journal && stored.applied > 0 => {
                writer.dirty = true;
                writer.compact()?;
            }
            _ if stale_journal => writer.reset_journal()?,
            _ => {}
        }
        if writer.journal_etag.is_none() {
            writer.reset_journal()?;
        }
        Ok(writer)
    }

    /// Refuses a write when an earlier one failed in an unknown way, or the lease can no
    /// longer be trusted.
    fn check(&self) -> Result<(), StateError> {
        if self.poisoned {
            return Err(StateError::Poisoned {
                path: self.blobs.path(&self.blobs.journal_name()),
            });
        }
        if let Some(reason) = self.held.as_ref().and_then(|h| h.problem()) {
            return Err(StateError::LockLost {
                target: self.blobs.url(&self.blobs.lock_name()),
                reason,
            });
        }
        Ok(())
    }

    fn reset_journal(&mut self) -> Result<(), StateError> {
        self.check()?;
        let name = self.blobs.journal_name();
        let cond = match &self.journal_etag {
            Some(e) => Cond::Match(e.clone()),
            None => Cond::Absent,
        };
        let etag = self
            .blobs
            .client
            .run(move |inner| create_append_blob(inner, name, cond))
            .map_err(remote(
                "reset the journal",
                self.blobs.url(&self.blobs.journal_name()),
            ))?;
        self.journal_etag = Some(etag);
        self.journal_len = 0;
        self.journal_blocks = 0;
        Ok(())
    }

    fn append(&mut self, data: Vec<u8>) -> Result<(), StateError> {
        let target = self.blobs.url(&self.blobs.journal_name());
        // Blocks at record boundaries, each at most MAX_BLOCK (a single larger record is
        // sent alone and refused by the service if too large).
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut current = Vec::new();
        for line in data.split_inclusive(|&b| b == b'\n') {
            if !current.is_empty() && current.len() + line.len() > MAX_BLOCK {
                chunks.push(std::mem::take(&mut current));
            }
            current.extend_from_slice(line);
        }
        if !current.is_empty() {
            chunks.push(current);
        }
        for chunk in chunks {
            if let Err(e) = self.check() {
                // Earlier blocks of a batch may be saved: the in-memory state no longer
                // matches, so nothing more is recorded.
                self.poisoned = true;
                return Err(e);
            }
            let (name, pos, len, etag) = (
                self.blobs.journal_name(),
                self.journal_len,
                chunk.len() as u64,
                self.journal_etag.clone(),
            );
            let outcome =
                self.blobs
                    .client
                    .run(move |inner| async move {
                        Ok(append_block(inner, name, chunk, pos, etag).await)
                    })
                    .unwrap_or_else(Appended::Unknown);
            match outcome {
                Appended::Done(etag) => {
                    self.journal_etag = Some(etag);
                    self.journal_len += len;
                    self.journal_blocks += 1;
                    self.bytes_written += len;
                }
                Appended::Moved(e) => {
                    self.poisoned = true;
                    return Err(StateError::Remote {
                        action: "append to",
                        target,
                        error: format!(
                            "the journal is not as this run left it ({pos} bytes, ETag {}): {CHANGED} ({e})",
                            self.journal_etag.as_deref().unwrap_or("none")
                        ),
                    });
                }
                Appended::Unknown(e) => {
                    self.poisoned = true;
                    return Err(StateError::Remote {
                        action: "append to",
                        target,
                        error: e,
                    });
                }
                Appended::Refused(e) => {
                    // Nothing of this block was written; earlier blocks of a batch were, so
                    // the in-memory state no longer matches: stop recording.
                    self.poisoned = true;
                    return Err(StateError::Remote {
                        action: "append to",
                        target,
                        error: e,
                    });
                }
            }
        }
        Ok(())
    }
}

impl StateWriter for AzureWriter {
    fn state(&self) -> &State {
        &self.state
    }

    fn record(&mut self, change: Change) -> Result<u64, StateError> {
        self.record_batch(vec![change])
    }

    fn record_batch(&mut self, changes: Vec<Change>) -> Result<u64, StateError> {
        self.check()?;
        if changes.is_empty() {
            return Ok(self.state.serial);
        }
        let last = serial_after(
            self.state.serial,
            changes.len(),
            &self.blobs.path(&self.blobs.key),
        )?;
        let mut lines = Vec::new();
        let mut serial = self.state.serial;
        for change in &changes {
            serial += 1;
            lines.extend(journal::encode(serial, &self.state.lineage, change)?);
        }
        debug_assert_eq!(serial, last);
        self.append(lines)?;
        for change in &changes {
            self.state.apply_change(change);
        }
        self.state.serial = serial;
        self.dirty = true;
        if self.journal_blocks >= self.compact_at_blocks {
            self.compact()?;
        }
        Ok(serial)
    }

    fn compact(&mut self) -> Result<(), StateError> {
        self.check()?;
        let snapshot_exists = self.snapshot_etag.is_some();
        if self.dirty || !snapshot_exists {
            let mut json = serde_json::to_vec_pretty(&self.state)
                .map_err(|e| StateError::encode("the state", e))?;
            json.push(b'\n');
            if let Some(old) = self.old_snapshot.clone() {
                let (name, len) = (self.blobs.backup_name(), old.len() as u64);
                self.blobs
                    .client
                    .run(move |inner| put_block_blob(inner, name, old, Cond::None, None))
                    .map_err(remote(
                        "write the backup",
                        self.blobs.url(&self.blobs.backup_name()),
                    ))?;
                self.bytes_written += len;
            }
            let cond = match &self.snapshot_etag {
                Some(e) => Cond::Match(e.clone()),
                None => Cond::Absent,
            };
            self.check()?;
            let (name, data) = (self.blobs.key.clone(), json.clone());
            let etag = self
                .blobs
                .client
                .run(move |inner| put_block_blob(inner, name, data, cond, None))
                .map_err(remote("write", self.blobs.url(&self.blobs.key)))?;
            self.bytes_written += json.len() as u64;
            self.snapshot_etag = Some(etag);
            self.old_snapshot = Some(json);
        }
        // The snapshot holds everything now; a crash before this reset only leaves records
        // that load skips.
        if self.journal_len > 0 {
            self.reset_journal()?;
        }
        self.dirty = false;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.bytes_written
    }
}
