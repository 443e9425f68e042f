//! The `azure-blob` backend's `[backend]` settings and credentials, and the commands that move
//! whole states between backends: `state pull`, `state push` and `state migrate`.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use plinth_config::{BackendDecl, Diagnostic, Diagnostics, NodeKind, Sources};
use plinth_state::azure::{AzureBlobConfig, TokenProvider};
use plinth_state::{AzureBlobBackend, Backend, LocalBackend, State};

use crate::Common;
use crate::workspace::{self, CliError};

/// The keys `[backend] type = "azure-blob"` takes.
const AZURE_BLOB_KEYS: &[&str] = &["account", "container", "key", "endpoint"];
/// The scope of Azure Storage tokens.
const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// The azure-blob backend `[backend]` describes, with credentials from the environment.
pub fn azure_blob(b: &BackendDecl, sources: &Sources) -> Result<Box<dyn Backend>, CliError> {
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
            let value = node
                .static_value()
                .and_then(|v| v.as_str().map(str::to_string));
            let Some(value) = value else {
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
                    let http = reqwest::Client::new();
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

/// Loads the state for a `state` subcommand, printing the load's warnings (a dropped torn
/// record, skipped records, loose file modes) on stderr as `plan` does, so that stdout stays
/// what the command prints (JSON with `--json`).
pub fn load_warned(backend: &dyn Backend) -> Result<Option<State>, CliError> {
    let loaded = backend.load()?;
    for w in &loaded.warnings {
        eprintln!("Warning: {w}");
    }
    Ok(loaded.state)
}

/// `plinth state pull`: the current state (snapshot plus journal) as JSON on stdout.
pub fn pull(dir: &Path) -> Result<u8, CliError> {
    let backend = workspace::backend_of_dir(dir)?;
    let Some(state) = load_warned(backend.as_ref())? else {
        eprintln!("There is no state yet in {}.", backend.describe());
        return Ok(0);
    };
    let json = serde_json::to_string_pretty(&state)
        .map_err(|e| CliError::msg(format!("cannot encode the state: {e}")))?;
    outln!("{json}");
    Ok(0)
}

/// `plinth state push FILE`: replaces the stored state with FILE's, under the lock.
pub fn push(file: &Path, force: bool, dir: &Path, common: &Common) -> Result<u8, CliError> {
    let data =
        plinth_state::read_regular(file, plinth_state::MAX_STATE_FILE_BYTES)?.ok_or_else(|| {
            CliError::help(
                format!("cannot read {}: no such file", file.display()),
                "push a file written by `plinth state pull` (or a .plinth/state.json)",
            )
        })?;
    let mut pushed: State = serde_json::from_slice(&data).map_err(|e| {
        CliError::help(
            format!("{} is not a plinth state file: {e}", file.display()),
            "push a file written by `plinth state pull` (or a .plinth/state.json)",
        )
    })?;
    if pushed.format != plinth_state::STATE_FORMAT {
        return Err(CliError::msg(format!(
            "{} has format {:?}, but this plinth writes {:?}",
            file.display(),
            pushed.format,
            plinth_state::STATE_FORMAT
        )));
    }
    if pushed.serial > plinth_state::MAX_PUSHED_SERIAL {
        // Counting on from it would soon pass the largest serial plinth records (and an
        // older plinth wrapped around to 0, losing the changes recorded after).
        return Err(CliError::help(
            format!(
                "refusing to push {}: its serial {} is beyond {}, the largest serial plinth accepts in a pushed state",
                file.display(),
                pushed.serial,
                plinth_state::MAX_PUSHED_SERIAL
            ),
            "serials count saved changes; set \"serial\" in the file to the stored state's serial (`plinth state pull` shows it) or any small number, and push again",
        ));
    }
    let backend = workspace::backend_of_dir(dir)?;
    let _lock = backend.lock("state push", common.lock_timeout)?;
    let stored = load_warned(backend.as_ref())?;
    if let Some(stored) = &stored {
        let refuse = |what: String| {
            Err(CliError::help(
                format!("refusing to push {}: {what}", file.display()),
                "pull the current state and merge your change into it, or pass --force to replace it (it keeps the stored lineage and continues its serial)",
            ))
        };
        if stored.lineage != pushed.lineage {
            if !force {
                return refuse(format!(
                    "it is lineage {}, but {} holds lineage {}",
                    pushed.lineage,
                    backend.describe(),
                    stored.lineage
                ));
            }
            pushed.lineage = stored.lineage.clone();
        }
        if pushed.serial < stored.serial || (pushed.serial == stored.serial && pushed != *stored) {
            if !force {
                return refuse(format!(
                    "it is at serial {}, but {} is at serial {}{}",
                    pushed.serial,
                    backend.describe(),
                    stored.serial,
                    if pushed.serial == stored.serial {
                        " with other content"
                    } else {
                        ", newer"
                    }
                ));
            }
            // Never reuse a serial: whatever recorded the stored one must see a change.
            pushed.serial = plinth_state::next_serial(stored.serial).ok_or_else(|| {
                CliError::help(
                    format!(
                        "refusing to push {}: {} is at serial {}, and plinth records changes only up to serial {}",
                        file.display(),
                        backend.describe(),
                        stored.serial,
                        plinth_state::MAX_SERIAL
                    ),
                    "move the stored state aside (for the local backend: the files in .plinth/), then push the file without --force",
                )
            })?;
        }
        if pushed == *stored {
            outln!(
                "{} already holds this state (serial {}).",
                backend.describe(),
                stored.serial
            );
            return Ok(0);
        }
    }
    let mut writer = backend.open_writer(pushed)?;
    writer.compact()?;
    let serial = writer.state().serial;
    outln!(
        "Pushed {} to {} (lineage {}, serial {serial}).",
        file.display(),
        backend.describe(),
        writer.state().lineage
    );
    Ok(0)
}

/// `plinth state migrate`: moves the local state in `from` (default DIR/.plinth) to the
/// backend `[backend]` names, under both locks, keeping lineage and serial; then renames the
/// local snapshot to `state.json.migrated` so it cannot be used by mistake.
pub fn migrate(dir: &Path, from: Option<&Path>, common: &Common) -> Result<u8, CliError> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let from = from
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join(".plinth"));
    let from = std::fs::canonicalize(&from).unwrap_or(from);
    let old = LocalBackend::new(from.clone());
    let new = workspace::backend_of_dir(&dir)?;
    if new.describe() == old.describe() {
        return Err(CliError::help(
            format!("the configuration's backend is already {}", old.describe()),
            "set [backend] type = \"azure-blob\" (account, container, key) first, then migrate",
        ));
    }
    let _old_lock = old.lock("state migrate", common.lock_timeout)?;
    let _new_lock = new.lock("state migrate", common.lock_timeout)?;
    let loaded = match load_warned(&old) {
        Err(_) if from.join(plinth_state::MIGRATED_FILE).exists() => {
            return Err(CliError::help(
                format!(
                    "there is no state to migrate in {}: it was migrated already (its last local copy is {})",
                    old.describe(),
                    from.join(plinth_state::MIGRATED_FILE).display()
                ),
                "the configuration's [backend] holds the state now",
            ));
        }
        loaded => loaded?,
    };
    let Some(state) = loaded else {
        return Err(CliError::help(
            format!("there is no state to migrate in {}", old.describe()),
            "pass --from DIR if the local state lives elsewhere",
        ));
    };
    match new.load()?.state {
        None => {
            let mut writer = new.open_writer(state.clone())?;
            writer.compact()?;
        }
        // A migration that stopped after copying: finish it.
        Some(existing) if existing == state => {}
        Some(existing) => {
            return Err(CliError::help(
                format!(
                    "{} already holds a state (lineage {}, serial {}); refusing to overwrite it with {} (lineage {}, serial {})",
                    new.describe(),
                    existing.lineage,
                    existing.serial,
                    old.describe(),
                    state.lineage,
                    state.serial
                ),
                "if the local state is the one to keep, `plinth state push --force` it; otherwise remove the local state",
            ));
        }
    }
    // Verify before retiring the old copy.
    let copied = new.load()?.state;
    if copied.as_ref() != Some(&state) {
        return Err(CliError::msg(format!(
            "after copying, {} does not read back as the migrated state; the local state was left in place",
            new.describe()
        )));
    }
    // Fold the local journal into the snapshot, then retire the snapshot.
    let mut writer = old.open_writer(state.clone())?;
    writer.compact()?;
    drop(writer);
    let snapshot = old.snapshot_path();
    let retired = from.join(plinth_state::MIGRATED_FILE);
    std::fs::rename(&snapshot, &retired).map_err(|e| {
        CliError::msg(format!(
            "the state was copied, but {} could not be renamed: {e}; remove it by hand",
            snapshot.display()
        ))
    })?;
    let journal = old.journal_path();
    if std::fs::metadata(&journal).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(&journal);
    }
    outln!(
        "Migrated lineage {} at serial {} ({} resources) from {} to {}. The local snapshot is kept as {}.",
        state.lineage,
        state.serial,
        state.resources.len(),
        old.describe(),
        new.describe(),
        retired.display()
    );
    Ok(0)
}
