//! Tests of the local and memory backends.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::*;

fn resource(address: &str, n: u64) -> ResourceState {
    ResourceState {
        address: address.to_string(),
        type_name: "azure:Microsoft.Resources/resourceGroups@2025-04-01".to_string(),
        mode: DeclKind::Resource,
        id: Some(format!("/subscriptions/s/resourceGroups/{address}")),
        inputs: json!({"name": address, "location": "westeurope", "tags": {"n": n}}),
        attributes: json!({"provisioningState": "Succeeded", "n": n}),
        dependencies: vec!["data.sub".to_string()],
        sensitive_paths: if n % 3 == 1 {
            vec!["inputs.tags.n".to_string()]
        } else {
            Vec::new()
        },
        status: if n % 2 == 1 {
            Status::Created
        } else {
            Status::PendingCreate
        },
        deposed: n % 5 == 4,
        settings: None,
    }
}

fn put(address: &str, n: u64) -> Change {
    Change::Put(Box::new(resource(address, n)))
}

fn setup() -> (tempfile::TempDir, LocalBackend) {
    let tmp = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(tmp.path().join(".plinth"));
    (tmp, backend)
}

/// Records `n` puts on a fresh state; returns the final in-memory state.
fn record_puts(backend: &dyn Backend, n: u64, compact: bool) -> State {
    let mut w = backend.open_writer(State::new()).unwrap();
    for i in 0..n {
        assert_eq!(w.record(put(&format!("r{i}"), i)).unwrap(), i + 1);
    }
    if compact {
        w.compact().unwrap();
    }
    w.state().clone()
}

fn load(backend: &dyn Backend) -> LoadedState {
    backend.load().unwrap()
}

