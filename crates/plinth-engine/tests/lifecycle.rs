//! Replacement order, drift, destroy and orphans.

use plinth_plan::{Action, PlanMode, ReplaceOrder};
use plinth_state::Status;
use plinth_testkit::*;
use serde_json::json;

fn replace_config(version: &str, cbd: bool) -> String {
    format!(
        r#"
[resource.x]
type = "fake:thing"
immutable = "{version}"
lifecycle = {{ create_before_destroy = {cbd} }}

[resource.y]
type = "fake:thing"
name = "y"
ref = "${{x.id}}"

[resource.z]
type = "fake:thing"
name = "z"
depends_on = ["x"]
"#
    )
}

#[tokio::test(start_paused = true)]
async fn create_before_destroy_creates_repoints_then_deletes_the_deposed_object() {
    let mut h = Harness::new(&replace_config("v1", true));
    h.up().await;
    let old_id = state_id(&h.state(), "x").unwrap();
    h.fake.clear_log();

    h.set_config(&replace_config("v2", true));
    let plan = h.plan().await;
    let x = plan.change("x").unwrap();
    assert_eq!(x.action, Action::Replace);
    assert_eq!(x.replace_order, Some(ReplaceOrder::CreateThenDelete));
    assert_eq!(x.replace_paths, vec![path("immutable")]);
    // y refers to x.id, which changes: it is updated. z only depends on x: no change.
    assert_eq!(action(&plan, "y"), Action::Update);
    assert_eq!(action(&plan, "z"), Action::NoOp);

    // Hold the deletion of the old object to look at state in between.
    let gate = h.fake.gate("x", Op::Delete);
    let fake = h.fake.clone();
    let backend = h.backend.clone();
    let (tx, rx) = tokio::sync::watch::channel(0u32);
    let old = old_id.clone();
    let (result, _) = h
        .apply_during(&plan, rx, async move {
            let old_id = old;
            fake.wait_started("x", Op::Delete).await;
            let mid = backend.current().unwrap();
            let deposed = &mid.resources["x (deposed)"];
            assert!(deposed.deposed);
            assert_eq!(deposed.id.as_deref(), Some(old_id.as_str()));
            assert_eq!(deposed.status, Status::PendingDelete);
            assert_eq!(mid.resources["x"].status, Status::Created);
            assert_ne!(mid.resources["x"].id.as_deref(), Some(old_id.as_str()));
            // Both objects exist at this point.
            assert!(fake.object(&old_id).is_some());
            gate.open();
            drop(tx);
        })
        .await;
    let report = result.unwrap();
    assert!(report.ok(), "{report:?}");

    let f = &h.fake;
    assert!(f.pos("x", Op::Create, false) < f.pos("x", Op::Delete, true));
    // The dependent is repointed before the deposed object goes.
    assert!(f.pos("y", Op::Update, false) < f.pos("x", Op::Delete, true));
    let state = h.state();
    let addrs: Vec<&str> = state.resources.keys().map(String::as_str).collect();
    assert_eq!(addrs, ["x", "y", "z"]);
    let new_id = state_id(&state, "x").unwrap();
    assert!(h.fake.object(&old_id).is_none());
    assert_eq!(h.fake.object("fake/y").unwrap()["ref"], json!(new_id));
    assert_eq!(h.fake.objects().len(), 3);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn replace_without_create_before_destroy_deletes_first() {
    let mut h = Harness::new(&replace_config("v1", false));
    h.up().await;
    let old_id = state_id(&h.state(), "x").unwrap();
    h.fake.clear_log();
    h.set_config(&replace_config("v2", false));
    let plan = h.plan().await;
    assert_eq!(
        plan.change("x").unwrap().replace_order,
        Some(ReplaceOrder::DeleteThenCreate)
    );
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    let f = &h.fake;
    assert!(f.pos("x", Op::Delete, false) < f.pos("x", Op::Create, true));
    assert!(f.pos("x", Op::Create, false) < f.pos("y", Op::Update, true));
    assert!(h.fake.object(&old_id).is_none());
    let state = h.state();
    assert_eq!(state.resources.len(), 3);
    assert!(!state.resources.contains_key("x (deposed)"));
    h.assert_converged().await;
}

/// A failed create of a create_before_destroy replacement leaves the old object in place,
/// and the next run still creates the new object before deleting the old one.
#[tokio::test(start_paused = true)]
async fn failed_create_before_destroy_keeps_the_old_object_until_a_new_one_exists() {
    let mut h = Harness::new(&replace_config("v1", true));
    h.up().await;
    let old_id = state_id(&h.state(), "x").unwrap();
    h.set_config(&replace_config("v2", true));
    h.fake.fail("x", Op::Create, "boom");
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1);
    assert!(h.fake.object(&old_id).is_some(), "the old object is kept");
    let state = h.state();
    // Nothing new exists, so the old object is still the current one.
    assert_eq!(state_id(&state, "x").as_deref(), Some(old_id.as_str()));

    h.fake.clear_failures();
    h.fake.clear_log();
    let plan = h.plan().await;
    assert_eq!(action(&plan, "x"), Action::Replace);
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    let f = &h.fake;
    assert!(f.pos("x", Op::Create, false) < f.pos("x", Op::Delete, true));
    assert!(h.fake.object(&old_id).is_none());
    assert_eq!(h.state().resources.len(), 3);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn drift_is_planned_back_and_reported() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
value = "declared"

[resource.b]
type = "fake:thing"
name = "b"
"#,
    );
    h.up().await;
    h.fake.mutate("fake/a", "value", json!("changed by hand"));
    // Service-added fields are never a diff.
    h.fake
        .mutate("fake/b", "extra", json!("added by the service"));

    let plan = h.plan().await;
    let a = plan.change("a").unwrap();
    assert_eq!(a.action, Action::Update);
    assert!(a.drift);
    assert_eq!(a.changed_paths, vec![path("value")]);
    assert_eq!(action(&plan, "b"), Action::NoOp);
    let d = plan.drift.iter().find(|d| d.address == "a").unwrap();
    assert_eq!(d.action, Action::Update);
    assert!(!d.reconciled);
    assert_eq!(d.changed_paths, vec![path("value")]);
    let report = h.apply(&plan).await;
    assert!(report.ok());
    assert_eq!(h.fake.object("fake/a").unwrap()["value"], json!("declared"));
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn an_object_deleted_outside_is_recreated() {
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
    h.up().await;
    h.fake.remove("fake/a");
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::Create);
    // b's reference is to an unchanged arn (same planned id) but it is unknown at plan time.
    assert_eq!(action(&plan, "b"), Action::Update);
    let d = plan.drift.iter().find(|d| d.address == "a").unwrap();
    assert_eq!(d.action, Action::Delete);
    assert!(!d.reconciled);
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    assert!(h.fake.object("fake/a").is_some());
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn refresh_only_records_drift_without_changing_objects() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
value = "declared"

