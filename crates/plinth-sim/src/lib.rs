//! The simulated cloud (SPEC §7): a local, stateful imitation of the parts of Azure Resource
//! Manager, Entra ID and AKS's Kubernetes API that plinth's flagship scenario uses, served over
//! HTTP on loopback, or HTTPS with a CA of its own ([`start_tls`], [`tls`]). Providers reach
//! it exactly as they reach Azure: only over HTTP(S).
//!
//! Layout: [`arm`] (resource store, per-type behaviour, long-running operations, validation,
//! throttling, faults), [`entra`] (the token endpoint `azure_identity` talks to), [`k8s`] (one
//! Kubernetes API per AKS cluster, under `/k8s/{cluster}`, and its simulated controllers:
//! Jobs, workload identity, KEDA — see [`k8s::reconcile`]), `admin` (`/_sim/` for tests:
//! inventory, out-of-band changes, the request log, `settle`). [`World`] is everything that
//! persists.

#![warn(missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde::{Deserialize, Serialize};

mod admin;
pub mod arm;
pub mod entra;
pub mod k8s;
pub mod tls;

/// How long simulated operations take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Latency {
    /// Everything completes at once (tests).
    #[default]
    Instant,
    /// Long operations take a few seconds (an AKS create about 5 s).
    Demo,
    /// Long operations take as long as on Azure (an AKS create several minutes).
    Realistic,
}

impl FromStr for Latency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "instant" => Ok(Latency::Instant),
            "demo" => Ok(Latency::Demo),
            "realistic" => Ok(Latency::Realistic),
            other => Err(format!(
                "unknown latency profile `{other}`: expected instant, demo or realistic"
            )),
        }
    }
}

impl Latency {
    /// Scales a duration that a real Azure operation takes to this profile.
    pub fn scale(self, realistic: Duration) -> Duration {
        match self {
            Latency::Instant => Duration::ZERO,
            Latency::Demo => realistic / 60,
            Latency::Realistic => realistic,
        }
    }
}

/// What a request asks of the simulated cloud, for its service time ([`service_time`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestClass {
    /// An ARM GET or HEAD (a list page is one).
    ArmRead,
    /// An ARM PUT, PATCH, POST or DELETE.
    ArmWrite,
    /// Any request to a cluster's Kubernetes API.
    K8s,
}

/// How long the simulated cloud takes to answer a request of `class`: the `/_sim/config`
/// override, else a round trip as the `realistic` profile models it, scaled by the profile
/// (nothing on `instant`, a 60th on `demo`). The model's figures — an ARM read 100 ms, an
/// ARM write 250 ms, a Kubernetes API request 10 ms — are round numbers for a client in the
/// region, not measurements; they make the cost of a round trip visible (what batched reads
/// save) and give benchmarks a bound to compare with. Long-running operations take their
/// own time on top.
pub fn service_time(latency: Latency, settings: &arm::Settings, class: RequestClass) -> Duration {
    let (set, realistic_ms) = match class {
        RequestClass::ArmRead => (settings.arm_read_ms, 100),
        RequestClass::ArmWrite => (settings.arm_write_ms, 250),
        RequestClass::K8s => (settings.k8s_request_ms, 10),
    };
    match set {
        Some(ms) => Duration::from_millis(ms),
        None => latency.scale(Duration::from_millis(realistic_ms)),
    }
}

/// Waits the service time of a request of `class` (returns at once when it is zero).
pub(crate) async fn serve_delay(shared: &Shared, class: RequestClass) {
    let wait = {
        let world = shared.world();
        service_time(shared.config.latency, &world.arm.settings, class)
    };
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// How the simulator behaves.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    /// How long long-running operations take (default [`Latency::Instant`]).
    pub latency: Latency,
    /// Fraction of ARM requests (0.0–1.0) that answer with an injected transient failure.
    pub faults: f64,
    /// Seed for injected faults and generated ids, so runs are reproducible.
    pub seed: u64,
    /// Where the world is saved (after every change) and loaded from at start.
    pub world_file: Option<PathBuf>,
}

/// Everything that persists: ARM resources and the clusters' Kubernetes objects.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct World {
    /// The ARM resources, deployments, operations and role assignments.
    pub arm: arm::Store,
    /// Kubernetes API state per AKS cluster, by cluster key (see [`k8s::Cluster`]).
    pub clusters: std::collections::BTreeMap<String, k8s::Cluster>,
    /// A logical clock, advanced by creations the simulated controllers compare (a federated
    /// credential's creation, a restart of keda-operator's pods): deterministic, unlike time.
    #[serde(default)]
    pub clock: u64,
}

