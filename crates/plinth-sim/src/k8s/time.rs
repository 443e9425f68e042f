//! Kubernetes timestamps.

use std::time::SystemTime;

/// RFC 3339, seconds precision, UTC (how Kubernetes writes times).
pub(super) fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
