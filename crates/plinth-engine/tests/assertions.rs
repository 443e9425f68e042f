//! `plinth test`'s assertions (`plinth_engine::Assertions`) over what a run left: state
//! values, the run's outputs and plan, earlier runs' outputs and values read for the run,
//! with the fake provider.

use plinth_config::{Condition, Loc, Node, NodeKind};
use plinth_engine::{Assertions, Outcome, RunValues, plan_value};
use plinth_testkit::*;
use plinth_value::{Map, Value};

const CONFIG: &str = r#"
[resource.app]
type = "fake:thing"
name = "app"
size = 3

[resource.later]
type = "fake:thing"
name = "later"
size = "${app.size}"
"#;

/// A `${...}` (or plain text) node, as a test file would hold it.
fn node(text: &str) -> Node {
    let kind = match plinth_expr::parse_template(text) {
        Ok(t) if text.contains("${") => NodeKind::Template(t),
        _ => NodeKind::Lit(Value::from(text)),
    };
    Node {
        kind,
        loc: Loc::new(0, 0..0),
        content_offset: None,
        escapes: None,
    }
}

fn assertion(condition: &str, message: &str) -> Condition {
    Condition {
        loc: Loc::new(0, 0..0),
        condition: node(condition),
        message: node(message),
    }
}

fn outputs(pairs: &[(&str, Value)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[tokio::test]
async fn assertions_see_state_outputs_earlier_runs_and_the_plan() {
    let h = Harness::new(CONFIG);
    let plan = h.plan().await;
    h.apply_ok(&plan).await;
    let state = h.state();
    let mut first = Map::new();
    first.insert(
        "output".into(),
        Value::Map(outputs(&[("size", Value::from(2))])),
    );
    let values = RunValues {
        outputs: outputs(&[("name", Value::from("app"))]),
        runs: outputs(&[("first", Value::Map(first))]),
        plan: Some(plan_value(&plan)),
        overrides: vec![("data.extra".into(), Value::from("read"))],
    };
    let a = Assertions::new(h.workspace(), Some(&state), values).unwrap();
    for condition in [
        "${app.size == 3 && later.size == 3}",
        "${output.name == \"app\"}",
        "${run.first.output.size == 2}",
        "${plan.changes[\"app\"].action == \"create\" && plan.summary.add == 2}",
        "${plan.summary.destroy == 0}",
        "${data.extra == \"read\"}",
    ] {
        assert_eq!(
            a.check(&assertion(condition, "m")),
            Outcome::Pass,
            "{condition}"
        );
    }
    assert_eq!(
        a.check(&assertion("${app.size == 4}", "app is ${app.size}, not 4")),
        Outcome::Fail("app is 3, not 4".into())
    );
    match a.check(&assertion("${app.size}", "m")) {
        Outcome::Error(d) => assert!(
            d.message.contains("must be true or false, it is a number"),
            "{d:?}"
        ),
        other => panic!("a number is not a condition: {other:?}"),
    }
    match a.check(&assertion("${run.nope.output.x == 1}", "m")) {
        Outcome::Error(_) => {}
        other => panic!("an unknown run is an error: {other:?}"),
    }
}

#[tokio::test]
async fn a_condition_known_only_after_apply_fails_and_says_so() {
    let h = Harness::new(CONFIG);
    let plan = h.plan().await;
    let values = RunValues {
        plan: Some(plan_value(&plan)),
        ..RunValues::default()
    };
    // Nothing applied: the objects are known after apply.
    let a = Assertions::new(h.workspace(), None, values).unwrap();
    assert_eq!(
        a.check(&assertion("${app.id == \"fake/app\"}", "the id")),
        Outcome::Fail("the id (the condition is known only after apply)".into())
    );
}

#[tokio::test]
async fn a_message_shows_sensitive_values_as_sensitive_and_the_rest_as_written() {
    let h = Harness::new(CONFIG);
    let values = RunValues {
        outputs: outputs(&[("secret", Value::sensitive(Value::from("hunter2")))]),
        ..RunValues::default()
    };
    let a = Assertions::new(h.workspace(), None, values).unwrap();
    assert_eq!(
        a.check(&assertion(
            "${output.secret == \"x\"}",
            "the secret ${output.secret} is not x"
        )),
        Outcome::Fail("the secret (sensitive) is not x".into())
    );
}

#[tokio::test]
async fn the_plan_value_names_actions_as_plan_json_does() {
    let h = Harness::new(CONFIG);
    h.up().await;
    let plan = h.plan().await;
    let v = plan_value(&plan).to_json();
    assert_eq!(v["changes"]["app"]["action"], "no-op");
    assert_eq!(v["changes"]["app"]["type"], "fake:thing");
    assert_eq!(v["summary"]["add"], 0);
    assert_eq!(v["summary"]["change"], 0);
}
