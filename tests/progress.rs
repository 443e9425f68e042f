//! What apply and destroy say while they work, piped (a CI log): a line when each operation
//! starts and finishes, "still creating (Ns elapsed)" while a slow one runs, retries
//! without their detail, and a final line that counts what actually ran.

mod common;

use common::sim::Sim;
use common::{Project, Run};

/// The simulator's profile that answers at once (no operation takes time).
const INSTANT: (&str, &str) = ("PLINTH_SIM_LATENCY", "instant");

/// Index of the first stderr line that contains `needle`; panics with the output when none.
#[track_caller]
fn line_of(run: &Run, needle: &str) -> usize {
    run.stderr
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line has {needle:?}:\n{}", run.stderr))
}

#[test]
fn flagship_apply_and_destroy_report_every_operation_and_count_what_ran() {
    let p = Project::flagship();
    let apply = p.run_env(&["apply", "--sim", "--auto-approve"], &[INSTANT]);
    apply.code(0);
    // The count comes from what ran: 13 objects and the operator's restart.
    apply.stdout_has(
        "Apply complete! Resources: 13 added, 0 changed, 0 replaced, 0 destroyed. 1 action ran.",
    );
    // Every operation says when it starts and when it finished, in that order.
    for address in ["rg", "aks", "queue", "module.workload.fic_keda"] {
        let started = line_of(&apply, &format!("{address}: creating..."));
        let finished = line_of(&apply, &format!("{address}: created after "));
        assert!(started < finished, "{address}:\n{}", apply.stderr);
    }
    line_of(&apply, "module.workload.action.restart_keda: ran after ");
    // Piped: no live view, no colour, and no provider detail (URLs, ARM's whole message).
    assert!(!apply.stderr.contains('\x1b'), "{}", apply.stderr);
    assert!(
        !apply
            .stderr
            .lines()
            .any(|l| l.contains("https://") && !l.starts_with("Using the simulated cloud at")),
        "{}",
        apply.stderr
    );
    // A retried operation says so at most once.
    for line in apply.stderr.lines().filter(|l| l.contains("retrying")) {
        let address = line.split(": ").next().unwrap_or_default();
        let retries = apply
            .stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{address}: ")) && l.contains("retrying"))
            .count();
        assert_eq!(retries, 1, "{address} retried:\n{}", apply.stderr);
    }

    let destroy = p.run_env(&["destroy", "--sim", "--auto-approve"], &[INSTANT]);
    destroy.code(0);
    destroy.stdout_has("Destroy complete! Resources: 13 destroyed.");
    let started = line_of(&destroy, "aks: destroying...");
    let finished = line_of(&destroy, "aks: destroyed after ");
    assert!(started < finished, "{}", destroy.stderr);
}

#[test]
fn a_slow_operation_says_it_is_still_running_while_finished_ones_are_reported() {
    let p = Project::with_main(
        r#"
[resource.slow]
type = "core:sleep"
create_duration = "3s"

[resource.fast]
type = "core:data"
input = "x"
"#,
    );
    // Every second rather than every 30 s, so that the test needs only a 3 s operation.
    let apply = p.run_env(
        &["apply", "--auto-approve"],
        &[("PLINTH_PROGRESS_EVERY", "1s")],
    );
    apply.code(0);
    apply.stdout_has("Apply complete! Resources: 2 added, 0 changed, 0 replaced, 0 destroyed.");
    let fast_done = line_of(&apply, "fast: created after ");
    let first_still = line_of(&apply, "slow: still creating (");
    let slow_done = line_of(&apply, "slow: created after 3.");
    // The fast object is reported done while the slow one runs, not when it ends.
    assert!(
        fast_done < first_still && first_still < slow_done,
        "{}",
        apply.stderr
    );
    // Each "still" line says a longer elapsed time than the one before, from 1 s on.
    let elapsed: Vec<u64> = apply
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("slow: still creating ("))
        .map(|rest| {
            rest.strip_suffix("s elapsed)")
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad still line {rest:?}"))
        })
        .collect();
    assert!(
        elapsed[0] >= 1 && elapsed.windows(2).all(|w| w[0] < w[1]),
        "{elapsed:?}\n{}",
        apply.stderr
    );
}

#[test]
fn a_bad_interval_is_a_warning_that_names_the_fix() {
    let p = Project::with_main("[resource.a]\ntype = \"core:data\"\ninput = \"x\"\n");
    let apply = p.run_env(
        &["apply", "--auto-approve"],
        &[("PLINTH_PROGRESS_EVERY", "often")],
    );
    apply
        .code(0)
        .stderr_has("Warning: PLINTH_PROGRESS_EVERY is `often`, not a duration of at least 1s (e.g. `10s`, `1m`)");
}

