//! The change list of the text rendering: one group per action (and for objects imported
//! or moved with nothing else to do), each entry its header line, Terraform's notes (moves,
//! imports, forgets), an Azure resource's parent, and its attribute-level diff (attribute
//! paths, the provider's annotations beside the values). Replacements caused by another's
//! are listed together under the sentence that says why, once. A create leaves out the
//! attributes the service fills in for its own bookkeeping and says how many.

use std::fmt::Write;

use plinth_plan::{Action, DeclKind, Plan, ReplaceOrder, ResourceChange};
use plinth_value::{Path, Value};

use super::values::{ATTR, Attr, write_change, write_value};
use super::{Style, TextOptions};
use crate::grouping::{GROUP_ORDER, Group, group_of, group_title};
use crate::review::{
    annotation, cascade_groups, cascade_text, create_attributes, hidden_text, is_bookkeeping,
    parent, parent_text, plain_reason, undoes_drift,
};

/// The groups of `changes` (of `plan`) in [`GROUP_ORDER`], each with its heading and one
/// entry per change; in the replacements, those another replacement causes come last, under
/// one line per cause.
pub(super) fn render_groups(
    out: &mut String,
    plan: &Plan,
    changes: &[&ResourceChange],
    opts: &TextOptions,
    st: &Style,
) {
    for g in GROUP_ORDER {
        let items: Vec<&ResourceChange> = changes
            .iter()
            .filter(|c| group_of(c) == Some(g))
            .copied()
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({}):", st.bold(group_title(g)), items.len());
        match g {
            // A move alone is Terraform's one line: nothing else happens to the object.
            Group::Move => {
                for c in items {
                    let _ = writeln!(out, "  {}", moved_line(c).unwrap_or_default());
                }
            }
            Group::Act(Action::Replace) => {
                for c in items.iter().filter(|c| c.cascade.is_none()) {
                    render_change(out, plan, c, opts, st);
                }
                for group in cascade_groups(plan, &items) {
                    let line = format!("# {}:", cascade_text(&group));
                    let _ = writeln!(out, "  {}", st.action(Action::Replace, &line));
                    for c in group.changes {
                        render_change(out, plan, c, opts, st);
                    }
                }
            }
            _ => {
                for c in items {
                    render_change(out, plan, c, opts, st);
                }
            }
        }
    }
}

fn render_change(
    out: &mut String,
    plan: &Plan,
    c: &ResourceChange,
    opts: &TextOptions,
    st: &Style,
) {
    let sym = st.action(c.action, c.action.symbol());
    let kind = match c.kind {
        DeclKind::Data => " (data source)",
        DeclKind::Action => " (action)",
        _ => "",
    };
    let mut head = format!(
        "  {sym} {} {}{kind}",
        st.bold(&c.address),
        st.paint("2", &format!("[{}]", c.type_name))
    );
    if undoes_drift(plan, c) {
        head.push_str(" — undoes a change made outside plinth");
    }
    let _ = writeln!(out, "{head}");
    if let Some(p) = parent(plan, c) {
        let _ = writeln!(out, "{ATTR}# parent: {}", parent_text(&p));
    }
    // What happens to state first (a move, an import), then why, then the diff.
    if let Some(line) = moved_line(c) {
        let _ = writeln!(out, "      {line}");
    }
    if let Some(imp) = &c.importing {
        let line = format!("# {} will be {}", c.address, import_words(c.action));
        let _ = writeln!(out, "      {}", st.paint(IMPORT_COLOR, &line));
        let _ = writeln!(out, "      # id = {}", Value::from(imp.id.as_str()));
    }
    if c.action == Action::Forget {
        let line = format!(
            "# {} will no longer be managed by plinth (removed from state; the object stays)",
            c.address
        );
        let _ = writeln!(out, "      {}", st.action(Action::Forget, &line));
        if let Some(id) = &c.id {
            let _ = writeln!(out, "      # id = {}", Value::from(id.as_str()));
        }
    }
    // A cascaded replacement's reason is the sentence of its group, said once above it.
    if let Some(r) = c.reason.as_ref().filter(|_| c.cascade.is_none()) {
        let _ = writeln!(out, "{ATTR}# {}", plain_reason(r));
    }
    match c.action {
        Action::Create | Action::Read => {
            let sign = st.action(c.action, if c.action == Action::Read { "<=" } else { "+" });
            let attrs = create_attributes(c);
            if let Some(after) = &c.after {
                for p in &attrs.shown {
                    let v = after.get(p).unwrap_or(Value::Null);
                    write_value(
                        out,
                        &sign,
                        &Attr {
                            name: &path_name(p),
                            note: annotation(c, p),
                            tail: "",
                        },
                        &v,
                        opts,
                        st,
                    );
                }
            }
            if let Some(hidden) = hidden_text(attrs.hidden) {
                let _ = writeln!(out, "{ATTR}{}", st.paint("2", &format!("(+ {hidden})")));
            }
        }
        Action::Update | Action::Replace => {
            if c.action == Action::Replace {
                let order = match c.replace_order {
                    Some(ReplaceOrder::CreateThenDelete) => {
                        "create the new object, then delete the old (create_before_destroy)"
                    }
                    _ => "delete, then create",
                };
                let _ = writeln!(out, "      # {order}");
            }
            for p in &c.changed_paths {
                // The service's bookkeeping (a resource version) is never an update.
                if !is_bookkeeping(c, c.attribute_path(p)) {
                    render_path_change(out, c, p, opts, st);
                }
            }
        }
        Action::Delete => {
            if let Some(id) = &c.id {
                let _ = writeln!(
                    out,
                    "      {} id = {}",
                    st.action(Action::Delete, "-"),
                    Value::from(id.as_str())
                );
            }
        }
        Action::Forget | Action::Run | Action::NoOp => {}
    }
}

