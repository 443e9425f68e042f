//! Diagnostics: errors a user caused, located in their files (SPEC §2: file, line, column,
//! the quoted line, what was expected, and a suggestion where one exists).
//!
//! Rendering never trusts the input: the quoted source is an *excerpt* (the lines a
//! diagnostic points at, each cut to a window around the column, control and bidirectional
//! characters escaped), messages are escaped and cut to a length, and a list of diagnostics
//! prints at most [`MAX_RENDERED`] of them ([`MAX_SAME_KIND`] of one kind), so no
//! configuration can make plinth print megabytes, spoof a terminal, or panic in the renderer.

use std::collections::HashMap;

use miette::{GraphicalReportHandler, GraphicalTheme};

mod excerpt;

use crate::source::{Loc, Sources};

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
pub(super) fn must_escape(c: char) -> bool {
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

#[cfg(test)]
mod tests;
