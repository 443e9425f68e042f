//! `plinth test` end to end: test files of runs against a fresh simulated cloud (or
//! `--sim URL`), assertions over resources, outputs, earlier runs and the plan, expected
//! failures, clean-up, the JUnit report, and the flagship's own tests (docs/testing.md).

mod common;

use common::Project;
use common::sim::Sim;

/// A configuration of one `core:data` object echoing a variable, and an output of it.
const GREETING: &str = r#"
[variable.name]
default = "a"

[variable.secret]
default = "s3cr3t-value"
sensitive = true

[resource.greeting]
type = "core:data"
input = { text = "hello ${var.name}" }

[output.text]
value = "${greeting.output.text}"

[output.secret]
value = "${var.secret}"
sensitive = true
"#;

fn project(tests: &[(&str, &str)]) -> Project {
    let p = Project::with_main(GREETING);
    std::fs::create_dir(p.path("tests")).unwrap();
    for (name, text) in tests {
        p.write(&format!("tests/{name}"), text);
    }
    p
}

#[test]
fn runs_pass_fail_and_skip_with_located_reasons() {
    let p = project(&[(
        "basic.test.toml",
        r#"
[[run]]
name = "applies"

[[run.assert]]
condition = "${output.text == \"hello a\"}"
message = "the greeting greets a"

[[run.assert]]
condition = "${greeting.input.text == \"hello a\"}"
message = "the object holds its input"

[[run]]
name = "plans_a_change"
command = "plan"
variables = { name = "b" }

[[run.assert]]
condition = "${plan.changes[\"greeting\"].action == \"update\" && plan.summary.change == 1}"
message = "a new name updates the greeting"

[[run.assert]]
condition = "${greeting.input.text == \"hello b\"}"
message = "a plan run sees planned values"

[[run]]
name = "wrong"
command = "plan"

[[run.assert]]
condition = "${output.text == \"hello z\"}"
message = "the greeting is ${output.text}, not hello z"

[[run]]
name = "never"
"#,
    )]);
    let r = p.run(&["test"]);
    r.code(1)
        .stdout_has("tests/basic.test.toml... in progress")
        .stdout_has("  run \"applies\"... pass")
        .stdout_has("  run \"plans_a_change\"... pass")
        .stdout_has("  run \"wrong\"... fail")
        .stdout_has("    tests/basic.test.toml:31:13: assertion failed: the greeting is hello a, not hello z")
        .stdout_has("  run \"never\"... skip")
        .stdout_has("tests/basic.test.toml... fail")
        .stdout_has("Failure! 2 passed, 1 failed, 1 skipped.");
    // The configuration's own state and simulator world are never touched.
    assert!(!p.path(".plinth/state.json").exists());
    assert!(!p.path(".plinth/sim-world.json").exists());
}

#[test]
fn later_runs_see_earlier_runs_outputs_and_state() {
    let p = project(&[(
        "chain.test.toml",
        r#"
[variables]
name = "x"

[[run]]
name = "first"

[[run]]
name = "second"
variables = { name = "${run.first.output.text}!" }

[[run.assert]]
condition = "${output.text == \"hello hello x!\" && run.first.output.text == \"hello x\"}"
message = "the second run builds on the first"

[[run.assert]]
condition = "${plan.changes[\"greeting\"].action == \"update\"}"
message = "the second run updates what the first made"
"#,
    )]);
    p.ok(&["test"])
        .stdout_has("  run \"first\"... pass")
        .stdout_has("  run \"second\"... pass")
        .stdout_has("Success! 2 passed, 0 failed.");
}

#[test]
fn secrets_never_print_in_messages_or_the_junit_report() {
    let p = project(&[(
        "secret.test.toml",
        r#"
[[run]]
name = "leaks"

[[run.assert]]
condition = "${output.secret == \"other\"}"
message = "the secret is ${output.secret}"
"#,
    )]);
    let junit = p.dir.parent().unwrap().join("report.xml");
    let r = p.run(&["test", "--junit", junit.to_str().unwrap()]);
    r.code(1)
        .stdout_has("assertion failed: the secret is (sensitive)");
    let xml = std::fs::read_to_string(&junit).unwrap();
    for text in [r.all(), xml] {
        assert!(!text.contains("s3cr3t-value"), "{text}");
    }
}

