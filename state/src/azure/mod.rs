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

mod hmac;
mod http;

pub mod azurite;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;

use http::{Client, Inner, RemoteResult, Req, Resp};
pub use http::{Credential, TokenProvider};

use crate::backend::{Backend, LoadedState, LockGuard, OpenAction, StateWriter, plan_open};
use crate::error::StateError;
use crate::journal::{self, Scan};
use crate::local::parse_snapshot;
use crate::lock::LockInfo;
use crate::model::{Change, State};

/// The lease duration used outside tests.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// How often a refused `lock` tries again.
const LOCK_POLL: Duration = Duration::from_millis(250);
/// The largest block one `Append Block` may carry (API versions before 2022-11-02).
const MAX_BLOCK: usize = 4 * 1024 * 1024;
/// An append blob takes at most 50,000 blocks; a writer compacts (snapshot, new journal) well
/// before that, so a very long run never hits the limit (amortised O(1) per change).
const COMPACT_AT_BLOCKS: u64 = 45_000;
/// Azurite's well-known development account.
pub const DEV_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development account key.
pub const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Where the state lives: `[backend]`'s settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AzureBlobConfig {
    /// The storage account (may come from a connection string instead).
    pub account: Option<String>,
    /// The container (must exist).
    pub container: String,
    /// The snapshot blob's name; the journal, backup and lock blobs are named after it.
    pub key: String,
    /// The account's blob endpoint (default `https://<account>.blob.core.windows.net`).
    pub endpoint: Option<String>,
}

/// The parts of an Azure Storage connection string the backend uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionString {
    pub account: Option<String>,
    pub key: Option<String>,
    pub sas: Option<String>,
    pub blob_endpoint: Option<String>,
}

impl ConnectionString {
    /// Parses `Name=value;...` (including `UseDevelopmentStorage=true`).
    pub fn parse(s: &str) -> Result<ConnectionString, String> {
        let mut c = ConnectionString::default();
        let (mut protocol, mut suffix) = (None, None);
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                format!(
                    "AZURE_STORAGE_CONNECTION_STRING: `{}` is not Name=value",
                    redact(part)
                )
            })?;
            match name.to_ascii_lowercase().as_str() {
                "accountname" => c.account = Some(value.to_string()),
                "accountkey" => c.key = Some(value.to_string()),
                "sharedaccesssignature" => c.sas = Some(value.to_string()),
                "blobendpoint" => c.blob_endpoint = Some(value.to_string()),
                "defaultendpointsprotocol" => protocol = Some(value.to_string()),
                "endpointsuffix" => suffix = Some(value.to_string()),
                "usedevelopmentstorage" if value.eq_ignore_ascii_case("true") => {
                    c.account = Some(DEV_ACCOUNT.to_string());
                    c.key = Some(DEV_KEY.to_string());
                    c.blob_endpoint = Some(format!("http://127.0.0.1:10000/{DEV_ACCOUNT}"));
                }
                _ => {}
            }
        }
        if c.blob_endpoint.is_none()
            && let Some(account) = &c.account
        {
            c.blob_endpoint = Some(format!(
                "{}://{account}.blob.{}",
                protocol.as_deref().unwrap_or("https"),
                suffix.as_deref().unwrap_or("core.windows.net")
            ));
        }
        Ok(c)
    }
}

fn redact(part: &str) -> String {
    match part.split_once('=') {
        Some((n, _)) => format!("{n}=…"),
        None => format!("{}…", part.chars().take(12).collect::<String>()),
    }
}

