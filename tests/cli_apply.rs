//! `plinth apply` / `destroy` end to end (SPEC §2 lifecycle, §3 sensitive values, §4 failure
//! isolation, §8 saved plans).

mod common;

use common::Project;
use serde_json::json;

#[test]
fn ignore_changes_plans_no_change_for_an_ignored_input() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = { managed = "m", ignored = "first" }
triggers = "t1"
lifecycle = { ignore_changes = ["input.ignored", "triggers"] }
"#,
    );
    p.apply(&[]);
    let id = p.id_of("a");
    p.edit("main.toml", "ignored = \"first\"", "ignored = \"second\"");
    p.edit("main.toml", "triggers = \"t1\"", "triggers = \"t2\"");
    p.assert_no_changes(&[]);
    // A change that is not ignored still shows, without the ignored ones.
    p.edit("main.toml", "managed = \"m\"", "managed = \"n\"");
    p.plan_changes(&[])
        .stdout_has("~ input.managed = \"m\" -> \"n\"")
        .stdout_lacks("ignored")
        .stdout_lacks("forces replacement")
        .stdout_has("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    assert_eq!(p.id_of("a"), id);
    assert_eq!(
        p.state()["resources"]["a"]["inputs"]["input"]["ignored"],
        "first"
    );
    p.assert_no_changes(&[]);
}

#[test]
fn ignore_changes_all_ignores_every_input() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = "one"
lifecycle = { ignore_changes = "all" }
"#,
    );
    p.apply(&[]);
    p.edit("main.toml", "input = \"one\"", "input = \"two\"");
    p.assert_no_changes(&[]);
}

const GUARDED: &str = r#"
[resource.db]
type = "core:data"
input = "data"
triggers = "v1"
lifecycle = { prevent_destroy = true }

[resource.app]
type = "core:data"
input = "${db.id}"
"#;

#[test]
fn prevent_destroy_refuses_replacement_and_destroy() {
    let p = Project::with_main(GUARDED);
    p.apply(&[]);
    let id = p.id_of("db");

    // An in-place update is fine.
    p.edit("main.toml", "input = \"data\"", "input = \"data2\"");
    p.plan_changes(&[]).stdout_has("~ db [core:data]");
    p.apply(&[]);

    // A replacement is not.
    p.edit("main.toml", "triggers = \"v1\"", "triggers = \"v2\"");
    p.fails(&["plan"])
        .stderr_has("`db` has lifecycle.prevent_destroy, but this plan would replace it")
        .stderr_has("main.toml:2:11");
    p.fails(&["apply", "--auto-approve"])
        .stderr_has("prevent_destroy");
    p.edit("main.toml", "triggers = \"v2\"", "triggers = \"v1\"");

    // Neither is destroying it.
    p.fails(&["plan", "--destroy"])
        .stderr_has("`db` has lifecycle.prevent_destroy, so it cannot be destroyed");
    p.fails(&["destroy", "--auto-approve"])
        .stderr_has("`db` has lifecycle.prevent_destroy, so it cannot be destroyed");
    assert_eq!(p.state_list(), vec!["app", "db"], "nothing was destroyed");
    assert_eq!(p.id_of("db"), id);
    p.assert_no_changes(&[]);

    // Lifting the guard makes destroy possible.
    p.edit("main.toml", "lifecycle = { prevent_destroy = true }", "");
    p.ok(&["destroy", "--auto-approve"]);
    assert!(p.state_list().is_empty());
}

#[test]
fn create_before_destroy_creates_the_new_object_first() {
    let p = Project::with_main(
        r#"
[resource.cert]
type = "core:data"
input = "cert"
triggers = "1"
lifecycle = { create_before_destroy = true }

[resource.plain]
type = "core:data"
input = "plain"
triggers = "1"
"#,
    );
    p.apply(&[]);
    let (cert, plain) = (p.id_of("cert"), p.id_of("plain"));
    p.write(
        "main.toml",
        &p.read("main.toml")
            .replace("triggers = \"1\"", "triggers = \"2\""),
    );
    p.plan_changes(&[])
        .stdout_has("-/+ cert [core:data]")
        .stdout_has("create the new object, then delete the old (create_before_destroy)")
        .stdout_has("-/+ plain [core:data]")
        .stdout_has("delete, then create")
        .stdout_has("Plan: 0 to add, 0 to change, 2 to replace, 0 to destroy.");
    let r = p.apply(&[]);
    assert!(
        r.op_index("op_finished", "cert", "create") < r.op_index("op_started", "cert", "delete"),
        "create_before_destroy: the new one first"
    );
    assert!(
        r.op_index("op_finished", "plain", "delete") < r.op_index("op_started", "plain", "create"),
        "default: the old one first"
    );
    assert_ne!(p.id_of("cert"), cert);
    assert_ne!(p.id_of("plain"), plain);
    assert_eq!(
        p.state_list(),
        vec!["cert", "plain"],
        "no deposed leftovers"
    );
    p.assert_no_changes(&[]);
}

