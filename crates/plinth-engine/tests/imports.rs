//! `[[import]]` blocks (issue 16) with the `core` provider, whose `core:data` objects can be
//! imported by any id: the change carries `importing` and the object read as `before`; apply
//! records it before any operation (a NoOp import calls no provider); a second plan is
//! empty; an id unlike the one in state, an instance the configuration does not produce, and
//! generated configuration.

mod common;

use common::{harness, rewrite};
use plinth_plan::Action;
use plinth_testkit::*;

const APP: &str = r#"
[variable.ids]
default = { blue = "object-blue" }

[resource.app]
type = "core:data"
for_each = "${var.ids}"

[[import]]
for_each = "${var.ids}"
to = "app[each.key]"
id = "${each.value}"
"#;

#[tokio::test(start_paused = true)]
async fn an_import_is_planned_against_the_object_read_and_applied_as_state_only() {
    let h = Harness::new(APP);
    let plan = h.plan().await;
    let c = plan.change("app[\"blue\"]").expect("the import's change");
    assert_eq!(c.action, Action::NoOp);
    assert_eq!(
        c.importing.as_ref().map(|i| i.id.as_str()),
        Some("object-blue")
    );
    assert!(c.before.is_some(), "the object read is the prior");
    assert_eq!(plan.summary().import, 1);
    assert!(plan.has_changes(), "an import alone is a change to review");
    h.apply_ok(&plan).await;
    assert_eq!(h.id("app[\"blue\"]"), "object-blue");
    assert_eq!(h.fake.count(Op::Create), 0);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_configuration_that_differs_is_imported_then_updated() {
    let h = Harness::new(&APP.replace(
        "for_each = \"${var.ids}\"\n\n[[import]]",
        "for_each = \"${var.ids}\"\ninput = \"${each.key}\"\n\n[[import]]",
    ));
    let plan = h.plan().await;
    let c = plan.change("app[\"blue\"]").unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(c.importing.is_some());
    assert!(!c.drift, "an import is not drift");
    h.apply_ok(&plan).await;
    assert_eq!(h.id("app[\"blue\"]"), "object-blue");
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn an_import_to_an_address_state_holds_with_another_id_is_an_error() {
    let mut h = Harness::new(APP);
    h.up().await;
    h.set_config(&APP.replace(
        "default = { blue = \"object-blue\" }",
        "default = { blue = \"object-other\" }",
    ));
    let err = h.try_plan().await.expect_err("another id");
    let text = h.render(&err);
    assert!(
        text.contains("`app[\"blue\"]` is already in state as `object-blue`"),
        "{text}"
    );
    assert!(text.contains("imports `object-other`"), "{text}");
    assert!(text.contains("plinth state rm"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn destroy_and_refresh_only_plans_ignore_imports() {
    let h = Harness::new(APP);
    for mode in [
        plinth_plan::PlanMode::Destroy,
        plinth_plan::PlanMode::RefreshOnly,
    ] {
        let plan = h.plan_mode(mode).await;
        assert!(
            plan.changes.iter().all(|c| c.importing.is_none()),
            "{mode:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_import_into_a_module_instance() {
    let (dir, mut h) = harness(&[
        (
            "main.toml",
            "[module.app]\nsource = \"./app\"\nfor_each = [\"a\", \"b\"]\n\n[[import]]\nto = 'module.app[\"b\"].blob'\nid = \"existing-b\"\n",
        ),
        ("app/main.toml", "[resource.blob]\ntype = \"core:data\"\n"),
    ]);
    let plan = h.plan().await;
    let b = plan.change("module.app[\"b\"].blob").unwrap();
    assert!(b.importing.is_some());
    assert_eq!(action(&plan, "module.app[\"a\"].blob"), Action::Create);
    h.apply_ok(&plan).await;
    assert_eq!(h.id("module.app[\"b\"].blob"), "existing-b");
    h.assert_converged().await;

    // An instance the call does not make.
    rewrite(
        &mut h,
        &dir,
        &[(
            "main.toml",
            "[module.app]\nsource = \"./app\"\nfor_each = [\"a\", \"b\"]\n\n[[import]]\nto = 'module.app[\"c\"].blob'\nid = \"existing-c\"\n",
        )],
    );
    let err = h.try_plan().await.expect_err("no such instance");
    let text = h.render(&err);
    assert!(
        text.contains(
            "the configuration has no resource instance `module.app[\"c\"].blob` to import to"
        ),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn generated_configuration_declares_the_target_and_converges() {
    let blocks = "[[import]]\nto = \"adopted\"\ntype = \"core:data\"\nid = \"existing-42\"\n";
    let mut h = Harness::new(blocks);
    let err = h.try_plan().await.expect_err("undeclared");
    assert!(h.render(&err).contains("`adopted` is not declared"));
    let generated = plinth_engine::generate_config(&h.workspace(), None)
        .await
        .expect("generates")
        .expect("one target is undeclared");
    assert_eq!(generated.addresses, ["adopted"]);
    assert!(
        generated
            .text
            .contains("[resource.adopted]\ntype = \"core:data\"\n"),
        "{}",
        generated.text
    );
    assert!(generated.text.contains("main.toml:1"), "{}", generated.text);
    h.set_config(&format!("{blocks}\n{}", generated.text));
    let plan = h.plan().await;
    assert_eq!(plan.summary().import, 1);
    assert_eq!(action(&plan, "adopted"), Action::NoOp);
    h.apply_ok(&plan).await;
    assert_eq!(h.id("adopted"), "existing-42");
    h.assert_converged().await;
    // Nothing left to generate.
    assert!(
        plinth_engine::generate_config(&h.workspace(), Some(&h.state()))
            .await
            .unwrap()
            .is_none()
    );
}
