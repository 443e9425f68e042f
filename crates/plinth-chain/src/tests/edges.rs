//! The chain's edges: secrets never quoted, origins through modules, targeted plans,
//! credentials that are not for Kubernetes, KEDA in its own namespace, data roles the check
//! cannot judge.

use super::*;

/// Marks `value` sensitive.
fn secret(value: serde_json::Value) -> serde_json::Value {
    json!({ "$sensitive": value })
}

#[test]
fn secrets_are_never_quoted() {
    let cases: Vec<(&str, &str, &str, serde_json::Value)> = vec![
        (
            "client-id",
            "workload_sa",
            "metadata.annotations[\"azure.workload.identity/client-id\"]",
            secret(json!("hunter2-hunter2")),
        ),
        (
            "audience",
            "fic_workload",
            "properties.audiences",
            json!([secret(json!("api://hunter2"))]),
        ),
        (
            "audience",
            "fic_workload",
            "properties.audiences",
            secret(json!(["api://hunter2"])),
        ),
        (
            "issuer",
            "fic_keda",
            "properties.issuer",
            secret(json!("https://hunter2.example/")),
        ),
        (
            "subject",
            "fic_workload",
            "properties.subject",
            secret(json!("system:serviceaccount:default:hunter2")),
        ),
        (
            "identity-id",
            "trigger_auth",
            "spec.podIdentity.identityId",
            secret(json!("hunter2-0000-0000-0000-000000000000")),
        ),
        (
            "data-role",
            "consumer",
            "spec.triggers[0].metadata.namespace",
            secret(json!("hunter2-sbns")),
        ),
        (
            "data-role",
            "data_owner",
            "properties.scope",
            secret(json!(format!("{}/queues/hunter2", sb_id()))),
        ),
    ];
    for (rule, address, path, value) in cases {
        let mut p = applied();
        set(&mut p, address, path, value);
        let findings = check(&p, None);
        assert!(
            findings.iter().any(|f| f.rule == rule),
            "{rule} at {address}.{path}: {findings:#?}"
        );
        for f in &findings {
            let text = format!("{} {}", f.message, f.fix.as_deref().unwrap_or_default());
            assert!(!text.contains("hunter2"), "{text}");
            if f.rule == rule {
                assert!(f.message.contains("(sensitive)"), "{}", f.message);
            }
        }
    }
    // The cluster's issuer, listed beside a credential's other issuer; a malformed subject.
    let mut p = applied();
    set(
        &mut p,
        "aks",
        "properties.oidcIssuerProfile.issuerURL",
        secret(json!(ISSUER)),
    );
    set(
        &mut p,
        "fic_workload",
        "properties.issuer",
        secret(json!(ISSUER)),
    );
    set(
        &mut p,
        "fic_keda",
        "properties.issuer",
        json!("https://elsewhere.example/"),
    );
    set(
        &mut p,
        "fic_workload",
        "properties.subject",
        secret(json!("hunter2:subject")),
    );
    let findings = check(&p, None);
    assert_eq!(
        rules(&findings),
        vec![
            ("subject", "fic_workload"),
            ("issuer", "fic_keda"),
            ("credential", "workload_sa")
        ],
        "{findings:#?}"
    );
    for f in &findings {
        let text = format!("{} {}", f.message, f.fix.as_deref().unwrap_or_default());
        assert!(
            !text.contains("hunter2") && !text.contains(ISSUER),
            "{text}"
        );
    }
    assert!(findings[0].message.contains("the subject (sensitive)"));
    assert!(findings[1].message.contains("aks's is (sensitive)"));
}

/// The flagship's module, as it is in examples/: `module.workload`'s variables followed to
/// the caller's references.
#[test]
fn origins_are_followed_through_module_variables_and_outputs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/aks-keda-workload-identity");
    let cfg = match plinth_config::load_dir(&dir) {
        Ok(c) => c,
        Err((_, d)) => panic!("the flagship loads: {d:?}"),
    };
    let mut p = first();
    for c in &mut p.changes {
        if !["aks", "sb", "queue", "consumer"].contains(&c.address.as_str()) {
            let bare = c.address.clone();
            c.address = format!("module.workload.{bare}");
            c.depends_on = c
                .depends_on
                .iter()
                .map(|d| format!("module.workload.{d}"))
                .collect();
            if bare == "keda_operator_identity" {
                c.address.push_str("[0]");
            }
        }
    }
    assert_eq!(check(&p, Some(&cfg)), vec![]);
    // The restart's `on` is read in the module: without the action planned to run after
    // them, the module's `on` still names both.
    at(&mut p, "module.workload.action.restart_keda")
        .depends_on
        .clear();
    assert_eq!(check(&p, Some(&cfg)), vec![]);
    // A module-relative slip found through the call: the identity's principal id as the
    // trigger authentication's client id would be a different origin.
    let mut q = p.clone();
    remove(&mut q, "module.workload.fic_keda");
    let findings = check(&q, Some(&cfg));
    let f = findings
        .iter()
        .find(|f| {
            f.rule == "credential" && f.address.as_deref() == Some("module.workload.trigger_auth")
        })
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(
        f.location
            .as_deref()
            .unwrap()
            .contains("modules/keda-workload-identity/kubernetes.toml:"),
        "{f:#?}"
    );
}

