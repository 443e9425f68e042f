use super::*;
use serde_json::json;
use std::time::Instant;

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn input() -> J {
    json!({
        "changes": [
            {"address": "sb", "type": "azure:servicebus_namespace", "action": "create",
             "after": {"properties": {"disableLocalAuth": false}}},
            {"address": "rg", "type": "azure:resource_group", "action": "create",
             "after": {"location": "westeurope"}}
        ]
    })
}

const SB: &str = r#"package plinth.servicebus

deny contains {"msg": "local auth is on", "address": c.address, "fix": "set disableLocalAuth"} if {
    some c in input.changes
    c.type == "azure:servicebus_namespace"
    not c.after.properties.disableLocalAuth
}

warn contains msg if {
    some c in input.changes
    c.type == "azure:resource_group"
    msg := sprintf("%s is in %s", [c.address, c.after.location])
}

violation_names contains "a violation" if { true }

helper := 3
"#;

#[test]
fn deny_warn_and_violation_results_become_findings() {
    let dir = dir_with(&[("sb.rego", SB)]);
    let p = Policies::load(dir.path()).unwrap();
    let f = p.evaluate(&input()).unwrap();
    assert_eq!(f.len(), 3, "{f:#?}");
    assert_eq!(f[0].rule, "plinth.servicebus.deny");
    assert_eq!(f[0].severity, Severity::Deny);
    assert_eq!(f[0].address.as_deref(), Some("sb"));
    assert_eq!(f[0].message, "local auth is on");
    assert_eq!(f[0].fix.as_deref(), Some("set disableLocalAuth"));
    assert_eq!(f[0].source, FindingSource::Policy);
    assert!(f[0].location.as_deref().unwrap().ends_with("sb.rego"));
    assert_eq!(f[1].rule, "plinth.servicebus.violation_names");
    assert_eq!(f[1].severity, Severity::Deny);
    assert_eq!(f[1].address, None);
    assert_eq!(f[2].rule, "plinth.servicebus.warn");
    assert_eq!(f[2].severity, Severity::Warn);
    assert_eq!(f[2].message, "rg is in westeurope");
}

#[test]
fn a_passing_plan_has_no_findings() {
    // The shape plinth's plan JSON has (docs/plan-json.md): `resource_changes` with
    // `actions`, `before`, `after`.
    let dir = dir_with(&[("sb.rego", SB_PLAN)]);
    let p = Policies::load(dir.path()).unwrap();
    let plan = |disable_local_auth: bool| {
        json!({
            "format_version": "1",
            "mode": "normal",
            "resource_changes": [
                {"address": "sb", "type": "azure:Microsoft.ServiceBus/namespaces@2024-01-01",
                 "actions": ["create"], "before": null,
                 "after": {"location": "westeurope",
                           "properties": {"disableLocalAuth": disable_local_auth}},
                 "after_unknown": {"id": true}},
                {"address": "rg", "type": "azure:Microsoft.Resources/resourceGroups@2024-03-01",
                 "actions": ["no-op"], "before": {"location": "westeurope"},
                 "after": {"location": "westeurope"}}
            ],
            "resource_drift": []
        })
    };
    assert!(p.evaluate(&plan(true)).unwrap().is_empty());
    let f = p.evaluate(&plan(false)).unwrap();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].address.as_deref(), Some("sb"));
}

/// A policy over plinth's real plan JSON (`resource_changes`, `actions`, `after`).
const SB_PLAN: &str = r#"package plinth.servicebus

deny contains {"msg": "local auth is on", "address": c.address} if {
    some c in input.resource_changes
    startswith(lower(c.type), "azure:microsoft.servicebus/namespaces@")
    not "delete" in c.actions
    not c.after.properties.disableLocalAuth == true
}
"#;

#[test]
fn test_rules_and_test_packages_do_not_run_on_a_plan() {
    // A failing test, and one that errors at run time, in both a test package and the
    // policy's own package: the plan's findings are the policy's, without error.
    let policy = format!(
        "{SB_PLAN}\ntest_in_the_policy_package if {{ 1 == 2 }}\n\ntest_conflict := 1 if input.resource_changes\ntest_conflict := 2 if input.resource_changes\n"
    );
    let tests = "package plinth.servicebus_test\n\nv := 1 if input.resource_changes\nv := 2 if input.resource_changes\n\ntest_conflicting if v == 1\n\ndeny contains \"a test package denies\" if true\n";
    let dir = dir_with(&[("sb.rego", &policy), ("sb_test.rego", tests)]);
    let p = Policies::load(dir.path()).unwrap();
    let f = p
        .evaluate(&json!({"resource_changes": [{"address": "sb",
            "type": "azure:Microsoft.ServiceBus/namespaces@2024-01-01", "actions": ["create"],
            "after": {"properties": {}}}]}))
        .unwrap();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule, "plinth.servicebus.deny");
    // The test runner still runs (and reports) them.
    let outcomes = p.run_tests().unwrap();
    let failed = outcomes
        .iter()
        .filter(|o| o.result != TestResult::Passed)
        .count();
    assert!(failed >= 2, "{outcomes:#?}");
}

