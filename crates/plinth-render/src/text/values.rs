//! Attribute lines of the text rendering: `+ name = value`, `~ name = before -> after`,
//! with the provider's annotation beside the value (`# Azure Service Bus Data Owner`).
//! A string that holds a document — JSON (a policy, a config blob) or several lines (a
//! YAML manifest, a script) — is shown as an indented block under `<<EOT`, and a changed one
//! as a line diff of the two documents (JSON pretty-printed first), so that a reviewer reads
//! what changed rather than an escaped string. Values are never clipped: a long one is one
//! long line, which the terminal wraps.

use std::fmt::Write;

use plinth_value::Value;
use similar::{ChangeTag, TextDiff};

use super::{Style, TextOptions, show};

/// The indentation of an attribute line.
pub(super) const ATTR: &str = "      ";
/// The indentation of the lines of a document under an attribute line.
const DOC: &str = "          ";
/// The indentation of a document's closing `EOT`.
const EOT: &str = "        ";
/// Unchanged lines kept around each change of a document diff.
const CONTEXT: usize = 3;
/// A one-line JSON string shorter than this stays inline (`["a"]`, `{"k":1}`).
const INLINE_JSON: usize = 60;

/// The text of `v` as a document, when it is one: pretty-printed JSON for a JSON object or
/// array that is long or already spread over lines, the lines of any other string that has
/// several. `None` for a hidden sensitive value, a short string, anything not a string.
fn document(v: &Value, opts: &TextOptions) -> Option<String> {
    let v = if opts.show_sensitive { v.unmarked() } else { v };
    let s = v.as_str().filter(|_| !v.is_sensitive())?;
    if let Some(pretty) = json_document(s) {
        if s.contains('\n') || s.len() > INLINE_JSON {
            return Some(pretty);
        }
        return None;
    }
    s.trim_end_matches('\n')
        .contains('\n')
        .then(|| s.trim_end_matches('\n').to_string())
}

/// `s` pretty-printed when it is a JSON object or array.
fn json_document(s: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(s.trim()) {
        Ok(j @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(&j).ok()
        }
        _ => None,
    }
}

/// The annotation as it follows a value: `  # Azure Service Bus Data Owner`, dimmed.
fn note_text(note: Option<&str>, st: &Style) -> String {
    note.map(|n| st.paint("2", &format!("  # {n}")))
        .unwrap_or_default()
}

/// What an attribute line says besides its values.
pub(super) struct Attr<'a> {
    /// The path, as shown.
    pub(super) name: &'a str,
    /// The provider's annotation of the value.
    pub(super) note: Option<&'a str>,
    /// What ends the line (`  # forces replacement`), styled; may be empty.
    pub(super) tail: &'a str,
}

/// One attribute with one value: `{sign} {name} = {value}{note}{tail}`, or the value as a
/// document block. `sign` comes styled.
pub(super) fn write_value(
    out: &mut String,
    sign: &str,
    attr: &Attr<'_>,
    v: &Value,
    opts: &TextOptions,
    st: &Style,
) {
    let (name, tail) = (attr.name, attr.tail);
    let note = note_text(attr.note, st);
    match document(v, opts) {
        Some(doc) => {
            let _ = writeln!(out, "{ATTR}{sign} {name} = <<EOT{note}{tail}");
            for line in doc.lines() {
                let _ = writeln!(out, "{DOC}{line}");
            }
            let _ = writeln!(out, "{EOT}EOT");
        }
        None => {
            let _ = writeln!(out, "{ATTR}{sign} {name} = {}{note}{tail}", show(v, opts));
        }
    }
}

/// One attribute that changes: `~ {name} = {before} -> {after}{note}{tail}`, or, when both
/// are documents (or either is several lines), a diff of their lines.
pub(super) fn write_change(
    out: &mut String,
    attr: &Attr<'_>,
    before: &Value,
    after: &Value,
    opts: &TextOptions,
    st: &Style,
) {
    let (name, tail) = (attr.name, attr.tail);
    let sign = st.action(plinth_plan::Action::Update, "~");
    let note = note_text(attr.note, st);
    let Some((old, new)) = documents(before, after, opts) else {
        let _ = writeln!(
            out,
            "{ATTR}{sign} {name} = {} -> {}{note}{tail}",
            show(before, opts),
            show(after, opts)
        );
        return;
    };
    let _ = writeln!(out, "{ATTR}{sign} {name} = <<EOT{note}{tail}");
    let diff = TextDiff::from_lines(&old, &new);
    let groups = diff.grouped_ops(CONTEXT);
    let old_lines: Vec<&str> = old.lines().collect();
    let total = old_lines.len();
    let mut shown_to = 0;
    for group in &groups {
        let first = group.first().map_or(0, |op| op.old_range().start);
        skip(out, &old_lines[shown_to..first], st);
        for op in group {
            for change in diff.iter_changes(op) {
                let line = change.value().trim_end_matches('\n');
                let _ = match change.tag() {
                    ChangeTag::Equal => writeln!(out, "{DOC}  {line}"),
                    ChangeTag::Delete => {
                        writeln!(
                            out,
                            "{DOC}{}",
                            st.action(plinth_plan::Action::Delete, &format!("- {line}"))
                        )
                    }
                    ChangeTag::Insert => {
                        writeln!(
                            out,
                            "{DOC}{}",
                            st.action(plinth_plan::Action::Create, &format!("+ {line}"))
                        )
                    }
                };
            }
        }
        shown_to = group.last().map_or(shown_to, |op| op.old_range().end);
    }
    if groups.is_empty() {
        // The same lines: the strings differ only in formatting (JSON spacing, a final
        // newline).
        let _ = writeln!(
            out,
            "{DOC}  {}",
            st.paint("2", "# (the same document: only its formatting changes)")
        );
    } else {
        skip(out, &old_lines[shown_to..total], st);
    }
    let _ = writeln!(out, "{EOT}EOT");
}

