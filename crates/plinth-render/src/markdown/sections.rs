//! The sections of the document, built from the plan: the caution block, notices, the
//! summary table per provider, drift, settled records, one item per changed resource (with
//! its attribute-level details) and the outputs table.

use std::collections::BTreeSet;
use std::fmt::Write;

use plinth_addr::ModuleStep;
use plinth_plan::{
    Action, DeclKind, Drift, OutputChange, Plan, PlanMode, ReplaceOrder, ResourceChange, Summary,
};
use plinth_value::Value;

use super::entries::{Entry, change_entry, entries_md, leaf_entries};
use super::item::{Item, Section, verb};
use super::rich::Rich;
use super::syntax::{cell, code, md_text};
use super::values::{inline, path_label};
use super::words::{count_of, thousands};
use crate::address::relative_to;
use crate::grouping::{GROUP_ORDER, by_module, by_provider};

/// Changes in display order.
pub(super) fn groups_order<'a>(changing: &[&'a ResourceChange]) -> Vec<&'a ResourceChange> {
    GROUP_ORDER
        .iter()
        .flat_map(|a| changing.iter().filter(move |c| c.action == *a).copied())
        .collect()
}

/// Changes in the order the list shows them: by module instance (the root module first),
/// then in display order.
pub(super) fn listed_order<'a>(changing: &[&'a ResourceChange]) -> Vec<&'a ResourceChange> {
    by_module(changing)
        .into_iter()
        .flat_map(|g| groups_order(&g.changes))
        .collect()
}

/// Why a replacement happens and in which order.
fn replace_notes(c: &ResourceChange) -> Rich {
    let mut r = Rich::default();
    if !c.replace_paths.is_empty() {
        for (i, p) in c.replace_paths.iter().enumerate() {
            if i > 0 {
                r.push_text(", ");
            }
            r.push_code(path_label(p));
        }
        r.push_text(if c.replace_paths.len() == 1 {
            " forces replacement"
        } else {
            " force replacement"
        });
        if let Some(reason) = &c.reason {
            r.push_text(" (");
            r.append(Rich::parse(reason));
            r.push_text(")");
        }
    } else if let Some(reason) = &c.reason {
        r.append(Rich::parse(reason));
    } else {
        r.push_text("replacement required");
    }
    match c.replace_order {
        Some(ReplaceOrder::CreateThenDelete) => {
            r.push_text("; the new object is created first, then the old one deleted (");
            r.push_code("create_before_destroy");
            r.push_text(")");
        }
        _ => {
            r.push_text("; the old object is deleted first, then the new one created");
        }
    }
    r
}

/// The caution block: every deleted or replaced managed object, with why.
pub(super) fn caution_block(changing: &[&ResourceChange]) -> Option<(String, Vec<String>)> {
    let risky: Vec<&ResourceChange> = groups_order(changing)
        .into_iter()
        .filter(|c| {
            c.kind == DeclKind::Resource && matches!(c.action, Action::Delete | Action::Replace)
        })
        .collect();
    if risky.is_empty() {
        return None;
    }
    let destroys = risky.iter().filter(|c| c.action == Action::Delete).count();
    let replaces = risky.len() - destroys;
    let mut what = Vec::new();
    if destroys > 0 {
        what.push(format!("destroys {}", count_of(destroys, "resource")));
    }
    if replaces > 0 {
        what.push(format!("replaces {}", count_of(replaces, "resource")));
    }
    let intro = format!(
        "> [!CAUTION]\n> This plan **{}**. Destroying or replacing an object can lose its data; check that this is intended:\n>",
        what.join("** and **")
    );
    let lines = risky
        .iter()
        .map(|c| {
            let why = match c.action {
                Action::Replace => replace_notes(c),
                _ => Rich::parse(c.reason.as_deref().unwrap_or("destroy")),
            };
            format!(
                "> - **{}** {} ({}): {}",
                verb(c),
                code(&c.address),
                md_text(&c.type_name),
                why.md()
            )
        })
        .collect();
    Some((intro, lines))
}

/// Warnings and targets.
pub(super) fn notices(plan: &Plan) -> String {
    let mut blocks = Vec::new();
    for w in &plan.warnings {
        blocks.push(format!("> [!WARNING]\n> {}", Rich::parse(w).md()));
    }
    if !plan.targets.is_empty() {
        let list: Vec<String> = plan.targets.iter().map(|t| code(t)).collect();
        blocks.push(format!("Limited to: {}", list.join(", ")));
    }
    blocks.join("\n\n")
}