#[test]
fn a_targeted_plan_is_not_faulted_for_what_it_leaves_out() {
    let cfg = config(MAIN);
    let mut p = first();
    p.targets = vec!["fic_workload".into()];
    p.changes
        .retain(|c| ["aks", "mi", "fic_workload"].contains(&c.address.as_str()));
    assert_eq!(check(&p, Some(&cfg)), vec![]);
    // What is in it is still checked.
    set(
        &mut p,
        "fic_workload",
        "properties.audiences",
        json!(["api://other"]),
    );
    only(&check(&p, Some(&cfg)), "audience", "fic_workload");
}

fn github_credential() -> ResourceChange {
    change(
        "fic_github",
        "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30",
        Action::NoOp,
        json!({"id": format!("{}/federatedIdentityCredentials/github-main", mi_id()), "name": "github-main",
            "properties": {"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:org/x:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}}),
    )
}

#[test]
fn a_credential_that_is_not_for_kubernetes_is_not_this_chains() {
    // GitHub Actions' credential on the same identity, beside the cluster: no issuer, subject
    // (or audience) finding, with `--fail-on identity-chain` that would block CI.
    let mut p = applied();
    p.changes.push(github_credential());
    assert_eq!(check(&p, None), vec![]);
    let mut p = first();
    p.changes.push(github_credential());
    assert_eq!(check(&p, Some(&config(MAIN))), vec![]);
    // A service account subject is checked whatever its issuer ...
    let mut p = applied();
    let mut c = github_credential();
    c.after.as_mut().unwrap().set(
        &"properties.subject".parse().unwrap(),
        Value::string("system:serviceaccount:default:demo-mi"),
    );
    c.before = c.after.clone();
    p.changes.push(c);
    only(&check(&p, None), "issuer", "fic_github");
    // ... and a credential whose issuer is the cluster's is checked whatever its subject.
    let mut p = applied();
    let mut c = github_credential();
    c.after
        .as_mut()
        .unwrap()
        .set(&"properties.issuer".parse().unwrap(), Value::string(ISSUER));
    c.before = c.after.clone();
    p.changes.push(c);
    let f = only(&check(&p, None), "subject", "fic_github");
    assert!(f.message.contains("repo:org/x"), "{}", f.message);
}

/// The chain with KEDA installed by Helm, in namespace `keda`: the operator's credential,
/// ServiceAccount and restart there.
fn in_keda_namespace(mut p: Plan) -> Plan {
    set(
        &mut p,
        "fic_keda",
        "properties.subject",
        json!("system:serviceaccount:keda:keda-operator"),
    );
    set(
        &mut p,
        "keda_operator_identity",
        "metadata.namespace",
        json!("keda"),
    );
    let restart = at(&mut p, "action.restart_keda");
    restart.config =
        Some(serde_json::from_value(json!({"target": "keda/Deployment/keda-operator"})).unwrap());
    p
}

fn main_in_keda_namespace() -> String {
    let text = MAIN
        .replace(
            "subject = \"system:serviceaccount:kube-system:keda-operator\"",
            "subject = \"system:serviceaccount:keda:keda-operator\"",
        )
        .replace(
            "metadata = { name = \"keda-operator\", namespace = \"kube-system\"",
            "metadata = { name = \"keda-operator\", namespace = \"keda\"",
        )
        .replace(
            "target = \"kube-system/Deployment/keda-operator\"",
            "target = \"keda/Deployment/keda-operator\"",
        );
    assert_eq!(text.matches("keda:keda-operator").count(), 1);
    assert_eq!(text.matches("namespace = \"keda\"").count(), 1);
    assert_eq!(text.matches("\"keda/Deployment").count(), 1);
    text
}

#[test]
fn keda_installed_by_helm_in_its_own_namespace_is_the_operator() {
    let cfg = config(&main_in_keda_namespace());
    assert_eq!(check(&in_keda_namespace(applied()), None), vec![]);
    assert_eq!(check(&in_keda_namespace(applied()), Some(&cfg)), vec![]);
    assert_eq!(check(&in_keda_namespace(first()), Some(&cfg)), vec![]);
    // Without the annotated ServiceAccount (a TriggerAuthentication's identityId names the
    // identity): the credential for keda:keda-operator is the operator's, no declaration needed.
    let mut p = in_keda_namespace(applied());
    remove(&mut p, "keda_operator_identity");
    assert_eq!(check(&p, None), vec![]);
    // The operator's identity without a credential for it: the fix names its namespace.
    let mut p = in_keda_namespace(first());
    remove(&mut p, "fic_keda");
    let findings = check(&p, Some(&cfg));
    let f = findings
        .iter()
        .find(|f| f.rule == "credential" && f.address.as_deref() == Some("trigger_auth"))
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("subject = \"system:serviceaccount:keda:keda-operator\""),
        "{f:#?}"
    );
    // A restart of the add-on's operator does not restart Helm's.
    let text = main_in_keda_namespace().replace(
        "target = \"keda/Deployment/keda-operator\"",
        "target = \"kube-system/Deployment/keda-operator\"",
    );
    let mut p = in_keda_namespace(applied());
    at(&mut p, "action.restart_keda").config = Some(
        serde_json::from_value(json!({"target": "kube-system/Deployment/keda-operator"})).unwrap(),
    );
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
            .message
            .contains("no k8s:rollout-restart of keda/Deployment/keda-operator"),
        "{}",
        findings[0].message
    );
}

#[test]
fn data_roles_the_check_cannot_judge_or_that_cover_a_subscription_are_no_finding() {
    // A custom role on the queue: its data actions are not in the plan, so it cannot tell.
    let custom =
        "/providers/Microsoft.Authorization/roleDefinitions/5c1d1f2a-0000-4000-8000-00000000c0de";
    let mut p = applied();
    set(
        &mut p,
        "data_owner",
        "properties.roleDefinitionId",
        json!(custom),
    );
    assert_eq!(check(&p, None), vec![]);
    // ... but one on another queue does not cover it.
    set(
        &mut p,
        "data_owner",
        "properties.scope",
        json!(format!("{}/queues/other", sb_id())),
    );
    only(&check(&p, None), "data-role", "consumer");
    // A built-in role known to grant no data action (Owner) is no data role.
    let mut p = applied();
    set(
        &mut p,
        "data_owner",
        "properties.roleDefinitionId",
        json!(
            "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
        ),
    );
    let f = only(&check(&p, None), "data-role", "consumer");
    assert!(
        f.message.contains("holds no Service Bus data role"),
        "{}",
        f.message
    );

    // A topic trigger's subscription: a role on the subscription covers it, one on another
    // subscription does not.
    let subscription = format!("{}/topics/orders/subscriptions/billing", sb_id());
    let topic_trigger = |p: &mut Plan, scope: &str| {
        set(
            p,
            "consumer",
            "spec.triggers[0].metadata",
            json!({"topicName": "orders", "subscriptionName": "billing", "namespace": "demo-sbns", "messageCount": "10"}),
        );
        set(p, "data_owner", "properties.scope", json!(scope));
    };
    let mut p = applied();
    topic_trigger(&mut p, &subscription);
    assert_eq!(check(&p, None), vec![]);
    let mut p = applied();
    topic_trigger(
        &mut p,
        &format!("{}/topics/orders/subscriptions/audit", sb_id()),
    );
    let f = only(&check(&p, None), "data-role", "consumer");
    assert!(
        f.message.contains("subscription demo-sbns/orders/billing"),
        "{}",
        f.message
    );

    // The namespace as a host name, in each of Azure's clouds.
    for host in [
        "demo-sbns.servicebus.windows.net",
        "demo-sbns.servicebus.chinacloudapi.cn",
        "DEMO-SBNS.servicebus.usgovcloudapi.net",
    ] {
        let mut p = applied();
        set(
            &mut p,
            "consumer",
            "spec.triggers[0].metadata.namespace",
            json!(host),
        );
        assert_eq!(check(&p, None), vec![], "{host}");
    }
}

#[test]
fn a_credential_for_the_operator_in_another_namespace_than_the_plan_runs_it_in() {
    // The plan shows the operator in `keda` (its ServiceAccount and restart), but the
    // credential still trusts the add-on's kube-system:keda-operator: KEDA's token names
    // keda:keda-operator, and Entra ID finds no matching record.
    let mut p = in_keda_namespace(applied());
    set(
        &mut p,
        "fic_keda",
        "properties.subject",
        json!("system:serviceaccount:kube-system:keda-operator"),
    );
    let findings = check(&p, None);
    let f = findings
        .iter()
        .find(|f| f.rule == "credential" && f.address.as_deref() == Some("trigger_auth"))
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(
        f.message
            .contains("trusts system:serviceaccount:keda:keda-operator"),
        "{}",
        f.message
    );
}
