//! Modules: calls once, with for_each and count, nested; values through outputs; instances
//! added and removed; validation across the boundary; --target of a module instance; apply
//! ordering across the boundary.

mod common;

use common::{changed, harness, load_into, write};
use plinth_engine::{Address, PlanOptions};
use plinth_testkit::*;

const IDENTITY: &str = r#"
[variable.name]
type = "string"

[variable.issuer]
type = "string"
default = "none"

[resource.mi]
type = "fake:thing"
name = "mi-${var.name}"
issuer = "${var.issuer}"

[resource.fic]
type = "fake:thing"
name = "fic-${var.name}"
principal = "${mi.id}"

[output.client_id]
value = "${mi.id}"
"#;

const ROOT: &str = r#"
[resource.aks]
type = "fake:thing"
name = "aks"

[module.app]
source = "./modules/identity"
for_each = ["orders", "billing"]
name = "${each.key}"
issuer = "${aks.id}"

[resource.consumer]
type = "fake:thing"
name = "consumer"
client = '${module.app["orders"].client_id}'

[output.ids]
value = "${[for k, m in module.app : m.client_id]}"
"#;

#[tokio::test(start_paused = true)]
async fn a_module_with_for_each_plans_each_instance_and_its_outputs_reach_the_caller() {
    let (_dir, h) = harness(&[
        ("main.toml", ROOT),
        ("modules/identity/main.toml", IDENTITY),
    ]);
    let plan = h.plan().await;
    assert_eq!(
        changed(&plan),
        [
            "Create aks",
            "Create consumer",
            "Create module.app[\"billing\"].fic",
            "Create module.app[\"billing\"].mi",
            "Create module.app[\"orders\"].fic",
            "Create module.app[\"orders\"].mi",
        ]
    );
    // A module object depends on what its inputs refer to in the caller; the caller's
    // object on the module instance it reads.
    let mi = plan
        .changes
        .iter()
        .find(|c| c.address == "module.app[\"orders\"].mi")
        .unwrap();
    assert_eq!(mi.depends_on, ["aks"]);
    let consumer = plan
        .changes
        .iter()
        .find(|c| c.address == "consumer")
        .unwrap();
    // (Conservatively, on every instance of the module it reads an output of.)
    assert!(
        consumer
            .depends_on
            .contains(&"module.app[\"orders\"].mi".to_string())
    );

    h.apply_ok(&plan).await;
    let creates = h.fake.started(Op::Create);
    let pos = |a: &str| creates.iter().position(|x| x == a).unwrap();
    assert!(pos("aks") < pos("module.app[\"orders\"].mi"));
    assert!(pos("module.app[\"orders\"].mi") < pos("consumer"));
    let state = h.state();
    assert_eq!(
        state.resources["consumer"].inputs["client"],
        serde_json::json!(h.id("module.app[\"orders\"].mi"))
    );
    assert_eq!(
        state.resources["module.app[\"billing\"].mi"].inputs["issuer"],
        serde_json::json!(h.id("aks"))
    );
    assert_eq!(
        state.outputs["ids"].value,
        serde_json::json!([
            h.id("module.app[\"billing\"].mi"),
            h.id("module.app[\"orders\"].mi")
        ])
    );
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn adding_or_removing_a_for_each_key_changes_exactly_that_instance() {
    let (dir, mut h) = harness(&[
        ("main.toml", ROOT),
        ("modules/identity/main.toml", IDENTITY),
    ]);
    h.up().await;
    write(
        &dir,
        &[(
            "main.toml",
            &ROOT.replace(
                r#"["orders", "billing"]"#,
                r#"["orders", "billing", "audit"]"#,
            ),
        )],
    );
    load_into(&mut h, &dir);
    let plan = h.plan().await;
    assert_eq!(
        changed(&plan),
        [
            "Create module.app[\"audit\"].fic",
            "Create module.app[\"audit\"].mi",
        ]
    );
    h.apply_ok(&plan).await;

    write(
        &dir,
        &[(
            "main.toml",
            &ROOT.replace(r#"["orders", "billing"]"#, r#"["orders", "audit"]"#),
        )],
    );
    load_into(&mut h, &dir);
    let plan = h.plan().await;
    assert_eq!(
        changed(&plan),
        [
            "Delete module.app[\"billing\"].fic",
            "Delete module.app[\"billing\"].mi"
        ]
    );
    h.fake.clear_log();
    h.apply_ok(&plan).await;
    // Dependents first.
    assert_eq!(
        h.fake.started(Op::Delete),
        ["module.app[\"billing\"].fic", "module.app[\"billing\"].mi"]
    );
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn nested_modules_and_count_on_a_call() {
    let (_dir, h) = harness(&[
        (
            "main.toml",
            r#"
[module.net]
source = "./modules/net"
count = 2
prefix = "n${count.index}"

[output.subnets]
value = "${module.net[1].subnet}"
"#,
        ),
        (
            "modules/net/main.toml",
            r#"
[variable.prefix]
type = "string"

[resource.vnet]
type = "fake:thing"
name = "${var.prefix}-vnet"

[module.sub]
source = "../sub"
vnet = "${vnet.id}"
prefix = "${var.prefix}"

[output.subnet]
value = "${module.sub.id}"
"#,
        ),
        (
            "modules/sub/main.toml",
            r#"
[variable.vnet]
[variable.prefix]

[resource.subnet]
type = "fake:thing"
name = "${var.prefix}-subnet"
vnet = "${var.vnet}"

[output.id]
value = "${subnet.id}"
"#,
        ),
    ]);
    let plan = h.plan().await;
    assert_eq!(
        changed(&plan),
        [
            "Create module.net[0].module.sub.subnet",
            "Create module.net[0].vnet",
            "Create module.net[1].module.sub.subnet",
            "Create module.net[1].vnet",
        ]
    );
    let sub = plan
        .changes
        .iter()
        .find(|c| c.address == "module.net[1].module.sub.subnet")
        .unwrap();
    assert_eq!(sub.depends_on, ["module.net[1].vnet"]);
    h.apply_ok(&plan).await;
    let state = h.state();
    assert_eq!(
        state.outputs["subnets"].value,
        serde_json::json!(h.id("module.net[1].module.sub.subnet"))
    );
    assert_eq!(
        state.resources["module.net[0].module.sub.subnet"].inputs["vnet"],
        serde_json::json!(h.id("module.net[0].vnet"))
    );
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_target_of_a_module_instance_plans_only_it_and_what_it_needs() {
    let (_dir, h) = harness(&[
        ("main.toml", ROOT),
        ("modules/identity/main.toml", IDENTITY),
    ]);
    let opts = |t: &str| PlanOptions {
        targets: vec![t.parse::<Address>().unwrap()],
        parallelism: 4,
        ..Default::default()
    };
    let plan = h.plan_with(opts("module.app[\"billing\"]")).await;
    assert_eq!(
        changed(&plan),
        [
            "Create aks",
            "Create module.app[\"billing\"].fic",
            "Create module.app[\"billing\"].mi",
        ]
    );
    let plan = h.plan_with(opts("module.app")).await;
    assert_eq!(changed(&plan).len(), 5, "{:?}", changed(&plan));
}

#[tokio::test(start_paused = true)]
async fn an_undeclared_output_and_a_mistyped_input_are_located_errors() {
    let (_dir, h) = harness(&[
        (
            "main.toml",
            r#"
[module.app]
source = "./modules/identity"
name = "${length([1, 2])}"

[output.x]
value = "${module.app.client}"
"#,
        ),
        ("modules/identity/main.toml", IDENTITY),
    ]);
    let d = h.try_plan().await.unwrap_err();
    let text = h.render(&d);
    assert!(
        text.contains("`module.app` has no output `client`"),
        "{text}"
    );
    assert!(text.contains("its outputs are: client_id"), "{text}");

    let (_dir, h) = harness(&[
        (
            "main.toml",
            r#"
[module.app]
source = "./modules/identity"
name = "${length([1, 2])}"
"#,
        ),
        ("modules/identity/main.toml", IDENTITY),
    ]);
    let d = h.try_plan().await.unwrap_err();
    let text = h.render(&d);
    assert!(
        text.contains("input `name` must be a string, but the expression gives a number"),
        "{text}"
    );
    assert!(text.contains("main.toml"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_cycle_through_a_module_is_printed_through_it() {
    let (_dir, h) = harness(&[
        (
            "main.toml",
            r#"
[resource.rg]
type = "fake:thing"
name = "${module.app.client_id}"

[module.app]
source = "./modules/identity"
name = "x"
issuer = "${rg.id}"
"#,
        ),
        ("modules/identity/main.toml", IDENTITY),
    ]);
    let d = h.try_plan().await.unwrap_err();
    let text = h.render(&d);
    assert!(text.contains("dependency cycle"), "{text}");
    assert!(text.contains("module.app.output.client_id"), "{text}");
    assert!(text.contains("module.app.var.issuer"), "{text}");
    assert!(text.contains("module.app.mi"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn sensitive_outputs_stay_sensitive_and_unknown_ones_are_known_after_apply() {
    let (_dir, h) = harness(&[
        (
            "main.toml",
            r#"
[module.app]
source = "./modules/secret"

[resource.user]
type = "fake:thing"
name = "user"
secret_value = "${module.app.token}"
id_seen = "${module.app.id}"

[output.token]
value = "${module.app.token}"
sensitive = true
"#,
        ),
        (
            "modules/secret/main.toml",
            r#"
[variable.secret]
default = "hunter2"
sensitive = true

[resource.thing]
type = "fake:thing"
name = "secret-thing"

[output.token]
value = "${var.secret}"
sensitive = true

[output.id]
value = "${thing.id}"
"#,
        ),
    ]);
    let plan = h.plan().await;
    let user = plan.changes.iter().find(|c| c.address == "user").unwrap();
    let config = user.config.as_ref().unwrap();
    assert!(
        config
            .get(&plinth_value::Path::root().key("secret_value"))
            .unwrap()
            .is_sensitive()
    );
    assert!(!config.is_wholly_known(), "id_seen is known after apply");
    h.apply_ok(&plan).await;
    assert!(h.state().outputs["token"].sensitive);
    h.assert_converged().await;
}

/// A module of five objects: `base` needs nothing from the caller; the others read
/// `var.issuer` (directly, through a local, or through another object of the instance).
const LAYERED: &str = r#"
[variable.name]
type = "string"

[variable.issuer]
type = "string"

[locals]
tagged = "${var.issuer}/${var.name}"

[resource.base]
type = "fake:thing"
name = "base-${var.name}"

[resource.first]
type = "fake:thing"
name = "first-${var.name}"
issuer = "${var.issuer}"

[resource.second]
type = "fake:thing"
name = "second-${var.name}"
issuer = "${local.tagged}"

[resource.third]
type = "fake:thing"
name = "third-${var.name}"
issuer = "${var.issuer}"
after = "${first.id}"
"#;

#[tokio::test(start_paused = true)]
async fn an_input_known_only_after_apply_reaches_every_object_of_every_instance() {
    let (_dir, h) = harness(&[
        (
            "main.toml",
            r#"
[resource.aks]
type = "fake:thing"
name = "aks"

[module.app]
source = "./modules/layered"
for_each = ["a", "b", "c"]
name = "${each.key}"
issuer = "${aks.id}"
"#,
        ),
        ("modules/layered/main.toml", LAYERED),
    ]);
    let plan = h.plan().await;
    assert_eq!(plan.summary().add, 13);
    // An object depends on what the instance's inputs refer to and on objects of its own
    // instance only, not on the same objects of the other instances.
    let third = plan
        .changes
        .iter()
        .find(|c| c.address == "module.app[\"b\"].third")
        .unwrap();
    let mut deps = third.depends_on.clone();
    deps.sort();
    assert_eq!(deps, ["aks", "module.app[\"b\"].first"]);
    // `aks` is held until every `base` has started: each instance's scope is first built
    // while its `issuer` input is still unknown.
    let gate = h.fake.gate("aks", Op::Create);
    let (tx, rx) = tokio::sync::watch::channel(0u32);
    let fake = h.fake.clone();
    let (result, _) = h
        .apply_during(&plan, rx, async move {
            for key in ["a", "b", "c"] {
                fake.wait_started(&format!("module.app[\"{key}\"].base"), Op::Create)
                    .await;
            }
            gate.open();
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            drop(tx);
        })
        .await;
    let report = result.expect("apply");
    assert!(report.ok(), "{report:?}");
    let aks_done = h.fake.pos("aks", Op::Create, false);
    let state = h.state();
    let aks = serde_json::json!(h.id("aks"));
    for key in ["a", "b", "c"] {
        let at = |name: &str| format!("module.app[\"{key}\"].{name}");
        assert!(h.fake.pos(&at("base"), Op::Create, true) < aks_done);
        for name in ["first", "second", "third"] {
            assert!(aks_done < h.fake.pos(&at(name), Op::Create, true), "{name}");
        }
        assert_eq!(state.resources[&at("first")].inputs["issuer"], aks);
        assert_eq!(state.resources[&at("third")].inputs["issuer"], aks);
        assert_eq!(
            state.resources[&at("second")].inputs["issuer"],
            serde_json::json!(format!("{}/{key}", h.id("aks")))
        );
        assert_eq!(
            state.resources[&at("third")].inputs["after"],
            serde_json::json!(h.id(&at("first")))
        );
    }
    h.assert_converged().await;
}
