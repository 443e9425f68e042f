//! plinth's plan JSON and the Terraform export: shapes, schema validity, and that no
//! sensitive value leaks unless asked for.

use std::collections::BTreeMap;

use plinth_plan::{
    Action, DeclKind, Drift, OutputChange, PLAN_FORMAT, Plan, PlanMode, ReplaceOrder,
    ResourceChange,
};
use plinth_render::json::{FORMAT_VERSION, SCHEMA, plan_json, terraform_json};
use plinth_testkit::{Engine, path};
use plinth_value::Value;
use serde_json::{Value as J, json};

const SECRET: &str = "hunter2-s3cr3t";

fn v(j: J) -> Value {
    Value::from(j)
}

fn secret() -> Value {
    Value::sensitive(Value::from(SECRET))
}

fn with(mut base: Value, at: &str, x: Value) -> Value {
    base.set(&path(at), x);
    base
}

fn rc(address: &str, type_name: &str, kind: DeclKind, action: Action) -> ResourceChange {
    ResourceChange::new(address, type_name, kind, action)
}

fn empty_plan() -> Plan {
    Plan {
        format: PLAN_FORMAT.into(),
        mode: PlanMode::Normal,
        created_at: "2026-01-02T03:04:05Z".into(),
        lineage: "lin-1".into(),
        serial: 7,
        config_digest: "abc123".into(),
        config_dir: "/work/x".into(),
        variables: BTreeMap::new(),
        changes: vec![],
        outputs: vec![],
        drift: vec![],
        warnings: vec![],
        targets: vec![],
    }
}

