//! `plinth schema`: a JSON Schema of the configuration format, so editors (e.g. Taplo /
//! Even Better TOML) can complete and check plinth files.

use plinth_provider::{Registry, ValueKind};
use serde_json::{Value, json};

/// A string that holds an expression (`${...}`) or a directive (`%{...}`): a template, which
/// may evaluate to any type, so it is admitted wherever a number, bool, list or map is.
const TEMPLATE_PATTERN: &str = "\\$\\{|%\\{";

fn template() -> Value {
    json!({"type": "string", "pattern": TEMPLATE_PATTERN})
}

fn kind_schema(k: ValueKind) -> Value {
    match k {
        ValueKind::Any => json!({}),
        ValueKind::String => json!({"type": "string"}),
        ValueKind::Duration => {
            json!({"type": "string", "pattern": "^[0-9]+(ns|us|ms|s|m|h|d)([0-9]+(ns|us|ms|s|m|h|d))*$"})
        }
        ValueKind::Number => {
            json!({"anyOf": [{"type": "number"}, template()]})
        }
        ValueKind::Bool => {
            json!({"anyOf": [{"type": "boolean"}, template()]})
        }
        ValueKind::List => {
            json!({"anyOf": [{"type": "array"}, template()]})
        }
        ValueKind::Map => {
            json!({"anyOf": [{"type": "object"}, template()]})
        }
    }
}

/// The schema document.
pub fn json_schema(registry: &Registry) -> Value {
    let addr_list = json!({"type": "array", "items": {"type": "string"}});
    let lifecycle = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "prevent_destroy": {"type": "boolean", "description": "A plan that would destroy or replace this resource fails."},
            "create_before_destroy": {"type": "boolean", "description": "On replacement, create the new object before deleting the old."},
            "ignore_changes": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"const": "all"}], "description": "Input paths whose changes are ignored after creation."},
            "replace_triggered_by": {"type": "array", "items": {"type": "string"}, "description": "Replace this resource when any of these addresses changes."}
        }
    });
    let count = json!({
        "anyOf": [{"type": "integer", "minimum": 0}, template()],
        "description": "The number of instances (`name[0]`, `count.index`); 0 removes the resource. A number or an expression such as \"${var.ha ? 3 : 1}\". Not together with for_each."
    });
    let mut variants = Vec::new();
    let mut types = Vec::new();
    for p in registry.providers() {
        for t in p.type_names() {
            let Some(s) = p.schema(&t) else { continue };
            let full = format!("{}:{t}", p.name());
            types.push(full.clone());
            let mut props = serde_json::Map::new();
            props.insert(
                "type".into(),
                json!({"const": full, "description": s.description}),
            );
            props.insert("depends_on".into(), addr_list.clone());
            props.insert(
                "for_each".into(),
                json!({"description": "A list or set of strings, or a table (map): one instance per element or key (`name[\"key\"]`, `each.key`, `each.value`). Not together with count."}),
            );
            props.insert("count".into(), count.clone());
            props.insert("lifecycle".into(), lifecycle.clone());
            for i in &s.inputs {
                let mut k = kind_schema(i.kind);
                if let Some(o) = k.as_object_mut() {
                    o.insert("description".into(), json!(i.description));
                }
                props.insert(i.name.clone(), k);
            }
            let required: Vec<&str> = std::iter::once("type")
                .chain(
                    s.inputs
                        .iter()
                        .filter(|i| i.required)
                        .map(|i| i.name.as_str()),
                )
                .collect();
            variants.push(json!({
                "if": {"properties": {"type": {"const": full}}},
                "then": {"properties": props, "required": required, "additionalProperties": s.open}
            }));
        }
    }
    let resource = json!({
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "description": "PROVIDER:TYPE", "examples": types}},
        "not": {"required": ["count", "for_each"]},
        "allOf": variants
    });
    let module = json!({
        "type": "object",
        "required": ["source"],
        "not": {"required": ["count", "for_each"]},
        "description": "A call of a module: a directory of TOML like any configuration. Every key but the ones below sets one of the module's input variables.",
        "properties": {
            "source": {"type": "string", "description": "The module's directory: a path relative to this file's directory (\"./modules/app\", \"../shared/net\"), or a git source (\"git::https://host/org/repo.git//path?ref=v1.2.0\") that `plinth init` fetches. A literal, never ${...}."},
            "for_each": {"description": "A list or set of strings, or a table (map): one module instance per element or key (`module.NAME[\"key\"]`, `each.key`, `each.value`). Not together with count."},
            "count": {
                "anyOf": [{"type": "integer", "minimum": 0}, template()],
                "description": "The number of module instances (`module.NAME[0]`, `count.index`). Not together with for_each."
            },
            "depends_on": addr_list.clone(),
            "providers": {
                "type": "object",
                "description": "Provider settings for the module instead of the ones it inherits, as [module.NAME.providers.PROVIDER] tables.",
                "additionalProperties": {"type": "object"}
            }
        },
        "additionalProperties": {"description": "An input variable of the module."}
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://plinth.dev/schema/config.json",
        "title": "plinth configuration",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "backend": {"type": "object", "properties": {"type": {"enum": ["local", "azure-blob"]}}, "required": ["type"]},
            "variable": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "default": {}, "description": {"type": "string"}, "sensitive": {"type": "boolean"},
                    "type": {"enum": ["string", "number", "bool", "list", "map", "any"]}
                }
            }},
            "provider": {"type": "object", "additionalProperties": {"type": "object"}},
            "locals": {
                "type": "object",
                "description": "Named values, referenced as ${local.NAME}: any value (a string with ${...}, a number, a list, a table), which may reference variables, other locals, resources and data sources.",
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
                "additionalProperties": {}
            },
            "resource": {"type": "object", "additionalProperties": resource.clone()},
            "data": {"type": "object", "additionalProperties": resource},
            "action": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["type", "on"],
                "properties": {"type": {"type": "string"}, "on": addr_list.clone(), "depends_on": addr_list}
            }},
            "module": {"type": "object", "additionalProperties": module},
            "output": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": false, "required": ["value"],
                "properties": {"value": {}, "sensitive": {"type": "boolean"}, "description": {"type": "string"}}
            }}
        }
    })
}
