//! ARM as Microsoft's Azure CLI meets it: the cloud's metadata endpoints (without a token),
//! the caller's subscriptions and tenants, provider registrations, ids in ARM's casing,
//! `systemData`, role definition ids, and the request bodies ARM refuses for the flagship's
//! seven types.

use super::*;

/// The caller of [`sim`]'s token (`client_id=app`).
const CALLER: &str = "app";

#[tokio::test]
async fn metadata_endpoints_answer_without_a_token() {
    let s = sim().await;
    let r = raw(
        s.h.addr,
        "GET",
        "/metadata/endpoints?api-version=2022-09-01",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["authentication"]["loginEndpoint"], s.h.url);
    assert_eq!(v["resourceManager"], format!("{}/", s.h.url));
    assert_eq!(
        v["authentication"]["audiences"][0],
        "https://management.core.windows.net/"
    );
    assert_eq!(v["suffixes"]["keyVaultDns"], "vault.azure.net");
    // Earlier api-versions answer a list of clouds.
    let r = raw(
        s.h.addr,
        "GET",
        "/metadata/endpoints?api-version=2019-05-01",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.json()[0]["resourceManager"], format!("{}/", s.h.url));
}

#[tokio::test]
async fn subscriptions_tenants_and_providers() {
    let s = sim().await;
    let default = plinth_sim::arm::default_subscription(TENANT);
    let v = s.get("/subscriptions?api-version=2022-12-01").await.json();
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["value"][0]["subscriptionId"], default);
    assert_eq!(v["value"][0]["tenantId"], TENANT);
    assert_eq!(v["value"][0]["state"], "Enabled");
    // A subscription the world holds resources in is listed too.
    s.rg("rg").await;
    let v = s.get("/subscriptions?api-version=2022-12-01").await.json();
    let subs: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["subscriptionId"].as_str().unwrap())
        .collect();
    assert_eq!(subs, [default.as_str(), SUB]);

    let v = s.get("/tenants?api-version=2022-12-01").await.json();
    assert_eq!(v["value"][0]["tenantId"], TENANT);

    let r = s
        .get(&format!(
            "/subscriptions/{SUB}/providers/microsoft.containerservice?api-version=2022-09-01"
        ))
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["namespace"], "Microsoft.ContainerService");
    assert_eq!(v["registrationState"], "Registered");
    assert_eq!(v["resourceTypes"][0]["resourceType"], "managedClusters");
    let v = s
        .get(&format!(
            "/subscriptions/{SUB}/providers?api-version=2022-09-01"
        ))
        .await
        .json();
    assert!(
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["namespace"] == "Microsoft.ServiceBus")
    );
}

