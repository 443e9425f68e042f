//! The top of the document: the caution block (what the plan destroys, replaces or leaves
//! unmanaged), the notices (warnings, targets) and the summary table per provider.

use std::fmt::Write;

use plinth_plan::{Action, DeclKind, Plan, ResourceChange, Summary};

use super::changes::{cascade_rich, replace_notes};
use super::item::verb;
use super::rich::Rich;
use super::syntax::{cell, code, md_text};
use super::words::{count_of, thousands};
use crate::address::module_text;
use crate::grouping::{by_module, by_provider, in_group_order};
use crate::review::{CascadeGroup, by_blast_radius, cascade_groups};

/// The caution block: every deleted or replaced managed object, with why, and every object
/// forgotten (it leaves state and stays in the cloud, no longer managed). The biggest blast
/// radius first (a cluster, a namespace, a resource group); objects replaced because
/// another is (a cluster's Kubernetes objects) on one line, after their cause.
pub(super) fn caution_block(
    plan: &Plan,
    changing: &[&ResourceChange],
) -> Option<(String, Vec<String>)> {
    let listed: Vec<&ResourceChange> = in_group_order(changing)
        .into_iter()
        .filter(|c| {
            c.kind == DeclKind::Resource
                && matches!(c.action, Action::Delete | Action::Replace | Action::Forget)
        })
        .collect();
    if listed.is_empty() {
        return None;
    }
    let count = |a: Action| listed.iter().filter(|c| c.action == a).count();
    let (destroys, replaces, forgets) = (
        count(Action::Delete),
        count(Action::Replace),
        count(Action::Forget),
    );
    let mut what = Vec::new();
    if destroys > 0 {
        what.push(format!("destroys {}", count_of(destroys, "resource")));
    }
    if replaces > 0 {
        what.push(format!("replaces {}", count_of(replaces, "resource")));
    }
    if forgets > 0 {
        what.push(format!("forgets {}", count_of(forgets, "object")));
    }
    let mut why = Vec::new();
    if destroys + replaces > 0 {
        why.push("Destroying or replacing an object can lose its data".to_string());
    }
    if forgets > 0 {
        let them = if forgets == 1 { "it" } else { "them" };
        why.push(format!(
            "{} will leave state but stay in the cloud, and plinth will no longer manage {them}",
            count_of(forgets, "object")
        ));
    }
    // One reason for every destroy (a destroy plan's "destroy requested"): said once.
    let deletes: Vec<&str> = listed
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.reason.as_deref().unwrap_or("destroy"))
        .collect();
    let common =
        (deletes.len() > 1 && deletes.iter().all(|r| *r == deletes[0])).then(|| deletes[0]);
    let common_text = common
        .map(|r| format!(" ({})", Rich::parse(r).md()))
        .unwrap_or_default();
    let intro = format!(
        "> [!CAUTION]\n> This plan **{}**{common_text}. {}; check that this is intended:\n>",
        what.join("** and **"),
        why.join("; ")
    );
    let ordered = by_blast_radius(&listed);
    let cascaded: Vec<&ResourceChange> = ordered
        .iter()
        .filter(|c| c.action == Action::Replace && c.cascade.is_some())
        .copied()
        .collect();
    let groups = cascade_groups(plan, &cascaded);
    let mut shown = vec![false; groups.len()];
    let mut lines = Vec::new();
    for c in &ordered {
        if c.action == Action::Replace && c.cascade.is_some() {
            continue;
        }
        let why = match c.action {
            Action::Replace => replace_notes(plan, c),
            Action::Forget => forget_note(c),
            _ if common.is_some() => Rich::default(),
            _ => Rich::parse(c.reason.as_deref().unwrap_or("destroy")),
        };
        let mut line = format!(
            "> - **{}** {} ({})",
            verb(c),
            code(&c.address),
            md_text(&c.type_name)
        );
        if !why.is_empty() {
            line.push_str(": ");
            line.push_str(&why.md());
        }
        lines.push(line);
        for (g, done) in groups.iter().zip(shown.iter_mut()) {
            if !*done && g.cause == c.address {
                *done = true;
                lines.push(cascade_line(g));
            }
        }
    }
    for (g, done) in groups.iter().zip(&shown) {
        if !done {
            lines.push(cascade_line(g));
        }
    }
    Some((intro, lines))
}

/// Objects named on a cascade group's line; more are counted.
const CASCADE_NAMED: usize = 12;