[resource.gone]
type = "fake:thing"
name = "gone"
"#,
    );
    h.up().await;
    h.fake.mutate("fake/a", "value", json!("by hand"));
    h.fake.remove("fake/gone");
    h.fake.clear_log();

    let plan = h.plan_mode(PlanMode::RefreshOnly).await;
    assert!(plan.changes.is_empty());
    assert_eq!(plan.drift.len(), 2);
    let report = h.apply(&plan).await;
    assert!(report.ok());
    assert!(h.fake.log().is_empty(), "no object was touched");
    assert_eq!(h.fake.object("fake/a").unwrap()["value"], json!("by hand"));
    let state = h.state();
    assert_eq!(state.resources["a"].attributes["value"], json!("by hand"));
    assert!(!state.resources.contains_key("gone"));

    // A normal plan still wants to put it back; the drift is now in state, so it is not
    // reported again by refresh.
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::Update);
    assert!(plan.change("a").unwrap().drift);
    assert_eq!(action(&plan, "gone"), Action::Create);
    assert!(plan.drift.is_empty());
}

const CHAIN: &str = r#"
[resource.a]
type = "fake:thing"
name = "a"
sleep_ms = 30

[resource.b]
type = "fake:thing"
name = "b"
ref = "${a.id}"
sleep_ms = 20

[resource.c]
type = "fake:thing"
name = "c"
ref = "${b.id}"
sleep_ms = 10

[resource.d]
type = "fake:thing"
name = "d"
sleep_ms = 5
"#;

