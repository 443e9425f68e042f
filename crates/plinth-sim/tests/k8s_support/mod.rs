//! Shared by the k8s_* tests: a simulator on a runtime of its own, clusters with kubeconfigs,
//! a real `kubectl`, and a minimal HTTP client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output};

use plinth_sim::{SimConfig, SimHandle, k8s::Cluster};
use serde_json::Value;

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
        let handle = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            plinth_sim::start(listener, config).await.unwrap()
        });
        Sim {
            rt,
            handle,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Adds a cluster under `key` and writes its kubeconfig.
    pub fn cluster(&self, key: &str, keda: bool) -> Kube {
        let cluster = Cluster::new(key, keda);
        let token = cluster.token.clone();
        self.handle
            .shared
            .world()
            .clusters
            .insert(key.to_string(), cluster);
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
