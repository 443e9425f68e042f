//! The chain on hand-built plans: each link healthy and broken, with known values (a plan
//! after apply) and with unknown ones (a first plan, compared by origin through the
//! configuration).

use plinth_config::{Config, Sources};
use plinth_plan::{Action, DeclKind, Finding, Plan, PlanMode, ResourceChange};
use plinth_value::Value;
use serde_json::json;

use crate::check;

const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg";
const ISSUER: &str = "https://eastus.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/6f1c2a3b-0000-4000-8000-000000000001/";
const CLIENT: &str = "ce46c7be-9045-5589-9fc9-4ac7792e2566";
const PRINCIPAL: &str = "d5953ed4-4115-5b76-9177-62ceebc3a018";
const OWNER: &str =
    "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419";
const RECEIVER: &str =
    "/providers/Microsoft.Authorization/roleDefinitions/4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0";

fn unknown() -> serde_json::Value {
    json!({"$unknown": true})
}

fn mi_id() -> String {
    format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/demo-mi")
}
fn sb_id() -> String {
    format!("{RG}/providers/Microsoft.ServiceBus/namespaces/demo-sbns")
}
fn queue_id() -> String {
    format!("{}/queues/demo-queue", sb_id())
}

/// The configuration the plans below are made from: the flagship's chain, flat (one module).
const MAIN: &str = r#"
[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "${rg.id}"
name = "demo-aks"
[resource.aks.body]
properties.oidcIssuerProfile.enabled = true
properties.securityProfile.workloadIdentity.enabled = true

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "demo-rg"
location = "eastus"

[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${rg.id}"
name = "demo-sbns"

[resource.queue]
type = "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01"
parent = "${sb.id}"
name = "demo-queue"

[resource.mi]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${rg.id}"
name = "demo-mi"

[locals]
issuer = "${aks.properties.oidcIssuerProfile.issuerURL}"
ids = { client = "${mi.properties.clientId}" }

[resource.fic_workload]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30"
parent = "${mi.id}"
name = "demo-fic"
[resource.fic_workload.body.properties]
issuer = "${local.issuer}"
subject = "system:serviceaccount:default:demo-mi"
audiences = ["api://AzureADTokenExchange"]

[resource.fic_keda]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30"
parent = "${mi.id}"
name = "demo-fic-keda"
[resource.fic_keda.body.properties]
issuer = "${aks.properties.oidcIssuerProfile.issuerURL}"
subject = "system:serviceaccount:kube-system:keda-operator"
audiences = ["api://AzureADTokenExchange"]

[resource.data_owner]
type = "azure:Microsoft.Authorization/roleAssignments@2022-04-01"
parent = "${queue.id}"
[resource.data_owner.body.properties]
roleDefinitionId = "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"
principalId = "${mi.properties.principalId}"

[resource.keda_operator_identity]
type = "k8s:fields"
[resource.keda_operator_identity.manifest]
apiVersion = "v1"
kind = "ServiceAccount"
metadata = { name = "keda-operator", namespace = "kube-system", annotations = { "azure.workload.identity/client-id" = "${local.ids.client}" } }

[action.restart_keda]
type = "k8s:rollout-restart"
target = "kube-system/Deployment/keda-operator"
on = ["fic_keda", "keda_operator_identity"]

[resource.workload_sa]
type = "k8s:v1/ServiceAccount"
[resource.workload_sa.manifest.metadata]
name = "demo-mi"
namespace = "default"
annotations = { "azure.workload.identity/client-id" = "${mi.properties.clientId}" }

[resource.trigger_auth]
type = "k8s:keda.sh/v1alpha1/TriggerAuthentication"
[resource.trigger_auth.manifest]
metadata = { name = "demo-auth", namespace = "default" }
spec.podIdentity = { provider = "azure-workload", identityId = "${mi.properties.clientId}" }

[resource.consumer]
type = "k8s:keda.sh/v1alpha1/ScaledJob"
[resource.consumer.manifest]
metadata = { name = "consumer", namespace = "default" }
spec.triggers = [{ type = "azure-servicebus", metadata = { queueName = "${queue.name}", namespace = "${sb.name}", messageCount = "10" }, authenticationRef = { name = "demo-auth" } }]
"#;

fn config(text: &str) -> Config {
    let mut sources = Sources::new();
    sources.add(
        "main.toml".into(),
        std::path::PathBuf::from("main.toml"),
        text.to_string(),
    );
    match plinth_config::load_sources(sources) {
        Ok(c) => c,
        Err((_, d)) => panic!("the test configuration loads: {d:?}"),
    }
}

fn change(address: &str, ty: &str, action: Action, after: serde_json::Value) -> ResourceChange {
    let kind = if address.contains("action.") {
        DeclKind::Action
    } else {
        DeclKind::Resource
    };
    let mut c = ResourceChange::new(address, ty, kind, action);
    let v: Value = serde_json::from_value(after).unwrap();
    if kind == DeclKind::Action {
        c.config = Some(v);
    } else if action == Action::NoOp {
        c.before = Some(v.clone());
        c.after = Some(v);
    } else {
        c.after = Some(v);
    }
    c
}

/// The chain as a plan after apply shows it: everything known, nothing to do.
fn applied() -> Plan {
    let noop = Action::NoOp;
    let changes = vec![
        change(
            "aks",
            "azure:Microsoft.ContainerService/managedClusters@2025-10-01",
            noop,
            json!({"id": format!("{RG}/providers/Microsoft.ContainerService/managedClusters/demo-aks"), "name": "demo-aks",
                "properties": {"oidcIssuerProfile": {"enabled": true, "issuerURL": ISSUER}, "securityProfile": {"workloadIdentity": {"enabled": true}}}}),
        ),
        change(
            "sb",
            "azure:Microsoft.ServiceBus/namespaces@2024-01-01",
            noop,
            json!({"id": sb_id(), "name": "demo-sbns"}),
        ),
        change(
            "queue",
            "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01",
            noop,
            json!({"id": queue_id(), "name": "demo-queue"}),
        ),
        change(
            "mi",
            "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30",
            noop,
            json!({"id": mi_id(), "name": "demo-mi", "properties": {"clientId": CLIENT, "principalId": PRINCIPAL}}),
        ),
        change(
            "fic_workload",
            "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30",
            noop,
            json!({"id": format!("{}/federatedIdentityCredentials/demo-fic", mi_id()), "name": "demo-fic",
                "properties": {"issuer": ISSUER, "subject": "system:serviceaccount:default:demo-mi", "audiences": ["api://AzureADTokenExchange"]}}),
        ),
        change(
            "fic_keda",
            "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30",
            noop,
            json!({"id": format!("{}/federatedIdentityCredentials/demo-fic-keda", mi_id()), "name": "demo-fic-keda",
                "properties": {"issuer": ISSUER, "subject": "system:serviceaccount:kube-system:keda-operator", "audiences": ["api://AzureADTokenExchange"]}}),
        ),
        change(
            "data_owner",
            "azure:Microsoft.Authorization/roleAssignments@2022-04-01",
            noop,
            json!({"id": format!("{}/providers/Microsoft.Authorization/roleAssignments/829c3dfb-1d69-5fb4-8d56-bc41bf1e8701", queue_id()),
                "properties": {"principalId": PRINCIPAL, "roleDefinitionId": format!("/subscriptions/00000000-0000-0000-0000-000000000000{OWNER}"), "scope": queue_id()}}),
        ),
        change(
            "keda_operator_identity",
            "k8s:fields",
            noop,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "keda-operator", "namespace": "kube-system", "annotations": {"azure.workload.identity/client-id": CLIENT}}}),
        ),
        change(
            "workload_sa",
            "k8s:v1/ServiceAccount",
            noop,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "demo-mi", "namespace": "default", "annotations": {"azure.workload.identity/client-id": CLIENT}}}),
        ),
        change(
            "trigger_auth",
            "k8s:keda.sh/v1alpha1/TriggerAuthentication",
            noop,
            json!({"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication", "metadata": {"name": "demo-auth", "namespace": "default"},
                "spec": {"podIdentity": {"provider": "azure-workload", "identityId": CLIENT}}}),
        ),
        change(
            "action.restart_keda",
            "k8s:rollout-restart",
            noop,
            json!({"target": "kube-system/Deployment/keda-operator"}),
        ),
        change(
            "consumer",
            "k8s:keda.sh/v1alpha1/ScaledJob",
            noop,
            json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "metadata": {"name": "consumer", "namespace": "default"},
                "spec": {"triggers": [{"type": "azure-servicebus", "metadata": {"queueName": "demo-queue", "namespace": "demo-sbns", "messageCount": "10"}, "authenticationRef": {"name": "demo-auth"}}]}}),
        ),
    ];
    plan(changes)
}

