//! `lifecycle.manage`: attributes the configuration does not set that plinth enforces anyway.
//!
//! Each managed path (an attribute path, `properties.minimumTlsVersion`) is *pinned*: the
//! configuration handed to the provider takes, at the input path that sets it
//! ([`Provider::input_path`]: `body.properties.minimumTlsVersion`), the value plinth last
//! applied there (the record's inputs), or, before plinth ever applied one, the value state
//! last recorded (the record's attributes as loaded, before refresh). A managed map pins
//! only the leaves an input can set: what the service owns ([`Provider::is_volatile`]) or
//! computes with no input to set it (`input_path` is `None`: a Service Bus namespace's
//! `serviceBusEndpoint`, an identity's `principalId`) never goes into the body. A path the
//! configuration sets itself is left to it (the configured value wins: `manage` is
//! redundant there, and harmless). Pinned on every plan, not only on drift, so that the
//! inputs apply records keep the value and a later update sends it again.
//!
//! A change outside plinth at or under a managed path (the object as read differs from the
//! pinned value) is planned back: its input path is a changed path whatever the provider's
//! own diff says (a key added to a managed map is not a difference for a diff of only the
//! paths the configuration sets), and the change is drift. Apply evaluates the configuration
//! again and takes the pinned values from the plan ([`carry`]), not from state: refresh
//! results are written before any change and would otherwise pin the drifted value.

use std::collections::HashMap;

use plinth_config::{Diagnostic, Loc, did_you_mean};
use plinth_provider::{Prior, Provider, diff};
use plinth_state::State;
use plinth_value::{Path, PathSeg, Value};

use crate::addr::{Address, DeclKind};
use crate::tree::ModTree;

/// The lifecycle rules that sort drift (`lifecycle.manage`, `ignore_changes`) of the
/// declaration of each record in `state` (by its address there), for refresh to list drift
/// at managed paths with what the configuration sets and to leave ignored paths out of what
/// it reports as not managed here. A record whose declaration is gone (or is being moved by
/// a `[[moved]]` block) has none: its drift at those paths is shown as unmanaged until the
/// move is applied, and still planned back.
pub(super) fn by_address(
    tree: &ModTree<'_>,
    state: &State,
) -> HashMap<String, crate::refresh::Rules> {
    state
        .resources
        .iter()
        .filter(|(_, r)| r.mode == DeclKind::Resource && !r.deposed)
        .filter_map(|(address, _)| {
            let a = address.parse::<Address>().ok()?;
            let m = tree.of_instance(&a.module)?;
            let decl = tree.get(m).config.resource(DeclKind::Resource, &a.name)?;
            let l = &decl.lifecycle;
            let rules = crate::refresh::Rules {
                manage: l.manage.iter().map(|(p, _)| p.clone()).collect(),
                ignore_changes: l.ignore_changes.iter().map(|(p, _)| p.clone()).collect(),
                ignore_all: l.ignore_all_changes,
            };
            (!rules.manage.is_empty() || !rules.ignore_changes.is_empty() || rules.ignore_all)
                .then(|| (address.clone(), rules))
        })
        .collect()
}

/// What pinning found.
#[derive(Debug, Default)]
pub(super) struct Pinned {
    /// The input paths to plan back because the object changed there outside plinth (empty
    /// when nothing managed drifted).
    pub(super) drifted: Vec<Path>,
    /// The configuration is what was last applied, managed paths aside (there the pins may
    /// be new to the record's inputs): an update is then drift being undone.
    pub(super) as_applied: bool,
}

