//! `plinth import ADDRESS ID`: adopting an existing object into state under a declared
//! address. The object is read where the provider's settings point as state knows them (the
//! cluster a Kubernetes object lives in), and recorded exactly as apply records objects, with
//! the configuration as it evaluates now as its inputs (as an `[[import]]` block records
//! them): what the configuration does not set is not a change.

use plinth_addr::{Address, DeclKind};
use plinth_config::Diagnostic;
use plinth_provider::{NullReporter, Request};
use plinth_state::{ResourceState, State};

use crate::error::EngineError;
use crate::records::{Recording, object_record};
use crate::scope::Iteration;
use crate::settings::{SettingsTables, Source, settings_for};
use crate::tree::ModTree;
use crate::workspace::Workspace;

/// Reads the object `id` for the declared resource instance `address` and returns the record
/// to add to `state` (the caller writes it, under the state lock).
pub async fn import(
    ws: &Workspace<'_>,
    state: &State,
    address: &Address,
    id: &str,
) -> Result<ResourceState, EngineError> {
    let refuse =
        |msg: String, help: String| -> EngineError { Diagnostic::new(msg).help(help).into() };
    if address.kind != DeclKind::Resource || address.deposed || address.is_module() {
        return Err(refuse(
            format!("only resources can be imported; `{address}` is not a resource address"),
            "name a [resource.NAME] of the configuration, e.g. rg, app[\"blue\"] or module.app[\"a\"].mi".into(),
        ));
    }
    let tree = ModTree::new(ws.config);
    let m = module_of(&tree, address)?;
    let config = tree.get(m).config;
    let in_module = tree.prefix(m);
    let name = &address.name;
    let Some(decl) = config.resource(DeclKind::Resource, name) else {
        let names = config
            .resources
            .iter()
            .filter(|r| r.mode == DeclKind::Resource);
        let place = if in_module.is_empty() {
            "the configuration".to_string()
        } else {
            format!("the module of `{}`", in_module.trim_end_matches('.'))
        };
        return Err(refuse(
            format!("`{name}` is not declared in {place}"),
            match plinth_config::did_you_mean(name, names.map(|r| r.name.as_str())) {
                Some(s) => {
                    format!(
                        "did you mean `{in_module}{s}`? Declare the resource first, then import it"
                    )
                }
                None => format!("declare it first as [resource.{name}], then import it"),
            },
        ));
    };
    // The module instance as written (`module.app["a"].`), for examples in messages.
    let key_prefix = if address.module.is_empty() {
        String::new()
    } else {
        format!("{}.", Address::module_instance(address.module.clone()))
    };
    let expansion = crate::scope::Expansion::of(decl);
    let fits = match (expansion, &address.key) {
        (None, None) => true,
        (Some(e), Some(k)) => e.name() == k.meta_argument(),
        _ => false,
    };
    if !fits {
        return Err(match expansion {
            Some(e) => {
                let example = match e {
                    crate::scope::Expansion::Count => format!("'{key_prefix}{name}[0]'"),
                    crate::scope::Expansion::ForEach => {
                        format!("'{key_prefix}{name}[\"KEY\"]'")
                    }
                };
                refuse(
                    format!("`{name}` uses {}: import one instance", e.name()),
                    format!("e.g. plinth import {example} ID"),
                )
            }
            None => refuse(
                format!("`{name}` has no for_each or count: import it as `{name}`"),
                format!("plinth import {key_prefix}{name} ID"),
            ),
        });
    }
    let (provider, t) = ws.registry.lookup(&decl.type_name).ok_or_else(|| {
        refuse(
            format!("unknown type {}", decl.type_name),
            "`plinth schema` lists the types this build knows".into(),
        )
    })?;
    let key = address.to_string();
    if state.resources.contains_key(&key) {
        return Err(refuse(
            format!("`{key}` is already in state"),
            "use `plinth state rm` first if you mean to adopt a different object".into(),
        ));
    }
    let tables = SettingsTables::new(ws.config, ws.registry);
    // The module instance must be one the configuration produces; its scope is built from
    // what state holds (the call's for_each/count and inputs evaluated in the caller).
    let values = crate::state_values::state_values(ws.registry, state.resources.values());
    let mut root = ws.scope(&values, Iteration::None);
    root.tree = Some(&tree);
    root.lazy = true;
    if !address.module.is_empty() {
        root.descend(&address.module).map_err(|d| {
            refuse(
                format!("`{key}` cannot be imported: {}", d.message),
                "import into a module instance the configuration produces (its call's for_each/count), once what its inputs refer to is in state".into(),
            )
        })?;
    }
    let settings = match tables.source(&tree, m, provider.name()) {
        Source::Call { module, table } => {
            let depth = tree.get(module).path.len();
            let (caller, _, iteration) = root
                .call_site(&address.module[..depth])
                .map_err(EngineError::from)?;
            let called = tree.get(module);
            let call = called.call.expect("a called module has a call");
            let parent = called.parent.expect("a called module has a caller");
            tables
                .eval_table(
                    tree.get(parent).config,
                    &call.providers[table],
                    &caller.with_iteration(iteration),
                )
                .map_err(EngineError::from)?
        }
        Source::Root(_) | Source::None => {
            let settings = tables.eval_from_state(
                ws.config,
                ws.vars,
                ws.env,
                ws.registry,
                state.resources.values(),
            )?;
            settings_for(&settings, provider.name()).clone()
        }
    };
    if !settings.is_wholly_known() {
        return Err(refuse(
            format!(
                "`{key}` cannot be imported yet: its provider's settings name a resource that is not in state"
            ),
            format!("apply that resource first (plinth apply --target ...), then import `{key}`"),
        ));
    }
    let req = Request::new(&t, &key, &NullReporter).with_settings(&settings);
    let (mut obs, inputs) =
        provider
            .import(&req, id)
            .await
            .map_err(|source| EngineError::Provider {
                address: key.clone(),
                source,
            })?;
    obs.id = obs.id.or(Some(id.to_string()));
    // Recorded as an `[[import]]` records it: the configuration as it evaluates now is what
    // was "applied"; the provider's inputs only when it cannot be evaluated yet.
    let inputs = configured_inputs(ws, &root, decl, address, &obs.attributes).unwrap_or(inputs);
    let (record, _) = object_record(
        ws.registry,
        Recording {
            address: &key,
            type_name: &decl.type_name,
            mode: plinth_state::DeclKind::Resource,
            inputs: &inputs,
            settings: &settings,
            dependencies: Vec::new(),
        },
        obs,
    );
    Ok(record)
}

