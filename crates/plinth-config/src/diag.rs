//! Diagnostics: errors a user caused, located in their files (SPEC §2: file, line, column,
//! the quoted line, what was expected, and a suggestion where one exists).
//!
//! Rendering never trusts the input: the quoted source is an *excerpt* (the lines a
//! diagnostic points at, each cut to a window around the column, control and bidirectional
//! characters escaped), messages are escaped and cut to a length, and a list of diagnostics
//! prints at most [`MAX_RENDERED`] of them ([`MAX_SAME_KIND`] of one kind), so no
//! configuration can make plinth print megabytes, spoof a terminal, or panic in the renderer.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use crate::source::{Loc, Quote, Sources};

/// Diagnostics printed in full, at most; the rest are counted.
pub const MAX_RENDERED: usize = 50;
/// Diagnostics of one kind (the same message but for the names in it) printed in full.
pub const MAX_SAME_KIND: usize = 10;
/// Characters of a message, label or help printed, at most.
const MAX_TEXT: usize = 2000;
/// Lines up to this many characters are quoted whole; longer ones are cut to [`WINDOW`].
const MAX_LINE: usize = 160;
/// Characters of a long line quoted around the place a diagnostic points at.
const WINDOW: usize = 120;
/// Of [`WINDOW`], how many characters come before that place.
const WINDOW_BEFORE: usize = 40;
/// A label spanning more lines than this is shown on its first line only.
const MAX_LABEL_LINES: usize = 8;
/// Labels further than this many lines from the primary one become notes.
const MAX_LINES_APART: usize = 10;

/// One problem, optionally located.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// What is wrong, one sentence naming the thing (printed escaped and cut to a length).
    pub message: String,
    /// Where: the primary place quoted under the message; `None` for a problem with no place
    /// in a file (a missing directory, a bad `--var`).
    pub loc: Option<Loc>,
    /// Short text shown at the location ("expected a string").
    pub label: Option<Box<str>>,
    /// How to fix it ("add `type = ...`"); `None` when there is nothing useful to say.
    pub help: Option<Box<str>>,
    /// Other places that matter (e.g. "first defined here").
    /// Boxed to keep `Diagnostic` small: it travels in `Result`s on every path.
    pub related: Box<[(Loc, String)]>,
    /// The address of the object or block the problem belongs to, when it belongs to one
    /// (`rg` for its failed precondition, `output.x`): what `plinth test`'s
    /// `expect_failures` matches. Not rendered (the message names it).
    pub subject: Option<Box<str>>,
}

impl Diagnostic {
    /// A diagnostic without a location; add one with [`Diagnostic::at`] instead when the
    /// problem is in a file.
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            loc: None,
            label: None,
            help: None,
            related: Box::default(),
            subject: None,
        }
    }

    /// A diagnostic pointing at `loc`.
    pub fn at(message: impl Into<String>, loc: Loc) -> Self {
        Diagnostic {
            loc: Some(loc),
            ..Diagnostic::new(message)
        }
    }

    /// Sets the short text shown at the location (replacing any earlier one).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into().into_boxed_str());
        self
    }

    /// Sets the advice on how to fix it (replacing any earlier one).
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into().into_boxed_str());
        self
    }

    /// Sets the help when `help` is `Some`; `None` keeps what was there.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help.map(String::into_boxed_str);
        }
        self
    }

    /// Sets the address the problem belongs to (see [`Diagnostic::subject`]).
    pub fn subject(mut self, address: impl Into<String>) -> Self {
        self.subject = Some(address.into().into_boxed_str());
        self
    }

    /// The address the problem belongs to, if any (see [`Diagnostic::subject`]).
    pub fn subject_address(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// Adds another place that matters, with what it is ("first defined here").
    pub fn related(mut self, loc: Loc, text: impl Into<String>) -> Self {
        let mut all = std::mem::take(&mut self.related).into_vec();
        all.push((loc, text.into()));
        self.related = all.into_boxed_slice();
        self
    }

    /// The message as it may be printed: escaped and of bounded length.
    pub fn display_message(&self) -> String {
        clean(&self.message)
    }

    /// Renders for a terminal (or plain, when `color` is false).
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_context_lines(1)
            .with_width(100)
            // Messages carry ids, paths and commands to copy (`plinth force-unlock <uuid>`):
            // wrapping would split them at hyphens. Terminals wrap long lines themselves.
            .with_wrap_lines(false);
        let mut out = String::new();
        let report = self.with_source(sources);
        if handler.render_report(&mut out, &report).is_err() {
            out = format!("error: {}\n", self.one_line(sources));
        }
        // Places not quoted with the snippet are named after it.
        for (loc, text) in &report.notes {
            out.push_str(&format!(
                "  note: {}: {}\n",
                clean(text),
                clean(&sources.describe(loc))
            ));
        }
        out
    }

    /// `file:line:col: message` on one line (for `--json` and logs).
    pub fn one_line(&self, sources: &Sources) -> String {
        match &self.loc {
            Some(loc) => clean(&format!("{}: {}", sources.describe(loc), self.message)),
            None => clean(&self.message),
        }
    }
}

