//! The examples besides the flagship, end to end: `examples/multi-queue` on its own simulated
//! cloud and `examples/quickstart` (built-in types only) apply, a second plan is empty, a
//! change of their variables plans exactly the instances it should, and destroy leaves nothing.
//! And every expression and function example of `docs/language.md` evaluates to the result
//! it documents, and every built-in function has one.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::sim::Sim;
use common::{Project, Run};
use serde_json::{Value as Json, json};

fn example(name: &str) -> Project {
    Project::copy_of(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name),
    )
}

/// The `(address, action)` of every change of a `plan --json` run that is not a no-op.
fn changes(run: &Run) -> BTreeSet<(String, String)> {
    run.plan_doc()["plan"]["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["actions"] != json!(["no-op"]))
        .map(|c| {
            let actions: Vec<&str> = c["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            (
                c["address"].as_str().unwrap().to_string(),
                actions.join("+"),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn multi_queue_declares_every_queue_identity_and_role_from_one_map() {
    let p = example("multi-queue");
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));

    let plan = p.sim_run(&sim, &["plan", "--json", "--detailed-exitcode"]);
    plan.code(2);
    let mut expected = vec![("rg", "create"), ("sb", "create")];
    for q in ["orders", "invoices", "audit"] {
        for r in ["queue", "mi", "receiver"] {
            expected.push((
                Box::leak(format!("{r}[\"{q}\"]").into_boxed_str()),
                "create",
            ));
        }
    }
    expected.push(("sender[\"orders\"]", "create"));
    expected.push(("sender[\"invoices\"]", "create"));
    assert_eq!(changes(&plan), set(&expected));

    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    assert_eq!(p.output("senders"), json!(["invoices", "orders"]));
    let ids = p.output("queue_ids");
    assert_eq!(
        ids.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["audit", "invoices", "orders"]
    );
    assert!(
        ids["orders"]
            .as_str()
            .unwrap()
            .ends_with("/namespaces/multiq-dev-sbns/queues/orders"),
        "{ids}"
    );
    assert_eq!(
        p.output("servicebus_hostname"),
        json!("multiq-dev-sbns.servicebus.windows.net")
    );
    // The queue without max_delivery got the default; the conditional TTL is dev's.
    let state = p.state();
    let audit = &state["resources"]["queue[\"audit\"]"]["attributes"]["properties"];
    assert_eq!(audit["maxDeliveryCount"], json!(10), "{audit}");
    assert_eq!(audit["defaultMessageTimeToLive"], json!("P1D"), "{audit}");
    let sender_scope = p.id_of("sender[\"orders\"]");
    assert!(
        sender_scope.contains("/queues/orders/providers/Microsoft.Authorization/roleAssignments/"),
        "{sender_scope}"
    );

    // The second plan after apply: nothing to do.
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");

    // One queue stops sending: exactly its sender assignment goes away.
    p.edit(
        "main.toml",
        "invoices = { max_delivery = 5, sender = true }",
        "invoices = { max_delivery = 5, sender = false }",
    );
    let plan = p.sim_run(&sim, &["plan", "--json", "--detailed-exitcode"]);
    plan.code(2);
    assert_eq!(changes(&plan), set(&[("sender[\"invoices\"]", "delete")]));
    // A new queue: its queue, identity and receiver, and nothing else.
    p.edit(
        "main.toml",
        "audit = { sender = false }",
        "audit = { sender = false }\npayments = { max_delivery = 3, sender = false }",
    );
    let plan = p.sim_run(&sim, &["plan", "--json", "--detailed-exitcode"]);
    plan.code(2);
    assert_eq!(
        changes(&plan),
        set(&[
            ("sender[\"invoices\"]", "delete"),
            ("queue[\"payments\"]", "create"),
            ("mi[\"payments\"]", "create"),
            ("receiver[\"payments\"]", "create"),
        ])
    );
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("No changes");

    p.sim_run(&sim, &["destroy", "--auto-approve"]).code(0);
    assert!(p.state_list().is_empty());
    assert_eq!(sim.inventory(), Vec::<String>::new());
}

#[test]
fn multi_queue_in_prod_keeps_messages_two_weeks() {
    let p = example("multi-queue");
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve", "--var", "env=prod"])
        .code(0);
    let state = p.state();
    for q in ["orders", "invoices", "audit"] {
        let props = &state["resources"][format!("queue[\"{q}\"]")]["attributes"]["properties"];
        assert_eq!(
            props["defaultMessageTimeToLive"],
            json!("P14D"),
            "{q}: {props}"
        );
    }
    assert_eq!(
        state["resources"]["rg"]["attributes"]["tags"],
        json!({"env": "prod", "owner": "platform-team", "managed_by": "plinth"})
    );
    p.sim_run(&sim, &["plan", "--detailed-exitcode", "--var", "env=prod"])
        .code(0);
}

#[test]
fn quickstart_applies_converges_and_destroys() {
    let p = example("quickstart");
    let apply = p.apply(&[]);
    assert!(
        apply
            .events()
            .iter()
            .any(|e| e["type"] == "apply_complete" && e["ok"] == true),
        "{}",
        apply.all()
    );
    assert_eq!(p.output("app_names"), json!("demo-app-dev, demo-app-prod"));
    let state = p.state();
    let prod = &state["resources"]["app[\"prod\"]"]["attributes"]["output"];
    assert_eq!(prod["replicas"], json!(1), "{prod}");
    assert_eq!(
        prod["tags"],
        json!({"owner": "DEMO-team", "managed_by": "plinth", "env": "prod"})
    );
    p.assert_no_changes(&[]);

    // High availability changes the production app only, in place.
    let plan = p.plan_changes(&["--json", "--var", "ha=true"]);
    assert_eq!(changes(&plan), set(&[("app[\"prod\"]", "update")]));

    p.ok(&["destroy", "--auto-approve"]);
    assert!(p.state_list().is_empty());
}

/// One row of an example table of `docs/language.md`: the example and its documented result.
struct Documented {
    line: usize,
    example: String,
    result: Json,
}

/// The rows of every table of the language reference whose last two columns are `Example`
/// and `Result` (the expression examples and the function tables); a result is written as
/// JSON.
fn documented_examples() -> Vec<Documented> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md"))
        .expect("docs/language.md");
    let mut rows = Vec::new();
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let cells = split_row(line);
        if cells.len() < 2 {
            in_table = false;
            continue;
        }
        let n = cells.len();
        if cells[n - 2] == "Example" && cells[n - 1] == "Result" {
            in_table = true;
            continue;
        }
        if !in_table || cells.iter().all(|c| c.starts_with("---")) {
            continue;
        }
        let code = |c: &str| {
            assert!(
                c.starts_with('`') && c.ends_with('`'),
                "docs/language.md:{}: {c:?} is not `code`",
                i + 1
            );
            c.trim_matches('`').replace("\\|", "|")
        };
        let example = code(cells[n - 2]);
        let result_text = code(cells[n - 1]);
        let result = serde_json::from_str(&result_text).unwrap_or_else(|e| {
            panic!(
                "docs/language.md:{}: the result {result_text:?} is not JSON: {e}",
                i + 1
            )
        });
        rows.push(Documented {
            line: i + 1,
            example,
            result,
        });
    }
    rows
}

/// The cells of a Markdown table row (`\|` inside a cell is not a separator).
fn split_row(line: &str) -> Vec<&str> {
    let line = line.trim();
    if !line.starts_with('|') || !line.ends_with('|') {
        return Vec::new();
    }
    let inner = &line[1..line.len() - 1];
    let mut cells = Vec::new();
    let mut from = 0;
    let bytes = inner.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\') {
            cells.push(inner[from..i].trim());
            from = i + 1;
        }
    }
    cells.push(inner[from..].trim());
    cells
}

