//! The environment a run works in (`--env NAME` or `PLINTH_ENV`; "default" without one):
//! chosen once, before any command runs, and read by the backends (state per environment)
//! and by the workspace (`${env.PLINTH_ENV}`).

use std::sync::OnceLock;

use plinth_state::environment::{self, DEFAULT_ENVIRONMENT};

use crate::Common;
use crate::error::CliError;

/// The environment this run works in, chosen once by [`select_environment`] before any
/// command runs, so that every backend a command opens is that environment's.
static ENVIRONMENT: OnceLock<String> = OnceLock::new();

/// Selects the environment `--env NAME` (or `PLINTH_ENV`) names, "default" without one,
/// refusing an invalid name. Called once, by `commands::run`.
pub fn select_environment(common: &Common) -> Result<(), CliError> {
    let name = match common.environment.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_ENVIRONMENT,
        Some(name) => name,
    };
    environment::check_name(name).map_err(|why| {
        CliError::help(
            format!("--env: {why}"),
            "select an environment with --env NAME or PLINTH_ENV=NAME; without either, plinth uses the `default` environment",
        )
    })?;
    // A second selection (none happens: `run` selects once) keeps the first.
    let _ = ENVIRONMENT.set(name.to_string());
    Ok(())
}

/// The selected environment's name ("default" when none was selected).
pub fn environment() -> &'static str {
    ENVIRONMENT
        .get()
        .map_or(DEFAULT_ENVIRONMENT, String::as_str)
}
