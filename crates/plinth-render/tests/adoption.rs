//! The text and Markdown renderings of a plan that changes a configuration safely (issue
//! 16): imports (as they are, and with an update), a forget, an explicit move into a module
//! instance, a rename that also updates, and check results. Snapshots, and what must hold
//! whatever the snapshot says (secrets hidden, the limit kept).

mod fixtures;

use fixtures::adoption::*;
use plinth_plan::{Action, CheckResult, CheckStatus, DeclKind, Importing, ResourceChange};
use plinth_render::markdown::{GITHUB_COMMENT_LIMIT, MarkdownOptions, render};
use plinth_render::text::checks_text;
use plinth_render::{TextOptions, plan_text};
use plinth_value::Value;
use serde_json::json;

fn text(plan: &plinth_plan::Plan) -> String {
    plan_text(plan, &TextOptions::default())
}

fn md(plan: &plinth_plan::Plan) -> String {
    render(plan, &MarkdownOptions::default())
}

#[test]
fn text_of_imports_forgets_moves_and_checks() {
    let out = text(&adoption_plan());
    assert!(out.contains("      # rg will be imported\n"), "{out}");
    assert!(
        out.contains("      # kv will be imported and updated in place\n"),
        "{out}"
    );
    assert!(out.contains(&format!("# id = \"{KV_ID}\"")), "{out}");
    assert!(
        out.contains("# legacy_queue will no longer be managed by plinth (removed from state; the object stays)"),
        "{out}"
    );
    assert!(
        out.contains(r#"# mi has moved to module.app["orders"].mi"#),
        "{out}"
    );
    assert!(
        out.contains("Plan: 2 to import, 0 to add, 2 to change, 0 to replace, 0 to destroy, 2 to move, 1 to forget."),
        "{out}"
    );
    assert!(!out.contains(IMPORT_SECRET), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn the_summary_of_an_import_and_a_forget_reads_as_terraforms() {
    let mut p = empty_plan();
    p.changes = vec![imported_rg(), forgotten_queue()];
    let out = text(&p);
    assert!(
        out.ends_with(
            "\nPlan: 1 to import, 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 to forget.\n"
        ),
        "{out}"
    );
}

#[test]
fn checks_in_text_only_list_what_did_not_pass() {
    let all_pass = vec![CheckResult {
        address: "check.a".into(),
        status: CheckStatus::Pass,
        messages: vec![],
    }];
    assert_eq!(
        checks_text(&all_pass, &TextOptions::default()),
        "Checks: 1 passed.\n"
    );
    assert_eq!(
        checks_text(&checks(), &TextOptions::default()),
        "Checks:\n  Warning: check.scaledjob_ready failed: The ScaledJob `orders-worker` has no ready job template.\n  module.app[\"orders\"].check.identity_federated will be known after apply\n  1 check passed.\n"
    );
    // A plan with nothing to do still shows its checks.
    let mut p = empty_plan();
    p.checks = checks();
    let out = text(&p);
    assert!(out.starts_with("No changes."), "{out}");
    assert!(
        out.contains("Warning: check.scaledjob_ready failed"),
        "{out}"
    );
}

#[test]
fn colours_of_imports_and_forgets() {
    let out = plan_text(
        &adoption_plan(),
        &TextOptions {
            color: true,
            show_sensitive: false,
        },
    );
    assert!(
        out.contains("\x1b[36m# rg will be imported\x1b[0m"),
        "{out:?}"
    );
    assert!(out.contains("\x1b[35m.\x1b[0m"), "{out:?}");
}

#[test]
fn markdown_of_imports_forgets_moves_and_checks() {
    let out = md(&adoption_plan());
    assert!(!out.contains(IMPORT_SECRET), "{out}");
    // The caution block names the forget and what stays.
    assert!(
        out.contains("> This plan **forgets 1 object**. 1 object will leave state but stay in the cloud, and plinth will no longer manage it; check that this is intended:"),
        "{out}"
    );
    // Imports and forgets have their columns and sections.
    assert!(
        out.contains(
            "| Provider | Import | Create | Update | Replace | Delete | Forget | Read | Actions |"
        ),
        "{out}"
    );
    assert!(out.contains("#### Import (1)"), "{out}");
    assert!(
        out.contains(&format!("— from <code>{KV_ID}</code>")),
        "{out}"
    );
    // The move into the module instance names both addresses whole.
    assert!(
        out.contains(r#"- `mi` has moved to `module.app["orders"].mi`"#),
        "{out}"
    );
    assert!(out.contains("classDef import"), "{out}");
    assert!(
        out.contains("> - **failed** `check.scaledjob_ready`"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn secrets_of_an_imported_object_are_hidden_unless_asked() {
    let mut p = empty_plan();
    // Without a configuration, the details show what was read: its secret hidden.
    let mut read_only = imported_rg();
    read_only.config = None;
    read_only.before.as_mut().unwrap().set(
        &fixtures::path("properties.token"),
        Value::sensitive(Value::from(IMPORT_SECRET)),
    );
    // With one, what it sets: a sensitive input hidden.
    let mut configured = imported_rg();
    configured.address = "rg2".into();
    configured.config.as_mut().unwrap().set(
        &fixtures::path("password"),
        Value::sensitive(Value::from(IMPORT_SECRET)),
    );
    p.changes = vec![read_only, configured, imported_kv()];
    for out in [text(&p), md(&p)] {
        assert!(!out.contains(IMPORT_SECRET), "{out}");
    }
    let revealed = render(
        &p,
        &MarkdownOptions {
            show_sensitive: true,
            ..Default::default()
        },
    );
    assert_eq!(revealed.matches(IMPORT_SECRET).count(), 2, "{revealed}");
}

/// Thousands of imports of large objects: the Markdown stays under GitHub's limit, says
/// what it cut, and still counts every import.
#[test]
fn a_huge_import_is_cut_to_fit() {
    let mut p = empty_plan();
    for i in 0..3_000 {
        let address = format!("app[\"site-{i:04}\"]");
        let mut c = ResourceChange::new(&address, KV_TYPE, DeclKind::Resource, Action::NoOp);
        let id = format!("{KV_ID}-{i:04}");
        c.before = Some(Value::from(json!({
            "id": id,
            "name": format!("site-{i:04}"),
            "properties": {"description": "x".repeat(200), "sku": {"name": "standard"}}
        })));
        c.after = c.before.clone();
        c.importing = Some(Importing { id });
        p.changes.push(c);
    }
    let out = md(&p);
    assert!(out.chars().count() <= GITHUB_COMMENT_LIMIT, "{}", out.len());
    assert!(
        out.contains("| **Total** | **3,000** |"),
        "{}",
        &out[..2000]
    );
    assert!(
        out.contains("**Plan: 3000 to import, 0 to add"),
        "{}",
        &out[..2000]
    );
    assert!(out.contains("> [!NOTE]"), "{}", &out[..2000]);
    assert!(
        out.contains("more resource changes not listed here"),
        "{}",
        &out[out.len() - 2000..]
    );
    // Generous limits keep every import's details.
    let all = render(
        &p,
        &MarkdownOptions {
            max_chars: usize::MAX,
            ..Default::default()
        },
    );
    assert_eq!(
        all.matches("<details><summary><b>import</b>").count(),
        3_000
    );
}

/// A configuration with thousands of failing checks (one per module instance): the list
/// is cut to fit, says so, and keeps the counts.
#[test]
fn many_failing_checks_are_cut_to_fit() {
    let mut p = empty_plan();
    p.changes = vec![imported_rg()];
    p.checks = (0..5_000)
        .map(|i| CheckResult {
            address: format!("module.site[\"s{i:04}\"].check.reachable"),
            status: CheckStatus::Fail,
            messages: vec![format!("site s{i:04} answered 503 on its health endpoint")],
        })
        .collect();
    let opts = MarkdownOptions {
        max_chars: 20_000,
        ..Default::default()
    };
    let out = render(&p, &opts);
    assert!(out.chars().count() <= 20_000, "{}", out.len());
    assert!(out.contains("> **Checks:** **5,000 failed**."), "{out}");
    assert!(out.contains("more not listed here"), "{out}");
    assert!(
        out.contains("of the 5,000 checks that did not pass"),
        "{out}"
    );
}

/// A move seen from inside a module instance names both addresses whole when one of them
/// is outside it (they would read alike), relative ones when both are inside.
#[test]
fn moves_across_module_instances_name_both_addresses_whole() {
    let moved = |from: &str, to: &str| {
        let mut c = moved_into_module();
        c.address = to.into();
        c.moved_from = Some(from.into());
        c
    };
    let mut p = empty_plan();
    p.changes = vec![
        moved(r#"module.app["a"].mi"#, "mi"),
        moved(r#"module.app["a"].db"#, r#"module.app["b"].db"#),
        moved(r#"module.app["b"].old"#, r#"module.app["b"].new"#),
    ];
    let out = md(&p);
    for line in [
        r#"- `module.app["a"].mi` has moved to `mi`"#,
        r#"- `module.app["a"].db` has moved to `module.app["b"].db`"#,
        "- `old` has moved to `new`",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    let text = text(&p);
    assert!(
        text.contains(r#"# module.app["a"].db has moved to module.app["b"].db"#),
        "{text}"
    );
}
