//! `plinth test`'s assertions: conditions evaluated against what a run left — state values
//! (as the console sees them: resources, data sources, locals, `module.NAME`), the run's
//! outputs (`output.x`), earlier runs' outputs (`run.NAME.output.x`), the plan the run made
//! (`plan.changes["rg"].action`, `plan.summary.add`) and data read for the run
//! (`data.NAME`).
//!
//! Read-only, like the console: no provider is called, no state written. Sensitive values
//! stay marked, so a message built from one renders `(sensitive)`.

use std::collections::BTreeMap;
use std::ops::Range;

use plinth_config::{Condition, Diagnostic, Diagnostics, Node, NodeKind};
use plinth_expr::{Context, EvalError, Part, Reference, ResolvedStep, walk_steps};
use plinth_plan::{Action, Plan};
use plinth_state::State;
use plinth_value::{Map, Value};

use crate::addr::{Address, DeclKind};
use crate::graph::Decl;
use crate::scope::{Iteration, Scope, Values};
use crate::workspace::Workspace;

/// What a run adds to the state's values for its assertions.
#[derive(Clone, Debug, Default)]
pub struct RunValues {
    /// `output.NAME`: the run's outputs (sensitive ones marked; unknown in a plan run when
    /// known only after apply).
    pub outputs: Map,
    /// `run.NAME`: an object `{ output = {...} }` per earlier run.
    pub runs: Map,
    /// `plan`: [`plan_value`] of the run's plan, when it made one.
    pub plan: Option<Value>,
    /// Values over what state holds, by address (`data.NAME`, `module.app.mi`): data sources
    /// read for the run and, for a plan run, the planned values of resources.
    pub overrides: Vec<(String, Value)>,
}

/// How one assertion came out.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The condition is true.
    Pass,
    /// The condition is false (or not known): the assertion's message, rendered
    /// (`(sensitive)` where it holds a secret).
    Fail(String),
    /// The condition or message could not be evaluated, or is not a bool: located.
    Error(Diagnostic),
}

/// Evaluates a run's assertions (see the module docs).
pub struct Assertions<'a> {
    workspace: Workspace<'a>,
    tree: crate::tree::ModTree<'a>,
    values: Values,
    run: RunValues,
}

impl<'a> Assertions<'a> {
    /// Assertions over `workspace` and `state` (the state after the run), with `run`'s
    /// values. Fails with the configuration's problems and a dependency cycle.
    pub fn new(
        workspace: Workspace<'a>,
        state: Option<&State>,
        run: RunValues,
    ) -> Result<Self, Diagnostics> {
        let config = workspace.config;
        let graph = crate::graph::build(config, workspace.registry).map_err(Diagnostics::from)?;
        let records = state.into_iter().flat_map(|s| s.resources.values());
        let mut values = crate::state_values::state_values(workspace.registry, records);
        for r in &config.resources {
            if values.get(r.mode, &r.name).is_none() {
                values.set_unknown(&[], r.mode, &r.name);
            }
        }
        for (address, value) in &run.overrides {
            if let Ok(addr) = address.parse::<Address>() {
                let complete = value.is_wholly_known();
                values.set(&addr, value.clone(), complete);
            }
        }
        // Locals in graph order, so each sees the ones it uses; one that fails is an error
        // where an assertion uses it (the scope evaluates it again then).
        for id in graph.dag.topo_order().unwrap_or_default() {
            let Decl::Local(crate::tree::ROOT, i) = *graph.dag.node(id) else {
                continue;
            };
            let decl = &config.locals[i];
            if let Ok(v) = decl.value.eval(&workspace.scope(&values, Iteration::None)) {
                let complete = v.is_wholly_known();
                let addr = Address::new(DeclKind::Local, decl.name.clone(), None);
                values.set(&addr, v, complete);
            }
        }
        Ok(Assertions {
            workspace,
            tree: crate::tree::ModTree::new(config),
            values,
            run,
        })
    }

    /// Evaluates a node (a variable's value, a data source's input) in this scope.
    pub fn eval(&self, node: &Node) -> Result<Value, Diagnostic> {
        let mut scope = self.workspace.scope(&self.values, Iteration::None);
        scope.tree = Some(&self.tree);
        scope.lazy = true;
        node.eval(&RunContext {
            scope,
            run: &self.run,
        })
    }

