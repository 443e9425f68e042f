//! The plan model: what `plan` decided and `apply` carries out. Serialisable, so a plan can
//! be saved (`plan --out`), reviewed (`show`), and applied later.
//!
//! A [`Plan`] holds one [`ResourceChange`] per address (resources, data sources, actions),
//! the planned root [`OutputChange`]s and the [`Drift`] refresh found. Values keep their
//! marks: unknown ("known after apply") and sensitive. [`Plan::redacted`] and [`redact`]
//! strip the sensitive ones for machine-readable output. Pure data: no I/O, no engine.

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::fmt;

use plinth_value::{Path, Value};
use serde::{Deserialize, Serialize};

/// The format tag of saved plans.
pub const PLAN_FORMAT: &str = "plinth-plan/1";

/// One action per address (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The object does not exist (or not in state) and will be created.
    Create,
    /// The object exists and will be changed in place.
    Update,
    /// The object will be deleted and created again (see [`ReplaceOrder`] and
    /// [`ResourceChange::replace_paths`]).
    Replace,
    /// The object will be deleted (a resource); a data source or output no longer in the
    /// configuration is only removed from state.
    Delete,
    /// Nothing to do: the object already matches the configuration.
    NoOp,
    /// A data source is read: at plan time when its inputs are known (`after` holds the
    /// result, which apply records), else at apply time (`after` is unknown).
    Read,
    /// An action (`[action.NAME]`) will run.
    Run,
    /// The object leaves state and stays in the cloud (a `[[removed]]` declaration with
    /// `destroy = false`): no provider call.
    Forget,
}

impl Action {
    /// The action's name as written in plans and plan JSON: `create`, `no-op`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
            Action::Read => "read",
            Action::Run => "run",
            Action::Forget => "forget",
        }
    }

    /// The marker shown before an address in text plans.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::NoOp => " ",
            Action::Read => "<=",
            Action::Run => "!",
            Action::Forget => ".",
        }
    }

    /// True when apply has something to do.
    pub fn is_change(self) -> bool {
        !matches!(self, Action::NoOp)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The order of a replacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplaceOrder {
    /// Delete the old object first, then create the new one (the default).
    DeleteThenCreate,
    /// Create the new object first, then delete the old one
    /// (`lifecycle = { create_before_destroy = true }`).
    CreateThenDelete,
}

pub use plinth_addr::DeclKind;

/// The planned change of one address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// The address of the object, e.g. `rg`, `app["blue"]`, `data.sub`, `action.restart`.
    pub address: String,
    /// The declaration's name (without instance key), for grouping.
    pub name: String,
    /// The type, `PROVIDER:TYPE` (e.g. `core:data`); serialised as `type`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What kind of declaration the address names (resource, data source, action, ...).
    pub kind: DeclKind,
    /// What apply will do with the object.
    pub action: Action,
    /// The order of a replacement; `Some` only when `action` is [`Action::Replace`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_order: Option<ReplaceOrder>,
    /// The provider id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Attributes before (refreshed); `None` when the object does not exist yet.
    pub before: Option<Value>,
    /// Attributes after; `None` for deletes. Unknown where known only after apply.
    pub after: Option<Value>,
    /// The inputs as configured (unknown where they depend on values known after apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Attribute paths whose value changes: they resolve in `before` and `after` (ARM:
    /// `properties.x`, which the configuration sets as `body.properties.x`; Kubernetes:
    /// `data.x`, set as `manifest.data.x`). A value the service keeps but never returns (a
    /// Secret's `stringData`) is shown at its attribute path in both, `before` as last
    /// applied. A changed input the object reports nowhere (write-only, such as Kubernetes'
    /// `wait`) is carried as its input path, which resolves in `config`. Plans of earlier
    /// releases carried input paths here, mapped by `attribute_paths`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_paths: Vec<Path>,
    /// Only in plans of earlier releases, whose `changed_paths`/`replace_paths` were input
    /// paths: the attribute path of each that the object reports elsewhere. Empty in plans
    /// this release writes; read paths through [`ResourceChange::attribute_path`], which
    /// maps either.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attribute_paths: Vec<(Path, Path)>,
    /// Attribute paths (as `changed_paths`) that force a replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<Path>,
    /// Why, when the action is not explained by the diff alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The change undoes a change made outside plinth.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
    /// Addresses this change depends on (configuration references and `depends_on`).
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The address state records the object under before this plan: apply first renames
    /// the record (state only, no provider call), then makes the change at `address`.
    /// Set when `count` was added to a resource (`app` becomes `app[0]`) or removed from it
    /// (`app[0]` becomes `app`); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// Set when an `[[import]]` declaration adopts an existing object at this address: apply
    /// records the object read from the provider (no create), then makes the change `action`
    /// says ([`Action::NoOp`] when the configuration already matches it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<Importing>,
    /// A provider's words about attribute values, shown beside them: the role name of a
    /// role definition id ("Azure Service Bus Data Owner"). Attribute paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
    /// Attribute paths of `after` that the service fills in for its own bookkeeping (a
    /// uid, a resource version, timestamps, a status) and that nothing in the configuration
    /// refers to: renderings leave them out of a create and say how many they left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bookkeeping: Vec<Path>,
    /// Set when the change is a replacement because another object is replaced (a cluster
    /// takes its Kubernetes objects with it), so that renderings can group such changes by
    /// their cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade: Option<Cascade>,
}

