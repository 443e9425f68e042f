//! Apply scheduling: parallelism, critical-path priority, serialisation keys, interrupts.

use std::time::Duration;

use plinth_engine::Event;
use plinth_state::Status;
use plinth_testkit::*;
use tokio::sync::watch;

fn independent(n: usize, extra: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[resource.r{i}]\ntype = \"fake:thing\"\nname = \"r{i}\"\nsleep_ms = 100\n{extra}\n"
            )
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn parallelism_bounds_operations_in_flight() {
    let mut h = Harness::new(&independent(7, ""));
    h.parallelism = 3;
    let (plan, report) = h.up().await;
    assert_eq!(plan.summary().add, 7);
    assert_eq!(report.succeeded, 7);
    assert_eq!(h.fake.max_in_flight(), 3, "exactly N operations overlap");
    assert_eq!(h.fake.objects().len(), 7);
    assert_eq!(h.state().resources.len(), 7);
    assert!(
        h.state()
            .resources
            .values()
            .all(|r| r.status == Status::Created)
    );
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn immediate_operations_do_not_count_against_parallelism() {
    // 40 core:data objects (immediate: state only) beside 6 slow fake objects: the fake
    // ones still run at most 3 at once, and the core ones do not wait for a free slot.
    let core: String = (0..40)
        .map(|i| format!("[resource.d{i}]\ntype = \"core:data\"\ninput = {{ n = {i} }}\n"))
        .collect();
    let mut h = Harness::new(&format!("{}{core}", independent(6, "")));
    h.parallelism = 3;
    let (plan, report) = h.up().await;
    assert_eq!(plan.summary().add, 46);
    assert_eq!(report.succeeded, 46, "{report:?}");
    assert_eq!(
        h.fake.max_in_flight(),
        3,
        "the parallelism still bounds the others"
    );
    assert_eq!(h.state().resources.len(), 46);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn independent_nodes_overlap() {
    let h = Harness::new(&independent(5, ""));
    h.up().await;
    assert_eq!(h.fake.max_in_flight(), 5);
    // Every create started before the first one finished.
    let log = h.fake.log();
    let first_finish = log
        .iter()
        .position(|e| matches!(e.phase, Phase::Finish { .. }))
        .unwrap();
    assert_eq!(first_finish, 5, "{log:#?}");
}

#[tokio::test(start_paused = true)]
async fn parallelism_one_serialises() {
    let mut h = Harness::new(&independent(4, ""));
    h.parallelism = 1;
    h.up().await;
    assert_eq!(h.fake.max_in_flight(), 1);
    // Strict alternation start, finish, start, finish...
    for (i, e) in h.fake.log().iter().enumerate() {
        assert_eq!(
            e.phase == Phase::Start,
            i % 2 == 0,
            "not serial: {:#?}",
            h.fake.log()
        );
    }
    // Parallelism 0 is treated as 1.
    let mut h0 = Harness::new(&independent(3, ""));
    h0.parallelism = 0;
    h0.up().await;
    assert_eq!(h0.fake.max_in_flight(), 1);
}

#[tokio::test(start_paused = true)]
async fn dependencies_finish_before_dependents_start() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
sleep_ms = 50

[resource.b]
type = "fake:thing"
name = "b"
ref = "${a.id}"

[resource.c]
type = "fake:thing"
name = "c"
depends_on = ["b"]
"#,
    );
    h.up().await;
    let f = &h.fake;
    assert!(f.pos("a", Op::Create, false) < f.pos("b", Op::Create, true));
    assert!(f.pos("b", Op::Create, false) < f.pos("c", Op::Create, true));
}

#[tokio::test(start_paused = true)]
async fn longest_critical_path_starts_first() {
    // `b` is declared first (smaller id, so it would win a tie), is short and has nothing
    // behind it; `a` is short but heads a chain of long operations.
    let mut h = Harness::new(
        r#"
[resource.b]
type = "fake:thing"
name = "b"
est_ms = 10

[resource.a]
type = "fake:thing"
name = "a"
est_ms = 10

[resource.a2]
type = "fake:thing"
name = "a2"
est_ms = 5000
depends_on = ["a"]

[resource.a3]
type = "fake:thing"
name = "a3"
est_ms = 5000
depends_on = ["a2"]
"#,
    );
    h.parallelism = 1;
    h.up().await;
    assert_eq!(h.fake.started(Op::Create), ["a", "a2", "a3", "b"]);

    // Control: without the chain behind `a`, the tie goes to the smaller id (`b`).
    let mut h = Harness::new(
        r#"
[resource.b]
type = "fake:thing"
name = "b"
est_ms = 10

[resource.a]
type = "fake:thing"
name = "a"
est_ms = 10
"#,
    );
    h.parallelism = 1;
    h.up().await;
    assert_eq!(h.fake.started(Op::Create), ["b", "a"]);
}

