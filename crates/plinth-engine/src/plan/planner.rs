//! The planner: the state of one planning walk over the declaration graph (values planned so
//! far, changes, diagnostics) and the steps every declaration shares — its scope, its
//! dependencies, `for_each` expansion, evaluated inputs.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

use plinth_addr::ModuleStep;
use plinth_config::{Diagnostic, Diagnostics, ResourceDecl};
use plinth_graph::NodeId;
use plinth_plan::{Action, OutputChange, ResourceChange};
use plinth_provider::{TypeSchema, diff};
use plinth_value::{Path, Value};

use crate::addr::Address;
use crate::addr::DeclKind;
use crate::events::EventSink;
use crate::graph::{Decl, DeclGraph};
use crate::scope::{Expansion, Iteration, Scope, Values};
use crate::settings::{Settings, SettingsTables, Source, prefix_of, settings_for};
use crate::tree::{ModTree, ROOT};

use super::existing::CreateCheck;
use super::{PlanInput, PlanOptions};

pub(super) struct Planner<'a, 'i> {
    pub(super) input: &'a PlanInput<'i>,
    pub(super) opts: &'a PlanOptions,
    pub(super) graph: &'a DeclGraph,
    pub(super) state: &'a crate::refresh::Refreshed<'a>,
    pub(super) values: Values,
    pub(super) changes: Vec<ResourceChange>,
    /// No-op changes whose `after` is still in `values` (the same value): index in
    /// `changes` and address. It moves into the change once the plan is done evaluating,
    /// rather than the plan holding a third copy of every unchanged object meanwhile.
    pub(super) after_in_values: Vec<(usize, Address)>,
    /// Address → index in `changes`.
    pub(super) index: HashMap<String, usize>,
    /// Declaration address (`app`, `data.x`, `action.y`) → indices of its instances in
    /// `changes`, so lookups stay O(instances) at 10,000 resources.
    pub(super) by_decl: HashMap<String, Vec<usize>>,
    /// Creates whose id is known before they exist: checked at plan time for objects that
    /// already exist outside state (SPEC §3).
    pub(super) create_checks: Vec<CreateCheck>,
    pub(super) diags: Diagnostics,
    /// Addresses the configuration produces.
    pub(super) produced: HashSet<String>,
    pub(super) outputs: Vec<OutputChange>,
    /// Deletes refused by `prevent_destroy`, reported unless `--target` leaves them out.
    pub(super) protected: Vec<(String, Diagnostic)>,
    /// Where providers' notes (retries) go.
    pub(super) events: &'a dyn EventSink,
    pub(super) tables: &'a SettingsTables,
    /// Provider settings as planned, by type prefix (see [`crate::settings`]).
    pub(super) settings: Settings,
    /// The addresses each provider's settings refer to, by type prefix.
    pub(super) settings_deps: HashMap<String, Vec<String>>,
    /// Settings given to module instances by their calls (`[module.NAME.providers.X]`),
    /// by the call instance's path and the type prefix: as planned, and the addresses they
    /// refer to.
    pub(super) module_settings: HashMap<(Vec<ModuleStep>, String), (Value, Vec<String>)>,
    /// Per address, the attribute paths refresh found removed outside plinth (they were in
    /// state and are no longer on the object).
    pub(super) removed_by_drift: HashMap<String, Vec<Path>>,
    /// The static module tree.
    pub(super) tree: &'a ModTree<'i>,
    /// The instances of each static module planned so far (the root has one: `[]`).
    pub(super) instances: Vec<Vec<Vec<ModuleStep>>>,
    /// `each`/`count.index` of each module instance, for its call's inputs.
    pub(super) call_iters: HashMap<Vec<ModuleStep>, Iteration>,
    /// `(static module, kind, name)` → by module instance, the indices in `changes` of the
    /// instances planned there, for dependencies across module instances: a reference
    /// reads the instances under one module instance path without scanning the others.
    pub(super) by_static: HashMap<StaticDecl, PerInstance>,
    /// The `[[import]]` blocks, expanded, by full address.
    pub(super) imports: super::imports::Imports,
    /// Declarations a failed precondition or postcondition stopped, and data sources an
    /// unknown precondition defers to apply (see `conditions`).
    pub(super) stopped: super::conditions::Stopped,
    /// Per static module, what its references read of each declaration (for bookkeeping
    /// paths), built the first time a create there needs it.
    pub(super) read_paths: HashMap<usize, super::review::ReadPaths>,
}

/// A declaration in the static module tree: module, kind, name.
pub(super) type StaticDecl = (usize, DeclKind, String);

