//! The commands that read only the configuration: `validate`, `graph` and `schema`.

use std::path::Path;

use crate::error::CliError;
use crate::workspace;
use crate::{Common, GraphFormat};

pub(super) fn validate(dir: &Path, common: &Common) -> Result<u8, CliError> {
    let loaded = workspace::load_unresolved(dir)?;
    let diags = plinth_engine::validate(&loaded.config, &loaded.registry);
    if !diags.is_empty() {
        return Err(CliError::Config(loaded.config.sources, diags));
    }
    plinth_engine::build_graph(&loaded.config, &loaded.registry)
        .map_err(|d| CliError::Config(loaded.config.sources.clone(), d.into()))?;
    if common.json {
        outln!(
            "{}",
            serde_json::json!({"type": "valid", "resources": loaded.config.resources.len()})
        );
    } else {
        outln!("The configuration is valid.");
    }
    Ok(0)
}

pub(super) fn graph(dir: &Path, format: GraphFormat) -> Result<u8, CliError> {
    let loaded = workspace::load_unresolved(dir)?;
    let g = plinth_engine::build_graph(&loaded.config, &loaded.registry)
        .map_err(|d| CliError::Config(loaded.config.sources.clone(), d.into()))?;
    let label = |d: &plinth_engine::Decl| plinth_engine::decl_address(&loaded.config, *d);
    match format {
        GraphFormat::Dot => out!("{}", g.dag.to_dot(label)),
        GraphFormat::Mermaid => out!("{}", g.dag.to_mermaid(label)),
    }
    Ok(0)
}

/// `plinth schema`: a JSON Schema of the configuration format, for editors.
pub(super) fn schema() -> Result<u8, CliError> {
    let schema = crate::schema::json_schema(&workspace::registry());
    outln!(
        "{}",
        serde_json::to_string_pretty(&schema).unwrap_or_default()
    );
    Ok(0)
}
