//! `--target`: instance-level targeting, addresses only in state, prevent_destroy.

use plinth_engine::{Address, PlanOptions};
use plinth_plan::{Action, PlanMode};
use plinth_testkit::*;

const CONFIG: &str = r#"
[resource.base]
type = "fake:thing"
name = "base"

[resource.app]
type = "fake:thing"
for_each = ["x", "y"]
name = "app-${each.key}"
ref = "${base.id}"

[resource.other]
type = "fake:thing"
name = "other"

[resource.guarded]
type = "fake:thing"
name = "guarded"
lifecycle = { prevent_destroy = true }
"#;

fn opts(mode: PlanMode, targets: &[&str]) -> PlanOptions {
    PlanOptions {
        mode,
        targets: targets
            .iter()
            .map(|t| t.parse::<Address>().unwrap())
            .collect(),
        parallelism: 4,
        ..Default::default()
    }
}

fn addresses(plan: &plinth_plan::Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| c.address.clone())
        .collect();
    v.sort();
    v
}

/// Regression: targets were matched per declaration, so `app["x"]` planned every instance.
#[tokio::test(start_paused = true)]
async fn a_target_of_one_instance_plans_only_it_and_its_dependencies() {
    let h = Harness::new(CONFIG);
    let plan = h.plan_with(opts(PlanMode::Normal, &["app[\"x\"]"])).await;
    assert_eq!(addresses(&plan), ["app[\"x\"]", "base"]);
    assert!(!plan.warnings.is_empty());
    assert!(h.apply(&plan).await.ok());
    assert_eq!(h.fake.started(Op::Create), ["base", "app[\"x\"]"]);

    // A target without a key means every instance.
    let plan = h.plan_with(opts(PlanMode::Normal, &["app"])).await;
    assert_eq!(addresses(&plan), ["app[\"y\"]"]);
}

/// Regression: `destroy --target app["y"]` also destroyed `app["x"]`.
#[tokio::test(start_paused = true)]
async fn a_destroy_target_takes_its_dependents_but_not_its_siblings() {
    let h = Harness::new(CONFIG);
    h.up().await;
    let plan = h.plan_with(opts(PlanMode::Destroy, &["app[\"y\"]"])).await;
    assert_eq!(addresses(&plan), ["app[\"y\"]"]);
    assert!(h.apply(&plan).await.ok());
    assert!(h.fake.object("fake/app-x").is_some());
    assert!(h.fake.object("fake/app-y").is_none());

    // Destroying `base` takes what depends on it, dependents first, and leaves the rest
    // (including the prevent_destroy resource, which the target leaves out).
    h.fake.clear_log();
    let plan = h.plan_with(opts(PlanMode::Destroy, &["base"])).await;
    assert_eq!(addresses(&plan), ["app[\"x\"]", "base"]);
    assert!(h.apply(&plan).await.ok());
    assert!(h.fake.pos("app[\"x\"]", Op::Delete, false) < h.fake.pos("base", Op::Delete, true));
    let ids: Vec<String> = h.fake.objects().into_keys().collect();
    assert_eq!(ids, ["fake/guarded", "fake/other"]);
}

/// Regression: prevent_destroy refused a targeted destroy that did not include the
/// protected resource (the error's own help says to exclude it with --target).
#[tokio::test(start_paused = true)]
async fn prevent_destroy_only_refuses_a_destroy_that_includes_it() {
    let h = Harness::new(CONFIG);
    h.up().await;
    let err = h
        .try_plan_with(opts(PlanMode::Destroy, &[]))
        .await
        .unwrap_err();
    assert!(
        h.render(&err)
            .contains("`guarded` has lifecycle.prevent_destroy")
    );
    let err = h
        .try_plan_with(opts(PlanMode::Destroy, &["guarded"]))
        .await
        .unwrap_err();
    assert!(
        h.render(&err)
            .contains("`guarded` has lifecycle.prevent_destroy")
    );
    let plan = h.plan_with(opts(PlanMode::Destroy, &["other"])).await;
    assert_eq!(addresses(&plan), ["other"]);
    assert!(h.apply(&plan).await.ok());
    assert!(h.fake.object("fake/guarded").is_some());
}

/// Regression: a target naming an address that is only in state (removed from the
/// configuration) was rejected as `no such resource in the configuration`.
#[tokio::test(start_paused = true)]
async fn a_target_may_name_an_address_only_in_state() {
    let mut h = Harness::new(
        r#"
[resource.keep]
type = "fake:thing"
name = "keep"

[resource.gone]
type = "fake:thing"
name = "gone"

[resource.gone_child]
type = "fake:thing"
name = "gone-child"
depends_on = ["gone"]
"#,
    );
    h.up().await;
    h.set_config(
        r#"
[resource.keep]
type = "fake:thing"
name = "keep"
value = "changed"
"#,
    );
    // The orphan's dependents (also orphans) go with it, first.
    let plan = h.plan_with(opts(PlanMode::Normal, &["gone"])).await;
    assert_eq!(addresses(&plan), ["gone", "gone_child"]);
    assert!(h.apply(&plan).await.ok());
    assert!(h.fake.pos("gone_child", Op::Delete, false) < h.fake.pos("gone", Op::Delete, true));
    assert_eq!(h.fake.count(Op::Update), 0, "keep was not targeted");
    // An address in neither is still an error.
    let err = h
        .try_plan_with(opts(PlanMode::Destroy, &["nothing"]))
        .await
        .unwrap_err();
    assert!(h.render(&err).contains("no such resource"));
}
