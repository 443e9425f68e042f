//! Deletes: what state holds that the configuration no longer produces (or everything, for
//! `--destroy`), ordered dependents first, and outputs that are gone. An object a
//! `[[removed]]` block names with `destroy = false` is forgotten instead (`Action::Forget`:
//! state only), and `prevent_destroy` does not refuse that.

use std::collections::{BTreeSet, HashMap};

use plinth_config::Diagnostic;
use plinth_graph::NodeId;
use plinth_plan::{Action, OutputChange, PlanMode, ResourceChange};
use plinth_value::Value;

use crate::addr::Address;
use crate::addr::DeclKind;
use crate::marks;

use super::planner::Planner;

impl Planner<'_, '_> {
    /// Deletes: everything in state that the configuration no longer produces (or, for
    /// `--destroy`, everything), and outputs that are gone.
    pub(super) fn plan_deletes(&mut self) {
        let destroy = self.opts.mode == PlanMode::Destroy;
        let mut deletes = Vec::new();
        for (address, r) in self.state.resources() {
            if !destroy && self.produced.contains(address) && !r.deposed {
                continue;
            }
            let parsed = address.parse::<Address>().ok();
            let decl_name = parsed
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_else(|| address.clone());
            let kind = r.mode;
            // The declaration of the object's own module (`x` of `module.app["a"].x`). It
            // still protects the object when only its instance is gone (a key removed from a
            // for_each, a module instance removed), as in Terraform; an object whose
            // declaration is gone is no longer protected.
            let decl = parsed.as_ref().and_then(|a| {
                let m = self.tree.of_instance(&a.module)?;
                self.tree
                    .get(m)
                    .config
                    .resource(DeclKind::Resource, &a.name)
            });
            // A `[[removed]]` block decides what happens to an object it names (not in a
            // destroy, which destroys everything, as Terraform's).
            let removal = match &parsed {
                Some(a) if !destroy => super::removed::removal(self.tree, a),
                _ => None,
            };
            let forget = removal.is_some_and(|rm| !rm.destroy);
            if kind == DeclKind::Resource
                && !r.deposed
                && !forget
                && let Some(decl) = decl
                && decl.lifecycle.prevent_destroy
            {
                let why = if destroy {
                    "so it cannot be destroyed"
                } else {
                    "but the configuration no longer produces this instance, so this plan would delete it"
                };
                self.protected.push((
                    address.clone(),
                    Diagnostic::at(format!("`{address}` has lifecycle.prevent_destroy, {why}"), decl.loc.clone())
                        .label("prevent_destroy = true")
                        .help(if destroy {
                            "remove prevent_destroy from its lifecycle if destroying it is intended, or exclude it with --target"
                        } else {
                            "keep the instance in the for_each/count (of the resource or its module call), or remove prevent_destroy if deleting it is intended"
                        }),
                ));
            }
            let reason = if r.deposed {
                "deposed: the old object of a create_before_destroy replacement".to_string()
            } else if destroy {
                "destroy requested".to_string()
            } else if let Some(rm) = removal {
                super::removed::reason(rm)
            } else {
                "not in the configuration".to_string()
            };
            let p = marks::prior(self.input.workspace.registry, r);
            // What the provider says about the object going (a role assignment's role name).
            let annotations = self
                .input
                .workspace
                .registry
                .lookup(&r.type_name)
                .map(|(provider, t)| super::review::annotations(&**provider, &t, &p.attributes))
                .unwrap_or_default();
            deletes.push(ResourceChange {
                address: address.clone(),
                name: decl_name,
                type_name: r.type_name.clone(),
                kind,
                action: if forget {
                    Action::Forget
                } else {
                    Action::Delete
                },
                replace_order: None,
                id: r.id.clone(),
                before: Some(p.attributes),
                after: None,
                config: None,
                changed_paths: vec![],
                attribute_paths: vec![],
                replace_paths: vec![],
                reason: Some(reason),
                drift: false,
                depends_on: r.dependencies.clone(),
                moved_from: None,
                importing: None,
                annotations,
                bookkeeping: vec![],
                cascade: None,
            });
        }
        // Dependents are deleted first: order by reverse dependency among the deletes.
        deletes = order_deletes(deletes);
        for d in deletes {
            self.push(d);
        }
        let in_config: BTreeSet<&str> = self
            .input
            .workspace
            .config
            .outputs
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        for (name, o) in self.state.outputs() {
            if destroy || !in_config.contains(name.as_str()) {
                let v = Value::from(o.value.clone());
                self.outputs.push(OutputChange {
                    name: name.clone(),
                    action: Action::Delete,
                    before: Some(if o.sensitive { Value::sensitive(v) } else { v }),
                    after: None,
                    sensitive: o.sensitive,
                });
            }
        }
    }
}

/// Orders deletes so that an object comes before what it depended on.
pub(super) fn order_deletes(deletes: Vec<ResourceChange>) -> Vec<ResourceChange> {
    let mut dag = plinth_graph::Dag::new();
    let ids: Vec<NodeId> = deletes.iter().map(|_| dag.add_node(())).collect();
    let by_addr: HashMap<&str, usize> = deletes
        .iter()
        .enumerate()
        .map(|(i, d)| (d.address.as_str(), i))
        .collect();
    for (i, d) in deletes.iter().enumerate() {
        for dep in &d.depends_on {
            if let Some(&j) = by_addr.get(dep.as_str())
                && i != j
            {
                // `d` depends on `dep`: delete `d` first.
                dag.add_edge(ids[i], ids[j]);
            }
        }
    }
    match dag.topo_order() {
        Ok(order) => {
            let mut slots: Vec<Option<ResourceChange>> = deletes.into_iter().map(Some).collect();
            order
                .into_iter()
                .filter_map(|n| slots[n.index()].take())
                .collect()
        }
        Err(_) => deletes,
    }
}
