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

/// A plan whose configuration has every kind of input: known, unknown, sensitive, nested,
/// per-instance (`for_each`, `count`), in a module called twice, and a removed declaration.
fn configured_plan() -> Plan {
    let mut p = empty_plan();
    let mut rg = rc(
        "rg",
        "azure:Microsoft.Resources/resourceGroups@2025-04-01",
        DeclKind::Resource,
        Action::NoOp,
    );
    rg.config = Some(v(json!({"name": "demo-rg", "location": "eastus"})));
    rg.before = Some(v(
        json!({"id": "/subscriptions/s/resourceGroups/demo-rg", "name": "demo-rg", "location": "eastus"}),
    ));
    rg.after = rg.before.clone();
    p.changes.push(rg);

    let mut sb = rc(
        "sb",
        "azure:Microsoft.ServiceBus/namespaces@2024-01-01",
        DeclKind::Resource,
        Action::Create,
    );
    let config =
        v(json!({"name": "demo-sbns", "body": {"properties": {"disableLocalAuth": true}}}));
    let config = with(config, "parent", Value::Unknown);
    let config = with(config, "body.properties.principal", Value::Unknown);
    sb.config = Some(config.clone());
    sb.after = Some(config);
    sb.depends_on = vec!["rg".into()];
    p.changes.push(sb);

    let mut db = rc("db", "core:data", DeclKind::Resource, Action::Update);
    db.config = Some(with(v(json!({"input": "x"})), "password", secret()));
    db.before = Some(with(
        v(json!({"id": "gen-1", "input": "old"})),
        "password",
        secret(),
    ));
    db.after = Some(with(
        v(json!({"id": "gen-1", "input": "x"})),
        "password",
        secret(),
    ));
    p.changes.push(db);

    for key in ["a", "b"] {
        let mut w = rc(
            &format!("web[\"{key}\"]"),
            "core:data",
            DeclKind::Resource,
            Action::Create,
        );
        w.name = "web".into();
        w.config = Some(v(json!({"input": key, "shared": "same"})));
        p.changes.push(w);
    }
    for n in 0..3 {
        let mut q = rc(
            &format!("q[{n}]"),
            "core:data",
            DeclKind::Resource,
            Action::Create,
        );
        q.name = "q".into();
        q.config = Some(v(json!({"input": n})));
        p.changes.push(q);
    }
    for key in ["x", "y"] {
        let mut mi = rc(
            &format!("module.app[\"{key}\"].mi"),
            "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30",
            DeclKind::Resource,
            Action::Create,
        );
        mi.name = "mi".into();
        mi.config = Some(v(json!({"name": format!("{key}-mi")})));
        p.changes.push(mi);
    }
    let mut data = rc(
        "data.sub",
        "azure:Microsoft.Resources/subscriptions@2022-12-01",
        DeclKind::Data,
        Action::Read,
    );
    data.config = Some(v(json!({"id": "/subscriptions/s"})));
    data.after = Some(v(json!({"id": "/subscriptions/s", "displayName": "dev"})));
    p.changes.push(data);

    let mut old = rc("old", "core:data", DeclKind::Resource, Action::Delete);
    old.before = Some(with(v(json!({"id": "gen-6"})), "token", secret()));
    old.reason = Some("not in the configuration".into());
    p.changes.push(old);
    let mut dep = rc(
        "db (deposed)",
        "core:data",
        DeclKind::Resource,
        Action::Delete,
    );
    dep.name = "db".into();
    dep.before = Some(v(json!({"id": "gen-0"})));
    p.changes.push(dep);

    p.outputs.push(OutputChange {
        name: "region".into(),
        action: Action::NoOp,
        before: Some(Value::from("eastus")),
        after: Some(Value::from("eastus")),
        sensitive: false,
    });
    p
}

fn config_resource<'a>(resources: &'a J, address: &str) -> &'a J {
    resources
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("no {address} in {resources:#}"))
}

