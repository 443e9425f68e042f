//! What the three renderings share about the shape of a plan: the order and titles of the
//! action groups, and providers — the provider of a type, and changes grouped by provider.
//!
//! The one place that cuts the provider prefix out of a type name. A leaf of the crate.

use std::collections::BTreeMap;

use plinth_plan::{Action, ResourceChange};

/// The order in which action groups are shown: the dangerous ones first.
pub(crate) const GROUP_ORDER: [Action; 6] = [
    Action::Delete,
    Action::Replace,
    Action::Update,
    Action::Create,
    Action::Run,
    Action::Read,
];

/// The heading of an action group.
pub(crate) fn group_title(a: Action) -> &'static str {
    match a {
        Action::Create => "Create",
        Action::Update => "Update in place",
        Action::Replace => "Replace",
        Action::Delete => "Destroy",
        Action::Read => "Read",
        Action::Run => "Run actions",
        Action::NoOp => "No change",
    }
}

/// The provider of a type: the prefix before `:` (`core` for `core:data`); a type without
/// one is its own provider.
pub(crate) fn provider_of(type_name: &str) -> &str {
    plinth_addr::TypeName::provider_of(type_name)
}

/// `changes` grouped by the provider of their type, providers in name order, each group in
/// the order given.
pub(crate) fn by_provider<'a>(
    changes: &[&'a ResourceChange],
) -> BTreeMap<&'a str, Vec<&'a ResourceChange>> {
    let mut groups: BTreeMap<&str, Vec<&ResourceChange>> = BTreeMap::new();
    for c in changes {
        groups.entry(provider_of(&c.type_name)).or_default().push(c);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_of_types() {
        assert_eq!(provider_of("azure:Microsoft.Web/sites@2024-04-01"), "azure");
        assert_eq!(provider_of("k8s:apps/v1/Deployment"), "k8s");
        assert_eq!(provider_of("core:data"), "core");
        assert_eq!(provider_of("nocolon"), "nocolon");
    }

    fn change(address: &str, type_name: &str) -> ResourceChange {
        ResourceChange::new(
            address,
            type_name,
            plinth_plan::DeclKind::Resource,
            Action::Create,
        )
    }

    #[test]
    fn changes_by_provider_keep_their_order() {
        let (a, b, c) = (
            change("a", "k8s:v1/ConfigMap"),
            change("b", "azure:Microsoft.Resources/resourceGroups@2024-03-01"),
            change("c", "k8s:v1/Secret"),
        );
        let groups = by_provider(&[&a, &b, &c]);
        let names: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|(p, cs)| (*p, cs.iter().map(|c| c.address.as_str()).collect()))
            .collect();
        assert_eq!(names, vec![("azure", vec!["b"]), ("k8s", vec!["a", "c"])]);
    }
}
