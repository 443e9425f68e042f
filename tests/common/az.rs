//! Microsoft's Azure CLI against the simulator: a pinned `azure-cli` installed from PyPI
//! into a virtualenv cached under the cargo target directory (built in a temporary directory
//! and renamed into place, so parallel tests and CI runs never see half an install), and
//! `plinth sim serve --tls` with its CA certificate for `az` (through `REQUESTS_CA_BUNDLE`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `azure-cli` version the tests pin.
pub const AZ_VERSION: &str = "2.91.0";

/// The cargo target directory (`target/`): two levels above the plinth binary.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let bin = crate::common::plinth_bin();
    bin.parent()
        .and_then(Path::parent)
        .expect("the plinth binary lies in target/<profile>/")
        .to_path_buf()
}

/// Whether PyPI answers (the only reason the Azure CLI tests may skip).
fn pypi_reachable(python: &str) -> bool {
    let probe = "import urllib.request,sys\n\
        try:\n    urllib.request.urlopen('https://pypi.org/simple/azure-cli/', timeout=20)\n\
        except Exception as e:\n    print(e); sys.exit(1)";
    Command::new(python)
        .args(["-c", probe])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[track_caller]
fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `az` executable of the pinned Azure CLI, installed on first use; `None` (with a
/// printed reason) only when PyPI cannot be reached.
pub fn az_cli() -> Option<PathBuf> {
    let venv = target_dir().join(format!("az-venv-{AZ_VERSION}"));
    let az = venv.join("bin").join("az");
    if az.is_file() {
        return Some(az);
    }
    let python = "python3";
    let has_python = Command::new(python)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_python,
        "the Azure CLI tests install azure-cli with python3, which is not installed (apt-get install python3 python3-venv)"
    );
    if !pypi_reachable(python) {
        println!(
            "SKIPPED: PyPI (https://pypi.org) cannot be reached to install azure-cli=={AZ_VERSION}; \
             this test needs it once (then it is cached in {})",
            venv.display()
        );
        return None;
    }
    let building = target_dir().join(format!(
        "az-venv-{AZ_VERSION}.building-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&building);
    run_ok(
        Command::new(python).args(["-m", "venv"]).arg(&building),
        "python3 -m venv (install python3-venv)",
    );
    run_ok(
        Command::new(building.join("bin").join("pip"))
            .args(["install", "--quiet", &format!("azure-cli=={AZ_VERSION}")])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
        &format!("pip install azure-cli=={AZ_VERSION}"),
    );
    // A virtualenv names its own path in its scripts: fix them for the final place before
    // the rename makes it visible.
    let bin = building.join("bin");
    for entry in std::fs::read_dir(&bin).expect("venv bin").flatten() {
        let p = entry.path();
        if let Ok(text) = std::fs::read_to_string(&p)
            && text.contains(building.to_str().expect("utf-8 path"))
        {
            let fixed = text.replace(building.to_str().unwrap(), venv.to_str().unwrap());
            std::fs::write(&p, fixed).expect("rewrite venv script");
        }
    }
    let cfg = building.join("pyvenv.cfg");
    if let Ok(text) = std::fs::read_to_string(&cfg) {
        let fixed = text.replace(building.to_str().unwrap(), venv.to_str().unwrap());
        std::fs::write(&cfg, fixed).expect("rewrite pyvenv.cfg");
    }
    if std::fs::rename(&building, &venv).is_err() {
        // Another test or run finished first: use its install.
        let _ = std::fs::remove_dir_all(&building);
    }
    assert!(az.is_file(), "no az in {} after install", venv.display());
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
