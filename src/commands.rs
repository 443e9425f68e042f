//! What each command does.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use plinth_config::Diagnostics;
use plinth_engine::{Address, ApplyInput, ApplyOptions, EventSink, PlanInput, PlanOptions};
use plinth_plan::{Action, PLAN_FORMAT, Plan, PlanMode};
use plinth_provider::Registry;
use plinth_render::TextOptions;
use plinth_state::{Backend, Change, LockGuard, State, Status};
use plinth_value::Value;

use crate::progress::Progress;
use crate::workspace::{self, CliError, Loaded};
use crate::{
    Cli, Command, Common, FailOn, GraphFormat, PlanFlags, ShowFormat, SimCommand, StateCommand,
};

/// Exit code of an interrupted apply (SPEC §4).
const EXIT_INTERRUPTED: u8 = 130;

pub async fn run(cli: Cli) -> u8 {
    let common = match &cli.command {
        Command::Validate { common, .. }
        | Command::Plan { common, .. }
        | Command::Apply { common, .. }
        | Command::Destroy { common, .. }
        | Command::Show { common, .. }
        | Command::Output { common, .. }
        | Command::Graph { common, .. }
        | Command::Import { common, .. } => common.clone(),
        Command::State { command } => match command {
            StateCommand::List { common, .. }
            | StateCommand::Show { common, .. }
            | StateCommand::Rm { common, .. }
            | StateCommand::Mv { common, .. }
            | StateCommand::Pull { common, .. }
            | StateCommand::Push { common, .. }
            | StateCommand::Migrate { common, .. } => common.clone(),
        },
        Command::ForceUnlock { .. } | Command::Schema | Command::Sim { .. } => Common::default(),
    };
    let color = workspace::use_color(&common);
    match dispatch(cli.command, &common).await {
        Ok(code) => code,
        Err(e) => {
            e.report(common.json, color);
            1
        }
    }
}

