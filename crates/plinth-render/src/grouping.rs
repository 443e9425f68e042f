//! What the three renderings share about the shape of a plan: the order and titles of the
//! action groups; providers — the provider of a type, and changes grouped by provider; and
//! module instances — changes grouped by the module instance they are in, with its counts.
//!
//! The one place that cuts the provider prefix out of a type name. Uses only `address`.

use std::collections::BTreeMap;

use plinth_addr::ModuleStep;
use plinth_plan::{Action, DeclKind, Plan, ResourceChange};

use crate::address::module_path;

/// A group of the change lists: the changes of one action, or objects whose only change is
/// to state — imported with nothing else to do, or moved to a new address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Group {
    /// Changes whose action is this one (an import that also updates is an update).
    Act(Action),
    /// Objects imported as they are ([`Action::NoOp`] with `importing`).
    Import,
    /// Objects that only move to a new address ([`Action::NoOp`] with `moved_from`).
    Move,
}

/// The order in which the groups are shown: the dangerous ones first, state-only ones last.
pub(crate) const GROUP_ORDER: [Group; 9] = [
    Group::Act(Action::Delete),
    Group::Act(Action::Replace),
    Group::Act(Action::Forget),
    Group::Act(Action::Update),
    Group::Act(Action::Create),
    Group::Import,
    Group::Act(Action::Run),
    Group::Act(Action::Read),
    Group::Move,
];

/// The group a change is listed in; `None` for one that is not listed (nothing to do).
pub(crate) fn group_of(c: &ResourceChange) -> Option<Group> {
    if c.action.is_change() {
        Some(Group::Act(c.action))
    } else if c.importing.is_some() {
        Some(Group::Import)
    } else if c.moved_from.is_some() {
        Some(Group::Move)
    } else {
        None
    }
}

/// The heading of a group.
pub(crate) fn group_title(g: Group) -> &'static str {
    match g {
        Group::Act(Action::Create) => "Create",
        Group::Act(Action::Update) => "Update in place",
        Group::Act(Action::Replace) => "Replace",
        Group::Act(Action::Delete) => "Destroy",
        Group::Act(Action::Read) => "Read",
        Group::Act(Action::Run) => "Run actions",
        Group::Act(Action::Forget) => "Forget",
        Group::Act(Action::NoOp) => "No change",
        Group::Import => "Import",
        Group::Move => "Move",
    }
}

/// `changes` in the order of [`GROUP_ORDER`] (each group in the order given), without the
/// ones that are not listed.
pub(crate) fn in_group_order<'a>(changes: &[&'a ResourceChange]) -> Vec<&'a ResourceChange> {
    GROUP_ORDER
        .iter()
        .flat_map(|g| {
            changes
                .iter()
                .filter(move |c| group_of(c) == Some(*g))
                .copied()
        })
        .collect()
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

/// What the change lists show: the changes, and objects whose only change is to state
/// (imported as they are, or moved to a new address), in plan order.
pub(crate) fn listed_changes(plan: &Plan) -> Vec<&ResourceChange> {
    plan.changes
        .iter()
        .filter(|c| group_of(c).is_some())
        .collect()
}

/// The changes of one module instance (the root module's when `path` is empty).
pub(crate) struct ModuleGroup<'a> {
    /// The module instance: `[app["orders"], db]` is `module.app["orders"].module.db`.
    pub(crate) path: Vec<ModuleStep>,
    /// Its changes, in the order given.
    pub(crate) changes: Vec<&'a ResourceChange>,
}

/// `changes` grouped by module instance: the root module first, then every module instance
/// in address order (so a nested instance follows its parent, `module.app[2]` comes before
/// `module.app[10]`); each group keeps the order given. A plan without modules is one
/// group, the root's.
pub(crate) fn by_module<'a>(changes: &[&'a ResourceChange]) -> Vec<ModuleGroup<'a>> {
    let mut groups: BTreeMap<Vec<ModuleStep>, Vec<&ResourceChange>> = BTreeMap::new();
    for c in changes {
        groups.entry(module_path(&c.address)).or_default().push(c);
    }
    // The empty path sorts first: the root module leads.
    groups
        .into_iter()
        .map(|(path, changes)| ModuleGroup { path, changes })
        .collect()
}

