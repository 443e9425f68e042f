//! Service Bus namespaces and queues, managed identities and federated credentials.

use super::*;

#[tokio::test]
async fn arm_servicebus_namespace_and_queue_fidelity() {
    let s = sim().await;
    s.rg("ArunMonocle").await;
    let ex = example(
        "servicebus/resource-manager/Microsoft.ServiceBus/stable/2024-01-01/examples/NameSpaces/SBNameSpaceCreate.json",
    );
    let ns_path = format!(
        "{}?api-version=2024-01-01",
        ns_id("ArunMonocle", "sdk-Namespace-2924")
    );
    let r = s
        .put(&ns_path, ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("azure-asyncoperation").is_none() && r.header("location").is_none());
    let body = r.json();
    assert_shape(&body, &ex["responses"]["200"]["body"], &[]);
    assert_eq!(body["properties"]["provisioningState"], "Created");
    assert_eq!(body["properties"]["status"], "Activating");
    assert_eq!(
        body["properties"]["serviceBusEndpoint"],
        "https://sdk-Namespace-2924.servicebus.windows.net:443/"
    );
    assert_eq!(body["type"], "Microsoft.ServiceBus/Namespaces");
    let got = s.get(&ns_path).await.json();
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got["properties"]["status"], "Active");

    let qex = example(
        "servicebus/resource-manager/Microsoft.ServiceBus/stable/2024-01-01/examples/Queues/SBQueueCreate.json",
    );
    let q_path = format!(
        "{}/queues/sdk-Queues-5647?api-version=2024-01-01",
        ns_id("ArunMonocle", "sdk-Namespace-2924")
    );
    let r = s
        .put(&q_path, qex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 200);
    assert_shape(&r.json(), &qex["responses"]["200"]["body"], &[]);
    assert_eq!(r.json()["properties"]["enablePartitioning"], true);
    let gex = example(
        "servicebus/resource-manager/Microsoft.ServiceBus/stable/2024-01-01/examples/Queues/SBQueueGet.json",
    );
    let r = s.get(&q_path).await;
    assert_shape(&r.json(), &gex["responses"]["200"]["body"], &[]);
    assert_eq!(r.json()["type"], "Microsoft.ServiceBus/Namespaces/Queues");

    // requiresSession is create-only.
    let r = s
        .put(
            &q_path,
            json!({"properties": {"requiresSession": true, "enablePartitioning": true}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "BadRequest");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("RequiresSession")
    );

    // A queue under a missing namespace.
    let r = s
        .put(
            &format!(
                "{}/queues/q?api-version=2024-01-01",
                ns_id("ArunMonocle", "nope")
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ParentResourceNotFound");

    // Queue DELETE is synchronous 200; namespace DELETE is 202 + Location, polled to 200.
    assert_eq!(s.delete(&q_path).await.status, 200);
    let r = s.delete(&ns_path).await;
    assert_eq!(r.status, 202);
    assert!(r.header("azure-asyncoperation").is_none());
    let loc = s.local(r.header("location").unwrap());
    assert!(loc.contains("/namespaces/sdk-Namespace-2924/operationresults/"));
    let poll = s.get(&loc).await;
    assert_eq!(poll.status, 200);
    assert!(poll.body.is_empty());
    assert_eq!(s.get(&ns_path).await.code(), "ResourceNotFound");
}

#[tokio::test]
async fn arm_servicebus_namespace_activates_after_the_latency() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"operation_ms": 60000})).await;
    let ns_path = format!("{}?api-version=2024-01-01", ns_id("rg", "ns1"));
    assert_eq!(
        s.put(
            &ns_path,
            json!({"location": "eastus", "sku": {"name": "Standard"}})
        )
        .await
        .status,
        200
    );
    let got = s.get(&ns_path).await.json();
    assert_eq!(got["properties"]["provisioningState"], "Created");
    assert_eq!(got["properties"]["status"], "Activating");
    assert_eq!(got["sku"]["tier"], "Standard");
}

#[tokio::test]
async fn arm_servicebus_namespace_reserved_endings_are_refused() {
    let s = sim().await;
    s.rg("rg").await;
    let body = json!({"location": "eastus", "sku": {"name": "Standard"}});
    for name in ["kedademo-sb", "kedademo-SB", "kedademo-mgmt", "kedademo-"] {
        let path = format!("{}?api-version=2024-01-01", ns_id("rg", name));
        let r = s.put(&path, body.clone()).await;
        assert_eq!(r.status, 400, "{name}");
        let err = &r.json()["error"];
        assert_eq!(err["code"], "BadRequest", "{name}");
        let msg = err["message"].as_str().unwrap();
        assert!(
            msg.starts_with("The specified service namespace is invalid. CorrelationId: "),
            "{msg}"
        );
        assert_eq!(s.get(&path).await.status, 404, "{name} was not created");
    }
    let ok = format!("{}?api-version=2024-01-01", ns_id("rg", "kedademo-sbns"));
    assert_eq!(s.put(&ok, body).await.status, 200);
}