/// The indices in `changes` of one static declaration's instances, by module instance path.
/// Most declarations are planned in one module instance (every root declaration): those
/// hold one entry, not a map (whose first node is 540 bytes: 54 MB at 100,000 resources).
#[derive(Debug)]
pub(super) enum PerInstance {
    /// Instances in one module instance.
    One(Vec<ModuleStep>, Vec<usize>),
    /// Instances in several, ordered by path (a module instance's callees follow it).
    Many(BTreeMap<Vec<ModuleStep>, Vec<usize>>),
}

impl PerInstance {
    /// Records change `i`, planned in module instance `at`.
    pub(super) fn add(
        slot: Option<&mut PerInstance>,
        at: Vec<ModuleStep>,
        i: usize,
    ) -> Option<PerInstance> {
        let Some(this) = slot else {
            return Some(PerInstance::One(at, vec![i]));
        };
        match this {
            PerInstance::One(path, changes) if *path == at => changes.push(i),
            PerInstance::One(path, changes) => {
                let mut map = BTreeMap::new();
                map.insert(std::mem::take(path), std::mem::take(changes));
                map.insert(at, vec![i]);
                *this = PerInstance::Many(map);
            }
            PerInstance::Many(map) => map.entry(at).or_default().push(i),
        }
        None
    }

    /// The changes planned in module instance `at` itself.
    pub(super) fn at(&self, at: &[ModuleStep]) -> Option<&Vec<usize>> {
        match self {
            PerInstance::One(path, changes) => (path.as_slice() == at).then_some(changes),
            PerInstance::Many(map) => map.get(at),
        }
    }

    /// The changes planned in `prefix` and every module instance under it, by path.
    pub(super) fn under<'a>(
        &'a self,
        prefix: &'a [ModuleStep],
    ) -> Box<dyn Iterator<Item = &'a Vec<usize>> + 'a> {
        match self {
            PerInstance::One(path, changes) => {
                Box::new(path.starts_with(prefix).then_some(changes).into_iter())
            }
            PerInstance::Many(map) => Box::new(
                map.range::<[ModuleStep], _>((Bound::Included(prefix), Bound::Unbounded))
                    .take_while(move |(at, _)| at.starts_with(prefix))
                    .map(|(_, changes)| changes),
            ),
        }
    }
}

/// Variables of a module instance not planned yet.
static NO_VARS: BTreeMap<String, Value> = BTreeMap::new();

/// `text` (an address as written in module instance `module`, e.g. a `depends_on` or
/// `replace_triggered_by` entry) as a full address.
pub(super) fn relative(module: &[ModuleStep], text: &str) -> String {
    if module.is_empty() {
        return text.to_string();
    }
    match text.parse::<Address>() {
        Ok(mut a) => {
            let mut full = module.to_vec();
            full.append(&mut a.module);
            a.module = full;
            a.to_string()
        }
        Err(_) => text.to_string(),
    }
}

