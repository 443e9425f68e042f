//! What is in flight, and how it is drawn: the terminal's live view (one row per running
//! operation with its elapsed time) and the "still creating" lines of a non-terminal. Pure:
//! every function takes the time it draws at, so tests use a fake clock.

use std::time::{Duration, Instant};

/// Spinner frames of the live view, one per [`FRAME`].
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// How long a spinner frame lasts.
const FRAME: Duration = Duration::from_millis(100);
/// Width of the live view's progress bar.
const BAR: usize = 24;

/// The progressive verb of an operation's action (`create` → `creating`).
pub fn doing(action: &str) -> &'static str {
    match action {
        "create" => "creating",
        "update" => "updating",
        "delete" => "destroying",
        "read" => "reading",
        "run" => "running",
        _ => "working on",
    }
}

/// The past participle of an operation's action (`create` → `created`).
pub fn done(action: &str) -> &'static str {
    match action {
        "create" => "created",
        "update" => "updated",
        "delete" => "destroyed",
        "read" => "read",
        "run" => "ran",
        _ => "done",
    }
}

/// A duration as people read it on a progress line, whole seconds: `0s`, `45s`, `1m20s`,
/// `1h2m5s` (Terraform's "[1m20s elapsed]").
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// How long a finished operation took: tenths of a second under a minute (`0.1s`), else
/// [`elapsed`] (`5m12s`).
pub fn took(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        elapsed(d)
    }
}

/// One operation in flight.
#[derive(Clone, Debug)]
pub struct Running {
    /// The object's address.
    pub address: String,
    /// `create`, `update`, `delete`, `read` or `run`.
    pub action: String,
    /// When it started.
    pub started: Instant,
    /// When its next "still creating" line is due (non-terminals).
    next_still: Instant,
    /// How many times its provider retried a request.
    pub retries: u32,
    /// The provider's latest note (what it is retrying), one line.
    pub last_note: Option<String>,
}

/// The operations in flight, in the order they started.
#[derive(Debug)]
pub struct Board {
    running: Vec<Running>,
    /// How often a non-terminal says an operation is still running.
    still_every: Duration,
}

impl Board {
    /// An empty board whose "still creating" lines come every `still_every`.
    pub fn new(still_every: Duration) -> Self {
        Board {
            running: Vec::new(),
            still_every,
        }
    }

    /// How often a non-terminal says an operation is still running.
    pub fn still_every(&self) -> Duration {
        self.still_every
    }

    /// The operations in flight, oldest first.
    #[cfg(test)]
    pub fn running(&self) -> &[Running] {
        &self.running
    }

    /// `address`'s `action` started at `now`.
    pub fn start(&mut self, address: &str, action: &str, now: Instant) {
        self.running.push(Running {
            address: address.to_string(),
            action: action.to_string(),
            started: now,
            next_still: now + self.still_every,
            retries: 0,
            last_note: None,
        });
    }

    /// `address`'s `action` finished (or failed): it leaves the board, which returns it.
    /// A failed precondition finishes as `precondition` without having started: then the
    /// address's operation (whatever its action) leaves.
    pub fn finish(&mut self, address: &str, action: &str) -> Option<Running> {
        let i = self
            .running
            .iter()
            .position(|r| r.address == address && r.action == action)
            .or_else(|| self.running.iter().position(|r| r.address == address))?;
        Some(self.running.remove(i))
    }

    /// A provider retried a request of `address`'s operation. True when this is the
    /// operation's first retry (the one worth a line of its own); later ones are counted
    /// and shown on its row and its finish line. False too when nothing of `address` is
    /// running (a note while planning: the caller decides).
    pub fn note(&mut self, address: &str, message: &str) -> Option<bool> {
        let r = self
            .running
            .iter_mut()
            .rev()
            .find(|r| r.address == address)?;
        r.retries += 1;
        r.last_note = Some(first_line(message).to_string());
        Some(r.retries == 1)
    }

