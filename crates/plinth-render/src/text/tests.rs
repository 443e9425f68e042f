//! Unit tests of the text rendering.

use super::*;
use plinth_plan::{DeclKind, PLAN_FORMAT, ReplaceOrder};

fn change(
    action: Action,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
    changed: &[&str],
) -> ResourceChange {
    ResourceChange {
        address: "x".into(),
        name: "x".into(),
        type_name: "core:data".into(),
        kind: DeclKind::Resource,
        action,
        replace_order: (action == Action::Replace).then_some(ReplaceOrder::DeleteThenCreate),
        id: None,
        before: before.map(Value::from),
        after: Some(Value::from(after.clone())),
        config: Some(Value::from(after)),
        changed_paths: changed.iter().map(|p| p.parse().unwrap()).collect(),
        attribute_paths: vec![],
        replace_paths: if action == Action::Replace {
            changed.iter().map(|p| p.parse().unwrap()).collect()
        } else {
            vec![]
        },
        reason: None,
        drift: false,
        depends_on: vec![],
        moved_from: None,
        importing: None,
        annotations: vec![],
        bookkeeping: vec![],
        cascade: None,
    }
}

fn plan(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        format: PLAN_FORMAT.into(),
        mode: PlanMode::Normal,
        created_at: String::new(),
        lineage: String::new(),
        serial: 0,
        config_digest: String::new(),
        config_dir: String::new(),
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

#[test]
fn groups_by_action_and_summarises() {
    let mut created = change(Action::Create, None, serde_json::json!({"input": "a"}), &[]);
    created
        .after
        .as_mut()
        .unwrap()
        .set(&"id".parse().unwrap(), Value::Unknown);
    let updated = change(
        Action::Update,
        Some(serde_json::json!({"input": "a"})),
        serde_json::json!({"input": "b"}),
        &["input"],
    );
    let replaced = change(
        Action::Replace,
        Some(serde_json::json!({"triggers": "1"})),
        serde_json::json!({"triggers": "2"}),
        &["triggers"],
    );
    let text = plan_text(
        &plan(vec![created, updated, replaced]),
        &TextOptions::default(),
    );
    assert!(text.contains("Create (1):"), "{text}");
    assert!(text.contains("id = (known after apply)"), "{text}");
    assert!(text.contains("~ input = \"a\" -> \"b\""), "{text}");
    assert!(text.contains("# forces replacement"), "{text}");
    assert!(
        text.contains("Plan: 1 to add, 1 to change, 1 to replace, 0 to destroy."),
        "{text}"
    );
}

#[test]
fn a_move_alone_is_shown_with_terraforms_words_and_counted() {
    let mut moved = change(
        Action::NoOp,
        Some(serde_json::json!({})),
        serde_json::json!({}),
        &[],
    );
    moved.address = "x[0]".into();
    moved.moved_from = Some("x".into());
    let text = plan_text(&plan(vec![moved]), &TextOptions::default());
    assert_eq!(
        text,
        "plinth will perform these actions:\n\nMove (1):\n  # x has moved to x[0]\n\nPlan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 to move.\n"
    );
}

#[test]
fn a_move_with_a_change_is_said_at_the_change() {
    let mut updated = change(
        Action::Update,
        Some(serde_json::json!({"input": "a"})),
        serde_json::json!({"input": "b"}),
        &["input"],
    );
    updated.address = "x".into();
    updated.moved_from = Some("x[0]".into());
    let text = plan_text(&plan(vec![updated]), &TextOptions::default());
    assert!(
        text.contains(
            "  ~ x [core:data]\n      # x[0] has moved to x\n      ~ input = \"a\" -> \"b\"\n"
        ),
        "{text}"
    );
    assert!(!text.contains("Move ("), "{text}");
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy, 1 to move."),
        "{text}"
    );
}

#[test]
fn hides_sensitive_values() {
    let mut c = change(Action::Create, None, serde_json::json!({}), &[]);
    c.after.as_mut().unwrap().set(
        &"input".parse().unwrap(),
        Value::sensitive(Value::from("hunter2")),
    );
    let text = plan_text(&plan(vec![c.clone()]), &TextOptions::default());
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("(sensitive)"));
    let shown = plan_text(
        &plan(vec![c]),
        &TextOptions {
            show_sensitive: true,
            color: false,
        },
    );
    assert!(shown.contains("hunter2"));
}

#[test]
fn no_changes() {
    assert!(plan_text(&plan(vec![]), &TextOptions::default()).starts_with("No changes."));
}