#[test]
fn the_junit_report_has_a_suite_per_file_and_a_case_per_run() {
    let p = project(&[
        (
            "a.test.toml",
            r#"
[[run]]
name = "ok"
command = "plan"

[[run]]
name = "bad"
command = "plan"

[[run.assert]]
condition = "${output.text == \"<&>\"}"
message = "text is <\"&\"> not ${output.text}"

[[run]]
name = "skipped"
"#,
        ),
        ("b.test.toml", "[[run]]\nname = \"fine\"\n"),
    ]);
    let junit = p.dir.parent().unwrap().join("junit.xml");
    p.run(&["test", "--junit", junit.to_str().unwrap()])
        .code(1)
        .stdout_has("Failure! 2 passed, 1 failed, 1 skipped.");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let tree = xml::parse(&xml).unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{xml}"));
    assert_eq!(tree.name, "testsuites");
    assert_eq!(tree.attr("tests"), Some("4"), "{xml}");
    assert_eq!(tree.attr("failures"), Some("1"), "{xml}");
    assert_eq!(tree.attr("skipped"), Some("1"), "{xml}");
    let suites: Vec<_> = tree.children.iter().collect();
    assert_eq!(suites.len(), 2, "{xml}");
    assert_eq!(suites[0].attr("name"), Some("tests/a.test.toml"));
    assert_eq!(suites[1].attr("name"), Some("tests/b.test.toml"));
    let cases: Vec<_> = suites[0].children.iter().collect();
    let names: Vec<_> = cases.iter().filter_map(|c| c.attr("name")).collect();
    assert_eq!(names, ["ok", "bad", "skipped"]);
    for c in &cases {
        assert_eq!(c.name, "testcase");
        assert_eq!(c.attr("classname"), Some("tests/a.test.toml"));
        assert!(c.attr("time").unwrap().parse::<f64>().is_ok(), "{xml}");
    }
    assert!(cases[0].children.is_empty());
    let failure = &cases[1].children[0];
    assert_eq!(failure.name, "failure");
    let message = failure.attr("message").unwrap();
    assert!(
        message.ends_with("assertion failed: text is <\"&\"> not hello a"),
        "{message}"
    );
    assert_eq!(cases[2].children[0].name, "skipped");
}

#[test]
fn against_a_running_simulator_the_tests_destroy_everything_they_made() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start(&tmp.path().join("world.json"));
    let p = Project::with_main(
        r#"
[variable.prefix]
default = "plt"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "${var.prefix}-rg"
location = "eastus"

[output.rg_id]
value = "${rg.id}"
"#,
    );
    std::fs::create_dir(p.path("tests")).unwrap();
    p.write(
        "tests/rg.test.toml",
        r#"
[[run]]
name = "creates"

[[run.assert]]
condition = "${endswith(output.rg_id, \"/resourceGroups/plt-rg\") && rg.location == \"eastus\"}"
message = "the group exists where it was asked for"

[[run]]
name = "renames"
variables = { prefix = "other" }

[[run.assert]]
condition = "${plan.changes[\"rg\"].action == \"replace\"}"
message = "a new name replaces the group"
"#,
    );
    p.sim_run(&sim, &["test"])
        .code(0)
        .stdout_has("Success! 2 passed, 0 failed.");
    assert_eq!(sim.inventory(), Vec::<String>::new());
    // A simulator that does not answer is a clear error.
    drop(sim);
    let r = p.run(&["test", "--sim", "http://127.0.0.1:9"]);
    r.code(1)
        .stderr_has("no simulated cloud answers at http://127.0.0.1:9");
}

#[test]
fn drift_changes_the_cloud_outside_plinth_before_a_run() {
    let p = Project::with_main(
        r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "drift-rg"
location = "eastus"
tags = { team = "a" }
"#,
    );
    std::fs::create_dir(p.path("tests")).unwrap();
    p.write(
        "tests/drift.test.toml",
        r#"
[[run]]
name = "creates"

[[run]]
name = "someone_retags"
command = "plan"

[[run.drift]]
address = "rg"
patch = { tags = { team = "b" } }

[[run.assert]]
condition = "${plan.changes[\"rg\"].action == \"update\"}"
message = "the plan puts the tag back"

[[run]]
name = "someone_deletes"
command = "plan"

[[run.drift]]
address = "rg"
delete = true

[[run.assert]]
condition = "${plan.changes[\"rg\"].action == \"create\"}"
message = "the plan creates the group again"
"#,
    );
    p.ok(&["test"])
        .stdout_has("  run \"someone_retags\"... pass")
        .stdout_has("  run \"someone_deletes\"... pass")
        .stdout_has("Success! 3 passed, 0 failed.");
    // Drift needs an object in state: a first run has none.
    p.write(
        "tests/drift.test.toml",
        "[[run]]\nname = \"early\"\ncommand = \"plan\"\n\n[[run.drift]]\naddress = \"rg\"\ndelete = true\n",
    );
    p.fails(&["test"]).stdout_has(
        "tests/drift.test.toml:5:1: `rg` is not in the state: an earlier run of the file must create it",
    );
}

