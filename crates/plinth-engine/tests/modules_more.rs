//! Modules, continued: implied count moves inside module instances, prevent_destroy of
//! objects in modules, the `--target` hint of an unknown for_each inside a module.

mod common;

use common::{changed, harness, rewrite};
use plinth_plan::{Action, PlanMode};
use plinth_testkit::*;

const CALLER: &str = r#"
[module.app]
source = "./modules/app"
for_each = ["a", "b"]
name = "${each.key}"
"#;

const APP: &str = r#"
[variable.name]
type = "string"

[resource.x]
type = "fake:thing"
name = "x-${var.name}"
"#;

#[tokio::test(start_paused = true)]
async fn adding_and_removing_count_inside_a_module_moves_each_instance_s_object() {
    let (dir, mut h) = harness(&[("main.toml", CALLER), ("modules/app/main.toml", APP)]);
    h.up().await;
    let before = h.id("module.app[\"a\"].x");

    let counted = APP.replace("[resource.x]\n", "[resource.x]\ncount = 1\n");
    rewrite(&mut h, &dir, &[("modules/app/main.toml", &counted)]);
    let plan = h.plan().await;
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    let moved: Vec<(String, Option<String>)> = plan
        .changes
        .iter()
        .filter(|c| c.moved_from.is_some())
        .map(|c| (c.address.clone(), c.moved_from.clone()))
        .collect();
    assert_eq!(
        moved,
        [
            (
                "module.app[\"a\"].x[0]".to_string(),
                Some("module.app[\"a\"].x".to_string())
            ),
            (
                "module.app[\"b\"].x[0]".to_string(),
                Some("module.app[\"b\"].x".to_string())
            ),
        ]
    );
    h.apply_ok(&plan).await;
    assert_eq!(h.id("module.app[\"a\"].x[0]"), before, "the same object");
    h.assert_converged().await;

    // And back: count removed moves index 0 to the bare address.
    rewrite(&mut h, &dir, &[("modules/app/main.toml", APP)]);
    let plan = h.plan().await;
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    assert_eq!(
        plan.change("module.app[\"a\"].x")
            .unwrap()
            .moved_from
            .as_deref(),
        Some("module.app[\"a\"].x[0]")
    );
    h.apply_ok(&plan).await;
    assert_eq!(h.id("module.app[\"a\"].x"), before);
    assert_eq!(h.fake.count(Op::Delete), 0, "nothing deleted");
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn prevent_destroy_inside_a_module_refuses_a_destroy_and_a_removed_instance() {
    let guarded = APP.replace(
        "name = \"x-${var.name}\"\n",
        "name = \"x-${var.name}\"\nlifecycle = { prevent_destroy = true }\n",
    );
    let (dir, mut h) = harness(&[("main.toml", CALLER), ("modules/app/main.toml", &guarded)]);
    h.up().await;

    let err = h.try_plan_mode(PlanMode::Destroy).await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains(
            "`module.app[\"a\"].x` has lifecycle.prevent_destroy, so it cannot be destroyed"
        ),
        "{text}"
    );
    assert!(
        text.contains("modules/app/main.toml"),
        "located in the module: {text}"
    );

    // Removing the instance "b" would delete its object: refused too, naming the fix.
    rewrite(
        &mut h,
        &dir,
        &[("main.toml", &CALLER.replace("[\"a\", \"b\"]", "[\"a\"]"))],
    );
    let err = h.try_plan().await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains("`module.app[\"b\"].x` has lifecycle.prevent_destroy, but the configuration no longer produces this instance"),
        "{text}"
    );
    assert!(
        text.contains("keep the instance in the for_each/count"),
        "{text}"
    );
    assert!(
        !text.contains("module.app[\"a\"]"),
        "only b is refused: {text}"
    );

    // Without prevent_destroy the instance goes.
    rewrite(&mut h, &dir, &[("modules/app/main.toml", APP)]);
    let plan = h.plan().await;
    assert_eq!(changed(&plan), ["Delete module.app[\"b\"].x"]);
    assert_eq!(action(&plan, "module.app[\"b\"].x"), Action::Delete);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_for_each_inside_a_module_names_the_target_with_its_module_path() {
    let app = r#"
[variable.name]
type = "string"

[resource.seed]
type = "fake:thing"
name = "seed-${var.name}"

[resource.x]
type = "fake:thing"
for_each = "${toset([seed.id])}"
name = "x-${each.key}"
"#;
    let (_dir, h) = harness(&[("main.toml", CALLER), ("modules/app/main.toml", app)]);
    let err = h.try_plan().await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains("the for_each of `module.app[\"a\"].x` depends on `seed.id`"),
        "{text}"
    );
    assert!(
        text.contains("plinth apply --target module.app[\"a\"].seed"),
        "{text}"
    );
}