fn plan(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        format: plinth_plan::PLAN_FORMAT.into(),
        mode: PlanMode::Normal,
        created_at: "2026-12-02T00:00:00Z".into(),
        lineage: String::new(),
        serial: 0,
        config_digest: String::new(),
        config_dir: "/work".into(),
        variables: Default::default(),
        changes,
        outputs: vec![],
        drift: vec![],
        warnings: vec![],
        targets: vec![],
        checks: vec![],
        findings: vec![],
    }
}

/// The first plan: everything created, every value that depends on a new object unknown.
fn first() -> Plan {
    let mut p = applied();
    for c in &mut p.changes {
        c.action = if c.kind == DeclKind::Action {
            Action::Run
        } else {
            Action::Create
        };
        c.before = None;
    }
    for (addr, path) in [
        ("aks", "properties.oidcIssuerProfile.issuerURL"),
        ("mi", "properties.clientId"),
        ("mi", "properties.principalId"),
        ("fic_workload", "properties.issuer"),
        ("fic_keda", "properties.issuer"),
        ("data_owner", "id"),
        ("data_owner", "properties.principalId"),
        ("data_owner", "properties.scope"),
        (
            "keda_operator_identity",
            "metadata.annotations[\"azure.workload.identity/client-id\"]",
        ),
        (
            "workload_sa",
            "metadata.annotations[\"azure.workload.identity/client-id\"]",
        ),
        ("trigger_auth", "spec.podIdentity.identityId"),
    ] {
        set(&mut p, addr, path, unknown());
    }
    // The role assignment's scope is its parent, known in its configured inputs.
    let role = at(&mut p, "data_owner");
    role.config = Some(serde_json::from_value(json!({"parent": queue_id()})).unwrap());
    let restart = at(&mut p, "action.restart_keda");
    restart.depends_on = vec!["fic_keda".into(), "keda_operator_identity".into()];
    p
}