/// Resolves the endpoint, account and credential from `[backend]` and the environment.
///
/// Credentials, first found wins: `ARM_ACCESS_KEY` (the account key), `ARM_SAS_TOKEN`,
/// `AZURE_STORAGE_CONNECTION_STRING` (its `AccountKey` or `SharedAccessSignature`; its
/// `BlobEndpoint` is used when `endpoint` is not set — this is how Azurite is reached), and
/// otherwise `token` (Entra tokens from the Azure provider's credentials), if given.
pub fn resolve(
    config: &AzureBlobConfig,
    env: impl Fn(&str) -> Option<String>,
    token: Option<Arc<dyn TokenProvider>>,
) -> Result<(String, String, Credential), String> {
    let env = |n: &str| {
        env(n)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let conn = match env("AZURE_STORAGE_CONNECTION_STRING") {
        Some(s) => Some(ConnectionString::parse(&s)?),
        None => None,
    };
    if let (Some(conn), Some(account)) = (&conn, &config.account)
        && conn.account.as_ref().is_some_and(|a| a != account)
    {
        return Err(format!(
            "AZURE_STORAGE_CONNECTION_STRING is for account `{}`, but [backend] says account = \"{account}\"; unset one of them",
            conn.account.as_deref().unwrap_or_default()
        ));
    }
    let account = config
        .account
        .clone()
        .or_else(|| conn.as_ref().and_then(|c| c.account.clone()))
        .ok_or("[backend] needs `account` (or AZURE_STORAGE_CONNECTION_STRING with AccountName)")?;
    let endpoint = config
        .endpoint
        .clone()
        .or_else(|| conn.as_ref().and_then(|c| c.blob_endpoint.clone()))
        .unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"));
    let decode_key = |k: &str, from: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(k)
            .map_err(|e| format!("{from} is not a base64 account key: {e}"))
    };
    let credential = if let Some(k) = env("ARM_ACCESS_KEY") {
        Credential::SharedKey {
            account: account.clone(),
            key: decode_key(&k, "ARM_ACCESS_KEY")?,
        }
    } else if let Some(sas) = env("ARM_SAS_TOKEN") {
        Credential::Sas(sas.trim_start_matches('?').to_string())
    } else if let Some(c) = &conn
        && let Some(k) = &c.key
    {
        Credential::SharedKey {
            account: account.clone(),
            key: decode_key(k, "the AccountKey of AZURE_STORAGE_CONNECTION_STRING")?,
        }
    } else if let Some(c) = &conn
        && let Some(sas) = &c.sas
    {
        Credential::Sas(sas.trim_start_matches('?').to_string())
    } else if let Some(t) = token {
        Credential::Token(t)
    } else {
        return Err("no credentials for the azure-blob backend: set ARM_ACCESS_KEY, ARM_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING, or the Azure provider's credentials (ARM_TENANT_ID/ARM_CLIENT_ID/..., managed identity, or `az login`)".to_string());
    };
    Ok((endpoint, account, credential))
}

/// State in Azure Blob Storage. See the module documentation for the layout and guarantees.
#[derive(Clone)]
pub struct AzureBlobBackend {
    client: Client,
    key: String,
    lease: Duration,
    /// Journal blocks at which a writer compacts ([`COMPACT_AT_BLOCKS`]; tests lower it).
    compact_at_blocks: u64,
    /// The lease this backend (or a clone) holds, shared with its writers.
    held: Arc<Mutex<Option<Arc<Held>>>>,
}

impl std::fmt::Debug for AzureBlobBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureBlobBackend")
            .field("url", &self.url(&self.key))
            .finish()
    }
}

/// When the lease is renewed, and how long writes trust it. See "Lock" in the module docs.
#[derive(Clone, Copy, Debug)]
struct LeaseTiming {
    /// A renewal is sent this long after the last successful one was sent.
    renew_every: Duration,
    /// One renewal attempt may take this long (a single attempt: no retries inside it).
    renew_timeout: Duration,
    /// Writes stop this long before the lease could expire at the service.
    margin: Duration,
}

impl LeaseTiming {
    fn for_lease(lease: Duration) -> LeaseTiming {
        LeaseTiming {
            renew_every: lease / 4,
            renew_timeout: (lease / 8).min(Duration::from_secs(5)),
            margin: lease / 4,
        }
    }
}

