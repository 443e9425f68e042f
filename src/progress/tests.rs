//! Tests of the progress display.
use super::*;

const SEC: Duration = Duration::from_secs(1);

/// A clock that moves only when told.
struct FakeClock(Mutex<Instant>);

impl FakeClock {
    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

#[derive(Default)]
struct Buffer(Mutex<Vec<String>>);

impl Lines for Buffer {
    fn line(&self, s: &str) {
        self.0.lock().unwrap().push(s.to_string());
    }
}

impl Buffer {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

fn plain() -> (Progress, Arc<FakeClock>, Arc<Buffer>) {
    let clock = Arc::new(FakeClock(Mutex::new(Instant::now())));
    let out = Arc::new(Buffer::default());
    let mut p = Progress::with(Mode::Plain, clock.clone(), out.clone(), STILL_EVERY, false);
    p.spawn_ticker = false;
    (p, clock, out)
}

fn started(address: &str, action: &str) -> Event {
    Event::OpStarted {
        address: address.into(),
        action: action.into(),
    }
}

fn finished(address: &str, action: &str, ms: u64) -> Event {
    Event::OpFinished {
        address: address.into(),
        action: action.into(),
        elapsed_ms: ms,
        outcome: "ok".into(),
        error: None,
    }
}

fn note(address: &str, message: &str) -> Event {
    Event::Note {
        address: address.into(),
        message: message.into(),
        detail: Some("PUT https://management.azure.com/... attempt 1: {whole ARM body}".into()),
    }
}

#[test]
fn a_non_terminal_says_what_is_still_running_every_30_seconds() {
    let (p, clock, out) = plain();
    p.start(3);
    p.emit(started("aks", "create"));
    p.emit(started("queue", "create"));
    clock.advance(Duration::from_millis(100));
    p.emit(finished("queue", "create", 100));
    assert_eq!(
        out.take(),
        vec![
            "aks: creating...",
            "queue: creating...",
            "queue: created after 0.1s"
        ]
    );
    clock.advance(29 * SEC);
    p.tick();
    assert!(out.take().is_empty(), "nothing is due before 30 s");
    clock.advance(SEC);
    p.tick();
    p.tick();
    assert_eq!(out.take(), vec!["aks: still creating (30s elapsed)"]);
    clock.advance(50 * SEC);
    p.tick();
    assert_eq!(out.take(), vec!["aks: still creating (1m20s elapsed)"]);
    p.emit(finished("aks", "create", 80_100));
    p.emit(started("rg", "delete"));
    clock.advance(30 * SEC);
    p.tick();
    assert_eq!(
        out.take(),
        vec![
            "aks: created after 1m20s",
            "rg: destroying...",
            "rg: still destroying (30s elapsed)"
        ]
    );
    p.finish();
}

#[test]
fn retries_print_one_short_line_per_operation_and_count_on_its_finish_line() {
    let (p, clock, out) = plain();
    p.start(1);
    p.emit(started("fic_keda", "create"));
    let msg = "ARM is busy with another write to this identity's federated credentials (409), retrying in 0.1s";
    for _ in 0..3 {
        p.emit(note("fic_keda", msg));
    }
    clock.advance(SEC);
    p.emit(finished("fic_keda", "create", 400));
    let lines = out.take();
    assert_eq!(
        lines,
        vec![
            "fic_keda: creating...".to_string(),
            format!("fic_keda: {msg}"),
            "fic_keda: created after 0.4s (3 retries)".to_string(),
        ]
    );
    assert!(
        !lines.iter().any(|l| l.contains("management.azure.com")),
        "the detail stays out of the main output"
    );
    // A note while planning (no operation runs) is shown once per address.
    p.emit(note("sb", "throttled (429), retrying in 1s"));
    p.emit(note("sb", "throttled (429), retrying in 2s"));
    assert_eq!(out.take(), vec!["sb: throttled (429), retrying in 1s"]);
}

#[test]
fn the_tally_counts_what_finished_in_every_mode() {
    let (p, _, out) = plain();
    p.start(4);
    p.emit(started("rg", "create"));
    p.emit(finished("rg", "create", 10));
    p.emit(Event::OpFinished {
        address: "bad".into(),
        action: "create".into(),
        elapsed_ms: 20,
        outcome: "failed".into(),
        error: Some("the argument is not valid base64".into()),
    });
    p.emit(Event::OpSkipped {
        address: "after_bad".into(),
        action: "create".into(),
        reason: "`bad` failed".into(),
    });
    p.emit(finished("action.restart", "run", 5));
    let c = p.counts();
    assert_eq!(
        (c.added, c.actions, c.succeeded, c.failed, c.skipped),
        (1, 1, 2, 1, 1)
    );
    assert_eq!(
        out.take()[2..],
        [
            "bad: create FAILED after 0.0s: the argument is not valid base64",
            "after_bad: create skipped (`bad` failed)",
            "action.restart: ran after 0.0s",
        ]
    );
}

#[test]
fn the_live_view_has_a_row_per_running_operation_and_drops_what_finished() {
    let clock = Arc::new(FakeClock(Mutex::new(Instant::now())));
    let out = Arc::new(Buffer::default());
    let mut p = Progress::with(Mode::Live, clock.clone(), out.clone(), STILL_EVERY, false);
    p.spawn_ticker = false;
    p.hidden = true;
    let rows = |p: &Progress| -> Vec<String> {
        let inner = p.shared.lock();
        let ui = inner.ui.as_ref().expect("a live view");
        ui.rows.iter().map(|r| r.message().to_string()).collect()
    };
    p.start(3);
    assert_eq!(
        rows(&p),
        vec!["  0/3 done, 0 running  ░░░░░░░░░░░░░░░░░░░░░░░░  0s"]
    );
    p.emit(started("aks", "create"));
    p.emit(started("queue", "create"));
    clock.advance(Duration::from_millis(100));
    p.emit(finished("queue", "create", 100));
    // The queue's row went at once; the start lines are the view's, not the log's.
    assert_eq!(
        rows(&p),
        vec![
            "⠙ 1/3 done, 1 running  ████████░░░░░░░░░░░░░░░░  0s",
            "  aks  creating  0s",
        ]
    );
    clock.advance(80 * SEC);
    p.tick();
    assert_eq!(rows(&p)[1], "  aks  creating  1m20s");
    // Nothing "still creating" on a terminal: the row says it.
    assert!(out.take().is_empty());
    p.emit(finished("aks", "create", 80_100));
    // Drawn by the tick just now: the change shows at the next one.
    assert_eq!(rows(&p).len(), 2);
    p.tick();
    assert_eq!(rows(&p).len(), 1);
    p.finish();
    assert!(p.shared.lock().ui.is_none());
}

#[test]
fn a_burst_of_events_draws_the_live_view_once_and_its_lines_together() {
    let clock = Arc::new(FakeClock(Mutex::new(Instant::now())));
    let out = Arc::new(Buffer::default());
    let mut p = Progress::with(Mode::Live, clock.clone(), out.clone(), STILL_EVERY, false);
    p.spawn_ticker = false;
    p.hidden = true;
    p.start(100);
    let drawn = p.shared.lock().drawn;
    for i in 0..100 {
        let a = format!("r{i}");
        p.emit(started(&a, "create"));
        p.emit(finished(&a, "create", 0));
    }
    {
        let inner = p.shared.lock();
        assert_eq!(
            inner.drawn, drawn,
            "no draw within REDRAW_EVERY of the last"
        );
        assert_eq!(inner.held.len(), 100);
        assert_eq!(inner.held[99], "r99: created after 0.0s");
    }
    clock.advance(REDRAW_EVERY);
    p.emit(started("last", "create"));
    let inner = p.shared.lock();
    assert!(inner.drawn > drawn, "drawn once REDRAW_EVERY passed");
    assert!(
        inner.held.is_empty(),
        "the held lines were printed with the draw"
    );
}

#[test]
fn the_interval_comes_from_the_environment_or_a_warning_says_why_not() {
    assert_eq!(still_every(None), (STILL_EVERY, None));
    assert_eq!(still_every(Some("10s".into())), (10 * SEC, None));
    let (d, warning) = still_every(Some("0.1s".into()));
    assert_eq!(d, STILL_EVERY);
    let warning = warning.expect("a warning");
    assert!(
        warning.contains("PLINTH_PROGRESS_EVERY is `0.1s`"),
        "{warning}"
    );
    assert!(warning.contains("every 30s"), "{warning}");
    assert!(still_every(Some("soon".into())).1.is_some());
}
