//! Modules, continued: implied count moves inside module instances, prevent_destroy of
//! objects in modules, the `--target` hint of an unknown for_each inside a module.

mod common;

use common::{changed, harness, rewrite};
use plinth_plan::{Action, PlanMode};
use plinth_testkit::*;

const CALLER: &str = r#"
[module.app]
source = "./modules/app"
for_each = ["a", "b"]
name = "${each.key}"
"#;

const APP: &str = r#"
[variable.name]
type = "string"

[resource.x]
type = "fake:thing"
name = "x-${var.name}"
"#;

#[tokio::test(start_paused = true)]
async fn adding_and_removing_count_inside_a_module_moves_each_instance_s_object() {
    let (dir, mut h) = harness(&[("main.toml", CALLER), ("modules/app/main.toml", APP)]);
    h.up().await;
    let before = h.id("module.app[\"a\"].x");

    let counted = APP.replace("[resource.x]\n", "[resource.x]\ncount = 1\n");
    rewrite(&mut h, &dir, &[("modules/app/main.toml", &counted)]);
    let plan = h.plan().await;
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    let moved: Vec<(String, Option<String>)> = plan
        .changes
        .iter()
        .filter(|c| c.moved_from.is_some())
        .map(|c| (c.address.clone(), c.moved_from.clone()))
        .collect();
    assert_eq!(
        moved,
        [
            (
                "module.app[\"a\"].x[0]".to_string(),
                Some("module.app[\"a\"].x".to_string())
            ),
            (
                "module.app[\"b\"].x[0]".to_string(),
                Some("module.app[\"b\"].x".to_string())
            ),
        ]
    );
    h.apply_ok(&plan).await;
    assert_eq!(h.id("module.app[\"a\"].x[0]"), before, "the same object");
    h.assert_converged().await;

    // And back: count removed moves index 0 to the bare address.
    rewrite(&mut h, &dir, &[("modules/app/main.toml", APP)]);
    let plan = h.plan().await;
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    assert_eq!(
        plan.change("module.app[\"a\"].x")
            .unwrap()
            .moved_from
            .as_deref(),
        Some("module.app[\"a\"].x[0]")
    );
    h.apply_ok(&plan).await;
    assert_eq!(h.id("module.app[\"a\"].x"), before);
    assert_eq!(h.fake.count(Op::Delete), 0, "nothing deleted");
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn prevent_destroy_inside_a_module_refuses_a_destroy_and_a_removed_instance() {
    let guarded = APP.replace(
        "name = \"x-${var.name}\"\n",
        "name = \"x-${var.name}\"\nlifecycle = { prevent_destroy = true }\n",
    );
    let (dir, mut h) = harness(&[("main.toml", CALLER), ("modules/app/main.toml", &guarded)]);
    h.up().await;

    let err = h.try_plan_mode(PlanMode::Destroy).await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains(
            "`module.app[\"a\"].x` has lifecycle.prevent_destroy, so it cannot be destroyed"
        ),
        "{text}"
    );
    assert!(
        text.contains("modules/app/main.toml"),
        "located in the module: {text}"
    );

    // Removing the instance "b" would delete its object: refused too, naming the fix.
    rewrite(
        &mut h,
        &dir,
        &[("main.toml", &CALLER.replace("[\"a\", \"b\"]", "[\"a\"]"))],
    );
    let err = h.try_plan().await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains("`module.app[\"b\"].x` has lifecycle.prevent_destroy, but the configuration no longer produces this instance"),
        "{text}"
    );
    assert!(
        text.contains("keep the instance in the for_each/count"),
        "{text}"
    );
    assert!(
        !text.contains("module.app[\"a\"]"),
        "only b is refused: {text}"
    );

    // Without prevent_destroy the instance goes.
    rewrite(&mut h, &dir, &[("modules/app/main.toml", APP)]);
    let plan = h.plan().await;
    assert_eq!(changed(&plan), ["Delete module.app[\"b\"].x"]);
    assert_eq!(action(&plan, "module.app[\"b\"].x"), Action::Delete);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_for_each_inside_a_module_names_the_target_with_its_module_path() {
    let app = r#"
[variable.name]
type = "string"

[resource.seed]
type = "fake:thing"
name = "seed-${var.name}"

[resource.x]
type = "fake:thing"
for_each = "${toset([seed.id])}"
name = "x-${each.key}"
"#;
    let (_dir, h) = harness(&[("main.toml", CALLER), ("modules/app/main.toml", app)]);
    let err = h.try_plan().await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains("the for_each of `module.app[\"a\"].x` depends on `seed.id`"),
        "{text}"
    );
    assert!(
        text.contains("plinth apply --target module.app[\"a\"].seed"),
        "{text}"
    );
}
