//! Plan JSON, for tools.
//!
//! Two renderings of a [`Plan`]:
//! - [`plan_json`]: plinth's own format, tagged [`FORMAT_VERSION`], described by the JSON
//!   Schema [`SCHEMA`] (`schema/plan-json-v1.schema.json`) and documented in
//!   `docs/plan-json.md`;
//! - [`terraform_json`]: an export in Terraform's plan JSON representation
//!   (`format_version` "1.2"), so that tools written for `terraform show -json` can read a
//!   plinth plan.
//!
//! Both hide sensitive values (as `null`, with `*_sensitive` trees saying where they were)
//! unless `show_sensitive` is set, and show unknown values ("known after apply") through
//! `after_unknown` trees.

use plinth_plan::{
    Action, DeclKind, Drift, OutputChange, Plan, PlanMode, ReplaceOrder, ResourceChange,
};
use plinth_value::{Path, PathSeg, Value};
use serde_json::{Map, Value as J, json};

use crate::address::{decl_name, instance_index, instance_key, split_deposed};
use crate::grouping::provider_of;

/// The format tag of plinth's plan JSON.
pub const FORMAT_VERSION: &str = "plinth-plan-json/1";

/// The JSON Schema (draft 2020-12) of plinth's plan JSON.
pub const SCHEMA: &str = include_str!("../schema/plan-json-v1.schema.json");

/// The `format_version` of Terraform's plan JSON representation that [`terraform_json`]
/// follows.
pub const TERRAFORM_FORMAT_VERSION: &str = "1.2";

/// The host and namespace of the provider names in the Terraform export: a provider prefix
/// `core` becomes `registry.plinth.dev/plinth/core`, the three-part form Terraform uses
/// (`registry.terraform.io/hashicorp/aws`).
pub const PROVIDER_NAMESPACE: &str = "registry.plinth.dev/plinth";

/// The deposed key given in the Terraform export to the old object of a
/// `create_before_destroy` replacement (plinth keeps at most one per address).
pub const DEPOSED_KEY: &str = "00000000";

/// plinth's version, as both renderings report it.
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

/// Terraform-style action lists.
fn actions(action: Action, order: Option<ReplaceOrder>) -> Vec<&'static str> {
    match action {
        Action::Replace => match order {
            Some(ReplaceOrder::CreateThenDelete) => vec!["create", "delete"],
            _ => vec!["delete", "create"],
        },
        other => vec![other.as_str()],
    }
}

/// Plain JSON: unknown values as `null`; sensitive values as `null` unless `reveal`.
fn plain(v: &Value, reveal: bool) -> J {
    match v {
        Value::Null | Value::Unknown => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => J::Number(n.clone()),
        Value::String(s) => J::String(s.clone()),
        Value::List(items) => J::Array(items.iter().map(|x| plain(x, reveal)).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), plain(x, reveal)))
                .collect(),
        ),
        Value::Sensitive(inner) if reveal => plain(inner, reveal),
        Value::Sensitive(_) => J::Null,
    }
}

fn plain_opt(v: Option<&Value>, reveal: bool) -> J {
    v.map_or(J::Null, |v| plain(v, reveal))
}

/// Terraform's form of a value: unknown object attributes omitted, unknown list elements
/// `null` (so that positions still match `after_unknown`), a wholly unknown value absent
/// (`None`). Sensitive values are `null` unless `reveal`.
fn omit_unknowns(v: &Value, reveal: bool) -> Option<J> {
    Some(match v {
        Value::Unknown => return None,
        Value::List(items) => J::Array(
            items
                .iter()
                .map(|x| omit_unknowns(x, reveal).unwrap_or(J::Null))
                .collect(),
        ),
        Value::Map(m) => J::Object(
            m.iter()
                .filter_map(|(k, x)| omit_unknowns(x, reveal).map(|j| (k.clone(), j)))
                .collect(),
        ),
        Value::Sensitive(inner) if reveal => return omit_unknowns(inner, reveal),
        Value::Sensitive(inner) if matches!(**inner, Value::Unknown) => return None,
        other => plain(other, reveal),
    })
}

