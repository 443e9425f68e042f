//! Planning: refresh what state knows, evaluate the configuration in dependency order, and
//! decide one action per address (SPEC §3).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use plinth_config::{Config, Diagnostic, Diagnostics, Mode, ResourceDecl};
use plinth_graph::NodeId;
use plinth_plan::{
    Action, Kind, OutputChange, PLAN_FORMAT, Plan, PlanMode, ReplaceOrder, ResourceChange,
};
use plinth_provider::{NullReporter, Prior, Registry, Request, TypeSchema, diff};
use plinth_state::{ResourceState, State, Status};
use plinth_value::{Path, Value};

use crate::addr::{AddrKind, Address};
use crate::events::EventSink;
use crate::graph::{self, Decl, DeclGraph};
use crate::inputs;
use crate::marks;
use crate::scope::{Scope, Values};
use crate::settings::{Settings, SettingsTables, prefix_of, settings_for};
use crate::validate;

/// What to plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    pub mode: PlanMode,
    /// Limit the plan to these addresses and what they depend on.
    pub targets: Vec<Address>,
    /// Replace these even if nothing changed.
    pub replace: Vec<Address>,
    /// Skip refreshing (plan from state as recorded).
    pub skip_refresh: bool,
    /// How many refreshes run at once.
    pub parallelism: usize,
}

/// Everything a plan is made from. The engine does no I/O of its own: the configuration is
/// already read, the state already loaded, and the providers do the talking.
pub struct PlanInput<'a> {
    pub config: &'a Config,
    pub vars: &'a BTreeMap<String, Value>,
    pub env: &'a BTreeMap<String, String>,
    pub registry: &'a Registry,
    /// The state as loaded; `None` when there is none yet.
    pub state: Option<&'a State>,
    pub config_dir: String,
    pub config_digest: String,
}

/// Makes a plan.
pub async fn plan(
    input: &PlanInput<'_>,
    opts: &PlanOptions,
    events: &dyn EventSink,
) -> Result<Plan, Diagnostics> {
    let traced = crate::events::Traced(events);
    let events: &dyn EventSink = &traced;
    let config = input.config;
    let mut diags = validate::validate(config, input.registry);
    if !diags.is_empty() {
        return Err(diags);
    }
    let graph = graph::build(config, input.registry).map_err(Diagnostics::from)?;
    let tables = SettingsTables::new(config, input.registry);
    // A target may name something only in state (e.g. to destroy it alone); a replacement
    // must be in the configuration.
    check_addresses(config, &opts.targets, "--target", input.state, &mut diags);
    check_addresses(config, &opts.replace, "--replace", None, &mut diags);
    diags.clone().into_result()?;

    let empty = State::new();
    let loaded = input.state.unwrap_or(&empty);
    let (refreshed, drift) = if opts.skip_refresh {
        (crate::refresh::Refreshed::unchanged(loaded), Vec::new())
    } else {
        // Objects that exist are read with settings as state records them (the cluster
        // they live in, say).
        let existing = tables.from_state(
            config,
            input.vars,
            input.env,
            input.registry,
            loaded.resources.values(),
        )?;
        crate::refresh::refresh(
            loaded,
            input.registry,
            &existing,
            opts.mode == PlanMode::RefreshOnly,
            opts.parallelism.max(1),
            events,
        )
        .await?
    };

    let mut planner = Planner {
        input,
        opts,
        graph: &graph,
        state: &refreshed,
        values: Values::default(),
        changes: Vec::new(),
        index: HashMap::new(),
        by_decl: HashMap::new(),
        create_checks: Vec::new(),
        diags: Diagnostics::default(),
        produced: HashSet::new(),
        outputs: Vec::new(),
        protected: Vec::new(),
        events,
        tables: &tables,
        settings: Settings::new(),
        settings_deps: HashMap::new(),
        removed_by_drift: drift
            .iter()
            .filter(|d| d.action == Action::Update)
            .filter_map(|d| {
                let (before, after) = (d.before.as_ref()?, d.after.as_ref()?);
                let gone: Vec<Path> = d
                    .changed_paths
                    .iter()
                    .filter(|p| before.get(p).is_some() && after.get(p).is_none())
                    .cloned()
                    .collect();
                (!gone.is_empty()).then(|| (d.address.clone(), gone))
            })
            .collect(),
    };
    let order = graph
        .dag
        .topo_order()
        .map_err(|_| Diagnostics::from(Diagnostic::new("dependency cycle")))?;
    if opts.mode != PlanMode::Destroy {
        for id in &order {
            planner.plan_decl(*id).await;
        }
    }
    planner.plan_deletes();
    let Planner {
        mut changes,
        diags: pd,
        outputs,
        protected,
        create_checks,
        values,
        index,
        by_decl,
        produced,
        ..
    } = planner;
    // The scope's values and the indexes hold a copy of every resource: freeing them is a
    // tenth of a 10,000-resource plan. Nothing needs to wait for it.
    drop_elsewhere((values, index, by_decl, produced));
    diags.extend(pd);
    diags.extend(find_existing(create_checks, opts.parallelism.max(1), events).await);
    diags.clone().into_result()?;

    if opts.mode == PlanMode::RefreshOnly {
        changes.clear();
    }
    let mut warnings = Vec::new();
    let mut outputs = outputs;
    if !opts.targets.is_empty() {
        let keep = targeted(&changes, &opts.targets, opts.mode == PlanMode::Destroy);
        changes.retain(|c| keep.contains(&c.address));
        // Outputs outside the target keep their last values: only those that refer to a
        // targeted change are planned (an output removed from the configuration, or one of a
        // destroy that refers to nothing targeted, stays as it is).
        let kept: HashSet<(AddrKind, String)> = changes
            .iter()
            .filter_map(|c| c.address.parse::<Address>().ok())
            .map(|a| (a.kind, a.name))
            .collect();
        outputs.retain(|o| {
            config
                .outputs
                .iter()
                .find(|d| d.name == o.name)
                .is_some_and(|d| {
                    crate::refs::node_refs(&d.value)
                        .iter()
                        .any(|(r, _)| kept.contains(r))
                })
        });
        warnings.push(
            "this plan is limited by --target: changes to other resources are not shown and will not be applied; use --target for exceptional cases, not routinely".to_string(),
        );
    }
    // prevent_destroy refuses a delete only if it is still in the plan after --target
    // (which is how the error's help says to leave such a resource out).
    for (address, d) in protected {
        if changes.iter().any(|c| c.address == address) {
            diags.push(d);
        }
    }
    diags.clone().into_result()?;
    Ok(Plan {
        format: PLAN_FORMAT.to_string(),
        mode: opts.mode,
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        lineage: input.state.map(|s| s.lineage.clone()).unwrap_or_default(),
        serial: input.state.map(|s| s.serial).unwrap_or(0),
        config_digest: input.config_digest.clone(),
        config_dir: input.config_dir.clone(),
        variables: input.vars.clone(),
        changes,
        outputs: if opts.mode == PlanMode::RefreshOnly {
            Vec::new()
        } else {
            outputs
        },
        drift,
        warnings,
        targets: opts.targets.iter().map(|t| t.to_string()).collect(),
    })
}

