//! Refresh: read every object state knows, concurrently, and settle records left pending by
//! an interrupted run (SPEC §3, §5).
//!
//! What changed outside plinth is sorted per object ([`Drift`]): paths the configuration
//! sets (or `lifecycle.manage` names) are `changed_paths`, planned back; other paths that
//! changed are `unmanaged_paths`, shown apart and never planned back; paths the provider
//! knows the service changes by itself ([`Provider::is_volatile`]: a status, a timestamp)
//! are neither, so they follow the object in the refreshed view without being reported; nor
//! are paths the configuration lets others change (`lifecycle.ignore_changes`: tags Azure
//! Policy adds, a count an autoscaler sets), which apply records when it next writes the
//! object, so that the value found is kept (see [`Rules`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use plinth_addr::DeclKind;
use plinth_config::{Diagnostic, Diagnostics};
use plinth_plan::{Action, Drift};
use plinth_provider::{Prior, Registry, diff};
use plinth_state::{OutputState, ResourceState, State, Status};
use plinth_value::{Path, Value};

use crate::events::{Event, EventSink};
use crate::marks;
use crate::reads::{Read, Reader, Reading, batches};
use crate::reporter::EventReporter;

/// The state as refresh found it: the loaded state plus the records that changed, so a
/// refresh of 10,000 unchanged objects copies nothing. Planning may then rename records
/// ([`Refreshed::rename`]) to the addresses they move to.
pub struct Refreshed<'a> {
    base: &'a State,
    updated: HashMap<String, ResourceState>,
    removed: HashSet<String>,
    /// Records renamed into this view, by their new address.
    moved_in: BTreeMap<String, ResourceState>,
    /// The address in the loaded state of each record renamed into this view.
    origin: HashMap<String, String>,
    /// The prior object refresh built (with [`marks::prior`]) for each record it found
    /// unchanged, by address: planning takes it ([`Refreshed::take_prior`]) instead of
    /// building the same prior from the record again.
    priors: Mutex<HashMap<String, Prior>>,
}

/// What refresh reports besides the objects it reads.
#[derive(Clone, Copy)]
pub struct Report<'m> {
    /// Every changed attribute is drift to show (a refresh-only plan), managed or not.
    pub all: bool,
    /// Changes to attributes the configuration does not set are reported as
    /// `Drift::unmanaged_paths` (a normal plan; a destroy plan has no use for them).
    pub unmanaged: bool,
    /// The lifecycle rules of each record's declaration that sort its drift, by address in
    /// the loaded state (records without any are absent).
    pub lifecycle: &'m HashMap<String, Rules>,
}

/// What a declaration's `lifecycle` says about changes made outside plinth.
///
/// - `manage` (attribute paths): changes at or under them are planned back, so they are
///   `changed_paths`.
/// - `ignore_changes` (input paths, as written; mapped to attribute paths with
///   [`Provider::attribute_path`]): the configuration leaves these to others, so a change at
///   or under one that it does not set is not "changed outside plinth, not managed here"
///   either: it is the expected case (tags Azure Policy adds, `properties.agentPoolProfiles`
///   counts the cluster autoscaler sets, `spec.replicas` under a HorizontalPodAutoscaler).
///   Changes to paths the configuration sets are still listed in `changed_paths` (the plan
///   keeps the value found there and does not plan it back), as before.
/// - `ignore_changes = "all"` (`ignore_all`): every difference is the object's business; no
///   unmanaged drift is reported for it at all.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// `lifecycle.manage`: attribute paths.
    pub manage: Vec<Path>,
    /// `lifecycle.ignore_changes`: input paths.
    pub ignore_changes: Vec<Path>,
    /// `lifecycle.ignore_changes = "all"`.
    pub ignore_all: bool,
}

/// The attribute paths of `ignore_changes` for a record of `type_name` (input paths the
/// provider does not mirror in the object's attributes are left out).
pub(crate) fn ignored_attribute_paths(
    registry: &Registry,
    type_name: &str,
    ignore_changes: &[Path],
) -> Vec<Path> {
    let lookup = registry.lookup(type_name);
    ignore_changes
        .iter()
        .filter_map(|ip| match &lookup {
            Some((p, t)) => p.attribute_path(t, ip),
            None => Some(ip.clone()),
        })
        .collect()
}

