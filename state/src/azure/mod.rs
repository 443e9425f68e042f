//! The `azure-blob` backend: state in an Azure Storage container, shared by a team.
//!
//! # Layout
//!
//! For `[backend] key = "K"` in container `C`:
//!
//! - `C/K`: the snapshot, a block blob holding the state JSON exactly as the local backend
//!   writes `state.json`;
//! - `C/K.journal`: an *append blob* of journal records in the local backend's format
//!   (`<crc32> {"serial":N,"lineage":"...","change":...}` per line, see `journal.rs`);
//! - `C/K.backup`: the previous snapshot, written before a snapshot is replaced;
//! - `C/K.lock`: the lock. Its *lease* is the lock itself and its content is the
//!   [`LockInfo`] JSON (id, operation, who, pid, when) of the holder, written under the
//!   lease right after acquiring it, so a refused run can name the holder.
//!
//! # Lock
//!
//! `lock` acquires a 60-second lease on `K.lock` with the lock id as the proposed lease id
//! (creating the blob if needed), polling until `--lock-timeout`. A background task renews the
//! lease while the guard lives; dropping the guard (normal end, error, or Ctrl-C unwinding
//! through the command) clears the info and releases the lease. If
//! the process dies, the lease expires within 60 s and the lock is free again, as a dead
//! process's `flock` is; its info stays behind until the next holder overwrites it or
//! `plinth force-unlock ID` clears it. `force-unlock ID` breaks the lease (immediately) only
//! if the recorded id is `ID`; a remote holder's liveness cannot be observed, so unlike the
//! local backend it does not refuse a live holder — but that holder can no longer write (see
//! fencing) and its renewal fails, which stops it.
//!
//! ## Renewal and the write deadline
//!
//! The holder keeps a *write deadline*: the time the last successful acquire or renew request
//! was **sent**, plus the lease duration, minus a safety margin of a quarter of it (15 s of
//! 60 s). The service starts the lease's new period when the request arrives, which is after
//! it was sent, so before the deadline the lease is certainly still ours; every write (each
//! append block, the snapshot, each journal reset) checks the deadline first and refuses with
//! [`StateError::LockLost`] after it. A renewal is one attempt with a short timeout (an
//! eighth of the duration, at most 5 s; no retries inside it), sent a quarter of the duration
//! after the last successful one; a failed renewal is tried again half an interval later, so
//! one (even two) failed renewals do not lose the lease. When the deadline passes without a
//! successful renewal, or the service answers that the lease is gone (4xx: broken, taken,
//! blob removed), renewal stops for good and writes refuse — a renewal that succeeds late
//! does not revive the deadline. So a run whose network stalls stops writing *before* its
//! lease can expire and another run can take the lock.
//!
//! # Durability and fencing
//!
//! - `record` sends one `Append Block` holding the change's record (a batch: its records, in
//!   ≤ 4 MiB blocks) with `x-ms-blob-condition-appendpos` = the journal length this writer
//!   knows **and** `If-Match` = the journal ETag this writer last saw (from its own last
//!   append, reset or read), and returns after the service acknowledged it (Azure commits a
//!   block durably and atomically before answering). One request of the change's size: O(1)
//!   in the state size.
//! - The two conditions fence writers: if anyone else appended to or reset the journal (a run
//!   that took over our lock), our append fails instead of interleaving. The position alone
//!   is not enough: a journal reset by another run's compaction is empty again, so an append
//!   at position 0 would match it and land *below* that run's snapshot serial, where replay
//!   skips it — an acknowledged record silently lost. A recreated blob has a new ETag, so the
//!   `If-Match` refuses it. A retry after a lost answer that is refused (our own block may
//!   have moved position and ETag) reads the journal at our position: the append counts as
//!   done only if our exact bytes are there *and* end the blob (its ETag is then ours to
//!   continue with); otherwise it is reported as refused. When the outcome stays unknown the
//!   writer refuses further records (like the local backend's poisoning).
//! - Why ETags and the write deadline, not the lease: Blob Storage checks `x-ms-lease-id`
//!   only against the lease of the blob being written, and the lease is on `K.lock`; the
//!   journal and snapshot cannot be conditioned on it (leasing them too would mean several
//!   leases acquired, renewed and broken together, with the same expiry problem). So the
//!   fence is the write deadline (a run stops writing before its lease can expire) plus ETag
//!   conditions on every journal and snapshot write. A run whose lease was *broken*
//!   (`force-unlock`, which it cannot observe until its next renewal) fails on its first
//!   append after the new holder's first append, and the new holder fails on its first
//!   append after a stale one: either way the conflict is an error, never a silent
//!   overwrite, and every acknowledged record survives. A stale compaction may still
//!   replace the snapshot (if the new holder has not compacted yet) with its own state — which
//!   the new holder started from, so the new holder's records have higher serials and are
//!   replayed on top — but it cannot reset the journal holding them; the new holder's next
//!   compaction then fails on the snapshot's ETag, its records still safe in the journal.
//! - An append blob holds at most 50,000 blocks, so a writer compacts by itself once its
//!   journal reaches 45,000 (one snapshot per 45,000 appends: still amortised O(1)).
//! - Snapshots are written with `If-Match` on the ETag this writer last saw (`If-None-Match: *`
//!   for the first), and the journal is reset (recreated empty) with `If-Match` on its ETag,
//!   so a writer that lost the lock cannot overwrite a newer state.
//! - Append blocks are atomic, so a torn record cannot come from a crash; but a damaged last
//!   record (a foreign writer, a bad copy) is detected by its checksum and dropped with a
//!   warning exactly as in a local journal. An append blob cannot be truncated, so the next
//!   writer removes a damaged tail by compacting (snapshot of the replayed state, then a new
//!   empty journal). Damage anywhere else, and an unreadable snapshot, are errors
//!   ([`StateError::Corrupt`], [`StateError::InvalidSnapshot`]) — never repaired.
//!
//! # Crash windows of compaction
//!
//! Compaction writes `K.backup`, then `K` (conditional), then resets `K.journal`
//! (conditional). A crash after the backup changes nothing. A crash after the snapshot and
//! before the reset leaves journal records the snapshot already holds: records carry their
//! serial and replay skips every record at or below the snapshot's serial (as for the local
//! backend's crash between rename and truncate), and the next writer resets that journal.
//! Loads read the journal *before* the snapshot, so a load racing a compaction sees either
//! the old journal under a newer snapshot (skipped) or the same generation — never a journal
//! newer than its snapshot.
//!
//! # Why a small REST client rather than `azure_storage_blob`
//!
//! `azure_storage_blob` 1.1 (on `azure_core` 1.x) authenticates only with an Entra
//! `TokenCredential` or a pre-signed SAS URL: it has no Shared Key support, which is what
//! `ARM_ACCESS_KEY` and Azurite's connection string give, and Azurite accepts OAuth only over
//! HTTPS. It would also add `azure_storage_common`, XML and more to the build. The backend
//! needs eight operations (get, put, create append blob, append block, four lease actions),
//! so it signs them itself (Shared Key: HMAC-SHA256, `hmac.rs`), or appends a SAS token, or
//! sends a bearer token from the Azure provider's `azure_identity` credentials.
//!
//! # Secrets in messages
//!
//! A SAS token travels in the query of every request URL. Messages (errors, `Debug`,
//! `describe`) only ever name a blob by its URL *without* query; reqwest's errors, which name
//! the full URL they were for, are stripped of it (`without_url`), and every transport
//! message is also scrubbed of the token and of any `sig=` parameter as a second line of
//! defence. The client does not follow redirects (the Blob API sends none), so a token is
//! never carried to, or logged for, another URL. Nothing in this module logs a request.
//!
//! # Code layout
//!
//! `config` (`[backend]` settings, connection strings, credentials; no I/O) and `http` (the
//! REST client and request signing, `hmac`) are the bottom; `blob` builds the Blob Storage
//! operations on `http`; `stored` reads and replays the journal and snapshot; `lease` is the
//! lock; `writer` appends and compacts under it. This file ties them into
//! [`AzureBlobBackend`]. Dependencies point only downwards in that list.

