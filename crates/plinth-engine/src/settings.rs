//! Provider settings (`[provider.NAME]`), evaluated for each request.
//!
//! A settings table may refer to resources: `[provider.kubernetes] cluster = "aks"` (a bare
//! name, for keys the provider lists in [`Provider::settings_references`]) or
//! `cluster = "${aks.id}"`. So settings are not fixed for a run: while planning they are
//! evaluated with planned values (the cluster's id may be unknown), during apply with the
//! values known by then, and for objects that already exist (refresh, deletes) with the values
//! recorded in state. In the graph a table is a node: what it refers to comes before it, and
//! every object of its provider after it.
//!
//! [`Provider::settings_references`]: plinth_provider::Provider::settings_references

use std::collections::{HashMap, HashSet};

use plinth_config::{Config, Diagnostic, Diagnostics, Loc, NodeKind};
use plinth_provider::Registry;
use plinth_state::ResourceState;
use plinth_value::{Path, Value};

use crate::addr::{Address, DeclKind};
use crate::refs::node_refs;
use crate::scope::{DeclValue, Scope, Values};
use crate::tree::ModTree;

/// One `[provider.NAME]` table and the provider it configures.
#[derive(Clone, Debug)]
struct Table {
    /// Index into `config.providers`.
    decl: usize,
    /// The type prefix of the provider (`k8s` for `[provider.kubernetes]`).
    prefix: String,
    /// Keys whose string value may name a resource.
    refs: Vec<String>,
}

/// The settings tables of a configuration, by the providers they configure.
#[derive(Clone, Debug, Default)]
pub struct SettingsTables {
    tables: Vec<Table>,
    /// Every provider's type prefix → the name of its settings table and the keys that may
    /// name a resource (for the tables module calls give their modules).
    providers: HashMap<String, (String, Vec<String>)>,
}

/// Where the objects of one provider in one static module take their settings from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The root's `[provider.X]` table: an index into the root's `config.providers`.
    Root(usize),
    /// `[module.NAME.providers.X]` of the call that makes static module `module` (an index
    /// into that call's `providers`), evaluated in the caller's scope per call instance.
    Call {
        /// The static module the call makes.
        module: usize,
        /// The index into the call's `providers`.
        table: usize,
    },
    /// No table: the provider's defaults (requests carry `Null`).
    None,
}

/// Provider settings by type prefix; a provider with no table is absent (its requests carry
/// `Null`).
pub type Settings = HashMap<String, Value>;

/// The settings of `prefix`, `Null` when there are none.
pub fn settings_for<'s>(settings: &'s Settings, prefix: &str) -> &'s Value {
    static NULL: Value = Value::Null;
    settings.get(prefix).unwrap_or(&NULL)
}

/// Evaluates the `[provider.NAME]` table of a provider configured once per run (Azure's):
/// it may use variables and the environment, not resources. `None` when there is no table.
pub fn eval_static(
    config: &Config,
    vars: &std::collections::BTreeMap<String, Value>,
    env: &std::collections::BTreeMap<String, String>,
    name: &str,
) -> Result<Option<Value>, Diagnostics> {
    let Some(p) = config.providers.iter().find(|p| p.name == name) else {
        return Ok(None);
    };
    let values = Values::default();
    let scope = Scope {
        config: Some(config),
        ..Scope::new(vars, env, &values)
    };
    p.config.eval(&scope).map(Some).map_err(Diagnostics::from)
}

/// `[provider.NAME]` tables no provider of `registry` takes, as located errors (with the
/// nearest name); what `validate` reports too, for callers that configure providers first.
pub fn unknown_tables(config: &Config, registry: &Registry) -> Diagnostics {
    let tables: Vec<&str> = registry.providers().map(|x| x.settings_table()).collect();
    let mut d = Diagnostics::default();
    for p in &config.providers {
        if !tables.contains(&p.name.as_str()) {
            d.push(
                Diagnostic::at(format!("unknown provider `{}`", p.name), p.loc.clone())
                    .label("no such provider")
                    .help(
                        match plinth_config::did_you_mean(&p.name, tables.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("providers with settings: {}", tables.join(", ")),
                        },
                    ),
            );
        }
    }
    d
}

/// The type prefix of a full type name (`k8s` of `k8s:v1/ServiceAccount`).
pub fn prefix_of(full_type: &str) -> &str {
    plinth_addr::TypeName::provider_of(full_type)
}

