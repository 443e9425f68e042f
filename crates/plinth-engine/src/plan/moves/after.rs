//! Checks of the `[[moved]]` blocks that need the planned instances (what each
//! `count`/`for_each` makes, known only once the walk evaluated them): a move from an
//! instance the configuration still makes, and a move onto an instance it does not make
//! (the object would be moved there only to be destroyed: a key typed wrong, usually).

use std::collections::HashSet;

use plinth_addr::{InstanceKey, ModuleStep};
use plinth_config::{Diagnostic, Diagnostics};

use super::Move;
use super::explicit::{instance_of, join, statements};
use crate::addr::Address;
use crate::tree::ModTree;
use crate::validate::refactor::Endpoint;

/// After planning: a move from an instance the configuration still makes (a key its
/// `count`/`for_each` still produces, in an instance of the declaring module `instances`
/// holds) is an error, as a `from` that is still declared is at validation.
pub(in crate::plan) fn still_declared(
    tree: &ModTree<'_>,
    instances: &[Vec<Vec<ModuleStep>>],
    produced: &HashSet<String>,
    diags: &mut Diagnostics,
) {
    for s in statements(tree) {
        let keyed = match s.kind {
            Endpoint::ResourceInstance => s.from.key.is_some(),
            Endpoint::ModuleInstance => s.from.module.last().is_some_and(|l| l.key.is_some()),
            _ => false,
        };
        if !keyed {
            continue;
        }
        for prefix in instances.get(s.module).into_iter().flatten() {
            let abs = Address {
                module: join(prefix, &s.from.module),
                ..s.from.clone()
            };
            let text = abs.to_string();
            let made = if s.kind == Endpoint::ResourceInstance {
                produced.contains(&text)
            } else {
                let inside = format!("{text}.");
                produced.iter().any(|p| p.starts_with(&inside))
            };
            if made {
                diags.push(
                    Diagnostic::at(
                        format!("`{text}` is still declared: the configuration still makes this instance, and a moved block's `from` is the OLD address"),
                        s.decl.from.loc.clone(),
                    )
                    .label("still made by its count/for_each")
                    .subject(text.clone())
                    .help(format!("change the count/for_each so that it no longer makes `{}`, or remove the moved block", s.from)),
                );
                break;
            }
        }
    }
}

/// After planning: an object that a move takes to an instance its block names by key
/// (`svc["orders"]`, `module.app["orders"]`, `module.app["orders"].mi`) that the
/// configuration does not make is an error: the plan would move it only to destroy it there.
pub(in crate::plan) fn onto_unmade(
    tree: &ModTree<'_>,
    moved: &[Move],
    instances: &[Vec<Vec<ModuleStep>>],
    produced: &HashSet<String>,
    diags: &mut Diagnostics,
) {
    for s in statements(tree) {
        let keyed_instance = s.kind == Endpoint::ResourceInstance && s.to.key.is_some();
        if !keyed_instance && s.to.module.iter().all(|step| step.key.is_none()) {
            continue;
        }
        for m in moved.iter().filter(|m| !m.to.deposed) {
            let Some(prefix) = instance_of(tree, s.module, &m.to) else {
                continue;
            };
            let to = Address {
                module: join(&prefix, &s.to.module),
                ..s.to.clone()
            };
            if !to.matches(&m.to) {
                continue;
            }
            if let Some((missing, made)) =
                unmade_module_instance(tree, instances, &to, prefix.len())
            {
                diags.push(unmade(&s.decl.to.loc, m, &missing, made));
                break;
            }
            if keyed_instance && !produced.contains(&to.to_string()) {
                let made = produced
                    .iter()
                    .filter(|p| {
                        p.parse::<Address>()
                            .is_ok_and(|a| a.decl() == to.decl() && a.key.is_some())
                    })
                    .cloned()
                    .collect();
                diags.push(unmade(&s.decl.to.loc, m, &to, made));
                break;
            }
        }
    }
}

/// The first module instance on `to`'s path (after the declaring module's `from` steps)
/// with a key that the plan did not make, and the instances of that call it did make.
fn unmade_module_instance(
    tree: &ModTree<'_>,
    instances: &[Vec<Vec<ModuleStep>>],
    to: &Address,
    from: usize,
) -> Option<(Address, Vec<String>)> {
    for i in from..to.module.len() {
        if to.module[i].key.is_none() {
            continue;
        }
        let path = &to.module[..=i];
        let of_call: Vec<&Vec<ModuleStep>> = tree
            .of_instance(path)
            .and_then(|c| instances.get(c))
            .into_iter()
            .flatten()
            .filter(|p| p.len() == path.len() && p[..i] == path[..i])
            .collect();
        if !of_call.iter().any(|p| p[..] == path[..]) {
            let made = of_call
                .into_iter()
                .map(|p| Address::module_instance(p.clone()).to_string())
                .collect();
            return Some((Address::module_instance(path.to_vec()), made));
        }
    }
    None
}

/// The error of a move onto `to`, an instance not made; `made` lists the instances that are.
/// (`to`: the instance not made — the destination, or a module instance on its path.)
fn unmade(loc: &plinth_config::Loc, m: &Move, to: &Address, mut made: Vec<String>) -> Diagnostic {
    let key = if to.is_module() {
        to.module.last().and_then(|l| l.key.clone())
    } else {
        to.key.clone()
    };
    let meta = match key {
        Some(InstanceKey::Int(_)) => "count",
        _ => "for_each",
    };
    let decl = if to.is_module() {
        let mut call = to.clone();
        if let Some(last) = call.module.last_mut() {
            last.key = None;
        }
        call.to_string()
    } else {
        to.decl().to_string()
    };
    made.sort();
    let listed = match made.len() {
        0 => "no instance".to_string(),
        n if n <= 5 => made.join(", "),
        n => format!("{}, ... ({n} in all)", made[..5].join(", ")),
    };
    Diagnostic::at(
        format!(
            "cannot move `{}` to `{}`: the configuration makes no such instance, so the object would be destroyed",
            m.from, m.to
        ),
        loc.clone(),
    )
    .label(format!("not made by its {meta}"))
    .subject(m.to.to_string())
    .help(format!(
        "the {meta} of `{decl}` makes {listed}, not `{to}`: correct the key in the moved block, or make the instance"
    ))
}
