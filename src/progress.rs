//! Rendering the engine's events: a progress bar on a terminal, plain lines otherwise, JSON
//! lines with `--json`.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use plinth_engine::{Event, EventSink};

/// How events are shown.
pub enum Progress {
    Json,
    Plain,
    Bar(Mutex<Option<ProgressBar>>),
}

impl Progress {
    pub fn new(json: bool) -> Self {
        if json {
            Progress::Json
        } else if std::io::stderr().is_terminal() {
            Progress::Bar(Mutex::new(None))
        } else {
            Progress::Plain
        }
    }

    /// Starts a bar for `total` operations (terminal only).
    pub fn start(&self, total: u64) {
        if let Progress::Bar(b) = self {
            let pb = ProgressBar::new(total);
            pb.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            *b.lock().expect("progress") = Some(pb);
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(b) = self
            && let Some(pb) = b.lock().expect("progress").take()
        {
            pb.finish_and_clear();
        }
    }

    fn line(&self, s: String) {
        match self {
            Progress::Bar(b) => match b.lock().expect("progress").as_ref() {
                Some(pb) => pb.println(s),
                None => eprintln!("{s}"),
            },
            _ => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{s}");
            }
        }
    }
}

fn verb(action: &str) -> (&'static str, &'static str) {
    match action {
        "create" => ("Creating", "Created"),
        "update" => ("Updating", "Updated"),
        "delete" => ("Destroying", "Destroyed"),
        "read" => ("Reading", "Read"),
        "run" => ("Running", "Ran"),
        _ => ("Working on", "Done"),
    }
}

impl EventSink for Progress {
    fn emit(&self, event: Event) {
        if let Progress::Json = self {
            if let Ok(s) = serde_json::to_string(&event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{s}");
                let _ = out.flush();
            }
            return;
        }
        match event {
            Event::RefreshStarted { count } => self.line(format!("Refreshing {count} object{}...", if count == 1 { "" } else { "s" })),
            Event::Refreshed { address, outcome } if outcome != "ok" => self.line(format!("{address}: refresh {outcome}")),
            Event::Refreshed { .. } => {}
            Event::OpStarted { address, action } => {
                let (doing, _) = verb(&action);
                match self {
                    Progress::Bar(b) => {
                        if let Some(pb) = b.lock().expect("progress").as_ref() {
                            pb.set_message(format!("{doing} {address}"));
                        }
                    }
                    _ => self.line(format!("{address}: {}...", doing.to_lowercase())),
                }
            }
            Event::OpFinished { address, action, elapsed_ms, outcome, error } => {
                if let Progress::Bar(b) = self
                    && let Some(pb) = b.lock().expect("progress").as_ref()
                {
                    pb.inc(1);
                }
                let secs = elapsed_ms as f64 / 1000.0;
                if outcome == "ok" {
                    let (_, done) = verb(&action);
                    self.line(format!("{address}: {} after {secs:.1}s", done.to_lowercase()));
                } else {
                    self.line(format!("{address}: {action} FAILED after {secs:.1}s: {}", error.unwrap_or_default()));
                }
            }
            Event::OpSkipped { address, action, reason } => {
                if let Progress::Bar(b) = self
                    && let Some(pb) = b.lock().expect("progress").as_ref()
                {
                    pb.inc(1);
                }
                self.line(format!("{address}: {action} skipped ({reason})"));
            }
            Event::Note { address, message } => self.line(format!("{address}: {message}")),
            Event::Interrupted { second: false } => self.line(
                "Interrupt received: finishing operations in progress, starting no new ones. Press Ctrl-C again to abandon them.".into(),
            ),
            Event::Interrupted { second: true } => {
                self.line("Second interrupt: abandoning operations in progress (recorded as pending; the next run reconciles them).".into())
            }
            Event::Warning { message } => self.line(format!("Warning: {message}")),
        }
    }
}