fn at<'a>(p: &'a mut Plan, address: &str) -> &'a mut ResourceChange {
    p.changes
        .iter_mut()
        .find(|c| c.address == address)
        .unwrap_or_else(|| panic!("no {address}"))
}

fn set(p: &mut Plan, address: &str, path: &str, value: serde_json::Value) {
    let v: Value = serde_json::from_value(value).unwrap();
    let c = at(p, address);
    let path = path.parse().unwrap();
    for attrs in [c.after.as_mut(), c.before.as_mut()].into_iter().flatten() {
        attrs.set(&path, v.clone());
    }
}

fn remove(p: &mut Plan, address: &str) {
    p.changes.retain(|c| c.address != address);
}

fn rules(findings: &[Finding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| (f.rule.as_str(), f.address.as_deref().unwrap_or_default()))
        .collect()
}

#[track_caller]
fn only(findings: &[Finding], rule: &str, address: &str) -> Finding {
    assert_eq!(rules(findings), vec![(rule, address)], "{findings:#?}");
    let f = findings[0].clone();
    assert_eq!(f.source, plinth_plan::FindingSource::IdentityChain);
    assert_eq!(f.severity, plinth_plan::Severity::Warn);
    assert!(f.fix.as_deref().is_some_and(|x| !x.is_empty()), "{f:#?}");
    f
}

#[test]
fn the_healthy_chain_has_no_findings_after_apply_and_in_its_first_plan() {
    let cfg = config(MAIN);
    assert_eq!(check(&applied(), Some(&cfg)), vec![]);
    assert_eq!(check(&applied(), None), vec![]);
    // The first plan: unknowns compared by origin (through locals too).
    assert_eq!(check(&first(), Some(&cfg)), vec![]);
    // Without the configuration nothing unknown is comparable, and nothing is guessed.
    assert_eq!(check(&first(), None), vec![]);
}

#[test]
fn a_destroy_plan_is_not_checked() {
    let mut p = applied();
    set(
        &mut p,
        "fic_keda",
        "properties.issuer",
        json!("https://elsewhere/"),
    );
    p.mode = PlanMode::Destroy;
    assert_eq!(check(&p, None), vec![]);
}

