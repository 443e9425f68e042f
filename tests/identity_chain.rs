//! The identity-chain check end to end, on the simulated cloud: the healthy examples report
//! nothing, in their first plan (full of values known only after apply, compared by where
//! they come from) and in their plan after apply (everything known); each broken link of the
//! flagship is reported at plan time, before anything exists, with its rule, address,
//! location and fix, and again (from known values) once applied anyway. The findings are read
//! from the saved plan (`plan --out`), which carries them for `show` and `apply`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::sim::Sim;
use common::{Project, Run};

const IDENTITY: &str = "modules/keda-workload-identity/identity.toml";
const KUBERNETES: &str = "modules/keda-workload-identity/kubernetes.toml";

fn world(p: &Project) -> std::path::PathBuf {
    p.dir.parent().unwrap().join("world.json")
}

#[track_caller]
fn ok(run: Run) -> Run {
    run.code(0);
    run
}

/// The identity-chain findings of the plan, as saved.
fn findings(p: &Project, sim: &Sim) -> Vec<serde_json::Value> {
    ok(p.sim_run(sim, &["plan", "--out", "chain.plan"]));
    let plan: serde_json::Value = serde_json::from_str(&p.read("chain.plan")).unwrap();
    p.remove("chain.plan");
    plan["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f["source"] == "identity-chain")
        .collect()
}

fn rules(findings: &[serde_json::Value]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap_or_default().to_string(),
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

/// The finding of `rule` at `address`.
#[track_caller]
fn finding<'a>(
    findings: &'a [serde_json::Value],
    rule: &str,
    address: &str,
) -> &'a serde_json::Value {
    findings
        .iter()
        .find(|f| f["rule"] == rule && f["address"] == address)
        .unwrap_or_else(|| panic!("no {rule} finding at {address}: {findings:#?}"))
}

#[test]
fn the_healthy_flagship_reports_nothing_in_its_first_plan_and_after_apply() {
    let p = Project::flagship();
    let sim = Sim::start(&world(&p));
    // The first plan: the issuer, the client and principal ids are all unknown.
    assert_eq!(findings(&p, &sim), Vec::<serde_json::Value>::new());
    ok(p.sim_run(&sim, &["plan", "--fail-on", "identity-chain", "--no-color"]));
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    sim.settle();
    // The plan after apply: nothing to do, every value known, nothing to report.
    ok(p.sim_run(&sim, &["plan", "--detailed-exitcode"])).stdout_has("No changes");
    assert_eq!(findings(&p, &sim), Vec::<serde_json::Value>::new());
    ok(p.sim_run(&sim, &["plan", "--fail-on", "identity-chain", "--no-color"]));
}

/// The module the two-apps example calls, at the path it calls it from.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn the_other_examples_report_nothing() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    // Two workloads, each with its own identity and TriggerAuthentication (for_each module
    // instances), and no annotation on the operator.
    let two = Project::copy_of(&examples.join("two-apps-one-cluster"));
    let module = "aks-keda-workload-identity/modules/keda-workload-identity";
    copy_tree(
        &examples.join(module),
        &two.dir.parent().unwrap().join(module),
    );
    let sim = Sim::start(&world(&two));
    assert_eq!(findings(&two, &sim), Vec::<serde_json::Value>::new());

    // The Kubernetes side as one k8s:manifests set: its objects are checked once known.
    let yaml = Project::copy_of(&examples.join("aks-keda-guide-yaml"));
    let sim = Sim::start(&world(&yaml));
    assert_eq!(findings(&yaml, &sim), Vec::<serde_json::Value>::new());
    ok(yaml.sim_run(&sim, &["apply", "--auto-approve"]));
    assert_eq!(findings(&yaml, &sim), Vec::<serde_json::Value>::new());
    // ... and a slip inside the set is found there: the ServiceAccount names the identity's
    // principal id.
    yaml.edit(
        "manifests/guide.yaml",
        "    azure.workload.identity/client-id: ${mi.properties.clientId}",
        "    azure.workload.identity/client-id: ${mi.properties.principalId}",
    );
    let found = findings(&yaml, &sim);
    assert_eq!(rules(&found), set(&[("client-id", "guide")]), "{found:#?}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(message.contains("default/kedayaml-mi"), "{message}");
}

/// One broken link of the flagship, planned before anything exists: the findings expected.
fn first_plan_of(break_it: impl Fn(&Project)) -> (Project, Sim, Vec<serde_json::Value>) {
    let p = Project::flagship();
    let sim = Sim::start(&world(&p));
    break_it(&p);
    let found = findings(&p, &sim);
    for f in &found {
        assert_eq!(f["severity"], "warn", "{f:#}");
        assert!(f["fix"].as_str().is_some_and(|x| !x.is_empty()), "{f:#}");
        assert!(f["location"].as_str().is_some(), "{f:#}");
    }
    (p, sim, found)
}