/// Unchanged lines between the parts of a diff: a count, unless showing them takes no
/// more room than the count would (two lines or fewer).
fn skip(out: &mut String, lines: &[&str], st: &Style) {
    if lines.len() <= 2 {
        for line in lines {
            let _ = writeln!(out, "{DOC}  {line}");
        }
    } else {
        let _ = writeln!(out, "{DOC}  {}", st.paint("2", &unchanged(lines.len())));
    }
}

fn unchanged(n: usize) -> String {
    match n {
        1 => "# (1 unchanged line)".into(),
        n => format!("# ({n} unchanged lines)"),
    }
}

/// The two sides of a change as documents to diff: both JSON (pretty-printed), or either
/// spread over lines (as they are). `None` when the change reads best on one line.
fn documents(before: &Value, after: &Value, opts: &TextOptions) -> Option<(String, String)> {
    let text = |v: &Value| -> Option<String> {
        let v = if opts.show_sensitive { v.unmarked() } else { v };
        (!v.is_sensitive()).then(|| v.as_str().map(str::to_string))?
    };
    let (b, a) = (text(before)?, text(after)?);
    if let (Some(pb), Some(pa)) = (json_document(&b), json_document(&a)) {
        let multi = pb.contains('\n') || pa.contains('\n');
        let long = b.len().max(a.len()) > INLINE_JSON;
        return (multi && (long || b.contains('\n') || a.contains('\n')))
            .then(|| (with_newline(pb), with_newline(pa)));
    }
    let multi = |s: &str| s.trim_end_matches('\n').contains('\n');
    (multi(&b) || multi(&a)).then(|| (with_newline(b), with_newline(a)))
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> (TextOptions, Style) {
        (TextOptions::default(), Style { color: false })
    }

    #[test]
    fn a_changed_json_document_is_a_diff_of_its_lines() {
        let (opts, st) = plain();
        let before = Value::from(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sb:Send","Resource":"*"}]}"#,
        );
        let after = Value::from(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sb:Listen","Resource":"*"}]}"#,
        );
        let mut out = String::new();
        write_change(
            &mut out,
            &Attr {
                name: "policy",
                note: None,
                tail: "",
            },
            &before,
            &after,
            &opts,
            &st,
        );
        assert_eq!(
            out,
            r#"      ~ policy = <<EOT
            {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Effect": "Allow",
          -       "Action": "sb:Send",
          +       "Action": "sb:Listen",
                  "Resource": "*"
                }
              ]
            }
        EOT
"#
        );
    }

    #[test]
    fn a_long_yaml_change_keeps_three_lines_of_context_and_counts_the_rest() {
        let (opts, st) = plain();
        let lines: Vec<String> = (0..20).map(|i| format!("k{i}: v{i}")).collect();
        let before = Value::from(lines.join("\n"));
        let mut changed = lines.clone();
        changed[10] = "k10: changed".into();
        let after = Value::from(changed.join("\n"));
        let mut out = String::new();
        write_change(
            &mut out,
            &Attr {
                name: "data.manifest",
                note: None,
                tail: "",
            },
            &before,
            &after,
            &opts,
            &st,
        );
        assert_eq!(
            out,
            "      ~ data.manifest = <<EOT
            # (7 unchanged lines)
            k7: v7
            k8: v8
            k9: v9
          - k10: v10
          + k10: changed
            k11: v11
            k12: v12
            k13: v13
            # (6 unchanged lines)
        EOT
"
        );
    }

    #[test]
    fn short_values_stay_inline_and_secrets_are_never_a_document() {
        let (opts, st) = plain();
        let mut out = String::new();
        write_change(
            &mut out,
            &Attr {
                name: "tags",
                note: Some("two tags"),
                tail: "",
            },
            &Value::from(r#"["a"]"#),
            &Value::from(r#"["b"]"#),
            &opts,
            &st,
        );
        let secret = Value::sensitive(Value::from("line one\nline two"));
        write_change(
            &mut out,
            &Attr {
                name: "s",
                note: None,
                tail: "",
            },
            &secret,
            &secret,
            &opts,
            &st,
        );
        write_value(
            &mut out,
            "+",
            &Attr {
                name: "s",
                note: None,
                tail: "",
            },
            &secret,
            &opts,
            &st,
        );
        assert_eq!(
            out,
            "      ~ tags = \"[\\\"a\\\"]\" -> \"[\\\"b\\\"]\"  # two tags\n      ~ s = (sensitive) -> (sensitive)\n      + s = (sensitive)\n"
        );
    }

    #[test]
    fn a_created_document_is_a_block() {
        let (opts, st) = plain();
        let mut out = String::new();
        write_value(
            &mut out,
            "+",
            &Attr {
                name: "data.script",
                note: None,
                tail: "",
            },
            &Value::from("#!/bin/sh\necho hi\n"),
            &opts,
            &st,
        );
        assert_eq!(
            out,
            "      + data.script = <<EOT\n          #!/bin/sh\n          echo hi\n        EOT\n"
        );
    }
}
