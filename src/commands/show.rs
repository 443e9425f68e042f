//! `plinth show`: a saved plan in any of its renderings, or the state; and how a state record
//! is printed (also by `state show`), marked through the provider's path mapping and
//! redacted unless revealed.

use std::path::Path;

use plinth_provider::Registry;
use plinth_state::Status;
use plinth_value::Value;

use super::shared::{
    check_fail_on, load_warned, print_outputs, read_plan_file, status_text, text_opts,
};
use crate::backend;
use crate::error::CliError;
use crate::workspace;
use crate::{Common, FailOn, ShowFormat};

pub(super) fn show(
    file: Option<&Path>,
    format: ShowFormat,
    reveal: bool,
    fail_on: &[FailOn],
    dir: &Path,
    common: &Common,
) -> Result<u8, CliError> {
    match file {
        Some(f) => {
            let plan = read_plan_file(f)?;
            let pretty =
                |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
            match format {
                ShowFormat::Json => {
                    outln!("{}", pretty(plinth_render::json::plan_json(&plan, reveal)))
                }
                ShowFormat::TerraformJson => outln!(
                    "{}",
                    pretty(plinth_render::json::terraform_json(&plan, reveal))
                ),
                ShowFormat::Markdown => {
                    let opts = plinth_render::markdown::MarkdownOptions {
                        show_sensitive: reveal,
                        ..Default::default()
                    };
                    out!("{}", plinth_render::markdown::render(&plan, &opts))
                }
                ShowFormat::Text => out!(
                    "{}",
                    plinth_render::plan_text(&plan, &text_opts(common, reveal))
                ),
            }
            check_fail_on(&plan, fail_on, None)?;
        }
        None => {
            let backend = backend::of_dir(dir)?;
            let state = load_warned(backend.as_ref())?.unwrap_or_default();
            let registry = workspace::registry();
            match format {
                ShowFormat::Markdown | ShowFormat::TerraformJson => {
                    return Err(CliError::help(
                        "--format markdown and terraform-json render plans, not state",
                        "make a plan with `plinth plan --out FILE`, then `plinth show FILE --format markdown`",
                    ));
                }
                ShowFormat::Json => {
                    let redacted: Vec<serde_json::Value> = state
                        .resources
                        .values()
                        .map(|r| record_json(&registry, r, reveal))
                        .collect();
                    outln!("{}", serde_json::to_string_pretty(&serde_json::json!({"lineage": state.lineage, "serial": state.serial, "resources": redacted})).unwrap_or_default());
                }
                ShowFormat::Text => {
                    if state.resources.is_empty() {
                        outln!("The state is empty.");
                    }
                    for r in state.resources.values() {
                        outln!("{}", record_text(&registry, r, reveal));
                    }
                    print_outputs(&state, reveal, true, common);
                }
            }
        }
    }
    Ok(0)
}

/// A record's inputs and attributes as `state show` prints them: marked as the engine marks
/// a prior object (through the provider's path mapping), then redacted unless revealed.
fn record_values(
    registry: &Registry,
    r: &plinth_state::ResourceState,
    reveal: bool,
) -> (Value, Value) {
    let prior = plinth_engine::marked_prior(registry, r);
    let show = |v: Value| {
        if reveal {
            v.unmark_all()
        } else {
            plinth_plan::redact(&v)
        }
    };
    (show(prior.inputs), show(prior.attributes))
}

pub(super) fn record_json(
    registry: &Registry,
    r: &plinth_state::ResourceState,
    reveal: bool,
) -> serde_json::Value {
    let (inputs, attributes) = record_values(registry, r, reveal);
    let show = |v: &Value| serde_json::to_value(v).unwrap_or_default();
    serde_json::json!({
        "address": r.address, "type": r.type_name, "mode": r.mode, "id": r.id, "status": r.status,
        "inputs": show(&inputs), "attributes": show(&attributes), "dependencies": r.dependencies,
    })
}

pub(super) fn record_text(
    registry: &Registry,
    r: &plinth_state::ResourceState,
    reveal: bool,
) -> String {
    let mut out = format!("# {} [{}]", r.address, r.type_name);
    if r.status != Status::Created {
        out.push_str(&format!(" ({})", status_text(r.status)));
    }
    out.push('\n');
    let (_, attrs) = record_values(registry, r, reveal);
    // The id is shown once: from the attributes when they carry it, else from the record.
    if let Some(id) = &r.id
        && attrs.get(&plinth_value::Path::root().key("id")).is_none()
    {
        out.push_str(&format!("    id = {}\n", Value::from(id.as_str())));
    }
    for p in attrs.leaf_paths() {
        if let Some(v) = attrs.get(&p)
            && !p.is_root()
        {
            out.push_str(&format!("    {p} = {v}\n"));
        }
    }
    out
}
