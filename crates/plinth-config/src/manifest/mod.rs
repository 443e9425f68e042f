//! `manifest_file = "x.yaml"`: a Kubernetes manifest kept as YAML beside the configuration,
//! interpolated with `${...}` like the rest of it (SPEC §2).
//!
//! The file is read when the configuration is loaded and becomes the resource's `manifest`
//! input, so everything downstream (references and dependencies, validation, planning, the
//! configuration digest that makes a saved plan stale) treats it exactly like a `manifest`
//! table written in TOML. The YAML file joins the configuration's sources, so errors in its
//! expressions are reported in it.
//!
//! A `k8s:manifests` resource takes `manifest_file` (every document of the file) or
//! `manifest_dir` (every `*.yaml`/`*.yml` of the directory, by name) as a `manifests` list
//! instead; a bad document is reported with its file, number and line.

use plinth_value::Value;

use crate::decl::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::files::ConfigDir;
use crate::node::{Node, NodeKind};
use crate::source::{FileId, Loc, Quote, Sources};
use crate::syntax::{interpolated_key, is_template_text, string_node};

mod set;

use set::{SET_TYPE, resolve_set};

/// Replaces every resource's `manifest_file` input with a `manifest` read from that file
/// (relative to the configuration directory `dir`, and inside it: see [`ConfigDir::read`]).
/// The YAML files join `sources`, which `config`'s locations point into (the root
/// configuration's, shared by every module).
pub fn resolve_manifest_files(
    config: &mut Config,
    sources: &mut Sources,
    dir: &ConfigDir,
    diags: &mut Diagnostics,
) {
    for i in 0..config.resources.len() {
        if config.resources[i].type_name == SET_TYPE {
            resolve_set(&mut config.resources[i], sources, dir, diags);
            continue;
        }
        let NodeKind::Table(entries) = &config.resources[i].inputs.kind else {
            continue;
        };
        if let Some((_, loc, _)) = entries.iter().find(|(k, _, _)| k == "manifest_dir") {
            diags.push(
                Diagnostic::at("`manifest_dir` is for k8s:manifests", loc.clone())
                    .label("manifest_dir")
                    .help("declare type = \"k8s:manifests\" to apply every object of a directory as one set, or name one object's YAML with manifest_file"),
            );
            continue;
        }
        let Some(pos) = entries.iter().position(|(k, _, _)| k == "manifest_file") else {
            continue;
        };
        let (_, key_loc, value) = &entries[pos];
        if let Some((_, other, _)) = entries.iter().find(|(k, _, _)| k == "manifest") {
            diags.push(
                Diagnostic::at(
                    "both `manifest` and `manifest_file` are set",
                    key_loc.clone(),
                )
                .label("manifest_file")
                .related(other.clone(), "manifest")
                .help("keep one: the manifest as a TOML table, or a YAML file"),
            );
            continue;
        }
        let rel = match &value.kind {
            NodeKind::Lit(Value::String(s)) => s.clone(),
            _ => {
                diags.push(
                    Diagnostic::at("`manifest_file` must be a plain file name", value.loc.clone())
                        .label(format!("found {}", value.shape()))
                        .help("write the path of a YAML file relative to the configuration directory, e.g. manifest_file = \"manifests/job.yaml\"; use ${...} inside the file instead"),
                );
                continue;
            }
        };
        let (path, text) = match dir.read(&rel) {
            Ok(f) => (f.path, f.text),
            Err(e) => {
                // Never the content: the file may be anything (`/proc/self/environ`).
                diags.push(
                    Diagnostic::at(
                        format!("cannot read manifest_file {rel}: {e}"),
                        value.loc.clone(),
                    )
                    .label("this file")
                    .help(format!(
                        "{}; manifest_file is a YAML file inside the configuration directory, e.g. manifest_file = \"manifests/job.yaml\"",
                        e.help()
                    )),
                );
                continue;
            }
        };
        let value_loc = value.loc.clone();
        // Named like the TOML files: relative to the configuration directory's parent.
        let name = match sources.get(value_loc.file).name.rsplit_once('/') {
            Some((d, _)) => format!("{d}/{rel}"),
            None => rel.clone(),
        };
        let file = sources.add(name, path, text.clone());
        match yaml_node(&text, file, &value_loc) {
            Err(d) if d.0.iter().any(|d| d.message.starts_with("invalid YAML")) => {
                // Its other lines may be anything: quote the offending line only.
                sources.set_quote(file, Quote::LinesOnly);
                diags.extend(d);
            }
            Ok(node) => {
                let NodeKind::Table(entries) = &mut config.resources[i].inputs.kind else {
                    unreachable!("checked above");
                };
                let key_loc = entries[pos].1.clone();
                entries[pos] = ("manifest".to_string(), key_loc, node);
            }
            Err(d) => diags.extend(d),
        }
    }
}

/// One YAML document of a file: where it starts, its number (from 1) and its value.
pub(crate) struct Doc {
    pub(crate) start: usize,
    pub(crate) number: usize,
    pub(crate) value: serde_json::Value,
}

/// The offsets where a file's YAML documents start: after each `---` line (a first part
/// holding only blank lines and comments before the first `---` is no document).
fn doc_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        at += line.len();
        let l = line.trim_end();
        if l == "---" || l.starts_with("--- ") {
            starts.push(at);
        }
    }
    if starts.len() > 1
        && text[..starts[1]]
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.starts_with("---"))
    {
        starts.remove(0);
    }
    starts
}

