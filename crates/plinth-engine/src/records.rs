//! How an object a provider created, updated, read or imported is recorded in state: its
//! inputs, its attributes (marked through [`crate::marks`]), the sensitive paths of both, and —
//! for providers whose settings say where objects live — the settings it was reached with.
//! Apply and import record objects through this one function.

use plinth_addr::DeclKind;
use plinth_provider::{Observed, Registry};
use plinth_state::{ResourceState, Status};
use plinth_value::Value;

use crate::marks;

/// What an object is recorded with, besides what the provider observed.
pub(crate) struct Recording<'a> {
    pub address: &'a str,
    pub type_name: &'a str,
    pub mode: DeclKind,
    /// The inputs sent (marked).
    pub inputs: &'a Value,
    /// The provider settings the request carried.
    pub settings: &'a Value,
    pub dependencies: Vec<String>,
}

/// The state record of an object, and its attributes as expressions see them (marked).
pub(crate) fn object_record(
    registry: &Registry,
    r: Recording<'_>,
    obs: Observed,
) -> (ResourceState, Value) {
    let mut attrs = obs.attributes;
    marks::mark_attributes(registry, r.type_name, r.inputs, &mut attrs);
    let record = ResourceState {
        address: r.address.to_string(),
        type_name: r.type_name.to_string(),
        mode: r.mode,
        id: obs.id,
        inputs: r.inputs.to_json(),
        attributes: attrs.to_json(),
        dependencies: r.dependencies,
        sensitive_paths: marks::recorded_paths(r.inputs, &attrs),
        status: Status::Created,
        deposed: false,
        settings: recorded_settings(registry, r.type_name, r.settings),
    };
    (record, attrs)
}

/// The settings to record with an object: only for providers whose settings say where
/// objects live (they name a resource, such as a Kubernetes provider's cluster). No settings
/// table is recorded too (as an empty one): the object lives where the provider's defaults
/// point, and a table added later must not redirect it.
pub(crate) fn recorded_settings(
    registry: &Registry,
    type_name: &str,
    settings: &Value,
) -> Option<serde_json::Value> {
    let (provider, _) = registry.lookup(type_name)?;
    if provider.settings_references().is_empty() {
        return None;
    }
    Some(match settings {
        Value::Null => serde_json::json!({}),
        s => s.to_json(),
    })
}