#[tokio::test(start_paused = true)]
async fn serialisation_keys_never_overlap() {
    let mut toml = String::new();
    for i in 0..4 {
        toml.push_str(&format!(
            "[resource.g1_{i}]\ntype = \"fake:thing\"\nname = \"g1-{i}\"\ngroup = \"g1\"\nsleep_ms = 100\n\n\
             [resource.g2_{i}]\ntype = \"fake:thing\"\nname = \"g2-{i}\"\ngroup = \"g2\"\nsleep_ms = 100\n\n"
        ));
    }
    toml.push_str(&independent(2, ""));
    let h = Harness::new(&toml);
    let (_, report) = h.up().await;
    assert_eq!(report.succeeded, 10);
    assert_eq!(h.fake.max_in_flight_for("group:g1"), 1);
    assert_eq!(h.fake.max_in_flight_for("group:g2"), 1);
    // Different keys (and unkeyed operations) do overlap.
    assert_eq!(h.fake.max_in_flight(), 4);
    h.assert_converged().await;

    // Deletes are keyed by the inputs the object was created with.
    h.fake.reset_counters();
    let plan = h.plan_mode(plinth_plan::PlanMode::Destroy).await;
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(h.fake.count(Op::Delete), 10);
    assert_eq!(h.fake.max_in_flight_for("group:g1"), 1);
    assert_eq!(h.fake.max_in_flight_for("group:g2"), 1);
    assert!(h.fake.objects().is_empty());
    assert!(h.state().resources.is_empty());
}

#[tokio::test(start_paused = true)]
async fn serialisation_keys_with_parallelism_one_and_failures() {
    // A keyed operation that fails frees its key for the next one.
    let mut toml = String::new();
    for i in 0..3 {
        toml.push_str(&format!(
            "[resource.k{i}]\ntype = \"fake:thing\"\nname = \"k{i}\"\ngroup = \"g\"\nsleep_ms = 10\n\n"
        ));
    }
    let mut h = Harness::new(&toml);
    h.fake.fail("k0", Op::Create, "boom");
    h.parallelism = 2;
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.succeeded, 2);
    assert_eq!(h.fake.max_in_flight_for("group:g"), 1);
}

fn interrupt_config() -> &'static str {
    r#"
[resource.a]
type = "fake:thing"
name = "a"

[resource.b]
type = "fake:thing"
name = "b"
ref = "${a.id}"

[resource.c]
type = "fake:thing"
name = "c"

[resource.d]
type = "fake:thing"
name = "d"
depends_on = ["c"]
"#
}

