//! The values of what state records, as expressions see them (sensitive attributes marked),
//! in every module instance: what the console evaluates against, and what `import` evaluates
//! a module call's provider settings with.

use plinth_provider::Registry;
use plinth_state::{ResourceState, Status};

use crate::addr::{Address, DeclKind};
use crate::marks::record_value;
use crate::scope::Values;

/// The values of every managed resource and data source in `resources` (deposed objects
/// left out). A create still pending may not have recorded what the object reports: an
/// attribute it lacks is known after apply, not missing.
pub(crate) fn state_values<'r>(
    registry: &Registry,
    resources: impl Iterator<Item = &'r ResourceState>,
) -> Values {
    let mut values = Values::default();
    for record in resources {
        if record.deposed {
            continue;
        }
        let Ok(addr) = record.address.parse::<Address>() else {
            continue;
        };
        if !matches!(addr.kind, DeclKind::Resource | DeclKind::Data) {
            continue;
        }
        let complete = record.status != Status::PendingCreate;
        values.set(&addr, record_value(registry, record), complete);
    }
    values
}
