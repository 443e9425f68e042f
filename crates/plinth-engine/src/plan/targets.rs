//! `--target` and `--replace`: the addresses they name must exist (with a key only where
//! the declaration has `for_each` or `count`, of the kind it makes), and a targeted plan keeps
//! the targets and what they need.

use std::collections::HashSet;

use plinth_config::{Config, Diagnostic, Diagnostics};
use plinth_plan::{Action, ResourceChange};
use plinth_state::State;

use crate::addr::{Address, DeclKind};

pub(super) fn check_addresses(
    config: &Config,
    addrs: &[Address],
    flag: &str,
    state: Option<&State>,
    diags: &mut Diagnostics,
) {
    let tree = crate::tree::ModTree::new(config);
    for a in addrs {
        if !a.module.is_empty() {
            // In a module: the module (and the declaration in it) must be in the
            // configuration, or the address in state.
            let known = tree.of_instance(&a.module).is_some_and(|m| {
                let c = tree.get(m).config;
                a.is_module()
                    || match a.kind {
                        DeclKind::Resource | DeclKind::Data => {
                            c.resource(a.kind, &a.name).is_some()
                        }
                        DeclKind::Action => c.actions.iter().any(|x| x.name == a.name),
                        _ => false,
                    }
            }) || state.is_some_and(|s| {
                s.resources
                    .keys()
                    .any(|k| k.parse::<Address>().is_ok_and(|x| a.matches(&x)))
            });
            if !known {
                diags.push(
                    Diagnostic::new(format!("{flag} {a}: no such module or declaration in the configuration"))
                        .help("module addresses look like module.app[\"orders\"], module.app or module.app[\"orders\"].mi"),
                );
            }
            continue;
        }
        let exists = match a.kind {
            DeclKind::Resource => config.resource(DeclKind::Resource, &a.name).is_some(),
            DeclKind::Data => config.resource(DeclKind::Data, &a.name).is_some(),
            DeclKind::Action => config.actions.iter().any(|x| x.name == a.name),
            DeclKind::Output | DeclKind::Provider | DeclKind::Local => false,
        } || state.is_some_and(|s| {
            s.resources
                .keys()
                .any(|k| k.parse::<Address>().is_ok_and(|x| x.decl() == a.decl()))
        });
        // An instance key must fit the declaration: `a["x"]` names nothing when `a` has no
        // for_each, `a[0]` nothing when it has no count (and `a` alone names every instance
        // of one that has).
        let expansion = match a.kind {
            DeclKind::Resource | DeclKind::Data => config
                .resource(a.kind, &a.name)
                .map(crate::scope::Expansion::of),
            _ => None,
        };
        let in_state =
            |addr: &Address| state.is_some_and(|s| s.resources.contains_key(&addr.to_string()));
        if let (true, Some(key), Some(expansion)) = (exists, &a.key, expansion)
            && expansion.map(|e| e.name()) != Some(key.meta_argument())
            && !in_state(a)
        {
            let has = match expansion {
                Some(e) => format!("has {}, not {}", e.name(), key.meta_argument()),
                None => format!("has no {}", key.meta_argument()),
            };
            diags.push(
                Diagnostic::new(format!(
                    "{flag} {a}: `{}` {has}, so it has no instance {a}",
                    a.decl_text()
                ))
                .help(format!("use {flag} {} without a key", a.decl_text())),
            );
            continue;
        }
        if !exists {
            let names: Vec<String> = config.resources.iter().map(|r| r.address()).collect();
            diags.push(
                Diagnostic::new(format!("{flag} {a}: no such resource in the configuration"))
                    .maybe_help(
                        plinth_config::did_you_mean(
                            &a.decl_text(),
                            names.iter().map(String::as_str),
                        )
                        .map(|s| format!("did you mean `{s}`?")),
                    ),
            );
        }
    }
}

/// Addresses kept by `--target`: the targeted instances (every instance of a declaration
/// when the target has no key) and what they depend on; for destroy, the targets and what
/// depends on them. Works on the changes' instance-level `depends_on` (for deletes: the
/// dependencies recorded in state), so a single instance can be targeted without its
/// siblings, and a target may be an address that is only in state.
pub(super) fn targeted(
    changes: &[ResourceChange],
    targets: &[Address],
    destroy: bool,
) -> HashSet<String> {
    // A target without key names every instance; `x (deposed)` belongs to `x`.
    let hits = |t: &Address, address: &str| address.parse::<Address>().is_ok_and(|a| t.matches(&a));
    let deletes: HashSet<&str> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.as_str())
        .collect();
    let mut keep: HashSet<String> = changes
        .iter()
        .filter(|c| targets.iter().any(|t| hits(t, &c.address)))
        .map(|c| c.address.clone())
        .collect();
    loop {
        let before = keep.len();
        for c in changes {
            if keep.contains(&c.address) {
                if !destroy && c.action != Action::Delete {
                    // What a kept change needs.
                    keep.extend(c.depends_on.iter().cloned());
                }
            } else if c.depends_on.iter().any(|d| {
                // For destroy, whatever depends on a kept object goes with it; otherwise a
                // delete of something that depends on a kept delete must go first.
                keep.contains(d)
                    && (destroy || (c.action == Action::Delete && deletes.contains(d.as_str())))
            }) {
                keep.insert(c.address.clone());
            }
        }
        if keep.len() == before {
            return keep;
        }
    }
}