/// A plan with one of everything: create with unknowns, update (drift), replace in both
/// orders, delete, a deposed object, data reads (now and deferred), for_each instances,
/// actions, sensitive values everywhere, drift and outputs.
fn kitchen_sink() -> Plan {
    let mut p = empty_plan();
    p.variables.insert("location".into(), Value::from("eastus"));
    p.variables.insert("password".into(), secret());
    p.variables.insert(
        "nested".into(),
        with(v(json!({"plain": 1})), "token", secret()),
    );
    p.warnings.push("something to know".into());

    // create with unknowns and a sensitive input
    let mut c = rc(
        "rg",
        "azure:Microsoft.Resources/resourceGroups@2025-04-01",
        DeclKind::Resource,
        Action::Create,
    );
    let after =
        v(json!({"name": "demo-rg", "location": "eastus", "tags": {"env": "dev"}, "list": [1, 2]}));
    let after = with(after, "id", Value::Unknown);
    let after = with(after, "properties.provisioningState", Value::Unknown);
    let after = with(after, "list[1]", Value::Unknown);
    let after = with(after, "adminPassword", secret());
    c.after = Some(after.clone());
    c.config = Some(after);
    c.id = Some("/subscriptions/x/resourceGroups/demo-rg".into());
    p.changes.push(c);

    // update (undoing drift)
    let mut u = rc("app", "core:data", DeclKind::Resource, Action::Update);
    u.before = Some(v(json!({"id": "gen-1", "input": "old", "output": "old"})));
    u.after = Some(with(
        v(json!({"id": "gen-1", "input": "new"})),
        "output",
        Value::Unknown,
    ));
    u.changed_paths = vec![path("input")];
    u.drift = true;
    u.depends_on = vec!["rg".into()];
    u.id = Some("gen-1".into());
    p.changes.push(u);

    // replace, delete then create, forced by an attribute
    let mut r = rc("db", "core:data", DeclKind::Resource, Action::Replace);
    r.replace_order = Some(ReplaceOrder::DeleteThenCreate);
    r.before = Some(v(
        json!({"id": "gen-2", "triggers": {"v": "1"}, "input": [1]}),
    ));
    r.after = Some(with(
        v(json!({"triggers": {"v": "2"}, "input": [1]})),
        "id",
        Value::Unknown,
    ));
    r.changed_paths = vec![path("triggers.v")];
    r.replace_paths = vec![path("triggers.v"), path("input[0]")];
    p.changes.push(r);

    // replace, create before destroy, by request, with a sensitive value on both sides
    let mut r2 = rc("cache", "core:data", DeclKind::Resource, Action::Replace);
    r2.replace_order = Some(ReplaceOrder::CreateThenDelete);
    r2.before = Some(with(v(json!({"id": "gen-3"})), "input", secret()));
    r2.after = Some(with(
        with(v(json!({})), "id", Value::Unknown),
        "input",
        secret(),
    ));
    r2.reason = Some("requested with --replace".into());
    p.changes.push(r2);

    // replace because tainted
    let mut r3 = rc("tainted", "core:data", DeclKind::Resource, Action::Replace);
    r3.replace_order = Some(ReplaceOrder::DeleteThenCreate);
    r3.before = Some(v(json!({"id": "gen-9"})));
    r3.after = Some(with(v(json!({})), "id", Value::Unknown));
    r3.reason = Some("tainted: a previous create or update failed part-way".into());
    p.changes.push(r3);

    // for_each instances: one created, one kept, one removed from for_each
    let mut a = rc(
        r#"web["a"]"#,
        "core:data",
        DeclKind::Resource,
        Action::Create,
    );
    a.after = Some(with(v(json!({"input": "a"})), "id", Value::Unknown));
    p.changes.push(a);
    let mut b = rc(r#"web["b"]"#, "core:data", DeclKind::Resource, Action::NoOp);
    b.before = Some(v(json!({"id": "gen-4", "input": "b"})));
    b.after = b.before.clone();
    p.changes.push(b);
    let mut gone_key = rc(
        r#"web["c"]"#,
        "core:data",
        DeclKind::Resource,
        Action::Delete,
    );
    gone_key.before = Some(v(json!({"id": "gen-5", "input": "c"})));
    gone_key.reason = Some("not in the configuration".into());
    gone_key.id = Some("gen-5".into());
    p.changes.push(gone_key);

    // delete of a removed declaration, holding a secret
    let mut d = rc("old", "core:data", DeclKind::Resource, Action::Delete);
    d.before = Some(with(v(json!({"id": "gen-6"})), "input", secret()));
    d.reason = Some("not in the configuration".into());
    p.changes.push(d);

    // the old object of a create_before_destroy replacement
    let mut dep = rc(
        "cache (deposed)",
        "core:data",
        DeclKind::Resource,
        Action::Delete,
    );
    dep.name = "cache".into();
    dep.before = Some(v(json!({"id": "gen-0"})));
    dep.reason = Some("deposed: the old object of a create_before_destroy replacement".into());
    p.changes.push(dep);

    // data sources: read now, and deferred
    let mut dr = rc(
        "data.sub",
        "azure:Microsoft.Resources/subscriptions@2022-12-01",
        DeclKind::Data,
        Action::Read,
    );
    dr.after = Some(v(json!({"id": "/subscriptions/x", "displayName": "dev"})));
    dr.config = Some(v(json!({"id": "/subscriptions/x"})));
    p.changes.push(dr);
    let mut dd = rc(
        "data.kv",
        "azure:Microsoft.KeyVault/vaults@2023-07-01",
        DeclKind::Data,
        Action::Read,
    );
    dd.after = Some(Value::Unknown);
    dd.config = Some(with(v(json!({})), "parent", Value::Unknown));
    dd.reason = Some(
        "read during apply: its configuration depends on values known only after apply".into(),
    );
    dd.depends_on = vec!["rg".into()];
    p.changes.push(dd);

    // actions: one runs (with a secret in its inputs), one does not
    let mut run = rc(
        "action.restart",
        "k8s:rollout-restart",
        DeclKind::Action,
        Action::Run,
    );
    run.config = Some(with(
        v(json!({"target": "kube-system/Deployment/keda"})),
        "token",
        secret(),
    ));
    run.reason = Some("`app` changes".into());
    p.changes.push(run);
    let mut idle = rc(
        "action.idle",
        "k8s:rollout-restart",
        DeclKind::Action,
        Action::NoOp,
    );
    idle.config = Some(v(json!({"target": "x"})));
    p.changes.push(idle);

    // outputs
    p.outputs.push(OutputChange {
        name: "rg_id".into(),
        action: Action::Create,
        before: None,
        after: Some(Value::Unknown),
        sensitive: false,
    });
    p.outputs.push(OutputChange {
        name: "pw".into(),
        action: Action::Update,
        before: Some(secret()),
        after: Some(Value::sensitive(Value::from(format!("{SECRET}-new")))),
        sensitive: true,
    });
    p.outputs.push(OutputChange {
        name: "region".into(),
        action: Action::NoOp,
        before: Some(Value::from("eastus")),
        after: Some(Value::from("eastus")),
        sensitive: false,
    });
    p.outputs.push(OutputChange {
        name: "removed".into(),
        action: Action::Delete,
        before: Some(v(json!({"a": [1, 2]}))),
        after: None,
        sensitive: false,
    });
    p.outputs.push(OutputChange {
        name: "partly".into(),
        action: Action::Create,
        before: None,
        after: Some(with(v(json!({"a": 1})), "b", Value::Unknown)),
        sensitive: false,
    });

    // drift: changed outside (with a secret), deleted outside, and a reconciled record
    p.drift.push(Drift {
        address: "app".into(),
        type_name: "core:data".into(),
        action: Action::Update,
        before: Some(with(v(json!({"input": "new"})), "password", secret())),
        after: Some(with(v(json!({"input": "old"})), "password", secret())),
        changed_paths: vec![path("input")],
        id: Some("gen-1".into()),
        reconciled: false,
    });
    p.drift.push(Drift {
        address: r#"web["d"]"#.into(),
        type_name: "core:data".into(),
        action: Action::Delete,
        before: Some(v(json!({"input": "d"}))),
        after: None,
        changed_paths: vec![],
        id: Some("gen-7".into()),
        reconciled: false,
    });
    p.drift.push(Drift {
        address: "half".into(),
        type_name: "core:data".into(),
        action: Action::Update,
        before: None,
        after: Some(v(json!({"input": "h"}))),
        changed_paths: vec![],
        id: Some("gen-8".into()),
        reconciled: true,
    });
    p
}

fn validator() -> jsonschema::Validator {
    let schema: J = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    jsonschema::draft202012::meta::validate(&schema).expect("the schema is a valid 2020-12 schema");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

fn assert_valid(doc: &J, what: &str) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: plan JSON does not match its schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(doc).unwrap()
    );
}

