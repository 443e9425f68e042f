//! Implicit moves: adding `count` to a resource keeps its object as `NAME[0]`, removing
//! `count` keeps `NAME[0]` as `NAME`; never for `for_each`, data sources or deposed objects.
//! Apply renames the record (state only, before any operation); a stale move is refused.

use plinth_engine::{Address, EngineError, PlanOptions, check_state};
use plinth_plan::{Action, Plan, PlanMode};
use plinth_state::{Backend, Change};
use plinth_testkit::*;

fn single(extra: &str) -> String {
    format!("[resource.x]\ntype = \"fake:thing\"\n{extra}input = \"one\"\n")
}

/// The changes that do something or move, as `(address, action, moved_from)`.
fn planned(plan: &Plan) -> Vec<(String, Action, Option<String>)> {
    let mut out: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_change() || c.moved_from.is_some())
        .map(|c| (c.address.clone(), c.action, c.moved_from.clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn entry(address: &str, action: Action, from: Option<&str>) -> (String, Action, Option<String>) {
    (address.into(), action, from.map(String::from))
}

fn addresses(h: &Harness) -> Vec<String> {
    h.state().resources.keys().cloned().collect()
}

#[tokio::test(start_paused = true)]
async fn adding_count_moves_the_object_to_index_zero_and_creates_only_the_rest() {
    let mut h = Harness::new(&single(""));
    h.up().await;
    let id = state_id(&h.state(), "x").unwrap();
    h.fake.clear_log();

    h.set_config(&single("count = 2\n"));
    let plan = h.plan().await;
    assert_eq!(
        planned(&plan),
        vec![
            entry("x[0]", Action::NoOp, Some("x")),
            entry("x[1]", Action::Create, None),
        ]
    );
    assert_eq!(plan.summary().moved, 1);
    assert!(plan.has_changes());
    h.apply_ok(&plan).await;
    // One create (x[1]); the object of x was neither deleted nor created again.
    assert_eq!(h.fake.count(Op::Create), 1);
    assert_eq!(h.fake.count(Op::Delete), 0);
    assert_eq!(addresses(&h), vec!["x[0]", "x[1]"]);
    assert_eq!(state_id(&h.state(), "x[0]"), Some(id.clone()));
    assert_eq!(h.state().resources["x[0]"].address, "x[0]");
    assert!(h.fake.object(&id).is_some());
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn removing_count_moves_index_zero_back_and_deletes_the_others() {
    let mut h = Harness::new(&single("count = 3\n"));
    h.up().await;
    let id0 = state_id(&h.state(), "x[0]").unwrap();
    h.fake.clear_log();

    h.set_config(&single(""));
    let plan = h.plan().await;
    assert_eq!(
        planned(&plan),
        vec![
            entry("x", Action::NoOp, Some("x[0]")),
            entry("x[1]", Action::Delete, None),
            entry("x[2]", Action::Delete, None),
        ]
    );
    h.apply_ok(&plan).await;
    assert_eq!(h.fake.count(Op::Create), 0);
    assert_eq!(h.fake.count(Op::Delete), 2);
    assert_eq!(addresses(&h), vec!["x"]);
    assert_eq!(state_id(&h.state(), "x"), Some(id0));
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_moved_object_gets_its_normal_diff_at_the_new_address() {
    let mut h = Harness::new(&single(""));
    h.up().await;
    let id = state_id(&h.state(), "x").unwrap();
    h.fake.clear_log();

    h.set_config(&single("count = 1\n").replace("\"one\"", "\"two\""));
    let plan = h.plan().await;
    assert_eq!(
        planned(&plan),
        vec![entry("x[0]", Action::Update, Some("x"))]
    );
    let x0 = plan.change("x[0]").unwrap();
    assert_eq!(x0.changed_paths, vec![path("input")]);
    h.apply_ok(&plan).await;
    // The update reached the same object, at its new address.
    assert_eq!(h.fake.started(Op::Update), vec!["x[0]".to_string()]);
    assert_eq!(state_id(&h.state(), "x[0]"), Some(id.clone()));
    assert_eq!(h.fake.object(&id).unwrap()["input"], "two");
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn count_zero_moves_then_deletes_the_object() {
    let mut h = Harness::new(&single(""));
    h.up().await;
    h.set_config(&single("count = 0\n"));
    let plan = h.plan().await;
    assert_eq!(
        planned(&plan),
        vec![entry("x[0]", Action::Delete, Some("x"))]
    );
    h.apply_ok(&plan).await;
    assert_eq!(h.fake.count(Op::Delete), 1);
    assert!(addresses(&h).is_empty());
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn for_each_data_sources_and_taken_addresses_do_not_move() {
    // for_each: the single object is deleted and the keyed ones created (no move).
    let mut h = Harness::new(&single(""));
    h.up().await;
    h.set_config(&single("for_each = [\"a\"]\n"));
    let plan = h.plan().await;
    assert_eq!(
        planned(&plan),
        vec![
            entry("x", Action::Delete, None),
            entry("x[\"a\"]", Action::Create, None),
        ]
    );

    // A data source is read again at its new address; the old record is forgotten.
    let reader = "[data.d]\ntype = \"fake:reader\"\nquery = \"q\"\n";
    let mut h = Harness::new(reader);
    h.up().await;
    h.set_config(&reader.replace("query", "count = 1\nquery"));
    let plan = h.plan().await;
    assert!(
        plan.changes.iter().all(|c| c.moved_from.is_none()),
        "{plan:#?}"
    );
    assert_eq!(
        plan.change("data.d").map(|c| c.action),
        Some(Action::Delete)
    );

    // State already holds both `x` and `x[0]`: nothing moves, `x` goes.
    let mut h = Harness::new(&single("count = 1\n"));
    h.up().await;
    let x0 = h.state().resources["x[0]"].clone();
    let mut writer = h.backend.open_writer(h.state()).unwrap();
    let mut x = x0.clone();
    x.address = "x".into();
    x.id = Some("fake/other".into());
    writer.record(Change::Put(Box::new(x))).unwrap();
    h.fake
        .insert("fake/other", serde_json::json!({"input": "one"}));
    drop(writer);
    h.set_config(&single("count = 1\n"));
    let plan = h.plan().await;
    assert_eq!(planned(&plan), vec![entry("x", Action::Delete, None)]);
}

#[tokio::test(start_paused = true)]
async fn a_targeted_plan_of_the_new_address_records_the_move() {
    let mut h = Harness::new(&format!(
        "{}\n[resource.y]\ntype = \"fake:thing\"\ninput = \"y\"\n",
        single("")
    ));
    h.up().await;
    let id = state_id(&h.state(), "x").unwrap();
    h.set_config(&format!(
        "{}\n[resource.y]\ntype = \"fake:thing\"\ninput = \"y2\"\n",
        single("count = 2\n")
    ));
    let plan = h
        .plan_with(PlanOptions {
            targets: vec!["x[0]".parse::<Address>().unwrap()],
            parallelism: 4,
            ..Default::default()
        })
        .await;
    assert_eq!(planned(&plan), vec![entry("x[0]", Action::NoOp, Some("x"))]);
    h.apply_ok(&plan).await;
    assert_eq!(addresses(&h), vec!["x[0]", "y"]);
    assert_eq!(state_id(&h.state(), "x[0]"), Some(id));
    // The rest follows in the next plan.
    let plan = h.plan().await;
    assert_eq!(
        planned(&plan),
        vec![
            entry("x[1]", Action::Create, None),
            entry("y", Action::Update, None),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_saved_move_is_refused_once_someone_else_moved_the_record() {
    let mut h = Harness::new(&single(""));
    h.up().await;
    h.set_config(&single("count = 2\n"));
    let plan = h.plan().await;
    assert_eq!(plan.summary().moved, 1);

    // Someone else (`plinth state mv`, another apply) moves the record first.
    let mut writer = h.backend.open_writer(h.state()).unwrap();
    writer
        .record(Change::Move {
            from: "x".into(),
            to: "x[0]".into(),
        })
        .unwrap();
    drop(writer);

    // The serial check refuses the saved plan ...
    assert!(check_state(&plan, Some(&h.state())).is_err());
    // ... and apply itself writes nothing for a move state no longer allows.
    let serial = h.state().serial;
    match h.try_apply(&plan).await {
        Err(EngineError::Config(d)) => {
            let text = h.render(&d);
            assert!(text.contains("moves `x` to `x[0]`"), "{text}");
            assert!(text.contains("plan` again"), "{text}");
        }
        other => panic!("expected the move to be refused, got {other:?}"),
    }
    assert_eq!(h.state().serial, serial);
    assert_eq!(addresses(&h), vec!["x[0]"]);
}

#[tokio::test(start_paused = true)]
async fn a_destroy_plan_deletes_where_the_record_is() {
    let mut h = Harness::new(&single(""));
    h.up().await;
    h.set_config(&single("count = 2\n"));
    let plan = h.plan_mode(PlanMode::Destroy).await;
    assert_eq!(planned(&plan), vec![entry("x", Action::Delete, None)]);
}
