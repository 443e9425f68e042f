//! Helpers shared by the end-to-end tests: a configuration directory in a tempdir and a way to
//! run the real `plinth` binary in it.
//!
//! Every run checks that the process did not panic. Nothing here waits on a clock: readiness is
//! always an explicit signal (an exit, or an event line read from a pipe).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value as Json;

/// The `plinth` binary under test.
pub fn plinth_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_plinth"))
}

/// A `plinth` command with an environment that does not leak from the developer's shell:
/// no `PLINTH_*` variables, no colour, no backtraces cluttering stderr.
pub fn plinth_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(plinth_bin());
    cmd.current_dir(cwd);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PLINTH_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd.env_remove("RUST_BACKTRACE");
    cmd.env_remove("RUST_LIB_BACKTRACE");
    cmd
}

/// What a finished run produced.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The run of `args` that produced `out`; fails the test if plinth panicked or was
    /// killed by a signal.
    #[track_caller]
    fn finished(args: &[&str], out: &Output) -> Run {
        let run = Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked") && !run.stdout.contains("panicked"),
            "plinth panicked\n{}",
            run.describe()
        );
        assert!(run.code >= 0, "plinth was killed\n{}", run.describe());
        run
    }

    fn describe(&self) -> String {
        format!(
            "plinth {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    /// Panics with the whole run unless the exit code is `code`.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{}", self.describe());
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}\n{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The JSON lines of stdout (`--json`).
    pub fn events(&self) -> Vec<Json> {
        self.stdout
            .lines()
            .filter(|l| l.trim_start().starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect()
    }

    /// `(type, address, action)` of every operation event, in order.
    pub fn ops(&self) -> Vec<(String, String, String)> {
        self.events()
            .into_iter()
            .filter(|e| {
                matches!(
                    e["type"].as_str(),
                    Some("op_started" | "op_finished" | "op_skipped")
                )
            })
            .map(|e| {
                (
                    e["type"].as_str().unwrap_or_default().to_string(),
                    e["address"].as_str().unwrap_or_default().to_string(),
                    e["action"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// The position of an operation event; panics when it is missing.
    #[track_caller]
    pub fn op_index(&self, kind: &str, address: &str, action: &str) -> usize {
        self.ops()
            .iter()
            .position(|(k, a, x)| k == kind && a == address && x == action)
            .unwrap_or_else(|| {
                panic!(
                    "no {kind} event for {address} ({action}); events: {:#?}",
                    self.ops()
                )
            })
    }

    /// Addresses that had any operation.
    pub fn touched(&self) -> Vec<String> {
        let mut out: Vec<String> = self.ops().into_iter().map(|(_, a, _)| a).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The `{"type": "plan"}` document of `plan --json`.
    #[track_caller]
    pub fn plan_doc(&self) -> Json {
        self.events()
            .into_iter()
            .find(|e| e["type"] == "plan")
            .unwrap_or_else(|| panic!("no plan document\n{}", self.describe()))
    }
}

/// A configuration directory in a fresh tempdir.
pub struct Project {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Default for Project {
    fn default() -> Self {
        Self::new()
    }
}

impl Project {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("infra");
        std::fs::create_dir(&dir).expect("config dir");
        Project { _tmp: tmp, dir }
    }

    /// A copy of a configuration directory (its files and subdirectories, not its hidden
    /// `.plinth/` state), e.g. one of `examples/`.
    pub fn copy_of(src: &Path) -> Self {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("create dir");
            for entry in std::fs::read_dir(from).expect("read dir") {
                let entry = entry.expect("dir entry");
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let path = entry.path();
                if path.is_dir() {
                    copy(&path, &to.join(&name));
                } else {
                    std::fs::copy(&path, to.join(&name)).expect("copy file");
                }
            }
        }
        let p = Self::new();
        copy(src, &p.dir);
        p
    }

    /// The flagship example, `examples/aks-keda-workload-identity`, in a fresh directory.
    pub fn flagship() -> Self {
        Self::copy_of(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aks-keda-workload-identity"),
        )
    }

    /// A project with one `main.toml`.
    pub fn with_main(text: &str) -> Self {
        let p = Self::new();
        p.write("main.toml", text);
        p
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write config file");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("read file")
    }

    pub fn remove(&self, name: &str) {
        std::fs::remove_file(self.path(name)).expect("remove file");
    }

    /// Replaces `from` (which must be present) with `to` in a file.
    #[track_caller]
    pub fn edit(&self, name: &str, from: &str, to: &str) {
        let text = self.read(name);
        assert!(text.contains(from), "{name} has no {from:?}:\n{text}");
        self.write(name, &text.replacen(from, to, 1));
    }

    pub fn command(&self) -> Command {
        plinth_command(&self.dir)
    }

    /// Runs plinth in the configuration directory with extra environment variables.
    #[track_caller]
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run plinth");
        Run::finished(args, &out)
    }

    /// Runs plinth (stdin closed), failing the test and killing plinth if it has not
    /// finished within a minute: for runs that used to block forever (special files).
    #[track_caller]
    pub fn run_bounded(&self, args: &[&str]) -> Run {
        let child = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run plinth");
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(out) => Run::finished(args, &out.expect("wait for plinth")),
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                panic!("plinth {args:?} did not finish within 60 s (blocked on a special file?)");
            }
        }
    }

    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs and expects exit code 0.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        r.code(0);
        r
    }

    /// Runs and expects exit code 1.
    #[track_caller]
    pub fn fails(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        r.code(1);
        r
    }

    /// `apply --auto-approve --json` (plus `extra`), expected to succeed.
    #[track_caller]
    pub fn apply(&self, extra: &[&str]) -> Run {
        let mut args = vec!["apply", "--auto-approve", "--json"];
        args.extend_from_slice(extra);
        self.ok(&args)
    }

    /// `plan --detailed-exitcode` (plus `extra`), expected to find changes (exit 2).
    #[track_caller]
    pub fn plan_changes(&self, extra: &[&str]) -> Run {
        let mut args = vec!["plan", "--detailed-exitcode"];
        args.extend_from_slice(extra);
        let r = self.run(&args);
        r.code(2);
        r
    }

    /// The second-plan-after-apply rule (SPEC §3): a plan right now shows no changes.
    #[track_caller]
    pub fn assert_no_changes(&self, extra: &[&str]) {
        let mut args = vec!["plan", "--detailed-exitcode"];
        args.extend_from_slice(extra);
        self.run(&args).code(0).stdout_has("No changes");
    }

    /// The state file, parsed.
    pub fn state(&self) -> Json {
        let text = std::fs::read_to_string(self.path(".plinth/state.json")).expect("state.json");
        serde_json::from_str(&text).expect("state.json is JSON")
    }

    /// `state list`, one address per entry.
    #[track_caller]
    pub fn state_list(&self) -> Vec<String> {
        self.ok(&["state", "list"])
            .stdout
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The id recorded for an address.
    #[track_caller]
    pub fn id_of(&self, address: &str) -> String {
        let state = self.state();
        state["resources"][address]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{address} has no id in state: {state:#}"))
            .to_string()
    }

    /// `output NAME --json`.
    #[track_caller]
    pub fn output(&self, name: &str) -> Json {
        let r = self.ok(&["output", name, "--json"]);
        serde_json::from_str(r.stdout.trim()).expect("output --json is JSON")
    }
}

/// A finished command's stdout followed by its stderr, for messages and searches.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `true` when `s` looks like a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

pub mod background;
pub mod python;
pub mod sim;
