//! Hostile state (issue 12): serials near the limit, special and oversized files, leftover
//! temporaries, loose modes, a missing snapshot beside its backup or after a migration.

use super::*;

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
