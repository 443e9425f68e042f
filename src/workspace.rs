//! Loading what a command works on: the configuration, its variables, the providers (with
//! their `[provider.*]` settings) and the simulated cloud under `--sim`. Which state backend a
//! configuration names is `backend.rs`; reporting errors is `error.rs`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use plinth_config::{Config, Diagnostic, Diagnostics, VarInputs};
use plinth_fetch::{GitResolver, Mode, Outcome};
use plinth_provider::Registry;
use plinth_value::Value;

use crate::Common;
use crate::error::CliError;

/// Whether to colour output on stderr.
pub fn use_color(common: &Common) -> bool {
    !common.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// The providers this build has.
pub fn registry() -> Registry {
    registry_with(plinth_provider_azure::AzureSettings::from_env())
}

/// The providers, the Azure one with these settings. The Kubernetes provider fetches AKS
/// credentials (`[provider.kubernetes] cluster = "aks"`) through that same Azure provider.
fn registry_with(azure: plinth_provider_azure::AzureSettings) -> Registry {
    let mut r = Registry::new();
    let azure = Arc::new(plinth_provider_azure::AzureProvider::new(azure));
    r.register(Arc::new(plinth_provider_core::CoreProvider::new()));
    r.register(azure.clone());
    let credentials = plinth_provider_kubernetes::FnCredentials(move |id: String, admin: bool| {
        let azure = azure.clone();
        async move { azure.cluster_kubeconfig(&id, admin).await }
    });
    r.register(Arc::new(
        plinth_provider_kubernetes::KubernetesProvider::with_credentials(Arc::new(credentials)),
    ));
    r
}

/// Configures the providers that take their settings once per run — Azure's `[provider.azure]`,
/// evaluated by the engine (variables and the environment only) — and points them at the
/// simulated cloud under `--sim`. Tables that name resources (`[provider.kubernetes]`) are
/// evaluated by the engine for every request; every table is checked by `validate`.
pub fn configure_providers(loaded: &mut Loaded) -> Result<(), CliError> {
    let mut azure = match &loaded.sim {
        Some(sim) => sim_settings(&sim.url, sim.ca_pem.as_deref()),
        None => plinth_provider_azure::AzureSettings::from_env(),
    };
    let config = &loaded.config;
    let located = |d: Diagnostics| CliError::Config(config.sources.clone(), d);
    let unknown = plinth_engine::unknown_settings_tables(config, &loaded.registry);
    if !unknown.is_empty() {
        return Err(located(unknown));
    }
    if let Some(value) =
        plinth_engine::eval_static_settings(config, &loaded.vars, &loaded.env, "azure")
            .map_err(located)?
        && let Err(message) = azure.apply_config(&value)
    {
        let loc = config
            .providers
            .iter()
            .find(|p| p.name == "azure")
            .map(|p| p.loc.clone());
        let d = match loc {
            Some(loc) => Diagnostic::at(format!("[provider.azure]: {message}"), loc),
            None => Diagnostic::new(format!("[provider.azure]: {message}")),
        };
        return Err(located(d.into()));
    }
    loaded.registry = registry_with(azure);
    Ok(())
}

/// The Azure provider's settings for the simulated cloud at `url`, trusting exactly its CA
/// (`ca_pem`) when it serves HTTPS.
pub fn sim_settings(url: &str, ca_pem: Option<&str>) -> plinth_provider_azure::AzureSettings {
    let settings = plinth_provider_azure::AzureSettings::for_sim(url);
    match ca_pem {
        Some(pem) => settings.with_ca_pem(pem),
        None => settings,
    }
}

/// The largest CA certificate file `--sim-ca` reads (a bundle of a few certificates is a few
/// KB).
const MAX_CA_BYTES: u64 = 1 << 20;

/// The CA certificate (PEM) to trust for the simulator at `url`: `--sim-ca FILE` for an
/// `https://` one (required: nothing else is trusted for it), none for `http://`.
pub fn sim_ca_for(url: &str, common: &Common) -> Result<Option<String>, CliError> {
    if !url.starts_with("https://") {
        return Ok(None);
    }
    let Some(path) = &common.sim_ca else {
        return Err(CliError::help(
            format!(
                "the simulated cloud at {url} serves HTTPS with a CA of its own, and no --sim-ca names it"
            ),
            "pass --sim-ca PATH (or PLINTH_SIM_CA=PATH), the CA certificate `plinth sim serve --tls` printed",
        ));
    };
    let cannot = |why: String| {
        CliError::help(
            format!("--sim-ca {}: {why}", path.display()),
            "pass the CA certificate file `plinth sim serve --tls` printed (WORLD.ca.pem)",
        )
    };
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err(cannot("is not a regular file".into())),
        Ok(m) if m.len() > MAX_CA_BYTES => {
            return Err(cannot(format!(
                "is {} bytes, too large for a CA certificate",
                m.len()
            )));
        }
        Ok(_) => {}
        Err(e) => return Err(cannot(format!("cannot be read: {e}"))),
    }
    let pem = std::fs::read_to_string(path).map_err(|e| cannot(format!("cannot be read: {e}")))?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(cannot("is not a PEM certificate".into()));
    }
    Ok(Some(pem))
}