/// Several diagnostics; a configuration reports every problem it can find at once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one at the end; order is the order they are rendered in.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are (rendering may show fewer and count the rest).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Appends all of `other`, keeping its order.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// `Err(self)` when there is anything to report.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Renders every diagnostic, up to [`MAX_SAME_KIND`] of one kind and [`MAX_RENDERED`] in
    /// all; the others are counted ("… and 9,990 more like this: …"), so the output stays
    /// short whatever the configuration.
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let mut shown = Vec::new();
        let mut per_kind: HashMap<String, usize> = HashMap::new();
        // Kinds with diagnostics left out, in order of the first one left out.
        let mut left_out: Vec<(String, usize)> = Vec::new();
        let mut left_out_at: HashMap<String, usize> = HashMap::new();
        for d in &self.0 {
            let kind = kind_of(&d.message);
            let n = per_kind.entry(kind.clone()).or_default();
            *n += 1;
            if *n <= MAX_SAME_KIND && shown.len() < MAX_RENDERED {
                shown.push(d.render(sources, color));
                continue;
            }
            match left_out_at.get(&kind) {
                Some(&i) => left_out[i].1 += 1,
                None => {
                    left_out_at.insert(kind, left_out.len());
                    left_out.push((d.one_line(sources), 1));
                }
            }
        }
        let mut out = shown.join("\n");
        if !left_out.is_empty() {
            out.push('\n');
            for (example, n) in left_out.iter().take(MAX_SAME_KIND) {
                let example = truncate_chars(example, 200);
                out.push_str(&format!(
                    "… and {} more like this: {example}\n",
                    thousands(*n)
                ));
            }
            let rest: usize = left_out.iter().skip(MAX_SAME_KIND).map(|(_, n)| n).sum();
            if rest > 0 {
                out.push_str(&format!(
                    "… and {} more problems of other kinds (fix these first)\n",
                    thousands(rest)
                ));
            }
        }
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// What makes diagnostics "of the same kind": the message with its quoted names and numbers
/// taken out (`` the for_each list of `…` has "…" twice ``).
fn kind_of(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(200));
    let mut closing: Option<char> = None;
    for c in message.chars() {
        match closing {
            Some(end) if c == end => {
                out.push(c);
                closing = None;
            }
            Some(_) => {}
            None => match c {
                '`' | '"' => {
                    out.push(c);
                    out.push('…');
                    closing = Some(c);
                }
                '0'..='9' => {
                    if !out.ends_with('#') {
                        out.push('#');
                    }
                }
                _ => out.push(c),
            },
        }
        if out.len() >= 200 {
            break;
        }
    }
    out
}

/// `9990` → `9,990`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// True for characters that must not reach a terminal raw: control characters (but tab and
/// newline), and the invisible formatting and bidirectional controls (Trojan Source).
fn must_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061C}'
                | '\u{00AD}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\0' => out.push_str("\\0"),
        '\r' => out.push_str("\\r"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Text from user input made safe to print: control and bidirectional characters escaped
/// (`\0`, `\u{202e}`), at most 2000 characters (`MAX_TEXT`).
pub fn clean(s: &str) -> String {
    let s = truncate_chars(s, MAX_TEXT);
    if !s.chars().any(must_escape) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if must_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!(
            "{}… ({} more characters)",
            &s[..at],
            s[at..].chars().count()
        ),
    }
}

/// A diagnostic with its excerpt attached, as miette wants it.
#[derive(Debug)]
pub(crate) struct WithSource {
    message: String,
    help: Option<String>,
    src: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    /// Related places not shown in the excerpt (another file, too far away, not quotable).
    notes: Vec<(Loc, String)>,
}

impl fmt::Display for WithSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WithSource {}

