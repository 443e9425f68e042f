//! Ctrl-C during apply (SPEC §4): the first interrupt stops new work and lets running
//! operations finish; the second abandons them, recording them as pending. Either way state
//! is saved and the exit code is 130. Readiness comes from the `--json` event stream, never
//! from sleeping.

mod common;

use std::path::Path;
use std::process::Command;

use common::background::Background;

fn plinth() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_plinth"));
    c.env("NO_COLOR", "1");
    c
}

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("main.toml"), text).expect("write config");
}

/// Starts `plinth apply --json` and returns it once `address` has started.
fn start_apply_until_started(dir: &Path, address: &str) -> Background {
    let mut cmd = plinth();
    cmd.args(["apply", "--auto-approve", "--json"]).arg(dir);
    Background::start_until_started(cmd, address)
}

fn state(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(".plinth/state.json")).expect("state.json exists");
    serde_json::from_str(&text).expect("state parses")
}

#[test]
fn first_interrupt_finishes_running_work_and_starts_nothing_new() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        r#"
[resource.first]
type = "core:sleep"
create_duration = "300ms"

[resource.second]
type = "core:data"
input = "${first.id}"
"#,
    );
    let mut child = start_apply_until_started(tmp.path(), "first");
    child.interrupt();
    let rest = child.read_rest();
    let status = child.wait();
    assert_eq!(status.code(), Some(130), "events: {rest}");
    assert!(rest.contains(r#""type":"interrupted""#), "{rest}");
    assert!(
        rest.contains(r#""address":"first","action":"create","elapsed_ms""#),
        "first finished: {rest}"
    );
    assert!(
        !rest.contains(r#""type":"op_started","address":"second""#),
        "second must not start: {rest}"
    );

    let s = state(tmp.path());
    assert_eq!(s["resources"]["first"]["status"], "created");
    assert!(s["resources"].get("second").is_none());

    // The next run picks up where this one stopped.
    let again = plinth()
        .args(["apply", "--auto-approve", "--no-color"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{text}"
    );
    assert_eq!(
        state(tmp.path())["resources"]["second"]["status"],
        "created"
    );
}

#[test]
fn second_interrupt_abandons_running_work_as_pending() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        r#"
[resource.quick]
type = "core:data"
input = "done"

[resource.slow]
type = "core:sleep"
create_duration = "10m"
depends_on = ["quick"]
"#,
    );
    let mut child = start_apply_until_started(tmp.path(), "slow");
    child.interrupt();
    // Two signals sent back to back can be delivered as one: send the second only once the
    // first is acknowledged (the `interrupted` event).
    let mut rest = child.read_until(r#""type":"interrupted""#);
    child.interrupt();
    rest.push_str(&child.read_rest());
    let status = child.wait();
    assert_eq!(status.code(), Some(130), "events: {rest}");
    assert!(rest.contains(r#""abandoned":["slow"]"#), "{rest}");

    let s = state(tmp.path());
    assert_eq!(s["resources"]["quick"]["status"], "created");
    assert_eq!(s["resources"]["slow"]["status"], "pending_create");

    // The pending record is settled by the next plan: core objects live only in state, so
    // an interrupted create is planned again (no duplicate, no orphan).
    let plan = plinth()
        .args(["plan", "--no-color"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("Settled from an interrupted run"), "{text}");
    assert!(
        text.contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{text}"
    );
}
