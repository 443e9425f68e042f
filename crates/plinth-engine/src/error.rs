//! The engine's error: what went wrong, by layer. Configuration problems are located
//! diagnostics; state and provider failures keep their own typed errors, so a caller can tell
//! them apart (and render each as it should) instead of parsing text.

use plinth_config::{Diagnostic, Diagnostics};
use plinth_provider::ProviderError;
use plinth_state::StateError;

/// An error of the engine's workflows (plan, apply, import).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration, its inputs or the request are wrong: every problem, located where
    /// it can be, with help naming the fix.
    #[error("{} problem(s) in the configuration", .0.0.len())]
    Config(Diagnostics),
    /// Reading or writing state failed.
    #[error("saving state failed: {0}")]
    State(#[from] StateError),
    /// A provider failed to do what was asked of an object.
    #[error("`{address}`: {source}")]
    Provider {
        /// The address of the object the provider was asked about.
        address: String,
        /// What the provider answered.
        #[source]
        source: ProviderError,
    },
}

impl From<Diagnostics> for EngineError {
    fn from(d: Diagnostics) -> Self {
        EngineError::Config(d)
    }
}

impl From<Diagnostic> for EngineError {
    fn from(d: Diagnostic) -> Self {
        EngineError::Config(d.into())
    }
}
