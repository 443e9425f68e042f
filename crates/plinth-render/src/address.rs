//! Reading the parts of a plan's address strings: the declaration name, the `for_each` key,
//! and the ` (deposed)` marker of the old object of a `create_before_destroy` replacement.
//!
//! The one place in this crate that takes an address string apart. A leaf.

/// How a plan marks the address of a deposed object.
const DEPOSED_SUFFIX: &str = " (deposed)";

/// The address without the ` (deposed)` suffix, and whether it had one.
pub(crate) fn split_deposed(address: &str) -> (&str, bool) {
    match address.strip_suffix(DEPOSED_SUFFIX) {
        Some(base) => (base, true),
        None => (address, false),
    }
}

/// The `for_each` key of an instance address (`app["blue"]` → `blue`).
pub(crate) fn instance_key(address: &str) -> Option<String> {
    let (base, _) = split_deposed(address);
    let open = base.find('[')?;
    let inner = base.strip_suffix(']')?.get(open + 1..)?;
    serde_json::from_str::<String>(inner).ok()
}

/// The declaration name of an address (`data.sub` → `sub`, `app["blue"]` → `app`).
pub(crate) fn decl_name(address: &str) -> &str {
    let (base, _) = split_deposed(address);
    let base = base
        .strip_prefix("data.")
        .or_else(|| base.strip_prefix("action."))
        .unwrap_or(base);
    base.split('[').next().unwrap_or(base)
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
        assert_eq!(decl_name(r#"data.app["x"]"#), "app");
        assert_eq!(decl_name("action.restart"), "restart");
        assert_eq!(
            crate::grouping::provider_of("azure:Microsoft.Web/sites@2024-04-01"),
            "azure"
        );
    }
}
