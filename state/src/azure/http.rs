//! A small Blob Storage REST client: the handful of operations the backend needs, signed with
//! Shared Key, a SAS token, or an Entra bearer token, and run on a private runtime thread so
//! that the synchronous [`crate::Backend`] API can call it from anywhere (including from inside
//! the engine's tokio runtime, where a nested runtime or a blocking client would panic).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::Method;
use reqwest::header::HeaderMap;

use super::hmac::hmac_sha256;

/// The Blob service REST version spoken (leases, append blobs, bearer tokens, large puts).
const API_VERSION: &str = "2021-08-06";
/// How long one request may take before it is abandoned (and retried).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts for a request that failed to reach the service or got a 500/503.
const ATTEMPTS: u32 = 4;
/// The wait before the first retry is twice this; each later one doubles it.
const BACKOFF: Duration = Duration::from_millis(200);

/// Produces Entra bearer tokens for Azure Storage (scope `https://storage.azure.com/.default`).
/// The CLI builds one from the Azure provider's `azure_identity` credentials.
pub trait TokenProvider: Send + Sync + 'static {
    /// A token valid now.
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>>;
}

/// How requests are authorised.
#[derive(Clone)]
pub enum Credential {
    /// The account key (`ARM_ACCESS_KEY`, or `AccountKey=` of a connection string).
    SharedKey {
        /// The storage account name.
        account: String,
        /// The decoded account key.
        key: Vec<u8>,
    },
    /// A SAS token (`ARM_SAS_TOKEN`, or `SharedAccessSignature=`), without the leading `?`.
    Sas(String),
    /// Entra bearer tokens (`azure_identity`).
    Token(Arc<dyn TokenProvider>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::SharedKey { account, .. } => write!(f, "SharedKey({account}, key hidden)"),
            Credential::Sas(_) => write!(f, "Sas(hidden)"),
            Credential::Token(_) => write!(f, "Token"),
        }
    }
}

/// A transport failure or an unexpected answer, as text for [`crate::StateError::Remote`].
pub(crate) type RemoteResult<T> = Result<T, String>;

/// An HTTP answer.
pub(crate) struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `x-ms-error-code` (the storage error code), if any.
    pub fn code(&self) -> &str {
        self.header("x-ms-error-code").unwrap_or("")
    }

    pub fn etag(&self) -> RemoteResult<String> {
        self.header("etag")
            .map(str::to_string)
            .ok_or_else(|| format!("the answer (HTTP {}) has no ETag", self.status))
    }

    /// A one-line description for error messages: status, code and the service's message.
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let message = text
            .split_once("<Message>")
            .and_then(|(_, rest)| rest.split_once("</Message>"))
            .map(|(m, _)| m.lines().next().unwrap_or(m).trim().to_string());
        match (self.code(), message) {
            ("", None) => format!("HTTP {}", self.status),
            (code, None) => format!("HTTP {} {code}", self.status),
            ("", Some(m)) => format!("HTTP {}: {m}", self.status),
            (code, Some(m)) => format!("HTTP {} {code}: {m}", self.status),
        }
    }
}

/// One request, relative to the container.
pub(crate) struct Req {
    pub method: Method,
    /// The blob name (`None`: the container itself).
    pub blob: Option<String>,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Overrides [`REQUEST_TIMEOUT`] (lease renewals use a short one).
    pub timeout: Option<Duration>,
}

impl Req {
    pub fn new(method: Method, blob: Option<&str>) -> Self {
        Req {
            method,
            blob: blob.map(str::to_string),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The shared part of a client: where and how to send requests.
pub(crate) struct Inner {
    /// The account's blob endpoint, without a trailing slash (Azurite: `http://host:port/account`).
    pub endpoint: String,
    pub container: String,
    credential: Credential,
    http: reqwest::Client,
    /// The retry backoff ([`BACKOFF`]; tests shorten it).
    pub backoff: Duration,
}

/// A client for one container. Cheap to clone; requests run on a private runtime thread that
/// lives as long as any clone.
#[derive(Clone)]
pub(crate) struct Client {
    pub inner: Arc<Inner>,
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

impl Client {
    pub fn new(endpoint: &str, container: &str, credential: Credential) -> RemoteResult<Client> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // The Blob API does not redirect; following one would carry a SAS token along and
            // could log the URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let (jobs, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the azure-blob backend's runtime: {e}"))?;
        std::thread::Builder::new()
            .name("plinth-azure-blob".to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(job) = rx.recv().await {
                        tokio::spawn(job);
                    }
                });
            })
            .map_err(|e| format!("cannot start the azure-blob backend's thread: {e}"))?;
        Ok(Client {
            inner: Arc::new(Inner {
                endpoint: endpoint.trim_end_matches('/').to_string(),
                container: container.to_string(),
                credential,
                http,
                backoff: BACKOFF,
            }),
            jobs,
        })
    }

