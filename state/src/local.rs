//! The local backend: state in a directory (the engine uses `<config>/.plinth`).
//!
//! Files, all created with mode 0600 in a directory created 0700:
//!
//! - `state.json`: the snapshot (pretty JSON);
//! - `state.journal`: changes since the snapshot, one checksummed line each
//!   (`<crc32 hex> {"serial":N,"lineage":"...","change":...}`);
//! - `state.json.backup`: the previous snapshot (a missing `state.json` beside it, or beside
//!   `state.json.migrated`, is refused rather than read as "no state");
//! - `state.lock`: held with an OS exclusive file lock (`flock`) for the lock's lifetime;
//! - `state.lock.info`: who holds the lock, written once it is acquired, removed on release.
//!
//! Durability invariants:
//!
//! - A change is acknowledged ([`StateWriter::record`] returns) only after its journal line
//!   was appended and `fdatasync`ed, so a killed process loses nothing it was told is saved.
//!   Each record costs O(size of the change): nothing else is rewritten.
//! - A crash mid-append leaves at most one torn line, at the end; it was never acknowledged,
//!   so load drops it (with a warning) and the next writer truncates it before appending.
//!   Appends end with the newline, so that torn line is unterminated; damage anywhere else
//!   (a complete last line that fails its checksum included) is never repaired silently: it
//!   is [`StateError::Corrupt`].
//! - Serials are counted with checks up to [`crate::MAX_SERIAL`]: a writer refuses to record
//!   past it rather than wrap around to 0 (which replay would skip as already compacted).
//! - Only regular files up to [`crate::MAX_STATE_FILE_BYTES`] are read: a FIFO or device in
//!   place of a state file is an error, not a hang.
//! - Compaction writes the snapshot to a temporary file, fsyncs it, hard-links the old
//!   snapshot to `state.json.backup` (link + rename: no bytes copied), renames the new one
//!   over `state.json`, fsyncs the directory, and only then truncates the journal. A crash
//!   between the rename and the truncation leaves journal records the snapshot already
//!   contains: load skips every record whose serial is at or below the snapshot's.
//! - Journal records carry the lineage and consecutive serials, so a journal from another
//!   state, or with a missing or repeated change, is an error rather than a wrong state.
//! - A journal without a snapshot is valid: it is replayed onto an empty state of the
//!   records' lineage (a crash before the first compaction).
//! - Newly created files are made durable by fsyncing their directory.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs4::fs_std::FileExt as _;
use serde::Deserialize;

use crate::backend::{Backend, LoadedState, LockGuard, OpenAction, StateWriter, plan_open};
use crate::backend::{next_serial, serial_after};
use crate::error::StateError;
use crate::files::{MAX_LOCK_INFO_BYTES, MAX_STATE_FILE_BYTES, read_regular};
use crate::journal::{self, Scan};
use crate::lock::LockInfo;
use crate::model::{Change, STATE_FORMAT, State};

/// The snapshot file name.
pub const SNAPSHOT_FILE: &str = "state.json";
/// The journal file name.
pub const JOURNAL_FILE: &str = "state.journal";
/// The previous snapshot's file name.
pub const BACKUP_FILE: &str = "state.json.backup";
/// What `state migrate` renames the snapshot to once the state lives in another backend.
pub const MIGRATED_FILE: &str = "state.json.migrated";
/// The OS lock file name.
pub const LOCK_FILE: &str = "state.lock";
/// The lock-info file name.
pub const LOCK_INFO_FILE: &str = "state.lock.info";

const SNAPSHOT_TMP: &str = "state.json.tmp";
const BACKUP_TMP: &str = "state.json.backup.tmp";
const LOCK_INFO_TMP: &str = "state.lock.info.tmp";
const LOCK_POLL: Duration = Duration::from_millis(100);

/// State stored in a local directory. See the module documentation for the layout.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    dir: PathBuf,
}

/// What is on disk, as `load` and `open_writer` see it.
struct OnDisk {
    state: Option<State>,
    snapshot_exists: bool,
    warnings: Vec<String>,
    /// Journal length and the length of its valid prefix.
    journal_len: u64,
    valid_len: u64,
    /// Records that add to the snapshot, and records it already contains.
    applied: usize,
    skipped: usize,
}

