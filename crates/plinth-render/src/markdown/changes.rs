//! One item per listed change: its line (verb, address, type, notes: moves, imports,
//! forgets, why) and its attribute-level details, in a collapsible block.

use std::collections::BTreeSet;

use plinth_addr::ModuleStep;
use plinth_plan::{Action, DeclKind, ReplaceOrder, ResourceChange};
use plinth_value::Value;

use super::entries::{Entry, change_entry, entries_md, leaf_entries};
use super::item::{Item, verb};
use super::rich::Rich;
use super::syntax::md_text;
use super::values::path_label;
use crate::address::{module_path, relative_to};
use crate::marks::marked_before;

/// Why a replacement happens and in which order.
pub(super) fn replace_notes(c: &ResourceChange) -> Rich {
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
    // Then what happens to state: an import (with the id), a forget.
    let state_note = match (&c.importing, c.action) {
        (Some(imp), _) => {
            let mut n = Rich::text("from ");
            n.push_code(imp.id.as_str());
            Some(n)
        }
        (None, Action::Forget) => {
            let mut n =
                Rich::text("no longer managed by plinth: it leaves state, the object stays");
            if let Some(id) = &c.id {
                n.push_text(" (").push_code(id.as_str()).push_text(")");
            }
            Some(n)
        }
        _ => None,
    };
    if let Some(mut first) = state_note {
        if !notes.is_empty() {
            first.push_text("; ").append(notes);
        }
        notes = first;
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
/// from inside module instance `module`). A move into or out of the module instance shows
/// both addresses whole (`` `mi` has moved to `module.app["orders"].mi` ``): seen from
/// inside, they would read alike.
fn moved_note(c: &ResourceChange, module: &[ModuleStep]) -> Option<Rich> {
    let from = c.moved_from.as_ref()?;
    let within = module_path(from).starts_with(module);
    let shown = |a: &str| {
        if within {
            relative_to(a, module)
        } else {
            a.to_string()
        }
    };
    let mut note = Rich::default();
    note.push_code(shown(from))
        .push_text(" has moved to ")
        .push_code(shown(&c.address));
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
        Action::Delete => marked_before(c)
            .map(|v| entries_md(&["Attribute", "Value"], leaf_entries(&v, reveal)))
            .unwrap_or_default(),
        // What leaves state, or is adopted as it is: the object's attributes, without the
        // id its line shows already.
        Action::Forget => state_only_body(c, c.id.as_deref(), "Value", reveal),
        // An object imported as it is: what the configuration sets (it matches what was
        // read; the service's own attributes would only bury it), or, without a
        // configuration, what was read.
        Action::NoOp if c.importing.is_some() => match &c.config {
            Some(config) if !config.leaf_paths().is_empty() => {
                entries_md(&["Input", "Value"], leaf_entries(config, reveal))
            }
            _ => {
                let id = c.importing.as_ref().map(|i| i.id.as_str());
                state_only_body(c, id, "Imported", reveal)
            }
        },
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
            let before_header = if c.importing.is_some() {
                "Imported"
            } else {
                "Before"
            };
            entries_md(&["Attribute", before_header, "After"], entries)
        }
        Action::NoOp => String::new(),
    }
}

/// The attributes of an object that only enters or leaves state, under `header`; an `id`
/// attribute equal to `shown_id` (its line says it) is left out.
fn state_only_body(
    c: &ResourceChange,
    shown_id: Option<&str>,
    header: &str,
    reveal: bool,
) -> String {
    let Some(mut attrs) = marked_before(c) else {
        return String::new();
    };
    if let (Some(id), Value::Map(m)) = (shown_id, &mut attrs)
        && m.get("id").and_then(Value::as_str) == Some(id)
    {
        m.remove("id");
    }
    entries_md(&["Attribute", header], leaf_entries(&attrs, reveal))
}
