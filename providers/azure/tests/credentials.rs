//! Credentials end to end through `azure_identity` itself against the simulator's Entra token
//! endpoint (authority host pointed at the simulator).

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use plinth_provider_azure::{
    ARM_SCOPE, ArmClient, CredentialConfig, IdentityTokenSource, TokenSource,
};
use serde_json::json;

fn config(vars: &[(&str, &str)]) -> CredentialConfig {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    CredentialConfig::from_lookup(|k| map.get(k).cloned())
}

fn token_requests(log: &[plinth_sim::LogEntry]) -> usize {
    log.iter()
        .filter(|e| e.method == "POST" && e.path == format!("/{TENANT}/oauth2/v2.0/token"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_credential_end_to_end() {
    let sim = sim(0.0, 10).await;
    let cfg = config(&[
        ("ARM_TENANT_ID", TENANT),
        ("ARM_CLIENT_ID", "plinth-app"),
        ("ARM_CLIENT_SECRET", "s3cret"),
        ("ARM_USE_CLI", "false"),
        ("AZURE_AUTHORITY_HOST", &sim.url),
    ]);
    let http = reqwest::Client::new();
    let tokens = IdentityTokenSource::new(&cfg, &http).unwrap();
    assert_eq!(tokens.candidates(), ["client secret"]);
    let client = ArmClient::builder()
        .base_url(&sim.url)
        .http_client(http)
        .token_source(Arc::new(tokens))
        .build()
        .unwrap();
    let sub = client
        .get(&format!("/subscriptions/{SUB}"), RG_API)
        .await
        .unwrap();
    assert_eq!(
        sub["tenantId"], TENANT,
        "ARM accepted the token Entra issued"
    );
    client
        .put(&rg("rg-cred"), RG_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    let log = requests(&sim).await;
    assert_eq!(token_requests(&log), 1, "the token is cached");
    sim.shutdown().await.unwrap();
}

fn assertion(iss: &str, sub: &str, aud: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&json!({"iss": iss, "sub": sub, "aud": aud, "exp": 4102444800u64}))
            .unwrap(),
    );
    format!("{header}.{claims}.c2lnbmF0dXJl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_identity_federated_token_file_end_to_end() {
    let sim = sim(0.0, 11).await;
    let (admin, _) = recording(&sim);
    // A user-assigned identity with one federated credential, so Entra checks the assertion.
    let group = rg("rg-wi");
    admin
        .put(&group, RG_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    let uai = format!("{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app");
    let identity = admin
        .put(&uai, MSI_API, json!({"location": "eastus"}))
        .await
        .unwrap();
    let client_id = identity["properties"]["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let issuer = "https://issuer.example/oidc";
    let subject = "system:serviceaccount:apps:worker";
    admin
        .put(
            &format!("{uai}/federatedIdentityCredentials/worker"),
            MSI_API,
            json!({"properties": {"issuer": issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}}),
        )
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(
        &file,
        assertion(issuer, subject, "api://AzureADTokenExchange"),
    )
    .unwrap();
    let file_s = file.to_string_lossy().to_string();
    let cfg = config(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", &client_id),
        ("AZURE_FEDERATED_TOKEN_FILE", &file_s),
        ("ARM_USE_CLI", "false"),
        ("AZURE_AUTHORITY_HOST", &sim.url),
    ]);
    assert!(cfg.use_oidc);
    let http = reqwest::Client::new();
    let tokens = IdentityTokenSource::new(&cfg, &http).unwrap();
    assert_eq!(
        tokens.candidates(),
        ["workload identity (federated token file)"]
    );
    let client = ArmClient::builder()
        .base_url(&sim.url)
        .http_client(http.clone())
        .token_source(Arc::new(tokens))
        .build()
        .unwrap();
    let got = client.get(&uai, MSI_API).await.unwrap();
    assert_eq!(got["properties"]["clientId"], client_id.as_str());

    // The same identity with an assertion for another subject: Entra refuses, and the error
    // says what was tried and why.
    let other = dir.path().join("other");
    std::fs::write(
        &other,
        assertion(
            issuer,
            "system:serviceaccount:apps:intruder",
            "api://AzureADTokenExchange",
        ),
    )
    .unwrap();
    let mut bad = cfg.clone();
    bad.oidc_token_file = Some(other);
    let tokens = IdentityTokenSource::new(&bad, &http).unwrap();
    let err = tokens.token(ARM_SCOPE).await.unwrap_err().to_string();
    assert!(err.contains("workload identity"), "{err}");
    assert!(err.contains("AADSTS70021"), "{err}");
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_lists_what_was_tried() {
    let http = reqwest::Client::new();
    let cfg = config(&[("ARM_USE_CLI", "false")]);
    let tokens = IdentityTokenSource::new(&cfg, &http).unwrap();
    let err = tokens.token(ARM_SCOPE).await.unwrap_err().to_string();
    for what in [
        "client secret",
        "workload identity",
        "managed identity",
        "Azure CLI",
    ] {
        assert!(err.contains(what), "{what} missing from: {err}");
    }
    assert!(err.contains("ARM_CLIENT_SECRET"), "{err}");
}
