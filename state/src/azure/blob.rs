//! The Blob Storage operations the backend is built from, one async function each (get, put
//! a block blob, create an append blob, append a block, check that an append landed, a lease
//! action), their write conditions ([`Cond`]), and [`Blobs`]: one state's blob names and
//! URLs. Every failure is text for [`StateError::Remote`]; nothing here knows about journals,
//! snapshots or locks.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Method;

use super::http::{Client, Inner, RemoteResult, Req, Resp};
use crate::error::StateError;

/// The blobs of one state: the snapshot `K`, and `K.journal`, `K.backup` and `K.lock` named
/// after it, in one container reached through one client.
#[derive(Clone)]
pub(super) struct Blobs {
    pub(super) client: Client,
    /// The snapshot blob's name.
    pub(super) key: String,
}

impl Blobs {
    /// The URL of a blob, without any SAS query (safe to print).
    pub(super) fn url(&self, name: &str) -> String {
        self.client.inner.url(Some(name))
    }

    /// A blob's URL as the path errors name.
    pub(super) fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(self.url(name))
    }

    pub(super) fn journal_name(&self) -> String {
        format!("{}.journal", self.key)
    }

    pub(super) fn backup_name(&self) -> String {
        format!("{}.backup", self.key)
    }

    pub(super) fn lock_name(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// Reads one blob (`None`: it does not exist).
    pub(super) fn read(&self, name: &str) -> Result<Option<Blob>, StateError> {
        let n = name.to_string();
        self.client
            .run(move |inner| get(inner, n))
            .map_err(remote("read", self.url(name)))
    }
}

/// A blob's content and ETag.
pub(super) struct Blob {
    pub(super) data: Vec<u8>,
    pub(super) etag: String,
    pub(super) leased: bool,
    /// Committed blocks (append blobs).
    pub(super) blocks: u64,
}

/// Wraps a transport message as the [`StateError::Remote`] of `action` on `target` (a URL
/// without query).
pub(super) fn remote(action: &'static str, target: String) -> impl FnOnce(String) -> StateError {
    move |error| StateError::Remote {
        action,
        target,
        error,
    }
}

/// An answer the operation did not expect, described, with what to check for the common
/// causes (credentials, a missing container).
pub(super) fn unexpected(resp: &Resp) -> String {
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

/// Reads a blob: its content, ETag, lease state and block count (`None`: no such blob; a
/// missing container is an error).
pub(super) async fn get(inner: Arc<Inner>, name: String) -> RemoteResult<Option<Blob>> {
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
pub(super) enum Cond {
    /// Unconditional.
    None,
    /// Only if the blob's ETag is this one.
    Match(String),
    /// Only if the blob does not exist.
    Absent,
}

impl Cond {
    pub(super) fn apply(self, req: Req) -> Req {
        match self {
            Cond::None => req,
            Cond::Match(etag) => req.header("if-match", etag),
            Cond::Absent => req.header("if-none-match", "*"),
        }
    }
}

/// Why a conditional write was refused: someone else changed the blob since this run read it.
pub(super) const CHANGED: &str = "it was changed by someone else since this run read it (another run may have broken this run's lock with `plinth force-unlock`); nothing was overwritten — re-run the command";

/// Writes a block blob under `cond` (and the lease `lease`, for the lock blob); its new ETag.
pub(super) async fn put_block_blob(
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

/// Creates (or recreates: resets) an empty append blob under `cond`; its new ETag.
pub(super) async fn create_append_blob(
    inner: Arc<Inner>,
    name: String,
    cond: Cond,
) -> RemoteResult<String> {
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
pub(super) enum Appended {
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
pub(super) async fn append_block(
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
            tokio::time::sleep(inner.backoff * (1 << attempt)).await;
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
pub(super) async fn lease(
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