#[test]
fn an_issuer_that_is_not_the_clusters_oidc_issuer() {
    // Text around a reference has no single origin: the first plan cannot compare it, and
    // says nothing rather than guess; once the cluster exists the value is known, and the
    // plan after apply reports it.
    let (p, sim, found) = first_plan_of(|p| {
        p.edit(
            "workload.toml",
            "oidc_issuer = \"${aks.properties.oidcIssuerProfile.issuerURL}\"",
            "oidc_issuer = \"https://${aks.properties.fqdn}/\"",
        )
    });
    assert_eq!(found, Vec::<serde_json::Value>::new());
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    assert_eq!(
        rules(&findings(&p, &sim)),
        set(&[
            ("issuer", "module.workload.fic_keda"),
            ("issuer", "module.workload.fic_workload"),
        ])
    );
    // A plain reference to the wrong attribute is found at once, before anything exists.
    let (_p, _sim, found) = first_plan_of(|p| {
        p.edit(
            "workload.toml",
            "oidc_issuer = \"${aks.properties.oidcIssuerProfile.issuerURL}\"",
            "oidc_issuer = \"${aks.properties.fqdn}\"",
        )
    });
    assert_eq!(
        rules(&found),
        set(&[
            ("issuer", "module.workload.fic_keda"),
            ("issuer", "module.workload.fic_workload"),
        ]),
        "{found:#?}"
    );
    let f = finding(&found, "issuer", "module.workload.fic_keda");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("aks's properties.fqdn"), "{message}");
    assert!(message.contains("AADSTS70021"), "{message}");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("${aks.properties.oidcIssuerProfile.issuerURL}")
    );
    assert!(
        f["location"]
            .as_str()
            .unwrap()
            .contains("modules/keda-workload-identity/identity.toml:"),
        "{f:#}"
    );
}

#[test]
fn a_fixed_issuer_is_reported_once_the_cluster_exists_and_differs() {
    let p = Project::flagship();
    let sim = Sim::start(&world(&p));
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    let issuer = p.output("oidc_issuer");
    let issuer = issuer.as_str().unwrap();
    // Pasted by hand without its trailing slash, as the Azure portal shows it.
    p.edit(
        "workload.toml",
        "oidc_issuer = \"${aks.properties.oidcIssuerProfile.issuerURL}\"",
        &format!("oidc_issuer = \"{}\"", issuer.trim_end_matches('/')),
    );
    let found = findings(&p, &sim);
    assert_eq!(
        rules(&found),
        set(&[
            ("issuer", "module.workload.fic_keda"),
            ("issuer", "module.workload.fic_workload"),
        ]),
        "{found:#?}"
    );
    let message = finding(&found, "issuer", "module.workload.fic_workload")["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("trailing slash"), "{message}");
}

#[test]
fn a_service_account_annotated_with_the_principal_id() {
    let (_p, _sim, found) = first_plan_of(|p| {
        p.edit(
            KUBERNETES,
            "name = \"${var.name}-mi\"\nnamespace = \"${var.namespace}\"\nannotations = { \"azure.workload.identity/client-id\" = \"${mi.properties.clientId}\" }",
            "name = \"${var.name}-mi\"\nnamespace = \"${var.namespace}\"\nannotations = { \"azure.workload.identity/client-id\" = \"${mi.properties.principalId}\" }",
        )
    });
    assert_eq!(
        rules(&found),
        set(&[("client-id", "module.workload.workload_sa")]),
        "{found:#?}"
    );
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains("module.workload.mi's properties.principalId"),
        "{message}"
    );
}

#[test]
fn a_subject_naming_no_declared_service_account() {
    let (_p, _sim, found) = first_plan_of(|p| {
        p.edit(
            IDENTITY,
            "subject = \"system:serviceaccount:${var.namespace}:${var.name}-mi\"",
            "subject = \"system:serviceaccount:${var.namespace}:${var.name}\"",
        )
    });
    // Both ends: the credential trusts nobody declared; the ServiceAccount that names the
    // identity is trusted by no credential.
    assert_eq!(
        rules(&found),
        set(&[
            ("subject", "module.workload.fic_workload"),
            ("credential", "module.workload.workload_sa"),
        ]),
        "{found:#?}"
    );
    let f = finding(&found, "subject", "module.workload.fic_workload");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("system:serviceaccount:default:kedademo-mi"),
        "{f:#}"
    );
}

