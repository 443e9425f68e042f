//! The Markdown rendering: what a pull request shows (GitHub-flavoured).
//!
//! Layout, top to bottom:
//! 1. a title line;
//! 2. a `> [!CAUTION]` block listing every object the plan deletes or replaces, and why;
//! 3. the plan's warnings (e.g. `--target`);
//! 4. a summary table of actions per provider (the type prefix before `:`) with totals, and
//!    the summary sentence;
//! 5. a note saying what was cut, when the rendering had to be shortened;
//! 6. changes made outside plinth (drift), apart from the intended changes;
//! 7. each changed resource in a collapsible `<details>` section, grouped by action, with
//!    attribute-level diffs (long strings and embedded YAML/JSON as unified diffs);
//! 8. output changes;
//! 9. a Mermaid graph of the changed resources and their dependencies (when there are any).
//!
//! Sensitive values are shown as `(sensitive)` unless [`MarkdownOptions::show_sensitive`]:
//! they are hidden before any text is built, so they never reach a diff. Unknown values are
//! shown as `(known after apply)`.
//!
//! The result never exceeds [`MarkdownOptions::max_chars`] characters. When the full
//! rendering would, it is shortened progressively — attribute details of the largest
//! resources first, then the graph, then the lists themselves — and a note says what was cut.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::time::Duration;

use plinth_plan::{
    Action, Drift, Kind, OutputChange, Plan, PlanMode, ReplaceOrder, ResourceChange, Summary,
};
use plinth_value::{Path, SENSITIVE_TEXT, UNKNOWN_TEXT, Value};
use similar::TextDiff;

/// GitHub's limit on the length of a comment, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// How to render.
#[derive(Clone, Copy, Debug)]
pub struct MarkdownOptions {
    /// Reveal sensitive values (`--show-sensitive`).
    pub show_sensitive: bool,
    /// Hard limit on output length in characters (GitHub comment limit).
    pub max_chars: usize,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            show_sensitive: false,
            max_chars: GITHUB_COMMENT_LIMIT,
        }
    }
}

/// A string value longer than this (in characters), or spanning lines, is shown as a block
/// (a unified diff for changes) rather than inline.
const LONG_VALUE: usize = 80;
/// Inline renderings are cut to this many characters (only when the full value cannot be
/// shown as a block, e.g. when the other side of a change is unknown).
const INLINE_MAX: usize = 80;
/// Texts longer than this are not diffed (the diff would not be read anyway).
const DIFF_MAX_INPUT: usize = 256 * 1024;
/// How long one diff may take before `similar` settles for a coarser one.
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);
/// Above these, a Mermaid graph is not drawn: GitHub's Mermaid refuses more than 500 edges
/// and 50,000 characters, and a larger graph would not be readable anyway.
const GRAPH_MAX_NODES: usize = 200;
const GRAPH_MAX_EDGES: usize = 500;
const GRAPH_MAX_CHARS: usize = 40_000;

/// The order in which action groups are shown: the dangerous ones first.
const GROUP_ORDER: [Action; 6] = [
    Action::Delete,
    Action::Replace,
    Action::Update,
    Action::Create,
    Action::Run,
    Action::Read,
];

/// Renders a plan as GitHub-flavoured Markdown of at most `opts.max_chars` characters.
pub fn render(plan: &Plan, opts: &MarkdownOptions) -> String {
    let doc = Doc::build(plan, opts);
    fit(&doc, opts.max_chars)
}

// ---------------------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------------------

/// Escapes text for Markdown outside code spans: every character that could start
/// emphasis, a link, HTML, an entity, math or a heading is backslash-escaped. Pipes are
/// left to [`cell`]; line breaks become spaces.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '#' | '!' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// An inline code span holding `s` verbatim: the fence is longer than any run of backticks
/// inside, and padded when the content would otherwise lose or merge characters.
fn code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if s.is_empty() {
        return "` `".to_string();
    }
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = s.starts_with('`')
        || s.ends_with('`')
        || (s.starts_with(' ') && s.ends_with(' ') && !s.trim().is_empty());
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// The longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Makes Markdown safe inside a table cell: every pipe is escaped (GFM unescapes `\|`
/// before parsing the cell's content, code spans included).
fn cell(md: &str) -> String {
    md.replace('|', "\\|")
}

/// Escapes text for HTML (inside `<summary>`, where Markdown is not parsed).
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// A code fence long enough for `text`.
fn fence_for(text: &str) -> String {
    "`".repeat(longest_run(text, '`').max(2) + 1)
}

// ---------------------------------------------------------------------------------------
// Rich text: plain text with code spans, rendered as Markdown or as HTML
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Seg {
    Text(String),
    Code(String),
}

/// A short phrase of text and code spans.
#[derive(Clone, Debug, Default)]
struct Rich(Vec<Seg>);

impl Rich {
    fn text(s: impl Into<String>) -> Self {
        Rich(vec![Seg::Text(s.into())])
    }

