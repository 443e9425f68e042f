//! Static checks of a configuration against the providers' schemas, before any I/O:
//! types exist, inputs fit, references name something that exists.

use plinth_config::{Config, Diagnostic, Diagnostics, Loc, Node, NodeKind, did_you_mean};
use plinth_provider::{Registry, TypeSchema};
use std::collections::HashMap;

use crate::addr::DeclKind;

mod conditions;
pub(crate) mod imports;
mod manage;
pub(crate) mod refactor;
mod refs;

use refs::{Names, Within, check_addr, check_refs};

/// Looks up a type, producing a located error with a suggestion when it does not exist.
pub fn lookup_type(
    registry: &Registry,
    type_name: &str,
    loc: &Loc,
) -> Result<TypeSchema, Diagnostic> {
    // Every type's name is built only for a message: a valid type is looked up in O(1).
    let all = || registry.all_types();
    let suggestion = || did_you_mean(type_name, all().iter().map(String::as_str));
    let Some((prefix, _)) = plinth_addr::TypeName::split(type_name) else {
        // A type written without its provider (`data` for `core:data`) is the common case.
        let suffix = format!(":{type_name}");
        let help = all()
            .iter()
            .find(|t| t.ends_with(&suffix))
            .cloned()
            .or_else(suggestion)
            .map(|s| format!("did you mean `{s}`?"));
        return Err(Diagnostic::at(
            format!("`{type_name}` is not a type: types are written PROVIDER:TYPE"),
            loc.clone(),
        )
        .label("expected e.g. \"core:data\"")
        .maybe_help(help));
    };
    let Some((provider, rest)) = registry.lookup(type_name) else {
        let names: Vec<String> = registry.providers().map(|p| p.name().to_string()).collect();
        return Err(Diagnostic::at(
            format!("unknown provider `{prefix}` in type `{type_name}`"),
            loc.clone(),
        )
        .label("no such provider")
        .help(match suggestion() {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("available providers: {}", names.join(", ")),
        }));
    };
    provider.schema(&rest).ok_or_else(|| {
        let known: Vec<String> = provider
            .type_names()
            .iter()
            .map(|t| format!("{prefix}:{t}"))
            .collect();
        Diagnostic::at(format!("unknown type `{type_name}`"), loc.clone())
            .label(format!("provider `{prefix}` has no such type"))
            .help(match suggestion() {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("types of `{prefix}`: {}", known.join(", ")),
            })
    })
}

/// Checks every declaration. Returns all problems found.
pub fn validate(config: &Config, registry: &Registry) -> Diagnostics {
    let mut d = Diagnostics::default();
    check_module(&mut d, config, registry, true);
    d.extend(imports::check(config, registry, false));
    d
}

