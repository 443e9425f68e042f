//! `[[moved]]` and `[[removed]]` end to end (issue 16), with the `plinth` binary: renames,
//! moves into for_each keys and module instances, chains, stale moves and collisions on
//! `core:data`; on the simulated cloud, a managed identity renamed without a single write
//! reaching ARM, and removed blocks that forget (the identity stays) or delete it.

mod common;

use common::Project;
use common::sim::Sim;

fn data(name: &str, extra: &str) -> String {
    format!("[resource.{name}]\ntype = \"core:data\"\n{extra}input = \"one\"\n\n")
}

fn moved(from: &str, to: &str) -> String {
    format!("[[moved]]\nfrom = '{from}'\nto = '{to}'\n\n")
}

#[test]
fn a_rename_is_shown_as_a_move_applied_to_state_only_and_then_converges() {
    let p = Project::with_main(&data("mi", ""));
    p.apply(&[]);
    let id = p.id_of("mi");

    p.write(
        "main.toml",
        &format!("{}{}", data("identity", ""), moved("mi", "identity")),
    );
    p.plan_changes(&["--no-color"])
        .stdout_has("# mi has moved to identity")
        .stdout_lacks("must be replaced")
        .stdout_has("to move");
    let apply = p.apply(&[]);
    assert!(
        apply.ops().is_empty(),
        "a move runs no operation: {:?}",
        apply.ops()
    );
    assert_eq!(p.state_list(), ["identity"]);
    assert_eq!(p.id_of("identity"), id);
    // The moved block stays in the configuration: a stale move is a no-op.
    p.assert_no_changes(&[]);
}