#[test]
fn configuration_has_terraforms_shape_one_resource_per_declaration() {
    let tf = terraform_json(&configured_plan(), false);
    let config = &tf["configuration"];
    assert_eq!(
        config["provider_config"],
        json!({
            "azure": {"name": "azure", "full_name": "registry.plinth.dev/plinth/azure"},
            "core": {"name": "core", "full_name": "registry.plinth.dev/plinth/core"},
        })
    );
    let resources = &config["root_module"]["resources"];
    let addresses: Vec<&str> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    // One per declaration, in plan order; a removed declaration and a deposed object have
    // no configuration.
    assert_eq!(addresses, ["rg", "sb", "db", "web", "q", "data.sub"]);

    let rg = config_resource(resources, "rg");
    assert_eq!(rg["mode"], "managed");
    assert_eq!(
        rg["type"],
        "azure:Microsoft.Resources/resourceGroups@2025-04-01"
    );
    assert_eq!(rg["name"], "rg");
    assert_eq!(rg["provider_config_key"], "azure");
    assert_eq!(rg["schema_version"], 0);
    assert_eq!(
        rg["expressions"],
        json!({"location": {"constant_value": "eastus"}, "name": {"constant_value": "demo-rg"}})
    );

    // Unknown inputs refer to what the object depends on; an object with unknown parts is
    // a nested block whose known parts stay constants.
    let sb = config_resource(resources, "sb");
    assert_eq!(sb["expressions"]["parent"], json!({"references": ["rg"]}));
    assert_eq!(
        sb["expressions"]["name"],
        json!({"constant_value": "demo-sbns"})
    );
    assert_eq!(
        sb["expressions"]["body"],
        json!([{"properties": [{
            "disableLocalAuth": {"constant_value": true},
            "principal": {"references": ["rg"]},
        }]}])
    );

    // A sensitive input is never a constant.
    let db = config_resource(resources, "db");
    assert_eq!(db["expressions"]["password"], json!({}));
    assert_eq!(db["expressions"]["input"], json!({"constant_value": "x"}));

    // Instances: what differs refers to each.key / count.index, what they share is constant.
    let web = config_resource(resources, "web");
    assert_eq!(
        web["expressions"]["input"],
        json!({"references": ["each.key"]})
    );
    assert_eq!(
        web["expressions"]["shared"],
        json!({"constant_value": "same"})
    );
    assert!(web.get("count_expression").is_none());
    let q = config_resource(resources, "q");
    assert_eq!(
        q["expressions"]["input"],
        json!({"references": ["count.index"]})
    );
    assert_eq!(q["count_expression"], json!({"constant_value": 3}));

    let data = config_resource(resources, "data.sub");
    assert_eq!(data["mode"], "data");
    assert_eq!(data["name"], "sub");
    assert_eq!(
        data["expressions"]["id"],
        json!({"constant_value": "/subscriptions/s"})
    );

    // A module's declarations are in its call's module, once for all its instances.
    let app = &config["root_module"]["module_calls"]["app"]["module"];
    let mi = config_resource(&app["resources"], "mi");
    // It differs per module instance, through the module's inputs, which the plan does not
    // name: neither a constant nor a reference Terraform's form can give.
    assert_eq!(mi["expressions"]["name"], json!({}));
    assert_eq!(app["resources"].as_array().unwrap().len(), 1);
}

#[test]
fn prior_state_is_the_objects_before_with_secrets_hidden() {
    let p = configured_plan();
    let tf = terraform_json(&p, false);
    let prior = &tf["prior_state"];
    assert_eq!(prior["format_version"], "1.0");
    assert_eq!(
        prior["terraform_version"],
        format!("plinth-{}", env!("CARGO_PKG_VERSION"))
    );
    let resources = prior["values"]["root_module"]["resources"]
        .as_array()
        .unwrap();
    let addresses: Vec<&str> = resources
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    // What existed before: not the creates, but the deletes and the deposed object.
    assert_eq!(addresses, ["rg", "db", "old", "db"]);
    let rg = &resources[0];
    assert_eq!(rg["mode"], "managed");
    assert_eq!(rg["provider_name"], "registry.plinth.dev/plinth/azure");
    assert_eq!(rg["schema_version"], 0);
    assert_eq!(rg["values"]["name"], "demo-rg");
    assert_eq!(rg["sensitive_values"], json!({}));
    let db = &resources[1];
    assert_eq!(db["values"]["password"], J::Null);
    assert_eq!(db["values"]["input"], "old");
    assert_eq!(db["sensitive_values"], json!({"password": true}));
    assert!(db.get("deposed_key").is_none());
    assert_eq!(resources[2]["sensitive_values"], json!({"token": true}));
    assert_eq!(resources[3]["deposed_key"], "00000000");
    assert_eq!(
        prior["values"]["outputs"]["region"],
        json!({"sensitive": false, "value": "eastus"})
    );
    // Revealed only when asked.
    let shown = terraform_json(&p, true);
    assert_eq!(
        shown["prior_state"]["values"]["root_module"]["resources"][1]["values"]["password"],
        SECRET
    );
    assert_eq!(
        shown["configuration"]["root_module"]["resources"][2]["expressions"]["password"],
        json!({"constant_value": SECRET})
    );
    for doc in [
        tf["prior_state"].to_string(),
        tf["configuration"].to_string(),
    ] {
        assert!(!doc.contains(SECRET), "{doc}");
    }
}

#[test]
fn an_empty_plan_has_an_empty_prior_state_and_configuration() {
    let tf = terraform_json(&empty_plan(), false);
    assert_eq!(
        tf["prior_state"]["values"],
        json!({"outputs": {}, "root_module": {"resources": []}})
    );
    assert_eq!(
        tf["configuration"],
        json!({"provider_config": {}, "root_module": {"resources": []}})
    );
}
