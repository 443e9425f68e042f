//! The tree of modules a configuration calls: each `[module.NAME]`'s `source` found (a local
//! path relative to the calling module's directory, or through the [`SourceResolver`]), its
//! directory read like the root's (see `dir`), its own calls loaded in turn, and the call's
//! inputs checked against the module's variables (see `check`).
//!
//! A directory called more than once is read once and shared. A module that calls itself,
//! directly or through others, is an error printing the chain of calls; so is nesting deeper
//! than [`MAX_DEPTH`] levels. Used by `load`; uses `dir`.

mod check;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::decl::{Config, ModuleCall};
use crate::diag::{Diagnostic, Diagnostics};
use crate::dir::{decode_files, read_named, read_toml_files, toml_files};
use crate::files::ConfigDir;
use crate::resolver::SourceResolver;
use crate::source::Sources;

/// How deep modules may nest: a module called by the root is at depth 1.
pub const MAX_DEPTH: usize = 16;

/// A module directory read once.
struct Loaded {
    config: Arc<Config>,
    /// How many levels of modules it calls below itself (0: none).
    height: usize,
    /// Its files decoded without an error, so its variables are all there to check calls
    /// against (a variable dropped for an error would make every call setting it wrong).
    clean: bool,
}

/// A module being read: the directory, and the call that entered it.
struct Frame {
    dir: PathBuf,
    call: String,
}

/// Loads module trees, sharing every directory read.
pub(crate) struct Tree<'r> {
    resolver: &'r dyn SourceResolver,
    /// The root configuration's directory (absolute) and how its files' names start
    /// (`infra`), when it is a directory: module files are named alike.
    root: Option<(PathBuf, String)>,
    loaded: HashMap<PathBuf, Loaded>,
}

/// True for a source that is a path on disk: `./x`, `../x` (Terraform's rule).
pub(crate) fn is_local(source: &str) -> bool {
    source == "."
        || source == ".."
        || source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with(".\\")
        || source.starts_with("..\\")
}

impl<'r> Tree<'r> {
    pub(crate) fn new(resolver: &'r dyn SourceResolver, root: Option<(PathBuf, String)>) -> Self {
        Tree {
            resolver,
            root,
            loaded: HashMap::new(),
        }
    }

    /// Loads the modules `config` calls (and theirs), filling in each call's `module` and
    /// `dir`; every file joins `sources`, every problem `diags`.
    pub(crate) fn load_calls(
        &mut self,
        config: &mut Config,
        sources: &mut Sources,
        diags: &mut Diagnostics,
    ) {
        let mut stack = Vec::new();
        self.calls(config, sources, diags, &mut stack);
    }

