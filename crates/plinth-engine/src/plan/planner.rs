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
use crate::scope::{Scope, Values};
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
    pub(super) fn scope(&self, each: Option<(Value, Value)>) -> Scope<'_> {
        self.input.workspace.scope(&self.values, each)
    }

    /// Addresses (instances) of the declarations `id` depends on; through a provider's
    /// settings table, what the table refers to.
    pub(super) fn dependency_addresses(&self, id: NodeId) -> Vec<String> {
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
        let value = match self
            .tables
            .eval(self.input.workspace.config, i, &self.scope(None))
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
                if instances.is_empty() {
                    self.values.set_empty(kind, &decl.name);
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
        }
    }

    /// Instances of a declaration: `(key, each)`; a declaration without `for_each` has one
    /// instance with no key. `None` after reporting an error.
    #[allow(clippy::type_complexity)]
    pub(super) fn expand(
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
                self.values.set_unknown(decl.mode, &decl.name);
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
            self.values.set_unknown(decl.mode, &decl.name);
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
            .workspace
            .registry
            .lookup(&decl.type_name)
            .ok_or_else(|| Diagnostic::at("unknown type", decl.type_loc.clone()))?;
        let schema = provider.schema(&t).unwrap_or_default();
        let config = self.eval_inputs(decl, each, &schema)?;
        Ok((provider.clone(), t, schema, config))
    }
}
