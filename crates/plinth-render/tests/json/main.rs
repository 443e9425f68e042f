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
        checks: vec![],
        findings: vec![],
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
        unmanaged_paths: vec![],
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
        unmanaged_paths: vec![],
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
        unmanaged_paths: vec![],
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

#[path = "../fixtures/mod.rs"]
mod fixtures;

mod adoption;
mod engine_plans;
mod modules;
mod plinth_format;
mod review;
mod secrets;
mod terraform;