    /// Loads the calls of one configuration whose enclosing modules are `stack`; returns
    /// how many levels of modules it calls below itself.
    fn calls(
        &mut self,
        config: &mut Config,
        sources: &mut Sources,
        diags: &mut Diagnostics,
        stack: &mut Vec<Frame>,
    ) -> usize {
        let mut height = 0;
        for call in &mut config.module_calls {
            let dir = match self.locate(call, sources) {
                Ok(dir) => dir,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let chain = |from: usize| {
                stack[from..]
                    .iter()
                    .map(|f| f.call.as_str())
                    .chain([call.name.as_str()])
                    .map(|n| format!("module.{n}"))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            };
            let cycle_from = match &self.root {
                Some((root, _)) if *root == dir => Some(0),
                _ => stack.iter().position(|f| f.dir == dir),
            };
            if let Some(from) = cycle_from {
                diags.push(
                    Diagnostic::at(
                        format!("modules call each other in a cycle: {}", chain(from)),
                        call.source_loc.clone(),
                    )
                    .label(format!("this leads back to {}", self.display(&dir)))
                    .help("a module cannot call itself, directly or through other modules; move what they share into a module that each of them calls"),
                );
                continue;
            }
            let depth = stack.len() + 1;
            let below = self.loaded.get(&dir).map_or(0, |l| l.height);
            if depth + below > MAX_DEPTH {
                diags.push(
                    Diagnostic::at(
                        format!(
                            "modules nest deeper than {MAX_DEPTH} levels: {}",
                            chain(0)
                        ),
                        call.source_loc.clone(),
                    )
                    .label(format!("level {} and more below", depth))
                    .help("flatten the tree of modules: call modules side by side from one module instead of each inside the last"),
                );
                continue;
            }
            if !self.loaded.contains_key(&dir) {
                stack.push(Frame {
                    dir: dir.clone(),
                    call: call.name.clone(),
                });
                let loaded = self.read_module(&dir, sources, diags, stack);
                stack.pop();
                self.loaded.insert(dir.clone(), loaded);
            }
            let loaded = &self.loaded[&dir];
            call.module = loaded.config.clone();
            call.dir = dir;
            height = height.max(1 + loaded.height);
            if loaded.clean {
                let shown = self.display(&call.dir);
                check::check_call(call, &shown, diags);
            }
        }
        height
    }

    /// The directory a call's source names, absolute, checked to be a directory of `*.toml`
    /// files; a located error at the source otherwise.
    fn locate(&self, call: &ModuleCall, sources: &Sources) -> Result<PathBuf, Diagnostic> {
        let caller = sources.dir_of(call.loc.file);
        let caller = std::fs::canonicalize(caller).unwrap_or_else(|_| caller.to_path_buf());
        let at = |message: String| Diagnostic::at(message, call.source_loc.clone());
        let path = if is_local(&call.source) {
            normalize(&caller.join(&call.source))
        } else {
            self.resolver.resolve(&call.source, &caller).map_err(|e| {
                at(format!("cannot load module `{}`: {e}", call.name))
                    .label("this source")
                    .help("a source is a local path (\"./modules/app\") or a git source (\"git::https://host/org/repo.git//path?ref=v1.0.0\"); `plinth init` fetches git sources into .plinth/modules")
            })?
        };
        let not_dir = |why: &str| {
            at(format!(
                "the source of module `{}` is not a module directory: {} {why}",
                call.name,
                path.display()
            ))
            .label("this source")
            .help("a module is a directory of *.toml files; a local source is relative to the directory of the file that calls it, e.g. source = \"./modules/app\"")
        };
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(not_dir("is a file, not a directory")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(not_dir("does not exist"));
            }
            Err(e) => return Err(not_dir(&format!("cannot be read ({e})"))),
        }
        let dir =
            std::fs::canonicalize(&path).map_err(|e| not_dir(&format!("cannot be read ({e})")))?;
        match toml_files(&dir) {
            Ok(files) if files.is_empty() => Err(not_dir("has no *.toml files")),
            Ok(_) => Ok(dir),
            Err(e) => Err(not_dir(&format!("cannot be read ({e})"))),
        }
    }

    /// Reads a module's directory (and the modules it calls).
    fn read_module(
        &mut self,
        dir: &Path,
        sources: &mut Sources,
        diags: &mut Diagnostics,
        stack: &mut Vec<Frame>,
    ) -> Loaded {
        let before = diags.len();
        let (root, files) = match (ConfigDir::new(dir), toml_files(dir)) {
            (Ok(root), Ok(files)) => (root, files),
            (Err(e), _) => {
                diags.push(Diagnostic::new(format!(
                    "cannot read the module directory {}: {e}",
                    dir.display()
                )));
                return broken();
            }
            (_, Err(e)) => {
                diags.push(Diagnostic::new(format!(
                    "cannot read the module directory {}: {e}",
                    dir.display()
                )));
                return broken();
            }
        };
        let name_of = |f: &Path| self.name_of(dir, f);
        let ids = read_toml_files(&root, &files, &name_of, sources, diags);
        let mut config = decode_files(sources, &ids, diags);
        let clean = diags.len() == before;
        check::root_only_tables(&config, &self.display(dir), diags);
        read_named(&mut config, &root, sources, diags);
        let height = self.calls(&mut config, sources, diags, stack);
        Loaded {
            config: Arc::new(config),
            height,
            clean,
        }
    }

    /// How a module's file is named in messages: like the root's files when it is under the
    /// root's directory or beside it (`infra/modules/app/main.toml`, `shared/app/main.toml`),
    /// its absolute path otherwise.
    fn name_of(&self, dir: &Path, file: &Path) -> String {
        let file_name = file.file_name().unwrap_or_default();
        self.display(&dir.join(file_name))
    }

    /// A path under the root's directory or its parent, named as the root's files are.
    fn display(&self, path: &Path) -> String {
        if let Some((root, prefix)) = &self.root {
            if let Ok(rest) = path.strip_prefix(root) {
                return if rest.as_os_str().is_empty() {
                    prefix.clone()
                } else {
                    format!("{prefix}/{}", rest.display())
                };
            }
            if let Some(parent) = root.parent()
                && let Ok(rest) = path.strip_prefix(parent)
                && !rest.as_os_str().is_empty()
            {
                return rest.display().to_string();
            }
        }
        path.display().to_string()
    }
}

fn broken() -> Loaded {
    Loaded {
        config: Arc::default(),
        height: 0,
        clean: false,
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (the path may not exist: the
/// message quotes it).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    out
}
