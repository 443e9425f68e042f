//! The parts of the Terraform export that describe objects rather than changes: the
//! identifying fields of a resource (`address`, `mode`, `type`, ...) and `planned_values`,
//! resources nested by module instance as Terraform nests them.

use std::collections::{BTreeMap, BTreeSet};

use plinth_addr::ModuleStep;
use plinth_plan::{Action, DeclKind, Plan};
use serde_json::{Map, Value as J, json};

use super::{PROVIDER_NAMESPACE, module_address, omit_unknowns, output_value, sensitive_tree};
use crate::address::{instance_index, module_path, module_text, split_deposed};
use crate::grouping::provider_of;

/// The provider's name in the export: `registry.plinth.dev/plinth/core` for `core:data`.
pub(super) fn tf_provider_name(type_name: &str) -> String {
    format!("{PROVIDER_NAMESPACE}/{}", provider_of(type_name))
}

/// The identifying fields Terraform puts first in a resource change or planned resource.
pub(super) fn tf_head(
    address: &str,
    kind: DeclKind,
    type_name: &str,
    name: &str,
    change: bool,
) -> Map<String, J> {
    let (base, _) = split_deposed(address);
    let mut r = Map::new();
    r.insert("address".into(), J::String(base.to_string()));
    // As Terraform: the module instance, on changes (planned values nest resources in
    // `child_modules` instead).
    if let Some(module) = module_address(address).filter(|_| change) {
        r.insert("module_address".into(), J::String(module));
    }
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

/// Terraform's `planned_values`: every object as it will be after apply (not actions,
/// deposed objects or forgotten ones), a module's nested in `child_modules`, and the root
/// outputs.
pub(super) fn tf_planned_values(plan: &Plan, reveal: bool) -> J {
    // Resources by module instance: Terraform nests a module's in `child_modules`.
    let mut by_module: BTreeMap<Vec<ModuleStep>, Vec<J>> = BTreeMap::new();
    // A forgotten object leaves state: it has no planned value.
    for c in plan.changes.iter().filter(|c| {
        c.kind != DeclKind::Action && c.action != Action::Forget && !split_deposed(&c.address).1
    }) {
        let Some(after) = c.after.as_ref() else {
            continue;
        };
        let mut r = tf_head(&c.address, c.kind, &c.type_name, &c.name, false);
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
        by_module
            .entry(module_path(&c.address))
            .or_default()
            .push(J::Object(r));
    }
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
    let mut root = Map::new();
    root.insert(
        "resources".into(),
        J::Array(by_module.get(&Vec::new()).cloned().unwrap_or_default()),
    );
    let children = tf_child_modules(&[], &by_module);
    if !children.is_empty() {
        root.insert("child_modules".into(), J::Array(children));
    }
    json!({
        "outputs": outputs,
        "root_module": root,
    })
}

/// The module instances directly inside `parent`, as Terraform's planned values nest them:
/// `{"resources": [...], "address": "module.app[\"orders\"]", "child_modules": [...]}`
/// (each list only when not empty), in address order. A module instance without resources
/// of its own is there when a nested one has some.
fn tf_child_modules(
    parent: &[ModuleStep],
    by_module: &BTreeMap<Vec<ModuleStep>, Vec<J>>,
) -> Vec<J> {
    let children: BTreeSet<&[ModuleStep]> = by_module
        .keys()
        .filter(|k| k.len() > parent.len() && k.starts_with(parent))
        .map(|k| &k[..=parent.len()])
        .collect();
    children
        .into_iter()
        .map(|path| {
            let mut m = Map::new();
            if let Some(resources) = by_module.get(path) {
                m.insert("resources".into(), J::Array(resources.clone()));
            }
            m.insert("address".into(), J::String(module_text(path)));
            let nested = tf_child_modules(path, by_module);
            if !nested.is_empty() {
                m.insert("child_modules".into(), J::Array(nested));
            }
            J::Object(m)
        })
        .collect()
}