#[tokio::test]
async fn ids_come_back_in_arms_casing() {
    let s = sim().await;
    let r = s
        .put(
            &format!("/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/MyRg?api-version=2025-04-01"),
            json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.json()["id"],
        format!("/subscriptions/{SUB}/resourceGroups/MyRg")
    );
    let r = s
        .put(
            &format!("/subscriptions/{SUB}/resourcegroups/MyRg/PROVIDERS/microsoft.managedidentity/USERASSIGNEDIDENTITIES/Mi?api-version=2024-11-30"),
            json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(
        v["id"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/MyRg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Mi"
        )
    );
    assert_eq!(
        v["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
}

#[tokio::test]
async fn system_data_names_the_caller_and_keeps_the_creation() {
    let s = sim().await;
    let created = s
        .put(&rg_path("rg"), json!({"location": "eastus"}))
        .await
        .json();
    let sd = &created["systemData"];
    assert_eq!(sd["createdBy"], CALLER);
    assert_eq!(sd["createdByType"], "Application");
    assert_eq!(sd["lastModifiedBy"], CALLER);
    assert_eq!(sd["lastModifiedByType"], "Application");
    assert!(sd["createdAt"].as_str().unwrap().ends_with('Z'), "{sd}");
    let updated = s
        .put(
            &rg_path("rg"),
            json!({"location": "eastus", "tags": {"a": "b"}}),
        )
        .await
        .json();
    assert_eq!(updated["systemData"]["createdAt"], sd["createdAt"]);
    assert_eq!(
        s.get(&rg_path("rg")).await.json()["systemData"],
        updated["systemData"]
    );
}

#[tokio::test]
async fn role_assignments_answer_a_subscription_scoped_role_definition_id() {
    let s = sim().await;
    s.rg("rg").await;
    let principal = s
        .put(&uai_path("rg", "app"), json!({"location": "eastus"}))
        .await
        .json()["properties"]["principalId"]
        .clone();
    // Named at tenant level, as some clients do.
    let role =
        "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419";
    let r = s
        .put(
            &ra_path(&rg_id("rg"), "5b2c1d3e-4f50-4617-8e8f-9a0b1c2d3e4f"),
            json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(
        v["properties"]["roleDefinitionId"],
        format!("/subscriptions/{SUB}{role}")
    );
    // Who made it, as the recordings show: the caller's object id, no systemData.
    assert_guid(&v["properties"]["createdBy"], "createdBy");
    assert_eq!(v["properties"]["updatedBy"], v["properties"]["createdBy"]);
    assert!(v.get("systemData").is_none(), "{v}");
    // Definitions read at a resource group have their ids under the subscription.
    let v = s
        .get(&format!("{}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName%20eq%20%27Reader%27", rg_id("rg")))
        .await
        .json();
    assert_eq!(
        v["value"][0]["id"],
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
        )
    );
}

#[tokio::test]
async fn bodies_are_validated_as_arm_validates_them() {
    let s = sim().await;
    s.rg("rg").await;
    s.put(&uai_path("rg", "mi"), json!({"location": "eastus"}))
        .await;
    let ns = ns_id("rg", "sb");
    let ns_path = format!("{ns}?api-version=2024-01-01");
    let r = s.put(&ns_path, json!({"location": "eastus"})).await;
    assert!(r.status < 300, "{}", String::from_utf8_lossy(&r.body));
    let fic = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi/federatedIdentityCredentials/f?api-version=2024-11-30",
        rg_id("rg")
    );
    let paths = [
        rg_path("rg2"),
        format!("{}?api-version=2025-10-01", aks_id("rg", "aks")),
        format!(
            "{}/providers/Microsoft.ServiceBus/namespaces/sb2?api-version=2024-01-01",
            rg_id("rg")
        ),
        format!("{ns}/queues/q?api-version=2024-01-01"),
        uai_path("rg", "mi2"),
        fic.clone(),
        ra_path(&rg_id("rg"), "6c3d2e4f-5a61-4728-9f90-ab1c2d3e4f50"),
    ];
    for path in &paths {
        // A member ARM's resource definition does not have.
        let r = s
            .put(path, json!({"location": "eastus", "propertys": {}}))
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "InvalidRequestContent"),
            "{path}"
        );
        assert!(
            r.json()["error"]["message"].as_str().unwrap().contains(
                "Could not find member 'propertys' on object of type 'ResourceDefinition'"
            ),
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        // Members of the wrong JSON type.
        for bad in [
            json!({"location": "eastus", "properties": "x"}),
            json!({"location": "eastus", "tags": {"a": 1}}),
            json!({"location": 5}),
        ] {
            let r = s.put(path, bad.clone()).await;
            assert_eq!(
                (r.status, r.code().as_str()),
                (400, "InvalidRequestContent"),
                "{path} {bad}"
            );
            assert!(
                r.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("Error converting value"),
                "{path} {bad}"
            );
        }
    }
    // Tracked types need a location to be created (an update may leave it out).
    for path in &paths[..5] {
        if path.contains("/queues/") {
            continue;
        }
        let r = s.put(path, json!({"properties": {}})).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "LocationRequired"),
            "{path}"
        );
    }
    // Properties ARM reads itself.
    let r = s
        .put(&fic, json!({"properties": {"issuer": "https://i/", "subject": "s", "audiences": "api://AzureADTokenExchange"}}))
        .await;
    assert_eq!(
        r.code(),
        "InvalidRequestContent",
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = s
        .put(
            &paths[6],
            json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": "6d33bfc8-e476-11e8-915d-f2801f1b9fd1", "principalType": "Robot"}}),
        )
        .await;
    assert_eq!(r.code(), "InvalidRequestContent");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'Robot'")
            || r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("\"Robot\"")
    );
}

#[tokio::test]
async fn msal_discovery_documents() {
    let s = sim().await;
    let r = raw(
        s.h.addr,
        "GET",
        "/common/discovery/instance?api-version=1.1&authorization_endpoint=x",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        v["tenant_discovery_endpoint"],
        format!("{}/common/v2.0/.well-known/openid-configuration", s.h.url)
    );
    let host = s.h.url.split("://").nth(1).unwrap();
    assert_eq!(v["metadata"][0]["aliases"][0], host);
    let r = raw(
        s.h.addr,
        "GET",
        &format!("/{TENANT}/v2.0/.well-known/openid-configuration"),
        &[],
        b"",
    )
    .await
    .unwrap();
    let v = r.json();
    assert_eq!(
        v["token_endpoint"],
        format!("{}/{TENANT}/oauth2/v2.0/token", s.h.url)
    );
    let keys = v["jwks_uri"].as_str().unwrap().to_string();
    let r = raw(s.h.addr, "GET", &s.local(&keys), &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["keys"], json!([]));
}
