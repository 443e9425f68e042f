//! plinth's plan JSON: shapes, and validation against its published schema.

use super::*;

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

#[test]
fn a_move_is_on_its_change_and_in_the_summary_only_when_there_is_one() {
    let mut p = empty_plan();
    let mut moved = rc("app[0]", "core:data", DeclKind::Resource, Action::NoOp);
    moved.before = Some(v(json!({"input": {"n": "one"}})));
    moved.after = moved.before.clone();
    moved.moved_from = Some("app".into());
    p.changes.push(moved);
    p.changes.push(rc(
        "app[1]",
        "core:data",
        DeclKind::Resource,
        Action::Create,
    ));
    let doc = plan_json(&p, false);
    assert_valid(&doc, "a plan with a move");
    assert_eq!(doc["resource_changes"][0]["moved_from"], json!("app"));
    assert!(
        doc["resource_changes"][1].get("moved_from").is_none(),
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["move"], json!(1));
    assert_eq!(doc["has_changes"], json!(true));

    // Without moves, neither field is written.
    p.changes[0].moved_from = None;
    let doc = plan_json(&p, false);
    assert!(doc["summary"].get("move").is_none(), "{doc:#}");
    assert!(
        doc["resource_changes"][0].get("moved_from").is_none(),
        "{doc:#}"
    );
}