impl LocalBackend {
    /// A backend storing its files in `dir` (created 0700 when first written).
    pub fn new(dir: PathBuf) -> Self {
        LocalBackend { dir }
    }

    /// The directory holding the state files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The snapshot's path (`<dir>/state.json`).
    pub fn snapshot_path(&self) -> PathBuf {
        self.dir.join(SNAPSHOT_FILE)
    }

    /// The journal's path (`<dir>/state.journal`).
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }

    /// The previous snapshot's path (`<dir>/state.json.backup`).
    pub fn backup_path(&self) -> PathBuf {
        self.dir.join(BACKUP_FILE)
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    fn lock_info_path(&self) -> PathBuf {
        self.dir.join(LOCK_INFO_FILE)
    }

    fn ensure_dir(&self) -> Result<(), StateError> {
        if self.dir.is_dir() {
            return Ok(());
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| StateError::io("create the directory", &self.dir, e))?;
        if let Some(parent) = self.dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        Ok(())
    }

    fn read_snapshot(&self) -> Result<Option<State>, StateError> {
        let path = self.snapshot_path();
        let Some(data) = read_regular(&path, MAX_STATE_FILE_BYTES)? else {
            // A backup is written only over an existing snapshot, so one without the other
            // means the snapshot was deleted or moved: "no state" would re-create everything.
            let backup = self.backup_path();
            let migrated = self.dir.join(MIGRATED_FILE);
            let migrated = fs::symlink_metadata(&migrated).is_ok().then_some(migrated);
            if migrated.is_some() || fs::symlink_metadata(&backup).is_ok() {
                return Err(StateError::SnapshotMissing {
                    path,
                    backup,
                    migrated,
                });
            }
            return Ok(None);
        };
        parse_snapshot(&data, &path, &self.backup_path()).map(Some)
    }

    /// A warning naming the state directory and files that other users may read (state holds
    /// secrets), with the `chmod` that fixes them; `None` when all are private.
    fn loose_modes(&self) -> Option<String> {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| {
            fs::metadata(p)
                .ok()
                .map(|m| m.permissions().mode() & 0o777)
                .filter(|m| m & 0o077 != 0)
        };
        let mut loose = Vec::new();
        let mut fixes = Vec::new();
        if let Some(m) = mode(&self.dir) {
            loose.push(format!("{} (mode {m:04o})", self.dir.display()));
            fixes.push(format!("chmod 700 {}", self.dir.display()));
        }
        let files: Vec<PathBuf> = [
            self.snapshot_path(),
            self.journal_path(),
            self.backup_path(),
        ]
        .into_iter()
        .filter(|p| mode(p).is_some())
        .collect();
        for f in &files {
            loose.push(format!(
                "{} (mode {:04o})",
                f.display(),
                mode(f).unwrap_or_default()
            ));
        }
        if !files.is_empty() {
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            fixes.push(format!("chmod 600 {}", names.join(" ")));
        }
        if loose.is_empty() {
            return None;
        }
        Some(format!(
            "state holds secrets, but other users may read {}; run `{}`",
            loose.join(", "),
            fixes.join(" && ")
        ))
    }

    fn read_disk(&self) -> Result<OnDisk, StateError> {
        let snapshot = self.read_snapshot()?;
        let snapshot_exists = snapshot.is_some();
        let journal_path = self.journal_path();
        let data = read_regular(&journal_path, MAX_STATE_FILE_BYTES)?.unwrap_or_default();
        let Scan {
            records,
            valid_len,
            torn,
        } = journal::scan(&data, &journal_path, &self.backup_path())?;
        let mut warnings = Vec::new();
        if let Some(torn) = torn {
            warnings.push(format!(
                "dropped a torn final journal record ({} bytes, line {} of {}, which {}); it was never acknowledged as saved",
                torn.bytes,
                torn.line,
                journal_path.display(),
                torn.reason
            ));
        }
        let replayed = journal::replay(
            snapshot,
            records,
            &journal_path,
            &self.snapshot_path(),
            &self.backup_path(),
        )?;
        if replayed.skipped > 0 {
            warnings.push(format!(
                "skipped {} journal record(s) in {} that {} already contains (a run stopped while compacting)",
                replayed.skipped,
                journal_path.display(),
                self.snapshot_path().display()
            ));
        }
        Ok(OnDisk {
            state: replayed.state,
            snapshot_exists,
            warnings,
            journal_len: data.len() as u64,
            valid_len,
            applied: replayed.applied,
            skipped: replayed.skipped,
        })
    }

    fn read_lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        let path = self.lock_info_path();
        match read_regular(&path, MAX_LOCK_INFO_BYTES)? {
            Some(data) => {
                serde_json::from_slice(&data)
                    .map(Some)
                    .map_err(|e| StateError::InvalidLockInfo {
                        path,
                        error: e.to_string(),
                    })
            }
            None => Ok(None),
        }
    }

    fn open_lock_file(&self) -> Result<File, StateError> {
        let path = self.lock_path();
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StateError::io("open", &path, e))
    }

    fn try_lock(&self, file: &File) -> Result<bool, StateError> {
        file.try_lock_exclusive()
            .map_err(|e| StateError::io("lock", &self.lock_path(), e))
    }

    /// The info of a lock we failed to take. The holder writes it just after locking, so it
    /// may briefly be missing or half written.
    fn holder_info(&self) -> LockInfo {
        for _ in 0..5 {
            if let Ok(Some(info)) = self.read_lock_info() {
                return info;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        LockInfo {
            id: "(unknown: the lock info file is missing)".to_string(),
            operation: "unknown".to_string(),
            who: "an unknown process".to_string(),
            pid: 0,
            created: "an unknown time".to_string(),
            path: self.snapshot_path().display().to_string(),
        }
    }

    fn write_lock_info(&self, info: &LockInfo) -> Result<(), StateError> {
        let tmp = self.dir.join(LOCK_INFO_TMP);
        let json =
            serde_json::to_vec_pretty(info).map_err(|e| StateError::encode("the lock info", e))?;
        write_new_file(&tmp, &json, false)?;
        let path = self.lock_info_path();
        fs::rename(&tmp, &path).map_err(|e| StateError::io("rename into place", &path, e))
    }
}

impl Backend for LocalBackend {
    fn describe(&self) -> String {
        format!("local state at {}", self.snapshot_path().display())
    }

    fn load(&self) -> Result<LoadedState, StateError> {
        let disk = self.read_disk()?;
        let mut warnings = disk.warnings;
        warnings.extend(self.loose_modes());
        Ok(LoadedState {
            state: disk.state,
            warnings,
        })
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<Box<dyn LockGuard>, StateError> {
        self.ensure_dir()?;
        let file = self.open_lock_file()?;
        let start = Instant::now();
        loop {
            if self.try_lock(&file)? {
                break;
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Err(StateError::Locked {
                    info: Box::new(self.holder_info()),
                });
            }
            std::thread::sleep(LOCK_POLL.min(timeout - elapsed));
        }
        let mut info = LockInfo::new(operation);
        info.path = self.snapshot_path().display().to_string();
        // On failure `file` is dropped, which releases the OS lock.
        self.write_lock_info(&info)?;
        Ok(Box::new(LocalLock {
            _file: file,
            info,
            info_path: self.lock_info_path(),
        }))
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        self.read_lock_info()
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        let Some(info) = self.read_lock_info()? else {
            return Err(StateError::NotLocked {
                path: self.snapshot_path(),
            });
        };
        if info.id != id {
            return Err(StateError::LockIdMismatch {
                path: self.snapshot_path(),
                given: id.to_string(),
                actual: info.id,
            });
        }
        let file = self.open_lock_file()?;
        if !self.try_lock(&file)? {
            return Err(StateError::LockStillHeld {
                info: Box::new(info),
            });
        }
        // We hold the OS lock now, so nobody can be writing a fresh info file.
        let path = self.lock_info_path();
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StateError::io("remove", &path, e)),
        }
    }

    fn open_writer(&self, mut state: State) -> Result<Box<dyn StateWriter>, StateError> {
        self.ensure_dir()?;
        let disk = self.read_disk()?;
        let journal_path = self.journal_path();
        let existed = journal_path.exists();
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&journal_path)
            .map_err(|e| StateError::io("open", &journal_path, e))?;
        if !existed {
            sync_dir(&self.dir)?;
        }
        // Cut a torn tail, or records the snapshot already holds, so appends continue a
        // valid journal.
        let keep = if disk.applied == 0 && disk.skipped > 0 {
            0
        } else {
            disk.valid_len
        };
        if keep < disk.journal_len {
            file.set_len(keep)
                .and_then(|()| file.sync_data())
                .map_err(|e| StateError::io("truncate", &journal_path, e))?;
        }
        let action = plan_open(disk.state.as_ref(), &mut state, &self.snapshot_path())?;
        let mut writer = LocalWriter {
            dir: self.dir.clone(),
            journal_path,
            journal: file,
            journal_len: keep,
            state,
            dirty: disk.applied > 0 || !disk.snapshot_exists,
            snapshot_exists: disk.snapshot_exists,
            bytes_written: 0,
            poisoned: false,
        };
        if let OpenAction::Snapshot = action {
            writer.dirty = true;
            writer.compact()?;
        }
        Ok(Box::new(writer))
    }
}

