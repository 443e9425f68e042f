//! `[[moved]]` and `[[removed]]` checked against the configuration, before any I/O: a move's
//! `to` is declared and its `from` is not, both name the same kind of thing, no address
//! moves twice, moves make no cycle, and a `removed` names something no longer declared
//! (a whole resource or a module call). Addresses are relative to the declaring module.
//!
//! A `from` with an instance key whose resource (or module call) is still declared with
//! `count`/`for_each` may or may not still be produced: that is known once the keys are
//! evaluated, and the plan checks it (`plan::moves`).

use std::collections::HashMap;

use plinth_addr::{InstanceKey, ModuleStep};
use plinth_config::{AddrRef, Config, Diagnostic, Diagnostics, Loc, ModuleCall, did_you_mean};

use crate::addr::{Address, DeclKind};

mod endpoint;
mod overlap;

pub(crate) use endpoint::{Endpoint, within};

/// How a declaration (a resource or a module call) makes instances.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    None,
    Count,
    ForEach,
}

impl Keys {
    fn of(count: bool, for_each: bool) -> Keys {
        match (count, for_each) {
            (true, _) => Keys::Count,
            (_, true) => Keys::ForEach,
            _ => Keys::None,
        }
    }

    fn fits(self, key: &Option<InstanceKey>) -> bool {
        matches!(
            (self, key),
            (Keys::None, None)
                | (Keys::Count, Some(InstanceKey::Int(_)))
                | (Keys::ForEach, Some(InstanceKey::Str(_)))
        )
    }

    /// How an instance of `name` is written, for a help.
    fn example(self, name: &str) -> String {
        match self {
            Keys::None => name.to_string(),
            Keys::Count => format!("{name}[0]"),
            Keys::ForEach => format!("{name}[\"KEY\"]"),
        }
    }
}

/// Whether an address is declared in `config`, or why not.
enum Found {
    /// Declared; the declaration makes keys this way.
    Yes(Keys),
    /// Not declared: a sentence saying what is missing, and a suggestion.
    No(String, Option<String>),
}

/// The module the path of calls of `a` leads to from `config` (with the last call), or what
/// is wrong with the path: every step's key is checked against its call's count/for_each,
/// the last one's only when `a` is a resource in it.
fn walk<'c>(
    config: &'c Config,
    a: &Address,
) -> Result<(&'c Config, Option<&'c ModuleCall>), Found> {
    let steps = &a.module;
    let check_last = !a.is_module();
    let mut here = config;
    let mut call = None;
    for (i, step) in steps.iter().enumerate() {
        let Some(c) = here.module_calls.iter().find(|c| c.name == step.name) else {
            let names = here.module_calls.iter().map(|c| c.name.as_str());
            let prefix: String = steps[..i]
                .iter()
                .map(|s| format!("{}.", step_text(s)))
                .collect();
            return Err(Found::No(
                format!("there is no module call `{prefix}module.{}`", step.name),
                did_you_mean(&step.name, names)
                    .map(|s| format!("did you mean `{prefix}module.{s}`?")),
            ));
        };
        let keys = Keys::of(c.count.is_some(), c.for_each.is_some());
        let last = i + 1 == steps.len();
        if (check_last || !last) && !keys.fits(&step.key) {
            // The address as it should be: this step with a key that fits.
            let mut fixed = a.clone();
            fixed.module[i].key = match keys {
                Keys::None => None,
                Keys::Count => Some(InstanceKey::Int(0)),
                Keys::ForEach => Some(InstanceKey::from("KEY")),
            };
            return Err(Found::No(
                key_problem(&format!("module.{}", step.name), keys, &step.key),
                Some(format!("write `{fixed}`.")),
            ));
        }
        here = &c.module;
        call = Some(c);
    }
    Ok((here, call))
}

fn step_text(s: &ModuleStep) -> String {
    match &s.key {
        Some(k) => format!("module.{}{k}", s.name),
        None => format!("module.{}", s.name),
    }
}

fn key_problem(name: &str, keys: Keys, key: &Option<InstanceKey>) -> String {
    match (keys, key) {
        (Keys::None, Some(k)) => {
            format!("`{name}` has neither count nor for_each, so it has no instance `{name}{k}`")
        }
        (Keys::Count, None) => {
            format!("`{name}` has count: its instances are `{name}[0]`, `{name}[1]`, ...")
        }
        (Keys::Count, Some(k)) => {
            format!("`{name}` has count: its instances are numbered (`{name}[0]`), not `{name}{k}`")
        }
        (Keys::ForEach, None) => {
            format!("`{name}` has for_each: its instances are `{name}[\"KEY\"]`")
        }
        (Keys::ForEach, Some(k)) => format!(
            "`{name}` has for_each: its instances have string keys (`{name}[\"KEY\"]`), not `{name}{k}`"
        ),
        (Keys::None, None) => format!("`{name}` is declared"),
    }
}

