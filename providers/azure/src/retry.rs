//! Retry policy (exponential backoff with full jitter) and how retries are reported.

use std::time::Duration;

use plinth_provider::{Note, Reporter};

/// When and how often a request is retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// First backoff ceiling; doubles each attempt (full jitter: a random delay in `0..=ceiling`).
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Most attempts per request (the first included).
    pub max_attempts: u32,
    /// Total time one request may take with all its retries.
    pub total_timeout: Duration,
    /// `Retry-After` is honoured up to this long.
    pub max_retry_after: Duration,
    /// ARM error codes that are transient (eventual consistency, concurrent operations).
    pub transient_codes: Vec<String>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_attempts: 12,
            total_timeout: Duration::from_secs(15 * 60),
            max_retry_after: Duration::from_secs(5 * 60),
            transient_codes: [
                "PrincipalNotFound",
                "OperationNotAllowed",
                "AnotherOperationInProgress",
                "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                "RetryableError",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }
}

impl RetryPolicy {
    /// Whether an ARM error answer is worth retrying.
    pub fn is_transient(&self, status: u16, code: &str, message: &str) -> bool {
        if status == 429 || status == 408 || (status >= 500 && status != 501 && status != 505) {
            return true;
        }
        if !self
            .transient_codes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(code))
        {
            return false;
        }
        // `OperationNotAllowed` also means quota or policy refusals: only the
        // "another operation is in progress" answer is transient.
        if code.eq_ignore_ascii_case("OperationNotAllowed") {
            let m = message.to_ascii_lowercase();
            return m.contains("in progress") || m.contains("another operation");
        }
        true
    }

    /// The backoff before attempt `attempt + 1` (1-based `attempt` that just failed), with
    /// full jitter from `random` (any u64).
    pub fn backoff(&self, attempt: u32, random: u64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp.min(31))
            .min(self.max_delay);
        let nanos = ceiling.as_nanos() as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random % (nanos + 1))
    }
}

/// Why a request is retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryCause {
    /// ARM answered with a transient error.
    Answer {
        /// The HTTP status (409, 429, 503, ...).
        status: u16,
        /// ARM's error code (`ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity`).
        code: String,
    },
    /// No complete answer: the connection failed or broke.
    NoAnswer,
    /// No answer within the client's timeout.
    TimedOut {
        /// The timeout that ran out.
        after: Duration,
    },
}

/// One retry, as reported: [`RetryEvent::summary`] is the one line a user sees,
/// [`RetryEvent::detail`] (also its `Display`) the whole story for logs and `--json`.
#[derive(Clone, Debug)]
pub struct RetryEvent {
    /// The HTTP method of the request that failed.
    pub method: String,
    /// The URL of the request that failed, without credentials and without query parameters
    /// other than `api-version` (a long-running operation's URL carries a signature).
    pub url: String,
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// The most attempts the retry policy allows.
    pub max_attempts: u32,
    /// How long the client waits before the next attempt.
    pub delay: Duration,
    /// Whether `delay` came from the server's `Retry-After`.
    pub retry_after: bool,
    /// What failed.
    pub cause: RetryCause,
    /// ARM's message (for [`RetryCause::Answer`]), or what went wrong on the way.
    pub reason: String,
}

/// ARM's error code for two credential writes of one identity at once.
const CONCURRENT_FIC: &str = "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity";