/// The simulated cloud a command uses (`--sim`).
pub struct SimSession {
    /// Where providers reach it.
    pub url: String,
    /// The CA certificate (PEM) its HTTPS is trusted by, when it serves HTTPS.
    pub ca_pem: Option<String>,
    /// Set when plinth started it in-process; it stops with the command (its world is saved
    /// after every change).
    _handle: Option<plinth_sim::SimHandle>,
}

/// Connects to the simulated cloud `--sim` names, or starts one in-process. Providers reach
/// it over HTTP, exactly as they reach Azure.
pub async fn attach_sim(loaded: &mut Loaded, common: &Common) -> Result<(), CliError> {
    let Some(target) = &common.sim else {
        return Ok(());
    };
    if target == crate::IN_PROCESS {
        // Private, like the state directory the local backend creates: the world holds the
        // simulated objects' secrets.
        let state_dir = loaded.dir.join(".plinth");
        {
            use std::os::unix::fs::DirBuilderExt as _;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&state_dir)
                .map_err(|e| {
                    CliError::msg(format!("cannot create {}: {e}", state_dir.display()))
                })?;
        }
        let latency = match std::env::var("PLINTH_SIM_LATENCY") {
            Ok(l) => l
                .parse()
                .map_err(|e: String| CliError::msg(format!("PLINTH_SIM_LATENCY: {e}")))?,
            Err(_) => plinth_sim::Latency::Demo,
        };
        let config = plinth_sim::SimConfig {
            latency,
            world_file: Some(state_dir.join("sim-world.json")),
            ..Default::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| CliError::msg(format!("cannot start the simulated cloud: {e}")))?;
        // HTTPS, as a `plinth sim serve --tls`: its CA is kept with the world
        // (.plinth/sim-world.ca.pem), and the providers trust exactly that.
        let handle = plinth_sim::start_tls(listener, config)
            .await
            .map_err(|e| CliError::msg(format!("cannot start the simulated cloud: {e}")))?;
        handle
            .shared
            .save()
            .map_err(|e| CliError::msg(format!("cannot save the simulated cloud's world: {e}")))?;
        loaded.sim = Some(SimSession {
            url: handle.url.clone(),
            ca_pem: handle.ca.as_ref().map(|ca| ca.pem().to_string()),
            _handle: Some(handle),
        });
        announce(
            loaded,
            common,
            "started in-process; its world is kept in .plinth/sim-world.json",
        );
        return configure_providers(loaded);
    }
    let url = target.trim_end_matches('/').to_string();
    attach_sim_at(loaded, common, url, "a running `plinth sim serve`").await
}

/// Connects to the simulated cloud at `url` (checking that it answers), announced as `how`
/// (`plinth test` announces the cloud it started for a test file).
pub async fn attach_sim_at(
    loaded: &mut Loaded,
    common: &Common,
    url: String,
    how: &str,
) -> Result<(), CliError> {
    let ca_pem = sim_ca_for(&url, common)?;
    let answers = match &ca_pem {
        None => sim_answers(&url).await,
        Some(pem) => sim_answers_tls(&url, pem).await?,
    };
    if !answers {
        return Err(CliError::help(
            format!("no simulated cloud answers at {url}"),
            "start one with `plinth sim serve` and pass the URL it prints, or use a bare --sim to run one in-process",
        ));
    }
    loaded.sim = Some(SimSession {
        url,
        ca_pem,
        _handle: None,
    });
    announce(loaded, common, how);
    configure_providers(loaded)
}

/// Says which simulated cloud this command talks to (a `sim` event with `--json`).
fn announce(loaded: &Loaded, common: &Common, how: &str) {
    let Some(sim) = &loaded.sim else { return };
    if common.json {
        outln!(
            "{}",
            serde_json::json!({"type": "sim", "url": sim.url, "how": how})
        );
    } else {
        eprintln!("Using the simulated cloud at {} ({how}).", sim.url);
    }
}

/// True when `GET {url}/_sim/health` answers 200.
async fn sim_answers(url: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(host) = url.strip_prefix("http://") else {
        return false;
    };
    let host = host.split('/').next().unwrap_or(host);
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(host).await.ok()?;
        let req = format!("GET /_sim/health HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(5), probe).await,
        Ok(Some(true))
    )
}