/// Pins every path of `manage` in `config` (see the module's documentation). `recorded` is
/// the record as loaded (before refresh), `current` the object as refresh read it. A managed
/// path neither has, next to a key of the object that is one typo away, is refused: a
/// misspelt `manage` would otherwise enforce nothing, silently.
pub(super) fn pin(
    provider: &dyn Provider,
    t: &str,
    address: &str,
    manage: &[(Path, Loc)],
    recorded: &Prior,
    current: &Prior,
    config: &mut Value,
) -> Result<Pinned, Diagnostic> {
    let mut out = Pinned::default();
    let mut unpinned = config.clone();
    let mut applied_inputs = recorded.inputs.clone();
    let volatile = |rel: &Path, m: &Path| provider.is_volatile(t, &join(m, rel));
    // What no input sets (a read-only endpoint, metric id or principal id): the service
    // computes it, a PUT body has no place for it (and ARM may refuse one that has).
    let read_only = |rel: &Path, m: &Path| provider.input_path(t, &join(m, rel)).is_none();
    for (m, loc) in manage {
        let Some(im) = provider.input_path(t, m) else {
            continue; // validate refused it
        };
        if config
            .get(&im)
            .is_some_and(|v| !matches!(v.unmarked(), Value::Map(_)))
        {
            continue; // the configuration sets it: its value wins
        }
        let last = recorded.attributes.get(m);
        let applied = (recorded.inputs.is_wholly_known()
            && matches!(recorded.inputs, Value::Map(_)))
        .then(|| recorded.inputs.get(&im))
        .flatten();
        let now = current.attributes.get(m);
        let pinned = match applied.as_ref().or(last.as_ref()) {
            Some(v) => {
                let mut v = v.clone();
                for leaf in v.leaf_paths() {
                    if !leaf.is_root() && (volatile(&leaf, m) || read_only(&leaf, m)) {
                        v.remove(&leaf);
                    }
                }
                v
            }
            None if now.is_none() => {
                misspelt(address, m, loc, &current.attributes)?;
                continue;
            }
            // Added outside plinth: absent is what state recorded.
            None => Value::Null,
        };
        unpinned.remove(&im);
        applied_inputs.remove(&im);
        // The configuration's own values under the path win over the pinned ones.
        let own = config.get(&im);
        let merged = match &own {
            Some(own) => diff::overlay(&pinned, own),
            None => pinned.clone(),
        };
        config.set(&im, merged);
        // What changed outside plinth since state recorded the object, at or under the path
        // (compared as the object reports it, so a value the service normalises is no
        // change), leaving out the service's own changes and what the configuration sets.
        let changed: Vec<Path> = match (&last, &now) {
            (Some(w), Some(n)) => crate::refresh::drift_paths(w, n),
            (None, None) => vec![],
            _ => vec![Path::root()],
        };
        for rel in changed {
            if (!rel.is_root() && (volatile(&rel, m) || read_only(&rel, m)))
                || own.as_ref().is_some_and(|o| o.get(&rel).is_some())
            {
                continue;
            }
            // A key added under the path is taken away by sending the map that holds it as
            // recorded: the nearest enclosing value the pin has.
            let mut at = rel.clone();
            while !at.is_root() && pinned.get(&at).is_none() {
                at = at.split_last().map(|(_, p)| p).unwrap_or_else(Path::root);
            }
            let Some(input) = provider.input_path(t, &join(m, &at)) else {
                continue;
            };
            if !out.drifted.contains(&input) {
                out.drifted.push(input);
            }
        }
    }
    out.as_applied = !matches!(applied_inputs, Value::Null)
        && diff::changed_paths(&unpinned, &applied_inputs, &diff::ExactEq).is_empty()
        && diff::changed_paths(&applied_inputs, &unpinned, &diff::ExactEq).is_empty();
    Ok(out)
}

/// At apply: the configuration evaluated again takes the values the plan pinned (in its
/// `config`) at every managed input path it does not set itself.
pub(crate) fn carry(
    provider: &dyn Provider,
    t: &str,
    manage: &[(Path, Loc)],
    planned: Option<&Value>,
    config: &mut Value,
) {
    let Some(planned) = planned else {
        return;
    };
    for (m, _) in manage {
        let Some(im) = provider.input_path(t, m) else {
            continue;
        };
        let Some(pinned) = planned.get(&im) else {
            continue;
        };
        if config.get(&im).is_none() {
            config.set(&im, pinned);
            continue;
        }
        for leaf in pinned.leaf_paths() {
            let at = join(&im, &leaf);
            if config.get(&at).is_none()
                && let Some(v) = pinned.get(&leaf)
            {
                config.set(&at, v);
            }
        }
    }
}

/// A managed path the object does not have, while its parent has a key one typo away.
fn misspelt(address: &str, m: &Path, loc: &Loc, attributes: &Value) -> Result<(), Diagnostic> {
    let Some((PathSeg::Key(last), parent)) = m.split_last() else {
        return Ok(());
    };
    let Some(Value::Map(siblings)) = attributes.get(&parent).map(|v| v.unmark_all()) else {
        return Ok(());
    };
    let Some(near) = did_you_mean(last, siblings.keys().map(String::as_str)) else {
        return Ok(());
    };
    let suggestion = parent.key(&near);
    Err(Diagnostic::at(
        format!("`lifecycle.manage` names `{m}`, which `{address}` does not have"),
        loc.clone(),
    )
    .label("no such attribute")
    .help(format!(
        "did you mean `{suggestion}`? manage names attribute paths as the object reports them"
    )))
}

fn join(base: &Path, rel: &Path) -> Path {
    Path::from_segments(
        base.segments()
            .iter()
            .chain(rel.segments())
            .cloned()
            .collect(),
    )
}
