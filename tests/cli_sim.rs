//! `plinth sim serve` (SPEC §7): prints its URL (explicit readiness), serves ARM behind the
//! Entra token endpoint, and keeps its world in `--world FILE` across restarts.

mod common;

use std::process::Command;

use common::sim::{Sim, http, request};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUB: &str = "00000000-0000-0000-0000-000000000001";

fn token(url: &str) -> String {
    let (status, body) = request(
        url,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        "grant_type=client_credentials&client_id=app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
    );
    assert_eq!(status, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).expect("token json");
    doc["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

#[test]
fn sim_serve_prints_its_url_serves_arm_and_keeps_its_world() {
    let tmp = tempfile::tempdir().unwrap();
    let world = tmp.path().join("world.json");
    let rg = format!("/subscriptions/{SUB}/resourceGroups/demo-rg?api-version=2025-04-01");

    let sim = Sim::start(&world);
    let url = sim.url.clone();
    let (status, _) = http(&url, "GET", "/_sim/health");
    assert_eq!(status, 200);
    // ARM wants a token from the simulated Entra endpoint.
    let (status, body) = request(
        &url,
        "PUT",
        &rg,
        &[("content-type", "application/json")],
        r#"{"location":"eastus"}"#,
    );
    assert_eq!(status, 401, "{body}");
    let bearer = format!("Bearer {}", token(&url));
    let auth = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let (status, body) = request(&url, "PUT", &rg, &auth, r#"{"location":"eastus"}"#);
    assert_eq!(status, 201, "{body}");
    sim.stop();
    let saved = std::fs::read_to_string(&world).expect("world saved");
    assert!(saved.contains("demo-rg"), "{saved}");

    // A restarted simulator has the same world.
    let sim = Sim::start(&world);
    let url = sim.url.clone();
    let bearer = format!("Bearer {}", token(&url));
    let (status, body) = request(&url, "GET", &rg, &[("authorization", bearer.as_str())], "");
    assert_eq!(status, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["name"], "demo-rg");
    assert_eq!(doc["properties"]["provisioningState"], "Succeeded");
    sim.stop();
}

#[test]
fn sim_serve_rejects_bad_flags() {
    for args in [
        vec!["--faults", "2"],
        vec!["--latency", "slow"],
        vec!["--addr", "nowhere"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
            .args(["sim", "serve"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("invalid value"), "{args:?}: {err}");
    }
}

const CORE_ONLY: &str = "[resource.a]\ntype = \"core:data\"\ninput = \"x\"\n";

#[test]
fn bare_sim_starts_one_in_process_with_its_world_under_the_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("main.toml"), CORE_ONLY).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["plan", "--sim", "--no-color"])
        .arg(tmp.path())
        .env("PLINTH_SIM_LATENCY", "instant")
        .env_remove("PLINTH_SIM")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("Using the simulated cloud at https://127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("started in-process"), "{err}");
    let world = tmp.path().join(".plinth/sim-world.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&world).expect("world file"))
            .expect("world json");
    assert!(
        doc.get("arm").is_some() && doc.get("clusters").is_some(),
        "{doc}"
    );
}

#[test]
fn sim_url_points_at_a_running_simulator_and_a_dead_one_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("main.toml"), CORE_ONLY).unwrap();
    let sim = Sim::start(&tmp.path().join("world.json"));
    let url = sim.url.clone();
    // PLINTH_SIM names it, as `--sim URL` would.
    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["plan", "--no-color", "--json"])
        .arg(tmp.path())
        .env("PLINTH_SIM", &url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let announced = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["type"] == "sim")
        .expect("a sim event");
    assert_eq!(announced["url"], url.as_str());
    // The simulator saw plinth check on it.
    let (status, body) = http(&url, "GET", "/_sim/requests");
    assert_eq!(status, 200);
    assert!(body.contains("/_sim/health"), "{body}");
    sim.stop();

    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["plan", "--no-color", "--sim", &url])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("no simulated cloud answers at {url}")),
        "{err}"
    );
    assert!(err.contains("plinth sim serve"), "{err}");
}