    /// Parses the engine's convention for reasons: backtick-quoted parts are code. With
    /// unbalanced backticks, the whole is text.
    fn parse(s: &str) -> Self {
        let parts: Vec<&str> = s.split('`').collect();
        if parts.len().is_multiple_of(2) {
            return Rich::text(s);
        }
        Rich(
            parts
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.is_empty())
                .map(|(i, p)| {
                    if i % 2 == 1 {
                        Seg::Code((*p).to_string())
                    } else {
                        Seg::Text((*p).to_string())
                    }
                })
                .collect(),
        )
    }

    fn push_text(&mut self, s: impl Into<String>) -> &mut Self {
        self.0.push(Seg::Text(s.into()));
        self
    }

    fn push_code(&mut self, s: impl Into<String>) -> &mut Self {
        self.0.push(Seg::Code(s.into()));
        self
    }

    fn append(&mut self, other: Rich) -> &mut Self {
        self.0.extend(other.0);
        self
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn md(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Text(t) => md_text(t),
                Seg::Code(c) => code(c),
            })
            .collect()
    }

    fn html(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Text(t) => html(t),
                Seg::Code(c) => format!("<code>{}</code>", html(c)),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

fn hidden(v: &Value, reveal: bool) -> bool {
    !reveal && v.is_sensitive()
}

/// A value as one line of Markdown (a code span, or an italic placeholder).
fn inline(v: Option<&Value>, reveal: bool) -> String {
    match v {
        None => "*(none)*".to_string(),
        Some(v) if hidden(v, reveal) => format!("*{SENSITIVE_TEXT}*"),
        Some(v) if v.is_unknown() => format!("*{UNKNOWN_TEXT}*"),
        Some(v) => {
            let text = if reveal {
                v.render_revealed()
            } else {
                v.render()
            };
            code(&abbreviate(&text, INLINE_MAX))
        }
    }
}

/// `s`, cut to `max` characters with an ellipsis.
fn abbreviate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A value as multi-line text, for blocks and diffs.
struct TextForm {
    text: String,
    /// Too long (or multi-line) to show inline.
    long: bool,
    /// The fence's info string.
    lang: &'static str,
}

/// The multi-line text of a value, or `None` when it must not or cannot be shown (hidden
/// sensitive, unknown). Sensitive parts inside are replaced by `(sensitive)` unless
/// `reveal`: the text returned never holds a hidden secret.
fn text_form(v: &Value, reveal: bool) -> Option<TextForm> {
    if hidden(v, reveal) || v.is_unknown() {
        return None;
    }
    match v.unmarked() {
        Value::String(s) => {
            let long = s.contains('\n') || s.chars().count() > LONG_VALUE;
            Some(match embedded_json(s) {
                Some(pretty) if long => TextForm {
                    text: pretty,
                    long,
                    lang: "json",
                },
                _ => TextForm {
                    text: s.clone(),
                    long,
                    lang: "",
                },
            })
        }
        inner @ (Value::Map(_) | Value::List(_)) => {
            let one_line = if reveal {
                inner.render_revealed()
            } else {
                inner.render()
            };
            let mut text = String::new();
            pretty(inner, reveal, 0, &mut text);
            Some(TextForm {
                text,
                long: one_line.chars().count() > LONG_VALUE,
                lang: "json",
            })
        }
        other => Some(TextForm {
            text: other.render(),
            long: false,
            lang: "",
        }),
    }
}

/// A string holding a JSON object or array, pretty-printed.
fn embedded_json(s: &str) -> Option<String> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(j @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(&j).ok()
        }
        _ => None,
    }
}

/// Pretty-prints a value as indented JSON, marks shown as bare placeholders.
fn pretty(v: &Value, reveal: bool, depth: usize, out: &mut String) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Sensitive(inner) if reveal => pretty(inner, reveal, depth, out),
        Value::Sensitive(_) => out.push_str(SENSITIVE_TEXT),
        Value::Unknown => out.push_str(UNKNOWN_TEXT),
        Value::List(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, x) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                pretty(x, reveal, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::Map(m) if !m.is_empty() => {
            out.push_str("{\n");
            for (i, (k, x)) in m.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(": ");
                pretty(x, reveal, depth + 1, out);
                out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        other => out.push_str(&other.render()),
    }
}

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