/// A tree mirroring `v` with `true` where a value is unknown, as Terraform's
/// `unknownAsBool`: a known scalar is `false` and is left out of its object; objects and
/// lists are kept (`{}`, `[]`) even with nothing unknown inside; list positions are all
/// kept. Inside a hidden sensitive value only "is any of it unknown" is told (one boolean),
/// so the tree never reveals its shape.
fn unknown_tree(v: &Value, reveal: bool) -> J {
    match v {
        Value::Unknown => J::Bool(true),
        Value::Sensitive(inner) if reveal => unknown_tree(inner, reveal),
        Value::Sensitive(inner) => J::Bool(!inner.is_wholly_known()),
        Value::List(items) => J::Array(items.iter().map(|x| unknown_tree(x, reveal)).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), unknown_tree(x, reveal)))
                .filter(|(_, t)| *t != J::Bool(false))
                .collect(),
        ),
        _ => J::Bool(false),
    }
}

/// A tree mirroring `v` with `true` where a value is sensitive, as Terraform's
/// `SensitiveAsBool` (same shape rules as [`unknown_tree`]).
fn sensitive_tree(v: &Value) -> J {
    match v {
        Value::Sensitive(_) => J::Bool(true),
        Value::List(items) => J::Array(items.iter().map(sensitive_tree).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), sensitive_tree(x)))
                .filter(|(_, t)| *t != J::Bool(false))
                .collect(),
        ),
        _ => J::Bool(false),
    }
}

fn sensitive_tree_opt(v: Option<&Value>) -> J {
    v.map_or(J::Bool(false), sensitive_tree)
}

/// A path as plinth writes it: `properties.x[0]`.
fn path_string(p: &Path) -> J {
    J::String(p.to_string())
}

/// A path as Terraform writes it: `["properties", "x", 0]`.
fn path_steps(p: &Path) -> J {
    J::Array(
        p.segments()
            .iter()
            .map(|s| match s {
                PathSeg::Key(k) => J::String(k.clone()),
                PathSeg::Index(i) => J::from(*i),
            })
            .collect(),
    )
}

fn kind_str(k: DeclKind) -> &'static str {
    match k {
        DeclKind::Resource => "managed",
        DeclKind::Data => "data",
        DeclKind::Action => "action",
        DeclKind::Output => "output",
        DeclKind::Provider => "provider",
        DeclKind::Local => "local",
    }
}

fn mode_str(m: PlanMode) -> &'static str {
    match m {
        PlanMode::Normal => "normal",
        PlanMode::Destroy => "destroy",
        PlanMode::RefreshOnly => "refresh-only",
    }
}

// ---------------------------------------------------------------------------------------
// plinth's format
// ---------------------------------------------------------------------------------------

/// plinth's plan JSON (`format_version` [`FORMAT_VERSION`]; see [`SCHEMA`] and
/// `docs/plan-json.md`). Sensitive values are `null` unless `show_sensitive`.
pub fn plan_json(plan: &Plan, show_sensitive: bool) -> J {
    let reveal = show_sensitive;
    let summary = plan.summary();
    let variables: Map<String, J> = plan
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), plain(v, reveal)))
        .collect();
    let sensitive_variables: Vec<&str> = plan
        .variables
        .iter()
        .filter(|(_, v)| v.contains_sensitive())
        .map(|(k, _)| k.as_str())
        .collect();
    let outputs: Map<String, J> = plan
        .outputs
        .iter()
        .map(|o| (o.name.clone(), output_json(o, reveal)))
        .collect();
    let mut summary_json = json!({
        "add": summary.add,
        "change": summary.change,
        "replace": summary.replace,
        "destroy": summary.destroy,
        "read": summary.read,
        "run": summary.run,
    });
    // Present only when something moves: documents without moves are as before.
    if summary.moved > 0 {
        summary_json["move"] = J::from(summary.moved);
    }
    json!({
        "format_version": FORMAT_VERSION,
        "plinth_version": version(),
        "mode": mode_str(plan.mode),
        "created_at": plan.created_at,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "config_digest": plan.config_digest,
        "has_changes": plan.has_changes(),
        "summary": summary_json,
        "variables": variables,
        "sensitive_variables": sensitive_variables,
        "resource_changes": plan.changes.iter().map(|c| change_json(c, reveal)).collect::<Vec<_>>(),
        "resource_drift": plan.drift.iter().filter(|d| d.is_reportable()).map(|d| drift_json(d, reveal)).collect::<Vec<_>>(),
        "output_changes": outputs,
        "warnings": plan.warnings,
        "targets": plan.targets,
    })
}

