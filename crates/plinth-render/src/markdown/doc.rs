//! The document: everything the rendering can show, built once from the plan. How much of
//! it is shown is decided later (`layout`, `budget`).

use std::collections::BTreeSet;
use std::fmt::Write;

use plinth_plan::{Action, Drift, Plan, PlanMode, ResourceChange};

use super::changes::{cascade_rich, change_item, move_item};
use super::checks::checks_block;
use super::findings::{FindingsBlock, findings_block};
use super::item::{Group, GroupHead, Item, Section};
use super::mermaid::{Graph, graph_section};
use super::options::MarkdownOptions;
use super::overview::{caution_block, context_line, notices, overview_table};
use super::sections::{
    drift_section, listed_order, outputs_section, settled_note, unmanaged_section,
};
use super::words::thousands;
use crate::address::module_text;
use crate::grouping::{
    self, GROUP_ORDER, by_module, counts_text, group_of, group_title, listed_changes,
};
use crate::review::{cascade_groups, unmanaged_drift};

/// A module instance with more entries than this is shown collapsed (a `<details>` block
/// whose summary line has its counts).
const COLLAPSE_ABOVE: usize = 10;

/// Everything the rendering can show, built once; `budget::fit` picks how much of it.
pub(super) struct Doc {
    pub(super) title: String,
    /// The configuration directory and module instances (may be empty).
    pub(super) context: String,
    /// What reviews of the plan found: shown first when anything is denied, else after
    /// the summary.
    pub(super) findings: Option<FindingsBlock>,
    /// The caution block's introduction, and one line per deleted or replaced object.
    pub(super) caution: Option<(String, Vec<String>)>,
    /// Warnings and targets (always shown).
    pub(super) notices: String,
    /// The summary table and sentence, or "No changes."
    pub(super) overview: String,
    /// The checks' results: their introduction, and one line per check that did not pass.
    pub(super) checks: Option<(String, Vec<String>)>,
    pub(super) drift: Option<Section>,
    /// Changes outside plinth to what the configuration does not set (informational).
    pub(super) unmanaged: Option<Section>,
    /// A short note on records settled from an interrupted run.
    pub(super) settled: String,
    /// The `### Changes` heading, and the action groups of each module instance (one group,
    /// without heading, in a plan without modules).
    pub(super) changes_head: String,
    pub(super) groups: Vec<Group>,
    /// The outputs heading and table header, and one row per output.
    pub(super) outputs: Option<(String, Vec<String>)>,
    /// The graph section: drawn (and so cuttable), or a short note saying why it is not.
    pub(super) graph: Option<Graph>,
}

