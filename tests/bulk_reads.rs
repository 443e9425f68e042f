//! Bulk (collection) reads against per-object reads, end to end: the `plinth` binary against
//! `plinth sim serve` on an ephemeral port (`instant` latency). One small mixed estate — a
//! resource group, a Service Bus namespace with three queues, three user-assigned identities
//! each with a federated credential and a receiver role assignment on its queue, an AKS
//! cluster, and a ServiceAccount and a ConfigMap per identity in that cluster — is applied,
//! then planned twice, batched and with `--per-object-reads`:
//!
//! - the two plans' JSON documents are identical: right after the apply (no-op), and after
//!   drift made out of band (an identity's tags changed, a queue deleted, a ConfigMap's data
//!   changed with kubectl), where both show the same drift and the same changes;
//! - drift made *between two pages of one list* (page size 2, a one-shot `/_sim/hooks` hook
//!   after the first page of the identities' list) leaves the plan it happened during right
//!   (each identity shows either its old or its new value, none is lost) and is found by the
//!   next plan; so is a ConfigMap changed right after its namespace's list was read.
//!
//! The request log shows which reads each plan made: lists when batching is on, none with
//! `--per-object-reads`.

mod common;

use common::Project;
use common::sim::{Sim, http_get_ok, kubectl_for, request, require_kubectl};
use serde_json::{Value as Json, json};

const CONFIG: &str = r#"
[variable.apps]
type = "map"
[variable.apps.default]
alpha = { max_delivery = 10 }
bravo = { max_delivery = 5 }
charlie = { max_delivery = 3 }

[provider.kubernetes]
cluster = "aks"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "bulk-rg"
location = "eastus"

[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${rg.id}"
name = "bulk-sbns"
location = "eastus"
[resource.sb.body]
sku = { name = "Standard", tier = "Standard" }

[resource.queue]
type = "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01"
for_each = "${var.apps}"
parent = "${sb.id}"
name = "${each.key}"
[resource.queue.body.properties]
maxDeliveryCount = "${each.value.max_delivery}"

[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "${rg.id}"
name = "bulk-aks"
location = "eastus"
[resource.aks.body]
identity.type = "SystemAssigned"
properties.dnsPrefix = "bulk"
properties.oidcIssuerProfile.enabled = true
properties.securityProfile.workloadIdentity.enabled = true
properties.agentPoolProfiles = [{ name = "system", count = 1, vmSize = "Standard_D2s_v5", mode = "System" }]

[resource.mi]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
for_each = "${var.apps}"
parent = "${rg.id}"
name = "bulk-${each.key}-mi"
location = "eastus"
tags = { app = "${each.key}" }

[resource.fic]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30"
for_each = "${var.apps}"
parent = "${mi[each.key].id}"
name = "${each.key}-fic"
[resource.fic.body.properties]
issuer = "${aks.properties.oidcIssuerProfile.issuerURL}"
subject = "system:serviceaccount:default:${each.key}"
audiences = ["api://AzureADTokenExchange"]

[resource.receiver]
type = "azure:Microsoft.Authorization/roleAssignments@2022-04-01"
for_each = "${var.apps}"
parent = "${queue[each.key].id}"
[resource.receiver.body.properties]
roleDefinitionId = "${azure.role_definition_id('Azure Service Bus Data Receiver')}"
principalId = "${mi[each.key].properties.principalId}"
principalType = "ServicePrincipal"

[resource.sa]
type = "k8s:v1/ServiceAccount"
for_each = "${var.apps}"
[resource.sa.manifest.metadata]
name = "${each.key}"
namespace = "default"
annotations = { "azure.workload.identity/client-id" = "${mi[each.key].properties.clientId}" }

[resource.settings]
type = "k8s:v1/ConfigMap"
for_each = "${var.apps}"
[resource.settings.manifest]
metadata = { name = "${each.key}-settings", namespace = "default" }
data = { queue = "${queue[each.key].name}", client_id = "${mi[each.key].properties.clientId}" }
"#;

const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/bulk-rg";

fn identities_collection() -> String {
    format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities")
}

/// The `(address, actions)` of every change of a plan document that is not a no-op.
fn changes(plan: &Json) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["actions"] != json!(["no-op"]))
        .map(|c| {
            let actions: Vec<&str> = c["actions"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Json::as_str)
                .collect();
            (
                c["address"].as_str().unwrap_or_default().to_string(),
                actions.join("+"),
            )
        })
        .collect();
    out.sort();
    out
}