#[test]
fn issuer_of_another_cluster_or_without_its_trailing_slash() {
    let mut p = applied();
    set(
        &mut p,
        "fic_keda",
        "properties.issuer",
        json!("https://elsewhere.example/"),
    );
    let f = only(&check(&p, None), "issuer", "fic_keda");
    assert!(
        f.message.contains("\"https://elsewhere.example/\""),
        "{}",
        f.message
    );
    assert!(
        f.message.contains(&format!("aks's is \"{ISSUER}\"")),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .unwrap()
            .contains("${aks.properties.oidcIssuerProfile.issuerURL}")
    );

    let mut p = applied();
    set(
        &mut p,
        "fic_workload",
        "properties.issuer",
        json!(ISSUER.trim_end_matches('/')),
    );
    let f = only(&check(&p, None), "issuer", "fic_workload");
    assert!(f.message.contains("trailing slash"), "{}", f.message);

    // A fixed URL cannot be the issuer of a cluster this plan creates.
    let mut p = first();
    set(&mut p, "fic_keda", "properties.issuer", json!(ISSUER));
    let f = only(&check(&p, Some(&config(MAIN))), "issuer", "fic_keda");
    assert!(
        f.message.contains("known only after apply"),
        "{}",
        f.message
    );
}

#[test]
fn issuer_from_another_attribute_of_the_cluster_is_caught_before_anything_is_known() {
    let text = MAIN.replace(
        "issuer = \"${aks.properties.oidcIssuerProfile.issuerURL}\"\nsubject = \"system:serviceaccount:kube-system",
        "issuer = \"${aks.properties.fqdn}\"\nsubject = \"system:serviceaccount:kube-system",
    );
    assert_ne!(text, MAIN);
    let cfg = config(&text);
    let mut p = first();
    set(&mut p, "aks", "properties.fqdn", unknown());
    let f = only(&check(&p, Some(&cfg)), "issuer", "fic_keda");
    assert!(f.message.contains("aks's properties.fqdn"), "{}", f.message);
    // Located at the credential's issuer.
    let loc = f.location.unwrap();
    let line = text[..text.find("${aks.properties.fqdn}").unwrap()]
        .lines()
        .count();
    assert!(
        loc.starts_with(&format!("main.toml:{line}:")),
        "{loc} vs line {line}"
    );
}

#[test]
fn the_trusted_cluster_must_have_the_oidc_issuer_and_workload_identity() {
    let mut p = applied();
    set(
        &mut p,
        "aks",
        "properties.securityProfile.workloadIdentity.enabled",
        json!(false),
    );
    let f = only(&check(&p, None), "workload-identity", "aks");
    assert!(
        f.fix
            .unwrap()
            .contains("properties.securityProfile.workloadIdentity.enabled = true")
    );

    let mut p = first();
    at(&mut p, "aks")
        .after
        .as_mut()
        .unwrap()
        .remove(&"properties.oidcIssuerProfile.enabled".parse().unwrap());
    let f = only(&check(&p, Some(&config(MAIN))), "oidc-issuer", "aks");
    assert!(f.message.contains("not set"), "{}", f.message);
    assert!(f.location.unwrap().starts_with("main.toml:"));
}

#[test]
fn audience_must_be_the_token_exchange() {
    let mut p = applied();
    set(
        &mut p,
        "fic_workload",
        "properties.audiences",
        json!(["api://AzureADTokenExchange2"]),
    );
    let f = only(&check(&p, None), "audience", "fic_workload");
    assert!(
        f.message.contains("\"api://AzureADTokenExchange2\""),
        "{}",
        f.message
    );
}

#[test]
fn subject_must_name_a_declared_service_account_or_the_keda_operator() {
    let mut p = applied();
    set(
        &mut p,
        "fic_workload",
        "properties.subject",
        json!("system:serviceaccount:default:demo"),
    );
    // Both ends: the credential trusts no declared account, and the account that names the
    // identity is trusted by no credential.
    let findings = check(&p, None);
    assert_eq!(
        rules(&findings),
        vec![("subject", "fic_workload"), ("credential", "workload_sa")],
        "{findings:#?}"
    );
    assert!(
        findings[0].message.contains("default/demo-mi"),
        "{}",
        findings[0].message
    );
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(
        fix.contains("system:serviceaccount:default:demo-mi"),
        "{fix}"
    );
    assert!(
        findings[1]
            .message
            .contains("no federated credential of mi trusts system:serviceaccount:default:demo-mi"),
        "{}",
        findings[1].message
    );

    let mut p = applied();
    set(
        &mut p,
        "fic_workload",
        "properties.subject",
        json!("default:demo-mi"),
    );
    let findings = check(&p, None);
    assert_eq!(
        rules(&findings)[0],
        ("subject", "fic_workload"),
        "{findings:#?}"
    );

    // The add-on's operator needs no declaration.
    let mut p = applied();
    remove(&mut p, "keda_operator_identity");
    assert_eq!(check(&p, None), vec![]);
}

