//! Preconditions, postconditions and `[check.NAME]` blocks, planned and applied with the
//! fake provider: a false condition stops its object (and what depends on it) before any
//! provider call, an unknown one waits for apply, a failed postcondition fails the object
//! after it was recorded, and checks only ever warn.

mod common;

use plinth_plan::CheckStatus;
use plinth_testkit::*;

fn messages(d: &plinth_config::Diagnostics) -> Vec<String> {
    d.0.iter().map(|d| d.message.clone()).collect()
}

#[tokio::test(start_paused = true)]
async fn a_false_precondition_stops_the_object_and_its_dependents_at_plan() {
    let h = Harness::new(
        r#"
[variable.replicas]
default = 0

[resource.other]
type = "fake:thing"
name = "other"

[data.lookup]
type = "fake:reader"
query = "q"
lifecycle = { precondition = [{ condition = "${var.replicas > 0}", message = "the lookup needs replicas, not ${var.replicas}" }] }

[resource.app]
type = "fake:thing"
name = "app"
value = "${data.lookup.result}"
"#,
    );
    let d = h.try_plan().await.expect_err("the precondition is false");
    assert_eq!(
        messages(&d),
        ["precondition failed for `data.lookup`: the lookup needs replicas, not 0"],
        "{}",
        h.render(&d)
    );
    let first = d.0.first().unwrap();
    assert_eq!(first.subject_address(), Some("data.lookup"));
    assert!(first.loc.is_some(), "located at the condition");
    // The data source was never read: no provider call for it.
    assert_eq!(h.fake.count(Op::ReadData), 0);
}

