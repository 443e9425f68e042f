//! Rendering the engine's events: a live view on a terminal, plain lines otherwise, JSON
//! lines with `--json`.
//!
//! - **Terminal.** Each finished operation prints a line (`queue: created after 0.1s`)
//!   above a live view that lists every operation in flight with its elapsed time, redrawn
//!   ten times a second ([`board::Board::live_lines`]).
//! - **Not a terminal** (CI logs, pipes). A line when an operation starts and when it
//!   finishes, and `aks: still creating (1m20s elapsed)` every 30 s per operation still
//!   running. Terraform says so every 10 s; a CI log is read after the fact, where 10 s
//!   lines bury the lines that matter (an AKS create is ~30 of them) while 30 s still
//!   shows within one line that nothing hangs. `PLINTH_PROGRESS_EVERY` (a duration, at
//!   least 1s) changes the interval.
//! - **Retries.** A provider's note (a retry) prints one short line the first time an
//!   operation retries, dimmed on a terminal; further retries of that operation only count
//!   (on its live row, and `(3 retries)` on its finish line). The note's `detail` (the
//!   request, the service's whole message) goes to `--json` and `PLINTH_LOG=debug` only.
//!   A line at once rather than silence until retries last a few seconds: a retry is why
//!   an operation takes longer than it should, and one line per operation is not noise.
//! - **`--json`.** Every event as a JSON line on stdout, notes with their detail. There is
//!   no periodic event (see `plinth_engine::Event`).
//!
//! Whatever the mode, the operations that finish are counted ([`tally::Tally`]) for the
//! final "Apply complete! Resources: ..." line, which says what ran, not what was planned.

mod board;
mod log;
mod tally;

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use plinth_engine::{Event, EventSink};

use board::Board;
pub use log::log_writer;
pub use tally::Counts;

/// How often a non-terminal says an operation is still running, unless
/// `PLINTH_PROGRESS_EVERY` says otherwise.
const STILL_EVERY: Duration = Duration::from_secs(30);
/// How often the live view is redrawn (its spinner; elapsed times change every second).
const LIVE_TICK: Duration = Duration::from_millis(100);
/// The live view is redrawn at once for an event at most this often; events in between
/// show at the next draw. Each draw rewrites every row (2 KB on a wide terminal): drawn per
/// event, 100,000 operations wrote 240 MB to the terminal and waited for it.
const REDRAW_EVERY: Duration = Duration::from_millis(50);
/// The most operations the live view lists (the default `--parallelism` is 16).
const MAX_ROWS: usize = 16;

/// Where the time comes from: the system's clock, or a test's.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Where plain lines go: stderr, or a test's buffer.
pub trait Lines: Send + Sync {
    /// Writes one line.
    fn line(&self, s: &str);
}

/// Standard error.
struct Stderr;

impl Lines for Stderr {
    fn line(&self, s: &str) {
        // One write per line: `writeln!` on unbuffered stderr makes two (the text, then the
        // newline), 200,000 system calls for an apply of 100,000 objects.
        let mut line = String::with_capacity(s.len() + 1);
        line.push_str(s);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Json,
    Plain,
    Live,
}

/// The live view on a terminal: a header row and a row per running operation.
struct LiveUi {
    multi: MultiProgress,
    rows: Vec<ProgressBar>,
}

struct Inner {
    board: Board,
    tally: tally::Tally,
    ui: Option<LiveUi>,
    total: u64,
    done: u64,
    since: Instant,
    /// Addresses whose notes outside any operation (planning) were shown once already.
    noted: HashSet<String>,
    /// Finished operations' lines for above the live view, printed together at the next
    /// tick: a print per line redraws the whole view, which at 100,000 operations took
    /// longer than the operations themselves.
    held: Vec<String>,
    /// When the live view was last drawn.
    drawn: Option<Instant>,
}

struct Shared {
    mode: Mode,
    clock: Arc<dyn Clock>,
    out: Arc<dyn Lines>,
    color: AtomicBool,
    inner: Mutex<Inner>,
}

struct Ticker {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<()>,
}

/// How events are shown; see the module's documentation.
pub struct Progress {
    shared: Arc<Shared>,
    /// Redraws the live view or says what is still running; started by [`Progress::start`].
    ticker: Mutex<Option<Ticker>>,
    /// False in tests, which call [`Progress::tick`] themselves.
    spawn_ticker: bool,
    /// True in tests: the live view is kept but not drawn.
    hidden: bool,
}

impl Progress {
    /// JSON lines with `json`, else a live view when stderr is a terminal, else plain lines.
    /// Colour (the dim retry lines) unless `NO_COLOR` is set; see [`Progress::colored`].
    pub fn new(json: bool) -> Self {
        let mode = if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Live
        } else {
            Mode::Plain
        };
        let (still_every, bad) = still_every(std::env::var("PLINTH_PROGRESS_EVERY").ok());
        let p = Progress::with(
            mode,
            Arc::new(SystemClock),
            Arc::new(Stderr),
            still_every,
            mode == Mode::Live && std::env::var_os("NO_COLOR").is_none(),
        );
        if let Some(message) = bad {
            p.emit(Event::Warning { message });
        }
        p
    }