impl World {
    /// The parts of the world an ARM request works on, with the clusters' Kubernetes APIs
    /// behind ARM's [`arm::Clusters`] hooks.
    pub fn arm_view(&mut self) -> arm::ArmWorld<'_> {
        arm::ArmWorld {
            arm: &mut self.arm,
            clock: &mut self.clock,
            clusters: &mut self.clusters,
        }
    }
}

/// One request as the simulator saw it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogEntry {
    /// When the request arrived (RFC 3339 with microseconds).
    pub at: String,
    /// When its answer was ready (RFC 3339 with microseconds): with `at`, whether two
    /// requests overlapped.
    pub done: String,
    /// The HTTP method (`GET`, `PUT`, ...).
    pub method: String,
    /// The request path, without the query string.
    pub path: String,
    /// The raw query string after `?` (e.g. `api-version=2023-01-01`); `None` when the URL
    /// had none.
    pub query: Option<String>,
    /// The HTTP status code of the answer.
    pub status: u16,
    /// Response headers a test may check (`retry-after`, `azure-asyncoperation`, `location`).
    pub headers: Vec<(String, String)>,
}

/// State shared by every handler.
pub struct Shared {
    /// The configuration the simulator was started with.
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT` (`https://` when serving TLS), as clients reach the simulator.
    pub base_url: String,
    /// The CA certificate (PEM) clients must trust when the simulator serves TLS: the
    /// kubeconfigs it hands out carry it as `certificate-authority-data`.
    pub ca_pem: Option<String>,
    /// Everything that persists; lock it through [`Shared::world`], which recovers a
    /// poisoned lock.
    pub world: Mutex<World>,
    /// Every request served so far, oldest first (what `/_sim/requests` answers).
    pub log: Mutex<Vec<LogEntry>>,
    /// Held for a whole save: two handlers saving at once would otherwise share the temporary
    /// file, and the one that serialised the older world could rename last.
    save_lock: Mutex<()>,
    /// Set when the simulator stops: open Kubernetes watches end so shutdown does not wait.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    /// Saves the world to `--world FILE`, if one was given (atomically: temp file + rename).
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.config.world_file else {
            return Ok(());
        };
        let _saving = self.save_lock.lock().unwrap_or_else(|e| e.into_inner());
        let json = {
            let world = self.world.lock().unwrap_or_else(|e| e.into_inner());
            serde_json::to_vec_pretty(&*world).map_err(std::io::Error::other)?
        };
        let tmp = path.with_extension("tmp");
        write_private(&tmp, &json)?;
        std::fs::rename(&tmp, path)
    }

    /// Locks the world (a poisoned lock is recovered: the world is plain data).
    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running simulator.
pub struct SimHandle {
    /// The loopback address the simulator listens on.
    pub addr: SocketAddr,
    /// `http://ADDR`, or `https://ADDR` when serving TLS ([`start_tls`]).
    pub url: String,
    /// The CA clients must trust, when serving TLS: its certificate (PEM) and, when it is kept
    /// with a world file, where.
    pub ca: Option<tls::SimCa>,
    /// The state the handlers share: tests read the world and the request log through it.
    pub shared: Arc<Shared>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SimHandle {
    /// Stops serving and saves the world.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.shared.closing.send_replace(true);
        let _ = self.shutdown.send(());
        match self.task.await {
            Ok(r) => r?,
            Err(e) => return Err(std::io::Error::other(e)),
        }
        self.shared.save()
    }
}

/// Writes `data` to a fresh `path` with mode 0600 (the world holds the simulated objects'
/// secrets); a leftover file is removed first so it passes on neither its mode nor, as a
/// FIFO, a blocking open.
fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(data)
}

/// The most a world file may hold (a world of thousands of objects is a few MB).
const MAX_WORLD_BYTES: u64 = 1 << 30;