/// Whether `a` (as `kind`) is declared in `config`; keys are checked for instances.
fn find(config: &Config, a: &Address, kind: Endpoint) -> Found {
    let (module, call) = match walk(config, a) {
        Ok(x) => x,
        Err(f) => return f,
    };
    match kind {
        Endpoint::ModuleCall | Endpoint::ModuleInstance => {
            let Some(c) = call else {
                return Found::No("the root module cannot be moved".into(), None);
            };
            let keys = Keys::of(c.count.is_some(), c.for_each.is_some());
            let key = &a.module.last().and_then(|s| s.key.clone());
            if kind == Endpoint::ModuleInstance && !keys.fits(key) {
                let name = format!("module.{}", c.name);
                return Found::No(
                    key_problem(&name, keys, key),
                    Some(format!("write `{}`.", keys.example(&name))),
                );
            }
            Found::Yes(keys)
        }
        Endpoint::Resource | Endpoint::ResourceInstance => {
            let Some(r) = module.resource(DeclKind::Resource, &a.name) else {
                let names = module
                    .resources
                    .iter()
                    .filter(|r| r.mode == DeclKind::Resource)
                    .map(|r| r.name.as_str());
                let prefix: String = a
                    .module
                    .iter()
                    .map(|s| format!("{}.", step_text(s)))
                    .collect();
                return Found::No(
                    format!("no resource `{}` is declared", a.decl_text()),
                    did_you_mean(&a.name, names).map(|s| format!("did you mean `{prefix}{s}`?")),
                );
            };
            let keys = Keys::of(r.count.is_some(), r.for_each.is_some());
            if kind == Endpoint::ResourceInstance && !keys.fits(&a.key) {
                return Found::No(
                    key_problem(&a.decl_text(), keys, &a.key),
                    Some(format!("write `{}`.", keys.example(&a.decl_text()))),
                );
            }
            Found::Yes(keys)
        }
    }
}

/// Checks the `[[moved]]` and `[[removed]]` blocks of one module's configuration.
pub(super) fn check(d: &mut Diagnostics, config: &Config) {
    check_moved(d, config);
    check_removed(d, config);
    overlap::check(d, config);
}

fn parse(r: &AddrRef) -> Option<Address> {
    // The decoder refused what does not parse.
    r.text.parse::<Address>().ok()
}

