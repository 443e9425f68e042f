//! The seam between reading a configuration and fetching its module sources: the binary
//! passes a [`SourceResolver`] (plinth-fetch's, for git) to `load_dir_with`. A leaf module:
//! the loader and the module tree both use it.

use std::path::{Path, PathBuf};

/// Finds the directories of module sources that are not local paths (`git::https://...`),
/// for [`load_dir_with`]. Local paths (`./modules/x`, `../shared/y`) are read directly and
/// never reach it.
pub trait SourceResolver {
    /// The local directory that holds the module `source` names, as the module's call in
    /// `caller_dir` (the calling module's directory, absolute) writes it. The error is a
    /// sentence saying why it cannot be had (naming the source, never a credential), shown at
    /// the call's `source`.
    fn resolve(&self, source: &str, caller_dir: &Path) -> Result<PathBuf, String>;

    /// Files that pin what the sources resolve to, as `(name, text)` (`plinth.lock`): their
    /// text joins the configuration's sources, so a change to them makes a saved plan stale.
    fn pinned_files(&self) -> Vec<(String, String)>;
}