impl<'a> Refreshed<'a> {
    /// The state as loaded, unrefreshed.
    pub fn unchanged(base: &'a State) -> Self {
        Refreshed {
            base,
            updated: HashMap::new(),
            removed: HashSet::new(),
            moved_in: BTreeMap::new(),
            origin: HashMap::new(),
            priors: Mutex::new(HashMap::new()),
        }
    }

    /// The prior object of the record at `address` that refresh built and found unchanged,
    /// taken out of this view (a second call answers `None`); `None` as well when the
    /// record changed, moved or is gone. The same as [`marks::prior`] of [`Refreshed::get`].
    pub fn take_prior(&self, address: &str) -> Option<Prior> {
        if self.updated.contains_key(address)
            || self.removed.contains(address)
            || self.moved_in.contains_key(address)
        {
            return None;
        }
        self.priors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(address)
    }

    /// The record of `address` (an address of this view) as the loaded state holds it,
    /// before refresh read the object: what was last recorded, drift not yet absorbed.
    /// `None` when the view has no record there.
    pub fn recorded(&self, address: &str) -> Option<&ResourceState> {
        self.get(address)?;
        let original = self.origin.get(address).map_or(address, String::as_str);
        self.base.resources.get(original)
    }

    /// The record of `address` after refresh; `None` when state has none or refresh found
    /// the object gone.
    pub fn get(&self, address: &str) -> Option<&ResourceState> {
        if let Some(r) = self.moved_in.get(address) {
            return Some(r);
        }
        if self.removed.contains(address) {
            return None;
        }
        self.updated
            .get(address)
            .or_else(|| self.base.resources.get(address))
    }

    /// Every record: those of the loaded state in address order, then those renamed into
    /// the view, in address order.
    pub fn resources(&self) -> impl Iterator<Item = (&String, &ResourceState)> {
        self.base
            .resources
            .iter()
            .filter(|(a, _)| !self.removed.contains(*a) && !self.moved_in.contains_key(*a))
            .map(|(a, r)| (a, self.updated.get(a).unwrap_or(r)))
            .chain(self.moved_in.iter())
    }

    /// Renames the record at `from` to `to` in this view (not in state: apply records the
    /// move). Returns false, changing nothing, when there is no record at `from` or there
    /// already is one at `to`.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        if self.get(to).is_some() {
            return false;
        }
        let Some(mut r) = self.get(from).cloned() else {
            return false;
        };
        r.address = to.to_string();
        self.moved_in.remove(from);
        self.removed.insert(from.to_string());
        self.moved_in.insert(to.to_string(), r);
        let original = self.origin.remove(from).unwrap_or_else(|| from.to_string());
        self.origin.insert(to.to_string(), original);
        true
    }

    /// The latest history entry of an address (an action's last run).
    pub fn last_run(&self, address: &str) -> Option<&plinth_state::HistoryEntry> {
        self.base.last_run(address)
    }

    /// The root outputs as recorded in state (refresh does not change them).
    pub fn outputs(&self) -> &BTreeMap<String, OutputState> {
        &self.base.outputs
    }
}

