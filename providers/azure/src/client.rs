//! [`ArmClient`]: ARM over `reqwest` with retries, rate limits and long-running operations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::credential::{ARM_SCOPE, TokenSource};
use crate::error::{ArmError, Error, Result};
use crate::ratelimit::{Limiter, RateLimits};
use crate::request::{ArmRequest, RequestClass};
use crate::retry::{
    RetryCause, RetryEvent, RetryObserver, RetryPolicy, TracingObserver, shown_url,
};

/// The public cloud's ARM endpoint.
pub const DEFAULT_BASE_URL: &str = "https://management.azure.com";

/// How long establishing a connection to ARM (or the token endpoint) may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, from sending it to the end of the answer's body. A request
/// that takes longer is a transient failure: retried (and reported) like a dropped connection.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect and per-request timeouts of the HTTP client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// How long establishing a connection may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub connect: Duration,
    /// How long one request may take, sending it to the end of the answer's body (default
    /// [`DEFAULT_REQUEST_TIMEOUT`]).
    pub request: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        HttpTimeouts {
            connect: DEFAULT_CONNECT_TIMEOUT,
            request: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl HttpTimeouts {
    /// A `reqwest` client with these timeouts (ARM's and the token endpoint's requests).
    pub fn client(&self) -> Result<reqwest::Client> {
        self.client_trusting(None)
    }

    /// [`HttpTimeouts::client`] that trusts exactly the CA certificates in `ca_pem` (a PEM
    /// bundle: the simulator's own CA under `plinth sim serve --tls`) instead of the system's;
    /// `None`: the system's.
    pub fn client_trusting(&self, ca_pem: Option<&str>) -> Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect)
            .timeout(self.request);
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .ok()
                .filter(|certs| !certs.is_empty())
                .ok_or_else(|| {
                    Error::Credential(
                        "the CA certificate to trust is not a PEM certificate: pass the file `plinth sim serve --tls` printed".into(),
                    )
                })?;
            builder = builder.tls_certs_only(certs);
        }
        builder
            .build()
            .map_err(|e| Error::Credential(format!("cannot make an HTTP client: {e}")))
    }
}

/// How long-running operations are polled.
#[derive(Clone, Debug)]
pub struct LroPolicy {
    /// Wait between polls when ARM gives no `Retry-After`.
    pub poll_interval: Duration,
    /// Longest wait between polls (caps `Retry-After`).
    pub max_poll_interval: Duration,
    /// Total time one operation may take.
    pub timeout: Duration,
}

impl Default for LroPolicy {
    fn default() -> Self {
        LroPolicy {
            poll_interval: Duration::from_secs(5),
            max_poll_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(60 * 60),
        }
    }
}

/// One answer from ARM: status, headers and the JSON body (`Null` when empty).
#[derive(Clone, Debug)]
pub struct ArmResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers (`Retry-After`, `Azure-AsyncOperation`, `Location`, ...).
    pub headers: HeaderMap,
    /// The body parsed as JSON; `Value::Null` when the body was empty.
    pub body: Value,
}

