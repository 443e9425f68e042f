//! Static checks of `[[import]]` blocks: only the root has them; `to` is a resource instance
//! address whose key fits the declaration's `count`/`for_each` (with `for_each`, a key
//! expression such as `app[each.key]`); `type`, when given, is the declaration's; the id
//! refers only to what is known when planning and, when the provider can tell from a literal
//! id, names an object of that type; no two blocks import to one address. An undeclared `to`
//! is an error, except when generating its configuration (`plan --generate-config`), which
//! then needs `type`.

use std::collections::HashMap;

use plinth_config::{Config, Diagnostic, Diagnostics, ImportDecl, Loc, Node};
use plinth_provider::Registry;
use plinth_value::Value;

use crate::addr::{Address, DeclKind};
use crate::scope::Expansion;
use crate::tree::{ModTree, ROOT};

/// What an import's `to` names: a resource instance address, whose key is either written
/// out (or absent) or, with `for_each`, an expression evaluated per element.
pub(crate) struct Target {
    /// The address; without a key when the key is an expression.
    pub addr: Address,
    /// The key expression (`each.key` of `app[each.key]`), parsed as `${...}`.
    pub key_expr: Option<plinth_expr::Template>,
}

/// Parses `to` of `i` (see [`Target`]).
pub(crate) fn parse_to(i: &ImportDecl) -> Result<Target, Diagnostic> {
    let text = i.to.text.trim();
    let loc = &i.to.loc;
    let not_resource = |what: &str| {
        Diagnostic::at(
            format!("`to` of an [[import]] block must be a resource instance, but `{text}` is {what}"),
            loc.clone(),
        )
        .label("not a resource instance")
        .help("import to a [resource.NAME] of the configuration: to = \"rg\", to = \"app[\\\"blue\\\"]\" or to = \"module.app.mi\"")
    };
    let check = |a: Address| -> Result<Address, Diagnostic> {
        if a.is_module() {
            return Err(not_resource("a module instance"));
        }
        if a.deposed {
            return Err(not_resource("a deposed object"));
        }
        match a.kind {
            DeclKind::Resource => Ok(a),
            DeclKind::Data => Err(not_resource(
                "a data source (data sources are read, not imported)",
            )),
            DeclKind::Output => Err(not_resource("an output")),
            DeclKind::Action => Err(not_resource("an action")),
            _ => Err(not_resource("not a resource")),
        }
    };
    // A key that is neither a quoted string nor a number is an expression (`app[each.key]`).
    let literal_key = split_key(text).is_none_or(|(_, k)| {
        let k = k.trim();
        k.starts_with('"') || (!k.is_empty() && k.chars().all(|c| c.is_ascii_digit()))
    });
    match text
        .parse::<Address>()
        .map_err(|e| e.to_string())
        .and_then(|a| {
            if literal_key {
                Ok(a)
            } else {
                Err(String::new())
            }
        }) {
        Ok(a) => Ok(Target {
            addr: check(a)?,
            key_expr: None,
        }),
        Err(e) => {
            // `NAME[EXPR]`: the last bracket holds an expression.
            let Some((prefix, expr)) = split_key(text) else {
                return Err(Diagnostic::at(
                    format!("`to` of an [[import]] block is not an address: {e}"),
                    loc.clone(),
                )
                .label("not an address")
                .help("write a resource instance address, e.g. to = \"rg\" or to = \"app[\\\"blue\\\"]\""));
            };
            let addr = match prefix.parse::<Address>() {
                Ok(a) if a.key.is_none() => check(a)?,
                _ => {
                    return Err(Diagnostic::at(
                        format!("`to` of an [[import]] block is not an address: `{text}`"),
                        loc.clone(),
                    )
                    .label("not an address")
                    .help("write NAME[KEY], e.g. to = \"app[each.key]\" (an expression key needs for_each) or to = \"app[\\\"blue\\\"]\""));
                }
            };
            let template = plinth_expr::parse_template(&format!("${{{expr}}}")).map_err(|e| {
                Diagnostic::at(
                    format!("the key of `to` (`{expr}`) is not an expression: {e}"),
                    loc.clone(),
                )
                .label("not an expression")
                .help("write the key as an expression of each, e.g. to = \"app[each.key]\"")
            })?;
            if i.for_each.is_none() {
                return Err(Diagnostic::at(
                    format!("`to` has the key expression `{expr}`, but the [[import]] block has no for_each"),
                    loc.clone(),
                )
                .label("key expression without for_each")
                .help("add for_each = \"${...}\" (a map of ids), or write the key out: to = \"app[\\\"blue\\\"]\""));
            }
            for r in template.references() {
                if !matches!(r.root.as_str(), "each" | "var" | "local") {
                    return Err(Diagnostic::at(
                        format!("the key of `to` refers to `{}`: it may use each, variables and locals only", r.root),
                        loc.clone(),
                    )
                    .label("not known when planning")
                    .help("write the key as an expression of each, e.g. to = \"app[each.key]\""));
                }
            }
            Ok(Target {
                addr,
                key_expr: Some(template),
            })
        }
    }
}