#[test]
fn an_audience_other_than_the_token_exchange() {
    let (_p, _sim, found) = first_plan_of(|p| {
        let text = p.read(IDENTITY);
        let fixed = text.replacen(
            "audiences = [\"api://AzureADTokenExchange\"]",
            "audiences = [\"api://AzureADTokenExchange/\"]",
            1,
        );
        assert_ne!(text, fixed);
        p.write(IDENTITY, &fixed);
    });
    assert_eq!(
        rules(&found),
        set(&[("audience", "module.workload.fic_workload")]),
        "{found:#?}"
    );
}

#[test]
fn a_receiver_role_cannot_read_the_queue_length() {
    let (p, sim, found) = first_plan_of(|p| {
        p.edit(
            IDENTITY,
            "azure.role_definition_id(\\\"Azure Service Bus Data Owner\\\")",
            "azure.role_definition_id(\\\"Azure Service Bus Data Receiver\\\")",
        )
    });
    assert_eq!(
        rules(&found),
        set(&[("data-role", "consumer")]),
        "{found:#?}"
    );
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains("only Azure Service Bus Data Receiver (module.workload.data_owner)"),
        "{message}"
    );
    assert!(message.contains("Manage claim"), "{message}");
    assert!(
        found[0]["location"]
            .as_str()
            .unwrap()
            .contains("manifests/consumer-scaledjob.yaml:"),
        "{:#}",
        found[0]
    );
    // Applied anyway, the plan with nothing to do says it again, from known values.
    ok(p.sim_run(&sim, &["apply", "--auto-approve"]));
    assert_eq!(
        rules(&findings(&p, &sim)),
        set(&[("data-role", "consumer")])
    );
}

#[test]
fn a_trigger_authentication_naming_the_principal_id() {
    let (_p, _sim, found) = first_plan_of(|p| {
        p.edit(
            KUBERNETES,
            "identityId = \"${mi.properties.clientId}\"",
            "identityId = \"${mi.properties.principalId}\"",
        )
    });
    assert_eq!(
        rules(&found),
        set(&[("identity-id", "module.workload.trigger_auth")]),
        "{found:#?}"
    );
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("${mi.properties.clientId}\" (in module.workload)"),
        "{fix}"
    );
}

#[test]
fn a_role_assigned_to_the_client_id() {
    let (_p, _sim, found) = first_plan_of(|p| {
        p.edit(
            IDENTITY,
            "principalId = \"${mi.properties.principalId}\"",
            "principalId = \"${mi.properties.clientId}\"",
        )
    });
    assert_eq!(
        rules(&found),
        set(&[
            ("principal-id", "module.workload.data_owner"),
            ("data-role", "consumer"),
        ]),
        "{found:#?}"
    );
}

#[test]
fn keda_from_helm_and_a_github_actions_credential_are_no_findings() {
    // KEDA installed by Helm in namespace `keda` (its credential, annotated ServiceAccount and
    // restart there), and a GitHub Actions credential on the same identity beside the cluster:
    // nothing to report, and `--fail-on identity-chain` lets the plan pass.
    let (p, sim, found) = first_plan_of(|p| {
        p.edit(
            IDENTITY,
            "subject = \"system:serviceaccount:kube-system:keda-operator\"",
            "subject = \"system:serviceaccount:keda:keda-operator\"",
        );
        p.edit(
            KUBERNETES,
            "metadata = { name = \"keda-operator\", namespace = \"kube-system\"",
            "metadata = { name = \"keda-operator\", namespace = \"keda\"",
        );
        p.edit(
            KUBERNETES,
            "target = \"kube-system/Deployment/keda-operator\"",
            "target = \"keda/Deployment/keda-operator\"",
        );
        let text = p.read(IDENTITY);
        p.write(
            IDENTITY,
            &format!(
                "{text}\n[resource.fic_github]\ntype = \"azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30\"\nparent = \"${{mi.id}}\"\nname = \"github-main\"\n[resource.fic_github.body.properties]\nissuer = \"https://token.actions.githubusercontent.com\"\nsubject = \"repo:org/x:ref:refs/heads/main\"\naudiences = [\"api://AzureADTokenExchange\"]\n"
            ),
        );
    });
    assert_eq!(found, Vec::<serde_json::Value>::new());
    ok(p.sim_run(&sim, &["plan", "--fail-on", "identity-chain", "--no-color"]));
    // The operator's restart left in kube-system restarts another operator than Helm's.
    p.edit(
        KUBERNETES,
        "target = \"keda/Deployment/keda-operator\"",
        "target = \"kube-system/Deployment/keda-operator\"",
    );
    let found = findings(&p, &sim);
    assert_eq!(
        rules(&found),
        set(&[
            ("restart", "module.workload.fic_keda"),
            ("restart", "module.workload.keda_operator_identity[0]"),
        ]),
        "{found:#?}"
    );
    let message = finding(&found, "restart", "module.workload.fic_keda")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("keda/Deployment/keda-operator"),
        "{message}"
    );
}
