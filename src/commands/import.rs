//! `plinth import ADDRESS ID`: adopts an existing object into state under a declared address.

use std::path::Path;

use plinth_engine::Address;
use plinth_state::Change;

use super::shared::load_warned;
use crate::Common;
use crate::backend;
use crate::error::CliError;
use crate::workspace;

pub(super) async fn import(
    address: &str,
    id: &str,
    dir: &Path,
    common: &Common,
) -> Result<u8, CliError> {
    let mut loaded = workspace::load(dir, common)?;
    workspace::attach_sim(&mut loaded, common).await?;
    let addr = address
        .parse::<Address>()
        .map_err(|e| CliError::msg(e.to_string()))?;
    let backend = backend::of(&loaded)?;
    let _lock = backend.lock("import", common.lock_timeout)?;
    let state = load_warned(backend.as_ref())?.unwrap_or_default();
    let record = plinth_engine::import(&loaded.workspace(), &state, &addr, id)
        .await
        .map_err(|e| CliError::engine(&loaded.config.sources, e))?;
    let key = record.address.clone();
    let mut writer = backend.open_writer(state)?;
    writer.record(Change::Put(Box::new(record)))?;
    writer.compact()?;
    outln!(
        "Imported `{key}` ({id}). Run `plinth plan` to see how the configuration differs from it."
    );
    Ok(0)
}

/// What `plan --generate-config` did, for the plan that follows.
pub(super) enum Outcome {
    /// The file was written inside the configuration directory: reload it, then plan.
    Reload,
    /// Every import target is declared: nothing written, plan as it is.
    Unchanged,
    /// The file was written outside the directory: the user moves it in, nothing is planned.
    Outside,
}

/// `plinth plan --generate-config FILE`: writes configuration for the `[[import]]` blocks
/// whose `to` is undeclared (a new file: an existing one is never overwritten).
pub(super) async fn generate(
    loaded: &workspace::Loaded,
    state: Option<&plinth_state::State>,
    file: &Path,
    dir: &Path,
    common: &Common,
) -> Result<Outcome, CliError> {
    if file.exists() || file.symlink_metadata().is_ok() {
        return Err(CliError::help(
            format!("{} already exists", file.display()),
            "--generate-config writes a new file and never overwrites one: name another file, or remove this one (merge what you need from it into your configuration first)",
        ));
    }
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let inside = workspace::absolute(&parent) == workspace::absolute(dir);
    if inside && file.extension().and_then(|e| e.to_str()) != Some("toml") {
        return Err(CliError::help(
            format!("{} does not end in .toml", file.display()),
            "name the generated file NAME.toml so that it is read as part of the configuration, e.g. --generate-config generated.toml",
        ));
    }
    let generated = plinth_engine::generate_config(&loaded.workspace(), state)
        .await
        .map_err(|e| CliError::engine(&loaded.config.sources, e))?;
    let Some(generated) = generated else {
        if !common.json {
            outln!(
                "Every [[import]] block's `to` is declared: no configuration to generate, {} was not written.\n",
                file.display()
            );
        }
        return Ok(Outcome::Unchanged);
    };
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(file)?;
        f.write_all(generated.text.as_bytes())?;
        f.sync_all()
    };
    write().map_err(|e| CliError::msg(format!("cannot write {}: {e}", file.display())))?;
    if common.json {
        outln!(
            "{}",
            serde_json::json!({"type": "config_generated", "file": file.display().to_string(), "addresses": generated.addresses})
        );
    } else {
        outln!(
            "Wrote configuration for {} imported object(s) to {}: {}. Review it before committing.\n",
            generated.addresses.len(),
            file.display(),
            generated.addresses.join(", ")
        );
    }
    if !inside {
        if !common.json {
            outln!(
                "{} is outside the configuration directory {}: move it into {} and run `plinth plan` again to plan the imports with it.",
                file.display(),
                dir.display(),
                dir.display()
            );
        }
        return Ok(Outcome::Outside);
    }
    Ok(Outcome::Reload)
}
