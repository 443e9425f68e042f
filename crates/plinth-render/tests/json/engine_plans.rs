//! Plans made by the engine (core provider), rendered in both formats.

use super::*;

/// The test kit's engine with only the `core` provider, planning two at a time.
fn engine(toml: &str) -> Engine {
    let mut e = Engine::with_providers(toml, []);
    e.plan_parallelism = 2;
    e
}

const FIRST: &str = r#"
[variable.secret]
default = "hunter2-s3cr3t"
sensitive = true

[resource.base]
type = "core:data"
input = { name = "base", password = "${var.secret}" }

[resource.inst]
type = "core:data"
for_each = ["a", "b"]
input = "${each.key}-${base.id}"

[resource.cbd]
type = "core:data"
input = "x"
triggers = "1"
lifecycle = { create_before_destroy = true }

[resource.dtc]
type = "core:data"
input = "y"
triggers = "1"

[resource.gone]
type = "core:data"
input = "bye"

[output.base_id]
value = "${base.id}"

[output.pw]
value = "${var.secret}"
sensitive = true
"#;

const SECOND: &str = r#"
[variable.secret]
default = "hunter2-s3cr3t"
sensitive = true

[resource.base]
type = "core:data"
input = { name = "base2", password = "${var.secret}" }

[resource.inst]
type = "core:data"
for_each = ["a"]
input = "${each.key}-${base.id}"

[resource.cbd]
type = "core:data"
input = "x"
triggers = "2"
lifecycle = { create_before_destroy = true }

[resource.dtc]
type = "core:data"
input = "y"
triggers = "2"

[output.base_id]
value = "${base.id}"

[output.pw]
value = "${var.secret}"
sensitive = true
"#;

fn check_documents(plan: &Plan, what: &str) -> (J, J) {
    let doc = plan_json(plan, false);
    assert_valid(&doc, what);
    assert_valid(&plan_json(plan, true), what);
    let tf = terraform_json(plan, false);
    for d in [&doc, &tf] {
        let text = serde_json::to_string(d).unwrap();
        assert!(!text.contains(SECRET), "{what}: a secret leaks: {text}");
    }
    assert!(
        serde_json::to_string(&plan_json(plan, true))
            .unwrap()
            .contains(SECRET),
        "{what}: the secret is not shown when asked for"
    );
    (doc, tf)
}

#[tokio::test]
async fn engine_plans_render_and_validate() {
    let mut e = engine(FIRST);

    // First plan: everything is created; ids are known only after apply.
    let first = e.plan().await;
    let (doc, tf) = check_documents(&first, "first plan");
    assert_eq!(doc["summary"]["add"], 6, "{doc:#}");
    assert_eq!(doc["sensitive_variables"], json!(["secret"]));
    let changes = &doc["resource_changes"];
    let base = find(changes, "base");
    assert_eq!(base["actions"], json!(["create"]));
    assert_eq!(base["provider"], "core");
    assert_eq!(base["after"]["input"]["password"], J::Null);
    assert_eq!(base["after_sensitive"]["input"]["password"], true);
    assert_eq!(base["after_unknown"]["id"], true, "{base:#}");
    let inst_a = find(changes, r#"inst["a"]"#);
    assert_eq!(inst_a["index"], "a");
    assert_eq!(inst_a["name"], "inst");
    assert!(
        inst_a["depends_on"]
            .as_array()
            .unwrap()
            .contains(&json!("base")),
        "{inst_a:#}"
    );
    assert_eq!(doc["output_changes"]["base_id"]["after_unknown"], true);
    assert_eq!(doc["output_changes"]["pw"]["sensitive"], true);
    let tf_base = find(&tf["resource_changes"], "base");
    assert_eq!(tf_base["change"]["actions"], json!(["create"]));
    assert_eq!(tf_base["change"]["after_unknown"]["id"], true);
    assert_eq!(tf_base["provider_name"], "registry.plinth.dev/plinth/core");
    assert_eq!(find(&tf["resource_changes"], r#"inst["b"]"#)["index"], "b");

    e.apply_ok(&first).await;

    // Second plan: update, replace in both orders, a removed key, a removed declaration.
    e.set_config(SECOND);
    let second = e.plan().await;
    let (doc, tf) = check_documents(&second, "second plan");
    let changes = &doc["resource_changes"];
    assert_eq!(find(changes, "base")["actions"], json!(["update"]));
    assert_eq!(
        find(changes, "base")["before_sensitive"]["input"]["password"],
        true
    );
    let cbd = find(changes, "cbd");
    assert_eq!(cbd["actions"], json!(["create", "delete"]));
    assert_eq!(cbd["replace_paths"], json!(["triggers"]));
    assert_eq!(find(changes, "dtc")["actions"], json!(["delete", "create"]));
    assert_eq!(find(changes, r#"inst["b"]"#)["actions"], json!(["delete"]));
    assert_eq!(find(changes, "gone")["actions"], json!(["delete"]));
    assert_eq!(doc["has_changes"], true);

    let tfc = &tf["resource_changes"];
    assert_eq!(
        find(tfc, "cbd")["change"]["replace_paths"],
        json!([["triggers"]])
    );
    assert_eq!(
        find(tfc, "cbd")["action_reason"],
        "replace_because_cannot_update"
    );
    assert_eq!(
        find(tfc, "dtc")["change"]["actions"],
        json!(["delete", "create"])
    );
    assert_eq!(
        find(tfc, "gone")["action_reason"],
        "delete_because_no_resource_config"
    );
    assert_eq!(
        find(tfc, r#"inst["b"]"#)["action_reason"],
        "delete_because_each_key"
    );

    e.apply_ok(&second).await;

    // A plan with nothing to do.
    let third = e.plan().await;
    let (doc, tf) = check_documents(&third, "converged plan");
    assert_eq!(doc["has_changes"], false, "{doc:#}");
    assert!(
        doc["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["actions"] == json!(["no-op"]))
    );
    assert_eq!(tf["applyable"], false);
}
