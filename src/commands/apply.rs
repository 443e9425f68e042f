//! `plinth apply` (of a directory, or of a saved plan after checking it is still fresh) and
//! `plinth destroy`: confirmation, Ctrl-C, the engine's apply, compaction and the summary.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use plinth_engine::{ApplyInput, ApplyOptions};
use plinth_plan::{Action, Plan, PlanMode};
use plinth_state::{Backend, LockGuard, State};

use super::plan::make_plan;
use super::shared::{
    check_fail_on, load_state, print_outputs, print_plan, read_plan_file, text_opts,
};
use crate::backend;
use crate::error::CliError;
use crate::progress::Progress;
use crate::workspace::{self, Loaded};
use crate::{Common, FailOn, PlanFlags};

/// Exit code of an interrupted apply (SPEC §4).
const EXIT_INTERRUPTED: u8 = 130;

fn confirm(auto_approve: bool, what: &str) -> Result<bool, CliError> {
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::help(
            format!("{what} needs confirmation, but input is not a terminal"),
            "pass --auto-approve to proceed without asking (e.g. in CI), or apply a reviewed plan file",
        ));
    }
    eprint!("\nDo you want to {what}? Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::msg(format!("cannot read the answer: {e}")))?;
    Ok(line.trim() == "yes")
}

pub(super) async fn apply_dir(
    dir: &Path,
    auto_approve: bool,
    flags: &PlanFlags,
    common: &Common,
) -> Result<u8, CliError> {
    let mut loaded = workspace::load(dir, common)?;
    workspace::attach_sim(&mut loaded, common).await?;
    let progress = Progress::new(common.json).colored(workspace::use_color(common));
    let backend = backend::of(&loaded)?;
    let op = if flags.destroy { "destroy" } else { "apply" };
    let lock = backend.lock(op, common.lock_timeout)?;
    let state = load_state(backend.as_ref(), &progress)?;
    let plan = make_plan(&loaded, state.as_ref(), flags, &progress).await?;
    print_plan(&plan, common, flags.show_sensitive);
    // A policy's denial stops apply (plan only reports it, unless --fail-on policy).
    check_fail_on(&plan, &[FailOn::Policy], None)?;
    if plan.changes.iter().all(|c| c.action == Action::NoOp)
        && !plan.drift.iter().any(|d| d.is_reportable())
        && !plan.has_changes()
    {
        return Ok(0);
    }
    let what = if flags.destroy {
        "destroy these objects"
    } else {
        "perform these actions"
    };
    if plan.has_changes() && !confirm(auto_approve, what)? {
        eprintln!("Apply cancelled.");
        return Ok(1);
    }
    let code = execute(
        &loaded,
        &plan,
        backend.as_ref(),
        lock,
        state,
        flags.parallelism,
        common,
        &progress,
    )
    .await;
    drop_apart(plan);
    drop_apart(loaded);
    code
}

pub(super) async fn apply_saved(
    file: &Path,
    flags: &PlanFlags,
    common: &Common,
) -> Result<u8, CliError> {
    let plan = read_plan_file(file)?;
    super::env::check_planned(file)?;
    if flags.policy.is_some() {
        return Err(CliError::help(
            "--policy evaluates policies while planning; a saved plan is not planned again",
            format!(
                "pass --policy to `plinth plan --out {}`: the saved plan carries the findings, and apply refuses one a policy denies",
                file.display()
            ),
        ));
    }
    check_fail_on(&plan, &[FailOn::Policy], None)?;
    let vars = plan.variables.clone();
    let mut loaded = workspace::load_with(Path::new(&plan.config_dir), |_| Ok(vars))?;
    workspace::attach_sim(&mut loaded, common).await?;
    let stale = |why: String| {
        CliError::help(
            format!("the saved plan {} is stale: {why}", file.display()),
            "make a new plan (`plinth plan --out FILE`), review it, and apply that",
        )
    };
    plinth_engine::check_config(&plan, &loaded.digest()).map_err(|why| stale(why.to_string()))?;
    let progress = Progress::new(common.json).colored(workspace::use_color(common));
    let backend = backend::of(&loaded)?;
    let lock = backend.lock("apply", common.lock_timeout)?;
    let state = load_state(backend.as_ref(), &progress)?;
    plinth_engine::check_state(&plan, state.as_ref()).map_err(|why| stale(why.to_string()))?;
    if !common.json {
        out!(
            "{}",
            plinth_render::plan_text(&plan, &text_opts(common, flags.show_sensitive))
        );
    }
    execute(
        &loaded,
        &plan,
        backend.as_ref(),
        lock,
        state,
        flags.parallelism,
        common,
        &progress,
    )
    .await
}

/// Frees `value` on a thread of its own: a large state or plan takes a second or more to
/// free, time the command's result need not wait for (the process may exit first, and then
/// the system reclaims the memory at once).
fn drop_apart<T: Send + 'static>(value: T) {
    // When no thread can be started, the value is dropped here, with the closure.
    let _ = std::thread::Builder::new()
        .name("plinth-free".into())
        .spawn(move || drop(value));
}

