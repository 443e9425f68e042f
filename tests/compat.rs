//! Files written by the previous release stay readable: a state snapshot with an uncompacted
//! journal (an apply killed mid-run, a pending create among its records) and a saved plan, in
//! `tests/fixtures/previous-release/` (see its README). This version lists, shows and plans
//! from them, settles the interrupted create, keeps sensitive values hidden, and writes state
//! back in the same format.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::Project;

const SECRET: &str = "old-format-secret";

fn previous_release() -> Project {
    let p = Project::new();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/previous-release");
    std::fs::create_dir_all(p.path(".plinth")).unwrap();
    std::fs::copy(from.join("main.toml"), p.path("main.toml")).unwrap();
    std::fs::copy(from.join("old.plan"), p.path("old.plan")).unwrap();
    for f in ["state.json", "state.journal"] {
        std::fs::copy(from.join(f), p.path(&format!(".plinth/{f}"))).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p.path(".plinth"), std::fs::Permissions::from_mode(0o700)).unwrap();
    for f in [".plinth/state.json", ".plinth/state.journal", "old.plan"] {
        std::fs::set_permissions(p.path(f), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn state_and_plans_of_the_previous_release_load_unchanged() {
    let p = previous_release();
    let old: serde_json::Value =
        serde_json::from_str(&p.read(".plinth/state.json")).expect("old snapshot");

    // The journal's records are replayed: the killed apply's updates and its pending create.
    let list = p.ok(&["state", "list"]);
    assert_eq!(
        list.stdout.lines().collect::<Vec<_>>(),
        [
            "app[\"blue\"]",
            "app[\"green\"]",
            "base",
            "nap",
            "secret",
            "slow (pending_create)"
        ],
        "{list:?}"
    );
    let secret = p.ok(&["state", "show", "secret"]);
    secret.stdout_has("(sensitive)").stdout_lacks(SECRET);
    p.ok(&["output", "--json"]).stdout_lacks(SECRET);

    // The saved plan renders in every format.
    for format in ["text", "json", "markdown", "terraform-json"] {
        p.ok(&["show", "old.plan", "--format", format, "--no-color"])
            .stdout_lacks(SECRET);
    }
    p.ok(&["show", "old.plan", "--no-color"])
        .stdout_has("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy.");

    // A plan settles the interrupted create and finds everything else as recorded.
    let plan = p.ok(&["plan", "--no-color"]);
    plan.stdout_has("slow never completed")
        .stdout_has("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.")
        .stdout_lacks(SECRET);
    p.ok(&["apply", "--auto-approve"]);
    p.assert_no_changes(&[]);

    // What this version writes has the same shape as what the previous one wrote.
    let new = p.state();
    assert_eq!(new["format"], old["format"]);
    assert_eq!(new["lineage"], old["lineage"]);
    assert_eq!(keys(&new), keys(&old));
    for (address, r) in old["resources"].as_object().unwrap() {
        let now = &new["resources"][address];
        assert_eq!(keys(now), keys(r), "{address}");
        assert_eq!(now["sensitive_paths"], r["sensitive_paths"], "{address}");
    }
    assert_eq!(new["outputs"]["password"]["sensitive"], true);
}
