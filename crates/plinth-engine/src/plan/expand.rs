//! Instances of a declaration (`count` and `for_each` expanded), and locals planned in
//! graph order. A `count` or `for_each` must be known when planning and not sensitive; when
//! it is unknown, the error names the reference that makes it so.

use std::collections::HashSet;

use plinth_addr::InstanceKey;
use plinth_config::{Diagnostic, Loc, Node, ResourceDecl};
use plinth_expr::{Context, RefStep, Reference, ResolvedStep};
use plinth_value::Value;

use super::planner::Planner;
use crate::addr::{Address, DeclKind};
use crate::scope::{Expansion, Iteration, whole_number};

/// The instances of one declaration: each instance's key and what `each`/`count` is in it.
pub(super) type Instances = Vec<(Option<InstanceKey>, Iteration)>;

/// A reference whose value is not wholly known at plan time.
struct Unknown {
    /// As written, up to its attribute steps: `rg.id`, `local.names`.
    shown: String,
    /// Where it is written.
    loc: Loc,
    /// The declaration to apply first with `--target` (`rg`, `data.x`), when one is found.
    target: Option<String>,
    /// For a local: the reference inside it that is unknown.
    through: Option<String>,
}

impl Planner<'_, '_> {
    /// Evaluates `local.NAME` with the values planned so far (it may be unknown or
    /// sensitive) and records it for the declarations that refer to it.
    pub(super) fn plan_local(&mut self, i: usize) {
        let decl = &self.input.workspace.config.locals[i];
        let addr = Address::new(DeclKind::Local, decl.name.clone(), None);
        match decl.value.eval(&self.scope(Iteration::None)) {
            Ok(v) => {
                let complete = v.is_wholly_known();
                self.values.set(&addr, v, complete);
            }
            Err(d) => {
                self.diags.push(d);
                self.values.set(&addr, Value::Unknown, false);
            }
        }
    }

    /// Instances of a declaration: a declaration without `for_each` or `count` has one
    /// instance with no key. `None` after reporting an error (the declaration's value is
    /// then unknown, so what refers to it does not report the same problem again).
    pub(super) fn expand(&mut self, decl: &ResourceDecl) -> Option<Instances> {
        let result = match (&decl.count, &decl.for_each) {
            (Some(count), _) => self
                .meta_value(decl, count, Expansion::Count)
                .and_then(|v| {
                    count_instances(decl, count, &v).map_err(|d| Box::new(d.label("count")))
                }),
            (None, Some(fe)) => self.meta_value(decl, fe, Expansion::ForEach).and_then(|v| {
                for_each_instances(decl, fe, v).map_err(|d| Box::new(d.label("for_each")))
            }),
            (None, None) => return Some(vec![(None, Iteration::None)]),
        };
        match result {
            Ok(instances) => Some(instances),
            Err(d) => {
                self.diags.push(*d);
                self.values.set_unknown(decl.mode, &decl.name);
                None
            }
        }
    }

    /// The value of a `count` or `for_each`: known and not sensitive, or an error.
    fn meta_value(
        &self,
        decl: &ResourceDecl,
        node: &Node,
        expansion: Expansion,
    ) -> Result<Value, Box<Diagnostic>> {
        let meta = expansion.name();
        let scope = self.scope(Iteration::None);
        let v = node.eval(&scope).map_err(Box::new)?;
        if !v.is_wholly_known() {
            let address = decl.address();
            let d = match self.unknown_reference(node, 0) {
                Some(u) => {
                    let through = u
                        .through
                        .map(|t| format!(" (through `{t}`)"))
                        .unwrap_or_default();
                    Diagnostic::at(
                        format!(
                            "the {meta} of `{address}` depends on `{}`{through}, which is known only after apply",
                            u.shown
                        ),
                        u.loc,
                    )
                    .label("known only after apply")
                    .help(match u.target {
                        Some(t) => format!(
                            "{meta} must be known when planning: create it first with `plinth apply --target {t}`, then plan again; or use a variable or a value already in state"
                        ),
                        None => format!(
                            "{meta} must be known when planning: use a variable or a value already in state"
                        ),
                    })
                }
                None => Diagnostic::at(
                    format!(
                        "the {meta} of `{address}` depends on values known only after apply"
                    ),
                    node.loc.clone(),
                )
                .label(meta)
                .help(format!(
                    "{meta} must be known when planning: use variables or values already in state, or apply the resources it depends on first with --target"
                )),
            };
            return Err(Box::new(d));
        }
        if v.contains_sensitive() {
            return Err(Box::new(
                Diagnostic::at(
                    format!("the {meta} of `{}` uses a sensitive value", decl.address()),
                    node.loc.clone(),
                )
                .label(meta)
                .help(match expansion {
                    Expansion::Count => "instance numbers are shown in every plan, so a count cannot be secret; count something that is not sensitive",
                    Expansion::ForEach => "instance keys are shown in every plan, so they cannot be secret; iterate over non-sensitive keys",
                }),
            ));
        }
        Ok(v)
    }

