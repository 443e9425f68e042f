//! The parts of the Terraform export that describe objects rather than changes: the
//! identifying fields of a resource (`address`, `mode`, `type`, ...), `planned_values` and
//! `prior_state` (resources nested by module instance as Terraform nests them), and
//! `configuration` (declarations nested by module call, with their inputs as expressions).

use std::collections::{BTreeMap, BTreeSet};

use plinth_addr::ModuleStep;
use plinth_plan::{Action, DeclKind, Plan};
use plinth_value::Value;
use serde_json::{Map, Value as J, json};

use super::{
    DEPOSED_KEY, PROVIDER_NAMESPACE, module_address, omit_unknowns, output_value, plain,
    sensitive_tree,
};
use crate::address::{instance_index, module_path, module_text, split_deposed};
use crate::grouping::provider_of;
use crate::marks::marked_before;

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

/// Terraform's `prior_state`: the objects state holds before the plan (the changes'
/// `before`, as refreshed; not the objects an `[[import]]` adopts), in its state
/// representation (`format_version` "1.0"), nested by
/// module instance as `planned_values` is; sensitive values hidden as `sensitive_values`
/// says, unless `reveal`. The outputs are those state holds (their values before).
pub(super) fn tf_prior_state(plan: &Plan, terraform_version: &str, reveal: bool) -> J {
    let mut by_module: BTreeMap<Vec<ModuleStep>, Vec<J>> = BTreeMap::new();
    // An object being imported is not in state yet: Terraform's prior state has it not.
    for c in plan
        .changes
        .iter()
        .filter(|c| c.kind != DeclKind::Action && c.importing.is_none())
    {
        let Some(before) = marked_before(c) else {
            continue;
        };
        let (_, deposed) = split_deposed(&c.address);
        let mut r = tf_head(&c.address, c.kind, &c.type_name, &c.name, false);
        r.insert("schema_version".into(), J::from(0));
        r.insert(
            "values".into(),
            omit_unknowns(&before, reveal).unwrap_or_else(|| json!({})),
        );
        let sens = match sensitive_tree(&before) {
            J::Bool(false) => json!({}),
            t => t,
        };
        r.insert("sensitive_values".into(), sens);
        if deposed {
            r.insert("deposed_key".into(), J::String(DEPOSED_KEY.into()));
        }
        if !c.depends_on.is_empty() {
            r.insert("depends_on".into(), json!(c.depends_on));
        }
        by_module
            .entry(module_path(&c.address))
            .or_default()
            .push(J::Object(r));
    }
    let outputs: Map<String, J> = plan
        .outputs
        .iter()
        .filter_map(|o| {
            let before = output_value(o.before.as_ref(), o.sensitive)?;
            let mut out = Map::new();
            out.insert(
                "sensitive".into(),
                J::Bool(o.sensitive || before.contains_sensitive()),
            );
            out.insert(
                "value".into(),
                omit_unknowns(&before, reveal).unwrap_or(J::Null),
            );
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
        "format_version": "1.0",
        "terraform_version": terraform_version,
        "values": {
            "outputs": outputs,
            "root_module": root,
        },
    })
}

/// One declaration of the configuration as the plan shows it: its instances' configured
/// inputs and dependencies.
struct ConfigDecl<'a> {
    kind: DeclKind,
    type_name: &'a str,
    name: &'a str,
    /// The instances' keys (`None` for a declaration without `count`/`for_each`).
    keys: Vec<Option<J>>,
    configs: Vec<&'a Value>,
    depends_on: BTreeSet<&'a str>,
}

/// Terraform's `configuration`: `provider_config` (one per provider prefix in the plan) and
/// `root_module` with `resources[]` (one per declaration, not per instance: `address`
/// `mode`, `type`, `name`, `provider_config_key`, `expressions`, `schema_version`,
/// `count_expression`) and `module_calls` (by call name, each with its `module`).
///
/// plinth keeps the evaluated inputs, not the `${...}` templates, so `expressions` are
/// rebuilt from them (see [`tf_expression`]).
pub(super) fn tf_configuration(plan: &Plan, reveal: bool) -> J {
    // Declarations by the module calls they are in (call names only: Terraform's
    // configuration is per module, not per module instance), in plan order.
    let mut modules: BTreeMap<Vec<String>, Vec<ConfigDecl<'_>>> = BTreeMap::new();
    let mut providers: BTreeSet<String> = BTreeSet::new();
    for c in plan.changes.iter().filter(|c| {
        matches!(c.kind, DeclKind::Resource | DeclKind::Data) && !split_deposed(&c.address).1
    }) {
        let Some(config) = c.config.as_ref() else {
            continue;
        };
        let calls: Vec<String> = module_path(&c.address)
            .into_iter()
            .map(|s| s.name)
            .collect();
        providers.insert(provider_of(&c.type_name).to_string());
        let decls = modules.entry(calls).or_default();
        let at = decls
            .iter()
            .position(|d| d.kind == c.kind && d.name == c.name && d.type_name == c.type_name);
        let d = match at {
            Some(i) => &mut decls[i],
            None => {
                decls.push(ConfigDecl {
                    kind: c.kind,
                    type_name: &c.type_name,
                    name: &c.name,
                    keys: Vec::new(),
                    configs: Vec::new(),
                    depends_on: BTreeSet::new(),
                });
                decls.last_mut().expect("just pushed")
            }
        };
        d.keys.push(instance_index(&c.address));
        d.configs.push(config);
        d.depends_on.extend(c.depends_on.iter().map(String::as_str));
    }
    let provider_config: Map<String, J> = providers
        .iter()
        .map(|p| {
            (
                p.clone(),
                json!({ "name": p, "full_name": format!("{PROVIDER_NAMESPACE}/{p}") }),
            )
        })
        .collect();
    json!({
        "provider_config": provider_config,
        "root_module": tf_config_module(&[], &modules, reveal),
    })
}

