//! The change list of the text rendering: one group per action (and for objects imported
//! or moved with nothing else to do), each entry its header line, Terraform's notes (moves,
//! imports, forgets) and its attribute-level diff.

use std::fmt::Write;

use plinth_plan::{Action, DeclKind, ReplaceOrder, ResourceChange};
use plinth_value::{Path, Value};

use super::{Style, TextOptions, show};
use crate::grouping::{GROUP_ORDER, Group, group_of, group_title};

/// The groups of `changes` in [`GROUP_ORDER`], each with its heading and one entry per
/// change.
pub(super) fn render_groups(
    out: &mut String,
    changes: &[&ResourceChange],
    opts: &TextOptions,
    st: &Style,
) {
    for g in GROUP_ORDER {
        let items: Vec<&&ResourceChange> =
            changes.iter().filter(|c| group_of(c) == Some(g)).collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({}):", st.bold(group_title(g)), items.len());
        for c in items {
            match g {
                // A move alone is Terraform's one line: nothing else happens to the object.
                Group::Move => {
                    let _ = writeln!(out, "  {}", moved_line(c).unwrap_or_default());
                }
                _ => render_change(out, c, opts, st),
            }
        }
    }
}

fn render_change(out: &mut String, c: &ResourceChange, opts: &TextOptions, st: &Style) {
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
    if c.drift {
        head.push_str(" — undoes a change made outside plinth");
    }
    let _ = writeln!(out, "{head}");
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
    if let Some(r) = &c.reason {
        let _ = writeln!(out, "      # {r}");
    }
    match c.action {
        Action::Create | Action::Read => {
            if let Some(after) = &c.after {
                for p in after.leaf_paths() {
                    let v = after.get(&p).unwrap_or(Value::Null);
                    if matches!(v, Value::Null) {
                        continue;
                    }
                    let name = if p.is_root() {
                        "(value)".to_string()
                    } else {
                        p.to_string()
                    };
                    let _ = writeln!(
                        out,
                        "      {} {name} = {}",
                        st.action(c.action, if c.action == Action::Read { "<=" } else { "+" }),
                        show(&v, opts)
                    );
                }
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
                render_path_change(out, c, p, opts, st);
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

fn render_path_change(
    out: &mut String,
    c: &ResourceChange,
    p: &Path,
    opts: &TextOptions,
    st: &Style,
) {
    // `p` is an input path; the object reports it at its attribute path.
    let ap = c.attribute_path(p);
    let before = c.before.as_ref().and_then(|b| b.get(ap));
    let after = c
        .config
        .as_ref()
        .and_then(|b| b.get(p))
        .or_else(|| c.after.as_ref().and_then(|b| b.get(ap)));
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
    let note = if forces {
        st.paint("31", "  # forces replacement")
    } else {
        String::new()
    };
    let name = if p.is_root() {
        "(value)".to_string()
    } else {
        p.to_string()
    };
    let line = match (before, after) {
        (Some(b), Some(a)) => format!(
            "{} {name} = {} -> {}",
            st.action(Action::Update, "~"),
            show(&b, opts),
            show(&a, opts)
        ),
        (None, Some(a)) => format!(
            "{} {name} = {}",
            st.action(Action::Create, "+"),
            show(&a, opts)
        ),
        (Some(b), None) => format!(
            "{} {name} = {}",
            st.action(Action::Delete, "-"),
            show(&b, opts)
        ),
        (None, None) => format!("~ {name}"),
    };
    let _ = writeln!(out, "      {line}{note}");
}