/// A held local lock: the open, `flock`ed lock file.
struct LocalLock {
    _file: File,
    info: LockInfo,
    info_path: PathBuf,
}

impl LockGuard for LocalLock {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        // Remove the info while still holding the OS lock (the file is closed after this),
        // and only if it is ours.
        let ours = fs::read(&self.info_path)
            .ok()
            .and_then(|d| serde_json::from_slice::<LockInfo>(&d).ok())
            .is_some_and(|i| i.id == self.info.id);
        if ours {
            let _ = fs::remove_file(&self.info_path);
        }
    }
}

/// Appends to the journal; compacts into the snapshot.
struct LocalWriter {
    dir: PathBuf,
    journal_path: PathBuf,
    journal: File,
    /// The journal's length as far as this writer knows (for rollback of a failed append).
    journal_len: u64,
    state: State,
    /// Whether the journal holds anything the snapshot does not (or there is no snapshot).
    dirty: bool,
    snapshot_exists: bool,
    bytes_written: u64,
    poisoned: bool,
}

impl LocalWriter {
    fn append(&mut self, line: &[u8]) -> Result<(), StateError> {
        let result = self
            .journal
            .write_all(line)
            .map_err(|e| StateError::io("append to", &self.journal_path, e))
            .and_then(|()| {
                self.journal
                    .sync_data()
                    .map_err(|e| StateError::io("fsync", &self.journal_path, e))
            });
        if result.is_err() {
            // Undo a partial append so the journal stays valid; if that fails too, stop.
            let undone = self
                .journal
                .set_len(self.journal_len)
                .and_then(|()| self.journal.sync_data());
            if undone.is_err() {
                self.poisoned = true;
            }
        }
        result
    }

