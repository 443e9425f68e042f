//! Sensitive marks across a provider's path mapping — the one place that knows about it.
//!
//! A configuration marks its inputs (`body.properties.secret = "${var.pw}"`), but the object a
//! provider reports spells the same value under another path (ARM: `properties.secret`;
//! Kubernetes: `manifest.data.x` is `data.x`). [`Provider::attribute_path`] is that mapping.
//! Every value a provider hands back — a plan's dry-run result, what a create or update
//! observed, what a refresh or import read, a data source — is marked here before anything
//! renders, records or compares it, and every prior object is rebuilt from state here, so
//! that a mark follows its value whichever provider (present or future) made the mapping.

use plinth_provider::{Prior, Provider, Registry, TypeSchema};
use plinth_state::ResourceState;
use plinth_value::{Path, Value};

/// Marks `attributes` of an object of `type_name` (full, with provider prefix) whose inputs
/// are `inputs`: the schema's sensitive paths, and every sensitive input where the provider
/// reports it.
pub fn mark_attributes(
    registry: &Registry,
    type_name: &str,
    inputs: &Value,
    attributes: &mut Value,
) {
    let Some((provider, t)) = registry.lookup(type_name) else {
        return;
    };
    let schema = provider.schema(&t);
    mark_with(&**provider, &t, schema.as_ref(), inputs, attributes);
}

/// [`mark_attributes`] for a caller that already holds the provider, its type and schema.
pub fn mark_with(
    provider: &dyn Provider,
    t: &str,
    schema: Option<&TypeSchema>,
    inputs: &Value,
    attributes: &mut Value,
) {
    let input_marks = inputs.sensitive_paths();
    let schema_marks = schema.map(|s| s.sensitive.as_slice()).unwrap_or_default();
    for p in schema_marks.iter().chain(&input_marks) {
        mark_at(attributes, p);
        if let Some(a) = provider.attribute_path(t, p)
            && a != *p
        {
            mark_at(attributes, &a);
        }
    }
}

/// The sensitive paths to record with an object: those of its (marked) inputs and
/// attributes, each once.
pub fn recorded_paths(inputs: &Value, attributes: &Value) -> Vec<String> {
    let mut out = Vec::new();
    add_paths(&mut out, inputs);
    add_paths(&mut out, attributes);
    out
}

/// Adds the sensitive paths of `value` to `into` (the record of an object seen again).
pub fn add_paths(into: &mut Vec<String>, value: &Value) {
    for p in value.sensitive_paths() {
        let s = p.to_string();
        if !into.contains(&s) {
            into.push(s);
        }
    }
}

/// A prior object as the engine sees it: state's record, with its recorded sensitive paths
/// marked on inputs and attributes, and the attributes marked where the provider reports each
/// sensitive input (states written before marks were mapped recorded input paths only).
pub fn prior(registry: &Registry, r: &ResourceState) -> Prior {
    let sens: Vec<Path> = r
        .sensitive_paths
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    let inputs = Value::from_json_marked(&r.inputs, &sens);
    let mut attributes = Value::from_json_marked(&r.attributes, &sens);
    // The schema's secrets were recorded with the attributes; what may be missing is where
    // a sensitive input is reported (records of releases that did not map marks).
    if !sens.is_empty()
        && let Some((provider, t)) = registry.lookup(&r.type_name)
    {
        mark_with(&**provider, &t, None, &inputs, &mut attributes);
    }
    Prior {
        id: r.id.clone(),
        inputs,
        attributes,
    }
}

/// The value expressions see for a record: its attributes (marked as [`prior`] marks them),
/// with its id.
pub(crate) fn record_value(registry: &Registry, r: &ResourceState) -> Value {
    let mut v = prior(registry, r).attributes;
    if !matches!(v, Value::Map(_)) {
        v = Value::Map(Default::default());
    }
    if let Some(id) = &r.id
        && v.get(&Path::root().key("id"))
            .is_none_or(|x| matches!(x, Value::Null))
    {
        v.set(&Path::root().key("id"), Value::from(id.as_str()));
    }
    v
}

