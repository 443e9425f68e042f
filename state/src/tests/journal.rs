//! The snapshot and journal format: round trips, replay after crashes, torn and damaged
//! records, serial gaps, lineage and format checks.

use super::*;

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
