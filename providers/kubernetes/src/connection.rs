//! Reaching a cluster: one `kube::Client` per distinct provider settings, made on first use
//! from an AKS cluster's credentials (through [`ClusterCredentials`]) or a kubeconfig, and the
//! kinds each cluster serves (discovery), cached.
//!
//! Credentials live only in memory, inside the client: they are never written to disk, to
//! output, to logs or into error messages.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::ApiResource;
use plinth_provider::ProviderError;
use plinth_value::Value;

use crate::errors;
use crate::kind::Gvk;

/// Where cluster credentials come from when the settings name a cluster
/// (`[provider.kubernetes] cluster = "aks"`): the AKS resource's id, as the engine resolved it.
#[async_trait]
pub trait ClusterCredentials: Send + Sync {
    /// The cluster's kubeconfig (YAML), from `listClusterUserCredential` (or
    /// `listClusterAdminCredential` when `admin`); `Ok(None)` when the cluster does not exist.
    async fn kubeconfig(
        &self,
        cluster_id: &str,
        admin: bool,
    ) -> Result<Option<String>, ProviderError>;
}

/// [`ClusterCredentials`] from an async function `(cluster_id, admin) -> kubeconfig`.
pub struct FnCredentials<F>(pub F);

#[async_trait]
impl<F, Fut> ClusterCredentials for FnCredentials<F>
where
    F: Fn(String, bool) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = Result<Option<String>, ProviderError>> + Send,
{
    async fn kubeconfig(
        &self,
        cluster_id: &str,
        admin: bool,
    ) -> Result<Option<String>, ProviderError> {
        (self.0)(cluster_id.to_string(), admin).await
    }
}

/// A type as one cluster serves it.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// One cluster.
pub struct Conn {
    pub client: kube::Client,
    /// The API server's address (`https://host:port`), for messages.
    pub server: String,
    /// The per-request (read) timeout of `client`.
    pub request_timeout: Duration,
    /// What the cluster says about each kind it serves (absent kinds are asked again: a CRD
    /// may appear while plinth runs, e.g. when an add-on is enabled).
    kinds: Mutex<HashMap<Gvk, Resolved>>,
    /// Held while discovery runs, so that the objects of a kind planned or applied at once
    /// ask the server once (the others then find the kind in `kinds`, or take a "not served"
    /// given after they began waiting: as fresh as their own answer).
    pub discovering: tokio::sync::Mutex<()>,
    /// When discovery last said a kind is not served.
    not_served: Mutex<HashMap<Gvk, Instant>>,
}

/// Why there is no connection.
pub enum NoConn {
    /// The settings are not known yet (the cluster is only planned).
    Unknown,
    /// The cluster the settings name does not exist.
    ClusterGone,
}

/// How the provider's settings say to reach a cluster.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// An AKS cluster, reached with the credentials ARM hands out for it.
    Cluster {
        /// The cluster's ARM resource id.
        id: String,
        /// Use `listClusterAdminCredential` instead of the user credential.
        admin: bool,
    },
    /// A kubeconfig file.
    Kubeconfig {
        /// `None`: as kubectl finds one (`KUBECONFIG`, then `~/.kube/config`).
        path: Option<PathBuf>,
        /// The context to use; `None`: the file's current context.
        context: Option<String>,
    },
}