fn check_addresses(
    config: &Config,
    addrs: &[Address],
    flag: &str,
    state: Option<&State>,
    diags: &mut Diagnostics,
) {
    for a in addrs {
        let exists = match a.kind {
            AddrKind::Managed => config.resource(Mode::Managed, &a.name).is_some(),
            AddrKind::Data => config.resource(Mode::Data, &a.name).is_some(),
            AddrKind::Action => config.actions.iter().any(|x| x.name == a.name),
        } || state.is_some_and(|s| {
            s.resources
                .keys()
                .any(|k| k.parse::<Address>().is_ok_and(|x| x.decl() == a.decl()))
        });
        // An instance key must fit the declaration: `a["x"]` names nothing when `a` has no
        // for_each (and `a` alone names every instance of one that has).
        let for_each = match a.kind {
            AddrKind::Managed => config
                .resource(Mode::Managed, &a.name)
                .map(|r| r.for_each.is_some()),
            AddrKind::Data => config
                .resource(Mode::Data, &a.name)
                .map(|r| r.for_each.is_some()),
            AddrKind::Action => None,
        };
        let in_state =
            |addr: &Address| state.is_some_and(|s| s.resources.contains_key(&addr.to_string()));
        if exists && a.key.is_some() && for_each == Some(false) && !in_state(a) {
            diags.push(
                Diagnostic::new(format!(
                    "{flag} {a}: `{}` has no for_each, so it has no instance {a}",
                    a.decl_text()
                ))
                .help(format!("use {flag} {} without a key", a.decl_text())),
            );
            continue;
        }
        if !exists {
            let names: Vec<String> = config.resources.iter().map(|r| r.address()).collect();
            diags.push(
                Diagnostic::new(format!("{flag} {a}: no such resource in the configuration"))
                    .maybe_help(
                        plinth_config::did_you_mean(
                            &a.decl_text(),
                            names.iter().map(String::as_str),
                        )
                        .map(|s| format!("did you mean `{s}`?")),
                    ),
            );
        }
    }
}

/// Addresses kept by `--target`: the targeted instances (every instance of a declaration
/// when the target has no key) and what they depend on; for destroy, the targets and what
/// depends on them. Works on the changes' instance-level `depends_on` (for deletes: the
/// dependencies recorded in state), so a single instance can be targeted without its
/// siblings, and a target may be an address that is only in state.
fn targeted(changes: &[ResourceChange], targets: &[Address], destroy: bool) -> HashSet<String> {
    let hits = |t: &Address, address: &str| {
        // `x (deposed)` belongs to `x`.
        let base = address.strip_suffix(" (deposed)").unwrap_or(address);
        base == t.to_string()
            || (t.key.is_none() && base.parse::<Address>().is_ok_and(|a| a.decl() == *t))
    };
    let deletes: HashSet<&str> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.as_str())
        .collect();
    let mut keep: HashSet<String> = changes
        .iter()
        .filter(|c| targets.iter().any(|t| hits(t, &c.address)))
        .map(|c| c.address.clone())
        .collect();
    loop {
        let before = keep.len();
        for c in changes {
            if keep.contains(&c.address) {
                if !destroy && c.action != Action::Delete {
                    // What a kept change needs.
                    keep.extend(c.depends_on.iter().cloned());
                }
            } else if c.depends_on.iter().any(|d| {
                // For destroy, whatever depends on a kept object goes with it; otherwise a
                // delete of something that depends on a kept delete must go first.
                keep.contains(d)
                    && (destroy || (c.action == Action::Delete && deletes.contains(d.as_str())))
            }) {
                keep.insert(c.address.clone());
            }
        }
        if keep.len() == before {
            return keep;
        }
    }
}

