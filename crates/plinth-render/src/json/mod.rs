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

use crate::address::{instance_key, module_path, module_text, split_deposed};
use crate::grouping::provider_of;
use crate::marks::marked_before;
use crate::review::{
    cascade_groups, cascade_text, is_bookkeeping, is_managed_drift, parent, plain_reason,
    undoes_drift, unmanaged_drift,
};

/// The format tag of plinth's plan JSON.
pub const FORMAT_VERSION: &str = "plinth-plan-json/1";

/// The JSON Schema (draft 2020-12) of plinth's plan JSON.
pub const SCHEMA: &str = include_str!("../../schema/plan-json-v1.schema.json");

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

mod checks;
mod findings;
mod terraform;
mod tf_values;

pub use terraform::terraform_json;

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
    if summary.import > 0 {
        summary_json["import"] = J::from(summary.import);
    }
    if summary.forget > 0 {
        summary_json["forget"] = J::from(summary.forget);
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
        "resource_changes": plan.changes.iter().map(|c| change_json(plan, c, reveal)).collect::<Vec<_>>(),
        "resource_drift": plan.drift.iter().filter(|d| is_managed_drift(d)).map(|d| drift_json(d, reveal)).collect::<Vec<_>>(),
        "unmanaged_drift": unmanaged_drift(plan).into_iter().map(|d| unmanaged_json(d, reveal)).collect::<Vec<_>>(),
        "cascades": cascades_json(plan),
        "output_changes": outputs,
        "warnings": plan.warnings.iter().map(|w| plain_reason(w)).collect::<Vec<_>>(),
        "targets": plan.targets,
        "checks": checks::checks_json(&plan.checks),
        "findings": findings::findings_json(&plan.findings),
    })
}

/// Replacements caused by another's, one entry per cause: the cause, how the objects are
/// tied to it, the objects, and the sentence the text rendering says (plain text).
fn cascades_json(plan: &Plan) -> J {
    let changes: Vec<&ResourceChange> = plan.changes.iter().collect();
    J::Array(
        cascade_groups(plan, &changes)
            .iter()
            .map(|g| {
                json!({
                    "cause": g.cause,
                    "via": via_str(g.via),
                    "addresses": g.changes.iter().map(|c| c.address.as_str()).collect::<Vec<_>>(),
                    "message": cascade_text(g),
                })
            })
            .collect(),
    )
}

fn via_str(v: plinth_plan::CascadeVia) -> &'static str {
    match v {
        plinth_plan::CascadeVia::ProviderSettings => "provider-settings",
        plinth_plan::CascadeVia::ReplaceTriggeredBy => "replace-triggered-by",
    }
}

fn change_json(plan: &Plan, c: &ResourceChange, reveal: bool) -> J {
    // An imported object's attributes as read may miss a mark the plan has after.
    let before = marked_before(c);
    // Attribute paths, which resolve in `before`/`after` (a plan written before the plan's
    // paths were attribute paths maps its input paths here).
    // The service's bookkeeping (a resource version) is never a diff.
    let attribute_paths = |ps: &[Path]| -> Vec<J> {
        ps.iter()
            .map(|p| c.attribute_path(p))
            .filter(|p| !is_bookkeeping(c, p))
            .map(path_string)
            .collect()
    };
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
        "before": plain_opt(before.as_ref(), reveal),
        "after": plain_opt(c.after.as_ref(), reveal),
        "after_unknown": c.after.as_ref().map_or(J::Bool(false), |a| unknown_tree(a, reveal)),
        "before_sensitive": sensitive_tree_opt(before.as_ref()),
        "after_sensitive": sensitive_tree_opt(c.after.as_ref()),
        "changed_paths": attribute_paths(&c.changed_paths),
        "replace_paths": attribute_paths(&c.replace_paths),
        "reason": c.reason.as_deref().map(plain_reason),
        "drift": undoes_drift(plan, c),
        "depends_on": c.depends_on,
    });
    // Present only on a change that moves its object from another address.
    if let Some(from) = &c.moved_from {
        j["moved_from"] = J::String(from.clone());
    }
    // Present only on a change that imports an existing object.
    if let Some(imp) = &c.importing {
        j["importing"] = json!({ "id": imp.id });
    }
    // Present only on an Azure resource whose parent is known.
    if let Some(p) = parent(plan, c) {
        j["parent"] = json!({ "id": p.id, "address": p.address });
    }
    // Present only when the provider said something about a value.
    if !c.annotations.is_empty() {
        j["annotations"] = J::Array(
            c.annotations
                .iter()
                .map(|a| json!({ "path": a.path.to_string(), "note": a.note }))
                .collect(),
        );
    }
    // Present only when the service fills in attributes of `after` for its own bookkeeping.
    if !c.bookkeeping.is_empty() {
        j["bookkeeping_paths"] = J::Array(c.bookkeeping.iter().map(path_string).collect());
    }
    // Present only on a replacement another replacement causes.
    if let Some(k) = &c.cascade {
        j["cascade"] = json!({ "cause": k.cause, "via": via_str(k.via) });
    }
    with_module_address(j, &c.address)
}

/// The module instance an address is in (`module.app["orders"]`), `None` in the root module.
fn module_address(address: &str) -> Option<String> {
    let path = module_path(address);
    (!path.is_empty()).then(|| module_text(&path))
}

/// `j` (an object whose first key is `address`) with `module_address` right after `address`
/// when the object is in a module; unchanged in the root module.
fn with_module_address(j: J, address: &str) -> J {
    with_module(j, module_address(address))
}

/// `j` (an object whose first key is `address`) with `module_address` right after
/// `address` when `module` is given.
fn with_module(j: J, module: Option<String>) -> J {
    let Some(module) = module else {
        return j;
    };
    let J::Object(fields) = j else {
        return j;
    };
    let mut out = Map::new();
    for (k, v) in fields {
        let after_address = k == "address";
        out.insert(k, v);
        if after_address {
            out.insert("module_address".into(), J::String(module.clone()));
        }
    }
    J::Object(out)
}

fn drift_json(d: &Drift, reveal: bool) -> J {
    let j = json!({
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
    });
    with_module_address(j, &d.address)
}

/// Drift in attributes the configuration does not set: informational, never planned back.
fn unmanaged_json(d: &Drift, reveal: bool) -> J {
    let j = json!({
        "address": d.address,
        "type": d.type_name,
        "provider": provider_of(&d.type_name),
        "id": d.id,
        "before": plain_opt(d.before.as_ref(), reveal),
        "after": plain_opt(d.after.as_ref(), reveal),
        "before_sensitive": sensitive_tree_opt(d.before.as_ref()),
        "after_sensitive": sensitive_tree_opt(d.after.as_ref()),
        "paths": d.unmanaged_paths.iter().map(path_string).collect::<Vec<_>>(),
    });
    with_module_address(j, &d.address)
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