/// Reads the settings table; `Ok(None)` while part of it is unknown.
pub fn target_of(settings: &Value) -> Result<Option<Target>, ProviderError> {
    if !settings.is_wholly_known() {
        return Ok(None);
    }
    let settings = settings.unmark_all();
    let map = match &settings {
        Value::Null => {
            return Ok(Some(Target::Kubeconfig {
                path: None,
                context: None,
            }));
        }
        Value::Map(m) => m,
        other => {
            return Err(ProviderError::new(format!(
                "[provider.kubernetes] must be a table, found {}",
                other.type_name()
            )));
        }
    };
    let string = |k: &str| -> Result<Option<String>, ProviderError> {
        match map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ProviderError::new(format!(
                "[provider.kubernetes] {k} must be a string, found {}",
                other.type_name()
            ))),
        }
    };
    for k in map.keys() {
        if !["cluster", "admin", "kubeconfig", "context"].contains(&k.as_str()) {
            return Err(ProviderError::new(format!(
                "[provider.kubernetes] has no setting `{k}` (expected cluster and admin, or kubeconfig and context)"
            )));
        }
    }
    let admin = match map.get("admin") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ProviderError::new(format!(
                "[provider.kubernetes] admin must be a bool, found {}",
                other.type_name()
            )));
        }
    };
    match (string("cluster")?, string("kubeconfig")?) {
        (Some(_), Some(_)) => Err(ProviderError::new(
            "[provider.kubernetes]: set either `cluster` or `kubeconfig`, not both",
        )),
        (Some(id), None) => Ok(Some(Target::Cluster { id, admin })),
        (None, path) => Ok(Some(Target::Kubeconfig {
            path: path.map(|p| expand_home(&p)),
            context: string("context")?,
        })),
    }
}

fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(p)
}

/// How long connecting to an API server may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the API server may take to answer one request (nothing here watches: every call
/// is one request and its answer), before the call fails as a transient error.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect and per-request timeouts of the clients made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: DEFAULT_CONNECT_TIMEOUT,
            request: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// The largest kubeconfig file plinth reads.