/// Reads the request log from entry `from` on: the list GETs of the estate's collections
/// (ARM collections of identities, federated credentials, queues, role assignments; the
/// Kubernetes lists of ServiceAccounts and ConfigMaps), and every other GET.
fn reads_since(sim: &Sim, from: usize) -> (Vec<String>, usize) {
    let log = sim.requests();
    let mut lists = Vec::new();
    let mut others = 0;
    for e in &log[from..] {
        if e["method"] != "GET" {
            continue;
        }
        let path = e["path"].as_str().unwrap_or_default();
        let lower = path.to_ascii_lowercase();
        let listed = [
            "/userassignedidentities",
            "/federatedidentitycredentials",
            "/queues",
            "/roleassignments",
            "/configmaps",
            "/serviceaccounts",
        ]
        .iter()
        .any(|c| lower.ends_with(c));
        if listed {
            lists.push(path.to_string());
        } else {
            others += 1;
        }
    }
    (lists, others)
}

/// The JSON paths where two plan documents differ (with both values), the time the plan
/// was made (`created_at`) aside: it is the only field that may differ between two runs.
fn diff(a: &Json, b: &Json, path: &str) -> Vec<String> {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| !(path.is_empty() && k.as_str() == "created_at"))
                .flat_map(|k| {
                    let (l, r) = (
                        x.get(k).unwrap_or(&Json::Null),
                        y.get(k).unwrap_or(&Json::Null),
                    );
                    diff(l, r, &format!("{path}/{k}"))
                })
                .collect()
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(i, (l, r))| diff(l, r, &format!("{path}/{i}")))
            .collect(),
        _ if a == b => Vec::new(),
        _ => vec![format!("{path}: batched {a} / per object {b}")],
    }
}

/// Plans with `--json` (and `extra` flags): the plan document, the lists read and the number
/// of other GETs.
fn plan(p: &Project, sim: &Sim, extra: &[&str]) -> (Json, Vec<String>, usize) {
    let from = sim.requests().len();
    let mut args = vec!["plan", "--json"];
    args.extend(extra);
    let run = p.sim_run(sim, &args);
    run.code(0);
    let doc = run.plan_doc()["plan"].clone();
    let (lists, others) = reads_since(sim, from);
    (doc, lists, others)
}

/// Plans batched, then with `--per-object-reads`; asserts the two plan documents are
/// identical and that only the batched plan listed; returns the document.
fn plan_both_ways(p: &Project, sim: &Sim, what: &str) -> Json {
    let state_before = p.read(".plinth/state.json");
    let (batched, lists, batched_gets) = plan(p, sim, &[]);
    let (per_object, per_object_lists, per_object_gets) = plan(p, sim, &["--per-object-reads"]);
    let differences = diff(&batched, &per_object, "");
    assert!(
        differences.is_empty(),
        "{what}: the batched and per-object plans differ at {differences:#?}"
    );
    assert!(
        per_object_lists.is_empty(),
        "{what}: --per-object-reads listed {per_object_lists:?}"
    );
    // LISTS ARE USED WHEN BATCHING IS ON: this needs the providers' batch_key (Azure: identities,
    // credentials, queues, role assignments; Kubernetes: per kind and namespace). It fails, on
    // purpose, if a provider stops reading its collections in bulk.
    for collection in ["/userAssignedIdentities", "/queues", "/configmaps"] {
        assert!(
            lists.iter().any(|l| l.ends_with(collection)),
            "{what}: the batched plan did not list {collection} (lists: {lists:?})"
        );
    }
    assert!(
        batched_gets + lists.len() < per_object_gets,
        "{what}: batched plan read {} times ({} lists), per-object {per_object_gets}",
        batched_gets + lists.len(),
        lists.len()
    );
    // Plans leave the state alone.
    assert_eq!(
        p.read(".plinth/state.json"),
        state_before,
        "{what}: a plan wrote state"
    );
    batched
}

