//! Tests of the local and memory backends, by theme; the shared fixtures are here.

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

mod journal;
mod limits;
mod locks;
mod writes;
