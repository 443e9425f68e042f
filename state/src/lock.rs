//! Who holds the state lock.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Describes a state lock: written beside the lock (`state.lock.info` for the local backend)
/// so that a second run can say who is in its way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A UUID, the argument of `plinth force-unlock`.
    pub id: String,
    /// The command holding the lock, e.g. `apply`.
    pub operation: String,
    /// `user@host`.
    pub who: String,
    /// The holder's process id.
    pub pid: u32,
    /// When the lock was taken (RFC 3339, seconds).
    pub created: String,
    /// Where the locked state lives (filled in by the backend).
    #[serde(default)]
    pub path: String,
}

impl LockInfo {
    /// A new lock description for `operation`, with a fresh id, this user, host and process,
    /// and the current time. `path` is left empty for the backend to fill in.
    pub fn new(operation: &str) -> Self {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{}@{}", user_name(), host_name()),
            pid: std::process::id(),
            created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            path: String::new(),
        }
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn user_name() -> String {
    non_empty_env("USER")
        .or_else(|| non_empty_env("LOGNAME"))
        .or_else(|| non_empty_env("USERNAME"))
        .unwrap_or_else(|| "unknown".to_string())
}

fn host_name() -> String {
    non_empty_env("HOSTNAME")
        .or_else(|| read_trimmed("/etc/hostname"))
        .or_else(|| read_trimmed("/proc/sys/kernel/hostname"))
        .unwrap_or_else(|| "unknown".to_string())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}
