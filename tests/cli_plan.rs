//! `plinth plan` end to end (SPEC §2, §3, §8): merging files, variables and their precedence,
//! functions, the plan text and summary, `--detailed-exitcode`, update/replace/delete,
//! `for_each`, `--target`, `--replace`, `--destroy`, `--refresh-only`. Every scenario ends with
//! the rule that a plan right after an apply shows no changes.

mod common;

use common::{Project, is_uuid};
use serde_json::json;

const TWO: &str = r#"
[resource.a]
type = "core:data"
input = "alpha"

[resource.b]
type = "core:data"
input = "${a.id}"
"#;

#[test]
fn plan_shows_unknown_ids_and_a_summary_then_apply_converges() {
    let p = Project::with_main(TWO);
    let r = p.plan_changes(&[]);
    r.stdout_has("+ a [core:data]")
        .stdout_has("+ b [core:data]")
        .stdout_has("id = (known after apply)")
        .stdout_has("input = \"alpha\"")
        .stdout_has("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy.");
    // b's input is a's id: unknown until a exists.
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("input = (known after apply)")),
        "{}",
        r.stdout
    );
    // Without the flag, changes still exit 0.
    p.ok(&["plan"]);

    let applied = p.apply(&[]);
    let done = applied
        .events()
        .into_iter()
        .find(|e| e["type"] == "apply_complete")
        .expect("apply_complete event");
    assert_eq!(done["ok"], json!(true));
    assert_eq!(done["succeeded"], json!(2));
    let a_id = p.id_of("a");
    assert!(is_uuid(&a_id), "{a_id}");
    assert_eq!(p.state()["resources"]["b"]["inputs"]["input"], json!(a_id));
    p.assert_no_changes(&[]);
}

#[test]
fn plan_json_has_the_plan_and_summary() {
    let p = Project::with_main(TWO);
    let r = p.ok(&["plan", "--json"]);
    let doc = r.plan_doc();
    let plan = &doc["plan"];
    assert_eq!(plan["format_version"], "plinth-plan-json/1");
    assert_eq!(
        plan["summary"],
        json!({"add": 2, "change": 0, "replace": 0, "destroy": 0, "read": 0, "run": 0})
    );
    let changes = plan["resource_changes"]
        .as_array()
        .expect("resource_changes");
    let actions: Vec<(&str, &serde_json::Value)> = changes
        .iter()
        .map(|c| (c["address"].as_str().unwrap(), &c["actions"]))
        .collect();
    assert_eq!(
        actions,
        vec![("a", &json!(["create"])), ("b", &json!(["create"]))]
    );
    // b's input is a's id: known only after apply.
    assert_eq!(changes[1]["after"]["input"], json!(null));
    assert_eq!(changes[1]["after_unknown"]["input"], json!(true));
}

#[test]
fn files_of_a_directory_are_merged() {
    let p = Project::new();
    p.write(
        "variables.toml",
        r#"
[variable.prefix]
default = "demo"
"#,
    );
    p.write(
        "network.toml",
        r#"
[resource.net]
type = "core:data"
input = "${var.prefix}-net"
"#,
    );
    p.write(
        "app.toml",
        r#"
[resource.app]
type = "core:data"
input = { network = "${net.output}", name = "${var.prefix}-app" }
"#,
    );
    p.write(
        "outputs.toml",
        r#"
[output.app]
value = "${app.output}"

[output.net_id]
value = "${net.id}"
"#,
    );
    // Not configuration: ignored.
    p.write("notes.txt", "[resource.ignored]\ntype = \"nope\"\n");
    p.plan_changes(&[])
        .stdout_has("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    assert_eq!(
        p.output("app"),
        json!({"network": "demo-net", "name": "demo-app"})
    );
    assert_eq!(p.output("net_id"), json!(p.id_of("net")));
    p.assert_no_changes(&[]);
}

const VARS: &str = r#"
[variable.name]
default = "from-default"

[variable.count]
type = "number"
default = 1

[variable.enabled]
type = "bool"
default = false

[variable.zones]
type = "list"
default = ["1"]

