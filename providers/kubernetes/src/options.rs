//! The inputs of a `k8s:` resource besides its manifest: `force`, `wait` and
//! `delete_timeout`, read and checked into [`Options`]. Pure: no cluster is asked.

use std::time::Duration;

use plinth_provider::ProviderError;
use plinth_value::{Path, Value};

use crate::manifest::p;

/// How long a delete waits for the object to be gone when `delete_timeout` is not set.
pub(crate) const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a `wait` waits when it sets no `timeout`.
pub(crate) const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(600);

/// How `apply` waits for the object.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Wait {
    None,
    Condition(String, Duration),
    Complete(Duration),
    Rollout(Duration),
}

impl Wait {
    /// How long the wait may take in all.
    pub(crate) fn timeout(&self) -> Duration {
        match self {
            Wait::None => Duration::ZERO,
            Wait::Condition(_, t) | Wait::Complete(t) | Wait::Rollout(t) => *t,
        }
    }
}

/// The inputs besides the manifest.
pub(crate) struct Options {
    pub force: bool,
    pub wait: Wait,
    pub delete_timeout: Duration,
}

fn duration_at(config: &Value, path: &Path, default: Duration) -> Result<Duration, ProviderError> {
    match config.get(path).map(|v| v.unmark_all()) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => humantime::parse_duration(s.trim()).map_err(|e| {
            ProviderError::new(format!(
                "{path}: `{s}` is not a duration ({e}); write e.g. \"30s\" or \"10m\""
            ))
        }),
        Some(Value::Unknown) => Ok(default),
        Some(other) => Err(ProviderError::new(format!(
            "{path} must be a duration such as \"10m\", found {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn options(config: &Value) -> Result<Options, ProviderError> {
    let force = match config.get(&p("force")).map(|v| v.unmark_all()) {
        None | Some(Value::Null) | Some(Value::Unknown) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => {
            return Err(ProviderError::new(format!(
                "force must be a bool, found {}",
                other.type_name()
            )));
        }
    };
    let delete_timeout = duration_at(config, &p("delete_timeout"), DEFAULT_DELETE_TIMEOUT)?;
    let wait = match config.get(&p("wait")).map(|v| v.unmark_all()) {
        None | Some(Value::Null) => Wait::None,
        Some(Value::Map(m)) => {
            for k in m.keys() {
                if !["condition", "complete", "rollout", "timeout"].contains(&k.as_str()) {
                    return Err(ProviderError::new(format!(
                        "wait.{k}: unknown key (expected condition, complete, rollout and timeout)"
                    )));
                }
            }
            let timeout = duration_at(config, &p("wait.timeout"), DEFAULT_WAIT_TIMEOUT)?;
            let flag = |k: &str| -> Result<bool, ProviderError> {
                match m.get(k) {
                    None | Some(Value::Null) => Ok(false),
                    Some(Value::Bool(b)) => Ok(*b),
                    Some(other) => Err(ProviderError::new(format!(
                        "wait.{k} must be a bool, found {}",
                        other.type_name()
                    ))),
                }
            };
            let condition = match m.get("condition") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(other) => {
                    return Err(ProviderError::new(format!(
                        "wait.condition must be a condition type such as \"Ready\", found {}",
                        other.render()
                    )));
                }
            };
            match (condition, flag("complete")?, flag("rollout")?) {
                (Some(c), false, false) => Wait::Condition(c, timeout),
                (None, true, false) => Wait::Complete(timeout),
                (None, false, true) => Wait::Rollout(timeout),
                (None, false, false) => Wait::None,
                _ => {
                    return Err(ProviderError::new(
                        "wait: give one of condition = \"Type\", complete = true or rollout = true",
                    ));
                }
            }
        }
        Some(other) => {
            return Err(ProviderError::new(format!(
                "wait must be a table such as {{ condition = \"Ready\", timeout = \"10m\" }}, found {}",
                other.type_name()
            )));
        }
    };
    Ok(Options {
        force,
        wait,
        delete_timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn wait_options() {
        let o = options(&v(
            json!({"wait": {"condition": "Ready", "timeout": "90s"}}),
        ))
        .unwrap();
        assert_eq!(
            o.wait,
            Wait::Condition("Ready".into(), Duration::from_secs(90))
        );
        assert_eq!(
            options(&v(json!({"wait": {"complete": true}})))
                .unwrap()
                .wait,
            Wait::Complete(DEFAULT_WAIT_TIMEOUT)
        );
        assert!(options(&v(json!({"wait": {"complete": true, "rollout": true}}))).is_err());
        assert!(options(&v(json!({"wait": {"conditon": "Ready"}}))).is_err());
        assert!(options(&v(json!({"delete_timeout": "soon"}))).is_err());
    }
}
