//! References in expressions: each names something declared (resources, data sources,
//! variables, locals), picks an instance where the declaration has `count` or `for_each`
//! (and the right kind of key), and uses `each.*`, `count.index` and `path.*` only where they
//! exist. Also the addresses of `depends_on`, `replace_triggered_by` and `on`.

use std::collections::HashSet;

use plinth_config::{Config, Diagnostic, Diagnostics, Loc, Node, did_you_mean};
use plinth_expr::{ExprKind, RefStep};
use plinth_value::Value;

use crate::addr::{Address, DeclKind};

/// The names a configuration declares.
pub(super) struct Names<'a> {
    managed: Pool<'a>,
    data: Pool<'a>,
    vars: Pool<'a>,
    locals: Pool<'a>,
    /// Addresses (`app`, `data.x`) of declarations with `for_each`.
    for_each: HashSet<String>,
    /// Addresses of declarations with `count`.
    count: HashSet<String>,
    /// The module calls, each with the outputs its module declares.
    modules: Vec<(&'a str, Vec<&'a str>)>,
    /// `(check, READ)` of every `[check.NAME.data.READ]`: visible only to that check.
    scoped: Vec<(&'a str, &'a str)>,
}

impl<'a> Names<'a> {
    pub(super) fn new(config: &'a Config) -> Self {
        let pool = |mode: DeclKind| {
            Pool::new(
                config
                    .resources
                    .iter()
                    .filter(|r| r.mode == mode)
                    .map(|r| r.name.as_str())
                    .collect(),
            )
        };
        let with = |meta: fn(&plinth_config::ResourceDecl) -> bool| {
            config
                .resources
                .iter()
                .filter(|r| meta(r))
                .map(|r| r.address())
                .collect()
        };
        Names {
            managed: pool(DeclKind::Resource),
            data: pool(DeclKind::Data),
            vars: Pool::new(config.variables.iter().map(|v| v.name.as_str()).collect()),
            locals: Pool::new(config.locals.iter().map(|l| l.name.as_str()).collect()),
            for_each: with(|r| r.for_each.is_some()),
            count: with(|r| r.count.is_some()),
            modules: config
                .module_calls
                .iter()
                .map(|c| {
                    (
                        c.name.as_str(),
                        c.module.outputs.iter().map(|o| o.name.as_str()).collect(),
                    )
                })
                .collect(),
            scoped: config
                .checks
                .iter()
                .flat_map(|c| c.data.iter().map(|d| (c.name.as_str(), d.name.as_str())))
                .collect(),
        }
    }

    /// These names and the scoped data sources of `check`, for its assertions.
    pub(super) fn with_check_data(mut self, check: &'a plinth_config::CheckDecl) -> Self {
        for d in &check.data {
            self.data.list.push(d.name.as_str());
            self.data.set.insert(d.name.as_str());
        }
        self
    }
}

/// Names, for membership in O(1) and for suggestions in declaration order.
struct Pool<'a> {
    list: Vec<&'a str>,
    set: HashSet<&'a str>,
}

impl<'a> Pool<'a> {
    fn new(list: Vec<&'a str>) -> Self {
        let set = list.iter().copied().collect();
        Pool { list, set }
    }

    fn contains(&self, name: &&str) -> bool {
        self.set.contains(name)
    }

    fn iter(&self) -> std::slice::Iter<'_, &'a str> {
        self.list.iter()
    }
}

/// Where an expression is, for what `each` and `count` mean in it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Within {
    /// Outside any repeated declaration (outputs, actions, settings, `for_each` and `count`
    /// themselves).
    Plain,
    /// The inputs of a resource with `for_each`: `each.key`, `each.value`.
    ForEach,
    /// The inputs of a resource with `count`: `count.index`.
    Count,
    /// A local's value: evaluated once, never per instance.
    Local,
}