/// The files the reference's `file`/`templatefile`/`fileexists` examples read, as it
/// describes them above its tables.
const DOC_FILES: &[(&str, &str)] = &[
    ("motd.txt", "Welcome!\n"),
    (
        "queues.tpl",
        "%{ for q in queues ~}\nqueue ${q}\n%{ endfor ~}\n",
    ),
];

#[test]
fn every_example_in_the_language_reference_is_true() {
    let rows = documented_examples();
    assert!(
        rows.len() >= 100,
        "only {} examples found in docs/language.md",
        rows.len()
    );
    // The functions the examples call first.
    let documented: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.example.split('(').next().map(str::to_string))
        .collect();
    let mut config = String::new();
    for (i, row) in rows.iter().enumerate() {
        assert!(
            !row.example.contains("'''"),
            "docs/language.md:{}: an example may not hold '''",
            row.line
        );
        // sensitive() marks its result: such an output must say so, and is read revealed.
        let sensitive = row.example.starts_with("sensitive(");
        config.push_str(&format!(
            "[output.ex{i}]\nvalue = '''${{{}}}'''\nsensitive = {sensitive}\n\n",
            row.example
        ));
    }
    let p = Project::with_main(&config);
    for (name, text) in DOC_FILES {
        p.write(name, text);
    }
    p.apply(&[]);
    let outputs = p.ok(&["output", "--json", "--show-sensitive"]).stdout;
    let outputs: Json = serde_json::from_str(outputs.trim()).expect("output --json");
    let mut wrong = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let got = &outputs[format!("ex{i}")]["value"];
        if !same(got, &row.result) {
            wrong.push(format!(
                "docs/language.md:{}: {} is {got}, documented as {}",
                row.line, row.example, row.result
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let missing: Vec<&str> = plinth_expr::builtin_function_names()
        .into_iter()
        .filter(|f| !documented.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/language.md has no example of {missing:?}"
    );
}

/// Equal as JSON, numbers compared by value (`2` and `2.0` are the same number).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