struct Planner<'a, 'i> {
    input: &'a PlanInput<'i>,
    opts: &'a PlanOptions,
    graph: &'a DeclGraph,
    state: &'a crate::refresh::Refreshed<'a>,
    values: Values,
    changes: Vec<ResourceChange>,
    /// Address → index in `changes`.
    index: HashMap<String, usize>,
    /// Declaration address (`app`, `data.x`, `action.y`) → indices of its instances in
    /// `changes`, so lookups stay O(instances) at 10,000 resources.
    by_decl: HashMap<String, Vec<usize>>,
    /// Creates whose id is known before they exist: checked at plan time for objects that
    /// already exist outside state (SPEC §3).
    create_checks: Vec<CreateCheck>,
    diags: Diagnostics,
    /// Addresses the configuration produces.
    produced: HashSet<String>,
    outputs: Vec<OutputChange>,
    /// Deletes refused by `prevent_destroy`, reported unless `--target` leaves them out.
    protected: Vec<(String, Diagnostic)>,
    /// Where providers' notes (retries) go.
    events: &'a dyn EventSink,
    tables: &'a SettingsTables,
    /// Provider settings as planned, by type prefix (see [`crate::settings`]).
    settings: Settings,
    /// The addresses each provider's settings refer to, by type prefix.
    settings_deps: HashMap<String, Vec<String>>,
    /// Per address, the attribute paths refresh found removed outside plinth (they were in
    /// state and are no longer on the object).
    removed_by_drift: HashMap<String, Vec<Path>>,
}

