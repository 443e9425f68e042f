//! Crash safety (SPEC §4–§5, issue 8): SIGKILL `plinth apply`/`plinth destroy` at seeded
//! random moments on a configuration that mixes core and Azure types on one shared simulated
//! cloud, and check after every kill that the state loads, and at the end of every phase that
//! a full run converges and the simulator's inventory is exactly what state says — no orphan,
//! no duplicate.
//!
//! Kills land after a random number of `op_started`/`op_finished` events read from the
//! `--json` stream (explicit readiness, never a clock). `PLINTH_CRASH_KILLS` (default 30)
//! sets how many kills; `PLINTH_CRASH_SEED` the seed. The configuration has 192 resources:
//! 22 Azure (a resource group, a Service Bus namespace, and per identity a queue, a role
//! assignment and two federated credentials) on `plinth sim serve --latency demo`, 60
//! `core:sleep` (50–300 ms) and 110 `core:data`, many of them depending on Azure attributes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Instant;

use common::output_text as text;
use common::sim::{Sim, http_get_ok};
use serde_json::Value as Json;

/// Identities, each with a role assignment on the namespace, a queue and two credentials.
const IDENTITIES: usize = 4;
/// `core:data` resources (some reading Azure attributes).
const DATA: usize = 110;
/// `core:sleep` resources (50–300 ms) to widen the windows the kills can land in.
const SLEEPS: usize = 60;

/// xorshift64*: a small seeded generator, so a failing run can be replayed by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn config() -> String {
    let mut t = String::from(
        r#"
[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "crash-rg"
location = "eastus"

[resource.sb]
type = "azure:Microsoft.ServiceBus/namespaces@2024-01-01"
parent = "${rg.id}"
name = "crash-sbns"
location = "eastus"
[resource.sb.body]
sku = { name = "Standard" }
properties.disableLocalAuth = true
"#,
    );
    for i in 0..IDENTITIES {
        t.push_str(&format!(
            r#"
[resource.mi_{i}]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30"
parent = "${{rg.id}}"
name = "crash-mi-{i}"
location = "eastus"

[resource.queue_{i}]
type = "azure:Microsoft.ServiceBus/namespaces/queues@2024-01-01"
parent = "${{sb.id}}"
name = "queue-{i}"

[resource.owner_{i}]
type = "azure:Microsoft.Authorization/roleAssignments@2022-04-01"
parent = "${{sb.id}}"
[resource.owner_{i}.body.properties]
roleDefinitionId = "${{azure.role_definition_id(\"Azure Service Bus Data Owner\")}}"
principalId = "${{mi_{i}.properties.principalId}}"
principalType = "ServicePrincipal"

[resource.fic_{i}_app]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30"
parent = "${{mi_{i}.id}}"
name = "app"
[resource.fic_{i}_app.body.properties]
issuer = "https://oidc.example.com/issuer/"
subject = "system:serviceaccount:default:app-{i}"
audiences = ["api://AzureADTokenExchange"]

[resource.fic_{i}_keda]
type = "azure:Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30"
parent = "${{mi_{i}.id}}"
name = "keda"
[resource.fic_{i}_keda.body.properties]
issuer = "https://oidc.example.com/issuer/"
subject = "system:serviceaccount:kube-system:keda-operator"
audiences = ["api://AzureADTokenExchange"]
"#
        ));
    }
    for i in 0..SLEEPS {
        let ms = 50 + (i * 37) % 251;
        // Chains of three, so dependents wait on sleeps, and every fifth waits on Azure.
        let dep = if i % 3 != 0 {
            format!("depends_on = [\"wait_{}\"]\n", i - 1)
        } else if i % 5 == 0 {
            format!("depends_on = [\"queue_{}\"]\n", i % IDENTITIES)
        } else {
            String::new()
        };
        t.push_str(&format!(
            "\n[resource.wait_{i}]\ntype = \"core:sleep\"\ncreate_duration = \"{ms}ms\"\ndestroy_duration = \"{}ms\"\n{dep}",
            ms / 2 + 25
        ));
    }
    for i in 0..DATA {
        let input = match i % 4 {
            0 => format!("${{mi_{}.properties.clientId}}", i % IDENTITIES),
            1 => format!("${{wait_{}.id}}", i % SLEEPS),
            2 if i > 4 => format!("${{data_{}.output}}-{i}", i - 4),
            _ => format!("value-{i}"),
        };
        t.push_str(&format!(
            "\n[resource.data_{i}]\ntype = \"core:data\"\ninput = \"{input}\"\n"
        ));
    }
    t
}