impl SettingsTables {
    /// Pairs each `[provider.NAME]` table with the provider whose settings table it is.
    /// Tables no provider claims are left out (validation reports them).
    pub fn new(config: &Config, registry: &Registry) -> Self {
        let mut tables = Vec::new();
        let providers = registry
            .providers()
            .map(|x| {
                let refs = x.settings_references().iter().map(|s| s.to_string());
                (
                    x.name().to_string(),
                    (x.settings_table().to_string(), refs.collect()),
                )
            })
            .collect();
        for (i, p) in config.providers.iter().enumerate() {
            if let Some(provider) = registry.providers().find(|x| x.settings_table() == p.name) {
                tables.push(Table {
                    decl: i,
                    prefix: provider.name().to_string(),
                    refs: provider
                        .settings_references()
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                });
            }
        }
        SettingsTables { tables, providers }
    }

    /// Where objects of the provider of `prefix` in static module `m` take their settings
    /// from: the nearest call on the way up to the root that gives the module a table for
    /// it (`[module.NAME.providers.X]`, inherited by nested modules), else the root's.
    pub fn source(&self, tree: &ModTree<'_>, m: usize, prefix: &str) -> Source {
        let Some((name, _)) = self.providers.get(prefix) else {
            return Source::None;
        };
        let mut at = m;
        loop {
            let module = tree.get(at);
            let (Some(call), Some(parent)) = (module.call, module.parent) else {
                break;
            };
            if let Some(j) = call.providers.iter().position(|p| p.name == *name) {
                return Source::Call {
                    module: at,
                    table: j,
                };
            }
            at = parent;
        }
        match self.table_of(prefix) {
            Some(i) => Source::Root(i),
            None => Source::None,
        }
    }

    /// The type prefix of the provider whose settings table is `name`.
    pub fn prefix_of_table(&self, name: &str) -> Option<&str> {
        self.providers
            .iter()
            .find(|(_, (table, _))| table == name)
            .map(|(prefix, _)| prefix.as_str())
    }

    /// The resources the reference keys of a call's table `p` name by a bare word in its
    /// caller `config` (`cluster = "aks2"`); its `${...}` references are found as any node's.
    pub fn named_resources(
        &self,
        config: &Config,
        p: &plinth_config::ProviderDecl,
    ) -> Vec<(String, Loc)> {
        self.refs_of_table(&p.name)
            .iter()
            .filter_map(|key| bare_name(config, &p.config, key))
            .collect()
    }

    fn refs_of_table(&self, name: &str) -> &[String] {
        self.providers
            .values()
            .find(|(table, _)| table == name)
            .map(|(_, refs)| refs.as_slice())
            .unwrap_or(&[])
    }

    /// `(index into config.providers, type prefix)` of every table.
    pub fn tables(&self) -> impl Iterator<Item = (usize, &str)> {
        self.tables.iter().map(|t| (t.decl, t.prefix.as_str()))
    }

    /// The table configuring the provider of `prefix`.
    pub fn table_of(&self, prefix: &str) -> Option<usize> {
        self.tables
            .iter()
            .find(|t| t.prefix == prefix)
            .map(|t| t.decl)
    }

    fn table(&self, decl: usize) -> Option<&Table> {
        self.tables.iter().find(|t| t.decl == decl)
    }

    /// The declarations a table refers to: its `${...}` references, and the resources its
    /// reference keys name.
    pub fn references(&self, config: &Config, decl: usize) -> Vec<((DeclKind, String), Loc)> {
        let node = &config.providers[decl].config;
        let mut out = node_refs(node);
        if let Some(t) = self.table(decl) {
            for key in &t.refs {
                if let Some((name, loc)) = bare_name(config, node, key) {
                    out.push(((DeclKind::Resource, name), loc));
                }
            }
        }
        out
    }

    /// Evaluates one root table in `scope`.
    pub fn eval(
        &self,
        config: &Config,
        decl: usize,
        scope: &Scope<'_>,
    ) -> Result<Value, Diagnostic> {
        self.eval_table(config, &config.providers[decl], scope)
    }

