//! What a change carries for its reviewer, beyond the action: its paths in the one language
//! of `before`/`after` (attribute paths), write-only values shown where they are written, the
//! service's bookkeeping a create leaves out, and the provider's words about values.
//!
//! Providers diff in input paths (`body.properties.disableLocalAuth`, `manifest.data.x`); the
//! plan speaks attribute paths (`properties.disableLocalAuth`, `data.x`), so that every path a
//! plan carries resolves in the documents beside it, whichever rendering reads it.

use std::collections::HashMap;

use plinth_config::{Config, Node};
use plinth_expr::{ExprKind, RefStep};
use plinth_plan::Annotation;
use plinth_provider::Provider;
use plinth_value::{Path, PathSeg, Value};

/// `ip`, a changed input path, as the attribute path it is reported at; a write-only input
/// (one the object never reports, [`Provider::attribute_path`] is `None`) stays its input
/// path, which resolves in the change's `config`.
pub(super) fn attribute_of(provider: &dyn Provider, t: &str, ip: &Path) -> Path {
    provider.attribute_path(t, ip).unwrap_or_else(|| ip.clone())
}

/// The attribute paths of `inputs` (changed input paths), each once, in order.
pub(super) fn attribute_paths(provider: &dyn Provider, t: &str, inputs: &[Path]) -> Vec<Path> {
    let mut out: Vec<Path> = Vec::with_capacity(inputs.len());
    for ip in inputs {
        let a = attribute_of(provider, t, ip);
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Shows a changed value the service keeps but never returns (a Kubernetes Secret's
/// `stringData`, which the server stores as `data`; a password ARM does not echo) where it
/// is written: `before` gets the value last applied (state's inputs), `after` the value
/// configured, both sensitive when either is. Without this the change names a path that
/// neither document holds, and a rotated secret looks like an addition. A path refresh found
/// removed outside plinth (`gone`) is left absent in `before`: that absence is the drift.
pub(super) fn show_write_only(
    pairs: &[(Path, Path)],
    prior_inputs: Option<&Value>,
    config: &Value,
    gone: &[Path],
    before: Option<&mut Value>,
    after: &mut Value,
) {
    let mut before = before;
    for (ip, a) in pairs {
        if a.is_root() {
            continue;
        }
        let was = prior_inputs.and_then(|i| i.get(ip));
        let now = config.get(ip);
        let secret = was.as_ref().is_some_and(Value::contains_sensitive)
            || now.as_ref().is_some_and(Value::contains_sensitive);
        let mark = |v: Value| {
            if secret && !v.is_sensitive() {
                Value::sensitive(v)
            } else {
                v
            }
        };
        if let Some(b) = before.as_deref_mut()
            && b.get(a).is_none()
            && !gone.iter().any(|g| g.overlaps(a))
            && let Some(was) = was
        {
            b.set(a, mark(was));
        }
        if after.get(a).is_none()
            && let Some(now) = now
        {
            after.set(a, mark(now));
        }
    }
}

/// The attribute paths of `after` (a create's or a replacement's) that are unknown, that the
/// provider says the service owns ([`Provider::is_volatile`]), and that no reference reads
/// (`refs`: the paths references read of this object; the root when one reads it whole).
pub(super) fn bookkeeping(
    provider: &dyn Provider,
    t: &str,
    after: &Value,
    refs: &[Path],
) -> Vec<Path> {
    after
        .unknown_paths()
        .into_iter()
        .filter(|p| !p.is_root() && provider.is_volatile(t, p))
        .filter(|p| !refs.iter().any(|r| r.overlaps(p)))
        .collect()
}

/// The provider's words about `attributes` as the plan carries them.
pub(super) fn annotations(provider: &dyn Provider, t: &str, attributes: &Value) -> Vec<Annotation> {
    provider
        .annotations(t, attributes)
        .into_iter()
        .map(|(path, note)| Annotation { path, note })
        .collect()
}

/// Per declaration name of one module's configuration, the attribute paths its references
/// read: `aks.properties.oidcIssuerProfile.issuerURL` reads `properties.oidcIssuerProfile.
/// issuerURL` of `aks`; `${aks}` (or a step that is not a literal) reads from there down.
/// An instance key (`app["blue"]`, `app[0]`) is not an attribute; `self` in a resource's
/// conditions reads that resource.
#[derive(Default)]
pub(super) struct ReadPaths {
    by_name: HashMap<String, Vec<Path>>,
}

impl ReadPaths {
    /// The references of every expression in `config` (one module's).
    pub(super) fn of(config: &Config) -> Self {
        let mut r = ReadPaths::default();
        // Keyed declarations by kind and name, found once (a scan per reference was
        // quadratic: 100,000 resources took minutes).
        let keyed_decls: std::collections::HashSet<(plinth_addr::DeclKind, &str)> = config
            .resources
            .iter()
            .filter(|d| d.count.is_some() || d.for_each.is_some())
            .map(|d| (d.mode, d.name.as_str()))
            .collect();
        let keyed = |kind: plinth_addr::DeclKind, name: &str| keyed_decls.contains(&(kind, name));
        let mut add = |node: &Node, self_name: Option<&str>| {
            for f in node.references() {
                let reference = f.reference;
                let (name, steps): (&str, &[RefStep]) = match reference.root.as_str() {
                    "self" => match self_name {
                        Some(n) => (n, &reference.steps),
                        None => continue,
                    },
                    "var" | "env" | "each" | "count" | "path" | "module" | "local" => continue,
                    "data" => match reference.steps.split_first() {
                        Some((RefStep::Attr { name, .. }, rest)) => (name.as_str(), rest),
                        _ => continue,
                    },
                    other => (other, &reference.steps),
                };
                let mut steps = steps;
                // `self` is the instance; a keyed declaration's first index picks one.
                let kind = if reference.root == "data" {
                    plinth_addr::DeclKind::Data
                } else {
                    plinth_addr::DeclKind::Resource
                };
                if reference.root != "self"
                    && keyed(kind, name)
                    && let Some((RefStep::Index(_), rest)) = steps.split_first()
                {
                    steps = rest;
                }
                let key = if reference.root == "data" {
                    format!("data.{name}")
                } else {
                    name.to_string()
                };
                r.by_name.entry(key).or_default().push(read_path(steps));
            }
        };
        for d in &config.resources {
            add(&d.inputs, None);
            for meta in [&d.for_each, &d.count].into_iter().flatten() {
                add(meta, None);
            }
            let l = &d.lifecycle;
            for c in l.preconditions.iter().chain(&l.postconditions) {
                add(&c.condition, Some(&d.name));
                add(&c.message, Some(&d.name));
            }
        }
        for a in &config.actions {
            add(&a.inputs, None);
        }
        for l in &config.locals {
            add(&l.value, None);
        }
        for o in &config.outputs {
            add(&o.value, None);
            for c in &o.preconditions {
                add(&c.condition, None);
                add(&c.message, None);
            }
        }
        for call in &config.module_calls {
            for meta in [&call.for_each, &call.count].into_iter().flatten() {
                add(meta, None);
            }
            for (_, _, node) in &call.inputs {
                add(node, None);
            }
            for p in &call.providers {
                add(&p.config, None);
            }
        }
        for p in &config.providers {
            add(&p.config, None);
        }
        for c in &config.checks {
            for a in &c.asserts {
                add(&a.condition, None);
                add(&a.message, None);
            }
            for d in &c.data {
                add(&d.inputs, None);
            }
        }
        r
    }

    /// What references read of the declaration `name` (`data.x` for a data source).
    pub(super) fn of_name(&self, name: &str) -> &[Path] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

/// The attribute path reference steps read: literal names and indexes, up to the first
/// step that is not literal (from there on, everything below is read).
fn read_path(steps: &[RefStep]) -> Path {
    let mut segs = Vec::new();
    for s in steps {
        match s {
            RefStep::Attr { name, .. } => segs.push(PathSeg::Key(name.clone())),
            RefStep::Index(e) => match &e.kind {
                ExprKind::Literal(Value::String(k)) => segs.push(PathSeg::Key(k.clone())),
                ExprKind::Literal(Value::Number(n)) => match n.as_u64() {
                    Some(i) => segs.push(PathSeg::Index(i as usize)),
                    None => break,
                },
                _ => break,
            },
        }
    }
    Path::from_segments(segs)
}