fn find<'a>(list: &'a J, address: &str) -> &'a J {
    list.as_array()
        .expect("array")
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no {address} in {list:#}"))
}

// ---------------------------------------------------------------------------------------
// plinth's format
// ---------------------------------------------------------------------------------------

#[test]
fn hand_built_plans_validate_against_the_schema() {
    let mut plans = vec![("kitchen sink", kitchen_sink()), ("empty", empty_plan())];
    let mut destroy = kitchen_sink();
    destroy.mode = PlanMode::Destroy;
    destroy.targets = vec!["rg".into()];
    plans.push(("destroy", destroy));
    let mut refresh = empty_plan();
    refresh.mode = PlanMode::RefreshOnly;
    refresh.drift = kitchen_sink().drift;
    plans.push(("refresh-only", refresh));
    for (what, p) in &plans {
        assert_valid(&plan_json(p, false), what);
        assert_valid(&plan_json(p, true), what);
    }
}

#[test]
fn the_schema_is_strict() {
    let good = plan_json(&kitchen_sink(), false);
    let validator = validator();
    assert!(validator.is_valid(&good));
    let mut bad = Vec::new();
    let mut x = good.clone();
    x["resource_changes"][0]["actions"] = json!(["replace"]);
    bad.push(("an action Terraform does not spell", x));
    let mut x = good.clone();
    x["resource_changes"][0]["kind"] = json!("module");
    bad.push(("an unknown kind", x));
    let mut x = good.clone();
    x["resource_changes"][0]
        .as_object_mut()
        .unwrap()
        .remove("after_unknown");
    bad.push(("a missing field", x));
    let mut x = good.clone();
    x["resource_changes"][0]["surprise"] = json!(1);
    bad.push(("an extra field", x));
    let mut x = good.clone();
    x["mode"] = json!("apply");
    bad.push(("an unknown mode", x));
    let mut x = good.clone();
    x["format_version"] = json!("plinth-plan-json/2");
    bad.push(("another format", x));
    let mut x = good.clone();
    x["resource_changes"][0]["after_unknown"] = json!({"id": "yes"});
    bad.push(("a non-boolean leaf in after_unknown", x));
    let mut x = good;
    x["summary"]["add"] = json!(-1);
    bad.push(("a negative count", x));
    for (what, doc) in bad {
        assert!(!validator.is_valid(&doc), "the schema accepts {what}");
    }
}

