//! The caution the text rendering gives before the summary line of a plan that destroys,
//! replaces or forgets objects, as the Markdown caution block does: how many objects are
//! destroyed (a replacement destroys one), then one line per object, the biggest blast
//! radius first (a cluster, a namespace, a resource group), and replacements another
//! replacement causes in one line per cause.

use std::fmt::Write;

use plinth_plan::{Action, DeclKind, Plan, ResourceChange};

use super::Style;
use crate::grouping::in_group_order;
use crate::review::{by_blast_radius, cascade_groups, cascade_text, destroyed_count, plain_reason};

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The caution, ending with a blank line; empty when nothing is destroyed, replaced or
/// forgotten.
pub(super) fn caution_text(plan: &Plan, st: &Style) -> String {
    let listed: Vec<&ResourceChange> = in_group_order(&plan.changes.iter().collect::<Vec<_>>())
        .into_iter()
        .filter(|c| {
            c.kind == DeclKind::Resource
                && matches!(c.action, Action::Delete | Action::Replace | Action::Forget)
        })
        .collect();
    if listed.is_empty() {
        return String::new();
    }
    let n = |a: Action| listed.iter().filter(|c| c.action == a).count();
    let (deletes, replaces, forgets) = (n(Action::Delete), n(Action::Replace), n(Action::Forget));
    let destroyed = destroyed_count(plan);
    let mut what = Vec::new();
    if destroyed > 0 {
        let mut how = Vec::new();
        if deletes > 0 {
            how.push(format!("{deletes} deleted"));
        }
        if replaces > 0 {
            how.push(format!(
                "{replaces} replaced: a replacement destroys the old object"
            ));
        }
        what.push(format!(
            "destroys {} ({})",
            count(destroyed, "object", "objects"),
            how.join(", ")
        ));
    }
    if forgets > 0 {
        let (it, leaves, stays) = if forgets == 1 {
            ("it", "leaves", "stays")
        } else {
            ("they", "leave", "stay")
        };
        what.push(format!(
            "forgets {} ({it} {leaves} state and {stays} in the cloud, no longer managed by plinth)",
            count(forgets, "object", "objects")
        ));
    }
    let mut out = String::new();
    let why = if destroyed > 0 {
        "Destroying an object can lose its data; check that this is intended:"
    } else {
        "Check that this is intended:"
    };
    let _ = writeln!(
        out,
        "{} this plan {}. {why}",
        st.paint("1;31", "Caution:"),
        what.join(" and ")
    );
    let alone: Vec<&ResourceChange> = listed
        .iter()
        .filter(|c| c.cascade.is_none())
        .copied()
        .collect();
    let mut groups = cascade_groups(plan, &listed);
    // One reason for all (a destroy plan's "destroy requested") is said once.
    let whys: Vec<String> = alone.iter().map(|c| why_text(c)).collect();
    let shared = (whys.len() > 1 && whys.iter().all(|w| *w == whys[0])).then(|| &whys[0]);
    if let Some(why) = shared {
        let _ = writeln!(out, "  (every one: {why})");
    }
    for c in by_blast_radius(&alone) {
        let why = match shared {
            Some(_) => String::new(),
            None => format!(": {}", why_text(c)),
        };
        let _ = writeln!(out, "  - {} {} ({}){why}", verb(c), c.address, c.type_name);
        // What goes with it, right after it.
        groups.retain(|g| {
            if g.cause != c.address {
                return true;
            }
            let _ = writeln!(out, "    - {}", group_line(g));
            false
        });
    }
    for g in &groups {
        let _ = writeln!(out, "  - {}", group_line(g));
    }
    out.push('\n');
    out
}

/// A cascade group in one line: its sentence, then the addresses.
fn group_line(g: &crate::review::CascadeGroup<'_>) -> String {
    let addresses: Vec<&str> = g.changes.iter().map(|c| c.address.as_str()).collect();
    format!("{}: {}", cascade_text(g), addresses.join(", "))
}

fn verb(c: &ResourceChange) -> &'static str {
    match c.action {
        Action::Replace => "replace",
        Action::Forget => "forget",
        _ => "destroy",
    }
}

/// Why, in a few plain words: the plan's reason, else the attributes that force a
/// replacement, else what happens.
fn why_text(c: &ResourceChange) -> String {
    if let Some(r) = &c.reason {
        return plain_reason(r);
    }
    match c.action {
        Action::Replace if !c.replace_paths.is_empty() => {
            let paths: Vec<String> = c
                .replace_paths
                .iter()
                .map(|p| c.attribute_path(p).to_string())
                .collect();
            let forces = if paths.len() == 1 { "forces" } else { "force" };
            format!("changing {} {forces} it", paths.join(", "))
        }
        Action::Replace => "replaced".into(),
        Action::Forget => "leaves state; the object stays in the cloud".into(),
        _ => "destroyed".into(),
    }
}
