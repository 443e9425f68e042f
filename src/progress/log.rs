//! Log lines (`PLINTH_LOG`) while the live view is drawn: each is written with the view
//! out of the way, so neither garbles the other.

use std::io::Write;
use std::sync::Mutex;

use indicatif::MultiProgress;

/// The live view on screen, if any.
static LIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Logs go above `multi` from now on (`None`: straight to stderr again).
pub(super) fn show_logs_above(multi: Option<MultiProgress>) {
    *LIVE.lock().unwrap_or_else(|e| e.into_inner()) = multi;
}

/// The writer of `tracing_subscriber`'s log lines: stderr, or above the live view while
/// one is drawn.
pub fn log_writer() -> LogWriter {
    LogWriter(Vec::new())
}

/// One log event, written when it is complete (on drop).
pub struct LogWriter(Vec<u8>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let write = |buf: &[u8]| {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(buf);
            let _ = err.flush();
        };
        match LIVE.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(multi) => multi.suspend(|| write(&self.0)),
            None => write(&self.0),
        }
    }
}
