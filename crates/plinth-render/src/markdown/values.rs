//! Values as Markdown: one inline code span (or an italic placeholder), or the multi-line
//! text of a long value (embedded JSON pretty-printed) for blocks and diffs.
//!
//! Sensitive values are hidden here, before any text is built, so a secret never reaches a
//! diff. Uses only `syntax`.

use plinth_value::{Path, SENSITIVE_TEXT, UNKNOWN_TEXT, Value};

use super::syntax::code;

/// A string value longer than this (in characters), or spanning lines, is shown as a block
/// (a unified diff for changes) rather than inline.
const LONG_VALUE: usize = 80;
/// Inline renderings are cut to this many characters (only when the full value cannot be
/// shown as a block, e.g. when the other side of a change is unknown).
const INLINE_MAX: usize = 80;

fn hidden(v: &Value, reveal: bool) -> bool {
    !reveal && v.is_sensitive()
}

/// A value as one line of Markdown (a code span, or an italic placeholder).
pub(super) fn inline(v: Option<&Value>, reveal: bool) -> String {
    match v {
        None => "*(none)*".to_string(),
        Some(v) if hidden(v, reveal) => format!("*{SENSITIVE_TEXT}*"),
        Some(v) if v.is_unknown() => format!("*{UNKNOWN_TEXT}*"),
        Some(v) => {
            let text = if reveal {
                v.render_revealed()
            } else {
                v.render()
            };
            code(&abbreviate(&text, INLINE_MAX))
        }
    }
}

/// `s`, cut to `max` characters with an ellipsis.
fn abbreviate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A value as multi-line text, for blocks and diffs.
pub(super) struct TextForm {
    pub(super) text: String,
    /// Too long (or multi-line) to show inline.
    pub(super) long: bool,
    /// The fence's info string.
    pub(super) lang: &'static str,
}

/// The multi-line text of a value, or `None` when it must not or cannot be shown (hidden
/// sensitive, unknown). Sensitive parts inside are replaced by `(sensitive)` unless
/// `reveal`: the text returned never holds a hidden secret.
pub(super) fn text_form(v: &Value, reveal: bool) -> Option<TextForm> {
    if hidden(v, reveal) || v.is_unknown() {
        return None;
    }
    match v.unmarked() {
        Value::String(s) => {
            let long = s.contains('\n') || s.chars().count() > LONG_VALUE;
            Some(match embedded_json(s) {
                Some(pretty) if long => TextForm {
                    text: pretty,
                    long,
                    lang: "json",
                },
                _ => TextForm {
                    text: s.clone(),
                    long,
                    lang: "",
                },
            })
        }
        inner @ (Value::Map(_) | Value::List(_)) => {
            let one_line = if reveal {
                inner.render_revealed()
            } else {
                inner.render()
            };
            let mut text = String::new();
            pretty(inner, reveal, 0, &mut text);
            Some(TextForm {
                text,
                long: one_line.chars().count() > LONG_VALUE,
                lang: "json",
            })
        }
        other => Some(TextForm {
            text: other.render(),
            long: false,
            lang: "",
        }),
    }
}

/// A string holding a JSON object or array, pretty-printed.
fn embedded_json(s: &str) -> Option<String> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(j @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(&j).ok()
        }
        _ => None,
    }
}

/// Pretty-prints a value as indented JSON, marks shown as bare placeholders.
fn pretty(v: &Value, reveal: bool, depth: usize, out: &mut String) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Sensitive(inner) if reveal => pretty(inner, reveal, depth, out),
        Value::Sensitive(_) => out.push_str(SENSITIVE_TEXT),
        Value::Unknown => out.push_str(UNKNOWN_TEXT),
        Value::List(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, x) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                pretty(x, reveal, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::Map(m) if !m.is_empty() => {
            out.push_str("{\n");
            for (i, (k, x)) in m.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push_str(": ");
                pretty(x, reveal, depth + 1, out);
                out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        other => out.push_str(&other.render()),
    }
}

pub(super) fn path_label(p: &Path) -> String {
    if p.is_root() {
        "(value)".to_string()
    } else {
        p.to_string()
    }
}
