//! Waits: what a `wait` input asks of an object (a condition of the object's current
//! generation, a Job's completion, a finished rollout) judged from the object as read
//! ([`progress`], pure), and the polling loops on a [`Cluster`] — until a wait is met, and
//! until a deleted object is gone — with a doubling interval up to 2 s.

use std::sync::Arc;
use std::time::Duration;

use plinth_provider::ProviderError;

use crate::client::Cluster;
use crate::connection::{Conn, Resolved};
use crate::kind::ObjectRef;
use crate::options::Wait;

/// The longest wait between two polls.
const MAX_POLL: Duration = Duration::from_secs(2);

/// What a wait found.
pub(crate) enum Progress {
    Done,
    Failed(String),
    Pending(String),
}

fn conditions(obj: &serde_json::Value) -> Vec<&serde_json::Value> {
    obj.pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn condition<'a>(obj: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    conditions(obj).into_iter().find(|c| {
        c["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(name))
    })
}

fn describe_condition(c: &serde_json::Value) -> String {
    let mut s = format!(
        "{}={}",
        c["type"].as_str().unwrap_or("?"),
        c["status"].as_str().unwrap_or("?")
    );
    if let Some(r) = c["reason"].as_str().filter(|r| !r.is_empty()) {
        s.push_str(&format!(" ({r})"));
    }
    if let Some(m) = c["message"].as_str().filter(|m| !m.is_empty()) {
        s.push_str(&format!(": {m}"));
    }
    s
}

/// When a condition was reported for an older generation of the object (the controller has
/// not seen the last change yet): the generation it reflects and the object's. The
/// condition's own `observedGeneration` counts, else `status.observedGeneration`.
fn stale_condition(obj: &serde_json::Value, c: &serde_json::Value) -> Option<(i64, i64)> {
    let generation = obj.pointer("/metadata/generation")?.as_i64()?;
    let seen = c
        .get("observedGeneration")
        .and_then(|g| g.as_i64())
        .or_else(|| {
            obj.pointer("/status/observedGeneration")
                .and_then(|g| g.as_i64())
        })?;
    (seen < generation).then_some((seen, generation))
}

pub(crate) fn progress(wait: &Wait, obj: &serde_json::Value) -> Progress {
    match wait {
        Wait::None => Progress::Done,
        Wait::Condition(name, _) => match condition(obj, name) {
            Some(c) if let Some((seen, generation)) = stale_condition(obj, c) => {
                Progress::Pending(format!(
                    "{} is of generation {seen}; the object is at generation {generation}",
                    describe_condition(c)
                ))
            }
            Some(c) if c["status"] == "True" => Progress::Done,
            Some(c) => Progress::Pending(describe_condition(c)),
            None => Progress::Pending(format!("no {name} condition yet")),
        },
        Wait::Complete(_) => {
            if let Some(c) = condition(obj, "Failed").filter(|c| c["status"] == "True") {
                return Progress::Failed(format!(
                    "failed: {}: {}",
                    c["reason"].as_str().unwrap_or("Failed"),
                    c["message"].as_str().unwrap_or("no message")
                ));
            }
            match condition(obj, "Complete") {
                Some(c) if c["status"] == "True" => Progress::Done,
                _ => Progress::Pending(format!(
                    "not complete yet (succeeded: {}, active: {}, failed: {})",
                    obj.pointer("/status/succeeded").unwrap_or(&0.into()),
                    obj.pointer("/status/active").unwrap_or(&0.into()),
                    obj.pointer("/status/failed").unwrap_or(&0.into()),
                )),
            }
        }
        Wait::Rollout(_) => {
            let int = |ptr: &str| obj.pointer(ptr).and_then(|v| v.as_i64());
            if let Some(c) = condition(obj, "Progressing")
                && c["reason"] == "ProgressDeadlineExceeded"
            {
                return Progress::Failed(format!("rollout failed: {}", describe_condition(c)));
            }
            let generation = int("/metadata/generation").unwrap_or(0);
            let observed = int("/status/observedGeneration").unwrap_or(0);
            if observed < generation {
                return Progress::Pending("the controller has not seen the change yet".into());
            }
            let kind = obj["kind"].as_str().unwrap_or_default();
            let (want, updated, ready) = if kind == "DaemonSet" {
                (
                    int("/status/desiredNumberScheduled").unwrap_or(0),
                    int("/status/updatedNumberScheduled").unwrap_or(0),
                    int("/status/numberAvailable").unwrap_or(0),
                )
            } else {
                (
                    int("/spec/replicas").unwrap_or(1),
                    int("/status/updatedReplicas").unwrap_or(0),
                    int(if kind == "StatefulSet" {
                        "/status/readyReplicas"
                    } else {
                        "/status/availableReplicas"
                    })
                    .unwrap_or(0),
                )
            };
            let total = int("/status/replicas").unwrap_or(updated);
            if updated >= want && ready >= want && total <= updated {
                Progress::Done
            } else {
                Progress::Pending(format!(
                    "{updated} of {want} replicas updated, {ready} available, {total} in all"
                ))
            }
        }
    }
}

