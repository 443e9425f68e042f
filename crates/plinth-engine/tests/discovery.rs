//! Plan-time discovery (SPEC §3): objects that exist but are not in state are reported by
//! `plan`, and data sources that depend on changing resources are read during apply.

use plinth_plan::Action;
use plinth_testkit::*;
use serde_json::json;

#[tokio::test]
async fn an_existing_object_outside_state_is_reported_at_plan_time() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"

[resource.b]
type = "fake:thing"
name = "b"
"#,
    );
    // Someone created `fake/a` by hand; plinth's create would take it over.
    h.fake
        .insert("fake/a", json!({"name": "a", "arn": "arn:a"}));
    let err = h
        .try_plan_with(Default::default())
        .await
        .expect_err("plan must refuse");
    let text = h.render(&err);
    assert_eq!(err.len(), 1, "{text}");
    assert!(
        text.contains(
            "`a` would be created as fake/a, but that object already exists and is not in state"
        ),
        "{text}"
    );
    assert!(text.contains("plinth import 'a' 'fake/a'"), "{text}");
    assert_eq!(h.fake.count(Op::Create), 0, "nothing was touched");

    // Once the object is gone, the same plan creates both.
    h.fake.remove("fake/a");
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::Create);
    assert_eq!(action(&plan, "b"), Action::Create);
}

#[tokio::test]
async fn a_data_source_referring_to_a_changing_resource_is_read_during_apply() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
tag = "v1"

[data.look]
type = "fake:reader"
query = "static"
note = "${a.tag}"
"#,
    );
    // `note` is known at plan time, but `a` is being created: the read waits for it.
    let plan = h.plan().await;
    let read = plan.change("data.look").expect("data source planned");
    assert_eq!(read.action, Action::Read);
    assert!(
        read.after.as_ref().is_some_and(|v| v.is_unknown()),
        "deferred: {:?}",
        read.after
    );
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    assert!(h.state().resources.contains_key("data.look"));

    // Nothing changes any more: the data source is read at plan time again.
    let plan = h.plan().await;
    let read = plan.change("data.look").expect("data source planned");
    assert!(read.after.as_ref().is_some_and(|v| v.is_wholly_known()));
    assert!(!plan.has_changes());
}
