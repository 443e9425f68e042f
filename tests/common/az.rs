//! Microsoft's Azure CLI against the simulator: the pinned `azure-cli` of
//! `tools/python/azure-cli.txt` (installed by `scripts/python-clients.sh`, see
//! `common/python.rs`), and `plinth sim serve --tls` with its CA certificate for `az`
//! (through `REQUESTS_CA_BUNDLE`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `az` executable of the pinned Azure CLI (`tools/python/azure-cli.txt`), installed on
/// first use; `None` (with a printed reason) only when PyPI cannot be reached.
pub fn az_cli() -> Option<PathBuf> {
    let az = crate::common::python::venv("azure-cli")?
        .join("bin")
        .join("az");
    assert!(az.is_file(), "no az in {} after install", az.display());
    Some(az)
}

/// `plinth sim serve --tls` on an ephemeral port, stopped (and reaped) when dropped.
pub struct TlsSim {
    child: Child,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The CA certificate clients must trust.
    pub ca: PathBuf,
}

impl TlsSim {
    /// Serves the world in `dir/world.json` with the `instant` latency profile.
    pub fn start(dir: &Path) -> TlsSim {
        let log = dir.join("sim.log");
        let mut child = crate::common::plinth_command(dir)
            .args(["sim", "serve", "--tls", "--latency", "instant", "--world"])
            .arg(dir.join("world.json"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("sim log"))
            .spawn()
            .expect("spawn plinth sim serve --tls");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the URL");
        let url = line.trim().to_string();
        // The CA line is printed before the URL.
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        let ca = said
            .lines()
            .find_map(|l| l.split_once("CA certificate in ").map(|(_, r)| r))
            .and_then(|r| r.split(" (").next())
            .map(PathBuf::from);
        match ca {
            Some(ca) if url.starts_with("https://127.0.0.1:") => TlsSim { child, url, ca },
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("plinth sim serve --tls did not print its CA and URL: {url:?}\n{said}");
            }
        }
    }
}

impl Drop for TlsSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A shell for `az` against `sim`: HOME and AZURE_CONFIG_DIR in `home`, the simulator's CA
/// trusted, no telemetry, and MSAL's instance discovery off (it would ask
/// login.microsoftonline.com about the simulator's authority, as for Azure Stack).
pub fn az_shell(az: &Path, sim: &TlsSim, home: &Path) -> Command {
    let bin = az.parent().expect("venv bin");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.current_dir(home)
        .env("PATH", path)
        .env("HOME", home)
        .env("AZURE_CONFIG_DIR", home.join(".azure"))
        .env("KUBECONFIG", home.join(".kube").join("config"))
        .env("REQUESTS_CA_BUNDLE", &sim.ca)
        .env("AZURE_CORE_INSTANCE_DISCOVERY", "false")
        .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
        .env("AZURE_CORE_NO_COLOR", "true")
        .env("AZURE_CORE_SURVEY_MESSAGE", "false")
        .env("SIM_URL", &sim.url)
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_SECRET");
    cmd
}