    /// Evaluates table `p` of `config` (the root's `[provider.X]`, or a call's
    /// `[module.NAME.providers.X]` in its caller) in `scope`, a scope of that module: a
    /// reference key naming a resource (`cluster = "aks"`) gives that resource's id in the
    /// scope's module instance.
    pub fn eval_table(
        &self,
        config: &Config,
        p: &plinth_config::ProviderDecl,
        scope: &Scope<'_>,
    ) -> Result<Value, Diagnostic> {
        let mut value = p.config.eval(scope)?;
        for key in self.refs_of_table(&p.name) {
            let Some((name, loc)) = bare_name(config, &p.config, key) else {
                continue;
            };
            let id = match scope.values.get_in(&scope.inst, DeclKind::Resource, &name) {
                Some(DeclValue::Single(inst)) => match inst.value.get(&Path::root().key("id")) {
                    Some(id) if !matches!(id, Value::Null) => id,
                    _ if !inst.complete => Value::Unknown,
                    _ => {
                        return Err(Diagnostic::at(
                            format!("[provider.{}] {key}: `{name}` has no id", p.name),
                            loc,
                        )
                        .help(format!("name a resource that has an id, or write {key} = \"${{{name}.<attribute>}}\"")));
                    }
                },
                Some(DeclValue::Unknown) => Value::Unknown,
                Some(many @ (DeclValue::Instances(_) | DeclValue::Counted(_))) => {
                    let one = match many {
                        DeclValue::Counted(_) => format!("{name}[0]"),
                        _ => format!("{name}[\\\"KEY\\\"]"),
                    };
                    return Err(Diagnostic::at(
                        format!(
                            "[provider.{}] {key}: `{name}` has several instances",
                            p.name
                        ),
                        loc,
                    )
                    .help(format!("name one of them: {key} = \"${{{one}.id}}\"")));
                }
                None => Value::Unknown,
            };
            value.set(&Path::root().key(key), id);
        }
        Ok(value)
    }

    /// Evaluates every table in `scope`.
    pub fn eval_all(&self, config: &Config, scope: &Scope<'_>) -> Result<Settings, Diagnostics> {
        let mut out = Settings::new();
        let mut diags = Diagnostics::default();
        for t in &self.tables {
            match self.eval(config, t.decl, scope) {
                Ok(v) => {
                    out.insert(t.prefix.clone(), v);
                }
                Err(d) => diags.push(d),
            }
        }
        diags.into_result().map(|()| out)
    }

    /// The declarations (by name) any table refers to.
    fn referenced(&self, config: &Config) -> HashSet<(DeclKind, String)> {
        crate::refs::through_locals(
            config,
            self.tables
                .iter()
                .flat_map(|t| self.references(config, t.decl))
                .map(|(k, _)| k),
        )
    }

    /// Settings as the objects recorded in `resources` see them: for refresh and deletes,
    /// which talk to what exists. Only the records the tables refer to are read.
    pub fn eval_from_state<'r>(
        &self,
        config: &Config,
        vars: &std::collections::BTreeMap<String, Value>,
        env: &std::collections::BTreeMap<String, String>,
        registry: &Registry,
        resources: impl Iterator<Item = &'r ResourceState>,
    ) -> Result<Settings, Diagnostics> {
        if self.tables.is_empty() {
            return Ok(Settings::new());
        }
        let wanted = self.referenced(config);
        let mut values = Values::default();
        // What is not in state does not exist yet: unknown, not an error.
        for (kind, name) in &wanted {
            values.set_unknown(&[], *kind, name);
        }
        for r in resources {
            if r.deposed {
                continue;
            }
            let Ok(addr) = r.address.parse::<Address>() else {
                continue;
            };
            // Settings tables are the root's: they name root resources only.
            if !addr.module.is_empty() || !wanted.contains(&(addr.kind, addr.name.clone())) {
                continue;
            }
            values.set(&addr, crate::marks::record_value(registry, r), true);
        }
        let scope = Scope {
            registry: Some(registry),
            config: Some(config),
            ..Scope::new(vars, env, &values)
        };
        self.eval_all(config, &scope)
    }
}

/// The resource a reference key names, when its value is a plain string naming a managed
/// resource of the configuration.
fn bare_name(config: &Config, table: &plinth_config::Node, key: &str) -> Option<(String, Loc)> {
    let node = table.entry(key)?;
    let NodeKind::Lit(Value::String(name)) = &node.kind else {
        return None;
    };
    config
        .resource(DeclKind::Resource, name)
        .map(|_| (name.clone(), node.loc.clone()))
}