/// A lease being held: renewal reports a loss here and extends the write deadline.
struct Held {
    lost: Mutex<Option<String>>,
    stopped: AtomicBool,
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
    fn problem(&self) -> Option<String> {
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

/// A blob's content and ETag.
struct Blob {
    data: Vec<u8>,
    etag: String,
    leased: bool,
    /// Committed blocks (append blobs).
    blocks: u64,
}

/// What is stored, as `load` and `open_writer` see it.
struct Stored {
    state: Option<State>,
    warnings: Vec<String>,
    snapshot: Option<Blob>,
    journal_etag: Option<String>,
    journal_len: u64,
    journal_blocks: u64,
    torn: bool,
    applied: usize,
    skipped: usize,
}

fn remote(action: &'static str, target: String) -> impl FnOnce(String) -> StateError {
    move |error| StateError::Remote {
        action,
        target,
        error,
    }
}

fn unexpected(resp: &Resp) -> String {
    let hint = match resp.status {
        403 => {
            "; check the credentials (ARM_ACCESS_KEY, ARM_SAS_TOKEN, AZURE_STORAGE_CONNECTION_STRING, or the identity's \"Storage Blob Data Contributor\" role)"
        }
        404 if resp.code() == "ContainerNotFound" => {
            "; create the container first (e.g. `az storage container create --name <container>`)"
        }
        _ => "",
    };
    format!("{}{hint}", resp.describe())
}

async fn get(inner: Arc<Inner>, name: String) -> RemoteResult<Option<Blob>> {
    let resp = inner.send(Req::new(Method::GET, Some(&name))).await?;
    match resp.status {
        200 => Ok(Some(Blob {
            leased: resp.header("x-ms-lease-state") == Some("leased"),
            blocks: resp
                .header("x-ms-blob-committed-block-count")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            etag: resp.etag()?,
            data: resp.body,
        })),
        404 if resp.code() != "ContainerNotFound" => Ok(None),
        _ => Err(unexpected(&resp)),
    }
}

/// A write condition on a blob's ETag.
#[derive(Clone)]
enum Cond {
    None,
    Match(String),
    Absent,
}

impl Cond {
    fn apply(self, req: Req) -> Req {
        match self {
            Cond::None => req,
            Cond::Match(etag) => req.header("if-match", etag),
            Cond::Absent => req.header("if-none-match", "*"),
        }
    }
}

const CHANGED: &str = "it was changed by someone else since this run read it (another run may have broken this run's lock with `plinth force-unlock`); nothing was overwritten — re-run the command";

async fn put_block_blob(
    inner: Arc<Inner>,
    name: String,
    data: Vec<u8>,
    cond: Cond,
    lease: Option<String>,
) -> RemoteResult<String> {
    let mut req = Req::new(Method::PUT, Some(&name))
        .header("x-ms-blob-type", "BlockBlob")
        .header("content-type", "application/json")
        .body(data);
    if let Some(l) = lease {
        req = req.header("x-ms-lease-id", l);
    }
    let resp = inner.send(cond.apply(req)).await?;
    match resp.status {
        201 => resp.etag(),
        412 | 409 if resp.code() == "ConditionNotMet" || resp.code() == "BlobAlreadyExists" => {
            Err(format!("{CHANGED} ({})", resp.describe()))
        }
        _ => Err(unexpected(&resp)),
    }
}

async fn create_append_blob(inner: Arc<Inner>, name: String, cond: Cond) -> RemoteResult<String> {
    let req = Req::new(Method::PUT, Some(&name)).header("x-ms-blob-type", "AppendBlob");
    let resp = inner.send(cond.apply(req)).await?;
    match resp.status {
        201 => resp.etag(),
        412 | 409 if resp.code() == "ConditionNotMet" || resp.code() == "BlobAlreadyExists" => {
            Err(format!("{CHANGED} ({})", resp.describe()))
        }
        _ => Err(unexpected(&resp)),
    }
}

/// How an append ended.
enum Appended {
    Done(String),
    /// Refused: the journal is not where this writer thought (nothing was written).
    Moved(String),
    /// Unknown: the block may or may not have been written.
    Unknown(String),
    /// Refused for another reason (nothing was written).
    Refused(String),
}

/// Appends `data` at `pos` of the append blob whose ETag is `etag`: both conditions must hold,
/// so an append never lands on a journal someone else appended to or recreated (a reset journal
/// is empty again, so the position alone would match it).
async fn append_block(
    inner: Arc<Inner>,
    name: String,
    data: Vec<u8>,
    pos: u64,
    etag: Option<String>,
) -> Appended {
    let mut req = Req::new(Method::PUT, Some(&name))
        .query("comp", "appendblock")
        .header("x-ms-blob-condition-appendpos", pos.to_string())
        .body(data);
    if let Some(etag) = etag {
        req = req.header("if-match", etag);
    }
    let mut tried = false;
    let mut last = String::new();
    for attempt in 0..4u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        match inner.send_once(&req).await {
            Ok(r) if r.status == 201 => {
                return match r.etag() {
                    Ok(e) => Appended::Done(e),
                    Err(e) => Appended::Unknown(e),
                };
            }
            Ok(r)
                if r.status == 412
                    && matches!(
                        r.code(),
                        "AppendPositionConditionNotMet" | "ConditionNotMet"
                    ) =>
            {
                if !tried {
                    return Appended::Moved(r.describe());
                }
                // An earlier attempt may have landed without its answer reaching us (our own
                // block then moved both the position and the ETag).
                return match landed(&inner, &name, &req.body, pos).await {
                    Ok(Some(etag)) => Appended::Done(etag),
                    Ok(None) => Appended::Moved(r.describe()),
                    Err(e) => Appended::Unknown(e),
                };
            }
            Ok(r) if r.status == 500 || r.status == 503 => {
                tried = true;
                last = r.describe();
            }
            Ok(r) => {
                return if tried {
                    Appended::Unknown(unexpected(&r))
                } else {
                    Appended::Refused(unexpected(&r))
                };
            }
            Err(e) => {
                tried = true;
                last = e;
            }
        }
    }
    Appended::Unknown(format!("{last} (after 4 attempts)"))
}

/// Whether `data` sits at `pos` of the blob and ends it (our append landed, and nothing was
/// appended after it); the blob's ETag if so.
async fn landed(inner: &Inner, name: &str, data: &[u8], pos: u64) -> RemoteResult<Option<String>> {
    let end = pos + data.len() as u64 - 1;
    let req = Req::new(Method::GET, Some(name)).header("x-ms-range", format!("bytes={pos}-{end}"));
    let resp = inner.send(req).await?;
    let total = match resp.status {
        // `Content-Range: bytes START-END/TOTAL`.
        206 => resp
            .header("content-range")
            .and_then(|r| r.rsplit_once('/'))
            .and_then(|(_, t)| t.trim().parse::<u64>().ok()),
        200 => Some(resp.body.len() as u64),
        416 | 404 => return Ok(None),
        _ => return Err(unexpected(&resp)),
    };
    if resp.body != data || total != Some(end + 1) {
        return Ok(None);
    }
    resp.etag().map(Some)
}

/// A lease action on `name`.
async fn lease(
    inner: Arc<Inner>,
    name: String,
    headers: Vec<(&'static str, String)>,
) -> RemoteResult<Resp> {
    let mut req = Req::new(Method::PUT, Some(&name)).query("comp", "lease");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    inner.send(req).await
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
            client,
            key: key.trim_start_matches('/').to_string(),
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

    #[cfg(test)]
    fn with_compact_at_blocks(mut self, blocks: u64) -> Self {
        self.compact_at_blocks = blocks;
        self
    }

    /// The URL of a blob of this backend.
    pub fn url(&self, name: &str) -> String {
        self.client.inner.url(Some(name))
    }

    /// The snapshot blob's name.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn journal_name(&self) -> String {
        format!("{}.journal", self.key)
    }

    fn backup_name(&self) -> String {
        format!("{}.backup", self.key)
    }

    fn lock_name(&self) -> String {
        format!("{}.lock", self.key)
    }

    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(self.url(name))
    }