/// The 1-based line of `offset`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The documents of a YAML file, empty ones left out; a syntax error names its document.
pub(crate) fn yaml_docs(text: &str, file: FileId, from: &Loc) -> Result<Vec<Doc>, Diagnostics> {
    let whole = Loc::new(file, 0..text.len().min(1));
    let starts = doc_starts(text);
    let invalid = |e: serde_norway::Error| -> Diagnostics {
        let (at, doc) = match e.location() {
            Some(l) if starts.len() > 1 => (
                Loc::new(file, l.index()..l.index() + 1),
                format!(
                    " (document {})",
                    starts.iter().filter(|s| **s <= l.index()).count().max(1)
                ),
            ),
            Some(l) => (Loc::new(file, l.index()..l.index() + 1), String::new()),
            None => (whole.clone(), String::new()),
        };
        Diagnostic::at(format!("invalid YAML{doc}: {e}"), at)
            .label("here")
            .related(from.clone(), "read as manifest_file here")
            .into()
    };
    // First as YAML values, which refuse a key set twice in one mapping (a JSON value would
    // silently keep the last one).
    for doc in serde_norway::Deserializer::from_str(text) {
        <serde_norway::Value as serde::Deserialize>::deserialize(doc).map_err(invalid)?;
    }
    let mut values = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        values.push(<serde_json::Value as serde::Deserialize>::deserialize(doc).map_err(invalid)?);
    }
    // Documents are located where the `---` lines say when they agree with the parser.
    let located = starts.len() == values.len();
    Ok(values
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .map(|(i, value)| Doc {
            start: if located { starts[i] } else { 0 },
            number: i + 1,
            value,
        })
        .collect())
}

/// The node of a YAML document: one mapping (a single Kubernetes object).
fn yaml_node(text: &str, file: FileId, from: &Loc) -> Result<Node, Diagnostics> {
    let whole = Loc::new(file, 0..text.len().min(1));
    let mut docs = yaml_docs(text, file, from)?;
    let doc = match docs.len() {
        1 => docs.remove(0).value,
        n => {
            return Err(Diagnostic::at(
                format!(
                    "a manifest_file must hold exactly one object; this one has {n} YAML documents"
                ),
                from.clone(),
            )
            .help("declare type = \"k8s:manifests\" to apply them all as one set, or split the file, one manifest_file each")
            .into());
        }
    };
    if !doc.is_object() {
        return Err(Diagnostic::at(
            "a manifest_file must hold a YAML mapping (a Kubernetes object)",
            from.clone(),
        )
        .into());
    }
    let mut diags = Diagnostics::default();
    let mut cursor = 0;
    let node = to_node(&doc, text, file, &whole, &mut cursor, &mut diags);
    diags.into_result().map(|()| node)
}

/// Converts a YAML value to a node. Strings holding `${...}` or `%{...}` become templates, located at
/// their first occurrence in the file at or after `cursor` (serde_norway gives no spans), so
/// errors in them point at the right line in the common case.
pub(crate) fn to_node(
    v: &serde_json::Value,
    text: &str,
    file: FileId,
    whole: &Loc,
    cursor: &mut usize,
    diags: &mut Diagnostics,
) -> Node {
    let lit = |v: Value| Node {
        kind: NodeKind::Lit(v),
        loc: whole.clone(),
        content_offset: None,
        escapes: None,
    };
    match v {
        serde_json::Value::String(s) if is_template_text(s) => {
            let found = text.get(*cursor..).and_then(|t| t.find(s.as_str()));
            let (loc, offset) = match found {
                Some(i) => {
                    let start = *cursor + i;
                    *cursor = start + s.len();
                    (Loc::new(file, start..start + s.len()), Some(start))
                }
                None => (whole.clone(), None),
            };
            let (n, err) = string_node(s, loc, offset, None);
            if let Some(d) = err {
                diags.push(d);
            }
            n
        }
        serde_json::Value::Array(items) => Node {
            kind: NodeKind::List(
                items
                    .iter()
                    .map(|i| to_node(i, text, file, whole, cursor, diags))
                    .collect(),
            ),
            loc: whole.clone(),
            content_offset: None,
            escapes: None,
        },
        serde_json::Value::Object(m) => Node {
            kind: NodeKind::Table(
                m.iter()
                    .map(|(k, v)| {
                        if is_template_text(k) {
                            let at = text
                                .get(*cursor..)
                                .and_then(|t| t.find(k.as_str()))
                                .map(|i| Loc::new(file, *cursor + i..*cursor + i + k.len()))
                                .unwrap_or(whole.clone());
                            if let Some(d) = interpolated_key(k, &at) {
                                diags.push(d);
                            }
                        }
                        (
                            k.clone(),
                            whole.clone(),
                            to_node(v, text, file, whole, cursor, diags),
                        )
                    })
                    .collect(),
            ),
            loc: whole.clone(),
            content_offset: None,
            escapes: None,
        },
        other => lit(Value::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_start_after_their_separators() {
        assert_eq!(doc_starts("a: 1\n"), [0]);
        assert_eq!(doc_starts("a: 1\n---\nb: 2\n"), [0, 9]);
        // A leading separator (after comments) opens the first document.
        assert_eq!(doc_starts("# x\n---\nb: 2\n--- \nc: 3\n"), [8, 18]);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
