//! Reading the parts of a plan's address strings — the module path, the declaration name,
//! the `for_each` key, the deposed marker — through [`plinth_addr::Address`], the one parser
//! of addresses.

use plinth_addr::{Address, ModuleStep};

/// The module instance an address is in (`module.app["orders"].mi` → `[app["orders"]]`);
/// empty for the root module (and for text that is not an address).
pub(crate) fn module_path(address: &str) -> Vec<ModuleStep> {
    address
        .parse::<Address>()
        .map(|a| a.module)
        .unwrap_or_default()
}

/// A module path as addresses write it: `module.app["orders"].module.db`; empty for the
/// root module.
pub(crate) fn module_text(path: &[ModuleStep]) -> String {
    if path.is_empty() {
        return String::new();
    }
    Address::module_instance(path.to_vec()).to_string()
}

/// Whether dependency `dep` names the object at `address`: a declaration without keys names
/// each of its instances (`app` names `app["blue"]`, `module.app.mi` names
/// `module.app["orders"].mi`), a module address everything in it (`module.app["orders"]`
/// names `module.app["orders"].module.db.pg`). Deposed objects are named only by their own
/// address.
pub(crate) fn covers(dep: &str, address: &str) -> bool {
    let (Ok(d), Ok(a)) = (dep.parse::<Address>(), address.parse::<Address>()) else {
        return false;
    };
    if a.deposed {
        return false;
    }
    if d.is_module() {
        return d.matches(&a);
    }
    let key_covers = |mine: &Option<plinth_addr::InstanceKey>, theirs: &Option<_>| {
        mine.is_none() || mine == theirs
    };
    d.kind == a.kind
        && d.name == a.name
        && key_covers(&d.key, &a.key)
        && d.module.len() == a.module.len()
        && d.module
            .iter()
            .zip(&a.module)
            .all(|(m, n)| m.name == n.name && key_covers(&m.key, &n.key))
}

/// The address as seen from inside module instance `path`: `module.app["orders"].mi` is
/// `mi` inside `module.app["orders"]`. An address outside `path` is returned whole.
pub(crate) fn relative_to(address: &str, path: &[ModuleStep]) -> String {
    match address.parse::<Address>() {
        Ok(mut a) if a.module.starts_with(path) => {
            a.module.drain(..path.len());
            a.to_string()
        }
        _ => address.to_string(),
    }
}

/// The address without its deposed marker, and whether it had one.
pub(crate) fn split_deposed(address: &str) -> (String, bool) {
    match address.parse::<Address>() {
        Ok(a) => (a.current().to_string(), a.deposed),
        Err(_) => (address.to_string(), false),
    }
}

/// The instance key of an address as text (`app["blue"]` → `blue`, `app[0]` → `0`).
pub(crate) fn instance_key(address: &str) -> Option<String> {
    address.parse::<Address>().ok()?.key.map(|k| k.text())
}

/// The instance key as Terraform's JSON writes `index`: a number for `count`, a string for
/// `for_each`.
pub(crate) fn instance_index(address: &str) -> Option<serde_json::Value> {
    match address.parse::<Address>().ok()?.key? {
        plinth_addr::InstanceKey::Int(i) => Some(i.into()),
        plinth_addr::InstanceKey::Str(s) => Some(s.into()),
    }
}

/// The declaration name of an address (`data.sub` → `sub`, `app["blue"]` → `app`).
pub(crate) fn decl_name(address: &str) -> String {
    address
        .parse::<Address>()
        .map(|a| a.name)
        .unwrap_or_else(|_| address.to_string())
}

