//! plinth's plan JSON of what a reviewer trips over (issue 18), on the hand-built plans of
//! `fixtures/review.rs`: parents and annotations, a rotated secret, one path language,
//! drift undone and drift not managed, cascades in plain words, findings.

use super::{assert_valid, find};
use plinth_render::json::plan_json;
use plinth_value::{Path, PathSeg};
use serde_json::{Value as J, json};

#[path = "../fixtures/review.rs"]
mod plans;

use plans::*;

/// The value at `path` in `doc`, if the path is there (a `null` leaf is there).
fn at<'a>(doc: &'a J, path: &str) -> Option<&'a J> {
    let path: Path = path.parse().expect("a path");
    let mut v = doc;
    for seg in path.segments() {
        v = match seg {
            PathSeg::Key(k) => v.as_object()?.get(k)?,
            PathSeg::Index(i) => v.as_array()?.get(*i)?,
        };
    }
    Some(v)
}

fn all_plans() -> Vec<(&'static str, plinth_plan::Plan)> {
    vec![
        ("role assignment", role_assignment_plan()),
        ("secret rotation", secret_rotation_plan()),
        ("drift", drift_plan()),
        ("cascade", cascade_plan()),
        ("noise", noise_plan()),
        ("destroy", destroy_plan()),
        ("findings", findings_plan()),
    ]
}

#[test]
fn every_review_plan_matches_the_schema_and_every_path_resolves() {
    for (what, plan) in all_plans() {
        for reveal in [false, true] {
            let doc = plan_json(&plan, reveal);
            assert_valid(&doc, what);
            for c in doc["resource_changes"].as_array().unwrap() {
                for key in ["changed_paths", "replace_paths"] {
                    for p in c[key].as_array().unwrap() {
                        let p = p.as_str().unwrap();
                        assert!(
                            at(&c["before"], p).is_some() || at(&c["after"], p).is_some(),
                            "{what}: {key} {p} of {} is in neither before nor after: {c:#}",
                            c["address"]
                        );
                    }
                }
                for a in c
                    .get("annotations")
                    .and_then(J::as_array)
                    .into_iter()
                    .flatten()
                {
                    let p = a["path"].as_str().unwrap();
                    assert!(
                        at(&c["after"], p).is_some(),
                        "{what}: annotation {p}: {c:#}"
                    );
                }
            }
            for d in doc["unmanaged_drift"].as_array().unwrap() {
                for p in d["paths"].as_array().unwrap() {
                    let p = p.as_str().unwrap();
                    assert!(
                        at(&d["before"], p).is_some() || at(&d["after"], p).is_some(),
                        "{what}: unmanaged path {p}: {d:#}"
                    );
                }
            }
            let text = doc.to_string();
            assert!(!text.contains('`'), "{what}: Markdown in JSON: {text}");
        }
    }
}

#[test]
fn a_role_assignment_has_its_parent_and_the_role_name() {
    let doc = plan_json(&role_assignment_plan(), false);
    let ra = find(&doc["resource_changes"], "keda_sb_owner");
    assert_eq!(ra["parent"], json!({"id": sb_id(), "address": "sb"}));
    assert_eq!(
        ra["annotations"],
        json!([{"path": "properties.roleDefinitionId", "note": "Azure Service Bus Data Owner"}])
    );
    assert_eq!(ra["after"]["properties"]["scope"], sb_id());
    // The group's id is written in another case in the namespace's configuration.
    let sb = find(&doc["resource_changes"], "sb");
    assert_eq!(sb["parent"]["address"], "rg");
    assert_eq!(
        sb["bookkeeping_paths"],
        json!([
            "properties.createdAt",
            "properties.updatedAt",
            "properties.provisioningState"
        ])
    );
    // A resource group has no parent to show.
    assert!(find(&doc["resource_changes"], "rg").get("parent").is_none());
}