#[test]
fn a_destroy_that_fails_fails_the_file_and_names_what_is_left() {
    let p = Project::with_main(
        "[resource.keep]\ntype = \"core:data\"\ninput = \"x\"\nlifecycle = { prevent_destroy = true }\n",
    );
    std::fs::create_dir(p.path("tests")).unwrap();
    p.write("tests/keep.test.toml", "[[run]]\nname = \"makes\"\n");
    let junit = p.dir.parent().unwrap().join("keep.xml");
    p.run(&["test", "--junit", junit.to_str().unwrap()])
        .code(1)
        .stdout_has("  run \"makes\"... pass")
        .stdout_has("  destroy... fail")
        .stdout_has("`keep` has lifecycle.prevent_destroy")
        .stdout_has("left in the cloud: keep")
        .stdout_has("tests/keep.test.toml... fail")
        .stdout_has("Failure! 1 passed, 0 failed; destroying failed for 1 file.");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let tree = xml::parse(&xml).unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{xml}"));
    assert_eq!(tree.attr("errors"), Some("1"), "{xml}");
    let destroy = &tree.children[0].children[1];
    assert_eq!(destroy.attr("name"), Some("destroy"));
    assert_eq!(destroy.children[0].name, "error");
}

#[test]
fn expected_failures_met_and_unmet() {
    let p = Project::with_main(
        r#"
[variable.name]
default = "ok"

[resource.guarded]
type = "core:data"
input = "${var.name}"
lifecycle = { precondition = [{ condition = "${var.name != \"bad\"}", message = "the name must not be bad" }] }
"#,
    );
    std::fs::create_dir(p.path("tests")).unwrap();
    p.write(
        "tests/guard.test.toml",
        r#"
[[run]]
name = "refuses_a_bad_name"
variables = { name = "bad" }
expect_failures = ["guarded"]

[[run.assert]]
condition = "${false}"
message = "not evaluated: the expected failure stopped the plan"

[[run]]
name = "a_good_name_is_not_refused"
command = "plan"
expect_failures = ["guarded"]
"#,
    );
    p.run(&["test"])
        .code(1)
        .stdout_has("  run \"refuses_a_bad_name\"... pass")
        .stdout_has("  run \"a_good_name_is_not_refused\"... fail")
        .stdout_has("tests/guard.test.toml:14:20: expected `guarded` to fail, but it did not")
        .stdout_has("Failure! 1 passed, 1 failed.");
}

#[test]
fn postconditions_outputs_and_checks_can_be_expected_to_fail() {
    let p = Project::with_main(
        r#"
[variable.name]
default = "ok"

[resource.thing]
type = "core:data"
input = "${var.name}"
lifecycle = { postcondition = [{ condition = "${self.output != \"late\"}", message = "the object must not come out late" }] }

[output.name]
value = "${var.name}"
lifecycle = { precondition = [{ condition = "${var.name != \"hidden\"}", message = "the name is not for output" }] }

[check.named]
assert = [{ condition = "${var.name != \"anonymous\"}", message = "the thing has no real name" }]
"#,
    );
    std::fs::create_dir(p.path("tests")).unwrap();
    p.write(
        "tests/expect.test.toml",
        r#"
[[run]]
name = "comes_out_late"
variables = { name = "late" }
expect_failures = ["thing"]

[[run]]
name = "hidden_output"
command = "plan"
variables = { name = "hidden" }
expect_failures = ["output.name"]

[[run]]
name = "anonymous"
command = "plan"
variables = { name = "anonymous" }
expect_failures = ["check.named"]

[[run.assert]]
condition = "${plan.checks[\"check.named\"].status == \"fail\"}"
message = "a failed check does not stop the run: its assertions see it"

[[run]]
name = "anonymous_unexpected"
command = "plan"
variables = { name = "anonymous" }
"#,
    );
    p.ok(&["test"])
        .stdout_has("  run \"comes_out_late\"... pass")
        .stdout_has("  run \"hidden_output\"... pass")
        .stdout_has("  run \"anonymous\"... pass")
        // A check nobody expected to fail only warns.
        .stdout_has("  run \"anonymous_unexpected\"... pass")
        .stdout_has("    warning: check `check.named` failed: the thing has no real name")
        .stdout_has("Success! 4 passed, 0 failed.");
}

