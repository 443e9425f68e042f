//! ARM, Entra and admin parts of the simulated cloud, driven over real HTTP, checked against the
//! reference examples in `../shared/reference/azure-arm` (relative to the repository root).

#[path = "../k8s_support/mod.rs"]
mod k8s_support;

mod as_az_meets_it;
mod basics;
mod groups_and_clusters;
mod list_pages;
mod lists_limits_and_admin;
mod roles;
mod servicebus_and_identities;

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine;
use plinth_sim::{Latency, SimConfig, SimHandle};
use serde_json::{Value, json};
use std::io::{Read, Write};

const SUB: &str = "00000000-0000-0000-0000-000000000000";
const TENANT: &str = "11111111-2222-3333-4444-555555555555";

// ---------- reference data (shared by the test modules) ----------

/// The ARM reference data (`shared/reference/azure-arm`, kept beside the repository, never in
/// it): `$PLINTH_REFERENCE_DIR`, else `shared/reference` beside any ancestor of this crate (the
/// repository's `../shared`), else the workplace's `/work/shared/reference` (a clone elsewhere,
/// e.g. a clean clone in /tmp, on the same machine).
fn reference_dir() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("PLINTH_REFERENCE_DIR") {
        candidates.push(PathBuf::from(d).join("azure-arm"));
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for ancestor in manifest.ancestors() {
        candidates.push(ancestor.join("shared/reference/azure-arm"));
    }
    candidates.push(PathBuf::from("/work/shared/reference/azure-arm"));
    match candidates.iter().find(|d| d.join("SOURCES.md").is_file()) {
        Some(d) => d.clone(),
        None => panic!(
            "the ARM reference data is missing: looked for shared/reference/azure-arm in {}; set PLINTH_REFERENCE_DIR to the reference directory",
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn example(rel: &str) -> Value {
    let path = reference_dir().join("specs").join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read reference example {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Paths where `actual` lacks a key of `expected` or holds another JSON type.
fn shape_diff(actual: &Value, expected: &Value, path: &str, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let p = format!("{path}/{k}");
                match a.get(k) {
                    None => out.push(format!("missing {p}")),
                    Some(av) => shape_diff(av, ev, &p, out),
                }
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            if let (Some(a0), Some(e0)) = (a.first(), e.first()) {
                shape_diff(a0, e0, &format!("{path}/0"), out);
            }
        }
        (a, e) if kind(a) != kind(e) => out.push(format!(
            "type of {path}: {} instead of {}",
            kind(a),
            kind(e)
        )),
        _ => {}
    }
}

fn assert_shape(actual: &Value, expected: &Value, allowed_missing: &[&str]) {
    let mut diffs = Vec::new();
    shape_diff(actual, expected, "", &mut diffs);
    diffs.retain(|d| {
        !allowed_missing
            .iter()
            .any(|a| d == &format!("missing {a}") || d.starts_with(&format!("missing {a}/")))
    });
    assert!(
        diffs.is_empty(),
        "response shape differs from the reference:\n{}\nactual: {actual:#}",
        diffs.join("\n")
    );
}

fn assert_guid(v: &Value, what: &str) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"));
    assert!(
        uuid::Uuid::parse_str(s).is_ok(),
        "{what} is not a GUID: {s}"
    );
}

// ---------- a tiny HTTP client ----------

struct Resp {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

async fn raw(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut bytes = k8s_support::request_head(addr, method, path, headers, body.len()).into_bytes();
    bytes.extend_from_slice(body);
    // Blocking std I/O on a blocking thread (the sim serves on the runtime's other threads).
    let buf = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.write_all(&bytes)?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf)?;
        Ok(buf)
    })
    .await
    .map_err(std::io::Error::other)??;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut rest = buf[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status"))?;
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        let mut out = Vec::new();
        loop {
            let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                return Err(std::io::Error::other("truncated chunk"));
            };
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16)
                .map_err(std::io::Error::other)?;
            if size == 0 {
                break;
            }
            if rest.len() < eol + 2 + size {
                return Err(std::io::Error::other("truncated chunk"));
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = rest[eol + 2 + size + 2.min(rest.len() - eol - 2 - size)..].to_vec();
        }
        rest = out;
    } else if let Some(len) = headers
        .get("content-length")
        .and_then(|l| l.parse::<usize>().ok())
        && rest.len() < len
    {
        return Err(std::io::Error::other("truncated body"));
    }
    Ok(Resp {
        status,
        headers,
        body: rest,
    })
}

struct Sim {
    h: SimHandle,
    token: String,
}

fn config() -> SimConfig {
    SimConfig {
        latency: Latency::Instant,
        ..SimConfig::default()
    }
}

async fn sim_with(config: SimConfig) -> Sim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let h = plinth_sim::start(listener, config).await.unwrap();
    let resp = raw(
        h.addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        k8s_support::TOKEN_FORM.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(
        resp.status,
        200,
        "token: {}",
        String::from_utf8_lossy(&resp.body)
    );
    let token = resp.json()["access_token"].as_str().unwrap().to_string();
    Sim { h, token }
}

async fn sim() -> Sim {
    sim_with(config()).await
}

impl Sim {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.try_call(method, path, body).await.unwrap()
    }
    async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> std::io::Result<Resp> {
        let auth = format!("Bearer {}", self.token);
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        raw(
            self.h.addr,
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            &bytes,
        )
        .await
    }
    async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(body)).await
    }
    async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }
    async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, None).await
    }
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        raw(
            self.h.addr,
            method,
            path,
            &[("content-type", "application/json")],
            &bytes,
        )
        .await
        .unwrap()
    }
    async fn settings(&self, s: Value) {
        let r = self.admin("PUT", "/_sim/config", Some(s)).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    /// Path (and query) of an absolute URL this simulator handed out.
    fn local(&self, url: &str) -> String {
        url.strip_prefix(&self.h.url)
            .unwrap_or_else(|| panic!("{url} does not point at the simulator {}", self.h.url))
            .to_string()
    }
    async fn rg(&self, name: &str) {
        let r = self
            .put(&rg_path(name), json!({"location": "eastus"}))
            .await;
        assert!(
            r.status == 201 || r.status == 200,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
}

fn rg_path(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}?api-version=2025-04-01")
}

fn rg_id(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}

fn uai_path(rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2024-11-30",
        rg_id(rg)
    )
}

fn ns_id(rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ServiceBus/namespaces/{name}",
        rg_id(rg)
    )
}

fn aks_id(rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ContainerService/managedClusters/{name}",
        rg_id(rg)
    )
}

fn ra_path(scope: &str, name: &str) -> String {
    format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"
    )
}
