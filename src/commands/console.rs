//! `plinth console`: a REPL that evaluates expressions against the configuration and the
//! state, as `terraform console` does. Read-only: it loads the state without taking the lock,
//! so it works while another command holds it.
//!
//! On a terminal: a `> ` prompt, line editing and in-memory history (rustyline), input that
//! goes on over several lines while a bracket, parenthesis, brace or string is open, `exit` or
//! Ctrl-D to quit, Ctrl-C to clear the line. Piped: no prompt, each result on stdout, each
//! error on stderr, exit 1 when any expression failed.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use plinth_config::Diagnostics;
use plinth_engine::Console;
use plinth_value::Value;

use super::shared::load_warned;
use crate::Common;
use crate::error::CliError;
use crate::{backend, workspace};

/// Typed input longer than this is refused rather than parsed.
const MAX_INPUT: usize = 1 << 20;

pub(super) fn console(dir: &Path, common: &Common) -> Result<u8, CliError> {
    if common.json {
        return Err(CliError::help(
            "plinth console does not take --json",
            "pipe expressions in without --json: each result is printed on its own",
        ));
    }
    let loaded = workspace::load(dir, common)?;
    let backend = backend::of(&loaded)?;
    let state = load_warned(backend.as_ref())?;
    let console = Console::new(loaded.workspace(), state.as_ref())
        .map_err(|d| CliError::Config(loaded.config.sources.clone(), d))?;
    let color = workspace::use_color(common);
    if std::io::stdin().is_terminal() {
        interactive(&console, color)
    } else {
        piped(&console, color)
    }
}

/// Evaluates one entry, printing its value or its error; false on an error.
fn run_one(console: &Console<'_>, text: &str, color: bool) -> bool {
    if text.len() > MAX_INPUT {
        eprintln!(
            "error: the input is {} bytes; the console takes expressions up to {MAX_INPUT} bytes",
            text.len()
        );
        return false;
    }
    match console.eval(text) {
        Ok(v) => {
            outln!("{}", format_value(&v, 0));
            true
        }
        Err(d) => {
            eprint!(
                "{}",
                Diagnostics::from(d).render(&console.sources(text), color)
            );
            false
        }
    }
}

/// True for the word that ends a session.
fn is_exit(text: &str) -> bool {
    text.trim() == "exit"
}

/// Reads expressions from a pipe: lines accumulate while the expression is open.
fn piped(console: &Console<'_>, color: bool) -> Result<u8, CliError> {
    let mut failed = false;
    let mut entry = String::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| CliError::msg(format!("cannot read standard input: {e}")))?;
        if entry.is_empty() {
            if line.trim().is_empty() {
                continue;
            }
            if is_exit(&line) {
                break;
            }
        } else {
            entry.push('\n');
        }
        entry.push_str(&line);
        if entry.len() <= MAX_INPUT && Console::is_incomplete(&entry) {
            continue;
        }
        failed |= !run_one(console, &entry, color);
        entry.clear();
    }
    // Input that ended with something still open: its error says what.
    if !entry.is_empty() {
        failed |= !run_one(console, &entry, color);
    }
    Ok(u8::from(failed))
}

/// The terminal REPL.
fn interactive(console: &Console<'_>, color: bool) -> Result<u8, CliError> {
    use rustyline::error::ReadlineError;
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .max_history_size(1000)
        .map_err(|e| CliError::msg(format!("cannot start the console: {e}")))?
        .build();
    let mut editor: rustyline::Editor<Helper, rustyline::history::DefaultHistory> =
        rustyline::Editor::with_config(config)
            .map_err(|e| CliError::msg(format!("cannot start the console: {e}")))?;
    editor.set_helper(Some(Helper));
    eprintln!(
        "Evaluate expressions against the configuration and its state; `exit` or Ctrl-D quits."
    );
    loop {
        match editor.readline("> ") {
            Ok(text) => {
                if text.trim().is_empty() {
                    continue;
                }
                if is_exit(&text) {
                    break;
                }
                let _ = editor.add_history_entry(text.as_str());
                run_one(console, &text, color);
            }
            // Ctrl-C clears the line, as a shell does.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::msg(format!("cannot read the terminal: {e}"))),
        }
    }
    Ok(0)
}

/// Tells rustyline to go on to another line while the expression is open.
struct Helper;

impl rustyline::Helper for Helper {}

impl rustyline::completion::Completer for Helper {
    type Candidate = String;
}

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}

impl rustyline::highlight::Highlighter for Helper {}

impl rustyline::validate::Validator for Helper {
    fn validate(
        &self,
        ctx: &mut rustyline::validate::ValidationContext<'_>,
    ) -> rustyline::Result<rustyline::validate::ValidationResult> {
        use rustyline::validate::ValidationResult;
        let input = ctx.input();
        Ok(
            if input.len() <= MAX_INPUT && Console::is_incomplete(input) {
                ValidationResult::Incomplete
            } else {
                ValidationResult::Valid(None)
            },
        )
    }
}