fn change_json(c: &ResourceChange, reveal: bool) -> J {
    let mut j = json!({
        "address": c.address,
        "name": c.name,
        "type": c.type_name,
        "provider": provider_of(&c.type_name),
        "kind": kind_str(c.kind),
        "index": instance_key(&c.address),
        "deposed": split_deposed(&c.address).1,
        "actions": actions(c.action, c.replace_order),
        "id": c.id,
        "before": plain_opt(c.before.as_ref(), reveal),
        "after": plain_opt(c.after.as_ref(), reveal),
        "after_unknown": c.after.as_ref().map_or(J::Bool(false), |a| unknown_tree(a, reveal)),
        "before_sensitive": sensitive_tree_opt(c.before.as_ref()),
        "after_sensitive": sensitive_tree_opt(c.after.as_ref()),
        "changed_paths": c.changed_paths.iter().map(path_string).collect::<Vec<_>>(),
        "replace_paths": c.replace_paths.iter().map(path_string).collect::<Vec<_>>(),
        "reason": c.reason,
        "drift": c.drift,
        "depends_on": c.depends_on,
    });
    // Present only on a change that moves its object from another address.
    if let Some(from) = &c.moved_from {
        j["moved_from"] = J::String(from.clone());
    }
    j
}

fn drift_json(d: &Drift, reveal: bool) -> J {
    json!({
        "address": d.address,
        "type": d.type_name,
        "provider": provider_of(&d.type_name),
        "actions": actions(d.action, None),
        "id": d.id,
        "before": plain_opt(d.before.as_ref(), reveal),
        "after": plain_opt(d.after.as_ref(), reveal),
        "before_sensitive": sensitive_tree_opt(d.before.as_ref()),
        "after_sensitive": sensitive_tree_opt(d.after.as_ref()),
        "changed_paths": d.changed_paths.iter().map(path_string).collect::<Vec<_>>(),
        "reconciled": d.reconciled,
    })
}

/// An output's value with its declared sensitivity applied (the plan marks it already;
/// this makes sure of it).
fn output_value(v: Option<&Value>, sensitive: bool) -> Option<Value> {
    v.map(|v| {
        if sensitive {
            Value::sensitive(v.clone())
        } else {
            v.clone()
        }
    })
}

fn output_json(o: &OutputChange, reveal: bool) -> J {
    let before = output_value(o.before.as_ref(), o.sensitive);
    let after = output_value(o.after.as_ref(), o.sensitive);
    json!({
        "actions": actions(o.action, None),
        "before": plain_opt(before.as_ref(), reveal),
        "after": plain_opt(after.as_ref(), reveal),
        "after_unknown": after.as_ref().map_or(J::Bool(false), |a| unknown_tree(a, reveal)),
        "sensitive": o.sensitive || after.as_ref().is_some_and(Value::contains_sensitive),
    })
}

// ---------------------------------------------------------------------------------------
// Terraform's representation
// ---------------------------------------------------------------------------------------

fn tf_provider_name(type_name: &str) -> String {
    format!("{PROVIDER_NAMESPACE}/{}", provider_of(type_name))
}

