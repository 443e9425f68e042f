//! Provider settings that name a resource (`[provider.kubernetes] cluster = "aks"`): the
//! provider's objects depend on it, and each request carries its id as it is known then —
//! unknown while planning its creation, actual during apply, as recorded for refresh and
//! deletes.

use std::sync::Arc;

use plinth_plan::{Action, PlanMode};
use plinth_testkit::*;
use plinth_value::Value;

const CONFIG: &str = r#"
[resource.home]
type = "fake:thing"
name = "home"

[provider.tenancy]
home = "home"
zone = "${var.zone}"

[variable.zone]
default = "z1"

[resource.obj]
type = "ten:obj"
name = "obj"
"#;

fn harness(config: &str) -> (Harness, Tenant) {
    let mut h = Harness::new(config);
    let tenant = Tenant::default();
    h.registry.register(Arc::new(tenant.clone()));
    (h, tenant)
}

fn home_of(settings: &Value) -> Value {
    settings.get(&path("home")).unwrap_or(Value::Null)
}

#[tokio::test]
async fn settings_follow_the_resource_they_name_through_plan_apply_refresh_and_destroy() {
    let (h, tenant) = harness(CONFIG);

    // First plan: the home is only planned, so its id is unknown in the settings the
    // object's plan sees; the object depends on it.
    let plan = h.plan().await;
    assert_eq!(action(&plan, "obj"), Action::Create);
    let planned = tenant.seen("plan", "obj");
    assert_eq!(planned.len(), 1);
    assert!(home_of(&planned[0]).is_unknown(), "{planned:?}");
    assert_eq!(
        planned[0].get(&path("zone")),
        Some(Value::from("z1")),
        "other settings are evaluated as usual"
    );
    let obj = plan.changes.iter().find(|c| c.address == "obj").unwrap();
    assert_eq!(obj.depends_on, vec!["home".to_string()]);

    // Apply: the object is created after its home, with the home's actual id.
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{:?}", report.failures);
    let home_id = state_id(&h.state(), "home").expect("home id");
    assert_eq!(
        home_of(&tenant.seen("create", "obj")[0]),
        Value::from(home_id.as_str())
    );
    assert!(h.fake.pos("home", Op::Create, false) < h.fake.log().len());

    // Re-plan: refresh reads the object with the home recorded in state; nothing changes.
    h.assert_converged().await;
    let reads = tenant.seen("read", "obj");
    assert!(!reads.is_empty());
    assert_eq!(
        home_of(reads.last().unwrap()),
        Value::from(home_id.as_str())
    );
    let plans = tenant.seen("plan", "obj");
    assert_eq!(
        home_of(plans.last().unwrap()),
        Value::from(home_id.as_str())
    );

    // Destroy: the object is deleted from the home recorded in state, before the home.
    let plan = h.plan_mode(PlanMode::Destroy).await;
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(
        home_of(&tenant.seen("delete", "obj")[0]),
        Value::from(home_id.as_str())
    );
    assert!(tenant.store.lock().unwrap().is_empty());
    assert!(h.state().resources.is_empty());
}

#[tokio::test]
async fn replacing_what_the_settings_name_replaces_the_objects_inside_it() {
    let config = CONFIG.replace(
        "name = \"home\"",
        "name = \"home-${var.zone}\"\nimmutable = \"${var.zone}\"",
    );
    let (mut h, tenant) = harness(&config);
    h.up().await;
    let first_home = state_id(&h.state(), "home").unwrap();

    h.set_config(&config.replace("default = \"z1\"", "default = \"z2\""));
    let plan = h.plan().await;
    assert_eq!(action(&plan, "home"), Action::Replace);
    let obj = plan.changes.iter().find(|c| c.address == "obj").unwrap();
    assert_eq!(obj.action, Action::Replace);
    assert!(
        obj.reason.as_deref() == Some("home, which its provider's settings name, is replaced"),
        "{:?}",
        obj.reason
    );
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{:?}", report.failures);
    // The old object was deleted from the old home, the new one created in the new home.
    assert_eq!(
        home_of(&tenant.seen("delete", "obj")[0]),
        Value::from(first_home.as_str())
    );
    let second_home = state_id(&h.state(), "home").unwrap();
    assert_ne!(first_home, second_home);
    assert_eq!(
        home_of(tenant.seen("create", "obj").last().unwrap()),
        Value::from(second_home.as_str())
    );
    h.assert_converged().await;
}

#[tokio::test]
async fn an_expression_works_like_a_bare_name_and_the_table_is_a_graph_node() {
    let config = CONFIG.replace("home = \"home\"", "home = \"${home.id}\"");
    let (h, tenant) = harness(&config);
    let plan = h.plan().await;
    let obj = plan.changes.iter().find(|c| c.address == "obj").unwrap();
    assert_eq!(obj.depends_on, vec!["home".to_string()]);
    assert!(home_of(&tenant.seen("plan", "obj")[0]).is_unknown());
    h.apply(&plan).await;
    h.assert_converged().await;

    let g = plinth_engine::build_graph(&h.config, &h.registry).unwrap();
    let label = |d: &plinth_engine::Decl| plinth_engine::decl_address(&h.config, *d);
    let dot = g.dag.to_dot(label);
    assert!(dot.contains("provider.tenancy"), "{dot}");
}

