//! `[[import]]` blocks: planned as imports (the object read becomes the prior, the normal
//! diff decides), applied without creating anything, and `plan --generate-config FILE` for
//! targets with no declaration yet — proved on the flagship: everything it created, imported
//! into an empty state with generated configuration, plans empty afterwards.

mod common;

use common::sim::Sim;
use common::{Project, Run};
use serde_json::Value as Json;

fn world(p: &Project) -> std::path::PathBuf {
    p.dir.parent().unwrap().join("world.json")
}

/// The writes (PUT, PATCH, POST, DELETE; dry runs left out) in the simulator's request log
/// from position `from`, as `METHOD path`.
fn writes(sim: &Sim, from: usize) -> Vec<String> {
    sim.requests()[from..]
        .iter()
        .filter(|e| {
            matches!(
                e["method"].as_str(),
                Some("PUT" | "PATCH" | "POST" | "DELETE")
            )
        })
        .filter(|e| !e["query"].as_str().unwrap_or("").contains("dryRun"))
        // Reading a cluster's credentials is a POST that changes nothing.
        .filter(|e| {
            let path = e["path"].as_str().unwrap_or("");
            !path.contains("listCluster") && !path.contains("/oauth2/")
        })
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or("")
            )
        })
        .collect()
}

const RG: &str = r#"[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "adopt-rg"
location = "eastus"
tags = { team = "orders" }

[resource.mi]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${rg.id}"
name = "adopt-identity"
location = "eastus"
"#;

fn import_block(to: &str, id: &str) -> String {
    format!("\n[[import]]\nto = \"{to}\"\nid = \"{id}\"\n")
}

#[track_caller]
fn ok(run: Run) -> Run {
    run.code(0);
    run
}

