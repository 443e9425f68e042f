//! Tests of the provider: schemas, plans, planned-known values, paths and annotations.
use super::*;
use plinth_provider::NullReporter;
use serde_json::json;

fn provider() -> AzureProvider {
    let mut s = AzureSettings::from_lookup(|_| None);
    s.subscription_id = Some("sub".into());
    AzureProvider::new(s)
}

fn req(t: &str) -> Request<'_> {
    Request::new(t, "x", &NullReporter)
}

const AKS: &str = "Microsoft.ContainerService/managedClusters@2025-10-01";

#[test]
fn schema_accepts_any_well_formed_type() {
    let pr = provider();
    assert!(pr.schema("Microsoft.Web/sites@2024-04-01").is_some());
    assert!(pr.schema("nonsense").is_none());
    assert_eq!(pr.type_names().len(), 7);
    let s = pr.schema(AKS).unwrap();
    assert!(s.force_new.contains(&p("body.properties.dnsPrefix")));
    assert!(
        s.computed
            .contains(&p("properties.oidcIssuerProfile.issuerURL"))
    );
}

#[tokio::test]
async fn plan_maps_paths_and_replaces_on_dns_prefix() {
    let pr = provider();
    let cfg = Value::from(
        json!({"name": "k", "parent": "/subscriptions/sub/resourceGroups/g", "location": "East US",
        "tags": {"a": "1"}, "body": {"properties": {"dnsPrefix": "new", "x": 1}}}),
    );
    let actual = json!({"id": "/subscriptions/sub/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/k",
        "name": "k", "location": "eastus", "tags": {"a": "1", "b": "2"},
        "properties": {"dnsPrefix": "old", "x": 1.0, "fqdn": "f"}});
    let prior = Prior {
        id: actual["id"].as_str().map(str::to_string),
        inputs: Value::Null,
        attributes: Value::from(actual),
    };
    let planned = pr.plan(&req(AKS), Some(&prior), &cfg).await.unwrap();
    assert_eq!(planned.changed, vec![p("body.properties.dnsPrefix")]);
    assert_eq!(
        planned.requires_replace,
        vec![p("body.properties.dnsPrefix")]
    );
    let fresh = pr.plan(&req(AKS), None, &cfg).await.unwrap();
    assert_eq!(
        fresh.attributes.get(&p("properties.fqdn")),
        Some(Value::Unknown)
    );
    assert_eq!(
        fresh
            .attributes
            .get(&p("id"))
            .and_then(|v| v.as_str().map(str::to_string)),
        prior.id
    );
}

#[tokio::test]
async fn dropped_tags_are_a_change_and_role_assignment_names_are_guids() {
    let pr = provider();
    let t = "Microsoft.Resources/resourceGroups@2025-04-01";
    let prior = Prior {
        id: Some("/subscriptions/sub/resourceGroups/g".into()),
        inputs: Value::from(
            json!({"name": "g", "location": "eastus", "tags": {"a": "1", "b": "2"}}),
        ),
        attributes: Value::from(
            json!({"id": "/subscriptions/sub/resourceGroups/g", "name": "g", "location": "eastus", "tags": {"a": "1", "b": "2"}}),
        ),
    };
    let cfg = Value::from(json!({"name": "g", "location": "eastus", "tags": {"a": "1"}}));
    let planned = pr.plan(&req(t), Some(&prior), &cfg).await.unwrap();
    assert_eq!(planned.changed, vec![p("tags.b")]);
    assert!(planned.requires_replace.is_empty());
    assert_eq!(planned.attributes.get(&p("tags.b")), None);

    let ra = "Microsoft.Authorization/roleAssignments@2022-04-01";
    let cfg = Value::from(
        json!({"parent": "/s", "body": {"properties": {"roleDefinitionId": "/r/1", "principalId": "p"}}}),
    );
    let id = pr.planned_id(ra, &cfg).unwrap();
    assert_eq!(
        id,
        format!(
            "/s/providers/Microsoft.Authorization/roleAssignments/{}",
            plinth_expr::guid(&["/s", "/r/1", "p"])
        )
    );
    let d = shape::desired(&ArmType::parse(ra).unwrap(), &cfg).unwrap();
    assert_eq!(
        d.get(&p("properties.principalType")),
        Some(Value::from("ServicePrincipal"))
    );
    assert_eq!(
        pr.serialization_key("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30", &Value::from(json!({"parent": "/A/B"}))),
        Some("azure-fic:/a/b".into())
    );
}

