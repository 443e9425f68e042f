//! Low-level helpers shared by every reader of configuration text (the `*.toml` files, var
//! files, YAML manifests): TOML syntax errors with advice, string values as nodes (a literal,
//! or a parsed template of `${...}` and `%{...}`, with the offset of its content in the file),
//! and the check that a table key holds no `${...}`.
//!
//! A leaf among the readers: `load`, `decode`, `manifest` and `vars` use it; it uses only
//! diagnostics, nodes and sources.

use plinth_value::Value;

use crate::diag::Diagnostic;
use crate::node::{EscapeMap, Node, NodeKind};
use crate::source::{FileId, Loc};

/// A TOML syntax error, located, with advice for the mistakes people make most.
pub(crate) fn toml_error(file: FileId, text: &str, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let msg = e.message().trim().to_string();
    let mut message = format!("invalid TOML: {msg}");
    let mut help = "see https://toml.io for the syntax".to_string();
    if msg.starts_with("duplicate key") {
        let key = text
            .get(span.clone())
            .map(str::trim)
            .filter(|k| !k.is_empty() && !k.contains('\n'));
        if let Some(key) = key {
            message = format!("invalid TOML: duplicate key `{key}`");
            help = format!("`{key}` is set twice in the same table; keep only one `{key} = ...`");
        }
    } else if line_of(text, span.start).contains("\"${")
        && line_of(text, span.start).matches('"').count() > 2
    {
        help = "a \"double-quoted\" TOML string ends at the next `\"`, so quotes inside ${...} end it early: write the value as a 'single-quoted' TOML string, e.g. input = '${format(\"%s-app\", var.name)}'".to_string();
    } else if msg.contains("escape") {
        help = "in \"double-quoted\" strings a backslash starts an escape: write \\\\ for a backslash, or use a 'single-quoted' literal string (e.g. for Windows paths)".to_string();
    }
    Diagnostic::at(message, Loc::new(file, span))
        .label(msg)
        .help(help)
}

