//! Environments end to end: `examples/environments` applied as dev and prod side by side on
//! ONE simulated cloud (`plinth sim serve`) keep their objects and state apart; a plan in one
//! after applying the other is empty; a saved plan of dev is refused in prod; an invalid name
//! is refused before anything is touched; state made without `--env` is the default
//! environment's; and with an azure-blob backend (Azurite) each environment's state is the
//! blob `KEYenv:NAME`.

mod common;

use std::path::Path;

use common::Project;
use common::sim::Sim;
use plinth_state::Backend;
use plinth_state::azure::azurite::Azurite;
use serde_json::Value as Json;

fn example() -> Project {
    Project::copy_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/environments"))
}

/// `plinth ARGS --env ENV --var-file env/ENV.toml --sim URL`.
#[track_caller]
fn in_env(p: &Project, sim: &Sim, env: &str, args: &[&str]) -> common::Run {
    let var_file = format!("env/{env}.toml");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--env", env, "--var-file", &var_file, "--sim", &sim.url]);
    p.run(&all)
}

fn json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn dev_and_prod_on_one_simulated_cloud_keep_their_objects_and_state_apart() {
    let p = example();
    let sim = Sim::start(&p.dir.parent().unwrap().join("world.json"));

    in_env(&p, &sim, "dev", &["apply", "--auto-approve"]).code(0);
    // PLINTH_ENV selects the environment as --env does.
    let mut prod = p.command();
    prod.args([
        "apply",
        "--auto-approve",
        "--var-file",
        "env/prod.toml",
        "--sim",
        &sim.url,
    ])
    .env("PLINTH_ENV", "prod");
    let out = prod.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Both environments' objects exist in the one subscription, under their own names.
    let inventory = sim.inventory().join("\n");
    for name in [
        "shop-dev-rg",
        "shop-dev-sbns",
        "shop-prod-rg",
        "shop-prod-sbns",
    ] {
        assert!(
            inventory.contains(name),
            "{name} missing from:\n{inventory}"
        );
    }
    // Each state is in its own directory and holds its own objects only.
    assert!(p.path(".plinth/env/dev/state.json").is_file());
    assert!(p.path(".plinth/env/prod/state.json").is_file());
    assert!(!p.path(".plinth/state.json").exists(), "no default state");
    for (env, own, other) in [
        ("dev", "shop-dev-sbns", "shop-prod"),
        ("prod", "shop-prod-sbns", "shop-dev"),
    ] {
        let list = p.ok(&["state", "list", "--env", env]);
        assert_eq!(
            list.stdout.lines().collect::<Vec<_>>(),
            ["orders", "rg", "sb"],
            "{env}"
        );
        let sb = p
            .ok(&["state", "show", "sb", "--json", "--env", env])
            .stdout;
        assert!(sb.contains(own) && !sb.contains(other), "{env}: {sb}");
    }
    // The default environment has no state.
    assert_eq!(p.ok(&["state", "list"]).stdout, "");

    // Outputs are the environment's: its name and its size.
    let dev = json(&p.ok(&["output", "--json", "--env", "dev"]).stdout);
    let prod = json(&p.ok(&["output", "--json", "--env", "prod"]).stdout);
    assert_eq!(
        (
            &dev["environment"]["value"],
            &dev["servicebus_sku"]["value"]
        ),
        (&"dev".into(), &"Standard".into()),
        "{dev}"
    );
    assert_eq!(
        (
            &prod["environment"]["value"],
            &prod["servicebus_sku"]["value"]
        ),
        (&"prod".into(), &"Premium".into()),
        "{prod}"
    );

    // A plan in either, after applying the other, is empty.
    for env in ["dev", "prod"] {
        in_env(&p, &sim, env, &["plan", "--detailed-exitcode"]).code(0);
    }

    // env list names both, the selected one marked.
    assert_eq!(p.ok(&["env", "list"]).stdout, "* default\n  dev\n  prod\n");
    let listed = json(&p.ok(&["env", "list", "--json", "--env", "prod"]).stdout);
    assert_eq!(
        listed,
        serde_json::json!({"current": "prod", "environments": ["default", "dev", "prod"]})
    );

    // Destroying dev leaves prod alone.
    in_env(&p, &sim, "dev", &["destroy", "--auto-approve"]).code(0);
    let inventory = sim.inventory().join("\n");
    assert!(!inventory.contains("shop-dev"), "{inventory}");
    assert!(inventory.contains("shop-prod-sbns"), "{inventory}");
    in_env(&p, &sim, "prod", &["plan", "--detailed-exitcode"]).code(0);
    sim.stop();
}

const DATA: &str = r#"
[resource.a]
type = "core:data"
input = "${env.PLINTH_ENV}-a"

[output.env]
value = "${env.PLINTH_ENV}"
"#;

