//! The engine: from a configuration and a state to a plan, and from a plan to a new state.
//!
//! The engine does no I/O of its own. Configurations arrive already read
//! ([`plinth_config`]), state arrives loaded and leaves through a [`plinth_state::StateWriter`],
//! and every object is read and written by a [`plinth_provider::Provider`]. That keeps the
//! planning logic testable with in-memory fakes.
//!
//! The workflows are [`plan()`] (validate, refresh, evaluate, diff: a [`plinth_plan::Plan`]),
//! [`apply()`] (carry a plan out, recording each change) and [`import()`]; all start from a
//! [`Workspace`] and report progress as [`Event`]s to an [`EventSink`]. [`check_fresh`]
//! tells whether a saved plan may still be applied.

#![warn(missing_docs)]

mod addr;
mod apply;
mod assertions;
mod console;
mod error;
mod events;
mod fresh;
mod generate;
mod graph;
mod import;
mod inputs;
mod marks;
mod plan;
mod reads;
mod records;
mod refresh;
mod refs;
mod reporter;
mod scope;
mod settings;
mod settings_checks;
mod state_values;
mod tree;
mod validate;
mod workspace;

pub use addr::{Address, DeclKind};
pub use apply::{ApplyInput, ApplyOptions, ApplyReport, Failure, apply};
pub use assertions::{Assertions, Outcome, RunValues, plan_value};
pub use console::{CONSOLE_FILE, Console};
pub use error::EngineError;
pub use events::{Collect, Event, EventSink, NoEvents};
pub use fresh::{Stale, check_config, check_fresh, check_state};
pub use generate::{Generated, generate_config};
pub use graph::{Decl, DeclGraph, build as build_graph, decl_address};
pub use import::import;
pub use marks::prior as marked_prior;
pub use plan::{PlanInput, PlanOptions, plan};
pub use settings::{
    eval_static as eval_static_settings, unknown_tables as unknown_settings_tables,
};
pub use tree::{ModTree, Module};
pub use validate::validate;
pub use workspace::Workspace;

use std::collections::BTreeMap;

use plinth_config::Config;
use plinth_value::Value;
use sha2::{Digest, Sha256};

/// A digest of a configuration's files and resolved variables: a saved plan is stale when
/// it changes.
pub fn config_digest(config: &Config, vars: &BTreeMap<String, Value>) -> String {
    let mut h = Sha256::new();
    for f in config.sources.files() {
        h.update(f.name.as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    for (k, v) in vars {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.unmark_all().to_json().to_string().as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
