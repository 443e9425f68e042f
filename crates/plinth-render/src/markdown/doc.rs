//! The document: everything the rendering can show, built once from the plan. How much of
//! it is shown is decided later (`layout`, `budget`).

use std::collections::BTreeSet;
use std::fmt::Write;

use plinth_plan::{Action, Drift, Plan, PlanMode, ResourceChange};

use super::item::{Item, Section};
use super::mermaid::{Graph, graph_section};
use super::options::MarkdownOptions;
use super::sections::{
    caution_block, change_item, drift_section, groups_order, move_item, notices, outputs_section,
    overview_table, settled_note,
};
use super::words::thousands;
use crate::grouping::{GROUP_ORDER, group_title};

/// Everything the rendering can show, built once; `budget::fit` picks how much of it.
pub(super) struct Doc {
    pub(super) title: String,
    /// The caution block's introduction, and one line per deleted or replaced object.
    pub(super) caution: Option<(String, Vec<String>)>,
    /// Warnings and targets (always shown).
    pub(super) notices: String,
    /// The summary table and sentence, or "No changes."
    pub(super) overview: String,
    pub(super) drift: Option<Section>,
    /// A short note on records settled from an interrupted run.
    pub(super) settled: String,
    /// The `### Changes` heading and one section per action group.
    pub(super) changes_head: String,
    pub(super) groups: Vec<Section>,
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
        let drift: Vec<&Drift> = plan
            .drift
            .iter()
            .filter(|d| !d.reconciled && d.is_reportable())
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
            caution_block(&changing)
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
            overview_table(&changing, &summary)
        };

        let drift_section = (!drift.is_empty()).then(|| drift_section(plan, &drift, reveal));
        let settled = settled_note(plan);

        let recreated: BTreeSet<&str> = drift
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| d.address.as_str())
            .collect();
        let mut groups = Vec::new();
        if !no_changes {
            for a in GROUP_ORDER {
                let items: Vec<Item> = changing
                    .iter()
                    .filter(|c| c.action == a)
                    .map(|c| change_item(c, &recreated, reveal))
                    .collect();
                if !items.is_empty() {
                    groups.push(Section {
                        head: format!("#### {} ({})", group_title(a), thousands(items.len())),
                        items,
                    });
                }
            }
        }
        if !no_changes {
            // Objects that only move to a new address (state is renamed, nothing else).
            let items: Vec<Item> = plan
                .changes
                .iter()
                .filter(|c| !c.action.is_change())
                .filter_map(move_item)
                .collect();
            if !items.is_empty() {
                groups.push(Section {
                    head: format!("#### Move ({})", thousands(items.len())),
                    items,
                });
            }
        }
        let outputs = if no_changes {
            None
        } else {
            outputs_section(&plan.outputs, reveal)
        };
        let graph = if no_changes || changing.is_empty() {
            None
        } else {
            graph_section(plan, &groups_order(&changing))
        };
        Doc {
            title,
            caution,
            notices,
            overview,
            drift: drift_section,
            settled,
            changes_head: "### Changes".to_string(),
            groups,
            outputs,
            graph,
        }
    }

    /// Every list item, drift first, then changes in display order.
    pub(super) fn items(&self) -> impl Iterator<Item = &Item> {
        self.drift
            .iter()
            .flat_map(|s| s.items.iter())
            .chain(self.groups.iter().flat_map(|g| g.items.iter()))
    }

    /// The length of the longest list.
    pub(super) fn longest_list(&self) -> usize {
        let changes: usize = self.groups.iter().map(|g| g.items.len()).sum();
        [
            changes,
            self.drift.as_ref().map_or(0, |d| d.items.len()),
            self.caution.as_ref().map_or(0, |c| c.1.len()),
            self.outputs.as_ref().map_or(0, |o| o.1.len()),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}
