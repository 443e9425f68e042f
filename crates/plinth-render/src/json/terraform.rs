//! The export in Terraform's plan JSON representation (`format_version` "1.2"): resource
//! changes with Terraform's action reasons (imports as `change.importing`, forgets as
//! `["forget"]`, moves as `previous_address`), planned values nested by module instance,
//! the prior state, the configuration (for tools such as conftest and Infracost that read
//! it), drift, outputs, action invocations and check results.

use std::collections::HashSet;

use plinth_addr::{Address, ModuleStep};
use plinth_plan::{Action, DeclKind, Drift, OutputChange, Plan, ReplaceOrder, ResourceChange};
use plinth_value::{Path, Value};
use serde_json::{Map, Value as J, json};

use super::checks::tf_checks;
use super::tf_values::{
    tf_configuration, tf_head, tf_planned_values, tf_prior_state, tf_provider_name,
};
use super::{
    DEPOSED_KEY, TERRAFORM_FORMAT_VERSION, actions, omit_unknowns, output_value, path_steps, plain,
    sensitive_tree, sensitive_tree_opt, unknown_tree, version,
};
use crate::address::{decl_name, split_deposed};
use crate::marks::marked_before;

/// What stays in a plan (every change that is not a delete), indexed once per plan so that
/// each delete's Terraform reason is a lookup, not a scan of the whole plan.
struct Staying {
    /// The declarations (`app`, `module.m.x`) of the kinds that keep an instance.
    decls: HashSet<(DeclKind, Address)>,
    /// Every module instance path (and each of its prefixes) that keeps an object.
    modules: HashSet<Vec<ModuleStep>>,
}

impl Staying {
    fn of(plan: &Plan) -> Staying {
        let mut decls = HashSet::new();
        let mut modules = HashSet::new();
        for o in plan.changes.iter().filter(|o| o.action != Action::Delete) {
            let Ok(a) = o.address.parse::<Address>() else {
                continue;
            };
            for n in 1..=a.module.len() {
                modules.insert(a.module[..n].to_vec());
            }
            decls.insert((o.kind, a.decl()));
        }
        Staying { decls, modules }
    }
}

/// Terraform's `action_reason` for a change, where Terraform has an equivalent.
fn tf_action_reason(c: &ResourceChange, staying: &Staying) -> Option<&'static str> {
    let reason = c.reason.as_deref().unwrap_or("");
    match c.action {
        Action::Replace => Some(if reason.starts_with("tainted") {
            "replace_because_tainted"
        } else if reason.contains("--replace") {
            "replace_by_request"
        } else if reason.starts_with("replace_triggered_by") {
            "replace_by_triggers"
        } else {
            "replace_because_cannot_update"
        }),
        Action::Delete if reason == "not in the configuration" => {
            let own = c.address.parse::<Address>().ok();
            // An instance whose key left `for_each` while its declaration stays.
            let key_gone = own
                .as_ref()
                .is_some_and(|a| a.key.is_some() && staying.decls.contains(&(c.kind, a.decl())));
            // An object of a module instance that is gone as a whole (its key left the
            // call's `for_each`, or the call was removed): nothing else in it stays.
            let module_gone = own
                .as_ref()
                .is_some_and(|a| !a.module.is_empty() && !staying.modules.contains(&a.module));
            Some(if key_gone {
                "delete_because_each_key"
            } else if module_gone {
                "delete_because_no_module"
            } else {
                "delete_because_no_resource_config"
            })
        }
        Action::Read if c.after.as_ref().is_some_and(|a| !a.is_wholly_known()) => {
            Some(if c.config.as_ref().is_some_and(|x| !x.is_wholly_known()) {
                "read_because_config_unknown"
            } else {
                "read_because_dependency_pending"
            })
        }
        _ => None,
    }
}

