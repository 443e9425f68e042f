//! Input variables: defaults, `PLINTH_VAR_name`, `--var-file`, `--var` (later wins).

use std::collections::BTreeMap;
use std::path::PathBuf;

use plinth_value::Value;
use toml::de::DeTable;

use crate::decl::{Config, VarType, VariableDecl};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::Loc;
use plinth_expr::did_you_mean;

/// Where variable values come from, besides the defaults.
#[derive(Clone, Debug, Default)]
pub struct VarInputs {
    /// `--var-file` paths, in order.
    pub files: Vec<PathBuf>,
    /// `--var name=value`, in order.
    pub cli: Vec<String>,
    /// Environment variables (name, value); those named `PLINTH_VAR_<name>` are used.
    pub env: Vec<(String, String)>,
}

/// True when `v` fits the declared type.
pub fn type_admits(t: VarType, v: &Value) -> bool {
    let v = v.unmarked();
    match t {
        VarType::Any => true,
        VarType::String => matches!(v, Value::String(_)),
        VarType::Number => matches!(v, Value::Number(_)),
        VarType::Bool => matches!(v, Value::Bool(_)),
        VarType::List => matches!(v, Value::List(_)),
        VarType::Map => matches!(v, Value::Map(_)),
    }
}

/// Converts text given on the command line or in the environment to the declared type. The
/// error names the value only when the variable is not sensitive.
fn from_text(decl: &VariableDecl, text: &str) -> Result<Value, String> {
    let shown = if decl.sensitive {
        "the value (sensitive, not shown)".to_string()
    } else {
        format!("`{text}`")
    };
    from_text_as(decl.var_type, text, &shown)
}

fn from_text_as(t: VarType, text: &str, shown: &str) -> Result<Value, String> {
    match t {
        VarType::String => Ok(Value::String(text.to_string())),
        VarType::Number => text
            .trim()
            .parse::<serde_json::Number>()
            .map(Value::Number)
            .map_err(|_| format!("{shown} is not a number")),
        VarType::Bool => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{shown} is not a bool; write true or false")),
        },
        VarType::List | VarType::Map => parse_toml_value(text)
            .filter(|v| type_admits(t, v))
            .ok_or_else(|| {
                format!(
                    "{shown} is not a {}; write it as TOML, e.g. {}",
                    t.name(),
                    if t == VarType::List {
                        "[\"a\", \"b\"]"
                    } else {
                        "{ key = \"value\" }"
                    }
                )
            }),
        VarType::Any => {
            Ok(parse_toml_value(text).unwrap_or_else(|| Value::String(text.to_string())))
        }
    }
}

fn parse_toml_value(text: &str) -> Option<Value> {
    let doc = format!("v = {text}");
    let table: toml::Table = toml::from_str(&doc).ok()?;
    let json = serde_json::to_value(table.get("v")?).ok()?;
    Some(Value::from(json))
}