fn journal_lines(backend: &LocalBackend) -> Vec<String> {
    fs::read_to_string(backend.journal_path())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn nothing_stored_loads_as_none() {
    let (_tmp, backend) = setup();
    assert_eq!(
        load(&backend),
        LoadedState {
            state: None,
            warnings: vec![]
        }
    );
    assert!(backend.describe().ends_with(".plinth/state.json"));
}

#[test]
fn round_trip_snapshot_and_journal() {
    let (_tmp, backend) = setup();
    let mut w = backend.open_writer(State::new()).unwrap();
    for i in 0..5 {
        w.record(put(&format!("r{i}"), i)).unwrap();
    }
    w.compact().unwrap();
    assert_eq!(fs::metadata(backend.journal_path()).unwrap().len(), 0);
    w.record(Change::Remove {
        address: "r1".into(),
    })
    .unwrap();
    let mut outputs = BTreeMap::new();
    outputs.insert(
        "url".to_string(),
        OutputState {
            value: json!("https://x"),
            sensitive: false,
        },
    );
    w.record(Change::Outputs { outputs }).unwrap();
    w.record(Change::History(HistoryEntry {
        address: "restart".into(),
        action: "k8s:rollout-restart".into(),
        at: "2025-01-01T00:00:00Z".into(),
        outcome: "ok".into(),
    }))
    .unwrap();
    assert_eq!(w.state().serial, 8);

    let snapshot: State =
        serde_json::from_slice(&fs::read(backend.snapshot_path()).unwrap()).unwrap();
    assert_eq!(snapshot.serial, 5);
    let lines = journal_lines(&backend);
    assert_eq!(lines.len(), 3);
    // `<crc32 8 hex> <json>`
    let (crc, json) = lines[0].split_once(' ').unwrap();
    assert_eq!(crc.len(), 8);
    assert_eq!(crc, format!("{:08x}", crc32fast::hash(json.as_bytes())));
    assert!(json.starts_with(&format!(
        "{{\"serial\":6,\"lineage\":\"{}\",\"change\":{{\"op\":\"remove\"",
        snapshot.lineage
    )));

    let loaded = load(&backend);
    assert_eq!(loaded.state.as_ref(), Some(w.state()));
    assert!(loaded.warnings.is_empty());
    w.compact().unwrap();
    assert_eq!(load(&backend).state.as_ref(), Some(w.state()));
    assert_eq!(journal_lines(&backend).len(), 0);
}

#[test]
fn replay_after_crash_without_compaction() {
    let (_tmp, backend) = setup();
    let expected = record_puts(&backend, 10, false);
    assert!(!backend.snapshot_path().exists());
    let loaded = load(&backend);
    assert_eq!(loaded.state, Some(expected));
    assert!(loaded.warnings.is_empty());
}

#[test]
fn open_writer_continues_an_uncompacted_journal() {
    let (_tmp, backend) = setup();
    // Journal only.
    record_puts(&backend, 3, false);
    let state = load(&backend).state.unwrap();
    let mut w = backend.open_writer(state).unwrap();
    assert_eq!(w.record(put("x", 1)).unwrap(), 4);
    assert_eq!(w.record(put("y", 2)).unwrap(), 5);
    let expected = w.state().clone();
    drop(w);
    assert_eq!(load(&backend).state, Some(expected.clone()));
    assert_eq!(journal_lines(&backend).len(), 5);

    // Snapshot plus journal.
    let mut w = backend.open_writer(expected).unwrap();
    w.compact().unwrap();
    w.record(put("z", 3)).unwrap();
    drop(w);
    let state = load(&backend).state.unwrap();
    let mut w = backend.open_writer(state).unwrap();
    assert_eq!(w.record(put("zz", 4)).unwrap(), 7);
    let expected = w.state().clone();
    drop(w);
    assert_eq!(load(&backend).state, Some(expected));
}

#[test]
fn torn_final_record_at_every_offset() {
    let (_tmp, backend) = setup();
    let mut w = backend.open_writer(State::new()).unwrap();
    w.record(put("a", 0)).unwrap();
    w.record(put("b", 1)).unwrap();
    w.compact().unwrap();
    w.record(put("c", 2)).unwrap();
    let without_last = w.state().clone();
    w.record(put("d", 3)).unwrap();
    let with_last = w.state().clone();
    drop(w);

    let full = fs::read(backend.journal_path()).unwrap();
    let start = full[..full.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    for cut in start..=full.len() {
        fs::write(backend.journal_path(), &full[..cut]).unwrap();
        let loaded = backend
            .load()
            .unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let state = loaded.state.clone().unwrap();
        if cut == full.len() {
            assert_eq!(state, with_last);
            assert!(loaded.warnings.is_empty());
        } else if cut == start {
            assert_eq!(state, without_last);
            assert!(loaded.warnings.is_empty());
        } else {
            assert_eq!(state, without_last, "cut at {cut}");
            assert_eq!(loaded.warnings.len(), 1, "cut at {cut}");
            assert!(
                loaded.warnings[0].contains(&format!(
                    "dropped a torn final journal record ({} bytes",
                    cut - start
                )),
                "{}",
                loaded.warnings[0]
            );
        }
        // A writer continues after cutting the torn tail.
        if cut % 16 == 0 || cut + 1 == full.len() {
            let mut w = backend.open_writer(state.clone()).unwrap();
            let serial = w.record(put("e", 4)).unwrap();
            assert_eq!(serial, state.serial + 1);
            let expected = w.state().clone();
            drop(w);
            let reloaded = load(&backend);
            assert_eq!(reloaded.state, Some(expected));
            assert!(reloaded.warnings.is_empty(), "{:?}", reloaded.warnings);
        }
    }
}

/// Appends end with the newline, so a crash leaves at most an *unterminated* tail: that is
/// dropped as torn. A complete final line that fails its checksum was damaged after it was
/// written — it may have been acknowledged — so it is corruption, refused like any other.
#[test]
fn damaged_complete_final_record_is_corrupt_but_an_unterminated_tail_is_torn() {
    let (_tmp, backend) = setup();
    record_puts(&backend, 3, false);
    let mut data = fs::read(backend.journal_path()).unwrap();
    let n = data.len();
    data[n - 5] ^= 0x20; // still ends with a newline, but fails its checksum
    fs::write(backend.journal_path(), &data).unwrap();
    let err = backend.load().unwrap_err();
    match &err {
        StateError::Corrupt {
            line, following, ..
        } => assert_eq!((*line, *following), (3, 0)),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let msg = err.to_string();
    for needle in [
        "line 3 of ",
        "fails its checksum although it is complete",
        "not a write cut short by a crash: the journal is corrupt",
        "cut the journal before line 3",
        "state.json.backup",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
    // The writer refuses too, and leaves the file alone.
    assert!(matches!(
        backend.open_writer(State::new()),
        Err(StateError::Corrupt { line: 3, .. })
    ));
    assert_eq!(fs::read(backend.journal_path()).unwrap(), data);

    // The same damage without the final newline is a torn write: dropped, with a warning.
    data.pop();
    fs::write(backend.journal_path(), &data).unwrap();
    let loaded = load(&backend);
    assert_eq!(loaded.state.unwrap().serial, 2);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].contains("dropped a torn final journal record"),
        "{:?}",
        loaded.warnings
    );

    // Zeros after the last record (a filesystem extending a file before its data lands).
    let (_tmp, backend) = setup();
    record_puts(&backend, 2, false);
    let mut data = fs::read(backend.journal_path()).unwrap();
    data.extend_from_slice(&[0; 64]);
    fs::write(backend.journal_path(), &data).unwrap();
    let loaded = load(&backend);
    assert_eq!(loaded.state.unwrap().serial, 2);
    assert_eq!(loaded.warnings.len(), 1);
}

#[test]
fn corrupt_middle_record_is_an_error() {
    let (_tmp, backend) = setup();
    record_puts(&backend, 4, false);
    let lines = journal_lines(&backend);
    let mut damaged = lines.clone();
    damaged[1] = damaged[1].replacen("westeurope", "westeurupe", 1);
    fs::write(backend.journal_path(), damaged.join("\n") + "\n").unwrap();
    let err = backend.load().unwrap_err();
    match &err {
        StateError::Corrupt {
            line, following, ..
        } => {
            assert_eq!((*line, *following), (2, 2));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("line 2 of "), "{msg}");
    assert!(msg.contains(&backend.journal_path().display().to_string()));
    assert!(msg.contains("fails its checksum and is followed by 2 more records"));
    assert!(msg.contains("state.json.backup"));
    // The writer refuses too, and leaves the file alone.
    assert!(matches!(
        backend.open_writer(State::new()),
        Err(StateError::Corrupt { .. })
    ));
    assert_eq!(journal_lines(&backend), damaged);

    // A truncated record in the middle (a missing newline joins two lines).
    let joined = format!("{}{}\n{}\n", &lines[0][..20], lines[1], lines[2]);
    fs::write(backend.journal_path(), joined).unwrap();
    assert!(matches!(
        backend.load(),
        Err(StateError::Corrupt { line: 1, .. })
    ));
}

#[test]
fn unreadable_checksummed_record_is_an_error_even_when_last() {
    let (_tmp, backend) = setup();
    let state = record_puts(&backend, 2, false);
    let json = format!(
        r#"{{"serial":3,"lineage":"{}","change":{{"op":"explode"}}}}"#,
        state.lineage
    );
    let mut data = fs::read(backend.journal_path()).unwrap();
    data.extend_from_slice(format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes())).as_bytes());
    fs::write(backend.journal_path(), data).unwrap();
    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::Corrupt { line: 3, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("passes its checksum but cannot be read")
    );
}

#[test]
fn serial_gap_is_an_error() {
    let (_tmp, backend) = setup();
    record_puts(&backend, 4, false);
    let lines = journal_lines(&backend);
    let gapped = [lines[0].clone(), lines[2].clone(), lines[3].clone()].join("\n") + "\n";
    fs::write(backend.journal_path(), gapped).unwrap();
    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::Corrupt { line: 2, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("has serial 3 but serial 2 was expected")
    );
}

#[test]
fn crash_between_snapshot_rename_and_journal_truncate() {
    let (_tmp, backend) = setup();
    let mut w = backend.open_writer(State::new()).unwrap();
    for i in 0..3 {
        w.record(put(&format!("r{i}"), i)).unwrap();
    }
    let at3 = w.state().clone();
    for i in 3..5 {
        w.record(put(&format!("r{i}"), i)).unwrap();
    }
    let at5 = w.state().clone();
    drop(w);
    let journal = fs::read(backend.journal_path()).unwrap();

    // Snapshot at 5, journal still holding 1..=5: everything skipped.
    let mut w = backend.open_writer(at5.clone()).unwrap();
    w.compact().unwrap();
    drop(w);
    fs::write(backend.journal_path(), &journal).unwrap();
    let loaded = load(&backend);
    assert_eq!(loaded.state, Some(at5.clone()));
    assert!(loaded.warnings[0].contains("skipped 5 journal record(s)"));
    // The writer drops the stale records and continues.
    let mut w = backend.open_writer(at5.clone()).unwrap();
    assert_eq!(fs::metadata(backend.journal_path()).unwrap().len(), 0);
    assert_eq!(w.record(put("r5", 5)).unwrap(), 6);
    let at6 = w.state().clone();
    drop(w);
    assert_eq!(load(&backend).state, Some(at6));

    // Snapshot at 3, journal holding 1..=5: 4 and 5 replayed.
    fs::write(
        backend.snapshot_path(),
        serde_json::to_vec_pretty(&at3).unwrap(),
    )
    .unwrap();
    fs::write(backend.journal_path(), &journal).unwrap();
    let loaded = load(&backend);
    assert_eq!(loaded.state, Some(at5.clone()));
    assert!(loaded.warnings[0].contains("skipped 3 journal record(s)"));
    let mut w = backend.open_writer(at5).unwrap();
    assert_eq!(w.record(put("r5", 5)).unwrap(), 6);
    let expected = w.state().clone();
    drop(w);
    assert_eq!(load(&backend).state, Some(expected));
}

#[test]
fn lineage_mismatch_is_an_error() {
    let (_tmp, a) = setup();
    let (_tmp2, b) = setup();
    let sa = record_puts(&a, 2, true);
    let sb = record_puts(&b, 3, false);
    fs::copy(b.journal_path(), a.journal_path()).unwrap();
    let err = a.load().unwrap_err();
    assert!(
        matches!(&err, StateError::LineageMismatch { line: 1, expected, found, .. }
            if *expected == sa.lineage && *found == sb.lineage),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&sa.lineage) && msg.contains(&sb.lineage),
        "{msg}"
    );

    // A writer for another lineage is refused; so is a stale serial.
    fs::write(a.journal_path(), "").unwrap();
    assert!(matches!(
        a.open_writer(State::new()),
        Err(StateError::WrongLineage { .. })
    ));
    let mut older = sa.clone();
    older.serial = 1;
    let err = a.open_writer(older).err().unwrap();
    assert!(
        matches!(
            err,
            StateError::Stale {
                stored: 2,
                given: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn snapshot_format_is_checked() {
    let (_tmp, backend) = setup();
    record_puts(&backend, 1, true);
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fs::read(backend.snapshot_path()).unwrap()).unwrap();
    doc["format"] = json!("plinth-state/99");
    fs::write(backend.snapshot_path(), doc.to_string()).unwrap();
    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::UnsupportedFormat { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("\"plinth-state/99\"") && msg.contains("state.json"),
        "{msg}"
    );

    // Another format with another shape still reports the format.
    fs::write(backend.snapshot_path(), r#"{"format":"other/2","x":1}"#).unwrap();
    assert!(backend.load().unwrap_err().to_string().contains("other/2"));
    fs::write(backend.snapshot_path(), r#"{"lineage":"x"}"#).unwrap();
    assert!(
        backend
            .load()
            .unwrap_err()
            .to_string()
            .contains("no \"format\" field")
    );
    fs::write(backend.snapshot_path(), "{not json").unwrap();
    assert!(matches!(
        backend.load(),
        Err(StateError::InvalidSnapshot { .. })
    ));
}

#[test]
fn files_are_private() {
    let (_tmp, backend) = setup();
    let guard = backend.lock("apply", Duration::ZERO).unwrap();
    assert_eq!(mode(backend.dir()), 0o700);
    let mut w = backend.open_writer(State::new()).unwrap();
    w.record(put("a", 0)).unwrap();
    w.compact().unwrap();
    w.record(put("b", 1)).unwrap();
    w.compact().unwrap();
    w.record(put("c", 2)).unwrap();
    for name in [
        SNAPSHOT_FILE,
        JOURNAL_FILE,
        BACKUP_FILE,
        LOCK_FILE,
        LOCK_INFO_FILE,
    ] {
        assert_eq!(mode(&backend.dir().join(name)), 0o600, "{name}");
    }
    // The backup is the previous snapshot.
    let backup: State = serde_json::from_slice(&fs::read(backend.backup_path()).unwrap()).unwrap();
    assert_eq!(backup.serial, 1);
    drop(guard);
    assert!(!backend.dir().join(LOCK_INFO_FILE).exists());
}

#[test]
fn lock_contention_in_process() {
    let (_tmp, backend) = setup();
    let first = backend.lock("apply", Duration::ZERO).unwrap();
    assert_eq!(first.info().operation, "apply");
    assert_eq!(first.info().pid, std::process::id());
    assert!(first.info().who.contains('@'));
    assert!(humantime::parse_rfc3339(&first.info().created).is_ok());
    assert_eq!(backend.lock_info().unwrap().as_ref(), Some(first.info()));

    let err = backend.lock("plan", Duration::ZERO).err().unwrap();
    match &err {
        StateError::Locked { info } => {
            assert_eq!(info.id, first.info().id);
            assert_eq!(info.operation, "apply");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    let msg = err.to_string();
    for needle in [
        first.info().id.as_str(),
        "`apply`",
        &first.info().who,
        &first.info().created,
        "--lock-timeout",
        "plinth force-unlock",
        "state.json",
    ] {
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }

    // A timeout waits, then fails.
    let start = Instant::now();
    assert!(backend.lock("plan", Duration::from_millis(250)).is_err());
    assert!(start.elapsed() >= Duration::from_millis(250));

    drop(first);
    assert_eq!(backend.lock_info().unwrap(), None);
    let second = backend.lock("destroy", Duration::ZERO).unwrap();

    // Waiting succeeds once the holder lets go.
    let b2 = backend.clone();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        drop(second);
    });
    let third = b2.lock("apply", Duration::from_secs(10)).unwrap();
    releaser.join().unwrap();
    assert_eq!(backend.lock_info().unwrap().unwrap().id, third.info().id);
}

#[test]
fn force_unlock_behaviours() {
    let (_tmp, backend) = setup();
    assert!(matches!(
        backend.force_unlock("nope"),
        Err(StateError::NotLocked { .. })
    ));

    let guard = backend.lock("apply", Duration::ZERO).unwrap();
    let id = guard.info().id.clone();
    let err = backend.force_unlock("wrong-id").unwrap_err();
    assert!(matches!(err, StateError::LockIdMismatch { .. }));
    assert!(err.to_string().contains(&id));

    let err = backend.force_unlock(&id).unwrap_err();
    assert!(matches!(err, StateError::LockStillHeld { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert!(msg.contains("cannot be broken"), "{msg}");
    assert!(backend.dir().join(LOCK_INFO_FILE).exists());
    drop(guard);

    // A stale lock: the info file of a process that died (its OS lock went with it).
    let mut stale = LockInfo::new("apply");
    stale.pid = 999_999;
    fs::write(
        backend.dir().join(LOCK_INFO_FILE),
        serde_json::to_vec(&stale).unwrap(),
    )
    .unwrap();
    assert_eq!(backend.lock_info().unwrap(), Some(stale.clone()));
    backend.force_unlock(&stale.id).unwrap();
    assert_eq!(backend.lock_info().unwrap(), None);

    // A stale info file does not stop a new lock, which replaces it.
    fs::write(
        backend.dir().join(LOCK_INFO_FILE),
        serde_json::to_vec(&stale).unwrap(),
    )
    .unwrap();
    let guard = backend.lock("apply", Duration::ZERO).unwrap();
    assert_eq!(backend.lock_info().unwrap().as_ref(), Some(guard.info()));

    // Garbage in the info file is reported with the file's name.
    drop(guard);
    fs::write(backend.dir().join(LOCK_INFO_FILE), "{").unwrap();
    let err = backend.lock_info().unwrap_err();
    assert!(err.to_string().contains(LOCK_INFO_FILE));
}

#[test]
fn bytes_written_accounting() {
    let (_tmp, backend) = setup();
    let mut w = backend.open_writer(State::new()).unwrap();
    assert_eq!(w.bytes_written(), 0);
    for i in 0..20 {
        w.record(put(&format!("r{i}"), i)).unwrap();
    }
    let journal = fs::metadata(backend.journal_path()).unwrap().len();
    assert_eq!(w.bytes_written(), journal);
    w.compact().unwrap();
    let snapshot = fs::metadata(backend.snapshot_path()).unwrap().len();
    assert_eq!(w.bytes_written(), journal + snapshot);
    // Nothing changed: nothing written.
    w.compact().unwrap();
    assert_eq!(w.bytes_written(), journal + snapshot);
    drop(w);
    let state = load(&backend).state.unwrap();
    let mut w = backend.open_writer(state.clone()).unwrap();
    w.compact().unwrap();
    assert_eq!(w.bytes_written(), 0);

    // A state that differs from what is stored is snapshotted when the writer opens.
    let mut changed = state;
    changed.resources.remove("r0");
    let w = backend.open_writer(changed.clone()).unwrap();
    assert_eq!(w.state().serial, changed.serial + 1);
    assert_eq!(
        w.bytes_written(),
        fs::metadata(backend.snapshot_path()).unwrap().len()
    );
    assert_eq!(load(&backend).state.as_ref(), Some(w.state()));
}

/// The engine's benchmark budget: an apply that records each resource twice (pending, then
/// created) and compacts once writes at most 3x the final state's size.
#[test]
fn write_amplification_of_an_apply() {
    let (_tmp, backend) = setup();
    let mut w = backend.open_writer(State::new()).unwrap();
    for i in 0..300 {
        let mut r = resource(&format!("app[\"{i}\"]"), i);
        r.status = Status::PendingCreate;
        w.record(Change::Put(Box::new(r.clone()))).unwrap();
        r.status = Status::Created;
        w.record(Change::Put(Box::new(r))).unwrap();
    }
    w.compact().unwrap();
    let size = fs::metadata(backend.snapshot_path()).unwrap().len();
    let ratio = w.bytes_written() as f64 / size as f64;
    assert!(ratio <= 3.0, "wrote {ratio:.2}x the state size");
}

/// A tiny deterministic generator (xorshift64*), so the randomized test needs no extra crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_change(rng: &mut Rng) -> Change {
    let address = format!("r{}", rng.below(12));
    match rng.below(10) {
        0..=5 => put(&address, rng.next() >> 20),
        6 | 7 => Change::Remove { address },
        8 => {
            let mut outputs = BTreeMap::new();
            for i in 0..rng.below(3) {
                outputs.insert(
                    format!("out{i}"),
                    OutputState {
                        value: json!({"v": rng.below(100), "s": "é\"\\\n"}),
                        sensitive: rng.below(2) == 0,
                    },
                );
            }
            Change::Outputs { outputs }
        }
        _ => Change::History(HistoryEntry {
            address: address.clone(),
            action: "k8s:rollout-restart".into(),
            at: "2025-01-01T00:00:00Z".into(),
            outcome: format!("ok {}", rng.below(1000)),
        }),
    }
}

/// Random sequences of changes, with compactions and simulated crashes (writer dropped and
/// reopened from what was loaded), always reload to the writer's state; the memory backend
/// agrees.
#[test]
fn random_changes_round_trip() {
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (_tmp, backend) = setup();
        let memory = MemoryBackend::new();
        let initial = State::new();
        let mut w = backend.open_writer(initial.clone()).unwrap();
        let mut m = memory.open_writer(initial).unwrap();
        for _ in 0..60 {
            match rng.below(20) {
                0 => {
                    w.compact().unwrap();
                    m.compact().unwrap();
                }
                1 => {
                    let expected = w.state().clone();
                    drop(w);
                    let loaded = load(&backend);
                    assert!(loaded.warnings.is_empty());
                    assert_eq!(loaded.state.as_ref(), Some(&expected), "seed {seed}");
                    w = backend.open_writer(loaded.state.unwrap()).unwrap();
                }
                _ => {
                    let change = random_change(&mut rng);
                    let serial = w.record(change.clone()).unwrap();
                    assert_eq!(m.record(change).unwrap(), serial);
                }
            }
        }
        assert_eq!(
            load(&backend).state.as_ref(),
            Some(w.state()),
            "seed {seed}"
        );
        assert_eq!(load(&memory).state.as_ref(), Some(w.state()), "seed {seed}");
        assert_eq!(m.state(), w.state());
    }
}

#[test]
fn memory_backend_records_and_reloads() {
    let backend = MemoryBackend::new();
    assert_eq!(load(&backend).state, None);
    let mut w = backend.open_writer(State::new()).unwrap();
    w.record(put("a", 0)).unwrap();
    w.record(Change::Remove {
        address: "a".into(),
    })
    .unwrap();
    w.record(put("b", 1)).unwrap();
    assert_eq!(load(&backend).state.as_ref(), Some(w.state()));
    assert_eq!(backend.snapshot(), None);
    assert_eq!(
        backend
            .changes()
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(matches!(backend.changes()[1].1, Change::Remove { .. }));
    w.compact().unwrap();
    assert_eq!(backend.compactions(), 1);
    assert!(backend.journal().is_empty());
    assert_eq!(backend.snapshot().as_ref(), Some(w.state()));
    assert_eq!(backend.bytes_written(), w.bytes_written());
    let state = w.state().clone();
    drop(w);

    // Continue from the loaded state; refuse another lineage or an old serial.
    let mut w = backend.open_writer(state.clone()).unwrap();
    assert_eq!(w.record(put("c", 2)).unwrap(), 4);
    assert!(matches!(
        backend.open_writer(State::new()),
        Err(StateError::WrongLineage { .. })
    ));
    assert!(matches!(
        backend.open_writer(state),
        Err(StateError::Stale { .. })
    ));

    // Fault injection.
    backend.fail_records_after(Some(1));
    w.record(put("d", 3)).unwrap();
    assert!(w.record(put("e", 4)).is_err());
    assert_eq!(w.state().serial, 5);
    backend.fail_records_after(None);
    assert_eq!(w.record(put("e", 4)).unwrap(), 6);
    assert_eq!(load(&backend).state.as_ref(), Some(w.state()));
}

#[test]
fn memory_backend_locks_contend_between_clones() {
    let a = MemoryBackend::new();
    let b = a.clone();
    let guard = a.lock("apply", Duration::ZERO).unwrap();
    let err = b.lock("plan", Duration::ZERO).err().unwrap();
    assert!(matches!(&err, StateError::Locked { info } if info.id == guard.info().id));
    assert!(matches!(
        b.force_unlock(&guard.info().id),
        Err(StateError::LockStillHeld { .. })
    ));
    assert!(matches!(
        b.force_unlock("x"),
        Err(StateError::LockIdMismatch { .. })
    ));
    drop(guard);
    assert_eq!(b.lock_info().unwrap(), None);
    let guard = b.lock("plan", Duration::from_millis(50)).unwrap();
    drop(guard);

    let stale = LockInfo::new("apply");
    a.plant_stale_lock(stale.clone());
    assert_eq!(b.lock_info().unwrap(), Some(stale.clone()));
    b.force_unlock(&stale.id).unwrap();
    assert!(matches!(
        b.force_unlock(&stale.id),
        Err(StateError::NotLocked { .. })
    ));
    // A stale lock is taken over by a new one.
    a.plant_stale_lock(stale);
    let guard = b.lock("apply", Duration::ZERO).unwrap();
    assert_eq!(a.lock_info().unwrap().as_ref(), Some(guard.info()));
}

#[test]
fn backends_are_object_safe_and_thread_safe() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Box<dyn Backend>>();
    assert_send_sync::<LocalBackend>();
    assert_send_sync::<MemoryBackend>();
    fn assert_send<T: Send>() {}
    assert_send::<Box<dyn StateWriter>>();
    assert_send::<Box<dyn LockGuard>>();
    let (_tmp, local) = setup();
    let backends: Vec<Box<dyn Backend>> = vec![Box::new(local), Box::new(MemoryBackend::new())];
    for b in &backends {
        assert!(!b.describe().is_empty());
    }
}

/// `Change` is internally tagged with `op`; outputs are a struct variant so that an output
/// named `op` round-trips like any other.
#[test]
fn an_output_named_op_round_trips() {
    let mut outputs = BTreeMap::new();
    outputs.insert(
        "op".to_string(),
        OutputState {
            value: json!(1),
            sensitive: false,
        },
    );
    let (_tmp, local) = setup();
    let memory = MemoryBackend::new();
    for backend in [&local as &dyn Backend, &memory] {
        let mut w = backend.open_writer(State::new()).unwrap();
        w.record(put("a", 0)).unwrap();
        w.record(Change::Outputs {
            outputs: outputs.clone(),
        })
        .unwrap();
        assert_eq!(w.state().outputs, outputs);
        assert_eq!(w.record(put("b", 1)).unwrap(), 3);
        assert_eq!(load(backend).state.as_ref(), Some(w.state()));
    }
}

/// A batch is one group commit of several records: each keeps its serial and its own
/// journal line, so a torn batch loses only its unfinished tail.
#[test]
fn record_batch_writes_one_record_per_change() {
    let (_tmp, local) = setup();
    let memory = MemoryBackend::new();
    for backend in [&local as &dyn Backend, &memory] {
        let mut w = backend.open_writer(State::new()).unwrap();
        w.record(put("a", 0)).unwrap();
        assert_eq!(
            w.record_batch(vec![
                put("b", 1),
                put("c", 2),
                Change::Remove {
                    address: "a".into()
                }
            ])
            .unwrap(),
            4
        );
        assert_eq!(w.record_batch(Vec::new()).unwrap(), 4);
        let loaded = load(backend).state.unwrap();
        assert_eq!(&loaded, w.state());
        assert_eq!(loaded.serial, 4);
        assert!(!loaded.resources.contains_key("a"));
        assert_eq!(loaded.resources.len(), 2);
    }
    assert_eq!(journal_lines(&local).len(), 4);
}

/// Writes `state` as the snapshot by hand (as `state push` or an editor could).
fn write_snapshot_file(backend: &LocalBackend, state: &State) {
    fs::create_dir_all(backend.dir()).unwrap();
    fs::set_permissions(backend.dir(), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(
        backend.snapshot_path(),
        serde_json::to_vec_pretty(state).unwrap(),
    )
    .unwrap();
    fs::set_permissions(backend.snapshot_path(), fs::Permissions::from_mode(0o600)).unwrap();
}

/// Issue 12, item 9: a snapshot at serial 2^64-1 made the next change journal serial 0, which
/// the next load skipped as "already compacted": the change vanished. Counting on from a
/// serial past `MAX_SERIAL` is refused before anything is written, in every backend.
#[test]
fn serials_never_wrap_around() {
    let (_tmp, backend) = setup();
    let mut top = State::new();
    top.serial = u64::MAX;
    write_snapshot_file(&backend, &top);
    let mut w = backend.open_writer(top.clone()).unwrap();
    let err = w.record(put("a", 0)).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::SerialExhausted {
                serial: u64::MAX,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("nothing was recorded"), "{msg}");
    assert!(msg.contains("plinth state push"), "{msg}");
    assert!(matches!(
        w.record_batch(vec![put("a", 0), put("b", 1)]),
        Err(StateError::SerialExhausted { .. })
    ));
    assert_eq!(w.state(), &top);
    drop(w);
    assert_eq!(fs::read(backend.journal_path()).unwrap(), b"");
    assert_eq!(load(&backend).state, Some(top));

    // Up to MAX_SERIAL changes are recorded; the one after is refused, and a batch that
    // would pass it is refused whole.
    let (_tmp, backend) = setup();
    let mut near = State::new();
    near.serial = MAX_SERIAL - 2;
    write_snapshot_file(&backend, &near);
    let mut w = backend.open_writer(near).unwrap();
    assert!(matches!(
        w.record_batch(vec![put("a", 0), put("b", 1), put("c", 2)]),
        Err(StateError::SerialExhausted { .. })
    ));
    assert_eq!(w.record(put("a", 0)).unwrap(), MAX_SERIAL - 1);
    assert_eq!(w.record_batch(vec![put("b", 1)]).unwrap(), MAX_SERIAL);
    assert!(matches!(
        w.record(put("c", 2)),
        Err(StateError::SerialExhausted { .. })
    ));
    let expected = w.state().clone();
    drop(w);
    assert_eq!(journal_lines(&backend).len(), 2);
    assert_eq!(load(&backend).state, Some(expected.clone()));
    // A changed state at the stored serial would need the next one: refused as well.
    let mut changed = expected;
    changed.outputs.clear();
    changed.resources.remove("a");
    assert!(matches!(
        backend.open_writer(changed),
        Err(StateError::SerialExhausted { .. })
    ));

    // The memory backend counts the same way.
    let memory = MemoryBackend::new();
    let mut w = memory.open_writer(top_state()).unwrap();
    assert!(matches!(
        w.record(put("a", 0)),
        Err(StateError::SerialExhausted { .. })
    ));
}

fn top_state() -> State {
    let mut s = State::new();
    s.serial = u64::MAX;
    s
}

/// Journal records after a snapshot beyond `MAX_SERIAL` cannot be placed (an older plinth
/// wrapped around to 0 there): refused, never skipped as already compacted.
#[test]
fn records_after_a_serial_beyond_the_limit_are_refused_not_skipped() {
    let (_tmp, backend) = setup();
    let top = top_state();
    write_snapshot_file(&backend, &top);
    let mut journal = Vec::new();
    for (serial, n) in [(0u64, 0u64), (1, 1)] {
        journal.extend(crate::journal::encode(serial, &top.lineage, &put("a", n)).unwrap());
    }
    fs::write(backend.journal_path(), journal).unwrap();
    let err = backend.load().unwrap_err();
    assert!(
        matches!(
            err,
            StateError::Corrupt {
                line: 1,
                following: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("may have wrapped around"), "{err}");
}

/// Runs `f` on another thread and fails (instead of hanging the suite) if it blocks.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} blocked"))
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Issue 12, item 12: a FIFO as `state.json` or `state.journal` hung every command, and a
/// device was read without end. Only regular files are read, up to a size limit.
#[test]
fn special_files_in_place_of_state_files_are_refused() {
    let cases: [(&str, &str); 6] = [
        (SNAPSHOT_FILE, "fifo"),
        (JOURNAL_FILE, "fifo"),
        (LOCK_INFO_FILE, "fifo"),
        (SNAPSHOT_FILE, "dir"),
        (JOURNAL_FILE, "/dev/zero"),
        (SNAPSHOT_FILE, "dangling"),
    ];
    for (name, what) in cases {
        let (tmp, backend) = setup();
        record_puts(&backend, 2, true);
        let path = backend.dir().join(name);
        let _ = fs::remove_file(&path);
        match what {
            "fifo" => mkfifo(&path),
            "dir" => fs::create_dir(&path).unwrap(),
            "dangling" => std::os::unix::fs::symlink(tmp.path().join("gone"), &path).unwrap(),
            device => std::os::unix::fs::symlink(device, &path).unwrap(),
        }
        let b = backend.clone();
        let err = if name == LOCK_INFO_FILE {
            within("lock_info", move || b.lock_info()).unwrap_err()
        } else {
            within("load", move || b.load()).unwrap_err()
        };
        let kind = match what {
            "fifo" => "is a named pipe (FIFO), not a regular file",
            "dir" => "is a directory, not a regular file",
            "dangling" => "which does not exist, not a regular file",
            _ => "is a character device, not a regular file",
        };
        let msg = err.to_string();
        assert!(
            matches!(err, StateError::NotRegularFile { .. }),
            "{name} {what}: {err:?}"
        );
        assert!(msg.contains(kind), "{name} {what}: {msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        if name != LOCK_INFO_FILE {
            let b = backend.clone();
            let err = within("open_writer", move || b.open_writer(State::new()).err());
            assert!(
                matches!(err, Some(StateError::NotRegularFile { .. })),
                "{name} {what}: {err:?}"
            );
        }
    }
}

#[test]
fn oversized_state_files_are_refused_without_reading_them() {
    let (_tmp, backend) = setup();
    record_puts(&backend, 1, true);
    // Sparse: costs no disk.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(backend.journal_path())
        .unwrap();
    f.set_len(MAX_STATE_FILE_BYTES + 1).unwrap();
    let err = backend.load().unwrap_err();
    assert!(
        matches!(err, StateError::TooLarge { size, .. } if size == MAX_STATE_FILE_BYTES + 1),
        "{err:?}"
    );
    assert!(err.to_string().contains("bytes plinth reads"), "{err}");
}

/// Leftover temporary files neither block compaction (a FIFO) nor pass on their mode.
#[test]
fn leftover_temporary_files_are_replaced() {
    let (_tmp, backend) = setup();
    let mut w = backend.open_writer(State::new()).unwrap();
    w.record(put("a", 0)).unwrap();
    mkfifo(&backend.dir().join("state.json.tmp"));
    let mut w = within("compact", move || {
        w.compact().unwrap();
        w
    });
    assert_eq!(mode(&backend.snapshot_path()), 0o600);
    fs::write(backend.dir().join("state.json.tmp"), b"old").unwrap();
    fs::set_permissions(
        backend.dir().join("state.json.tmp"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    w.record(put("b", 1)).unwrap();
    w.compact().unwrap();
    assert_eq!(mode(&backend.snapshot_path()), 0o600);
}

/// Issue 12, item 15: an existing 0644 `state.json` passed its mode to `state.json.backup`
/// (a hard link of the same file); and loose modes went unmentioned.
#[test]
fn the_backup_is_private_whatever_the_old_snapshot_mode_and_loose_modes_are_reported() {
    let (_tmp, backend) = setup();
    let state = record_puts(&backend, 2, true);
    assert!(load(&backend).warnings.is_empty());
    fs::set_permissions(backend.snapshot_path(), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(backend.dir(), fs::Permissions::from_mode(0o755)).unwrap();
    let loaded = load(&backend);
    assert_eq!(loaded.state, Some(state.clone()));
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let w = &loaded.warnings[0];
    let dir = backend.dir().display().to_string();
    let snapshot = backend.snapshot_path().display().to_string();
    for needle in [
        format!("{dir} (mode 0755)"),
        format!("{snapshot} (mode 0644)"),
        format!("chmod 700 {dir}"),
        format!("chmod 600 {snapshot}"),
    ] {
        assert!(w.contains(&needle), "{needle:?} not in {w}");
    }

    let mut w = backend.open_writer(state).unwrap();
    w.record(put("c", 3)).unwrap();
    w.compact().unwrap();
    assert_eq!(mode(&backend.backup_path()), 0o600);
    assert_eq!(mode(&backend.snapshot_path()), 0o600);
    let backup: State = serde_json::from_slice(&fs::read(backend.backup_path()).unwrap()).unwrap();
    assert_eq!(backup.serial, 2);
    // Only the directory is still loose.
    let warnings = load(&backend).warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(!warnings[0].contains("chmod 600"), "{warnings:?}");
    fs::set_permissions(backend.dir(), fs::Permissions::from_mode(0o700)).unwrap();
    assert!(load(&backend).warnings.is_empty());
}

/// Issue 12, item 17: a missing `state.json` beside its backup loaded as "no state", and the
/// next plan re-created everything.
#[test]
fn a_missing_snapshot_beside_its_backup_is_refused() {
    let (_tmp, backend) = setup();
    record_puts(&backend, 2, true);
    let mut w = backend.open_writer(load(&backend).state.unwrap()).unwrap();
    w.record(put("c", 3)).unwrap();
    w.compact().unwrap();
    drop(w);
    assert!(backend.backup_path().exists());
    fs::remove_file(backend.snapshot_path()).unwrap();
    let err = backend.load().unwrap_err();
    assert!(matches!(err, StateError::SnapshotMissing { .. }), "{err:?}");
    let msg = err.to_string();
    let (snapshot, backup) = (
        backend.snapshot_path().display().to_string(),
        backend.backup_path().display().to_string(),
    );
    assert!(msg.contains(&format!("{snapshot} is missing")), "{msg}");
    assert!(msg.contains(&format!("cp {backup} {snapshot}")), "{msg}");
    assert!(matches!(
        backend.open_writer(State::new()),
        Err(StateError::SnapshotMissing { .. })
    ));
    // Restoring the backup as the message says brings the state back.
    fs::copy(backend.backup_path(), backend.snapshot_path()).unwrap();
    assert_eq!(load(&backend).state.unwrap().serial, 2);
}

/// After `state migrate` the local snapshot is `state.json.migrated`: a configuration that
/// points back at the local state is told where the state went, not handed an empty one.
#[test]
fn a_migrated_snapshot_is_not_read_as_no_state() {
    let (_tmp, backend) = setup();
    record_puts(&backend, 1, true);
    let migrated = backend.dir().join(MIGRATED_FILE);
    fs::rename(backend.snapshot_path(), &migrated).unwrap();
    assert!(!backend.backup_path().exists());
    let err = backend.load().unwrap_err();
    assert!(
        matches!(&err, StateError::SnapshotMissing { migrated: Some(m), .. } if *m == migrated),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "mv {} {}",
            migrated.display(),
            backend.snapshot_path().display()
        )),
        "{msg}"
    );
}
