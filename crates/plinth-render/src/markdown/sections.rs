//! The sections of the document below its top (`overview`), built from the plan: drift,
//! drift in what the configuration does not set, settled records and the outputs table; and
//! the order the change lists show.

use std::fmt::Write;

use plinth_plan::{Action, Drift, OutputChange, Plan, PlanMode, ResourceChange};
use plinth_value::Value;

use super::entries::{change_entry, entries_md};
use super::item::{Item, Section};
use super::rich::Rich;
use super::syntax::{cell, code};
use super::values::inline;
use super::words::{count_of, thousands};
use crate::grouping::{by_module, in_group_order};

/// Changes in the order the list shows them: by module instance (the root module first),
/// then in display order.
pub(super) fn listed_order<'a>(changing: &[&'a ResourceChange]) -> Vec<&'a ResourceChange> {
    by_module(changing)
        .into_iter()
        .flat_map(|g| in_group_order(&g.changes))
        .collect()
}

/// The drift section: changes made outside plinth, one item per object.
pub(super) fn drift_section(plan: &Plan, drift: &[&Drift], reveal: bool) -> Section {
    let head = format!(
        "### Changes made outside plinth\n\nRefresh found {} changed outside plinth since the last apply. {}",
        count_of(drift.len(), "object"),
        match plan.mode {
            PlanMode::RefreshOnly => "Applying this plan records them in state.",
            _ =>
                "They are not part of the intended change below; changes that undo them are marked.",
        }
    );
    let items = drift
        .iter()
        .map(|d| {
            let change = plan.change(&d.address).filter(|c| c.action.is_change());
            match d.action {
                Action::Delete => {
                    let notes = match change.map(|c| c.action) {
                        Some(Action::Create) => Rich::text("this plan creates it again"),
                        _ => Rich::default(),
                    };
                    Item::new("deleted", &d.address, &d.type_name, &notes, String::new())
                }
                _ => {
                    let mut notes = Rich::text(match d.changed_paths.len() {
                        1 => "1 attribute changed".to_string(),
                        n => format!("{n} attributes changed"),
                    });
                    // What this plan does about it: the drift lists paths the configuration
                    // sets, so what is kept is kept because the plan leaves the object be.
                    match change.map(|c| c.action) {
                        _ if plan.mode == PlanMode::RefreshOnly => {}
                        Some(Action::Update | Action::Replace) => {
                            notes.push_text("; this plan puts the declared values back");
                        }
                        Some(Action::Delete) => {
                            notes.push_text("; this plan destroys the object");
                        }
                        Some(Action::Forget) => {
                            notes.push_text(
                                "; this plan forgets the object, which stays as it was found",
                            );
                        }
                        _ => {
                            notes.push_text(if d.changed_paths.len() == 1 {
                                "; this plan leaves it as found"
                            } else {
                                "; this plan leaves them as found"
                            });
                        }
                    }
                    let entries = d
                        .changed_paths
                        .iter()
                        .map(|p| {
                            change_entry(
                                p,
                                d.before.as_ref().and_then(|v| v.get(p)).as_ref(),
                                d.after.as_ref().and_then(|v| v.get(p)).as_ref(),
                                false,
                                None,
                                reveal,
                            )
                        })
                        .collect();
                    let body = entries_md(&["Attribute", "Recorded in state", "Found"], entries);
                    Item::new("changed", &d.address, &d.type_name, &notes, body)
                }
            }
        })
        .collect();
    Section { head, items }
}

/// The section of changes made outside plinth to attributes the configuration does not
/// set (`Drift::unmanaged_paths`): informational, never planned back; each object with
/// its changed attributes, and how to enforce one (`lifecycle.manage`).
pub(super) fn unmanaged_section(drift: &[&Drift], reveal: bool) -> Section {
    let head = format!(
        "### Changed outside plinth, not managed here\n\nRefresh found {} changed outside plinth in attributes the configuration does not set. For information: this plan does not change them back, and apply records them in state. To have plinth enforce one, name its path in the resource's {}.",
        count_of(drift.len(), "object"),
        code("lifecycle.manage")
    );
    let items = drift
        .iter()
        .map(|d| {
            let n = d.unmanaged_paths.len();
            let notes = Rich::text(if n == 1 {
                "1 attribute not managed here".to_string()
            } else {
                format!("{} attributes not managed here", thousands(n))
            });
            let entries = d
                .unmanaged_paths
                .iter()
                .map(|p| {
                    change_entry(
                        p,
                        d.before.as_ref().and_then(|v| v.get(p)).as_ref(),
                        d.after.as_ref().and_then(|v| v.get(p)).as_ref(),
                        false,
                        None,
                        reveal,
                    )
                })
                .collect();
            let mut body = entries_md(&["Attribute", "Recorded in state", "Found"], entries);
            let paths: Vec<String> = d
                .unmanaged_paths
                .iter()
                .map(|p| serde_json::Value::String(p.to_string()).to_string())
                .collect();
            let _ = write!(
                body,
                "\n\nTo enforce: {}",
                code(&format!("lifecycle.manage = [{}]", paths.join(", ")))
            );
            Item::new("changed", &d.address, &d.type_name, &notes, body)
        })
        .collect();
    Section { head, items }
}

/// Records settled from an interrupted run (not drift).
pub(super) fn settled_note(plan: &Plan) -> String {
    let settled: Vec<&Drift> = plan.drift.iter().filter(|d| d.reconciled).collect();
    if settled.is_empty() {
        return String::new();
    }
    let mut out = "Settled from an interrupted run:".to_string();
    for d in settled.iter().take(20) {
        let what = match d.action {
            Action::Delete => "never completed; it is planned again if still configured",
            _ => "exists; adopted into state",
        };
        let _ = write!(out, "\n- {} {what}", code(&d.address));
    }
    if settled.len() > 20 {
        let _ = write!(out, "\n- … and {} more", thousands(settled.len() - 20));
    }
    out
}

/// The outputs section: a table of changed outputs.
pub(super) fn outputs_section(
    outputs: &[OutputChange],
    reveal: bool,
) -> Option<(String, Vec<String>)> {
    let changing: Vec<&OutputChange> = outputs.iter().filter(|o| o.action.is_change()).collect();
    if changing.is_empty() {
        return None;
    }
    let head = "### Outputs\n\n| Output | Change | Value |\n|---|---|---|".to_string();
    let rows = changing
        .iter()
        .map(|o| {
            let hide = |v: &Option<Value>| -> Option<Value> {
                v.as_ref().map(|v| {
                    if o.sensitive && !reveal {
                        Value::sensitive(Value::Null)
                    } else {
                        v.clone()
                    }
                })
            };
            let (before, after) = (hide(&o.before), hide(&o.after));
            let value = match o.action {
                Action::Delete => inline(before.as_ref(), reveal),
                Action::Update if before.is_some() => format!(
                    "{} → {}",
                    inline(before.as_ref(), reveal),
                    inline(after.as_ref(), reveal)
                ),
                _ => inline(after.as_ref(), reveal),
            };
            format!(
                "| {} | {} | {} |",
                cell(&code(&o.name)),
                o.action.as_str(),
                cell(&value)
            )
        })
        .collect();
    Some((head, rows))
}
