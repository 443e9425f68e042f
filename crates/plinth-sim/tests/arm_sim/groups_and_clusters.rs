//! Resource groups (casing, cascade delete, LROs) and AKS clusters (create, credentials,
//! concurrent-operation answers).

use super::*;

#[tokio::test]
async fn arm_resource_group_fidelity_casing_and_cascade_delete() {
    let s = sim().await;
    let ex = example(
        "resources/resource-manager/Microsoft.Resources/stable/2025-04-01/examples/CreateResourceGroup.json",
    );
    let r = s
        .put(&rg_path("My-RG"), ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 201);
    let body = r.json();
    assert_shape(&body, &ex["responses"]["201"]["body"], &[]);
    assert_eq!(body["id"], rg_id("My-RG"));
    assert_eq!(body["name"], "My-RG");
    assert_eq!(body["type"], "Microsoft.Resources/resourceGroups");
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    let r = s
        .put(&rg_path("My-RG"), ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 200);
    assert_shape(&r.json(), &ex["responses"]["200"]["body"], &[]);

    // A group's location is fixed.
    let r = s
        .put(&rg_path("My-RG"), json!({"location": "westeurope"}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "InvalidResourceGroupLocation");

    // Case-insensitive ids; the casing of the creation is what comes back.
    let r = s
        .get(&format!(
            "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/my-rg?api-version=2025-04-01"
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], rg_id("My-RG"));

    // Cascade delete: an identity inside goes with the group.
    let r = s
        .put(&uai_path("my-rg", "id1"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.status, 201);
    let r = s.delete(&rg_path("My-RG")).await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    let loc = r.header("location").expect("Location header").to_string();
    let poll = s.get(&s.local(&loc)).await;
    assert_eq!(poll.status, 200);
    let r = s.get(&rg_path("My-RG")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    let r = s.get(&uai_path("my-rg", "id1")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    let all = s.admin("GET", "/_sim/resources", None).await.json();
    assert_eq!(all["resources"].as_array().unwrap().len(), 0);
    // HEAD on a group: 204 when it exists, 404 when not (az group exists).
    assert_eq!(s.call("HEAD", &rg_path("My-RG"), None).await.status, 404);
    s.rg("other").await;
    assert_eq!(s.call("HEAD", &rg_path("other"), None).await.status, 204);
    // Deleting a missing group is a 404.
    assert_eq!(
        s.delete(&rg_path("My-RG")).await.code(),
        "ResourceGroupNotFound"
    );
}

#[tokio::test]
async fn arm_resource_group_delete_location_answers_202_while_running() {
    let s = sim().await;
    s.rg("slow").await;
    s.settings(json!({"operation_ms": 60000})).await;
    let r = s.delete(&rg_path("slow")).await;
    assert_eq!(r.status, 202);
    let loc = s.local(r.header("location").unwrap());
    let poll = s.get(&loc).await;
    assert_eq!(poll.status, 202);
    assert!(poll.header("location").is_some());
    let r = s.get(&rg_path("slow")).await;
    assert_eq!(r.json()["properties"]["provisioningState"], "Deleting");
    let r = s
        .put(&uai_path("slow", "x"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "ResourceGroupBeingDeleted");
}

#[tokio::test]
async fn arm_aks_create_lro_fidelity_and_credentials() {
    let s = sim().await;
    s.rg("rg1").await;
    let ex = example(
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/examples/ManagedClustersCreate_Update.json",
    );
    let mut params = ex["parameters"]["parameters"].clone();
    params["properties"]["oidcIssuerProfile"] = json!({"enabled": true});
    params["properties"]["securityProfile"] = json!({"workloadIdentity": {"enabled": true}});
    params["identity"] = json!({"type": "SystemAssigned"});
    let path = format!("{}?api-version=2025-10-01", aks_id("rg1", "clustername1"));
    let r = s.put(&path, params.clone()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("location").is_none());
    let op_url = r
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation")
        .to_string();
    assert!(
        op_url.contains("/providers/Microsoft.ContainerService/locations/location1/operations/"),
        "{op_url}"
    );
    let created = r.json();
    assert_eq!(created["properties"]["provisioningState"], "Creating");
    // The example's 201 body, less what depends on a user-assigned identity / SP in its input.
    assert_shape(
        &created,
        &ex["responses"]["201"]["body"],
        &["/identity/userAssignedIdentities"],
    );

    let op = s.get(&s.local(&op_url)).await;
    assert_eq!(op.status, 200);
    assert_eq!(op.json()["status"], "Succeeded");

    let get = s.get(&path).await.json();
    let get_ex = example(
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/examples/ManagedClustersGet.json",
    );
    assert_shape(
        &get,
        &get_ex["responses"]["200"]["body"],
        &[
            "/eTag",
            "/properties/diskEncryptionSetID",
            "/properties/upgradeSettings",
            "/properties/agentPoolProfiles/0/eTag",
            "/properties/agentPoolProfiles/0/upgradeSettings",
            "/properties/networkProfile/loadBalancerProfile/outboundIPs",
        ],
    );
    let p = &get["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["agentPoolProfiles"][0]["provisioningState"], "Succeeded");
    assert!(
        p["fqdn"].as_str().unwrap().starts_with("dnsprefix1-")
            && p["fqdn"]
                .as_str()
                .unwrap()
                .ends_with(".hcp.location1.azmk8s.io")
    );
    assert!(
        p["azurePortalFQDN"]
            .as_str()
            .unwrap()
            .contains(".portal.hcp.")
    );
    assert_eq!(p["nodeResourceGroup"], "MC_rg1_clustername1_location1");
    let issuer = p["oidcIssuerProfile"]["issuerURL"].as_str().unwrap();
    assert!(
        issuer.starts_with(&format!("{}/oidc/", s.h.url)) && issuer.ends_with('/'),
        "{issuer}"
    );
    let disco = raw(
        s.h.addr,
        "GET",
        &format!("{}.well-known/openid-configuration", s.local(issuer)),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        disco.status,
        200,
        "{issuer}: {}",
        String::from_utf8_lossy(&disco.body)
    );
    assert_eq!(disco.json()["issuer"], issuer);
    assert_guid(&get["identity"]["principalId"], "identity.principalId");
    assert_eq!(get["identity"]["tenantId"], TENANT);
    assert_eq!(get["type"], "Microsoft.ContainerService/ManagedClusters");
    assert_eq!(get["id"], aks_id("rg1", "clustername1"));

    // Credentials: a kubeconfig pointing at this simulator's Kubernetes API for the cluster.
    let cred_ex = example(
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/examples/ManagedClustersListClusterUserCredentials.json",
    );
    for (action, name) in [
        ("listClusterUserCredential", "clusterUser"),
        ("listClusterAdminCredential", "clusterAdmin"),
    ] {
        let r = s
            .call(
                "POST",
                &format!(
                    "{}/{action}?api-version=2025-10-01",
                    aks_id("rg1", "clustername1")
                ),
                None,
            )
            .await;
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_shape(&body, &cred_ex["responses"]["200"]["body"], &[]);
        assert_eq!(body["kubeconfigs"][0]["name"], name);
        let yaml = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body["kubeconfigs"][0]["value"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        let clusters = s.admin("GET", "/_sim/resources", None).await.json();
        let key = clusters["clusters"][0].as_str().unwrap().to_string();
        let token = &s.h.shared.world().clusters[&key].token.clone();
        assert!(
            yaml.contains(&format!("server: {}/k8s/{key}\n", s.h.url)),
            "{yaml}"
        );
        assert!(yaml.contains(&format!("token: {token}\n")), "{yaml}");
        assert!(yaml.contains("kind: Config"));
    }

    // dnsPrefix is create-only.
    let mut changed = params.clone();
    changed["properties"]["dnsPrefix"] = json!("other");
    let r = s.put(&path, changed).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "PropertyChangeNotAllowed");
    // So is the location.
    let mut moved = params.clone();
    moved["location"] = json!("westeurope");
    let r = s.put(&path, moved).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "InvalidResourceLocation");

    // PATCH tags is synchronous.
    let r = s
        .call("PATCH", &path, Some(json!({"tags": {"a": "b"}})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["tags"]["a"], "b");

    // DELETE: 202 with both headers; removes the cluster's Kubernetes API.
    let r = s.delete(&path).await;
    assert_eq!(r.status, 202);
    assert!(r.header("azure-asyncoperation").is_some());
    let loc = s.local(r.header("location").unwrap());
    assert!(loc.contains("/operationresults/"));
    assert_eq!(s.get(&loc).await.status, 204);
    assert_eq!(s.get(&path).await.status, 404);
    assert!(s.h.shared.world().clusters.is_empty());
}

#[tokio::test]
async fn arm_aks_write_during_operation_is_409_operation_not_allowed() {
    let s = sim().await;
    s.rg("rg1").await;
    s.settings(json!({"operation_ms": 60000})).await;
    let path = format!("{}?api-version=2025-10-01", aks_id("rg1", "c1"));
    let body = json!({"location": "eastus", "identity": {"type": "SystemAssigned"}, "properties": {"dnsPrefix": "c1", "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System"}]}});
    assert_eq!(s.put(&path, body.clone()).await.status, 201);
    let r = s.put(&path, body).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "OperationNotAllowed");
    let op = s.get(&path).await.json();
    assert_eq!(op["properties"]["provisioningState"], "Creating");
}