mod blob;
mod config;
mod hmac;
mod http;
mod lease;
mod stored;
mod writer;

pub mod azurite;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;

pub use config::{AzureBlobConfig, ConnectionString, DEV_ACCOUNT, DEV_KEY, resolve};
pub use http::{Credential, TokenProvider};

use crate::backend::{Backend, LoadedState, LockGuard, StateWriter};
use crate::error::StateError;
use crate::lock::LockInfo;
use crate::model::State;
use blob::{
    Appended, Blobs, Cond, append_block, create_append_blob, put_block_blob, remote, unexpected,
};
use http::{Client, Req};
use lease::{HeldSlot, LockBlob};
use writer::AzureWriter;

/// The lease duration used outside tests.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// An append blob takes at most 50,000 blocks; a writer compacts (snapshot, new journal) well
/// before that, so a very long run never hits the limit (amortised O(1) per change).
const COMPACT_AT_BLOCKS: u64 = 45_000;

/// State in Azure Blob Storage. See the module documentation for the layout and guarantees.
#[derive(Clone)]
pub struct AzureBlobBackend {
    blobs: Blobs,
    lease: Duration,
    /// Journal blocks at which a writer compacts ([`COMPACT_AT_BLOCKS`]; tests lower it).
    compact_at_blocks: u64,
    /// The lease this backend (or a clone) holds, shared with its writers.
    held: HeldSlot,
}

impl std::fmt::Debug for AzureBlobBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureBlobBackend")
            .field("url", &self.url(self.key()))
            .finish()
    }
}