#[tokio::test]
async fn arm_identity_and_federated_credentials() {
    let s = sim().await;
    s.rg("rgName").await;
    let ex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/IdentityCreate.json",
    );
    let path = uai_path("rgName", "identityName");
    let r = s.put(&path, ex["parameters"]["parameters"].clone()).await;
    assert_eq!(r.status, 201);
    assert!(r.header("azure-asyncoperation").is_none());
    let body = r.json();
    assert_shape(&body, &ex["responses"]["201"]["body"], &[]);
    for f in ["clientId", "principalId", "tenantId"] {
        assert_guid(&body["properties"][f], f);
    }
    let again = s.put(&path, ex["parameters"]["parameters"].clone()).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.json()["properties"]["clientId"],
        body["properties"]["clientId"],
        "ids are stable across updates"
    );
    let gex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/IdentityGet.json",
    );
    assert_shape(
        &s.get(&path).await.json(),
        &gex["responses"]["200"]["body"],
        &[],
    );

    let fex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/FederatedIdentityCredentialCreate.json",
    );
    let fic = |n: &str| {
        format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName/federatedIdentityCredentials/{n}?api-version=2024-11-30",
            rg_id("rgName")
        )
    };
    let r = s
        .put(
            &fic("ficResourceName"),
            fex["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_shape(&r.json(), &fex["responses"]["201"]["body"], &[]);
    assert_eq!(
        r.json()["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    );
    let gex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/FederatedIdentityCredentialGet.json",
    );
    assert_shape(
        &s.get(&fic("ficResourceName")).await.json(),
        &gex["responses"]["200"]["body"],
        &[],
    );
    assert_eq!(
        s.put(
            &fic("ficResourceName"),
            fex["parameters"]["parameters"].clone()
        )
        .await
        .status,
        200
    );

    // Concurrent writes under one identity. A credential write takes a moment (here 1 s)
    // and is answered when done: another write arriving meanwhile answers 409, a write made
    // after the answer succeeds (on Azure, writes made one after the other never meet the
    // 409: see the sources in src/arm/types/managed_identity.rs).
    s.settings(json!({"fic_write_ms": 1000})).await;
    let body = fex["parameters"]["parameters"].clone();
    let a_path = fic("a");
    let stored_a = format!("/_sim/resources{}", fic("a").split('?').next().unwrap());
    let (first, (meanwhile, delete_meanwhile)) =
        tokio::join!(s.put(&a_path, body.clone()), async {
            // The write is stored when it arrives and answered when done: wait (without
            // sleeping) until it is in progress.
            while s.admin("GET", &stored_a, None).await.status != 200 {
                tokio::task::yield_now().await;
            }
            (
                s.put(&fic("b"), body.clone()).await,
                s.delete(&fic("ficResourceName")).await,
            )
        });
    assert_eq!(first.status, 201);
    for r in [&meanwhile, &delete_meanwhile] {
        assert_eq!(r.status, 409);
        assert_eq!(
            r.code(),
            "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
        );
    }
    // The log shows the first write in progress for the write's duration, the others
    // refused within it.
    let log = s.admin("GET", "/_sim/requests", None).await.json();
    let entries = log
        .as_array()
        .or_else(|| log["requests"].as_array())
        .unwrap()
        .clone();
    let put_a = entries
        .iter()
        .find(|e| {
            e["method"] == "PUT"
                && e["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("/federatedIdentityCredentials/a")
        })
        .unwrap();
    let at = |t: &Value| humantime::parse_rfc3339(t.as_str().unwrap()).unwrap();
    let took = at(&put_a["done"]).duration_since(at(&put_a["at"])).unwrap();
    assert!(took >= std::time::Duration::from_millis(999), "{put_a}");
    // Answered: the identity takes the next write.
    assert_eq!(s.put(&fic("b"), body.clone()).await.status, 201);
    s.settings(json!({"fic_write_ms": 0})).await;

    // A credential under a missing identity.
    let r = s
        .put(
            &fic("x").replace("identityName", "nobody"),
            fex["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ParentResourceNotFound");

    // DELETE: 200, then 204 once gone; children go with the identity.
    assert_eq!(s.delete(&fic("a")).await.status, 200);
    assert_eq!(s.delete(&path).await.status, 200);
    assert_eq!(s.delete(&path).await.status, 204);
    assert_eq!(s.get(&fic("ficResourceName")).await.status, 404);
}

#[tokio::test]
async fn arm_missing_resource_group_is_404() {
    let s = sim().await;
    let r = s
        .put(&uai_path("nope", "x"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'nope'")
    );
}