#[tokio::test(start_paused = true)]
async fn destroy_deletes_in_reverse_dependency_order() {
    let h = Harness::new(CHAIN);
    h.up().await;
    h.fake.clear_log();
    let plan = h.plan_mode(PlanMode::Destroy).await;
    assert_eq!(plan.summary().destroy, 4);
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    let f = &h.fake;
    assert!(f.pos("c", Op::Delete, false) < f.pos("b", Op::Delete, true));
    assert!(f.pos("b", Op::Delete, false) < f.pos("a", Op::Delete, true));
    // Independent deletes run concurrently.
    assert!(f.pos("d", Op::Delete, true) < f.pos("c", Op::Delete, false));
    assert!(h.fake.objects().is_empty());
    assert!(h.state().resources.is_empty());
    // Destroying again is a no-op.
    let plan = h.plan_mode(PlanMode::Destroy).await;
    assert!(!plan.has_changes());
}

#[tokio::test(start_paused = true)]
async fn destroy_refuses_prevent_destroy() {
    let mut h = Harness::new(CHAIN);
    h.up().await;
    h.set_config(&CHAIN.replace(
        "name = \"a\"\n",
        "name = \"a\"\nlifecycle = { prevent_destroy = true }\n",
    ));
    let err = h
        .try_plan_with(plinth_engine::PlanOptions {
            mode: PlanMode::Destroy,
            ..Default::default()
        })
        .await
        .unwrap_err();
    let text = h.render(&err);
    assert!(text.contains("`a` has lifecycle.prevent_destroy"), "{text}");
    // A replacement is refused too.
    h.set_config(&CHAIN.replace(
        "name = \"a\"\n",
        "name = \"a\"\nimmutable = 2\nlifecycle = { prevent_destroy = true }\n",
    ));
    let err = h.try_plan_with(Default::default()).await.unwrap_err();
    assert!(h.render(&err).contains("would replace it"));
    assert_eq!(h.fake.objects().len(), 4, "nothing was deleted");
}

#[tokio::test(start_paused = true)]
async fn orphans_are_deleted_after_their_dependents() {
    let mut h = Harness::new(CHAIN);
    h.up().await;
    h.fake.clear_log();
    // b and c leave the configuration; c depended on b.
    h.set_config(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
sleep_ms = 30

[resource.d]
type = "fake:thing"
name = "d"
sleep_ms = 5
"#,
    );
    let plan = h.plan().await;
    assert_eq!(action(&plan, "b"), Action::Delete);
    assert_eq!(action(&plan, "c"), Action::Delete);
    assert_eq!(
        plan.change("b").unwrap().reason.as_deref(),
        Some("not in the configuration")
    );
    let report = h.apply(&plan).await;
    assert!(report.ok());
    let f = &h.fake;
    assert!(f.pos("c", Op::Delete, false) < f.pos("b", Op::Delete, true));
    assert_eq!(h.fake.count(Op::Delete), 2);
    let state = h.state();
    let addrs: Vec<&str> = state.resources.keys().map(String::as_str).collect();
    assert_eq!(addrs, ["a", "d"]);
    h.assert_converged().await;
}

/// An object that leaves the configuration is deleted only after the resources that
/// referred to it have been updated to stop referring to it.
#[tokio::test(start_paused = true)]
async fn an_orphan_is_deleted_after_its_former_dependents_are_updated() {
    let mut h = Harness::new(
        r#"
[resource.old]
type = "fake:thing"
name = "old"

[resource.user]
type = "fake:thing"
name = "user"
ref = "${old.id}"
sleep_ms = 50
"#,
    );
    h.up().await;
    h.fake.clear_log();
    h.set_config(
        r#"
[resource.user]
type = "fake:thing"
name = "user"
ref = "elsewhere"
sleep_ms = 50
"#,
    );
    let plan = h.plan().await;
    assert_eq!(action(&plan, "old"), Action::Delete);
    assert_eq!(action(&plan, "user"), Action::Update);
    let report = h.apply(&plan).await;
    assert!(report.ok());
    let f = &h.fake;
    assert!(
        f.pos("user", Op::Update, false) < f.pos("old", Op::Delete, true),
        "{:#?}",
        f.log()
    );
    h.assert_converged().await;
}

