//! The guide's keda-operator steps with a real kubectl, in order, against an AKS cluster made
//! over ARM (KEDA add-on and workload identity on): annotate the add-on's ServiceAccount,
//! `rollout restart`, watch the pods roll (`get pod -lapp=keda-operator -w`), find a pod with
//! `-ojsonpath`, `describe po` shows the injected Environment, `rollout status`.

mod k8s_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use k8s_support::{AKS_API, SUB, Sim, aks_body, require_kubectl};
use serde_json::{Value, json};

const CLIENT_ID: &str = "6f6cb0b4-8d1c-4b51-a2f6-0123456789ab";

fn names(kube: &k8s_support::Kube) -> Vec<String> {
    kube.ok(&[
        "get",
        "po",
        "-n",
        "kube-system",
        "-l",
        "app=keda-operator",
        "-ojsonpath={.items[*].metadata.name}",
    ])
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

#[test]
fn the_guides_keda_operator_restart_injects_the_workload_identity() {
    require_kubectl();
    let sim = Sim::start();
    let arm = sim.arm();
    let rg = format!("/subscriptions/{SUB}/resourceGroups/keda-rg");
    let (status, body) = arm.call(
        "PUT",
        &format!("{rg}?api-version=2025-04-01"),
        json!({"location": "eastus"}),
    );
    assert_eq!(status, 201, "{body}");
    let aks = format!("{rg}/providers/Microsoft.ContainerService/managedClusters/keda-aks");
    let (status, body) = arm.call(
        "PUT",
        &format!("{aks}?api-version={AKS_API}"),
        aks_body("keda"),
    );
    assert_eq!(status, 201, "{body}");
    let (_, body) = arm.call("GET", &format!("{aks}?api-version={AKS_API}"), Value::Null);
    let tenant = body["identity"]["tenantId"].as_str().unwrap().to_string();
    let kube = sim.kube_from_kubeconfig("aks.kubeconfig", &arm.kubeconfig(&aks));

    // The add-on runs its deployments as ReplicaSets and Running pods.
    let deploys = kube.ok(&["get", "deploy", "-n", "kube-system"]);
    for line in [
        "keda-operator ",
        "keda-operator-metrics-apiserver",
        "azure-wi-webhook-controller-manager",
    ] {
        let row = deploys
            .lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("{deploys}"));
        assert!(row.contains("2/2"), "{deploys}");
    }
    let before = names(&kube);
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(
        before.iter().all(|n| n.starts_with("keda-operator-")),
        "{before:?}"
    );

    // The updated guide's step: the add-on's ServiceAccount names the identity.
    let out = kube.ok(&[
        "annotate",
        "serviceaccount",
        "keda-operator",
        "-n",
        "kube-system",
        &format!("azure.workload.identity/client-id={CLIENT_ID}"),
    ]);
    assert!(
        out.contains("serviceaccount/keda-operator annotated"),
        "{out}"
    );

    // Watch while restarting; read until both new pods are Running, then stop the watch.
    // (--request-timeout bounds the watch should the pods never come.)
    let mut watch = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kube.kubeconfig)
        .arg("--cache-dir")
        .arg(&kube.cache)
        .args([
            "get",
            "pod",
            "-n",
            "kube-system",
            "-lapp=keda-operator",
            "-w",
            "--request-timeout=120s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl starts");
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // The watch is open once it printed the current pods.
    let mut seen = Vec::new();
    while seen.len() < before.len() + 1 {
        let line = lines
            .next()
            .expect("the watch lists the pods first")
            .unwrap();
        seen.push(line);
    }
    let out = kube.ok(&[
        "rollout",
        "restart",
        "deploy",
        "keda-operator",
        "-n",
        "kube-system",
    ]);
    assert!(
        out.contains("deployment.apps/keda-operator restarted"),
        "{out}"
    );
    let mut running_new = std::collections::BTreeSet::new();
    while running_new.len() < 2 {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the watch ended before the new pods ran: {seen:?}"))
            .unwrap();
        let name = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        if !before.contains(&name) && line.contains("1/1") && line.contains("Running") {
            running_new.insert(name);
        }
        seen.push(line);
    }
    watch.kill().expect("the watch stops");
    let _ = watch.wait();

    let after = names(&kube);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.iter().all(|n| !before.contains(n)),
        "{before:?} {after:?}"
    );
    let pod = kube.ok(&[
        "get",
        "po",
        "-n",
        "kube-system",
        "-l",
        "app.kubernetes.io/name=keda-operator",
        "-ojsonpath={.items[0].metadata.name}",
    ]);
    assert!(after.contains(&pod), "{pod} {after:?}");
    let described = kube.ok(&["describe", "po", &pod, "-n", "kube-system"]);
    let env_line = |name: &str| -> String {
        described
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in\n{described}"))
            .trim()
            .to_string()
    };
    assert!(
        env_line("AZURE_CLIENT_ID").ends_with(CLIENT_ID),
        "{described}"
    );
    assert!(
        env_line("AZURE_TENANT_ID").ends_with(&tenant),
        "{described}"
    );
    assert!(
        env_line("AZURE_FEDERATED_TOKEN_FILE")
            .ends_with("/var/run/secrets/azure/tokens/azure-identity-token"),
        "{described}"
    );
    assert!(
        env_line("AZURE_AUTHORITY_HOST").ends_with(&format!("{}/", sim.handle.url)),
        "{described}"
    );
    assert!(described.contains("azure-identity-token"), "{described}");
    assert!(
        described.contains("Status:") && described.contains("Running"),
        "{described}"
    );

    let wide = kube.ok(&["get", "po", &pod, "-n", "kube-system", "-o", "wide"]);
    assert!(
        wide.contains("IP")
            && wide.contains("NODE")
            && wide.contains("aks-system-00000000-vmss000000")
            && wide.contains("10.244.0."),
        "{wide}"
    );

    let out = kube.ok(&[
        "rollout",
        "status",
        "deploy/keda-operator",
        "-n",
        "kube-system",
    ]);
    assert!(out.contains("successfully rolled out"), "{out}");
    // The old ReplicaSet is kept, scaled to 0; the new one runs both pods.
    let sets = kube.ok(&["get", "rs", "-n", "kube-system", "-l", "app=keda-operator"]);
    let rows: Vec<&str> = sets.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{sets}");
    assert!(
        rows.iter()
            .any(|r| r.split_whitespace().nth(1) == Some("0")),
        "{sets}"
    );
    assert!(
        rows.iter()
            .any(|r| r.split_whitespace().skip(1).take(3).eq(["2", "2", "2"])),
        "{sets}"
    );
}

#[test]
fn an_open_watch_ends_when_the_simulator_stops() {
    use std::io::{Read, Write};
    let sim = Sim::start();
    let kube = sim.cluster("c1", true);
    let mut s = std::net::TcpStream::connect(sim.handle.addr).unwrap();
    write!(
        s,
        "GET /k8s/c1/api/v1/namespaces/kube-system/pods?watch=true HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        sim.handle.addr
    )
    .unwrap();
    // The watch is open once the current pods arrived as ADDED.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"ADDED\"") {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the watch closed early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    drop(kube);
    // Stopping waits for open connections: it returns only because the watch ended.
    let sim = sim.restart();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(
        String::from_utf8_lossy(&rest).ends_with("0\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    drop(sim);
}
