//! A simulated cloud for end-to-end tests: `plinth sim serve` on an ephemeral port, plain
//! HTTP to its admin endpoints, and a real `kubectl` pointed at a simulated AKS cluster with
//! the kubeconfig ARM hands out.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::{Project, Run};

/// `plinth sim serve` on an ephemeral port; its URL is its first line of output.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    pub fn start(world: &Path) -> Sim {
        Sim::start_args(world, &["--latency", "instant"])
    }

    /// With more `plinth sim serve` flags (`--latency`, `--faults`, `--seed`).
    pub fn start_args(world: &Path, flags: &[&str]) -> Sim {
        let mut child = super::plinth_command(world.parent().unwrap())
            .args(["sim", "serve", "--addr", "127.0.0.1:0", "--world"])
            .arg(world)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn plinth sim serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read url");
        let url = line.trim().to_string();
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("plinth sim serve did not print its URL first: {url:?}");
        }
        Sim { child, url }
    }

    /// Stops the simulator as Ctrl-C does (SIGINT, so it saves its world) and checks that it
    /// exited cleanly.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        assert!(exit.success(), "sim exited with {exit}: {err}");
    }

    /// The simulator's request log.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let body = http_get(&self.url, "/_sim/requests");
        serde_json::from_str::<serde_json::Value>(&body)
            .expect("request log is JSON")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Sim {
    /// Lets simulated time pass until the clusters' controllers (Jobs, KEDA) have nothing
    /// left to do: `POST /_sim/settle`, the explicit readiness signal.
    pub fn settle(&self) {
        let (status, body) = http(&self.url, "POST", "/_sim/settle");
        assert_eq!(status, 200, "settle: {body}");
    }

    /// The ids of every ARM resource the simulated subscription holds.
    pub fn inventory(&self) -> Vec<String> {
        let body = http_get(&self.url, "/_sim/resources");
        let doc: serde_json::Value = serde_json::from_str(&body).expect("inventory JSON");
        doc["resources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn http_get(url: &str, path: &str) -> String {
    http(url, "GET", path).1
}

/// `GET {path}` that must answer 200: the body.
#[track_caller]
pub fn http_get_ok(url: &str, path: &str) -> String {
    let (status, body) = http(url, "GET", path);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// One HTTP/1.1 request with an empty body: the status and the (de-chunked) body.
pub fn http(url: &str, method: &str, path: &str) -> (u16, String) {
    request(url, method, path, &[], "")
}

/// One HTTP/1.1 request with `headers` and `body`: the status and the (de-chunked) body.
pub fn request(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::Write;
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").expect("response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return (status, body.to_string());
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    (status, out)
}

pub fn require_kubectl() {
    match Command::new("kubectl")
        .args(["version", "--client"])
        .output()
    {
        Ok(o) if o.status.success() => {}
        other => panic!("this test drives a real kubectl, which is not usable: {other:?}"),
    }
}

/// kubectl with the kubeconfig ARM hands out for the cluster.
pub struct Kubectl {
    pub kubeconfig: std::path::PathBuf,
}

impl Kubectl {
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .expect("run kubectl")
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn restarted_at(&self) -> String {
        self.ok(&[
            "get",
            "deployment",
            "keda-operator",
            "-n",
            "kube-system",
            "-o",
            r#"jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}"#,
        ])
    }
}

/// The cluster's kubeconfig from ARM's listClusterUserCredential (through the Azure provider,
/// as plinth fetches it), written to the test's temp dir.
pub fn kubectl_for(project: &Project, sim: &Sim, cluster_id: &str) -> Kubectl {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let azure = plinth_provider_azure::AzureProvider::new(
        plinth_provider_azure::AzureSettings::for_sim_with(&sim.url, |_| None),
    );
    let yaml = rt
        .block_on(azure.cluster_kubeconfig(cluster_id, false))
        .expect("listClusterUserCredential")
        .expect("the cluster exists");
    let path = project.dir.parent().unwrap().join("kubeconfig");
    std::fs::write(&path, yaml).unwrap();
    Kubectl { kubeconfig: path }
}

impl Project {
    pub fn sim_run(&self, sim: &Sim, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--sim", &sim.url]);
        self.run(&all)
    }
}