[resource.r]
type = "core:data"
input = { name = "${var.name}", count = "${var.count}", enabled = "${var.enabled}", zones = "${var.zones}" }

[output.name]
value = "${var.name}"

[output.r]
value = "${r.output}"
"#;

#[test]
fn variables_come_from_default_env_var_file_and_cli_in_that_precedence() {
    let p = Project::with_main(VARS);
    p.write(
        "prod.vars",
        "name = \"from-file\"\nzones = [\"1\", \"2\"]\n",
    );
    let file = p.path("prod.vars").display().to_string();
    let env = [("PLINTH_VAR_name", "from-env"), ("PLINTH_VAR_count", "7")];

    type Case<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], &'a str);
    let cases: Vec<Case> = vec![
        (vec![], &[], "from-default"),
        (vec![], &env, "from-env"),
        (vec!["--var-file", &file], &env, "from-file"),
        (
            vec!["--var-file", &file, "--var", "name=from-cli"],
            &env,
            "from-cli",
        ),
        // --var wins over the file even when written first.
        (
            vec!["--var", "name=from-cli", "--var-file", &file],
            &[],
            "from-cli",
        ),
    ];
    for (args, env, expected) in cases {
        let mut apply = vec!["apply", "--auto-approve"];
        apply.extend(&args);
        p.run_env(&apply, env).code(0);
        assert_eq!(
            p.output("name"),
            json!(expected),
            "args {args:?} env {env:?}"
        );
        let mut plan = vec!["plan", "--detailed-exitcode"];
        plan.extend(&args);
        p.run_env(&plan, env).code(0).stdout_has("No changes");
    }
}

#[test]
fn typed_variables_keep_their_types() {
    let p = Project::with_main(VARS);
    p.write("prod.vars", "zones = [\"1\", \"2\", \"3\"]\n");
    let file = p.path("prod.vars").display().to_string();
    let args = [
        "--var",
        "count=3",
        "--var-file",
        file.as_str(),
        "--var",
        "enabled=true",
    ];
    let mut apply = vec!["apply", "--auto-approve"];
    apply.extend(args);
    p.ok(&apply);
    assert_eq!(
        p.output("r"),
        json!({"name": "from-default", "count": 3, "enabled": true, "zones": ["1", "2", "3"]})
    );
    let mut plan = vec!["plan", "--detailed-exitcode"];
    plan.extend(args);
    p.run(&plan).code(0);
    // Without the overrides, the defaults come back: an update.
    p.plan_changes(&[])
        .stdout_has("~ r [core:data]")
        .stdout_has("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.");
}

#[test]
fn functions_produce_the_applied_values() {
    let p = Project::with_main(
        r#"
[variable.names]
default = ["web", "api", "db"]

[variable.Name]
default = "MixedCase"

[resource.f]
type = "core:data"
input = { lower = "${lower(var.Name)}", upper = "${upper(var.Name)}", joined = '${join(",", var.names)}', b64 = '${base64encode("hello world")}', decoded = '${base64decode("aGVsbG8gd29ybGQ=")}', formatted = '${format("%s-%d", var.Name, 42)}', guid = '${guid("asdf")}', mixed = "pre-${lower(var.Name)}-post" }

[resource.ids]
type = "core:data"
input = { ab = '${guid("a", "b")}', ab2 = '${guid("a", "b")}', ba = '${guid("b", "a")}', of_id = '${guid(f.id, "x")}', roundtrip = '${base64decode(base64encode(f.id))}' }

[output.f]
value = "${f.output}"

[output.lower]
value = "${f.output.lower}"

[output.ids]
value = "${ids.output}"
"#,
    );
    p.plan_changes(&[]).stdout_has("lower = \"mixedcase\"");
    p.apply(&[]);
    assert_eq!(
        p.output("f"),
        json!({
            "lower": "mixedcase",
            "upper": "MIXEDCASE",
            "joined": "web,api,db",
            "b64": "aGVsbG8gd29ybGQ=",
            "decoded": "hello world",
            "formatted": "MixedCase-42",
            // Bicep's guid('asdf') (see plinth-expr's GUID_NAMESPACE notes).
            "guid": "228d27cc-6fdb-5934-b7ac-1efccebade04",
            "mixed": "pre-mixedcase-post",
        })
    );
    // `output NAME` without --json prints a string as is.
    assert_eq!(p.ok(&["output", "lower"]).stdout.trim(), "mixedcase");

    let ids = p.output("ids");
    let s = |k: &str| ids[k].as_str().unwrap().to_string();
    assert!(is_uuid(&s("ab")), "{ids}");
    assert_eq!(s("ab"), s("ab2"), "guid is deterministic");
    assert_ne!(s("ab"), s("ba"), "guid depends on argument order");
    assert!(is_uuid(&s("of_id")));
    assert_eq!(s("roundtrip"), p.id_of("f"));
    p.assert_no_changes(&[]);
}

