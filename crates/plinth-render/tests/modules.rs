//! Plans of objects in modules, in text and Markdown: grouped by module instance (the root
//! module first), each under a heading with its counts; in Markdown the addresses inside a
//! module are shown relative to it, a module with many changes is collapsed, and the graph
//! draws module instances as subgraphs. The plans are built by hand, with the addresses the
//! engine gives objects in modules (`module.app["orders"].mi`).

use plinth_plan::{Action, DeclKind, PLAN_FORMAT, Plan, PlanMode, ReplaceOrder, ResourceChange};
use plinth_render::markdown::{MarkdownOptions, render};
use plinth_render::{TextOptions, plan_text};
use plinth_testkit::path;
use plinth_value::Value;
use serde_json::json;

fn plan_of(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        format: PLAN_FORMAT.into(),
        mode: PlanMode::Normal,
        created_at: "2026-01-01T00:00:00Z".into(),
        lineage: "l".into(),
        serial: 1,
        config_digest: "d".into(),
        config_dir: "/x".into(),
        variables: Default::default(),
        changes,
        outputs: vec![],
        drift: vec![],
        warnings: vec![],
        targets: vec![],
        checks: vec![],
        findings: vec![],
    }
}

/// A change of `action` at `address`: a create has `after`, a delete `before`, an update
/// both (its one changed path `input`).
fn change(address: &str, type_name: &str, action: Action, depends_on: &[&str]) -> ResourceChange {
    let mut c = ResourceChange::new(address, type_name, DeclKind::Resource, action);
    let name = c.name.clone();
    match action {
        Action::Create => {
            let mut after = Value::from(json!({ "input": name }));
            after.set(&path("id"), Value::Unknown);
            c.after = Some(after);
            c.config = Some(Value::from(json!({ "input": name })));
        }
        Action::Update => {
            c.before = Some(Value::from(json!({ "id": "gen-1", "input": "old" })));
            c.after = Some(Value::from(json!({ "id": "gen-1", "input": "new" })));
            c.config = Some(Value::from(json!({ "input": "new" })));
            c.changed_paths = vec![path("input")];
            c.id = Some("gen-1".into());
        }
        Action::Delete => {
            c.before = Some(Value::from(json!({ "id": "gen-2", "input": name })));
            c.id = Some("gen-2".into());
            c.reason = Some("not in the configuration".into());
        }
        Action::Replace => {
            c.before = Some(Value::from(json!({ "id": "gen-3", "input": "a" })));
            let mut after = Value::from(json!({ "input": "b" }));
            after.set(&path("id"), Value::Unknown);
            c.after = Some(after);
            c.config = Some(Value::from(json!({ "input": "b" })));
            c.changed_paths = vec![path("input")];
            c.replace_paths = vec![path("input")];
            c.replace_order = Some(ReplaceOrder::DeleteThenCreate);
        }
        _ => {}
    }
    c.depends_on = depends_on.iter().map(|d| d.to_string()).collect();
    c
}

const ID: &str = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31";
const CM: &str = "k8s:v1/ConfigMap";

