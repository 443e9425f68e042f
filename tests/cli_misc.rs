//! The rest of the command line (SPEC §8): `graph`, `schema`, `validate`, machine-readable
//! errors, and clap's handling of bad flags.

mod common;

use common::Project;
use serde_json::json;

const CHAIN: &str = r#"
[resource.rg]
type = "core:data"
input = "rg"

[resource.net]
type = "core:data"
input = "${rg.id}"

[resource.wait]
type = "core:sleep"
create_duration = "0s"
depends_on = ["net"]

[resource.app]
type = "core:data"
input = { net = "${net.id}", rg = "${rg.id}" }
lifecycle = { replace_triggered_by = ["wait"] }

[output.app_id]
value = "${app.id}"
"#;

/// `(from, to)` label pairs of the edges of a DOT or Mermaid graph.
fn edges(text: &str, arrow: &str) -> Vec<(String, String)> {
    // Node ids map to labels: `n0 [label="rg"];` (DOT) or `n0["rg"]` (Mermaid).
    let mut labels = std::collections::HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.contains(arrow) {
            continue;
        }
        let (id, rest) = match line.split_once(' ') {
            Some((id, rest)) if rest.starts_with("[label=") => (id, rest),
            _ => match line.split_once('[') {
                Some((id, _)) => (id, line),
                None => continue,
            },
        };
        if let Some(start) = rest.find('"')
            && let Some(len) = rest[start + 1..].find('"')
        {
            labels.insert(
                id.trim().to_string(),
                rest[start + 1..start + 1 + len].to_string(),
            );
        }
    }
    let mut out: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(';').split_once(arrow))
        .map(|(a, b)| {
            let name = |id: &str| {
                labels
                    .get(id.trim())
                    .cloned()
                    .unwrap_or_else(|| panic!("no label for {id:?} in:\n{text}"))
            };
            (name(a), name(b))
        })
        .collect();
    out.sort();
    out
}