    /// The first reference in `node` whose value is not wholly known now (looking inside
    /// locals for the reference that makes them so).
    fn unknown_reference(&self, node: &Node, depth: usize) -> Option<Unknown> {
        let scope = self.scope(Iteration::None);
        for found in node.references() {
            let r = found.reference;
            // The reference up to its first index: `app["x"].id` is looked at as `app`.
            let attrs = r
                .steps
                .iter()
                .take_while(|s| matches!(s, RefStep::Attr { .. }))
                .count();
            let view = Reference {
                steps: r.steps[..attrs].to_vec(),
                ..r.clone()
            };
            let steps: Vec<ResolvedStep> = view
                .steps
                .iter()
                .filter_map(|s| match s {
                    RefStep::Attr { name, .. } => Some(ResolvedStep::Attr(name.clone())),
                    RefStep::Index(_) => None,
                })
                .collect();
            match scope.lookup(&view, &steps) {
                Ok(v) if !v.is_wholly_known() => {}
                _ => continue,
            }
            let name = match r.steps.first() {
                Some(RefStep::Attr { name, .. }) => Some(name.as_str()),
                _ => None,
            };
            let (target, through) = match (r.root.as_str(), name) {
                ("data", Some(n)) => (Some(format!("data.{n}")), None),
                ("local", Some(n)) if depth < 16 => {
                    let inner = self
                        .input
                        .workspace
                        .config
                        .locals
                        .iter()
                        .find(|l| l.name == n)
                        .and_then(|l| self.unknown_reference(&l.value, depth + 1));
                    match inner {
                        Some(u) => (u.target, Some(u.through.unwrap_or(u.shown))),
                        None => (None, None),
                    }
                }
                ("var" | "env" | "each" | "count" | "path" | "local", _) => (None, None),
                (root, _) => (Some(root.to_string()), None),
            };
            return Some(Unknown {
                shown: r.prefix(attrs),
                loc: found.loc.clone(),
                target,
                through,
            });
        }
        None
    }
}

/// `count` instances: `name[0]` to `name[n-1]`, each with its `count.index`.
fn count_instances(decl: &ResourceDecl, node: &Node, v: &Value) -> Result<Instances, Diagnostic> {
    let n = whole_number(v).ok_or_else(|| {
        let found = match v {
            Value::Number(n) => format!("{n}"),
            other => format!("a {}", other.type_name()),
        };
        Diagnostic::at(
            format!(
                "the count of `{}` must be a whole number >= 0, but it is {found}",
                decl.address()
            ),
            node.loc.clone(),
        )
        .help("write count = 2, or an expression giving a whole number, e.g. count = \"${var.ha ? 3 : 1}\"; count = 0 makes no instances")
    })?;
    Ok((0..n)
        .map(|i| (Some(InstanceKey::Int(i)), Iteration::Count(i)))
        .collect())
}

/// `for_each` instances: one per string of a list or set, or per key of a map (with the
/// entry's value as `each.value`); `null` makes none.
fn for_each_instances(decl: &ResourceDecl, node: &Node, v: Value) -> Result<Instances, Diagnostic> {
    let fail =
        |msg: String, help: &str| Diagnostic::at(msg, node.loc.clone()).help(help.to_string());
    let mut out = Vec::new();
    match v {
        Value::Null => {}
        Value::List(items) => {
            let mut seen = HashSet::new();
            for item in items {
                let Some(s) = item.as_str() else {
                    return Err(fail(
                        format!(
                            "the for_each list of `{}` holds a {}, but keys must be strings",
                            decl.address(),
                            item.type_name()
                        ),
                        "use a list of strings, or a table whose keys name the instances",
                    ));
                };
                if !seen.insert(s.to_string()) {
                    return Err(fail(
                        format!(
                            "the for_each list of `{}` has \"{s}\" twice",
                            decl.address()
                        ),
                        "instance keys must be unique: wrap the list in toset(...) to drop repeats",
                    ));
                }
                let each = Iteration::Each {
                    key: Value::from(s),
                    value: Value::from(s),
                };
                out.push((Some(InstanceKey::from(s)), each));
            }
        }
        Value::Map(m) => {
            for (k, value) in m {
                let each = Iteration::Each {
                    key: Value::from(k.as_str()),
                    value,
                };
                out.push((Some(InstanceKey::Str(k)), each));
            }
        }
        other => {
            return Err(fail(
                format!(
                    "for_each must be a list of strings or a table, but `{}` gives a {}",
                    decl.address(),
                    other.type_name()
                ),
                "write for_each = [\"a\", \"b\"] or for_each = { a = 1, b = 2 }, or build one with an expression such as {for k, v in var.apps : k => v}",
            ));
        }
    }
    Ok(out)
}