/// Settings a module call gives its module: `home` per instance, from the caller's
/// resources; a nested module inherits them, a module called without a table inherits the
/// root's.
const HOMES: &str = r#"
[resource.home]
type = "fake:thing"
name = "home"

[resource.homes]
type = "fake:thing"
for_each = ["a", "b", "c"]
name = "home-${each.key}"

[provider.tenancy]
home = "home"

[module.app]
source = "./modules/tenant"
for_each = ["a", "b"]
name = "${each.key}"

[module.app.providers.tenancy]
home = "${homes[each.key].id}"

[module.plain]
source = "./modules/tenant"
name = "plain"
"#;

const TENANT_MODULE: &str = r#"
[variable.name]
type = "string"

[resource.obj]
type = "ten:obj"
name = "obj-${var.name}"

[module.inner]
source = "../inner"
name = "${var.name}"
"#;

const INNER: &str = r#"
[variable.name]
type = "string"

[resource.obj]
type = "ten:obj"
name = "inner-${var.name}"
"#;

fn tenant_harness(root: &str) -> (tempfile::TempDir, Harness, Tenant) {
    let (dir, mut h) = harness(&[
        ("main.toml", root),
        ("modules/tenant/main.toml", TENANT_MODULE),
        ("modules/inner/main.toml", INNER),
    ]);
    let tenant = Tenant::default();
    h.registry.register(std::sync::Arc::new(tenant.clone()));
    (dir, h, tenant)
}

fn home_of(settings: &plinth_value::Value) -> plinth_value::Value {
    settings
        .get(&path("home"))
        .unwrap_or(plinth_value::Value::Null)
}