/// Resolves every declared variable. Sensitive variables come back marked.
pub fn resolve(
    config: &mut Config,
    inputs: &VarInputs,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let names: Vec<String> = config.variables.iter().map(|v| v.name.clone()).collect();
    let unknown_help = |n: &str| match did_you_mean(n, names.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`? Declare new variables as [variable.{n}]"),
        None if names.is_empty() => {
            format!("this configuration declares no variables; declare it as [variable.{n}]")
        }
        None => format!(
            "declared variables: {}; declare new ones as [variable.{n}]",
            names.join(", ")
        ),
    };

    for decl in &config.variables {
        if let Some(d) = &decl.default
            && let Some(v) = d.static_value()
        {
            values.insert(decl.name.clone(), v);
        }
    }
    let mut rejected = std::collections::HashSet::new();
    for (k, text) in &inputs.env {
        if let Some(name) = k.strip_prefix("PLINTH_VAR_")
            && let Some(decl) = config.variable(name)
        {
            match from_text(decl, text) {
                Ok(v) => {
                    values.insert(name.to_string(), v);
                }
                Err(m) => {
                    rejected.insert(name.to_string());
                    diags.push(Diagnostic::new(format!("environment variable {k}: {m}")))
                }
            }
        }
    }
    // Var files often hold secrets: their errors quote only the offending line, and not even
    // that when it may hold a sensitive value.
    let any_sensitive = config.variables.iter().any(|v| v.sensitive);
    for path in &inputs.files {
        let text = match crate::files::read_user_file(path, crate::files::MAX_FILE_BYTES) {
            Ok(t) => t,
            Err(e) => {
                diags.push(
                    Diagnostic::new(format!("cannot read --var-file {}: {e}", path.display()))
                        .help("pass a regular TOML file (or a pipe, as `<(command)` gives) of name = value lines"),
                );
                continue;
            }
        };
        let file = config.sources.add_quoted(
            path.display().to_string(),
            path.clone(),
            text.clone(),
            crate::source::Quote::LinesOnly,
        );
        let table = match DeTable::parse(&text) {
            Ok(t) => t.into_inner(),
            Err(e) => {
                let mut d = crate::syntax::toml_error(file, &text, &e);
                d.message = d
                    .message
                    .replacen("invalid TOML", "invalid TOML in var file", 1);
                if any_sensitive {
                    // Which line holds what is unknown: none is quoted.
                    config.sources.mark_secret(file, 0..text.len());
                }
                diags.push(d.help(
                    "a var file holds name = value lines in TOML, e.g. location = \"westeurope\"; strings need quotes",
                ));
                continue;
            }
        };
        for (k, v) in table {
            let kloc = Loc::new(file, k.span());
            let name = k.get_ref().to_string();
            let Some(decl) = config.variables.iter().find(|d| d.name == name) else {
                diags.push(
                    Diagnostic::at(
                        format!("var file sets `{name}`, which is not a declared variable"),
                        kloc,
                    )
                    .label("undeclared")
                    .help(unknown_help(&name)),
                );
                continue;
            };
            if decl.sensitive {
                // No diagnostic may quote its line, whatever it is about.
                config.sources.mark_secret(file, v.span());
            }
            let val = toml_to_value(v.get_ref());
            if !type_admits(decl.var_type, &val) {
                let mut d = Diagnostic::at(
                    format!(
                        "variable `{name}` is a {}, but the var file gives a {}",
                        decl.var_type.name(),
                        val.type_name()
                    ),
                    Loc::new(file, v.span()),
                )
                .label(format!("expected a {}", decl.var_type.name()));
                if decl.sensitive {
                    // As for --var: the place, never the value.
                    d.message.push_str(" (the value is sensitive, not shown)");
                }
                rejected.insert(name.clone());
                diags.push(d);
                continue;
            }
            values.insert(name, val);
        }
    }
    for arg in &inputs.cli {
        let Some((name, text)) = arg.split_once('=') else {
            diags.push(
                Diagnostic::new(format!("--var `{arg}` has no `=`"))
                    .help("write --var name=value, e.g. --var location=westeurope"),
            );
            continue;
        };
        let name = name.trim();
        let Some(decl) = config.variable(name) else {
            diags.push(
                Diagnostic::new(format!(
                    "--var sets `{name}`, which is not a declared variable"
                ))
                .help(unknown_help(name)),
            );
            continue;
        };
        match from_text(decl, text) {
            Ok(v) => {
                values.insert(name.to_string(), v);
            }
            Err(m) => {
                rejected.insert(name.to_string());
                diags.push(Diagnostic::new(format!("--var {name}: {m}")))
            }
        }
    }
    for decl in &config.variables {
        match values.remove(&decl.name) {
            Some(v) => {
                let v = if decl.sensitive { Value::sensitive(v) } else { v };
                values.insert(decl.name.clone(), v);
            }
            // A value was given but refused: that error says it all.
            None if rejected.contains(&decl.name) => {}
            None => diags.push(
                Diagnostic::at(format!("variable `{}` has no value", decl.name), decl.loc.clone())
                    .label("declared here without a default")
                    .help(format!(
                        "set it with --var {0}=VALUE, a --var-file, or the environment variable PLINTH_VAR_{0}; or give it a default",
                        decl.name
                    )),
            ),
        }
    }
    diags.into_result().map(|_| values)
}

fn toml_to_value(v: &toml::de::DeValue<'_>) -> Value {
    use toml::de::DeValue as D;
    match v {
        D::String(s) => Value::String(s.to_string()),
        D::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .map(Value::from)
            .unwrap_or(Value::Null),
        D::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        D::Boolean(b) => Value::Bool(*b),
        D::Datetime(d) => Value::String(d.to_string()),
        D::Array(a) => Value::List(a.iter().map(|x| toml_to_value(x.get_ref())).collect()),
        D::Table(t) => Value::Map(
            t.iter()
                .map(|(k, x)| (k.get_ref().to_string(), toml_to_value(x.get_ref())))
                .collect(),
        ),
    }
}
