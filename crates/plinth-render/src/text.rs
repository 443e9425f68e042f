//! The text rendering: what a terminal shows. Sensitive values are shown as
//! `(sensitive)` and unknown ones as `(known after apply)` unless asked otherwise.
//!
//! Changes are grouped by action; in a plan with modules, first by module instance: the
//! root module's changes, then each instance's under a heading with its counts
//! (`module.app["orders"]: 3 to add, 1 to change`), indented, with full addresses.

use std::fmt::Write;

use plinth_plan::{
    Action, DeclKind, Drift, OutputChange, Plan, PlanMode, ReplaceOrder, ResourceChange,
};
use plinth_value::{Path, Value};

use crate::address::module_text;
use crate::grouping::{GROUP_ORDER, by_module, counts_text, group_title, listed_changes};

/// How to render.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// Colour the output with ANSI escapes (a terminal).
    pub color: bool,
    /// Reveal sensitive values (`--show-sensitive`).
    pub show_sensitive: bool,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn action(&self, a: Action, s: &str) -> String {
        let code = match a {
            Action::Create => "32",
            Action::Update => "33",
            Action::Replace | Action::Delete => "31",
            Action::Read | Action::Run => "36",
            Action::Forget => "35",
            Action::NoOp => "0",
        };
        self.paint(code, s)
    }

    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

fn show(v: &Value, opts: &TextOptions) -> String {
    if opts.show_sensitive {
        v.render_revealed()
    } else {
        v.render()
    }
}

