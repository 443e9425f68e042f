//! Role definitions and role assignments.

use super::*;

#[tokio::test]
async fn arm_role_definitions_by_name() {
    let s = sim().await;
    for (name, guid) in [
        (
            "Azure Service Bus Data Owner",
            "090c5cfd-751d-490a-894a-3ce6f1109419",
        ),
        (
            "Azure Service Bus Data Sender",
            "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
        ),
        (
            "Azure Service Bus Data Receiver",
            "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
        ),
        ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ] {
        let filter = format!("roleName%20eq%20%27{}%27", name.replace(' ', "%20"));
        let r = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter={filter}")).await;
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v["value"].as_array().unwrap().len(), 1, "{name}");
        assert_eq!(v["value"][0]["name"], guid);
        assert_eq!(
            v["value"][0]["id"],
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            )
        );
        assert_eq!(v["value"][0]["properties"]["roleName"], name);
        assert_eq!(v["value"][0]["properties"]["type"], "BuiltInRole");
    }
}

#[tokio::test]
async fn arm_role_assignment_fidelity_and_errors() {
    let s = sim().await;
    let ex = example(
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_CreateForResource.json",
    );
    let sub = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
    let scope = format!("/{}", ex["parameters"]["scope"].as_str().unwrap());
    // The example's scope: a resource of a type the simulator stores generically.
    assert_eq!(
        s.put(
            &format!("/subscriptions/{sub}/resourceGroups/testrg?api-version=2025-04-01"),
            json!({"location": "eastus"})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        s.put(
            &format!("{scope}?api-version=2024-05-15"),
            json!({"location": "eastus", "properties": {}})
        )
        .await
        .status,
        201
    );
    let mut params = ex["parameters"]["parameters"].clone();
    // The example's role (0b5fe924…) is not a built-in; use Service Bus Data Owner.
    params["properties"]["roleDefinitionId"] = json!(format!(
        "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"
    ));
    let name = ex["parameters"]["roleAssignmentName"].as_str().unwrap();
    let r = s.put(&ra_path(&scope, name), params.clone()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_shape(&body, &ex["responses"]["201"]["body"], &[]);
    assert_eq!(
        body["id"],
        format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
    );
    assert_eq!(
        body["properties"]["roleDefinitionId"], params["properties"]["roleDefinitionId"],
        "roleDefinitionId as given"
    );
    assert_eq!(body["properties"]["scope"], scope);
    assert!(
        body["properties"]["createdOn"].is_string() && body["properties"]["updatedOn"].is_string()
    );
    let gex = example(
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_Get.json",
    );
    assert_shape(
        &s.get(&ra_path(&scope, name)).await.json(),
        &gex["responses"]["200"]["body"],
        &[],
    );

    // Same scope, role and principal under another name.
    let r = s
        .put(
            &ra_path(&scope, "6f2d2c3a-5b5e-4a7e-9d0b-2f1f4e4f7a11"),
            params.clone(),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "RoleAssignmentExists");

    // Not a GUID.
    assert_eq!(
        s.put(&ra_path(&scope, "not-a-guid"), params.clone())
            .await
            .code(),
        "InvalidRoleAssignmentId"
    );

    // DELETE answers 200 with the deleted assignment, then 204.
    let dex = example(
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_Delete.json",
    );
    let r = s.delete(&ra_path(&scope, name)).await;
    assert_eq!(r.status, 200);
    assert_shape(&r.json(), &dex["responses"]["200"]["body"], &[]);
    assert_eq!(s.delete(&ra_path(&scope, name)).await.status, 204);
}

#[tokio::test]
async fn arm_role_assignment_for_a_new_principal_needs_principal_type() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"principal_window_ms": 60000})).await;
    let uai = s
        .put(&uai_path("rg", "app"), json!({"location": "eastus"}))
        .await
        .json();
    let principal = uai["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let role = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
    );
    let scope = rg_id("rg");
    let r = s
        .put(
            &ra_path(&scope, "0e1c2d3b-4a59-4f68-8e7d-6c5b4a392817"),
            json!({"properties": {"roleDefinitionId": role, "principalId": principal}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "PrincipalNotFound");
    let r = s
        .put(&ra_path(&scope, "0e1c2d3b-4a59-4f68-8e7d-6c5b4a392817"), json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["properties"]["principalType"], "ServicePrincipal");
    // Unknown role definitions are refused.
    let r = s
        .put(&ra_path(&scope, "1e1c2d3b-4a59-4f68-8e7d-6c5b4a392817"), json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-00000000abcd", "principalId": principal, "principalType": "ServicePrincipal"}}))
        .await;
    assert_eq!(r.code(), "RoleDefinitionDoesNotExist");
}