impl ArmResponse {
    /// The value of header `name` (case-insensitive); `None` when it is absent or not
    /// visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Builds an [`ArmClient`].
pub struct ArmClientBuilder {
    base_url: String,
    scope: String,
    tokens: Option<Arc<dyn TokenSource>>,
    retry: RetryPolicy,
    lro: LroPolicy,
    rate_limits: Option<RateLimits>,
    http: Option<reqwest::Client>,
    timeouts: HttpTimeouts,
    observer: Arc<dyn RetryObserver>,
}

impl ArmClientBuilder {
    /// The ARM endpoint (default `https://management.azure.com`; the simulator's URL in tests).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// The token scope (default [`ARM_SCOPE`]).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Where bearer tokens come from (required).
    pub fn token_source(mut self, tokens: Arc<dyn TokenSource>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// When and how often failed requests are retried (default [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long-running operations are polled (default [`LroPolicy::default`]).
    pub fn lro(mut self, lro: LroPolicy) -> Self {
        self.lro = lro;
        self
    }

    /// Client-side rate limits (default: ARM's documented buckets; `None` turns them off).
    pub fn rate_limits(mut self, limits: Option<RateLimits>) -> Self {
        self.rate_limits = limits;
        self
    }

    /// The `reqwest` client to use (default: a new one with [`ArmClientBuilder::timeouts`];
    /// share it with [`crate::IdentityTokenSource::new`]). Make it with
    /// [`HttpTimeouts::client`], so that a request that never gets an answer ends.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The connect and per-request timeouts (default [`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_REQUEST_TIMEOUT`]): of the client this builder makes, and named in the error
    /// of a request that timed out.
    pub fn timeouts(mut self, timeouts: HttpTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Told about every retry of calls made without [`ArmClient::call`].
    pub fn observer(mut self, observer: Arc<dyn RetryObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// Makes the client. Fails with [`Error::Credential`] when no
    /// [`ArmClientBuilder::token_source`] was given or the HTTP client cannot be made; does no
    /// I/O.
    pub fn build(self) -> Result<ArmClient> {
        let tokens = self
            .tokens
            .ok_or_else(|| Error::Credential("the ARM client has no token source".into()))?;
        let http = match self.http {
            Some(h) => h,
            None => self.timeouts.client()?,
        };
        Ok(ArmClient {
            inner: Arc::new(Inner {
                base_url: self.base_url,
                scope: self.scope,
                http,
                timeouts: self.timeouts,
                tokens,
                retry: self.retry,
                lro: self.lro,
                limiter: Limiter::new(self.rate_limits),
                observer: self.observer,
            }),
        })
    }
}

struct Inner {
    base_url: String,
    scope: String,
    http: reqwest::Client,
    timeouts: HttpTimeouts,
    tokens: Arc<dyn TokenSource>,
    retry: RetryPolicy,
    lro: LroPolicy,
    limiter: Limiter,
    observer: Arc<dyn RetryObserver>,
}

/// Azure Resource Manager over HTTP. Cheap to clone (shared connection pool, tokens and rate
/// limit buckets).
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

impl ArmClient {
    /// A builder with the defaults: the public cloud's endpoint, [`ARM_SCOPE`], ARM's
    /// documented rate limits and the default retry, polling and timeout policies. A token
    /// source must still be given.
    pub fn builder() -> ArmClientBuilder {
        ArmClientBuilder {
            base_url: DEFAULT_BASE_URL.to_string(),
            scope: ARM_SCOPE.to_string(),
            tokens: None,
            retry: RetryPolicy::default(),
            lro: LroPolicy::default(),
            rate_limits: Some(RateLimits::default()),
            http: None,
            timeouts: HttpTimeouts::default(),
            observer: Arc::new(TracingObserver),
        }
    }

    /// The ARM endpoint requests go to, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Calls whose retries are reported to `observer` (e.g. a
    /// [`crate::ReporterObserver`] for the resource being worked on).
    pub fn call<'a>(&'a self, observer: &'a dyn RetryObserver) -> Call<'a> {
        Call {
            client: self,
            observer,
        }
    }

    fn default_call(&self) -> Call<'_> {
        self.call(&*self.inner.observer)
    }

    /// See [`Call::send`].
    pub async fn send(&self, req: &ArmRequest) -> Result<ArmResponse> {
        self.default_call().send(req).await
    }

    /// See [`Call::get`].
    pub async fn get(&self, id: &str, api_version: &str) -> Result<Value> {
        self.default_call().get(id, api_version).await
    }

    /// See [`Call::get_if_exists`].
    pub async fn get_if_exists(&self, id: &str, api_version: &str) -> Result<Option<Value>> {
        self.default_call().get_if_exists(id, api_version).await
    }

    /// See [`Call::put`].
    pub async fn put(&self, id: &str, api_version: &str, body: Value) -> Result<Value> {
        self.default_call().put(id, api_version, body).await
    }

    /// See [`Call::patch`].
    pub async fn patch(&self, id: &str, api_version: &str, body: Value) -> Result<Value> {
        self.default_call().patch(id, api_version, body).await
    }

    /// See [`Call::delete`].
    pub async fn delete(&self, id: &str, api_version: &str) -> Result<()> {
        self.default_call().delete(id, api_version).await
    }

    /// See [`Call::post`].
    pub async fn post(
        &self,
        id: &str,
        action: &str,
        api_version: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        self.default_call()
            .post(id, action, api_version, body)
            .await
    }

    /// See [`Call::list`].
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>> {
        self.default_call().list(path, api_version).await
    }
}

/// ARM operations whose retries go to one [`RetryObserver`].
pub struct Call<'a> {
    client: &'a ArmClient,
    observer: &'a dyn RetryObserver,
}

fn random() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

/// `Retry-After` (seconds), or `retry-after-ms` / `x-ms-retry-after-ms`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("retry-after-ms")
        .or_else(|| get("x-ms-retry-after-ms"))
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Some(Duration::from_millis(ms));
    }
    get("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| *s >= 0.0 && s.is_finite())
        .map(Duration::from_secs_f64)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// `host[:port]` of a URL, for messages (no path, no query string).
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => "an unknown host".to_string(),
        },
        Err(_) => "an unknown host".to_string(),
    }
}

