//! The lock: a lease on the `K.lock` blob, whose content is the holder's [`LockInfo`].
//! Acquiring (polling until the timeout), writing the info, renewing in the background and
//! keeping the *write deadline* every write checks ([`Held`]), releasing on drop
//! ([`AzureLock`]), and `force-unlock`. See "Lock" and "Renewal and the write deadline" in
//! the module documentation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;

use super::blob::{Blob, Blobs, Cond, lease, put_block_blob, remote, unexpected};
use super::http::Req;
use crate::backend::LockGuard;
use crate::error::StateError;
use crate::lock::LockInfo;

/// How often a refused `lock` tries again.
const LOCK_POLL: Duration = Duration::from_millis(250);

/// The lease a backend (or a clone of it) holds, shared with its writers.
pub(super) type HeldSlot = Arc<Mutex<Option<Arc<Held>>>>;

/// When the lease is renewed, and how long writes trust it. See "Lock" in the module docs.
#[derive(Clone, Copy, Debug)]
pub(super) struct LeaseTiming {
    /// A renewal is sent this long after the last successful one was sent.
    pub(super) renew_every: Duration,
    /// One renewal attempt may take this long (a single attempt: no retries inside it).
    pub(super) renew_timeout: Duration,
    /// Writes stop this long before the lease could expire at the service.
    pub(super) margin: Duration,
}

impl LeaseTiming {
    pub(super) fn for_lease(lease: Duration) -> LeaseTiming {
        LeaseTiming {
            renew_every: lease / 4,
            renew_timeout: (lease / 8).min(Duration::from_secs(5)),
            margin: lease / 4,
        }
    }
}

/// A lease being held: renewal reports a loss here and extends the write deadline.
pub(super) struct Held {
    lost: Mutex<Option<String>>,
    pub(super) stopped: AtomicBool,
    /// Writes are refused from then on: when the last successful acquire or renew request was
    /// *sent*, plus the lease duration, minus [`LeaseTiming::margin`]. The service's lease
    /// runs at least until the request's arrival plus the duration, so the lease is still
    /// ours before this deadline.
    deadline: Mutex<Instant>,
    /// The last failed renewal, for the message once the deadline passes.
    last_error: Mutex<Option<String>>,
}

impl Held {
    fn new(deadline: Instant) -> Held {
        Held {
            lost: Mutex::new(None),
            stopped: AtomicBool::new(false),
            deadline: Mutex::new(deadline),
            last_error: Mutex::new(None),
        }
    }

    fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn deadline(&self) -> Instant {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why this lease can no longer be trusted for a write, if it cannot.
    pub(super) fn problem(&self) -> Option<String> {
        if let Some(lost) = self.lost() {
            return Some(lost);
        }
        let late = Instant::now().checked_duration_since(self.deadline())?;
        let last = self
            .last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Some(format!(
            "the lease was not renewed in time (its write deadline passed {} ms ago), so it may have expired and been taken by another run{}",
            late.as_millis(),
            last.map(|e| format!("; last renewal attempt: {e}"))
                .unwrap_or_default()
        ))
    }
}

/// The `K.lock` blob of one state, leased for `duration` at a time.
#[derive(Clone)]
pub(super) struct LockBlob {
    pub(super) blobs: Blobs,
    pub(super) duration: Duration,
}

impl LockBlob {
    /// Takes the lock (waiting up to `timeout`), records `operation`'s lock info in the blob,
    /// starts renewing, and puts the lease in `slot` for the writers opened under it.
    pub(super) fn acquire(
        &self,
        operation: &str,
        timeout: Duration,
        slot: &HeldSlot,
    ) -> Result<AzureLock, StateError> {
        let mut info = LockInfo::new(operation);
        info.path = self.blobs.url(&self.blobs.key);
        let start = Instant::now();
        let acquired = loop {
            if let Some(sent) = self.try_acquire(&info.id)? {
                break sent;
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Err(StateError::Locked {
                    info: Box::new(self.holder_info()),
                });
            }
            std::thread::sleep(LOCK_POLL.min(timeout - elapsed));
        };
        let json =
            serde_json::to_vec_pretty(&info).map_err(|e| StateError::encode("the lock info", e))?;
        let (name, id) = (self.blobs.lock_name(), info.id.clone());
        let written = self.blobs.client.run(move |inner| async move {
            put_block_blob(inner, name, json, Cond::None, Some(id)).await
        });
        if let Err(e) = written {
            let _ = self.release(&info.id);
            return Err(StateError::Remote {
                action: "write the lock info to",
                target: self.blobs.url(&self.blobs.lock_name()),
                error: e,
            });
        }
        let held = Arc::new(Held::new(
            acquired + self.duration - LeaseTiming::for_lease(self.duration).margin,
        ));
        if let Err(e) = self.start_renewal(&info.id, held.clone(), acquired) {
            let _ = self.release(&info.id);
            return Err(e);
        }
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(held.clone());
        Ok(AzureLock {
            lock: self.clone(),
            slot: slot.clone(),
            info,
            held,
        })
    }

