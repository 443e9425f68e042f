//! What a client reads about the cloud and its account before it touches a resource, as
//! Microsoft's Azure CLI does: the cloud's endpoints (`GET /metadata/endpoints`, answered
//! without a token, as ARM does), the caller's tenants (`GET /tenants`) and subscriptions
//! (`GET /subscriptions`), and resource provider registrations
//! (`GET /subscriptions/S/providers[/Namespace]`, always `Registered`).
//!
//! The simulator accepts any subscription id; the list names the caller's default one (a
//! UUIDv5 of its tenant, stable across runs) and every other subscription the world holds
//! resources in.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::answer::json_response;
use super::context::Ctx;
use super::id::{Path, parse_id};
use super::store::ArmWorld;

/// The caller's default subscription: stable for a tenant.
pub fn default_subscription(tenant: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("plinth-sim/subscription/{tenant}").as_bytes(),
    )
    .to_string()
}

/// ARM's `/metadata/endpoints` for this simulator at `base` (its own ARM and Entra
/// endpoints; public Azure's audiences and suffixes). api-version 2022-09-01 and later
/// answer one cloud; earlier ones a list of clouds, as ARM does.
pub(super) fn metadata_endpoints(base: &str, api_version: Option<&str>) -> Response {
    let cloud = json!({
        "name": "PlinthSim",
        "portal": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": format!("{base}/"),
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    });
    // api-versions are dates, so they compare as text.
    let single = api_version.is_some_and(|v| v >= "2022-09-01");
    let body = if single { cloud } else { json!([cloud]) };
    json_response(StatusCode::OK, &body)
}

fn subscription_body(ctx: &Ctx, sub: &str) -> Value {
    json!({"id": format!("/subscriptions/{sub}"), "authorizationSource": "RoleBased", "managedByTenants": [],
        "subscriptionId": sub, "tenantId": ctx.tenant, "displayName": "Plinth simulated subscription", "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}})
}

/// `GET /subscriptions/{sub}`.
pub(super) fn subscription(ctx: &Ctx, sub: &str) -> Response {
    json_response(StatusCode::OK, &subscription_body(ctx, sub))
}

/// `GET /subscriptions`: the caller's default subscription, then every other one the world
/// holds resources in.
pub(super) fn subscriptions(ctx: &Ctx, world: &ArmWorld<'_>) -> Response {
    let default = default_subscription(&ctx.tenant);
    let others: BTreeSet<String> = world
        .arm
        .resources
        .values()
        .filter_map(|r| parse_id(&r.id).and_then(|i| i.subscription))
        .filter(|s| !s.eq_ignore_ascii_case(&default))
        .collect();
    let value: Vec<Value> = std::iter::once(default)
        .chain(others)
        .map(|s| subscription_body(ctx, &s))
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

/// `GET /tenants`: the caller's tenant.
pub(super) fn tenants(ctx: &Ctx) -> Response {
    let t = &ctx.tenant;
    json_response(
        StatusCode::OK,
        &json!({"value": [{"id": format!("/tenants/{t}"), "tenantId": t, "countryCode": "US",
            "displayName": "Plinth simulated tenant", "domains": ["plinthsim.onmicrosoft.com"],
            "tenantCategory": "Home", "defaultDomain": "plinthsim.onmicrosoft.com", "tenantType": "AAD"}]}),
    )
}

/// A resource type: its name, api-versions (newest first) and whether it takes a location.
type ResourceType = (&'static str, &'static [&'static str], bool);

/// The resource types of the providers the simulator models.
const PROVIDERS: &[(&str, &[ResourceType])] = &[
    (
        "Microsoft.Resources",
        &[(
            "resourceGroups",
            &["2025-04-01", "2024-03-01", "2022-09-01", "2021-04-01"],
            true,
        )],
    ),
    (
        "Microsoft.ContainerService",
        &[(
            "managedClusters",
            &[
                "2025-10-01",
                "2025-07-01",
                "2025-05-01",
                "2024-09-01",
                "2024-05-01",
            ],
            true,
        )],
    ),
    (
        "Microsoft.ServiceBus",
        &[
            (
                "namespaces",
                &["2024-01-01", "2022-10-01-preview", "2021-11-01"],
                true,
            ),
            (
                "namespaces/queues",
                &["2024-01-01", "2022-10-01-preview", "2021-11-01"],
                false,
            ),
        ],
    ),
    (
        "Microsoft.ManagedIdentity",
        &[
            (
                "userAssignedIdentities",
                &["2024-11-30", "2023-01-31", "2018-11-30"],
                true,
            ),
            (
                "userAssignedIdentities/federatedIdentityCredentials",
                &["2024-11-30", "2023-01-31", "2022-01-31-preview"],
                false,
            ),
        ],
    ),
    (
        "Microsoft.Authorization",
        &[
            (
                "roleAssignments",
                &["2022-04-01", "2020-04-01-preview", "2015-07-01"],
                false,
            ),
            (
                "roleDefinitions",
                &["2022-04-01", "2018-01-01-preview", "2015-07-01"],
                false,
            ),
        ],
    ),
];

const LOCATIONS: &[&str] = &[
    "East US",
    "East US 2",
    "West US",
    "West US 2",
    "West US 3",
    "Central US",
    "North Europe",
    "West Europe",
    "UK South",
    "Southeast Asia",
    "Australia East",
    "Japan East",
];

fn provider_body(sub: &str, namespace: &str) -> Value {
    let known = PROVIDERS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(namespace));
    let name = known.map(|(n, _)| *n).unwrap_or(namespace);
    let types: Vec<Value> = known
        .map(|(_, types)| {
            types
                .iter()
                .map(|(t, versions, located)| {
                    let locations: &[&str] = if *located { LOCATIONS } else { &[] };
                    json!({"resourceType": t, "locations": locations, "apiVersions": versions,
                        "defaultApiVersion": versions[0], "capabilities": "None"})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({"id": format!("/subscriptions/{sub}/providers/{name}"), "namespace": name,
        "registrationState": "Registered", "registrationPolicy": "RegistrationRequired", "resourceTypes": types})
}

/// `GET /subscriptions/{sub}/providers` (list) and `.../providers/{namespace}` (one), and
/// `POST .../providers/{namespace}/register`. Every provider reads `Registered`. `None` if
/// the path is not one of those.
pub(super) fn providers(path: &Path, post: bool) -> Option<Response> {
    let s = &path.segs;
    if !(path.seg_is(0, "subscriptions") && path.seg_is(2, "providers")) {
        return None;
    }
    let sub = &s[1];
    match (s.len(), post) {
        (3, false) => {
            let value: Vec<Value> = PROVIDERS
                .iter()
                .map(|(n, _)| provider_body(sub, n))
                .collect();
            Some(json_response(StatusCode::OK, &json!({"value": value})))
        }
        (4, false) => Some(json_response(StatusCode::OK, &provider_body(sub, &s[3]))),
        (5, true) if path.seg_is(4, "register") => {
            Some(json_response(StatusCode::OK, &provider_body(sub, &s[3])))
        }
        _ => None,
    }
}