fn check_moved(d: &mut Diagnostics, config: &Config) {
    // The moves of this module, by their `from` (unified text), for duplicates and cycles.
    let mut by_from: HashMap<Address, (&AddrRef, Address)> = HashMap::new();
    // A `to` that another block moves on from (or from something around it: `module.app`
    // renamed) is a step of a chain (`a` → `b`, `b` → `c`, written as the configuration was
    // renamed twice): it need not be declared.
    let froms: Vec<Address> = config.moved.iter().filter_map(|m| parse(&m.from)).collect();
    for m in &config.moved {
        let (Some(from), Some(to)) = (parse(&m.from), parse(&m.to)) else {
            continue;
        };
        let Some((from_kind, to_kind)) = Endpoint::of(&from, &to) else {
            let (what_from, what_to) = if from.is_module() {
                ("a module", "a resource")
            } else {
                ("a resource", "a module")
            };
            d.push(
                Diagnostic::at(
                    format!("a [[moved]] block moves {what_from} (`{from}`) to {what_to} (`{to}`)"),
                    m.to.loc.clone(),
                )
                .label(format!("expected {what_from}"))
                .related(m.from.loc.clone(), "from here")
                .help("a move keeps the kind: a resource to a resource (`mi` to `identity`), a module to a module (`module.old` to `module.new`); to move a resource into a module, write to = \"module.NAME.RESOURCE\""),
            );
            continue;
        };
        if from == to {
            d.push(
                Diagnostic::at(
                    format!("a [[moved]] block moves `{from}` to itself"),
                    m.to.loc.clone(),
                )
                .label("same address as `from`")
                .help("remove the block, or write the address the object had before as `from`"),
            );
            continue;
        }
        match find(config, &to, to_kind) {
            Found::Yes(_) => {}
            Found::No(..) if froms.iter().any(|f| *f == to || within(&to, f)) => {}
            Found::No(why, suggestion) => d.push(
                Diagnostic::at(format!("a [[moved]] block moves to an undeclared address: {why}"), m.to.loc.clone())
                    .label("not declared")
                    .help(match suggestion {
                        Some(s) => format!("{s} A moved block's `to` is the NEW address: declare it, or correct the address"),
                        None => "a moved block's `to` is the NEW address: declare it, or correct the address; if it was deleted on purpose, the moved block has done its work: remove it".into(),
                    }),
            ),
        }
        if let Found::Yes(keys) = find(config, &from, from_kind) {
            // A keyed instance of a resource (or call) that has count/for_each may not be
            // produced any more: the plan knows.
            let undecided = keys != Keys::None
                && matches!(
                    from_kind,
                    Endpoint::ResourceInstance | Endpoint::ModuleInstance
                );
            if !undecided {
                let decl = if from.is_module() {
                    format!("[{from}]")
                } else {
                    format!("[resource.{}]", from.decl_text())
                };
                d.push(
                    Diagnostic::at(
                        format!(
                            "`{from}` is still declared: a moved block's `from` is the OLD address"
                        ),
                        m.from.loc.clone(),
                    )
                    .label(format!("the {} is still declared", from_kind.noun()))
                    .help(format!(
                        "remove {decl} (the object now lives at `{to}`), or remove the moved block"
                    )),
                );
            }
        }
        if let Some((first, first_to)) = by_from.get(&from) {
            d.push(
                Diagnostic::at(
                    format!("`{from}` is moved twice: to `{first_to}` and to `{to}`"),
                    m.from.loc.clone(),
                )
                .label("second move of this address")
                .related(first.loc.clone(), "first moved here")
                .help("an object moves to one address: remove one of the moved blocks"),
            );
            continue;
        }
        by_from.insert(from, (&m.from, to));
    }
    cycles(d, &by_from);
}

/// Moves that lead back to where they started (`a` → `b`, `b` → `a`), each cycle once,
/// printed as a chain.
fn cycles(d: &mut Diagnostics, by_from: &HashMap<Address, (&AddrRef, Address)>) {
    let mut reported: Vec<Address> = Vec::new();
    let mut starts: Vec<&Address> = by_from.keys().collect();
    starts.sort();
    for start in starts {
        if reported.contains(start) {
            continue;
        }
        let mut chain = vec![start.clone()];
        let mut at = start;
        while let Some((_, next)) = by_from.get(at) {
            if next == start {
                let text: Vec<String> =
                    chain.iter().chain([start]).map(|a| a.to_string()).collect();
                let loc: Loc = by_from[start].0.loc.clone();
                d.push(
                    Diagnostic::at(format!("moved blocks make a cycle: {}", text.join(" -> ")), loc)
                        .label("this move leads back here")
                        .help("an object has one old and one new address: remove the moved block that goes back"),
                );
                reported.extend(chain);
                break;
            }
            if chain.contains(next) || chain.len() > by_from.len() {
                break; // a cycle that does not pass through `start`: found from its own start
            }
            chain.push(next.clone());
            at = next;
        }
    }
}

fn check_removed(d: &mut Diagnostics, config: &Config) {
    for r in &config.removed {
        let Some(from) = parse(&r.from) else {
            continue;
        };
        let keyed = if from.is_module() {
            from.module.iter().any(|s| s.key.is_some())
        } else {
            from.key.is_some() || from.module.iter().any(|s| s.key.is_some())
        };
        if keyed {
            d.push(
                Diagnostic::at(format!("a [[removed]] block cannot name the instance `{from}`"), r.from.loc.clone())
                    .label("an instance key")
                    .help("name a whole resource or module call (without keys), e.g. from = \"app\" or from = \"module.app\"; to drop one instance, change the count/for_each that makes it"),
            );
            continue;
        }
        let kind = if from.is_module() {
            Endpoint::ModuleCall
        } else {
            Endpoint::Resource
        };
        if let Found::Yes(_) = find(config, &from, kind) {
            let decl = if from.is_module() {
                format!("[{from}]")
            } else {
                format!("[resource.{}]", from.decl_text())
            };
            d.push(
                Diagnostic::at(format!("`{from}` is still declared, so it cannot be removed"), r.from.loc.clone())
                    .label(format!("the {} is still declared", kind.noun()))
                    .help(format!("delete {decl} from the configuration (the [[removed]] block says what happens to its objects), or remove the [[removed]] block")),
            );
        }
    }
}
