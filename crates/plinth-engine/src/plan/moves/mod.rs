//! Moves: records that the configuration now knows under another address are renamed in the
//! refreshed view before any resource is planned, so that the object is kept (its normal diff
//! then applies at the new address) instead of being deleted and created again.
//!
//! Two sources, resolved in this order (`resolve`):
//! - `explicit`: the `[[moved]]` blocks of every module, in each instance of the declaring
//!   module that state holds, in Terraform's order (a move whose `from` is another's `to`
//!   comes after it, so `a` → `b`, `b` → `c` takes `a` to `c`). A whole resource carries
//!   every instance key, a module call or instance everything under it. A move whose `from`
//!   state does not hold is a no-op; one whose destination state already holds is an error.
//! - `implied`: the moves the configuration implies, as Terraform's (in the root and inside
//!   every module instance), for declarations no explicit move names: `count` added to a
//!   resource that had none (`app` becomes `app[0]`, when state has no `app[0]`); `count`
//!   removed, no `for_each` (`app[0]` becomes `app`, when state has no `app`; `app[1]`, ...
//!   are deleted as usual). `for_each` implies no move (which key would the object take?),
//!   data sources are read again anyway, and a deposed object never moves implicitly.
//!
//! The plan carries each move (composed along a chain: original address → final one) on the
//! change at the new address (`ResourceChange::moved_from`); apply renames the record before
//! anything else uses it.

use std::collections::HashSet;

use plinth_config::Diagnostics;

use crate::addr::Address;
use crate::refresh::Refreshed;
use crate::tree::ModTree;

mod after;
mod explicit;
mod implied;

pub(super) use after::{onto_unmade, still_declared};

/// One record renamed: the object state knows at `from` is the one the configuration
/// declares at `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Move {
    pub(super) from: Address,
    pub(super) to: Address,
}

/// Every move of this plan, explicit then implied, renamed in `state`; an explicit move that
/// cannot be made (its destination is taken, or holds another type) is an error.
pub(super) fn resolve(
    tree: &ModTree<'_>,
    state: &mut Refreshed<'_>,
) -> Result<Vec<Move>, Diagnostics> {
    let explicit::Resolved { mut moves, named } = explicit::resolve(tree, state)?;
    let implied: Vec<Move> = implied::implied(tree, state)
        .into_iter()
        .filter(|m| !named.contains(&m.from.decl()) && !named.contains(&m.to.decl()))
        .collect();
    moves.extend(rename(state, implied));
    Ok(moves)
}

/// `targets` (of `--target`) with the new address of every object they name by its old
/// one (`--target mi` after `mi` moved to `identity` targets `identity`): a target is
/// checked against state as well as the configuration, so the old address is accepted,
/// and it must not plan nothing.
pub(super) fn retarget(targets: &[Address], moves: &[Move]) -> Vec<Address> {
    let mut out = targets.to_vec();
    for m in moves {
        if targets.iter().any(|t| t.matches(&m.from)) && !out.contains(&m.to) {
            out.push(m.to.clone());
        }
    }
    out
}

/// Renames the records of `moves` in the refreshed view; returns the moves that took place
/// (a move whose source is gone or whose destination is taken by then is left out).
fn rename(state: &mut Refreshed<'_>, moves: Vec<Move>) -> Vec<Move> {
    moves
        .into_iter()
        .filter(|m| state.rename(&m.from.to_string(), &m.to.to_string()))
        .collect()
}

/// Declarations (absolute, without key: `module.app["a"].mi`) named by a resolved explicit
/// move, which implied moves leave alone.
type Named = HashSet<Address>;
