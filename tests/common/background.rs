//! Background `plinth` runs, for tests that act while a run is in progress (a second run
//! against the lock, Ctrl-C): started with `--json`, handed back once the event stream shows
//! an operation started (the readiness signal, never a sleep), and killed and reaped however
//! the test ends.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

/// A running `plinth … --json`; killed (and reaped) when dropped.
pub struct Background {
    child: Child,
    events: BufReader<ChildStdout>,
}

impl Background {
    /// Spawns `cmd` (a run with `--json`) and returns once its event stream shows the
    /// operation on `address` started. Fails the test, listing the events seen, when the
    /// run reports an error or ends first. Its stderr is discarded: a `--json` run reports
    /// errors as events.
    #[track_caller]
    pub fn start_until_started(mut cmd: Command, address: &str) -> Background {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the background plinth");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut run = Background {
            child,
            events: BufReader::new(stdout),
        };
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            let n = run.events.read_line(&mut line).expect("read events");
            assert!(n > 0, "plinth ended before `{address}` started: {seen:#?}");
            seen.push(line.clone());
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            assert_ne!(
                event["type"], "error",
                "the background run failed: {seen:#?}"
            );
            if event["type"] == "op_started" && event["address"] == address {
                return run;
            }
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGINT, as Ctrl-C does.
    #[track_caller]
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.id().to_string()])
            .status()
            .expect("kill -INT");
        assert!(status.success(), "kill -INT {}", self.id());
    }

    /// Reads events up to and including the first line that contains `needle`; fails the
    /// test, with what was read, when the stream ends first.
    #[track_caller]
    pub fn read_until(&mut self, needle: &str) -> String {
        let mut read = String::new();
        loop {
            let mut line = String::new();
            let n = self.events.read_line(&mut line).expect("read events");
            assert!(n > 0, "plinth ended before printing {needle:?}: {read}");
            read.push_str(&line);
            if line.contains(needle) {
                return read;
            }
        }
    }

    /// Reads the rest of the event stream (until plinth closes it, normally when it exits).
    pub fn read_rest(&mut self) -> String {
        let mut rest = String::new();
        self.events
            .read_to_string(&mut rest)
            .expect("read the rest of the events");
        rest
    }

    /// Waits for the run to end.
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("wait for plinth")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