/// Checks one module's declarations (`root`: the root configuration, which alone has
/// provider settings and a backend), then every module it calls.
fn check_module(d: &mut Diagnostics, config: &Config, registry: &Registry, root: bool) {
    let names = Names::new(config);
    conditions::check(d, &names, config, registry);
    refactor::check(d, config);
    for r in &config.resources {
        let what = if r.mode == DeclKind::Data {
            "data source"
        } else {
            "resource"
        };
        match lookup_type(registry, &r.type_name, &r.type_loc) {
            Ok(schema) => {
                if r.mode == DeclKind::Data && !schema.data_source {
                    d.push(
                        Diagnostic::at(
                            format!("`{}` cannot be read as a data source", r.type_name),
                            r.type_loc.clone(),
                        )
                        .help("declare it as [resource.NAME] to manage it"),
                    );
                } else if r.mode == DeclKind::Resource && !schema.managed {
                    d.push(
                        Diagnostic::at(
                            format!("`{}` cannot be managed as a resource", r.type_name),
                            r.type_loc.clone(),
                        )
                        .help(if schema.action {
                            "declare it as [action.NAME]"
                        } else {
                            "declare it as [data.NAME] to read it"
                        }),
                    );
                } else {
                    check_inputs(d, &schema, &r.inputs, what, &r.name, registry);
                    if !schema.open {
                        check_ignore_changes(d, &schema, &r.lifecycle.ignore_changes);
                    }
                    if let Some((p, t)) = registry.lookup(&r.type_name) {
                        manage::check(d, p.as_ref(), &t, &schema, r);
                    }
                }
            }
            Err(e) => d.push(e),
        }
        let within = if r.count.is_some() {
            Within::Count
        } else if r.for_each.is_some() {
            Within::ForEach
        } else {
            Within::Plain
        };
        check_refs(d, &names, &r.inputs, within);
        check_calls(d, &r.inputs, registry);
        if let Some(fe) = &r.for_each {
            check_refs(d, &names, fe, Within::Plain);
            check_calls(d, fe, registry);
            check_static_for_each(d, &r.address(), fe);
        }
        if let Some(count) = &r.count {
            check_refs(d, &names, count, Within::Plain);
            check_calls(d, count, registry);
            check_static_count(d, &r.address(), count);
        }

        for dep in r.depends_on.iter().chain(&r.lifecycle.replace_triggered_by) {
            check_addr(d, &names, &dep.text, &dep.loc);
        }
    }
    for a in &config.actions {
        match lookup_type(registry, &a.type_name, &a.type_loc) {
            Ok(schema) if !schema.action => d.push(
                Diagnostic::at(format!("`{}` is not an action type", a.type_name), a.type_loc.clone())
                    .help("declare resources as [resource.NAME]; actions are imperative steps such as k8s:rollout-restart"),
            ),
            Ok(schema) => check_inputs(d, &schema, &a.inputs, "action", &a.name, registry),
            Err(e) => d.push(e),
        }
        check_refs(d, &names, &a.inputs, Within::Plain);
        check_calls(d, &a.inputs, registry);
        if a.on.is_empty() {
            d.push(Diagnostic::at(format!("action `{}` has no `on`", a.name), a.loc.clone())
                .help("list what it watches, e.g. on = [\"fic_keda\"]; it runs when any of them is created, updated or replaced"));
        }
        for dep in a.on.iter().chain(&a.depends_on) {
            check_addr(d, &names, &dep.text, &dep.loc);
        }
    }
    for l in &config.locals {
        check_refs(d, &names, &l.value, Within::Local);
        check_calls(d, &l.value, registry);
    }
    for o in &config.outputs {
        check_refs(d, &names, &o.value, Within::Plain);
        check_calls(d, &o.value, registry);
        if !o.sensitive {
            check_output_sensitivity(d, config, o);
        }
    }
    for c in &config.module_calls {
        let within = if c.count.is_some() {
            Within::Count
        } else if c.for_each.is_some() {
            Within::ForEach
        } else {
            Within::Plain
        };
        for (_, _, node) in &c.inputs {
            check_refs(d, &names, node, within);
            check_calls(d, node, registry);
        }
        for meta in [&c.for_each, &c.count].into_iter().flatten() {
            check_refs(d, &names, meta, Within::Plain);
            check_calls(d, meta, registry);
        }
        for dep in &c.depends_on {
            check_addr(d, &names, &dep.text, &dep.loc);
        }
        for p in &c.providers {
            if let Some(provider) = registry.providers().find(|x| x.settings_table() == p.name) {
                if !provider.settings_per_request() {
                    d.push(
                        Diagnostic::at(
                            format!(
                                "`module.{}` cannot be given its own `{}` settings: that provider is configured once, from the root's [provider.{}]",
                                c.name, p.name, p.name
                            ),
                            p.loc.clone(),
                        )
                        .label("not read per module")
                        .help(format!(
                            "remove [module.{}.providers.{}]; the module uses the root's settings",
                            c.name, p.name
                        )),
                    );
                }
                crate::settings_checks::keys(d, provider.as_ref(), p);
                crate::settings_checks::names(d, config, registry, p);
            } else {
                let tables: Vec<&str> = registry.providers().map(|x| x.settings_table()).collect();
                d.push(
                    Diagnostic::at(
                        format!(
                            "`module.{}` gives settings to an unknown provider `{}`",
                            c.name, p.name
                        ),
                        p.loc.clone(),
                    )
                    .label("no such provider")
                    .help(
                        match did_you_mean(&p.name, tables.iter().copied()) {
                            Some(s) => {
                                format!("did you mean `{s}`? ([module.{}.providers.{s}])", c.name)
                            }
                            None => format!("providers with settings: {}", tables.join(", ")),
                        },
                    ),
                );
            }
            check_refs(d, &names, &p.config, within);
            check_calls(d, &p.config, registry);
        }
        check_module(d, &c.module, registry, false);
    }
    if !root {
        return;
    }
    for p in &config.providers {
        let Some(provider) = registry.providers().find(|x| x.settings_table() == p.name) else {
            continue; // reported below, with the nearest name
        };
        crate::settings_checks::keys(d, provider.as_ref(), p);
        check_refs(d, &names, &p.config, Within::Plain);
        check_calls(d, &p.config, registry);
        crate::settings_checks::names(d, config, registry, p);
    }
    d.extend(crate::settings::unknown_tables(config, registry));
    if let Some(b) = &config.backend {
        check_backend(d, b);
    }
}

/// Backend types this build knows.
const BACKENDS: &[&str] = &["local", "azure-blob"];