    /// Creates the container if it does not exist (tests and scripts; plinth itself expects it).
    pub fn create_container(&self) -> Result<(), StateError> {
        let resp = self
            .client
            .send(Req::new(Method::PUT, None))
            .map_err(remote("create the container", self.client.inner.url(None)))?;
        match resp.status {
            201 => Ok(()),
            409 if resp.code() == "ContainerAlreadyExists" => Ok(()),
            _ => Err(StateError::Remote {
                action: "create the container",
                target: self.client.inner.url(None),
                error: unexpected(&resp),
            }),
        }
    }

    /// Reads a blob's raw bytes (tests and `state pull` diagnostics).
    pub fn read_raw(&self, name: &str) -> Result<Option<Vec<u8>>, StateError> {
        let n = name.to_string();
        self.client
            .run(move |inner| get(inner, n))
            .map(|b| b.map(|b| b.data))
            .map_err(remote("read", self.url(name)))
    }

    /// Overwrites a blob (tests: plant damage). Journal blobs are written as append blobs.
    pub fn write_raw(&self, name: &str, data: Vec<u8>) -> Result<(), StateError> {
        let n = name.to_string();
        let target = self.url(name);
        if name.ends_with(".journal") {
            self.client
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
            self.client
                .run(move |inner| async move {
                    put_block_blob(inner, n, data, Cond::None, None)
                        .await
                        .map(drop)
                })
                .map_err(remote("write", target))
        }
    }