/// Terraform's `change` object for a resource.
fn tf_change(
    action: Action,
    order: Option<ReplaceOrder>,
    before: Option<&Value>,
    after: Option<&Value>,
    replace_paths: &[Path],
    reveal: bool,
) -> J {
    let mut ch = Map::new();
    ch.insert("actions".into(), json!(actions(action, order)));
    ch.insert(
        "before".into(),
        before
            .and_then(|b| omit_unknowns(b, reveal))
            .unwrap_or(J::Null),
    );
    ch.insert(
        "after".into(),
        after
            .and_then(|a| omit_unknowns(a, reveal))
            .unwrap_or(J::Null),
    );
    // Terraform: `{}` when nothing is unknown, `true` when all of it is, else the tree.
    let after_unknown = match after {
        Some(a) if !a.is_wholly_known() => unknown_tree(a, reveal),
        _ => json!({}),
    };
    ch.insert("after_unknown".into(), after_unknown);
    ch.insert("before_sensitive".into(), sensitive_tree_opt(before));
    ch.insert("after_sensitive".into(), sensitive_tree_opt(after));
    if !replace_paths.is_empty() {
        ch.insert(
            "replace_paths".into(),
            J::Array(replace_paths.iter().map(path_steps).collect()),
        );
    }
    J::Object(ch)
}

fn tf_resource_change(c: &ResourceChange, staying: &Staying, reveal: bool) -> J {
    let mut r = tf_head(&c.address, c.kind, &c.type_name, &c.name, true);
    if split_deposed(&c.address).1 {
        r.insert("deposed".into(), J::String(DEPOSED_KEY.into()));
    }
    // Terraform's name for the address a moved object had.
    if let Some(from) = &c.moved_from {
        r.insert("previous_address".into(), J::String(from.clone()));
    }
    let before = marked_before(c);
    let mut change = tf_change(
        c.action,
        c.replace_order,
        before.as_ref(),
        c.after.as_ref(),
        &c.replace_paths,
        reveal,
    );
    // Terraform 1.5's import: `importing.id`, the actions those of what follows the import
    // (`["no-op"]` when the object already matches).
    if let (Some(imp), J::Object(ch)) = (&c.importing, &mut change) {
        ch.insert("importing".into(), json!({ "id": imp.id }));
    }
    r.insert("change".into(), change);
    if let Some(reason) = tf_action_reason(c, staying) {
        r.insert("action_reason".into(), J::String(reason.into()));
    }
    J::Object(r)
}

fn tf_drift(d: &Drift, reveal: bool) -> J {
    let kind = match d.address.parse::<Address>() {
        Ok(a) if a.kind == DeclKind::Data => DeclKind::Data,
        _ => DeclKind::Resource,
    };
    let mut r = tf_head(&d.address, kind, &d.type_name, &decl_name(&d.address), true);
    r.insert(
        "change".into(),
        tf_change(
            d.action,
            None,
            d.before.as_ref(),
            d.after.as_ref(),
            &[],
            reveal,
        ),
    );
    J::Object(r)
}

fn tf_output_change(o: &OutputChange, reveal: bool) -> J {
    let before = output_value(o.before.as_ref(), o.sensitive);
    let after = output_value(o.after.as_ref(), o.sensitive);
    let sensitive = o.sensitive || after.as_ref().is_some_and(Value::contains_sensitive);
    let after_unknown = match &after {
        Some(a) if !a.is_wholly_known() => unknown_tree(a, reveal),
        _ => J::Bool(false),
    };
    json!({
        "actions": actions(o.action, None),
        "before": before.as_ref().and_then(|b| omit_unknowns(b, reveal)).unwrap_or(J::Null),
        "after": after.as_ref().and_then(|a| omit_unknowns(a, reveal)).unwrap_or(J::Null),
        "after_unknown": after_unknown,
        "before_sensitive": sensitive,
        "after_sensitive": sensitive,
    })
}

