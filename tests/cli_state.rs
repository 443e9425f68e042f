//! State end to end (SPEC §5, §8): the state file, `state list|show|rm|mv`, `output`,
//! `import`, and the state lock.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::background::Background;
use common::{Project, is_uuid};
use serde_json::json;

const TWO: &str = r#"
[resource.a]
type = "core:data"
input = "alpha"

[resource.b]
type = "core:data"
input = { from_a = "${a.id}" }

[output.a_out]
value = "${a.output}"

[output.b_out]
value = "${b.output}"
"#;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_state_file_is_private_versioned_and_counts_changes() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    let state_dir = p.path(".plinth");
    for entry in std::fs::read_dir(&state_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    let s1 = p.state();
    assert_eq!(s1["format"], "plinth-state/1");
    let lineage = s1["lineage"].as_str().unwrap().to_string();
    assert!(is_uuid(&lineage), "{lineage}");
    let serial1 = s1["serial"].as_u64().unwrap();
    assert!(serial1 > 0);
    let a = &s1["resources"]["a"];
    assert_eq!(a["address"], "a");
    assert_eq!(a["type"], "core:data");
    assert_eq!(a["status"], "created");
    assert_eq!(a["inputs"], json!({"input": "alpha"}));
    assert_eq!(a["attributes"]["output"], "alpha");
    assert_eq!(s1["resources"]["b"]["dependencies"], json!(["a"]));

    p.edit("main.toml", "input = \"alpha\"", "input = \"beta\"");
    p.apply(&[]);
    let s2 = p.state();
    assert_eq!(s2["lineage"], json!(lineage), "lineage is fixed");
    let serial2 = s2["serial"].as_u64().unwrap();
    assert!(serial2 > serial1, "serial {serial1} -> {serial2}");

    p.ok(&["state", "rm", "b"]);
    let serial3 = p.state()["serial"].as_u64().unwrap();
    assert!(serial3 > serial2, "serial {serial2} -> {serial3}");
    assert_eq!(p.state()["lineage"], json!(lineage));
}

#[test]
fn state_list_show_and_rm() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    assert_eq!(p.state_list(), vec!["a", "b"]);
    let list: serde_json::Value =
        serde_json::from_str(&p.ok(&["state", "list", "--json"]).stdout).unwrap();
    assert_eq!(list, json!(["a", "b"]));

    let id = p.id_of("a");
    p.ok(&["state", "show", "a"])
        .stdout_has("# a [core:data]")
        .stdout_has(&id)
        .stdout_has("output = \"alpha\"");
    let shown: serde_json::Value =
        serde_json::from_str(&p.ok(&["state", "show", "b", "--json"]).stdout).unwrap();
    assert_eq!(shown["address"], "b");
    assert_eq!(shown["attributes"]["output"]["from_a"], json!(id));
    p.fails(&["state", "show", "aa"])
        .stderr_has("`aa` is not in state")
        .stderr_has("did you mean `a`?");

    p.ok(&["state", "rm", "b"])
        .stdout_has("Removed b from state");
    assert_eq!(p.state_list(), vec!["a"]);
    p.fails(&["state", "rm", "b"])
        .stderr_has("`b` is not in state");
    // The configuration still declares b: the next plan creates it again.
    p.plan_changes(&[])
        .stdout_has("+ b [core:data]")
        .stdout_has("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    p.assert_no_changes(&[]);
}