async fn dispatch(command: Command, common: &Common) -> Result<u8, CliError> {
    match command {
        Command::Validate { dir, .. } => validate(&dir, common),
        Command::Plan {
            dir,
            out,
            detailed_exitcode,
            fail_on,
            flags,
            ..
        } => {
            plan_cmd(
                &dir,
                out.as_deref(),
                detailed_exitcode,
                &fail_on,
                &flags,
                common,
            )
            .await
        }
        Command::Apply {
            target,
            auto_approve,
            flags,
            ..
        } => {
            if target.is_file() {
                // A saved plan was reviewed when it was made: applying it is the approval.
                apply_saved(&target, &flags, common).await
            } else {
                apply_dir(&target, auto_approve, &flags, common).await
            }
        }
        Command::Destroy {
            dir,
            auto_approve,
            targets,
            parallelism,
            ..
        } => {
            let flags = PlanFlags {
                destroy: true,
                targets,
                parallelism,
                ..Default::default()
            };
            apply_dir(&dir, auto_approve, &flags, common).await
        }
        Command::Show {
            file,
            format,
            show_sensitive,
            fail_on,
            dir,
            ..
        } => show(
            file.as_deref(),
            format,
            show_sensitive,
            &fail_on,
            &dir,
            common,
        ),
        Command::Output {
            name,
            dir,
            show_sensitive,
            ..
        } => output(name.as_deref(), &dir, show_sensitive, common),
        Command::Graph { dir, format, .. } => graph(&dir, format),
        Command::Import {
            address, id, dir, ..
        } => import(&address, &id, &dir, common).await,
        Command::State { command } => state_cmd(command),
        Command::ForceUnlock { id, dir } => {
            let backend = workspace::backend_of_dir(&dir)?;
            backend.force_unlock(&id)?;
            outln!(
                "Lock {id} removed. plinth will not guard against a concurrent run that still believes it holds it."
            );
            Ok(0)
        }
        Command::Sim {
            command:
                SimCommand::Serve {
                    addr,
                    world,
                    latency,
                    faults,
                    seed,
                },
        } => sim_serve(addr, world, latency, faults, seed).await,
        Command::Sim {
            command:
                SimCommand::Kubeconfig {
                    address,
                    dir,
                    admin,
                    common,
                },
        } => sim_kubeconfig(address, &dir, admin, &common).await,
        Command::Schema => {
            let schema = crate::schema::json_schema(&workspace::registry());
            outln!(
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            Ok(0)
        }
    }
}

fn text_opts(common: &Common, show_sensitive: bool) -> TextOptions {
    TextOptions {
        color: !common.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal(),
        show_sensitive,
    }
}

fn validate(dir: &Path, common: &Common) -> Result<u8, CliError> {
    let loaded = workspace::load_unresolved(dir)?;
    let diags = plinth_engine::validate::validate(&loaded.config, &loaded.registry);
    if !diags.is_empty() {
        return Err(CliError::Config(loaded.config.sources, diags));
    }
    plinth_engine::graph::build(&loaded.config, &loaded.registry)
        .map_err(|d| CliError::Config(loaded.config.sources.clone(), d.into()))?;
    if common.json {
        outln!(
            "{}",
            serde_json::json!({"type": "valid", "resources": loaded.config.resources.len()})
        );
    } else {
        outln!("The configuration is valid.");
    }
    Ok(0)
}

fn parse_addrs(list: &[String], flag: &str) -> Result<Vec<Address>, CliError> {
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

fn load_state(backend: &dyn Backend, progress: &Progress) -> Result<Option<State>, CliError> {
    let loaded = backend.load()?;
    for w in loaded.warnings {
        progress.emit(plinth_engine::Event::Warning { message: w });
    }
    Ok(loaded.state)
}

async fn make_plan(
    loaded: &Loaded,
    state: Option<&State>,
    flags: &PlanFlags,
    progress: &Progress,
) -> Result<Plan, CliError> {
    if flags.destroy && flags.refresh_only {
        return Err(CliError::msg(
            "--destroy and --refresh-only cannot be used together",
        ));
    }
    let opts = PlanOptions {
        mode: if flags.destroy {
            PlanMode::Destroy
        } else if flags.refresh_only {
            PlanMode::RefreshOnly
        } else {
            PlanMode::Normal
        },
        targets: parse_addrs(&flags.targets, "--target")?,
        replace: parse_addrs(&flags.replace, "--replace")?,
        skip_refresh: false,
        parallelism: flags.parallelism as usize,
    };
    let input = PlanInput {
        config: &loaded.config,
        vars: &loaded.vars,
        env: &loaded.env,
        registry: &loaded.registry,
        state,
        config_dir: loaded.dir.display().to_string(),
        config_digest: loaded.digest(),
    };
    plinth_engine::plan(&input, &opts, progress)
        .await
        .map_err(|d: Diagnostics| CliError::Config(loaded.config.sources.clone(), d))
}

fn print_plan(plan: &Plan, common: &Common, show_sensitive: bool) {
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

/// Writes a file readable only by its owner.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
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

/// `--fail-on`: an error naming what the plan would delete or replace.
fn check_fail_on(plan: &Plan, fail_on: &[FailOn]) -> Result<(), CliError> {
    let hits: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.kind == plinth_plan::Kind::Managed)
        .filter(|c| match c.action {
            Action::Delete => fail_on.contains(&FailOn::Destroy),
            Action::Replace => {
                fail_on.contains(&FailOn::Destroy) || fail_on.contains(&FailOn::Replace)
            }
            _ => false,
        })
        .map(|c| format!("{} ({})", c.address, c.action))
        .collect();
    if hits.is_empty() {
        return Ok(());
    }
    let flag = if fail_on.contains(&FailOn::Destroy) {
        "destroy"
    } else {
        "replace"
    };
    Err(CliError::help(
        format!(
            "the plan would {}: {}",
            if flag == "destroy" {
                "destroy objects"
            } else {
                "replace objects"
            },
            hits.join(", ")
        ),
        format!(
            "--fail-on {flag} refuses such plans; review them and run without --fail-on to proceed"
        ),
    ))
}

async fn plan_cmd(
    dir: &Path,
    out: Option<&Path>,
    detailed: bool,
    fail_on: &[FailOn],
    flags: &PlanFlags,
    common: &Common,
) -> Result<u8, CliError> {
    let mut loaded = workspace::load(dir, common)?;
    workspace::attach_sim(&mut loaded, common).await?;
    let progress = Progress::new(common.json);
    let backend = workspace::backend(&loaded)?;
    // Plan writes nothing, but it holds the lock so that it never reads a state another run
    // is in the middle of changing (its pending records would look like a crash).
    let lock = backend.lock("plan", common.lock_timeout)?;
    let state = load_state(backend.as_ref(), &progress)?;
    let plan = make_plan(&loaded, state.as_ref(), flags, &progress).await?;
    drop(lock);
    print_plan(&plan, common, flags.show_sensitive);
    if let Some(path) = out {
        let bytes = serde_json::to_vec_pretty(&plan)
            .map_err(|e| CliError::msg(format!("cannot encode the plan: {e}")))?;
        write_private(path, &bytes)?;
        if !common.json {
            outln!(
                "\nSaved the plan to {}. Apply exactly this plan with: plinth apply {}",
                path.display(),
                path.display()
            );
        }
    }
    check_fail_on(&plan, fail_on)?;
    let code = if detailed && plan.has_changes() { 2 } else { 0 };
    // The process ends next: freeing a large plan change by change would take longer than
    // printing it.
    std::mem::forget(plan);
    Ok(code)
}

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

async fn apply_dir(
    dir: &Path,
    auto_approve: bool,
    flags: &PlanFlags,
    common: &Common,
) -> Result<u8, CliError> {
    let mut loaded = workspace::load(dir, common)?;
    workspace::attach_sim(&mut loaded, common).await?;
    let progress = Progress::new(common.json);
    let backend = workspace::backend(&loaded)?;
    let op = if flags.destroy { "destroy" } else { "apply" };
    let lock = backend.lock(op, common.lock_timeout)?;
    let state = load_state(backend.as_ref(), &progress)?;
    let plan = make_plan(&loaded, state.as_ref(), flags, &progress).await?;
    print_plan(&plan, common, flags.show_sensitive);
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

/// Reads a plan saved by `plan --out`, refusing other files and other format versions.
fn read_plan_file(file: &Path) -> Result<Plan, CliError> {
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

async fn apply_saved(file: &Path, flags: &PlanFlags, common: &Common) -> Result<u8, CliError> {
    let plan = read_plan_file(file)?;
    let vars = plan.variables.clone();
    let mut loaded = workspace::load_with(Path::new(&plan.config_dir), |_| Ok(vars))?;
    workspace::attach_sim(&mut loaded, common).await?;
    let stale = |why: String| {
        CliError::help(
            format!("the saved plan {} is stale: {why}", file.display()),
            "make a new plan (`plinth plan --out FILE`), review it, and apply that",
        )
    };
    if loaded.digest() != plan.config_digest {
        return Err(stale(format!(
            "the configuration in {} changed since the plan was made",
            plan.config_dir
        )));
    }
    let progress = Progress::new(common.json);
    let backend = workspace::backend(&loaded)?;
    let lock = backend.lock("apply", common.lock_timeout)?;
    let state = load_state(backend.as_ref(), &progress)?;
    match &state {
        Some(s) if plan.lineage.is_empty() => {
            return Err(stale(format!(
                "it was made when no state existed, but state now exists (serial {})",
                s.serial
            )));
        }
        Some(s) if s.lineage != plan.lineage => {
            return Err(stale(format!(
                "it was made against state lineage {}, but the state's lineage is {}",
                plan.lineage, s.lineage
            )));
        }
        Some(s) if s.serial != plan.serial => {
            return Err(stale(format!(
                "the state changed since the plan was made (serial {} then, {} now)",
                plan.serial, s.serial
            )));
        }
        None if !plan.lineage.is_empty() => {
            return Err(stale(
                "it was made against a state that no longer exists".into(),
            ));
        }
        _ => {}
    }
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
        config: &loaded.config,
        vars: &loaded.vars,
        env: &loaded.env,
        registry: &loaded.registry,
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
    let final_state = writer.state().clone();
    drop(writer);
    drop(lock);
    let report = result.map_err(|d| CliError::Config(loaded.config.sources.clone(), d))?;
    compacted?;
    if let Ok(path) = std::env::var("PLINTH_STATS_FILE") {
        // Used by the benchmark script: bytes written to state during this run.
        let _ = std::fs::write(
            path,
            serde_json::json!({"state_bytes_written": bytes}).to_string(),
        );
    }
    let summary = plan.summary();
    if common.json {
        let failures: Vec<_> = report
            .failures
            .iter()
            .map(|f| serde_json::json!({"address": f.address, "action": f.action, "message": f.message}))
            .collect();
        outln!(
            "{}",
            serde_json::json!({"type": "apply_complete", "ok": report.ok(), "succeeded": report.succeeded, "failures": failures,
                "skipped": report.skipped.len(), "interrupted": report.interrupts > 0, "abandoned": report.abandoned})
        );
    } else if report.interrupts > 0 {
        eprintln!(
            "\nInterrupted: {} operation{} finished, {} not started{}. State is saved; run the same command again to continue.",
            report.succeeded,
            if report.succeeded == 1 { "" } else { "s" },
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
                "\nDestroy complete! Resources: {} destroyed.",
                summary.destroy
            );
        } else {
            outln!(
                "\nApply complete! Resources: {} added, {} changed, {} replaced, {} destroyed.",
                summary.add,
                summary.change,
                summary.replace,
                summary.destroy
            );
        }
        print_outputs(&final_state, false, false, common);
    } else {
        eprintln!(
            "\nApply failed: {} operation{} failed:",
            report.failures.len(),
            if report.failures.len() == 1 { "" } else { "s" }
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
            "Everything else finished and is recorded in state. Fix the failures and run again."
        );
    }
    Ok(if report.interrupts > 0 {
        EXIT_INTERRUPTED
    } else if report.failures.is_empty() {
        0
    } else {
        1
    })
}

fn show_value(v: &serde_json::Value, sensitive: bool, reveal: bool) -> String {
    if sensitive && !reveal {
        return plinth_value::SENSITIVE_TEXT.to_string();
    }
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn print_outputs(state: &State, reveal: bool, only_if_any: bool, common: &Common) {
    if common.json || (only_if_any && state.outputs.is_empty()) || state.outputs.is_empty() {
        return;
    }
    outln!("\nOutputs:");
    for (name, o) in &state.outputs {
        outln!("  {name} = {}", show_value(&o.value, o.sensitive, reveal));
    }
}

fn output(name: Option<&str>, dir: &Path, reveal: bool, common: &Common) -> Result<u8, CliError> {
    let backend = workspace::backend_of_dir(dir)?;
    let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
    match name {
        Some(n) => {
            let Some(o) = state.outputs.get(n) else {
                let names: Vec<&str> = state.outputs.keys().map(String::as_str).collect();
                return Err(CliError::help(
                    format!("there is no output `{n}` in state"),
                    match plinth_config::did_you_mean(n, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if names.is_empty() => {
                            "state has no outputs yet: run `plinth apply`".into()
                        }
                        None => format!("outputs: {}", names.join(", ")),
                    },
                ));
            };
            if common.json {
                // A script reading one value must never receive a placeholder for it.
                if o.sensitive && !reveal {
                    return Err(CliError::help(
                        format!("output `{n}` is sensitive, so --json will not print it"),
                        format!(
                            "add --show-sensitive to print its value (`plinth output {n} --json --show-sensitive`), or use `plinth output --json`, which shows it as null with \"sensitive\": true"
                        ),
                    ));
                }
                outln!("{}", o.value);
            } else {
                outln!("{}", show_value(&o.value, o.sensitive, reveal));
            }
        }
        None => {
            if common.json {
                let m: serde_json::Map<String, serde_json::Value> = state
                    .outputs
                    .iter()
                    .map(|(k, o)| {
                        let v = if o.sensitive && !reveal {
                            serde_json::Value::Null
                        } else {
                            o.value.clone()
                        };
                        (
                            k.clone(),
                            serde_json::json!({"value": v, "sensitive": o.sensitive}),
                        )
                    })
                    .collect();
                outln!("{}", serde_json::Value::Object(m));
            } else {
                for (k, o) in &state.outputs {
                    outln!("{k} = {}", show_value(&o.value, o.sensitive, reveal));
                }
            }
        }
    }
    Ok(0)
}

fn show(
    file: Option<&Path>,
    format: ShowFormat,
    reveal: bool,
    fail_on: &[FailOn],
    dir: &Path,
    common: &Common,
) -> Result<u8, CliError> {
    match file {
        Some(f) => {
            let plan = read_plan_file(f)?;
            let pretty =
                |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
            match format {
                ShowFormat::Json => {
                    outln!("{}", pretty(plinth_render::json::plan_json(&plan, reveal)))
                }
                ShowFormat::TerraformJson => outln!(
                    "{}",
                    pretty(plinth_render::json::terraform_json(&plan, reveal))
                ),
                ShowFormat::Markdown => {
                    let opts = plinth_render::markdown::MarkdownOptions {
                        show_sensitive: reveal,
                        ..Default::default()
                    };
                    out!("{}", plinth_render::markdown::render(&plan, &opts))
                }
                ShowFormat::Text => out!(
                    "{}",
                    plinth_render::plan_text(&plan, &text_opts(common, reveal))
                ),
            }
            check_fail_on(&plan, fail_on)?;
        }
        None => {
            let backend = workspace::backend_of_dir(dir)?;
            let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
            let registry = workspace::registry();
            match format {
                ShowFormat::Markdown | ShowFormat::TerraformJson => {
                    return Err(CliError::help(
                        "--format markdown and terraform-json render plans, not state",
                        "make a plan with `plinth plan --out FILE`, then `plinth show FILE --format markdown`",
                    ));
                }
                ShowFormat::Json => {
                    let redacted: Vec<serde_json::Value> = state
                        .resources
                        .values()
                        .map(|r| record_json(&registry, r, reveal))
                        .collect();
                    outln!("{}", serde_json::to_string_pretty(&serde_json::json!({"lineage": state.lineage, "serial": state.serial, "resources": redacted})).unwrap_or_default());
                }
                ShowFormat::Text => {
                    if state.resources.is_empty() {
                        outln!("The state is empty.");
                    }
                    for r in state.resources.values() {
                        outln!("{}", record_text(&registry, r, reveal));
                    }
                    print_outputs(&state, reveal, true, common);
                }
            }
        }
    }
    Ok(0)
}

/// A record's inputs and attributes as `state show` prints them: marked as the engine marks
/// a prior object (through the provider's path mapping), then redacted unless revealed.
fn record_values(
    registry: &Registry,
    r: &plinth_state::ResourceState,
    reveal: bool,
) -> (Value, Value) {
    let prior = plinth_engine::marks::prior(registry, r);
    let show = |v: Value| {
        if reveal {
            v.unmark_all()
        } else {
            plinth_plan::redact(&v)
        }
    };
    (show(prior.inputs), show(prior.attributes))
}

fn record_json(
    registry: &Registry,
    r: &plinth_state::ResourceState,
    reveal: bool,
) -> serde_json::Value {
    let (inputs, attributes) = record_values(registry, r, reveal);
    let show = |v: &Value| serde_json::to_value(v).unwrap_or_default();
    serde_json::json!({
        "address": r.address, "type": r.type_name, "mode": r.mode, "id": r.id, "status": r.status,
        "inputs": show(&inputs), "attributes": show(&attributes), "dependencies": r.dependencies,
    })
}

fn record_text(registry: &Registry, r: &plinth_state::ResourceState, reveal: bool) -> String {
    let mut out = format!("# {} [{}]", r.address, r.type_name);
    if r.status != Status::Created {
        out.push_str(&format!(" ({})", status_text(r.status)));
    }
    out.push('\n');
    let (_, attrs) = record_values(registry, r, reveal);
    // The id is shown once: from the attributes when they carry it, else from the record.
    if let Some(id) = &r.id
        && attrs.get(&plinth_value::Path::root().key("id")).is_none()
    {
        out.push_str(&format!("    id = {}\n", Value::from(id.as_str())));
    }
    for p in attrs.leaf_paths() {
        if let Some(v) = attrs.get(&p)
            && !p.is_root()
        {
            out.push_str(&format!("    {p} = {v}\n"));
        }
    }
    out
}

fn graph(dir: &Path, format: GraphFormat) -> Result<u8, CliError> {
    let loaded = workspace::load_unresolved(dir)?;
    let g = plinth_engine::graph::build(&loaded.config, &loaded.registry)
        .map_err(|d| CliError::Config(loaded.config.sources.clone(), d.into()))?;
    let label =
        |d: &plinth_engine::graph::Decl| plinth_engine::graph::decl_address(&loaded.config, *d);
    match format {
        GraphFormat::Dot => out!("{}", g.dag.to_dot(label)),
        GraphFormat::Mermaid => out!("{}", g.dag.to_mermaid(label)),
    }
    Ok(0)
}

async fn import(address: &str, id: &str, dir: &Path, common: &Common) -> Result<u8, CliError> {
    let mut loaded = workspace::load(dir, common)?;
    workspace::attach_sim(&mut loaded, common).await?;
    let addr: Address = address
        .parse()
        .map_err(|e: String| CliError::help(e, "addresses look like rg or app[\"blue\"]"))?;
    if addr.kind != plinth_engine::AddrKind::Managed {
        return Err(CliError::msg(format!(
            "only resources can be imported; `{address}` is not a resource address"
        )));
    }
    let Some(decl) = loaded
        .config
        .resource(plinth_config::Mode::Managed, &addr.name)
    else {
        let names: Vec<&str> = loaded
            .config
            .resources
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        return Err(CliError::help(
            format!("`{}` is not declared in the configuration", addr.name),
            match plinth_config::did_you_mean(&addr.name, names.iter().copied()) {
                Some(s) => {
                    format!("did you mean `{s}`? Declare the resource first, then import it")
                }
                None => format!(
                    "declare it first as [resource.{}], then import it",
                    addr.name
                ),
            },
        ));
    };
    if decl.for_each.is_some() != addr.key.is_some() {
        return Err(CliError::msg(if decl.for_each.is_some() {
            format!(
                "`{}` uses for_each: import one instance, e.g. {}[\"KEY\"]",
                addr.name, addr.name
            )
        } else {
            format!(
                "`{}` has no for_each: import it as `{}`",
                addr.name, addr.name
            )
        }));
    }
    let (provider, t) = loaded
        .registry
        .lookup(&decl.type_name)
        .ok_or_else(|| CliError::msg(format!("unknown type {}", decl.type_name)))?;
    let backend = workspace::backend(&loaded)?;
    let _lock = backend.lock("import", common.lock_timeout)?;
    let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
    let key = addr.to_string();
    if state.resources.contains_key(&key) {
        return Err(CliError::help(
            format!("`{key}` is already in state"),
            "use `plinth state rm` first if you mean to adopt a different object",
        ));
    }
    // The object is looked up where the provider's settings point as state knows them
    // (e.g. the cluster a Kubernetes object lives in).
    let settings = plinth_engine::settings::SettingsTables::new(&loaded.config, &loaded.registry)
        .from_state(
            &loaded.config,
            &loaded.vars,
            &loaded.env,
            &loaded.registry,
            state.resources.values(),
        )
        .map_err(|d| CliError::Config(loaded.config.sources.clone(), d))?;
    let settings = plinth_engine::settings::settings_for(&settings, provider.name()).clone();
    if !settings.is_wholly_known() {
        return Err(CliError::help(
            format!(
                "`{key}` cannot be imported yet: its provider's settings name a resource that is not in state"
            ),
            format!("apply that resource first (plinth apply --target ...), then import `{key}`"),
        ));
    }
    let req = plinth_provider::Request::new(&t, &key, &plinth_provider::NullReporter)
        .with_settings(&settings);
    let (obs, inputs) = provider
        .import(&req, id)
        .await
        .map_err(|e| CliError::msg(format!("importing `{key}` failed: {e}")))?;
    // Marked as every object a provider reports: the schema's secrets, and each sensitive
    // input where the object reports it.
    let mut attrs = obs.attributes;
    plinth_engine::marks::mark_attributes(&loaded.registry, &decl.type_name, &inputs, &mut attrs);
    let sensitive_paths = plinth_engine::marks::recorded_paths(&inputs, &attrs);
    let (inputs, attributes) = (inputs.to_json(), attrs.to_json());
    let mut writer = backend.open_writer(state)?;
    writer.record(Change::Put(Box::new(plinth_state::ResourceState {
        address: key.clone(),
        type_name: decl.type_name.clone(),
        mode: plinth_state::Mode::Managed,
        id: obs.id.or(Some(id.to_string())),
        inputs,
        attributes,
        dependencies: vec![],
        sensitive_paths,
        status: Status::Created,
        deposed: false,
        // Where the object lives (a Kubernetes object's cluster), as for objects plinth creates.
        settings: (!provider.settings_references().is_empty()
            && !matches!(settings, plinth_value::Value::Null))
        .then(|| settings.to_json()),
    })))?;
    writer.compact()?;
    outln!(
        "Imported `{key}` ({id}). Run `plinth plan` to see how the configuration differs from it."
    );
    Ok(0)
}

fn state_cmd(command: StateCommand) -> Result<u8, CliError> {
    match command {
        StateCommand::Pull { dir, .. } => crate::backend::pull(&dir),
        StateCommand::Push {
            file,
            force,
            dir,
            common,
        } => crate::backend::push(&file, force, &dir, &common),
        StateCommand::Migrate { from, dir, common } => {
            crate::backend::migrate(&dir, from.as_deref(), &common)
        }
        StateCommand::List { dir, common } => {
            let backend = workspace::backend_of_dir(&dir)?;
            let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
            if common.json {
                let list: Vec<&str> = state.resources.keys().map(String::as_str).collect();
                outln!("{}", serde_json::json!(list));
            } else {
                for (a, r) in &state.resources {
                    match r.status {
                        Status::Created => outln!("{a}"),
                        s => outln!("{a} ({})", status_text(s)),
                    }
                }
            }
            Ok(0)
        }
        StateCommand::Show {
            address,
            dir,
            show_sensitive,
            common,
        } => {
            let backend = workspace::backend_of_dir(&dir)?;
            let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
            let registry = workspace::registry();
            let r = find_record(&state, &address)?;
            if common.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&record_json(&registry, r, show_sensitive))
                        .unwrap_or_default()
                );
            } else {
                out!("{}", record_text(&registry, r, show_sensitive));
            }
            Ok(0)
        }
        StateCommand::Rm {
            addresses,
            dir,
            common,
        } => {
            let backend = workspace::backend_of_dir(&dir)?;
            let _lock = backend.lock("state rm", common.lock_timeout)?;
            let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
            let mut remove = Vec::new();
            for a in &addresses {
                let prefix = format!("{a}[");
                let hits: Vec<String> = state
                    .resources
                    .keys()
                    .filter(|k| *k == a || k.starts_with(&prefix))
                    .cloned()
                    .collect();
                if hits.is_empty() {
                    find_record(&state, a)?;
                }
                remove.extend(hits);
            }
            let mut writer = backend.open_writer(state)?;
            for a in &remove {
                writer.record(Change::Remove { address: a.clone() })?;
                outln!("Removed {a} from state (the object itself was not touched).");
            }
            writer.compact()?;
            Ok(0)
        }
        StateCommand::Mv {
            from,
            to,
            dir,
            common,
        } => {
            let to_addr: Address = to.parse().map_err(|e: String| CliError::msg(e))?;
            let backend = workspace::backend_of_dir(&dir)?;
            let _lock = backend.lock("state mv", common.lock_timeout)?;
            let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
            let mut rec = find_record(&state, &from)?.clone();
            let to = to_addr.to_string();
            if state.resources.contains_key(&to) {
                return Err(CliError::help(
                    format!("`{to}` is already in state"),
                    "remove it first with `plinth state rm`, or choose another address",
                ));
            }
            rec.address = to.clone();
            let mut writer = backend.open_writer(state)?;
            writer.record(Change::Put(Box::new(rec)))?;
            writer.record(Change::Remove {
                address: from.clone(),
            })?;
            writer.compact()?;
            outln!("Moved {from} to {to}.");
            Ok(0)
        }
    }
}

fn find_record<'s>(
    state: &'s State,
    address: &str,
) -> Result<&'s plinth_state::ResourceState, CliError> {
    let normal = address
        .parse::<Address>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| address.to_string());
    state.resources.get(&normal).ok_or_else(|| {
        let keys: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        CliError::help(
            format!("`{address}` is not in state"),
            match plinth_config::did_you_mean(address, keys.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "`plinth state list` shows what is".into(),
            },
        )
    })
}

