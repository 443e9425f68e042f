//! Reading the parts of a plan's address strings — the declaration name, the `for_each` key,
//! the deposed marker — through [`plinth_addr::Address`], the one parser of addresses.

use plinth_addr::Address;

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

#[cfg(test)]
mod tests {
    use super::*;

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
