//! How to render: whether sensitive values are revealed, and the length limit.
//!
//! A leaf, so that every part of the rendering can read the options.

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
