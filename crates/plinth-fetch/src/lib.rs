//! Module sources beyond local paths: `git::<url>[//<subdir>][?ref=<ref>]`.
//!
//! - [`GitSource`]: a parsed source (and [`redact`], which hides a URL's credentials in any
//!   message).
//! - [`GitResolver`]: what the configuration loader asks for a source that is not a local
//!   path. It fetches with the `git` command-line tool into `DIR/.plinth/modules/<hash of
//!   URL and commit>/` (a plain checkout, no `.git`), working in a temporary directory that
//!   is renamed into place only when the fetch succeeded, and pins every source's commit in
//!   `DIR/plinth.lock` ([`Lock`]).
//!
//! Architecture invariant: the only code that runs git or reads and writes `plinth.lock`;
//! no message shows a URL's credentials; never a shell. Absent: module registries, git
//! submodules inside a fetched module, network access of its own (git does it).

#![warn(missing_docs)]

mod git;
mod lock;
mod resolver;
mod source;

pub use lock::{LOCK_FILE, Lock, LockEntry};
pub use resolver::{GitResolver, LockWrite, Mode, Outcome, Resolved, short};
pub use source::{GitSource, redact};