    fn read_stored(&self) -> Result<Stored, StateError> {
        let (jn, sn) = (self.journal_name(), self.key.clone());
        // The journal first: see "Crash windows" in the module documentation.
        let (journal, snapshot) = self
            .client
            .run(move |inner| async move {
                let j = get(inner.clone(), jn).await?;
                let s = get(inner, sn).await?;
                Ok((j, s))
            })
            .map_err(remote("read", self.url(&self.key)))?;
        let snapshot_path = self.path(&self.key);
        let journal_path = self.path(&self.journal_name());
        let backup_path = self.path(&self.backup_name());
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
        let replayed =
            journal::replay(parsed, records, &journal_path, &snapshot_path, &backup_path)?;
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

    fn read_lock_blob(&self) -> Result<Option<Blob>, StateError> {
        let n = self.lock_name();
        self.client
            .run(move |inner| get(inner, n))
            .map_err(remote("read", self.url(&self.lock_name())))
    }

    fn parse_info(&self, data: &[u8]) -> Result<Option<LockInfo>, StateError> {
        if data.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(data)
            .map(Some)
            .map_err(|e| StateError::InvalidLockInfo {
                path: self.path(&self.lock_name()),
                error: e.to_string(),
            })
    }

    /// The holder of a lease we failed to take. It writes its info just after acquiring, so
    /// the info may briefly be missing.
    fn holder_info(&self) -> LockInfo {
        for _ in 0..10 {
            if let Ok(Some(blob)) = self.read_lock_blob()
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
            path: self.url(&self.key),
        }
    }

    /// Tries once to take the lease. `Ok(None)`: someone holds it; `Ok(Some(sent))`: taken by
    /// the request sent at `sent`.
    fn try_acquire(&self, id: &str) -> Result<Option<Instant>, StateError> {
        let name = self.lock_name();
        let target = self.url(&name);
        let secs = self.lease.as_secs().to_string();
        let id = id.to_string();
        self.client
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
        let name = self.lock_name();
        let id = id.to_string();
        self.client.run(move |inner| async move {
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
        let name = self.lock_name();
        let id = id.to_string();
        let lease_len = self.lease;
        let timing = LeaseTiming::for_lease(lease_len);
        let inner = self.client.inner.clone();
        self.client
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
            .map_err(remote("renew the lease on", self.url(&self.lock_name())))
    }
}

impl Backend for AzureBlobBackend {
    fn describe(&self) -> String {
        format!("azure-blob state at {}", self.url(&self.key))
    }

    fn load(&self) -> Result<LoadedState, StateError> {
        let stored = self.read_stored()?;
        Ok(LoadedState {
            state: stored.state,
            warnings: stored.warnings,
        })
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<Box<dyn LockGuard>, StateError> {
        let mut info = LockInfo::new(operation);
        info.path = self.url(&self.key);
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
        let (name, id) = (self.lock_name(), info.id.clone());
        let written = self.client.run(move |inner| async move {
            put_block_blob(inner, name, json, Cond::None, Some(id)).await
        });
        if let Err(e) = written {
            let _ = self.release(&info.id);
            return Err(StateError::Remote {
                action: "write the lock info to",
                target: self.url(&self.lock_name()),
                error: e,
            });
        }
        let held = Arc::new(Held::new(
            acquired + self.lease - LeaseTiming::for_lease(self.lease).margin,
        ));
        if let Err(e) = self.start_renewal(&info.id, held.clone(), acquired) {
            let _ = self.release(&info.id);
            return Err(e);
        }
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(held.clone());
        Ok(Box::new(AzureLock {
            backend: self.clone(),
            info,
            held,
        }))
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        match self.read_lock_blob()? {
            Some(blob) => self.parse_info(&blob.data),
            None => Ok(None),
        }
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        let not_locked = || StateError::NotLocked {
            path: self.path(&self.key),
        };
        let Some(blob) = self.read_lock_blob()? else {
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
                path: self.path(&self.key),
                given: id.to_string(),
                actual,
            });
        }
        let name = self.lock_name();
        let etag = blob.etag;
        let leased = blob.leased;
        self.client
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
            .map_err(remote("force-unlock", self.url(&self.lock_name())))
    }

    fn open_writer(&self, mut state: State) -> Result<Box<dyn StateWriter>, StateError> {
        let stored = self.read_stored()?;
        let action = plan_open(stored.state.as_ref(), &mut state, &self.path(&self.key))?;
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let snapshot_exists = stored.snapshot.is_some();
        let mut writer = AzureWriter {
            backend: self.clone(),
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
        Ok(Box::new(writer))
    }
}

/// A held lease; renewal stops and the lease is released on drop.
struct AzureLock {
    backend: AzureBlobBackend,
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
            let mut slot = self.backend.held.lock().unwrap_or_else(|e| e.into_inner());
            if slot.as_ref().is_some_and(|h| Arc::ptr_eq(h, &self.held)) {
                *slot = None;
            }
        }
        // If this fails the lease expires by itself within its duration.
        let _ = self.backend.release(&self.info.id);
    }
}

/// Appends to the journal blob; compacts into the snapshot blob.
struct AzureWriter {
    backend: AzureBlobBackend,
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
    fn check(&self) -> Result<(), StateError> {
        if self.poisoned {
            return Err(StateError::Poisoned {
                path: self.backend.path(&self.backend.journal_name()),
            });
        }
        if let Some(reason) = self.held.as_ref().and_then(|h| h.problem()) {
            return Err(StateError::LockLost {
                target: self.backend.url(&self.backend.lock_name()),
                reason,
            });
        }
        Ok(())
    }

