//! Instances of a declaration (`count` and `for_each` expanded), and locals planned in
//! graph order. A `count` or `for_each` must be known when planning and not sensitive; when
//! it is unknown, the error names the reference that makes it so.

use plinth_addr::ModuleStep;
use plinth_config::{Diagnostic, Loc, Node, ResourceDecl};
use plinth_expr::{Context, RefStep, Reference, ResolvedStep};
use plinth_value::Value;

use super::planner::{Planner, relative};
use crate::addr::{Address, DeclKind};
use crate::scope::{Expansion, Iteration};
use crate::scope::{Instances, count_instances, for_each_instances};

/// A reference whose value is not wholly known at plan time.
struct Unknown {
    /// As written, up to its attribute steps: `rg.id`, `local.names`.
    shown: String,
    /// Where it is written.
    loc: Loc,
    /// The declaration to apply first with `--target` (`rg`, `data.x`,
    /// `module.app["a"].rg`), when one is found.
    target: Option<String>,
    /// For a local: the reference inside it that is unknown.
    through: Option<String>,
}

impl Planner<'_, '_> {
    /// Evaluates `local.NAME` with the values planned so far (it may be unknown or
    /// sensitive) and records it for the declarations that refer to it.
    pub(super) fn plan_local(&mut self, m: usize, i: usize, inst: &[ModuleStep]) {
        let decl = &self.tree.get(m).config.locals[i];
        let addr = Address {
            module: inst.to_vec(),
            ..Address::new(DeclKind::Local, decl.name.clone(), None)
        };
        let result = decl.value.eval(&self.scope_in(m, inst, Iteration::None));
        match result {
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
    pub(super) fn expand(
        &mut self,
        decl: &ResourceDecl,
        m: usize,
        inst: &[ModuleStep],
    ) -> Option<Instances> {
        let address = Address {
            module: inst.to_vec(),
            ..Address::new(decl.mode, decl.name.clone(), None)
        }
        .to_string();
        let result = self.expand_meta(&address, &decl.count, &decl.for_each, m, inst);
        if result.is_none() {
            self.values.set_unknown(inst, decl.mode, &decl.name);
        }
        result
    }

    /// Instances of a declaration or module call at `address` in module instance `inst`
    /// of static module `m`; `None` after reporting an error.
    pub(super) fn expand_meta(
        &mut self,
        address: &str,
        count: &Option<Node>,
        for_each: &Option<Node>,
        m: usize,
        inst: &[ModuleStep],
    ) -> Option<Instances> {
        let result = match (count, for_each) {
            (Some(count), _) => self
                .meta_value(address, count, Expansion::Count, m, inst)
                .and_then(|v| {
                    count_instances(address, count, &v).map_err(|d| Box::new(d.label("count")))
                }),
            (None, Some(fe)) => self
                .meta_value(address, fe, Expansion::ForEach, m, inst)
                .and_then(|v| {
                    for_each_instances(address, fe, v).map_err(|d| Box::new(d.label("for_each")))
                }),
            (None, None) => return Some(vec![(None, Iteration::None)]),
        };
        match result {
            Ok(instances) => Some(instances),
            Err(d) => {
                self.diags.push(*d);
                None
            }
        }
    }

    /// The value of a `count` or `for_each`: known and not sensitive, or an error.
    fn meta_value(
        &self,
        address: &str,
        node: &Node,
        expansion: Expansion,
        m: usize,
        inst: &[ModuleStep],
    ) -> Result<Value, Box<Diagnostic>> {
        let meta = expansion.name();
        let scope = self.scope_in(m, inst, Iteration::None);
        let v = node.eval(&scope).map_err(Box::new)?;
        // Instances are named by a count or by for_each's keys: a map's values may be
        // unknown (each.value is then "known after apply"), as in Terraform.
        let keys_known = match (expansion, v.unmarked()) {
            (Expansion::ForEach, Value::Map(_)) => true,
            _ => v.is_wholly_known(),
        };
        if !keys_known {
            let d = match self.unknown_reference(node, 0, m, inst) {
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
        // A map's keys are secret only when the map itself is; marks inside its values go on
        // through each.value.
        let keys_secret = match (expansion, v.unmarked()) {
            (Expansion::ForEach, Value::Map(_)) => v.is_sensitive(),
            _ => v.contains_sensitive(),
        };
        if keys_secret {
            return Err(Box::new(
                Diagnostic::at(
                    format!("the {meta} of `{address}` uses a sensitive value"),
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
    fn unknown_reference(
        &self,
        node: &Node,
        depth: usize,
        m: usize,
        inst: &[ModuleStep],
    ) -> Option<Unknown> {
        let scope = self.scope_in(m, inst, Iteration::None);
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
                // The target is named as `--target` takes it: with its module instance path.
                ("data", Some(n)) => (Some(relative(inst, &format!("data.{n}"))), None),
                ("local", Some(n)) if depth < 16 => {
                    let inner = self
                        .tree
                        .get(m)
                        .config
                        .locals
                        .iter()
                        .find(|l| l.name == n)
                        .and_then(|l| self.unknown_reference(&l.value, depth + 1, m, inst));
                    match inner {
                        Some(u) => (u.target, Some(u.through.unwrap_or(u.shown))),
                        None => (None, None),
                    }
                }
                ("var" | "env" | "each" | "count" | "path" | "local" | "module", _) => (None, None),
                (root, _) => (Some(relative(inst, root)), None),
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