    /// The "still creating" lines due at `now` (non-terminals): one per operation that has
    /// run another `still_every` since it started or since its last such line. A late tick
    /// says each operation once, with its true elapsed time, never a burst of lines.
    pub fn still_lines(&mut self, now: Instant) -> Vec<String> {
        let every = self.still_every;
        let mut out = Vec::new();
        for r in &mut self.running {
            if now < r.next_still {
                continue;
            }
            let ran = now.saturating_duration_since(r.started);
            out.push(format!(
                "{}: still {} ({} elapsed)",
                r.address,
                doing(&r.action),
                elapsed(ran)
            ));
            while r.next_still <= now {
                r.next_still += every;
            }
        }
        out
    }

    /// The live view at `now`: a header (`done`/`total` operations, a bar, the run's
    /// elapsed time since `since`), then one row per running operation with its elapsed
    /// time, oldest first, at most `max_rows` of them (then `… and N more`). Columns are
    /// aligned; a row with retries says how many and the latest note, dimmed when `dim`.
    pub fn live_lines(
        &self,
        now: Instant,
        since: Instant,
        done: u64,
        total: u64,
        max_rows: usize,
        dim: bool,
    ) -> Vec<String> {
        let frame = SPINNER[(now.saturating_duration_since(since).as_millis() / FRAME.as_millis())
            as usize
            % SPINNER.len()];
        let filled = if total == 0 {
            BAR
        } else {
            (done.min(total) as usize * BAR) / total as usize
        };
        let mut lines = vec![format!(
            "{} {}/{} done, {} running  {}{}  {}",
            if self.running.is_empty() { " " } else { frame },
            done,
            total,
            self.running.len(),
            "█".repeat(filled),
            "░".repeat(BAR - filled),
            elapsed(now.saturating_duration_since(since)),
        )];
        let max_rows = max_rows.max(1);
        let shown = if self.running.len() > max_rows {
            max_rows - 1
        } else {
            self.running.len()
        };
        let rows = &self.running[..shown];
        let addr_w = rows
            .iter()
            .map(|r| r.address.chars().count())
            .max()
            .unwrap_or(0);
        let verb_w = rows
            .iter()
            .map(|r| doing(&r.action).len())
            .max()
            .unwrap_or(0);
        let times: Vec<String> = rows
            .iter()
            .map(|r| elapsed(now.saturating_duration_since(r.started)))
            .collect();
        let time_w = times.iter().map(String::len).max().unwrap_or(0);
        for (r, t) in rows.iter().zip(&times) {
            let mut line = format!(
                "  {:<addr_w$}  {:<verb_w$}  {:>time_w$}",
                r.address,
                doing(&r.action),
                t
            );
            if let Some(note) = &r.last_note {
                let retried = match r.retries {
                    1 => "retried once".to_string(),
                    n => format!("retried {n} times"),
                };
                let note = format!("{retried}: {note}");
                line.push_str("  ");
                line.push_str(&if dim { dimmed(&note) } else { note });
            }
            lines.push(line);
        }
        if shown < self.running.len() {
            lines.push(format!(
                "  … and {} more running",
                self.running.len() - shown
            ));
        }
        lines
    }
}

/// `s` in the terminal's dim style.
pub fn dimmed(s: &str) -> String {
    format!("\x1b[2m{s}\x1b[0m")
}

