//! Failure isolation and reconciliation of pending records.

use plinth_plan::Action;
use plinth_state::{MemoryBackend, ResourceState, State, Status};
use plinth_testkit::*;
use serde_json::json;

const TREE: &str = r#"
[resource.root1]
type = "fake:thing"
name = "r1"

[resource.child1]
type = "fake:thing"
name = "c1"
ref = "${root1.id}"

[resource.grandchild1]
type = "fake:thing"
name = "g1"
depends_on = ["child1"]

[resource.root2]
type = "fake:thing"
value = "no planned id"

[resource.child2]
type = "fake:thing"
ref = "${root2.arn}"

[resource.indep]
type = "fake:thing"
name = "indep"

[resource.indep_child]
type = "fake:thing"
name = "indep-child"
ref = "${indep.id}"
"#;

#[tokio::test(start_paused = true)]
async fn a_failure_skips_only_its_dependents_and_every_failure_is_reported() {
    let h = Harness::new(TREE);
    h.fake
        .fail("root1", Op::Create, "QuotaExceeded: no more r1");
    h.fake
        .fail("root2", Op::Create, "InvalidThing: root2 is wrong");
    let plan = h.plan().await;
    let report = h.apply(&plan).await;

    // Both independent failures are listed, with the provider's messages.
    let mut failed: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.address.as_str(), f.action.as_str()))
        .collect();
    failed.sort();
    assert_eq!(failed, [("root1", "create"), ("root2", "create")]);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.message.contains("QuotaExceeded: no more r1"))
    );
    assert!(!report.ok());

    // Exactly the transitive dependents are skipped.
    let mut skipped: Vec<&str> = report.skipped.iter().map(|(a, _)| a.as_str()).collect();
    skipped.sort();
    assert_eq!(skipped, ["child1", "child2", "grandchild1"]);
    assert!(
        report
            .skipped
            .iter()
            .any(|(a, why)| a == "grandchild1" && why.contains("failed"))
    );

    // The independent branch finished.
    assert_eq!(report.succeeded, 2);
    assert_eq!(h.fake.count(Op::Create), 4);
    assert!(h.fake.object("fake/indep").is_some());
    assert!(h.fake.object("fake/indep-child").is_some());
    assert_eq!(h.fake.objects().len(), 2);

    // State reflects exactly what happened.
    let state = h.state();
    let addrs: Vec<&str> = state.resources.keys().map(String::as_str).collect();
    assert_eq!(addrs, ["indep", "indep_child", "root1"]);
    assert_eq!(state.resources["indep"].status, Status::Created);
    // root1 had a planned id: its pending record stays for the next run to settle.
    assert_eq!(state.resources["root1"].status, Status::PendingCreate);
    assert_eq!(state.resources["root1"].id.as_deref(), Some("fake/r1"));

    // A new plan plans the failed ones (and their dependents) again.
    let plan = h.plan().await;
    for a in ["root1", "child1", "grandchild1", "root2", "child2"] {
        assert_eq!(action(&plan, a), Action::Create, "{a}");
    }
    assert_eq!(action(&plan, "indep"), Action::NoOp);
    assert_eq!(action(&plan, "indep_child"), Action::NoOp);
    assert!(
        plan.drift
            .iter()
            .any(|d| d.address == "root1" && d.reconciled && d.action == Action::Delete)
    );

    h.fake.clear_failures();
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(h.fake.objects().len(), 7);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn failed_update_and_delete_keep_the_old_record() {
    let mut h = Harness::new(
        r#"
[resource.u]
type = "fake:thing"
name = "u"
value = 1

[resource.gone]
type = "fake:thing"
name = "gone"
"#,
    );
    h.up().await;
    let before = h.state();
    h.set_config(
        r#"
[resource.u]
type = "fake:thing"
name = "u"
value = 2
"#,
    );
    h.fake.fail("u", Op::Update, "Conflict: busy");
    h.fake.fail("gone", Op::Delete, "Conflict: locked");
    let plan = h.plan().await;
    assert_eq!(action(&plan, "u"), Action::Update);
    assert_eq!(action(&plan, "gone"), Action::Delete);
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 2, "{report:?}");
    let state = h.state();
    assert_eq!(state.resources["u"], before.resources["u"]);
    assert_eq!(state.resources["gone"].status, Status::Created);
    assert_eq!(state.resources["gone"].id, before.resources["gone"].id);
    assert_eq!(h.fake.object("fake/u").unwrap()["value"], json!(1));
    assert!(h.fake.object("fake/gone").is_some());

    let plan = h.plan().await;
    assert_eq!(action(&plan, "u"), Action::Update);
    assert_eq!(action(&plan, "gone"), Action::Delete);
    h.fake.clear_failures();
    assert!(h.apply(&plan).await.ok());
    assert_eq!(h.fake.object("fake/u").unwrap()["value"], json!(2));
    assert!(h.fake.object("fake/gone").is_none());
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_create_that_took_effect_but_failed_is_adopted_not_duplicated() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"

