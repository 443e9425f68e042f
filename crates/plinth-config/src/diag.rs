//! Diagnostics: errors a user caused, located in their files (SPEC §2: file, line, column,
//! the quoted line, what was expected, and a suggestion where one exists).

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::source::{Loc, Sources};

/// One problem, optionally located.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub loc: Option<Loc>,
    /// Short text shown at the location ("expected a string").
    pub label: Option<String>,
    pub help: Option<String>,
    /// Other places that matter (e.g. "first defined here").
    /// Boxed to keep `Diagnostic` small: it travels in `Result`s on every path.
    pub related: Box<[(Loc, String)]>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            loc: None,
            label: None,
            help: None,
            related: Box::default(),
        }
    }

    pub fn at(message: impl Into<String>, loc: Loc) -> Self {
        Diagnostic {
            loc: Some(loc),
            ..Diagnostic::new(message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn related(mut self, loc: Loc, text: impl Into<String>) -> Self {
        let mut all = std::mem::take(&mut self.related).into_vec();
        all.push((loc, text.into()));
        self.related = all.into_boxed_slice();
        self
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
            out = format!("error: {}", self.message);
        }
        // Places in other files are named after the snippet.
        for (loc, text) in &self.related {
            if Some(loc.file) != self.loc.as_ref().map(|l| l.file) {
                out.push_str(&format!("  note: {text}: {}\n", sources.describe(loc)));
            }
        }
        out
    }

    /// `file:line:col: message` on one line (for `--json` and logs).
    pub fn one_line(&self, sources: &Sources) -> String {
        match &self.loc {
            Some(loc) => format!("{}: {}", sources.describe(loc), self.message),
            None => self.message.clone(),
        }
    }
}

/// Several diagnostics; a configuration reports every problem it can find at once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// `Err(self)` when there is anything to report.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    pub fn render(&self, sources: &Sources, color: bool) -> String {
        self.0
            .iter()
            .map(|d| d.render(sources, color))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// A diagnostic with its file attached, as miette wants it.
#[derive(Debug)]
pub(crate) struct WithSource {
    message: String,
    help: Option<String>,
    src: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
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

impl Diagnostic {
    pub(crate) fn with_source(&self, sources: &Sources) -> WithSource {
        let (src, labels) = match &self.loc {
            Some(loc) => {
                let file = sources.get(loc.file);
                let text = file.text.as_str();
                let start = loc.span.start.min(text.len());
                let end = loc.span.end.clamp(start, text.len());
                let mut labels = vec![LabeledSpan::new_primary_with_span(
                    self.label.clone(),
                    SourceSpan::from(start..end),
                )];
                for (rloc, rtext) in &self.related {
                    if rloc.file == loc.file {
                        let s = rloc.span.start.min(text.len());
                        let e = rloc.span.end.clamp(s, text.len());
                        labels.push(LabeledSpan::new_with_span(
                            Some(rtext.clone()),
                            SourceSpan::from(s..e),
                        ));
                    }
                }
                (
                    Some(NamedSource::new(file.name.clone(), text.to_string())),
                    labels,
                )
            }
            None => (None, Vec::new()),
        };
        WithSource {
            message: self.message.clone(),
            help: self.help.clone(),
            src,
            labels,
        }
    }
}