#[test]
fn moves_into_a_for_each_key_and_a_module_instance_and_along_a_chain() {
    let p = Project::with_main(&format!("{}{}", data("mi", ""), data("a", "")));
    std::fs::create_dir_all(p.path("modules/app")).expect("module dir");
    p.write(
        "modules/app/main.toml",
        "[variable.name]\ntype = \"string\"\n\n[resource.mi]\ntype = \"core:data\"\ninput = \"one\"\n",
    );
    p.apply(&[]);
    let (mi, a) = (p.id_of("mi"), p.id_of("a"));

    let config = format!(
        "[module.app]\nsource = \"./modules/app\"\nfor_each = [\"orders\"]\nname = \"${{each.key}}\"\n\n{}{}{}{}",
        data("c", "for_each = [\"x\"]\n"),
        moved("mi", "module.app[\"orders\"].mi"),
        moved("b", "c[\"x\"]"),
        moved("a", "b"),
    );
    p.write("main.toml", &config);
    let plan = p.run(&["plan", "--json", "--detailed-exitcode"]);
    plan.code(2);
    let doc = plan.plan_doc();
    let moved_from = |address: &str| {
        doc["plan"]["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .and_then(|c| c["moved_from"].as_str().map(str::to_string))
    };
    assert_eq!(
        moved_from("module.app[\"orders\"].mi").as_deref(),
        Some("mi")
    );
    assert_eq!(moved_from("c[\"x\"]").as_deref(), Some("a"));
    let apply = p.apply(&[]);
    assert!(apply.ops().is_empty(), "{:?}", apply.ops());
    assert_eq!(p.id_of("module.app[\"orders\"].mi"), mi);
    assert_eq!(p.id_of("c[\"x\"]"), a);
    p.assert_no_changes(&[]);
}

#[test]
fn a_move_onto_an_address_state_holds_fails_naming_both() {
    let p = Project::with_main(&format!("{}{}", data("a", ""), data("b", "")));
    p.apply(&[]);
    p.write(
        "main.toml",
        &format!("{}{}", data("b", ""), moved("a", "b")),
    );
    p.fails(&["plan"])
        .stderr_has("cannot move `a` to `b`: state holds an object at both addresses")
        .stderr_has("main.toml:")
        .stderr_has("plinth state rm 'b'");
    // Nothing was applied: both objects are still where they were.
    p.fails(&["apply", "--auto-approve"]);
    assert_eq!(p.state_list(), ["a", "b"]);
}

#[test]
fn a_forget_is_a_change_and_the_plan_after_it_is_empty() {
    let p = Project::with_main(&format!("{}{}", data("keep", ""), data("legacy_queue", "")));
    p.apply(&[]);
    p.write(
        "main.toml",
        &format!(
            "{}[[removed]]\nfrom = \"legacy_queue\"\ndestroy = false\n",
            data("keep", "")
        ),
    );
    p.plan_changes(&["--no-color"]).stdout_has("1 to forget");
    let apply = p.apply(&[]);
    assert!(
        apply.ops().is_empty(),
        "a forget runs no operation: {:?}",
        apply.ops()
    );
    assert_eq!(p.state_list(), ["keep"]);
    p.assert_no_changes(&[]);
}

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

fn identity(name: &str) -> String {
    format!(
        "[resource.{name}]\ntype = \"azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30\"\nparent = \"${{rg.id}}\"\nname = \"orders-identity\"\nlocation = \"eastus\"\n\n"
    )
}

const RG: &str = "[resource.rg]\ntype = \"azure:Microsoft.Resources/resourceGroups@2025-04-01\"\nname = \"refactor-rg\"\nlocation = \"eastus\"\n\n";

/// The ARM writes (PUT, PATCH, DELETE) in the simulator's request log from position `from`.
fn arm_writes(sim: &Sim, from: usize) -> Vec<String> {
    sim.requests()[from..]
        .iter()
        .filter(|e| matches!(e["method"].as_str(), Some("PUT" | "PATCH" | "DELETE")))
        .map(|e| format!("{} {}", e["method"], e["path"]))
        .collect()
}

fn holds_identity(sim: &Sim) -> bool {
    sim.inventory().iter().any(|id| {
        id.to_ascii_lowercase()
            .ends_with("/userassignedidentities/orders-identity")
    })
}

#[test]
fn on_the_sim_a_renamed_identity_sends_no_write_and_removed_forgets_or_deletes_it() {
    let p = Project::with_main(&format!("{RG}{}", identity("mi")));
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    let id = p.id_of("mi");
    assert!(id.starts_with(SUB), "{id}");

    // Renamed: the plan is a move, and the apply sends nothing that writes to ARM.
    p.write(
        "main.toml",
        &format!("{RG}{}{}", identity("identity"), moved("mi", "identity")),
    );
    p.sim_run(&sim, &["plan", "--detailed-exitcode", "--no-color"])
        .code(2)
        .stdout_has("# mi has moved to identity");
    let before = sim.requests().len();
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    assert_eq!(arm_writes(&sim, before), Vec::<String>::new());
    assert_eq!(p.id_of("identity"), id);
    assert!(holds_identity(&sim));
    p.sim_run(&sim, &["plan", "--detailed-exitcode"]).code(0);

    // Removed with destroy = false: state forgets it, the cloud keeps it.
    p.write(
        "main.toml",
        &format!("{RG}[[removed]]\nfrom = \"identity\"\ndestroy = false\n"),
    );
    let before = sim.requests().len();
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    assert_eq!(arm_writes(&sim, before), Vec::<String>::new());
    assert_eq!(p.state_list(), ["rg"]);
    assert!(holds_identity(&sim), "the identity stays in the cloud");
    p.sim_run(&sim, &["plan", "--detailed-exitcode"]).code(0);

    // Adopted again, then removed with destroy = true: deleted.
    p.write("main.toml", &format!("{RG}{}", identity("identity")));
    p.sim_run(&sim, &["import", "identity", &id]).code(0);
    p.write(
        "main.toml",
        &format!("{RG}[[removed]]\nfrom = \"identity\"\n"),
    );
    p.sim_run(&sim, &["plan", "--no-color"])
        .code(0)
        .stdout_has("[[removed]] with destroy = true");
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    assert!(!holds_identity(&sim), "the identity was deleted");
    assert_eq!(p.state_list(), ["rg"]);
}

#[test]
fn a_move_onto_an_instance_the_configuration_does_not_make_fails_instead_of_destroying_it() {
    let p = Project::with_main(&data("mi", ""));
    p.apply(&[]);
    std::fs::create_dir_all(p.path("modules/app")).expect("module dir");
    p.write(
        "modules/app/main.toml",
        "[resource.mi]\ntype = \"core:data\"\ninput = \"one\"\n",
    );
    let module = "[module.app]\nsource = \"./modules/app\"\nfor_each = [\"orders\"]\n\n";
    // A key typed wrong (`order` for `orders`): the object would move there and be destroyed.
    for (to, made) in [
        ("svc[\"order\"]", "svc"),
        ("module.app[\"order\"].mi", "module.app"),
    ] {
        p.write(
            "main.toml",
            &format!(
                "{module}{}{}",
                data("svc", "for_each = [\"orders\"]\n"),
                moved("mi", to)
            ),
        );
        p.fails(&["plan", "--no-color"])
            .stderr_has(&format!(
                "cannot move `mi` to `{to}`: the configuration makes no such instance, so the object would be destroyed"
            ))
            .stderr_has("main.toml:")
            .stderr_has(&format!("the for_each of `{made}` makes"))
            .stderr_has("[\"orders\"]");
    }
    assert_eq!(p.state_list(), ["mi"]);
    // With the key corrected, the move is planned (and nothing is destroyed).
    p.write(
        "main.toml",
        &format!(
            "{module}{}{}",
            data("svc", "for_each = [\"orders\"]\n"),
            moved("mi", "svc[\"orders\"]")
        ),
    );
    p.plan_changes(&["--no-color"])
        .stdout_has("# mi has moved to svc[\"orders\"]")
        .stdout_has("0 to destroy");
}

#[test]
fn a_target_naming_the_old_address_of_a_moved_object_plans_its_move() {
    let p = Project::with_main(&format!("{}{}", data("a", ""), data("other", "")));
    p.apply(&[]);
    p.write(
        "main.toml",
        &format!(
            "[resource.b]\ntype = \"core:data\"\ninput = \"two\"\n\n{}{}",
            data("other", ""),
            moved("a", "b")
        ),
    );
    p.plan_changes(&["--target", "a", "--no-color"])
        .stdout_has("# a has moved to b")
        .stdout_has("1 to change");
    p.ok(&["apply", "--auto-approve", "--target", "a"]);
    assert_eq!(p.state_list(), ["b", "other"]);
    p.assert_no_changes(&[]);
}

#[test]
fn the_apply_summary_counts_what_it_forgot() {
    let p = Project::with_main(&format!("{}{}", data("keep", ""), data("legacy", "")));
    p.apply(&[]);
    p.write(
        "main.toml",
        &format!(
            "{}[[removed]]\nfrom = \"legacy\"\ndestroy = false\n",
            data("keep", "")
        ),
    );
    p.ok(&["apply", "--auto-approve", "--no-color"])
        .stdout_has("Resources: 0 added, 0 changed, 0 replaced, 0 destroyed, 1 forgotten.");
}

#[test]
fn a_move_inside_a_renamed_module_written_with_the_old_path_runs_first_as_in_terraform() {
    let p = Project::with_main("[module.a]\nsource = \"./modules/app\"\n");
    std::fs::create_dir_all(p.path("modules/app")).expect("module dir");
    p.write("modules/app/main.toml", &data("x", ""));
    p.apply(&[]);
    let id = p.id_of("module.a.x");
    // Both written against the old addresses: the nested move runs before the outer one.
    p.write("modules/app/main.toml", &data("y", ""));
    p.write(
        "main.toml",
        &format!(
            "[module.b]\nsource = \"./modules/app\"\n\n{}{}",
            moved("module.a", "module.b"),
            moved("module.a.x", "module.a.y")
        ),
    );
    p.plan_changes(&["--no-color"])
        .stdout_has("# module.a.x has moved to module.b.y")
        .stdout_has("0 to add");
    p.apply(&[]);
    assert_eq!(p.id_of("module.b.y"), id);
    p.assert_no_changes(&[]);
}

#[test]
fn a_move_onto_an_address_another_move_takes_names_the_object_state_records() {
    let p = Project::with_main(&format!(
        "{}{}",
        data("app", "for_each = [\"x\"]\n"),
        data("old", "")
    ));
    p.apply(&[]);
    p.write(
        "main.toml",
        &format!(
            "{}{}{}",
            data("svc", "for_each = [\"x\"]\n"),
            moved("app", "svc"),
            moved("old", "svc[\"x\"]")
        ),
    );
    p.fails(&["plan", "--no-color"])
        .stderr_has(
            "cannot move `old` to `svc[\"x\"]`: another moved block already takes `app[\"x\"]` there",
        )
        .stderr_has("plinth state rm 'app[\"x\"]'");
}
