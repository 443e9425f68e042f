//! `scripts/real-azure-smoke.sh`, the smoke test of the flagship on a real subscription, run
//! against the simulator so that it cannot rot. With `--sim` (HTTPS with the simulator's CA,
//! `instant` latency) the whole guide passes and the report says so; its Azure mode (ARM_*
//! credentials) passes against the simulator as a custom cloud, and stops before creating
//! anything when a planned name is one Azure refuses. A verification step that fails, and a
//! run stopped by SIGTERM, still destroy everything (the simulator's inventory is empty
//! afterwards); without credentials it refuses to start and names them. The script is
//! shellcheck-clean.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::sim::{Sim, require_kubectl};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    repo().join("scripts/real-azure-smoke.sh")
}

/// `bash scripts/real-azure-smoke.sh ARGS --plinth BIN` in `tmp`, with an environment that
/// does not leak from the developer's shell: no PLINTH_* but the instant latency, no ARM_* or
/// AZURE_* credentials, its temp dirs under `tmp`.
fn smoke(tmp: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .args(args)
        .arg("--plinth")
        .arg(common::plinth_bin())
        .current_dir(tmp);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("PLINTH_") || k.starts_with("ARM_") || k.starts_with("AZURE_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env("PLINTH_SIM_LATENCY", "instant")
        .env("TMPDIR", tmp)
        .env("NO_COLOR", "1")
        .env_remove("KUBECTL");
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The report's status of `step` (`PASS`, `FAIL`, `WARN`, `SKIP`), from its line
/// `STATUS  STEP  TIME ...`.
fn status<'a>(report: &'a str, step: &str) -> Option<&'a str> {
    report.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        let status = words.next()?;
        (words.next()? == step && ["PASS", "FAIL", "WARN", "SKIP"].contains(&status))
            .then_some(status)
    })
}

#[track_caller]
fn assert_status(report: &str, step: &str, want: &[&str]) {
    let got = status(report, step);
    assert!(
        got.is_some_and(|s| want.contains(&s)),
        "step {step}: {got:?}, wanted one of {want:?}\n{report}"
    );
}

/// The temp dirs the script left under `tmp` (it removes its own when all went well).
fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.starts_with("plinth-smoke-").then_some(name)
        })
        .collect()
}

#[test]
fn smoke_script_passes_the_guide_on_the_simulator_and_cleans_up() {
    require_kubectl();
    let tmp = tempfile::tempdir().unwrap();
    let out = smoke(tmp.path(), &["--sim", "--prefix", "smokeok1"])
        .output()
        .expect("run bash");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let report = String::from_utf8_lossy(&out.stdout);
    for step in [
        "preflight",
        "apply",
        "kubeconfig",
        "scaledjob",
        "keda-env",
        "destroy",
        "nothing-left",
    ] {
        assert_status(&report, step, &["PASS"]);
    }
    // The flagship's names all follow Azure's naming rules.
    assert_status(&report, "names", &["PASS"]);
    assert!(report.contains("RESULT: PASS"), "{all}");
    assert!(
        report.contains("prefix smokeok1, simulator https://127.0.0.1:"),
        "{all}"
    );
    // The run worked in a copy of the example in its own temp dir, removed at the end.
    assert!(
        report.contains(&format!("temp dir {}", tmp.path().display())),
        "{all}"
    );
    assert!(leftovers(tmp.path()).is_empty(), "{all}");
}

#[test]
fn smoke_script_destroys_everything_when_a_verification_step_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start(&tmp.path().join("world.json"));
    // kubectl that reaches nothing: every kubectl step fails, after the apply.
    let out = smoke(
        tmp.path(),
        &["--sim-url", &sim.url, "--prefix", "smokefail"],
    )
    .env("KUBECTL", "false")
    .output()
    .expect("run bash");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_status(&report, "apply", &["PASS"]);
    assert_status(&report, "kubeconfig", &["FAIL"]);
    assert_status(&report, "scaledjob", &["SKIP"]);
    assert_status(&report, "keda-env", &["SKIP"]);
    assert_status(&report, "destroy", &["PASS"]);
    assert_status(&report, "nothing-left", &["PASS"]);
    assert!(
        report.contains("RESULT: FAIL (1 of 8 steps failed)"),
        "{all}"
    );
    assert!(!report.contains("may be left"), "{all}");
    // The logs of a failed run are kept, and the sim holds nothing any more.
    assert_eq!(leftovers(tmp.path()).len(), 1, "{all}");
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{all}");
    sim.stop();
}

