//! Drift — changes made outside plinth — as a reviewer reads it: keys added to or removed from
//! a map the configuration owns (tags) are shown in text and Markdown, not only in JSON; a
//! change to an attribute the configuration does not set is shown apart ("not managed here")
//! and recorded by the apply whose plan showed it; and drift that no rendering showed (what
//! the service changes by itself, such as a provisioning state) is never written into state
//! by an apply, so `plan --refresh-only` keeps reporting it until someone looks.

mod common;

use common::Project;
use common::sim::{Sim, request};

const CONFIG: &str = r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "drift-rg"
location = "eastus"
tags = { env = "dev", team = "platform" }

[resource.mi]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${rg.id}"
name = "drift-mi"
location = "eastus"

[resource.note]
type = "core:data"
input = "one"
"#;

const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drift-rg";

/// Changes a simulated ARM resource behind plinth's back (a JSON merge patch).
fn out_of_band(sim: &Sim, id: &str, patch: &str) {
    let (status, body) = request(
        &sim.url,
        "PATCH",
        &format!("/_sim/resources{id}"),
        &[("content-type", "application/json")],
        patch,
    );
    assert!(status < 300, "{status}: {body}");
}

#[test]
fn added_and_removed_tags_show_and_unshown_drift_is_not_absorbed() {
    let p = Project::with_main(CONFIG);
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    let rg = p.id_of("rg");
    assert!(rg.eq_ignore_ascii_case(RG) || rg.ends_with("/resourceGroups/drift-rg"));

    // Someone adds a tag and removes another (a merge patch's null removes a key).
    out_of_band(&sim, &rg, r#"{"tags": {"owner": "mallory", "team": null}}"#);
    let plan = p.sim_run(&sim, &["plan", "--no-color"]);
    plan.code(0)
        .stdout_has(
            "rg (azure:Microsoft.Resources/resourceGroups@2025-04-01) was changed outside plinth",
        )
        .stdout_has("+ tags.owner = \"mallory\" (added)")
        .stdout_has("- tags.team = \"platform\" (removed)")
        // The removed tag is one the configuration sets: it is put back.
        .stdout_has("~ rg [azure:Microsoft.Resources/resourceGroups@2025-04-01] — undoes a change made outside plinth")
        .stdout_has("+ tags.team = \"platform\"");
    p.sim_run(&sim, &["plan", "--out", "tags.plan"]).code(0);
    let md = p.run(&["show", "tags.plan", "--format", "markdown"]);
    md.code(0)
        .stdout_has("tags.owner")
        .stdout_has("mallory")
        .stdout_has("tags.team");

    // Put the tags back as declared, then change only what the configuration does not set.
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    p.assert_no_changes(&["--sim", &sim.url]);
    let mi = p.id_of("mi");
    out_of_band(
        &sim,
        &mi,
        r#"{"properties": {"note": "set by hand", "provisioningState": "Updating"}}"#,
    );
    // A normal plan shows the note apart, as not managed here, and plans nothing for it;
    // the provisioning state is the service's own: not shown.
    p.sim_run(&sim, &["plan", "--no-color"])
        .code(0)
        .stdout_has("not managed here")
        .stdout_has("properties.note")
        .stdout_lacks("provisioningState")
        .stdout_has("No changes");
    // ... so an apply of an unrelated change records the note (it was shown), not the
    // provisioning state (it was not) ...
    p.edit("main.toml", "input = \"one\"", "input = \"two\"");
    p.sim_run(&sim, &["apply", "--auto-approve"]).code(0);
    let state = p.state();
    let recorded = &state["resources"]["mi"]["attributes"]["properties"];
    assert_eq!(recorded["note"], "set by hand", "{recorded}");
    assert_ne!(
        recorded["provisioningState"], "Updating",
        "absorbed unseen: {recorded}"
    );
    p.sim_run(&sim, &["plan", "--no-color"])
        .code(0)
        .stdout_lacks("not managed here");
    // ... and a refresh-only plan still reports what no plan showed; applying that records it.
    p.sim_run(&sim, &["plan", "--refresh-only", "--no-color"])
        .code(0)
        .stdout_has("mi (azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30) was changed outside plinth")
        .stdout_has("properties.provisioningState");
    p.sim_run(&sim, &["apply", "--refresh-only", "--auto-approve"])
        .code(0);
    assert_eq!(
        p.state()["resources"]["mi"]["attributes"]["properties"]["provisioningState"],
        "Updating"
    );
    p.sim_run(&sim, &["plan", "--refresh-only", "--no-color"])
        .code(0)
        .stdout_has("No changes.");
    sim.stop();
}