fn load_world(config: &SimConfig) -> std::io::Result<World> {
    use std::io::Read as _;
    let Some(path) = &config.world_file else {
        return Ok(World::default());
    };
    let invalid = |what: String| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    // Only a regular file: a FIFO would block forever, a device be read without end.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(invalid(
                "is not a regular file; pass a simulator world file (or a path that does not exist yet)".into(),
            ));
        }
        Ok(m) if m.len() > MAX_WORLD_BYTES => {
            return Err(invalid(format!(
                "is {} bytes, more than the {MAX_WORLD_BYTES} bytes a simulator world may have",
                m.len()
            )));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(World::default()),
        Err(e) => return Err(e),
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_WORLD_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_WORLD_BYTES {
        return Err(invalid(format!(
            "is more than the {MAX_WORLD_BYTES} bytes a simulator world may have"
        )));
    }
    serde_json::from_slice(&bytes).map_err(|e| invalid(format!("is not a simulator world: {e}")))
}

/// Records every request and its answer in the log served by `/_sim/requests`.
async fn log_requests(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let at = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
    let resp = next.run(req).await;
    let done = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| {
            let k = k.as_str();
            k == "retry-after"
                || k == "location"
                || k.starts_with("azure-")
                || k.starts_with("x-ms-ratelimit")
        })
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let entry = LogEntry {
        at,
        done,
        method,
        path,
        query,
        status: resp.status().as_u16(),
        headers,
    };
    shared
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(entry);
    resp
}

/// The whole HTTP surface.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/_sim", admin::router())
        .nest("/k8s", k8s::router())
        .merge(entra::router())
        // ARM's writes are followed by a round of the clusters' controllers.
        .fallback(|state: State<Arc<Shared>>, req: Request| arm::handle(state, req, k8s::reconcile))
        .layer(middleware::from_fn_with_state(shared.clone(), log_requests))
        .with_state(shared)
}

/// Starts serving on `listener` (bind it to `127.0.0.1:0` for an ephemeral port). The world
/// is loaded from `config.world_file` when that exists.
pub async fn start(
    listener: tokio::net::TcpListener,
    config: SimConfig,
) -> std::io::Result<SimHandle> {
    start_serving(listener, config, None).await
}

/// [`start`] over HTTPS, with a certificate authority of the simulator's own: the one kept with
/// `config.world_file` (created there at the first start, see [`tls::SimCa::for_world`]), or
/// a new one in memory without a world file. [`SimHandle::ca`] is what clients must trust.
pub async fn start_tls(
    listener: tokio::net::TcpListener,
    config: SimConfig,
) -> std::io::Result<SimHandle> {
    let ca = match &config.world_file {
        Some(world) => tls::SimCa::for_world(world)?,
        None => tls::SimCa::generate()?,
    };
    start_serving(listener, config, Some(ca)).await
}

async fn start_serving(
    listener: tokio::net::TcpListener,
    config: SimConfig,
    ca: Option<tls::SimCa>,
) -> std::io::Result<SimHandle> {
    let addr = listener.local_addr()?;
    let scheme = if ca.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{addr}");
    let world = load_world(&config)?;
    let shared = Arc::new(Shared {
        config,
        base_url: url.clone(),
        ca_pem: ca.as_ref().map(|ca| ca.pem().to_string()),
        world: Mutex::new(world),
        log: Mutex::new(Vec::new()),
        save_lock: Mutex::new(()),
        closing: tokio::sync::watch::Sender::new(false),
    });
    let app = router(shared.clone());
    admin::start_clock(&shared);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let stopped = async move {
        let _ = rx.await;
    };
    let task = match &ca {
        None => tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stopped)
            .await
        }),
        Some(ca) => {
            let listener = tls::TlsListener::new(listener, ca.server_config(addr.ip())?);
            tokio::spawn(async move {
                axum::serve(listener, app.into_make_service())
                    .with_graceful_shutdown(stopped)
                    .await
            })
        }
    };
    Ok(SimHandle {
        addr,
        url,
        ca,
        shared,
        shutdown: tx,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_times_follow_the_profile_unless_set() {
        let unset = arm::Settings::default();
        let read = |l, s: &arm::Settings| service_time(l, s, RequestClass::ArmRead);
        assert_eq!(read(Latency::Instant, &unset), Duration::ZERO);
        assert_eq!(read(Latency::Realistic, &unset), Duration::from_millis(100));
        assert_eq!(
            service_time(Latency::Realistic, &unset, RequestClass::ArmWrite),
            Duration::from_millis(250)
        );
        assert_eq!(
            service_time(Latency::Demo, &unset, RequestClass::K8s),
            Duration::from_millis(10) / 60
        );
        let set = arm::Settings {
            arm_read_ms: Some(7),
            ..Default::default()
        };
        assert_eq!(read(Latency::Instant, &set), Duration::from_millis(7));
    }
}