/// A reference to a declaration with `for_each` or `count` must pick an instance before an
/// attribute (`app["blue"].id`, `app[0].id`; `app` alone is the map or list of instances), with
/// a key of the right kind; one without either has no instances to index.
fn check_instance_key(
    d: &mut Diagnostics,
    names: &Names<'_>,
    address: &str,
    next: Option<&RefStep>,
    loc: &Loc,
) {
    let meta = if names.for_each.contains(address) {
        Some("for_each")
    } else if names.count.contains(address) {
        Some("count")
    } else {
        None
    };
    match (next, meta) {
        (Some(RefStep::Attr { name, .. }), Some(meta)) => {
            let help = if meta == "count" {
                format!(
                    "write {address}[0].{name} (or {address}[count.index].{name} inside a count of the same length); `{address}` alone is the list of all instances, e.g. {address}[*].{name}"
                )
            } else {
                format!(
                    "write {address}[\"KEY\"].{name} (or {address}[each.key].{name} inside a for_each of the same keys); `{address}` alone is the map of all instances"
                )
            };
            d.push(
                Diagnostic::at(
                    format!("`{address}` has {meta}: pick an instance before `.{name}`"),
                    loc.clone(),
                )
                .label("missing instance key")
                .help(help),
            )
        }
        (Some(RefStep::Index(_)), None) => d.push(
            Diagnostic::at(
                format!("`{address}` has no for_each or count, so it has no instances to index"),
                loc.clone(),
            )
            .label("unexpected instance key")
            .help(format!("refer to its attributes directly, e.g. {address}.id")),
        ),
        (Some(RefStep::Index(e)), Some(meta)) => match (&e.kind, meta) {
            (ExprKind::Literal(Value::String(k)), "count") => d.push(
                Diagnostic::at(
                    format!("`{address}` has count, so its instances are numbered: [\"{k}\"] is a for_each key"),
                    loc.clone(),
                )
                .label("expected a number")
                .help(format!("write {address}[0], {address}[1], ...")),
            ),
            (ExprKind::Literal(Value::Number(n)), "for_each") => d.push(
                Diagnostic::at(
                    format!("`{address}` has for_each, so its instances are keyed by strings: [{n}] is a count index"),
                    loc.clone(),
                )
                .label("expected a string key")
                .help(format!("write {address}[\"{n}\"] for the instance with key \"{n}\"")),
            ),
            _ => {}
        },
        _ => {}
    }
}

pub(super) fn check_addr(d: &mut Diagnostics, names: &Names<'_>, text: &str, loc: &Loc) {
    let addr: Address = match text.parse() {
        Ok(a) => a,
        Err(e) => {
            d.push(Diagnostic::at(e, loc.clone()).label("expected an address"));
            return;
        }
    };
    if let Some(step) = addr.module.first() {
        // Inside a module: the call must exist here (its module checks its own names).
        if !names.modules.iter().any(|(n, _)| *n == step.name) {
            let help = did_you_mean(&step.name, names.modules.iter().map(|(n, _)| *n))
                .map(|s| format!("did you mean `module.{s}`?"));
            d.push(
                Diagnostic::at(
                    format!(
                        "`{text}` names a module call `module.{}` that is not declared",
                        step.name
                    ),
                    loc.clone(),
                )
                .label("unknown module")
                .maybe_help(help),
            );
        }
        return;
    }
    let (pool, prefix): (&Pool, &str) = match addr.kind {
        DeclKind::Resource => (&names.managed, ""),
        DeclKind::Data => (&names.data, "data."),
        other => {
            let what = match other {
                DeclKind::Action => "an action",
                DeclKind::Output => "an output",
                DeclKind::Local => "a local",
                _ => "a provider's settings",
            };
            d.push(Diagnostic::at(
                format!(
                    "`{text}` names {what}; only resources and data sources can be depended on"
                ),
                loc.clone(),
            ));
            return;
        }
    };
    if !pool.contains(&addr.name.as_str()) {
        let help = did_you_mean(&addr.name, pool.iter().copied())
            .map(|s| format!("did you mean `{prefix}{s}`?"));
        d.push(
            Diagnostic::at(
                format!("`{text}` does not name anything in this configuration"),
                loc.clone(),
            )
            .label("unknown address")
            .maybe_help(help),
        );
    }
}

/// A name such as `count-1` that reads as a known name `count`, a `-` and more: names may
/// hold `-` (as in HCL), so `var.count-1` names a variable `count-1`. The known prefix and
/// the rest, split at the last `-` that leaves a known prefix.
fn dash_split(name: &str, known: impl Fn(&str) -> bool) -> Option<(&str, &str)> {
    name.char_indices()
        .filter(|&(_, c)| c == '-')
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .filter(|(p, rest)| !rest.is_empty() && known(p))
        .last()
}

fn subtraction_help(root: &str, known: &str, rest: &str) -> String {
    format!(
        "a `-` inside a name is part of the name; to subtract, put spaces around it: `{root}{known} - {rest}`"
    )
}

