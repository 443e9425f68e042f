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

/// One retry, as reported.
#[derive(Clone, Debug)]
pub struct RetryEvent {
    /// The HTTP method of the request that failed.
    pub method: String,
    /// The URL of the request that failed.
    pub url: String,
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// How long the client waits before the next attempt.
    pub delay: Duration,
    /// Whether `delay` came from the server's `Retry-After`.
    pub retry_after: bool,
    /// Why: `429 TooManyRequests: ...`, `connection error: ...`.
    pub reason: String,
}

impl std::fmt::Display for RetryEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "retrying {} {} in {:?}{} after attempt {}: {}",
            self.method,
            self.url,
            self.delay,
            if self.retry_after {
                " (Retry-After)"
            } else {
                ""
            },
            self.attempt,
            self.reason
        )
    }
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
/// emits it as an event (`--json`).
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
            message: event.to_string(),
            detail: None,
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
}
