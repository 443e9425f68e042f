//! The error an evaluation returns: a message, the span it is about, an optional hint, and,
//! for an error inside a template file, where in that file it is.
//!
//! A leaf module: the evaluator, the reference walker and the built-ins all build these.

use std::ops::Range;

/// An error evaluating an expression. Its `Display` is [`located_message`](Self::located_message).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.located_message())]
pub struct EvalError {
    /// A sentence a user understands, e.g. "unknown function `lowr`".
    pub message: String,
    /// Byte range in the template string the error is about; for an error inside a
    /// template file ([`file`](Self::file)), the `templatefile(...)` call that read it.
    pub span: Range<usize>,
    /// A hint such as "did you mean `id`?".
    pub help: Option<String>,
    /// Set when the error is inside a file the expression read (a `templatefile()`
    /// template): where in it. A caller that knows the file quotes it there and shows the
    /// call at `span` beside it.
    pub file: Option<InFile>,
}

/// A place in a file that an expression read, for an error inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFile {
    /// The path exactly as the expression gives it (what [`Context::read_file`] was asked
    /// for).
    ///
    /// [`Context::read_file`]: crate::Context::read_file
    pub path: String,
    /// Byte range in the file's text.
    pub span: Range<usize>,
    /// The line of `span.start`, from 1.
    pub line: usize,
    /// The column of `span.start`, from 1, in characters.
    pub column: usize,
}

impl EvalError {
    /// An error with a message and the span it is about.
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        EvalError {
            message: message.into(),
            span,
            help: None,
            file: None,
        }
    }

    /// Adds a hint shown after the message.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The message, with the place in the file in front when the error is inside a
    /// template file ("in queues.tpl line 2, column 13: unknown name `queues`"): for a
    /// caller that cannot quote that file.
    pub fn located_message(&self) -> String {
        match &self.file {
            Some(f) => format!(
                "in {} line {}, column {}: {}",
                f.path, f.line, f.column, self.message
            ),
            None => self.message.clone(),
        }
    }
}