fn path_label(p: &Path) -> String {
    if p.is_root() {
        "(value)".to_string()
    } else {
        p.to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Attribute tables
// ---------------------------------------------------------------------------------------

/// One line of an attribute table, or a block shown after it.
enum Entry {
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
fn change_entry(
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
fn entries_md(headers: &[&str], entries: Vec<Entry>) -> String {
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
fn leaf_entries(v: &Value, reveal: bool) -> Vec<Entry> {
    v.leaf_paths()
        .into_iter()
        .filter_map(|p| {
            let x = v.get(&p)?;
            (!matches!(x, Value::Null)).then(|| value_entry(&p, &x, reveal))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------

/// One entry of a list that can be shown with its details or as a single line.
struct Item {
    /// With details (a `<details>` block), or the line itself when there are none.
    full: String,
    /// One Markdown list line.
    short: String,
}

impl Item {
    fn new(verb: &str, address: &str, type_name: &str, notes: &Rich, body: String) -> Item {
        let mut short = format!(
            "- **{}** {} ({})",
            md_text(verb),
            code(address),
            md_text(type_name)
        );
        if !notes.is_empty() {
            let _ = write!(short, " — {}", notes.md());
        }
        let full = if body.trim().is_empty() {
            short.clone()
        } else {
            let mut summary = format!(
                "<b>{}</b> <code>{}</code> ({})",
                html(verb),
                html(address),
                html(type_name)
            );
            if !notes.is_empty() {
                let _ = write!(summary, " — {}", notes.html());
            }
            format!(
                "<details><summary>{summary}</summary>\n\n{}\n\n</details>",
                body.trim()
            )
        };
        Item { full, short }
    }

    fn has_details(&self) -> bool {
        self.full != self.short
    }

    fn savings(&self) -> usize {
        self.full
            .chars()
            .count()
            .saturating_sub(self.short.chars().count())
    }
}

/// A titled list of items.
struct Section {
    /// The heading and any introduction.
    head: String,
    items: Vec<Item>,
}

/// Everything the rendering can show, built once; [`fit`] picks how much of it.
struct Doc {
    title: String,
    /// The caution block's introduction, and one line per deleted or replaced object.
    caution: Option<(String, Vec<String>)>,
    /// Warnings and targets (always shown).
    notices: String,
    /// The summary table and sentence, or "No changes."
    overview: String,
    drift: Option<Section>,
    /// A short note on records settled from an interrupted run.
    settled: String,
    /// The `### Changes` heading and one section per action group.
    changes_head: String,
    groups: Vec<Section>,
    /// The outputs heading and table header, and one row per output.
    outputs: Option<(String, Vec<String>)>,
    /// The graph section: drawn (and so cuttable), or a short note saying why it is not.
    graph: Option<Graph>,
}

/// The dependency graph section.
enum Graph {
    Drawn(String),
    NotDrawn(String),
}

/// What to cut.
struct Cuts {
    /// Per item (drift items first, then change items in display order): show only its line.
    dropped: Vec<bool>,
    /// Leave the graph out.
    cut_graph: bool,
    /// Show at most this many entries of each list.
    limit: usize,
}

impl Doc {
    fn build(plan: &Plan, opts: &MarkdownOptions) -> Doc {
        let reveal = opts.show_sensitive;
        let summary = plan.summary();
        let changing: Vec<&ResourceChange> = plan
            .changes
            .iter()
            .filter(|c| c.action.is_change())
            .collect();
        let refresh_only = plan.mode == PlanMode::RefreshOnly;
        let no_changes = refresh_only || !plan.has_changes();
        let drift: Vec<&Drift> = plan
            .drift
            .iter()
            .filter(|d| !d.reconciled && d.is_reportable())
            .collect();

        let title = match plan.mode {
            PlanMode::Normal => "## plinth plan",
            PlanMode::Destroy => "## plinth plan: destroy",
            PlanMode::RefreshOnly => "## plinth plan: refresh only",
        }
        .to_string();

        let caution = if no_changes {
            None
        } else {
            caution_block(&changing)
        };
        let notices = notices(plan);
        let overview = if refresh_only {
            if drift.is_empty() {
                "**No changes.** Everything in state matches what exists.".to_string()
            } else {
                "Applying this refresh-only plan records the changes made outside plinth (below) in state; it changes nothing else.".to_string()
            }
        } else if no_changes {
            let reads = changing.iter().filter(|c| c.action == Action::Read).count();
            let mut s = "**No changes.** The infrastructure matches the configuration.".to_string();
            if reads > 0 {
                let _ = write!(
                    s,
                    " ({reads} data source{} read.)",
                    if reads == 1 { "" } else { "s" }
                );
            }
            s
        } else {
            overview_table(&changing, &summary)
        };

        let drift_section = (!drift.is_empty()).then(|| drift_section(plan, &drift, reveal));
        let settled = settled_note(plan);

        let recreated: BTreeSet<&str> = drift
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| d.address.as_str())
            .collect();
        let mut groups = Vec::new();
        if !no_changes {
            for a in GROUP_ORDER {
                let items: Vec<Item> = changing
                    .iter()
                    .filter(|c| c.action == a)
                    .map(|c| change_item(c, &recreated, reveal))
                    .collect();
                if !items.is_empty() {
                    groups.push(Section {
                        head: format!("#### {} ({})", group_title(a), thousands(items.len())),
                        items,
                    });
                }
            }
        }
        let outputs = if no_changes {
            None
        } else {
            outputs_section(&plan.outputs, reveal)
        };
        let graph = if no_changes || changing.is_empty() {
            None
        } else {
            graph_section(plan, &groups_order(&changing))
        };
        Doc {
            title,
            caution,
            notices,
            overview,
            drift: drift_section,
            settled,
            changes_head: "### Changes".to_string(),
            groups,
            outputs,
            graph,
        }
    }

    /// Every list item, drift first, then changes in display order.
    fn items(&self) -> impl Iterator<Item = &Item> {
        self.drift
            .iter()
            .flat_map(|s| s.items.iter())
            .chain(self.groups.iter().flat_map(|g| g.items.iter()))
    }

    /// The length of the longest list.
    fn longest_list(&self) -> usize {
        let changes: usize = self.groups.iter().map(|g| g.items.len()).sum();
        [
            changes,
            self.drift.as_ref().map_or(0, |d| d.items.len()),
            self.caution.as_ref().map_or(0, |c| c.1.len()),
            self.outputs.as_ref().map_or(0, |o| o.1.len()),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// Puts the document together with `cuts` applied.
    fn assemble(&self, cuts: &Cuts, max_chars: usize) -> String {
        let mut blocks: Vec<String> = vec![self.title.clone()];
        let mut cut_parts: Vec<String> = Vec::new();
        let limit = cuts.limit;

        if let Some((intro, lines)) = &self.caution {
            let mut b = intro.clone();
            for l in lines.iter().take(limit) {
                b.push('\n');
                b.push_str(l);
            }
            if lines.len() > limit {
                let more = lines.len() - limit;
                let _ = write!(b, "\n> - … and {} more not listed here", thousands(more));
                cut_parts.push(format!(
                    "{} of the {} entries of the list of deleted and replaced resources",
                    thousands(more),
                    thousands(lines.len())
                ));
            }
            blocks.push(b);
        }
        if !self.notices.is_empty() {
            blocks.push(self.notices.clone());
        }
        blocks.push(self.overview.clone());
        let note_at = blocks.len();

        let mut index = 0usize;
        // Of the items shown: how many have details, and how many of those were dropped.
        let mut with_details = 0usize;
        let mut dropped_details = 0usize;
        let mut render_section = |s: &Section, shown: &mut usize, blocks: &mut Vec<String>| {
            let mut body = s.head.clone();
            let mut prev_line = false;
            for item in &s.items {
                let i = index;
                index += 1;
                if *shown >= limit {
                    continue;
                }
                *shown += 1;
                let drop = cuts.dropped.get(i).copied().unwrap_or(false);
                if item.has_details() {
                    with_details += 1;
                    if drop {
                        dropped_details += 1;
                    }
                }
                let (text, line) = if drop || !item.has_details() {
                    (&item.short, true)
                } else {
                    (&item.full, false)
                };
                body.push_str(if line && prev_line { "\n" } else { "\n\n" });
                body.push_str(text);
                prev_line = line;
            }
            blocks.push(body);
        };

        if let Some(d) = &self.drift {
            let mut shown = 0;
            render_section(d, &mut shown, &mut blocks);
            if d.items.len() > shown {
                let more = d.items.len() - shown;
                blocks.push(format!("- … and {} more not listed here", thousands(more)));
                cut_parts.push(format!(
                    "{} of the {} entries about changes made outside plinth",
                    thousands(more),
                    thousands(d.items.len())
                ));
            }
        }
        if !self.settled.is_empty() {
            blocks.push(self.settled.clone());
        }
        if !self.groups.is_empty() {
            blocks.push(self.changes_head.clone());
            let mut shown = 0;
            let total: usize = self.groups.iter().map(|g| g.items.len()).sum();
            for g in &self.groups {
                if shown >= limit {
                    break;
                }
                render_section(g, &mut shown, &mut blocks);
            }
            if total > shown {
                let more = total - shown;
                blocks.push(format!(
                    "- … and {} more resource changes not listed here",
                    thousands(more)
                ));
                cut_parts.push(format!(
                    "{} of the {} resource changes",
                    thousands(more),
                    thousands(total)
                ));
            }
        }
        if let Some((head, rows)) = &self.outputs {
            let mut b = head.clone();
            for r in rows.iter().take(limit) {
                b.push('\n');
                b.push_str(r);
            }
            if rows.len() > limit {
                let more = rows.len() - limit;
                let _ = write!(
                    b,
                    "\n\n… and {} more outputs not listed here",
                    thousands(more)
                );
                cut_parts.push(format!(
                    "{} of the {} outputs",
                    thousands(more),
                    thousands(rows.len())
                ));
            }
            blocks.push(b);
        }
        match &self.graph {
            Some(Graph::Drawn(_)) if cuts.cut_graph => {
                cut_parts.insert(0, GRAPH_PART.to_string());
            }
            Some(Graph::Drawn(g) | Graph::NotDrawn(g)) => blocks.push(g.clone()),
            None => {}
        }
        if dropped_details > 0 {
            let what = if dropped_details == with_details && with_details > 1 {
                "the attribute details of every resource".to_string()
            } else {
                format!(
                    "the attribute details of {} (the largest first)",
                    count_of(dropped_details, "resource")
                )
            };
            cut_parts.insert(0, what);
        }
        if !cut_parts.is_empty() {
            blocks.insert(note_at, cut_note(&cut_parts, max_chars));
        }
        let mut out = blocks.join("\n\n");
        out.push('\n');
        out
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// How the note names a cut graph.
const GRAPH_PART: &str = "the dependency graph";

/// The note saying what was cut.
fn cut_note(parts: &[String], max_chars: usize) -> String {
    let list = match parts {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    };
    let limit = if max_chars == GITHUB_COMMENT_LIMIT {
        format!("GitHub's {}-character comment limit", thousands(max_chars))
    } else {
        format!("the {}-character limit", thousands(max_chars))
    };
    // Only "the dependency graph" alone is singular.
    let verb = if parts.len() == 1 && parts[0] == GRAPH_PART {
        "was"
    } else {
        "were"
    };
    format!(
        "> [!NOTE]\n> {} {verb} cut to stay under {limit}; run `plinth show` on the saved plan file for the full plan.",
        capitalise(&list)
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Shortens the document until it fits in `max_chars` characters.
fn fit(doc: &Doc, max_chars: usize) -> String {
    let len = |s: &str| s.chars().count();
    let items: Vec<&Item> = doc.items().collect();
    // Items whose details can be dropped, the largest saving first.
    let mut order: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].has_details())
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(items[i].savings()));
    // The document with the details of the `k` largest items dropped.
    let render = |k: usize, cut_graph: bool, limit: usize| {
        let mut dropped = vec![false; items.len()];
        for &i in order.iter().take(k) {
            dropped[i] = true;
        }
        let cuts = Cuts {
            dropped,
            cut_graph,
            limit,
        };
        doc.assemble(&cuts, max_chars)
    };

    let full = render(0, false, usize::MAX);
    if len(&full) <= max_chars {
        return full;
    }
    // 1. Drop attribute details, the largest first; 2. if that is not enough, leave the
    // graph out too (and again drop only as many details as needed).
    let drawn = matches!(doc.graph, Some(Graph::Drawn(_)));
    let graph_options: &[bool] = if drawn { &[false, true] } else { &[false] };
    for &cut_graph in graph_options {
        let all = render(order.len(), cut_graph, usize::MAX);
        if len(&all) > max_chars {
            continue;
        }
        // The smallest number of dropped details that fits.
        let (mut lo, mut hi, mut best) = (0usize, order.len(), all);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let s = render(mid, cut_graph, usize::MAX);
            if len(&s) <= max_chars {
                hi = mid;
                best = s;
            } else {
                lo = mid + 1;
            }
        }
        return best;
    }
    // 3. Truncate the lists: the largest number of entries per list that fits.
    let cut_graph = drawn;
    let mut best = render(order.len(), cut_graph, 0);
    if len(&best) > max_chars {
        return hard_cut(&best, max_chars);
    }
    let (mut lo, mut hi) = (0usize, doc.longest_list());
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let s = render(order.len(), cut_graph, mid);
        if len(&s) <= max_chars {
            lo = mid;
            best = s;
        } else {
            hi = mid - 1;
        }
    }
    best
}

/// The last resort when even the bare summary does not fit: cut the text itself.
fn hard_cut(s: &str, max_chars: usize) -> String {
    const TAIL: &str = "\n\n… (cut to fit the length limit)\n";
    let tail_len = TAIL.chars().count();
    if max_chars <= tail_len {
        return s.chars().take(max_chars).collect();
    }
    let mut out: String = s.chars().take(max_chars - tail_len).collect();
    out.push_str(TAIL);
    out
}

// ---------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------

fn group_title(a: Action) -> &'static str {
    match a {
        Action::Create => "Create",
        Action::Update => "Update in place",
        Action::Replace => "Replace",
        Action::Delete => "Destroy",
        Action::Read => "Read",
        Action::Run => "Run actions",
        Action::NoOp => "No change",
    }
}

/// The verb shown before an address.
fn verb(c: &ResourceChange) -> &'static str {
    match (c.action, c.kind) {
        (Action::Delete, Kind::Data) => "forget",
        (Action::Delete, _) => "destroy",
        (a, _) => a.as_str(),
    }
}

/// The provider of a type: the prefix before `:`.
fn provider_of(type_name: &str) -> &str {
    type_name
        .split_once(':')
        .map_or(type_name, |(provider, _)| provider)
}

/// Changes in display order.
fn groups_order<'a>(changing: &[&'a ResourceChange]) -> Vec<&'a ResourceChange> {
    GROUP_ORDER
        .iter()
        .flat_map(|a| changing.iter().filter(move |c| c.action == *a).copied())
        .collect()
}

/// Why a replacement happens and in which order.
fn replace_notes(c: &ResourceChange) -> Rich {
    let mut r = Rich::default();
    if !c.replace_paths.is_empty() {
        for (i, p) in c.replace_paths.iter().enumerate() {
            if i > 0 {
                r.push_text(", ");
            }
            r.push_code(path_label(p));
        }
        r.push_text(if c.replace_paths.len() == 1 {
            " forces replacement"
        } else {
            " force replacement"
        });
        if let Some(reason) = &c.reason {
            r.push_text(" (");
            r.append(Rich::parse(reason));
            r.push_text(")");
        }
    } else if let Some(reason) = &c.reason {
        r.append(Rich::parse(reason));
    } else {
        r.push_text("replacement required");
    }
    match c.replace_order {
        Some(ReplaceOrder::CreateThenDelete) => {
            r.push_text("; the new object is created first, then the old one deleted (");
            r.push_code("create_before_destroy");
            r.push_text(")");
        }
        _ => {
            r.push_text("; the old object is deleted first, then the new one created");
        }
    }
    r
}

/// The caution block: every deleted or replaced managed object, with why.
fn caution_block(changing: &[&ResourceChange]) -> Option<(String, Vec<String>)> {
    let risky: Vec<&ResourceChange> = groups_order(changing)
        .into_iter()
        .filter(|c| c.kind == Kind::Managed && matches!(c.action, Action::Delete | Action::Replace))
        .collect();
    if risky.is_empty() {
        return None;
    }
    let destroys = risky.iter().filter(|c| c.action == Action::Delete).count();
    let replaces = risky.len() - destroys;
    let mut what = Vec::new();
    if destroys > 0 {
        what.push(format!("destroys {}", count_of(destroys, "resource")));
    }
    if replaces > 0 {
        what.push(format!("replaces {}", count_of(replaces, "resource")));
    }
    let intro = format!(
        "> [!CAUTION]\n> This plan **{}**. Destroying or replacing an object can lose its data; check that this is intended:\n>",
        what.join("** and **")
    );
    let lines = risky
        .iter()
        .map(|c| {
            let why = match c.action {
                Action::Replace => replace_notes(c),
                _ => Rich::parse(c.reason.as_deref().unwrap_or("destroy")),
            };
            format!(
                "> - **{}** {} ({}): {}",
                verb(c),
                code(&c.address),
                md_text(&c.type_name),
                why.md()
            )
        })
        .collect();
    Some((intro, lines))
}

fn count_of(n: usize, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// Warnings and targets.
fn notices(plan: &Plan) -> String {
    let mut blocks = Vec::new();
    for w in &plan.warnings {
        blocks.push(format!("> [!WARNING]\n> {}", Rich::parse(w).md()));
    }
    if !plan.targets.is_empty() {
        let list: Vec<String> = plan.targets.iter().map(|t| code(t)).collect();
        blocks.push(format!("Limited to: {}", list.join(", ")));
    }
    blocks.join("\n\n")
}

/// The summary table per provider, with totals, and the summary sentence.
fn overview_table(changing: &[&ResourceChange], summary: &Summary) -> String {
    // create, update, replace, delete, read, run
    let mut per: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    for c in changing {
        let col = match (c.action, c.kind) {
            (Action::Create, _) => 0,
            (Action::Update, _) => 1,
            (Action::Replace, _) => 2,
            (Action::Delete, Kind::Managed) => 3,
            (Action::Read, _) => 4,
            (Action::Run, _) => 5,
            _ => continue,
        };
        per.entry(provider_of(&c.type_name)).or_default()[col] += 1;
    }
    let mut out = String::new();
    if !per.is_empty() {
        out.push_str("| Provider | Create | Update | Replace | Delete | Read | Actions |\n");
        out.push_str("|:---|---:|---:|---:|---:|---:|---:|\n");
        let mut total = [0usize; 6];
        for (provider, counts) in &per {
            let cells: Vec<String> = counts.iter().map(|n| thousands(*n)).collect();
            let _ = writeln!(out, "| {} | {} |", cell(&code(provider)), cells.join(" | "));
            for (t, n) in total.iter_mut().zip(counts) {
                *t += n;
            }
        }
        let cells: Vec<String> = total
            .iter()
            .map(|n| format!("**{}**", thousands(*n)))
            .collect();
        let _ = writeln!(out, "| **Total** | {} |", cells.join(" | "));
        out.push('\n');
    }
    let _ = write!(out, "**{summary}**");
    out
}

/// The drift section: changes made outside plinth, one item per object.
fn drift_section(plan: &Plan, drift: &[&Drift], reveal: bool) -> Section {
    let head = format!(
        "### Changes made outside plinth\n\nRefresh found {} changed outside plinth since the last apply. {}",
        count_of(drift.len(), "object"),
        match plan.mode {
            PlanMode::RefreshOnly => "Applying this plan records them in state.",
            _ =>
                "They are not part of the intended change below; changes that undo them are marked.",
        }
    );
    let items = drift
        .iter()
        .map(|d| {
            let change = plan.change(&d.address).filter(|c| c.action.is_change());
            match d.action {
                Action::Delete => {
                    let notes = match change.map(|c| c.action) {
                        Some(Action::Create) => Rich::text("this plan creates it again"),
                        _ => Rich::default(),
                    };
                    Item::new("deleted", &d.address, &d.type_name, &notes, String::new())
                }
                _ => {
                    let mut notes = Rich::text(match d.changed_paths.len() {
                        1 => "1 attribute changed".to_string(),
                        n => format!("{n} attributes changed"),
                    });
                    match change.map(|c| c.action) {
                        Some(Action::Update | Action::Replace)
                            if plan.mode != PlanMode::RefreshOnly =>
                        {
                            notes.push_text("; this plan puts the declared values back");
                        }
                        _ if plan.mode == PlanMode::RefreshOnly => {}
                        _ => {
                            notes.push_text(if d.changed_paths.len() == 1 {
                                "; the configuration does not set it, so it is kept"
                            } else {
                                "; the configuration does not set them, so they are kept"
                            });
                        }
                    }
                    let entries = d
                        .changed_paths
                        .iter()
                        .map(|p| {
                            change_entry(
                                p,
                                d.before.as_ref().and_then(|v| v.get(p)).as_ref(),
                                d.after.as_ref().and_then(|v| v.get(p)).as_ref(),
                                false,
                                reveal,
                            )
                        })
                        .collect();
                    let body = entries_md(&["Attribute", "Recorded in state", "Found"], entries);
                    Item::new("changed", &d.address, &d.type_name, &notes, body)
                }
            }
        })
        .collect();
    Section { head, items }
}

/// Records settled from an interrupted run (not drift).
fn settled_note(plan: &Plan) -> String {
    let settled: Vec<&Drift> = plan.drift.iter().filter(|d| d.reconciled).collect();
    if settled.is_empty() {
        return String::new();
    }
    let mut out = "Settled from an interrupted run:".to_string();
    for d in settled.iter().take(20) {
        let what = match d.action {
            Action::Delete => "never completed; it is planned again if still configured",
            _ => "exists; adopted into state",
        };
        let _ = write!(out, "\n- {} {what}", code(&d.address));
    }
    if settled.len() > 20 {
        let _ = write!(out, "\n- … and {} more", thousands(settled.len() - 20));
    }
    out
}

/// One changed resource: its line and its attribute-level details.
fn change_item(c: &ResourceChange, recreated: &BTreeSet<&str>, reveal: bool) -> Item {
    let mut notes = Rich::default();
    match c.action {
        Action::Replace => {
            notes = replace_notes(c);
        }
        _ => {
            if let Some(r) = &c.reason {
                notes = Rich::parse(r);
            }
        }
    }
    if c.drift {
        if !notes.is_empty() {
            notes.push_text("; ");
        }
        notes.push_text("undoes a change made outside plinth");
    }
    if c.action == Action::Create && recreated.contains(c.address.as_str()) {
        if !notes.is_empty() {
            notes.push_text("; ");
        }
        notes.push_text("re-creates an object deleted outside plinth");
    }
    let type_text = match c.kind {
        Kind::Data => format!("{}, data source", c.type_name),
        Kind::Action => format!("{}, action", c.type_name),
        Kind::Managed => c.type_name.clone(),
    };
    let body = change_body(c, reveal);
    Item::new(verb(c), &c.address, &type_text, &notes, body)
}

/// The attribute-level details of a change.
fn change_body(c: &ResourceChange, reveal: bool) -> String {
    match c.action {
        Action::Create | Action::Read => {
            // A deferred read knows only its inputs.
            let (source, headers) = match &c.after {
                Some(a) if !a.is_unknown() => (Some(a), ["Attribute", "Value"]),
                _ => (c.config.as_ref(), ["Input", "Value"]),
            };
            source
                .map(|v| entries_md(&headers, leaf_entries(v, reveal)))
                .unwrap_or_default()
        }
        Action::Run => c
            .config
            .as_ref()
            .map(|v| entries_md(&["Input", "Value"], leaf_entries(v, reveal)))
            .unwrap_or_default(),
        Action::Delete => c
            .before
            .as_ref()
            .map(|v| entries_md(&["Attribute", "Value"], leaf_entries(v, reveal)))
            .unwrap_or_default(),
        Action::Update | Action::Replace => {
            let mut entries: Vec<Entry> = c
                .changed_paths
                .iter()
                .map(|p| {
                    // `p` is an input path; the object reports it at its attribute path.
                    let ap = c.attribute_path(p);
                    let before = c.before.as_ref().and_then(|v| v.get(ap));
                    // The planned attribute carries the schema's sensitive marks; the
                    // configured value stands in where the attribute is not known yet.
                    let planned = c.after.as_ref().and_then(|v| v.get(ap));
                    let configured = c.config.as_ref().and_then(|v| v.get(p));
                    let after = match (planned, configured) {
                        (Some(a), Some(cv)) if !a.is_wholly_known() => {
                            if a.is_sensitive() {
                                Some(Value::sensitive(cv))
                            } else {
                                Some(cv)
                            }
                        }
                        (Some(a), _) => Some(a),
                        (None, cv) => cv,
                    };
                    let forces = c.replace_paths.iter().any(|r| r.overlaps(p));
                    change_entry(p, before.as_ref(), after.as_ref(), forces, reveal)
                })
                .collect();
            // Attributes that become unknown as a consequence (e.g. the id of a replacement).
            if let (Some(before), Some(after)) = (&c.before, &c.after) {
                for p in after.unknown_paths() {
                    if c.changed_paths
                        .iter()
                        .any(|q| c.attribute_path(q).overlaps(&p))
                    {
                        continue;
                    }
                    if let Some(b) = before.get(&p).filter(|b| !b.is_unknown()) {
                        entries.push(change_entry(
                            &p,
                            Some(&b),
                            Some(&Value::Unknown),
                            false,
                            reveal,
                        ));
                    }
                }
            }
            entries_md(&["Attribute", "Before", "After"], entries)
        }
        Action::NoOp => String::new(),
    }
}

/// The outputs section: a table of changed outputs.
fn outputs_section(outputs: &[OutputChange], reveal: bool) -> Option<(String, Vec<String>)> {
    let changing: Vec<&OutputChange> = outputs.iter().filter(|o| o.action.is_change()).collect();
    if changing.is_empty() {
        return None;
    }
    let head = "### Outputs\n\n| Output | Change | Value |\n|---|---|---|".to_string();
    let rows = changing
        .iter()
        .map(|o| {
            let hide = |v: &Option<Value>| -> Option<Value> {
                v.as_ref().map(|v| {
                    if o.sensitive && !reveal {
                        Value::sensitive(Value::Null)
                    } else {
                        v.clone()
                    }
                })
            };
            let (before, after) = (hide(&o.before), hide(&o.after));
            let value = match o.action {
                Action::Delete => inline(before.as_ref(), reveal),
                Action::Update if before.is_some() => format!(
                    "{} → {}",
                    inline(before.as_ref(), reveal),
                    inline(after.as_ref(), reveal)
                ),
                _ => inline(after.as_ref(), reveal),
            };
            format!(
                "| {} | {} | {} |",
                cell(&code(&o.name)),
                o.action.as_str(),
                cell(&value)
            )
        })
        .collect();
    Some((head, rows))
}

/// The Mermaid graph of the changed resources (in display order) and their dependencies;
/// unchanged direct dependencies are shown dimmed. `None` when nothing depends on anything.
fn graph_section(plan: &Plan, changing: &[&ResourceChange]) -> Option<Graph> {
    let head = "### Dependency graph";
    if changing.len() > GRAPH_MAX_NODES {
        return Some(Graph::NotDrawn(format!(
            "{head}\n\nNot drawn: {} changed resources are more than a readable graph holds.",
            thousands(changing.len())
        )));
    }
    // Node ids by address; unchanged dependencies are added as they are found.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut nodes: Vec<(String, &'static str)> = Vec::new();
    for c in changing {
        if ids.contains_key(c.address.as_str()) {
            continue;
        }
        ids.insert(&c.address, nodes.len());
        nodes.push((
            format!("{}: {}", verb(c), c.address),
            match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Replace => "replace",
                Action::Delete => "delete",
                _ => "other",
            },
        ));
    }
    let unchanged: HashMap<&str, &ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| !c.action.is_change())
        .map(|c| (c.address.as_str(), c))
        .collect();
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    for c in changing {
        let Some(&to) = ids.get(c.address.as_str()) else {
            continue;
        };
        for dep in &c.depends_on {
            let mut from: Vec<usize> = Vec::new();
            if let Some(&i) = ids.get(dep.as_str()) {
                from.push(i);
            } else if let Some(u) = unchanged.get(dep.as_str()) {
                ids.insert(&u.address, nodes.len());
                from.push(nodes.len());
                nodes.push((u.address.clone(), "unchanged"));
            } else {
                // A declaration-level dependency: every changed instance of it.
                let prefix = format!("{dep}[");
                from.extend(
                    changing
                        .iter()
                        .filter(|x| x.address.starts_with(&prefix))
                        .filter_map(|x| ids.get(x.address.as_str()).copied()),
                );
            }
            edges.extend(from.into_iter().filter(|&f| f != to).map(|f| (f, to)));
        }
    }
    if edges.is_empty() {
        // Nothing depends on anything else: the list says it all.
        return None;
    }
    if edges.len() > GRAPH_MAX_EDGES || nodes.len() > GRAPH_MAX_NODES {
        return Some(Graph::NotDrawn(format!(
            "{head}\n\nNot drawn: {} dependencies among {} resources are more than a readable graph holds.",
            thousands(edges.len()),
            thousands(nodes.len())
        )));
    }
    let mut g = String::from("```mermaid\nflowchart LR\n");
    for (i, (label, class)) in nodes.iter().enumerate() {
        let _ = writeln!(
            g,
            "  n{i}[\"{}\"]:::{class}",
            plinth_graph::escape_mermaid(label)
        );
    }
    for (from, to) in &edges {
        let _ = writeln!(g, "  n{from} --> n{to}");
    }
    let used: BTreeSet<&str> = nodes.iter().map(|(_, c)| *c).collect();
    for (class, style) in [
        ("create", "fill:#dafbe1,stroke:#1a7f37,color:#1f2328"),
        ("update", "fill:#fff8c5,stroke:#9a6700,color:#1f2328"),
        ("replace", "fill:#fff1e5,stroke:#bc4c00,color:#1f2328"),
        ("delete", "fill:#ffebe9,stroke:#cf222e,color:#1f2328"),
        ("other", "fill:#ddf4ff,stroke:#0969da,color:#1f2328"),
        (
            "unchanged",
            "fill:#f6f8fa,stroke:#d0d7de,color:#8c959f,stroke-dasharray:3 3",
        ),
    ] {
        if used.contains(class) {
            let _ = writeln!(g, "  classDef {class} {style}");
        }
    }
    g.push_str("```");
    if g.chars().count() > GRAPH_MAX_CHARS {
        return Some(Graph::NotDrawn(format!(
            "{head}\n\nNot drawn: the graph of {} resources is too large for GitHub to draw.",
            thousands(nodes.len())
        )));
    }
    let legend = if used.contains("unchanged") {
        "\n\nArrows point from a dependency to what depends on it; dimmed nodes are unchanged."
    } else {
        "\n\nArrows point from a dependency to what depends on it."
    };
    Some(Graph::Drawn(format!("{head}\n\n{g}{legend}")))
}
