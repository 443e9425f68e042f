//! Locals (`local.NAME`), `count` (instances `name[0]`, `count.index`) and `for_each` over
//! what expressions build: planned with planned values, applied with actual ones, and a
//! second plan after apply is empty.

use plinth_plan::Action;
use plinth_testkit::*;
use plinth_value::Value;
use serde_json::json;

fn addresses(plan: &plinth_plan::Plan) -> Vec<(String, Action)> {
    let mut out: Vec<(String, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect();
    out.sort();
    out
}

const CHAIN: &str = r#"
[variable.prefix]
type = "string"
default = "shop"

[variable.env]
type = "string"
default = "dev"

[variable.secret]
type = "string"
default = "hunter2"
sensitive = true

[locals]
name_prefix = "${var.prefix}-${var.env}"
app_name = "${local.name_prefix}-app"
rg_ref = "${rg.id}"
tags = { env = "${var.env}", owner = "${local.name_prefix}" }
secret_conn = "conn=${var.secret}"

[resource.rg]
type = "fake:thing"
name = "${local.name_prefix}-rg"

[resource.app]
type = "fake:thing"
name = "${local.app_name}"
group_id = "${local.rg_ref}"
tags = "${local.tags}"
conn = "${local.secret_conn}"

[output.app_name]
value = "${local.app_name}"
"#;

#[tokio::test(start_paused = true)]
async fn a_chain_of_locals_reaches_variables_and_resources() {
    let h = Harness::new(CHAIN);
    let plan = h.plan().await;
    let app = plan.change("app").unwrap();
    let cfg = app.config.as_ref().unwrap();
    assert_eq!(cfg.get(&path("name")), Some(Value::from("shop-dev-app")));
    assert_eq!(
        cfg.get(&path("tags.owner")),
        Some(Value::from("shop-dev")),
        "a map local keeps its structure"
    );
    // Through a local, the resource's id is known only after apply, exactly there.
    assert_eq!(cfg.get(&path("group_id")), Some(Value::Unknown));
    // A sensitive variable stays sensitive through a local, and only there.
    let conn = cfg.get(&path("conn")).unwrap();
    assert!(conn.is_sensitive(), "{conn:?}");
    assert!(!cfg.get(&path("name")).unwrap().contains_sensitive());
    // The operation graph orders `app` after `rg`, which it reaches through a local.
    assert!(
        app.depends_on.contains(&"rg".to_string()),
        "{:?}",
        app.depends_on
    );

    h.apply_ok(&plan).await;
    let rg_id = h.id("rg");
    assert_eq!(rg_id, "fake/shop-dev-rg");
    let obj = h.fake.object("fake/shop-dev-app").unwrap();
    assert_eq!(obj["group_id"], json!(rg_id), "apply sees the real id");
    assert_eq!(obj["conn"], json!("conn=hunter2"));
    assert_eq!(obj["tags"], json!({"env": "dev", "owner": "shop-dev"}));
    assert_eq!(h.state().outputs["app_name"].value, json!("shop-dev-app"));
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn apply_waits_for_what_a_local_refers_to() {
    let h = Harness::new(
        r#"
[locals]
x = "${rg.id}"

[resource.rg]
type = "fake:thing"
name = "rg"
sleep_ms = 50

[resource.user]
type = "fake:thing"
name = "user"
parent = "${local.x}"
"#,
    );
    h.up().await;
    assert!(h.fake.pos("rg", Op::Create, false) < h.fake.pos("user", Op::Create, true));
    assert_eq!(
        h.fake.object("fake/user").unwrap()["parent"],
        json!("fake/rg")
    );
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_cycle_through_locals_is_printed_as_the_cycle() {
    let h = Harness::new(
        r#"
[locals]
a = "${local.b}-x"
b = "${local.a}-y"

[resource.r]
type = "fake:thing"
name = "${local.a}"
"#,
    );
    let d = h.try_plan().await.unwrap_err();
    let text = h.render(&d);
    assert!(
        text.contains("dependency cycle: local.a -> local.b -> local.a")
            || text.contains("dependency cycle: local.b -> local.a -> local.b"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn undeclared_locals_and_misplaced_count_and_each_are_reported_together() {
    let h = Harness::new(
        r#"
[locals]
name = "n"
per_instance = "${count.index}"

[resource.a]
type = "fake:thing"
name = "${local.nmae}"
index = "${count.index}"

[resource.b]
type = "fake:thing"
count = 2
key = "${each.key}"
"#,
    );
    let d = h.try_plan().await.unwrap_err();
    let text = h.render(&d);
    for want in [
        "unknown local `local.nmae`",
        "did you mean `local.name`?",
        "a local cannot use `count`",
        "`count.index` is only available in a resource with `count`",
        "`each` is only available in a resource with `for_each`; this one has count",
        "use count.index",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

const COUNTED: &str = r#"
[variable.n]
type = "number"
default = 3

[resource.app]
type = "fake:thing"
count = "${var.n}"
name = "app-${count.index}"
slot = "${count.index}"

[output.names]
value = "${app[*].name}"

[output.first]
value = "${app[0].id}"
"#;

fn with_n(n: u64) -> String {
    COUNTED.replace("default = 3", &format!("default = {n}"))
}

#[tokio::test(start_paused = true)]
async fn count_makes_numbered_instances_and_shrinking_deletes_exactly_the_tail() {
    let mut h = Harness::new(COUNTED);
    let plan = h.plan().await;
    assert_eq!(
        addresses(&plan),
        [
            ("app[0]".to_string(), Action::Create),
            ("app[1]".to_string(), Action::Create),
            ("app[2]".to_string(), Action::Create),
        ]
    );
    let slot = plan
        .change("app[2]")
        .unwrap()
        .config
        .as_ref()
        .unwrap()
        .get(&path("slot"));
    assert_eq!(slot, Some(Value::from(2i64)), "count.index is a number");
    h.apply_ok(&plan).await;
    assert_eq!(h.id("app[1]"), "fake/app-1");
    assert_eq!(
        h.state().outputs["names"].value,
        json!(["app-0", "app-1", "app-2"]),
        "a count declaration's whole value is a list in index order"
    );
    assert_eq!(h.state().outputs["first"].value, json!("fake/app-0"));
    h.assert_converged().await;

    h.set_config(&with_n(1));
    let plan = h.plan().await;
    let changed: Vec<(String, Action)> = addresses(&plan)
        .into_iter()
        .filter(|(_, a)| *a != Action::NoOp)
        .collect();
    assert_eq!(
        changed,
        [
            ("app[1]".to_string(), Action::Delete),
            ("app[2]".to_string(), Action::Delete),
        ]
    );
    h.apply_ok(&plan).await;
    assert!(h.fake.object("fake/app-0").is_some());
    assert!(h.fake.object("fake/app-2").is_none());
    h.assert_converged().await;

    // count = 0 deletes the last one; `app[0]` then names nothing.
    h.set_config(&with_n(0));
    let text = h.render(&h.try_plan().await.unwrap_err());
    assert!(text.contains("`app` has no instance [0]"), "{text}");
    assert!(text.contains("its count is 0"), "{text}");
    let without_first = with_n(0).replace("[output.first]\nvalue = \"${app[0].id}\"\n", "");
    h.set_config(&without_first);
    let plan = h.plan().await;
    assert_eq!(addresses(&plan), [("app[0]".to_string(), Action::Delete)]);
    h.apply_ok(&plan).await;
    assert!(h.fake.objects().is_empty());
    assert_eq!(h.state().outputs["names"].value, json!([]));
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn count_zero_makes_a_resource_conditional() {
    let h = Harness::new(
        r#"
[variable.ha]
type = "bool"
default = false

[resource.standby]
type = "fake:thing"
count = "${var.ha ? 1 : 0}"
name = "standby"

[output.standbys]
value = "${length(standby)}"
"#,
    );
    let plan = h.plan().await;
    assert!(plan.changes.is_empty(), "{:?}", addresses(&plan));
    h.apply_ok(&plan).await;
    assert_eq!(h.state().outputs["standbys"].value, json!(0));
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn switching_between_count_and_for_each_replaces_the_instances() {
    let mut h = Harness::new(
        r#"
[resource.q]
type = "fake:thing"
count = 2
name = "q-${count.index}"
"#,
    );
    h.up().await;
    h.set_config(
        r#"
[resource.q]
type = "fake:thing"
for_each = ["a", "b"]
name = "q-${each.key}"
"#,
    );
    let plan = h.plan().await;
    assert_eq!(
        addresses(&plan),
        [
            ("q[\"a\"]".to_string(), Action::Create),
            ("q[\"b\"]".to_string(), Action::Create),
            ("q[0]".to_string(), Action::Delete),
            ("q[1]".to_string(), Action::Delete),
        ]
    );
    h.apply_ok(&plan).await;
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn the_wrong_kind_of_instance_key_says_which_meta_argument_it_has() {
    let h = Harness::new(
        r#"
[resource.c]
type = "fake:thing"
count = 1
name = "c"

[resource.f]
type = "fake:thing"
for_each = ["x"]
name = "f"

[resource.user]
type = "fake:thing"
a = "${c[\"x\"].id}"
b = "${f[0].id}"
c = "${c.id}"
"#,
    );
    let text = h.render(&h.try_plan().await.unwrap_err());
    for want in [
        "`c` has count, so its instances are numbered",
        "`f` has for_each, so its instances are keyed by strings",
        "`c` has count: pick an instance before `.id`",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_count_that_is_not_a_whole_number_is_a_located_error() {
    for (count, want) in [
        ("1.5", "must be a whole number >= 0, found 1.5"),
        ("-1", "must be a whole number >= 0, found -1"),
        (
            "\"${var.half}\"",
            "must be a whole number >= 0, but it is 0.5",
        ),
        (
            "\"${var.word}\"",
            "must be a whole number >= 0, but it is a string",
        ),
        ("\"${var.pw}\"", "the count of `r` uses a sensitive value"),
    ] {
        let h = Harness::new(&format!(
            r#"
[variable.half]
type = "number"
default = 0.5

[variable.word]
type = "string"
default = "two"

[variable.pw]
type = "number"
default = 2
sensitive = true

[resource.r]
type = "fake:thing"
count = {count}
"#
        ));
        let text = h.render(&h.try_plan().await.unwrap_err());
        assert!(
            text.contains(want),
            "count = {count}: missing {want:?} in:\n{text}"
        );
        assert!(text.contains("main.toml:"), "located: {text}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_unknown_for_each_or_count_names_the_reference_that_is_unknown() {
    let h = Harness::new(
        r#"
[resource.rg]
type = "fake:thing"
name = "rg"

[locals]
names = ["${rg.arn}"]

[resource.per_name]
type = "fake:thing"
for_each = "${toset(local.names)}"

[resource.counted]
type = "fake:thing"
count = "${length(rg.token)}"
"#,
    );
    let text = h.render(&h.try_plan().await.unwrap_err());
    for want in [
        "the for_each of `per_name` depends on `local.names` (through `rg.arn`), which is known only after apply",
        "the count of `counted` depends on `rg.token`, which is known only after apply",
        "plinth apply --target rg",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn for_each_over_a_map_of_objects_built_by_an_expression() {
    let h = Harness::new(
        r#"
[variable.apps]
type = "list"
default = [
  { name = "web", replicas = 2, enabled = true },
  { name = "api", replicas = 3, enabled = true },
  { name = "old", replicas = 1, enabled = false },
]

[locals]
apps = "${ {for a in var.apps : a.name => a if a.enabled} }"

[resource.app]
type = "fake:thing"
for_each = "${local.apps}"
name = "app-${each.key}"
replicas = "${each.value.replicas}"

[resource.queue]
type = "fake:thing"
for_each = "${toset(['b', 'a', 'b'])}"
name = "q-${each.value}"

[output.replicas]
value = "${ {for k, a in app : k => a.replicas} }"
"#,
    );
    let plan = h.plan().await;
    assert_eq!(
        addresses(&plan),
        [
            ("app[\"api\"]".to_string(), Action::Create),
            ("app[\"web\"]".to_string(), Action::Create),
            ("queue[\"a\"]".to_string(), Action::Create),
            ("queue[\"b\"]".to_string(), Action::Create),
        ]
    );
    h.apply_ok(&plan).await;
    assert_eq!(h.fake.object("fake/app-api").unwrap()["replicas"], json!(3));
    assert_eq!(
        h.state().outputs["replicas"].value,
        json!({"api": 3, "web": 2})
    );
    h.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn path_and_files_are_what_expressions_see() {
    let mut h = Harness::new(
        r#"
[variable.which]
type = "string"
default = "greeting.txt"

[resource.r]
type = "fake:thing"
name = "r"
module = "${path.module}"
cwd = "${path.cwd}"
text = "${file(\"greeting.txt\")}"
"#,
    );
    // plinth-config reads the files expressions name when it loads a directory; the
    // harness loads TOML text, so the test puts the file there itself.
    h.config.files.insert(
        "greeting.txt".into(),
        plinth_config::ConfigFile {
            text: Some("hello".into()),
            source: None,
        },
    );
    let plan = h.plan().await;
    let cfg = plan.change("r").unwrap().config.clone().unwrap();
    assert_eq!(cfg.get(&path("module")), Some(Value::from(".")));
    assert_eq!(cfg.get(&path("cwd")), Some(Value::from("/test")));
    assert_eq!(cfg.get(&path("text")), Some(Value::from("hello")));

    // A path that was not read with the configuration (not a literal) is an error saying so.
    let mut h2 = Harness::new(
        r#"
[variable.which]
type = "string"
default = "other.txt"

[resource.r]
type = "fake:thing"
text = "${file(var.which)}"
"#,
    );
    h2.config.files.clear();
    let text = h2.render(&h2.try_plan().await.unwrap_err());
    assert!(
        text.contains("file() and templatefile() paths must be literal"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_target_keeps_what_it_needs_through_locals() {
    let h = Harness::new(
        r#"
[locals]
parent = "${rg.id}"

[resource.rg]
type = "fake:thing"
name = "rg"

[resource.other]
type = "fake:thing"
name = "other"

[resource.app]
type = "fake:thing"
name = "app"
parent = "${local.parent}"
"#,
    );
    let plan = h
        .plan_with(plinth_engine::PlanOptions {
            targets: vec!["app".parse().unwrap()],
            parallelism: 4,
            ..Default::default()
        })
        .await;
    assert_eq!(
        addresses(&plan),
        [
            ("app".to_string(), Action::Create),
            ("rg".to_string(), Action::Create),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn locals_are_nodes_of_the_graph() {
    let h = Harness::new(
        r#"
[locals]
base = "b"
name = "${local.base}-n"

[resource.r]
type = "fake:thing"
name = "${local.name}"
"#,
    );
    let g = plinth_engine::build_graph(&h.config, &h.registry).unwrap();
    let label = |d: &plinth_engine::Decl| plinth_engine::decl_address(&h.config, *d);
    let dot = g.dag.to_dot(label);
    for node in ["local.base", "local.name", "\"r\""] {
        assert!(dot.contains(node), "{node} not in:\n{dot}");
    }
    let mermaid = g.dag.to_mermaid(label);
    assert!(mermaid.contains("local.name"), "{mermaid}");
    assert_eq!(
        g.dag
            .dependencies(g.node_of(plinth_engine::DeclKind::Resource, "r").unwrap())
            .into_iter()
            .map(|n| label(g.dag.node(n)))
            .collect::<Vec<_>>(),
        ["local.name"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_saved_plan_goes_stale_when_a_local_or_a_count_changes() {
    let base = r#"
[locals]
name = "a"

[resource.r]
type = "fake:thing"
count = 1
name = "${local.name}-${count.index}"
"#;
    let digest = |toml: &str| {
        let (config, vars) = load(toml);
        plinth_engine::config_digest(&config, &vars)
    };
    let d0 = digest(base);
    assert_eq!(d0, digest(base));
    assert_ne!(d0, digest(&base.replace("name = \"a\"", "name = \"b\"")));
    assert_ne!(d0, digest(&base.replace("count = 1", "count = 2")));
}