impl RetryEvent {
    /// What the request was, in a word: `read`, `write`, `delete`, `action`.
    fn operation(&self) -> &'static str {
        match self.method.as_str() {
            "GET" | "HEAD" => "read",
            "PUT" | "PATCH" => "write",
            "DELETE" => "delete",
            _ => "action",
        }
    }

    /// What happened, in words, with the status: `ARM is busy with another write to this
    /// identity's federated credentials (409)`.
    pub fn meaning(&self) -> String {
        let op = self.operation();
        match &self.cause {
            RetryCause::Answer { status, code } => {
                let is = |c: &str| code.eq_ignore_ascii_case(c);
                if is(CONCURRENT_FIC) {
                    format!(
                        "ARM is busy with another write to this identity's federated credentials ({status})"
                    )
                } else if is("AnotherOperationInProgress") || is("OperationNotAllowed") {
                    format!("ARM is busy with another operation on this resource ({status})")
                } else if is("PrincipalNotFound") {
                    format!(
                        "the principal is not visible to ARM yet: Entra ID is still replicating it ({status})"
                    )
                } else if *status == 429 {
                    format!("ARM is throttling this subscription's {op}s ({status})")
                } else if *status == 408 {
                    format!("ARM timed out on the {op} ({status})")
                } else if *status == 500 {
                    format!("ARM failed the {op} with an internal error ({status})")
                } else if *status >= 500 {
                    format!("ARM is unavailable for the {op} ({status})")
                } else {
                    format!("ARM answered {code} to the {op} ({status})")
                }
            }
            RetryCause::NoAnswer => format!("the connection to ARM failed during the {op}"),
            RetryCause::TimedOut { after } => {
                format!(
                    "ARM did not answer the {op} within {}",
                    short_duration(*after)
                )
            }
        }
    }

    /// One short line for the user: what happened and the wait, e.g. `ARM is busy with
    /// another write to this identity's federated credentials (409), retrying in 0.1s`.
    pub fn summary(&self) -> String {
        format!(
            "{}, retrying in {}{}",
            self.meaning(),
            short_duration(self.delay),
            if self.retry_after {
                " (as ARM asked)"
            } else {
                ""
            }
        )
    }

    /// The whole story: the request, the attempt, ARM's code and message, the wait.
    pub fn detail(&self) -> String {
        let what = match &self.cause {
            RetryCause::Answer { status, code } => {
                format!("HTTP {status} {code}: {}", self.reason)
            }
            RetryCause::NoAnswer | RetryCause::TimedOut { .. } => self.reason.clone(),
        };
        format!(
            "{} {} failed on attempt {} of {}: {what}; retrying in {}{}",
            self.method,
            self.url,
            self.attempt,
            self.max_attempts,
            humantime::format_duration(Duration::from_millis(self.delay.as_millis() as u64)),
            if self.retry_after {
                " (Retry-After)"
            } else {
                ""
            }
        )
    }
}

impl std::fmt::Display for RetryEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

/// A wait as a person reads it: `0.1s` (tenths rounded up, at least 0.1s), `1s`, `12s`, `2m30s`.
pub fn short_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    let secs = d.as_secs_f64();
    if secs < 10.0 {
        let tenths = (secs * 10.0).ceil().max(1.0) / 10.0;
        let shown = format!("{tenths:.1}");
        format!("{}s", shown.strip_suffix(".0").unwrap_or(&shown))
    } else if secs < 60.0 {
        format!("{}s", secs.round() as u64)
    } else {
        let s = secs.round() as u64;
        match s % 60 {
            0 => format!("{}m", s / 60),
            r => format!("{}m{r}s", s / 60),
        }
    }
}

/// `url` as a retry reports it: no user or password, and of the query only `api-version`
/// (the rest of a long-running operation's URL can be a signature).
pub fn shown_url(url: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else {
        return url.split('?').next().unwrap_or_default().to_string();
    };
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let api: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let hidden = u.query_pairs().count() - api.len();
    u.set_query(None);
    if !api.is_empty() {
        u.query_pairs_mut().extend_pairs(api);
    }
    let mut out = u.to_string();
    if hidden > 0 {
        out.push_str(if out.contains('?') { "&…" } else { "?…" });
    }
    out
}

/// Told about every retry.
pub trait RetryObserver: Send + Sync {
    /// Called before the client waits `event.delay` and tries again.
    fn on_retry(&self, event: &RetryEvent);
}

/// Logs retries with `tracing` only (the client logs every retry at debug level anyway).
pub struct TracingObserver;

impl RetryObserver for TracingObserver {
    fn on_retry(&self, _: &RetryEvent) {}
}

/// Sends every retry to a plinth [`Reporter`] as a [`Note`] for `address`, so the engine
/// emits it as an event (`--json`): the note's message is [`RetryEvent::summary`], its detail
/// [`RetryEvent::detail`].
pub struct ReporterObserver<'a> {
    /// Where the notes go.
    pub reporter: &'a dyn Reporter,
    /// The plinth address of the object being worked on, which the notes name.
    pub address: &'a str,
}

impl RetryObserver for ReporterObserver<'_> {
    fn on_retry(&self, event: &RetryEvent) {
        self.reporter.note(Note {
            address: self.address.to_string(),
            message: event.summary(),
            detail: Some(event.detail()),
        });
    }
}