/// The colour of the lines that say an object is imported (cyan).
const IMPORT_COLOR: &str = "36";

/// Terraform's words for an import: "imported", "imported and updated in place".
fn import_words(a: Action) -> &'static str {
    match a {
        Action::Update => "imported and updated in place",
        Action::Replace => "imported and replaced",
        _ => "imported",
    }
}

/// Terraform's line for a move: `# app has moved to app[0]`.
fn moved_line(c: &ResourceChange) -> Option<String> {
    let from = c.moved_from.as_ref()?;
    Some(format!("# {from} has moved to {}", c.address))
}

/// `(value)` for the root path, else the path.
fn path_name(p: &Path) -> String {
    if p.is_root() {
        "(value)".to_string()
    } else {
        p.to_string()
    }
}

fn render_path_change(
    out: &mut String,
    c: &ResourceChange,
    p: &Path,
    opts: &TextOptions,
    st: &Style,
) {
    // `p` may be an input path (a plan written before paths were attribute paths); the
    // object reports it at its attribute path, which is what is shown: the path resolves
    // in the attributes before and after.
    let ap = c.attribute_path(p);
    let before = c.before.as_ref().and_then(|b| b.get(ap));
    let after = c
        .config
        .as_ref()
        .and_then(|b| b.get(p))
        .filter(|_| ap != p)
        .or_else(|| c.after.as_ref().and_then(|b| b.get(ap)))
        .or_else(|| c.config.as_ref().and_then(|b| b.get(p)));
    // A value sensitive after the change is hidden before it too (an imported object's
    // attributes, as read, may lack the mark the configuration gives them). A value that
    // was sensitive and no longer is (the configuration now picks a plain value) is shown
    // after: nothing secret is in it.
    let before = if after.as_ref().is_some_and(Value::is_sensitive) {
        before.map(Value::sensitive)
    } else {
        before
    };
    let forces = c.replace_paths.iter().any(|r| r == p);
    let tail = if forces {
        st.paint("31", "  # forces replacement")
    } else {
        String::new()
    };
    let name = path_name(ap);
    let attr = Attr {
        name: &name,
        note: annotation(c, ap),
        tail: &tail,
    };
    match (before, after) {
        (Some(b), Some(a)) => write_change(out, &attr, &b, &a, opts, st),
        (None, Some(a)) => {
            write_value(out, &st.action(Action::Create, "+"), &attr, &a, opts, st);
        }
        (Some(b), None) => {
            // The annotation is of the value after: none for a removed one.
            let attr = Attr { note: None, ..attr };
            write_value(out, &st.action(Action::Delete, "-"), &attr, &b, opts, st);
        }
        (None, None) => {
            let _ = writeln!(out, "{ATTR}~ {name}{tail}");
        }
    }
}
