//! Checks at a module's call site that need only declarations: every input names a
//! variable of the module, every required variable is set, a literal input has the type its
//! variable admits. And the tables only a root configuration may have (`[backend]`,
//! `[provider.X]`), refused in a module. Values that need evaluating are the engine's to
//! check.

use plinth_expr::did_you_mean;

use crate::decl::{Config, ModuleCall};
use crate::diag::{Diagnostic, Diagnostics};
use crate::vars::type_admits;

/// The keys of a `[module.NAME]` table that are not inputs (suggested for a misspelt one).
const META: &[&str] = &["source", "for_each", "count", "depends_on", "providers"];

/// Checks `call`'s inputs against its module's variables; `dir` is the module's directory
/// as messages show it.
pub(super) fn check_call(call: &ModuleCall, dir: &str, diags: &mut Diagnostics) {
    let module = &call.module;
    let name = &call.name;
    for (key, kloc, node) in &call.inputs {
        let Some(var) = module.variable(key) else {
            let names: Vec<&str> = module.variables.iter().map(|v| v.name.as_str()).collect();
            let declared = if names.is_empty() {
                format!("the module in {dir} declares no variables")
            } else {
                format!("the module's variables (in {dir}): {}", names.join(", "))
            };
            let suggestion = did_you_mean(key, names.iter().copied().chain(META.iter().copied()));
            let help = match suggestion {
                Some(s) => format!("did you mean `{s}`? {declared}"),
                None => format!(
                    "{declared}; remove `{key}`, or declare it in the module as [variable.{key}]"
                ),
            };
            diags.push(
                Diagnostic::at(
                    format!("module `{name}` has no variable `{key}`"),
                    kloc.clone(),
                )
                .label("not an input of the module")
                .help(help),
            );
            continue;
        };
        if let Some(value) = node.static_value()
            && !type_admits(var.var_type, &value)
        {
            diags.push(
                Diagnostic::at(
                    format!(
                        "input `{key}` of module `{name}` is a {}, but the variable's type is {}",
                        value.type_name(),
                        var.var_type.name()
                    ),
                    node.loc.clone(),
                )
                .label(format!("expected a {}", var.var_type.name()))
                .related(
                    var.loc.clone(),
                    format!("declared here as type = \"{}\"", var.var_type.name()),
                )
                .help(format!(
                    "give `{key}` a {}, or change the variable's type in the module",
                    var.var_type.name()
                )),
            );
        }
    }
    for var in &module.variables {
        if var.default.is_some() || call.inputs.iter().any(|(k, _, _)| *k == var.name) {
            continue;
        }
        diags.push(
            Diagnostic::at(
                format!(
                    "module `{name}` does not set the required variable `{}`",
                    var.name
                ),
                call.loc.clone(),
            )
            .label(format!("missing `{}`", var.name))
            .related(var.loc.clone(), "declared here without a default")
            .help(format!(
                "add `{} = ...` to [module.{name}], or give the variable a default in the module",
                var.name
            )),
        );
    }
}

/// A module's `[backend]` and `[provider.X]` tables, which only the root may have.
pub(super) fn root_only_tables(module: &Config, dir: &str, diags: &mut Diagnostics) {
    if let Some(b) = &module.backend {
        diags.push(
            Diagnostic::at("a module cannot have a [backend]", b.loc.clone())
                .label("in the module in ".to_string() + dir)
                .help("state is configured once, by the root configuration, and holds every module's objects: remove [backend] from the module"),
        );
    }
    for p in &module.providers {
        diags.push(
            Diagnostic::at(
                format!("a module cannot have a [provider.{}] table", p.name),
                p.loc.clone(),
            )
            .label("in the module in ".to_string() + dir)
            .help(format!(
                "a module inherits its caller's [provider.{0}] settings; to give it others, write them in the call as [module.NAME.providers.{0}], and remove this table",
                p.name
            )),
        );
    }
}
