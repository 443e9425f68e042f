//! End-to-end tests of the expression language through the `plinth` binary (issue 14): locals,
//! conditionals, for-expressions, count, for_each over computed maps, file() and
//! templatefile(), and how the unknown and sensitive marks reach plans. Every construct is
//! applied and then planned again, and that second plan must be empty (SPEC §3).
//!
//! Most cases use `core:data` (no cloud needed; its `output` is its `input`, so state shows
//! exactly what an expression evaluated to); one uses the in-process simulated Azure cloud.

mod common;

use common::{Project, Run};
use serde_json::{Value as Json, json};

/// The `output` attribute plinth recorded for an address.
#[track_caller]
fn output_of(p: &Project, address: &str) -> Json {
    let state = p.state();
    let r = &state["resources"][address];
    assert!(!r.is_null(), "{address} is not in state: {state:#}");
    r["attributes"]["output"].clone()
}

/// The resource changes of `plan --json`: address -> actions.
fn planned_actions(run: &Run) -> Vec<(String, Vec<String>)> {
    let doc = run.plan_doc();
    let mut out: Vec<(String, Vec<String>)> = doc["plan"]["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|c| {
            let actions = c["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            (c["address"].as_str().unwrap().to_string(), actions)
        })
        .filter(|(_, actions): &(String, Vec<String>)| actions != &["no-op"])
        .collect();
    out.sort();
    out
}

