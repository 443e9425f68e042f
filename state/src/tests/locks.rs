//! File modes and the lock: private files, contention, force-unlock.

use super::*;

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