/// A value as `terraform console` prints it: strings quoted (a multi-line one as a heredoc),
/// lists and maps one element a line, indented by `indent` more spaces per level; unknown and
/// sensitive values as what they are, never a secret.
fn format_value(v: &Value, indent: usize) -> String {
    match v {
        Value::Unknown => plinth_value::UNKNOWN_TEXT.to_string(),
        Value::Sensitive(_) => "(sensitive value)".to_string(),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(n),
        Value::String(s) => heredoc(s, indent).unwrap_or_else(|| quote(s)),
        Value::List(items) if items.is_empty() => "[]".to_string(),
        Value::List(items) => {
            let pad = " ".repeat(indent + 2);
            let mut out = String::from("[");
            for item in items {
                out.push_str(&format!("\n{pad}{},", format_value(item, indent + 2)));
            }
            out.push_str(&format!("\n{}]", " ".repeat(indent)));
            out
        }
        Value::Map(m) if m.is_empty() => "{}".to_string(),
        Value::Map(m) => {
            let pad = " ".repeat(indent + 2);
            let mut out = String::from("{");
            for (k, item) in m {
                out.push_str(&format!(
                    "\n{pad}{} = {}",
                    quote(k),
                    format_value(item, indent + 2)
                ));
            }
            out.push_str(&format!("\n{}}}", " ".repeat(indent)));
            out
        }
    }
}

/// A number as Terraform prints it: `3` for a whole float, else the shortest form.
fn format_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            format!("{}", f as i64)
        }
        _ => n.to_string(),
    }
}

/// Characters that must never reach a terminal raw: controls (but a line break) and the
/// bidirectional overrides that reorder what a reader sees.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A quoted string literal, escaped as the language reads it back.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string of several lines as a heredoc (`<<EOT`, or `<<-EOT` when nested), as Terraform
/// prints it; `None` for one line, or text that must be escaped.
fn heredoc(s: &str, indent: usize) -> Option<String> {
    let lines: Vec<&str> = s.split('\n').collect();
    if lines.len() < 2 || s.chars().any(needs_escape) {
        return None;
    }
    let mut delimiter = String::from("EOT");
    while lines.iter().any(|l| l.trim() == delimiter) {
        delimiter.push('_');
    }
    let pad = " ".repeat(indent);
    let operator = if indent > 0 { "<<-" } else { "<<" };
    let mut out = format!("{operator}{delimiter}");
    for line in lines {
        out.push_str(&format!("\n{pad}{line}"));
    }
    out.push_str(&format!("\n{pad}{delimiter}"));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: serde_json::Value) -> Value {
        Value::from(json)
    }

    #[test]
    fn scalars_print_as_terraform_prints_them() {
        assert_eq!(format_value(&v(serde_json::json!("x")), 0), "\"x\"");
        assert_eq!(format_value(&v(serde_json::json!(null)), 0), "null");
        assert_eq!(format_value(&v(serde_json::json!(true)), 0), "true");
        assert_eq!(format_value(&v(serde_json::json!(3)), 0), "3");
        assert_eq!(format_value(&v(serde_json::json!(3.0)), 0), "3");
        assert_eq!(format_value(&v(serde_json::json!(1.5)), 0), "1.5");
        assert_eq!(
            format_value(&v(serde_json::json!("a\"b\\c\td")), 0),
            r#""a\"b\\c\td""#
        );
        assert_eq!(format_value(&Value::Unknown, 0), "(known after apply)");
    }

    #[test]
    fn collections_are_one_element_a_line() {
        // Keys in order, as Terraform prints a map.
        let value = v(serde_json::json!({"names": ["a", "b"], "n": 1, "empty": [], "none": {}}));
        assert_eq!(
            format_value(&value, 0),
            "{\n  \"empty\" = []\n  \"n\" = 1\n  \"names\" = [\n    \"a\",\n    \"b\",\n  ]\n  \"none\" = {}\n}"
        );
    }

    #[test]
    fn sensitive_values_never_print() {
        let mut value = v(serde_json::json!({"user": "admin", "password": "hunter2"}));
        value.set(
            &"password".parse().unwrap(),
            Value::sensitive(Value::from("hunter2")),
        );
        let text = format_value(&value, 0);
        assert!(text.contains("\"password\" = (sensitive value)"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(
            format_value(&Value::sensitive(Value::from("hunter2")), 0),
            "(sensitive value)"
        );
    }

    #[test]
    fn multi_line_strings_are_heredocs_and_controls_are_escaped() {
        assert_eq!(format_value(&Value::from("a\nb"), 0), "<<EOT\na\nb\nEOT");
        let nested = Value::List(vec![Value::from("EOT\nb")]);
        assert_eq!(
            format_value(&nested, 0),
            "[\n  <<-EOT_\n  EOT\n  b\n  EOT_,\n]"
        );
        // An escape sequence or a bidi override never reaches the terminal raw.
        assert_eq!(
            format_value(&Value::from("a\u{1b}[2J\nb"), 0),
            "\"a\\u001B[2J\\nb\""
        );
        assert_eq!(format_value(&Value::from("x\u{202e}y"), 0), "\"x\\u202Ey\"");
    }
}