fn changes(pairs: &[(&str, &str)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = pairs
        .iter()
        .map(|(a, x)| (a.to_string(), vec![x.to_string()]))
        .collect();
    out.sort();
    out
}

const TAGS: &str = r#"
[variable.env]
default = "dev"

[variable.owner]
default = "platform"

[locals]
name_prefix = "web-${var.env}"
tags = { env = "${var.env}", owner = "${var.owner}", managed_by = "plinth" }
is_prod = "${var.env == 'prod'}"

[resource.api]
type = "core:data"
input = { name = "${local.name_prefix}-api", tags = "${merge(local.tags, { component = 'api' })}" }

[resource.worker]
type = "core:data"
input = { name = "${local.name_prefix}-worker", tags = "${local.tags}", prod = "${local.is_prod}" }
"#;

#[test]
fn locals_and_a_tags_local_merged_into_resources() {
    let p = Project::with_main(TAGS);
    p.apply(&[]);
    assert_eq!(
        output_of(&p, "api"),
        json!({"name": "web-dev-api", "tags": {"env": "dev", "owner": "platform",
            "managed_by": "plinth", "component": "api"}})
    );
    assert_eq!(
        output_of(&p, "worker"),
        json!({"name": "web-dev-worker", "prod": false,
            "tags": {"env": "dev", "owner": "platform", "managed_by": "plinth"}})
    );
    p.assert_no_changes(&[]);

    // Locals are nodes of the graph.
    let graph = p.ok(&["graph"]);
    graph.stdout_has("local.tags");

    // One variable changes both resources through the locals, and nothing else.
    let plan = p.plan_changes(&["--json", "--var", "env=prod"]);
    assert_eq!(
        planned_actions(&plan),
        changes(&[("api", "update"), ("worker", "update")])
    );
    p.apply(&["--var", "env=prod"]);
    assert_eq!(output_of(&p, "worker")["prod"], json!(true));
    assert_eq!(output_of(&p, "api")["tags"]["env"], json!("prod"));
    p.assert_no_changes(&["--var", "env=prod"]);
}

#[test]
fn conditionals_choose_by_variable_and_converge() {
    let p = Project::with_main(
        r#"
[variable.env]
default = "dev"

[variable.replicas]
default = 2

[resource.app]
type = "core:data"
input = { sku = "${var.env == 'prod' ? 'Premium' : 'Standard'}", replicas = "${var.env == 'prod' ? var.replicas * 3 : 1}", zones = "${var.env == 'prod' ? ['1', '2', '3'] : []}", note = "%{ if var.env == 'prod' }on call%{ else }best effort%{ endif }" }
"#,
    );
    p.apply(&[]);
    assert_eq!(
        output_of(&p, "app"),
        json!({"sku": "Standard", "replicas": 1, "zones": [], "note": "best effort"})
    );
    p.assert_no_changes(&[]);
    p.plan_changes(&["--var", "env=prod", "--no-color"])
        .stdout_has(r#"input.sku = "Standard" -> "Premium""#);
    p.apply(&["--var", "env=prod"]);
    assert_eq!(
        output_of(&p, "app"),
        json!({"sku": "Premium", "replicas": 6, "zones": ["1", "2", "3"], "note": "on call"})
    );
    p.assert_no_changes(&["--var", "env=prod"]);
}

#[test]
fn for_expressions_build_nested_lists_of_tables() {
    let p = Project::with_main(
        r#"
[variable.settings]
default = { QUEUE = "orders", MODE = "consumer", DEBUG = "" }

[variable.apps]
default = { web = { tier = "gold", replicas = 2 }, api = { tier = "gold", replicas = 3 }, batch = { tier = "silver", replicas = 1 } }

[locals]
env = "${[for k, v in var.settings : { name = k, value = v } if v != '']}"
by_tier = "${{for name, app in var.apps : app.tier => name...}}"

[resource.job]
type = "core:data"
[resource.job.input]
containers = """${[for name, app in var.apps : {
  name = name,
  image = 'registry.example/${name}:1.0',
  env = concat(local.env, [{ name = 'REPLICAS', value = tostring(app.replicas) }]),
}]}"""
by_tier = "${local.by_tier}"
total = "${sum([for a in values(var.apps) : a.replicas])}"
names = "${[for i, n in keys(var.apps) : '${i}-${n}']}"
"#,
    );
    p.apply(&[]);
    let out = output_of(&p, "job");
    let env = |replicas: &str| {
        json!([{"name": "MODE", "value": "consumer"}, {"name": "QUEUE", "value": "orders"},
               {"name": "REPLICAS", "value": replicas}])
    };
    assert_eq!(
        out["containers"],
        json!([
            {"name": "api", "image": "registry.example/api:1.0", "env": env("3")},
            {"name": "batch", "image": "registry.example/batch:1.0", "env": env("1")},
            {"name": "web", "image": "registry.example/web:1.0", "env": env("2")},
        ])
    );
    assert_eq!(
        out["by_tier"],
        json!({"gold": ["api", "web"], "silver": ["batch"]})
    );
    assert_eq!(out["total"], json!(6));
    assert_eq!(out["names"], json!(["0-api", "1-batch", "2-web"]));
    p.assert_no_changes(&[]);
}

const REPLICAS: &str = r#"
[variable.replicas]
default = 3

[resource.replica]
type = "core:data"
count = "${var.replicas}"
input = { name = "replica-${count.index}", first = "${count.index == 0}" }

[output.names]
value = "${replica[*].output.name}"
"#;

#[test]
fn count_shrinks_by_exactly_the_highest_instances_and_zero_removes() {
    let p = Project::with_main(REPLICAS);
    p.apply(&[]);
    assert_eq!(
        p.state_list(),
        vec!["replica[0]", "replica[1]", "replica[2]"]
    );
    assert_eq!(
        output_of(&p, "replica[2]"),
        json!({"name": "replica-2", "first": false})
    );
    assert_eq!(
        p.output("names"),
        json!(["replica-0", "replica-1", "replica-2"])
    );
    p.assert_no_changes(&[]);

    let plan = p.plan_changes(&["--json", "--var", "replicas=1"]);
    assert_eq!(
        planned_actions(&plan),
        changes(&[("replica[1]", "delete"), ("replica[2]", "delete")])
    );
    let zero_id = p.id_of("replica[0]");
    p.apply(&["--var", "replicas=1"]);
    assert_eq!(p.state_list(), vec!["replica[0]"]);
    assert_eq!(p.id_of("replica[0]"), zero_id, "replica[0] was kept");
    p.assert_no_changes(&["--var", "replicas=1"]);

    // count = 0 is how a resource is made conditional: it goes away entirely.
    let plan = p.plan_changes(&["--json", "--var", "replicas=0"]);
    assert_eq!(planned_actions(&plan), changes(&[("replica[0]", "delete")]));
    p.apply(&["--var", "replicas=0"]);
    assert!(p.state_list().is_empty());
    assert_eq!(p.output("names"), json!([]));
    p.assert_no_changes(&["--var", "replicas=0"]);
}

#[test]
fn adding_count_keeps_the_single_instance_as_index_zero() {
    // docs/language.md (count): "`NAME` becomes `NAME[0]` when `count` first appears".
    let p = Project::with_main("[resource.app]\ntype = \"core:data\"\ninput = { n = \"one\" }\n");
    p.apply(&[]);
    let id = p.id_of("app");
    p.edit(
        "main.toml",
        "type = \"core:data\"",
        "type = \"core:data\"\ncount = 2",
    );
    let plan = p.plan_changes(&["--json"]);
    assert_eq!(planned_actions(&plan), changes(&[("app[1]", "create")]));
    p.apply(&[]);
    assert_eq!(p.id_of("app[0]"), id);
    p.assert_no_changes(&[]);
}

#[test]
fn switching_between_count_and_for_each_plans_only_what_changes_keys() {
    let p = Project::with_main(
        "[resource.app]\ntype = \"core:data\"\ncount = 2\ninput = { n = \"one\" }\n",
    );
    p.apply(&[]);
    p.edit("main.toml", "count = 2", "for_each = [\"a\", \"b\"]");
    let plan = p.plan_changes(&["--json"]);
    assert_eq!(
        planned_actions(&plan),
        changes(&[
            ("app[\"a\"]", "create"),
            ("app[\"b\"]", "create"),
            ("app[0]", "delete"),
            ("app[1]", "delete"),
        ])
    );
    p.apply(&[]);
    assert_eq!(p.state_list(), vec!["app[\"a\"]", "app[\"b\"]"]);
    p.assert_no_changes(&[]);

    // And back: for_each -> count.
    p.edit("main.toml", "for_each = [\"a\", \"b\"]", "count = 1");
    let plan = p.plan_changes(&["--json"]);
    assert_eq!(
        planned_actions(&plan),
        changes(&[
            ("app[\"a\"]", "delete"),
            ("app[\"b\"]", "delete"),
            ("app[0]", "create"),
        ])
    );
    p.apply(&[]);
    assert_eq!(p.state_list(), vec!["app[0]"]);
    p.assert_no_changes(&[]);
}

const QUEUES: &str = r#"
[variable.queues]
default = { orders = { max_delivery = 10, sender = true }, invoices = { max_delivery = 5, sender = true }, audit = { max_delivery = 1, sender = false } }

[locals]
senders = "${{for name, q in var.queues : name => { max_delivery = q.max_delivery, upper = upper(name) } if q.sender}}"

[resource.queue]
type = "core:data"
for_each = "${local.senders}"
input = { name = "q-${each.key}", max_delivery = "${each.value.max_delivery}", label = "${each.value.upper}" }

[resource.summary]
type = "core:data"
input = { names = "${[for q in queue : q.output.name]}", keys = "${keys(queue)}" }
"#;

#[test]
fn for_each_over_a_map_of_objects_built_by_a_for_expression() {
    let p = Project::with_main(QUEUES);
    p.apply(&[]);
    assert_eq!(
        p.state_list(),
        vec!["queue[\"invoices\"]", "queue[\"orders\"]", "summary"]
    );
    assert_eq!(
        output_of(&p, "queue[\"orders\"]"),
        json!({"name": "q-orders", "max_delivery": 10, "label": "ORDERS"})
    );
    assert_eq!(
        output_of(&p, "summary"),
        json!({"names": ["q-invoices", "q-orders"], "keys": ["invoices", "orders"]})
    );
    p.assert_no_changes(&[]);

    // Turning a queue's sender off removes exactly its instance (and updates the summary).
    p.edit(
        "main.toml",
        "invoices = { max_delivery = 5, sender = true }",
        "invoices = { max_delivery = 5, sender = false }",
    );
    let plan = p.plan_changes(&["--json"]);
    assert_eq!(
        planned_actions(&plan),
        changes(&[("queue[\"invoices\"]", "delete"), ("summary", "update")])
    );
    p.apply(&[]);
    p.assert_no_changes(&[]);
}

/// Keys known, values not (yet): a for_each map whose values hold attributes of a resource
/// planned in the same run is accepted, as in Terraform; `each.value` is "known after apply".
const KEYS_KNOWN: &str = r#"
[resource.registry]
type = "core:data"
input = "r"

[resource.app]
type = "core:data"
for_each = "${{for k in ['web', 'api'] : k => { parent = registry.id }}}"
input = { name = "${each.key}", parent = "${each.value.parent}" }
"#;

#[test]
fn for_each_keys_may_be_known_while_its_values_are_not() {
    let p = Project::with_main(KEYS_KNOWN);
    let plan = p.plan_changes(&["--json"]);
    assert_eq!(
        planned_actions(&plan),
        changes(&[
            ("app[\"api\"]", "create"),
            ("app[\"web\"]", "create"),
            ("registry", "create")
        ])
    );
    p.apply(&[]);
    let id = p.state()["resources"]["registry"]["id"].clone();
    assert_eq!(output_of(&p, "app[\"web\"]")["parent"], id);
    p.assert_no_changes(&[]);
}

#[test]
fn templatefile_and_file_render_and_a_saved_plan_goes_stale_when_the_template_changes() {
    let p = Project::with_main(
        r#"
[variable.queues]
default = ["orders", "invoices"]

[resource.config]
type = "core:data"
input = { rendered = "${templatefile('${path.module}/queues.tpl', { queues = var.queues, env = 'prod' })}", motd = "${trimspace(file('motd.txt'))}" }
"#,
    );
    p.write(
        "queues.tpl",
        "# ${upper(env)}\n%{ for q in queues ~}\nqueue ${q}\n%{ endfor ~}\n",
    );
    p.write("motd.txt", "Welcome!\n");
    p.apply(&[]);
    assert_eq!(
        output_of(&p, "config"),
        json!({"rendered": "# PROD\nqueue orders\nqueue invoices\n", "motd": "Welcome!"})
    );
    p.assert_no_changes(&[]);

    // A saved plan is tied to the files the configuration read, templates included.
    p.write("motd.txt", "Hello!\n");
    p.ok(&["plan", "--out", "p1"]);
    p.write(
        "queues.tpl",
        "# ${lower(env)}\n%{ for q in queues ~}\nqueue ${q}\n%{ endfor ~}\n",
    );
    p.fails(&["apply", "p1"])
        .stderr_has("the saved plan p1 is stale");
    p.apply(&[]);
    assert_eq!(
        output_of(&p, "config"),
        json!({"rendered": "# prod\nqueue orders\nqueue invoices\n", "motd": "Hello!"})
    );
    p.assert_no_changes(&[]);
}

const SECRET: &str = "hunter2-Zq8v";

const MARKS: &str = r#"
[variable.password]
default = "hunter2-Zq8v"
sensitive = true

[variable.env]
default = "prod"

[locals]
conn = "Server=db;Password=${var.password}"
picked = "${var.env == 'prod' ? var.password : 'none'}"
hashed = "${sha256(var.password)}"

[resource.base]
type = "core:data"
input = { name = "base" }

[resource.app]
type = "core:data"
[resource.app.input]
conn = "${local.conn}"
picked = "${local.picked}"
hashed = "${local.hashed}"
plain = "visible"
ids = "${[for n in ['a', 'b'] : '${n}-${base.id}']}"
names = "${[for n in ['a', 'b'] : upper(n)]}"
"#;

#[track_caller]
fn assert_no_secret(run: &Run) {
    assert!(
        !run.all().contains(SECRET),
        "the secret leaked:\n{}",
        run.all()
    );
}

#[test]
fn sensitive_values_through_a_local_a_conditional_and_a_function_are_never_shown() {
    let p = Project::with_main(MARKS);
    let text = p.plan_changes(&["--no-color"]);
    assert_no_secret(&text);
    for path in ["input.conn", "input.picked", "input.hashed"] {
        text.stdout_has(&format!("+ {path} = (sensitive)"));
    }
    text.stdout_has("+ input.plain = \"visible\"")
        .stdout_has("+ input.names[0] = \"A\"");

    let json_run = p.plan_changes(&["--json"]);
    assert_no_secret(&json_run);
    let doc = json_run.plan_doc();
    let app = doc["plan"]["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "app")
        .expect("app is planned")
        .clone();
    let sens = &app["after_sensitive"]["input"];
    assert_eq!(sens["conn"], json!(true));
    assert_eq!(sens["picked"], json!(true));
    assert_eq!(sens["hashed"], json!(true));
    assert!(
        sens["plain"].is_null() || sens["plain"] == json!(false),
        "{sens}"
    );
    assert!(app["after"]["input"]["conn"].is_null(), "{app:#}");
    assert_eq!(app["after"]["input"]["plain"], json!("visible"));

    let applied = p.apply(&[]);
    assert_no_secret(&applied);
    p.assert_no_changes(&[]);
    // The conditional's other branch is not sensitive: it is shown.
    let dev = p.plan_changes(&["--no-color", "--var", "env=dev"]);
    assert_no_secret(&dev);
    dev.stdout_has("input.picked = (sensitive) -> \"none\"");
}

#[test]
fn an_error_about_a_sensitive_value_never_quotes_it() {
    let p = Project::with_main(&format!(
        r#"
[variable.token]
default = "{SECRET}"
sensitive = true

[resource.app]
type = "core:data"
input = {{ n = "${{tonumber(var.token)}}", m = "${{var.token + 1}}", k = "${{{{ a = 1 }}[var.token]}}" }}
"#
    ));
    let run = p.fails(&["plan", "--no-color"]);
    run.stderr_has("tonumber()").stderr_has("main.toml:");
    assert_no_secret(&run);
    let validate = p.run(&["validate", "--no-color"]);
    assert_no_secret(&validate);
}

#[test]
fn an_unknown_through_a_for_expression_is_known_after_apply_exactly_where_it_applies() {
    let p = Project::with_main(MARKS);
    let text = p.plan_changes(&["--no-color"]);
    text.stdout_has("+ input.ids[0] = (known after apply)")
        .stdout_has("+ input.ids[1] = (known after apply)")
        .stdout_has("+ input.names[1] = \"B\"")
        .stdout_lacks("input.names[0] = (known after apply)")
        .stdout_lacks("input.plain = (known after apply)");
    let doc = p.plan_changes(&["--json"]).plan_doc();
    let app = doc["plan"]["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "app")
        .expect("app is planned")
        .clone();
    assert_eq!(app["after_unknown"]["input"]["ids"], json!([true, true]));
    assert_eq!(
        app["after_unknown"]["input"]["names"],
        json!([false, false])
    );
    assert_eq!(app["after"]["input"]["names"], json!(["A", "B"]));

    p.apply(&[]);
    let base = p.id_of("base");
    assert_eq!(
        output_of(&p, "app")["ids"],
        json!([format!("a-{base}"), format!("b-{base}")])
    );
    p.assert_no_changes(&[]);
}

mod azure {
    //! On the in-process simulated cloud (`--sim`): resource groups, a namespace and its
    //! queues from one map variable.

    use super::*;

    const ESTATE: &str = r#"
[variable.prefix]
default = "lang"

[variable.groups]
default = { app = { location = "eastus", enabled = true }, data = { location = "westeurope", enabled = true }, spare = { location = "eastus", enabled = false } }

[variable.queues]
default = { orders = 10, invoices = 5 }

[locals]
tags = { owner = "platform", managed_by = "plinth" }
groups = "${{for k, g in var.groups : k => g if g.enabled}}"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
for_each = "${local.groups}"
name = "${var.prefix}-${each.key}-rg"
location = "${each.value.location}"
tags = "${merge(local.tags, { group = each.key })}"

[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${rg['app'].id}"
name = "${var.prefix}-sbns"
location = "${rg['app'].location}"
tags = "${local.tags}"
body = { sku = { name = "Standard" }, properties = { disableLocalAuth = true } }

[resource.queue]
type = "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01"
for_each = "${var.queues}"
parent = "${sb.id}"
name = "${each.key}"
body = { properties = { maxDeliveryCount = "${each.value}" } }

[output.queue_ids]
value = "${[for q in queue : q.id]}"
"#;

    fn sim(p: &Project, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.push("--sim");
        p.run_env(&all, &[("PLINTH_SIM_LATENCY", "instant")])
    }

    #[test]
    fn resource_groups_and_queues_from_maps_converge_on_the_simulated_cloud() {
        let p = Project::with_main(ESTATE);
        sim(&p, &["apply", "--auto-approve", "--json"]).code(0);
        assert_eq!(
            p.state_list(),
            vec![
                "queue[\"invoices\"]",
                "queue[\"orders\"]",
                "rg[\"app\"]",
                "rg[\"data\"]",
                "sb",
            ]
        );
        assert!(
            p.id_of("rg[\"data\"]")
                .ends_with("/resourceGroups/lang-data-rg"),
            "{}",
            p.id_of("rg[\"data\"]")
        );
        assert!(p.id_of("queue[\"orders\"]").ends_with("/queues/orders"));
        let ids = p.output("queue_ids");
        assert_eq!(ids.as_array().map(Vec::len), Some(2), "{ids}");
        sim(&p, &["plan", "--detailed-exitcode"])
            .code(0)
            .stdout_has("No changes");

        // One more queue from the map: exactly one create.
        let more = r#"{ orders = 10, invoices = 5, audit = 1 }"#;
        let var = format!("queues={more}");
        let plan = sim(
            &p,
            &["plan", "--detailed-exitcode", "--json", "--var", &var],
        );
        plan.code(2);
        assert_eq!(
            planned_actions(&plan),
            changes(&[("queue[\"audit\"]", "create")])
        );
        sim(&p, &["apply", "--auto-approve", "--json", "--var", &var]).code(0);
        sim(&p, &["plan", "--detailed-exitcode", "--var", &var])
            .code(0)
            .stdout_has("No changes");
    }
}
