//! Sensitive marks across the sides of a change: the attributes an object had before
//! (refreshed, or read for an import) with every path marked sensitive that the plan marks
//! sensitive after the change or in the configuration, so that no rendering shows a secret
//! because one side of a change lost its mark. Uses nothing else of the crate.

use plinth_plan::ResourceChange;
use plinth_value::Value;

/// `c.before`, also marked sensitive wherever `c.after` or `c.config` (at the attribute
/// path of an input path) is.
pub(crate) fn marked_before(c: &ResourceChange) -> Option<Value> {
    let mut before = c.before.clone()?;
    let after_paths = c.after.iter().flat_map(Value::sensitive_paths);
    let config_paths = c
        .config
        .iter()
        .flat_map(Value::sensitive_paths)
        .map(|p| c.attribute_path(&p).clone());
    for p in after_paths.chain(config_paths) {
        if let Some(v) = before.get(&p) {
            before.set(&p, Value::sensitive(v));
        }
    }
    Some(before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_plan::{Action, DeclKind};

    #[test]
    fn a_path_sensitive_after_or_in_the_configuration_is_sensitive_before() {
        let mut c = ResourceChange::new("x", "core:data", DeclKind::Resource, Action::NoOp);
        c.before = Some(Value::from(serde_json::json!({
            "password": "hunter2", "body": {"key": "k3y"}, "name": "x"
        })));
        let mut after = c.before.clone().unwrap();
        after.set(
            &"password".parse().unwrap(),
            Value::sensitive(Value::from("hunter2")),
        );
        c.after = Some(after);
        let mut config = Value::from(serde_json::json!({"name": "x"}));
        config.set(
            &"key".parse().unwrap(),
            Value::sensitive(Value::from("k3y")),
        );
        c.config = Some(config);
        c.attribute_paths = vec![("key".parse().unwrap(), "body.key".parse().unwrap())];
        let b = marked_before(&c).unwrap();
        let shown = b.render();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("k3y"), "{shown}");
        assert!(shown.contains("\"x\""), "{shown}");
    }
}
