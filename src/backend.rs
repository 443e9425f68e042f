//! Which state backend a configuration names (`[backend]`: local by default, or azure-blob
//! with its settings checked and located, and credentials from the environment or the Azure
//! provider's identity), and which environment's state in it (`--env`, see
//! [`select_environment`]).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use plinth_config::{BackendDecl, Config, Diagnostic, Diagnostics, Node, NodeKind, Sources};
use plinth_state::azure::{AzureBlobConfig, TokenProvider};
use plinth_state::environment;
use plinth_state::{AzureBlobBackend, Backend, LocalBackend};

pub use crate::environment::{environment, select_environment};
use crate::error::CliError;
use crate::workspace::{Loaded, absolute};

/// The keys `[backend] type = "azure-blob"` takes.
const AZURE_BLOB_KEYS: &[&str] = &["account", "container", "key", "endpoint"];

/// The scope of Azure Storage tokens.
const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// The state backend a configuration names (default: local, under `<dir>/.plinth/`), for the
/// selected environment.
pub fn of(loaded: &Loaded) -> Result<Box<dyn Backend>, CliError> {
    for_config(&loaded.dir, Some(&loaded.config))
}

/// The local state directory of the default environment: `[backend] path`, else
/// `<dir>/.plinth`. Environments keep theirs under it (`env/NAME/`).
pub fn local_base(dir: &Path, config: Option<&Config>) -> std::path::PathBuf {
    let dir = absolute(dir);
    let path = config
        .and_then(|c| c.backend.as_ref())
        .filter(|b| b.type_name == "local")
        .and_then(|b| setting(b, "path"));
    match path {
        Some(p) => dir.join(p),
        None => dir.join(".plinth"),
    }
}

/// `[backend] KEY` when it is a plain string.
fn setting(b: &BackendDecl, key: &str) -> Option<String> {
    b.config.entry(key).and_then(static_str)
}

