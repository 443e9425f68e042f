//! Unknown values, convergence ("a second plan shows no changes") and sensitive values.

use plinth_plan::Action;
use plinth_testkit::*;
use plinth_value::Value;
use serde_json::json;

const UNKNOWNS: &str = r#"
[variable.keys]
type = "list"
default = ["p", "q"]

[resource.a]
type = "fake:thing"
value = "base"

[resource.b]
type = "fake:thing"
name = "b"
ref = "${a.arn}"
nested = { deep = "${a.id}", list = ["${a.id}", "fixed"] }
text = "id is ${a.id}"

[resource.fe]
type = "fake:thing"
for_each = "${var.keys}"
name = "fe-${each.key}"
ref = "${a.id}"

[resource.fe_user]
type = "fake:thing"
name = "fe-user"
refs = ["${fe[\"p\"].arn}", "${fe[\"q\"].arn}"]

[data.late]
type = "fake:reader"
query = "${a.id}"

[data.early]
type = "fake:reader"
query = "static"

[resource.reads]
type = "fake:thing"
name = "reads"
late = "${data.late.result}"
early = "${data.early.result}"

[action.poke]
type = "fake:poke"
on = ["b"]
target = "${b.id}"

[output.b_arn]
value = "${b.arn}"

[output.fe_ids]
value = "${fe[\"p\"].id}"
"#;