/// Root objects, two instances of one module (`app`, for_each over orders and payments)
/// and a module nested in one of them (`db`), with dependencies across the boundaries and
/// an object that moves inside a module.
fn modules_plan() -> Plan {
    let mut moved = change(
        r#"module.app["orders"].queue[0]"#,
        "core:data",
        Action::NoOp,
        &[],
    );
    moved.before = Some(Value::from(json!({ "id": "gen-4", "input": "q" })));
    moved.after = moved.before.clone();
    moved.moved_from = Some(r#"module.app["orders"].queue"#.into());
    plan_of(vec![
        change("rg", "core:data", Action::Create, &[]),
        change(r#"module.app["orders"].mi"#, ID, Action::Create, &["rg"]),
        change(
            r#"module.app["orders"].sa"#,
            CM,
            Action::Update,
            &[r#"module.app["orders"].mi"#],
        ),
        moved,
        change(
            r#"module.app["orders"].module.db.pg"#,
            "core:data",
            Action::Replace,
            &[r#"module.app["orders"].mi"#],
        ),
        change(r#"module.app["payments"].mi"#, ID, Action::Create, &["rg"]),
        change(
            r#"module.app["payments"].old"#,
            "core:data",
            Action::Delete,
            &[],
        ),
        change(
            "summary",
            "core:data",
            Action::Create,
            &[r#"module.app["payments"]"#],
        ),
    ])
}

#[test]
fn text_groups_by_module_instance_with_full_addresses() {
    let out = plan_text(&modules_plan(), &TextOptions::default());
    // The root module's objects first, without a heading.
    assert!(
        out.starts_with("plinth will perform these actions:\n\nCreate (2):\n  + rg [core:data]"),
        "{out}"
    );
    assert!(
        out.contains("\nmodule.app[\"orders\"]: 1 to add, 1 to change, 1 to move\n"),
        "{out}"
    );
    assert!(
        out.contains("\nmodule.app[\"orders\"].module.db: 1 to replace\n"),
        "{out}"
    );
    assert!(
        out.contains("\nmodule.app[\"payments\"]: 1 to add, 1 to destroy\n"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn markdown_groups_by_module_instance_relative_to_its_heading() {
    let out = render(&modules_plan(), &MarkdownOptions::default());
    // The per-provider summary counts everything, modules included.
    assert!(
        out.contains("| **Total** | **4** | **1** | **1** | **1** | **0** | **0** |"),
        "{out}"
    );
    // The caution block names objects by their full addresses.
    assert!(
        out.contains("> - **destroy** `module.app[\"payments\"].old` (core:data)"),
        "{out}"
    );
    assert!(out.contains("#### Root module: 2 to add\n"), "{out}");
    assert!(
        out.contains(
            "#### `module.app[\"orders\"]`: 1 to add, 1 to change, 1 to move\n\n##### Update in place (1)"
        ),
        "{out}"
    );
    assert!(
        out.contains("- `queue` has moved to `queue[0]` (core:data)"),
        "{out}"
    );
    assert!(
        out.contains("<b>replace</b> <code>pg</code> (core:data)"),
        "{out}"
    );
    // Module instances are subgraphs (nested as the modules are); labels are relative.
    assert!(
        out.contains(
            "  subgraph m0[\"module.app[#quot;orders#quot;]\"]\n    n2[\"update: sa\"]:::update\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "    subgraph m1[\"module.db\"]\n      n4[\"replace: pg\"]:::replace\n    end\n  end\n"
        ),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn a_module_instance_with_many_changes_is_collapsed_with_its_counts() {
    let mut changes = vec![change("rg", "core:data", Action::Create, &[])];
    for i in 0..12 {
        changes.push(change(
            &format!("module.big[{i}].obj"),
            "core:data",
            Action::Create,
            &[],
        ));
        changes.push(change(
            &format!("module.big[{i}].module.inner.obj"),
            "core:data",
            Action::Update,
            &[],
        ));
    }
    for i in 0..11 {
        changes.push(change(
            &format!("module.many.obj[{i}]"),
            "core:data",
            Action::Create,
            &[],
        ));
    }
    let out = render(&plan_of(changes), &MarkdownOptions::default());
    assert!(
        out.contains("<details><summary><code>module.many</code>: 11 to add</summary>\n\n##### Create (11)\n\n"),
        "{out}"
    );
    // Ten entries or fewer: a heading, open.
    assert!(
        out.contains("#### `module.big[2]`: 1 to add\n\n##### Create (1)"),
        "{out}"
    );
    // Instances in address order: [2] before [10], each nested one after its parent.
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("no {s} in {out}"));
    assert!(at("`module.big[2]`:") < at("`module.big[2].module.inner`:"));
    assert!(at("`module.big[2].module.inner`:") < at("`module.big[10]`:"));
    assert!(at("`module.big[11].module.inner`:") < at("<code>module.many</code>"));
}

#[test]
fn a_plan_too_large_still_lists_every_module_instance_with_its_counts() {
    let big: String = (0..200).map(|i| format!("line {i}\n")).collect();
    let mut changes = Vec::new();
    for i in 0..40 {
        for j in 0..5 {
            let mut c = change(
                &format!("module.svc[\"s{i}\"].obj[{j}]"),
                "core:data",
                Action::Create,
                &[],
            );
            c.after = Some(Value::from(json!({ "input": big })));
            changes.push(c);
        }
    }
    let max_chars = 4_000;
    let out = render(
        &plan_of(changes),
        &MarkdownOptions {
            max_chars,
            ..Default::default()
        },
    );
    assert!(out.chars().count() <= max_chars, "{}", out.chars().count());
    // The entries that fit are shown under their module's heading; the instances none of
    // whose entries fit are listed by their counts, then what was left out.
    assert!(
        out.contains("#### `module.svc[\"s0\"]`: 5 to add\n"),
        "{out}"
    );
    assert!(
        out.contains("- `module.svc[\"s39\"]`: 5 to add (not listed)\n"),
        "{out}"
    );
    assert!(
        out.contains("more resource changes not listed here"),
        "{out}"
    );
    assert!(
        out.contains("> [!NOTE]\n> The attribute details of"),
        "{out}"
    );
    // The per-provider summary still counts every change.
    assert!(
        out.contains("| `core` | 200 | 0 | 0 | 0 | 0 | 0 |"),
        "{out}"
    );
}

#[test]
fn plans_without_modules_have_no_module_headings() {
    let plan = plan_of(vec![
        change("rg", "core:data", Action::Create, &[]),
        change("app[\"a\"]", "core:data", Action::Update, &["rg"]),
    ]);
    let md = render(&plan, &MarkdownOptions::default());
    assert!(!md.contains("Root module"), "{md}");
    assert!(md.contains("#### Create (1)"), "{md}");
    assert!(!md.contains("subgraph"), "{md}");
    let text = plan_text(&plan, &TextOptions::default());
    assert!(
        text.contains("\nCreate (1):\n  + rg [core:data]\n"),
        "{text}"
    );
}