impl miette::Diagnostic for WithSource {
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// The lines of a file a diagnostic quotes: escaped, long lines cut to a window, with the
/// line number of its first line and the true position of the primary label, so miette
/// prints `file:line:col` and line numbers of the file, not of the excerpt.
#[derive(Debug)]
struct Excerpt {
    name: String,
    text: String,
    /// 0-based line of the file where `text` starts.
    first_line: usize,
    /// The primary label's span in `text`, and its 0-based line and column in the file.
    primary: (SourceSpan, usize, usize),
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let c = self.text.as_str().read_span(span, before, after)?;
        let (p_span, p_line, p_col) = self.primary;
        let (line, column) = if *span == p_span && before == 0 && after == 0 {
            (p_line, p_col)
        } else {
            (c.line() + self.first_line, c.column())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            *c.span(),
            line,
            column,
            c.line_count(),
        )))
    }
}

/// A line of the file: its byte range (without the line break) and 0-based number.
#[derive(Clone, Copy)]
struct LineAt {
    start: usize,
    end: usize,
}

fn line_at(text: &str, at: usize) -> LineAt {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    if end > start && text.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    LineAt {
        start,
        end: end.max(at.min(end.max(start))),
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Diagnostic {
    pub(crate) fn with_source(&self, sources: &Sources) -> WithSource {
        let mut out = WithSource {
            message: clean(&self.message),
            help: self.help.as_deref().map(clean),
            src: None,
            labels: Vec::new(),
            notes: Vec::new(),
        };
        let Some(loc) = &self.loc else {
            out.notes = self.related.to_vec();
            return out;
        };
        let file = sources.get(loc.file);
        let text = file.text.as_str();
        let span_of = |l: &Loc| {
            let s = floor_boundary(text, l.span.start);
            let e = floor_boundary(text, l.span.end).max(s);
            s..e
        };
        let primary = span_of(loc);
        let primary_line = line_number(text, primary.start);
        let mut labels: Vec<(Range<usize>, Option<String>, bool)> =
            vec![(primary.clone(), self.label.as_deref().map(clean), true)];
        for (rloc, rtext) in &self.related {
            let r = span_of(rloc);
            if rloc.file == loc.file
                && line_number(text, r.start).abs_diff(primary_line) <= MAX_LINES_APART
            {
                labels.push((r, Some(clean(rtext)), false));
            } else {
                out.notes.push((rloc.clone(), rtext.clone()));
            }
        }
        // A label over many lines is shown on its first line.
        for (r, _, _) in &mut labels {
            let first = line_at(text, r.start);
            if text[r.start..r.end].matches('\n').count() > MAX_LABEL_LINES {
                r.end = first.end.max(r.start);
            }
        }
        let context = match file.quote {
            Quote::WithContext => 1,
            Quote::LinesOnly => 0,
        };
        let lo = labels.iter().map(|(r, _, _)| r.start).min().unwrap_or(0);
        let hi = labels.iter().map(|(r, _, _)| r.end).max().unwrap_or(0);
        // The lines quoted: from the first label's line to the last one's, with context.
        let mut first = line_at(text, lo).start;
        let mut last = line_at(text, hi).end;
        let mut first_line = line_number(text, first);
        for _ in 0..context {
            if first > 0 {
                first = line_at(text, first - 1).start;
                first_line -= 1;
            }
            if last < text.len() {
                let next = text[last..].find('\n').map_or(text.len(), |i| last + i + 1);
                if next < text.len() {
                    last = line_at(text, next).end;
                }
            }
        }
        if file
            .secret
            .iter()
            .any(|s| s.start <= last && first <= s.end)
        {
            // A line that may hold a secret: named, never quoted.
            out.message = clean(&format!("{}: {}", sources.describe(loc), self.message));
            out.notes = self.related.to_vec();
            return out;
        }
        let mut excerpt = String::new();
        // (file offset, excerpt offset) at every quoted character boundary, ascending.
        let mut map: Vec<(usize, usize)> = Vec::new();
        let mut at = first;
        loop {
            let line = line_at(text, at);
            let points: Vec<usize> = labels
                .iter()
                .flat_map(|(r, _, _)| [r.start, r.end])
                .filter(|p| (line.start..=line.end).contains(p))
                .collect();
            quote_line(text, line, &points, &mut excerpt, &mut map);
            if line.end >= last {
                break;
            }
            match text[line.end..].find('\n') {
                Some(i) if line.end + i < text.len() => {
                    excerpt.push('\n');
                    at = line.end + i + 1;
                }
                _ => break,
            }
        }
        let to_excerpt = |offset: usize| -> usize {
            let i = map.partition_point(|(f, _)| *f < offset);
            match map.get(i) {
                Some((f, e)) if *f == offset => *e,
                // Cut out of the window: the nearest quoted place.
                Some((_, e)) if i > 0 => map[i - 1].1.max(*e),
                Some((_, e)) => *e,
                None => map.last().map_or(0, |(_, e)| *e),
            }
        };
        let mut p_span = SourceSpan::from(0..0);
        for (r, label, is_primary) in labels {
            let quoted = map.binary_search_by_key(&r.start, |(f, _)| *f).is_ok();
            if !is_primary && !quoted {
                // Cut out of its line's window: named after the snippet instead.
                out.notes
                    .push((Loc::new(loc.file, r), label.unwrap_or_default()));
                continue;
            }
            let s = to_excerpt(r.start);
            let e = to_excerpt(r.end).max(s);
            let span = SourceSpan::from(s..e);
            if is_primary {
                p_span = span;
                out.labels
                    .push(LabeledSpan::new_primary_with_span(label, span));
            } else {
                out.labels.push(LabeledSpan::new_with_span(label, span));
            }
        }
        let (l, c) = sources.line_col(loc.file, primary.start);
        out.src = Some(Excerpt {
            name: clean(&file.name),
            text: excerpt,
            first_line,
            primary: (p_span, l - 1, c - 1),
        });
        out
    }
}

/// 0-based line number of a byte offset.
fn line_number(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// Appends one line of the file to the excerpt: whole when short, else a window around the
/// first of `points` (the primary label's, when on this line); control characters escaped.
/// Records the offsets in `map`.
fn quote_line(
    text: &str,
    line: LineAt,
    points: &[usize],
    excerpt: &mut String,
    map: &mut Vec<(usize, usize)>,
) {
    let s = &text[line.start..line.end];
    let chars = s.chars().count();
    let (from, to) = if chars <= MAX_LINE {
        (0, chars)
    } else {
        // The primary label comes first when it is on this line.
        let point = points.first().copied().unwrap_or(line.start);
        let point_char = text[line.start..point].chars().count();
        let from = point_char.saturating_sub(WINDOW_BEFORE);
        let to = (from + WINDOW).min(chars);
        (to.saturating_sub(WINDOW).min(from), to)
    };
    if from > 0 {
        excerpt.push('…');
    }
    let mut last = line.start;
    for (i, (b, c)) in s.char_indices().enumerate() {
        if i < from {
            continue;
        }
        if i >= to {
            break;
        }
        map.push((line.start + b, excerpt.len()));
        if must_escape(c) {
            push_escaped(excerpt, c);
        } else {
            excerpt.push(c);
        }
        last = line.start + b + c.len_utf8();
    }
    if from >= to {
        last = line.start;
    }
    map.push((last.max(line.start), excerpt.len()));
    if to < chars {
        excerpt.push('…');
    }
    if last < line.end {
        // The end of a cut line maps to the end of its window.
        map.push((line.end, excerpt.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> Sources {
        let mut s = Sources::new();
        s.add("main.toml".into(), "main.toml".into(), text.to_string());
        s
    }

    #[test]
    fn an_error_past_column_65535_renders_a_window_of_its_line() {
        let text = format!("a = \"{}${{nope}}\"\n", "x".repeat(70_000));
        let s = sources(&text);
        let at = text.find("${nope}").unwrap();
        let d = Diagnostic::at("unknown reference `nope`", Loc::new(0, at + 2..at + 6))
            .label("not declared");
        let out = d.render(&s, false);
        assert!(out.contains("main.toml:1:70008"), "{out}");
        assert!(out.contains("…xxxx"), "{out}");
        assert!(out.contains("${nope}"), "{out}");
        assert!(out.contains("not declared"), "{out}");
        assert!(out.len() < 2_000, "{} bytes:\n{out}", out.len());
    }

    #[test]
    fn line_numbers_are_the_files() {
        let text = "a = 1\nb = 2\nc = 3\nd = 4\n";
        let s = sources(text);
        let at = text.find("c =").unwrap();
        let out = Diagnostic::at("bad", Loc::new(0, at..at + 1))
            .label("here")
            .render(&s, false);
        assert!(out.contains("main.toml:3:1"), "{out}");
        assert!(out.contains("2 │ b = 2"), "{out}");
        assert!(out.contains("3 │ c = 3"), "{out}");
        assert!(out.contains("4 │ d = 4"), "{out}");
        assert!(!out.contains("a = 1"), "{out}");
    }

    #[test]
    fn control_and_bidi_characters_are_escaped_everywhere() {
        let text = "name = \"ev\u{202e}il\0x\u{1b}[2J\"\n";
        let s = sources(text);
        let d = Diagnostic::at("bad name `ev\u{202e}il\0`", Loc::new(0, 7..text.len() - 1))
            .label("label \u{202e}")
            .help("help \u{7}")
            .related(Loc::new(0, 0..4), "other \u{2066}");
        let out = d.render(&s, false);
        for bad in ['\u{202e}', '\0', '\u{1b}', '\u{7}', '\u{2066}'] {
            assert!(!out.contains(bad), "{bad:?} printed raw:\n{out}");
        }
        assert!(out.contains("ev\\u{202e}il\\0x\\u{1b}[2J"), "{out}");
        assert!(out.contains("bad name `ev\\u{202e}il\\0`"), "{out}");
        assert!(!d.one_line(&s).contains('\u{202e}'));
        assert!(!d.display_message().contains('\0'));
    }

    #[test]
    fn a_file_that_failed_to_parse_is_quoted_at_the_offending_line_only() {
        let mut s = Sources::new();
        let text = "SECRET_A=1\nbroken: [\nSECRET_B=2\n";
        let f = s.add_quoted(
            "x.yaml".into(),
            "x.yaml".into(),
            text.into(),
            Quote::LinesOnly,
        );
        let out = Diagnostic::at("invalid YAML", Loc::new(f, 11..17)).render(&s, false);
        assert!(out.contains("broken"), "{out}");
        assert!(!out.contains("SECRET"), "{out}");
    }

    #[test]
    fn a_secret_line_is_named_never_quoted() {
        let text = "a = 1\npw = 12345\nb = \"x\"\n";
        let mut s = sources(text);
        s.mark_secret(0, 11..16);
        let out = Diagnostic::at("variable `pw` is a string", Loc::new(0, 11..16))
            .label("expected a string")
            .render(&s, false);
        assert!(
            out.contains("main.toml:2:6: variable `pw` is a string"),
            "{out}"
        );
        assert!(!out.contains("12345"), "{out}");
        // Nor as the context of another line's problem.
        let out = Diagnostic::at("bad", Loc::new(0, 17..18)).render(&s, false);
        assert!(out.contains("main.toml:3:1: bad"), "{out}");
        assert!(!out.contains("12345"), "{out}");
        let out = Diagnostic::at("bad", Loc::new(0, 0..1)).render(&s, false);
        assert!(!out.contains("12345"), "{out}");
    }

    #[test]
    fn many_diagnostics_of_one_kind_are_counted_not_printed() {
        let text = format!("for_each = [{}]\n", vec!["\"a\""; 10_000].join(","));
        let s = sources(&text);
        let mut ds = Diagnostics::default();
        for i in 0..10_000 {
            let at = 12 + i * 4;
            ds.push(
                Diagnostic::at(
                    format!("key \"k{i}\" is set twice"),
                    Loc::new(0, at..at + 3),
                )
                .label("duplicate"),
            );
        }
        ds.push(Diagnostic::new("something else"));
        let out = ds.render(&s, false);
        assert_eq!(
            out.matches("is set twice").count(),
            MAX_SAME_KIND + 1,
            "{out}"
        );
        assert!(
            out.contains("… and 9,990 more like this: main.toml:1:"),
            "{out}"
        );
        assert!(out.contains("something else"), "{out}");
        assert!(out.len() < 20_000, "{} bytes", out.len());
    }

    #[test]
    fn the_total_is_capped_across_kinds() {
        let s = Sources::new();
        let ds = Diagnostics(
            (0..500)
                .map(|i| Diagnostic::new(format!("problem {}", "x".repeat(i % 97 + 1))))
                .collect(),
        );
        let out = ds.render(&s, false);
        assert!(
            out.matches("problem").count() <= MAX_RENDERED + MAX_SAME_KIND + 1,
            "{out}"
        );
        assert!(out.contains("more problems of other kinds"), "{out}");
    }

    #[test]
    fn a_related_place_far_along_a_long_line_becomes_a_note() {
        let text = format!("k = [\"a\",{}\"a\"]\n", "\"b\",".repeat(5_000));
        let s = sources(&text);
        let second = text.rfind("\"a\"").unwrap();
        let out = Diagnostic::at("`a` twice", Loc::new(0, second..second + 3))
            .label("duplicate")
            .related(Loc::new(0, 5..8), "first here")
            .render(&s, false);
        assert!(out.contains("duplicate"), "{out}");
        assert!(out.contains("note: first here: main.toml:1:6"), "{out}");
        assert!(out.len() < 2_000, "{out}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(9990), "9,990");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
