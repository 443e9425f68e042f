//! Tests of the type table, ids, naming rules and the role table.

use super::*;

#[test]
fn parses_types() {
    let t = ArmType::parse("Microsoft.ServiceBus/namespaces/queues@2024-01-01").unwrap();
    assert_eq!(t.namespace, "Microsoft.ServiceBus");
    assert_eq!(t.types, vec!["namespaces", "queues"]);
    assert!(t.is_child() && t.known().is_some());
    assert!(ArmType::parse("Microsoft.Web/sites@2023-01-01-preview").is_some());
    for bad in [
        "Microsoft.Web/sites",
        "Microsoft.Web@2023-01-01",
        "Web/sites@2023-01-01",
        "Microsoft.Web/sites@latest",
        "Microsoft.Web//x@2023-01-01",
        "Microsoft.Web/si tes@2023-01-01",
    ] {
        assert!(ArmType::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn builds_ids() {
    let rg = ArmType::parse("Microsoft.Resources/resourceGroups@2025-04-01").unwrap();
    assert_eq!(
        rg.resource_id(None, "x", Some("s")).unwrap(),
        "/subscriptions/s/resourceGroups/x"
    );
    assert!(rg.resource_id(None, "x", None).is_err());
    let aks = ArmType::parse("Microsoft.ContainerService/managedClusters@2025-10-01").unwrap();
    let id = aks
        .resource_id(Some("/subscriptions/s/resourceGroups/g"), "k", None)
        .unwrap();
    assert_eq!(
        id,
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/k"
    );
    assert_eq!(parent_of(&id, &aks), "/subscriptions/s/resourceGroups/g");
    let q = ArmType::parse("Microsoft.ServiceBus/namespaces/queues@2024-01-01").unwrap();
    let qid = q.resource_id(Some("/n/"), "q", None).unwrap();
    assert_eq!(qid, "/n/queues/q");
    assert_eq!(parent_of(&qid, &q), "/n");
    let ra = ArmType::parse("Microsoft.Authorization/roleAssignments@2022-04-01").unwrap();
    assert_eq!(
        ra.resource_id(Some("/x/y"), "g", None).unwrap(),
        "/x/y/providers/Microsoft.Authorization/roleAssignments/g"
    );
    assert!(ra.resource_id(None, "g", None).is_err());
}

#[test]
fn names_are_checked_by_arm_rules() {
    let t = |s: &str| ArmType::parse(s).unwrap();
    let rg = t("Microsoft.Resources/resourceGroups@2025-04-01");
    for bad in [
        "injrg/../../resourceGroups/victimrg",
        "..",
        ".",
        "a\\b",
        "a?b",
        "a#b",
        "a%2Fb",
        "a\u{0}b",
        "a\nb",
        "",
        "ends-with-period.",
    ] {
        assert!(check_name(&rg, bad).is_err(), "{bad:?}");
    }
    let e = check_name(&rg, "injrg/../../resourceGroups/victimrg").unwrap_err();
    assert!(e.contains("set `parent`"), "{e}");
    assert!(
        check_name(&rg, &"r".repeat(91))
            .unwrap_err()
            .contains("1-90")
    );
    for good in ["g", "my-rg_(1).x", "Grupo-ÅÄÖ"] {
        check_name(&rg, good).unwrap();
    }
    let aks = t("Microsoft.ContainerService/managedClusters@2025-10-01");
    assert!(check_name(&aks, "-k").is_err() && check_name(&aks, "k.8").is_err());
    check_name(&aks, "k").unwrap();
    let sb = t("Microsoft.ServiceBus/namespaces@2024-01-01");
    assert!(check_name(&sb, "sb-1").is_err() && check_name(&sb, "1abcdef").is_err());
    check_name(&sb, "kedademo-sbns").unwrap();
    check_name(&sb, "kedademo-bus").unwrap();
    for bad in ["kedademo-sb", "kedademo-SB", "kedademo-mgmt"] {
        let e = check_name(&sb, bad).unwrap_err();
        assert!(
            e.contains("ARM refuses names ending with `-sb` or `-mgmt`")
                && e.contains(&format!("rename it, e.g. to \"{bad}ns\"")),
            "{e}"
        );
    }
    let long = format!("{}-sb", "a".repeat(47));
    let e = check_name(&sb, &long).unwrap_err();
    assert!(e.contains("rename it so it ends otherwise"), "{e}");
    let mi = t("Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30");
    assert!(check_name(&mi, "ab").is_err());
    check_name(&mi, "sec-mi").unwrap();
    let ra = t("Microsoft.Authorization/roleAssignments@2022-04-01");
    assert!(check_name(&ra, "not-a-guid-but-thirty-six-characters").is_err());
    check_name(&ra, "3f2504e0-4f89-11d3-9a0c-0305e82c3301").unwrap();
    // Types plinth does not curate get the rules every ARM name follows.
    let web = t("Microsoft.Web/sites@2024-04-01");
    check_name(&web, "any name.").unwrap();
    assert!(check_name(&web, "a/b").is_err());

    check_parent("/subscriptions/s/resourceGroups/g").unwrap();
    check_parent("/subscriptions/s/resourceGroups/g/").unwrap();
    for bad in [
        "/subscriptions/s/resourceGroups/g/../h",
        "subscriptions/s",
        "/",
        "/s//x",
        "/s/x?y",
        "/s/x#y",
    ] {
        assert!(check_parent(bad).is_err(), "{bad}");
    }
}

#[test]
fn role_names_by_id_in_every_form() {
    let guid = "090c5cfd-751d-490a-894a-3ce6f1109419";
    for id in [
        format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        format!(
            "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        ),
        format!(
            "/SUBSCRIPTIONS/s/PROVIDERS/microsoft.authorization/ROLEDEFINITIONS/{}/",
            guid.to_uppercase()
        ),
        format!(
            "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        ),
    ] {
        assert_eq!(role_name(&id), Some("Azure Service Bus Data Owner"), "{id}");
    }
    // Every name in the table maps back to itself: one table, both ways.
    for (name, _) in BUILT_IN_ROLES {
        assert_eq!(role_name(&role_definition_id(name).unwrap()), Some(*name));
    }
    for id in [
        // A GUID not in the table: no guess.
        "/providers/Microsoft.Authorization/roleDefinitions/3f2504e0-4f89-11d3-9a0c-0305e82c3301"
            .to_string(),
        // A bare GUID, or another kind of id, is not a role definition id.
        guid.to_string(),
        format!("/providers/Microsoft.Authorization/roleAssignments/{guid}"),
        format!("/subscriptions//providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        "/providers/Microsoft.Authorization/roleDefinitions/not-a-guid".to_string(),
    ] {
        assert_eq!(role_name(&id), None, "{id}");
    }
}

#[test]
fn volatile_attributes_are_decided_per_type() {
    let t = |s: &str| ArmType::parse(s).unwrap();
    let p = |s: &str| static_path(s);
    let aks = t("Microsoft.ContainerService/managedClusters@2025-10-01");
    for v in [
        "properties.provisioningState",
        "properties.powerState.code",
        "properties.agentPoolProfiles[0].provisioningState",
        "properties.agentPoolProfiles[0].nodeImageVersion",
        "properties.currentKubernetesVersion",
        "systemData.lastModifiedAt",
        "etag",
    ] {
        assert!(aks.is_volatile(&p(v)), "{v}");
    }
    for stable in [
        "identity.principalId",
        "properties.kubernetesVersion",
        "properties.oidcIssuerProfile.issuerURL",
        "properties.fqdn",
        // The autoscaler's only when the pool autoscales: see AKS's `volatile`.
        "properties.agentPoolProfiles[0].count",
        "properties",
    ] {
        assert!(!aks.is_volatile(&p(stable)), "{stable}");
    }
    let mi = t("Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30");
    for stable in [
        "properties.clientId",
        "properties.principalId",
        "properties.tenantId",
    ] {
        assert!(!mi.is_volatile(&p(stable)), "{stable}");
    }
    let q = t("Microsoft.ServiceBus/namespaces/queues@2024-01-01");
    assert!(q.is_volatile(&p("properties.countDetails.activeMessageCount")));
    assert!(q.is_volatile(&p("properties.accessedAt")));
    assert!(
        !q.is_volatile(&p("properties.status")),
        "a queue's status is a setting"
    );
    let ns = t("Microsoft.ServiceBus/namespaces@2024-01-01");
    assert!(ns.is_volatile(&p("properties.status")));
    assert!(!ns.is_volatile(&p("properties.minimumTlsVersion")));
    let ra = t("Microsoft.Authorization/roleAssignments@2022-04-01");
    assert!(ra.is_volatile(&p("properties.updatedOn")));
    assert!(!ra.is_volatile(&p("properties.scope")));
    // Types plinth does not curate: ARM's own bookkeeping only.
    let web = t("Microsoft.Web/sites@2024-04-01");
    assert!(web.is_volatile(&p("properties.provisioningState")));
    assert!(!web.is_volatile(&p("properties.state")));
    // Curated casing of `type`, as ARM answers it.
    assert_eq!(ns.arm_type(), Some("Microsoft.ServiceBus/Namespaces"));
    assert_eq!(web.arm_type(), None);
}

/// A plan shows `type` known only when apply cannot change it: the curated casing of
/// the seven types; for any other type ARM's own casing, which the type as written does
/// not tell (`Microsoft.Web/sites` may answer `Microsoft.Web/Sites`), is known after
/// apply.
#[tokio::test]
async fn planned_type_is_known_only_in_curated_casing() {
    use plinth_provider::{NullReporter, Provider, Request};
    use plinth_value::Value;
    let mut s = crate::AzureSettings::from_lookup(|_| None);
    s.subscription_id = Some("sub".into());
    let pr = crate::AzureProvider::new(s);
    let plan = |t: &'static str, parent: &'static str| {
        let cfg = Value::from(serde_json::json!({"name": "plinthdemo", "parent": parent,
            "location": "eastus", "body": {"properties": {}}}));
        let pr = &pr;
        async move {
            let req = Request::new(t, "x", &NullReporter);
            pr.plan(&req, None, &cfg).await.unwrap().attributes
        }
    };
    let group = "/subscriptions/sub/resourceGroups/g";
    let web = plan("Microsoft.Web/sites@2024-04-01", group).await;
    assert_eq!(web.get(&static_path("type")), Some(Value::Unknown));
    assert!(web.get(&static_path("id")).is_some());
    let ns = plan("Microsoft.ServiceBus/namespaces@2024-01-01", group).await;
    assert_eq!(
        ns.get(&static_path("type")),
        Some(Value::from("Microsoft.ServiceBus/Namespaces"))
    );
    // Written in another casing, a curated type still plans ARM's.
    let mi = plan(
        "microsoft.managedidentity/USERASSIGNEDIDENTITIES@2024-11-30",
        group,
    )
    .await;
    assert_eq!(
        mi.get(&static_path("type")),
        Some(Value::from(
            "Microsoft.ManagedIdentity/userAssignedIdentities"
        ))
    );
}

#[test]
fn roles_by_name() {
    assert_eq!(
        role_definition_id("azure service bus data owner").unwrap(),
        "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"
    );
    let e = role_definition_id("Azure Service Bus Data Ownr").unwrap_err();
    assert!(
        e.contains("did you mean \"Azure Service Bus Data Owner\""),
        "{e}"
    );
}
