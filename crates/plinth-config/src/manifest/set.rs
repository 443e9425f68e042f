//! `k8s:manifests` sets: `manifest_file` (every document of one YAML file) or `manifest_dir`
//! (every `*.yaml`/`*.yml` of a directory, by name) read at load time into the resource's
//! `manifests` list, each document checked (a mapping with `kind` and `metadata.name`, no
//! object twice) and reported with its file, number and line.

use plinth_value::Value;

use super::{line_of, to_node, yaml_docs};
use crate::diag::{Diagnostic, Diagnostics};
use crate::files::ConfigDir;
use crate::node::{Node, NodeKind};
use crate::source::{Loc, Quote, Sources};
use crate::syntax::is_template_text;

/// The type whose `manifest_file` / `manifest_dir` holds a set of objects.
pub(super) const SET_TYPE: &str = "k8s:manifests";

/// A `k8s:manifests` resource: `manifest_file` (every document of one file) or
/// `manifest_dir` (every `*.yaml`/`*.yml` of a directory, by name) becomes its `manifests`
/// input, a list of the objects in file order. Each document must be a mapping with a
/// `kind` and a `metadata.name`; the same object twice is an error.
pub(super) fn resolve_set(
    decl: &mut crate::decl::ResourceDecl,
    sources: &mut Sources,
    dir: &ConfigDir,
    diags: &mut Diagnostics,
) {
    let NodeKind::Table(entries) = &decl.inputs.kind else {
        return;
    };
    let given: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, (k, _, _))| k == "manifest_file" || k == "manifest_dir")
        .map(|(i, _)| i)
        .collect();
    let [pos] = given[..] else {
        if given.len() > 1 {
            diags.push(
                Diagnostic::at(
                    "both `manifest_file` and `manifest_dir` are set",
                    entries[given[1]].1.clone(),
                )
                .related(entries[given[0]].1.clone(), "the other")
                .help("keep one: a multi-document YAML file, or a directory of them"),
            );
        }
        return;
    };
    let (key, key_loc, value) = &entries[pos];
    let is_dir = key == "manifest_dir";
    if let Some((_, other, _)) = entries.iter().find(|(k, _, _)| k == "manifests") {
        diags.push(
            Diagnostic::at(
                format!("both `manifests` and `{key}` are set"),
                key_loc.clone(),
            )
            .related(other.clone(), "manifests")
            .help("keep one: the objects as TOML tables, or YAML"),
        );
        return;
    }
    let NodeKind::Lit(Value::String(rel)) = &value.kind else {
        diags.push(
            Diagnostic::at(format!("`{key}` must be a plain path"), value.loc.clone())
                .label(format!("found {}", value.shape()))
                .help("write a path relative to the configuration directory, e.g. manifest_file = \"manifests/guide.yaml\" or manifest_dir = \"manifests\"; use ${...} inside the YAML instead"),
        );
        return;
    };
    let (rel, value_loc, key_loc) = (rel.clone(), value.loc.clone(), key_loc.clone());
    let cannot = |what: String, help: &str| {
        Diagnostic::at(what, value_loc.clone())
            .label(format!(
                "this {}",
                if is_dir { "directory" } else { "file" }
            ))
            .help(help.to_string())
    };
    let files = if is_dir {
        match yaml_files_in(dir, &rel) {
            Ok(f) if f.is_empty() => {
                diags.push(cannot(
                    format!("manifest_dir {rel} holds no *.yaml or *.yml file"),
                    "put the YAML files there, or name one with manifest_file",
                ));
                return;
            }
            Ok(f) => f,
            Err(e) => {
                diags.push(cannot(
                    format!("cannot read manifest_dir {rel}: {e}"),
                    &format!(
                        "{}; manifest_dir is a directory inside the configuration directory",
                        e.help()
                    ),
                ));
                return;
            }
        }
    } else {
        vec![rel.clone()]
    };
    let mut nodes = Vec::new();
    // Literal identities seen so far: (apiVersion, kind, namespace, name) -> where.
    let mut seen: Vec<([String; 4], Loc)> = Vec::new();
    for file_rel in files {
        let f = match dir.read(&file_rel) {
            Ok(f) => f,
            Err(e) => {
                // Never the content: the file may be anything.
                diags.push(cannot(
                    format!("cannot read {file_rel}: {e}"),
                    &format!(
                        "{}; the YAML must be inside the configuration directory",
                        e.help()
                    ),
                ));
                continue;
            }
        };
        let name = match sources.get(value_loc.file).name.rsplit_once('/') {
            Some((d, _)) => format!("{d}/{file_rel}"),
            None => file_rel.clone(),
        };
        let text = f.text.clone();
        let file = sources.add(name, f.path, f.text);
        let docs = match yaml_docs(&text, file, &value_loc) {
            Ok(d) => d,
            Err(d) => {
                sources.set_quote(file, Quote::LinesOnly);
                diags.extend(d);
                continue;
            }
        };
        for doc in docs {
            let at = Loc::new(file, doc.start..(doc.start + 1).min(text.len()));
            let whole = at.clone();
            let located = |msg: String| {
                Diagnostic::at(
                    format!(
                        "{file_rel}, document {} (line {}): {msg}",
                        doc.number,
                        line_of(&text, doc.start)
                    ),
                    at.clone(),
                )
                .related(value_loc.clone(), "read for this k8s:manifests set")
            };
            let text_at = |path: &[&str]| {
                path.iter()
                    .try_fold(&doc.value, |v, k| v.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            if !doc.value.is_object() {
                diags.push(located("not a YAML mapping (a Kubernetes object)".into()).help("each document between --- lines is one object: apiVersion, kind, metadata, ..."));
                continue;
            }
            let (Some(kind), Some(obj_name)) = (text_at(&["kind"]), text_at(&["metadata", "name"]))
            else {
                diags.push(located("the object has no `kind` or no `metadata.name`".into()).help("every object of a set needs apiVersion, kind and metadata.name: the set tells its objects apart by them"));
                continue;
            };
            let is_secret = kind == "Secret" && text_at(&["apiVersion"]).as_deref() == Some("v1");
            let identity = [
                text_at(&["apiVersion"]).unwrap_or_default(),
                kind.clone(),
                text_at(&["metadata", "namespace"]).unwrap_or_default(),
                obj_name.clone(),
            ];
            if !identity.iter().any(|s| is_template_text(s)) {
                if let Some((_, first)) = seen.iter().find(|(i, _)| *i == identity) {
                    diags.push(
                        located(format!("{kind} {obj_name} is already in the set"))
                            .related(first.clone(), "first here")
                            .help("remove one of the two documents, or give one another name"),
                    );
                    continue;
                }
                seen.push((identity, at.clone()));
            }
            let mut cursor = doc.start;
            let mut d = Diagnostics::default();
            let mut node = to_node(&doc.value, &text, file, &whole, &mut cursor, &mut d);
            if is_secret {
                secret_content(&mut node);
            }
            if d.0.is_empty() {
                nodes.push(node);
            } else {
                diags.extend(d);
            }
        }
    }
    let NodeKind::Table(entries) = &mut decl.inputs.kind else {
        unreachable!("checked above");
    };
    entries[pos] = (
        "manifests".to_string(),
        key_loc,
        Node {
            kind: NodeKind::List(nodes),
            loc: value_loc,
            content_offset: None,
            escapes: None,
        },
    );
}

/// Marks what a Secret's YAML writes literally under `data` and `stringData` sensitive, as
/// the provider marks a `k8s:v1/Secret`'s (`${...}` there is as sensitive as what it refers to).
fn secret_content(node: &mut Node) {
    fn mark(n: &mut Node) {
        match &mut n.kind {
            NodeKind::Lit(v) if !v.is_sensitive() => *v = Value::sensitive(v.clone()),
            NodeKind::List(items) => items.iter_mut().for_each(mark),
            NodeKind::Table(entries) => entries.iter_mut().for_each(|(_, _, n)| mark(n)),
            _ => {}
        }
    }
    if let NodeKind::Table(entries) = &mut node.kind {
        for (k, _, n) in entries.iter_mut() {
            if k == "data" || k == "stringData" {
                mark(n);
            }
        }
    }
}

/// The `*.yaml` and `*.yml` files of directory `rel` (inside the configuration directory),
/// sorted by name, as paths relative to the configuration directory.
fn yaml_files_in(dir: &ConfigDir, rel: &str) -> Result<Vec<String>, crate::files::FileError> {
    let real = dir.resolve(rel)?;
    let entries =
        std::fs::read_dir(&real).map_err(|e| crate::files::FileError::Io(e.to_string()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| (n.ends_with(".yaml") || n.ends_with(".yml")) && !n.starts_with('.'))
        .collect();
    names.sort();
    let base = rel.trim_end_matches('/');
    Ok(names.into_iter().map(|n| format!("{base}/{n}")).collect())
}
