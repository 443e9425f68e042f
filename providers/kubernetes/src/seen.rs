//! What this run's reads saw: for each object read (refresh, existence checks), through
//! which settings and with which `metadata.uid`. A plan may leave out the server-side dry run
//! of an unchanged object only when this run read that very object where the plan's settings
//! point now (see `plan::dry_run_can_only_agree`): state's record of an object is read
//! through the settings recorded with it, which may no longer be the plan's.

use std::collections::HashMap;
use std::sync::Mutex;

use plinth_provider::Observed;
use plinth_value::Value;

use crate::connection::settings_key;
use crate::manifest::p;

/// The reads of one run: `(settings key, object id)` → the uid read.
#[derive(Default)]
pub(crate) struct Seen(Mutex<HashMap<(String, String), String>>);

impl Seen {
    /// Records what a read through `settings` answered for the object `id`.
    pub(crate) fn record(&self, settings: &Value, id: &str, read: Option<&Observed>) {
        let key = (settings_key(settings), id.to_string());
        let uid = read.and_then(|o| uid_of(&o.attributes));
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match uid {
            Some(uid) => seen.insert(key, uid),
            None => seen.remove(&key),
        };
    }

    /// Whether this run read the object `id` through `settings` and found the uid `uid`.
    pub(crate) fn read_as(&self, settings: &Value, id: &str, uid: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(settings_key(settings), id.to_string()))
            .is_some_and(|u| u == uid)
    }
}

/// An object's `metadata.uid`, when it has one.
pub(crate) fn uid_of(attributes: &Value) -> Option<String> {
    attributes
        .get(&p("metadata.uid"))
        .and_then(|u| u.unmark_all().as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_read_counts_only_through_the_same_settings_and_for_the_same_uid() {
        let seen = Seen::default();
        let a = Value::from(json!({"cluster": "/a"}));
        let b = Value::from(json!({"cluster": "/b"}));
        let read = Observed {
            id: Some("v1/ConfigMap/default/c".into()),
            attributes: Value::from(json!({"metadata": {"uid": "u-1"}})),
        };
        seen.record(&a, "v1/ConfigMap/default/c", Some(&read));
        assert!(seen.read_as(&a, "v1/ConfigMap/default/c", "u-1"));
        assert!(!seen.read_as(&a, "v1/ConfigMap/default/c", "u-2"));
        assert!(!seen.read_as(&b, "v1/ConfigMap/default/c", "u-1"));
        assert!(!seen.read_as(&a, "v1/ConfigMap/default/d", "u-1"));
        // Read again and gone: no longer seen.
        seen.record(&a, "v1/ConfigMap/default/c", None);
        assert!(!seen.read_as(&a, "v1/ConfigMap/default/c", "u-1"));
    }
}