fn check_backend(d: &mut Diagnostics, b: &plinth_config::BackendDecl) {
    if !BACKENDS.contains(&b.type_name.as_str()) {
        d.push(
            Diagnostic::at(
                format!("unknown backend type `{}`", b.type_name),
                b.loc.clone(),
            )
            .label("expected \"local\" or \"azure-blob\"")
            .help(match did_you_mean(&b.type_name, BACKENDS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "write type = \"local\" (state under .plinth/) or type = \"azure-blob\""
                    .to_string(),
            }),
        );
    }
}

/// A `count` written as a literal: a whole number >= 0. (A computed `count` is checked when
/// it is evaluated, at plan time.)
fn check_static_count(d: &mut Diagnostics, address: &str, count: &Node) {
    let Some(v) = count.static_value() else {
        return;
    };
    if crate::scope::whole_number(&v).is_none() {
        let found = match &v {
            plinth_value::Value::Number(n) => n.to_string(),
            other => format!("a {}", other.type_name()),
        };
        d.push(
            Diagnostic::at(
                format!("the count of `{address}` must be a whole number >= 0, found {found}"),
                count.loc.clone(),
            )
            .label("expected a whole number")
            .help("write count = 2, or an expression such as count = \"${var.ha ? 3 : 1}\"; count = 0 makes no instances"),
        );
    }
}

/// A `for_each` written as a literal list: every item must be a string, and keys unique.
/// (A computed `for_each` is checked when it is evaluated, at plan time.)
fn check_static_for_each(d: &mut Diagnostics, address: &str, fe: &Node) {
    match &fe.kind {
        NodeKind::List(items) => {
            // Each duplicated key is one problem, however often it repeats: (first place,
            // second place, how many times).
            let mut seen: HashMap<String, (&Loc, Option<&Loc>, usize)> = HashMap::new();
            let mut duplicated: Vec<String> = Vec::new();
            for item in items {
                let Some(v) = item.static_value() else {
                    continue;
                };
                match v.as_str() {
                    Some(key) => match seen.get_mut(key) {
                        Some((_, second, n)) => {
                            if second.is_none() {
                                *second = Some(&item.loc);
                                duplicated.push(key.to_string());
                            }
                            *n += 1;
                        }
                        None => {
                            seen.insert(key.to_string(), (&item.loc, None, 1));
                        }
                    },
                    None => d.push(
                        Diagnostic::at(
                            format!(
                                "the for_each list of `{address}` holds a {}, but keys must be strings",
                                v.type_name()
                            ),
                            item.loc.clone(),
                        )
                        .label("expected a string")
                        .help(format!(
                            "write it in quotes (for_each = [\"{}\"]), or use a table whose keys name the instances",
                            v
                        )),
                    ),
                }
            }
            for key in duplicated {
                let (first, second, n) = seen[&key];
                let second = second.expect("a duplicated key has a second place");
                let times = if n == 2 {
                    "twice".to_string()
                } else {
                    format!("{n} times")
                };
                d.push(
                    Diagnostic::at(
                        format!("the for_each list of `{address}` has \"{key}\" {times}"),
                        second.clone(),
                    )
                    .label("duplicate key")
                    .related(first.clone(), "first here")
                    .help("instance keys must be unique: remove one, or use a table to give each instance its own key"),
                );
            }
        }
        NodeKind::Lit(v)
            if !matches!(
                v,
                plinth_value::Value::List(_) | plinth_value::Value::Map(_)
            ) =>
        {
            d.push(
                Diagnostic::at(
                    format!(
                        "`for_each` must be a list of strings or a table, found {}",
                        v.type_name()
                    ),
                    fe.loc.clone(),
                )
                .label("expected a list or a table")
                .help("write for_each = [\"a\", \"b\"] or for_each = { a = 1, b = 2 }"),
            );
        }
        _ => {}
    }
}

/// `ignore_changes` paths must start with an input of the type.
fn check_ignore_changes(
    d: &mut Diagnostics,
    schema: &TypeSchema,
    paths: &[(plinth_value::Path, Loc)],
) {
    for (path, loc) in paths {
        let Some(plinth_value::PathSeg::Key(first)) = path.segments().first() else {
            continue;
        };
        if schema.input(first).is_none() {
            let allowed: Vec<&str> = schema.inputs.iter().map(|i| i.name.as_str()).collect();
            d.push(
                Diagnostic::at(
                    format!(
                        "`ignore_changes` names `{first}`, which is not an input of {}",
                        schema.type_name
                    ),
                    loc.clone(),
                )
                .label("not an input of this type")
                .help(match did_you_mean(first, allowed.iter().copied()) {
                    Some(s) => format!(
                        "did you mean `{s}`? {} takes: {}",
                        schema.type_name,
                        allowed.join(", ")
                    ),
                    None => format!("{} takes: {}", schema.type_name, allowed.join(", ")),
                }),
            );
        }
    }
}

