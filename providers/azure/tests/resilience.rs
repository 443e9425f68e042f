//! Retries under injected faults and client-side rate limiting, against the simulator.

mod common;

use std::time::Duration;

use common::*;
use plinth_provider::{Note, Reporter};
use plinth_provider_azure::{ArmClient, Bucket, RateLimits, ReporterObserver, RetryPolicy};

#[derive(Default)]
struct Notes(std::sync::Mutex<Vec<Note>>);

impl Reporter for Notes {
    fn note(&self, note: Note) {
        self.0.lock().unwrap().push(note);
    }
}
use plinth_sim::LogEntry;
use serde_json::json;

/// Injects, among others, three 429s with `Retry-After: 1` within the first 25 ARM requests.
const SEED: u64 = 4;

/// A sequence of operations of every kind; each must succeed.
async fn workload(client: &ArmClient) {
    let group = rg("rg-faults");
    client
        .put(&group, RG_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    let ns = format!("{group}/providers/Microsoft.ServiceBus/namespaces/plinth-faults");
    let body = client
        .put(
            &ns,
            SB_API,
            json!({"location": "eastus", "sku": {"name": "Standard"}}),
        )
        .await
        .unwrap();
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    for q in ["a", "b", "c", "d"] {
        client
            .put(
                &format!("{ns}/queues/{q}"),
                SB_API,
                json!({"properties": {}}),
            )
            .await
            .unwrap();
    }
    let queues = client.list(&format!("{ns}/queues"), SB_API).await.unwrap();
    assert_eq!(queues.len(), 4);
    let uai = format!("{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1");
    client
        .put(&uai, MSI_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    for i in 0..3 {
        client
            .put(
                &format!("{uai}/federatedIdentityCredentials/fic{i}"),
                MSI_API,
                json!({"properties": {"issuer": "https://issuer.example", "subject": format!("sa:{i}"), "audiences": ["api://AzureADTokenExchange"]}}),
            )
            .await
            .unwrap();
    }
    client
        .patch(&group, RG_API, json!({"tags": {"team": "plinth"}}))
        .await
        .unwrap();
    client.delete(&ns, SB_API).await.unwrap();
    client.delete(&group, RG_API).await.unwrap();
    assert_eq!(client.get_if_exists(&group, RG_API).await.unwrap(), None);
}

fn is_arm(e: &LogEntry) -> bool {
    !e.path.starts_with("/_sim/") && !e.path.contains("/oauth2/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_converge_under_faults_and_honour_retry_after() {
    let sim = sim(0.3, SEED).await;
    set_config(&sim, json!({"operation_ms": 100})).await;
    let (client, retries) = recording(&sim);
    workload(&client).await;

    let log: Vec<LogEntry> = requests(&sim).await.into_iter().filter(is_arm).collect();
    let failed: Vec<&LogEntry> = log
        .iter()
        .filter(|e| e.status >= 400 && e.status != 404)
        .collect();
    let retries = retries.lock().unwrap().clone();
    assert!(!failed.is_empty(), "the seed injects faults");
    assert!(
        retries.len() >= failed.len(),
        "every injected error answer was retried ({} retries, {} errors)",
        retries.len(),
        failed.len()
    );
    // Each failed request was sent again, and after a 429 with `Retry-After: 1` not before
    // a second had passed.
    let mut honoured = 0;
    for (i, e) in log.iter().enumerate() {
        if e.status < 400 || e.status == 404 {
            continue;
        }
        let again = log[i + 1..]
            .iter()
            .find(|n| n.method == e.method && n.path == e.path)
            .unwrap_or_else(|| panic!("{} {} was not retried", e.method, e.path));
        if let Some(secs) = header(e, "retry-after") {
            let secs: u64 = secs.parse().unwrap();
            let waited = at(again).duration_since(at(e)).unwrap_or_default();
            assert!(
                waited >= Duration::from_secs(secs),
                "{} {} retried after {waited:?} despite Retry-After: {secs}",
                e.method,
                e.path
            );
            honoured += 1;
        }
    }
    assert!(honoured >= 1, "the seed injects a 429 with Retry-After");
    assert!(
        retries
            .iter()
            .any(|r| r.cause == plinth_provider_azure::RetryCause::NoAnswer),
        "a dropped connection was retried: {retries:#?}"
    );
    assert!(
        retries
            .iter()
            .any(|r| r.retry_after && r.delay == Duration::from_secs(1))
    );
    // Backoff without Retry-After stays within the (tiny) test policy.
    assert!(
        retries
            .iter()
            .filter(|r| !r.retry_after)
            .all(|r| r.delay <= Duration::from_millis(50))
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded() {
    // Every request faults: the client gives up after max_attempts with the last error.
    let sim = sim(1.0, 1).await;
    let client = builder(&sim)
        .retry(RetryPolicy {
            max_attempts: 3,
            max_retry_after: Duration::from_millis(10),
            ..fast_retry()
        })
        .build()
        .unwrap();
    // Retries of this call go to plinth's Reporter as notes for the resource's address.
    let notes = Notes::default();
    let observer = ReporterObserver {
        reporter: &notes,
        address: "azure:Microsoft.Resources/resourceGroups.x",
    };
    let err = client
        .call(&observer)
        .get(&rg("x"), RG_API)
        .await
        .unwrap_err();
    let arm = requests(&sim).await.into_iter().filter(is_arm).count();
    assert_eq!(arm, 3, "{err}");
    let notes = notes.0.lock().unwrap().clone();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes
            .iter()
            .all(|n| n.address == "azure:Microsoft.Resources/resourceGroups.x")
    );
    // One short line for the user; the request, the attempt and ARM's answer in the detail.
    for n in &notes {
        assert!(
            !n.message.contains('\n') && !n.message.contains(&sim.url),
            "{}",
            n.message
        );
        let detail = n.detail.as_deref().expect("a retry note has its detail");
        assert!(detail.starts_with("GET "), "{detail}");
        assert!(
            detail.contains(&format!("{}/subscriptions/", sim.url)),
            "{detail}"
        );
    }
    assert!(
        notes[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("attempt 1 of 3"),
        "{notes:?}"
    );
    sim.shutdown().await.unwrap();
}

async fn burst(client: &ArmClient, n: usize) {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let c = client.clone();
        set.spawn(async move { c.get_if_exists(&rg(&format!("g{i}")), RG_API).await });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_buckets_avoid_throttling() {
    let sim = sim(0.0, 20).await;
    // ARM's read bucket here: 10 burst, 20/s.
    set_config(&sim, json!({"read_bucket": [10.0, 20.0]})).await;

    // Without client-side limits a burst of 30 reads is throttled.
    let unlimited = builder(&sim)
        .rate_limits(None)
        .retry(RetryPolicy {
            max_attempts: 1,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..30 {
        let c = unlimited.clone();
        set.spawn(async move { c.get_if_exists(&rg(&format!("u{i}")), RG_API).await });
    }
    let mut throttled = 0;
    while let Some(r) = set.join_next().await {
        if let Err(e) = r.unwrap() {
            assert_eq!(e.code(), Some("SubscriptionRequestsThrottled"));
            throttled += 1;
        }
    }
    assert!(throttled > 0);
    // Let the server's bucket refill (the simulator's timing control: no waiting).
    refill_buckets(&sim).await;
    let before = requests(&sim).await.len();

    // With buckets a little under ARM's, the same burst is paced and never throttled.
    let limited = builder(&sim)
        .rate_limits(Some(RateLimits {
            reads: Bucket {
                burst: 10.0,
                per_second: 15.0,
            },
            ..RateLimits::default()
        }))
        .build()
        .unwrap();
    burst(&limited, 30).await;
    let log = requests(&sim).await;
    let after: Vec<&LogEntry> = log[before..].iter().filter(|e| is_arm(e)).collect();
    assert_eq!(after.len(), 30);
    assert!(
        after.iter().all(|e| e.status != 429),
        "no 429 with client-side buckets"
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remaining_headers_tighten_the_buckets() {
    let sim = sim(0.0, 21).await;
    // This subscription allows a far smaller burst than the documented defaults the client
    // starts from (5 reads instead of 250).
    set_config(&sim, json!({"read_bucket": [5.0, 25.0]})).await;
    let once = RetryPolicy {
        max_attempts: 1,
        ..fast_retry()
    };
    let reads = |client: ArmClient| async move {
        let mut throttled = 0;
        for i in 0..20 {
            if let Err(e) = client.get_if_exists(&rg(&format!("s{i}")), RG_API).await {
                assert_eq!(e.code(), Some("SubscriptionRequestsThrottled"));
                throttled += 1;
            }
        }
        throttled
    };
    // Without client-side buckets, a burst of 20 reads is throttled.
    let unlimited = builder(&sim)
        .rate_limits(None)
        .retry(once.clone())
        .build()
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let c = unlimited.clone();
        set.spawn(async move { c.get_if_exists(&rg(&format!("u{i}")), RG_API).await });
    }
    let mut throttled = 0;
    while let Some(r) = set.join_next().await {
        throttled += usize::from(r.unwrap().is_err());
    }
    assert!(throttled > 0);
    refill_buckets(&sim).await;
    // With the default buckets, the `x-ms-ratelimit-remaining-subscription-reads` answers
    // bring the client's bucket down to what ARM has left: no 429.
    let limited = builder(&sim).retry(once).build().unwrap();
    assert_eq!(reads(limited).await, 0);
    sim.shutdown().await.unwrap();
}

/// A server that accepts connections and never answers: every request times out after the
/// per-request timeout, is retried as a transient failure (each retry reported to the
/// resource's reporter), and the last one fails with "timed out after ... talking to ARM at
/// HOST" (no path, no query string).
#[tokio::test]
async fn a_server_that_never_answers_times_out_and_is_retried_and_reported() {
    use plinth_provider::{Prior, Provider, Request};
    use plinth_provider_azure::{AzureProvider, AzureSettings, HttpTimeouts, StaticToken};
    use plinth_value::Value;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (held_tx, mut held_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        // Accepted, read from by nobody, answered never; kept open until the test ends.
        while let Ok((socket, _)) = listener.accept().await {
            if held_tx.send(socket).is_err() {
                break;
            }
        }
    });

    let mut settings = AzureSettings::from_lookup(|_| None);
    settings.arm_endpoint = format!("http://{addr}");
    settings.subscription_id = Some("sub".into());
    settings.token_source = Some(std::sync::Arc::new(StaticToken("t".into())));
    settings.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    settings.timeouts = HttpTimeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_millis(300),
    };
    let azure = AzureProvider::new(settings);
    let notes = Notes::default();
    let req = Request::new(
        "Microsoft.Resources/resourceGroups@2025-04-01",
        "rg",
        &notes,
    );
    let prior = Prior {
        id: Some("/subscriptions/sub/resourceGroups/never".into()),
        inputs: Value::Null,
        attributes: Value::Null,
    };
    let started = std::time::Instant::now();
    // Bounded, so that a client without timeouts fails this test instead of hanging it.
    let err = tokio::time::timeout(Duration::from_secs(20), azure.read(&req, &prior))
        .await
        .expect("the read never ended: the ARM client has no request timeout")
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        err.message,
        format!("timed out after 300ms talking to ARM at {addr}")
    );
    assert!(!err.message.contains("api-version"), "{}", err.message);
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let notes = notes.0.lock().unwrap().clone();
    assert_eq!(notes.len(), 2, "{notes:?}");
    for n in &notes {
        assert_eq!(n.address, "rg");
        assert!(
            n.message
                .starts_with("ARM did not answer the read within 0.3s, retrying in "),
            "{}",
            n.message
        );
        let detail = n.detail.as_deref().unwrap();
        assert!(
            detail.contains("timed out after 300ms talking to ARM at"),
            "{detail}"
        );
    }
    // The requests did reach the listener (they were not refused).
    let mut held = 0;
    while held_rx.try_recv().is_ok() {
        held += 1;
    }
    assert!(held >= 1, "no connection was made");
}

/// A minimal ARM on a loopback port: `DELETE .../doomed` is accepted (202 with an
/// `Azure-AsyncOperation` URL) and every poll of that operation fails with a 500; `DELETE
/// .../refused` is refused at once (409).
async fn arm_whose_operation_polls_fail() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let line = head.lines().next().unwrap_or_default().to_string();
                let (status, extra, body) = if line.starts_with("DELETE")
                    && line.contains("/doomed")
                {
                    (
                        "202 Accepted",
                        format!(
                            "Azure-AsyncOperation: http://{addr}/operations/1\r\nRetry-After: 0\r\n"
                        ),
                        String::new(),
                    )
                } else if line.starts_with("DELETE") {
                    (
                        "409 Conflict",
                        String::new(),
                        r#"{"error":{"code":"ScopeLocked","message":"the scope is locked"}}"#
                            .to_string(),
                    )
                } else {
                    (
                        "500 Internal Server Error",
                        String::new(),
                        r#"{"error":{"code":"InternalServerError","message":"the operation store is down"}}"#
                            .to_string(),
                    )
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// A delete ARM accepted whose long-running operation cannot be followed to its end fails
/// saying it was accepted (so the engine keeps the record `pending_delete`, to be settled by
/// the next refresh); a delete ARM refused is not accepted.
#[tokio::test]
async fn a_delete_whose_operation_poll_fails_says_it_was_accepted() {
    use plinth_provider::{NullReporter, Prior, Provider, Request};
    use plinth_provider_azure::{AzureProvider, AzureSettings, LroPolicy, StaticToken};
    use plinth_value::Value;

    let addr = arm_whose_operation_polls_fail().await;
    let mut settings = AzureSettings::from_lookup(|_| None);
    settings.arm_endpoint = format!("http://{addr}");
    settings.subscription_id = Some("sub".into());
    settings.token_source = Some(std::sync::Arc::new(StaticToken("t".into())));
    settings.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    settings.lro = LroPolicy {
        poll_interval: Duration::from_millis(1),
        max_poll_interval: Duration::from_millis(5),
        timeout: Duration::from_secs(30),
    };
    let azure = AzureProvider::new(settings);
    let req = Request::new(
        "Microsoft.Resources/resourceGroups@2025-04-01",
        "rg",
        &NullReporter,
    );
    let prior = |name: &str| Prior {
        id: Some(format!("/subscriptions/sub/resourceGroups/{name}")),
        inputs: Value::Null,
        attributes: Value::Null,
    };
    let err = azure.delete(&req, &prior("doomed")).await.unwrap_err();
    assert!(err.accepted, "{err:?}");
    assert_eq!(err.code.as_deref(), Some("InternalServerError"));
    assert!(
        err.message.starts_with("ARM accepted the delete, but waiting for it to finish failed: the operation store is down"),
        "{}",
        err.message
    );
    let err = azure.delete(&req, &prior("refused")).await.unwrap_err();
    assert!(!err.accepted, "{err:?}");
    assert_eq!(err.code.as_deref(), Some("ScopeLocked"));
}

/// Fills the simulator's throttling buckets at once (`POST /_sim/throttle/refill`), instead of
/// waiting for their refill rate.
async fn refill_buckets(sim: &plinth_sim::SimHandle) {
    let resp = reqwest::Client::new()
        .post(format!("{}/_sim/throttle/refill", sim.url))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
}
