//! The workspace the engine works in: a configuration already read, its resolved variables,
//! the environment expressions may read, and the providers. One handle instead of the same
//! fields repeated in every workflow's input.

use std::collections::BTreeMap;

use plinth_config::Config;
use plinth_provider::Registry;
use plinth_value::Value;

/// What every workflow (plan, apply, import) starts from.
#[derive(Clone, Copy)]
pub struct Workspace<'a> {
    /// The configuration, already read and decoded.
    pub config: &'a Config,
    /// Resolved input variables (sensitive ones marked).
    pub vars: &'a BTreeMap<String, Value>,
    /// The environment `${env.NAME}` reads.
    pub env: &'a BTreeMap<String, String>,
    /// The providers, by type prefix.
    pub registry: &'a Registry,
    /// The configuration directory (absolute), recorded in plans.
    pub dir: &'a std::path::Path,
}

impl Workspace<'_> {
    /// What expressions see with `values` for the declarations (planned or actual) and
    /// `iteration` (`each.*` or `count.index`) for the instance being evaluated.
    pub(crate) fn scope<'s>(
        &'s self,
        values: &'s crate::scope::Values,
        iteration: crate::scope::Iteration,
    ) -> crate::scope::Scope<'s> {
        crate::scope::Scope {
            registry: Some(self.registry),
            config: Some(self.config),
            dir: Some(self.dir),
            iteration,
            ..crate::scope::Scope::new(self.vars, self.env, values)
        }
    }

    /// The digest that makes a saved plan stale when the configuration or variables change.
    pub fn digest(&self) -> String {
        crate::config_digest(self.config, self.vars)
    }
}