    /// Runs `f(inner)` on the client's runtime and waits for it. Safe to call from any thread,
    /// including a tokio worker (it blocks that thread, like a file write would).
    pub fn run<T, F, Fut>(&self, f: F) -> RemoteResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = RemoteResult<T>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let fut = f(self.inner.clone());
        self.jobs
            .send(Box::pin(async move {
                let _ = tx.send(fut.await);
            }))
            .map_err(|_| "the azure-blob backend's runtime has stopped".to_string())?;
        rx.recv()
            .map_err(|_| "the azure-blob backend's runtime dropped a request".to_string())?
    }

    /// Starts `fut` on the client's runtime without waiting for it.
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) -> RemoteResult<()> {
        self.jobs
            .send(Box::pin(fut))
            .map_err(|_| "the azure-blob backend's runtime has stopped".to_string())
    }

    /// Sets the retry backoff (tests: a refused connection need not wait seconds). Only on a
    /// client that has not been cloned yet.
    #[cfg(test)]
    pub fn with_backoff(mut self, backoff: Duration) -> Client {
        Arc::get_mut(&mut self.inner)
            .expect("with_backoff on a client that was not cloned yet")
            .backoff = backoff;
        self
    }

    pub fn send(&self, req: Req) -> RemoteResult<Resp> {
        self.run(move |inner| async move { inner.send(req).await })
    }
}

/// Percent-encodes a blob name, keeping `/` (virtual directories).
fn encode_path(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Inner {
    /// The URL of the container or of a blob in it, without query: the only form of a URL that
    /// may appear in a message (a SAS token is part of the query of the URL actually sent).
    pub fn url(&self, blob: Option<&str>) -> String {
        match blob {
            Some(b) => format!(
                "{}/{}/{}",
                self.endpoint,
                encode_path(&self.container),
                encode_path(b)
            ),
            None => format!("{}/{}", self.endpoint, encode_path(&self.container)),
        }
    }

    /// Sends `req`, retrying transport failures and 500/503 with backoff.
    pub async fn send(&self, req: Req) -> RemoteResult<Resp> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * (1 << attempt)).await;
            }
            match self.send_once(&req).await {
                Ok(resp) if resp.status == 500 || resp.status == 503 => last = resp.describe(),
                Ok(resp) => return Ok(resp),
                Err(e) => last = e,
            }
        }
        Err(format!("{last} (after {ATTEMPTS} attempts)"))
    }

    /// Sends `req` once.
    pub async fn send_once(&self, req: &Req) -> RemoteResult<Resp> {
        let url = self.url(req.blob.as_deref());
        let mut query: Vec<(String, String)> = req
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        if req.blob.is_none() {
            query.push(("restype".to_string(), "container".to_string()));
        }
        let mut full = url.clone();
        let mut sep = '?';
        for (k, v) in &query {
            full.push(sep);
            full.push_str(k);
            full.push('=');
            full.push_str(&encode_path(v).replace('/', "%2F"));
            sep = '&';
        }
        if let Credential::Sas(token) = &self.credential {
            full.push(sep);
            full.push_str(token.trim_start_matches('?'));
        }
        let date = httpdate::fmt_http_date(SystemTime::now());
        let mut headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        headers.push(("x-ms-date".to_string(), date));
        headers.push(("x-ms-version".to_string(), API_VERSION.to_string()));
        let mut builder = self.http.request(req.method.clone(), &full);
        if let Some(t) = req.timeout {
            builder = builder.timeout(t);
        }
        match &self.credential {
            Credential::SharedKey { account, key } => {
                let path = full
                    .split_once("://")
                    .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
                    .unwrap_or("/");
                let path = path.split('?').next().unwrap_or(path);
                let to_sign =
                    string_to_sign(&req.method, account, path, &query, &headers, req.body.len());
                let signature = B64.encode(hmac_sha256(key, to_sign.as_bytes()));
                builder =
                    builder.header("authorization", format!("SharedKey {account}:{signature}"));
            }
            Credential::Sas(_) => {}
            Credential::Token(provider) => {
                let token = provider
                    .token()
                    .await
                    .map_err(|e| format!("cannot get an Azure Storage token: {e}"))?;
                builder = builder.header("authorization", format!("Bearer {token}"));
            }
        }
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if matches!(req.method, Method::PUT | Method::POST) || !req.body.is_empty() {
            builder = builder
                .header("content-length", req.body.len().to_string())
                .body(req.body.clone());
        }
        // `full` carries the SAS token (if any) in its query: it must never reach a message.
        // reqwest's errors name the URL they were for, so it is stripped from them.
        let resp = builder.send().await.map_err(|e| {
            self.redact(format!(
                "cannot reach {url}: {}",
                error_chain(&e.without_url())
            ))
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| {
                self.redact(format!(
                    "reading the answer from {url} failed: {}",
                    error_chain(&e.without_url())
                ))
            })?
            .to_vec();
        Ok(Resp {
            status,
            headers,
            body,
        })
    }
}

