//! Findings of a review of the expression language (issue 14) that are not plain error
//! cases (those are in tests/broken/): secrets that leaked through messages, and results
//! that differed from Terraform's. Each test runs the binary as a user would.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{Project, Run};

/// A sensitive string, map and list whose values must never be printed.
const SECRETS: &str = r#"
[variable.pw]
default = "hunter2-pw"
sensitive = true

[variable.smap]
default = { hunter2key = "v", other = "w" }
sensitive = true

[variable.slist]
default = ["hunter2-a", "b"]
sensitive = true
"#;

/// `plinth console .` in `p` with `input` piped in.
fn console(p: &Project, input: &str) -> Run {
    let mut child = p
        .command()
        .args(["console", "."])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run plinth console");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for plinth console");
    Run {
        args: vec!["console".into(), ".".into()],
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn console_errors_about_secret_paths_keys_and_lengths_show_no_secret() {
    let p = Project::with_main(SECRETS);
    for (input, expected) in [
        // file() quoted its path: "`hunter2-pw` is not a file the configuration reads".
        ("file(var.pw)", "the path is sensitive"),
        ("templatefile(var.pw, {})", "the path is sensitive"),
        ("fileexists(var.pw)", "the path is sensitive"),
        // A misspelt key was answered with "did you mean `hunter2key`?".
        ("var.smap.hunter2ke", "has no attribute `hunter2ke`"),
        ("var.smap[\"hunter2kex\"]", "has no key \"hunter2kex\""),
        // An index past the end gave the secret list's length.
        (
            "var.slist[7]",
            "`var.slist` is sensitive, so its length is not shown",
        ),
    ] {
        let r = console(&p, &format!("{input}\n"));
        r.code(1);
        r.stderr_has(expected);
        let all = r.all();
        assert!(!all.contains("panicked"), "{input}: {all}");
        for secret in ["hunter2-pw", "hunter2key", "hunter2-a", "2 elements"] {
            assert!(!all.contains(secret), "{input} shows {secret:?}:\n{all}");
        }
    }
}

#[test]
fn range_with_one_negative_limit_counts_down_as_terraform_does() {
    // range(-3) panicked (index out of bounds in an argument error).
    let p = Project::with_main("");
    let r = console(&p, "range(-3)\nrange(0)\nrange(3, 0)\n");
    r.code(0);
    assert_eq!(
        r.stdout, "[\n  0,\n  -1,\n  -2,\n]\n[]\n[\n  3,\n  2,\n  1,\n]\n",
        "{}",
        r.stderr
    );
}

#[test]
fn a_plan_with_a_long_chain_of_operators_is_an_error_not_a_crash() {
    // 3,000 `+` in one string overflowed the stack (the process aborted, no message).
    let terms = vec!["1"; 3000].join(" + ");
    let p = Project::with_main(&format!(
        "[resource.x]\ntype = \"core:data\"\ninput = \"${{{terms}}}\"\n"
    ));
    let r = p.run(&["plan", "."]);
    r.code(1);
    r.stderr_has("more than 256 operators and splats in one expression");
    // The same sum over a list is how to write it.
    let p = Project::with_main(
        "[resource.x]\ntype = \"core:data\"\ninput = \"${sum([for i in range(1000) : 1])}\"\n",
    );
    p.ok(&["plan", "."]).stdout_has("input = 1000");
}
