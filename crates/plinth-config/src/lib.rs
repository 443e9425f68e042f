//! The configuration language (SPEC §2): a directory of TOML files decoded into located
//! declarations, expressions parsed (but not evaluated: the engine evaluates them), input
//! variables resolved, and diagnostics that point at the user's file, line and column.
//!
//! The modules are private; this list is the crate's API. Their dependencies point one way:
//! `source`, `diag` and `files` are leaves; `node` and `decl` the data; `syntax` (TOML
//! errors, string values as nodes, key checks) the low-level helpers every reader shares;
//! `vars`, `manifest`, `named_files` (the files expressions name) and `decode` the readers;
//! `dir` reads one directory (the root's or a module's) with them; `modules` the tree of
//! modules a configuration calls; `load`, on top, the entry points.

#![warn(missing_docs)]

mod compact;
mod decl;
mod decode;
mod diag;
mod dir;
mod files;
mod load;
mod manifest;
mod modules;
mod named_files;
mod node;
mod resolver;
mod source;
mod syntax;
mod vars;

pub use decl::{
    ActionDecl, AddrRef, BackendDecl, CheckDecl, Condition, Config, ConfigFile, ImportDecl,
    Lifecycle, LocalDecl, ModuleCall, MovedDecl, OutputDecl, ProviderDecl, RemovedDecl,
    ResourceDecl, VarType, VariableDecl,
};
pub use decode::testfile::{
    DriftChange, ExpectedFailure, TEST_DIR, TEST_SUFFIX, TestCommand, TestDrift, TestFile, TestRun,
    TestVar, load_test_files,
};
pub use diag::{Diagnostic, Diagnostics, MAX_RENDERED, MAX_SAME_KIND, clean};
pub use files::{MAX_FILE_BYTES, MAX_TOML_BYTES};
pub use load::{load_dir, load_dir_with, load_sources};
pub use modules::MAX_DEPTH as MAX_MODULE_DEPTH;
pub use node::{EscapeMap, FoundRef, Node, NodeKind};
pub use plinth_addr::DeclKind;
pub use resolver::SourceResolver;
pub use source::{FileId, Loc, Quote, SourceFile, Sources};
pub use vars::{VarInputs, resolve as resolve_variables};

/// Nearest-name suggestions: plinth's one `did_you_mean`, defined in `plinth_expr` (the
/// lowest crate that needs it) and re-exported for the crates that use the configuration.
pub use plinth_expr::did_you_mean;