impl<F: Fn(&RetryEvent) + Send + Sync> RetryObserver for F {
    fn on_retry(&self, event: &RetryEvent) {
        self(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        let p = RetryPolicy::default();
        assert!(p.is_transient(429, "TooManyRequests", ""));
        assert!(p.is_transient(503, "ServiceUnavailable", ""));
        assert!(!p.is_transient(400, "InvalidTemplate", ""));
        assert!(p.is_transient(400, "PrincipalNotFound", ""));
        assert!(p.is_transient(
            409,
            "OperationNotAllowed",
            "there's an in progress create managed cluster operation"
        ));
        assert!(!p.is_transient(409, "OperationNotAllowed", "Quota exceeded"));
        assert!(p.is_transient(
            409,
            "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
            ""
        ));
    }

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.backoff(1, u64::MAX - 1),
            Duration::from_nanos((u64::MAX - 1) % 100_000_001)
        );
        for a in 1..40 {
            for r in [0, 1, 12345, u64::MAX] {
                assert!(p.backoff(a, r) <= Duration::from_millis(1000));
            }
        }
        assert_eq!(p.backoff(3, 0), Duration::ZERO);
    }

    fn event(method: &str, cause: RetryCause, reason: &str, delay_ms: u64) -> RetryEvent {
        RetryEvent {
            method: method.into(),
            url: shown_url(
                "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi/federatedIdentityCredentials/keda?api-version=2024-11-30",
            ),
            attempt: 1,
            max_attempts: 12,
            delay: Duration::from_millis(delay_ms),
            retry_after: false,
            cause,
            reason: reason.into(),
        }
    }

    #[test]
    fn a_retry_is_one_short_line_and_a_detail() {
        let arm_message = "Too many Federated Identity Credentials are written concurrently for the managed identity '/subscriptions/s/resourcegroups/g/providers/microsoft.managedidentity/userassignedidentities/mi'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.";
        let e = event(
            "PUT",
            RetryCause::Answer {
                status: 409,
                code: CONCURRENT_FIC.into(),
            },
            arm_message,
            28,
        );
        assert_eq!(
            e.summary(),
            "ARM is busy with another write to this identity's federated credentials (409), retrying in 0.1s"
        );
        let d = e.detail();
        for part in [
            "PUT https://management.azure.com/subscriptions/s/",
            "/federatedIdentityCredentials/keda?api-version=2024-11-30",
            "attempt 1 of 12",
            "HTTP 409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
            arm_message,
            "retrying in 28ms",
        ] {
            assert!(d.contains(part), "{part} in {d}");
        }
        assert_eq!(e.to_string(), d);

        let throttled = RetryEvent {
            retry_after: true,
            delay: Duration::from_secs(17),
            ..event(
                "GET",
                RetryCause::Answer {
                    status: 429,
                    code: "SubscriptionRequestsThrottled".into(),
                },
                "Number of 'read' requests exceeded",
                0,
            )
        };
        assert_eq!(
            throttled.summary(),
            "ARM is throttling this subscription's reads (429), retrying in 17s (as ARM asked)"
        );
        let down = event(
            "DELETE",
            RetryCause::Answer {
                status: 503,
                code: "ServiceUnavailable".into(),
            },
            "",
            2500,
        );
        assert_eq!(
            down.summary(),
            "ARM is unavailable for the delete (503), retrying in 2.5s"
        );
        let reset = event(
            "PUT",
            RetryCause::NoAnswer,
            "connection reset by peer",
            90_000,
        );
        assert_eq!(
            reset.summary(),
            "the connection to ARM failed during the write, retrying in 1m30s"
        );
        assert!(reset.detail().contains("connection reset by peer"));
        for e in [&e, &throttled, &down, &reset] {
            let s = e.summary();
            assert!(
                !s.contains('\n') && !s.contains("https://") && s.len() < 100,
                "{s}"
            );
        }
    }

    #[test]
    fn urls_in_retries_keep_only_the_api_version() {
        assert_eq!(
            shown_url(
                "https://management.azure.com/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/op?api-version=2017-08-31&t=638&c=MIIHhzCCBm&s=sig&h=hash"
            ),
            "https://management.azure.com/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/op?api-version=2017-08-31&…"
        );
        assert_eq!(
            shown_url("https://user:pw@example.com/x?sig=abc"),
            "https://example.com/x?…"
        );
        assert_eq!(shown_url("https://example.com/x"), "https://example.com/x");
    }

    #[test]
    fn waits_read_as_people_read_them() {
        let ms = Duration::from_millis;
        assert_eq!(short_duration(ms(0)), "0s");
        assert_eq!(short_duration(ms(1)), "0.1s");
        assert_eq!(short_duration(ms(100)), "0.1s");
        assert_eq!(short_duration(ms(101)), "0.2s");
        assert_eq!(short_duration(ms(1_000)), "1s");
        assert_eq!(short_duration(ms(9_940)), "10s");
        assert_eq!(short_duration(ms(12_400)), "12s");
        assert_eq!(short_duration(ms(120_000)), "2m");
        assert_eq!(short_duration(ms(150_000)), "2m30s");
    }
}