/// `plinth sim serve`: runs the simulated cloud until Ctrl-C, then saves its world.
/// `plinth sim kubeconfig`: the kubeconfig ARM hands out for a simulated cluster in state.
async fn sim_kubeconfig(
    address: Option<String>,
    dir: &Path,
    admin: bool,
    common: &Common,
) -> Result<u8, CliError> {
    let url = match common.sim.as_deref() {
        Some(u) if u != crate::IN_PROCESS => u.trim_end_matches('/').to_string(),
        _ => {
            return Err(CliError::help(
                "plinth sim kubeconfig needs a running simulator: --sim URL",
                "start one with `plinth sim serve` and pass the URL it prints; kubectl needs a server that keeps running",
            ));
        }
    };
    let address = match address {
        Some(a) => a,
        None => plinth_config::load_dir(dir)
            .ok()
            .and_then(|c| {
                let p = c.providers.iter().find(|p| p.name == "kubernetes")?;
                match &p.config.entry("cluster")?.kind {
                    plinth_config::NodeKind::Lit(plinth_value::Value::String(s)) => Some(s.clone()),
                    _ => None,
                }
            })
            .unwrap_or_else(|| "aks".to_string()),
    };
    let backend = workspace::backend_of_dir(dir)?;
    let state = crate::backend::load_warned(backend.as_ref())?.unwrap_or_default();
    let Some(id) = state.resources.get(&address).and_then(|r| r.id.clone()) else {
        return Err(CliError::help(
            format!("`{address}` is not in the state of {}", dir.display()),
            "apply the configuration first, or name the cluster's address: plinth sim kubeconfig ADDRESS --dir DIR --sim URL",
        ));
    };
    let azure = plinth_provider_azure::AzureProvider::new(
        plinth_provider_azure::AzureSettings::for_sim(&url),
    );
    match azure.cluster_kubeconfig(&id, admin).await {
        Ok(Some(yaml)) => {
            out!("{yaml}");
            Ok(0)
        }
        Ok(None) => Err(CliError::msg(format!(
            "the simulator at {url} has no cluster {id}"
        ))),
        Err(e) => Err(CliError::msg(format!(
            "fetching the kubeconfig of `{address}` failed: {e}"
        ))),
    }
}