/// `> - 6 Kubernetes objects are replaced because their cluster `aks` is replaced:
/// `producer`, `consumer`, …`.
fn cascade_line(g: &CascadeGroup<'_>) -> String {
    let mut names: Vec<String> = g
        .changes
        .iter()
        .take(CASCADE_NAMED)
        .map(|c| code(&c.address))
        .collect();
    if g.changes.len() > CASCADE_NAMED {
        names.push(format!(
            "and {} more",
            thousands(g.changes.len() - CASCADE_NAMED)
        ));
    }
    format!("> - {}: {}", cascade_rich(g).md(), names.join(", "))
}

/// Where the plan was made, as a reviewer knows it: the configuration directory by its last
/// components (never a home directory or what is above it), and the module instances it
/// holds. Empty when there is nothing to say.
pub(super) fn context_line(plan: &Plan) -> String {
    let mut parts = Vec::new();
    if let Some(dir) = config_dir_text(&plan.config_dir) {
        parts.push(format!("**Configuration:** {}", code(&dir)));
    }
    let all: Vec<&ResourceChange> = plan.changes.iter().collect();
    let modules: Vec<String> = by_module(&all)
        .into_iter()
        .filter(|g| !g.path.is_empty())
        .map(|g| module_text(&g.path))
        .collect();
    if !modules.is_empty() {
        let mut names: Vec<String> = modules
            .iter()
            .take(MODULES_NAMED)
            .map(|m| code(m))
            .collect();
        if modules.len() > MODULES_NAMED {
            names.push(format!(
                "and {} more",
                thousands(modules.len() - MODULES_NAMED)
            ));
        }
        let head = if modules.len() == 1 {
            "**Module instance:**".to_string()
        } else {
            format!("**Module instances ({}):**", thousands(modules.len()))
        };
        parts.push(format!("{head} {}", names.join(", ")));
    }
    parts.join(" · ")
}

/// Module instances named on the context line; more are counted.
const MODULES_NAMED: usize = 10;

/// The last two components of a configuration directory, as a reviewer knows it
/// (`examples/aks-keda-workload-identity`), never a home directory's owner or what is above
/// it: `/home/alice/infra` is `infra`, `/home/alice` is `~`. `None` when empty.
pub(super) fn config_dir_text(dir: &str) -> Option<String> {
    let parts: Vec<&str> = dir
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        return None;
    }
    // A Windows drive (`C:`) is not a component a reviewer knows.
    let start = usize::from(parts[0].ends_with(':'));
    let rest = &parts[start..];
    let rest = match rest {
        ["home" | "Users", _, tail @ ..] => tail,
        ["root", tail @ ..] => tail,
        _ => rest,
    };
    if rest.is_empty() {
        return Some("~".to_string());
    }
    Some(rest[rest.len().saturating_sub(2)..].join("/"))
}

/// Why an object is forgotten, and what stays (its id is in the list below).
fn forget_note(c: &ResourceChange) -> Rich {
    let mut r = Rich::text("leaves state; the object stays in the cloud");
    if let Some(reason) = &c.reason {
        r.push_text("; ").append(Rich::parse(reason));
    }
    r
}

/// Warnings and targets.
pub(super) fn notices(plan: &Plan) -> String {
    let mut blocks = Vec::new();
    for w in &plan.warnings {
        blocks.push(format!("> [!WARNING]\n> {}", Rich::parse(w).md()));
    }
    if !plan.targets.is_empty() {
        let list: Vec<String> = plan.targets.iter().map(|t| code(t)).collect();
        blocks.push(format!("Limited to: {}", list.join(", ")));
    }
    blocks.join("\n\n")
}

/// The columns of the summary table: heading, and whether a change counts in it. `Import`
/// and `Forget` are shown only when the plan has one.
const COLUMNS: [&str; 8] = [
    "Import", "Create", "Update", "Replace", "Delete", "Forget", "Read", "Actions",
];

/// The columns a change counts in (an import that also updates counts in both).
fn columns_of(c: &ResourceChange) -> impl Iterator<Item = usize> {
    let action = match (c.action, c.kind) {
        (Action::Create, _) => Some(1),
        (Action::Update, _) => Some(2),
        (Action::Replace, _) => Some(3),
        (Action::Delete, DeclKind::Resource) => Some(4),
        (Action::Forget, _) => Some(5),
        (Action::Read, _) => Some(6),
        (Action::Run, _) => Some(7),
        _ => None,
    };
    c.importing.as_ref().map(|_| 0).into_iter().chain(action)
}