pub const MAX_KUBECONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// A kubeconfig file must be a regular file (after symlinks) of at most
/// [`MAX_KUBECONFIG_BYTES`]: a device (`/dev/zero`), a FIFO or a directory is refused before
/// anything reads it.
fn check_kubeconfig_file(path: &std::path::Path, what: &str) -> Result<(), ProviderError> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        ProviderError::new(format!(
            "{what} {shown} cannot be read: {}",
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            }
        ))
    })?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            if t.is_fifo() {
                "a FIFO"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a file"
            }
        };
        return Err(ProviderError::new(format!(
            "{what} {shown} is {kind}, not a regular file: point it at a kubeconfig file"
        )));
    }
    if meta.len() > MAX_KUBECONFIG_BYTES {
        return Err(ProviderError::new(format!(
            "{what} {shown} is {} bytes, more than a kubeconfig can be ({} MiB): point it at a kubeconfig file",
            meta.len(),
            MAX_KUBECONFIG_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

/// A kubeconfig error, without any part of the file's content (a file that is not a
/// kubeconfig may hold anything, secrets included: a YAML error quotes what it found).
fn kubeconfig_error(e: &kube::config::KubeconfigError) -> String {
    use kube::config::KubeconfigError as K;
    match e {
        K::Parse(_) => {
            "it is not a kubeconfig (its YAML cannot be read; `kubectl config view --kubeconfig FILE` shows why)".into()
        }
        K::ReadConfig(io, _) => format!("it cannot be read: {io}"),
        other => other.to_string(),
    }
}

/// The clients, one per distinct settings, and what ARM said of clusters that do not exist.
///
/// One lookup at a time per settings (single-flight): while one asks ARM for credentials,
/// the others of the same settings wait for its answer instead of asking too, so a plan of
/// 900 objects of one cluster asks once, not 900 times.
#[derive(Default)]
pub struct Connections {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// What is known of one settings' cluster.
#[derive(Default)]
struct Slot {
    conn: Option<Arc<Conn>>,
    /// When ARM last said the cluster does not exist (cleared when a connection is made).
    /// Reads and plans ([`Absent::Reuse`]) take this answer again for the rest of the run: a
    /// plan without the cluster is the offline plan, the same as while the cluster's id is
    /// unknown, and a read of an object in a cluster that does not exist answers "gone" —
    /// both happen before anything is applied (an apply reads nothing with `read`). Writes,
    /// deletes, actions and data source reads ([`Absent::AskAgain`]), which run while the
    /// same apply may have created the cluster, take it only when it was given after they
    /// started waiting for it (it is then as fresh as an answer they would get themselves).
    absent_since: Option<Instant>,
}

/// Whether a lookup may take an earlier "the cluster does not exist" again.
#[derive(Clone, Copy, PartialEq)]
pub enum Absent {
    /// Reads and plans: yes, for the whole run.
    Reuse,
    /// Writes, deletes, actions, data sources: only an answer given after the lookup began.
    AskAgain,
}

impl Connections {
    /// The connection the settings describe.
    pub async fn get(
        &self,
        settings: &Value,
        credentials: Option<&dyn ClusterCredentials>,
        absent: Absent,
        timeouts: Timeouts,
    ) -> Result<Result<Arc<Conn>, NoConn>, ProviderError> {
        let Some(target) = target_of(settings)? else {
            return Ok(Err(NoConn::Unknown));
        };
        let began = Instant::now();
        let key = settings_key(settings);
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        // Held while asking: the other lookups of these settings wait for this answer.
        let mut slot = slot.lock().await;
        if let Some(c) = &slot.conn {
            return Ok(Ok(c.clone()));
        }
        if let Some(at) = slot.absent_since
            && (absent == Absent::Reuse || at >= began)
        {
            return Ok(Err(NoConn::ClusterGone));
        }
        let config = match config_for(&target, credentials, timeouts).await? {
            Some(c) => c,
            None => {
                slot.absent_since = Some(Instant::now());
                return Ok(Err(NoConn::ClusterGone));
            }
        };
        let server = server_of(&config.cluster_url);
        install_crypto_provider();
        let client = kube::Client::try_from(config).map_err(|e| {
            ProviderError::new(format!(
                "cannot make a Kubernetes client: {}",
                errors::plain(&e)
            ))
        })?;
        let conn = Arc::new(Conn {
            client,
            server,
            request_timeout: timeouts.request,
            kinds: Mutex::new(HashMap::new()),
            discovering: tokio::sync::Mutex::new(()),
            not_served: Mutex::new(HashMap::new()),
        });
        slot.absent_since = None;
        slot.conn = Some(conn.clone());
        Ok(Ok(conn))
    }

    /// Forgets `conn` as the connection of these settings (it no longer reaches the cluster:
    /// its credentials are refused, its address or certificate is not the cluster's any more,
    /// as when the cluster was replaced), so that the next lookup makes one from fresh
    /// credentials. A connection made again meanwhile (by another call) is kept.
    pub async fn forget(&self, settings: &Value, conn: &Arc<Conn>) {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&settings_key(settings))
            .cloned();
        if let Some(slot) = slot {
            let mut slot = slot.lock().await;
            if slot.conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
                slot.conn = None;
            }
        }
    }
}

/// The key of a settings table: one connection per distinct key.
pub(crate) fn settings_key(settings: &Value) -> String {
    settings.unmark_all().to_json().to_string()
}

/// kube's TLS (rustls) takes the process-wide crypto provider; with more than one compiled
/// in (reqwest brings aws-lc-rs), none is chosen automatically. Installs aws-lc-rs unless the
/// process already chose one.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
    });
}

/// `scheme://host[:port]` of the API server (no path, no query string).
fn server_of(uri: &http::Uri) -> String {
    match (uri.scheme_str(), uri.authority()) {
        (Some(s), Some(a)) => format!("{s}://{a}"),
        (None, Some(a)) => a.to_string(),
        _ => "an unknown address".to_string(),
    }
}

/// The kubeconfig files kubectl would read: each of `KUBECONFIG`, else `~/.kube/config`
/// (those that exist).
fn default_kubeconfig_files() -> Vec<PathBuf> {
    let files: Vec<PathBuf> = match std::env::var_os("KUBECONFIG") {
        Some(v) if !v.is_empty() => std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        _ => std::env::var_os("HOME")
            .map(|h| vec![PathBuf::from(h).join(".kube/config")])
            .unwrap_or_default(),
    };
    files
        .into_iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect()
}