#[test]
fn one_deadline_covers_every_package() {
    // Each package alone finishes well within the limit; five together do not. With a
    // limit per package (regorus restarts its timer on every query) all five would pass;
    // with one deadline the evaluation stops within about one limit.
    let slow = |n: usize| {
        format!(
            "package slow{n}\n\nxs := numbers.range(1, 500)\n\ndeny contains \"slow\" if {{\n    some i in xs\n    some j in xs\n    i * j == 0\n}}\n"
        )
    };
    let one = dir_with(&[("s.rego", &slow(0))]);
    let one = Policies::load(one.path()).unwrap();
    let start = Instant::now();
    assert!(one.evaluate(&json!({})).unwrap().is_empty());
    let alone = start.elapsed();

    let texts: Vec<(String, String)> = (0..5).map(|n| (format!("s{n}.rego"), slow(n))).collect();
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = dir_with(&files);
    // Two and a half packages' worth: each package alone is within it.
    let limit = alone * 5 / 2;
    let p = Policies::load(dir.path()).unwrap().with_time_limit(limit);
    assert_eq!(p.time_limit(), limit);
    let start = Instant::now();
    let e = p.evaluate(&json!({"resource_changes": []})).unwrap_err();
    let took = start.elapsed();
    assert!(
        took < limit + alone,
        "took {took:?} for a limit of {limit:?} (one package alone: {alone:?})"
    );
    let text = e.to_string();
    assert!(text.contains("policy slow"), "{text}");
    assert!(
        text.contains("one evaluation of all packages may take"),
        "{text}"
    );
}

#[test]
fn old_style_imports_and_boolean_rules_are_accepted() {
    let v1 = "package legacy\nimport rego.v1\n\ndeny if input.x == 1\n";
    let future = "package future\nimport future.keywords.if\nimport future.keywords.contains\n\nwarn contains \"y\" if input.x == 3\n";
    let dir = dir_with(&[("legacy.rego", v1), ("future.rego", future)]);
    let p = Policies::load(dir.path()).unwrap();
    let f = p.evaluate(&json!({"x": 1})).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].message, "legacy.deny is true");
    assert!(p.evaluate(&json!({"x": 2})).unwrap().is_empty());
    assert_eq!(p.evaluate(&json!({"x": 3})).unwrap()[0].rule, "future.warn");
}