/// The summary table per provider, with totals, and the summary sentence. `listed` are the
/// changes the lists show (objects imported as they are among them).
pub(super) fn overview_table(listed: &[&ResourceChange], summary: &Summary) -> String {
    let mut per: Vec<(&str, [usize; 8])> = Vec::new();
    for (provider, changes) in by_provider(listed) {
        let mut counts = [0usize; 8];
        for c in changes {
            for col in columns_of(c) {
                counts[col] += 1;
            }
        }
        // A provider with nothing to count (only data sources forgotten, objects only
        // moved) gets no row.
        if counts.iter().any(|n| *n > 0) {
            per.push((provider, counts));
        }
    }
    let mut total = [0usize; 8];
    for (_, counts) in &per {
        for (t, n) in total.iter_mut().zip(counts) {
            *t += n;
        }
    }
    // Import and Forget only when there is one: plans without are shown as they always were.
    let shown: Vec<usize> = (0..COLUMNS.len())
        .filter(|&i| !(matches!(i, 0 | 5) && total[i] == 0))
        .collect();
    let mut out = String::new();
    if !per.is_empty() {
        let heads: Vec<&str> = shown.iter().map(|&i| COLUMNS[i]).collect();
        let _ = writeln!(out, "| Provider | {} |", heads.join(" | "));
        let _ = writeln!(out, "|:---|{}", "---:|".repeat(shown.len()));
        for (provider, counts) in &per {
            let cells: Vec<String> = shown.iter().map(|&i| thousands(counts[i])).collect();
            let _ = writeln!(out, "| {} | {} |", cell(&code(provider)), cells.join(" | "));
        }
        let cells: Vec<String> = shown
            .iter()
            .map(|&i| format!("**{}**", thousands(total[i])))
            .collect();
        let _ = writeln!(out, "| **Total** | {} |", cells.join(" | "));
        out.push('\n');
    }
    let _ = write!(out, "**{summary}**");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_plan::Importing;

    fn change(address: &str, type_name: &str, kind: DeclKind, action: Action) -> ResourceChange {
        ResourceChange::new(address, type_name, kind, action)
    }

    fn plan_of(changes: &[ResourceChange]) -> Plan {
        Plan {
            format: plinth_plan::PLAN_FORMAT.into(),
            mode: plinth_plan::PlanMode::Normal,
            created_at: String::new(),
            lineage: String::new(),
            serial: 0,
            config_digest: String::new(),
            config_dir: String::new(),
            variables: Default::default(),
            changes: changes.to_vec(),
            outputs: vec![],
            drift: vec![],
            warnings: vec![],
            targets: vec![],
            checks: vec![],
            findings: vec![],
        }
    }

    #[test]
    fn the_configuration_directory_is_named_without_a_home_directory() {
        let cases = [
            (
                "/home/runner/work/infra/infra/examples/aks",
                Some("examples/aks"),
            ),
            ("/home/alice/infra", Some("infra")),
            ("/home/alice", Some("~")),
            ("/Users/bob/src/plinth/prod/", Some("plinth/prod")),
            ("/root/x", Some("x")),
            ("C:\\Users\\carol\\repo\\env", Some("repo/env")),
            ("/x", Some("x")),
            ("", None),
        ];
        for (dir, want) in cases {
            assert_eq!(config_dir_text(dir).as_deref(), want, "{dir}");
        }
        let mut p = plan_of(&[
            change("rg", "core:data", DeclKind::Resource, Action::NoOp),
            change(
                "module.app[\"b\"].x",
                "core:data",
                DeclKind::Resource,
                Action::Create,
            ),
            change(
                "module.app[\"a\"].x",
                "core:data",
                DeclKind::Resource,
                Action::NoOp,
            ),
        ]);
        p.config_dir = "/home/alice/infra/prod".into();
        assert_eq!(
            context_line(&p),
            "**Configuration:** `infra/prod` · **Module instances (2):** `module.app[\"a\"]`, `module.app[\"b\"]`"
        );
    }

    #[test]
    fn the_caution_block_puts_the_cluster_first_and_its_objects_on_one_line() {
        let aks_type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01";
        let mut q = change(
            "queue",
            "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01",
            DeclKind::Resource,
            Action::Delete,
        );
        q.reason = Some("not in the configuration".into());
        let mut aks = change("aks", aks_type, DeclKind::Resource, Action::Replace);
        aks.replace_paths = vec!["location".parse().unwrap()];
        let mut objects = vec![q, aks];
        for name in ["sa", "job", "scaledjob"] {
            let mut c = change(
                name,
                "k8s:v1/ServiceAccount",
                DeclKind::Resource,
                Action::Replace,
            );
            c.cascade = Some(plinth_plan::Cascade {
                cause: "aks".into(),
                via: plinth_plan::CascadeVia::ProviderSettings,
            });
            c.reason = Some("`aks`, which its provider's settings name, is replaced".into());
            objects.push(c);
        }
        let plan = plan_of(&objects);
        let refs: Vec<&ResourceChange> = plan.changes.iter().collect();
        let (intro, lines) = caution_block(&plan, &refs).unwrap();
        assert!(
            intro.contains("**destroys 1 resource** and **replaces 4 resources**"),
            "{intro}"
        );
        assert_eq!(
            lines,
            vec![
                format!("> - **replace** `aks` ({aks_type}): `location` forces replacement; the old object is deleted first, then the new one created"),
                "> - 3 Kubernetes objects are replaced because their cluster `aks` is replaced: `sa`, `job`, `scaledjob`".to_string(),
                "> - **destroy** `queue` (azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01): not in the configuration".to_string(),
            ]
        );
    }

    #[test]
    fn the_overview_has_a_row_per_provider_with_something_to_count() {
        let forgotten = change(
            "data.sub",
            "azure:subscription",
            DeclKind::Data,
            Action::Delete,
        );
        let created = change("a", "core:data", DeclKind::Resource, Action::Create);
        let run = change("action.r", "core:sleep", DeclKind::Action, Action::Run);
        let table = overview_table(&[&forgotten, &created, &run], &Summary::default());
        assert!(
            table.starts_with("| Provider | Create | Update | Replace | Delete | Read | Actions |\n|:---|---:|---:|---:|---:|---:|---:|\n"),
            "{table}"
        );
        assert!(
            table.contains("| `core` | 1 | 0 | 0 | 0 | 0 | 1 |"),
            "{table}"
        );
        assert!(
            table.contains("| **Total** | **1** | **0** | **0** | **0** | **0** | **1** |"),
            "{table}"
        );
        // Forgetting a data source is not counted, so its provider has no row.
        assert!(!table.contains("azure"), "{table}");
    }

    #[test]
    fn imports_and_forgets_have_their_columns_when_there_are_some() {
        let mut imported = change("rg", "azure:rg", DeclKind::Resource, Action::NoOp);
        imported.importing = Some(Importing { id: "/rg".into() });
        let mut imported_updated = change("kv", "azure:kv", DeclKind::Resource, Action::Update);
        imported_updated.importing = Some(Importing { id: "/kv".into() });
        let forgotten = change("q", "core:data", DeclKind::Resource, Action::Forget);
        let table = overview_table(
            &[&imported, &imported_updated, &forgotten],
            &Summary::default(),
        );
        assert!(
            table.starts_with("| Provider | Import | Create | Update | Replace | Delete | Forget | Read | Actions |\n|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n"),
            "{table}"
        );
        assert!(
            table.contains("| `azure` | 2 | 0 | 1 | 0 | 0 | 0 | 0 | 0 |"),
            "{table}"
        );
        assert!(
            table.contains("| `core` | 0 | 0 | 0 | 0 | 0 | 1 | 0 | 0 |"),
            "{table}"
        );
    }

    #[test]
    fn the_caution_block_lists_forgets_with_what_stays() {
        let mut forgotten = change(
            "legacy_queue",
            "core:data",
            DeclKind::Resource,
            Action::Forget,
        );
        forgotten.id = Some("queue-1".into());
        let (intro, lines) = caution_block(&plan_of(&[]), &[&forgotten]).unwrap();
        assert_eq!(
            intro,
            "> [!CAUTION]\n> This plan **forgets 1 object**. 1 object will leave state but stay in the cloud, and plinth will no longer manage it; check that this is intended:\n>"
        );
        assert_eq!(
            lines,
            vec![
                "> - **forget** `legacy_queue` (core:data): leaves state; the object stays in the cloud"
            ]
        );
        let gone = change("old", "core:data", DeclKind::Resource, Action::Delete);
        let (intro, _) = caution_block(&plan_of(&[]), &[&forgotten, &gone]).unwrap();
        assert!(
            intro.contains("**destroys 1 resource** and **forgets 1 object**. Destroying or replacing an object can lose its data; 1 object will leave"),
            "{intro}"
        );
    }
}
