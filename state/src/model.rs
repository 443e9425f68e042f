//! The state document (SPEC §5): what plinth believes exists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format tag written into every state snapshot.
pub const STATE_FORMAT: &str = "plinth-state/1";

/// The largest serial a backend records (2^53 - 1, the largest integer every JSON reader holds
/// exactly). Serials count saved changes, so a real state never comes near it; a higher one
/// was pushed or edited in, and counting on from it must stop rather than wrap around to 0
/// (replay would then skip the wrapped records as already compacted, losing them).
pub const MAX_SERIAL: u64 = (1 << 53) - 1;

/// The largest serial `state push` accepts: half of [`MAX_SERIAL`], leaving room for as many
/// changes again.
pub const MAX_PUSHED_SERIAL: u64 = 1 << 52;

/// The serial after `serial`, or `None` when that would pass [`MAX_SERIAL`].
pub fn next_serial(serial: u64) -> Option<u64> {
    serial.checked_add(1).filter(|s| *s <= MAX_SERIAL)
}

/// The whole state: a snapshot, plus whatever the journal adds on top.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// Fixed when the state is first created; a saved plan made against another lineage is stale.
    pub lineage: String,
    /// Incremented on every saved change.
    pub serial: u64,
    /// Managed resources and data sources, by address (`rg`, `app["blue"]`, `data.sub`).
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceState>,
    /// Root outputs as last applied.
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// A bounded log of actions that ran (actions are not managed resources).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

impl State {
    /// A fresh, empty state with a new lineage.
    pub fn new() -> Self {
        State {
            format: STATE_FORMAT.to_string(),
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            history: Vec::new(),
        }
    }

    /// Applies one change to the in-memory document. Does not touch `serial`: the backend
    /// counts saved changes.
    pub fn apply_change(&mut self, change: &Change) {
        match change {
            Change::Put(r) => {
                self.resources.insert(r.address.clone(), (**r).clone());
            }
            Change::Remove { address } => {
                self.resources.remove(address);
            }
            Change::Outputs { outputs } => self.outputs = outputs.clone(),
            Change::Move { from, to } => {
                if let Some(mut r) = self.resources.remove(from) {
                    r.address = to.clone();
                    self.resources.insert(to.clone(), r);
                }
            }
            Change::History(entry) => {
                // An outcome supersedes the address's pending entry (recorded before an
                // action runs, so that a run that never finished is noticed).
                if entry.outcome != PENDING
                    && let Some(i) = self
                        .history
                        .iter()
                        .rposition(|e| e.address == entry.address && e.outcome == PENDING)
                {
                    self.history.remove(i);
                }
                self.history.push(entry.clone());
                self.trim_history();
            }
        }
    }
}

impl State {
    /// Keeps the history within [`MAX_HISTORY`] entries by dropping the oldest ones, except
    /// the latest entry of each address: planning reads it to know whether an action has run
    /// (an action that never ran successfully runs on the next apply).
    fn trim_history(&mut self) {
        let mut excess = self.history.len().saturating_sub(MAX_HISTORY);
        if excess == 0 {
            return;
        }
        let mut seen = std::collections::HashSet::new();
        let mut keep = vec![true; self.history.len()];
        // Latest entry per address, walking from the newest.
        let mut latest = vec![false; self.history.len()];
        for (i, e) in self.history.iter().enumerate().rev() {
            latest[i] = seen.insert(e.address.as_str());
        }
        for (i, k) in keep.iter_mut().enumerate() {
            if excess == 0 {
                break;
            }
            if !latest[i] {
                *k = false;
                excess -= 1;
            }
        }
        let mut i = 0;
        self.history.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }

    /// The latest history entry of an address.
    pub fn last_run(&self, address: &str) -> Option<&HistoryEntry> {
        self.history.iter().rev().find(|e| e.address == address)
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// The outcome of a history entry recorded before an action runs; replaced by the run's
/// outcome when it finishes.
pub const PENDING: &str = "pending";

/// How many history entries a state keeps.
pub const MAX_HISTORY: usize = 200;

pub use plinth_addr::DeclKind;

/// Where a resource stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Exists and matches `inputs` as last applied.
    Created,
    /// A create was sent (or about to be); whether it exists is unknown until reconciled.
    PendingCreate,
    /// A delete was sent (or about to be); whether it is gone is unknown until reconciled.
    PendingDelete,
    /// A create or update failed part-way; the object may exist but is not trusted: the next
    /// plan replaces it.
    Tainted,
}

/// One resource in state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The instance's address, e.g. `rg`, `app["blue"]` or `data.sub`.
    pub address: String,
    /// Full type, e.g. `core:data` or `azure:Microsoft.Resources/resourceGroups@2025-04-01`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Managed resource or data source.
    pub mode: DeclKind,
    /// The provider's id for the object; known up front for ARM and Kubernetes objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The inputs that were applied (plain JSON; sensitive values included: state is 0600).
    pub inputs: serde_json::Value,
    /// The attributes read back from the provider.
    pub attributes: serde_json::Value,
    /// Addresses this resource depended on when it was applied (for destroy order once it is
    /// gone from the configuration).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Paths (as `a.b[0]` strings) in `inputs`/`attributes` that are sensitive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_paths: Vec<String>,
    /// Created, pending, or tainted.
    pub status: Status,
    /// Set when this record is an old object kept alive by `create_before_destroy` that is
    /// still to be deleted; its key in `resources` is `ADDRESS (deposed)`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deposed: bool,
    /// The provider settings the object was created or last changed with, for providers
    /// whose settings say where objects live (a Kubernetes object's cluster). Refresh and
    /// delete reach the object there, whatever the configuration says now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

/// A root output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    /// The output's value (sensitive values included: state is 0600).
    pub value: serde_json::Value,
    /// Whether the value is sensitive (printed only with `--show-sensitive`).
    #[serde(default)]
    pub sensitive: bool,
}

/// A record of an action (e.g. `k8s:rollout-restart`) that ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The action's address, e.g. `action.restart`.
    pub address: String,
    /// The action's type, e.g. `k8s:rollout-restart`.
    pub action: String,
    /// RFC 3339 timestamp.
    pub at: String,
    /// How the run ended: `ok`, `failed: MESSAGE`, or `pending` while it runs.
    pub outcome: String,
}

/// One durable change, as the journal records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Insert or replace the record at `address`.
    Put(Box<ResourceState>),
    /// Forget the record at `address`.
    Remove {
        /// The record's address.
        address: String,
    },
    /// Replace all outputs. (A struct variant: a map of outputs may have any key,
    /// including the `op` tag.)
    Outputs {
        /// Every output, by name.
        outputs: BTreeMap<String, OutputState>,
    },
    /// Append to the history.
    History(HistoryEntry),
    /// Rename the record at `from` to `to` (one record, so a crash never leaves the object
    /// under both addresses or under neither). Nothing happens when `from` is absent.
    Move {
        /// The record's address now.
        from: String,
        /// Its new address.
        to: String,
    },
}

#[cfg(test)]
mod history_tests {
    use super::*;

    fn entry(address: &str, n: usize) -> Change {
        Change::History(HistoryEntry {
            address: address.into(),
            action: "k8s:rollout-restart".into(),
            at: format!("t{n}"),
            outcome: "ok".into(),
        })
    }

    #[test]
    fn trimming_keeps_the_latest_entry_of_every_address() {
        let mut s = State::new();
        s.apply_change(&entry("action.rare", 0));
        for n in 1..=MAX_HISTORY + 50 {
            s.apply_change(&entry("action.busy", n));
        }
        assert_eq!(s.history.len(), MAX_HISTORY);
        assert_eq!(s.last_run("action.rare").map(|e| e.at.as_str()), Some("t0"));
        assert_eq!(
            s.last_run("action.busy").map(|e| e.at.as_str()),
            Some(format!("t{}", MAX_HISTORY + 50).as_str())
        );
        assert!(s.last_run("action.never").is_none());
    }
}