fn expected_edges() -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = [
        ("rg", "net"),
        ("rg", "app"),
        ("net", "wait"),
        ("net", "app"),
        ("wait", "app"),
        ("app", "output.app_id"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    e.sort();
    e
}

#[test]
fn graph_prints_dot_with_every_dependency() {
    let p = Project::with_main(CHAIN);
    let dot = p.ok(&["graph", "--format", "dot"]);
    dot.stdout_has("digraph");
    assert_eq!(edges(&dot.stdout, "->"), expected_edges(), "{}", dot.stdout);
    // dot is the default.
    assert_eq!(p.ok(&["graph"]).stdout, dot.stdout);
}

#[test]
fn graph_prints_mermaid_with_every_dependency() {
    let p = Project::with_main(CHAIN);
    let m = p.ok(&["graph", "--format", "mermaid"]);
    m.stdout_has("flowchart");
    assert_eq!(edges(&m.stdout, "-->"), expected_edges(), "{}", m.stdout);
}

#[test]
fn graph_of_a_broken_configuration_fails_cleanly() {
    let p = Project::with_main(
        "[resource.a]\ntype = \"core:data\"\ninput = \"${b.id}\"\n\n[resource.b]\ntype = \"core:data\"\ninput = \"${a.id}\"\n",
    );
    p.fails(&["graph"])
        .stderr_has("dependency cycle: a -> b -> a");
    p.fails(&["graph", "--format", "png"])
        .stderr_has("invalid value 'png'");
}

#[test]
fn schema_is_a_json_schema_of_the_configuration() {
    let p = Project::new();
    let r = p.ok(&["schema"]);
    let schema: serde_json::Value = serde_json::from_str(&r.stdout).expect("schema is JSON");
    assert!(
        schema["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("json-schema.org")),
        "{schema}"
    );
    let props = schema["properties"].as_object().expect("properties");
    for table in ["backend", "variable", "resource", "data", "output"] {
        assert!(props.contains_key(table), "no {table} in {props:?}");
    }
    // The built-in types are there for completion.
    assert!(r.stdout.contains("core:data") && r.stdout.contains("core:sleep"));
    // `[locals]` holds any values; `count` sits beside `for_each`, never with it.
    assert_eq!(props["locals"]["type"], "object", "{schema}");
    assert_eq!(
        props["locals"]["additionalProperties"],
        json!({}),
        "{schema}"
    );
    // `[module.NAME]`: `source` required, its meta-arguments, every other key an input.
    let module = &props["module"]["additionalProperties"];
    assert_eq!(module["required"], json!(["source"]), "{schema}");
    for key in ["source", "for_each", "count", "depends_on", "providers"] {
        assert!(
            module["properties"].get(key).is_some(),
            "no {key} in {module}"
        );
    }
    assert_eq!(
        module["not"],
        json!({"required": ["count", "for_each"]}),
        "{schema}"
    );
    assert!(module["additionalProperties"].is_object(), "{module}");
    let resource = &props["resource"]["additionalProperties"];
    assert_eq!(
        resource["not"],
        json!({"required": ["count", "for_each"]}),
        "{schema}"
    );
    let variant = resource["allOf"]
        .as_array()
        .and_then(|v| {
            v.iter()
                .find(|v| v["if"]["properties"]["type"]["const"] == "core:data")
        })
        .expect("a core:data variant");
    let count = &variant["then"]["properties"]["count"];
    let kinds: Vec<&str> = count["anyOf"]
        .as_array()
        .expect("count is a number or a template")
        .iter()
        .filter_map(|k| k["type"].as_str())
        .collect();
    assert_eq!(kinds, ["integer", "string"], "{count}");
    assert!(variant["then"]["properties"]["for_each"].is_object());
}

#[test]
fn validate_accepts_a_good_configuration_without_touching_state() {
    let p = Project::with_main(CHAIN);
    p.write(
        "vars.toml",
        "[variable.needed]\ndescription = \"no default: validate does not need a value\"\n",
    );
    p.ok(&["validate"])
        .stdout_has("The configuration is valid.");
    let dir = p.dir.display().to_string();
    let other = Project::new();
    other.ok(&["validate", &dir]);
    let r = p.ok(&["validate", "--json"]);
    assert_eq!(r.events(), vec![json!({"type": "valid", "resources": 4})]);
    assert!(!p.path(".plinth").exists(), "validate wrote state");
}

#[test]
fn config_errors_are_machine_readable_with_json() {
    let p = Project::with_main(
        "[resource.base]\ntype = \"core:data\"\n\n[resource.app]\ntype = \"core:data\"\ninput = \"${bsae.id}\"\n",
    );
    let r = p.fails(&["plan", "--json"]);
    let errors: Vec<serde_json::Value> = r
        .events()
        .into_iter()
        .filter(|e| e["type"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e["message"], "unknown reference `bsae.id`");
    assert!(e["file"].as_str().unwrap().ends_with("main.toml"), "{e}");
    assert_eq!(
        (e["line"].clone(), e["column"].clone()),
        (json!(6), json!(12))
    );
    assert_eq!(e["help"], "did you mean `base`?");
}

#[test]
fn several_problems_are_reported_at_once() {
    let p = Project::with_main(
        r#"
[resource.a]
type = "core:dta"

[resource.b]
type = "core:data"
inptu = 1

[resource.c]
type = "core:data"
input = "${nothing.id}"
"#,
    );
    p.fails(&["validate"])
        .stderr_has("unknown type `core:dta`")
        .stderr_has("unknown input `inptu` for core:data")
        .stderr_has("unknown reference `nothing.id`")
        .stderr_has("3 problems found.");
}

#[test]
fn bad_command_lines_get_clap_messages_not_panics() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\n");
    let r = p.run(&["plan", "--bogus"]);
    assert_ne!(r.code, 0);
    r.stderr_has("unexpected argument '--bogus'")
        .stderr_has("Usage: plinth plan");
    let r = p.run(&["explode"]);
    assert_ne!(r.code, 0);
    r.stderr_has("unrecognized subcommand 'explode'");
    let r = p.run(&["apply", "--parallelism", "0"]);
    assert_ne!(r.code, 0);
    r.stderr_has("--parallelism");
    let r = p.run(&["plan", "--lock-timeout", "soon"]);
    assert_ne!(r.code, 0);
    r.stderr_has("is not a duration");
    let r = p.run(&["plan", "--target", "not an address!"]);
    r.code(1).stderr_has("--target");
    let r = p.run(&["plan", "--target", "nope"]);
    r.code(1).stderr_has("nope");
    let r = p.run(&["state", "mv", "only-one"]);
    assert_ne!(r.code, 0);
    r.stderr_has("Usage: plinth state mv");
}

#[test]
fn help_and_version_succeed() {
    let p = Project::new();
    p.ok(&["--help"])
        .stdout_has("plan")
        .stdout_has("apply")
        .stdout_has("force-unlock");
    p.ok(&["plan", "--help"])
        .stdout_has("--detailed-exitcode")
        .stdout_has("--out");
    p.ok(&["--version"]).stdout_has("plinth ");
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let p = Project::new();
    p.fails(&["plan", "does-not-exist"])
        .stderr_has("does-not-exist is not a directory");
    p.fails(&["show", "no-such-plan"])
        .stderr_has("cannot read the plan file no-such-plan");
    p.write("garbage.plan", "{ not a plan");
    p.fails(&["show", "garbage.plan"])
        .stderr_has("is not a plinth plan file");
    p.fails(&["apply", "garbage.plan"])
        .stderr_has("is not a plinth plan file");
}

#[test]
fn commands_on_an_unapplied_configuration() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\n");
    assert_eq!(p.ok(&["state", "list"]).stdout, "");
    p.ok(&["show"]).stdout_has("The state is empty.");
    p.ok(&["output"]);
    p.ok(&["destroy", "--auto-approve"]);
    p.fails(&["force-unlock", "some-id"])
        .stderr_has("not locked");
}

#[test]
fn saved_plans_render_for_review_and_gate_ci() {
    let p = Project::with_main(CHAIN);
    p.ok(&["plan", "--out", "pr.plan"]);
    let md = p.ok(&["show", "pr.plan", "--format", "markdown"]);
    md.stdout_has("## plinth plan")
        .stdout_has("Plan: 4 to add, 0 to change, 0 to replace, 0 to destroy.")
        .stdout_has("<details>")
        .stdout_has("```mermaid");
    let tf = p.ok(&["show", "pr.plan", "--format", "terraform-json"]);
    let doc: serde_json::Value = serde_json::from_str(&tf.stdout).expect("terraform json");
    assert_eq!(doc["format_version"], "1.2");
    let actions: Vec<&serde_json::Value> = doc["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|c| &c["change"]["actions"])
        .collect();
    assert_eq!(actions.len(), 4);
    assert!(actions.iter().all(|a| **a == serde_json::json!(["create"])));
    // Markdown and Terraform JSON are plan renderings, not state renderings.
    p.fails(&["show", "--format", "markdown"])
        .stderr_has("render plans, not state");

    // --fail-on: creating is fine; deleting or replacing is refused, after showing the plan.
    p.ok(&["plan", "--fail-on", "destroy"]);
    p.apply(&[]);
    p.edit("main.toml", "input = \"rg\"", "input = \"rg2\"");
    p.ok(&["plan", "--fail-on", "destroy"]);
    p.write(
        "main.toml",
        "[resource.rg]\ntype = \"core:data\"\ninput = \"rg\"\n",
    );
    p.ok(&["plan", "--out", "shrink.plan"]);
    p.fails(&["plan", "--fail-on", "destroy"])
        .stdout_has("Plan: 0 to add, 0 to change, 0 to replace, 3 to destroy.")
        .stderr_has("the plan would destroy objects: ")
        .stderr_has("app (delete)");
    p.fails(&["show", "shrink.plan", "--fail-on", "destroy"])
        .stderr_has("--fail-on destroy refuses such plans");
    p.ok(&["plan", "--fail-on", "replace"]);
    p.fails(&[
        "plan",
        "--replace",
        "rg",
        "--target",
        "rg",
        "--fail-on",
        "replace",
    ])
    .stderr_has("the plan would replace objects: rg (replace)");
}

/// Runs plinth with stdout connected to a pipe whose reader is already gone (`plinth ... | head`
/// after head exited): it must not panic.
fn run_into_closed_pipe(p: &Project, args: &[&str]) -> String {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = p
        .command()
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run plinth");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_closed_stdout_does_not_panic() {
    let p = Project::with_main(CHAIN);
    for args in [vec!["schema"], vec!["graph"], vec!["plan"], vec!["show"]] {
        let stderr = run_into_closed_pipe(&p, &args);
        assert!(!stderr.contains("panicked"), "plinth {args:?}:\n{stderr}");
    }
}

#[test]
fn state_show_prints_each_attribute_once() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\n");
    p.apply(&[]);
    let out = p.ok(&["state", "show", "a"]).stdout;
    let ids = out
        .lines()
        .filter(|l| l.trim_start().starts_with("id = "))
        .count();
    assert_eq!(ids, 1, "{out}");
}