/// Changes a simulated ARM resource behind plinth's back (a JSON merge patch, or a delete).
fn out_of_band(sim: &Sim, method: &str, id: &str, patch: &str) {
    let (status, body) = request(
        &sim.url,
        method,
        &format!("/_sim/resources{id}"),
        &[("content-type", "application/json")],
        patch,
    );
    assert!(status < 300, "{method} {id}: {status}: {body}");
}

fn admin(sim: &Sim, method: &str, path: &str, body: &Json) -> Json {
    let (status, text) = request(
        &sim.url,
        method,
        path,
        &[("content-type", "application/json")],
        &body.to_string(),
    );
    assert_eq!(status, 200, "{method} {path}: {text}");
    serde_json::from_str(&text).expect("admin answers JSON")
}

fn applied() -> (Project, Sim) {
    let p = Project::with_main(CONFIG);
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    (p, sim)
}

#[test]
fn batched_and_per_object_plans_are_identical_before_and_after_drift() {
    require_kubectl();
    let (p, sim) = applied();
    assert!(
        p.read(".plinth/state.json").contains("bulk-charlie-mi"),
        "the apply recorded the estate"
    );

    // No-op: nothing to do either way.
    let doc = plan_both_ways(&p, &sim, "no-op");
    assert_eq!(changes(&doc), Vec::<(String, String)>::new());

    // Drift out of band: an identity's tag changed, a queue deleted (its role assignment
    // with it), a ConfigMap's data changed by hand.
    out_of_band(
        &sim,
        "PATCH",
        &p.id_of("mi[\"alpha\"]"),
        r#"{"tags": {"app": "changed by hand"}}"#,
    );
    out_of_band(&sim, "DELETE", &p.id_of("queue[\"bravo\"]"), "");
    let kubectl = kubectl_for(&p, &sim, &p.id_of("aks"));
    kubectl.ok(&[
        "patch",
        "configmap",
        "charlie-settings",
        "-n",
        "default",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"queue":"changed by hand"}}"#,
    ]);
    let doc = plan_both_ways(&p, &sim, "after drift");
    let got = changes(&doc);
    for want in [
        ("mi[\"alpha\"]", "update"),
        ("queue[\"bravo\"]", "create"),
        ("receiver[\"bravo\"]", "create"),
        ("settings[\"charlie\"]", "update"),
    ] {
        assert!(
            got.iter().any(|(a, act)| a == want.0 && act == want.1),
            "expected {want:?} among the changes {got:?}"
        );
    }
    // The drift itself, as both plans report it.
    let mut drifted: Vec<&str> = doc["resource_drift"]
        .as_array()
        .expect("resource_drift")
        .iter()
        .filter_map(|d| d["address"].as_str())
        .collect();
    drifted.sort();
    assert_eq!(
        drifted,
        [
            "mi[\"alpha\"]",
            "queue[\"bravo\"]",
            "receiver[\"bravo\"]",
            "settings[\"charlie\"]"
        ]
    );
    assert!(
        !got.iter()
            .any(|(a, _)| a.starts_with("mi[\"bravo\"]") || a.starts_with("mi[\"charlie\"]")),
        "untouched identities planned: {got:?}"
    );
    sim.stop();
}

