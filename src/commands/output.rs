//! `plinth output`: outputs recorded in state, one or all, as text or JSON; sensitive values
//! only with `--show-sensitive`.

use std::path::Path;

use super::shared::{load_warned, show_value};
use crate::Common;
use crate::backend;
use crate::error::CliError;

pub(super) fn output(
    name: Option<&str>,
    dir: &Path,
    reveal: bool,
    common: &Common,
) -> Result<u8, CliError> {
    let backend = backend::of_dir(dir)?;
    let state = load_warned(backend.as_ref())?.unwrap_or_default();
    match name {
        Some(n) => {
            let Some(o) = state.outputs.get(n) else {
                let names: Vec<&str> = state.outputs.keys().map(String::as_str).collect();
                return Err(CliError::help(
                    format!("there is no output `{n}` in state"),
                    match plinth_config::did_you_mean(n, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if names.is_empty() => {
                            "state has no outputs yet: run `plinth apply`".into()
                        }
                        None => format!("outputs: {}", names.join(", ")),
                    },
                ));
            };
            if common.json {
                // A script reading one value must never receive a placeholder for it.
                if o.sensitive && !reveal {
                    return Err(CliError::help(
                        format!("output `{n}` is sensitive, so --json will not print it"),
                        format!(
                            "add --show-sensitive to print its value (`plinth output {n} --json --show-sensitive`), or use `plinth output --json`, which shows it as null with \"sensitive\": true"
                        ),
                    ));
                }
                outln!("{}", o.value);
            } else {
                outln!("{}", show_value(&o.value, o.sensitive, reveal));
            }
        }
        None => {
            if common.json {
                let m: serde_json::Map<String, serde_json::Value> = state
                    .outputs
                    .iter()
                    .map(|(k, o)| {
                        let v = if o.sensitive && !reveal {
                            serde_json::Value::Null
                        } else {
                            o.value.clone()
                        };
                        (
                            k.clone(),
                            serde_json::json!({"value": v, "sensitive": o.sensitive}),
                        )
                    })
                    .collect();
                outln!("{}", serde_json::Value::Object(m));
            } else {
                for (k, o) in &state.outputs {
                    outln!("{k} = {}", show_value(&o.value, o.sensitive, reveal));
                }
            }
        }
    }
    Ok(0)
}