impl Planner<'_, '_> {
    pub(super) fn scope(&self, iteration: Iteration) -> Scope<'_> {
        self.scope_in(ROOT, &[], iteration)
    }

    /// What expressions in module instance `inst` of static module `m` see.
    pub(super) fn scope_in(
        &self,
        m: usize,
        inst: &[ModuleStep],
        iteration: Iteration,
    ) -> Scope<'_> {
        let mut s = self.input.workspace.scope(&self.values, iteration);
        if m != ROOT {
            s.config = Some(self.tree.get(m).config);
            s.vars = Cow::Borrowed(self.values.vars(inst).unwrap_or(&NO_VARS));
            s.inst = inst.to_vec();
        }
        s.tree = Some(self.tree);
        s.module = m;
        s
    }

    /// Addresses (instances) of the declarations `id` (in static module `m`, evaluated in
    /// module instance `inst`) depends on; through a provider's settings table, a local, a
    /// module call, a module's variable or output, what those refer to (root outputs are
    /// never dependencies). Across a module boundary, the instances under the module
    /// instance both share: in the same module instance, only its own.
    pub(super) fn dependency_addresses(
        &self,
        id: NodeId,
        m: usize,
        inst: &[ModuleStep],
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut through = HashSet::new();
        self.collect_dependencies(id, m, inst, &mut out, &mut seen, &mut through);
        out
    }

    fn collect_dependencies(
        &self,
        id: NodeId,
        m: usize,
        inst: &[ModuleStep],
        out: &mut Vec<String>,
        seen: &mut HashSet<usize>,
        through: &mut HashSet<NodeId>,
    ) {
        for dep in self.graph.dag.dependencies(id) {
            let (dm, kind, name) = match *self.graph.dag.node(dep) {
                Decl::Output(ROOT, _) => continue,
                Decl::Resource(dm, i) => {
                    let r = &self.tree.get(dm).config.resources[i];
                    (dm, r.mode, &r.name)
                }
                Decl::Action(dm, i) => (
                    dm,
                    DeclKind::Action,
                    &self.tree.get(dm).config.actions[i].name,
                ),
                _ => {
                    if through.insert(dep) {
                        self.collect_dependencies(dep, m, inst, out, seen, through);
                    }
                    continue;
                }
            };
            let depth = self.tree.common_depth(m, dm).min(inst.len());
            let prefix = &inst[..depth];
            let Some(per_instance) = self.by_static.get(&(dm, kind, name.clone())) else {
                continue;
            };
            let mut take = |changes: &Vec<usize>| {
                for i in changes {
                    if seen.insert(*i) {
                        out.push(self.changes[*i].address.clone());
                    }
                }
            };
            if self.tree.get(dm).path.len() == prefix.len() {
                // In the same module instance (or one of its callers): that instance only.
                per_instance.at(prefix).into_iter().for_each(&mut take);
            } else {
                // Into a called module: the instances under `prefix`, which sort together
                // from `prefix` itself on.
                per_instance.under(prefix).for_each(take);
            }
        }
    }

    /// Evaluates a provider settings table with the values planned so far.
    pub(super) fn plan_settings(&mut self, i: usize, id: NodeId) {
        let Some(prefix) = self
            .tables
            .tables()
            .find(|(d, _)| *d == i)
            .map(|(_, p)| p.to_string())
        else {
            return;
        };
        let value =
            match self
                .tables
                .eval(self.input.workspace.config, i, &self.scope(Iteration::None))
            {
                Ok(v) => v,
                Err(d) => {
                    self.diags.push(d);
                    Value::Unknown
                }
            };
        let deps = self.dependency_addresses(id, ROOT, &[]);
        self.settings_deps.insert(prefix.clone(), deps);
        self.settings.insert(prefix, value);
    }

    /// The settings of the provider of a full type name for objects in module instance
    /// `inst` of static module `m`, as planned, and the addresses they refer to: the
    /// nearest call's table that gives the module its own (see [`Source`]), else the root's.
    pub(super) fn settings_at(
        &self,
        m: usize,
        inst: &[ModuleStep],
        full_type: &str,
    ) -> (&Value, &[String]) {
        static UNKNOWN: Value = Value::Unknown;
        let prefix = prefix_of(full_type);
        match self.tables.source(self.tree, m, prefix) {
            Source::Call { module, .. } => {
                let depth = self.tree.get(module).path.len().min(inst.len());
                match self
                    .module_settings
                    .get(&(inst[..depth].to_vec(), prefix.to_string()))
                {
                    Some((v, deps)) => (v, deps),
                    // Its evaluation failed (and was reported).
                    None => (&UNKNOWN, &[]),
                }
            }
            Source::Root(_) | Source::None => (
                settings_for(&self.settings, prefix),
                self.settings_deps
                    .get(prefix)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]),
            ),
        }
    }

    /// The attribute paths references in static module `m` read of its declaration `name`.
    pub(super) fn read_paths(&mut self, m: usize, name: &str) -> Vec<Path> {
        let config = self.tree.get(m).config;
        self.read_paths
            .entry(m)
            .or_insert_with(|| super::review::ReadPaths::of(config))
            .of_name(name)
            .to_vec()
    }

    pub(super) fn action_of(&self, address_text: &str) -> Vec<Action> {
        self.changes_of(address_text).map(|c| c.action).collect()
    }

    pub(super) async fn plan_decl(&mut self, id: NodeId) {
        let decl = *self.graph.dag.node(id);
        let m = crate::graph::module_of(decl);
        if let Decl::Provider(i) = decl {
            return self.plan_settings(i, id);
        }
        if self.stopped_by_condition(id) {
            return;
        }
        if let Decl::Output(ROOT, i) = decl {
            if self.output_preconditions_hold(ROOT, i, &[], id) {
                self.plan_output(i);
            }
            return;
        }
        if let Decl::CallProvider(m, c, j) = decl {
            return self.plan_call_settings(m, c, j, id);
        }
        let instances = std::mem::take(&mut self.instances[m]);
        for inst in &instances {
            match decl {
                Decl::Resource(_, i) => self.plan_resource(m, i, inst, id).await,
                Decl::Action(_, i) => self.plan_action(m, i, inst, id),
                Decl::Output(_, i) => {
                    if self.output_preconditions_hold(m, i, inst, id) {
                        self.plan_module_output(m, i, inst)
                    }
                }
                Decl::Local(_, i) => self.plan_local(m, i, inst),
                Decl::Call(_, c) => self.plan_call(m, c, inst),
                Decl::Var(_, v) => self.plan_var(m, v, inst),
                Decl::Provider(_) | Decl::CallProvider(..) => {}
            }
        }
        self.instances[m] = instances;
    }

    async fn plan_resource(&mut self, m: usize, i: usize, inst: &[ModuleStep], id: NodeId) {
        let decl = &self.tree.get(m).config.resources[i];
        let Some(instances) = self.expand(decl, m, inst) else {
            return;
        };
        let kind = decl.mode;
        if instances.is_empty()
            && let Some(expansion) = Expansion::of(decl)
        {
            self.values.set_empty(inst, kind, &decl.name, expansion);
        }
        let deps = self.dependency_addresses(id, m, inst);
        for (key, each) in instances {
            let addr = Address {
                module: inst.to_vec(),
                ..Address::new(kind, decl.name.clone(), key)
            };
            self.produced.insert(addr.to_string());
            if !self.preconditions_hold(decl, m, &addr, &each, id) {
                continue;
            }
            // The iteration is kept for the postconditions only when there are some: a
            // clone per instance is a cost at 10,000 instances.
            let post_each = (!decl.lifecycle.postconditions.is_empty()).then(|| each.clone());
            let result = match decl.mode {
                DeclKind::Resource => self.plan_managed(decl, m, &addr, each, deps.clone()).await,
                _ => self.plan_data(decl, m, &addr, each, deps.clone()).await,
            };
            match result {
                Ok(()) => {
                    if let Some(each) = post_each {
                        self.postconditions_hold(decl, m, &addr, &each, id);
                    }
                }
                Err(d) => {
                    self.diags.push(d);
                    self.values.set(&addr, Value::Unknown, false);
                }
            }
        }
    }

    pub(super) fn push(&mut self, c: ResourceChange) {
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
            Ok(a) => {
                let text = a.decl_text();
                if let Some(m) = self.tree.of_instance(&a.module) {
                    let key = (m, a.kind, a.name);
                    let slot = self.by_static.get_mut(&key);
                    if let Some(new) = PerInstance::add(slot, a.module, i) {
                        self.by_static.insert(key, new);
                    }
                }
                text
            }
            Err(_) => c.address.clone(),
        };
        self.by_decl.entry(decl).or_default().push(i);
        self.changes.push(c);
    }

    /// Changes of an address; an address without a key matches every instance.
    pub(super) fn changes_of(&self, address_text: &str) -> impl Iterator<Item = &ResourceChange> {
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

    pub(super) fn eval_inputs(
        &self,
        decl: &ResourceDecl,
        m: usize,
        addr: &Address,
        each: Iteration,
        schema: &TypeSchema,
    ) -> Result<Value, Diagnostic> {
        let mut config = decl.inputs.eval(&self.scope_in(m, &addr.module, each))?;
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
                        addr.decl_text(),
                        i.kind.describe(),
                        v.type_name()
                    ),
                    loc,
                )
                .label(format!("expected {}", i.kind.describe())));
            }
        }
        if config.is_wholly_known()
            && let Some((p, t)) = self.input.workspace.registry.lookup(&decl.type_name)
            && let Some((path, msg)) = p.validate(&t, &config).into_iter().next()
        {
            let loc = decl
                .inputs
                .find(&path)
                .map(|n| n.loc.clone())
                .unwrap_or(decl.loc.clone());
            let msg = plinth_value::scrub(&msg, &config.sensitive_texts());
            return Err(Diagnostic::at(
                format!("`{}`: {msg}", addr.decl_text()),
                loc,
            ));
        }
        Ok(config)
    }

    /// The declaration's provider, type (without prefix), schema and evaluated inputs.
    pub(super) fn provider_and_config(
        &self,
        decl: &ResourceDecl,
        m: usize,
        addr: &Address,
        each: Iteration,
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
            .workspace
            .registry
            .lookup(&decl.type_name)
            .ok_or_else(|| Diagnostic::at("unknown type", decl.type_loc.clone()))?;
        let schema = provider.schema(&t).unwrap_or_default();
        let config = self.eval_inputs(decl, m, addr, each, &schema)?;
        Ok((provider.clone(), t, schema, config))
    }
}