#[test]
fn a_replacement_counts_once_and_json_carries_the_counts() {
    let p = Project::with_main(
        "[resource.a]\ntype = \"core:data\"\ninput = \"x\"\n\n[resource.b]\ntype = \"core:data\"\ninput = \"${a.output}\"\n",
    );
    p.ok(&["apply", "--auto-approve"]);
    let replaced = p.ok(&["apply", "--auto-approve", "--replace", "b"]);
    replaced.stdout_has("Apply complete! Resources: 0 added, 0 changed, 1 replaced, 0 destroyed.");
    line_of(&replaced, "b: destroyed after ");
    line_of(&replaced, "b: created after ");

    let json = p.apply(&["--replace", "b"]);
    let done = json
        .events()
        .into_iter()
        .find(|e| e["type"] == "apply_complete")
        .expect("apply_complete");
    assert_eq!(
        done["resources"],
        serde_json::json!({"added": 0, "changed": 0, "replaced": 1, "destroyed": 0, "actions_ran": 0}),
        "{}",
        json.all()
    );
}

#[test]
fn a_failed_apply_says_how_many_succeeded_failed_and_were_skipped() {
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
    let r = p.fails(&["apply", "--auto-approve"]);
    r.stderr_has("Apply failed: 1 operation failed, 2 succeeded, 1 skipped:")
        .stderr_has("bad: create FAILED after ")
        .stderr_has("after_bad: create skipped (`bad` failed)")
        .stderr_has(
            "What succeeded is recorded in state (Resources: 2 added, 0 changed, 0 replaced, 0 destroyed). Fix the failures and run again.",
        );
}

#[test]
fn retries_show_one_short_line_per_operation_and_their_detail_only_in_json() {
    // A simulated cloud that fails 30% of ARM requests transiently (429, 500, 503, dropped),
    // the same way on every run (fixed seed).
    let p = Project::flagship();
    let world = p.dir.parent().unwrap().join("world.json");
    let sim = Sim::start_args(
        &world,
        &["--latency", "instant", "--faults", "0.3", "--seed", "7"],
    );
    let text = p.sim_run(&sim, &["apply", "--auto-approve"]);
    text.code(0);
    let retried: Vec<&str> = text
        .stderr
        .lines()
        .filter(|l| l.contains("retrying in"))
        .collect();
    assert!(!retried.is_empty(), "no retry shown:\n{}", text.stderr);
    // Within one operation (from its start line to its finish line), at most one line.
    let lines: Vec<&str> = text.stderr.lines().collect();
    let mut shown = 0;
    for (i, l) in lines.iter().enumerate() {
        let Some(address) = l.strip_suffix(": creating...") else {
            continue;
        };
        let prefix = format!("{address}: ");
        let during = lines[i..]
            .iter()
            .take_while(|l| !l.starts_with(&format!("{address}: created after")))
            .filter(|l| l.starts_with(&prefix) && l.contains("retrying in"))
            .count();
        assert!(
            during <= 1,
            "{address} retried on {during} lines:\n{}",
            text.stderr
        );
        shown += during;
    }
    for line in &retried {
        assert!(
            line.len() < 120 && !line.contains("http"),
            "a retry line is short and has no URL: {line}"
        );
    }
    // An operation retried more than once says how often on its finish line.
    let counted = text
        .stderr
        .lines()
        .filter(|l| l.contains(" created after ") && l.ends_with(" retries)"))
        .count();
    let notes_in_json = {
        let again = Project::flagship();
        let world = again.dir.parent().unwrap().join("world.json");
        let sim = Sim::start_args(
            &world,
            &["--latency", "instant", "--faults", "0.3", "--seed", "7"],
        );
        let json = again.sim_run(&sim, &["apply", "--auto-approve", "--json"]);
        json.code(0);
        sim.stop();
        json.events()
            .into_iter()
            .filter(|e| e["type"] == "note")
            .collect::<Vec<_>>()
    };
    assert!(!notes_in_json.is_empty());
    // `--json` has every note, each with the whole story.
    assert!(notes_in_json.len() >= shown + counted, "{notes_in_json:#?}");
    for n in &notes_in_json {
        let detail = n["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("attempt"), "{n}");
    }
    sim.stop();
}
