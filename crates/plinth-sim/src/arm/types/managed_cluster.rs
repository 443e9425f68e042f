//! `Microsoft.ContainerService/managedClusters` (AKS): a create or update is a long-running
//! operation during which other writes are refused; the body gains ARM's computed fields
//! (FQDNs, node resource group, kubelet identity, network and load balancer defaults, the OIDC
//! issuer URL); the cluster's Kubernetes API is created (and its KEDA add-on switched) through
//! [`Clusters`](super::super::store::Clusters); `listClusterUserCredential` and friends
//! answer a kubeconfig for that API.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};

use super::super::answer::{error, json_response};
use super::super::context::Ctx;
use super::super::id::{IdInfo, key};
use super::super::operations::new_operation;
use super::super::store::{ArmWorld, Resource};
use super::super::write::{
    Outcome, base_body, location_required, new_resource, norm_location, props,
};

pub(super) const TYPE: &str = "Microsoft.ContainerService/managedClusters";
/// How GET spells the type.
const DISPLAY: &str = "Microsoft.ContainerService/ManagedClusters";

/// Writes are refused while a create or update runs (ARM's `OperationNotAllowed`).
pub(super) fn not_busy(ctx: &Ctx, r: &Resource) -> Result<(), Response> {
    if r.busy_until_ms > ctx.now {
        let state = r
            .body
            .pointer("/properties/provisioningState")
            .and_then(Value::as_str)
            .unwrap_or("Updating");
        let what = if state == "Creating" {
            "create"
        } else {
            "update"
        };
        return Err(error(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            format!(
                "Operation is not allowed because there's an in progress {what} managed cluster operation. Please wait for it to finish before starting a new operation."
            ),
        ));
    }
    Ok(())
}

