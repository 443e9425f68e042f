//! The planner: the state of one planning walk over the declaration graph (values planned so
//! far, changes, diagnostics) and the steps every declaration shares — its scope, its
//! dependencies, `for_each` expansion, evaluated inputs.

use std::collections::{HashMap, HashSet};

use plinth_config::{Diagnostic, Diagnostics, ResourceDecl};
use plinth_graph::NodeId;
use plinth_plan::{Action, OutputChange, ResourceChange};
use plinth_provider::{TypeSchema, diff};
use plinth_value::{Path, Value};

use crate::addr::Address;
use crate::addr::DeclKind;
use crate::events::EventSink;
use crate::graph::{self, Decl, DeclGraph};
use crate::scope::{Expansion, Iteration, Scope, Values};
use crate::settings::{Settings, SettingsTables, prefix_of, settings_for};

use super::existing::CreateCheck;
use super::{PlanInput, PlanOptions};

pub(super) struct Planner<'a, 'i> {
    pub(super) input: &'a PlanInput<'i>,
    pub(super) opts: &'a PlanOptions,
    pub(super) graph: &'a DeclGraph,
    pub(super) state: &'a crate::refresh::Refreshed<'a>,
    pub(super) values: Values,
    pub(super) changes: Vec<ResourceChange>,
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
    /// Per address, the attribute paths refresh found removed outside plinth (they were in
    /// state and are no longer on the object).
    pub(super) removed_by_drift: HashMap<String, Vec<Path>>,
}

impl Planner<'_, '_> {
    pub(super) fn scope(&self, iteration: Iteration) -> Scope<'_> {
        self.input.workspace.scope(&self.values, iteration)
    }

    /// Addresses (instances) of the declarations `id` depends on; through a provider's
    /// settings table or a local, what the table or local refers to (outputs are never
    /// dependencies).
    pub(super) fn dependency_addresses(&self, id: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        for dep in self.graph.dag.dependencies(id) {
            let decl = *self.graph.dag.node(dep);
            if let Decl::Provider(_) | Decl::Local(_) = decl {
                for a in self.dependency_addresses(dep) {
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
                continue;
            }
            let text = graph::decl_address(self.input.workspace.config, decl);
            for a in self.changes_of(&text) {
                if !out.contains(&a.address) {
                    out.push(a.address.clone());
                }
            }
        }
        out
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
        let deps = self.dependency_addresses(id);
        self.settings_deps.insert(prefix.clone(), deps);
        self.settings.insert(prefix, value);
    }

    /// The settings of the provider of a full type name.
    pub(super) fn settings_of(&self, full_type: &str) -> &Value {
        settings_for(&self.settings, prefix_of(full_type))
    }

    pub(super) fn action_of(&self, address_text: &str) -> Vec<Action> {
        self.changes_of(address_text).map(|c| c.action).collect()
    }

    pub(super) async fn plan_decl(&mut self, id: NodeId) {
        match *self.graph.dag.node(id) {
            Decl::Resource(i) => {
                let decl = &self.input.workspace.config.resources[i];
                let Some(instances) = self.expand(decl) else {
                    return;
                };
                let kind = decl.mode;
                if instances.is_empty()
                    && let Some(expansion) = Expansion::of(decl)
                {
                    self.values.set_empty(kind, &decl.name, expansion);
                }
                let deps = self.dependency_addresses(id);
                for (key, each) in instances {
                    let addr = Address::new(kind, decl.name.clone(), key);
                    self.produced.insert(addr.to_string());
                    let result = match decl.mode {
                        DeclKind::Resource => {
                            self.plan_managed(decl, &addr, each, deps.clone()).await
                        }
                        _ => self.plan_data(decl, &addr, each, deps.clone()).await,
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
            Decl::Local(i) => self.plan_local(i),
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
            Ok(a) => a.decl_text(),
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
        each: Iteration,
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
            && let Some((p, t)) = self.input.workspace.registry.lookup(&decl.type_name)
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
    pub(super) fn provider_and_config(
        &self,
        decl: &ResourceDecl,
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
        let config = self.eval_inputs(decl, each, &schema)?;
        Ok((provider.clone(), t, schema, config))
    }
}