/// A provider's word about one attribute's value (see [`ResourceChange::annotations`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// The attribute path (in `before`/`after`).
    pub path: Path,
    /// What the value means, a few words: `Azure Service Bus Data Owner`.
    pub note: String,
}

/// Why a change is a replacement caused by another's (see [`ResourceChange::cascade`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cascade {
    /// The address of the object whose change causes this one (`aks`).
    pub cause: String,
    /// How the two are tied.
    pub via: CascadeVia,
}

/// See [`Cascade::via`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CascadeVia {
    /// The object's provider settings name the cause (`[provider.kubernetes] cluster`): the
    /// object lives in it, and goes with it.
    ProviderSettings,
    /// The object's `lifecycle.replace_triggered_by` names the cause.
    ReplaceTriggeredBy,
}

/// An object an `[[import]]` declaration adopts (see [`ResourceChange::importing`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Importing {
    /// The provider id of the object, as the declaration gives it.
    pub id: String,
}

impl ResourceChange {
    /// A change of `action` at `address` (its declaration name taken from the address) with
    /// nothing else known yet: no values, paths, reason or dependencies. Builders and tests
    /// fill in the rest.
    pub fn new(address: &str, type_name: &str, kind: DeclKind, action: Action) -> Self {
        let name = address
            .parse::<plinth_addr::Address>()
            .map_or_else(|_| address.to_string(), |a| a.name);
        ResourceChange {
            address: address.into(),
            name,
            type_name: type_name.into(),
            kind,
            action,
            replace_order: None,
            id: None,
            before: None,
            after: None,
            config: None,
            changed_paths: vec![],
            attribute_paths: vec![],
            replace_paths: vec![],
            reason: None,
            drift: false,
            depends_on: vec![],
            moved_from: None,
            importing: None,
            annotations: vec![],
            bookkeeping: vec![],
            cascade: None,
        }
    }

    /// Where the value of a path of `changed_paths`/`replace_paths` is found in
    /// `before`/`after`: the path itself, or for a plan of an earlier release (input paths)
    /// its attribute path.
    pub fn attribute_path<'a>(&'a self, input: &'a Path) -> &'a Path {
        self.attribute_paths
            .iter()
            .find(|(i, _)| i == input)
            .map_or(input, |(_, a)| a)
    }
}

