//! Running one test file: its own simulated cloud (in-process, or the `--sim URL` given) and
//! its own state (in memory), its runs in order — variables, plan, apply, the cloud settled,
//! a plan again for the run's data and the checks, assertions, expected failures — then
//! everything it made destroyed.

use std::time::Instant;

use plinth_config::{Config, Diagnostic, Sources, TestCommand, TestFile, TestRun};
use plinth_engine::{
    ApplyInput, ApplyOptions, Assertions, NoEvents, Outcome, PlanInput, RunValues,
};
use plinth_plan::{Plan, PlanMode};
use plinth_state::{Backend, MemoryBackend, State};
use plinth_value::{Map, Value};

use super::expect::{Failed, judge};
use super::report::{FileResult, RunResult, Status};
use super::vars::run_vars;
use crate::Common;
use crate::error::CliError;
use crate::workspace::Loaded;

/// What every file's runs share: the loaded configuration and the sources (the
/// configuration's files, then the test files) diagnostics are rendered with.
pub(super) struct Suite<'a> {
    pub loaded: Loaded,
    pub sources: &'a Sources,
    pub common: &'a Common,
    /// `--var-file`s and `--var`s, under every run's own values.
    pub base_vars: &'a (Vec<std::path::PathBuf>, Vec<String>),
}

