//! The error an evaluation returns: a message, the span it is about, and an optional hint.
//!
//! A leaf module: the evaluator, the reference walker and the built-ins all build these.

use std::ops::Range;

/// An error evaluating an expression. Its `Display` is the message.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// A sentence a user understands, e.g. "unknown function `lowr`".
    pub message: String,
    /// Byte range in the template string the error is about.
    pub span: Range<usize>,
    /// A hint such as "did you mean `id`?".
    pub help: Option<String>,
}

impl EvalError {
    /// An error with a message and the span it is about.
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        EvalError {
            message: message.into(),
            span,
            help: None,
        }
    }

    /// Adds a hint shown after the message.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