#[tokio::test]
async fn a_cycle_through_provider_settings_is_reported() {
    // The home refers to an object of the provider whose settings name the home.
    let config = CONFIG.replace("name = \"home\"", "name = \"home\"\nref = \"${obj.id}\"");
    let (h, _) = harness(&config);
    let err = h.try_plan_with(Default::default()).await.unwrap_err();
    let text = h.render(&err);
    assert!(text.contains("dependency cycle"), "{text}");
    assert!(text.contains("provider.tenancy"), "{text}");
}

#[tokio::test]
async fn a_misspelt_name_in_settings_is_a_located_error_with_a_suggestion() {
    let config = CONFIG.replace("home = \"home\"", "home = \"hme\"");
    let (h, _) = harness(&config);
    let err = h.try_plan_with(Default::default()).await.unwrap_err();
    let text = h.render(&err);
    assert!(text.contains("no resource is named `hme`"), "{text}");
    assert!(text.contains("did you mean `home`?"), "{text}");
    assert!(text.contains("main.toml:7:"), "{text}");
}

#[tokio::test]
async fn an_object_is_read_and_deleted_where_it_was_created_whatever_the_settings_say_now() {
    let two_homes = CONFIG.replace(
        "[provider.tenancy]",
        "[resource.other]\ntype = \"fake:thing\"\nname = \"other\"\n\n[provider.tenancy]",
    );
    let (mut h, tenant) = harness(&two_homes);
    h.up().await;
    let home = state_id(&h.state(), "home").unwrap();
    let other = state_id(&h.state(), "other").unwrap();
    let recorded = h.state().resources["obj"]
        .settings
        .clone()
        .expect("recorded");
    assert_eq!(recorded["home"], serde_json::json!(home));

    // The settings now point at another home: the object moves (replace), deleted where it
    // was and created where the settings point.
    h.set_config(&two_homes.replace("home = \"home\"", "home = \"other\""));
    let plan = h.plan().await;
    let obj = plan.change("obj").unwrap();
    assert_eq!(obj.action, Action::Replace);
    assert!(
        obj.reason
            .as_deref()
            .unwrap_or("")
            .contains("provider's home changed from"),
        "{:?}",
        obj.reason
    );
    // Refresh read it where it lives.
    assert_eq!(
        home_of(tenant.seen("read", "obj").last().unwrap()),
        Value::from(home.as_str())
    );
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(
        home_of(tenant.seen("delete", "obj").last().unwrap()),
        Value::from(home.as_str())
    );
    assert_eq!(
        home_of(tenant.seen("create", "obj").last().unwrap()),
        Value::from(other.as_str())
    );
    h.assert_converged().await;

    // The object and the settings table leave the configuration: the orphan is deleted
    // where it lives (no settings table to ask any more).
    h.set_config(
        r#"
[resource.home]
type = "fake:thing"
name = "home"

[resource.other]
type = "fake:thing"
name = "other"
"#,
    );
    let plan = h.plan().await;
    assert_eq!(action(&plan, "obj"), Action::Delete);
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(
        home_of(tenant.seen("delete", "obj").last().unwrap()),
        Value::from(other.as_str())
    );
    assert!(tenant.store.lock().unwrap().is_empty());
}

/// An object created while its provider had no settings table lives where the defaults point
/// (a kubeconfig's current context): that is recorded too, so a table added later moves it
/// (deleted where it was, created where the settings now point) instead of redirecting its
/// refresh and leaving the old object behind.
#[tokio::test]
async fn an_object_created_without_settings_is_moved_when_a_settings_table_appears() {
    let without = CONFIG.replace(
        "[provider.tenancy]\nhome = \"home\"\nzone = \"${var.zone}\"\n",
        "",
    );
    let (mut h, tenant) = harness(&without);
    h.up().await;
    assert_eq!(
        h.state().resources["obj"].settings,
        Some(serde_json::json!({})),
        "the defaults are recorded"
    );
    let home = state_id(&h.state(), "home").unwrap();
    h.set_config(CONFIG);
    let plan = h.plan().await;
    // Refresh read it where it lives, with the defaults it was created with.
    assert!(
        tenant
            .seen("read", "obj")
            .last()
            .unwrap()
            .get(&path("home"))
            .is_none()
    );
    assert_eq!(
        action(&plan, "obj"),
        Action::Replace,
        "{:?}",
        plan.change("obj")
    );
    let report = h.apply(&plan).await;
    assert!(report.ok(), "{:?}", report.failures);
    assert!(matches!(
        home_of(tenant.seen("delete", "obj").last().unwrap()),
        Value::Null
    ));
    assert_eq!(
        home_of(tenant.seen("create", "obj").last().unwrap()),
        Value::from(home.as_str())
    );
    assert!(
        tenant
            .store
            .lock()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with(TENANT_DEFAULT_HOME)),
        "nothing left behind: {:?}",
        tenant.store.lock().unwrap().keys().collect::<Vec<_>>()
    );
    h.assert_converged().await;
}
