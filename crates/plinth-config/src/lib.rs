//! The configuration language (SPEC §2): a directory of TOML files decoded into located
//! declarations, expressions parsed (but not evaluated: the engine evaluates them), input
//! variables resolved, and diagnostics that point at the user's file, line and column.

pub mod decl;
pub mod diag;
pub mod files;
pub mod load;
pub mod manifest;
pub mod node;
pub mod source;
pub mod vars;

pub use decl::*;
pub use diag::{Diagnostic, Diagnostics};
pub use load::{load_dir, load_sources};
pub use node::{FoundRef, Node, NodeKind};
/// Nearest-name suggestions: plinth's one `did_you_mean`, defined in `plinth_expr` (the
/// lowest crate that needs it) and re-exported for the crates that use the configuration.
pub use plinth_expr::did_you_mean;
pub use source::{FileId, Loc, Quote, Sources};
pub use vars::{VarInputs, resolve as resolve_variables};
