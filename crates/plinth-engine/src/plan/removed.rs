//! `[[removed]]`: what state holds under an address the configuration no longer declares,
//! and what the declaring module says to do with it — delete it (`destroy = true`, the
//! default behaviour made explicit) or forget it (`destroy = false`: state only, the object
//! stays in the cloud). `deletes` asks [`removal`] for every record it would delete.

use plinth_config::RemovedDecl;

use crate::addr::{Address, DeclKind};
use crate::tree::ModTree;

/// The `[[removed]]` block that names the record at `address` (a managed, current object):
/// one of a module whose instance holds it, naming its resource (`legacy`,
/// `module.old.legacy`) or a module call it is under (`module.old`).
pub(super) fn removal<'c>(tree: &ModTree<'c>, address: &Address) -> Option<&'c RemovedDecl> {
    if address.kind != DeclKind::Resource || address.deposed {
        return None;
    }
    for m in &tree.modules {
        if m.config.removed.is_empty() {
            continue;
        }
        let depth = m.path.len();
        let inside = address.module.len() >= depth
            && address
                .module
                .iter()
                .zip(&m.path)
                .all(|(s, n)| &s.name == n);
        if !inside {
            continue;
        }
        let rest: Vec<&str> = address.module[depth..]
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let found = m.config.removed.iter().find(|r| {
            let Ok(from) = r.from.text.parse::<Address>() else {
                return false;
            };
            let calls: Vec<&str> = from.module.iter().map(|s| s.name.as_str()).collect();
            if from.is_module() {
                rest.len() >= calls.len() && rest[..calls.len()] == calls[..]
            } else {
                rest == calls && address.name == from.name
            }
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Why a record a `[[removed]]` block names leaves the plan the way it does.
pub(super) fn reason(r: &RemovedDecl) -> String {
    if r.destroy {
        "removed from the configuration ([[removed]] with destroy = true)".to_string()
    } else {
        format!(
            "removed from the configuration ([[removed]] from = \"{}\" with destroy = false)",
            r.from.text
        )
    }
}
