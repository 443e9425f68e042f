//! The whole path a user takes (issue 3's done criterion): create an AKS cluster with the KEDA
//! add-on through ARM, fetch its kubeconfig with `listClusterUserCredential`, and drive a real
//! `kubectl` with it: server-side apply, `get -o yaml`, delete — a ServiceAccount and a KEDA
//! ScaledJob.

mod k8s_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use base64::Engine as _;
use k8s_support::{Kube, Sim, require_kubectl};
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUB: &str = "00000000-0000-0000-0000-0000000000aa";

/// One blocking HTTP/1.1 request (the simulator serves on its own runtime).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send");
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).expect("receive");
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (head, mut body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .expect("response");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
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
        body = out;
    }
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

#[test]
fn kubectl_through_the_kubeconfig_of_an_aks_cluster_created_over_arm() {
    require_kubectl();
    let sim = Sim::start();
    let addr = sim.handle.addr;

    let (status, tok) = http(
        addr,
        "POST",
        &format!("/{TENANT}/oauth2/v2.0/token"),
        &[("content-type", "application/x-www-form-urlencoded")],
        "grant_type=client_credentials&client_id=app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
    );
    assert_eq!(status, 200, "{tok}");
    let bearer = format!("Bearer {}", tok["access_token"].as_str().expect("token"));
    let arm = |method: &str, path: &str, body: Value| {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        http(
            addr,
            method,
            path,
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            &text,
        )
    };

    let rg = format!("/subscriptions/{SUB}/resourceGroups/keda-rg");
    let (status, body) = arm(
        "PUT",
        &format!("{rg}?api-version=2025-04-01"),
        json!({"location": "eastus"}),
    );
    assert_eq!(status, 201, "{body}");
    let aks = format!("{rg}/providers/Microsoft.ContainerService/managedClusters/keda-aks");
    let (status, body) = arm(
        "PUT",
        &format!("{aks}?api-version=2025-10-01"),
        json!({
            "location": "eastus",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "dnsPrefix": "keda",
                "oidcIssuerProfile": {"enabled": true},
                "securityProfile": {"workloadIdentity": {"enabled": true}},
                "workloadAutoScalerProfile": {"keda": {"enabled": true}},
                "agentPoolProfiles": [{"name": "system", "count": 1, "vmSize": "Standard_D2s_v5", "mode": "System"}]
            }
        }),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = arm("GET", &format!("{aks}?api-version=2025-10-01"), Value::Null);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert!(
        body["properties"]["oidcIssuerProfile"]["issuerURL"]
            .as_str()
            .is_some_and(|u| u.starts_with("http")),
        "{body}"
    );

    let (status, creds) = arm(
        "POST",
        &format!("{aks}/listClusterUserCredential?api-version=2025-10-01"),
        Value::Null,
    );
    assert_eq!(status, 200, "{creds}");
    let encoded = creds["kubeconfigs"][0]["value"]
        .as_str()
        .expect("kubeconfig value");
    let kubeconfig = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64 kubeconfig");
    let kubeconfig_text = String::from_utf8(kubeconfig).expect("utf-8 kubeconfig");
    assert!(
        kubeconfig_text.contains(&format!("{}/k8s/", sim.handle.url)),
        "{kubeconfig_text}"
    );
    let path = sim.write("aks.kubeconfig", &kubeconfig_text);
    let kube = Kube {
        key: "keda-aks".into(),
        token: String::new(),
        kubeconfig: path,
        cache: sim.dir.path().join("cache"),
        addr,
    };

    // A ServiceAccount, as the flagship's workload identity needs.
    let sa = sim.write(
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: workload-sa\n  namespace: default\n  annotations:\n    azure.workload.identity/client-id: 00000000-0000-0000-0000-000000000123\n",
    );
    kube.ok(&["apply", "--server-side", "-f", sa.to_str().unwrap()]);
    let yaml = kube.ok(&[
        "get",
        "serviceaccount",
        "workload-sa",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    assert!(yaml.contains("manager: kubectl"), "{yaml}");
    assert!(yaml.contains("operation: Apply"), "{yaml}");
    assert!(
        yaml.contains("azure.workload.identity/client-id: 00000000-0000-0000-0000-000000000123"),
        "{yaml}"
    );

    // A ScaledJob: the keda.sh group exists because the add-on is on.
    let sj = sim.write(
        "scaledjob.yaml",
        r#"apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: consumer
  namespace: default
spec:
  jobTargetRef:
    template:
      spec:
        containers:
          - name: consumer
            image: ghcr.io/azure-samples/aks-app-samples/servicebusdemo:latest
        restartPolicy: Never
  maxReplicaCount: 10
  triggers:
    - type: azure-servicebus
      metadata:
        queueName: orders
        namespace: demo-sb
        messageCount: "10"
      authenticationRef:
        name: servicebus-auth
"#,
    );
    kube.ok(&["apply", "--server-side", "-f", sj.to_str().unwrap()]);
    let yaml = kube.ok(&[
        "get",
        "scaledjob",
        "consumer",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]);
    assert!(yaml.contains("kind: ScaledJob"), "{yaml}");
    assert!(yaml.contains("manager: kubectl"), "{yaml}");
    assert!(yaml.contains("messageCount: \"10\""), "{yaml}");

    kube.ok(&["delete", "scaledjob", "consumer"]);
    kube.ok(&["delete", "serviceaccount", "workload-sa"]);
    let gone = kube.kubectl(&["get", "scaledjob", "consumer"]);
    assert!(
        !gone.ok && gone.stderr.contains("NotFound"),
        "{}",
        gone.stderr
    );
    let gone = kube.kubectl(&["get", "serviceaccount", "workload-sa"]);
    assert!(
        !gone.ok && gone.stderr.contains("NotFound"),
        "{}",
        gone.stderr
    );
}
