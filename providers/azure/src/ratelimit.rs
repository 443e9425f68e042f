//! Client-side token buckets per subscription and request class, as ARM documents its own
//! limits (reads: 250 burst, 25/s; writes and deletes: 200 burst, 10/s), tightened by the
//! `x-ms-ratelimit-remaining-subscription-*` headers ARM returns, so that a large refresh
//! waits on the client instead of provoking 429s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::request::RequestClass;

/// Capacity and refill rate of one bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// How many requests may go at once when the bucket is full.
    pub burst: f64,
    /// How many requests' worth of tokens the bucket regains per second.
    pub per_second: f64,
}

/// Bucket sizes per class; `None` turns rate limiting off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// The bucket of reads (`GET`, `HEAD`); default 250 burst, 25/s.
    pub reads: Bucket,
    /// The bucket of writes (`PUT`, `PATCH`, `POST`, ...); default 200 burst, 10/s.
    pub writes: Bucket,
    /// The bucket of deletes; default 200 burst, 10/s.
    pub deletes: Bucket,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            reads: Bucket {
                burst: 250.0,
                per_second: 25.0,
            },
            writes: Bucket {
                burst: 200.0,
                per_second: 10.0,
            },
            deletes: Bucket {
                burst: 200.0,
                per_second: 10.0,
            },
        }
    }
}

impl RateLimits {
    fn bucket(&self, class: RequestClass) -> Bucket {
        match class {
            RequestClass::Read => self.reads,
            RequestClass::Write => self.writes,
            RequestClass::Delete => self.deletes,
        }
    }
}

struct State {
    tokens: f64,
    at: Instant,
}

/// The buckets of every subscription seen.
pub(crate) struct Limiter {
    limits: Option<RateLimits>,
    buckets: Mutex<HashMap<(String, RequestClass), State>>,
}

impl Limiter {
    pub fn new(limits: Option<RateLimits>) -> Limiter {
        Limiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token, or says how long to wait for one.
    fn try_take(&self, subscription: &str, class: RequestClass) -> Result<(), Duration> {
        let Some(limits) = self.limits else {
            return Ok(());
        };
        let b = limits.bucket(class);
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let s = map
            .entry((subscription.to_ascii_lowercase(), class))
            .or_insert(State {
                tokens: b.burst,
                at: now,
            });
        s.tokens = (s.tokens + now.duration_since(s.at).as_secs_f64() * b.per_second).min(b.burst);
        s.at = now;
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            Ok(())
        } else if b.per_second > 0.0 {
            Err(Duration::from_secs_f64((1.0 - s.tokens) / b.per_second))
        } else {
            Err(Duration::from_secs(1))
        }
    }

    /// Waits until the bucket of `subscription`/`class` has a token and takes it.
    pub async fn acquire(&self, subscription: Option<&str>, class: RequestClass) {
        let Some(sub) = subscription else { return };
        while let Err(wait) = self.try_take(sub, class) {
            tracing::trace!(subscription = sub, ?class, ?wait, "client-side rate limit");
            tokio::time::sleep(wait).await;
        }
    }

    /// ARM said how many requests of `class` remain: never believe we have more than that.
    pub fn observe_remaining(&self, subscription: &str, class: RequestClass, remaining: f64) {
        if self.limits.is_none() {
            return;
        }
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get_mut(&(subscription.to_ascii_lowercase(), class))
            && remaining < s.tokens
        {
            s.tokens = remaining;
            s.at = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_drains_and_follows_headers() {
        let l = Limiter::new(Some(RateLimits {
            reads: Bucket {
                burst: 2.0,
                per_second: 1.0,
            },
            ..RateLimits::default()
        }));
        assert!(l.try_take("S", RequestClass::Read).is_ok());
        assert!(l.try_take("s", RequestClass::Read).is_ok());
        assert!(l.try_take("s", RequestClass::Read).is_err());
        assert!(l.try_take("s", RequestClass::Write).is_ok());
        l.observe_remaining("s", RequestClass::Write, 0.0);
        assert!(l.try_take("s", RequestClass::Write).is_err());
        assert!(Limiter::new(None).try_take("s", RequestClass::Read).is_ok());
    }
}
