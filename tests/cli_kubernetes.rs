//! The Kubernetes provider through the `plinth` binary, against a `plinth sim serve` on an
//! ephemeral port (shared with a real `kubectl`): one configuration with a resource group, an
//! AKS cluster with the KEDA add-on, `[provider.kubernetes] cluster = "aks"`, a
//! ServiceAccount, a Job, a KEDA TriggerAuthentication and ScaledJob, and a
//! `k8s:rollout-restart` of kube-system/keda-operator `on` a federated identity credential.
//!
//! One `apply` creates the cluster and every object; a second plan shows no changes; an edited
//! annotation is an update; a `kubectl annotate --overwrite` is drift planned back; the restart
//! runs exactly when the credential changes; `destroy` removes every object before the cluster.
//! Readiness is always explicit (the simulator prints its URL; commands exit); nothing sleeps.

mod common;

use common::sim::{Sim, kubectl_for, require_kubectl};
use common::{Project, Run};

const CONFIG: &str = r#"
[variable.prefix]
default = "kdemo"

[provider.kubernetes]
cluster = "aks"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "${var.prefix}-rg"
location = "eastus"

[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "${rg.id}"
name = "${var.prefix}-aks"
location = "eastus"
[resource.aks.body]
identity.type = "SystemAssigned"
properties.dnsPrefix = "${var.prefix}"
properties.oidcIssuerProfile.enabled = true
properties.securityProfile.workloadIdentity.enabled = true
properties.workloadAutoScalerProfile.keda.enabled = true
properties.agentPoolProfiles = [{ name = "system", count = 1, vmSize = "Standard_D2s_v5", mode = "System" }]

[resource.mi]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${rg.id}"
name = "${var.prefix}-mi"
location = "eastus"

[resource.fic_keda]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30"
parent = "${mi.id}"
name = "${var.prefix}-fic-keda"
[resource.fic_keda.body.properties]
issuer = "${aks.properties.oidcIssuerProfile.issuerURL}"
subject = "system:serviceaccount:kube-system:keda-operator"
audiences = ["api://AzureADTokenExchange"]

[action.restart_keda]
type = "k8s:rollout-restart"
target = "kube-system/Deployment/keda-operator"
on = ["fic_keda"]

[resource.workload_sa]
type = "k8s:v1/ServiceAccount"
[resource.workload_sa.manifest.metadata]
name = "${var.prefix}-sa"
annotations = { "azure.workload.identity/client-id" = "${mi.properties.clientId}", team = "blue" }

[resource.trigger_auth]
type = "k8s:keda.sh/v1alpha1/TriggerAuthentication"
[resource.trigger_auth.manifest]
metadata = { name = "sb-auth", namespace = "default" }
spec.podIdentity = { provider = "azure-workload", identityId = "${mi.properties.clientId}" }

[resource.hello]
type = "k8s:batch/v1/Job"
wait = { complete = true, timeout = "2m" }
[resource.hello.manifest.metadata]
name = "hello"
[resource.hello.manifest.spec]
backoffLimit = 2
template.spec.restartPolicy = "Never"
template.spec.serviceAccountName = "${workload_sa.metadata.name}"
template.spec.containers = [{ name = "hello", image = "busybox:1.36", command = ["echo", "hello"] }]

[resource.consumer]
type = "k8s:keda.sh/v1alpha1/ScaledJob"
wait = { condition = "Ready", timeout = "2m" }
[resource.consumer.manifest.metadata]
name = "consumer"
[resource.consumer.manifest.spec]
pollingInterval = 10
maxReplicaCount = 10
jobTargetRef.template.spec.restartPolicy = "Never"
jobTargetRef.template.spec.containers = [{ name = "consumer", image = "example.azurecr.io/consumer:1.0" }]
triggers = [{ type = "azure-servicebus", metadata = { queueName = "orders", namespace = "kdemo-sbns", messageCount = "10" }, authenticationRef = { name = "sb-auth" } }]
"#;

#[track_caller]
fn expect(run: Run, code: i32) -> Run {
    run.code(code);
    run
}

fn ops_of(run: &Run, address: &str) -> Vec<String> {
    run.ops()
        .into_iter()
        .filter(|(k, a, _)| k == "op_finished" && a == address)
        .map(|(_, _, action)| action)
        .collect()
}

#[test]
fn aks_keda_objects_apply_converge_drift_restart_and_destroy() {
    require_kubectl();
    let project = Project::with_main(CONFIG);
    let sim = Sim::start(&project.dir.parent().unwrap().join("world.json"));

    // A brand-new cluster and its workloads are one plan.
    let plan = expect(
        project.sim_run(&sim, &["plan", "--detailed-exitcode", "--no-color"]),
        2,
    );
    assert!(
        plan.stdout.contains("(known after apply)"),
        "{}",
        plan.stdout
    );

    let apply = expect(
        project.sim_run(&sim, &["apply", "--auto-approve", "--json"]),
        0,
    );
    for address in [
        "rg",
        "aks",
        "mi",
        "fic_keda",
        "workload_sa",
        "trigger_auth",
        "hello",
        "consumer",
    ] {
        assert_eq!(ops_of(&apply, address), vec!["create"], "{address}");
    }
    assert_eq!(ops_of(&apply, "action.restart_keda"), vec!["run"]);
    assert!(
        apply.op_index("op_finished", "fic_keda", "create")
            < apply.op_index("op_started", "action.restart_keda", "run"),
        "the restart runs after the credential exists"
    );
    assert_eq!(
        project.id_of("workload_sa"),
        "v1/ServiceAccount/default/kdemo-sa"
    );

    let kubectl = kubectl_for(&project, &sim, &project.id_of("aks"));
    let sa = kubectl.ok(&[
        "get",
        "sa",
        "kdemo-sa",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    assert!(
        sa.contains("manager: plinth") && sa.contains("operation: Apply"),
        "{sa}"
    );
    assert!(sa.contains("team: blue"), "{sa}");
    let sj = kubectl.ok(&[
        "get",
        "scaledjob",
        "consumer",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    assert!(
        sj.contains("manager: plinth") && sj.contains("queueName: orders"),
        "{sj}"
    );
    let ta = kubectl.ok(&["get", "triggerauthentication", "sb-auth", "-o", "yaml"]);
    assert!(ta.contains("provider: azure-workload"), "{ta}");
    let job = kubectl.ok(&["get", "job", "hello", "-o", "jsonpath={.status.succeeded}"]);
    assert_eq!(job.trim(), "1");
    let first_restart = kubectl.restarted_at();
    assert!(!first_restart.is_empty(), "the restart ran");

    // The second plan after apply: no changes.
    expect(project.sim_run(&sim, &["plan", "--detailed-exitcode"]), 0).stdout_has("No changes");

    // An edited annotation is an in-place update; the restart is not what it watches.
    project.edit("main.toml", "team = \"blue\"", "team = \"green\"");
    let plan = expect(
        project.sim_run(&sim, &["plan", "--detailed-exitcode", "--no-color"]),
        2,
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let apply = expect(
        project.sim_run(&sim, &["apply", "--auto-approve", "--json"]),
        0,
    );
    assert_eq!(ops_of(&apply, "workload_sa"), vec!["update"]);
    assert!(ops_of(&apply, "action.restart_keda").is_empty());
    assert_eq!(kubectl.restarted_at(), first_restart);
    let team = kubectl.ok(&[
        "get",
        "sa",
        "kdemo-sa",
        "-o",
        "jsonpath={.metadata.annotations.team}",
    ]);
    assert_eq!(team, "green");
    expect(project.sim_run(&sim, &["plan", "--detailed-exitcode"]), 0);

    // Drift made with kubectl is planned back, and applied.
    kubectl.ok(&["annotate", "--overwrite", "sa", "kdemo-sa", "team=red"]);
    let plan = expect(
        project.sim_run(&sim, &["plan", "--detailed-exitcode", "--no-color"]),
        2,
    );
    assert!(plan.stdout.contains("workload_sa"), "{}", plan.stdout);
    assert!(plan.stdout.contains("\"red\""), "{}", plan.stdout);
    let apply = expect(
        project.sim_run(&sim, &["apply", "--auto-approve", "--json"]),
        0,
    );
    assert_eq!(ops_of(&apply, "workload_sa"), vec!["update"]);
    let team = kubectl.ok(&[
        "get",
        "sa",
        "kdemo-sa",
        "-o",
        "jsonpath={.metadata.annotations.team}",
    ]);
    assert_eq!(team, "green");
    expect(project.sim_run(&sim, &["plan", "--detailed-exitcode"]), 0);

    // The credential changes: the restart runs (after it), and only then.
    project.edit(
        "main.toml",
        "audiences = [\"api://AzureADTokenExchange\"]",
        "audiences = [\"api://AzureADTokenExchange\", \"api://other\"]",
    );
    let apply = expect(
        project.sim_run(&sim, &["apply", "--auto-approve", "--json"]),
        0,
    );
    assert_eq!(ops_of(&apply, "fic_keda"), vec!["update"]);
    assert_eq!(ops_of(&apply, "action.restart_keda"), vec!["run"]);
    assert!(
        apply.op_index("op_finished", "fic_keda", "update")
            < apply.op_index("op_started", "action.restart_keda", "run")
    );
    let second_restart = kubectl.restarted_at();
    assert_ne!(second_restart, first_restart);
    expect(project.sim_run(&sim, &["plan", "--detailed-exitcode"]), 0);

    // Destroy: every object before the cluster.
    let before = sim.requests().len();
    let destroy = expect(
        project.sim_run(&sim, &["destroy", "--auto-approve", "--json"]),
        0,
    );
    let aks_delete = destroy.op_index("op_started", "aks", "delete");
    for address in ["workload_sa", "trigger_auth", "hello", "consumer"] {
        assert!(
            destroy.op_index("op_finished", address, "delete") < aks_delete,
            "{address} is deleted before the cluster"
        );
    }
    let log = sim.requests();
    let log = &log[before..];
    let cluster_delete = log
        .iter()
        .position(|e| {
            e["method"] == "DELETE"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/managedClusters/"))
        })
        .expect("the cluster was deleted");
    let k8s_deletes: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e["method"] == "DELETE" && e["path"].as_str().is_some_and(|p| p.starts_with("/k8s/"))
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(k8s_deletes.len(), 4, "one DELETE per object: {log:#?}");
    assert!(k8s_deletes.iter().all(|&i| i < cluster_delete));
    assert!(project.state_list().is_empty());
}

/// A Secret's whole content is sensitive, the `last-applied-configuration` annotation
/// included: after someone `kubectl apply`-ed it (client-side, which keeps the applied
/// stringData in clear in that annotation), neither `plan --json`, the saved plan's text,
/// Markdown and Terraform JSON, nor `state show` prints it.
#[test]
fn a_kubectl_applied_secret_keeps_its_last_applied_annotation_secret() {
    const PLINTH_SECRET: &str = "PlinthSecret-7781";
    const KUBECTL_SECRET: &str = "KubectlSecret-5521";
    require_kubectl();
    let project = Project::with_main(&format!(
        r#"
[variable.pw]
default = "{PLINTH_SECRET}"
sensitive = true

[provider.kubernetes]
cluster = "aks"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "sec-rg"
location = "eastus"

[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "${{rg.id}}"
name = "sec-aks"
location = "eastus"
[resource.aks.body]
identity.type = "SystemAssigned"
properties.dnsPrefix = "sec"
properties.agentPoolProfiles = [{{ name = "system", count = 1, vmSize = "Standard_D2s_v5", mode = "System" }}]

[resource.creds]
type = "k8s:v1/Secret"
[resource.creds.manifest]
metadata = {{ name = "creds" }}
stringData = {{ password = "${{var.pw}}" }}
"#
    ));
    let sim = Sim::start(&project.dir.parent().unwrap().join("world.json"));
    expect(
        project.sim_run(&sim, &["apply", "--auto-approve", "--json"]),
        0,
    );
    let kubectl = kubectl_for(&project, &sim, &project.id_of("aks"));
    let manifest = project.dir.parent().unwrap().join("creds.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: default\nstringData:\n  password: {KUBECTL_SECRET}\n"
        ),
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    let annotation = kubectl.ok(&[
        "get",
        "secret",
        "creds",
        "-o",
        r#"jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}"#,
    ]);
    assert!(
        annotation.contains(KUBECTL_SECRET),
        "kubectl apply kept no stringData in the annotation: {annotation:?}"
    );

    let plan_file = project.dir.parent().unwrap().join("plan.json");
    let plan_file = plan_file.to_str().unwrap();
    let mut runs = vec![
        expect(project.sim_run(&sim, &["plan", "--json"]), 0),
        expect(project.sim_run(&sim, &["plan", "--no-color"]), 0),
        expect(
            project.sim_run(&sim, &["plan", "--refresh-only", "--no-color"]),
            0,
        ),
        expect(project.sim_run(&sim, &["plan", "--out", plan_file]), 0),
    ];
    for format in ["text", "json", "markdown", "terraform-json"] {
        runs.push(expect(
            project.run(&["show", plan_file, "--format", format]),
            0,
        ));
    }
    // Applying takes the password back; the annotation stays, and is recorded.
    runs.push(expect(
        project.sim_run(&sim, &["apply", "--auto-approve", "--json"]),
        0,
    ));
    runs.push(expect(project.run(&["state", "show", "creds"]), 0));
    runs.push(expect(
        project.run(&["state", "show", "creds", "--json"]),
        0,
    ));
    assert!(
        runs.last()
            .unwrap()
            .stdout
            .contains("last-applied-configuration"),
        "the annotation is in state: {}",
        runs.last().unwrap().stdout
    );
    // The secrets, and their base64 (as a Secret's data holds them).
    let secrets = [
        KUBECTL_SECRET,
        PLINTH_SECRET,
        "S3ViZWN0bFNlY3JldC01NTIx",
        "UGxpbnRoU2VjcmV0LTc3ODE=",
    ];
    for r in &runs {
        for s in secrets {
            assert!(
                !r.all().contains(s),
                "`plinth {}` printed a secret ({s}):\n{}",
                r.args.join(" "),
                r.all()
            );
        }
    }
    sim.stop();
}
