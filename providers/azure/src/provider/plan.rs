//! Planning an Azure resource: the configuration in attribute shape compared with the object
//! ARM returned, with ARM's normalisation ([`ArmEq`]), over only what the user set. A
//! write-only value equal to what was last applied is no change; a key the last apply set
//! and the configuration dropped is one; `name`, `parent` and curated create-only paths
//! replace the object. Pure: the object arrives refreshed.

use plinth_provider::diff;
use plinth_provider::{Planned, Prior, ProviderError, TypeSchema};
use plinth_value::{Path, Value};

use super::equivalence::ArmEq;
use super::shape::{Field, desired, field, id_of, new_object, p, to_attr, to_input};
use crate::types::{self, ArmType};

/// Deep equality without marks (numbers by value).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    diff::changed_paths(a, b, &diff::ExactEq).is_empty()
        && diff::changed_paths(b, a, &diff::ExactEq).is_empty()
}

/// Input paths under `tags` and `body` that the last applied inputs set and `config` no
/// longer does (removals).
pub(crate) fn removed_paths(prior_inputs: &Value, config: &Value) -> Vec<Path> {
    fn walk(before: &Value, now: Option<&Value>, at: &Path, out: &mut Vec<Path>) {
        match (before.unmarked(), now.map(Value::unmarked)) {
            (_, None) => out.push(at.clone()),
            (Value::Map(b), Some(Value::Map(n))) => {
                for (k, bv) in b {
                    walk(bv, n.get(k), &at.key(k), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for top in ["tags", "body"] {
        if let Some(before) = prior_inputs.get(&p(top)) {
            match config.get(&p(top)) {
                Some(now) => walk(&before, Some(&now), &p(top), &mut out),
                None => {
                    if let Value::Map(b) = before.unmarked() {
                        for k in b.keys() {
                            out.push(p(top).key(k));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Plans `config` of type `t` on `prior` (as refreshed); `subscription` completes ids, the
/// cloud's Service Bus suffix a namespace's endpoint.
pub(crate) fn plan(
    t: &ArmType,
    schema: &TypeSchema,
    subscription: Option<&str>,
    service_bus_suffix: Option<&str>,
    prior: Option<&Prior>,
    config: &Value,
) -> Result<Planned, ProviderError> {
    if config.get(&p("id")).is_some() {
        return Err(ProviderError::new(
            "`id` is only for data sources ([data.NAME]); a managed resource is named by `parent` and `name`",
        ));
    }
    let desired = desired(t, config)?;
    let Some(prior) = prior else {
        return Ok(Planned {
            attributes: new_object(
                t,
                schema,
                config,
                &desired,
                subscription,
                service_bus_suffix,
            )?,
            changed: Vec::new(),
            requires_replace: Vec::new(),
        });
    };
    let actual = &prior.attributes;
    let mut compare = desired.clone();
    compare.remove(&p("name"));
    let mut changed: Vec<Path> = Vec::new();
    for attr_path in diff::changed_paths(&compare, actual, &ArmEq) {
        let input_path = to_input(&attr_path);
        // A field ARM never returns (write-only, e.g. a secret) is unchanged when it is
        // what was last applied.
        if actual.get(&attr_path).is_none()
            && let (Some(now), Some(before)) =
                (config.get(&input_path), prior.inputs.get(&input_path))
            && now.is_wholly_known()
            && same(&now, &before)
        {
            continue;
        }
        changed.push(input_path);
    }
    // Paths the last apply set that the configuration dropped, still on the object.
    let mut dropped = Vec::new();
    for input_path in removed_paths(&prior.inputs, config) {
        if let Some(attr_path) = to_attr(&input_path)
            && actual
                .get(&attr_path)
                .is_some_and(|v| !matches!(v, Value::Null))
        {
            dropped.push(attr_path);
            changed.push(input_path);
        }
    }
    // Name and parent: the id they make against the object's.
    if let Some(prior_id) = &prior.id {
        let same_name = match (desired.get(&p("name")), actual.get(&p("name"))) {
            (Some(Value::String(a)), Some(Value::String(b))) => a.eq_ignore_ascii_case(&b),
            (Some(Value::String(a)), _) => prior_id
                .rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(&a)),
            _ => false,
        };
        if !same_name {
            changed.push(p("name"));
        }
        match field(config, "parent") {
            Field::Unknown => changed.push(p("parent")),
            Field::Known(parent) => {
                let was = types::parent_of(prior_id, t);
                if !parent
                    .trim_end_matches('/')
                    .eq_ignore_ascii_case(was.trim_end_matches('/'))
                {
                    changed.push(p("parent"));
                }
            }
            Field::Absent => {
                if let Ok(Some(id)) = id_of(t, config, subscription)
                    && same_name
                    && !id.eq_ignore_ascii_case(prior_id)
                {
                    changed.push(p("parent"));
                }
            }
        }
    }
    let requires_replace: Vec<Path> = changed
        .iter()
        .filter(|c| schema.force_new.iter().any(|f| c.overlaps(f)))
        .cloned()
        .collect();
    let attributes = if requires_replace.is_empty() {
        let mut a = diff::overlay(actual, &desired);
        for d in &dropped {
            a.remove(d);
        }
        diff::mark_sensitive(schema, &mut a);
        a
    } else {
        new_object(
            t,
            schema,
            config,
            &desired,
            subscription,
            service_bus_suffix,
        )?
    };
    Ok(Planned {
        attributes,
        changed,
        requires_replace,
    })
}
