//! Markdown and HTML syntax: escaping text, code spans, table cells, fences.
//!
//! A leaf: every other part of the Markdown rendering writes text through these.

/// Escapes text for Markdown outside code spans: every character that could start
/// emphasis, a link, HTML, an entity, math or a heading is backslash-escaped. Pipes are
/// left to [`cell`]; line breaks become spaces.
pub(super) fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '#' | '!' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// An inline code span holding `s` verbatim: the fence is longer than any run of backticks
/// inside, and padded when the content would otherwise lose or merge characters.
pub(super) fn code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if s.is_empty() {
        return "` `".to_string();
    }
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = s.starts_with('`')
        || s.ends_with('`')
        || (s.starts_with(' ') && s.ends_with(' ') && !s.trim().is_empty());
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// The longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Makes Markdown safe inside a table cell: every pipe is escaped (GFM unescapes `\|`
/// before parsing the cell's content, code spans included).
pub(super) fn cell(md: &str) -> String {
    md.replace('|', "\\|")
}

/// Escapes text for HTML (inside `<summary>`, where Markdown is not parsed).
pub(super) fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// A code fence long enough for `text`.
pub(super) fn fence_for(text: &str) -> String {
    "`".repeat(longest_run(text, '`').max(2) + 1)
}
