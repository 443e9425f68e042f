//! Provider functions in expressions (SPEC §2: e.g. `azure.role_definition_id(...)`): called
//! through the registry, marks propagated, unknown names caught before anything runs.

use plinth_plan::Action;
use plinth_testkit::*;
use plinth_value::Value;

#[tokio::test]
async fn a_provider_function_is_evaluated_at_plan_time_and_converges() {
    let h = Harness::new(
        r#"
[variable.secret]
default = "psst"
sensitive = true

[resource.a]
type = "fake:thing"
name = "${fake.shout(\"hello\")}"

[resource.b]
type = "fake:thing"
name = "b"
label = "${fake.shout(a.arn)}"

[resource.c]
type = "fake:thing"
name = "c"
label = "${fake.shout(var.secret)}"
"#,
    );
    let plan = h.plan().await;
    let a = plan.change("a").unwrap();
    assert_eq!(
        a.config.as_ref().unwrap().get(&path("name")),
        Some(Value::from("HELLO!"))
    );
    // An argument known only after apply: the function is not called; the result is unknown.
    let b = plan.change("b").unwrap();
    assert_eq!(
        b.config.as_ref().unwrap().get(&path("label")),
        Some(Value::Unknown)
    );
    // A sensitive argument makes a sensitive result.
    let c = plan.change("c").unwrap();
    assert!(
        c.config
            .as_ref()
            .unwrap()
            .get(&path("label"))
            .unwrap()
            .is_sensitive()
    );

    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    let b_obj = h.fake.object(&state_id(&h.state(), "b").unwrap()).unwrap();
    assert!(b_obj["label"].as_str().unwrap().ends_with('!'), "{b_obj}");
    let again = h.plan().await;
    assert!(
        again
            .changes
            .iter()
            .all(|c| c.action == Action::NoOp || c.action == Action::Read),
        "{again:?}"
    );
}

#[tokio::test]
async fn an_unknown_provider_function_is_a_located_error_with_a_suggestion() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "${fake.shuot(\"x\")}"
"#,
    );
    let err = h
        .try_plan_with(Default::default())
        .await
        .expect_err("unknown function");
    let text = h.render(&err);
    assert!(text.contains("unknown function `fake.shuot`"), "{text}");
    assert!(text.contains("did you mean `fake.shout`?"), "{text}");
    // Located at the call's name (line 4, column 11), escapes in the string notwithstanding.
    assert!(text.contains("main.toml:4:11"), "located: {text}");
}
