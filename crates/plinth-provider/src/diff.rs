//! The default diff: only the paths the user set are compared (SPEC §3).
//!
//! A map in the configuration is compared key by key for the keys it has: keys the service
//! added are never a diff. Lists are compared by length and element by element. Scalars are
//! compared by an [`Equivalence`], which is where a provider puts its normalisation (ARM
//! compares resource ids and locations case-insensitively).

use plinth_value::{Map, Path, Value};

use crate::{Planned, Prior, TypeSchema};

/// Decides whether a configured scalar equals the object's.
pub trait Equivalence: Sync {
    /// True when `configured` (the value the user set at input `path`) and `actual` (the
    /// object's value there) are the same for this service. Both may carry marks.
    fn equal(&self, path: &Path, configured: &Value, actual: &Value) -> bool;
}

/// Equality of values, numbers compared by value (`1` equals `1.0`).
pub struct ExactEq;

impl Equivalence for ExactEq {
    fn equal(&self, _path: &Path, configured: &Value, actual: &Value) -> bool {
        scalar_eq(configured, actual)
    }
}

/// Plain equality of scalars; numbers by value.
pub fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a.unmarked(), b.unmarked()) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (x, y) => x.unmark_all() == y.unmark_all(),
    }
}

/// Paths at which `configured` differs from `actual`, comparing only what `configured` sets.
/// An unknown configured value counts as a difference (it may change).
pub fn changed_paths(configured: &Value, actual: &Value, eq: &dyn Equivalence) -> Vec<Path> {
    let mut out = Vec::new();
    walk(configured, Some(actual), &Path::root(), eq, &mut out);
    out
}

fn walk(c: &Value, a: Option<&Value>, at: &Path, eq: &dyn Equivalence, out: &mut Vec<Path>) {
    let c = c.unmarked();
    let a = a.map(Value::unmarked);
    match (c, a) {
        (Value::Unknown, _) => out.push(at.clone()),
        (_, None) => {
            // The user set something the object does not have. A null the user wrote
            // equals absence.
            if !matches!(c, Value::Null) {
                out.push(at.clone());
            }
        }
        (Value::Map(cm), Some(Value::Map(am))) => {
            for (k, cv) in cm {
                walk(cv, am.get(k), &at.key(k), eq, out);
            }
        }
        (Value::List(cl), Some(Value::List(al))) => {
            if cl.len() != al.len() {
                out.push(at.clone());
            } else {
                for (i, (cv, av)) in cl.iter().zip(al).enumerate() {
                    walk(cv, Some(av), &at.index(i), eq, out);
                }
            }
        }
        (Value::Map(_) | Value::List(_), Some(_)) | (_, Some(Value::Map(_) | Value::List(_))) => {
            out.push(at.clone())
        }
        (_, Some(av)) => {
            if !eq.equal(at, c, av) {
                out.push(at.clone());
            }
        }
    }
}

/// Deep-merges `overlay` onto `base`: maps merge key by key, everything else is replaced.
pub fn overlay(base: &Value, overlay: &Value) -> Value {
    match (base.unmarked(), overlay) {
        (Value::Map(bm), Value::Map(om)) => {
            let mut out: Map = bm.clone();
            for (k, ov) in om {
                let merged = match bm.get(k) {
                    Some(bv) => self::overlay(bv, ov),
                    None => ov.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Map(out)
        }
        _ => overlay.clone(),
    }
}

/// The attributes of a new object: the configuration, with computed paths unknown.
pub fn new_object(schema: &TypeSchema, config: &Value) -> Value {
    let mut attrs = config.clone();
    for p in &schema.computed {
        if config.get(p).is_none() {
            attrs.set(p, Value::Unknown);
        }
    }
    mark_sensitive(schema, &mut attrs);
    attrs
}

/// Marks the schema's sensitive paths in `v`.
pub fn mark_sensitive(schema: &TypeSchema, v: &mut Value) {
    for p in &schema.sensitive {
        if let Some(inner) = v.get(p)
            && !inner.is_sensitive()
        {
            v.set(p, Value::sensitive(inner));
        }
    }
}

/// The default [`crate::Provider::plan`].
pub fn plan_default(
    schema: &TypeSchema,
    prior: Option<&Prior>,
    config: &Value,
    eq: &dyn Equivalence,
) -> Planned {
    let Some(prior) = prior else {
        return Planned {
            attributes: new_object(schema, config),
            changed: Vec::new(),
            requires_replace: Vec::new(),
        };
    };
    let changed = changed_paths(config, &prior.attributes, eq);
    let requires_replace: Vec<Path> = changed
        .iter()
        .filter(|p| schema.force_new.iter().any(|f| p.overlaps(f)))
        .cloned()
        .collect();
    let attributes = if requires_replace.is_empty() {
        let mut a = overlay(&prior.attributes, config);
        mark_sensitive(schema, &mut a);
        a
    } else {
        new_object(schema, config)
    };
    Planned {
        attributes,
        changed,
        requires_replace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn service_added_fields_are_not_a_diff() {
        let cfg = v(json!({"properties": {"a": 1}}));
        let actual =
            v(json!({"properties": {"a": 1.0, "provisioningState": "Succeeded"}, "id": "/x"}));
        assert!(changed_paths(&cfg, &actual, &ExactEq).is_empty());
    }

    #[test]
    fn changes_are_reported_at_the_deepest_path() {
        let cfg = v(json!({"properties": {"a": 2, "list": [1, 2]}}));
        let actual = v(json!({"properties": {"a": 1, "list": [1, 2, 3]}}));
        let paths: Vec<String> = changed_paths(&cfg, &actual, &ExactEq)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(paths, vec!["properties.a", "properties.list"]);
    }

    #[test]
    fn force_new_paths_require_replacement() {
        let schema = TypeSchema {
            force_new: vec!["triggers".parse().unwrap()],
            computed: vec!["id".parse().unwrap()],
            ..Default::default()
        };
        let prior = Prior {
            id: Some("1".into()),
            inputs: v(json!({"triggers": {"k": "a"}})),
            attributes: v(json!({"triggers": {"k": "a"}, "id": "1"})),
        };
        let planned = plan_default(
            &schema,
            Some(&prior),
            &v(json!({"triggers": {"k": "b"}})),
            &ExactEq,
        );
        assert_eq!(
            planned.requires_replace,
            vec!["triggers.k".parse().unwrap()]
        );
        assert_eq!(
            planned.attributes.get(&"id".parse().unwrap()),
            Some(Value::Unknown)
        );
        let same = plan_default(
            &schema,
            Some(&prior),
            &v(json!({"triggers": {"k": "a"}})),
            &ExactEq,
        );
        assert!(same.changed.is_empty());
        assert_eq!(
            same.attributes.get(&"id".parse().unwrap()),
            Some(Value::from("1"))
        );
    }

    #[test]
    fn unknown_config_is_a_change() {
        let mut cfg = v(json!({"a": null}));
        cfg.set(&"a".parse().unwrap(), Value::Unknown);
        assert_eq!(changed_paths(&cfg, &v(json!({"a": 1})), &ExactEq).len(), 1);
    }
}