#[test]
fn service_account_client_id_is_its_identitys() {
    let mut p = applied();
    set(
        &mut p,
        "workload_sa",
        "metadata.annotations[\"azure.workload.identity/client-id\"]",
        json!("00000000-0000-0000-0000-000000000000"),
    );
    let f = only(&check(&p, None), "client-id", "workload_sa");
    assert!(
        f.message
            .contains(&format!("mi's client id is \"{CLIENT}\"")),
        "{}",
        f.message
    );

    // The principal id where the client id belongs, seen in the first plan.
    let text = MAIN.replace(
        "annotations = { \"azure.workload.identity/client-id\" = \"${mi.properties.clientId}\" }",
        "annotations = { \"azure.workload.identity/client-id\" = \"${mi.properties.principalId}\" }",
    );
    assert_ne!(text, MAIN);
    let f = only(
        &check(&first(), Some(&config(&text))),
        "client-id",
        "workload_sa",
    );
    assert!(
        f.message.contains("mi's properties.principalId"),
        "{}",
        f.message
    );
    assert!(f.location.unwrap().starts_with("main.toml:"));

    // No annotation at all.
    let mut p = applied();
    at(&mut p, "workload_sa")
        .after
        .as_mut()
        .unwrap()
        .remove(&"metadata.annotations".parse().unwrap());
    let f = only(&check(&p, None), "client-id", "workload_sa");
    assert!(
        f.message
            .contains("no azure.workload.identity/client-id annotation"),
        "{}",
        f.message
    );
}

#[test]
fn trigger_authentication_names_an_identity_the_operator_may_act_as() {
    let mut p = applied();
    set(
        &mut p,
        "trigger_auth",
        "spec.podIdentity.identityId",
        json!(PRINCIPAL),
    );
    let f = only(&check(&p, None), "identity-id", "trigger_auth");
    assert!(
        f.message.contains(&format!("mi (client id \"{CLIENT}\")")),
        "{}",
        f.message
    );

    // Without identityId KEDA takes the operator's annotation: without that either, nothing.
    let mut p = applied();
    at(&mut p, "trigger_auth")
        .after
        .as_mut()
        .unwrap()
        .remove(&"spec.podIdentity.identityId".parse().unwrap());
    assert_eq!(check(&p, None), vec![]);
    remove(&mut p, "keda_operator_identity");
    let f = only(&check(&p, None), "identity-id", "trigger_auth");
    assert!(f.message.contains("Azure/AKS#5243"), "{}", f.message);
}

#[test]
fn without_the_operators_credential_keda_cannot_authenticate() {
    // The first of the flagship's broken variants: no credential for keda-operator (and so
    // no restart after it).
    let mut p = first();
    remove(&mut p, "fic_keda");
    remove(&mut p, "action.restart_keda");
    let findings = check(&p, Some(&config(MAIN)));
    assert_eq!(
        rules(&findings),
        vec![
            ("credential", "keda_operator_identity"),
            ("credential", "trigger_auth"),
            ("restart", "keda_operator_identity"),
        ],
        "{findings:#?}"
    );
    assert!(findings[1].message.contains("AADSTS70021"));
}