impl AzureBlobBackend {
    /// A backend for blob `key` in `container` of the account at `endpoint` (Azurite:
    /// `http://127.0.0.1:PORT/devstoreaccount1`). Shared Key credentials name the account.
    pub fn new(
        endpoint: &str,
        container: &str,
        key: &str,
        credential: Credential,
    ) -> Result<Self, StateError> {
        let client =
            Client::new(endpoint, container, credential).map_err(|e| StateError::Remote {
                action: "connect to",
                target: endpoint.to_string(),
                error: e,
            })?;
        Ok(AzureBlobBackend {
            blobs: Blobs {
                client,
                key: key.trim_start_matches('/').to_string(),
            },
            lease: DEFAULT_LEASE,
            compact_at_blocks: COMPACT_AT_BLOCKS,
            held: Arc::default(),
        })
    }

    /// [`resolve`] and [`AzureBlobBackend::new`].
    pub fn from_config(
        config: &AzureBlobConfig,
        env: impl Fn(&str) -> Option<String>,
        token: Option<Arc<dyn TokenProvider>>,
    ) -> Result<Self, String> {
        if config.container.trim().is_empty() || config.key.trim().is_empty() {
            return Err("[backend] type = \"azure-blob\" needs `container` and `key`".to_string());
        }
        let (endpoint, _account, credential) = resolve(config, env, token)?;
        Self::new(&endpoint, &config.container, &config.key, credential).map_err(|e| e.to_string())
    }

    /// Sets the lease duration: 15 to 60 seconds (the service's limits). Tests use 15 s to see
    /// renewal at work; the default is 60 s.
    pub fn with_lease_duration(mut self, duration: Duration) -> Self {
        self.lease = duration.clamp(Duration::from_secs(15), Duration::from_secs(60));
        self
    }

    /// Retries without waiting seconds (tests of unreachable endpoints).
    #[cfg(test)]
    fn with_retry_backoff(self, backoff: Duration) -> Self {
        let Blobs { client, key } = self.blobs;
        AzureBlobBackend {
            blobs: Blobs {
                client: client.with_backoff(backoff),
                key,
            },
            ..self
        }
    }

    #[cfg(test)]
    fn with_compact_at_blocks(mut self, blocks: u64) -> Self {
        self.compact_at_blocks = blocks;
        self
    }

    /// The URL of a blob of this backend.
    pub fn url(&self, name: &str) -> String {
        self.blobs.url(name)
    }

    /// The snapshot blob's name.
    pub fn key(&self) -> &str {
        &self.blobs.key
    }

    /// Creates the container if it does not exist (tests and scripts; plinth itself expects it).
    pub fn create_container(&self) -> Result<(), StateError> {
        let resp = self
            .blobs
            .client
            .send(Req::new(Method::PUT, None))
            .map_err(remote(
                "create the container",
                self.blobs.client.inner.url(None),
            ))?;
        match resp.status {
            201 => Ok(()),
            409 if resp.code() == "ContainerAlreadyExists" => Ok(()),
            _ => Err(StateError::Remote {
                action: "create the container",
                target: self.blobs.client.inner.url(None),
                error: unexpected(&resp),
            }),
        }
    }

    /// Reads a blob's raw bytes (tests and `state pull` diagnostics).
    pub fn read_raw(&self, name: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.blobs.read(name).map(|b| b.map(|b| b.data))
    }

    /// Overwrites a blob (tests: plant damage). Journal blobs are written as append blobs.
    pub fn write_raw(&self, name: &str, data: Vec<u8>) -> Result<(), StateError> {
        let n = name.to_string();
        let target = self.url(name);
        if name.ends_with(".journal") {
            self.blobs
                .client
                .run(move |inner| async move {
                    let etag = create_append_blob(inner.clone(), n.clone(), Cond::None).await?;
                    if data.is_empty() {
                        return Ok(());
                    }
                    match append_block(inner, n, data, 0, Some(etag)).await {
                        Appended::Done(_) => Ok(()),
                        Appended::Moved(e) | Appended::Unknown(e) | Appended::Refused(e) => Err(e),
                    }
                })
                .map_err(remote("write", target))
        } else {
            self.blobs
                .client
                .run(move |inner| async move {
                    put_block_blob(inner, n, data, Cond::None, None)
                        .await
                        .map(drop)
                })
                .map_err(remote("write", target))
        }
    }

    /// The lock blob of this backend's state.
    fn lock_blob(&self) -> LockBlob {
        LockBlob {
            blobs: self.blobs.clone(),
            duration: self.lease,
        }
    }
}

impl Backend for AzureBlobBackend {
    fn describe(&self) -> String {
        format!("azure-blob state at {}", self.url(self.key()))
    }

    fn load(&self) -> Result<LoadedState, StateError> {
        let stored = stored::read(&self.blobs)?;
        Ok(LoadedState {
            state: stored.state,
            warnings: stored.warnings,
        })
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<Box<dyn LockGuard>, StateError> {
        Ok(Box::new(
            self.lock_blob().acquire(operation, timeout, &self.held)?,
        ))
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        self.lock_blob().lock_info()
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.lock_blob().force_unlock(id)
    }

    fn open_writer(&self, state: State) -> Result<Box<dyn StateWriter>, StateError> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Ok(Box::new(AzureWriter::open(
            self.blobs.clone(),
            held,
            self.compact_at_blocks,
            state,
        )?))
    }
}
