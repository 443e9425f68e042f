//! The commands that read only the configuration: `validate`, `graph` and `schema`.

use std::path::Path;

use plinth_engine::Address;

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
    // A declaration inside a module is drawn in its module call's cluster (nested as the
    // modules are), labelled by its address inside the module.
    let place =
        |d: &plinth_engine::Decl| in_module(&plinth_engine::decl_address(&loaded.config, *d));
    let label = |d: &plinth_engine::Decl| place(d).1;
    let cluster = |d: &plinth_engine::Decl| place(d).0;
    match format {
        GraphFormat::Dot => out!("{}", g.dag.to_dot_clustered(label, cluster)),
        GraphFormat::Mermaid => out!("{}", g.dag.to_mermaid_clustered(label, cluster)),
    }
    Ok(0)
}

/// Where a declaration's address is drawn: the module calls it is inside, outermost first
/// (`module.app`, `module.db`), and its address inside the innermost one
/// (`module.app.module.db.pg` is `pg` in `module.app` › `module.db`; `module.app.var.name` is
/// `var.name` in `module.app`). A module call itself (`module.app.module.db`) is drawn in its
/// caller's cluster as `module.db`.
fn in_module(address: &str) -> (Vec<String>, String) {
    let steps = |a: &Address| -> Vec<String> {
        a.module
            .iter()
            .map(|step| Address::module_instance(vec![step.clone()]).to_string())
            .collect()
    };
    let Ok(a) = address.parse::<Address>() else {
        // Not an address plinth-addr reads (a module's `var.name`): inside the longest
        // prefix that is a module path.
        let module = address.rmatch_indices('.').find_map(|(i, _)| {
            let m = address[..i].parse::<Address>().ok()?;
            m.is_module().then(|| (m, &address[i + 1..]))
        });
        return match module {
            Some((m, rest)) => (steps(&m), rest.to_string()),
            None => (Vec::new(), address.to_string()),
        };
    };
    let mut clusters = steps(&a);
    if a.is_module() {
        let call = clusters.pop().unwrap_or_default();
        return (clusters, call);
    }
    let inside = Address {
        module: Vec::new(),
        ..a
    };
    (clusters, inside.to_string())
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

#[cfg(test)]
mod tests {
    use super::in_module;

    #[test]
    fn declarations_in_modules_are_drawn_in_their_module_calls_clusters() {
        let place = |a: &str| {
            let (clusters, label) = in_module(a);
            (clusters.join(" > "), label)
        };
        assert_eq!(place("rg"), (String::new(), "rg".into()));
        assert_eq!(place("module.app.mi"), ("module.app".into(), "mi".into()));
        assert_eq!(
            place("module.app.module.db.data.pg"),
            ("module.app > module.db".into(), "data.pg".into())
        );
        assert_eq!(
            place(r#"module.app["x"].output.id"#),
            (r#"module.app["x"]"#.into(), "output.id".into())
        );
        // A module call is drawn in its caller's cluster.
        assert_eq!(place("module.app"), (String::new(), "module.app".into()));
        assert_eq!(
            place("module.app.module.db"),
            ("module.app".into(), "module.db".into())
        );
        // A module's variable: in the module's cluster.
        assert_eq!(
            place(r#"module.app.module.db["a.b"].var.name"#),
            (r#"module.app > module.db["a.b"]"#.into(), "var.name".into())
        );
        // Whatever does not read as an address is drawn as it is, outside every cluster.
        assert_eq!(
            place("not an address"),
            (String::new(), "not an address".into())
        );
    }
}
