//! Files that expressions name: `file("scripts/init.sh")`, `fileexists(...)` and
//! `templatefile("${path.module}/cloud-init.tpl", {...})`.
//!
//! Evaluation does no I/O (the engine evaluates many times, in plans and applies, and a saved
//! plan must not go stale silently), so every such file is read once when the configuration
//! is loaded, into [`Config::files`], keyed by the path text exactly as the expression gives
//! it — what `Context::read_file` is asked. That requires the path to be known when the
//! configuration is read: a string literal, or a template whose only references are
//! `path.module` / `path.root` (both `.`, the configuration directory). Each file read joins
//! [`Config::sources`], so errors inside a template file are located in it and the
//! configuration digest (which hashes every source) changes when the file does.
//!
//! A template file may itself name files (`${file("banner.txt")}`); those are read too.
//!
//! Used by `load`, after `manifest` (manifests' strings are expressions too); uses `files`
//! (the confined reader) and `node`.

use std::collections::{BTreeMap, BTreeSet};

use plinth_expr::{Expr, ExprKind, Part, RefStep, Template};
use plinth_value::Value;

use crate::decl::{Config, ConfigFile};
use crate::diag::{Diagnostic, Diagnostics};
use crate::files::ConfigDir;
use crate::node::{Node, NodeKind};
use crate::source::{Loc, Quote, Sources};

/// The functions whose first argument names a file.
pub const FILE_FUNCTIONS: &[&str] = &["file", "fileexists", "templatefile"];

/// What `path.module` and `path.root` are when a file path is worked out: the configuration
/// directory, which relative paths are resolved against.
const CONFIG_DIR: &str = ".";

/// A file-naming call found in a configuration: its path (when static) and where it is.
struct FileCall {
    function: String,
    /// The path text, or why it is not static.
    path: Result<String, NotStatic>,
    /// The first argument in the file (the whole call when it has none).
    loc: Loc,
}

enum NotStatic {
    /// `path.cwd`: the working directory changes between runs.
    Cwd,
    /// Any other expression: a variable, a resource attribute, a function call.
    Dynamic,
}

/// Reads every file the configuration's expressions name into `config.files` (relative to
/// `dir`, and inside it; see [`ConfigDir::read_named`]). A path that is not static, a file
/// outside the directory, or one that cannot be read is an error located at the argument;
/// a missing file is recorded as missing. The files read join `sources`, which `config`'s
/// locations point into (the root configuration's, shared by every module).
pub(crate) fn read_named_files(
    config: &mut Config,
    sources: &mut Sources,
    dir: &ConfigDir,
    diags: &mut Diagnostics,
) {
    let mut calls = Vec::new();
    for node in config_nodes(config) {
        node_calls(node, &mut calls);
    }
    // Files read, by path: a template file's own calls join the queue as it is read.
    let mut files: BTreeMap<String, ConfigFile> = BTreeMap::new();
    // Template files whose own calls were queued.
    let mut scanned = BTreeSet::new();
    let mut next = 0;
    while next < calls.len() {
        let call = &calls[next];
        next += 1;
        let path = match &call.path {
            Ok(p) => p.clone(),
            Err(why) => {
                diags.push(not_static(&call.function, why, call.loc.clone()));
                continue;
            }
        };
        let is_template = call.function == "templatefile";
        if let Some(f) = files.get(&path) {
            if is_template && scanned.insert(path) {
                let (text, id) = (f.text.clone(), f.source);
                if let (Some(text), Some(id)) = (text, id) {
                    template_file_calls(&text, id, &mut calls);
                }
            }
            continue;
        }
        let read = match dir.read_named(&path) {
            Ok(read) => read,
            Err(e) => {
                // Never the content: the file may be anything.
                diags.push(
                    Diagnostic::at(
                        format!("cannot read {path} for {}(): {e}", call.function),
                        call.loc.clone(),
                    )
                    .label("this file")
                    .help(format!(
                        "{}; a relative path is relative to the configuration directory and stays inside it, e.g. \"${{path.module}}/scripts/init.sh\"",
                        e.help()
                    )),
                );
                continue;
            }
        };
        let Some(read) = read else {
            files.insert(
                path,
                ConfigFile {
                    text: None,
                    source: None,
                },
            );
            continue;
        };
        let name = source_name(sources, &call.loc, &path);
        // Only the lines an error points at are quoted: `file()` reads anything.
        let id = sources.add_quoted(name, read.path, read.text.clone(), Quote::LinesOnly);
        if is_template {
            scanned.insert(path.clone());
            template_file_calls(&read.text, id, &mut calls);
        }
        files.insert(
            path,
            ConfigFile {
                text: Some(read.text),
                source: Some(id),
            },
        );
    }
    config.files = files;
}

/// The file-naming calls of a template file (source `id`); one that does not parse has none
/// here (`templatefile()` reports its syntax errors when it is evaluated).
fn template_file_calls(text: &str, id: crate::source::FileId, out: &mut Vec<FileCall>) {
    if let Ok(t) = plinth_expr::parse_template(text) {
        // The template's content starts at offset 0 of its own source.
        let node = Node {
            kind: NodeKind::Template(t),
            loc: Loc::new(id, 0..text.len()),
            content_offset: Some(0),
            escapes: None,
        };
        node_calls(&node, out);
    }
}