/// PUT: a create or update that runs as a long-running operation.
pub(super) fn put(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    if let Some(ex) = existing {
        not_busy(ctx, ex)?;
    }
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    let old_prefix = existing
        .and_then(|r| r.body.pointer("/properties/dnsPrefix"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let new_prefix = in_props
        .get("dnsPrefix")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let (Some(old), Some(new)) = (&old_prefix, &new_prefix)
        && !old.eq_ignore_ascii_case(new)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "PropertyChangeNotAllowed",
            "Changing property 'dnsPrefix' is not allowed.",
        ));
    }
    let Some(location) = input
        .get("location")
        .and_then(Value::as_str)
        .map(norm_location)
    else {
        return Err(location_required());
    };
    let cluster_key = match existing.and_then(|r| r.cluster_key.clone()) {
        Some(k) => k,
        None => ctx.guid(world.arm, "cluster"),
    };
    let sub = info.subscription.clone().unwrap_or_default();
    let rg = info.resource_group.clone().unwrap_or_default();
    let dns = new_prefix
        .or(old_prefix)
        .unwrap_or_else(|| format!("{}-{}-{}", info.name, rg, &sub[..sub.len().min(6)]));
    let creating = existing.is_none();
    let state = if creating { "Creating" } else { "Updating" };
    let mut b = base_body(info, DISPLAY, existing, input);
    let hash = &cluster_key[..8];
    let version = in_props
        .get("kubernetesVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or("1.33.5")
        .to_string();
    let node_rg = in_props
        .get("nodeResourceGroup")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            existing
                .and_then(|r| r.body.pointer("/properties/nodeResourceGroup"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("MC_{rg}_{}_{location}", info.name));
    // Identity.
    let tenant = ctx.tenant.clone();
    let old_identity = existing.and_then(|r| r.body.get("identity")).cloned();
    if let Some(identity) = b.get_mut("identity").and_then(Value::as_object_mut) {
        let t = identity
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if t.contains("SystemAssigned") {
            let pid = old_identity
                .as_ref()
                .and_then(|i| i.get("principalId"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let pid = match pid {
                Some(p) => p,
                None => ctx.guid(world.arm, "aks-principal"),
            };
            identity.insert("principalId".into(), json!(pid));
            identity.insert("tenantId".into(), json!(tenant));
        }
        if let Some(uais) = identity
            .get_mut("userAssignedIdentities")
            .and_then(Value::as_object_mut)
        {
            for (id, v) in uais.iter_mut() {
                let found = world
                    .arm
                    .resources
                    .get(&key(id))
                    .map(|r| r.body["properties"].clone());
                let (client, principal) = match found {
                    Some(p) => (p["clientId"].clone(), p["principalId"].clone()),
                    None => (
                        json!(
                            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, id.as_bytes())
                                .to_string()
                        ),
                        json!(
                            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, id.as_bytes())
                                .to_string()
                        ),
                    ),
                };
                *v = json!({"clientId": client, "principalId": principal});
            }
        }
    }
    if b.get("sku").is_none() {
        b["sku"] = json!({"name": "Base", "tier": "Free"});
    }
    let kubelet = match existing
        .and_then(|r| {
            r.body
                .pointer("/properties/identityProfile/kubeletidentity")
        })
        .cloned()
    {
        Some(k) => k,
        None => json!({
            "resourceId": format!("/subscriptions/{sub}/resourcegroups/{node_rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}-agentpool", info.name),
            "clientId": ctx.guid(world.arm, "kubelet-client"),
            "objectId": ctx.guid(world.arm, "kubelet-object"),
        }),
    };
    let base = ctx.shared.base_url.clone();
    let p = props(&mut b);
    p.insert("provisioningState".into(), json!(state));
    p.insert("powerState".into(), json!({"code": "Running"}));
    p.insert("kubernetesVersion".into(), json!(version));
    p.insert("currentKubernetesVersion".into(), json!(version));
    p.insert("dnsPrefix".into(), json!(dns));
    p.insert(
        "fqdn".into(),
        json!(format!("{dns}-{hash}.hcp.{location}.azmk8s.io")),
    );
    p.insert(
        "azurePortalFQDN".into(),
        json!(format!("{dns}-{hash}.portal.hcp.{location}.azmk8s.io")),
    );
    p.insert("nodeResourceGroup".into(), json!(node_rg));
    p.insert("maxAgentPools".into(), json!(100));
    p.entry("enableRBAC").or_insert(json!(true));
    p.entry("supportPlan")
        .or_insert(json!("KubernetesOfficial"));
    let pools = p.entry("agentPoolProfiles").or_insert(
        json!([{"name": "nodepool1", "count": 3, "vmSize": "Standard_DS2_v2", "mode": "System"}]),
    );
    if let Some(pools) = pools.as_array_mut() {
        for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
            pool.insert("provisioningState".into(), json!(state));
            pool.entry("count").or_insert(json!(3));
            pool.entry("vmSize").or_insert(json!("Standard_DS2_v2"));
            pool.entry("osType").or_insert(json!("Linux"));
            pool.entry("maxPods").or_insert(json!(110));
            pool.entry("type")
                .or_insert(json!("VirtualMachineScaleSets"));
            pool.entry("mode").or_insert(json!("System"));
            let ov = pool
                .get("orchestratorVersion")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .unwrap_or(&version)
                .to_string();
            pool.insert("orchestratorVersion".into(), json!(ov));
            pool.insert("currentOrchestratorVersion".into(), json!(ov));
            pool.insert(
                "nodeImageVersion".into(),
                json!("AKSUbuntu-2204gen2containerd-202510.03.0"),
            );
            pool.insert("powerState".into(), json!({"code": "Running"}));
        }
    }
    let net = p.entry("networkProfile").or_insert(json!({}));
    if let Some(net) = net.as_object_mut() {
        for (k, v) in [
            ("networkPlugin", json!("kubenet")),
            ("loadBalancerSku", json!("standard")),
            ("outboundType", json!("loadBalancer")),
            ("podCidr", json!("10.244.0.0/16")),
            ("serviceCidr", json!("10.0.0.0/16")),
            ("dnsServiceIP", json!("10.0.0.10")),
            ("ipFamilies", json!(["IPv4"])),
        ] {
            net.entry(k).or_insert(v);
        }
        let pod = net.get("podCidr").cloned().unwrap_or(Value::Null);
        let svc = net.get("serviceCidr").cloned().unwrap_or(Value::Null);
        net.entry("podCidrs").or_insert(json!([pod]));
        net.entry("serviceCidrs").or_insert(json!([svc]));
        if net
            .get("loadBalancerSku")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("standard"))
        {
            let lb = net.entry("loadBalancerProfile").or_insert(json!({}));
            if let Some(lb) = lb.as_object_mut() {
                lb.entry("managedOutboundIPs")
                    .or_insert(json!({"count": 1}));
                lb.entry("allocatedOutboundPorts").or_insert(json!(0));
                lb.entry("idleTimeoutInMinutes").or_insert(json!(30));
                lb.entry("backendPoolType")
                    .or_insert(json!("nodeIPConfiguration"));
                let count = lb
                    .get("managedOutboundIPs")
                    .and_then(|m| m.get("count"))
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                let ips: Vec<Value> = (0..count)
                    .map(|i| json!({"id": format!("/subscriptions/{sub}/resourceGroups/{node_rg}/providers/Microsoft.Network/publicIPAddresses/{}-outbound-{i}", &cluster_key[..8])}))
                    .collect();
                lb.insert("effectiveOutboundIPs".into(), json!(ips));
            }
        }
    }
    let oidc = in_props
        .pointer("/oidcIssuerProfile/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    p.insert(
        "oidcIssuerProfile".into(),
        if oidc {
            json!({"enabled": true, "issuerURL": format!("{base}/oidc/{cluster_key}/")})
        } else {
            json!({"enabled": false})
        },
    );
    p.insert(
        "identityProfile".into(),
        json!({"kubeletidentity": kubelet}),
    );
    let keda = in_props
        .pointer("/workloadAutoScalerProfile/keda/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let ms = ctx.op_ms(&world.arm.settings, if creating { 300 } else { 120 });
    let op = new_operation(
        ctx,
        world.arm,
        &info.id,
        if creating { "create" } else { "update" },
        ms,
        200,
    );
    let mut resource = new_resource(ctx, info, existing, b);
    resource.busy_until_ms = ctx.now + ms;
    resource.cluster_key = Some(cluster_key.clone());
    world.clusters.put(&cluster_key, &info.name, keda);
    let async_url = format!(
        "{base}/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{location}/operations/{op}?api-version=2017-08-31"
    );
    Ok(Outcome {
        status: if creating {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        resource,
        headers: vec![("azure-asyncoperation", async_url)],
        body: None,
        answer_at: None,
    })
}

/// A finished create or update: the agent pools are provisioned too.
pub(super) fn finish(props: &mut Map<String, Value>) {
    if let Some(pools) = props
        .get_mut("agentPoolProfiles")
        .and_then(Value::as_array_mut)
    {
        for p in pools {
            if let Some(p) = p.as_object_mut() {
                p.insert("provisioningState".into(), json!("Succeeded"));
            }
        }
    }
}

/// The answer to a DELETE (a 180 s operation on Azure): both of AKS's polling URLs.
pub(super) fn delete_headers(
    ctx: &Ctx,
    info: &IdInfo,
    existing: &Resource,
    op: &str,
) -> Vec<(&'static str, String)> {
    let base = &ctx.shared.base_url;
    let sub = info.subscription.clone().unwrap_or_default();
    let location = existing
        .body
        .get("location")
        .and_then(Value::as_str)
        .map(norm_location)
        .unwrap_or_else(|| "eastus".into());
    let async_url = format!(
        "{base}/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{location}/operations/{op}?api-version=2017-08-31"
    );
    let loc = format!(
        "{base}/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{location}/operationresults/{op}?api-version=2017-08-31"
    );
    vec![("azure-asyncoperation", async_url), ("location", loc)]
}

/// POST `listClusterUserCredential`, `listClusterAdminCredential`,
/// `listClusterMonitoringUserCredential`: a kubeconfig for the cluster's API.
pub(super) fn action(
    ctx: &Ctx,
    world: &ArmWorld<'_>,
    info: &IdInfo,
    r: &Resource,
    name: &str,
) -> Response {
    let (cred_name, user) = match name.to_ascii_lowercase().as_str() {
        "listclusterusercredential" => ("clusterUser", "clusterUser"),
        "listclusteradmincredential" => ("clusterAdmin", "clusterAdmin"),
        "listclustermonitoringusercredential" => ("clusterMonitoringUser", "clusterMonitoringUser"),
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("The action '{name}' is not supported."),
            );
        }
    };
    let ck = r.cluster_key.clone().unwrap_or_default();
    let token = world.clusters.token(&ck).unwrap_or_default();
    let cluster = info.name.clone();
    let rg = info.resource_group.clone().unwrap_or_default();
    let server = format!("{}/k8s/{ck}", ctx.shared.base_url);
    let user_name = format!("{user}_{rg}_{cluster}");
    // Over HTTPS the cluster's API is trusted through the simulator's CA, as AKS's kubeconfig
    // carries the cluster's.
    let ca = ctx
        .shared
        .ca_pem
        .as_ref()
        .map(|pem| {
            format!(
                "    certificate-authority-data: {}\n",
                base64::engine::general_purpose::STANDARD.encode(pem)
            )
        })
        .unwrap_or_default();
    let kubeconfig = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n{ca}    server: {server}\n  name: {cluster}\ncontexts:\n- context:\n    cluster: {cluster}\n    user: {user_name}\n  name: {cluster}\ncurrent-context: {cluster}\nkind: Config\npreferences: {{}}\nusers:\n- name: {user_name}\n  user:\n    token: {token}\n"
    );
    let value = base64::engine::general_purpose::STANDARD.encode(kubeconfig);
    json_response(
        StatusCode::OK,
        &json!({"kubeconfigs": [{"name": cred_name, "value": value}]}),
    )
}
