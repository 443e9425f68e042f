//! An in-memory backend for tests: the local backend's semantics without files.
//!
//! Clones share one store, so locks contend between clones and a clone can inspect what
//! another recorded. Byte accounting matches the local backend (journal lines plus pretty
//! snapshots), so engine tests can check write amplification without touching disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backend::{Backend, LoadedState, LockGuard, OpenAction, StateWriter, plan_open};
use crate::error::StateError;
use crate::journal;
use crate::lock::LockInfo;
use crate::model::{Change, State};

const LOCK_POLL: Duration = Duration::from_millis(10);
const PATH: &str = "memory";

/// State held in memory, shared between clones.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The last compacted snapshot.
    snapshot: Option<State>,
    /// The snapshot plus the journal: what `load` returns.
    current: Option<State>,
    /// Changes recorded since the last compaction, with their serials.
    journal: Vec<(u64, Change)>,
    /// Every change ever recorded, with its serial.
    log: Vec<(u64, Change)>,
    lock: Option<MemLock>,
    compactions: usize,
    bytes_written: u64,
    /// Records that may still succeed before every record fails (fault injection).
    records_before_failure: Option<usize>,
}

#[derive(Debug)]
struct MemLock {
    info: LockInfo,
    /// False for a lock planted by [`MemoryBackend::plant_stale_lock`]: its holder is "dead".
    live: bool,
}

impl MemoryBackend {
    /// An empty backend (no state yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// A backend already holding `state` as its snapshot.
    pub fn with_state(state: State) -> Self {
        let backend = Self::default();
        {
            let mut inner = backend.inner();
            inner.snapshot = Some(state.clone());
            inner.current = Some(state);
        }
        backend
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every change recorded through any writer of this backend, with its serial, in order.
    pub fn changes(&self) -> Vec<(u64, Change)> {
        self.inner().log.clone()
    }

    /// The changes recorded since the last compaction (what a local journal would hold).
    pub fn journal(&self) -> Vec<(u64, Change)> {
        self.inner().journal.clone()
    }

    /// The last compacted snapshot.
    pub fn snapshot(&self) -> Option<State> {
        self.inner().snapshot.clone()
    }

    /// The current state (snapshot plus journal), as `load` would return it.
    pub fn current(&self) -> Option<State> {
        self.inner().current.clone()
    }

    /// How many snapshots were written.
    pub fn compactions(&self) -> usize {
        self.inner().compactions
    }

    /// Bytes written by all writers of this backend, counted as the local backend would.
    pub fn bytes_written(&self) -> u64 {
        self.inner().bytes_written
    }

    /// Makes every record fail after `n` more succeed (`None`: never fail).
    pub fn fail_records_after(&self, n: Option<usize>) {
        self.inner().records_before_failure = n;
    }

    /// Plants a lock whose holder is gone, as a crashed process would leave behind:
    /// `lock` takes over such a lock and `force_unlock` removes it.
    pub fn plant_stale_lock(&self, info: LockInfo) {
        self.inner().lock = Some(MemLock { info, live: false });
    }

    fn path() -> PathBuf {
        PathBuf::from(PATH)
    }
}

impl Backend for MemoryBackend {
    fn describe(&self) -> String {
        "in-memory state".to_string()
    }