/// `("app", "each.key")` of `app[each.key]`: the text before the last top-level bracket and
/// what it holds; `None` when the text does not end in a bracket.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_suffix(']')?;
    let mut depth = 0usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ']' => depth += 1,
            '[' if depth == 0 => return Some((&body[..i], &body[i + 1..])),
            '[' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The static module `addr` is in, or an error naming the call the configuration lacks.
pub(crate) fn module_of(
    tree: &ModTree<'_>,
    addr: &Address,
    loc: &Loc,
) -> Result<usize, Diagnostic> {
    let mut m = ROOT;
    for step in &addr.module {
        m = tree.child(m, &step.name).ok_or_else(|| {
            Diagnostic::at(
                format!(
                    "`to` is in `module.{}`, which the configuration does not call",
                    step.name
                ),
                loc.clone(),
            )
            .label("no such module call")
            .help("import to a resource of a module the configuration calls ([module.NAME])")
        })?;
    }
    Ok(m)
}

/// The id of an import when it is a literal string.
fn literal_id(node: &Node) -> Option<String> {
    match node.static_value()? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// Checks every `[[import]]` of `config` (and refuses those of its modules). `generating`:
/// an undeclared `to` is allowed (its configuration is being generated) if it has `type`.
pub(crate) fn check(config: &Config, registry: &Registry, generating: bool) -> Diagnostics {
    let mut d = Diagnostics::default();
    let tree = ModTree::new(config);
    let mut refused = std::collections::HashSet::new();
    for m in tree.modules.iter().skip(1) {
        for i in &m.config.imports {
            if !refused.insert((i.loc.file, i.loc.span.start)) {
                continue;
            }
            let name = m.path.last().cloned().unwrap_or_default();
            d.push(
                Diagnostic::at("an [[import]] block must be in the root configuration, not in a module", i.loc.clone())
                    .label(format!("in the module of `module.{}`", m.path.join(".module.")))
                    .help(format!("move it to the root configuration with the module's address: to = \"module.{name}.{}\"", i.to.text)),
            );
        }
    }
    let mut seen: HashMap<String, Loc> = HashMap::new();
    for i in &config.imports {
        if let Err(e) = check_one(&tree, registry, generating, i, &mut seen) {
            d.push(e);
        }
    }
    d
}

fn check_one(
    tree: &ModTree<'_>,
    registry: &Registry,
    generating: bool,
    i: &ImportDecl,
    seen: &mut HashMap<String, Loc>,
) -> Result<(), Diagnostic> {
    let target = parse_to(i)?;
    for (node, what) in [(Some(&i.id), "the id"), (i.for_each.as_ref(), "for_each")] {
        let Some(node) = node else { continue };
        for r in node.references() {
            let root = r.reference.root.as_str();
            let ok = match root {
                "var" | "local" | "path" | "env" => true,
                "each" => what == "the id" && i.for_each.is_some(),
                _ => false,
            };
            if !ok {
                let help = if root == "each" {
                    "each is defined only with for_each: add for_each = \"${...}\" to the block"
                        .to_string()
                } else {
                    format!(
                        "{what} of an import must be known when planning: use variables, locals and each, not `{root}`"
                    )
                };
                return Err(Diagnostic::at(
                    format!(
                        "{what} of an [[import]] block refers to `{}`",
                        r.reference.root
                    ),
                    r.loc.clone(),
                )
                .label("not known when planning")
                .help(help));
            }
        }
    }
    if i.for_each.is_some() && target.key_expr.is_none() {
        return Err(Diagnostic::at(
            format!("this [[import]] block has for_each, but `to` (`{}`) is the same address for every element", i.to.text),
            i.to.loc.clone(),
        )
        .label("one address for every element")
        .help(format!("key `to` by each element: to = \"{}[each.key]\"", target.addr.decl_text())));
    }
    let text = target.addr.to_string();
    if target.key_expr.is_none() {
        if let Some(first) = seen.get(&text) {
            return Err(Diagnostic::at(
                format!("two [[import]] blocks import to `{text}`"),
                i.to.loc.clone(),
            )
            .label("second import")
            .related(first.clone(), "first import to it")
            .help("an address holds one object: remove one of the blocks, or import the other object elsewhere"));
        }
        seen.insert(text.clone(), i.to.loc.clone());
    }
    let m = module_of(tree, &target.addr, &i.to.loc)?;
    let decl = tree
        .get(m)
        .config
        .resource(DeclKind::Resource, &target.addr.name);
    let type_name = match decl {
        Some(decl) => {
            check_key(decl, &target, i)?;
            if let Some((t, tloc)) = &i.type_name
                && *t != decl.type_name
            {
                return Err(Diagnostic::at(
                    format!(
                        "the import's type is {t}, but `{}` is declared as {}",
                        target.addr.decl_text(),
                        decl.type_name
                    ),
                    tloc.clone(),
                )
                .label("not the declaration's type")
                .related(decl.type_loc.clone(), "declared here")
                .help(format!(
                    "remove `type` (the declaration gives it), or write type = \"{}\"",
                    decl.type_name
                )));
            }
            decl.type_name.clone()
        }
        None => undeclared(registry, generating, i, &target, m)?,
    };
    if let Some(id) = literal_id(&i.id) {
        check_id(registry, &type_name, &id, &i.id.loc)?;
    }
    Ok(())
}

/// Why `id` cannot be an object of `type_name`, located at the id, when the provider can
/// tell from the id.
pub(crate) fn check_id(
    registry: &Registry,
    type_name: &str,
    id: &str,
    loc: &Loc,
) -> Result<(), Diagnostic> {
    let Some((provider, t)) = registry.lookup(type_name) else {
        return Ok(());
    };
    match provider.import_id_mismatch(&t, id) {
        Some(why) => Err(Diagnostic::at(why, loc.clone())
            .label(format!("not the id of a {type_name}"))
            .help(format!("give the id of an existing {type_name}, or import this object to a resource of its own type"))),
        None => Ok(()),
    }
}

/// A written key must fit the declaration's count/for_each; an expression key needs one.
fn check_key(
    decl: &plinth_config::ResourceDecl,
    target: &Target,
    i: &ImportDecl,
) -> Result<(), Diagnostic> {
    let name = &target.addr.name;
    let expansion = Expansion::of(decl);
    let fits = match (expansion, &target.addr.key, &target.key_expr) {
        (None, None, None) => true,
        (Some(_), None, Some(_)) => true,
        (Some(e), Some(k), None) => e.name() == k.meta_argument(),
        _ => false,
    };
    if fits {
        return Ok(());
    }
    Err(match expansion {
        Some(e) => {
            let example = match e {
                Expansion::Count => format!("{name}[0]"),
                Expansion::ForEach => format!("{name}[\\\"KEY\\\"]"),
            };
            Diagnostic::at(
                format!("`{name}` uses {}: import to one of its instances", e.name()),
                i.to.loc.clone(),
            )
            .label("not an instance")
            .related(decl.loc.clone(), "declared here")
            .help(format!("write to = \"{example}\""))
        }
        None => Diagnostic::at(
            format!("`{name}` has no for_each or count: import to `{name}` without a key"),
            i.to.loc.clone(),
        )
        .label("no such instance")
        .related(decl.loc.clone(), "declared here")
        .help(format!(
            "write to = \"{}\"",
            target.addr.decl().to_string().replace('"', "\\\"")
        )),
    })
}

/// The type of an undeclared `to`: allowed only when generating, at the root, without a key,
/// with a `type` that exists.
fn undeclared(
    registry: &Registry,
    generating: bool,
    i: &ImportDecl,
    target: &Target,
    m: usize,
) -> Result<String, Diagnostic> {
    let name = &target.addr.name;
    if !generating {
        return Err(Diagnostic::at(format!("`{}` is not declared", target.addr.decl_text()), i.to.loc.clone())
            .label("no such resource")
            .help(format!("declare [resource.{name}] or run `plinth plan --generate-config generated.toml` to write it from the object")));
    }
    if m != ROOT || target.addr.key.is_some() || target.key_expr.is_some() {
        return Err(Diagnostic::at(format!("configuration can only be generated for a root resource without a key, not `{}`", i.to.text), i.to.loc.clone())
            .label("declare this one yourself")
            .help(format!("declare [resource.{name}] (with its for_each or count) where it belongs, or import to a plain name such as to = \"{name}\"")));
    }
    let Some((t, tloc)) = &i.type_name else {
        let suggested = literal_id(&i.id).and_then(|id| {
            registry
                .providers()
                .find_map(|p| p.type_of_id(&id).map(|t| format!("{}:{t}", p.name())))
        });
        return Err(Diagnostic::at(format!("the import to `{name}` has no `type`: configuration cannot be generated without one"), i.loc.clone())
            .label("missing `type`")
            .help(match suggested {
                Some(t) => format!("add type = \"{t}\" (the id's type)"),
                None => "add the object's type, e.g. type = \"azure:Microsoft.Resources/resourceGroups@2025-04-01\" or type = \"k8s:v1/ServiceAccount\"".to_string(),
            }));
    };
    let schema = super::lookup_type(registry, t, tloc)?;
    if !schema.managed {
        return Err(Diagnostic::at(
            format!("`{t}` cannot be managed as a resource"),
            tloc.clone(),
        )
        .label("not a resource type")
        .help("import objects of a type plinth manages (`plinth schema` lists them)"));
    }
    Ok(t.clone())
}
