//! The state crate's error type. Every message names the file involved and says what to do.

use std::io;
use std::path::{Path, PathBuf};

use crate::lock::LockInfo;

/// Everything that can go wrong reading, writing or locking state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// An operating-system call on a state file failed.
    #[error(
        "could not {action} {path}: {error}; check that the directory exists, that this user may read and write it, and that the disk is not full",
        path = .path.display()
    )]
    Io {
        /// What plinth was doing, e.g. "read", "append to", "fsync".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },

    /// A journal record that is not the last one is damaged (or out of sequence).
    #[error(
        "the journal record at line {line} of {path} {problem}{following}; plinth will not guess — inspect the file: to give up that change and the ones after it, cut the journal before line {line} (objects those changes created are then reported as existing outside state, and `plinth import` adopts them), or restore the previous snapshot from {backup} and move the journal aside",
        path = .path.display(),
        backup = .backup.display(),
        following = followed_by(*.following)
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// 1-based line number of the bad record.
        line: usize,
        /// What is wrong, e.g. "fails its checksum".
        problem: String,
        /// How many records come after the bad one.
        following: usize,
        /// The previous snapshot, to restore from.
        backup: PathBuf,
    },

    /// A journal record belongs to a different state (lineage) than the snapshot beside it.
    #[error(
        "the journal record at line {line} of {path} belongs to state lineage {found}, but the state it extends ({snapshot}) is lineage {expected}: the journal comes from a different state and plinth will not mix them — move the journal aside if {snapshot} is the state you want, or restore the state.json that matches it",
        path = .path.display(),
        snapshot = .snapshot.display()
    )]
    LineageMismatch {
        /// The journal file.
        path: PathBuf,
        /// 1-based line number of the record.
        line: usize,
        /// The lineage of the snapshot (or of the journal's first record).
        expected: String,
        /// The lineage found in the record.
        found: String,
        /// The snapshot the journal was replayed onto.
        snapshot: PathBuf,
    },

    /// `open_writer` was given a state of another lineage than the one stored.
    #[error(
        "refusing to write state lineage {given} to {path}, which holds a different state (lineage {stored}); check the backend configuration, or move the existing state files aside if you really mean to replace them",
        path = .path.display()
    )]
    WrongLineage {
        /// Where the state is stored.
        path: PathBuf,
        /// The stored state's lineage.
        stored: String,
        /// The lineage of the state the run started from.
        given: String,
    },

    /// `open_writer` was given a state older than the stored one.
    #[error(
        "the state at {path} is at serial {stored}, newer than the serial {given} this run started from: another run changed it in between; re-run the command (it reloads the state under the lock)",
        path = .path.display()
    )]
    Stale {
        /// Where the state is stored.
        path: PathBuf,
        /// The stored serial.
        stored: u64,
        /// The serial this run started from.
        given: u64,
    },

    /// The snapshot's `format` is not [`crate::STATE_FORMAT`].
    #[error(
        "{path} has format {found}, but this plinth reads \"{expected}\"; use the plinth version that wrote it, or restore from {backup}",
        path = .path.display(),
        backup = .backup.display(),
        expected = crate::STATE_FORMAT
    )]
    UnsupportedFormat {
        /// The snapshot.
        path: PathBuf,
        /// The format found, quoted, or a description such as `no "format" field`.
        found: String,
        /// The previous snapshot, to restore from.
        backup: PathBuf,
    },

    /// The snapshot is not valid state JSON.
    #[error(
        "{path} is not a valid plinth state snapshot: {error}; restore it from {backup}, or fix the JSON by hand",
        path = .path.display(),
        backup = .backup.display()
    )]
    InvalidSnapshot {
        /// The snapshot.
        path: PathBuf,
        /// What the JSON decoder said.
        error: String,
        /// The previous snapshot, to restore from.
        backup: PathBuf,
    },

    /// The lock-info file is unreadable.
    #[error(
        "the lock info file {path} cannot be read: {error}; if no plinth process is using this state, delete that file",
        path = .path.display()
    )]
    InvalidLockInfo {
        /// The lock-info file (or lock blob).
        path: PathBuf,
        /// What is wrong with it.
        error: String,
    },

    /// Someone else holds the state lock.
    #[error("{}", locked_message(.info))]
    Locked {
        /// The holder.
        info: Box<LockInfo>,
    },

    /// `force_unlock` was given an id that is not the current lock's.
    #[error(
        "the lock on {path} has id {actual}, not {given}; nothing was unlocked — check the id (`plinth force-unlock {actual}` would break the lock that is actually there)",
        path = .path.display()
    )]
    LockIdMismatch {
        /// Where the state is stored.
        path: PathBuf,
        /// The id `force-unlock` was given.
        given: String,
        /// The id of the lock that is there.
        actual: String,
    },

    /// `force_unlock` on a lock whose holder is still alive.
    #[error("{}", still_held_message(.info))]
    LockStillHeld {
        /// The live holder.
        info: Box<LockInfo>,
    },

    /// `force_unlock` on a state that is not locked.
    #[error("the state at {path} is not locked; there is nothing to unlock", path = .path.display())]
    NotLocked {
        /// Where the state is stored.
        path: PathBuf,
    },

    /// An earlier write failed part-way and could not be undone.
    #[error(
        "an earlier write to {path} failed part-way and could not be rolled back, so this run can record nothing more; fix the storage problem and re-run plinth (it reconciles pending resources from what was saved)",
        path = .path.display()
    )]
    Poisoned {
        /// The file (or blob) the failed write was for.
        path: PathBuf,
    },

    /// A request to remote state storage (the azure-blob backend) failed.
    #[error("could not {action} {target}: {error}")]
    Remote {
        /// What plinth was doing, e.g. "append to", "read".
        action: &'static str,
        /// The blob's URL (or the container's).
        target: String,
        /// The transport failure or the service's answer, and what to do about it.
        error: String,
    },

    /// The lease that is the remote state lock was lost while this run held it.
    #[error(
        "the lock on {target} was lost while this run held it ({reason}); nothing more is recorded — another run may have broken it with `plinth force-unlock`; re-run the command (it reconciles pending resources from what was saved)"
    )]
    LockLost {
        /// The lock blob's URL.
        target: String,
        /// Why the lease can no longer be trusted.
        reason: String,
    },

    /// Counting on from the stored serial would pass [`crate::MAX_SERIAL`] (or wrap around).
    #[error(
        "the state at {path} is at serial {serial}, and plinth records changes only up to serial {max}: nothing was recorded (a serial that wrapped around would make the next load skip the changes as already saved); a serial this high comes from a pushed or hand-edited state — `plinth state pull > state.json`, set its \"serial\" to the number of changes you expect (any small number), move the state files aside and `plinth state push state.json`",
        path = .path.display(),
        max = crate::MAX_SERIAL
    )]
    SerialExhausted {
        /// Where the state is stored.
        path: PathBuf,
        /// The stored serial.
        serial: u64,
    },

    /// A state file is a directory, FIFO, device, socket or dangling symlink.
    #[error(
        "{path} is {kind}, not a regular file: plinth reads state only from regular files; put the file plinth wrote in its place (a snapshot's previous version is state.json.backup beside it), or move it aside if there is nothing to keep",
        path = .path.display()
    )]
    NotRegularFile {
        /// The file.
        path: PathBuf,
        /// What it is instead, e.g. "a named pipe (FIFO)".
        kind: String,
    },

    /// A state file is larger than plinth reads.
    #[error(
        "{path} is {size} bytes, more than the {limit} bytes plinth reads from a state file: it is not a file plinth wrote; put the file plinth wrote in its place, or move it aside if there is nothing to keep",
        path = .path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The most plinth reads.
        limit: u64,
    },

    /// The snapshot is gone but its backup (or its migrated copy) is there: the state was
    /// deleted or moved, and "no state" would plan to re-create every object.
    #[error("{}", snapshot_missing_message(.path, .backup, .migrated.as_deref()))]
    SnapshotMissing {
        /// The missing snapshot.
        path: PathBuf,
        /// Its backup, which is there.
        backup: PathBuf,
        /// `state.json.migrated`, when `state migrate` moved the state to another backend.
        migrated: Option<PathBuf>,
    },

    /// Serialising state failed (a bug).
    #[error("could not encode {what} as JSON: {error}; this is a bug in plinth — please report it")]
    Encode {
        /// What was being encoded, e.g. "the state".
        what: &'static str,
        /// The encoder's error.
        error: String,
    },
}

