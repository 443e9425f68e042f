//! A run's variables: the configuration's defaults, `PLINTH_VAR_*`, `--var-file` and `--var`
//! as for any command, then the test file's `[variables]`, then the run's own (later wins),
//! resolved by plinth-config's one resolver so types and sensitivity are checked as always.
//!
//! A test's values may refer to earlier runs' outputs (`${run.setup.output.id}`); they reach
//! the resolver as `--var NAME=TEXT` would, after a type check located in the test file.

use std::collections::BTreeMap;

use plinth_config::{Diagnostic, TestFile, TestRun, VarInputs, VarType};
use plinth_engine::{Assertions, RunValues};
use plinth_state::State;
use plinth_value::{Map, Value};

use crate::workspace::Loaded;

/// The variables of `run` of `file`; `runs` holds the earlier runs' outputs. The error is
/// one rendered line.
pub(super) fn run_vars(
    loaded: &Loaded,
    state: Option<&State>,
    file: &TestFile,
    run: &TestRun,
    runs: &Map,
    base: &(Vec<std::path::PathBuf>, Vec<String>),
    sources: &plinth_config::Sources,
) -> Result<BTreeMap<String, Value>, String> {
    let config = &loaded.config;
    let mut cli = base.1.clone();
    let given: Vec<_> = file.variables.iter().chain(&run.variables).collect();
    let mut scope = None;
    for tv in given {
        let Some(decl) = config.variable(&tv.name) else {
            continue;
        };
        let value = match tv.value.static_value() {
            Some(v) => v,
            None => {
                if scope.is_none() {
                    let values = RunValues {
                        runs: runs.clone(),
                        ..RunValues::default()
                    };
                    let a = Assertions::new(loaded.workspace(), state, values).map_err(|d| {
                        d.0.iter()
                            .map(|d| d.one_line(sources))
                            .collect::<Vec<_>>()
                            .join("; ")
                    })?;
                    scope = Some(a);
                }
                let Some(a) = &scope else { continue };
                a.eval(&tv.value).map_err(|d| d.one_line(sources))?
            }
        };
        let located = |message: String| Diagnostic::at(message, tv.loc.clone()).one_line(sources);
        if value.contains_sensitive() && !decl.sensitive {
            return Err(located(format!(
                "variable `{}` is not sensitive, but the test gives it a sensitive value",
                tv.name
            )));
        }
        let text = text_of(decl.var_type, &value).map_err(|what| {
            located(format!(
                "variable `{}` is a {}, but the test gives it {what}",
                tv.name,
                decl.var_type.name()
            ))
        })?;
        cli.push(format!("{}={text}", tv.name));
    }
    let inputs = VarInputs {
        files: base.0.clone(),
        cli,
        env: std::env::vars().collect(),
    };
    let mut config = config.clone();
    plinth_config::resolve_variables(&mut config, &inputs).map_err(|d| {
        d.0.iter()
            .map(|d| d.one_line(&config.sources))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The text `--var NAME=TEXT` would give for `v` of type `t`; `Err` names what `v` is when it
/// does not fit.
fn text_of(t: VarType, v: &Value) -> Result<String, String> {
    let json = v.unmark_all().to_json();
    let what = || format!("a {}", v.unmarked().type_name());
    let fits = match t {
        VarType::Any => true,
        VarType::String => json.is_string(),
        VarType::Number => json.is_number(),
        VarType::Bool => json.is_boolean(),
        VarType::List => json.is_array(),
        VarType::Map => json.is_object(),
    };
    if !fits || v.is_unknown() {
        return Err(what());
    }
    match (t, &json) {
        (VarType::String, serde_json::Value::String(s)) => Ok(s.clone()),
        _ => toml_inline(&json).ok_or_else(|| "a null".to_string()),
    }
}

/// `json` as a TOML inline value (`{ "k" = [1, "a"] }`); `None` for a null anywhere.
fn toml_inline(json: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    Some(match json {
        J::Null => return None,
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        // A JSON string's escapes are TOML basic string escapes.
        J::String(s) => serde_json::to_string(s).ok()?,
        J::Array(items) => {
            let items: Option<Vec<String>> = items.iter().map(toml_inline).collect();
            format!("[{}]", items?.join(", "))
        }
        J::Object(m) => {
            let entries: Option<Vec<String>> = m
                .iter()
                .map(|(k, v)| {
                    Some(format!(
                        "{} = {}",
                        serde_json::to_string(k).ok()?,
                        toml_inline(v)?
                    ))
                })
                .collect();
            format!("{{ {} }}", entries?.join(", "))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_the_text_a_var_flag_takes() {
        let v = |j: serde_json::Value| Value::from(j);
        assert_eq!(
            text_of(VarType::String, &v(serde_json::json!("a b"))).unwrap(),
            "a b"
        );
        assert_eq!(
            text_of(VarType::Bool, &v(serde_json::json!(true))).unwrap(),
            "true"
        );
        assert_eq!(
            text_of(VarType::Map, &v(serde_json::json!({"k": ["x\"", 1]}))).unwrap(),
            r#"{ "k" = ["x\"", 1] }"#
        );
        assert_eq!(
            text_of(VarType::Any, &v(serde_json::json!("s"))).unwrap(),
            "\"s\""
        );
        assert_eq!(
            text_of(VarType::Bool, &v(serde_json::json!("yes"))).unwrap_err(),
            "a string"
        );
    }
}
