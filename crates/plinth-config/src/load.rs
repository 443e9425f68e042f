//! Reading a configuration: every `*.toml` file of a directory, read through the confined
//! reader, parsed with locations, decoded into declarations and merged; then the YAML files
//! that resources name with `manifest_file`, and the files expressions name (`file(...)`).
//!
//! The entry points of the crate's reading side; uses `decode` (one file's declarations),
//! `manifest`, `named_files` and `syntax`.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use toml::de::DeTable;

use crate::decl::*;
use crate::decode::decode_file;
use crate::diag::{Diagnostic, Diagnostics};
use crate::files::{ConfigDir, FileError, MAX_TOML_BYTES, read_regular};
use crate::source::{Loc, Quote, Sources};
use crate::syntax::toml_error;

/// Loads every `*.toml` file of `dir` (sorted by name) into one configuration.
///
/// An entry named `*.toml` that is not a regular file (a dangling symlink, a symlink loop, a
/// FIFO, a directory) is an error, never skipped: skipping it would plan to delete what it
/// declares. Symlinks are followed, but must stay inside the directory.
pub fn load_dir(dir: &FsPath) -> Result<Config, (Sources, Diagnostics)> {
    let mut sources = Sources::new();
    let cannot_read = |e: &dyn std::fmt::Display| {
        Diagnostic::new(format!(
            "cannot read the configuration directory {}: {e}",
            dir.display()
        ))
        .help("pass the directory that holds your *.toml files, e.g. `plinth plan ./infra`")
    };
    let (root, entries) = match (ConfigDir::new(dir), std::fs::read_dir(dir)) {
        (Ok(root), Ok(e)) => (root, e),
        (Err(e), _) => return Err((sources, cannot_read(&e).into())),
        (_, Err(e)) => return Err((sources, cannot_read(&e).into())),
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        let d = Diagnostic::new(format!("{} has no *.toml files", dir.display()))
            .help("a configuration is a directory of TOML files; create e.g. main.toml with a [resource.NAME] table");
        return Err((sources, d.into()));
    }
    let display_base = dir.parent().filter(|p| !p.as_os_str().is_empty());
    let mut diags = Diagnostics::default();
    for f in files {
        let name = match display_base {
            Some(b) => f.strip_prefix(b).unwrap_or(&f).display().to_string(),
            None => f.display().to_string(),
        };
        let file_name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = root
            .resolve(&file_name)
            .and_then(|real| read_regular(&real, MAX_TOML_BYTES));
        match text {
            Ok(text) => {
                sources.add(name, f.clone(), text);
            }
            Err(e) => {
                let what = match std::fs::symlink_metadata(&f) {
                    Ok(m) if m.file_type().is_symlink() => " (a symlink)",
                    _ => "",
                };
                let help = match e {
                    FileError::Io(_) => {
                        "every *.toml file of the directory is part of the configuration: fix or remove it (a symlink must point at an existing file)"
                    }
                    _ => e.help(),
                };
                diags.push(
                    Diagnostic::new(format!("cannot read {name}{what}: {e}"))
                    .help(format!(
                        "{help}; plinth refuses to go on without it, since every resource it declares would be planned for deletion"
                    )),
                );
            }
        }
    }
    if !diags.is_empty() {
        return Err((sources, diags));
    }
    let mut config = load_sources(sources)?;
    crate::manifest::resolve_manifest_files(&mut config, &root, &mut diags);
    crate::named_files::read_named_files(&mut config, &root, &mut diags);
    if diags.is_empty() {
        Ok(config)
    } else {
        Err((config.sources, diags))
    }
}

/// Decodes already-read sources (used by tests and by `load_dir`).
pub fn load_sources(mut sources: Sources) -> Result<Config, (Sources, Diagnostics)> {
    let mut diags = Diagnostics::default();
    let mut unparsed = Vec::new();
    let mut config = Config::default();
    let mut seen: BTreeMap<(String, String), Loc> = BTreeMap::new();
    for file in 0..sources.files().len() {
        let text = sources.get(file).text.clone();
        let table = match DeTable::parse(&text) {
            Ok(t) => t,
            Err(e) => {
                diags.push(toml_error(file, &text, &e));
                unparsed.push(file);
                continue;
            }
        };
        decode_file(
            file,
            &text,
            table.into_inner(),
            &mut config,
            &mut seen,
            &mut diags,
        );
    }
    // A file that does not parse may be anything: quote its offending line only.
    for file in unparsed {
        sources.set_quote(file, Quote::LinesOnly);
    }
    config.sources = sources;
    if diags.is_empty() {
        Ok(config)
    } else {
        Err((config.sources, diags))
    }
}
