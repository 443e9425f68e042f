//! Conditions and checks: the references and calls of every precondition, postcondition and
//! assertion (checked like any expression), `self` only in postconditions, and the scoped
//! data sources of `[check.NAME]` blocks (types, inputs, no `count`/`for_each`, names not
//! taken outside the check; visible only to that check's assertions).

use plinth_config::{Condition, Config, Diagnostic, Diagnostics};
use plinth_provider::Registry;

use super::refs::{Names, Within, check_refs_in};
use super::{check_calls, check_inputs, lookup_type};
use crate::addr::DeclKind;

/// Checks the conditions of every resource, data source and output of `config`, and its
/// checks.
pub(super) fn check(d: &mut Diagnostics, names: &Names<'_>, config: &Config, registry: &Registry) {
    for r in &config.resources {
        let within = if r.count.is_some() {
            Within::Count
        } else if r.for_each.is_some() {
            Within::ForEach
        } else {
            Within::Plain
        };
        for c in &r.lifecycle.preconditions {
            check_condition(d, names, c, within, false, "a precondition", registry);
        }
        for c in &r.lifecycle.postconditions {
            check_condition(d, names, c, within, true, "a postcondition", registry);
        }
    }
    for o in &config.outputs {
        for c in &o.preconditions {
            check_condition(
                d,
                names,
                c,
                Within::Plain,
                false,
                "a precondition",
                registry,
            );
        }
    }
    for check in &config.checks {
        let scoped = Names::new(config).with_check_data(check);
        for c in &check.asserts {
            check_condition(
                d,
                &scoped,
                c,
                Within::Plain,
                false,
                "a check's assertion",
                registry,
            );
        }
        for r in &check.data {
            check_scoped_data(d, names, config, &check.name, r, registry);
        }
    }
}

fn check_condition(
    d: &mut Diagnostics,
    names: &Names<'_>,
    c: &Condition,
    within: Within,
    allow_self: bool,
    what: &str,
    registry: &Registry,
) {
    for node in [&c.condition, &c.message] {
        if !allow_self {
            for found in node.references() {
                if found.reference.root == "self" {
                    d.push(
                        Diagnostic::at(format!("`self` cannot be used in {what}"), found.loc.clone())
                            .label("`self` is not available here")
                            .help("use the object's inputs or other objects; `self` exists only in postconditions"),
                    );
                }
            }
        }
        check_refs_in(d, names, node, within, true);
        check_calls(d, node, registry);
    }
}

fn check_scoped_data(
    d: &mut Diagnostics,
    names: &Names<'_>,
    config: &Config,
    check: &str,
    r: &plinth_config::ResourceDecl,
    registry: &Registry,
) {
    if let Some(outside) = config.resource(DeclKind::Data, &r.name) {
        d.push(
            Diagnostic::at(
                format!(
                    "`data.{}` is declared twice: in [check.{check}] and outside it",
                    r.name
                ),
                r.loc.clone(),
            )
            .label("second definition")
            .related(outside.loc.clone(), "first defined here")
            .help(
                "rename one: a check's data source shares the names of the module's data sources",
            ),
        );
    }
    let mut repeated = false;
    for (meta, given) in [
        ("count", r.count.is_some()),
        ("for_each", r.for_each.is_some()),
    ] {
        if given {
            repeated = true;
            d.push(
                Diagnostic::at(
                    format!("the data source `{}` of check `{check}` has `{meta}`", r.name),
                    r.loc.clone(),
                )
                .label(format!("`{meta}` is not allowed here"))
                .help("a check reads one object per data source: remove it, or declare the data source outside the check"),
            );
        }
    }
    if repeated {
        // Its inputs would use `count.index`/`each`: reported once, here.
        return;
    }
    let l = &r.lifecycle;
    if !l.preconditions.is_empty() || !l.postconditions.is_empty() {
        d.push(
            Diagnostic::at(
                format!("the data source `{}` of check `{check}` has conditions", r.name),
                r.loc.clone(),
            )
            .label("no lifecycle here")
            .help("write them as the check's assertions: assert = [{ condition = \"${...}\", message = \"...\" }]"),
        );
    }
    match lookup_type(registry, &r.type_name, &r.type_loc) {
        Ok(schema) if !schema.data_source => d.push(
            Diagnostic::at(
                format!("`{}` cannot be read as a data source", r.type_name),
                r.type_loc.clone(),
            )
            .help("a check's data source must be a type its provider can read"),
        ),
        Ok(schema) => check_inputs(d, &schema, &r.inputs, "data source", &r.name, registry),
        Err(e) => d.push(e),
    }
    check_refs_in(d, names, &r.inputs, Within::Plain, false);
    check_calls(d, &r.inputs, registry);
}