/// Regression: deleting a data source's record (destroy, or the data source leaving the
/// configuration) must only forget the read; it must never ask the provider to delete the
/// object that was read.
#[tokio::test(start_paused = true)]
async fn data_sources_are_forgotten_not_deleted() {
    let mut h = Harness::new(
        r#"
[data.info]
type = "fake:reader"
query = "fake/a"

[resource.a]
type = "fake:thing"
name = "a"
ref = "${data.info.result}"

[data.other]
type = "fake:reader"
query = "q"
"#,
    );
    h.up().await;
    assert!(h.state().resources.contains_key("data.info"));
    assert!(h.state().resources.contains_key("data.other"));
    h.fake.clear_log();

    // data.other leaves the configuration.
    h.set_config(
        r#"
[data.info]
type = "fake:reader"
query = "fake/a"

[resource.a]
type = "fake:thing"
name = "a"
ref = "${data.info.result}"
"#,
    );
    let plan = h.plan().await;
    assert_eq!(action(&plan, "data.other"), Action::Delete);
    assert!(h.apply(&plan).await.ok());
    assert!(!h.state().resources.contains_key("data.other"));
    assert_eq!(h.fake.count(Op::Delete), 0, "{:#?}", h.fake.log());

    let plan = h.plan_mode(PlanMode::Destroy).await;
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(h.fake.started(Op::Delete), ["a"], "only the managed object");
    assert!(h.state().resources.is_empty());
}

/// A create_before_destroy replacement whose create failed after its pending record (with
/// a planned id) was written leaves `x (deposed)` behind. The next run must still create the
/// new object, and repoint dependents, before deleting the deposed one.
#[tokio::test(start_paused = true)]
async fn a_deposed_object_left_by_an_earlier_run_goes_after_its_replacement_exists() {
    let config = |name: &str, version: &str| {
        format!(
            r#"
[resource.x]
type = "fake:thing"
name = "{name}"
immutable = "{version}"
lifecycle = {{ create_before_destroy = true }}

[resource.y]
type = "fake:thing"
name = "y"
ref = "${{x.id}}"
"#
        )
    };
    let mut h = Harness::new(&config("x1", "v1"));
    h.up().await;
    h.set_config(&config("x2", "v2"));
    h.fake.fail("x", Op::Create, "boom");
    let plan = h.plan().await;
    assert_eq!(action(&plan, "x"), Action::Replace);
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1);
    let state = h.state();
    assert_eq!(state.resources["x"].status, Status::PendingCreate);
    assert_eq!(state.resources["x"].id.as_deref(), Some("fake/x2"));
    assert!(state.resources["x (deposed)"].deposed);
    assert!(h.fake.object("fake/x1").is_some());

    h.fake.clear_failures();
    h.fake.clear_log();
    let plan = h.plan().await;
    assert_eq!(action(&plan, "x"), Action::Create);
    assert_eq!(action(&plan, "x (deposed)"), Action::Delete);
    assert_eq!(action(&plan, "y"), Action::Update);
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    let f = &h.fake;
    assert!(f.pos("x", Op::Create, false) < f.pos("x (deposed)", Op::Delete, true));
    assert!(f.pos("y", Op::Update, false) < f.pos("x (deposed)", Op::Delete, true));
    assert!(h.fake.object("fake/x1").is_none());
    assert_eq!(h.fake.object("fake/y").unwrap()["ref"], json!("fake/x2"));
    let state = h.state();
    let addrs: Vec<&str> = state.resources.keys().map(String::as_str).collect();
    assert_eq!(addrs, ["x", "y"]);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_deposed_delete_is_retried_by_the_next_run() {
    let mut h = Harness::new(&replace_config("v1", true));
    h.up().await;
    let old_id = state_id(&h.state(), "x").unwrap();
    h.set_config(&replace_config("v2", true));
    h.fake.fail("x", Op::Delete, "Conflict: in use");
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].action, "delete");
    let state = h.state();
    assert_eq!(state.resources["x (deposed)"].status, Status::Created);
    assert_eq!(
        state.resources["x (deposed)"].id.as_deref(),
        Some(old_id.as_str())
    );
    assert_ne!(state_id(&state, "x").as_deref(), Some(old_id.as_str()));

    h.fake.clear_failures();
    let plan = h.plan().await;
    assert_eq!(action(&plan, "x (deposed)"), Action::Delete);
    assert_eq!(action(&plan, "x"), Action::NoOp);
    assert!(h.apply(&plan).await.ok());
    assert!(h.fake.object(&old_id).is_none());
    assert_eq!(h.state().resources.len(), 3);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn replace_triggered_by_replaces_when_the_trigger_changes() {
    let config = |v: u32| {
        format!(
            r#"
[resource.trigger]
type = "fake:thing"
name = "trigger"
value = {v}

[resource.follower]
type = "fake:thing"
lifecycle = {{ replace_triggered_by = ["trigger"] }}
"#
        )
    };
    let mut h = Harness::new(&config(1));
    h.up().await;
    let old = state_id(&h.state(), "follower").unwrap();
    h.set_config(&config(2));
    let plan = h.plan().await;
    assert_eq!(action(&plan, "trigger"), Action::Update);
    assert_eq!(action(&plan, "follower"), Action::Replace);
    assert!(h.apply(&plan).await.ok());
    assert!(h.fake.object(&old).is_none());
    assert_ne!(state_id(&h.state(), "follower"), Some(old));
    h.assert_converged().await;
}