const RA: &str = "Microsoft.Authorization/roleAssignments@2022-04-01";
const QUEUE_ID: &str =
    "/subscriptions/sub/resourceGroups/g/providers/Microsoft.ServiceBus/namespaces/n/queues/q";

/// What plan time knows is shown as known: the scope of a role assignment (its parent),
/// the type as ARM spells it, an AKS cluster's default node resource group.
#[tokio::test]
async fn values_known_at_plan_time_are_planned_known() {
    let pr = provider();
    let cfg = Value::from(json!({"parent": QUEUE_ID, "body": {"properties": {
        "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"}}}));
    // The principal is not created yet: name and id wait for it, the scope does not.
    let mut cfg = cfg;
    cfg.set(&p("body.properties.principalId"), Value::Unknown);
    let planned = pr.plan(&req(RA), None, &cfg).await.unwrap();
    let at = |s: &str| planned.attributes.get(&p(s));
    assert_eq!(at("properties.scope"), Some(Value::from(QUEUE_ID)));
    assert_eq!(
        at("type"),
        Some(Value::from("Microsoft.Authorization/roleAssignments"))
    );
    assert_eq!(at("id"), Some(Value::Unknown));
    assert_eq!(at("properties.createdOn"), Some(Value::Unknown));

    let sb = "Microsoft.ServiceBus/namespaces/queues@2024-01-01";
    let q = pr
        .plan(
            &req(sb),
            None,
            &Value::from(json!({"parent": "/subscriptions/sub/resourceGroups/g/providers/Microsoft.ServiceBus/namespaces/n", "name": "q"})),
        )
        .await
        .unwrap();
    assert_eq!(
        q.attributes.get(&p("type")),
        Some(Value::from("Microsoft.ServiceBus/Namespaces/Queues"))
    );

    let aks_cfg = |extra: serde_json::Value| {
        let mut c = json!({"name": "k", "parent": "/subscriptions/sub/resourceGroups/kedademo-rg",
            "location": "East US", "body": {"properties": {"dnsPrefix": "k"}}});
        if let (Some(body), Some(more)) =
            (c["body"]["properties"].as_object_mut(), extra.as_object())
        {
            body.extend(more.clone());
        }
        Value::from(c)
    };
    let planned = pr.plan(&req(AKS), None, &aks_cfg(json!({}))).await.unwrap();
    assert_eq!(
        planned.attributes.get(&p("properties.nodeResourceGroup")),
        Some(Value::from("MC_kedademo-rg_k_eastus"))
    );
    assert_eq!(
        planned.attributes.get(&p("type")),
        Some(Value::from("Microsoft.ContainerService/ManagedClusters"))
    );
    // Chosen by the configuration: that value, not the default.
    let planned = pr
        .plan(
            &req(AKS),
            None,
            &aks_cfg(json!({"nodeResourceGroup": "nodes"})),
        )
        .await
        .unwrap();
    assert_eq!(
        planned.attributes.get(&p("properties.nodeResourceGroup")),
        Some(Value::from("nodes"))
    );
    // A public cluster has no private FQDN: not "known after apply", absent.
    assert_eq!(planned.attributes.get(&p("properties.privateFQDN")), None);
    assert_eq!(
        planned.attributes.get(&p("properties.fqdn")),
        Some(Value::Unknown)
    );
    let private = pr
        .plan(
            &req(AKS),
            None,
            &aks_cfg(json!({"apiServerAccessProfile": {"enablePrivateCluster": true}})),
        )
        .await
        .unwrap();
    assert_eq!(
        private.attributes.get(&p("properties.privateFQDN")),
        Some(Value::Unknown)
    );
    // A Service Bus namespace's endpoint, in the public cloud.
    let ns = "Microsoft.ServiceBus/namespaces@2024-01-01";
    let ns_cfg = |name: &str| {
        Value::from(
            json!({"name": name, "parent": "/subscriptions/sub/resourceGroups/g", "location": "eastus"}),
        )
    };
    let planned = pr
        .plan(&req(ns), None, &ns_cfg("orders-sbns"))
        .await
        .unwrap();
    assert_eq!(
        planned.attributes.get(&p("properties.serviceBusEndpoint")),
        Some(Value::from(
            "https://orders-sbns.servicebus.windows.net:443/"
        ))
    );
    assert_eq!(
        planned.attributes.get(&p("properties.metricId")),
        Some(Value::from("sub:orders-sbns"))
    );
    // ARM keeps the name's case in the endpoint and lowers it in the metric id.
    let planned = pr
        .plan(&req(ns), None, &ns_cfg("Orders-sbns"))
        .await
        .unwrap();
    assert_eq!(
        planned.attributes.get(&p("properties.serviceBusEndpoint")),
        Some(Value::from(
            "https://Orders-sbns.servicebus.windows.net:443/"
        ))
    );
    assert_eq!(
        planned.attributes.get(&p("properties.metricId")),
        Some(Value::from("sub:orders-sbns"))
    );
    // Another cloud, which plinth does not know: not guessed.
    let mut stack = AzureSettings::from_lookup(|_| None);
    stack.arm_endpoint = "https://management.local.azurestack.external".into();
    let planned = AzureProvider::new(stack)
        .plan(&req(ns), None, &ns_cfg("orders-sbns"))
        .await
        .unwrap();
    assert_eq!(
        planned.attributes.get(&p("properties.serviceBusEndpoint")),
        Some(Value::Unknown)
    );

    // Longer than AKS's 80 characters: AKS decides, plinth does not guess.
    let mut long = aks_cfg(json!({}));
    long.set(&p("name"), Value::from("k".repeat(63)));
    let planned = pr.plan(&req(AKS), None, &long).await.unwrap();
    assert_eq!(
        planned.attributes.get(&p("properties.nodeResourceGroup")),
        Some(Value::Unknown)
    );
}

