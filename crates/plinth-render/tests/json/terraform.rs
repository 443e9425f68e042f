//! The export in Terraform's plan JSON representation.

use super::*;

#[test]
fn terraform_export_shapes() {
    let p = kitchen_sink();
    let tf = terraform_json(&p, false);
    assert_eq!(tf["format_version"], "1.2");
    assert_eq!(
        tf["terraform_version"],
        format!("plinth-{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(tf["timestamp"], "2026-01-02T03:04:05Z");
    assert_eq!(tf["applyable"], true);
    assert_eq!(tf["complete"], true);
    assert_eq!(tf["errored"], false);
    assert_eq!(tf["variables"]["location"], json!({"value": "eastus"}));
    assert_eq!(tf["variables"]["password"], json!({"value": null}));

    let changes = &tf["resource_changes"];
    // Every listed change has what plan-reading tools read.
    for c in changes.as_array().unwrap() {
        for key in ["address", "mode", "type", "name", "provider_name", "change"] {
            assert!(c.get(key).is_some(), "{key} missing in {c:#}");
        }
        for key in [
            "actions",
            "before",
            "after",
            "after_unknown",
            "before_sensitive",
            "after_sensitive",
        ] {
            assert!(
                c["change"].get(key).is_some(),
                "change.{key} missing in {c:#}"
            );
        }
        let actions = c["change"]["actions"].as_array().unwrap();
        assert!(!actions.is_empty() && actions.len() <= 2);
        for a in actions {
            assert!(
                ["create", "update", "delete", "no-op", "read"].contains(&a.as_str().unwrap()),
                "not a Terraform action: {a}"
            );
        }
    }
    // Actions are not resources; data sources read while planning are not listed.
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .all(|c| !c["address"].as_str().unwrap().starts_with("action."))
    );
    assert!(
        !changes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["address"] == "data.sub")
    );

    let rg = find(changes, "rg");
    assert_eq!(rg["mode"], "managed");
    assert_eq!(
        rg["type"],
        "azure:Microsoft.Resources/resourceGroups@2025-04-01"
    );
    assert_eq!(rg["name"], "rg");
    assert_eq!(rg["provider_name"], "registry.plinth.dev/plinth/azure");
    assert!(rg.get("index").is_none());
    assert_eq!(rg["change"]["actions"], json!(["create"]));
    assert_eq!(rg["change"]["before"], J::Null);
    // Terraform omits unknown attributes from `after` and keeps list positions.
    assert!(rg["change"]["after"].get("id").is_none());
    assert_eq!(rg["change"]["after"]["list"], json!([1, null]));
    assert_eq!(
        rg["change"]["after_unknown"],
        json!({"id": true, "list": [false, true], "properties": {"provisioningState": true}, "tags": {}})
    );
    assert_eq!(rg["change"]["before_sensitive"], false);
    assert_eq!(
        rg["change"]["after_sensitive"],
        json!({"adminPassword": true, "list": [false, false], "properties": {}, "tags": {}})
    );
    assert!(rg["change"].get("replace_paths").is_none());
    assert!(rg.get("action_reason").is_none());

    let app = find(changes, "app");
    assert_eq!(app["change"]["actions"], json!(["update"]));
    assert_eq!(app["change"]["before"]["input"], "old");
    assert_eq!(app["change"]["after_unknown"], json!({"output": true}));

    let db = find(changes, "db");
    assert_eq!(db["change"]["actions"], json!(["delete", "create"]));
    assert_eq!(
        db["change"]["replace_paths"],
        json!([["triggers", "v"], ["input", 0]])
    );
    assert_eq!(db["action_reason"], "replace_because_cannot_update");
    let cache = find(changes, "cache");
    assert_eq!(cache["change"]["actions"], json!(["create", "delete"]));
    assert_eq!(cache["action_reason"], "replace_by_request");
    assert_eq!(
        find(changes, "tainted")["action_reason"],
        "replace_because_tainted"
    );

    let web_a = find(changes, r#"web["a"]"#);
    assert_eq!(web_a["index"], "a");
    assert_eq!(web_a["name"], "web");
    assert_eq!(
        find(changes, r#"web["c"]"#)["action_reason"],
        "delete_because_each_key"
    );
    let noop = find(changes, r#"web["b"]"#);
    assert_eq!(noop["change"]["actions"], json!(["no-op"]));
    assert_eq!(noop["change"]["after_unknown"], json!({}));
    let old = find(changes, "old");
    assert_eq!(old["change"]["actions"], json!(["delete"]));
    assert_eq!(old["change"]["after"], J::Null);
    assert_eq!(old["change"]["after_unknown"], json!({}));
    assert_eq!(old["change"]["after_sensitive"], false);
    assert_eq!(old["change"]["before_sensitive"], json!({"input": true}));
    assert_eq!(old["action_reason"], "delete_because_no_resource_config");

    // The deposed object: the base address plus a deposed key.
    let deposed: Vec<&J> = changes
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c.get("deposed").is_some())
        .collect();
    assert_eq!(deposed.len(), 1);
    assert_eq!(deposed[0]["address"], "cache");
    assert_eq!(deposed[0]["change"]["actions"], json!(["delete"]));

    let kv = find(changes, "data.kv");
    assert_eq!(kv["mode"], "data");
    assert_eq!(kv["name"], "kv");
    assert_eq!(kv["change"]["actions"], json!(["read"]));
    assert_eq!(kv["change"]["after"], J::Null);
    assert_eq!(kv["change"]["after_unknown"], true);
    assert_eq!(kv["action_reason"], "read_because_config_unknown");

    // Drift: not the reconciled record.
    let drift = tf["resource_drift"].as_array().unwrap();
    assert_eq!(drift.len(), 2);
    let app_drift = find(&tf["resource_drift"], "app");
    assert_eq!(app_drift["mode"], "managed");
    assert_eq!(app_drift["name"], "app");
    assert_eq!(app_drift["change"]["actions"], json!(["update"]));
    assert_eq!(
        app_drift["change"]["after"],
        json!({"input": "old", "password": null})
    );
    assert_eq!(
        app_drift["change"]["after_sensitive"],
        json!({"password": true})
    );
    let d = find(&tf["resource_drift"], r#"web["d"]"#);
    assert_eq!(d["index"], "d");
    assert_eq!(d["change"]["actions"], json!(["delete"]));

    // Outputs.
    let out = &tf["output_changes"];
    assert_eq!(
        out["rg_id"],
        json!({"actions": ["create"], "before": null, "after": null, "after_unknown": true,
               "before_sensitive": false, "after_sensitive": false})
    );
    assert_eq!(out["pw"]["before_sensitive"], true);
    assert_eq!(out["pw"]["after"], J::Null);
    assert_eq!(out["region"]["after_unknown"], false);
    assert_eq!(out["partly"]["after"], json!({"a": 1}));
    assert_eq!(out["partly"]["after_unknown"], json!({"b": true}));
    assert_eq!(out["removed"]["actions"], json!(["delete"]));

    // Actions that run are action invocations.
    let inv = tf["action_invocations"].as_array().unwrap();
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0]["address"], "action.restart");
    assert_eq!(inv[0]["type"], "k8s:rollout-restart");
    assert_eq!(
        inv[0]["config_values"]["target"],
        "kube-system/Deployment/keda"
    );
    assert_eq!(inv[0]["config_values"]["token"], J::Null);
    assert_eq!(inv[0]["config_sensitive"], json!({"token": true}));

    // Planned values: what exists after apply.
    let resources = tf["planned_values"]["root_module"]["resources"]
        .as_array()
        .unwrap();
    let addrs: Vec<&str> = resources
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert!(
        addrs.contains(&"rg") && addrs.contains(&"data.sub"),
        "{addrs:?}"
    );
    assert!(
        !addrs.contains(&"old") && !addrs.contains(&"action.restart"),
        "{addrs:?}"
    );
    let rg_pv = resources.iter().find(|r| r["address"] == "rg").unwrap();
    assert_eq!(rg_pv["values"]["name"], "demo-rg");
    assert_eq!(rg_pv["sensitive_values"]["adminPassword"], true);
    assert_eq!(
        tf["planned_values"]["outputs"]["region"],
        json!({"sensitive": false, "value": "eastus"})
    );
    assert!(
        tf["planned_values"]["outputs"]["rg_id"]
            .get("value")
            .is_none()
    );
}

#[test]
fn a_move_is_terraforms_previous_address() {
    let mut p = empty_plan();
    let mut moved = rc("app", "core:data", DeclKind::Resource, Action::Update);
    moved.before = Some(v(json!({"input": {"n": "one"}})));
    moved.after = Some(v(json!({"input": {"n": "two"}})));
    moved.moved_from = Some("app[0]".into());
    p.changes.push(moved);
    p.changes
        .push(rc("other", "core:data", DeclKind::Resource, Action::Create));
    let tf = terraform_json(&p, false);
    let changes = tf["resource_changes"].as_array().expect("resource_changes");
    let app = changes.iter().find(|c| c["address"] == "app").expect("app");
    assert_eq!(app["previous_address"], json!("app[0]"));
    assert_eq!(app["change"]["actions"], json!(["update"]));
    let other = changes
        .iter()
        .find(|c| c["address"] == "other")
        .expect("other");
    assert!(other.get("previous_address").is_none(), "{tf:#}");
}
