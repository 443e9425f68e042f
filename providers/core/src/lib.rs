//! The built-in `core` provider: `core:data` and `core:sleep` (SPEC §2).
//!
//! Neither type talks to a remote service: the object *is* its state record. That makes
//! them the types the engine is proven with before any cloud provider exists.

#![warn(missing_docs)]

use std::time::Duration;

use async_trait::async_trait;
use plinth_provider::{
    InputSchema, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema, ValueKind,
    diff,
};
use plinth_value::{Map, Path, Value};

/// The `core` provider.
#[derive(Default)]
pub struct CoreProvider;

const DATA: &str = "data";
const SLEEP: &str = "sleep";

fn input(name: &str, kind: ValueKind, description: &str) -> InputSchema {
    InputSchema {
        name: name.into(),
        kind,
        required: false,
        description: description.into(),
    }
}

fn path(s: &str) -> Path {
    s.parse().expect("static path")
}

impl CoreProvider {
    /// Creates the provider; it holds no configuration or connection, so this cannot fail.
    pub fn new() -> Self {
        CoreProvider
    }
}

/// The longest `core:sleep` duration: a sleep waits for propagation (seconds to minutes);
/// anything past a day is a typo (`500000y`), and would hold the state lock for as long.
pub const MAX_SLEEP: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a duration such as `30s`, `1m30s` or `250ms`, at most [`MAX_SLEEP`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. \"30s\" or \"2m\""))?;
    if d > MAX_SLEEP {
        return Err(format!(
            "`{s}` is longer than the longest sleep ({}); a sleep waits for propagation, write e.g. \"30s\" or \"5m\"",
            humantime::format_duration(MAX_SLEEP)
        ));
    }
    Ok(d)
}

fn duration_of(config: &Value, key: &str) -> Result<Duration, ProviderError> {
    match config.get(&path(key)) {
        None | Some(Value::Null) => Ok(Duration::ZERO),
        Some(v) => match v.as_str() {
            Some(s) => parse_duration(s).map_err(|m| ProviderError::new(format!("{key}: {m}"))),
            None => Err(ProviderError::new(format!(
                "{key} must be a string such as \"30s\", got {}",
                v.type_name()
            ))),
        },
    }
}

fn data_attributes(id: &str, config: &Value) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), Value::from(id));
    let input = config.get(&path("input")).unwrap_or(Value::Null);
    m.insert("input".into(), input.clone());
    m.insert("output".into(), input);
    if let Some(t) = config.get(&path("triggers")) {
        m.insert("triggers".into(), t);
    }
    Value::Map(m)
}

#[async_trait]
impl Provider for CoreProvider {
    fn name(&self) -> &str {
        "core"
    }

    fn schema(&self, type_name: &str) -> Option<TypeSchema> {
        match type_name {
            DATA => Some(TypeSchema {
                type_name: "core:data".into(),
                description: "Stores `input` in state and exposes it as `output`; a change of `triggers` replaces it.".into(),
                inputs: vec![
                    input("input", ValueKind::Any, "Any value; exposed as `output`."),
                    input("triggers", ValueKind::Any, "Any value; changing it replaces the resource."),
                ],
                open: false,
                computed: vec![path("id"), path("output")],
                force_new: vec![path("triggers")],
                sensitive: vec![],
                data_source: false,
                managed: true,
                action: false,
            }),
            SLEEP => Some(TypeSchema {
                type_name: "core:sleep".into(),
                description: "Waits `create_duration` when created and `destroy_duration` when destroyed (e.g. for propagation).".into(),
                inputs: vec![
                    input("create_duration", ValueKind::Duration, "How long creating takes, e.g. \"30s\"."),
                    input("destroy_duration", ValueKind::Duration, "How long destroying takes, e.g. \"10s\"."),
                    input("triggers", ValueKind::Map, "Changing any value replaces the resource."),
                ],
                open: false,
                computed: vec![path("id")],
                force_new: vec![path("triggers")],
                sensitive: vec![],
                data_source: false,
                managed: true,
                action: false,
            }),
            _ => None,
        }
    }

