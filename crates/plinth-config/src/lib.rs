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
pub mod suggest;
pub mod vars;

pub use decl::*;
pub use diag::{Diagnostic, Diagnostics};
pub use load::{load_dir, load_sources};
pub use node::{FoundRef, Node, NodeKind};
pub use source::{FileId, Loc, Quote, Sources};
pub use suggest::did_you_mean;
pub use vars::{VarInputs, resolve as resolve_variables};