#[tokio::test(start_paused = true)]
async fn computed_values_are_unknown_in_the_plan_and_real_at_apply() {
    let h = Harness::new(UNKNOWNS);
    let plan = h.plan().await;
    let b = plan.change("b").unwrap();
    assert_eq!(b.action, Action::Create);
    let cfg = b.config.as_ref().unwrap();
    assert_eq!(cfg.get(&path("ref")), Some(Value::Unknown));
    assert_eq!(cfg.get(&path("nested.deep")), Some(Value::Unknown));
    assert_eq!(cfg.get(&path("nested.list[1]")), Some(Value::from("fixed")));
    assert_eq!(cfg.get(&path("text")), Some(Value::Unknown));
    let after = b.after.as_ref().unwrap();
    assert_eq!(after.get(&path("ref")), Some(Value::Unknown));
    assert_eq!(after.get(&path("id")), Some(Value::Unknown));
    assert_eq!(after.get(&path("name")), Some(Value::from("b")));
    assert_eq!(b.id.as_deref(), Some("fake/b"), "planned id is known");
    assert_eq!(plan.change("a").unwrap().id, None);
    // for_each instances.
    assert_eq!(action(&plan, "fe[\"p\"]"), Action::Create);
    assert_eq!(action(&plan, "fe[\"q\"]"), Action::Create);
    assert!(
        plan.change("fe_user")
            .unwrap()
            .depends_on
            .contains(&"fe[\"p\"]".to_string())
    );
    // A data source whose configuration is unknown is read during apply; one that is known
    // is read now.
    let late = plan.change("data.late").unwrap();
    assert_eq!(late.action, Action::Read);
    assert_eq!(late.after, Some(Value::Unknown));
    let early = plan.change("data.early").unwrap();
    assert_eq!(
        early.after.as_ref().unwrap().get(&path("result")),
        Some(Value::from("r:static"))
    );
    assert_eq!(action(&plan, "action.poke"), Action::Run);

    let report = h.apply(&plan).await;
    assert!(report.ok(), "{report:?}");
    let a_id = state_id(&h.state(), "a").unwrap();
    let b_obj = h.fake.object("fake/b").unwrap();
    assert_eq!(b_obj["ref"], json!(format!("arn:fake:{a_id}")));
    assert_eq!(
        b_obj["nested"],
        json!({"deep": a_id, "list": [a_id, "fixed"]})
    );
    assert_eq!(b_obj["text"], json!(format!("id is {a_id}")));
    assert_eq!(h.fake.object("fake/fe-p").unwrap()["ref"], json!(a_id));
    assert_eq!(
        h.fake.object("fake/fe-user").unwrap()["refs"],
        json!(["arn:fake:fake/fe-p", "arn:fake:fake/fe-q"])
    );
    let reads = h.fake.object("fake/reads").unwrap();
    assert_eq!(reads["late"], json!(format!("r:{a_id}")));
    assert_eq!(reads["early"], json!("r:static"));
    assert_eq!(h.fake.count(Op::Run), 1);
    // The action ran after what it watches.
    assert!(h.fake.pos("b", Op::Create, false) < h.fake.pos("action.poke", Op::Run, true));
    let state = h.state();
    assert_eq!(
        state.outputs["b_arn"].value,
        json!("arn:fake:fake/b"),
        "outputs use the real values"
    );
    assert_eq!(state.outputs["fe_ids"].value, json!("fake/fe-p"));
    assert_eq!(state.history.len(), 1);
    assert!(state.resources.contains_key("data.late"));

    // The second plan has nothing to do (data sources are read again, which is no change).
    h.assert_converged().await;
    let plan = h.plan().await;
    assert_eq!(action(&plan, "action.poke"), Action::NoOp);
    assert!(plan.outputs.iter().all(|o| o.action == Action::NoOp));
    // Applying that plan changes nothing either.
    let creates = h.fake.count(Op::Create);
    assert!(h.apply(&plan).await.ok());
    assert_eq!(h.fake.count(Op::Create), creates);
    assert_eq!(h.fake.count(Op::Update), 0);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn an_update_that_changes_a_computed_value_flows_to_dependents() {
    let mut h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
value = 1

[resource.b]
type = "fake:thing"
name = "b"
ref = "${a.value}"
"#,
    );
    h.up().await;
    h.set_config(
        r#"
[resource.a]
type = "fake:thing"
name = "a"
value = 2

[resource.b]
type = "fake:thing"
name = "b"
ref = "${a.value}"
"#,
    );
    let plan = h.plan().await;
    assert_eq!(action(&plan, "a"), Action::Update);
    assert_eq!(action(&plan, "b"), Action::Update);
    assert!(h.apply(&plan).await.ok());
    assert_eq!(h.fake.object("fake/b").unwrap()["ref"], json!(2));
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn for_each_instances_are_added_and_removed() {
    let config = |keys: &str| {
        format!(
            r#"
[resource.fe]
type = "fake:thing"
for_each = {keys}
name = "fe-${{each.key}}"
value = "${{each.value}}"
"#
        )
    };
    let mut h = Harness::new(&config("{ a = 1, b = 2 }"));
    h.up().await;
    assert_eq!(h.fake.object("fake/fe-b").unwrap()["value"], json!(2));
    h.assert_converged().await;
    h.set_config(&config("{ b = 3, c = 4 }"));
    let plan = h.plan().await;
    assert_eq!(action(&plan, "fe[\"a\"]"), Action::Delete);
    assert_eq!(action(&plan, "fe[\"b\"]"), Action::Update);
    assert_eq!(action(&plan, "fe[\"c\"]"), Action::Create);
    assert!(h.apply(&plan).await.ok());
    let ids: Vec<String> = h.fake.objects().into_keys().collect();
    assert_eq!(ids, ["fake/fe-b", "fake/fe-c"]);
    h.assert_converged().await;
}

const SECRETS: &str = r#"
[resource.s]
type = "fake:thing"
name = "s"
password = "hunter2"
value = "plain"

[resource.user]
type = "fake:thing"
name = "user"
copy = "${s.token}"
"#;

#[tokio::test(start_paused = true)]
async fn schema_sensitive_values_are_marked_in_plan_and_state() {
    let mut h = Harness::new(SECRETS);
    let plan = h.plan().await;
    let s = plan.change("s").unwrap();
    let after = s.after.as_ref().unwrap();
    assert_eq!(
        after.get(&path("password")),
        Some(Value::sensitive(Value::from("hunter2")))
    );
    assert!(after.get(&path("token")).unwrap().is_sensitive());
    assert!(!after.get(&path("value")).unwrap().is_sensitive());
    assert!(
        s.config
            .as_ref()
            .unwrap()
            .get(&path("password"))
            .unwrap()
            .is_sensitive()
    );
    assert!(h.apply(&plan).await.ok());

    let state = h.state();
    let rec = &state.resources["s"];
    assert!(rec.sensitive_paths.contains(&"password".to_string()));
    assert!(rec.sensitive_paths.contains(&"token".to_string()));
    assert!(!rec.sensitive_paths.contains(&"value".to_string()));
    // State keeps the values (apply needs them); it is the marks that hide them.
    assert_eq!(rec.inputs["password"], json!("hunter2"));
    // A value copied from a sensitive attribute stays sensitive in the dependent.
    assert!(
        state.resources["user"]
            .sensitive_paths
            .contains(&"copy".to_string()),
        "{:?}",
        state.resources["user"]
    );
    h.assert_converged().await;

    // before and after are both marked in an update plan.
    h.set_config(&SECRETS.replace("hunter2", "hunter3"));
    let plan = h.plan().await;
    let s = plan.change("s").unwrap();
    assert_eq!(s.action, Action::Update);
    assert_eq!(s.changed_paths, vec![path("password")]);
    assert_eq!(
        s.before.as_ref().unwrap().get(&path("password")),
        Some(Value::sensitive(Value::from("hunter2")))
    );
    assert_eq!(
        s.after.as_ref().unwrap().get(&path("password")),
        Some(Value::sensitive(Value::from("hunter3")))
    );
    assert!(
        s.before
            .as_ref()
            .unwrap()
            .get(&path("token"))
            .unwrap()
            .is_sensitive()
    );
    assert!(h.apply(&plan).await.ok());
    h.assert_converged().await;
}

/// Regression: an output that fails to evaluate at apply time (its input was unknown when
/// planning) was dropped silently and the run reported success.
#[tokio::test(start_paused = true)]
async fn an_output_that_fails_at_apply_time_is_a_failure() {
    let h = Harness::new(
        r#"
[resource.a]
type = "fake:thing"

[output.decoded]
value = "${base64decode(a.id)}"

[output.fine]
value = "fine"
"#,
    );
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert!(!report.ok());
    assert_eq!(report.succeeded, 1);
    assert_eq!(report.failures.len(), 1, "{report:?}");
    let f = &report.failures[0];
    assert_eq!(f.address, "output.decoded");
    assert!(f.message.contains("base64"), "{}", f.message);
    let state = h.state();
    assert_eq!(state.outputs["fine"].value, json!("fine"));
    assert!(!state.outputs.contains_key("decoded"));
    assert_eq!(state.resources["a"].status, plinth_state::Status::Created);
}

#[tokio::test(start_paused = true)]
async fn an_action_added_after_what_it_watches_exists_runs_once_and_a_failed_run_runs_again() {
    let base = r#"
[resource.b]
type = "fake:thing"
name = "b"
"#;
    let mut h = Harness::new(base);
    h.up().await;
    let with_action = format!("{base}\n[action.poke]\ntype = \"fake:poke\"\non = [\"b\"]\n");
    h.set_config(&with_action);
    // `b` does not change, but the action never ran: it runs now.
    h.fake.fail("action.poke", Op::Run, "boom");
    let plan = h.plan().await;
    let poke = plan.change("action.poke").unwrap();
    assert_eq!(poke.action, Action::Run);
    assert_eq!(poke.reason.as_deref(), Some("it has not run yet"));
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1);
    // Its last run failed: it runs again.
    h.fake.clear_failures();
    let plan = h.plan().await;
    let poke = plan.change("action.poke").unwrap();
    assert_eq!(poke.action, Action::Run);
    assert_eq!(poke.reason.as_deref(), Some("its last run failed"));
    h.up().await;
    // It ran: nothing to do until `b` changes.
    assert_eq!(action(&h.plan().await, "action.poke"), Action::NoOp);
    assert_eq!(h.fake.count(Op::Run), 2);
}