[resource.b]
type = "fake:thing"
name = "b"
ref = "${a.arn}"
"#,
    );
    h.fake
        .fail_after_effect("a", Op::Create, "GatewayTimeout: lost the answer");
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.skipped.len(), 1);
    assert!(h.fake.object("fake/a").is_some(), "the create took effect");
    assert_eq!(h.state().resources["a"].status, Status::PendingCreate);

    h.fake.clear_failures();
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::NoOp, "adopted, not re-created");
    assert_eq!(action(&plan, "b"), Action::Create);
    assert!(
        plan.drift
            .iter()
            .any(|d| d.address == "a" && d.reconciled && d.action == Action::Update)
    );
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(h.fake.count(Op::Create), 2, "a was sent once, b once");
    let state = h.state();
    assert_eq!(state.resources["a"].status, Status::Created);
    assert_eq!(
        h.fake.object("fake/b").unwrap()["ref"],
        json!("arn:fake:fake/a")
    );
    h.assert_converged().await;
}

fn pending(address: &str, id: Option<&str>, status: Status) -> ResourceState {
    ResourceState {
        address: address.into(),
        type_name: "fake:thing".into(),
        mode: plinth_state::DeclKind::Resource,
        id: id.map(str::to_string),
        inputs: serde_json::Value::Null,
        attributes: serde_json::Value::Null,
        dependencies: vec![],
        sensitive_paths: vec![],
        status,
        deposed: false,
        settings: None,
    }
}