impl Doc {
    pub(super) fn build(plan: &Plan, opts: &MarkdownOptions) -> Doc {
        let reveal = opts.show_sensitive;
        let summary = plan.summary();
        let changing: Vec<&ResourceChange> = plan
            .changes
            .iter()
            .filter(|c| c.action.is_change())
            .collect();
        let refresh_only = plan.mode == PlanMode::RefreshOnly;
        let no_changes = refresh_only || !plan.has_changes();
        // Drift in what the configuration sets (or a delete); drift only in what it does
        // not set has its own section.
        let drift: Vec<&Drift> = plan
            .drift
            .iter()
            .filter(|d| {
                !d.reconciled && (d.action == Action::Delete || !d.changed_paths.is_empty())
            })
            .collect();

        let title = match plan.mode {
            PlanMode::Normal => "## plinth plan",
            PlanMode::Destroy => "## plinth plan: destroy",
            PlanMode::RefreshOnly => "## plinth plan: refresh only",
        }
        .to_string();

        let caution = if no_changes {
            None
        } else {
            caution_block(plan, &changing)
        };
        let notices = notices(plan);
        let overview = if refresh_only {
            if drift.is_empty() {
                "**No changes.** Everything in state matches what exists.".to_string()
            } else {
                "Applying this refresh-only plan records the changes made outside plinth (below) in state; it changes nothing else.".to_string()
            }
        } else if no_changes {
            let reads = changing.iter().filter(|c| c.action == Action::Read).count();
            let mut s = "**No changes.** The infrastructure matches the configuration.".to_string();
            if reads > 0 {
                let _ = write!(
                    s,
                    " ({reads} data source{} read.)",
                    if reads == 1 { "" } else { "s" }
                );
            }
            s
        } else {
            overview_table(&listed_changes(plan), &summary)
        };
        let checks = checks_block(&plan.checks);

        let drift_section = (!drift.is_empty()).then(|| drift_section(plan, &drift, reveal));
        // Not in a destroy (everything goes) nor a refresh-only plan (its drift section
        // lists every changed attribute).
        let unmanaged: Vec<_> = match plan.mode {
            PlanMode::Normal => unmanaged_drift(plan),
            _ => Vec::new(),
        };
        let unmanaged = (!unmanaged.is_empty()).then(|| unmanaged_section(&unmanaged, reveal));
        let settled = settled_note(plan);

        let recreated: BTreeSet<&str> = drift
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| d.address.as_str())
            .collect();
        let groups = if no_changes {
            Vec::new()
        } else {
            change_groups(plan, &recreated, reveal)
        };
        let outputs = if no_changes {
            None
        } else {
            outputs_section(&plan.outputs, reveal)
        };
        // The graph draws what changes, objects imported as they are included (state
        // changes), objects that only move not (their line says it all).
        let drawn: Vec<&ResourceChange> = plan
            .changes
            .iter()
            .filter(|c| c.action.is_change() || c.importing.is_some())
            .collect();
        let graph = if no_changes || drawn.is_empty() {
            None
        } else {
            graph_section(plan, &listed_order(&drawn))
        };
        Doc {
            title,
            context: context_line(plan),
            findings: findings_block(plan),
            caution,
            notices,
            overview,
            checks,
            drift: drift_section,
            unmanaged,
            settled,
            changes_head: "### Changes".to_string(),
            groups,
            outputs,
            graph,
        }
    }

    /// Every list item, drift first (then drift in what the configuration does not set),
    /// then changes in display order.
    pub(super) fn items(&self) -> impl Iterator<Item = &Item> {
        self.drift
            .iter()
            .flat_map(|s| s.items.iter())
            .chain(self.unmanaged.iter().flat_map(|s| s.items.iter()))
            .chain(self.change_sections().flat_map(|s| s.items.iter()))
    }

    /// The sections of every group, in display order.
    pub(super) fn change_sections(&self) -> impl Iterator<Item = &Section> {
        self.groups.iter().flat_map(|g| g.sections.iter())
    }

    /// The length of the longest list.
    pub(super) fn longest_list(&self) -> usize {
        let changes: usize = self.change_sections().map(|s| s.items.len()).sum();
        [
            changes,
            // The groups whose entries are all cut are listed by their headings.
            self.groups.len(),
            self.drift.as_ref().map_or(0, |d| d.items.len()),
            self.unmanaged.as_ref().map_or(0, |d| d.items.len()),
            self.findings.as_ref().map_or(0, |f| f.lines.len()),
            self.caution.as_ref().map_or(0, |c| c.1.len()),
            self.checks.as_ref().map_or(0, |c| c.1.len()),
            self.outputs.as_ref().map_or(0, |o| o.1.len()),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

/// The changes, and objects imported as they are or only moved, grouped by module instance (the root module
/// first), each group's sections by action. Without modules: one group, no heading, and the
/// action sections as they have always been (`####`).
fn change_groups(plan: &Plan, recreated: &BTreeSet<&str>, reveal: bool) -> Vec<Group> {
    let modules = by_module(&listed_changes(plan));
    let with_modules = modules.iter().any(|g| !g.path.is_empty());
    // Under a module's heading the action sections are one level down.
    let level = if with_modules { "#####" } else { "####" };
    let mut groups = Vec::new();
    for g in modules {
        let mut sections = Vec::new();
        for group in GROUP_ORDER {
            let items: Vec<Item> = g
                .changes
                .iter()
                .filter(|c| group_of(c) == Some(group))
                .filter_map(|c| match group {
                    // Objects that only move to a new address: their one line.
                    grouping::Group::Move => move_item(c, &g.path),
                    _ => Some(change_item(plan, c, &g.path, recreated, reveal)),
                })
                .collect();
            if !items.is_empty() {
                let mut head = format!(
                    "{level} {} ({})",
                    group_title(group),
                    thousands(items.len())
                );
                // Replacements another one causes: said once, above them.
                if group == grouping::Group::Act(Action::Replace) {
                    let replaced: Vec<&ResourceChange> = g
                        .changes
                        .iter()
                        .filter(|c| c.action == Action::Replace)
                        .copied()
                        .collect();
                    for cg in cascade_groups(plan, &replaced) {
                        let _ = write!(head, "\n\n{}.", cascade_rich(&cg).md());
                    }
                }
                sections.push(Section { head, items });
            }
        }
        if sections.is_empty() {
            continue;
        }
        let head = with_modules.then(|| GroupHead {
            module: (!g.path.is_empty()).then(|| module_text(&g.path)),
            counts: counts_text(&g.changes),
            collapsed: !g.path.is_empty() && g.changes.len() > COLLAPSE_ABOVE,
        });
        groups.push(Group { head, sections });
    }
    groups
}
