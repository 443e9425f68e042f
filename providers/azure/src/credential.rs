//! Bearer tokens for ARM: the [`TokenSource`] trait, a [`StaticToken`] for tests, and
//! [`IdentityTokenSource`] over `azure_identity` credentials chosen from the environment
//! ([`CredentialConfig`]), cached until shortly before they expire.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, HttpClient, Request, Transport};
use azure_identity::{
    AzureCliCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use crate::error::{Error, Result};

/// The scope of Azure Resource Manager tokens.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// A bearer token and when it expires.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token itself: a secret, never printed (`Debug` hides it).
    pub token: String,
    /// When the token stops being valid; the cache renews it shortly before.
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"(sensitive)")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where bearer tokens come from.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync {
    /// A token valid for `scope` (e.g. [`ARM_SCOPE`]).
    async fn token(&self, scope: &str) -> Result<AccessToken>;
}

/// Always the same token (tests; the simulator's tokens from `plinth_sim::entra::issue`).
pub struct StaticToken(pub String);

#[async_trait::async_trait]
impl TokenSource for StaticToken {
    async fn token(&self, _: &str) -> Result<AccessToken> {
        Ok(AccessToken {
            token: self.0.clone(),
            expires_at: SystemTime::now() + Duration::from_secs(3600),
        })
    }
}

/// How to authenticate, as Terraform's azurerm reads it (`ARM_*`) with the `AZURE_*`
/// equivalents as fallbacks. Build with [`CredentialConfig::from_env`] or
/// [`CredentialConfig::from_lookup`], adjust fields, then [`IdentityTokenSource::new`].
#[derive(Clone, Debug, Default)]
pub struct CredentialConfig {
    /// `ARM_TENANT_ID` / `AZURE_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// `ARM_CLIENT_ID` / `AZURE_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `ARM_CLIENT_SECRET` / `AZURE_CLIENT_SECRET`.
    pub client_secret: Option<String>,
    /// `ARM_USE_OIDC=true` (or a federated token file being set).
    pub use_oidc: bool,
    /// `ARM_OIDC_TOKEN_FILE_PATH` / `AZURE_FEDERATED_TOKEN_FILE`.
    pub oidc_token_file: Option<PathBuf>,
    /// `ARM_USE_MSI=true` / `AZURE_USE_MSI=true`.
    pub use_msi: bool,
    /// Try the Azure CLI (`az account get-access-token`) last. `ARM_USE_CLI=false` turns it off.
    pub use_cli: bool,
    /// `ARM_AUTHORITY_HOST` / `AZURE_AUTHORITY_HOST` (default `https://login.microsoftonline.com`).
    /// An `http://` host (the simulated cloud) is reached over plain HTTP: `azure_identity`
    /// 1.x accepts only `https` authority hosts, so the credential is given the `https` form
    /// and its transport sends those requests over `http` to the same host and port.
    pub authority_host: Option<String>,
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

impl CredentialConfig {
    /// From the process environment.
    pub fn from_env() -> CredentialConfig {
        CredentialConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any variable lookup (tests pass a map instead of touching the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> CredentialConfig {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
        };
        let oidc_token_file =
            first(&["ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE"]).map(PathBuf::from);
        CredentialConfig {
            tenant_id: first(&["ARM_TENANT_ID", "AZURE_TENANT_ID"]),
            client_id: first(&["ARM_CLIENT_ID", "AZURE_CLIENT_ID"]),
            client_secret: first(&["ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"]),
            use_oidc: first(&["ARM_USE_OIDC", "AZURE_USE_OIDC"]).is_some_and(|v| truthy(&v))
                || oidc_token_file.is_some(),
            oidc_token_file,
            use_msi: first(&["ARM_USE_MSI", "AZURE_USE_MSI"]).is_some_and(|v| truthy(&v)),
            use_cli: first(&["ARM_USE_CLI"]).is_none_or(|v| truthy(&v)),
            authority_host: first(&["ARM_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST"]),
        }
    }
}

/// Sends `https://HOST:PORT` requests as `http://HOST:PORT` (only for the one authority host
/// the user gave as `http://`: the simulated cloud).
#[derive(Debug)]
struct PlainHttpAuthority {
    inner: reqwest::Client,
    host: String,
    port: Option<u16>,
}

#[async_trait::async_trait]
impl HttpClient for PlainHttpAuthority {
    async fn execute_request(
        &self,
        request: &Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        let url = request.url();
        if url.scheme() == "https"
            && url.host_str() == Some(self.host.as_str())
            && url.port() == self.port
        {
            let mut req = request.clone();
            let text = req.url().as_str().replacen("https://", "http://", 1);
            *req.url_mut() = azure_core::http::Url::parse(&text)?;
            return self.inner.execute_request(&req).await;
        }
        self.inner.execute_request(request).await
    }
}

/// How a [`FinalCertificateErrors`] message starts (found again in the credential's error).
const UNTRUSTED: &str = "the TLS certificate of ";

/// Fails a request at once when the server's certificate is not trusted: it is refused on
/// every attempt, and `azure_identity`'s retries (over a minute of them) would only hide why.
#[derive(Debug)]
struct FinalCertificateErrors {
    inner: Arc<dyn HttpClient>,
}

#[async_trait::async_trait]
impl HttpClient for FinalCertificateErrors {
    async fn execute_request(
        &self,
        request: &Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        let e = match self.inner.execute_request(request).await {
            Ok(answer) => return Ok(answer),
            Err(e) => e,
        };
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        if !chain.contains("invalid peer certificate") {
            return Err(e);
        }
        let url = request.url();
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => "the authority host".to_string(),
        };
        let why = chain.rsplit(": ").next().unwrap_or_default().to_string();
        Err(azure_core::Error::with_message(
            azure_core::error::ErrorKind::Other,
            format!(
                "{UNTRUSTED}{host} is not trusted ({why}); for the simulated cloud pass the CA certificate `plinth sim serve --tls` printed (--sim-ca PATH)"
            ),
        ))
    }
}

/// The message of a [`FinalCertificateErrors`] somewhere in `e`'s causes.
fn untrusted_certificate(e: &azure_core::Error) -> Option<String> {
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if text.starts_with(UNTRUSTED) {
            return Some(text);
        }
        next = err.source();
    }
    None
}

