//! `examples/two-apps-one-cluster` end to end on its own simulated cloud: one AKS cluster and
//! the flagship's `keda-workload-identity` module called with `for_each` over two
//! applications, each with its own queue, identity, producer and ScaledJob. kubectl sees
//! both applications' objects and each ScaledJob scales on its own queue (orders sends 100
//! messages, invoices 50: 10 and 5 consumer jobs); the second plan is empty; adding a third
//! application plans and applies only its objects; removing one deletes only its objects,
//! dependents first; destroy leaves nothing.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::sim::{Kubectl, Sim, kubectl_for, require_kubectl};
use common::{Project, Run};

/// Copies a directory tree (files and subdirectories).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy file");
        }
    }
}

/// The example in a fresh directory, with the module it calls at the same relative path
/// (`../aks-keda-workload-identity/modules/keda-workload-identity`).
fn two_apps() -> Project {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let p = Project::copy_of(&examples.join("two-apps-one-cluster"));
    let module = "aks-keda-workload-identity/modules/keda-workload-identity";
    copy_tree(
        &examples.join(module),
        &p.dir.parent().unwrap().join(module),
    );
    p
}

#[track_caller]
fn ok(run: Run) -> Run {
    run.code(0);
    run
}

/// The `(address, action)` of every change a plan makes.
fn plan_changes(p: &Project, sim: &Sim) -> BTreeSet<(String, String)> {
    let run = p.sim_run(sim, &["plan", "--json", "--detailed-exitcode"]);
    run.code(2);
    run.plan_doc()["plan"]["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["actions"] != serde_json::json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["actions"][0].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every object one application has, with `action` (the module's keda-operator restart
/// apart: it runs only when its credential is created).
fn app_objects(app: &str, action: &str) -> BTreeSet<(String, String)> {
    let mut out: BTreeSet<(String, String)> = [
        format!("queue[\"{app}\"]"),
        format!("producer[\"{app}\"]"),
        format!("consumer[\"{app}\"]"),
    ]
    .into_iter()
    .chain(
        [
            "mi",
            "fic_workload",
            "fic_keda",
            "data_owner",
            "workload_sa",
            "trigger_auth",
        ]
        .iter()
        .map(|r| format!("module.app[\"{app}\"].{r}")),
    )
    .map(|a| (a, action.to_string()))
    .collect();
    if action == "create" {
        out.insert((
            format!("module.app[\"{app}\"].action.restart_keda"),
            "run".to_string(),
        ));
    }
    out
}

/// What kubectl sees of an application once simulated time has passed: its ScaledJob
/// scaled on its own queue to `jobs` consumer jobs, each of which succeeded, after its
/// producer succeeded, all running as its own service account.
#[track_caller]
fn assert_app_scaled(sim: &Sim, kubectl: &Kubectl, app: &str, jobs: usize, client_id: &str) {
    sim.settle();
    let scaled_job = format!("{app}-consumer");
    let text = kubectl.ok(&["describe", "scaledjob", &scaled_job]);
    assert!(text.contains("ScaledJobReady"), "{text}");
    assert!(text.contains(&format!("Created {jobs} jobs")), "{text}");
    let last = text
        .lines()
        .rfind(|l| l.contains("KEDAJobsCreated") || l.contains("KEDAScalerFailed"))
        .unwrap_or_default();
    assert!(last.contains("KEDAJobsCreated"), "{text}");
    // Its trigger reads its own queue, authenticated as its own identity.
    let trigger = kubectl.ok(&[
        "get",
        "scaledjob",
        &scaled_job,
        "-o",
        "jsonpath={.spec.triggers[0].metadata.queueName} {.spec.triggers[0].authenticationRef.name}",
    ]);
    assert_eq!(trigger, format!("{app} twoapps-{app}-servicebus-auth"));
    let identity = kubectl.ok(&[
        "get",
        "triggerauthentication",
        &format!("twoapps-{app}-servicebus-auth"),
        "-o",
        "jsonpath={.spec.podIdentity.identityId}",
    ]);
    assert_eq!(identity, client_id);
    let annotation = kubectl.ok(&[
        "get",
        "sa",
        &format!("twoapps-{app}-mi"),
        "-o",
        r#"jsonpath={.metadata.annotations.azure\.workload\.identity/client-id}"#,
    ]);
    assert_eq!(annotation, client_id);

    let producer = kubectl.ok(&[
        "get",
        "job",
        &format!("{app}-producer"),
        "-o",
        "jsonpath={.status.succeeded}",
    ]);
    assert_eq!(producer.trim(), "1", "{app}'s producer");
    let consumers = kubectl.ok(&[
        "get",
        "jobs",
        "-l",
        &format!("scaledjob.keda.sh/name={scaled_job}"),
        "-o",
        "jsonpath={range .items[*]}{.status.succeeded}{\"\\n\"}{end}",
    ]);
    assert_eq!(
        consumers.lines().filter(|l| l.trim() == "1").count(),
        jobs,
        "{app}'s consumer jobs: {consumers}"
    );
}

fn client_id(p: &Project, app: &str) -> String {
    let ids = p.output("client_ids");
    let id = ids[app].as_str().unwrap_or_else(|| panic!("{ids}"));
    assert!(common::is_uuid(id), "{id}");
    id.to_string()
}

#[test]
fn two_apps_share_one_cluster_each_scaling_on_its_own_queue() {
    require_kubectl();
    let p = two_apps();
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));

    // The first plan: the platform's three objects and both applications' own.
    let mut first = set(&[("rg", "create"), ("aks", "create"), ("sb", "create")]);
    first.extend(app_objects("orders", "create"));
    first.extend(app_objects("invoices", "create"));
    assert_eq!(plan_changes(&p, &sim), first);

    let apply = ok(p.sim_run(&sim, &["apply", "--auto-approve", "--json"]));
    for app in ["orders", "invoices"] {
        // Each instance restarts the operator after its own credential exists.
        assert!(
            apply.op_index(
                "op_finished",
                &format!("module.app[\"{app}\"].fic_keda"),
                "create"
            ) < apply.op_index(
                "op_started",
                &format!("module.app[\"{app}\"].action.restart_keda"),
                "run"
            )
        );
        // Each identity's data role is on its own queue alone.
        let role = p.id_of(&format!("module.app[\"{app}\"].data_owner"));
        assert!(
            role.starts_with(&format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/",
                p.id_of(&format!("queue[\"{app}\"]"))
            )),
            "{role}"
        );
    }
    let orders = client_id(&p, "orders");
    let invoices = client_id(&p, "invoices");
    assert_ne!(orders, invoices);
    assert_eq!(
        p.output("queues"),
        serde_json::json!({"invoices": "invoices", "orders": "orders"})
    );

    let kubectl = kubectl_for(&p, &sim, &p.id_of("aks"));
    assert_app_scaled(&sim, &kubectl, "orders", 10, &orders);
    assert_app_scaled(&sim, &kubectl, "invoices", 5, &invoices);

    // The second plan: nothing to do.
    ok(p.sim_run(&sim, &["plan", "--detailed-exitcode"])).stdout_has("No changes");

    // A third application: only its objects are planned, and applying touches nothing else.
    p.edit(
        "main.toml",
        "invoices = { messages = 50 }",
        "invoices = { messages = 50 }\naudit = { messages = 30 }",
    );
    assert_eq!(plan_changes(&p, &sim), app_objects("audit", "create"));
    let apply = ok(p.sim_run(&sim, &["apply", "--auto-approve", "--json"]));
    let touched = apply.touched();
    assert!(
        touched.iter().all(|a| a.contains("\"audit\"")),
        "{touched:?}"
    );
    assert_app_scaled(&sim, &kubectl, "audit", 3, &client_id(&p, "audit"));
    ok(p.sim_run(&sim, &["plan", "--detailed-exitcode"])).stdout_has("No changes");

    // Removing one deletes exactly its objects, dependents first.
    p.edit("main.toml", "invoices = { messages = 50 }\n", "");
    assert_eq!(plan_changes(&p, &sim), app_objects("invoices", "delete"));
    let apply = ok(p.sim_run(&sim, &["apply", "--auto-approve", "--json"]));
    let touched = apply.touched();
    assert!(
        touched.iter().all(|a| a.contains("\"invoices\"")),
        "{touched:?}"
    );
    let deleted = |a: &str| apply.op_index("op_finished", a, "delete");
    let deleting = |a: &str| apply.op_index("op_started", a, "delete");
    let module = |r: &str| format!("module.app[\"invoices\"].{r}");
    for workload in ["producer[\"invoices\"]", "consumer[\"invoices\"]"] {
        for r in [
            "workload_sa",
            "trigger_auth",
            "data_owner",
            "fic_workload",
            "mi",
        ] {
            assert!(deleted(workload) < deleting(&module(r)), "{workload} {r}");
        }
    }
    for r in [
        "fic_workload",
        "fic_keda",
        "data_owner",
        "workload_sa",
        "trigger_auth",
    ] {
        assert!(deleted(&module(r)) < deleting(&module("mi")), "{r}");
    }
    assert!(deleted(&module("data_owner")) < deleting("queue[\"invoices\"]"));
    let scaled_jobs = kubectl.ok(&["get", "scaledjobs", "-o", "name"]);
    assert_eq!(
        scaled_jobs.lines().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "scaledjob.keda.sh/audit-consumer",
            "scaledjob.keda.sh/orders-consumer"
        ])
    );
    ok(p.sim_run(&sim, &["plan", "--detailed-exitcode"])).stdout_has("No changes");

    // Destroy: the simulated subscription is empty again.
    ok(p.sim_run(&sim, &["destroy", "--auto-approve"]));
    assert!(p.state_list().is_empty());
    assert_eq!(sim.inventory(), Vec::<String>::new());
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}