/// A node's value when it is a plain string (no `${...}`).
fn static_str(node: &Node) -> Option<String> {
    node.static_value()
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The backend for a directory, reading `[backend]` if the configuration is at hand.
fn for_config(dir: &Path, config: Option<&Config>) -> Result<Box<dyn Backend>, CliError> {
    let local = || -> Result<Box<dyn Backend>, CliError> {
        let state_dir = environment::local_dir(&local_base(dir, config), environment());
        Ok(Box::new(LocalBackend::new(state_dir)))
    };
    match config.and_then(|c| c.backend.as_ref()) {
        None => local(),
        Some(b) if b.type_name == "local" => local(),
        Some(b) if b.type_name == "azure-blob" => {
            let sources = config.map(|c| c.sources.clone()).unwrap_or_default();
            azure_blob(b, &sources)
        }
        Some(b) => {
            let sources = config.map(|c| c.sources.clone()).unwrap_or_default();
            let d = {
                Diagnostic::at(
                    format!("unknown backend type `{}`", b.type_name),
                    b.loc.clone(),
                )
                .label("expected \"local\" or \"azure-blob\"")
                .maybe_help(
                    plinth_config::did_you_mean(&b.type_name, ["local", "azure-blob"])
                        .map(|s| format!("did you mean `{s}`?")),
                )
            };
            Err(CliError::Config(sources, d.into()))
        }
    }
}

/// Loads a directory's configuration only as far as its backend needs (commands such as
/// `state list` and `output` work even when variables are missing).
pub fn of_dir(dir: &Path) -> Result<Box<dyn Backend>, CliError> {
    for_config(dir, backend_config(dir).as_ref())
}

/// The configuration as far as it can be read for its `[backend]`: through the module
/// resolver (so a configuration with git module sources still names its backend, rather
/// than seeming to have none), else local modules only, else none.
fn backend_config(dir: &Path) -> Option<Config> {
    crate::workspace::read_config(dir, plinth_fetch::Mode::Use)
        .map(|(config, _)| config)
        .ok()
        .or_else(|| plinth_config::load_dir(&absolute(dir)).ok())
}

/// The environments that have state in a directory's backend (local: `.plinth/` and
/// `.plinth/env/*/`, see `plinth_state::environment`).
pub fn environments_of_dir(dir: &Path) -> Result<Vec<String>, CliError> {
    let config = backend_config(dir);
    match config.as_ref().and_then(|c| c.backend.as_ref()) {
        Some(b) if b.type_name != "local" => {
            let sources = config
                .as_ref()
                .map(|c| c.sources.clone())
                .unwrap_or_default();
            let key = setting(b, "key").unwrap_or_else(|| "KEY".to_string());
            Err(CliError::Config(
                sources,
                Diagnostic::at(
                    format!(
                        "`plinth env list` lists the environments of local state; this configuration keeps its state in `{}`",
                        b.type_name
                    ),
                    b.loc.clone(),
                )
                .label("this backend")
                .help(format!(
                    "each environment's state is the blob `{key}env:NAME` beside `{key}` (the default environment's); list them with `az storage blob list --container-name CONTAINER --prefix '{key}env:' --query '[].name'`"
                ))
                .into(),
            ))
        }
        _ => Ok(environment::local_environments(&local_base(
            dir,
            config.as_ref(),
        ))?),
    }
}

/// The azure-blob backend `[backend]` describes, with credentials from the environment.
fn azure_blob(b: &BackendDecl, sources: &Sources) -> Result<Box<dyn Backend>, CliError> {
    let mut diags = Diagnostics::default();
    let mut config = AzureBlobConfig::default();
    if let NodeKind::Table(entries) = &b.config.kind {
        for (key, key_loc, node) in entries {
            if !AZURE_BLOB_KEYS.contains(&key.as_str()) {
                diags.push(
                    Diagnostic::at(
                        format!("unknown azure-blob backend setting `{key}`"),
                        key_loc.clone(),
                    )
                    .label("not an azure-blob setting")
                    .help(
                        match plinth_config::did_you_mean(key, AZURE_BLOB_KEYS.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("the settings are: {}", AZURE_BLOB_KEYS.join(", ")),
                        },
                    ),
                );
                continue;
            }
            let Some(value) = static_str(node) else {
                diags.push(
                    Diagnostic::at(
                        format!("[backend] `{key}` must be a plain string"),
                        node.loc.clone(),
                    )
                    .label("expected a string without ${...}")
                    .help("the backend is read before variables and resources exist"),
                );
                continue;
            };
            match key.as_str() {
                "account" => config.account = Some(value),
                "endpoint" => config.endpoint = Some(value),
                "container" => config.container = value,
                _ => config.key = value,
            }
        }
    }
    for (name, value) in [("container", &config.container), ("key", &config.key)] {
        if value.trim().is_empty() {
            diags.push(
                Diagnostic::at(
                    format!("the azure-blob backend needs `{name}`"),
                    b.loc.clone(),
                )
                .label("in this [backend]")
                .help(
                    "e.g. account = \"mystorage\", container = \"tfstate\", key = \"prod.plinth.json\"",
                ),
            );
        }
    }
    if !diags.is_empty() {
        return Err(CliError::Config(sources.clone(), diags));
    }
    let config = config.for_environment(environment());
    let token: Arc<dyn TokenProvider> = Arc::new(IdentityTokens::default());
    let backend = AzureBlobBackend::from_config(&config, |n| std::env::var(n).ok(), Some(token))
        .map_err(|e| {
            CliError::Config(
                sources.clone(),
                Diagnostic::at(format!("azure-blob backend: {e}"), b.loc.clone())
                    .label("this backend")
                    .into(),
            )
        })?;
    Ok(Box::new(backend))
}

/// Entra tokens for Azure Storage from the Azure provider's credentials (`ARM_*`/`AZURE_*`,
/// workload identity, managed identity, Azure CLI), built on first use.
#[derive(Default)]
struct IdentityTokens {
    source: tokio::sync::OnceCell<Result<plinth_provider_azure::IdentityTokenSource, String>>,
}

impl TokenProvider for IdentityTokens {
    fn token(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move {
            let source = self
                .source
                .get_or_init(|| async {
                    // Token requests get the same connect and request timeouts as ARM's.
                    let http = plinth_provider_azure::HttpTimeouts::default()
                        .client()
                        .map_err(|e| e.to_string())?;
                    plinth_provider_azure::IdentityTokenSource::new(
                        &plinth_provider_azure::CredentialConfig::from_env(),
                        &http,
                    )
                    .map_err(|e| e.to_string())
                })
                .await
                .as_ref()
                .map_err(Clone::clone)?;
            use plinth_provider_azure::TokenSource as _;
            source
                .token(STORAGE_SCOPE)
                .await
                .map(|t| t.token)
                .map_err(|e| e.to_string())
        })
    }
}
