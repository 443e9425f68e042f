//! `plinth test`'s files decoded: what `load_test_files` makes of a test folder, and the
//! mistakes it locates (the broken-configuration corpus has one case per mistake, end to end).

use plinth_config::{DriftChange, TestCommand, load_dir, load_test_files};

const MAIN: &str = r#"
[variable.name]
default = "a"

[resource.greeting]
type = "core:data"
input = "${var.name}"

[output.text]
value = "${greeting.output}"
"#;

fn dir(tests: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("main.toml"), MAIN).unwrap();
    std::fs::create_dir(tmp.path().join("tests")).unwrap();
    for (name, text) in tests {
        std::fs::write(tmp.path().join("tests").join(name), text).unwrap();
    }
    tmp
}

#[test]
fn files_in_name_order_and_runs_in_file_order() {
    let tmp = dir(&[
        (
            "b.test.toml",
            r#"
[variables]
name = "b"

[[run]]
name = "applies"
expect_failures = ["greeting", "output.text"]

[[run.assert]]
condition = "${output.text == \"b\"}"
message = "the text is ${output.text}"

[run.data.extra]
type = "core:data"
input = "${greeting.id}"

[[run.drift]]
address = "greeting"
patch = { input = "x" }

[[run]]
name = "plans"
command = "plan"
variables = { name = "${run.applies.output.text}" }
"#,
        ),
        ("a.test.toml", "[[run]]\nname = \"only\"\n"),
        ("notes.toml", "not a test file"),
    ]);
    let config = load_dir(tmp.path()).unwrap();
    let mut sources = config.sources.clone();
    let (files, diags) = load_test_files(tmp.path(), &config, &mut sources);
    assert!(diags.is_empty(), "{}", diags.render(&sources, false));
    let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.test.toml", "b.test.toml"]);
    let b = &files[1];
    assert_eq!(sources.get(b.file).name, "tests/b.test.toml");
    assert_eq!(b.variables[0].name, "name");
    let [applies, plans] = &b.runs[..] else {
        panic!("two runs")
    };
    assert_eq!(applies.command, TestCommand::Apply);
    assert_eq!(plans.command, TestCommand::Plan);
    let expected: Vec<_> = applies
        .expect_failures
        .iter()
        .map(|e| e.address.as_str())
        .collect();
    assert_eq!(expected, ["greeting", "output.text"]);
    assert_eq!(applies.asserts.len(), 1);
    assert_eq!(applies.data[0].name, "extra");
    assert!(matches!(&applies.drift[0].change, DriftChange::Patch(p) if p["input"] == "x"));
    assert_eq!(plans.variables[0].name, "name");
}

#[test]
fn every_mistake_of_a_file_is_reported_at_once() {
    let tmp = dir(&[(
        "bad.test.toml",
        r#"
[[run]]
name = "one"
command = "destroy"

[[run]]
name = "two"
expect_failures = ["nothing"]

[[run.assert]]
condition = "${run.three.output.text == output.txt}"
message = "m"

[[run]]
name = "three"
"#,
    )]);
    let config = load_dir(tmp.path()).unwrap();
    let mut sources = config.sources.clone();
    let (_, diags) = load_test_files(tmp.path(), &config, &mut sources);
    let text = diags.render(&sources, false);
    for needle in [
        "unknown run command `destroy`",
        "`expect_failures` names `nothing`",
        "tests/bad.test.toml:4:11",
        "run `three` comes later in the file",
        "the configuration declares no output `txt`",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
}

#[test]
fn a_configuration_without_test_files_says_where_they_go() {
    let tmp = dir(&[]);
    let config = load_dir(tmp.path()).unwrap();
    let mut sources = config.sources.clone();
    let (files, diags) = load_test_files(tmp.path(), &config, &mut sources);
    assert!(files.is_empty());
    assert!(
        diags.0[0]
            .message
            .contains("has no test files (tests/*.test.toml)"),
        "{diags:?}"
    );
}
