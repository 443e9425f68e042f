//! Reading one configuration directory — the root's or a module's — into a [`Config`]: its
//! `*.toml` files (sorted by name, through the confined reader), decoded and merged; then the
//! YAML files resources name with `manifest_file`, and the files expressions name
//! (`file(...)`), both relative to that directory and inside it.
//!
//! Every file read joins the one [`Sources`] passed in (the root configuration's), so the
//! returned configuration's `sources` stay empty: the caller puts them where they belong.
//! Used by `load` (the root) and `modules` (each module); uses `decode`, `manifest`,
//! `named_files` and `files`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::de::DeTable;

use crate::decl::Config;
use crate::decode::decode_file;
use crate::diag::{Diagnostic, Diagnostics};
use crate::files::{ConfigDir, FileError, MAX_TOML_BYTES, read_regular};
use crate::source::{FileId, Loc, Quote, Sources};
use crate::syntax::toml_error;

/// The `*.toml` entries of `dir`, sorted by name (whatever they are: reading them checks).
pub(crate) fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads `files` (entries of the directory `root`) into `sources`, each named by `name_of`;
/// returns the ids of those read. An entry that is not a regular file (a dangling symlink, a
/// symlink loop, a FIFO, a directory) is an error, never skipped: skipping it would plan to
/// delete what it declares. Symlinks are followed, but must stay inside the directory.
pub(crate) fn read_toml_files(
    root: &ConfigDir,
    files: &[PathBuf],
    name_of: &dyn Fn(&Path) -> String,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> Vec<FileId> {
    let mut ids = Vec::new();
    for f in files {
        let name = name_of(f);
        let file_name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = root
            .resolve(&file_name)
            .and_then(|real| read_regular(&real, MAX_TOML_BYTES));
        match text {
            Ok(text) => ids.push(sources.add(name, f.clone(), text)),
            Err(e) => {
                let what = match std::fs::symlink_metadata(f) {
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
    ids
}

/// Parses and decodes the files `ids` of `sources` into one configuration (its `sources`
/// left empty). A file that does not parse is reported, and from then on quoted at its
/// offending lines only.
pub(crate) fn decode_files(
    sources: &mut Sources,
    ids: &[FileId],
    diags: &mut Diagnostics,
) -> Config {
    let mut config = Config::default();
    let mut seen: BTreeMap<(String, String), Loc> = BTreeMap::new();
    let mut unparsed = Vec::new();
    let texts: Vec<Arc<String>> = ids.iter().map(|&f| sources.get(f).text.clone()).collect();
    let tables = parse_all(&texts);
    for ((&file, text), table) in ids.iter().zip(&texts).zip(tables) {
        let table = match table {
            Ok(t) => t,
            Err(e) => {
                diags.push(toml_error(file, text, &e));
                unparsed.push(file);
                continue;
            }
        };
        decode_file(
            file,
            text,
            table.into_inner(),
            &mut config,
            &mut seen,
            diags,
        );
    }
    // A file that does not parse may be anything: quote its offending line only.
    for file in unparsed {
        sources.set_quote(file, Quote::LinesOnly);
    }
    // Kept for the whole run: 100,000 declarations left a vector of 131,072 (16 MB spare).
    config.resources.shrink_to_fit();
    config
}

/// A file's text parsed as a TOML document.
type Parsed<'a> = Result<toml::Spanned<DeTable<'a>>, toml::de::Error>;

/// Parses every text, in their order; several files on as many threads as there are cores
/// (the files of a large configuration are cut at 4 MiB: 100,000 resources are five files).
fn parse_all(texts: &[Arc<String>]) -> Vec<Parsed<'_>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(texts.len());
    if threads <= 1 {
        return texts.iter().map(|t| DeTable::parse(t)).collect();
    }
    // File i goes to thread i % threads; the answers are put back in file order.
    let mut parsed: Vec<Option<Parsed<'_>>> = (0..texts.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                scope.spawn(move || {
                    texts
                        .iter()
                        .enumerate()
                        .skip(w)
                        .step_by(threads)
                        .map(|(i, t)| (i, DeTable::parse(t)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for worker in workers {
            // A parse that panicked (a bug in the parser) is parsed again here, so that the
            // panic is the caller's as it would have been without threads.
            for (i, table) in worker.join().unwrap_or_default() {
                parsed[i] = Some(table);
            }
        }
    });
    parsed
        .into_iter()
        .zip(texts)
        .map(|(p, t)| p.unwrap_or_else(|| DeTable::parse(t)))
        .collect()
}

/// Reads what a decoded configuration names, relative to its directory `root`: the
/// `manifest_file`s, then the files its expressions name.
pub(crate) fn read_named(
    config: &mut Config,
    root: &ConfigDir,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) {
    crate::manifest::resolve_manifest_files(config, sources, root, diags);
    crate::named_files::read_named_files(config, sources, root, diags);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_parsed_on_threads_come_back_in_their_order() {
        let texts: Vec<Arc<String>> = (0..5)
            .map(|i| match i {
                3 => Arc::new("[resource.broken\n".to_string()),
                _ => Arc::new(format!("[resource.r{i}]\ntype = \"core:data\"\n")),
            })
            .collect();
        let parsed = parse_all(&texts);
        assert_eq!(parsed.len(), 5);
        for (i, p) in parsed.iter().enumerate() {
            match p {
                Ok(t) => {
                    let resources = t.get_ref().get("resource").expect("a resource table");
                    let toml::de::DeValue::Table(r) = resources.get_ref() else {
                        panic!("file {i}: resource is not a table");
                    };
                    let names: Vec<&str> = r.keys().map(|k| k.get_ref().as_ref()).collect();
                    assert_eq!(names, [format!("r{i}")], "file {i}");
                }
                Err(e) => assert_eq!(i, 3, "only the broken file fails: {e}"),
            }
        }
        assert!(parsed[3].is_err());
    }
}
