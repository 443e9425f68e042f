//! [`GitResolver`]: what the configuration loader calls for every module source that is not
//! a local path. It fetches git sources into `DIR/.plinth/modules/`, pins them in
//! `DIR/plinth.lock`, and reports what it did. Uses `source`, `git` and `lock`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::git::{Want, cache_dir, fetch};
use crate::lock::{LOCK_FILE, Lock, LockEntry};
use crate::source::GitSource;

/// How a run treats `plinth.lock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `plinth init`: the lock is rewritten to hold exactly the sources the configuration
    /// uses; with `upgrade`, every ref is resolved again instead of using the locked commit.
    Init {
        /// `--upgrade`.
        upgrade: bool,
    },
    /// Any other command: locked sources use their commit (fetched if the cache lacks it);
    /// a source the lock does not hold yet is fetched and added (the first `plan`). Locked
    /// entries are never changed or dropped.
    Use,
}

/// What happened to one source in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The source, canonical, credentials hidden.
    pub source: String,
    /// The commit used.
    pub commit: String,
    /// True when it was downloaded now; false when the cache already held it.
    pub fetched: bool,
    /// The commit the lock held before, when this run changed it (`init --upgrade`).
    pub previous: Option<String>,
    /// True when the lock did not hold this source before.
    pub new: bool,
}

/// What [`GitResolver::finish`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Every git source resolved, sorted by source.
    pub resolved: Vec<Resolved>,
    /// What happened to `plinth.lock`.
    pub lock: LockWrite,
}

/// What happened to `plinth.lock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWrite {
    /// Written (created or changed).
    Written,
    /// Already held exactly this.
    Unchanged,
    /// There is none and none is needed (no git sources).
    Absent,
}

/// Resolves module sources that are not local paths; see the crate's documentation.
pub struct GitResolver {
    lock_path: PathBuf,
    modules_dir: PathBuf,
    mode: Mode,
    /// The lock as read (`None`: no file), and its text.
    old: Option<(Lock, String)>,
    resolved: Mutex<BTreeMap<String, Resolved>>,
}

impl GitResolver {
    /// A resolver for the configuration in `dir` (absolute); reads `DIR/plinth.lock`. A lock
    /// that cannot be read or parsed is an error.
    pub fn new(dir: &Path, mode: Mode) -> Result<GitResolver, String> {
        let lock_path = dir.join(LOCK_FILE);
        let old = match std::fs::read_to_string(&lock_path) {
            Ok(text) => Some((Lock::parse(&text)?, text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", lock_path.display())),
        };
        Ok(GitResolver {
            lock_path,
            modules_dir: dir.join(".plinth").join("modules"),
            mode,
            old,
            resolved: Mutex::new(BTreeMap::new()),
        })
    }

    /// The directory holding `source`'s module, fetched if needed. `Err` is a sentence
    /// naming the source (credentials hidden) and, for a failed fetch, git's own words.
    pub fn resolve(&self, source: &str, _caller_dir: &Path) -> Result<PathBuf, String> {
        let parsed = GitSource::parse(source)?.ok_or_else(|| {
            format!(
                "the module source `{}` is neither a local path nor a git source; write a path starting with ./ or ../, or git::<url>[//<subdir>][?ref=<branch, tag or commit>] (module registries are not supported)",
                crate::redact(source)
            )
        })?;
        let key = parsed.to_string();
        let mut resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = resolved.get(&key) {
            return self.module_dir(&parsed, &r.commit);
        }
        let locked = self
            .old
            .as_ref()
            .and_then(|(lock, _)| lock.entries.get(&key))
            .map(|e| e.commit.clone());
        let upgrade = self.mode == Mode::Init { upgrade: true };
        let want = match (&locked, upgrade) {
            (Some(commit), false) => Want::Commit(commit),
            _ => Want::Ref,
        };
        let checkout = fetch(&parsed, want, &self.modules_dir)?;
        let commit = checkout.commit;
        let dir = self.module_dir(&parsed, &commit)?;
        resolved.insert(
            key.clone(),
            Resolved {
                source: key,
                previous: locked.clone().filter(|c| *c != commit),
                new: locked.is_none(),
                commit,
                fetched: checkout.fetched,
            },
        );
        Ok(dir)
    }

    /// `source`'s module directory at `commit`: its subdirectory of the checkout.
    fn module_dir(&self, source: &GitSource, commit: &str) -> Result<PathBuf, String> {
        let root = cache_dir(&self.modules_dir, source, commit);
        let dir = if source.subdir.is_empty() {
            root
        } else {
            root.join(&source.subdir)
        };
        if dir.is_dir() {
            Ok(dir)
        } else {
            Err(format!(
                "{source}: the repository has no directory `{}` at commit {}; check the //subdirectory part of the source",
                source.subdir,
                short(commit)
            ))
        }
    }

    /// The lock this run ends with (`None`: no lock file is needed).
    fn final_lock(&self) -> Option<Lock> {
        let resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        let mut lock = match self.mode {
            Mode::Init { .. } => Lock::default(),
            Mode::Use => self
                .old
                .as_ref()
                .map(|(l, _)| l.clone())
                .unwrap_or_default(),
        };
        for r in resolved.values() {
            let subdir = GitSource::parse(&r.source)
                .ok()
                .flatten()
                .map(|s| s.subdir)
                .unwrap_or_default();
            lock.entries.insert(
                r.source.clone(),
                LockEntry {
                    source: r.source.clone(),
                    commit: r.commit.clone(),
                    subdir,
                },
            );
        }
        (self.old.is_some() || !lock.entries.is_empty()).then_some(lock)
    }

    /// The files whose text pins the fetched sources — `plinth.lock` as this run leaves it —
    /// for the configuration's sources (a changed lock makes a saved plan stale). Call after
    /// every source is resolved.
    pub fn pinned_files(&self) -> Vec<(String, String)> {
        match self.final_lock() {
            Some(lock) => vec![(LOCK_FILE.to_string(), lock.to_text())],
            None => Vec::new(),
        }
    }

    /// Writes `plinth.lock` if this run changed it (through a temporary file and a rename,
    /// so a crash never leaves half a lock), and says what was resolved.
    pub fn finish(&self) -> Result<Outcome, String> {
        let resolved: Vec<Resolved> = self
            .resolved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let lock = match self.final_lock() {
            None => LockWrite::Absent,
            Some(lock) => {
                let text = lock.to_text();
                if self.old.as_ref().is_some_and(|(_, old)| *old == text) {
                    LockWrite::Unchanged
                } else {
                    let tmp = self.lock_path.with_extension("lock.tmp");
                    std::fs::write(&tmp, &text)
                        .and_then(|()| std::fs::rename(&tmp, &self.lock_path))
                        .map_err(|e| {
                            let _ = std::fs::remove_file(&tmp);
                            format!("cannot write {}: {e}", self.lock_path.display())
                        })?;
                    LockWrite::Written
                }
            }
        };
        Ok(Outcome { resolved, lock })
    }
}

impl plinth_config::SourceResolver for GitResolver {
    fn resolve(&self, source: &str, caller_dir: &Path) -> Result<PathBuf, String> {
        GitResolver::resolve(self, source, caller_dir)
    }

    fn pinned_files(&self) -> Vec<(String, String)> {
        GitResolver::pinned_files(self)
    }
}

/// A commit's first 12 characters, for messages.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