impl StateError {
    pub(crate) fn io(action: &'static str, path: &Path, error: io::Error) -> Self {
        StateError::Io {
            action,
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn encode(what: &'static str, error: serde_json::Error) -> Self {
        StateError::Encode {
            what,
            error: error.to_string(),
        }
    }
}

fn followed_by(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " and is followed by 1 more record".to_string(),
        n => format!(" and is followed by {n} more records"),
    }
}

fn snapshot_missing_message(path: &Path, backup: &Path, migrated: Option<&Path>) -> String {
    let (path, backup) = (path.display(), backup.display());
    match migrated {
        Some(m) => format!(
            "{path} is missing: `plinth state migrate` moved this state to another backend and left its last local copy as {m}; use the configuration whose [backend] it was migrated to, or, to bring the state back here, `mv {m} {path}`",
            m = m.display()
        ),
        None => format!(
            "{path} is missing, but {backup} (the snapshot before the last run) is there: the state was deleted or moved, and going on without it would plan to re-create every object; restore it (`cp {backup} {path}`, then `plinth plan` reconciles the last run's changes), or, to really start over with no state, delete {backup}"
        ),
    }
}

fn locked_message(info: &LockInfo) -> String {
    format!(
        "the state at {} is locked by {} (pid {}) since {} for `{}` (lock id {}); wait for it with --lock-timeout <DURATION>, or, if that process is gone, run `plinth force-unlock {}`",
        info.path, info.who, info.pid, info.created, info.operation, info.id, info.id
    )
}

fn still_held_message(info: &LockInfo) -> String {
    format!(
        "the lock {} on {} is held by a live process (pid {} on {}, `{}` since {}); a live local lock cannot be broken — stop that process (or let it finish) and retry",
        info.id, info.path, info.pid, info.who, info.operation, info.created
    )
}