    fn type_names(&self) -> Vec<String> {
        vec![DATA.into(), SLEEP.into()]
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<(Path, String)> {
        let mut out = Vec::new();
        if type_name == SLEEP {
            for key in ["create_duration", "destroy_duration"] {
                if let Some(s) = config.get(&path(key)).as_ref().and_then(Value::as_str)
                    && let Err(m) = parse_duration(s)
                {
                    out.push((path(key), m));
                }
            }
        }
        out
    }

    fn is_immediate(&self, type_name: &str) -> bool {
        type_name == DATA
    }

    fn estimate(&self, type_name: &str, config: &Value) -> Duration {
        match type_name {
            SLEEP => duration_of(config, "create_duration").unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }

    async fn plan(
        &self,
        req: &Request<'_>,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<Planned, ProviderError> {
        let schema = self
            .schema(req.type_name)
            .ok_or_else(|| ProviderError::new("unknown type"))?;
        let mut planned = diff::plan_default(&schema, prior, config, &diff::ExactEq);
        if req.type_name == DATA {
            // `output` follows `input`: known at plan time whenever the input is.
            let input = config.get(&path("input")).unwrap_or(Value::Null);
            planned.attributes.set(&path("output"), input.clone());
            planned.attributes.set(&path("input"), input);
        }
        Ok(planned)
    }

    async fn read(
        &self,
        _req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        // The object lives only in state.
        Ok(Some(Observed {
            id: prior.id.clone(),
            attributes: prior.attributes.clone(),
        }))
    }

    async fn create(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        let id = uuid::Uuid::new_v4().to_string();
        match req.type_name {
            DATA => Ok(Observed {
                attributes: data_attributes(&id, config),
                id: Some(id),
            }),
            SLEEP => {
                let d = duration_of(config, "create_duration")?;
                tokio::time::sleep(d).await;
                let mut attrs = config.clone();
                attrs.set(&path("id"), Value::from(id.as_str()));
                Ok(Observed {
                    id: Some(id),
                    attributes: attrs,
                })
            }
            other => Err(ProviderError::new(format!(
                "core:{other} is not a core type"
            ))),
        }
    }

    async fn update(
        &self,
        req: &Request<'_>,
        prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        let id = prior.id.clone().unwrap_or_default();
        match req.type_name {
            DATA => Ok(Observed {
                attributes: data_attributes(&id, config),
                id: Some(id),
            }),
            SLEEP => {
                duration_of(config, "create_duration")?;
                let mut attrs = config.clone();
                attrs.set(&path("id"), Value::from(id.as_str()));
                Ok(Observed {
                    id: Some(id),
                    attributes: attrs,
                })
            }
            other => Err(ProviderError::new(format!(
                "core:{other} is not a core type"
            ))),
        }
    }

    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        if req.type_name == SLEEP {
            let d = duration_of(&prior.attributes, "destroy_duration")?;
            tokio::time::sleep(d).await;
        }
        Ok(())
    }

    async fn import(
        &self,
        req: &Request<'_>,
        id: &str,
    ) -> Result<(Observed, Value), ProviderError> {
        // As Terraform's terraform_data: an imported object has the given id and a null input.
        let config = Value::Map(Map::new());
        let attributes = match req.type_name {
            DATA => data_attributes(id, &config),
            _ => {
                return Err(ProviderError::new(format!(
                    "core:{} cannot be imported: it has no object outside state; declare it and apply instead",
                    req.type_name
                )));
            }
        };
        Ok((
            Observed {
                id: Some(id.to_string()),
                attributes,
            },
            config,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_provider::NullReporter;
    use serde_json::json;

    fn req(t: &str) -> Request<'_> {
        Request::new(t, "x", &NullReporter)
    }

    #[tokio::test]
    async fn data_round_trip_plans_no_change() {
        let p = CoreProvider::new();
        let cfg = Value::from(json!({"input": {"a": 1}}));
        let created = p.create(&req(DATA), &cfg).await.unwrap();
        assert_eq!(
            created.attributes.get(&path("output")),
            Some(Value::from(json!({"a": 1})))
        );
        let prior = Prior {
            id: created.id.clone(),
            inputs: cfg.clone(),
            attributes: created.attributes,
        };
        let planned = p.plan(&req(DATA), Some(&prior), &cfg).await.unwrap();
        assert!(planned.changed.is_empty());
        let changed = p
            .plan(
                &req(DATA),
                Some(&prior),
                &Value::from(json!({"input": {"a": 2}})),
            )
            .await
            .unwrap();
        assert_eq!(changed.changed, vec![path("input.a")]);
        assert!(changed.requires_replace.is_empty());
        assert_eq!(
            changed.attributes.get(&path("output.a")),
            Some(Value::from(2))
        );
    }

    #[test]
    fn sleep_validates_durations() {
        let p = CoreProvider::new();
        let bad = p.validate(SLEEP, &Value::from(json!({"create_duration": "soon"})));
        assert_eq!(bad.len(), 1);
        assert!(bad[0].1.contains("not a duration"), "{}", bad[0].1);
        assert!(
            p.validate(SLEEP, &Value::from(json!({"create_duration": "1m30s"})))
                .is_empty()
        );
        assert_eq!(
            p.estimate(SLEEP, &Value::from(json!({"create_duration": "2s"}))),
            Duration::from_secs(2)
        );
        for long in ["500000y", "25h", "2days"] {
            let bad = p.validate(SLEEP, &Value::from(json!({"destroy_duration": long})));
            assert_eq!(bad.len(), 1, "{long}");
            assert!(
                bad[0].1.contains("longer than the longest sleep (1day)"),
                "{}",
                bad[0].1
            );
        }
        assert!(
            p.validate(SLEEP, &Value::from(json!({"create_duration": "24h"})))
                .is_empty()
        );
    }
}