#[tokio::test(start_paused = true)]
async fn a_call_s_provider_settings_replace_the_root_s_inside_its_instances() {
    let (dir, mut h, tenant) = tenant_harness(HOMES);
    let a_obj = "module.app[\"a\"].obj";
    let a_inner = "module.app[\"a\"].module.inner.obj";

    // Planned with the caller's values: the home is not created yet.
    let plan = h.plan().await;
    assert!(home_of(&tenant.seen("plan", a_obj)[0]).is_unknown());
    // Each instance waits for the homes its table refers to (every instance of `homes`, as
    // any reference to a declaration with for_each does), not for the root table's home.
    let homes = ["homes[\"a\"]", "homes[\"b\"]", "homes[\"c\"]"];
    assert_eq!(plan.change(a_obj).unwrap().depends_on, homes);
    assert_eq!(plan.change(a_inner).unwrap().depends_on, homes);
    assert_eq!(
        plan.change("module.plain.obj").unwrap().depends_on,
        ["home".to_string()]
    );

    // Applied with actual values: each instance's objects live in its home, nested
    // modules' too; a module without a table lives where the root's settings point.
    h.apply_ok(&plan).await;
    let id = |h: &Harness, a: &str| plinth_value::Value::from(h.id(a).as_str());
    for (object, home) in [
        (a_obj, "homes[\"a\"]"),
        (a_inner, "homes[\"a\"]"),
        ("module.app[\"b\"].obj", "homes[\"b\"]"),
        ("module.app[\"b\"].module.inner.obj", "homes[\"b\"]"),
        ("module.plain.obj", "home"),
        ("module.plain.module.inner.obj", "home"),
    ] {
        assert_eq!(
            home_of(&tenant.seen("create", object)[0]),
            id(&h, home),
            "{object}"
        );
        // Recorded with the object, as root objects are.
        assert_eq!(
            h.state().resources[object].settings.as_ref().unwrap()["home"],
            serde_json::json!(h.id(home)),
            "{object}"
        );
    }
    let creates = h.fake.started(Op::Create);
    assert!(creates.contains(&"homes[\"a\"]".to_string()));
    h.assert_converged().await;
    assert_eq!(
        home_of(tenant.seen("read", a_obj).last().unwrap()),
        id(&h, "homes[\"a\"]")
    );

    // The table now points elsewhere for "a": its objects move (replace), deleted where
    // they lived and created in the new home; "b" is untouched.
    let moved = HOMES.replace(
        "home = \"${homes[each.key].id}\"",
        "home = \"${each.key == \\\"a\\\" ? homes[\\\"c\\\"].id : homes[each.key].id}\"",
    );
    rewrite(&mut h, &dir, &[("main.toml", &moved)]);
    let plan = h.plan().await;
    assert_eq!(
        changed(&plan),
        [
            "Replace module.app[\"a\"].module.inner.obj",
            "Replace module.app[\"a\"].obj",
        ]
    );
    let reason = plan
        .change(a_obj)
        .unwrap()
        .reason
        .clone()
        .unwrap_or_default();
    assert!(reason.contains("provider's home changed from"), "{reason}");
    let old_home = id(&h, "homes[\"a\"]");
    h.apply_ok(&plan).await;
    assert_eq!(
        home_of(tenant.seen("delete", a_obj).last().unwrap()),
        old_home
    );
    assert_eq!(
        home_of(tenant.seen("create", a_obj).last().unwrap()),
        id(&h, "homes[\"c\"]")
    );
    h.assert_converged().await;

    // Destroy: every object is deleted where it lives, before the homes.
    let plan = h.plan_mode(PlanMode::Destroy).await;
    h.apply_ok(&plan).await;
    assert!(tenant.store.lock().unwrap().is_empty());
    assert!(h.state().resources.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_call_s_table_for_an_unknown_provider_or_resource_is_a_located_error() {
    let (_dir, h, _) = tenant_harness(&HOMES.replace(
        "[module.app.providers.tenancy]\nhome = \"${homes[each.key].id}\"",
        "[module.app.providers.tenancyy]\nhome = \"x\"\n\n[module.plain.providers.tenancy]\nhome = \"hme\"",
    ));
    let err = h.try_plan().await.unwrap_err();
    let text = h.render(&err);
    assert!(
        text.contains("`module.app` gives settings to an unknown provider `tenancyy`"),
        "{text}"
    );
    assert!(text.contains("did you mean `tenancy`?"), "{text}");
    assert!(text.contains("no resource is named `hme`"), "{text}");
    assert!(text.contains("did you mean `home`?"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn import_into_a_module_instance_reads_where_its_call_s_settings_point() {
    let (_dir, h, tenant) = tenant_harness(HOMES);
    h.up().await;
    let target = "module.app[\"a\"].obj";
    let mut state = h.state();
    let record = state.resources.remove(target).unwrap();
    let id = record.id.clone().unwrap();
    let addr: plinth_engine::Address = target.parse().unwrap();

    let imported = plinth_engine::import(&h.workspace(), &state, &addr, &id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.address, target);
    assert_eq!(imported.id.as_deref(), Some(id.as_str()));
    let home = h.id("homes[\"a\"]");
    assert_eq!(
        imported.settings.as_ref().unwrap()["home"],
        serde_json::json!(home)
    );
    assert_eq!(
        home_of(&tenant.seen("import", target)[0]),
        plinth_value::Value::from(home.as_str())
    );
    assert_eq!(imported.inputs, record.inputs);

    // A module the configuration does not call, an instance it does not produce and a
    // resource the module does not declare are refused with the fix.
    let text = refused(&h, &state, "module.ap[\"a\"].obj", &id).await;
    assert!(
        text.contains("which the configuration does not call"),
        "{text}"
    );
    assert!(text.contains("did you mean `module.app`?"), "{text}");
    let text = refused(&h, &state, "module.app[\"z\"].obj", &id).await;
    assert!(
        text.contains("is not one its for_each or count produces"),
        "{text}"
    );
    let text = refused(&h, &state, "module.app[\"a\"].ob", &id).await;
    assert!(
        text.contains("`ob` is not declared in the module of `module.app`"),
        "{text}"
    );
    assert!(text.contains("did you mean `module.app.obj`?"), "{text}");
}

/// The message of an import refused.
async fn refused(h: &Harness, state: &plinth_state::State, address: &str, id: &str) -> String {
    let addr: plinth_engine::Address = address.parse().unwrap();
    match plinth_engine::import(&h.workspace(), state, &addr, id).await {
        Ok(r) => panic!("{address} imported: {r:?}"),
        Err(plinth_engine::EngineError::Config(d)) => h.render(&d),
        Err(other) => other.to_string(),
    }
}

const WITH_OUTPUTS: &str = r#"
[variable.name]
type = "string"

[locals]
inner = "inner-${var.name}"

[resource.mi]
type = "fake:thing"
name = "${local.inner}"

[output.client_id]
value = "${mi.id}"

[output.all]
value = { name = "${var.name}", ids = ["${mi.id}"] }
"#;

#[tokio::test(start_paused = true)]
async fn the_console_reads_module_outputs_from_state_through_the_module_tree() {
    let (_dir, h) = harness(&[
        ("main.toml", CALLER),
        ("modules/app/main.toml", WITH_OUTPUTS),
    ]);
    // Before anything is applied, outputs of what state lacks are known after apply.
    let state = h.state();
    let console = plinth_engine::Console::new(h.workspace(), Some(&state)).unwrap();
    assert!(
        console
            .eval("module.app[\"a\"].client_id")
            .unwrap()
            .is_unknown()
    );
    assert_eq!(
        console.eval("module.app[\"a\"].all.name").unwrap(),
        plinth_value::Value::from("a")
    );

    h.up().await;
    let state = h.state();
    let console = plinth_engine::Console::new(h.workspace(), Some(&state)).unwrap();
    let a = h.id("module.app[\"a\"].mi");
    assert_eq!(
        console
            .eval("module.app[\"a\"].client_id")
            .unwrap()
            .to_json(),
        serde_json::json!(a)
    );
    // Every instance, by key; a whole object output.
    assert_eq!(
        console.eval("module.app").unwrap().to_json(),
        serde_json::json!({
            "a": {"client_id": a, "all": {"name": "a", "ids": [a]}},
            "b": {
                "client_id": h.id("module.app[\"b\"].mi"),
                "all": {"name": "b", "ids": [h.id("module.app[\"b\"].mi")]}
            },
        })
    );
    assert_eq!(
        console
            .eval("[for k, m in module.app : m.all.ids[0]]")
            .unwrap()
            .to_json(),
        serde_json::json!([a, h.id("module.app[\"b\"].mi")])
    );
    // A module's locals are its own, and a missing instance is named.
    let err = console.eval("local.inner").unwrap_err();
    assert!(
        err.message.contains("there is no local `local.inner`"),
        "{err:?}"
    );
    let err = console.eval("module.app[\"z\"].client_id").unwrap_err();
    assert!(err.message.contains("no instance [\"z\"]"), "{err:?}");
    let err = console.eval("module.ap").unwrap_err();
    assert!(
        err.message.contains("there is no module call `module.ap`"),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn depends_on_on_a_call_makes_everything_inside_wait() {
    let root = r#"
[resource.gate]
type = "fake:thing"
name = "gate"
sleep_ms = 50

[module.app]
source = "./modules/app"
for_each = ["a", "b"]
name = "${each.key}"
depends_on = ["gate"]
"#;
    let (_dir, h) = harness(&[("main.toml", root), ("modules/app/main.toml", APP)]);
    let plan = h.plan().await;
    for a in ["module.app[\"a\"].x", "module.app[\"b\"].x"] {
        assert_eq!(plan.change(a).unwrap().depends_on, ["gate"], "{a}");
    }
    h.apply_ok(&plan).await;
    for a in ["module.app[\"a\"].x", "module.app[\"b\"].x"] {
        assert!(
            h.fake.pos("gate", Op::Create, false) < h.fake.pos(a, Op::Create, true),
            "{a} started before gate finished"
        );
    }
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_module_output_may_be_a_whole_object_or_list() {
    let root = r#"
[module.app]
source = "./modules/app"
for_each = ["a", "b"]
name = "${each.key}"

[resource.user]
type = "fake:thing"
name = 'user-${module.app["a"].all.name}'
first = '${module.app["a"].all.ids[0]}'

[output.a]
value = '${module.app["a"].all}'

[output.names]
value = "${[for k, m in module.app : m.all.name]}"
"#;
    let (_dir, h) = harness(&[("main.toml", root), ("modules/app/main.toml", WITH_OUTPUTS)]);
    let plan = h.plan().await;
    let user = plan.change("user").unwrap();
    // The name is known at plan time, the id only after apply.
    assert_eq!(
        user.config.as_ref().unwrap().get(&path("name")),
        Some(plinth_value::Value::from("user-a"))
    );
    assert!(
        user.config
            .as_ref()
            .unwrap()
            .get(&path("first"))
            .unwrap()
            .is_unknown()
    );
    h.apply_ok(&plan).await;
    let state = h.state();
    let a = h.id("module.app[\"a\"].mi");
    assert_eq!(
        state.resources["user"].inputs["first"],
        serde_json::json!(a)
    );
    assert_eq!(
        state.outputs["a"].value,
        serde_json::json!({"name": "a", "ids": [a]})
    );
    assert_eq!(state.outputs["names"].value, serde_json::json!(["a", "b"]));
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn state_written_before_modules_is_kept_when_a_module_call_is_added() {
    let flat = r#"
[resource.rg]
type = "fake:thing"
name = "rg"

[resource.app]
type = "fake:thing"
count = 2
name = "app-${count.index}"
"#;
    let (dir, mut h) = harness(&[("main.toml", flat)]);
    h.up().await;
    let before = h.state();
    // Root records have root addresses, as before modules existed.
    assert!(before.resources.keys().all(|a| !a.starts_with("module.")));

    let with_module = format!(
        "{flat}\n[module.app]\nsource = \"./modules/app\"\nfor_each = [\"a\"]\nname = \"${{rg.id}}\"\n"
    );
    rewrite(
        &mut h,
        &dir,
        &[("main.toml", &with_module), ("modules/app/main.toml", APP)],
    );
    let plan = h.plan().await;
    assert_eq!(changed(&plan), ["Create module.app[\"a\"].x"]);
    h.apply_ok(&plan).await;
    let after = h.state();
    for (address, r) in &before.resources {
        assert_eq!(after.resources[address].id, r.id, "{address} kept");
    }
    h.assert_converged().await;
}
