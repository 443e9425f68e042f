//! Plans the engine makes for a configuration changed safely — a rename with `[[moved]]`
//! that also updates, an object forgotten with `[[removed]]` (`destroy = false`) and
//! `[check.NAME]` blocks of every outcome — rendered as text, Markdown and both JSON
//! formats (snapshots of the first two; the JSON validated against its schema).

mod fixtures;

use fixtures::{Harness, redact_uuids};
use plinth_plan::{Action, CheckStatus, Plan};
use plinth_render::json::{SCHEMA, plan_json, terraform_json};
use plinth_render::markdown::{MarkdownOptions, render};
use plinth_render::{TextOptions, plan_text};

const BEFORE: &str = r#"
[resource.mi]
type = "ext:object"
name = "orders-mi"
spec = { tier = "standard" }

[resource.legacy_queue]
type = "core:data"
input = { name = "legacy" }
"#;

const AFTER: &str = r#"
[resource.identity]
type = "ext:object"
name = "orders-mi"
spec = { tier = "premium" }

[[moved]]
from = "mi"
to = "identity"

[[removed]]
from = "legacy_queue"
destroy = false

[check.identity_named]
assert = [{ condition = "${identity.name == \"orders-mi\"}", message = "the identity is orders-mi" }]

[check.identity_tier]
assert = [{ condition = "${identity.spec.tier == \"gold\"}", message = "the identity's tier is ${identity.spec.tier}, not gold" }]

[check.etag_known]
assert = [{ condition = "${identity.etag != \"\"}", message = "the identity has an etag" }]
"#;

async fn changed_plan() -> Plan {
    let mut h = Harness::new(BEFORE);
    h.up().await;
    h.set_config(AFTER);
    h.plan().await
}

#[tokio::test]
async fn an_engine_plan_with_a_move_a_forget_and_checks() {
    let plan = changed_plan().await;
    let identity = plan
        .change("identity")
        .expect("a change at the new address");
    assert_eq!(identity.action, Action::Update);
    assert_eq!(identity.moved_from.as_deref(), Some("mi"));
    assert_eq!(
        plan.change("legacy_queue").map(|c| c.action),
        Some(Action::Forget)
    );
    let statuses: Vec<CheckStatus> = plan.checks.iter().map(|c| c.status).collect();
    assert!(statuses.contains(&CheckStatus::Pass), "{statuses:?}");
    assert!(statuses.contains(&CheckStatus::Fail), "{statuses:?}");

    let text = redact_uuids(&plan_text(&plan, &TextOptions::default()));
    assert!(
        text.contains("      # mi has moved to identity\n"),
        "{text}"
    );
    assert!(
        text.contains("# legacy_queue will no longer be managed by plinth (removed from state; the object stays)"),
        "{text}"
    );
    assert!(text.contains("1 to move, 1 to forget."), "{text}");
    assert!(
        text.contains(
            "Warning: check.identity_tier failed: the identity's tier is premium, not gold"
        ),
        "{text}"
    );
    insta::assert_snapshot!("engine_text", text);

    let md = redact_uuids(&render(&plan, &MarkdownOptions::default()));
    assert!(md.contains("**forgets 1 object**"), "{md}");
    assert!(
        md.contains("<code>mi</code> has moved to <code>identity</code>"),
        "{md}"
    );
    assert!(md.contains("> - **failed** `check.identity_tier`"), "{md}");
    insta::assert_snapshot!("engine_markdown", md);

    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let doc = plan_json(&plan, false);
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    assert_eq!(doc["summary"]["forget"], 1);
    assert_eq!(doc["summary"]["move"], 1);
    let tf = terraform_json(&plan, false);
    let forget = tf["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "legacy_queue")
        .expect("the forget is listed");
    assert_eq!(forget["change"]["actions"], serde_json::json!(["forget"]));
    assert_eq!(
        tf["checks"].as_array().map(Vec::len),
        Some(plan.checks.len())
    );
}

const REVIEWED_BEFORE: &str = r#"
[resource.app]
type = "ext:object"
name = "app"
password = "first-s3cret"
spec = { tier = "standard", policy = "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"queue:Send\",\"queue:Receive\"],\"Resource\":\"*\"}]}" }
"#;

const REVIEWED_AFTER: &str = r#"
[resource.app]
type = "ext:object"
name = "app"
password = "second-s3cret"
spec = { tier = "standard", policy = "{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"queue:Send\",\"queue:Listen\"],\"Resource\":\"*\"}]}" }
"#;

/// Issue 18 on a plan the engine makes: an update that changes what the configuration
/// changed (a rotated secret, a policy document) and also puts back a change made outside
/// plinth (the tier) is said to undo it; the secret is changed on both sides, hidden; the
/// policy is a diff of its JSON; the JSON's paths resolve in `before`/`after`.
#[tokio::test]
async fn an_engine_plan_that_rotates_a_secret_edits_a_policy_and_undoes_drift() {
    let mut h = Harness::new(REVIEWED_BEFORE);
    h.up().await;
    // The spec as found: the tier changed by hand, the policy as applied.
    let applied_policy = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["queue:Send","queue:Receive"],"Resource":"*"}]}"#;
    h.ext.mutate(
        "ext/app",
        "spec",
        serde_json::json!({"tier": "basic", "policy": applied_policy}),
    );
    h.set_config(REVIEWED_AFTER);
    let plan = h.plan().await;
    let app = plan.change("app").expect("app is planned");
    assert_eq!(app.action, Action::Update, "{app:#?}");

    let text = plan_text(&plan, &TextOptions::default());
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.contains("  ~ app [ext:object] — undoes a change made outside plinth\n"),
        "{text}"
    );
    assert!(
        text.contains("      ~ password = (sensitive) -> (sensitive)\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "          -         \"queue:Receive\"\n          +         \"queue:Listen\"\n"
        ),
        "{text}"
    );
    insta::assert_snapshot!("engine_review_text", text);

    let doc = plan_json(&plan, false);
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    assert!(!doc.to_string().contains("s3cret"), "{doc:#}");
    let app = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "app")
        .unwrap();
    assert_eq!(app["drift"], true, "{app:#}");
    for p in app["changed_paths"].as_array().unwrap() {
        let p: plinth_value::Path = p.as_str().unwrap().parse().unwrap();
        let has =
            |side: &serde_json::Value| plinth_value::Value::from(side.clone()).get(&p).is_some();
        assert!(has(&app["before"]) || has(&app["after"]), "{p} in {app:#}");
    }
}
