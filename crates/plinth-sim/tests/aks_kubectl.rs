//! The whole path a user takes (issue 3's done criterion): create an AKS cluster with the KEDA
//! add-on through ARM, fetch its kubeconfig with `listClusterUserCredential`, and drive a real
//! `kubectl` with it: server-side apply, `get -o yaml`, delete — a ServiceAccount and a KEDA
//! ScaledJob.

mod k8s_support;

use k8s_support::{AKS_API, SUB, Sim, aks_body, require_kubectl};
use serde_json::{Value, json};

#[test]
fn kubectl_through_the_kubeconfig_of_an_aks_cluster_created_over_arm() {
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
    let (status, body) = arm.call("GET", &format!("{aks}?api-version={AKS_API}"), Value::Null);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert!(
        body["properties"]["oidcIssuerProfile"]["issuerURL"]
            .as_str()
            .is_some_and(|u| u.starts_with("http")),
        "{body}"
    );

    let kubeconfig_text = arm.kubeconfig(&aks);
    assert!(
        kubeconfig_text.contains(&format!("{}/k8s/", sim.handle.url)),
        "{kubeconfig_text}"
    );
    let kube = sim.kube_from_kubeconfig("aks.kubeconfig", &kubeconfig_text);

    // A ServiceAccount, as the flagship's workload identity needs.
    let sa = sim.write(
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: workload-sa\n  namespace: default\n  annotations:\n    azure.workload.identity/client-id: 00000000-0000-0000-0000-000000000123\n",
    );
    kube.ok(&["apply", "--server-side", "-f", sa.to_str().unwrap()]);
    let yaml = kube.get_yaml(&["serviceaccount", "workload-sa"]);
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
        namespace: demo-sbns
        messageCount: "10"
      authenticationRef:
        name: servicebus-auth
"#,
    );
    kube.ok(&["apply", "--server-side", "-f", sj.to_str().unwrap()]);
    let yaml = kube.get_yaml(&["scaledjob", "consumer"]);
    assert!(yaml.contains("kind: ScaledJob"), "{yaml}");
    assert!(yaml.contains("manager: kubectl"), "{yaml}");
    assert!(yaml.contains("messageCount: \"10\""), "{yaml}");

    kube.ok(&["delete", "scaledjob", "consumer"]);
    kube.ok(&["delete", "serviceaccount", "workload-sa"]);
    kube.fails(&["get", "scaledjob", "consumer"], "NotFound");
    kube.fails(&["get", "serviceaccount", "workload-sa"], "NotFound");
}
