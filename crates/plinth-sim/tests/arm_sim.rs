//! ARM, Entra and admin parts of the simulated cloud, driven over real HTTP, checked against the
//! reference examples in `../shared/reference/azure-arm` (relative to the repository root).

mod k8s_support;

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine;
use plinth_sim::{Latency, SimConfig, SimHandle};
use serde_json::{Value, json};
use std::io::{Read, Write};

const SUB: &str = "00000000-0000-0000-0000-000000000000";
const TENANT: &str = "11111111-2222-3333-4444-555555555555";

// ---------- reference data ----------

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

// ---------- authentication and request basics ----------

#[tokio::test]
async fn arm_requires_api_version_and_a_valid_token() {
    let s = sim().await;
    let r = s.get(&rg_id("rg1")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "MissingApiVersionParameter");
    assert!(r.json()["error"]["message"].is_string());

    let r = raw(s.h.addr, "GET", &rg_path("rg1"), &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "AuthenticationFailed");
    let r = raw(
        s.h.addr,
        "GET",
        &rg_path("rg1"),
        &[("authorization", "Bearer nonsense.token.here")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "InvalidAuthenticationToken");
}

#[tokio::test]
async fn entra_token_endpoint_and_discovery() {
    let s = sim().await;
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bnM6c2EifQ.c2ln";
    let body = format!(
        "grant_type=client_credentials&client_id=abc&scope=https%3A%2F%2Fmanagement.azure.com%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
    );
    let r = raw(
        s.h.addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[],
        body.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3599);
    assert_eq!(t["ext_expires_in"], 3599);
    let token = t["access_token"].as_str().unwrap();
    let ok = raw(
        s.h.addr,
        "GET",
        &rg_path("none"),
        &[("authorization", &format!("Bearer {token}"))],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        ok.status, 404,
        "a workload identity token is accepted by ARM"
    );

    // For a managed identity's client id, the assertion must match a federated credential.
    s.rg("rg").await;
    let uai = s
        .put(&uai_path("rg", "wi"), json!({"location": "eastus"}))
        .await
        .json();
    let client_id = uai["properties"]["clientId"].as_str().unwrap().to_string();
    let fic = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/wi/federatedIdentityCredentials/f?api-version=2024-11-30",
        rg_id("rg")
    );
    let r = s
        .put(
            &fic,
            json!({"properties": {"issuer": "https://issuer.example/", "subject": "system:serviceaccount:ns:sa", "audiences": ["api://AzureADTokenExchange"]}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exchange = |sub: &str| {
        let jwt = format!(
            "{}.{}.c2ln",
            b64(json!({"alg": "RS256"})),
            b64(
                json!({"iss": "https://issuer.example/", "sub": sub, "aud": ["api://AzureADTokenExchange"]})
            )
        );
        format!(
            "grant_type=client_credentials&client_id={client_id}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={jwt}"
        )
    };
    let path = format!("/{TENANT}/oauth2/v2.0/token");
    let r = raw(
        s.h.addr,
        "POST",
        &path,
        &[],
        exchange("system:serviceaccount:ns:sa").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = raw(
        s.h.addr,
        "POST",
        &path,
        &[],
        exchange("system:serviceaccount:ns:other").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS70021")
    );

    let r = raw(
        s.h.addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[],
        b"client_id=x",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS900144")
    );
    let r = raw(
        s.h.addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[],
        b"grant_type=client_credentials&client_id=x",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");

    let r = raw(
        s.h.addr,
        "GET",
        &format!("/{TENANT}/v2.0/.well-known/openid-configuration"),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["token_endpoint"],
        format!("{}/{TENANT}/oauth2/v2.0/token", s.h.url)
    );
}

// ---------- resource groups ----------

#[tokio::test]
async fn arm_resource_group_fidelity_casing_and_cascade_delete() {
    let s = sim().await;
    let ex = example(
        "resources/resource-manager/Microsoft.Resources/stable/2025-04-01/examples/CreateResourceGroup.json",
    );
    let r = s
        .put(&rg_path("My-RG"), ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 201);
    let body = r.json();
    assert_shape(&body, &ex["responses"]["201"]["body"], &[]);
    assert_eq!(body["id"], rg_id("My-RG"));
    assert_eq!(body["name"], "My-RG");
    assert_eq!(body["type"], "Microsoft.Resources/resourceGroups");
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    let r = s
        .put(&rg_path("My-RG"), ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 200);
    assert_shape(&r.json(), &ex["responses"]["200"]["body"], &[]);

    // A group's location is fixed.
    let r = s
        .put(&rg_path("My-RG"), json!({"location": "westeurope"}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "InvalidResourceGroupLocation");

    // Case-insensitive ids; the casing of the creation is what comes back.
    let r = s
        .get(&format!(
            "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/my-rg?api-version=2025-04-01"
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], rg_id("My-RG"));

    // Cascade delete: an identity inside goes with the group.
    let r = s
        .put(&uai_path("my-rg", "id1"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.status, 201);
    let r = s.delete(&rg_path("My-RG")).await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    let loc = r.header("location").expect("Location header").to_string();
    let poll = s.get(&s.local(&loc)).await;
    assert_eq!(poll.status, 200);
    let r = s.get(&rg_path("My-RG")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    let r = s.get(&uai_path("my-rg", "id1")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    let all = s.admin("GET", "/_sim/resources", None).await.json();
    assert_eq!(all["resources"].as_array().unwrap().len(), 0);
    // HEAD on a group: 204 when it exists, 404 when not (az group exists).
    assert_eq!(s.call("HEAD", &rg_path("My-RG"), None).await.status, 404);
    s.rg("other").await;
    assert_eq!(s.call("HEAD", &rg_path("other"), None).await.status, 204);
    // Deleting a missing group is a 404.
    assert_eq!(
        s.delete(&rg_path("My-RG")).await.code(),
        "ResourceGroupNotFound"
    );
}

#[tokio::test]
async fn arm_resource_group_delete_location_answers_202_while_running() {
    let s = sim().await;
    s.rg("slow").await;
    s.settings(json!({"operation_ms": 60000})).await;
    let r = s.delete(&rg_path("slow")).await;
    assert_eq!(r.status, 202);
    let loc = s.local(r.header("location").unwrap());
    let poll = s.get(&loc).await;
    assert_eq!(poll.status, 202);
    assert!(poll.header("location").is_some());
    let r = s.get(&rg_path("slow")).await;
    assert_eq!(r.json()["properties"]["provisioningState"], "Deleting");
    let r = s
        .put(&uai_path("slow", "x"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "ResourceGroupBeingDeleted");
}

// ---------- AKS ----------

#[tokio::test]
async fn arm_aks_create_lro_fidelity_and_credentials() {
    let s = sim().await;
    s.rg("rg1").await;
    let ex = example(
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/examples/ManagedClustersCreate_Update.json",
    );
    let mut params = ex["parameters"]["parameters"].clone();
    params["properties"]["oidcIssuerProfile"] = json!({"enabled": true});
    params["properties"]["securityProfile"] = json!({"workloadIdentity": {"enabled": true}});
    params["identity"] = json!({"type": "SystemAssigned"});
    let path = format!("{}?api-version=2025-10-01", aks_id("rg1", "clustername1"));
    let r = s.put(&path, params.clone()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("location").is_none());
    let op_url = r
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation")
        .to_string();
    assert!(
        op_url.contains("/providers/Microsoft.ContainerService/locations/location1/operations/"),
        "{op_url}"
    );
    let created = r.json();
    assert_eq!(created["properties"]["provisioningState"], "Creating");
    // The example's 201 body, less what depends on a user-assigned identity / SP in its input.
    assert_shape(
        &created,
        &ex["responses"]["201"]["body"],
        &["/identity/userAssignedIdentities"],
    );

    let op = s.get(&s.local(&op_url)).await;
    assert_eq!(op.status, 200);
    assert_eq!(op.json()["status"], "Succeeded");

    let get = s.get(&path).await.json();
    let get_ex = example(
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/examples/ManagedClustersGet.json",
    );
    assert_shape(
        &get,
        &get_ex["responses"]["200"]["body"],
        &[
            "/eTag",
            "/properties/diskEncryptionSetID",
            "/properties/upgradeSettings",
            "/properties/agentPoolProfiles/0/eTag",
            "/properties/agentPoolProfiles/0/upgradeSettings",
            "/properties/networkProfile/loadBalancerProfile/outboundIPs",
        ],
    );
    let p = &get["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["agentPoolProfiles"][0]["provisioningState"], "Succeeded");
    assert!(
        p["fqdn"].as_str().unwrap().starts_with("dnsprefix1-")
            && p["fqdn"]
                .as_str()
                .unwrap()
                .ends_with(".hcp.location1.azmk8s.io")
    );
    assert!(
        p["azurePortalFQDN"]
            .as_str()
            .unwrap()
            .contains(".portal.hcp.")
    );
    assert_eq!(p["nodeResourceGroup"], "MC_rg1_clustername1_location1");
    let issuer = p["oidcIssuerProfile"]["issuerURL"].as_str().unwrap();
    assert!(
        issuer.starts_with(&format!("{}/oidc/", s.h.url)) && issuer.ends_with('/'),
        "{issuer}"
    );
    let disco = raw(
        s.h.addr,
        "GET",
        &format!("{}.well-known/openid-configuration", s.local(issuer)),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        disco.status,
        200,
        "{issuer}: {}",
        String::from_utf8_lossy(&disco.body)
    );
    assert_eq!(disco.json()["issuer"], issuer);
    assert_guid(&get["identity"]["principalId"], "identity.principalId");
    assert_eq!(get["identity"]["tenantId"], TENANT);
    assert_eq!(get["type"], "Microsoft.ContainerService/ManagedClusters");
    assert_eq!(get["id"], aks_id("rg1", "clustername1"));

    // Credentials: a kubeconfig pointing at this simulator's Kubernetes API for the cluster.
    let cred_ex = example(
        "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/examples/ManagedClustersListClusterUserCredentials.json",
    );
    for (action, name) in [
        ("listClusterUserCredential", "clusterUser"),
        ("listClusterAdminCredential", "clusterAdmin"),
    ] {
        let r = s
            .call(
                "POST",
                &format!(
                    "{}/{action}?api-version=2025-10-01",
                    aks_id("rg1", "clustername1")
                ),
                None,
            )
            .await;
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_shape(&body, &cred_ex["responses"]["200"]["body"], &[]);
        assert_eq!(body["kubeconfigs"][0]["name"], name);
        let yaml = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(body["kubeconfigs"][0]["value"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        let clusters = s.admin("GET", "/_sim/resources", None).await.json();
        let key = clusters["clusters"][0].as_str().unwrap().to_string();
        let token = &s.h.shared.world().clusters[&key].token.clone();
        assert!(
            yaml.contains(&format!("server: {}/k8s/{key}\n", s.h.url)),
            "{yaml}"
        );
        assert!(yaml.contains(&format!("token: {token}\n")), "{yaml}");
        assert!(yaml.contains("kind: Config"));
    }

    // dnsPrefix is create-only.
    let mut changed = params.clone();
    changed["properties"]["dnsPrefix"] = json!("other");
    let r = s.put(&path, changed).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "PropertyChangeNotAllowed");
    // So is the location.
    let mut moved = params.clone();
    moved["location"] = json!("westeurope");
    let r = s.put(&path, moved).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "InvalidResourceLocation");

    // PATCH tags is synchronous.
    let r = s
        .call("PATCH", &path, Some(json!({"tags": {"a": "b"}})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["tags"]["a"], "b");

    // DELETE: 202 with both headers; removes the cluster's Kubernetes API.
    let r = s.delete(&path).await;
    assert_eq!(r.status, 202);
    assert!(r.header("azure-asyncoperation").is_some());
    let loc = s.local(r.header("location").unwrap());
    assert!(loc.contains("/operationresults/"));
    assert_eq!(s.get(&loc).await.status, 204);
    assert_eq!(s.get(&path).await.status, 404);
    assert!(s.h.shared.world().clusters.is_empty());
}

#[tokio::test]
async fn arm_aks_write_during_operation_is_409_operation_not_allowed() {
    let s = sim().await;
    s.rg("rg1").await;
    s.settings(json!({"operation_ms": 60000})).await;
    let path = format!("{}?api-version=2025-10-01", aks_id("rg1", "c1"));
    let body = json!({"location": "eastus", "identity": {"type": "SystemAssigned"}, "properties": {"dnsPrefix": "c1", "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System"}]}});
    assert_eq!(s.put(&path, body.clone()).await.status, 201);
    let r = s.put(&path, body).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "OperationNotAllowed");
    let op = s.get(&path).await.json();
    assert_eq!(op["properties"]["provisioningState"], "Creating");
}

// ---------- Service Bus ----------

#[tokio::test]
async fn arm_servicebus_namespace_and_queue_fidelity() {
    let s = sim().await;
    s.rg("ArunMonocle").await;
    let ex = example(
        "servicebus/resource-manager/Microsoft.ServiceBus/stable/2024-01-01/examples/NameSpaces/SBNameSpaceCreate.json",
    );
    let ns_path = format!(
        "{}?api-version=2024-01-01",
        ns_id("ArunMonocle", "sdk-Namespace-2924")
    );
    let r = s
        .put(&ns_path, ex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("azure-asyncoperation").is_none() && r.header("location").is_none());
    let body = r.json();
    assert_shape(&body, &ex["responses"]["200"]["body"], &[]);
    assert_eq!(body["properties"]["provisioningState"], "Created");
    assert_eq!(body["properties"]["status"], "Activating");
    assert_eq!(
        body["properties"]["serviceBusEndpoint"],
        "https://sdk-Namespace-2924.servicebus.windows.net:443/"
    );
    assert_eq!(body["type"], "Microsoft.ServiceBus/Namespaces");
    let got = s.get(&ns_path).await.json();
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got["properties"]["status"], "Active");

    let qex = example(
        "servicebus/resource-manager/Microsoft.ServiceBus/stable/2024-01-01/examples/Queues/SBQueueCreate.json",
    );
    let q_path = format!(
        "{}/queues/sdk-Queues-5647?api-version=2024-01-01",
        ns_id("ArunMonocle", "sdk-Namespace-2924")
    );
    let r = s
        .put(&q_path, qex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 200);
    assert_shape(&r.json(), &qex["responses"]["200"]["body"], &[]);
    assert_eq!(r.json()["properties"]["enablePartitioning"], true);
    let gex = example(
        "servicebus/resource-manager/Microsoft.ServiceBus/stable/2024-01-01/examples/Queues/SBQueueGet.json",
    );
    let r = s.get(&q_path).await;
    assert_shape(&r.json(), &gex["responses"]["200"]["body"], &[]);
    assert_eq!(r.json()["type"], "Microsoft.ServiceBus/Namespaces/Queues");

    // requiresSession is create-only.
    let r = s
        .put(
            &q_path,
            json!({"properties": {"requiresSession": true, "enablePartitioning": true}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "BadRequest");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("RequiresSession")
    );

    // A queue under a missing namespace.
    let r = s
        .put(
            &format!(
                "{}/queues/q?api-version=2024-01-01",
                ns_id("ArunMonocle", "nope")
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ParentResourceNotFound");

    // Queue DELETE is synchronous 200; namespace DELETE is 202 + Location, polled to 200.
    assert_eq!(s.delete(&q_path).await.status, 200);
    let r = s.delete(&ns_path).await;
    assert_eq!(r.status, 202);
    assert!(r.header("azure-asyncoperation").is_none());
    let loc = s.local(r.header("location").unwrap());
    assert!(loc.contains("/namespaces/sdk-Namespace-2924/operationresults/"));
    let poll = s.get(&loc).await;
    assert_eq!(poll.status, 200);
    assert!(poll.body.is_empty());
    assert_eq!(s.get(&ns_path).await.code(), "ResourceNotFound");
}

#[tokio::test]
async fn arm_servicebus_namespace_activates_after_the_latency() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"operation_ms": 60000})).await;
    let ns_path = format!("{}?api-version=2024-01-01", ns_id("rg", "ns1"));
    assert_eq!(
        s.put(
            &ns_path,
            json!({"location": "eastus", "sku": {"name": "Standard"}})
        )
        .await
        .status,
        200
    );
    let got = s.get(&ns_path).await.json();
    assert_eq!(got["properties"]["provisioningState"], "Created");
    assert_eq!(got["properties"]["status"], "Activating");
    assert_eq!(got["sku"]["tier"], "Standard");
}

// ---------- managed identities ----------

#[tokio::test]
async fn arm_identity_and_federated_credentials() {
    let s = sim().await;
    s.rg("rgName").await;
    let ex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/IdentityCreate.json",
    );
    let path = uai_path("rgName", "identityName");
    let r = s.put(&path, ex["parameters"]["parameters"].clone()).await;
    assert_eq!(r.status, 201);
    assert!(r.header("azure-asyncoperation").is_none());
    let body = r.json();
    assert_shape(&body, &ex["responses"]["201"]["body"], &[]);
    for f in ["clientId", "principalId", "tenantId"] {
        assert_guid(&body["properties"][f], f);
    }
    let again = s.put(&path, ex["parameters"]["parameters"].clone()).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.json()["properties"]["clientId"],
        body["properties"]["clientId"],
        "ids are stable across updates"
    );
    let gex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/IdentityGet.json",
    );
    assert_shape(
        &s.get(&path).await.json(),
        &gex["responses"]["200"]["body"],
        &[],
    );

    let fex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/FederatedIdentityCredentialCreate.json",
    );
    let fic = |n: &str| {
        format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName/federatedIdentityCredentials/{n}?api-version=2024-11-30",
            rg_id("rgName")
        )
    };
    let r = s
        .put(
            &fic("ficResourceName"),
            fex["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_shape(&r.json(), &fex["responses"]["201"]["body"], &[]);
    assert_eq!(
        r.json()["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    );
    let gex = example(
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/examples/FederatedIdentityCredentialGet.json",
    );
    assert_shape(
        &s.get(&fic("ficResourceName")).await.json(),
        &gex["responses"]["200"]["body"],
        &[],
    );
    assert_eq!(
        s.put(
            &fic("ficResourceName"),
            fex["parameters"]["parameters"].clone()
        )
        .await
        .status,
        200
    );

    // Concurrent writes under one identity.
    s.settings(json!({"fic_write_ms": 60000})).await;
    assert_eq!(
        s.put(&fic("a"), fex["parameters"]["parameters"].clone())
            .await
            .status,
        201
    );
    let r = s
        .put(&fic("b"), fex["parameters"]["parameters"].clone())
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.code(),
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
    );
    s.settings(json!({"fic_write_ms": 0})).await;

    // A credential under a missing identity.
    let r = s
        .put(
            &fic("x").replace("identityName", "nobody"),
            fex["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ParentResourceNotFound");

    // DELETE: 200, then 204 once gone; children go with the identity.
    assert_eq!(s.delete(&fic("a")).await.status, 200);
    assert_eq!(s.delete(&path).await.status, 200);
    assert_eq!(s.delete(&path).await.status, 204);
    assert_eq!(s.get(&fic("ficResourceName")).await.status, 404);
}

#[tokio::test]
async fn arm_missing_resource_group_is_404() {
    let s = sim().await;
    let r = s
        .put(&uai_path("nope", "x"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'nope'")
    );
}

// ---------- role assignments and definitions ----------

#[tokio::test]
async fn arm_role_definitions_by_name() {
    let s = sim().await;
    for (name, guid) in [
        (
            "Azure Service Bus Data Owner",
            "090c5cfd-751d-490a-894a-3ce6f1109419",
        ),
        (
            "Azure Service Bus Data Sender",
            "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
        ),
        (
            "Azure Service Bus Data Receiver",
            "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
        ),
        ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ] {
        let filter = format!("roleName%20eq%20%27{}%27", name.replace(' ', "%20"));
        let r = s.get(&format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter={filter}")).await;
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v["value"].as_array().unwrap().len(), 1, "{name}");
        assert_eq!(v["value"][0]["name"], guid);
        assert_eq!(
            v["value"][0]["id"],
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            )
        );
        assert_eq!(v["value"][0]["properties"]["roleName"], name);
        assert_eq!(v["value"][0]["properties"]["type"], "BuiltInRole");
    }
}

#[tokio::test]
async fn arm_role_assignment_fidelity_and_errors() {
    let s = sim().await;
    let ex = example(
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_CreateForResource.json",
    );
    let sub = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
    let scope = format!("/{}", ex["parameters"]["scope"].as_str().unwrap());
    // The example's scope: a resource of a type the simulator stores generically.
    assert_eq!(
        s.put(
            &format!("/subscriptions/{sub}/resourceGroups/testrg?api-version=2025-04-01"),
            json!({"location": "eastus"})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        s.put(
            &format!("{scope}?api-version=2024-05-15"),
            json!({"location": "eastus", "properties": {}})
        )
        .await
        .status,
        201
    );
    let mut params = ex["parameters"]["parameters"].clone();
    // The example's role (0b5fe924…) is not a built-in; use Service Bus Data Owner.
    params["properties"]["roleDefinitionId"] = json!(format!(
        "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"
    ));
    let name = ex["parameters"]["roleAssignmentName"].as_str().unwrap();
    let r = s.put(&ra_path(&scope, name), params.clone()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_shape(&body, &ex["responses"]["201"]["body"], &[]);
    assert_eq!(
        body["id"],
        format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
    );
    assert_eq!(
        body["properties"]["roleDefinitionId"], params["properties"]["roleDefinitionId"],
        "roleDefinitionId as given"
    );
    assert_eq!(body["properties"]["scope"], scope);
    assert!(
        body["properties"]["createdOn"].is_string() && body["properties"]["updatedOn"].is_string()
    );
    let gex = example(
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_Get.json",
    );
    assert_shape(
        &s.get(&ra_path(&scope, name)).await.json(),
        &gex["responses"]["200"]["body"],
        &[],
    );

    // Same scope, role and principal under another name.
    let r = s
        .put(
            &ra_path(&scope, "6f2d2c3a-5b5e-4a7e-9d0b-2f1f4e4f7a11"),
            params.clone(),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "RoleAssignmentExists");

    // Not a GUID.
    assert_eq!(
        s.put(&ra_path(&scope, "not-a-guid"), params.clone())
            .await
            .code(),
        "InvalidRoleAssignmentId"
    );

    // DELETE answers 200 with the deleted assignment, then 204.
    let dex = example(
        "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_Delete.json",
    );
    let r = s.delete(&ra_path(&scope, name)).await;
    assert_eq!(r.status, 200);
    assert_shape(&r.json(), &dex["responses"]["200"]["body"], &[]);
    assert_eq!(s.delete(&ra_path(&scope, name)).await.status, 204);
}

#[tokio::test]
async fn arm_role_assignment_for_a_new_principal_needs_principal_type() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"principal_window_ms": 60000})).await;
    let uai = s
        .put(&uai_path("rg", "app"), json!({"location": "eastus"}))
        .await
        .json();
    let principal = uai["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let role = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
    );
    let scope = rg_id("rg");
    let r = s
        .put(
            &ra_path(&scope, "0e1c2d3b-4a59-4f68-8e7d-6c5b4a392817"),
            json!({"properties": {"roleDefinitionId": role, "principalId": principal}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "PrincipalNotFound");
    let r = s
        .put(&ra_path(&scope, "0e1c2d3b-4a59-4f68-8e7d-6c5b4a392817"), json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["properties"]["principalType"], "ServicePrincipal");
    // Unknown role definitions are refused.
    let r = s
        .put(&ra_path(&scope, "1e1c2d3b-4a59-4f68-8e7d-6c5b4a392817"), json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-00000000abcd", "principalId": principal, "principalType": "ServicePrincipal"}}))
        .await;
    assert_eq!(r.code(), "RoleDefinitionDoesNotExist");
}

// ---------- generic types, lists and paging ----------

#[tokio::test]
async fn arm_generic_types_and_paged_lists() {
    let s = sim().await;
    s.settings(json!({"page_size": 2})).await;
    for i in 0..5 {
        s.rg(&format!("rg{i}")).await;
    }
    // Resource groups of the subscription, following nextLink.
    let mut names = Vec::new();
    let mut next = Some(format!(
        "/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01"
    ));
    let mut pages = 0;
    while let Some(p) = next {
        let v = s.get(&p).await.json();
        pages += 1;
        names.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_string()),
        );
        next = v["nextLink"].as_str().map(|l| s.local(l));
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["rg0", "rg1", "rg2", "rg3", "rg4"]);

    // Any other type: PUT stores the body.
    let st = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/st1?api-version=2024-01-01",
        rg_id("rg0")
    );
    let r = s.put(&st, json!({"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {"minimumTlsVersion": "TLS1_2"}})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        s.put(&st, json!({"location": "eastus", "kind": "StorageV2"}))
            .await
            .status,
        200
    );
    assert_eq!(s.get(&st).await.json()["kind"], "StorageV2");

    // Resources of a group (top level only) and children of a parent.
    s.put(&uai_path("rg0", "u1"), json!({"location": "eastus"}))
        .await;
    s.put(
        &format!("{}?api-version=2024-01-01", ns_id("rg0", "ns")),
        json!({"location": "eastus"}),
    )
    .await;
    for q in ["q1", "q2", "q3"] {
        assert_eq!(
            s.put(
                &format!("{}/queues/{q}?api-version=2024-01-01", ns_id("rg0", "ns")),
                json!({})
            )
            .await
            .status,
            200
        );
    }
    let mut all = Vec::new();
    let mut next = Some(format!("{}/resources?api-version=2021-04-01", rg_id("rg0")));
    while let Some(p) = next {
        let v = s.get(&p).await.json();
        all.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["type"].as_str().unwrap().to_string()),
        );
        next = v["nextLink"].as_str().map(|l| s.local(l));
    }
    all.sort();
    assert_eq!(
        all,
        [
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            "Microsoft.ServiceBus/Namespaces",
            "Microsoft.Storage/storageAccounts"
        ]
    );
    let v = s
        .get(&format!(
            "{}/queues?api-version=2024-01-01",
            ns_id("rg0", "ns")
        ))
        .await
        .json();
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    assert!(v["nextLink"].as_str().unwrap().contains("skiptoken=2"));
    let v = s
        .get(&s.local(v["nextLink"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(v["value"][0]["name"], "q3");
    assert!(v.get("nextLink").is_none());
    assert_eq!(
        s.get(&format!(
            "{}/queues?api-version=2024-01-01",
            ns_id("rg0", "missing")
        ))
        .await
        .status,
        404
    );
}

// ---------- throttling and faults ----------

#[tokio::test]
async fn arm_throttling_token_buckets() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"read_bucket": [3.0, 0.001]})).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = s.get(&rg_path("rg")).await;
        assert_eq!(r.status, 200);
        remaining.push(
            r.header("x-ms-ratelimit-remaining-subscription-reads")
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
    }
    assert_eq!(remaining, [2, 1, 0]);
    let r = s.get(&rg_path("rg")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), "SubscriptionRequestsThrottled");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Writes have their own bucket.
    let r = s.put(&rg_path("rg"), json!({"location": "eastus"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-writes"),
        Some("198")
    );
    let r = s.delete(&rg_path("rg")).await;
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-deletes"),
        Some("199")
    );
}

/// An exhausted bucket is full again after `POST /_sim/throttle/refill`, at once: a test
/// never waits for the refill rate (here one token in 1000 s).
#[tokio::test]
async fn arm_throttle_refill_fills_exhausted_buckets_at_once() {
    let s = sim().await;
    s.rg("rg").await;
    s.settings(json!({"read_bucket": [2.0, 0.001]})).await;
    for _ in 0..2 {
        assert_eq!(s.get(&rg_path("rg")).await.status, 200);
    }
    assert_eq!(s.get(&rg_path("rg")).await.status, 429);
    let r = s.admin("POST", "/_sim/throttle/refill", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"refilled": true}));
    let r = s.get(&rg_path("rg")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("1"),
        "the bucket is at its capacity again"
    );
    assert_eq!(s.get(&rg_path("rg")).await.status, 200);
    assert_eq!(s.get(&rg_path("rg")).await.status, 429);
}

async fn fault_sequence(seed: u64) -> Vec<String> {
    let s = sim_with(SimConfig {
        faults: 0.5,
        seed,
        ..config()
    })
    .await;
    let mut out = Vec::new();
    for _ in 0..40 {
        let r = s.try_call("GET", &rg_path("none"), None).await;
        out.push(match r {
            Ok(r) => format!("{}:{}", r.status, r.header("retry-after").is_some()),
            Err(_) => "dropped".into(),
        });
    }
    out
}

#[tokio::test]
async fn arm_faults_are_deterministic_with_the_seed() {
    let a = fault_sequence(7).await;
    let b = fault_sequence(7).await;
    assert_eq!(a, b);
    for kind in [
        "429:true",
        "429:false",
        "500:false",
        "503:false",
        "dropped",
        "404:false",
    ] {
        assert!(a.contains(&kind.to_string()), "{kind} not seen in {a:?}");
    }
    assert_ne!(a, fault_sequence(8).await);
}

// ---------- admin API and persistence ----------

#[tokio::test]
async fn admin_inventory_drift_delete_and_request_log() {
    let s = sim().await;
    assert_eq!(s.admin("GET", "/_sim/health", None).await.status, 200);
    s.rg("rg").await;
    s.put(
        &uai_path("rg", "u"),
        json!({"location": "eastus", "tags": {"env": "dev"}}),
    )
    .await;
    let id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u";
    let r = s
        .admin(
            "PATCH",
            &format!("/_sim/resources{id}"),
            Some(json!({"tags": {"env": "prod"}})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.get(&uai_path("rg", "u")).await.json()["tags"]["env"],
        "prod"
    );
    let inv = s.admin("GET", "/_sim/resources", None).await.json();
    assert_eq!(inv["resources"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.admin("DELETE", &format!("/_sim/resources{id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(s.get(&uai_path("rg", "u")).await.status, 404);
    let log = s.admin("GET", "/_sim/requests", None).await.json();
    let entries = log.as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["method"] == "PUT" && e["status"] == 201 && e["at"].is_string())
    );
}

#[tokio::test]
async fn arm_world_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("world.json");
    let s = sim_with(SimConfig {
        world_file: Some(file.clone()),
        ..config()
    })
    .await;
    s.rg("rg").await;
    let client = s
        .put(&uai_path("rg", "u"), json!({"location": "eastus"}))
        .await
        .json()["properties"]["clientId"]
        .clone();
    assert!(file.is_file(), "saved after each write");
    s.h.shutdown().await.unwrap();
    let s = sim_with(SimConfig {
        world_file: Some(file),
        ..config()
    })
    .await;
    let r = s.get(&uai_path("rg", "u")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["properties"]["clientId"], client);
}
