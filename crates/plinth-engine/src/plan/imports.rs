//! `[[import]]` blocks in a plan: expanded before the walk (`for_each` evaluated, ids and
//! key expressions evaluated with variables, locals and `each`) into one import per full
//! address; then, where the walk plans that resource instance (its provider settings known
//! by then), the object is read with `Provider::import` and becomes its prior: the normal
//! diff decides NoOp, Update or Replace, and the change carries `importing`.
//!
//! A target already in state with the import's id needs nothing (the block is kept, as
//! Terraform keeps it); with another id it is an error naming both.

use std::collections::{BTreeMap, HashSet};

use plinth_addr::InstanceKey;
use plinth_config::{Diagnostic, Diagnostics, Loc};
use plinth_plan::Importing;
use plinth_provider::{Provider, Request};
use plinth_state::ResourceState;
use plinth_value::Value;

use crate::records::{Recording, object_record};
use crate::scope::{Iteration, Values, for_each_instances};
use crate::tree::ModTree;
use crate::validate::imports::{check_id, module_of, parse_to};
use crate::workspace::Workspace;

use super::planner::Planner;

/// One import, for_each expanded.
pub(crate) struct PlannedImport {
    /// The object's id, evaluated.
    pub id: String,
    /// The `[[import]]` block.
    pub loc: Loc,
    /// Its `id`.
    pub id_loc: Loc,
    /// Its `type`, when given.
    pub type_name: Option<String>,
}

/// The imports of a plan, by full address (`app["blue"]`, `module.app.mi`).
#[derive(Default)]
pub(crate) struct Imports {
    /// Address → the import.
    pub by_address: BTreeMap<String, PlannedImport>,
    /// Addresses whose resource instance was planned (so the import was looked at).
    pub(super) seen: HashSet<String>,
}

/// `InstanceKey` of a key expression's value: a string (`for_each`) or a whole number (`count`).
fn key_of(v: &Value) -> Option<InstanceKey> {
    match v.unmarked() {
        Value::String(s) => Some(InstanceKey::Str(s.clone())),
        Value::Number(n) => n.as_u64().map(InstanceKey::Int),
        _ => None,
    }
}

