//! Shared by the simulator's tests: a simulator on a runtime of its own, clusters with
//! kubeconfigs, a real `kubectl`, a minimal HTTP client, and ARM with a token from the
//! simulated Entra (an AKS cluster created over ARM, its kubeconfig).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;
use plinth_sim::{SimConfig, SimHandle, k8s::Cluster};
use serde_json::{Value, json};

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const SUB: &str = "00000000-0000-0000-0000-0000000000aa";

/// The client-credentials form the simulated Entra token endpoint takes for an ARM token.
pub const TOKEN_FORM: &str = "grant_type=client_credentials&client_id=app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default";

/// The head of an HTTP/1.1 request with `headers` and a body of `len` bytes.
pub fn request_head(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    len: usize,
) -> String {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {len}\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req
}

/// One blocking HTTP/1.1 request (the simulator serves on its own runtime): the status and
/// the (de-chunked) body as JSON (`Null` when empty, a string when not JSON).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut req = request_head(addr, method, path, headers, body.len());
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send");
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).expect("receive");
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (head, mut body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .expect("response");
    body = dechunk(&head, body);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or(Value::String(body))
    };
    (status, json)
}

/// The body of a response with `head`, its chunked transfer encoding undone.
pub fn dechunk(head: &str, body: String) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body;
    }
    let mut out = String::new();
    let mut rest = body.as_str();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

/// ARM as a client sees it: requests with a bearer token from the simulated Entra.
pub struct Arm {
    pub addr: SocketAddr,
    /// `Bearer …`
    pub bearer: String,
}

impl Arm {
    /// Fetches a token for ARM from the simulated Entra.
    pub fn new(addr: SocketAddr) -> Arm {
        let (status, tok) = http(
            addr,
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            &[("content-type", "application/x-www-form-urlencoded")],
            TOKEN_FORM,
        );
        assert_eq!(status, 200, "{tok}");
        let bearer = format!("Bearer {}", tok["access_token"].as_str().expect("token"));
        Arm { addr, bearer }
    }

    /// One ARM request (`Null`: no body).
    pub fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        http(
            self.addr,
            method,
            path,
            &[
                ("authorization", &self.bearer),
                ("content-type", "application/json"),
            ],
            &text,
        )
    }

    /// A PUT that must succeed (200 or 201): the resource.
    pub fn put(&self, id: &str, api: &str, body: Value) -> Value {
        let (status, body) = self.call("PUT", &format!("{id}?api-version={api}"), body);
        assert!(status == 200 || status == 201, "PUT {id}: {status} {body}");
        body
    }

    /// A GET that must answer 200: the resource.
    pub fn get(&self, id: &str, api: &str) -> Value {
        let (status, body) = self.call("GET", &format!("{id}?api-version={api}"), Value::Null);
        assert_eq!(status, 200, "GET {id}: {body}");
        body
    }

    /// The cluster's kubeconfig from `listClusterUserCredential`, decoded.
    pub fn kubeconfig(&self, aks: &str) -> String {
        let (status, creds) = self.call(
            "POST",
            &format!("{aks}/listClusterUserCredential?api-version={AKS_API}"),
            Value::Null,
        );
        assert_eq!(status, 200, "{creds}");
        let encoded = creds["kubeconfigs"][0]["value"]
            .as_str()
            .expect("kubeconfig value");
        let kubeconfig = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64 kubeconfig");
        String::from_utf8(kubeconfig).expect("utf-8 kubeconfig")
    }
}

/// The managedClusters API version the tests use.
pub const AKS_API: &str = "2025-10-01";

/// An AKS cluster's body: OIDC issuer, workload identity and the KEDA add-on, one system pool.
pub fn aks_body(dns_prefix: &str) -> Value {
    json!({
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "dnsPrefix": dns_prefix,
            "oidcIssuerProfile": {"enabled": true},
            "securityProfile": {"workloadIdentity": {"enabled": true}},
            "workloadAutoScalerProfile": {"keda": {"enabled": true}},
            "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System"}]
        }
    })
}

pub struct Sim {
    pub rt: tokio::runtime::Runtime,
    pub handle: SimHandle,
    pub dir: tempfile::TempDir,
}

/// One cluster as a client sees it.
pub struct Kube {
    pub key: String,
    pub token: String,
    pub kubeconfig: PathBuf,
    pub cache: PathBuf,
    pub addr: std::net::SocketAddr,
}

pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Sim {
    pub fn start() -> Sim {
        Sim::start_with(SimConfig::default())
    }

    /// A simulator with `config` (e.g. a world file).
    pub fn start_with(config: SimConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handle = serve(&rt, config);
        Sim {
            rt,
            handle,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Stops the simulator and starts it again with the same configuration (so the same world
    /// file) on a new port; the runtime and the temp dir stay.
    pub fn restart(self) -> Sim {
        let Sim { rt, handle, dir } = self;
        let config = handle.shared.config.clone();
        rt.block_on(handle.shutdown()).unwrap();
        let handle = serve(&rt, config);
        Sim { rt, handle, dir }
    }

    /// The ARM client of this simulator, with a fresh token.
    pub fn arm(&self) -> Arm {
        Arm::new(self.handle.addr)
    }

    /// A client of the cluster the kubeconfig `yaml` names (written to `file`): its key is the
    /// server URL's last segment, `{sim}/k8s/{key}`.
    pub fn kube_from_kubeconfig(&self, file: &str, yaml: &str) -> Kube {
        let (_, server) = yaml.split_once("/k8s/").expect("server url");
        Kube {
            key: server.lines().next().unwrap().trim().to_string(),
            token: String::new(),
            kubeconfig: self.write(file, yaml),
            cache: self.dir.path().join("cache"),
            addr: self.handle.addr,
        }
    }

    /// Adds a cluster under `key` and writes its kubeconfig.
    pub fn cluster(&self, key: &str, keda: bool) -> Kube {
        let cluster = Cluster::new(key, keda);
        let token = cluster.token.clone();
        {
            let mut world = self.handle.shared.world();
            world.clusters.insert(key.to_string(), cluster);
            // What AKS starts with: the add-on's Deployments run their pods.
            plinth_sim::k8s::reconcile(&mut world);
        }
        let kubeconfig = self.dir.path().join(format!("{key}.kubeconfig"));
        let server = format!("{}/k8s/{key}", self.handle.url);
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: {key}\n  cluster:\n    server: {server}\nusers:\n- name: {key}-user\n  user:\n    token: {token}\ncontexts:\n- name: {key}\n  context:\n    cluster: {key}\n    user: {key}-user\n    namespace: default\ncurrent-context: {key}\n"
            ),
        )
        .unwrap();
        Kube {
            key: key.to_string(),
            token,
            kubeconfig,
            cache: self.dir.path().join(format!("cache-{key}")),
            addr: self.handle.addr,
        }
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// A simulator on a loopback ephemeral port, serving on `rt`.
fn serve(rt: &tokio::runtime::Runtime, config: SimConfig) -> SimHandle {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        plinth_sim::start(listener, config).await.unwrap()
    })
}

/// Fails the test with a clear message when kubectl is not installed.
pub fn require_kubectl() {
    match Command::new("kubectl")
        .args(["version", "--client"])
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "`kubectl version --client` failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            panic!("these tests drive a real kubectl, which is not installed or not on PATH ({e})")
        }
    }
}

pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kube {
    /// Runs kubectl against this cluster (blocking: the simulator serves on its runtime).
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let out: Output = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("KUBECONFIG")
            .output()
            .expect("running kubectl");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// kubectl that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.kubectl(args);
        assert!(
            r.ok,
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        r.stdout
    }

    /// `kubectl get WHAT -o yaml --show-managed-fields` (must succeed).
    pub fn get_yaml(&self, what: &[&str]) -> String {
        let mut args = vec!["get"];
        args.extend(what);
        args.extend(["-o", "yaml", "--show-managed-fields"]);
        self.ok(&args)
    }

    /// The KEDA add-on's `keda-operator` Deployment through a kubectl jsonpath.
    pub fn keda_operator_jsonpath(&self, jsonpath: &str) -> String {
        self.ok(&[
            "get",
            "deployment",
            "keda-operator",
            "-n",
            "kube-system",
            "-o",
            &format!("jsonpath={jsonpath}"),
        ])
    }

    /// kubectl that must fail with `needle` in its stderr.
    #[track_caller]
    pub fn fails(&self, args: &[&str], needle: &str) {
        let r = self.kubectl(args);
        assert!(!r.ok && r.stderr.contains(needle), "{}", r.stderr);
    }

    /// One HTTP request to this cluster's API (`path` below `/k8s/{key}`), with its token.
    pub fn http(&self, method: &str, path: &str, content_type: Option<&str>, body: &str) -> Resp {
        self.http_with(method, path, content_type, body, Some(&self.token.clone()))
    }

    pub fn http_with(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &str,
        token: Option<&str>,
    ) -> Resp {
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        let mut req = format!(
            "{method} /k8s/{}{path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: k8s-test/1.0\r\n",
            self.key, self.addr
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(ct) = content_type {
            req.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let body = dechunk(head, body.to_string());
        let body = body.as_str();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default();
        Resp {
            status,
            content_type,
            body: serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
        }
    }
}
