//! Drift in what the configuration does not set, on the simulated cloud (issue 18 item 8):
//! a Service Bus namespace's TLS downgraded by hand (`properties.minimumTlsVersion` 1.2 ->
//! 1.0; the flagship does not set it) is reported "changed outside plinth, not managed
//! here" and not planned back, reported by every plan until an apply that showed it records
//! it; with `lifecycle.manage` it is planned back as drift, applied, and the next plan is
//! empty.

mod common;

use common::Project;
use common::sim::{Sim, request};
use serde_json::Value as Json;

const RG: &str = r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "tls-rg"
location = "eastus"
"#;

fn config(lifecycle: &str) -> String {
    format!(
        r#"{RG}
[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${{rg.id}}"
name = "tls-sbns"
location = "eastus"
{lifecycle}
[resource.sb.body]
sku = {{ name = "Standard", tier = "Standard" }}
properties.disableLocalAuth = true
"#
    )
}

/// Changes a simulated ARM resource behind plinth's back (a JSON merge patch).
fn out_of_band(sim: &Sim, id: &str, patch: &str) {
    let (status, body) = request(
        &sim.url,
        "PATCH",
        &format!("/_sim/resources{id}"),
        &[("content-type", "application/json")],
        patch,
    );
    assert!(status < 300, "{status}: {body}");
}

/// The namespace as the simulator holds it.
fn tls_in_the_cloud(sim: &Sim, id: &str) -> Json {
    let (status, body) = request(&sim.url, "GET", &format!("/_sim/resources{id}"), &[], "");
    assert!(status < 300, "{status}: {body}");
    let v: Json = serde_json::from_str(&body).unwrap();
    let props = v
        .get("body")
        .and_then(|b| b.get("properties"))
        .or_else(|| v.get("properties"))
        .unwrap_or_else(|| panic!("no properties in {v:#}"));
    props["minimumTlsVersion"].clone()
}

/// `plan --out FILE` on the simulator: the saved plan, which carries the drift as the
/// engine found it.
#[track_caller]
fn saved_plan(p: &Project, sim: &Sim, name: &str, exit: i32) -> Json {
    p.sim_run(sim, &["plan", "--detailed-exitcode", "--out", name])
        .code(exit);
    serde_json::from_str(&p.read(name)).expect("a saved plan is JSON")
}

fn drift_of<'a>(plan: &'a Json, address: &str) -> Option<&'a Json> {
    plan["drift"]
        .as_array()?
        .iter()
        .find(|d| d["address"] == address)
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn change_of<'a>(plan: &'a Json, address: &str) -> &'a Json {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change of {address}"))
}

const TLS: &str = "properties.minimumTlsVersion";