impl Inner {
    /// Removes the SAS token, and any `sig=` query parameter, from a message (a second line of
    /// defence: URLs with their query are never formatted into messages in the first place).
    fn redact(&self, message: String) -> String {
        let mut message = message;
        if let Credential::Sas(token) = &self.credential {
            let token = token.trim_start_matches('?');
            if !token.is_empty() {
                message = message.replace(token, "<SAS token redacted>");
            }
        }
        redact_signatures(&message)
    }
}

/// Replaces the value of every `sig=` parameter (a SAS signature) in `text`.
pub(crate) fn redact_signatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find("sig=") {
        // Only a query parameter: `?sig=` or `&sig=` (or at the very start).
        let at_param = i == 0 || matches!(rest.as_bytes()[i - 1], b'?' | b'&');
        out.push_str(&rest[..i]);
        if at_param {
            out.push_str("<SAS signature redacted>");
            let value = &rest[i + 4..];
            let end = value
                .find(|c: char| c == '&' || c == ')' || c == '"' || c == '\'' || c.is_whitespace())
                .unwrap_or(value.len());
            rest = &value[end..];
        } else {
            out.push_str(&rest[i..i + 4]);
            rest = &rest[i + 4..];
        }
    }
    out.push_str(rest);
    out
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The Shared Key string to sign (Blob service, version 2009-09-19 and later).
fn string_to_sign(
    method: &Method,
    account: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    content_length: usize,
) -> String {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let length = if content_length == 0 {
        String::new()
    } else {
        content_length.to_string()
    };
    let mut s = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        method.as_str(),
        get("content-encoding"),
        get("content-language"),
        length,
        get("content-md5"),
        get("content-type"),
        "", // Date: x-ms-date is used instead.
        get("if-modified-since"),
        get("if-match"),
        get("if-none-match"),
        get("if-unmodified-since"),
        get("range"),
    );
    let mut ms: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-ms-"))
        .map(|(k, v)| (k.as_str(), v.trim()))
        .collect();
    ms.sort();
    for (k, v) in ms {
        s.push_str(k);
        s.push(':');
        s.push_str(v);
        s.push('\n');
    }
    s.push('/');
    s.push_str(account);
    s.push_str(path);
    let mut q: Vec<(String, &str)> = query
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .collect();
    q.sort();
    for (k, v) in q {
        s.push('\n');
        s.push_str(&k);
        s.push(':');
        s.push_str(v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_key_string_to_sign() {
        let headers = vec![
            ("x-ms-version".to_string(), "2021-08-06".to_string()),
            (
                "x-ms-date".to_string(),
                "Fri, 26 Jun 2015 23:39:12 GMT".to_string(),
            ),
            ("if-match".to_string(), "\"0x1\"".to_string()),
        ];
        let query = vec![("comp".to_string(), "lease".to_string())];
        let s = string_to_sign(
            &Method::PUT,
            "acct",
            "/acct/c/state%20one",
            &query,
            &headers,
            5,
        );
        assert_eq!(
            s,
            "PUT\n\n\n5\n\n\n\n\n\"0x1\"\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2021-08-06\n/acct/acct/c/state%20one\ncomp:lease"
        );
    }

    #[test]
    fn signatures_are_redacted() {
        assert_eq!(
            redact_signatures("error for url (http://h/c/b?comp=lease&sv=1&sig=abc%2Bd) x"),
            "error for url (http://h/c/b?comp=lease&sv=1&<SAS signature redacted>) x"
        );
        assert_eq!(
            redact_signatures("Sig=x&a=1"),
            "<SAS signature redacted>&a=1"
        );
        assert_eq!(redact_signatures("design=1"), "design=1");
    }

    #[test]
    fn blob_names_are_encoded() {
        assert_eq!(encode_path("env/prod state.json"), "env/prod%20state.json");
    }
}