/// Renders a plan as text, grouped by module instance and action, ending with the summary
/// line.
pub fn plan_text(plan: &Plan, opts: &TextOptions) -> String {
    let st = Style { color: opts.color };
    let mut out = String::new();
    let drift: Vec<&Drift> = plan
        .drift
        .iter()
        .filter(|d| !d.reconciled && d.is_reportable())
        .collect();
    let reconciled: Vec<&Drift> = plan.drift.iter().filter(|d| d.reconciled).collect();
    if !drift.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            st.bold("Changes outside plinth (found by refresh):")
        );
        for d in &drift {
            match d.action {
                Action::Delete => {
                    let _ = writeln!(
                        out,
                        "  {} {} ({}) was deleted outside plinth",
                        st.action(Action::Delete, "-"),
                        d.address,
                        d.type_name
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "  {} {} ({}) was changed outside plinth",
                        st.action(Action::Update, "~"),
                        d.address,
                        d.type_name
                    );
                    for p in &d.changed_paths {
                        let before = d.before.as_ref().and_then(|b| b.get(p));
                        let after = d.after.as_ref().and_then(|b| b.get(p));
                        // A key added or removed outside plinth says so.
                        let _ = match (before, after) {
                            (None, Some(a)) => writeln!(
                                out,
                                "      {} {p} = {} (added)",
                                st.action(Action::Create, "+"),
                                show(&a, opts)
                            ),
                            (Some(b), None) => writeln!(
                                out,
                                "      {} {p} = {} (removed)",
                                st.action(Action::Delete, "-"),
                                show(&b, opts)
                            ),
                            (b, a) => {
                                let text = |v: Option<plinth_value::Value>| {
                                    v.map(|v| show(&v, opts)).unwrap_or_else(|| "null".into())
                                };
                                writeln!(out, "      ~ {p} = {} -> {}", text(b), text(a))
                            }
                        };
                    }
                }
            }
        }
        out.push('\n');
    }
    if !reconciled.is_empty() {
        let _ = writeln!(out, "{}", st.bold("Settled from an interrupted run:"));
        for d in &reconciled {
            let what = match d.action {
                Action::Delete => "never completed; it will be planned again if still configured",
                _ => "exists; adopted into state",
            };
            let _ = writeln!(out, "  {} {what}", d.address);
        }
        out.push('\n');
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "{} {w}\n", st.paint("33", "Warning:"));
    }

    let summary = plan.summary();
    let changing: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_change())
        .collect();
    let only_reads = changing.iter().all(|c| c.action == Action::Read);
    let outputs_changing: Vec<&OutputChange> = plan
        .outputs
        .iter()
        .filter(|o| o.action.is_change())
        .collect();

    if plan.mode == PlanMode::RefreshOnly {
        if drift.is_empty() {
            let _ = writeln!(out, "No changes. Everything in state matches what exists.");
        } else {
            let _ = writeln!(
                out,
                "Applying this refresh-only plan records the changes above in state; it changes nothing else."
            );
        }
        return out;
    }

    if summary.is_empty() && outputs_changing.is_empty() {
        let _ = writeln!(
            out,
            "No changes. The infrastructure matches the configuration."
        );
        if !changing.is_empty() && only_reads {
            let _ = writeln!(
                out,
                "({} data source{} read.)",
                changing.len(),
                if changing.len() == 1 { "" } else { "s" }
            );
        }
        return out;
    }

    let _ = writeln!(out, "plinth will perform these actions:");
    // Changes, and objects that only move to a new address (state is renamed, nothing
    // else changes), by module instance: the root module's first, without a heading.
    for group in by_module(&listed_changes(plan)) {
        if group.path.is_empty() {
            render_actions(&mut out, &group.changes, opts, &st);
            continue;
        }
        let _ = writeln!(
            out,
            "\n{}",
            st.bold(&format!(
                "{}: {}",
                module_text(&group.path),
                counts_text(&group.changes)
            ))
        );
        // The module's changes, indented under its heading (full addresses, so that each
        // line can be copied into --target or `plinth state`).
        let mut inner = String::new();
        render_actions(&mut inner, &group.changes, opts, &st);
        for line in inner.lines() {
            if !line.is_empty() {
                out.push_str("  ");
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    if !outputs_changing.is_empty() {
        let _ = writeln!(out, "\n{}", st.bold("Outputs:"));
        for o in outputs_changing {
            let sym = st.action(o.action, o.action.symbol());
            match o.action {
                Action::Delete => {
                    let _ = writeln!(out, "  {sym} {}", o.name);
                }
                _ => {
                    let after = o.after.as_ref().map(|v| show(v, opts)).unwrap_or_default();
                    match (&o.before, o.action) {
                        (Some(b), Action::Update) => {
                            let _ =
                                writeln!(out, "  {sym} {} = {} -> {after}", o.name, show(b, opts));
                        }
                        _ => {
                            let _ = writeln!(out, "  {sym} {} = {after}", o.name);
                        }
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "\n{}", st.bold(&summary.to_string()));
    out
}

/// The action groups of `changes` (a `Move` group last, for objects that only move), each
/// with its heading and one entry per change.
fn render_actions(out: &mut String, changes: &[&ResourceChange], opts: &TextOptions, st: &Style) {
    for a in GROUP_ORDER {
        let items: Vec<&&ResourceChange> = changes.iter().filter(|c| c.action == a).collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({}):", st.bold(group_title(a)), items.len());
        for c in items {
            render_change(out, c, opts, st);
        }
    }
    let moves_only: Vec<&&ResourceChange> = changes
        .iter()
        .filter(|c| !c.action.is_change() && c.moved_from.is_some())
        .collect();
    if !moves_only.is_empty() {
        let _ = writeln!(out, "\n{} ({}):", st.bold("Move"), moves_only.len());
        for c in moves_only {
            let _ = writeln!(out, "  {}", moved_line(c).unwrap_or_default());
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
    if let Some(line) = moved_line(c) {
        let _ = writeln!(out, "      {line}");
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
        Action::Forget => {
            if let Some(id) = &c.id {
                let _ = writeln!(
                    out,
                    "      # the object stays: id = {}",
                    Value::from(id.as_str())
                );
            }
        }
        Action::Run | Action::NoOp => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_plan::{PLAN_FORMAT, ResourceChange};

    fn change(
        action: Action,
        before: Option<serde_json::Value>,
        after: serde_json::Value,
        changed: &[&str],
    ) -> ResourceChange {
        ResourceChange {
            address: "x".into(),
            name: "x".into(),
            type_name: "core:data".into(),
            kind: DeclKind::Resource,
            action,
            replace_order: (action == Action::Replace).then_some(ReplaceOrder::DeleteThenCreate),
            id: None,
            before: before.map(Value::from),
            after: Some(Value::from(after.clone())),
            config: Some(Value::from(after)),
            changed_paths: changed.iter().map(|p| p.parse().unwrap()).collect(),
            attribute_paths: vec![],
            replace_paths: if action == Action::Replace {
                changed.iter().map(|p| p.parse().unwrap()).collect()
            } else {
                vec![]
            },
            reason: None,
            drift: false,
            depends_on: vec![],
            moved_from: None,
            importing: None,
        }
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format: PLAN_FORMAT.into(),
            mode: PlanMode::Normal,
            created_at: String::new(),
            lineage: String::new(),
            serial: 0,
            config_digest: String::new(),
            config_dir: String::new(),
            variables: Default::default(),
            changes,
            outputs: vec![],
            drift: vec![],
            warnings: vec![],
            targets: vec![],
            checks: vec![],
        }
    }

    #[test]
    fn groups_by_action_and_summarises() {
        let mut created = change(Action::Create, None, serde_json::json!({"input": "a"}), &[]);
        created
            .after
            .as_mut()
            .unwrap()
            .set(&"id".parse().unwrap(), Value::Unknown);
        let updated = change(
            Action::Update,
            Some(serde_json::json!({"input": "a"})),
            serde_json::json!({"input": "b"}),
            &["input"],
        );
        let replaced = change(
            Action::Replace,
            Some(serde_json::json!({"triggers": "1"})),
            serde_json::json!({"triggers": "2"}),
            &["triggers"],
        );
        let text = plan_text(
            &plan(vec![created, updated, replaced]),
            &TextOptions::default(),
        );
        assert!(text.contains("Create (1):"), "{text}");
        assert!(text.contains("id = (known after apply)"), "{text}");
        assert!(text.contains("~ input = \"a\" -> \"b\""), "{text}");
        assert!(text.contains("# forces replacement"), "{text}");
        assert!(
            text.contains("Plan: 1 to add, 1 to change, 1 to replace, 0 to destroy."),
            "{text}"
        );
    }

    #[test]
    fn a_move_alone_is_shown_with_terraforms_words_and_counted() {
        let mut moved = change(
            Action::NoOp,
            Some(serde_json::json!({})),
            serde_json::json!({}),
            &[],
        );
        moved.address = "x[0]".into();
        moved.moved_from = Some("x".into());
        let text = plan_text(&plan(vec![moved]), &TextOptions::default());
        assert_eq!(
            text,
            "plinth will perform these actions:\n\nMove (1):\n  # x has moved to x[0]\n\nPlan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 to move.\n"
        );
    }

    #[test]
    fn a_move_with_a_change_is_said_at_the_change() {
        let mut updated = change(
            Action::Update,
            Some(serde_json::json!({"input": "a"})),
            serde_json::json!({"input": "b"}),
            &["input"],
        );
        updated.address = "x".into();
        updated.moved_from = Some("x[0]".into());
        let text = plan_text(&plan(vec![updated]), &TextOptions::default());
        assert!(
            text.contains(
                "  ~ x [core:data]\n      # x[0] has moved to x\n      ~ input = \"a\" -> \"b\"\n"
            ),
            "{text}"
        );
        assert!(!text.contains("Move ("), "{text}");
        assert!(
            text.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy, 1 to move."),
            "{text}"
        );
    }

    #[test]
    fn hides_sensitive_values() {
        let mut c = change(Action::Create, None, serde_json::json!({}), &[]);
        c.after.as_mut().unwrap().set(
            &"input".parse().unwrap(),
            Value::sensitive(Value::from("hunter2")),
        );
        let text = plan_text(&plan(vec![c.clone()]), &TextOptions::default());
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("(sensitive)"));
        let shown = plan_text(
            &plan(vec![c]),
            &TextOptions {
                show_sensitive: true,
                color: false,
            },
        );
        assert!(shown.contains("hunter2"));
    }

    #[test]
    fn no_changes() {
        assert!(plan_text(&plan(vec![]), &TextOptions::default()).starts_with("No changes."));
    }
}
