//! One item per listed change: its line (verb, address, type, notes: moves, imports,
//! forgets, why, the role a role assignment grants and where) and its attribute-level
//! details, in a collapsible block (an Azure resource's parent first; a create without the
//! service's bookkeeping, counted; a destroy by its id).

use std::collections::BTreeSet;

use plinth_addr::ModuleStep;
use plinth_plan::{Action, Cascade, CascadeVia, DeclKind, Plan, ReplaceOrder, ResourceChange};
use plinth_value::{Path, Value};

use super::entries::{Entry, change_entry, entries_md, leaf_entries, path_entries};
use super::item::{Item, verb};
use super::rich::Rich;
use super::syntax::{code, md_text};
use super::values::path_label;
use crate::address::{module_path, relative_to};
use crate::marks::marked_before;
use crate::review::{
    CascadeGroup, annotation, blast_rank, cascade_parts, create_attributes, hidden_text,
    is_bookkeeping, parent, undoes_drift,
};

/// Why a replacement happens and in which order. A replacement another one causes (a
/// Kubernetes object in a cluster that is replaced) says only that, briefly: the caution
/// block and the section's introduction say it once for all of them.
pub(super) fn replace_notes(plan: &Plan, c: &ResourceChange) -> Rich {
    let mut r = Rich::default();
    if let Some(k) = &c.cascade {
        r.append(cascade_note(plan, k));
        return r;
    }
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

/// One replacement's short word on its cause: `` with its cluster `aks` ``.
fn cascade_note(plan: &Plan, k: &Cascade) -> Rich {
    let mut r = Rich::default();
    match k.via {
        CascadeVia::ProviderSettings => {
            let cluster = plan
                .change(&k.cause)
                .is_some_and(|c| blast_rank(&c.type_name) == 0);
            r.push_text(if cluster {
                "goes with its cluster "
            } else {
                "goes with "
            });
            r.push_code(k.cause.as_str());
            if !cluster {
                r.push_text(", which its provider's settings name");
            }
        }
        CascadeVia::ReplaceTriggeredBy => {
            r.push_code("replace_triggered_by");
            r.push_text(" names ");
            r.push_code(k.cause.as_str());
        }
    }
    r
}

/// A cascade group as one phrase: ``6 Kubernetes objects are replaced because their
/// cluster `aks` is replaced``.
pub(super) fn cascade_rich(g: &CascadeGroup<'_>) -> Rich {
    let (before, cause, after) = cascade_parts(g);
    let mut r = Rich::text(before);
    r.push_code(cause).push_text(after);
    r
}

/// Whether a type is an Azure role assignment.
fn is_role_assignment(type_name: &str) -> bool {
    let ty = type_name.split('@').next().unwrap_or(type_name);
    ty.eq_ignore_ascii_case("azure:Microsoft.Authorization/roleAssignments")
}

/// The role a role assignment grants, by the provider's note on its role definition id.
fn role_name(c: &ResourceChange) -> Option<&str> {
    c.annotations
        .iter()
        .find(|a| {
            a.path
                .to_string()
                .rsplit('.')
                .next()
                .is_some_and(|last| last == "roleDefinitionId")
        })
        .map(|a| a.note.as_str())
}

/// Who gets which role where, for a role assignment's line: ``grants Azure Service Bus
/// Data Owner on `queue` ``. Empty for other types, and when neither is known.
fn role_note(plan: &Plan, c: &ResourceChange) -> Rich {
    let mut r = Rich::default();
    if !is_role_assignment(&c.type_name) {
        return r;
    }
    let role = role_name(c);
    let scope = parent(plan, c);
    if role.is_none() && scope.is_none() {
        return r;
    }
    r.push_text(match role {
        Some(role) => format!("grants {role}"),
        None => "grants a role".to_string(),
    });
    if let Some(scope) = scope {
        r.push_text(" on ");
        r.push_code(scope.address.unwrap_or(scope.id));
    }
    r
}

/// The first line of an Azure resource's details: where it lives, its parent's address and
/// id (an id is in running text, which wraps); for a role assignment, the role and its scope
/// (the id only when `properties.scope` does not show it already).
fn parent_preface(plan: &Plan, c: &ResourceChange) -> String {
    let Some(p) = parent(plan, c) else {
        return String::new();
    };
    let place = match &p.address {
        Some(a) => format!("{} — {}", code(a), code(&p.id)),
        None => code(&p.id),
    };
    if !is_role_assignment(&c.type_name) {
        return format!("**Parent:** {place}");
    }
    let scope_shown = c
        .after
        .as_ref()
        .and_then(|a| a.get(&Path::root().key("properties").key("scope")))
        .and_then(|v| v.as_str().map(|s| s.eq_ignore_ascii_case(&p.id)))
        .unwrap_or(false);
    let scope = match (&p.address, scope_shown) {
        (Some(a), true) => code(a),
        _ => place,
    };
    match role_name(c) {
        Some(role) => format!("**Role:** {} · **Scope:** {scope}", md_text(role)),
        None => format!("**Scope:** {scope}"),
    }
}

/// One changed resource: its line and its attribute-level details. Its address is shown as
/// seen from inside module instance `module` (the heading above it names the module).
pub(super) fn change_item(
    plan: &Plan,
    c: &ResourceChange,
    module: &[ModuleStep],
    recreated: &BTreeSet<&str>,
    reveal: bool,
) -> Item {
    let mut notes = Rich::default();
    match c.action {
        Action::Replace => {
            notes = replace_notes(plan, c);
        }
        _ => {
            if let Some(r) = &c.reason {
                notes = Rich::parse(r);
            }
        }
    }
    let role = role_note(plan, c);
    if !role.is_empty() {
        if notes.is_empty() {
            notes = role;
        } else {
            let mut all = role;
            all.push_text("; ").append(notes);
            notes = all;
        }
    }
    if undoes_drift(plan, c) {
        if !notes.is_empty() {
            notes.push_text("; ");
        }
        notes.push_text("undoes a change made outside plinth");
    }
    // What a destroy takes away is named by its id, on its line (its attributes, a status
    // among them, would only bury it).
    if c.action == Action::Delete
        && c.kind == DeclKind::Resource
        && let Some(id) = &c.id
    {
        if !notes.is_empty() {
            notes.push_text("; ");
        }
        notes.push_text("id ").push_code(id.as_str());
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
    // A destroy's id on its line says where it lives.
    let preface = if c.action == Action::Delete {
        String::new()
    } else {
        parent_preface(plan, c)
    };
    let body = change_body(c, reveal);
    let body = match (preface.is_empty(), body.trim().is_empty()) {
        (true, _) => body,
        (false, true) => preface,
        (false, false) => format!("{preface}\n\n{body}"),
    };
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
        Action::Create | Action::Read => match &c.after {
            // What the object will hold, less what the service fills in for its own
            // bookkeeping (counted).
            Some(a) if !a.is_unknown() => {
                let attrs = create_attributes(c);
                let note = |p: &Path| annotation(c, p);
                let mut body = entries_md(
                    &["Attribute", "Value"],
                    path_entries(a, &attrs.shown, &note, reveal),
                );
                if let Some(hidden) = hidden_text(attrs.hidden) {
                    if !body.is_empty() {
                        body.push_str("\n\n");
                    }
                    body.push_str(&format!("*Not shown: {}.*", md_text(&hidden)));
                }
                body
            }
            // A deferred read knows only its inputs.
            _ => c
                .config
                .as_ref()
                .map(|v| entries_md(&["Input", "Value"], leaf_entries(v, reveal)))
                .unwrap_or_default(),
        },
        Action::Run => c
            .config
            .as_ref()
            .map(|v| entries_md(&["Input", "Value"], leaf_entries(v, reveal)))
            .unwrap_or_default(),
        // A destroyed resource is named by its id on its line; one without an id (and a
        // data source forgotten) shows what it had.
        Action::Delete if c.kind == DeclKind::Resource && c.id.is_some() => String::new(),
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
                    change_entry(
                        p,
                        before.as_ref(),
                        after.as_ref(),
                        forces,
                        annotation(c, ap),
                        reveal,
                    )
                })
                .collect();
            // Attributes that become unknown as a consequence (e.g. the id of a replacement),
            // less the service's bookkeeping (a uid, a resource version, a status), counted.
            let mut hidden = 0usize;
            if let (Some(before), Some(after)) = (&c.before, &c.after) {
                for p in after.unknown_paths() {
                    if c.changed_paths
                        .iter()
                        .any(|q| c.attribute_path(q).overlaps(&p))
                    {
                        continue;
                    }
                    if is_bookkeeping(c, &p) {
                        hidden += 1;
                        continue;
                    }
                    if let Some(b) = before.get(&p).filter(|b| !b.is_unknown()) {
                        entries.push(change_entry(
                            &p,
                            Some(&b),
                            Some(&Value::Unknown),
                            false,
                            None,
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
            let mut body = entries_md(&["Attribute", before_header, "After"], entries);
            // Said only beside what is shown: a replacement with nothing else to show (a
            // Kubernetes object that goes with its cluster) stays one line.
            if let Some(h) = hidden_text(hidden)
                && !body.is_empty()
            {
                body.push_str(&format!(
                    "\n\n*Not shown: {}, known after apply.*",
                    md_text(&h)
                ));
            }
            body
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