impl Planner<'_, '_> {
    fn scope(&self, each: Option<(Value, Value)>) -> Scope<'_> {
        Scope {
            vars: self.input.vars,
            env: self.input.env,
            registry: Some(self.input.registry),
            values: &self.values,
            each,
        }
    }

    /// Addresses (instances) of the declarations `id` depends on; through a provider's
    /// settings table, what the table refers to.
    fn dependency_addresses(&self, id: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        for dep in self.graph.dag.dependencies(id) {
            let decl = *self.graph.dag.node(dep);
            if let Decl::Provider(_) = decl {
                for a in self.dependency_addresses(dep) {
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
                continue;
            }
            let text = graph::decl_address(self.input.config, decl);
            for a in self.changes_of(&text) {
                if !out.contains(&a.address) {
                    out.push(a.address.clone());
                }
            }
        }
        out
    }

    /// Evaluates a provider settings table with the values planned so far.
    fn plan_settings(&mut self, i: usize, id: NodeId) {
        let Some(prefix) = self
            .tables
            .tables()
            .find(|(d, _)| *d == i)
            .map(|(_, p)| p.to_string())
        else {
            return;
        };
        let value = match self.tables.eval(self.input.config, i, &self.scope(None)) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                Value::Unknown
            }
        };
        let deps = self.dependency_addresses(id);
        self.settings_deps.insert(prefix.clone(), deps);
        self.settings.insert(prefix, value);
    }

    /// The settings of the provider of a full type name.
    fn settings_of(&self, full_type: &str) -> &Value {
        settings_for(&self.settings, prefix_of(full_type))
    }

    fn action_of(&self, address_text: &str) -> Vec<Action> {
        self.changes_of(address_text).map(|c| c.action).collect()
    }

    async fn plan_decl(&mut self, id: NodeId) {
        match *self.graph.dag.node(id) {
            Decl::Resource(i) => {
                let decl = &self.input.config.resources[i];
                let Some(instances) = self.expand(decl) else {
                    return;
                };
                let kind = AddrKind::from_mode(decl.mode);
                if instances.is_empty() {
                    self.values.set_empty(kind, &decl.name);
                }
                let deps = self.dependency_addresses(id);
                for (key, each) in instances {
                    let addr = Address::new(kind, decl.name.clone(), key);
                    self.produced.insert(addr.to_string());
                    let result = match decl.mode {
                        Mode::Managed => self.plan_managed(decl, &addr, each, deps.clone()).await,
                        Mode::Data => self.plan_data(decl, &addr, each, deps.clone()).await,
                    };
                    if let Err(d) = result {
                        self.diags.push(d);
                        self.values.set(&addr, Value::Unknown, false);
                    }
                }
            }
            Decl::Action(i) => self.plan_action(i, id),
            Decl::Output(i) => self.plan_output(i),
            Decl::Provider(i) => self.plan_settings(i, id),
        }
    }

    /// Instances of a declaration: `(key, each)`; a declaration without `for_each` has one
    /// instance with no key. `None` after reporting an error.
    #[allow(clippy::type_complexity)]
    fn expand(
        &mut self,
        decl: &ResourceDecl,
    ) -> Option<Vec<(Option<String>, Option<(Value, Value)>)>> {
        let Some(fe) = &decl.for_each else {
            return Some(vec![(None, None)]);
        };
        let v = match fe.eval(&self.scope(None)) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                self.values
                    .set_unknown(AddrKind::from_mode(decl.mode), &decl.name);
                return None;
            }
        };
        let fail = |msg: String, help: &str| {
            Diagnostic::at(msg, fe.loc.clone())
                .label("for_each")
                .help(help.to_string())
        };
        if !v.is_wholly_known() {
            self.diags.push(fail(
                format!("the for_each of `{}` depends on values known only after apply", decl.address()),
                "for_each must be known when planning: use variables or values already in state, or apply the resources it depends on first with --target",
            ));
            self.values
                .set_unknown(AddrKind::from_mode(decl.mode), &decl.name);
            return None;
        }
        if v.contains_sensitive() {
            self.diags.push(fail(
                format!("the for_each of `{}` uses a sensitive value", decl.address()),
                "instance keys are shown in every plan, so they cannot be secret; iterate over non-sensitive keys",
            ));
            return None;
        }
        let mut out = Vec::new();
        match v {
            Value::Null => {}
            Value::List(items) => {
                let mut seen = HashSet::new();
                for item in items {
                    let Some(s) = item.as_str() else {
                        self.diags.push(fail(
                            format!(
                                "the for_each list of `{}` holds a {}, but keys must be strings",
                                decl.address(),
                                item.type_name()
                            ),
                            "use a list of strings, or a table whose keys name the instances",
                        ));
                        return None;
                    };
                    if !seen.insert(s.to_string()) {
                        self.diags.push(fail(
                            format!(
                                "the for_each list of `{}` has \"{s}\" twice",
                                decl.address()
                            ),
                            "instance keys must be unique",
                        ));
                        return None;
                    }
                    out.push((Some(s.to_string()), Some((Value::from(s), Value::from(s)))));
                }
            }
            Value::Map(m) => {
                for (k, val) in m {
                    out.push((Some(k.clone()), Some((Value::from(k), val))));
                }
            }
            other => {
                self.diags.push(fail(
                    format!(
                        "for_each must be a list of strings or a table, but `{}` gives a {}",
                        decl.address(),
                        other.type_name()
                    ),
                    "write for_each = [\"a\", \"b\"] or for_each = { a = 1, b = 2 }",
                ));
                return None;
            }
        }
        Some(out)
    }

    fn push(&mut self, c: ResourceChange) {
        // Paths and reasons only: values may be secrets.
        tracing::debug!(
            address = %c.address,
            action = ?c.action,
            changed = ?c.changed_paths,
            replace = ?c.replace_paths,
            reason = c.reason.as_deref().unwrap_or(""),
            "planned"
        );
        let i = self.changes.len();
        self.index.insert(c.address.clone(), i);
        let decl = match c.address.parse::<Address>() {
            Ok(a) => a.decl_text(),
            Err(_) => c.address.clone(),
        };
        self.by_decl.entry(decl).or_default().push(i);
        self.changes.push(c);
    }

    /// Changes of an address; an address without a key matches every instance.
    fn changes_of(&self, address_text: &str) -> impl Iterator<Item = &ResourceChange> {
        let hits: &[usize] = match self.index.get(address_text) {
            Some(i) => std::slice::from_ref(i),
            None => self
                .by_decl
                .get(address_text)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        };
        hits.iter().map(|&i| &self.changes[i])
    }

    fn eval_inputs(
        &self,
        decl: &ResourceDecl,
        each: Option<(Value, Value)>,
        schema: &TypeSchema,
    ) -> Result<Value, Diagnostic> {
        let mut config = decl.inputs.eval(&self.scope(each))?;
        diff::mark_sensitive(schema, &mut config);
        // Kinds of inputs whose values were expressions.
        for i in &schema.inputs {
            if let Some(v) = config.get(&Path::root().key(&i.name))
                && !i.kind.admits(&v)
            {
                let loc = decl
                    .inputs
                    .find(&Path::root().key(&i.name))
                    .map(|n| n.loc.clone())
                    .unwrap_or(decl.loc.clone());
                return Err(Diagnostic::at(
                    format!(
                        "`{}` of `{}` must be {}, but the expression gives {}",
                        i.name,
                        decl.address(),
                        i.kind.describe(),
                        v.type_name()
                    ),
                    loc,
                )
                .label(format!("expected {}", i.kind.describe())));
            }
        }
        if config.is_wholly_known()
            && let Some((p, t)) = self.input.registry.lookup(&decl.type_name)
            && let Some((path, msg)) = p.validate(&t, &config).into_iter().next()
        {
            let loc = decl
                .inputs
                .find(&path)
                .map(|n| n.loc.clone())
                .unwrap_or(decl.loc.clone());
            let msg = plinth_value::scrub(&msg, &config.sensitive_texts());
            return Err(Diagnostic::at(format!("`{}`: {msg}", decl.address()), loc));
        }
        Ok(config)
    }

    /// The declaration's provider, type (without prefix), schema and evaluated inputs.
    fn provider_and_config(
        &self,
        decl: &ResourceDecl,
        each: Option<(Value, Value)>,
    ) -> Result<
        (
            std::sync::Arc<dyn plinth_provider::Provider>,
            String,
            TypeSchema,
            Value,
        ),
        Diagnostic,
    > {
        let (provider, t) = self
            .input
            .registry
            .lookup(&decl.type_name)
            .ok_or_else(|| Diagnostic::at("unknown type", decl.type_loc.clone()))?;
        let schema = provider.schema(&t).unwrap_or_default();
        let config = self.eval_inputs(decl, each, &schema)?;
        Ok((provider.clone(), t, schema, config))
    }

    async fn plan_managed(
        &mut self,
        decl: &ResourceDecl,
        addr: &Address,
        each: Option<(Value, Value)>,
        deps: Vec<String>,
    ) -> Result<(), Diagnostic> {
        let (provider, t, schema, mut config) = self.provider_and_config(decl, each)?;
        let address = addr.to_string();
        let settings = self.settings_of(&decl.type_name).clone();
        let req = Request::new(&t, &address, &NullReporter).with_settings(&settings);
        let record = self
            .state
            .get(&address)
            .filter(|r| r.mode == plinth_state::Mode::Managed);
        let prior = record.map(|r| marks::prior(self.input.registry, r));
        // The secrets to scrub from a provider's message are found only when there is one.
        let provider_err = |e: plinth_provider::ProviderError, config: &Value| {
            Diagnostic::at(
                format!(
                    "planning `{address}` failed: {}",
                    plinth_value::scrub(&e.to_string(), &config.sensitive_texts())
                ),
                decl.loc.clone(),
            )
        };

        if let Some(p) = &prior {
            inputs::restore_ignored(&mut config, p, &decl.lifecycle.ignore_changes, |path| {
                provider.attribute_path(&t, path)
            });
        }

        let mut reason = None;
        let forced = if record.is_some_and(|r| r.status == Status::Tainted) {
            Some("tainted: a previous create or update failed part-way".to_string())
        } else if self
            .opts
            .replace
            .iter()
            .any(|r| *r == *addr || (r.key.is_none() && r.decl() == addr.decl()))
        {
            Some("requested with --replace".to_string())
        } else {
            decl.lifecycle
                .replace_triggered_by
                .iter()
                .find_map(|t| {
                    let hit = self
                        .action_of(&t.text)
                        .into_iter()
                        .any(|a| matches!(a, Action::Create | Action::Update | Action::Replace));
                    hit.then(|| format!("replace_triggered_by: `{}` changes", t.text))
                })
                .or_else(|| moved(provider.settings_references(), record, &settings))
                .or_else(|| {
                    // An object lives where its provider's settings point: a replaced
                    // cluster takes its objects with it.
                    self.settings_deps
                        .get(prefix_of(&decl.type_name))?
                        .iter()
                        .find(|d| {
                            self.index
                                .get(*d)
                                .is_some_and(|&i| self.changes[i].action == Action::Replace)
                        })
                        .map(|d| format!("`{d}`, which its provider's settings name, is replaced"))
                })
        };

        let (action, mut planned) = match &prior {
            None => (
                Action::Create,
                provider
                    .plan(&req, None, &config)
                    .await
                    .map_err(|e| provider_err(e, &config))?,
            ),
            Some(p) => {
                let mut planned = provider
                    .plan(&req, Some(p), &config)
                    .await
                    .map_err(|e| provider_err(e, &config))?;
                // A value the configuration sets that was on the object and was removed
                // outside plinth is put back, whatever a provider assumes about fields its
                // service does not return (write-only ones look the same).
                for gone in self.removed_by_drift.get(&address).into_iter().flatten() {
                    for ip in config.leaf_paths() {
                        if provider
                            .attribute_path(&t, &ip)
                            .is_some_and(|a| a.overlaps(gone))
                            && !planned.changed.iter().any(|c| c.overlaps(&ip))
                        {
                            planned.changed.push(ip);
                        }
                    }
                }
                if let Some(f) = forced {
                    reason = Some(f);
                    let fresh = provider
                        .plan(&req, None, &config)
                        .await
                        .map_err(|e| provider_err(e, &config))?;
                    (
                        Action::Replace,
                        plinth_provider::Planned {
                            attributes: fresh.attributes,
                            ..planned
                        },
                    )
                } else if decl.lifecycle.ignore_all_changes {
                    (
                        Action::NoOp,
                        plinth_provider::Planned {
                            attributes: p.attributes.clone(),
                            changed: vec![],
                            requires_replace: vec![],
                        },
                    )
                } else if !planned.requires_replace.is_empty() {
                    (Action::Replace, planned)
                } else if !planned.changed.is_empty() {
                    (Action::Update, planned)
                } else {
                    (
                        Action::NoOp,
                        plinth_provider::Planned {
                            attributes: p.attributes.clone(),
                            ..planned
                        },
                    )
                }
            }
        };
        if action == Action::Replace && decl.lifecycle.prevent_destroy {
            let why = if planned.requires_replace.is_empty() {
                reason.clone().unwrap_or_default()
            } else {
                format!(
                    "{} cannot change in place",
                    join_paths(&planned.requires_replace)
                )
            };
            return Err(Diagnostic::at(format!("`{address}` has lifecycle.prevent_destroy, but this plan would replace it ({why})"), decl.loc.clone())
                .label("prevent_destroy = true")
                .help("revert the change that forces replacement, or remove prevent_destroy if destroying it is intended"));
        }
        let drift = action == Action::Update
            && prior.as_ref().is_some_and(|p| {
                // Drift only when the configuration is exactly what was last applied (in
                // both directions: a key removed from the configuration is an intended change).
                !matches!(p.inputs, Value::Null)
                    && diff::changed_paths(&config, &p.inputs, &diff::ExactEq).is_empty()
                    && diff::changed_paths(&p.inputs, &config, &diff::ExactEq).is_empty()
            });
        // What the provider planned (a dry run's answer) carries no marks of its own.
        marks::mark_with(
            &*provider,
            &t,
            Some(&schema),
            &config,
            &mut planned.attributes,
        );
        let complete = action == Action::NoOp;
        self.values.set(addr, planned.attributes.clone(), complete);
        let replace_order =
            (action == Action::Replace).then_some(if decl.lifecycle.create_before_destroy {
                ReplaceOrder::CreateThenDelete
            } else {
                ReplaceOrder::DeleteThenCreate
            });
        let id = match action {
            Action::Create | Action::Replace => provider.planned_id(&t, &config),
            _ => prior.as_ref().and_then(|p| p.id.clone()),
        };
        if action == Action::Create
            && let Some(id) = &id
        {
            self.create_checks.push(CreateCheck {
                address: address.clone(),
                settings: settings.clone(),
                provider: provider.clone(),
                type_name: t.clone(),
                id: id.clone(),
                config: config.clone(),
                loc: decl.loc.clone(),
            });
        }
        let changed_paths = if action == Action::NoOp {
            vec![]
        } else {
            planned.changed
        };
        let attribute_paths = changed_paths
            .iter()
            .filter_map(|p| {
                let a = provider.attribute_path(&t, p)?;
                (a != *p).then(|| (p.clone(), a))
            })
            .collect();
        self.push(ResourceChange {
            address,
            name: decl.name.clone(),
            type_name: decl.type_name.clone(),
            kind: Kind::Managed,
            action,
            replace_order,
            id,
            before: prior.map(|p| p.attributes),
            after: Some(planned.attributes),
            // A no-op has nothing to apply: its inputs are not kept (10,000 of them are memory).
            config: (action != Action::NoOp).then_some(config),
            changed_paths,
            attribute_paths,
            replace_paths: if action == Action::Replace {
                planned.requires_replace
            } else {
                vec![]
            },
            reason,
            drift,
            depends_on: deps,
        });
        Ok(())
    }

    async fn plan_data(
        &mut self,
        decl: &ResourceDecl,
        addr: &Address,
        each: Option<(Value, Value)>,
        deps: Vec<String>,
    ) -> Result<(), Diagnostic> {
        let (provider, t, schema, config) = self.provider_and_config(decl, each)?;
        let address = addr.to_string();
        // Reading now would see what is about to change: defer to apply (as Terraform does)
        // when anything this data source depends on, by reference or depends_on, changes.
        let pending_dep = deps.iter().any(|d| {
            self.action_of(d).iter().any(|a| {
                matches!(
                    a,
                    Action::Create | Action::Update | Action::Replace | Action::Delete
                )
            })
        });
        let before = self
            .state
            .get(&address)
            .map(|r| marks::prior(self.input.registry, r).attributes);
        let settings = self.settings_of(&decl.type_name);
        let (after, complete) =
            if config.is_wholly_known() && settings.is_wholly_known() && !pending_dep {
                let reporter = crate::reporter::SinkReporter(self.events);
                let req = Request::new(&t, &address, &reporter).with_settings(settings);
                let obs = provider.read_data(&req, &config).await.map_err(|e| {
                    Diagnostic::at(format!("reading `{address}` failed: {e}"), decl.loc.clone())
                })?;
                let mut attrs = obs.attributes;
                marks::mark_with(&*provider, &t, Some(&schema), &config, &mut attrs);
                (attrs, true)
            } else {
                (Value::Unknown, false)
            };
        self.values.set(addr, after.clone(), complete);
        self.push(ResourceChange {
            address,
            name: decl.name.clone(),
            type_name: decl.type_name.clone(),
            kind: Kind::Data,
            action: Action::Read,
            replace_order: None,
            id: None,
            before,
            after: Some(after),
            config: Some(config),
            changed_paths: vec![],
            attribute_paths: vec![],
            replace_paths: vec![],
            reason: (!complete).then(|| {
                "read during apply: its configuration depends on values known only after apply"
                    .to_string()
            }),
            drift: false,
            depends_on: deps,
        });
        Ok(())
    }

    fn plan_action(&mut self, i: usize, id: NodeId) {
        let decl = &self.input.config.actions[i];
        let address = format!("action.{}", decl.name);
        self.produced.insert(address.clone());
        let config = match decl.inputs.eval(&self.scope(None)) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        let trigger = decl
            .on
            .iter()
            .find(|o| {
                self.action_of(&o.text)
                    .into_iter()
                    .any(|a| matches!(a, Action::Create | Action::Update | Action::Replace))
            })
            .map(|t| format!("`{}` changes", t.text))
            // An action that has not run successfully yet (added to a configuration whose
            // watched resources already exist, or whose last run failed) runs now.
            .or_else(|| match self.state.last_run(&address) {
                None => Some("it has not run yet".to_string()),
                Some(e) if e.outcome == plinth_state::PENDING => Some(
                    "its last planned run did not happen (interrupted, or a dependency failed)"
                        .to_string(),
                ),
                Some(e) if e.outcome != "ok" => Some("its last run failed".to_string()),
                Some(_) => None,
            });
        let deps = self.dependency_addresses(id);
        self.push(ResourceChange {
            address,
            name: decl.name.clone(),
            type_name: decl.type_name.clone(),
            kind: Kind::Action,
            action: if trigger.is_some() {
                Action::Run
            } else {
                Action::NoOp
            },
            replace_order: None,
            id: None,
            before: None,
            after: None,
            config: Some(config),
            changed_paths: vec![],
            attribute_paths: vec![],
            replace_paths: vec![],
            reason: trigger,
            drift: false,
            depends_on: deps,
        });
    }

    fn plan_output(&mut self, i: usize) {
        let decl = &self.input.config.outputs[i];
        let value = match decl.value.eval(&self.scope(None)) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        if value.contains_sensitive() && !decl.sensitive {
            self.diags.push(
                Diagnostic::at(format!("output `{}` refers to sensitive values", decl.name), decl.value.loc.clone())
                    .label("sensitive")
                    .help("add `sensitive = true` to the output to show it only as (sensitive), or output a non-sensitive value"),
            );
            return;
        }
        let value = if decl.sensitive {
            Value::sensitive(value.unmark_all())
        } else {
            value
        };
        let before = self.state.outputs().get(&decl.name).map(|o| {
            let v = Value::from(o.value.clone());
            if o.sensitive { Value::sensitive(v) } else { v }
        });
        let action = match &before {
            None => Action::Create,
            Some(b)
                if value.is_wholly_known()
                    && b.unmark_all() == value.unmark_all()
                    && b.is_sensitive() == value.is_sensitive() =>
            {
                Action::NoOp
            }
            Some(_) => Action::Update,
        };
        self.outputs.push(OutputChange {
            name: decl.name.clone(),
            action,
            before,
            after: Some(value),
            sensitive: decl.sensitive,
        });
    }

    /// Deletes: everything in state that the configuration no longer produces (or, for
    /// `--destroy`, everything), and outputs that are gone.
    fn plan_deletes(&mut self) {
        let destroy = self.opts.mode == PlanMode::Destroy;
        let mut deletes = Vec::new();
        for (address, r) in self.state.resources() {
            if !destroy && self.produced.contains(address) && !r.deposed {
                continue;
            }
            let decl_name = address
                .parse::<Address>()
                .map(|a| a.name)
                .unwrap_or_else(|_| address.clone());
            let kind = match r.mode {
                plinth_state::Mode::Managed => Kind::Managed,
                plinth_state::Mode::Data => Kind::Data,
            };
            if destroy
                && kind == Kind::Managed
                && !r.deposed
                && let Some(decl) = self.input.config.resource(Mode::Managed, &decl_name)
                && decl.lifecycle.prevent_destroy
            {
                self.protected.push((
                    address.clone(),
                    Diagnostic::at(format!("`{address}` has lifecycle.prevent_destroy, so it cannot be destroyed"), decl.loc.clone())
                        .label("prevent_destroy = true")
                        .help("remove prevent_destroy from its lifecycle if destroying it is intended, or exclude it with --target"),
                ));
            }
            let reason = if r.deposed {
                "deposed: the old object of a create_before_destroy replacement".to_string()
            } else if destroy {
                "destroy requested".to_string()
            } else {
                "not in the configuration".to_string()
            };
            let p = marks::prior(self.input.registry, r);
            deletes.push(ResourceChange {
                address: address.clone(),
                name: decl_name,
                type_name: r.type_name.clone(),
                kind,
                action: Action::Delete,
                replace_order: None,
                id: r.id.clone(),
                before: Some(p.attributes),
                after: None,
                config: None,
                changed_paths: vec![],
                attribute_paths: vec![],
                replace_paths: vec![],
                reason: Some(reason),
                drift: false,
                depends_on: r.dependencies.clone(),
            });
        }
        // Dependents are deleted first: order by reverse dependency among the deletes.
        deletes = order_deletes(deletes);
        for d in deletes {
            self.push(d);
        }
        let in_config: BTreeSet<&str> = self
            .input
            .config
            .outputs
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        for (name, o) in self.state.outputs() {
            if destroy || !in_config.contains(name.as_str()) {
                let v = Value::from(o.value.clone());
                self.outputs.push(OutputChange {
                    name: name.clone(),
                    action: Action::Delete,
                    before: Some(if o.sensitive { Value::sensitive(v) } else { v }),
                    after: None,
                    sensitive: o.sensitive,
                });
            }
        }
    }
}

