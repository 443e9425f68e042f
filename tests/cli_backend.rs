//! The azure-blob backend from the command line, against Azurite (started by the test process
//! from tools/azurite; one per test binary, a container per test): apply/plan/destroy, lock
//! contention between two `plinth apply` processes (local and azure-blob), `state pull` /
//! `state push`, and migrating local state to azure-blob. Readiness comes from the `--json`
//! event stream, never from sleeping.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::background::Background;
use plinth_state::azure::azurite::Azurite;
use plinth_state::{AzureBlobBackend, Backend, State};

const KEY: &str = "team/prod.plinth.json";

struct Project {
    dir: tempfile::TempDir,
    /// The container, when the backend is azure-blob.
    container: Option<String>,
}

impl Project {
    /// A configuration `main` whose state lives in container `container` of Azurite.
    fn azure(container: &str, main: &str) -> Project {
        Azurite::shared().backend(container, KEY);
        let p = Project::local(main);
        p.write(
            "backend.toml",
            &format!(
                "[backend]\ntype = \"azure-blob\"\ncontainer = \"{container}\"\nkey = \"{KEY}\"\n"
            ),
        );
        Project {
            container: Some(container.to_string()),
            ..p
        }
    }

    fn local(main: &str) -> Project {
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
            container: None,
        };
        p.write("main.toml", main);
        p
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_plinth"));
        c.current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env(
                "AZURE_STORAGE_CONNECTION_STRING",
                Azurite::shared().connection_string(),
            )
            .env_remove("ARM_ACCESS_KEY")
            .env_remove("ARM_SAS_TOKEN")
            .env_remove("PLINTH_SIM");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "plinth {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail with exit 1; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "plinth {args:?} should fail:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn backend(&self) -> AzureBlobBackend {
        Azurite::shared().backend(self.container.as_deref().expect("an azure project"), KEY)
    }

    /// The stored state, read directly from the backend.
    fn state(&self) -> Option<State> {
        match &self.container {
            Some(_) => self.backend().load().unwrap().state,
            None => {
                plinth_state::LocalBackend::new(self.path(".plinth"))
                    .load()
                    .unwrap()
                    .state
            }
        }
    }
}

const DATA: &str = r#"
[resource.first]
type = "core:data"
input = "alpha"

[resource.second]
type = "core:data"
input = { from = "${first.id}" }

[output.value]
value = "${first.output}"
"#;

