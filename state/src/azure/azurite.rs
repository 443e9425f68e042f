//! Azurite, the local Azure Storage emulator, for tests of the azure-blob backend.
//!
//! [`Azurite::start`] runs `tools/azurite/node_modules/.bin/azurite-blob` (installing it with
//! `npm ci --prefix tools/azurite` first if it is missing) on a free port with in-memory
//! storage, and waits until it prints that it listens. It runs under a small `sh` watchdog
//! that kills it as soon as its standard input closes, so it also goes away when the test
//! process dies without running destructors (and when [`Azurite`] is dropped).
//! `PLINTH_AZURITE_BLOB` names another `azurite-blob` executable.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use super::{AzureBlobBackend, Credential, DEV_ACCOUNT, DEV_KEY};

/// How long Azurite may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running Azurite blob service, stopped on drop.
pub struct Azurite {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

/// `tools/azurite` of this repository.
pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tools")
        .join("azurite")
}

/// The `azurite-blob` executable, installed with `npm ci` if missing.
pub fn executable() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("PLINTH_AZURITE_BLOB") {
        return Ok(PathBuf::from(p));
    }
    let dir = tools_dir();
    let bin = dir.join("node_modules").join(".bin").join("azurite-blob");
    if bin.exists() {
        return Ok(bin);
    }
    // Several test binaries may get here at once: one installs, the others wait.
    let lock_path = dir.join(".install.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    fs4::fs_std::FileExt::lock_exclusive(&lock)
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if bin.exists() {
        return Ok(bin);
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .output()
        .map_err(|e| {
            format!(
                "Azurite (the Azure Storage emulator the azure-blob tests use) is not installed and `npm` cannot be run ({e}); install Node.js 18+ with npm, then run `npm ci --prefix tools/azurite`"
            )
        })?;
    if !output.status.success() || !bin.exists() {
        return Err(format!(
            "`npm ci --prefix {}` failed ({}):\n{}{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(bin)
}

impl Azurite {
    /// Starts a fresh Azurite on a free port and waits until it listens.
    pub fn start() -> Result<Azurite, String> {
        let bin = executable()?;
        let mut child = Command::new("sh")
            .arg("-c")
            // The watchdog: azurite in the background, killed when stdin reaches EOF.
            .arg(r#"exec 2>&1; "$0" "$@" & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid""#)
            .arg(&bin)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--inMemoryPersistence",
                "--extentMemoryLimit",
                "256",
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
            ])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<Result<u16, String>>();
        std::thread::spawn(move || {
            let mut seen = String::new();
            let mut told = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !told {
                    seen.push_str(&line);
                    seen.push('\n');
                    if let Some(port) = line
                        .split_once("listens on http://127.0.0.1:")
                        .and_then(|(_, p)| p.trim().parse::<u16>().ok())
                    {
                        let _ = tx.send(Ok(port));
                        told = true;
                    }
                }
            }
            if !told {
                let _ = tx.send(Err(format!(
                    "azurite-blob exited before listening:\n{seen}"
                )));
            }
        });
        let mut azurite = Azurite {
            child,
            stdin,
            port: 0,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(port)) => {
                azurite.port = port;
                Ok(azurite)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "azurite-blob did not listen within {START_TIMEOUT:?}"
            )),
        }
    }

    /// One Azurite for the whole test process (it stops when the process exits).
    pub fn shared() -> &'static Azurite {
        static SHARED: OnceLock<Azurite> = OnceLock::new();
        SHARED.get_or_init(|| Azurite::start().unwrap_or_else(|e| panic!("{e}")))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The development account's blob endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{DEV_ACCOUNT}", self.port)
    }

    /// A connection string for the development account (`AZURE_STORAGE_CONNECTION_STRING`).
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};BlobEndpoint={};",
            self.endpoint()
        )
    }

    /// A backend on blob `key` of `container` (created if missing), with Shared Key auth.
    pub fn backend(&self, container: &str, key: &str) -> AzureBlobBackend {
        let key_bytes = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(DEV_KEY)
                .expect("the dev key is base64")
        };
        let backend = AzureBlobBackend::new(
            &self.endpoint(),
            container,
            key,
            Credential::SharedKey {
                account: DEV_ACCOUNT.to_string(),
                key: key_bytes,
            },
        )
        .expect("a client");
        backend.create_container().expect("create the container");
        backend
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        // Closing stdin makes the watchdog kill azurite and exit.
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