/// Orders deletes so that an object comes before what it depended on.
fn order_deletes(deletes: Vec<ResourceChange>) -> Vec<ResourceChange> {
    let mut dag = plinth_graph::Dag::new();
    let ids: Vec<NodeId> = deletes.iter().map(|_| dag.add_node(())).collect();
    let by_addr: HashMap<&str, usize> = deletes
        .iter()
        .enumerate()
        .map(|(i, d)| (d.address.as_str(), i))
        .collect();
    for (i, d) in deletes.iter().enumerate() {
        for dep in &d.depends_on {
            if let Some(&j) = by_addr.get(dep.as_str())
                && i != j
            {
                // `d` depends on `dep`: delete `d` first.
                dag.add_edge(ids[i], ids[j]);
            }
        }
    }
    match dag.topo_order() {
        Ok(order) => {
            let mut slots: Vec<Option<ResourceChange>> = deletes.into_iter().map(Some).collect();
            order
                .into_iter()
                .filter_map(|n| slots[n.index()].take())
                .collect()
        }
        Err(_) => deletes,
    }
}

/// Why an object must be replaced because its provider's settings now point elsewhere (a
/// Kubernetes object whose `cluster` changed): compared on the keys that say where objects
/// live, between the settings recorded with the object and the planned ones (when known).
fn moved(keys: &[&str], record: Option<&ResourceState>, planned: &Value) -> Option<String> {
    let recorded = Value::from(record?.settings.clone()?);
    keys.iter().find_map(|k| {
        let path = Path::root().key(k);
        let now = planned.get(&path).unwrap_or(Value::Null);
        let was = recorded.get(&path).unwrap_or(Value::Null);
        (now.is_wholly_known() && now != was).then(|| {
            format!(
                "its provider's `{k}` changed from {} to {}: it is created where the settings now point and deleted where it was",
                was.render(),
                now.render()
            )
        })
    })
}