fn provisioning_state(body: &Value) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Value::as_str)
}

fn is_terminal(state: &str) -> bool {
    ["succeeded", "failed", "canceled", "cancelled"].contains(&state.to_ascii_lowercase().as_str())
}

impl Call<'_> {
    fn inner(&self) -> &Inner {
        &self.client.inner
    }

    /// Sends one request once: `Ok` for any HTTP answer, `Err(Transport)` when there was none.
    async fn once(&self, req: &ArmRequest, url: &str, token: &str) -> Result<ArmResponse> {
        let timeouts = self.inner().timeouts;
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                return Error::TimedOut {
                    host: host_of(url),
                    after: if e.is_connect() {
                        timeouts.connect
                    } else {
                        timeouts.request
                    },
                };
            }
            Error::Transport {
                method: req.method.to_string(),
                url: url.to_string(),
                message: error_chain(&e.without_url()),
            }
        };
        let mut rb = self
            .inner()
            .http
            .request(req.method.clone(), url)
            .bearer_auth(token)
            .header("accept", "application/json");
        if let Some(body) = &req.body {
            rb = rb.json(body);
        } else if req.method == Method::POST
            || req.method == Method::PUT
            || req.method == Method::PATCH
        {
            rb = rb.header("content-length", "0").body(Vec::<u8>::new());
        }
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(transport)?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(ArmResponse {
            status,
            headers,
            body,
        })
    }

    /// Feeds `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` to the buckets.
    fn observe_limits(&self, req: &ArmRequest, headers: &HeaderMap) {
        let Some(sub) = req.subscription() else {
            return;
        };
        for (name, value) in headers {
            let Some(suffix) = name
                .as_str()
                .strip_prefix("x-ms-ratelimit-remaining-subscription-")
            else {
                continue;
            };
            let class = match suffix {
                s if s.ends_with("reads") => RequestClass::Read,
                s if s.ends_with("writes") => RequestClass::Write,
                s if s.ends_with("deletes") => RequestClass::Delete,
                _ => continue,
            };
            if let Some(n) = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
            {
                self.inner().limiter.observe_remaining(sub, class, n);
            }
        }
    }

    /// Sends `req`, retrying transient failures (429, 5xx, connection errors, ARM's
    /// eventual-consistency codes) with exponential backoff and full jitter, honouring
    /// `Retry-After`, bounded by the retry policy's attempts and total timeout. A 2xx answer
    /// is returned; any other answer fails with ARM's code and message.
    pub async fn send(&self, req: &ArmRequest) -> Result<ArmResponse> {
        let inner = self.inner();
        let policy = &inner.retry;
        let url = req.url(&inner.base_url);
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            inner.limiter.acquire(req.subscription(), req.class()).await;
            let token = inner.tokens.token(&inner.scope).await?;
            let (err, server_wait) = match self.once(req, &url, &token.token).await {
                Ok(resp) => {
                    self.observe_limits(req, &resp.headers);
                    if (200..300).contains(&resp.status) {
                        return Ok(resp);
                    }
                    let e = ArmError::from_body(resp.status, &resp.body);
                    if !policy.is_transient(e.status, &e.code, &e.message) {
                        return Err(e.into());
                    }
                    (Error::Arm(e), retry_after(&resp.headers))
                }
                Err(e @ (Error::Transport { .. } | Error::TimedOut { .. })) => (e, None),
                Err(e) => return Err(e),
            };
            let delay = match server_wait {
                Some(d) => d.min(policy.max_retry_after),
                None => policy.backoff(attempt, random()),
            };
            if attempt >= policy.max_attempts || started.elapsed() + delay > policy.total_timeout {
                tracing::warn!(method = %req.method, url = %shown_url(&url), attempt, "giving up: {err}");
                return Err(err);
            }
            let (cause, reason) = match &err {
                Error::Arm(e) => (
                    RetryCause::Answer {
                        status: e.status,
                        code: e.code.clone(),
                    },
                    e.message.clone(),
                ),
                Error::Transport { message, .. } => (RetryCause::NoAnswer, message.clone()),
                Error::TimedOut { after, .. } => {
                    (RetryCause::TimedOut { after: *after }, err.to_string())
                }
                other => (RetryCause::NoAnswer, other.to_string()),
            };
            let event = RetryEvent {
                method: req.method.to_string(),
                url: shown_url(&url),
                attempt,
                max_attempts: policy.max_attempts,
                delay,
                retry_after: server_wait.is_some(),
                cause,
                reason,
            };
            tracing::debug!("{event}");
            self.observer.on_retry(&event);
            tokio::time::sleep(delay).await;
        }
    }

    /// `GET` a resource.
    pub async fn get(&self, id: &str, api_version: &str) -> Result<Value> {
        Ok(self.send(&ArmRequest::get(id, api_version)).await?.body)
    }

    /// `GET` a resource; `None` when ARM answers 404.
    pub async fn get_if_exists(&self, id: &str, api_version: &str) -> Result<Option<Value>> {
        match self.get(id, api_version).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT` a resource and wait for its long-running operation; returns the resource as
    /// ARM then reads it.
    pub async fn put(&self, id: &str, api_version: &str, body: Value) -> Result<Value> {
        let resp = self.send(&ArmRequest::put(id, api_version, body)).await?;
        self.complete(resp, &Method::PUT, id, api_version).await
    }

    /// `PATCH` a resource and wait for its long-running operation.
    pub async fn patch(&self, id: &str, api_version: &str, body: Value) -> Result<Value> {
        let resp = self.send(&ArmRequest::patch(id, api_version, body)).await?;
        self.complete(resp, &Method::PATCH, id, api_version).await
    }

    /// `DELETE` a resource and wait until it is gone. A resource that is already gone (404)
    /// is not an error.
    pub async fn delete(&self, id: &str, api_version: &str) -> Result<()> {
        let resp = match self.send(&ArmRequest::delete(id, api_version)).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        self.complete(resp, &Method::DELETE, id, api_version)
            .await
            .map(|_| ())
    }

    /// `POST id/action` (e.g. `listClusterUserCredential`) and wait for a long-running
    /// operation if ARM starts one; returns the answer's body.
    pub async fn post(
        &self,
        id: &str,
        action: &str,
        api_version: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut req = ArmRequest::post(id, action, api_version);
        req.body = body;
        let resp = self.send(&req).await?;
        self.complete(resp, &Method::POST, id, api_version).await
    }

    /// `GET` a collection and every following page (`nextLink`); returns all `value` items.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>> {
        self.list_request(ArmRequest::get(path, api_version)).await
    }

    /// Like [`Call::list`] for a prepared request (e.g. with a `$filter`).
    pub async fn list_request(&self, first: ArmRequest) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut req = first;
        loop {
            let resp = self.send(&req).await?;
            if let Some(items) = resp.body.get("value").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            match resp.body.get("nextLink").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => req = ArmRequest::follow(next),
                _ => return Ok(out),
            }
        }
    }

    /// Waits `wait` (ARM's `Retry-After`, else the poll interval, capped), unless that would
    /// pass the operation's deadline.
    async fn pause(&self, wait: Option<Duration>, started: Instant, what: &str) -> Result<()> {
        let lro = &self.inner().lro;
        let delay = wait.unwrap_or(lro.poll_interval).min(lro.max_poll_interval);
        if started.elapsed() + delay > lro.timeout {
            return Err(Error::Timeout {
                what: what.to_string(),
                after: lro.timeout,
            });
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Follows the long-running operation `resp` (the answer to `method` on `id`, e.g. from
    /// [`Call::send`]) to its end (SPEC §6): `Azure-AsyncOperation` until
    /// Succeeded/Failed/Canceled, else `Location` (on 202) until not 202, else the resource's
    /// `provisioningState` until terminal. Honours `Retry-After` (capped by
    /// [`LroPolicy::max_poll_interval`]), bounded by [`LroPolicy::timeout`]. Returns the
    /// resource as ARM then reads it (`Null` for a delete; the result for a POST).
    pub async fn complete(
        &self,
        resp: ArmResponse,
        method: &Method,
        id: &str,
        api_version: &str,
    ) -> Result<Value> {
        let started = Instant::now();
        let what = format!("{method} {id}");
        let is_delete = *method == Method::DELETE;
        if let Some(op_url) = resp.header("azure-asyncoperation").map(str::to_string) {
            let location = resp.header("location").map(str::to_string);
            let mut wait = retry_after(&resp.headers);
            loop {
                self.pause(wait, started, &what).await?;
                let poll = self.send(&ArmRequest::follow(&op_url)).await?;
                let status = poll
                    .body
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("InProgress")
                    .to_string();
                match status.to_ascii_lowercase().as_str() {
                    "succeeded" => break,
                    "failed" | "canceled" | "cancelled" => {
                        let err = poll.body.get("error");
                        let text = |k: &str| {
                            err.and_then(|e| e.get(k))
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        };
                        return Err(ArmError {
                            status: poll.status,
                            code: text("code").unwrap_or_else(|| format!("Operation{status}")),
                            message: text("message")
                                .unwrap_or_else(|| format!("{what}: the operation ended {status}")),
                        }
                        .into());
                    }
                    _ => wait = retry_after(&poll.headers),
                }
            }
            return match (method, location) {
                (m, _) if *m == Method::DELETE => Ok(Value::Null),
                (m, Some(loc)) if *m == Method::POST => {
                    Ok(self.send(&ArmRequest::follow(&loc)).await?.body)
                }
                (m, None) if *m == Method::POST => Ok(Value::Null),
                _ => self.get(id, api_version).await,
            };
        }
        if resp.status == 202
            && let Some(loc) = resp.header("location").map(str::to_string)
        {
            let mut wait = retry_after(&resp.headers);
            loop {
                self.pause(wait, started, &what).await?;
                let poll = self.send(&ArmRequest::follow(&loc)).await?;
                if poll.status != 202 {
                    return match *method {
                        Method::DELETE => Ok(Value::Null),
                        Method::POST => Ok(poll.body),
                        _ => self.get(id, api_version).await,
                    };
                }
                wait = retry_after(&poll.headers);
            }
        }
        if is_delete {
            if resp.status == 202 {
                // Accepted with nothing to poll: wait until the resource is gone.
                let mut wait = retry_after(&resp.headers);
                loop {
                    self.pause(wait, started, &what).await?;
                    match self.send(&ArmRequest::get(id, api_version)).await {
                        Err(e) if e.is_not_found() => return Ok(Value::Null),
                        Err(e) => return Err(e),
                        Ok(r) => wait = retry_after(&r.headers),
                    }
                }
            }
            return Ok(Value::Null);
        }
        if *method == Method::POST {
            return Ok(resp.body);
        }
        // No operation header: the resource's provisioningState tells (Service Bus namespaces
        // answer 200 `Created`).
        let mut body = resp.body;
        let mut wait = retry_after(&resp.headers);
        loop {
            match provisioning_state(&body) {
                Some(s) if is_terminal(s) => {
                    if s.eq_ignore_ascii_case("succeeded") {
                        return Ok(body);
                    }
                    return Err(ArmError {
                        status: 200,
                        code: format!("Provisioning{s}"),
                        message: format!("{id} reached provisioningState {s}"),
                    }
                    .into());
                }
                None => return Ok(body),
                Some(_) => {
                    self.pause(wait, started, &what).await?;
                    let r = self.send(&ArmRequest::get(id, api_version)).await?;
                    wait = retry_after(&r.headers);
                    body = r.body;
                }
            }
        }
    }
}
