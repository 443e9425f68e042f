//! What `plinth test` prints: a line per run as it finishes (`run "x"... pass`, reasons
//! indented under a failure), a line per file, and the final count.

/// How a run came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Pass,
    Fail,
    /// Not run: an earlier run of the file failed.
    Skip,
}

impl Status {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One run's result.
#[derive(Clone, Debug)]
pub(super) struct RunResult {
    pub name: String,
    pub status: Status,
    /// Why it failed, one line each (located where a place is known).
    pub reasons: Vec<String>,
    /// Failed checks it did not expect: reported, never failing.
    pub warnings: Vec<String>,
    pub seconds: f64,
}

impl RunResult {
    pub(super) fn skipped(name: &str) -> Self {
        RunResult {
            name: name.to_string(),
            status: Status::Skip,
            reasons: Vec::new(),
            warnings: Vec::new(),
            seconds: 0.0,
        }
    }
}

/// One file's result.
#[derive(Clone, Debug)]
pub(super) struct FileResult {
    /// The file's name in the configuration's `tests/` folder.
    pub name: String,
    pub runs: Vec<RunResult>,
    /// Why destroying what the file made failed, and what is left; `None` when it worked.
    pub cleanup: Option<String>,
    pub seconds: f64,
}

impl FileResult {
    pub(super) fn passed(&self) -> bool {
        self.cleanup.is_none() && self.runs.iter().all(|r| r.status == Status::Pass)
    }

    /// The file as `tests/NAME`.
    pub(super) fn path(&self) -> String {
        format!("{}/{}", plinth_config::TEST_DIR, self.name)
    }
}

/// Prints a run's line, and its reasons and warnings under it.
pub(super) fn print_run(r: &RunResult) {
    outln!("  run \"{}\"... {}", r.name, r.status.as_str());
    for why in &r.reasons {
        outln!("    {}", plinth_config::clean(why));
    }
    for w in &r.warnings {
        outln!("    warning: {}", plinth_config::clean(w));
    }
}

/// Prints the file's closing line (and a failed clean-up).
pub(super) fn print_file(f: &FileResult) {
    if let Some(why) = &f.cleanup {
        outln!("  destroy... fail");
        outln!("    {}", plinth_config::clean(why));
    }
    outln!(
        "{}... {}",
        f.path(),
        if f.passed() { "pass" } else { "fail" }
    );
}

/// Prints the final count; true when everything passed.
pub(super) fn print_summary(files: &[FileResult]) -> bool {
    let runs = files.iter().flat_map(|f| &f.runs);
    let count = |s: Status| runs.clone().filter(|r| r.status == s).count();
    let (passed, failed, skipped) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skip),
    );
    let cleanups = files.iter().filter(|f| f.cleanup.is_some()).count();
    let ok = files.iter().all(FileResult::passed);
    let mut line = format!(
        "{} {passed} passed, {failed} failed",
        if ok { "Success!" } else { "Failure!" }
    );
    if skipped > 0 {
        line.push_str(&format!(", {skipped} skipped"));
    }
    if cleanups > 0 {
        line.push_str(&format!(
            "; destroying failed for {cleanups} file{}",
            if cleanups == 1 { "" } else { "s" }
        ));
    }
    outln!("\n{line}.");
    ok
}