/// True when `GET {url}/_sim/health` answers 200 over HTTPS, trusting exactly `ca_pem`; a
/// certificate that CA did not sign is an error that says which CA to pass.
async fn sim_answers_tls(url: &str, ca_pem: &str) -> Result<bool, CliError> {
    let timeouts = plinth_provider_azure::HttpTimeouts {
        connect: std::time::Duration::from_secs(5),
        request: std::time::Duration::from_secs(5),
    };
    let client = timeouts
        .client_trusting(Some(ca_pem))
        .map_err(|e| CliError::msg(format!("--sim-ca: {e}")))?;
    match client.get(format!("{url}/_sim/health")).send().await {
        Ok(resp) => Ok(resp.status().as_u16() == 200),
        Err(e) => {
            let mut chain = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                chain.push_str(&format!(": {s}"));
                source = s.source();
            }
            if chain.contains("UnknownIssuer") || chain.contains("invalid peer certificate") {
                return Err(CliError::help(
                    format!(
                        "the simulated cloud at {url} has a certificate signed by an unknown authority (not the CA in --sim-ca)"
                    ),
                    "pass --sim-ca PATH printed by `plinth sim serve --tls` for this simulator (its world's WORLD.ca.pem)",
                ));
            }
            Ok(false)
        }
    }
}

/// A loaded configuration directory.
pub struct Loaded {
    pub dir: PathBuf,
    pub config: Config,
    pub vars: BTreeMap<String, Value>,
    pub env: BTreeMap<String, String>,
    pub registry: Registry,
    /// The simulated cloud, with `--sim`.
    pub sim: Option<SimSession>,
}

impl Loaded {
    /// The engine's view of what was loaded.
    pub fn workspace(&self) -> plinth_engine::Workspace<'_> {
        plinth_engine::Workspace {
            config: &self.config,
            vars: &self.vars,
            env: &self.env,
            registry: &self.registry,
            dir: &self.dir,
        }
    }

    pub fn digest(&self) -> String {
        self.workspace().digest()
    }
}

/// What `${env.NAME}` reads: the process's environment, with `PLINTH_ENV` set to the
/// selected environment (`--env` or `PLINTH_ENV`; "default" without either), so expressions
/// can size or name things per environment.
fn environment_variables() -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    env.insert(
        "PLINTH_ENV".to_string(),
        crate::environment::environment().to_string(),
    );
    env
}

pub fn absolute(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Reads the configuration and resolves variables from the command line and environment.
pub fn load(dir: &Path, common: &Common) -> Result<Loaded, CliError> {
    let inputs = VarInputs {
        files: common.var_files.clone(),
        cli: common.vars.clone(),
        env: std::env::vars().collect(),
    };
    load_with(dir, |config| {
        plinth_config::resolve_variables(config, &inputs)
    })
}

/// `dir`, checked to be a directory, made absolute.
fn config_dir(dir: &Path) -> Result<PathBuf, CliError> {
    if !dir.is_dir() {
        return Err(CliError::help(
            format!("{} is not a directory", dir.display()),
            "pass a directory holding *.toml files (default: the current directory)",
        ));
    }
    Ok(absolute(dir))
}

/// Reads the configuration in `dir` and the modules it calls, fetching git module sources
/// into `DIR/.plinth/modules/` as `mode` says and writing `DIR/plinth.lock` if that changed
/// it (under `Mode::Use`, only to add sources it did not hold: the first `plan`, which says
/// so on stderr).
pub fn read_config(dir: &Path, mode: Mode) -> Result<(Config, Outcome), CliError> {
    read_config_in(&config_dir(dir)?, mode)
}

/// [`read_config`] for a directory [`config_dir`] has already checked and made absolute.
fn read_config_in(dir: &Path, mode: Mode) -> Result<(Config, Outcome), CliError> {
    let resolver = GitResolver::new(dir, mode).map_err(CliError::msg)?;
    let config =
        plinth_config::load_dir_with(dir, &resolver).map_err(|(s, d)| CliError::Config(s, d))?;
    let outcome = resolver.finish().map_err(CliError::msg)?;
    if mode == Mode::Use {
        for r in outcome.resolved.iter().filter(|r| r.fetched || r.new) {
            let locked = if r.new { ", locked in plinth.lock" } else { "" };
            eprintln!(
                "Fetched module source {} (commit {}{locked}).",
                r.source,
                plinth_fetch::short(&r.commit)
            );
        }
    }
    Ok((config, outcome))
}

/// Reads the configuration with variables already resolved (from a saved plan).
pub fn load_with(
    dir: &Path,
    vars: impl FnOnce(&mut Config) -> Result<BTreeMap<String, Value>, Diagnostics>,
) -> Result<Loaded, CliError> {
    let dir = config_dir(dir)?;
    let (mut config, _) = read_config_in(&dir, Mode::Use)?;
    let vars = vars(&mut config).map_err(|d| CliError::Config(config.sources.clone(), d))?;
    let mut loaded = Loaded {
        dir,
        config,
        vars,
        env: environment_variables(),
        registry: registry(),
        sim: None,
    };
    configure_providers(&mut loaded)?;
    Ok(loaded)
}

/// Reads the configuration without resolving variables or provider settings (for
/// `validate` and `graph`, which need neither).
pub fn load_unresolved(dir: &Path) -> Result<Loaded, CliError> {
    let dir = config_dir(dir)?;
    let (config, _) = read_config_in(&dir, Mode::Use)?;
    Ok(Loaded {
        dir,
        config,
        vars: BTreeMap::new(),
        env: environment_variables(),
        registry: registry(),
        sim: None,
    })
}