#[tokio::test(start_paused = true)]
async fn every_failed_condition_is_reported_and_for_each_instances_see_each() {
    let h = Harness::new(
        r#"
[resource.app]
type = "fake:thing"
for_each = { a = 1, b = 0, c = 0 }
name = "app-${each.key}"
value = "${each.value}"
lifecycle = { precondition = [{ condition = "${each.value > 0}", message = "instance ${each.key} needs a positive value" }] }
"#,
    );
    let d = h.try_plan().await.expect_err("two instances fail");
    let mut got = messages(&d);
    got.sort();
    assert_eq!(
        got,
        [
            "precondition failed for `app[\"b\"]`: instance b needs a positive value",
            "precondition failed for `app[\"c\"]`: instance c needs a positive value",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_precondition_is_checked_at_apply_and_skips_the_dependents() {
    let h = Harness::new(
        r#"
[resource.first]
type = "fake:thing"
name = "first"

[resource.second]
type = "fake:thing"
name = "second"
lifecycle = { precondition = [{ condition = "${first.arn == \"arn:fake:other\"}", message = "first must be the other one" }] }

[resource.third]
type = "fake:thing"
name = "third"
value = "${second.id}"
"#,
    );
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    let failed: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.address.as_str(), f.action.as_str()))
        .collect();
    assert_eq!(failed, [("second", "precondition")]);
    let f = &report.failures[0];
    assert!(
        f.message.contains("first must be the other one") && f.message.contains("main.toml:"),
        "{}",
        f.message
    );
    assert!(report.skipped.iter().any(|(a, _)| a == "third"));
    assert_eq!(h.fake.started(Op::Create), ["first"]);
}

#[tokio::test(start_paused = true)]
async fn a_false_postcondition_fails_the_object_after_it_is_recorded_and_the_next_plan_says_so() {
    let h = Harness::new(
        r#"
[resource.app]
type = "fake:thing"
name = "app"
lifecycle = { postcondition = [{ condition = "${self.arn == \"arn:fake:expected\"}", message = "the app has the expected arn, not ${self.arn}" }] }

[resource.after]
type = "fake:thing"
name = "after"
value = "${app.arn}"
"#,
    );
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(report.failures[0].action, "postcondition");
    assert!(
        report.failures[0].message.contains(
            "postcondition failed for `app`: the app has the expected arn, not arn:fake:fake/app"
        ),
        "{}",
        report.failures[0].message
    );
    assert!(report.skipped.iter().any(|(a, _)| a == "after"));
    // The object exists and is in state, as Terraform keeps it.
    assert!(h.state().resources.contains_key("app"));
    let d = h
        .try_plan()
        .await
        .expect_err("the next plan checks it again");
    assert_eq!(d.0.first().unwrap().subject_address(), Some("app"));
}

#[tokio::test(start_paused = true)]
async fn a_postcondition_known_false_at_plan_is_an_error() {
    let h = Harness::new(
        r#"
[resource.app]
type = "fake:thing"
name = "app"
value = 1
lifecycle = { postcondition = [{ condition = "${self.value == 2}", message = "value must be 2" }] }
"#,
    );
    let d = h.try_plan().await.expect_err("false at plan");
    assert_eq!(
        messages(&d),
        ["postcondition failed for `app`: value must be 2"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_condition_that_is_not_a_bool_is_a_located_error() {
    let h = Harness::new(
        r#"
[variable.mode]
default = "on"

[resource.app]
type = "fake:thing"
name = "app"
lifecycle = { precondition = [{ condition = "${var.mode}", message = "mode" }] }
"#,
    );
    let d = h.try_plan().await.expect_err("a string");
    let first = d.0.first().unwrap();
    assert_eq!(
        first.message,
        "condition must be true or false, it is a string"
    );
    assert!(first.loc.is_some());
}

#[tokio::test(start_paused = true)]
async fn output_preconditions_at_plan_and_at_apply() {
    let h = Harness::new(
        r#"
[variable.ok]
default = false

[output.flag]
value = "x"
lifecycle = { precondition = [{ condition = "${var.ok}", message = "ok must be set" }] }
"#,
    );
    let d = h.try_plan().await.expect_err("false at plan");
    assert_eq!(
        messages(&d),
        ["precondition failed for `output.flag`: ok must be set"]
    );
    assert_eq!(d.0.first().unwrap().subject_address(), Some("output.flag"));

    let h = Harness::new(
        r#"
[resource.app]
type = "fake:thing"
name = "app"

[output.arn]
value = "${app.arn}"
lifecycle = { precondition = [{ condition = "${app.arn == \"nope\"}", message = "the arn is nope" }] }
"#,
    );
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    let failed: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.address.as_str(), f.action.as_str()))
        .collect();
    assert_eq!(failed, [("output.arn", "precondition")]);
    assert!(
        !h.state().outputs.contains_key("arn"),
        "the output is not recorded"
    );
}

const CHECKS: &str = r#"
[resource.app]
type = "fake:thing"
name = "app"
value = 3

[check.value_is_three]
assert = [{ condition = "${app.value == 3}", message = "the value is 3" }]

[check.value_is_four]
assert = [{ condition = "${app.value == 4}", message = "the value is ${app.value}, not 4" }]

[check.arn_known]
assert = [{ condition = "${app.arn != \"\"}", message = "the app has an arn" }]

[check.read_back]
assert = [{ condition = "${data.current.result == \"r:app\"}", message = "the read is r:app" }]

[check.read_back.data.current]
type = "fake:reader"
query = "${app.name}"
"#;

#[tokio::test(start_paused = true)]
async fn checks_pass_fail_or_wait_for_apply_and_never_block() {
    let h = Harness::new(CHECKS);
    let plan = h.plan().await;
    let status: Vec<(&str, CheckStatus)> = plan
        .checks
        .iter()
        .map(|c| (c.address.as_str(), c.status))
        .collect();
    assert_eq!(
        status,
        [
            ("check.value_is_three", CheckStatus::Pass),
            ("check.value_is_four", CheckStatus::Fail),
            ("check.arn_known", CheckStatus::Unknown),
            // Its data source refers to an object being created: read after apply.
            ("check.read_back", CheckStatus::Unknown),
        ]
    );
    assert_eq!(plan.checks[1].messages, ["the value is 3, not 4"]);
    assert_eq!(h.fake.count(Op::ReadData), 0);

    let report = h.apply_ok(&plan).await;
    let status: Vec<(&str, CheckStatus)> = report
        .checks
        .iter()
        .map(|c| (c.address.as_str(), c.status))
        .collect();
    assert_eq!(
        status,
        [
            ("check.value_is_three", CheckStatus::Pass),
            ("check.value_is_four", CheckStatus::Fail),
            ("check.arn_known", CheckStatus::Pass),
            ("check.read_back", CheckStatus::Pass),
        ]
    );
    // Now everything exists: the next plan reads the check's data itself.
    let plan = h.plan().await;
    assert!(plan.changes.iter().all(|c| !c.action.is_change()));
    assert_eq!(plan.checks[3].status, CheckStatus::Pass);
}

#[tokio::test(start_paused = true)]
async fn a_failed_scoped_read_fails_the_check_not_the_run() {
    let h = Harness::new(CHECKS);
    h.up().await;
    h.fake
        .fail("data.current", Op::ReadData, "NotFound: no such thing");
    let plan = h.plan().await;
    let read_back = plan
        .checks
        .iter()
        .find(|c| c.address == "check.read_back")
        .unwrap();
    assert_eq!(read_back.status, CheckStatus::Fail);
    assert!(
        read_back.messages[0].contains("reading `data.current` failed: NotFound: no such thing"),
        "{:?}",
        read_back.messages
    );
    let report = h.apply_ok(&plan).await;
    let read_back = report
        .checks
        .iter()
        .find(|c| c.address == "check.read_back")
        .unwrap();
    assert_eq!(read_back.status, CheckStatus::Fail);
}

#[tokio::test(start_paused = true)]
async fn checks_in_module_instances_carry_the_instance_address() {
    let (_dir, h) = common::harness(&[
        (
            "app/main.toml",
            r#"
[variable.size]
type = "number"

[check.size_positive]
assert = [{ condition = "${var.size > 0}", message = "size must be positive, not ${var.size}" }]
"#,
        ),
        (
            "main.toml",
            r#"
[module.app]
source = "./app"
for_each = { big = 3, empty = 0 }
size = "${each.value}"
"#,
        ),
    ]);
    let plan = h.plan().await;
    let got: Vec<(&str, CheckStatus, Vec<String>)> = plan
        .checks
        .iter()
        .map(|c| (c.address.as_str(), c.status, c.messages.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "module.app[\"big\"].check.size_positive",
                CheckStatus::Pass,
                vec![]
            ),
            (
                "module.app[\"empty\"].check.size_positive",
                CheckStatus::Fail,
                vec!["size must be positive, not 0".to_string()]
            ),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_replacement_whose_precondition_fails_at_apply_keeps_the_old_object() {
    let mut h = Harness::new(
        r#"
[resource.app]
type = "fake:thing"
name = "app"
immutable = 1
"#,
    );
    h.up().await;
    h.set_config(
        r#"
[resource.fresh]
type = "fake:thing"
name = "fresh"

[resource.app]
type = "fake:thing"
name = "app"
immutable = 2
lifecycle = { precondition = [{ condition = "${fresh.arn == \"nope\"}", message = "fresh must be nope" }] }
"#,
    );
    let plan = h.plan().await;
    let app = plan.changes.iter().find(|c| c.address == "app").unwrap();
    assert_eq!(app.action, plinth_plan::Action::Replace);
    h.fake.clear_log();
    let report = h.apply(&plan).await;
    let failed: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.address.as_str(), f.action.as_str()))
        .collect();
    assert_eq!(failed, [("app", "precondition")]);
    // Neither half of the replacement ran: the old object is still there.
    assert_eq!(h.fake.count(Op::Delete), 0);
    assert_eq!(h.fake.started(Op::Create), ["fresh"]);
    assert!(h.state().resources.contains_key("app"));
}

#[tokio::test(start_paused = true)]
async fn a_module_output_precondition_false_at_apply_fails_the_run() {
    let (_dir, h) = common::harness(&[
        (
            "app/main.toml",
            r#"
[resource.mi]
type = "fake:thing"
name = "mi"

[output.arn]
value = "${mi.arn}"
lifecycle = { precondition = [{ condition = "${mi.arn == \"nope\"}", message = "the identity's arn is ${mi.arn}" }] }
"#,
        ),
        (
            "main.toml",
            r#"
[module.app]
source = "./app"
"#,
        ),
    ]);
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    let failed: Vec<(&str, &str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.address.as_str(), f.action.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "module.app.output.arn");
    assert_eq!(failed[0].1, "precondition");
    assert!(
        failed[0]
            .2
            .contains("the identity's arn is arn:fake:fake/mi"),
        "{}",
        failed[0].2
    );
}

#[tokio::test(start_paused = true)]
async fn a_data_source_whose_precondition_is_unknown_is_read_at_apply() {
    let h = Harness::new(
        r#"
[resource.first]
type = "fake:thing"
name = "first"

[data.lookup]
type = "fake:reader"
query = "q"
lifecycle = { precondition = [{ condition = "${first.arn != \"\"}", message = "first has an arn" }] }
"#,
    );
    let plan = h.plan().await;
    assert_eq!(
        h.fake.count(Op::ReadData),
        0,
        "not read before its precondition holds"
    );
    let lookup = plan
        .changes
        .iter()
        .find(|c| c.address == "data.lookup")
        .unwrap();
    assert!(lookup.reason.is_some(), "read during apply");
    h.apply_ok(&plan).await;
    assert_eq!(h.fake.count(Op::ReadData), 1);
}

#[tokio::test(start_paused = true)]
async fn a_message_that_names_a_secret_is_not_shown() {
    let h = Harness::new(
        r#"
[variable.password]
sensitive = true
default = "hunter2"

[resource.app]
type = "fake:thing"
name = "app"
lifecycle = { precondition = [{ condition = "${length(var.password) > 10}", message = "the password ${var.password} is too short" }] }

[check.strong]
assert = [{ condition = "${var.password != \"hunter2\"}", message = "the password is ${var.password}" }]
"#,
    );
    let d = h.try_plan().await.expect_err("too short");
    let text = h.render(&d);
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains("precondition failed for `app`: (the message refers to sensitive values and is not shown)"),
        "{text}"
    );
    let mut h = h;
    h.set_config(
        r#"
[variable.password]
sensitive = true
default = "hunter2"

[check.strong]
assert = [{ condition = "${var.password != \"hunter2\"}", message = "the password is ${var.password}" }]
"#,
    );
    let plan = h.plan().await;
    assert_eq!(plan.checks[0].status, CheckStatus::Fail);
    assert!(!format!("{:?}", plan.checks).contains("hunter2"));
}
