//! Reading a configuration: the root directory (see `dir`), then the tree of modules its
//! `[module.NAME]` calls name (see `modules`), every file of every module in the root's one
//! [`Sources`].
//!
//! The entry points of the crate's reading side, and the [`SourceResolver`] a binary passes
//! in for module sources that are not local paths.

use std::path::{Path, PathBuf};

use crate::decl::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::dir::{decode_files, read_named, read_toml_files, toml_files};
use crate::files::ConfigDir;
use crate::modules::Tree;
use crate::resolver::SourceResolver;
use crate::source::Sources;

/// The resolver of [`load_dir`]: local paths only; any other source has not been fetched.
struct LocalOnly;

impl SourceResolver for LocalOnly {
    fn resolve(&self, source: &str, caller_dir: &Path) -> Result<PathBuf, String> {
        let looks_like_path = !source.contains("::") && !source.contains("://");
        if looks_like_path && caller_dir.join(source).is_dir() {
            return Err(format!(
                "`{source}` is not a local path: local module paths start with ./ or ../ (write source = \"./{source}\")"
            ));
        }
        Err(format!(
            "`{source}` is not a local path (those start with ./ or ../) and has not been fetched: run `plinth init` to fetch module sources"
        ))
    }

    fn pinned_files(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// Loads every `*.toml` file of `dir` (sorted by name) into one configuration, with the
/// modules it calls from local paths (a module source that is not a local path is an error
/// saying to run `plinth init`; [`load_dir_with`] resolves those).
///
/// An entry named `*.toml` that is not a regular file (a dangling symlink, a symlink loop, a
/// FIFO, a directory) is an error, never skipped: skipping it would plan to delete what it
/// declares. Symlinks are followed, but must stay inside the directory.
pub fn load_dir(dir: &Path) -> Result<Config, (Sources, Diagnostics)> {
    load_dir_with(dir, &LocalOnly)
}

/// [`load_dir`], with module sources that are not local paths found by `resolver`, whose
/// [`pinned_files`](SourceResolver::pinned_files) join the configuration's sources.
pub fn load_dir_with(
    dir: &Path,
    resolver: &dyn SourceResolver,
) -> Result<Config, (Sources, Diagnostics)> {
    let mut sources = Sources::new();
    let cannot_read = |e: &dyn std::fmt::Display| {
        Diagnostic::new(format!(
            "cannot read the configuration directory {}: {e}",
            dir.display()
        ))
        .help("pass the directory that holds your *.toml files, e.g. `plinth plan ./infra`")
    };
    let (root, files) = match (ConfigDir::new(dir), toml_files(dir)) {
        (Ok(root), Ok(files)) => (root, files),
        (Err(e), _) => return Err((sources, cannot_read(&e).into())),
        (_, Err(e)) => return Err((sources, cannot_read(&e).into())),
    };
    if files.is_empty() {
        let d = Diagnostic::new(format!("{} has no *.toml files", dir.display()))
            .help("a configuration is a directory of TOML files; create e.g. main.toml with a [resource.NAME] table");
        return Err((sources, d.into()));
    }
    // Files are named relative to the directory's parent (`infra/main.toml`).
    let display_base = dir.parent().filter(|p| !p.as_os_str().is_empty());
    let name_of = |f: &Path| match display_base {
        Some(b) => f.strip_prefix(b).unwrap_or(f).display().to_string(),
        None => f.display().to_string(),
    };
    let prefix = match display_base {
        Some(b) => dir.strip_prefix(b).unwrap_or(dir).display().to_string(),
        None => dir.display().to_string(),
    };
    let mut diags = Diagnostics::default();
    let ids = read_toml_files(&root, &files, &name_of, &mut sources, &mut diags);
    if !diags.is_empty() {
        return Err((sources, diags));
    }
    let mut config = decode_files(&mut sources, &ids, &mut diags);
    read_named(&mut config, &root, &mut sources, &mut diags);
    let mut tree = Tree::new(resolver, Some((root.path().to_path_buf(), prefix)));
    tree.load_calls(&mut config, &mut sources, &mut diags);
    for (name, text) in resolver.pinned_files() {
        let path = PathBuf::from(&name);
        sources.add(name, path, text);
    }
    finish(config, sources, diags)
}

/// Decodes already-read sources (used by tests and fuzzing). Modules are read from local
/// paths relative to the directory of the file that calls them.
pub fn load_sources(mut sources: Sources) -> Result<Config, (Sources, Diagnostics)> {
    let mut diags = Diagnostics::default();
    let ids: Vec<_> = (0..sources.files().len()).collect();
    let mut config = decode_files(&mut sources, &ids, &mut diags);
    if !config.module_calls.is_empty() {
        Tree::new(&LocalOnly, None).load_calls(&mut config, &mut sources, &mut diags);
    }
    finish(config, sources, diags)
}

fn finish(
    mut config: Config,
    sources: Sources,
    diags: Diagnostics,
) -> Result<Config, (Sources, Diagnostics)> {
    if diags.is_empty() {
        config.sources = sources;
        Ok(config)
    } else {
        Err((sources, diags))
    }
}