/// A check's address split into its module instance and its name:
/// `module.app["a"].check.ready` is `ready` in `module.app["a"]`, `check.ready` is `ready`
/// in the root module. (Checks are not declarations an [`Address`] names.)
pub(crate) fn check_parts(address: &str) -> (Vec<ModuleStep>, String) {
    let (module, name) = match address.strip_prefix("check.") {
        Some(name) => ("", name),
        None => address.rsplit_once(".check.").unwrap_or(("", address)),
    };
    let path = match module.parse::<Address>() {
        Ok(a) if a.is_module() => a.module,
        _ => Vec::new(),
    };
    (path, name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_addresses() {
        let (path, name) = check_parts(r#"module.app["a.check.b"].check.ready"#);
        assert_eq!(module_text(&path), r#"module.app["a.check.b"]"#);
        assert_eq!(name, "ready");
        let (path, name) = check_parts("check.ready");
        assert!(path.is_empty());
        assert_eq!(name, "ready");
    }

    #[test]
    fn module_paths() {
        let path = module_path(r#"module.app["orders"].module.db.data.x[0] (deposed)"#);
        assert_eq!(module_text(&path), r#"module.app["orders"].module.db"#);
        assert_eq!(
            module_text(&module_path("module.net[2].rg")),
            "module.net[2]"
        );
        assert!(module_path("rg").is_empty());
        assert!(module_path("not an address").is_empty());
        assert_eq!(module_text(&[]), "");
        assert_eq!(
            relative_to(
                r#"module.app["orders"].module.db.data.x[0] (deposed)"#,
                &path
            ),
            "data.x[0] (deposed)"
        );
        let outer = module_path(r#"module.app["orders"].mi"#);
        assert_eq!(
            relative_to(r#"module.app["orders"].module.db.pg"#, &outer),
            "module.db.pg"
        );
        // Outside the module: the whole address.
        assert_eq!(
            relative_to(r#"module.app["payments"].mi"#, &outer),
            r#"module.app["payments"].mi"#
        );
        assert_eq!(relative_to("rg", &[]), "rg");
    }

    #[test]
    fn dependencies_cover_instances_and_module_contents() {
        assert!(covers("app", r#"app["blue"]"#));
        assert!(covers("app", "app"));
        assert!(!covers("app", r#"app["blue"] (deposed)"#));
        assert!(!covers("app", "data.app"));
        assert!(!covers(r#"app["a"]"#, r#"app["b"]"#));
        assert!(covers("module.app.mi", r#"module.app["orders"].mi"#));
        assert!(covers("module.app.mi", "module.app[3].mi[0]"));
        assert!(!covers("module.app.mi", "mi"));
        assert!(!covers("module.app.mi", "module.app.module.x.mi"));
        assert!(!covers(r#"module.app["a"].mi"#, r#"module.app["b"].mi"#));
        assert!(covers("module.app", r#"module.app["b"].module.db.pg"#));
        assert!(covers(r#"module.app["b"]"#, r#"module.app["b"].mi"#));
        assert!(!covers(r#"module.app["b"]"#, r#"module.app["c"].mi"#));
        assert!(!covers("not an address", "rg"));
    }

    #[test]
    fn address_parts() {
        assert_eq!(instance_key(r#"app["blue"]"#).as_deref(), Some("blue"));
        assert_eq!(
            instance_key(r#"app["a\"]b"] (deposed)"#).as_deref(),
            Some("a\"]b")
        );
        assert_eq!(instance_key("data.sub"), None);
        assert_eq!(instance_key("app[2]").as_deref(), Some("2"));
        assert_eq!(instance_index("app[2]"), Some(serde_json::json!(2)));
        assert_eq!(instance_index("app[\"2\"]"), Some(serde_json::json!("2")));
        assert_eq!(decl_name(r#"data.app["x"]"#), "app");
        assert_eq!(decl_name("action.restart"), "restart");
        assert_eq!(
            split_deposed(r#"app["x"] (deposed)"#),
            (r#"app["x"]"#.to_string(), true)
        );
        assert_eq!(
            crate::grouping::provider_of("azure:Microsoft.Web/sites@2024-04-01"),
            "azure"
        );
    }
}