#[test]
fn a_parse_error_names_file_line_and_column() {
    let dir = dir_with(&[(
        "bad.rego",
        "package bad\n\ndeny contains msg if {\n  msg := \n}\n",
    )]);
    let e = Policies::load(dir.path()).unwrap_err();
    let PolicyError::Parse { path, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(path.ends_with("bad.rego"));
    let text = e.to_string();
    assert!(
        text.contains("bad.rego:5:1") || text.contains("bad.rego:4:"),
        "{text}"
    );
    assert!(text.contains("error:"), "{text}");
}

#[test]
fn a_v0_policy_is_refused_with_the_fix() {
    let dir = dir_with(&[("v0.rego", "package v0\n\ndeny[msg] {\n  msg := \"x\"\n}\n")]);
    let e = Policies::load(dir.path()).unwrap_err();
    assert!(matches!(e, PolicyError::Parse { .. }), "{e:?}");
    assert!(e.fix().contains("Rego v1"));
}

#[test]
fn a_runtime_error_is_located_not_a_panic() {
    // Two values for one complete rule: an evaluation error in Rego.
    let conflict =
        "package conflict\n\nv := 1 if input.a\nv := 2 if input.a\ndeny contains \"x\" if v\n";
    let dir = dir_with(&[("conflict.rego", conflict)]);
    let p = Policies::load(dir.path()).unwrap();
    // Without the input that triggers it, the policy simply passes.
    assert!(p.evaluate(&json!({"a": false})).unwrap().is_empty());
    let e = p.evaluate(&json!({"a": true})).unwrap_err();
    assert!(matches!(e, PolicyError::Eval { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("policy conflict"), "{text}");
    // regorus locates it: file:line:col.
    assert!(text.contains("conflict.rego:"), "{text}");
}

#[test]
fn unreadable_results_are_errors_naming_the_rule() {
    let dir = dir_with(&[("n.rego", "package n\n\ndeny contains 3 if true\n")]);
    let e = Policies::load(dir.path())
        .unwrap()
        .evaluate(&json!({}))
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("n.deny"), "{text}");
    assert!(text.contains("a number"), "{text}");
    let dir = dir_with(&[(
        "o.rego",
        "package o\n\nwarn contains {\"address\": \"x\"} if true\n",
    )]);
    let e = Policies::load(dir.path())
        .unwrap()
        .evaluate(&json!({}))
        .unwrap_err();
    assert!(e.to_string().contains("without `msg`"), "{e}");
    let dir = dir_with(&[("s.rego", "package s\n\ndeny := \"no\"\n")]);
    let e = Policies::load(dir.path())
        .unwrap()
        .evaluate(&json!({}))
        .unwrap_err();
    assert!(e.to_string().contains("a string"), "{e}");
}

#[test]
fn messages_are_cleaned_of_control_characters() {
    let dir = dir_with(&[(
        "c.rego",
        "package c\n\nwarn contains \"a\\nb\\u001b[31m  c\\u202e\" if true\n",
    )]);
    let f = Policies::load(dir.path())
        .unwrap()
        .evaluate(&json!({}))
        .unwrap();
    assert_eq!(f[0].message, "a b [31m c");
}

#[test]
fn directory_problems_are_explained() {
    let empty = tempfile::tempdir().unwrap();
    let e = Policies::load(empty.path()).unwrap_err();
    assert!(e.to_string().contains("holds no *.rego file"), "{e}");
    let e = Policies::load(&empty.path().join("missing")).unwrap_err();
    assert!(e.to_string().contains("cannot read it"), "{e}");
    let dir = dir_with(&[("a.rego", "package a\n")]);
    let e = Policies::load(&dir.path().join("a.rego")).unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");
}

#[test]
fn files_too_large_or_not_regular_are_refused() {
    let dir = dir_with(&[]);
    let big = "#".repeat(MAX_FILE_BYTES as usize + 1);
    std::fs::write(dir.path().join("big.rego"), big).unwrap();
    let e = Policies::load(dir.path()).unwrap_err();
    assert!(matches!(e, PolicyError::File { .. }), "{e:?}");
    assert!(e.to_string().contains("more than"), "{e}");
    let dir = dir_with(&[]);
    std::fs::create_dir(dir.path().join("sub.rego")).unwrap();
    let e = Policies::load(dir.path()).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_directory_is_refused() {
    let outside = dir_with(&[("x.rego", "package x\n")]);
    let dir = dir_with(&[]);
    std::os::unix::fs::symlink(outside.path().join("x.rego"), dir.path().join("x.rego")).unwrap();
    let e = Policies::load(dir.path()).unwrap_err();
    assert!(
        e.to_string().contains("outside the policy directory"),
        "{e}"
    );
    let inside = dir_with(&[("real.txt", "package y\n")]);
    std::os::unix::fs::symlink(inside.path().join("real.txt"), inside.path().join("y.rego"))
        .unwrap();
    assert!(Policies::load(inside.path()).is_ok());
}

#[test]
fn unit_tests_run_and_failures_are_reported() {
    let tests = r#"package plinth.servicebus_test

import data.plinth.servicebus

test_local_auth_denied if {
    count(servicebus.deny) == 1 with input as {"changes": [{"address": "sb", "type": "azure:servicebus_namespace", "after": {"properties": {}}}]}
}

test_wrong if {
    count(servicebus.deny) == 5 with input as {"changes": []}
}
"#;
    let dir = dir_with(&[("sb.rego", SB), ("sb_test.rego", tests)]);
    let p = Policies::load(dir.path()).unwrap();
    let outcomes = p.run_tests().unwrap();
    assert_eq!(
        outcomes,
        vec![
            TestOutcome {
                rule: "plinth.servicebus_test.test_local_auth_denied".into(),
                result: TestResult::Passed
            },
            TestOutcome {
                rule: "plinth.servicebus_test.test_wrong".into(),
                result: TestResult::Failed
            },
        ]
    );
    // Test packages give no findings of their own.
    assert_eq!(p.evaluate(&input()).unwrap().len(), 3);
}

#[test]
fn severity_follows_conftest_names() {
    assert_eq!(severity_of("deny"), Some(Severity::Deny));
    assert_eq!(severity_of("deny_tls"), Some(Severity::Deny));
    assert_eq!(severity_of("violation"), Some(Severity::Deny));
    assert_eq!(severity_of("warn_x"), Some(Severity::Warn));
    assert_eq!(severity_of("denied"), None);
    assert_eq!(severity_of("deny_"), None);
    assert_eq!(severity_of("test_deny"), None);
    assert_eq!(severity_of("allow"), None);
}
