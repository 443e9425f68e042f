//! `plinth console` with piped standard input: each expression's value on stdout as
//! `terraform console` prints it, errors located in the typed text on stderr, exit 1 when
//! any expression failed. Values come from the configuration and the state (core:data
//! resources, applied locally, so no simulated cloud is needed).

mod common;

use std::io::Write;
use std::process::Stdio;

use common::background::Background;
use common::{Project, Run};

/// Variables, locals, a single resource, a `count` resource and a `for_each` resource.
const CONFIG: &str = r#"
[variable.prefix]
default = "demo"

[variable.envs]
type = "list"
default = ["dev", "prod"]

[variable.password]
sensitive = true
default = "hunter2-not-shown"

[locals]
name = "${var.prefix}-${var.envs[0]}"
tags = { owner = "${upper(var.prefix)}", managed_by = "plinth" }

[resource.settings]
type = "core:data"
input = { name = "${local.name}", secret = "${var.password}" }

[resource.queue]
type = "core:data"
count = 3
input = "q-${count.index}"

[resource.app]
type = "core:data"
for_each = "${var.envs}"
input = { env = "${each.key}" }
"#;

/// Runs `plinth console DIR ARGS...` in `p` with `input` on standard input.
#[track_caller]
fn console(p: &Project, args: &[&str], input: &str) -> Run {
    let mut all = vec!["console", "."];
    all.extend_from_slice(args);
    let mut child = p
        .command()
        .args(&all)
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
    let run = Run {
        args: all.iter().map(|s| s.to_string()).collect(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "plinth console panicked:\n{}",
        run.stderr
    );
    run
}

#[test]
fn functions_and_operators_print_as_terraform_console_does() {
    let p = Project::with_main(CONFIG);
    let r = console(
        &p,
        &[],
        "upper(\"x\")\n1 + 2 * 3\nlength([1, 2, 3]) > 2 ? 'big' : 'small'\ncidrsubnet(\"10.0.0.0/16\", 8, 2)\n[\"a\", \"b\"]\n{ b = 2, a = true }\nnull\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout,
        "\"X\"\n7\n\"big\"\n\"10.0.2.0/24\"\n[\n  \"a\",\n  \"b\",\n]\n{\n  \"a\" = true\n  \"b\" = 2\n}\nnull\n",
        "{}",
        r.stderr
    );
    // No prompt when standard input is not a terminal.
    assert!(!r.stdout.contains("> "), "{}", r.stdout);
}

#[test]
fn locals_and_variables_from_the_command_line() {
    let p = Project::with_main(CONFIG);
    let r = console(
        &p,
        &["--var", "prefix=acme"],
        "local.name\nlocal.tags\nvar.envs\n${var.prefix}\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout,
        "\"acme-dev\"\n{\n  \"managed_by\" = \"plinth\"\n  \"owner\" = \"ACME\"\n}\n[\n  \"dev\",\n  \"prod\",\n]\n\"acme\"\n"
    );
}

#[test]
fn a_sensitive_value_is_never_printed() {
    let p = Project::with_main(CONFIG);
    let r = console(
        &p,
        &[],
        "var.password\nupper(var.password)\n{ pw = var.password, user = \"admin\" }\nlength(var.password)\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout,
        "(sensitive value)\n(sensitive value)\n{\n  \"pw\" = (sensitive value)\n  \"user\" = \"admin\"\n}\n(sensitive value)\n"
    );
    // Nor in an error about it.
    let r = console(&p, &[], "var.password + 1\n");
    r.code(1);
    assert!(!r.all().contains("hunter2"), "{}", r.all());
}

#[test]
fn resources_in_state_show_their_recorded_values() {
    let p = Project::with_main(CONFIG);
    p.apply(&[]);
    let state_before = p.read(".plinth/state.json");
    let id = p.id_of("settings");
    let r = console(
        &p,
        &[],
        "settings.output.name\nsettings.id\nsettings.output\nqueue\nqueue[1].output\nlength(queue)\napp\napp[\"prod\"].output.env\n[for a in app : a.output.env]\n",
    );
    r.code(0);
    let expected = format!(
        "\"demo-dev\"\n\"{id}\"\n{{\n  \"name\" = \"demo-dev\"\n  \"secret\" = (sensitive value)\n}}\n"
    );
    assert!(
        r.stdout.starts_with(&expected),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    // count: a list in index order; for_each: a map by key.
    let queue = p.id_of("queue[0]");
    assert!(
        r.stdout
            .contains(&format!("[\n  {{\n    \"id\" = \"{queue}\"")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\n\"q-1\"\n3\n{\n  \"dev\" = {\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("\"prod\"\n[\n  \"dev\",\n  \"prod\",\n]\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("hunter2"), "{}", r.stdout);
    // Read-only: the state is as apply left it.
    assert_eq!(p.read(".plinth/state.json"), state_before);
}

#[test]
fn a_declared_resource_not_yet_applied_is_known_after_apply() {
    let p = Project::with_main(CONFIG);
    let r = console(&p, &[], "settings.id\nqueue\napp[\"dev\"].output\n");
    r.code(0);
    assert_eq!(
        r.stdout,
        "(known after apply)\n(known after apply)\n(known after apply)\n"
    );
}

#[test]
fn an_undeclared_name_is_located_with_the_nearest_one() {
    let p = Project::with_main(CONFIG);
    let r = console(&p, &[], "upper(setings.id)\nlocal.nme\n1 + 1\n");
    // One failure makes the exit code 1; the expressions after it still run.
    r.code(1);
    assert_eq!(r.stdout, "2\n");
    r.stderr_has("unknown name `setings`")
        .stderr_has("<console>:1:7")
        .stderr_has("did you mean `settings`?")
        .stderr_has("did you mean `local.name`?");
}

#[test]
fn an_expression_may_go_on_over_several_lines() {
    let p = Project::with_main(CONFIG);
    let r = console(
        &p,
        &[],
        "[for e in var.envs :\n  upper(e)\n  if e != \"dev\"]\n{\n  a = 1\n}\nupper(\"still reading\")\n",
    );
    r.code(0);
    assert_eq!(
        r.stdout,
        "[\n  \"PROD\",\n]\n{\n  \"a\" = 1\n}\n\"STILL READING\"\n"
    );
}

#[test]
fn syntax_errors_point_at_the_typed_column() {
    let p = Project::with_main(CONFIG);
    let r = console(&p, &[], "[1, 2}\nupper(\"x\"\n");
    r.code(1);
    // The bracket is closed by the wrong character; the unclosed call runs out of input.
    r.stderr_has("<console>:1:6")
        .stderr_has("`[` at column 1 is never closed")
        .stderr_has("`(` at column 6 is never closed");
    assert_eq!(r.stdout, "");
}

#[test]
fn a_broken_local_is_an_error_where_it_is_used_pointing_into_the_configuration() {
    // A local that cannot be evaluated: the environment variable it reads is not set.
    let p = Project::with_main(&CONFIG.replace(
        "[locals]\n",
        "[locals]\nhome = \"${env.PLINTH_CONSOLE_TEST_UNSET}\"\n",
    ));
    let r = console(&p, &[], "local.home\nlocal.name\n");
    r.code(1);
    assert_eq!(r.stdout, "\"demo-dev\"\n");
    r.stderr_has("`local.home` cannot be evaluated")
        .stderr_has("PLINTH_CONSOLE_TEST_UNSET")
        .stderr_has("main.toml");
}

#[test]
fn a_configuration_with_errors_is_reported_and_the_console_exits() {
    let p = Project::with_main("[resource.a]\ntype = \"core:dat\"\n");
    let r = console(&p, &[], "1\n");
    r.code(1);
    r.stderr_has("main.toml");
    assert_eq!(r.stdout, "");
}

#[test]
fn exit_ends_the_session() {
    let p = Project::with_main(CONFIG);
    let r = console(&p, &[], "1\nexit\n2\n");
    r.code(0);
    assert_eq!(r.stdout, "1\n");
}

#[test]
fn the_console_works_while_another_run_holds_the_state_lock() {
    let p = Project::with_main(&format!(
        "{CONFIG}\n[resource.slow]\ntype = \"core:sleep\"\ncreate_duration = \"30s\"\ndepends_on = [\"settings\"]\n"
    ));
    let mut cmd = p.command();
    cmd.args(["apply", "--auto-approve", "--json"]);
    let holder = Background::start_until_started(cmd, "slow");
    // The apply recorded `settings` before it started the sleep, and holds the lock.
    let r = console(&p, &[], "settings.output.name\nslow.id\n");
    r.code(0);
    assert_eq!(r.stdout, "\"demo-dev\"\n(known after apply)\n");
    drop(holder);
}

#[test]
fn provider_functions_paths_and_files_the_configuration_reads() {
    let p = Project::with_main(&format!(
        "{CONFIG}\n[output.motd]\nvalue = \"${{file(\\\"motd.txt\\\")}}\"\n"
    ));
    p.write("motd.txt", "Welcome!\n");
    let r = console(
        &p,
        &[],
        "azure.role_definition_id(\"Azure Service Bus Data Owner\")\npath.module\ntrimspace(file(\"motd.txt\"))\nfile(\"other.txt\")\n",
    );
    r.code(1);
    assert_eq!(
        r.stdout,
        "\"/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419\"\n\".\"\n\"Welcome!\"\n",
        "{}",
        r.stderr
    );
    // Only the files the configuration names were read with it.
    r.stderr_has("`other.txt` is not a file the configuration reads")
        .stderr_has("<console>:1:6");
}