/// Checks every reference in `node`, which is `within` a declaration of some kind.
pub(super) fn check_refs(d: &mut Diagnostics, names: &Names<'_>, node: &Node, within: Within) {
    check_refs_in(d, names, node, within, false)
}

/// [`check_refs`], where `allow_self` says whether `self` is left alone (a postcondition's
/// object; elsewhere it is reported by the caller or as an unknown reference).
pub(super) fn check_refs_in(
    d: &mut Diagnostics,
    names: &Names<'_>,
    node: &Node,
    within: Within,
    allow_self: bool,
) {
    for found in node.references() {
        let r = found.reference;
        let first_attr = match r.steps.first() {
            Some(RefStep::Attr { name, .. }) => Some(name.as_str()),
            _ => None,
        };
        let at = |msg: String| Diagnostic::at(msg, found.loc.clone());
        match r.root.as_str() {
            "var" => match first_attr {
                Some(n) if names.vars.contains(&n) => {}
                Some(n) => {
                    let help = match dash_split(n, |p| names.vars.contains(&p)) {
                        Some((p, rest)) => subtraction_help("var.", p, rest),
                        None => match did_you_mean(n, names.vars.iter().copied()) {
                            Some(s) => format!("did you mean `var.{s}`?"),
                            None => format!("declare it as [variable.{n}]"),
                        },
                    };
                    d.push(
                        at(format!("unknown variable `var.{n}`"))
                            .label("no such variable")
                            .help(help),
                    );
                }
                None => d.push(
                    at("`var` must be followed by a variable name".into())
                        .label("expected var.NAME"),
                ),
            },
            "local" => match first_attr {
                Some(n) if names.locals.contains(&n) => {}
                Some(n) => {
                    let help = match dash_split(n, |p| names.locals.contains(&p)) {
                        Some((p, rest)) => subtraction_help("local.", p, rest),
                        None => match did_you_mean(n, names.locals.iter().copied()) {
                            Some(s) => format!("did you mean `local.{s}`?"),
                            None => format!("declare it in a [locals] table: {n} = ..."),
                        },
                    };
                    d.push(
                        at(format!("unknown local `local.{n}`"))
                            .label("no such local")
                            .help(help),
                    );
                }
                None => d.push(
                    at("`local` must be followed by a local's name".into())
                        .label("expected local.NAME"),
                ),
            },
            "env" => {
                if first_attr.is_none() {
                    d.push(
                        at("`env` must be followed by a variable name".into())
                            .label("expected env.NAME"),
                    );
                }
            }
            "path" => {
                if !matches!(first_attr, Some("module" | "root" | "cwd")) {
                    d.push(
                        at("`path` has `path.module`, `path.root` and `path.cwd`".into())
                            .label("expected path.module, path.root or path.cwd"),
                    );
                }
            }
            "each" => match within {
                Within::ForEach => {
                    if !matches!(first_attr, Some("key" | "value")) {
                        d.push(
                            at("`each` has `key` and `value`".into())
                                .label("expected each.key or each.value"),
                        );
                    }
                }
                Within::Count => d.push(
                    at("`each` is only available in a resource with `for_each`; this one has count".into())
                        .label("not inside for_each")
                        .help("use count.index, the number of the instance (0, 1, ...)"),
                ),
                Within::Local => d.push(local_repeats(&found.loc, "each")),
                Within::Plain => d.push(
                    at("`each` is only available in a resource with `for_each`".into())
                        .label("not inside for_each")
                        .help("add for_each = [...] to this resource, or refer to a value directly"),
                ),
            },
            "count" => match within {
                Within::Count => {
                    if first_attr != Some("index") {
                        d.push(
                            at("`count` has only `count.index`".into())
                                .label("expected count.index"),
                        );
                    }
                }
                Within::ForEach => d.push(
                    at("`count.index` is only available in a resource with `count`; this one has for_each".into())
                        .label("not inside count")
                        .help("use each.key or each.value"),
                ),
                Within::Local => d.push(local_repeats(&found.loc, "count")),
                Within::Plain => d.push(
                    at("`count.index` is only available in a resource with `count`".into())
                        .label("not inside count")
                        .help("add count = N to this resource, or refer to a value directly"),
                ),
            },
            "module" => check_module_ref(d, names, r, &found.loc),
            "self" if allow_self => {}
            "data" => match first_attr {
                Some(n) if names.data.contains(&n) => {
                    check_instance_key(d, names, &format!("data.{n}"), r.steps.get(1), &found.loc)
                }
                Some(n) => {
                    let help = match did_you_mean(n, names.data.iter().copied()) {
                        Some(s) => Some(format!("did you mean `data.{s}`?")),
                        None if names.managed.contains(&n) => {
                            Some(format!("`{n}` is a resource: write `{n}` without `data.`"))
                        }
                        None => names.scoped.iter().find(|(_, r)| *r == n).map(|(c, _)| {
                            format!("`data.{n}` is declared in [check.{c}]: only that check's assertions can refer to it; declare it as [data.{n}] to use it elsewhere")
                        }),
                    };
                    d.push(
                        at(format!("unknown data source `data.{n}`"))
                            .label("no such data source")
                            .maybe_help(help),
                    );
                }
                None => d.push(at("`data` must be followed by a data source name".into())),
            },
            name if names.managed.contains(&name) => {
                check_instance_key(d, names, name, r.steps.first(), &found.loc)
            }
            name => {
                let help = match did_you_mean(name, names.managed.iter().copied()) {
                    Some(s) => Some(format!("did you mean `{s}`?")),
                    None if names.data.contains(&name) => Some(format!("`{name}` is a data source: write `data.{name}`")),
                    None if names.vars.contains(&name) => Some(format!("`{name}` is a variable: write `var.{name}`")),
                    None if names.locals.contains(&name) => Some(format!("`{name}` is a local: write `local.{name}`")),
                    None if name == "self" => Some("`self` exists only in postconditions (lifecycle.postcondition), where it is the object".to_string()),
                    None => Some("references are resource names, var.NAME, local.NAME, data.NAME, env.NAME, path.module, each.key/each.value or count.index".to_string()),
                };
                d.push(
                    at(format!("unknown reference `{}`", r.prefix(r.steps.len().min(1))))
                        .label("nothing is declared with this name")
                        .maybe_help(help),
                );
            }
        }
    }
}