    /// The recorded holder, if any.
    pub(super) fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        match self.read()? {
            Some(blob) => self.parse_info(&blob.data),
            None => Ok(None),
        }
    }

    /// Breaks the lease (at once) and clears the info, if the recorded lock id is `id`.
    pub(super) fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        let not_locked = || StateError::NotLocked {
            path: self.blobs.path(&self.blobs.key),
        };
        let Some(blob) = self.read()? else {
            return Err(not_locked());
        };
        let info = self.parse_info(&blob.data)?;
        let actual = match (&info, blob.leased) {
            (Some(i), _) => i.id.clone(),
            (None, true) => "(not recorded yet)".to_string(),
            (None, false) => return Err(not_locked()),
        };
        if actual != id {
            return Err(StateError::LockIdMismatch {
                path: self.blobs.path(&self.blobs.key),
                given: id.to_string(),
                actual,
            });
        }
        let name = self.blobs.lock_name();
        let etag = blob.etag;
        let leased = blob.leased;
        self.blobs
            .client
            .run(move |inner| async move {
                if leased {
                    let resp = lease(
                        inner.clone(),
                        name.clone(),
                        vec![
                            ("x-ms-lease-action", "break".to_string()),
                            ("x-ms-lease-break-period", "0".to_string()),
                        ],
                    )
                    .await?;
                    if resp.status != 202 {
                        return Err(unexpected(&resp));
                    }
                }
                // Clear the info unless a new holder already replaced it.
                let req = Req::new(Method::PUT, Some(&name))
                    .header("x-ms-blob-type", "BlockBlob")
                    .header("if-match", etag);
                let r = inner.send(req).await?;
                match r.status {
                    201 | 412 => Ok(()),
                    _ => Err(unexpected(&r)),
                }
            })
            .map_err(remote(
                "force-unlock",
                self.blobs.url(&self.blobs.lock_name()),
            ))
    }

    fn read(&self) -> Result<Option<Blob>, StateError> {
        self.blobs.read(&self.blobs.lock_name())
    }

    fn parse_info(&self, data: &[u8]) -> Result<Option<LockInfo>, StateError> {
        if data.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(data)
            .map(Some)
            .map_err(|e| StateError::InvalidLockInfo {
                path: self.blobs.path(&self.blobs.lock_name()),
                error: e.to_string(),
            })
    }

    /// The holder of a lease we failed to take. It writes its info just after acquiring, so
    /// the info may briefly be missing.
    fn holder_info(&self) -> LockInfo {
        for _ in 0..10 {
            if let Ok(Some(blob)) = self.read()
                && blob.leased
                && let Ok(Some(info)) = self.parse_info(&blob.data)
            {
                return info;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        LockInfo {
            id: "(unknown: the lock blob holds no lock info)".to_string(),
            operation: "unknown".to_string(),
            who: "an unknown process".to_string(),
            pid: 0,
            created: "an unknown time".to_string(),
            path: self.blobs.url(&self.blobs.key),
        }
    }

    /// Tries once to take the lease. `Ok(None)`: someone holds it; `Ok(Some(sent))`: taken by
    /// the request sent at `sent`.
    fn try_acquire(&self, id: &str) -> Result<Option<Instant>, StateError> {
        let name = self.blobs.lock_name();
        let target = self.blobs.url(&name);
        let secs = self.duration.as_secs().to_string();
        let id = id.to_string();
        self.blobs
            .client
            .run(move |inner| async move {
                loop {
                    let sent = Instant::now();
                    let resp = lease(
                        inner.clone(),
                        name.clone(),
                        vec![
                            ("x-ms-lease-action", "acquire".to_string()),
                            ("x-ms-lease-duration", secs.clone()),
                            ("x-ms-proposed-lease-id", id.clone()),
                        ],
                    )
                    .await?;
                    match resp.status {
                        200 | 201 => return Ok(Some(sent)),
                        409 if resp.code() == "LeaseAlreadyPresent" => return Ok(None),
                        404 if resp.code() == "BlobNotFound" => {
                            // First use: create the lock blob (whoever wins, all then contend
                            // for its lease).
                            let req = Req::new(Method::PUT, Some(&name))
                                .header("x-ms-blob-type", "BlockBlob")
                                .header("if-none-match", "*");
                            let r = inner.send(req).await?;
                            if !matches!(r.status, 201 | 409 | 412) {
                                return Err(unexpected(&r));
                            }
                        }
                        _ => return Err(unexpected(&resp)),
                    }
                }
            })
            .map_err(remote("lock", target))
    }

    fn release(&self, id: &str) -> Result<(), String> {
        let name = self.blobs.lock_name();
        let id = id.to_string();
        self.blobs.client.run(move |inner| async move {
            // Clear the info under the lease, then let go of the lease.
            put_block_blob(
                inner.clone(),
                name.clone(),
                Vec::new(),
                Cond::None,
                Some(id.clone()),
            )
            .await?;
            let resp = lease(
                inner,
                name,
                vec![
                    ("x-ms-lease-action", "release".to_string()),
                    ("x-ms-lease-id", id),
                ],
            )
            .await?;
            match resp.status {
                200 => Ok(()),
                _ => Err(unexpected(&resp)),
            }
        })
    }

    /// Renews the lease in the background until `held.stopped`. Each renewal is one attempt
    /// with a short timeout; a success moves the write deadline to its send time plus the
    /// lease duration minus the margin; a failure is retried soon, and once the deadline has
    /// passed (or the service says the lease is gone) renewal stops: the lease is lost.
    fn start_renewal(
        &self,
        id: &str,
        held: Arc<Held>,
        acquired: Instant,
    ) -> Result<(), StateError> {
        let name = self.blobs.lock_name();
        let id = id.to_string();
        let lease_len = self.duration;
        let timing = LeaseTiming::for_lease(lease_len);
        let inner = self.blobs.client.inner.clone();
        self.blobs
            .client
            .spawn(async move {
                let mut next = acquired + timing.renew_every;
                loop {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
                    if held.stopped.load(Ordering::SeqCst) {
                        return;
                    }
                    let sent = Instant::now();
                    if sent >= held.deadline() {
                        // Writes already refuse (`Held::problem`); a late renewal must not make
                        // the lease look held again.
                        return;
                    }
                    let req = Req::new(Method::PUT, Some(&name))
                        .query("comp", "lease")
                        .header("x-ms-lease-action", "renew")
                        .header("x-ms-lease-id", id.clone())
                        .timeout(timing.renew_timeout);
                    let failure = match inner.send_once(&req).await {
                        Ok(r) if r.status == 200 => {
                            *held.deadline.lock().unwrap_or_else(|e| e.into_inner()) =
                                sent + lease_len - timing.margin;
                            *held.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
                            next = sent + timing.renew_every;
                            continue;
                        }
                        // The lease is gone (broken, taken, or the blob removed).
                        Ok(r)
                            if (400..500).contains(&r.status) && !matches!(r.status, 408 | 429) =>
                        {
                            *held.lost.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(format!("renewing the lease failed: {}", r.describe()));
                            return;
                        }
                        Ok(r) => r.describe(),
                        Err(e) => e,
                    };
                    *held.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(failure);
                    next = (sent + timing.renew_every / 2).max(Instant::now());
                }
            })
            .map_err(remote(
                "renew the lease on",
                self.blobs.url(&self.blobs.lock_name()),
            ))
    }
}

/// A held lease; renewal stops and the lease is released on drop.
pub(super) struct AzureLock {
    lock: LockBlob,
    /// The backend's slot, cleared on drop if it still holds this lease.
    slot: HeldSlot,
    info: LockInfo,
    held: Arc<Held>,
}

impl LockGuard for AzureLock {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for AzureLock {
    fn drop(&mut self) {
        self.held.stopped.store(true, Ordering::SeqCst);
        {
            let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
            if slot.as_ref().is_some_and(|h| Arc::ptr_eq(h, &self.held)) {
                *slot = None;
            }
        }
        // If this fails the lease expires by itself within its duration.
        let _ = self.lock.release(&self.info.id);
    }
}