#[test]
fn apply_plan_destroy_with_state_in_azure_blob() {
    let p = Project::azure("cli-apply", DATA);
    p.ok(&["apply", "--auto-approve"]);
    assert!(!p.path(".plinth/state.json").exists(), "no local state");
    let state = p.state().expect("state in the container");
    assert_eq!(
        state.resources.keys().collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert!(state.serial > 0);
    // The run compacted: everything is in the snapshot blob, the journal is empty.
    let backend = p.backend();
    assert!(backend.read_raw(KEY).unwrap().is_some());
    assert_eq!(
        backend.read_raw(&format!("{KEY}.journal")).unwrap(),
        Some(Vec::new())
    );
    assert_eq!(backend.lock_info().unwrap(), None, "the lock was released");

    let out = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(p.ok(&["state", "list"]).contains("second"));
    assert_eq!(p.ok(&["output", "value"]).trim(), "alpha");

    p.write("main.toml", &DATA.replace("alpha", "beta"));
    let out = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    p.ok(&["apply", "--auto-approve"]);
    let after = p.state().unwrap();
    assert_eq!(after.lineage, state.lineage);
    assert!(after.serial > state.serial);

    p.ok(&["destroy", "--auto-approve"]);
    assert!(p.state().unwrap().resources.is_empty());
}

#[test]
fn a_misconfigured_azure_backend_is_reported_at_its_location() {
    let p = Project::local(DATA);
    p.write(
        "backend.toml",
        "[backend]\ntype = \"azure-blob\"\ncontainer = \"c\"\nkeyy = \"x\"\n",
    );
    let err = p.fails(&["plan"]);
    assert!(
        err.contains("unknown azure-blob backend setting `keyy`"),
        "{err}"
    );
    assert!(err.contains("did you mean `key`?"), "{err}");
    assert!(err.contains("backend.toml"), "{err}");
    assert!(err.contains("needs `key`"), "{err}");
}

const SLOW: &str = r#"
[resource.slow]
type = "core:sleep"
create_duration = "6s"
"#;

/// Starts `plinth apply --json` and returns once its `slow` sleep has started (it holds the
/// state lock from before that until it ends).
fn start_slow_apply(p: &Project) -> Background {
    let mut cmd = p.command();
    cmd.args(["apply", "--auto-approve", "--json"]);
    Background::start_until_started(cmd, "slow")
}

/// Two `plinth apply` on one state: the first proceeds; the second waits `--lock-timeout`,
/// then fails naming the holder; a third that waits long enough proceeds after the first.
fn contention(p: &Project, where_: &str) {
    let mut first = start_slow_apply(p);
    let pid = first.id();

    let start = Instant::now();
    let err = p.fails(&["apply", "--auto-approve", "--lock-timeout", "1s"]);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    for needle in [
        "is locked by",
        "for `apply`",
        &format!("(pid {pid})"),
        "plinth force-unlock",
        where_,
    ] {
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    }

    // A third run that waits long enough gets the lock once the first is done.
    let third = p.ok(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
    let status = first.wait();
    assert!(status.success(), "the first apply failed: {status}");
    assert!(
        third.contains("No changes") || third.contains("0 to add"),
        "{third}"
    );
    let state = p.state().unwrap();
    assert!(state.resources.contains_key("slow"));
}

#[test]
fn contention_between_two_applies_local() {
    let p = Project::local(SLOW);
    contention(&p, ".plinth/state.json");
}

#[test]
fn contention_between_two_applies_azure_blob() {
    let p = Project::azure("cli-contention", SLOW);
    contention(&p, "/devstoreaccount1/cli-contention/team/prod.plinth.json");
    assert_eq!(p.backend().lock_info().unwrap(), None);
}

#[test]
fn state_pull_and_push() {
    let p = Project::azure("cli-push-pull", DATA);
    p.ok(&["apply", "--auto-approve"]);
    let pulled = p.ok(&["state", "pull"]);
    let state: State = serde_json::from_str(&pulled).unwrap();
    assert_eq!(Some(&state), p.state().as_ref());
    let file = p.path("pulled.json");

    // The same state again: nothing to do.
    std::fs::write(&file, &pulled).unwrap();
    assert!(
        p.ok(&["state", "push", "pulled.json"])
            .contains("already holds this state")
    );

    // An older serial is refused; so is another lineage.
    let mut older = state.clone();
    older.serial -= 1;
    older.resources.remove("second");
    std::fs::write(&file, serde_json::to_vec(&older).unwrap()).unwrap();
    let err = p.fails(&["state", "push", "pulled.json"]);
    assert!(
        err.contains(&format!("at serial {}", state.serial)),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    let mut other = state.clone();
    other.lineage = "00000000-0000-4000-8000-000000000000".into();
    other.serial += 5;
    std::fs::write(&file, serde_json::to_vec(&other).unwrap()).unwrap();
    let err = p.fails(&["state", "push", "pulled.json"]);
    assert!(err.contains("lineage"), "{err}");
    assert_eq!(p.state().as_ref(), Some(&state), "nothing changed");

    // A newer serial of the same lineage is pushed as is.
    let mut newer = state.clone();
    newer.serial += 1;
    newer.resources.remove("second");
    std::fs::write(&file, serde_json::to_vec(&newer).unwrap()).unwrap();
    p.ok(&["state", "push", "pulled.json"]);
    assert_eq!(p.state().as_ref(), Some(&newer));

    // --force: the stored lineage is kept and its serial continued.
    std::fs::write(&file, serde_json::to_vec(&older).unwrap()).unwrap();
    p.ok(&["state", "push", "--force", "pulled.json"]);
    let forced = p.state().unwrap();
    assert_eq!(forced.lineage, state.lineage);
    assert_eq!(forced.serial, newer.serial + 1);
    assert_eq!(forced.resources, older.resources);
}

#[test]
fn migrate_local_state_to_azure_blob_keeps_lineage_and_serial() {
    Azurite::shared().backend("cli-migrate", KEY);
    let p = Project::local(DATA);
    p.ok(&["apply", "--auto-approve"]);
    let local = p.state().unwrap();

    p.write(
        "backend.toml",
        &format!(
            "[backend]\ntype = \"azure-blob\"\ncontainer = \"cli-migrate\"\nkey = \"{KEY}\"\n"
        ),
    );
    let p = Project {
        container: Some("cli-migrate".into()),
        ..p
    };
    // Before migrating, the new backend is empty.
    assert_eq!(p.state(), None);
    let out = p.ok(&["state", "migrate"]);
    assert!(
        out.contains(&format!(
            "Migrated lineage {} at serial {}",
            local.lineage, local.serial
        )),
        "{out}"
    );
    assert_eq!(p.state().as_ref(), Some(&local));
    assert!(!p.path(".plinth/state.json").exists());
    assert!(p.path(".plinth/state.json.migrated").exists());

    // The configuration now plans against the migrated state: nothing to do.
    let out = p.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Migrating again finds nothing to move.
    assert!(
        p.fails(&["state", "migrate"])
            .contains("no state to migrate")
    );
    // The retired local snapshot holds the same state (the way back is `state push`).
    let retired: State =
        serde_json::from_slice(&std::fs::read(p.path(".plinth/state.json.migrated")).unwrap())
            .unwrap();
    assert_eq!(retired, local);
}

#[test]
fn ctrl_c_saves_state_and_releases_the_lease() {
    let p = Project::azure(
        "cli-interrupt",
        r#"
[resource.quick]
type = "core:data"

[resource.slow]
type = "core:sleep"
create_duration = "10m"
depends_on = ["quick"]
"#,
    );
    let mut holder = start_slow_apply(&p);
    assert!(p.backend().lock_info().unwrap().is_some());
    // The first Ctrl-C stops new work; once plinth says so, the second abandons `slow`.
    holder.interrupt();
    holder.read_until(r#""type":"interrupted""#);
    holder.interrupt();
    let rest = holder.read_rest();
    assert!(rest.contains(r#""abandoned":["slow"]"#), "{rest}");
    let status = holder.wait();
    assert_eq!(status.code(), Some(130));
    // The lease was released on the way out: the next run needs no waiting.
    assert_eq!(p.backend().lock_info().unwrap(), None);
    let state = p.state().unwrap();
    assert_eq!(
        state.resources["quick"].status,
        plinth_state::Status::Created
    );
    assert_eq!(
        state.resources["slow"].status,
        plinth_state::Status::PendingCreate
    );
    p.ok(&["state", "list", "--lock-timeout", "0s"]);
    let out = p.run(&["plan", "--lock-timeout", "0s"]);
    assert!(out.status.success(), "{out:?}");
}