/// A root output's planned value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    /// The output's name (`[output.NAME]`).
    pub name: String,
    /// [`Action::Create`], [`Action::Update`], [`Action::NoOp`] or [`Action::Delete`] (the
    /// output was removed from the configuration).
    pub action: Action,
    /// The value in state; `None` when the output is new.
    pub before: Option<Value>,
    /// The planned value (possibly unknown); `None` when the output is deleted.
    pub after: Option<Value>,
    /// The output is declared `sensitive = true`: its value is hidden in every rendering.
    pub sensitive: bool,
}

/// What plan was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PlanMode {
    /// Bring the world to the configuration (`plan`).
    #[default]
    Normal,
    /// Delete everything in state (`plan --destroy`, `destroy`).
    Destroy,
    /// Only refresh: record drift in state, change nothing (`plan --refresh-only`).
    RefreshOnly,
}

/// A change made outside plinth, found by refresh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The address of the object in state.
    pub address: String,
    /// The type, `PROVIDER:TYPE`; serialised as `type`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `update` (changed outside) or `delete` (deleted outside).
    pub action: Action,
    /// The attributes recorded in state before refresh; `None` when there were none (a
    /// pending create that never reached the provider).
    pub before: Option<Value>,
    /// The attributes as read; `None` when the object was deleted outside plinth.
    pub after: Option<Value>,
    /// Attribute paths whose value changed: only those the configuration sets, except in a
    /// refresh-only plan, which lists every changed path. Empty for a delete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_paths: Vec<Path>,
    /// The provider id as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// True when this settles a record left pending by an interrupted run (not drift).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconciled: bool,
    /// Attribute paths changed outside plinth that the configuration does not set (and the
    /// provider does not know to be volatile, as a status or a timestamp is): shown apart,
    /// "changed outside plinth, not managed here", informational, never planned back unless
    /// `lifecycle.manage` names them (then they are in `changed_paths`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_paths: Vec<Path>,
}

impl Drift {
    /// Whether a review should see it: the object was deleted, a pending record was settled,
    /// a path the configuration sets changed, or one it does not set (`unmanaged_paths`,
    /// shown apart). (Refresh also records changes to attributes the service owns, such as
    /// a status or a resource version, so that state follows the object; those are not
    /// drift anyone needs to read about.)
    pub fn is_reportable(&self) -> bool {
        self.reconciled
            || self.action == Action::Delete
            || !self.changed_paths.is_empty()
            || !self.unmanaged_paths.is_empty()
    }
}

/// A whole plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The format tag, [`PLAN_FORMAT`]; a saved plan with another tag is refused.
    pub format: String,
    /// What plan was asked for.
    pub mode: PlanMode,
    /// When the plan was made (RFC 3339).
    pub created_at: String,
    /// The lineage of the state the plan was made against; empty when there was no state.
    pub lineage: String,
    /// The serial of that state (0 when there was none); apply refuses a saved plan when
    /// the state's serial has moved on since.
    pub serial: u64,
    /// Digest of the configuration files and resolved variables.
    pub config_digest: String,
    /// The configuration directory (absolute).
    pub config_dir: String,
    /// Resolved variables (sensitive ones marked).
    pub variables: BTreeMap<String, Value>,
    /// Changes, dependencies before dependents.
    pub changes: Vec<ResourceChange>,
    /// Planned root outputs (with `--target`, only those that refer to a targeted change).
    pub outputs: Vec<OutputChange>,
    /// Changes made outside plinth that refresh found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// Warnings to show with the plan (one sentence each), e.g. that `--target` limits it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The `--target` addresses the plan was limited to; empty means the whole
    /// configuration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// The results of the configuration's `[check.NAME]` blocks, evaluated at the end of the
    /// plan: warnings for a reviewer, never blocking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// What reviews of the plan found: policy results (`plan --policy DIR`) and the
    /// identity-chain check. Warnings unless `--fail-on` makes their kind an error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// One result of a review of the plan (see [`Plan::findings`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What found it.
    pub source: FindingSource,
    /// The rule that found it: a policy's package and rule (`servicebus.deny`), or the
    /// identity-chain check's name of the link (`issuer`, `audience`, `subject`, ...).
    pub rule: String,
    /// How serious it is.
    pub severity: Severity,
    /// The address it is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// What is wrong, one or two sentences, plain text (no Markdown), never a secret.
    pub message: String,
    /// How to fix it, when the finder knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Where in the configuration (`main.toml:12:1`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// See [`Finding::source`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingSource {
    /// A Rego policy of `plan --policy DIR`.
    Policy,
    /// plinth's check of the workload-identity chain across Azure and Kubernetes.
    IdentityChain,
}