/// Expands every `[[import]]` of the root configuration (see the module documentation).
pub(crate) fn expand(ws: &Workspace<'_>, tree: &ModTree<'_>) -> Result<Imports, Diagnostics> {
    let mut out = Imports::default();
    let mut diags = Diagnostics::default();
    let values = Values::default();
    for i in &ws.config.imports {
        let target = match parse_to(i) {
            Ok(t) => t,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let iterations = match &i.for_each {
            None => vec![(None, Iteration::None)],
            Some(fe) => {
                let v = match fe.eval(&ws.scope(&values, Iteration::None)) {
                    Ok(v) => v,
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                };
                if !v.is_wholly_known() || v.contains_sensitive() {
                    diags.push(
                        Diagnostic::at("the for_each of an [[import]] block must be known when planning and not sensitive", fe.loc.clone())
                            .label("for_each")
                            .help("give a map of ids from variables or locals, e.g. for_each = \"${var.queue_ids}\""),
                    );
                    continue;
                }
                match for_each_instances("the [[import]] block", fe, v) {
                    Ok(instances) => instances,
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                }
            }
        };
        let type_name = module_of(tree, &target.addr, &i.to.loc)
            .ok()
            .and_then(|m| {
                tree.get(m)
                    .config
                    .resource(crate::addr::DeclKind::Resource, &target.addr.name)
                    .map(|d| d.type_name.clone())
            })
            .or_else(|| i.type_name.as_ref().map(|(t, _)| t.clone()));
        for (_, each) in iterations {
            let scope = ws.scope(&values, each);
            let addr = match &target.key_expr {
                None => target.addr.clone(),
                Some(t) => {
                    match plinth_expr::eval_template(t, &scope) {
                        Ok(v) => match key_of(&v) {
                            Some(k) => target.addr.with_key(Some(k)),
                            None => {
                                diags.push(
                                Diagnostic::at(format!("the key of `to` gives {}, but an instance key is a string or a whole number", v.type_name()), i.to.loc.clone())
                                    .label("not an instance key")
                                    .help("key `to` by each.key, e.g. to = \"app[each.key]\""),
                            );
                                continue;
                            }
                        },
                        Err(e) => {
                            diags.push(
                            Diagnostic::at(format!("the key of `to` cannot be evaluated: {}", e.message), i.to.loc.clone())
                                .label("key expression")
                                .help("key `to` by each.key or each.value, e.g. to = \"app[each.key]\""),
                        );
                            continue;
                        }
                    }
                }
            };
            let id = match i.id.eval(&scope) {
                Ok(v) => match v.unmarked() {
                    Value::String(s) if v.is_wholly_known() && !s.is_empty() => s.clone(),
                    _ => {
                        diags.push(
                            Diagnostic::at(format!("the id of the import to `{addr}` must be a non-empty string known when planning, but it is {}", if v.is_wholly_known() { v.type_name() } else { "known only after apply" }), i.id.loc.clone())
                                .label("id")
                                .help("give the id as a string from variables, locals or each, e.g. id = \"${each.value}\""),
                        );
                        continue;
                    }
                },
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let text = addr.to_string();
            if let Some(first) = out.by_address.get(&text) {
                diags.push(
                    Diagnostic::at(format!("two imports to `{text}`"), i.to.loc.clone())
                        .label("second import")
                        .related(first.loc.clone(), "first import to it")
                        .help("an address holds one object: import each object to its own address"),
                );
                continue;
            }
            if let Some(t) = &type_name
                && let Err(d) = check_id(ws.registry, t, &id, &i.id.loc)
            {
                diags.push(d);
                continue;
            }
            out.by_address.insert(
                text,
                PlannedImport {
                    id,
                    loc: i.loc.clone(),
                    id_loc: i.id.loc.clone(),
                    type_name: i.type_name.as_ref().map(|(t, _)| t.clone()),
                },
            );
        }
    }
    diags.into_result().map(|()| out)
}

/// Whether two provider ids name the same object (ARM ids are case-insensitive).
pub(crate) fn same_id(a: &str, b: &str) -> bool {
    a == b || (a.starts_with('/') && a.eq_ignore_ascii_case(b))
}

impl Imports {
    /// Errors for imports whose address the configuration does not produce (a key its
    /// for_each lacks, a module instance it does not have).
    pub(super) fn unplanned(&self, produced: &HashSet<String>) -> Diagnostics {
        let mut d = Diagnostics::default();
        for (address, i) in &self.by_address {
            if self.seen.contains(address) || produced.contains(address) {
                continue;
            }
            d.push(
                Diagnostic::at(format!("the configuration has no resource instance `{address}` to import to"), i.loc.clone())
                    .subject(address.clone())
                    .label("imports to an instance that is not produced")
                    .help("import to an instance the configuration declares: a key of its for_each, an index below its count, a module instance its call makes"),
            );
        }
        d
    }
}

/// What an import found, to plan against.
pub(super) struct Imported {
    /// The record the object would have (its prior).
    pub record: ResourceState,
    /// What the change carries.
    pub importing: Importing,
}

impl Planner<'_, '_> {
    /// Reads the object an `[[import]]` adopts at `address`, if one does and state does not
    /// already hold it. `config` is the evaluated configuration (see
    /// [`crate::import::adopted_inputs`] for the prior's inputs).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn read_import(
        &mut self,
        address: &str,
        record: Option<&ResourceState>,
        provider: &dyn Provider,
        req: &Request<'_>,
        settings: &Value,
        type_name: &str,
        config: &Value,
    ) -> Result<Option<Imported>, Diagnostic> {
        let Some(i) = self.imports.by_address.get(address) else {
            return Ok(None);
        };
        self.imports.seen.insert(address.to_string());
        if let Some(r) = record {
            let held = r.id.as_deref().unwrap_or("(no id)");
            if r.id.as_deref().is_some_and(|id| same_id(id, &i.id)) {
                return Ok(None);
            }
            return Err(Diagnostic::at(
                format!("`{address}` is already in state as `{held}`, but this [[import]] block imports `{}`", i.id),
                i.loc.clone(),
            )
            .subject(address)
            .label("imports another object")
            .help(format!("remove the [[import]] block once its object is adopted, or run `plinth state rm '{address}'` first to adopt `{}` instead", i.id)));
        }
        if !settings.is_wholly_known() {
            return Err(Diagnostic::at(
                format!("`{address}` cannot be imported in this plan: its provider's settings name an object that does not exist yet"),
                i.loc.clone(),
            )
            .subject(address)
            .label("settings known only after apply")
            .help("apply what the settings name first (plinth apply --target ...), or import it too, then plan the import"));
        }
        check_id(self.input.workspace.registry, type_name, &i.id, &i.id_loc)?;
        let (mut obs, _) = provider.import(req, &i.id).await.map_err(|e| {
            let gone = e
                .code
                .as_deref()
                .is_some_and(|c| c.contains("NotFound"));
            let d = if gone {
                Diagnostic::at(format!("no object with id `{}` exists to import to `{address}`", i.id), i.loc.clone())
                    .label("this import")
                    .help("check the id (the object may have been deleted or be in another subscription or cluster), or remove the [[import]] block")
            } else {
                Diagnostic::at(format!("importing `{}` to `{address}` failed: {e}", i.id), i.loc.clone())
                    .label("this import")
            };
            d.subject(address)
        })?;
        obs.id = obs.id.or(Some(i.id.clone()));
        let inputs = crate::import::adopted_inputs(
            self.input.workspace.registry,
            type_name,
            config,
            &obs.attributes,
        );
        let (record, _) = object_record(
            self.input.workspace.registry,
            Recording {
                address,
                type_name,
                mode: plinth_state::DeclKind::Resource,
                inputs: &inputs,
                settings,
                dependencies: Vec::new(),
            },
            obs,
        );
        Ok(Some(Imported {
            record,
            importing: Importing { id: i.id.clone() },
        }))
    }
}