#[test]
fn a_saved_plan_is_applied_only_in_the_environment_it_was_made_for() {
    let p = Project::with_main(DATA);
    p.ok(&["plan", "--env", "dev", "--out", "dev.plan"]);
    let doc = json(&p.read("dev.plan"));
    assert_eq!(doc["environment"], "dev");

    let err = p.fails(&["apply", "dev.plan", "--env", "prod"]).stderr;
    assert!(
        err.contains("was made for environment `dev`, but this run is for environment `prod`"),
        "{err}"
    );
    assert!(err.contains("--env dev (or PLINTH_ENV=dev)"), "{err}");
    assert!(err.contains("plinth plan --env prod --out FILE"), "{err}");
    let err = p.fails(&["apply", "dev.plan"]).stderr;
    assert!(
        err.contains("but this run is for environment `default`"),
        "{err}"
    );
    assert!(!p.path(".plinth/env/prod").exists(), "nothing was touched");
    assert!(
        !p.path(".plinth/state.json").exists(),
        "nothing was touched"
    );

    p.ok(&["apply", "dev.plan", "--env", "dev"]);
    assert_eq!(
        p.ok(&["output", "env", "--env", "dev"]).stdout.trim(),
        "dev"
    );

    // A plan of the default environment is the plan file it always was, and is refused in dev.
    p.ok(&["plan", "--out", "default.plan"]);
    assert!(json(&p.read("default.plan")).get("environment").is_none());
    let err = p.fails(&["apply", "default.plan", "--env", "dev"]).stderr;
    assert!(err.contains("made for environment `default`"), "{err}");
    assert!(
        err.contains("without --env (and with PLINTH_ENV unset)"),
        "{err}"
    );
}

#[test]
fn an_invalid_environment_name_is_refused_before_anything_is_touched() {
    let p = Project::with_main(DATA);
    let err = p
        .fails(&["apply", "--auto-approve", "--env", "../prod"])
        .stderr;
    assert!(
        err.contains("--env: `../prod` is not a valid environment name: it contains `.`"),
        "{err}"
    );
    assert!(err.contains("letters, digits, `-` and `_`"), "{err}");
    let err = p.run_env(&["state", "list"], &[("PLINTH_ENV", "a b")]);
    err.code(1);
    assert!(err.stderr.contains("it contains a space"), "{}", err.stderr);
    let err = p.fails(&["force-unlock", "some-id", "--env=-x"]).stderr;
    assert!(err.contains("must start with a letter or a digit"), "{err}");
    assert!(
        !p.path(".plinth").exists(),
        "no state directory was created"
    );
}

#[test]
fn state_made_before_environments_is_the_default_environment() {
    let p = Project::with_main(DATA);
    p.ok(&["apply", "--auto-approve"]);
    assert!(p.path(".plinth/state.json").is_file());
    assert_eq!(p.ok(&["output", "env"]).stdout.trim(), "default");
    // `--env default` is the same state: nothing to do.
    p.run(&["plan", "--detailed-exitcode", "--env", "default"])
        .code(0);
    assert_eq!(p.ok(&["env", "list"]).stdout, "* default\n");
    // A new environment starts empty beside it.
    p.plan_changes(&["--env", "staging"])
        .stdout_has("staging-a");
    assert_eq!(
        p.ok(&["env", "list", "--env", "staging"]).stdout,
        "  default\n* staging\n"
    );
}

#[test]
fn each_environment_is_its_own_blob_in_the_azure_blob_backend() {
    const KEY: &str = "team/app.plinth.json";
    let container = "cli-environments";
    let default = Azurite::shared().backend(container, KEY);
    let p = Project::with_main(DATA);
    p.write(
        "backend.toml",
        &format!(
            "[backend]\ntype = \"azure-blob\"\ncontainer = \"{container}\"\nkey = \"{KEY}\"\n"
        ),
    );
    let conn = Azurite::shared().connection_string();
    let env = [("AZURE_STORAGE_CONNECTION_STRING", conn.as_str())];
    for name in ["dev", "prod"] {
        p.run_env(&["apply", "--auto-approve", "--env", name], &env)
            .code(0);
    }
    assert!(
        default.load().unwrap().state.is_none(),
        "the default key holds no state"
    );
    for name in ["dev", "prod"] {
        let blob = Azurite::shared().backend(container, &format!("{KEY}env:{name}"));
        let state = blob.load().unwrap().state.expect("the environment's blob");
        let a = &state.resources["a"];
        assert_eq!(a.inputs["input"], format!("{name}-a"), "{name}");
        let out = p.run_env(&["output", "env", "--env", name], &env);
        out.code(0);
        assert_eq!(out.stdout.trim(), name);
    }
    assert!(!p.path(".plinth/env").exists(), "no local state");
    let listed = p.run_env(&["env", "list"], &env);
    listed.code(1);
    assert!(
        listed.stderr.contains(&format!("{KEY}env:NAME")),
        "{}",
        listed.stderr
    );
}