/// `http` for `azure_identity`: certificate errors are final ([`FinalCertificateErrors`]).
fn transport(http: Arc<dyn HttpClient>) -> Transport {
    Transport::new(Arc::new(FinalCertificateErrors { inner: http }))
}

/// Client options for `azure_identity` credentials: the custom cloud's authority host, and
/// the plain-HTTP transport for an `http://` one.
fn client_options(cfg: &CredentialConfig, http: &reqwest::Client) -> Result<ClientOptions> {
    let mut options = ClientOptions {
        transport: Some(transport(Arc::new(http.clone()))),
        ..ClientOptions::default()
    };
    let Some(host) = &cfg.authority_host else {
        return Ok(options);
    };
    let url = reqwest::Url::parse(host)
        .map_err(|e| Error::Credential(format!("authority host `{host}` is not a URL: {e}")))?;
    let https = if url.scheme() == "http" {
        let h = url.host_str().unwrap_or_default().to_string();
        options.transport = Some(transport(Arc::new(PlainHttpAuthority {
            inner: http.clone(),
            host: h,
            port: url.port(),
        })));
        host.replacen("http://", "https://", 1)
    } else {
        host.clone()
    };
    let mut custom = azure_core::cloud::CustomConfiguration::default();
    custom.authority_host = https.trim_end_matches('/').to_string();
    options.cloud = Some(Arc::new(custom.into()));
    Ok(options)
}

/// One credential to try.
struct Candidate {
    name: &'static str,
    credential: Arc<dyn TokenCredential>,
}

/// Tokens from `azure_identity` credentials: the configured candidates are tried in order
/// (client secret, workload identity, managed identity, Azure CLI); the first that works is
/// kept. Tokens are cached per scope until five minutes (or a tenth of their lifetime, if
/// shorter) before they expire.
pub struct IdentityTokenSource {
    candidates: Vec<Candidate>,
    /// Why the credentials that were not configured were skipped (for the error message).
    skipped: Vec<String>,
    chosen: std::sync::Mutex<Option<usize>>,
    cache: tokio::sync::Mutex<std::collections::HashMap<String, (AccessToken, SystemTime)>>,
}

