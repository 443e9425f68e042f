//! The `state` commands: `list`, `show`, `rm` and `mv` edit or print records; `pull`, `push`
//! and `migrate` move whole states between files and backends; and `force-unlock`.

use std::path::Path;

use plinth_engine::Address;
use plinth_state::{Backend, Change, LocalBackend, State, Status};

use super::shared::{load_warned, status_text};
use super::show::{record_json, record_text};
use crate::backend;
use crate::error::CliError;
use crate::workspace;
use crate::{Common, StateCommand};

pub(super) fn state_cmd(command: StateCommand) -> Result<u8, CliError> {
    match command {
        StateCommand::Pull { dir, .. } => pull(&dir),
        StateCommand::Push {
            file,
            force,
            dir,
            common,
        } => push(&file, force, &dir, &common),
        StateCommand::Migrate { from, dir, common } => migrate(&dir, from.as_deref(), &common),
        StateCommand::List { dir, common } => {
            let backend = backend::of_dir(&dir)?;
            let state = load_warned(backend.as_ref())?.unwrap_or_default();
            if common.json {
                let list: Vec<&str> = state.resources.keys().map(String::as_str).collect();
                outln!("{}", serde_json::json!(list));
            } else {
                for (a, r) in &state.resources {
                    match r.status {
                        Status::Created => outln!("{a}"),
                        s => outln!("{a} ({})", status_text(s)),
                    }
                }
            }
            Ok(0)
        }
        StateCommand::Show {
            address,
            dir,
            show_sensitive,
            common,
        } => {
            let backend = backend::of_dir(&dir)?;
            let state = load_warned(backend.as_ref())?.unwrap_or_default();
            let registry = workspace::registry();
            let r = find_record(&state, &address)?;
            if common.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&record_json(&registry, r, show_sensitive))
                        .unwrap_or_default()
                );
            } else {
                out!("{}", record_text(&registry, r, show_sensitive));
            }
            Ok(0)
        }
        StateCommand::Rm {
            addresses,
            dir,
            common,
        } => {
            let backend = backend::of_dir(&dir)?;
            let _lock = backend.lock("state rm", common.lock_timeout)?;
            let state = load_warned(backend.as_ref())?.unwrap_or_default();
            let mut remove = Vec::new();
            for a in &addresses {
                let prefix = format!("{a}[");
                let hits: Vec<String> = state
                    .resources
                    .keys()
                    .filter(|k| *k == a || k.starts_with(&prefix))
                    .cloned()
                    .collect();
                if hits.is_empty() {
                    find_record(&state, a)?;
                }
                remove.extend(hits);
            }
            let mut writer = backend.open_writer(state)?;
            for a in &remove {
                writer.record(Change::Remove { address: a.clone() })?;
                outln!("Removed {a} from state (the object itself was not touched).");
            }
            writer.compact()?;
            Ok(0)
        }
        StateCommand::Mv {
            from,
            to,
            dir,
            common,
        } => {
            let to_addr = to
                .parse::<Address>()
                .map_err(|e| CliError::msg(e.to_string()))?;
            let backend = backend::of_dir(&dir)?;
            let _lock = backend.lock("state mv", common.lock_timeout)?;
            let state = load_warned(backend.as_ref())?.unwrap_or_default();
            find_record(&state, &from)?;
            let to = to_addr.to_string();
            if state.resources.contains_key(&to) {
                return Err(CliError::help(
                    format!("`{to}` is already in state"),
                    "remove it first with `plinth state rm`, or choose another address",
                ));
            }
            let mut writer = backend.open_writer(state)?;
            // One journal record: a crash never leaves the object under both addresses.
            writer.record(Change::Move {
                from: from.clone(),
                to: to.clone(),
            })?;
            writer.compact()?;
            outln!("Moved {from} to {to}.");
            Ok(0)
        }
    }
}

fn find_record<'s>(
    state: &'s State,
    address: &str,
) -> Result<&'s plinth_state::ResourceState, CliError> {
    let normal = address
        .parse::<Address>()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| address.to_string());
    state.resources.get(&normal).ok_or_else(|| {
        let keys: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        CliError::help(
            format!("`{address}` is not in state"),
            match plinth_config::did_you_mean(address, keys.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "`plinth state list` shows what is".into(),
            },
        )
    })
}

/// `plinth state pull`: the current state (snapshot plus journal) as JSON on stdout.
fn pull(dir: &Path) -> Result<u8, CliError> {
    let backend = backend::of_dir(dir)?;
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
fn push(file: &Path, force: bool, dir: &Path, common: &Common) -> Result<u8, CliError> {
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
    let backend = backend::of_dir(dir)?;
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
fn migrate(dir: &Path, from: Option<&Path>, common: &Common) -> Result<u8, CliError> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let from = from.map(Path::to_path_buf).unwrap_or_else(|| {
        plinth_state::environment::local_dir(&dir.join(".plinth"), backend::environment())
    });
    let from = std::fs::canonicalize(&from).unwrap_or(from);
    let old = LocalBackend::new(from.clone());
    let new = backend::of_dir(&dir)?;
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

/// `plinth force-unlock ID`: removes a stale lock.
pub(super) fn force_unlock(id: &str, dir: &Path) -> Result<u8, CliError> {
    let backend = backend::of_dir(dir)?;
    backend.force_unlock(id)?;
    outln!(
        "Lock {id} removed. plinth will not guard against a concurrent run that still believes it holds it."
    );
    Ok(0)
}