#[test]
fn drift_between_two_list_pages_is_found_by_the_next_plan() {
    let (p, sim) = applied();
    p.assert_no_changes(&["--sim", &sim.url]);
    // Two identities a page: alpha and bravo on the first, charlie on the second (the
    // simulator lists in id order).
    admin(&sim, "PUT", "/_sim/config", &json!({"page_size": 2}));
    let collection = identities_collection();
    let alpha = p.id_of("mi[\"alpha\"]");
    let bravo = p.id_of("mi[\"bravo\"]");
    let charlie = p.id_of("mi[\"charlie\"]");
    // After the first page: alpha (already read) and charlie (not yet) get their tag changed, bravo
    // (already read) is deleted.
    for (id, change) in [
        (
            &alpha,
            json!({"merge": {"tags": {"app": "changed by hand"}}}),
        ),
        (
            &charlie,
            json!({"merge": {"tags": {"app": "changed by hand"}}}),
        ),
        (&bravo, json!({"delete": true})),
    ] {
        let mut hook = json!({"prefix": collection, "exact": true, "after": 1, "id": id});
        hook.as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        admin(&sim, "POST", "/_sim/hooks", &hook);
    }

    // And once the ConfigMaps of `default` have been listed, charlie's is changed by hand:
    // after its only page, so the plan shows the old value and the next one the new.
    let resources: Json = serde_json::from_str(&http_get_ok(&sim.url, "/_sim/resources")).unwrap();
    let cluster = resources["clusters"][0]
        .as_str()
        .expect("the AKS cluster's key");
    let configmaps = format!("/k8s/{cluster}/api/v1/namespaces/default/configmaps");
    admin(
        &sim,
        "POST",
        "/_sim/hooks",
        &json!({"prefix": configmaps, "exact": true, "after": 1,
            "id": format!("{configmaps}/charlie-settings"),
            "merge": {"data": {"queue": "changed between reads"}}}),
    );

    let (during, lists, _) = plan(&p, &sim, &[]);
    // The hooks fired between the pages (this needs the Azure provider's batched reads of
    // identities: per-object reads list nothing and nothing fires).
    let hooks = admin(&sim, "GET", "/_sim/hooks", &json!({}));
    for h in hooks["hooks"].as_array().unwrap() {
        assert_eq!(
            h["outcome"], "applied",
            "hook did not fire: {h} (lists: {lists:?})"
        );
    }
    let page_2 = lists
        .iter()
        .filter(|l| l.eq_ignore_ascii_case(&collection))
        .count();
    assert!(
        page_2 >= 2,
        "the identities were read in two pages: {lists:?}"
    );

    // The plan made meanwhile is not wrong: every identity is in it, each with its old value
    // (no change) or its new one (the tag to put back: an update; bravo gone: a create).
    let addresses: Vec<&str> = during["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["address"].as_str())
        .collect();
    for a in [
        "mi[\"alpha\"]",
        "mi[\"bravo\"]",
        "mi[\"charlie\"]",
        "settings[\"charlie\"]",
    ] {
        assert!(
            addresses.contains(&a),
            "{a} lost from the plan: {addresses:?}"
        );
    }
    let during_changes = changes(&during);
    for (address, new) in [
        ("mi[\"alpha\"]", "update"),
        ("mi[\"bravo\"]", "create"),
        ("mi[\"charlie\"]", "update"),
        ("settings[\"charlie\"]", "update"),
    ] {
        let action = during_changes
            .iter()
            .find(|(a, _)| a == address)
            .map(|(_, act)| act.as_str());
        assert!(
            action.is_none() || action == Some(new),
            "{address}: {action:?} is neither the old value (no change) nor the new ({new})"
        );
    }

    // Charlie was on the page after the hook: this plan already shows its new value.
    assert!(
        during_changes.contains(&("mi[\"charlie\"]".to_string(), "update".to_string())),
        "the page after the hook showed charlie's old value: {during_changes:?}"
    );

    // The next plan finds all of it, batched or not.
    admin(&sim, "DELETE", "/_sim/hooks", &json!({}));
    let next = plan_both_ways(&p, &sim, "the plan after the drift between pages");
    let got = changes(&next);
    for want in [
        ("mi[\"alpha\"]", "update"),
        ("mi[\"bravo\"]", "create"),
        ("mi[\"charlie\"]", "update"),
        ("settings[\"charlie\"]", "update"),
    ] {
        assert!(
            got.iter().any(|(a, act)| a == want.0 && act == want.1),
            "expected {want:?} among the next plan's changes {got:?}"
        );
    }
    // The simulator agrees: bravo is gone.
    let inventory = http_get_ok(&sim.url, "/_sim/resources");
    assert!(
        !inventory
            .to_ascii_lowercase()
            .contains(&bravo.to_ascii_lowercase())
    );
    sim.stop();
}
