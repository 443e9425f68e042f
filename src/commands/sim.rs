//! The `sim` commands: `serve` runs the simulated cloud; `kubeconfig` prints a simulated AKS
//! cluster's kubeconfig for kubectl.

use std::path::Path;

use super::shared::load_warned;
use crate::Common;
use crate::backend;
use crate::error::CliError;

/// `plinth sim serve`: runs the simulated cloud until Ctrl-C, then saves its world.
pub(super) async fn sim_serve(
    addr: std::net::SocketAddr,
    world: Option<std::path::PathBuf>,
    latency: plinth_sim::Latency,
    faults: f64,
    seed: u64,
    tls: bool,
) -> Result<u8, CliError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        CliError::help(
            format!("cannot listen on {addr}: {e}"),
            "choose another --addr, or port 0 for a free one",
        )
    })?;
    let config = plinth_sim::SimConfig {
        latency,
        faults,
        seed,
        world_file: world.clone(),
    };
    let started = if tls {
        plinth_sim::start_tls(listener, config).await
    } else {
        plinth_sim::start(listener, config).await
    };
    let sim = started.map_err(|e| CliError::msg(format!("cannot start the simulator: {e}")))?;
    // The CA bundle clients trust: kept with the world, else in a private directory of this
    // run's own, removed when it stops.
    let bundle = match &sim.ca {
        None => None,
        Some(ca) => Some(match ca.file() {
            Some(file) => CaBundle {
                path: file.to_path_buf(),
                temp_dir: None,
            },
            None => CaBundle::write_temp(ca.pem(), sim.addr.port())?,
        }),
    };
    // Listen for Ctrl-C and SIGTERM *before* announcing readiness: a signal sent right after
    // the URL appears must not be missed (a listener only sees signals that arrive after it
    // exists).
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| CliError::msg(format!("cannot listen for Ctrl-C: {e}")))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| CliError::msg(format!("cannot listen for SIGTERM: {e}")))?;
    // Before the URL, so whoever waits for the URL has it too.
    if let Some(bundle) = &bundle {
        eprintln!(
            "plinth sim: CA certificate in {} (trust it: --sim-ca PATH, REQUESTS_CA_BUNDLE=PATH)",
            bundle.path.display()
        );
    }
    // The first line is the URL, so scripts and tests can wait for it (explicit readiness).
    outln!("{}", sim.url);
    eprintln!(
        "plinth sim: serving ARM, Entra and AKS Kubernetes APIs at {} (latency {latency:?}, faults {faults}){}. Ctrl-C stops.",
        sim.url,
        world
            .as_ref()
            .map(|w| format!(", world in {}", w.display()))
            .unwrap_or_default()
    );
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    let saved = sim.shutdown().await;
    if let Some(dir) = bundle.and_then(|b| b.temp_dir) {
        let _ = std::fs::remove_dir_all(dir);
    }
    saved.map_err(|e| CliError::msg(format!("saving the simulator's world failed: {e}")))?;
    Ok(0)
}

/// Where `sim serve --tls` put the CA certificate.
struct CaBundle {
    path: std::path::PathBuf,
    /// The directory made for it when there is no world file (removed at the end).
    temp_dir: Option<std::path::PathBuf>,
}

impl CaBundle {
    /// Writes `pem` to `ca.pem` in a new private directory under the temporary directory
    /// (created afresh: never one someone else made).
    fn write_temp(pem: &str, port: u16) -> Result<Self, CliError> {
        use std::os::unix::fs::DirBuilderExt as _;
        let dir = std::env::temp_dir().join(format!("plinth-sim-{}-{port}", std::process::id()));
        let cannot = |e: std::io::Error| {
            CliError::help(
                format!(
                    "cannot write the simulator's CA certificate in {}: {e}",
                    dir.display()
                ),
                "pass --world FILE to keep it next to the world instead",
            )
        };
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(cannot)?;
        let path = dir.join("ca.pem");
        std::fs::write(&path, pem).map_err(cannot)?;
        Ok(CaBundle {
            path,
            temp_dir: Some(dir),
        })
    }
}

/// `plinth sim kubeconfig`: the kubeconfig ARM hands out for a simulated cluster in state.
pub(super) async fn sim_kubeconfig(
    address: Option<String>,
    dir: &Path,
    admin: bool,
    common: &Common,
) -> Result<u8, CliError> {
    let url = match common.sim.as_deref() {
        Some(u) if u != crate::IN_PROCESS => u.trim_end_matches('/').to_string(),
        _ => {
            return Err(CliError::help(
                "plinth sim kubeconfig needs a running simulator: --sim URL",
                "start one with `plinth sim serve` and pass the URL it prints; kubectl needs a server that keeps running",
            ));
        }
    };
    let address = match address {
        Some(a) => a,
        None => plinth_config::load_dir(dir)
            .ok()
            .and_then(|c| {
                let p = c.providers.iter().find(|p| p.name == "kubernetes")?;
                match &p.config.entry("cluster")?.kind {
                    plinth_config::NodeKind::Lit(plinth_value::Value::String(s)) => Some(s.clone()),
                    _ => None,
                }
            })
            .unwrap_or_else(|| "aks".to_string()),
    };
    let backend = backend::of_dir(dir)?;
    let state = load_warned(backend.as_ref())?.unwrap_or_default();
    let Some(id) = state.resources.get(&address).and_then(|r| r.id.clone()) else {
        return Err(CliError::help(
            format!("`{address}` is not in the state of {}", dir.display()),
            "apply the configuration first, or name the cluster's address: plinth sim kubeconfig ADDRESS --dir DIR --sim URL",
        ));
    };
    let ca_pem = crate::workspace::sim_ca_for(&url, common)?;
    let azure = plinth_provider_azure::AzureProvider::new(crate::workspace::sim_settings(
        &url,
        ca_pem.as_deref(),
    ));
    match azure.cluster_kubeconfig(&id, admin).await {
        Ok(Some(yaml)) => {
            out!("{yaml}");
            Ok(0)
        }
        Ok(None) => Err(CliError::msg(format!(
            "the simulator at {url} has no cluster {id}"
        ))),
        Err(e) => Err(CliError::msg(format!(
            "fetching the kubeconfig of `{address}` failed: {e}"
        ))),
    }
}
