//! Reading what is stored: the journal blob, then the snapshot blob (in that order: see
//! "Crash windows of compaction" in the module documentation), replayed into one state with
//! the same rules as the local backend, plus what a writer needs to continue (ETags,
//! lengths, whether the journal must be reset).

use super::blob::{Blob, Blobs, get, remote};
use crate::error::StateError;
use crate::journal::{self, Scan};
use crate::local::parse_snapshot;
use crate::model::State;

/// What is stored, as `load` and `open_writer` see it.
pub(super) struct Stored {
    pub(super) state: Option<State>,
    pub(super) warnings: Vec<String>,
    pub(super) snapshot: Option<Blob>,
    pub(super) journal_etag: Option<String>,
    pub(super) journal_len: u64,
    pub(super) journal_blocks: u64,
    pub(super) torn: bool,
    pub(super) applied: usize,
    pub(super) skipped: usize,
}

/// Reads and replays the stored state.
pub(super) fn read(blobs: &Blobs) -> Result<Stored, StateError> {
    let (jn, sn) = (blobs.journal_name(), blobs.key.clone());
    // The journal first: see "Crash windows" in the module documentation.
    let (journal, snapshot) = blobs
        .client
        .run(move |inner| async move {
            let j = get(inner.clone(), jn).await?;
            let s = get(inner, sn).await?;
            Ok((j, s))
        })
        .map_err(remote("read", blobs.url(&blobs.key)))?;
    let snapshot_path = blobs.path(&blobs.key);
    let journal_path = blobs.path(&blobs.journal_name());
    let backup_path = blobs.path(&blobs.backup_name());
    let parsed = match &snapshot {
        Some(b) => Some(parse_snapshot(&b.data, &snapshot_path, &backup_path)?),
        None => None,
    };
    let data = journal.as_ref().map(|j| j.data.as_slice()).unwrap_or(&[]);
    let Scan {
        records,
        valid_len: _,
        torn,
    } = journal::scan(data, &journal_path, &backup_path)?;
    let mut warnings = Vec::new();
    if let Some(t) = &torn {
        warnings.push(format!(
            "dropped a damaged final journal record ({} bytes, line {} of {}, which {}); it was never acknowledged as saved",
            t.bytes,
            t.line,
            journal_path.display(),
            t.reason
        ));
    }
    let replayed = journal::replay(parsed, records, &journal_path, &snapshot_path, &backup_path)?;
    if replayed.skipped > 0 {
        warnings.push(format!(
            "skipped {} journal record(s) in {} that {} already contains (a run stopped while compacting)",
            replayed.skipped,
            journal_path.display(),
            snapshot_path.display()
        ));
    }
    Ok(Stored {
        state: replayed.state,
        warnings,
        journal_etag: journal.as_ref().map(|j| j.etag.clone()),
        journal_len: data.len() as u64,
        journal_blocks: journal.as_ref().map_or(0, |j| j.blocks),
        snapshot,
        torn: torn.is_some(),
        applied: replayed.applied,
        skipped: replayed.skipped,
    })
}