#[test]
fn a_tls_downgrade_is_reported_as_not_managed_here_and_recorded_once_shown() {
    let p = Project::with_main(&config(""));
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    p.assert_no_changes(&["--sim", &sim.url]);
    let sb = p.id_of("sb");
    assert_eq!(tls_in_the_cloud(&sim, &sb), "1.2");

    out_of_band(&sim, &sb, r#"{"properties": {"minimumTlsVersion": "1.0"}}"#);
    // Nothing to apply (exit 0), but the reviewer is told, apart from what is planned.
    let text = p.sim_run(&sim, &["plan", "--detailed-exitcode", "--no-color"]);
    text.code(0)
        .stdout_has("Changed outside plinth, not managed here")
        .stdout_has(TLS)
        .stdout_has("No changes");
    let plan = saved_plan(&p, &sim, "first.plan", 0);
    let d = drift_of(&plan, "sb").expect("drift of sb");
    assert_eq!(strings(&d["unmanaged_paths"]), [TLS], "{d:#}");
    assert!(
        !strings(&d["changed_paths"]).contains(&TLS.to_string()),
        "{d:#}"
    );
    assert_eq!(change_of(&plan, "sb")["action"], "no-op");
    // The JSON rendering says it too.
    let json = p.sim_run(&sim, &["plan", "--json"]);
    json.code(0);
    let doc = json.plan_doc();
    let listed = doc["plan"]["unmanaged_drift"].to_string();
    assert!(listed.contains(TLS), "{doc:#}");

    // Plans write nothing: a second plan reports it again.
    let again = saved_plan(&p, &sim, "second.plan", 0);
    assert_eq!(
        strings(&drift_of(&again, "sb").expect("drift again")["unmanaged_paths"]),
        [TLS]
    );

    // An apply whose plan showed it records it in state and changes nothing in the cloud.
    p.sim_run(&sim, &["apply", "--auto-approve", "second.plan"])
        .code(0);
    assert_eq!(tls_in_the_cloud(&sim, &sb), "1.0");
    assert_eq!(
        p.state()["resources"]["sb"]["attributes"]["properties"]["minimumTlsVersion"],
        "1.0"
    );
    // Shown once, recorded: the next plan is quiet.
    let quiet = saved_plan(&p, &sim, "third.plan", 0);
    assert!(
        drift_of(&quiet, "sb").is_none_or(|d| strings(&d["unmanaged_paths"]).is_empty()
            && strings(&d["changed_paths"]).is_empty()),
        "{quiet:#}"
    );
    p.sim_run(&sim, &["plan", "--no-color"])
        .code(0)
        .stdout_lacks("not managed here");
    sim.stop();
}

/// The object's tags as the simulator holds them.
fn tags_in_the_cloud(sim: &Sim, id: &str) -> Json {
    let (status, body) = request(&sim.url, "GET", &format!("/_sim/resources{id}"), &[], "");
    assert!(status < 300, "{status}: {body}");
    let v: Json = serde_json::from_str(&body).unwrap();
    v.get("body").unwrap_or(&v)["tags"].clone()
}

/// Tags Azure Policy adds to a namespace whose configuration ignores them: not "not managed
/// here" on every plan, and an update of something else keeps them in the cloud.
#[test]
fn tags_under_ignore_changes_are_not_reported_and_survive_an_update() {
    let p = Project::with_main(&config("lifecycle = { ignore_changes = [\"tags\"] }\n"));
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    let sb = p.id_of("sb");
    out_of_band(&sim, &sb, r#"{"tags": {"createdBy": "policy"}}"#);
    assert_eq!(
        tags_in_the_cloud(&sim, &sb),
        serde_json::json!({"createdBy": "policy"})
    );
    p.sim_run(&sim, &["plan", "--detailed-exitcode", "--no-color"])
        .code(0)
        .stdout_lacks("not managed here")
        .stdout_has("No changes");
    let plan = saved_plan(&p, &sim, "quiet.plan", 0);
    assert!(
        drift_of(&plan, "sb").is_none_or(|d| strings(&d["unmanaged_paths"]).is_empty()),
        "{plan:#}"
    );

    p.edit(
        "main.toml",
        "disableLocalAuth = true",
        "disableLocalAuth = false",
    );
    let plan = saved_plan(&p, &sim, "update.plan", 2);
    assert_eq!(change_of(&plan, "sb")["action"], "update");
    p.sim_run(&sim, &["apply", "--auto-approve", "update.plan"])
        .code(0);
    assert_eq!(
        tags_in_the_cloud(&sim, &sb),
        serde_json::json!({"createdBy": "policy"}),
        "the update's PUT kept the tags it was told to leave alone"
    );
    p.assert_no_changes(&["--sim", &sim.url]);
    sim.stop();
}

#[test]
fn with_lifecycle_manage_the_downgrade_is_planned_back_applied_and_converges() {
    let p = Project::with_main(&config(
        r#"lifecycle = { manage = ["properties.minimumTlsVersion"] }"#,
    ));
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    p.assert_no_changes(&["--sim", &sim.url]);
    let sb = p.id_of("sb");

    out_of_band(&sim, &sb, r#"{"properties": {"minimumTlsVersion": "1.0"}}"#);
    let plan = saved_plan(&p, &sim, "back.plan", 2);
    let c = change_of(&plan, "sb");
    assert_eq!(c["action"], "update", "{c:#}");
    assert_eq!(c["drift"], true, "{c:#}");
    let changed = strings(&c["changed_paths"]);
    assert!(
        changed.iter().any(|p| p.ends_with(TLS)),
        "changed paths {changed:?}"
    );
    let d = drift_of(&plan, "sb").expect("drift of sb");
    assert_eq!(strings(&d["changed_paths"]), [TLS], "{d:#}");
    assert!(strings(&d["unmanaged_paths"]).is_empty(), "{d:#}");
    p.sim_run(&sim, &["plan", "--no-color"])
        .code(0)
        .stdout_has("undoes a change made outside plinth")
        .stdout_lacks("not managed here");

    p.sim_run(&sim, &["apply", "--auto-approve", "back.plan"])
        .code(0);
    assert_eq!(tls_in_the_cloud(&sim, &sb), "1.2");
    p.assert_no_changes(&["--sim", &sim.url]);
    let quiet = saved_plan(&p, &sim, "after.plan", 0);
    assert!(
        drift_of(&quiet, "sb").is_none_or(|d| strings(&d["changed_paths"]).is_empty()
            && strings(&d["unmanaged_paths"]).is_empty()),
        "{quiet:#}"
    );
    sim.stop();
}

#[test]
fn a_misspelt_manage_path_is_refused_with_the_fix() {
    let p = Project::with_main(&config(""));
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    p.edit(
        "main.toml",
        "location = \"eastus\"\n\n[resource.sb.body]",
        "location = \"eastus\"\nlifecycle = { manage = [\"properties.minimumTLSVersion\"] }\n[resource.sb.body]",
    );
    p.sim_run(&sim, &["plan", "--no-color"])
        .code(1)
        .stderr_has(
            "`lifecycle.manage` names `properties.minimumTLSVersion`, which `sb` does not have",
        )
        .stderr_has("did you mean `properties.minimumTlsVersion`?")
        .stderr_has("main.toml:");
    sim.stop();
}

const CLUSTER: &str = r#"
[provider.kubernetes]
cluster = "aks"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "lbl-rg"
location = "eastus"

[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "${rg.id}"
name = "lbl-aks"
location = "eastus"
[resource.aks.body]
identity.type = "SystemAssigned"
properties.dnsPrefix = "lbl"
properties.oidcIssuerProfile.enabled = true
properties.agentPoolProfiles = [{ name = "system", count = 1, vmSize = "Standard_D2s_v5", mode = "System" }]
"#;

fn with_objects(lifecycle: &str) -> String {
    format!(
        r#"{CLUSTER}
[resource.settings]
type = "k8s:v1/ConfigMap"
[resource.settings.manifest]
metadata = {{ name = "settings" }}
data = {{ level = "info" }}

[resource.web]
type = "k8s:apps/v1/Deployment"
{lifecycle}
[resource.web.manifest]
metadata = {{ name = "web" }}
spec.selector.matchLabels = {{ app = "web" }}
spec.template.metadata.labels = {{ app = "web" }}
spec.template.spec.containers = [{{ name = "web", image = "nginx:1.27" }}]
"#
    )
}

#[test]
fn kubernetes_changes_by_hand_are_not_managed_here_unless_managed() {
    common::sim::require_kubectl();
    let p = Project::with_main(&with_objects(""));
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    p.assert_no_changes(&["--sim", &sim.url]);
    let kubectl = common::sim::kubectl_for(&p, &sim, &p.id_of("aks"));
    // A label added by hand, where the configuration sets none.
    kubectl.ok(&["label", "configmap", "settings", "owner=mallory"]);
    // The replica count the configuration leaves to the server's default, scaled by hand.
    kubectl.ok(&[
        "patch",
        "deployment",
        "web",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]);

    let plan = saved_plan(&p, &sim, "hand.plan", 0);
    let d = drift_of(&plan, "settings").expect("drift of settings");
    assert!(strings(&d["changed_paths"]).is_empty(), "{d:#}");
    assert_eq!(strings(&d["unmanaged_paths"]), ["metadata.labels"], "{d:#}");
    assert_eq!(change_of(&plan, "settings")["action"], "no-op");
    let d = drift_of(&plan, "web").expect("drift of web");
    // (The Deployment controller's revision annotation may be listed beside it.)
    assert!(
        strings(&d["unmanaged_paths"]).contains(&"spec.replicas".to_string()),
        "{d:#}"
    );
    assert!(strings(&d["changed_paths"]).is_empty(), "{d:#}");
    assert_eq!(change_of(&plan, "web")["action"], "no-op");

    // Managed, the replica count is put back.
    p.write(
        "main.toml",
        &with_objects(r#"lifecycle = { manage = ["spec.replicas"] }"#),
    );
    let plan = saved_plan(&p, &sim, "manage.plan", 2);
    let c = change_of(&plan, "web");
    assert_eq!(c["action"], "update", "{c:#}");
    assert_eq!(c["drift"], true, "{c:#}");
    assert_eq!(
        strings(&drift_of(&plan, "web").expect("drift")["changed_paths"]),
        ["spec.replicas"]
    );
    assert_eq!(change_of(&plan, "settings")["action"], "no-op");
    p.sim_run(&sim, &["apply", "--auto-approve", "manage.plan"])
        .code(0);
    let replicas = kubectl.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(replicas, "1");
    p.assert_no_changes(&["--sim", &sim.url]);
    sim.stop();
}
