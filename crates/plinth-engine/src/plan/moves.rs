//! Moves: records that the configuration now knows under another address are renamed in the
//! refreshed view before any resource is planned, so that the object is kept (its normal diff
//! then applies at the new address) instead of being deleted and created again.
//!
//! Today the only moves are the ones the configuration implies, as Terraform's (in the root
//! and inside every module instance):
//! - `count` added to a resource that had none: state's `app` becomes `app[0]`, when state
//!   has no `app[0]`;
//! - `count` removed (and no `for_each`): state's `app[0]` becomes `app`, when state has no
//!   `app`; the other instances (`app[1]`, ...) are deleted as usual.
//!
//! `for_each` implies no move (which key would the object take?), data sources are read again
//! anyway, and a deposed object never moves. Explicit `moved` declarations would feed the same
//! [`Move`] list. The plan carries each move on the change at the new address
//! (`ResourceChange::moved_from`); apply renames the record before anything else uses it.

use plinth_addr::InstanceKey;

use crate::addr::{Address, DeclKind};
use crate::refresh::Refreshed;
use crate::scope::Expansion;
use crate::tree::ModTree;

/// One record renamed: the object state knows at `from` is the one the configuration
/// declares at `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Move {
    pub(super) from: Address,
    pub(super) to: Address,
}

/// The moves the configuration implies for what `state` holds (see the module's comment),
/// in address order: root records and records inside module instances alike, each judged by
/// the declaration of its own module (`module.app["a"].x` by `x` of `module.app`'s module).
pub(super) fn implied(tree: &ModTree<'_>, state: &Refreshed<'_>) -> Vec<Move> {
    let mut out = Vec::new();
    for (address, r) in state.resources() {
        if r.mode != DeclKind::Resource || r.deposed {
            continue;
        }
        let Ok(from) = address.parse::<Address>() else {
            continue;
        };
        let Some(m) = tree.of_instance(&from.module) else {
            continue;
        };
        let Some(decl) = tree.get(m).config.resource(DeclKind::Resource, &from.name) else {
            continue;
        };
        let to = match (Expansion::of(decl), &from.key) {
            (Some(Expansion::Count), None) => from.with_key(Some(InstanceKey::Int(0))),
            (None, Some(InstanceKey::Int(0))) => from.with_key(None),
            _ => continue,
        };
        if state.get(&to.to_string()).is_none() {
            out.push(Move { from, to });
        }
    }
    out
}

/// Renames the records of `moves` in the refreshed view; returns the moves that took place
/// (a move whose source is gone or whose destination is taken by then is left out).
pub(super) fn rename(state: &mut Refreshed<'_>, moves: Vec<Move>) -> Vec<Move> {
    moves
        .into_iter()
        .filter(|m| state.rename(&m.from.to_string(), &m.to.to_string()))
        .collect()
}