#[test]
fn input_paths_invert_attribute_paths() {
    let pr = provider();
    let sb = "Microsoft.ServiceBus/namespaces@2024-01-01";
    for (attr, input) in [
        (
            "properties.minimumTlsVersion",
            Some("body.properties.minimumTlsVersion"),
        ),
        ("sku.name", Some("body.sku.name")),
        ("location", Some("location")),
        ("tags.team", Some("tags.team")),
        ("id", None),
        ("type", None),
        ("systemData.createdAt", None),
        ("properties.provisioningState", None),
        ("properties.serviceBusEndpoint", None),
        ("properties.updatedAt", None),
    ] {
        let got = pr.input_path(sb, &p(attr));
        assert_eq!(got, input.map(p), "{attr}");
        if let Some(i) = got {
            assert_eq!(pr.attribute_path(sb, &i), Some(p(attr)), "{attr}: inverse");
        }
    }
    // A computed path the configuration may also set is an input.
    assert_eq!(
        pr.input_path(AKS, &p("properties.kubernetesVersion")),
        Some(p("body.properties.kubernetesVersion"))
    );
    let mi = "Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30";
    assert_eq!(pr.input_path(mi, &p("properties.clientId")), None);
    // Types plinth does not curate: everything but ARM's bookkeeping is an input.
    let web = "Microsoft.Web/sites@2024-04-01";
    assert_eq!(
        pr.input_path(web, &p("properties.httpsOnly")),
        Some(p("body.properties.httpsOnly"))
    );
    assert!(pr.is_volatile(web, &p("etag")));
    assert!(pr.is_volatile(AKS, &p("properties.powerState")));
    assert!(!pr.is_volatile(mi, &p("properties.principalId")));
    assert!(!pr.is_volatile("not a type", &p("etag")));
}

#[test]
fn role_definition_ids_are_annotated_with_the_role_name() {
    let pr = provider();
    let owner = "090c5cfd-751d-490a-894a-3ce6f1109419";
    let attrs = |id: &str| Value::from(json!({"properties": {"roleDefinitionId": id}}));
    for id in [
        format!("/providers/Microsoft.Authorization/roleDefinitions/{owner}"),
        format!(
            "/subscriptions/sub/providers/microsoft.authorization/roledefinitions/{}",
            owner.to_uppercase()
        ),
    ] {
        assert_eq!(
            pr.annotations(RA, &attrs(&id)),
            vec![(
                p("properties.roleDefinitionId"),
                "Azure Service Bus Data Owner".to_string()
            )],
            "{id}"
        );
    }
    // Not a known role, not known yet, not a role assignment: nothing.
    let custom =
        "/providers/Microsoft.Authorization/roleDefinitions/3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    assert!(pr.annotations(RA, &attrs(custom)).is_empty());
    let mut unknown = attrs("x");
    unknown.set(&p("properties.roleDefinitionId"), Value::Unknown);
    assert!(pr.annotations(RA, &unknown).is_empty());
    let id = format!("/providers/Microsoft.Authorization/roleDefinitions/{owner}");
    assert!(
        pr.annotations("Microsoft.Web/sites@2024-04-01", &attrs(&id))
            .is_empty()
    );
}
