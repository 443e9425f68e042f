//! The same estate planned through batched reads and through per-object reads gives the same
//! plan: on an empty state (existence checks, under a resource group that does not exist
//! yet), after apply (refresh), and after drift made out of band (a changed tag, a deleted
//! identity, a deleted queue), with fewer ARM reads when batched.

use std::sync::Arc;
use std::time::Duration;

use plinth_engine::PlanOptions;
use plinth_plan::Plan;
use plinth_provider_azure::{ARM_SCOPE, AzureProvider, AzureSettings, LroPolicy};
use plinth_sim::{Latency, LogEntry, SimConfig, SimHandle};
use plinth_testkit::Engine;
use serde_json::json;

const SUB: &str = "00000000-0000-0000-0000-000000000000";

fn estate() -> String {
    let mut s = String::from(
        r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "batch-rg"
location = "eastus"

[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${rg.id}"
name = "batch-sbns"
location = "eastus"
body.sku.name = "Standard"
"#,
    );
    for i in 0..6 {
        s.push_str(&format!(
            r#"
[resource.mi{i}]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${{rg.id}}"
name = "batch-mi-{i}"
location = "eastus"
tags = {{ n = "{i}" }}
"#
        ));
    }
    for i in 0..3 {
        s.push_str(&format!(
            r#"
[resource.q{i}]
type = "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01"
parent = "${{sb.id}}"
name = "queue-{i}"

[resource.fic{i}]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30"
parent = "${{mi0.id}}"
name = "fic-{i}"
[resource.fic{i}.body.properties]
issuer = "https://oidc.example.com/issuer/"
subject = "system:serviceaccount:ns{i}:app"
audiences = ["api://AzureADTokenExchange"]
"#
        ));
    }
    s
}

async fn sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    plinth_sim::start(
        listener,
        SimConfig {
            latency: Latency::Instant,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap()
}

async fn log(sim: &SimHandle) -> Vec<LogEntry> {
    reqwest::get(format!("{}/_sim/requests", sim.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Plans both ways; asserts the plans agree; returns the ARM reads (batched, per object).
async fn both_ways(sim: &SimHandle, engine: &Engine) -> (Plan, usize, usize) {
    let mut plans = Vec::new();
    let mut reads = Vec::new();
    for per_object_reads in [false, true] {
        let from = log(sim).await.len();
        let plan = engine
            .plan_with(PlanOptions {
                parallelism: 8,
                per_object_reads,
                ..Default::default()
            })
            .await;
        reads.push(
            log(sim).await[from..]
                .iter()
                .filter(|e| e.method == "GET" && e.path.starts_with("/subscriptions"))
                .count(),
        );
        plans.push(plan);
    }
    let (a, b) = (&plans[0], &plans[1]);
    assert_eq!(a.changes, b.changes, "batched and per-object plans agree");
    assert_eq!(a.drift, b.drift);
    assert_eq!(a.outputs, b.outputs);
    (plans.swap_remove(0), reads[0], reads[1])
}

async fn out_of_band(sim: &SimHandle, method: reqwest::Method, id: &str, api: &str) {
    let token = plinth_sim::entra::issue("t", "someone-else", ARM_SCOPE);
    let mut rb = reqwest::Client::new()
        .request(method.clone(), format!("{}{id}?api-version={api}", sim.url))
        .bearer_auth(token);
    if method == reqwest::Method::PATCH {
        rb = rb.json(&json!({"tags": {"n": "changed"}}));
    }
    let resp = rb.send().await.unwrap();
    assert!(
        resp.status().is_success(),
        "{method} {id}: {}",
        resp.status()
    );
}

#[tokio::test]
async fn batched_and_per_object_reads_plan_alike() {
    let sim = sim().await;
    let mut s = AzureSettings::for_sim_with(&sim.url, |_| None);
    s.lro = LroPolicy {
        poll_interval: Duration::from_millis(10),
        max_poll_interval: Duration::from_millis(50),
        timeout: Duration::from_secs(60),
    };
    let azure = AzureProvider::new(s);
    let mut engine = Engine::with_providers(&estate(), [Arc::new(azure) as _]);
    engine.parallelism = 16;

    // Empty state: existence checks, the group does not exist yet.
    let (plan, batched, alone) = both_ways(&sim, &engine).await;
    assert_eq!(plan.changes.len(), 14);
    assert!(
        batched < alone,
        "existence checks: {batched} reads batched, {alone} alone"
    );

    engine.apply_ok(&plan).await;

    // Refresh of everything, nothing changed.
    let (plan, batched, alone) = both_ways(&sim, &engine).await;
    assert!(
        plan.changes
            .iter()
            .all(|c| c.action == plinth_plan::Action::NoOp),
        "{:?}",
        plan.changes
    );
    assert_eq!(alone, 14);
    // The group and the namespace alone; six identities, three queues and three
    // credentials one list each.
    assert_eq!(batched, 5, "refresh: {batched} reads batched");

    // Drift out of band: a tag changed, an identity and a queue deleted.
    let rg = format!("/subscriptions/{SUB}/resourceGroups/batch-rg");
    let mi = |i: u32| {
        format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/batch-mi-{i}")
    };
    out_of_band(&sim, reqwest::Method::PATCH, &mi(2), "2024-11-30").await;
    out_of_band(&sim, reqwest::Method::DELETE, &mi(4), "2024-11-30").await;
    let q1 = format!("{rg}/providers/Microsoft.ServiceBus/namespaces/batch-sbns/queues/queue-1");
    out_of_band(&sim, reqwest::Method::DELETE, &q1, "2024-01-01").await;
    let (plan, batched, alone) = both_ways(&sim, &engine).await;
    let acted: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action != plinth_plan::Action::NoOp)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(acted.len(), 3, "{acted:?}");
    assert!(!plan.drift.is_empty());
    // Per object: the 14 refresh reads and one more for each object to create again. Batched:
    // the 5 of before, a GET confirming each recorded object gone from its list, and the two
    // existence checks (a list that came whole in one page is taken at its word for those).
    assert_eq!(alone, 16, "drift: {alone} reads alone");
    assert_eq!(batched, 5 + 2 + 2, "drift: {batched} reads batched");
}