/// Terraform's `action_reason` for a change, where Terraform has an equivalent.
fn tf_action_reason(c: &ResourceChange, plan: &Plan) -> Option<&'static str> {
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
            // An instance whose key left `for_each` while its declaration stays.
            let key_gone = instance_key(&c.address).is_some()
                && plan.changes.iter().any(|o| {
                    o.kind == c.kind
                        && o.name == c.name
                        && o.action != Action::Delete
                        && o.address != c.address
                });
            Some(if key_gone {
                "delete_because_each_key"
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

/// The identifying fields Terraform puts first in a resource change or planned resource.
fn tf_head(address: &str, kind: DeclKind, type_name: &str, name: &str) -> Map<String, J> {
    let (base, _) = split_deposed(address);
    let mut r = Map::new();
    r.insert("address".into(), J::String(base.to_string()));
    r.insert(
        "mode".into(),
        J::String(
            if kind == DeclKind::Data {
                "data"
            } else {
                "managed"
            }
            .into(),
        ),
    );
    r.insert("type".into(), J::String(type_name.to_string()));
    r.insert("name".into(), J::String(name.to_string()));
    if let Some(k) = instance_index(address) {
        r.insert("index".into(), k);
    }
    r.insert(
        "provider_name".into(),
        J::String(tf_provider_name(type_name)),
    );
    r
}

fn tf_resource_change(c: &ResourceChange, plan: &Plan, reveal: bool) -> J {
    let mut r = tf_head(&c.address, c.kind, &c.type_name, &c.name);
    if split_deposed(&c.address).1 {
        r.insert("deposed".into(), J::String(DEPOSED_KEY.into()));
    }
    // Terraform's name for the address a moved object had.
    if let Some(from) = &c.moved_from {
        r.insert("previous_address".into(), J::String(from.clone()));
    }
    r.insert(
        "change".into(),
        tf_change(
            c.action,
            c.replace_order,
            c.before.as_ref(),
            c.after.as_ref(),
            &c.replace_paths,
            reveal,
        ),
    );
    if let Some(reason) = tf_action_reason(c, plan) {
        r.insert("action_reason".into(), J::String(reason.into()));
    }
    J::Object(r)
}

fn tf_drift(d: &Drift, reveal: bool) -> J {
    let kind = if d.address.starts_with("data.") {
        DeclKind::Data
    } else {
        DeclKind::Resource
    };
    let mut r = tf_head(&d.address, kind, &d.type_name, &decl_name(&d.address));
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

fn tf_planned_values(plan: &Plan, reveal: bool) -> J {
    let resources: Vec<J> = plan
        .changes
        .iter()
        .filter(|c| c.kind != DeclKind::Action && !split_deposed(&c.address).1)
        .filter_map(|c| {
            let after = c.after.as_ref()?;
            let mut r = tf_head(&c.address, c.kind, &c.type_name, &c.name);
            r.insert("schema_version".into(), J::from(0));
            r.insert(
                "values".into(),
                omit_unknowns(after, reveal).unwrap_or_else(|| json!({})),
            );
            let sens = match sensitive_tree(after) {
                J::Bool(false) => json!({}),
                t => t,
            };
            r.insert("sensitive_values".into(), sens);
            Some(J::Object(r))
        })
        .collect();
    let outputs: Map<String, J> = plan
        .outputs
        .iter()
        .filter(|o| o.action != Action::Delete)
        .filter_map(|o| {
            let after = output_value(o.after.as_ref(), o.sensitive)?;
            let mut out = Map::new();
            out.insert(
                "sensitive".into(),
                J::Bool(o.sensitive || after.contains_sensitive()),
            );
            if let Some(v) = omit_unknowns(&after, reveal) {
                out.insert("value".into(), v);
            }
            Some((o.name.clone(), J::Object(out)))
        })
        .collect();
    json!({
        "outputs": outputs,
        "root_module": { "resources": resources },
    })
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
    let changes: Vec<J> = plan
        .changes
        .iter()
        .filter(|c| tf_listed(c))
        .map(|c| tf_resource_change(c, plan, reveal))
        .collect();
    doc.insert("resource_changes".into(), J::Array(changes));
    let outputs: Map<String, J> = plan
        .outputs
        .iter()
        .map(|o| (o.name.clone(), tf_output_change(o, reveal)))
        .collect();
    doc.insert("output_changes".into(), J::Object(outputs));
    let invocations: Vec<J> = plan
        .changes
        .iter()
        .filter(|c| c.kind == DeclKind::Action && c.action == Action::Run)
        .map(|c| tf_action_invocation(c, reveal))
        .collect();
    if !invocations.is_empty() {
        doc.insert("action_invocations".into(), J::Array(invocations));
    }
    doc.insert("timestamp".into(), J::String(plan.created_at.clone()));
    doc.insert("applyable".into(), J::Bool(plan.has_changes()));
    doc.insert("complete".into(), J::Bool(true));
    doc.insert("errored".into(), J::Bool(false));
    J::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees() {
        let v = Value::from(json!({"a": 1, "b": [1, 2], "c": {"d": "x"}}));
        let mut v = v;
        v.set(&"b[1]".parse().unwrap(), Value::Unknown);
        v.set(&"c.e".parse().unwrap(), Value::sensitive(Value::from("s")));
        // As Terraform: known scalars are left out of objects, containers are kept.
        assert_eq!(
            unknown_tree(&v, false),
            json!({"b": [false, true], "c": {}})
        );
        assert_eq!(
            sensitive_tree(&v),
            json!({"b": [false, false], "c": {"e": true}})
        );
        assert_eq!(
            omit_unknowns(&v, false).unwrap(),
            json!({"a": 1, "b": [1, null], "c": {"d": "x", "e": null}})
        );
        assert_eq!(
            plain(&v, true),
            json!({"a": 1, "b": [1, null], "c": {"d": "x", "e": "s"}})
        );
    }
}
