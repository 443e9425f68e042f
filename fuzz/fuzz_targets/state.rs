//! Any bytes as a state snapshot and journal: loading reports corruption (or drops a torn
//! last journal record) and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_state::Backend;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses where the split between snapshot and journal falls.
    let (snapshot, journal) = match data.split_first() {
        Some((&k, rest)) => rest.split_at((k as usize * rest.len()) / 256),
        None => (&[][..], &[][..]),
    };
    let dir = tempfile::tempdir_in(std::env::var("PLINTH_FUZZ_TMP").unwrap_or("/tmp".into()))
        .expect("tempdir");
    if !snapshot.is_empty() {
        std::fs::write(dir.path().join("state.json"), snapshot).unwrap();
    }
    if !journal.is_empty() {
        std::fs::write(dir.path().join("state.journal"), journal).unwrap();
    }
    let backend = plinth_state::LocalBackend::new(dir.path().to_path_buf());
    let _ = backend.load();
});
