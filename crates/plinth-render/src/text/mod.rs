//! The text rendering: what a terminal shows. Sensitive values are shown as
//! `(sensitive)` and unknown ones as `(known after apply)` unless asked otherwise.
//!
//! Changes are grouped by action; in a plan with modules, first by module instance: the
//! root module's changes, then each instance's under a heading with its counts
//! (`module.app["orders"]: 3 to add, 1 to change`), indented, with full addresses. Changes
//! to state alone are said in Terraform's words: `# rg will be imported` (an `Import` group
//! for objects imported as they are), `# legacy_queue will no longer be managed by plinth`
//! (`Forget`), `# mi has moved to identity` (`Move`, or on the change that also moves).
//! Drift in attributes the configuration does not set has its own section ("Changed outside
//! plinth, not managed here": informational, never planned back). A plan that destroys,
//! replaces or forgets objects says so before the summary line, with how many objects are
//! destroyed. The results of the configuration's checks follow the summary line
//! ([`checks_text`]), then what reviews of the plan found ([`findings_text`]).
//!
//! Parts: `changes` (the groups and their entries), `values` (attribute lines: annotations,
//! documents and their diffs), `caution`, `checks`, `findings`.

use std::fmt::Write;

use plinth_plan::{Action, Drift, OutputChange, Plan, PlanMode, ResourceChange};
use plinth_value::Value;

use crate::address::module_text;
use crate::grouping::{by_module, counts_text, listed_changes};
use crate::review::{is_managed_drift, plain_reason, unmanaged_drift};

mod caution;
mod changes;
mod checks;
mod findings;
mod values;

pub use checks::{applied_checks_text, checks_text};
pub use findings::findings_text;

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
/// line, the results of the configuration's checks (see [`checks_text`]) and the findings
/// of reviews of the plan (see [`findings_text`]).
pub fn plan_text(plan: &Plan, opts: &TextOptions) -> String {
    let mut out = plan_body(plan, opts);
    for block in [checks_text(&plan.checks, opts), findings_text(plan, opts)] {
        if !block.is_empty() {
            out.push('\n');
            out.push_str(&block);
        }
    }
    out
}

/// The section of drift in attributes the configuration does not set: per object, each
/// path with the value recorded in state and the value found. Empty when there is none.
fn unmanaged_section(plan: &Plan, opts: &TextOptions, st: &Style) -> String {
    let drift = unmanaged_drift(plan);
    let mut out = String::new();
    if drift.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        st.bold("Changed outside plinth, not managed here (informational):")
    );
    for d in &drift {
        let _ = writeln!(
            out,
            "  {} {} ({})",
            st.action(Action::Update, "~"),
            d.address,
            d.type_name
        );
        for p in &d.unmanaged_paths {
            let before = d.before.as_ref().and_then(|b| b.get(p));
            let after = d.after.as_ref().and_then(|b| b.get(p));
            let text = |v: Option<Value>| v.map_or_else(|| "(none)".into(), |v| show(&v, opts));
            let _ = writeln!(out, "      ~ {p} = {} -> {}", text(before), text(after));
        }
    }
    let _ = writeln!(
        out,
        "  The configuration does not set these, so this plan leaves them as found. To have plinth\n  enforce one, name it in the resource's lifecycle.manage (e.g. manage = [\"{}\"]).",
        drift[0].unmanaged_paths[0]
    );
    out.push('\n');
    out
}

/// Everything but the checks.
fn plan_body(plan: &Plan, opts: &TextOptions) -> String {
    let st = Style { color: opts.color };
    let mut out = String::new();
    let drift: Vec<&Drift> = plan
        .drift
        .iter()
        .filter(|d| !d.reconciled && is_managed_drift(d))
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
    out.push_str(&unmanaged_section(plan, opts, &st));
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
        let _ = writeln!(out, "{} {}\n", st.paint("33", "Warning:"), plain_reason(w));
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
    // Changes, and objects whose only change is to state (imported as they are, moved to
    // a new address), by module instance: the root module's first, without a heading.
    for group in by_module(&listed_changes(plan)) {
        if group.path.is_empty() {
            changes::render_groups(&mut out, plan, &group.changes, opts, &st);
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
        changes::render_groups(&mut inner, plan, &group.changes, opts, &st);
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
    out.push('\n');
    out.push_str(&caution::caution_text(plan, &st));
    let _ = writeln!(out, "{}", st.bold(&summary.to_string()));
    out
}

#[cfg(test)]
mod tests;