#[test]
fn replace_triggered_by_replaces_the_dependent_when_its_trigger_changes() {
    let p = Project::with_main(
        r#"
[resource.config]
type = "core:data"
input = "v1"

[resource.worker]
type = "core:data"
input = "static"
lifecycle = { replace_triggered_by = ["config"] }

[resource.bystander]
type = "core:data"
input = "static"
"#,
    );
    p.apply(&[]);
    let (config, worker, bystander) = (p.id_of("config"), p.id_of("worker"), p.id_of("bystander"));
    p.edit("main.toml", "input = \"v1\"", "input = \"v2\"");
    p.plan_changes(&[])
        .stdout_has("~ config [core:data]")
        .stdout_has("-/+ worker [core:data]")
        .stdout_has("replace_triggered_by")
        .stdout_lacks("bystander")
        .stdout_has("Plan: 0 to add, 1 to change, 1 to replace, 0 to destroy.");
    let r = p.apply(&[]);
    assert!(
        r.op_index("op_finished", "config", "update")
            < r.op_index("op_started", "worker", "create")
    );
    assert_eq!(p.id_of("config"), config, "updated in place");
    assert_ne!(p.id_of("worker"), worker, "replaced");
    assert_eq!(p.id_of("bystander"), bystander);
    p.assert_no_changes(&[]);
}

#[test]
fn a_failure_stops_only_its_dependents() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = "a"

[resource.bad]
type = "core:data"
input = "${base64decode(a.id)}"

[resource.after_bad]
type = "core:data"
input = "${bad.output}"

[resource.independent]
type = "core:data"
input = "i"
"#,
    );
    // At plan time a.id is unknown, so the error can only show at apply time.
    p.plan_changes(&[])
        .stdout_has("Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy.");
    let r = p.fails(&["apply", "--auto-approve"]);
    r.stderr_has("Apply failed: 1 operation failed")
        .stderr_has("bad (create): base64decode(): the argument is not valid base64")
        .stderr_has("after_bad (`bad` failed)");
    assert_eq!(p.state_list(), vec!["a", "independent"]);

    // Re-planning still wants `bad` (now the error is known at plan time: a.id is in state).
    p.fails(&["plan"])
        .stderr_has("base64decode(): the argument is not valid base64")
        .stderr_has("main.toml:8:25");
    p.edit(
        "main.toml",
        "${base64decode(a.id)}",
        "${base64encode(a.id)}",
    );
    p.plan_changes(&[])
        .stdout_has("+ bad [core:data]")
        .stdout_has("+ after_bad [core:data]")
        .stdout_has("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    p.assert_no_changes(&[]);
}

#[test]
fn a_failure_is_reported_in_json_events() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"

[resource.bad]
type = "core:data"
input = "${base64decode(a.id)}"

[resource.after_bad]
type = "core:data"
input = "${bad.output}"

[resource.independent]
type = "core:data"
"#,
    );
    let r = p.fails(&["apply", "--auto-approve", "--json"]);
    let events = r.events();
    let failed = events
        .iter()
        .find(|e| e["type"] == "op_finished" && e["address"] == "bad")
        .expect("bad finished");
    assert_eq!(failed["outcome"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("base64"),
        "{failed}"
    );
    r.op_index("op_skipped", "after_bad", "create");
    r.op_index("op_finished", "independent", "create");
    let done = events
        .iter()
        .find(|e| e["type"] == "apply_complete")
        .expect("apply_complete");
    assert_eq!(done["ok"], json!(false));
    assert_eq!(done["failures"][0]["address"], "bad");
    assert_eq!(done["skipped"], json!(1));
}

const SECRET: &str = "hunter2-SECRET-value";

fn secret_project() -> Project {
    Project::with_main(
        r#"
[variable.password]
default = "hunter2-SECRET-value"
sensitive = true

[resource.db]
type = "core:data"
input = { user = "admin", password = "${var.password}" }

[resource.pw]
type = "core:data"
input = "${var.password}"

[output.user]
value = "${db.output.user}"

[output.password]
value = "${pw.output}"
sensitive = true
"#,
    )
}

