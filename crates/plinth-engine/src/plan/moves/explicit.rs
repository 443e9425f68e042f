//! `[[moved]]` blocks resolved against what state holds (see the parent module). The blocks
//! were checked against the configuration by `validate::refactor`: here they are only run.

use std::collections::{HashMap, HashSet};

use plinth_addr::ModuleStep;
use plinth_config::{Diagnostic, Diagnostics, MovedDecl};

use super::{Move, Named};
use crate::addr::{Address, DeclKind};
use crate::refresh::Refreshed;
use crate::tree::ModTree;
use crate::validate::refactor::{Endpoint, within};

/// One `[[moved]]` block of static module `module`, parsed and unified.
pub(super) struct Stmt<'c> {
    pub(super) module: usize,
    pub(super) decl: &'c MovedDecl,
    pub(super) from: Address,
    pub(super) to: Address,
    pub(super) kind: Endpoint,
}

/// The explicit moves made, and the declarations they named.
pub(super) struct Resolved {
    pub(super) moves: Vec<Move>,
    pub(super) named: Named,
}

/// Every `[[moved]]` block of every static module, in file order.
pub(super) fn statements<'c>(tree: &ModTree<'c>) -> Vec<Stmt<'c>> {
    let mut out = Vec::new();
    for (module, m) in tree.modules.iter().enumerate() {
        for decl in &m.config.moved {
            let (Ok(from), Ok(to)) = (
                decl.from.text.parse::<Address>(),
                decl.to.text.parse::<Address>(),
            ) else {
                continue;
            };
            let Some((kind, _)) = Endpoint::of(&from, &to) else {
                continue;
            };
            out.push(Stmt {
                module,
                decl,
                from,
                to,
                kind,
            });
        }
    }
    out
}

/// Whether statement `a` must run after statement `b`, as Terraform orders them
/// (`refactoring.statementDependsOn`): `a` moves on from where `b` moved to (a chain), or
/// their addresses are nested so that the outer move must see the inner one's result. A
/// move nested in another's `from` runs first (`module.a.x` → `module.a.y` before
/// `module.a` → `module.b`: both are written with the old path), one nested in another's
/// `to` after it.
fn runs_after(a: &Stmt<'_>, b: &Stmt<'_>) -> bool {
    if a.module != b.module {
        return false;
    }
    if a.from == b.to {
        return true;
    }
    if !(within(&a.from, &b.to)
        || within(&a.to, &b.to)
        || within(&b.from, &a.from)
        || within(&b.to, &a.from))
    {
        return false;
    }
    // A move that only re-keys a module instance (`module.app` → `module.app["x"]`) matches
    // both addresses of the moves nested in it: it does not wait for them.
    a.to.module.len() >= b.to.module.len() || !reindex(&a.from, &a.to)
}

/// Whether a move only changes the key of a module instance.
fn reindex(from: &Address, to: &Address) -> bool {
    from.is_module()
        && to.is_module()
        && from.module.len() == to.module.len()
        && from
            .module
            .iter()
            .zip(&to.module)
            .all(|(f, t)| f.name == t.name)
}