/// Reads every managed object in `state`; returns the refreshed state and what changed
/// outside plinth. Records whose create was interrupted before any id was known are dropped.
pub async fn refresh<'s>(
    state: &'s State,
    registry: &Registry,
    settings: &crate::settings::Settings,
    report: Report<'_>,
    reading: Reading,
    events: &dyn EventSink,
) -> Result<(Refreshed<'s>, Vec<Drift>), Diagnostics> {
    let mut refreshed = Refreshed::unchanged(state);
    let mut drift = Vec::new();
    let mut diags = Diagnostics::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reporter = Arc::new(EventReporter { tx });
    let mut reads = Vec::new();
    for (address, r) in &state.resources {
        if r.mode != DeclKind::Resource {
            continue;
        }
        if r.status == Status::PendingCreate && r.id.is_none() {
            // Nothing to look the object up by: for state-only types (core) nothing exists
            // outside state; the create is planned again.
            refreshed.removed.insert(address.clone());
            drift.push(Drift {
                address: address.clone(),
                type_name: r.type_name.clone(),
                action: Action::Delete,
                before: None,
                after: None,
                changed_paths: vec![],
                id: None,
                reconciled: true,
                unmanaged_paths: vec![],
            });
            continue;
        }
        let Some((provider, t)) = registry.lookup(&r.type_name) else {
            diags.push(
                Diagnostic::new(format!(
                    "state holds `{address}` of type `{}`, which no provider knows",
                    r.type_name
                ))
                .help(
                    "use a plinth version that has this provider, or `plinth state rm` the record",
                ),
            );
            continue;
        };
        let prior = marks::prior(registry, r);
        // Where the object lives, as recorded with it; else as the state says now.
        let settings = match &r.settings {
            Some(s) => plinth_value::Value::from(s.clone()),
            None => {
                crate::settings::settings_for(settings, crate::settings::prefix_of(&r.type_name))
                    .clone()
            }
        };
        reads.push(Read {
            provider: provider.clone(),
            type_name: t,
            address: address.clone(),
            settings,
            prior,
            recorded: true,
        });
    }
    let count = reads.len();
    let batches = batches(reads, reading.batch, reporter.as_ref());
    let mut reader = Reader::new(batches, reading.parallelism, reporter.clone());
    if count > 0 {
        events.emit(Event::RefreshStarted { count });
    }
    drop(reporter);
    while let Some(joined) = reader.next().await {
        while let Ok(e) = rx.try_recv() {
            events.emit(e);
        }
        let answers = match joined {
            Ok(x) => x,
            Err(e) => {
                diags.push(Diagnostic::new(format!("a refresh task failed: {e}")));
                continue;
            }
        };
        for (address, prior, res) in answers {
            let r = &state.resources[&address];
            let pending = matches!(r.status, Status::PendingCreate | Status::PendingDelete);
            match res {
                Err(e) => {
                    events.emit(Event::Refreshed {
                        address: address.clone(),
                        outcome: "failed".into(),
                    });
                    diags.push(Diagnostic::new(format!(
                        "refreshing `{address}` failed: {e}"
                    )));
                }
                Ok(None) => {
                    events.emit(Event::Refreshed {
                        address: address.clone(),
                        outcome: "gone".into(),
                    });
                    refreshed.removed.insert(address.clone());
                    drift.push(Drift {
                        address: address.clone(),
                        type_name: r.type_name.clone(),
                        action: Action::Delete,
                        before: Some(prior.attributes),
                        after: None,
                        changed_paths: vec![],
                        id: r.id.clone(),
                        reconciled: pending,
                        unmanaged_paths: vec![],
                    });
                }
                Ok(Some(obs)) => {
                    events.emit(Event::Refreshed {
                        address: address.clone(),
                        outcome: "ok".into(),
                    });
                    let before = prior.attributes;
                    let mut after = obs.attributes;
                    marks::mark_attributes(registry, &r.type_name, &prior.inputs, &mut after);
                    // The same JSON as recorded: nothing changed (the common case, checked first,
                    // without building the object's JSON).
                    let same = after.eq_json(&r.attributes);
                    let id_changed = obs.id.is_some() && obs.id != r.id;
                    if same && !pending && !id_changed {
                        // Unchanged, so no drift either: planning takes this prior rather
                        // than building it from the record again.
                        let prior = Prior {
                            attributes: before,
                            ..prior
                        };
                        refreshed
                            .priors
                            .get_mut()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(address, prior);
                        continue;
                    }
                    let changed = if same {
                        Vec::new()
                    } else {
                        drift_paths(&before, &after)
                    };
                    let no_rules = Rules::default();
                    let (relevant, unmanaged) = classify(
                        registry,
                        r,
                        &changed,
                        (&before, &after),
                        report,
                        report.lifecycle.get(&address).unwrap_or(&no_rules),
                    );
                    let mut rec = r.clone();
                    rec.attributes = after.to_json();
                    marks::add_paths(&mut rec.sensitive_paths, &after);
                    if obs.id.is_some() {
                        rec.id = obs.id.clone();
                    }
                    if pending {
                        rec.status = Status::Created;
                    }
                    refreshed.updated.insert(address.clone(), rec);
                    if pending || !changed.is_empty() {
                        drift.push(Drift {
                            address: address.clone(),
                            type_name: r.type_name.clone(),
                            action: Action::Update,
                            before: Some(before),
                            after: Some(after),
                            changed_paths: relevant,
                            id: obs.id,
                            reconciled: pending,
                            unmanaged_paths: unmanaged,
                        });
                    }
                }
            }
        }
    }
    while let Ok(e) = rx.try_recv() {
        events.emit(e);
    }
    drift.sort_by(|a, b| a.address.cmp(&b.address));
    diags.into_result()?;
    Ok((refreshed, drift))
}