async fn config_for(
    target: &Target,
    credentials: Option<&dyn ClusterCredentials>,
    timeouts: Timeouts,
) -> Result<Option<kube::Config>, ProviderError> {
    let mut config = match target {
        Target::Cluster { id, admin } => {
            let Some(creds) = credentials else {
                return Err(ProviderError::new(
                    "[provider.kubernetes] cluster = ...: this build cannot fetch AKS credentials",
                ));
            };
            // ARM calls retry transient failures themselves.
            let Some(yaml) = creds.kubeconfig(id, *admin).await? else {
                return Ok(None);
            };
            // The kubeconfig holds a token: no part of it goes into a message.
            let kc = Kubeconfig::from_yaml(&yaml).map_err(|_| {
                ProviderError::new(format!(
                    "the kubeconfig that {id} handed out cannot be read"
                ))
            })?;
            kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|_| {
                    ProviderError::new(format!(
                        "the kubeconfig that {id} handed out has no usable cluster and user"
                    ))
                })?
        }
        Target::Kubeconfig { path, context } => {
            let options = KubeConfigOptions {
                context: context.clone(),
                ..Default::default()
            };
            match path {
                Some(p) => {
                    let what = "[provider.kubernetes] kubeconfig";
                    check_kubeconfig_file(p, what)?;
                    let kc = Kubeconfig::read_from(p).map_err(|e| {
                        ProviderError::new(format!(
                            "{what} {}: {}",
                            p.display(),
                            kubeconfig_error(&e)
                        ))
                    })?;
                    kube::Config::from_custom_kubeconfig(kc, &options)
                        .await
                        .map_err(|e| {
                            ProviderError::new(format!(
                                "{what} {}: {}",
                                p.display(),
                                kubeconfig_error(&e)
                            ))
                        })?
                }
                None => {
                    for f in default_kubeconfig_files() {
                        check_kubeconfig_file(&f, "the kubeconfig")?;
                    }
                    kube::Config::from_kubeconfig(&options).await.map_err(|e| {
                        ProviderError::new(format!(
                            "no kubeconfig to reach a cluster with ({}); set KUBECONFIG, or [provider.kubernetes] cluster = \"<an AKS resource>\" or kubeconfig = \"<path>\"",
                            kubeconfig_error(&e)
                        ))
                    })?
                }
            }
        }
    };
    config.connect_timeout = Some(timeouts.connect);
    config.read_timeout = Some(timeouts.request);
    config.write_timeout = Some(timeouts.request);
    Ok(Some(config))
}

impl Conn {
    /// How the cluster serves a kind, if discovery already said.
    pub fn known_kind(&self, gvk: &Gvk) -> Option<Resolved> {
        self.kinds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(gvk)
            .cloned()
    }

    /// Whether discovery said the kind is not served at or after `since`.
    pub fn not_served_since(&self, gvk: &Gvk, since: Instant) -> bool {
        self.not_served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(gvk)
            .is_some_and(|at| *at >= since)
    }

    /// Remembers that discovery said, now, that the cluster does not serve a kind.
    pub fn remember_not_served(&self, gvk: &Gvk) {
        self.not_served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(gvk.clone(), Instant::now());
    }

    /// Remembers what discovery said about a kind the cluster serves.
    pub fn remember_kind(&self, gvk: &Gvk, r: &Resolved) {
        self.kinds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(gvk.clone(), r.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_tables() {
        assert_eq!(
            target_of(&Value::Null).unwrap(),
            Some(Target::Kubeconfig {
                path: None,
                context: None
            })
        );
        assert_eq!(
            target_of(&Value::from(json!({"cluster": "/x", "admin": true}))).unwrap(),
            Some(Target::Cluster {
                id: "/x".into(),
                admin: true
            })
        );
        let mut unknown = Value::from(json!({"cluster": null}));
        unknown.set(&"cluster".parse().unwrap(), Value::Unknown);
        assert_eq!(target_of(&unknown).unwrap(), None);
        assert!(target_of(&Value::from(json!({"clster": "/x"}))).is_err());
        assert!(target_of(&Value::from(json!({"cluster": "/x", "kubeconfig": "k"}))).is_err());
    }
}