#[test]
fn saved_plans_are_private_applicable_and_showable() {
    let p = secret_project();
    let r = p.ok(&["plan", "--out", "tfplan"]);
    r.stdout_has("Saved the plan to tfplan");
    let plan_file = p.path("tfplan");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plan_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "plan file mode {mode:o}");
    }
    let text = p.ok(&["show", "tfplan"]);
    text.stdout_has("+ db [core:data]")
        .stdout_has("input.password = (sensitive)")
        .stdout_has("input.user = \"admin\"")
        .stdout_has("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy.");
    let json_run = p.ok(&["show", "tfplan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json_run.stdout).expect("show json");
    assert_eq!(doc["format_version"], "plinth-plan-json/1");
    let addrs: Vec<&str> = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(addrs, vec!["db", "pw"]);
    for r in [&text, &json_run] {
        assert!(!r.all().contains(SECRET), "secret leaked:\n{}", r.all());
    }

    let applied = p.ok(&["apply", "tfplan"]);
    applied.stdout_has("Apply complete! Resources: 2 added");
    assert!(!applied.all().contains(SECRET));
    p.assert_no_changes(&[]);
    // Applying it again is refused: state moved on.
    p.fails(&["apply", "tfplan"])
        .stderr_has("the saved plan tfplan is stale");
}

#[test]
fn a_saved_plan_is_refused_when_state_changed() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = "a"

[resource.b]
type = "core:data"
input = "b"
"#,
    );
    p.apply(&[]);
    p.edit("main.toml", "input = \"a\"", "input = \"a2\"");
    p.ok(&["plan", "--out", "p1"]);
    let serial = p.state()["serial"].as_u64().unwrap();
    p.ok(&["state", "rm", "b"]);
    p.fails(&["apply", "p1"])
        .stderr_has("the saved plan p1 is stale")
        .stderr_has(&format!(
            "the state changed since the plan was made (serial {serial} then"
        ));
    assert_eq!(p.state()["resources"]["a"]["inputs"]["input"], "a");
    // A fresh plan goes through.
    p.apply(&[]);
    assert_eq!(p.state()["resources"]["a"]["inputs"]["input"], "a2");
    p.assert_no_changes(&[]);
}

#[test]
fn a_saved_plan_is_refused_when_the_state_was_recreated() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\ninput = \"a\"\n");
    p.apply(&[]);
    p.edit("main.toml", "input = \"a\"", "input = \"b\"");
    p.ok(&["plan", "--out", "p1"]);
    let old = p.path(".plinth");
    let aside = p.dir.with_file_name("state-aside");
    std::fs::rename(&old, &aside).unwrap();
    p.fails(&["apply", "p1"])
        .stderr_has("it was made against a state that no longer exists");
    // A new state has a new lineage: still refused.
    p.apply(&[]);
    p.fails(&["apply", "p1"])
        .stderr_has("it was made against state lineage");
    p.assert_no_changes(&[]);
}

#[test]
fn parallelism_one_runs_one_operation_at_a_time() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:sleep"
create_duration = "10ms"

[resource.b]
type = "core:sleep"
create_duration = "10ms"

[resource.c]
type = "core:data"
"#,
    );
    let r = p.apply(&["--parallelism", "1"]);
    let kinds: Vec<String> = r.ops().into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    for pair in kinds.chunks(2) {
        assert_eq!(pair, ["op_started", "op_finished"], "{kinds:?}");
    }
    p.assert_no_changes(&[]);
}

#[test]
fn an_output_that_fails_at_apply_time_fails_the_apply() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"

[output.decoded]
value = "${base64decode(a.id)}"

[output.fine]
value = "fine"
"#,
    );
    // a.id is unknown at plan time; at apply time it is a uuid, not base64.
    p.plan_changes(&[]);
    p.fails(&["apply", "--auto-approve"])
        .stderr_has("decoded")
        .stderr_has("base64decode(): the argument is not valid base64");
}

#[test]
fn a_saved_plan_made_without_state_is_refused_once_state_exists() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\n");
    p.ok(&["plan", "--out", "first"]);
    p.apply(&[]);
    p.fails(&["apply", "first"])
        .stderr_has("it was made when no state existed, but state now exists");
}

#[test]
fn a_saved_plan_is_refused_when_the_configuration_changed() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = "a"
"#,
    );
    p.ok(&["plan", "--out", "p1"]);
    p.edit("main.toml", "input = \"a\"", "input = \"edited\"");
    p.fails(&["apply", "p1"])
        .stderr_has("the saved plan p1 is stale")
        .stderr_has("changed since the plan was made");
    assert!(!p.path(".plinth/state.json").exists() || p.state_list().is_empty());
    // A saved plan from another directory's file works too.
    p.ok(&["plan", "--out", "p2"]);
    let p2 = p.path("p2").display().to_string();
    let other = Project::new();
    other.ok(&["apply", &p2]);
    assert_eq!(p.state_list(), vec!["a"]);
}

