//! What several commands share: reading state with its load warnings shown, reading a saved
//! plan file, printing a plan and outputs, `--fail-on`, address flags, and private files.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use plinth_engine::{Address, EventSink};
use plinth_plan::{Action, FindingSource, PLAN_FORMAT, Plan, Severity};
use plinth_render::TextOptions;
use plinth_state::{Backend, State, Status};

use crate::error::CliError;
use crate::progress::Progress;
use crate::{Common, FailOn};

/// Loads the state for a `state` subcommand, printing the load's warnings (a dropped torn
/// record, skipped records, loose file modes) on stderr as `plan` does, so that stdout stays
/// what the command prints (JSON with `--json`).
pub(super) fn load_warned(backend: &dyn Backend) -> Result<Option<State>, CliError> {
    let loaded = backend.load()?;
    for w in &loaded.warnings {
        eprintln!("Warning: {w}");
    }
    Ok(loaded.state)
}

/// Loads the state for a command that reports through [`Progress`] (plan, apply): the load
/// warnings become warning events.
pub(super) fn load_state(
    backend: &dyn Backend,
    progress: &Progress,
) -> Result<Option<State>, CliError> {
    let loaded = backend.load()?;
    for w in loaded.warnings {
        progress.emit(plinth_engine::Event::Warning { message: w });
    }
    Ok(loaded.state)
}

/// Reads a plan saved by `plan --out`, refusing other files and other format versions.
pub(super) fn read_plan_file(file: &Path) -> Result<Plan, CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::msg(format!("cannot read the plan file {}: {e}", file.display())))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        CliError::help(
            format!("{} is not a plinth plan file: {e}", file.display()),
            "make one with `plinth plan --out FILE`",
        )
    })?;
    if plan.format != PLAN_FORMAT {
        return Err(CliError::help(
            format!(
                "{} has format `{}`; this plinth reads `{PLAN_FORMAT}`",
                file.display(),
                plan.format
            ),
            "make a new plan with this version of plinth",
        ));
    }
    Ok(plan)
}

pub(super) fn text_opts(common: &Common, show_sensitive: bool) -> TextOptions {
    TextOptions {
        color: !common.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal(),
        show_sensitive,
    }
}

pub(super) fn print_plan(plan: &Plan, common: &Common, show_sensitive: bool) {
    if common.json {
        // One line among the JSON events, holding the versioned plan JSON.
        let doc = serde_json::json!({"type": "plan", "plan": plinth_render::json::plan_json(plan, show_sensitive)});
        outln!("{doc}");
    } else {
        out!(
            "{}",
            plinth_render::plan_text(plan, &text_opts(common, show_sensitive))
        );
    }
}

pub(super) fn show_value(v: &serde_json::Value, sensitive: bool, reveal: bool) -> String {
    if sensitive && !reveal {
        return plinth_value::SENSITIVE_TEXT.to_string();
    }
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

pub(super) fn print_outputs(state: &State, reveal: bool, only_if_any: bool, common: &Common) {
    if common.json || (only_if_any && state.outputs.is_empty()) || state.outputs.is_empty() {
        return;
    }
    outln!("\nOutputs:");
    for (name, o) in &state.outputs {
        outln!("  {name} = {}", show_value(&o.value, o.sensitive, reveal));
    }
}

/// `--fail-on`: refuses the plan (after it was shown) when `--fail-on` names something it has: deletes
/// (`destroy`, the old object of a replacement included), replacements (`replace`), a
/// policy's denials (`policy`) or identity-chain findings (`identity-chain`). The error names
/// every hit and how to proceed; with `not_saved` (plan's `--out FILE`), it also says that
/// the plan was not saved, since a refused plan is never written for apply to take.
pub(super) fn check_fail_on(
    plan: &Plan,
    fail_on: &[FailOn],
    not_saved: Option<&Path>,
) -> Result<(), CliError> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let has = |f: FailOn| fail_on.contains(&f);
    let hits: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.kind == plinth_plan::DeclKind::Resource)
        .filter(|c| match c.action {
            Action::Delete => has(FailOn::Destroy),
            Action::Replace => has(FailOn::Destroy) || has(FailOn::Replace),
            _ => false,
        })
        .map(|c| format!("{} ({})", c.address, c.action))
        .collect();
    if !hits.is_empty() {
        let (flag, what) = if has(FailOn::Destroy) {
            ("destroy", "destroy objects")
        } else {
            ("replace", "replace objects")
        };
        problems.push((
            format!("the plan would {what}: {}", hits.join(", ")),
            format!("--fail-on {flag} refuses such plans; review them and run without --fail-on {flag} to proceed"),
        ));
    }
    let finding_list = |source: FindingSource, deny_only: bool| -> Vec<String> {
        plan.findings
            .iter()
            .filter(|f| f.source == source && (!deny_only || f.severity == Severity::Deny))
            .map(|f| match &f.address {
                Some(a) => format!("{a}: {} [{}]", f.message, f.rule),
                None => format!("{} [{}]", f.message, f.rule),
            })
            .collect()
    };
    if has(FailOn::Policy) {
        let denied = finding_list(FindingSource::Policy, true);
        if !denied.is_empty() {
            problems.push((
                format!(
                    "the plan is denied by policy ({}):\n  - {}",
                    count(denied.len(), "finding", "findings"),
                    denied.join("\n  - ")
                ),
                "fix the configuration as each message says (or the policy, if it is wrong) and plan again; --fail-on policy refuses plans a policy denies".into(),
            ));
        }
    }
    if has(FailOn::IdentityChain) {
        let broken = finding_list(FindingSource::IdentityChain, false);
        if !broken.is_empty() {
            problems.push((
                format!(
                    "the identity chain is broken ({}):\n  - {}",
                    count(broken.len(), "finding", "findings"),
                    broken.join("\n  - ")
                ),
                "fix each link as the plan's findings say and plan again; --fail-on identity-chain refuses plans whose workload identity would not work".into(),
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let (mut messages, helps): (Vec<String>, Vec<String>) = problems.into_iter().unzip();
    if let Some(path) = not_saved {
        messages.push(format!(
            "the plan was not saved to {}: --fail-on refused it, so there is nothing for apply to take",
            path.display()
        ));
    }
    Err(CliError::help(messages.join("\n"), helps.join("; ")))
}

/// `1 finding`, `3 findings`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(super) fn parse_addrs(list: &[String], flag: &str) -> Result<Vec<Address>, CliError> {
    list.iter()
        .map(|s| {
            s.parse::<Address>().map_err(|e| {
                CliError::help(
                    format!("{flag}: {e}"),
                    "addresses look like rg, app[\"blue\"] or data.sub",
                )
            })
        })
        .collect()
}

/// Writes a file readable only by its owner.
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    write().map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))
}

/// A record's status as state files spell it (`pending_create`).
pub(super) fn status_text(s: Status) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
