//! `CliError`, the one error type of the binary, and how it is reported: rendered diagnostics
//! on stderr (file:line:col, the quoted line, help), or JSON objects on stdout with `--json`.

use plinth_config::{Diagnostic, Diagnostics, Sources};

/// A failure to report. Every variant ends the command with exit code 1.
pub enum CliError {
    /// Problems located in configuration files.
    Config(Sources, Diagnostics),
    /// A problem not located in a file.
    Plain(Diagnostic),
}

impl CliError {
    pub fn msg(message: impl Into<String>) -> Self {
        CliError::Plain(Diagnostic::new(message))
    }

    pub fn help(message: impl Into<String>, help: impl Into<String>) -> Self {
        CliError::Plain(Diagnostic::new(message).help(help))
    }

    /// Prints to stderr (or, with `--json`, a JSON object to stdout).
    pub fn report(&self, json: bool, color: bool) {
        let (sources, diags) = match self {
            CliError::Config(s, d) => (s.clone(), d.clone()),
            CliError::Plain(d) => (Sources::new(), Diagnostics::from(d.clone())),
        };
        if json {
            let items: Vec<serde_json::Value> = diags
                .0
                .iter()
                .map(|d| {
                    let (file, line, column) = match &d.loc {
                        Some(l) => {
                            let (line, col) = sources.line_col(l.file, l.span.start);
                            (Some(sources.get(l.file).name.clone()), Some(line), Some(col))
                        }
                        None => (None, None, None),
                    };
                    serde_json::json!({"type": "error", "message": d.display_message(), "file": file.map(|f| plinth_config::clean(&f)), "line": line, "column": column, "help": d.help.as_deref().map(plinth_config::clean)})
                })
                .collect();
            for i in items {
                outln!("{i}");
            }
        } else {
            eprint!("{}", diags.render(&sources, color));
            if diags.len() > 1 {
                eprintln!("\n{} problems found.", diags.len());
            }
        }
    }
}

impl From<plinth_state::StateError> for CliError {
    fn from(e: plinth_state::StateError) -> Self {
        CliError::msg(e.to_string())
    }
}

impl CliError {
    /// An engine error, its configuration problems located in `sources`.
    pub fn engine(sources: &plinth_config::Sources, e: plinth_engine::EngineError) -> Self {
        match e {
            plinth_engine::EngineError::Config(d) => CliError::Config(sources.clone(), d),
            plinth_engine::EngineError::State(e) => CliError::help(
                format!("saving state failed: {e}"),
                "the state file holds everything recorded up to this point; fix the problem and run again",
            ),
            e @ plinth_engine::EngineError::Provider { .. } => CliError::msg(e.to_string()),
        }
    }
}
