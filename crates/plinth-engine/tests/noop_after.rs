//! A no-op change's `after` is the object as it stands, for every kind of instance: single,
//! `for_each`, `count`, in a module instance (the planner moves it out of the scope's values
//! once evaluation is done rather than holding a copy of it meanwhile).

mod common;

use common::harness;
use plinth_plan::Action;
use plinth_value::Value;

const ROOT: &str = r#"
[resource.one]
type = "core:data"
input = { v = "one" }

[resource.keyed]
type = "core:data"
for_each = ["a", "b"]
input = { k = "${each.key}", from = "${one.output.v}" }

[resource.counted]
type = "core:data"
count = 2
input = "${count.index}"

[module.m]
source = "./modules/m"
for_each = ["x"]
name = "${each.key}"

[output.seen]
value = '${module.m["x"].out}'
"#;

const MODULE: &str = r#"
[variable.name]
type = "string"

[resource.inner]
type = "core:data"
input = { name = "${var.name}" }

[output.out]
value = "${inner.output.name}"
"#;

#[tokio::test(start_paused = true)]
async fn no_op_changes_carry_the_object_as_after() {
    let (_dir, h) = harness(&[("main.toml", ROOT), ("modules/m/main.toml", MODULE)]);
    h.up().await;
    let plan = h.plan().await;
    let addresses = [
        "one",
        "keyed[\"a\"]",
        "keyed[\"b\"]",
        "counted[0]",
        "counted[1]",
        "module.m[\"x\"].inner",
    ];
    for address in addresses {
        let c = plan
            .changes
            .iter()
            .find(|c| c.address == address)
            .unwrap_or_else(|| panic!("no change at {address}"));
        assert_eq!(c.action, Action::NoOp, "{address}");
        let after = c
            .after
            .as_ref()
            .unwrap_or_else(|| panic!("{address}: no after"));
        assert!(matches!(after, Value::Map(_)), "{address}: {after:?}");
        assert_eq!(Some(after), c.before.as_ref(), "{address}");
    }
    assert_eq!(plan.changes.len(), addresses.len());
    // References between the objects were evaluated from the same values.
    let keyed = plan
        .changes
        .iter()
        .find(|c| c.address == "keyed[\"b\"]")
        .unwrap();
    let from = keyed
        .after
        .as_ref()
        .unwrap()
        .get(&"output.from".parse().unwrap());
    assert_eq!(from, Some(Value::from("one")));
    let counted = plan
        .changes
        .iter()
        .find(|c| c.address == "counted[1]")
        .unwrap();
    let input = counted
        .after
        .as_ref()
        .unwrap()
        .get(&"input".parse().unwrap());
    assert_eq!(input, Some(Value::from(1)));
}