#[test]
fn filters_pick_files_and_a_missing_tests_folder_is_an_error() {
    let p = project(&[
        (
            "a.test.toml",
            "[[run]]\nname = \"one\"\ncommand = \"plan\"\n",
        ),
        (
            "b.test.toml",
            "[[run]]\nname = \"two\"\ncommand = \"plan\"\n",
        ),
    ]);
    p.ok(&["test", "--filter", "b"])
        .stdout_lacks("tests/a.test.toml")
        .stdout_has("  run \"two\"... pass")
        .stdout_has("Success! 1 passed, 0 failed.");
    p.fails(&["test", "--filter", "c"])
        .stderr_has("--filter c: there is no test file of that name")
        .stderr_has("a.test.toml, b.test.toml");
    let bare = Project::with_main(GREETING);
    bare.fails(&["test"])
        .stderr_has("has no test files (tests/*.test.toml)");
}

#[test]
fn the_flagship_tests_pass_and_leave_nothing_behind() {
    let p = Project::flagship();
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    let junit = p.dir.parent().unwrap().join("flagship.xml");
    let r = p.sim_run(&sim, &["test", "--junit", junit.to_str().unwrap()]);
    r.code(0)
        .stdout_has("  run \"applies_the_guide\"... pass")
        .stdout_has("  run \"broken_identity_chain\"... pass")
        .stdout_has("  run \"repairs_the_chain\"... pass")
        .stdout_has("tests/flagship.test.toml... pass")
        .stdout_has("Success! 3 passed, 0 failed.")
        // The broken chain's failed check was expected: no warning about it.
        .stdout_lacks("warning:");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let tree = xml::parse(&xml).unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{xml}"));
    assert_eq!(tree.children[0].children.len(), 3, "{xml}");
    // Every ARM resource and every AKS cluster the tests made is gone.
    assert_eq!(sim.inventory(), Vec::<String>::new());
    let clusters = common::sim::http_get_ok(&sim.url, "/_sim/resources");
    assert!(clusters.contains("\"clusters\":[]"), "{clusters}");
}

/// A small XML reader for checking the report's shape: elements, attributes and text,
/// entities decoded; `Err` for anything not well-formed.
mod xml {
    pub struct Element {
        pub name: String,
        pub attrs: Vec<(String, String)>,
        pub children: Vec<Element>,
    }

    impl Element {
        pub fn attr(&self, name: &str) -> Option<&str> {
            self.attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
    }

    pub fn parse(text: &str) -> Result<Element, String> {
        let body = text
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .ok_or("no XML declaration")?;
        let mut rest = body.trim_start();
        let root = element(&mut rest)?;
        if !rest.trim().is_empty() {
            return Err(format!("text after the root element: {rest:?}"));
        }
        Ok(root)
    }

    fn decode(s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let end = rest[i..].find(';').ok_or("unterminated entity")? + i;
            let ent = &rest[i + 1..end];
            let c = match ent {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e if e.starts_with('#') => {
                    char::from_u32(e[1..].parse().map_err(|_| "bad char ref")?)
                        .ok_or("bad char ref")?
                }
                other => return Err(format!("unknown entity {other}")),
            };
            out.push(c);
            rest = &rest[end + 1..];
        }
        if rest.contains('<') {
            return Err("a raw < in text".into());
        }
        out.push_str(rest);
        Ok(out)
    }

    fn element(rest: &mut &str) -> Result<Element, String> {
        let s = rest.strip_prefix('<').ok_or("expected <")?;
        let end = s
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or("eof")?;
        let name = s[..end].to_string();
        let mut s = &s[end..];
        let mut attrs = Vec::new();
        loop {
            s = s.trim_start();
            if let Some(r) = s.strip_prefix("/>") {
                *rest = r;
                return Ok(Element {
                    name,
                    attrs,
                    children: Vec::new(),
                });
            }
            if let Some(r) = s.strip_prefix('>') {
                s = r;
                break;
            }
            let eq = s.find('=').ok_or("attribute without =")?;
            let key = s[..eq].trim().to_string();
            let v = s[eq + 1..].strip_prefix('"').ok_or("unquoted attribute")?;
            let close = v.find('"').ok_or("unterminated attribute")?;
            attrs.push((key, decode(&v[..close])?));
            s = &v[close + 1..];
        }
        let mut children = Vec::new();
        loop {
            let lt = s.find('<').ok_or("unclosed element")?;
            decode(&s[..lt])?;
            s = &s[lt..];
            if let Some(r) = s.strip_prefix("</") {
                let gt = r.find('>').ok_or("eof in end tag")?;
                if r[..gt] != name {
                    return Err(format!("</{}> closes <{name}>", &r[..gt]));
                }
                *rest = &r[gt + 1..];
                return Ok(Element {
                    name,
                    attrs,
                    children,
                });
            }
            let mut r = s;
            children.push(element(&mut r)?);
            s = r;
        }
    }
}
