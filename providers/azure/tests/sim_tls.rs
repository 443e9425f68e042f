//! The Azure provider against the simulator over HTTPS: with the simulator's CA
//! ([`AzureSettings::with_ca_pem`]) its token requests and ARM calls go through; without it
//! (the system's roots), or with another CA, nothing is trusted.

use plinth_provider_azure::{AzureProvider, AzureSettings};

async fn tls_sim() -> plinth_sim::SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    plinth_sim::start_tls(listener, plinth_sim::SimConfig::default())
        .await
        .unwrap()
}

const NO_CLUSTER: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/none";

/// A token from the simulated Entra endpoint, then an ARM call: `Ok(None)` (no such cluster)
/// once both went through.
async fn reach(
    sim: &plinth_sim::SimHandle,
    ca_pem: Option<&str>,
) -> Result<Option<String>, String> {
    // The default retries: a refused certificate must fail at once all the same.
    let mut settings = AzureSettings::for_sim_with(&sim.url, |_| None);
    if let Some(pem) = ca_pem {
        settings = settings.with_ca_pem(pem);
    }
    AzureProvider::new(settings)
        .cluster_kubeconfig(NO_CLUSTER, false)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_provider_trusts_exactly_the_ca_it_is_given() {
    let sim = tls_sim().await;
    let pem = sim.ca.as_ref().unwrap().pem().to_string();
    assert_eq!(reach(&sim, Some(&pem)).await, Ok(None));
    let log = sim.shared.log.lock().unwrap().clone();
    assert!(
        log.iter()
            .any(|e| e.path.ends_with("/oauth2/v2.0/token") && e.status == 200),
        "a token over HTTPS: {log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.path.ends_with("/listClusterUserCredential")),
        "ARM over HTTPS: {log:?}"
    );

    // The system's roots do not include the simulator's CA; nor does another simulator's.
    let before = sim.shared.log.lock().unwrap().len();
    let err = reach(&sim, None).await.expect_err("an unknown CA");
    assert!(err.contains("is not trusted (UnknownIssuer)"), "{err}");
    assert!(err.contains("--sim-ca PATH"), "{err}");
    let other = tls_sim().await;
    let other_pem = other.ca.as_ref().unwrap().pem().to_string();
    let err = reach(&sim, Some(&other_pem)).await.expect_err("another CA");
    assert!(err.contains("is not trusted"), "{err}");
    assert_eq!(
        sim.shared.log.lock().unwrap().len(),
        before,
        "nothing was served"
    );

    // What is not a PEM certificate is an error saying what to pass.
    let err = reach(&sim, Some("not a certificate"))
        .await
        .expect_err("no PEM");
    assert!(err.contains("not a PEM certificate"), "{err}");
    other.shutdown().await.unwrap();
    sim.shutdown().await.unwrap();
}
