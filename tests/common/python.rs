//! The pinned Python clients of `tools/python/` (Microsoft's Azure CLI and Python SDKs),
//! each in a virtualenv cached under the cargo target directory by
//! `scripts/python-clients.sh` — the one installer, which `.ci/run` also starts early, in
//! parallel with the build. A test that needs a venv still being installed waits for it (the
//! script holds a lock per venv), so nothing is installed twice.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cargo target directory (`target/`): two levels above the plinth binary.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let bin = super::plinth_bin();
    bin.parent()
        .and_then(Path::parent)
        .expect("the plinth binary lies in target/<profile>/")
        .to_path_buf()
}

/// The venv of `tools/python/NAME.txt`, installed on first use; `None` with a printed reason
/// only when PyPI cannot be reached (the script's exit status 3). Any other failure fails
/// the test: a broken install must not pass as a skip.
pub fn venv(name: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("scripts/python-clients.sh"))
        .arg(name)
        .env("CARGO_TARGET_DIR", target_dir())
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/python-clients.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(!path.is_empty(), "python-clients.sh {name} printed no path");
            Some(PathBuf::from(path))
        }
        Some(3) => {
            println!("SKIPPED: {}", stderr.trim());
            None
        }
        _ => panic!(
            "scripts/python-clients.sh {name} failed ({}):\n{stderr}",
            out.status
        ),
    }
}