/// What a group of changes does, in the words of the summary line but only the parts that
/// are not zero: `3 to add, 1 to change`, `1 to import`, `1 to destroy, 2 to move`,
/// `1 to forget`, `1 to read`, `2 actions to run`.
pub(crate) fn counts_text(changes: &[&ResourceChange]) -> String {
    // import, add, change, replace, destroy, move, forget, read, run
    let mut n = [0usize; 9];
    for c in changes {
        match (c.action, c.kind) {
            (Action::Create, _) => n[1] += 1,
            (Action::Update, _) => n[2] += 1,
            (Action::Replace, _) => n[3] += 1,
            (Action::Delete, DeclKind::Resource) => n[4] += 1,
            (Action::Forget, _) => n[6] += 1,
            (Action::Read, _) => n[7] += 1,
            (Action::Run, _) => n[8] += 1,
            _ => {}
        }
        if c.importing.is_some() {
            n[0] += 1;
        }
        if c.moved_from.is_some() {
            n[5] += 1;
        }
    }
    let words = [
        "import", "add", "change", "replace", "destroy", "move", "forget", "read",
    ];
    let mut parts: Vec<String> = words
        .iter()
        .zip(n)
        .filter(|(_, k)| *k > 0)
        .map(|(what, k)| format!("{k} to {what}"))
        .collect();
    match n[8] {
        0 => {}
        1 => parts.push("1 action to run".into()),
        k => parts.push(format!("{k} actions to run")),
    }
    if parts.is_empty() {
        // Only data sources forgotten: nothing the summary line counts.
        return "no changes".into();
    }
    parts.join(", ")
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

    #[test]
    fn changes_by_module_instance_root_first_then_in_address_order() {
        let cs = [
            change(r#"module.app[10].mi"#, "core:data"),
            change("rg", "core:data"),
            change(r#"module.app[2].module.db.pg"#, "core:data"),
            change(r#"module.app[2].mi"#, "core:data"),
            change("data.sub", "core:data"),
            change(r#"module.app[2].data.x"#, "core:data"),
        ];
        let refs: Vec<&ResourceChange> = cs.iter().collect();
        let groups: Vec<(String, Vec<&str>)> = by_module(&refs)
            .iter()
            .map(|g| {
                (
                    crate::address::module_text(&g.path),
                    g.changes.iter().map(|c| c.address.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            vec![
                (String::new(), vec!["rg", "data.sub"]),
                (
                    "module.app[2]".into(),
                    vec!["module.app[2].mi", "module.app[2].data.x"]
                ),
                (
                    "module.app[2].module.db".into(),
                    vec!["module.app[2].module.db.pg"]
                ),
                ("module.app[10]".into(), vec!["module.app[10].mi"]),
            ]
        );
    }

    #[test]
    fn counts_name_only_what_happens() {
        let mut cs = [
            change("a", "core:data"),
            change("b", "core:data"),
            change("c", "core:data"),
        ];
        cs[2].action = Action::Update;
        let refs: Vec<&ResourceChange> = cs.iter().collect();
        assert_eq!(counts_text(&refs), "2 to add, 1 to change");
        let mut moved = change("m[0]", "core:data");
        moved.action = Action::NoOp;
        moved.moved_from = Some("m".into());
        let mut gone = change("d", "core:data");
        gone.action = Action::Delete;
        let mut forgotten = change("data.x", "core:data");
        forgotten.action = Action::Delete;
        forgotten.kind = DeclKind::Data;
        let mut run = change("action.r", "core:sleep");
        run.action = Action::Run;
        run.kind = DeclKind::Action;
        assert_eq!(
            counts_text(&[&moved, &gone, &forgotten, &run]),
            "1 to destroy, 1 to move, 1 action to run"
        );
        assert_eq!(counts_text(&[&forgotten]), "no changes");
    }

    #[test]
    fn imports_and_forgets_are_listed_and_counted() {
        let mut imported = change("rg", "azure:rg");
        imported.action = Action::NoOp;
        imported.importing = Some(plinth_plan::Importing { id: "/rg".into() });
        let mut imported_updated = change("kv", "azure:kv");
        imported_updated.action = Action::Update;
        imported_updated.importing = Some(plinth_plan::Importing { id: "/kv".into() });
        let mut forgotten = change("q", "core:data");
        forgotten.action = Action::Forget;
        let mut idle = change("same", "core:data");
        idle.action = Action::NoOp;
        assert_eq!(group_of(&imported), Some(Group::Import));
        assert_eq!(
            group_of(&imported_updated),
            Some(Group::Act(Action::Update))
        );
        assert_eq!(group_of(&forgotten), Some(Group::Act(Action::Forget)));
        assert_eq!(group_of(&idle), None);
        let all = [&idle, &imported, &imported_updated, &forgotten];
        assert_eq!(counts_text(&all), "2 to import, 1 to change, 1 to forget");
        let order: Vec<&str> = in_group_order(&all)
            .iter()
            .map(|c| c.address.as_str())
            .collect();
        assert_eq!(order, vec!["q", "kv", "rg"]);
    }
}
