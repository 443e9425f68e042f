//! The simulator over HTTPS (`plinth_sim::start_tls`): a client that trusts the simulator's CA
//! completes the handshake and is served; a client that does not is refused; the CA is kept
//! with the world (its key private) so a restarted simulator is trusted by the same bundle.

use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

async fn start(world: Option<std::path::PathBuf>) -> plinth_sim::SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    plinth_sim::start_tls(
        listener,
        plinth_sim::SimConfig {
            world_file: world,
            ..Default::default()
        },
    )
    .await
    .expect("the simulator starts over TLS")
}

/// A client that trusts exactly the certificates in `ca_pem` (none: an empty store).
fn connector(ca_pem: Option<&str>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.expect("PEM certificate")).unwrap();
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// `GET /_sim/health` over TLS to `host` (a name or an IP the certificate must cover): the
/// first line of the answer, or the handshake's error.
async fn health(
    sim: &plinth_sim::SimHandle,
    host: &str,
    ca_pem: Option<&str>,
) -> Result<String, String> {
    let tcp = tokio::net::TcpStream::connect(sim.addr).await.unwrap();
    let name = ServerName::try_from(host.to_string()).unwrap();
    let mut tls = connector(ca_pem)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let req = format!("GET /_sim/health HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    Ok(answer.lines().next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn a_client_that_trusts_the_generated_ca_is_served_over_https() {
    let sim = start(None).await;
    assert!(sim.url.starts_with("https://127.0.0.1:"), "{}", sim.url);
    let ca = sim.ca.as_ref().expect("a TLS simulator has a CA");
    assert!(ca.file().is_none(), "no world file: the CA stays in memory");
    let pem = ca.pem().to_string();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_eq!(sim.shared.ca_pem.as_deref(), Some(pem.as_str()));
    // The leaf covers the names a client on loopback uses.
    for host in ["127.0.0.1", "localhost"] {
        assert_eq!(
            health(&sim, host, Some(&pem)).await.as_deref(),
            Ok("HTTP/1.1 200 OK"),
            "{host}"
        );
    }
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_without_the_ca_is_refused() {
    let sim = start(None).await;
    let refused = health(&sim, "127.0.0.1", None)
        .await
        .expect_err("no trusted CA: the handshake fails");
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    // Another simulator's CA is no better.
    let other = start(None).await;
    let other_pem = other.ca.as_ref().unwrap().pem().to_string();
    let refused = health(&sim, "127.0.0.1", Some(&other_pem))
        .await
        .expect_err("another CA: the handshake fails");
    assert!(
        refused.contains("UnknownIssuer") || refused.contains("BadSignature"),
        "{refused}"
    );
    // A name the certificate does not cover is refused too.
    let pem = sim.ca.as_ref().unwrap().pem().to_string();
    let refused = health(&sim, "example.com", Some(&pem))
        .await
        .expect_err("not the simulator's name");
    assert!(refused.contains("not valid for name"), "{refused}");
    // A refused handshake costs the simulator nothing: the next client is served.
    assert_eq!(
        health(&sim, "127.0.0.1", Some(&pem)).await.as_deref(),
        Ok("HTTP/1.1 200 OK")
    );
    other.shutdown().await.unwrap();
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_answer_and_does_not_stop_the_simulator() {
    let sim = start(None).await;
    let mut tcp = tokio::net::TcpStream::connect(sim.addr).await.unwrap();
    tcp.write_all(b"GET /_sim/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    // The simulator drops the connection (rustls may first send an alert record): no HTTP.
    let _ = tcp.read_to_end(&mut answer).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
    let pem = sim.ca.as_ref().unwrap().pem().to_string();
    assert_eq!(
        health(&sim, "127.0.0.1", Some(&pem)).await.as_deref(),
        Ok("HTTP/1.1 200 OK")
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_ca_is_kept_with_the_world_and_a_restarted_simulator_is_trusted_by_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let world = tmp.path().join("sim-world.json");
    let sim = start(Some(world.clone())).await;
    let ca_file = tmp.path().join("sim-world.ca.pem");
    let key_file = tmp.path().join("sim-world.ca-key.pem");
    assert_eq!(sim.ca.as_ref().unwrap().file(), Some(ca_file.as_path()));
    let pem = std::fs::read_to_string(&ca_file).expect("the CA bundle next to the world");
    assert_eq!(pem, sim.ca.as_ref().unwrap().pem());
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the CA key is private");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(key.contains("PRIVATE KEY"), "a PEM key");
    assert!(!pem.contains("PRIVATE KEY"), "the bundle holds no key");
    sim.shutdown().await.unwrap();

    // Restarted on the same world: the same CA, and the new leaf verifies with the old bundle.
    let sim = start(Some(world.clone())).await;
    assert_eq!(sim.ca.as_ref().unwrap().pem(), pem);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
    assert_eq!(
        health(&sim, "127.0.0.1", Some(&pem)).await.as_deref(),
        Ok("HTTP/1.1 200 OK")
    );
    sim.shutdown().await.unwrap();

    // A removed bundle is written again from the key file: still the same CA.
    std::fs::remove_file(&ca_file).unwrap();
    let sim = start(Some(world.clone())).await;
    assert_eq!(std::fs::read_to_string(&ca_file).unwrap(), pem);
    sim.shutdown().await.unwrap();

    // A damaged key is a clear error naming the files to remove, never a new CA behind the
    // clients' backs.
    std::fs::write(&key_file, "not a key").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = plinth_sim::start_tls(
        listener,
        plinth_sim::SimConfig {
            world_file: Some(world),
            ..Default::default()
        },
    )
    .await
    .err()
    .expect("a damaged CA key is refused");
    let msg = err.to_string();
    assert!(
        msg.contains("sim-world.ca-key.pem") && msg.contains("remove it"),
        "{msg}"
    );
}
