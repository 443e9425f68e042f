//! One-shot hooks on list pages (`/_sim/hooks`): "after the Nth page of lists under PREFIX
//! has been served, apply this out-of-band change". They make drift *between two pages of
//! one list* deterministic for tests: the page that triggers a hook is composed before the
//! change, the next page (and every later request) sees it.
//!
//! A hook counts the list pages (ARM's, and the simulated clusters' Kubernetes lists under
//! `/k8s/{cluster}/...`) answered 200 whose request path starts with its prefix
//! (case-insensitively; with `exact`, whose path is the prefix), from its registration on;
//! the page that brings the count to `after` applies the change under the same lock, then
//! the hook is spent. The change is one
//! of the `/_sim/resources` out-of-band changes: a JSON merge patch into a resource's body,
//! or its delete (with everything inside). For a Kubernetes list, the id is the object's API
//! path (`/k8s/{cluster}/api/v1/namespaces/default/configmaps/x`) and the change is made as
//! a hand edit makes it (a merge patch as `kubectl patch --type merge`, field manager
//! `kubectl-patch`; a DELETE as `kubectl delete`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::store::{ArmWorld, remove_cascade};
use super::write::merge;

/// What a hook does when it fires.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum HookAction {
    /// Merges a JSON merge patch into the resource's body, as `PATCH /_sim/resources/{id}`.
    Merge(Value),
    /// Deletes the resource and everything inside it, as `DELETE /_sim/resources/{id}`.
    Delete,
}

/// A one-shot hook on list pages, as registered with `POST /_sim/hooks`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PageHook {
    /// The list paths that count (a prefix of the request path, compared case-insensitively).
    pub prefix: String,
    /// Only the list at exactly `prefix` counts, not those under it (the identities of a
    /// group, not their federated credentials).
    #[serde(default)]
    pub exact: bool,
    /// After how many such pages the change is made (at least 1).
    pub after: u32,
    /// The resource id the change applies to.
    pub id: String,
    /// The change.
    pub action: HookAction,
    /// Pages counted so far (0 at registration).
    #[serde(default)]
    pub pages: u32,
    /// Whether the hook has fired (spent hooks stay listed, for the test to check).
    #[serde(default)]
    pub fired: bool,
    /// What firing found: `applied`, or why nothing changed (`no such resource`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// Counts one list page served at `path` for every pending hook whose prefix matches, marks
/// those that reach their count fired and returns them (their index, the id they change and
/// how). The caller applies them and records each outcome.
pub(crate) fn due(hooks: &mut [PageHook], path: &str) -> Vec<(usize, String, HookAction)> {
    let path = path.to_ascii_lowercase();
    let mut due = Vec::new();
    for (ix, h) in hooks.iter_mut().enumerate() {
        let prefix = h.prefix.to_ascii_lowercase();
        let prefix = prefix.trim_end_matches('/');
        let counts = if h.exact {
            path.trim_end_matches('/') == prefix
        } else {
            path.starts_with(prefix)
        };
        if h.fired || !counts {
            continue;
        }
        h.pages += 1;
        if h.pages >= h.after.max(1) {
            h.fired = true;
            due.push((ix, h.id.clone(), h.action.clone()));
        }
    }
    due
}

/// Records what firing hook `ix` did.
pub(crate) fn record(hooks: &mut [PageHook], ix: usize, applied: bool) {
    if let Some(h) = hooks.get_mut(ix) {
        h.outcome = Some(if applied {
            "applied".into()
        } else {
            "no such resource".into()
        });
    }
}

/// Counts an ARM list page served at `path` and applies the hooks it makes due (changes to
/// ARM resources). Returns whether the world changed.
pub(crate) fn after_list_page(world: &mut ArmWorld<'_>, path: &str) -> bool {
    let mut changed = false;
    for (ix, id, action) in due(&mut world.arm.hooks, path) {
        let id = normalise(&id);
        let applied = match action {
            HookAction::Merge(patch) => match world.arm.resources.get_mut(&id) {
                Some(r) => {
                    merge(&mut r.body, &patch);
                    true
                }
                None => false,
            },
            HookAction::Delete => !remove_cascade(world, &id).is_empty(),
        };
        changed |= applied;
        record(&mut world.arm.hooks, ix, applied);
    }
    changed
}

/// A resource id as the store keys it.
fn normalise(id: &str) -> String {
    format!("/{}", id.trim_start_matches('/')).to_ascii_lowercase()
}

/// Marks an answer as one page of a list (for the handler to count it for the hooks).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListPage;