#[test]
fn changing_an_input_updates_in_place() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    let (a, b) = (p.id_of("a"), p.id_of("b"));
    p.edit("main.toml", "input = \"alpha\"", "input = \"beta\"");
    p.plan_changes(&[])
        .stdout_has("~ a [core:data]")
        .stdout_has("~ input = \"alpha\" -> \"beta\"")
        .stdout_has("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.")
        .stdout_lacks("b [core:data]");
    let r = p.apply(&[]);
    assert_eq!(r.touched(), vec!["a"]);
    r.op_index("op_finished", "a", "update");
    assert_eq!((p.id_of("a"), p.id_of("b")), (a, b), "ids are kept");
    assert_eq!(p.state()["resources"]["a"]["attributes"]["output"], "beta");
    p.assert_no_changes(&[]);
}

#[test]
fn changing_triggers_forces_replacement() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = "alpha"
triggers = { version = 1 }

[resource.b]
type = "core:data"
input = "${a.id}"
"#,
    );
    p.apply(&[]);
    let old = p.id_of("a");
    p.edit("main.toml", "version = 1", "version = 2");
    p.plan_changes(&[])
        .stdout_has("-/+ a [core:data]")
        .stdout_has("forces replacement")
        .stdout_has("delete, then create")
        // b follows a's new id.
        .stdout_has("~ b [core:data]")
        .stdout_has("Plan: 0 to add, 1 to change, 1 to replace, 0 to destroy.");
    let r = p.apply(&[]);
    // Delete-then-create by default.
    assert!(r.op_index("op_finished", "a", "delete") < r.op_index("op_started", "a", "create"));
    assert!(r.op_index("op_finished", "a", "create") < r.op_index("op_started", "b", "update"));
    let new = p.id_of("a");
    assert_ne!(old, new);
    assert_eq!(p.state()["resources"]["b"]["inputs"]["input"], json!(new));
    p.assert_no_changes(&[]);
}

#[test]
fn removing_a_resource_from_the_configuration_deletes_it() {
    let p = Project::with_main(
        r#"
[resource.keep]
type = "core:data"
input = "k"

[resource.gone]
type = "core:data"
input = "g"
"#,
    );
    p.apply(&[]);
    p.write(
        "main.toml",
        r#"
[resource.keep]
type = "core:data"
input = "k"
"#,
    );
    p.plan_changes(&[])
        .stdout_has("- gone [core:data]")
        .stdout_has("not in the configuration")
        .stdout_has("Plan: 0 to add, 0 to change, 0 to replace, 1 to destroy.");
    let r = p.apply(&[]);
    assert_eq!(r.touched(), vec!["gone"]);
    assert_eq!(p.state_list(), vec!["keep"]);
    p.assert_no_changes(&[]);
}