impl IdentityTokenSource {
    /// The credentials `cfg` asks for. `http` is the client their token requests go through.
    pub fn new(cfg: &CredentialConfig, http: &reqwest::Client) -> Result<IdentityTokenSource> {
        let mut candidates = Vec::new();
        let mut skipped = Vec::new();
        let cred_err = |what: &str, e: azure_core::Error| Error::Credential(format!("{what}: {e}"));
        match (&cfg.tenant_id, &cfg.client_id, &cfg.client_secret) {
            (Some(t), Some(c), Some(s)) => {
                let options = ClientSecretCredentialOptions {
                    client_options: client_options(cfg, http)?,
                };
                let cred = ClientSecretCredential::new(t, c.clone(), Secret::new(s.clone()), Some(options))
                    .map_err(|e| cred_err("client secret credential", e))?;
                candidates.push(Candidate { name: "client secret", credential: cred });
            }
            _ => skipped.push(
                "client secret: needs ARM_TENANT_ID, ARM_CLIENT_ID and ARM_CLIENT_SECRET (or AZURE_*)"
                    .to_string(),
            ),
        }
        match (cfg.use_oidc, &cfg.tenant_id, &cfg.client_id, &cfg.oidc_token_file) {
            (true, Some(t), Some(c), Some(f)) => {
                let options = WorkloadIdentityCredentialOptions {
                    credential_options: ClientAssertionCredentialOptions {
                        client_options: client_options(cfg, http)?,
                    },
                    client_id: Some(c.clone()),
                    tenant_id: Some(t.clone()),
                    token_file_path: Some(f.clone()),
                };
                let cred = WorkloadIdentityCredential::new(Some(options))
                    .map_err(|e| cred_err("workload identity credential", e))?;
                candidates.push(Candidate { name: "workload identity (federated token file)", credential: cred });
            }
            _ => skipped.push(
                "workload identity: needs ARM_USE_OIDC=true with ARM_OIDC_TOKEN_FILE_PATH (or AZURE_FEDERATED_TOKEN_FILE), ARM_TENANT_ID and ARM_CLIENT_ID"
                    .to_string(),
            ),
        }
        if cfg.use_msi {
            let mut options = ManagedIdentityCredentialOptions {
                user_assigned_id: cfg.client_id.clone().map(UserAssignedId::ClientId),
                ..Default::default()
            };
            options.client_options.transport = Some(transport(Arc::new(http.clone())));
            let cred = ManagedIdentityCredential::new(Some(options))
                .map_err(|e| cred_err("managed identity credential", e))?;
            candidates.push(Candidate {
                name: "managed identity",
                credential: cred,
            });
        } else {
            skipped.push("managed identity: needs ARM_USE_MSI=true".to_string());
        }
        if cfg.use_cli {
            let cred =
                AzureCliCredential::new(None).map_err(|e| cred_err("Azure CLI credential", e))?;
            candidates.push(Candidate {
                name: "Azure CLI",
                credential: cred,
            });
        } else {
            skipped.push("Azure CLI: turned off by ARM_USE_CLI=false".to_string());
        }
        Ok(IdentityTokenSource {
            candidates,
            skipped,
            chosen: std::sync::Mutex::new(None),
            cache: tokio::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Names of the credentials that will be tried, in order.
    pub fn candidates(&self) -> Vec<&'static str> {
        self.candidates.iter().map(|c| c.name).collect()
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken> {
        let chosen = *self.chosen.lock().unwrap_or_else(|e| e.into_inner());
        let order: Vec<usize> = match chosen {
            Some(i) => vec![i],
            None => (0..self.candidates.len()).collect(),
        };
        let mut failures = Vec::new();
        for i in order {
            let c = &self.candidates[i];
            match c.credential.get_token(&[scope], None).await {
                Ok(t) => {
                    *self.chosen.lock().unwrap_or_else(|e| e.into_inner()) = Some(i);
                    let left = (t.expires_on - azure_core::time::OffsetDateTime::now_utc())
                        .whole_seconds()
                        .max(0) as u64;
                    tracing::debug!(credential = c.name, "obtained an ARM token");
                    return Ok(AccessToken {
                        token: t.token.secret().to_string(),
                        expires_at: SystemTime::now() + Duration::from_secs(left),
                    });
                }
                Err(e) => {
                    let why = untrusted_certificate(&e).unwrap_or_else(|| one_line(&e.to_string()));
                    failures.push(format!("{}: {why}", c.name));
                }
            }
        }
        let mut msg = String::from("no Azure credential worked; tried:");
        for f in failures.iter().chain(self.skipped.iter()) {
            msg.push_str("\n  - ");
            msg.push_str(f);
        }
        Err(Error::Credential(msg))
    }
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

#[async_trait::async_trait]
impl TokenSource for IdentityTokenSource {
    async fn token(&self, scope: &str) -> Result<AccessToken> {
        let mut cache = self.cache.lock().await;
        let now = SystemTime::now();
        if let Some((t, refresh_at)) = cache.get(scope)
            && *refresh_at > now
        {
            return Ok(t.clone());
        }
        let t = self.fetch(scope).await?;
        let lifetime = t.expires_at.duration_since(now).unwrap_or_default();
        let margin = (lifetime / 10).min(Duration::from_secs(300));
        cache.insert(scope.to_string(), (t.clone(), t.expires_at - margin));
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_arm_then_azure_variables() {
        let env = [
            ("AZURE_TENANT_ID", "t-azure"),
            ("ARM_TENANT_ID", "t-arm"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("ARM_USE_MSI", "true"),
            ("ARM_USE_CLI", "false"),
        ];
        let cfg = CredentialConfig::from_lookup(|k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        });
        assert_eq!(cfg.tenant_id.as_deref(), Some("t-arm"));
        assert_eq!(cfg.client_id.as_deref(), Some("c"));
        assert!(cfg.use_oidc && cfg.use_msi && !cfg.use_cli);
        assert_eq!(cfg.oidc_token_file, Some(PathBuf::from("/var/run/token")));
        assert!(cfg.client_secret.is_none());
    }
}