/// How the file appears in diagnostics: relative paths named like the TOML files (relative to
/// the configuration directory's parent), absolute ones as they are.
fn source_name(sources: &Sources, from: &Loc, path: &str) -> String {
    if std::path::Path::new(path).is_absolute() {
        return path.to_string();
    }
    let rel = path.strip_prefix("./").unwrap_or(path);
    match sources.get(from.file).name.rsplit_once('/') {
        Some((d, _)) => format!("{d}/{rel}"),
        None => rel.to_string(),
    }
}

fn not_static(function: &str, why: &NotStatic, loc: Loc) -> Diagnostic {
    let d = Diagnostic::at(
        format!("the path of {function}() must be known when the configuration is read"),
        loc,
    );
    match why {
        NotStatic::Cwd => d
            .label("path.cwd is the working directory plinth runs in, which changes between runs")
            .help("name the file relative to the configuration: \"${path.module}/scripts/init.sh\""),
        NotStatic::Dynamic => d
            .label("computed from other values")
            .help(format!(
                "write it as a string such as \"scripts/init.sh\" or \"${{path.module}}/scripts/init.sh\"; to choose between files, call {function}() on each and pick with a conditional"
            )),
    }
}

/// Every node of the configuration an expression may be in.
fn config_nodes(config: &Config) -> Vec<&Node> {
    let mut out = Vec::new();
    for r in &config.resources {
        out.push(&r.inputs);
        out.extend(r.for_each.iter());
        out.extend(r.count.iter());
    }
    out.extend(config.locals.iter().map(|l| &l.value));
    out.extend(config.outputs.iter().map(|o| &o.value));
    out.extend(config.actions.iter().map(|a| &a.inputs));
    out.extend(config.providers.iter().map(|p| &p.config));
    for m in &config.module_calls {
        out.extend(m.inputs.iter().map(|(_, _, n)| n));
        out.extend(m.for_each.iter());
        out.extend(m.count.iter());
        out.extend(m.providers.iter().map(|p| &p.config));
    }
    out
}

/// The file-naming calls in a node, recursively, in source order.
fn node_calls(node: &Node, out: &mut Vec<FileCall>) {
    match &node.kind {
        NodeKind::Lit(_) => {}
        NodeKind::Template(t) => template_calls(node, t, out),
        NodeKind::List(items) => items.iter().for_each(|n| node_calls(n, out)),
        NodeKind::Table(entries) => entries.iter().for_each(|(_, _, n)| node_calls(n, out)),
    }
}

fn template_calls(node: &Node, t: &Template, out: &mut Vec<FileCall>) {
    t.visit(&mut |e: &Expr| {
        let ExprKind::Call {
            name,
            args,
            expand_last,
            ..
        } = &e.kind
        else {
            return;
        };
        if !FILE_FUNCTIONS.contains(&name.as_str()) {
            return;
        }
        let (path, loc) = match args.first() {
            // `file()` with no argument: the evaluator reports the arity.
            None => return,
            Some(a) if *expand_last && args.len() == 1 => (Err(NotStatic::Dynamic), a),
            Some(a) => (static_path(a), a),
        };
        out.push(FileCall {
            function: name.clone(),
            path,
            loc: node.loc_of(&loc.span),
        });
    });
}

/// The path an argument gives when it is known without evaluating anything.
fn static_path(e: &Expr) -> Result<String, NotStatic> {
    match &e.kind {
        ExprKind::Literal(Value::String(s)) => Ok(s.clone()),
        ExprKind::Template(t) => static_template(t),
        ExprKind::Ref(_) => path_ref(e).map(str::to_string),
        _ => Err(NotStatic::Dynamic),
    }
}

fn static_template(t: &Template) -> Result<String, NotStatic> {
    let mut out = String::new();
    for p in &t.parts {
        match p {
            Part::Lit(s) => out.push_str(s),
            Part::Interp(e) => match &e.kind {
                ExprKind::Literal(Value::String(s)) => out.push_str(s),
                _ => out.push_str(path_ref(e)?),
            },
            Part::If { .. } | Part::For { .. } => return Err(NotStatic::Dynamic),
        }
    }
    Ok(out)
}

/// `path.module` or `path.root`: the configuration directory.
fn path_ref(e: &Expr) -> Result<&'static str, NotStatic> {
    let ExprKind::Ref(r) = &e.kind else {
        return Err(NotStatic::Dynamic);
    };
    match (r.root.as_str(), r.steps.as_slice()) {
        ("path", [RefStep::Attr { name, .. }]) if name == "module" || name == "root" => {
            Ok(CONFIG_DIR)
        }
        ("path", [RefStep::Attr { name, .. }]) if name == "cwd" => Err(NotStatic::Cwd),
        _ => Err(NotStatic::Dynamic),
    }
}
