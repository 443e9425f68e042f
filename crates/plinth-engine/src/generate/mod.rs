//! `plinth plan --generate-config FILE`: configuration for the `[[import]]` blocks whose `to`
//! has no declaration yet, from what the providers read. Each object is read with
//! `Provider::import` (which says what inputs a configuration needs to match it) where its
//! provider's settings point; settings naming another imported object (`[provider.kubernetes]
//! cluster = "aks"` with `aks` imported too) are evaluated with what was read so far, in
//! rounds until no more can be read. [`toml`] writes the text; the binary writes the file and
//! plans with it.

mod toml;

use std::collections::BTreeMap;

use plinth_config::{Config, Diagnostic, Diagnostics, Loc, Node, NodeKind, ResourceDecl};
use plinth_provider::{NullReporter, Request, diff};
use plinth_state::State;
use plinth_value::{Path, Value};

use crate::addr::{Address, DeclKind};
use crate::error::EngineError;
use crate::plan::imports::{self, PlannedImport};
use crate::scope::Scope;
use crate::settings::{SettingsTables, prefix_of};
use crate::tree::ModTree;
use crate::workspace::Workspace;

/// What `plan --generate-config` generated.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The file's text (TOML).
    pub text: String,
    /// The addresses it declares, in the order of their `[[import]]` blocks.
    pub addresses: Vec<String>,
}

/// One undeclared import target.
struct Pending<'p> {
    name: String,
    type_name: String,
    import: &'p PlannedImport,
}

/// Generates configuration for the imports of `ws` whose target is undeclared; `None` when
/// every target is declared. Nothing is written: the caller writes the text.
pub async fn generate_config(
    ws: &Workspace<'_>,
    state: Option<&State>,
) -> Result<Option<Generated>, EngineError> {
    let config = ws.config;
    let diags = crate::validate::imports::check(config, ws.registry, true);
    if !diags.is_empty() {
        return Err(diags.into());
    }
    let tree = ModTree::new(config);
    let expanded = imports::expand(ws, &tree)?;
    let mut pending: Vec<Pending<'_>> = Vec::new();
    for (address, i) in &expanded.by_address {
        let Ok(addr) = address.parse::<Address>() else {
            continue;
        };
        if !addr.module.is_empty() || config.resource(DeclKind::Resource, &addr.name).is_some() {
            continue;
        }
        let Some(type_name) = i.type_name.clone() else {
            continue; // validated: an undeclared target has a type
        };
        pending.push(Pending {
            name: addr.name,
            type_name,
            import: i,
        });
    }
    if pending.is_empty() {
        return Ok(None);
    }
    // The block order, so the file follows the configuration.
    pending.sort_by_key(|p| (p.import.loc.file, p.import.loc.span.start));
    let cfg = with_stubs(config, &pending);
    let tables = SettingsTables::new(&cfg, ws.registry);
    let mut values = crate::state_values::state_values(
        ws.registry,
        state.into_iter().flat_map(|s| s.resources.values()),
    );
    let mut read: BTreeMap<String, toml::Object> = BTreeMap::new();
    // Values the service computed for an object read (a cluster's issuer URL, an identity's
    // principal), by value: the reference that gives each (`None`: several do).
    let mut computed: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut failed = std::collections::HashSet::new();
    let mut diags = Diagnostics::default();
    loop {
        let mut progress = false;
        for p in &pending {
            if read.contains_key(&p.name) || failed.contains(&p.name) {
                continue;
            }
            let Some((provider, t)) = ws.registry.lookup(&p.type_name) else {
                continue;
            };
            let settings = match tables.table_of(prefix_of(&p.type_name)) {
                None => Value::Null,
                Some(decl) => {
                    let scope = Scope {
                        registry: Some(ws.registry),
                        config: Some(&cfg),
                        dir: Some(ws.dir),
                        ..Scope::new(ws.vars, ws.env, &values)
                    };
                    match tables.eval(&cfg, decl, &scope) {
                        Ok(v) => v,
                        Err(_) => continue, // what the settings name is not read yet
                    }
                }
            };
            if !settings.is_wholly_known() {
                continue;
            }
            let req = Request::new(&t, &p.name, &NullReporter).with_settings(&settings);
            match provider.import(&req, &p.import.id).await {
                Ok((obs, mut inputs)) => {
                    if let Some(schema) = provider.schema(&t) {
                        diff::mark_sensitive(&schema, &mut inputs);
                    }
                    let mut attrs = obs.attributes;
                    let id = obs.id.unwrap_or_else(|| p.import.id.clone());
                    if attrs.get(&Path::root().key("id")).is_none()
                        && matches!(attrs, Value::Map(_))
                    {
                        attrs.set(&Path::root().key("id"), Value::String(id.clone()));
                    }
                    if let Some(schema) = provider.schema(&t) {
                        computed_values(&p.name, &attrs, &schema.computed, &mut computed);
                    }
                    values.set(&Address::resource(p.name.clone()), attrs, true);
                    read.insert(
                        p.name.clone(),
                        toml::Object {
                            name: p.name.clone(),
                            type_name: p.type_name.clone(),
                            id,
                            block: place(config, &p.import.loc),
                            inputs,
                        },
                    );
                    progress = true;
                }
                Err(e) => {
                    let gone = e.code.as_deref().is_some_and(|c| c.contains("NotFound"));
                    diags.push(
                        Diagnostic::at(
                            if gone {
                                format!(
                                    "no object with id `{}` exists to generate `{}` from",
                                    p.import.id, p.name
                                )
                            } else {
                                format!(
                                    "reading `{}` to generate `{}` failed: {e}",
                                    p.import.id, p.name
                                )
                            },
                            p.import.loc.clone(),
                        )
                        .subject(p.name.clone())
                        .label("this import")
                        .help("check the id, or remove the [[import]] block"),
                    );
                    failed.insert(p.name.clone());
                }
            }
        }
        if !progress {
            break;
        }
    }
    for p in pending
        .iter()
        .filter(|p| !read.contains_key(&p.name) && !failed.contains(&p.name))
    {
        diags.push(
            Diagnostic::at(
                format!("`{}` could not be read: its provider's settings name an object that is neither in state nor imported", p.name),
                p.import.loc.clone(),
            )
            .subject(p.name.clone())
            .label("not read")
            .help("import what [provider.…] names too (e.g. the AKS cluster of `cluster = \"aks\"`), or apply it first"),
        );
    }
    diags.into_result()?;
    // Ids of the configuration's objects: what state holds (at the root), what the blocks
    // import.
    let mut ids = BTreeMap::new();
    for r in state.into_iter().flat_map(|s| s.resources.values()) {
        if let (Some(id), Ok(a)) = (&r.id, r.address.parse::<Address>())
            && a.module.is_empty()
            && !r.deposed
            && a.kind == DeclKind::Resource
        {
            ids.insert(id.to_ascii_lowercase(), a.to_string());
        }
    }
    for (address, i) in &expanded.by_address {
        if !address.starts_with("module.") {
            ids.insert(i.id.to_ascii_lowercase(), address.clone());
        }
    }
    for o in read.values() {
        ids.insert(o.id.to_ascii_lowercase(), o.name.clone());
    }
    let objects: Vec<toml::Object> = pending
        .iter()
        .filter_map(|p| read.remove(&p.name))
        .collect();
    Ok(Some(Generated {
        text: toml::render(
            &objects,
            &ids,
            &computed
                .into_iter()
                .filter_map(|(v, r)| Some((v, r?)))
                .collect(),
        ),
        addresses: objects.iter().map(|o| o.name.clone()).collect(),
    }))
}