/// The first line of a message (a provider's note is meant to be one line; a long one
/// must not wrap the live view).
pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn elapsed_reads_like_terraform() {
        assert_eq!(elapsed(Duration::ZERO), "0s");
        assert_eq!(elapsed(Duration::from_millis(45_900)), "45s");
        assert_eq!(elapsed(80 * SEC), "1m20s");
        assert_eq!(elapsed(3725 * SEC), "1h2m5s");
        assert_eq!(took(Duration::from_millis(120)), "0.1s");
        assert_eq!(took(Duration::from_millis(59_940)), "59.9s");
        assert_eq!(took(312 * SEC), "5m12s");
    }

    #[test]
    fn live_view_lists_every_operation_in_flight_with_its_elapsed_time() {
        let t0 = Instant::now();
        let mut b = Board::new(30 * SEC);
        b.start("rg", "create", t0);
        b.start("aks", "create", t0 + SEC);
        b.start("sb", "create", t0 + 2 * SEC);
        // The queue finished: it leaves the view at once.
        b.start("queue", "create", t0 + 2 * SEC);
        assert!(b.finish("queue", "create").is_some());
        assert!(b.finish("rg", "create").is_some());
        let lines = b.live_lines(t0 + 81 * SEC, t0, 2, 13, 10, false);
        assert_eq!(
            lines,
            vec![
                "⠋ 2/13 done, 2 running  ███░░░░░░░░░░░░░░░░░░░░░  1m21s",
                "  aks  creating  1m20s",
                "  sb   creating  1m19s",
            ]
        );
        // A second later every elapsed time moved on, and the spinner turned.
        let later = b.live_lines(t0 + 82 * SEC + FRAME, t0, 2, 13, 10, false);
        assert_eq!(
            later[0],
            "⠙ 2/13 done, 2 running  ███░░░░░░░░░░░░░░░░░░░░░  1m22s"
        );
        assert_eq!(later[1], "  aks  creating  1m21s");
    }

    #[test]
    fn live_view_caps_its_rows_and_says_how_many_more() {
        let t0 = Instant::now();
        let mut b = Board::new(30 * SEC);
        for i in 0..5 {
            b.start(&format!("obj{i}"), "delete", t0);
        }
        let lines = b.live_lines(t0 + 5 * SEC, t0, 0, 5, 3, false);
        assert_eq!(
            &lines[1..],
            &[
                "  obj0  destroying  5s",
                "  obj1  destroying  5s",
                "  … and 3 more running",
            ]
        );
        // Nothing running: the header only, the bar full.
        let empty = Board::new(30 * SEC).live_lines(t0, t0, 5, 5, 3, false);
        assert_eq!(
            empty,
            vec!["  5/5 done, 0 running  ████████████████████████  0s"]
        );
    }

    #[test]
    fn retries_count_on_the_row_and_only_the_first_asks_for_a_line() {
        let t0 = Instant::now();
        let mut b = Board::new(30 * SEC);
        b.start("fic_keda", "create", t0);
        let msg = "ARM is busy with another write to this identity (409), retrying in 0.1s";
        assert_eq!(b.note("fic_keda", msg), Some(true));
        assert_eq!(b.note("fic_keda", msg), Some(false));
        assert_eq!(
            b.note("fic_keda", &format!("{msg}\nsecond line")),
            Some(false)
        );
        // A note for nothing running (planning) is left to the caller.
        assert_eq!(b.note("other", msg), None);
        let lines = b.live_lines(t0 + 3 * SEC, t0, 0, 1, 10, true);
        assert_eq!(
            lines[1],
            format!("  fic_keda  creating  3s  \x1b[2mretried 3 times: {msg}\x1b[0m")
        );
        let done = b.finish("fic_keda", "create").expect("running");
        assert_eq!(done.retries, 3);
    }

    #[test]
    fn still_lines_come_every_interval_per_operation() {
        let t0 = Instant::now();
        let mut b = Board::new(30 * SEC);
        b.start("aks", "create", t0);
        b.start("queue", "create", t0 + 10 * SEC);
        assert!(b.still_lines(t0 + 29 * SEC).is_empty());
        assert_eq!(
            b.still_lines(t0 + 30 * SEC),
            vec!["aks: still creating (30s elapsed)"]
        );
        // Nothing new within the same interval.
        assert!(b.still_lines(t0 + 31 * SEC).is_empty());
        assert_eq!(
            b.still_lines(t0 + 40 * SEC),
            vec!["queue: still creating (30s elapsed)"]
        );
        b.finish("queue", "create");
        // A tick that comes late says each operation once, with the true elapsed time.
        assert_eq!(
            b.still_lines(t0 + 125 * SEC),
            vec!["aks: still creating (2m5s elapsed)"]
        );
        assert!(b.still_lines(t0 + 149 * SEC).is_empty());
        assert_eq!(
            b.still_lines(t0 + 150 * SEC),
            vec!["aks: still creating (2m30s elapsed)"]
        );
    }

    #[test]
    fn a_failed_precondition_clears_the_operation_it_stopped() {
        let t0 = Instant::now();
        let mut b = Board::new(30 * SEC);
        b.start("app", "update", t0);
        assert_eq!(
            b.finish("app", "postcondition").map(|r| r.action),
            Some("update".to_string())
        );
        assert!(b.running().is_empty());
        assert!(b.finish("app", "update").is_none());
    }
}