fn mark_at(v: &mut Value, p: &Path) {
    if let Some(inner) = v.get(p)
        && !inner.is_sensitive()
    {
        v.set(p, Value::sensitive(inner));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_provider::{Observed, ProviderError, Request};
    use std::sync::Arc;

    /// A provider that reports input `body.x` at attribute `x`.
    struct Mapping;

    #[async_trait::async_trait]
    impl Provider for Mapping {
        fn name(&self) -> &str {
            "m"
        }
        fn type_names(&self) -> Vec<String> {
            vec!["t".into()]
        }
        fn schema(&self, _: &str) -> Option<TypeSchema> {
            Some(TypeSchema {
                sensitive: vec!["body.key".parse().unwrap()],
                ..Default::default()
            })
        }
        async fn read(
            &self,
            _: &Request<'_>,
            _: &Prior,
        ) -> Result<Option<Observed>, ProviderError> {
            unreachable!()
        }
        async fn create(&self, _: &Request<'_>, _: &Value) -> Result<Observed, ProviderError> {
            unreachable!()
        }
        async fn update(
            &self,
            _: &Request<'_>,
            _: &Prior,
            _: &Value,
        ) -> Result<Observed, ProviderError> {
            unreachable!()
        }
        async fn delete(&self, _: &Request<'_>, _: &Prior) -> Result<(), ProviderError> {
            unreachable!()
        }
        fn attribute_path(&self, _: &str, p: &Path) -> Option<Path> {
            let (first, rest) = p.segments().split_first()?;
            (*first == plinth_value::PathSeg::Key("body".into()))
                .then(|| Path::from_segments(rest.to_vec()))
        }
    }

    fn registry() -> Registry {
        let mut r = Registry::default();
        r.register(Arc::new(Mapping));
        r
    }

    fn json(v: serde_json::Value) -> Value {
        Value::from(v)
    }

    #[test]
    fn a_sensitive_input_marks_the_attribute_it_is_reported_at() {
        let mut inputs = json(serde_json::json!({"body": {"pw": "x", "plain": "y"}}));
        inputs.set(
            &"body.pw".parse().unwrap(),
            Value::sensitive(Value::from("hunter2")),
        );
        let mut attrs = json(serde_json::json!({"pw": "hunter2", "plain": "y", "key": "k"}));
        mark_attributes(&registry(), "m:t", &inputs, &mut attrs);
        assert!(attrs.get(&"pw".parse().unwrap()).unwrap().is_sensitive());
        assert!(!attrs.get(&"plain".parse().unwrap()).unwrap().is_sensitive());
        // The schema's own secret, declared as an input path, is marked where it is reported.
        assert!(attrs.get(&"key".parse().unwrap()).unwrap().is_sensitive());
        assert!(!attrs.render().contains("hunter2"));
    }

    #[test]
    fn a_record_of_the_old_format_is_marked_through_the_mapping() {
        // Written before marks were mapped: only the input path was recorded.
        let r = ResourceState {
            address: "a".into(),
            type_name: "m:t".into(),
            mode: plinth_state::DeclKind::Resource,
            id: None,
            inputs: serde_json::json!({"body": {"pw": "hunter2"}}),
            attributes: serde_json::json!({"pw": "hunter2"}),
            dependencies: vec![],
            sensitive_paths: vec!["body.pw".into()],
            status: plinth_state::Status::Created,
            deposed: false,
            settings: None,
        };
        let p = prior(&registry(), &r);
        assert!(
            p.attributes
                .get(&"pw".parse().unwrap())
                .unwrap()
                .is_sensitive()
        );
        let recorded = recorded_paths(&p.inputs, &p.attributes);
        assert_eq!(recorded, vec!["body.pw".to_string(), "pw".to_string()]);
    }
}
