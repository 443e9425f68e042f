//! `plinth sim serve --tls` end to end: it prints where its CA certificate is (stderr) before
//! its `https://` URL (stdout); plinth applies through it with `--sim URL --sim-ca PATH`;
//! `plinth sim kubeconfig` hands out a kubeconfig with `certificate-authority-data` that a
//! real kubectl trusts; the AKS OIDC issuer is `https://`; a missing or wrong `--sim-ca` is a
//! clear error. Microsoft's Python SDKs (azure-identity, azure-mgmt-resource) work unmodified
//! against it with `REQUESTS_CA_BUNDLE` (in a venv cached under the target directory; the test
//! is skipped, saying so, when PyPI cannot be reached).
//!
//! Readiness is explicit (the simulator prints its URL; commands exit); nothing sleeps.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

use base64::Engine as _;
use common::Project;
use common::sim::require_kubectl;

/// `plinth sim serve --tls` on an ephemeral port.
struct TlsSim {
    child: Child,
    url: String,
    /// The CA certificate it printed the path of.
    ca: PathBuf,
    /// Kept open: the simulator may still write to stderr.
    _stderr: BufReader<ChildStderr>,
}

impl TlsSim {
    fn start(world: &Path) -> TlsSim {
        TlsSim::spawn(
            world.parent().unwrap(),
            &["--world".as_ref(), world.as_os_str()],
        )
    }

    /// `plinth sim serve --tls` in `dir`, with more flags.
    fn spawn(dir: &Path, flags: &[&std::ffi::OsStr]) -> TlsSim {
        let mut child = common::plinth_command(dir)
            .args(["sim", "serve", "--tls", "--latency", "instant"])
            .args(["--addr", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn plinth sim serve --tls");
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .expect("read the URL");
        let url = url.trim().to_string();
        // The CA line comes before the URL, so it is there once the URL is.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).expect("read the CA line");
        let ca = line
            .strip_prefix("plinth sim: CA certificate in ")
            .and_then(|rest| rest.split(" (").next())
            .map(PathBuf::from);
        let (true, Some(ca)) = (url.starts_with("https://127.0.0.1:"), ca) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("plinth sim serve --tls printed {url:?} and {line:?}");
        };
        TlsSim {
            child,
            url,
            ca,
            _stderr: stderr,
        }
    }

    /// Stops it as Ctrl-C does, checking that it exited cleanly.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "sim exited with {exit}");
    }
}

impl Drop for TlsSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CONFIG: &str = r#"
[provider.kubernetes]
cluster = "aks"

[resource.rg]
type = "azure:Microsoft.Resources/resourceGroups@2025-04-01"
name = "tls-rg"
location = "eastus"

[resource.aks]
type = "azure:Microsoft.ContainerService/managedClusters@2025-10-01"
parent = "${rg.id}"
name = "tls-aks"
location = "eastus"
[resource.aks.body]
identity.type = "SystemAssigned"
properties.dnsPrefix = "tls"
properties.oidcIssuerProfile.enabled = true
properties.securityProfile.workloadIdentity.enabled = true
properties.agentPoolProfiles = [{ name = "system", count = 1, vmSize = "Standard_D2s_v5", mode = "System" }]

[resource.sa]
type = "k8s:v1/ServiceAccount"
[resource.sa.manifest.metadata]
name = "tls-sa"
"#;