    /// The same progress, with colour only when `color` (the command's `--no-color`).
    pub fn colored(self, color: bool) -> Self {
        self.shared.color.fetch_and(color, Ordering::Relaxed);
        self
    }

    fn with(
        mode: Mode,
        clock: Arc<dyn Clock>,
        out: Arc<dyn Lines>,
        still_every: Duration,
        color: bool,
    ) -> Self {
        let now = clock.now();
        Progress {
            shared: Arc::new(Shared {
                mode,
                clock,
                out,
                color: AtomicBool::new(color),
                inner: Mutex::new(Inner {
                    board: Board::new(still_every),
                    tally: tally::Tally::default(),
                    ui: None,
                    total: 0,
                    done: 0,
                    since: now,
                    noted: HashSet::new(),
                    held: Vec::new(),
                    drawn: None,
                }),
            }),
            ticker: Mutex::new(None),
            spawn_ticker: true,
            hidden: false,
        }
    }

    /// Operations begin: `total` of them. On a terminal the live view appears; on a
    /// non-terminal the "still creating" clock starts.
    pub fn start(&self, total: u64) {
        let s = &self.shared;
        {
            let mut inner = s.lock();
            inner.total = total;
            inner.done = 0;
            inner.since = s.clock.now();
            if s.mode == Mode::Live && inner.ui.is_none() {
                let multi = if self.hidden {
                    MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
                } else {
                    MultiProgress::new()
                };
                log::show_logs_above(Some(multi.clone()));
                inner.ui = Some(LiveUi {
                    multi,
                    rows: Vec::new(),
                });
            }
        }
        s.tick();
        let period = match s.mode {
            Mode::Json => return,
            Mode::Live => LIVE_TICK,
            Mode::Plain => (s.lock().board_every() / 4)
                .clamp(Duration::from_millis(50), Duration::from_secs(1)),
        };
        if !self.spawn_ticker {
            return;
        }
        let mut ticker = self.ticker.lock().expect("progress ticker");
        if ticker.is_some() {
            return;
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = self.shared.clone();
        let handle = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                shared.tick();
            }
        });
        *ticker = Some(Ticker { stop, handle });
    }

    /// Operations are over: the live view goes (the finished lines stay) and the ticker
    /// stops.
    pub fn finish(&self) {
        if let Some(t) = self.ticker.lock().expect("progress ticker").take() {
            let _ = t.stop.send(());
            let _ = t.handle.join();
        }
        let mut inner = self.shared.lock();
        self.shared.print_held(&mut inner);
        if let Some(ui) = inner.ui.take() {
            for row in ui.rows {
                row.finish_and_clear();
                ui.multi.remove(&row);
            }
            let _ = ui.multi.clear();
            log::show_logs_above(None);
        }
    }

    /// Redraws the live view, or prints the "still creating" lines now due.
    #[cfg(test)]
    fn tick(&self) {
        self.shared.tick();
    }

    /// What the operations that finished so far add up to.
    pub fn counts(&self) -> Counts {
        self.shared.lock().tally.counts()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // An apply that returns early with an error must not leave the ticker running.
        self.finish();
    }
}

/// The interval of the "still creating" lines from `PLINTH_PROGRESS_EVERY`, and a warning
/// when it is not a duration of at least a second.
fn still_every(var: Option<String>) -> (Duration, Option<String>) {
    let Some(v) = var else {
        return (STILL_EVERY, None);
    };
    match humantime::parse_duration(v.trim()) {
        Ok(d) if d >= Duration::from_secs(1) => (d, None),
        _ => (
            STILL_EVERY,
            Some(format!(
                "PLINTH_PROGRESS_EVERY is `{v}`, not a duration of at least 1s (e.g. `10s`, `1m`): \"still running\" lines come every {}",
                board::elapsed(STILL_EVERY)
            )),
        ),
    }
}