/// `ignore_changes` ignores differences between the configuration and the object as it
/// is, including changes made outside plinth (the reason it exists: a field another system
/// manages must not be reverted).
#[tokio::test(start_paused = true)]
async fn ignore_changes_ignores_configuration_changes_and_drift() {
    let config = |v: &str, other: &str| {
        format!(
            r#"
[resource.a]
type = "fake:thing"
name = "a"
value = "{v}"
other = "{other}"
lifecycle = {{ ignore_changes = ["value"] }}
"#
        )
    };
    let mut h = Harness::new(&config("declared", "o1"));
    h.up().await;
    // A configuration change of an ignored path is no change.
    h.set_config(&config("new", "o1"));
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::NoOp);
    // A change made outside to an ignored path is no change either.
    h.fake.mutate("fake/a", "value", json!("set by autoscaler"));
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::NoOp, "{:?}", plan.change("a"));
    // An update of another path keeps the ignored value as it is.
    h.set_config(&config("new", "o2"));
    let plan = h.plan().await;
    let a = plan.change("a").unwrap();
    assert_eq!(a.action, Action::Update);
    assert_eq!(a.changed_paths, vec![path("other")]);
    assert!(h.apply(&plan).await.ok());
    let obj = h.fake.object("fake/a").unwrap();
    assert_eq!(obj["other"], json!("o2"));
    assert_eq!(obj["value"], json!("set by autoscaler"));
    h.assert_converged().await;
}

/// The old object of a create_before_destroy replacement still refers to what it depended
/// on: an orphan it referred to is deleted only after that old object is gone.
#[tokio::test(start_paused = true)]
async fn an_orphan_outlives_the_deposed_object_that_referred_to_it() {
    let mut h = Harness::new(
        r#"
[resource.old]
type = "fake:thing"
name = "old"

[resource.user]
type = "fake:thing"
immutable = "${old.id}"
lifecycle = { create_before_destroy = true }
"#,
    );
    h.up().await;
    h.fake.clear_log();
    h.set_config(
        r#"
[resource.user]
type = "fake:thing"
immutable = "standalone"
lifecycle = { create_before_destroy = true }
"#,
    );
    let plan = h.plan().await;
    assert_eq!(action(&plan, "user"), Action::Replace);
    assert_eq!(action(&plan, "old"), Action::Delete);
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    let f = &h.fake;
    assert!(f.pos("user", Op::Create, false) < f.pos("user", Op::Delete, true));
    assert!(
        f.pos("user", Op::Delete, false) < f.pos("old", Op::Delete, true),
        "{:#?}",
        f.log()
    );
    assert_eq!(h.fake.objects().len(), 1);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn drift_lists_what_the_configuration_sets_including_list_elements_added_outside() {
    let h = Harness::new(
        r#"
[resource.x]
type = "fake:thing"
name = "x"
rules = ["a"]
"#,
    );
    h.up().await;
    let id = state_id(&h.state(), "x").unwrap();
    // Outside plinth: an element is added to a configured list, and an attribute the
    // configuration does not set changes (the service's own business).
    h.fake.mutate(&id, "rules", json!(["a", "b"]));
    h.fake.mutate(&id, "etag", json!("changed-by-the-service"));
    let plan = h.plan().await;
    let d = plan
        .drift
        .iter()
        .find(|d| d.address == "x")
        .expect("drift of x");
    let paths: Vec<String> = d.changed_paths.iter().map(|p| p.to_string()).collect();
    // A list whose length changes is reported as the list (the configuration sets it).
    assert_eq!(paths, vec!["rules".to_string()]);
    assert!(d.is_reportable());
    assert_eq!(action(&plan, "x"), Action::Update);

    // Only the service's attribute changes: recorded, not reported.
    h.apply(&plan).await;
    h.fake.mutate(&id, "etag", json!("changed-again"));
    let plan = h.plan().await;
    assert!(
        plan.drift.iter().all(|d| !d.is_reportable()),
        "{:?}",
        plan.drift
    );
    assert_eq!(action(&plan, "x"), Action::NoOp);
}
