//! What a configuration node refers to: the declarations named by the references in its
//! `${...}` templates. The declaration graph, provider settings and `--target` all read
//! references through these functions.

use std::collections::HashSet;

use plinth_config::{Config, Loc, Node};

use crate::addr::DeclKind;

/// Declarations a node refers to: resources, data sources and locals (`local.NAME`).
/// `var.*`, `env.*`, `each.*`, `count.*` and `path.*` name no declaration.
pub fn node_refs(node: &Node) -> Vec<((DeclKind, String), Loc)> {
    use plinth_expr::RefStep;
    let mut out = Vec::new();
    for f in node.references() {
        let r = f.reference;
        let kind = match r.root.as_str() {
            "var" | "env" | "each" | "count" | "path" | "module" => continue,
            "data" => DeclKind::Data,
            "local" => DeclKind::Local,
            name => {
                out.push(((DeclKind::Resource, name.to_string()), f.loc.clone()));
                continue;
            }
        };
        if let Some(RefStep::Attr { name, .. }) = r.steps.first() {
            out.push(((kind, name.clone()), f.loc.clone()));
        }
    }
    out
}

/// The resources and data sources `refs` name, directly or through locals (a local stands
/// for what its value refers to; locals themselves are left out).
pub fn through_locals(
    config: &Config,
    refs: impl IntoIterator<Item = (DeclKind, String)>,
) -> HashSet<(DeclKind, String)> {
    let mut out = HashSet::new();
    let mut seen = HashSet::new();
    let mut todo: Vec<(DeclKind, String)> = refs.into_iter().collect();
    while let Some(r) = todo.pop() {
        if r.0 != DeclKind::Local {
            out.insert(r);
            continue;
        }
        if !seen.insert(r.1.clone()) {
            continue;
        }
        if let Some(l) = config.locals.iter().find(|l| l.name == r.1) {
            todo.extend(node_refs(&l.value).into_iter().map(|(k, _)| k));
        }
    }
    out
}

/// The module outputs a node refers to: `module.NAME.OUTPUT` as `(NAME, Some(OUTPUT))`, and
/// `module.NAME` used whole (or through an index only) as `(NAME, None)`.
pub fn module_refs(node: &Node) -> Vec<(String, Option<String>, Loc)> {
    use plinth_expr::RefStep;
    let mut out = Vec::new();
    for f in node.references() {
        let r = f.reference;
        if r.root != "module" {
            continue;
        }
        let mut steps = r.steps.iter();
        let Some(RefStep::Attr { name, .. }) = steps.next() else {
            continue;
        };
        let mut next = steps.next();
        if let Some(RefStep::Index(_)) = next {
            next = steps.next();
        }
        let output = match next {
            Some(RefStep::Attr { name, .. }) => Some(name.clone()),
            _ => None,
        };
        out.push((name.clone(), output, f.loc.clone()));
    }
    out
}

/// The input variables a node refers to (`var.NAME`), with where.
pub fn var_refs(node: &Node) -> Vec<(String, Loc)> {
    use plinth_expr::RefStep;
    node.references()
        .into_iter()
        .filter(|f| f.reference.root == "var")
        .filter_map(|f| match f.reference.steps.first() {
            Some(RefStep::Attr { name, .. }) => Some((name.clone(), f.loc.clone())),
            _ => None,
        })
        .collect()
}