#[tokio::test(start_paused = true)]
async fn first_interrupt_lets_running_work_finish_and_starts_nothing_new() {
    let h = Harness::new(interrupt_config());
    let ga = h.fake.gate("a", Op::Create);
    let gc = h.fake.gate("c", Op::Create);
    let plan = h.plan().await;
    let (tx, rx) = watch::channel(0u32);
    let fake = h.fake.clone();
    let (result, events) = h
        .apply_during(&plan, rx, async move {
            fake.wait_started("a", Op::Create).await;
            fake.wait_started("c", Op::Create).await;
            tx.send(1).unwrap();
            tokio::task::yield_now().await;
            ga.open();
            gc.open();
            // Keep the sender alive until apply is done.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(tx);
        })
        .await;
    let report = result.expect("apply");
    assert_eq!(report.interrupts, 1);
    assert!(report.abandoned.is_empty());
    assert_eq!(report.succeeded, 2, "{report:?}");
    let mut skipped = report.skipped.clone();
    skipped.sort();
    assert_eq!(
        skipped,
        vec![
            ("b".to_string(), "interrupted".to_string()),
            ("d".to_string(), "interrupted".to_string())
        ]
    );
    assert_eq!(h.fake.started(Op::Create).len(), 2, "nothing new started");
    let state = h.state();
    assert_eq!(state.resources["a"].status, Status::Created);
    assert_eq!(state.resources["c"].status, Status::Created);
    assert!(!state.resources.contains_key("b"));
    let ev = events.0.lock().unwrap().clone();
    assert!(ev.contains(&Event::Interrupted { second: false }));
    assert!(ev.iter().any(|e| matches!(e, Event::OpSkipped { address, reason, .. } if address == "b" && reason == "interrupted")));

    // The next run finishes the job.
    let (plan, _) = h.up().await;
    assert_eq!(plan.summary().add, 2);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn second_interrupt_abandons_running_work_leaving_it_pending() {
    let h = Harness::new(interrupt_config());
    let ga = h.fake.gate("a", Op::Create);
    let gc = h.fake.gate("c", Op::Create);
    let plan = h.plan().await;
    let (tx, rx) = watch::channel(0u32);
    let fake = h.fake.clone();
    let (result, events) = h
        .apply_during(&plan, rx, async move {
            fake.wait_started("a", Op::Create).await;
            fake.wait_started("c", Op::Create).await;
            tx.send(1).unwrap();
            tokio::task::yield_now().await;
            // `c` finishes after the first interrupt; `a` hangs.
            gc.open();
            fake.wait_until(|log| {
                log.iter()
                    .any(|e| e.address == "c" && matches!(e.phase, Phase::Finish { .. }))
            })
            .await;
            tokio::task::yield_now().await;
            tx.send(2).unwrap();
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(tx);
        })
        .await;
    let report = result.expect("apply");
    assert_eq!(report.interrupts, 2);
    assert_eq!(report.abandoned, vec!["a".to_string()]);
    assert_eq!(report.succeeded, 1);
    let state = h.state();
    assert_eq!(state.resources["a"].status, Status::PendingCreate);
    assert_eq!(state.resources["a"].id.as_deref(), Some("fake/a"));
    assert_eq!(state.resources["c"].status, Status::Created);
    assert!(!state.resources.contains_key("b"));
    assert!(!state.resources.contains_key("d"));
    assert!(
        events
            .0
            .lock()
            .unwrap()
            .contains(&Event::Interrupted { second: true })
    );
    // The abandoned task is gone (its in-flight guard dropped).
    tokio::task::yield_now().await;
    assert_eq!(h.fake.in_flight(), 0);

    // The next plan settles the pending record: the create never happened, so it is
    // planned again (and b, d follow).
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), plinth_plan::Action::Create);
    assert!(plan.drift.iter().any(|d| d.address == "a" && d.reconciled));
    ga.open();
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    h.assert_converged().await;
}

/// Regression: an interrupt while an operation waited for a busy serialisation key left the
/// coordinator waiting forever once the key was freed (the waiter moved to `ready_again`,
/// which blocked the loop's exit condition while nothing could ever start it).
#[tokio::test(start_paused = true)]
async fn interrupt_with_operations_queued_on_a_key_terminates() {
    let h = Harness::new(
        r#"
[resource.x]
type = "fake:thing"
name = "x"
group = "g"

[resource.y]
type = "fake:thing"
name = "y"
group = "g"
"#,
    );
    let gx = h.fake.gate("x", Op::Create);
    let gy = h.fake.gate("y", Op::Create);
    let plan = h.plan().await;
    let (tx, rx) = watch::channel(0u32);
    let fake = h.fake.clone();
    let run = h.apply_during(&plan, rx, async move {
        fake.wait_until(|log| !log.is_empty()).await;
        tx.send(1).unwrap();
        tokio::task::yield_now().await;
        gx.open();
        gy.open();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(tx);
    });
    let (result, _) = tokio::time::timeout(Duration::from_secs(7200), run)
        .await
        .expect("apply must terminate after an interrupt");
    let report = result.expect("apply");
    assert_eq!(report.interrupts, 1);
    assert_eq!(report.succeeded, 1);
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert_eq!(report.skipped[0].1, "interrupted");
    assert_eq!(h.fake.count(Op::Create), 1);
}

/// Regression: when the interrupt sender goes away (no more Ctrl-Cs can come), the
/// coordinator must keep waiting for its operations rather than spin on the closed channel.
#[tokio::test(start_paused = true)]
async fn closed_interrupt_channel_does_not_starve_operations() {
    let h = Harness::new(&independent(3, ""));
    let plan = h.plan().await;
    let (tx, rx) = watch::channel(0u32);
    drop(tx);
    let run = h.apply_during(&plan, rx, async {});
    let (result, _) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("apply must finish");
    let report = result.expect("apply");
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.succeeded, 3);
}
