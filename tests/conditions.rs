//! Preconditions, postconditions and `[check.NAME]` blocks through the `plinth` binary, on the
//! simulated cloud: a false precondition stops its object before any request about it is
//! sent; one unknown at plan is checked at apply and skips the dependents; a false
//! postcondition fails its object after it was recorded; output preconditions; checks pass,
//! fail or wait for apply as warnings that never change the exit code; a check's failed read
//! fails the check, not the run. The flagship refuses to plan its federated credentials for a
//! cluster without the OIDC issuer.

mod common;

use common::Project;
use common::sim::Sim;

fn world(p: &Project) -> std::path::PathBuf {
    p.dir.parent().unwrap().join("world.json")
}

/// Request paths the simulator saw after the first `from`.
fn paths_since(sim: &Sim, from: usize) -> Vec<String> {
    sim.requests()[from..]
        .iter()
        .map(|r| r["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

const RG: &str = r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "cond-rg"
location = "eastus"
tags = { team = "blue" }
"#;

#[test]
fn a_false_precondition_stops_its_object_before_any_request_and_fails_the_plan() {
    let p = Project::with_main(&format!(
        r#"{RG}
[variable.regions]
type = "list"
default = []

[resource.guarded]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "guarded-rg"
location = "eastus"
lifecycle = {{ precondition = [{{ condition = "${{length(var.regions) > 0}}", message = "at least one region is needed, got ${{length(var.regions)}}" }}] }}

[resource.after]
type = "core:data"
input = "${{guarded.id}}"
"#
    ));
    let sim = Sim::start(&world(&p));
    let before = sim.requests().len();
    let run = p.sim_run(&sim, &["plan"]);
    run.code(1);
    run.stderr_has("precondition failed for `guarded`: at least one region is needed, got 0")
        .stderr_has("main.toml:16:");
    // Only the condition: its dependent is not planned (nothing reports it again).
    assert_eq!(run.stderr.matches('×').count(), 1, "{}", run.stderr);
    let paths = paths_since(&sim, before);
    assert!(
        !paths.iter().any(|p| p.contains("guarded-rg")),
        "no request about the stopped object: {paths:#?}"
    );
    // The others were planned (the resource group was looked up).
    assert!(paths.iter().any(|p| p.contains("cond-rg")), "{paths:#?}");
    // With the condition met, the same configuration plans.
    p.sim_run(&sim, &["plan", "--var", "regions=[\"eastus\"]"])
        .code(0);
}

#[test]
fn a_precondition_unknown_at_plan_is_checked_at_apply_and_skips_its_dependents() {
    let p = Project::with_main(&format!(
        r#"{RG}
[resource.second]
type = "core:data"
input = "after rg"
lifecycle = {{ precondition = [{{ condition = "${{rg.properties.provisioningState == \"Failed\"}}", message = "the group must have failed, it is ${{rg.properties.provisioningState}}" }}] }}

[resource.third]
type = "core:data"
input = "${{second.output}}"
"#
    ));
    let sim = Sim::start(&world(&p));
    // Unknown while the group does not exist: the plan goes through.
    p.sim_run(&sim, &["plan"]).code(0);
    let apply = p.sim_run(&sim, &["apply", "--auto-approve", "--json"]);
    apply.code(1);
    let done = apply
        .events()
        .into_iter()
        .find(|e| e["type"] == "apply_complete")
        .expect("apply_complete");
    let failures = done["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{done:#}");
    assert_eq!(failures[0]["address"], "second");
    assert_eq!(failures[0]["action"], "precondition");
    let message = failures[0]["message"].as_str().unwrap();
    assert!(
        message.contains("the group must have failed, it is Succeeded")
            && message.contains("main.toml:11:"),
        "{message}"
    );
    assert_eq!(done["skipped"], 1, "third is skipped");
    let state = p.state_list();
    assert!(state.contains(&"rg".to_string()), "{state:?}");
    assert!(!state.contains(&"second".to_string()), "{state:?}");
    assert!(!state.contains(&"third".to_string()), "{state:?}");
}

#[test]
fn a_false_postcondition_fails_the_apply_and_keeps_the_object_in_state() {
    let p = Project::with_main(
        r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "post-rg"
location = "eastus"
lifecycle = { postcondition = [{ condition = "${self.properties.provisioningState == \"Deleting\"}", message = "the group is ${self.properties.provisioningState}" }] }
"#,
    );
    let sim = Sim::start(&world(&p));
    let apply = p.sim_run(&sim, &["apply", "--auto-approve"]);
    apply.code(1);
    apply
        .stderr_has("rg (postcondition): postcondition failed for `rg`: the group is Succeeded (")
        .stderr_has("main.toml:6:")
        .stderr_has("Apply failed");
    assert_eq!(p.state_list(), ["rg"]);
    // The next plan checks it again, now with the object's values: a located error.
    p.sim_run(&sim, &["plan"])
        .code(1)
        .stderr_has("postcondition failed for `rg`: the group is Succeeded");
}

#[test]
fn an_output_precondition_stops_the_plan() {
    let p = Project::with_main(&format!(
        r#"{RG}
[variable.expose]
type = "bool"
default = false

[output.group]
value = "${{rg.name}}"
lifecycle = {{ precondition = [{{ condition = "${{var.expose}}", message = "set expose to publish the group" }}] }}
"#
    ));
    let sim = Sim::start(&world(&p));
    p.sim_run(&sim, &["plan"])
        .code(1)
        .stderr_has("precondition failed for `output.group`: set expose to publish the group");
    p.sim_run(&sim, &["apply", "--auto-approve", "--var", "expose=true"])
        .code(0);
    assert_eq!(p.output("group"), "cond-rg");
}

const CHECKS: &str = r#"
[check.team_is_blue]
assert = [{ condition = "${rg.tags.team == \"blue\"}", message = "the group belongs to team blue" }]

[check.team_is_red]
assert = [{ condition = "${rg.tags.team == \"red\"}", message = "the group belongs to team ${rg.tags.team}, not red" }]

[check.read_back]
assert = [{ condition = "${data.current.properties.provisioningState == \"Succeeded\"}", message = "the group is provisioned" }]

[check.read_back.data.current]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "${rg.name}"

[check.missing]
assert = [{ condition = "${data.other.name == \"nowhere-rg\"}", message = "the other group exists" }]

[check.missing.data.other]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "nowhere-rg"
"#;

#[test]
fn checks_warn_after_plan_and_apply_and_never_change_the_exit_code() {
    let p = Project::with_main(&format!("{RG}{CHECKS}"));
    let sim = Sim::start(&world(&p));
    let plan = p.sim_run(&sim, &["plan"]);
    plan.code(0);
    plan.stdout_has("Checks:")
        .stdout_has("Warning: check.team_is_red failed: the group belongs to team blue, not red")
        .stdout_has("check.read_back will be known after apply")
        .stdout_has("Warning: check.missing failed: reading `data.other` failed");

    let apply = p.sim_run(&sim, &["apply", "--auto-approve"]);
    apply.code(0);
    let out = &apply.stdout;
    let summary = out.find("Apply complete!").expect("summary");
    let checks = out.rfind("Checks:").expect("checks after the summary");
    assert!(summary < checks, "{out}");
    apply
        .stdout_has("Warning: check.team_is_red failed: the group belongs to team blue, not red")
        .stdout_has("Warning: check.missing failed: reading `data.other` failed")
        .stdout_has("2 checks passed.");

    // With nothing to change, apply shows the plan's checks and stops there.
    p.sim_run(&sim, &["apply", "--auto-approve"])
        .code(0)
        .stdout_has("No changes")
        .stdout_has("Warning: check.team_is_red failed");

    // JSON: the results are in the apply's last event.
    let p = Project::with_main(&format!("{RG}{CHECKS}"));
    let sim = Sim::start(&world(&p));
    let again = p.sim_run(&sim, &["apply", "--auto-approve", "--json"]);
    again.code(0);
    let done = again
        .events()
        .into_iter()
        .find(|e| e["type"] == "apply_complete")
        .expect("apply_complete");
    let status: Vec<(String, String)> = done["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("check.team_is_blue", "pass"),
        ("check.team_is_red", "fail"),
        ("check.read_back", "pass"),
        ("check.missing", "fail"),
    ]
    .iter()
    .map(|(a, s)| (a.to_string(), s.to_string()))
    .collect();
    assert_eq!(status, expected);
}

#[test]
fn the_flagship_refuses_federated_credentials_for_a_cluster_without_the_oidc_issuer() {
    let p = Project::flagship();
    p.edit(
        "main.toml",
        "properties.oidcIssuerProfile.enabled = true",
        "properties.oidcIssuerProfile.enabled = false",
    );
    let sim = Sim::start(&world(&p));
    let before = sim.requests().len();
    let run = p.sim_run(&sim, &["plan"]);
    run.code(1);
    for fic in ["module.workload.fic_workload", "module.workload.fic_keda"] {
        run.stderr_has(&format!(
            "precondition failed for `{fic}`: the cluster must have the OIDC issuer enabled"
        ));
    }
    run.stderr_has("modules/keda-workload-identity/identity.toml:")
        .stderr_has("2 problems");
    let paths = paths_since(&sim, before);
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("federatedIdentityCredentials")),
        "no request about a federated credential: {paths:#?}"
    );
    // Workload identity off: the other precondition speaks.
    p.edit(
        "main.toml",
        "properties.oidcIssuerProfile.enabled = false",
        "properties.oidcIssuerProfile.enabled = true",
    );
    p.edit(
        "main.toml",
        "properties.securityProfile.workloadIdentity.enabled = true",
        "properties.securityProfile.workloadIdentity.enabled = false",
    );
    p.sim_run(&sim, &["plan"]).code(1).stderr_has(
        "precondition failed for `module.workload.fic_keda`: the cluster must have workload identity enabled",
    );
}

#[test]
fn the_flagship_check_warns_when_keda_cannot_use_the_identity() {
    let p = Project::flagship();
    // Without the operator's federated credential (and its restart), KEDA's scaler cannot
    // authenticate: the apply succeeds, the check says why the ScaledJob is not ready.
    let identity = "modules/keda-workload-identity/identity.toml";
    let text = p.read(identity);
    let start = text.find("# So may the KEDA operator").unwrap();
    let end = text.find("# Send, receive and manage").unwrap();
    p.write(identity, &format!("{}{}", &text[..start], &text[end..]));
    p.edit(
        "modules/keda-workload-identity/kubernetes.toml",
        "[action.restart_keda]\ntype = \"k8s:rollout-restart\"\ntarget = \"kube-system/Deployment/keda-operator\"\non = [\"fic_keda\", \"keda_operator_identity\"]\n",
        "",
    );
    let sim = Sim::start(&world(&p));
    let apply = p.sim_run(&sim, &["apply", "--auto-approve"]);
    apply.code(0);
    apply.stdout_has(
        "Warning: check.scaledjob_ready failed: KEDA has not accepted ScaledJob myconsumer-scaledjob: Ready is False",
    );
    // The whole flagship applied and checked: the next plan reads the ScaledJob again.
    let fixed = Project::flagship();
    p.write(identity, &fixed.read(identity));
    let k = "modules/keda-workload-identity/kubernetes.toml";
    p.write(k, &fixed.read(k));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    sim.settle();
    p.sim_run(&sim, &["plan", "--detailed-exitcode"])
        .code(0)
        .stdout_has("Checks: 1 passed.");
}