    fn reset_journal(&mut self) -> Result<(), StateError> {
        self.check()?;
        let name = self.backend.journal_name();
        let cond = match &self.journal_etag {
            Some(e) => Cond::Match(e.clone()),
            None => Cond::Absent,
        };
        let etag = self
            .backend
            .client
            .run(move |inner| create_append_blob(inner, name, cond))
            .map_err(remote(
                "reset the journal",
                self.backend.url(&self.backend.journal_name()),
            ))?;
        self.journal_etag = Some(etag);
        self.journal_len = 0;
        self.journal_blocks = 0;
        Ok(())
    }

    fn append(&mut self, data: Vec<u8>) -> Result<(), StateError> {
        let target = self.backend.url(&self.backend.journal_name());
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
                self.backend.journal_name(),
                self.journal_len,
                chunk.len() as u64,
                self.journal_etag.clone(),
            );
            let outcome =
                self.backend
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
        let last = crate::backend::serial_after(
            self.state.serial,
            changes.len(),
            &self.backend.path(&self.backend.key),
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
        if self.journal_blocks >= self.backend.compact_at_blocks {
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
                let (name, len) = (self.backend.backup_name(), old.len() as u64);
                self.backend
                    .client
                    .run(move |inner| put_block_blob(inner, name, old, Cond::None, None))
                    .map_err(remote(
                        "write the backup",
                        self.backend.url(&self.backend.backup_name()),
                    ))?;
                self.bytes_written += len;
            }
            let cond = match &self.snapshot_etag {
                Some(e) => Cond::Match(e.clone()),
                None => Cond::Absent,
            };
            self.check()?;
            let (name, data) = (self.backend.key.clone(), json.clone());
            let etag = self
                .backend
                .client
                .run(move |inner| put_block_blob(inner, name, data, cond, None))
                .map_err(remote("write", self.backend.url(&self.backend.key)))?;
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