    /// A message as text. Where it interpolates a sensitive value, that value reads
    /// `(sensitive)` and the rest of the message stays readable.
    fn message(&self, node: &Node) -> Result<String, Diagnostic> {
        let m = self.eval(node)?;
        if !m.contains_sensitive() {
            return Ok(text(&m));
        }
        let NodeKind::Template(t) = &node.kind else {
            return Ok(plinth_value::SENSITIVE_TEXT.to_string());
        };
        let mut scope = self.workspace.scope(&self.values, Iteration::None);
        scope.tree = Some(&self.tree);
        scope.lazy = true;
        let cx = RunContext {
            scope,
            run: &self.run,
        };
        let mut out = String::new();
        for part in &t.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Interp(e) => {
                    let v = plinth_expr::eval_expr(e, &cx).map_err(|e| {
                        Diagnostic::at(e.located_message(), node.loc_of(&e.span)).maybe_help(e.help)
                    })?;
                    out.push_str(&text(&v));
                }
                // A directive may branch on a secret: the whole message is hidden.
                _ => return Ok(plinth_value::SENSITIVE_TEXT.to_string()),
            }
        }
        Ok(out)
    }

    /// Evaluates one assertion.
    pub fn check(&self, assertion: &Condition) -> Outcome {
        let value = match self.eval(&assertion.condition) {
            Ok(v) => v,
            Err(d) => return Outcome::Error(d),
        };
        let holds = match value.unmarked() {
            Value::Bool(b) => *b,
            v if v.is_unknown() => false,
            other => {
                return Outcome::Error(
                    Diagnostic::at(
                        format!(
                            "the assertion's condition must be true or false, it is a {}",
                            other.type_name()
                        ),
                        assertion.condition.loc.clone(),
                    )
                    .help("compare values to get a bool, e.g. ${output.x == \"y\"} or ${length(x) > 0}"),
                );
            }
        };
        if holds {
            return Outcome::Pass;
        }
        let unknown = value.is_unknown();
        match self.message(&assertion.message) {
            Ok(text) => Outcome::Fail(if unknown {
                format!("{text} (the condition is known only after apply)")
            } else {
                text
            }),
            Err(d) => Outcome::Error(d),
        }
    }
}

/// A value in a message: a string as it is, anything else rendered; `(sensitive)` for a
/// secret.
fn text(v: &Value) -> String {
    match v.unmarked() {
        _ if v.contains_sensitive() => plinth_value::SENSITIVE_TEXT.to_string(),
        Value::String(s) => s.clone(),
        _ => v.render(),
    }
}

/// A plan as assertions see it: `changes` (by address: `action`, `type`, `moved_from`,
/// `importing`, `after`), `outputs` (by name: `action`, `after`), `checks` (by address:
/// `status`, `messages`) and `summary` (`add`, `change`, `replace`, `destroy`, `read`, `run`,
/// `moved`, `import`, `forget`).
pub fn plan_value(plan: &Plan) -> Value {
    let s = |t: &str| Value::from(t);
    let mut changes = Map::new();
    for c in &plan.changes {
        let mut m = Map::new();
        m.insert("action".into(), s(action_name(c.action)));
        m.insert("type".into(), s(&c.type_name));
        m.insert(
            "moved_from".into(),
            c.moved_from.as_deref().map_or(Value::Null, s),
        );
        m.insert(
            "importing".into(),
            c.importing.as_ref().map_or(Value::Null, |i| s(&i.id)),
        );
        m.insert("after".into(), c.after.clone().unwrap_or(Value::Null));
        changes.insert(c.address.clone(), Value::Map(m));
    }
    let mut outputs = Map::new();
    for o in &plan.outputs {
        let after = o.after.clone().unwrap_or(Value::Null);
        let after = if o.sensitive {
            Value::sensitive(after)
        } else {
            after
        };
        let mut m = Map::new();
        m.insert("action".into(), s(action_name(o.action)));
        m.insert("after".into(), after);
        outputs.insert(o.name.clone(), Value::Map(m));
    }
    let mut checks = Map::new();
    for c in &plan.checks {
        let mut m = Map::new();
        m.insert("status".into(), s(c.status.as_str()));
        m.insert(
            "messages".into(),
            Value::List(c.messages.iter().map(|x| s(x)).collect()),
        );
        checks.insert(c.address.clone(), Value::Map(m));
    }
    let sum = plan.summary();
    let counts: BTreeMap<&str, usize> = BTreeMap::from([
        ("add", sum.add),
        ("change", sum.change),
        ("replace", sum.replace),
        ("destroy", sum.destroy),
        ("read", sum.read),
        ("run", sum.run),
        ("moved", sum.moved),
        ("import", sum.import),
        ("forget", sum.forget),
    ]);
    let summary: Map = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), Value::from(n as i64)))
        .collect();
    let mut doc = Map::new();
    doc.insert("changes".into(), Value::Map(changes));
    doc.insert("outputs".into(), Value::Map(outputs));
    doc.insert("checks".into(), Value::Map(checks));
    doc.insert("summary".into(), Value::Map(summary));
    Value::Map(doc)
}

/// `create`, `update`, ..., and `no-op` for an unchanged object (as plan JSON spells it).
fn action_name(a: Action) -> &'static str {
    a.as_str()
}

/// The scope of an assertion: the console's roots, and `output`, `run` and `plan`.
struct RunContext<'c> {
    scope: Scope<'c>,
    run: &'c RunValues,
}

impl Context for RunContext<'_> {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        let whole = |v: Value| walk_steps(v, r, steps);
        match r.root.as_str() {
            "output" => whole(Value::Map(self.run.outputs.clone())),
            "run" => whole(Value::Map(self.run.runs.clone())),
            "plan" => match &self.run.plan {
                Some(p) => whole(p.clone()),
                None => Err(EvalError::new(
                    "this run made no plan to assert on",
                    r.root_span.clone(),
                )),
            },
            _ => self.scope.lookup(r, steps),
        }
    }

    fn call_external(
        &self,
        name: &str,
        args: &[Value],
        span: Range<usize>,
    ) -> Option<Result<Value, EvalError>> {
        self.scope.call_external(name, args, span)
    }

    fn external_functions(&self) -> Vec<String> {
        self.scope.external_functions()
    }

    fn read_file(&self, path: &str) -> Result<Option<String>, String> {
        self.scope.read_file(path)
    }

    fn file_source(&self, path: &str) -> Option<usize> {
        self.scope.file_source(path)
    }
}
