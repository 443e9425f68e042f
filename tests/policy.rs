//! Policy as code end to end: `plinth plan --policy DIR` over the flagship on the in-process
//! simulator with the platform team's rules of `examples/policies/` (their Rego unit tests
//! too), `--fail-on policy` and `--fail-on identity-chain`, saved plans carrying the
//! findings, apply refusing a denied plan, and the located errors of broken policies.

mod common;

use std::path::{Path, PathBuf};

use common::{Project, Run};
use serde_json::Value as Json;

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies")
}

fn policy_arg() -> String {
    policies().display().to_string()
}

/// `plinth plan --sim --policy examples/policies --out plan.json` plus `extra`.
fn plan(p: &Project, extra: &[&str]) -> Run {
    let out = p.path("plan.json").display().to_string();
    let dir = policy_arg();
    let mut args = vec![
        "plan",
        "--sim",
        "--no-color",
        "--policy",
        &dir,
        "--out",
        &out,
    ];
    args.extend(extra);
    p.run(&args)
}

/// The findings the saved plan carries.
fn saved_findings(p: &Project) -> Vec<Json> {
    let doc: Json = serde_json::from_str(&p.read("plan.json")).unwrap();
    doc.get("findings")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
}

fn policy_denials(p: &Project) -> Vec<(String, String)> {
    saved_findings(p)
        .iter()
        .filter(|f| f["source"] == "policy" && f["severity"] == "deny")
        .map(|f| {
            (
                f["address"].as_str().unwrap_or("").to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_example_policies_unit_tests_pass() {
    let set = plinth_policy::Policies::load(&policies()).unwrap();
    let outcomes = set.run_tests().unwrap();
    // Every rule file has its tests, and each test ran and passed.
    for package in [
        "plinth.servicebus_test",
        "plinth.aks_test",
        "plinth.rbac_test",
    ] {
        assert!(
            outcomes.iter().any(|o| o.rule.starts_with(package)),
            "no tests of {package}: {outcomes:#?}"
        );
    }
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.result != plinth_policy::TestResult::Passed)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(outcomes.len() >= 15, "{outcomes:#?}");
}

#[test]
fn the_flagship_passes_the_platform_policies() {
    let p = Project::flagship();
    let r = plan(&p, &["--fail-on", "policy"]);
    r.code(0);
    assert!(policy_denials(&p).is_empty(), "{:#?}", saved_findings(&p));
    // Warnings (what a policy could not check before apply) are allowed, each with its
    // address.
    for f in saved_findings(&p)
        .iter()
        .filter(|f| f["source"] == "policy")
    {
        assert_eq!(f["severity"], "warn", "{f:#}");
        assert!(f["address"].is_string(), "{f:#}");
    }
}

/// The flagship's identity module refuses a cluster without the OIDC issuer or workload
/// identity by preconditions, which stop the plan before any policy runs. A team without
/// that module (or one that passes `true`, as here) relies on the policy alone.
fn hide_from_module_checks(p: &Project, input: &str) {
    let text = p.read("workload.toml");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{input} = ")))
        .unwrap_or_else(|| panic!("workload.toml passes no {input}"))
        .to_string();
    p.edit("workload.toml", &line, &format!("{input} = true"));
}

/// A broken copy of the flagship is denied with the address, by `--fail-on policy`.
#[track_caller]
fn assert_denied(p: &Project, address: &str, rule: &str, words: &str) {
    let r = plan(p, &["--fail-on", "policy"]);
    r.code(1);
    r.stderr_has("denied by policy")
        .stderr_has(&format!("{address}: "))
        .stderr_has(words)
        .stderr_has(&format!("[{rule}]"))
        .stderr_has("--fail-on policy")
        .stderr_has("the plan was not saved to");
    // The plan was shown before the refusal, but not saved: apply cannot take it.
    assert!(!p.path("plan.json").exists());
    // Without --fail-on the plan succeeds and is saved with its findings: the denial is a
    // finding, not an error.
    plan(p, &[]).code(0);
    assert!(
        policy_denials(p).contains(&(address.to_string(), rule.to_string())),
        "{:#?}",
        saved_findings(p)
    );
}

#[test]
fn service_bus_with_local_auth_is_denied() {
    let p = Project::flagship();
    p.edit(
        "servicebus.toml",
        "properties.disableLocalAuth = true",
        "properties.disableLocalAuth = false",
    );
    assert_denied(
        &p,
        "sb",
        "plinth.servicebus.deny",
        "allows local (SAS key) authentication",
    );
}

#[test]
fn service_bus_with_tls_1_0_is_denied() {
    let p = Project::flagship();
    p.edit(
        "servicebus.toml",
        "properties.disableLocalAuth = true",
        "properties.disableLocalAuth = true\nproperties.minimumTlsVersion = \"1.0\"",
    );
    assert_denied(
        &p,
        "sb",
        "plinth.servicebus.deny",
        "accepts TLS 1.0; the minimum is 1.2",
    );
}

#[test]
fn aks_without_the_oidc_issuer_is_denied() {
    let p = Project::flagship();
    p.edit(
        "main.toml",
        "properties.oidcIssuerProfile.enabled = true",
        "properties.oidcIssuerProfile.enabled = false",
    );
    hide_from_module_checks(&p, "oidc_issuer_enabled");
    assert_denied(
        &p,
        "aks",
        "plinth.aks.deny",
        "does not enable the OIDC issuer",
    );
}

#[test]
fn a_subscription_wide_owner_is_denied_twice() {
    let p = Project::flagship();
    p.write(
        "admin.toml",
        r#"
# Someone's shortcut: Owner of the whole subscription for the workload identity.
[resource.admin]
type = "azure:Microsoft.Authorization/roleAssignments@2022-04-01"
parent = "/subscriptions/00000000-0000-0000-0000-000000000000"
[resource.admin.body.properties]
roleDefinitionId = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
principalId = "${module.workload.principal_id}"
principalType = "ServicePrincipal"
"#,
    );
    assert_denied(&p, "admin", "plinth.rbac.deny", "grants Owner");
    let denials = policy_denials(&p);
    let admin: Vec<_> = denials.iter().filter(|(a, _)| a == "admin").collect();
    // The role, and the scope.
    assert_eq!(admin.len(), 2, "{denials:#?}");
    let text = p.read("plan.json");
    assert!(
        text.contains(
            "is scoped to /subscriptions/00000000-0000-0000-0000-000000000000, a whole subscription"
        ),
        "{text}"
    );
}

#[test]
fn apply_refuses_a_plan_a_policy_denies() {
    let p = Project::flagship();
    p.edit(
        "servicebus.toml",
        "properties.disableLocalAuth = true",
        "properties.disableLocalAuth = false",
    );
    let dir = policy_arg();
    let r = p.run(&[
        "apply",
        "--sim",
        "--no-color",
        "--auto-approve",
        "--policy",
        &dir,
    ]);
    r.code(1);
    r.stderr_has("denied by policy").stderr_has("sb: ");
    // Nothing was created.
    assert!(p.state_list().is_empty());
    // A saved plan with denials is refused too.
    plan(&p, &[]).code(0);
    let file = p.path("plan.json").display().to_string();
    let r = p.run(&["apply", &file, "--sim", "--no-color"]);
    r.code(1);
    r.stderr_has("denied by policy");
    assert!(p.state_list().is_empty());
}

#[test]
fn show_fails_on_a_saved_plans_denials() {
    let p = Project::flagship();
    p.edit(
        "main.toml",
        "properties.securityProfile.workloadIdentity.enabled = true",
        "properties.securityProfile.workloadIdentity.enabled = false",
    );
    hide_from_module_checks(&p, "workload_identity_enabled");
    plan(&p, &[]).code(0);
    let file = p.path("plan.json").display().to_string();
    let r = p.run(&["show", &file, "--fail-on", "policy", "--no-color"]);
    r.code(1);
    r.stderr_has("aks: AKS cluster aks does not enable workload identity");
    p.run(&["show", &file, "--no-color"]).code(0);
}

#[test]
fn fail_on_identity_chain_refuses_only_identity_chain_findings() {
    let p = Project::flagship();
    plan(&p, &[]).code(0);
    // A saved plan with one identity-chain finding (a warning) added, as the check writes
    // them.
    let mut doc: Json = serde_json::from_str(&p.read("plan.json")).unwrap();
    let findings = doc
        .as_object_mut()
        .unwrap()
        .entry("findings")
        .or_insert(Json::Array(vec![]));
    findings.as_array_mut().unwrap().push(serde_json::json!({
        "source": "identity-chain",
        "rule": "issuer",
        "severity": "warn",
        "address": "module.workload.fic_keda",
        "message": "its issuer is not the cluster's OIDC issuer",
        "fix": "set issuer = \"${aks.properties.oidcIssuerProfile.issuerURL}\"",
    }));
    p.write("plan.json", &serde_json::to_string_pretty(&doc).unwrap());
    let file = p.path("plan.json").display().to_string();
    let r = p.run(&["show", &file, "--fail-on", "identity-chain", "--no-color"]);
    r.code(1);
    r.stderr_has("the identity chain is broken (1 finding)")
        .stderr_has(
            "module.workload.fic_keda: its issuer is not the cluster's OIDC issuer [issuer]",
        )
        .stderr_has("--fail-on identity-chain");
    // A warning of the chain is not a policy denial, and the flagship's policies pass.
    p.run(&["show", &file, "--fail-on", "policy", "--no-color"])
        .code(0);
    // Both flags: the chain's finding is named.
    let r = p.run(&[
        "show",
        &file,
        "--fail-on",
        "policy",
        "--fail-on",
        "identity-chain",
        "--no-color",
    ]);
    r.code(1);
    r.stderr_has("identity chain is broken");
}

#[test]
fn fail_on_policy_without_policy_is_refused_before_planning() {
    let p = Project::flagship();
    let out = p.path("plan.json").display().to_string();
    let r = p.run(&[
        "plan",
        "--sim",
        "--no-color",
        "--fail-on",
        "policy",
        "--out",
        &out,
    ]);
    r.code(1);
    r.stderr_has("--fail-on policy without --policy")
        .stderr_has("no policy would be evaluated")
        .stderr_has("plinth plan --policy DIR --fail-on policy");
    // Refused before anything was planned or written.
    assert!(!p.path("plan.json").exists());
    assert!(!r.all().contains("Plan:"), "{}", r.all());
}

/// Removes the TOML table `[header]` and its sub-tables from a file of the project.
fn remove_table(p: &Project, file: &str, header: &str) {
    let text = p.read(file);
    let mut out: Vec<&str> = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line == format!("[{header}]") || line.starts_with(&format!("[{header}."));
        }
        if !skipping {
            out.push(line);
        }
    }
    assert_ne!(out.len(), text.lines().count(), "{file} has no [{header}]");
    p.write(file, &(out.join("\n") + "\n"));
}

#[test]
fn a_plan_fail_on_refuses_is_not_saved_for_apply() {
    // The operator is not restarted after its credential changes: an identity-chain
    // finding (a warning), which --fail-on identity-chain refuses.
    let p = Project::flagship();
    remove_table(
        &p,
        "modules/keda-workload-identity/kubernetes.toml",
        "action.restart_keda",
    );
    let out = p.path("plan.json").display().to_string();
    let r = p.run(&[
        "plan",
        "--sim",
        "--no-color",
        "--fail-on",
        "identity-chain",
        "--out",
        &out,
    ]);
    r.code(1);
    r.stderr_has("the identity chain is broken")
        .stderr_has("[restart]")
        .stderr_has(&format!("the plan was not saved to {out}"));
    assert!(!p.path("plan.json").exists());
    assert!(!r.all().contains("Saved the plan"), "{}", r.all());
    // So `apply FILE` has nothing to take, and nothing is created.
    let r = p.run(&["apply", &out, "--sim", "--no-color"]);
    r.code(1);
    assert!(p.state_list().is_empty());
    // Without the gate the same plan is saved (its findings are warnings).
    p.run(&["plan", "--sim", "--no-color", "--out", &out])
        .code(0);
    assert!(p.path("plan.json").exists());
}

fn policy_dir(p: &Project, files: &[(&str, &str)]) -> String {
    let dir = p.dir.parent().unwrap().join("policies");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.display().to_string()
}

const ONE: &str = r#"
[resource.a]
type = "core:data"
input = "alpha"
"#;

#[test]
fn a_policy_that_does_not_parse_is_a_located_error_before_planning() {
    let p = Project::with_main(ONE);
    let dir = policy_dir(
        &p,
        &[(
            "bad.rego",
            "package bad\n\ndeny contains msg if {\n  msg := \n}\n",
        )],
    );
    let r = p.run(&["plan", "--policy", &dir, "--no-color"]);
    r.code(1);
    r.stderr_has("bad.rego:")
        .stderr_has("does not parse")
        .stderr_has("Rego v1");
    // Nothing was planned: the error came first.
    assert!(!r.stdout.contains("Plan:"), "{}", r.stdout);
}

#[test]
fn a_policy_that_fails_at_evaluation_is_a_located_error() {
    let p = Project::with_main(ONE);
    let dir = policy_dir(
        &p,
        &[(
            "conflict.rego",
            "package conflict\n\nv := 1 if true\nv := 2 if true\n\ndeny contains \"x\" if v\n",
        )],
    );
    let r = p.run(&["plan", "--policy", &dir, "--no-color"]);
    r.code(1);
    r.stderr_has("policy conflict").stderr_has("conflict.rego");
    assert!(!r.all().contains("panicked"), "{}", r.all());
}

#[test]
fn a_missing_or_empty_policy_directory_is_explained() {
    let p = Project::with_main(ONE);
    let r = p.run(&["plan", "--policy", "no-such-dir", "--no-color"]);
    r.code(1);
    r.stderr_has("--policy no-such-dir")
        .stderr_has("cannot read it");
    let dir = policy_dir(&p, &[]);
    let r = p.run(&["plan", "--policy", &dir, "--no-color"]);
    r.code(1);
    r.stderr_has("holds no *.rego file");
}

#[test]
fn policies_see_the_redacted_plan_only() {
    let p = Project::with_main(
        r#"
[variable.password]
type = "string"
sensitive = true
default = "hunter2-very-secret"

[resource.a]
type = "core:data"
input = "${var.password}"
"#,
    );
    // A policy that tries to leak every string of its input into a message.
    let dir = policy_dir(
        &p,
        &[(
            "leak.rego",
            "package leak\n\nwarn contains json.marshal(input.variables)\n\nwarn contains json.marshal(c) if {\n  some c in input.resource_changes\n}\n",
        )],
    );
    let out = p.path("plan.json").display().to_string();
    let r = p.run(&["plan", "--policy", &dir, "--out", &out, "--no-color"]);
    r.code(0);
    assert!(!r.all().contains("hunter2"), "{}", r.all());
    let saved = p.read("plan.json");
    let findings: Json = serde_json::from_str::<Json>(&saved).unwrap()["findings"].clone();
    let text = findings.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    // The policy did run: the plan's own strings are there.
    assert!(text.contains("core:data"), "{text}");
    // The sensitive variable is there, hidden.
    assert!(text.contains(r#"{\"password\":null}"#), "{text}");
}

/// The Terraform export carries what policies written for `terraform show -json` read: OPA's
/// Terraform examples walk `resource_changes[].change.actions`, Conftest's read
/// `configuration.root_module.resources[].expressions` and `prior_state`.
#[test]
fn terraform_style_policies_read_the_terraform_export() {
    let policy = r#"package terraform.analysis

import rego.v1

creates contains r.address if {
	some r in input.resource_changes
	"create" in r.change.actions
}

warn contains sprintf("%d objects are created", [count(creates)])

warn contains "something existed before" if {
	count(input.prior_state.values.root_module.resources) > 0
}

deny contains {"msg": "local auth is on", "address": r.address} if {
	some r in input.configuration.root_module.resources
	startswith(r.type, "azure:Microsoft.ServiceBus/namespaces@")
	not r.expressions.body.constant_value.properties.disableLocalAuth
}
"#;
    let p = Project::flagship();
    let dir = policy_dir(&p, &[("terraform.rego", policy)]);
    let set = plinth_policy::Policies::load(Path::new(&dir)).unwrap();
    let findings_of = |p: &Project| {
        plan(p, &[]).code(0);
        let file = p.path("plan.json").display().to_string();
        let run = p.run(&["show", &file, "--format", "terraform-json"]);
        run.code(0);
        let doc: Json = serde_json::from_str(&run.stdout).unwrap();
        set.evaluate(&doc).unwrap()
    };
    let findings = findings_of(&p);
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(messages[0].ends_with("objects are created"), "{messages:?}");
    let created: usize = messages[0].split(' ').next().unwrap().parse().unwrap();
    assert!(created >= 13, "{messages:?}");

    p.edit(
        "servicebus.toml",
        "properties.disableLocalAuth = true",
        "properties.disableLocalAuth = false",
    );
    let findings = findings_of(&p);
    let denied: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == plinth_plan::Severity::Deny)
        .collect();
    assert_eq!(denied.len(), 1, "{findings:#?}");
    assert_eq!(denied[0].address.as_deref(), Some("sb"));

    // The same policy run by plan itself, over the export: --policy-input terraform.
    let out = p.path("plan.json").display().to_string();
    let args = |extra: &'static [&'static str]| {
        let mut a = vec![
            "plan",
            "--sim",
            "--no-color",
            "--policy",
            &dir,
            "--policy-input",
            "terraform",
            "--out",
            &out,
        ];
        a.extend(extra);
        a
    };
    let r = p.run(&args(&["--fail-on", "policy"]));
    r.code(1);
    r.stderr_has("sb: local auth is on [terraform.analysis.deny]");
    // Over plinth's own JSON (the default) the Terraform paths are absent: the same policy
    // denies nothing, which is why the input is chosen explicitly.
    let r = p.run(&[
        "plan",
        "--sim",
        "--no-color",
        "--policy",
        &dir,
        "--fail-on",
        "policy",
        "--out",
        &out,
    ]);
    r.code(0);
    // And --policy-input means nothing without --policy.
    let r = p.run(&["plan", "--sim", "--no-color", "--policy-input", "terraform"]);
    r.code(1);
    r.stderr_has("--policy <DIR>");
}
