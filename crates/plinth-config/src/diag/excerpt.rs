//! The source a diagnostic quotes: an excerpt of the lines it points at (each cut to a
//! window around the column, escaped), and the `miette` report built from it.

use std::fmt;
use std::ops::Range;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use super::{
    Diagnostic, MAX_LABEL_LINES, MAX_LINE, MAX_LINES_APART, WINDOW, WINDOW_BEFORE, clean,
    must_escape, push_escaped,
};
use crate::source::{Loc, Quote, Sources};

/// A diagnostic with its excerpt attached, as miette wants it.
#[derive(Debug)]
pub(crate) struct WithSource {
    message: String,
    help: Option<String>,
    src: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    /// Related places not shown in the excerpt (another file, too far away, not quotable).
    pub(super) notes: Vec<(Loc, String)>,
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