#[test]
fn import_blocks_adopt_existing_objects_without_creating_anything() {
    // The objects exist: another configuration made them.
    let maker = Project::with_main(RG);
    let sim = Sim::start(&world(&maker));
    ok(maker.sim_run(&sim, &["apply", "--auto-approve"]));
    let (rg, mi) = (maker.id_of("rg"), maker.id_of("mi"));

    let p = Project::with_main(&format!(
        "{RG}{}{}",
        import_block("rg", &rg),
        import_block("mi", &mi)
    ));
    let plan = p.sim_run(&sim, &["plan", "--detailed-exitcode", "--json"]);
    plan.code(2);
    let doc = plan.plan_doc();
    assert_eq!(doc["plan"]["summary"]["import"], 2, "{}", plan.all());
    let changes = doc["plan"]["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (address, id) in [("rg", &rg), ("mi", &mi)] {
        let c = changes
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no change for {address}: {doc}"));
        assert_eq!(c["importing"]["id"], Json::from(id.as_str()), "{c}");
    }

    let before = sim.requests().len();
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    assert_eq!(
        writes(&sim, before),
        Vec::<String>::new(),
        "an import that matches writes nothing"
    );
    assert_eq!(p.id_of("rg").to_ascii_lowercase(), rg.to_ascii_lowercase());
    assert_eq!(p.id_of("mi").to_ascii_lowercase(), mi.to_ascii_lowercase());
    // The blocks stay; their targets are in state with those ids: nothing to do.
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");

    // A configuration that sets a key the object lacks: imported, and the key is a change.
    let extra = Project::with_main(&format!(
        "{}{}{}",
        RG.replace(
            "team = \"orders\"",
            "team = \"orders\", cost_center = \"42\""
        ),
        import_block("rg", &rg),
        import_block("mi", &mi)
    ));
    extra
        .sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(2)
        .stdout_has("2 to import, 0 to add, 1 to change")
        .stdout_has("cost_center");

    // A configuration that differs from the object: imported, then updated in place.
    let q = Project::with_main(&format!(
        "{}{}{}",
        RG.replace("team = \"orders\"", "team = \"payments\""),
        import_block("rg", &rg),
        import_block("mi", &mi)
    ));
    let plan = q.sim_run(&sim, &["plan", "--detailed-exitcode"]);
    plan.code(2)
        .stdout_has("Plan: 2 to import, 0 to add, 1 to change, 0 to replace, 0 to destroy.");
    ok(q.sim_run(&sim, &["apply", "--auto-approve"]));
    q.sim_run(&sim, &["plan", "--detailed-exitcode"]).code(0);
    let state = q.state();
    assert_eq!(
        state["resources"]["rg"]["attributes"]["tags"]["team"], "payments",
        "{state}"
    );

    // An import to an address state holds with another id.
    let other = format!(
        "{}/resourceGroups/other-rg",
        rg.rsplit_once("/resourceGroups/").unwrap().0
    );
    p.edit(
        "main.toml",
        &format!("id = \"{rg}\""),
        &format!("id = \"{other}\""),
    );
    p.sim_run(&sim, &["plan"])
        .code(1)
        .stderr_has("`rg` is already in state as")
        .stderr_has("other-rg")
        .stderr_has("plinth state rm");

    // An object that does not exist.
    let gone = Project::with_main(&format!("{RG}{}", import_block("rg", &other)));
    gone.sim_run(&sim, &["plan"])
        .code(1)
        .stderr_has("no object with id")
        .stderr_has("main.toml:");

    // A destroy plan ignores imports (nothing of them is in state).
    gone.sim_run(&sim, &["plan", "--destroy", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn for_each_imports_a_map_of_ids() {
    let p = Project::with_main(
        r#"
[variable.ids]
default = { blue = "object-blue", green = "object-green" }

[resource.app]
type = "core:data"
for_each = "${var.ids}"

[[import]]
for_each = "${var.ids}"
to = "app[each.key]"
id = "${each.value}"
"#,
    );
    let plan = p.run(&["plan", "--detailed-exitcode"]);
    plan.code(2)
        .stdout_has("Plan: 2 to import, 0 to add, 0 to change, 0 to replace, 0 to destroy.");
    let apply = p.apply(&[]);
    assert!(
        apply.ops().iter().all(|(_, _, action)| action != "create"),
        "no create for an import: {:?}",
        apply.ops()
    );
    assert_eq!(p.id_of("app[\"blue\"]"), "object-blue");
    assert_eq!(p.id_of("app[\"green\"]"), "object-green");
    p.assert_no_changes(&[]);

    // A key the resource's for_each does not have.
    p.edit(
        "main.toml",
        "for_each = \"${var.ids}\"\nto",
        "for_each = { red = \"object-red\" }\nto",
    );
    p.fails(&["plan"])
        .stderr_has("the configuration has no resource instance `app[\"red\"]` to import to");
}

const GENERATE: &str = r#"[[import]]
to = "rg"
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
id = "RG_ID"

[[import]]
to = "mi"
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
id = "MI_ID"
"#;

#[test]
fn generate_config_writes_what_a_user_sets_with_references_and_converges() {
    let maker = Project::with_main(RG);
    let sim = Sim::start(&world(&maker));
    ok(maker.sim_run(&sim, &["apply", "--auto-approve"]));
    let (rg, mi) = (maker.id_of("rg"), maker.id_of("mi"));

    let p = Project::with_main(&GENERATE.replace("RG_ID", &rg).replace("MI_ID", &mi));
    // Without the flag, an undeclared target is an error naming the fix.
    p.sim_run(&sim, &["plan"])
        .code(1)
        .stderr_has("`rg` is not declared")
        .stderr_has("plinth plan --generate-config generated.toml");
    let plan = p.sim_run(
        &sim,
        &[
            "plan",
            "--generate-config",
            "generated.toml",
            "--detailed-exitcode",
        ],
    );
    plan.code(2)
        .stdout_has("Wrote configuration for 2 imported object(s) to generated.toml")
        .stdout_has("2 to import, 0 to add, 0 to change, 0 to replace, 0 to destroy");
    let text = p.read("generated.toml");
    assert!(text.starts_with("# Generated by plinth"), "{text}");
    assert!(text.contains("[resource.rg]\n"), "{text}");
    assert!(text.contains("[resource.mi]\n"), "{text}");
    assert!(text.contains("parent = \"${rg.id}\""), "{text}");
    assert!(text.contains("team = \"orders\""), "{text}");
    for computed in ["provisioningState", "principalId", "\"id\"", "etag"] {
        assert!(
            !text.contains(computed),
            "{computed} is the service's: {text}"
        );
    }
    ok(p.run(&["validate"]));
    // Never overwritten.
    p.sim_run(&sim, &["plan", "--generate-config", "generated.toml"])
        .code(1)
        .stderr_has("generated.toml already exists");

    let before = sim.requests().len();
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    assert_eq!(writes(&sim, before), Vec::<String>::new());
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");

    // Without a type, the id's type is suggested.
    let q = Project::with_main(&format!("[[import]]\nto = \"rg\"\nid = \"{rg}\"\n"));
    q.sim_run(&sim, &["plan", "--generate-config", "generated.toml"])
        .code(1)
        .stderr_has("has no `type`")
        .stderr_has("type = \"azure:Microsoft.Resources/resourceGroups@2025-04-01\"");
    assert!(!q.path("generated.toml").exists());
}

/// Every object the flagship made, imported into an empty state with generated
/// configuration: the apply creates nothing and the next plan is empty.
#[test]
fn the_flagship_imported_with_generated_configuration_plans_empty() {
    let flagship = Project::flagship();
    let sim = Sim::start(&world(&flagship));
    ok(flagship.sim_run(&sim, &["apply", "--auto-approve"]));

    let state = flagship.state();
    let mut blocks = String::from("[provider.kubernetes]\ncluster = \"aks\"\n");
    let mut names = Vec::new();
    for (address, r) in state["resources"].as_object().expect("resources") {
        // k8s:fields owns some fields of an object someone else made: nothing to import.
        if r["mode"] != "managed" || r["type"] == "k8s:fields" {
            continue;
        }
        // The module's objects become root resources of the new configuration.
        let name = address.trim_start_matches("module.workload.").to_string();
        blocks.push_str(&format!(
            "\n[[import]]\nto = \"{name}\"\ntype = \"{}\"\nid = \"{}\"\n",
            r["type"].as_str().unwrap(),
            r["id"].as_str().unwrap()
        ));
        names.push(name);
    }
    assert!(names.len() >= 10, "{names:?}");
    let p = Project::with_main(&blocks);
    let plan = p.sim_run(&sim, &["plan", "--generate-config", "generated.toml"]);
    plan.code(0)
        .stdout_has(&format!("{} to import, 0 to add", names.len()));
    let text = p.read("generated.toml");
    // What the service computed for another imported object is a reference too.
    assert!(
        text.contains("issuer = \"${aks.properties.oidcIssuerProfile.issuerURL}\""),
        "{text}"
    );
    assert!(
        text.contains("principalId = \"${mi.properties.principalId}\""),
        "{text}"
    );
    assert!(text.contains("parent = \"${rg.id}\""), "{text}");
    assert!(text.contains("parent = \"${mi.id}\""), "{text}");
    assert!(text.contains("parent = \"${queue.id}\""), "{text}");
    for server in [
        "resourceVersion",
        "managedFields",
        "creationTimestamp",
        "\nuid =",
        "provisioningState",
    ] {
        assert!(!text.contains(server), "{server} is the server's: {text}");
    }

    let before = sim.requests().len();
    let apply = ok(p.sim_run(&sim, &["apply", "--auto-approve", "--json"]));
    let creates: Vec<_> = apply
        .ops()
        .into_iter()
        .filter(|(_, _, a)| a == "create")
        .collect();
    assert!(creates.is_empty(), "{creates:?}");
    assert_eq!(
        writes(&sim, before),
        Vec::<String>::new(),
        "{}",
        apply.all()
    );
    for name in &names {
        assert!(p.state_list().contains(name), "{name}");
    }
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");
}

#[test]
fn generate_config_says_what_it_could_not_read_and_writes_outside_only_when_asked() {
    // The cluster the Kubernetes settings name is declared but neither in state nor imported.
    let p = Project::with_main(
        r#"
[provider.kubernetes]
cluster = "aks"

[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
name = "aks"
location = "eastus"

[[import]]
to = "sa"
type = "k8s:v1/ServiceAccount"
id = "v1/ServiceAccount/default/worker"
"#,
    );
    p.fails(&["plan", "--generate-config", "generated.toml"])
        .stderr_has("`sa` could not be read: its provider's settings name an object that is neither in state nor imported")
        .stderr_has("main.toml:");
    assert!(!p.path("generated.toml").exists());

    // Outside the directory: written, not planned with.
    let q = Project::with_main(
        "[[import]]\nto = \"adopted\"\ntype = \"core:data\"\nid = \"existing-7\"\n",
    );
    let outside = q.dir.parent().unwrap().join("adopted.toml");
    q.ok(&["plan", "--generate-config", outside.to_str().unwrap()])
        .stdout_has("is outside the configuration directory")
        .stdout_lacks("Plan:");
    let text = std::fs::read_to_string(&outside).expect("written");
    assert!(
        text.contains("[resource.adopted]\ntype = \"core:data\"\n"),
        "{text}"
    );
    std::fs::rename(&outside, q.path("adopted.toml")).unwrap();
    q.plan_changes(&[])
        .stdout_has("Plan: 1 to import, 0 to add");
    q.apply(&[]);
    q.assert_no_changes(&[]);
}

#[test]
fn plinth_import_records_like_an_import_block_what_the_configuration_leaves_out_is_no_change() {
    let maker = Project::with_main(RG);
    let sim = Sim::start(&world(&maker));
    ok(maker.sim_run(&sim, &["apply", "--auto-approve"]));
    let rg = maker.id_of("rg");
    // Declared without the tags the object has.
    let p = Project::with_main(
        "[resource.rg]\ntype = \"azure:Microsoft.Resources/resourceGroups@2025-04-01\"\nname = \"adopt-rg\"\nlocation = \"eastus\"\n",
    );
    ok(p.sim_run(&sim, &["import", "rg", &rg]));
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");
    // An id of another type is refused before anything is read.
    let mi = maker.id_of("mi");
    let q = Project::with_main(RG);
    q.sim_run(&sim, &["import", "rg", &mi])
        .code(1)
        .stderr_has("is the id of a Microsoft.ManagedIdentity/userAssignedIdentities");
}
