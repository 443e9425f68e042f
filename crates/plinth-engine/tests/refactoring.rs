//! `[[moved]]` and `[[removed]]` (issue 16): explicit moves resolved against state (whole
//! resources, instances, for_each keys, module calls and instances, chains, stale moves,
//! collisions, type mismatches, a `from` still made by its count) and removed blocks (forget
//! or delete). Apply of a move or a forget touches state only: the fake provider sees no
//! create, update or delete.

mod common;

use common::{changed, harness, rewrite};
use plinth_engine::{Address, PlanOptions};
use plinth_plan::{Action, Plan, PlanMode};
use plinth_state::Backend;
use plinth_testkit::*;

fn thing(name: &str, extra: &str) -> String {
    format!("[resource.{name}]\ntype = \"fake:thing\"\n{extra}input = \"one\"\n")
}

fn moved(from: &str, to: &str) -> String {
    format!("[[moved]]\nfrom = '{from}'\nto = '{to}'\n")
}

/// `(address, moved_from)` of every change that moves, sorted.
fn moves(plan: &Plan) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = plan
        .changes
        .iter()
        .filter_map(|c| Some((c.address.clone(), c.moved_from.clone()?)))
        .collect();
    v.sort();
    v
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

fn no_provider_writes(h: &Harness) {
    for op in [Op::Create, Op::Update, Op::Delete] {
        assert_eq!(h.fake.count(op), 0, "{op:?} reached the provider");
    }
}

#[tokio::test(start_paused = true)]
async fn a_rename_keeps_the_object_and_touches_state_only() {
    let mut h = Harness::new(&thing("mi", ""));
    h.up().await;
    let id = h.id("mi");
    h.fake.clear_log();
    h.fake.clear_log();

    h.set_config(&format!(
        "{}{}",
        thing("identity", ""),
        moved("mi", "identity")
    ));
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("identity", "mi")]);
    assert_eq!(
        action(&plan, "identity"),
        Action::NoOp,
        "no replace for a rename"
    );
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    assert_eq!(plan.summary().moved, 1);
    assert!(plan.has_changes());
    h.apply_ok(&plan).await;
    no_provider_writes(&h);
    assert_eq!(h.id("identity"), id);
    assert!(!h.state().resources.contains_key("mi"));
    // The block stays in the configuration: the next plan is empty (a stale move is a no-op).
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_renamed_object_gets_its_normal_diff_at_the_new_address() {
    let mut h = Harness::new(&thing("mi", ""));
    h.up().await;
    let changed_input = thing("identity", "").replace("\"one\"", "\"two\"");
    h.set_config(&format!("{changed_input}{}", moved("mi", "identity")));
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("identity", "mi")]);
    assert_eq!(action(&plan, "identity"), Action::Update);
}