/// The statements in the order they run: each after those it runs after, file order
/// otherwise (validation refuses cycles; were one left, the rest keeps file order).
fn ordered(stmts: Vec<Stmt<'_>>) -> Vec<Stmt<'_>> {
    let n = stmts.len();
    // `waits[i]`: how many statements `i` runs after; `then[j]`: those that run after `j`.
    let mut waits = vec![0usize; n];
    let mut then: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i != j && runs_after(&stmts[i], &stmts[j]) {
                waits[i] += 1;
                then[j].push(i);
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> = (0..n).filter(|&i| waits[i] == 0).collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let Some(i) = ready.pop_first().or_else(|| (0..n).find(|&i| !done[i])) else {
            break;
        };
        if done[i] {
            continue;
        }
        done[i] = true;
        order.push(i);
        for &k in &then[i] {
            waits[k] = waits[k].saturating_sub(1);
            if waits[k] == 0 && !done[k] {
                ready.insert(k);
            }
        }
    }
    let mut slots: Vec<Option<Stmt<'_>>> = stmts.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// `path` followed by `rest`.
pub(super) fn join(path: &[ModuleStep], rest: &[ModuleStep]) -> Vec<ModuleStep> {
    path.iter().chain(rest).cloned().collect()
}

/// The new address of record `r` under statement `s` in module instance `prefix`; `None`
/// when the statement does not concern it.
fn target(s: &Stmt<'_>, prefix: &[ModuleStep], r: &Address) -> Option<Address> {
    let from_module = join(prefix, &s.from.module);
    let to_module = join(prefix, &s.to.module);
    match s.kind {
        Endpoint::Resource | Endpoint::ResourceInstance => {
            let matches = r.kind == DeclKind::Resource
                && r.module == from_module
                && r.name == s.from.name
                && (s.kind == Endpoint::Resource || r.key == s.from.key);
            matches.then(|| Address {
                module: to_module,
                kind: DeclKind::Resource,
                name: s.to.name.clone(),
                key: if s.kind == Endpoint::Resource {
                    r.key.clone()
                } else {
                    s.to.key.clone()
                },
                deposed: r.deposed,
            })
        }
        Endpoint::ModuleCall | Endpoint::ModuleInstance => {
            let n = from_module.len();
            let call = &from_module[n - 1];
            let inside = r.module.len() >= n
                && r.module[..n - 1] == from_module[..n - 1]
                && r.module[n - 1].name == call.name
                && (s.kind == Endpoint::ModuleCall || r.module[n - 1].key == call.key);
            if !inside {
                return None;
            }
            let mut module = to_module;
            if s.kind == Endpoint::ModuleCall
                && let Some(last) = module.last_mut()
            {
                last.key = r.module[n - 1].key.clone();
            }
            module.extend(r.module[n..].iter().cloned());
            Some(Address {
                module,
                ..r.clone()
            })
        }
    }
}

/// The instance of static module `m` that the record at `a` lives in (`[]` for the root);
/// `None` when it lives elsewhere.
pub(super) fn instance_of(tree: &ModTree<'_>, m: usize, a: &Address) -> Option<Vec<ModuleStep>> {
    let path = &tree.get(m).path;
    (a.module.len() >= path.len() && a.module.iter().zip(path).all(|(s, n)| &s.name == n))
        .then(|| a.module[..path.len()].to_vec())
}

/// Runs every `[[moved]]` block against `state` (renaming its records in the view), each
/// in every instance of its module that state holds records in.
pub(super) fn resolve(
    tree: &ModTree<'_>,
    state: &mut Refreshed<'_>,
) -> Result<Resolved, Diagnostics> {
    let mut diags = Diagnostics::default();
    // Current address → the address state records the object under.
    let mut origin: HashMap<String, String> = HashMap::new();
    let mut named: Named = HashSet::new();
    for s in ordered(statements(tree)) {
        // Each record is judged in the instance of the declaring module it lives in.
        let renames: Vec<(String, Address, String)> = state
            .resources()
            .filter_map(|(a, r)| {
                let parsed = a.parse::<Address>().ok()?;
                let prefix = instance_of(tree, s.module, &parsed)?;
                let to = target(&s, &prefix, &parsed)?;
                Some((a.clone(), to, r.type_name.clone()))
            })
            .collect();
        for (from, to, type_name) in renames {
            let to_text = to.to_string();
            // Messages name the address state records the object under.
            let recorded = origin.get(&from).unwrap_or(&from);
            let occupant = origin.get(&to_text).filter(|o| **o != to_text).cloned();
            if let Some(problem) = blocked(tree, state, recorded, &to, &type_name, occupant) {
                diags.push(problem.located(s.decl));
                continue;
            }
            if state.rename(&from, &to_text) {
                let first = origin.remove(&from).unwrap_or_else(|| from.clone());
                if let Ok(a) = from.parse::<Address>() {
                    named.insert(a.decl());
                }
                named.insert(to.decl());
                origin.insert(to_text, first);
            }
        }
    }
    diags.clone().into_result()?;
    let mut moves: Vec<Move> = origin
        .into_iter()
        .filter(|(to, from)| to != from)
        .filter_map(|(to, from)| {
            Some(Move {
                from: from.parse().ok()?,
                to: to.parse().ok()?,
            })
        })
        .collect();
    moves.sort_by(|a, b| a.to.cmp(&b.to));
    Ok(Resolved { moves, named })
}

/// Why a record cannot move.
enum Blocked {
    /// The destination already holds an object (`occupant`: recorded elsewhere, and taken
    /// there by another move of this plan).
    Taken {
        from: String,
        to: String,
        occupant: Option<String>,
    },
    /// The destination is declared with another type.
    Type {
        from: String,
        to: String,
        had: String,
        wants: String,
    },
}

impl Blocked {
    fn located(self, decl: &MovedDecl) -> Diagnostic {
        match self {
            Blocked::Taken {
                from,
                to,
                occupant: Some(other),
            } => Diagnostic::at(
                format!("cannot move `{from}` to `{to}`: another moved block already takes `{other}` there"),
                decl.loc.clone(),
            )
            .label("this move")
            .related(decl.to.loc.clone(), format!("`{other}` moves to `{to}` first"))
            .help(format!(
                "two objects cannot share an address: correct one of the moved blocks, or forget one object with `plinth state rm '{other}'` (or '{from}'; it stays in the cloud)"
            )),
            Blocked::Taken { from, to, .. } => Diagnostic::at(
                format!("cannot move `{from}` to `{to}`: state holds an object at both addresses"),
                decl.loc.clone(),
            )
            .label("this move")
            .related(decl.to.loc.clone(), format!("`{to}` is already in state"))
            .help(format!(
                "keep one of the two: `plinth state rm '{to}'` (or '{from}') forgets that object (it stays in the cloud), or remove this [[moved]] block to keep both where they are"
            )),
            Blocked::Type { from, to, had, wants } => Diagnostic::at(
                format!("cannot move `{from}` (a {had}) to `{to}`, which is declared as a {wants}"),
                decl.to.loc.clone(),
            )
            .label("another type")
            .help("a move keeps the object: `from` and `to` must have the same type; to replace the object, remove the moved block"),
        }
    }
}

/// Why the record at `from` (of `type_name`) cannot move to `to`, if it cannot.
fn blocked(
    tree: &ModTree<'_>,
    state: &Refreshed<'_>,
    from: &str,
    to: &Address,
    type_name: &str,
    occupant: Option<String>,
) -> Option<Blocked> {
    if state.get(&to.to_string()).is_some() {
        return Some(Blocked::Taken {
            from: from.to_string(),
            to: to.to_string(),
            occupant,
        });
    }
    let decl = tree
        .of_instance(&to.module)
        .and_then(|m| tree.get(m).config.resource(to.kind, &to.name))?;
    (decl.type_name != type_name).then(|| Blocked::Type {
        from: from.to_string(),
        to: to.to_string(),
        had: type_name.to_string(),
        wants: decl.type_name.clone(),
    })
}
