//! ARM operations against the simulated cloud over HTTP: LROs of each style, POST actions,
//! paging, and non-transient errors.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aks_create_polls_azure_async_operation_then_rg_delete_polls_location() {
    let sim = sim(0.0, 1).await;
    set_config(&sim, json!({"operation_ms": 300})).await;
    let (client, _) = recording(&sim);
    let group = rg("rg-lro");
    let body = client
        .put(&group, RG_API, json!({"location": "westeurope"}))
        .await
        .unwrap();
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");

    let aks = format!("{group}/providers/Microsoft.ContainerService/managedClusters/c1");
    let started = Instant::now();
    let body = client
        .put(
            &aks,
            AKS_API,
            json!({"location": "westeurope", "identity": {"type": "SystemAssigned"},
                "properties": {"dnsPrefix": "c1", "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System"}]}}),
        )
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(body["properties"]["dnsPrefix"], "c1");

    let log = requests(&sim).await;
    let put = log
        .iter()
        .position(|e| e.method == "PUT" && e.path.eq_ignore_ascii_case(&aks))
        .unwrap();
    let op_url =
        header(&log[put], "azure-asyncoperation").expect("AKS answers Azure-AsyncOperation");
    let op_path = op_url
        .split("://")
        .nth(1)
        .and_then(|r| r.find('/').map(|i| &r[i..]))
        .unwrap();
    let op_path = op_path.split('?').next().unwrap();
    let polls = log
        .iter()
        .filter(|e| e.method == "GET" && e.path == op_path)
        .count();
    assert!(
        polls >= 2,
        "the operation was polled until it succeeded ({polls} polls)"
    );
    let last = log.iter().rposition(|e| e.path == op_path).unwrap();
    assert!(
        log[last + 1..]
            .iter()
            .any(|e| e.method == "GET" && e.path.eq_ignore_ascii_case(&aks)),
        "the resource is read once the operation succeeded"
    );

    // POST action: listClusterUserCredential.
    let creds = client
        .post(&aks, "listClusterUserCredential", AKS_API, None)
        .await
        .unwrap();
    assert_eq!(creds["kubeconfigs"][0]["name"], "clusterUser");

    // Resource group delete: 202 + Location, polled until not 202.
    client.delete(&group, RG_API).await.unwrap();
    let log = requests(&sim).await;
    let del = log
        .iter()
        .rposition(|e| e.method == "DELETE" && e.path.eq_ignore_ascii_case(&group))
        .unwrap();
    assert_eq!(log[del].status, 202);
    assert_eq!(header(&log[del], "retry-after"), Some("15"));
    let polls: Vec<_> = log[del + 1..]
        .iter()
        .filter(|e| e.path.contains("/operationresults/"))
        .collect();
    assert!(polls.len() >= 2, "Location polled: {polls:?}");
    assert!(polls[..polls.len() - 1].iter().all(|e| e.status == 202));
    assert_eq!(polls.last().unwrap().status, 200);
    assert_eq!(client.get_if_exists(&group, RG_API).await.unwrap(), None);
    assert_eq!(client.get_if_exists(&aks, AKS_API).await.unwrap(), None);
    // Deleting what is gone is not an error.
    client.delete(&group, RG_API).await.unwrap();
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_bus_namespace_polls_provisioning_state() {
    let sim = sim(0.0, 2).await;
    set_config(&sim, json!({"operation_ms": 250})).await;
    let (client, _) = recording(&sim);
    let group = rg("rg-sb");
    client
        .put(&group, RG_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    let ns = format!("{group}/providers/Microsoft.ServiceBus/namespaces/plinth-sb-1");
    let body = client
        .put(
            &ns,
            SB_API,
            json!({"location": "eastus", "sku": {"name": "Standard"}}),
        )
        .await
        .unwrap();
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(body["properties"]["status"], "Active");
    let log = requests(&sim).await;
    let put = log
        .iter()
        .position(|e| e.method == "PUT" && e.path.eq_ignore_ascii_case(&ns))
        .unwrap();
    assert_eq!(log[put].status, 200);
    assert!(header(&log[put], "azure-asyncoperation").is_none());
    assert!(header(&log[put], "location").is_none());
    let gets = log[put + 1..]
        .iter()
        .filter(|e| e.method == "GET" && e.path.eq_ignore_ascii_case(&ns))
        .count();
    assert!(gets >= 2, "provisioningState polled ({gets} GETs)");

    // A queue inside it, then the namespace's delete (202 + Location).
    let queue = format!("{ns}/queues/jobs");
    let q = client
        .put(
            &queue,
            SB_API,
            json!({"properties": {"maxDeliveryCount": 5}}),
        )
        .await
        .unwrap();
    assert_eq!(q["properties"]["maxDeliveryCount"], 5);
    client.delete(&ns, SB_API).await.unwrap();
    assert_eq!(client.get_if_exists(&queue, SB_API).await.unwrap(), None);
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_follows_next_link() {
    let sim = sim(0.0, 3).await;
    set_config(&sim, json!({"page_size": 2})).await;
    let (client, _) = recording(&sim);
    for i in 0..5 {
        client
            .put(
                &rg(&format!("rg-{i}")),
                RG_API,
                json!({"location": "eastus"}),
            )
            .await
            .unwrap();
    }
    let path = format!("/subscriptions/{SUB}/resourcegroups");
    let items = client.list(&path, RG_API).await.unwrap();
    let mut names: Vec<&str> = items.iter().map(|v| v["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["rg-0", "rg-1", "rg-2", "rg-3", "rg-4"]);
    let pages = requests(&sim)
        .await
        .into_iter()
        .filter(|e| e.method == "GET" && e.path.eq_ignore_ascii_case(&path))
        .count();
    assert_eq!(pages, 3);
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_transient_error_fails_at_once_with_arms_code() {
    let sim = sim(0.0, 4).await;
    let (client, retries) = recording(&sim);
    let group = rg("no-location");
    let err = client.put(&group, RG_API, json!({})).await.unwrap_err();
    assert_eq!(err.code(), Some("LocationRequired"), "{err}");
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("location"), "{err}");
    let puts = requests(&sim)
        .await
        .into_iter()
        .filter(|e| e.method == "PUT")
        .count();
    assert_eq!(puts, 1, "not retried");
    assert!(retries.lock().unwrap().is_empty());
    let err = client.get(&group, RG_API).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.code(), Some("ResourceGroupNotFound"));
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_provisioning_state_reports_the_failure() {
    let sim = sim(0.0, 5).await;
    // The namespace stays `Created` until the test fails it out of band.
    set_config(&sim, json!({"operation_ms": 600000})).await;
    let (client, _) = recording(&sim);
    let group = rg("rg-fail");
    client
        .put(&group, RG_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    let ns = format!("{group}/providers/Microsoft.ServiceBus/namespaces/plinth-fail");
    let started = client
        .send(&plinth_provider_azure::ArmRequest::put(
            &ns,
            SB_API,
            json!({"location": "eastus", "sku": {"name": "Standard"}}),
        ))
        .await
        .unwrap();
    assert_eq!(started.body["properties"]["provisioningState"], "Created");
    let resp = reqwest::Client::new()
        .patch(format!("{}/_sim/resources{ns}", sim.url))
        .json(&json!({"properties": {"provisioningState": "Failed"}}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let err = client
        .call(&plinth_provider_azure::TracingObserver)
        .complete(started, &reqwest::Method::PUT, &ns, SB_API)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ProvisioningFailed"), "{err}");
    assert!(err.to_string().contains("plinth-fail"), "{err}");
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_are_bounded_by_a_total_timeout() {
    let sim = sim(0.0, 6).await;
    set_config(&sim, json!({"operation_ms": 600000})).await;
    let client = builder(&sim)
        .lro(plinth_provider_azure::LroPolicy {
            timeout: Duration::from_millis(200),
            ..fast_lro()
        })
        .build()
        .unwrap();
    let group = rg("rg-slow");
    client
        .put(&group, RG_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    let ns = format!("{group}/providers/Microsoft.ServiceBus/namespaces/plinth-slow");
    let started = Instant::now();
    let err = client
        .put(
            &ns,
            SB_API,
            json!({"location": "eastus", "sku": {"name": "Standard"}}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, plinth_provider_azure::Error::Timeout { .. }),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    sim.shutdown().await.unwrap();
}