/// Drops a large value on another thread, off the caller's critical path.
fn drop_elsewhere<T: Send + 'static>(value: T) {
    if std::thread::Builder::new()
        .name("plinth-drop".into())
        .spawn(move || drop(value))
        .is_err()
    {
        // No thread to spare: dropping here is only slower.
    }
}

/// A create to check for an object that already exists.
struct CreateCheck {
    address: String,
    /// The provider's settings as planned.
    settings: Value,
    provider: std::sync::Arc<dyn plinth_provider::Provider>,
    type_name: String,
    id: String,
    config: Value,
    loc: plinth_config::Loc,
}

/// Reads, concurrently, the ids that planned creates will take; an object that already
/// exists is reported now rather than overwritten or refused at apply time.
async fn find_existing(
    checks: Vec<CreateCheck>,
    parallelism: usize,
    events: &dyn EventSink,
) -> Diagnostics {
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(parallelism));
    let mut set = tokio::task::JoinSet::new();
    // Providers' notes (retries) become events, as during refresh and apply.
    let (tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
    let reporter = std::sync::Arc::new(crate::reporter::EventReporter { tx });
    for c in checks {
        let sem = sem.clone();
        let reporter = reporter.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let req = Request::new(&c.type_name, &c.address, reporter.as_ref())
                .with_settings(&c.settings);
            let prior = Prior {
                id: Some(c.id.clone()),
                inputs: c.config.clone(),
                attributes: Value::Null,
            };
            let found = c.provider.read(&req, &prior).await;
            (c, found)
        });
    }
    drop(reporter);
    let mut diags = Diagnostics::default();
    let mut found = Vec::new();
    while let Some(joined) = set.join_next().await {
        while let Ok(e) = notes.try_recv() {
            events.emit(e);
        }
        let Ok((c, res)) = joined else { continue };
        match res {
            Ok(Some(_)) => found.push(
                Diagnostic::at(format!("`{}` would be created as {}, but that object already exists and is not in state", c.address, c.id), c.loc.clone())
                    .label("already exists")
                    .help(format!("adopt it with `plinth import '{}' '{}'`, or choose another name", c.address, c.id)),
            ),
            Ok(None) => {}
            Err(e) => found.push(Diagnostic::at(format!("checking whether `{}` already exists failed: {e}", c.address), c.loc.clone())),
        }
    }
    while let Ok(e) = notes.try_recv() {
        events.emit(e);
    }
    found.sort_by(|a, b| a.message.cmp(&b.message));
    for d in found {
        diags.push(d);
    }
    diags
}

pub(crate) fn join_paths(paths: &[Path]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