#[tokio::test(start_paused = true)]
async fn pending_records_are_reconciled_by_the_next_plan() {
    let mut h = Harness::new(
        r#"
[resource.exists]
type = "fake:thing"
name = "exists"

[resource.missing]
type = "fake:thing"
name = "missing"

[resource.noid]
type = "fake:thing"
value = 3
"#,
    );
    // A crash left: a create sent and done (object exists), a create recorded but never
    // sent (object missing), a create without a known id, a delete done (object gone), and
    // a delete recorded but not done (object still there).
    h.fake.insert(
        "fake/exists",
        json!({"name": "exists", "id": "fake/exists", "arn": "arn:fake:fake/exists", "token": "t"}),
    );
    h.fake.insert(
        "fake/old-still-there",
        json!({"name": "old-still-there", "id": "fake/old-still-there"}),
    );
    let mut state = State::new();
    for r in [
        pending("exists", Some("fake/exists"), Status::PendingCreate),
        pending("missing", Some("fake/missing"), Status::PendingCreate),
        pending("noid", None, Status::PendingCreate),
        pending("old_gone", Some("fake/old-gone"), Status::PendingDelete),
        pending(
            "old_there",
            Some("fake/old-still-there"),
            Status::PendingDelete,
        ),
    ] {
        state.resources.insert(r.address.clone(), r);
    }
    h.backend = MemoryBackend::with_state(state);

    let plan = h.plan().await;
    assert_eq!(action(&plan, "exists"), Action::NoOp);
    assert_eq!(action(&plan, "missing"), Action::Create);
    assert_eq!(action(&plan, "noid"), Action::Create);
    assert!(plan.change("old_gone").is_none(), "nothing left to delete");
    assert_eq!(action(&plan, "old_there"), Action::Delete);
    let reconciled: Vec<&str> = plan
        .drift
        .iter()
        .filter(|d| d.reconciled)
        .map(|d| d.address.as_str())
        .collect();
    assert_eq!(
        reconciled,
        ["exists", "missing", "noid", "old_gone", "old_there"]
    );

    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(h.fake.started(Op::Create), ["missing", "noid"]);
    assert_eq!(h.fake.started(Op::Delete), ["old_there"]);
    let state = h.state();
    let addrs: Vec<&str> = state.resources.keys().map(String::as_str).collect();
    assert_eq!(addrs, ["exists", "missing", "noid"]);
    assert!(
        state
            .resources
            .values()
            .all(|r| r.status == Status::Created)
    );
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_crash_between_sending_and_recording_is_reconciled() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
"#,
    );
    let plan = h.plan().await;
    // The pending record is written; recording the result fails (the process "dies").
    h.backend.fail_records_after(Some(1));
    let result = h.try_apply(&plan).await;
    assert!(result.is_err(), "a state write failure stops apply");
    h.backend.fail_records_after(None);
    assert!(h.fake.object("fake/a").is_some());
    assert_eq!(h.state().resources["a"].status, Status::PendingCreate);

    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::NoOp);
    h.apply(&plan).await;
    assert_eq!(h.fake.count(Op::Create), 1, "no duplicate create");
    assert_eq!(h.state().resources["a"].status, Status::Created);
    h.assert_converged().await;

    // Same for a delete: the pending-delete record is written, the delete happens, and
    // recording its removal fails.
    h.backend.fail_records_after(Some(1));
    let plan = h.plan_mode(plinth_plan::PlanMode::Destroy).await;
    assert!(h.try_apply(&plan).await.is_err());
    h.backend.fail_records_after(None);
    assert!(h.fake.object("fake/a").is_none());
    assert_eq!(h.state().resources["a"].status, Status::PendingDelete);
    let plan = h.plan_mode(plinth_plan::PlanMode::Destroy).await;
    assert!(plan.change("a").is_none(), "{:?}", plan.changes);
    h.apply(&plan).await;
    assert!(h.state().resources.is_empty());
    assert_eq!(h.fake.count(Op::Delete), 1);
}

#[tokio::test(start_paused = true)]
async fn a_service_error_that_echoes_a_secret_is_scrubbed_from_reports_and_history() {
    let h = Harness::new(
        r#"
[variable.token]
default = "tok-0123456789"
sensitive = true

[resource.a]
type = "fake:thing"
name = "a"
value = "${var.token}"
"#,
    );
    h.fake.fail(
        "a",
        Op::Create,
        "InvalidValue: 'tok-0123456789' is not an accepted value",
    );
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1);
    let message = &report.failures[0].message;
    assert!(!message.contains("tok-0123456789"), "{message}");
    assert!(
        message.contains("InvalidValue: '(sensitive)' is not an accepted value"),
        "{message}"
    );
}

/// Issue 12, item 18: a delete the service accepted whose wait then failed (an ARM delete
/// whose long-running operation poll failed) may still take effect: the record stays
/// `pending_delete` — not `created` — and the next run settles it by reading what exists.
#[tokio::test(start_paused = true)]
async fn a_delete_accepted_then_failed_stays_pending_delete_until_settled() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
"#,
    );
    h.up().await;
    h.fake.fail_after_effect(
        "a",
        Op::Delete,
        "polling the delete failed: 500 InternalServerError",
    );
    let plan = h.plan_mode(plinth_plan::PlanMode::Destroy).await;
    let report = h.apply(&plan).await;
    assert!(!report.ok(), "the failure is reported");
    assert_eq!(h.state().resources["a"].status, Status::PendingDelete);
    h.fake.clear_failures();
    // The object is gone: the next plan settles the record without deleting again.
    let plan = h.plan_mode(plinth_plan::PlanMode::Destroy).await;
    assert!(plan.change("a").is_none(), "{:?}", plan.changes);
    h.apply(&plan).await;
    assert!(h.state().resources.is_empty());
    assert_eq!(h.fake.count(Op::Delete), 1, "no second delete");
}