/// `1 operation`, `3 operations`.
fn operations(n: usize) -> String {
    format!("{n} operation{}", if n == 1 { "" } else { "s" })
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    loaded: &Loaded,
    plan: &Plan,
    backend: &dyn Backend,
    lock: Box<dyn LockGuard>,
    state: Option<State>,
    parallelism: u32,
    common: &Common,
    progress: &Progress,
) -> Result<u8, CliError> {
    let mut writer = backend.open_writer(state.unwrap_or_default())?;
    let (tx, rx) = tokio::sync::watch::channel(0u32);
    let signals = tokio::spawn(async move {
        let mut n = 0;
        while tokio::signal::ctrl_c().await.is_ok() {
            n += 1;
            if tx.send(n).is_err() {
                break;
            }
        }
    });
    let ops = plan.changes.iter().filter(|c| c.action.is_change()).count() as u64;
    progress.start(ops);
    let input = ApplyInput {
        workspace: loaded.workspace(),
        plan,
    };
    let opts = ApplyOptions {
        parallelism: parallelism as usize,
    };
    let result = plinth_engine::apply(&input, &opts, writer.as_mut(), progress, rx).await;
    progress.finish();
    signals.abort();
    // Compact whatever happened, even after a failure: the journal already holds it.
    let compacted = writer.compact();
    let bytes = writer.bytes_written();
    // Only the outputs are printed: a copy of the whole state (100,000 records) cost a
    // second, and freeing it another.
    let final_state = State {
        outputs: writer.state().outputs.clone(),
        ..State::default()
    };
    // The lock is released once the writer is done with the files; freeing the state's
    // memory is left to a thread of its own (the process exits soon after).
    drop_apart(writer);
    drop(lock);
    let report = result.map_err(|e| CliError::engine(&loaded.config.sources, e))?;
    compacted?;
    if let Ok(path) = std::env::var("PLINTH_STATS_FILE") {
        // Used by the benchmark script: bytes written to state during this run.
        let _ = std::fs::write(
            path,
            serde_json::json!({"state_bytes_written": bytes}).to_string(),
        );
    }
    let summary = plan.summary();
    // What ran, counted from the operations that finished (not from the plan).
    let counts = progress.counts();
    if common.json {
        let failures: Vec<_> = report
            .failures
            .iter()
            .map(|f| serde_json::json!({"address": f.address, "action": f.action, "message": f.message}))
            .collect();
        let checks: Vec<_> = report
            .checks
            .iter()
            .map(|c| serde_json::json!({"address": c.address, "status": c.status.as_str(), "messages": c.messages}))
            .collect();
        outln!(
            "{}",
            serde_json::json!({"type": "apply_complete", "ok": report.ok(), "succeeded": report.succeeded, "failures": failures,
                "skipped": report.skipped.len(), "interrupted": report.interrupts > 0, "abandoned": report.abandoned,
                "resources": counts.to_json(), "checks": checks})
        );
    } else if report.interrupts > 0 {
        eprintln!(
            "\nInterrupted: {} finished ({}), {} not started{}. State is saved; run the same command again to continue.",
            operations(report.succeeded),
            counts.resources_line(&summary).trim_end_matches('.'),
            report.skipped.len(),
            if report.abandoned.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} abandoned while running ({})",
                    report.abandoned.len(),
                    report.abandoned.join(", ")
                )
            }
        );
    } else if report.failures.is_empty() {
        if plan.mode == PlanMode::Destroy {
            outln!(
                "\nDestroy complete! Resources: {} destroyed.{}",
                counts.destroyed,
                counts.actions_sentence()
            );
        } else {
            outln!("\nApply complete! {}", counts.resources_line(&summary));
        }
        print_outputs(&final_state, false, false, common);
    } else {
        eprintln!(
            "\nApply failed: {} failed, {} succeeded{}:",
            operations(report.failures.len()),
            report.succeeded,
            if report.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} skipped", report.skipped.len())
            }
        );
        for f in &report.failures {
            eprintln!("  - {} ({}): {}", f.address, f.action, f.message);
        }
        if !report.skipped.is_empty() {
            eprintln!(
                "{} dependent operation{} skipped:",
                report.skipped.len(),
                if report.skipped.len() == 1 {
                    " was"
                } else {
                    "s were"
                }
            );
            for (a, why) in &report.skipped {
                eprintln!("  - {a} ({why})");
            }
        }
        eprintln!(
            "What succeeded is recorded in state ({}). Fix the failures and run again.",
            counts.resources_line(&summary).trim_end_matches('.')
        );
    }
    // Checks warn after the summary, whatever else happened; they never change the exit code.
    if !common.json && !report.checks.is_empty() {
        let opts = plinth_render::text::TextOptions {
            color: crate::workspace::use_color(common),
            show_sensitive: false,
        };
        let text = plinth_render::text::applied_checks_text(&report.checks, &opts);
        outln!("\n{}", text.trim_end());
    }
    Ok(if report.interrupts > 0 {
        EXIT_INTERRUPTED
    } else if report.failures.is_empty() {
        0
    } else {
        1
    })
}