/// The summary table per provider, with totals, and the summary sentence.
pub(super) fn overview_table(changing: &[&ResourceChange], summary: &Summary) -> String {
    // create, update, replace, delete, read, run
    let mut per: Vec<(&str, [usize; 6])> = Vec::new();
    for (provider, changes) in by_provider(changing) {
        let mut counts = [0usize; 6];
        let mut counted = false;
        for c in changes {
            let col = match (c.action, c.kind) {
                (Action::Create, _) => 0,
                (Action::Update, _) => 1,
                (Action::Replace, _) => 2,
                (Action::Delete, DeclKind::Resource) => 3,
                (Action::Read, _) => 4,
                (Action::Run, _) => 5,
                _ => continue,
            };
            counts[col] += 1;
            counted = true;
        }
        // A provider with nothing to count (only data sources forgotten) gets no row.
        if counted {
            per.push((provider, counts));
        }
    }
    let mut out = String::new();
    if !per.is_empty() {
        out.push_str("| Provider | Create | Update | Replace | Delete | Read | Actions |\n");
        out.push_str("|:---|---:|---:|---:|---:|---:|---:|\n");
        let mut total = [0usize; 6];
        for (provider, counts) in &per {
            let cells: Vec<String> = counts.iter().map(|n| thousands(*n)).collect();
            let _ = writeln!(out, "| {} | {} |", cell(&code(provider)), cells.join(" | "));
            for (t, n) in total.iter_mut().zip(counts) {
                *t += n;
            }
        }
        let cells: Vec<String> = total
            .iter()
            .map(|n| format!("**{}**", thousands(*n)))
            .collect();
        let _ = writeln!(out, "| **Total** | {} |", cells.join(" | "));
        out.push('\n');
    }
    let _ = write!(out, "**{summary}**");
    out
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
                    match change.map(|c| c.action) {
                        Some(Action::Update | Action::Replace)
                            if plan.mode != PlanMode::RefreshOnly =>
                        {
                            notes.push_text("; this plan puts the declared values back");
                        }
                        _ if plan.mode == PlanMode::RefreshOnly => {}
                        _ => {
                            notes.push_text(if d.changed_paths.len() == 1 {
                                "; the configuration does not set it, so it is kept"
                            } else {
                                "; the configuration does not set them, so they are kept"
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

/// One changed resource: its line and its attribute-level details. Its address is shown as
/// seen from inside module instance `module` (the heading above it names the module).
pub(super) fn change_item(
    c: &ResourceChange,
    module: &[ModuleStep],
    recreated: &BTreeSet<&str>,
    reveal: bool,
) -> Item {
    let mut notes = Rich::default();
    match c.action {
        Action::Replace => {
            notes = replace_notes(c);
        }
        _ => {
            if let Some(r) = &c.reason {
                notes = Rich::parse(r);
            }
        }
    }
    if c.drift {
        if !notes.is_empty() {
            notes.push_text("; ");
        }
        notes.push_text("undoes a change made outside plinth");
    }
    if c.action == Action::Create && recreated.contains(c.address.as_str()) {
        if !notes.is_empty() {
            notes.push_text("; ");
        }
        notes.push_text("re-creates an object deleted outside plinth");
    }
    if let Some(moved) = moved_note(c, module) {
        // The move first: it happens before the change.
        if !notes.is_empty() {
            let mut all = moved;
            all.push_text("; ").append(notes);
            notes = all;
        } else {
            notes = moved;
        }
    }
    let type_text = match c.kind {
        DeclKind::Data => format!("{}, data source", c.type_name),
        DeclKind::Action => format!("{}, action", c.type_name),
        _ => c.type_name.clone(),
    };
    let body = change_body(c, reveal);
    Item::new(
        verb(c),
        &relative_to(&c.address, module),
        &type_text,
        &notes,
        body,
    )
}

/// Terraform's words for a move: `` `app` has moved to `app[0]` `` (both addresses as seen
/// from inside module instance `module`).
fn moved_note(c: &ResourceChange, module: &[ModuleStep]) -> Option<Rich> {
    let from = c.moved_from.as_ref()?;
    let mut note = Rich::default();
    note.push_code(relative_to(from, module))
        .push_text(" has moved to ")
        .push_code(relative_to(&c.address, module));
    Some(note)
}

/// The item of an object that only moves to a new address (nothing else changes).
pub(super) fn move_item(c: &ResourceChange, module: &[ModuleStep]) -> Option<Item> {
    let note = moved_note(c, module)?;
    let line = format!("- {} ({})", note.md(), md_text(&c.type_name));
    Some(Item {
        full: line.clone(),
        short: line,
    })
}

/// The attribute-level details of a change.
fn change_body(c: &ResourceChange, reveal: bool) -> String {
    match c.action {
        Action::Create | Action::Read => {
            // A deferred read knows only its inputs.
            let (source, headers) = match &c.after {
                Some(a) if !a.is_unknown() => (Some(a), ["Attribute", "Value"]),
                _ => (c.config.as_ref(), ["Input", "Value"]),
            };
            source
                .map(|v| entries_md(&headers, leaf_entries(v, reveal)))
                .unwrap_or_default()
        }
        Action::Run => c
            .config
            .as_ref()
            .map(|v| entries_md(&["Input", "Value"], leaf_entries(v, reveal)))
            .unwrap_or_default(),
        Action::Delete | Action::Forget => c
            .before
            .as_ref()
            .map(|v| entries_md(&["Attribute", "Value"], leaf_entries(v, reveal)))
            .unwrap_or_default(),
        Action::Update | Action::Replace => {
            let mut entries: Vec<Entry> = c
                .changed_paths
                .iter()
                .map(|p| {
                    // `p` is an input path; the object reports it at its attribute path.
                    let ap = c.attribute_path(p);
                    let before = c.before.as_ref().and_then(|v| v.get(ap));
                    // The planned attribute carries the schema's sensitive marks; the
                    // configured value stands in where the attribute is not known yet.
                    let planned = c.after.as_ref().and_then(|v| v.get(ap));
                    let configured = c.config.as_ref().and_then(|v| v.get(p));
                    let after = match (planned, configured) {
                        (Some(a), Some(cv)) if !a.is_wholly_known() => {
                            if a.is_sensitive() {
                                Some(Value::sensitive(cv))
                            } else {
                                Some(cv)
                            }
                        }
                        (Some(a), _) => Some(a),
                        (None, cv) => cv,
                    };
                    let forces = c.replace_paths.iter().any(|r| r.overlaps(p));
                    change_entry(p, before.as_ref(), after.as_ref(), forces, reveal)
                })
                .collect();
            // Attributes that become unknown as a consequence (e.g. the id of a replacement).
            if let (Some(before), Some(after)) = (&c.before, &c.after) {
                for p in after.unknown_paths() {
                    if c.changed_paths
                        .iter()
                        .any(|q| c.attribute_path(q).overlaps(&p))
                    {
                        continue;
                    }
                    if let Some(b) = before.get(&p).filter(|b| !b.is_unknown()) {
                        entries.push(change_entry(
                            &p,
                            Some(&b),
                            Some(&Value::Unknown),
                            false,
                            reveal,
                        ));
                    }
                }
            }
            entries_md(&["Attribute", "Before", "After"], entries)
        }
        Action::NoOp => String::new(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn change(address: &str, type_name: &str, kind: DeclKind, action: Action) -> ResourceChange {
        ResourceChange::new(address, type_name, kind, action)
    }

    #[test]
    fn the_overview_has_a_row_per_provider_with_something_to_count() {
        let forgotten = change(
            "data.sub",
            "azure:subscription",
            DeclKind::Data,
            Action::Delete,
        );
        let created = change("a", "core:data", DeclKind::Resource, Action::Create);
        let run = change("action.r", "core:sleep", DeclKind::Action, Action::Run);
        let table = overview_table(&[&forgotten, &created, &run], &Summary::default());
        assert!(
            table.contains("| `core` | 1 | 0 | 0 | 0 | 0 | 1 |"),
            "{table}"
        );
        assert!(
            table.contains("| **Total** | **1** | **0** | **0** | **0** | **0** | **1** |"),
            "{table}"
        );
        // Forgetting a data source is not counted, so its provider has no row.
        assert!(!table.contains("azure"), "{table}");
    }
}
