//! `plinth plan`: refresh, plan, print, optionally save the plan; and making a plan, which
//! `apply` shares.

use std::path::Path;

use plinth_config::Diagnostics;
use plinth_engine::{PlanInput, PlanOptions};
use plinth_plan::{Plan, PlanMode};
use plinth_state::State;

use super::shared::{check_fail_on, load_state, parse_addrs, print_plan, write_private};
use crate::backend;
use crate::error::CliError;
use crate::progress::Progress;
use crate::workspace::{self, Loaded};
use crate::{Common, FailOn, PlanFlags, PolicyInput};

pub(super) async fn make_plan(
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
        per_object_reads: flags.per_object_reads,
    };
    // Read and parse the policies before planning, so that a syntax error is reported at
    // once rather than after a refresh of every object.
    let policies = flags.policy.as_deref().map(load_policies).transpose()?;
    let input = PlanInput {
        workspace: loaded.workspace(),
        state,
    };
    let mut plan = plinth_engine::plan(&input, &opts, progress)
        .await
        .map_err(|d: Diagnostics| CliError::Config(loaded.config.sources.clone(), d))?;
    // The workload-identity chain across Azure and Kubernetes: warnings beside the plan
    // (`--fail-on identity-chain` makes them errors).
    plan.findings
        .extend(plinth_chain::check(&plan, Some(&loaded.config)));
    if let Some(policies) = &policies {
        // The input is the plan JSON plinth prints (or its Terraform export), redacted: no
        // secret reaches a policy.
        let input = match flags.policy_input {
            PolicyInput::Plinth => plinth_render::json::plan_json(&plan, false),
            PolicyInput::Terraform => plinth_render::json::terraform_json(&plan, false),
        };
        let findings = policies.evaluate(&input).map_err(policy_error)?;
        plan.findings.extend(findings);
    }
    Ok(plan)
}

/// The policies of `--policy DIR`, read and parsed.
fn load_policies(dir: &Path) -> Result<plinth_policy::Policies, CliError> {
    plinth_policy::Policies::load(dir).map_err(policy_error)
}

fn policy_error(e: plinth_policy::PolicyError) -> CliError {
    CliError::help(e.to_string(), e.fix())
}

/// `--fail-on policy` judges what `--policy DIR` found: without `--policy` no policy is
/// evaluated and the gate would pass every plan, so the combination is refused before
/// anything is planned.
fn check_fail_on_policy(fail_on: &[FailOn], flags: &PlanFlags) -> Result<(), CliError> {
    if fail_on.contains(&FailOn::Policy) && flags.policy.is_none() {
        return Err(CliError::help(
            "--fail-on policy without --policy: no policy would be evaluated, so the gate would pass any plan",
            "pass the policies' directory as well: plinth plan --policy DIR --fail-on policy (examples/policies/ has some)",
        ));
    }
    Ok(())
}

/// The files `plinth plan` may write: the saved plan (`--out`) and generated configuration
/// (`--generate-config`).
pub(super) struct PlanFiles<'a> {
    pub out: Option<&'a Path>,
    pub generate_config: Option<&'a Path>,
}

pub(super) async fn plan_cmd(
    dir: &Path,
    files: PlanFiles<'_>,
    detailed: bool,
    fail_on: &[FailOn],
    flags: &PlanFlags,
    common: &Common,
) -> Result<u8, CliError> {
    check_fail_on_policy(fail_on, flags)?;
    let mut loaded = workspace::load(dir, common)?;
    workspace::attach_sim(&mut loaded, common).await?;
    let progress = Progress::new(common.json);
    let backend = backend::of(&loaded)?;
    // Plan writes nothing, but it holds the lock so that it never reads a state another run
    // is in the middle of changing (its pending records would look like a crash).
    let lock = backend.lock("plan", common.lock_timeout)?;
    let state = load_state(backend.as_ref(), &progress)?;
    if let Some(file) = files.generate_config {
        if flags.destroy || flags.refresh_only {
            return Err(CliError::msg(
                "--generate-config plans imports: it cannot be used with --destroy or --refresh-only",
            ));
        }
        match super::import::generate(&loaded, state.as_ref(), file, dir, common).await? {
            super::import::Outcome::Reload => {
                loaded = workspace::load(dir, common)?;
                workspace::attach_sim(&mut loaded, common).await?;
            }
            super::import::Outcome::Unchanged => {}
            super::import::Outcome::Outside => return Ok(0),
        }
    }
    let plan = make_plan(&loaded, state.as_ref(), flags, &progress).await?;
    drop(lock);
    print_plan(&plan, common, flags.show_sensitive);
    // Judged before saving: a plan --fail-on refuses is not written, so `apply FILE` cannot
    // take it afterwards (apply of a saved plan checks only policy denials).
    check_fail_on(&plan, fail_on, files.out)?;
    if let Some(path) = files.out {
        let bytes = super::env::plan_file_bytes(&plan)?;
        write_private(path, &bytes)?;
        if !common.json {
            outln!(
                "\nSaved the plan to {}. Apply exactly this plan with: plinth apply {}",
                path.display(),
                path.display()
            );
        }
    }
    let code = if detailed && plan.has_changes() { 2 } else { 0 };
    // The process ends next: freeing a large plan change by change would take longer than
    // printing it. So would the state and the configuration (plain data, nothing to close):
    // at 100,000 resources, a tenth of the run.
    std::mem::forget(plan);
    std::mem::forget(state);
    std::mem::forget(loaded.config);
    Ok(code)
}