#[test]
fn smoke_script_destroys_everything_when_terminated() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start(&tmp.path().join("world.json"));
    let mut child = smoke(
        tmp.path(),
        &["--sim-url", &sim.url, "--prefix", "smoketerm"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("run bash");
    // The explicit readiness: the script announces the apply step once it may create things.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "the script ended before its apply step:\n{seen}");
        seen.push_str(&line);
        if line.starts_with("... apply") {
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    stdout.read_to_string(&mut seen).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let exit = child.wait().unwrap();
    let all = format!("exit: {exit}\n{seen}\n--- stderr ---\n{err}");
    assert_eq!(exit.code(), Some(1), "{all}");
    assert!(
        err.contains("terminated; destroying what was created"),
        "{all}"
    );
    assert!(
        seen.contains("RESULT: FAIL (stopped by SIGTERM during "),
        "{all}"
    );
    assert_status(&seen, "destroy", &["PASS"]);
    assert_status(&seen, "nothing-left", &["PASS"]);
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{all}");
    sim.stop();
}

/// A copy of the flagship in `tmp/flagship` whose Service Bus namespace is called `sb_name`
/// (`${var.prefix}...`), the rest unchanged.
fn flagship_with_namespace(tmp: &Path, sb_name: &str) -> PathBuf {
    let dir = tmp.join("flagship");
    let copy = Command::new("cp")
        .arg("-R")
        .arg(repo().join("examples/aks-keda-workload-identity"))
        .arg(&dir)
        .status()
        .unwrap();
    assert!(copy.success());
    let _ = std::fs::remove_dir_all(dir.join(".plinth"));
    let file = dir.join("servicebus.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let flagship = "name = \"${var.prefix}-sbns\"";
    assert!(
        text.contains(flagship),
        "servicebus.toml has no {flagship}:\n{text}"
    );
    let renamed = text.replacen(flagship, &format!("name = \"{sb_name}\""), 1);
    std::fs::write(&file, renamed).unwrap();
    dir
}

/// The script's Azure mode (credentials from ARM_*, no --sim) against the simulator as a
/// custom cloud: ARM_ENDPOINT and ARM_AUTHORITY_HOST name it.
fn smoke_as_azure(tmp: &Path, sim: &Sim, args: &[&str]) -> Command {
    let mut cmd = smoke(tmp, args);
    cmd.env("ARM_ENDPOINT", &sim.url)
        .env("ARM_AUTHORITY_HOST", &sim.url)
        .env(
            "ARM_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000000",
        )
        .env("ARM_TENANT_ID", "11111111-2222-3333-4444-555555555555")
        .env("ARM_CLIENT_ID", "plinth")
        .env("ARM_CLIENT_SECRET", "plinth-sim");
    cmd
}

#[test]
fn smoke_script_azure_mode_passes_against_the_simulator_as_a_custom_cloud() {
    require_kubectl();
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start(&tmp.path().join("world.json"));
    let out = smoke_as_azure(tmp.path(), &sim, &["--prefix", "smokeaz"])
        .output()
        .expect("run bash");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let report = String::from_utf8_lossy(&out.stdout);
    for step in [
        "preflight",
        "names",
        "apply",
        "kubeconfig",
        "scaledjob",
        "keda-env",
        "destroy",
        "nothing-left",
    ] {
        assert_status(&report, step, &["PASS"]);
    }
    assert!(
        report.contains("prefix smokeaz, subscription 00000000-0000-0000-0000-000000000000"),
        "{all}"
    );
    // The client secret never reaches the output.
    assert!(!all.contains("plinth-sim"), "{all}");
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{all}");
    sim.stop();
}

#[test]
fn smoke_script_azure_mode_stops_before_creating_names_azure_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = Sim::start(&tmp.path().join("world.json"));
    // Service Bus reserves the ending -sb: `plinth validate` (in preflight) refuses it.
    let config = flagship_with_namespace(tmp.path(), "${var.prefix}-sb");
    let out = smoke_as_azure(tmp.path(), &sim, &["--prefix", "smokename"])
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run bash");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_status(&report, "preflight", &["FAIL"]);
    assert_status(&report, "apply", &["SKIP"]);
    assert!(
        all.contains("\"smokename-sb\" is not a valid name for Microsoft.ServiceBus/namespaces")
            && all.contains("rename it, e.g. to \"smokename-sbns\""),
        "{all}"
    );
    // Nothing was created, so nothing was destroyed.
    assert_eq!(status(&report, "destroy"), None, "{all}");
    assert_eq!(sim.inventory(), Vec::<String>::new(), "{all}");
    sim.stop();
}

#[test]
fn smoke_script_without_credentials_names_them_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = smoke(tmp.path(), &[]).output().expect("run bash");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ARM_SUBSCRIPTION_ID ARM_TENANT_ID ARM_CLIENT_ID ARM_CLIENT_SECRET not set"),
        "{all}"
    );
    assert!(err.contains("--sim"), "{all}");
    // An invalid prefix is refused before anything runs, with the rule.
    let out = smoke(tmp.path(), &["--sim", "--prefix", "Bad_Prefix"])
        .output()
        .expect("run bash");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3-16 lowercase letters and digits"),
        "{}",
        text(&out)
    );
}

#[test]
fn smoke_script_is_shellcheck_clean() {
    let steps = repo().join("scripts/real-azure-smoke-steps.sh");
    let shellcheck = Command::new("shellcheck").arg("--version").output();
    let runs: Vec<Output> = if shellcheck.is_ok_and(|o| o.status.success()) {
        // -x: the script with the steps it sources.
        vec![
            Command::new("shellcheck")
                .arg("-x")
                .arg(script())
                .output()
                .unwrap(),
        ]
    } else {
        eprintln!("shellcheck is not installed (apt-get install shellcheck): checking syntax only");
        [script(), steps]
            .iter()
            .map(|f| Command::new("bash").arg("-n").arg(f).output().unwrap())
            .collect()
    };
    for out in runs {
        assert!(out.status.success(), "{}", text(&out));
    }
}
