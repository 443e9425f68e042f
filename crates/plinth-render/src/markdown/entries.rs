//! Diff entries: the rows of an attribute table (`path | before | after`) and the blocks
//! after it (long values, unified diffs of long strings and embedded YAML/JSON).
//!
//! Uses `values` for what a value looks like and `syntax` for escaping.

use std::fmt::Write;
use std::time::Duration;

use plinth_value::{Path, Value};
use similar::TextDiff;

use super::syntax::{cell, code, fence_for};
use super::values::{TextForm, inline, path_label, text_form};

/// Texts longer than this are not diffed (the diff would not be read anyway).
const DIFF_MAX_INPUT: usize = 256 * 1024;
/// How long one diff may take before `similar` settles for a coarser one.
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);

/// A unified diff of two texts (3 lines of context).
fn unified_diff(before: &str, after: &str) -> String {
    let norm = |s: &str| {
        if s.is_empty() || s.ends_with('\n') {
            s.to_string()
        } else {
            format!("{s}\n")
        }
    };
    let (a, b) = (norm(before), norm(after));
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(a.as_str(), b.as_str());
    diff.unified_diff()
        .context_radius(3)
        .missing_newline_hint(false)
        .to_string()
}

/// One line of an attribute table, or a block shown after it.
pub(super) enum Entry {
    Row(Vec<String>),
    Block {
        label: String,
        lang: &'static str,
        text: String,
    },
}

/// The label of a path in a table (Markdown).
fn label_md(p: &Path, forces: bool) -> String {
    let mut s = code(&path_label(p));
    if forces {
        s.push_str(" **forces replacement**");
    }
    s
}

/// An entry showing one value (creates, reads, deletes).
fn value_entry(p: &Path, v: &Value, reveal: bool) -> Entry {
    match text_form(v, reveal) {
        Some(t) if t.long => Entry::Block {
            label: format!("**{}**", code(&path_label(p))),
            lang: t.lang,
            text: t.text,
        },
        _ => Entry::Row(vec![label_md(p, false), inline(Some(v), reveal)]),
    }
}

/// An entry showing a change of one path: a row `before → after`, or a unified diff when
/// either side is long and both can be shown.
pub(super) fn change_entry(
    p: &Path,
    before: Option<&Value>,
    after: Option<&Value>,
    forces: bool,
    reveal: bool,
) -> Entry {
    // A value that is sensitive on one side is hidden on both.
    let secret = before.is_some_and(Value::is_sensitive) || after.is_some_and(Value::is_sensitive);
    let mark = |v: Option<&Value>| {
        v.map(|v| {
            if secret {
                Value::sensitive(v.clone())
            } else {
                v.clone()
            }
        })
    };
    let (before, after) = (mark(before), mark(after));
    let (before, after) = (before.as_ref(), after.as_ref());
    let side = |v: Option<&Value>| -> Option<Option<TextForm>> {
        match v {
            None => Some(None),
            Some(v) => text_form(v, reveal).map(Some),
        }
    };
    let (b, a) = (side(before), side(after));
    let long = |s: &Option<Option<TextForm>>| matches!(s, Some(Some(t)) if t.long);
    if (long(&b) || long(&a))
        && let (Some(b), Some(a)) = (&b, &a)
    {
        fn text_of(t: &Option<TextForm>) -> &str {
            t.as_ref().map_or("", |t| t.text.as_str())
        }
        let (bt, at) = (text_of(b), text_of(a));
        let mut label = format!("**{}**", code(&path_label(p)));
        if forces {
            label.push_str(" — **forces replacement**");
        }
        let text = if bt.len() > DIFF_MAX_INPUT || at.len() > DIFF_MAX_INPUT {
            format!(
                "(too large to diff: {} lines before, {} lines after)\n",
                bt.lines().count(),
                at.lines().count()
            )
        } else {
            let d = unified_diff(bt, at);
            if d.is_empty() {
                "(the texts differ only in formatting)\n".to_string()
            } else {
                d
            }
        };
        return Entry::Block {
            label,
            lang: "diff",
            text,
        };
    }
    Entry::Row(vec![
        label_md(p, forces),
        inline(before, reveal),
        inline(after, reveal),
    ])
}

/// A table of the rows (with `headers`), then the blocks.
pub(super) fn entries_md(headers: &[&str], entries: Vec<Entry>) -> String {
    let mut table = String::new();
    let mut blocks = Vec::new();
    for e in entries {
        match e {
            Entry::Row(cells) => {
                if table.is_empty() {
                    let _ = writeln!(table, "| {} |", headers.join(" | "));
                    let _ = writeln!(table, "|{}", "---|".repeat(headers.len()));
                }
                let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
                let _ = writeln!(table, "| {} |", cells.join(" | "));
            }
            Entry::Block { label, lang, text } => {
                let fence = fence_for(&text);
                let nl = if text.ends_with('\n') { "" } else { "\n" };
                blocks.push(format!("{label}\n\n{fence}{lang}\n{text}{nl}{fence}"));
            }
        }
    }
    let mut parts = Vec::new();
    if !table.is_empty() {
        parts.push(table.trim_end().to_string());
    }
    parts.extend(blocks);
    parts.join("\n\n")
}

/// Entries for every non-null leaf of `v`.
pub(super) fn leaf_entries(v: &Value, reveal: bool) -> Vec<Entry> {
    v.leaf_paths()
        .into_iter()
        .filter_map(|p| {
            let x = v.get(&p)?;
            (!matches!(x, Value::Null)).then(|| value_entry(&p, &x, reveal))
        })
        .collect()
}