#[test]
fn the_scalers_identity_holds_the_data_owner_role_on_the_queue() {
    let cfg = config(MAIN);
    // No role at all (the flagship's third broken variant), in the first plan and after.
    for mut p in [first(), applied()] {
        remove(&mut p, "data_owner");
        let f = only(&check(&p, Some(&cfg)), "data-role", "consumer");
        assert!(
            f.message.contains("queue demo-sbns/demo-queue"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("holds no Service Bus data role"),
            "{}",
            f.message
        );
        assert!(f.fix.unwrap().contains("Azure Service Bus Data Owner"));
    }
    // Receiver only: no Manage claim.
    let mut p = applied();
    set(
        &mut p,
        "data_owner",
        "properties.roleDefinitionId",
        json!(RECEIVER),
    );
    let f = only(&check(&p, None), "data-role", "consumer");
    assert!(
        f.message.contains("only Azure Service Bus Data Receiver"),
        "{}",
        f.message
    );
    // On another queue.
    let mut p = applied();
    set(
        &mut p,
        "data_owner",
        "properties.scope",
        json!(format!("{}/queues/other", sb_id())),
    );
    let f = only(&check(&p, None), "data-role", "consumer");
    assert!(f.message.contains("does not cover"), "{}", f.message);
    // The namespace or the resource group covers the queue (ids compare without case).
    for scope in [sb_id().to_uppercase(), RG.to_string()] {
        let mut p = applied();
        set(&mut p, "data_owner", "properties.scope", json!(scope));
        assert_eq!(check(&p, None), vec![]);
    }
    // Another identity's role does not count.
    let mut p = applied();
    set(
        &mut p,
        "data_owner",
        "properties.principalId",
        json!("99999999-0000-0000-0000-000000000000"),
    );
    only(&check(&p, None), "data-role", "consumer");
    // A trigger naming a namespace the plan does not declare.
    let mut p = applied();
    set(
        &mut p,
        "consumer",
        "spec.triggers[0].metadata.namespace",
        json!("demo-sb"),
    );
    let f = only(&check(&p, None), "data-role", "consumer");
    assert!(
        f.message
            .contains("\"demo-sb\", which this plan does not declare"),
        "{}",
        f.message
    );
}

#[test]
fn a_role_for_the_client_id_goes_to_no_one() {
    let text = MAIN.replace(
        "principalId = \"${mi.properties.principalId}\"",
        "principalId = \"${mi.properties.clientId}\"",
    );
    assert_ne!(text, MAIN);
    let findings = check(&first(), Some(&config(&text)));
    assert_eq!(
        rules(&findings),
        vec![("data-role", "consumer"), ("principal-id", "data_owner")],
        "{findings:#?}"
    );
    // Known values too.
    let mut p = applied();
    set(
        &mut p,
        "data_owner",
        "properties.principalId",
        json!(CLIENT),
    );
    let findings = check(&p, None);
    assert!(
        rules(&findings).contains(&("principal-id", "data_owner")),
        "{findings:#?}"
    );
}

#[test]
fn the_operator_restarts_after_its_credential_changes() {
    let cfg = config(MAIN);
    // The action's `on` names both: fine in any plan.
    assert_eq!(check(&first(), Some(&cfg)), vec![]);
    // No action: the credential and the annotation are created and nothing restarts.
    let text = MAIN.replace("on = [\"fic_keda\", \"keda_operator_identity\"]", "");
    let mut p = first();
    remove(&mut p, "action.restart_keda");
    let findings = check(&p, Some(&config(&text)));
    assert_eq!(
        rules(&findings),
        vec![
            ("restart", "fic_keda"),
            ("restart", "keda_operator_identity")
        ],
        "{findings:#?}"
    );
    assert!(
        findings[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("on = [\"fic_keda\"]")
    );
    // Without the configuration: a restart that runs after the credential is enough.
    assert_eq!(check(&first(), None), vec![]);
    let mut p = first();
    at(&mut p, "action.restart_keda").depends_on = vec!["keda_operator_identity".into()];
    let f = only(&check(&p, None), "restart", "fic_keda");
    assert!(
        f.fix
            .unwrap()
            .contains("add \"fic_keda\" to the `on` list of action.restart_keda")
    );
    // An action whose `on` leaves the credential out, in a plan with nothing to do.
    let text = MAIN.replace(
        "on = [\"fic_keda\", \"keda_operator_identity\"]",
        "on = [\"keda_operator_identity\"]",
    );
    let f = only(
        &check(&applied(), Some(&config(&text))),
        "restart",
        "fic_keda",
    );
    assert!(
        f.message.contains("no k8s:rollout-restart"),
        "{}",
        f.message
    );
    // ... which a saved plan alone cannot tell.
    assert_eq!(check(&applied(), None), vec![]);
}

mod edges;
