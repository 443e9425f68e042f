//! `plinth import ADDRESS ID`: adopting an existing object into state under a declared
//! address. The object is read where the provider's settings point as state knows them (the
//! cluster a Kubernetes object lives in), and recorded exactly as apply records objects.

use plinth_addr::{Address, DeclKind};
use plinth_config::Diagnostic;
use plinth_provider::{NullReporter, Request};
use plinth_state::{ResourceState, State};

use crate::error::EngineError;
use crate::records::{Recording, object_record};
use crate::settings::{SettingsTables, settings_for};
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
    if address.kind != DeclKind::Resource || address.deposed || !address.module.is_empty() {
        return Err(refuse(
            format!("only resources can be imported; `{address}` is not a resource address"),
            "name a [resource.NAME] of the configuration, e.g. rg or app[\"blue\"]".into(),
        ));
    }
    let name = &address.name;
    let Some(decl) = ws.config.resource(DeclKind::Resource, name) else {
        let names = ws
            .config
            .resources
            .iter()
            .filter(|r| r.mode == DeclKind::Resource);
        return Err(refuse(
            format!("`{name}` is not declared in the configuration"),
            match plinth_config::did_you_mean(name, names.map(|r| r.name.as_str())) {
                Some(s) => {
                    format!("did you mean `{s}`? Declare the resource first, then import it")
                }
                None => format!("declare it first as [resource.{name}], then import it"),
            },
        ));
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
                    crate::scope::Expansion::Count => format!("'{name}[0]'"),
                    crate::scope::Expansion::ForEach => format!("'{name}[\"KEY\"]'"),
                };
                refuse(
                    format!("`{name}` uses {}: import one instance", e.name()),
                    format!("e.g. plinth import {example} ID"),
                )
            }
            None => refuse(
                format!("`{name}` has no for_each or count: import it as `{name}`"),
                format!("plinth import {name} ID"),
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
    let settings = tables.eval_from_state(
        ws.config,
        ws.vars,
        ws.env,
        ws.registry,
        state.resources.values(),
    )?;
    let settings = settings_for(&settings, provider.name()).clone();
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
