//! The corpus of broken configurations (tests/broken/<case>/): every case must make plinth
//! exit 1 without panicking and print the expected diagnostic (SPEC §2: file, line, column,
//! the quoted line, what was expected, a suggestion for a misspelt name).
//!
//! A case is a directory holding:
//! - the configuration's `*.toml` files (none at all is a case too);
//! - `expect.txt`: lines that must each appear in stderr (blank lines and lines starting
//!   with `#` are ignored);
//! - optionally `args`: extra command-line arguments, one per line; `{dir}` is replaced by
//!   the path of the case's (copied) directory, e.g. `--var-file` / `{dir}/prod.vars`;
//! - optionally `env`: `NAME=value` lines set in plinth's environment;
//! - optionally `commands`: the commands to run, one per line (default: `plan` and
//!   `validate`; `validate` does not read variable values or evaluate expressions, so cases
//!   about those run `plan` only).
//!
//! Adding a case needs no code. Each case runs on a copy in a tempdir, so nothing is written
//! into the source tree.

mod common;

use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/broken exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

fn lines_of(path: &Path) -> Vec<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create case copy");
    for entry in std::fs::read_dir(from).expect("read case") {
        let entry = entry.expect("dir entry");
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy case file");
        }
    }
}

/// Runs one case; returns a description of every way it failed.
fn run_case(case: &Path) -> Vec<String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let expect = lines_of(&case.join("expect.txt"));
    if expect.is_empty() {
        return vec![format!("{name}: expect.txt is missing or empty")];
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let copy = tmp.path().join(&name);
    copy_dir(case, &copy);
    let copy_text = copy.display().to_string();
    let args: Vec<String> = lines_of(&case.join("args"))
        .into_iter()
        .map(|a| a.replace("{dir}", &copy_text))
        .collect();
    let env: Vec<(String, String)> = lines_of(&case.join("env"))
        .into_iter()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("env lines are NAME=value");
            (k.to_string(), v.to_string())
        })
        .collect();
    let mut commands = lines_of(&case.join("commands"));
    if commands.is_empty() {
        commands = vec!["plan".into(), "validate".into()];
    }

    let mut problems = Vec::new();
    for command in &commands {
        let mut cmd = common::plinth_command(tmp.path());
        cmd.arg(command).arg(&name).arg("--no-color").args(&args);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run plinth");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut why = Vec::new();
        if out.status.code() != Some(1) {
            why.push(format!("exit code {:?}, expected 1", out.status.code()));
        }
        if stderr.contains("panicked") {
            why.push("plinth panicked".to_string());
        }
        for line in &expect {
            if !stderr.contains(line.as_str()) {
                why.push(format!("stderr lacks {line:?}"));
            }
        }
        if !why.is_empty() {
            problems.push(format!(
                "{name} (`plinth {command}`):\n  - {}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}",
                why.join("\n  - ")
            ));
        }
    }
    problems
}

#[test]
fn every_broken_configuration_is_reported_clearly() {
    let cases = cases();
    let problems: Vec<String> = cases.iter().flat_map(|c| run_case(c)).collect();
    assert!(
        problems.is_empty(),
        "{} failed run(s) among {} broken-configuration cases:\n\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

#[test]
fn the_corpus_is_substantial_and_well_formed() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for c in &cases {
        assert!(
            c.join("expect.txt").is_file(),
            "{} has no expect.txt",
            c.display()
        );
        for cmd in lines_of(&c.join("commands")) {
            assert!(
                ["plan", "validate", "test"].contains(&cmd.as_str()),
                "{}: unknown command {cmd:?} in `commands`",
                c.display()
            );
        }
    }
}
