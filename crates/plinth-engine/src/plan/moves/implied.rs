//! The moves `count` implies (see the parent module): `app` → `app[0]` when `count` was
//! added, `app[0]` → `app` when it was removed.

use plinth_addr::InstanceKey;

use super::Move;
use crate::addr::{Address, DeclKind};
use crate::refresh::Refreshed;
use crate::scope::Expansion;
use crate::tree::ModTree;

/// The moves the configuration implies for what `state` holds, in address order: root
/// records and records inside module instances alike, each judged by the declaration of its
/// own module (`module.app["a"].x` by `x` of `module.app`'s module).
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
