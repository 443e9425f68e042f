//! The text rendering of what a reviewer trips over (issue 18), on hand-built plans
//! (`fixtures/review.rs`): snapshots, and what must hold whatever the snapshot says.

#[path = "fixtures/review.rs"]
mod review;

use plinth_render::{TextOptions, plan_text};
use review::*;

fn text(plan: &plinth_plan::Plan) -> String {
    plan_text(plan, &TextOptions::default())
}

#[test]
fn a_role_assignment_shows_its_scope_and_role_name() {
    let out = text(&role_assignment_plan());
    // The scope is the parent: its address and id, and the value is known.
    assert!(
        out.contains(&format!("      # parent: sb ({})\n", sb_id())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "      + properties.roleDefinitionId = \"{OWNER_ROLE}\"  # Azure Service Bus Data Owner\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("+ properties.scope = \"{}\"", sb_id())),
        "{out}"
    );
    // A parent written in another case is still found.
    assert!(
        out.contains(&format!(
            "      # parent: rg ({})\n",
            rg_id().to_lowercase()
        )),
        "{out}"
    );
    // The namespace's bookkeeping is left out, and counted.
    assert!(
        out.contains("      (+ 3 attributes the service fills in)\n"),
        "{out}"
    );
    assert!(!out.contains("createdAt"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn a_rotated_secret_is_an_update_of_two_hidden_values() {
    let out = text(&secret_rotation_plan());
    assert!(
        out.contains("      ~ stringData.password = (sensitive) -> (sensitive)\n"),
        "{out}"
    );
    assert!(!out.contains(SECRET) && !out.contains(OLD_SECRET), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn drift_undone_by_a_mixed_update_and_a_replacement_is_said_and_unmanaged_drift_is_apart() {
    let out = text(&drift_plan());
    assert!(
        out.contains("  ~ sb [azure:Microsoft.ServiceBus/namespaces@2024-01-01] — undoes a change made outside plinth\n"),
        "{out}"
    );
    assert!(
        out.contains("  -/+ aks [azure:Microsoft.ContainerService/managedClusters@2024-09-01] — undoes a change made outside plinth\n"),
        "{out}"
    );
    // One path language: the attribute path, also for a plan written with input paths.
    assert!(
        out.contains("      ~ properties.disableLocalAuth = false -> true\n"),
        "{out}"
    );
    assert!(!out.contains("body."), "{out}");
    // Drift the configuration does not set: its own section, not planned back.
    let apart = out
        .split("Changed outside plinth, not managed here (informational):\n")
        .nth(1)
        .expect("the unmanaged drift section");
    assert!(
        apart.contains("      ~ properties.minimumTlsVersion = \"1.2\" -> \"1.0\"\n"),
        "{out}"
    );
    assert!(
        apart.contains("      ~ metadata.labels.owner = (none) -> \"someone\"\n"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn cascading_replacements_are_grouped_by_cause_and_the_summary_warns() {
    let out = text(&cascade_plan());
    let sentence = "4 Kubernetes objects are replaced because their cluster aks is replaced";
    assert_eq!(
        out.matches(sentence).count(),
        2,
        "once in the list, once in the caution: {out}"
    );
    assert!(!out.contains('`'), "no raw backticks: {out}");
    assert!(!out.contains("which its provider's settings name"), "{out}");
    let caution = out
        .split("Caution: ")
        .nth(1)
        .expect("a caution before the summary");
    assert!(
        caution.starts_with("this plan destroys 7 objects (2 deleted, 5 replaced: a replacement destroys the old object)."),
        "{caution}"
    );
    // The biggest blast radius first: the cluster, what goes with it, the group, the rest.
    let order: Vec<usize> = [
        "replace aks",
        sentence,
        "destroy old_rg",
        "destroy old_queue",
    ]
    .iter()
    .map(|s| {
        caution
            .find(s)
            .unwrap_or_else(|| panic!("{s} in {caution}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{caution}");
    assert!(
        out.ends_with("Plan: 0 to add, 0 to change, 5 to replace, 2 to destroy.\n"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn creates_hide_bookkeeping_documents_are_diffed_and_long_ids_are_whole() {
    let out = text(&noise_plan());
    assert!(
        out.contains("      (+ 5 attributes the service fills in)\n"),
        "{out}"
    );
    assert!(!out.contains("resourceVersion"), "{out}");
    assert!(!out.contains("(known after apply)"), "{out}");
    // The changed manifest is a diff of its lines, the policy a diff of its JSON.
    assert!(
        out.contains("          -   replicas: 1\n          +   replicas: 2\n"),
        "{out}"
    );
    assert!(
        out.contains(concat!(
            "                    \"servicebus:Send\",\n",
            "          -         \"servicebus:Receive\"\n",
            "          +         \"servicebus:Listen\"\n",
        )),
        "{out}"
    );
    assert!(!out.contains("\\\""), "no escaped JSON: {out}");
    // A created document is a block.
    assert!(
        out.contains("      + data[\"config.yaml\"] = <<EOT\n          queue: jobs\n"),
        "{out}"
    );
    // Never clipped.
    assert!(out.contains("keda-operator-federated-credential"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn a_destroy_plan_never_says_drift_is_kept() {
    let out = text(&destroy_plan());
    assert!(!out.contains("kept"), "{out}");
    assert!(!out.contains("undoes"), "{out}");
    assert!(
        out.contains("Caution: this plan destroys 3 objects (3 deleted)."),
        "{out}"
    );
    // The cluster first, then the group, then the rest.
    let caution = out.split("Caution: ").nth(1).unwrap();
    let (aks, rg, sb) = (
        caution.find("destroy aks").unwrap(),
        caution.find("destroy rg").unwrap(),
        caution.find("destroy sb").unwrap(),
    );
    assert!(aks < rg && rg < sb, "{caution}");
    insta::assert_snapshot!(out);
}

#[test]
fn findings_follow_per_address_denials_first_with_location_and_fix() {
    let out = text(&findings_plan());
    let findings = out.split("Findings: ").nth(1).expect("a findings block");
    assert!(findings.starts_with("2 denied, 3 warnings\n"), "{findings}");
    // In plan order: sb before keda_sb_owner; addresses not in the plan after; the plan last.
    let at = |s: &str| {
        findings
            .find(s)
            .unwrap_or_else(|| panic!("{s} in {findings}"))
    };
    assert!(at("  sb\n") < at("  keda_sb_owner\n"), "{findings}");
    assert!(at("  keda_sb_owner\n") < at("  keda_fic\n"), "{findings}");
    assert!(
        at("  keda_fic\n") < at("  the plan as a whole\n"),
        "{findings}"
    );
    // Denials before warnings within an address.
    assert!(
        at("Denied: local (SAS key)") < at("Warning: the namespace allows TLS 1.0"),
        "{findings}"
    );
    assert!(findings.contains("      at main.toml:61:1\n"), "{findings}");
    assert!(
        findings.contains("      fix: set audiences = [\"api://AzureADTokenExchange\"]\n"),
        "{findings}"
    );
    insta::assert_snapshot!(out);
}
