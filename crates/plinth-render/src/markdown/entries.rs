//! Diff entries: the rows of an attribute table (`path | before | after`) and the blocks
//! after it (long values, unified diffs of long strings and embedded YAML/JSON).
//!
//! Uses `values` for what a value looks like and `syntax` for escaping.

use std::fmt::Write;
use std::time::Duration;

use plinth_value::{Path, Value};
use similar::TextDiff;

use super::syntax::{cell, code, fence_for, md_text};
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

/// One line of an attribute table, a list line after it (a long one-line value, such as an
/// ARM id: GitHub wraps a list line, while a table or a code block would hide the end of it
/// behind a scroll bar), or a block after those (multi-line values, diffs).
pub(super) enum Entry {
    Row(Vec<String>),
    Line(String),
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

/// A provider's note on a value, after it: `` `"…/roleDefinitions/090c…"` — Azure Service
/// Bus Data Owner ``.
fn with_note(value: String, note: Option<&str>) -> String {
    match note {
        Some(n) => format!("{value} — {}", md_text(n)),
        None => value,
    }
}

/// Whether a text form is long but one line (an id, a URL): shown in full as a list line.
fn one_long_line(t: &TextForm) -> bool {
    t.long && t.lang.is_empty() && !t.text.contains('\n')
}

/// An entry showing one value (creates, reads, deletes), with the provider's note on it.
pub(super) fn value_entry(p: &Path, v: &Value, note: Option<&str>, reveal: bool) -> Entry {
    match text_form(v, reveal) {
        Some(t) if one_long_line(&t) => Entry::Line(format!(
            "- {}: {}",
            code(&path_label(p)),
            with_note(code(&t.text), note)
        )),
        Some(t) if t.long => Entry::Block {
            label: with_note(format!("**{}**", code(&path_label(p))), note),
            lang: t.lang,
            text: t.text,
        },
        _ => Entry::Row(vec![
            label_md(p, false),
            with_note(inline(Some(v), reveal), note),
        ]),
    }
}

/// An entry showing a change of one path: a row `before → after`, or a unified diff when
/// either side is long and both can be shown.
pub(super) fn change_entry(
    p: &Path,
    before: Option<&Value>,
    after: Option<&Value>,
    forces: bool,
    note: Option<&str>,
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
    // A long value on one line (an id), whatever the other side: both in full on a list
    // line, which wraps (a unified diff of one line would scroll, and a table cell clip).
    let line_or_short = |s: &Option<Option<TextForm>>| match s {
        Some(Some(t)) => one_long_line(t) || !t.long,
        // Absent, hidden or unknown: a placeholder.
        _ => true,
    };
    if (long(&b) || long(&a)) && line_or_short(&b) && line_or_short(&a) {
        let full = |v: Option<&Value>, t: &Option<Option<TextForm>>| match t {
            Some(Some(t)) if t.long => code(&t.text),
            _ => inline(v, reveal),
        };
        let mut label = code(&path_label(p));
        if forces {
            label.push_str(" **forces replacement**");
        }
        return Entry::Line(format!(
            "- {label}: {} → {}",
            full(before, &b),
            with_note(full(after, &a), note)
        ));
    }
    if (long(&b) || long(&a))
        && let (Some(b), Some(a)) = (&b, &a)
    {
        fn text_of(t: &Option<TextForm>) -> &str {
            t.as_ref().map_or("", |t| t.text.as_str())
        }
        let (bt, at) = (text_of(b), text_of(a));
        let mut label = with_note(format!("**{}**", code(&path_label(p))), note);
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
        with_note(inline(after, reveal), note),
    ])
}

/// A table of the rows (with `headers`), then the blocks.
pub(super) fn entries_md(headers: &[&str], entries: Vec<Entry>) -> String {
    let mut table = String::new();
    let mut lines = Vec::new();
    let mut blocks = Vec::new();
    for e in entries {
        match e {
            Entry::Line(l) => lines.push(l),
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
    if !lines.is_empty() {
        parts.push(lines.join("\n"));
    }
    parts.extend(blocks);
    parts.join("\n\n")
}

/// Entries for every non-null leaf of `v`.
pub(super) fn leaf_entries(v: &Value, reveal: bool) -> Vec<Entry> {
    path_entries(v, &v.leaf_paths(), &|_| None, reveal)
}

/// Entries for the non-null values of `v` at `paths`, each with its note.
pub(super) fn path_entries<'a>(
    v: &Value,
    paths: &[Path],
    note: &dyn Fn(&Path) -> Option<&'a str>,
    reveal: bool,
) -> Vec<Entry> {
    paths
        .iter()
        .filter_map(|p| {
            let x = v.get(p)?;
            (!matches!(x, Value::Null)).then(|| value_entry(p, &x, note(p), reveal))
        })
        .collect()
}
