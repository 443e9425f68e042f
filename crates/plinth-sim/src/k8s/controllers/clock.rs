//! Time as the controllers see it. On the `instant` profile (`time_scale` unset or 0) every
//! delay is zero and every controller acts on every round, deterministically; on `demo` and
//! `realistic` the durations Azure and Kubernetes use are scaled by
//! [`crate::arm::Settings::time_scale`] and compared with the wall clock, and a ticker
//! (`admin::start_clock`) runs rounds as time passes.
//!
//! Durations modelled, with their sources:
//! - Azure RBAC propagation: "it can take up to 10 minutes for changes to take effect"
//!   (learn.microsoft.com, *Troubleshoot Azure RBAC*, "Role assignment changes are not being
//!   detected"); we model 5 minutes, half that bound.
//! - Federated identity credentials: "takes a few seconds to propagate after being initially
//!   added … the request might fail until the cache is refreshed" (learn.microsoft.com, *Use
//!   Microsoft Entra Workload ID with AKS*); we model 10 seconds.
//! - Job backoff: 10 s, doubled per failed pod, capped at 6 minutes (Kubernetes docs, *Jobs*,
//!   "Pod backoff failure policy").
//! - KEDA polling: the ScaledJob's `pollingInterval`, default 30 s (KEDA docs, *Scaling Jobs*).

use crate::arm::Settings;

const RBAC_PROPAGATION_MS: u64 = 5 * 60 * 1000;
const FIC_PROPAGATION_MS: u64 = 10 * 1000;
const JOB_BACKOFF_MS: u64 = 10 * 1000;
const JOB_BACKOFF_CAP_MS: u64 = 6 * 60 * 1000;
const KEDA_POLLING_S: u64 = 30;

/// Now, in ms since the Unix epoch.
pub(super) fn now_ms() -> u64 {
    crate::arm::now_ms()
}

/// `ms` of Azure's or Kubernetes' time as the controllers see it (0 on `instant`).
fn scaled(settings: &Settings, ms: u64) -> u64 {
    let scale = settings.time_scale.unwrap_or(0.0);
    if scale.is_finite() && scale > 0.0 {
        (ms as f64 * scale) as u64
    } else {
        0
    }
}

/// Whether a write made at `at_ms` has propagated, `delay_ms` later, by `now`; everything
/// written before [`Settings::propagated_before_ms`] has.
fn propagated(settings: &Settings, at_ms: u64, delay_ms: u64, now: u64) -> bool {
    settings.propagated_before_ms.is_some_and(|t| at_ms <= t)
        || at_ms.saturating_add(delay_ms) <= now
}

/// Whether a role assignment created at `created_ms` is in effect on data-plane calls.
pub(super) fn role_assignment_effective(settings: &Settings, created_ms: u64) -> bool {
    let delay = settings
        .rbac_propagation_ms
        .unwrap_or_else(|| scaled(settings, RBAC_PROPAGATION_MS));
    propagated(settings, created_ms, delay, now_ms())
}

/// Whether a federated identity credential last changed at `updated_ms` is accepted by the
/// token exchange.
pub(super) fn credential_effective(settings: &Settings, updated_ms: u64) -> bool {
    let delay = settings
        .fic_propagation_ms
        .unwrap_or_else(|| scaled(settings, FIC_PROPAGATION_MS));
    propagated(settings, updated_ms, delay, now_ms())
}

/// How long the Job controller waits before the next pod after `failed` failed pods.
pub(super) fn job_backoff_ms(settings: &Settings, failed: i64) -> u64 {
    let exp = failed.clamp(1, 16) as u32 - 1;
    let backoff = JOB_BACKOFF_MS
        .saturating_mul(1u64 << exp)
        .min(JOB_BACKOFF_CAP_MS);
    scaled(settings, backoff)
}

/// Whether a ScaledJob with `polling_interval_s` (None: KEDA's default, 30 s) last polled at
/// `last_ms` is due for a poll now.
pub(super) fn poll_due(settings: &Settings, polling_interval_s: Option<u64>, last_ms: u64) -> bool {
    let interval = scaled(
        settings,
        polling_interval_s
            .unwrap_or(KEDA_POLLING_S)
            .saturating_mul(1000),
    );
    last_ms == 0 || interval == 0 || last_ms.saturating_add(interval) <= now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_has_no_delays_and_scaled_profiles_do() {
        let instant = Settings::default();
        assert_eq!(job_backoff_ms(&instant, 3), 0);
        assert!(role_assignment_effective(&instant, now_ms()));
        let demo = Settings {
            time_scale: Some(1.0 / 60.0),
            ..Settings::default()
        };
        assert_eq!(job_backoff_ms(&demo, 1), 166);
        assert_eq!(job_backoff_ms(&demo, 2), 333);
        assert_eq!(job_backoff_ms(&demo, 12), 6000);
        assert!(!role_assignment_effective(&demo, now_ms()));
        assert!(role_assignment_effective(&demo, now_ms() - 5_001));
        let settled = Settings {
            propagated_before_ms: Some(now_ms()),
            ..demo
        };
        assert!(role_assignment_effective(&settled, now_ms() - 1));
        assert!(!credential_effective(&settled, now_ms() + 1_000));
    }
}