impl FindingSource {
    /// `policy` or `identity-chain`, as plan JSON and `--fail-on` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingSource::Policy => "policy",
            FindingSource::IdentityChain => "identity-chain",
        }
    }
}

/// See [`Finding::severity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Must be fixed: a policy's `deny`, or a finding `--fail-on` makes an error.
    Deny,
    /// Worth a reviewer's look: a policy's `warn`, an identity-chain finding.
    Warn,
}

/// The outcome of one `[check.NAME]` block (in a module instance: `module.app["a"].check.NAME`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's address, `check.NAME`, with its module instance's prefix.
    pub address: String,
    /// Whether every assertion held.
    pub status: CheckStatus,
    /// One sentence per failed assertion (its `message`), or why the check could not be
    /// evaluated (its data source failed); empty when it passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
}

/// See [`CheckResult::status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Every assertion is true.
    Pass,
    /// At least one assertion is false, or its scoped data source could not be read.
    Fail,
    /// An assertion depends on values known only after apply.
    Unknown,
}

impl CheckStatus {
    /// `pass`, `fail` or `unknown`, as plan JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Unknown => "unknown",
        }
    }
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Objects to create.
    pub add: usize,
    /// Objects to update in place.
    pub change: usize,
    /// Objects to replace (delete and create).
    pub replace: usize,
    /// Resources to delete (forgotten data sources are not counted).
    pub destroy: usize,
    /// Data sources to read at apply time (not counted as a change).
    pub read: usize,
    /// Actions to run.
    pub run: usize,
    /// Records to move to a new address (whatever else their change does).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub moved: usize,
    /// Objects to import (whatever else their change does).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub import: usize,
    /// Objects to forget: removed from state, left in the cloud.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub forget: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// True when no resource or action changes and nothing moves, is imported or is
    /// forgotten: reads alone leave a summary empty.
    pub fn is_empty(&self) -> bool {
        self.add
            + self.change
            + self.replace
            + self.destroy
            + self.run
            + self.moved
            + self.import
            + self.forget
            == 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The import count first, as Terraform's: "Plan: 1 to import, 0 to add, ...".
        f.write_str("Plan: ")?;
        if self.import > 0 {
            write!(f, "{} to import, ", self.import)?;
        }
        write!(
            f,
            "{} to add, {} to change, {} to replace, {} to destroy",
            self.add, self.change, self.replace, self.destroy
        )?;
        // The move and forget counts only when there is one: "..., 0 to destroy, 1 to move."
        if self.moved > 0 {
            write!(f, ", {} to move", self.moved)?;
        }
        if self.forget > 0 {
            write!(f, ", {} to forget", self.forget)?;
        }
        f.write_str(".")?;
        if self.run > 0 {
            write!(
                f,
                " {} action{} to run.",
                self.run,
                if self.run == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl Plan {
    /// Counts the changes by action, for the summary line.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => s.replace += 1,
                Action::Delete if c.kind == DeclKind::Resource => s.destroy += 1,
                Action::Delete => {}
                Action::Read => s.read += 1,
                Action::Run => s.run += 1,
                Action::Forget => s.forget += 1,
                Action::NoOp => {}
            }
            if c.moved_from.is_some() {
                s.moved += 1;
            }
            if c.importing.is_some() {
                s.import += 1;
            }
        }
        s
    }

    /// True when applying would change anything (resources, actions or outputs).
    pub fn has_changes(&self) -> bool {
        !self.summary().is_empty() || self.outputs.iter().any(|o| o.action.is_change())
    }

    /// The change planned for `address` (its text, e.g. `app["blue"]`), if there is one.
    pub fn change(&self, address: &str) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| c.address == address)
    }
}