#[tokio::test(start_paused = true)]
async fn an_action_whose_run_did_not_happen_runs_on_the_next_apply() {
    let config = |v: &str| {
        format!(
            r#"
[resource.b]
type = "fake:thing"
name = "b"
value = "{v}"

[resource.gate]
type = "fake:thing"
name = "gate"
value = "{v}"

[action.poke]
type = "fake:poke"
on = ["b"]
depends_on = ["gate"]
"#
        )
    };
    let mut h = Harness::new(&config("1"));
    h.up().await;
    assert_eq!(h.fake.count(Op::Run), 1);
    // `b` changes (the action is due), but what the action waits for fails: it is skipped.
    h.set_config(&config("2"));
    h.fake.fail("gate", Op::Update, "boom");
    let plan = h.plan().await;
    assert_eq!(action(&plan, "action.poke"), Action::Run);
    let report = h.apply(&plan).await;
    assert!(
        report.skipped.iter().any(|(a, _)| a == "action.poke"),
        "{report:?}"
    );
    // Next time `b` has nothing to change, yet the action still owes its run.
    h.fake.clear_failures();
    let plan = h.plan().await;
    assert_eq!(action(&plan, "b"), Action::NoOp);
    let poke = plan.change("action.poke").unwrap();
    assert_eq!(poke.action, Action::Run);
    assert!(
        poke.reason
            .as_deref()
            .unwrap_or("")
            .contains("did not happen"),
        "{:?}",
        poke.reason
    );
    h.up().await;
    assert_eq!(h.fake.count(Op::Run), 2);
    assert_eq!(action(&h.plan().await, "action.poke"), Action::NoOp);
}