fn azure_addresses() -> Vec<String> {
    let mut v = vec!["rg".to_string(), "sb".to_string()];
    for i in 0..IDENTITIES {
        for a in ["mi", "queue", "owner"] {
            v.push(format!("{a}_{i}"));
        }
        v.push(format!("fic_{i}_app"));
        v.push(format!("fic_{i}_keda"));
    }
    v
}

/// Kills the process with SIGKILL on drop (a plinth run, if a check panics).
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The simulator's ARM inventory: lower-cased ids, with a count to catch duplicates.
fn inventory(url: &str) -> BTreeMap<String, usize> {
    let doc: Json =
        serde_json::from_str(&http_get_ok(url, "/_sim/resources")).expect("inventory JSON");
    let mut out = BTreeMap::new();
    for r in doc["resources"].as_array().expect("resources") {
        let id = r["id"].as_str().expect("id").to_ascii_lowercase();
        *out.entry(id).or_insert(0) += 1;
    }
    out
}

struct Ctx {
    dir: PathBuf,
    url: String,
}

impl Ctx {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::plinth_command(&self.dir);
        c.args(args).env("PLINTH_SIM", &self.url);
        c
    }

    /// Runs to completion; panics on a panic message or a signal.
    fn run(&self, args: &[&str]) -> Output {
        let mut full: Vec<&str> = args.to_vec();
        let dir = self.dir.to_str().expect("utf-8 dir");
        if args[0] == "state" {
            full.extend(["--dir", dir]);
        } else {
            full.push(dir);
        }
        let out = self.cmd(&full).output().expect("run plinth");
        let text = text(&out);
        assert!(!has_panic(&text), "plinth {full:?} panicked:\n{text}");
        assert!(out.status.code().is_some(), "plinth {full:?} was killed");
        out
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "plinth {args:?} failed ({}):\n{}",
            out.status,
            text(&out)
        );
        out
    }

    /// Azure ids recorded in state (journal included, through `plinth state show`),
    /// lower-cased, for the Azure addresses present in `plinth state list`.
    fn state_azure_ids(&self) -> BTreeMap<String, String> {
        let listed = self.ok(&["state", "list"]);
        let listed: BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            // A pending record is listed as `ADDR (pending_create)`.
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect();
        let mut out = BTreeMap::new();
        for a in azure_addresses() {
            if !listed.contains(&a) {
                continue;
            }
            let shown = self.ok(&["state", "show", &a, "--json"]);
            let doc: Json = serde_json::from_slice(&shown.stdout).unwrap_or_else(|e| {
                panic!("state show {a} --json is not JSON ({e}):\n{}", text(&shown))
            });
            let id = doc["id"]
                .as_str()
                .or_else(|| doc["record"]["id"].as_str())
                .unwrap_or_else(|| panic!("{a} has no id in state: {doc:#}"));
            out.insert(id.to_ascii_lowercase(), a);
        }
        out
    }

    /// After a kill: the state loads (`state list`), and `state.json` parses if present.
    fn check_loads(&self) {
        self.ok(&["state", "list"]);
        let snapshot = self.dir.join(".plinth/state.json");
        if snapshot.exists() {
            let text = std::fs::read_to_string(&snapshot).expect("read state.json");
            let doc: Json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("state.json does not parse ({e}):\n{text}"));
            assert_eq!(doc["format"], "plinth-state/1", "{text}");
        }
    }

    /// Pending records the next plan settles (the plan's drift marked `reconciled`): all of
    /// them, and the Azure ones.
    fn reconciled_by_plan(&self, destroy: bool) -> (usize, usize) {
        let mut args = vec!["plan", "--json", "--no-color"];
        if destroy {
            args.push("--destroy");
        }
        let out = self.ok(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let plan = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Json>(l).ok())
            .find(|e| e["type"] == "plan")
            .unwrap_or_else(|| panic!("no plan document:\n{}", text(&out)));
        let drift = plan["plan"]["resource_drift"]
            .as_array()
            .unwrap_or_else(|| panic!("no resource_drift in the plan: {plan:#}"));
        let settled: Vec<&Json> = drift.iter().filter(|d| d["reconciled"] == true).collect();
        let azure = settled.iter().filter(|d| d["provider"] == "azure").count();
        (settled.len(), azure)
    }

    /// Starts `plinth apply|destroy --auto-approve --json` and SIGKILLs it after `events`
    /// operation events, or (`None`) at its completion event, around the compaction.
    /// Returns whether it was killed (false: it finished first).
    fn kill_after(&self, verb: &str, events: Option<u64>) -> bool {
        let dir = self.dir.to_str().expect("utf-8 dir");
        let mut child = self
            .cmd(&[verb, "--auto-approve", "--json", "--no-color", dir])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn plinth");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let pid = child.id();
        let mut guard = Guard(Some(child));
        let mut seen = 0;
        let mut log = String::new();
        let mut killed = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read events");
            log.push_str(&line);
            log.push('\n');
            let Ok(ev) = serde_json::from_str::<Json>(&line) else {
                continue;
            };
            let kind = ev["type"].as_str().unwrap_or_default();
            if matches!(kind, "op_started" | "op_finished") {
                seen += 1;
            }
            let now = match events {
                Some(n) => matches!(kind, "op_started" | "op_finished") && seen == n,
                None => kind.ends_with("_complete"),
            };
            if now {
                let status = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .expect("kill");
                assert!(status.success());
                killed = true;
                break;
            }
        }
        let mut child = guard.0.take().expect("child");
        let status = child.wait().expect("wait");
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err);
        let all = format!("{log}\n{err}");
        assert!(!has_panic(&all), "plinth {verb} panicked:\n{all}");
        if !killed {
            assert!(
                status.success(),
                "plinth {verb} failed before the kill ({status}):\n{all}"
            );
        }
        killed
    }

    /// A full run converges; a plan afterwards is empty; the inventory is exactly the state.
    fn converge(&self, verb: &str) {
        let destroy = verb == "destroy";
        self.ok(&[verb, "--auto-approve", "--no-color"]);
        let plan = self.run(&["plan", "--detailed-exitcode", "--no-color"]);
        if destroy {
            assert_eq!(
                plan.status.code(),
                Some(2),
                "after destroy a plan creates everything:\n{}",
                text(&plan)
            );
            let left = self.ok(&["state", "list"]);
            assert!(
                String::from_utf8_lossy(&left.stdout).trim().is_empty(),
                "state after destroy:\n{}",
                text(&left)
            );
        } else {
            assert_eq!(
                plan.status.code(),
                Some(0),
                "plan after a converging apply:\n{}",
                text(&plan)
            );
        }
        self.assert_inventory_matches_state();
    }

    /// Right after a kill: no object in the simulator that state does not know about (as
    /// created or as pending), and no duplicate.
    fn assert_inventory_within_state(&self) {
        let inv = inventory(&self.url);
        let dups: Vec<_> = inv.iter().filter(|(_, n)| **n > 1).collect();
        assert!(dups.is_empty(), "duplicates in the simulator: {dups:?}");
        let state = self.state_azure_ids();
        let orphans: Vec<_> = inv.keys().filter(|id| !state.contains_key(*id)).collect();
        assert!(
            orphans.is_empty(),
            "orphans after a kill (in the simulator, not in state): {orphans:#?}"
        );
    }

    fn assert_inventory_matches_state(&self) {
        let inv = inventory(&self.url);
        let dups: Vec<_> = inv.iter().filter(|(_, n)| **n > 1).collect();
        assert!(dups.is_empty(), "duplicates in the simulator: {dups:?}");
        let state = self.state_azure_ids();
        let inv: BTreeSet<&String> = inv.keys().collect();
        let st: BTreeSet<&String> = state.keys().collect();
        let orphans: Vec<_> = inv.difference(&st).collect();
        let missing: Vec<_> = st.difference(&inv).collect();
        assert!(
            orphans.is_empty() && missing.is_empty(),
            "inventory != state\norphans (in the simulator, not in state): {orphans:#?}\nmissing (in state, not in the simulator): {missing:#?}"
        );
    }
}

