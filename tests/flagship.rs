//! The flagship, `examples/aks-keda-workload-identity`, end to end on the simulated cloud and
//! checked the way the AKS guide checks it: `kubectl describe scaledjob` ends with
//! `KEDAJobsCreated  Created 10 jobs`, which the simulator only reaches when the identity
//! chain is right (federated credentials, the keda-operator restart after its credential, the
//! Service Bus data role). Then the second plan is empty and destroy leaves nothing behind.
//! The identity chain lives in the module `modules/keda-workload-identity`, called once as
//! `module.workload`, so its objects are addressed `module.workload.mi` and so on.
//!
//! Three broken variants are each caught at plan time by the identity-chain check (a warning
//! per broken link, which `--fail-on identity-chain` turns into a refusal); applied anyway,
//! each ends with the ScaledJob reporting what a real cluster would, and `plinth plan` on the
//! fixed configuration shows exactly the missing piece and no finding.

mod common;

use std::collections::BTreeSet;

use common::sim::{Kubectl, Sim, kubectl_for, require_kubectl};
use common::{Project, Run};

const SCALED_JOB: &str = "myconsumer-scaledjob";
/// The module's files the broken variants break.
const IDENTITY: &str = "modules/keda-workload-identity/identity.toml";
const KUBERNETES: &str = "modules/keda-workload-identity/kubernetes.toml";

fn world(p: &Project) -> std::path::PathBuf {
    p.dir.parent().unwrap().join("world.json")
}

/// Removes the TOML table `[header]`, its sub-tables (`[header.body]`) and the comment block
/// above it from a file.
fn remove_table(p: &Project, file: &str, header: &str) {
    let text = p.read(file);
    let mut out: Vec<&str> = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line == format!("[{header}]") || line.starts_with(&format!("[{header}."));
            if skipping {
                // The comment block just above belongs to it.
                while out.last().is_some_and(|l| l.starts_with('#')) {
                    out.pop();
                }
            }
        }
        if !skipping {
            out.push(line);
        }
    }
    assert!(out.len() < text.lines().count(), "{file} has no [{header}]");
    p.write(file, &(out.join("\n") + "\n"));
}

#[track_caller]
fn ok(run: Run) -> Run {
    run.code(0);
    run
}

/// `kubectl describe scaledjob` after simulated time has passed.
fn describe(sim: &Sim, kubectl: &Kubectl) -> String {
    sim.settle();
    kubectl.ok(&["describe", "scaledjob", SCALED_JOB])
}

