//! The Azure provider through the command line, on the in-process simulated cloud (`--sim`):
//! apply, a second plan with no changes, drift, destroy. The simulator's world is kept in
//! `.plinth/sim-world.json`, so every command sees the same cloud.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::output_text as text;

const CONFIG: &str = r#"
[variable.prefix]
default = "demo"

[variable.location]
default = "eastus"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "${var.prefix}-rg"
location = "${var.location}"
tags = { owner = "platform" }

[resource.mi]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${rg.id}"
name = "${var.prefix}-mi"
location = "${var.location}"

[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${rg.id}"
name = "${var.prefix}-sbns"
location = "${var.location}"
[resource.sb.body]
sku = { name = "Standard" }
properties.disableLocalAuth = true

[resource.queue]
type = "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01"
parent = "${sb.id}"
name = "orders"

[resource.data_owner]
type = "azure:Microsoft.Authorization/roleAssignments@2022-04-01"
parent = "${sb.id}"
[resource.data_owner.body.properties]
roleDefinitionId = "${azure.role_definition_id(\"Azure Service Bus Data Owner\")}"
principalId = "${mi.properties.principalId}"
principalType = "ServicePrincipal"

[output.client_id]
value = "${mi.properties.clientId}"

[output.sb_endpoint]
value = "${sb.properties.serviceBusEndpoint}"
"#;

fn plinth(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(args)
        .args(["--sim", "--no-color"])
        .arg(dir)
        .env("PLINTH_SIM_LATENCY", "instant")
        .env_remove("PLINTH_SIM")
        .output()
        .expect("run plinth")
}

#[test]
fn azure_resources_apply_converge_and_destroy_on_the_simulated_cloud() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("main.toml"), CONFIG).unwrap();

    let plan = plinth(tmp.path(), &["plan"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let t = text(&plan);
    assert!(
        t.contains("Plan: 5 to add, 0 to change, 0 to replace, 0 to destroy."),
        "{t}"
    );
    assert!(t.contains("(known after apply)"), "{t}");

    let apply = plinth(tmp.path(), &["apply", "--auto-approve"]);
    let t = text(&apply);
    assert!(apply.status.success(), "{t}");
    assert!(t.contains("Apply complete! Resources: 5 added"), "{t}");
    assert!(
        t.contains("sb_endpoint = https://demo-sbns.servicebus.windows.net:443/"),
        "{t}"
    );

    // The promise: a second plan right after apply shows no changes.
    let again = plinth(tmp.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("No changes"), "{}", text(&again));

    // An edited tag is an update in place.
    let edited = CONFIG.replace("owner = \"platform\"", "owner = \"apps\"");
    std::fs::write(tmp.path().join("main.toml"), &edited).unwrap();
    let plan = plinth(tmp.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(
        text(&plan).contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        text(&plan)
    );
    let apply = plinth(tmp.path(), &["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", text(&apply));

    let destroy = plinth(tmp.path(), &["destroy", "--auto-approve"]);
    let t = text(&destroy);
    assert!(destroy.status.success(), "{t}");
    assert!(
        t.contains("Destroy complete! Resources: 5 destroyed."),
        "{t}"
    );
    let list = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["state", "list", "--dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout).trim().is_empty(),
        "{}",
        text(&list)
    );
}