impl Inner {
    fn board_every(&self) -> Duration {
        self.board.still_every()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while drawing must not hide the rest of the run's output.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A line above the live view (or on stderr), after the lines held for it.
    fn line(&self, inner: &mut Inner, s: &str) {
        self.print_held(inner);
        self.print(inner, s);
    }

    /// A finished operation's line: above the live view at its next tick (with the others
    /// held since), else on stderr at once.
    fn op_line(&self, inner: &mut Inner, s: String) {
        if inner.ui.is_some() {
            inner.held.push(s);
        } else {
            self.out.line(&s);
        }
    }

    /// Prints the lines held for the live view, in one go.
    fn print_held(&self, inner: &mut Inner) {
        if inner.held.is_empty() {
            return;
        }
        let text = std::mem::take(&mut inner.held).join("\n");
        self.print(inner, &text);
    }

    fn print(&self, inner: &Inner, s: &str) {
        match &inner.ui {
            Some(ui) => {
                if ui.multi.println(s).is_err() {
                    self.out.line(s);
                }
            }
            None => self.out.line(s),
        }
    }

    /// Redraws the live view (first printing the lines held for it), or prints the "still
    /// creating" lines now due.
    fn tick(&self) {
        let mut inner = self.lock();
        self.refresh(&mut inner);
    }

    /// Prints the lines held for the live view and redraws it.
    fn refresh(&self, inner: &mut Inner) {
        self.print_held(inner);
        self.draw(inner);
    }

    /// Redraws the live view's rows, or prints the "still creating" lines now due.
    fn draw(&self, inner: &mut Inner) {
        let now = self.clock.now();
        match self.mode {
            Mode::Json => {}
            Mode::Plain => {
                for l in inner.board.still_lines(now) {
                    self.out.line(&l);
                }
            }
            Mode::Live => {
                inner.drawn = Some(now);
                let lines = inner.board.live_lines(
                    now,
                    inner.since,
                    inner.done,
                    inner.total,
                    MAX_ROWS,
                    self.color.load(Ordering::Relaxed),
                );
                let Some(ui) = inner.ui.as_mut() else {
                    return;
                };
                while ui.rows.len() < lines.len() {
                    let row = ui.multi.add(ProgressBar::new_spinner());
                    row.set_style(
                        ProgressStyle::with_template("{wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    ui.rows.push(row);
                }
                while ui.rows.len() > lines.len() {
                    if let Some(row) = ui.rows.pop() {
                        row.finish_and_clear();
                        ui.multi.remove(&row);
                    }
                }
                for (row, l) in ui.rows.iter().zip(lines) {
                    row.set_message(l);
                }
            }
        }
    }

    fn note_line(&self, address: &str, message: &str) -> String {
        let line = format!("{address}: {}", board::first_line(message));
        if self.color.load(Ordering::Relaxed) {
            board::dimmed(&line)
        } else {
            line
        }
    }
}

impl EventSink for Progress {
    fn emit(&self, event: Event) {
        let s = &self.shared;
        if s.mode == Mode::Json {
            match &event {
                Event::OpFinished {
                    address,
                    action,
                    outcome,
                    ..
                } => s.lock().tally.finished(address, action, outcome == "ok"),
                Event::OpSkipped { .. } => s.lock().tally.skipped(),
                _ => {}
            }
            if let Ok(line) = serde_json::to_string(&event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            return;
        }
        let now = s.clock.now();
        let mut inner = s.lock();
        let mut redraw = false;
        match event {
            Event::RefreshStarted { count } => s.line(
                &mut inner,
                &format!("Refreshing {count} object{}...", if count == 1 { "" } else { "s" }),
            ),
            Event::Refreshed { address, outcome } if outcome != "ok" => {
                s.line(&mut inner, &format!("{address}: refresh {outcome}"))
            }
            Event::Refreshed { .. } => {}
            Event::OpStarted { address, action } => {
                inner.board.start(&address, &action, now);
                if s.mode == Mode::Plain {
                    s.line(&mut inner, &format!("{address}: {}...", board::doing(&action)));
                }
                redraw = true;
            }
            Event::OpFinished {
                address,
                action,
                elapsed_ms,
                outcome,
                error,
            } => {
                let ok = outcome == "ok";
                inner.tally.finished(&address, &action, ok);
                inner.done += 1;
                let retries = inner
                    .board
                    .finish(&address, &action)
                    .map_or(0, |r| r.retries);
                let took = board::took(Duration::from_millis(elapsed_ms));
                let retried = if retries > 1 {
                    format!(" ({retries} retries)")
                } else {
                    String::new()
                };
                let line = if ok {
                    format!("{address}: {} after {took}{retried}", board::done(&action))
                } else {
                    format!(
                        "{address}: {action} FAILED after {took}{retried}: {}",
                        error.unwrap_or_default()
                    )
                };
                s.op_line(&mut inner, line);
                redraw = true;
            }
            Event::OpSkipped {
                address,
                action,
                reason,
            } => {
                inner.tally.skipped();
                inner.done += 1;
                s.op_line(&mut inner, format!("{address}: {action} skipped ({reason})"));
                redraw = true;
            }
            Event::Note {
                address, message, ..
            } => {
                let show = match inner.board.note(&address, &message) {
                    Some(first) => first,
                    None => inner.noted.insert(address.clone()),
                };
                if show {
                    s.line(&mut inner, &s.note_line(&address, &message));
                }
                redraw = true;
            }
            Event::Interrupted { second: false } => s.line(
                &mut inner,
                "Interrupt received: finishing operations in progress, starting no new ones. Press Ctrl-C again to abandon them.",
            ),
            Event::Interrupted { second: true } => s.line(
                &mut inner,
                "Second interrupt: abandoning operations in progress (recorded as pending; the next run reconciles them).",
            ),
            Event::Warning { message } => s.line(&mut inner, &format!("Warning: {message}")),
        }
        // The live view shows the change at once, unless it was drawn less than
        // `REDRAW_EVERY` ago: then at the next tick.
        if redraw
            && s.mode == Mode::Live
            && inner
                .drawn
                .is_none_or(|t| now.saturating_duration_since(t) >= REDRAW_EVERY)
        {
            s.refresh(&mut inner);
        }
    }
}

#[cfg(test)]
mod tests;