/// Runs one file against a fresh simulated cloud and state; its result.
pub(super) async fn run_file(
    suite: &mut Suite<'_>,
    file: &TestFile,
) -> Result<FileResult, CliError> {
    let started = Instant::now();
    let sim = super::sim::Cloud::start(suite.common).await?;
    super::sim::attach(&mut suite.loaded, &sim, suite.common).await?;
    let backend = MemoryBackend::new();
    let mut results = Vec::new();
    let mut runs = Map::new();
    let mut failed = false;
    for run in &file.runs {
        if failed {
            let r = RunResult::skipped(&run.name);
            super::report::print_run(&r);
            results.push(r);
            continue;
        }
        let t = Instant::now();
        let (status, reasons, warnings, outputs) =
            match one_run(suite, file, run, &backend, &runs, &sim).await {
                Ok(done) => done,
                Err(reasons) => (Status::Fail, reasons, Vec::new(), None),
            };
        if let Some(outputs) = outputs {
            let mut o = Map::new();
            o.insert("output".into(), Value::Map(outputs));
            runs.insert(run.name.clone(), Value::Map(o));
        }
        failed |= status == Status::Fail;
        let r = RunResult {
            name: run.name.clone(),
            status,
            reasons,
            warnings,
            seconds: t.elapsed().as_secs_f64(),
        };
        super::report::print_run(&r);
        results.push(r);
    }
    let cleanup = cleanup(suite, &backend).await;
    sim.stop().await;
    Ok(FileResult {
        name: file.name.clone(),
        runs: results,
        cleanup,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `(status, failure reasons, warnings, the run's outputs)`; `Err` when the run could not get
/// as far as judging (its variables did not evaluate, its plan failed unexpectedly, ...).
type Done = (Status, Vec<String>, Vec<String>, Option<Map>);

async fn one_run(
    suite: &mut Suite<'_>,
    file: &TestFile,
    run: &TestRun,
    backend: &MemoryBackend,
    runs: &Map,
    sim: &super::sim::Cloud,
) -> Result<Done, Vec<String>> {
    let sources = suite.sources;
    let line = |d: &Diagnostic| d.one_line(sources);
    let state = backend.load().map_err(|e| vec![e.to_string()])?.state;
    let vars = run_vars(
        &suite.loaded,
        state.as_ref(),
        file,
        run,
        runs,
        suite.base_vars,
        sources,
    )
    .map_err(|e| vec![e])?;
    suite.loaded.vars = vars;
    crate::workspace::configure_providers(&mut suite.loaded)
        .map_err(|e| vec![describe(&e, sources)])?;
    if !run.drift.is_empty() {
        for d in &run.drift {
            let id = state
                .as_ref()
                .and_then(|s| s.resources.get(&d.address))
                .and_then(|r| r.id.clone())
                .ok_or_else(|| {
                    vec![format!(
                        "{}: `{}` is not in the state: an earlier run of the file must create it",
                        sources.describe(&d.loc),
                        d.address
                    )]
                })?;
            sim.drift(&id, &d.change).await.map_err(|e| vec![e])?;
        }
        sim.settle().await.map_err(|e| vec![e])?;
    }
    let loaded = &suite.loaded;
    let with_data = extended(&loaded.config, run, sources);
    // A plan run reads its data with the plan itself; an apply run after the cloud settled.
    let plan_config = match run.command {
        TestCommand::Plan => with_data.as_ref().unwrap_or(&loaded.config),
        TestCommand::Apply => &loaded.config,
    };
    let mut failed = Failed::new(sources);
    let plan = match make_plan(loaded, plan_config, state.as_ref(), PlanMode::Normal).await {
        Ok(p) => p,
        Err(diags) => {
            failed.diagnostics(&diags);
            return Ok(judge(run, failed, Vec::new(), None));
        }
    };
    let (after, read) = match run.command {
        TestCommand::Plan => (state, Some(plan.clone())),
        TestCommand::Apply => {
            let report = apply(loaded, &plan, backend)
                .await
                .map_err(|e| vec![describe(&e, sources)])?;
            failed.apply(&report.failures);
            let after = backend.load().map_err(|e| vec![e.to_string()])?.state;
            sim.settle().await.map_err(|e| vec![e])?;
            if !failed.is_empty() {
                return Ok(judge(run, failed, Vec::new(), None));
            }
            // The cloud settled: plan again to read the run's data and evaluate the checks
            // as they stand now (KEDA scaled, Jobs ran).
            let mut settled = None;
            if with_data.is_some() || has_checks(&loaded.config) {
                let config = with_data.as_ref().unwrap_or(&loaded.config);
                match make_plan(loaded, config, after.as_ref(), PlanMode::Normal).await {
                    Ok(p) => settled = Some(p),
                    Err(diags) => {
                        failed.diagnostics(&diags);
                        return Ok(judge(run, failed, Vec::new(), None));
                    }
                }
            }
            (after, settled)
        }
    };
    failed.checks(&read.as_ref().unwrap_or(&plan).checks);
    let outputs = match run.command {
        TestCommand::Plan => planned_outputs(&plan),
        TestCommand::Apply => state_outputs(after.as_ref()),
    };
    let values = RunValues {
        outputs: outputs.clone(),
        runs: runs.clone(),
        plan: Some(plinth_engine::plan_value(&plan)),
        overrides: overrides(read.as_ref(), run.command == TestCommand::Plan),
    };
    let workspace = plinth_engine::Workspace {
        config: with_data.as_ref().unwrap_or(&loaded.config),
        ..loaded.workspace()
    };
    let assertions = Assertions::new(workspace, after.as_ref(), values)
        .map_err(|d| d.0.iter().map(line).collect::<Vec<_>>())?;
    let mut failures = Vec::new();
    for a in &run.asserts {
        match assertions.check(a) {
            Outcome::Pass => {}
            Outcome::Fail(message) => failures.push(format!(
                "{}: assertion failed: {message}",
                sources.describe(&a.condition.loc)
            )),
            Outcome::Error(d) => failures.push(line(&d)),
        }
    }
    Ok(judge(run, failed, failures, Some(outputs)))
}

/// The configuration with the run's `[run.data.NAME]` sources added (`None` without any),
/// its sources the suite's, so that diagnostics about them are located in the test file.
fn extended(config: &Config, run: &TestRun, sources: &Sources) -> Option<Config> {
    if run.data.is_empty() {
        return None;
    }
    let mut c = config.clone();
    c.resources.extend(run.data.iter().cloned());
    c.sources = sources.clone();
    Some(c)
}

/// Whether the configuration or any module it calls has a `[check.NAME]`.
fn has_checks(config: &Config) -> bool {
    !config.checks.is_empty() || config.module_calls.iter().any(|c| has_checks(&c.module))
}

async fn make_plan(
    loaded: &Loaded,
    config: &Config,
    state: Option<&State>,
    mode: PlanMode,
) -> Result<Plan, plinth_config::Diagnostics> {
    let opts = plinth_engine::PlanOptions {
        mode,
        targets: Vec::new(),
        replace: Vec::new(),
        skip_refresh: false,
        parallelism: 16,
        per_object_reads: false,
    };
    let input = PlanInput {
        workspace: plinth_engine::Workspace {
            config,
            ..loaded.workspace()
        },
        state,
    };
    plinth_engine::plan(&input, &opts, &NoEvents).await
}

/// Applies `plan` to the state `backend` holds.
async fn apply(
    loaded: &Loaded,
    plan: &Plan,
    backend: &MemoryBackend,
) -> Result<plinth_engine::ApplyReport, CliError> {
    let state = backend.load()?.state.unwrap_or_default();
    let mut writer = backend.open_writer(state)?;
    // Nothing interrupts a test's apply but the process ending: the sender lives for the call.
    let (_tx, rx) = tokio::sync::watch::channel(0u32);
    let input = ApplyInput {
        workspace: loaded.workspace(),
        plan,
    };
    let result = plinth_engine::apply(
        &input,
        &ApplyOptions::default(),
        writer.as_mut(),
        &NoEvents,
        rx,
    )
    .await;
    let compacted = writer.compact();
    drop(writer);
    let report = result.map_err(|e| CliError::engine(&loaded.config.sources, e))?;
    compacted?;
    Ok(report)
}

/// After the file's runs: everything its state holds destroyed. `None` when nothing is left;
/// otherwise what went wrong and what is left.
async fn cleanup(suite: &Suite<'_>, backend: &MemoryBackend) -> Option<String> {
    let state = match backend.load() {
        Ok(l) => l.state,
        Err(e) => return Some(format!("cannot read the test's state: {e}")),
    };
    let state = state.filter(|s| !s.resources.is_empty())?;
    let loaded = &suite.loaded;
    let what = match make_plan(loaded, &loaded.config, Some(&state), PlanMode::Destroy).await {
        Ok(plan) => match apply(loaded, &plan, backend).await {
            Ok(report) => report
                .failures
                .iter()
                .map(|f| format!("{} ({}): {}", f.address, f.action, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => describe(&e, suite.sources),
        },
        Err(d) => {
            d.0.iter()
                .map(|d| d.one_line(suite.sources))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    let left: Vec<String> = match backend.load() {
        Ok(l) => l
            .state
            .map(|s| s.resources.keys().cloned().collect())
            .unwrap_or_default(),
        Err(_) => state.resources.keys().cloned().collect(),
    };
    if left.is_empty() {
        return None;
    }
    let why = if what.is_empty() {
        String::new()
    } else {
        format!(" ({what})")
    };
    Some(format!(
        "destroying what the tests made failed{why}; left in the cloud: {}",
        left.join(", ")
    ))
}

fn describe(e: &CliError, sources: &Sources) -> String {
    match e {
        CliError::Config(s, d) => {
            d.0.iter()
                .map(|d| d.one_line(s))
                .collect::<Vec<_>>()
                .join("; ")
        }
        CliError::Plain(d) => d.one_line(sources),
    }
}

/// A plan's outputs as a run's `output.*`: planned values (unknown until applied).
fn planned_outputs(plan: &Plan) -> Map {
    plan.outputs
        .iter()
        .filter_map(|o| {
            let v = o.after.clone()?;
            Some((
                o.name.clone(),
                if o.sensitive { Value::sensitive(v) } else { v },
            ))
        })
        .collect()
}

/// The outputs state records, sensitive ones marked.
fn state_outputs(state: Option<&State>) -> Map {
    state
        .map(|s| {
            s.outputs
                .iter()
                .map(|(k, o)| {
                    let v = Value::from(o.value.clone());
                    (k.clone(), if o.sensitive { Value::sensitive(v) } else { v })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Values a plan read or planned, over what state holds: data sources it read (every run),
/// and for a plan run the planned values of resources.
fn overrides(plan: Option<&Plan>, planned: bool) -> Vec<(String, Value)> {
    let Some(plan) = plan else { return Vec::new() };
    plan.changes
        .iter()
        .filter(|c| {
            c.kind == plinth_plan::DeclKind::Data
                || (planned && c.kind == plinth_plan::DeclKind::Resource)
        })
        .filter(|c| c.action != plinth_plan::Action::Delete)
        .filter_map(|c| Some((c.address.clone(), c.after.clone()?)))
        .collect()
}
