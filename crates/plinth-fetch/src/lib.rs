//! Module sources beyond local paths (SPEC's modules, issue 15 item 4).
#![warn(missing_docs)]

mod source;

pub use source::{GitSource, redact};
