//! Objects in modules: plinth's plan JSON gives each its `module_address`; the Terraform
//! export writes `module_address` on resource changes and nests planned values in
//! `child_modules`, as Terraform does.

use super::*;

/// Root objects, two instances of module `app` (for_each), one with a nested `db`, and an
/// instance of `old` that is gone as a whole.
fn modules_plan() -> Plan {
    let mut p = empty_plan();
    let create = |address: &str| {
        let mut c = rc(address, "core:data", DeclKind::Resource, Action::Create);
        c.after = Some(with(v(json!({"input": "x"})), "id", Value::Unknown));
        c
    };
    p.changes.push(create("rg"));
    p.changes.push(create(r#"module.app["orders"].mi"#));
    p.changes.push(create(r#"module.app["orders"].queue[0]"#));
    p.changes
        .push(create(r#"module.app["orders"].module.db.pg"#));
    p.changes.push(create(r#"module.app["payments"].mi"#));
    let mut gone = rc(
        r#"module.app["payments"].cache["a"]"#,
        "core:data",
        DeclKind::Resource,
        Action::Delete,
    );
    gone.before = Some(v(json!({"id": "gen-1"})));
    gone.reason = Some("not in the configuration".into());
    p.changes.push(gone);
    let mut removed = rc(
        "module.old[0].x",
        "core:data",
        DeclKind::Resource,
        Action::Delete,
    );
    removed.before = Some(v(json!({"id": "gen-2"})));
    removed.reason = Some("not in the configuration".into());
    p.changes.push(removed);
    let mut read = rc(
        r#"module.app["orders"].data.sub"#,
        "core:data",
        DeclKind::Data,
        Action::Read,
    );
    read.after = Some(Value::Unknown);
    p.changes.push(read);
    p.drift.push(Drift {
        address: r#"module.app["orders"].data.kv"#.into(),
        type_name: "core:data".into(),
        action: Action::Update,
        before: Some(v(json!({"input": "a"}))),
        after: Some(v(json!({"input": "b"}))),
        changed_paths: vec![path("input")],
        id: Some("gen-3".into()),
        reconciled: false,
        unmanaged_paths: vec![],
    });
    p
}

#[test]
fn plinth_json_gives_each_change_its_module_address() {
    let doc = plan_json(&modules_plan(), false);
    assert_valid(&doc, "a plan with modules");
    let changes = &doc["resource_changes"];
    assert!(find(changes, "rg").get("module_address").is_none());
    let mi = find(changes, r#"module.app["orders"].mi"#);
    assert_eq!(mi["module_address"], json!(r#"module.app["orders"]"#));
    assert_eq!(mi["name"], json!("mi"));
    // Right after the address, where a reader looks for it.
    let keys: Vec<&String> = mi.as_object().unwrap().keys().take(2).collect();
    assert_eq!(keys, ["address", "module_address"]);
    let q = find(changes, r#"module.app["orders"].queue[0]"#);
    assert_eq!(q["index"], json!("0"));
    assert_eq!(
        find(changes, r#"module.app["orders"].module.db.pg"#)["module_address"],
        json!(r#"module.app["orders"].module.db"#)
    );
    let drift = find(&doc["resource_drift"], r#"module.app["orders"].data.kv"#);
    assert_eq!(drift["module_address"], json!(r#"module.app["orders"]"#));

    // The schema refuses a module address that is not one.
    let mut bad = doc.clone();
    bad["resource_changes"][1]["module_address"] = json!("app");
    assert!(!validator().is_valid(&bad));
}

#[test]
fn terraform_export_writes_module_address_as_terraform_does() {
    let tf = terraform_json(&modules_plan(), false);
    let changes = &tf["resource_changes"];
    assert!(find(changes, "rg").get("module_address").is_none());
    let q = find(changes, r#"module.app["orders"].queue[0]"#);
    assert_eq!(q["module_address"], json!(r#"module.app["orders"]"#));
    assert_eq!(q["name"], json!("queue"));
    assert_eq!(q["index"], json!(0));
    assert_eq!(q["mode"], json!("managed"));
    let pg = find(changes, r#"module.app["orders"].module.db.pg"#);
    assert_eq!(
        pg["module_address"],
        json!(r#"module.app["orders"].module.db"#)
    );
    assert!(pg.get("index").is_none());
    let read = find(changes, r#"module.app["orders"].data.sub"#);
    assert_eq!(read["mode"], json!("data"));
    assert_eq!(read["module_address"], json!(r#"module.app["orders"]"#));

    // Why a delete happens: a key gone from a resource's for_each while the resource stays
    // would be each_key; here the resource `cache` is gone from an instance that stays, and
    // `module.old[0]` is gone as a whole.
    let cache = find(changes, r#"module.app["payments"].cache["a"]"#);
    assert_eq!(cache["index"], json!("a"));
    assert_eq!(
        cache["action_reason"],
        json!("delete_because_no_resource_config")
    );
    assert_eq!(
        find(changes, "module.old[0].x")["action_reason"],
        json!("delete_because_no_module")
    );

    let drift = find(&tf["resource_drift"], r#"module.app["orders"].data.kv"#);
    assert_eq!(drift["mode"], json!("data"));
    assert_eq!(drift["name"], json!("kv"));
    assert_eq!(drift["module_address"], json!(r#"module.app["orders"]"#));

    // Planned values: the root's resources, then module instances nested as Terraform
    // nests them (an instance without resources of its own is there for its nested one).
    let root = &tf["planned_values"]["root_module"];
    let addresses = |m: &J| -> Vec<String> {
        m["resources"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| r["address"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(addresses(root), ["rg"]);
    let children = root["child_modules"].as_array().unwrap();
    let child_addresses: Vec<&str> = children
        .iter()
        .map(|m| m["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        child_addresses,
        [r#"module.app["orders"]"#, r#"module.app["payments"]"#]
    );
    assert_eq!(
        addresses(&children[0]),
        [
            r#"module.app["orders"].mi"#,
            r#"module.app["orders"].queue[0]"#,
            r#"module.app["orders"].data.sub"#
        ]
    );
    assert!(children[0]["resources"][0].get("module_address").is_none());
    let nested = &children[0]["child_modules"][0];
    assert_eq!(
        nested["address"],
        json!(r#"module.app["orders"].module.db"#)
    );
    assert_eq!(addresses(nested), [r#"module.app["orders"].module.db.pg"#]);
    assert!(nested.get("child_modules").is_none());
    assert!(children[1].get("child_modules").is_none());
}

#[test]
fn a_nested_module_without_resources_of_its_own_is_still_in_planned_values() {
    let mut p = empty_plan();
    let mut c = rc(
        "module.net.module.sub[1].vnet",
        "core:data",
        DeclKind::Resource,
        Action::Create,
    );
    c.after = Some(v(json!({"input": "x"})));
    p.changes.push(c);
    let tf = terraform_json(&p, false);
    let root = &tf["planned_values"]["root_module"];
    assert_eq!(root["resources"], json!([]));
    let net = &root["child_modules"][0];
    assert_eq!(net["address"], json!("module.net"));
    assert!(net.get("resources").is_none(), "{net:#}");
    assert_eq!(
        net["child_modules"][0]["address"],
        json!("module.net.module.sub[1]")
    );
    // Plans without modules have no child_modules at all.
    let flat = terraform_json(&kitchen_sink(), false);
    assert!(
        flat["planned_values"]["root_module"]
            .get("child_modules")
            .is_none()
    );
}