/// Calls of functions that do not exist: built-in (`lower(...)`) or a provider's
/// (`azure.role_definition_id(...)`).
fn check_calls(d: &mut Diagnostics, node: &Node, registry: &Registry) {
    match &node.kind {
        NodeKind::Lit(_) => {}
        NodeKind::Template(t) => {
            for (name, span) in t.calls() {
                if plinth_expr::is_builtin_function(name) {
                    continue;
                }
                // Only a call that is not built in looks at the providers' functions.
                let provided = registry.all_functions();
                if provided.iter().any(|p| p == name) {
                    continue;
                }
                let all: Vec<&str> = plinth_expr::builtin_function_names()
                    .into_iter()
                    .chain(provided.iter().map(String::as_str))
                    .collect();
                let help = match plinth_expr::did_you_mean(name, all.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the functions are: {}", all.join(", ")),
                };
                d.push(
                    Diagnostic::at(format!("unknown function `{name}`"), node.loc_of(&span))
                        .label("no such function")
                        .help(help),
                );
            }
        }
        NodeKind::List(items) => items.iter().for_each(|n| check_calls(d, n, registry)),
        NodeKind::Table(entries) => entries
            .iter()
            .for_each(|(_, _, n)| check_calls(d, n, registry)),
    }
}

/// An output that shows a sensitive variable must itself be declared sensitive.
fn check_output_sensitivity(d: &mut Diagnostics, config: &Config, o: &plinth_config::OutputDecl) {
    use plinth_expr::RefStep;
    for found in o.value.references() {
        let r = found.reference;
        if r.root != "var" {
            continue;
        }
        let Some(RefStep::Attr { name, .. }) = r.steps.first() else {
            continue;
        };
        if config.variable(name).is_some_and(|v| v.sensitive) {
            d.push(
                Diagnostic::at(
                    format!("output `{}` shows the sensitive variable `var.{name}`", o.name),
                    found.loc.clone(),
                )
                .label("sensitive")
                .help("add `sensitive = true` to the output to show it only as (sensitive), or output a non-sensitive value"),
            );
            return;
        }
    }
}

fn check_inputs(
    d: &mut Diagnostics,
    schema: &TypeSchema,
    inputs: &Node,
    what: &str,
    name: &str,
    registry: &Registry,
) {
    let NodeKind::Table(entries) = &inputs.kind else {
        return;
    };
    for (key, kloc, node) in entries {
        match schema.input(key) {
            Some(i) => {
                if let Some(v) = node.static_value()
                    && !i.kind.admits(&v)
                {
                    d.push(
                        Diagnostic::at(
                            format!(
                                "`{key}` of {what} `{name}` must be {}, found {}",
                                i.kind.describe(),
                                node.shape()
                            ),
                            node.loc.clone(),
                        )
                        .label(format!("expected {}", i.kind.describe())),
                    );
                }
            }
            None if schema.open => {}
            None => {
                let allowed: Vec<&str> = schema.inputs.iter().map(|i| i.name.as_str()).collect();
                let help = match did_you_mean(key, allowed.iter().copied()) {
                    Some(s) => format!(
                        "did you mean `{s}`? {} takes: {}",
                        schema.type_name,
                        allowed.join(", ")
                    ),
                    None => format!(
                        "{} takes: {} (plus type, depends_on, for_each, lifecycle)",
                        schema.type_name,
                        allowed.join(", ")
                    ),
                };
                d.push(
                    Diagnostic::at(
                        format!("unknown input `{key}` for {}", schema.type_name),
                        kloc.clone(),
                    )
                    .label("not an input of this type")
                    .help(help),
                );
            }
        }
    }
    for i in schema.inputs.iter().filter(|i| i.required) {
        if inputs.entry(&i.name).is_none() {
            d.push(
                Diagnostic::at(
                    format!("{what} `{name}` is missing the required input `{}`", i.name),
                    inputs.loc.clone(),
                )
                .help(format!("add `{} = ...` ({})", i.name, i.description)),
            );
        }
    }
    if let Some(v) = inputs.static_value() {
        let (prefix, rest) =
            plinth_addr::TypeName::split(&schema.type_name).unwrap_or(("", &schema.type_name));
        if let Some((p, _)) = registry.lookup(&schema.type_name) {
            debug_assert_eq!(p.name(), prefix);
            let mut marked = v.clone();
            plinth_provider::diff::mark_sensitive(schema, &mut marked);
            let secrets = marked.sensitive_texts();
            for (path, msg) in p.validate(rest, &v) {
                let msg = plinth_value::scrub(&msg, &secrets);
                let loc = inputs
                    .find(&path)
                    .map(|n| n.loc.clone())
                    .unwrap_or_else(|| inputs.loc.clone());
                d.push(
                    Diagnostic::at(format!("{what} `{name}`: {msg}"), loc)
                        .label(format!("invalid `{path}`")),
                );
            }
        }
    }
}
