//! A declaration's inputs as the engine hands them to a provider: the type's schema, and
//! `ignore_changes` applied against the prior object. Shared by planning and applying.

use plinth_provider::{Prior, Registry, TypeSchema};
use plinth_value::{Path, Value};

/// The type schema of a full type name.
pub(crate) fn schema_of(registry: &Registry, full_type: &str) -> Option<TypeSchema> {
    let (p, t) = registry.lookup(full_type)?;
    p.schema(&t)
}

/// `ignore_changes`: the configuration takes the object's value at each ignored path. The
/// object as it is (refreshed, at the provider's attribute path) wins over the inputs last
/// applied, so a value changed outside plinth at an ignored path is kept, not reverted; the
/// inputs are the fallback for paths the attributes do not mirror.
pub(crate) fn restore_ignored(
    config: &mut Value,
    prior: &Prior,
    ignored: &[(Path, plinth_config::Loc)],
    attribute_path: impl Fn(&Path) -> Option<Path>,
) {
    for (path, _) in ignored {
        let old = attribute_path(path)
            .and_then(|a| prior.attributes.get(&a))
            .or_else(|| {
                (prior.inputs.is_wholly_known() && !matches!(prior.inputs, Value::Null))
                    .then(|| prior.inputs.get(path))
                    .flatten()
            });
        match old {
            Some(v) => config.set(path, v),
            None => {
                config.remove(path);
            }
        }
    }
}
