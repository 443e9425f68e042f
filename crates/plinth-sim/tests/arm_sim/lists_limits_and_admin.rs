//! Generic types and paging, throttling and faults, the admin API and persistence.

use super::*;

#[tokio::test]
async fn arm_generic_types_and_paged_lists() {
    let s = sim().await;
    s.settings(json!({"page_size": 2})).await;
    for i in 0..5 {
        s.rg(&format!("rg{i}")).await;
    }
    // Resource groups of the subscription, following nextLink.
    let mut names = Vec::new();
    let mut next = Some(format!(
        "/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01"
    ));
    let mut pages = 0;
    while let Some(p) = next {
        let v = s.get(&p).await.json();
        pages += 1;
        names.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_string()),
        );
        next = v["nextLink"].as_str().map(|l| s.local(l));
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["rg0", "rg1", "rg2", "rg3", "rg4"]);

    // Any other type: PUT stores the body.
    let st = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/st1?api-version=2024-01-01",
        rg_id("rg0")
    );
    let r = s.put(&st, json!({"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {"minimumTlsVersion": "TLS1_2"}})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        s.put(&st, json!({"location": "eastus", "kind": "StorageV2"}))
            .await
            .status,
        200
    );
    assert_eq!(s.get(&st).await.json()["kind"], "StorageV2");

    // Resources of a group (top level only) and children of a parent.
    s.put(&uai_path("rg0", "u1"), json!({"location": "eastus"}))
        .await;
    s.put(
        &format!("{}?api-version=2024-01-01", ns_id("rg0", "ns")),
        json!({"location": "eastus"}),
    )
    .await;
    for q in ["q1", "q2", "q3"] {
        assert_eq!(
            s.put(
                &format!("{}/queues/{q}?api-version=2024-01-01", ns_id("rg0", "ns")),
                json!({})
            )
            .await
            .status,
            200
        );
    }
    let mut all = Vec::new();
    let mut next = Some(format!("{}/resources?api-version=2021-04-01", rg_id("rg0")));
    while let Some(p) = next {
        let v = s.get(&p).await.json();
        all.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["type"].as_str().unwrap().to_string()),
        );
        next = v["nextLink"].as_str().map(|l| s.local(l));
    }
    all.sort();
    assert_eq!(
        all,
        [
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            "Microsoft.ServiceBus/Namespaces",
            "Microsoft.Storage/storageAccounts"
        ]
    );
    let v = s
        .get(&format!(
            "{}/queues?api-version=2024-01-01",
            ns_id("rg0", "ns")
        ))
        .await
        .json();
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    assert!(v["nextLink"].as_str().unwrap().contains("skiptoken=2"));
    let v = s
        .get(&s.local(v["nextLink"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(v["value"][0]["name"], "q3");
    assert!(v.get("nextLink").is_none());
    assert_eq!(
        s.get(&format!(
            "{}/queues?api-version=2024-01-01",
            ns_id("rg0", "missing")
        ))
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn arm_throttling_token_buckets() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"read_bucket": [3.0, 0.001]})).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = s.get(&rg_path("rg")).await;
        assert_eq!(r.status, 200);
        remaining.push(
            r.header("x-ms-ratelimit-remaining-subscription-reads")
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
    }
    assert_eq!(remaining, [2, 1, 0]);
    let r = s.get(&rg_path("rg")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), "SubscriptionRequestsThrottled");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Writes have their own bucket.
    let r = s.put(&rg_path("rg"), json!({"location": "eastus"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-writes"),
        Some("198")
    );
    let r = s.delete(&rg_path("rg")).await;
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-deletes"),
        Some("199")
    );
}

/// An exhausted bucket is full again after `POST /_sim/throttle/refill`, at once: a test
/// never waits for the refill rate (here one token in 1000 s).
#[tokio::test]
async fn arm_throttle_refill_fills_exhausted_buckets_at_once() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"read_bucket": [2.0, 0.001]})).await;
    for _ in 0..2 {
        assert_eq!(s.get(&rg_path("rg")).await.status, 200);
    }
    assert_eq!(s.get(&rg_path("rg")).await.status, 429);
    let r = s.admin("POST", "/_sim/throttle/refill", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"refilled": true}));
    let r = s.get(&rg_path("rg")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("1"),
        "the bucket is at its capacity again"
    );
    assert_eq!(s.get(&rg_path("rg")).await.status, 200);
    assert_eq!(s.get(&rg_path("rg")).await.status, 429);
}

async fn fault_sequence(seed: u64) -> Vec<String> {
    let s = sim_with(SimConfig {
        faults: 0.5,
        seed,
        ..config()
    })
    .await;
    let mut out = Vec::new();
    for _ in 0..40 {
        let r = s.try_call("GET", &rg_path("none"), None).await;
        out.push(match r {
            Ok(r) => format!("{}:{}", r.status, r.header("retry-after").is_some()),
            Err(_) => "dropped".into(),
        });
    }
    out
}

#[tokio::test]
async fn arm_faults_are_deterministic_with_the_seed() {
    let a = fault_sequence(7).await;
    let b = fault_sequence(7).await;
    assert_eq!(a, b);
    for kind in [
        "429:true",
        "429:false",
        "500:false",
        "503:false",
        "dropped",
        "404:false",
    ] {
        assert!(a.contains(&kind.to_string()), "{kind} not seen in {a:?}");
    }
    assert_ne!(a, fault_sequence(8).await);
}

#[tokio::test]
async fn admin_inventory_drift_delete_and_request_log() {
    let s = sim().await;
    assert_eq!(s.admin("GET", "/_sim/health", None).await.status, 200);
    s.rg("rg").await;
    s.put(
        &uai_path("rg", "u"),
        json!({"location": "eastus", "tags": {"env": "dev"}}),
    )
    .await;
    let id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u";
    let r = s
        .admin(
            "PATCH",
            &format!("/_sim/resources{id}"),
            Some(json!({"tags": {"env": "prod"}})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.get(&uai_path("rg", "u")).await.json()["tags"]["env"],
        "prod"
    );
    let inv = s.admin("GET", "/_sim/resources", None).await.json();
    assert_eq!(inv["resources"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.admin("DELETE", &format!("/_sim/resources{id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(s.get(&uai_path("rg", "u")).await.status, 404);
    let log = s.admin("GET", "/_sim/requests", None).await.json();
    let entries = log.as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["method"] == "PUT" && e["status"] == 201 && e["at"].is_string())
    );
}

#[tokio::test]
async fn arm_world_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("world.json");
    let s = sim_with(SimConfig {
        world_file: Some(file.clone()),
        ..config()
    })
    .await;
    s.rg("rg").await;
    let client = s
        .put(&uai_path("rg", "u"), json!({"location": "eastus"}))
        .await
        .json()["properties"]["clientId"]
        .clone();
    assert!(file.is_file(), "saved after each write");
    s.h.shutdown().await.unwrap();
    let s = sim_with(SimConfig {
        world_file: Some(file),
        ..config()
    })
    .await;
    let r = s.get(&uai_path("rg", "u")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["properties"]["clientId"], client);
}
