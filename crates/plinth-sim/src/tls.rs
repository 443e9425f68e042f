//! HTTPS for the simulator (`plinth sim serve --tls`): a certificate authority of its own and
//! a leaf certificate for loopback signed by it, served through axum's own `serve` by a
//! listener that completes each TLS handshake before handing the connection over.
//!
//! The CA is generated once per world and kept next to the world file (`WORLD.ca.pem`, and its
//! key in `WORLD.ca-key.pem`, mode 0600), so a reloaded world keeps it and clients configured
//! with the bundle keep trusting the simulator. The leaf is new at every start. Clients trust
//! exactly this CA (the bundle's path, or its PEM): nothing here asks anyone to skip
//! verification.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// The CA's subject: also what a leaf names as its issuer, so a CA loaded from its key alone
/// signs leaves its stored certificate verifies.
const CA_COMMON_NAME: &str = "plinth simulator CA";
const CA_ORGANIZATION: &str = "plinth sim";

/// How long a client may take over its handshake before the connection is dropped (a client
/// that connects and sends nothing must not hold a task forever).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// The simulator's certificate authority: its certificate (what clients trust) and its key
/// (what signs the leaf the simulator serves).
pub struct SimCa {
    cert_pem: String,
    key: KeyPair,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for SimCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("SimCa")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// Where a world's CA certificate and key are kept: `sim-world.json` → `sim-world.ca.pem`
/// and `sim-world.ca-key.pem`.
pub fn ca_paths(world_file: &Path) -> (PathBuf, PathBuf) {
    (
        world_file.with_extension("ca.pem"),
        world_file.with_extension("ca-key.pem"),
    )
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, CA_ORGANIZATION);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2124, 1, 1);
    params
}

fn with_path(p: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// A temporary name next to `path` that no other process uses.
fn unique_tmp(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{what}: {e}"))
}

impl SimCa {
    /// A new CA, kept in memory only.
    pub fn generate() -> std::io::Result<Self> {
        let key = KeyPair::generate().map_err(|e| tls_error("generating the CA key", e))?;
        let cert = ca_params()
            .self_signed(&key)
            .map_err(|e| tls_error("signing the CA certificate", e))?;
        Ok(SimCa {
            cert_pem: cert.pem(),
            key,
            file: None,
        })
    }

    /// The CA kept with `world_file` ([`ca_paths`]), created there when there is none yet.
    ///
    /// The key file (mode 0600) holds the key and the certificate together, written in one
    /// rename, so two simulators starting on one world at once cannot leave a key with
    /// another CA's certificate; the bundle clients read (`WORLD.ca.pem`) is rewritten from it
    /// whenever it differs.
    pub fn for_world(world_file: &Path) -> std::io::Result<Self> {
        let (cert_path, key_path) = ca_paths(world_file);
        let ca = match std::fs::read_to_string(&key_path) {
            Ok(pair) => SimCa::from_pair(&pair).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is not the simulator's CA (a PEM key and certificate); remove it and {} to have a new CA made",
                        key_path.display(),
                        cert_path.display()
                    ),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ca = SimCa::generate()?;
                let pair = format!("{}{}", ca.key.serialize_pem(), ca.cert_pem);
                let tmp = unique_tmp(&key_path);
                crate::write_private(&tmp, pair.as_bytes())
                    .and_then(|()| std::fs::rename(&tmp, &key_path))
                    .map_err(|e| with_path(&key_path, e))?;
                // Another simulator may have renamed its CA over ours: use what is there.
                let pair = std::fs::read_to_string(&key_path).map_err(|e| with_path(&key_path, e))?;
                SimCa::from_pair(&pair).unwrap_or(ca)
            }
            Err(e) => return Err(with_path(&key_path, e)),
        };
        let current = std::fs::read_to_string(&cert_path).ok();
        if current.as_deref() != Some(ca.cert_pem.as_str()) {
            let tmp = unique_tmp(&cert_path);
            std::fs::write(&tmp, &ca.cert_pem)
                .and_then(|()| std::fs::rename(&tmp, &cert_path))
                .map_err(|e| with_path(&cert_path, e))?;
        }
        Ok(SimCa {
            file: Some(cert_path),
            ..ca
        })
    }

    /// The CA in a key file's text: its PEM key, then its PEM certificate.
    fn from_pair(pair: &str) -> Option<SimCa> {
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        let start = pair.find(BEGIN)?;
        let end = start + pair[start..].find(END)? + END.len();
        let key = KeyPair::from_pem(&pair[..start]).ok()?;
        Some(SimCa {
            cert_pem: format!("{}\n", &pair[start..end]),
            key,
            file: None,
        })
    }

    /// The CA certificate, PEM: what a client trusts.
    pub fn pem(&self) -> &str {
        &self.cert_pem
    }

    /// Where the CA certificate is kept, when it is kept with a world.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// A leaf certificate for `localhost`, 127.0.0.1, ::1 and `listen` (when it is a specific
    /// address), signed by this CA, with its key.
    fn leaf(
        &self,
        listen: IpAddr,
    ) -> std::io::Result<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "plinth simulator");
        params.distinguished_name = dn;
        let mut ips = vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        if !listen.is_unspecified() && !ips.contains(&listen) {
            ips.push(listen);
        }
        params.subject_alt_names = std::iter::once(SanType::DnsName(
            "localhost"
                .try_into()
                .map_err(|e| tls_error("naming localhost", e))?,
        ))
        .chain(ips.into_iter().map(SanType::IpAddress))
        .collect();
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // OpenSSL's strict verification (Python 3.13's default) wants it.
        params.use_authority_key_identifier_extension = true;
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2124, 1, 1);
        let key = KeyPair::generate().map_err(|e| tls_error("generating the server key", e))?;
        let issuer = Issuer::new(ca_params(), &self.key);
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| tls_error("signing the server certificate", e))?;
        Ok((
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        ))
    }

    /// The rustls server configuration: a fresh leaf for `listen`, HTTP/1.1.
    pub fn server_config(&self, listen: IpAddr) -> std::io::Result<Arc<ServerConfig>> {
        let (cert, key) = self.leaf(listen)?;
        let mut config = ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("configuring TLS", e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| tls_error("configuring the server certificate", e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

type Accepted = (tokio_rustls::server::TlsStream<TcpStream>, SocketAddr);

/// A TCP listener whose connections come out of [`axum::serve::Listener::accept`] already
/// through their TLS handshake. Handshakes run in their own tasks, so a slow or silent client
/// holds up nobody else; a failed handshake (a client without the CA, plain HTTP) just closes
/// that connection.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    done_tx: tokio::sync::mpsc::Sender<Accepted>,
    done_rx: tokio::sync::mpsc::Receiver<Accepted>,
}

impl TlsListener {
    /// Serves `config` on `tcp`.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> Self {
        let (done_tx, done_rx) = tokio::sync::mpsc::channel(64);
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
            done_tx,
            done_rx,
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                Some(done) = self.done_rx.recv() => return done,
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let acceptor = self.acceptor.clone();
                        let done = self.done_tx.clone();
                        tokio::spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => {
                                    let _ = done.send((tls, peer)).await;
                                }
                                Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!("accepting a connection failed: {e}");
                        // Out of file descriptors and the like: give them a moment to free up
                        // (as axum's own TCP listener does).
                        if !matches!(
                            e.kind(),
                            std::io::ErrorKind::ConnectionAborted
                                | std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionRefused
                        ) {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                },
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