fn has_panic(s: &str) -> bool {
    s.contains("panicked") || s.contains("RUST_BACKTRACE")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn sigkill_during_apply_and_destroy_loses_nothing_and_leaves_no_orphan() {
    let started = Instant::now();
    let kills = env_u64("PLINTH_CRASH_KILLS", 30);
    let seed = env_u64("PLINTH_CRASH_SEED", 0x5eed_c0de_2026);
    let mut rng = Rng(seed | 1);
    // Kills per phase; the phases alternate apply, destroy, apply, destroy, ...
    let per_phase = 5;

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("infra");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("main.toml"), config()).unwrap();
    // SIGKILLed when dropped, at the end of the test or when a check panics.
    let sim = Sim::start_args(&tmp.path().join("world.json"), &["--latency", "demo"]);
    let ctx = Ctx {
        dir,
        url: sim.url.clone(),
    };

    let mut hits: BTreeMap<&str, (u64, u64)> = BTreeMap::new(); // verb -> (killed, finished first)
    let mut reconciled = 0;
    let mut reconciled_azure = 0;
    let mut at_end = 0;
    let mut uncompacted = 0;
    let mut done = 0;
    let mut phase = 0;
    while done < kills {
        let verb = if phase % 2 == 0 { "apply" } else { "destroy" };
        let n = per_phase.min(kills - done);
        for k in 0..n {
            // Early in a run most operations are in flight; spread the kills over the first
            // ~60 events (the first Azure creates/deletes and the sleeps). The last kill of a
            // phase lands at the end of a run instead (its completion event, around the
            // compaction of the journal into the snapshot).
            let events = (k + 1 < n).then(|| rng.range(1, 60));
            let killed = ctx.kill_after(verb, events);
            if events.is_none() && killed {
                at_end += 1;
                // A journal left behind: the kill beat (or interrupted) the compaction.
                let journal = ctx.dir.join(".plinth/state.journal");
                if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
                    uncompacted += 1;
                }
            }
            let e = hits.entry(verb).or_default();
            if killed {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
            ctx.check_loads();
            // Whatever exists in the cloud is known to state (created or pending).
            ctx.assert_inventory_within_state();
            // The pending records this kill left, as the next plan settles them.
            let (all, azure) = ctx.reconciled_by_plan(verb == "destroy");
            reconciled += all;
            reconciled_azure += azure;
            done += 1;
        }
        ctx.converge(verb);
        phase += 1;
    }
    assert!(
        kills < 10 || reconciled > 0,
        "no kill left a pending record: the kills did not land mid-operation"
    );
    // Always end clean: a full destroy leaves the simulator empty.
    if phase % 2 == 1 {
        ctx.converge("destroy");
    }
    assert!(
        inventory(&ctx.url).is_empty(),
        "simulator not empty after destroy"
    );
    eprintln!(
        "crash: seed {seed:#x}, {kills} kill attempts over {phase} phases: apply killed {} (finished first {}), destroy killed {} (finished first {}), {at_end} of them at a run's end ({uncompacted} left a journal to replay); {reconciled} pending record(s) reconciled ({reconciled_azure} Azure); {:.1}s",
        hits.get("apply").map_or(0, |h| h.0),
        hits.get("apply").map_or(0, |h| h.1),
        hits.get("destroy").map_or(0, |h| h.0),
        hits.get("destroy").map_or(0, |h| h.1),
        started.elapsed().as_secs_f64()
    );
}