async fn sim_serve(
    addr: std::net::SocketAddr,
    world: Option<std::path::PathBuf>,
    latency: plinth_sim::Latency,
    faults: f64,
    seed: u64,
) -> Result<u8, CliError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        CliError::help(
            format!("cannot listen on {addr}: {e}"),
            "choose another --addr, or port 0 for a free one",
        )
    })?;
    let config = plinth_sim::SimConfig {
        latency,
        faults,
        seed,
        world_file: world.clone(),
    };
    let sim = plinth_sim::start(listener, config)
        .await
        .map_err(|e| CliError::msg(format!("cannot start the simulator: {e}")))?;
    // Listen for Ctrl-C and SIGTERM *before* announcing readiness: a signal sent right after
    // the URL appears must not be missed (a listener only sees signals that arrive after it
    // exists).
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| CliError::msg(format!("cannot listen for Ctrl-C: {e}")))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| CliError::msg(format!("cannot listen for SIGTERM: {e}")))?;
    // The first line is the URL, so scripts and tests can wait for it (explicit readiness).
    outln!("{}", sim.url);
    eprintln!(
        "plinth sim: serving ARM, Entra and AKS Kubernetes APIs at {} (latency {latency:?}, faults {faults}){}. Ctrl-C stops.",
        sim.url,
        world
            .as_ref()
            .map(|w| format!(", world in {}", w.display()))
            .unwrap_or_default()
    );
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    sim.shutdown()
        .await
        .map_err(|e| CliError::msg(format!("saving the simulator's world failed: {e}")))?;
    Ok(0)
}

/// A record's status as state files spell it (`pending_create`).
fn status_text(s: Status) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
