//! What writers write: byte accounting, write amplification, random change sequences, the
//! memory backend, batches.

use super::*;

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
        6 => Change::Remove { address },
        7 => Change::Move {
            from: address,
            to: format!("r{}[0]", rng.below(12)),
        },
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

#[test]
fn a_moved_record_reloads_under_its_new_address() {
    let (_tmp, backend) = setup();
    let mut w = backend.open_writer(State::new()).unwrap();
    w.record(put("app", 7)).unwrap();
    let before = w.state().resources["app"].clone();
    w.record(Change::Move {
        from: "app".into(),
        to: "app[0]".into(),
    })
    .unwrap();
    // A move of a record that is not there changes nothing.
    w.record(Change::Move {
        from: "gone".into(),
        to: "gone[0]".into(),
    })
    .unwrap();
    let state = w.state().clone();
    drop(w);
    // Reloaded from the journal (no compaction): one record, at the new address.
    let loaded = load(&backend).state.expect("state");
    assert_eq!(loaded, state);
    assert_eq!(loaded.resources.keys().collect::<Vec<_>>(), vec!["app[0]"]);
    let moved = &loaded.resources["app[0]"];
    assert_eq!(moved.address, "app[0]");
    assert_eq!(moved.attributes, before.attributes);
    assert_eq!(moved.id, before.id);
}