/// The configuration of `decl` for the instance `address`, evaluated against what state
/// holds, as the inputs of the object adopted there ([`adopted_inputs`]); `None` when it
/// cannot be evaluated.
fn configured_inputs(
    ws: &Workspace<'_>,
    scope: &crate::scope::Scope<'_>,
    decl: &plinth_config::ResourceDecl,
    address: &Address,
    attributes: &plinth_value::Value,
) -> Option<plinth_value::Value> {
    use crate::scope::Expansion;
    use plinth_addr::InstanceKey;
    use plinth_value::Value;
    let here = scope.descend(&address.module).ok()?;
    let iteration = match (Expansion::of(decl), &address.key) {
        (None, None) => Iteration::None,
        (Some(Expansion::Count), Some(InstanceKey::Int(i))) => Iteration::Count(*i),
        (Some(Expansion::ForEach), Some(InstanceKey::Str(k))) => {
            let v = decl.for_each.as_ref()?.eval(&here).ok()?;
            let value = match v.unmarked() {
                Value::Map(m) => m.get(k)?.clone(),
                _ => Value::from(k.as_str()),
            };
            Iteration::Each {
                key: Value::from(k.as_str()),
                value,
            }
        }
        _ => return None,
    };
    let mut config = decl.inputs.eval(&here.with_iteration(iteration)).ok()?;
    if let Some(schema) = crate::inputs::schema_of(ws.registry, &decl.type_name) {
        plinth_provider::diff::mark_sensitive(&schema, &mut config);
    }
    Some(adopted_inputs(
        ws.registry,
        &decl.type_name,
        &config,
        attributes,
    ))
}

/// The static module of the instance `address` is in; an error naming the nearest call when
/// the configuration has no such module.
fn module_of(tree: &ModTree<'_>, address: &Address) -> Result<usize, EngineError> {
    let mut m = crate::tree::ROOT;
    for step in &address.module {
        let Some(child) = tree.child(m, &step.name) else {
            let calls = tree
                .get(m)
                .config
                .module_calls
                .iter()
                .map(|c| c.name.as_str());
            let help = match plinth_config::did_you_mean(&step.name, calls) {
                Some(s) => format!("did you mean `module.{s}`?"),
                None => "import into a module the configuration calls ([module.NAME])".into(),
            };
            return Err(Diagnostic::new(format!(
                "`{address}` is in `module.{}`, which {} does not call",
                step.name,
                if m == crate::tree::ROOT {
                    "the configuration".to_string()
                } else {
                    format!("`{}`", tree.prefix(m).trim_end_matches('.'))
                }
            ))
            .help(help)
            .into());
        };
        m = child;
    }
    Ok(m)
}

/// The inputs an object an `[[import]]` adopts is recorded with (and planned against): the
/// known part of the evaluated configuration, without the values the object read does not
/// show (a write-only secret): what the configuration does not set, or sets from what is not
/// known yet, is not a change, and a value that cannot be compared is one.
pub(crate) fn adopted_inputs(
    registry: &plinth_provider::Registry,
    type_name: &str,
    config: &plinth_value::Value,
    attributes: &plinth_value::Value,
) -> plinth_value::Value {
    let mut v = known_part(config);
    if let Some((provider, t)) = registry.lookup(type_name) {
        // From the last leaf on, so that removing a list item does not shift the others.
        for leaf in v.leaf_paths().into_iter().rev() {
            if let Some(at) = provider.attribute_path(&t, &leaf)
                && attributes.get(&at).is_none()
            {
                v.remove(&leaf);
            }
        }
    }
    v
}

/// The known part of an evaluated configuration (its unknown values removed).
fn known_part(config: &plinth_value::Value) -> plinth_value::Value {
    let mut v = config.clone();
    for p in config.unknown_paths() {
        if p.is_root() {
            return plinth_value::Value::Null;
        }
        v.remove(&p);
    }
    v
}
