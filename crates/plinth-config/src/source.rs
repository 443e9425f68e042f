//! Source files of a configuration and locations inside them.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Identifies a file in [`Sources`].
pub type FileId = usize;

/// A place in a source file: a byte range.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The file, in the configuration's [`Sources`].
    pub file: FileId,
    /// Byte offsets into the file's text, end exclusive; may be empty (a point).
    pub span: Range<usize>,
}

impl Loc {
    /// The place `span` (byte offsets) in `file`.
    pub fn new(file: FileId, span: Range<usize>) -> Self {
        Loc { file, span }
    }
}

/// How much of a file diagnostics may quote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quote {
    /// The lines a diagnostic points at and one line of context around them.
    #[default]
    WithContext,
    /// Only the lines a diagnostic points at: a file that failed to parse (its other lines
    /// may be anything), a var file (its other lines may be secrets).
    LinesOnly,
}

/// One loaded file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user would write it (relative to the configuration directory's parent
    /// when possible).
    pub name: String,
    /// The path it was read from, as given to [`Sources::add`] (not shortened like `name`).
    pub path: PathBuf,
    /// The whole text as read; shared, since diagnostics hold on to it.
    pub text: Arc<String>,
    /// How much of it diagnostics may quote.
    pub quote: Quote,
    /// Byte ranges that may hold secrets (a sensitive variable's value in a var file): a
    /// diagnostic whose quoted lines would touch one names its place instead of quoting.
    pub secret: Vec<Range<usize>>,
}

/// Every file a configuration was read from.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// No files yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file that diagnostics may quote with context; returns its id.
    pub fn add(&mut self, name: String, path: PathBuf, text: String) -> FileId {
        self.add_quoted(name, path, text, Quote::WithContext)
    }

    /// Adds a file whose diagnostics quote only as much as `quote` allows.
    pub fn add_quoted(
        &mut self,
        name: String,
        path: PathBuf,
        text: String,
        quote: Quote,
    ) -> FileId {
        self.files.push(SourceFile {
            name,
            path,
            text: Arc::new(text),
            quote,
            secret: Vec::new(),
        });
        self.files.len() - 1
    }

    /// Marks a range of a file as never to be quoted (it may hold a secret).
    pub fn mark_secret(&mut self, file: FileId, span: Range<usize>) {
        self.files[file].secret.push(span);
    }

    /// Restricts how much of a file diagnostics quote (e.g. once it failed to parse).
    pub fn set_quote(&mut self, file: FileId, quote: Quote) {
        self.files[file].quote = quote;
    }

    /// The file with this id. Panics on an id not returned by these `Sources` (a bug).
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }

    /// Every file, in the order added (an id is an index here).
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        line_col(&self.files[file].text, offset)
    }

    /// `name:line:col` of a location.
    pub fn describe(&self, loc: &Loc) -> String {
        let (l, c) = self.line_col(loc.file, loc.span.start);
        format!("{}:{l}:{c}", self.files[loc.file].name)
    }

    /// The directory a file lives in.
    pub fn dir_of(&self, file: FileId) -> &Path {
        self.files[file].path.parent().unwrap_or(Path::new("."))
    }
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let t = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, t.find('=').unwrap()), (1, 3));
        let second_eq = t.rfind('=').unwrap();
        assert_eq!(line_col(t, second_eq), (2, 4));
    }
}