#[test]
fn sensitive_values_never_appear_in_output() {
    let p = secret_project();
    let mut runs = vec![
        p.ok(&["plan"]),
        p.ok(&["plan", "--json"]),
        p.ok(&["plan", "--out", "saved"]),
        p.ok(&["show", "saved"]),
        p.ok(&["show", "saved", "--format", "json"]),
        p.ok(&["apply", "--auto-approve"]),
    ];
    p.edit("main.toml", "user = \"admin\"", "user = \"root\"");
    runs.extend([
        p.ok(&["plan"]),
        p.ok(&["apply", "--auto-approve", "--json"]),
        p.ok(&["show"]),
        p.ok(&["show", "--format", "json"]),
        p.ok(&["state", "show", "db"]),
        p.ok(&["state", "show", "pw", "--json"]),
        p.ok(&["output"]),
        p.ok(&["output", "--json"]),
        p.ok(&["output", "password"]),
        // A script asking for one sensitive value gets an error, never a placeholder.
        {
            let r = p.fails(&["output", "password", "--json"]);
            // With --json, the error is a JSON document too.
            r.stdout_has("output `password` is sensitive, so --json will not print it")
                .stdout_has("--show-sensitive");
            r
        },
        p.ok(&["plan", "--destroy", "--json"]),
        p.ok(&["destroy", "--auto-approve", "--json"]),
    ]);
    for r in &runs {
        assert!(
            !r.all().contains(SECRET),
            "`plinth {}` printed the secret:\n{}",
            r.args.join(" "),
            r.all()
        );
    }
    assert!(runs[0].stdout.contains("(sensitive)"));
}

#[test]
fn show_sensitive_reveals_on_request() {
    let p = secret_project();
    p.apply(&[]);
    p.ok(&["output", "password", "--show-sensitive"])
        .stdout_has(SECRET);
    p.ok(&["output", "password"]).stdout_has("(sensitive)");
    p.ok(&["output", "password", "--json", "--show-sensitive"])
        .stdout_has(&format!("\"{SECRET}\""));
    p.ok(&["output", "user"]).stdout_has("admin");
}

#[test]
fn apply_without_auto_approve_needs_a_terminal() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\n");
    p.fails(&["apply"])
        .stderr_has("needs confirmation, but input is not a terminal")
        .stderr_has("--auto-approve");
    assert!(!p.path(".plinth/state.json").exists() || p.state_list().is_empty());
}

/// Issue 12, item 10: outputs outside a `--target` keep their last values. An output that
/// refers only to untargeted resources is neither evaluated nor removed, whether the targeted
/// run applies or destroys; one that refers to the target follows it.
#[test]
fn outputs_outside_a_target_keep_their_last_values() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = "a"

[resource.b]
type = "core:data"
input = "${a.output}-b"

[resource.c]
type = "core:data"
input = "c"

[output.from_c]
value = "${c.output}"

[output.from_b]
value = "${b.output}"

[output.both]
value = "${b.output}+${c.output}"
"#,
    );
    p.apply(&[]);
    p.edit("main.toml", "-b\"", "-b2\"");
    p.edit("main.toml", "input = \"c\"", "input = \"c2\"");
    // The plan shows only the outputs the target changes.
    let plan = p.ok(&["plan", "--target", "b", "--no-color"]);
    plan.stdout_has("from_b").stdout_lacks("from_c");
    p.ok(&["apply", "--target", "b", "--auto-approve"]);
    assert_eq!(p.output("from_b"), "a-b2");
    // `c` was not applied: the output that refers to it alone keeps its value, and one that
    // refers to both is evaluated with `c` as state records it.
    assert_eq!(p.output("from_c"), "c");
    assert_eq!(p.output("both"), "a-b2+c");
    // A targeted destroy removes the outputs that refer to what it destroys, and only those.
    p.ok(&["apply", "--destroy", "--target", "b", "--auto-approve"]);
    let outputs = p.state()["outputs"].clone();
    assert!(outputs.get("from_b").is_none(), "{outputs}");
    assert!(outputs.get("both").is_none(), "{outputs}");
    assert_eq!(outputs["from_c"]["value"], "c", "{outputs}");
    assert_eq!(p.state_list(), vec!["a".to_string(), "c".to_string()]);
}