#[test]
fn for_each_adding_or_removing_a_key_touches_only_that_instance() {
    let p = Project::with_main(
        r#"
[variable.envs]
default = ["dev", "test"]

[resource.app]
type = "core:data"
for_each = "${var.envs}"
input = "app-${each.key}"

[resource.tagged]
type = "core:data"
for_each = { small = 1, large = 8 }
input = { key = "${each.key}", size = "${each.value}" }

[output.dev]
value = '${app["dev"].output}'
"#,
    );
    p.plan_changes(&[])
        .stdout_has("+ app[\"dev\"] [core:data]")
        .stdout_has("+ app[\"test\"] [core:data]")
        .stdout_has("+ tagged[\"large\"] [core:data]")
        .stdout_has("Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    assert_eq!(
        p.state_list(),
        vec![
            r#"app["dev"]"#,
            r#"app["test"]"#,
            r#"tagged["large"]"#,
            r#"tagged["small"]"#
        ]
    );
    assert_eq!(p.output("dev"), json!("app-dev"));
    assert_eq!(
        p.state()["resources"][r#"tagged["large"]"#]["attributes"]["output"],
        json!({"key": "large", "size": 8})
    );
    p.assert_no_changes(&[]);
    let dev = p.id_of(r#"app["dev"]"#);

    let swap = ["--var", r#"envs=["dev", "prod"]"#];
    let mut plan = vec!["plan", "--detailed-exitcode"];
    plan.extend(swap);
    let r = p.run(&plan);
    r.code(2)
        .stdout_has("+ app[\"prod\"] [core:data]")
        .stdout_has("- app[\"test\"] [core:data]")
        .stdout_lacks("app[\"dev\"]")
        .stdout_has("Plan: 1 to add, 0 to change, 0 to replace, 1 to destroy.");
    let mut apply = vec!["apply", "--auto-approve", "--json"];
    apply.extend(swap);
    let r = p.ok(&apply);
    assert_eq!(r.touched(), vec![r#"app["prod"]"#, r#"app["test"]"#]);
    assert_eq!(
        p.id_of(r#"app["dev"]"#),
        dev,
        "the kept instance is untouched"
    );
    p.assert_no_changes(&swap);
}

#[test]
fn depends_on_orders_operations() {
    let p = Project::with_main(
        r#"
[resource.first]
type = "core:sleep"
create_duration = "100ms"

[resource.second]
type = "core:data"
input = "no reference to first"
depends_on = ["first"]

[resource.third]
type = "core:data"
input = "after second"
depends_on = ["second"]
"#,
    );
    let r = p.apply(&[]);
    assert!(
        r.op_index("op_finished", "first", "create") < r.op_index("op_started", "second", "create")
    );
    assert!(
        r.op_index("op_finished", "second", "create") < r.op_index("op_started", "third", "create")
    );
    assert_eq!(
        p.state()["resources"]["second"]["dependencies"],
        json!(["first"])
    );
    p.assert_no_changes(&[]);
}

const TARGETED: &str = r#"
[resource.base]
type = "core:data"
input = "base"

[resource.mid]
type = "core:data"
input = "${base.id}"

[resource.other]
type = "core:data"
input = "other"
"#;

#[test]
fn target_limits_the_plan_to_the_target_and_its_dependencies() {
    let p = Project::with_main(TARGETED);
    p.plan_changes(&["--target", "mid"])
        .stdout_has("+ base [core:data]")
        .stdout_has("+ mid [core:data]")
        .stdout_lacks("other [core:data]")
        .stdout_has("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy.");
    let r = p.apply(&["--target", "mid"]);
    assert_eq!(r.touched(), vec!["base", "mid"]);
    assert_eq!(p.state_list(), vec!["base", "mid"]);
    p.assert_no_changes(&["--target", "mid"]);
    // The rest is still to do.
    p.plan_changes(&[])
        .stdout_has("+ other [core:data]")
        .stdout_has("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    p.assert_no_changes(&[]);
}

#[test]
fn replace_flag_replaces_an_unchanged_resource() {
    let p = Project::with_main(TARGETED);
    p.apply(&[]);
    let (base, other) = (p.id_of("base"), p.id_of("other"));
    p.plan_changes(&["--replace", "base"])
        .stdout_has("-/+ base [core:data]")
        .stdout_has("--replace")
        .stdout_has("~ mid [core:data]")
        .stdout_has("1 to replace");
    let r = p.apply(&["--replace", "base"]);
    r.op_index("op_finished", "base", "create");
    assert_ne!(p.id_of("base"), base);
    assert_eq!(p.id_of("other"), other);
    p.assert_no_changes(&[]);
}

#[test]
fn destroy_plan_and_destroy_remove_everything_in_reverse_order() {
    let p = Project::with_main(TARGETED);
    p.apply(&[]);
    p.plan_changes(&["--destroy"])
        .stdout_has("- base [core:data]")
        .stdout_has("- mid [core:data]")
        .stdout_has("- other [core:data]")
        .stdout_has("Plan: 0 to add, 0 to change, 0 to replace, 3 to destroy.");
    // Planning changes nothing.
    assert_eq!(p.state_list().len(), 3);
    let r = p.ok(&["destroy", "--auto-approve", "--json"]);
    assert!(
        r.op_index("op_finished", "mid", "delete") < r.op_index("op_started", "base", "delete"),
        "a dependent goes first"
    );
    assert!(p.state_list().is_empty());
    assert_eq!(
        p.ok(&["state", "list"]).stdout,
        "",
        "state list prints nothing"
    );
    // Destroying again is a no-op, and a plan wants everything back.
    p.ok(&["destroy", "--auto-approve"]);
    p.plan_changes(&[]).stdout_has("3 to add");
    p.assert_no_changes(&["--destroy"]);
}

#[test]
fn refresh_only_does_not_propose_configuration_changes() {
    let p = Project::with_main(TWO);
    p.apply(&[]);
    p.edit("main.toml", "input = \"alpha\"", "input = \"changed\"");
    p.run(&["plan", "--refresh-only", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");
    p.ok(&["apply", "--refresh-only", "--auto-approve"]);
    assert_eq!(p.state()["resources"]["a"]["inputs"]["input"], "alpha");
    // A normal plan still sees the edit.
    p.plan_changes(&[])
        .stdout_has("~ input = \"alpha\" -> \"changed\"");
    p.fails(&["plan", "--refresh-only", "--destroy"]);
}

#[test]
fn an_empty_configuration_plans_nothing() {
    let p = Project::with_main("# nothing declared yet\n");
    p.assert_no_changes(&[]);
    p.ok(&["apply", "--auto-approve"]);
}

#[test]
fn output_only_changes_are_changes() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:data"
input = "a"

[output.shout]
value = "${a.output}"

[output.old]
value = "bye"
"#,
    );
    p.apply(&[]);
    p.edit(
        "main.toml",
        "value = \"${a.output}\"",
        "value = \"${upper(a.output)}\"",
    );
    p.edit("main.toml", "[output.old]\nvalue = \"bye\"\n", "");
    p.plan_changes(&[])
        .stdout_has("~ shout = \"a\" -> \"A\"")
        .stdout_has("- old")
        .stdout_has("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy.");
    p.apply(&[]);
    assert_eq!(p.output("shout"), json!("A"));
    p.fails(&["output", "old"]);
    p.assert_no_changes(&[]);
}

const INSTANCES: &str = r#"
[resource.app]
type = "core:data"
for_each = ["x", "y"]
input = "${each.key}"
"#;

#[test]
fn target_of_one_instance_plans_only_that_instance() {
    let p = Project::with_main(INSTANCES);
    p.plan_changes(&["--target", r#"app["x"]"#])
        .stdout_has(r#"+ app["x"] [core:data]"#)
        .stdout_lacks(r#"app["y"]"#)
        .stdout_has("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.");
}

#[test]
fn destroy_target_of_one_instance_keeps_its_siblings() {
    let p = Project::with_main(INSTANCES);
    p.apply(&[]);
    p.ok(&["destroy", "--auto-approve", "--target", r#"app["y"]"#]);
    assert_eq!(p.state_list(), vec![r#"app["x"]"#]);
}

#[test]
fn destroy_target_may_name_a_resource_only_in_state() {
    let p = Project::with_main(
        "[resource.keep]\ntype = \"core:data\"\n\n[resource.gone]\ntype = \"core:data\"\n",
    );
    p.apply(&[]);
    p.write("main.toml", "[resource.keep]\ntype = \"core:data\"\n");
    p.plan_changes(&["--target", "gone"])
        .stdout_has("- gone [core:data]")
        .stdout_lacks("keep");
    p.ok(&["destroy", "--auto-approve", "--target", "gone"]);
    assert_eq!(p.state_list(), vec!["keep"]);
}