    fn write_snapshot(&mut self) -> Result<(), StateError> {
        let mut json = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| StateError::encode("the state", e))?;
        json.push(b'\n');
        let tmp = self.dir.join(SNAPSHOT_TMP);
        write_new_file(&tmp, &json, true)?;
        self.bytes_written += json.len() as u64;
        let snapshot = self.dir.join(SNAPSHOT_FILE);
        if self.snapshot_exists {
            let backup_tmp = self.dir.join(BACKUP_TMP);
            match fs::remove_file(&backup_tmp) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(StateError::io("remove", &backup_tmp, e)),
            }
            // The backup is the old snapshot's inode: make it private first, whatever mode
            // the old file had (one copied in by hand may be 0644).
            fs::set_permissions(&snapshot, fs::Permissions::from_mode(0o600))
                .map_err(|e| StateError::io("make private", &snapshot, e))?;
            fs::hard_link(&snapshot, &backup_tmp)
                .map_err(|e| StateError::io("hard-link the backup", &backup_tmp, e))?;
            let backup = self.dir.join(BACKUP_FILE);
            fs::rename(&backup_tmp, &backup)
                .map_err(|e| StateError::io("rename into place", &backup, e))?;
        }
        fs::rename(&tmp, &snapshot)
            .map_err(|e| StateError::io("rename into place", &snapshot, e))?;
        sync_dir(&self.dir)?;
        self.snapshot_exists = true;
        Ok(())
    }
}

impl StateWriter for LocalWriter {
    fn state(&self) -> &State {
        &self.state
    }