#[test]
fn plinth_and_kubectl_trust_exactly_the_ca_sim_serve_tls_prints() {
    require_kubectl();
    let project = Project::with_main(CONFIG);
    let root = project.dir.parent().unwrap().to_path_buf();
    let sim = TlsSim::start(&root.join("world.json"));
    assert_eq!(sim.ca, root.join("world.ca.pem"));
    let ca_pem = std::fs::read_to_string(&sim.ca).expect("the CA bundle");
    let ca = sim.ca.to_str().unwrap().to_string();
    let url = sim.url.clone();

    project.apply(&["--sim", &url, "--sim-ca", &ca]);
    // PLINTH_SIM and PLINTH_SIM_CA name them as the flags do; nothing changed.
    project
        .run_env(
            &["plan", "--detailed-exitcode"],
            &[("PLINTH_SIM", &url), ("PLINTH_SIM_CA", &ca)],
        )
        .code(0);
    let state = project.state();
    let issuer =
        state["resources"]["aks"]["attributes"]["properties"]["oidcIssuerProfile"]["issuerURL"]
            .as_str()
            .unwrap_or_else(|| panic!("an OIDC issuer in {state:#}"));
    assert!(issuer.starts_with(&format!("{url}/oidc/")), "{issuer}");

    let kubeconfig = project
        .ok(&["sim", "kubeconfig", "--sim", &url, "--sim-ca", &ca])
        .stdout;
    let data = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .unwrap_or_else(|| panic!("certificate-authority-data in {kubeconfig}"));
    assert_eq!(
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap()
        )
        .unwrap(),
        ca_pem
    );
    assert!(
        kubeconfig.contains(&format!("server: {url}/k8s/")),
        "{kubeconfig}"
    );
    let path = root.join("kubeconfig");
    std::fs::write(&path, &kubeconfig).unwrap();
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&path)
        .args(["get", "serviceaccount", "tls-sa", "-o", "name"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "serviceaccount/tls-sa"
    );
    // Without the CA, kubectl does not trust the simulator.
    let untrusting: String = kubeconfig
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, untrusting).unwrap();
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&path)
        .args(["get", "serviceaccount", "tls-sa"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "kubectl trusted an unknown CA");
    assert!(stderr.contains("unknown authority"), "{stderr}");

    // An https simulator without --sim-ca, and with another simulator's CA: clear errors.
    project
        .fails(&["plan", "--sim", &url])
        .stderr_has("serves HTTPS")
        .stderr_has("--sim-ca");
    let other = TlsSim::start(&root.join("other.json"));
    let wrong = other.ca.to_str().unwrap().to_string();
    project
        .fails(&["plan", "--sim", &url, "--sim-ca", &wrong])
        .stderr_has("signed by an unknown authority")
        .stderr_has("--sim-ca PATH printed by `plinth sim serve --tls`");
    project
        .fails(&["plan", "--sim", &url, "--sim-ca", "/nonexistent/ca.pem"])
        .stderr_has("--sim-ca /nonexistent/ca.pem: cannot be read");
    other.stop();
    sim.stop();
}

#[test]
fn without_a_world_the_ca_is_in_a_private_directory_removed_at_the_end() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let sim = TlsSim::spawn(tmp.path(), &[]);
    let dir = sim.ca.parent().unwrap().to_path_buf();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{}", dir.display());
    let pem = std::fs::read_to_string(&sim.ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(!pem.contains("PRIVATE KEY"), "the bundle holds no key");
    assert!(
        std::fs::read_dir(&dir).unwrap().count() == 1,
        "only the certificate: the key stays in memory"
    );
    sim.stop();
    assert!(!dir.exists(), "{} removed", dir.display());
}

const PY_SCRIPT: &str = r#"
import json, sys
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient

url, tenant, sub = sys.argv[1], sys.argv[2], sys.argv[3]
# A custom authority (as for Azure Stack): no instance discovery at login.microsoftonline.com.
cred = ClientSecretCredential(tenant, "python-app", "python-secret", authority=url,
                              disable_instance_discovery=True)
client = ResourceManagementClient(cred, sub, base_url=url,
                                  credential_scopes=["https://management.azure.com/.default"])
rg = client.resource_groups.create_or_update("py-rg", {"location": "eastus", "tags": {"made": "python"}})
got = client.resource_groups.get("py-rg")
print(json.dumps({
    "created": rg.name,
    "state": rg.properties.provisioning_state,
    "tags": got.tags,
    "listed": sorted(g.name for g in client.resource_groups.list()),
}))
"#;

#[test]
fn microsofts_python_sdks_work_against_it_with_requests_ca_bundle() {
    // The pinned SDKs of tools/python/azure-sdk.txt (their module layout is part of the
    // script above).
    let Some(venv) = common::python::venv("azure-sdk") else {
        return;
    };
    let python = venv.join("bin/python");
    let tmp = tempfile::tempdir().unwrap();
    let sim = TlsSim::start(&tmp.path().join("world.json"));
    let script = tmp.path().join("sdk.py");
    std::fs::write(&script, PY_SCRIPT).unwrap();
    let sdk = |ca_bundle: Option<&Path>| {
        let mut cmd = Command::new(&python);
        cmd.arg(&script).args([
            sim.url.as_str(),
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "00000000-0000-0000-0000-000000000001",
        ]);
        // Nothing from the developer's shell decides what is trusted.
        for k in [
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "CURL_CA_BUNDLE",
            "AZURE_AUTHORITY_HOST",
        ] {
            cmd.env_remove(k);
        }
        if let Some(ca) = ca_bundle {
            cmd.env("REQUESTS_CA_BUNDLE", ca);
        }
        cmd.output().expect("run python")
    };

    let out = sdk(Some(&sim.ca));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(doc["created"], "py-rg", "{doc}");
    assert_eq!(doc["state"], "Succeeded", "{doc}");
    assert_eq!(doc["tags"]["made"], "python", "{doc}");
    assert_eq!(doc["listed"], serde_json::json!(["py-rg"]), "{doc}");

    // Without the bundle the SDK does not trust the simulator.
    let out = sdk(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the SDK trusted an unknown CA");
    assert!(stderr.contains("CERTIFICATE_VERIFY_FAILED"), "{stderr}");
    sim.stop();
}
