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