#[tokio::test(start_paused = true)]
async fn a_whole_resource_carries_every_instance_key() {
    let mut h = Harness::new(&thing("a", "count = 2\n"));
    h.up().await;
    let ids = (h.id("a[0]"), h.id("a[1]"));
    h.fake.clear_log();
    h.set_config(&format!("{}{}", thing("b", "count = 2\n"), moved("a", "b")));
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("b[0]", "a[0]"), pair("b[1]", "a[1]")]);
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    h.apply_ok(&plan).await;
    no_provider_writes(&h);
    assert_eq!((h.id("b[0]"), h.id("b[1]")), ids);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn moves_into_and_out_of_for_each_keys_and_count_indexes() {
    let mut h = Harness::new(&thing("mi", ""));
    h.up().await;
    let id = h.id("mi");
    let keyed = thing("mi", "for_each = [\"a\", \"b\"]\n");
    h.set_config(&format!("{keyed}{}", moved("mi", "mi[\"a\"]")));
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("mi[\"a\"]", "mi")]);
    assert_eq!(changed(&plan), ["Create mi[\"b\"]"]);
    h.apply_ok(&plan).await;
    assert_eq!(h.id("mi[\"a\"]"), id);

    // From a for_each key to a count index.
    let counted = thing("mi", "count = 1\n");
    h.set_config(&format!("{counted}{}", moved("mi[\"a\"]", "mi[0]")));
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("mi[0]", "mi[\"a\"]")]);
    assert_eq!(changed(&plan), ["Delete mi[\"b\"]"]);
    h.apply_ok(&plan).await;
    assert_eq!(h.id("mi[0]"), id);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_chain_of_moves_takes_the_object_to_the_end_whatever_the_file_order() {
    let mut h = Harness::new(&thing("a", ""));
    h.up().await;
    let id = h.id("a");
    h.fake.clear_log();
    h.set_config(&format!(
        "{}{}{}",
        thing("c", ""),
        moved("b", "c"),
        moved("a", "b")
    ));
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("c", "a")]);
    h.apply_ok(&plan).await;
    no_provider_writes(&h);
    assert_eq!(h.id("c"), id);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_move_whose_source_is_not_in_state_is_a_no_op() {
    let h = Harness::new(&format!(
        "{}{}",
        thing("identity", ""),
        moved("mi", "identity")
    ));
    let plan = h.plan().await;
    assert!(moves(&plan).is_empty());
    assert_eq!(changed(&plan), ["Create identity"]);
}

