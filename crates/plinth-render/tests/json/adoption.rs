//! Both JSON renderings of a plan that changes a configuration safely (issue 16): imports,
//! a forget, explicit moves and check results (the plan of `fixtures::adoption`).

use super::fixtures::adoption::{IMPORT_SECRET, KV_ID, QUEUE_ID, RG_ID, adoption_plan};
use super::*;
use plinth_plan::{CheckResult, CheckStatus};

#[test]
fn plinth_json_of_imports_forgets_moves_and_checks() {
    let p = adoption_plan();
    for reveal in [false, true] {
        assert_valid(&plan_json(&p, reveal), "adoption plan");
    }
    let doc = plan_json(&p, false);
    assert_eq!(
        doc["summary"],
        json!({"add": 0, "change": 2, "replace": 0, "destroy": 0, "read": 0, "run": 0,
               "move": 2, "import": 2, "forget": 1})
    );
    assert_eq!(doc["has_changes"], true);
    let changes = &doc["resource_changes"];
    let rg = find(changes, "rg");
    assert_eq!(rg["actions"], json!(["no-op"]));
    assert_eq!(rg["importing"], json!({"id": RG_ID}));
    let kv = find(changes, "kv");
    assert_eq!(kv["actions"], json!(["update"]));
    assert_eq!(kv["importing"], json!({"id": KV_ID}));
    // The secret the read did not mark is hidden before too, and said to be sensitive.
    assert_eq!(kv["before"]["properties"]["bootstrapSecret"], J::Null);
    assert_eq!(
        kv["before_sensitive"],
        json!({"properties": {"bootstrapSecret": true, "sku": {}}, "tags": {}})
    );
    let queue = find(changes, "legacy_queue");
    assert_eq!(queue["actions"], json!(["forget"]));
    assert_eq!(queue["id"], QUEUE_ID);
    assert!(queue.get("importing").is_none(), "{queue:#}");
    let mi = find(changes, r#"module.app["orders"].mi"#);
    assert_eq!(mi["moved_from"], "mi");
    assert_eq!(mi["module_address"], r#"module.app["orders"]"#);
    assert_eq!(
        doc["checks"],
        json!([
            {"address": "check.rg_tagged", "status": "pass", "messages": []},
            {"address": "check.scaledjob_ready", "status": "fail",
             "messages": ["The ScaledJob `orders-worker` has no ready job template."]},
            {"address": "module.app[\"orders\"].check.identity_federated",
             "module_address": "module.app[\"orders\"]", "status": "unknown", "messages": []},
        ])
    );
    let text = serde_json::to_string(&doc).unwrap();
    assert!(!text.contains(IMPORT_SECRET), "{text}");
    assert!(
        serde_json::to_string(&plan_json(&p, true))
            .unwrap()
            .contains(IMPORT_SECRET)
    );
}

#[test]
fn the_schema_knows_the_new_shapes_and_refuses_wrong_ones() {
    let good = plan_json(&adoption_plan(), false);
    let validator = validator();
    assert!(validator.is_valid(&good));
    let mut bad = Vec::new();
    let mut x = good.clone();
    x["resource_changes"][0]["importing"] = json!({"id": ""});
    bad.push(("an import without an id", x));
    let mut x = good.clone();
    x["resource_changes"][0]["importing"] = json!({"id": "a", "extra": 1});
    bad.push(("an import with an unknown field", x));
    let mut x = good.clone();
    x["checks"][0]["status"] = json!("error");
    bad.push(("a check status plinth does not have", x));
    let mut x = good.clone();
    x["checks"][0]["address"] = json!("rg");
    bad.push(("a check address that is not a check's", x));
    let mut x = good.clone();
    x.as_object_mut().unwrap().remove("checks");
    bad.push(("no checks array", x));
    let mut x = good;
    x["summary"]["forget"] = json!(-1);
    bad.push(("a negative forget count", x));
    for (what, doc) in bad {
        assert!(!validator.is_valid(&doc), "the schema accepts {what}");
    }
}

#[test]
fn terraform_json_of_imports_forgets_moves_and_checks() {
    let p = adoption_plan();
    let tf = terraform_json(&p, false);
    let changes = &tf["resource_changes"];
    // Terraform 1.5: an import is `change.importing`, its actions what follows it.
    let rg = find(changes, "rg");
    assert_eq!(rg["change"]["actions"], json!(["no-op"]));
    assert_eq!(rg["change"]["importing"], json!({"id": RG_ID}));
    let kv = find(changes, "kv");
    assert_eq!(kv["change"]["actions"], json!(["update"]));
    assert_eq!(kv["change"]["importing"], json!({"id": KV_ID}));
    assert_eq!(
        kv["change"]["before"]["properties"]["bootstrapSecret"],
        J::Null
    );
    assert_eq!(
        kv["change"]["before_sensitive"],
        json!({"properties": {"bootstrapSecret": true, "sku": {}}, "tags": {}})
    );
    // Terraform 1.7: a removed block with destroy = false is `["forget"]`.
    let queue = find(changes, "legacy_queue");
    assert_eq!(queue["change"]["actions"], json!(["forget"]));
    assert!(queue["change"].get("importing").is_none());
    assert!(queue.get("action_reason").is_none());
    // Moves keep Terraform's `previous_address`.
    assert_eq!(find(changes, "identity")["previous_address"], "worker_mi");
    let mi = find(changes, r#"module.app["orders"].mi"#);
    assert_eq!(mi["previous_address"], "mi");
    assert_eq!(mi["module_address"], r#"module.app["orders"]"#);
    // A forgotten object has no planned value.
    let planned = serde_json::to_string(&tf["planned_values"]).unwrap();
    assert!(!planned.contains("legacy_queue"), "{planned}");
    assert!(planned.contains("\"kv\""), "{planned}");
    // Checks as Terraform writes them: by check block, sorted by `to_display`.
    assert_eq!(
        tf["checks"],
        json!([
            {
                "//": "EXPERIMENTAL: see docs for details",
                "address": {"kind": "check", "name": "rg_tagged", "to_display": "check.rg_tagged"},
                "status": "pass",
                "instances": [{"address": {"to_display": "check.rg_tagged"}, "status": "pass"}],
            },
            {
                "//": "EXPERIMENTAL: see docs for details",
                "address": {"kind": "check", "name": "scaledjob_ready", "to_display": "check.scaledjob_ready"},
                "status": "fail",
                "instances": [{
                    "address": {"to_display": "check.scaledjob_ready"},
                    "status": "fail",
                    "problems": [{"message": "The ScaledJob `orders-worker` has no ready job template."}],
                }],
            },
            {
                "//": "EXPERIMENTAL: see docs for details",
                "address": {"kind": "check", "name": "identity_federated", "module": "module.app",
                            "to_display": "module.app.check.identity_federated"},
                "status": "unknown",
                "instances": [{
                    "address": {"module": "module.app[\"orders\"]",
                                "to_display": "module.app[\"orders\"].check.identity_federated"},
                    "status": "unknown",
                }],
            },
        ])
    );
    let text = serde_json::to_string(&tf).unwrap();
    assert!(!text.contains(IMPORT_SECRET), "{text}");
    assert!(
        serde_json::to_string(&terraform_json(&p, true))
            .unwrap()
            .contains(IMPORT_SECRET)
    );
}

#[test]
fn terraform_checks_aggregate_the_instances_of_a_check_block() {
    let check = |address: &str, status, messages: &[&str]| CheckResult {
        address: address.into(),
        status,
        messages: messages.iter().map(|m| m.to_string()).collect(),
    };
    let mut p = empty_plan();
    p.checks = vec![
        check(
            r#"module.app["b"].check.ready"#,
            CheckStatus::Fail,
            &["zeta", "alpha"],
        ),
        check(r#"module.app["a"].check.ready"#, CheckStatus::Unknown, &[]),
        check("check.ready", CheckStatus::Pass, &[]),
    ];
    let tf = terraform_json(&p, false);
    let checks = tf["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{checks:#?}");
    assert_eq!(checks[0]["address"]["to_display"], "check.ready");
    let module = &checks[1];
    assert_eq!(module["address"]["to_display"], "module.app.check.ready");
    assert_eq!(module["status"], "fail");
    let instances = module["instances"].as_array().unwrap();
    let shown: Vec<(&str, &str)> = instances
        .iter()
        .map(|i| {
            (
                i["address"]["to_display"].as_str().unwrap(),
                i["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            (r#"module.app["a"].check.ready"#, "unknown"),
            (r#"module.app["b"].check.ready"#, "fail"),
        ]
    );
    // Terraform sorts the problems by message.
    assert_eq!(
        instances[1]["problems"],
        json!([{"message": "alpha"}, {"message": "zeta"}])
    );
    // Without checks, Terraform's document has none.
    assert!(terraform_json(&empty_plan(), false).get("checks").is_none());
    assert_eq!(plan_json(&empty_plan(), false)["checks"], json!([]));
}

/// The whole of both documents, for review: what a tool reading them gets.
#[test]
fn both_json_documents_of_the_adoption_plan() {
    let p = adoption_plan();
    let pretty = |j: &J| serde_json::to_string_pretty(j).unwrap();
    insta::assert_snapshot!("adoption_plan_json", pretty(&plan_json(&p, false)));
    insta::assert_snapshot!(
        "adoption_terraform_json",
        pretty(&terraform_json(&p, false))
    );
}
