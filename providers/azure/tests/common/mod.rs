//! Shared helpers: a simulator on an ephemeral port, a fast-retrying client, the admin API.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use plinth_provider_azure::{
    ARM_SCOPE, ArmClient, ArmClientBuilder, LroPolicy, RetryEvent, RetryPolicy, StaticToken,
};
use plinth_sim::{LogEntry, SimConfig, SimHandle};
use serde_json::Value;

pub const SUB: &str = "00000000-0000-0000-0000-000000000000";
pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";

pub async fn sim(faults: f64, seed: u64) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    plinth_sim::start(
        listener,
        SimConfig {
            faults,
            seed,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap()
}

/// Tiny backoff and poll intervals so tests never wait longer than needed; `Retry-After`
/// is still honoured in full (up to the default cap).
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_attempts: 25,
        total_timeout: Duration::from_secs(60),
        ..RetryPolicy::default()
    }
}

pub fn fast_lro() -> LroPolicy {
    LroPolicy {
        poll_interval: Duration::from_millis(25),
        max_poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(60),
    }
}

/// A client for `sim` with a token the simulator issued, fast policies, and retries recorded.
pub fn builder(sim: &SimHandle) -> ArmClientBuilder {
    let token = plinth_sim::entra::issue(TENANT, "plinth-test", ARM_SCOPE);
    ArmClient::builder()
        .base_url(&sim.url)
        .token_source(Arc::new(StaticToken(token)))
        .retry(fast_retry())
        .lro(fast_lro())
}

pub type Retries = Arc<Mutex<Vec<RetryEvent>>>;

pub fn recording(sim: &SimHandle) -> (ArmClient, Retries) {
    let seen: Retries = Arc::default();
    let s = seen.clone();
    let client = builder(sim)
        .observer(Arc::new(move |e: &RetryEvent| {
            s.lock().unwrap().push(e.clone())
        }))
        .build()
        .unwrap();
    (client, seen)
}

pub async fn set_config(sim: &SimHandle, patch: Value) {
    let resp = reqwest::Client::new()
        .put(format!("{}/_sim/config", sim.url))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
}

pub async fn requests(sim: &SimHandle) -> Vec<LogEntry> {
    reqwest::Client::new()
        .get(format!("{}/_sim/requests", sim.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub fn at(e: &LogEntry) -> SystemTime {
    humantime::parse_rfc3339(&e.at).unwrap()
}

pub fn header<'a>(e: &'a LogEntry, name: &str) -> Option<&'a str> {
    e.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub fn rg(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}

pub const RG_API: &str = "2021-04-01";
pub const AKS_API: &str = "2024-05-01";
pub const SB_API: &str = "2022-10-01-preview";
pub const MSI_API: &str = "2023-01-31";
