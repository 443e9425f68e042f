//! Secrets never appear in output, logs, rendered plans or error messages (SPEC §3), at any
//! log level: every command and output format of a configuration with sensitive values, its
//! error paths, and the Azure credentials and tokens of a run on the simulated cloud, with
//! `PLINTH_LOG` off, at debug and at trace.

mod common;

use common::{Project, Run};

const SECRET: &str = "s3cr3t-Value-never-printed";
const LEVELS: &[&str] = &["", "debug", "trace"];

fn project() -> Project {
    Project::with_main(&format!(
        r#"
[variable.password]
default = "{SECRET}"
sensitive = true

[resource.db]
type = "core:data"
input = {{ user = "admin", password = "${{var.password}}" }}

[resource.pw]
type = "core:data"
input = "${{var.password}}"
triggers = {{ rotation = "${{var.password}}" }}

[output.user]
value = "${{db.output.user}}"

[output.password]
value = "${{pw.output}}"
sensitive = true
"#
    ))
}

#[track_caller]
fn assert_clean(runs: &[Run], secrets: &[&str]) {
    for r in runs {
        for s in secrets {
            assert!(
                !r.all().contains(s),
                "`plinth {}` printed a secret ({s}):\n{}",
                r.args.join(" "),
                r.all()
            );
        }
    }
}

fn at_level(p: &Project, args: &[&str], level: &str) -> Run {
    let r = p.run_env(args, &[("PLINTH_LOG", level), ("NO_COLOR", "1")]);
    assert!(
        !r.stderr.contains("panicked"),
        "plinth panicked:\n{}",
        r.all()
    );
    r
}

#[test]
fn every_command_and_format_at_every_log_level_keeps_secrets_out() {
    for level in LEVELS {
        let p = project();
        let mut runs = Vec::new();
        for args in [
            &["validate"][..],
            &["plan"],
            &["plan", "--json"],
            &["plan", "--out", "saved"],
            &["show", "saved"],
            &["show", "saved", "--format", "json"],
            &["show", "saved", "--format", "markdown"],
            &["show", "saved", "--format", "terraform-json"],
            &["graph"],
            &["apply", "saved"],
        ] {
            runs.push(at_level(&p, args, level));
        }
        // An update of the secret itself: its old and new values both stay hidden.
        p.edit("main.toml", SECRET, &format!("{SECRET}-rotated"));
        for args in [
            &["plan"][..],
            &["plan", "--out", "rotate"],
            &["show", "rotate", "--format", "markdown"],
            &["show", "rotate", "--format", "terraform-json"],
            &["apply", "--auto-approve", "--json"],
            &["show"],
            &["show", "--format", "json"],
            &["state", "list"],
            &["state", "show", "db"],
            &["state", "show", "pw", "--json"],
            &["output"],
            &["output", "--json"],
            &["output", "password"],
            &["plan", "--destroy", "--json"],
            &["destroy", "--auto-approve"],
        ] {
            runs.push(at_level(&p, args, level));
        }
        assert!(runs.iter().all(|r| r.code == 0), "a command failed");
        assert!(runs[1].stdout.contains("(sensitive)"));
        assert_clean(&runs, &[SECRET]);
        if level == &"trace" {
            // The logs were on: the test would prove nothing if nothing was logged.
            assert!(
                runs.iter()
                    .any(|r| r.stderr.contains("TRACE") || r.stderr.contains("DEBUG")),
                "no log lines at PLINTH_LOG=trace"
            );
        }
    }
}

#[test]
fn error_paths_do_not_echo_secrets() {
    let p = project();
    // A sensitive value where a duration is expected.
    p.write(
        "sleep.toml",
        "[resource.nap]\ntype = \"core:sleep\"\ncreate_duration = \"${var.password}\"\n",
    );
    // A sensitive variable given on the command line with the wrong type.
    p.write(
        "pin.toml",
        "[variable.pin]\ntype = \"number\"\nsensitive = true\n",
    );
    let mut runs = Vec::new();
    for level in LEVELS {
        runs.push(at_level(
            &p,
            &["plan", "--var", &format!("pin={SECRET}")],
            level,
        ));
        runs.push(at_level(
            &p,
            &["plan", "--json", "--var", &format!("pin={SECRET}")],
            level,
        ));
    }
    p.remove("pin.toml");
    for level in LEVELS {
        runs.push(at_level(&p, &["plan"], level));
        runs.push(at_level(&p, &["apply", "--auto-approve", "--json"], level));
    }
    assert!(runs.iter().all(|r| r.code == 1), "errors expected");
    assert_clean(&runs, &[SECRET]);
    // They still say what is wrong.
    assert!(runs[0].all().contains("pin"), "{}", runs[0].all());
    assert!(runs.last().unwrap().all().contains("is not a duration"));
}

#[test]
fn azure_credentials_and_tokens_stay_out_of_logs() {
    const CLIENT_SECRET: &str = "AzureClientSecret-k2Lq9";
    // Every token the simulated Entra endpoint issues starts with this JWT header.
    const TOKEN_PREFIX: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6InBsaW50aC1zaW0ifQ";
    let p = Project::with_main(
        r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "sec-rg"
location = "eastus"

[resource.mi]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${rg.id}"
name = "sec-mi"
location = "eastus"
"#,
    );
    let env = [
        ("PLINTH_LOG", "trace"),
        ("PLINTH_SIM_LATENCY", "instant"),
        ("ARM_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ARM_CLIENT_ID", "00000000-0000-0000-0000-00000000c1d0"),
        ("ARM_CLIENT_SECRET", CLIENT_SECRET),
    ];
    let mut runs = Vec::new();
    for args in [
        &["plan", "--sim"][..],
        &["apply", "--sim", "--auto-approve"],
        &["plan", "--sim", "--json"],
        &["destroy", "--sim", "--auto-approve"],
    ] {
        let r = p.run_env(args, &env);
        assert_eq!(r.code, 0, "{}", r.all());
        runs.push(r);
    }
    assert!(
        runs.iter().any(|r| r.stderr.contains("TRACE")),
        "no trace logs were written"
    );
    assert_clean(&runs, &[CLIENT_SECRET, TOKEN_PREFIX]);
}