/// The configuration of the module at `calls` (call names from the root), and its calls'.
fn tf_config_module(
    calls: &[String],
    modules: &BTreeMap<Vec<String>, Vec<ConfigDecl<'_>>>,
    reveal: bool,
) -> J {
    let mut m = Map::new();
    let resources: Vec<J> = modules
        .get(calls)
        .map(|decls| {
            decls
                .iter()
                .map(|d| tf_config_resource(d, reveal))
                .collect()
        })
        .unwrap_or_default();
    m.insert("resources".into(), J::Array(resources));
    let children: BTreeSet<&String> = modules
        .keys()
        .filter(|k| k.len() > calls.len() && k.starts_with(calls))
        .map(|k| &k[calls.len()])
        .collect();
    if !children.is_empty() {
        let mut module_calls = Map::new();
        for name in children {
            let mut path = calls.to_vec();
            path.push(name.clone());
            module_calls.insert(
                name.clone(),
                json!({ "module": tf_config_module(&path, modules, reveal) }),
            );
        }
        m.insert("module_calls".into(), J::Object(module_calls));
    }
    J::Object(m)
}

fn tf_config_resource(d: &ConfigDecl<'_>, reveal: bool) -> J {
    let mut r = Map::new();
    let address = if d.kind == DeclKind::Data {
        format!("data.{}", d.name)
    } else {
        d.name.to_string()
    };
    r.insert("address".into(), J::String(address));
    r.insert(
        "mode".into(),
        J::String(
            if d.kind == DeclKind::Data {
                "data"
            } else {
                "managed"
            }
            .into(),
        ),
    );
    r.insert("type".into(), J::String(d.type_name.to_string()));
    r.insert("name".into(), J::String(d.name.to_string()));
    r.insert(
        "provider_config_key".into(),
        J::String(provider_of(d.type_name).to_string()),
    );
    // What an input that differs between instances refers to: `count.index` or `each.key`.
    let key_ref = match d.keys.first() {
        Some(Some(J::Number(_))) => Some("count.index"),
        Some(Some(_)) => Some("each.key"),
        _ => None,
    };
    let deps: Vec<&str> = d.depends_on.iter().copied().collect();
    let mut expressions = Map::new();
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    for c in &d.configs {
        if let Some(m) = c.unmarked().as_map() {
            keys.extend(m.keys().map(String::as_str));
        }
    }
    for key in keys {
        let values: Vec<Option<&Value>> = d
            .configs
            .iter()
            .map(|c| c.unmarked().as_map().and_then(|m| m.get(key)))
            .collect();
        expressions.insert(
            key.to_string(),
            tf_expression(&values, &deps, key_ref, reveal),
        );
    }
    r.insert("expressions".into(), J::Object(expressions));
    r.insert("schema_version".into(), J::from(0));
    if key_ref == Some("count.index") {
        r.insert(
            "count_expression".into(),
            json!({ "constant_value": d.configs.len() }),
        );
    }
    J::Object(r)
}

/// Terraform's expression for one input, from its value in each instance:
/// - the same known value everywhere: `{"constant_value": v}` (a sensitive one only with
///   `reveal`; hidden, it is `{}`, plus its `references` when it has some);
/// - an object with unknown or hidden parts: Terraform's nested-block form, `[{key:
///   expression, ...}]`, so that its known parts are still constants;
/// - otherwise (unknown until apply, or different per instance): `{"references": [...]}`,
///   the declaration's dependencies — the plan records them per object, not per input — and
///   `count.index`/`each.key` when instances differ; `{}` when there is nothing to name (a
///   value that differs per module instance comes through the module's inputs, which the
///   plan does not record).
fn tf_expression(
    values: &[Option<&Value>],
    deps: &[&str],
    key_ref: Option<&str>,
    reveal: bool,
) -> J {
    let first = values.first().copied().flatten();
    let same = values.iter().all(|v| *v == first);
    let references = |differs: bool| -> J {
        let mut refs: Vec<String> = deps.iter().map(|d| d.to_string()).collect();
        if differs {
            refs.extend(key_ref.map(str::to_string));
        }
        if refs.is_empty() {
            json!({})
        } else {
            json!({ "references": refs })
        }
    };
    let Some(v) = first.filter(|_| same) else {
        return references(true);
    };
    let hidden = v.contains_sensitive() && !reveal;
    if v.is_wholly_known() && !hidden {
        return json!({ "constant_value": plain(v, reveal) });
    }
    if let Value::Map(m) = v {
        let nested: Map<String, J> = m
            .iter()
            .map(|(k, x)| (k.clone(), tf_expression(&[Some(x)], deps, key_ref, reveal)))
            .collect();
        return J::Array(vec![J::Object(nested)]);
    }
    if hidden && v.is_wholly_known() {
        return json!({});
    }
    references(false)
}