    fn load(&self) -> Result<LoadedState, StateError> {
        Ok(LoadedState {
            state: self.inner().current.clone(),
            warnings: Vec::new(),
        })
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<Box<dyn LockGuard>, StateError> {
        let start = Instant::now();
        loop {
            {
                let mut inner = self.inner();
                match &inner.lock {
                    Some(held) if held.live => {
                        let elapsed = start.elapsed();
                        if elapsed >= timeout {
                            return Err(StateError::Locked {
                                info: Box::new(held.info.clone()),
                            });
                        }
                    }
                    _ => {
                        let mut info = LockInfo::new(operation);
                        info.path = PATH.to_string();
                        inner.lock = Some(MemLock {
                            info: info.clone(),
                            live: true,
                        });
                        return Ok(Box::new(MemoryLock {
                            inner: self.inner.clone(),
                            info,
                        }));
                    }
                }
            }
            std::thread::sleep(LOCK_POLL.min(timeout.saturating_sub(start.elapsed())));
        }
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.inner().lock.as_ref().map(|l| l.info.clone()))
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        let mut inner = self.inner();
        let Some(held) = &inner.lock else {
            return Err(StateError::NotLocked { path: Self::path() });
        };
        if held.info.id != id {
            return Err(StateError::LockIdMismatch {
                path: Self::path(),
                given: id.to_string(),
                actual: held.info.id.clone(),
            });
        }
        if held.live {
            return Err(StateError::LockStillHeld {
                info: Box::new(held.info.clone()),
            });
        }
        inner.lock = None;
        Ok(())
    }

    fn open_writer(&self, mut state: State) -> Result<Box<dyn StateWriter>, StateError> {
        let (action, dirty) = {
            let inner = self.inner();
            let action = plan_open(inner.current.as_ref(), &mut state, Path::new(PATH))?;
            (
                action,
                !inner.journal.is_empty() || inner.snapshot.is_none(),
            )
        };
        let mut writer = MemoryWriter {
            inner: self.inner.clone(),
            state,
            dirty,
            bytes_written: 0,
        };
        match action {
            OpenAction::Continue => {}
            OpenAction::JournalOnly => {
                // Nothing stored yet; the first record creates the state.
            }
            OpenAction::Snapshot => {
                writer.dirty = true;
                writer.compact()?;
            }
        }
        Ok(Box::new(writer))
    }
}

struct MemoryLock {
    inner: Arc<Mutex<Inner>>,
    info: LockInfo,
}

impl LockGuard for MemoryLock {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner
            .lock
            .as_ref()
            .is_some_and(|l| l.info.id == self.info.id)
        {
            inner.lock = None;
        }
    }
}

struct MemoryWriter {
    inner: Arc<Mutex<Inner>>,
    state: State,
    dirty: bool,
    bytes_written: u64,
}

impl MemoryWriter {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StateWriter for MemoryWriter {
    fn state(&self) -> &State {
        &self.state
    }

    fn record(&mut self, change: Change) -> Result<u64, StateError> {
        let serial = crate::backend::next_serial(self.state.serial, Path::new(PATH))?;
        let len = journal::encode(serial, &self.state.lineage, &change)?.len() as u64;
        {
            let mut inner = self.inner();
            match &mut inner.records_before_failure {
                Some(0) => {
                    return Err(StateError::io(
                        "append to",
                        Path::new(PATH),
                        std::io::Error::other(
                            "injected failure (MemoryBackend::fail_records_after)",
                        ),
                    ));
                }
                Some(n) => *n -= 1,
                None => {}
            }
            let current = inner
                .current
                .get_or_insert_with(|| crate::backend::fresh_state(&self.state.lineage));
            current.apply_change(&change);
            current.serial = serial;
            inner.journal.push((serial, change.clone()));
            inner.bytes_written += len;
            inner.log.push((serial, change.clone()));
        }
        self.bytes_written += len;
        self.state.apply_change(&change);
        self.state.serial = serial;
        self.dirty = true;
        Ok(serial)
    }

    fn compact(&mut self) -> Result<(), StateError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !self.dirty && inner.snapshot.is_some() {
            return Ok(());
        }
        let len = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| StateError::encode("the state", e))?
            .len() as u64
            + 1;
        inner.snapshot = Some(self.state.clone());
        inner.current = Some(self.state.clone());
        inner.journal.clear();
        inner.compactions += 1;
        inner.bytes_written += len;
        drop(inner);
        self.bytes_written += len;
        self.dirty = false;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.bytes_written
    }
}