/// The configuration with an empty declaration for each undeclared target, so that
/// settings naming one (`cluster = "aks"`) are read as a reference to it.
fn with_stubs(config: &Config, pending: &[Pending<'_>]) -> Config {
    let mut cfg = Config::default();
    cfg.variables = config.variables.clone();
    cfg.providers = config.providers.clone();
    cfg.locals = config.locals.clone();
    cfg.files = config.files.clone();
    cfg.resources = config.resources.clone();
    for p in pending {
        cfg.resources.push(ResourceDecl {
            mode: DeclKind::Resource,
            name: p.name.clone(),
            loc: p.import.loc.clone(),
            type_name: p.type_name.clone(),
            type_loc: p.import.loc.clone(),
            inputs: Node {
                kind: NodeKind::Table(Vec::new()),
                loc: p.import.loc.clone(),
                content_offset: None,
                escapes: None,
            },
            depends_on: Vec::new(),
            for_each: None,
            count: None,
            lifecycle: Default::default(),
        });
    }
    cfg
}

/// `main.toml:12`: the file and line of `loc`.
fn place(config: &Config, loc: &Loc) -> String {
    let file = config.sources.get(loc.file);
    let line = file
        .text
        .get(..loc.span.start)
        .map_or(1, |t| t.matches('\n').count() + 1);
    format!("{}:{line}", file.name)
}

/// Records the string values at `paths` (attribute paths the provider computes) of the object
/// `name`, long enough to be unmistakable (a UUID, a URL), as the references that give them:
/// `aks.properties.oidcIssuerProfile.issuerURL`. A value two objects have is no reference.
fn computed_values(
    name: &str,
    attrs: &Value,
    paths: &[Path],
    out: &mut BTreeMap<String, Option<String>>,
) {
    for path in paths {
        let Some(Value::String(v)) = attrs.get(path) else {
            continue;
        };
        let text = path.to_string();
        let plain = text
            .split('.')
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if v.len() < 16 || v.contains(char::is_whitespace) || !plain || text == "id" {
            continue;
        }
        let reference = format!("{name}.{text}");
        out.entry(v)
            .and_modify(|r| {
                if r.as_deref() != Some(reference.as_str()) {
                    *r = None;
                }
            })
            .or_insert(Some(reference));
    }
}