/// A value with every sensitive part replaced by a sensitive `null`: safe to print.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Sensitive(_) => Value::Sensitive(Box::new(Value::Null)),
        Value::List(items) => Value::List(items.iter().map(redact).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, x)| (k.clone(), redact(x))).collect()),
        other => other.clone(),
    }
}

impl Plan {
    /// The plan with every sensitive value removed, for machine-readable output. (A saved
    /// plan file keeps them: `apply` needs them, and the file is created 0600.)
    pub fn redacted(&self) -> Plan {
        let r = |v: &Option<Value>| v.as_ref().map(redact);
        let mut p = self.clone();
        p.variables = p
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), redact(v)))
            .collect();
        for c in &mut p.changes {
            c.before = r(&c.before);
            c.after = r(&c.after);
            c.config = r(&c.config);
        }
        for o in &mut p.outputs {
            o.before = r(&o.before);
            o.after = r(&o.after);
        }
        for d in &mut p.drift {
            d.before = r(&d.before);
            d.after = r(&d.after);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_every_secret() {
        let secret = Value::sensitive(Value::from("hunter2"));
        let mut m = plinth_value::Map::new();
        m.insert("password".into(), secret.clone());
        let v = Value::Map(m);
        let plan = Plan {
            format: PLAN_FORMAT.into(),
            mode: PlanMode::Normal,
            created_at: String::new(),
            lineage: String::new(),
            serial: 0,
            config_digest: String::new(),
            config_dir: String::new(),
            variables: [("pw".to_string(), secret.clone())].into_iter().collect(),
            changes: vec![ResourceChange {
                after: Some(v.clone()),
                config: Some(v),
                ..ResourceChange::new("a", "core:data", DeclKind::Resource, Action::Create)
            }],
            outputs: vec![],
            drift: vec![],
            warnings: vec![],
            targets: vec![],
            checks: vec![],
            findings: vec![],
        };
        assert!(serde_json::to_string(&plan).unwrap().contains("hunter2"));
        let text = serde_json::to_string(&plan.redacted()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("$sensitive"));
    }

    fn plan_of(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format: PLAN_FORMAT.into(),
            mode: PlanMode::Normal,
            created_at: String::new(),
            lineage: String::new(),
            serial: 0,
            config_digest: String::new(),
            config_dir: String::new(),
            variables: BTreeMap::new(),
            changes,
            outputs: vec![],
            drift: vec![],
            warnings: vec![],
            targets: vec![],
            checks: vec![],
            findings: vec![],
        }
    }

    #[test]
    fn a_move_alone_is_a_change_and_the_summary_says_it() {
        let moved = ResourceChange {
            moved_from: Some("app".into()),
            ..ResourceChange::new("app[0]", "core:data", DeclKind::Resource, Action::NoOp)
        };
        let plan = plan_of(vec![moved]);
        assert!(plan.has_changes());
        assert_eq!(plan.summary().moved, 1);
        assert_eq!(
            plan.summary().to_string(),
            "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 to move."
        );
    }

    #[test]
    fn without_moves_the_summary_and_the_file_are_as_before() {
        let plan = plan_of(vec![ResourceChange::new(
            "app",
            "core:data",
            DeclKind::Resource,
            Action::Create,
        )]);
        assert_eq!(
            plan.summary().to_string(),
            "Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."
        );
        let text = serde_json::to_string(&plan).unwrap();
        assert!(!text.contains("moved"), "{text}");
        // And a change written without the field reads as no move.
        let back: Plan = serde_json::from_str(&text).unwrap();
        assert_eq!(back.changes[0].moved_from, None);
    }
}