#[tokio::test(start_paused = true)]
async fn a_move_onto_an_address_state_holds_is_an_error_naming_both() {
    let mut h = Harness::new(&format!("{}{}", thing("a", ""), thing("b", "")));
    h.up().await;
    h.set_config(&format!("{}{}", thing("b", ""), moved("a", "b")));
    let err = h.try_plan().await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains("cannot move `a` to `b`: state holds an object at both addresses"),
        "{text}"
    );
    assert!(text.contains("plinth state rm 'b'"), "{text}");
    assert!(text.contains("main.toml:"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_move_to_another_type_is_refused() {
    let mut h = Harness::new(&thing("a", ""));
    h.up().await;
    h.set_config(&format!(
        "[resource.b]\ntype = \"core:data\"\ninput = 1\n{}",
        moved("a", "b")
    ));
    let text = h.render(&h.try_plan().await.unwrap_err());
    assert!(
        text.contains("cannot move `a` (a fake:thing) to `b`, which is declared as a core:data"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_from_its_count_still_makes_is_an_error_at_plan_time() {
    let mut h = Harness::new(&format!("{}{}", thing("x", "count = 2\n"), thing("y", "")));
    h.up().await;
    h.set_config(&format!(
        "{}{}{}",
        thing("x", "count = 2\n"),
        thing("z", ""),
        moved("x[1]", "z")
    ));
    let text = h.render(&h.try_plan().await.unwrap_err());
    assert!(
        text.contains("`x[1]` is still declared: the configuration still makes this instance"),
        "{text}"
    );
}

const APP: &str =
    "[variable.name]\ntype = \"string\"\n\n[resource.mi]\ntype = \"fake:thing\"\ninput = \"one\"\n";

#[tokio::test(start_paused = true)]
async fn a_root_resource_moves_into_a_module_instance_and_a_module_call_to_another() {
    let root = thing("mi", "");
    let (dir, mut h) = harness(&[("main.toml", &root), ("modules/app/main.toml", APP)]);
    h.up().await;
    let id = h.id("mi");
    h.fake.clear_log();

    let call = "[module.app]\nsource = \"./modules/app\"\nfor_each = [\"orders\"]\nname = \"${each.key}\"\n";
    let into = format!("{call}{}", moved("mi", "module.app[\"orders\"].mi"));
    rewrite(&mut h, &dir, &[("main.toml", &into)]);
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("module.app[\"orders\"].mi", "mi")]);
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    h.apply_ok(&plan).await;
    no_provider_writes(&h);
    assert_eq!(h.id("module.app[\"orders\"].mi"), id);
    h.assert_converged().await;

    // The call renamed: everything under each instance moves with its key.
    let renamed = format!(
        "{}{}{}",
        call.replace("[module.app]", "[module.svc]"),
        moved("mi", "module.app[\"orders\"].mi"),
        moved("module.app", "module.svc")
    );
    rewrite(&mut h, &dir, &[("main.toml", &renamed)]);
    let plan = h.plan().await;
    assert_eq!(
        moves(&plan),
        [pair(
            "module.svc[\"orders\"].mi",
            "module.app[\"orders\"].mi"
        )]
    );
    h.apply_ok(&plan).await;
    no_provider_writes(&h);
    assert_eq!(h.id("module.svc[\"orders\"].mi"), id);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_move_inside_a_module_applies_in_each_of_its_instances() {
    let call = "[module.app]\nsource = \"./modules/app\"\nfor_each = [\"a\", \"b\"]\nname = \"${each.key}\"\n";
    let (dir, mut h) = harness(&[("main.toml", call), ("modules/app/main.toml", APP)]);
    h.up().await;
    let renamed = format!(
        "{}{}",
        APP.replace("[resource.mi]", "[resource.identity]"),
        moved("mi", "identity")
    );
    rewrite(&mut h, &dir, &[("modules/app/main.toml", &renamed)]);
    let plan = h.plan().await;
    assert_eq!(
        moves(&plan),
        [
            pair("module.app[\"a\"].identity", "module.app[\"a\"].mi"),
            pair("module.app[\"b\"].identity", "module.app[\"b\"].mi"),
        ]
    );
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
}

#[tokio::test(start_paused = true)]
async fn removed_with_destroy_false_forgets_the_object_and_leaves_it_in_the_cloud() {
    let mut h = Harness::new(&format!(
        "{}{}",
        thing("keep", ""),
        thing(
            "legacy",
            "count = 2\nlifecycle = { prevent_destroy = true }\n"
        )
    ));
    h.up().await;
    let ids = [h.id("legacy[0]"), h.id("legacy[1]")];
    h.fake.clear_log();

    h.set_config(&format!(
        "{}[[removed]]\nfrom = \"legacy\"\nlifecycle = {{ destroy = false }}\n",
        thing("keep", "")
    ));
    let plan = h.plan().await;
    assert_eq!(changed(&plan), ["Forget legacy[0]", "Forget legacy[1]"]);
    let c = plan.change("legacy[0]").unwrap();
    assert_eq!(c.id.as_deref(), Some(ids[0].as_str()));
    assert!(c.before.is_some());
    assert!(
        c.reason.as_deref().unwrap().contains("destroy = false"),
        "{:?}",
        c.reason
    );
    assert_eq!(plan.summary().forget, 2);
    assert!(plan.has_changes());

    h.apply_ok(&plan).await;
    no_provider_writes(&h);
    assert!(!h.state().resources.keys().any(|a| a.starts_with("legacy")));
    for id in &ids {
        assert!(h.fake.object(id).is_some(), "{id} was deleted");
    }
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn removed_with_destroy_true_deletes_and_a_destroy_plan_deletes_forgets_too() {
    let mut h = Harness::new(&format!("{}{}", thing("a", ""), thing("b", "")));
    h.up().await;
    let (a, b) = (h.id("a"), h.id("b"));
    h.set_config("[[removed]]\nfrom = \"a\"\n\n[[removed]]\nfrom = \"b\"\ndestroy = false\n");

    // Destroy mode destroys everything, forgets included (as Terraform's).
    let destroy = h.plan_mode(PlanMode::Destroy).await;
    assert_eq!(changed(&destroy), ["Delete a", "Delete b"]);

    let plan = h.plan().await;
    assert_eq!(changed(&plan), ["Delete a", "Forget b"]);
    assert_eq!(
        plan.change("a").unwrap().reason.as_deref(),
        Some("removed from the configuration ([[removed]] with destroy = true)")
    );
    // A targeted plan keeps the forget of its target.
    let targeted = h
        .plan_with(PlanOptions {
            targets: vec![Address::resource("b")],
            ..Default::default()
        })
        .await;
    assert_eq!(changed(&targeted), ["Forget b"]);

    h.apply_ok(&plan).await;
    assert!(h.fake.object(&a).is_none());
    assert!(h.fake.object(&b).is_some());
    assert!(h.state().resources.is_empty());
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn removed_module_call_forgets_everything_under_it() {
    let call = "[module.app]\nsource = \"./modules/app\"\nfor_each = [\"a\", \"b\"]\nname = \"${each.key}\"\n";
    let (dir, mut h) = harness(&[("main.toml", call), ("modules/app/main.toml", APP)]);
    h.up().await;
    h.fake.clear_log();
    rewrite(
        &mut h,
        &dir,
        &[(
            "main.toml",
            "[[removed]]\nfrom = \"module.app\"\ndestroy = false\n",
        )],
    );
    let plan = h.plan().await;
    assert_eq!(
        changed(&plan),
        ["Forget module.app[\"a\"].mi", "Forget module.app[\"b\"].mi"]
    );
    h.apply_ok(&plan).await;
    no_provider_writes(&h);
    assert!(h.state().resources.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_explicit_move_wins_over_the_move_count_implies() {
    let mut h = Harness::new(&thing("x", ""));
    h.up().await;
    let id = h.id("x");
    h.set_config(&format!(
        "{}{}",
        thing("x", "count = 2\n"),
        moved("x", "x[1]")
    ));
    let plan = h.plan().await;
    assert_eq!(moves(&plan), [pair("x[1]", "x")]);
    assert_eq!(changed(&plan), ["Create x[0]"]);
    h.apply_ok(&plan).await;
    assert_eq!(h.id("x[1]"), id);
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_blocked_step_of_a_chain_names_the_address_state_records() {
    let mut h = Harness::new(&format!("{}{}", thing("a", ""), thing("c", "")));
    h.up().await;
    h.set_config(&format!(
        "{}{}{}",
        thing("c", ""),
        moved("a", "b"),
        moved("b", "c")
    ));
    let text = h.render(&h.try_plan().await.unwrap_err());
    assert!(
        text.contains("cannot move `a` to `c`: state holds an object at both addresses"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_saved_forget_is_refused_once_the_record_is_gone_and_is_one_journal_record() {
    let mut h = Harness::new(&format!("{}{}", thing("a", ""), thing("b", "")));
    h.up().await;
    h.set_config(&format!(
        "{}[[removed]]\nfrom = \"a\"\ndestroy = false\n",
        thing("b", "")
    ));
    let plan = h.plan().await;
    assert_eq!(changed(&plan), ["Forget a"]);

    // Someone else removes the record first (`plinth state rm`).
    let mut writer = h.backend.open_writer(h.state()).unwrap();
    writer
        .record(plinth_state::Change::Remove {
            address: "a".into(),
        })
        .unwrap();
    drop(writer);
    let serial = h.state().serial;
    match h.try_apply(&plan).await {
        Err(plinth_engine::EngineError::Config(d)) => {
            let text = h.render(&d);
            assert!(
                text.contains("the plan forgets `a`, but state no longer holds it"),
                "{text}"
            );
        }
        other => panic!("expected the forget to be refused, got {other:?}"),
    }
    assert_eq!(h.state().serial, serial, "nothing was written");

    // Against the state it was made for, the forget is one state change and nothing else.
    let mut h = Harness::new(&format!("{}{}", thing("a", ""), thing("b", "")));
    h.up().await;
    h.set_config(&format!(
        "{}[[removed]]\nfrom = \"a\"\ndestroy = false\n",
        thing("b", "")
    ));
    let plan = h.plan().await;
    let before = h.backend.changes().len();
    h.apply_ok(&plan).await;
    let recorded: Vec<plinth_state::Change> = h.backend.changes()[before..]
        .iter()
        .map(|(_, c)| c.clone())
        .collect();
    assert!(
        matches!(&recorded[..], [plinth_state::Change::Remove { address }] if address == "a"),
        "{recorded:?}"
    );
}