    fn record(&mut self, change: Change) -> Result<u64, StateError> {
        if self.poisoned {
            return Err(StateError::Poisoned {
                path: self.journal_path.clone(),
            });
        }
        let serial = next_serial(self.state.serial, &self.dir.join(SNAPSHOT_FILE))?;
        let line = journal::encode(serial, &self.state.lineage, &change)?;
        self.append(&line)?;
        self.journal_len += line.len() as u64;
        self.bytes_written += line.len() as u64;
        self.state.apply_change(&change);
        self.state.serial = serial;
        self.dirty = true;
        Ok(serial)
    }

    fn record_batch(&mut self, changes: Vec<Change>) -> Result<u64, StateError> {
        if self.poisoned {
            return Err(StateError::Poisoned {
                path: self.journal_path.clone(),
            });
        }
        if changes.is_empty() {
            return Ok(self.state.serial);
        }
        let last = serial_after(
            self.state.serial,
            changes.len(),
            &self.dir.join(SNAPSHOT_FILE),
        )?;
        let mut lines = Vec::new();
        let mut serial = self.state.serial;
        for change in &changes {
            serial += 1;
            lines.extend(journal::encode(serial, &self.state.lineage, change)?);
        }
        debug_assert_eq!(serial, last);
        // One append and one fdatasync for the batch; a failure undoes the whole append.
        self.append(&lines)?;
        self.journal_len += lines.len() as u64;
        self.bytes_written += lines.len() as u64;
        for change in changes {
            match change {
                // Moved into the state rather than copied (`apply_change` clones): a copy of
                // every record written cost 3% of an apply of 100,000 objects.
                Change::Put(r) => {
                    self.state.resources.insert(r.address.clone(), *r);
                }
                other => self.state.apply_change(&other),
            }
        }
        self.state.serial = serial;
        self.dirty = true;
        Ok(serial)
    }

    fn compact(&mut self) -> Result<(), StateError> {
        if self.poisoned {
            return Err(StateError::Poisoned {
                path: self.journal_path.clone(),
            });
        }
        if !self.dirty && self.snapshot_exists {
            return Ok(());
        }
        self.write_snapshot()?;
        // The snapshot holds everything now; a crash before this truncation only leaves
        // records that load skips.
        if self.journal_len > 0 {
            if let Err(e) = self
                .journal
                .set_len(0)
                .and_then(|()| self.journal.sync_data())
            {
                // Appending after stale records is still valid; only the length is unknown.
                match self.journal.metadata() {
                    Ok(m) => self.journal_len = m.len(),
                    Err(_) => self.poisoned = true,
                }
                return Err(StateError::io("truncate", &self.journal_path, e));
            }
            self.journal_len = 0;
        }
        self.dirty = false;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.bytes_written
    }
}

/// Creates `path` afresh (a leftover is removed first, so it can neither pass on its mode
/// nor be a FIFO that blocks the open) with mode 0600 and writes `data`, fsyncing if asked.
fn write_new_file(path: &Path, data: &[u8], sync: bool) -> Result<(), StateError> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(StateError::io("remove", path, e)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StateError::io("create", path, e))?;
    file.write_all(data)
        .map_err(|e| StateError::io("write", path, e))?;
    if sync {
        file.sync_all()
            .map_err(|e| StateError::io("fsync", path, e))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StateError::io("fsync the directory", dir, e))
}

/// Parses and validates a snapshot.
pub(crate) fn parse_snapshot(data: &[u8], path: &Path, backup: &Path) -> Result<State, StateError> {
    #[derive(Deserialize)]
    struct Peek {
        format: Option<serde_json::Value>,
    }
    let unsupported = |found: String| StateError::UnsupportedFormat {
        path: path.to_path_buf(),
        found,
        backup: backup.to_path_buf(),
    };
    match State::from_json_slice(data) {
        Ok(state) if state.format == STATE_FORMAT => Ok(state),
        Ok(state) => Err(unsupported(format!("{:?}", state.format))),
        Err(error) => {
            // A document of another format may not parse as ours: report the format first.
            match serde_json::from_slice::<Peek>(data) {
                Ok(Peek {
                    format: Some(serde_json::Value::String(f)),
                }) if f != STATE_FORMAT => Err(unsupported(format!("{f:?}"))),
                Ok(Peek { format: None }) => Err(unsupported("no \"format\" field".to_string())),
                _ => Err(StateError::InvalidSnapshot {
                    path: path.to_path_buf(),
                    error: error.to_string(),
                    backup: backup.to_path_buf(),
                }),
            }
        }
    }
}