#[test]
fn a_rotated_secret_is_hidden_on_both_sides_at_the_changed_path() {
    let plan = secret_rotation_plan();
    let doc = plan_json(&plan, false);
    let s = find(&doc["resource_changes"], "sb_secret");
    assert_eq!(s["changed_paths"], json!(["stringData.password"]));
    assert_eq!(s["before"]["stringData"], json!({"password": null}));
    assert_eq!(s["after"]["stringData"], json!({"password": null}));
    assert_eq!(
        s["before_sensitive"],
        json!({"metadata": {}, "stringData": {"password": true}})
    );
    assert_eq!(s["after_sensitive"], s["before_sensitive"]);
    let text = doc.to_string();
    assert!(
        !text.contains(SECRET) && !text.contains(OLD_SECRET),
        "{text}"
    );
    // Asked for, both values are there, and they differ.
    let shown = plan_json(&plan, true);
    let s = find(&shown["resource_changes"], "sb_secret");
    assert_eq!(s["before"]["stringData"]["password"], OLD_SECRET);
    assert_eq!(s["after"]["stringData"]["password"], SECRET);
}

#[test]
fn paths_are_attribute_paths_and_drift_undone_is_said_on_mixed_updates_and_replacements() {
    let doc = plan_json(&drift_plan(), false);
    let sb = find(&doc["resource_changes"], "sb");
    // The plan file's input paths (`body.…`) are given as the attribute paths.
    assert_eq!(
        sb["changed_paths"],
        json!(["properties.disableLocalAuth", "tags.env"])
    );
    assert_eq!(sb["drift"], true);
    assert_eq!(find(&doc["resource_changes"], "aks")["drift"], true);
    // Drift in what the configuration does not set is apart, not in resource_drift.
    let managed: Vec<&J> = doc["resource_drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["address"])
        .collect();
    assert_eq!(managed, [&json!("sb"), &json!("aks")]);
    let unmanaged = &doc["unmanaged_drift"];
    assert_eq!(
        find(unmanaged, "sb")["paths"],
        json!(["properties.minimumTlsVersion"])
    );
    assert_eq!(
        find(unmanaged, "sb")["after"]["properties"]["minimumTlsVersion"],
        "1.0"
    );
    assert_eq!(
        find(unmanaged, "jobs_ns")["paths"],
        json!(["metadata.labels.owner"])
    );
}

#[test]
fn cascades_are_grouped_in_plain_words() {
    let doc = plan_json(&cascade_plan(), false);
    assert_eq!(
        doc["cascades"],
        json!([{
            "cause": "aks",
            "via": "provider-settings",
            "addresses": ["keda_sa", "jobs_ns", "trigger_auth", "scaledjob"],
            "message": "4 Kubernetes objects are replaced because their cluster aks is replaced",
        }])
    );
    let sa = find(&doc["resource_changes"], "keda_sa");
    assert_eq!(
        sa["cascade"],
        json!({"cause": "aks", "via": "provider-settings"})
    );
    assert_eq!(
        sa["reason"],
        "aks, which its provider's settings name, is replaced"
    );
}

#[test]
fn the_services_bookkeeping_is_never_a_changed_path() {
    let doc = plan_json(&noise_plan(), false);
    let worker = find(&doc["resource_changes"], "worker");
    assert_eq!(worker["changed_paths"], json!(["yaml"]));
    assert_eq!(
        worker["bookkeeping_paths"],
        json!(["metadata.resourceVersion"])
    );
}

#[test]
fn findings_are_listed_as_found() {
    let doc = plan_json(&findings_plan(), false);
    let f = doc["findings"].as_array().unwrap();
    assert_eq!(f.len(), 5);
    assert_eq!(
        f[0],
        json!({
            "source": "identity-chain",
            "rule": "audience",
            "severity": "warn",
            "message": "the federated credential's audience is api://AzureADTokenExchange2, so Azure refuses KEDA's token",
            "address": "keda_fic",
            "fix": "set audiences = [\"api://AzureADTokenExchange\"]",
            "location": "main.toml:88:1",
        })
    );
    assert_eq!(f[3]["severity"], "deny");
    assert!(f[3].get("fix").is_none());
    assert!(f[4].get("address").is_none());
    // A plan without findings has an empty list.
    assert_eq!(
        plan_json(&role_assignment_plan(), false)["findings"],
        json!([])
    );
}
