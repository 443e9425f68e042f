//! Batched reads: objects a provider reads from one collection (equal `batch_key`s) are
//! handed to `read_batch` together, during refresh and the plan's existence checks, and the
//! plan is the one per-object reads make.

use plinth_engine::PlanOptions;
use plinth_plan::{Action, Plan};
use plinth_testkit::*;
use serde_json::json;

const CONFIG: &str = r#"
[resource.a1]
type = "fake:thing"
name = "a1"
collection = "a"
tag = "v1"

[resource.a2]
type = "fake:thing"
name = "a2"
collection = "a"
tag = "v1"

[resource.a3]
type = "fake:thing"
name = "a3"
collection = "a"
tag = "v1"

[resource.b1]
type = "fake:thing"
name = "b1"
collection = "b"

[resource.b2]
type = "fake:thing"
name = "b2"
collection = "b"

[resource.alone]
type = "fake:thing"
name = "alone"
"#;

fn per_object() -> PlanOptions {
    PlanOptions {
        per_object_reads: true,
        ..Default::default()
    }
}

/// What a reviewer sees of a plan: its changes and drift, as JSON.
fn seen(plan: &Plan) -> serde_json::Value {
    json!({
        "changes": serde_json::to_value(&plan.changes).unwrap(),
        "drift": serde_json::to_value(&plan.drift).unwrap(),
    })
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

#[tokio::test]
async fn creates_in_one_collection_are_checked_for_existing_objects_in_one_batch() {
    let h = Harness::new(CONFIG);
    let plan = h.plan().await;
    assert_eq!(sorted(h.fake.batch_sizes()), vec![2, 3]);
    assert_eq!(h.fake.refresh_reads(), 1, "the lone object is read alone");
    assert!(plan.changes.iter().all(|c| c.action == Action::Create));

    // An object already there is still found, through its batch.
    h.fake.insert("fake/a2", json!({"name": "a2"}));
    let err = h.try_plan().await.expect_err("a2 exists outside state");
    let text = h.render(&err);
    assert!(
        text.contains("`a2` would be created as fake/a2, but that object already exists"),
        "{text}"
    );
}

#[tokio::test]
async fn refresh_reads_each_collection_once_and_plans_as_per_object_reads_do() {
    let h = Harness::new(CONFIG);
    h.up().await;
    h.fake.reset_counters();
    let before = h.fake.batch_sizes().len();
    let reads = h.fake.refresh_reads();

    let batched = h.plan().await;
    assert!(!batched.has_changes());
    assert_eq!(sorted(h.fake.batch_sizes()[before..].to_vec()), vec![2, 3]);
    assert_eq!(h.fake.refresh_reads() - reads, 1);

    let batches = h.fake.batch_sizes().len();
    let alone = h.plan_with(per_object()).await;
    assert_eq!(h.fake.batch_sizes().len(), batches, "no batch read");
    assert_eq!(h.fake.refresh_reads() - reads, 7);
    assert_eq!(seen(&batched), seen(&alone));
}

#[tokio::test]
async fn drift_and_deletion_in_a_batch_are_found_as_alone() {
    let h = Harness::new(CONFIG);
    h.up().await;
    // Changed outside plinth: one object of each collection, and one deleted.
    h.fake.mutate(&h.id("a2"), "tag", json!("changed"));
    h.fake.remove(&h.id("b1"));

    let batched = h.plan().await;
    let alone = h.plan_with(per_object()).await;
    assert_eq!(seen(&batched), seen(&alone));
    let drifted: Vec<(&str, Action)> = batched
        .drift
        .iter()
        .map(|d| (d.address.as_str(), d.action))
        .collect();
    assert_eq!(
        drifted,
        vec![("a2", Action::Update), ("b1", Action::Delete)],
        "{:#?}",
        batched.drift
    );
    assert_eq!(action(&batched, "a2"), Action::Update);
    assert_eq!(action(&batched, "b1"), Action::Create);
}
