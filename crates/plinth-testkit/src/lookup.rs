//! Small lookups that tests make over and over: a `Path` from text, the action planned for
//! an address, the id state recorded for one. They panic with what they looked in, so a
//! failing test says why.

use plinth_plan::{Action, Plan};
use plinth_state::State;
use plinth_value::Path;

/// Parses a value path (`properties.list[0].x`); panics on a malformed one.
pub fn path(s: &str) -> Path {
    s.parse().expect("path")
}

/// Action of `address` in `plan`; panics, listing the plan's addresses, when it has none.
pub fn action(plan: &Plan, address: &str) -> Action {
    plan.change(address)
        .unwrap_or_else(|| {
            panic!(
                "no change for {address} in {:?}",
                plan.changes.iter().map(|c| &c.address).collect::<Vec<_>>()
            )
        })
        .action
}

/// The `id` recorded in state for `address`.
pub fn state_id(state: &State, address: &str) -> Option<String> {
    state.resources.get(address).and_then(|r| r.id.clone())
}