/// Sorts the paths that changed outside plinth into those to plan back (the configuration
/// sets them, or `lifecycle.manage` names them and an input can set them) and those the
/// configuration leaves alone (not volatile, not under `ignore_changes`, and only when
/// `report.unmanaged`). In a refresh-only plan every changed path is the first kind: it
/// lists everything it records.
///
/// The provider's `is_volatile` sees a path, not the object: AKS's
/// `properties.agentPoolProfiles[i].count` is the autoscaler's only when that pool has
/// `enableAutoScaling`, and a Deployment's `spec.replicas` is an HPA's only when one targets
/// it, so neither is volatile; `ignore_changes` on them is how a configuration says so.
fn classify(
    registry: &Registry,
    r: &ResourceState,
    changed: &[Path],
    (before, after): (&Value, &Value),
    report: Report<'_>,
    rules: &Rules,
) -> (Vec<Path>, Vec<Path>) {
    if report.all || changed.is_empty() {
        return (changed.to_vec(), Vec::new());
    }
    let mut set = user_set(registry, r, changed, before);
    let lookup = registry.lookup(&r.type_name);
    let volatile = |c: &Path| lookup.as_ref().is_some_and(|(p, t)| p.is_volatile(t, c));
    // What no input sets (an endpoint the service computes) cannot be planned back.
    let settable = |c: &Path| {
        lookup
            .as_ref()
            .is_none_or(|(p, t)| p.input_path(t, c).is_some())
    };
    for c in changed {
        if !set.contains(c)
            && rules.manage.iter().any(|m| m.overlaps(c))
            && !volatile(c)
            && settable(c)
        {
            set.push(c.clone());
        }
    }
    set.sort();
    let unmanaged = if report.unmanaged && !rules.ignore_all {
        let ignored = ignored_attribute_paths(registry, &r.type_name, &rules.ignore_changes);
        changed
            .iter()
            .filter(|c| {
                !set.contains(c) && !volatile(c) && !only_ignored(c, &ignored, before, after)
            })
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    (set, unmanaged)
}

/// Whether the change at `c` is only in what `ignored` (attribute paths) covers: `c` is at or
/// under one of them, or every difference under `c` is (a `tags` map added with only an
/// ignored tag in it).
fn only_ignored(c: &Path, ignored: &[Path], before: &Value, after: &Value) -> bool {
    if ignored.iter().any(|i| c.starts_with(i)) {
        return true;
    }
    let inner: Vec<Path> = ignored
        .iter()
        .filter(|i| i.starts_with(c))
        .map(|i| Path::from_segments(i.segments()[c.segments().len()..].to_vec()))
        .collect();
    if inner.is_empty() {
        return false;
    }
    let without = |v: Option<Value>| -> Option<Value> {
        let mut v = v?;
        for i in &inner {
            v.remove(i);
        }
        match v.unmarked() {
            Value::Map(m) if m.is_empty() => None,
            _ => Some(v),
        }
    };
    let (b, a) = (without(before.get(c)), without(after.get(c)));
    match (&b, &a) {
        (None, None) => true,
        (Some(b), Some(a)) => drift_paths(b, a).is_empty(),
        _ => false,
    }
}

/// What changed between the attributes recorded and those found: values changed or removed,
/// and keys added (a tag or label set outside plinth).
pub(crate) fn drift_paths(before: &Value, after: &Value) -> Vec<Path> {
    let mut out = diff::changed_paths(before, after, &diff::ExactEq);
    added_keys(before, after, &Path::root(), &mut out);
    out.sort();
    out.dedup();
    out
}

/// Keys of maps in `after` that `before` does not have (descending only into what both have).
fn added_keys(before: &Value, after: &Value, at: &Path, out: &mut Vec<Path>) {
    match (before.unmarked(), after.unmarked()) {
        (Value::Map(b), Value::Map(a)) => {
            for (k, av) in a {
                match b.get(k) {
                    Some(bv) => added_keys(bv, av, &at.key(k), out),
                    None => out.push(at.key(k)),
                }
            }
        }
        (Value::List(b), Value::List(a)) if a.len() == b.len() => {
            for (i, (bv, av)) in b.iter().zip(a).enumerate() {
                added_keys(bv, av, &at.index(i), out);
            }
        }
        _ => {}
    }
}

/// The changed attribute paths that the configuration sets (its inputs as last applied,
/// mapped to attribute paths by the provider). Everything, when the inputs are not known.
///
/// A key added to a map the configuration owns whole — the object's map had exactly the keys
/// the configuration sets, as `tags` or `labels` do — is a change to what it sets too. Keys
/// added where the service keeps its own (`properties`, `metadata`) are not.
fn user_set(registry: &Registry, r: &ResourceState, changed: &[Path], before: &Value) -> Vec<Path> {
    let inputs = Value::from(r.inputs.clone());
    let Some((p, t)) = registry.lookup(&r.type_name) else {
        return changed.to_vec();
    };
    if !matches!(inputs, Value::Map(_)) {
        return changed.to_vec();
    }
    // (input path, attribute path) of every leaf the configuration sets.
    let set: Vec<(Path, Path)> = inputs
        .leaf_paths()
        .into_iter()
        .filter_map(|ip| p.attribute_path(&t, &ip).map(|a| (ip, a)))
        .collect();
    let owned_map = |c: &Path| -> bool {
        let Some((_, parent)) = c.split_last() else {
            return false;
        };
        if parent.is_root() || before.get(c).is_some() {
            return false;
        }
        let Some(Value::Map(found)) = before.get(&parent).map(|v| v.unmarked().clone()) else {
            return false;
        };
        set.iter().any(|(ip, a)| {
            a.split_last().is_some_and(|(_, ap)| ap == parent)
                && ip.split_last().is_some_and(|(_, ipp)| {
                    matches!(inputs.get(&ipp).map(|v| v.unmarked().clone()),
                        Some(Value::Map(declared)) if declared.keys().eq(found.keys()))
                })
        })
    };
    changed
        .iter()
        .filter(|c| set.iter().any(|(_, s)| s.overlaps(c)) || owned_map(c))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reads::Reading;
    use serde_json::json;

    fn record(address: &str, status: Status) -> ResourceState {
        let input = json!({"seq": 1, "value": format!("{address}-v0")});
        ResourceState {
            address: address.into(),
            type_name: "core:data".into(),
            mode: DeclKind::Resource,
            id: Some(format!("id-{address}")),
            inputs: json!({ "input": input }),
            attributes: json!({"id": format!("id-{address}"), "input": input, "output": input}),
            dependencies: vec![],
            sensitive_paths: vec!["input.value".into()],
            status,
            deposed: false,
            settings: None,
        }
    }

    #[tokio::test]
    async fn the_prior_of_an_unchanged_record_is_handed_on_once() {
        let mut registry = Registry::new();
        registry.register(Arc::new(plinth_provider_core::CoreProvider::new()));
        let mut state = State::new();
        for r in [
            record("same", Status::Created),
            record("settled", Status::PendingCreate),
        ] {
            state.resources.insert(r.address.clone(), r);
        }
        let lifecycle = HashMap::new();
        let report = Report {
            all: false,
            unmanaged: true,
            lifecycle: &lifecycle,
        };
        let reading = Reading {
            parallelism: 4,
            batch: true,
        };
        let settings = crate::settings::Settings::new();
        let events = crate::events::NoEvents;
        let (refreshed, drift) = refresh(&state, &registry, &settings, report, reading, &events)
            .await
            .expect("refresh");
        // What planning would have built from the record, marks included.
        let built = marks::prior(&registry, &state.resources["same"]);
        assert!(
            built
                .attributes
                .get(&"input.value".parse().unwrap())
                .is_some_and(|v| v.is_sensitive())
        );
        assert_eq!(refreshed.take_prior("same"), Some(built));
        assert_eq!(refreshed.take_prior("same"), None, "taken once");
        // A record refresh changed (a pending create settled) is planned from its new record.
        assert_eq!(drift.len(), 1);
        assert_eq!(refreshed.take_prior("settled"), None);
        assert!(
            refreshed
                .get("settled")
                .is_some_and(|r| r.status == Status::Created)
        );
        // Nor is a prior handed on at an address a record was renamed from or to.
        let mut state2 = State::new();
        state2
            .resources
            .insert("old".into(), record("old", Status::Created));
        let (mut moved, _) = refresh(&state2, &registry, &settings, report, reading, &events)
            .await
            .expect("refresh");
        assert!(moved.rename("old", "new"));
        assert_eq!(moved.take_prior("old"), None);
        assert_eq!(moved.take_prior("new"), None);
    }
}