/// The line of `text` that holds byte `at`.
fn line_of(text: &str, at: usize) -> &str {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// A table key holding `${...}` (or a `%{...}` directive): an error, since keys are never
/// evaluated (the key would be the literal text `${var.x}`, silently).
pub(crate) fn interpolated_key(key: &str, loc: &Loc) -> Option<Diagnostic> {
    if !is_template_text(key) {
        return None;
    }
    let literal = plinth_expr::parse_template(key).is_ok_and(|t| t.is_literal());
    if literal && !is_template_text(&key.replace("$${", "").replace("%%{", "")) {
        return None;
    }
    Some(
        Diagnostic::at(
            format!("the table key `{key}` holds ${{...}}, but keys are not evaluated"),
            loc.clone(),
        )
        .label("taken literally, not interpolated")
        .help("only values are evaluated: write the key itself (e.g. tags = { env = \"${var.env}\" }), or use for_each to make one resource per computed key"),
    )
}

/// The file offset of a string's first content byte when its source text is exactly its
/// value (no escapes), so spans inside it map to exact columns.
pub(crate) fn content_offset(
    text: &str,
    span: &std::ops::Range<usize>,
    value: &str,
) -> Option<usize> {
    let raw = text.get(span.clone())?;
    for delim in ["\"\"\"", "'''", "\"", "'"] {
        if raw.len() >= 2 * delim.len() && raw.starts_with(delim) && raw.ends_with(delim) {
            let inner = &raw[delim.len()..raw.len() - delim.len()];
            if inner == value {
                return Some(span.start + delim.len());
            }
            if delim.len() == 3 {
                let trimmed = inner
                    .strip_prefix("\r\n")
                    .or_else(|| inner.strip_prefix('\n'));
                if let Some(t) = trimmed
                    && t == value
                {
                    return Some(span.start + delim.len() + (inner.len() - t.len()));
                }
            }
            return None;
        }
    }
    None
}

/// Where the pieces of a basic string (`"..."` or `"""..."""`) are in the file, when its
/// escapes make the source differ from the value (see [`EscapeMap`]); `None` for any other
/// string, or when the source cannot be matched to the value (the whole string is then
/// located instead).
pub(crate) fn escape_map(
    text: &str,
    span: &std::ops::Range<usize>,
    value: &str,
) -> Option<EscapeMap> {
    let raw = text.get(span.clone())?;
    let delim = if raw.starts_with("\"\"\"") { 3 } else { 1 };
    if raw.len() < 2 * delim || !raw.starts_with('"') || !raw.ends_with('"') {
        return None;
    }
    let mut inner = &raw[delim..raw.len() - delim];
    let mut base = span.start + delim;
    if delim == 3 {
        let t = inner
            .strip_prefix("\r\n")
            .or_else(|| inner.strip_prefix('\n'))
            .unwrap_or(inner);
        base += inner.len() - t.len();
        inner = t;
    }
    let mut anchors = vec![(0, base)];
    let mut decoded = String::with_capacity(value.len());
    let mut rest = inner;
    while let Some(i) = rest.find('\\') {
        decoded.push_str(&rest[..i]);
        let at = base + (inner.len() - rest.len()) + i;
        anchors.push((decoded.len(), at));
        let after = &rest[i + 1..];
        let (ch, used) = match after.chars().next()? {
            'b' => (Some('\u{8}'), 1),
            't' => (Some('\t'), 1),
            'n' => (Some('\n'), 1),
            'f' => (Some('\u{c}'), 1),
            'r' => (Some('\r'), 1),
            'e' => (Some('\u{1b}'), 1),
            '"' => (Some('"'), 1),
            '\\' => (Some('\\'), 1),
            'x' => (Some(hex_char(after.get(1..3)?)?), 3),
            'u' => (Some(hex_char(after.get(1..5)?)?), 5),
            'U' => (Some(hex_char(after.get(1..9)?)?), 9),
            // A line-ending backslash: the newline and the whitespace after it go.
            c if delim == 3 && c.is_whitespace() => {
                let t = after.trim_start_matches([' ', '\t', '\r', '\n']);
                (None, after.len() - t.len())
            }
            _ => return None,
        };
        if let Some(c) = ch {
            decoded.push(c);
        }
        rest = &after[used..];
        anchors.push((decoded.len(), base + (inner.len() - rest.len())));
    }
    decoded.push_str(rest);
    (decoded == value && anchors.len() > 1).then(|| anchors.into())
}

fn hex_char(digits: &str) -> Option<char> {
    u32::from_str_radix(digits, 16)
        .ok()
        .and_then(char::from_u32)
}

/// True when a string may hold an interpolation `${` or a directive `%{` (or their escapes
/// `$${`, `%%{`): only such strings are parsed as templates.
pub(crate) fn is_template_text(s: &str) -> bool {
    s.contains("${") || s.contains("%{")
}

/// The help for a parse error the parser has no specific advice for.
const GENERAL_HELP: &str = "expressions are written ${reference}, ${function(args)} or ${\"text\"}, directives %{if cond}...%{endif} and %{for x in list}...%{endfor}; write $${ for a literal ${ and %%{ for a literal %{";

/// A string value as a node: a literal, or a template when it holds `${...}` or a `%{...}`
/// directive. A template that does not parse is an error, returned beside a `Null` node
/// standing in for it.
pub(crate) fn string_node(
    s: &str,
    loc: Loc,
    content_offset: Option<usize>,
    escapes: Option<EscapeMap>,
) -> (Node, Option<Diagnostic>) {
    if !is_template_text(s) {
        let n = Node {
            kind: NodeKind::Lit(Value::String(s.to_string())),
            loc,
            content_offset,
            escapes: None,
        };
        return (n, None);
    }
    let node = |kind| Node {
        kind,
        loc: loc.clone(),
        content_offset,
        escapes: escapes.clone(),
    };
    match plinth_expr::parse_template(s) {
        Ok(t) if t.is_literal() => {
            let text = t.literal_text().unwrap_or_default();
            (node(NodeKind::Lit(Value::String(text))), None)
        }
        Ok(mut t) => {
            crate::compact::template(&mut t);
            (node(NodeKind::Template(t)), None)
        }
        Err(e) => {
            let n = node(NodeKind::Lit(Value::Null));
            let at = n.loc_of(&e.span);
            let d = Diagnostic::at(format!("invalid expression: {}", e.message), at);
            let d = match &e.expected {
                Some(x) => d.label(format!("expected {x}")),
                None => d,
            };
            // The parser's own advice when it knows the mistake; the syntax in general
            // otherwise.
            let d = d.help(e.help.unwrap_or_else(|| GENERAL_HELP.to_string()));
            (n, Some(d))
        }
    }
}