/// The addresses a plan changes, with their actions.
fn plan_changes(p: &Project, sim: &Sim) -> BTreeSet<(String, String)> {
    let run = p.sim_run(sim, &["plan", "--json", "--detailed-exitcode"]);
    run.code(2);
    let doc = run.plan_doc();
    doc["plan"]["resource_changes"]
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

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn flagship_scales_to_ten_jobs_converges_and_destroys_everything() {
    require_kubectl();
    let p = Project::flagship();
    let sim = Sim::start(&world(&p));

    let apply = ok(p.sim_run(&sim, &["apply", "--auto-approve", "--json"]));
    assert!(
        apply
            .events()
            .iter()
            .any(|e| e["type"] == "apply_complete" && e["ok"] == true),
        "{}",
        apply.all()
    );
    // The restart runs after the operator's credential exists.
    assert!(
        apply.op_index("op_finished", "module.workload.fic_keda", "create")
            < apply.op_index("op_started", "module.workload.action.restart_keda", "run")
    );
    // So does it after the operator's ServiceAccount names the identity (Azure/AKS#5243).
    assert!(
        apply.op_index(
            "op_finished",
            "module.workload.keda_operator_identity[0]",
            "create"
        ) < apply.op_index("op_started", "module.workload.action.restart_keda", "run")
    );
    // The module's data role is on the queue alone, not on the namespace.
    let role = p.id_of("module.workload.data_owner");
    assert!(
        role.starts_with(&format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/",
            p.id_of("queue")
        )),
        "{role}"
    );
    // Outputs.
    let issuer = p.output("oidc_issuer");
    assert!(issuer.as_str().unwrap().starts_with(&sim.url), "{issuer}");
    assert!(common::is_uuid(
        p.output("identity_client_id").as_str().unwrap()
    ));
    assert_eq!(
        p.output("servicebus_hostname"),
        serde_json::json!("kedademo-sbns.servicebus.windows.net")
    );

    // What the guide checks, with kubectl and the kubeconfig `plinth sim kubeconfig` prints
    // (the cluster named by `[provider.kubernetes]`, found in state).
    let config = ok(p.run(&["sim", "kubeconfig", "--sim", &sim.url]));
    assert!(
        config.stdout.contains("current-context: kedademo-aks"),
        "{}",
        config.stdout
    );
    let kubeconfig = p.dir.parent().unwrap().join("flagship.kubeconfig");
    std::fs::write(&kubeconfig, &config.stdout).unwrap();
    let kubectl = Kubectl { kubeconfig };
    let text = describe(&sim, &kubectl);
    assert!(text.contains("KEDAScalersStarted"), "{text}");
    assert!(text.contains("ScaledJobReady"), "{text}");
    assert!(text.contains("Created 10 jobs"), "{text}");
    // The ScaledJob may exist before the operator's restart (nothing orders them; KEDA polls),
    // so a first poll may fail as on a real cluster; the last word must be success.
    let last = text
        .lines()
        .rfind(|l| l.contains("KEDAJobsCreated") || l.contains("KEDAScalerFailed"))
        .unwrap_or_default();
    assert!(last.contains("KEDAJobsCreated"), "{text}");
    let producer = kubectl.ok(&[
        "get",
        "job",
        "myproducer",
        "-o",
        "jsonpath={.status.succeeded}",
    ]);
    assert_eq!(producer.trim(), "1");
    let consumers = kubectl.ok(&[
        "get",
        "jobs",
        "-l",
        &format!("scaledjob.keda.sh/name={SCALED_JOB}"),
        "-o",
        "jsonpath={range .items[*]}{.status.succeeded}{\"\\n\"}{end}",
    ]);
    assert_eq!(
        consumers.lines().filter(|l| l.trim() == "1").count(),
        10,
        "{consumers}"
    );
    let sa = kubectl.ok(&[
        "get",
        "sa",
        "kedademo-mi",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    assert!(sa.contains("manager: plinth"), "{sa}");
    // The add-on's ServiceAccount: plinth owns its client-id annotation only, as its own
    // field manager; the add-on's labels stay the add-on's.
    let operator_sa = kubectl.ok(&[
        "get",
        "sa",
        "keda-operator",
        "-n",
        "kube-system",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    let client_id = p.output("identity_client_id");
    assert!(
        operator_sa.contains(&format!(
            "azure.workload.identity/client-id: {}",
            client_id.as_str().unwrap()
        )),
        "{operator_sa}"
    );
    assert!(
        operator_sa.contains("manager: plinth-fields:module.workload.keda_operator_identity[0]"),
        "{operator_sa}"
    );

    // The second plan after apply: nothing to do.
    ok(p.sim_run(&sim, &["plan", "--detailed-exitcode"])).stdout_has("No changes");

    // The annotation changed by hand is drift on that one path: the plan sets it back and
    // restarts the operator; the ServiceAccount's other fields stay out of the plan.
    kubectl.ok(&[
        "annotate",
        "serviceaccount",
        "keda-operator",
        "-n",
        "kube-system",
        "--overwrite",
        "azure.workload.identity/client-id=00000000-0000-0000-0000-000000000000",
        "someone/else=1",
    ]);
    let drift = p.sim_run(&sim, &["plan", "--detailed-exitcode", "--no-color"]);
    drift.code(2);
    drift
        .stdout_has("module.workload.keda_operator_identity[0]")
        .stdout_has("metadata.annotations[\"azure.workload.identity/client-id\"]")
        .stdout_has("module.workload.action.restart_keda");
    assert!(!drift.stdout.contains("someone/else"), "{}", drift.stdout);
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    let annotations = kubectl.ok(&[
        "get",
        "sa",
        "keda-operator",
        "-n",
        "kube-system",
        "-o",
        "jsonpath={.metadata.annotations}",
    ]);
    assert!(
        annotations.contains(client_id.as_str().unwrap()) && annotations.contains("someone/else"),
        "{annotations}"
    );
    ok(p.sim_run(&sim, &["plan", "--detailed-exitcode"])).stdout_has("No changes");

    // Destroy: the simulated subscription is empty again.
    ok(p.sim_run(&sim, &["destroy", "--auto-approve"]));
    assert!(p.state_list().is_empty());
    assert_eq!(sim.inventory(), Vec::<String>::new());
}

/// The identity-chain findings of a plan, `(rule, address)`, read from the saved plan (each
/// located, with a fix).
fn chain_findings(p: &Project, sim: &Sim) -> BTreeSet<(String, String)> {
    ok(p.sim_run(sim, &["plan", "--out", "chain.plan"]));
    let plan: serde_json::Value = serde_json::from_str(&p.read("chain.plan")).unwrap();
    p.remove("chain.plan");
    let findings = plan["findings"].as_array().cloned().unwrap_or_default();
    findings
        .iter()
        .filter(|f| f["source"] == "identity-chain")
        .map(|f| {
            assert_eq!(f["severity"], "warn", "{f:#}");
            assert!(f["fix"].as_str().is_some_and(|x| !x.is_empty()), "{f:#}");
            let location = f["location"].as_str().unwrap_or_default();
            assert!(
                location.contains(".toml:") || location.contains(".yaml:"),
                "{f:#}"
            );
            (
                f["rule"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Checks that the identity-chain check catches a broken variant at plan time (`chain`: its
/// findings) and that `--fail-on identity-chain` refuses the plan, then applies it, checks what
/// the ScaledJob reports, restores the example and checks the plan is exactly `fix`, with no
/// finding left.
fn broken_variant(
    break_it: impl Fn(&Project),
    chain: &[(&str, &str)],
    scaler_error: &str,
    fix: &[(&str, &str)],
) -> (Project, Sim, Kubectl) {
    require_kubectl();
    let p = Project::flagship();
    let sim = Sim::start(&world(&p));
    break_it(&p);
    assert_eq!(chain_findings(&p, &sim), set(chain));
    let refused = p.sim_run(&sim, &["plan", "--fail-on", "identity-chain", "--no-color"]);
    refused.code(1);
    for (rule, _) in chain {
        assert!(
            refused.all().contains(&format!("[{rule}]")),
            "{}",
            refused.all()
        );
    }
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    let kubectl = kubectl_for(&p, &sim, &p.id_of("aks"));
    let text = describe(&sim, &kubectl);
    assert!(text.contains("KEDAScalerFailed"), "{text}");
    assert!(text.contains(scaler_error), "{text}");
    assert!(!text.contains("Created 10 jobs"), "{text}");

    // The fixed configuration plans exactly the missing piece.
    let fixed = Project::flagship();
    for f in [IDENTITY, KUBERNETES] {
        p.write(f, &fixed.read(f));
    }
    assert_eq!(plan_changes(&p, &sim), set(fix));
    assert_eq!(chain_findings(&p, &sim), set(&[]));
    (p, sim, kubectl)
}

#[test]
fn without_the_keda_operator_credential_the_scaler_cannot_authenticate() {
    let (p, sim, kubectl) = broken_variant(
        |p| {
            remove_table(p, IDENTITY, "resource.fic_keda");
            remove_table(p, KUBERNETES, "action.restart_keda");
        },
        &[
            // The operator's ServiceAccount and the TriggerAuthentication name an identity
            // that does not trust the operator's token; the annotation is not followed by
            // a restart.
            ("credential", "module.workload.keda_operator_identity[0]"),
            ("credential", "module.workload.trigger_auth"),
            ("restart", "module.workload.keda_operator_identity[0]"),
        ],
        "AADSTS70021: No matching federated identity record found",
        &[
            ("module.workload.fic_keda", "create"),
            ("module.workload.action.restart_keda", "run"),
        ],
    );
    // Applying the fix heals it: KEDA retries and scales out.
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    let text = describe(&sim, &kubectl);
    assert!(text.contains("Created 10 jobs"), "{text}");
}

#[test]
fn without_the_restart_the_operator_keeps_its_old_credential() {
    let (p, sim, kubectl) = broken_variant(
        |p| remove_table(p, KUBERNETES, "action.restart_keda"),
        &[
            ("restart", "module.workload.fic_keda"),
            ("restart", "module.workload.keda_operator_identity[0]"),
        ],
        "started before the federated identity credential",
        &[("module.workload.action.restart_keda", "run")],
    );
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    let text = describe(&sim, &kubectl);
    assert!(text.contains("Created 10 jobs"), "{text}");
}

#[test]
fn without_the_data_role_neither_producer_nor_scaler_may_use_the_queue() {
    let (_p, _sim, kubectl) = broken_variant(
        |p| remove_table(p, IDENTITY, "resource.data_owner"),
        &[("data-role", "consumer")],
        "Manage,EntityRead claims required",
        &[("module.workload.data_owner", "create")],
    );
    // The producer failed the way its pod would: no Send claim.
    let job = kubectl.ok(&["describe", "job", "myproducer"]);
    assert!(job.contains("BackoffLimitExceeded"), "{job}");
    assert!(job.contains("'Send' claim(s) are required"), "{job}");
}

/// The flagship's first plan, as a reviewer sees it: Markdown for the pull request, text for
/// the terminal, plan JSON (validated against its published schema) and Terraform's format.
#[test]
fn first_plan_renders_for_review() {
    let p = Project::flagship();
    let sim = Sim::start(&world(&p));
    ok(p.sim_run(&sim, &["plan", "--out", "first.plan"]));
    let markdown = ok(p.run(&["show", "first.plan", "--format", "markdown"])).stdout;
    assert!(markdown.len() < 65_536);
    // The configuration line names the directory by its last two components: the temporary
    // directory's random name is not part of what the snapshot pins.
    let tmp_name = p.dir.parent().and_then(|d| d.file_name()).unwrap();
    let markdown = markdown.replace(tmp_name.to_str().unwrap(), "[tmp]");
    insta::assert_snapshot!("flagship_first_plan_markdown", markdown);
    let text = ok(p.run(&["show", "first.plan", "--no-color"])).stdout;
    insta::assert_snapshot!("flagship_first_plan_text", text);

    let json = ok(p.run(&["show", "first.plan", "--format", "json"])).stdout;
    let mut doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/plinth-render/schema/plan-json-v1.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::options()
        .build(&schema)
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // What changes from run to run.
    for key in ["created_at", "config_digest", "plinth_version"] {
        doc[key] = serde_json::json!("[redacted]");
    }
    insta::assert_snapshot!(
        "flagship_first_plan_json",
        serde_json::to_string_pretty(&doc).unwrap()
    );

    let tf = ok(p.run(&["show", "first.plan", "--format", "terraform-json"])).stdout;
    let mut tf: serde_json::Value = serde_json::from_str(&tf).unwrap();
    assert_eq!(tf["format_version"], "1.2");
    for key in ["timestamp", "terraform_version"] {
        if tf.get(key).is_some() {
            tf[key] = serde_json::json!("[redacted]");
        }
    }
    let changes = tf["resource_changes"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        13,
        "resources only: actions are not Terraform resources"
    );
    insta::assert_snapshot!(
        "flagship_first_plan_terraform_json",
        serde_json::to_string_pretty(&tf).unwrap()
    );
}

/// The optional user node pool behind `var.user_pool` (off by default): the default plan
/// gives the cluster its system pool only, exactly as before the pool was optional (the
/// snapshots above pin the whole plan); turned on, the same cluster gets both pools, the
/// user pool sized by `var.user_pool_count`; applied, it converges, and turning it off is an
/// in-place update of the cluster.
#[test]
fn the_user_node_pool_is_behind_a_variable() {
    let p = Project::flagship();
    let sim = Sim::start(&world(&p));
    let pools = |vars: &[&str]| -> serde_json::Value {
        let mut args = vec!["plan", "--json"];
        for v in vars {
            args.extend(["--var", v]);
        }
        let run = ok(p.sim_run(&sim, &args));
        let doc = run.plan_doc();
        let aks = doc["plan"]["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == "aks")
            .cloned()
            .unwrap_or_else(|| panic!("no aks in the plan: {doc}"));
        aks["after"]["properties"]["agentPoolProfiles"].clone()
    };
    let system = serde_json::json!({
        "name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System", "osType": "Linux"
    });
    assert_eq!(pools(&[]), serde_json::json!([system]));
    let user = |count: u32| {
        serde_json::json!({
            "name": "user", "count": count, "vmSize": "Standard_D2s_v5", "mode": "User", "osType": "Linux"
        })
    };
    assert_eq!(
        pools(&["user_pool=true"]),
        serde_json::json!([system, user(2)])
    );
    assert_eq!(
        pools(&["user_pool=true", "user_pool_count=3"]),
        serde_json::json!([system, user(3)])
    );

    // Applied with the pool, the second plan is empty; turning it off again updates the
    // cluster in place and touches nothing else.
    ok(p.sim_run(
        &sim,
        &["apply", "--auto-approve", "--var", "user_pool=true"],
    ));
    ok(p.sim_run(
        &sim,
        &["plan", "--detailed-exitcode", "--var", "user_pool=true"],
    ))
    .stdout_has("No changes");
    assert_eq!(plan_changes(&p, &sim), set(&[("aks", "update")]));
}