#[test]
fn state_rm_of_a_for_each_name_removes_every_instance() {
    let p = Project::with_main(
        r#"
[resource.app]
type = "core:data"
for_each = ["x", "y"]
input = "${each.key}"

[resource.other]
type = "core:data"
"#,
    );
    p.apply(&[]);
    p.ok(&["state", "rm", r#"app["x"]"#]);
    assert_eq!(p.state_list(), vec![r#"app["y"]"#, "other"]);
    p.ok(&["state", "rm", "app"]);
    assert_eq!(p.state_list(), vec!["other"]);
    p.plan_changes(&[]).stdout_has("Plan: 2 to add");
}

#[test]
fn state_mv_follows_a_rename_in_the_configuration() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    let (a, b) = (p.id_of("a"), p.id_of("b"));
    p.write(
        "main.toml",
        &TWO.replace("resource.a]", "resource.first]")
            .replace("${a.", "${first."),
    );
    // Without the move: delete a, create first.
    p.plan_changes(&[])
        .stdout_has("- a [core:data]")
        .stdout_has("+ first [core:data]");
    p.ok(&["state", "mv", "a", "first"])
        .stdout_has("Moved a to first.");
    assert_eq!(p.state_list(), vec!["b", "first"]);
    p.assert_no_changes(&[]);
    assert_eq!((p.id_of("first"), p.id_of("b")), (a, b));
    // Moving onto an existing address, or from a missing one, is refused.
    p.fails(&["state", "mv", "first", "b"])
        .stderr_has("`b` is already in state");
    p.fails(&["state", "mv", "nothing", "x"])
        .stderr_has("`nothing` is not in state");
    assert_eq!(p.state_list(), vec!["b", "first"]);
}

#[test]
fn state_mv_into_a_for_each_instance() {
    let p = Project::with_main("[resource.app]\ntype = \"core:data\"\ninput = \"blue\"\n");
    p.apply(&[]);
    let id = p.id_of("app");
    p.write(
        "main.toml",
        "[resource.app]\ntype = \"core:data\"\nfor_each = [\"blue\"]\ninput = \"${each.key}\"\n",
    );
    p.ok(&["state", "mv", "app", r#"app["blue"]"#]);
    p.assert_no_changes(&[]);
    assert_eq!(p.id_of(r#"app["blue"]"#), id);
}

#[test]
fn outputs_are_printed_by_name_and_as_json() {
    let p = Project::with_main(TWO);
    p.fails(&["output", "a_out"])
        .stderr_has("there is no output `a_out` in state");
    p.apply(&[]);
    let id = p.id_of("a");
    let all = p.ok(&["output"]);
    all.stdout_has("a_out = alpha").stdout_has("b_out = {");
    assert_eq!(p.ok(&["output", "a_out"]).stdout, "alpha\n");
    assert_eq!(p.output("a_out"), json!("alpha"));
    assert_eq!(p.output("b_out"), json!({"from_a": id}));
    let everything: serde_json::Value =
        serde_json::from_str(&p.ok(&["output", "--json"]).stdout).unwrap();
    assert_eq!(
        everything,
        json!({
            "a_out": {"value": "alpha", "sensitive": false},
            "b_out": {"value": {"from_a": id}, "sensitive": false},
        })
    );
    p.fails(&["output", "a_ot"])
        .stderr_has("there is no output `a_ot` in state")
        .stderr_has("did you mean `a_out`?");
    // Outputs follow the configuration.
    p.edit("main.toml", "input = \"alpha\"", "input = \"beta\"");
    p.apply(&[]);
    assert_eq!(p.output("a_out"), json!("beta"));
}

#[test]
fn import_adopts_an_object_then_plan_converges() {
    let p = Project::with_main(
        r#"
[resource.adopted]
type = "core:data"

[resource.pause]
type = "core:sleep"
"#,
    );
    p.ok(&["import", "adopted", "existing-object-42"])
        .stdout_has("Imported `adopted` (existing-object-42)");
    assert_eq!(p.state_list(), vec!["adopted"]);
    assert_eq!(p.id_of("adopted"), "existing-object-42");
    p.ok(&["state", "show", "adopted"])
        .stdout_has("existing-object-42");
    // The configuration sets nothing beyond what the import recorded.
    p.plan_changes(&[])
        .stdout_lacks("adopted")
        .stdout_has("+ pause [core:sleep]")
        .stdout_has("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    p.assert_no_changes(&[]);
    // Now declare an input: an update in place of the adopted object, not a replacement.
    p.edit(
        "main.toml",
        "[resource.adopted]\ntype = \"core:data\"\n",
        "[resource.adopted]\ntype = \"core:data\"\ninput = \"managed now\"\n",
    );
    p.plan_changes(&[])
        .stdout_has("~ adopted [core:data]")
        .stdout_has("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    assert_eq!(p.id_of("adopted"), "existing-object-42");
    p.assert_no_changes(&[]);

    p.fails(&["import", "adopted", "other"])
        .stderr_has("`adopted` is already in state");
    p.fails(&["import", "adoptd", "x"])
        .stderr_has("`adoptd` is not declared in the configuration")
        .stderr_has("did you mean `adopted`?");
    p.ok(&["state", "rm", "pause"]);
    p.fails(&["import", "pause", "x"])
        .stderr_has("cannot be imported");
}

/// Starts `plinth apply` of a 30s `core:sleep` named `slow` in the background and returns once
/// its event stream shows the sleep has started (so the run holds the state lock).
fn start_slow_apply(p: &Project) -> Background {
    let mut cmd = p.command();
    cmd.args(["apply", "--auto-approve", "--json"]);
    Background::start_until_started(cmd, "slow")
}

const SLOW: &str = r#"
[resource.slow]
type = "core:sleep"
create_duration = "30s"
"#;

#[test]
fn a_second_run_is_refused_while_the_state_is_locked() {
    let p = Project::with_main(SLOW);
    let holder = start_slow_apply(&p);

    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.path(".plinth/state.lock.info")).expect("lock info file"),
    )
    .expect("lock info is JSON");
    let lock_id = info["id"].as_str().expect("lock id").to_string();
    assert_eq!(info["operation"], "apply");
    assert_eq!(info["pid"], json!(holder.id()));

    let second = p.fails(&["apply", "--auto-approve", "--lock-timeout", "0s"]);
    second
        .stderr_has("is locked by")
        .stderr_has("for `apply`")
        .stderr_has(&format!("(lock id {lock_id})"))
        .stderr_has(&format!("pid {}", holder.id()))
        .stderr_has(&format!("plinth force-unlock {lock_id}"));
    let as_json = p.fails(&["apply", "--auto-approve", "--lock-timeout", "0s", "--json"]);
    let err = as_json
        .events()
        .into_iter()
        .find(|e| e["type"] == "error")
        .expect("a JSON error");
    assert!(err["message"].as_str().unwrap().contains(&lock_id), "{err}");
    // Other state writers are refused too.
    for args in [
        vec!["destroy", "--auto-approve"],
        vec!["state", "rm", "slow"],
        vec!["import", "slow", "x"],
    ] {
        p.fails(&args).stderr_has("is locked by");
    }

    p.fails(&["force-unlock", "WRONGID"])
        .stderr_has(&format!("has id {lock_id}, not WRONGID"))
        .stderr_has("nothing was unlocked");
    p.fails(&["force-unlock", &lock_id])
        .stderr_has("held by a live process");

    // The holder dies: the OS lock goes with it and the next run proceeds.
    drop(holder);
    p.edit("main.toml", "\"30s\"", "\"0s\"");
    p.apply(&[]);
    assert_eq!(p.state_list(), vec!["slow"]);
    p.assert_no_changes(&[]);
}

/// Plan holds the state lock too (as Terraform's does): it never reads a state that a
/// running apply is in the middle of changing, so it cannot mistake live pending records for
/// an interrupted run.
#[test]
fn plan_during_a_running_apply_is_refused_by_the_lock() {
    let p = Project::with_main(SLOW);
    let _holder = start_slow_apply(&p);
    let r = p.run(&["plan"]);
    assert!(
        !r.all().contains("interrupted run"),
        "a live run is not an interrupted one:\n{}",
        r.all()
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("apply"),
        "the refusal names the holder's operation:\n{}",
        r.all()
    );
}

/// Writes `.plinth/state.json` by hand (0600), as an older plinth's `state push` could have.
fn write_state(p: &Project, state: &serde_json::Value) {
    let path = p.path(".plinth/state.json");
    std::fs::write(&path, serde_json::to_vec_pretty(state).unwrap()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Issue 12, item 9: `state push` accepted serial 2^64-1; the next apply journalled serials
/// 0, 1, ... and after a SIGKILL the next load skipped them as already compacted, so the
/// objects they recorded vanished from state. Push refuses such serials, and a writer never
/// counts past the limit (nothing is journalled, the run fails with the fix).
#[test]
fn serials_near_the_limit_are_refused_and_never_wrap() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    let mut pulled: serde_json::Value =
        serde_json::from_str(&p.ok(&["state", "pull"]).stdout).unwrap();
    let before = p.state();
    pulled["serial"] = json!(u64::MAX);
    std::fs::write(p.path("pushed.json"), pulled.to_string()).unwrap();
    for force in [false, true] {
        let mut args = vec!["state", "push", "pushed.json"];
        if force {
            args.push("--force");
        }
        p.fails(&args)
            .stderr_has("its serial 18446744073709551615 is beyond 4503599627370496")
            .stderr_has("set \"serial\" in the file");
        assert_eq!(p.state(), before, "push --force={force} changed the state");
    }

    // A state already that high (written by an older plinth): the next apply refuses to
    // record rather than wrapping around, and the stored state is intact.
    let mut top = before.clone();
    top["serial"] = json!(u64::MAX);
    write_state(&p, &top);
    p.edit("main.toml", "input = \"alpha\"", "input = \"beta\"");
    let run = p.run(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{run:?}");
    run.stderr_has("plinth records changes only up to serial 9007199254740991")
        .stderr_has("nothing was recorded");
    assert_eq!(p.state(), top);
    let journal = std::fs::read(p.path(".plinth/state.journal")).unwrap_or_default();
    assert!(journal.is_empty(), "{}", String::from_utf8_lossy(&journal));
    // A pushed state with a sane serial gets the configuration going again.
    let mut fixed = before.clone();
    fixed["serial"] = json!(7);
    std::fs::write(p.path("fixed.json"), fixed.to_string()).unwrap();
    std::fs::remove_file(p.path(".plinth/state.json")).unwrap();
    p.ok(&["state", "push", "fixed.json"]);
    p.apply(&[]);
    assert_eq!(p.state()["resources"]["a"]["inputs"]["input"], "beta");
}

/// Issue 12, item 17: `state list` (and the other state commands) hid the load's warnings
/// that `plan` prints, e.g. a dropped torn journal record. They print them on stderr, so
/// `--json` output stays parseable.
#[test]
fn state_commands_print_the_load_warnings_plan_prints() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    let journal = p.path(".plinth/state.journal");
    let torn = || {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&journal)
            .unwrap();
        std::io::Write::write_all(&mut f, b"0123abcd {\"serial\":99,\"lin").unwrap();
    };
    let warning = "Warning: dropped a torn final journal record";
    torn();
    p.ok(&["plan"]).stderr_has(warning);
    for args in [
        &["state", "list"][..],
        &["state", "list", "--json"],
        &["state", "show", "a"],
        &["state", "show", "a", "--json"],
        &["state", "pull"],
        &["show"],
        &["show", "--format", "json"],
        &["output"],
        &["output", "--json"],
    ] {
        let run = p.ok(args);
        run.stderr_has(warning).stdout_lacks("Warning");
        if args.contains(&"--json") || args.get(1) == Some(&"pull") {
            serde_json::from_str::<serde_json::Value>(&run.stdout)
                .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}): {run:?}"));
        }
    }
    // Writing commands warn too (and cut the torn tail before appending).
    p.ok(&["state", "mv", "b", "c"]).stderr_has(warning);
    torn();
    p.ok(&["state", "rm", "c"]).stderr_has(warning);
    let list = p.ok(&["state", "list"]);
    assert_eq!(list.stdout.trim(), "a", "{list:?}");
    assert!(!list.stderr.contains("Warning"), "{list:?}");
}

/// Issue 12, item 17: with `state.json` gone but `state.json.backup` there, plinth planned to
/// re-create everything. It refuses and says how to restore the backup.
#[test]
fn a_missing_state_json_beside_its_backup_is_refused() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    p.edit("main.toml", "input = \"alpha\"", "input = \"beta\"");
    p.apply(&[]);
    assert!(p.path(".plinth/state.json.backup").exists());
    std::fs::remove_file(p.path(".plinth/state.json")).unwrap();
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["state", "list"],
        &["state", "pull"],
    ] {
        p.fails(args)
            .stderr_has("state.json is missing, but ")
            .stderr_has("cp ")
            .stdout_lacks("create");
    }
    assert!(!p.path(".plinth/state.json").exists());
    std::fs::copy(
        p.path(".plinth/state.json.backup"),
        p.path(".plinth/state.json"),
    )
    .unwrap();
    // The backup is one run older: the plan reconciles that run's change, nothing else.
    let plan = p.ok(&["plan", "--json"]).plan_doc();
    let summary = &plan["plan"]["summary"];
    assert_eq!(
        (&summary["add"], &summary["destroy"], &summary["change"]),
        (&json!(0), &json!(0), &json!(1)),
        "{plan:#}"
    );
}

/// Issue 12, item 12: a FIFO as `state.json` or `state.journal` made every command wait
/// forever; a device such as /dev/zero was read without end. Regular files only.
#[test]
fn a_special_file_as_state_is_refused_not_waited_for() {
    for (name, what) in [
        ("state.json", "fifo"),
        ("state.journal", "fifo"),
        ("state.journal", "/dev/zero"),
    ] {
        let p = Project::with_main(TWO);
        p.apply(&[]);
        let path = p.path(".plinth").join(name);
        let _ = std::fs::remove_file(&path);
        if what == "fifo" {
            let status = std::process::Command::new("mkfifo")
                .arg(&path)
                .status()
                .unwrap();
            assert!(status.success());
        } else {
            std::os::unix::fs::symlink(what, &path).unwrap();
        }
        let kind = if what == "fifo" {
            "is a named pipe (FIFO), not a regular file"
        } else {
            "is a character device, not a regular file"
        };
        for args in [&["plan"][..], &["state", "list"]] {
            let run = p.run_bounded(args);
            let (code, stderr) = (run.code, run.stderr);
            assert_eq!(code, 1, "{name} {what} {args:?}: {stderr}");
            assert!(stderr.contains(kind), "{name} {what} {args:?}: {stderr}");
            assert!(
                stderr.contains(&path.display().to_string()),
                "{name} {what}: {stderr}"
            );
        }
    }
}
