//! Environments from the command line: `plinth env list`, and the environment a saved plan
//! was made for (written into the plan file by `plan --out`, checked by `apply PLANFILE`
//! before the state's lineage and serial are).

use std::path::Path;

use plinth_plan::Plan;
use plinth_state::environment::DEFAULT_ENVIRONMENT;

use crate::Common;
use crate::backend;
use crate::error::CliError;

/// `plinth env list`: the environments that have state in the configuration's backend, the
/// selected one marked `*` (as `terraform workspace list` does). The default environment and
/// the selected one are always listed: both can be used before they have state.
pub(super) fn list(dir: &Path, common: &Common) -> Result<u8, CliError> {
    let current = backend::environment();
    let mut names = backend::environments_of_dir(dir)?;
    for always in [DEFAULT_ENVIRONMENT, current] {
        if !names.iter().any(|n| n == always) {
            names.push(always.to_string());
        }
    }
    // Default first, the rest by name.
    names.sort_by(|a, b| {
        (a != DEFAULT_ENVIRONMENT, a.as_str()).cmp(&(b != DEFAULT_ENVIRONMENT, b.as_str()))
    });
    if common.json {
        outln!(
            "{}",
            serde_json::json!({"current": current, "environments": names})
        );
    } else {
        for name in &names {
            let mark = if name == current { "*" } else { " " };
            outln!("{mark} {name}");
        }
    }
    Ok(0)
}

/// The key of a plan file that records the environment the plan was made for. Plan files
/// of the default environment do not have it, so they are exactly what they always were.
const PLAN_ENVIRONMENT_KEY: &str = "environment";

/// What `plan --out` writes: the plan JSON, with the selected environment recorded.
pub(super) fn plan_file_bytes(plan: &Plan) -> Result<Vec<u8>, CliError> {
    let encode = |e: serde_json::Error| CliError::msg(format!("cannot encode the plan: {e}"));
    let current = backend::environment();
    if current == DEFAULT_ENVIRONMENT {
        return serde_json::to_vec_pretty(plan).map_err(encode);
    }
    let mut doc = serde_json::to_value(plan).map_err(encode)?;
    if let Some(fields) = doc.as_object_mut() {
        fields.insert(PLAN_ENVIRONMENT_KEY.to_string(), current.into());
    }
    serde_json::to_vec_pretty(&doc).map_err(encode)
}

/// Refuses the saved plan `file` when it was made for another environment than the
/// selected one: its changes were planned against that environment's state and variables.
pub(super) fn check_planned(file: &Path) -> Result<(), CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::msg(format!("cannot read the plan file {}: {e}", file.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CliError::help(
            format!("{} is not a plinth plan file: {e}", file.display()),
            "make one with `plinth plan --out FILE`",
        )
    })?;
    let planned = match doc.get(PLAN_ENVIRONMENT_KEY) {
        None => DEFAULT_ENVIRONMENT.to_string(),
        Some(serde_json::Value::String(name)) => name.clone(),
        Some(_) => String::new(),
    };
    let current = backend::environment();
    if planned == current {
        return Ok(());
    }
    let name = shown(&planned);
    let select = if planned == DEFAULT_ENVIRONMENT {
        "without --env (and with PLINTH_ENV unset)".to_string()
    } else {
        format!("with --env {name} (or PLINTH_ENV={name})")
    };
    let make = if current == DEFAULT_ENVIRONMENT {
        "plinth plan --out FILE".to_string()
    } else {
        format!("plinth plan --env {current} --out FILE")
    };
    Err(CliError::help(
        format!(
            "the saved plan {} was made for environment `{}`, but this run is for environment `{current}`",
            file.display(),
            name
        ),
        format!(
            "apply it in its own environment, {select}; or plan this environment with `{make}`, review it, and apply that"
        ),
    ))
}

/// A recorded name as a message may show it (a hand-edited file may hold anything).
fn shown(name: &str) -> &str {
    if plinth_state::environment::check_name(name).is_ok() {
        name
    } else {
        "(an invalid name)"
    }
}
