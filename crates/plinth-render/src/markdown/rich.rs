//! Rich text: a short phrase of plain text and code spans, written as Markdown (lists,
//! tables) or as HTML (inside `<summary>`, where Markdown is not parsed).

use super::syntax::{code, html, md_text};

#[derive(Clone, Debug)]
enum Seg {
    Text(String),
    Code(String),
}

/// A short phrase of text and code spans.
#[derive(Clone, Debug, Default)]
pub(super) struct Rich(Vec<Seg>);

impl Rich {
    pub(super) fn text(s: impl Into<String>) -> Self {
        Rich(vec![Seg::Text(s.into())])
    }

    /// Parses the engine's convention for reasons: backtick-quoted parts are code. With
    /// unbalanced backticks, the whole is text.
    pub(super) fn parse(s: &str) -> Self {
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

    pub(super) fn push_text(&mut self, s: impl Into<String>) -> &mut Self {
        self.0.push(Seg::Text(s.into()));
        self
    }

    pub(super) fn push_code(&mut self, s: impl Into<String>) -> &mut Self {
        self.0.push(Seg::Code(s.into()));
        self
    }

    pub(super) fn append(&mut self, other: Rich) -> &mut Self {
        self.0.extend(other.0);
        self
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn md(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Text(t) => md_text(t),
                Seg::Code(c) => code(c),
            })
            .collect()
    }

    pub(super) fn html(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Text(t) => html(t),
                Seg::Code(c) => format!("<code>{}</code>", html(c)),
            })
            .collect()
    }
}
