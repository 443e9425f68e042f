//! Static checks of `[provider.NAME]` tables: keys the provider does not take, and keys that
//! must name a resource (`cluster = "aks"`) naming one that is not there or of a type the
//! provider cannot use. Called by `validate`.

use plinth_config::{Config, Diagnostic, Diagnostics, NodeKind, did_you_mean};
use plinth_provider::Registry;

use crate::addr::DeclKind;

/// Keys of a settings table the provider does not take (when it lists its keys).
pub(crate) fn keys(
    d: &mut Diagnostics,
    provider: &dyn plinth_provider::Provider,
    p: &plinth_config::ProviderDecl,
) {
    let known = provider.settings_keys();
    let NodeKind::Table(entries) = &p.config.kind else {
        return;
    };
    if known.is_empty() {
        return;
    }
    for (key, loc, _) in entries {
        if !known.contains(&key.as_str()) {
            d.push(
                Diagnostic::at(
                    format!("[provider.{}] has no setting `{key}`", p.name),
                    loc.clone(),
                )
                .label("unknown setting")
                .help(match did_you_mean(key, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? (settings: {})", known.join(", ")),
                    None => format!("its settings are {}", known.join(", ")),
                }),
            );
        }
    }
}

/// A settings key that names a resource (`[provider.kubernetes] cluster = "aks"`) must name
/// one: a bare word that is not a resource is a misspelling, not an id (ids hold `/`).
pub(crate) fn names(
    d: &mut Diagnostics,
    config: &Config,
    registry: &Registry,
    p: &plinth_config::ProviderDecl,
) {
    let Some(provider) = registry.providers().find(|x| x.settings_table() == p.name) else {
        return;
    };
    for key in provider.settings_references() {
        let Some(node) = p.config.entry(key) else {
            continue;
        };
        let NodeKind::Lit(plinth_value::Value::String(name)) = &node.kind else {
            continue;
        };
        if name.contains('/') {
            continue;
        }
        if let Some(r) = config.resource(DeclKind::Resource, name) {
            if !provider.settings_reference_accepts(key, &r.type_name) {
                let fits = config
                    .resources
                    .iter()
                    .filter(|r| {
                        r.mode == DeclKind::Resource
                            && provider.settings_reference_accepts(key, &r.type_name)
                    })
                    .map(|r| format!("`{}`", r.name))
                    .collect::<Vec<_>>();
                d.push(
                    Diagnostic::at(
                        format!(
                            "[provider.{}] {key} = \"{name}\": `{name}` is a {}, which a {key} cannot be",
                            p.name, r.type_name
                        ),
                        node.loc.clone(),
                    )
                    .label(format!("not a resource a {key} can name"))
                    .help(if fits.is_empty() {
                        format!(
                            "name a resource of a type the {} provider takes as its {key}, or configure [provider.{}] another way",
                            p.name, p.name
                        )
                    } else {
                        format!("did you mean {}?", fits.join(" or "))
                    }),
                );
            }
            continue;
        }
        let names = config
            .resources
            .iter()
            .filter(|r| r.mode == DeclKind::Resource)
            .map(|r| r.name.as_str());
        d.push(
            Diagnostic::at(
                format!("[provider.{}] {key} = \"{name}\": no resource is named `{name}`", p.name),
                node.loc.clone(),
            )
            .label("not a resource")
            .help(match did_you_mean(name, names) {
                Some(s) => format!("did you mean `{s}`? ({key} names a resource of this configuration, or is a full resource id)"),
                None => format!("{key} names a resource of this configuration (e.g. {key} = \"aks\"), or is a full resource id"),
            }),
        );
    }
}