#[test]
fn plinth_format_shapes() {
    let p = kitchen_sink();
    let doc = plan_json(&p, false);
    assert_eq!(doc["format_version"], FORMAT_VERSION);
    assert_eq!(doc["plinth_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["mode"], "normal");
    assert_eq!(doc["lineage"], "lin-1");
    assert_eq!(doc["serial"], 7);
    assert_eq!(doc["config_digest"], "abc123");
    assert_eq!(doc["created_at"], "2026-01-02T03:04:05Z");
    assert_eq!(doc["has_changes"], true);
    assert_eq!(
        doc["summary"],
        json!({"add": 2, "change": 1, "replace": 3, "destroy": 3, "read": 2, "run": 1})
    );
    assert_eq!(doc["sensitive_variables"], json!(["nested", "password"]));
    assert_eq!(doc["variables"]["location"], "eastus");
    assert_eq!(doc["variables"]["password"], J::Null);
    assert_eq!(
        doc["variables"]["nested"],
        json!({"plain": 1, "token": null})
    );
    assert_eq!(doc["warnings"], json!(["something to know"]));

    let changes = &doc["resource_changes"];
    assert_eq!(changes.as_array().unwrap().len(), p.changes.len());
    let rg = find(changes, "rg");
    assert_eq!(rg["provider"], "azure");
    assert_eq!(rg["kind"], "managed");
    assert_eq!(rg["index"], J::Null);
    assert_eq!(rg["actions"], json!(["create"]));
    assert_eq!(rg["before"], J::Null);
    assert_eq!(rg["after"]["id"], J::Null);
    assert_eq!(rg["after"]["name"], "demo-rg");
    assert_eq!(rg["after"]["list"], json!([1, null]));
    assert_eq!(rg["after"]["adminPassword"], J::Null);
    assert_eq!(
        rg["after_unknown"],
        json!({"id": true, "list": [false, true], "properties": {"provisioningState": true}, "tags": {}})
    );
    assert_eq!(rg["before_sensitive"], false);
    // As Terraform: nested objects and lists are kept (`{}`, `false` per element).
    assert_eq!(
        rg["after_sensitive"],
        json!({"adminPassword": true, "list": [false, false], "properties": {}, "tags": {}})
    );

    let app = find(changes, "app");
    assert_eq!(app["actions"], json!(["update"]));
    assert_eq!(app["drift"], true);
    assert_eq!(app["changed_paths"], json!(["input"]));
    assert_eq!(app["depends_on"], json!(["rg"]));
    assert_eq!(app["id"], "gen-1");

    let db = find(changes, "db");
    assert_eq!(db["actions"], json!(["delete", "create"]));
    assert_eq!(db["replace_paths"], json!(["triggers.v", "input[0]"]));
    let cache = find(changes, "cache");
    assert_eq!(cache["actions"], json!(["create", "delete"]));
    assert_eq!(cache["reason"], "requested with --replace");
    assert_eq!(cache["before_sensitive"], json!({"input": true}));

    let web_a = find(changes, r#"web["a"]"#);
    assert_eq!(web_a["index"], "a");
    assert_eq!(web_a["name"], "web");
    assert_eq!(find(changes, r#"web["b"]"#)["actions"], json!(["no-op"]));
    let old = find(changes, "old");
    assert_eq!(old["actions"], json!(["delete"]));
    assert_eq!(old["after"], J::Null);
    assert_eq!(old["after_unknown"], false);
    let deposed = find(changes, "cache (deposed)");
    assert_eq!(deposed["deposed"], true);
    assert_eq!(deposed["index"], J::Null);

    let kv = find(changes, "data.kv");
    assert_eq!(kv["kind"], "data");
    assert_eq!(kv["actions"], json!(["read"]));
    assert_eq!(kv["after"], J::Null);
    assert_eq!(kv["after_unknown"], true);
    let run = find(changes, "action.restart");
    assert_eq!(run["kind"], "action");
    assert_eq!(run["actions"], json!(["run"]));
    assert_eq!(find(changes, "action.idle")["actions"], json!(["no-op"]));

    let drift = &doc["resource_drift"];
    assert_eq!(find(drift, "app")["actions"], json!(["update"]));
    assert_eq!(
        find(drift, "app")["after_sensitive"],
        json!({"password": true})
    );
    assert_eq!(find(drift, r#"web["d"]"#)["actions"], json!(["delete"]));
    assert_eq!(find(drift, "half")["reconciled"], true);

    let outputs = &doc["output_changes"];
    assert_eq!(
        outputs["rg_id"],
        json!({"actions": ["create"], "before": null, "after": null, "after_unknown": true, "sensitive": false})
    );
    assert_eq!(
        outputs["pw"],
        json!({"actions": ["update"], "before": null, "after": null, "after_unknown": false, "sensitive": true})
    );
    assert_eq!(outputs["region"]["actions"], json!(["no-op"]));
    assert_eq!(outputs["region"]["after"], "eastus");
    assert_eq!(outputs["removed"]["actions"], json!(["delete"]));
    assert_eq!(outputs["removed"]["before"], json!({"a": [1, 2]}));
    assert_eq!(outputs["partly"]["after"], json!({"a": 1, "b": null}));
    assert_eq!(outputs["partly"]["after_unknown"], json!({"b": true}));

    // Revealed, the same document with the values filled in.
    let shown = plan_json(&p, true);
    assert_eq!(
        find(&shown["resource_changes"], "rg")["after"]["adminPassword"],
        SECRET
    );
    assert_eq!(shown["variables"]["password"], SECRET);
    assert_eq!(shown["output_changes"]["pw"]["before"], SECRET);
    assert_eq!(
        find(&shown["resource_changes"], "rg")["after_sensitive"],
        rg["after_sensitive"]
    );
}

#[test]
fn an_empty_plan() {
    let doc = plan_json(&empty_plan(), false);
    assert_eq!(doc["has_changes"], false);
    assert_eq!(doc["resource_changes"], json!([]));
    assert_eq!(doc["output_changes"], json!({}));
    let tf = terraform_json(&empty_plan(), false);
    assert_eq!(tf["resource_changes"], json!([]));
    assert_eq!(tf["applyable"], false);
    assert!(tf.get("variables").is_none());
}

// ---------------------------------------------------------------------------------------
// Terraform's representation
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------

#[test]
fn secrets_never_leak_unless_asked() {
    let p = kitchen_sink();
    for (what, doc) in [
        ("plinth", plan_json(&p, false)),
        ("terraform", terraform_json(&p, false)),
    ] {
        let text = serde_json::to_string(&doc).unwrap();
        assert!(!text.contains(SECRET), "{what} JSON leaks a secret: {text}");
        let pretty = serde_json::to_string_pretty(&doc).unwrap();
        assert!(!pretty.contains("hunter2"), "{what} JSON leaks a secret");
    }
    for (what, doc) in [
        ("plinth", plan_json(&p, true)),
        ("terraform", terraform_json(&p, true)),
    ] {
        let text = serde_json::to_string(&doc).unwrap();
        assert!(
            text.contains(SECRET),
            "{what} JSON hides what was asked for"
        );
    }
}

#[test]
fn a_sensitive_value_hides_its_shape() {
    let mut p = empty_plan();
    let mut c = rc("x", "core:data", DeclKind::Resource, Action::Create);
    // A whole sensitive map, with an unknown inside: neither its keys nor its values show.
    let inner = with(
        v(json!({"user": "admin-name-xyz", "pass": SECRET})),
        "later",
        Value::Unknown,
    );
    c.after = Some(with(v(json!({})), "creds", Value::sensitive(inner)));
    p.changes.push(c);
    for doc in [plan_json(&p, false), terraform_json(&p, false)] {
        let text = serde_json::to_string(&doc).unwrap();
        for hidden in [SECRET, "admin-name-xyz", "later", "pass", "user"] {
            assert!(!text.contains(hidden), "{hidden} shows in {text}");
        }
    }
    let doc = plan_json(&p, false);
    assert_eq!(
        doc["resource_changes"][0]["after_unknown"],
        json!({"creds": true})
    );
    assert_eq!(
        doc["resource_changes"][0]["after_sensitive"],
        json!({"creds": true})
    );
    assert_valid(&doc, "sensitive map");
}

// ---------------------------------------------------------------------------------------
// Plans made by the engine (core provider)
// ---------------------------------------------------------------------------------------

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