/// `module.NAME.OUTPUT` (or `module.NAME["key"].OUTPUT`): the call is declared here and its
/// module declares the output.
fn check_module_ref(d: &mut Diagnostics, names: &Names<'_>, r: &plinth_expr::Reference, loc: &Loc) {
    let mut steps = r.steps.iter();
    let Some(RefStep::Attr { name, .. }) = steps.next() else {
        d.push(
            Diagnostic::at(
                "`module` must be followed by a module call's name",
                loc.clone(),
            )
            .label("e.g. module.app.OUTPUT"),
        );
        return;
    };
    let Some((_, outputs)) = names.modules.iter().find(|(n, _)| n == name) else {
        let help = did_you_mean(name, names.modules.iter().map(|(n, _)| *n))
            .map(|s| format!("did you mean `module.{s}`?"))
            .or_else(|| Some("declare the call with a [module.NAME] table and its source".into()));
        d.push(
            Diagnostic::at(format!("unknown module call `module.{name}`"), loc.clone())
                .label("no such module call")
                .maybe_help(help),
        );
        return;
    };
    let mut next = steps.next();
    if let Some(RefStep::Index(_)) = next {
        next = steps.next();
    }
    if let Some(RefStep::Attr { name: output, .. }) = next
        && !outputs.contains(&output.as_str())
    {
        let help = match did_you_mean(output, outputs.iter().copied()) {
            Some(s) => format!("did you mean `module.{name}.{s}`?"),
            None if outputs.is_empty() => {
                "the module declares no outputs: add an [output.NAME] table to it".to_string()
            }
            None => format!("its outputs are: {}", outputs.join(", ")),
        };
        d.push(
            Diagnostic::at(
                format!("`module.{name}` has no output `{output}`"),
                loc.clone(),
            )
            .label("not declared by the module")
            .help(help),
        );
    }
}

/// `each` or `count` in a local: a local has one value, not one per instance.
fn local_repeats(loc: &Loc, what: &str) -> Diagnostic {
    Diagnostic::at(
        format!("a local cannot use `{what}`: a local has one value, not one per instance"),
        loc.clone(),
    )
    .label(format!("`{what}` is not available in [locals]"))
    .help(format!(
        "move the expression into the resource that has {}, or make the local a map (or list) and index it there",
        if what == "each" { "for_each" } else { "count" }
    ))
}
