//! `[[moved]]` and `[[removed]]` blocks of one module that contradict each other: two moves
//! to one address (which object would it be?), and an address both moved and removed (kept
//! at its new address, or no longer managed?). Both are errors in Terraform too.

use std::collections::HashMap;

use plinth_config::{AddrRef, Config, Diagnostic, Diagnostics};

use super::{parse, within};
use crate::addr::Address;

/// Reports the contradictions among the blocks of `config` (one module).
pub(super) fn check(d: &mut Diagnostics, config: &Config) {
    let moves: Vec<(&AddrRef, Address, &AddrRef, Address)> = config
        .moved
        .iter()
        .filter_map(|m| Some((&m.from, parse(&m.from)?, &m.to, parse(&m.to)?)))
        .filter(|(_, from, _, to)| from != to)
        .collect();
    let mut by_to: HashMap<&Address, &Address> = HashMap::new();
    for (_, from, to_ref, to) in &moves {
        let Some(first_from) = by_to.get(to) else {
            by_to.insert(to, from);
            continue;
        };
        if *first_from == from {
            continue; // the same move twice: reported as a `from` moved twice
        }
        let first = config
            .moved
            .iter()
            .find(|m| parse(&m.to).as_ref() == Some(to))
            .map(|m| m.to.loc.clone());
        let mut diag = Diagnostic::at(
            format!("two [[moved]] blocks move to `{to}`: from `{first_from}` and from `{from}`"),
            to_ref.loc.clone(),
        )
        .label("second move to this address");
        if let Some(first) = first {
            diag = diag.related(first, "first moved here");
        }
        d.push(diag.help(format!(
            "an address has one old address: remove one of the moved blocks (to keep both objects, move the other to an address of its own, or forget it with [[removed]] from = \"{from}\" and destroy = false)"
        )));
    }
    for r in &config.removed {
        let Some(removed) = parse(&r.from) else {
            continue;
        };
        let Some((from_ref, from, _, to)) = moves.iter().find(|(_, from, _, _)| {
            *from == removed || within(from, &removed) || within(&removed, from)
        }) else {
            continue;
        };
        let message = if *from == removed {
            format!("`{removed}` is both moved (to `{to}`) and removed")
        } else {
            format!("`{removed}` is removed, and a [[moved]] block moves `{from}` (to `{to}`)")
        };
        d.push(
            Diagnostic::at(message, r.from.loc.clone())
                .label("removed here")
                .related(from_ref.loc.clone(), "moved here")
                .help(format!(
                    "keep the moved block to keep managing the object at `{to}`, or the removed block to stop managing it (and delete the moved block)"
                )),
        );
    }
}