/// True when Terraform would list the change in `resource_changes`: not actions (they go
/// to `action_invocations`), not data sources read while planning (Terraform shows those
/// only in state), not the removal of a data source from state.
fn tf_listed(c: &ResourceChange) -> bool {
    match c.kind {
        DeclKind::Action => false,
        DeclKind::Data => {
            c.action == Action::Read && c.after.as_ref().is_some_and(|a| !a.is_wholly_known())
        }
        DeclKind::Resource => true,
        DeclKind::Output | DeclKind::Provider | DeclKind::Local => false,
    }
}

fn tf_action_invocation(c: &ResourceChange, reveal: bool) -> J {
    let mut a = Map::new();
    a.insert("address".into(), J::String(c.address.clone()));
    a.insert("type".into(), J::String(c.type_name.clone()));
    a.insert("name".into(), J::String(c.name.clone()));
    if let Some(config) = &c.config {
        a.insert(
            "config_values".into(),
            omit_unknowns(config, reveal).unwrap_or(J::Null),
        );
        a.insert("config_sensitive".into(), sensitive_tree(config));
        a.insert("config_unknown".into(), unknown_tree(config, reveal));
    }
    a.insert(
        "provider_name".into(),
        J::String(tf_provider_name(&c.type_name)),
    );
    J::Object(a)
}

/// The plan in Terraform's plan JSON representation (`format_version` "1.2"), as
/// `terraform show -json PLANFILE` prints it, for tools that read that (policy checks, cost
/// estimates, summaries). See `docs/plan-json.md` for what maps to what. Sensitive values
/// are `null` unless `show_sensitive` (Terraform itself prints them).
pub fn terraform_json(plan: &Plan, show_sensitive: bool) -> J {
    let reveal = show_sensitive;
    let mut doc = Map::new();
    doc.insert("format_version".into(), json!(TERRAFORM_FORMAT_VERSION));
    doc.insert(
        "terraform_version".into(),
        J::String(format!("plinth-{}", version())),
    );
    if !plan.variables.is_empty() {
        let vars: Map<String, J> = plan
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), json!({ "value": plain(v, reveal) })))
            .collect();
        doc.insert("variables".into(), J::Object(vars));
    }
    doc.insert("planned_values".into(), tf_planned_values(plan, reveal));
    let drift: Vec<J> = plan
        .drift
        .iter()
        .filter(|d| !d.reconciled && d.is_reportable())
        .map(|d| tf_drift(d, reveal))
        .collect();
    if !drift.is_empty() {
        doc.insert("resource_drift".into(), J::Array(drift));
    }
    let staying = Staying::of(plan);
    let changes: Vec<J> = plan
        .changes
        .iter()
        .filter(|c| tf_listed(c))
        .map(|c| tf_resource_change(c, &staying, reveal))
        .collect();
    doc.insert("resource_changes".into(), J::Array(changes));
    let outputs: Map<String, J> = plan
        .outputs
        .iter()
        .map(|o| (o.name.clone(), tf_output_change(o, reveal)))
        .collect();
    doc.insert("output_changes".into(), J::Object(outputs));
    // Terraform's order: the state before, then the configuration.
    doc.insert(
        "prior_state".into(),
        tf_prior_state(plan, &format!("plinth-{}", version()), reveal),
    );
    doc.insert("configuration".into(), tf_configuration(plan, reveal));
    let invocations: Vec<J> = plan
        .changes
        .iter()
        .filter(|c| c.kind == DeclKind::Action && c.action == Action::Run)
        .map(|c| tf_action_invocation(c, reveal))
        .collect();
    if !invocations.is_empty() {
        doc.insert("action_invocations".into(), J::Array(invocations));
    }
    if let Some(checks) = tf_checks(&plan.checks) {
        doc.insert("checks".into(), checks);
    }
    doc.insert("timestamp".into(), J::String(plan.created_at.clone()));
    doc.insert("applyable".into(), J::Bool(plan.has_changes()));
    doc.insert("complete".into(), J::Bool(true));
    doc.insert("errored".into(), J::Bool(false));
    J::Object(doc)
}
