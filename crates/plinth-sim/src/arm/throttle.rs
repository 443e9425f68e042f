//! ARM's request throttling: a token bucket per subscription and class of request (reads,
//! writes, deletes), refilled continuously. Capacities and rates come from the caller (the
//! defaults and `/_sim/config` overrides live with the settings).

use std::collections::HashMap;
use std::time::Instant;

use axum::http::Method;

/// The token buckets, by `subscription/class` (not persisted).
#[derive(Debug, Default)]
pub(crate) struct Buckets(HashMap<String, Bucket>);

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Which ARM rate-limit bucket a method draws from.
pub(super) fn class_of(method: &Method) -> &'static str {
    match *method {
        Method::GET | Method::HEAD => "reads",
        Method::DELETE => "deletes",
        _ => "writes",
    }
}

impl Buckets {
    /// Takes a token from the subscription's bucket of `class`, which holds `capacity` and
    /// refills at `rate` per second: `Ok(remaining)` or `Err(retry_after_secs)`.
    pub(super) fn take(
        &mut self,
        subscription: &str,
        class: &str,
        (capacity, rate): (f64, f64),
    ) -> Result<u64, u64> {
        let now = Instant::now();
        let b = self
            .0
            .entry(format!("{}/{class}", subscription.to_ascii_lowercase()))
            .or_insert(Bucket {
                tokens: capacity,
                at: now,
            });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(b.tokens.floor() as u64)
        } else {
            let wait = if rate > 0.0 {
                ((1.0 - b.tokens) / rate).ceil().max(1.0)
            } else {
                60.0
            };
            Err(wait as u64)
        }
    }

    /// Fills every bucket to its capacity (as if enough time had passed).
    pub(super) fn refill(&mut self) {
        self.0.clear();
    }
}
