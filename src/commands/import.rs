//! `plinth import ADDRESS ID`: adopts an existing object into state under a declared address.

use std::path::Path;

use plinth_engine::Address;
use plinth_state::{Change, Status};

use super::shared::load_warned;
use crate::Common;
use crate::backend;
use crate::error::CliError;
use crate::workspace;

pub(super) async fn import(
    address: &str,
    id: &str,
    dir: &Path,
    common: &Common,
) -> Result<u8, CliError> {
    let mut loaded = workspace::load(dir, common)?;
    workspace::attach_sim(&mut loaded, common).await?;
    let addr = address
        .parse::<Address>()
        .map_err(|e| CliError::help(e.to_string(), "addresses look like rg or app[\"blue\"]"))?;
    if addr.kind != plinth_engine::DeclKind::Resource {
        return Err(CliError::msg(format!(
            "only resources can be imported; `{address}` is not a resource address"
        )));
    }
    let Some(decl) = loaded
        .config
        .resource(plinth_config::Mode::Managed, &addr.name)
    else {
        let names: Vec<&str> = loaded
            .config
            .resources
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        return Err(CliError::help(
            format!("`{}` is not declared in the configuration", addr.name),
            match plinth_config::did_you_mean(&addr.name, names.iter().copied()) {
                Some(s) => {
                    format!("did you mean `{s}`? Declare the resource first, then import it")
                }
                None => format!(
                    "declare it first as [resource.{}], then import it",
                    addr.name
                ),
            },
        ));
    };
    if decl.for_each.is_some() != addr.key.is_some() {
        return Err(CliError::msg(if decl.for_each.is_some() {
            format!(
                "`{}` uses for_each: import one instance, e.g. {}[\"KEY\"]",
                addr.name, addr.name
            )
        } else {
            format!(
                "`{}` has no for_each: import it as `{}`",
                addr.name, addr.name
            )
        }));
    }
    let (provider, t) = loaded
        .registry
        .lookup(&decl.type_name)
        .ok_or_else(|| CliError::msg(format!("unknown type {}", decl.type_name)))?;
    let backend = backend::of(&loaded)?;
    let _lock = backend.lock("import", common.lock_timeout)?;
    let state = load_warned(backend.as_ref())?.unwrap_or_default();
    let key = addr.to_string();
    if state.resources.contains_key(&key) {
        return Err(CliError::help(
            format!("`{key}` is already in state"),
            "use `plinth state rm` first if you mean to adopt a different object",
        ));
    }
    // The object is looked up where the provider's settings point as state knows them
    // (e.g. the cluster a Kubernetes object lives in).
    let settings = plinth_engine::settings::SettingsTables::new(&loaded.config, &loaded.registry)
        .from_state(
            &loaded.config,
            &loaded.vars,
            &loaded.env,
            &loaded.registry,
            state.resources.values(),
        )
        .map_err(|d| CliError::Config(loaded.config.sources.clone(), d))?;
    let settings = plinth_engine::settings::settings_for(&settings, provider.name()).clone();
    if !settings.is_wholly_known() {
        return Err(CliError::help(
            format!(
                "`{key}` cannot be imported yet: its provider's settings name a resource that is not in state"
            ),
            format!("apply that resource first (plinth apply --target ...), then import `{key}`"),
        ));
    }
    let req = plinth_provider::Request::new(&t, &key, &plinth_provider::NullReporter)
        .with_settings(&settings);
    let (obs, inputs) = provider
        .import(&req, id)
        .await
        .map_err(|e| CliError::msg(format!("importing `{key}` failed: {e}")))?;
    // Marked as every object a provider reports: the schema's secrets, and each sensitive
    // input where the object reports it.
    let mut attrs = obs.attributes;
    plinth_engine::marks::mark_attributes(&loaded.registry, &decl.type_name, &inputs, &mut attrs);
    let sensitive_paths = plinth_engine::marks::recorded_paths(&inputs, &attrs);
    let (inputs, attributes) = (inputs.to_json(), attrs.to_json());
    let mut writer = backend.open_writer(state)?;
    writer.record(Change::Put(Box::new(plinth_state::ResourceState {
        address: key.clone(),
        type_name: decl.type_name.clone(),
        mode: plinth_state::Mode::Managed,
        id: obs.id.or(Some(id.to_string())),
        inputs,
        attributes,
        dependencies: vec![],
        sensitive_paths,
        status: Status::Created,
        deposed: false,
        // Where the object lives (a Kubernetes object's cluster), as for objects plinth creates.
        settings: (!provider.settings_references().is_empty()
            && !matches!(settings, plinth_value::Value::Null))
        .then(|| settings.to_json()),
    })))?;
    writer.compact()?;
    outln!(
        "Imported `{key}` ({id}). Run `plinth plan` to see how the configuration differs from it."
    );
    Ok(0)
}