impl Cluster<'_> {
    /// Polls until `wait` is met; returns the object as last read.
    pub(crate) async fn wait_for(
        &self,
        conn: &Arc<Conn>,
        r: &Resolved,
        obj: &ObjectRef,
        wait: &Wait,
        mut current: serde_json::Value,
    ) -> Result<serde_json::Value, ProviderError> {
        let timeout = wait.timeout();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut interval = self.poll_interval;
        loop {
            match progress(wait, &current) {
                Progress::Done => return Ok(current),
                Progress::Failed(why) => {
                    return Err(ProviderError::with_code(
                        "WaitFailed",
                        format!("{} {why}", obj.describe()),
                    ));
                }
                Progress::Pending(why) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(ProviderError::with_code(
                            "WaitTimeout",
                            format!(
                                "{} did not become ready within {}: {why}",
                                obj.describe(),
                                humantime::format_duration(timeout)
                            ),
                        ));
                    }
                }
            }
            tokio::time::sleep(interval.min(deadline - tokio::time::Instant::now())).await;
            interval = (interval * 2).min(MAX_POLL);
            current = self.get(conn, r, obj).await?.ok_or_else(|| {
                ProviderError::with_code(
                    "NotFound",
                    format!("{} was deleted while plinth waited for it", obj.describe()),
                )
            })?;
        }
    }

    /// Polls after a delete the server took until the object is gone, at most `timeout`.
    /// Every failure says the delete was accepted (the object may be going or gone; the next
    /// refresh settles it).
    pub(crate) async fn wait_gone(
        &self,
        conn: &Arc<Conn>,
        r: &Resolved,
        obj: &ObjectRef,
        timeout: Duration,
    ) -> Result<(), ProviderError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut interval = self.poll_interval;
        loop {
            let still = self
                .get(conn, r, obj)
                .await
                .map_err(ProviderError::after_accepted)?;
            let Some(still) = still else {
                return Ok(());
            };
            if tokio::time::Instant::now() >= deadline {
                let finalizers = still
                    .pointer("/metadata/finalizers")
                    .and_then(|f| f.as_array())
                    .map(|f| {
                        f.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .filter(|f| !f.is_empty());
                return Err(ProviderError::with_code(
                    "DeleteTimeout",
                    format!(
                        "{} still exists {} after it was deleted{}; raise delete_timeout to wait longer",
                        obj.describe(),
                        humantime::format_duration(timeout),
                        finalizers
                            .map(|f| format!(" (finalizers: {f})"))
                            .unwrap_or_default()
                    ),
                )
                .after_accepted());
            }
            tokio::time::sleep(interval.min(deadline - tokio::time::Instant::now())).await;
            interval = (interval * 2).min(MAX_POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn job_progress() {
        let w = Wait::Complete(Duration::ZERO);
        let failed = json!({"status": {"conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}});
        match progress(&w, &failed) {
            Progress::Failed(m) => assert!(m.contains("BackoffLimitExceeded"), "{m}"),
            _ => panic!("a failed job is a failure"),
        }
        let done = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert!(matches!(progress(&w, &done), Progress::Done));
        assert!(matches!(
            progress(&w, &json!({"status": {"active": 1}})),
            Progress::Pending(_)
        ));
        let rollout = Wait::Rollout(Duration::ZERO);
        let mid = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}});
        assert!(matches!(progress(&rollout, &mid), Progress::Pending(_)));
        let fin = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}});
        assert!(matches!(progress(&rollout, &fin), Progress::Done));
    }

    #[test]
    fn a_condition_from_before_the_last_change_is_not_met_yet() {
        let w = Wait::Condition("Ready".into(), Duration::ZERO);
        let ready = |generation: i64, status_seen: Option<i64>, cond_seen: Option<i64>| {
            let mut c = json!({"type": "Ready", "status": "True"});
            if let Some(g) = cond_seen {
                c["observedGeneration"] = json!(g);
            }
            let mut o =
                json!({"metadata": {"generation": generation}, "status": {"conditions": [c]}});
            if let Some(g) = status_seen {
                o["status"]["observedGeneration"] = json!(g);
            }
            o
        };
        // Left over from generation 1 while the object is at 2: not met, and says why.
        match progress(&w, &ready(2, Some(1), None)) {
            Progress::Pending(m) => assert!(m.contains("Ready=True") && m.contains("2"), "{m}"),
            _ => panic!("a condition of an older generation is not met"),
        }
        assert!(matches!(
            progress(&w, &ready(2, None, Some(1))),
            Progress::Pending(_)
        ));
        // The condition's own observedGeneration counts over the status's.
        assert!(matches!(
            progress(&w, &ready(2, Some(1), Some(2))),
            Progress::Done
        ));
        assert!(matches!(
            progress(&w, &ready(3, Some(3), Some(2))),
            Progress::Pending(_)
        ));
        // Seen: met. No generations reported at all (many CRDs): the condition as it is.
        assert!(matches!(
            progress(&w, &ready(2, Some(2), None)),
            Progress::Done
        ));
        assert!(matches!(
            progress(&w, &ready(2, None, None)),
            Progress::Done
        ));
        let no_generation = json!({"status": {"observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(matches!(progress(&w, &no_generation), Progress::Done));
    }
}
